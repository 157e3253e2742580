//! Event channels from a Linux process: `/dev/xen/evtchn`, one descriptor for all of a
//! platform's ports, read without blocking a thread (tokio's `AsyncFd`).
//!
//! Reading the device yields the ports that fired (each masked until written back); whoever
//! waits reads it for everyone, marks those ports fired, unmasks them, and wakes every
//! waiter to look (the descriptor remembers only the last task to poll it, so all waiters
//! must poll again to be sure one of them is registered).

#[allow(unused_imports)]
use crate::prelude::*;

use super::ioctl::{self, BindInterdomain, BindUnbound, PortArg};
use crate::abi::DomId;
use crate::platform::{Port, XenError};
use async_trait::async_trait;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use tokio::io::unix::AsyncFd;

/// The device and what each bound port is waiting for.
pub(crate) struct Evtchn {
    device: AsyncFd<OwnedFd>,
    ports: RefCell<BTreeMap<u32, Pending>>,
}

#[derive(Default)]
struct Pending {
    fired: bool,
    waiter: Option<Waker>,
}

impl Evtchn {
    /// Opens `/dev/xen/evtchn` (needs a tokio runtime with I/O).
    pub(crate) fn open() -> Result<Rc<Self>, XenError> {
        let device = ioctl::open_device("evtchn", "xen-evtchn")?;
        let device = ioctl::register(device, "/dev/xen/evtchn")?;
        Ok(Rc::new(Evtchn {
            device,
            ports: RefCell::default(),
        }))
    }

    fn port(self: &Rc<Self>, number: u32) -> LinuxPort {
        self.ports.borrow_mut().insert(number, Pending::default());
        LinuxPort {
            evtchn: self.clone(),
            number,
        }
    }

    pub(crate) fn alloc_unbound(self: &Rc<Self>, remote: DomId) -> Result<LinuxPort, XenError> {
        let mut arg = BindUnbound {
            remote_domain: remote.into(),
        };
        let what = format!("allocating a port for domain {remote} (/dev/xen/evtchn)");
        let number = ioctl::call(
            self.device.get_ref(),
            ioctl::EVTCHN_BIND_UNBOUND_PORT,
            &mut arg,
            &what,
        )?;
        Ok(self.port(number as u32))
    }

    pub(crate) fn bind(self: &Rc<Self>, remote: DomId, port: u32) -> Result<LinuxPort, XenError> {
        let mut arg = BindInterdomain {
            remote_domain: remote.into(),
            remote_port: port,
        };
        let what = format!("binding to port {port} of domain {remote} (/dev/xen/evtchn)");
        let number = ioctl::call(
            self.device.get_ref(),
            ioctl::EVTCHN_BIND_INTERDOMAIN,
            &mut arg,
            &what,
        )?;
        Ok(self.port(number as u32))
    }

    /// Reads every fired port there is, unmasks them, and wakes every waiter.
    fn drain(&self, cx: &mut Context<'_>) {
        loop {
            let mut guard = match self.device.poll_read_ready(cx) {
                Poll::Ready(Ok(guard)) => guard,
                Poll::Ready(Err(_)) | Poll::Pending => return,
            };
            let mut fired = [0u32; 64];
            let read = guard.try_io(|device| {
                // SAFETY: reading into a buffer of the size given.
                let n = unsafe {
                    libc::read(
                        device.as_raw_fd(),
                        fired.as_mut_ptr().cast(),
                        size_of_val(&fired),
                    )
                };
                if n < 0 {
                    Err(std::io::Error::last_os_error())
                } else {
                    Ok(n as usize / 4)
                }
            });
            let count = match read {
                Ok(Ok(count)) => count,
                // Nothing more: the readiness was cleared; poll again to register.
                Err(_would_block) => continue,
                Ok(Err(_)) => return,
            };
            if count == 0 {
                return;
            }
            let mut ports = self.ports.borrow_mut();
            for number in &fired[..count] {
                if let Some(pending) = ports.get_mut(number) {
                    pending.fired = true;
                }
            }
            for pending in ports.values_mut() {
                if let Some(waker) = pending.waiter.take() {
                    waker.wake();
                }
            }
            drop(ports);
            // Unmask: the ports may fire again.
            // SAFETY: writing the port numbers read, as the device expects.
            unsafe {
                libc::write(
                    self.device.get_ref().as_raw_fd(),
                    fired.as_ptr().cast(),
                    count * 4,
                )
            };
        }
    }

    fn poll_wait(&self, number: u32, cx: &mut Context<'_>) -> Poll<()> {
        for _ in 0..2 {
            {
                let mut ports = self.ports.borrow_mut();
                let pending = ports.entry(number).or_default();
                if pending.fired {
                    pending.fired = false;
                    pending.waiter = None;
                    return Poll::Ready(());
                }
                pending.waiter = Some(cx.waker().clone());
            }
            self.drain(cx);
        }
        Poll::Pending
    }

    /// A waiter went away: the others poll again, so that one of them holds the device's
    /// readiness.
    fn wake_all(&self) {
        for pending in self.ports.borrow_mut().values_mut() {
            if let Some(waker) = pending.waiter.take() {
                waker.wake();
            }
        }
    }
}

/// A bound event channel of a Linux process: unbound when dropped.
pub struct LinuxPort {
    evtchn: Rc<Evtchn>,
    number: u32,
}

#[async_trait(?Send)]
impl Port for LinuxPort {
    fn number(&self) -> u32 {
        self.number
    }

    fn notify(&self) {
        let mut arg = PortArg { port: self.number };
        let _ = ioctl::call(
            self.evtchn.device.get_ref(),
            ioctl::EVTCHN_NOTIFY,
            &mut arg,
            "",
        );
    }

    async fn wait(&self) {
        struct Waiting<'a>(&'a LinuxPort, bool);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                if !self.1 {
                    self.0.evtchn.wake_all();
                }
            }
        }
        let mut waiting = Waiting(self, false);
        std::future::poll_fn(|cx| self.evtchn.poll_wait(self.number, cx)).await;
        waiting.1 = true;
    }
}

impl Drop for LinuxPort {
    fn drop(&mut self) {
        self.evtchn.ports.borrow_mut().remove(&self.number);
        let mut arg = PortArg { port: self.number };
        let _ = ioctl::call(
            self.evtchn.device.get_ref(),
            ioctl::EVTCHN_UNBIND,
            &mut arg,
            "",
        );
    }
}
