//! TLS over a transport: rustls's server connection, fed the records the client sends and
//! flushed after every step, so the server reads and writes plaintext.

use crate::http::{Broken, Transport};
use bytes::{Bytes, BytesMut};
use rustls::{ServerConfig, ServerConnection};
use std::io::{ErrorKind, Read, Write};
use std::prelude::rust_2024::*;
use std::sync::Arc;

/// The plaintext read at once, at most (a TLS record's payload).
const RECORD: usize = 16 * 1024;

/// A TLS server connection over transport `T`.
pub struct TlsTransport<T: Transport> {
    inner: T,
    tls: ServerConnection,
    /// Records encrypted and not yet sent.
    out: Vec<u8>,
}

impl<T: Transport> TlsTransport<T> {
    /// The handshake with the client on `inner`, with `config`.
    pub async fn accept(inner: T, config: Arc<ServerConfig>) -> Result<Self, Broken> {
        let tls = ServerConnection::new(config).map_err(|_| Broken)?;
        let mut connection = TlsTransport {
            inner,
            tls,
            out: Vec::new(),
        };
        while connection.tls.is_handshaking() {
            connection.flush().await?;
            if connection.tls.wants_read() {
                let records = connection.inner.receive().await?.ok_or(Broken)?;
                connection.feed(&records).await?;
            }
        }
        connection.flush().await?;
        Ok(connection)
    }

    /// Hands received records to rustls; a protocol error sends its alert and breaks the
    /// connection.
    async fn feed(&mut self, mut records: &[u8]) -> Result<(), Broken> {
        while !records.is_empty() {
            self.tls.read_tls(&mut records).map_err(|_| Broken)?;
            if self.tls.process_new_packets().is_err() {
                let _ = self.flush().await;
                return Err(Broken);
            }
        }
        Ok(())
    }

    /// Sends whatever rustls has encrypted.
    async fn flush(&mut self) -> Result<(), Broken> {
        while self.tls.wants_write() {
            self.tls.write_tls(&mut self.out).map_err(|_| Broken)?;
        }
        if !self.out.is_empty() {
            let sent = self.inner.send(&[&self.out]).await;
            self.out.clear();
            sent?;
        }
        Ok(())
    }
}

impl<T: Transport> Transport for TlsTransport<T> {
    async fn receive(&mut self) -> Result<Option<Bytes>, Broken> {
        let mut plaintext = BytesMut::zeroed(RECORD);
        loop {
            match self.tls.reader().read(&mut plaintext) {
                Ok(0) => return Ok(None),
                Ok(n) => {
                    plaintext.truncate(n);
                    return Ok(Some(plaintext.freeze()));
                }
                Err(error) if error.kind() == ErrorKind::WouldBlock => {}
                // The client's stream ended without its close_notify.
                Err(_) => return Ok(None),
            }
            match self.inner.receive().await? {
                Some(records) => self.feed(&records).await?,
                None => return Ok(None),
            }
            // A key update or session ticket may want an answer.
            self.flush().await?;
        }
    }

    async fn send(&mut self, parts: &[&[u8]]) -> Result<(), Broken> {
        for part in parts {
            // rustls takes a bounded amount of plaintext at once: what it took is
            // encrypted and sent before the rest.
            let mut rest = *part;
            while !rest.is_empty() {
                let taken = self.tls.writer().write(rest).map_err(|_| Broken)?;
                rest = &rest[taken..];
                if taken == 0 || !rest.is_empty() {
                    self.flush().await?;
                }
            }
        }
        self.flush().await
    }

    async fn finish(&mut self) {
        self.tls.send_close_notify();
        let _ = self.flush().await;
        self.inner.finish().await;
    }
}
