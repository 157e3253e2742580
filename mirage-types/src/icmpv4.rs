//! V1 `ICMPV4`.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::{Device, ErrorKind};
use async_trait::async_trait;
use core::net::Ipv4Addr;
use thiserror::Error;

/// Errors of the ICMP layer (abstract in V1).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IcmpError {
    /// Any failure, described.
    #[error("ICMP error: {0}")]
    Unknown(String),
    /// This stack cannot send ICMP (the socket stack).
    #[error("ICMP is not implemented by this stack")]
    Unimplemented,
    /// The stack was disconnected.
    #[error("ICMP is disconnected")]
    Disconnected,
}

impl IcmpError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            IcmpError::Unknown(_) => ErrorKind::Other,
            IcmpError::Unimplemented => ErrorKind::Unimplemented,
            IcmpError::Disconnected => ErrorKind::Disconnected,
        }
    }
}

/// V1 `ICMPV4`: sending ICMP messages. Echo requests to the host are answered by the stack.
#[async_trait(?Send)]
pub trait Icmpv4: Device {
    /// V1 `write`: sends `message` (an ICMP header and body; the checksum is filled in) to
    /// `dst`.
    async fn write(&self, dst: Ipv4Addr, message: &[u8]) -> Result<(), IcmpError>;
}
