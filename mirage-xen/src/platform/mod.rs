//! What the protocol layers need of a platform: grants, event channels and the store.
//!
//! Three platforms implement these: the simulated hypervisor here ([`sim`]), Linux
//! processes in a Xen domain (`/dev/xen/*`), and the PV unikernel runtime. The protocol code
//! (rings, XenBus, frontends, backends) is generic over them and waits only on their futures.

#[allow(unused_imports)]
use crate::prelude::*;

pub(crate) mod events;
#[cfg(feature = "linux")]
pub mod linux;
pub mod sim;

use crate::abi::{DomId, GrantRef};
use crate::ring::SharedMemory;
use async_trait::async_trait;
use core::fmt;

/// Why a platform operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum XenError {
    /// No such grant, port, domain or store node.
    NotFound(String),
    /// Not permitted (a read-only grant mapped writable, a store node of another domain).
    PermissionDenied(String),
    /// The grant table or the event channels are exhausted.
    Exhausted(String),
    /// A store transaction conflicted with another: run it again.
    Again,
    /// The store refused the request, with its error name (`EINVAL`, `EEXIST`, ...).
    Store(String),
    /// The platform failed otherwise, described.
    Other(String),
}

impl fmt::Display for XenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XenError::NotFound(what) => write!(f, "not found: {what}"),
            XenError::PermissionDenied(what) => write!(f, "permission denied: {what}"),
            XenError::Exhausted(what) => write!(f, "exhausted: {what}"),
            XenError::Again => write!(f, "the transaction conflicted: run it again"),
            XenError::Store(name) => write!(f, "the store refused: {name}"),
            XenError::Other(what) => write!(f, "{what}"),
        }
    }
}

impl core::error::Error for XenError {}

/// A page of this domain granted to another: shared until dropped (which ends the access).
pub trait Grant: SharedMemory {
    /// The reference the peer maps it by.
    fn gref(&self) -> GrantRef;
}

/// Part of a page another domain granted: `len` bytes from `offset` of grant `gref`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantPiece {
    /// The grant.
    pub gref: GrantRef,
    /// Where in its page the piece starts.
    pub offset: u16,
    /// Its length (the piece stays within the page).
    pub len: u16,
}

/// Sharing pages with other domains, and mapping theirs.
pub trait GrantTable {
    /// A page this domain shares.
    type Grant: Grant;
    /// A page of another domain mapped here: unmapped when dropped.
    type Mapping: SharedMemory;

    /// Allocates a zeroed page and grants `domain` access to it (`readonly`: it may only
    /// read).
    fn share(&self, domain: DomId, readonly: bool) -> Result<Self::Grant, XenError>;

    /// Maps page `gref` that `domain` granted this domain (`writable`: needs a writable
    /// grant).
    fn map(&self, domain: DomId, gref: GrantRef, writable: bool)
    -> Result<Self::Mapping, XenError>;

    /// Copies `pieces` of `domain`'s granted pages, one after another, into `into` (as long
    /// as the pieces together). Platforms with a hypervisor copy (Linux: gntdev's grant
    /// copy, one system call for the lot, nothing mapped) override it; this one maps.
    fn copy_from_grants(
        &self,
        domain: DomId,
        pieces: &[GrantPiece],
        into: &mut [u8],
    ) -> Result<(), XenError> {
        check_pieces(pieces, into.len())?;
        let mut at = 0;
        for piece in pieces {
            let page = self.map(domain, piece.gref, false)?;
            let (offset, len) = (usize::from(piece.offset), usize::from(piece.len));
            // SAFETY: a mapped page, the piece inside it (checked).
            let source = unsafe { core::slice::from_raw_parts(page.as_ptr().add(offset), len) };
            into[at..at + len].copy_from_slice(source);
            at += len;
        }
        Ok(())
    }

    /// Copies `from` into `pieces` of `domain`'s granted pages, one after another (the
    /// reverse of [`GrantTable::copy_from_grants`]; the grants must be writable).
    fn copy_to_grants(
        &self,
        domain: DomId,
        from: &[u8],
        pieces: &[GrantPiece],
    ) -> Result<(), XenError> {
        check_pieces(pieces, from.len())?;
        let mut at = 0;
        for piece in pieces {
            let page = self.map(domain, piece.gref, true)?;
            let (offset, len) = (usize::from(piece.offset), usize::from(piece.len));
            // SAFETY: a page mapped writable, the piece inside it (checked).
            let target = unsafe { core::slice::from_raw_parts_mut(page.as_ptr().add(offset), len) };
            target.copy_from_slice(&from[at..at + len]);
            at += len;
        }
        Ok(())
    }
}

/// Whether `pieces` each stay within a page and together are `bytes` long.
pub(crate) fn check_pieces(pieces: &[GrantPiece], bytes: usize) -> Result<(), XenError> {
    if let Some(piece) = pieces
        .iter()
        .find(|p| usize::from(p.offset) + usize::from(p.len) > crate::abi::PAGE_SIZE)
    {
        return Err(XenError::Other(format!("{piece:?} crosses its page's end")));
    }
    let total: usize = pieces.iter().map(|p| usize::from(p.len)).sum();
    if total != bytes {
        return Err(XenError::Other(format!(
            "the pieces hold {total} bytes, the buffer {bytes}"
        )));
    }
    Ok(())
}

/// One end of an event channel: a doorbell. Closed when dropped.
#[async_trait(?Send)]
pub trait Port {
    /// This end's port number (what is written to the store for the peer to bind).
    fn number(&self) -> u32;

    /// Rings the peer.
    fn notify(&self);

    /// Waits until the peer has rung since the last wait (events that came meanwhile are
    /// not lost; several merge into one, as on Xen).
    async fn wait(&self);
}

/// Making event channels.
pub trait EventChannels {
    /// This platform's ports.
    type Port: Port + 'static;

    /// A fresh port that `remote` may bind to (`EVTCHNOP_alloc_unbound`).
    fn alloc_unbound(&self, remote: DomId) -> Result<Self::Port, XenError>;

    /// Binds to port `remote_port` that `remote` allocated for this domain
    /// (`EVTCHNOP_bind_interdomain`).
    fn bind_interdomain(&self, remote: DomId, remote_port: u32) -> Result<Self::Port, XenError>;
}

/// Everything a frontend or backend needs of its platform, in one bound. Platforms are
/// handles that own what they use (`'static`), so a device can keep waiting on them.
pub trait Platform: GrantTable + EventChannels + Store + 'static {}

impl<T: GrantTable + EventChannels + Store + 'static> Platform for T {}

/// A store transaction: 0 is none.
pub type TxId = u32;

/// Access to a store node, as `r5` (read for domain 5) in xenstore's syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No access.
    None,
    /// Read only.
    Read,
    /// Write only.
    Write,
    /// Read and write.
    Both,
}

/// A node's permissions: the first entry's domain owns it and its access is everyone
/// else's; later entries grant particular domains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// The domain.
    pub domain: DomId,
    /// What it may do.
    pub access: Access,
}

impl Permission {
    /// xenstore's text form: `n0`, `r5`, `w1`, `b3`.
    pub fn to_wire(&self) -> String {
        let letter = match self.access {
            Access::None => 'n',
            Access::Read => 'r',
            Access::Write => 'w',
            Access::Both => 'b',
        };
        format!("{letter}{}", self.domain)
    }

    /// Parses xenstore's text form.
    pub fn from_wire(text: &str) -> Option<Permission> {
        let mut chars = text.chars();
        let access = match chars.next()? {
            'n' => Access::None,
            'r' => Access::Read,
            'w' => Access::Write,
            'b' => Access::Both,
            _ => return None,
        };
        Some(Permission {
            domain: chars.as_str().parse().ok()?,
            access,
        })
    }
}

/// A watch registered with the store: it yields the paths that changed.
#[async_trait(?Send)]
pub trait Watch {
    /// The next path at or under the watched one that changed (the first event comes at
    /// once, for the watched path itself, as xenstored does).
    async fn next(&self) -> Result<String, XenError>;
}

/// The xenstore, as one domain sees it.
#[async_trait(?Send)]
pub trait Store {
    /// This store's watches.
    type Watch: Watch + 'static;

    /// The value at `path`.
    async fn read(&self, tx: TxId, path: &str) -> Result<String, XenError>;
    /// Writes `value` at `path`, making missing parents.
    async fn write(&self, tx: TxId, path: &str, value: &str) -> Result<(), XenError>;
    /// Makes the node `path`.
    async fn mkdir(&self, tx: TxId, path: &str) -> Result<(), XenError>;
    /// Removes `path` and everything under it.
    async fn rm(&self, tx: TxId, path: &str) -> Result<(), XenError>;
    /// The names of `path`'s children.
    async fn directory(&self, tx: TxId, path: &str) -> Result<Vec<String>, XenError>;
    /// `path`'s permissions.
    async fn get_perms(&self, tx: TxId, path: &str) -> Result<Vec<Permission>, XenError>;
    /// Sets `path`'s permissions.
    async fn set_perms(&self, tx: TxId, path: &str, perms: &[Permission]) -> Result<(), XenError>;
    /// Starts a transaction.
    async fn transaction_start(&self) -> Result<TxId, XenError>;
    /// Ends a transaction, committing it or not; [`XenError::Again`] if it conflicted.
    async fn transaction_end(&self, tx: TxId, commit: bool) -> Result<(), XenError>;
    /// Watches `path` and everything under it.
    async fn watch(&self, path: &str) -> Result<Self::Watch, XenError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_round_trip_their_wire_form() {
        for text in ["n0", "r5", "w1", "b32752"] {
            assert_eq!(Permission::from_wire(text).unwrap().to_wire(), text);
        }
        for junk in ["", "x1", "r", "r-1", "r70000"] {
            assert_eq!(Permission::from_wire(junk), None, "{junk}");
        }
    }
}
