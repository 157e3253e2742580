//! A simulated hypervisor, in-process: several domains that share pages, ring each other's
//! event channels and use one store, as on Xen, but in one process and on one thread. The
//! protocol code runs over it unchanged, so front- and backends are tested together here.
//!
//! At teardown it says what was left behind ([`SimXen::leaks`]): a grant not ended, a
//! mapping not unmapped, a port not closed. Faults can be injected ([`SimXen::fail_next`]).

#[allow(unused_imports)]
use crate::prelude::*;

mod events;
mod grants;
mod store;

pub use events::SimPort;
pub use grants::{SimGrant, SimMapping};
pub use store::SimWatch;

use super::{EventChannels, GrantTable, XenError};
use crate::abi::{DomId, GrantRef};
use alloc::collections::BTreeSet;
use alloc::rc::Rc;
use core::cell::RefCell;

/// An operation a fault can be injected into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    /// Granting a page.
    Share,
    /// Mapping a grant.
    Map,
    /// Allocating an unbound port.
    AllocUnbound,
    /// Binding to a peer's port.
    Bind,
}

/// The hypervisor: make domains with [`SimXen::domain`].
#[derive(Clone, Default)]
pub struct SimXen {
    pub(crate) inner: Rc<Inner>,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) grants: RefCell<grants::Table>,
    pub(crate) events: RefCell<events::Table>,
    pub(crate) store: RefCell<store::Tree>,
    faults: RefCell<BTreeSet<Op>>,
}

impl Inner {
    /// Whether the next `op` was made to fail (the fault is used up).
    pub(crate) fn fault(&self, op: Op) -> Result<(), XenError> {
        if self.faults.borrow_mut().remove(&op) {
            Err(XenError::Other(format!("injected fault in {op:?}")))
        } else {
            Ok(())
        }
    }
}

impl SimXen {
    /// A hypervisor with no domains running yet and an empty store (but for `/local/domain`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Domain `id`'s view: its grant table, event channels and store connection.
    pub fn domain(&self, id: DomId) -> SimDomain {
        self.inner.store.borrow_mut().introduce(id);
        SimDomain {
            xen: self.clone(),
            id,
        }
    }

    /// Makes the next `op` (by any domain) fail.
    pub fn fail_next(&self, op: Op) {
        self.inner.faults.borrow_mut().insert(op);
    }

    /// What is still held: grants not ended, mappings not unmapped, ports not closed. Empty
    /// when every device was torn down properly.
    pub fn leaks(&self) -> Vec<String> {
        let mut leaks = self.inner.grants.borrow().leaks();
        leaks.extend(self.inner.events.borrow().leaks());
        leaks.extend(self.inner.store.borrow().leaks());
        leaks
    }
}

/// One domain of a [`SimXen`]: implements [`GrantTable`], [`EventChannels`] and
/// [`super::Store`].
#[derive(Clone)]
pub struct SimDomain {
    pub(crate) xen: SimXen,
    pub(crate) id: DomId,
}

impl SimDomain {
    /// The domain's id.
    pub fn id(&self) -> DomId {
        self.id
    }
}

impl GrantTable for SimDomain {
    type Grant = SimGrant;
    type Mapping = SimMapping;

    fn share(&self, domain: DomId, readonly: bool) -> Result<SimGrant, XenError> {
        self.xen.inner.fault(Op::Share)?;
        grants::share(&self.xen.inner, self.id, domain, readonly)
    }

    fn map(&self, domain: DomId, gref: GrantRef, writable: bool) -> Result<SimMapping, XenError> {
        self.xen.inner.fault(Op::Map)?;
        grants::map(&self.xen.inner, self.id, domain, gref, writable)
    }
}

impl EventChannels for SimDomain {
    type Port = SimPort;

    fn alloc_unbound(&self, remote: DomId) -> Result<SimPort, XenError> {
        self.xen.inner.fault(Op::AllocUnbound)?;
        events::alloc_unbound(&self.xen.inner, self.id, remote)
    }

    fn bind_interdomain(&self, remote: DomId, remote_port: u32) -> Result<SimPort, XenError> {
        self.xen.inner.fault(Op::Bind)?;
        events::bind(&self.xen.inner, self.id, remote, remote_port)
    }
}

#[cfg(test)]
mod tests;
