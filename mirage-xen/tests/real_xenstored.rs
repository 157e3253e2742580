//! Our xenstore client against a real `xenstored` (Debian's 4.17, started on this machine by
//! the workspace's tool `../shared/tools/xenstored/start.sh` under its shim), over the socket:
//! reads, writes, directories, permissions, watches and transactions; then the XenBus
//! handshake and a block device through it, the store being the real daemon.

use mirage_xen::platform::linux::XsSocket;
use mirage_xen::platform::{Access, Permission, Store, Watch, XenError};
use mirage_xen::xenstore::XsClient;

mod common;
use common::Daemon;
use std::path::{Path, PathBuf};

#[test]
fn the_client_speaks_to_a_real_xenstored() {
    let Some(daemon) = Daemon::start() else {
        return;
    };
    mirage_unix::run(async {
        let store = XsClient::new(XsSocket::connect(Some(&daemon.socket())).await.unwrap());
        store.write(0, "/mirage/a", "value-a").await.unwrap();
        assert_eq!(store.read(0, "/mirage/a").await.unwrap(), "value-a");
        store.mkdir(0, "/mirage/dir").await.unwrap();
        let mut names = store.directory(0, "/mirage").await.unwrap();
        names.sort();
        assert_eq!(names, ["a", "dir"]);
        assert!(matches!(
            store.read(0, "/mirage/none").await,
            Err(XenError::NotFound(_))
        ));
        assert!(
            matches!(store.write(0, "/bad//path", "x").await, Err(XenError::Store(e)) if e == "EINVAL")
        );

        let perms = [
            Permission {
                domain: 0,
                access: Access::Both,
            },
            Permission {
                domain: 5,
                access: Access::Read,
            },
        ];
        store.set_perms(0, "/mirage/a", &perms).await.unwrap();
        assert_eq!(store.get_perms(0, "/mirage/a").await.unwrap(), perms);

        // A watch fires at once, then on writes under it; events and replies interleave.
        let watch = store.watch("/mirage").await.unwrap();
        assert_eq!(watch.next().await.unwrap(), "/mirage");
        store.write(0, "/mirage/dir/x", "1").await.unwrap();
        assert_eq!(watch.next().await.unwrap(), "/mirage/dir/x");

        // A transaction that conflicts must be run again; a clean one lands.
        let tx = store.transaction_start().await.unwrap();
        store.write(tx, "/mirage/t", "in-tx").await.unwrap();
        assert!(
            store.read(0, "/mirage/t").await.is_err(),
            "not visible before commit"
        );
        let other = XsClient::new(XsSocket::connect(Some(&daemon.socket())).await.unwrap());
        other.write(0, "/mirage/t", "outside").await.unwrap();
        assert_eq!(store.transaction_end(tx, true).await, Err(XenError::Again));
        let tx = store.transaction_start().await.unwrap();
        store.write(tx, "/mirage/t", "in-tx").await.unwrap();
        store.transaction_end(tx, true).await.unwrap();
        assert_eq!(store.read(0, "/mirage/t").await.unwrap(), "in-tx");

        drop(watch);
        store.rm(0, "/mirage").await.unwrap();
        assert!(matches!(
            store.read(0, "/mirage/a").await,
            Err(XenError::NotFound(_))
        ));
    });
}

/// Makes vbd xvda of domain 5 with dom0 as backend over a MemBlock of `sectors`, and runs
/// the block conformance suite (with `seed`) through Blkfront and Blkback.
async fn conformance_through_xen<D: Store + Clone + 'static, G: Store + 'static>(
    dom0: Mixed<D>,
    guest: Mixed<G>,
    sectors: u64,
    seed: u64,
) {
    use mirage_types::Device;
    use mirage_xen::back::Blkback;
    use mirage_xen::front::Blkfront;
    use mirage_xen::xenbus::{DeviceKind, DevicePaths, create_device};
    let paths = DevicePaths::new(DeviceKind::Vbd, 5, 0, 51712);
    create_device(&dom0, &paths, &[("mode", "w")])
        .await
        .unwrap();
    let backend = Blkback::new(
        dom0.clone(),
        paths,
        mirage_block::MemBlock::new(512, sectors).unwrap(),
    );
    let frontend = async {
        let disk = Blkfront::connect(guest, 5, 51712).await.unwrap();
        mirage_block::conformance::run_all(&disk, seed)
            .await
            .unwrap();
        disk.disconnect().await;
    };
    let (served, ()) = futures::join!(backend.serve(), frontend);
    served.unwrap();
}

/// A domain whose grants and event channels are the simulated hypervisor's and whose store
/// is the real xenstored (each side connects to its socket, as dom0's processes do).
#[derive(Clone)]
struct Mixed<S> {
    sim: mirage_xen::platform::sim::SimDomain,
    store: S,
}

impl<S> mirage_xen::platform::GrantTable for Mixed<S> {
    type Grant = mirage_xen::platform::sim::SimGrant;
    type Mapping = mirage_xen::platform::sim::SimMapping;
    fn share(&self, domain: u16, readonly: bool) -> Result<Self::Grant, XenError> {
        self.sim.share(domain, readonly)
    }
    fn map(&self, domain: u16, gref: u32, writable: bool) -> Result<Self::Mapping, XenError> {
        self.sim.map(domain, gref, writable)
    }
}

impl<S> mirage_xen::platform::EventChannels for Mixed<S> {
    type Port = mirage_xen::platform::sim::SimPort;
    fn alloc_unbound(&self, remote: u16) -> Result<Self::Port, XenError> {
        self.sim.alloc_unbound(remote)
    }
    fn bind_interdomain(&self, remote: u16, port: u32) -> Result<Self::Port, XenError> {
        self.sim.bind_interdomain(remote, port)
    }
}

#[mirage_types::async_trait(?Send)]
impl<S: Store> Store for Mixed<S> {
    type Watch = S::Watch;
    async fn read(&self, tx: u32, path: &str) -> Result<String, XenError> {
        self.store.read(tx, path).await
    }
    async fn write(&self, tx: u32, path: &str, value: &str) -> Result<(), XenError> {
        self.store.write(tx, path, value).await
    }
    async fn mkdir(&self, tx: u32, path: &str) -> Result<(), XenError> {
        self.store.mkdir(tx, path).await
    }
    async fn rm(&self, tx: u32, path: &str) -> Result<(), XenError> {
        self.store.rm(tx, path).await
    }
    async fn directory(&self, tx: u32, path: &str) -> Result<Vec<String>, XenError> {
        self.store.directory(tx, path).await
    }
    async fn get_perms(&self, tx: u32, path: &str) -> Result<Vec<Permission>, XenError> {
        self.store.get_perms(tx, path).await
    }
    async fn set_perms(&self, tx: u32, path: &str, perms: &[Permission]) -> Result<(), XenError> {
        self.store.set_perms(tx, path, perms).await
    }
    async fn transaction_start(&self) -> Result<u32, XenError> {
        self.store.transaction_start().await
    }
    async fn transaction_end(&self, tx: u32, commit: bool) -> Result<(), XenError> {
        self.store.transaction_end(tx, commit).await
    }
    async fn watch(&self, path: &str) -> Result<Self::Watch, XenError> {
        self.store.watch(path).await
    }
}

#[test]
fn the_block_handshake_and_io_through_a_real_xenstored() {
    let Some(daemon) = Daemon::start() else {
        return;
    };
    let xen = mirage_xen::platform::sim::SimXen::new();
    mirage_unix::run(async {
        let connect =
            || async { XsClient::new(XsSocket::connect(Some(&daemon.socket())).await.unwrap()) };
        let dom0 = Mixed {
            sim: xen.domain(0),
            store: connect().await,
        };
        let guest = Mixed {
            sim: xen.domain(5),
            store: connect().await,
        };
        conformance_through_xen(dom0, guest, 256, 3).await;
    });
    assert_eq!(xen.leaks(), Vec::<String>::new());
}

/// The guest's xenstore page as the shim "grants" it: a 4 KiB file, mapped shared.
struct FilePage {
    ptr: *mut u8,
}

impl FilePage {
    fn create(path: &Path) -> FilePage {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .unwrap();
        file.set_len(4096).unwrap();
        use std::os::fd::AsRawFd;
        // SAFETY: a fresh shared mapping of a 4 KiB file we made; checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED);
        FilePage { ptr: ptr.cast() }
    }
}

// SAFETY: a page-aligned 4 KiB mapping, unmapped only on drop.
unsafe impl mirage_xen::ring::SharedMemory for FilePage {
    fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }
    fn len(&self) -> usize {
        4096
    }
}

impl Drop for FilePage {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `create`.
        unsafe { libc::munmap(self.ptr.cast(), 4096) };
    }
}

/// The guest's event channel as the shim does it: a datagram carrying the port number.
struct DatagramPort {
    socket: tokio::net::UnixDatagram,
    xenstored: PathBuf,
    number: u32,
}

#[mirage_types::async_trait(?Send)]
impl mirage_xen::platform::Port for DatagramPort {
    fn number(&self) -> u32 {
        self.number
    }
    fn notify(&self) {
        let _ = self
            .socket
            .try_send_to(&self.number.to_le_bytes(), &self.xenstored);
    }
    async fn wait(&self) {
        let mut port = [0u8; 4];
        let _ = self.socket.recv(&mut port).await;
    }
}

/// Domain 5's xenstore page and event channel as the shim serves them, made before
/// xenstored is told of the domain (port 3, as introduced).
fn guest_page_and_port(fakexen: &Path) -> (FilePage, DatagramPort) {
    let page = FilePage::create(&fakexen.join("dom5-gnt1"));
    let port = DatagramPort {
        socket: tokio::net::UnixDatagram::bind(fakexen.join("dom5.evtchn")).unwrap(),
        xenstored: fakexen.join("xenstored.evtchn"),
        number: 3,
    };
    (page, port)
}

/// Makes domain 5's home (owned by it, readable by dom0) and introduces it on port 3.
async fn introduce_guest(dom0: &std::rc::Rc<XsClient<XsSocket>>) {
    dom0.mkdir(0, "/local/domain/5").await.unwrap();
    let home = [
        Permission {
            domain: 5,
            access: Access::None,
        },
        Permission {
            domain: 0,
            access: Access::Read,
        },
    ];
    dom0.set_perms(0, "/local/domain/5", &home).await.unwrap();
    dom0.introduce(5, 1234, 3).await.unwrap();
}

#[test]
fn a_guest_speaks_to_a_real_xenstored_through_its_ring() {
    let Some(daemon) = Daemon::start() else {
        return;
    };
    let fakexen = daemon.dir.path().join("run/fakexen");
    mirage_unix::run(async {
        let dom0 = XsClient::new(XsSocket::connect(Some(&daemon.socket())).await.unwrap());
        // The guest's page and doorbell exist before xenstored is told of it.
        let (page, port) = guest_page_and_port(&fakexen);
        introduce_guest(&dom0).await;
        dom0.write(0, "/local/domain/5/name", "mirage-guest")
            .await
            .unwrap();
        dom0.write(0, "/local/domain/0/secret", "s").await.unwrap();

        let guest = XsClient::new(mirage_xen::xenstore::XsRing::new(page, port));
        assert_eq!(guest.read(0, "name").await.unwrap(), "mirage-guest");
        assert!(matches!(
            guest.read(0, "/local/domain/0/secret").await,
            Err(XenError::PermissionDenied(_))
        ));
        // Relative watches give relative events; a dom0 write reaches the guest.
        let watch = guest.watch("data").await.unwrap();
        assert_eq!(watch.next().await.unwrap(), "data");
        guest.write(0, "data/foo", "bar").await.unwrap();
        assert_eq!(watch.next().await.unwrap(), "data/foo");
        assert_eq!(
            dom0.read(0, "/local/domain/5/data/foo").await.unwrap(),
            "bar"
        );
        let tx = guest.transaction_start().await.unwrap();
        guest.write(tx, "data/t", "1").await.unwrap();
        guest.transaction_end(tx, true).await.unwrap();
        assert_eq!(watch.next().await.unwrap(), "data/t");
        // More than the ring holds, in one request (a guest may write values up to 2 KiB).
        let big = "v".repeat(2000);
        guest.write(0, "data/big", &big).await.unwrap();
        assert_eq!(dom0.read(0, "/local/domain/5/data/big").await.unwrap(), big);
    });
}

#[test]
fn a_backend_on_the_socket_drives_a_frontend_on_the_ring() {
    let Some(daemon) = Daemon::start() else {
        return;
    };
    let fakexen = daemon.dir.path().join("run/fakexen");
    let xen = mirage_xen::platform::sim::SimXen::new();
    mirage_unix::run(async {
        let socket = XsClient::new(XsSocket::connect(Some(&daemon.socket())).await.unwrap());
        let (page, port) = guest_page_and_port(&fakexen);
        introduce_guest(&socket).await;
        let dom0 = Mixed {
            sim: xen.domain(0),
            store: socket,
        };
        let guest = Mixed {
            sim: xen.domain(5),
            store: XsClient::new(mirage_xen::xenstore::XsRing::new(page, port)),
        };
        conformance_through_xen(dom0, guest, 128, 5).await;
    });
    assert_eq!(xen.leaks(), Vec::<String>::new());
}

/// Our client and an independent one (xenstore-rs, a dev-dependency only) see the same
/// store: what one writes the other reads, lists and removes.
#[test]
fn xenstore_rs_and_our_client_agree() {
    use xenstore_rs::Xs;
    let Some(daemon) = Daemon::start() else {
        return;
    };
    // xenstore-rs finds the socket through XENSTORED_PATH (only this test uses it).
    // SAFETY: set before any thread of this test reads the environment.
    unsafe { std::env::set_var("XENSTORED_PATH", daemon.socket()) };
    let theirs = xenstore_rs::unix::XsUnix::new().unwrap();
    mirage_unix::run(async {
        let ours = XsClient::new(XsSocket::connect(Some(&daemon.socket())).await.unwrap());
        ours.write(0, "/check/ours", "from-mirage").await.unwrap();
        assert_eq!(&*theirs.read("/check/ours").unwrap(), "from-mirage");
        theirs.write("/check/theirs", "from-xenstore-rs").unwrap();
        assert_eq!(
            ours.read(0, "/check/theirs").await.unwrap(),
            "from-xenstore-rs"
        );
        let mut listed: Vec<String> = theirs
            .directory("/check")
            .unwrap()
            .iter()
            .map(|name| name.to_string())
            .collect();
        listed.sort();
        let mut ours_listed = ours.directory(0, "/check").await.unwrap();
        ours_listed.sort();
        assert_eq!(listed, ours_listed);
        theirs.rm("/check").unwrap();
        assert!(matches!(
            ours.read(0, "/check/ours").await,
            Err(XenError::NotFound(_))
        ));
    });
}
