//! `Either` of two consoles is a console that talks to the chosen side only.

use mirage_console::{MemConsole, UnixConsole};
use mirage_types::{Console, Device, Either, Flow, Read};

/// What `main.rs` does with a `--console` key: choose at run time, dispatch statically.
fn choose(memory: bool, recorder: &MemConsole) -> Either<MemConsole, UnixConsole> {
    if memory {
        Either::Left(recorder.clone())
    } else {
        Either::Right(UnixConsole::new())
    }
}

async fn greet<C: Console>(console: &C) {
    console.log_s("hi").await.unwrap();
    console.write(b"raw").await.unwrap();
    console.log("logged");
}

#[test]
fn each_side_receives_only_its_own_calls() {
    mirage_unix::run(async {
        let left = MemConsole::with_input(["from left"]);
        let right = MemConsole::with_input(["from right"]);
        let on_left: Either<MemConsole, MemConsole> = Either::Left(left.clone());
        let on_right: Either<MemConsole, MemConsole> = Either::Right(right.clone());
        greet(&on_left).await;
        assert_eq!(left.output(), "hi\nrawlogged\n");
        assert_eq!(right.output(), "");
        assert_eq!(on_right.read().await, Ok(Read::Data("from right".into())));
        greet(&on_right).await;
        assert_eq!(right.output(), "hi\nrawlogged\n");
        on_right.close().await.unwrap();
        assert!(on_right.write(b"x").await.is_err());
        assert!(on_left.write(b"x").await.is_ok());
        on_left.disconnect().await;
        assert!(on_left.read().await.is_err());

        let recorder = MemConsole::new();
        let chosen = choose(true, &recorder);
        greet(&chosen).await;
        assert_eq!(recorder.output(), "hi\nrawlogged\n");
        assert!(!choose(false, &recorder).is_left());
    });
}
