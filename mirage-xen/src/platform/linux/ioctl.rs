//! The ioctls of Linux's `/dev/xen/{evtchn,gntdev,gntalloc}` (`include/uapi/xen/*.h`), and
//! calling them with the errno turned into a [`XenError`] that names the device.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::platform::XenError;
use std::os::fd::{AsRawFd, OwnedFd};

/// `_IOC(_IOC_NONE, kind, number, size)`.
const fn ioc(kind: u8, number: u8, size: usize) -> libc::c_ulong {
    ((size as libc::c_ulong) << 16) | ((kind as libc::c_ulong) << 8) | number as libc::c_ulong
}

#[repr(C)]
pub(crate) struct BindInterdomain {
    pub remote_domain: u32,
    pub remote_port: u32,
}

#[repr(C)]
pub(crate) struct BindUnbound {
    pub remote_domain: u32,
}

#[repr(C)]
pub(crate) struct PortArg {
    pub port: u32,
}

pub(crate) const EVTCHN_BIND_INTERDOMAIN: libc::c_ulong =
    ioc(b'E', 1, size_of::<BindInterdomain>());
pub(crate) const EVTCHN_BIND_UNBOUND_PORT: libc::c_ulong = ioc(b'E', 2, size_of::<BindUnbound>());
pub(crate) const EVTCHN_UNBIND: libc::c_ulong = ioc(b'E', 3, size_of::<PortArg>());
pub(crate) const EVTCHN_NOTIFY: libc::c_ulong = ioc(b'E', 4, size_of::<PortArg>());

#[repr(C)]
pub(crate) struct GntallocAlloc {
    pub domid: u16,
    pub flags: u16,
    pub count: u32,
    pub index: u64,
    pub gref_ids: [u32; 1],
}

#[repr(C)]
pub(crate) struct GntallocDealloc {
    pub index: u64,
    pub count: u32,
}

pub(crate) const GNTALLOC_FLAG_WRITABLE: u16 = 1;
pub(crate) const GNTALLOC_ALLOC_GREF: libc::c_ulong = ioc(b'G', 5, size_of::<GntallocAlloc>());
pub(crate) const GNTALLOC_DEALLOC_GREF: libc::c_ulong = ioc(b'G', 6, size_of::<GntallocDealloc>());

#[repr(C)]
pub(crate) struct GntdevGrantRef {
    pub domid: u32,
    pub gref: u32,
}

#[repr(C)]
pub(crate) struct GntdevMap {
    pub count: u32,
    pub pad: u32,
    pub index: u64,
    pub refs: [GntdevGrantRef; 1],
}

#[repr(C)]
pub(crate) struct GntdevUnmap {
    pub index: u64,
    pub count: u32,
    pub pad: u32,
}

/// `struct ioctl_gntdev_grant_copy_segment`: a virtual address or a foreign grant on each
/// side (`flags` says which), `len` bytes, and the hypervisor's status back.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct GntdevCopySegment {
    pub source: u64,
    pub dest: u64,
    pub len: u16,
    pub flags: u16,
    pub status: i16,
}

/// `struct ioctl_gntdev_grant_copy`.
#[repr(C)]
pub(crate) struct GntdevGrantCopy {
    pub count: u32,
    pub segments: *mut GntdevCopySegment,
}

/// The source of a copy segment is a grant (`GNTCOPY_source_gref`).
pub(crate) const GNTCOPY_SOURCE_GREF: u16 = 1;
/// The destination is a grant (`GNTCOPY_dest_gref`).
pub(crate) const GNTCOPY_DEST_GREF: u16 = 2;

pub(crate) const GNTDEV_GRANT_COPY: libc::c_ulong = ioc(b'G', 8, size_of::<GntdevGrantCopy>());

pub(crate) const GNTDEV_MAP_GRANT_REF: libc::c_ulong = ioc(b'G', 0, size_of::<GntdevMap>());
pub(crate) const GNTDEV_UNMAP_GRANT_REF: libc::c_ulong = ioc(b'G', 1, size_of::<GntdevUnmap>());

/// Calls ioctl `request` on `fd` with `arg`; its non-negative result, or the OS error said
/// with `what`.
pub(crate) fn call<T>(
    fd: &OwnedFd,
    request: libc::c_ulong,
    arg: &mut T,
    what: &str,
) -> Result<i32, XenError> {
    // SAFETY: `arg` is the `repr(C)` structure the request takes, alive for the call.
    let result = unsafe { libc::ioctl(fd.as_raw_fd(), request, arg as *mut T) };
    if result < 0 {
        Err(os_error(what))
    } else {
        Ok(result)
    }
}

/// The last OS error, said with `what`.
pub(crate) fn os_error(what: &str) -> XenError {
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::ENOMEM | libc::ENOSPC) => XenError::Exhausted(format!("{what}: {error}")),
        Some(libc::EPERM | libc::EACCES) => XenError::PermissionDenied(format!("{what}: {error}")),
        Some(libc::ENOENT | libc::ESRCH | libc::EINVAL) => {
            XenError::NotFound(format!("{what}: {error}"))
        }
        _ => XenError::Other(format!("{what}: {error}")),
    }
}

/// Opens `/dev/xen/<name>`; a missing device names the module that makes it.
pub(crate) fn open_device(name: &str, module: &str) -> Result<OwnedFd, XenError> {
    let path = format!("/dev/xen/{name}");
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map(OwnedFd::from)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => XenError::NotFound(format!(
                "{path} is missing: is this a Xen domain, and is the module loaded \
                 (`modprobe {module}`)?"
            )),
            _ => XenError::Other(format!("{path}: {error}")),
        })
}

/// Maps `pages` pages of `fd` at `offset` (shared; `writable` or read-only).
pub(crate) fn map_pages(
    fd: &OwnedFd,
    offset: u64,
    pages: usize,
    writable: bool,
    what: impl FnOnce() -> String,
) -> Result<*mut u8, XenError> {
    let protection = if writable {
        libc::PROT_READ | libc::PROT_WRITE
    } else {
        libc::PROT_READ
    };
    // SAFETY: a fresh shared mapping of the device at the offset its ioctl gave.
    let address = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            pages * crate::abi::PAGE_SIZE,
            protection,
            libc::MAP_SHARED,
            fd.as_raw_fd(),
            offset as libc::off_t,
        )
    };
    if address == libc::MAP_FAILED {
        // Said only on failure: the text is not built for every mapping.
        Err(os_error(&what()))
    } else {
        Ok(address.cast())
    }
}

/// Puts `device` in non-blocking mode and registers it with the current tokio runtime's
/// reactor; without a runtime (with I/O enabled) that is an error, not a panic.
pub(crate) fn register(
    device: OwnedFd,
    path: &str,
) -> Result<tokio::io::unix::AsyncFd<OwnedFd>, XenError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(XenError::Other(format!(
            "{path} needs a tokio runtime (with I/O enabled) to wait on"
        )));
    }
    // SAFETY: plain fcntl calls on a descriptor this owns.
    unsafe {
        let flags = libc::fcntl(device.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(device.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    // SAFETY: an `OwnedFd` keeps its descriptor open and the same until dropped, and the
    // `AsyncFd` owns it.
    unsafe { tokio::io::unix::AsyncFd::register(device) }
        .map_err(|e| XenError::Other(format!("{path}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers Linux's headers give (checked against `include/uapi/xen/*.h` by hand:
    /// sizes 8, 4, 4, 24, 16, 24, 16).
    #[test]
    fn request_numbers_match_linux() {
        assert_eq!(EVTCHN_BIND_INTERDOMAIN, 0x0008_4501);
        assert_eq!(EVTCHN_BIND_UNBOUND_PORT, 0x0004_4502);
        assert_eq!(EVTCHN_UNBIND, 0x0004_4503);
        assert_eq!(EVTCHN_NOTIFY, 0x0004_4504);
        assert_eq!(GNTALLOC_ALLOC_GREF, 0x0018_4705);
        assert_eq!(GNTALLOC_DEALLOC_GREF, 0x0010_4706);
        assert_eq!(GNTDEV_MAP_GRANT_REF, 0x0018_4700);
        assert_eq!(GNTDEV_UNMAP_GRANT_REF, 0x0010_4701);
        assert_eq!(GNTDEV_GRANT_COPY, 0x0010_4708);
        assert_eq!(size_of::<GntdevCopySegment>(), 24);
    }
}
