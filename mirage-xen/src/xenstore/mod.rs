//! A xenstore client speaking the wire protocol (`xs_wire.h`) over any byte transport: a
//! `xenstored` socket (dom0, tools, backends) or a guest's xenstore ring. Replies are matched
//! to requests by id, and watch events, which may come before or after any reply, go to
//! their watches.

#[allow(unused_imports)]
use crate::prelude::*;

mod client;
mod ring;
mod wire;

pub use client::{XsClient, XsTransport, XsWatch};
pub use ring::XsRing;
