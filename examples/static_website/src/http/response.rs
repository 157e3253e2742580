//! A response: its status, its header fields, its body; and its head as sent.

use super::status::Status;
use crate::body::{self, Body};
use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::fmt::Write;

/// A response to one request.
pub struct Response {
    status: Status,
    headers: Vec<(&'static str, Cow<'static, str>)>,
    content_length: Option<u64>,
    body: Body,
}

/// Whether the connection stays open after a response, as its head tells the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Open, for an HTTP/1.1 client (the default: nothing said).
    KeepAlive11,
    /// Open, for an HTTP/1.0 client that asked (`Connection: keep-alive`).
    KeepAlive10,
    /// Closed after this response (`Connection: close`).
    Close,
}

impl Response {
    /// A response with `status` and `body`, without a `Content-Length` yet.
    pub fn new(status: Status, body: Body) -> Self {
        Response {
            status,
            headers: Vec::new(),
            content_length: None,
            body,
        }
    }

    /// A short plain-text response.
    pub fn text(status: Status, message: &'static str) -> Self {
        Response::new(status, body::full(message))
            .length(message.len() as u64)
            .header("content-type", "text/plain; charset=utf-8")
    }

    /// With header `name` (lower case) set to `value`, which must be visible ASCII and
    /// spaces (a value that is not is left out, so no header can be split in two).
    pub fn header(mut self, name: &'static str, value: impl Into<Cow<'static, str>>) -> Self {
        self.set_header(name, value);
        self
    }

    /// Sets header `name` (lower case) to `value` (see [`Response::header`]).
    pub fn set_header(&mut self, name: &'static str, value: impl Into<Cow<'static, str>>) {
        let value = value.into();
        if !value.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
            return;
        }
        self.headers.retain(|(known, _)| *known != name);
        self.headers.push((name, value));
    }

    /// With `Content-Length: len`.
    pub fn length(mut self, len: u64) -> Self {
        self.content_length = Some(len);
        self
    }

    /// The status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The value of header `name` (lower case), if set.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| &**value)
    }

    /// Its header fields (but `Content-Length`, which [`Response::content_length`] gives),
    /// in the order set.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.headers.iter().map(|(name, value)| (*name, &**value))
    }

    /// The `Content-Length` it declares.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The body.
    pub fn body_mut(&mut self) -> &mut Body {
        &mut self.body
    }

    /// The body, taken out.
    pub fn into_body(self) -> Body {
        self.body
    }

    /// Drops the body, keeping the headers (a `HEAD` answer: the `GET`'s `Content-Length`).
    pub fn without_body(mut self) -> Self {
        self.body = body::empty();
        self
    }

    /// The status line and header fields, ending with the empty line.
    pub fn head(&self, persistence: Persistence) -> Vec<u8> {
        let mut head = alloc::string::String::with_capacity(256);
        // Writing to a String cannot fail.
        let _ = write!(head, "HTTP/1.1 {}\r\n", self.status);
        for (name, value) in &self.headers {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        if let Some(len) = self.content_length
            && !self.status.has_no_body()
        {
            let _ = write!(head, "content-length: {len}\r\n");
        }
        match persistence {
            Persistence::KeepAlive11 => {}
            Persistence::KeepAlive10 => head.push_str("connection: keep-alive\r\n"),
            Persistence::Close => head.push_str("connection: close\r\n"),
        }
        head.push_str("\r\n");
        head.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::test_prelude::*;

    #[test]
    fn heads() {
        let response = Response::text(Status::NOT_FOUND, "not found\n").header("etag", "\"x\"");
        assert_eq!(
            core::str::from_utf8(&response.head(Persistence::KeepAlive11)).unwrap(),
            "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain; charset=utf-8\r\netag: \"x\"\r\ncontent-length: 10\r\n\r\n"
        );
        let not_modified = Response::new(Status::NOT_MODIFIED, body::empty()).length(5);
        assert_eq!(
            not_modified.head(Persistence::Close),
            b"HTTP/1.1 304 Not Modified\r\nconnection: close\r\n\r\n"
        );
    }

    #[test]
    fn a_value_that_would_split_the_head_is_left_out() {
        let response = Response::new(Status::MOVED_PERMANENTLY, body::empty())
            .header("location", "/a\r\nset-cookie: x");
        assert_eq!(response.header_value("location"), None);
    }
}
