//! V1's `NETWORK` on a virtio-net device (`virtio-drivers`' raw driver over PCI). Every
//! buffer the device holds is the driver's own (received frames land in buffers posted in
//! advance, frames to send are copied into one each), so a caller's future may go away at
//! any point. Received frames and sent ones both end in the device's interrupt, which every
//! waiter wakes on.

use crate::dma::KernelHal;
use crate::{interrupts, pci};
use alloc::boxed::Box;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use async_trait::async_trait;
use bytes::Bytes;
use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::Poll;
use mirage_types::{
    Device, ETHERNET_HEADER_LEN, FrameHandler, MacAddr, NetError, Network, Stats, StatsCounter,
};
use mirage_unikernel::executor::wait_event;
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::DeviceType;
use virtio_drivers::transport::pci::PciTransport;

/// Descriptors per queue (receive and send).
const QUEUE: usize = 128;
/// The largest IP packet a frame carries.
const MTU: usize = 1500;
/// The virtio-net header's size at most.
const HEADER: usize = 12;
/// A buffer: the virtio-net header and a whole frame.
const BUFFER: usize = HEADER + ETHERNET_HEADER_LEN + MTU;

struct Inner {
    device: VirtIONetRaw<KernelHal, PciTransport, QUEUE>,
    /// Receive buffers in the device, by token.
    receiving: Vec<Option<Box<[u8]>>>,
    /// Frames in the device being sent (each behind its virtio-net header), by token.
    sending: Vec<Option<Vec<u8>>>,
}

/// A virtio-net interface.
pub struct VirtioNet {
    inner: RefCell<Inner>,
    line: u8,
    mac: MacAddr,
    stats: StatsCounter,
    disconnected: Cell<bool>,
}

impl core::fmt::Debug for VirtioNet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VirtioNet")
            .field("mac", &self.mac)
            .field("line", &self.line)
            .finish()
    }
}

fn failed(what: &str) -> impl Fn(virtio_drivers::Error) -> NetError + '_ {
    move |error| NetError::Unknown(format!("virtio-net {what}: {error}"))
}

impl VirtioNet {
    /// The `index`th virtio-net device on the PCI bus (in QEMU's `-device` order), with
    /// every receive buffer posted.
    pub fn open(index: usize) -> Result<VirtioNet, NetError> {
        let found = pci::find(DeviceType::Network);
        let Some(device) = found.get(index) else {
            return Err(NetError::Unknown(format!(
                "no virtio-net interface {index} ({} found)",
                found.len()
            )));
        };
        let transport = PciTransport::new::<KernelHal, _>(&mut pci::root(), device.device_function)
            .map_err(|error| NetError::Unknown(format!("virtio-net {index}: {error}")))?;
        let mut net =
            VirtIONetRaw::<KernelHal, _, QUEUE>::new(transport).map_err(failed("set-up"))?;
        net.enable_interrupts();
        let mac = MacAddr(net.mac_address());
        let mut inner = Inner {
            device: net,
            receiving: (0..QUEUE).map(|_| None).collect(),
            sending: (0..QUEUE).map(|_| None).collect(),
        };
        for _ in 0..QUEUE {
            let mut buffer = vec![0; BUFFER].into_boxed_slice();
            // SAFETY: the buffer is kept in `receiving` until the device gives it back.
            let token = unsafe { inner.device.receive_begin(&mut buffer) }
                .map_err(failed("posting a receive buffer"))?;
            inner.receiving[usize::from(token)] = Some(buffer);
        }
        interrupts::unmask(device.line);
        Ok(VirtioNet {
            inner: RefCell::new(inner),
            line: device.line,
            mac,
            stats: StatsCounter::default(),
            disconnected: Cell::new(false),
        })
    }

    /// Takes the device's interrupt, if it came: acknowledged there, then on the PIC
    /// (each costs an exit to the hypervisor, so not when there was none).
    fn take_interrupt(&self, inner: &mut Inner) {
        if interrupts::pending(self.line) {
            inner.device.ack_interrupt();
            interrupts::take(self.line);
        }
    }

    /// Frees the buffers of frames the device has sent.
    fn reclaim(inner: &mut Inner) {
        while let Some(token) = inner.device.poll_transmit() {
            let Some(buffer) = inner.sending[usize::from(token)].take() else {
                break;
            };
            // SAFETY: the buffer given with this token, kept untouched since.
            let _ = unsafe { inner.device.transmit_complete(token, &buffer) };
        }
    }

    /// The next received frame, if one is there; its buffer goes back to the device.
    fn take_frame(inner: &mut Inner) -> Result<Option<Bytes>, NetError> {
        let Some(token) = inner.device.poll_receive() else {
            return Ok(None);
        };
        let mut buffer = inner.receiving[usize::from(token)].take().ok_or_else(|| {
            NetError::Unknown(format!("virtio-net: unknown receive token {token}"))
        })?;
        // SAFETY: the buffer given with this token, kept untouched since.
        let (header, len) = unsafe { inner.device.receive_complete(token, &mut buffer) }
            .map_err(failed("receiving"))?;
        let frame = buffer
            .get(header..header + len)
            .map(Bytes::copy_from_slice)
            .ok_or_else(|| NetError::Unknown(format!("virtio-net: a frame of {len} bytes")))?;
        // SAFETY: as in `open`.
        let token = unsafe { inner.device.receive_begin(&mut buffer) }
            .map_err(failed("posting a receive buffer"))?;
        inner.receiving[usize::from(token)] = Some(buffer);
        Ok(Some(frame))
    }

    /// Puts `frame` in the device, waiting for room.
    async fn queue(&self, frame: &[u8]) -> Result<(), NetError> {
        if frame.len() < ETHERNET_HEADER_LEN || frame.len() > ETHERNET_HEADER_LEN + MTU {
            return Err(NetError::InvalidLength {
                len: frame.len(),
                max: ETHERNET_HEADER_LEN + MTU,
            });
        }
        poll_fn(|cx| {
            if self.disconnected.get() {
                return Poll::Ready(Err(NetError::Disconnected));
            }
            let mut inner = self.inner.borrow_mut();
            let inner = &mut *inner;
            Self::reclaim(inner);
            if !inner.device.can_send() {
                self.take_interrupt(inner);
                Self::reclaim(inner);
                if !inner.device.can_send() {
                    wait_event(u32::from(self.line), cx.waker());
                    return Poll::Pending;
                }
            }
            // One buffer, made once and at its size: the header, then the frame.
            let mut buffer = Vec::with_capacity(HEADER + frame.len());
            buffer.resize(HEADER, 0);
            let header = inner
                .device
                .fill_buffer_header(&mut buffer)
                .map_err(failed("sending"))?;
            buffer.truncate(header);
            buffer.extend_from_slice(frame);
            // SAFETY: the buffer is kept in `sending` until the device gives it back.
            let token =
                unsafe { inner.device.transmit_begin(&buffer) }.map_err(failed("sending"))?;
            inner.sending[usize::from(token)] = Some(buffer);
            self.stats.sent(frame.len());
            Poll::Ready(Ok(()))
        })
        .await
    }
}

#[async_trait(?Send)]
impl Device for VirtioNet {
    async fn disconnect(&self) {
        self.disconnected.set(true);
    }
}

#[async_trait(?Send)]
impl Network for VirtioNet {
    async fn write(&self, frame: &[u8]) -> Result<(), NetError> {
        self.queue(frame).await
    }

    async fn listen(&self, handler: FrameHandler) -> Result<(), NetError> {
        loop {
            let next = poll_fn(|cx| {
                if self.disconnected.get() {
                    return Poll::Ready(Ok(None));
                }
                let mut inner = self.inner.borrow_mut();
                let inner = &mut *inner;
                match Self::take_frame(inner) {
                    Ok(None) => {}
                    outcome => return Poll::Ready(outcome),
                }
                self.take_interrupt(inner);
                Self::reclaim(inner);
                match Self::take_frame(inner) {
                    Ok(None) => {
                        wait_event(u32::from(self.line), cx.waker());
                        Poll::Pending
                    }
                    outcome => Poll::Ready(outcome),
                }
            })
            .await?;
            let Some(frame) = next else { return Ok(()) };
            self.stats.received(frame.len());
            handler(frame).await;
        }
    }

    fn mac(&self) -> MacAddr {
        self.mac
    }

    fn mtu(&self) -> usize {
        MTU
    }

    fn get_stats_counters(&self) -> Stats {
        self.stats.get()
    }

    fn reset_stats_counters(&self) {
        self.stats.reset();
    }
}
