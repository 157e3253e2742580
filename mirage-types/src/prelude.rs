//! The traits a `Main` calls methods of, in one import: `use mirage_types::prelude::*;`.
//!
//! Trait methods can only be called with their trait in scope; an application generic over
//! a console, a stack and a store otherwise imports a dozen names before it writes a line.
//! The traits come by name (for bounds: `C: Console`); [`crate::Error`] comes unnamed, for
//! its `kind()` on a generic error without clashing with `std::error::Error`.
//!
//! ```
//! use mirage_types::prelude::*;
//!
//! /// Logs each line a TCP client sends, and stores the last one.
//! async fn serve<C: Console, S: StackV4, K: KvRw>(console: &C, stack: &S, store: &K) {
//!     let Ok(listener) = stack.bind_tcpv4(7).await else { return };
//!     while let Ok(flow) = listener.accept().await {
//!         while let Ok(Read::Data(bytes)) = flow.read().await {
//!             console.log(&String::from_utf8_lossy(&bytes));
//!             if let Err(error) = store.set("last", &bytes).await {
//!                 console.log(&format!("not stored ({}): {error}", error.kind()));
//!             }
//!         }
//!     }
//! }
//! ```

pub use crate::Error as _;
pub use crate::{
    Arp, Block, Channel, Clock, Console, Device, Entry, ErrorKind, Ethif, Flow, Fs, Icmpv4, Ipv4,
    KvRo, KvRw, MonotonicClock, Network, Random, Read, StackV4, StackV4V6, TcpFlow, TcpListener,
    TcpListenerV4V6, TcpV4V6, Tcpv4, Time, UdpListener, UdpListenerV4V6, UdpV4V6, Udpv4,
};
