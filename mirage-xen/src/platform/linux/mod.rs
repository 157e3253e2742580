//! Linux processes as a Xen platform, in any domain: grants through `/dev/xen/gntalloc`
//! (sharing) and `/dev/xen/gntdev` (mapping), event channels through `/dev/xen/evtchn`
//! (waited on without blocking a thread), and the store through `xenstored`'s socket
//! ([`XsSocket`], dom0) or `/dev/xen/xenbus` ([`XsDevice`], any domain).
//!
//! Devices are opened when first needed, so a backend (which only maps) does not need
//! `gntalloc`, and a missing one is an error naming the module to load.

#[allow(unused_imports)]
use crate::prelude::*;

mod evtchn;
mod grants;
mod ioctl;
mod xs_device;
mod xs_socket;

pub use evtchn::LinuxPort;
pub use grants::{LinuxGrant, LinuxMapping};
pub use xs_device::XsDevice;
pub use xs_socket::XsSocket;

use super::{
    EventChannels, GrantPiece, GrantTable, Permission, Store, TxId, XenError, check_pieces,
};
use crate::abi::{DomId, GrantRef};
use async_trait::async_trait;
use std::cell::RefCell;
use std::os::fd::OwnedFd;
use std::rc::Rc;

/// This process's Xen platform, with store `S` (an [`crate::xenstore::XsClient`] over
/// [`XsSocket`] or [`XsDevice`], in an `Rc`).
pub struct LinuxXen<S> {
    store: S,
    gntalloc: RefCell<Option<Rc<OwnedFd>>>,
    gntdev: RefCell<Option<Rc<OwnedFd>>>,
    evtchn: RefCell<Option<Rc<evtchn::Evtchn>>>,
}

impl<S> LinuxXen<S> {
    /// The platform over `store`; the `/dev/xen` devices are opened when first used (the
    /// event channels need a tokio runtime with I/O then).
    pub fn new(store: S) -> Self {
        LinuxXen {
            store,
            gntalloc: RefCell::default(),
            gntdev: RefCell::default(),
            evtchn: RefCell::default(),
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    fn device(
        slot: &RefCell<Option<Rc<OwnedFd>>>,
        name: &str,
        module: &str,
    ) -> Result<Rc<OwnedFd>, XenError> {
        let mut slot = slot.borrow_mut();
        if let Some(device) = &*slot {
            return Ok(device.clone());
        }
        let device = Rc::new(ioctl::open_device(name, module)?);
        *slot = Some(device.clone());
        Ok(device)
    }

    fn evtchn(&self) -> Result<Rc<evtchn::Evtchn>, XenError> {
        let mut slot = self.evtchn.borrow_mut();
        if let Some(evtchn) = &*slot {
            return Ok(evtchn.clone());
        }
        let evtchn = evtchn::Evtchn::open()?;
        *slot = Some(evtchn.clone());
        Ok(evtchn)
    }
}

/// The platform of a process in a guest domain: the store through `/dev/xen/xenbus`.
pub type GuestXen = LinuxXen<Rc<crate::xenstore::XsClient<XsDevice>>>;

impl GuestXen {
    /// This domain's platform and its domain id (read from the store), from a process in
    /// any domain (dom0 included): the store through `/dev/xen/xenbus`. Needs a tokio
    /// runtime with I/O.
    pub async fn this_domain() -> Result<(Self, DomId), XenError> {
        let xen = LinuxXen::new(crate::xenstore::XsClient::new(XsDevice::open()?));
        // A relative path is this domain's own directory.
        let text = xen.read(0, "domid").await?;
        let domid = text
            .trim()
            .parse()
            .map_err(|_| XenError::Other(format!("the store's domid is {text:?}")))?;
        Ok((xen, domid))
    }
}

impl<S> GrantTable for LinuxXen<S> {
    type Grant = LinuxGrant;
    type Mapping = LinuxMapping;

    fn share(&self, domain: DomId, readonly: bool) -> Result<LinuxGrant, XenError> {
        let device = Self::device(&self.gntalloc, "gntalloc", "xen-gntalloc")?;
        grants::share(&device, domain, readonly)
    }

    fn map(&self, domain: DomId, gref: GrantRef, writable: bool) -> Result<LinuxMapping, XenError> {
        let device = Self::device(&self.gntdev, "gntdev", "xen-gntdev")?;
        grants::map(&device, domain, gref, writable)
    }

    fn copy_from_grants(
        &self,
        domain: DomId,
        pieces: &[GrantPiece],
        into: &mut [u8],
    ) -> Result<(), XenError> {
        check_pieces(pieces, into.len())?;
        let device = Self::device(&self.gntdev, "gntdev", "xen-gntdev")?;
        grants::copy(&device, domain, pieces, into.as_mut_ptr(), false)
    }

    fn copy_to_grants(
        &self,
        domain: DomId,
        from: &[u8],
        pieces: &[GrantPiece],
    ) -> Result<(), XenError> {
        check_pieces(pieces, from.len())?;
        let device = Self::device(&self.gntdev, "gntdev", "xen-gntdev")?;
        // The kernel only reads `from` for a copy into the grants.
        grants::copy(&device, domain, pieces, from.as_ptr().cast_mut(), true)
    }
}

impl<S> EventChannels for LinuxXen<S> {
    type Port = LinuxPort;

    fn alloc_unbound(&self, remote: DomId) -> Result<LinuxPort, XenError> {
        self.evtchn()?.alloc_unbound(remote)
    }

    fn bind_interdomain(&self, remote: DomId, remote_port: u32) -> Result<LinuxPort, XenError> {
        self.evtchn()?.bind(remote, remote_port)
    }
}

#[async_trait(?Send)]
impl<S: Store> Store for LinuxXen<S> {
    type Watch = S::Watch;

    async fn read(&self, tx: TxId, path: &str) -> Result<String, XenError> {
        self.store.read(tx, path).await
    }
    async fn write(&self, tx: TxId, path: &str, value: &str) -> Result<(), XenError> {
        self.store.write(tx, path, value).await
    }
    async fn mkdir(&self, tx: TxId, path: &str) -> Result<(), XenError> {
        self.store.mkdir(tx, path).await
    }
    async fn rm(&self, tx: TxId, path: &str) -> Result<(), XenError> {
        self.store.rm(tx, path).await
    }
    async fn directory(&self, tx: TxId, path: &str) -> Result<Vec<String>, XenError> {
        self.store.directory(tx, path).await
    }
    async fn get_perms(&self, tx: TxId, path: &str) -> Result<Vec<Permission>, XenError> {
        self.store.get_perms(tx, path).await
    }
    async fn set_perms(&self, tx: TxId, path: &str, perms: &[Permission]) -> Result<(), XenError> {
        self.store.set_perms(tx, path, perms).await
    }
    async fn transaction_start(&self) -> Result<TxId, XenError> {
        self.store.transaction_start().await
    }
    async fn transaction_end(&self, tx: TxId, commit: bool) -> Result<(), XenError> {
        self.store.transaction_end(tx, commit).await
    }
    async fn watch(&self, path: &str) -> Result<Self::Watch, XenError> {
        self.store.watch(path).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::sim::SimXen;

    /// Off Xen (or without the modules) each device's absence is an error that says what to
    /// load; nothing panics.
    #[test]
    fn missing_devices_name_their_modules() {
        if std::path::Path::new("/dev/xen").exists() {
            return; // In a Xen domain: the real-Xen tests cover these.
        }
        let xen = LinuxXen::new(SimXen::new().domain(0));
        let shared = xen.share(1, false).err().unwrap().to_string();
        assert!(shared.contains("modprobe xen-gntalloc"), "{shared}");
        let mapped = xen.map(1, 8, true).err().unwrap().to_string();
        assert!(mapped.contains("modprobe xen-gntdev"), "{mapped}");
        let port = xen.alloc_unbound(1).err().unwrap().to_string();
        assert!(port.contains("modprobe xen-evtchn"), "{port}");
        let store = XsDevice::open().err().unwrap().to_string();
        assert!(store.contains("/dev/xen/xenbus"), "{store}");
    }
}
