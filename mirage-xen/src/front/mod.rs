//! Frontends: the guest's side of paravirtual devices, implementing this workspace's device
//! traits over rings shared with a backend.

mod blkfront;
mod requests;

pub use blkfront::Blkfront;
