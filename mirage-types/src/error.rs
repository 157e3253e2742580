//! The one question generic code asks of any error: what kind of failure is it?

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use crate::ErrorKind;

/// An error generic code can decide on, in embedded-io's shape: every family error
/// (`BlockError`, `KvError`, `TcpError`, ...) implements it, and [`crate::Flow::Error`]
/// must, so a function generic over a flow or a store can retry on
/// [`ErrorKind::Timeout`] or answer 404 on [`ErrorKind::NotFound`] without knowing the
/// backend. The concrete error keeps its detail (`Display`) and its `source()`.
///
/// ```
/// use mirage_types::{Error, ErrorKind, Flow, Read};
///
/// /// The next read, with a timeout or a reset treated as the end of the stream.
/// async fn read_or_end<F: Flow>(flow: &F) -> Result<Read, F::Error> {
///     match flow.read().await {
///         Err(error) if matches!(error.kind(), ErrorKind::Timeout | ErrorKind::Reset) => {
///             Ok(Read::Eof)
///         }
///         other => other,
///     }
/// }
/// ```
pub trait Error: core::fmt::Debug + core::fmt::Display {
    /// What kind of failure this is.
    fn kind(&self) -> ErrorKind;
}

impl Error for core::convert::Infallible {
    fn kind(&self) -> ErrorKind {
        match *self {}
    }
}

#[cfg(feature = "std")]
impl Error for std::io::Error {
    fn kind(&self) -> ErrorKind {
        ErrorKind::of_io(std::io::Error::kind(self))
    }
}

/// Implements [`Error`] for family errors through their inherent `kind`, and (with `std`)
/// converts each into an [`std::io::Error`] of the matching [`std::io::ErrorKind`] (see
/// [`ErrorKind::to_io`]), keeping the error itself as the inner error: what an
/// `AsyncRead`/`AsyncWrite` adapter or a `std::io` caller needs.
macro_rules! family_errors {
    ($($error:ty),* $(,)?) => {
        $(impl Error for $error {
            fn kind(&self) -> ErrorKind {
                <$error>::kind(self)
            }
        }

        #[cfg(feature = "std")]
        impl From<$error> for std::io::Error {
            fn from(error: $error) -> Self {
                std::io::Error::new(error.kind().to_io(), error)
            }
        })*
    };
}

family_errors!(
    crate::ArpError,
    crate::BlockError,
    crate::ConsoleError,
    crate::FsError,
    crate::IcmpError,
    crate::IpError,
    crate::KvError,
    crate::NetError,
    crate::RandomError,
    crate::StackError,
    crate::TcpError,
    crate::UdpError,
);

#[cfg(feature = "std")]
family_errors!(crate::IoError);
