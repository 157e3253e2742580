//! The same `Main` over Xen: block_test through Blkfront, Blkback and a disk image file, in
//! the simulated hypervisor, prints the tutorial's output byte for byte.

use mir_block_test::unikernel::Main;
use mirage_block::FileBlock;
use mirage_console::MemConsole;
use mirage_types::Device;
use mirage_xen::back::Blkback;
use mirage_xen::front::Blkfront;
use mirage_xen::platform::sim::SimXen;
use mirage_xen::xenbus::{DeviceKind, DevicePaths, create_device};

#[test]
fn block_test_over_blkfront_and_blkback_gives_the_tutorial_output() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(100_000 * 512)
        .unwrap();
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(7));
    let console = MemConsole::new();
    mirage_unix::run(async {
        let paths = DevicePaths::new(DeviceKind::Vbd, 7, 0, 51712);
        create_device(&dom0, &paths, &[("mode", "w")])
            .await
            .unwrap();
        let backend = Blkback::new(
            dom0.clone(),
            paths,
            FileBlock::connect(&image).await.unwrap(),
        );
        let guest_side = async {
            let disk = Blkfront::connect(guest, 7, 51712).await.unwrap();
            let totals = Main::new(&console, &disk).start().await.unwrap();
            assert_eq!((totals.passed, totals.failed), (10, 0));
            disk.disconnect().await;
        };
        let (served, ()) = futures::join!(backend.serve(), guest_side);
        served.unwrap();
    });
    let expected = include_str!("tutorial_output.txt");
    assert_eq!(console.output(), expected);
    assert!(xen.leaks().is_empty(), "{:?}", xen.leaks());
}
