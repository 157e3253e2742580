//! `mir-static_website`: composes the website with the Unix console, the stack and the store
//! the keys choose.

use clap::Parser;
use mir_stackv4::keys::Net;
use mir_stackv4::stack::{direct, socket};
use mir_static_website::keys::Keys;
use mir_static_website::site::write_site;
use mir_static_website::store::{Store, open};
use mir_static_website::unikernel::{Config, Main};
use mirage_console::UnixConsole;
use mirage_types::StackV4V6;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let keys = Keys::parse();
    if let Some(dir) = &keys.write_site {
        return match write_site(dir) {
            Ok(count) => {
                println!("wrote {count} files to {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(error) => fail(&format!("{}: {error}", dir.display())),
        };
    }
    mirage_unix::run(async {
        let console = UnixConsole::new();
        let store = match open(keys.kv_ro, &keys.htdocs, &keys.image).await {
            Ok(store) => store,
            Err(message) => return fail(&message),
        };
        match keys.stack.stack() {
            Net::Socket => {
                let stack = socket(&keys.stack);
                serve(console, stack, store, &keys).await
            }
            Net::Direct => match direct(&console, &keys.stack).await {
                Ok(stack) => serve(console, stack, store, &keys).await,
                Err(message) => fail(&message),
            },
        }
    })
}

async fn serve<S: StackV4V6>(
    console: UnixConsole,
    stack: S,
    store: Store,
    keys: &Keys,
) -> ExitCode {
    let config = Config::default()
        .http_port(keys.http_port)
        .https_port(keys.https.then_some(keys.https_port))
        .max_connections(keys.max_connections)
        .header_timeout(Duration::from_secs(keys.header_timeout))
        .clock(mirage_unix::UnixClock);
    match Main::new(console, stack, mirage_unix::UnixTime, store, config)
        .start()
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("mir-static_website: {message}");
    ExitCode::FAILURE
}
