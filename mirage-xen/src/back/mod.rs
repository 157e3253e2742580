//! Backends: serving a guest's paravirtual devices from any device of this workspace.

mod blkback;
mod console;
mod netback;

pub use blkback::{Blkback, ServeError};
pub use console::ConsoleBack;
pub use netback::Netback;
