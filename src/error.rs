//! The top-level error type and the ONE mapping from errors to exit codes (swaks's exit codes: 0 ok, 1 usage,
//! 2 connect, 21-35 per SMTP phase, 36 a reply outside them). Nothing else in ehlo decides an exit code.

use crate::net::dns::DnsError;
use crate::smtp::client::SessionError;
use crate::smtp::event::Phase;
use crate::smtp::ext::Extension;

/// Exit code: everything worked (also stop points, `--dump-mail`).
pub(crate) const EXIT_OK: u8 = 0;
/// Exit code: bad options or unreadable input files.
pub(crate) const EXIT_USAGE: u8 = 1;
/// Exit code: DNS failure or no connection could be made.
pub(crate) const EXIT_CONNECT: u8 = 2;
/// Exit code: the connection closed unexpectedly.
pub(crate) const EXIT_CLOSED: u8 = 6;
/// Exit code of ehlo started again as a launcher (of a `--pipe` command, or of a program run
/// with the user's core limit) that cannot run what it should, as a POSIX shell reports a
/// command found but not executable (POSIX.1-2017 XCU §2.8.2): 126. Seen by ehlo as the
/// child's status, never as ehlo's own.
pub(crate) const EXIT_CANNOT_EXEC: u8 = 126;
/// Exit code of such a launcher whose ehlo has already ended: nobody waits for it.
pub(crate) const EXIT_PARENT_GONE: u8 = 1;
/// Exit code base for a REPL ended by a signal (SIGTERM, SIGHUP): 128 + the signal's number, as
/// a shell reports a process killed by it.
const EXIT_SIGNAL_BASE: u8 = 128;
/// Exit code: a prerequisite (OpenSSL, the runtime, `ehlo check`'s DNS resolver) could not be
/// set up; a dump, `ehlo explain`, `--help` or `--version` could not write its output (its
/// whole result).
pub(crate) const EXIT_PREREQ: u8 = 10;
/// Exit code (`ehlo check`, `ehlo probe`): a check failed or an `--expect` was not met (a
/// result that a met `--expect ID=STATUS` asked for does not count).
pub(crate) const EXIT_CHECK_FAILED: u8 = 40;
/// Exit code (`ehlo check`): nothing failed, but something could not be tested (DNS failure,
/// timeout, a 421 greeting, `--deadline`), or an `--expect` was not decided for that reason:
/// retryable.
pub(crate) const EXIT_CHECK_UNTESTED: u8 = 41;
/// How an `ehlo check` or `ehlo probe` run was cut short, for its summary's `outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// `--deadline` passed.
    Deadline,
    /// A signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) ended it.
    Signal,
}

/// The `outcome` of an `ehlo check` / `ehlo probe` JSON summary, beside its `exit_code`: the
/// labels the other modes give the same ends (`ok` 0, `usage` 1, `prerequisite` 10, `deadline`
/// and `interrupted` for a run cut short, which exits 41), and two of their own:
/// `check_failed` (40: a check failed or an `--expect` was not met) and `untested` (41:
/// something could not be tested).
pub(crate) fn check_outcome(code: u8, cut: Option<Cut>) -> &'static str {
    if let Some(label) = Error::label_of_code(code) {
        return label;
    }
    match (code, cut) {
        (EXIT_OK, _) => "ok",
        (EXIT_CHECK_FAILED, _) => "check_failed",
        // [`Error::Deadline`]'s label.
        (_, Some(Cut::Deadline)) => "deadline",
        (_, Some(Cut::Signal)) => Error::Signalled(Ending::Term).label(),
        _ => "untested",
    }
}

/// Exit code: `--prdr` but the server does not advertise PRDR (swaks).
pub(crate) const EXIT_PRDR: u8 = 30;
/// Exit code: SMTPUTF8 needed but not advertised (swaks's unreleased `20-smtputf8` branch).
pub(crate) const EXIT_SMTPUTF8: u8 = 31;
/// Exit code (`ehlo replay`, `ehlo repl --strict`): an unexpected reply to a command outside
/// the phases above (NOOP, RSET, VRFY, HELP, `:raw` bytes…), with the connection still up.
pub(crate) const EXIT_OTHER_REPLY: u8 = 36;

/// Exit code for an unexpected reply that came in `phase`: the phase's code, and
/// [`EXIT_OTHER_REPLY`] for a command in no SMTP phase, where [`phase_exit_code`] would say
/// the server had closed (6), which it had not.
pub(crate) fn reply_exit_code(phase: Phase) -> u8 {
    match phase {
        Phase::Other => EXIT_OTHER_REPLY,
        p => phase_exit_code(p),
    }
}

/// The JSON summary's `outcome` for a reply that refused a command in `phase` and so ended the
/// run (`ehlo repl --strict`), as the send labels the same refusal: `no_recipients` at RCPT (a
/// refused recipient ends the run as a send's last one does, exit 24), `auth` at AUTH (exit
/// 28), `unexpected_reply` elsewhere. Its exit code is [`reply_exit_code`]'s.
pub(crate) fn reply_failure_label(phase: Phase) -> &'static str {
    let e = match phase {
        Phase::Rcpt => SessionError::NoRecipients { last: None },
        phase => SessionError::UnexpectedReply {
            phase,
            expected: "2xx",
            verb: None,
            reply: Box::new(crate::smtp::reply::Reply::new(500, &[])),
        },
    };
    Error::Session(e).label()
}

/// Exit code for a failure in `phase` (banner 21, HELO 22, MAIL 23, RCPT 24, DATA 25, dot 26,
/// QUIT 27, AUTH 28, TLS 29, EHLO after TLS 32, XCLIENT 33, EHLO after XCLIENT 34, PROXY 35).
/// TLS (29) covers STARTTLS refused, a failed handshake, an enforced certificate verification
/// failure and a DANE mismatch (`--tlsa`/`--tlsa-file`: no usable TLSA record matched).
pub(crate) fn phase_exit_code(phase: Phase) -> u8 {
    match phase {
        Phase::Dns | Phase::Connect => EXIT_CONNECT,
        Phase::Proxy => 35,
        Phase::Banner => 21,
        Phase::Helo => 22,
        Phase::StartTls => 29,
        Phase::HeloAfterTls => 32,
        Phase::Xclient => 33,
        Phase::HeloAfterXclient => 34,
        Phase::Auth => 28,
        Phase::Mail => 23,
        Phase::Rcpt => 24,
        Phase::Data => 25,
        Phase::Dot => 26,
        Phase::Quit => 27,
        Phase::Other => EXIT_CLOSED,
    }
}

/// A signal that ends the REPL (the terminal's modes are restored before leaving), or a send
/// over `--pipe` (the command's process group gets it first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// SIGTERM.
    Term,
    /// SIGHUP: the terminal went away.
    Hup,
    /// SIGINT from `kill` (Ctrl-C at the prompt is a key, not this).
    Int,
    /// SIGQUIT from `kill`.
    Quit,
}

impl Ending {
    /// The signal's number (POSIX: SIGHUP 1, SIGINT 2, SIGQUIT 3, SIGTERM 15).
    fn number(self) -> u8 {
        match self {
            Ending::Term => 15,
            Ending::Hup => 1,
            Ending::Int => 2,
            Ending::Quit => 3,
        }
    }

    /// The exit code: 128 + the signal's number, as a shell reports a process killed by it.
    pub(crate) fn exit_code(self) -> u8 {
        EXIT_SIGNAL_BASE + self.number()
    }
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ending::Term => "SIGTERM",
            Ending::Hup => "SIGHUP",
            Ending::Int => "SIGINT",
            Ending::Quit => "SIGQUIT",
        })
    }
}

/// Everything that can end a run early.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags, values or unreadable input files.
    /// Shown escaped: it may quote the user's arguments, whose control characters must not
    /// reach the terminal (as a server's bytes do not).
    #[error("{}", crate::render::human::escape_lines(.0))]
    Usage(String),
    /// DNS said no, or did not answer.
    #[error(transparent)]
    Dns(#[from] DnsError),
    /// No connection could be made to any address.
    #[error("could not connect to {target}: {reason}")]
    Connect {
        /// What we tried (`host:port`, or "every MX of example.com").
        target: String,
        /// Why (the last attempt's error).
        reason: String,
    },
    /// `ehlo serve` could not listen on its address.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address asked for.
        addr: String,
        /// Why ("address in use", with a hint).
        reason: String,
    },
    /// A phase took longer than its timeout.
    #[error("timed out after {secs}s {}", timeout_where(*phase, *implicit_tls, *handshake))]
    Timeout {
        /// The phase.
        phase: Phase,
        /// The timeout in seconds.
        secs: f64,
        /// It was the implicit TLS handshake (RFC 8314 §3.3), before any SMTP: no STARTTLS was
        /// sent, so the message names the handshake; the exit code is still the TLS phase's.
        implicit_tls: bool,
        /// It was a TLS handshake that did not finish (after the server's 220 to STARTTLS,
        /// or implicit TLS), not a reply that did not come: the message names the handshake.
        handshake: bool,
    },
    /// `--deadline` passed before the send ended: the run was cut `at` a step of `phase`
    /// (its exit code is a timeout's there), without waiting for a reply to QUIT.
    #[error("deadline {} reached {at}{}", duration_words(*limit), if *unsure_delivery {
        "; the message may or may not have been delivered"
    } else {
        ""
    })]
    Deadline {
        /// The phase of the step cut (DNS and connect included: exit 2).
        phase: Phase,
        /// The `--deadline` given.
        limit: std::time::Duration,
        /// Where, in words: "while waiting for the reply to DATA".
        at: String,
        /// The message's data had gone out (or was going out) and its reply had not come.
        unsure_delivery: bool,
    },
    /// The SMTP dialogue failed.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Reading or writing the socket failed.
    #[error("{phase_label}: {source}", phase_label = phase.label())]
    Io {
        /// Phase it happened in.
        phase: Phase,
        /// The error.
        source: std::io::Error,
    },
    /// A prerequisite could not be set up (OpenSSL context, runtime).
    #[error("{0}")]
    Prerequisite(String),
    /// `ehlo replay`: a reply code differs from the recording.
    #[error("{reason}")]
    ReplayMismatch {
        /// The phase the difference happened in; `None` when the server had closed.
        phase: Option<Phase>,
        /// What was expected and what came.
        reason: String,
    },
    /// A PROXY protocol option is bad (swaks: "Error in PROXY option processing").
    #[error("{0}")]
    ProxyOption(String),
    /// A signal ended the run (a send over `--pipe`: the command's group got it too).
    #[error("interrupted by {0}")]
    Signalled(Ending),
}

/// A duration (whole seconds, as `--deadline` takes it) as it could be given: `90s`, `2m`, `1h`.
pub(crate) fn duration_words(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    if secs != 0 && secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs != 0 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// Where a timeout struck, for its message.
fn timeout_where(phase: Phase, implicit_tls: bool, handshake: bool) -> String {
    if implicit_tls {
        "in the TLS handshake (implicit TLS, before any SMTP)".to_string()
    } else if handshake {
        "in the TLS handshake (after the server's 220 to STARTTLS)".to_string()
    } else {
        format!("waiting in {} phase", phase.label())
    }
}

impl Error {
    /// The process exit code for this error: the only place that decides it.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            // A bad --dns-trust-anchor file is a mistake in the invocation, like a bad flag.
            Error::Dns(DnsError::TrustAnchor { .. }) => EXIT_USAGE,
            Error::Dns(_) | Error::Connect { .. } | Error::Listen { .. } => EXIT_CONNECT,
            // A reply that does not come to a command in no phase (NOOP, RSET, `:raw`…) is
            // 36 as a refusal of it is, not 6: the server has not closed.
            Error::Timeout { phase, .. } | Error::Deadline { phase, .. } => reply_exit_code(*phase),
            // Refused before any credential went out, as the check made before connecting.
            Error::Session(SessionError::PlaintextAuth(_)) => EXIT_USAGE,
            Error::Session(SessionError::Extension {
                extension: Extension::Prdr,
                ..
            }) => EXIT_PRDR,
            Error::Session(SessionError::Extension {
                extension: Extension::SmtpUtf8,
                ..
            }) => EXIT_SMTPUTF8,
            // A reply to a command in no phase cut for size is 36 as its refusal is: the
            // session stopped reading, the server did not close.
            Error::Session(e) => match e.phase() {
                Some(phase) if !e.is_unexpected_close() => reply_exit_code(phase),
                _ => EXIT_CLOSED,
            },
            Error::Io { .. } => EXIT_CLOSED,
            Error::Prerequisite(_) => EXIT_PREREQ,
            Error::ProxyOption(_) => phase_exit_code(Phase::Proxy),
            Error::ReplayMismatch { phase, .. } => phase.map_or(EXIT_CLOSED, reply_exit_code),
            Error::Signalled(ending) => ending.exit_code(),
        }
    }

    /// Print this error the way one is reported before any renderer exists (`*** reason` on
    /// stderr, as swaks does) and return its exit code.
    pub(crate) fn report(&self) -> u8 {
        crate::render::glyphs::say_error(&self.to_string());
        self.exit_code()
    }

    /// The summary's label for an exit code that means one thing in every mode: 1 (usage), 10
    /// (prerequisite) and 128 + N (interrupted). A mode that ends on such a code without an
    /// [`Error`] at hand (a REPL or replay step refused before sending) labels it so, as a send
    /// does; `None` for the codes several errors share (a phase's code: refused, timed out…).
    pub(crate) fn label_of_code(code: u8) -> Option<&'static str> {
        match code {
            EXIT_USAGE => Some(Error::Usage(String::new()).label()),
            EXIT_PREREQ => Some(Error::Prerequisite(String::new()).label()),
            c if [Ending::Term, Ending::Hup, Ending::Int, Ending::Quit]
                .iter()
                .any(|e| e.exit_code() == c) =>
            {
                Some(Error::Signalled(Ending::Term).label())
            }
            _ => None,
        }
    }

    /// Short machine-readable label for the JSON summary.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Error::Usage(_) => "usage",
            Error::Dns(_) => "dns",
            Error::Connect { .. } => "connect",
            Error::Listen { .. } => "listen",
            Error::Timeout { .. } => "timeout",
            Error::Deadline { .. } => "deadline",
            Error::Session(e) => e.label(),
            Error::Io { .. } => "io",
            Error::Prerequisite(_) => "prerequisite",
            Error::ProxyOption(_) => "proxy",
            Error::ReplayMismatch { .. } => "replay_mismatch",
            Error::Signalled(_) => "interrupted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ehlo check`/`ehlo probe` summaries label their ends as the other modes label the same
    /// ends (their summaries had no `outcome`).
    #[test]
    fn a_check_outcome_is_labelled_as_the_other_modes_label_it() {
        let deadline = Error::Deadline {
            phase: Phase::Other,
            limit: std::time::Duration::ZERO,
            at: String::new(),
            unsure_delivery: false,
        };
        for (code, cut, want) in [
            (EXIT_OK, None, "ok"),
            (EXIT_USAGE, None, Error::Usage(String::new()).label()),
            (
                EXIT_PREREQ,
                None,
                Error::Prerequisite(String::new()).label(),
            ),
            (EXIT_CHECK_FAILED, None, "check_failed"),
            (EXIT_CHECK_FAILED, Some(Cut::Deadline), "check_failed"),
            (EXIT_CHECK_UNTESTED, None, "untested"),
            (EXIT_CHECK_UNTESTED, Some(Cut::Deadline), deadline.label()),
            (
                EXIT_CHECK_UNTESTED,
                Some(Cut::Signal),
                Error::Signalled(Ending::Int).label(),
            ),
        ] {
            assert_eq!(check_outcome(code, cut), want, "{code} {cut:?}");
        }
    }

    /// A REPL ended by a signal exits as a shell reports a process killed by it.
    #[test]
    fn an_implicit_tls_handshake_timeout_names_the_handshake_not_starttls() {
        let e = Error::Timeout {
            phase: Phase::StartTls,
            secs: 3.0,
            implicit_tls: true,
            handshake: true,
        };
        assert_eq!(
            e.to_string(),
            "timed out after 3s in the TLS handshake (implicit TLS, before any SMTP)"
        );
        assert_eq!(e.exit_code(), 29);
        assert_eq!(e.label(), "timeout");
        let e = Error::Timeout {
            phase: Phase::StartTls,
            secs: 3.0,
            implicit_tls: false,
            handshake: false,
        };
        assert_eq!(
            e.to_string(),
            "timed out after 3s waiting in STARTTLS phase"
        );
        let e = Error::Timeout {
            phase: Phase::StartTls,
            secs: 3.0,
            implicit_tls: false,
            handshake: true,
        };
        assert_eq!(
            e.to_string(),
            "timed out after 3s in the TLS handshake (after the server's 220 to STARTTLS)"
        );
        assert_eq!(e.exit_code(), 29);
    }

    /// Every `outcome` a summary can carry is in the JSON format's list (src/render/json.rs),
    /// which CI scripts read to tell failures apart; the list was missing.
    #[test]
    fn every_outcome_label_is_documented() {
        use crate::smtp::codes::Hint;
        let doc = include_str!("render/json.rs");
        let list = doc
            .split_once("`outcome` is one of:")
            .and_then(|(_, rest)| rest.split_once("New labels may be added"))
            .map(|(list, _)| list)
            .expect("the JSON format lists the outcomes");
        let reply = || Box::new(crate::smtp::reply::Reply::new(550, &[]));
        let session = [
            SessionError::UnexpectedReply {
                phase: Phase::Mail,
                expected: "250",
                verb: None,
                reply: reply(),
            },
            SessionError::NoRecipients { last: None },
            SessionError::Closed { phase: Phase::Dot },
            SessionError::NotAdvertised {
                phase: Phase::Mail,
                extension: "DSN",
                hint: None,
            },
            SessionError::Auth {
                mechanism: "PLAIN".into(),
                reason: String::new(),
            },
            SessionError::NoMechanism(String::new()),
            SessionError::PlaintextAuth(Hint::plain("")),
            SessionError::Tls(Hint::plain("")),
            SessionError::TooLarge {
                phase: Phase::Helo,
                detail: String::new(),
            },
            SessionError::Timeout {
                phase: Phase::Banner,
                secs: 1.0,
            },
            SessionError::Extension {
                extension: Extension::Prdr,
                phase: Phase::Mail,
                reason: Hint::plain(""),
            },
        ];
        let mut errors: Vec<Error> = session.into_iter().map(Error::Session).collect();
        errors.extend([
            Error::Usage(String::new()),
            Error::Dns(DnsError::NxDomain("x.test".into())),
            Error::Connect {
                target: String::new(),
                reason: String::new(),
            },
            Error::Listen {
                addr: String::new(),
                reason: String::new(),
            },
            Error::Timeout {
                phase: Phase::Banner,
                secs: 1.0,
                implicit_tls: false,
                handshake: false,
            },
            Error::Io {
                phase: Phase::Dot,
                source: std::io::ErrorKind::BrokenPipe.into(),
            },
            Error::Prerequisite(String::new()),
            Error::Deadline {
                phase: Phase::Data,
                limit: std::time::Duration::from_secs(3),
                at: String::new(),
                unsure_delivery: false,
            },
            Error::ReplayMismatch {
                phase: None,
                reason: String::new(),
            },
            Error::ProxyOption(String::new()),
            Error::Signalled(Ending::Term),
        ]);
        let mut labels: Vec<&str> = errors.iter().map(Error::label).collect();
        // The send's success, and `ehlo repl --strict`'s own label for a step it could not run.
        labels.extend(["ok", "strict"]);
        for label in labels {
            assert!(
                list.contains(&format!("`{label}`")),
                "outcome `{label}` is not documented"
            );
        }
    }

    /// `--deadline` cuts a send with a timeout's exit code where it was cut, in one line
    /// that says where, and whether the message may have gone.
    #[test]
    fn a_deadline_cut_says_where_with_the_phase_timeout_code() {
        let cut = |phase, secs, at: &str, unsure_delivery| Error::Deadline {
            phase,
            limit: std::time::Duration::from_secs(secs),
            at: at.into(),
            unsure_delivery,
        };
        let e = cut(Phase::Data, 3, "while waiting for the reply to DATA", false);
        assert_eq!(
            e.to_string(),
            "deadline 3s reached while waiting for the reply to DATA"
        );
        assert_eq!((e.exit_code(), e.label()), (25, "deadline"));
        let e = cut(
            Phase::Dot,
            120,
            "while waiting for the reply to the message",
            true,
        );
        assert_eq!(
            e.to_string(),
            "deadline 2m reached while waiting for the reply to the message; \
             the message may or may not have been delivered"
        );
        assert_eq!(e.exit_code(), 26);
        assert_eq!(cut(Phase::Dns, 7200, "", false).exit_code(), EXIT_CONNECT);
        // `ehlo replay --deadline` while a NOOP's reply is awaited: the server has not closed,
        // so not 6 (it was) but 36, as `--timeout` there and a refused NOOP are.
        let noop = cut(
            Phase::Other,
            1,
            "while waiting for the reply to NOOP",
            false,
        );
        assert_eq!(noop.exit_code(), EXIT_OTHER_REPLY);
        let timeout = Error::Timeout {
            phase: Phase::Other,
            secs: 1.0,
            implicit_tls: false,
            handshake: false,
        };
        assert_eq!(timeout.exit_code(), EXIT_OTHER_REPLY);
        assert_eq!(duration_words(std::time::Duration::from_secs(90)), "90s");
        assert_eq!(duration_words(std::time::Duration::from_secs(7200)), "2h");
    }

    #[test]
    fn a_replay_mismatch_outside_the_phases_is_not_a_close() {
        let m = |phase| Error::ReplayMismatch {
            phase,
            reason: String::new(),
        };
        assert_eq!(m(Some(Phase::Other)).exit_code(), EXIT_OTHER_REPLY);
        assert_eq!(m(Some(Phase::Rcpt)).exit_code(), 24);
        assert_eq!(m(None).exit_code(), EXIT_CLOSED);
        assert_eq!(reply_exit_code(Phase::Mail), 23);
    }

    /// A refusal that ends a REPL `--strict` run is labelled as the send labels it, with the
    /// send's exit code.
    #[test]
    fn a_refused_reply_is_labelled_as_the_send_labels_it() {
        let no_rcpt = Error::Session(SessionError::NoRecipients { last: None });
        assert_eq!(reply_failure_label(Phase::Rcpt), no_rcpt.label());
        assert_eq!(reply_exit_code(Phase::Rcpt), no_rcpt.exit_code());
        for phase in [Phase::Banner, Phase::Helo, Phase::Mail, Phase::Data] {
            assert_eq!(reply_failure_label(phase), "unexpected_reply", "{phase:?}");
        }
        // A refused AUTH is the AUTH failure, named as the exit code (28) and the JSON format
        // name it, as a failure on ehlo's side of the exchange is.
        let ours = Error::Session(SessionError::Auth {
            mechanism: "PLAIN".into(),
            reason: String::new(),
        });
        assert_eq!(reply_failure_label(Phase::Auth), "auth");
        assert_eq!(reply_failure_label(Phase::Auth), ours.label());
        assert_eq!(reply_exit_code(Phase::Auth), ours.exit_code());
        assert_eq!(reply_exit_code(Phase::Auth), 28);
        assert_eq!(reply_failure_label(Phase::Other), "unexpected_reply");
    }

    #[test]
    fn a_signal_exits_with_128_plus_its_number() {
        assert_eq!(Ending::Hup.exit_code(), 129);
        assert_eq!(Ending::Int.exit_code(), 130);
        assert_eq!(Ending::Quit.exit_code(), 131);
        assert_eq!(Ending::Term.exit_code(), 143);
        assert_eq!(Ending::Term.to_string(), "SIGTERM");
    }
}
