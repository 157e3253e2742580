//! The same hello world over Xen: `Main` writes to a `XenConsole` in a guest domain, whose
//! backend in dom0 copies it to a console there (in the simulated hypervisor).

use mir_console::unikernel::Main;
use mirage_console::MemConsole;
use mirage_types::{Device, Flow, Read, Time};
use mirage_xen::back::ConsoleBack;
use mirage_xen::front::XenConsole;
use mirage_xen::platform::sim::SimXen;
use mirage_xen::xenbus::{DeviceKind, DevicePaths, create_device};
use std::time::Duration;

/// Sleeps that end at once: the test checks what is written, not the pauses.
struct Instant;

#[mirage_types::async_trait(?Send)]
impl Time for Instant {
    async fn sleep(&self, _: Duration) {}
}

#[test]
fn hello_world_reaches_dom0_through_the_console_ring() {
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(9));
    let seen_in_dom0 = MemConsole::with_input(["typed in dom0"]);
    mirage_unix::run(async {
        let paths = DevicePaths::new(DeviceKind::Console, 9, 0, 1);
        create_device(&dom0, &paths, &[]).await.unwrap();
        let backend = ConsoleBack::new(dom0.clone(), paths, &seen_in_dom0);
        let guest_side = async {
            let console = XenConsole::connect(guest, 9, 1).await.unwrap();
            Main::new(&console, Instant).start().await.unwrap();
            // Input typed at the backend reaches the guest.
            assert_eq!(
                console.read().await.unwrap(),
                Read::Data("typed in dom0".into())
            );
            // A line longer than the ring (2 KiB) goes through whole.
            let long = "x".repeat(5000);
            mirage_types::Console::log_s(&console, &long).await.unwrap();
            console.disconnect().await;
        };
        let (served, ()) = futures::join!(backend.serve(), guest_side);
        served.unwrap();
    });
    let output = seen_in_dom0.output();
    let hello = "hello\nworld\n".repeat(4);
    assert!(output.starts_with(&hello), "{output:?}");
    assert_eq!(output.len(), hello.len() + 5001);
    assert_eq!(xen.leaks(), Vec::<String>::new());
}
