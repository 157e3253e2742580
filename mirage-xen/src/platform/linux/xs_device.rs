//! `/dev/xen/xenbus` as a xenstore transport: the store from a process in any domain (the
//! kernel relays the wire protocol to xenstored).

#[allow(unused_imports)]
use crate::prelude::*;

use super::ioctl;
use crate::platform::XenError;
use crate::xenstore::XsTransport;
use async_trait::async_trait;
use std::os::fd::{AsRawFd, OwnedFd};
use tokio::io::unix::AsyncFd;

/// The kernel's xenstore device, read and written without blocking a thread.
pub struct XsDevice {
    device: AsyncFd<OwnedFd>,
}

impl XsDevice {
    /// Opens `/dev/xen/xenbus` (needs a tokio runtime with I/O).
    pub fn open() -> Result<Self, XenError> {
        let device = ioctl::open_device("xenbus", "xenfs or xen-xenbus")?;
        let device = ioctl::register(device, "/dev/xen/xenbus")?;
        Ok(XsDevice { device })
    }
}

fn io_error(error: std::io::Error) -> XenError {
    XenError::Other(format!("/dev/xen/xenbus: {error}"))
}

#[async_trait(?Send)]
impl XsTransport for XsDevice {
    /// Writes at once: the device takes a whole message in one write and never blocks (its
    /// `poll` never reports it writable, so waiting for that would wait for ever).
    async fn send(&self, mut bytes: &[u8]) -> Result<(), XenError> {
        while !bytes.is_empty() {
            // SAFETY: writing from a live buffer of the length given.
            let n = unsafe {
                libc::write(
                    self.device.get_ref().as_raw_fd(),
                    bytes.as_ptr().cast(),
                    bytes.len(),
                )
            };
            if n < 0 {
                return Err(io_error(std::io::Error::last_os_error()));
            }
            bytes = &bytes[n as usize..];
        }
        Ok(())
    }

    async fn recv(&self, buffer: &mut Vec<u8>) -> Result<(), XenError> {
        let mut chunk = [0u8; 4096];
        loop {
            let mut guard = self.device.readable().await.map_err(io_error)?;
            let read = guard.try_io(|device| {
                // SAFETY: reading into a buffer of the size given.
                let n = unsafe {
                    libc::read(device.as_raw_fd(), chunk.as_mut_ptr().cast(), chunk.len())
                };
                if n < 0 {
                    Err(std::io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match read {
                Ok(Ok(0)) => return Err(XenError::Other("/dev/xen/xenbus was closed".into())),
                Ok(Ok(n)) => {
                    buffer.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Ok(Err(error)) => return Err(io_error(error)),
                Err(_would_block) => {}
            }
        }
    }
}
