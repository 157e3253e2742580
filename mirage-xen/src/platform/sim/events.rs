//! Event channels in the simulated hypervisor: pairs of ports that ring each other.

#[allow(unused_imports)]
use crate::prelude::*;

use super::Inner;
use crate::abi::DomId;
use crate::platform::{Port, XenError};
use alloc::collections::BTreeMap;
use alloc::rc::{Rc, Weak};
use async_trait::async_trait;
use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::{Poll, Waker};

/// Ports each domain may have open at once.
const PORTS_PER_DOMAIN: usize = 1024;

/// One port's doorbell.
#[derive(Default)]
struct Bell {
    pending: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Bell {
    fn ring(&self) {
        self.pending.set(true);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

struct Open {
    bell: Rc<Bell>,
    /// Who may bind to it while unbound, or the bound peer `(domain, port)`.
    remote: DomId,
    peer: Option<(DomId, u32)>,
}

/// Every domain's ports.
#[derive(Default)]
pub(crate) struct Table {
    ports: BTreeMap<(DomId, u32), Open>,
}

impl Table {
    pub(crate) fn leaks(&self) -> Vec<String> {
        self.ports
            .keys()
            .map(|(domain, port)| format!("event channel port {port} of domain {domain}"))
            .collect()
    }

    fn free_port(&self, domain: DomId) -> Result<u32, XenError> {
        let used = self.ports.range((domain, 0)..=(domain, u32::MAX)).count();
        if used >= PORTS_PER_DOMAIN {
            return Err(XenError::Exhausted(format!(
                "domain {domain} has {PORTS_PER_DOMAIN} event channels"
            )));
        }
        // Port 0 is never used, as on Xen.
        Ok((1..)
            .find(|port| !self.ports.contains_key(&(domain, *port)))
            .expect("fewer ports than numbers"))
    }
}

/// One end of an event channel of the simulated hypervisor.
pub struct SimPort {
    xen: Weak<Inner>,
    domain: DomId,
    number: u32,
    bell: Rc<Bell>,
}

pub(crate) fn alloc_unbound(
    xen: &Rc<Inner>,
    domain: DomId,
    remote: DomId,
) -> Result<SimPort, XenError> {
    let mut table = xen.events.borrow_mut();
    open(xen, &mut table, domain, remote, None)
}

/// Opens a fresh port of `domain`, for `remote`, bound to `peer` if given.
fn open(
    xen: &Rc<Inner>,
    table: &mut Table,
    domain: DomId,
    remote: DomId,
    peer: Option<(DomId, u32)>,
) -> Result<SimPort, XenError> {
    let number = table.free_port(domain)?;
    let bell = Rc::new(Bell::default());
    table.ports.insert(
        (domain, number),
        Open {
            bell: bell.clone(),
            remote,
            peer,
        },
    );
    Ok(SimPort {
        xen: Rc::downgrade(xen),
        domain,
        number,
        bell,
    })
}

pub(crate) fn bind(
    xen: &Rc<Inner>,
    domain: DomId,
    remote: DomId,
    remote_port: u32,
) -> Result<SimPort, XenError> {
    let mut table = xen.events.borrow_mut();
    match table.ports.get(&(remote, remote_port)) {
        Some(open) if open.peer.is_none() && open.remote == domain => {}
        Some(_) => {
            return Err(XenError::PermissionDenied(format!(
                "port {remote_port} of domain {remote} is not open to domain {domain}"
            )));
        }
        None => {
            return Err(XenError::NotFound(format!(
                "port {remote_port} of domain {remote}"
            )));
        }
    }
    let port = open(xen, &mut table, domain, remote, Some((remote, remote_port)))?;
    table
        .ports
        .get_mut(&(remote, remote_port))
        .expect("checked above")
        .peer = Some((domain, port.number));
    Ok(port)
}

#[async_trait(?Send)]
impl Port for SimPort {
    fn number(&self) -> u32 {
        self.number
    }

    /// Rings the bound peer; a port not (or no longer) bound rings nobody, as on Xen.
    fn notify(&self) {
        let Some(xen) = self.xen.upgrade() else {
            return;
        };
        let table = xen.events.borrow();
        let peer = table
            .ports
            .get(&(self.domain, self.number))
            .and_then(|open| open.peer)
            .and_then(|peer| table.ports.get(&peer));
        if let Some(peer) = peer {
            peer.bell.ring();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            if self.bell.pending.replace(false) {
                Poll::Ready(())
            } else {
                *self.bell.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

impl Drop for SimPort {
    /// Closes the port; the peer's end stays open but unbound, and is rung once so that a
    /// task waiting on it looks at the state of things (after that it hears nothing more,
    /// as on Xen).
    fn drop(&mut self) {
        let Some(xen) = self.xen.upgrade() else {
            return;
        };
        let mut table = xen.events.borrow_mut();
        if let Some(open) = table.ports.remove(&(self.domain, self.number))
            && let Some(peer) = open.peer
            && let Some(other) = table.ports.get_mut(&peer)
        {
            other.peer = None;
            other.bell.ring();
        }
    }
}
