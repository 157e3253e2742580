//! The example's colours: ANSI escapes, or none.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;

/// Whether to colour output, as `--color` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "unix", derive(clap::ValueEnum))]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Wraps lines in the tutorial's colours, or leaves them plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    enabled: bool,
}

impl Palette {
    /// A palette that colours (`true`) or not.
    pub fn new(enabled: bool) -> Self {
        Palette { enabled }
    }

    /// Decides from `--color`, whether stdout is a terminal, and `NO_COLOR`.
    #[cfg(feature = "unix")]
    pub fn choose(choice: ColorChoice) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Palette::new(match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && std::io::IsTerminal::is_terminal(&std::io::stdout()),
        })
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[m")
        } else {
            text.to_owned()
        }
    }

    /// Red (`ESC[31m`).
    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    /// Green (`ESC[32m`).
    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Yellow (`ESC[33m`).
    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_the_tutorials() {
        let on = Palette::new(true);
        assert_eq!(on.red("x"), "\x1b[31mx\x1b[m");
        assert_eq!(on.green("x"), "\x1b[32mx\x1b[m");
        assert_eq!(on.yellow("x"), "\x1b[33mx\x1b[m");
        assert_eq!(Palette::new(false).red("x"), "x");
        assert_eq!(Palette::choose(ColorChoice::Never), Palette::new(false));
        assert_eq!(Palette::choose(ColorChoice::Always), Palette::new(true));
    }
}
