//! XenBus: how a frontend and a backend find each other in the store and agree, state by
//! state, that the device is connected.
//!
//! Each side writes its own `state` node and watches the other's. States may be skipped
//! (a frontend may go straight to Connected), a peer may close or vanish at any point, and
//! neither side ever trusts what the other wrote without checking it.

#[allow(unused_imports)]
use crate::prelude::*;

mod device;
mod state;

pub use device::{DeviceKind, DevicePaths, create_device};
pub use state::{read_state, wait_for_state, wait_until_closed, write_state};
