//! The keys of a store whose contents are fixed (compiled in): every value and every
//! dictionary above one, for `exists` and `list` without a walk.

#[allow(unused_imports)]
use crate::alloc_prelude::*;
use crate::key;
use alloc::collections::BTreeMap;
use mirage_types::{Entry, KvError};

/// Every key of a fixed store, normalised, with what it names.
#[derive(Debug, Clone, Default)]
pub(crate) struct TreeIndex(BTreeMap<String, Entry>);

impl TreeIndex {
    /// The index of values named `names` (with `/` between segments).
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut entries = BTreeMap::new();
        entries.insert(String::new(), Entry::Dictionary);
        for name in names {
            let mut parent = name;
            while let Some((dir, _)) = parent.rsplit_once('/') {
                entries.insert(dir.to_owned(), Entry::Dictionary);
                parent = dir;
            }
            entries.insert(name.to_owned(), Entry::Value);
        }
        TreeIndex(entries)
    }

    /// The normalised name of the value `key`, or why it names none.
    pub(crate) fn value(&self, key: &str) -> Result<String, KvError> {
        let name = key::normalise(key)?;
        match self.0.get(&name) {
            Some(Entry::Value) => Ok(name),
            Some(Entry::Dictionary) => Err(KvError::ValueExpected(key.to_owned())),
            None => Err(KvError::UnknownKey(key.to_owned())),
        }
    }

    /// What `key` names, if anything.
    pub(crate) fn exists(&self, key: &str) -> Option<Entry> {
        key::normalise(key)
            .ok()
            .and_then(|name| self.0.get(&name).copied())
    }

    /// The entries of dictionary `key`.
    pub(crate) fn list(&self, key: &str) -> Result<Vec<(String, Entry)>, KvError> {
        let dir = key::normalise(key)?;
        match self.0.get(&dir) {
            Some(Entry::Dictionary) => {}
            Some(Entry::Value) => return Err(KvError::DictionaryExpected(key.to_owned())),
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
            .filter_map(|(name, entry)| {
                let rest = &name[prefix.len()..];
                (!rest.is_empty() && !rest.contains('/')).then(|| (rest.to_owned(), *entry))
            })
            .collect())
    }

    #[cfg(feature = "crunch")]
    /// Whether `key` names a dictionary, for `last_modified`: `None` if it names nothing.
    pub(crate) fn is_dictionary(&self, key: &str) -> Result<bool, KvError> {
        let name = key::normalise(key)?;
        match self.0.get(&name) {
            Some(entry) => Ok(*entry == Entry::Dictionary),
            None => Err(KvError::UnknownKey(key.to_owned())),
        }
    }
}
