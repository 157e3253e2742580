//! `Either` dispatches every call to the side it holds, for the non-network families.

use mirage_types::{
    Block, BlockError, BlockInfo, Clock, Device, Either, Random, Time, async_trait, check_request,
};
use std::cell::{Cell, RefCell};
use std::time::Duration;

/// A clock stuck at one instant.
struct Fixed(f64);
impl Clock for Fixed {
    fn time(&self) -> f64 {
        self.0
    }
}

/// A time source that records the sleeps asked of it.
#[derive(Default)]
struct Recorder(RefCell<Vec<Duration>>);
#[async_trait(?Send)]
impl Time for Recorder {
    async fn sleep(&self, duration: Duration) {
        self.0.borrow_mut().push(duration);
    }
}

/// Random bytes that are all one value.
struct Constant(u8, Cell<bool>);
impl Random for Constant {
    fn self_init(&self) {
        self.1.set(true);
    }
    fn fill_bytes(&self, buf: &mut [u8]) {
        buf.fill(self.0);
    }
}

/// A toy disk of four one-byte sectors.
struct Toy {
    sectors: RefCell<Vec<u8>>,
    disconnected: Cell<bool>,
}
impl Toy {
    fn new(fill: u8) -> Self {
        Toy {
            sectors: RefCell::new(vec![fill; 4]),
            disconnected: Cell::new(false),
        }
    }
}
#[async_trait(?Send)]
impl Device for Toy {
    async fn disconnect(&self) {
        self.disconnected.set(true);
    }
}
#[async_trait(?Send)]
impl Block for Toy {
    async fn get_info(&self) -> BlockInfo {
        BlockInfo {
            read_write: true,
            sector_size: 1,
            size_sectors: 4,
        }
    }
    async fn read(&self, start: u64, buffers: &mut [&mut [u8]]) -> Result<(), BlockError> {
        let info = self.get_info().await;
        check_request(&info, start, buffers.iter().map(|b| b.len()))?;
        let sectors = self.sectors.borrow();
        let mut at = start as usize;
        for buffer in buffers.iter_mut() {
            buffer.copy_from_slice(&sectors[at..at + buffer.len()]);
            at += buffer.len();
        }
        Ok(())
    }
    async fn write(&self, start: u64, buffers: &[&[u8]]) -> Result<(), BlockError> {
        let info = self.get_info().await;
        check_request(&info, start, buffers.iter().map(|b| b.len()))?;
        let data = buffers.concat();
        self.sectors.borrow_mut()[start as usize..start as usize + data.len()]
            .copy_from_slice(&data);
        Ok(())
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn clock_time_and_random_dispatch() {
    let left: Either<Fixed, Fixed> = Either::Left(Fixed(86_400.0));
    let right: Either<Fixed, Fixed> = Either::Right(Fixed(0.0));
    assert_eq!(left.time(), 86_400.0);
    assert_eq!(left.gmtime(left.time()).tm_mday, 2);
    assert_eq!(right.gmtime(right.time()).tm_mday, 1);

    let a: Either<Recorder, Recorder> = Either::Left(Recorder::default());
    let b: Either<Recorder, Recorder> = Either::Right(Recorder::default());
    block_on(async {
        a.sleep(Duration::from_secs(1)).await;
        b.sleep_secs(2.5).await;
    });
    let (Either::Left(a), Either::Right(b)) = (a, b) else {
        unreachable!()
    };
    assert_eq!(*a.0.borrow(), [Duration::from_secs(1)]);
    assert_eq!(*b.0.borrow(), [Duration::from_millis(2500)]);

    let ones: Either<Constant, Constant> = Either::Left(Constant(1, Cell::new(false)));
    let twos: Either<Constant, Constant> = Either::Right(Constant(2, Cell::new(false)));
    assert_eq!(ones.int(1000), Ok(0x0101_0101 % 1000));
    assert_eq!(twos.int(1000), Ok(0x0202_0202 % 1000));
    twos.self_init();
    let Either::Right(inner) = &twos else {
        unreachable!()
    };
    assert!(inner.1.get());
}

#[test]
fn block_dispatch_and_errors_pass_through() {
    block_on(async {
        let left: Either<Toy, Toy> = Either::Left(Toy::new(7));
        let right: Either<Toy, Toy> = Either::Right(Toy::new(9));
        let mut buf = [0u8; 2];
        left.read(1, &mut [&mut buf]).await.unwrap();
        assert_eq!(buf, [7, 7]);
        right.write(0, &[&[1, 2]]).await.unwrap();
        right.read(0, &mut [&mut buf]).await.unwrap();
        assert_eq!(buf, [1, 2]);
        left.read(0, &mut [&mut buf]).await.unwrap();
        assert_eq!(buf, [7, 7]);
        assert!(matches!(
            right.write(3, &[&[0, 0]]).await,
            Err(BlockError::OutOfRange { .. })
        ));
        assert_eq!(right.get_info().await.size_sectors, 4);
        left.disconnect().await;
        let (Either::Left(l), Either::Right(r)) = (&left, &right) else {
            unreachable!()
        };
        assert!(l.disconnected.get() && !r.disconnected.get());
    });
}
