//! The client `Session`: one state machine that runs a planned SMTP transaction (banner, EHLO,
//! STARTTLS, AUTH, MAIL, RCPT…, DATA, QUIT), owns the single read buffer, and talks to the world
//! only through `feed` / `poll_transmit` / `poll_event` / `poll_action` (the sans-IO shape of quinn-proto).

use std::collections::VecDeque;

use crate::smtp::auth::{self, Credentials, Mechanism, Step};
use crate::smtp::capabilities::{Capabilities, MAX_AUTH_MECHANISMS};
use crate::smtp::codes;
use crate::smtp::command::Command;
use crate::smtp::data::{self, Fixup};
use crate::smtp::event::{Bytes, Deviation, Event, Phase, RcptStatus, RecipientResult, SentKind};
use crate::smtp::ext::{self, Attribute, Dsn, Extension};
use crate::smtp::reply::{Limits, Progress, Reply, ReplyParser};
use crate::smtp::sent;

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
    /// Other names for mechanisms (swaks's `--auth-map ALIAS=TYPE`, upper case), on top of
    /// [`auth::ALIASES`]: `AUTH ALIAS` is sent and run as TYPE.
    pub aliases: Vec<(String, String)>,
}

impl AuthPlan {
    /// The mechanism a name runs: itself, or what an alias maps it to.
    pub fn resolve(&self, name: &str) -> String {
        let upper = name.to_ascii_uppercase();
        self.aliases
            .iter()
            .map(|(a, t)| (a.as_str(), t.as_str()))
            .chain(auth::ALIASES.iter().copied())
            .find(|(a, _)| *a == upper)
            .map_or(upper, |(_, t)| t.to_string())
    }

    /// The aliases (the plan's, then the built-in ones) that run `mechanism`.
    fn aliases_of<'a>(&'a self, mechanism: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.aliases
            .iter()
            .map(|(a, t)| (a.as_str(), t.as_str()))
            .chain(auth::ALIASES.iter().copied())
            .filter(move |(_, t)| *t == mechanism)
            .map(|(a, _)| a)
    }
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

/// Stop points (swaks's --quit-after / --drop-after / --drop-after-send).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopAt {
    /// Right after the PROXY header (before the banner).
    Proxy,
    /// After the connection is open (before reading the banner for drop-after-send).
    Connect,
    /// After the first EHLO/HELO.
    FirstHelo,
    /// After XCLIENT's reply.
    Xclient,
    /// After the EHLO that follows XCLIENT.
    XclientHelo,
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
    /// ESMTP extensions to use.
    pub ext: ExtPlan,
}

/// Which ESMTP extensions to use (advertised → used; not advertised → an error, or sent anyway
/// with `force`). SIZE (RFC 1870) and 8BITMIME (RFC 6152) need no flag: `SIZE=` goes out
/// whenever it is advertised and `BODY=8BITMIME` whenever the content has 8-bit bytes.
#[derive(Debug, Clone, Default)]
pub struct ExtPlan {
    /// `--smtputf8`: add `SMTPUTF8` (RFC 6531 §3.4) even when no address or header needs it.
    pub smtputf8: bool,
    /// DSN parameters (RFC 3461).
    pub dsn: Dsn,
    /// `REQUIRETLS` on MAIL (RFC 8689 §4.1); needs TLS.
    pub requiretls: bool,
    /// Send the content with BDAT (RFC 3030) in chunks of this size (0 = one chunk).
    pub bdat: Option<usize>,
    /// `PRDR` on MAIL (draft-hall-prdr): per-recipient replies after the content.
    pub prdr: bool,
    /// XCLIENT (Postfix) after the greeting.
    pub xclient: Option<XclientPlan>,
    /// XFORWARD attributes (Postfix), sent before MAIL.
    pub xforward: Vec<Attribute>,
    /// `--force-ext`: use extensions even when not advertised.
    pub force: bool,
}

/// XCLIENT (Postfix XCLIENT_README): attributes, then a 220 and a new EHLO.
#[derive(Debug, Clone, Default)]
pub struct XclientPlan {
    /// The XCLIENT commands in the order they are sent, each answered by a 220.
    pub commands: Vec<XclientCommand>,
    /// Send before STARTTLS rather than after.
    pub before_starttls: bool,
    /// Carry on without XCLIENT when it is not advertised or refused.
    pub optional: bool,
    /// Carry on without XCLIENT when it (or an attribute) is not advertised, but fail when the
    /// server refuses it (swaks `--xclient-optional-strict`).
    pub optional_strict: bool,
    /// Do not check attributes against the advertised list.
    pub no_verify: bool,
}

/// One XCLIENT command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XclientCommand {
    /// Attributes (`ADDR`, `NAME`, …), xtext-encoded when sent.
    Attrs(Vec<Attribute>),
    /// A raw argument string, sent as given (`--xclient`).
    Raw(String),
}

impl XclientPlan {
    /// Every attribute of every command (the ones checked against the advertised list).
    pub fn attrs(&self) -> Vec<Attribute> {
        self.commands
            .iter()
            .flat_map(|c| match c {
                XclientCommand::Attrs(a) => a.clone(),
                XclientCommand::Raw(_) => Vec::new(),
            })
            .collect()
    }
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
    /// A reply of the wrong class (the error says what was expected and what arrived).
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
    /// A reply passed the size limits ([`Deviation::ReplyTooLarge`]): reading stopped there and
    /// the connection was closed, since the rest of it has no command to belong to.
    #[error("{}: reply too large: {detail}", phase.label())]
    TooLarge {
        /// Phase.
        phase: Phase,
        /// What arrived and the limits.
        detail: String,
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
        reason: String,
    },
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
            | SessionError::TooLarge { phase, .. }
            | SessionError::NotAdvertised { phase, .. }
            | SessionError::Extension { phase, .. } => Some(*phase),
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
            SessionError::TooLarge { .. } => "reply_too_large",
            SessionError::NotAdvertised { .. } | SessionError::Extension { .. } => "not_advertised",
            SessionError::Auth { .. } | SessionError::NoMechanism(_) => "auth",
            SessionError::Tls(_) => "tls",
        }
    }
}

/// What the next reply answers. With PIPELINING several are outstanding at once, answered in
/// order (RFC 2920 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The 220 greeting.
    Banner,
    /// EHLO/HELO/LHLO (`ehlo` false = HELO), before or after TLS.
    Greeting { ehlo: bool, after_tls: bool },
    /// The 220 to STARTTLS.
    StartTls,
    /// A reply during AUTH (334 or the final 235).
    Auth,
    /// MAIL FROM.
    Mail,
    /// RCPT TO for recipient `n`.
    Rcpt(usize),
    /// DATA's 354.
    Data,
    /// The reply to a BDAT chunk that is not the last (RFC 3030 §2).
    Bdat,
    /// PRDR: the 353 after the content (or a final reply when the server declines PRDR).
    PrdrStart,
    /// PRDR: the reply for accepted recipient `n` (index into the plan's recipients).
    PrdrRcpt(usize),
    /// XCLIENT's 220 (Postfix); `last` = no more XCLIENT commands follow.
    Xclient { last: bool },
    /// XFORWARD's 250 (Postfix); `last` = MAIL follows.
    Xforward { last: bool },
    /// The reply to the final dot (LMTP: one per accepted recipient; `n` left).
    Dot(usize),
    /// QUIT's 221.
    Quit,
}

impl Expect {
    fn phase(self) -> Phase {
        match self {
            Expect::Banner => Phase::Banner,
            Expect::Greeting {
                after_tls: false, ..
            } => Phase::Helo,
            Expect::Greeting {
                after_tls: true, ..
            } => Phase::HeloAfterTls,
            Expect::StartTls => Phase::StartTls,
            Expect::Auth => Phase::Auth,
            Expect::Mail => Phase::Mail,
            Expect::Rcpt(_) => Phase::Rcpt,
            Expect::Data => Phase::Data,
            // A refused chunk is a refused message (exit 26), and BDAT is answered with 250.
            Expect::Dot(_) | Expect::Bdat | Expect::PrdrStart | Expect::PrdrRcpt(_) => Phase::Dot,
            Expect::Xclient { .. } => Phase::Xclient,
            Expect::Xforward { .. } => Phase::Mail,
            Expect::Quit => Phase::Quit,
        }
    }
}

/// An AUTH exchange in progress.
struct AuthState {
    /// Mechanisms still to try after the current one.
    queue: VecDeque<String>,
    /// The mechanism being run.
    current: Option<Box<dyn Mechanism>>,
    /// Why the last mechanism could not be used, for the final error.
    last_error: Option<String>,
    /// Mechanisms refused so far, with the code (`PLAIN (535)`), for the report.
    tried: Vec<String>,
}

impl std::fmt::Debug for AuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthState")
            .field("queue", &self.queue)
            .field("current", &self.current.as_ref().map(|m| m.name()))
            .finish()
    }
}

/// The client state machine (sans-IO: no I/O, no clock). Feed it bytes, drain what it wants written,
/// the events it saw and the actions it needs; it never does I/O itself.
#[derive(Debug)]
pub struct Session {
    plan: Plan,
    /// The ONE read buffer: bytes after a complete reply stay here (pipelining, injection check).
    buf: Vec<u8>,
    parser: ReplyParser,
    pending: VecDeque<Expect>,
    transmit: Vec<u8>,
    events: VecDeque<Event>,
    actions: VecDeque<Action>,
    /// Is the transport encrypted?
    tls: bool,
    /// Capabilities from the latest EHLO (forgotten after STARTTLS, RFC 3207 §4.2).
    caps: Option<Capabilities>,
    auth: Option<AuthState>,
    authenticated: bool,
    /// Are MAIL/RCPT/DATA going out together?
    pipelining: bool,
    rcpt_results: Vec<RecipientResult>,
    message_accepted: Option<bool>,
    error: Option<SessionError>,
    /// QUIT sent (or a requested drop): a close now is expected.
    finishing: bool,
    closed: bool,
    /// Emit `RawSent` events (for `--show-raw-text`).
    raw_events: bool,
    /// Phase of the last command sent (for timeouts while nothing is pending).
    last_phase: Phase,
    /// LMTP: which recipients the replies after the content belong to, in order.
    dot_targets: Vec<usize>,
    /// BDAT chunks still to send.
    chunks: VecDeque<Vec<u8>>,
    /// PRDR went out on MAIL.
    prdr_used: bool,
    /// XCLIENT already done (it is sent once).
    xclient_done: bool,
    /// The greeting in progress follows XCLIENT (its failure is exit 34).
    after_xclient: bool,
    /// XCLIENT command lines still to send.
    xclient_lines: VecDeque<String>,
    /// XFORWARD already sent.
    xforward_done: bool,
    /// How many expectations at the back of `pending` belong to commands still in `transmit`
    /// (queued, not yet handed to the driver): a reply matched to one of them arrived before
    /// its command was sent.
    unsent: usize,
    /// The reply being read started arriving while no sent command was waiting for it.
    early_partial: bool,
    /// An early reply has been reported (once per session: after it every reply is shifted).
    early_reported: bool,
}

impl Session {
    /// A session that will run `plan`. Nothing is sent before the banner arrives.
    pub fn new(plan: Plan) -> Session {
        let tls = plan.tls_on_connect;
        let rcpt_results = plan.rcpts.iter().map(RecipientResult::new).collect();
        let mut s = Session {
            plan,
            buf: Vec::new(),
            parser: ReplyParser::new(Limits::default()),
            pending: VecDeque::new(),
            transmit: Vec::new(),
            events: VecDeque::new(),
            actions: VecDeque::new(),
            tls,
            caps: None,
            auth: None,
            authenticated: false,
            pipelining: false,
            rcpt_results,
            message_accepted: None,
            error: None,
            finishing: false,
            closed: false,
            raw_events: false,
            last_phase: Phase::Banner,
            dot_targets: Vec::new(),
            chunks: VecDeque::new(),
            prdr_used: false,
            xclient_done: false,
            after_xclient: false,
            xclient_lines: VecDeque::new(),
            xforward_done: false,
            unsent: 0,
            early_partial: false,
            early_reported: false,
        };
        // A stop at PROXY ends before the banner whatever its kind: the driver has already
        // written the header.
        if let Some(
            Stop {
                kind: StopKind::DropAfterSend,
                at: StopAt::Connect,
            }
            | Stop {
                at: StopAt::Proxy, ..
            },
        ) = s.plan.stop
        {
            s.finish_now();
        } else {
            s.pending.push_back(Expect::Banner);
        }
        s
    }

    /// Also emit [`Event::RawSent`] for every write (secrets masked).
    pub fn set_raw_events(&mut self, on: bool) {
        self.raw_events = on;
    }

    /// Bytes read from the transport.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.closed {
            return;
        }
        self.buf.extend_from_slice(bytes);
        while !self.closed && !self.awaiting_tls() {
            let Some(reply) = self.parser.next_reply(&mut self.buf) else {
                break;
            };
            self.on_reply(reply);
        }
        // Part of a reply is here while every command waiting for one is still unsent: that
        // reply began before its command (an early-talking or desynchronised server).
        if !self.closed && self.parser.in_progress() && self.pending.len() <= self.unsent {
            self.early_partial = true;
        }
    }

    /// The transport reached end of file.
    pub fn feed_eof(&mut self) {
        if self.closed {
            return;
        }
        while let Some(reply) = self.parser.finish(&mut self.buf) {
            self.on_reply(reply);
            if self.closed {
                return;
            }
        }
        if self.closed {
            return;
        }
        let expected = self.finishing;
        if !expected && self.error.is_none() {
            self.error = Some(SessionError::Closed {
                phase: self.phase(),
            });
        }
        self.events.push_back(Event::Closed { expected });
        self.closed = true;
    }

    /// Bytes to write, if any (everything queued so far, in one buffer: one write per step, so
    /// pipelined commands leave in one segment).
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.unsent = 0;
        if self.transmit.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.transmit))
        }
    }

    /// What has arrived of a reply that is not finished (for a timeout's diagnosis).
    pub fn progress(&self) -> Option<Progress> {
        self.parser.progress(&self.buf)
    }

    /// Next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Next action, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The TLS handshake the session asked for succeeded: EHLO again with a clean slate
    /// (RFC 3207 §4.2). The driver reports the handshake's evidence itself.
    pub fn tls_established(&mut self) {
        self.tls = true;
        self.caps = None;
        self.buf.clear();
        if self.stop_here(StopAt::Tls) {
            return;
        }
        self.send_greeting(true, true);
    }

    /// The TLS handshake failed (or verification failed and is enforced). The connection is
    /// unusable afterwards, whatever the policy, so the session ends.
    pub fn tls_failed(&mut self, reason: String) {
        self.set_error(SessionError::Tls(reason));
        self.close();
    }

    /// The phase whose reply we are waiting for (for timeout errors).
    pub fn phase(&self) -> Phase {
        self.pending
            .front()
            .map(|e| e.phase())
            .unwrap_or(self.last_phase)
    }

    /// Is the session over?
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Is the transport encrypted?
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// How it ended: `Ok` or the first error.
    pub fn outcome(&self) -> Result<(), &SessionError> {
        match &self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Per-recipient results so far.
    pub fn recipients(&self) -> &[RecipientResult] {
        &self.rcpt_results
    }

    /// Did the server accept the message after the final dot?
    pub fn message_accepted(&self) -> Option<bool> {
        self.message_accepted
    }

    /// The latest EHLO capabilities.
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.caps.as_ref()
    }

    fn awaiting_tls(&self) -> bool {
        self.actions.contains(&Action::StartTls)
    }

    // ----- output helpers -------------------------------------------------------------------

    fn send_command(&mut self, cmd: &Command, phase: Phase, expect: Expect) {
        let wire = cmd.encode();
        let text = String::from_utf8_lossy(&wire)
            .trim_end_matches("\r\n")
            .to_string();
        self.queue_bytes(&wire, text, SentKind::Command, phase, false);
        self.pending.push_back(expect);
        self.unsent += 1;
    }

    /// Queue bytes and report them. `display` is what the transcript shows (secrets masked).
    fn queue_bytes(
        &mut self,
        wire: &[u8],
        display: String,
        kind: SentKind,
        phase: Phase,
        redacted: bool,
    ) {
        self.last_phase = phase;
        let out = sent::Outgoing {
            wire,
            display,
            kind,
            phase,
            redacted,
            tls: self.tls,
        };
        sent::report(out, self.raw_events, &mut self.events);
        self.transmit.extend_from_slice(wire);
    }

    fn info(&mut self, message: impl Into<String>) {
        self.events.push_back(Event::Info {
            message: message.into(),
        });
    }

    fn warn(&mut self, message: impl Into<String>) {
        self.events.push_back(Event::Warning {
            message: message.into(),
        });
    }

    /// Record the first error only: later failures are consequences.
    fn set_error(&mut self, e: SessionError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// Fail in a phase and end politely with QUIT (swaks does the same).
    fn fail(&mut self, e: SessionError) {
        self.set_error(e);
        self.quit();
    }

    fn quit(&mut self) {
        if self.finishing {
            return;
        }
        // Outstanding pipelined replies stay pending: they arrive before QUIT's and are
        // reported but otherwise ignored (see `on_reply`).
        self.finishing = true;
        self.send_command(&Command::Quit, Phase::Quit, Expect::Quit);
    }

    fn close(&mut self) {
        if !self.closed {
            self.finishing = true;
            self.closed = true;
            self.pending.clear();
            self.actions.push_back(Action::Close);
            self.events.push_back(Event::Closed { expected: true });
        }
    }

    /// End the session right now because a stop point says so.
    fn finish_now(&mut self) {
        self.finishing = true;
        self.close();
    }

    /// Apply a stop point at `at`, if the plan has one there. Returns true when it stopped.
    fn stop_here(&mut self, at: StopAt) -> bool {
        match self.plan.stop {
            Some(Stop { kind, at: a }) if a == at => {
                match kind {
                    StopKind::Quit => self.quit(),
                    StopKind::Drop | StopKind::DropAfterSend => self.finish_now(),
                }
                true
            }
            _ => false,
        }
    }

    /// After sending a command: a drop-after-send stop at `at` closes right away.
    fn drop_after_send(&mut self, at: StopAt) -> bool {
        if matches!(self.plan.stop, Some(Stop { kind: StopKind::DropAfterSend, at: a }) if a == at)
        {
            self.pending.clear();
            self.finish_now();
            return true;
        }
        false
    }

    // ----- the dialogue ---------------------------------------------------------------------

    fn on_reply(&mut self, reply: Reply) {
        // Matched to a command still unsent, or begun before one was sent: it cannot be the
        // answer to it. Say so the first time; every later reply is shifted by it.
        self.unsent = self.unsent.min(self.pending.len());
        let early = std::mem::take(&mut self.early_partial) | (self.pending.len() <= self.unsent);
        let early = early && !self.pending.is_empty();
        if early && !self.early_reported && !self.finishing {
            self.early_reported = true;
            let phase = self.pending.front().map_or(self.last_phase, |e| e.phase());
            self.events.push_back(Event::Deviation {
                deviation: Deviation::EarlyReply,
                phase,
            });
        }
        if self.pending.len() <= self.unsent {
            self.unsent = self.pending.len().saturating_sub(1);
        }
        let too_large = reply.deviations.iter().find_map(|d| match d {
            Deviation::ReplyTooLarge { .. } => Some(d.clone()),
            _ => None,
        });
        if let Some(d) = too_large {
            let phase = self.pending.front().map_or(self.last_phase, |e| e.phase());
            let explanation = codes::explain(&reply, phase);
            self.events.push_back(Event::Received {
                reply,
                tls: self.tls,
                expected: false,
                phase,
                explanation,
            });
            self.set_error(SessionError::TooLarge {
                phase,
                detail: crate::smtp::reply::describe_cut(&d),
            });
            // Not QUIT: the rest of the reply is still coming and would be read as QUIT's.
            self.close();
            return;
        }
        let Some(expect) = self.pending.pop_front() else {
            // Nothing was asked: report it and carry on (a 421 before closing is common).
            let explanation = codes::explain(&reply, self.last_phase);
            self.events.push_back(Event::Deviation {
                deviation: Deviation::UnsolicitedReply,
                phase: self.last_phase,
            });
            self.events.push_back(Event::Received {
                reply,
                tls: self.tls,
                expected: false,
                phase: self.last_phase,
                explanation,
            });
            return;
        };
        let phase = expect.phase();
        let expected = match expect {
            Expect::Banner | Expect::StartTls => reply.code == Some(220),
            Expect::Auth => matches!(reply.code, Some(235 | 334)),
            Expect::Data => reply.code == Some(354),
            Expect::Quit => reply.code == Some(221),
            Expect::PrdrStart => reply.code == Some(353) || reply.is_positive(),
            Expect::Xclient { .. } => reply.code == Some(220),
            _ => reply.is_positive(),
        };
        // PRDR and LMTP replies after the content speak for one recipient, not the message.
        let answer = match expect {
            Expect::PrdrStart => codes::Answer::PrdrStart,
            Expect::PrdrRcpt(_) => codes::Answer::PrdrRecipient,
            Expect::Dot(_)
                if self.plan.protocol == Protocol::Lmtp && !self.dot_targets.is_empty() =>
            {
                codes::Answer::LmtpRecipient
            }
            _ => codes::Answer::Command,
        };
        let explanation = codes::explain_answer(&reply, phase, answer);
        self.events.push_back(Event::Received {
            reply: reply.clone(),
            tls: self.tls,
            expected,
            phase,
            explanation,
        });
        if self.finishing && expect != Expect::Quit {
            // Replies to pipelined commands after a failure: reported, otherwise ignored.
            return;
        }
        match expect {
            Expect::Banner => self.on_banner(reply, expected),
            Expect::Greeting { ehlo, after_tls } => self.on_greeting(reply, ehlo, after_tls),
            Expect::StartTls => self.on_starttls(reply),
            Expect::Auth => self.on_auth(reply),
            Expect::Mail => self.on_mail(reply),
            Expect::Rcpt(n) => self.on_rcpt(n, reply),
            Expect::Data => self.on_data(reply),
            Expect::Dot(left) => self.on_dot(reply, left),
            Expect::Bdat => self.on_bdat(reply),
            Expect::PrdrStart => self.on_prdr_start(reply),
            Expect::PrdrRcpt(n) => self.record_data_reply(n, &reply),
            Expect::Xclient { last } => self.on_xclient(reply, last),
            Expect::Xforward { .. } => self.on_xforward(reply),
            Expect::Quit => {
                if !expected {
                    self.set_error(SessionError::UnexpectedReply {
                        phase: Phase::Quit,
                        expected: "221",
                        reply: Box::new(reply),
                    });
                }
                self.close();
            }
        }
    }

    fn on_banner(&mut self, reply: Reply, ok: bool) {
        if !ok {
            self.fail(SessionError::UnexpectedReply {
                phase: Phase::Banner,
                expected: "220",
                reply: Box::new(reply),
            });
            return;
        }
        if self.stop_here(StopAt::Connect) {
            return;
        }
        self.send_greeting(self.plan.protocol != Protocol::Smtp, false);
    }

    fn send_greeting(&mut self, ehlo: bool, after_tls: bool) {
        let name = self.plan.helo.clone();
        let cmd = match (self.plan.protocol, ehlo) {
            (Protocol::Lmtp, _) => Command::Lhlo(name),
            (_, true) => Command::Ehlo(name),
            (_, false) => Command::Helo(name),
        };
        let phase = if self.after_xclient {
            Phase::HeloAfterXclient
        } else if after_tls {
            Phase::HeloAfterTls
        } else {
            Phase::Helo
        };
        self.send_command(&cmd, phase, Expect::Greeting { ehlo, after_tls });
        let at = if self.after_xclient {
            StopAt::XclientHelo
        } else if after_tls {
            StopAt::Helo
        } else {
            StopAt::FirstHelo
        };
        self.drop_after_send(at);
    }

    fn on_greeting(&mut self, reply: Reply, ehlo: bool, after_tls: bool) {
        let phase = if self.after_xclient {
            Phase::HeloAfterXclient
        } else if after_tls {
            Phase::HeloAfterTls
        } else {
            Phase::Helo
        };
        if !reply.is_positive() {
            // Fall back to HELO only when EHLO itself was not understood (RFC 5321 §4.1.4,
            // 500/502/504); a 550 or 554 is a refusal of us, not of the verb.
            let not_understood = matches!(reply.code, Some(500 | 502 | 504));
            if ehlo
                && !after_tls
                && !self.after_xclient
                && self.plan.protocol == Protocol::Esmtp
                && not_understood
            {
                self.info("EHLO refused: falling back to HELO (no extensions)");
                self.send_greeting(false, after_tls);
                return;
            }
            self.fail(SessionError::UnexpectedReply {
                phase,
                expected: "250",
                reply: Box::new(reply),
            });
            return;
        }
        self.caps = Some(if ehlo {
            Capabilities::from_reply(&reply)
        } else {
            Capabilities::default()
        });
        // RFC 4954 §4 / RFC 8314: credentials belong inside TLS. A server that offers AUTH in
        // clear text invites clients to send them unprotected: worth a finding.
        if !self.tls {
            let mechs = self
                .caps
                .as_ref()
                .map(Capabilities::auth_mechanisms)
                .unwrap_or_default();
            if !mechs.is_empty() {
                // A handful is worth naming; a hostile list of thousands is not worth printing.
                const SHOWN: usize = 8;
                let mut list = mechs[..mechs.len().min(SHOWN)].join(" ");
                if mechs.len() >= MAX_AUTH_MECHANISMS {
                    list.push_str(&format!(" and over {} more", MAX_AUTH_MECHANISMS - SHOWN));
                } else if mechs.len() > SHOWN {
                    list.push_str(&format!(" and {} more", mechs.len() - SHOWN));
                }
                self.warn(format!(
                    "the server offers AUTH ({list}) before TLS: clients may send credentials unencrypted"
                ));
            }
        }
        let was_xclient = std::mem::take(&mut self.after_xclient);
        if was_xclient {
            if self.stop_here(StopAt::XclientHelo) {
                return;
            }
        } else if !after_tls && self.stop_here(StopAt::FirstHelo) {
            return;
        }
        self.proceed_after_greeting(!was_xclient);
    }

    fn wants_xclient(&self) -> bool {
        self.plan.ext.xclient.is_some() && !self.xclient_done
    }

    /// After a successful greeting: XCLIENT before STARTTLS if asked, STARTTLS, the HELO stop
    /// point, XCLIENT, then AUTH.
    fn proceed_after_greeting(&mut self, helo_stop: bool) {
        let before_tls = self
            .plan
            .ext
            .xclient
            .as_ref()
            .is_some_and(|x| x.before_starttls);
        if self.wants_xclient() && before_tls && !self.tls {
            self.begin_xclient();
            return;
        }
        // STARTTLS comes first when asked for and not already encrypted.
        if !self.tls && self.plan.starttls != StartTls::Off {
            let advertised = self.caps.as_ref().is_some_and(|c| c.has("STARTTLS"));
            if advertised {
                self.send_command(&Command::StartTls, Phase::StartTls, Expect::StartTls);
                self.drop_after_send(StopAt::Tls);
                return;
            }
            match self.plan.starttls {
                StartTls::Required => {
                    self.fail(SessionError::NotAdvertised {
                        phase: Phase::StartTls,
                        extension: "STARTTLS",
                        hint: Some("the server offers no TLS on this port; try --tls-on-connect on port 465, or drop --tls"),
                    });
                    return;
                }
                _ => self.warn("STARTTLS is not advertised: carrying on without TLS"),
            }
        }
        // The last greeting is done (with or without TLS).
        if helo_stop && self.stop_here(StopAt::Helo) {
            return;
        }
        self.after_last_greeting();
    }

    fn after_last_greeting(&mut self) {
        if self.wants_xclient() {
            self.begin_xclient();
        } else {
            self.begin_auth();
        }
    }

    // ----- XCLIENT (Postfix XCLIENT_README) -------------------------------------------------

    fn begin_xclient(&mut self) {
        self.xclient_done = true;
        let Some(plan) = self.plan.ext.xclient.clone() else {
            self.begin_auth();
            return;
        };
        let advertised: Option<Vec<String>> = self
            .caps
            .as_ref()
            .and_then(|c| c.params("XCLIENT"))
            .map(<[String]>::to_vec);
        let problem = match &advertised {
            None if !self.plan.ext.force => Some("not advertised by the server (it must list this client in smtpd_authorized_xclient_hosts; --force-ext sends it anyway)".to_string()),
            Some(adv) if !plan.no_verify && !self.plan.ext.force => {
                let attrs = plan.attrs();
                let missing = ext::unadvertised(&attrs, adv);
                (!missing.is_empty()).then(|| {
                    format!(
                        "attribute(s) {} not advertised (the server offers {}; --xclient-no-verify sends them anyway)",
                        missing.join(", "),
                        adv.join(" ")
                    )
                })
            }
            _ => None,
        };
        if let Some(reason) = problem {
            if plan.optional || plan.optional_strict {
                let flag = if plan.optional {
                    "--xclient-optional"
                } else {
                    "--xclient-optional-strict"
                };
                self.warn(format!(
                    "XCLIENT: {reason}: carrying on without it ({flag})"
                ));
                self.proceed_after_greeting(false);
            } else {
                self.fail(SessionError::Extension {
                    extension: Extension::Xclient,
                    phase: Phase::Xclient,
                    reason,
                });
            }
            return;
        }
        let lines: VecDeque<String> = plan
            .commands
            .iter()
            .filter_map(|c| match c {
                XclientCommand::Attrs(a) if a.is_empty() => None,
                XclientCommand::Attrs(a) => Some(ext::attribute_command("XCLIENT", a)),
                XclientCommand::Raw(r) => Some(format!("XCLIENT {r}")),
            })
            .collect();
        if lines.is_empty() {
            self.proceed_after_greeting(false);
            return;
        }
        self.xclient_lines = lines;
        self.send_xclient_line();
    }

    fn send_xclient_line(&mut self) {
        let Some(line) = self.xclient_lines.pop_front() else {
            return;
        };
        let last = self.xclient_lines.is_empty();
        let mut wire = line.clone().into_bytes();
        wire.extend_from_slice(b"\r\n");
        self.queue_bytes(&wire, line, SentKind::Command, Phase::Xclient, false);
        self.pending.push_back(Expect::Xclient { last });
        if last {
            self.drop_after_send(StopAt::Xclient);
        }
    }

    fn on_xclient(&mut self, reply: Reply, last: bool) {
        if reply.code != Some(220) {
            let optional = self.plan.ext.xclient.as_ref().is_some_and(|x| x.optional);
            if optional {
                self.xclient_lines.clear();
                self.warn("XCLIENT was refused: carrying on without it (--xclient-optional)");
                self.proceed_after_greeting(false);
            } else {
                self.fail(SessionError::UnexpectedReply {
                    phase: Phase::Xclient,
                    expected: "220",
                    reply: Box::new(reply),
                });
            }
            return;
        }
        if !last {
            self.send_xclient_line();
            return;
        }
        if self.stop_here(StopAt::Xclient) {
            return;
        }
        // XCLIENT starts a new session: greet again (Postfix XCLIENT_README).
        self.caps = None;
        self.after_xclient = true;
        let ehlo = self.plan.protocol != Protocol::Smtp;
        let tls = self.tls;
        self.send_greeting(ehlo, tls);
    }

    fn on_xforward(&mut self, reply: Reply) {
        if !reply.is_positive() {
            self.fail(SessionError::UnexpectedReply {
                phase: Phase::Mail,
                expected: "250",
                reply: Box::new(reply),
            });
            return;
        }
        self.begin_mail();
    }

    fn on_starttls(&mut self, reply: Reply) {
        if reply.code != Some(220) {
            match self.plan.starttls {
                StartTls::Optional => {
                    self.warn("STARTTLS was refused: carrying on without TLS (--tls-optional)");
                    if !self.stop_here(StopAt::Helo) {
                        self.after_last_greeting();
                    }
                }
                _ => self.fail(SessionError::UnexpectedReply {
                    phase: Phase::StartTls,
                    expected: "220",
                    reply: Box::new(reply),
                }),
            }
            return;
        }
        // Anything already buffered was sent before the handshake and must not be trusted as if
        // it came over TLS (CVE-2011-0411, STARTTLS command injection).
        if !self.buf.is_empty() {
            let injected = std::mem::take(&mut self.buf);
            self.events.push_back(Event::Deviation {
                deviation: Deviation::StartTlsInjection {
                    bytes: Bytes(injected.clone()),
                },
                phase: Phase::StartTls,
            });
            self.warn(format!(
                "{} byte(s) arrived after the 220 to STARTTLS, before the handshake: discarded (possible STARTTLS response injection)",
                injected.len()
            ));
        }
        self.actions.push_back(Action::StartTls);
    }

    // ----- AUTH (RFC 4954) ------------------------------------------------------------------

    fn begin_auth(&mut self) {
        let Some(plan) = self.plan.auth.clone() else {
            self.begin_mail();
            return;
        };
        let advertised = self
            .caps
            .as_ref()
            .map(Capabilities::auth_mechanisms)
            .unwrap_or_default();
        if advertised.is_empty() && !plan.force {
            match plan.requirement {
                AuthRequirement::Required => self.fail(SessionError::NotAdvertised {
                    phase: Phase::Auth,
                    extension: "AUTH",
                    hint: Some(if self.tls {
                        "use --auth-force to send AUTH anyway"
                    } else {
                        "many servers offer AUTH only after STARTTLS: add --tls"
                    }),
                }),
                _ => {
                    self.info("AUTH is not advertised: skipping it (--auth-optional)");
                    self.after_auth();
                }
            }
            return;
        }
        let creds = &plan.credentials;
        let usable = |m: &str| match m {
            "XOAUTH2" | "OAUTHBEARER" => creds.token.is_some(),
            _ => creds.password.is_some(),
        };
        let offers = |m: &str| self.caps.as_ref().is_some_and(|c| c.offers_auth(m));
        // The name to send for a mechanism: itself when offered (or forced), else an alias the
        // server offers for it (`AUTH MSN` for NTLM).
        let sendable = |m: &str| -> Option<String> {
            if plan.force || offers(m) {
                return Some(m.to_string());
            }
            plan.aliases_of(m).find(|a| offers(a)).map(str::to_string)
        };
        let mut queue: VecDeque<String> = VecDeque::new();
        let names: Vec<String> = if plan.mechanisms.is_empty() {
            auth::SUPPORTED
                .iter()
                .filter(|m| usable(m))
                .map(|m| m.to_string())
                .collect()
        } else {
            plan.mechanisms
                .iter()
                .map(|m| m.to_ascii_uppercase())
                .collect()
        };
        for name in names {
            if let Some(send) = sendable(&name)
                && !queue.contains(&send)
            {
                queue.push_back(send);
            }
        }
        if queue.is_empty() {
            let why = if plan.mechanisms.is_empty() {
                format!(
                    "the server offers {} and ehlo has credentials for none of them",
                    advertised.join(" ")
                )
            } else {
                format!(
                    "asked for {}, the server offers {}",
                    plan.mechanisms.join(","),
                    if advertised.is_empty() {
                        "none".to_string()
                    } else {
                        advertised.join(" ")
                    }
                )
            };
            self.auth_failed(SessionError::NoMechanism(why));
            return;
        }
        if !self.tls {
            self.warn("AUTH over an unencrypted connection: the credentials can be read on the wire (add --tls)");
        }
        self.auth = Some(AuthState {
            queue,
            current: None,
            last_error: None,
            tried: Vec::new(),
        });
        self.next_mechanism();
    }

    fn auth_failed(&mut self, e: SessionError) {
        let requirement = self
            .plan
            .auth
            .as_ref()
            .map(|a| a.requirement)
            .unwrap_or_default();
        self.auth = None;
        if requirement == AuthRequirement::Optional {
            self.warn(format!("{e}: carrying on without AUTH (--auth-optional)"));
            self.after_auth();
        } else {
            self.fail(e);
        }
    }

    fn next_mechanism(&mut self) {
        let plan = self.plan.auth.clone().unwrap_or_default();
        let Some(state) = self.auth.as_mut() else {
            return;
        };
        let Some(name) = state.queue.pop_front() else {
            let reason = state
                .last_error
                .take()
                .unwrap_or_else(|| "every mechanism tried was refused".into());
            self.auth_failed(SessionError::Auth {
                mechanism: "AUTH".into(),
                reason,
            });
            return;
        };
        let Some(mut mech) = auth::mechanism(&plan.resolve(&name), &plan.credentials) else {
            self.auth_failed(SessionError::Auth {
                mechanism: name,
                reason: "ehlo does not implement this mechanism".into(),
            });
            return;
        };
        if let Err(e) = mech.ready() {
            // A credential this mechanism needs is missing: try the next one.
            if let Some(state) = self.auth.as_mut() {
                state.last_error = Some(format!("{name}: {e}"));
            }
            self.next_mechanism();
            return;
        }
        let initial = mech.initial_response();
        let (wire_ir, display_ir, secret) = match &initial {
            Some(step) => {
                let b64 = auth::encode_initial(step);
                let shown = self.show_step(step, &b64, &plan);
                (Some(b64), Some(shown), step.secret && !plan.show_secrets)
            }
            None => (None, None, false),
        };
        let cmd = Command::Auth {
            mechanism: name.clone(),
            initial: wire_ir,
        };
        let wire = cmd.encode();
        let display = match display_ir {
            Some(d) => format!("AUTH {name} {d}"),
            None => format!("AUTH {name}"),
        };
        self.queue_bytes(&wire, display, SentKind::Command, Phase::Auth, secret);
        self.pending.push_back(Expect::Auth);
        if let Some(state) = self.auth.as_mut() {
            state.current = Some(mech);
        }
        self.drop_after_send(StopAt::Auth);
    }

    /// How one SASL response is shown: base64 as sent, the decoded form with
    /// `--auth-plaintext`, secrets masked (same length) unless `--show-secrets`.
    fn show_step(&self, step: &Step, b64: &str, plan: &AuthPlan) -> String {
        match (plan.show_plaintext, step.secret && !plan.show_secrets) {
            (true, _) => step.display.clone(),
            (false, true) => auth::mask(b64),
            (false, false) => b64.to_string(),
        }
    }

    fn on_auth(&mut self, reply: Reply) {
        let plan = self.plan.auth.clone().unwrap_or_default();
        let name = self
            .auth
            .as_ref()
            .and_then(|s| s.current.as_ref().map(|m| m.name()))
            .unwrap_or("AUTH")
            .to_string();
        match reply.code {
            Some(334) => {
                let text = reply.lines.first().cloned().unwrap_or_default();
                let challenge = match auth::decode_challenge(text.trim()) {
                    Ok(c) => c,
                    Err(e) => {
                        // Cancel the exchange (RFC 4954 §4: a "*" line) and fail.
                        self.queue_bytes(b"*\r\n", "*".into(), SentKind::Auth, Phase::Auth, false);
                        self.pending.push_back(Expect::Auth);
                        self.set_error(SessionError::Auth {
                            mechanism: name,
                            reason: e.to_string(),
                        });
                        self.finishing_auth_cancel();
                        return;
                    }
                };
                if plan.show_plaintext {
                    self.info(format!(
                        "challenge decoded: {}",
                        String::from_utf8_lossy(&challenge)
                    ));
                }
                let step = match self.auth.as_mut().and_then(|s| s.current.as_mut()) {
                    Some(m) => m.respond(&challenge),
                    None => return,
                };
                if let Some(err) = self
                    .auth
                    .as_ref()
                    .and_then(|s| s.current.as_ref())
                    .and_then(|m| m.server_error())
                {
                    self.info(format!("{name}: the server reports an error: {err}"));
                }
                match step {
                    Ok(step) => {
                        let b64 = auth::encode_response(&step);
                        let shown = self.show_step(&step, &b64, &plan);
                        let secret = step.secret && !plan.show_secrets;
                        let wire = format!("{b64}\r\n").into_bytes();
                        self.queue_bytes(&wire, shown, SentKind::Auth, Phase::Auth, secret);
                        self.pending.push_back(Expect::Auth);
                    }
                    Err(e) => {
                        self.queue_bytes(b"*\r\n", "*".into(), SentKind::Auth, Phase::Auth, false);
                        self.pending.push_back(Expect::Auth);
                        self.set_error(SessionError::Auth {
                            mechanism: name,
                            reason: e.to_string(),
                        });
                        self.finishing_auth_cancel();
                    }
                }
            }
            Some(235) => {
                let verdict = self
                    .auth
                    .as_mut()
                    .and_then(|s| s.current.as_mut())
                    .map(|m| m.finish(None))
                    .unwrap_or(Ok(()));
                if let Err(e) = verdict {
                    self.auth_failed(SessionError::Auth {
                        mechanism: name,
                        reason: e.to_string(),
                    });
                    return;
                }
                self.auth = None;
                self.authenticated = true;
                if self.stop_here(StopAt::Auth) {
                    return;
                }
                self.after_auth();
            }
            _ => {
                // Every mechanism in the queue is tried, as the help says and swaks does: a
                // 535 for one may be a mechanism the account cannot use (a PLAIN-only password
                // backend, CRAM-MD5 without a stored plaintext). Only a server that is
                // closing (421) ends the attempts early. Each refusal is reported.
                let code = reply
                    .code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "no code".into());
                let next = self
                    .auth
                    .as_ref()
                    .and_then(|s| s.queue.front().cloned())
                    .filter(|_| reply.code != Some(421));
                if let Some(state) = self.auth.as_mut() {
                    state.tried.push(format!("{name} ({code})"));
                }
                if let Some(next) = next {
                    self.info(format!(
                        "AUTH {name} refused with {code}: trying {next} next"
                    ));
                    self.next_mechanism();
                } else {
                    let tried = self
                        .auth
                        .as_ref()
                        .map(|s| s.tried.clone())
                        .unwrap_or_default();
                    if tried.len() > 1 {
                        self.info(format!("every mechanism was refused: {}", tried.join(", ")));
                    }
                    self.auth_failed(SessionError::UnexpectedReply {
                        phase: Phase::Auth,
                        expected: "235",
                        reply: Box::new(reply),
                    });
                }
            }
        }
    }

    /// After we cancelled with `*`, the server answers 501; then fail (respecting the policy).
    fn finishing_auth_cancel(&mut self) {
        if let Some(s) = self.auth.as_mut() {
            s.queue.clear();
            s.current = None;
        }
    }

    fn after_auth(&mut self) {
        self.begin_mail();
    }

    // ----- the transaction ------------------------------------------------------------------

    fn begin_mail(&mut self) {
        // An auth error recorded during a cancelled exchange ends here.
        if let Some(e) = self.error.clone() {
            let optional = self
                .plan
                .auth
                .as_ref()
                .is_some_and(|a| a.requirement == AuthRequirement::Optional);
            if !(optional && matches!(e, SessionError::Auth { .. })) {
                self.quit();
                return;
            }
            self.error = None;
        }
        let advertised = self.caps.as_ref().is_some_and(|c| c.has("PIPELINING"));
        let stop_before_data = matches!(
            self.plan.stop,
            Some(Stop {
                at: StopAt::Mail | StopAt::Rcpt,
                ..
            })
        );
        // XFORWARD (Postfix XFORWARD_README) goes before MAIL, once.
        if !self.xforward_done && !self.plan.ext.xforward.is_empty() {
            self.xforward_done = true;
            let advertised: Option<Vec<String>> = self
                .caps
                .as_ref()
                .and_then(|c| c.params("XFORWARD"))
                .map(<[String]>::to_vec);
            let problem = match &advertised {
                None => Some("not advertised by the server (it must list this client in smtpd_authorized_xforward_hosts)".to_string()),
                Some(adv) => {
                    let missing = ext::unadvertised(&self.plan.ext.xforward, adv);
                    (!missing.is_empty()).then(|| {
                        format!(
                            "attribute(s) {} not advertised (the server offers {})",
                            missing.join(", "),
                            adv.join(" ")
                        )
                    })
                }
            };
            match problem {
                Some(reason) if !self.plan.ext.force => {
                    self.fail(SessionError::Extension {
                        extension: Extension::Xforward,
                        phase: Phase::Mail,
                        reason: format!("{reason}; --force-ext sends it anyway"),
                    });
                    return;
                }
                Some(reason) => self.warn(format!(
                    "XFORWARD: {reason}: sending it anyway (--force-ext)"
                )),
                None => {}
            }
            let line = ext::attribute_command("XFORWARD", &self.plan.ext.xforward);
            let mut wire = line.clone().into_bytes();
            wire.extend_from_slice(b"\r\n");
            self.queue_bytes(&wire, line, SentKind::Command, Phase::Mail, false);
            self.pending.push_back(Expect::Xforward { last: true });
            return;
        }
        let bdat = self.plan.ext.bdat.is_some();
        self.pipelining = self.plan.pipeline && advertised && !stop_before_data;
        if self.plan.pipeline && !advertised {
            self.warn("--pipeline: PIPELINING is not advertised, sending one command at a time");
        }
        let mut params = match self.extension_params() {
            Ok(p) => p,
            Err(e) => {
                self.fail(e);
                return;
            }
        };
        params.extend(self.plan.mail_params.iter().cloned());
        let mail = Command::Mail {
            from: self.plan.from.clone(),
            params,
        };
        self.send_command(&mail, Phase::Mail, Expect::Mail);
        if self.drop_after_send(StopAt::Mail) {
            return;
        }
        if self.pipelining {
            for n in 0..self.plan.rcpts.len() {
                self.send_rcpt(n);
            }
            // BDAT waits for the RCPT replies: a chunk cannot be taken back.
            if !bdat {
                self.send_command(&Command::Data, Phase::Data, Expect::Data);
            }
        }
    }

    /// Is this extension usable? Advertised → yes; otherwise an error, or a warning under
    /// `--force-ext`.
    fn require(
        &mut self,
        extension: Extension,
        phase: Phase,
        why: &str,
    ) -> Result<(), SessionError> {
        if self
            .caps
            .as_ref()
            .is_some_and(|c| c.has(extension.keyword()))
        {
            return Ok(());
        }
        if self.plan.ext.force {
            self.warn(format!(
                "{} is not advertised: using it anyway (--force-ext)",
                extension.keyword()
            ));
            return Ok(());
        }
        Err(SessionError::Extension {
            extension,
            phase,
            reason: format!(
                "{why}, but the server does not advertise it (--force-ext sends it anyway)"
            ),
        })
    }

    fn user_mail_param(&self, keyword: &str) -> bool {
        self.plan.mail_params.iter().any(|p| {
            p.split('=')
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case(keyword))
        })
    }

    /// The MAIL parameters the extensions need, checked against the capabilities before anything
    /// of the transaction is sent (so nothing goes out half-way).
    fn extension_params(&mut self) -> Result<Vec<String>, SessionError> {
        let mut params = Vec::new();
        let message = self.plan.message.clone();
        // SMTPUTF8 (RFC 6531 §3.4): for a UTF-8 address or header.
        let utf8_addr = !self.plan.from.is_ascii() || self.plan.rcpts.iter().any(|r| !r.is_ascii());
        let utf8 = self.plan.ext.smtputf8 || utf8_addr || ext::headers_need_utf8(&message);
        if utf8 && !self.user_mail_param("SMTPUTF8") {
            let why = if self.plan.ext.smtputf8 {
                "--smtputf8 was given"
            } else if utf8_addr {
                "an address is not ASCII (RFC 6531)"
            } else {
                "a header is not ASCII (RFC 6532)"
            };
            self.require(Extension::SmtpUtf8, Phase::Mail, why)?;
            params.push("SMTPUTF8".to_string());
        }
        // 8BITMIME (RFC 6152): 8-bit content must be declared.
        if ext::is_8bit(&message) && !self.user_mail_param("BODY") {
            self.require(
                Extension::EightBitMime,
                Phase::Mail,
                "the message has 8-bit content (BODY=8BITMIME)",
            )?;
            params.push("BODY=8BITMIME".to_string());
        }
        // SIZE (RFC 1870 §4): declare the size; warn when it is over the limit.
        if let Some(limit) = self.caps.as_ref().and_then(Capabilities::size)
            && !self.user_mail_param("SIZE")
        {
            let size = data::encode_chunked(&message, self.plan.fixup).len();
            if limit > 0 && size as u64 > limit {
                self.warn(format!(
                    "the message is {size} octets, over the server's SIZE limit of {limit} (RFC 1870): it will probably be refused"
                ));
            }
            params.push(format!("SIZE={size}"));
        }
        // DSN (RFC 3461).
        if !self.plan.ext.dsn.is_empty() {
            self.require(Extension::Dsn, Phase::Mail, "DSN options were given")?;
            params.extend(self.plan.ext.dsn.mail_params());
        }
        // REQUIRETLS (RFC 8689 §4.1): only over TLS.
        if self.plan.ext.requiretls {
            if !self.tls && !self.plan.ext.force {
                return Err(SessionError::Extension {
                    extension: Extension::RequireTls,
                    phase: Phase::Mail,
                    reason: "needs a TLS connection (RFC 8689 §4.1): add --tls or --tls-on-connect"
                        .into(),
                });
            }
            self.require(Extension::RequireTls, Phase::Mail, "--requiretls was given")?;
            params.push("REQUIRETLS".to_string());
        }
        // PRDR (draft-hall-prdr §3).
        if self.plan.ext.prdr {
            self.require(Extension::Prdr, Phase::Mail, "--prdr was given")?;
            params.push("PRDR".to_string());
            self.prdr_used = true;
        }
        // CHUNKING (RFC 3030): checked now so MAIL is not sent for a message that cannot go.
        if self.plan.ext.bdat.is_some() {
            self.require(Extension::Chunking, Phase::Data, "--bdat was given")?;
        }
        Ok(params)
    }

    fn send_rcpt(&mut self, n: usize) {
        let to = self.plan.rcpts[n].clone();
        let mut params = self.plan.ext.dsn.rcpt_params(&to);
        params.extend(self.plan.rcpt_params.iter().cloned());
        let cmd = Command::Rcpt { to, params };
        self.send_command(&cmd, Phase::Rcpt, Expect::Rcpt(n));
    }

    fn on_mail(&mut self, reply: Reply) {
        if !reply.is_positive() {
            self.fail(SessionError::UnexpectedReply {
                phase: Phase::Mail,
                expected: "250",
                reply: Box::new(reply),
            });
            return;
        }
        if self.stop_here(StopAt::Mail) {
            return;
        }
        if self.plan.rcpts.is_empty() {
            self.fail(SessionError::NoRecipients { last: None });
            return;
        }
        if !self.pipelining {
            self.send_rcpt(0);
            if self.plan.rcpts.len() == 1 {
                self.drop_after_send(StopAt::Rcpt);
            }
        }
    }

    fn on_rcpt(&mut self, n: usize, reply: Reply) {
        if let Some(r) = self.rcpt_results.get_mut(n) {
            r.status = match reply.class() {
                Some(2) => RcptStatus::Accepted,
                Some(4) => RcptStatus::TempFailed,
                _ => RcptStatus::PermFailed,
            };
            r.code = reply.code;
            r.enhanced = reply.enhanced.map(|e| e.to_string());
            r.text = Some(reply.text_without_codes());
        }
        let last = n + 1 == self.plan.rcpts.len();
        if !last {
            if !self.pipelining {
                self.send_rcpt(n + 1);
                if n + 2 == self.plan.rcpts.len() {
                    self.drop_after_send(StopAt::Rcpt);
                }
            }
            return;
        }
        let accepted = self.accepted_count();
        if accepted == 0 {
            let e = SessionError::NoRecipients {
                last: Some(Box::new(reply)),
            };
            if self.pipelining && self.plan.ext.bdat.is_none() {
                // DATA is already on its way; its reply (554, or a 354 we must end) follows.
                self.set_error(e);
            } else {
                self.fail(e);
            }
            return;
        }
        if self.stop_here(StopAt::Rcpt) {
            return;
        }
        if let Some(size) = self.plan.ext.bdat {
            self.begin_bdat(size);
        } else if !self.pipelining {
            self.send_command(&Command::Data, Phase::Data, Expect::Data);
            self.drop_after_send(StopAt::Data);
        }
    }

    // ----- CHUNKING (RFC 3030) --------------------------------------------------------------

    fn begin_bdat(&mut self, chunk: usize) {
        let body = data::encode_chunked(&self.plan.message, self.plan.fixup);
        let size = if chunk == 0 { body.len().max(1) } else { chunk };
        self.chunks = body.chunks(size).map(<[u8]>::to_vec).collect();
        if self.chunks.is_empty() {
            self.chunks.push_back(Vec::new());
        }
        self.send_chunk();
    }

    /// `BDAT n [LAST]` and the chunk in one write, no dot-stuffing (RFC 3030 §2).
    fn send_chunk(&mut self) {
        let Some(chunk) = self.chunks.pop_front() else {
            return;
        };
        let last = self.chunks.is_empty();
        let phase = Phase::Dot;
        let cmd = Command::Bdat {
            size: chunk.len(),
            last,
        };
        let wire = cmd.encode();
        let text = String::from_utf8_lossy(&wire)
            .trim_end_matches("\r\n")
            .to_string();
        self.queue_bytes(&wire, text, SentKind::Command, phase, false);
        if !chunk.is_empty() {
            let display = String::from_utf8_lossy(&chunk)
                .trim_end_matches("\r\n")
                .to_string();
            self.queue_bytes(&chunk, display, SentKind::Body, phase, false);
        }
        if last {
            self.expect_end_of_content();
            self.drop_after_send(StopAt::Dot);
        } else {
            self.pending.push_back(Expect::Bdat);
        }
    }

    fn on_bdat(&mut self, reply: Reply) {
        if !reply.is_positive() {
            self.message_accepted = Some(false);
            self.chunks.clear();
            self.fail(SessionError::UnexpectedReply {
                phase: Phase::Dot,
                expected: "250",
                reply: Box::new(reply),
            });
            return;
        }
        self.send_chunk();
    }

    /// What follows the content: one reply; LMTP one per accepted recipient (RFC 2033 §4.2);
    /// PRDR a 353 and then one per accepted recipient and a final one.
    fn expect_end_of_content(&mut self) {
        let accepted: Vec<usize> = (0..self.rcpt_results.len())
            .filter(|&i| self.rcpt_results[i].status == RcptStatus::Accepted)
            .collect();
        if self.plan.protocol == Protocol::Lmtp {
            let n = accepted.len().max(1);
            self.dot_targets = accepted;
            self.pending.push_back(Expect::Dot(n));
        } else if self.prdr_used {
            self.dot_targets = accepted;
            self.pending.push_back(Expect::PrdrStart);
        } else {
            self.pending.push_back(Expect::Dot(1));
        }
    }

    // ----- PRDR (draft-hall-prdr §4) --------------------------------------------------------

    fn on_prdr_start(&mut self, reply: Reply) {
        if reply.code != Some(353) {
            // The server declined per-recipient replies: this is the final one.
            self.info("no 353 after the content: the server gives one reply for all recipients");
            self.on_dot(reply, 1);
            return;
        }
        let targets = self.dot_targets.clone();
        for i in targets {
            self.pending.push_back(Expect::PrdrRcpt(i));
        }
        self.pending.push_back(Expect::Dot(1));
    }

    /// Record recipient `n`'s reply after the content (LMTP, PRDR): in `data_*`, and as the
    /// recipient's status, code and text, since the delivery verdict is the final word on it.
    fn record_data_reply(&mut self, n: usize, reply: &Reply) {
        if let Some(r) = self.rcpt_results.get_mut(n) {
            r.status = match reply.class() {
                Some(2) => RcptStatus::Accepted,
                Some(4) => RcptStatus::TempFailed,
                _ => RcptStatus::PermFailed,
            };
            r.code = reply.code;
            r.enhanced = reply.enhanced.map(|e| e.to_string());
            r.text = Some(reply.text_without_codes());
            r.data_code = reply.code;
            r.data_enhanced = reply.enhanced.map(|e| e.to_string());
            r.data_text = Some(reply.text_without_codes());
        }
    }

    fn accepted_count(&self) -> usize {
        self.rcpt_results
            .iter()
            .filter(|r| r.status == RcptStatus::Accepted)
            .count()
    }

    fn on_data(&mut self, reply: Reply) {
        if reply.code != Some(354) {
            let e = SessionError::UnexpectedReply {
                phase: Phase::Data,
                expected: "354",
                reply: Box::new(reply),
            };
            self.fail(e);
            return;
        }
        if self.error.is_some() {
            // Pipelined DATA got 354 although no recipient was accepted: end the (empty)
            // message at once, as RFC 2920 §3.1 asks, and leave.
            self.queue_bytes(b".\r\n", ".".into(), SentKind::Body, Phase::Dot, false);
            self.pending.push_back(Expect::Dot(1));
            self.finishing = true;
            self.send_command(&Command::Quit, Phase::Quit, Expect::Quit);
            return;
        }
        if self.stop_here(StopAt::Data) {
            return;
        }
        let wire = data::encode(&self.plan.message, self.plan.fixup);
        let display = String::from_utf8_lossy(&wire)
            .trim_end_matches("\r\n")
            .to_string();
        self.queue_bytes(&wire, display, SentKind::Body, Phase::Dot, false);
        self.expect_end_of_content();
        self.drop_after_send(StopAt::Dot);
    }

    fn on_dot(&mut self, reply: Reply, left: usize) {
        let ok = reply.is_positive();
        let lmtp = self.plan.protocol == Protocol::Lmtp && !self.dot_targets.is_empty();
        // LMTP (RFC 2033 §4.2): this reply is the delivery verdict for one accepted recipient,
        // in RCPT order; record it there so the summary says who did not get the message. Any
        // refused delivery fails the end-of-data phase (26).
        if lmtp
            && let Some(&n) = self
                .dot_targets
                .len()
                .checked_sub(left)
                .and_then(|k| self.dot_targets.get(k))
        {
            self.record_data_reply(n, &reply);
        }
        self.message_accepted = Some(self.message_accepted.unwrap_or(true) && ok);
        if !ok {
            self.set_error(SessionError::UnexpectedReply {
                phase: Phase::Dot,
                expected: "250",
                reply: Box::new(reply),
            });
        }
        if left > 1 {
            self.pending.push_front(Expect::Dot(left - 1));
            return;
        }
        if self.stop_here(StopAt::Dot) {
            return;
        }
        self.quit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn plan() -> Plan {
        Plan {
            helo: "client.test".into(),
            from: "a@client.test".into(),
            rcpts: vec!["b@server.test".into()],
            message: b"Subject: hi\n\nbody\n.dot\n".to_vec(),
            ..Plan::default()
        }
    }

    fn sent(s: &mut Session) -> String {
        String::from_utf8(s.poll_transmit().unwrap_or_default()).unwrap()
    }

    fn events(s: &mut Session) -> Vec<Event> {
        std::iter::from_fn(|| s.poll_event()).collect()
    }

    fn exit_code(s: &Session) -> u8 {
        match s.outcome() {
            Ok(()) => 0,
            Err(e) => Error::Session(e.clone()).exit_code(),
        }
    }

    const EHLO_REPLY: &str = "250-server.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n";

    #[test]
    fn plain_transaction_sends_exact_bytes() {
        let mut s = Session::new(plan());
        assert_eq!(sent(&mut s), "");
        s.feed(b"220 server.test ESMTP\r\n");
        assert_eq!(sent(&mut s), "EHLO client.test\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
        s.feed(b"250 2.1.0 Ok\r\n");
        assert_eq!(sent(&mut s), "RCPT TO:<b@server.test>\r\n");
        s.feed(b"250 2.1.5 Ok\r\n");
        assert_eq!(sent(&mut s), "DATA\r\n");
        s.feed(b"354 go ahead\r\n");
        assert_eq!(
            sent(&mut s),
            "Subject: hi\r\n\r\nbody\r\n..dot\r\n.\r\n",
            "CRLF fix-up, dot-stuffing and end marker"
        );
        s.feed(b"250 2.0.0 queued as X\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 2.0.0 Bye\r\n");
        assert_eq!(s.poll_action(), Some(Action::Close));
        assert!(s.is_closed());
        assert_eq!(exit_code(&s), 0);
        assert_eq!(s.message_accepted(), Some(true));
        assert_eq!(s.recipients()[0].status, RcptStatus::Accepted);
        let ev = events(&mut s);
        let received = ev
            .iter()
            .filter(|e| matches!(e, Event::Received { expected: true, .. }))
            .count();
        assert_eq!(received, 7, "every reply reported as expected: {ev:?}");
        assert!(ev.contains(&Event::Closed { expected: true }));
    }

    #[test]
    fn replies_split_byte_by_byte_give_the_same_dialogue() {
        let mut s = Session::new(plan());
        for b in b"220 server.test ESMTP\r\n" {
            s.feed(&[*b]);
        }
        assert_eq!(sent(&mut s), "EHLO client.test\r\n");
        for b in EHLO_REPLY.as_bytes() {
            s.feed(&[*b]);
        }
        assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
    }

    #[test]
    fn one_refused_recipient_of_two_is_not_fatal() {
        let mut p = plan();
        p.rcpts = vec!["nobody@server.test".into(), "b@server.test".into()];
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        s.feed(b"250 ok\r\n");
        assert_eq!(
            sent(&mut s).lines().last().unwrap(),
            "RCPT TO:<nobody@server.test>"
        );
        s.feed(b"550 5.1.1 <nobody@server.test>: Recipient address rejected\r\n");
        assert_eq!(sent(&mut s), "RCPT TO:<b@server.test>\r\n");
        s.feed(b"250 ok\r\n");
        assert_eq!(sent(&mut s), "DATA\r\n");
        let r = s.recipients();
        assert_eq!(r[0].status, RcptStatus::PermFailed);
        assert_eq!(r[0].enhanced.as_deref(), Some("5.1.1"));
        assert_eq!(r[1].status, RcptStatus::Accepted);
    }

    #[test]
    fn all_recipients_refused_is_exit_24_and_quits() {
        let mut s = Session::new(plan());
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        s.feed(b"250 ok\r\n");
        let _ = sent(&mut s);
        s.feed(b"452 4.5.3 Too many recipients\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 24);
        assert_eq!(s.recipients()[0].status, RcptStatus::TempFailed);
    }

    #[test]
    fn starttls_discards_injected_bytes_and_ehlos_again() {
        let mut p = plan();
        p.starttls = StartTls::Required;
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        assert_eq!(
            sent(&mut s).lines().last().unwrap(),
            "STARTTLS",
            "STARTTLS before anything else"
        );
        let _ = events(&mut s);
        s.feed(b"220 2.0.0 Ready\r\n250-injected\r\n250 AUTH PLAIN\r\n");
        assert_eq!(s.poll_action(), Some(Action::StartTls));
        let ev = events(&mut s);
        assert!(
            ev.iter().any(|e| matches!(
                e,
                Event::Deviation { deviation: Deviation::StartTlsInjection { bytes }, .. }
                    if bytes.0 == b"250-injected\r\n250 AUTH PLAIN\r\n"
            )),
            "{ev:?}"
        );
        assert!(s.capabilities().is_some());
        s.tls_established();
        assert!(s.capabilities().is_none(), "pre-TLS capabilities forgotten");
        assert_eq!(sent(&mut s), "EHLO client.test\r\n");
        s.feed(b"250-server.test\r\n250 AUTH PLAIN\r\n");
        assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
        assert!(s.is_tls());
    }

    #[test]
    fn required_starttls_not_advertised_is_exit_29() {
        let mut p = plan();
        p.starttls = StartTls::Required;
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(b"250-server.test\r\n250 8BITMIME\r\n");
        assert!(sent(&mut s).ends_with("QUIT\r\n"));
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 29);
    }

    #[test]
    fn optional_starttls_not_advertised_carries_on() {
        let mut p = plan();
        p.starttls = StartTls::Optional;
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(b"250-server.test\r\n250 8BITMIME\r\n");
        assert!(sent(&mut s).ends_with("MAIL FROM:<a@client.test>\r\n"));
    }

    #[test]
    fn ehlo_refused_falls_back_to_helo() {
        let mut s = Session::new(plan());
        s.feed(b"220 x\r\n");
        let _ = sent(&mut s);
        s.feed(b"502 5.5.2 Command not recognized\r\n");
        assert_eq!(sent(&mut s), "HELO client.test\r\n");
        s.feed(b"250 x\r\n");
        assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
    }

    #[test]
    fn pipelining_sends_mail_rcpts_and_data_in_one_write() {
        let mut p = plan();
        p.pipeline = true;
        p.rcpts.push("c@server.test".into());
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        let _ = sent(&mut s);
        s.feed(EHLO_REPLY.as_bytes());
        assert_eq!(
            sent(&mut s),
            "MAIL FROM:<a@client.test>\r\nRCPT TO:<b@server.test>\r\nRCPT TO:<c@server.test>\r\nDATA\r\n"
        );
        s.feed(b"250 ok\r\n250 ok\r\n550 5.1.1 no\r\n354 go\r\n");
        assert!(sent(&mut s).ends_with("\r\n.\r\n"));
        assert_eq!(s.recipients()[1].status, RcptStatus::PermFailed);
    }

    #[test]
    fn pipelined_failure_of_every_rcpt_ends_a_354_with_a_dot() {
        let mut p = plan();
        p.pipeline = true;
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        let _ = sent(&mut s);
        s.feed(b"250 ok\r\n550 no\r\n354 go\r\n");
        assert_eq!(sent(&mut s), ".\r\nQUIT\r\n");
        s.feed(b"554 no valid recipients\r\n221 bye\r\n");
        assert!(s.is_closed());
        assert_eq!(exit_code(&s), 24);
    }

    #[test]
    fn close_in_the_middle_of_data_is_exit_6() {
        let mut s = Session::new(plan());
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        s.feed(b"250 ok\r\n250 ok\r\n354 go\r\n");
        let _ = sent(&mut s);
        s.feed_eof();
        assert!(s.is_closed());
        assert_eq!(exit_code(&s), 6);
        assert!(events(&mut s).contains(&Event::Closed { expected: false }));
    }

    #[test]
    fn error_reply_then_close_keeps_the_phase_code() {
        let mut s = Session::new(plan());
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        s.feed(b"550 5.7.1 sender refused\r\n");
        assert!(sent(&mut s).ends_with("QUIT\r\n"));
        s.feed_eof();
        assert_eq!(exit_code(&s), 23, "swaks: 550 to MAIL then close → 23");
    }

    #[test]
    fn garbage_and_421_banners_are_exit_21() {
        for banner in [&b"hello there\r\n"[..], b"421 4.3.2 busy\r\n"] {
            let mut s = Session::new(plan());
            s.feed(banner);
            assert_eq!(sent(&mut s), "QUIT\r\n");
            s.feed_eof();
            assert_eq!(exit_code(&s), 21, "{}", String::from_utf8_lossy(banner));
        }
    }

    #[test]
    fn dot_refused_is_exit_26() {
        let mut s = Session::new(plan());
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        s.feed(b"250 ok\r\n250 ok\r\n354 go\r\n552 5.3.4 too big\r\n");
        assert!(sent(&mut s).ends_with("QUIT\r\n"));
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 26);
        assert_eq!(s.message_accepted(), Some(false));
    }

    #[test]
    fn quit_after_rcpt_stops_cleanly() {
        let mut p = plan();
        p.stop = Some(Stop {
            kind: StopKind::Quit,
            at: StopAt::Rcpt,
        });
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        s.feed(b"250 ok\r\n250 ok\r\n");
        assert!(sent(&mut s).ends_with("RCPT TO:<b@server.test>\r\nQUIT\r\n"));
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 0);
    }

    #[test]
    fn drop_after_send_mail_closes_without_reading() {
        let mut p = plan();
        p.stop = Some(Stop {
            kind: StopKind::DropAfterSend,
            at: StopAt::Mail,
        });
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        assert!(sent(&mut s).ends_with("MAIL FROM:<a@client.test>\r\n"));
        assert_eq!(s.poll_action(), Some(Action::Close));
        assert_eq!(exit_code(&s), 0);
    }

    fn auth_plan(mechs: &[&str], requirement: AuthRequirement) -> Plan {
        let mut p = plan();
        p.auth = Some(AuthPlan {
            mechanisms: mechs.iter().map(|m| m.to_string()).collect(),
            requirement,
            credentials: Credentials {
                user: "tim".into(),
                password: Some(auth::Secret::new("tanstaaftanstaaf")),
                ..Credentials::default()
            },
            ..AuthPlan::default()
        });
        p
    }

    fn sent_texts(ev: &[Event]) -> Vec<String> {
        ev.iter()
            .filter_map(|e| match e {
                Event::Sent { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn auth_plain_is_sent_and_masked_in_events() {
        let mut s = Session::new(auth_plan(&["PLAIN"], AuthRequirement::Required));
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        let wire = sent(&mut s);
        // base64("\0tim\0tanstaaftanstaaf")
        assert!(
            wire.ends_with("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"),
            "{wire}"
        );
        let texts = sent_texts(&events(&mut s));
        let shown = texts.last().unwrap();
        assert_eq!(shown, &format!("AUTH PLAIN {}", crate::smtp::auth::MASK));
        s.feed(b"235 2.7.0 ok\r\n");
        assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
        let all = format!("{:?}", events(&mut s));
        assert!(!all.contains("tanstaaf") && !all.contains("AHRpbQB0YW5zdGFhZnRhbnN0YWFm"));
    }

    #[test]
    fn auth_login_answers_both_prompts() {
        let mut s = Session::new(auth_plan(&["LOGIN"], AuthRequirement::Required));
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        assert!(sent(&mut s).ends_with("AUTH LOGIN\r\n"));
        s.feed(b"334 VXNlcm5hbWU6\r\n");
        assert_eq!(sent(&mut s), "dGlt\r\n");
        s.feed(b"334 UGFzc3dvcmQ6\r\n");
        assert_eq!(sent(&mut s), "dGFuc3RhYWZ0YW5zdGFhZg==\r\n");
        s.feed(b"235 ok\r\n");
        assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
    }

    #[test]
    fn auth_cram_md5_matches_rfc_2195() {
        let mut s = Session::new(auth_plan(&["CRAM-MD5"], AuthRequirement::Required));
        s.feed(b"220 x\r\n");
        s.feed(b"250-x\r\n250 AUTH CRAM-MD5\r\n");
        assert!(sent(&mut s).ends_with("AUTH CRAM-MD5\r\n"));
        s.feed(b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n");
        // base64("tim b913a602c7eda7a495b4e6e7334d3890")
        assert_eq!(
            sent(&mut s),
            "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"
        );
    }

    #[test]
    fn auth_aliases_send_the_advertised_name_and_run_the_mechanism() {
        // The server calls NTLM "MSN" (swaks's built-in --auth-map): -a NTLM sends AUTH MSN
        // and answers with NTLM messages.
        let mut p = auth_plan(&["NTLM"], AuthRequirement::Required);
        if let Some(a) = p.auth.as_mut() {
            a.credentials.nonce = Some("n".into());
        }
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(b"250-x\r\n250 AUTH LOGIN MSN\r\n");
        assert!(sent(&mut s).ends_with("AUTH MSN\r\n"));
        s.feed(b"334 \r\n");
        // base64 of "NTLMSSP\0" + type 1.
        assert!(sent(&mut s).starts_with("TlRMTVNTUAABAAAA"));
        // A user's --auth-map: AUTH X-DIGEST runs DIGEST-MD5, the alias named directly.
        let mut p = auth_plan(&["X-DIGEST"], AuthRequirement::Required);
        if let Some(a) = p.auth.as_mut() {
            a.aliases = vec![("X-DIGEST".into(), "DIGEST-MD5".into())];
            a.credentials.nonce = Some("cn".into());
        }
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(b"250-x\r\n250 AUTH X-DIGEST\r\n");
        assert!(sent(&mut s).ends_with("AUTH X-DIGEST\r\n"));
        // base64 of: nonce="n",algorithm=md5-sess
        s.feed(b"334 bm9uY2U9Im4iLGFsZ29yaXRobT1tZDUtc2Vzcw==\r\n");
        let answer = sent(&mut s);
        let decoded = auth::decode_challenge(answer.trim_end()).unwrap();
        assert!(
            String::from_utf8(decoded)
                .unwrap()
                .starts_with("username=\"tim\",nonce=\"n\",nc=00000001,cnonce=\"cn\""),
            "{answer}"
        );
        // A forged rspauth: the server does not know the password; AUTH fails (28).
        s.feed(b"334 cnNwYXV0aD0wMDAw\r\n");
        assert_eq!(sent(&mut s), "*\r\n");
    }

    #[test]
    fn auth_refused_is_exit_28_unless_optional() {
        let mut s = Session::new(auth_plan(&["PLAIN"], AuthRequirement::Required));
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        let _ = sent(&mut s);
        s.feed(b"535 5.7.8 bad credentials\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 28);

        let mut s = Session::new(auth_plan(&["PLAIN"], AuthRequirement::Optional));
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        let _ = sent(&mut s);
        s.feed(b"535 5.7.8 bad credentials\r\n");
        assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
    }

    #[test]
    fn auth_falls_back_to_the_next_mechanism_when_one_is_unsupported() {
        let mut s = Session::new(auth_plan(&[], AuthRequirement::Required));
        s.feed(b"220 x\r\n");
        s.feed(b"250-x\r\n250 AUTH PLAIN CRAM-MD5\r\n");
        assert!(
            sent(&mut s).ends_with("AUTH CRAM-MD5\r\n"),
            "strongest first"
        );
        s.feed(b"504 5.5.4 not today\r\n");
        assert!(sent(&mut s).starts_with("AUTH PLAIN "));
    }

    #[test]
    fn auth_without_a_mechanism_tries_every_advertised_one_and_reports_each() {
        // swaks tries them all and the help says so: a 535 for one is not the end.
        let mut s = Session::new(auth_plan(&[], AuthRequirement::Required));
        s.feed(b"220 x\r\n");
        s.feed(b"250-x\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n");
        assert!(sent(&mut s).ends_with("AUTH CRAM-MD5\r\n"));
        s.feed(b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n");
        let _ = sent(&mut s);
        s.feed(b"535 Incorrect authentication data\r\n");
        let w = sent(&mut s);
        assert!(
            w.starts_with("AUTH PLAIN ") || w.starts_with("AUTH LOGIN"),
            "{w}"
        );
        let first_next = if w.starts_with("AUTH PLAIN") {
            "PLAIN"
        } else {
            "LOGIN"
        };
        // Answer whatever comes with 535 until every mechanism was tried.
        let mut tried = vec!["CRAM-MD5".to_string(), first_next.to_string()];
        let mut w = w;
        loop {
            if w.starts_with("AUTH LOGIN") {
                s.feed(b"334 VXNlcm5hbWU6\r\n");
                let _ = sent(&mut s);
                s.feed(b"334 UGFzc3dvcmQ6\r\n");
                let _ = sent(&mut s);
            }
            s.feed(b"535 Incorrect authentication data\r\n");
            w = sent(&mut s);
            if w == "QUIT\r\n" {
                break;
            }
            let m = w
                .trim_start_matches("AUTH ")
                .split([' ', '\r'])
                .next()
                .unwrap();
            tried.push(m.to_string());
        }
        tried.sort();
        assert_eq!(tried, ["CRAM-MD5", "LOGIN", "PLAIN"]);
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 28);
        let infos: Vec<String> = events(&mut s)
            .into_iter()
            .filter_map(|e| match e {
                Event::Info { message } => Some(message),
                _ => None,
            })
            .collect();
        assert!(
            infos
                .iter()
                .any(|m| m.contains("AUTH CRAM-MD5 refused with 535: trying")),
            "{infos:?}"
        );
        assert!(
            infos
                .iter()
                .any(|m| m.contains("every mechanism was refused")
                    && m.contains("CRAM-MD5 (535)")
                    && m.contains("PLAIN (535)")
                    && m.contains("LOGIN (535)")),
            "{infos:?}"
        );
    }

    #[test]
    fn auth_not_advertised_before_tls_hints_at_tls() {
        let mut s = Session::new(auth_plan(&["PLAIN"], AuthRequirement::Required));
        s.feed(b"220 x\r\n");
        s.feed(b"250-x\r\n250 STARTTLS\r\n");
        assert!(sent(&mut s).ends_with("QUIT\r\n"));
        let e = s.outcome().unwrap_err().to_string();
        assert!(e.contains("--tls"), "{e}");
    }

    #[test]
    fn bad_base64_challenge_cancels_the_exchange() {
        let mut s = Session::new(auth_plan(&["LOGIN"], AuthRequirement::Required));
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        let _ = sent(&mut s);
        s.feed(b"334 !!!not base64!!!\r\n");
        assert_eq!(sent(&mut s), "*\r\n");
        s.feed(b"501 5.7.0 cancelled\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 28);
    }

    #[test]
    fn auth_offered_before_tls_is_a_finding_but_not_after() {
        let warned = |ev: &[Event]| {
            ev.iter().any(|e| {
                matches!(e, Event::Warning { message } if message.contains("offers AUTH (PLAIN LOGIN) before TLS"))
            })
        };
        let mut p = plan();
        p.starttls = StartTls::Required;
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        assert!(warned(&events(&mut s)), "plain-text EHLO offering AUTH");
        s.feed(b"220 go\r\n");
        s.tls_established();
        s.feed(b"250-x\r\n250 AUTH PLAIN LOGIN\r\n");
        assert!(
            !warned(&events(&mut s)),
            "AUTH inside TLS is how it should be"
        );
    }

    #[test]
    fn null_sender_is_empty_brackets() {
        let mut p = plan();
        p.from = String::new();
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(EHLO_REPLY.as_bytes());
        assert!(sent(&mut s).ends_with("MAIL FROM:<>\r\n"));
    }

    // ----- extensions ------------------------------------------------------------------------

    const EXT_EHLO: &str = "250-server.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n\
250-SMTPUTF8\r\n250-DSN\r\n250-CHUNKING\r\n250-PRDR\r\n250-REQUIRETLS\r\n\
250 XCLIENT ADDR NAME HELO\r\n";
    const BARE_EHLO: &str = "250-server.test\r\n250 PIPELINING\r\n";

    /// Run to the MAIL command with this EHLO reply; returns what was written after EHLO.
    fn to_mail(p: Plan, ehlo: &str) -> (Session, String) {
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        let _ = sent(&mut s);
        s.feed(ehlo.as_bytes());
        let w = sent(&mut s);
        (s, w)
    }

    fn refused_before_mail(p: Plan, ehlo: &str, code: u8, needle: &str) {
        let (mut s, w) = to_mail(p, ehlo);
        assert_eq!(w, "QUIT\r\n", "nothing of the transaction is sent");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), code);
        let e = s.outcome().unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    }

    #[test]
    fn smtputf8_is_automatic_for_a_utf8_address() {
        let mut p = plan();
        p.rcpts = vec!["jöe@server.test".into()];
        let (mut s, w) = to_mail(p, EXT_EHLO);
        assert_eq!(w, "MAIL FROM:<a@client.test> SMTPUTF8 SIZE=27\r\n");
        s.feed(b"250 ok\r\n");
        assert_eq!(sent(&mut s), "RCPT TO:<jöe@server.test>\r\n");
    }

    #[test]
    fn smtputf8_for_a_utf8_header_and_forced() {
        let mut p = plan();
        p.message = "Subject: café\n\nbody\n".as_bytes().to_vec();
        let (_, w) = to_mail(p, EXT_EHLO);
        assert!(
            w.starts_with("MAIL FROM:<a@client.test> SMTPUTF8 BODY=8BITMIME SIZE="),
            "{w}"
        );
        let mut p = plan();
        p.ext.smtputf8 = true;
        let (_, w) = to_mail(p, EXT_EHLO);
        assert!(
            w.starts_with("MAIL FROM:<a@client.test> SMTPUTF8 SIZE="),
            "{w}"
        );
    }

    #[test]
    fn smtputf8_not_advertised_is_exit_31_unless_forced() {
        let mut p = plan();
        p.from = "ålice@client.test".into();
        refused_before_mail(p.clone(), BARE_EHLO, 31, "SMTPUTF8");
        p.ext.force = true;
        let (mut s, w) = to_mail(p, BARE_EHLO);
        assert_eq!(w, "MAIL FROM:<ålice@client.test> SMTPUTF8\r\n");
        assert!(
            events(&mut s).iter().any(
                |e| matches!(e, Event::Warning { message } if message.contains("--force-ext"))
            )
        );
    }

    #[test]
    fn eight_bit_body_declares_8bitmime_or_is_refused_with_23() {
        let mut p = plan();
        p.message = "Subject: x\n\ncafé\n".as_bytes().to_vec();
        let (_, w) = to_mail(p.clone(), EXT_EHLO);
        assert!(
            w.starts_with("MAIL FROM:<a@client.test> BODY=8BITMIME SIZE="),
            "{w}"
        );
        refused_before_mail(p.clone(), BARE_EHLO, 23, "8BITMIME");
        // A BODY= given by the user is not doubled.
        p.mail_params = vec!["BODY=BINARYMIME".into()];
        let (_, w) = to_mail(p, EXT_EHLO);
        assert_eq!(w.matches("BODY=").count(), 1, "{w}");
    }

    #[test]
    fn size_is_declared_and_over_the_limit_warned() {
        let mut p = plan();
        p.message = vec![b'x'; 2000];
        let (mut s, w) = to_mail(p, EXT_EHLO);
        assert_eq!(w, "MAIL FROM:<a@client.test> SIZE=2002\r\n");
        let ev = events(&mut s);
        assert!(
            ev.iter().any(|e| matches!(e, Event::Warning { message } if message.contains("SIZE limit of 1000"))),
            "{ev:?}"
        );
        // Not advertised: no SIZE=.
        let (_, w) = to_mail(plan(), BARE_EHLO);
        assert_eq!(w, "MAIL FROM:<a@client.test>\r\n");
    }

    fn dsn_plan() -> Plan {
        let mut p = plan();
        p.ext.dsn = Dsn {
            notify: Some("SUCCESS,FAILURE".into()),
            ret: Some(ext::Ret::Hdrs),
            envid: Some("id 42".into()),
            orcpt: true,
        };
        p
    }

    #[test]
    fn dsn_parameters_on_mail_and_rcpt() {
        let (mut s, w) = to_mail(dsn_plan(), EXT_EHLO);
        assert_eq!(
            w,
            "MAIL FROM:<a@client.test> SIZE=27 RET=HDRS ENVID=id+2042\r\n"
        );
        s.feed(b"250 ok\r\n");
        assert_eq!(
            sent(&mut s),
            "RCPT TO:<b@server.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@server.test\r\n"
        );
        refused_before_mail(dsn_plan(), BARE_EHLO, 23, "DSN");
    }

    #[test]
    fn requiretls_needs_tls_and_the_keyword() {
        let mut p = plan();
        p.ext.requiretls = true;
        refused_before_mail(p.clone(), EXT_EHLO, 23, "TLS");
        p.tls_on_connect = true;
        let (_, w) = to_mail(p.clone(), EXT_EHLO);
        assert_eq!(w, "MAIL FROM:<a@client.test> SIZE=27 REQUIRETLS\r\n");
        refused_before_mail(p, BARE_EHLO, 23, "REQUIRETLS");
    }

    fn bdat_plan(chunk: usize) -> Plan {
        let mut p = plan();
        p.ext.bdat = Some(chunk);
        p
    }

    #[test]
    fn bdat_sends_exact_chunks_without_dot_stuffing() {
        let (mut s, w) = to_mail(bdat_plan(10), EXT_EHLO);
        assert!(w.starts_with("MAIL "));
        s.feed(b"250 ok\r\n");
        assert_eq!(sent(&mut s), "RCPT TO:<b@server.test>\r\n");
        s.feed(b"250 ok\r\n");
        // "Subject: hi\r\n\r\nbody\r\n.dot\r\n" is 27 octets: 10 + 10 + 7.
        assert_eq!(sent(&mut s), "BDAT 10\r\nSubject: h");
        s.feed(b"250 2.0.0 10 octets\r\n");
        assert_eq!(
            sent(&mut s),
            "BDAT 10\r\ni\r\n\r\nbody\r",
            "chunks ignore lines"
        );
        s.feed(b"250 2.0.0 10 octets\r\n");
        assert_eq!(sent(&mut s), "BDAT 7 LAST\r\n\n.dot\r\n");
        s.feed(b"250 2.0.0 queued\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 0);
        assert_eq!(s.message_accepted(), Some(true));
    }

    #[test]
    fn bdat_whole_message_pipelined_after_the_rcpt_replies() {
        let mut p = bdat_plan(0);
        p.pipeline = true;
        let (mut s, w) = to_mail(p, EXT_EHLO);
        assert_eq!(
            w, "MAIL FROM:<a@client.test> SIZE=27\r\nRCPT TO:<b@server.test>\r\n",
            "no DATA in the pipelined batch"
        );
        s.feed(b"250 ok\r\n250 ok\r\n");
        assert_eq!(
            sent(&mut s),
            "BDAT 27 LAST\r\nSubject: hi\r\n\r\nbody\r\n.dot\r\n"
        );
    }

    #[test]
    fn bdat_empty_message_and_raw_bytes() {
        let mut p = bdat_plan(0);
        p.message = Vec::new();
        let (mut s, _) = to_mail(p, EXT_EHLO);
        s.feed(b"250 ok\r\n250 ok\r\n");
        assert!(sent(&mut s).ends_with("\r\nBDAT 0 LAST\r\n"));
        let mut p = bdat_plan(0);
        p.message = b"a\n.\n".to_vec();
        p.fixup = Fixup::NONE;
        let (mut s, _) = to_mail(p, EXT_EHLO);
        s.feed(b"250 ok\r\n250 ok\r\n");
        assert!(
            sent(&mut s).ends_with("\r\nBDAT 4 LAST\r\na\n.\n"),
            "no fix-up at all"
        );
    }

    #[test]
    fn bdat_not_advertised_is_25_and_a_refused_chunk_26() {
        refused_before_mail(bdat_plan(0), BARE_EHLO, 25, "CHUNKING");
        let (mut s, _) = to_mail(bdat_plan(10), EXT_EHLO);
        s.feed(b"250 ok\r\n250 ok\r\n");
        let _ = sent(&mut s);
        s.feed(b"552 5.3.4 too big\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n", "no further chunk");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 26);
        assert_eq!(s.message_accepted(), Some(false));
    }

    fn prdr_plan() -> Plan {
        let mut p = plan();
        p.ext.prdr = true;
        p.rcpts = vec![
            "b@server.test".into(),
            "gone@server.test".into(),
            "c@server.test".into(),
        ];
        p
    }

    #[test]
    fn prdr_reads_353_then_one_reply_per_recipient_then_the_final_one() {
        let (mut s, w) = to_mail(prdr_plan(), EXT_EHLO);
        assert_eq!(w, "MAIL FROM:<a@client.test> SIZE=27 PRDR\r\n");
        s.feed(b"250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n354 go\r\n");
        assert!(sent(&mut s).ends_with("\r\n.\r\n"));
        s.feed(b"353 content analysis started\r\n");
        assert_eq!(sent(&mut s), "");
        s.feed(b"250 2.1.5 ok for b\r\n");
        s.feed(b"550 5.7.1 refused for c\r\n");
        assert_eq!(sent(&mut s), "", "still waiting for the final reply");
        s.feed(b"250 2.0.0 accepted for some\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 0);
        let r = s.recipients();
        assert_eq!(r[0].data_code, Some(250));
        assert_eq!(r[1].data_code, None, "refused at RCPT: no data reply");
        assert_eq!(r[2].data_code, Some(550));
        assert_eq!(r[2].data_enhanced.as_deref(), Some("5.7.1"));
    }

    /// The explanations of the replies received, in order, with their severity.
    fn explained(s: &mut Session) -> Vec<(u16, codes::Explanation, bool)> {
        events(s)
            .into_iter()
            .filter_map(|e| match e {
                Event::Received {
                    reply,
                    explanation,
                    expected,
                    ..
                } => Some((reply.code.unwrap_or(0), explanation, expected)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn prdr_353_is_explained_as_prdr_and_refusals_as_per_recipient() {
        let (mut s, _) = to_mail(prdr_plan(), EXT_EHLO);
        s.feed(b"250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n354 go\r\n");
        let _ = sent(&mut s);
        let _ = events(&mut s);
        s.feed(b"353 content analysis started\r\n250 ok for b\r\n550 refused for c\r\n");
        s.feed(b"250 accepted for some\r\n");
        let ex = explained(&mut s);
        let (code, e, expected) = &ex[0];
        assert_eq!(*code, 353);
        assert!(*expected);
        assert_eq!(e.severity, Some(codes::Severity::Ok));
        let basic = e.basic.as_deref().unwrap();
        assert!(
            basic.contains("PRDR") && !basic.contains("out of step"),
            "{basic}"
        );
        let (code, e, _) = &ex[2];
        assert_eq!(*code, 550);
        let basic = e.basic.as_deref().unwrap();
        assert!(basic.contains("refused for this recipient only"), "{basic}");
        let hint = e.hint.as_deref().unwrap();
        assert!(hint.contains("this one recipient"), "{hint}");
        // The final reply is about the message again.
        assert!(!ex[3].1.basic.as_deref().unwrap().contains("recipient only"));
    }

    #[test]
    fn lmtp_mailbox_full_552_is_a_full_mailbox_not_a_big_message() {
        let mut s = lmtp_to_dot(lmtp_plan());
        let _ = events(&mut s);
        s.feed(b"250 2.0.0 delivered to b\r\n552 5.2.2 <c@server.test> Mailbox is full\r\n");
        let ex = explained(&mut s);
        let (code, e, _) = &ex[1];
        assert_eq!(*code, 552);
        let hint = e.hint.as_deref().unwrap();
        assert!(hint.contains("full") && !hint.contains("too big"), "{hint}");
        let basic = e.basic.as_deref().unwrap();
        assert!(
            basic.contains("LMTP") && basic.contains("this recipient"),
            "{basic}"
        );
    }

    #[test]
    fn a_multi_line_refusal_keeps_every_line_in_the_recipient_result() {
        let (mut s, _) = to_mail(plan(), BARE_EHLO);
        s.feed(b"250 OK\r\n");
        let _ = sent(&mut s);
        s.feed(
            b"550-Verification failed for <a@client.test>\r\n550-Unrouteable address\r\n\
              550 Sender verify failed\r\n",
        );
        let r = s.recipients();
        assert_eq!(
            r[0].text.as_deref(),
            Some(
                "Verification failed for <a@client.test>\nUnrouteable address\nSender verify failed"
            )
        );
        let ex = explained(&mut s);
        let e = &ex.last().unwrap().1;
        let hint = e.hint.as_deref().unwrap();
        assert!(
            hint.contains("about the sender") && hint.contains("--from"),
            "{hint}"
        );
        assert!(
            e.basic.as_deref().unwrap().contains("envelope sender"),
            "{:?}",
            e.basic
        );
        // Repeated enhanced codes are dropped from every line, not only the first.
        let (mut s, _) = to_mail(plan(), BARE_EHLO);
        s.feed(b"250 OK\r\n");
        s.feed(b"550-5.7.26 This mail is unauthenticated,\r\n550 5.7.26 and has been blocked.\r\n");
        assert_eq!(
            s.recipients()[0].text.as_deref(),
            Some("This mail is unauthenticated,\nand has been blocked.")
        );
    }

    #[test]
    fn prdr_declined_after_the_data_is_the_final_reply() {
        let (mut s, _) = to_mail(prdr_plan(), EXT_EHLO);
        s.feed(b"250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
        let _ = sent(&mut s);
        s.feed(b"250 2.0.0 queued\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        assert_eq!(s.message_accepted(), Some(true));
    }

    #[test]
    fn prdr_not_advertised_is_exit_30() {
        refused_before_mail(prdr_plan(), BARE_EHLO, 30, "PRDR");
    }

    fn lmtp_plan() -> Plan {
        let mut p = plan();
        p.protocol = Protocol::Lmtp;
        p.rcpts = vec![
            "b@server.test".into(),
            "gone@server.test".into(),
            "c@server.test".into(),
        ];
        p
    }

    fn lmtp_to_dot(p: Plan) -> Session {
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        assert_eq!(sent(&mut s), "LHLO client.test\r\n");
        s.feed(b"250-x\r\n250 8BITMIME\r\n");
        s.feed(b"250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n354 go\r\n");
        assert!(sent(&mut s).ends_with("\r\n.\r\n"));
        s
    }

    #[test]
    fn lmtp_one_reply_per_accepted_recipient() {
        let mut s = lmtp_to_dot(lmtp_plan());
        s.feed(b"250 2.0.0 delivered to b\r\n");
        assert_eq!(sent(&mut s), "");
        s.feed(b"452 4.2.2 c over quota\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        assert_eq!(
            exit_code(&s),
            26,
            "a refused delivery fails the end of data"
        );
        let r = s.recipients();
        assert_eq!(r[0].data_code, Some(250));
        assert_eq!(r[1].data_code, None);
        assert_eq!(
            (r[1].status, r[1].code),
            (RcptStatus::PermFailed, Some(550))
        );
        assert_eq!(r[2].data_code, Some(452));
        assert_eq!(r[2].status, RcptStatus::TempFailed);
        assert_eq!(r[2].data_text.as_deref(), Some("c over quota"));
    }

    #[test]
    fn lmtp_refused_for_everyone_is_26() {
        let mut s = lmtp_to_dot(lmtp_plan());
        s.feed(b"550 5.1.1 no b\r\n550 5.1.1 no c\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 26);
        assert_eq!(s.message_accepted(), Some(false));
    }

    #[test]
    fn lmtp_with_bdat_reads_one_reply_per_recipient_after_last() {
        let mut p = lmtp_plan();
        p.ext.bdat = Some(0);
        p.rcpts.truncate(1);
        let mut s = Session::new(p);
        s.feed(b"220 x\r\n");
        s.feed(b"250-x\r\n250 CHUNKING\r\n");
        s.feed(b"250 ok\r\n250 ok\r\n");
        let w = sent(&mut s);
        assert!(
            w.ends_with("BDAT 27 LAST\r\nSubject: hi\r\n\r\nbody\r\n.dot\r\n"),
            "{w}"
        );
        s.feed(b"250 2.0.0 delivered\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        assert_eq!(s.recipients()[0].data_code, Some(250));
    }

    fn xclient_plan() -> Plan {
        let mut p = plan();
        p.ext.xclient = Some(XclientPlan {
            commands: vec![XclientCommand::Attrs(vec![
                Attribute {
                    name: "ADDR".into(),
                    value: "192.0.2.1".into(),
                },
                Attribute {
                    name: "HELO".into(),
                    value: "a b".into(),
                },
            ])],
            ..XclientPlan::default()
        });
        p
    }

    #[test]
    fn xclient_then_ehlo_again() {
        let (mut s, w) = to_mail(xclient_plan(), EXT_EHLO);
        assert_eq!(w, "XCLIENT ADDR=192.0.2.1 HELO=a+20b\r\n");
        s.feed(b"220 server.test ESMTP\r\n");
        assert_eq!(sent(&mut s), "EHLO client.test\r\n");
        assert!(s.capabilities().is_none(), "capabilities forgotten");
        s.feed(b"250-server.test\r\n250 8BITMIME\r\n");
        assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
    }

    #[test]
    fn xclient_failures_are_33_and_34() {
        // Not advertised.
        refused_before_mail(xclient_plan(), BARE_EHLO, 33, "XCLIENT");
        // An attribute the server does not list.
        let mut p = xclient_plan();
        if let Some(x) = p.ext.xclient.as_mut() {
            x.commands.push(XclientCommand::Attrs(vec![Attribute {
                name: "LOGIN".into(),
                value: "u".into(),
            }]));
        }
        refused_before_mail(p.clone(), EXT_EHLO, 33, "LOGIN");
        // ... unless --xclient-no-verify.
        if let Some(x) = p.ext.xclient.as_mut() {
            x.no_verify = true;
        }
        let (_, w) = to_mail(p, EXT_EHLO);
        assert!(w.starts_with("XCLIENT ADDR="), "{w}");
        // Refused.
        let (mut s, _) = to_mail(xclient_plan(), EXT_EHLO);
        s.feed(b"550 5.7.0 not authorized\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 33);
        // EHLO after XCLIENT refused.
        let (mut s, _) = to_mail(xclient_plan(), EXT_EHLO);
        s.feed(b"220 again\r\n");
        let _ = sent(&mut s);
        s.feed(b"554 5.7.1 go away\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 34);
    }

    #[test]
    fn xclient_optional_carries_on_and_stop_points() {
        let mut p = xclient_plan();
        if let Some(x) = p.ext.xclient.as_mut() {
            x.optional = true;
        }
        let (_, w) = to_mail(p, BARE_EHLO);
        assert_eq!(w, "MAIL FROM:<a@client.test>\r\n");

        let mut p = xclient_plan();
        p.stop = Some(Stop {
            kind: StopKind::Quit,
            at: StopAt::Xclient,
        });
        let (mut s, _) = to_mail(p, EXT_EHLO);
        s.feed(b"220 again\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");

        let mut p = xclient_plan();
        p.stop = Some(Stop {
            kind: StopKind::Quit,
            at: StopAt::XclientHelo,
        });
        let (mut s, _) = to_mail(p, EXT_EHLO);
        s.feed(b"220 again\r\n");
        assert_eq!(sent(&mut s), "EHLO client.test\r\n");
        s.feed(b"250 ok\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 0);
    }

    #[test]
    fn xclient_optional_strict_skips_unadvertised_but_fails_when_refused() {
        let strict = || {
            let mut p = xclient_plan();
            if let Some(x) = p.ext.xclient.as_mut() {
                x.optional_strict = true;
            }
            p
        };
        // Not advertised: carry on.
        let (_, w) = to_mail(strict(), BARE_EHLO);
        assert_eq!(w, "MAIL FROM:<a@client.test>\r\n");
        // An attribute not advertised: carry on too (swaks: no attempt was made).
        let mut p = strict();
        if let Some(x) = p.ext.xclient.as_mut() {
            x.commands.push(XclientCommand::Attrs(vec![Attribute {
                name: "LOGIN".into(),
                value: "u".into(),
            }]));
        }
        let (_, w) = to_mail(p, EXT_EHLO);
        assert_eq!(w, "MAIL FROM:<a@client.test> SIZE=27\r\n");
        // Advertised and refused: exit 33.
        let (mut s, w) = to_mail(strict(), EXT_EHLO);
        assert!(w.starts_with("XCLIENT "), "{w}");
        s.feed(b"550 5.7.0 not authorized\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 33);
    }

    #[test]
    fn xclient_commands_go_one_by_one() {
        let mut p = xclient_plan();
        if let Some(x) = p.ext.xclient.as_mut() {
            x.commands
                .push(XclientCommand::Raw("NAME=[UNAVAILABLE]".into()));
            x.commands.push(XclientCommand::Attrs(vec![Attribute {
                name: "NAME".into(),
                value: "n.test".into(),
            }]));
        }
        let (mut s, w) = to_mail(p, EXT_EHLO);
        assert_eq!(w, "XCLIENT ADDR=192.0.2.1 HELO=a+20b\r\n");
        s.feed(b"220 again\r\n");
        assert_eq!(sent(&mut s), "XCLIENT NAME=[UNAVAILABLE]\r\n");
        s.feed(b"220 again\r\n");
        assert_eq!(sent(&mut s), "XCLIENT NAME=n.test\r\n");
        s.feed(b"220 again\r\n");
        assert_eq!(sent(&mut s), "EHLO client.test\r\n");
        // A refusal in the middle stops there (exit 33).
        let mut p = xclient_plan();
        if let Some(x) = p.ext.xclient.as_mut() {
            x.commands.push(XclientCommand::Raw("NAME=x".into()));
        }
        let (mut s, _) = to_mail(p, EXT_EHLO);
        s.feed(b"220 again\r\n");
        assert_eq!(sent(&mut s), "XCLIENT NAME=x\r\n");
        s.feed(b"501 5.5.4 bad\r\n");
        assert_eq!(sent(&mut s), "QUIT\r\n");
        s.feed(b"221 bye\r\n");
        assert_eq!(exit_code(&s), 33);
    }

    #[test]
    fn xclient_before_starttls() {
        let mut p = xclient_plan();
        p.starttls = StartTls::Required;
        if let Some(x) = p.ext.xclient.as_mut() {
            x.before_starttls = true;
        }
        let ehlo = "250-x\r\n250-STARTTLS\r\n250 XCLIENT ADDR HELO\r\n";
        let (mut s, w) = to_mail(p, ehlo);
        assert!(w.starts_with("XCLIENT "), "{w}");
        s.feed(b"220 again\r\n");
        assert_eq!(sent(&mut s), "EHLO client.test\r\n");
        s.feed(ehlo.as_bytes());
        assert_eq!(sent(&mut s), "STARTTLS\r\n", "XCLIENT only once");
    }

    #[test]
    fn xforward_before_mail() {
        let mut p = plan();
        p.ext.xforward = vec![Attribute {
            name: "ADDR".into(),
            value: "192.0.2.9".into(),
        }];
        let (mut s, w) = to_mail(p.clone(), "250-x\r\n250 XFORWARD NAME ADDR\r\n");
        assert_eq!(w, "XFORWARD ADDR=192.0.2.9\r\n");
        s.feed(b"250 2.0.0 Ok\r\n");
        assert_eq!(sent(&mut s), "MAIL FROM:<a@client.test>\r\n");
        refused_before_mail(p, BARE_EHLO, 23, "XFORWARD");
    }

    #[test]
    fn stop_at_proxy_closes_before_the_banner() {
        let mut p = plan();
        p.stop = Some(Stop {
            kind: StopKind::Quit,
            at: StopAt::Proxy,
        });
        let mut s = Session::new(p);
        assert_eq!(s.poll_action(), Some(Action::Close));
        assert_eq!(sent(&mut s), "");
        assert_eq!(exit_code(&s), 0);
    }
}

/// Hostile input, generated: random mixes of reply fragments, line ends and garbage fed in random
/// pieces must never panic the session, and its one read buffer must stay bounded.
#[cfg(test)]
mod hostile {
    use super::*;
    use crate::smtp::auth::Secret;

    /// xorshift64*: deterministic, no crate needed.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const PIECES: &[&[u8]] = &[
        b"220 ok\r\n",
        b"220-multi\r\n",
        b"250-PIPELINING\r\n",
        b"250-STARTTLS\r\n",
        b"250-AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256\r\n",
        b"250 2.1.0 ok\r\n",
        b"251-mixed\r\n",
        b"334 \r\n",
        b"334 VXNlcm5hbWU6\r\n",
        b"334 !!notbase64\r\n",
        b"354 go\r\n",
        b"421 4.3.2 bye\r\n",
        b"452 4.5.3 full\r\n",
        b"550 5.1.1 no\r\n",
        b"999 odd\r\n",
        b"\r\n",
        b"\n",
        b"\r",
        b"garbage without a code",
        b"\x00\xff\xfe\x16\x03\x01",
        b"2",
        b"25",
        b"250",
        b"-",
        b" ",
    ];

    fn random_bytes(rng: &mut Rng) -> Vec<u8> {
        let mut v = Vec::new();
        for _ in 0..rng.below(40) {
            if rng.below(50) == 0 {
                // Now and then a very long line with no end.
                v.extend(std::iter::repeat_n(b'A', 20_000 + rng.below(20_000)));
            } else {
                v.extend_from_slice(PIECES[rng.below(PIECES.len())]);
            }
        }
        v
    }

    #[test]
    fn random_replies_never_panic_and_the_buffer_stays_bounded() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..400 {
            let mut plan = Plan {
                helo: "client.test".into(),
                from: "a@client.test".into(),
                rcpts: vec!["b@server.test".into(), "c@server.test".into()],
                message: b"Subject: x\n\n.body\n".to_vec(),
                pipeline: round % 2 == 0,
                ..Plan::default()
            };
            if round % 3 == 0 {
                plan.starttls = StartTls::Optional;
            }
            if round % 4 == 0 {
                plan.auth = Some(AuthPlan {
                    credentials: Credentials {
                        user: "u".into(),
                        password: Some(Secret::new("p")),
                        nonce: Some("fixed-test-nonce".into()),
                        ..Credentials::default()
                    },
                    ..AuthPlan::default()
                });
            }
            let mut s = Session::new(plan);
            let input = random_bytes(&mut rng);
            let mut at = 0;
            while at < input.len() && !s.is_closed() {
                let n = 1 + rng.below(64);
                let end = (at + n).min(input.len());
                s.feed(&input[at..end]);
                at = end;
                while s.poll_transmit().is_some() {}
                while s.poll_event().is_some() {}
                if s.poll_action() == Some(Action::StartTls) {
                    s.tls_established();
                }
                assert!(
                    s.buf.len() <= 64 + Limits::default().max_line,
                    "round {round}: read buffer grew to {}",
                    s.buf.len()
                );
            }
            s.feed_eof();
            assert!(s.is_closed(), "round {round}: EOF always ends the session");
            let _ = s.outcome();
        }
    }
}
