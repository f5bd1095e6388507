//! The client `Session`: one state machine that runs a planned SMTP transaction (banner, EHLO,
//! STARTTLS, AUTH, MAIL, RCPT…, DATA, QUIT), owns the single read buffer, and talks to the world
//! only through `feed` / `poll_transmit` / `poll_event` / `poll_action` (the sans-IO shape of quinn-proto).

use std::collections::VecDeque;

use crate::smtp::capabilities::Capabilities;
use crate::smtp::codes::{self, Hint};
use crate::smtp::command::Command;
use crate::smtp::event::{Bytes, Deviation, Event, Phase, RecipientResult, SentKind};
use crate::smtp::outbox::{Outbox, Transmit};
use crate::smtp::reply::{Limits, Progress, Reply, ReplyParser};

mod auth;
mod banner;
mod content;
mod envelope;
mod error;
#[cfg(test)]
mod hostile;
mod plan;
mod preamble;
#[cfg(test)]
mod tests;
mod xclient;

use auth::AuthState;
pub(crate) use auth::{plaintext_auth_declined, plaintext_auth_refused};
pub(crate) use banner::NoGreeting;
pub(crate) use error::SessionError;
pub(crate) use plan::{
    AuthPlan, AuthRequirement, ExtPlan, Plan, Protocol, StartTls, Stop, StopAt, StopKind,
    XclientCommand, XclientPlan, XclientRequirement,
};
pub(crate) use preamble::PROXY_V2_SIGNATURE;

/// What the session asks its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Run the TLS handshake now (after the 220 to STARTTLS), then call `tls_established` or
    /// `tls_failed`.
    StartTls,
    /// Close the connection; the session is over.
    Close,
    /// AUTH is about to send the credentials over a connection that is not encrypted and the
    /// plan says to ask: put the question, then call `plaintext_auth_answered`. Nothing more is
    /// sent until then.
    ConfirmPlaintextAuth,
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
    /// The reply to our `*` cancelling an AUTH exchange (RFC 4954 §4: 501). A 235 here is
    /// not a success: the client refused to go on.
    AuthCancel,
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

/// Was this reply cut short by the close ([`Deviation::TruncatedAtClose`])? One cut for size is
/// not counted: its own error (the reply too large) says more.
fn cut_off(reply: &Reply) -> bool {
    reply.deviations.contains(&Deviation::TruncatedAtClose)
        && !reply
            .deviations
            .iter()
            .any(|d| matches!(d, Deviation::ReplyTooLarge { .. }))
}

impl Expect {
    /// Is `code` the success this command wants? Exactly the codes RFC 5321 §4.3.2 lists (and
    /// the extensions' RFCs): any other 2xx or 3xx is a reply to some other command, so the
    /// dialogue is out of step, and is no success (swaks, too, wants 250 after the dot).
    fn wants(self, code: Option<u16>) -> bool {
        let Some(code) = code else {
            return false;
        };
        match self {
            // RFC 5321 §4.3.2 (banner, STARTTLS per RFC 3207 §4); Postfix XCLIENT_README.
            Expect::Banner | Expect::StartTls | Expect::Xclient { .. } => code == 220,
            // RFC 4954 §4: 334 asks for more, 235 ends it.
            Expect::Auth => matches!(code, 235 | 334),
            // RFC 4954 §4: the answer to `*`.
            Expect::AuthCancel => code == 501,
            // EHLO/HELO/LHLO, MAIL, a BDAT chunk (RFC 3030 §2), XFORWARD, the end of the
            // content (and each LMTP recipient's verdict after it, RFC 2033 §4.2), and a
            // PRDR recipient's reply (draft-hall-prdr §4).
            Expect::Greeting { .. }
            | Expect::Mail
            | Expect::Bdat
            | Expect::Xforward { .. }
            | Expect::Dot(_)
            | Expect::PrdrRcpt(_) => code == 250,
            // 251 forwards, 252 is the VRFY answer some servers also give to RCPT.
            Expect::Rcpt(_) => matches!(code, 250..=252),
            Expect::Data => code == 354,
            // PRDR's 353, or the one final reply of a server that declines PRDR.
            Expect::PrdrStart => matches!(code, 353 | 250),
            Expect::Quit => code == 221,
        }
    }

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
            Expect::Auth | Expect::AuthCancel => Phase::Auth,
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

/// The client state machine (sans-IO: no I/O, no clock). Feed it bytes, drain what it wants written,
/// the events it saw and the actions it needs; it never does I/O itself.
#[derive(Debug)]
pub(crate) struct Session {
    plan: Plan,
    /// The message to send (the plan's own is left empty): shared, never copied.
    message: std::sync::Arc<Vec<u8>>,
    /// The message's length as BDAT sends it ([`data::encoded_chunked_len`]), once counted:
    /// `SIZE=` and the BDAT line both need it, and the message and its fix-ups never change.
    chunked_len: Option<usize>,
    /// The ONE read buffer: bytes after a complete reply stay here (pipelining, injection check).
    buf: Vec<u8>,
    parser: ReplyParser,
    pending: VecDeque<Expect>,
    /// What to write and what to report.
    out: Outbox,
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
    /// How far the session is from its end.
    ending: Ending,
    /// A 421 came: the server said it is closing the connection (RFC 5321 §3.8), so its close
    /// (or a reset of the QUIT written after it) is the announced one, not a surprise.
    close_announced: bool,
    /// LMTP: which recipients the replies after the content belong to, in order.
    dot_targets: Vec<usize>,
    /// BDAT chunks still to send.
    chunks: content::Chunks,
    /// The first BDAT chunk went out (with the envelope when pipelined).
    bdat_begun: bool,
    /// PRDR went out on MAIL.
    prdr_used: bool,
    /// QUIT went out before the banner was read (an implicit-TLS stop at TLS): swaks takes the
    /// banner for QUIT's reply there, so a close after the banner leaves no QUIT unanswered.
    quit_before_banner: bool,
    /// The parameters the MAIL FROM went out with, for the explanation of its refusal.
    mail_params: Vec<String>,
    /// Where XCLIENT is (it is sent once, and the greeting after it is its own phase).
    xclient: XclientStep,
    /// XCLIENT command lines still to send.
    xclient_lines: VecDeque<String>,
    /// XFORWARD already sent.
    xforward_done: bool,
    /// This transaction sends the plan's A-label forms of its addresses (no SMTPUTF8).
    a_labels_sent: bool,
    /// How many expectations at the back of `pending` belong to commands still in the outbox
    /// (queued, not yet handed to the driver): a reply matched to one of them arrived before
    /// its command was sent.
    unsent: usize,
    /// What the session knows of replies that came before their command.
    early: EarlyReply,
    /// The credentials in the forms a server may echo back (and every secret SASL line sent),
    /// masked in whatever is received before it is shown or kept; empty when secrets may be
    /// shown.
    secrets: Vec<Vec<u8>>,
}

/// `reply` with every one of `secrets` masked in its lines, its raw bytes and the deviations
/// that quote it ([`crate::smtp::auth::redact`]): what a session received, cleaned before
/// anything sees it (the planned session's and the REPL's alike).
pub(crate) fn redact_reply(mut reply: Reply, secrets: &[Vec<u8>]) -> Reply {
    if secrets.is_empty() {
        return reply;
    }
    let text = |t: &mut String| {
        if let Some(r) = crate::smtp::auth::redact(t.as_bytes(), secrets) {
            *t = String::from_utf8_lossy(&r).into_owned();
        }
    };
    reply.lines.iter_mut().for_each(text);
    for d in &mut reply.deviations {
        if let Deviation::MissingCode { line } | Deviation::BadSeparator { line } = d {
            text(line);
        }
    }
    if let Some(r) = crate::smtp::auth::redact(&reply.raw.0, secrets) {
        reply.raw = Bytes(r);
    }
    reply
}

/// How far a session is from its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The dialogue goes on.
    Open,
    /// QUIT sent, or an end asked for (a stop point, an error): a close now is expected, and no
    /// second QUIT is sent.
    Finishing,
    /// Nothing more is read or sent.
    Closed,
}

/// XCLIENT (Postfix XCLIENT_README) in a session: sent once, then the server greets again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum XclientStep {
    /// Not sent (yet, or ever: the plan may have none).
    NotSent,
    /// Its command lines are going out.
    Sending,
    /// The greeting in progress follows it (its failure is exit 34).
    Regreeting,
    /// Sent and greeted again.
    Done,
}

/// A reply that arrives (or begins) before its command was sent: reported once per session,
/// since after it every reply is shifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EarlyReply {
    /// None seen.
    NotSeen,
    /// The reply being read started arriving while no sent command was waiting for it.
    Begun,
    /// Reported.
    Reported,
}

impl Session {
    /// A session that will run `plan`. Nothing is sent before the banner arrives.
    pub(crate) fn new(mut plan: Plan) -> Session {
        let message = std::sync::Arc::new(std::mem::take(&mut plan.message));
        Session::sharing(plan, message)
    }

    /// A session of `plan` whose message is `message` (`plan.message` is not used): the
    /// sessions of one run, one per server tried, share the message rather than copy it.
    pub(crate) fn sharing(plan: Plan, message: std::sync::Arc<Vec<u8>>) -> Session {
        let raw_events = plan.raw_events;
        let rcpt_results = plan.rcpts.iter().map(RecipientResult::new).collect();
        let mut s = Session {
            plan,
            message,
            chunked_len: None,
            buf: Vec::new(),
            parser: ReplyParser::new(Limits::default()),
            pending: VecDeque::new(),
            out: Outbox::new(raw_events),
            actions: VecDeque::new(),
            tls: false,
            caps: None,
            auth: None,
            authenticated: false,
            pipelining: false,
            rcpt_results,
            message_accepted: None,
            error: None,
            ending: Ending::Open,
            close_announced: false,
            dot_targets: Vec::new(),
            chunks: content::Chunks::default(),
            bdat_begun: false,
            prdr_used: false,
            quit_before_banner: false,
            mail_params: Vec::new(),
            xclient: XclientStep::NotSent,
            xclient_lines: VecDeque::new(),
            xforward_done: false,
            a_labels_sent: false,
            unsent: 0,
            early: EarlyReply::NotSeen,
            secrets: Vec::new(),
        };
        if let Some(a) = s.plan.auth.as_ref().filter(|a| !a.show_secrets) {
            let c = &a.credentials;
            for secret in [&c.password, &c.token].into_iter().flatten() {
                s.secrets
                    .extend(crate::smtp::auth::secret_forms(secret.expose()));
            }
        }
        if let Some(header) = s.plan.proxy.take() {
            s.send_preamble(&header);
            s.plan.proxy = Some(header);
        }
        // A drop at PROXY ends before the banner, once the header is out; a quit there reads
        // the banner and says QUIT, as swaks v20240103 does (its quit-after PROXY = CONNECT).
        if let Some(
            Stop {
                kind: StopKind::DropAfterSend,
                at: StopAt::Connect,
            }
            | Stop {
                kind: StopKind::Drop | StopKind::DropAfterSend,
                at: StopAt::Proxy,
            },
        ) = s.plan.stop
        {
            s.finish_now();
        } else {
            s.pending.push_back(Expect::Banner);
        }
        s
    }

    /// Bytes read from the transport.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        if self.is_closed() {
            return;
        }
        if self.tls_instead_of_banner(bytes) {
            return;
        }
        crate::smtp::reply::feed_replies(self, bytes);
        // Part of a reply is here while every command waiting for one is still unsent: that
        // reply began before its command (an early-talking or desynchronised server).
        if !self.is_closed()
            && self.parser.in_progress()
            && self.pending.len() <= self.unsent
            && self.early == EarlyReply::NotSeen
        {
            self.early = EarlyReply::Begun;
        }
    }

    /// The transport reached end of file.
    pub(crate) fn feed_eof(&mut self) {
        if self.is_closed() {
            return;
        }
        let mut goodbye = false;
        while let Some(reply) = self.parser.finish(&mut self.buf) {
            let reply = self.redact(reply);
            if cut_off(&reply) {
                // A `221` without its CRLF is the goodbye all the same.
                goodbye = self.pending.front() == Some(&Expect::Quit) && reply.code == Some(221);
                // The last reply is the close's: nothing can follow it.
                self.on_cut_off(reply);
                break;
            }
            self.on_reply(reply);
            if self.is_closed() {
                return;
            }
        }
        if self.is_closed() {
            return;
        }
        // QUIT wants its 221 (RFC 5321 §4.1.1.10): a close instead is unexpected (exit 6, as
        // swaks's "Remote host closed connection unexpectedly"), even after the message was
        // accepted, which the transcript still says. A stop point's QUIT (`-q mail`) too when
        // the plan says so (the send: swaks's quit-after is the same exchange), except one sent
        // before the banner, which swaks takes for its reply.
        let stop_quit = matches!(
            self.plan.stop,
            Some(Stop {
                kind: StopKind::Quit,
                ..
            })
        );
        // After a 421 the close is the one it announced (RFC 5321 §3.8): no 221 is owed to the
        // QUIT sent after it (swaks says "closed connection unexpectedly" there too; the
        // explanation above it just said the server is closing the connection).
        let quit_unanswered = self.pending.contains(&Expect::Quit)
            && !goodbye
            && !(stop_quit && (!self.plan.stop_wants_goodbye || self.quit_before_banner))
            && !self.close_announced;
        let expected = self.ending == Ending::Finishing && !quit_unanswered;
        if !expected && self.error.is_none() {
            if quit_unanswered && self.message_accepted == Some(true) {
                self.out.info(
                    "the message was accepted; the server then closed the connection instead of answering QUIT",
                );
            }
            self.error = Some(SessionError::Closed {
                phase: self.phase(),
            });
        }
        self.out.push(Event::Closed { expected });
        self.ending = Ending::Closed;
    }

    /// Bytes to write, if any (everything queued so far, in one buffer: one write per step, so
    /// pipelined commands leave in one segment).
    pub(crate) fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.poll_transmit_parts().map(Transmit::into_bytes)
    }

    /// [`Session::poll_transmit`] in parts to write in order: a long BDAT chunk is a slice of
    /// the session's encoded message, not a copy of it.
    pub(crate) fn poll_transmit_parts(&mut self) -> Option<Transmit> {
        self.unsent = 0;
        self.out.poll_transmit_parts()
    }

    /// Received bytes as they may be shown (the driver's raw events): a credential the server
    /// echoes back masked, as in the replies ([`Session::redact`]).
    pub(crate) fn redact_received(&self, bytes: &[u8]) -> Vec<u8> {
        crate::smtp::auth::redact(bytes, &self.secrets).unwrap_or_else(|| bytes.to_vec())
    }

    /// The one place received text is cleaned before anything sees it: a credential the server
    /// echoes back (sendmail's `500 5.5.1 unrecognized command <the password line>`) is masked
    /// in the reply's lines, its raw bytes and the deviations that quote it, so no transcript,
    /// JSON or error shows it.
    fn redact(&self, reply: Reply) -> Reply {
        redact_reply(reply, &self.secrets)
    }

    /// A secret SASL line just sent: masked too if the server echoes it back.
    fn remember_secret(&mut self, wire_text: &str) {
        if !wire_text.is_empty() {
            self.secrets.push(wire_text.as_bytes().to_vec());
        }
    }

    /// What has arrived of a reply that is not finished (for a timeout's diagnosis).
    pub(crate) fn progress(&self) -> Option<Progress> {
        self.parser.progress(&self.buf)
    }

    /// Next event, if any.
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        self.out.poll_event()
    }

    /// Next action, if any.
    pub(crate) fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The transport is TLS from the start (implicit TLS, RFC 8314 §3.3): the driver finished
    /// the handshake after the preamble and before reading anything. From here on the session
    /// runs over the decrypted stream: no STARTTLS, and TLS-record bytes where the banner belongs
    /// are no longer a sign of a wrong port.
    ///
    /// A TLS stop point applies here, right after the handshake and before the banner is read,
    /// as in swaks (`sendmail`, `--tls-on-connect`): a drop closes at once; a quit sends QUIT at
    /// once, and the banner that arrives first is read and reported before QUIT's reply.
    pub(crate) fn implicit_tls_established(&mut self) {
        self.tls = true;
        self.quit_before_banner = self.stop_here(StopAt::Tls)
            && matches!(
                self.plan.stop,
                Some(Stop {
                    kind: StopKind::Quit,
                    ..
                })
            );
    }

    /// The host connected to has a DNSSEC-secure TLSA RRset (`--tls-verify dane` found one): TLS
    /// is mandatory for it (RFC 7672 §2.2), so over a plain stream STARTTLS becomes required
    /// whatever the plan said — not offered or failed ends the session. Over implicit TLS there
    /// is nothing to change. Called before the session has read anything.
    pub(crate) fn secure_tlsa_found(&mut self) {
        if !self.tls {
            self.plan.starttls = StartTls::Required;
        }
    }

    /// The TLS handshake the session asked for succeeded: EHLO again with a clean slate
    /// (RFC 3207 §4.2). The driver reports the handshake's evidence itself.
    pub(crate) fn tls_established(&mut self) {
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
    pub(crate) fn tls_failed(&mut self, reason: crate::smtp::codes::Hint) {
        self.set_error(SessionError::Tls(reason));
        self.close();
    }

    /// The phase whose reply we are waiting for (for timeout errors).
    pub(crate) fn phase(&self) -> Phase {
        self.pending
            .front()
            .map(|e| e.phase())
            .unwrap_or(self.out.last_phase())
    }

    /// Did the server announce its close with a 421 (RFC 5321 §3.8)? A reset of the QUIT sent
    /// after it is then that close, no failure to warn of.
    pub(crate) fn close_announced(&self) -> bool {
        self.close_announced
    }

    /// Is the session over?
    pub(crate) fn is_closed(&self) -> bool {
        self.ending == Ending::Closed
    }

    /// Does this session report the raw bytes (`RawSent`; the driver adds `RawReceived`)? The
    /// plan decides, for both directions.
    pub(crate) fn raw_events(&self) -> bool {
        self.plan.raw_events
    }

    /// Is the transport encrypted?
    #[cfg(test)]
    pub(crate) fn is_tls(&self) -> bool {
        self.tls
    }

    /// How it ended: `Ok` or the first error.
    pub(crate) fn outcome(&self) -> Result<(), &SessionError> {
        match &self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The server never greeted this session ([`NoGreeting`] says how), so nothing of the mail
    /// was offered to it and another MX host may take it (RFC 5321 §5.1). `None` when a 220
    /// came: a failure after it (EHLO refused, TLS failed…) is the server's answer.
    pub(crate) fn left_in_greeting(&self) -> Option<NoGreeting<'_>> {
        NoGreeting::of(self.error.as_ref()?)
    }

    /// Per-recipient results so far.
    pub(crate) fn recipients(&self) -> &[RecipientResult] {
        &self.rcpt_results
    }

    /// Did the server accept the message after the final dot?
    pub(crate) fn message_accepted(&self) -> Option<bool> {
        self.message_accepted
    }

    /// The latest EHLO capabilities.
    #[cfg(test)]
    pub(crate) fn capabilities(&self) -> Option<&Capabilities> {
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
        self.out
            .send(&wire, text, SentKind::Command, phase, false, self.tls);
        self.expect_reply(expect);
    }

    /// Something that wants a reply was just queued for writing (a command, a SASL line, the
    /// content, a BDAT chunk): the one place that counts it as unsent, so a reply matched to
    /// it before the driver took it is known to be early (RFC 2920 §3.1: replies follow their
    /// commands).
    fn expect_reply(&mut self, expect: Expect) {
        self.pending.push_back(expect);
        self.unsent += 1;
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
        if self.finishing() {
            return;
        }
        // Outstanding pipelined replies stay pending: they arrive before QUIT's and are
        // reported but otherwise ignored (see `on_reply`). No further BDAT chunk goes.
        self.chunks.clear();
        self.ending = Ending::Finishing;
        self.send_command(&Command::Quit, Phase::Quit, Expect::Quit);
    }

    /// QUIT is out or the end was asked for (or the session is closed already).
    fn finishing(&self) -> bool {
        self.ending != Ending::Open
    }

    fn close(&mut self) {
        if !self.is_closed() {
            self.ending = Ending::Closed;
            self.pending.clear();
            self.actions.push_back(Action::Close);
            self.out.push(Event::Closed { expected: true });
        }
    }

    /// End the session without a goodbye and without reporting a close (the session gave up on
    /// the peer: the error or warning already says why).
    fn abort(&mut self) {
        self.ending = Ending::Closed;
        self.pending.clear();
        self.actions.push_back(Action::Close);
    }

    /// End the session right now because a stop point says so.
    fn finish_now(&mut self) {
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

    /// A stop point at a step the session skipped (TLS, AUTH or XCLIENT not used): it stops there all
    /// the same, as swaks does, since what was asked is to go no further; a drop-after-send
    /// there closes too, as there was no command to send. An info line says the step did not
    /// happen, so the stop is not read as its success. Returns true when it stopped.
    fn stop_without_step(&mut self, at: StopAt) -> bool {
        if !matches!(self.plan.stop, Some(Stop { at: a, .. }) if a == at) {
            return false;
        }
        let step = match at {
            StopAt::Tls => "no STARTTLS in this session",
            StopAt::Auth => "no AUTH in this session",
            StopAt::Xclient | StopAt::XclientHelo => "no XCLIENT in this session",
            _ => "the step did not happen",
        };
        self.out
            .info(format!("{step}: stopping at its stop point all the same"));
        self.stop_here(at)
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
        if reply.code == Some(421) {
            self.close_announced = true;
        }
        // Matched to a command still unsent, or begun before one was sent: it cannot be the
        // answer to it. Say so the first time; every later reply is shifted by it.
        self.unsent = self.unsent.min(self.pending.len());
        let begun = self.early == EarlyReply::Begun;
        if begun {
            self.early = EarlyReply::NotSeen;
        }
        let early = (begun || self.pending.len() <= self.unsent) && !self.pending.is_empty();
        if early && self.early != EarlyReply::Reported && !self.finishing() {
            self.early = EarlyReply::Reported;
            let phase = self
                .pending
                .front()
                .map_or(self.out.last_phase(), |e| e.phase());
            self.out.push(Event::Deviation {
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
            let phase = self.pending_phase();
            self.show_unanswering(reply, phase);
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
            let phase = self.out.last_phase();
            self.out.push(Event::Deviation {
                deviation: Deviation::UnsolicitedReply,
                phase,
            });
            self.out.push(Event::unanswering(reply, self.tls, phase));
            return;
        };
        let phase = expect.phase();
        let mut expected = expect.wants(reply.code);
        // A success that came before what it answers was sent says nothing about it: the
        // server did not see the content, the chunk or the credentials yet. No verdict on them
        // is taken from it.
        let verdict = match expect {
            Expect::Dot(_) | Expect::Bdat | Expect::PrdrStart | Expect::PrdrRcpt(_) => true,
            Expect::Auth => reply.code == Some(235),
            _ => false,
        };
        let early_verdict = early && expected && verdict;
        if early_verdict {
            expected = false;
        }
        // PRDR and LMTP replies after the content speak for one recipient, not the message.
        let answer = match expect {
            Expect::PrdrStart => codes::Answer::PrdrStart,
            Expect::AuthCancel => codes::Answer::AuthCancel,
            Expect::PrdrRcpt(_) => codes::Answer::PrdrRecipient,
            // Chunks are answered in order (RFC 2920 §3.1), pipelined or not: this reply is
            // the next chunk's, and says so.
            Expect::Bdat => {
                self.chunks.answered += 1;
                codes::Answer::BdatChunk {
                    n: self.chunks.answered,
                    of: self.chunks.count(),
                }
            }
            // A greeting that no HELO will follow: its refusal says so, not "falls back".
            Expect::Greeting { ehlo, after_tls }
                if !self.may_fall_back_to_helo(ehlo, after_tls) =>
            {
                codes::Answer::GreetingWithoutFallback(match (self.plan.protocol, ehlo) {
                    (Protocol::Lmtp, _) => "LHLO",
                    (_, true) => "EHLO",
                    (_, false) => "HELO",
                })
            }
            Expect::Dot(_)
                if self.plan.protocol == Protocol::Lmtp && !self.dot_targets.is_empty() =>
            {
                codes::Answer::LmtpRecipient
            }
            _ => codes::Answer::Command,
        };
        // Worded from the session's state: no "add --tls" to a session in TLS.
        let known = codes::Known::of_session(self.tls, self.caps.as_ref(), self.authenticated);
        let mut explanation = codes::explain_known(&reply, phase, answer, known);
        // A way to go on without TLS names what asked for it, which only the plan knows.
        explanation.hint = explanation.hint.map(|h| h.tls_asked(self.plan.tls_asked));
        // A refusal of the parameters names those this command carried.
        let sent = match expect {
            Expect::Mail => Some(self.mail_params.clone()),
            Expect::Rcpt(n) => Some(self.rcpt_command(n).1),
            _ => None,
        };
        if let Some(sent) = sent {
            explanation.hint = codes::params_refused(explanation.hint, &reply, phase, &sent);
        }
        self.out.push(Event::Received {
            reply: reply.clone(),
            tls: self.tls,
            expected,
            phase,
            explanation,
        });
        if self.finishing() && expect != Expect::Quit {
            // Replies to pipelined commands after a failure: reported, otherwise ignored.
            return;
        }
        if early_verdict {
            if phase == Phase::Dot {
                self.message_accepted = Some(false);
                self.chunks.clear();
            }
            self.auth = None;
            self.fail(SessionError::UnexpectedReply {
                phase,
                expected: "a reply sent after the command (this one came before it)",
                verb: None,
                reply: Box::new(reply),
            });
            return;
        }
        match expect {
            Expect::Banner => self.on_banner(reply, expected),
            Expect::Greeting { ehlo, after_tls } => self.on_greeting(reply, ehlo, after_tls),
            Expect::StartTls => self.on_starttls(reply),
            Expect::Auth => self.on_auth(reply),
            Expect::AuthCancel => self.on_auth_cancelled(reply),
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
                        verb: None,
                        reply: Box::new(reply),
                    });
                }
                self.close();
            }
        }
    }

    /// The close cut a reply short (a line without its CRLF, or a multi-line reply without its
    /// last line): shown as it arrived, but it answers nothing. A reply is complete only with
    /// its last line and that line's CRLF (RFC 5321 §4.2.1, §2.3.8), so a cut `250-` is no
    /// acceptance; Postfix's client calls the same a lost connection (and defers). The
    /// expectation stays pending, so the close is blamed on the phase that was cut off.
    fn on_cut_off(&mut self, reply: Reply) {
        let phase = self.pending_phase();
        // The server began its verdict on the content and never finished it: whatever it was
        // going to say, the message is not accepted (no reply at all leaves it unknown).
        if !self.finishing() && phase == Phase::Dot {
            self.message_accepted = Some(false);
        }
        self.show_unanswering(reply, phase);
    }

    /// The phase of the oldest command still waiting for its reply (the last phase when none).
    fn pending_phase(&self) -> Phase {
        self.pending
            .front()
            .map_or(self.out.last_phase(), |e| e.phase())
    }

    /// Show a reply that answers no command (too large, or cut off by the close), explained
    /// for `phase`.
    fn show_unanswering(&mut self, reply: Reply, phase: Phase) {
        self.out.push(Event::unanswering(reply, self.tls, phase));
    }

    fn on_banner(&mut self, reply: Reply, ok: bool) {
        if !ok {
            self.fail(SessionError::UnexpectedReply {
                phase: Phase::Banner,
                expected: "220",
                verb: None,
                reply: Box::new(reply),
            });
            return;
        }
        if self.stop_here(StopAt::Connect) || self.stop_here(StopAt::Proxy) {
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
        let phase = if self.xclient == XclientStep::Regreeting {
            Phase::HeloAfterXclient
        } else if after_tls {
            Phase::HeloAfterTls
        } else {
            Phase::Helo
        };
        self.send_command(&cmd, phase, Expect::Greeting { ehlo, after_tls });
        let at = if self.xclient == XclientStep::Regreeting {
            StopAt::XclientHelo
        } else if after_tls {
            StopAt::Helo
        } else {
            StopAt::FirstHelo
        };
        self.drop_after_send(at);
    }

    /// Whether a greeting that was not understood is followed by HELO: only the first EHLO of
    /// an ESMTP session (not LHLO, HELO itself, or the EHLO after STARTTLS or XCLIENT).
    fn may_fall_back_to_helo(&self, ehlo: bool, after_tls: bool) -> bool {
        ehlo && !after_tls
            && self.xclient != XclientStep::Regreeting
            && self.plan.protocol == Protocol::Esmtp
    }

    fn on_greeting(&mut self, reply: Reply, ehlo: bool, after_tls: bool) {
        let phase = if self.xclient == XclientStep::Regreeting {
            Phase::HeloAfterXclient
        } else if after_tls {
            Phase::HeloAfterTls
        } else {
            Phase::Helo
        };
        if !(Expect::Greeting { ehlo, after_tls }).wants(reply.code) {
            // Fall back to HELO only when EHLO itself was not understood (RFC 5321 §4.1.4,
            // 500/502/504); a 550 or 554 is a refusal of us, not of the verb.
            let not_understood = matches!(reply.code, Some(500 | 502 | 504));
            if self.may_fall_back_to_helo(ehlo, after_tls) && not_understood {
                self.out
                    .info("EHLO refused: falling back to HELO (no extensions)");
                self.send_greeting(false, after_tls);
                return;
            }
            let verb = match (self.plan.protocol, ehlo) {
                (Protocol::Lmtp, _) => Some("LHLO"),
                (_, true) => None,
                (_, false) => Some("HELO"),
            };
            self.fail(SessionError::UnexpectedReply {
                phase,
                expected: "250",
                verb,
                reply: Box::new(reply),
            });
            return;
        }
        self.caps = Some(if ehlo {
            Capabilities::from_reply(&reply)
        } else {
            Capabilities::default()
        });
        // RFC 5321 §4.1.1.1 gives each keyword one line; a server listing one twice with other
        // parameters (`SIZE 100`, then `SIZE 100000000`) leaves clients to pick one.
        let contradictions = self
            .caps
            .as_ref()
            .map(|c| c.contradictions(4))
            .unwrap_or_default();
        for (keyword, lists) in contradictions {
            let shown: Vec<String> = lists
                .iter()
                .map(|p| {
                    if p.is_empty() {
                        "(none)".into()
                    } else {
                        p.clone()
                    }
                })
                .collect();
            self.out.warn(format!(
                "the EHLO reply lists {keyword} more than once with different parameters ({}): \
                 ehlo uses the first, another client may use another",
                shown.join(" / ")
            ));
        }
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
                let list = auth::offered_list(&mechs);
                self.out.warn(format!(
                    "the server offers AUTH ({list}) before TLS: clients may send credentials unencrypted"
                ));
            }
        }
        let was_xclient = self.xclient == XclientStep::Regreeting;
        if was_xclient {
            self.xclient = XclientStep::Done;
            if self.stop_here(StopAt::XclientHelo) {
                return;
            }
        } else if !after_tls && self.stop_here(StopAt::FirstHelo) {
            return;
        }
        self.proceed_after_greeting(!was_xclient);
    }

    fn wants_xclient(&self) -> bool {
        self.plan.ext.xclient.is_some() && self.xclient == XclientStep::NotSent
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
                    if let Some(e) = SessionError::starttls_required(None, self.plan.tls_asked) {
                        self.fail(e);
                    }
                    return;
                }
                _ => self
                    .out
                    .warn("STARTTLS is not advertised: carrying on without TLS"),
            }
        }
        // The STARTTLS decision is made and no STARTTLS went out (not asked for, or optional
        // and not advertised): a TLS stop point still ends the session here, before anything
        // else is sent, as swaks does (it stops at `tls` whether or not TLS was used).
        if self.stop_without_step(StopAt::Tls) {
            return;
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

    pub(super) fn on_starttls(&mut self, reply: Reply) {
        if !reply.is_ready() {
            // A 4xx/5xx refuses TLS; any other code is no refusal, but only 220 starts TLS
            // (RFC 3207 §4), so the session is in plain text all the same: said as it is.
            let not_started = crate::smtp::codes::starttls_not_started(&reply);
            match (self.plan.starttls, not_started) {
                (StartTls::Optional, not_started) => {
                    let what = match not_started {
                        Some(words) => format!("{words}; carrying on"),
                        None => "STARTTLS was refused: carrying on".into(),
                    };
                    self.out
                        .advise(Hint::new(format!("{what} without TLS (⟨tls-optional⟩)")));
                    if !self.stop_without_step(StopAt::Tls) && !self.stop_here(StopAt::Helo) {
                        self.after_last_greeting();
                    }
                }
                _ => {
                    if let Some(e) =
                        SessionError::starttls_required(Some(reply), self.plan.tls_asked)
                    {
                        self.fail(e);
                    }
                }
            }
            return;
        }
        // Anything already buffered was sent before the handshake and must not be trusted as if
        // it came over TLS (CVE-2011-0411, STARTTLS command injection).
        if !self.buf.is_empty() {
            // Reported once, as the deviation (a warning besides it said the same twice).
            let injected = std::mem::take(&mut self.buf);
            self.out.push(Event::Deviation {
                deviation: Deviation::StartTlsInjection {
                    len: injected.len(),
                    bytes: Bytes(injected.clone()),
                },
                phase: Phase::StartTls,
            });
        }
        self.actions.push_back(Action::StartTls);
    }
}

impl crate::smtp::reply::ReplyFeed for Session {
    fn input(&mut self) -> (&mut Vec<u8>, &mut ReplyParser) {
        (&mut self.buf, &mut self.parser)
    }
    fn reading(&self) -> bool {
        !self.is_closed() && !self.awaiting_tls()
    }
    fn starttls_awaited(&self) -> bool {
        self.pending.contains(&Expect::StartTls)
    }
    fn take(&mut self, reply: Reply) {
        let reply = self.redact(reply);
        self.on_reply(reply);
    }
}
