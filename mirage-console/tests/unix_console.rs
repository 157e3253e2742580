//! The Unix console against the real standard streams of this process.
//!
//! Standard input, output and error are replaced by pipes (with `dup2`) for the length of the
//! test, so this file holds a single test: nothing else may print meanwhile.

use mirage_console::UnixConsole;
use mirage_types::{Console, ConsoleError, Device, Flow, Read};
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A pipe: (read end, write end).
fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
}

/// Points `target` (0, 1 or 2) at `file`, returning the original to restore.
fn redirect(target: i32, file: &File) -> OwnedFd {
    let saved = unsafe { libc::dup(target) };
    assert!(saved >= 0);
    assert!(unsafe { libc::dup2(file.as_raw_fd(), target) } >= 0);
    unsafe { OwnedFd::from_raw_fd(saved) }
}

fn restore(target: i32, saved: OwnedFd) {
    assert!(unsafe { libc::dup2(saved.as_raw_fd(), target) } >= 0);
}

#[test]
fn unix_console_uses_the_real_streams() {
    let (mut out_reader, out_writer) = pipe();
    let (mut err_reader, err_writer) = pipe();
    let (in_reader, mut in_writer) = pipe();
    let saved_out = redirect(1, &out_writer);
    let saved_err = redirect(2, &err_writer);
    let saved_in = redirect(0, &in_reader);
    drop((out_writer, err_writer, in_reader));
    in_writer.write_all(b"typed input").unwrap();
    drop(in_writer); // end of input after those bytes

    let outcome = mirage_unix::run(async {
        let console = UnixConsole::new();
        console.log_s("hello").await?;
        console.write(b"raw ").await?;
        console.writev(&[b"vectored", b"\n"]).await?;
        console.log("to stderr");
        console.flush_log().await;
        let first = console.read().await?;
        let second = console.read().await?;
        console.close().await?;
        let after_close = console.write(b"lost").await;
        let log_after_close = console.log_s("lost too").await;
        console.disconnect().await;
        let after_disconnect = console.read().await;
        Ok::<_, ConsoleError>((
            first,
            second,
            after_close,
            log_after_close,
            after_disconnect,
        ))
    });

    restore(0, saved_in);
    restore(1, saved_out);
    restore(2, saved_err);

    let (first, second, after_close, log_after_close, after_disconnect) = outcome.unwrap();
    assert_eq!(first, Read::Data("typed input".into()));
    assert_eq!(second, Read::Eof);
    assert_eq!(after_close, Err(ConsoleError::Closed));
    assert_eq!(log_after_close, Err(ConsoleError::Closed));
    assert_eq!(after_disconnect, Err(ConsoleError::Disconnected));

    let mut stdout = String::new();
    out_reader.read_to_string(&mut stdout).unwrap();
    assert_eq!(stdout, "hello\nraw vectored\n");
    let mut stderr = String::new();
    err_reader.read_to_string(&mut stderr).unwrap();
    assert_eq!(stderr, "to stderr\n");
}
