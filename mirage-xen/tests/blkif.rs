//! Blkfront and Blkback together over the simulated hypervisor: the block conformance
//! suite passes through them, for 512 and 4096-byte device sectors, and nothing is left
//! behind when they close.

use mirage_block::MemBlock;
use mirage_types::{Block, BlockError, Device};
use mirage_xen::back::Blkback;
use mirage_xen::front::Blkfront;
use mirage_xen::platform::sim::SimXen;
use mirage_xen::xenbus::{DeviceKind, DevicePaths, create_device};

/// xvda's device number.
const XVDA: u32 = 51712;

/// Runs `test` on a Blkfront in domain 5 over a Blkback in domain 0 serving `disk`.
fn over_xen<F, Fut>(disk: MemBlock, mode: &str, test: F) -> SimXen
where
    F: FnOnce(Blkfront<mirage_xen::platform::sim::SimDomain>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(5));
    mirage_unix::run(async {
        let paths = DevicePaths::new(DeviceKind::Vbd, 5, 0, XVDA);
        create_device(&dom0, &paths, &[("mode", mode)])
            .await
            .unwrap();
        let backend = Blkback::new(dom0.clone(), paths, disk);
        let frontend = async {
            let front = Blkfront::connect(guest, 5, XVDA).await.unwrap();
            test(front).await;
        };
        let (served, ()) = futures::join!(backend.serve(), frontend);
        served.unwrap();
    });
    xen
}

#[test]
fn the_conformance_suite_passes_through_blkfront_and_blkback() {
    for sector_size in [512, 4096] {
        let xen = over_xen(
            MemBlock::new(sector_size, 2048).unwrap(),
            "w",
            |front| async move {
                let info = front.get_info().await;
                assert_eq!((info.sector_size, info.size_sectors), (sector_size, 2048));
                mirage_block::conformance::run_all(&front, 7).await.unwrap();
                front.flush().await.unwrap();
                front.disconnect().await;
                assert_eq!(
                    front
                        .read(0, &mut [&mut vec![0; sector_size as usize]])
                        .await,
                    Err(BlockError::Disconnected)
                );
            },
        );
        assert_eq!(xen.leaks(), Vec::<String>::new(), "{sector_size}");
    }
}

#[test]
fn large_transfers_are_cut_into_many_requests_in_flight() {
    over_xen(MemBlock::new(512, 8192).unwrap(), "w", |front| async move {
        // Blkback offers indirect requests: 64 pages (256 KiB) each.
        assert_eq!(front.segments_per_request(), 64);
        // 3 MiB in one call: 12 indirect requests of 256 KiB, all in flight.
        let data: Vec<u8> = (0..3 << 20).map(|i: usize| (i % 253) as u8).collect();
        front.write(100, &[&data]).await.unwrap();
        let mut back = vec![0u8; data.len()];
        front.read(100, &mut [&mut back]).await.unwrap();
        assert!(back == data);
        // Several callers at once.
        let reads = (0..8u64).map(|n| {
            let front = &front;
            async move {
                let mut sector = vec![0u8; 512];
                front.read(100 + n, &mut [&mut sector]).await.unwrap();
                sector
            }
        });
        for (n, sector) in futures::future::join_all(reads)
            .await
            .into_iter()
            .enumerate()
        {
            assert!(sector[..] == data[n * 512..(n + 1) * 512]);
        }
        front.disconnect().await;
    });
}

#[test]
fn a_read_only_device_refuses_writes_before_they_reach_the_ring() {
    over_xen(MemBlock::new(512, 64).unwrap(), "r", |front| async move {
        assert!(!front.get_info().await.read_write);
        assert_eq!(
            front.write(0, &[&[0u8; 512]]).await,
            Err(BlockError::IsReadOnly)
        );
        front.disconnect().await;
    });
}
