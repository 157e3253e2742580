#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod clock;
mod monotonic_clock;
mod random;
mod run;
mod stop;
mod tap;
mod time;

pub use clock::UnixClock;
pub use monotonic_clock::UnixMonotonicClock;
pub use random::UnixRandom;
pub use run::run;
pub use stop::stop_requested;
pub use tap::Tap;
pub use time::UnixTime;
