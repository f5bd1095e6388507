//! `SessionError`: why a client session failed, each variant with its phase.

use crate::smtp::codes::{Hint, TlsAsked};
use crate::smtp::event::Phase;
use crate::smtp::ext::Extension;
use crate::smtp::reply::Reply;

/// Why a session failed. Each variant knows its phase; `crate::error` maps that to an exit code.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SessionError {
    /// A reply of the wrong class (the error says what was expected and what arrived).
    #[error("{}: expected {expected}, got {}", verb_label(*phase, *verb), reply_summary(reply))]
    UnexpectedReply {
        /// Phase.
        phase: Phase,
        /// What we wanted ("2xx", "354", "220").
        expected: &'static str,
        /// The greeting verb that was sent when it is not the phase's own name (LHLO for LMTP,
        /// RFC 2033 §4.1; HELO for plain SMTP or after EHLO was not understood, RFC 5321
        /// §4.1.4), so the message names the command the server refused.
        verb: Option<&'static str>,
        /// What came.
        reply: Box<Reply>,
    },
    /// Every recipient was refused.
    #[error("no recipient was accepted{}", last.as_ref().map(|r| format!(" (last: {})", reply_summary(r))).unwrap_or_default())]
    NoRecipients {
        /// The last refusal.
        last: Option<Box<Reply>>,
    },
    /// The server closed the connection when it should not have.
    #[error("the server closed the connection during {}", phase.label())]
    Closed {
        /// Phase.
        phase: Phase,
    },
    /// An extension we need is not advertised.
    #[error("{extension} is not advertised by the server{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    NotAdvertised {
        /// Phase it is needed for.
        phase: Phase,
        /// Extension keyword.
        extension: &'static str,
        /// What to do.
        hint: Option<Hint>,
    },
    /// A SASL mechanism failed on our side (bad challenge, missing credential).
    #[error("AUTH {mechanism}: {reason}")]
    Auth {
        /// Mechanism.
        mechanism: String,
        /// Why.
        reason: String,
    },
    /// None of the requested mechanisms is advertised or implemented.
    #[error("no usable AUTH mechanism: {0}")]
    NoMechanism(String),
    /// AUTH was about to send the credentials over a connection without TLS, and the plan does
    /// not allow that: nothing was sent. `crate::error` gives it the usage exit code, the same
    /// as the refusal made before connecting when no TLS was asked for at all.
    #[error("{0}")]
    PlaintextAuth(Hint),
    /// The TLS handshake or verification failed: why, and what to do (worded per front end).
    #[error("{0}")]
    Tls(Hint),
    /// A reply passed the size limits ([`Deviation::ReplyTooLarge`]): reading stopped there and
    /// the connection was closed, since the rest of it has no command to belong to.
    #[error("{}: reply too large: {detail}", phase.label())]
    TooLarge {
        /// Phase.
        phase: Phase,
        /// What arrived and the limits.
        detail: String,
    },
    /// No complete reply within the reply timeout (the driver's clock says so through
    /// `Session::timed_out`).
    #[error("timed out after {secs}s waiting in {} phase", phase.label())]
    Timeout {
        /// The phase whose reply did not come.
        phase: Phase,
        /// The timeout in seconds.
        secs: f64,
    },
    /// An extension the message needs cannot be used (not advertised, or its precondition
    /// fails). `crate::error` gives SMTPUTF8 exit 31 and PRDR exit 30; the rest take the phase's.
    #[error("{}: {reason}", extension.keyword())]
    Extension {
        /// Which one.
        extension: Extension,
        /// Phase it is needed for.
        phase: Phase,
        /// Why, and what to do.
        reason: Hint,
    },
}

/// The code and the text of the reply's last line: the code is the last line's (the verdict,
/// RFC 5321 §4.2.1), so its text goes beside it, not the first line's (`250-ok` then
/// `550 5.1.1 no such user` is `550 5.1.1 no such user`).
fn reply_summary(r: &Reply) -> String {
    let code = r
        .code
        // Three digits as received: `000`, not `0`.
        .map(|c| format!("{c:03}"))
        .unwrap_or_else(|| "no code".into());
    let text = r.lines.last().map(String::as_str).unwrap_or_default();
    format!("{code} {}", quoted_short(text))
        .trim_end()
        .to_string()
}

/// Most bytes of a reply line a result quotes: a reply line's own limit (RFC 5321
/// §4.5.3.1.5, 512 octets). A longer one (the parser keeps 8 192 bytes of a line, and its
/// escapes of bytes that are not UTF-8 make it up to four times that) is the server's
/// garbage: the transcript shows it whole, the one-line result its start and its size.
const QUOTE_MAX: usize = 512;

/// `text` when it fits [`QUOTE_MAX`]; else its start, cut on a character boundary, and how
/// long it was.
fn quoted_short(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= QUOTE_MAX {
        return text.into();
    }
    let mut end = text.floor_char_boundary(QUOTE_MAX);
    // Not inside an escape (`\xFF` cut to `\xF` would name another byte).
    if let Some(at) = text[end.saturating_sub(3)..end].rfind('\\') {
        end = end.saturating_sub(3) + at;
    }
    format!(
        "{}… ({} in all)",
        &text[..end],
        crate::smtp::event::count_bytes(text.len())
    )
    .into()
}

/// The phase's label, with its greeting verb replaced by `verb` when one is given ("LHLO",
/// "HELO after TLS").
fn verb_label(phase: Phase, verb: Option<&'static str>) -> String {
    let label = phase.label();
    match verb {
        Some(v) => match label.strip_prefix("EHLO") {
            Some(rest) => format!("{v}{rest}"),
            None => label.to_string(),
        },
        None => label.to_string(),
    }
}

impl SessionError {
    /// STARTTLS was required (`--tls`, in the send and in the REPL alike) and TLS did not
    /// start: the one decision both end on, so their summaries agree. `reply` is `None` when
    /// the EHLO reply did not list STARTTLS (then not sent): `not_advertised`. A 4xx/5xx
    /// refuses it: the phase's `unexpected_reply`. Any other code is no refusal, but only 220
    /// starts TLS (RFC 3207 §4): a TLS failure, `tls`. `None` for a 220 (TLS starts; its
    /// handshake decides what follows). All three exit 29, STARTTLS's code.
    pub(crate) fn starttls_required(reply: Option<Reply>, asked: TlsAsked) -> Option<SessionError> {
        let Some(reply) = reply else {
            return Some(SessionError::NotAdvertised {
                phase: Phase::StartTls,
                extension: "STARTTLS",
                hint: Some(
                    Hint::new(
                        "the server offers no TLS on this port; try ⟨tls-on-connect⟩ on port 465, or ⟨no-tls⟩",
                    )
                    .tls_asked(asked),
                ),
            });
        };
        if reply.is_ready() {
            return None;
        }
        Some(match crate::smtp::codes::starttls_not_started(&reply) {
            Some(words) => SessionError::Tls(Hint::new(words)),
            None => SessionError::UnexpectedReply {
                phase: Phase::StartTls,
                expected: "220",
                verb: None,
                reply: Box::new(reply),
            },
        })
    }

    /// The phase it belongs to.
    pub(crate) fn phase(&self) -> Option<Phase> {
        match self {
            SessionError::UnexpectedReply { phase, .. }
            | SessionError::Closed { phase }
            | SessionError::TooLarge { phase, .. }
            | SessionError::Timeout { phase, .. }
            | SessionError::NotAdvertised { phase, .. }
            | SessionError::Extension { phase, .. } => Some(*phase),
            SessionError::NoRecipients { .. } => Some(Phase::Rcpt),
            SessionError::Auth { .. }
            | SessionError::NoMechanism(_)
            | SessionError::PlaintextAuth(_) => Some(Phase::Auth),
            SessionError::Tls(_) => Some(Phase::StartTls),
        }
    }
    /// Is this an unexpected close (exit 6) rather than a phase failure?
    pub(crate) fn is_unexpected_close(&self) -> bool {
        matches!(self, SessionError::Closed { .. })
    }
    /// Label for the JSON summary.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            // A refused AUTH (535 5.7.8 "credentials rejected", RFC 4954 §6, or any other
            // refusal of the exchange) is the AUTH failure the exit code (28) and the JSON
            // format's `auth` name, as a failure on our side of the exchange is.
            SessionError::UnexpectedReply {
                phase: Phase::Auth, ..
            } => "auth",
            SessionError::UnexpectedReply { .. } => "unexpected_reply",
            SessionError::NoRecipients { .. } => "no_recipients",
            SessionError::Closed { .. } => "closed",
            SessionError::TooLarge { .. } => "reply_too_large",
            SessionError::Timeout { .. } => "timeout",
            SessionError::NotAdvertised { .. } | SessionError::Extension { .. } => "not_advertised",
            SessionError::Auth { .. } | SessionError::NoMechanism(_) => "auth",
            // Labelled as the same refusal made before connecting is.
            SessionError::PlaintextAuth(_) => "usage",
            SessionError::Tls(_) => "tls",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::reply::{Limits, ReplyParser};

    fn parse(raw: &[u8]) -> Reply {
        let mut buf = raw.to_vec();
        ReplyParser::new(Limits::default())
            .next_reply(&mut buf)
            .expect("a complete reply")
    }

    #[test]
    fn summary_shows_the_last_lines_text_beside_its_code() {
        let reply = parse(b"250-ok\r\n550 5.1.1 no such user\r\n");
        let e = SessionError::UnexpectedReply {
            phase: Phase::Rcpt,
            expected: "2xx",
            verb: None,
            reply: Box::new(reply.clone()),
        };
        let shown = e.to_string();
        assert!(shown.ends_with("got 550 5.1.1 no such user"), "{shown}");
        let e = SessionError::NoRecipients {
            last: Some(Box::new(reply)),
        };
        assert_eq!(
            e.to_string(),
            "no recipient was accepted (last: 550 5.1.1 no such user)"
        );
        // One line: its text, as before.
        let one = parse(b"451 4.3.0 try later\r\n");
        assert_eq!(reply_summary(&one), "451 4.3.0 try later");
    }

    /// A reply line past a reply line's 512 octets is quoted by its start and its size, never
    /// cut inside the escape of a byte; one that fits is quoted whole.
    #[test]
    fn a_long_reply_line_is_quoted_by_its_start_and_size() {
        let whole = format!("550 {}", "x".repeat(QUOTE_MAX - 4));
        let fits = parse(format!("{whole}\r\n").as_bytes());
        assert_eq!(reply_summary(&fits), whole);
        let mut raw = b"550 a".to_vec();
        raw.extend_from_slice(&[0xFF; 300]);
        raw.extend_from_slice(b"\r\n");
        let shown = reply_summary(&parse(&raw));
        // "a" then 300 escapes of 4 characters: 1 201 bytes of text; 127 whole escapes fit.
        let expected = format!("550 a{}… (1 201 bytes in all)", "\\xFF".repeat(127));
        assert_eq!(shown, expected);
    }

    /// A required STARTTLS that did not start TLS: one label per case, the send's and the
    /// REPL's alike; a 220 is no failure.
    #[test]
    fn a_required_starttls_that_did_not_start_is_labelled_by_what_happened() {
        let label = |raw: Option<&[u8]>| {
            SessionError::starttls_required(raw.map(parse), TlsAsked::Itself).map(|e| e.label())
        };
        assert_eq!(label(None), Some("not_advertised"));
        assert_eq!(
            label(Some(b"454 4.7.0 TLS not available\r\n")),
            Some("unexpected_reply")
        );
        assert_eq!(label(Some(b"502 5.5.1 no\r\n")), Some("unexpected_reply"));
        assert_eq!(label(Some(b"250 2.0.0 fine\r\n")), Some("tls"));
        assert_eq!(label(Some(b"220 2.0.0 go ahead\r\n")), None);
        let e = SessionError::starttls_required(None, TlsAsked::Itself).unwrap();
        assert_eq!(e.phase(), Some(Phase::StartTls));
    }
}
