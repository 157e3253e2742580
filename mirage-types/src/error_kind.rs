//! What kind of failure an error is, for generic code.

#[allow(unused_imports)]
use crate::alloc_prelude::*;

use core::fmt;

/// The kind of a failure, shared by every family's error (`BlockError::kind`,
/// `TcpError::kind`, ...).
///
/// Generic code decides on the kind (retry on [`ErrorKind::Timeout`], answer 404 on
/// [`ErrorKind::NotFound`]); the concrete error keeps the detail and its `source()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The named thing does not exist: a key, a path, a file, a device.
    NotFound,
    /// It exists already.
    AlreadyExists,
    /// The operating system refused access.
    PermissionDenied,
    /// A write to something read-only.
    ReadOnly,
    /// Nothing answered in time.
    Timeout,
    /// The peer refused the connection.
    Refused,
    /// The peer reset the connection.
    Reset,
    /// This side already closed the flow or console.
    Closed,
    /// The device was disconnected.
    Disconnected,
    /// The device or stack cannot do this.
    Unimplemented,
    /// The request itself is wrong: a bad length, alignment, address or argument.
    InvalidInput,
    /// The request reaches past the end of the device.
    OutOfRange,
    /// The device or filesystem is full.
    NoSpace,
    /// A file operation on a directory, or the reverse.
    WrongEntryKind,
    /// A directory that must be empty is not.
    NotEmpty,
    /// The stored data is not in the expected format, or is corrupted.
    Corrupted,
    /// A port or address is in use.
    AddressInUse,
    /// A bound was reached: a line longer than allowed, more than a buffer may hold.
    LimitExceeded,
    /// Any other input/output failure of the operating system or device.
    Io,
    /// None of the above.
    Other,
}

impl ErrorKind {
    /// The kind of an operating-system error.
    #[cfg(feature = "std")]
    pub fn of_io(kind: std::io::ErrorKind) -> ErrorKind {
        use std::io::ErrorKind as K;
        match kind {
            K::NotFound => ErrorKind::NotFound,
            K::AlreadyExists => ErrorKind::AlreadyExists,
            K::PermissionDenied => ErrorKind::PermissionDenied,
            K::ReadOnlyFilesystem => ErrorKind::ReadOnly,
            K::TimedOut => ErrorKind::Timeout,
            K::ConnectionRefused => ErrorKind::Refused,
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => ErrorKind::Reset,
            K::InvalidInput | K::InvalidData => ErrorKind::InvalidInput,
            K::StorageFull | K::QuotaExceeded | K::FileTooLarge => ErrorKind::NoSpace,
            K::IsADirectory | K::NotADirectory => ErrorKind::WrongEntryKind,
            K::DirectoryNotEmpty => ErrorKind::NotEmpty,
            K::AddrInUse => ErrorKind::AddressInUse,
            K::Unsupported => ErrorKind::Unimplemented,
            _ => ErrorKind::Io,
        }
    }
}

impl ErrorKind {
    /// The nearest operating-system kind (the inverse of [`ErrorKind::of_io`] where one
    /// exists), so that converting an error to [`std::io::Error`] keeps what it was.
    #[cfg(feature = "std")]
    pub fn to_io(self) -> std::io::ErrorKind {
        use std::io::ErrorKind as K;
        match self {
            ErrorKind::NotFound => K::NotFound,
            ErrorKind::AlreadyExists => K::AlreadyExists,
            ErrorKind::PermissionDenied => K::PermissionDenied,
            ErrorKind::ReadOnly => K::ReadOnlyFilesystem,
            ErrorKind::Timeout => K::TimedOut,
            ErrorKind::Refused => K::ConnectionRefused,
            ErrorKind::Reset => K::ConnectionReset,
            ErrorKind::Closed => K::BrokenPipe,
            ErrorKind::Disconnected => K::NotConnected,
            ErrorKind::Unimplemented => K::Unsupported,
            ErrorKind::InvalidInput | ErrorKind::OutOfRange | ErrorKind::LimitExceeded => {
                K::InvalidInput
            }
            ErrorKind::NoSpace => K::StorageFull,
            ErrorKind::WrongEntryKind => K::IsADirectory,
            ErrorKind::NotEmpty => K::DirectoryNotEmpty,
            ErrorKind::Corrupted => K::InvalidData,
            ErrorKind::AddressInUse => K::AddrInUse,
            ErrorKind::Io | ErrorKind::Other => K::Other,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
