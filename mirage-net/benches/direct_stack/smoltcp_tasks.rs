//! The ping-pong's second baseline: two smoltcp interfaces, each driven by its own task on
//! the same runtime as the direct stacks, over a pair of in-memory frame queues, with each
//! side's application logic written into the task that drives its interface. It has what any
//! stack that runs as a task must have (two interfaces, a task wake-up per frame) and none of
//! a library's parts: no flow objects and no application tasks apart from the stack's, no
//! timers (the queues lose nothing, so nothing is ever retransmitted), no listening pool.

use super::{BUFFER, PING, ROUND_TRIPS};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Instant;

/// Frames one way between the interfaces, and the task waiting for them.
#[derive(Default)]
struct Queue {
    frames: RefCell<VecDeque<Vec<u8>>>,
    reader: Cell<Option<Waker>>,
}

impl Queue {
    fn push(&self, frame: Vec<u8>) {
        self.frames.borrow_mut().push_back(frame);
        if let Some(reader) = self.reader.take() {
            reader.wake();
        }
    }

    /// Resolves once a frame is waiting.
    async fn readable(&self) {
        poll_fn(|cx| {
            if self.frames.borrow().is_empty() {
                self.reader.set(Some(cx.waker().clone()));
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await
    }
}

/// One interface's end of the link: an Ethernet device with a 1500-byte MTU.
struct End {
    incoming: Rc<Queue>,
    outgoing: Rc<Queue>,
}

struct Rx(Vec<u8>);
struct Tx<'a>(&'a Queue);

impl RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0; len];
        let result = f(&mut frame);
        self.0.push(frame);
        result
    }
}

impl Device for End {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _now: SmolInstant) -> Option<(Rx, Tx<'_>)> {
        let frame = self.incoming.frames.borrow_mut().pop_front()?;
        Some((Rx(frame), Tx(&self.outgoing)))
    }

    fn transmit(&mut self, _now: SmolInstant) -> Option<Tx<'_>> {
        Some(Tx(&self.outgoing))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut capabilities = DeviceCapabilities::default();
        capabilities.medium = Medium::Ethernet;
        capabilities.max_transmission_unit = 1514;
        capabilities
    }
}

/// An interface at 10.0.0.`last`/24 on `end` with one TCP socket.
fn host(end: &mut End, last: u8) -> (Interface, SocketSet<'static>, SocketHandle) {
    let config = Config::new(EthernetAddress([2, 0, 0, 0, 0, last]).into());
    let mut iface = Interface::new(config, end, SmolInstant::now());
    iface.update_ip_addrs(|addrs| {
        let _ = addrs.push(IpCidr::new(IpAddress::v4(10, 0, 0, last), 24));
    });
    let mut sockets = SocketSet::new(vec![]);
    let handle = sockets.add(tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; BUFFER]),
        tcp::SocketBuffer::new(vec![0; BUFFER]),
    ));
    (iface, sockets, handle)
}

/// Reads everything `socket` has received (into `buf`, overwritten), and says how much.
fn take_all(socket: &mut tcp::Socket<'_>, buf: &mut [u8]) -> usize {
    let mut taken = 0;
    while socket.can_recv() {
        taken += socket.recv_slice(buf).unwrap();
    }
    taken
}

/// Microseconds per 64-byte round trip between the two tasks' interfaces.
pub fn ping_pong() -> f64 {
    let (a_to_b, b_to_a) = (Rc::new(Queue::default()), Rc::new(Queue::default()));
    let mut a = End {
        incoming: b_to_a.clone(),
        outgoing: a_to_b.clone(),
    };
    let mut b = End {
        incoming: a_to_b,
        outgoing: b_to_a,
    };
    let server = async move {
        let (mut iface, mut sockets, handle) = host(&mut b, 3);
        sockets.get_mut::<tcp::Socket>(handle).listen(5003).unwrap();
        let mut buf = [0u8; PING];
        let mut pending = 0;
        loop {
            iface.poll(SmolInstant::now(), &mut b, &mut sockets);
            let socket = sockets.get_mut::<tcp::Socket>(handle);
            pending += take_all(socket, &mut buf);
            if pending >= PING {
                while pending >= PING {
                    socket.send_slice(&[0xa5; PING]).unwrap();
                    pending -= PING;
                }
                continue; // the next poll sends the answer
            }
            b.incoming.readable().await;
        }
    };
    let client = async move {
        let (mut iface, mut sockets, handle) = host(&mut a, 2);
        sockets
            .get_mut::<tcp::Socket>(handle)
            .connect(iface.context(), (IpAddress::v4(10, 0, 0, 3), 5003), 49_152)
            .unwrap();
        loop {
            iface.poll(SmolInstant::now(), &mut a, &mut sockets);
            if sockets.get::<tcp::Socket>(handle).may_send() {
                break;
            }
            a.incoming.readable().await;
        }
        let mut buf = [0u8; PING];
        let mut start = Instant::now();
        for round_trip in 0..ROUND_TRIPS / 10 + ROUND_TRIPS {
            if round_trip == ROUND_TRIPS / 10 {
                start = Instant::now();
            }
            let sent = sockets
                .get_mut::<tcp::Socket>(handle)
                .send_slice(&[0x5a; PING])
                .unwrap();
            assert_eq!(sent, PING);
            let mut got = 0;
            loop {
                iface.poll(SmolInstant::now(), &mut a, &mut sockets);
                got += take_all(sockets.get_mut::<tcp::Socket>(handle), &mut buf);
                if got >= PING {
                    break;
                }
                a.incoming.readable().await;
            }
        }
        start.elapsed().as_secs_f64() / ROUND_TRIPS as f64 * 1e6
    };
    mirage_unix::run(async {
        tokio::task::spawn_local(server);
        tokio::task::spawn_local(client).await.unwrap()
    })
}
