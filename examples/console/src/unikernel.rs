//! The application, generic over its devices (the tutorial's `unikernel.ml`).

use core::time::Duration;
use mirage_types::{Console, ConsoleError, Time};

/// How many hello/world pairs to print.
pub const ROUNDS: usize = 4;

/// The tutorial's hello world: `hello`, one second, `world`, four times.
pub struct Main<C: Console, T: Time> {
    console: C,
    time: T,
}

impl<C: Console, T: Time> Main<C, T> {
    /// Applies the functor to its devices.
    pub fn new(console: C, time: T) -> Self {
        Main { console, time }
    }

    /// Runs the application: V1's `start c`.
    pub async fn start(&self) -> Result<(), ConsoleError> {
        for _ in 0..ROUNDS {
            self.console.log_s("hello").await?;
            self.time.sleep(Duration::from_secs(1)).await;
            self.console.log_s("world").await?;
        }
        Ok(())
    }
}
