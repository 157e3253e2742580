//! XenBus lifecycles beyond one clean connection: a backend that dies (silently, or
//! restarting) while requests are in flight, a frontend that reconnects to the restarted
//! backend, a frontend that restarts while the backend serves on, and a device removed.
//! Nothing hangs, no data is lost, and nothing is left behind.

use futures::channel::oneshot;
use mirage_block::MemBlock;
use mirage_net::MemLink;
use mirage_types::{Block, BlockError, Device, NetError, Network};
use mirage_xen::back::{Blkback, Netback};
use mirage_xen::front::{Blkfront, Netfront};
use mirage_xen::platform::Store;
use mirage_xen::platform::sim::{SimDomain, SimXen};
use mirage_xen::xenbus::{DeviceKind, DevicePaths, create_device};
use std::time::Duration;

const XVDA: u32 = 51712;

/// A disk and its device between domain 0 and domain 5.
async fn vbd(dom0: &SimDomain) -> DevicePaths {
    let paths = DevicePaths::new(DeviceKind::Vbd, 5, 0, XVDA);
    create_device(dom0, &paths, &[("mode", "w")]).await.unwrap();
    paths
}

fn pattern(seed: u8) -> Vec<u8> {
    (0..64 * 1024).map(|i: usize| (i as u8) ^ seed).collect()
}

#[test]
fn a_silent_dead_backend_times_out_and_the_frontend_reconnects_to_its_successor() {
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(5));
    let disk = MemBlock::new(512, 2048).unwrap();
    mirage_unix::run(async {
        let paths = vbd(&dom0).await;
        let (kill, killed) = oneshot::channel::<()>();
        let (restart, restarted) = oneshot::channel::<()>();
        let first = async {
            let backend = Blkback::new(dom0.clone(), paths.clone(), &disk);
            let serving = std::pin::pin!(backend.serve());
            // Killed (looked at first): its mappings and port go with it, as a process's
            // do; its store nodes stay as they were (Connected).
            let _ = futures::future::select(killed, serving).await;
        };
        let second = async {
            restarted.await.unwrap();
            Blkback::new(dom0.clone(), paths.clone(), &disk)
                .run()
                .await
                .unwrap();
        };
        let frontend = async {
            let mut front = Blkfront::connect(guest.clone(), 5, XVDA)
                .await
                .unwrap()
                .with_timeout(mirage_unix::UnixTime, Duration::from_millis(200));
            front.write(0, &[&pattern(1)]).await.unwrap();
            kill.send(()).unwrap();
            let mut buffer = vec![0; 64 * 1024];
            assert_eq!(
                front.read(0, &mut [&mut buffer]).await,
                Err(BlockError::Timeout(Duration::from_millis(200)))
            );
            assert_eq!(
                front.read(0, &mut [&mut buffer]).await,
                Err(BlockError::Disconnected),
                "given up after a timeout"
            );
            restart.send(()).unwrap();
            front.reconnect().await.unwrap();
            front.read(0, &mut [&mut buffer]).await.unwrap();
            assert!(buffer == pattern(1), "the data written before survives");
            front.write(0, &[&pattern(2)]).await.unwrap();
            front.disconnect().await;
            // The toolstack removes the device: the backend's `run` ends.
            dom0.rm(0, &paths.frontend).await.unwrap();
        };
        futures::join!(first, second, frontend);
    });
    let mut check = vec![0; 64 * 1024];
    mirage_unix::run(async { disk.read(0, &mut [&mut check]).await.unwrap() });
    assert!(check == pattern(2));
    assert_eq!(xen.leaks(), Vec::<String>::new());
}

#[test]
fn requests_in_flight_fail_when_the_backend_restarts_and_work_after_reconnecting() {
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(5));
    let disk = MemBlock::new(4096, 256).unwrap();
    mirage_unix::run(async {
        let paths = vbd(&dom0).await;
        let (kill, killed) = oneshot::channel::<()>();
        let first = async {
            let backend = Blkback::new(dom0.clone(), paths.clone(), &disk);
            let _ = futures::future::select(killed, std::pin::pin!(backend.serve())).await;
            // Its successor starts at once, and finds the frontend still Connected to the
            // dead one: it waits for the frontend to connect afresh.
            Blkback::new(dom0.clone(), paths.clone(), &disk)
                .run()
                .await
                .unwrap();
        };
        let frontend = async {
            // No timeout: the backend's restart alone must end the wait.
            let mut front = Blkfront::connect(guest.clone(), 5, XVDA).await.unwrap();
            kill.send(()).unwrap();
            let mut buffer = vec![0; 256 * 1024];
            assert_eq!(
                front.read(0, &mut [&mut buffer]).await,
                Err(BlockError::Disconnected)
            );
            front.reconnect().await.unwrap();
            mirage_block::conformance::run_all(&front, 3).await.unwrap();
            front.disconnect().await;
            dom0.write(0, &format!("{}/online", paths.backend), "0")
                .await
                .unwrap();
            // The frontend says Initialising again (a new connection would): the backend
            // sees `online` is 0 and stops instead.
            dom0.write(0, &format!("{}/state", paths.frontend), "1")
                .await
                .unwrap();
        };
        futures::join!(first, frontend);
    });
    assert_eq!(xen.leaks(), Vec::<String>::new());
}

#[test]
fn a_restarted_frontend_takes_the_device_over_from_its_predecessor() {
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(5));
    let disk = MemBlock::new(512, 2048).unwrap();
    mirage_unix::run(async {
        let paths = vbd(&dom0).await;
        let backend = Blkback::new(dom0.clone(), paths.clone(), &disk);
        let frontends = async {
            let old = Blkfront::connect(guest.clone(), 5, XVDA).await.unwrap();
            old.write(8, &[&pattern(3)]).await.unwrap();
            // The guest program restarts: the new one connects without the old having
            // closed. The backend lets go of the old pages and serves the new frontend.
            let new = Blkfront::connect(guest.clone(), 5, XVDA).await.unwrap();
            drop(old);
            let mut buffer = vec![0; 64 * 1024];
            new.read(8, &mut [&mut buffer]).await.unwrap();
            assert!(buffer == pattern(3));
            new.disconnect().await;
            dom0.rm(0, &paths.frontend).await.unwrap();
        };
        let (served, ()) = futures::join!(backend.run(), frontends);
        served.unwrap();
    });
    assert_eq!(xen.leaks(), Vec::<String>::new());
}

#[test]
fn netfront_sees_its_backend_go_and_reconnects_to_the_next() {
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(6));
    mirage_unix::run(async {
        let paths = DevicePaths::new(DeviceKind::Vif, 6, 0, 0);
        create_device(&dom0, &paths, &[]).await.unwrap();
        dom0.write(0, &format!("{}/mac", paths.frontend), "00:16:3e:00:00:06")
            .await
            .unwrap();
        let (bridge, wire) = MemLink::pair();
        let (kill, killed) = oneshot::channel::<()>();
        let got = std::rc::Rc::new(std::cell::Cell::new(0));
        let arrived = |count: usize| {
            let got = got.clone();
            async move {
                while got.get() < count {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        };
        let backends = async {
            let backend = Netback::new(dom0.clone(), paths.clone(), &bridge);
            let _ = futures::future::select(killed, std::pin::pin!(backend.serve())).await;
            Netback::new(dom0.clone(), paths.clone(), &bridge)
                .run()
                .await
                .unwrap();
        };
        let frontend = async {
            let mut nic = Netfront::connect(guest.clone(), 6, 0)
                .await
                .unwrap()
                .with_timeout(mirage_unix::UnixTime, Duration::from_secs(5));
            let frame = [0x5a; 60];
            nic.write(&frame).await.unwrap();
            arrived(1).await;
            kill.send(()).unwrap();
            // The successor says InitWait: the listener stops with Disconnected, writes fail.
            let listened = nic.listen(std::rc::Rc::new(|_| Box::pin(async {}))).await;
            assert_eq!(listened, Err(NetError::Disconnected));
            assert_eq!(nic.write(&frame).await, Err(NetError::Disconnected));
            nic.reconnect().await.unwrap();
            nic.write(&frame).await.unwrap();
            nic.disconnect().await;
            dom0.rm(0, &paths.frontend).await.unwrap();
        };
        let receiver = async {
            // Both frames reach the other end of the link, one per connection.
            let counted = got.clone();
            let listening = wire.listen(std::rc::Rc::new(move |frame: bytes::Bytes| {
                assert_eq!(&frame[..], &[0x5a; 60][..]);
                counted.set(counted.get() + 1);
                Box::pin(async {})
            }));
            futures::future::select(std::pin::pin!(listening), std::pin::pin!(arrived(2))).await;
            wire.disconnect().await;
        };
        futures::join!(backends, frontend, receiver);
    });
    assert_eq!(xen.leaks(), Vec::<String>::new());
}

#[test]
fn a_console_whose_backend_stops_reading_times_out_and_one_that_restarts_is_seen() {
    use mirage_console::MemConsole;
    use mirage_types::{ConsoleError, Flow};
    use mirage_xen::back::ConsoleBack;
    use mirage_xen::front::XenConsole;
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(9));
    let seen = MemConsole::new();
    mirage_unix::run(async {
        let paths = DevicePaths::new(DeviceKind::Console, 9, 0, 1);
        create_device(&dom0, &paths, &[]).await.unwrap();
        let (kill, killed) = oneshot::channel::<()>();
        let (restart, restarted) = oneshot::channel::<()>();
        let backends = async {
            let backend = ConsoleBack::new(dom0.clone(), paths.clone(), &seen);
            let _ = futures::future::select(killed, std::pin::pin!(backend.serve())).await;
            restarted.await.unwrap();
            ConsoleBack::new(dom0.clone(), paths.clone(), &seen)
                .run()
                .await
                .unwrap();
        };
        let guest_side = async {
            let console = XenConsole::connect(guest.clone(), 9, 1)
                .await
                .unwrap()
                .with_timeout(mirage_unix::UnixTime, Duration::from_millis(200));
            console.write(b"before\n").await.unwrap();
            while seen.output().is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            kill.send(()).unwrap();
            // Nobody empties the ring (2 KiB): a longer write waits, then gives up.
            assert_eq!(
                console.write(&[b'x'; 4096]).await,
                Err(ConsoleError::Disconnected)
            );
            drop(console);
            // A new console in the guest, to the restarted backend; and the backend
            // restarting under a reader is seen by it.
            restart.send(()).unwrap();
            let console = XenConsole::connect(guest.clone(), 9, 1).await.unwrap();
            console.write(b"after\n").await.unwrap();
            console.disconnect().await;
            dom0.rm(0, &paths.frontend).await.unwrap();
        };
        futures::join!(backends, guest_side);
    });
    let output = seen.output();
    assert!(output.starts_with("before\n"), "{output:?}");
    assert!(output.ends_with("after\n"), "{output:?}");
    assert_eq!(xen.leaks(), Vec::<String>::new());
}

#[test]
fn a_backend_asked_to_stop_closes_and_the_frontend_s_requests_fail_at_once() {
    let xen = SimXen::new();
    let (dom0, guest) = (xen.domain(0), xen.domain(5));
    let disk = MemBlock::new(512, 2048).unwrap();
    mirage_unix::run(async {
        let paths = vbd(&dom0).await;
        let backend = Blkback::new(dom0.clone(), paths.clone(), &disk);
        let serving = async { backend.run().await.unwrap() };
        let frontend = async {
            let front = Blkfront::connect(guest.clone(), 5, XVDA).await.unwrap();
            front.write(0, &[&pattern(3)]).await.unwrap();
            backend.stop();
            let mut buffer = vec![0; 64 * 1024];
            let read = tokio::time::timeout(Duration::from_secs(5), async {
                // Reads go on until the closing reaches the frontend: each ends, none waits.
                loop {
                    if let Err(error) = front.read(0, &mut [&mut buffer]).await {
                        return error;
                    }
                    tokio::task::yield_now().await;
                }
            })
            .await
            .expect("a read waited on a stopped backend");
            assert_eq!(read, BlockError::Disconnected);
            front.disconnect().await;
        };
        // `run` returns once the frontend has closed too.
        tokio::time::timeout(Duration::from_secs(5), async {
            futures::join!(serving, frontend)
        })
        .await
        .expect("the stopped backend's run returned");
        assert_eq!(
            mirage_xen::xenbus::read_state(&dom0, &paths.backend)
                .await
                .unwrap(),
            mirage_xen::abi::xenbus::XenbusState::Closed
        );
    });
}
