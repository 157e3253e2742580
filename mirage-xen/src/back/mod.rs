//! Backends: serving a guest's paravirtual devices from any device of this workspace.

mod blkback;
mod console;

pub use blkback::{Blkback, ServeError};
pub use console::ConsoleBack;
