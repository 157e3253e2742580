//! A seeded random sequence of operations compared with an in-memory model.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::{Failure, Seeded, ok, same};
use mirage_types::{Entry, KvError, KvRw};
use std::collections::BTreeMap;

const ROOT: &str = "conformance-model";
/// The names keys are made of: few, so that operations meet each other's keys.
const NAMES: [&str; 3] = ["a", "b", "c"];

/// Paths (relative to [`ROOT`]) to a value's bytes, or `None` for a dictionary.
type Model = BTreeMap<String, Option<Vec<u8>>>;

/// One operation of the sequence.
#[derive(Debug)]
enum Op {
    Set(String, Vec<u8>),
    SetPartial(String, u64, Vec<u8>),
    Remove(String),
    Rename(String, String),
    Allocate(String, u64),
}

fn random_key(rng: &mut Seeded) -> String {
    let depth = 1 + rng.below(2) as usize;
    (0..depth)
        .map(|_| NAMES[rng.below(NAMES.len() as u64) as usize])
        .collect::<Vec<_>>()
        .join("/")
}

fn random_bytes(rng: &mut Seeded, max: u64) -> Vec<u8> {
    let len = rng.below(max + 1) as usize;
    let fill = rng.next() as u8;
    (0..len).map(|i| fill.wrapping_add(i as u8)).collect()
}

fn random_op(rng: &mut Seeded) -> Op {
    match rng.below(10) {
        0..=3 => Op::Set(random_key(rng), random_bytes(rng, 3000)),
        4 => {
            let offset = rng.below(2000);
            Op::SetPartial(random_key(rng), offset, random_bytes(rng, 500))
        }
        5 | 6 => Op::Remove(random_key(rng)),
        7 | 8 => Op::Rename(random_key(rng), random_key(rng)),
        _ => Op::Allocate(random_key(rng), rng.below(2000)),
    }
}

fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(at, _)| &path[..at])
}

/// Whether every ancestor of `path` is a dictionary or missing.
fn parents_ok(model: &Model, path: &str) -> bool {
    ancestors(path).all(|dir| matches!(model.get(dir), None | Some(None)))
}

fn make_parents(model: &mut Model, path: &str) {
    for dir in ancestors(path) {
        model.insert(dir.to_owned(), None);
    }
}

fn remove_tree(model: &mut Model, path: &str) -> BTreeMap<String, Option<Vec<u8>>> {
    let prefix = format!("{path}/");
    let taken: Vec<String> = model
        .keys()
        .filter(|k| *k == path || k.starts_with(&prefix))
        .cloned()
        .collect();
    taken
        .into_iter()
        .map(|k| {
            let v = model.remove(&k).expect("listed");
            (k, v)
        })
        .collect()
}

/// Applies `op` to the model: whether it succeeds.
fn apply(model: &mut Model, op: &Op) -> bool {
    match op {
        Op::Set(path, value) => {
            if !parents_ok(model, path) || matches!(model.get(path), Some(None)) {
                return false;
            }
            make_parents(model, path);
            model.insert(path.clone(), Some(value.clone()));
            true
        }
        Op::SetPartial(path, offset, data) => {
            if !parents_ok(model, path) || matches!(model.get(path), Some(None)) {
                return false;
            }
            make_parents(model, path);
            let value = model
                .entry(path.clone())
                .or_insert_with(|| Some(Vec::new()))
                .as_mut()
                .expect("a value");
            let end = *offset as usize + data.len();
            if value.len() < end {
                value.resize(end, 0);
            }
            value[*offset as usize..end].copy_from_slice(data);
            true
        }
        Op::Remove(path) => {
            if !model.contains_key(path) {
                return false;
            }
            remove_tree(model, path);
            true
        }
        Op::Allocate(path, size) => {
            if model.contains_key(path) || !parents_ok(model, path) {
                return false;
            }
            make_parents(model, path);
            model.insert(path.clone(), Some(vec![0; *size as usize]));
            true
        }
        Op::Rename(source, dest) => {
            let target = match model.get(dest) {
                Some(None) => format!("{dest}/{}", source.rsplit('/').next().expect("a name")),
                _ => dest.clone(),
            };
            if &target == source {
                return model.contains_key(source);
            }
            if target.starts_with(&format!("{source}/")) || !model.contains_key(source) {
                return false;
            }
            if !parents_ok(model, &target) {
                return false;
            }
            let moving_value = matches!(model.get(source), Some(Some(_)));
            match model.get(&target) {
                None => {}
                Some(Some(_)) if moving_value => {}
                Some(_) => return false,
            }
            make_parents(model, &target);
            let moved = remove_tree(model, source);
            remove_tree(model, &target);
            for (path, value) in moved {
                model.insert(format!("{target}{}", &path[source.len()..]), value);
            }
            true
        }
    }
}

async fn run_op<K: KvRw>(store: &K, op: &Op) -> Result<(), KvError> {
    let full = |path: &str| format!("{ROOT}/{path}");
    match op {
        Op::Set(path, value) => store.set(&full(path), value).await,
        Op::SetPartial(path, offset, data) => store.set_partial(&full(path), *offset, data).await,
        Op::Remove(path) => store.remove(&full(path)).await,
        Op::Rename(source, dest) => store.rename(&full(source), &full(dest)).await,
        Op::Allocate(path, size) => store.allocate(&full(path), *size, None).await,
    }
}

/// Everything beneath [`ROOT`] in the store, as the model holds it.
async fn snapshot<K: KvRw>(store: &K) -> Result<Model, Failure> {
    let mut seen = Model::new();
    let mut pending = vec![String::new()];
    while let Some(dir) = pending.pop() {
        let listed = ok("list", store.list(&format!("{ROOT}/{dir}")).await)?;
        for (name, entry) in listed {
            let path = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            match entry {
                Entry::Dictionary => {
                    seen.insert(path.clone(), None);
                    pending.push(path);
                }
                Entry::Value => {
                    let value = ok("get", store.get(&format!("{ROOT}/{path}")).await)?;
                    seen.insert(path, Some(value.to_vec()));
                }
            }
        }
    }
    Ok(seen)
}

/// `steps` random operations (seeded by `seed`) on keys beneath a prefix of their own, each
/// checked against the model: the same success or failure, and afterwards the same tree.
pub async fn model_checks<K: KvRw>(store: &K, seed: u64, steps: usize) -> Result<(), Failure> {
    if ok("clean start", store.exists(ROOT).await)?.is_some() {
        ok("clean start", store.remove(ROOT).await)?;
    }
    ok(
        "make the prefix",
        store.set(&format!("{ROOT}/.keep"), b"").await,
    )?;
    ok(
        "make the prefix",
        store.remove(&format!("{ROOT}/.keep")).await,
    )?;
    let mut model = Model::new();
    let mut rng = Seeded::new(seed);
    for step in 0..steps {
        let op = random_op(&mut rng);
        let expected = apply(&mut model, &op);
        let result = run_op(store, &op).await;
        if result.is_ok() != expected {
            return Err(Failure {
                check: format!("model step {step} (seed {seed})"),
                detail: format!("{op:?} gave {result:?}, the model says success = {expected}"),
            });
        }
        let seen = snapshot(store).await?;
        same(
            &format!("model step {step} (seed {seed}) after {op:?}"),
            &seen,
            &model,
        )?;
    }
    ok("clean up", store.remove(ROOT).await)?;
    Ok(())
}
