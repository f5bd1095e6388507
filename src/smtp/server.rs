//! The server side of SMTP for `ehlo serve` and the tests: a sans-IO `Session` that reads command
//! lines and message content and writes replies, with deterministic fault injection
//! ([`fault`]).
//!
//! # Driving a session
//!
//! `Session::new(config)`, then `greeting()` once the transport is up (after the implicit TLS
//! handshake, if any). Then, repeatedly: `feed()` the bytes read, and drain the output.
//!
//! Bytes to write and [`ServerAction`]s form **one ordered stream**: `poll_transmit()` returns
//! `None` while an action is next, and `poll_action()` returns `None` while bytes are next. A
//! driver loops `poll_transmit` / `poll_action` until both are `None`, so that a
//! [`ServerAction::Delay`] really comes before the write it delays. After a
//! [`ServerAction::Store`] the session waits (reading nothing further) until the driver calls
//! [`Session::stored`] with the outcome: `250` if the message was kept, `451 4.3.0` if not, so
//! the client is never told "queued" for a message that was lost. Events (`poll_event`) are a
//! separate queue and never block the stream.
//!
//! # Message content is streamed
//!
//! The session never holds a whole message: the content of a DATA or BDAT transaction leaves it
//! as [`ServerAction::Content`] pieces as soon as they are read (un-stuffed, at most one read's
//! worth at a time), for the driver to append to the message being received. The transaction
//! then ends with exactly one of [`ServerAction::Store`] (keep what was appended; its
//! `content` is empty) or [`ServerAction::Discard`] (a refused, aborted or oversized message:
//! drop what was appended). A session that closes mid-content emits `Discard` before `Close`;
//! a driver whose connection breaks drops the partial message itself.
//!
//! # Events (the server's point of view)
//!
//! - a line read from the client → [`Event::ClientCommand`] (AUTH secrets masked);
//! - a reply we write → [`Event::ServerReply`] (`reply.raw` is the exact bytes written);
//! - tolerated client misbehaviour → [`Event::Deviation`] (bare LF, over-long line, bytes
//!   pipelined after STARTTLS) or [`Event::Warning`] (bare CR/LF inside the content);
//! - the driver adds `Connected`, `TlsStarted`, `MessageStored` and `Closed`.

mod address;
pub(crate) mod fault;
pub(crate) mod proxy;
pub(crate) mod quirk;

use std::collections::VecDeque;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::smtp::FEED_PIECE;
use crate::smtp::auth::Secret;
use crate::smtp::command::{Command, CommandError};
use crate::smtp::data::{DataProgress, DataReader};
use crate::smtp::event::{Bytes, Deviation, Event, Phase};
use crate::smtp::reply::Reply;
use crate::smtp::rng::Rng;

pub(crate) use fault::{BannerMode, Fault, FaultAction, Faults, Point};
pub use quirk::Quirks;

/// Longest command line accepted, CRLF included. RFC 5321 §4.5.3.1.4 sets 512 (extensions make
/// lines longer) and §4.5.3.1 asks a server to be liberal in what it takes past its limits:
/// 2048, as Postfix's `line_length_limit`, so a line Postfix takes (Exim takes up to 16 KiB) is
/// taken here too. A longer line gets `500 5.5.2` as soon as it passes the limit, and the rest
/// of it is discarded while being read, so the buffer stays bounded.
pub(crate) const MAX_LINE: usize = 2048;

/// Longest SASL response line accepted during an AUTH exchange, CRLF included. RFC 4954 §4:
/// responses can be much longer than commands, and 12288 octets "is considered to be a
/// sufficient line length limit" (Postfix's `smtpd_sasl_response_limit` default); a longer one
/// fails the AUTH with `500 5.5.6`.
pub(crate) const MAX_SASL_LINE: usize = 12288;

/// Most recipients per transaction (RFC 5321 §4.5.3.1.8 requires at least 100).
pub(crate) const MAX_RCPTS: usize = 100;

/// Settings of one server session.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    /// Name in the banner and the EHLO reply.
    pub(crate) hostname: String,
    /// LMTP (RFC 2033): LHLO instead of EHLO/HELO, one reply per recipient after the content.
    pub(crate) lmtp: bool,
    /// Offer STARTTLS (RFC 3207).
    pub(crate) starttls: bool,
    /// The transport is already TLS (implicit TLS, RFC 8314).
    pub(crate) tls: bool,
    /// Accepted users for AUTH PLAIN / LOGIN / CRAM-MD5.
    pub(crate) users: Vec<(String, Secret)>,
    /// Accept any credentials.
    pub(crate) accept_any_auth: bool,
    /// Advertise and accept AUTH before STARTTLS even when STARTTLS is offered (for testing
    /// clients; by default AUTH waits for TLS, see `auth_needs_tls`).
    pub(crate) auth_before_tls: bool,
    /// Refuse MAIL until the session is in TLS (`530 5.7.0`, RFC 3207 §4).
    pub(crate) require_tls: bool,
    /// Refuse MAIL until the client authenticated (`530 5.7.0`, RFC 4954 §6).
    pub(crate) require_auth: bool,
    /// Largest message accepted (SIZE, RFC 1870); 0 = no limit, advertised as a bare `SIZE`
    /// (RFC 1870 §4 allows the number to be left out; Postfix does so for
    /// `message_size_limit = 0`). The content is handed on as it is read, never held whole, so
    /// no limit costs no memory.
    pub(crate) max_size: usize,
    /// Faults, delays and hidden extensions.
    pub(crate) faults: Faults,
    /// Seed of the PRNG for queue ids and CRAM-MD5 challenges (0 picks a fixed default).
    pub(crate) seed: u64,
    /// Failed AUTH attempts allowed on one connection: the last one is answered `421 4.7.0`
    /// and the connection closed; each failure before it waits a little longer (0 = no limit).
    pub(crate) max_auth_failures: u32,
    /// Errors allowed a client without a message delivered: the command that makes the count
    /// reach it is answered, then `421 4.7.0` and close (as Postfix's `smtpd_hard_error_limit`);
    /// an error is a reply 500-504 (RFC 5321 §4.2.2: syntax error, not implemented, bad
    /// sequence), not an injected fault or a refusal of an address; 0 = no limit.
    pub(crate) hard_error_limit: u32,
    /// Junk commands (NOOP, RSET, VRFY, HELP) allowed without a message delivered; each one
    /// past it counts as an error (as Postfix's `smtpd_junk_command_limit`); 0 = no limit.
    pub(crate) junk_command_limit: u32,
    /// Errors (as [`Self::hard_error_limit`] counts them) past which every reply waits
    /// [`Self::error_sleep_ms`] (as Postfix's `smtpd_soft_error_limit` and
    /// `smtpd_error_sleep_time`: "delays all responses" once the count is above it); the
    /// session only says so with a [`ServerAction::Delay`], the driver waits; 0 = no limit.
    pub(crate) soft_error_limit: u32,
    /// The delay before each reply past [`Self::soft_error_limit`], in milliseconds.
    pub(crate) error_sleep_ms: u64,
    /// Vulnerable behaviours switched on for testing probes ([`quirk`]).
    pub(crate) quirks: Quirks,
    /// Emit the transcript events ([`Event::ClientCommand`], [`Event::ServerReply`]). Off for a
    /// driver that would drop them (`ehlo serve --quiet`): the bytes written are the same, but
    /// no line is copied, masked or parsed into a [`Reply`] only to be thrown away.
    pub(crate) transcript: bool,
}

/// Delay before the reply to the n-th failed AUTH on a connection (n from 1): 250 ms per failure
/// so far, at most 2 s. Small for a person who mistyped, costly for a password guesser.
pub(crate) fn auth_failure_delay_ms(n: u32) -> u64 {
    (u64::from(n) * 250).min(2000)
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hostname: "localhost".into(),
            lmtp: false,
            starttls: false,
            tls: false,
            users: Vec::new(),
            accept_any_auth: false,
            auth_before_tls: false,
            require_tls: false,
            require_auth: false,
            max_size: 10 * 1024 * 1024,
            faults: Faults::default(),
            seed: 0,
            max_auth_failures: 3,
            // Off unless the driver sets them (`ehlo serve`: Postfix's 20 and 100).
            hard_error_limit: 0,
            junk_command_limit: 0,
            soft_error_limit: 0,
            error_sleep_ms: 0,
            quirks: Quirks::default(),
            transcript: true,
        }
    }
}

impl ServerConfig {
    /// Is STARTTLS offered before TLS (configured, the transport not already TLS, not hidden)?
    /// The session and `ehlo serve`'s start-up line both ask here.
    pub(crate) fn offers_starttls(&self) -> bool {
        self.starttls && !self.tls && !self.faults.hides("STARTTLS")
    }

    /// Is AUTH offered at all (accounts or any credentials, not hidden)?
    pub(crate) fn offers_auth(&self) -> bool {
        (self.accept_any_auth || !self.users.is_empty()) && !self.faults.hides("AUTH")
    }

    /// Does AUTH wait for STARTTLS at the start of a session (see `Session::auth_needs_tls`)?
    pub(crate) fn auth_waits_for_starttls(&self) -> bool {
        self.offers_starttls() && !self.auth_before_tls
    }

    /// The largest content accepted, in bytes: `max_size`, or no limit for 0.
    fn size_limit(&self) -> usize {
        match self.max_size {
            0 => usize::MAX,
            n => n,
        }
    }
}

/// A message the session accepted, handed to the driver in [`ServerAction::Store`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Queue id given in the reply.
    pub(crate) id: String,
    /// Envelope sender ("" = null sender).
    pub from: String,
    /// MAIL parameters as sent.
    pub(crate) mail_params: Vec<String>,
    /// Accepted recipients.
    pub rcpts: Vec<String>,
    /// Exact content: un-stuffed DATA (without the final `.` line) or the BDAT chunks joined.
    /// Empty in [`ServerAction::Store`] (the content went out as [`ServerAction::Content`]),
    /// and in `ehlo serve`'s memory when it was not kept there (see `size`).
    pub content: Vec<u8>,
    /// Size of the content in octets (kept when the content itself is not).
    pub(crate) size: usize,
    /// Received over TLS?
    pub(crate) tls: bool,
    /// Authenticated user, if any.
    pub(crate) auth_user: Option<String>,
    /// EHLO/HELO/LHLO argument.
    pub(crate) helo: Option<String>,
    /// Did the content contain a bare CR or LF? In DATA content that is SMTP smuggling
    /// evidence (a warning); BDAT content may hold them.
    pub(crate) bare_newlines: bool,
}

/// Text of the `451 4.3.0` when the driver could not store a message.
const LOST: &str = "Error: could not store the message, try again later";

/// Text of the `452 4.3.1` when there is no room to store a message (Postfix's words).
const NO_ROOM: &str = "Insufficient system storage";

/// One accepted recipient's fate after the content (LMTP, RFC 2033 §4.2).
#[derive(Debug)]
struct RcptOutcome {
    rcpt: String,
    /// Its `lmtp-rcpt` fault, if any (then the message is not stored for it).
    fault: Option<Fault>,
    /// Its `lmtp-rcpt` delay, if any.
    delay: Option<u64>,
}

impl StoredMessage {
    /// A copy without the content (`size` still says how big it was).
    pub(crate) fn clone_metadata(&self) -> StoredMessage {
        StoredMessage {
            id: self.id.clone(),
            from: self.from.clone(),
            mail_params: self.mail_params.clone(),
            rcpts: self.rcpts.clone(),
            content: Vec::new(),
            size: self.size,
            tls: self.tls,
            auth_user: self.auth_user.clone(),
            helo: self.helo.clone(),
            bare_newlines: self.bare_newlines,
        }
    }
}

/// What the session asks its driver to do (in order with the bytes, see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServerAction {
    /// Run the server TLS handshake now (the 220 to STARTTLS has been written), then call
    /// [`Session::tls_established`] or [`Session::tls_failed`].
    StartTls,
    /// Close the connection; the session is over.
    Close,
    /// Wait this many milliseconds before the next write.
    Delay(u64),
    /// Store this message, whose content is what the [`ServerAction::Content`] pieces since the
    /// last `Store` or `Discard` carried, then call [`Session::stored`] with the outcome (the
    /// reply to the final dot waits for it).
    Store(Box<StoredMessage>),
    /// The next piece of the content of the message being received (see the module doc).
    Content(Vec<u8>),
    /// The message being received will not be stored: drop the content appended so far.
    Discard,
}

#[derive(Debug)]
enum Out {
    Bytes(Vec<u8>),
    Action(ServerAction),
}

#[derive(Debug)]
enum AuthStep {
    /// AUTH PLAIN without an initial response: waiting for it.
    Plain,
    /// AUTH LOGIN: waiting for the user name.
    LoginUser,
    /// AUTH LOGIN: waiting for the password.
    LoginPass(String),
    /// CRAM-MD5: waiting for `user hexdigest` to this challenge.
    Cram(String),
}

#[derive(Debug)]
enum Mode {
    /// Reading command lines.
    Command,
    /// Reading a SASL response line.
    Auth(AuthStep),
    /// Reading DATA content.
    Data(DataReader),
    /// Reading a BDAT chunk (RFC 3030 §2): `remaining` octets; `ok` = the transaction accepts it.
    Bdat {
        remaining: usize,
        last: bool,
        ok: bool,
    },
    /// 220 to STARTTLS written; waiting for the driver's handshake.
    WaitTls,
    /// [`ServerAction::Store`] issued; waiting for [`Session::stored`] before replying to the
    /// content (pipelined input is kept, not processed).
    WaitStore { id: String, rcpts: Vec<RcptOutcome> },
    /// A 4xx or 5xx greeting was sent: 503 to everything but QUIT (RFC 5321 §3.1).
    NoService,
    /// Over.
    Closed,
}

#[derive(Debug, Default)]
struct Transaction {
    from: String,
    params: Vec<String>,
    rcpts: Vec<String>,
    /// Content octets so far (DATA or BDAT; the content itself went out as it was read).
    bytes: usize,
    /// A bare CR or LF was seen in the BDAT content so far.
    chunk_bare: bool,
    /// The BDAT content so far ends in CR (a CRLF may straddle two chunks).
    chunk_cr: bool,
    /// BDAT was used (DATA is then out of sequence).
    bdat: bool,
    /// `BODY=BINARYMIME`: the content may only come by BDAT (RFC 3030 §3).
    binary: bool,
    /// BDAT content went over the size limit.
    too_big: bool,
    /// The content so far has an octet above 127.
    eight_bit: bool,
}

/// The server state machine (one per connection).
#[derive(Debug)]
pub(crate) struct Session {
    cfg: ServerConfig,
    mode: Mode,
    inbuf: Vec<u8>,
    /// Discarding the rest of an over-long line (already answered) until its LF; holds the
    /// length seen so far.
    overlong: Option<usize>,
    out: VecDeque<Out>,
    events: VecDeque<Event>,
    /// Events handed out by [`Session::poll_event`] so far.
    events_polled: u64,
    /// For each [`ServerAction::Delay`] in `out`, in order: how many events had been queued
    /// (polled or not) when it was: the events of what came before the delay.
    delay_marks: VecDeque<u64>,
    /// A delay handed out and not yet over (its bytes not yet taken): events past this count
    /// wait, so that the reply it delays is reported when it is written, not before the wait.
    event_barrier: Option<u64>,
    tls: bool,
    helo: Option<String>,
    esmtp: bool,
    auth_user: Option<String>,
    tx: Option<Transaction>,
    counts: [u32; Point::COUNT],
    rng: Rng,
    /// Delay to put before the next reply.
    pending_delay: Option<u64>,
    /// Phase of the command being answered.
    phase: Phase,
    bare_lf_seen: bool,
    /// The line being handled ended in a bare LF: [`Deviation::BareLfCommand`] to record.
    bare_lf_pending: bool,
    greeted: bool,
    /// Failed AUTH attempts so far.
    auth_failures: u32,
    /// Errors ([`ServerConfig::hard_error_limit`]) and junk commands since the session began or
    /// a message was last delivered.
    errors: u32,
    junk: u32,
    /// The driver's server is busy (every connection slot in use): both limits are 1, as in
    /// Postfix's stress mode.
    busy: bool,
    /// Closed for too many errors: the count and the limit it reached, and whether the server
    /// was busy then ([`Session::closed_for_errors`]).
    error_close: Option<ErrorClose>,
    /// The last error counted was a junk command past its limit.
    last_error_junk: bool,
    /// Complete command lines and message contents read so far (the driver's idle timeout
    /// restarts when this moves).
    units_read: u64,
    /// The client spoke before the greeting ([`Session::early_input`]).
    early_talker: bool,
    /// What it said first was a PROXY protocol header of this version.
    early_proxy: Option<u8>,
    /// The first octets of the early input, as many as tell a PROXY header from other input
    /// (the v2 signature's 12): a header may come in more than one read.
    early_start: Vec<u8>,
    /// `starttls-keep` quirk: plaintext pipelined after STARTTLS, run inside TLS.
    kept_plaintext: Vec<u8>,
    /// [`ServerAction::Content`] was emitted for a message not yet stored or discarded.
    streaming: bool,
    /// The last command line was an AUTH (or a line taken for its SASL response since): a
    /// client that did not wait for a refusal (`503 already authenticated`) sends its response
    /// anyway, as a line that is no command; it is shown masked
    /// ([`crate::smtp::auth::is_sasl_token`]).
    after_auth_line: bool,
    /// Bytes the driver can still store a message in ([`Session::set_storage_room`]); `None`
    /// = not known or not limited.
    storage_room: Option<u64>,
    /// The configured users' passwords in the forms a command line may carry them (as typed,
    /// base64, inside a PLAIN blob: [`crate::smtp::auth::secret_forms`]), for the transcript:
    /// a client that sends one outside an AUTH exchange (`NOOP <password>`) has it shown
    /// masked. Empty without a transcript or users.
    secrets: Vec<Vec<u8>>,
}

/// Why a session closed at its error limit, for the driver's log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ErrorClose {
    /// Errors counted (junk commands past their limit among them).
    pub(crate) errors: u32,
    /// The error limit in force (1 while busy).
    pub(crate) limit: u32,
    /// The last error was a junk command past the junk-command limit.
    pub(crate) junk: bool,
    /// The server was busy: the limits were 1.
    pub(crate) busy: bool,
}

/// Whether the driver kept a message ([`Session::stored`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreOutcome {
    /// Kept: `250`.
    Kept,
    /// Not kept, for want of storage (a full disk, a quota, the free-space reserve):
    /// `452 4.3.1` (RFC 5321 §4.5.3.1.10, RFC 3463 §3.4 X.3.1 "mail system full").
    NoSpace,
    /// Not kept for another reason: `451 4.3.0`.
    Failed,
}

impl Session {
    /// A session with these settings. Nothing is written until [`Session::greeting`].
    pub(crate) fn new(cfg: ServerConfig) -> Session {
        let rng = Rng::new(cfg.seed);
        let tls = cfg.tls;
        let secrets = if cfg.transcript {
            cfg.users
                .iter()
                .flat_map(|(_, p)| crate::smtp::auth::secret_forms(p.expose()))
                .collect()
        } else {
            Vec::new()
        };
        Session {
            cfg,
            mode: Mode::Command,
            inbuf: Vec::new(),
            overlong: None,
            out: VecDeque::new(),
            events: VecDeque::new(),
            events_polled: 0,
            delay_marks: VecDeque::new(),
            event_barrier: None,
            tls,
            helo: None,
            esmtp: false,
            auth_user: None,
            tx: None,
            counts: [0; Point::COUNT],
            rng,
            pending_delay: None,
            phase: Phase::Banner,
            bare_lf_seen: false,
            bare_lf_pending: false,
            greeted: false,
            auth_failures: 0,
            errors: 0,
            junk: 0,
            busy: false,
            error_close: None,
            last_error_junk: false,
            units_read: 0,
            after_auth_line: false,
            early_talker: false,
            early_proxy: None,
            early_start: Vec::new(),
            kept_plaintext: Vec::new(),
            streaming: false,
            storage_room: None,
            secrets,
        }
    }

    /// How many bytes of message the driver can still store (its free disk space above the
    /// reserve it keeps), as measured just before the next [`Session::feed`]; `None` = no
    /// limit known. With `Some(0)`, or less than a `SIZE=` the client declares, MAIL is
    /// answered `452 4.3.1` (RFC 5321 §4.5.3.1.10; Postfix's `Insufficient system storage`
    /// when its queue file system is below `queue_minfree`).
    pub(crate) fn set_storage_room(&mut self, room: Option<u64>) {
        self.storage_room = room;
    }

    /// Could [`Session::feed`] of `bytes` (or, with none, the input already buffered, run after
    /// [`Session::stored`]) reach a command that reads the storage room, MAIL or DATA? The
    /// driver measures its room ([`Session::set_storage_room`]) only then, not before every
    /// read: one `statfs(2)` per such read, not one per command. An over-estimate (any `MAIL`
    /// or `DATA` in the bytes, in any case, also one split between the buffer and `bytes`),
    /// never an under-estimate.
    pub(crate) fn may_check_room(&self, bytes: &[u8]) -> bool {
        fn has(b: &[u8]) -> bool {
            b.windows(4)
                .any(|w| w.eq_ignore_ascii_case(b"MAIL") || w.eq_ignore_ascii_case(b"DATA"))
        }
        let tail = &self.inbuf[self.inbuf.len().saturating_sub(3)..];
        let head = &bytes[..bytes.len().min(3)];
        let mut seam = [0u8; 6];
        seam[..tail.len()].copy_from_slice(tail);
        seam[tail.len()..tail.len() + head.len()].copy_from_slice(head);
        has(&self.inbuf) || has(bytes) || has(&seam[..tail.len() + head.len()])
    }

    /// Bytes that arrived before [`Session::greeting`] (the driver waited `--greet-pause`
    /// before greeting): the client is an early talker, which RFC 5321 §4.3.1 lets a server
    /// refuse. The greeting becomes `554 5.5.1` and the connection closes (as Exim's
    /// synchronization check and Postfix's postscreen do); the bytes are not executed.
    ///
    /// A PROXY protocol header among them (a proxy in front of a server that expects none) is
    /// refused by name, as it is after the greeting ([`Session::proxy_refusal`]).
    ///
    /// Early input may come in several calls: while what came so far is only the start of a
    /// PROXY signature (`PRO`, a proxy that wrote its header in two pieces),
    /// [`Session::early_input_undecided`] says so and the driver may read on before greeting.
    pub(crate) fn early_input(&mut self, bytes: &[u8]) {
        if !self.greeted && !bytes.is_empty() {
            let room = proxy::V2_SIGNATURE
                .len()
                .saturating_sub(self.early_start.len());
            if room > 0 && (!self.early_talker || self.early_input_undecided()) {
                self.early_start
                    .extend_from_slice(&bytes[..bytes.len().min(room)]);
                self.early_proxy = proxy::sniff(&self.early_start).filter(|&v| v > 0);
            }
            self.early_talker = true;
        }
    }

    /// The early input so far is too short to tell a PROXY protocol header from other input
    /// (a strict prefix of `PROXY ` or of the v2 signature): more of it decides.
    pub(crate) fn early_input_undecided(&self) -> bool {
        !self.greeted && proxy::too_short_to_tell(&self.early_start)
    }

    /// Queue the greeting (RFC 5321 §4.3.1), or the `connect` fault. Call once, when the
    /// transport is ready.
    pub(crate) fn greeting(&mut self) {
        if self.greeted {
            return;
        }
        self.greeted = true;
        self.phase = Phase::Banner;
        if let Some(version) = self.early_proxy {
            self.proxy_refusal(version);
            return;
        }
        if self.early_talker {
            self.events.push_back(Event::warning(
                "the client sent commands before the greeting (early talker): refused",
            ));
            self.reply(
                554,
                Some("5.5.1"),
                &["Error: SMTP protocol synchronization (input sent before the greeting)".into()],
            );
            self.close();
            return;
        }
        let n = self.bump(Point::Connect);
        self.pending_delay = self.cfg.faults.delay(Point::Connect, n);
        if let Some(f) = self.cfg.faults.fault(Point::Connect, n).cloned() {
            match f.action {
                FaultAction::Drop => self.drop_fault(&f),
                FaultAction::Reply { code, .. } => {
                    self.fault_reply(&f);
                    // RFC 5321 §3.1: a greeting other than 220 (554, or a 4xx such as 450)
                    // refuses service; a 421 has already closed.
                    if code >= 400 && !matches!(self.mode, Mode::Closed) {
                        self.mode = Mode::NoService;
                    }
                }
            }
            return;
        }
        match self.cfg.faults.banner {
            BannerMode::Silent => {}
            BannerMode::Garbage => {
                let line = b"ehlo-serve: this banner has no reply code\r\n".to_vec();
                let reply = Reply {
                    code: None,
                    enhanced: None,
                    lines: vec!["ehlo-serve: this banner has no reply code".into()],
                    raw: Bytes(Vec::new()),
                    deviations: Vec::new(),
                };
                self.write_reply(Some(reply), line);
            }
            BannerMode::Normal => {
                let proto = if self.cfg.lmtp { "LMTP" } else { "ESMTP" };
                let text = format!("{} {proto} ehlo serve ready", self.cfg.hostname);
                self.reply(220, None, &[text]);
            }
        }
    }

    /// Bytes read from the transport, in any amount: they are taken [`FEED_PIECE`] bytes at a
    /// time, so the input buffer stays that small whatever the caller hands over.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) {
        loop {
            match self.mode {
                Mode::Closed => return,
                Mode::WaitTls if self.cfg.quirks.starttls_keep => {
                    self.kept_plaintext
                        .extend_from_slice(&bytes[..bytes.len().min(MAX_LINE * 4)]);
                    return;
                }
                Mode::WaitTls => {
                    self.injection(bytes.to_vec());
                    return;
                }
                _ => {
                    let (piece, rest) = bytes.split_at(bytes.len().min(FEED_PIECE));
                    self.inbuf.extend_from_slice(piece);
                    self.process();
                    if rest.is_empty() {
                        return;
                    }
                    bytes = rest;
                }
            }
        }
    }

    /// The client closed its side; nothing more will be read.
    pub(crate) fn peer_closed(&mut self) {
        self.mode = Mode::Closed;
        self.inbuf.clear();
        self.discard_content();
    }

    /// The client sent nothing for too long (the driver's clock): `421 4.4.2` and close
    /// (RFC 5321 §4.5.3.2.7).
    pub(crate) fn timed_out(&mut self) {
        self.close_with_421("4.4.2", "Error: timeout exceeded");
    }

    /// The server has had every connection slot in use for the driver's busy limit (Postfix's
    /// stress mode): `421 4.4.2` (RFC 5321 §4.5.3.2, RFC 3463 §3.5) naming why, and close.
    pub(crate) fn busy_timed_out(&mut self) {
        self.close_with_421(
            "4.4.2",
            "Error: timeout exceeded: the server is busy (every connection slot in use), try again later",
        );
    }

    /// The driver's server is busy (every connection slot in use) or no longer: while it is,
    /// the error and junk-command limits that are on are 1 (Postfix's stress mode,
    /// STRESS_README), checked at the next command.
    pub(crate) fn set_busy(&mut self, busy: bool) {
        self.busy = busy;
    }

    /// The session closed at its error limit: why, once.
    pub(crate) fn closed_for_errors(&mut self) -> Option<ErrorClose> {
        self.error_close.take()
    }

    /// A limit as in force now: 1 while busy, unless off (0).
    fn in_force(&self, limit: u32) -> u32 {
        if self.busy { limit.min(1) } else { limit }
    }

    /// A junk command (NOOP, RSET, VRFY, HELP): past the junk-command limit it counts as an
    /// error (Postfix's `smtpd_junk_command_limit`).
    fn junk_command(&mut self) {
        self.junk = self.junk.saturating_add(1);
        let limit = self.in_force(self.cfg.junk_command_limit);
        if limit > 0 && self.junk > limit {
            self.errors = self.errors.saturating_add(1);
            self.last_error_junk = true;
        }
    }

    /// Past the soft error limit (Postfix's `smtpd_soft_error_limit`, postconf(5): with Postfix
    /// 2.1 and later, once a client has made more errors than it without delivering mail,
    /// every reply waits `smtpd_error_sleep_time`): how long the next reply waits, in ms. The
    /// limit is not lowered while busy: Postfix's stress mode lowers the hard error and junk
    /// limits (STRESS_README), not this one, and a hard limit of 1 ends a session first.
    fn error_sleep(&self) -> Option<u64> {
        let limit = self.cfg.soft_error_limit;
        (limit > 0 && self.errors > limit && self.cfg.error_sleep_ms > 0)
            .then_some(self.cfg.error_sleep_ms)
    }

    /// At the error limit: `421 4.7.0` (RFC 5321 §3.8, §4.2.3; RFC 3463 §3.8 X.7.0, Postfix's
    /// answer to a client past `smtpd_hard_error_limit`) after the reply to the command that
    /// reached it, and close; true when it closed.
    fn enforce_error_limit(&mut self) -> bool {
        let limit = self.in_force(self.cfg.hard_error_limit);
        if limit == 0 || self.errors < limit || self.is_closed() {
            return false;
        }
        self.error_close = Some(ErrorClose {
            errors: self.errors,
            limit,
            junk: self.last_error_junk,
            busy: self.busy,
        });
        self.close_with_421("4.7.0", "Error: too many errors, closing connection");
        true
    }

    /// The server is stopping: `421 4.3.2` and close (RFC 5321 §3.8: a server that must shut
    /// down answers 421 to whatever comes next rather than just closing; RFC 3463 §3.4: 4.3.2
    /// system not accepting network messages). A message being received is discarded.
    pub(crate) fn shutting_down(&mut self) {
        self.close_with_421("4.3.2", "Service shutting down, closing connection");
    }

    /// Unless already closed: `421 <enhanced> <hostname> <why>` and close, whatever the session
    /// was doing (a message being received is discarded).
    fn close_with_421(&mut self, enhanced: &str, why: &str) {
        if !matches!(self.mode, Mode::Closed) {
            self.phase = Phase::Other;
            let text = format!("{} {why}", self.cfg.hostname);
            self.reply(421, Some(enhanced), &[text]);
            self.close();
        }
    }

    /// How many complete command lines, message contents and BDAT chunks have been read. A
    /// driver's idle timeout restarts when it moves, so a client trickling a byte now and then
    /// without ever finishing a command is still timed out (RFC 5321 §4.5.3.2.7).
    pub(crate) fn units_read(&self) -> u64 {
        self.units_read
    }

    /// Is message content (DATA or a BDAT chunk) being read, rather than a command line? The
    /// driver gives the content more time than a command (RFC 5321 §4.5.3.2 sets a server no
    /// limit there: §4.5.3.2.7's 5 minutes are for the next command).
    pub(crate) fn in_content(&self) -> bool {
        matches!(self.mode, Mode::Data(_) | Mode::Bdat { .. })
    }

    /// Has part of a message arrived (DATA content, or BDAT chunks before the `LAST` one) that a
    /// close now would drop?
    pub(crate) fn message_unfinished(&self) -> bool {
        self.in_content() || self.streaming
    }

    /// Is the session over (QUIT, a drop fault, a 421)?
    pub(crate) fn is_closed(&self) -> bool {
        matches!(self.mode, Mode::Closed)
    }

    /// Bytes to write next, if bytes (not an action) are next in the output stream.
    pub(crate) fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        match self.out.front() {
            Some(Out::Bytes(_)) => match self.out.pop_front() {
                Some(Out::Bytes(b)) => {
                    // The delay before these bytes is over.
                    self.event_barrier = None;
                    Some(b)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The next action, if an action (not bytes) is next in the output stream.
    pub(crate) fn poll_action(&mut self) -> Option<ServerAction> {
        match self.out.front() {
            Some(Out::Action(_)) => match self.out.pop_front() {
                Some(Out::Action(a)) => {
                    self.event_barrier = match a {
                        ServerAction::Delay(_) => self.delay_marks.pop_front(),
                        _ => None,
                    };
                    Some(a)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Next event, if any. While a [`ServerAction::Delay`] handed out is not over (the bytes
    /// after it not yet taken by [`Session::poll_transmit`]), only the events of what came
    /// before it: a delayed reply is reported once it is written (its time is then right, in
    /// JSON `t_ms`), and so is everything after it.
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        if self
            .event_barrier
            .is_some_and(|mark| self.events_polled >= mark)
        {
            return None;
        }
        let ev = self.events.pop_front()?;
        self.events_polled += 1;
        Some(ev)
    }

    /// The TLS handshake asked for by [`ServerAction::StartTls`] succeeded. Per RFC 3207 §4.2 the
    /// server forgets everything learnt before TLS (the EHLO argument, AUTH, the transaction).
    pub(crate) fn tls_established(&mut self) {
        if matches!(self.mode, Mode::WaitTls) {
            self.tls = true;
            self.helo = None;
            self.esmtp = false;
            self.auth_user = None;
            self.end_transaction();
            self.inbuf.clear();
            self.mode = Mode::Command;
            if !self.kept_plaintext.is_empty() {
                // `starttls-keep` quirk: the plaintext runs as if it had come over TLS.
                self.inbuf = std::mem::take(&mut self.kept_plaintext);
                self.process();
            }
        }
    }

    /// The driver's outcome for the last [`ServerAction::Store`]: kept, reply `250`; not kept,
    /// reply `452 4.3.1` for want of storage, else `451 4.3.0` (RFC 3463 §3.4: other mail
    /// system problem; RFC 5321 §4.2.5: the client must not consider the message delivered).
    /// LMTP answers per recipient. Pipelined commands that arrived meanwhile are processed
    /// afterwards.
    pub(crate) fn stored(&mut self, outcome: StoreOutcome) {
        let Mode::WaitStore { id, rcpts } = std::mem::replace(&mut self.mode, Mode::Command) else {
            return;
        };
        self.phase = Phase::Dot;
        if outcome == StoreOutcome::Kept {
            // Postfix's error and junk-command counts are of a client "without delivering
            // mail" (postconf(5)): a message kept starts them again.
            self.errors = 0;
            self.junk = 0;
        }
        if self.cfg.lmtp && !rcpts.is_empty() {
            self.lmtp_replies(&rcpts, &id, outcome);
        } else {
            match outcome {
                StoreOutcome::Kept => {
                    self.reply(250, Some("2.0.0"), &[format!("Ok: queued as {id}")]);
                }
                StoreOutcome::NoSpace => self.reply(452, Some("4.3.1"), &[NO_ROOM.into()]),
                StoreOutcome::Failed => self.reply(451, Some("4.3.0"), &[LOST.into()]),
            }
        }
        self.process();
    }

    /// RFC 2033 §4.2: one reply per accepted recipient after the content, in RCPT order: its
    /// `lmtp-rcpt` fault if it has one, else `250` (or `452 4.3.1` / `451 4.3.0` when the
    /// store failed).
    fn lmtp_replies(&mut self, rcpts: &[RcptOutcome], id: &str, outcome: StoreOutcome) {
        for o in rcpts {
            if let Some(ms) = o.delay {
                self.pending_delay = Some(ms);
            }
            match &o.fault {
                Some(f) => match &f.action {
                    FaultAction::Drop => self.drop_fault(f),
                    FaultAction::Reply {
                        code,
                        enhanced,
                        text,
                    } => {
                        let enh = enhanced
                            .map(|e| e.to_string())
                            .unwrap_or_else(|| format!("{}.0.0", code / 100));
                        let text = text.clone().unwrap_or_else(|| {
                            format!("<{}> Fault injected by ehlo serve ({})", o.rcpt, f.origin)
                        });
                        self.reply(*code, Some(&enh), &[text]);
                    }
                },
                None => match outcome {
                    StoreOutcome::Kept => self.reply(
                        250,
                        Some("2.0.0"),
                        &[format!("<{}> Ok: delivered as {id}", o.rcpt)],
                    ),
                    StoreOutcome::NoSpace => {
                        self.reply(452, Some("4.3.1"), &[format!("<{}> {NO_ROOM}", o.rcpt)]);
                    }
                    StoreOutcome::Failed => {
                        self.reply(451, Some("4.3.0"), &[format!("<{}> {LOST}", o.rcpt)]);
                    }
                },
            }
            if matches!(self.mode, Mode::Closed) {
                return;
            }
        }
    }

    /// The TLS handshake failed: the session is over.
    pub(crate) fn tls_failed(&mut self) {
        self.close();
    }

    /// Is the session in TLS?
    #[cfg(test)]
    pub(crate) fn is_tls(&self) -> bool {
        self.tls
    }

    // ---- input processing -------------------------------------------------------------------

    fn process(&mut self) {
        loop {
            match &mut self.mode {
                Mode::Closed => {
                    self.inbuf.clear();
                    return;
                }
                Mode::WaitStore { .. } => return,
                Mode::WaitTls => {
                    let rest = std::mem::take(&mut self.inbuf);
                    if !rest.is_empty() {
                        self.injection(rest);
                    }
                    return;
                }
                Mode::Data(reader) => {
                    if self.inbuf.is_empty() {
                        return;
                    }
                    let input = std::mem::take(&mut self.inbuf);
                    match reader.feed(&input) {
                        DataProgress::More => {
                            let piece = reader.take();
                            self.content(piece);
                            return;
                        }
                        DataProgress::Done {
                            message,
                            rest,
                            bare_newlines,
                            too_big,
                        } => {
                            self.inbuf = rest;
                            self.mode = Mode::Command;
                            self.content(message);
                            self.end_of_content(bare_newlines, too_big);
                        }
                    }
                }
                Mode::Bdat {
                    remaining,
                    last,
                    ok,
                } => {
                    let take = (*remaining).min(self.inbuf.len());
                    let (last, ok) = (*last, *ok);
                    *remaining -= take;
                    let done = *remaining == 0;
                    if ok && let Some(tx) = self.tx.as_mut() {
                        let room = self.cfg.size_limit().saturating_sub(tx.bytes);
                        if take > room {
                            tx.too_big = true;
                        }
                        let piece = &self.inbuf[..take.min(room)];
                        for &b in piece {
                            if (b == b'\n') != tx.chunk_cr {
                                // LF without a CR before it, or a CR without an LF after it.
                                tx.chunk_bare = true;
                            }
                            tx.chunk_cr = b == b'\r';
                        }
                        let piece = piece.to_vec();
                        self.content(piece);
                    }
                    self.inbuf.drain(..take);
                    if !done {
                        return;
                    }
                    self.mode = Mode::Command;
                    self.end_of_chunk(last, ok);
                }
                Mode::Command | Mode::Auth(_) | Mode::NoService => {
                    if self.units_read == 0 && !self.inbuf.is_empty() {
                        // A PROXY v2 header first (v1 is a line: see `line`), or the start of
                        // its signature: a line of its own until the 12 octets tell.
                        match proxy::sniff(&self.inbuf) {
                            Some(2) => {
                                self.phase = Phase::Other;
                                self.proxy_refusal(2);
                                continue;
                            }
                            Some(0) => return,
                            _ => {}
                        }
                    }
                    let Some(line) = self.next_line() else {
                        // An over-long line is answered here.
                        self.enforce_error_limit();
                        return;
                    };
                    if self.unsynchronized(&line) {
                        // Exim's `smtp_enforce_sync`: with PIPELINING not advertised
                        // (RFC 2920 §3.1), a client that sent its next command before this
                        // reply is not waiting for replies; refuse and close.
                        self.reply(554, Some("5.5.0"), &["SMTP synchronization error".into()]);
                        self.close();
                        return;
                    }
                    self.line(&line);
                    self.enforce_error_limit();
                }
            }
        }
    }

    /// Take the next complete line from `inbuf` (without its line ending), handling over-long
    /// lines. `None` when more input is needed.
    ///
    /// A line that passes the limit is answered as soon as it does (`500 5.5.2 Line too long`,
    /// in an AUTH exchange `500 5.5.6`), not when its LF comes: a client sending megabytes
    /// without a line end learns at once why nothing else will be answered. Its reply is the
    /// line's one reply; the rest of it, up to the LF, is discarded unanswered (so the replies
    /// stay in step with the lines) and the session goes on, as Postfix's does after a line
    /// longer than its `line_length_limit`.
    fn next_line(&mut self) -> Option<Vec<u8>> {
        loop {
            let lf = memchr::memchr(b'\n', &self.inbuf);
            if let Some(seen) = self.overlong {
                match lf {
                    None => {
                        self.overlong = Some(seen + self.inbuf.len());
                        self.inbuf.clear();
                        return None;
                    }
                    Some(i) => {
                        self.inbuf.drain(..=i);
                        self.overlong = None;
                        continue;
                    }
                }
            }
            // Read again each time: a line that fails an AUTH exchange ends it.
            let in_auth = matches!(self.mode, Mode::Auth(_));
            let limit = if in_auth { MAX_SASL_LINE } else { MAX_LINE };
            match lf {
                Some(i) if i < limit => {
                    let mut line: Vec<u8> = self.inbuf.drain(..=i).collect();
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    } else if !self.bare_lf_seen {
                        // Recorded once per session (enough to show the client does it), by
                        // `line` once the command and so its phase are known.
                        self.bare_lf_seen = true;
                        self.bare_lf_pending = true;
                    }
                    return Some(line);
                }
                Some(i) => {
                    // The LF is beyond the limit: the whole line is here, refused at once.
                    self.inbuf.drain(..=i);
                    self.refuse_overlong(i + 1, limit, in_auth);
                }
                None if self.inbuf.len() >= limit => {
                    // No LF yet and already too long: refused now, the rest discarded as it
                    // comes (`overlong`).
                    let seen = self.inbuf.len();
                    self.inbuf.clear();
                    // At least one more octet: its LF.
                    self.refuse_overlong(seen + 1, limit, in_auth);
                    self.overlong = Some(seen);
                }
                None => return None,
            }
            if matches!(self.mode, Mode::Closed) {
                return None;
            }
        }
    }

    /// Answer a line of at least `len` octets over `limit`: its deviation (the length seen when
    /// it passed the limit: the rest may not have come yet) and its one reply.
    fn refuse_overlong(&mut self, len: usize, limit: usize, in_auth: bool) {
        self.phase = if in_auth { Phase::Auth } else { Phase::Other };
        self.events.push_back(Event::Deviation {
            deviation: Deviation::OverlongLine { len, limit },
            phase: self.phase,
        });
        if in_auth {
            // RFC 4954 §4: a response longer than the authentication buffer fails the AUTH
            // command with 500, enhanced code 5.5.6.
            self.mode = Mode::Command;
            self.reply(
                500,
                Some("5.5.6"),
                &["Authentication Exchange line is too long".into()],
            );
        } else {
            self.reply(500, Some("5.5.2"), &["Line too long".into()]);
        }
    }

    fn injection(&mut self, bytes: Vec<u8>) {
        // CVE-2011-0411: plaintext pipelined after STARTTLS must not be executed inside TLS.
        // The count is of what came; what is shown is cut and masked, so its length differs.
        let len = bytes.len();
        let shown: Vec<u8> = bytes.into_iter().take(512).collect();
        // Shown with every credential smuggled in the injection masked.
        let shown = crate::smtp::auth::mask_sasl_lines(&shown, false).bytes;
        self.events.push_back(Event::Deviation {
            deviation: Deviation::StartTlsInjection {
                bytes: Bytes(shown),
                len,
            },
            phase: Phase::StartTls,
        });
    }

    fn line(&mut self, line: &[u8]) {
        self.units_read += 1;
        if let Mode::Auth(_) = self.mode {
            let Mode::Auth(step) = std::mem::replace(&mut self.mode, Mode::Command) else {
                return;
            };
            self.bare_lf_deviation(Phase::Auth);
            self.auth_line(step, line);
            return;
        }
        let parsed = Command::parse(line);
        let phase = match &parsed {
            Ok(c) => self.phase_of(c),
            Err(_) => Phase::Other,
        };
        self.phase = phase;
        self.bare_lf_deviation(phase);
        // A line after an AUTH that is no command but reads as a SASL response (the client went
        // on with its exchange after a refusal, or pipelined past its end) is a credential.
        let sasl_response = self.after_auth_line
            && !matches!(&parsed, Ok(c) if !matches!(c, Command::Unknown { .. }))
            && crate::smtp::auth::is_sasl_token(&String::from_utf8_lossy(line));
        self.after_auth_line = sasl_response || matches!(parsed, Ok(Command::Auth { .. }));
        if self.cfg.transcript {
            let (text, redacted) = if sasl_response {
                (crate::smtp::auth::MASK.to_string(), true)
            } else {
                let (text, redacted) = display_line(line, parsed.as_ref().ok());
                match crate::smtp::auth::redact(text.as_bytes(), &self.secrets) {
                    Some(masked) => (String::from_utf8_lossy(&masked).into_owned(), true),
                    None => (text, redacted),
                }
            };
            self.events.push_back(Event::ClientCommand {
                text,
                tls: self.tls,
                phase,
                redacted,
            });
        }
        if self.units_read == 1 && line.starts_with(b"PROXY ") {
            self.phase = Phase::Other;
            self.proxy_refusal(1);
            return;
        }
        if matches!(self.mode, Mode::NoService) {
            if matches!(parsed, Ok(Command::Quit)) {
                self.quit();
            } else {
                self.reply(503, Some("5.5.1"), &["Error: no SMTP service here".into()]);
            }
            return;
        }
        // RFC 5321 §2.4 has commands in US-ASCII, and RFC 6531 §3.3 lets an SMTPUTF8 session
        // carry UTF-8 in addresses and a few parameters: a byte that is not UTF-8 belongs in no
        // command line, declared SMTPUTF8 or not. Refused before anything else is checked, as
        // Postfix refuses it (`500 5.5.2 Error: bad UTF-8 syntax`, any command; Exim refuses it
        // in addresses only); the line read lossily was never what the client sent.
        if std::str::from_utf8(line).is_err() {
            self.reply(500, Some("5.5.2"), &["Error: bad UTF-8 syntax".into()]);
            return;
        }
        match parsed {
            Err(CommandError::Empty) => {
                self.reply(500, Some("5.5.2"), &["Error: bad syntax".into()]);
            }
            Err(CommandError::BareLineEnd { verb, byte }) => {
                // RFC 5321 §2.3.8: CR and LF only as the CRLF ending a line. In MAIL and RCPT it
                // is refused as the control character it is (RFC 5321 §4.1.2).
                let c = format!("\\x{byte:02X}");
                match verb.as_str() {
                    "MAIL" => self.reply(
                        501,
                        Some("5.1.7"),
                        &[format!("Bad sender address syntax (control character {c})")],
                    ),
                    "RCPT" => self.reply(
                        501,
                        Some("5.1.3"),
                        &[format!(
                            "Bad recipient address syntax (control character {c})"
                        )],
                    ),
                    _ => self.reply(
                        500,
                        Some("5.5.2"),
                        &[format!(
                            "Error: bad syntax: {}",
                            CommandError::BareLineEnd { verb, byte }
                        )],
                    ),
                }
            }
            Err(CommandError::Syntax { verb, .. } | CommandError::BadPath { verb, .. })
                if self.out_of_sequence(verb) => {}
            Err(CommandError::Syntax { verb, detail }) => {
                self.reply(
                    501,
                    Some("5.5.4"),
                    &[format!("Syntax error in {verb} parameters: {detail}")],
                );
            }
            Err(CommandError::BadPath { verb, detail }) => {
                // RFC 3463 §3.2: the address is at fault (X.1.7 bad sender's mailbox address
                // syntax, X.1.3 bad destination's), as Postfix answers an unterminated path, text
                // glued after it or `RCPT TO:<>`; a missing path stays 5.5.4 (the command's).
                let (enhanced, kind) = if verb == "MAIL" {
                    ("5.1.7", "sender")
                } else {
                    ("5.1.3", "recipient")
                };
                self.reply(
                    501,
                    Some(enhanced),
                    &[format!("Bad {kind} address syntax ({detail})")],
                );
            }
            Ok(cmd) => {
                if matches!(
                    cmd,
                    Command::Noop(_) | Command::Rset | Command::Vrfy(_) | Command::Help(_)
                ) {
                    self.junk_command();
                }
                self.command(cmd);
            }
        }
    }

    /// The client began with a PROXY protocol header (haproxy.org proxy-protocol.txt §2), as a
    /// proxy or load balancer in front of a server sends one. A server not told to expect it
    /// read it as commands: v1 `500 5.5.2 command not recognized`, v2's signature as empty
    /// lines and a `QUIT` (as Postfix and Exim do), and the client went on out of step. The
    /// rest of the connection cannot be trusted (v2's binary address block follows), so it is
    /// refused by name and closed, as Haraka answers a PROXY it does not accept (421).
    fn proxy_refusal(&mut self, version: u8) {
        self.units_read += u64::from(version == 2);
        self.events.push_back(Event::warning(format!(
            "the client began with a PROXY protocol v{version} header, as a proxy or load \
             balancer sends one: this server expects none, so the connection is closed"
        )));
        let text = format!(
            "{} Error: PROXY protocol header (v{version}) not expected here: closing",
            self.cfg.hostname
        );
        self.reply(421, Some("4.3.0"), &[text]);
        self.close();
    }

    /// A MAIL or RCPT whose arguments do not parse, answered as one that may not come now
    /// when it may not (true then): Postfix checks the order before the syntax (`RCPT TO:<a@b`
    /// with no MAIL is `503 5.5.1 Error: need MAIL command` there, not a syntax error).
    fn out_of_sequence(&mut self, verb: &str) -> bool {
        match verb {
            "MAIL" => self.mail_out_of_sequence(),
            "RCPT" if self.tx.is_none() => {
                self.reply(503, Some("5.5.1"), &["Error: need MAIL command".into()]);
                true
            }
            _ => false,
        }
    }

    /// Why an envelope address may not be taken as it is: a non-ASCII address in a transaction
    /// that did not declare SMTPUTF8 (a line that is not UTF-8 never gets here). RFC 6531 §3.3 extends the Mailbox syntax to UTF-8 for SMTPUTF8 transactions only, and
    /// registers X.6.7, "Non-ASCII addresses not permitted for that sender/recipient"; the
    /// reply is Postfix's.
    fn address_refusal(&self, addr: &str, smtputf8: bool) -> Option<(u16, &'static str, String)> {
        if !addr.is_ascii() && !smtputf8 {
            return Some((
                553,
                "5.6.7",
                "Must declare SMTPUTF8 to send unicode address".to_string(),
            ));
        }
        None
    }

    /// Record a pending bare-LF line end, in the phase of the command it ended.
    fn bare_lf_deviation(&mut self, phase: Phase) {
        if std::mem::take(&mut self.bare_lf_pending) {
            self.events.push_back(Event::Deviation {
                deviation: Deviation::BareLfCommand,
                phase,
            });
        }
    }

    fn phase_of(&self, c: &Command) -> Phase {
        match c {
            Command::Ehlo(_) | Command::Helo(_) | Command::Lhlo(_) => {
                if self.tls && self.cfg.starttls && !self.cfg.tls {
                    Phase::HeloAfterTls
                } else {
                    Phase::Helo
                }
            }
            Command::StartTls => Phase::StartTls,
            Command::Auth { .. } => Phase::Auth,
            Command::Mail { .. } => Phase::Mail,
            Command::Rcpt { .. } => Phase::Rcpt,
            Command::Data | Command::Bdat { .. } => Phase::Data,
            Command::Quit => Phase::Quit,
            _ => Phase::Other,
        }
    }

    /// Count one occurrence of `point`, arm its delay, and return its fault, if any. A drop
    /// fault closes here; a reply fault is written by the caller via [`Session::fault_reply`].
    fn checkpoint(&mut self, point: Point) -> Option<Fault> {
        let n = self.bump(point);
        if let Some(ms) = self.cfg.faults.delay(point, n) {
            self.pending_delay = Some(ms);
        }
        self.cfg.faults.fault(point, n).cloned()
    }

    fn bump(&mut self, point: Point) -> u32 {
        let c = &mut self.counts[point.index()];
        *c = c.saturating_add(1);
        *c
    }

    /// A `drop` fault fires: say so (the transcript showed only the close, which reads as the
    /// client's), and which message it cost, then close without a reply.
    fn drop_fault(&mut self, f: &Fault) {
        // After the content (dot) or a BDAT chunk (read before its reply, RFC 3030 §2: the
        // message so far is discarded); LMTP's per-recipient replies come after the message was
        // stored.
        let lost = if matches!(f.point, Point::Dot | Point::Bdat) || self.streaming {
            ": the message received is not stored"
        } else {
            ""
        };
        // Info, not a warning: it is what was asked for (and `--quiet` keeps to stored messages).
        self.events.push_back(Event::info(format!(
            "fault injected ({}): closing the connection without a reply{lost}",
            f.origin
        )));
        self.close();
    }

    /// Apply a fault: reply with its code (closing after a 421) or drop.
    fn fault_reply(&mut self, f: &Fault) {
        match &f.action {
            FaultAction::Drop => self.drop_fault(f),
            FaultAction::Reply {
                code,
                enhanced,
                text,
            } => {
                // ENHANCEDSTATUSCODES is advertised, so every reply after EHLO carries one
                // (RFC 2034 §3): without an X.Y.Z the class's "other undefined status" X.0.0.
                // The greeting and the EHLO reply carry none.
                let enh = enhanced.map(|e| e.to_string()).or_else(|| {
                    (!matches!(f.point, Point::Connect | Point::Helo))
                        .then(|| format!("{}.0.0", code / 100))
                });
                let text = text
                    .clone()
                    .unwrap_or_else(|| format!("Fault injected by ehlo serve ({})", f.origin));
                self.reply_text(*code, enh.as_deref(), &[text], true);
            }
        }
    }

    /// Run `point`'s checkpoint; true when a fault answered instead (the caller stops).
    fn faulted(&mut self, point: Point) -> bool {
        match self.checkpoint(point) {
            Some(f) => {
                self.fault_reply(&f);
                true
            }
            None => false,
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Ehlo(arg) => self.hello(arg, HelloKind::Ehlo),
            Command::Helo(arg) => self.hello(arg, HelloKind::Helo),
            Command::Lhlo(arg) => self.hello(arg, HelloKind::Lhlo),
            Command::StartTls => self.starttls(),
            Command::Auth { mechanism, initial } => self.auth(&mechanism, initial.as_deref()),
            Command::Mail { from, params } => self.mail(from, params),
            Command::Rcpt { to, params } => self.rcpt(to, params),
            Command::Data => self.data(),
            Command::Bdat { size, last } => self.bdat(size, last),
            Command::Rset => {
                if !self.faulted(Point::Rset) {
                    self.end_transaction();
                    self.reply(250, Some("2.0.0"), &["Ok".into()]);
                }
            }
            Command::Noop(_) => {
                if !self.faulted(Point::Noop) {
                    self.reply(250, Some("2.0.0"), &["Ok".into()]);
                }
            }
            Command::Vrfy(arg) | Command::Expn(arg) if self.cfg.quirks.disclose_users => {
                self.disclose(&arg);
            }
            Command::Vrfy(_) => {
                if !self.faulted(Point::Vrfy) {
                    self.reply(
                        252,
                        Some("2.5.0"),
                        &["Cannot VRFY user, but will accept message and attempt delivery".into()],
                    );
                }
            }
            Command::Expn(_) => {
                self.reply(502, Some("5.5.1"), &["EXPN not available".into()]);
            }
            Command::Help(_) => {
                // The commands this session would carry out now: STARTTLS, AUTH and BDAT only
                // where they are offered (otherwise they get 502, or 521 for a hidden CHUNKING).
                let verbs = if self.cfg.lmtp { "LHLO" } else { "EHLO HELO" };
                let starttls = if self.starttls_offered() {
                    " STARTTLS"
                } else {
                    ""
                };
                let auth = if self.auth_offered() { " AUTH" } else { "" };
                let bdat = if self.hidden("CHUNKING") { "" } else { " BDAT" };
                self.reply(
                    214,
                    Some("2.0.0"),
                    &[
                        "ehlo serve: a test SMTP server".into(),
                        format!(
                            "Commands: {verbs}{starttls}{auth} MAIL RCPT DATA{bdat} RSET NOOP VRFY HELP QUIT"
                        ),
                    ],
                );
            }
            Command::Quit => {
                if !self.faulted(Point::Quit) {
                    self.quit();
                }
            }
            Command::Unknown { .. } => {
                // RFC 3463 §3.6: X.5.2 is a command that "could not be interpreted, either
                // because the syntax was wrong or the command is unrecognized" (Postfix's code
                // here); X.5.1 is one known but out of sequence or unsupported.
                self.reply(
                    500,
                    Some("5.5.2"),
                    &["Error: command not recognized".into()],
                );
            }
        }
    }

    /// `disclose-users` quirk: VRFY/EXPN tell a known user from an unknown one.
    fn disclose(&mut self, arg: &str) {
        let users = self.cfg.users.iter().map(|(u, _)| u.as_str());
        match quirk::known_user(arg, users) {
            Some(u) => {
                // A user configured with a domain (`--user me@example.com:pw`) is a mailbox
                // already; a bare local part is one at this server.
                let text = if u.contains('@') {
                    format!("<{u}>")
                } else {
                    format!("<{u}@{}>", self.cfg.hostname)
                };
                self.reply(250, Some("2.1.5"), &[text]);
            }
            None => self.reply(550, Some("5.1.1"), &["User unknown".into()]),
        }
    }

    fn quit(&mut self) {
        self.phase = Phase::Quit;
        self.reply(221, Some("2.0.0"), &["Bye".into()]);
        self.close();
    }

    /// A command line followed by more input while PIPELINING is hidden (`--hide PIPELINING`):
    /// the client pipelined without the extension. BDAT is exempt (its chunk follows the
    /// command by design, RFC 3030 §2), and so is the `answer-unsynced` quirk.
    fn unsynchronized(&self, line: &[u8]) -> bool {
        matches!(self.mode, Mode::Command)
            && !self.inbuf.is_empty()
            && self.hidden("PIPELINING")
            && !self.cfg.quirks.answer_unsynced
            && !line
                .get(..4)
                .is_some_and(|verb| verb.eq_ignore_ascii_case(b"BDAT"))
    }

    fn hidden(&self, ext: &str) -> bool {
        self.cfg.faults.hides(ext)
    }

    /// Was `ext` advertised in this session's EHLO/LHLO reply? (HELO advertises nothing.)
    fn advertised(&self, ext: &str) -> bool {
        self.esmtp && !self.hidden(ext)
    }

    /// Whether a MAIL parameter belongs to an extension advertised here (RFC 5321 §4.1.1.11: a
    /// parameter the server does not recognize or implement gets 555): SIZE (RFC 1870),
    /// SMTPUTF8 (RFC 6531), RET/ENVID (DSN, RFC 3461), AUTH (RFC 4954 §5). BODY is checked by
    /// its value ([`Session::body_refusal`]).
    fn mail_param_offered(&self, key: &str) -> bool {
        match key {
            "SIZE" | "SMTPUTF8" => self.advertised(key),
            "RET" | "ENVID" => self.advertised("DSN"),
            "AUTH" => self.esmtp && self.auth_offered() && !self.auth_needs_tls(),
            "BODY" => true,
            _ => false,
        }
    }

    /// `BODY=` (RFC 6152 §2): `7BIT` and `8BITMIME` need 8BITMIME advertised, `BINARYMIME`
    /// needs CHUNKING (RFC 3030 §3: it is sent with BDAT only); anything else is no BODY value.
    /// The replies quote `value` and `param` (the whole `BODY=…`) as the client sent them.
    fn body_refusal(&self, value: &str, param: &str) -> Option<(u16, &'static str, String)> {
        let v = value.to_ascii_uppercase();
        let offered = match v.as_str() {
            "7BIT" | "8BITMIME" => self.advertised("8BITMIME"),
            "BINARYMIME" => self.advertised("CHUNKING"),
            _ => {
                return Some((
                    501,
                    "5.5.4",
                    format!("Bad BODY value: {value} (7BIT, 8BITMIME or BINARYMIME)"),
                ));
            }
        };
        (!offered).then(|| (555, "5.5.4", unsupported(param)))
    }

    fn auth_offered(&self) -> bool {
        self.cfg.offers_auth()
    }

    /// RFC 4954 §4 advises against plaintext AUTH where TLS is available, and RFC 3207 §4 lets a
    /// server insist on STARTTLS first: while STARTTLS is offered and not done, AUTH is neither
    /// advertised nor accepted, unless `auth_before_tls` (for testing clients).
    fn auth_needs_tls(&self) -> bool {
        self.starttls_offered() && !self.cfg.auth_before_tls
    }

    fn starttls_offered(&self) -> bool {
        !self.tls && self.cfg.offers_starttls()
    }

    fn hello(&mut self, arg: String, kind: HelloKind) {
        let wrong = match kind {
            HelloKind::Lhlo => !self.cfg.lmtp,
            HelloKind::Ehlo | HelloKind::Helo => self.cfg.lmtp,
        };
        if wrong {
            // An SMTP server does not know LHLO (unrecognized: X.5.2, as any unknown verb); an
            // LMTP server knows EHLO/HELO but does not support them (X.5.1), RFC 3463 §3.6.
            let (enhanced, text) = if self.cfg.lmtp {
                ("5.5.1", "Error: this is an LMTP server, use LHLO")
            } else {
                ("5.5.2", "Error: command not recognized")
            };
            self.reply(500, Some(enhanced), &[text.into()]);
            return;
        }
        if kind == HelloKind::Ehlo && self.hidden("ESMTP") {
            self.reply(
                502,
                Some("5.5.1"),
                &["Error: command not implemented".into()],
            );
            return;
        }
        if self.faulted(Point::Helo) {
            return;
        }
        // RFC 5321 §4.1.4: a new EHLO/HELO resets any transaction.
        self.end_transaction();
        self.helo = Some(arg.clone());
        self.esmtp = kind != HelloKind::Helo;
        if kind == HelloKind::Helo {
            let host = self.cfg.hostname.clone();
            self.reply(250, None, &[host]);
            return;
        }
        let auth_now = self.auth_offered() && !self.auth_needs_tls();
        let mut lines = vec![format!("{} Hello {arg}", self.cfg.hostname)];
        let mut ext = |name: &str, line: String| {
            if !self.cfg.faults.hides(name) {
                lines.push(line);
            }
        };
        ext("PIPELINING", "PIPELINING".into());
        ext(
            "SIZE",
            match self.cfg.max_size {
                0 => "SIZE".into(),
                n => format!("SIZE {n}"),
            },
        );
        if self.cfg.starttls && !self.tls {
            ext("STARTTLS", "STARTTLS".into());
        }
        if auth_now {
            ext("AUTH", "AUTH PLAIN LOGIN CRAM-MD5".into());
        }
        ext("ENHANCEDSTATUSCODES", "ENHANCEDSTATUSCODES".into());
        ext("8BITMIME", "8BITMIME".into());
        ext("DSN", "DSN".into());
        ext("SMTPUTF8", "SMTPUTF8".into());
        ext("CHUNKING", "CHUNKING".into());
        // RFC 2034 §3: the EHLO reply carries no enhanced codes.
        self.reply(250, None, &lines);
    }

    fn starttls(&mut self) {
        if self.tls && self.cfg.starttls {
            self.reply(503, Some("5.5.1"), &["Error: TLS already active".into()]);
            return;
        }
        if !self.starttls_offered() {
            self.reply(
                502,
                Some("5.5.1"),
                &["Error: command not implemented".into()],
            );
            return;
        }
        if self.faulted(Point::StartTls) {
            return;
        }
        self.reply(220, Some("2.0.0"), &["Ready to start TLS".into()]);
        if matches!(self.mode, Mode::Closed) {
            return;
        }
        self.push_action(ServerAction::StartTls);
        self.mode = Mode::WaitTls;
        // Anything the client pipelined after STARTTLS is still plaintext: discard it (unless
        // the `starttls-keep` quirk emulates CVE-2011-0411).
        let rest = std::mem::take(&mut self.inbuf);
        if self.cfg.quirks.starttls_keep {
            self.kept_plaintext = rest;
        } else if !rest.is_empty() {
            self.injection(rest);
        }
    }

    // ---- AUTH (RFC 4954) ----------------------------------------------------------------------

    fn auth(&mut self, mechanism: &str, initial: Option<&str>) {
        if !self.auth_offered() {
            self.reply(
                502,
                Some("5.5.1"),
                &["Error: authentication not enabled".into()],
            );
            return;
        }
        if self.auth_needs_tls() {
            self.reply(
                530,
                Some("5.7.0"),
                &["Must issue a STARTTLS command first".into()],
            );
            return;
        }
        if !self.esmtp {
            self.reply(503, Some("5.5.1"), &["Error: send EHLO first".into()]);
            return;
        }
        if self.auth_user.is_some() {
            self.reply(503, Some("5.5.1"), &["Error: already authenticated".into()]);
            return;
        }
        if self.tx.is_some() {
            self.reply(
                503,
                Some("5.5.1"),
                &["Error: MAIL transaction in progress".into()],
            );
            return;
        }
        match mechanism.to_ascii_uppercase().as_str() {
            "PLAIN" => match initial {
                None => {
                    self.reply(334, None, &[String::new()]);
                    self.mode = Mode::Auth(AuthStep::Plain);
                }
                Some(b64) => self.auth_plain(b64.as_bytes()),
            },
            "LOGIN" => match initial {
                None => {
                    self.reply(334, None, &[B64.encode("Username:")]);
                    self.mode = Mode::Auth(AuthStep::LoginUser);
                }
                Some(b64) => match decode_sasl(b64.as_bytes()) {
                    Some(user) => self.login_user(user),
                    None => self.bad_base64(),
                },
            },
            "CRAM-MD5" => {
                if initial.is_some() {
                    self.reply(
                        501,
                        Some("5.5.2"),
                        &["CRAM-MD5 takes no initial response".into()],
                    );
                    return;
                }
                // RFC 2195 §2: a challenge in msg-id form; deterministic from the seed.
                let challenge = format!(
                    "<{}.{}@{}>",
                    self.rng.next() % 100_000,
                    self.rng.next() % 10_000_000_000,
                    self.cfg.hostname
                );
                self.reply(334, None, &[B64.encode(&challenge)]);
                self.mode = Mode::Auth(AuthStep::Cram(challenge));
            }
            _ => {
                self.reply(
                    504,
                    Some("5.5.4"),
                    &["Unrecognized authentication type".into()],
                );
            }
        }
    }

    fn auth_line(&mut self, step: AuthStep, line: &[u8]) {
        self.phase = Phase::Auth;
        let show_clear = matches!(step, AuthStep::LoginUser) || line == b"*";
        let text = if show_clear {
            crate::smtp::reply::text_of(line).into_owned()
        } else {
            crate::smtp::auth::mask(&String::from_utf8_lossy(line))
        };
        let redacted = !show_clear && text.as_bytes() != line;
        if self.cfg.transcript {
            self.events.push_back(Event::ClientCommand {
                text,
                tls: self.tls,
                phase: Phase::Auth,
                redacted,
            });
        }
        if line == b"*" {
            self.reply(501, Some("5.0.0"), &["Authentication cancelled".into()]);
            return;
        }
        match step {
            AuthStep::Plain => self.auth_plain(line),
            AuthStep::LoginUser => match decode_sasl(line) {
                Some(user) => self.login_user(user),
                None => self.bad_base64(),
            },
            AuthStep::LoginPass(user) => match decode_sasl(line) {
                Some(pass) => {
                    let ok = self.check_password(&user, &pass);
                    self.verdict(ok, user);
                }
                None => self.bad_base64(),
            },
            AuthStep::Cram(challenge) => {
                let Some(resp) = decode_sasl(line) else {
                    self.bad_base64();
                    return;
                };
                let resp = String::from_utf8_lossy(&resp).into_owned();
                let Some((user, digest)) = resp.rsplit_once(' ') else {
                    self.reply(
                        501,
                        Some("5.5.2"),
                        &["CRAM-MD5 response must be \"user digest\"".into()],
                    );
                    return;
                };
                let ok = self.cfg.accept_any_auth
                    || self
                        .password_of(user)
                        .is_some_and(|p| cram_md5_verify(p.expose(), &challenge, digest));
                self.verdict(ok, user.to_string());
            }
        }
    }

    fn login_user(&mut self, user: Vec<u8>) {
        let user = String::from_utf8_lossy(&user).into_owned();
        self.reply(334, None, &[B64.encode("Password:")]);
        self.mode = Mode::Auth(AuthStep::LoginPass(user));
    }

    fn auth_plain(&mut self, b64: &[u8]) {
        let Some(raw) = decode_sasl(b64) else {
            self.bad_base64();
            return;
        };
        // RFC 4616 §2: [authzid] NUL authcid NUL passwd
        let mut parts = raw.split(|&b| b == 0);
        let (Some(authz), Some(user), Some(pass), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            self.reply(
                501,
                Some("5.5.2"),
                &["PLAIN response must be authzid NUL user NUL password".into()],
            );
            return;
        };
        // RFC 4616 §2: with an authzid the server must check that the user may act as it.
        // Nobody may act as anyone else here, so an authzid other than the user is refused,
        // with the password right or wrong (535 5.7.8, as Postfix with Dovecot answers): a
        // client that passed here would fail against a real server.
        if !authz.is_empty() && authz != user {
            self.refuse_auth(
                "Authentication failed: the authorization identity differs from the user",
            );
            return;
        }
        let user = String::from_utf8_lossy(user).into_owned();
        let ok = self.check_password(&user, pass);
        self.verdict(ok, user);
    }

    fn password_of(&self, user: &str) -> Option<&Secret> {
        self.cfg
            .users
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, p)| p)
    }

    fn check_password(&self, user: &str, pass: &[u8]) -> bool {
        self.cfg.accept_any_auth
            || self
                .password_of(user)
                .is_some_and(|p| p.expose().as_bytes() == pass)
    }

    fn verdict(&mut self, ok: bool, user: String) {
        if self.faulted(Point::Auth) {
            return;
        }
        if ok {
            self.auth_user = Some(user);
            self.reply(235, Some("2.7.0"), &["Authentication successful".into()]);
        } else if !self.auth_failed() {
            self.reply(
                535,
                Some("5.7.8"),
                &["Authentication credentials invalid".into()],
            );
        }
    }

    /// A failed AUTH for another reason than the credentials: `535 5.7.8 text` (after the
    /// `auth` fault, if any), counted like a wrong password.
    fn refuse_auth(&mut self, text: &str) {
        if self.faulted(Point::Auth) {
            return;
        }
        if !self.auth_failed() {
            self.reply(535, Some("5.7.8"), &[text.into()]);
        }
    }

    /// Count a failed AUTH: arm the growing delay for its reply, and at the limit answer
    /// `421 4.7.0` and close (true: the caller sends nothing more).
    fn auth_failed(&mut self) -> bool {
        self.auth_failures = self.auth_failures.saturating_add(1);
        let n = self.auth_failures;
        let delay = auth_failure_delay_ms(n);
        self.pending_delay = Some(self.pending_delay.unwrap_or(0).max(delay));
        let max = self.cfg.max_auth_failures;
        if max > 0 && n >= max {
            self.phase = Phase::Auth;
            let text = format!(
                "{} Error: too many failed authentication attempts ({n})",
                self.cfg.hostname
            );
            self.reply(421, Some("4.7.0"), &[text]);
            return true;
        }
        false
    }

    fn bad_base64(&mut self) {
        if !self.auth_failed() {
            self.reply(501, Some("5.5.2"), &["Cannot decode response".into()]);
        }
    }

    // ---- the mail transaction -----------------------------------------------------------------

    /// Answer a MAIL that may not come now (no HELO yet, a transaction open, TLS or AUTH
    /// required first); true when it was answered. Postfix's smtpd checks these before the
    /// command's syntax, so a malformed MAIL is answered by them first too.
    fn mail_out_of_sequence(&mut self) -> bool {
        if self.helo.is_none() {
            self.reply(503, Some("5.5.1"), &["Error: send HELO/EHLO first".into()]);
            return true;
        }
        if self.tx.is_some() {
            self.reply(503, Some("5.5.1"), &["Error: nested MAIL command".into()]);
            return true;
        }
        // RFC 3207 §4: a server may refuse mail until TLS; RFC 4954 §6: until AUTH.
        if self.cfg.require_tls && !self.tls {
            self.reply(
                530,
                Some("5.7.0"),
                &["Must issue a STARTTLS command first".into()],
            );
            return true;
        }
        if self.cfg.require_auth && self.auth_user.is_none() {
            self.reply(530, Some("5.7.0"), &["Authentication required".into()]);
            return true;
        }
        false
    }

    fn mail(&mut self, from: String, params: Vec<String>) {
        if self.faulted(Point::Mail) {
            return;
        }
        if let Some(c) = control_char(&from) {
            // A CR, NUL or ESC would end up raw in an mbox `From ` line, a header or a
            // terminal (RFC 5321 §4.1.2: a Mailbox has no control characters).
            self.reply(
                501,
                Some("5.1.7"),
                &[format!("Bad sender address syntax (control character {c})")],
            );
            return;
        }
        if self.mail_out_of_sequence() {
            return;
        }
        // RFC 5321 §4.1.2: what Postfix and Exim both refuse as no address (`<user@>`, …),
        // after the sequence checks and before the parameters, as Postfix checks it.
        if !from.is_empty()
            && let Some(why) = address::problem(&from)
        {
            self.reply(
                501,
                Some("5.1.7"),
                &[format!("Bad sender address syntax ({why})")],
            );
            return;
        }
        let mut binary = false;
        let mut seen: Vec<String> = Vec::new();
        let mut repeated: Vec<String> = Vec::new();
        for p in &params {
            let (key, value) = match p.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (p.as_str(), None),
            };
            let key = key.to_ascii_uppercase();
            if !self.mail_param_offered(&key) {
                self.reply(555, Some("5.5.4"), &[unsupported(p)]);
                return;
            }
            if let Some(refusal) = duplicate(&mut seen, &key) {
                // RFC 3461 §4 names RET and ENVID once (Postfix and Exim refuse a repeat); a
                // repeated SIZE, BODY or SMTPUTF8 both take, so it is taken with a warning.
                if matches!(key.as_str(), "SIZE" | "BODY" | "SMTPUTF8") {
                    if !repeated.contains(&key) {
                        repeated.push(key.clone());
                    }
                } else {
                    self.reply(501, Some("5.5.4"), &[refusal]);
                    return;
                }
            }
            let v = value.unwrap_or("");
            // `Some(reason)` when the value is malformed.
            let problem: Option<String> = match key.as_str() {
                "BODY" => {
                    if let Some((code, enh, text)) = self.body_refusal(v, p) {
                        self.reply(code, Some(enh), &[text]);
                        return;
                    }
                    binary = v.eq_ignore_ascii_case("BINARYMIME");
                    None
                }
                // RFC 1870 §3: size-value ::= 1*20DIGIT.
                "SIZE" => {
                    if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
                        self.reply(501, Some("5.5.4"), &["Bad message size syntax".into()]);
                        return;
                    }
                    // 20 digits may not fit in a u64: too big either way.
                    if v.parse::<u64>()
                        .map_or(true, |n| n > self.cfg.size_limit() as u64)
                    {
                        self.reply(
                            552,
                            Some("5.3.4"),
                            &["Message size exceeds fixed limit".into()],
                        );
                        return;
                    }
                    None
                }
                // RFC 3461 §4.3: RET=FULL or RET=HDRS.
                "RET" => (!v.eq_ignore_ascii_case("FULL") && !v.eq_ignore_ascii_case("HDRS"))
                    .then(|| "FULL or HDRS, RFC 3461 §4.3".into()),
                // RFC 3461 §4.4: ENVID=xtext, 1 to 100 characters, printable US-ASCII once
                // decoded.
                "ENVID" => {
                    if v.len() > crate::smtp::ext::ENVID_MAX {
                        Some(format!(
                            "{} characters, more than {}, RFC 3461 §4.4",
                            v.len(),
                            crate::smtp::ext::ENVID_MAX
                        ))
                    } else {
                        crate::smtp::ext::dsn_xtext_problem(v).map(String::from)
                    }
                }
                // RFC 6531 §3.4: SMTPUTF8 takes no value.
                "SMTPUTF8" => value
                    .is_some()
                    .then(|| "it takes no value, RFC 6531 §3.4".into()),
                // RFC 4954 §5: AUTH=xtext or AUTH=<>.
                "AUTH" => (v != "<>" && (v.is_empty() || !crate::smtp::ext::is_xtext(v)))
                    .then(|| "xtext or <>, RFC 4954 §5".into()),
                _ => None,
            };
            if let Some(why) = problem {
                self.reply(
                    501,
                    Some("5.5.4"),
                    &[format!("Bad {key} parameter syntax ({why})")],
                );
                return;
            }
        }
        if let Some((code, enhanced, text)) =
            self.address_refusal(&from, seen.iter().any(|k| k == "SMTPUTF8"))
        {
            self.reply(code, Some(enhanced), &[text]);
            return;
        }
        // Room to store the message: none, or less than the size declared (RFC 1870 §6.2:
        // `452` for a size the server cannot take now but may later), as Postfix's smtpd
        // checks its queue file system at MAIL.
        if let Some(room) = self.storage_room {
            let declared = params.iter().find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.eq_ignore_ascii_case("SIZE")
                    .then(|| v.parse::<u64>().ok())?
            });
            if room == 0 || declared.is_some_and(|n| n > room) {
                self.events.push_back(Event::warning(match declared {
                    Some(n) if room > 0 => format!(
                        "MAIL refused: SIZE={n} is more than the {room} bytes of storage left"
                    ),
                    _ => "MAIL refused: no storage left for a message".to_string(),
                }));
                self.reply(452, Some("4.3.1"), &[NO_ROOM.into()]);
                return;
            }
        }
        if !repeated.is_empty() {
            self.events.push_back(Event::warning(format!(
                "MAIL repeats {}: taken, as Postfix and Exim take it, but a client should send each parameter once",
                repeated.join(", ")
            )));
        }
        self.tx = Some(Transaction {
            from,
            params,
            binary,
            ..Transaction::default()
        });
        self.reply(250, Some("2.1.0"), &["Ok".into()]);
    }

    fn rcpt(&mut self, to: String, params: Vec<String>) {
        if self.faulted(Point::Rcpt) {
            return;
        }
        let Some(tx) = self.tx.as_ref() else {
            self.reply(503, Some("5.5.1"), &["Error: need MAIL command".into()]);
            return;
        };
        if let Some(c) = control_char(&to) {
            self.reply(
                501,
                Some("5.1.3"),
                &[format!(
                    "Bad recipient address syntax (control character {c})"
                )],
            );
            return;
        }
        if let Some(why) = address::problem(&to) {
            self.reply(
                501,
                Some("5.1.3"),
                &[format!("Bad recipient address syntax ({why})")],
            );
            return;
        }
        let smtputf8 = tx.params.iter().any(|p| {
            p.split_once('=')
                .map_or(p.as_str(), |(k, _)| k)
                .eq_ignore_ascii_case("SMTPUTF8")
        });
        if let Some((code, enhanced, text)) = self.address_refusal(&to, smtputf8) {
            self.reply(code, Some(enhanced), &[text]);
            return;
        }
        if tx.rcpts.len() >= MAX_RCPTS {
            self.reply(452, Some("4.5.3"), &["Error: too many recipients".into()]);
            return;
        }
        let mut seen: Vec<String> = Vec::new();
        for p in &params {
            let (key, value) = match p.split_once('=') {
                Some((k, v)) => (k.to_ascii_uppercase(), Some(v)),
                None => (p.to_ascii_uppercase(), None),
            };
            // NOTIFY and ORCPT are DSN's (RFC 3461 §4), valid only when it is advertised.
            let dsn = key == "NOTIFY" || key == "ORCPT";
            if !dsn || !self.advertised("DSN") {
                self.reply(555, Some("5.5.4"), &[unsupported(p)]);
                return;
            }
            if let Some(refusal) = duplicate(&mut seen, &key) {
                self.reply(501, Some("5.5.4"), &[refusal]);
                return;
            }
            let problem: Option<String> = match (key.as_str(), value) {
                // RFC 3461 §4.1: NEVER, or a list of SUCCESS, FAILURE, DELAY.
                ("NOTIFY", Some(v)) => crate::smtp::ext::parse_notify(v).err().map(|_| {
                    "NEVER, or a list of SUCCESS, FAILURE, DELAY each at most once, RFC 3461 §4.1"
                        .into()
                }),
                ("NOTIFY", None) => Some("a value is needed, RFC 3461 §4.1".into()),
                // RFC 3461 §4.2: addr-type ";" xtext, addr-type an atom, at most 500 characters.
                ("ORCPT", Some(v)) => orcpt_problem(v),
                _ => Some("a value is needed, RFC 3461 §4.2".into()),
            };
            if let Some(why) = problem {
                self.reply(
                    501,
                    Some("5.5.4"),
                    &[format!("Bad {key} parameter syntax ({why})")],
                );
                return;
            }
        }
        if let Some(tx) = self.tx.as_mut() {
            tx.rcpts.push(to);
        }
        self.reply(250, Some("2.1.5"), &["Ok".into()]);
    }

    /// Sequence check shared by DATA and BDAT: `Some(reply)` when the transaction cannot take
    /// content.
    fn content_refusal(&self, via_bdat: bool) -> Option<(u16, &'static str, &'static str)> {
        match &self.tx {
            None => Some((503, "5.5.1", "Error: need MAIL command")),
            Some(tx) if tx.bdat && !via_bdat => {
                Some((503, "5.5.1", "Error: DATA after BDAT in one transaction"))
            }
            // RFC 3030 §3: a BINARYMIME message can only be sent with BDAT.
            Some(tx) if tx.binary && !via_bdat => Some((
                503,
                "5.5.1",
                "Error: BODY=BINARYMIME content must be sent with BDAT",
            )),
            Some(tx) if tx.rcpts.is_empty() => Some((554, "5.5.1", "Error: no valid recipients")),
            Some(_) => None,
        }
    }

    fn data(&mut self) {
        if self.faulted(Point::Data) {
            return;
        }
        if let Some((code, enh, text)) = self.content_refusal(false) {
            self.reply(code, Some(enh), &[text.into()]);
            return;
        }
        // The room ran out since MAIL (other sessions took it): no `354` for content that could
        // not be kept. The transaction stays, as after Postfix's `452` to DATA; BDAT content
        // is stopped by the driver's store instead (its chunk is on its way already).
        if self.storage_room == Some(0) {
            self.events.push_back(Event::warning(
                "DATA refused: no storage left for a message",
            ));
            self.reply(452, Some("4.3.1"), &[NO_ROOM.into()]);
            return;
        }
        self.reply(354, None, &["End data with <CR><LF>.<CR><LF>".into()]);
        if !matches!(self.mode, Mode::Closed) {
            self.mode = Mode::Data(if self.cfg.quirks.bare_lf_dot {
                DataReader::with_bare_lf_lines(self.cfg.size_limit())
            } else {
                DataReader::new(self.cfg.size_limit())
            });
        }
    }

    fn bdat(&mut self, size: usize, last: bool) {
        // CHUNKING not advertised: nothing says the client will send the chunk it names (a
        // client that does not know RFC 3030 sends none), so waiting for it could wait for the
        // idle timeout, and taking what follows as commands could run a chunk's content as
        // commands. Postfix with `smtpd_discard_ehlo_keywords = chunking` answers at once
        // `521 5.5.1 Error: command not implemented` and hangs up (smtpd.c `bdat_cmd`); so
        // does this server.
        if self.hidden("CHUNKING") {
            self.reply(
                521,
                Some("5.5.1"),
                &["Error: command not implemented".into()],
            );
            self.close();
            return;
        }
        // RFC 3030 §2: the chunk is read even when the command is refused, so the command
        // stream stays in sync. Refusals are sent after the chunk.
        let ok = self.content_refusal(true).is_none();
        if ok && let Some(tx) = self.tx.as_mut() {
            tx.bdat = true;
        }
        self.mode = Mode::Bdat {
            remaining: size,
            last,
            ok,
        };
    }

    fn end_of_chunk(&mut self, last: bool, ok: bool) {
        self.units_read += 1;
        self.phase = Phase::Dot;
        if !ok {
            if let Some((code, enh, text)) = self.content_refusal(true) {
                self.reply(code, Some(enh), &[text.into()]);
            }
            return;
        }
        // LMTP answers BDAT LAST once per accepted recipient (RFC 2033 §4.3), a refusal too;
        // a chunk before it gets one reply.
        let replies = if last { self.content_replies() } else { 1 };
        if let Some(f) = self.checkpoint(Point::Bdat) {
            self.end_transaction();
            self.fault_replies(&f, replies);
            return;
        }
        let too_big = self.tx.as_ref().is_some_and(|t| t.too_big);
        if too_big {
            self.end_transaction();
            self.too_big_replies(replies);
            return;
        }
        if last {
            let (size, bare) = self.tx.as_ref().map_or((0, false), |t| {
                // A final CR has no LF after it.
                (t.bytes, t.chunk_bare || t.chunk_cr)
            });
            self.finish_message(size, bare);
        } else {
            let n = self.tx.as_ref().map_or(0, |t| t.bytes);
            self.reply(250, Some("2.0.0"), &[format!("{n} octets received")]);
        }
    }

    /// Why 8-bit content under these `MAIL` parameters is the client's mistake, if it is: it
    /// declared neither `BODY=8BITMIME` nor `BINARYMIME` (RFC 6152 §3: 8-bit data only with
    /// BODY=8BITMIME; RFC 5321 §2.4 makes content 7-bit otherwise), nor `SMTPUTF8` (RFC 6531
    /// §3.1: UTF-8 header fields). Stored anyway, as Postfix does; a relay on a 7-bit path
    /// would have to garble or bounce it.
    fn undeclared_eight_bit(&self, params: &[String]) -> Option<String> {
        let declared = params.iter().any(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p.as_str(), ""));
            k.eq_ignore_ascii_case("SMTPUTF8")
                || (k.eq_ignore_ascii_case("BODY")
                    && (v.eq_ignore_ascii_case("8BITMIME") || v.eq_ignore_ascii_case("BINARYMIME")))
        });
        if declared {
            return None;
        }
        Some(if self.advertised("8BITMIME") {
            "the message content has 8-bit octets, but MAIL declared no BODY=8BITMIME \
             (RFC 6152 §3): stored as sent"
                .into()
        } else {
            "the message content has 8-bit octets, but 8BITMIME was not offered and MAIL \
             declared no BODY=8BITMIME (RFC 6152 §3): stored as sent"
                .into()
        })
    }

    /// The next piece of the message's content goes out to the driver as it is read.
    fn content(&mut self, piece: Vec<u8>) {
        if piece.is_empty() {
            return;
        }
        if let Some(tx) = self.tx.as_mut() {
            tx.bytes += piece.len();
            tx.eight_bit = tx.eight_bit || !piece.is_ascii();
        }
        self.streaming = true;
        self.push_action(ServerAction::Content(piece));
    }

    /// The content streamed so far will not be stored.
    fn discard_content(&mut self) {
        if std::mem::take(&mut self.streaming) {
            self.push_action(ServerAction::Discard);
        }
    }

    /// The transaction is over without a message (RSET, a new EHLO, STARTTLS, a refusal): any
    /// content already streamed is dropped.
    fn end_transaction(&mut self) {
        self.tx = None;
        self.discard_content();
    }

    fn end_of_content(&mut self, bare_newlines: bool, too_big: bool) {
        self.units_read += 1;
        self.phase = Phase::Dot;
        if self.cfg.transcript {
            self.events.push_back(Event::ClientCommand {
                text: ".".into(),
                tls: self.tls,
                phase: Phase::Dot,
                redacted: false,
            });
        }
        if too_big {
            let replies = self.content_replies();
            self.end_transaction();
            self.too_big_replies(replies);
            return;
        }
        let size = self.tx.as_ref().map_or(0, |t| t.bytes);
        self.finish_message(size, bare_newlines);
    }

    /// How many replies the end of the content gets: one per accepted recipient in LMTP
    /// (RFC 2033 §4.2, a refusal included, or the client waits for the missing ones), else one.
    fn content_replies(&self) -> usize {
        self.tx.as_ref().map_or(1, |tx| self.replies_for(tx))
    }

    fn replies_for(&self, tx: &Transaction) -> usize {
        if self.cfg.lmtp {
            tx.rcpts.len().max(1)
        } else {
            1
        }
    }

    /// A fault's reply `n` times (see [`Session::content_replies`]); a drop or a 421 ends it.
    fn fault_replies(&mut self, f: &Fault, n: usize) {
        for _ in 0..n {
            self.fault_reply(f);
            if matches!(self.mode, Mode::Closed) {
                return;
            }
        }
    }

    /// `552 5.3.4` for content over the size limit (RFC 1870 §6.3), `n` times.
    fn too_big_replies(&mut self, n: usize) {
        for _ in 0..n {
            self.reply(
                552,
                Some("5.3.4"),
                &["Message size exceeds fixed limit".into()],
            );
        }
    }

    /// End of a message of `size` octets, already streamed: fault, store or refuse it.
    fn finish_message(&mut self, size: usize, bare_newlines: bool) {
        let Some(tx) = self.tx.take() else {
            self.discard_content();
            return;
        };
        // SMTP smuggling hides a second end-of-data marker in DATA content; BDAT content has
        // none (RFC 3030 §2), and BODY=BINARYMIME content may hold any octet.
        if bare_newlines && !tx.bdat {
            self.events.push_back(Event::warning(
                "the message content contains a bare CR or LF (SMTP smuggling evidence)",
            ));
        }
        if tx.eight_bit
            && let Some(why) = self.undeclared_eight_bit(&tx.params)
        {
            self.events.push_back(Event::warning(why));
        }
        if let Some(f) = self.checkpoint(Point::Dot) {
            self.discard_content();
            match &f.action {
                FaultAction::Drop => self.drop_fault(&f),
                FaultAction::Reply { .. } => self.fault_replies(&f, self.replies_for(&tx)),
            }
            return;
        }
        // LMTP: each recipient's own fault (`lmtp-rcpt#N`); the message is stored for the
        // others only.
        let outcomes: Vec<RcptOutcome> = tx
            .rcpts
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
                let lmtp = self.cfg.lmtp;
                RcptOutcome {
                    rcpt: r.clone(),
                    fault: lmtp
                        .then(|| self.cfg.faults.fault(Point::LmtpRcpt, n).cloned())
                        .flatten(),
                    delay: lmtp
                        .then(|| self.cfg.faults.delay(Point::LmtpRcpt, n))
                        .flatten(),
                }
            })
            .collect();
        // A recipient whose fault closes the connection (drop, 421) leaves the ones after it
        // unanswered, and an unanswered recipient has not got the message (RFC 2033 §4.2): it
        // is stored only for those answered 250.
        let closes = |f: &Fault| match f.action {
            FaultAction::Drop => true,
            FaultAction::Reply { code, .. } => code == 421,
        };
        let answered = outcomes
            .iter()
            .position(|o| o.fault.as_ref().is_some_and(closes))
            .unwrap_or(outcomes.len());
        let delivered: Vec<String> = outcomes[..answered]
            .iter()
            .filter(|o| o.fault.is_none())
            .map(|o| o.rcpt.clone())
            .collect();
        let id = format!("{:010X}", self.rng.next() >> 24);
        if delivered.is_empty() && !outcomes.is_empty() {
            // Every recipient refused it: nothing to store.
            self.discard_content();
            self.phase = Phase::Dot;
            self.lmtp_replies(&outcomes, &id, StoreOutcome::Failed);
            return;
        }
        self.mode = Mode::WaitStore {
            id: id.clone(),
            rcpts: outcomes,
        };
        self.streaming = false;
        self.push_action(ServerAction::Store(Box::new(StoredMessage {
            id: id.clone(),
            from: tx.from,
            mail_params: tx.params,
            rcpts: delivered,
            size,
            content: Vec::new(),
            tls: self.tls,
            auth_user: self.auth_user.clone(),
            helo: self.helo.clone(),
            bare_newlines,
        })));
    }

    // ---- output -------------------------------------------------------------------------------

    fn push_action(&mut self, a: ServerAction) {
        if matches!(a, ServerAction::Delay(_)) {
            let queued = self.events_polled + self.events.len() as u64;
            self.delay_marks.push_back(queued);
        }
        self.out.push_back(Out::Action(a));
    }

    fn close(&mut self) {
        if !matches!(self.mode, Mode::Closed) {
            self.mode = Mode::Closed;
            self.inbuf.clear();
            self.discard_content();
            self.push_action(ServerAction::Close);
        }
    }

    /// Queue a reply: `enh` goes at the start of every line unless ENHANCEDSTATUSCODES is
    /// hidden (RFC 2034 §3). A 421 closes the connection afterwards (RFC 5321 §3.8).
    fn reply(&mut self, code: u16, enh: Option<&str>, lines: &[String]) {
        self.reply_text(code, enh, lines, false);
    }

    /// [`Self::reply`], `as_given` for text the user of `ehlo serve` wrote (`--fail
    /// …:TEXT`): that keeps its non-ASCII characters, so a client's handling of a UTF-8
    /// reply can be tested on purpose.
    fn reply_text(&mut self, code: u16, enh: Option<&str>, lines: &[String], as_given: bool) {
        if !as_given && (500..=504).contains(&code) {
            // The client's error (RFC 5321 §4.2.2), not a fault the user injected.
            self.errors = self.errors.saturating_add(1);
            self.last_error_junk = false;
        }
        let enh = enh.filter(|_| !self.hidden("ENHANCEDSTATUSCODES"));
        // RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets with its CRLF. Text echoed
        // from the client (an EHLO argument, an unknown parameter) is cut to fit.
        // RFC 5321 §4.2.1: a reply's textstring is HT, SP and printable US-ASCII. Every other
        // character is `?` (the server's own `§` is spelt `section`): a control character
        // echoed from the client (NUL, ESC…), as Postfix's smtpd neuters one, and a non-ASCII
        // one, so that no client's terminal or parser gets a byte it did not expect, and a
        // byte that was not UTF-8 comes back as `?`, not as the three octets of U+FFFD.
        let room = MAX_REPLY_LINE - "250-".len() - "\r\n".len() - enh.map_or(0, |e| e.len() + 1);
        let fitted: Option<Vec<String>> = lines
            .iter()
            .any(|l| l.len() > room || l.chars().any(|c| neutered(c, as_given)))
            .then(|| {
                lines
                    .iter()
                    .map(|l| fit_reply_text(&wire_text(l, as_given), room))
                    .collect()
            });
        let lines = fitted.as_deref().unwrap_or(lines);
        if self.cfg.transcript {
            let texts: Vec<String> = lines
                .iter()
                .map(|l| match enh {
                    Some(e) if l.is_empty() => e.to_string(),
                    Some(e) => format!("{e} {l}"),
                    None => l.clone(),
                })
                .collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let reply = Reply::new(code, &refs);
            let wire = reply.raw.0.clone();
            self.write_reply(Some(reply), wire);
        } else {
            // The same bytes as `Reply::new` makes (`CODE-text` lines, `CODE text` last),
            // written straight into one buffer. Every code here has three digits.
            debug_assert!((100..1000).contains(&code));
            let mut wire = Vec::with_capacity(
                lines
                    .iter()
                    .map(|l| l.len() + enh.map_or(0, |e| e.len() + 1) + 6)
                    .sum(),
            );
            for (i, l) in lines.iter().enumerate() {
                let sep = if i + 1 == lines.len() { b' ' } else { b'-' };
                wire.extend_from_slice(&[
                    b'0' + (code / 100 % 10) as u8,
                    b'0' + (code / 10 % 10) as u8,
                    b'0' + (code % 10) as u8,
                    sep,
                ]);
                match enh {
                    Some(e) if l.is_empty() => wire.extend_from_slice(e.as_bytes()),
                    Some(e) => {
                        wire.extend_from_slice(e.as_bytes());
                        wire.push(b' ');
                        wire.extend_from_slice(l.as_bytes());
                    }
                    None => wire.extend_from_slice(l.as_bytes()),
                }
                wire.extend_from_slice(b"\r\n");
            }
            self.write_reply(None, wire);
        }
        if code == 421 {
            self.close();
        }
    }

    /// Queue `wire` (after any pending delay, a byte at a time under `trickle`), and its
    /// [`Event::ServerReply`] when there is a transcript (`reply` is then `Some`).
    fn write_reply(&mut self, reply: Option<Reply>, mut wire: Vec<u8>) {
        let reply = reply.filter(|_| self.cfg.transcript);
        if self.cfg.faults.bare_lf {
            wire = crlf_to_lf(&wire);
        }
        if let Some(ms) = self.error_sleep() {
            self.pending_delay = Some(self.pending_delay.unwrap_or(0).max(ms));
        }
        if let Some(ms) = self.pending_delay.take()
            && ms > 0
        {
            self.push_action(ServerAction::Delay(ms));
        }
        match self.cfg.faults.trickle {
            Some(ms) => {
                for (i, b) in wire.iter().enumerate() {
                    if i > 0 {
                        self.push_action(ServerAction::Delay(ms));
                    }
                    self.out.push_back(Out::Bytes(vec![*b]));
                }
            }
            None if reply.is_none() => {
                self.out.push_back(Out::Bytes(wire));
                return;
            }
            None => self.out.push_back(Out::Bytes(wire.clone())),
        }
        if let Some(mut reply) = reply {
            reply.raw = Bytes(wire);
            self.events.push_back(Event::ServerReply {
                reply,
                tls: self.tls,
                phase: self.phase,
            });
        }
    }
}

/// The longest reply line, CRLF included (RFC 5321 §4.5.3.1.5).
const MAX_REPLY_LINE: usize = 512;

/// A character a reply does not carry as it came: one that is not HT or printable US-ASCII
/// (RFC 5321 §4.2.1 textstring); `as_given` (the user's own `--fail` text): a control
/// character only.
fn neutered(c: char, as_given: bool) -> bool {
    !matches!(c, '\t' | ' '..='~') && (!as_given || c.is_control())
}

/// `text` as a reply carries it: each [`neutered`] character `?`, a `§` of the server's own
/// reasons (`RFC 3461 §4.3`) the word `section `.
fn wire_text(text: &str, as_given: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '§' if !as_given => out.push_str("section "),
            c if neutered(c, as_given) => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// `text` cut to at most `room` octets (at a character boundary, ending in `...`) when longer.
fn fit_reply_text(text: &str, room: usize) -> String {
    if text.len() <= room {
        return text.to_string();
    }
    let mut end = room.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HelloKind {
    Ehlo,
    Helo,
    Lhlo,
}

/// A parameter keyword given twice on one MAIL or RCPT: the refusal text (RFC 5321 §4.1.2
/// esmtp-keyword; RFC 1870, RFC 3461 and RFC 6531 each define their parameter once, and Postfix
/// refuses a repeat). Otherwise `key` is recorded in `seen`.
/// What is wrong with an `ORCPT=` value (RFC 3461 §4.2: `addr-type ";" xtext`, addr-type an
/// atom, at most 500 characters, the address printable US-ASCII once decoded).
fn orcpt_problem(v: &str) -> Option<String> {
    let max = crate::smtp::ext::ORCPT_MAX;
    if v.len() > max {
        return Some(format!(
            "{} characters, more than {max}, RFC 3461 §4.2",
            v.len()
        ));
    }
    let Some((kind, addr)) = v.split_once(';') else {
        return Some("no addr-type: addr-type;xtext, e.g. rfc822;, RFC 3461 §4.2".into());
    };
    if kind.is_empty() || !kind.bytes().all(is_atext) {
        return Some("the addr-type is not an atom, RFC 3461 §4.2".into());
    }
    crate::smtp::ext::dsn_xtext_problem(addr).map(String::from)
}

/// RFC 5321 §4.1.1.11 555 text for a parameter not on offer: the parameter as the client sent
/// it, value and case included (`Unsupported option: x-foo=Bar`), as Postfix quotes it; the
/// keyword upper-cased (`X-FOO`) named a word the client never wrote.
fn unsupported(param: &str) -> String {
    format!("Unsupported option: {param}")
}

fn duplicate(seen: &mut Vec<String>, key: &str) -> Option<String> {
    if seen.iter().any(|k| k == key) {
        return Some(format!("Duplicate {key} parameter"));
    }
    seen.push(key.to_string());
    None
}

/// RFC 5322 §3.2.3 atext (the characters of an `addr-type` atom, RFC 3461 §4.2).
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// The first control character in an address (`\x0D`), if any: C0, DEL and C1.
fn control_char(addr: &str) -> Option<String> {
    addr.chars()
        .find(|c| c.is_control())
        .map(|c| format!("\\x{:02X}", u32::from(c)))
}

/// How a command line is shown: AUTH initial responses are masked, and a byte that is not
/// UTF-8 is `\xNN`, as the client shows a reply's ([`crate::smtp::reply::text_of`]), not
/// U+FFFD, which said a byte was there but not which.
fn display_line(line: &[u8], cmd: Option<&Command>) -> (String, bool) {
    let text = crate::smtp::reply::text_of(line).into_owned();
    // Read as text, `AUTH MECH` is kept and the rest masked: that covers a line no parser
    // accepts but that may still carry a credential (`AUTH PLAIN <blob> extra`), and one parsed
    // with the credential in the mechanism's place (`AUTH <blob>`, `AUTH <blob> <blob>`).
    if let Some(masked) = crate::smtp::auth::mask_auth_command(&text) {
        return (masked, true);
    }
    if let Some(Command::Auth {
        initial: Some(ir), ..
    }) = cmd
        && ir != "="
        && let Some(pos) = text.rfind(ir.as_str())
    {
        let masked = format!("{}{}", &text[..pos], crate::smtp::auth::mask(ir));
        return (masked, true);
    }
    (text, false)
}

/// Decode one SASL response (RFC 4954 §4: `=` is an empty initial response).
fn decode_sasl(b64: &[u8]) -> Option<Vec<u8>> {
    let t = b64.trim_ascii();
    if t == b"=" {
        return Some(Vec::new());
    }
    B64.decode(t).ok()
}

/// RFC 2195: the response digest is HMAC-MD5(password, challenge) in lower-case hex.
pub(crate) fn cram_md5_digest(password: &str, challenge: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let Ok(mut mac) = Hmac::<md5::Md5>::new_from_slice(password.as_bytes()) else {
        return String::new();
    };
    mac.update(challenge.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn cram_md5_verify(password: &str, challenge: &str, digest: &str) -> bool {
    let want = cram_md5_digest(password, challenge);
    !want.is_empty() && want.eq_ignore_ascii_case(digest)
}

fn crlf_to_lf(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests;
