//! What the client session makes of the first bytes and of silence: a TLS record where the
//! plaintext greeting belongs (the port speaks implicit TLS), what a reply timeout means in the
//! phase it struck, and how a server that never greeted failed ([`NoGreeting`]).

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

/// How a server failed to greet a session: no 220 came (RFC 5321 §3.1), so it took no part of
/// the mail. Postfix's smtp(8) treats each alike as "this server is unusable" and tries the next
/// MX host; a failure after the 220 is a different matter (the server spoke SMTP and answered).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NoGreeting<'a> {
    /// A 4xx or 5xx in place of the 220 (§3.1: 554; §3.8: 421 when it cannot serve now).
    Refused(&'a Reply),
    /// Something that is no SMTP greeting: a line without a reply code (an HTTP status line, a
    /// TLS record, binary bytes), or a reply whose code is neither 220 nor a refusal.
    NotSmtp(&'a Reply),
    /// A greeting past the reply size limits.
    TooLarge(&'a str),
    /// The connection ended before a complete greeting.
    Closed,
    /// No complete greeting within the reply timeout, in seconds.
    Silent(f64),
}

/// How much of a server's line a [`NoGreeting`] quotes.
const QUOTED_CHARS: usize = 80;

impl<'a> NoGreeting<'a> {
    /// The way `error`, a session's first error, says the server never greeted, if it does
    /// (every error of the banner phase: the 220 ends that phase).
    pub(super) fn of(error: &'a SessionError) -> Option<NoGreeting<'a>> {
        match error {
            SessionError::UnexpectedReply {
                phase: Phase::Banner,
                reply,
                ..
            } => Some(if matches!(reply.code, Some(400..=599)) {
                NoGreeting::Refused(reply)
            } else {
                NoGreeting::NotSmtp(reply)
            }),
            SessionError::TooLarge {
                phase: Phase::Banner,
                detail,
            } => Some(NoGreeting::TooLarge(detail)),
            SessionError::Closed {
                phase: Phase::Banner,
            } => Some(NoGreeting::Closed),
            SessionError::Timeout {
                phase: Phase::Banner,
                secs,
            } => Some(NoGreeting::Silent(*secs)),
            _ => None,
        }
    }

    /// What the server did, after its name: "refused the session in its greeting (421 busy)".
    pub(crate) fn describe(&self) -> String {
        match self {
            NoGreeting::Refused(reply) => {
                format!("refused the session in its greeting ({})", quoted(reply))
            }
            NoGreeting::NotSmtp(reply) => {
                format!("sent no SMTP greeting but {}", quoted(reply))
            }
            NoGreeting::TooLarge(detail) => {
                format!("sent a greeting past the reply size limits ({detail})")
            }
            NoGreeting::Closed => "closed the connection before its greeting".into(),
            NoGreeting::Silent(secs) => format!("sent no complete greeting within {secs} s"),
        }
    }
}

/// A reply's code and first line, control characters escaped as the transcript escapes them
/// (`\x1B`, a byte that is not UTF-8 already `\xFE` in the reply's text) and cut at
/// [`QUOTED_CHARS`].
fn quoted(reply: &Reply) -> String {
    let code = reply.code.map(|c| c.to_string()).unwrap_or_default();
    let line = reply.lines.first().map(String::as_str).unwrap_or_default();
    let text = format!("{code} {line}");
    let text = text.trim();
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == QUOTED_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push_str(&format!("\\x{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    if out.is_empty() {
        out.push_str("an empty line");
    }
    out
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
            verb: None,
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
        if silent_banner {
            // Recorded, though the run's error is the driver's: the server never greeted.
            self.set_error(SessionError::Timeout { phase, secs });
        }
        if silent_banner || self.finishing() {
            self.abort();
            return Some(phase);
        }
        self.set_error(SessionError::Timeout { phase, secs });
        // Part of the reply arrived: the rest may still come, and would be read as QUIT's
        // reply after another whole timeout. Close without QUIT (send, check and probe alike).
        if self.progress().is_some() {
            self.abort();
            return None;
        }
        self.pending.clear();
        self.quit();
        None
    }
}
