//! How a backend maps the frontend's grants for one connection: afresh for each request,
//! or, when both sides agree on persistent grants (`feature-persistent`), once per grant and
//! kept until the connection ends, as Linux's blkback does. Mapping and unmapping a page per
//! segment costs two system calls and a hypercall each; with persistent grants a frontend
//! reuses a fixed set of pages and the backend maps each only once.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::abi::{DomId, GrantRef};
use crate::platform::{GrantTable, XenError};
use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use core::cell::RefCell;

/// Grants kept mapped at most per connection (Linux's blkback keeps 1,056 by default); past
/// that, grants are mapped per request.
pub const MAX_PERSISTENT_GRANTS: usize = 2048;

/// A mapped grant and whether it is mapped writable.
type Kept<M> = (Rc<M>, bool);

/// The frontend's grants as one connection maps them.
pub(crate) struct GrantMaps<'p, P: GrantTable> {
    platform: &'p P,
    frontend: DomId,
    /// Kept mappings, when grants are persistent.
    kept: Option<RefCell<BTreeMap<GrantRef, Kept<P::Mapping>>>>,
}

impl<'p, P: GrantTable> GrantMaps<'p, P> {
    /// Maps for `frontend`, keeping mappings if `persistent`.
    pub(crate) fn new(platform: &'p P, frontend: DomId, persistent: bool) -> Self {
        GrantMaps {
            platform,
            frontend,
            kept: persistent.then(RefCell::default),
        }
    }

    /// Grant `gref`, mapped (`writable` if the backend writes into it).
    pub(crate) fn map(&self, gref: GrantRef, writable: bool) -> Result<Rc<P::Mapping>, XenError> {
        let Some(kept) = &self.kept else {
            return Ok(Rc::new(self.platform.map(self.frontend, gref, writable)?));
        };
        if let Some((mapping, mapped_writable)) = kept.borrow().get(&gref)
            && (*mapped_writable || !writable)
        {
            return Ok(mapping.clone());
        }
        // Persistent grants are writable for data pages; try that first so that one mapping
        // serves reads and writes alike.
        let (mapping, mapped_writable) = match self.platform.map(self.frontend, gref, true) {
            Ok(mapping) => (Rc::new(mapping), true),
            Err(_) if !writable => (
                Rc::new(self.platform.map(self.frontend, gref, false)?),
                false,
            ),
            Err(error) => return Err(error),
        };
        let mut kept = kept.borrow_mut();
        if kept.len() < MAX_PERSISTENT_GRANTS || kept.contains_key(&gref) {
            kept.insert(gref, (mapping.clone(), mapped_writable));
        }
        Ok(mapping)
    }

    /// Grants `grefs`, mapped (`writable` if the backend writes into them), in order: in
    /// one batch when nothing is kept (one system call for a request's pages on Linux).
    pub(crate) fn map_all(
        &self,
        grefs: &[GrantRef],
        writable: bool,
    ) -> Result<Vec<Rc<P::Mapping>>, XenError> {
        if self.kept.is_none() {
            let mapped = self.platform.map_all(self.frontend, grefs, writable)?;
            return Ok(mapped.into_iter().map(Rc::new).collect());
        }
        grefs.iter().map(|&gref| self.map(gref, writable)).collect()
    }

    /// How many grants are kept mapped.
    #[cfg(test)]
    pub(crate) fn kept(&self) -> usize {
        self.kept.as_ref().map_or(0, |kept| kept.borrow().len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Grant;
    use crate::platform::sim::SimXen;
    use crate::ring::SharedMemory;

    #[test]
    fn persistent_grants_are_mapped_once_and_unmapped_with_the_connection() {
        let xen = SimXen::new();
        let (guest, dom0) = (xen.domain(5), xen.domain(0));
        let data = guest.share(0, false).unwrap();
        let list = guest.share(0, true).unwrap();
        {
            let maps = GrantMaps::new(&dom0, 5, true);
            let first = maps.map(data.gref(), true).unwrap();
            let again = maps.map(data.gref(), false).unwrap();
            assert_eq!(first.as_ptr(), again.as_ptr(), "one mapping, kept");
            // A read-only grant is kept read-only, for what only reads it.
            maps.map(list.gref(), false).unwrap();
            assert!(maps.map(list.gref(), true).is_err());
            assert_eq!(maps.kept(), 2);
        }
        drop((data, list));
        assert_eq!(
            xen.leaks(),
            Vec::<String>::new(),
            "unmapped before the grants ended"
        );
    }

    #[test]
    fn without_persistence_nothing_is_kept() {
        let xen = SimXen::new();
        let (guest, dom0) = (xen.domain(5), xen.domain(0));
        let data = guest.share(0, false).unwrap();
        let maps = GrantMaps::new(&dom0, 5, false);
        let first = maps.map(data.gref(), true).unwrap();
        drop(first);
        assert_eq!(maps.kept(), 0);
    }
}
