//! `xenstored`'s Unix socket as a xenstore transport (dom0's tools and backends).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::platform::XenError;
use crate::xenstore::XsTransport;
use async_trait::async_trait;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// A connection to `xenstored`'s socket: privileged, as dom0.
pub struct XsSocket {
    reader: tokio::sync::Mutex<tokio::net::unix::OwnedReadHalf>,
    writer: tokio::sync::Mutex<tokio::net::unix::OwnedWriteHalf>,
}

/// The socket's usual place; `XENSTORED_PATH` overrides it, as for Xen's own tools.
pub const DEFAULT_SOCKET: &str = "/run/xenstored/socket";

impl XsSocket {
    /// Connects to the socket at `path`, or `$XENSTORED_PATH`, or the default.
    pub async fn connect(path: Option<&Path>) -> Result<Self, XenError> {
        let path = match path {
            Some(path) => path.to_path_buf(),
            None => std::env::var_os("XENSTORED_PATH")
                .map(Into::into)
                .unwrap_or_else(|| DEFAULT_SOCKET.into()),
        };
        let stream = UnixStream::connect(&path).await.map_err(|error| {
            XenError::NotFound(format!(
                "xenstored's socket {}: {error} (is xenstored running? XENSTORED_PATH names \
                 another socket)",
                path.display()
            ))
        })?;
        let (reader, writer) = stream.into_split();
        Ok(XsSocket {
            reader: tokio::sync::Mutex::new(reader),
            writer: tokio::sync::Mutex::new(writer),
        })
    }
}

#[async_trait(?Send)]
impl XsTransport for XsSocket {
    async fn send(&self, bytes: &[u8]) -> Result<(), XenError> {
        self.writer
            .lock()
            .await
            .write_all(bytes)
            .await
            .map_err(|e| XenError::Other(format!("xenstored's socket: {e}")))
    }

    async fn recv(&self, buffer: &mut Vec<u8>) -> Result<(), XenError> {
        let mut chunk = [0u8; 4096];
        let n = self
            .reader
            .lock()
            .await
            .read(&mut chunk)
            .await
            .map_err(|e| XenError::Other(format!("xenstored's socket: {e}")))?;
        if n == 0 {
            return Err(XenError::Other("xenstored closed its socket".into()));
        }
        buffer.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}
