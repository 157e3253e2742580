//! Blkfront → Blkback → FileBlock (an image file) in the simulated hypervisor, as the
//! `mirage-blkback` tool serves Linux's blkfront: many large transfers in flight both ways,
//! everything read back equal. (Run under valgrind too, to look for memory errors in the
//! paths the tool takes.)

use mirage_block::FileBlock;
use mirage_types::{Block, Device};
use mirage_xen::back::Blkback;
use mirage_xen::front::Blkfront;
use mirage_xen::platform::sim::SimXen;
use mirage_xen::xenbus::{DeviceKind, DevicePaths, create_device};
use std::rc::Rc;

const MIB: usize = 1024 * 1024;

#[test]
fn large_transfers_in_flight_through_blkback_to_an_image_file_read_back_equal() {
    let image = tempfile::NamedTempFile::new().unwrap();
    image.as_file().set_len(8 * MIB as u64).unwrap();
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(5));
    mirage_unix::run(async {
        let paths = DevicePaths::new(DeviceKind::Vbd, 5, 0, 51712);
        create_device(&dom0, &paths, &[("mode", "w")])
            .await
            .unwrap();
        let disk = FileBlock::connect(image.path()).await.unwrap();
        let backend = Rc::new(Blkback::new(dom0.clone(), paths, disk));
        let serving = tokio::task::spawn_local({
            let backend = backend.clone();
            async move { backend.serve().await }
        });
        let front = Blkfront::connect(guest, 5, 51712).await.unwrap();
        // 8 MiB in 256 KiB writes (indirect requests), all in flight, then read back the
        // same way, three times with different contents.
        for round in 0..3u8 {
            let chunks: Vec<Vec<u8>> = (0..32)
                .map(|n| {
                    (0..256 * 1024)
                        .map(|i| (i as u8).wrapping_mul(31) ^ n ^ round.wrapping_mul(77))
                        .collect()
                })
                .collect();
            let writes = chunks
                .iter()
                .enumerate()
                .map(|(n, chunk)| front.write_at(n as u64 * 512, chunk));
            for written in futures::future::join_all(writes).await {
                written.unwrap();
            }
            let mut back = vec![vec![0u8; 256 * 1024]; 32];
            let reads = back
                .iter_mut()
                .enumerate()
                .map(|(n, chunk)| front.read_at(n as u64 * 512, chunk));
            for read in futures::future::join_all(reads).await {
                read.unwrap();
            }
            assert!(back == chunks, "round {round}: read back other data");
        }
        front.disconnect().await;
        serving.await.unwrap().unwrap();
    });
    assert_eq!(xen.leaks(), Vec::<String>::new());
    assert_eq!(
        std::fs::metadata(image.path()).unwrap().len(),
        8 * MIB as u64
    );
}
