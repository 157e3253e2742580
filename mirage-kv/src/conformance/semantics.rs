//! Each operation's documented behaviour and errors.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::{Failure, ok, same};
use mirage_types::{Entry, ErrorKind, KvError, KvRw};
use std::time::Duration;

const ROOT: &str = "conformance-semantics";

fn key(name: &str) -> String {
    format!("{ROOT}/{name}")
}

/// A failure of `check` unless `result` failed with `kind`.
fn fails<T: std::fmt::Debug>(
    check: &str,
    result: Result<T, KvError>,
    kind: ErrorKind,
) -> Result<(), Failure> {
    match result {
        Err(error) if error.kind() == kind => Ok(()),
        other => Err(Failure {
            check: check.to_owned(),
            detail: format!("got {other:?}, expected an error of kind {kind}"),
        }),
    }
}

/// Mirage 4's `RW` contract, operation by operation.
pub async fn semantics_checks<K: KvRw>(store: &K) -> Result<(), Failure> {
    if ok("clean start", store.exists(ROOT).await)?.is_some() {
        ok("clean start", store.remove(ROOT).await)?;
    }

    // set, get, get_partial, size, overwrite.
    ok("set", store.set(&key("a"), b"hello world").await)?;
    same(
        "get",
        ok("get", store.get(&key("a")).await)?.as_ref(),
        &b"hello world"[..],
    )?;
    same(
        "get_partial",
        ok("get_partial", store.get_partial(&key("a"), 6, 100).await)?.as_ref(),
        &b"world"[..],
    )?;
    same(
        "get_partial past the end",
        ok("get_partial", store.get_partial(&key("a"), 50, 3).await)?.len(),
        0,
    )?;
    same("size", ok("size", store.size(&key("a")).await)?, 11)?;
    ok("overwrite", store.set(&key("a"), b"bye").await)?;
    same(
        "overwrite shrinks",
        ok("get", store.get(&key("a")).await)?.as_ref(),
        &b"bye"[..],
    )?;
    ok("set empty", store.set(&key("empty"), b"").await)?;
    same(
        "empty value",
        ok("get", store.get(&key("empty")).await)?.len(),
        0,
    )?;

    // Parents are made; kinds are reported; listings are sorted.
    ok("set deep", store.set(&key("d/e/f"), b"deep").await)?;
    same(
        "exists value",
        ok("exists", store.exists(&key("a")).await)?,
        Some(Entry::Value),
    )?;
    same(
        "exists dictionary",
        ok("exists", store.exists(&key("d/e")).await)?,
        Some(Entry::Dictionary),
    )?;
    same(
        "exists missing",
        ok("exists", store.exists(&key("nope")).await)?,
        None,
    )?;
    same(
        "list",
        ok("list", store.list(ROOT).await)?,
        vec![
            ("a".to_string(), Entry::Value),
            ("d".to_string(), Entry::Dictionary),
            ("empty".to_string(), Entry::Value),
        ],
    )?;

    // Errors with Mirage 4's cases.
    fails(
        "get missing",
        store.get(&key("nope")).await,
        ErrorKind::NotFound,
    )?;
    fails(
        "get dictionary",
        store.get(&key("d")).await,
        ErrorKind::WrongEntryKind,
    )?;
    fails(
        "list value",
        store.list(&key("a")).await,
        ErrorKind::WrongEntryKind,
    )?;
    fails(
        "set over dictionary",
        store.set(&key("d"), b"x").await,
        ErrorKind::WrongEntryKind,
    )?;
    fails(
        "set beneath value",
        store.set(&key("a/x"), b"x").await,
        ErrorKind::WrongEntryKind,
    )?;
    for hostile in ["../escape", "a/../../b", "a//b", "./a"] {
        fails(
            "write of a hostile key",
            store.set(&format!("{ROOT}/{hostile}"), b"x").await,
            ErrorKind::InvalidInput,
        )?;
        same(
            "read of a hostile key",
            ok("exists", store.exists(&format!("{ROOT}/{hostile}")).await)?,
            None,
        )?;
    }

    // set_partial: creates, fills gaps with zeros, extends, overwrites in place.
    ok(
        "set_partial new",
        store.set_partial(&key("p"), 3, b"xy").await,
    )?;
    same(
        "set_partial gap",
        ok("get", store.get(&key("p")).await)?.as_ref(),
        &b"\0\0\0xy"[..],
    )?;
    ok(
        "set_partial inside",
        store.set_partial(&key("p"), 1, b"A").await,
    )?;
    ok(
        "set_partial extend",
        store.set_partial(&key("p"), 4, b"ZZZ").await,
    )?;
    same(
        "set_partial result",
        ok("get", store.get(&key("p")).await)?.as_ref(),
        &b"\0A\0xZZZ"[..],
    )?;
    fails(
        "set_partial dictionary",
        store.set_partial(&key("d"), 0, b"x").await,
        ErrorKind::WrongEntryKind,
    )?;

    // allocate: zeros, and never over an existing key.
    ok("allocate", store.allocate(&key("z"), 5000, None).await)?;
    let zeros = ok("get", store.get(&key("z")).await)?;
    same("allocate size", zeros.len(), 5000)?;
    same("allocate zeros", zeros.iter().all(|b| *b == 0), true)?;
    fails(
        "allocate existing",
        store.allocate(&key("z"), 1, None).await,
        ErrorKind::AlreadyExists,
    )?;
    fails(
        "allocate dictionary",
        store.allocate(&key("d"), 1, None).await,
        ErrorKind::AlreadyExists,
    )?;
    let time = Duration::from_secs(1_700_000_000);
    ok(
        "allocate with a time",
        store.allocate(&key("t"), 1, Some(time)).await,
    )?;
    if let Some(kept) = ok("last_modified", store.last_modified(&key("t")).await)? {
        let off = kept.abs_diff(time);
        if off > Duration::from_secs(2) {
            return Err(Failure {
                check: "allocate's last_modified".into(),
                detail: format!("kept {kept:?} for {time:?}"),
            });
        }
    }
    fails(
        "last_modified missing",
        store.last_modified(&key("nope")).await,
        ErrorKind::NotFound,
    )?;

    // rename: to a new name, over a value, into a dictionary, never into itself.
    ok("rename", store.rename(&key("a"), &key("b")).await)?;
    same(
        "rename moves",
        ok("exists", store.exists(&key("a")).await)?,
        None,
    )?;
    same(
        "rename keeps",
        ok("get", store.get(&key("b")).await)?.as_ref(),
        &b"bye"[..],
    )?;
    ok(
        "rename over a value",
        store.rename(&key("b"), &key("empty")).await,
    )?;
    same(
        "rename replaces",
        ok("get", store.get(&key("empty")).await)?.as_ref(),
        &b"bye"[..],
    )?;
    ok(
        "rename into a dictionary",
        store.rename(&key("empty"), &key("d")).await,
    )?;
    same(
        "into a dictionary",
        ok("get", store.get(&key("d/empty")).await)?.as_ref(),
        &b"bye"[..],
    )?;
    ok(
        "rename a dictionary",
        store.rename(&key("d/e"), &key("moved")).await,
    )?;
    same(
        "dictionary moved",
        ok("get", store.get(&key("moved/f")).await)?.as_ref(),
        &b"deep"[..],
    )?;
    ok(
        "rename a dictionary back",
        store.rename(&key("moved"), &key("d/e")).await,
    )?;
    same(
        "dictionary back",
        ok("get", store.get(&key("d/e/f")).await)?.as_ref(),
        &b"deep"[..],
    )?;
    ok("rename to itself", store.rename(&key("p"), &key("p")).await)?;
    same(
        "rename to itself keeps",
        ok("size", store.size(&key("p")).await)?,
        7,
    )?;
    fails(
        "rename into itself",
        store.rename(&key("d"), &key("d/e/x")).await,
        ErrorKind::InvalidInput,
    )?;
    fails(
        "rename missing",
        store.rename(&key("nope"), &key("x")).await,
        ErrorKind::NotFound,
    )?;
    fails(
        "rename a dictionary over a value",
        store.rename(&key("d/e"), &key("p")).await,
        ErrorKind::AlreadyExists,
    )?;

    // remove: values, dictionaries with what they hold, never the root or a missing key.
    ok("remove value", store.remove(&key("p")).await)?;
    same(
        "removed",
        ok("exists", store.exists(&key("p")).await)?,
        None,
    )?;
    fails(
        "remove missing",
        store.remove(&key("p")).await,
        ErrorKind::NotFound,
    )?;
    ok("remove dictionary", store.remove(&key("d")).await)?;
    same(
        "subtree removed",
        ok("exists", store.exists(&key("d/e/f")).await)?,
        None,
    )?;
    fails(
        "remove root",
        store.remove("/").await,
        ErrorKind::InvalidInput,
    )?;
    ok("clean up", store.remove(ROOT).await)?;
    same("cleaned up", ok("exists", store.exists(ROOT).await)?, None)
}
