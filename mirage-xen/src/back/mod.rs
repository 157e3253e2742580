//! Backends: serving a guest's paravirtual devices from any device of this workspace.

mod blkback;

pub use blkback::{Blkback, ServeError};
