//! Linux processes as a Xen platform. So far: the store, through `xenstored`'s socket.

#[allow(unused_imports)]
use crate::prelude::*;

mod xs_socket;

pub use xs_socket::XsSocket;
