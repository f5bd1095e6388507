//! What the client session makes of the first bytes and of silence: a TLS record where the
//! plaintext greeting belongs (the port speaks implicit TLS), and what a reply timeout means in
//! the phase it struck.

use crate::smtp::codes::Hint;
use crate::smtp::event::{Bytes, Phase};
use crate::smtp::reply::Reply;

use super::{Expect, Session, SessionError};

/// Recognise a TLS record header (RFC 8446 §5.1: content type, then legacy version 0x03 0x0N) at
/// the start of what should have been a plaintext SMTP greeting, and say what it means (the
/// remedy written `⟨name⟩`, see [`Hint::new`]).
pub(crate) fn tls_record_instead_of_greeting(bytes: &[u8]) -> Option<&'static str> {
    let (&ty, rest) = bytes.split_first()?;
    if rest.first() != Some(&0x03) {
        return None;
    }
    // A known minor version when we have it (SSL 3.0 … TLS 1.3's legacy 0x0303).
    if rest.get(1).is_some_and(|&minor| minor > 0x04) {
        return None;
    }
    match ty {
        0x16 => Some(
            "the server sent a TLS handshake instead of an SMTP greeting: this port expects TLS from the first byte (implicit TLS, usually port 465); use ⟨tls-on-connect⟩",
        ),
        0x15 => Some(
            "the server sent a TLS alert instead of an SMTP greeting: it expects TLS from the first byte (implicit TLS, usually port 465); use ⟨tls-on-connect⟩",
        ),
        _ => None,
    }
}

impl Session {
    /// Mode confusion: the first bytes of a plaintext connection, where the greeting belongs,
    /// are a TLS record (the port speaks implicit TLS). No CRLF will ever come, so the session
    /// fails now in the banner phase with the fix, instead of waiting for the reply timeout, and
    /// asks for the connection to be closed (no QUIT: the server does not speak plain SMTP).
    /// Returns true when it did.
    pub(super) fn tls_instead_of_banner(&mut self, bytes: &[u8]) -> bool {
        if self.tls
            || !self.buf.is_empty()
            || self.parser.in_progress()
            || self.pending.front() != Some(&Expect::Banner)
        {
            return false;
        }
        let Some(why) = tls_record_instead_of_greeting(bytes) else {
            return false;
        };
        self.out.advise(Hint::new(format!(
            "this port speaks implicit TLS: try ⟨tls-on-connect⟩ ({why})"
        )));
        let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let reply = Reply {
            code: None,
            enhanced: None,
            lines: vec![format!("<TLS record: {}>", hex.join(" "))],
            raw: Bytes(bytes.iter().take(64).copied().collect()),
            deviations: Vec::new(),
        };
        self.set_error(SessionError::UnexpectedReply {
            phase: Phase::Banner,
            expected: "220",
            reply: Box::new(reply),
        });
        self.abort();
        true
    }

    /// The reply the session waits for did not arrive within the driver's timeout of `secs`
    /// seconds. The session says what arrived (a "no banner" after 100 KB of banner without a
    /// line end, or a byte a second, would point the wrong way), gives the hint for a silent
    /// plaintext banner, and ends: with QUIT (as swaks does; the session then records the
    /// timeout as its error and goes on until QUIT's reply, so `None`), or at once, returning
    /// the phase the run failed in, when no byte of banner came or QUIT was already sent.
    /// `None` also when the timeout is only the slow goodbye after an earlier error (that error
    /// is what the run failed with).
    pub(crate) fn on_timeout(&mut self, secs: f64) -> Option<Phase> {
        let phase = self.phase();
        if self.is_closed() {
            return Some(phase);
        }
        if self.error.is_some() {
            self.out
                .warn(format!("no reply to QUIT within {secs}s: closing"));
            self.abort();
            return None;
        }
        match self.progress() {
            Some(got) => {
                let what = if phase == Phase::Banner {
                    "banner".to_string()
                } else {
                    format!("reply in {} phase", phase.label())
                };
                self.out
                    .warn(format!("no complete {what} within {secs} s: {got}"));
            }
            None if phase == Phase::Banner && !self.tls => {
                self.out.advise(Hint::new(format!("no banner: not one byte in {secs} s; this port may speak implicit TLS (try ⟨tls-on-connect⟩), or the server is overloaded")));
            }
            None => {}
        }
        // swaks ends with QUIT after a timeout, and so does ehlo, unless not one byte of banner
        // came (there may be no SMTP server to talk to) or QUIT was already on its way (a stop
        // point's). The late reply is given up on: whatever comes next answers the QUIT, as in
        // swaks; the driver waits for it under the same timeout.
        let silent_banner = phase == Phase::Banner && self.progress().is_none();
        if silent_banner || self.finishing() {
            self.abort();
            return Some(phase);
        }
        self.set_error(SessionError::Timeout { phase, secs });
        self.pending.clear();
        self.quit();
        None
    }
}
