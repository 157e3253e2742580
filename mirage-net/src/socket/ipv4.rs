//! The socket stack's IPv4 view: the configured interfaces.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use super::Inner;
use mirage_types::{Device, IpError, Ipv4, async_trait};
use std::net::Ipv4Addr;
use std::rc::Rc;

/// V1 `IPV4` on the socket stack. The host owns addressing and routing, so the view reports
/// the interfaces the stack listens on (`0.0.0.0` for all, as V1 did) and refuses changes
/// and raw packets with [`IpError::Unimplemented`].
#[derive(Clone)]
pub struct SocketIpv4 {
    inner: Rc<Inner>,
}

impl SocketIpv4 {
    pub(crate) fn new(inner: Rc<Inner>) -> Self {
        SocketIpv4 { inner }
    }
}

#[async_trait(?Send)]
impl Device for SocketIpv4 {
    /// A view owns nothing: disconnect the stack to stop it.
    async fn disconnect(&self) {}
}

#[async_trait(?Send)]
impl Ipv4 for SocketIpv4 {
    fn get_ip(&self) -> Vec<Ipv4Addr> {
        self.inner.config.interfaces.clone()
    }

    async fn set_ip(&self, _ip: Ipv4Addr) -> Result<(), IpError> {
        Err(IpError::Unimplemented)
    }

    fn get_ip_netmasks(&self) -> Vec<Ipv4Addr> {
        Vec::new()
    }

    async fn set_ip_netmask(&self, _netmask: Ipv4Addr) -> Result<(), IpError> {
        Err(IpError::Unimplemented)
    }

    fn get_ip_gateways(&self) -> Vec<Ipv4Addr> {
        Vec::new()
    }

    async fn set_ip_gateways(&self, _gateways: Vec<Ipv4Addr>) -> Result<(), IpError> {
        Err(IpError::Unimplemented)
    }

    fn get_source(&self, _dst: Ipv4Addr) -> Ipv4Addr {
        self.inner.source_address()
    }

    async fn write(
        &self,
        _dst: Ipv4Addr,
        _protocol: u8,
        _payload: &[&[u8]],
    ) -> Result<(), IpError> {
        Err(IpError::Unimplemented)
    }
}
