//! The hand-driven client session behind `ehlo repl`: the user types the dialogue, this sans-IO
//! machine sends each line verbatim with CRLF, owns the ONE read buffer and reply parser, infers
//! the phase of every command for explanations, tracks the prompt state (TLS, AUTH, transaction)
//! and the EHLO capabilities for completion, and runs the helpers a human should not do by hand:
//! STARTTLS (RFC 3207), a SASL exchange (RFC 4954) with secrets masked, and DATA with
//! dot-stuffing (RFC 5321 §4.5.2). Same poll API as `smtp::client::Session`.

use std::collections::VecDeque;

use crate::smtp::auth::{self, Credentials, Mechanism};
use crate::smtp::capabilities::Capabilities;
use crate::smtp::client::Action;
use crate::smtp::codes::{self, TlsAsked};
use crate::smtp::command::Command;
use crate::smtp::data::{self, Fixup};
use crate::smtp::event::{Bytes, Deviation, Event, Phase, RcptStatus, RecipientResult, SentKind};
use crate::smtp::outbox::Outbox;
use crate::smtp::reply::{Limits, Progress, Reply, ReplyParser};

/// Longest command line including CRLF (RFC 5321 §4.5.3.1.4).
pub(crate) const MAX_COMMAND_LINE: usize = 512;
/// Longest text line of message content including CRLF (RFC 5321 §4.5.3.1.6).
pub(crate) const MAX_TEXT_LINE: usize = 1000;

/// Most replies nobody asked for taken in a row (no reply that answered a command between
/// them): past it the server is talking without end, and reading stops. A real server sends
/// one or two (a 421 before it closes, RFC 5321 §3.8); each is shown, kept for `:record` and
/// replay, and checked by `--strict`, so an endless stream of them would grow memory and the
/// transcript without bound while the REPL waits for its next input.
pub(crate) const MAX_UNSOLICITED: usize = 100;

/// What the next reply answers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    /// The 220 greeting (RFC 5321 §4.3.1).
    Banner,
    /// A typed command line of this phase; `verb` tells how its reply changes the state.
    /// `params`: the ESMTP parameters a typed MAIL FROM or RCPT TO carried (RFC 5321
    /// §4.1.1.11), which a refusal of them names; `None` for other verbs and for a line that
    /// does not parse as one.
    Line {
        phase: Phase,
        verb: Verb,
        params: Option<Vec<String>>,
        /// The verb as typed, upper-cased (`NOOP`, `HELP`, `LHLO`), as a cut while its reply
        /// is awaited names it ([`ManualSession::answered`]).
        word: String,
    },
    /// The 220 to STARTTLS (typed or `:starttls`).
    StartTls,
    /// A reply during `:auth` (334 or the final 235).
    Auth,
    /// The reply to a typed AUTH line or to a SASL response typed in its exchange (`id`:
    /// which exchange, [`ManualSession::sasl`]); `cancel`: the response was `*`, the client's
    /// own cancel (RFC 4954 §4), which the server answers with 501.
    TypedAuth { id: u32, cancel: bool },
    /// The 354 to `:data`'s DATA; the content waits in `data_content`.
    DataHelper,
    /// The reply to the end-of-data dot.
    Dot,
    /// LMTP (RFC 2033 §4.2): the reply after the content for recipient `n` (an index into the
    /// transaction's recipients), one per accepted RCPT, in their order.
    LmtpDot(usize),
}

impl Expect {
    fn phase(&self) -> Phase {
        match *self {
            Expect::Banner => Phase::Banner,
            Expect::Line { phase, .. } => phase,
            Expect::StartTls => Phase::StartTls,
            Expect::Auth | Expect::TypedAuth { .. } => Phase::Auth,
            Expect::DataHelper => Phase::Data,
            Expect::Dot | Expect::LmtpDot(_) => Phase::Dot,
        }
    }

    /// What a reply to this answers, in the send's words ("the reply to RCPT", "the reply to
    /// the message"): the typed verb (NOOP, RSET, VRFY, HELP: no phase names them), the
    /// phase's command for the steps of a meta-command, the message for its content.
    fn answers(&self) -> String {
        match self {
            Expect::Banner => "the banner".to_string(),
            Expect::Dot
            | Expect::LmtpDot(_)
            | Expect::Line {
                phase: Phase::Dot, ..
            } => "the message".to_string(),
            Expect::Line { word, .. } => word.clone(),
            Expect::StartTls | Expect::Auth | Expect::TypedAuth { .. } | Expect::DataHelper => {
                self.phase().label().to_string()
            }
        }
    }
}

/// The verb of a typed line as a message names it: upper-cased; one that is no word (a typo's
/// punctuation, a line longer than any verb) is "a command".
fn verb_word(line: &str) -> String {
    let verb = line.split([' ', '\t']).next().unwrap_or("");
    if verb.is_empty()
        || verb.len() > 32
        || !verb
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return "a command".to_string();
    }
    verb.to_ascii_uppercase()
}

/// Verbs whose replies change the session state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Ehlo,
    Helo,
    Mail,
    Data,
    Rset,
    Auth,
    Quit,
    Rcpt,
    Bdat,
    Noop,
    Vrfy,
    Other,
}

impl Verb {
    /// Is `code` the success this command wants? Exactly the codes RFC 5321 §4.3.2 lists (BDAT:
    /// RFC 3030 §2; AUTH: RFC 4954 §4); another 2xx answers some other command. A verb the
    /// session does not know takes any 2xx.
    fn wants(self, code: Option<u16>) -> bool {
        let Some(code) = code else {
            return false;
        };
        match self {
            Verb::Ehlo | Verb::Helo | Verb::Mail | Verb::Rset | Verb::Bdat | Verb::Noop => {
                code == 250
            }
            // 251 forwards; 252 cannot verify (and some servers give it to RCPT too).
            Verb::Rcpt | Verb::Vrfy => matches!(code, 250..=252),
            Verb::Data => code == 354,
            Verb::Auth => matches!(code, 235 | 334),
            Verb::Quit => code == 221,
            Verb::Other => code / 100 == 2,
        }
    }
}

/// Phase and state-relevant verb of a typed command line (case-insensitive verb).
fn classify(line: &str, tls_upgraded: bool) -> (Phase, Verb) {
    let verb = line
        .split([' ', '\t'])
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    let greeting = if tls_upgraded {
        Phase::HeloAfterTls
    } else {
        Phase::Helo
    };
    match verb.as_str() {
        "EHLO" | "LHLO" => (greeting, Verb::Ehlo),
        "HELO" => (greeting, Verb::Helo),
        "MAIL" => (Phase::Mail, Verb::Mail),
        "RCPT" => (Phase::Rcpt, Verb::Rcpt),
        "DATA" => (Phase::Data, Verb::Data),
        "BDAT" => (Phase::Dot, Verb::Bdat),
        "NOOP" => (Phase::Other, Verb::Noop),
        "VRFY" => (Phase::Other, Verb::Vrfy),
        "RSET" => (Phase::Other, Verb::Rset),
        "AUTH" => (Phase::Auth, Verb::Auth),
        "QUIT" => (Phase::Quit, Verb::Quit),
        "STARTTLS" => (Phase::StartTls, Verb::Other),
        "XCLIENT" => (Phase::Xclient, Verb::Other),
        _ => (Phase::Other, Verb::Other),
    }
}

/// What a typed `BDAT size [LAST]` makes the server read after its line (RFC 3030 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkOwed {
    /// Octets of the chunk.
    pub(crate) size: usize,
    /// `LAST`: the chunk ends the message.
    pub(crate) last: bool,
}

/// A BDAT chunk typed as lines ([`ManualSession::chunk_owed`]): each line counts its octets
/// (UTF-8, as sent) and its CRLF. A line whose octets fill what is left exactly, without its
/// CRLF, ends the chunk there (`BDAT 5 LAST` + `hello`: a chunk that ends inside a line, as
/// RFC 3030 §2 allows); a line that does not fit either way is not taken: no byte of it is
/// sent, and none of the chunk is cut or padded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypedChunk {
    size: usize,
    bytes: Vec<u8>,
}

/// What [`TypedChunk::take`] did with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkLine {
    /// Taken with its CRLF.
    Taken,
    /// Taken without its CRLF: its octets filled the chunk.
    TakenWithoutCrlf,
    /// Not taken: `octets` (without CRLF) neither fit with their CRLF nor fill the `left`.
    TooLong { octets: usize, left: usize },
}

impl TypedChunk {
    /// An empty chunk of `size` octets (the caller bounds `size`: it is held whole).
    pub(crate) fn new(size: usize) -> TypedChunk {
        TypedChunk {
            size,
            bytes: Vec::new(),
        }
    }

    /// Octets still owed.
    pub(crate) fn left(&self) -> usize {
        self.size - self.bytes.len()
    }

    /// Octets taken so far.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Take a typed line (without its line end).
    pub(crate) fn take(&mut self, line: &str) -> ChunkLine {
        let left = self.left();
        let n = line.len();
        if n + 2 <= left {
            self.bytes.extend_from_slice(line.as_bytes());
            self.bytes.extend_from_slice(b"\r\n");
            ChunkLine::Taken
        } else if n == left {
            self.bytes.extend_from_slice(line.as_bytes());
            ChunkLine::TakenWithoutCrlf
        } else {
            ChunkLine::TooLong {
                octets: line.len(),
                left,
            }
        }
    }
}

/// The state shown in the prompt (`ehlo[tls|authed|mail]> `).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct PromptState {
    /// The transport is encrypted.
    pub(crate) tls: bool,
    /// AUTH succeeded (235).
    pub(crate) authed: bool,
    /// Inside a mail transaction: after a 250 to MAIL, until the end of data or RSET.
    pub(crate) in_transaction: bool,
    /// After a 354 to a typed DATA: typed lines are message content until a lone `.`.
    pub(crate) in_data: bool,
    /// The server closed the connection (or the session was closed).
    pub(crate) closed: bool,
}

impl PromptState {
    /// The prompt text, e.g. `ehlo[tls|authed|mail]> ` (`data` while typing content).
    pub(crate) fn prompt(&self) -> String {
        if self.closed {
            return "ehlo[closed]> ".into();
        }
        let mut parts = vec![if self.tls { "tls" } else { "plain" }];
        if self.authed {
            parts.push("authed");
        }
        if self.in_data {
            parts.push("data");
        } else if self.in_transaction {
            parts.push("mail");
        }
        format!("ehlo[{}]> ", parts.join("|"))
    }
}

/// A SASL exchange started by [`ManualSession::auth`].
struct AuthRun {
    mech: Box<dyn Mechanism>,
    /// ehlo cancelled the exchange with `*` (RFC 4954 §4), and why: whatever the server
    /// answers to that, AUTH failed (a 235 claims success for an exchange never finished).
    cancelled: Option<String>,
}

impl std::fmt::Debug for AuthRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRun")
            .field("mechanism", &self.mech.name())
            .finish()
    }
}

/// The session for user-typed lines. Feed it bytes, drain what it wants written, the events it
/// saw and the actions it needs; it never does I/O itself.
#[derive(Debug)]
pub(crate) struct ManualSession {
    /// The ONE read buffer (bytes after a complete reply stay here: the STARTTLS injection check
    /// looks at them).
    buf: Vec<u8>,
    parser: ReplyParser,
    pending: VecDeque<Expect>,
    /// What the last reply that answered something answered ([`ManualSession::answered`]).
    last_answered: Option<Expect>,
    /// What to write and what to report.
    out: Outbox,
    actions: VecDeque<Action>,
    tls: bool,
    /// TLS came from STARTTLS (so a later EHLO is "EHLO after TLS").
    tls_upgraded: bool,
    /// The session greeted with LHLO (RFC 2033 §4.1): the content draws one reply per accepted
    /// recipient (§4.2), and the greeting after STARTTLS is LHLO again.
    lmtp: bool,
    caps: Option<Capabilities>,
    /// `caps` changed since [`ManualSession::take_caps_changed`] last asked.
    caps_changed: bool,
    authenticated: bool,
    in_transaction: bool,
    /// After a 354 to a typed DATA: typed lines are content.
    in_data: bool,
    /// The session closed inside a typed message (after the 354, before the final "."): the
    /// message was not delivered, and the lines typed after it are its, not commands.
    closed_in_data: bool,
    /// The SASL exchange of a typed AUTH under way (its id, as its lines' [`Expect::TypedAuth`]
    /// carry it): from the moment an AUTH that will draw a 334 is sent (no initial response, or
    /// LOGIN, whose password always follows), or a 334 asks for more, until the exchange's
    /// final reply (anything but 334, RFC 4954 §4). Every line typed meanwhile is a SASL
    /// response (a secret), also when it is typed before the 334 arrives (type-ahead, or
    /// after the wait was stopped).
    sasl: Option<u32>,
    /// The id of the next typed AUTH.
    next_sasl: u32,
    /// `sasl` went on from an AUTH sent by `:raw`: its replies came with nothing pending.
    sasl_after_raw: bool,
    /// How many SASL exchanges have started (typed or `:raw` AUTH, or a 334 to an initial
    /// response): the REPL compares it around a command to know one ran meanwhile.
    exchanges: u32,
    /// Did the last SASL exchange to end get a 235 (false after a refusal or a close)?
    exchange_ok: bool,
    /// An AUTH went out in `:raw` bytes (or SASL responses did) and the exchange has not had
    /// its final reply (anything but 334): what is typed until then is a SASL response. The
    /// number is how many replies are still due to lines sent before that AUTH.
    raw_auth: Option<usize>,
    auth: Option<AuthRun>,
    /// The last `:auth` drew a 235 its mechanism refuses (a SCRAM or DIGEST-MD5 server that
    /// did not prove it knows the password): the mechanism and why, until taken.
    auth_refuted: Option<(String, String)>,
    /// Content for `:data`, waiting for the 354.
    data_content: Option<Vec<u8>>,
    /// `:data`'s message was dropped with the connection before DATA's 354 came.
    message_dropped: bool,
    /// Name for the EHLO sent again after STARTTLS (the last typed one, or the default).
    helo_name: String,
    show_secrets: bool,
    /// `:raw` bytes went out since the last command: replies to them are not unsolicited.
    raw_outstanding: bool,
    quit_sent: bool,
    closed: bool,
    /// Replies nobody asked for since the last one that answered a command
    /// ([`MAX_UNSOLICITED`]).
    unsolicited: usize,
    /// Line ends in the `:raw` bytes sent since the last typed command: replies they may
    /// draw, allowed on top of [`MAX_UNSOLICITED`].
    raw_lines: usize,
    /// The RCPT TO lines of the latest mail transaction (since its MAIL FROM) and the replies
    /// to them, for the summary.
    recipients: Vec<RecipientResult>,
    /// The verdict on the latest message's content (the reply to its end-of-data dot): `None`
    /// until one comes; false for a refusal or a reply cut off by the close.
    message_accepted: Option<bool>,
    /// Every secret sent (typed or `:raw` SASL responses and initial responses, `:auth`'s
    /// credentials and secret lines), in the forms a server may echo back (sendmail's
    /// `500 5.5.1 Command unrecognized: "<the line>"`): masked in every reply before anything
    /// sees it, as the planned session does. Empty when secrets may be shown.
    secrets: Vec<Vec<u8>>,
    /// The last reply was a 334 asking for a user name (`Username:`, `User Name`): the typed
    /// line that answers it is masked as any SASL response, but not kept in the registry —
    /// the name comes back in MAIL FROM and would be masked (and refused on recall) there.
    user_prompt: bool,
    /// What sends STARTTLS now: a typed command, or the front end by itself (`--tls`), for
    /// the hint on going on without TLS.
    tls_asked: TlsAsked,
}

impl ManualSession {
    /// A session on a fresh connection, waiting for the banner. `helo_name` is used for the EHLO
    /// after STARTTLS when the user typed none; `tls` is true for implicit TLS.
    pub(crate) fn new(
        helo_name: impl Into<String>,
        tls: bool,
        show_secrets: bool,
    ) -> ManualSession {
        ManualSession {
            buf: Vec::new(),
            parser: ReplyParser::new(Limits::default()),
            pending: VecDeque::from([Expect::Banner]),
            last_answered: None,
            out: Outbox::new(false),
            actions: VecDeque::new(),
            tls,
            tls_upgraded: false,
            lmtp: false,
            caps: None,
            caps_changed: true,
            authenticated: false,
            in_transaction: false,
            in_data: false,
            closed_in_data: false,
            sasl: None,
            next_sasl: 0,
            sasl_after_raw: false,
            exchanges: 0,
            exchange_ok: false,
            raw_auth: None,
            auth: None,
            auth_refuted: None,
            data_content: None,
            message_dropped: false,
            helo_name: helo_name.into(),
            show_secrets,
            raw_outstanding: false,
            quit_sent: false,
            closed: false,
            unsolicited: 0,
            raw_lines: 0,
            recipients: Vec::new(),
            message_accepted: None,
            secrets: Vec::new(),
            user_prompt: false,
            tls_asked: TlsAsked::Command,
        }
    }

    /// Who sends the STARTTLS that follows ([`TlsAsked::Command`] unless told otherwise): the
    /// reply's hint on going on without TLS names it.
    pub(crate) fn set_tls_asked(&mut self, asked: TlsAsked) {
        self.tls_asked = asked;
    }

    /// A secret SASL line just sent (its base64 as on the wire): masked when the server echoes
    /// it back, and so is what it carries (the password of a PLAIN blob, RFC 4616 §2, or the
    /// decoded text of another response) as typed and in base64.
    fn remember_secret(&mut self, wire_text: &str) {
        use base64::Engine as _;
        let wire_text = wire_text.trim();
        if self.show_secrets || wire_text.is_empty() || wire_text == "*" || wire_text == "=" {
            return;
        }
        if wire_text.len() >= 4 {
            self.secrets.push(wire_text.as_bytes().to_vec());
        }
        // With or without its `=` padding, as many servers take a response (RFC 4648 §3.2).
        let decoded = base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT
            .decode(wire_text)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let Some(d) = decoded {
            let secret = d.rsplit('\0').next().unwrap_or("");
            self.secrets.extend(auth::secret_forms(secret));
        }
    }

    /// Received bytes as they may be shown: a secret the server echoes back masked.
    fn redact(&self, reply: Reply) -> Reply {
        crate::smtp::client::redact_reply(reply, &self.secrets)
    }

    /// The secrets seen on earlier connections of the same REPL (its registry, kept in memory
    /// only): masked in what this one sends and receives as in what it saw itself. Nothing is
    /// kept when secrets may be shown.
    pub(crate) fn learn_secrets(&mut self, known: &[Vec<u8>]) {
        if self.show_secrets {
            return;
        }
        for k in known {
            if !self.secrets.contains(k) {
                self.secrets.push(k.clone());
            }
        }
    }

    /// Every secret this connection has seen (or was told of), in the forms a line may carry
    /// it: the typed text, its base64, a PLAIN blob and the password inside it.
    pub(crate) fn secrets(&self) -> &[Vec<u8>] {
        &self.secrets
    }

    /// What a write shows (`shown`, `redacted` when it is masked already) with every secret
    /// seen this session masked: `:raw "<base64 of the password>\r\n"` or `NOOP <password>`
    /// after the exchange ended is not a SASL response, but it carries the secret all the
    /// same, and the transcript, `--log` and `--json` show it from here.
    fn mask_known(&self, shown: String, redacted: bool) -> (String, bool) {
        if self.show_secrets || self.secrets.is_empty() {
            return (shown, redacted);
        }
        match auth::redact(shown.as_bytes(), &self.secrets) {
            Some(r) => (String::from_utf8_lossy(&r).into_owned(), true),
            None => (shown, redacted),
        }
    }

    // ----- poll API ---------------------------------------------------------------------------

    /// Bytes read from the transport.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        if self.closed {
            return;
        }
        crate::smtp::reply::feed_replies(self, bytes);
    }

    /// The transport reached end of file.
    pub(crate) fn feed_eof(&mut self) {
        if self.closed {
            return;
        }
        while let Some(reply) = self.parser.finish(&mut self.buf) {
            let reply = self.redact(reply);
            self.on_reply(reply);
            if self.closed {
                return;
            }
        }
        self.shut();
        // A QUIT's 221 closed the session already (`close`): a close reached here came
        // without one, even after a QUIT (RFC 5321 §4.1.1.10: the server sends 221, then
        // closes), so it was not the expected end.
        self.out.push(Event::Closed { expected: false });
    }

    /// The client dropped the connection itself (a TLS renegotiation it refused): the session
    /// ends as at a close, without the close event, which would say the server closed it; the
    /// caller says why. What had come of a reply is not read.
    pub(crate) fn dropped(&mut self) {
        if !self.closed {
            self.shut();
        }
    }

    fn shut(&mut self) {
        self.drop_unsent_message();
        self.pending.clear();
        self.closed_in_data = self.in_data;
        self.in_data = false;
        self.in_transaction = false;
        self.end_exchange_by_close();
        self.closed = true;
    }

    /// Bytes to write, if any.
    pub(crate) fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.poll_transmit()
    }

    /// Next event, if any.
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        self.out.poll_event()
    }

    /// Next action, if any.
    pub(crate) fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    // ----- state ------------------------------------------------------------------------------

    /// Are replies still expected (the REPL waits for them before the next prompt)?
    pub(crate) fn awaiting_reply(&self) -> bool {
        !self.pending.is_empty()
    }

    /// How many replies are still expected (each pairs with the oldest command waiting).
    pub(crate) fn replies_owed(&self) -> usize {
        self.pending.len()
    }

    /// What has arrived of a reply not finished yet: how much ([`Progress`]) and the bytes of
    /// its unfinished line, for a live "9 bytes so far" while a slow server answers; `None`
    /// when nothing has.
    pub(crate) fn partial(&self) -> Option<(Progress, &[u8])> {
        self.parser
            .progress(&self.buf)
            .map(|p| (p, self.buf.as_slice()))
    }

    /// Were `:raw` bytes sent that may still draw replies?
    pub(crate) fn raw_outstanding(&self) -> bool {
        self.raw_outstanding
    }

    /// The phase of the reply awaited (or of the last command).
    pub(crate) fn phase(&self) -> Phase {
        self.pending
            .front()
            .map(|e| e.phase())
            .unwrap_or(self.out.last_phase())
    }

    /// What the reply awaited answers (the oldest still owed), else what the last reply
    /// answered, in the send's words: `NOOP`, `RCPT`, `STARTTLS`, `the message`, `the banner`.
    /// A `--deadline` cut names it ("while waiting for the reply to NOOP"), as the send does.
    pub(crate) fn answered(&self) -> String {
        self.pending
            .front()
            .or(self.last_answered.as_ref())
            .map_or_else(
                || self.out.last_phase().label().to_string(),
                Expect::answers,
            )
    }

    /// The recipients of the latest mail transaction (since its MAIL FROM), in the order their
    /// RCPT TO lines went out, each with its reply (`not_attempted` while none came).
    pub(crate) fn recipients(&self) -> &[RecipientResult] {
        &self.recipients
    }

    /// Did the server accept the latest message after its final dot? `None` when no verdict on
    /// the content of the latest transaction came.
    pub(crate) fn message_accepted(&self) -> Option<bool> {
        self.message_accepted
    }

    /// State for the prompt.
    pub(crate) fn state(&self) -> PromptState {
        PromptState {
            tls: self.tls,
            authed: self.authenticated,
            in_transaction: self.in_transaction,
            in_data: self.in_data,
            closed: self.closed,
        }
    }

    /// Was `:data`'s message dropped with the connection, DATA unanswered ([`Self::drop_unsent_message`])?
    pub(crate) fn message_dropped(&self) -> bool {
        self.message_dropped
    }

    /// Did the session close inside a typed message (a 421 or a drop after the 354)?
    pub(crate) fn closed_in_data(&self) -> bool {
        self.closed_in_data
    }

    /// The latest EHLO capabilities (forgotten after STARTTLS, RFC 3207 §4.2).
    pub(crate) fn capabilities(&self) -> Option<&Capabilities> {
        self.caps.as_ref()
    }

    /// Have the capabilities changed since the last call? (The REPL copies them for completion
    /// only then: a copy per read of a hostile megabyte-sized list would add up.)
    pub(crate) fn take_caps_changed(&mut self) -> bool {
        std::mem::take(&mut self.caps_changed)
    }

    /// Is the next typed line a secret (a SASL response: a typed AUTH or an AUTH sent by `:raw`
    /// has not had its final reply, whether or not its 334 has come)? The REPL keeps such a
    /// line out of the history and the recording.
    pub(crate) fn expects_secret(&self) -> bool {
        self.sasl.is_some() || self.raw_auth.is_some()
    }

    /// How many SASL exchanges have started so far (a counter to compare, not a total).
    pub(crate) fn exchanges_started(&self) -> u32 {
        self.exchanges
    }

    /// Did the last SASL exchange to end succeed (235)? False after a refusal or a close.
    pub(crate) fn last_exchange_ok(&self) -> bool {
        self.exchange_ok
    }

    /// The last `:auth` ended in a 235 its mechanism refused: `(mechanism, reason)`, once.
    pub(crate) fn take_auth_refuted(&mut self) -> Option<(String, String)> {
        self.auth_refuted.take()
    }

    /// Has a QUIT been sent on this connection?
    pub(crate) fn quit_sent(&self) -> bool {
        self.quit_sent
    }

    /// Is the session over?
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// How many writes this session has queued (commands, content, `:raw` bytes): the same
    /// count before and after an input means it sent nothing.
    pub(crate) fn writes(&self) -> u64 {
        self.out.writes()
    }

    /// Is the transport encrypted?
    pub(crate) fn is_tls(&self) -> bool {
        self.tls
    }

    fn awaiting_tls(&self) -> bool {
        self.actions.contains(&Action::StartTls)
    }

    // ----- user input -------------------------------------------------------------------------

    /// Send one typed line verbatim plus CRLF. The phase is inferred from the verb; after a 354
    /// to a typed DATA the line is message content (a lone `.` ends it). Nothing is changed in
    /// the line: no magic letters, no case folding.
    pub(crate) fn send_line(&mut self, line: &str) {
        if self.closed {
            self.out.error("not connected: :reconnect or :quit");
            return;
        }
        self.drop_message_overtaken();
        self.raw_outstanding = false;
        self.raw_lines = 0;
        let mut wire = line.as_bytes().to_vec();
        wire.extend_from_slice(b"\r\n");
        if line.contains(['\r', '\n']) {
            self.out
                .warn("the line contains a CR or LF: sent as typed (use :raw for exact bytes)");
        }
        if self.in_data {
            if wire.len() > MAX_TEXT_LINE {
                self.out.warn(format!(
                    "content line is {} octets with CRLF, over the {MAX_TEXT_LINE}-octet limit of RFC 5321 §4.5.3.1.6",
                    wire.len()
                ));
            }
            let (shown, redacted) = self.mask_known(line.to_string(), false);
            self.out
                .send(&wire, shown, SentKind::Body, Phase::Dot, redacted, self.tls);
            if line == "." {
                // The end of the content: the reply to it is the next one expected.
                self.in_data = false;
                self.expect_end_of_content();
            }
            return;
        }
        if wire.len() > MAX_COMMAND_LINE {
            self.out.warn(format!(
                "command line is {} octets with CRLF, over the {MAX_COMMAND_LINE}-octet limit of RFC 5321 §4.5.3.1.4: sent as typed",
                wire.len()
            ));
        }
        if self.expects_secret() {
            // A SASL response typed by hand: a secret unless the user asked to see secrets. Its
            // reply is awaited as one of the exchange's; after an AUTH sent by `:raw` the
            // exchange goes on as a typed one. `*` cancels it (RFC 4954 §4): the next line is a
            // command again.
            let id = match self.sasl {
                Some(id) => id,
                None => {
                    self.raw_auth = None;
                    self.sasl_after_raw = true;
                    self.new_sasl_id()
                }
            };
            self.sasl = (line != "*").then_some(id);
            let secret = !self.show_secrets && !line.is_empty() && line != "*";
            if secret && !std::mem::take(&mut self.user_prompt) {
                self.remember_secret(line);
            }
            let shown = if secret {
                auth::mask(line)
            } else {
                line.to_string()
            };
            self.out
                .send(&wire, shown, SentKind::Auth, Phase::Auth, secret, self.tls);
            self.pending.push_back(Expect::TypedAuth {
                id,
                cancel: line == "*",
            });
            return;
        }
        let (phase, verb) = classify(line, self.tls_upgraded);
        let (shown, redacted) = match verb {
            // `AUTH PLAIN <base64>` carries the password: mask the initial response.
            Verb::Auth if !self.show_secrets => mask_auth_line(line),
            _ => (line.to_string(), false),
        };
        if matches!(verb, Verb::Ehlo | Verb::Helo) {
            self.lmtp = line
                .split_whitespace()
                .next()
                .is_some_and(|v| v.eq_ignore_ascii_case("LHLO"));
            if let Some(name) = line.split_whitespace().nth(1) {
                self.helo_name = name.to_string();
            }
        }
        if verb == Verb::Quit {
            self.quit_sent = true;
        }
        self.track_envelope(line, phase, verb);
        if redacted && let Some(ir) = line.split_whitespace().nth(2) {
            self.remember_secret(ir);
        }
        let (shown, redacted) = self.mask_known(shown, redacted);
        self.out
            .send(&wire, shown, SentKind::Command, phase, redacted, self.tls);
        let expect = if phase == Phase::StartTls && !self.tls {
            Expect::StartTls
        } else if verb == Verb::Auth {
            // The exchange is under way from now on when a 334 is sure to follow: what is typed
            // before it arrives is already a response.
            let id = self.new_sasl_id();
            if typed_auth_continues(line) {
                self.sasl = Some(id);
                self.sasl_after_raw = false;
                self.exchanges = self.exchanges.wrapping_add(1);
            }
            Expect::TypedAuth { id, cancel: false }
        } else if verb == Verb::Bdat
            && self.lmtp
            && line
                .split_whitespace()
                .nth(2)
                .is_some_and(|w| w.eq_ignore_ascii_case("LAST"))
        {
            // The last chunk ends the content: LMTP answers it per recipient (RFC 3030 §2,
            // RFC 2033 §4.2).
            self.expect_end_of_content();
            return;
        } else {
            let params = match Command::parse(line.as_bytes()) {
                Ok(Command::Mail { params, .. } | Command::Rcpt { params, .. })
                    if matches!(verb, Verb::Mail | Verb::Rcpt) =>
                {
                    Some(params)
                }
                _ => None,
            };
            Expect::Line {
                phase,
                verb,
                params,
                word: verb_word(line),
            }
        };
        self.pending.push_back(expect);
    }

    /// A typed line that is a `BDAT size [LAST]` the server will take as one (RFC 3030 §2): the
    /// chunk it then reads, `size` octets right after the line, whatever it answers (§2: a
    /// refused BDAT's chunk is read and discarded all the same, and no reply comes before it).
    /// The REPL asks for those octets before anything is sent, then sends line and chunk at
    /// once ([`ManualSession::send_bdat`]). `None` for any other line, for a BDAT whose size
    /// does not parse (the server answers it at once: 501, no chunk read), inside a typed DATA
    /// (content) or a SASL exchange (a response), and on a closed session.
    pub(crate) fn chunk_owed(&self, line: &str) -> Option<ChunkOwed> {
        if self.closed || self.in_data || self.expects_secret() {
            return None;
        }
        match Command::parse(line.as_bytes()) {
            Ok(Command::Bdat { size, last }) => Some(ChunkOwed { size, last }),
            _ => None,
        }
    }

    /// A typed `BDAT size [LAST]` and its chunk, written one after the other without a wait
    /// between them (RFC 3030 §2: the server reads the chunk before it replies): the line as
    /// [`ManualSession::send_line`] sends it, then the chunk's octets exactly as given (no
    /// dot-stuffing, no line-end fix: §2 has none), shown as content. One reply is awaited
    /// (per recipient for LMTP's last chunk).
    pub(crate) fn send_bdat(&mut self, line: &str, chunk: &[u8]) {
        if self.closed {
            self.out.error("not connected: :reconnect or :quit");
            return;
        }
        self.send_line(line);
        if !chunk.is_empty() {
            let shown = crate::smtp::outbox::display_text(chunk.to_vec());
            let (shown, redacted) = self.mask_known(shown, false);
            self.out
                .send(chunk, shown, SentKind::Body, Phase::Dot, redacted, self.tls);
        }
    }

    /// The content just ended (the dot, or LMTP's last BDAT chunk): one reply, or after LHLO
    /// one per recipient whose RCPT was accepted, in RCPT order (RFC 2033 §4.2). The RCPT
    /// replies are in by now: DATA got its 354 after them.
    fn expect_end_of_content(&mut self) {
        let accepted: Vec<usize> = (0..self.recipients.len())
            .filter(|&i| self.recipients[i].status == RcptStatus::Accepted)
            .collect();
        if !self.lmtp || accepted.is_empty() {
            self.pending.push_back(Expect::Dot);
            return;
        }
        self.message_accepted = None;
        // Not known to be delivered until its own reply comes (a close first leaves it so).
        for &i in &accepted {
            self.recipients[i].awaiting_delivery();
        }
        self.pending
            .extend(accepted.into_iter().map(Expect::LmtpDot));
    }

    fn new_sasl_id(&mut self) -> u32 {
        let id = self.next_sasl;
        self.next_sasl = self.next_sasl.wrapping_add(1);
        id
    }

    /// Send bytes exactly as given (`:raw`). Replies they draw are shown as answers, not as
    /// unsolicited.
    pub(crate) fn send_raw(&mut self, bytes: &[u8]) {
        if self.closed {
            self.out.error("not connected: :reconnect or :quit");
            return;
        }
        self.drop_message_overtaken();
        self.raw_outstanding = true;
        self.raw_lines = self
            .raw_lines
            .saturating_add(bytes.iter().filter(|&&b| b == b'\n').count());
        // A byte that is not UTF-8 (`:raw "\xFF"`) as the transcript shows a reply's: `\xFF`.
        let text = crate::smtp::reply::text_of(bytes).into_owned();
        // Exact bytes, but an AUTH line among them carries a secret all the same, and so does
        // every line after it (its SASL responses), or every line when an exchange is under way.
        let in_sasl = self.expects_secret();
        let masked = mask_raw(&text, in_sasl);
        if in_sasl {
            self.sasl = None;
            self.raw_auth = Some(0);
        } else if let Some(before) = masked.auth_line {
            self.raw_auth = Some(before);
            self.exchanges = self.exchanges.wrapping_add(1);
        }
        // The secret lines are those the mask changed (an AUTH line's initial response).
        if masked.redacted {
            let secrets: Vec<String> = text
                .split_inclusive('\n')
                .zip(masked.text.split_inclusive('\n'))
                .filter(|(a, b)| a != b)
                .map(|(a, _)| {
                    let a = a.trim();
                    let auth = a
                        .split_whitespace()
                        .next()
                        .is_some_and(|v| v.eq_ignore_ascii_case("AUTH"));
                    if auth {
                        a.split_whitespace().nth(2).unwrap_or("").to_string()
                    } else {
                        a.to_string()
                    }
                })
                .collect();
            secrets.iter().for_each(|l| self.remember_secret(l));
        }
        let (shown, redacted) = if self.show_secrets {
            (text, false)
        } else {
            self.mask_known(masked.text, masked.redacted)
        };
        self.out.send(
            bytes,
            shown,
            SentKind::Raw,
            // Bytes in no phase: a reply to them is judged as one to a command outside the
            // SMTP phases (exit 36), not as the previous command's.
            Phase::Other,
            redacted,
            self.tls,
        );
    }

    /// `:starttls`: send STARTTLS; on 220 the session asks for [`Action::StartTls`].
    pub(crate) fn starttls(&mut self) {
        if self.tls {
            self.out.error("the connection is already encrypted");
            return;
        }
        if self.caps.as_ref().is_some_and(|c| !c.has("STARTTLS")) {
            self.out
                .warn("STARTTLS is not advertised in the last EHLO reply: sending it anyway");
        }
        self.send_line("STARTTLS");
    }

    /// The TLS handshake asked for succeeded: forget what was said in plain text and EHLO again
    /// (RFC 3207 §4.2).
    pub(crate) fn tls_established(&mut self) {
        self.tls = true;
        self.tls_upgraded = true;
        self.caps = None;
        self.caps_changed = true;
        self.authenticated = false;
        self.in_transaction = false;
        self.buf.clear();
        let verb = if self.lmtp { "LHLO" } else { "EHLO" };
        let line = format!("{verb} {}", self.helo_name);
        self.send_line(&line);
    }

    /// The TLS handshake failed: the connection is unusable.
    pub(crate) fn tls_failed(&mut self, reason: &str) {
        self.out.error(format!("TLS failed: {reason}"));
        self.close();
    }

    /// `:auth MECH`: run a SASL mechanism to completion, secrets masked (same-length `*`) unless
    /// show-secrets. Returns false (with an error event) when the mechanism is unknown or lacks a
    /// credential; nothing is sent then.
    pub(crate) fn auth(&mut self, mechanism: &str, creds: Credentials) -> bool {
        if self.closed {
            self.out.error("not connected: :reconnect or :quit");
            return false;
        }
        let name = mechanism.to_ascii_uppercase();
        let Some(mut mech) = auth::mechanism(&name, &creds) else {
            self.out.error(format!(
                "ehlo does not implement AUTH {name} (it knows {})",
                auth::SUPPORTED.join(", ")
            ));
            return false;
        };
        if let Err(e) = mech.ready() {
            self.out.error(format!("AUTH {name}: {e}"));
            return false;
        }
        if let Some(caps) = &self.caps
            && !caps.offers_auth(&name)
        {
            let offered = caps.auth_mechanisms();
            self.out.warn(format!(
                "AUTH {name} is not advertised (offered: {}): trying anyway",
                if offered.is_empty() {
                    "none".to_string()
                } else {
                    offered.join(" ")
                }
            ));
        }
        if !self.tls {
            self.out.warn("AUTH over an unencrypted connection: the credentials can be read on the wire (try :starttls first)");
        }
        self.raw_outstanding = false;
        self.raw_lines = 0;
        if !self.show_secrets {
            for secret in [&creds.password, &creds.token].into_iter().flatten() {
                self.secrets.extend(auth::secret_forms(secret.expose()));
            }
        }
        let initial = mech.initial_response();
        let (wire_ir, shown_ir, secret) = match &initial {
            Some(step) => {
                let b64 = auth::encode_initial(step);
                let secret = step.secret && !self.show_secrets;
                if secret {
                    self.remember_secret(&b64);
                }
                let shown = if secret {
                    auth::mask(&b64)
                } else {
                    b64.clone()
                };
                (Some(b64), Some(shown), secret)
            }
            None => (None, None, false),
        };
        let wire = Command::Auth {
            mechanism: name.clone(),
            initial: wire_ir,
        }
        .encode();
        let shown = match shown_ir {
            Some(s) => format!("AUTH {name} {s}"),
            None => format!("AUTH {name}"),
        };
        self.drop_message_overtaken();
        self.out.send(
            &wire,
            shown,
            SentKind::Command,
            Phase::Auth,
            secret,
            self.tls,
        );
        self.pending.push_back(Expect::Auth);
        self.auth = Some(AuthRun {
            mech,
            cancelled: None,
        });
        true
    }

    /// `:data`: send DATA, and on 354 the content encoded with every fix-up (LF→CRLF,
    /// dot-stuffing, the end marker), shown as sent.
    pub(crate) fn data(&mut self, content: &[u8]) {
        if self.closed {
            self.out.error("not connected: :reconnect or :quit");
            return;
        }
        self.drop_message_overtaken();
        self.raw_outstanding = false;
        self.raw_lines = 0;
        let wire = Command::Data.encode();
        self.out.send(
            &wire,
            "DATA".into(),
            SentKind::Command,
            Phase::Data,
            false,
            self.tls,
        );
        self.pending.push_back(Expect::DataHelper);
        self.data_content = Some(content.to_vec());
    }

    /// The REPL closed the connection itself (`:reconnect`, `:quit` without QUIT).
    pub(crate) fn close(&mut self) {
        if !self.closed {
            self.drop_unsent_message();
            self.closed = true;
            self.pending.clear();
            self.closed_in_data = self.in_data;
            self.in_data = false;
            self.in_transaction = false;
            self.end_exchange_by_close();
            self.actions.push_back(Action::Close);
            self.out.push(Event::Closed { expected: true });
        }
    }

    // ----- replies --------------------------------------------------------------------------

    fn on_reply(&mut self, reply: Reply) {
        self.user_prompt = reply.code == Some(334) && asks_user_name(&reply);
        // Cut for size (a reply that never ends, or megabytes of it): show what came, then
        // drop the connection, since the rest of that reply has no command to belong to. The
        // same limits as the one-shot send. The reply's own `ReplyTooLarge` deviation says
        // what arrived and that reading stopped: said once, not again as an error.
        if reply
            .deviations
            .iter()
            .any(|d| matches!(d, Deviation::ReplyTooLarge { .. }))
        {
            let phase = self.phase();
            self.out.push(Event::unanswering(reply, self.tls, phase));
            self.close();
            return;
        }
        let Some(expect) = self.pending.pop_front() else {
            let phase = self.out.last_phase();
            // Replies to `:raw` bytes come with nothing pending too: each line they hold may
            // draw one, on top of the limit.
            self.unsolicited += 1;
            if self.unsolicited > MAX_UNSOLICITED.saturating_add(self.raw_lines) {
                // Not shown: the one past the limit, like the line past a reply's limit.
                self.out.push(Event::Deviation {
                    deviation: Deviation::UnsolicitedFlood {
                        replies: self.unsolicited - 1,
                    },
                    phase,
                });
                self.close();
                return;
            }
            let explanation = codes::explain(&reply, phase);
            if self.sasl.is_some() && self.sasl_after_raw && !self.raw_outstanding {
                // A typed exchange that went on from an AUTH sent by `:raw`: the replies to the
                // raw bytes took the places of the typed lines', so this one is the exchange's.
                let expected = matches!(reply.code, Some(235 | 334));
                self.on_typed_auth(self.sasl, &reply, false, false);
                let closing = reply.announces_close();
                self.out.push(Event::Received {
                    reply,
                    tls: self.tls,
                    expected,
                    phase: Phase::Auth,
                    explanation,
                });
                if closing {
                    self.server_closes();
                }
                return;
            }
            let answers_raw = self.raw_outstanding;
            if !answers_raw {
                self.out.push(Event::Deviation {
                    deviation: Deviation::UnsolicitedReply,
                    phase,
                });
            }
            if answers_raw {
                self.on_raw_reply(reply.code);
            }
            let closing = reply.announces_close();
            self.out.push(Event::Received {
                reply,
                tls: self.tls,
                expected: answers_raw,
                phase,
                explanation,
            });
            if closing {
                self.server_closes();
            }
            return;
        };
        self.unsolicited = 0;
        self.last_answered = Some(expect.clone());
        let phase = expect.phase();
        let expected = match &expect {
            Expect::Banner | Expect::StartTls => reply.is_ready(),
            // RFC 4954 §4: the server "MUST reject the AUTH command by sending a 501 reply".
            Expect::TypedAuth { cancel: true, .. } => reply.code == Some(501),
            Expect::Auth | Expect::TypedAuth { .. } => matches!(reply.code, Some(235 | 334)),
            Expect::DataHelper => reply.code == Some(354),
            Expect::Line { verb, .. } => verb.wants(reply.code),
            Expect::Dot | Expect::LmtpDot(_) => reply.code == Some(250),
        } && !reply.deviations.contains(&Deviation::TruncatedAtClose);
        // A reply the close cut short (RFC 5321 §4.2.1: it ends with its last line) is shown,
        // but is not what the command wanted, whatever its code says.
        let answer = match &expect {
            Expect::LmtpDot(_) => codes::Answer::LmtpRecipient,
            // The reply to our own `*` answers a cancel, not a failed login: no advice about
            // authenticating applies to it.
            Expect::TypedAuth { cancel: true, .. } => codes::Answer::AuthCancel,
            // Nothing follows a typed greeting by itself: the user greets again, or not.
            Expect::Line {
                verb: verb @ (Verb::Ehlo | Verb::Helo),
                ..
            } => {
                let typed = match *verb {
                    Verb::Helo => "HELO",
                    _ if self.lmtp => "LHLO",
                    _ => "EHLO",
                };
                codes::Answer::GreetingWithoutFallback(typed)
            }
            _ => codes::Answer::Command,
        };
        // Worded from the session's state, as the send's: no `:starttls` to a session in TLS.
        let known = codes::Known::of_session(self.tls, self.caps.as_ref(), self.authenticated);
        let mut explanation = codes::explain_known(&reply, phase, answer, known);
        explanation.hint = explanation.hint.map(|h| h.tls_asked(self.tls_asked));
        // A refusal of the parameters names those the typed command carried, as the send's
        // does.
        if let Expect::Line {
            params: Some(sent), ..
        } = &expect
        {
            explanation.hint = codes::params_refused(explanation.hint, &reply, phase, sent);
        }
        self.out.push(Event::Received {
            reply: reply.clone(),
            tls: self.tls,
            expected,
            phase,
            explanation,
        });
        match expect {
            Expect::Banner => {}
            Expect::Line {
                phase: Phase::Rcpt,
                verb,
                ..
            } => {
                // Replies come in the order the commands went out (RFC 5321 §4.1.1).
                if let Some(r) = self
                    .recipients
                    .iter_mut()
                    .find(|r| r.status == RcptStatus::NotAttempted)
                {
                    r.answered(&reply);
                }
                self.on_line_reply(verb, &reply);
            }
            Expect::Line { verb, .. } => self.on_line_reply(verb, &reply),
            Expect::StartTls => self.on_starttls(&reply),
            Expect::Auth => self.on_auth(&reply),
            Expect::TypedAuth { id, cancel } => {
                let last = !self
                    .pending
                    .iter()
                    .any(|e| matches!(e, Expect::TypedAuth { id: i, .. } if *i == id));
                self.on_typed_auth(Some(id), &reply, last, cancel);
            }
            Expect::DataHelper => self.on_data_helper(&reply),
            Expect::Dot => {
                self.in_transaction = false;
                // A 2xx that came whole (a reply cut off by the close is no acceptance).
                self.message_accepted = Some(expected);
            }
            Expect::LmtpDot(n) => {
                self.in_transaction = false;
                // Accepted only when delivered to every recipient that got here.
                self.message_accepted = Some(self.message_accepted.unwrap_or(true) && expected);
                if let Some(r) = self.recipients.get_mut(n) {
                    r.delivery(&reply, expected);
                }
            }
        }
        if reply.announces_close() && !self.closed {
            self.server_closes();
        }
    }

    /// Follow the envelope for the summary: a MAIL FROM starts a new one, a RCPT TO adds its
    /// recipient (the path as the server will read it, or what follows `TO:` when the line
    /// does not parse).
    fn track_envelope(&mut self, line: &str, phase: Phase, verb: Verb) {
        if verb == Verb::Mail {
            self.recipients.clear();
            self.message_accepted = None;
        } else if phase == Phase::Rcpt {
            let address = match Command::parse(line.as_bytes()) {
                Ok(Command::Rcpt { to, .. }) => to,
                _ => line
                    .split_once(':')
                    .map_or("", |(_, rest)| rest)
                    .trim()
                    .to_string(),
            };
            self.recipients.push(RecipientResult::new(address));
        }
    }

    /// A reply to `:raw` bytes while an AUTH they sent is under way: the replies due to the lines
    /// before the AUTH pass, a 334 asks for a SASL response (RFC 4954 §4), anything else is the
    /// exchange's final reply and ends it.
    fn on_raw_reply(&mut self, code: Option<u16>) {
        let Some(before) = self.raw_auth.as_mut() else {
            return;
        };
        if code == Some(334) {
            return;
        }
        if *before > 0 {
            *before -= 1;
        } else {
            self.raw_auth = None;
            self.sasl = None;
            self.exchange_ok = code == Some(235);
        }
    }

    /// The connection closed: an exchange under way ends without authenticating.
    fn end_exchange_by_close(&mut self) {
        if self.sasl.is_some() || self.raw_auth.is_some() {
            self.exchange_ok = false;
        }
        self.sasl = None;
        self.raw_auth = None;
    }

    /// A reply in the exchange `id` of a typed AUTH: a 334 asks for a response (the exchange
    /// goes on, or starts, when the AUTH had an initial response, if `last`: no response to
    /// it is typed yet), anything else is the final reply and ends it (RFC 4954 §4). After our
    /// own `*` (`cancel`) the exchange is over whatever comes: a 334 asks for nothing more, and
    /// a 235 claims a success the client never proved (the explanation says so).
    fn on_typed_auth(&mut self, id: Option<u32>, reply: &Reply, last: bool, cancel: bool) {
        if cancel {
            self.exchange_ok = false;
            if self.sasl == id {
                self.sasl = None;
            }
            return;
        }
        match reply.code {
            Some(334) => {
                if last && self.sasl.is_none() && self.raw_auth.is_none() {
                    self.sasl = id;
                    self.sasl_after_raw = false;
                    self.exchanges = self.exchanges.wrapping_add(1);
                }
            }
            code => {
                if code == Some(235) {
                    self.authenticated = true;
                }
                self.exchange_ok = code == Some(235);
                if self.sasl == id {
                    self.sasl = None;
                }
            }
        }
    }

    /// A 421 (RFC 5321 §3.8): the server is closing the channel, whatever was asked. Nothing
    /// more is sent, and the close that follows is the one the 421 announced (not "closed
    /// unexpectedly").
    fn server_closes(&mut self) {
        self.out.info("421: the server is closing the connection");
        self.close();
    }

    fn on_line_reply(&mut self, verb: Verb, reply: &Reply) {
        let ok = verb.wants(reply.code);
        match verb {
            Verb::Ehlo if ok => {
                // A new EHLO resets the transaction (RFC 5321 §4.1.4).
                self.caps = Some(Capabilities::from_reply(reply));
                self.caps_changed = true;
                self.in_transaction = false;
            }
            Verb::Helo if ok => {
                self.caps = Some(Capabilities::default());
                self.caps_changed = true;
                self.in_transaction = false;
            }
            Verb::Mail if ok => self.in_transaction = true,
            Verb::Rset if ok => self.in_transaction = false,
            Verb::Data if reply.code == Some(354) => {
                self.in_data = true;
                self.out.info("enter the message; end it with a line holding only \".\" (every line until then is its content, RSET and QUIT too; type dot-stuffed lines yourself, or use :data)");
            }
            Verb::Quit if reply.code == Some(221) => {
                self.close();
            }
            _ => {}
        }
    }

    fn on_starttls(&mut self, reply: &Reply) {
        if !reply.is_ready() {
            return;
        }
        // Bytes already buffered came before the handshake: never trust them as if they came
        // over TLS (CVE-2011-0411 class).
        if !self.buf.is_empty() {
            // Reported once, as the deviation, as the automatic session does (a warning
            // besides it said the same twice).
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

    fn on_auth(&mut self, reply: &Reply) {
        match reply.code {
            Some(334) => {
                let Some(run) = self.auth.as_mut() else {
                    return;
                };
                if run.cancelled.is_some() {
                    // A challenge after our `*`: the exchange is over for us, nothing is sent.
                    self.auth = None;
                    return;
                }
                let name = run.mech.name();
                let text = reply.lines.first().cloned().unwrap_or_default();
                let step = auth::decode_challenge(text.trim()).and_then(|c| run.mech.respond(&c));
                if let Some(err) = run.mech.server_error() {
                    self.out
                        .info(format!("{name}: the server reports an error: {err}"));
                }
                match step {
                    Ok(step) => {
                        let b64 = auth::encode_response(&step);
                        let secret = step.secret && !self.show_secrets;
                        if secret {
                            self.remember_secret(&b64);
                        }
                        let shown = if secret {
                            auth::mask(&b64)
                        } else {
                            b64.clone()
                        };
                        let wire = format!("{b64}\r\n").into_bytes();
                        self.out
                            .send(&wire, shown, SentKind::Auth, Phase::Auth, secret, self.tls);
                    }
                    Err(e) => {
                        // Cancel the exchange (RFC 4954 §4).
                        self.out.error(format!("AUTH {name}: {e}: cancelling"));
                        self.out.cancel_auth(self.tls);
                        run.cancelled = Some(e.to_string());
                    }
                }
                self.pending.push_back(Expect::Auth);
            }
            Some(235) => {
                let verdict = self.auth.as_mut().map(|r| match r.cancelled.take() {
                    // The server answers our `*` with a success it never earned: as the send
                    // says it (`on_auth_cancelled`), the session is not authenticated.
                    Some(reason) => (
                        r.mech.name(),
                        Err(format!(
                            "{reason}; the server then answered the cancelled exchange with \
                             235, claiming success: it could not prove it knows the password, \
                             so the session is not authenticated"
                        )),
                    ),
                    None => (
                        r.mech.name(),
                        r.mech.finish(None).map_err(|e| e.to_string()),
                    ),
                });
                self.auth = None;
                match verdict {
                    Some((name, Err(e))) => {
                        self.out.error(format!("AUTH {name}: {e}"));
                        self.auth_refuted = Some((name.to_string(), e));
                    }
                    _ => self.authenticated = true,
                }
            }
            _ => self.auth = None,
        }
    }

    /// `:data`'s message still waits for DATA's 354 as the connection closes (no reply came,
    /// or the server dropped it): it is never sent, and that is said, with its size in lines,
    /// rather than lost without a word.
    pub(crate) fn drop_unsent_message(&mut self) {
        if let Some(content) = self.data_content.take() {
            self.message_dropped = true;
            self.out.warn(format!(
                "{}: the connection closed before DATA was answered with 354",
                unsent_message(&content)
            ));
        }
    }

    /// Another line goes out while `:data`'s DATA still awaits its 354 (it timed out): were a
    /// late 354 to come now, the server would read that line as the first of the content
    /// (RFC 5321 §4.1.1.4) and the held message after it, so it is dropped here and said not
    /// sent; a late 354 is then only a reply.
    fn drop_message_overtaken(&mut self) {
        if let Some(content) = self.data_content.take() {
            self.out.warn(format!(
                "{}: another line was sent before DATA was answered with 354",
                unsent_message(&content)
            ));
        }
    }

    fn on_data_helper(&mut self, reply: &Reply) {
        let Some(content) = self.data_content.take() else {
            // The message was dropped ([`Self::drop_message_overtaken`]): a late 354 sends
            // nothing, but the server now reads lines as content, as after a typed DATA.
            if reply.code == Some(354) {
                self.in_data = true;
                self.out.info("DATA was answered with 354 after the message was dropped: every line is now content until a line holding only \".\"");
            }
            return;
        };
        if reply.code != Some(354) {
            self.out.warn(format!(
                "DATA was not answered with 354: {}",
                unsent_message(&content)
            ));
            return;
        }
        let wire = data::encode(&content, Fixup::ALL);
        let shown = crate::smtp::outbox::display_text(wire.clone());
        let (shown, redacted) = self.mask_known(shown, false);
        self.out
            .send(&wire, shown, SentKind::Body, Phase::Dot, redacted, self.tls);
        self.expect_end_of_content();
    }
}

/// "the message (3 lines) was not sent": `:data`'s message, held until DATA's 354 (RFC 5321
/// §4.1.1.4), said dropped with how many lines it held.
fn unsent_message(content: &[u8]) -> String {
    let lines = match content {
        [] => 0,
        _ => content.split(|&b| b == b'\n').count() - usize::from(content.ends_with(b"\n")),
    };
    format!(
        "the message ({lines} line{}) was not sent",
        if lines == 1 { "" } else { "s" }
    )
}

/// Does a typed AUTH line start an exchange that is sure to draw a 334 (RFC 4954 §4): no initial
/// response (or the empty one, `=`), or LOGIN, whose password is always asked for?
fn typed_auth_continues(line: &str) -> bool {
    let Some((at, has_initial)) = auth::auth_line_secret(line) else {
        return false;
    };
    let mech = line[..at].split_whitespace().nth(1).unwrap_or("");
    (!has_initial && line[at..].trim() != "=") || mech.eq_ignore_ascii_case("LOGIN")
}

/// A typed command line as it may be stored (history, recordings): `AUTH MECH <initial
/// response>` with the response masked, and so is a word in the mechanism's place that is no
/// SASL mechanism name (`AUTH <blob>`, `AUTH PLAIN:<blob>`: the credential itself, as the
/// transcript reads it, [`auth::auth_line_secret`]); `None` when the line holds no secret.
pub(crate) fn redact_typed_line(line: &str) -> Option<String> {
    auth::mask_auth_command(line.trim_end())
}

/// What it means that a wait for a reply ran out after `secs` seconds, as the warning that
/// says so. In the greeting, bytes without their line end are a slow or trickling server;
/// silence is what an implicit-TLS port (465) does to a client that speaks plain SMTP first
/// (RFC 8314 §3.3), unless the connection began with TLS (`implicit_tls`). Elsewhere, and with
/// no session, a late reply is still shown. Every wait that runs out is said: once the
/// greeting's own wait was (`banner_said`), a later wait while it is still owed (the inputs
/// after it were sent meanwhile) says that, not the greeting's diagnosis again.
pub(crate) fn wait_ran_out(
    session: Option<&ManualSession>,
    secs: f64,
    implicit_tls: bool,
    banner_said: bool,
) -> codes::Hint {
    let banner = session.is_some_and(|s| s.phase() == Phase::Banner) && !implicit_tls;
    let partial = session
        .and_then(|s| s.partial().map(|(p, _)| p.to_string()))
        .filter(|_| banner);
    match partial {
        // What the server sent is quoted as it is: never read for remedies.
        Some(got) if banner_said => codes::Hint::plain(format!(
            "no reply within {secs}s: the banner is still not complete ({got}); late replies will be shown when they arrive"
        )),
        Some(got) => codes::Hint::plain(format!(
            "no complete banner within {secs}s: {got}; the rest will be shown when it arrives"
        )),
        None if banner && banner_said => codes::Hint::plain(format!(
            "no reply within {secs}s: still no banner; late replies will be shown when they arrive"
        )),
        None if banner => codes::Hint::new(format!(
            "no banner within {secs}s: this port may speak implicit TLS (try ⟨tls-on-connect⟩), \
             or the server is slow; a late banner will be shown when it arrives"
        )),
        None => codes::Hint::plain(format!(
            "no reply within {secs}s: a late reply will be shown when it arrives"
        )),
    }
}

/// `:raw` text as it may be shown or stored ([`mask_raw`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RawMasked {
    /// The text with every secret replaced by [`auth::MASK`], line ends kept.
    pub(crate) text: String,
    /// Was something masked?
    pub(crate) redacted: bool,
    /// The index of the first line that is an `AUTH MECH …` command (how many lines precede
    /// it), if any.
    pub(crate) auth_line: Option<usize>,
}

/// `:raw` text with its secrets masked ([`auth::mask_sasl_lines`]). `in_sasl`: an exchange is
/// already under way, so the first lines are SASL responses too.
pub(crate) fn mask_raw(text: &str, in_sasl: bool) -> RawMasked {
    let m = auth::mask_sasl_lines(text.as_bytes(), in_sasl);
    RawMasked {
        // Valid UTF-8 in, whole lines, ASCII masks and prefixes cut at char boundaries out.
        text: String::from_utf8(m.bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        redacted: m.redacted,
        auth_line: m.auth_line,
    }
}

/// `:raw` text with its secrets masked ([`mask_raw`] outside an exchange), and whether there
/// was one.
pub(crate) fn mask_raw_auth(text: &str) -> (String, bool) {
    let m = mask_raw(text, false);
    (m.text, m.redacted)
}

/// Mask the initial response of a typed `AUTH MECH <base64>` line (a fixed-length mask; any
/// whitespace between the words, as servers accept it).
fn mask_auth_line(line: &str) -> (String, bool) {
    match auth::mask_auth_command(line) {
        Some(masked) => (masked, true),
        None => (line.to_string(), false),
    }
}

impl crate::smtp::reply::ReplyFeed for ManualSession {
    fn input(&mut self) -> (&mut Vec<u8>, &mut ReplyParser) {
        (&mut self.buf, &mut self.parser)
    }
    fn reading(&self) -> bool {
        !self.closed && !self.awaiting_tls()
    }
    fn starttls_awaited(&self) -> bool {
        self.pending.contains(&Expect::StartTls)
    }
    fn take(&mut self, reply: Reply) {
        let reply = self.redact(reply);
        self.on_reply(reply);
    }
}

/// A 334 whose text asks for a user name: AUTH LOGIN's `VXNlcm5hbWU6` ("Username:"), a
/// server's `User Name` or the same sent unencoded (draft-murchison-sasl-login §2.1 leaves
/// the prompt text to the server).
fn asks_user_name(reply: &Reply) -> bool {
    use base64::Engine as _;
    let text = reply.lines.first().map_or("", |l| l.trim());
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let prompt = decoded.as_deref().unwrap_or(text);
    let prompt = prompt
        .trim_end_matches(['\0', ':', ' '])
        .to_ascii_lowercase();
    matches!(prompt.as_str(), "username" | "user name" | "user")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::auth::Secret;

    #[test]
    fn raw_auth_lines_and_every_line_after_them_are_masked() {
        let m = auth::MASK;
        // Nothing in the bytes tells where the exchange ends: what follows an AUTH is masked.
        assert_eq!(
            mask_raw_auth("NOOP\r\nauth plain AHRpbQBwdw==\r\nAUTH LOGIN\n"),
            (format!("NOOP\r\nauth plain {m}\r\n{m}\n"), true)
        );
        assert_eq!(mask_raw_auth("\n.\n"), ("\n.\n".to_string(), false));
        let p = "U2VrcjN0UFc5OQ==";
        let b = "AGFsaWNlAFNla3IzdFBXOTk=";
        for (text, in_sasl, want, redacted, at) in [
            // An AUTH without initial response: the lines after it are its SASL responses.
            (
                format!("AUTH LOGIN\r\nYWxpY2U=\r\n{p}\r\n"),
                false,
                format!("AUTH LOGIN\r\n{m}\r\n{m}\r\n"),
                true,
                Some(0),
            ),
            (
                format!("AUTH PLAIN\r\n{b}\r\n"),
                false,
                format!("AUTH PLAIN\r\n{m}\r\n"),
                true,
                Some(0),
            ),
            (
                "AUTH LOGIN\r\n".into(),
                false,
                "AUTH LOGIN\r\n".into(),
                false,
                Some(0),
            ),
            // Tabs separate words as spaces do.
            (
                format!("EHLO x\r\nAUTH\tPLAIN\t{b}\r\n"),
                false,
                format!("EHLO x\r\nAUTH\tPLAIN\t{m}\r\n"),
                true,
                Some(1),
            ),
            // Inside an exchange every line is a response, up to a `*` that cancels it.
            (
                format!("{p}\r\n*\r\nNOOP\r\n"),
                true,
                format!("{m}\r\n*\r\nNOOP\r\n"),
                true,
                None,
            ),
            ("NOOP\r\n".into(), false, "NOOP\r\n".into(), false, None),
        ] {
            let got = mask_raw(&text, in_sasl);
            assert_eq!(
                got,
                RawMasked {
                    text: want,
                    redacted,
                    auth_line: at
                },
                "{text:?}"
            );
        }
    }

    /// The SASL responses of an AUTH sent by `:raw`, in the same bytes or typed after it, are
    /// masked until the exchange's final reply; then lines are shown again.
    #[test]
    fn raw_auth_responses_are_masked_until_the_final_reply() {
        let p = "U2VrcjN0UFc5OQ==";
        let shown = |ev: &[Event]| -> Vec<(String, bool)> {
            ev.iter()
                .filter_map(|e| match e {
                    Event::Sent { text, redacted, .. } => Some((text.clone(), *redacted)),
                    _ => None,
                })
                .collect()
        };
        // (a) `:raw "AUTH LOGIN\r\n"`, then typed responses.
        let mut s = ready();
        s.send_raw(b"AUTH LOGIN\r\n");
        assert!(s.expects_secret(), "before the 334 arrives too");
        s.feed(b"334 VXNlcm5hbWU6\r\n");
        assert!(s.expects_secret());
        s.send_line("YWxpY2U=");
        s.feed(b"334 UGFzc3dvcmQ6\r\n");
        assert!(s.expects_secret());
        s.send_line(p);
        assert_eq!(
            sent(&mut s),
            format!("AUTH LOGIN\r\nYWxpY2U=\r\n{p}\r\n"),
            "the wire is as typed"
        );
        s.feed(b"235 2.7.0 ok\r\n");
        assert!(!s.expects_secret());
        s.send_line("NOOP");
        let ev = events(&mut s);
        assert_eq!(
            shown(&ev),
            vec![
                ("AUTH LOGIN\r\n".into(), false),
                (auth::MASK.into(), true),
                (auth::MASK.into(), true),
                ("NOOP".into(), false)
            ]
        );
        assert!(!format!("{ev:?}").contains(p));
        // (b) everything in one `:raw`, after a command pipelined before it.
        let mut s = ready();
        s.send_raw(format!("NOOP\r\nAUTH LOGIN\r\nYWxpY2U=\r\n{p}\r\n").as_bytes());
        s.feed(b"250 ok\r\n334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n");
        assert!(s.expects_secret(), "the final reply has not come");
        s.feed(b"235 2.7.0 ok\r\n");
        assert!(!s.expects_secret());
        let ev = events(&mut s);
        assert_eq!(
            shown(&ev),
            vec![(
                format!("NOOP\r\nAUTH LOGIN\r\n{m}\r\n{m}\r\n", m = auth::MASK),
                true
            )]
        );
        // A refusal ends the exchange as well; what follows it is shown.
        let mut s = ready();
        s.send_raw(b"AUTH PLAIN\r\n");
        s.feed(b"504 5.5.4 no\r\n");
        assert!(!s.expects_secret());
        // `:raw` inside a typed exchange: every line is a response.
        let mut s = ready();
        s.send_line("AUTH LOGIN");
        s.feed(b"334 VXNlcm5hbWU6\r\n");
        let _ = events(&mut s);
        s.send_raw(format!("YWxpY2U=\r\n{p}\r\n").as_bytes());
        let ev = events(&mut s);
        assert_eq!(
            shown(&ev),
            vec![(format!("{m}\r\n{m}\r\n", m = auth::MASK), true)]
        );
        s.feed(b"334 UGFzc3dvcmQ6\r\n235 ok\r\n");
        assert!(!s.expects_secret());
        // --show-secrets shows them.
        let mut s = ManualSession::new("c", false, true);
        s.feed(b"220 x\r\n");
        s.send_raw(format!("AUTH LOGIN\r\n{p}\r\n").as_bytes());
        assert!(format!("{:?}", events(&mut s)).contains(p));
    }

    /// What the events show of the lines sent, and whether each was masked.
    fn shown_sent(ev: &[Event]) -> Vec<(String, bool)> {
        ev.iter()
            .filter_map(|e| match e {
                Event::Sent { text, redacted, .. } => Some((text.clone(), *redacted)),
                _ => None,
            })
            .collect()
    }

    /// A SASL response typed before the 334 arrives (type-ahead, or after the wait was
    /// stopped) is a secret all the same; once the exchange's final reply is in, the next line
    /// is a command again, shown as typed.
    #[test]
    fn responses_typed_before_the_334_are_secrets() {
        let m = auth::MASK;
        let blob = "AGVobG90ZXN0AFNla3IzdFBXOTk=";
        let user = "ZWhsb3Rlc3Q=";
        let pass = "U2VrcjN0UFc5OQ==";
        // AUTH PLAIN without initial response: the blob typed at once.
        let mut s = ready();
        s.send_line("AUTH PLAIN");
        assert!(s.expects_secret(), "the exchange runs from the AUTH on");
        s.send_line(blob);
        assert!(s.expects_secret(), "no final reply yet");
        assert_eq!(sent(&mut s), format!("AUTH PLAIN\r\n{blob}\r\n"));
        s.feed(b"334 \r\n");
        assert!(s.expects_secret());
        s.feed(b"235 2.7.0 ok\r\n");
        assert!(!s.expects_secret());
        assert!(s.state().authed);
        s.send_line("QUIT");
        let ev = events(&mut s);
        assert_eq!(
            shown_sent(&ev),
            vec![
                ("AUTH PLAIN".into(), false),
                (m.into(), true),
                ("QUIT".into(), false)
            ]
        );
        assert!(!format!("{ev:?}").contains(blob));
        assert_eq!(
            received_codes(&ev),
            vec![(334, true, Phase::Auth), (235, true, Phase::Auth)]
        );
        // AUTH LOGIN: user and password typed before either 334.
        let mut s = ready();
        s.send_line("AUTH LOGIN");
        s.send_line(user);
        s.send_line(pass);
        s.feed(b"334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n");
        assert!(s.expects_secret());
        s.feed(b"235 2.7.0 ok\r\n");
        assert!(!s.expects_secret());
        s.send_line("NOOP");
        let ev = events(&mut s);
        assert_eq!(
            shown_sent(&ev),
            vec![
                ("AUTH LOGIN".into(), false),
                (m.into(), true),
                (m.into(), true),
                ("NOOP".into(), false)
            ]
        );
        // AUTH LOGIN with the user name as initial response: the password follows.
        let mut s = ready();
        s.send_line(&format!("AUTH LOGIN {user}"));
        assert!(s.expects_secret());
        s.send_line(pass);
        s.feed(b"334 UGFzc3dvcmQ6\r\n535 5.7.8 no\r\n");
        assert!(!s.expects_secret() && !s.state().authed);
        assert!(!format!("{:?}", events(&mut s)).contains(pass));
        // A refusal of the AUTH ends the exchange: the response typed ahead stays masked (the
        // server takes it for a command), the line after the refusal is a command.
        let mut s = ready();
        s.send_line("AUTH PLAIN");
        s.send_line(blob);
        s.feed(b"504 5.5.4 no\r\n");
        assert!(!s.expects_secret());
        s.send_line("NOOP");
        s.feed(b"500 5.5.2 what\r\n250 ok\r\n");
        assert!(!s.expects_secret());
        let ev = events(&mut s);
        assert_eq!(
            shown_sent(&ev),
            vec![
                ("AUTH PLAIN".into(), false),
                (m.into(), true),
                ("NOOP".into(), false)
            ]
        );
        // `*` cancels (RFC 4954 §4): the next line is a command before the 501 comes.
        let mut s = ready();
        s.send_line("AUTH LOGIN");
        s.send_line("*");
        assert!(!s.expects_secret());
        s.send_line("NOOP");
        s.feed(b"334 VXNlcm5hbWU6\r\n501 5.7.0 cancelled\r\n250 ok\r\n");
        assert!(!s.expects_secret());
        let ev = events(&mut s);
        assert_eq!(
            shown_sent(&ev),
            vec![
                ("AUTH LOGIN".into(), false),
                ("*".into(), false),
                ("NOOP".into(), false)
            ]
        );
    }

    /// The reply to our own `*` (typed, or sent by the REPL when the user leaves or presses
    /// Ctrl-C at the prompt) answers a cancel (RFC 4954 §4: 501), not a failed login: it is what
    /// was asked for, and it gets no advice about authenticating (Postfix's "501 5.7.0
    /// Authentication aborted" used to get "the server wants authentication: add :auth …").
    /// A 235 to it claims a success the client never proved: the session is not authenticated.
    #[test]
    fn the_reply_to_our_own_cancel_is_no_call_to_authenticate() {
        for ahead in [false, true] {
            let mut s = ready();
            s.send_line("AUTH LOGIN");
            if !ahead {
                s.feed(b"334 VXNlcm5hbWU6\r\n");
            }
            s.send_line("*");
            if ahead {
                s.feed(b"334 VXNlcm5hbWU6\r\n");
            }
            s.feed(b"501 5.7.0 Authentication aborted\r\n");
            assert!(!s.expects_secret() && !s.state().authed);
            let ev = events(&mut s);
            let cancel = ev
                .iter()
                .find_map(|e| match e {
                    Event::Received {
                        reply,
                        expected,
                        explanation,
                        ..
                    } if reply.code == Some(501) => Some((*expected, explanation.hint.clone())),
                    _ => None,
                })
                .unwrap();
            assert_eq!(cancel, (true, None), "{ev:?}");
        }
        let mut s = ready();
        s.send_line("AUTH LOGIN");
        s.feed(b"334 VXNlcm5hbWU6\r\n");
        s.send_line("*");
        s.feed(b"235 2.7.0 ok\r\n");
        assert!(!s.expects_secret() && !s.state().authed);
        assert!(!s.last_exchange_ok());
        // A refusal of a response that was not a cancel keeps its advice.
        let mut s = ready();
        s.send_line("AUTH LOGIN");
        s.feed(b"334 VXNlcm5hbWU6\r\n");
        s.send_line("dXNlcg==");
        s.feed(b"501 5.7.0 Authentication aborted\r\n");
        let ev = events(&mut s);
        assert!(
            ev.iter().any(|e| matches!(e,
            Event::Received { reply, expected: false, explanation, .. }
                if reply.code == Some(501) && explanation.hint.is_some())),
            "{ev:?}"
        );
    }

    /// An AUTH with an initial response (not LOGIN) needs no more: the next line is a command,
    /// unless a 334 asks for one (a server's error challenge, RFC 7628 §3.2.2).
    #[test]
    fn an_initial_response_ends_the_exchange_unless_a_334_asks() {
        let mut s = ready();
        s.send_line("AUTH PLAIN AGVobG90ZXN0AFNla3IzdFBXOTk=");
        assert!(!s.expects_secret());
        s.feed(b"334 eyJzdGF0dXMiOiI0MDEifQ==\r\n");
        assert!(s.expects_secret());
        s.send_line("");
        s.feed(b"535 5.7.8 no\r\n");
        assert!(!s.expects_secret());
        // A 334 to an AUTH whose response went out already asks for nothing more.
        let mut s = ready();
        s.send_line("AUTH PLAIN");
        s.send_line("AGVobG90ZXN0AFNla3IzdFBXOTk=");
        s.feed(b"334 \r\n235 ok\r\n");
        assert!(!s.expects_secret());
        // The session closed mid-exchange: no secret prompt on a dead connection.
        let mut s = ready();
        s.send_line("AUTH LOGIN");
        s.feed_eof();
        assert!(!s.expects_secret());
    }

    /// Responses typed after `:raw "AUTH LOGIN\r\n"`, before any reply: both masked, and the
    /// exchange ends at its final reply (a command is shown again after it).
    #[test]
    fn responses_typed_ahead_after_a_raw_auth_are_secrets() {
        let user = "ZWhsb3Rlc3Q=";
        let pass = "U2VrcjN0UFc5OQ==";
        let mut s = ready();
        s.send_raw(b"AUTH LOGIN\r\n");
        s.send_line(user);
        assert!(s.expects_secret());
        s.send_line(pass);
        s.feed(b"334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n");
        assert!(s.expects_secret());
        s.feed(b"235 2.7.0 ok\r\n");
        assert!(!s.expects_secret());
        assert!(s.state().authed);
        s.send_line("NOOP");
        let ev = events(&mut s);
        assert_eq!(
            shown_sent(&ev),
            vec![
                ("AUTH LOGIN\r\n".into(), false),
                (auth::MASK.into(), true),
                (auth::MASK.into(), true),
                ("NOOP".into(), false)
            ]
        );
        assert!(
            !ev.iter().any(|e| matches!(e, Event::Deviation { .. })),
            "{ev:?}"
        );
    }

    #[test]
    fn typed_auth_with_tabs_is_masked() {
        let b = "AGFsaWNlAFNla3IzdFBXOTk=";
        for (line, want) in [
            (format!("AUTH\tPLAIN\t{b}"), "AUTH\tPLAIN\t********"),
            (format!("AUTH PLAIN\t{b}"), "AUTH PLAIN\t********"),
            (format!("auth plain {b}"), "auth plain ********"),
        ] {
            let mut s = ready();
            s.send_line(&line);
            assert_eq!(sent(&mut s), format!("{line}\r\n"));
            let ev = events(&mut s);
            assert!(
                matches!(&ev[0], Event::Sent { text, redacted: true, phase: Phase::Auth, .. } if text == want),
                "{ev:?}"
            );
            assert!(!format!("{ev:?}").contains(b));
        }
    }

    fn sent(s: &mut ManualSession) -> String {
        String::from_utf8(s.poll_transmit().unwrap_or_default()).unwrap()
    }

    fn events(s: &mut ManualSession) -> Vec<Event> {
        std::iter::from_fn(|| s.poll_event()).collect()
    }

    fn received_codes(ev: &[Event]) -> Vec<(u16, bool, Phase)> {
        ev.iter()
            .filter_map(|e| match e {
                Event::Received {
                    reply,
                    expected,
                    phase,
                    ..
                } => Some((reply.code.unwrap_or(0), *expected, *phase)),
                _ => None,
            })
            .collect()
    }

    fn ready() -> ManualSession {
        let mut s = ManualSession::new("client.test", false, false);
        s.feed(b"220 mx.test ESMTP\r\n");
        let _ = events(&mut s);
        s
    }

    /// What a reply awaited answers is named by the typed verb, also for the commands in no
    /// phase (a replay `--deadline` cut at a NOOP said "the reply to command"), by the phase's
    /// command for a meta-command's exchange, and by the message for its content; once the
    /// reply came, by what it answered.
    #[test]
    fn the_reply_awaited_is_named_by_its_command() {
        let mut s = ManualSession::new("client.test", false, false);
        assert_eq!(s.answered(), "the banner");
        s.feed(b"220 mx.test ESMTP\r\n");
        assert_eq!(s.answered(), "the banner", "the last one answered");
        for (line, want) in [
            ("NOOP", "NOOP"),
            ("rset", "RSET"),
            ("VRFY postmaster", "VRFY"),
            ("HELP", "HELP"),
            ("HELO client.test", "HELO"),
            ("LHLO client.test", "LHLO"),
            ("MAIL FROM:<a@b.test>", "MAIL"),
            ("EXPN\tlist", "EXPN"),
            ("BDAT 0 LAST", "the message"),
        ] {
            let mut s = ready();
            s.send_line(line);
            assert_eq!(s.answered(), want, "{line}");
            s.feed(b"250 ok\r\n");
            assert!(!s.awaiting_reply());
            assert_eq!(s.answered(), want, "{line}, answered");
        }
        let mut s = ready();
        s.send_line("NOOP");
        s.send_line("RSET");
        assert_eq!(s.answered(), "NOOP", "the oldest owed");
        s.feed(b"250 ok\r\n");
        assert_eq!(s.answered(), "RSET");
        let mut s = ready();
        s.starttls();
        assert_eq!(s.answered(), "STARTTLS");
        let mut s = ready();
        s.data(b"hello\r\n");
        assert_eq!(s.answered(), "DATA");
        s.feed(b"354 go\r\n");
        assert_eq!(s.answered(), "the message");
        let mut s = ready();
        s.send_line("DATA");
        s.feed(b"354 go\r\n");
        s.send_line(".");
        assert_eq!(s.answered(), "the message");
    }

    /// RFC 5321 §4.3.2: a command's success is the code it names, not any 2xx.
    #[test]
    fn only_the_named_codes_are_what_a_typed_command_wanted() {
        for (line, reply, want) in [
            ("MAIL FROM:<a@b.test>", "221 bye", false),
            ("MAIL FROM:<a@b.test>", "250 ok", true),
            ("RCPT TO:<c@d.test>", "220 hi", false),
            ("RCPT TO:<c@d.test>", "251 forwarded", true),
            ("RSET", "221 bye", false),
            ("NOOP", "299 odd", false),
            ("VRFY c", "252 cannot verify", true),
            ("EHLO x", "220 again", false),
            ("HELP", "214 help", true),
        ] {
            let mut s = ready();
            s.send_line(line);
            let _ = events(&mut s);
            s.feed(format!("{reply}\r\n").as_bytes());
            let got = received_codes(&events(&mut s));
            assert_eq!(got.len(), 1, "{line}: {got:?}");
            assert_eq!(got[0].1, want, "{line} / {reply}");
        }
        // A 221 to the dot is no acceptance, and a 220 to RCPT no accepted recipient.
        let mut s = ready();
        s.send_line("MAIL FROM:<a@b.test>");
        s.send_line("RCPT TO:<c@d.test>");
        s.feed(b"250 ok\r\n220 hi\r\n");
        assert_eq!(s.recipients()[0].status, RcptStatus::PermFailed);
        s.data(b"hi\n");
        s.feed(b"354 go\r\n221 closing\r\n");
        assert_eq!(s.message_accepted(), Some(false));
    }

    /// The summary's envelope: the recipients of the latest transaction with their replies
    /// (pipelined replies paired in order), the verdict on its content, both reset by MAIL.
    #[test]
    fn recipients_and_the_verdict_follow_the_latest_transaction() {
        let mut s = ready();
        for line in [
            "MAIL FROM:<a@b.test>",
            "RCPT TO:<ok@d.test> NOTIFY=NEVER",
            "RCPT TO:<gone@d.test>",
            "rcpt to: bare@d.test",
        ] {
            s.send_line(line);
        }
        let _ = sent(&mut s);
        s.feed(b"250 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n");
        let r = s.recipients();
        let got: Vec<(&str, RcptStatus, Option<u16>)> = r
            .iter()
            .map(|r| (r.address.as_str(), r.status, r.code))
            .collect();
        assert_eq!(
            got,
            [
                ("ok@d.test", RcptStatus::Accepted, Some(250)),
                ("gone@d.test", RcptStatus::PermFailed, Some(550)),
                ("bare@d.test", RcptStatus::NotAttempted, None),
            ]
        );
        assert_eq!(r[1].enhanced.as_deref(), Some("5.1.1"));
        assert_eq!(r[1].text.as_deref(), Some("no such user"));
        assert_eq!(s.message_accepted(), None);
        s.feed(b"451 4.3.0 later\r\n");
        assert_eq!(s.recipients()[2].status, RcptStatus::TempFailed);

        s.data(b"hi\n");
        let _ = sent(&mut s);
        s.feed(b"354 go\r\n");
        let _ = sent(&mut s);
        s.feed(b"250 2.0.0 queued\r\n");
        assert_eq!(s.message_accepted(), Some(true));

        s.send_line("MAIL FROM:<again@b.test>");
        assert!(s.recipients().is_empty());
        assert_eq!(s.message_accepted(), None);
        s.feed(b"250 ok\r\n");
        s.send_line("RCPT TO:<x@d.test>");
        s.send_line("DATA");
        s.feed(b"250 ok\r\n354 go\r\n");
        s.send_line("body");
        s.send_line(".");
        // The verdict begun, then cut off by the close: no acceptance.
        s.feed(b"250-queued");
        s.feed_eof();
        assert_eq!(s.message_accepted(), Some(false));
    }

    #[test]
    fn typed_lines_go_out_verbatim_with_crlf_and_phases() {
        let mut s = ManualSession::new("client.test", false, false);
        assert!(s.awaiting_reply());
        s.feed(b"220 mx.test ESMTP\r\n");
        assert!(!s.awaiting_reply());
        let ev = events(&mut s);
        assert_eq!(received_codes(&ev), vec![(220, true, Phase::Banner)]);
        s.send_line("ehlo Client.Test");
        assert_eq!(sent(&mut s), "ehlo Client.Test\r\n");
        assert!(s.awaiting_reply());
        s.feed(b"250-mx.test\r\n250-SIZE 1000\r\n250 STARTTLS\r\n");
        let ev = events(&mut s);
        assert!(
            matches!(&ev[0], Event::Sent { text, phase: Phase::Helo, kind: SentKind::Command, .. } if text == "ehlo Client.Test")
        );
        assert_eq!(received_codes(&ev), vec![(250, true, Phase::Helo)]);
        assert!(s.capabilities().unwrap().has("SIZE"));
        // RCPT typed with a leading R: no renegotiation, no magic.
        s.send_line("RCPT TO:<a@b>");
        assert_eq!(sent(&mut s), "RCPT TO:<a@b>\r\n");
        s.feed(b"503 5.5.1 need MAIL\r\n");
        let ev = events(&mut s);
        assert_eq!(received_codes(&ev), vec![(503, false, Phase::Rcpt)]);
    }

    #[test]
    fn transaction_state_follows_mail_dot_and_rset() {
        let mut s = ready();
        assert_eq!(s.state().prompt(), "ehlo[plain]> ");
        s.send_line("MAIL FROM:<a@b>");
        s.feed(b"250 ok\r\n");
        assert!(s.state().in_transaction);
        assert_eq!(s.state().prompt(), "ehlo[plain|mail]> ");
        s.send_line("RSET");
        s.feed(b"250 ok\r\n");
        assert!(!s.state().in_transaction);
        s.send_line("MAIL FROM:<a@b>");
        s.feed(b"550 no\r\n");
        assert!(!s.state().in_transaction);
    }

    #[test]
    fn typed_data_then_body_lines_until_lone_dot() {
        let mut s = ready();
        s.send_line("MAIL FROM:<a@b>");
        s.feed(b"250 ok\r\n");
        s.send_line("DATA");
        s.feed(b"354 go\r\n");
        assert!(s.state().in_data);
        assert!(!s.awaiting_reply());
        let _ = (sent(&mut s), events(&mut s));
        s.send_line("Subject: x");
        s.send_line("");
        assert!(!s.awaiting_reply());
        s.send_line(".");
        assert!(s.awaiting_reply());
        assert_eq!(sent(&mut s), "Subject: x\r\n\r\n.\r\n");
        s.feed(b"250 queued\r\n");
        let ev = events(&mut s);
        assert_eq!(received_codes(&ev), vec![(250, true, Phase::Dot)]);
        assert!(!s.state().in_transaction && !s.state().in_data);
    }

    #[test]
    fn data_helper_dot_stuffs_and_waits_for_354() {
        let mut s = ready();
        s.data(b"Subject: t\n\n.hidden\n..two\nend\n");
        assert_eq!(sent(&mut s), "DATA\r\n");
        s.feed(b"354 go ahead\r\n");
        assert_eq!(
            sent(&mut s),
            "Subject: t\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n"
        );
        let ev = events(&mut s);
        assert!(ev.iter().any(|e| matches!(e, Event::Sent { kind: SentKind::Body, text, .. } if text.contains("..hidden"))));
        s.feed(b"250 2.0.0 queued\r\n");
        assert_eq!(
            received_codes(&events(&mut s)),
            vec![(250, true, Phase::Dot)]
        );
        assert!(!s.awaiting_reply());
    }

    #[test]
    fn data_helper_refused_sends_no_content() {
        let mut s = ready();
        s.data(b"body\n");
        let _ = sent(&mut s);
        s.feed(b"503 need RCPT\r\n");
        assert_eq!(s.poll_transmit(), None);
        assert!(!s.awaiting_reply());
        let ev = events(&mut s);
        assert!(ev.iter().any(|e| matches!(e, Event::Warning { .. })));
    }

    #[test]
    fn long_command_line_is_sent_with_a_warning() {
        let mut s = ready();
        let line = format!("NOOP {}", "x".repeat(600));
        s.send_line(&line);
        assert_eq!(sent(&mut s), format!("{line}\r\n"));
        let ev = events(&mut s);
        assert!(
            ev.iter()
                .any(|e| matches!(e, Event::Warning { message } if message.contains("512")))
        );
        // 510 octets + CRLF = 512: no warning.
        s.feed(b"250 ok\r\n");
        let _ = events(&mut s);
        s.send_line(&"N".repeat(510));
        assert!(
            !events(&mut s)
                .iter()
                .any(|e| matches!(e, Event::Warning { .. }))
        );
    }

    #[test]
    fn raw_bytes_are_exact_and_their_replies_are_not_unsolicited() {
        let mut s = ready();
        s.send_raw(b"\n.\n");
        assert_eq!(s.poll_transmit().unwrap(), b"\n.\n");
        s.feed(b"500 what\r\n");
        let ev = events(&mut s);
        assert!(!ev.iter().any(|e| matches!(e, Event::Deviation { .. })));
        assert_eq!(received_codes(&ev)[0].0, 500);
    }

    /// `:raw "NOOP \xFF"` goes out as the byte given and is shown with it as `\xFF`, as a
    /// reply's byte is: its `sent` text had U+FFFD, not the byte the user sent.
    #[test]
    fn raw_bytes_that_are_not_utf8_are_shown_as_the_bytes_sent() {
        let mut s = ready();
        s.send_raw(b"NOOP \xff\xfe\r\n");
        assert_eq!(s.poll_transmit().unwrap(), b"NOOP \xff\xfe\r\n");
        let shown: Vec<String> = events(&mut s)
            .into_iter()
            .filter_map(|e| match e {
                Event::Sent { text, .. } => Some(text),
                _ => None,
            })
            .collect();
        assert_eq!(shown, ["NOOP \\xFF\\xFE\r\n"]);
    }

    #[test]
    fn an_endless_stream_of_unasked_replies_is_cut_and_the_connection_closed() {
        // Each unasked reply used to be shown and kept while the REPL waited for input, so
        // a server repeating `250 x` grew memory and the transcript without bound.
        let mut s = ready();
        s.feed(&b"250 unasked\r\n".repeat(MAX_UNSOLICITED + 50));
        let ev = events(&mut s);
        assert_eq!(received_codes(&ev).len(), MAX_UNSOLICITED, "{ev:?}");
        assert!(
            ev.iter().any(|e| matches!(
                e,
                Event::Deviation {
                    deviation: Deviation::UnsolicitedFlood { replies },
                    ..
                } if *replies == MAX_UNSOLICITED
            )),
            "{ev:?}"
        );
        assert!(s.state().closed);
        assert_eq!(s.poll_action(), Some(Action::Close));
        // Nothing more is read.
        s.feed(b"250 more\r\n");
        assert!(received_codes(&events(&mut s)).is_empty());
    }

    #[test]
    fn a_reply_that_answers_a_command_starts_the_count_again() {
        let mut s = ready();
        for _ in 0..3 {
            s.feed(&b"250 unasked\r\n".repeat(MAX_UNSOLICITED));
            s.send_line("NOOP");
            s.feed(b"250 ok\r\n");
        }
        assert!(!s.state().closed);
        let ev = events(&mut s);
        assert_eq!(received_codes(&ev).len(), 3 * (MAX_UNSOLICITED + 1));
        assert!(!ev.iter().any(|e| matches!(
            e,
            Event::Deviation {
                deviation: Deviation::UnsolicitedFlood { .. },
                ..
            }
        )));
    }

    #[test]
    fn raw_bytes_of_many_lines_may_draw_as_many_replies() {
        let mut s = ready();
        s.send_raw(&b"NOOP\r\n".repeat(MAX_UNSOLICITED * 2));
        s.feed(&b"250 ok\r\n".repeat(MAX_UNSOLICITED * 2));
        assert!(!s.state().closed);
        s.feed(&b"250 unasked\r\n".repeat(MAX_UNSOLICITED + 1));
        assert!(s.state().closed);
    }

    #[test]
    fn unsolicited_421_while_idle_is_reported() {
        let mut s = ready();
        s.feed(b"421 4.4.2 idle timeout\r\n");
        let ev = events(&mut s);
        assert!(ev.iter().any(|e| matches!(
            e,
            Event::Deviation {
                deviation: Deviation::UnsolicitedReply,
                ..
            }
        )));
        assert_eq!(received_codes(&ev)[0].0, 421);
        assert!(!received_codes(&ev)[0].1);
        // The 421 announced the close: no "closed unexpectedly" after it.
        assert!(s.state().closed);
        assert!(ev.contains(&Event::Closed { expected: true }), "{ev:?}");
        assert_eq!(s.poll_action(), Some(Action::Close));
        s.feed_eof();
        assert!(!events(&mut s).contains(&Event::Closed { expected: false }));
        // Typing after the close sends nothing.
        s.send_line("NOOP");
        assert_eq!(s.poll_transmit(), None);
    }

    /// A connection the client dropped (a refused TLS renegotiation) ends the session with no
    /// close event: "closed connection unexpectedly" would blame the server.
    #[test]
    fn a_connection_the_client_dropped_is_no_close_by_the_server() {
        let mut s = ready();
        s.send_line("MAIL FROM:<a@example.com>");
        sent(&mut s);
        events(&mut s);
        s.feed(b"250 2.1");
        s.dropped();
        assert!(s.state().closed);
        assert!(!s.awaiting_reply());
        let ev = events(&mut s);
        assert!(
            !ev.iter().any(|e| matches!(e, Event::Closed { .. })),
            "{ev:?}"
        );
        assert!(received_codes(&ev).is_empty(), "{ev:?}");
        s.feed_eof();
        assert!(events(&mut s).is_empty());
    }

    #[test]
    fn a_reply_cut_off_by_the_close_is_not_what_the_command_wanted() {
        let mut s = ready();
        s.send_line("NOOP");
        sent(&mut s);
        events(&mut s);
        s.feed(b"250-first line\r\n");
        s.feed_eof();
        let ev = events(&mut s);
        let got: Vec<(u16, bool)> = received_codes(&ev).iter().map(|r| (r.0, r.1)).collect();
        assert_eq!(got, [(250, false)], "{ev:?}");
        assert!(ev.contains(&Event::Closed { expected: false }), "{ev:?}");
    }

    #[test]
    fn a_reply_that_never_ends_closes_the_connection() {
        let mut s = ready();
        s.send_line("EHLO me");
        sent(&mut s);
        events(&mut s);
        let flood = b"250-x\r\n".repeat(100);
        for _ in 0..20 {
            s.feed(&flood);
        }
        assert!(s.is_closed());
        assert_eq!(s.poll_action(), Some(Action::Close));
        let ev = events(&mut s);
        // Said once: by the reply's deviation (the transcript's `!!!` line), not again as an
        // error.
        let cut = ev
            .iter()
            .filter(|e| {
                matches!(e, Event::Received { reply, .. } if reply.deviations.iter()
                .any(|d| matches!(d, Deviation::ReplyTooLarge { bytes: 7007, lines: 1001, .. })))
            })
            .count();
        assert_eq!(cut, 1, "{ev:?}");
        assert!(
            !ev.iter().any(|e| matches!(e, Event::Error { .. })),
            "{ev:?}"
        );
        assert!(!s.awaiting_reply());
    }

    #[test]
    fn a_421_banner_or_answer_closes_as_announced() {
        let mut s = ManualSession::new("me.test", false, false);
        s.feed(b"421 4.3.2 too busy\r\n");
        let ev = events(&mut s);
        assert_eq!(received_codes(&ev)[0].0, 421);
        assert!(ev.contains(&Event::Closed { expected: true }), "{ev:?}");
        assert!(s.is_closed());
        s.send_line("NOOP");
        assert_eq!(s.poll_transmit(), None);

        let mut s = ready();
        s.send_line("NOOP");
        sent(&mut s);
        s.feed(b"421 4.7.0 too many errors\r\n");
        let ev = events(&mut s);
        assert!(ev.contains(&Event::Closed { expected: true }), "{ev:?}");
        assert!(!s.awaiting_reply());
    }

    #[test]
    fn quit_answered_by_a_close_is_not_expected() {
        let mut s = ready();
        s.send_line("QUIT");
        sent(&mut s);
        events(&mut s);
        s.feed_eof();
        assert!(events(&mut s).contains(&Event::Closed { expected: false }));
    }

    #[test]
    fn quit_then_close_is_expected() {
        let mut s = ready();
        s.send_line("quit");
        s.feed(b"221 bye\r\n");
        assert_eq!(s.poll_action(), Some(Action::Close));
        assert!(events(&mut s).contains(&Event::Closed { expected: true }));
    }

    #[test]
    fn starttls_discards_injected_bytes_and_ehlos_again() {
        let mut s = ready();
        s.send_line("EHLO me.test");
        s.feed(b"250-mx\r\n250 STARTTLS\r\n");
        let _ = (sent(&mut s), events(&mut s));
        s.starttls();
        assert_eq!(sent(&mut s), "STARTTLS\r\n");
        s.feed(b"220 go\r\n250 injected\r\n");
        assert_eq!(s.poll_action(), Some(Action::StartTls));
        let ev = events(&mut s);
        assert!(ev.iter().any(|e| matches!(
            e,
            Event::Deviation {
                deviation: Deviation::StartTlsInjection { bytes, .. },
                ..
            } if bytes.0 == b"250 injected\r\n"
        )));
        // Said once: no warning repeating the deviation.
        assert!(
            !ev.iter().any(|e| matches!(e, Event::Warning { .. })),
            "{ev:?}"
        );
        s.tls_established();
        assert!(s.capabilities().is_none());
        assert_eq!(sent(&mut s), "EHLO me.test\r\n");
        s.feed(b"250-mx\r\n250 AUTH PLAIN\r\n");
        let ev = events(&mut s);
        assert_eq!(received_codes(&ev), vec![(250, true, Phase::HeloAfterTls)]);
        assert_eq!(s.state().prompt(), "ehlo[tls]> ");
        assert_eq!(s.capabilities().unwrap().auth_mechanisms(), vec!["PLAIN"]);
    }

    /// A large call is added to the read buffer [`FEED_PIECE`] bytes at a time (it held the
    /// whole call, and each reply taken moved what followed); what follows STARTTLS's 220 is
    /// still reported whole.
    #[test]
    fn a_large_feed_is_read_a_piece_at_a_time_and_an_injection_still_reported_whole() {
        let mut s = ready();
        s.send_line("EHLO me.test");
        let mut big = Vec::new();
        for _ in 0..900 {
            big.extend_from_slice(format!("250-X{}\r\n", "y".repeat(990)).as_bytes());
        }
        big.extend_from_slice(b"250 STARTTLS\r\n");
        s.feed(&big);
        assert!(
            s.buf.capacity() <= 2 * (crate::smtp::FEED_PIECE + Limits::default().max_line),
            "read buffer of {} bytes for a {} byte call",
            s.buf.capacity(),
            big.len()
        );
        let _ = (sent(&mut s), events(&mut s));
        assert!(s.capabilities().is_some_and(|c| c.has("STARTTLS")));
        s.starttls();
        assert_eq!(sent(&mut s), "STARTTLS\r\n");
        let injected = "250-injected\r\n".repeat(3000);
        s.feed(format!("220 go\r\n{injected}").as_bytes());
        assert_eq!(s.poll_action(), Some(Action::StartTls));
        let ev = events(&mut s);
        assert!(ev.iter().any(|e| matches!(
            e,
            Event::Deviation {
                deviation: Deviation::StartTlsInjection { len, .. },
                ..
            } if *len == injected.len()
        )));
    }

    /// RFC 2033 §4.2: after LHLO the content draws one reply per accepted recipient, each the
    /// delivery verdict for that one; the commands typed after it get their own replies.
    #[test]
    fn lmtp_content_draws_one_reply_per_accepted_recipient() {
        let mut s = ready();
        for line in [
            "LHLO me.test",
            "MAIL FROM:<a@b.test>",
            "RCPT TO:<a@d.test>",
            "RCPT TO:<gone@d.test>",
            "RCPT TO:<b@d.test>",
            "RCPT TO:<c@d.test>",
            "DATA",
        ] {
            s.send_line(line);
        }
        s.feed(b"250 mx\r\n250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n250 ok\r\n354 go\r\n");
        let _ = (sent(&mut s), events(&mut s));
        s.send_line("hi");
        s.send_line(".");
        s.send_line("NOOP");
        s.feed(b"250 2.0.0 <a@d.test> delivered\r\n552 5.2.2 <b@d.test> over quota\r\n");
        s.feed(b"250 2.0.0 <c@d.test> delivered\r\n250 2.0.0 noop ok\r\n");
        let ev = events(&mut s);
        assert_eq!(
            received_codes(&ev),
            vec![
                (250, true, Phase::Dot),
                (552, false, Phase::Dot),
                (250, true, Phase::Dot),
                (250, true, Phase::Other),
            ],
            "the three delivery replies answer the dot, the last 250 the NOOP"
        );
        assert!(
            !ev.iter().any(|e| matches!(e, Event::Deviation { .. })),
            "no reply is unsolicited: {ev:?}"
        );
        let r = s.recipients();
        let got: Vec<(RcptStatus, Option<u16>, Option<u16>)> =
            r.iter().map(|r| (r.status, r.code, r.data_code)).collect();
        assert_eq!(
            got,
            [
                (RcptStatus::Accepted, Some(250), Some(250)),
                (RcptStatus::PermFailed, Some(550), None),
                (RcptStatus::PermFailed, Some(552), Some(552)),
                (RcptStatus::Accepted, Some(250), Some(250)),
            ]
        );
        assert_eq!(s.message_accepted(), Some(false), "b did not get it");
        let basic = ev.iter().find_map(|e| match e {
            Event::Received {
                reply, explanation, ..
            } if reply.code == Some(552) => explanation.basic.clone(),
            _ => None,
        });
        assert!(
            basic.is_some_and(|b| b.contains("this recipient")),
            "the 552 is one recipient's verdict"
        );
    }

    /// The server closes after the first of two LMTP delivery replies: the second recipient is
    /// not reported as accepted from its RCPT reply.
    #[test]
    fn lmtp_a_delivery_reply_that_never_came_leaves_the_recipient_unknown() {
        let mut s = ready();
        for line in [
            "LHLO me.test",
            "MAIL FROM:<a@b.test>",
            "RCPT TO:<a@d.test>",
            "RCPT TO:<b@d.test>",
            "DATA",
        ] {
            s.send_line(line);
        }
        s.feed(b"250 mx\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
        s.send_line(".");
        s.feed(b"250 2.0.0 <a@d.test> delivered\r\n");
        s.feed_eof();
        let got: Vec<(RcptStatus, Option<u16>, Option<u16>)> = s
            .recipients()
            .iter()
            .map(|r| (r.status, r.code, r.data_code))
            .collect();
        assert_eq!(
            got,
            [
                (RcptStatus::Accepted, Some(250), Some(250)),
                (RcptStatus::NoDeliveryReply, Some(250), None),
            ]
        );
    }

    /// `:data` and a last BDAT chunk end the content as the dot does; without LHLO one reply.
    #[test]
    fn lmtp_data_helper_and_bdat_last_wait_for_each_recipient() {
        let mut s = ready();
        for line in [
            "LHLO me.test",
            "MAIL FROM:<a@b.test>",
            "RCPT TO:<a@d.test>",
            "RCPT TO:<b@d.test>",
        ] {
            s.send_line(line);
        }
        s.feed(b"250 mx\r\n250 ok\r\n250 ok\r\n250 ok\r\n");
        s.data(b"hi\n");
        s.feed(b"354 go\r\n");
        let _ = (sent(&mut s), events(&mut s));
        s.feed(b"250 a delivered\r\n250 b delivered\r\n");
        let ev = events(&mut s);
        assert_eq!(
            received_codes(&ev),
            vec![(250, true, Phase::Dot), (250, true, Phase::Dot)]
        );
        assert_eq!(s.message_accepted(), Some(true));

        s.send_line("MAIL FROM:<a@b.test>");
        s.send_line("RCPT TO:<a@d.test>");
        s.send_line("RCPT TO:<b@d.test>");
        s.feed(b"250 ok\r\n250 ok\r\n250 ok\r\n");
        let _ = events(&mut s);
        s.send_line("BDAT 0 LAST");
        s.send_line("NOOP");
        s.feed(b"250 a\r\n451 4.3.0 b later\r\n250 noop\r\n");
        let ev = events(&mut s);
        assert_eq!(
            received_codes(&ev),
            vec![
                (250, true, Phase::Dot),
                (451, false, Phase::Dot),
                (250, true, Phase::Other)
            ]
        );
        assert_eq!(s.recipients()[1].status, RcptStatus::TempFailed);

        // EHLO again: one reply to the content.
        let mut s = ready();
        for line in [
            "EHLO me.test",
            "MAIL FROM:<a@b.test>",
            "RCPT TO:<a@d.test>",
            "RCPT TO:<b@d.test>",
            "DATA",
            "x",
            ".",
            "NOOP",
        ] {
            s.send_line(line);
        }
        s.feed(b"250 mx\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n250 noop\r\n");
        let ev = events(&mut s);
        assert_eq!(received_codes(&ev).last(), Some(&(250, true, Phase::Other)));
    }

    /// A typed greeting the server does not understand is not followed by anything the REPL
    /// sends by itself: no "falls back to HELO"; a refused LHLO says LMTP (RFC 2033 §4.1).
    #[test]
    fn a_refused_typed_greeting_promises_no_fallback() {
        for (line, verb, word) in [
            ("LHLO me.test", "LHLO", "LMTP"),
            ("EHLO me.test", "EHLO", "HELO instead"),
            ("HELO me.test", "HELO", "HELO"),
        ] {
            let mut s = ready();
            s.send_line(line);
            s.feed(b"500 5.5.2 Error: command not recognized\r\n");
            let ex = events(&mut s)
                .into_iter()
                .find_map(|e| match e {
                    Event::Received { explanation, .. } => Some(explanation),
                    _ => None,
                })
                .unwrap();
            let basic = ex.basic.unwrap_or_default();
            let hint = ex.hint.map(|h| h.to_string()).unwrap_or_default();
            assert!(
                basic.starts_with(&format!("{verb} not understood")),
                "{basic}"
            );
            assert!(
                hint.contains(word) && !hint.contains("falls back"),
                "{hint}"
            );
        }
    }

    /// RFC 3207 §4.2 and RFC 2033 §4.1: the greeting after STARTTLS is the session's own verb.
    #[test]
    fn starttls_after_lhlo_greets_with_lhlo() {
        let mut s = ready();
        s.send_line("LHLO me.test");
        s.feed(b"250-mx\r\n250 STARTTLS\r\n");
        let _ = (sent(&mut s), events(&mut s));
        s.starttls();
        let _ = sent(&mut s);
        s.feed(b"220 go\r\n");
        assert_eq!(s.poll_action(), Some(Action::StartTls));
        s.tls_established();
        assert_eq!(sent(&mut s), "LHLO me.test\r\n");
    }

    #[test]
    fn starttls_refused_stays_plain() {
        let mut s = ready();
        s.starttls();
        s.feed(b"454 not now\r\n");
        assert_eq!(s.poll_action(), None);
        assert!(!s.is_tls());
    }

    fn creds() -> Credentials {
        Credentials {
            user: "tim".into(),
            password: Some(Secret::new("tanstaaftanstaaf")),
            ..Credentials::default()
        }
    }

    #[test]
    fn auth_plain_masks_the_secret_but_sends_it() {
        let mut s = ready();
        assert!(s.auth("plain", creds()));
        let wire = sent(&mut s);
        assert_eq!(wire, "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n");
        let ev = events(&mut s);
        let shown = ev
            .iter()
            .find_map(|e| match e {
                Event::Sent { text, redacted, .. } => Some((text.clone(), *redacted)),
                _ => None,
            })
            .unwrap();
        assert_eq!(shown.0, format!("AUTH PLAIN {}", crate::smtp::auth::MASK));
        assert!(shown.1);
        let dbg = format!("{ev:?}{s:?}");
        assert!(!dbg.contains("tanstaaf") && !dbg.contains("AHRpbQB0"));
        s.feed(b"235 ok\r\n");
        assert!(s.state().authed);
        assert_eq!(s.state().prompt(), "ehlo[plain|authed]> ");
    }

    #[test]
    fn auth_cram_md5_runs_the_challenge() {
        let mut s = ready();
        assert!(s.auth("CRAM-MD5", creds()));
        assert_eq!(sent(&mut s), "AUTH CRAM-MD5\r\n");
        // RFC 2195 example challenge.
        s.feed(b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n");
        let wire = sent(&mut s);
        assert_eq!(wire, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n");
        let ev = events(&mut s);
        assert!(!format!("{ev:?}").contains("dGltIGI5"));
        s.feed(b"535 no\r\n");
        assert!(!s.state().authed);
        assert!(!s.awaiting_reply());
    }

    #[test]
    fn auth_show_secrets_shows_base64() {
        let mut s = ManualSession::new("c", false, true);
        s.feed(b"220 x\r\n");
        s.auth("PLAIN", creds());
        let ev = events(&mut s);
        assert!(format!("{ev:?}").contains("AHRpbQB0YW5zdGFhZnRhbnN0YWFm"));
    }

    #[test]
    fn auth_unknown_or_missing_credential_sends_nothing() {
        let mut s = ready();
        assert!(!s.auth("GSSAPI", creds()));
        assert!(!s.auth("PLAIN", Credentials::default()));
        assert_eq!(s.poll_transmit(), None);
        assert!(!s.awaiting_reply());
    }

    /// A secret seen (a typed PLAIN blob) is masked in every later write that carries it, the
    /// exchange long over: `:raw` bytes, a command, a line of a message, a chunk; and on the
    /// next connection, told of it. The wire is as typed. They were shown as typed.
    #[test]
    fn a_secret_seen_is_masked_in_every_later_write() {
        use base64::Engine as _;
        let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
        let (pw, blob) = ("Registry-Pw-9", b64("\0tim\0Registry-Pw-9"));
        let pw64 = b64(pw);
        let shown = |s: &mut ManualSession| -> Vec<(String, bool)> {
            events(s)
                .into_iter()
                .filter_map(|e| match e {
                    Event::Sent { text, redacted, .. } => Some((text, redacted)),
                    _ => None,
                })
                .collect()
        };
        let mut s = ready();
        s.send_line(&format!("AUTH PLAIN {blob}"));
        s.feed(b"235 2.7.0 ok\r\n");
        let _ = (sent(&mut s), events(&mut s));
        assert!(!s.expects_secret());
        let m = auth::MASK;
        s.send_raw(format!("{pw64}\r\n").as_bytes());
        assert_eq!(sent(&mut s), format!("{pw64}\r\n"));
        assert_eq!(shown(&mut s), [(format!("{m}\r\n"), true)]);
        s.feed(b"500 what\r\n");
        s.send_line(&format!("NOOP {pw} {blob}"));
        assert_eq!(shown(&mut s), [(format!("NOOP {m} {m}"), true)]);
        s.feed(b"250 ok\r\n");
        s.send_line("NOOP plain");
        assert_eq!(shown(&mut s), [("NOOP plain".to_string(), false)]);
        // The next connection, told of what this one saw.
        let mut next = ready();
        next.learn_secrets(s.secrets());
        next.send_line(&format!("BDAT 3 LAST x{pw}"));
        assert_eq!(shown(&mut next), [(format!("BDAT 3 LAST x{m}"), true)]);
        // A user name typed at AUTH LOGIN's "Username:" is masked where it is sent, but not
        // remembered: it comes back in MAIL FROM.
        let mut login = ready();
        login.send_line("AUTH LOGIN");
        login.feed(b"334 VXNlcm5hbWU6\r\n");
        login.send_line(&b64("tim@example.test"));
        assert_eq!(shown(&mut login).last().unwrap(), &(m.to_string(), true));
        login.feed(b"334 UGFzc3dvcmQ6\r\n");
        login.send_line(&pw64);
        login.feed(b"235 2.7.0 ok\r\n");
        let _ = (sent(&mut login), events(&mut login));
        login.send_line(&format!("MAIL FROM:<tim@example.test> X={pw}"));
        assert_eq!(
            shown(&mut login),
            [(format!("MAIL FROM:<tim@example.test> X={m}"), true)]
        );
        // Nothing is kept when secrets may be shown.
        let mut shows = ManualSession::new("client.test", false, true);
        shows.learn_secrets(s.secrets());
        assert!(shows.secrets().is_empty());
    }

    #[test]
    fn typed_auth_response_is_masked() {
        let mut s = ready();
        s.send_line("AUTH PLAIN AHRpbQBzZWNyZXQ=");
        let ev = events(&mut s);
        assert!(!format!("{ev:?}").contains("AHRpbQBz"));
        s.feed(b"501 try again\r\n");
        s.send_line("AUTH LOGIN");
        s.feed(b"334 VXNlcm5hbWU6\r\n");
        assert!(s.expects_secret());
        let _ = events(&mut s);
        s.send_line("dGlt");
        assert_eq!(sent(&mut s).lines().last().unwrap(), "dGlt");
        let ev = events(&mut s);
        assert!(
            ev.iter()
                .any(|e| matches!(e, Event::Sent { text, redacted: true, .. } if text == crate::smtp::auth::MASK))
        );
    }

    #[test]
    fn byte_by_byte_replies_give_the_same_result() {
        let mut s = ManualSession::new("c", false, false);
        for b in b"220-mx\r\n220 hi\r\n" {
            s.feed(&[*b]);
        }
        assert!(!s.awaiting_reply());
        assert_eq!(
            received_codes(&events(&mut s)),
            vec![(220, true, Phase::Banner)]
        );
    }

    /// Every wait that runs out is said: the greeting's own wait with its diagnosis, the waits
    /// after it while it is still owed as such, not as the greeting's diagnosis again.
    #[test]
    fn a_wait_while_the_banner_is_still_owed_says_so() {
        let mut s = ManualSession::new("c", false, false);
        let said = |s: &ManualSession, banner_said| {
            wait_ran_out(Some(s), 1.0, false, banner_said).to_string()
        };
        assert!(
            said(&s, false).starts_with("no banner within 1s: this port may speak implicit TLS")
        );
        assert!(said(&s, true).starts_with("no reply within 1s: still no banner"));
        s.feed(b"220 slow");
        assert!(
            said(&s, false).starts_with("no complete banner within 1s: "),
            "{}",
            said(&s, false)
        );
        assert!(
            said(&s, true).starts_with("no reply within 1s: the banner is still not complete ("),
            "{}",
            said(&s, true)
        );
        s.feed(b".test\r\n");
        s.send_line("NOOP");
        assert!(said(&s, true).starts_with("no reply within 1s: a late reply"));
    }

    /// A typed BDAT owes its chunk whatever the server answers (RFC 3030 §2): the line and the
    /// chunk go out together and one reply is awaited, also for a BDAT the server refuses
    /// (out of a transaction) and for `BDAT 0 LAST`; a BDAT whose size does not parse owes
    /// none (the server answers it at once).
    #[test]
    fn a_typed_bdat_owes_its_chunk_and_sends_it_with_the_line() {
        let mut s = ready();
        assert_eq!(
            s.chunk_owed("bdat 5 last"),
            Some(ChunkOwed {
                size: 5,
                last: true
            })
        );
        assert_eq!(
            s.chunk_owed("BDAT 0"),
            Some(ChunkOwed {
                size: 0,
                last: false
            })
        );
        for no in ["BDAT", "BDAT x", "BDAT -1", "BDAT 5 FIRST", "NOOP", "DATA"] {
            assert_eq!(s.chunk_owed(no), None, "{no}");
        }
        let all = |s: &mut ManualSession| {
            std::iter::from_fn(|| s.poll_transmit())
                .flatten()
                .collect::<Vec<u8>>()
        };
        // Refused (no MAIL yet), the chunk is sent all the same, then one reply.
        s.send_bdat("BDAT 7", b"hello\r\n");
        assert_eq!(all(&mut s), b"BDAT 7\r\nhello\r\n");
        assert_eq!(s.replies_owed(), 1);
        s.feed(b"503 5.5.1 no mail transaction\r\n");
        assert!(!s.awaiting_reply());
        s.send_line("MAIL FROM:<a@b.test>");
        s.send_line("RCPT TO:<c@d.test>");
        s.feed(b"250 ok\r\n250 ok\r\n");
        let _ = (all(&mut s), events(&mut s));
        s.send_bdat("BDAT 5 LAST", b"hello");
        assert_eq!(all(&mut s), b"BDAT 5 LAST\r\nhello");
        let ev = events(&mut s);
        assert!(ev.iter().any(
            |e| matches!(e, Event::Sent { kind: SentKind::Body, text, .. } if text == "hello")
        ));
        s.feed(b"250 2.0.0 queued\r\n");
        assert_eq!(
            received_codes(&events(&mut s)),
            vec![(250, true, Phase::Dot)]
        );
        s.send_bdat("BDAT 0 LAST", b"");
        assert_eq!(all(&mut s), b"BDAT 0 LAST\r\n");
        assert_eq!(s.replies_owed(), 1);
        // Inside a typed DATA a BDAT line is content; in a SASL exchange, a response.
        s.feed(b"503 5.5.1 no transaction\r\n");
        s.send_line("DATA");
        s.feed(b"354 go\r\n");
        assert_eq!(s.chunk_owed("BDAT 5 LAST"), None);
    }

    /// A chunk typed as lines: each with its CRLF while that fits, a line filling what is left
    /// exactly ends it without one, any other line is not taken (nothing of it).
    #[test]
    fn a_typed_chunk_counts_crlf_and_never_cuts_a_line() {
        let mut c = TypedChunk::new(12);
        assert_eq!(c.take("hello"), ChunkLine::Taken);
        assert_eq!(c.left(), 5);
        assert_eq!(c.take("world!"), ChunkLine::TooLong { octets: 6, left: 5 });
        // 4 octets: with CRLF 6, without 4: neither is 5.
        assert_eq!(c.take("worl"), ChunkLine::TooLong { octets: 4, left: 5 });
        assert_eq!(c.bytes(), b"hello\r\n");
        assert_eq!(c.take("world"), ChunkLine::TakenWithoutCrlf);
        assert_eq!((c.left(), c.bytes()), (0, &b"hello\r\nworld"[..]));
        // Octets, not characters: `é` is two.
        let mut c = TypedChunk::new(4);
        assert_eq!(c.take("é"), ChunkLine::Taken);
        assert_eq!(c.left(), 0);
        let mut c = TypedChunk::new(2);
        assert_eq!(c.take(""), ChunkLine::Taken);
        assert_eq!(c.bytes(), b"\r\n");
    }
}
