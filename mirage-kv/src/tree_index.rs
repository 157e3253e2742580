//! The keys of a store whose contents are fixed (compiled in): every value and every
//! dictionary above one, for `exists` and `list` without a walk.

#[allow(unused_imports)]
use crate::alloc_prelude::*;
use crate::key;
use alloc::collections::BTreeMap;
use mirage_types::{Entry, KvError};

/// Every key of a fixed store, normalised: each value with what the store keeps for it
/// (`V`), each dictionary above one as `None`.
#[derive(Debug, Clone)]
pub(crate) struct TreeIndex<V>(BTreeMap<String, Option<V>>);

fn entry<V>(node: &Option<V>) -> Entry {
    match node {
        Some(_) => Entry::Value,
        None => Entry::Dictionary,
    }
}

impl<V> TreeIndex<V> {
    /// The index of `values`, by name (with `/` between segments).
    pub(crate) fn new<'a>(values: impl IntoIterator<Item = (&'a str, V)>) -> Self {
        let mut entries = BTreeMap::new();
        entries.insert(String::new(), None);
        for (name, value) in values {
            let mut parent = name;
            while let Some((dir, _)) = parent.rsplit_once('/') {
                entries.insert(dir.to_owned(), None);
                parent = dir;
            }
            entries.insert(name.to_owned(), Some(value));
        }
        TreeIndex(entries)
    }

    /// The normalised name of the value `key` and what is kept for it, or why it names none.
    pub(crate) fn value(&self, key: &str) -> Result<(String, &V), KvError> {
        let name = key::normalise(key)?;
        match self.0.get(&name) {
            Some(Some(value)) => Ok((name, value)),
            Some(None) => Err(KvError::ValueExpected(key.to_owned())),
            None => Err(KvError::UnknownKey(key.to_owned())),
        }
    }

    /// What `key` names, if anything.
    pub(crate) fn exists(&self, key: &str) -> Option<Entry> {
        key::normalise(key)
            .ok()
            .and_then(|name| self.0.get(&name).map(entry))
    }

    /// The entries of dictionary `key`.
    pub(crate) fn list(&self, key: &str) -> Result<Vec<(String, Entry)>, KvError> {
        let dir = key::normalise(key)?;
        match self.0.get(&dir) {
            Some(None) => {}
            Some(Some(_)) => return Err(KvError::DictionaryExpected(key.to_owned())),
            None => return Err(KvError::UnknownKey(key.to_owned())),
        }
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        Ok(self
            .0
            .range(prefix.clone()..)
            .take_while(|(name, _)| name.starts_with(&prefix))
            .filter_map(|(name, node)| {
                let rest = &name[prefix.len()..];
                (!rest.is_empty() && !rest.contains('/')).then(|| (rest.to_owned(), entry(node)))
            })
            .collect())
    }

    #[cfg(feature = "crunch")]
    /// Whether `key` names a dictionary, for `last_modified`: `None` if it names nothing.
    pub(crate) fn is_dictionary(&self, key: &str) -> Result<bool, KvError> {
        let name = key::normalise(key)?;
        match self.0.get(&name) {
            Some(node) => Ok(node.is_none()),
            None => Err(KvError::UnknownKey(key.to_owned())),
        }
    }
}
