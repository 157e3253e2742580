//! `ConsoleBack`: a guest's console served onto any `Console` here (its output written
//! there, input read from there).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::abi::console::{INPUT, OUTPUT};
use crate::abi::xenbus::XenbusState;
use crate::platform::{Platform, Port, Watch};
use crate::ring::RingError;
use crate::xenbus::{DevicePaths, read_state, write_state};
use futures::future::{Either, select};
use mirage_types::{Console, Read};

use super::ServeError;

/// A guest console's backend.
pub struct ConsoleBack<P: Platform, C: Console> {
    platform: P,
    paths: DevicePaths,
    console: C,
}

impl<P: Platform, C: Console> ConsoleBack<P, C> {
    /// A backend for console `paths` (the toolstack made its directories), onto `console`.
    pub fn new(platform: P, paths: DevicePaths, console: C) -> Self {
        ConsoleBack {
            platform,
            paths,
            console,
        }
    }

    /// Serves the console to one frontend after another: when the frontend closes (or
    /// restarts), waits for it to connect again and serves it again; returns once the device
    /// is removed (the frontend's directory is gone, or `online` is 0 in the backend's).
    pub async fn run(&self) -> Result<(), ServeError> {
        let never = super::stop::StopFlag::default();
        super::serve_connections(&self.platform, &self.paths, &never, || self.serve()).await
    }

    /// Moves output and input until the guest closes the console.
    pub async fn serve(&self) -> Result<(), ServeError> {
        let store = &self.platform;
        let (front, back) = (&self.paths.frontend, &self.paths.backend);
        super::await_frontend(store, &self.paths, &[]).await?;
        let number = |node: &'static str| super::frontend_number(store, &self.paths, node);
        let page = self
            .platform
            .map(self.paths.frontend_id, number("ring-ref").await?, true)?;
        let port = self
            .platform
            .bind_interdomain(self.paths.frontend_id, number("port").await?)?;
        write_state(store, back, XenbusState::Connected).await?;
        let state = store.watch(&format!("{front}/state")).await?;
        let mut input_open = true;
        loop {
            let mut output = Vec::new();
            OUTPUT.read(&page, &mut output).map_err(ServeError::Ring)?;
            if !output.is_empty() {
                port.notify();
                let _ = self.console.write(&output).await;
            }
            let outcome = {
                let changed = core::pin::pin!(state.next());
                let event = core::pin::pin!(port.wait());
                let reading = input_open;
                let input = core::pin::pin!(async move {
                    if reading {
                        self.console.read().await
                    } else {
                        core::future::pending().await
                    }
                });
                match select(changed, select(event, input)).await {
                    Either::Left((changed, _)) => Either::Left(changed),
                    Either::Right((Either::Left(((), _)), _)) => Either::Right(None),
                    Either::Right((Either::Right((read, _)), _)) => Either::Right(Some(read)),
                }
            };
            match outcome {
                Either::Left(changed) => {
                    changed?;
                    if super::frontend_left(read_state(store, front).await?) {
                        let mut rest = Vec::new();
                        let _ = OUTPUT.read(&page, &mut rest);
                        let _ = self.console.write(&rest).await;
                        // Unmap and unbind before saying Closed: the guest ends its grant
                        // once it reads that.
                        drop((page, port));
                        write_state(store, back, XenbusState::Closed).await?;
                        return Ok(());
                    }
                }
                Either::Right(None) => {}
                Either::Right(Some(read)) => match read {
                    Ok(Read::Data(bytes)) => {
                        let mut bytes = &bytes[..];
                        while !bytes.is_empty() {
                            let written = INPUT.write(&page, bytes).map_err(ServeError::Ring)?;
                            port.notify();
                            bytes = &bytes[written..];
                            if !bytes.is_empty() {
                                port.wait().await;
                            }
                        }
                    }
                    Ok(Read::Eof) | Err(_) => input_open = false,
                },
            }
        }
    }
}

impl From<RingError> for ServeError {
    fn from(error: RingError) -> Self {
        ServeError::Ring(error)
    }
}
