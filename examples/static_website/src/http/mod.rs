//! HTTP/1.1 for an origin server, without `std`: request heads parsed by `httparse`,
//! responses written by the site, over any [`Transport`] (a TCP flow, TLS over one), with
//! a clock from Mirage's `Time`. The same code serves on Unix and in the unikernel.

mod connection;
mod date;
mod request;
mod response;
mod status;
mod transport;

pub use connection::{MAX_DISCARDED_BODY, serve};
pub use date::{DateCache, http_date};
pub use request::{BodyLength, MAX_HEAD, MAX_HEADERS, Method, Parsed, Request};
pub use response::{Persistence, Response};
pub use status::Status;
pub use transport::{Broken, TcpTransport, Transport};
