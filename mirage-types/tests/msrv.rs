//! The workspace's declared `rust-version` must be at least every dependency's.
//!
//! No other toolchain can be installed on the machines this project is built on, so the claim
//! is checked from what the dependencies declare: a crate that needs a newer compiler than we
//! say fails here, before a user on the older compiler finds out. Clippy's `incompatible_msrv`
//! lint (on in CI) checks our own code's use of the standard library against the same number.

use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::process::Command;

fn version(text: &str) -> Vec<u64> {
    text.split('.')
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

#[test]
fn declared_rust_version_covers_every_dependency() {
    // Not `--offline`: the metadata covers every platform's dependencies, and a build here
    // downloads only this platform's, so a fresh machine lacks some (android_system_properties).
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");

    let packages: HashMap<&str, &Value> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p))
        .collect();
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    let ours = packages[members[0]]["rust_version"]
        .as_str()
        .expect("the workspace declares a rust-version");
    for id in &members {
        assert_eq!(
            packages[id]["rust_version"].as_str(),
            Some(ours),
            "{} declares another rust-version",
            packages[id]["name"]
        );
    }

    // Everything a user's build compiles: normal and build dependencies of published
    // members, followed transitively (dev-dependencies only build our own tests).
    let nodes: HashMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = members
        .iter()
        .copied()
        .filter(|id| packages[id]["publish"] != serde_json::json!([]))
        .collect();
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in nodes[id]["deps"].as_array().unwrap() {
            let used = dep["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|kind| kind["kind"].as_str() != Some("dev"));
            if used {
                todo.push(dep["pkg"].as_str().unwrap());
            }
        }
    }
    assert!(
        seen.len() > 10,
        "the dependency walk found too little: {seen:?}"
    );

    let mut too_new = Vec::new();
    for id in seen {
        let package = packages[id];
        if let Some(needed) = package["rust_version"].as_str()
            && version(needed) > version(ours)
        {
            too_new.push(format!(
                "{} {} needs {needed}",
                package["name"], package["version"]
            ));
        }
    }
    assert!(
        too_new.is_empty(),
        "rust-version {ours} is too old for: {too_new:?}"
    );
}
