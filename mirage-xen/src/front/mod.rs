//! Frontends: the guest's side of paravirtual devices, implementing this workspace's device
//! traits over rings shared with a backend.

#[allow(unused_imports)]
use crate::prelude::*;

mod blkfront;
mod console;
mod link;
mod netfront;
mod requests;

pub use blkfront::Blkfront;
pub use console::XenConsole;
pub use netfront::Netfront;
