//! TLS over a transport with rustls's unbuffered server: records received are handed to
//! it in place, what it encodes or encrypts goes out in one write, and the server reads
//! and writes plaintext. No `std`: the same code serves HTTPS on Unix and in the unikernel.

use crate::http::{Broken, Transport};
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};
use rustls::ServerConfig;
use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, InsufficientSizeError};

/// The room first offered to rustls for a record it writes (it asks for more when needed).
const RECORD_ROOM: usize = 4096;

/// The most plaintext one TLS record carries (RFC 8446, 5.1).
const MAX_FRAGMENT: usize = 16 * 1024;

/// Outgoing buffer kept between writes, at most (a larger one, after a large body, is
/// given back).
const KEPT_OUTGOING: usize = 64 * 1024;

/// A TLS server connection over transport `T`.
pub struct TlsTransport<T: Transport> {
    inner: T,
    tls: UnbufferedServerConnection,
    /// TLS bytes received and not yet consumed (at most a partial record beyond what
    /// rustls is processing).
    incoming: Vec<u8>,
    /// TLS bytes encoded and not yet sent.
    outgoing: Vec<u8>,
    /// Plaintext received and not yet read.
    plaintext: BytesMut,
    /// The parts of a small write, joined to be sealed as one record.
    joined: Vec<u8>,
    /// The client's stream has ended (its close_notify, or the connection's end).
    ended: bool,
}

/// What a run of the connection is for.
#[derive(Clone, Copy)]
enum Goal<'p> {
    /// Finish the handshake.
    Handshake,
    /// Get plaintext, or learn that there is no more.
    Read,
    /// Encrypt and send these.
    Send(&'p [&'p [u8]]),
    /// Send close_notify.
    Close,
}

impl<T: Transport> TlsTransport<T> {
    /// The handshake with the client on `inner`, with `config`.
    pub async fn accept(inner: T, config: Arc<ServerConfig>) -> Result<Self, Broken> {
        let tls = UnbufferedServerConnection::new(config).map_err(|_| Broken)?;
        let mut connection = TlsTransport {
            inner,
            tls,
            incoming: Vec::new(),
            outgoing: Vec::new(),
            plaintext: BytesMut::new(),
            joined: Vec::new(),
            ended: false,
        };
        connection.run(Goal::Handshake).await?;
        Ok(connection)
    }

    /// Drives the connection until `goal` is met: hands rustls what was received, sends
    /// what it encodes, reads from the client when it needs more.
    async fn run(&mut self, goal: Goal<'_>) -> Result<(), Broken> {
        loop {
            let mut reached = false;
            let mut needs_input = false;
            let mut transmit = false;
            let status = self.tls.process_tls_records(&mut self.incoming);
            let mut discard = status.discard;
            match status.state.map_err(|_| Broken)? {
                ConnectionState::ReadTraffic(mut records) => {
                    while let Some(record) = records.next_record() {
                        let record = record.map_err(|_| Broken)?;
                        discard += record.discard;
                        self.plaintext.extend_from_slice(record.payload);
                    }
                    reached = matches!(goal, Goal::Read);
                }
                ConnectionState::EncodeTlsData(mut encoder) => {
                    write_grown(&mut self.outgoing, |room| match encoder.encode(room) {
                        Ok(written) => Ok(written),
                        Err(EncodeError::AlreadyEncoded) => Ok(0),
                        Err(EncodeError::InsufficientSize(InsufficientSizeError {
                            required_size,
                        })) => Err(Some(required_size)),
                    })?;
                }
                ConnectionState::TransmitTlsData(transmitter) => {
                    // Sent below, before rustls is asked for anything more.
                    transmitter.done();
                    transmit = true;
                }
                ConnectionState::BlockedHandshake => needs_input = true,
                ConnectionState::WriteTraffic(mut writer) => match goal {
                    Goal::Handshake => reached = true,
                    Goal::Read => {
                        reached = self.ended;
                        needs_input = !self.ended;
                    }
                    Goal::Send(parts) => {
                        // Parts that fit one record together (a head and a small body) are
                        // sealed as one: one encryption and one record's overhead.
                        let total: usize = parts.iter().map(|part| part.len()).sum();
                        if parts.len() > 1 && total <= MAX_FRAGMENT {
                            self.joined.clear();
                            for part in parts {
                                self.joined.extend_from_slice(part);
                            }
                            let joined = &self.joined;
                            write_grown(&mut self.outgoing, |room| {
                                writer.encrypt(joined, room).map_err(insufficient)
                            })?;
                        } else {
                            for part in parts {
                                write_grown(&mut self.outgoing, |room| {
                                    writer.encrypt(part, room).map_err(insufficient)
                                })?;
                            }
                        }
                        transmit = true;
                        reached = true;
                    }
                    Goal::Close => {
                        write_grown(&mut self.outgoing, |room| {
                            writer.queue_close_notify(room).map_err(insufficient)
                        })?;
                        transmit = true;
                        reached = true;
                    }
                },
                ConnectionState::PeerClosed => {
                    self.ended = true;
                    reached = matches!(goal, Goal::Read);
                }
                ConnectionState::Closed => {
                    self.ended = true;
                    return match goal {
                        Goal::Read | Goal::Close => Ok(()),
                        Goal::Handshake | Goal::Send(_) => Err(Broken),
                    };
                }
                // Early data is never accepted (the configuration offers none).
                _ => return Err(Broken),
            }
            self.incoming.drain(..discard);
            if transmit || (needs_input && !self.outgoing.is_empty()) {
                self.flush().await?;
            }
            if reached {
                return Ok(());
            }
            if needs_input {
                match self.inner.receive().await? {
                    Some(bytes) => self.incoming.extend_from_slice(&bytes),
                    // The stream ended without close_notify: no more plaintext; a
                    // handshake or a write cannot go on.
                    None if matches!(goal, Goal::Read) => {
                        self.ended = true;
                        return Ok(());
                    }
                    None => return Err(Broken),
                }
            }
        }
    }

    /// Sends what rustls encoded.
    async fn flush(&mut self) -> Result<(), Broken> {
        if self.outgoing.is_empty() {
            return Ok(());
        }
        let sent = self.inner.send(&[&self.outgoing]).await;
        self.outgoing.clear();
        if self.outgoing.capacity() > KEPT_OUTGOING {
            self.outgoing.shrink_to(KEPT_OUTGOING);
        }
        sent
    }
}

/// Room rustls asks for, from an encryption's error (`None`: another error).
fn insufficient(error: EncryptError) -> Option<usize> {
    match error {
        EncryptError::InsufficientSize(InsufficientSizeError { required_size }) => {
            Some(required_size)
        }
        _ => None,
    }
}

/// Lets `write` write at the end of `out`, growing it by what it asks for when the room
/// was too small; `write` returns how much it wrote, or the room it needs (`None`: it
/// failed).
fn write_grown(
    out: &mut Vec<u8>,
    mut write: impl FnMut(&mut [u8]) -> Result<usize, Option<usize>>,
) -> Result<(), Broken> {
    let start = out.len();
    let mut room = RECORD_ROOM;
    loop {
        out.resize(start + room, 0);
        match write(&mut out[start..]) {
            Ok(written) => {
                out.truncate(start + written);
                return Ok(());
            }
            Err(Some(required)) if required > room => room = required,
            Err(_) => {
                out.truncate(start);
                return Err(Broken);
            }
        }
    }
}

impl<T: Transport> Transport for TlsTransport<T> {
    async fn receive(&mut self) -> Result<Option<Bytes>, Broken> {
        if self.plaintext.is_empty() {
            self.run(Goal::Read).await?;
        }
        Ok((!self.plaintext.is_empty()).then(|| self.plaintext.split().freeze()))
    }

    async fn send(&mut self, parts: &[&[u8]]) -> Result<(), Broken> {
        self.run(Goal::Send(parts)).await
    }

    async fn finish(&mut self) {
        let _ = self.run(Goal::Close).await;
        self.inner.finish().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site_table::SITE;
    #[allow(unused_imports)]
    use crate::test_prelude::*;
    use crate::tls::{Tls, provider, server_config};

    /// A client that sends `reads` and then ends its stream.
    struct Scripted(std::collections::VecDeque<Vec<u8>>);

    impl Transport for Scripted {
        async fn receive(&mut self) -> Result<Option<Bytes>, Broken> {
            Ok(self.0.pop_front().map(Bytes::from))
        }
        async fn send(&mut self, _: &[&[u8]]) -> Result<(), Broken> {
            Ok(())
        }
        async fn finish(&mut self) {}
    }

    struct HostRandom;
    impl mirage_types::Random for HostRandom {
        fn self_init(&self) {}
        fn fill_bytes(&self, buf: &mut [u8]) {
            // Test keys only: any bytes do.
            for (i, byte) in buf.iter_mut().enumerate() {
                *byte = i as u8 ^ 0x5a;
            }
        }
    }

    fn config() -> Arc<ServerConfig> {
        static CONFIG: std::sync::OnceLock<Arc<ServerConfig>> = std::sync::OnceLock::new();
        CONFIG
            .get_or_init(|| {
                let tls = Tls::new(
                    provider::provider(HostRandom),
                    Arc::new(rustls::time_provider::DefaultTimeProvider),
                );
                let store = mirage_kv::StaticKv::new(SITE);
                futures::executor::block_on(server_config(&store, &tls)).unwrap()
            })
            .clone()
    }

    proptest::proptest! {
        /// Whatever a client sends for its handshake, the server refuses it or waits for
        /// more; it never panics, and a client that then leaves ends it.
        #[test]
        fn any_bytes_for_a_handshake(reads in proptest::collection::vec(
            proptest::collection::vec(proptest::num::u8::ANY, 0..600), 0..4)
        ) {
            let client = Scripted(reads.into_iter().collect());
            let accepted = futures::executor::block_on(TlsTransport::accept(client, config()));
            proptest::prop_assert!(accepted.is_err());
        }

        /// A ClientHello's record header with any body: refused, never a panic.
        #[test]
        fn a_handshake_record_with_any_body(body in proptest::collection::vec(
            proptest::num::u8::ANY, 0..2000)
        ) {
            let mut record = vec![22, 3, 1];
            record.extend_from_slice(&(body.len() as u16).to_be_bytes());
            record.extend_from_slice(&body);
            let client = Scripted([record].into_iter().collect());
            let accepted = futures::executor::block_on(TlsTransport::accept(client, config()));
            proptest::prop_assert!(accepted.is_err());
        }
    }
}
