//! Event channels: ports this kernel binds (`EVTCHNOP_*`), rung with `EVTCHNOP_send` and
//! waited on through the executor.

use crate::hypercall::{EVENT_CHANNEL_OP, evtchn, hypercall2, notify};
use crate::shared_info::take_pending;
use alloc::boxed::Box;
use async_trait::async_trait;
use core::future::poll_fn;
use core::task::Poll;
use mirage_unikernel::executor::{forget_event as forget_port, wait_event as wait_port};
use mirage_xen::abi::DomId;
use mirage_xen::platform::{Port, XenError};

/// `DOMID_SELF`.
const DOMID_SELF: u16 = 0x7ff0;

/// One end of an event channel in this kernel.
#[derive(Debug)]
pub struct PvPort {
    number: u32,
    /// Closed when dropped (the console's and the store's ports, which Xen bound at boot,
    /// are not).
    owned: bool,
}

impl PvPort {
    /// A port Xen bound before boot (start_info's console and store ports).
    pub(crate) fn preset(number: u32) -> Self {
        PvPort {
            number,
            owned: false,
        }
    }
}

fn failed(what: &str, rc: i64) -> XenError {
    match rc {
        -28 => XenError::Exhausted(alloc::format!("{what}: no free port (ENOSPC)")),
        -3 | -22 => XenError::NotFound(alloc::format!("{what}: no such port or domain ({rc})")),
        -1 | -13 => XenError::PermissionDenied(alloc::format!("{what}: refused ({rc})")),
        _ => XenError::Other(alloc::format!("{what}: Xen returned {rc}")),
    }
}

/// A fresh port that `remote` may bind.
pub fn alloc_unbound(remote: DomId) -> Result<PvPort, XenError> {
    #[repr(C)]
    struct AllocUnbound {
        dom: u16,
        remote_dom: u16,
        port: u32,
    }
    let mut op = AllocUnbound {
        dom: DOMID_SELF,
        remote_dom: remote,
        port: 0,
    };
    // SAFETY: EVTCHNOP_alloc_unbound reads and writes `struct evtchn_alloc_unbound`.
    let rc = unsafe { hypercall2(EVENT_CHANNEL_OP, evtchn::ALLOC_UNBOUND, &raw mut op as u64) };
    if rc != 0 {
        return Err(failed("EVTCHNOP_alloc_unbound", rc));
    }
    Ok(PvPort {
        number: op.port,
        owned: true,
    })
}

/// Binds to `remote`'s port `remote_port`.
pub fn bind_interdomain(remote: DomId, remote_port: u32) -> Result<PvPort, XenError> {
    #[repr(C)]
    struct BindInterdomain {
        remote_dom: u16,
        remote_port: u32,
        local_port: u32,
    }
    let mut op = BindInterdomain {
        remote_dom: remote,
        remote_port,
        local_port: 0,
    };
    // SAFETY: EVTCHNOP_bind_interdomain reads and writes `struct evtchn_bind_interdomain`.
    let rc = unsafe {
        hypercall2(
            EVENT_CHANNEL_OP,
            evtchn::BIND_INTERDOMAIN,
            &raw mut op as u64,
        )
    };
    if rc != 0 {
        return Err(failed("EVTCHNOP_bind_interdomain", rc));
    }
    Ok(PvPort {
        number: op.local_port,
        owned: true,
    })
}

#[async_trait(?Send)]
impl Port for PvPort {
    fn number(&self) -> u32 {
        self.number
    }

    fn notify(&self) {
        notify(self.number);
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            if take_pending(self.number) {
                Poll::Ready(())
            } else {
                wait_port(self.number, cx.waker());
                Poll::Pending
            }
        })
        .await
    }
}

impl Drop for PvPort {
    fn drop(&mut self) {
        if self.owned {
            forget_port(self.number);
            let close = self.number;
            // SAFETY: EVTCHNOP_close reads `{ u32 port }`.
            unsafe {
                hypercall2(EVENT_CHANNEL_OP, evtchn::CLOSE, &raw const close as u64);
            }
        }
    }
}
