//! One connection's requests, kept alive: each head read within the header timeout, its
//! answer written, its body (if any) read past, until either side ends it.

use super::request::{BodyLength, Method, Parsed, Request};
use super::response::{Persistence, Response};
use super::status::Status;
use super::transport::{Broken, Transport};
use bytes::BytesMut;
use core::future::Future;
use core::pin::pin;
use core::time::Duration;
use futures::future::{Either, select};
use mirage_types::Time;

/// The largest request body the server reads past to keep a connection open (a larger one
/// gets 413 and the connection closes).
pub const MAX_DISCARDED_BODY: u64 = 1024 * 1024;

/// Serves the requests that come over `io`, answering each with `respond`; a client gets
/// `header_timeout` (on `time`) for each request's head, from when the server waits for it,
/// and for reading past its body.
///
/// Requests may be pipelined; a client that half-closes after its requests still gets
/// their answers. A malformed head gets its 4xx and the connection closes.
pub async fn serve<T, C>(
    io: &mut T,
    time: &C,
    header_timeout: Duration,
    respond: impl AsyncFn(&Request) -> Response,
) where
    T: Transport,
    C: Time + ?Sized,
{
    let mut buffer = BytesMut::new();
    let mut ended = false;
    loop {
        let head = within(time, header_timeout, next_head(io, &mut buffer, &mut ended)).await;
        let request = match head {
            Some(Ok(request)) => request,
            Some(Err(Stop::Invalid(status))) => {
                let _ = send(
                    io,
                    Response::text(status, "bad request\n"),
                    Persistence::Close,
                )
                .await;
                io.finish().await;
                return;
            }
            // The client left, the connection broke, or the head took too long.
            Some(Err(Stop::Ended)) | None => return,
        };
        let (response, skip, keep_alive) = match request.body_length() {
            Err(status) => (Response::text(status, "bad request framing\n"), 0, false),
            Ok(BodyLength::Chunked) => (
                Response::text(
                    Status::NOT_IMPLEMENTED,
                    "request bodies must have a length\n",
                ),
                0,
                false,
            ),
            Ok(BodyLength::Exactly(len)) if len > MAX_DISCARDED_BODY => (
                Response::text(Status::CONTENT_TOO_LARGE, "request body too large\n"),
                0,
                false,
            ),
            Ok(BodyLength::Exactly(len)) => {
                // A client waiting for `100 Continue` sends its body only after it; it gets
                // the final answer instead, so the connection cannot carry on.
                let waits = len > 0 && request.has_token("expect", "100-continue");
                (respond(&request).await, len, request.keep_alive() && !waits)
            }
        };
        let response = if request.method() == Method::Head {
            response.without_body()
        } else {
            response
        };
        let persistence = match (keep_alive, request.is_http11()) {
            (false, _) => Persistence::Close,
            (true, true) => Persistence::KeepAlive11,
            (true, false) => Persistence::KeepAlive10,
        };
        drop(request);
        if send(io, response, persistence).await.is_err() {
            return;
        }
        if !keep_alive {
            io.finish().await;
            return;
        }
        let skipped = within(time, header_timeout, skip_body(io, &mut buffer, skip)).await;
        if skipped != Some(Ok(())) {
            return;
        }
    }
}

/// Why no request came.
enum Stop {
    /// The client ended its stream (between requests, or mid-head), or the connection broke.
    Ended,
    /// Not a request: answer with this and close.
    Invalid(Status),
}

/// `future`, or `None` once `limit` has passed.
async fn within<F: Future, C: Time + ?Sized>(
    time: &C,
    limit: Duration,
    future: F,
) -> Option<F::Output> {
    match select(pin!(future), time.sleep(limit)).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(((), _)) => None,
    }
}

/// The next request head: from what `buffer` holds, reading more as needed.
async fn next_head<T: Transport>(
    io: &mut T,
    buffer: &mut BytesMut,
    ended: &mut bool,
) -> Result<Request, Stop> {
    loop {
        if !buffer.is_empty() {
            match Request::parse(buffer) {
                Parsed::Request(request) => return Ok(request),
                Parsed::Invalid(status) => return Err(Stop::Invalid(status)),
                Parsed::Partial => {}
            }
        }
        if *ended {
            return Err(Stop::Ended);
        }
        match io.receive().await {
            Ok(Some(bytes)) => buffer.extend_from_slice(&bytes),
            Ok(None) => *ended = true,
            Err(Broken) => return Err(Stop::Ended),
        }
    }
}

/// Reads past `len` bytes of request body (what `buffer` holds first).
async fn skip_body<T: Transport>(
    io: &mut T,
    buffer: &mut BytesMut,
    mut len: u64,
) -> Result<(), Broken> {
    let held = len.min(buffer.len() as u64);
    let _ = buffer.split_to(held as usize);
    len -= held;
    while len > 0 {
        let bytes = io.receive().await?.ok_or(Broken)?;
        if (bytes.len() as u64) > len {
            buffer.extend_from_slice(&bytes[len as usize..]);
            len = 0;
        } else {
            len -= bytes.len() as u64;
        }
    }
    Ok(())
}

/// Writes `response`: the head with the first chunk of the body (all of a body in memory)
/// in one write, then the rest chunk by chunk. A body that fails part-way breaks the
/// connection, so the client sees a short response.
async fn send<T: Transport>(
    io: &mut T,
    mut response: Response,
    persistence: Persistence,
) -> Result<(), Broken> {
    let head = response.head(persistence);
    let mut head = Some(&head[..]);
    let body = response.body_mut();
    while let Some(chunk) = body.next_chunk().await {
        let chunk = chunk.map_err(|_| Broken)?;
        match head.take() {
            Some(head) => io.send(&[head, &chunk]).await?,
            None => io.send(&[&chunk]).await?,
        }
    }
    match head {
        Some(head) => io.send(&[head]).await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::test_prelude::*;
    use bytes::Bytes;

    /// A client that sends `incoming` (each item one read) then ends its stream; what the
    /// server writes is kept.
    struct Scripted {
        incoming: std::collections::VecDeque<Bytes>,
        written: Vec<u8>,
        finished: bool,
    }

    impl Scripted {
        fn new(reads: &[&str]) -> Self {
            Scripted {
                incoming: reads.iter().map(|r| Bytes::from(r.to_string())).collect(),
                written: Vec::new(),
                finished: false,
            }
        }
    }

    impl Transport for Scripted {
        async fn receive(&mut self) -> Result<Option<Bytes>, Broken> {
            Ok(self.incoming.pop_front())
        }

        async fn send(&mut self, parts: &[&[u8]]) -> Result<(), Broken> {
            for part in parts {
                self.written.extend_from_slice(part);
            }
            Ok(())
        }

        async fn finish(&mut self) {
            self.finished = true;
        }
    }

    /// A clock whose timeouts never come.
    struct Never;

    #[mirage_types::async_trait(?Send)]
    impl Time for Never {
        async fn sleep(&self, _: Duration) {
            core::future::pending().await
        }
    }

    /// What the server writes for `reads`, each request answered with its target.
    fn exchange(reads: &[&str]) -> (String, bool) {
        let mut io = Scripted::new(reads);
        futures::executor::block_on(serve(
            &mut io,
            &Never,
            Duration::from_secs(10),
            async |request: &Request| {
                let body = request.target().to_string();
                let len = body.len() as u64;
                Response::new(Status::OK, crate::body::full(body)).length(len)
            },
        ));
        (String::from_utf8(io.written).unwrap(), io.finished)
    }

    fn statuses(written: &str) -> Vec<&str> {
        written
            .split("HTTP/1.1 ")
            .skip(1)
            .map(|answer| &answer[..3])
            .collect()
    }

    #[test]
    fn pipelined_requests_in_pieces_are_answered_in_order() {
        let (written, _) = exchange(&[
            "GET /a HTTP/1.1\r\nHo",
            "st: x\r\n\r\nGET /b HTTP/1.1\r\n\r\nHEAD /c HTTP/1.1\r\n\r\n",
        ]);
        assert_eq!(statuses(&written), ["200", "200", "200"], "{written}");
        assert!(written.contains("\r\n\r\n/a") && written.contains("\r\n\r\n/b"));
        // HEAD: GET's length, no body.
        assert!(written.ends_with("content-length: 2\r\n\r\n"), "{written}");
    }

    #[test]
    fn bodies_are_read_past_and_framing_errors_close() {
        let (written, finished) = exchange(&[
            "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\n\r\n",
        ]);
        assert_eq!(statuses(&written), ["200", "200"], "{written}");
        assert!(!finished, "kept alive until the client ended");
        for (request, status) in [
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                "501",
            ),
            ("POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", "413"),
            (
                "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                "400",
            ),
            ("GET / HTTP/3.0\r\n\r\n", "505"),
            ("NOT HTTP\r\n\r\n", "400"),
        ] {
            let (written, finished) = exchange(&[request, "GET /never HTTP/1.1\r\n\r\n"]);
            assert_eq!(statuses(&written), [status], "{request:?}: {written}");
            assert!(written.contains("connection: close\r\n"), "{written}");
            assert!(finished, "{request:?}");
        }
    }

    #[test]
    fn expect_continue_and_http10_close_after_the_answer() {
        let (written, finished) = exchange(&[
            "PUT /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
            "abcGET /b HTTP/1.1\r\n\r\n",
        ]);
        assert_eq!(statuses(&written), ["200"], "{written}");
        assert!(finished);
        let (written, _) = exchange(&["GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n"]);
        assert_eq!(statuses(&written), ["200"], "{written}");
        let (written, _) =
            exchange(&["GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n"]);
        assert_eq!(statuses(&written), ["200", "200"], "{written}");
        assert!(written.contains("connection: keep-alive\r\n"), "{written}");
    }

    #[test]
    fn a_silent_client_is_dropped_at_the_timeout() {
        struct Silent;
        impl Transport for Silent {
            async fn receive(&mut self) -> Result<Option<Bytes>, Broken> {
                core::future::pending().await
            }
            async fn send(&mut self, _: &[&[u8]]) -> Result<(), Broken> {
                Ok(())
            }
            async fn finish(&mut self) {}
        }
        /// Timeouts that come at once.
        struct Now;
        #[mirage_types::async_trait(?Send)]
        impl Time for Now {
            async fn sleep(&self, _: Duration) {}
        }
        futures::executor::block_on(serve(
            &mut Silent,
            &Now,
            Duration::from_secs(1),
            async |_: &Request| -> Response { unreachable!("no request came") },
        ));
    }
}
