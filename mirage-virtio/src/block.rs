//! V1's `BLOCK` on a virtio-blk device (`virtio-drivers`' driver over PCI). Requests take
//! turns, one in the device at a time, each through a buffer the device owns: a caller's
//! future may be dropped mid-request and the device still writes only into memory that is
//! the driver's (the next request first collects the abandoned one).

use crate::dma::KernelHal;
use crate::{interrupts, pci};
use alloc::boxed::Box;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use async_trait::async_trait;
use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::{Poll, Waker};
use mirage_types::{Block, BlockError, BlockInfo, Device, check_request};
use mirage_unikernel::executor::wait_event;
use virtio_drivers::device::blk::{BlkReq, BlkResp, SECTOR_SIZE, VirtIOBlk};
use virtio_drivers::transport::DeviceType;
use virtio_drivers::transport::pci::PciTransport;

/// The most one request to the device moves (larger requests go in pieces).
const CHUNK: usize = 64 * 1024;

/// What a request in the device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

struct Inner {
    device: VirtIOBlk<KernelHal, PciTransport>,
    /// The request's data, header and status, the driver's own while the device has them.
    buffer: Box<[u8]>,
    request: BlkReq,
    response: BlkResp,
    /// A request in the device, with its token and length.
    in_device: Option<(u16, Kind, usize)>,
}

/// A virtio-blk disk.
pub struct VirtioBlock {
    inner: RefCell<Inner>,
    line: u8,
    info: BlockInfo,
    busy: Cell<bool>,
    waiting: RefCell<Vec<Waker>>,
    disconnected: Cell<bool>,
}

impl core::fmt::Debug for VirtioBlock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VirtioBlock")
            .field("info", &self.info)
            .field("line", &self.line)
            .finish()
    }
}

/// Gives the turn back when a request ends, or its future is dropped.
struct Turn<'a>(&'a VirtioBlock);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.busy.set(false);
        for waker in self.0.waiting.borrow_mut().drain(..) {
            waker.wake();
        }
    }
}

impl VirtioBlock {
    /// The `index`th virtio-blk device on the PCI bus (in QEMU's `-device` order).
    pub fn open(index: usize) -> Result<VirtioBlock, BlockError> {
        let found = pci::find(DeviceType::Block);
        let Some(device) = found.get(index) else {
            return Err(BlockError::Unknown(format!(
                "no virtio-blk disk {index} ({} found)",
                found.len()
            )));
        };
        let transport = PciTransport::new::<KernelHal, _>(&mut pci::root(), device.device_function)
            .map_err(|error| BlockError::Unknown(format!("virtio-blk {index}: {error}")))?;
        let mut blk = VirtIOBlk::<KernelHal, _>::new(transport)
            .map_err(|error| BlockError::Unknown(format!("virtio-blk {index}: {error}")))?;
        blk.enable_interrupts();
        let info = BlockInfo {
            read_write: !blk.readonly(),
            sector_size: SECTOR_SIZE as u32,
            size_sectors: blk.capacity(),
        };
        interrupts::unmask(device.line);
        Ok(VirtioBlock {
            inner: RefCell::new(Inner {
                device: blk,
                buffer: vec![0; CHUNK].into_boxed_slice(),
                request: BlkReq::default(),
                response: BlkResp::default(),
                in_device: None,
            }),
            line: device.line,
            info,
            busy: Cell::new(false),
            waiting: RefCell::new(Vec::new()),
            disconnected: Cell::new(false),
        })
    }

    /// Waits for the turn.
    async fn turn(&self) -> Result<Turn<'_>, BlockError> {
        poll_fn(|cx| {
            if self.disconnected.get() {
                return Poll::Ready(Err(BlockError::Disconnected));
            }
            if self.busy.get() {
                self.waiting.borrow_mut().push(cx.waker().clone());
                return Poll::Pending;
            }
            self.busy.set(true);
            Poll::Ready(Ok(Turn(self)))
        })
        .await
    }

    /// Waits until the request in the device (if any) completes; its outcome.
    async fn settle(&self) -> Result<(), BlockError> {
        poll_fn(|cx| {
            let mut inner = self.inner.borrow_mut();
            let inner = &mut *inner;
            let Some((token, kind, len)) = inner.in_device else {
                return Poll::Ready(Ok(()));
            };
            if interrupts::pending(self.line) {
                inner.device.ack_interrupt();
                interrupts::take(self.line);
            }
            if inner.device.peek_used() != Some(token) {
                wait_event(u32::from(self.line), cx.waker());
                return Poll::Pending;
            }
            inner.in_device = None;
            let buffer = &mut inner.buffer[..len];
            // SAFETY: the request, buffer and response given with this token, untouched
            // since (the driver's own).
            let outcome = unsafe {
                match kind {
                    Kind::Read => inner.device.complete_read_blocks(
                        token,
                        &inner.request,
                        buffer,
                        &mut inner.response,
                    ),
                    Kind::Write => inner.device.complete_write_blocks(
                        token,
                        &inner.request,
                        buffer,
                        &mut inner.response,
                    ),
                }
            };
            Poll::Ready(
                outcome.map_err(|error| BlockError::Unknown(format!("virtio-blk: {error}"))),
            )
        })
        .await
    }

    /// Puts a request for `len` bytes of the buffer at `sector` in the device.
    fn submit(&self, kind: Kind, sector: u64, len: usize) -> Result<(), BlockError> {
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        let buffer = &mut inner.buffer[..len];
        // SAFETY: the request, buffer and response are the driver's and stay untouched until
        // `settle` completes the request (even if the caller goes away).
        let token = unsafe {
            match kind {
                Kind::Read => inner.device.read_blocks_nb(
                    sector as usize,
                    &mut inner.request,
                    buffer,
                    &mut inner.response,
                ),
                Kind::Write => inner.device.write_blocks_nb(
                    sector as usize,
                    &mut inner.request,
                    buffer,
                    &mut inner.response,
                ),
            }
        }
        .map_err(|error| BlockError::Unknown(format!("virtio-blk: {error}")))?;
        inner.in_device = Some((token, kind, len));
        Ok(())
    }
}

#[async_trait(?Send)]
impl Device for VirtioBlock {
    async fn disconnect(&self) {
        self.disconnected.set(true);
    }
}

#[async_trait(?Send)]
impl Block for VirtioBlock {
    async fn get_info(&self) -> BlockInfo {
        self.info
    }

    async fn read(&self, start_sector: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        check_request(&self.info, start_sector, buffers.iter().map(|b| b.len()))?;
        let _turn = self.turn().await?;
        self.settle().await?; // one a dropped caller left behind
        let mut sector = start_sector;
        for buffer in buffers.iter_mut() {
            for piece in buffer.chunks_mut(CHUNK) {
                self.submit(Kind::Read, sector, piece.len())?;
                self.settle().await?;
                piece.copy_from_slice(&self.inner.borrow().buffer[..piece.len()]);
                sector += (piece.len() / SECTOR_SIZE) as u64;
            }
        }
        Ok(())
    }

    async fn write(&self, start_sector: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        check_request(&self.info, start_sector, buffers.iter().map(|b| b.len()))?;
        if !self.info.read_write {
            return Err(BlockError::IsReadOnly);
        }
        let _turn = self.turn().await?;
        self.settle().await?;
        let mut sector = start_sector;
        for buffer in buffers {
            for piece in buffer.chunks(CHUNK) {
                self.inner.borrow_mut().buffer[..piece.len()].copy_from_slice(piece);
                self.submit(Kind::Write, sector, piece.len())?;
                self.settle().await?;
                sector += (piece.len() / SECTOR_SIZE) as u64;
            }
        }
        Ok(())
    }

    async fn flush(&self) -> Result<(), BlockError> {
        let _turn = self.turn().await?;
        self.settle().await?;
        self.inner
            .borrow_mut()
            .device
            .flush()
            .map_err(|error| BlockError::Unknown(format!("virtio-blk flush: {error}")))
    }
}
