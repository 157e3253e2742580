//! Recording every frame of a `Network` to a pcap file.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use bytes::Bytes;
use mirage_types::{Device, FrameHandler, MacAddr, NetError, Network, Stats, async_trait};
use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

/// pcap's link type for Ethernet.
const LINKTYPE_ETHERNET: u32 = 1;
/// Longest frame recorded whole.
const SNAPLEN: u32 = 65_535;

/// A `Network` that writes every frame it sends or receives to a pcap file (readable by
/// `tcpdump -r` and Wireshark), then passes it on. Each record is flushed as it is written,
/// so the file stays readable if the process stops.
pub struct Recorded<N: Network> {
    net: N,
    file: Rc<RefCell<BufWriter<File>>>,
}

impl<N: Network> Recorded<N> {
    /// Records `net`'s frames to a new file at `path` (replacing it).
    pub fn new(net: N, path: impl AsRef<Path>) -> io::Result<Self> {
        let mut file = BufWriter::new(File::create(path)?);
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&0i32.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&SNAPLEN.to_le_bytes());
        header.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        file.write_all(&header)?;
        file.flush()?;
        Ok(Recorded {
            net,
            file: Rc::new(RefCell::new(file)),
        })
    }

    /// The device underneath.
    pub fn inner(&self) -> &N {
        &self.net
    }
}

/// Appends one frame; a failing file loses the record, never the frame.
fn record(file: &RefCell<BufWriter<File>>, frame: &[u8]) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let kept = frame.len().min(SNAPLEN as usize);
    let mut file = file.borrow_mut();
    let mut header = [0u8; 16];
    header[..4].copy_from_slice(&(now.as_secs() as u32).to_le_bytes());
    header[4..8].copy_from_slice(&now.subsec_micros().to_le_bytes());
    header[8..12].copy_from_slice(&(kept as u32).to_le_bytes());
    header[12..].copy_from_slice(&(frame.len() as u32).to_le_bytes());
    let _ = file
        .write_all(&header)
        .and_then(|()| file.write_all(&frame[..kept]))
        .and_then(|()| file.flush());
}

#[async_trait(?Send)]
impl<N: Network> Device for Recorded<N> {
    async fn disconnect(&self) {
        let _ = self.file.borrow_mut().flush();
        self.net.disconnect().await
    }
}

#[async_trait(?Send)]
impl<N: Network> Network for Recorded<N> {
    async fn write(&self, frame: &[u8]) -> Result<(), NetError> {
        record(&self.file, frame);
        self.net.write(frame).await
    }

    async fn write_owned(&self, frame: Bytes) -> Result<(), NetError> {
        record(&self.file, &frame);
        self.net.write_owned(frame).await
    }

    async fn write_many(&self, frames: Vec<Bytes>) -> Result<(), NetError> {
        for frame in &frames {
            record(&self.file, frame);
        }
        self.net.write_many(frames).await
    }

    async fn listen(&self, handler: FrameHandler) -> Result<(), NetError> {
        let file = self.file.clone();
        let recording: FrameHandler = Rc::new(move |frame: Bytes| {
            record(&file, &frame);
            handler(frame)
        });
        self.net.listen(recording).await
    }

    fn mac(&self) -> MacAddr {
        self.net.mac()
    }

    fn mtu(&self) -> usize {
        self.net.mtu()
    }

    fn get_stats_counters(&self) -> Stats {
        self.net.get_stats_counters()
    }

    fn reset_stats_counters(&self) {
        self.net.reset_stats_counters()
    }
}
