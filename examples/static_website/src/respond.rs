//! What the server answers: a request for a path becomes a response from the store.
//!
//! `GET` and `HEAD` only (405 otherwise); `/` and any path ending in `/` mean its
//! `index.html`; a directory named without its slash is redirected to it; keys under `tls/`
//! (the server's certificate and private key live there), in any case, are never served,
//! and the stores themselves name a value only by its exact spelling (so neither case nor a
//! FAT 8.3 alias reaches it). Every value has a strong `ETag` (see [`crate::validator`]),
//! answered with 304 when `If-None-Match` names it, and one byte range may be asked for
//! (206, or 416 outside the value; `If-Range` honoured). A body of at most [`CHUNK`] bytes
//! is read before the head is sent, so both leave in one write; a larger one is streamed
//! from the store in chunks. Either comes from one version of the value.

use crate::body::{self, Body, CHUNK};
use crate::http::{Method, Request, Response, Status};
use crate::mime::content_type;
use crate::range::{self, RangeRequest};
use crate::validator::{self, Etags, Version, status_of};
use alloc::borrow::ToOwned;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use mirage_types::{Entry, ErrorKind, KvRo};

/// Times a response is begun again when the value changes while its head is made.
const ATTEMPTS: usize = 3;

/// The directory of the server's own TLS files, never served.
const PRIVATE: &str = "tls";

/// Answers requests from a store.
pub struct Responder<K: KvRo> {
    store: Rc<K>,
    etags: Etags<K>,
}

/// Where a plain HTTP request is sent when HTTPS is on.
#[derive(Debug, Clone)]
pub struct Redirect {
    /// The HTTPS port.
    pub https_port: u16,
    /// The host named in the redirect when the request names none (HTTP/1.0): the address
    /// served on, if it is one address (`None` when serving on every address, and such a
    /// request gets 400).
    pub fallback_host: Option<String>,
}

impl<K: KvRo + 'static> Responder<K> {
    /// A responder over `store`.
    pub fn new(store: Rc<K>) -> Self {
        Responder {
            etags: Etags::new(store.clone()),
            store,
        }
    }

    /// The store.
    pub fn store(&self) -> &Rc<K> {
        &self.store
    }

    /// The response to `request` (for `HEAD`, the `GET`'s: the connection drops its body).
    pub async fn respond(&self, request: &Request) -> Response {
        if request.method() == Method::Other {
            return Response::text(Status::METHOD_NOT_ALLOWED, "method not allowed\n")
                .header("allow", "GET, HEAD");
        }
        self.get(request).await
    }

    /// The redirect of a plain HTTP request to the same path over HTTPS.
    pub fn redirect(&self, request: &Request, redirect: &Redirect) -> Response {
        let mut hosts = request.headers("host");
        let host = match (hosts.next(), hosts.next()) {
            (Some(value), None) => match core::str::from_utf8(value).ok().and_then(host_of) {
                Some(host) => host.to_owned(),
                None => return Response::text(Status::BAD_REQUEST, "bad Host header\n"),
            },
            (Some(_), Some(_)) => {
                return Response::text(Status::BAD_REQUEST, "more than one Host header\n");
            }
            (None, _) => match &redirect.fallback_host {
                Some(host) => host.clone(),
                None => {
                    return Response::text(
                        Status::BAD_REQUEST,
                        "a Host header is needed to redirect to HTTPS\n",
                    );
                }
            },
        };
        let port = match redirect.https_port {
            443 => String::new(),
            port => format!(":{port}"),
        };
        let target = request.target();
        if !target.starts_with('/') {
            return Response::text(Status::BAD_REQUEST, "bad request target\n");
        }
        Response::text(Status::MOVED_PERMANENTLY, "moved to HTTPS\n")
            .header("location", format!("https://{host}{port}{target}"))
    }

    async fn get(&self, request: &Request) -> Response {
        let path = request.path();
        let Some(key) = key_of(path) else {
            return Response::text(Status::BAD_REQUEST, "bad path\n");
        };
        if private(&key) {
            return not_found();
        }
        match self.store.exists(&key).await {
            Ok(Some(Entry::Value)) => {}
            Ok(Some(Entry::Dictionary)) if !path.ends_with('/') => {
                return Response::text(Status::MOVED_PERMANENTLY, "moved\n")
                    .header("location", format!("{path}/"));
            }
            Ok(_) => return not_found(),
            Err(error) if error.kind() == ErrorKind::NotFound => return not_found(),
            Err(_) => return server_error(),
        }
        for _ in 0..ATTEMPTS {
            match self.value(request, &key).await {
                Ok(response) => return response,
                Err(Changed::Status(status)) => return Response::text(status, "unavailable\n"),
                Err(Changed::Contents) => continue,
            }
        }
        Response::text(
            Status::SERVICE_UNAVAILABLE,
            "the value could not be read consistently\n",
        )
    }

    /// The response for value `key`: whole, a part, 304 or 416.
    async fn value(&self, request: &Request, key: &str) -> Result<Response, Changed> {
        let version = validator::version(&*self.store, key)
            .await
            .map_err(|e| Changed::Status(status_of(&e)))?;
        let size = version.size;
        let etag = self
            .etags
            .etag(key, version)
            .await
            .map_err(Changed::Status)?;
        let response = if none_match(request, &etag) {
            Response::new(Status::NOT_MODIFIED, body::empty())
        } else {
            match range::parse(range_header(request, &etag), size) {
                RangeRequest::Whole => {
                    Response::new(Status::OK, self.body(key, 0, size, version).await?).length(size)
                }
                RangeRequest::Part { start, end } => {
                    let len = end - start + 1;
                    Response::new(
                        Status::PARTIAL_CONTENT,
                        self.body(key, start, len, version).await?,
                    )
                    .length(len)
                    .header("content-range", format!("bytes {start}-{end}/{size}"))
                }
                RangeRequest::Unsatisfiable => {
                    return Ok(Response::text(Status::RANGE_NOT_SATISFIABLE, "")
                        .header("content-range", format!("bytes */{size}"))
                        .header("etag", etag)
                        .header("accept-ranges", "bytes"));
                }
            }
        };
        let mut response = response
            .header("etag", etag)
            .header("accept-ranges", "bytes");
        if response.status() != Status::NOT_MODIFIED {
            response.set_header("content-type", content_type(key));
        }
        Ok(response)
    }

    /// `len` bytes of `key` from `start` at `version`: read now when they fit in one chunk
    /// (so the head and body leave together, and a value changed meanwhile is answered
    /// afresh), streamed otherwise.
    async fn body(
        &self,
        key: &str,
        start: u64,
        len: u64,
        version: Version,
    ) -> Result<Body, Changed> {
        if len > CHUNK {
            return Ok(body::from_store(
                self.store.clone(),
                key.to_owned(),
                start,
                len,
                version,
            ));
        }
        match body::read_unchanged(&*self.store, key, start, len, version).await {
            Ok(bytes) => Ok(body::full(bytes)),
            // Changed, shrunk, gone or failing since its version was read: begin again
            // (the next version read says which).
            Err(_) => Err(Changed::Contents),
        }
    }
}

/// Why a response must be begun again, or cannot be made.
enum Changed {
    /// The value changed while the response was made.
    Contents,
    /// The store failed, or the value went: answer with this.
    Status(Status),
}

/// Whether `key` is under the private directory, spelt in any case (stores name values
/// only by their exact spelling, but the rule does not depend on that).
fn private(key: &str) -> bool {
    key.split('/')
        .next()
        .is_some_and(|first| first.eq_ignore_ascii_case(PRIVATE))
}

/// The store key a request path names: percent-decoded, `index.html` for a directory's
/// path; `None` for a path that is not one (not absolute, not UTF-8, a NUL, a `.` or `..`
/// segment).
pub fn key_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix('/')?;
    let decoded = percent_decode(rest)?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    let mut segments: Vec<&str> = decoded.split('/').collect();
    let directory = segments.last().is_some_and(|last| last.is_empty());
    if directory {
        segments.pop();
    }
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return None;
    }
    let mut key = segments.join("/");
    if directory {
        if !key.is_empty() {
            key.push('/');
        }
        key.push_str("index.html");
    }
    Some(key)
}

/// `%XX` escapes decoded; `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = core::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The host of a `Host` header (its port dropped); `None` unless it is a plain name, an
/// IPv4 address or a bracketed IPv6 address (`[fd00::2]`, RFC 3986's IP-literal): no user
/// info, path or spaces that could turn a redirect elsewhere.
fn host_of(value: &str) -> Option<&str> {
    if value.starts_with('[') {
        let end = value.find(']')?;
        let (literal, rest) = value.split_at(end + 1);
        let port_ok = rest.is_empty()
            || rest
                .strip_prefix(':')
                .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
        let address = literal[1..literal.len() - 1].parse::<core::net::Ipv6Addr>();
        return (port_ok && address.is_ok()).then_some(literal);
    }
    let host = match value.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => value,
    };
    let plain = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    plain.then_some(host)
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 says for it) or is `*`.
fn none_match(request: &Request, etag: &str) -> bool {
    request
        .headers("if-none-match")
        .filter_map(|value| core::str::from_utf8(value).ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// The `Range` header to honour: none when `If-Range` names another representation.
fn range_header<'r>(request: &'r Request, etag: &str) -> Option<&'r str> {
    if let Some(if_range) = request.headers("if-range").next()
        && if_range != etag.as_bytes()
    {
        return None;
    }
    request.header("range")
}

fn not_found() -> Response {
    Response::text(Status::NOT_FOUND, "not found\n")
}

fn server_error() -> Response {
    Response::text(Status::INTERNAL_SERVER_ERROR, "the store failed\n")
}

#[cfg(test)]
mod tests {
    use super::{host_of, key_of, private};
    #[allow(unused_imports)]
    use crate::test_prelude::*;
    use proptest::prelude::*;

    #[test]
    fn paths_become_keys() {
        assert_eq!(key_of("/").as_deref(), Some("index.html"));
        assert_eq!(key_of("/css/style.css").as_deref(), Some("css/style.css"));
        assert_eq!(key_of("/docs/").as_deref(), Some("docs/index.html"));
        assert_eq!(key_of("/a%20b.html").as_deref(), Some("a b.html"));
        for bad in [
            "",
            "css",
            "/../etc/passwd",
            "/a/../../b",
            "/./a",
            "//a",
            "/a//b",
            "/%2e%2e/x",
            "/%00",
            "/%zz",
            "/%",
            "/%ff",
            "/a\\..\\b",
        ] {
            assert_eq!(key_of(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_private_directory_in_any_case() {
        for key in [
            "tls",
            "tls/server.key",
            "TLS/server.key",
            "Tls/SERVER.KEY",
            "tLs/x/y",
        ] {
            assert!(private(key), "{key}");
        }
        for key in ["tlsx/a", "a/tls/b", "index.html", "tl/s"] {
            assert!(!private(key), "{key}");
        }
    }

    #[test]
    fn hosts_for_redirects() {
        assert_eq!(host_of("localhost:8080"), Some("localhost"));
        assert_eq!(host_of("10.0.0.2"), Some("10.0.0.2"));
        assert_eq!(host_of("[::1]:80"), Some("[::1]"));
        assert_eq!(host_of("[fd00::2]"), Some("[fd00::2]"));
        for bad in [
            "",
            ":80",
            "evil.com/x",
            "a@b",
            "a b",
            "[::1",
            "[::1]x",
            "[::1]:",
            "[::1]:8o",
            "[evil.com/x]:80",
            "[::1]@evil.com",
            "::1",
        ] {
            assert_eq!(host_of(bad), None, "{bad:?}");
        }
    }

    proptest! {
        /// No path, however hostile, gives a key that climbs out or is empty.
        #[test]
        fn keys_never_climb(path in "/[a-z./%0-9]{0,20}") {
            if let Some(key) = key_of(&path) {
                prop_assert!(!key.is_empty());
                prop_assert!(key.split('/').all(|s| !s.is_empty() && s != "." && s != ".."));
            }
        }
    }
}
