//! File descriptors of `ehlo serve`: the `RLIMIT_NOFILE` soft limit raised at start toward what
//! `--max-connections` needs, and the spare descriptor that lets the server answer a connection
//! when they have run out, rather than leave it waiting in the listen queue.

use std::io;

use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit, rlim_t, setrlimit};

/// Descriptors a session may hold at once: its socket, a Maildir `tmp/` file and the mbox's
/// temporary file while a message arrives.
const PER_SESSION: rlim_t = 3;
/// Descriptors the process holds whatever the sessions: standard streams, the runtime's epoll
/// and wake-up descriptors, the listeners, the mbox, the spare one.
const BASE: rlim_t = 32;

/// Descriptors `max_connections` sessions may need at once.
pub(crate) fn needed(max_connections: usize) -> rlim_t {
    rlim_t::try_from(max_connections)
        .unwrap_or(RLIM_INFINITY)
        .saturating_mul(PER_SESSION)
        .saturating_add(BASE)
}

/// Raise the soft `RLIMIT_NOFILE` toward `need` (never past the hard limit, never lowered), as
/// Go's runtime raises it to the hard limit at start: a soft limit of 1024 is a default kept for
/// `select(2)`, which serve does not use. Returns a warning when the limit stays below `need`,
/// naming the setting that asked for it (`--max-connections 100`, with where it was set).
pub(crate) fn raise_limit(need: rlim_t, asked: &str) -> Option<String> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    let fits = |l: rlim_t| l == RLIM_INFINITY || l >= need;
    if fits(soft) {
        return None;
    }
    let target = if fits(hard) { need } else { hard };
    let now = if target > soft && setrlimit(Resource::RLIMIT_NOFILE, target, hard).is_ok() {
        target
    } else {
        soft
    };
    if fits(now) {
        return None;
    }
    Some(format!(
        "{asked} may need {need} file descriptors, but the limit is {now} (ulimit -n; hard limit {}): once they run out, a new connection gets 421 4.3.2 and is closed",
        if hard == RLIM_INFINITY {
            "unlimited".to_string()
        } else {
            hard.to_string()
        }
    ))
}

/// The soft `RLIMIT_NOFILE` now, for a message.
pub(crate) fn limit() -> Option<rlim_t> {
    getrlimit(Resource::RLIMIT_NOFILE)
        .ok()
        .filter(|(soft, _)| *soft != RLIM_INFINITY)
        .map(|(soft, _)| soft)
}

/// `accept(2)` failed for want of a descriptor (EMFILE: this process's limit; ENFILE: the
/// system's).
pub(crate) fn exhausted(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(c) if c == nix::errno::Errno::EMFILE as i32 || c == nix::errno::Errno::ENFILE as i32
    )
}

/// One descriptor held in reserve: closed to make room for accepting a connection when the
/// process has run out, so that the connection can be answered and closed, then taken again
/// (libev's documentation, "The special problem of accept()ing when you can't": a listening
/// socket with a connection waiting stays readable, and a server that cannot accept it either
/// spins or leaves the client waiting without a word).
pub(crate) struct Spare(Option<std::fs::File>);

impl Spare {
    pub(crate) fn new() -> Spare {
        Spare(std::fs::File::open("/dev/null").ok())
    }

    /// Give the descriptor back to the process; true when there was one.
    pub(crate) fn release(&mut self) -> bool {
        self.0.take().is_some()
    }

    /// Take a descriptor again (after the connection it made room for was closed).
    pub(crate) fn retake(&mut self) {
        if self.0.is_none() {
            self.0 = std::fs::File::open("/dev/null").ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needed_counts_three_per_session_and_a_base() {
        assert_eq!(needed(0), 32);
        assert_eq!(needed(256), 800);
        assert_eq!(needed(usize::MAX), RLIM_INFINITY);
    }

    #[test]
    fn exhaustion_is_emfile_or_enfile_only() {
        assert!(exhausted(&io::Error::from_raw_os_error(
            nix::errno::Errno::EMFILE as i32
        )));
        assert!(exhausted(&io::Error::from_raw_os_error(
            nix::errno::Errno::ENFILE as i32
        )));
        assert!(!exhausted(&io::Error::from_raw_os_error(
            nix::errno::Errno::ECONNABORTED as i32
        )));
        assert!(!exhausted(&io::Error::other("x")));
    }
}
