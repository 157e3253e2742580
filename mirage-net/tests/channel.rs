//! `FlowChannel` over an in-memory flow whose reads split the input at chosen places.

use bytes::Bytes;
use mirage_net::FlowChannel;
use mirage_types::{Channel, Flow, Read, async_trait};
use proptest::prelude::*;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;

/// A flow that returns its input in the given chunks, and records what is written.
#[derive(Default)]
struct Chunked {
    chunks: RefCell<VecDeque<Bytes>>,
    written: RefCell<Vec<u8>>,
    closed: RefCell<bool>,
}

impl Chunked {
    /// `input` cut at each position in `cuts`.
    fn new(input: &[u8], cuts: &[usize]) -> Self {
        let mut points: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
        points.push(0);
        points.push(input.len());
        points.sort_unstable();
        points.dedup();
        let chunks = points
            .windows(2)
            .map(|w| Bytes::copy_from_slice(&input[w[0]..w[1]]))
            .collect();
        Chunked {
            chunks: RefCell::new(chunks),
            ..Default::default()
        }
    }
}

#[async_trait(?Send)]
impl Flow for Chunked {
    type Error = Infallible;
    async fn read(&self) -> Result<Read, Infallible> {
        tokio::task::yield_now().await;
        Ok(self
            .chunks
            .borrow_mut()
            .pop_front()
            .map_or(Read::Eof, Read::Data))
    }
    async fn write(&self, buf: &[u8]) -> Result<(), Infallible> {
        self.written.borrow_mut().extend_from_slice(buf);
        Ok(())
    }
    async fn close(&self) -> Result<(), Infallible> {
        *self.closed.borrow_mut() = true;
        Ok(())
    }
}

fn run<F: std::future::Future>(future: F) -> F::Output {
    mirage_unix::run(future)
}

async fn lines(channel: &FlowChannel<Chunked>) -> Vec<String> {
    let mut lines = Vec::new();
    while let Some(line) = channel.read_line().await.unwrap() {
        lines.push(String::from_utf8(line.to_vec()).unwrap());
    }
    lines
}

const TEXT: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody\nlast";

#[test]
fn read_line_at_every_split() {
    run(async {
        for cut in 0..=TEXT.len() {
            for second in cut..=TEXT.len() {
                let channel = FlowChannel::new(Chunked::new(TEXT, &[cut, second]));
                assert_eq!(
                    lines(&channel).await,
                    ["GET / HTTP/1.1", "Host: x", "", "body", "last"],
                    "cuts at {cut}, {second}"
                );
            }
        }
    });
}

#[test]
fn read_char_and_read_until_at_every_split() {
    run(async {
        for cut in 0..=TEXT.len() {
            let channel = FlowChannel::new(Chunked::new(TEXT, &[cut]));
            let mut bytes = Vec::new();
            while let Some(byte) = channel.read_char().await.unwrap() {
                bytes.push(byte);
            }
            assert_eq!(bytes, TEXT);

            let channel = FlowChannel::new(Chunked::new(TEXT, &[cut]));
            let mut rebuilt = Vec::new();
            loop {
                let (found, part) = channel.read_until(b':').await.unwrap();
                if !found && part.is_empty() {
                    break;
                }
                rebuilt.extend_from_slice(&part);
                if found {
                    rebuilt.push(b':');
                }
            }
            assert_eq!(rebuilt, TEXT, "cut at {cut}");
        }
    });
}

#[test]
fn read_some_respects_its_limit_and_ends_with_eof() {
    run(async {
        let channel = FlowChannel::new(Chunked::new(b"abcdef", &[4]));
        assert_eq!(
            channel.read_some(Some(3)).await.unwrap(),
            Read::Data("abc".into())
        );
        assert_eq!(
            channel.read_some(None).await.unwrap(),
            Read::Data("d".into())
        );
        assert_eq!(
            channel.read_some(Some(0)).await.unwrap(),
            Read::Data("e".into())
        );
        assert_eq!(
            channel.read_some(None).await.unwrap(),
            Read::Data("f".into())
        );
        assert_eq!(channel.read_some(None).await.unwrap(), Read::Eof);
        assert_eq!(channel.read_char().await.unwrap(), None);
        assert_eq!(channel.read_line().await.unwrap(), None);
    });
}

#[test]
fn writes_are_buffered_until_flush_and_close_flushes() {
    run(async {
        let channel = FlowChannel::new(Chunked::default());
        channel.write_char(b'>');
        channel.write_string("hello ");
        channel.write_buffer(b"there");
        channel.write_line(b"!");
        assert!(channel.flow().written.borrow().is_empty());
        channel.flush().await.unwrap();
        assert_eq!(&channel.flow().written.borrow()[..], b">hello there!\n");
        channel.write_line(b"bye");
        channel.close().await.unwrap();
        assert_eq!(
            &channel.flow().written.borrow()[..],
            b">hello there!\nbye\n"
        );
        assert!(*channel.flow().closed.borrow());
    });
}

proptest! {
    #[test]
    fn lines_survive_any_chunking(
        lines_in in proptest::collection::vec("[a-z \r]{0,12}", 0..8),
        cuts in proptest::collection::vec(0usize..120, 0..10),
    ) {
        let text = lines_in.iter().map(|l| format!("{l}\n")).collect::<String>();
        let expected: Vec<String> = lines_in
            .iter()
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned())
            .collect();
        let got = run(async {
            lines(&FlowChannel::new(Chunked::new(text.as_bytes(), &cuts))).await
        });
        prop_assert_eq!(got, expected);
    }
}

/// A flow that sends `remaining` bytes of `x` in 4 KiB chunks, never a newline, and counts
/// what the channel took.
struct Endless {
    remaining: RefCell<usize>,
    taken: RefCell<usize>,
}

#[async_trait(?Send)]
impl Flow for Endless {
    type Error = Infallible;
    async fn read(&self) -> Result<Read, Infallible> {
        let mut remaining = self.remaining.borrow_mut();
        if *remaining == 0 {
            return Ok(Read::Eof);
        }
        let n = (*remaining).min(4096);
        *remaining -= n;
        *self.taken.borrow_mut() += n;
        Ok(Read::Data(Bytes::from(vec![b'x'; n])))
    }
    async fn write(&self, _: &[u8]) -> Result<(), Infallible> {
        Ok(())
    }
    async fn close(&self) -> Result<(), Infallible> {
        Ok(())
    }
}

#[test]
fn a_line_without_end_is_refused_at_the_limit_not_kept() {
    run(async {
        let flow = Endless {
            remaining: RefCell::new(200 * 1024 * 1024),
            taken: RefCell::new(0),
        };
        let channel = FlowChannel::new(flow);
        let error = channel.read_line().await.unwrap_err();
        assert_eq!(
            error,
            mirage_types::ChannelError::LineTooLong {
                limit: FlowChannel::<Endless>::DEFAULT_MAX_LINE
            }
        );
        assert_eq!(
            mirage_types::Error::kind(&error),
            mirage_types::ErrorKind::LimitExceeded
        );
        // It stopped reading a chunk past the limit, not at the end of the 200 MB.
        let taken = *channel.flow().taken.borrow();
        assert!(
            taken <= FlowChannel::<Endless>::DEFAULT_MAX_LINE + 8192,
            "{taken}"
        );

        // A line exactly at a smaller limit passes (with or without `\r`); one byte more fails.
        for (input, ok) in [
            (&b"abcd\n"[..], true),
            (b"abcd\r\n", true),
            (b"abcde\n", false),
            (b"abcde", false),
        ] {
            let channel = FlowChannel::with_max_line(Chunked::new(input, &[2]), 4);
            assert_eq!(channel.read_line().await.is_ok(), ok, "{input:?}");
        }
    });
}
