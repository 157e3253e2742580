//! An in-memory console that records its output, for tests.

use bytes::Bytes;
use mirage_types::{Console, ConsoleError, Device, Flow, Read, async_trait};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// A console whose output is kept in memory and whose input is given up front.
///
/// Everything written (`write`, `log_s`, and `log`) goes to one transcript, in order, each log
/// line followed by `"\n"`. Reads return the queued input chunks, then the end of the flow.
/// Clones share the transcript.
#[derive(Clone, Default)]
pub struct MemConsole {
    state: Rc<RefCell<State>>,
}

#[derive(Default)]
struct State {
    output: Vec<u8>,
    input: VecDeque<Bytes>,
    closed: bool,
    disconnected: bool,
}

impl MemConsole {
    /// An empty console with no input.
    pub fn new() -> Self {
        Self::default()
    }

    /// A console whose reads return `chunks`, one per read, then the end of the flow.
    pub fn with_input<I, C>(chunks: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Bytes>,
    {
        let console = Self::new();
        console.state.borrow_mut().input = chunks
            .into_iter()
            .map(Into::into)
            .filter(|chunk: &Bytes| !chunk.is_empty())
            .collect();
        console
    }

    /// Everything written so far, as bytes.
    pub fn output_bytes(&self) -> Vec<u8> {
        self.state.borrow().output.clone()
    }

    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.state.borrow().output).into_owned()
    }

    fn append(&self, parts: &[&[u8]]) -> Result<(), ConsoleError> {
        let mut state = self.state.borrow_mut();
        if state.disconnected {
            return Err(ConsoleError::Disconnected);
        }
        if state.closed {
            return Err(ConsoleError::Closed);
        }
        for part in parts {
            state.output.extend_from_slice(part);
        }
        Ok(())
    }
}

impl std::fmt::Debug for MemConsole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemConsole")
            .field("output", &self.output())
            .finish_non_exhaustive()
    }
}

#[async_trait(?Send)]
impl Device for MemConsole {
    async fn disconnect(&self) {
        self.state.borrow_mut().disconnected = true;
    }
}

#[async_trait(?Send)]
impl Flow for MemConsole {
    type Error = ConsoleError;

    async fn read(&self) -> Result<Read, ConsoleError> {
        let mut state = self.state.borrow_mut();
        if state.disconnected {
            return Err(ConsoleError::Disconnected);
        }
        if state.closed {
            return Ok(Read::Eof);
        }
        Ok(state.input.pop_front().map_or(Read::Eof, Read::Data))
    }

    async fn write(&self, buf: &[u8]) -> Result<(), ConsoleError> {
        self.append(&[buf])
    }

    async fn writev(&self, bufs: &[&[u8]]) -> Result<(), ConsoleError> {
        self.append(bufs)
    }

    async fn close(&self) -> Result<(), ConsoleError> {
        let mut state = self.state.borrow_mut();
        if state.disconnected {
            return Err(ConsoleError::Disconnected);
        }
        state.closed = true;
        Ok(())
    }
}

#[async_trait(?Send)]
impl Console for MemConsole {
    fn log(&self, line: &str) {
        let _ = self.append(&[line.as_bytes(), b"\n"]);
    }

    async fn log_s(&self, line: &str) -> Result<(), ConsoleError> {
        self.append(&[line.as_bytes(), b"\n"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_writes_and_logs_in_order() {
        let console = MemConsole::new();
        console.log_s("one").await.unwrap();
        console.write(b"two").await.unwrap();
        console.writev(&[b" ", b"three\n"]).await.unwrap();
        console.log("four");
        assert_eq!(console.output(), "one\ntwo three\nfour\n");
    }

    #[tokio::test]
    async fn reads_input_then_eof() {
        let console = MemConsole::with_input(["ab", "", "c"]);
        assert_eq!(console.read().await, Ok(Read::Data(Bytes::from("ab"))));
        assert_eq!(console.read().await, Ok(Read::Data(Bytes::from("c"))));
        assert_eq!(console.read().await, Ok(Read::Eof));
        assert_eq!(console.read().await, Ok(Read::Eof));
    }

    #[tokio::test]
    async fn close_then_disconnect() {
        let console = MemConsole::with_input(["pending"]);
        console.log_s("before").await.unwrap();
        console.close().await.unwrap();
        assert_eq!(console.write(b"x").await, Err(ConsoleError::Closed));
        assert_eq!(console.log_s("after").await, Err(ConsoleError::Closed));
        assert_eq!(console.read().await, Ok(Read::Eof));
        console.log("dropped");
        console.disconnect().await;
        assert_eq!(console.read().await, Err(ConsoleError::Disconnected));
        assert_eq!(console.write(b"x").await, Err(ConsoleError::Disconnected));
        assert_eq!(console.output(), "before\n");
    }
}
