//! Response status codes, with the reason phrase the status line carries.

/// An HTTP status code the site answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status(u16);

impl Status {
    /// 200.
    pub const OK: Status = Status(200);
    /// 206: one range of the value.
    pub const PARTIAL_CONTENT: Status = Status(206);
    /// 301: moved (a directory's slash, or to HTTPS).
    pub const MOVED_PERMANENTLY: Status = Status(301);
    /// 304: the client's copy is current.
    pub const NOT_MODIFIED: Status = Status(304);
    /// 400: a request the server cannot read.
    pub const BAD_REQUEST: Status = Status(400);
    /// 404.
    pub const NOT_FOUND: Status = Status(404);
    /// 405: neither `GET` nor `HEAD`.
    pub const METHOD_NOT_ALLOWED: Status = Status(405);
    /// 413: a request body larger than the server reads.
    pub const CONTENT_TOO_LARGE: Status = Status(413);
    /// 416: a range outside the value.
    pub const RANGE_NOT_SATISFIABLE: Status = Status(416);
    /// 431: a request head larger than the server reads.
    pub const HEADER_FIELDS_TOO_LARGE: Status = Status(431);
    /// 500: the store failed.
    pub const INTERNAL_SERVER_ERROR: Status = Status(500);
    /// 501: a request framing the server does not take (a chunked request body).
    pub const NOT_IMPLEMENTED: Status = Status(501);
    /// 503: the value could not be read consistently.
    pub const SERVICE_UNAVAILABLE: Status = Status(503);
    /// 505: a protocol other than HTTP/1.0 and HTTP/1.1.
    pub const VERSION_NOT_SUPPORTED: Status = Status(505);

    /// The code.
    pub fn code(self) -> u16 {
        self.0
    }

    /// The reason phrase of the status line.
    pub fn reason(self) -> &'static str {
        match self.0 {
            200 => "OK",
            206 => "Partial Content",
            301 => "Moved Permanently",
            304 => "Not Modified",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            413 => "Content Too Large",
            416 => "Range Not Satisfiable",
            431 => "Request Header Fields Too Large",
            500 => "Internal Server Error",
            501 => "Not Implemented",
            503 => "Service Unavailable",
            505 => "HTTP Version Not Supported",
            _ => "",
        }
    }

    /// Whether a response with this status carries no body, whatever its headers say.
    pub fn has_no_body(self) -> bool {
        self.0 == 304 || self.0 == 204 || self.0 < 200
    }
}

impl core::fmt::Display for Status {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} {}", self.0, self.reason())
    }
}
