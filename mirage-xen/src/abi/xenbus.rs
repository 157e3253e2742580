//! The XenBus device states (`io/xenbus.h`), written as decimal strings to `state` nodes.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt;

/// A device's state, as each side publishes it in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum XenbusState {
    /// Not yet known.
    Unknown = 0,
    /// Getting ready.
    Initialising = 1,
    /// The backend published its features and waits for the frontend.
    InitWait = 2,
    /// The frontend published its rings.
    Initialised = 3,
    /// Running.
    Connected = 4,
    /// Shutting down.
    Closing = 5,
    /// Shut down.
    Closed = 6,
    /// Being reconfigured.
    Reconfiguring = 7,
    /// Reconfigured.
    Reconfigured = 8,
}

impl XenbusState {
    /// The state a `state` node holds (`"4"`), or `None` for anything else.
    pub fn parse(text: &str) -> Option<XenbusState> {
        Some(match text.trim_end_matches('\0').trim() {
            "0" => XenbusState::Unknown,
            "1" => XenbusState::Initialising,
            "2" => XenbusState::InitWait,
            "3" => XenbusState::Initialised,
            "4" => XenbusState::Connected,
            "5" => XenbusState::Closing,
            "6" => XenbusState::Closed,
            "7" => XenbusState::Reconfiguring,
            "8" => XenbusState::Reconfigured,
            _ => return None,
        })
    }
}

impl fmt::Display for XenbusState {
    /// The decimal form written to the store.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", *self as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_junk_is_refused() {
        for n in 0..=8u8 {
            let state = XenbusState::parse(&n.to_string()).unwrap();
            assert_eq!(state as u8, n);
            assert_eq!(state.to_string(), n.to_string());
        }
        for junk in ["", "9", "-1", "4x", "connected"] {
            assert_eq!(XenbusState::parse(junk), None, "{junk}");
        }
        assert_eq!(XenbusState::parse("4\0"), Some(XenbusState::Connected));
    }
}
