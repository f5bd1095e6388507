//! Colours named by meaning (sent, received, tls, error, info) and the colour decision
//! (`--color`, NO_COLOR, CLICOLOR_FORCE, CLICOLOR, TERM=dumb, each stream's own tty).
//!
//! `colored` alone gets two things wrong for us (colored 3.x): it colours under `TERM=dumb`, and it
//! judges stderr by stdout's tty. So ehlo makes the decision itself ([`decide`]), once per stream,
//! and the renderer only asks `colored` to paint a line when that line's stream wants colour
//! ([`stdout_color`], [`stderr_color`]). [`configure`] also sets `colored`'s global override so the
//! two never disagree about "on".

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};

use colored::{ColoredString, Colorize};

use super::ColorChoice;

/// Lines we sent (` ->`).
pub(crate) fn sent(text: &str) -> ColoredString {
    text.cyan()
}

/// Replies that were what the step wanted (`<- `).
pub(crate) fn received_ok(text: &str) -> ColoredString {
    text.green()
}

/// Unexpected or error replies (`<**`).
pub(crate) fn received_error(text: &str) -> ColoredString {
    text.red().bold()
}

/// TLS negotiation details.
pub(crate) fn tls(text: &str) -> ColoredString {
    text.magenta()
}

/// Informational lines (`===`).
pub(crate) fn info(text: &str) -> ColoredString {
    text.blue()
}

/// Warnings and tolerated deviations (`!!!`).
pub(crate) fn warning(text: &str) -> ColoredString {
    text.yellow()
}

/// Errors (`***`).
pub(crate) fn error(text: &str) -> ColoredString {
    text.red().bold()
}

/// Advice on what to do next ("hint: add --tls").
pub(crate) fn hint(text: &str) -> ColoredString {
    text.bright_yellow()
}

/// Secondary detail: code meanings, hex dumps.
pub(crate) fn dim(text: &str) -> ColoredString {
    text.dimmed()
}

/// A style picked by meaning, for code that decides the meaning before it has the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// See [`sent`].
    Sent,
    /// See [`received_ok`].
    ReceivedOk,
    /// See [`received_error`].
    ReceivedError,
    /// See [`tls`].
    Tls,
    /// See [`info`].
    Info,
    /// See [`warning`].
    Warning,
    /// See [`error`].
    Error,
    /// See [`hint`].
    Hint,
    /// See [`dim`].
    Dim,
}

impl Role {
    /// `text` in this role's style, or unchanged when `on` is false (the stream wants no colour).
    pub(crate) fn paint(self, text: &str, on: bool) -> String {
        if !on {
            return text.to_string();
        }
        let styled = match self {
            Role::Sent => sent(text),
            Role::ReceivedOk => received_ok(text),
            Role::ReceivedError => received_error(text),
            Role::Tls => tls(text),
            Role::Info => info(text),
            Role::Warning => warning(text),
            Role::Error => error(text),
            Role::Hint => hint(text),
            Role::Dim => dim(text),
        };
        styled.to_string()
    }
}

/// Does the terminal lack cursor movement and clearing? `TERM=dumb` (Emacs' `M-x shell`,
/// some CI terminals) or no `TERM` at all: readline and rustyline fall back to plain reading
/// there, and nothing that redraws a row in place (the REPL's line editor and status line,
/// `ehlo check`'s progress bar) is drawn there.
pub(crate) fn dumb_terminal() -> bool {
    std::env::var_os("TERM").is_none_or(|t| t.is_empty() || t == "dumb")
}

/// The colour decision for one stream. `env` reads an environment variable (injected so tests do
/// not touch the process environment); `is_tty` says whether that stream is a terminal.
///
/// For `Auto`, first rule that applies wins:
/// 1. `NO_COLOR` present (any value, even empty) → off (the user's explicit "no" wins);
/// 2. `CLICOLOR_FORCE` set and not `0` → on, even when not a terminal;
/// 3. `CLICOLOR=0` → off;
/// 4. `TERM=dumb` → off;
/// 5. otherwise on exactly when the stream is a terminal.
pub(crate) fn decide(
    choice: ColorChoice,
    env: &dyn Fn(&str) -> Option<String>,
    is_tty: bool,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env("NO_COLOR").is_some() {
                return false;
            }
            if let Some(force) = env("CLICOLOR_FORCE")
                && !force.is_empty()
                && force != "0"
            {
                return true;
            }
            if env("CLICOLOR").as_deref() == Some("0") {
                return false;
            }
            if env("TERM").as_deref() == Some("dumb") {
                return false;
            }
            is_tty
        }
    }
}

// Per-stream decisions: 0 = not decided yet, 1 = off, 2 = on.
static STDOUT_COLOR: AtomicU8 = AtomicU8::new(0);
static STDERR_COLOR: AtomicU8 = AtomicU8::new(0);

fn process_env(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}

fn store(slot: &AtomicU8, on: bool) {
    slot.store(if on { 2 } else { 1 }, Ordering::Relaxed);
}

fn load(slot: &AtomicU8, is_tty: impl FnOnce() -> bool) -> bool {
    match slot.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        // Nobody called `configure`: decide as `--color auto` would.
        _ => decide(ColorChoice::Auto, &process_env, is_tty()),
    }
}

/// Make the colour decision for this run, for stdout and stderr separately. `json` forces colour
/// off everywhere (JSON Lines must never carry escape codes). Call once, before rendering.
pub(crate) fn configure(choice: ColorChoice, json: bool) {
    let (out, err) = if json {
        (false, false)
    } else {
        (
            decide(choice, &process_env, std::io::stdout().is_terminal()),
            decide(choice, &process_env, std::io::stderr().is_terminal()),
        )
    };
    store(&STDOUT_COLOR, out);
    store(&STDERR_COLOR, err);
    // `colored` paints only when its global switch is on; each line is additionally gated by its
    // own stream's decision, so "on if either stream wants it" is correct here.
    colored::control::set_override(out || err);
}

/// Should lines on stdout be coloured?
pub(crate) fn stdout_color() -> bool {
    load(&STDOUT_COLOR, || std::io::stdout().is_terminal())
}

/// Should lines on stderr be coloured? Judged by stderr's own tty, with the same env rules.
pub(crate) fn stderr_color() -> bool {
    load(&STDERR_COLOR, || std::io::stderr().is_terminal())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::env_of;

    #[test]
    fn always_and_never_ignore_env_and_tty() {
        let env = env_of(&[("NO_COLOR", "1"), ("TERM", "dumb")]);
        assert!(decide(ColorChoice::Always, &env, false));
        let env = env_of(&[("CLICOLOR_FORCE", "1")]);
        assert!(!decide(ColorChoice::Never, &env, true));
    }

    #[test]
    fn auto_follows_the_tty() {
        let env = env_of(&[]);
        assert!(decide(ColorChoice::Auto, &env, true));
        assert!(!decide(ColorChoice::Auto, &env, false));
    }

    #[test]
    fn no_color_present_turns_off_even_when_empty() {
        assert!(!decide(
            ColorChoice::Auto,
            &env_of(&[("NO_COLOR", "")]),
            true
        ));
        assert!(!decide(
            ColorChoice::Auto,
            &env_of(&[("NO_COLOR", "1")]),
            true
        ));
        // NO_COLOR wins over CLICOLOR_FORCE: the explicit "no" is the user's.
        let env = env_of(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]);
        assert!(!decide(ColorChoice::Auto, &env, true));
    }

    #[test]
    fn clicolor_force_turns_on_without_tty() {
        assert!(decide(
            ColorChoice::Auto,
            &env_of(&[("CLICOLOR_FORCE", "1")]),
            false
        ));
        // Beats TERM=dumb and CLICOLOR=0.
        let env = env_of(&[
            ("CLICOLOR_FORCE", "yes"),
            ("TERM", "dumb"),
            ("CLICOLOR", "0"),
        ]);
        assert!(decide(ColorChoice::Auto, &env, false));
        // "0" and empty do not force.
        assert!(!decide(
            ColorChoice::Auto,
            &env_of(&[("CLICOLOR_FORCE", "0")]),
            false
        ));
        assert!(!decide(
            ColorChoice::Auto,
            &env_of(&[("CLICOLOR_FORCE", "")]),
            false
        ));
    }

    #[test]
    fn clicolor_zero_turns_off() {
        assert!(!decide(
            ColorChoice::Auto,
            &env_of(&[("CLICOLOR", "0")]),
            true
        ));
        assert!(decide(
            ColorChoice::Auto,
            &env_of(&[("CLICOLOR", "1")]),
            true
        ));
    }

    #[test]
    fn term_dumb_turns_off() {
        assert!(!decide(
            ColorChoice::Auto,
            &env_of(&[("TERM", "dumb")]),
            true
        ));
        assert!(decide(
            ColorChoice::Auto,
            &env_of(&[("TERM", "xterm-256color")]),
            true
        ));
    }

    #[test]
    fn paint_off_is_the_plain_text() {
        assert_eq!(Role::Error.paint("*** x", false), "*** x");
    }
}
