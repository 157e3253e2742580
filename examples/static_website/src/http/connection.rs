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
