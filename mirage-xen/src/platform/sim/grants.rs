//! Grants in the simulated hypervisor: pages shared by reference, mapped by peers.

#[allow(unused_imports)]
use crate::prelude::*;

use super::Inner;
use crate::abi::grant::GNTTAB_NR_RESERVED_ENTRIES;
use crate::abi::{DomId, GrantRef};
use crate::platform::{Grant, XenError};
use crate::ring::{OwnedPage, SharedMemory};
use alloc::collections::BTreeMap;
use alloc::rc::{Rc, Weak};

/// Grant entries each domain may have at once (four grant-table frames of v1 entries).
const GRANTS_PER_DOMAIN: usize = 2048;

struct Entry {
    page: Rc<OwnedPage>,
    grantee: DomId,
    readonly: bool,
    mappings: usize,
}

/// Every domain's grant table.
#[derive(Default)]
pub(crate) struct Table {
    entries: BTreeMap<(DomId, GrantRef), Entry>,
    next: BTreeMap<DomId, GrantRef>,
    /// Grants ended while still mapped (on Xen the page would stay in use by the peer).
    ended_while_mapped: Vec<String>,
}

impl Table {
    pub(crate) fn leaks(&self) -> Vec<String> {
        let mut leaks: Vec<String> = self
            .entries
            .iter()
            .map(|((owner, gref), entry)| {
                format!(
                    "grant {gref} of domain {owner} to domain {} ({} mappings)",
                    entry.grantee, entry.mappings
                )
            })
            .collect();
        leaks.extend(self.ended_while_mapped.iter().cloned());
        leaks
    }
}

/// A page granted by one domain to another: the grant ends when this is dropped.
pub struct SimGrant {
    xen: Weak<Inner>,
    owner: DomId,
    gref: GrantRef,
    page: Rc<OwnedPage>,
}

/// A peer's granted page mapped into this domain: unmapped when dropped.
pub struct SimMapping {
    xen: Weak<Inner>,
    owner: DomId,
    gref: GrantRef,
    page: Rc<OwnedPage>,
}

pub(crate) fn share(
    xen: &Rc<Inner>,
    owner: DomId,
    grantee: DomId,
    readonly: bool,
) -> Result<SimGrant, XenError> {
    let mut table = xen.grants.borrow_mut();
    if table.entries.keys().filter(|(o, _)| *o == owner).count() >= GRANTS_PER_DOMAIN {
        return Err(XenError::Exhausted(format!(
            "domain {owner} has {GRANTS_PER_DOMAIN} grants"
        )));
    }
    let next = table
        .next
        .entry(owner)
        .or_insert(GNTTAB_NR_RESERVED_ENTRIES);
    let mut gref = *next;
    while table.entries.contains_key(&(owner, gref)) {
        gref = gref.wrapping_add(1).max(GNTTAB_NR_RESERVED_ENTRIES);
    }
    *table.next.get_mut(&owner).expect("inserted") =
        gref.wrapping_add(1).max(GNTTAB_NR_RESERVED_ENTRIES);
    let page = Rc::new(OwnedPage::new());
    table.entries.insert(
        (owner, gref),
        Entry {
            page: page.clone(),
            grantee,
            readonly,
            mappings: 0,
        },
    );
    Ok(SimGrant {
        xen: Rc::downgrade(xen),
        owner,
        gref,
        page,
    })
}

pub(crate) fn map(
    xen: &Rc<Inner>,
    mapper: DomId,
    owner: DomId,
    gref: GrantRef,
    writable: bool,
) -> Result<SimMapping, XenError> {
    let mut table = xen.grants.borrow_mut();
    let entry = table
        .entries
        .get_mut(&(owner, gref))
        .filter(|entry| entry.grantee == mapper)
        .ok_or_else(|| {
            XenError::NotFound(format!("grant {gref} of domain {owner} to domain {mapper}"))
        })?;
    if writable && entry.readonly {
        return Err(XenError::PermissionDenied(format!(
            "grant {gref} of domain {owner} is read-only"
        )));
    }
    entry.mappings += 1;
    Ok(SimMapping {
        xen: Rc::downgrade(xen),
        owner,
        gref,
        page: entry.page.clone(),
    })
}

impl Grant for SimGrant {
    fn gref(&self) -> GrantRef {
        self.gref
    }
}

// SAFETY: the page is kept alive by this value's `Rc`.
unsafe impl SharedMemory for SimGrant {
    fn as_ptr(&self) -> *mut u8 {
        self.page.as_ptr()
    }

    fn len(&self) -> usize {
        self.page.len()
    }
}

// SAFETY: as for `SimGrant`.
unsafe impl SharedMemory for SimMapping {
    fn as_ptr(&self) -> *mut u8 {
        self.page.as_ptr()
    }

    fn len(&self) -> usize {
        self.page.len()
    }
}

impl Drop for SimGrant {
    fn drop(&mut self) {
        let Some(xen) = self.xen.upgrade() else {
            return;
        };
        let mut table = xen.grants.borrow_mut();
        if let Some(entry) = table.entries.remove(&(self.owner, self.gref))
            && entry.mappings > 0
        {
            table.ended_while_mapped.push(format!(
                "grant {} of domain {} ended while mapped {} times",
                self.gref, self.owner, entry.mappings
            ));
        }
    }
}

impl Drop for SimMapping {
    fn drop(&mut self) {
        let Some(xen) = self.xen.upgrade() else {
            return;
        };
        let mut table = xen.grants.borrow_mut();
        if let Some(entry) = table.entries.get_mut(&(self.owner, self.gref)) {
            entry.mappings = entry.mappings.saturating_sub(1);
        }
    }
}
