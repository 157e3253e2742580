//! An operating-system error kept whole, with what was being done (with `std` only).

use crate::ErrorKind;
#[allow(unused_imports)]
use crate::alloc_prelude::*;
use std::fmt;
use std::io;
use std::sync::Arc;

/// An operating-system error with what was being done: its [`io::ErrorKind`] and the
/// [`io::Error`] itself (as `source()`) stay available.
///
/// Cheap to clone (the error is shared). Two `IoError`s are equal when they say the same
/// thing: same context, kind, OS error number and message.
#[derive(Clone)]
pub struct IoError {
    context: String,
    error: Arc<io::Error>,
}

impl IoError {
    /// `error`, which happened while doing `context` (for example `"opening disk.img"`).
    pub fn new(context: impl Into<String>, error: io::Error) -> Self {
        IoError {
            context: context.into(),
            error: Arc::new(error),
        }
    }

    /// What was being done.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The operating system's kind of error.
    pub fn io_kind(&self) -> io::ErrorKind {
        self.error.kind()
    }

    /// The family-independent kind.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::of_io(self.error.kind())
    }

    /// The error number, when the operating system gave one.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.error.raw_os_error()
    }

    /// The underlying error.
    pub fn io_error(&self) -> &io::Error {
        &self.error
    }
}

impl fmt::Debug for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoError")
            .field("context", &self.context)
            .field("error", &self.error)
            .finish()
    }
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.context.is_empty() {
            write!(f, "{}", self.error)
        } else {
            write!(f, "{}: {}", self.context, self.error)
        }
    }
}

impl std::error::Error for IoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.error)
    }
}

impl PartialEq for IoError {
    fn eq(&self, other: &Self) -> bool {
        self.context == other.context
            && self.error.kind() == other.error.kind()
            && self.error.raw_os_error() == other.error.raw_os_error()
            && self.error.to_string() == other.error.to_string()
    }
}

impl Eq for IoError {}

impl From<io::Error> for IoError {
    fn from(error: io::Error) -> Self {
        IoError::new("", error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn keeps_the_kind_and_the_source() {
        let error = IoError::new(
            "opening disk.img",
            io::Error::from_raw_os_error(libc_enoent()),
        );
        assert_eq!(error.io_kind(), io::ErrorKind::NotFound);
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert!(error.to_string().starts_with("opening disk.img: "));
        let source = error.source().expect("a source");
        assert!(source.downcast_ref::<io::Error>().is_some());
        assert_eq!(error.clone(), error);
    }

    fn libc_enoent() -> i32 {
        2
    }
}
