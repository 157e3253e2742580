//! The store of the simulated hypervisor: xenstore's tree, permissions, transactions and
//! watches, as the real daemon behaves (see the reference's measured transcript), in memory.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Inner, SimDomain};
use crate::abi::DomId;
use crate::abi::xs_wire::XENSTORE_ABS_PATH_MAX;
use crate::platform::{Access, Permission, Store, TxId, Watch, XenError};
use alloc::collections::{BTreeMap, VecDeque};
use alloc::rc::{Rc, Weak};
use async_trait::async_trait;
use core::cell::RefCell;
use core::future::poll_fn;
use core::task::{Poll, Waker};

/// Events a watch holds for a reader that does not keep up; older ones are dropped.
const WATCH_QUEUE: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    value: String,
    perms: Vec<Permission>,
}

type Nodes = BTreeMap<String, Node>;

struct Transaction {
    domain: DomId,
    nodes: Nodes,
    generation: u64,
    changed: Vec<String>,
}

#[derive(Default)]
pub(crate) struct Queue {
    events: RefCell<VecDeque<String>>,
    waker: RefCell<Option<Waker>>,
}

struct Registration {
    id: u64,
    domain: DomId,
    /// The absolute path watched.
    path: String,
    /// The prefix to strip from events when the watch was given a relative path.
    relative_to: Option<String>,
    queue: Rc<Queue>,
}

/// The whole store.
pub(crate) struct Tree {
    nodes: Nodes,
    generation: u64,
    transactions: BTreeMap<TxId, Transaction>,
    next_tx: TxId,
    watches: Vec<Registration>,
    next_watch: u64,
}

impl Default for Tree {
    fn default() -> Self {
        let mut nodes = Nodes::new();
        for path in ["/", "/local", "/local/domain"] {
            nodes.insert(
                path.into(),
                Node {
                    value: String::new(),
                    perms: vec![Permission {
                        domain: 0,
                        access: Access::None,
                    }],
                },
            );
        }
        Tree {
            nodes,
            generation: 0,
            transactions: BTreeMap::new(),
            next_tx: 1,
            watches: Vec::new(),
            next_watch: 0,
        }
    }
}

fn invalid() -> XenError {
    XenError::Store("EINVAL".into())
}

fn parent(path: &str) -> Option<&str> {
    match path.rfind('/') {
        Some(0) if path.len() > 1 => Some("/"),
        Some(0) | None => None,
        Some(at) => Some(&path[..at]),
    }
}

/// Whether `domain` may do `want` (read or write) on a node with `perms`.
fn allowed(perms: &[Permission], domain: DomId, write: bool) -> bool {
    if domain == 0 {
        return true;
    }
    let Some(owner) = perms.first() else {
        return false;
    };
    if owner.domain == domain {
        return true;
    }
    let access = perms[1..]
        .iter()
        .find(|p| p.domain == domain)
        .map_or(owner.access, |p| p.access);
    matches!(
        (access, write),
        (Access::Both, _) | (Access::Read, false) | (Access::Write, true)
    )
}

impl Tree {
    /// Makes `/local/domain/<id>`, owned by the domain, if it is not there.
    pub(crate) fn introduce(&mut self, id: DomId) {
        let home = format!("/local/domain/{id}");
        self.nodes.entry(home).or_insert(Node {
            value: String::new(),
            perms: vec![Permission {
                domain: id,
                access: Access::None,
            }],
        });
    }

    /// `path` made absolute for `domain`, and checked as xenstored checks it.
    fn absolute(domain: DomId, path: &str) -> Result<String, XenError> {
        let absolute = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/local/domain/{domain}/{path}")
        };
        let valid = absolute.len() <= XENSTORE_ABS_PATH_MAX
            && !absolute.contains("//")
            && (absolute == "/" || !absolute.ends_with('/'))
            && absolute
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_@-".contains(&b));
        if valid { Ok(absolute) } else { Err(invalid()) }
    }

    fn nodes(&mut self, tx: TxId, domain: DomId) -> Result<&mut Nodes, XenError> {
        if tx == 0 {
            return Ok(&mut self.nodes);
        }
        match self.transactions.get_mut(&tx) {
            Some(transaction) if transaction.domain == domain => Ok(&mut transaction.nodes),
            _ => Err(XenError::Store("ENOENT".into())),
        }
    }

    fn read_node(&mut self, tx: TxId, domain: DomId, path: &str) -> Result<Node, XenError> {
        let path = Self::absolute(domain, path)?;
        let node = self
            .nodes(tx, domain)?
            .get(&path)
            .cloned()
            .ok_or_else(|| XenError::NotFound(path.clone()))?;
        if !allowed(&node.perms, domain, false) {
            return Err(XenError::PermissionDenied(path));
        }
        Ok(node)
    }

    pub(crate) fn read(&mut self, tx: TxId, domain: DomId, path: &str) -> Result<String, XenError> {
        Ok(self.read_node(tx, domain, path)?.value)
    }

    pub(crate) fn directory(
        &mut self,
        tx: TxId,
        domain: DomId,
        path: &str,
    ) -> Result<Vec<String>, XenError> {
        let absolute = Self::absolute(domain, path)?;
        self.read_node(tx, domain, path)?;
        let prefix = if absolute == "/" {
            "/".to_owned()
        } else {
            format!("{absolute}/")
        };
        Ok(self
            .nodes(tx, domain)?
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .filter_map(|(key, _)| {
                let rest = &key[prefix.len()..];
                (!rest.is_empty() && !rest.contains('/')).then(|| rest.to_owned())
            })
            .collect())
    }

    pub(crate) fn get_perms(
        &mut self,
        tx: TxId,
        domain: DomId,
        path: &str,
    ) -> Result<Vec<Permission>, XenError> {
        Ok(self.read_node(tx, domain, path)?.perms)
    }

    /// Writes (or with `value: None`, makes if missing) `path`, making parents; records the
    /// change.
    pub(crate) fn write(
        &mut self,
        tx: TxId,
        domain: DomId,
        path: &str,
        value: Option<&str>,
    ) -> Result<(), XenError> {
        let path = Self::absolute(domain, path)?;
        let nodes = self.nodes(tx, domain)?;
        // Missing ancestors, nearest last; the nearest existing one must be writable.
        let mut missing = Vec::new();
        let mut at = path.as_str();
        while !nodes.contains_key(at) {
            missing.push(at.to_owned());
            at = parent(at).ok_or_else(invalid)?;
        }
        match nodes.get(&path) {
            Some(node) if !allowed(&node.perms, domain, true) => {
                return Err(XenError::PermissionDenied(path));
            }
            None if !allowed(&nodes[at].perms, domain, true) => {
                return Err(XenError::PermissionDenied(path));
            }
            _ => {}
        }
        let mut inherited = nodes[at].perms.clone();
        if domain != 0
            && let Some(owner) = inherited.first_mut()
        {
            owner.domain = domain;
        }
        for created in missing.iter().rev() {
            nodes.insert(
                created.clone(),
                Node {
                    value: String::new(),
                    perms: inherited.clone(),
                },
            );
        }
        if let Some(value) = value {
            nodes.get_mut(&path).expect("made above").value = value.to_owned();
        } else if missing.is_empty() {
            return Ok(()); // mkdir of an existing node changes nothing
        }
        self.changed(tx, path);
        Ok(())
    }

    pub(crate) fn rm(&mut self, tx: TxId, domain: DomId, path: &str) -> Result<(), XenError> {
        let path = Self::absolute(domain, path)?;
        if path == "/" {
            return Err(invalid());
        }
        let nodes = self.nodes(tx, domain)?;
        let Some(node) = nodes.get(&path) else {
            // Absent is fine, but not an absent parent (as xenstored answers).
            return match parent(&path).filter(|p| nodes.contains_key(*p)) {
                Some(_) => Ok(()),
                None => Err(XenError::NotFound(path)),
            };
        };
        if !allowed(&node.perms, domain, true) {
            return Err(XenError::PermissionDenied(path));
        }
        let prefix = format!("{path}/");
        nodes.retain(|key, _| key != &path && !key.starts_with(&prefix));
        self.changed(tx, path);
        Ok(())
    }

    pub(crate) fn set_perms(
        &mut self,
        tx: TxId,
        domain: DomId,
        path: &str,
        perms: &[Permission],
    ) -> Result<(), XenError> {
        if perms.is_empty() {
            return Err(invalid());
        }
        let path = Self::absolute(domain, path)?;
        let nodes = self.nodes(tx, domain)?;
        let node = nodes
            .get_mut(&path)
            .ok_or_else(|| XenError::NotFound(path.clone()))?;
        // Only the owner (or dom0) changes permissions.
        if domain != 0 && node.perms.first().map(|p| p.domain) != Some(domain) {
            return Err(XenError::PermissionDenied(path));
        }
        node.perms = perms.to_vec();
        self.changed(tx, path);
        Ok(())
    }

    pub(crate) fn transaction_start(&mut self, domain: DomId) -> TxId {
        let tx = self.next_tx;
        self.next_tx = self.next_tx.wrapping_add(1).max(1);
        self.transactions.insert(
            tx,
            Transaction {
                domain,
                nodes: self.nodes.clone(),
                generation: self.generation,
                changed: Vec::new(),
            },
        );
        tx
    }

    pub(crate) fn transaction_end(
        &mut self,
        domain: DomId,
        tx: TxId,
        commit: bool,
    ) -> Result<(), XenError> {
        match self.transactions.get(&tx) {
            Some(transaction) if transaction.domain == domain => {}
            _ => return Err(XenError::Store("ENOENT".into())),
        }
        let transaction = self.transactions.remove(&tx).expect("checked");
        if !commit {
            return Ok(());
        }
        // Anything committed since the transaction began is a conflict: run it again.
        if transaction.generation != self.generation {
            return Err(XenError::Again);
        }
        self.nodes = transaction.nodes;
        for path in transaction.changed {
            self.changed(0, path);
        }
        Ok(())
    }

    /// Records a change: at once outside a transaction, at commit inside one.
    fn changed(&mut self, tx: TxId, path: String) {
        if tx != 0 {
            if let Some(transaction) = self.transactions.get_mut(&tx) {
                transaction.changed.push(path);
            }
            return;
        }
        self.generation += 1;
        for watch in &self.watches {
            let under = path == watch.path
                || watch.path == "/"
                || path.starts_with(&format!("{}/", watch.path));
            if under {
                deliver(watch, &path);
            }
        }
    }

    pub(crate) fn watch(
        &mut self,
        domain: DomId,
        path: &str,
    ) -> Result<(u64, Rc<Queue>), XenError> {
        let absolute = Self::absolute(domain, path)?;
        let relative_to = (!path.starts_with('/')).then(|| format!("/local/domain/{domain}/"));
        let queue = Rc::new(Queue::default());
        let id = self.next_watch;
        self.next_watch += 1;
        let registration = Registration {
            id,
            domain,
            path: absolute.clone(),
            relative_to,
            queue: queue.clone(),
        };
        // xenstored fires every new watch once, at once.
        deliver(&registration, &absolute);
        self.watches.push(registration);
        Ok((id, queue))
    }

    fn unwatch(&mut self, id: u64) {
        self.watches.retain(|watch| watch.id != id);
    }

    /// Watches still registered, by domain (for leak reports).
    pub(crate) fn leaks(&self) -> Vec<String> {
        self.watches
            .iter()
            .map(|w| format!("watch on {} by domain {}", w.path, w.domain))
            .collect()
    }
}

fn deliver(watch: &Registration, path: &str) {
    let shown = match &watch.relative_to {
        Some(prefix) => path.strip_prefix(prefix.as_str()).unwrap_or(path),
        None => path,
    };
    let mut events = watch.queue.events.borrow_mut();
    if events.len() >= WATCH_QUEUE {
        events.pop_front();
    }
    events.push_back(shown.to_owned());
    if let Some(waker) = watch.queue.waker.borrow_mut().take() {
        waker.wake();
    }
}

/// A watch in the simulated store; unregistered when dropped.
pub struct SimWatch {
    xen: Weak<Inner>,
    id: u64,
    queue: Rc<Queue>,
}

#[async_trait(?Send)]
impl Watch for SimWatch {
    async fn next(&self) -> Result<String, XenError> {
        poll_fn(|cx| match self.queue.events.borrow_mut().pop_front() {
            Some(path) => Poll::Ready(Ok(path)),
            None => {
                if self.xen.strong_count() == 0 {
                    return Poll::Ready(Err(XenError::Other("the hypervisor is gone".into())));
                }
                *self.queue.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

impl Drop for SimWatch {
    fn drop(&mut self) {
        if let Some(xen) = self.xen.upgrade() {
            xen.store.borrow_mut().unwatch(self.id);
        }
    }
}

#[async_trait(?Send)]
impl Store for SimDomain {
    type Watch = SimWatch;

    async fn read(&self, tx: TxId, path: &str) -> Result<String, XenError> {
        self.xen.inner.store.borrow_mut().read(tx, self.id, path)
    }

    async fn write(&self, tx: TxId, path: &str, value: &str) -> Result<(), XenError> {
        self.xen
            .inner
            .store
            .borrow_mut()
            .write(tx, self.id, path, Some(value))
    }

    async fn mkdir(&self, tx: TxId, path: &str) -> Result<(), XenError> {
        self.xen
            .inner
            .store
            .borrow_mut()
            .write(tx, self.id, path, None)
    }

    async fn rm(&self, tx: TxId, path: &str) -> Result<(), XenError> {
        self.xen.inner.store.borrow_mut().rm(tx, self.id, path)
    }

    async fn directory(&self, tx: TxId, path: &str) -> Result<Vec<String>, XenError> {
        self.xen
            .inner
            .store
            .borrow_mut()
            .directory(tx, self.id, path)
    }

    async fn get_perms(&self, tx: TxId, path: &str) -> Result<Vec<Permission>, XenError> {
        self.xen
            .inner
            .store
            .borrow_mut()
            .get_perms(tx, self.id, path)
    }

    async fn set_perms(&self, tx: TxId, path: &str, perms: &[Permission]) -> Result<(), XenError> {
        self.xen
            .inner
            .store
            .borrow_mut()
            .set_perms(tx, self.id, path, perms)
    }

    async fn transaction_start(&self) -> Result<TxId, XenError> {
        Ok(self.xen.inner.store.borrow_mut().transaction_start(self.id))
    }

    async fn transaction_end(&self, tx: TxId, commit: bool) -> Result<(), XenError> {
        self.xen
            .inner
            .store
            .borrow_mut()
            .transaction_end(self.id, tx, commit)
    }

    async fn watch(&self, path: &str) -> Result<SimWatch, XenError> {
        let (id, queue) = self.xen.inner.store.borrow_mut().watch(self.id, path)?;
        Ok(SimWatch {
            xen: Rc::downgrade(&self.xen.inner),
            id,
            queue,
        })
    }
}
