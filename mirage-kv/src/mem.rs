//! An in-memory read-write store, for tests and for state that need not outlive the process.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::key;
use bytes::Bytes;
use mirage_types::{Device, Entry, KvError, KvRo, KvRw, async_trait};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A value or a dictionary of further nodes.
#[derive(Clone)]
enum Node {
    Value { data: Bytes, modified: Duration },
    Dictionary(BTreeMap<String, Node>),
}

/// Mirage 4's in-memory `KV_RW`: a tree of values and dictionaries held in memory.
///
/// Every operation completes without waiting, so each is atomic for other tasks; nothing
/// survives the process ("durable" here means visible to every later reader). Times are the
/// host's wall clock. Dictionaries are made by the writes that need them and stay, empty,
/// after their last value goes, as directories do.
///
/// ```
/// use mirage_kv::MemKv;
/// use mirage_types::{Entry, KvRo, KvRw};
///
/// mirage_unix::run(async {
///     let store = MemKv::new();
///     store.set("config/name", b"mirage").await.unwrap();
///     store.rename("config/name", "config/title").await.unwrap();
///     assert_eq!(store.get("config/title").await.unwrap(), "mirage");
///     assert_eq!(store.list("config").await.unwrap(), [("title".to_string(), Entry::Value)]);
/// });
/// ```
#[derive(Clone)]
pub struct MemKv {
    root: RefCell<Node>,
}

impl Default for MemKv {
    fn default() -> Self {
        MemKv::new()
    }
}

fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

impl Node {
    /// The node at `path` (segments), if any.
    fn find(&self, path: &[&str]) -> Option<&Node> {
        let mut node = self;
        for segment in path {
            match node {
                Node::Dictionary(children) => node = children.get(*segment)?,
                Node::Value { .. } => return None,
            }
        }
        Some(node)
    }

    /// The dictionary at `path`, made (with its parents) where missing. A value on the way is
    /// [`KvError::DictionaryExpected`].
    fn dictionary_mut(
        &mut self,
        path: &[&str],
        key: &str,
    ) -> Result<&mut BTreeMap<String, Node>, KvError> {
        let mut node = self;
        for segment in path {
            let Node::Dictionary(children) = node else {
                return Err(KvError::DictionaryExpected(key.to_owned()));
            };
            node = children
                .entry((*segment).to_owned())
                .or_insert_with(|| Node::Dictionary(BTreeMap::new()));
        }
        match node {
            Node::Dictionary(children) => Ok(children),
            Node::Value { .. } => Err(KvError::DictionaryExpected(key.to_owned())),
        }
    }

    /// Checks that `path`'s parents are dictionaries or missing (so a write can make them).
    fn check_parents(&self, path: &[&str], key: &str) -> Result<(), KvError> {
        let mut node = self;
        for segment in &path[..path.len().saturating_sub(1)] {
            match node {
                Node::Dictionary(children) => match children.get(*segment) {
                    Some(child) => node = child,
                    None => return Ok(()),
                },
                Node::Value { .. } => return Err(KvError::DictionaryExpected(key.to_owned())),
            }
        }
        match node {
            Node::Dictionary(_) => Ok(()),
            Node::Value { .. } => Err(KvError::DictionaryExpected(key.to_owned())),
        }
    }
}

impl MemKv {
    /// An empty store.
    pub fn new() -> Self {
        MemKv {
            root: RefCell::new(Node::Dictionary(BTreeMap::new())),
        }
    }

    /// Runs `op` on the value at `key` (created empty where missing): the shared path of
    /// `set`, `set_partial` and `allocate`.
    fn write_value(
        &self,
        key: &str,
        op: impl FnOnce(Option<&Bytes>) -> Result<(Bytes, Duration), KvError>,
    ) -> Result<(), KvError> {
        let path = key::write_segments(key)?;
        let Some((name, parents)) = path.split_last() else {
            return Err(KvError::ValueExpected(key.to_owned()));
        };
        let mut root = self.root.borrow_mut();
        root.check_parents(&path, key)?;
        let existing = match root.find(&path) {
            Some(Node::Dictionary(_)) => return Err(KvError::ValueExpected(key.to_owned())),
            Some(Node::Value { data, .. }) => Some(data.clone()),
            None => None,
        };
        let (data, modified) = op(existing.as_ref())?;
        root.dictionary_mut(parents, key)?
            .insert((*name).to_owned(), Node::Value { data, modified });
        Ok(())
    }
}

#[async_trait(?Send)]
impl Device for MemKv {
    /// Nothing to release.
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl KvRo for MemKv {
    async fn read(&self, key: &str, offset: u64, length: u64) -> Result<Bytes, KvError> {
        let value = self.get(key).await?;
        Ok(crate::window(value, offset, length))
    }

    async fn size(&self, key: &str) -> Result<u64, KvError> {
        Ok(self.get(key).await?.len() as u64)
    }

    async fn exists(&self, key: &str) -> Result<Option<Entry>, KvError> {
        let Ok(path) = key::segments(key) else {
            return Ok(None);
        };
        Ok(self.root.borrow().find(&path).map(|node| match node {
            Node::Value { .. } => Entry::Value,
            Node::Dictionary(_) => Entry::Dictionary,
        }))
    }

    async fn list(&self, key: &str) -> Result<Vec<(String, Entry)>, KvError> {
        let path = key::segments(key)?;
        match self.root.borrow().find(&path) {
            None => Err(KvError::UnknownKey(key.to_owned())),
            Some(Node::Value { .. }) => Err(KvError::DictionaryExpected(key.to_owned())),
            Some(Node::Dictionary(children)) => Ok(children
                .iter()
                .map(|(name, node)| {
                    let entry = match node {
                        Node::Value { .. } => Entry::Value,
                        Node::Dictionary(_) => Entry::Dictionary,
                    };
                    (name.clone(), entry)
                })
                .collect()),
        }
    }

    async fn get(&self, key: &str) -> Result<Bytes, KvError> {
        let path = key::segments(key)?;
        match self.root.borrow().find(&path) {
            None => Err(KvError::UnknownKey(key.to_owned())),
            Some(Node::Dictionary(_)) => Err(KvError::ValueExpected(key.to_owned())),
            Some(Node::Value { data, .. }) => Ok(data.clone()),
        }
    }

    async fn last_modified(&self, key: &str) -> Result<Option<Duration>, KvError> {
        let path = key::segments(key)?;
        match self.root.borrow().find(&path) {
            None => Err(KvError::UnknownKey(key.to_owned())),
            Some(Node::Dictionary(_)) => Ok(None),
            Some(Node::Value { modified, .. }) => Ok(Some(*modified)),
        }
    }
}

#[async_trait(?Send)]
impl KvRw for MemKv {
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.write_value(key, |_| Ok((Bytes::copy_from_slice(value), now())))
    }

    async fn set_partial(&self, key: &str, offset: u64, data: &[u8]) -> Result<(), KvError> {
        let end = offset
            .checked_add(data.len() as u64)
            .and_then(|end| usize::try_from(end).ok())
            .ok_or(KvError::NoSpace)?;
        self.write_value(key, |old| {
            let mut value = old.map(|old| old.to_vec()).unwrap_or_default();
            if value.len() < end {
                value
                    .try_reserve(end - value.len())
                    .map_err(|_| KvError::NoSpace)?;
                value.resize(end, 0);
            }
            value[offset as usize..end].copy_from_slice(data);
            Ok((Bytes::from(value), now()))
        })
    }

    async fn remove(&self, key: &str) -> Result<(), KvError> {
        let path = key::write_segments(key)?;
        let Some((name, parents)) = path.split_last() else {
            return Err(KvError::invalid_key(key, "the root cannot be removed"));
        };
        let mut root = self.root.borrow_mut();
        if root.find(&path).is_none() {
            return Err(KvError::UnknownKey(key.to_owned()));
        }
        root.dictionary_mut(parents, key)?.remove(*name);
        Ok(())
    }

    async fn rename(&self, source: &str, dest: &str) -> Result<(), KvError> {
        let dest_is_dictionary = self.exists(dest).await? == Some(Entry::Dictionary);
        let Some((from, to)) = key::rename_target(source, dest, dest_is_dictionary)? else {
            return match self.exists(source).await? {
                Some(_) => Ok(()),
                None => Err(KvError::UnknownKey(source.to_owned())),
            };
        };
        let from: Vec<&str> = from.split('/').collect();
        let to: Vec<&str> = to.split('/').collect();
        let mut root = self.root.borrow_mut();
        let Some(moving) = root.find(&from).cloned() else {
            return Err(KvError::UnknownKey(source.to_owned()));
        };
        root.check_parents(&to, dest)?;
        match (root.find(&to), &moving) {
            (None, _) | (Some(Node::Value { .. }), Node::Value { .. }) => {}
            _ => return Err(KvError::AlreadyPresent(to.join("/"))),
        }
        let (from_name, from_parents) = from.split_last().expect("not the root");
        root.dictionary_mut(from_parents, source)?
            .remove(*from_name);
        let (to_name, to_parents) = to.split_last().expect("not the root");
        root.dictionary_mut(to_parents, dest)?
            .insert((*to_name).to_owned(), moving);
        Ok(())
    }

    async fn allocate(
        &self,
        key: &str,
        size: u64,
        last_modified: Option<Duration>,
    ) -> Result<(), KvError> {
        let size = usize::try_from(size).map_err(|_| KvError::NoSpace)?;
        if self.exists(key).await?.is_some() {
            return Err(KvError::AlreadyPresent(key.to_owned()));
        }
        self.write_value(key, |old| {
            if old.is_some() {
                return Err(KvError::AlreadyPresent(key.to_owned()));
            }
            let mut value = Vec::new();
            value.try_reserve(size).map_err(|_| KvError::NoSpace)?;
            value.resize(size, 0);
            Ok((Bytes::from(value), last_modified.unwrap_or_else(now)))
        })
    }
}
