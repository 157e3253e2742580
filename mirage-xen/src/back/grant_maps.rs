//! How a backend reaches the frontend's grants for one connection: copied by the hypervisor
//! for each request (one grant-copy call for all its pieces, nothing mapped), or, when both
//! sides agree on persistent grants (`feature-persistent`), mapped once per grant and kept
//! until the connection ends, as Linux's blkback does. Mapping and unmapping a page per
//! segment costs two system calls and a hypercall each; with persistent grants a frontend
//! reuses a fixed set of pages and the backend maps each only once.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::abi::{DomId, GrantRef};
use crate::platform::{GrantPiece, GrantTable, XenError};
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

    /// Whether grants are kept mapped (persistent); if not, data is copied.
    pub(crate) fn persistent(&self) -> bool {
        self.kept.is_some()
    }

    /// Copies the frontend's `pieces` into `into`.
    pub(crate) fn copy_from(&self, pieces: &[GrantPiece], into: &mut [u8]) -> Result<(), XenError> {
        self.platform.copy_from_grants(self.frontend, pieces, into)
    }

    /// Copies `from` into the frontend's `pieces`.
    pub(crate) fn copy_to(&self, from: &[u8], pieces: &[GrantPiece]) -> Result<(), XenError> {
        self.platform.copy_to_grants(self.frontend, from, pieces)
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
