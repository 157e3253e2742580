//! The loop that runs a direct stack: frames in, smoltcp's poll, frames out, events to the
//! application, and sleep until something happens.

use super::flow::DirectFlow;
use super::state::{ACCEPT_BACKLOG, Shared, State};
#[allow(unused_imports)]
use crate::alloc_prelude::*;
use alloc::rc::Rc;
use core::future::Future;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::pin::{Pin, pin};
use core::task::{Context, Poll};
use core::time::Duration;
use futures::future::{Either, select};
use mirage_types::{Network, StackError, frame_handler_now};
use smoltcp::socket::{dhcpv4, tcp};

/// How long the driver sleeps when smoltcp has no timer due.
const IDLE: Duration = Duration::from_secs(3600);

/// Receives frames into the stack and drives it, until the stack is disconnected.
pub(crate) async fn run<N: Network>(shared: &Rc<Shared>, net: &N) -> Result<(), StackError> {
    let inbox = shared.clone();
    let mac = net.mac();
    let receiving = net.listen(frame_handler_now(move |frame| {
        super::link_layer::observe(&inbox, &frame);
        let mut state = inbox.state.borrow_mut();
        if state.has_ipv6() {
            let state = &mut *state;
            let observed = state.dad.observe(&frame, &state.iface, mac);
            if state.dad.just_settled() {
                inbox.addressed.notify();
            }
            if let super::dad::Observed::Probe(answer) = observed {
                // A flood of probes gets answers only as fast as the device takes them.
                if let Some(answer) = answer
                    && state.queues.to_send.len() < super::device::RECEIVE_QUEUE
                {
                    state.queues.to_send.push_back(answer.into());
                    inbox.wake.notify();
                }
                return;
            }
        }
        let frame = match state.reassembly.offer(frame, inbox.platform.now()) {
            super::reassembly::Offered::Pass(frame) | super::reassembly::Offered::Whole(frame) => {
                frame
            }
            super::reassembly::Offered::Held => return,
        };
        let introduction =
            super::link_layer::introduction(&inbox, mac, state.config.as_ref(), &frame);
        if let Some(request) = introduction {
            state.queues.push_received(request.into());
        }
        state.queues.push_received(frame);
        drop(state);
        inbox.wake.notify();
    }));
    // Frames first: they ask for a poll, which the driver then makes in the same wake-up
    // (the other way round, its task would wake itself and be polled twice).
    match select(receiving, pin!(drive(shared, net))).await {
        Either::Left((received, _)) => {
            received.map_err(|e| StackError::Unknown(format!("network: {e}")))
        }
        Either::Right((driven, _)) => driven,
    }
}

async fn drive<N: Network>(shared: &Rc<Shared>, net: &N) -> Result<(), StackError> {
    let platform = &shared.platform;
    // One timer for every wait (cheaper than a new one per wait), and its deadline; none
    // once it went off.
    let mut timer = None;
    loop {
        if shared.disconnected.get() {
            return Ok(());
        }
        let (frames, now) = {
            let mut state = shared.state.borrow_mut();
            let state = &mut *state;
            for handle in shared.dropped.borrow_mut().drain(..) {
                state.sockets.get_mut::<tcp::Socket>(handle).close();
                state.orphan(handle);
            }
            shared.wake.start_poll();
            let now = super::state::smoltcp_now(platform);
            let syn_budget = state.listening();
            if state.queues.syns_waiting() {
                state.queues.connected = state.connections();
            }
            state.queues.start_poll(syn_budget);
            state.iface.poll(now, &mut state.queues, &mut state.sockets);
            // smoltcp takes a router advertisement's addresses into the interface only in
            // its maintenance, which `poll` runs before the frames it reads (and its next
            // deadline does not count): run it again, so they come in this poll.
            state.iface.poll_maintenance(now);
            if state.dad_upkeep(now) {
                shared.addressed.notify();
            }
            events(shared, state);
            state.queue_datagrams();
            (Outgoing::take(&mut state.queues.to_send), now)
        };
        // A frame the device refuses is lost, as on a real wire; TCP sends it again.
        let _ = match frames {
            Outgoing::Nothing => Ok(()),
            Outgoing::One(frame) => net.write_owned(frame).await,
            Outgoing::Many(frames) => net.write_many(frames).await,
        };
        // smoltcp sent all it had. Whatever came since the poll began (frames, the
        // application's calls, even during the write) asked for the next one: no need to
        // find smoltcp's next deadline first.
        if shared.wake.is_pending() {
            continue;
        }
        let delay = {
            let mut state = shared.state.borrow_mut();
            let state = &mut *state;
            // Frames beyond this poll's budget, or SYNs held back for sockets that are
            // listening again now, are for the next poll, at once.
            let more_now = !state.queues.received.is_empty()
                || (!state.queues.backlog.is_empty() && state.listening() > 0);
            let mut delay = if more_now {
                Some(smoltcp::time::Duration::ZERO)
            } else {
                // The poll's own start is recent enough: a clock read less per round.
                state.iface.poll_delay(now, &state.sockets)
            };
            if let Some(due) = state.dad.due() {
                // smoltcp's `Instant - Instant` is the distance either way: one due already
                // is due now.
                let wait = if due > now {
                    due - now
                } else {
                    smoltcp::time::Duration::ZERO
                };
                delay = Some(delay.map_or(wait, |d| d.min(wait)));
            }
            if !state.orphans.is_empty() || (!state.pools_settled && state.pool_short()) {
                // Come back to reset dropped flows whose linger ran out, or to try again to
                // fill a pool that had no memory for a socket (the memory may have come
                // back from the application's side, which tells no one).
                let second = smoltcp::time::Duration::from_secs(1);
                delay = Some(delay.map_or(second, |d| d.min(second)));
            }
            delay.map_or(IDLE, |d| Duration::from_micros(d.total_micros()))
        };
        if delay.is_zero() {
            yield_now().await;
            continue;
        }
        // The timer moves only when the next deadline comes sooner (or it went off): one
        // that goes off early costs a poll that finds nothing due and sets it again, where
        // moving it on every wait (each segment pushes the retransmission deadline later)
        // costs a new timer per round trip.
        let deadline = super::state::platform_instant(now).saturating_add(delay);
        let fired = match &mut timer {
            Some((set, fired)) if *set <= deadline => fired,
            slot => &mut slot.insert((deadline, platform.sleep_until(deadline))).1,
        };
        let requested = pin!(shared.wake.requested());
        if let Either::Right(((), _)) = select(requested, fired.as_mut()).await {
            timer = None;
        }
    }
}

/// Lets the executor run other tasks once (tokio's `yield_now`, for any executor).
fn yield_now() -> impl Future<Output = ()> {
    struct YieldNow(bool);
    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    YieldNow(false)
}

/// The frames a poll made, for the device.
enum Outgoing {
    Nothing,
    /// One frame (a segment, or its acknowledgement: most polls) goes without a `Vec`.
    One(bytes::Bytes),
    Many(Vec<bytes::Bytes>),
}

impl Outgoing {
    fn take(frames: &mut alloc::collections::VecDeque<bytes::Bytes>) -> Self {
        match frames.len() {
            0 => Outgoing::Nothing,
            1 => frames.pop_front().map_or(Outgoing::Nothing, Outgoing::One),
            _ => Outgoing::Many(frames.drain(..).collect()),
        }
    }
}

/// What happened in smoltcp that the application must hear of: a DHCP lease, and connections
/// that finished their handshake (into their port's backlog). Datagrams stay in their
/// sockets until `recv` takes them.
fn events(shared: &Rc<Shared>, state: &mut State) {
    if let Some(handle) = state.dhcp {
        let event = match state.sockets.get_mut::<dhcpv4::Socket>(handle).poll() {
            Some(dhcpv4::Event::Configured(config)) => Some(Some(State::from_dhcp(&config))),
            Some(dhcpv4::Event::Deconfigured) => Some(None),
            None => None,
        };
        match event {
            // A lease that cannot be a host's (a hostile server) is not taken.
            Some(Some(config)) => {
                let taken = state.configure(config).is_ok();
                if taken {
                    shared.configured.notify();
                }
            }
            Some(None) => state.deconfigure(),
            None => {}
        }
    }

    // Orphans first: the memory they free may fill a pool in this same poll.
    state.reap_orphans();
    if !state.pools_settled || state.queues.syns_delivered {
        pools_upkeep(shared, state);
        state.settle_pools();
    }
}

/// Connections that finished their handshake go to their port's backlog (or are refused),
/// and each pool is topped up with listening sockets.
fn pools_upkeep(shared: &Rc<Shared>, state: &mut State) {
    let ports: Vec<u16> = state.pools.keys().copied().collect();
    for port in ports {
        let pool = state.pools.get_mut(&port).expect("port listed");
        let mut accepted = Vec::new();
        pool.retain(|&handle| {
            let socket = state.sockets.get::<tcp::Socket>(handle);
            let arrived = !matches!(
                socket.state(),
                tcp::State::Listen | tcp::State::SynReceived | tcp::State::Closed
            );
            if arrived {
                accepted.push(handle);
            }
            !arrived
        });
        for handle in accepted {
            let socket = state.sockets.get_mut::<tcp::Socket>(handle);
            // Past the handshake: the connection's own timeout now.
            super::state::set_timeout(socket, state.tcp_timeout);
            let peer = match socket.remote_endpoint() {
                Some(endpoint) => SocketAddr::new(IpAddr::from(endpoint.addr), endpoint.port),
                None => SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0),
            };
            match state.backlogs.get(&port) {
                // An IPv6 peer on a port V1's `bind_tcpv4` bound: refused.
                Some(backlog)
                    if backlog.flows.borrow().len() < ACCEPT_BACKLOG
                        && (backlog.dual || peer.is_ipv4()) =>
                {
                    let flow = DirectFlow::new(shared.clone(), handle, port, peer);
                    backlog.flows.borrow_mut().push_back(flow);
                    backlog.ready.notify();
                }
                // Nobody takes connections fast enough (or the port closed): refuse.
                _ => {
                    socket.abort();
                    state.orphan(handle);
                }
            }
        }
        state.replenish(port);
    }
}
