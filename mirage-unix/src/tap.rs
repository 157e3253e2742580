//! `Tap`: a `Network` over a Linux tap device (`/dev/net/tun`).

use bytes::Bytes;
use mirage_types::{
    Device, ETHERNET_HEADER_LEN, FrameHandler, IoError, MacAddr, NetError, Network, Stats,
    StatsCounter, async_trait,
};
use rand::Rng;
use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use tokio::io::unix::AsyncFd;
use tokio::io::{Interest, Ready};
use tokio::sync::Notify;

/// `TUNSETIFF`: attach the descriptor to a named tun/tap interface.
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;
/// `SIOCGIFMTU`: an interface's MTU.
const SIOCGIFMTU: libc::c_ulong = 0x8921;

/// `struct ifreq` as `SIOCGIFMTU` fills it.
#[repr(C)]
struct IfReqMtu {
    name: [u8; libc::IFNAMSIZ],
    mtu: libc::c_int,
    _pad: [u8; 20],
}

/// The MTU the host gave interface `name` (`ip link set NAME mtu N`; 1500 by default).
fn interface_mtu(name: &str) -> io::Result<usize> {
    // SAFETY: a fresh socket, owned at once; only used for the ioctl.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a descriptor this owns.
    let socket = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut request = IfReqMtu {
        name: [0; libc::IFNAMSIZ],
        mtu: 0,
        _pad: [0; 20],
    };
    request.name[..name.len()].copy_from_slice(name.as_bytes());
    // SAFETY: SIOCGIFMTU fills an ifreq.
    if unsafe { libc::ioctl(socket.as_raw_fd(), SIOCGIFMTU as _, &mut request) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(request.mtu).unwrap_or(0).max(68))
}

/// `struct ifreq` as `TUNSETIFF` reads it.
#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// A tap device: raw Ethernet frames to and from the host kernel (Mirage's `Netif` on Unix,
/// `--network tap0`).
///
/// The host sees the device as an interface (give it an address, e.g. `10.0.0.1/24`); the
/// stack on this side uses its own MAC address, a random locally administered one.
pub struct Tap {
    fd: AsyncFd<OwnedFd>,
    name: String,
    mac: MacAddr,
    /// The interface's MTU when it was opened.
    mtu: usize,
    stats: StatsCounter,
    disconnected: Cell<bool>,
    stop: Notify,
    /// Where frames are read before being copied out at their own length.
    receive_buffer: std::cell::RefCell<Box<[u8]>>,
}

impl Tap {
    /// Attaches to the existing tap device `name` (a mistyped name is an error, never a new
    /// unconfigured device). Must be called inside a tokio runtime. The error names the fix
    /// when the device cannot be opened.
    pub fn open(name: &str) -> Result<Tap, NetError> {
        Self::attach(name, false)
    }

    /// Attaches to the tap device `name`, creating it if it does not exist (which needs
    /// `CAP_NET_ADMIN`; the new device has no address and is down until configured).
    pub fn create(name: &str) -> Result<Tap, NetError> {
        Self::attach(name, true)
    }

    fn attach(name: &str, may_create: bool) -> Result<Tap, NetError> {
        if name.is_empty()
            || name.len() >= libc::IFNAMSIZ
            || name.contains('/')
            || name.contains('\0')
        {
            return Err(NetError::Unknown(format!(
                "{name:?} is not a valid interface name"
            )));
        }
        let c_name = std::ffi::CString::new(name).expect("checked for NUL");
        // SAFETY: a NUL-terminated name.
        if !may_create && unsafe { libc::if_nametoindex(c_name.as_ptr()) } == 0 {
            return Err(NetError::Unknown(format!(
                "tap device {name} does not exist: create it with `ip tuntap add {name} mode tap \
                 user $USER` and give it an address (see the README), or ask for it to be created"
            )));
        }
        // SAFETY: a NUL-terminated literal path; the result is checked.
        let raw = unsafe {
            libc::open(
                c"/dev/net/tun".as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if raw < 0 {
            let error = io::Error::last_os_error();
            return Err(NetError::Unknown(match error.raw_os_error() {
                Some(libc::ENOENT) | Some(libc::ENXIO) | Some(libc::ENODEV) => format!(
                    "/dev/net/tun is missing ({error}): load the tun module (modprobe tun) or \
                     create the node (mknod /dev/net/tun c 10 200)"
                ),
                _ => format!(
                    "cannot open /dev/net/tun: {error} (run as root, or give this user access)"
                ),
            }));
        }
        // SAFETY: a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut request = IfReq {
            name: [0; libc::IFNAMSIZ],
            flags: IFF_TAP | IFF_NO_PI,
            _pad: [0; 22],
        };
        request.name[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: TUNSETIFF reads an ifreq.
        if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF as _, &mut request) } < 0 {
            let error = io::Error::last_os_error();
            return Err(NetError::Unknown(match error.raw_os_error() {
                Some(libc::EPERM) | Some(libc::EACCES) => format!(
                    "cannot attach tap device {name}: {error}. Creating it needs CAP_NET_ADMIN: \
                     run as root, or create it first with `ip tuntap add {name} mode tap user $USER`"
                ),
                Some(libc::EBUSY) => format!("tap device {name} is in use by another process"),
                _ => format!("cannot attach tap device {name}: {error}"),
            }));
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(NetError::Unknown(format!(
                "tap device {name}: open it inside a tokio runtime"
            )));
        }
        // SAFETY: an OwnedFd is a valid descriptor, open and unchanged for as long as it lives.
        let fd =
            unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE | Interest::WRITABLE) }
                .map_err(|e| {
                    NetError::Io(IoError::new(
                        format!("tap device {name}"),
                        std::io::Error::from(e),
                    ))
                })?;
        let mtu = interface_mtu(name)
            .map_err(|e| NetError::Io(IoError::new(format!("the MTU of tap device {name}"), e)))?;
        let mut mac = [0u8; 6];
        rand::rng().fill(&mut mac);
        mac[0] = (mac[0] & 0xfe) | 0x02; // unicast, locally administered
        Ok(Tap {
            fd,
            name: name.to_owned(),
            mac: MacAddr(mac),
            mtu,
            stats: StatsCounter::default(),
            disconnected: Cell::new(false),
            stop: Notify::new(),
            // Room for the largest frame a tap device carries (MTU 65535), whatever the
            // host sets the MTU to later.
            receive_buffer: std::cell::RefCell::new(vec![0u8; 65_535 + ETHERNET_HEADER_LEN].into()),
        })
    }

    /// The interface's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The error that ends `listen`: the device failed, most likely because it was deleted.
    fn gone(&self, error: io::Error) -> NetError {
        let context = if error.raw_os_error() == Some(libc::EBADFD) {
            format!(
                "tap device {} is gone (deleted with `ip link del`?)",
                self.name
            )
        } else {
            format!("tap device {}", self.name)
        };
        NetError::Io(IoError::new(context, error))
    }

    /// Reads every frame waiting, without blocking.
    fn read_ready(&self, frames: &mut Vec<Bytes>) -> io::Result<()> {
        let mut buf = self.receive_buffer.borrow_mut();
        loop {
            // SAFETY: reads into a buffer of the length given.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                let error = io::Error::last_os_error();
                return match error.kind() {
                    io::ErrorKind::WouldBlock => Err(error),
                    io::ErrorKind::Interrupted => continue,
                    _ => Err(error),
                };
            }
            frames.push(Bytes::copy_from_slice(&buf[..n as usize]));
        }
    }
}

#[async_trait(?Send)]
impl Device for Tap {
    async fn disconnect(&self) {
        self.disconnected.set(true);
        self.stop.notify_one();
    }
}

#[async_trait(?Send)]
impl Network for Tap {
    async fn write(&self, frame: &[u8]) -> Result<(), NetError> {
        if self.disconnected.get() {
            return Err(NetError::Disconnected);
        }
        let max = self.mtu + ETHERNET_HEADER_LEN;
        if frame.len() < ETHERNET_HEADER_LEN || frame.len() > max {
            return Err(NetError::InvalidLength {
                len: frame.len(),
                max,
            });
        }
        loop {
            let mut guard = self
                .fd
                .writable()
                .await
                .map_err(|e| NetError::Io(IoError::new(self.name.clone(), e)))?;
            let written = guard.try_io(|fd| {
                // SAFETY: writes the frame's bytes.
                let n = unsafe { libc::write(fd.as_raw_fd(), frame.as_ptr().cast(), frame.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match written {
                Ok(Ok(_)) => {
                    self.stats.sent(frame.len());
                    return Ok(());
                }
                Ok(Err(error)) => return Err(NetError::Io(IoError::new(self.name.clone(), error))),
                Err(_would_block) => continue,
            }
        }
    }

    async fn listen(&self, handler: FrameHandler) -> Result<(), NetError> {
        let mut frames = Vec::new();
        loop {
            if self.disconnected.get() {
                return Ok(());
            }
            tokio::select! {
                // Error readiness too: a device deleted under us reports only that.
                ready = self.fd.ready(Interest::READABLE | Interest::ERROR) => {
                    let mut guard = ready.map_err(|e| NetError::Io(IoError::new(self.name.clone(), e)))?;
                    match self.read_ready(&mut frames) {
                        Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                            if guard.ready().is_error() {
                                return Err(self.gone(io::Error::other("the device reports an error")));
                            }
                            guard.clear_ready_matching(Ready::READABLE);
                        }
                        Err(error) => return Err(self.gone(error)),
                        Ok(()) => {}
                    }
                }
                () = self.stop.notified() => continue,
            }
            for frame in frames.drain(..) {
                self.stats.received(frame.len());
                handler(frame).await;
            }
        }
    }

    fn mac(&self) -> MacAddr {
        self.mac
    }

    /// The interface's MTU as the host had set it when the device was opened.
    fn mtu(&self) -> usize {
        self.mtu
    }

    fn get_stats_counters(&self) -> Stats {
        self.stats.get()
    }

    fn reset_stats_counters(&self) {
        self.stats.reset();
    }
}
