//! The Unix console: stdout, stdin and (for `log`) stderr.

use bytes::BytesMut;
use mirage_types::{Console, ConsoleError, Device, Flow, Read, async_trait};
use std::cell::{Cell, RefCell};
use std::io::Write as _;
use std::rc::Rc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Mutex, mpsc, oneshot};

/// The most one `read` returns.
const READ_CHUNK: usize = 4096;

/// V1's Unix console (`Console_unix`): `log_s` and `write` go to stdout, `log` to stderr,
/// `read` takes from stdin.
///
/// A handle: clones share the same streams and state. Output from concurrent tasks is never
/// interleaved within one `log_s` or `write`.
#[derive(Clone)]
pub struct UnixConsole {
    inner: Rc<Inner>,
}

struct Inner {
    stdout: Mutex<tokio::io::Stdout>,
    stdin: Mutex<tokio::io::Stdin>,
    closed: Cell<bool>,
    disconnected: Cell<bool>,
    /// The queue of the stderr writer task behind `log`, started on first use.
    log_queue: RefCell<Option<mpsc::UnboundedSender<LogItem>>>,
}

enum LogItem {
    Line(String),
    /// Answered once every earlier line is written.
    Barrier(oneshot::Sender<()>),
}

impl UnixConsole {
    /// Connects to the process's standard streams (V1's `Console_unix.connect "0"`; it cannot
    /// fail).
    pub fn new() -> Self {
        UnixConsole {
            inner: Rc::new(Inner {
                stdout: Mutex::new(tokio::io::stdout()),
                stdin: Mutex::new(tokio::io::stdin()),
                closed: Cell::new(false),
                disconnected: Cell::new(false),
                log_queue: RefCell::new(None),
            }),
        }
    }

    fn check_open(&self) -> Result<(), ConsoleError> {
        if self.inner.disconnected.get() {
            Err(ConsoleError::Disconnected)
        } else if self.inner.closed.get() {
            Err(ConsoleError::Closed)
        } else {
            Ok(())
        }
    }

    async fn write_stdout(&self, parts: &[&[u8]]) -> Result<(), ConsoleError> {
        self.check_open()?;
        let mut stdout = self.inner.stdout.lock().await;
        for part in parts {
            stdout.write_all(part).await.map_err(io_error)?;
        }
        stdout.flush().await.map_err(io_error)
    }

    /// The sender of the stderr writer, started on first use. `None` outside a tokio runtime.
    fn log_sender(&self) -> Option<mpsc::UnboundedSender<LogItem>> {
        let mut queue = self.inner.log_queue.borrow_mut();
        if queue.is_none() {
            let runtime = tokio::runtime::Handle::try_current().ok()?;
            let (sender, receiver) = mpsc::unbounded_channel();
            runtime.spawn(write_log_lines(receiver));
            *queue = Some(sender);
        }
        queue.clone()
    }

    /// Waits until every line given to `log` so far has been written to stderr.
    pub async fn flush_log(&self) {
        let Some(sender) = self.inner.log_queue.borrow().clone() else {
            return;
        };
        let (done, written) = oneshot::channel();
        if sender.send(LogItem::Barrier(done)).is_ok() {
            let _ = written.await;
        }
    }
}

impl Default for UnixConsole {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for UnixConsole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixConsole")
            .field("closed", &self.inner.closed.get())
            .field("disconnected", &self.inner.disconnected.get())
            .finish()
    }
}

async fn write_log_lines(mut receiver: mpsc::UnboundedReceiver<LogItem>) {
    let mut stderr = tokio::io::stderr();
    while let Some(item) = receiver.recv().await {
        match item {
            // Best effort: a failing stderr loses the line, as V1's `log` may.
            LogItem::Line(line) => {
                let _ = stderr.write_all(line.as_bytes()).await;
                let _ = stderr.flush().await;
            }
            LogItem::Barrier(done) => {
                let _ = done.send(());
            }
        }
    }
}

fn io_error(error: std::io::Error) -> ConsoleError {
    ConsoleError::Io(error.into())
}

#[async_trait(?Send)]
impl Device for UnixConsole {
    async fn disconnect(&self) {
        self.flush_log().await;
        self.inner.disconnected.set(true);
        self.inner.log_queue.borrow_mut().take();
    }
}

#[async_trait(?Send)]
impl Flow for UnixConsole {
    type Error = ConsoleError;

    /// Up to 4096 bytes from stdin; [`Read::Eof`] at the end of input or after `close`.
    async fn read(&self) -> Result<Read, ConsoleError> {
        if self.inner.disconnected.get() {
            return Err(ConsoleError::Disconnected);
        }
        if self.inner.closed.get() {
            return Ok(Read::Eof);
        }
        let mut stdin = self.inner.stdin.lock().await;
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        match stdin.read_buf(&mut buf).await.map_err(io_error)? {
            0 => Ok(Read::Eof),
            _ => Ok(Read::Data(buf.freeze())),
        }
    }

    async fn write(&self, buf: &[u8]) -> Result<(), ConsoleError> {
        self.write_stdout(&[buf]).await
    }

    async fn writev(&self, bufs: &[&[u8]]) -> Result<(), ConsoleError> {
        self.write_stdout(bufs).await
    }

    /// Marks the console closed: later writes fail with [`ConsoleError::Closed`] and reads
    /// see the end of the flow. The process's streams stay open.
    async fn close(&self) -> Result<(), ConsoleError> {
        self.check_open()?;
        self.inner.closed.set(true);
        Ok(())
    }
}

#[async_trait(?Send)]
impl Console for UnixConsole {
    /// Queues `line` and `"\n"` for stderr and returns at once (V1 Unix `log`). Outside a
    /// tokio runtime the line is written directly.
    fn log(&self, line: &str) {
        if self.check_open().is_err() {
            return;
        }
        let text = format!("{line}\n");
        match self.log_sender() {
            Some(sender) => {
                let _ = sender.send(LogItem::Line(text));
            }
            None => {
                let _ = std::io::stderr().write_all(text.as_bytes());
            }
        }
    }

    /// Writes `line` and `"\n"` to stdout and resolves once the whole line is written.
    async fn log_s(&self, line: &str) -> Result<(), ConsoleError> {
        self.write_stdout(&[line.as_bytes(), b"\n"]).await
    }
}
