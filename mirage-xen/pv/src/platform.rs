//! This kernel as a `mirage-xen` platform: grants it shares, event channels it binds, and
//! the xenstore over its ring page, so that `Blkfront`, `Netfront` and `XenConsole` run here
//! unchanged.

use crate::console::RawPage;
use crate::events::{self, PvPort};
use crate::grants::{self, PvGrant};
use crate::memory::va_of_mfn;
use crate::start_info::StartInfo;
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use async_trait::async_trait;
use mirage_xen::abi::{DomId, GrantRef};
use mirage_xen::platform::{EventChannels, GrantTable, Permission, Store, TxId, XenError};
use mirage_xen::xenstore::{XsClient, XsRing, XsWatch};

/// The xenstore client over this domain's ring.
type Client = Rc<XsClient<XsRing<RawPage, PvPort>>>;

/// The Xen platform of a PV kernel (cheap to clone: one store connection).
#[derive(Clone)]
pub struct PvXen {
    store: Client,
}

impl core::fmt::Debug for PvXen {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PvXen").finish_non_exhaustive()
    }
}

impl PvXen {
    pub(crate) fn new(start_info: &StartInfo) -> Self {
        let page = RawPage(va_of_mfn(start_info.store_mfn));
        PvXen {
            store: XsClient::new(XsRing::new(page, PvPort::preset(start_info.store_evtchn))),
        }
    }

    /// This domain's id, as the store knows it (`domid`).
    pub async fn domid(&self) -> Result<DomId, XenError> {
        let text = self.store.read(0, "domid").await?;
        text.trim()
            .parse()
            .map_err(|_| XenError::Other(alloc::format!("the store's domid {text:?} is no number")))
    }
}

/// A mapping of another domain's grant: never made here (see [`GrantTable::map`]).
#[derive(Debug)]
pub enum NoMapping {}

// SAFETY: uninhabited: no value exists to hand out memory.
unsafe impl mirage_xen::ring::SharedMemory for NoMapping {
    fn as_ptr(&self) -> *mut u8 {
        match *self {}
    }
    fn len(&self) -> usize {
        match *self {}
    }
}

impl GrantTable for PvXen {
    type Grant = PvGrant;
    type Mapping = NoMapping;

    fn share(&self, domain: DomId, readonly: bool) -> Result<PvGrant, XenError> {
        grants::share(domain, readonly)
    }

    /// Not in a PV guest: mapping other domains' grants is for backends, which run in dom0.
    fn map(&self, domain: DomId, gref: GrantRef, _writable: bool) -> Result<NoMapping, XenError> {
        Err(XenError::PermissionDenied(alloc::format!(
            "mapping grant {gref} of domain {domain}: the PV unikernel runtime shares pages but does not map other domains' grants"
        )))
    }
}

impl EventChannels for PvXen {
    type Port = PvPort;

    fn alloc_unbound(&self, remote: DomId) -> Result<PvPort, XenError> {
        events::alloc_unbound(remote)
    }

    fn bind_interdomain(&self, remote: DomId, remote_port: u32) -> Result<PvPort, XenError> {
        events::bind_interdomain(remote, remote_port)
    }
}

#[async_trait(?Send)]
impl Store for PvXen {
    type Watch = XsWatch;

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
    async fn watch(&self, path: &str) -> Result<XsWatch, XenError> {
        self.store.watch(path).await
    }
}
