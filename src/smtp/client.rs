//! The client `Session`: one state machine that runs a planned SMTP transaction (banner, EHLO,
//! STARTTLS, AUTH, MAIL, RCPT…, DATA, QUIT), owns the single read buffer, and talks to the world
//! only through `feed` / `poll_transmit` / `poll_event` / `poll_action` (style practice 2).

use std::collections::VecDeque;

use crate::smtp::auth::Credentials;
use crate::smtp::data::Fixup;
use crate::smtp::event::{Event, Phase, TlsInfo};
use crate::smtp::reply::Reply;

/// Greeting verb (RFC 5321 EHLO/HELO, RFC 2033 LHLO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// HELO only.
    Smtp,
    /// EHLO, falling back to HELO when EHLO is refused.
    #[default]
    Esmtp,
    /// LHLO, one reply per accepted recipient after DATA.
    Lmtp,
}

/// STARTTLS policy (swaks `--tls`, `--tls-optional`, `--tls-optional-strict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartTls {
    /// Don't.
    #[default]
    Off,
    /// Required: fail (29) if not advertised or if it fails.
    Required,
    /// Try; carry on in plain text after any failure.
    Optional,
    /// Try if advertised; fail if advertised and it fails.
    OptionalStrict,
}

/// AUTH policy (swaks `--auth`, `--auth-optional`, `--auth-optional-strict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthRequirement {
    /// Fail (28) if AUTH is unavailable or fails.
    #[default]
    Required,
    /// Carry on if AUTH is unavailable or fails.
    Optional,
    /// Carry on if AUTH is unavailable; fail if it was tried and failed.
    OptionalStrict,
}

/// What to authenticate with.
#[derive(Debug, Clone, Default)]
pub struct AuthPlan {
    /// Mechanisms to try in order; empty = every advertised one ehlo supports, strongest first.
    pub mechanisms: Vec<String>,
    /// Requirement.
    pub requirement: AuthRequirement,
    /// Credentials.
    pub credentials: Credentials,
    /// Send AUTH even when not advertised (`--auth-force`).
    pub force: bool,
    /// Show the decoded exchange (`--auth-plaintext`).
    pub show_plaintext: bool,
    /// Do not mask secrets (`--show-secrets`).
    pub show_secrets: bool,
}

/// How a stop point ends the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopKind {
    /// Send QUIT after the reply (`--quit-after`).
    Quit,
    /// Close after reading the reply, without QUIT (`--drop-after`).
    Drop,
    /// Close right after sending the command (`--drop-after-send`).
    DropAfterSend,
}

/// Stop points (swaks.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopAt {
    /// After the connection is open (before reading the banner for drop-after-send).
    Connect,
    /// After the first EHLO/HELO.
    FirstHelo,
    /// After STARTTLS.
    Tls,
    /// After the last EHLO/HELO (after TLS when TLS is used).
    Helo,
    /// After AUTH.
    Auth,
    /// After MAIL.
    Mail,
    /// After the last RCPT.
    Rcpt,
    /// After DATA (drop options only).
    Data,
    /// After the final dot (drop options only).
    Dot,
}

/// A stop point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop {
    /// How.
    pub kind: StopKind,
    /// Where.
    pub at: StopAt,
}

/// Everything the session will do, decided before any I/O (built by `cli::config`).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Name for EHLO/HELO/LHLO.
    pub helo: String,
    /// Greeting verb.
    pub protocol: Protocol,
    /// STARTTLS policy.
    pub starttls: StartTls,
    /// The transport is already TLS (implicit TLS on connect).
    pub tls_on_connect: bool,
    /// AUTH, if asked for.
    pub auth: Option<AuthPlan>,
    /// Reverse path ("" = null sender).
    pub from: String,
    /// Recipients in order.
    pub rcpts: Vec<String>,
    /// Extra MAIL parameters.
    pub mail_params: Vec<String>,
    /// Extra RCPT parameters.
    pub rcpt_params: Vec<String>,
    /// Message content before DATA fix-ups.
    pub message: Vec<u8>,
    /// DATA fix-ups.
    pub fixup: Fixup,
    /// Send MAIL, RCPTs and DATA in one write (RFC 2920) when advertised.
    pub pipeline: bool,
    /// Where to stop early.
    pub stop: Option<Stop>,
}

/// What the session asks its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run the TLS handshake now (after the 220 to STARTTLS), then call `tls_established` or
    /// `tls_failed`.
    StartTls,
    /// Close the connection; the session is over.
    Close,
}

/// Why a session failed. Each variant knows its phase; `crate::error` maps that to an exit code.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SessionError {
    /// A reply of the wrong class (style practice 5: what was expected and what arrived).
    #[error("{}: expected {expected}, got {}", phase.label(), reply_summary(reply))]
    UnexpectedReply {
        /// Phase.
        phase: Phase,
        /// What we wanted ("2xx", "354", "220").
        expected: &'static str,
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
    #[error("{extension} is not advertised by the server{}", hint.map(|h| format!(" ({h})")).unwrap_or_default())]
    NotAdvertised {
        /// Phase it is needed for.
        phase: Phase,
        /// Extension keyword.
        extension: &'static str,
        /// What to do.
        hint: Option<&'static str>,
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
    /// The TLS handshake or verification failed.
    #[error("{0}")]
    Tls(String),
}

fn reply_summary(r: &Reply) -> String {
    let code = r
        .code
        .map(|c| c.to_string())
        .unwrap_or_else(|| "no code".into());
    let text = r.lines.first().cloned().unwrap_or_default();
    format!("{code} {text}").trim_end().to_string()
}

impl SessionError {
    /// The phase it belongs to.
    pub fn phase(&self) -> Option<Phase> {
        match self {
            SessionError::UnexpectedReply { phase, .. }
            | SessionError::Closed { phase }
            | SessionError::NotAdvertised { phase, .. } => Some(*phase),
            SessionError::NoRecipients { .. } => Some(Phase::Rcpt),
            SessionError::Auth { .. } | SessionError::NoMechanism(_) => Some(Phase::Auth),
            SessionError::Tls(_) => Some(Phase::StartTls),
        }
    }
    /// Is this an unexpected close (exit 6) rather than a phase failure?
    pub fn is_unexpected_close(&self) -> bool {
        matches!(self, SessionError::Closed { .. })
    }
    /// Label for the JSON summary.
    pub fn label(&self) -> &'static str {
        match self {
            SessionError::UnexpectedReply { .. } => "unexpected_reply",
            SessionError::NoRecipients { .. } => "no_recipients",
            SessionError::Closed { .. } => "closed",
            SessionError::NotAdvertised { .. } => "not_advertised",
            SessionError::Auth { .. } | SessionError::NoMechanism(_) => "auth",
            SessionError::Tls(_) => "tls",
        }
    }
}

/// The client state machine. TODO(lead): implement.
#[derive(Debug)]
pub struct Session {
    plan: Plan,
    events: VecDeque<Event>,
}

impl Session {
    /// A session that will run `plan`.
    pub fn new(plan: Plan) -> Session {
        Session {
            plan,
            events: VecDeque::new(),
        }
    }
    /// Bytes read from the transport.
    pub fn feed(&mut self, bytes: &[u8]) {
        let _ = (bytes, &self.plan);
    }
    /// Bytes to write, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        None
    }
    /// Next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
    /// Next action, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        None
    }
    /// The TLS handshake the session asked for succeeded.
    pub fn tls_established(&mut self, info: TlsInfo) {
        let _ = info;
    }
}
