//! A request's head, parsed (`httparse`) from the bytes a connection received.
//!
//! The head is kept as the bytes it came in (shared, not copied) with the places of its
//! parts, so a request costs one small allocation beyond them.

use super::status::Status;
use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};
use core::ops::Range;

/// The most header fields a request may have (more: 431).
pub const MAX_HEADERS: usize = 64;

/// The longest request head (more: 431), as the server's read buffer is bounded.
pub const MAX_HEAD: usize = 64 * 1024;

/// A request's method, as the site tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: the headers of a `GET`, no body.
    Head,
    /// Anything else (answered with 405).
    Other,
}

/// How the request's body, if any, is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLength {
    /// This many bytes (`Content-Length`; 0 without one).
    Exactly(u64),
    /// A `Transfer-Encoding` body (not taken: 501, and the connection closes).
    Chunked,
}

/// A parsed request head.
#[derive(Debug, Clone)]
pub struct Request {
    head: Bytes,
    method: Method,
    target: Range<usize>,
    minor_version: u8,
    headers: Vec<(Range<usize>, Range<usize>)>,
}

/// What parsing the start of a buffer found.
#[derive(Debug)]
pub enum Parsed {
    /// A whole head, taken from the front of the buffer.
    Request(Request),
    /// Not a whole head yet: read more (unless the buffer is at [`MAX_HEAD`]).
    Partial,
    /// Not a request the server can read: answer with this status and close.
    Invalid(Status),
}

impl Request {
    /// Takes a request head from the front of `buffer`, if it holds a whole one.
    pub fn parse(buffer: &mut BytesMut) -> Parsed {
        let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut fields);
        let length = match request.parse(buffer) {
            Ok(httparse::Status::Complete(length)) => length,
            Ok(httparse::Status::Partial) if buffer.len() >= MAX_HEAD => {
                return Parsed::Invalid(Status::HEADER_FIELDS_TOO_LARGE);
            }
            Ok(httparse::Status::Partial) => return Parsed::Partial,
            Err(httparse::Error::TooManyHeaders) => {
                return Parsed::Invalid(Status::HEADER_FIELDS_TOO_LARGE);
            }
            // An HTTP version other than 1.x gets 505; a line that names none is no request.
            Err(httparse::Error::Version) if names_an_http_version(buffer) => {
                return Parsed::Invalid(Status::VERSION_NOT_SUPPORTED);
            }
            Err(_) => return Parsed::Invalid(Status::BAD_REQUEST),
        };
        if length > MAX_HEAD {
            return Parsed::Invalid(Status::HEADER_FIELDS_TOO_LARGE);
        }
        let base = buffer.as_ptr() as usize;
        let place = |part: &[u8]| {
            let start = part.as_ptr() as usize - base;
            start..start + part.len()
        };
        // A complete parse fills all three.
        let (Some(method), Some(target), Some(minor_version)) =
            (request.method, request.path, request.version)
        else {
            return Parsed::Invalid(Status::BAD_REQUEST);
        };
        let method = match method {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            _ => Method::Other,
        };
        let target = place(target.as_bytes());
        let headers = request
            .headers
            .iter()
            .map(|field| (place(field.name.as_bytes()), place(field.value)))
            .collect();
        Parsed::Request(Request {
            head: buffer.split_to(length).freeze(),
            method,
            target,
            minor_version,
            headers,
        })
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The request target as sent (a path and query, for an origin server).
    pub fn target(&self) -> &str {
        // httparse takes only visible ASCII into the target.
        core::str::from_utf8(&self.head[self.target.clone()]).unwrap_or_default()
    }

    /// The target's path: the target up to its query.
    pub fn path(&self) -> &str {
        let target = self.target();
        target.split_once('?').map_or(target, |(path, _)| path)
    }

    /// Whether it is HTTP/1.1 (not 1.0).
    pub fn is_http11(&self) -> bool {
        self.minor_version == 1
    }

    /// The values of header `name` (any case), in order.
    pub fn headers<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        self.headers
            .iter()
            .filter(move |(field, _)| {
                self.head[field.clone()].eq_ignore_ascii_case(name.as_bytes())
            })
            .map(|(_, value)| &self.head[value.clone()])
    }

    /// The value of header `name` (any case) as text: its first, or `None` when it is
    /// missing or not visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        let value = self.headers(name).next()?;
        core::str::from_utf8(value).ok().filter(|v| v.is_ascii())
    }

    /// Whether a comma-separated header `name` has token `token` (any case), as
    /// `Connection: keep-alive, Upgrade`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers(name)
            .flat_map(|value| value.split(|&b| b == b','))
            .any(|item| item.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    }

    /// Whether the client asked to keep the connection open after this request: HTTP/1.1
    /// unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        if self.has_token("connection", "close") {
            false
        } else {
            self.is_http11() || self.has_token("connection", "keep-alive")
        }
    }

    /// How its body is framed; a 400 for conflicting or malformed lengths (which could
    /// frame a second, smuggled request).
    pub fn body_length(&self) -> Result<BodyLength, Status> {
        if self.headers("transfer-encoding").next().is_some() {
            return if self.headers("content-length").next().is_some() || !self.is_http11() {
                Err(Status::BAD_REQUEST)
            } else {
                Ok(BodyLength::Chunked)
            };
        }
        let mut length = None;
        for value in self.headers("content-length") {
            let parsed = parse_length(value).ok_or(Status::BAD_REQUEST)?;
            if length.is_some_and(|known| known != parsed) {
                return Err(Status::BAD_REQUEST);
            }
            length = Some(parsed);
        }
        Ok(BodyLength::Exactly(length.unwrap_or(0)))
    }
}

/// Whether the request line (its start, in `head`) ends in `HTTP/` and a version.
fn names_an_http_version(head: &[u8]) -> bool {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.rsplit(|&b| b == b' ')
        .next()
        .and_then(|version| version.strip_prefix(b"HTTP/"))
        .is_some_and(|number| {
            !number.is_empty() && number.iter().all(|&b| b.is_ascii_digit() || b == b'.')
        })
}

/// A `Content-Length` value: digits only, no sign or spaces, within `u64`.
fn parse_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    value.iter().try_fold(0u64, |n, &digit| {
        n.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::test_prelude::*;

    fn parse(text: &str) -> Parsed {
        Request::parse(&mut BytesMut::from(text))
    }

    fn request(text: &str) -> Request {
        match parse(text) {
            Parsed::Request(request) => request,
            other => panic!("{text:?}: {other:?}"),
        }
    }

    #[test]
    fn a_get_and_its_headers() {
        let mut buffer = BytesMut::from(
            "GET /a%20b/?x=1 HTTP/1.1\r\nHost: site\r\nIf-None-Match: \"1\"\r\nif-none-match: \"2\"\r\n\r\nGET /next",
        );
        let Parsed::Request(request) = Request::parse(&mut buffer) else {
            panic!()
        };
        assert_eq!(request.method(), Method::Get);
        assert_eq!(request.target(), "/a%20b/?x=1");
        assert_eq!(request.path(), "/a%20b/");
        assert_eq!(request.header("HOST"), Some("site"));
        let tags: Vec<&[u8]> = request.headers("If-None-Match").collect();
        assert_eq!(tags, [&b"\"1\""[..], b"\"2\""]);
        assert!(request.keep_alive());
        assert_eq!(request.body_length(), Ok(BodyLength::Exactly(0)));
        // The next request's start stays in the buffer.
        assert_eq!(&buffer[..], b"GET /next");
        assert!(matches!(Request::parse(&mut buffer), Parsed::Partial));
    }

    #[test]
    fn keep_alive_by_version_and_connection() {
        assert!(!request("GET / HTTP/1.0\r\n\r\n").keep_alive());
        assert!(request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive());
        assert!(!request("GET / HTTP/1.1\r\nConnection: x, close\r\n\r\n").keep_alive());
        assert_eq!(request("HEAD / HTTP/1.1\r\n\r\n").method(), Method::Head);
        assert_eq!(request("DELETE / HTTP/1.1\r\n\r\n").method(), Method::Other);
    }

    #[test]
    fn body_framing() {
        let length = |text: &str| request(text).body_length();
        assert_eq!(
            length("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n"),
            Ok(BodyLength::Exactly(12))
        );
        assert_eq!(
            length("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Ok(BodyLength::Chunked)
        );
        for bad in [
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert_eq!(length(bad), Err(Status::BAD_REQUEST), "{bad:?}");
        }
    }

    #[test]
    fn bad_and_oversized_heads() {
        assert!(matches!(parse("GET / HTTP/1.1\r\n"), Parsed::Partial));
        assert!(matches!(
            parse("hello\r\n\r\n"),
            Parsed::Invalid(Status::BAD_REQUEST)
        ));
        assert!(matches!(
            parse("GET / HTTP/2.0\r\n\r\n"),
            Parsed::Invalid(Status::VERSION_NOT_SUPPORTED)
        ));
        assert!(matches!(
            parse("NOT HTTP AT ALL\r\n\r\n"),
            Parsed::Invalid(Status::BAD_REQUEST)
        ));
        let many = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "a: b\r\n".repeat(MAX_HEADERS + 1)
        );
        assert!(matches!(
            parse(&many),
            Parsed::Invalid(Status::HEADER_FIELDS_TOO_LARGE)
        ));
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_HEAD));
        assert!(matches!(
            parse(&long),
            Parsed::Invalid(Status::HEADER_FIELDS_TOO_LARGE)
        ));
    }

    proptest::proptest! {
        /// No bytes make the parser panic, and a parsed head's parts stay inside it.
        #[test]
        fn any_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let mut buffer = BytesMut::from(&bytes[..]);
            if let Parsed::Request(request) = Request::parse(&mut buffer) {
                let _ = (request.target(), request.header("host"), request.body_length());
            }
        }
    }
}
