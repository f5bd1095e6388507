//! `ehlo probe`'s sans-IO core: the probe table ([`PROBES`]), what each probe sends (exact
//! bytes) and how its replies are judged, and the [`Runner`] state machine that a driver pumps
//! (bytes to send, "read one reply", "start TLS" out; replies, closes, timeouts in). No socket,
//! no clock, no terminal here: `super::run` does the I/O through the connection layer.
//!
//! Most probes end with `QUIT` and count the replies that come before its `221`: a server that
//! split one of our lines into several commands answers more often than it was asked, and the
//! `221` marks the end without waiting on a clock. A close in its place ends the replies too,
//! but shows nothing about what the server made of the rest: the probes whose pass means "no
//! extra reply" (`starttls.injection*`, `smuggle.*`) are then inconclusive. Which reply is
//! QUIT's is [`AfterQuit`]'s call: the `221`, or the last reply before a close once nothing
//! else is outstanding (a strict server may answer `250 2.0.0 Bye` and close). The line
//! injected after STARTTLS is outstanding: a `250` and a close there answer it, not QUIT.

use std::collections::VecDeque;

use serde_json::{Map, Value, json};

use crate::check::model::{CheckDef, Scope, Status};
use crate::smtp::capabilities::Capabilities;
use crate::smtp::event::Deviation;
use crate::smtp::quit::AfterQuit;
use crate::smtp::reply::{Progress, Reply};

const fn def(id: &'static str, rfc: &'static str) -> CheckDef {
    CheckDef {
        id,
        rfc,
        scope: Scope::Host,
    }
}

/// Reference of the one smuggling variant the CVEs name: NVD describes CVE-2023-51764
/// (Postfix), CVE-2023-51765 (Sendmail) and CVE-2023-51766 (Exim) each as `<LF>.<CR><LF>`
/// end-of-data handling that differs between servers.
const SMUGGLE_CVE: &str = "RFC 5321 §4.1.1.4, CVE-2023-51764/51765/51766 (Postfix, Sendmail, Exim)";

/// Reference of the variants no CVE names: the other bare CR / LF / NUL end-of-data forms of
/// the published research.
const SMUGGLE_RESEARCH: &str = "RFC 5321 §4.1.1.4, SMTP smuggling (SEC Consult, Dec 2023)";

/// Reference of `smuggle.lf-headers`: Exim's CVE-2023-51766 fix (4.97.1, and the distributions'
/// backports) refuses `<LF>.<LF>` as the end of DATA "except in LF-only mode", the mode a message
/// whose first header line ends in a bare LF puts it in. No CVE is named: NVD's text for
/// CVE-2023-51766 is the `<LF>.<CR><LF>` form (see [`SMUGGLE_CVE`]); the advice tells the story.
const SMUGGLE_LF_ONLY: &str =
    "RFC 5321 §2.3.8, §4.1.1.4, SMTP smuggling (SEC Consult, Dec 2023), Exim's LF-only mode";

/// Every probe, in run order.
pub(crate) const PROBES: &[CheckDef] = &[
    // EHLO sent before the greeting is refused or dropped (warn: a spam defence)
    def("pipelining.early-talker", "RFC 5321 §4.3.1"),
    // a pipelined group is refused when PIPELINING is not advertised (warn: leniency)
    def("pipelining.unadvertised", "RFC 2920 §3.1"),
    // plaintext sent with STARTTLS is not executed inside TLS
    def("starttls.injection", "RFC 3207 §4.2, CVE-2011-0411"),
    // an EHLO sent in plaintext with STARTTLS is not executed inside TLS
    def("starttls.injection-ehlo", "RFC 3207 §4.2, CVE-2011-0411"),
    // STARTTLS is offered and AUTH is not offered before it
    def("starttls.downgrade", "RFC 3207 §4, RFC 4954 §4"),
    // a recipient outside the server's domains is refused without AUTH
    def("relay.open", "RFC 5321 §3.6.2, §7.1"),
    // VRFY does not tell existing users from unknown ones
    def("enum.vrfy", "RFC 5321 §3.5.3, §7.3"),
    // EXPN does not expand addresses
    def("enum.expn", "RFC 5321 §3.5.3, §7.3"),
    // RCPT replies do not tell existing users from unknown ones (warn: normal for an MX)
    def("enum.rcpt", "RFC 5321 §7.3"),
    // an over-long command line is one command, never split into several
    def("limits.line", "RFC 5321 §4.5.3.1.4"),
    // a bare LF does not end a command line
    def("limits.bare-lf-command", "RFC 5321 §2.3.8"),
    // a command holding a NUL byte is refused, not truncated (warn)
    def("limits.nul", "RFC 5321 §4.1.1"),
    // <LF>.<LF> does not end the message
    def("smuggle.lf-lf", SMUGGLE_RESEARCH),
    // <LF>.<CR><LF> does not end the message
    def("smuggle.lf-crlf", SMUGGLE_CVE),
    // <CR><LF>.<LF> does not end the message
    def("smuggle.crlf-lf", SMUGGLE_RESEARCH),
    // <CR>.<CR> does not end the message
    def("smuggle.cr-cr", SMUGGLE_RESEARCH),
    // <CR><LF>.<CR> does not end the message
    def("smuggle.crlf-cr", SMUGGLE_RESEARCH),
    // <CR>.<CR><LF> does not end the message
    def("smuggle.cr-crlf", SMUGGLE_RESEARCH),
    // <LF>.<CR> does not end the message
    def("smuggle.lf-cr", SMUGGLE_RESEARCH),
    // <CR>.<LF> does not end the message
    def("smuggle.cr-lf", SMUGGLE_RESEARCH),
    // <CR><LF><NUL>.<CR><LF> does not end the message
    def("smuggle.crlf-nul", SMUGGLE_RESEARCH),
    // <LF>.<LF> does not end a message whose lines all end in a bare LF (Exim's LF-only mode)
    def("smuggle.lf-headers", SMUGGLE_LF_ONLY),
];

/// Shorthand `--expect` fields (none yet: `ID.KEY` names any evidence key).
pub(crate) const FIELDS: &[(&str, &str, &str)] = &[];

/// The end-of-data variant of a `smuggle.*` probe.
pub(crate) fn smuggle_variant(id: &str) -> Option<&'static [u8]> {
    Some(match id {
        "smuggle.lf-lf" => b"\n.\n",
        "smuggle.lf-crlf" => b"\n.\r\n",
        "smuggle.crlf-lf" => b"\r\n.\n",
        "smuggle.cr-cr" => b"\r.\r",
        "smuggle.crlf-cr" => b"\r\n.\r",
        "smuggle.cr-crlf" => b"\r.\r\n",
        "smuggle.lf-cr" => b"\n.\r",
        "smuggle.cr-lf" => b"\r.\n",
        "smuggle.crlf-nul" => b"\r\n\x00.\r\n",
        // The same ending as `lf-lf`, after an outer message whose lines end in a bare LF
        // ([`lf_only`]).
        "smuggle.lf-headers" => b"\n.\n",
        _ => return None,
    })
}

/// Does probe `id` write its outer message's lines with a bare LF (headers and body)? Exim
/// decides by the first header line's ending whether a message is in "LF-only mode", where
/// `<LF>.<LF>` ends DATA even with its CVE-2023-51766 fix; every other probe writes CRLF.
fn lf_only(id: &str) -> bool {
    id == "smuggle.lf-headers"
}

/// Does probe `id` send a message (DATA)? Those ask for confirmation on a terminal.
pub(crate) fn sends_mail(id: &str) -> bool {
    smuggle_variant(id).is_some()
}

/// Does probe `id` authenticate first (`--auth-user`)? Its preamble takes AUTH: every probe
/// that greets with STARTTLS allowed, except `relay.open` (about unauthenticated clients).
pub(crate) fn authenticates(id: &str, ctx: &Ctx) -> bool {
    ctx.auth.is_some() && preamble(id) == Preamble::Greet && id != "relay.open"
}

/// What a failure of `id` means and how the common MTAs fix it (the explanation in every
/// result's evidence).
pub(crate) fn advice(id: &str) -> &'static str {
    match id {
        "smuggle.lf-headers" => {
            "A fail means the server ends a message whose lines end in a bare LF at <LF>.<LF> \
             and runs the rest as commands: a sender whose relay passes bare-LF lines through \
             can smuggle a second message with a forged envelope past SPF/DMARC (SMTP \
             smuggling). Exim: its CVE-2023-51766 fix (4.97.1, or a backport such as Debian \
             12's 4.96-15+deb12u4) refuses <LF>.<LF> as the end of DATA except in LF-only \
             mode, which a message whose first header line ends in a bare LF turns on, so a \
             patched Exim fails this probe: have the relays in front of it refuse or normalize \
             bare LF (or filter it in front of Exim). Postfix: \
             smtpd_forbid_bare_newline = normalize or reject (clients in \
             smtpd_forbid_bare_newline_exclusions, default $mynetworks, are exempt: probe from \
             outside it). A smuggled DATA refused as sent ahead (Postfix's \
             smtpd_data_restrictions = reject_unauth_pipelining, \
             smtpd_forbid_unauth_pipelining; Exim's synchronization check) stops only a \
             smuggled message that comes with its DATA: with CHUNKING offered the probe smuggles a BDAT too, which gets past it (Postfix's short-term \
             workaround adds smtpd_discard_ehlo_keywords = chunking), and Exim 4.96 under TLS \
             does not see the lines waiting; a warn at best, the line ending still wants the fix."
        }
        i if i.starts_with("smuggle.") => {
            "A fail means the server ends a message at a non-standard line ending and runs the \
             rest as commands: a sender can smuggle a second message with a forged envelope \
             past SPF/DMARC of the relaying server (SMTP smuggling). Postfix: \
             smtpd_forbid_bare_newline = normalize (the default from 3.9; the setting is in \
             3.8.5, 3.7.10, 3.6.14, 3.5.24, and as = yes in 3.8.4, 3.7.9, 3.6.13, 3.5.23), or \
             = reject; clients in smtpd_forbid_bare_newline_exclusions (default $mynetworks, \
             loopback included) are exempt, so a fail when probing from such an address shows \
             the exclusion, not the setting: probe from outside it. Exim: 4.97.1 or later, or \
             a backport of the CVE-2023-51766 fix (Debian 12: 4.96-15+deb12u4): only \
             CRLF.CRLF ends DATA, unless the message's first header line ended in a bare LF \
             (Exim's LF-only mode). Sendmail: 8.18 with srv_features 'O'. A smuggled DATA \
             refused as sent ahead (Postfix's smtpd_data_restrictions = \
             reject_unauth_pipelining, smtpd_forbid_unauth_pipelining; Exim's synchronization \
             check) stops only a smuggled message that comes with its DATA: with CHUNKING \
             offered the probe smuggles a BDAT too, which gets past it (Postfix's short-term \
             workaround adds smtpd_discard_ehlo_keywords = chunking), and Exim 4.96 under TLS \
             does not see the lines waiting; a warn at best, the line ending still wants the fix."
        }
        "pipelining.early-talker" => {
            "A warn means commands sent before the greeting are answered: spam bots that do \
             not wait are not told apart (a spam defence the server may choose not to run, \
             not a hole). Postfix: postscreen with postscreen_greet_action = \
             enforce (smtpd alone answers early talkers). Exim: smtp_enforce_sync = true, unless \
             PIPECONNECT is advertised (then early EHLO is allowed, reported as info)."
        }
        "pipelining.unadvertised" => {
            "A warn means a pipelined group is accepted although PIPELINING was not \
             advertised: leniency, not a hole (RFC 2920 §3.1 binds the client). Postfix: reject_unauth_pipelining. Exim: smtp_enforce_sync = true."
        }
        "starttls.injection" | "starttls.injection-ehlo" => {
            "A fail means plaintext sent together with STARTTLS was executed inside the TLS \
             session: a man in the middle can inject commands (CVE-2011-0411). Postfix fixed it \
             in 2.8.0/2.7.3; Exim discards pending input at STARTTLS. Upgrade the MTA."
        }
        "starttls.downgrade" => {
            "A fail means credentials can be sent before TLS, or STARTTLS is not offered at all: \
             a man in the middle who strips STARTTLS reads them. Postfix: \
             smtpd_tls_auth_only = yes. Exim: auth_advertise_hosts = ${if eq{$tls_in_cipher}{}{}{*}}. \
             Check evidence.mail_without_tls on ports that must require TLS (submission)."
        }
        "relay.open" => {
            "A fail means the server accepts mail for any domain from anyone: an open relay, \
             soon on every block list. Postfix: smtpd_relay_restrictions = \
             permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination (mind \
             mynetworks). Exim: the acl_smtp_rcpt 'require relay_hosts/domains' rules."
        }
        "enum.vrfy" | "enum.expn" => {
            "A fail means anyone can list the server's users. Postfix: disable_vrfy_command = \
             yes (EXPN is not implemented). Exim: do not accept VRFY/EXPN in acl_smtp_vrfy / \
             acl_smtp_expn (the default denies them)."
        }
        "enum.rcpt" => {
            "A warn means RCPT tells existing users from unknown ones. Rejecting unknown users \
             at RCPT is right for an MX (no backscatter), so limit guessing instead: Postfix \
             smtpd_soft_error_limit / smtpd_hard_error_limit and anvil rate limits; Exim \
             smtp_accept_max_per_host and a ratelimit ACL."
        }
        "limits.line" => {
            "A fail means an over-long line was split into several commands: the tail runs as \
             a command of its own, so text hidden far into a line can become a command. Postfix \
             discards what is past line_length_limit (one reply). Exim 4.96 answers the part \
             past its command buffer as a second command; filter over-long lines in front of it \
             if that matters."
        }
        "limits.bare-lf-command" => {
            "A warn means a bare LF ends a command line (RFC 5321 §2.3.8 says CRLF). Harmless \
             alone, but the same parser in DATA is what SMTP smuggling needs. Postfix: \
             smtpd_forbid_bare_newline = reject (normalize still takes it as a line end). \
             Exim's CVE-2023-51766 fix is about the end of DATA only: Debian 12's patched 4.96 \
             still ends a command at a bare LF."
        }
        "limits.nul" => {
            "A warn means a command with a NUL byte was accepted: the server cut it at the NUL \
             or ignored the rest, so what it acts on differs from what a filter or log in front \
             of it saw. Exim answers 501; Postfix 3.7 cuts the line at the NUL (no setting \
             changes that; put a filter in front if it matters)."
        }
        _ => "",
    }
}

/// Everything a probe needs to know about the run.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// EHLO argument.
    pub(crate) helo: String,
    /// Envelope sender.
    pub(crate) from: String,
    /// The user's own recipient: the only one that receives mail.
    pub(crate) to: String,
    /// An address outside the server's domains (relay.open).
    pub(crate) relay_to: String,
    /// This run's token (random hex); each message's token is `ehlo-probe-TOKEN-ID`.
    pub(crate) token: String,
    /// `--tls`: STARTTLS in the preamble of the probes that take it.
    pub(crate) starttls: bool,
    /// `--tls-on-connect`: the connection is TLS from the start.
    pub(crate) implicit_tls: bool,
    /// `--auth-user` (its password, `--auth MECH`): AUTH (RFC 4954) in the preamble of the
    /// probes that take it (not relay.open, which is about unauthenticated clients).
    pub(crate) auth: Option<ProbeAuth>,
    /// Today's date for the `Date:` header (RFC 5322 form), from the driver's clock.
    pub(crate) date: String,
}

/// The credentials and mechanism of `--auth-user` / `--auth`.
#[derive(Debug, Clone)]
pub(crate) struct ProbeAuth {
    /// Mechanism name, upper case (one [`crate::smtp::auth::mechanism`] builds).
    pub(crate) mechanism: String,
    /// User, password and the nonce some mechanisms need (filled in by the caller).
    pub(crate) creds: crate::smtp::auth::Credentials,
}

/// Most `334` challenges one AUTH exchange answers (SCRAM needs two, DIGEST-MD5 two).
const MAX_CHALLENGES: usize = 8;

impl Ctx {
    /// The token of message `id` (what to look for in the mailbox).
    pub(crate) fn token_for(&self, id: &str) -> String {
        format!("ehlo-probe-{}-{}", self.token, id.replace('.', "-"))
    }

    /// The domain of `--to` (for a made-up unknown user next to it).
    fn to_domain(&self) -> &str {
        self.to.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// A user that does not exist next to `--to`.
    fn unknown_user(&self) -> String {
        format!("ehlo-no-such-user-{}@{}", self.token, self.to_domain())
    }
}

/// One thing a probe does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Write these bytes exactly.
    Send(Vec<u8>),
    /// Write these bytes (a credential); the transcript shows `shown` instead.
    SendSecret {
        /// The bytes.
        bytes: Vec<u8>,
        /// What the transcript shows.
        shown: String,
    },
    /// Read one reply. `want`: the reply class needed to go on (2 or 3); `None` = any.
    Read {
        /// Name of the reply in the log.
        label: &'static str,
        /// Class needed to go on.
        want: Option<u8>,
    },
    /// Read replies until a `221` or the close (at most [`MAX_REPLIES`], all within one
    /// timeout: the first read is an [`Io::Read`], the next ones [`Io::ReadOn`]).
    UntilQuit {
        /// Name of the replies in the log.
        label: &'static str,
        /// Commands sent before QUIT that may still be answered first (the line pipelined
        /// after STARTTLS): their answers come before QUIT's ([`AfterQuit`]).
        outstanding: usize,
    },
    /// The TLS handshake (after a `220` to STARTTLS).
    StartTls,
    /// Close this connection and open a new one (`pipelining.early-talker`'s control
    /// connection, which waits for the greeting).
    Reconnect,
}

/// Most replies one [`Step::UntilQuit`] takes before giving up on a chatty server: a
/// smuggled transaction answered in full is five (MAIL, RCPT, DATA, its end, QUIT).
pub(crate) const MAX_REPLIES: usize = 8;

/// What the runner asks its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Io {
    /// Write these bytes, then report [`Input::Sent`] (or `Closed` / `TimedOut`).
    Send(Vec<u8>),
    /// Read one reply (with the timeout): `Reply`, `Closed` or `TimedOut`.
    Read,
    /// Read one more reply within the deadline of the last [`Io::Read`] (a server that keeps
    /// answering after QUIT gets one timeout in all, not one per reply).
    ReadOn,
    /// Run the TLS handshake: `TlsUp` or `TlsFailed`.
    StartTls,
    /// Close the connection and open a new one: `Connected`, or `Closed` when it cannot.
    Reconnect,
    /// The probe is over.
    Done(Outcome),
}

/// What the driver reports back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    /// The bytes were written.
    Sent,
    /// A complete reply.
    Reply(Reply),
    /// The server closed the connection (or reset it).
    Closed,
    /// Nothing within the timeout.
    TimedOut,
    /// Part of a reply, then nothing more within the timeout: what had arrived (its lines,
    /// the last one perhaps without its end) and how much that was.
    TimedOutPartway(Reply, Progress),
    /// TLS is up.
    TlsUp,
    /// The handshake failed, or could not start (why).
    TlsFailed(String),
    /// The new connection of a [`Io::Reconnect`] is up, to this server (`host [address]`, as
    /// [`Runner::connected_to`] takes it).
    Connected(String),
}

/// A probe's result: status, one line, evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// pass / warn / fail / skip / error (= inconclusive).
    pub(crate) status: Status,
    /// One line for people.
    pub(crate) summary: String,
    /// Machine-readable evidence (the transcript is added by the runner).
    pub(crate) evidence: Map<String, Value>,
}

impl Outcome {
    fn new(status: Status, summary: impl Into<String>) -> Outcome {
        Outcome {
            status,
            summary: summary.into(),
            evidence: Map::new(),
        }
    }

    fn with(mut self, key: &str, v: impl Into<Value>) -> Outcome {
        self.evidence.insert(key.into(), v.into());
        self
    }
}

/// How the steps ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// Every step ran.
    Done,
    /// A reply (the last in the log) was not of the class needed to go on.
    Refused(&'static str),
    /// The server closed the connection while we waited for this reply (or wrote).
    Closed(&'static str),
    /// No reply within the timeout.
    TimedOut(&'static str),
    /// The TLS handshake failed.
    Tls(String),
}

/// Everything that happened, for the judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Log {
    /// The probe's id, for naming its steps' commands ([`step_command`]).
    pub(crate) id: &'static str,
    /// Replies in order, with their labels.
    pub(crate) replies: Vec<(&'static str, Reply)>,
    /// Capabilities from the last EHLO reply of the preamble.
    pub(crate) caps: Option<Capabilities>,
    /// How it ended.
    pub(crate) end: End,
    /// Bytes sent and replies received, escaped, in order (`C: …`, `S: …`).
    pub(crate) transcript: Vec<String>,
    /// `pipelining.early-talker`: how the first connection (the early talk) ended, once a
    /// control connection ran after it (`end` is then the control's).
    pub(crate) first_end: Option<End>,
    /// `pipelining.early-talker`: the server began a multi-line greeting (`220-`) and answered
    /// the early EHLO before finishing it (postscreen's pregreet test).
    pub(crate) greeting_cut: bool,
    /// Commands still outstanding when the last QUIT was sent ([`Step::UntilQuit`]).
    pub(crate) outstanding: usize,
    /// `limits.*`: bytes the server had sent unasked when the probe's line was written (the
    /// driver saw them waiting, [`Runner::unasked_before_write`]): replies that came before
    /// the line cannot be told from answers to it.
    pub(crate) unasked: Option<usize>,
    /// `limits.*`: the control connection's result, once the first connection closed on the
    /// probe's line ([`LimitsControl`]).
    pub(crate) control: Option<LimitsControl>,
    /// `smuggle.*`: how the follow-up connection that smuggles with BDAT ended, once it ran
    /// ([`smuggle_needs_bdat`]; its replies are labelled `bdat-…`, `end` is the first's).
    pub(crate) bdat: Option<End>,
}

/// `limits.*`: what a control connection (the same preamble, then a `NOOP` of normal length)
/// got. A close on the probe's line shows a reaction to the line only when the server answers
/// a harmless line in the same place; a server that closes after EHLO whatever comes next
/// closes both. One control serves every `limits.*` probe of a run
/// ([`Runner::with_control`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LimitsControl {
    /// The reply to the control's `NOOP`, if one came.
    pub(crate) noop: Option<Reply>,
    /// How the control connection ended, when it stopped early (one line).
    pub(crate) why: Option<String>,
    /// The probe whose connection ran it.
    pub(crate) by: &'static str,
    /// Replies after the control's `QUIT` other than QUIT's own: a server that sends replies
    /// nobody asked for sends them here too, so more replies than commands on the probe's
    /// connection show no split.
    pub(crate) unasked: usize,
}

impl LimitsControl {
    /// Did the server answer the harmless line as a server that stays open does (a reply that
    /// is no 4xx: a `421` or other temporary failure says it is closing or deferring
    /// everyone)?
    fn answered(&self) -> Option<&Reply> {
        self.noop
            .as_ref()
            .filter(|r| r.code.is_some() && !r.is_transient())
    }
}

/// The control's harmless line: a `NOOP` of normal length (RFC 5321 §4.1.1.9).
const CONTROL_LINE: &str = "NOOP ehlo-probe-control";

/// Is `id` one of the `limits.*` probes (their close on the line needs a control)?
fn is_limits(id: &str) -> bool {
    matches!(id, "limits.line" | "limits.bare-lf-command" | "limits.nul")
}

impl Log {
    /// The first reply labelled `label`.
    pub(crate) fn get(&self, label: &str) -> Option<&Reply> {
        self.replies
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, r)| r)
    }

    /// Every reply labelled `label`.
    pub(crate) fn all(&self, label: &str) -> Vec<&Reply> {
        self.replies
            .iter()
            .filter(|(l, _)| *l == label)
            .map(|(_, r)| r)
            .collect()
    }

    /// The replies labelled `label` (read after QUIT), paired by [`AfterQuit`].
    fn after_quit(&self, label: &str) -> AfterQuit<'_> {
        let closed = matches!(self.end, End::Closed(l) if l == label);
        AfterQuit::pair(&self.all(label), self.outstanding, closed)
    }

    /// Replies labelled `label` other than QUIT's own (the outstanding commands' answers
    /// first).
    fn extra(&self, label: &str) -> Vec<&Reply> {
        self.after_quit(label).others()
    }

    /// The replies after QUIT other than QUIT's own, and whether they show more answers than
    /// the commands sent: with QUIT's reply known (a `221`, or the last before a close) any of
    /// them does; without it the last may be QUIT's answer in another form, so only a second
    /// one does.
    fn extra_beyond_quit(&self) -> (Vec<&Reply>, bool) {
        let aq = self.after_quit("quit");
        let extra = aq.others();
        let more = if aq.quit.is_some() {
            !extra.is_empty()
        } else {
            extra.len() >= 2
        };
        (extra, more)
    }

    /// Did the server answer our QUIT (RFC 5321 §4.1.1.10): its `221`, or another 2xx that is
    /// QUIT's ([`AfterQuit`])? Only then do the replies before it show everything the server
    /// made of our bytes.
    pub(crate) fn quit_answered(&self) -> bool {
        self.after_quit("quit").quit_answered()
    }

    /// Why the steps stopped early, as one line; `None` when they all ran.
    pub(crate) fn reason(&self) -> Option<String> {
        self.reason_of(&self.end)
    }

    /// [`Log::reason`] for another end (a follow-up connection's).
    fn reason_of(&self, end: &End) -> Option<String> {
        match end {
            End::Done => None,
            End::Refused(label) => {
                // The command sent, not the step's name ("ehlo refused" read as lower-case
                // words), and which connection, as the transcript's `C:` lines say them.
                let (name, on) = step_name(self.id, label);
                Some(match self.get_last(label) {
                    // Bytes that are no SMTP reply refused nothing: say what they were, as
                    // `ehlo check` does (it read "banner refused: (no code)").
                    Some(r) if r.code.is_none() || crate::check::probe::oversized(r) => format!(
                        "{} is not SMTP: {}",
                        reply_name(self.id, label),
                        crate::check::probe::garbled(r)
                    ),
                    // Only DATA waits for a 3xx: a completion there is no refusal, and no SMTP.
                    Some(r) if r.is_positive() => format!(
                        "{name} answered {}{on} where RFC 5321 §4.3.2 has 354 (or a refusal)",
                        short(r)
                    ),
                    // A 4xx refuses nothing for good (greylisting, 421 shutting down): the
                    // remedy is to retry, not another sender or recipient.
                    Some(r) if r.is_transient() => format!(
                        "{name} deferred{on}: {} (a temporary failure: retry later)",
                        short(r)
                    ),
                    Some(r) => format!("{name} refused{on}: {}", short(r)),
                    None => format!("{name} refused{on}"),
                })
            }
            // A write, not a reply, was cut: say so ("waiting for the write reply" named none).
            End::Closed("write") => {
                Some("the server closed the connection while the probe was writing".into())
            }
            End::TimedOut("write") => {
                Some("the server stopped reading: a write did not finish within the timeout".into())
            }
            End::Closed(label) => Some(format!(
                "the server closed the connection (waiting for the {})",
                self.awaited(label)
            )),
            End::TimedOut(label) => Some(format!("no {} within the timeout", self.awaited(label))),
            // The connection layer's words may name the handshake already ("TLS handshake
            // failed: the peer closed the connection during the handshake"): said once.
            End::Tls(why) if why.starts_with("TLS handshake failed") => Some(why.clone()),
            End::Tls(why) => Some(format!("TLS handshake failed: {why}")),
        }
    }

    /// What the step `label` waited for, in the transcript's words: the greeting, or the reply
    /// to the command last sent (`reply to VRFY alice@example.com`). The labels are the
    /// probe's own step names ("known", "nul", "first"), which name nothing a reader sent.
    fn awaited(&self, label: &str) -> String {
        let (base, on) = match label.split_once('-') {
            Some(("control", rest)) => (rest, " on the control connection"),
            Some(("bdat", rest)) => (rest, " on the BDAT follow-up connection"),
            _ => (label, ""),
        };
        let sent = match base {
            "banner" => return format!("greeting{on}"),
            "long" => format!("the {}-octet NOOP line", LONG_LINE + 7),
            "eod" => "the message's end".to_string(),
            _ => {
                let last = self
                    .transcript
                    .iter()
                    .rev()
                    .find_map(|l| l.strip_prefix("C: "))
                    .map(|c| c.strip_suffix("\\r\\n").unwrap_or(c));
                match last {
                    Some(c) if c.len() <= 80 && !c.contains("\\r\\n") => c.to_string(),
                    _ => base.to_ascii_uppercase(),
                }
            }
        };
        format!("reply to {sent}{on}")
    }

    fn get_last(&self, label: &str) -> Option<&Reply> {
        self.replies
            .iter()
            .rev()
            .find(|(l, _)| *l == label)
            .map(|(_, r)| r)
    }
}

/// A `530` (RFC 3207 §4 "Must issue a STARTTLS command first", RFC 4954 §6 "Authentication
/// required") to one of the commands a probe judges by its refusal: the refusal is the
/// server's policy for every command before TLS or AUTH, not an answer about the NUL byte,
/// the user asked for or the pipelined group, so it must not pass. The probes that count
/// replies (`limits.line`, `limits.bare-lf-command`) still read their count, and
/// `starttls.downgrade` is about that very refusal. A server reads a line into commands before
/// it applies that policy (Postfix's `smtpd_forbid_bare_newline` answers a bare LF before
/// anything else), so a count is evidence under a `530` too: `limits.nul`'s split (more
/// replies than commands) is read as `limits.bare-lf-command`'s is, only its accepted-or-refused
/// verdict waits for `--tls`/`--auth-user`.
fn policy_refusal<'a>(id: &str, log: &'a Log) -> Option<(&'static str, &'a Reply)> {
    let labels: &[&str] = match id {
        "pipelining.unadvertised" => &["rset", "noop"],
        "relay.open" => &["mail", "rcpt", "control"],
        "enum.vrfy" | "enum.expn" | "enum.rcpt" => &["mail", "known", "unknown"],
        "limits.nul" if more_replies_than_commands(id, log) => &[],
        "limits.nul" => &["nul"],
        _ if smuggle_variant(id).is_some() => &["mail", "rcpt", "data"],
        _ => &[],
    };
    log.replies
        .iter()
        .find(|(l, r)| labels.contains(l) && r.requires_auth())
        .map(|(l, r)| (step_command(id, l), r))
}

/// The command probe `id` sent before reading step `label`, as a summary names it ("the
/// greeting" for the banner, "the message" for the reply to its end): the steps are the
/// probe's own names ("known", "control", "nul"), which name nothing a reader sent.
fn step_command<'a>(id: &str, label: &'a str) -> &'a str {
    match (id, label) {
        ("enum.vrfy", "known" | "unknown") => "VRFY",
        ("enum.expn", "known" | "unknown") => "EXPN",
        (_, "known" | "unknown" | "control" | "rcpt") => "RCPT",
        (_, "mail") => "MAIL",
        (_, "data") => "DATA",
        (_, "rset") => "RSET",
        (_, "noop") => "NOOP",
        (_, "nul") => "RSET<NUL>",
        (_, "ehlo") => "EHLO",
        (_, "starttls") => "STARTTLS",
        (_, "auth") => "AUTH",
        (_, "quit") => "QUIT",
        (_, "banner") => "the greeting",
        (_, "eod") => "the message",
        // `limits.line`'s over-long `NOOP`, `limits.bare-lf-command`'s `RSET<LF>RSET`.
        (_, "long") => "NOOP",
        (_, "first") => "RSET",
        _ => label,
    }
}

/// [`step_command`] for a label that may name its connection (`control-ehlo`, `bdat-data`): the
/// command, and the words that say which connection (empty for the probe's own).
fn step_name<'a>(id: &str, label: &'a str) -> (&'a str, &'static str) {
    let (base, on) = match label.split_once('-') {
        Some(("control", rest)) => (rest, " on the control connection"),
        Some(("bdat", rest)) => (rest, " on the BDAT follow-up connection"),
        _ => (label, ""),
    };
    (step_command(id, base), on)
}

/// The reply read at step `label`, as a summary names it: "the greeting", "the reply to DATA
/// on the BDAT follow-up connection".
fn reply_name(id: &str, label: &str) -> String {
    match step_name(id, label) {
        ("the greeting", on) => format!("the greeting{on}"),
        (name, on) => format!("the reply to {name}{on}"),
    }
}

/// For a `limits.*` verdict read from the count of replies: when they are `530`s, the words
/// that say the count, not the refusal, is the evidence ([`policy_refusal`]).
fn counted_under_policy(replies: &[&Reply]) -> &'static str {
    if replies.iter().any(|r| r.requires_auth()) {
        "; the server refuses commands before STARTTLS or AUTH (RFC 3207 §4, RFC 4954 §6), \
         but the count of replies shows how it split the line all the same"
    } else {
        ""
    }
}

/// Was the reply cut off at the reader's size limit ([`Deviation::ReplyTooLarge`])? Its rest
/// is still on its way and would parse as further replies.
fn too_large(r: &Reply) -> bool {
    r.deviations
        .iter()
        .any(|d| matches!(d, Deviation::ReplyTooLarge { .. }))
}

/// Whether a positive EXPN reply lists a member (RFC 5321 §3.5.3: one per line, `User Name
/// <mailbox>` or a bare mailbox): an address in angle brackets or a word holding `@`, other
/// than the one asked for (a server echoing the argument back expands nothing).
fn lists_members(r: &Reply, asked: &str) -> bool {
    if !r.is_positive() {
        return false;
    }
    let asked = asked.trim_matches(['<', '>']);
    r.text_without_codes().split_whitespace().any(|w| {
        let bracketed = w.contains('<') && w.contains('>');
        let a = w.trim_matches(|c: char| "<>,;:\"'()[]".contains(c));
        let mailbox = match a.split_once('@') {
            Some((l, d)) => !l.is_empty() && !d.is_empty(),
            None => false,
        };
        (bracketed && !a.is_empty() || mailbox) && !a.eq_ignore_ascii_case(asked)
    })
}

/// `250 2.0.0 Ok` (the code and the first line), for summaries.
pub(crate) fn short(r: &Reply) -> String {
    let code = r.code.map_or("(no code)".to_string(), |c| c.to_string());
    let text: String = r
        .lines
        .first()
        .map_or("", String::as_str)
        .chars()
        .take(120)
        .collect();
    format!("{code} {text}")
}

/// A reply's `S:` line in the transcript: its bytes escaped ([`escape`]); a reply cut at the
/// reader's size limit ([`Deviation::ReplyTooLarge`]) keeps only the lines before the one that
/// passed it (none for a single line without a line end), so the cut and its size follow, in
/// the words the send's transcript and the summary use ([`crate::smtp::reply::describe_cut`]).
fn reply_line(r: &Reply) -> String {
    let kept = escape(&r.raw.0);
    let kept = kept.trim_end_matches("\\r\\n");
    let Some(cut) = r
        .deviations
        .iter()
        .find(|d| matches!(d, Deviation::ReplyTooLarge { .. }))
    else {
        return format!("S: {kept}");
    };
    let sep = if kept.is_empty() { "" } else { " " };
    format!(
        "S: {kept}{sep}(cut off: a reply too large: {})",
        crate::smtp::reply::describe_cut(cut)
    )
}

/// Bytes as a transcript shows them: printable ASCII as is, CR, LF, NUL and other controls
/// escaped, and a long run cut with its length.
pub(crate) fn escape(bytes: &[u8]) -> String {
    const SHOWN: usize = 2048;
    let mut s = String::new();
    for &b in bytes.iter().take(SHOWN) {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    if bytes.len() > SHOWN {
        s.push_str(&format!("… ({} bytes)", bytes.len()));
    }
    s
}

/// Whether a probe greets first (banner, EHLO, optional STARTTLS) before its own steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Preamble {
    /// No preamble: the probe's steps start on connect.
    None,
    /// Banner and EHLO; STARTTLS too when `--tls`.
    Greet,
    /// Banner and EHLO in plaintext even with `--tls` (the probe is about plaintext).
    GreetPlain,
}

fn preamble(id: &str) -> Preamble {
    match id {
        "pipelining.early-talker" => Preamble::None,
        "starttls.injection" | "starttls.injection-ehlo" | "starttls.downgrade" => {
            Preamble::GreetPlain
        }
        _ => Preamble::Greet,
    }
}

fn line(s: impl AsRef<str>) -> Step {
    Step::Send(format!("{}\r\n", s.as_ref()).into_bytes())
}

fn read(label: &'static str, want: Option<u8>) -> Step {
    Step::Read { label, want }
}

fn quit() -> [Step; 2] {
    quit_after(0)
}

/// QUIT with `outstanding` commands sent before it still unanswered.
fn quit_after(outstanding: usize) -> [Step; 2] {
    [
        line("QUIT"),
        Step::UntilQuit {
            label: "quit",
            outstanding,
        },
    ]
}

/// The probe's own steps once the preamble is done (`caps`: from the last EHLO), or its
/// outcome right away (skip).
fn build(id: &'static str, ctx: &Ctx, caps: &Capabilities) -> Result<Vec<Step>, Outcome> {
    let mail = || line(format!("MAIL FROM:<{}>", ctx.from));
    let mut s = Vec::new();
    match id {
        "pipelining.early-talker" => {
            s.push(line(format!("EHLO {}", ctx.helo)));
            s.push(read("banner", None));
            s.push(read("ehlo", Some(2)));
        }
        "pipelining.unadvertised" => {
            if caps.has("PIPELINING") {
                return Err(Outcome::new(
                    Status::Skip,
                    "PIPELINING is advertised: pipelined groups are allowed (RFC 2920)",
                ));
            }
            s.push(Step::Send(b"RSET\r\nNOOP\r\n".to_vec()));
            s.push(read("rset", Some(2)));
            s.push(read("noop", None));
        }
        "starttls.injection" | "starttls.injection-ehlo" => {
            if ctx.implicit_tls {
                return Err(Outcome::new(
                    Status::Skip,
                    "implicit TLS (--tls-on-connect): there is no STARTTLS to inject into",
                ));
            }
            if !caps.has("STARTTLS") {
                return Err(Outcome::new(Status::Skip, "STARTTLS is not offered"));
            }
            s.push(Step::Send(if id == "starttls.injection" {
                b"STARTTLS\r\nRSET\r\n".to_vec()
            } else {
                format!("STARTTLS\r\nEHLO {}\r\n", ctx.helo).into_bytes()
            }));
            s.push(read("starttls", Some(2)));
            s.push(Step::StartTls);
            // The injected line is outstanding: a vulnerable server answers it first.
            s.extend(quit_after(1));
            return Ok(s);
        }
        "starttls.downgrade" => {
            if ctx.implicit_tls {
                return Err(Outcome::new(
                    Status::Skip,
                    "implicit TLS (--tls-on-connect): nothing is sent before TLS",
                ));
            }
            s.push(mail());
            s.push(read("mail", None));
            s.push(line("RSET"));
            s.push(read("rset", None));
        }
        "relay.open" => {
            s.push(mail());
            s.push(read("mail", Some(2)));
            s.push(line(format!("RCPT TO:<{}>", ctx.relay_to)));
            s.push(read("rcpt", None));
            // The control: `--to`, an address the server must take. A refusal of the outside
            // recipient shows a closed relay only when the control is accepted; a server that
            // refuses every recipient (a full disk, a sender it blocks) refuses it for
            // another reason.
            s.push(line(format!("RCPT TO:<{}>", ctx.to)));
            s.push(read("control", None));
            s.push(line("RSET"));
            s.push(read("rset", None));
        }
        "enum.vrfy" | "enum.expn" => {
            let verb = if id == "enum.vrfy" { "VRFY" } else { "EXPN" };
            s.push(line(format!("{verb} {}", ctx.to)));
            s.push(read("known", None));
            s.push(line(format!("{verb} {}", ctx.unknown_user())));
            s.push(read("unknown", None));
        }
        "enum.rcpt" => {
            s.push(mail());
            s.push(read("mail", Some(2)));
            s.push(line(format!("RCPT TO:<{}>", ctx.to)));
            s.push(read("known", None));
            s.push(line(format!("RCPT TO:<{}>", ctx.unknown_user())));
            s.push(read("unknown", None));
            s.push(line("RSET"));
            s.push(read("rset", None));
        }
        "limits.line" => {
            let mut l = b"NOOP ".to_vec();
            l.extend(std::iter::repeat_n(b'x', LONG_LINE));
            l.extend_from_slice(b"\r\n");
            s.push(Step::Send(l));
            s.push(read("long", None));
        }
        "limits.bare-lf-command" => {
            // One line to a strict server ("RSET\nRSET" → 501), two to a lax one.
            s.push(Step::Send(b"RSET\nRSET\r\n".to_vec()));
            s.push(read("first", None));
        }
        "limits.nul" => {
            s.push(Step::Send(b"RSET\x00 ehlo-probe\r\n".to_vec()));
            s.push(read("nul", None));
        }
        _ => {
            let Some(variant) = smuggle_variant(id) else {
                return Err(Outcome::new(Status::Error, format!("unknown probe {id}")));
            };
            s.push(mail());
            s.push(read("mail", Some(2)));
            s.push(line(format!("RCPT TO:<{}>", ctx.to)));
            s.push(read("rcpt", Some(2)));
            s.push(line("DATA"));
            s.push(read("data", Some(3)));
            s.push(Step::Send(smuggle_content(id, ctx, variant)));
            s.push(read("eod", None));
        }
    }
    s.extend(quit());
    Ok(s)
}

/// Length of the `limits.line` argument: past Postfix's 2048 and Exim's 16384-octet buffers.
pub(crate) const LONG_LINE: usize = 20_000;

/// The content of a `smuggle.*` message: an outer message whose body holds `variant`, then a
/// complete second transaction (MAIL, RCPT, DATA, a smuggled message), then the real end. The
/// outer message's lines end in CRLF, or in a bare LF for `smuggle.lf-headers`; the smuggled
/// transaction's always in CRLF.
pub(crate) fn smuggle_content(id: &str, ctx: &Ctx, variant: &[u8]) -> Vec<u8> {
    smuggle_bytes(id, ctx, variant, false)
}

/// [`smuggle_content`], or with `bdat` the smuggled transaction's DATA replaced by `BDAT n
/// LAST` (RFC 3030 §2) whose chunk is the smuggled message and the `.` line: a server that
/// does not end the outer message at the variant still reads one message ending at
/// `<CR><LF>.<CR><LF>`, and one that does gets a complete chunk with nothing after it. The
/// smuggled message's subject says `SMUGGLED via BDAT`.
fn smuggle_bytes(id: &str, ctx: &Ctx, variant: &[u8], bdat: bool) -> Vec<u8> {
    let token = ctx.token_for(id);
    let mut outer = format!(
        "From: <{from}>\r\nTo: <{to}>\r\nDate: {date}\r\nSubject: ehlo probe {id} outer {token}\r\n\
         Message-Id: <{token}-outer{suffix}@ehlo.probe>\r\n\r\n\
         This is the outer message of ehlo probe {id} ({token}).\r\n\
         If a second message with SMUGGLED in its subject arrived, the server is vulnerable.",
        from = ctx.from,
        to = ctx.to,
        date = ctx.date,
        suffix = if bdat { "-bdat" } else { "" },
    );
    if lf_only(id) {
        outer = outer.replace("\r\n", "\n");
    }
    let mut c = outer.into_bytes();
    c.extend_from_slice(variant);
    let smuggled = format!(
        "From: <{from}>\r\nTo: <{to}>\r\nDate: {date}\r\nSubject: ehlo probe {id} SMUGGLED{via} {token}\r\n\
         Message-Id: <{token}-smuggled{suffix}@ehlo.probe>\r\n\r\n\
         SMUGGLED: this message was hidden in the body of the outer one ({token}).\r\n.\r\n",
        from = ctx.from,
        to = ctx.to,
        date = ctx.date,
        via = if bdat { " via BDAT" } else { "" },
        suffix = if bdat { "-bdat" } else { "" },
    );
    let command = if bdat {
        format!("BDAT {} LAST", smuggled.len())
    } else {
        "DATA".into()
    };
    c.extend_from_slice(
        format!(
            "MAIL FROM:<{from}>\r\nRCPT TO:<{to}>\r\n{command}\r\n",
            from = ctx.from,
            to = ctx.to,
        )
        .as_bytes(),
    );
    c.extend_from_slice(smuggled.as_bytes());
    c
}

/// Judge the log of a probe whose preamble went through.
fn judge(id: &'static str, ctx: &Ctx, log: &Log) -> Outcome {
    let inconclusive = || {
        Outcome::new(
            Status::Error,
            log.reason()
                .unwrap_or_else(|| "the replies do not tell".into()),
        )
    };
    // A 4xx (421 shutting down, 454 TLS not available, 451 local error) is no refusal: the
    // same bytes may be answered on the next try, so it shows nothing either way.
    let deferred = |what: &str, r: &Reply| {
        Outcome::new(
            Status::Error,
            format!(
                "{what} deferred: {} (a temporary failure shows nothing)",
                short(r)
            ),
        )
    };
    // One reply after QUIT, then neither a `221` nor a close: it may be QUIT's own answer in
    // another form (a server answering `250` to every line), so it shows no split.
    let unattributed = |r: &Reply| {
        Outcome::new(
            Status::Error,
            format!(
                "one reply after QUIT ({}) and then {}: it may be QUIT's answer, so it shows no split",
                short(r),
                log.reason().unwrap_or_else(|| "no 221".into())
            ),
        )
    };
    if let Some(n) = log.unasked.filter(|_| is_limits(id)) {
        return Outcome::new(
            Status::Error,
            format!(
                "the server had sent replies nobody asked for ({n} byte{} waiting) when the probe's line was written: they cannot be told from answers to the line",
                crate::smtp::event::plural_s(n)
            ),
        );
    }
    if let Some((command, r)) = policy_refusal(id, log) {
        return Outcome::new(
            Status::Error,
            format!(
                "{command} refused with {}: the server wants STARTTLS or AUTH first (RFC 3207 §4, RFC 4954 §6), so the probe tested nothing; run it with --tls or --auth-user",
                short(r)
            ),
        );
    }
    match id {
        "pipelining.early-talker" => judge_early_talker(log),
        "pipelining.unadvertised" => match (log.get("rset"), log.get("noop")) {
            (Some(a), _) if a.is_transient() => deferred("the pipelined group", a),
            (Some(a), Some(b)) if a.is_positive() && b.is_transient() => {
                deferred("the second command of the group", b)
            }
            // A warn, not a fail: taking a group the server did not invite is leniency (RFC
            // 2920 §3.1 binds the client), no smuggling or injection.
            (Some(a), Some(b)) if a.is_positive() && b.is_positive() => Outcome::new(
                Status::Warn,
                "answered a pipelined RSET+NOOP although PIPELINING is not advertised",
            ),
            (Some(a), _) if !a.is_positive() => Outcome::new(
                Status::Pass,
                format!("refused the pipelined group: {}", short(a)),
            ),
            (Some(_), Some(b)) => Outcome::new(
                Status::Pass,
                format!("refused the second command of the group: {}", short(b)),
            ),
            (Some(_), None) if matches!(log.end, End::Closed(_)) => {
                Outcome::new(Status::Pass, "closed the connection on the pipelined group")
            }
            _ => inconclusive(),
        },
        "starttls.injection" | "starttls.injection-ehlo" => {
            let injected = if id == "starttls.injection" {
                "RSET"
            } else {
                "EHLO"
            };
            let Some(r) = log.get("starttls") else {
                return inconclusive();
            };
            if r.is_transient() {
                return deferred("STARTTLS", r);
            }
            if !r.is_positive() {
                return Outcome::new(
                    Status::Pass,
                    format!(
                        "refused STARTTLS with a command pipelined after it: {}",
                        short(r)
                    ),
                );
            }
            if let End::Tls(_) = log.end {
                return inconclusive();
            }
            let extra = log.extra("quit");
            if !extra.is_empty() {
                // The injected line was outstanding when QUIT left: a reply and then a close
                // answer it, not QUIT ([`AfterQuit`]), however a `250` is worded.
                let closed = if log.quit_answered() {
                    ""
                } else {
                    ", then closed without answering QUIT"
                };
                return Outcome::new(
                    Status::Fail,
                    format!(
                        "answered the {injected} sent in plaintext with STARTTLS inside TLS ({}){closed}: \
                         plaintext crosses the TLS boundary",
                        short(extra[0])
                    ),
                )
                .with("injected_replies", extra.len());
            }
            // Only the `221` shows the server read past the injected line and kept quiet.
            if log.quit_answered() {
                Outcome::new(
                    Status::Pass,
                    "discarded the plaintext sent with STARTTLS (only QUIT was answered inside TLS)",
                )
            } else {
                inconclusive()
            }
        }
        "starttls.downgrade" => {
            let caps = log.caps.clone().unwrap_or_default();
            let auth = caps.auth_mechanisms();
            let mail = log.get("mail");
            let mail_ok = mail.is_some_and(Reply::is_positive);
            let o = if !caps.has("STARTTLS") {
                // Credentials only where AUTH is offered: a sink without AUTH has none to lose.
                let summary = if !auth.is_empty() || caps.has("AUTH") {
                    format!(
                        "STARTTLS is not offered, AUTH{}{} is: passwords and mail travel in plaintext",
                        if auth.is_empty() { "" } else { " " },
                        crate::check::probe::capped(&auth.join(" "))
                    )
                } else {
                    "STARTTLS is not offered: mail travels in plaintext (no AUTH offered either)"
                        .to_string()
                };
                Outcome::new(Status::Fail, summary)
            } else if !auth.is_empty() || caps.has("AUTH") {
                // The mechanisms, not `has("AUTH")`: the old `AUTH=PLAIN LOGIN` form (RFC 4954
                // §3) is a keyword of its own, and offers credentials before TLS just the same.
                Outcome::new(
                    Status::Fail,
                    format!(
                        "offers AUTH{}{} before STARTTLS: a man in the middle who strips STARTTLS gets the credentials",
                        if auth.is_empty() { "" } else { " " },
                        crate::check::probe::capped(&auth.join(" "))
                    ),
                )
            } else {
                match mail {
                    Some(r) if mail_ok => Outcome::new(
                        Status::Pass,
                        format!(
                            "STARTTLS offered, no AUTH before it; MAIL without TLS accepted ({}), as an MX must (RFC 3207 §4)",
                            short(r)
                        ),
                    ),
                    Some(r) => Outcome::new(
                        Status::Pass,
                        format!(
                            "STARTTLS offered, no AUTH before it; MAIL without TLS refused: {}",
                            short(r)
                        ),
                    ),
                    None => return inconclusive(),
                }
            };
            o.with("starttls", caps.has("STARTTLS"))
                // A real list is a few names; a hostile EHLO line may hold thousands.
                .with(
                    "auth_before_tls",
                    json!(crate::check::probe::capped_lines(
                        &auth,
                        crate::check::probe::TEXT_CAP
                    )),
                )
                .with("mail_without_tls", mail_ok)
        }
        "relay.open" => match log.get("rcpt") {
            Some(r) if r.is_positive() => Outcome::new(
                Status::Fail,
                format!(
                    "accepted RCPT TO:<{}> without AUTH: {} (an open relay, or this client is trusted)",
                    ctx.relay_to,
                    short(r)
                ),
            ),
            Some(r) if r.is_transient() => Outcome::new(
                Status::Error,
                format!(
                    "deferred the outside recipient (greylisting?): {}",
                    short(r)
                ),
            ),
            Some(r) => {
                let refused = format!("refused RCPT TO:<{}>: {}", ctx.relay_to, short(r));
                match log.get("control") {
                    Some(c) if c.is_positive() => Outcome::new(
                        Status::Pass,
                        format!(
                            "{refused}; accepted the control recipient <{}>: {}",
                            ctx.to,
                            short(c)
                        ),
                    ),
                    Some(c) if c.is_transient() => Outcome::new(
                        Status::Error,
                        format!(
                            "{refused}, but deferred the control recipient <{}> too: {} (a \
                             temporary failure shows nothing): retry later",
                            ctx.to,
                            short(c)
                        ),
                    ),
                    Some(c) => Outcome::new(
                        Status::Error,
                        format!(
                            "the server refused every recipient, the control recipient <{}> \
                             too ({}): its refusal of <{}> ({}) need not be about relaying; \
                             give --to a mailbox it accepts without AUTH (a submission port \
                             that wants AUTH for every recipient: --skip relay.open)",
                            ctx.to,
                            short(c),
                            ctx.relay_to,
                            short(r)
                        ),
                    ),
                    None => Outcome::new(
                        Status::Error,
                        format!(
                            "{refused}, then {}: no accepted control recipient shows the \
                             refusal is about relaying",
                            log.reason().unwrap_or_else(|| "no control reply".into())
                        ),
                    ),
                }
                .with(
                    "control_accepted",
                    log.get("control").is_some_and(Reply::is_positive),
                )
            }
            None => inconclusive(),
        },
        "enum.vrfy" | "enum.expn" => {
            let verb = if id == "enum.vrfy" { "VRFY" } else { "EXPN" };
            match (log.get("known"), log.get("unknown")) {
                (Some(k), Some(u)) => {
                    let disclosed = Reply::confirms_mailbox;
                    if k.is_transient() || u.is_transient() {
                        Outcome::new(
                            Status::Error,
                            format!("{verb} deferred: {} / {}", short(k), short(u)),
                        )
                    } else if disclosed(k) && !disclosed(u) {
                        Outcome::new(
                            Status::Fail,
                            format!(
                                "{verb} tells users apart: {} for {}, {} for an unknown user",
                                short(k),
                                ctx.to,
                                short(u)
                            ),
                        )
                    } else if id == "enum.expn"
                        && (lists_members(k, &ctx.to) || lists_members(u, &ctx.unknown_user()))
                    {
                        // The same code for both, but a reply names addresses other than the one
                        // asked for: RFC 5321 §3.5.3's expansion, which is the finding even though
                        // the codes do not tell the users apart.
                        Outcome::new(
                            Status::Fail,
                            format!(
                                "EXPN expands addresses ({} for {}, {} for an unknown user)",
                                short(k),
                                ctx.to,
                                short(u)
                            ),
                        )
                    } else if id == "enum.expn" && disclosed(k) {
                        // 250 to a real and a made-up user alike, no member listed (a server
                        // answering "250 OK" to everything): no user is told apart and nothing
                        // is expanded, so nothing is disclosed.
                        Outcome::new(
                            Status::Pass,
                            format!(
                                "EXPN answers {} for a real and an unknown user alike and lists \
                                 no member: nothing disclosed",
                                short(k)
                            ),
                        )
                    } else if k.code != u.code && k.is_positive() && !u.is_positive() {
                        Outcome::new(
                            Status::Fail,
                            format!(
                                "{verb} answers differently for a real user ({}) and an unknown one ({})",
                                short(k),
                                short(u)
                            ),
                        )
                    } else {
                        Outcome::new(
                            Status::Pass,
                            format!("{verb} discloses nothing: {} / {}", short(k), short(u)),
                        )
                    }
                }
                _ => inconclusive(),
            }
        }
        "enum.rcpt" => match (log.get("known"), log.get("unknown")) {
            (Some(k), Some(u)) if k.is_positive() && u.is_permanent() => Outcome::new(
                Status::Warn,
                format!(
                    "RCPT tells users apart: {} for {}, {} for an unknown user",
                    short(k),
                    ctx.to,
                    short(u)
                ),
            ),
            (Some(k), Some(u)) if k.is_positive() && u.is_positive() => Outcome::new(
                Status::Pass,
                format!(
                    "RCPT accepts an unknown user too ({}): nothing disclosed",
                    short(u)
                ),
            ),
            (Some(k), Some(_)) if k.is_transient() => Outcome::new(
                Status::Error,
                format!(
                    "RCPT TO:<{}> was deferred: {} (a temporary failure, greylisting?): retry later",
                    ctx.to,
                    short(k)
                ),
            ),
            (Some(k), Some(_)) if !k.is_positive() => Outcome::new(
                Status::Error,
                format!(
                    "RCPT TO:<{}> was refused: {}; the probe needs a recipient the server accepts",
                    ctx.to,
                    short(k)
                ),
            ),
            (Some(_), Some(u)) => Outcome::new(
                Status::Error,
                format!("the unknown user was deferred: {}", short(u)),
            ),
            _ => inconclusive(),
        },
        "limits.line" => {
            let (extra, split) = log.extra_beyond_quit();
            let unasked = unasked_on_control(log);
            match log.get("long") {
                Some(r) if r.is_transient() => deferred("the over-long line", r),
                Some(r) if names_synchronization(r) => Outcome::new(
                    Status::Fail,
                    format!(
                        "split a {}-octet line into several commands: the server found the rest \
                         waiting as a command sent before its reply and refused it ({})",
                        LONG_LINE + 7,
                        short(r)
                    ),
                ),
                Some(_) if !split && !extra.is_empty() => unattributed(extra[0]),
                Some(_) if split && unasked.is_some() => unasked.unwrap_or_else(inconclusive),
                Some(_) if split => Outcome::new(
                    Status::Fail,
                    format!(
                        "split a {}-octet line into several commands ({} extra repl{}, first: {})",
                        LONG_LINE + 7,
                        extra.len(),
                        if extra.len() == 1 { "y" } else { "ies" },
                        short(extra[0])
                    ),
                ),
                Some(r) if log.end == End::Done || log.quit_answered() => Outcome::new(
                    Status::Pass,
                    format!(
                        "one reply to the {}-octet line: {}",
                        LONG_LINE + 7,
                        short(r)
                    ),
                ),
                Some(r) if matches!(log.end, End::Closed(_)) => Outcome::new(
                    Status::Pass,
                    format!("answered the over-long line ({}) and closed", short(r)),
                ),
                None if closed_on_it(log) => closed_on_line(log, "the over-long line"),
                _ => inconclusive(),
            }
        }
        "limits.bare-lf-command" => {
            let (extra, split) = log.extra_beyond_quit();
            let unasked = unasked_on_control(log);
            match log.get("first") {
                Some(r) if r.is_transient() => deferred("RSET<LF>RSET", r),
                Some(r) if names_synchronization(r) => Outcome::new(
                    Status::Warn,
                    format!(
                        "a bare LF ended a command: after RSET<LF> the server found RSET<CR><LF> \
                         waiting as a second command sent before its reply and refused it ({})",
                        short(r)
                    ),
                ),
                Some(_) if !split && !extra.is_empty() => unattributed(extra[0]),
                Some(_) if split && unasked.is_some() => unasked.unwrap_or_else(inconclusive),
                Some(r) if split => Outcome::new(
                    Status::Warn,
                    format!(
                        "a bare LF ended a command: RSET<LF>RSET<CR><LF> got two replies ({}, {}){}",
                        short(r),
                        short(extra[0]),
                        counted_under_policy(&[r, extra[0]])
                    ),
                ),
                Some(r)
                    if r.is_permanent()
                        && r.lines
                            .iter()
                            .any(|l| l.to_ascii_lowercase().contains("bare")) =>
                {
                    Outcome::new(Status::Pass, format!("refused the bare LF: {}", short(r)))
                }
                Some(r) if log.end == End::Done || matches!(log.end, End::Closed(_)) => {
                    Outcome::new(
                        Status::Pass,
                        format!(
                            "a bare LF did not end the command (one reply: {}){}",
                            short(r),
                            counted_under_policy(&[r])
                        ),
                    )
                }
                None if closed_on_it(log) => closed_on_line(log, "the bare LF"),
                _ => inconclusive(),
            }
        }
        "limits.nul" => match log.get("nul") {
            Some(r) if r.is_transient() => deferred("the command with a NUL byte", r),
            // More replies than commands: the NUL ended a command and the rest ran as one of
            // its own (a split, as `limits.line`'s), unless the server sends unasked replies.
            Some(r) if more_replies_than_commands(id, log) => {
                unasked_on_control(log).unwrap_or_else(|| {
                    let (extra, _) = log.extra_beyond_quit();
                    Outcome::new(
                        Status::Fail,
                        format!(
                            "split RSET<NUL> ehlo-probe into two commands: the rest after the NUL was answered as a command of its own ({} then {}){}",
                            short(r),
                            extra.iter().map(|e| short(e)).collect::<Vec<_>>().join(", "),
                            counted_under_policy(&[r])
                        ),
                    )
                })
            }
            Some(r) if r.is_positive() => Outcome::new(
                Status::Warn,
                format!(
                    "accepted RSET<NUL> ehlo-probe: {} (cut at the NUL, or ignored)",
                    short(r)
                ),
            ),
            Some(r) => Outcome::new(
                Status::Pass,
                format!("refused the command with a NUL byte: {}", short(r)),
            ),
            None if closed_on_it(log) => closed_on_line(log, "the NUL byte"),
            None => inconclusive(),
        },
        _ => judge_smuggle(id, ctx, log),
    }
}

/// Did the server close the connection on the probe's line (`limits.*`), as a reaction to it?
/// Only a close seen while waiting for the reply shows that: a write that failed met a
/// connection the server had already closed (reset) before it read the line, whatever the
/// line held, so that close is no answer to it.
/// The first connection's end counts (`end` is the control's once one ran).
fn closed_on_it(log: &Log) -> bool {
    let end = log.first_end.as_ref().unwrap_or(&log.end);
    matches!(end, End::Closed(label) if *label != "write")
}

/// The label of the reply to a `limits.*` probe's line.
fn line_label(id: &str) -> &'static str {
    match id {
        "limits.line" => "long",
        "limits.bare-lf-command" => "first",
        _ => "nul",
    }
}

/// Does a `limits.*` probe's first connection end in a close while the line's reply was
/// awaited, with no reply and nothing unasked before it (the one verdict that a close alone
/// would decide)? Then a control connection tells a reaction from a server that closes anyway.
fn limits_needs_control(id: &str, log: &Log) -> bool {
    let label = line_label(id);
    is_limits(id)
        && log.unasked.is_none()
        && ((log.get(label).is_none() && matches!(log.end, End::Closed(l) if l == label))
            || more_replies_than_commands(id, log))
}

/// Did a `limits.*` line get more replies than commands (a split, the verdict of the
/// replies alone)? A control connection then shows whether the server sends replies nobody
/// asked for anyway ([`LimitsControl::unasked`]).
fn more_replies_than_commands(id: &str, log: &Log) -> bool {
    is_limits(id)
        && log
            .get(line_label(id))
            .is_some_and(|r| r.code.is_some() && !r.is_transient() && !names_synchronization(r))
        && log.extra_beyond_quit().1
}

/// `limits.*` whose line got more replies than commands: inconclusive when the control
/// connection's harmless line got replies nobody asked for too.
fn unasked_on_control(log: &Log) -> Option<Outcome> {
    let c = log.control.as_ref().filter(|c| c.unasked > 0)?;
    Some(
        Outcome::new(
            Status::Error,
            format!(
                "more replies than commands, but the server sends replies nobody asked for: a control connection's NOOP of normal length and QUIT got {} more too ({}), so the extra replies here show no split",
                c.unasked,
                control_said(c)
            ),
        )
        .with(
            "control",
            json!({"by": c.by, "unasked": c.unasked, "noop": c.noop.as_ref().map(short)}),
        ),
    )
}

/// What the control connection got, in words.
fn control_said(c: &LimitsControl) -> String {
    match (&c.noop, &c.why) {
        (Some(r), _) => format!("its NOOP got {}", short(r)),
        (None, Some(why)) => why.clone(),
        (None, None) => "no reply to its NOOP".into(),
    }
}

/// `limits.*`: the server closed the connection while the reply to the line (`what`) was
/// awaited. A pass only when a control connection's harmless line was answered: a server that
/// closes after EHLO whatever comes next (or resets the connection late) closed on nothing
/// the line held.
fn closed_on_line(log: &Log, what: &str) -> Outcome {
    let Some(c) = &log.control else {
        return Outcome::new(
            Status::Error,
            format!(
                "closed the connection on {what}, and no control connection showed that it answers a harmless line there"
            ),
        );
    };
    let evidence = json!({
        "by": c.by,
        "answered": c.answered().is_some(),
        "noop": c.noop.as_ref().map(short),
        "why": c.why,
    });
    match c.answered() {
        Some(r) => Outcome::new(
            Status::Pass,
            format!(
                "closed the connection on {what} (a control connection's NOOP of normal length got {})",
                short(r)
            ),
        ),
        None => Outcome::new(
            Status::Error,
            format!(
                "the server closed the connection after {what}, but it did not answer a control connection's NOOP of normal length there either ({}): the close is not shown to be a reaction to the line",
                control_said(c)
            ),
        ),
    }
    .with("control", evidence)
}

/// Does the first connection of `pipelining.early-talker` leave a doubt that only a control
/// connection (one that waits for the greeting) can settle? A refusal or a close could be the
/// server's answer to any client (a bad --helo, a TLS-only port, a server that refuses all).
fn early_talker_needs_control(log: &Log) -> bool {
    let closed = matches!(log.end, End::Closed(_));
    match (log.get("banner"), log.get("ehlo")) {
        _ if log.greeting_cut => false,
        (None, _) => closed,
        (Some(b), _) if b.code.is_none() || b.is_transient() => false,
        (Some(b), _) if !b.is_positive() => true,
        (Some(_), Some(e)) => e.code.is_some() && e.is_permanent(),
        (Some(_), None) => closed,
    }
}

/// `pipelining.early-talker`: pass only on evidence that the server reacted to the early talk
/// (it refused or dropped it, and treats a client that waits differently, or it answered
/// inside an unfinished `220-` greeting); a 4xx, a peer that is not SMTP, or a refusal that
/// the control connection gets too is inconclusive.
fn judge_early_talker(log: &Log) -> Outcome {
    let end = log.first_end.as_ref().unwrap_or(&log.end);
    let closed = matches!(end, End::Closed(_));
    let control_greeted = log.get("control-banner").filter(|r| r.is_positive());
    let control_ehlo = log.get("control-ehlo");
    let control_answered = control_ehlo.filter(|r| r.is_positive());
    let deferred = |what: &str, r: &Reply| {
        Outcome::new(
            Status::Error,
            format!(
                "{what} deferred: {} (a temporary failure shows nothing)",
                short(r)
            ),
        )
    };
    // Said as the other probes say it (`Log::reason`): "((no code) TEXT)" read as a code.
    let not_smtp = |r: &Reply| {
        Outcome::new(
            Status::Error,
            format!(
                "the peer does not answer in SMTP: {}; nothing to judge",
                crate::check::probe::garbled(r)
            ),
        )
    };
    match (log.get("banner"), log.get("ehlo")) {
        (Some(b), _) if b.code.is_none() => not_smtp(b),
        (Some(b), _) if b.is_transient() => deferred("the greeting", b),
        (Some(b), Some(e)) if log.greeting_cut => {
            if e.code.is_none() {
                not_smtp(e)
            } else if e.is_transient() {
                deferred("the early EHLO", e)
            } else if e.is_positive() {
                Outcome::new(
                    Status::Pass,
                    format!(
                        "stopped its greeting at '{}' and answered the early EHLO inside it ({}): \
                         the early talker was noticed (postscreen's greet_action = enforce \
                         refuses its mail later)",
                        short(b),
                        short(e)
                    ),
                )
            } else {
                Outcome::new(
                    Status::Pass,
                    format!(
                        "stopped its greeting at '{}' and refused the early talker: {}",
                        short(b),
                        short(e)
                    ),
                )
            }
        }
        (Some(b), Some(e))
            if b.is_positive()
                && e.is_positive()
                && Capabilities::from_reply(e).has("PIPECONNECT") =>
        {
            Outcome::new(
                Status::Info,
                "answered an EHLO sent before its greeting, and advertises PIPECONNECT: early \
                 EHLO is allowed by design here (Exim's pipelining_connect_advertise_hosts)",
            )
        }
        // A warn, not a fail: refusing early talkers is a spam defence (postscreen's pregreet
        // test) a server may choose not to run, not a hole an attacker gets through.
        (Some(b), Some(e)) if b.is_positive() && e.is_positive() => Outcome::new(
            Status::Warn,
            "answered an EHLO sent before its greeting: early talkers are accepted",
        ),
        (Some(b), _) if !b.is_positive() => match control_greeted {
            Some(c) => Outcome::new(
                Status::Pass,
                format!(
                    "refused the early talker in its greeting ({}) but greets a client that waits ({})",
                    short(b),
                    short(c)
                ),
            ),
            None => Outcome::new(
                Status::Error,
                format!(
                    "greeted the early talker with {} and a client that waits no better: the refusal is not about timing",
                    short(b)
                ),
            ),
        },
        (Some(_), Some(e)) if e.code.is_none() => not_smtp(e),
        (Some(_), Some(e)) if e.is_transient() => deferred("the early EHLO", e),
        (Some(_), Some(e)) => match control_answered {
            Some(c) => Outcome::new(
                Status::Pass,
                format!(
                    "refused the early EHLO ({}) but answers the same EHLO after the greeting ({})",
                    short(e),
                    short(c)
                ),
            ),
            None => Outcome::new(
                Status::Error,
                format!(
                    "refused the early EHLO ({}) and the same EHLO after the greeting ({}): the refusal is about the command, not the timing (try --helo)",
                    short(e),
                    control_ehlo.map_or_else(|| "no reply".to_string(), short)
                ),
            ),
        },
        (Some(_), None) if closed => match control_answered {
            Some(_) => Outcome::new(
                Status::Pass,
                "greeted, then dropped the early talker without answering its EHLO; a client that waits is answered",
            ),
            None => Outcome::new(
                Status::Error,
                "greeted, then closed without answering the EHLO, and does the same to a client that waits",
            ),
        },
        (None, _) if closed => match control_greeted {
            Some(_) => Outcome::new(
                Status::Pass,
                "closed the connection on the early talker without a greeting; a client that waits is greeted",
            ),
            None => Outcome::new(
                Status::Error,
                "closed the connection without a greeting, and greets no client that waits either (not plaintext SMTP? an smtps port needs --tls-on-connect)",
            ),
        },
        _ => Outcome::new(
            Status::Error,
            Log {
                end: end.clone(),
                ..log.clone()
            }
            .reason()
            .unwrap_or_else(|| "the replies do not tell".into()),
        ),
    }
}

/// A `220-` greeting that a reply with another code interrupted (the server answered the
/// early EHLO before it finished greeting; the reply parser merged both, RFC 5321 §4.2.1):
/// the greeting's lines and the reply, apart.
fn split_greeting(r: &Reply) -> Option<(Reply, Reply)> {
    if !r
        .deviations
        .iter()
        .any(|d| matches!(d, Deviation::MixedCodes { first: 220, .. }))
    {
        return None;
    }
    let code = r.code?;
    let raw = String::from_utf8_lossy(&r.raw.0);
    let (mut greeting, mut rest) = (Vec::new(), Vec::new());
    for l in raw.split('\n') {
        let l = l.trim_end_matches('\r');
        if l.is_empty() {
            continue;
        }
        let text = l.get(4..).unwrap_or("");
        if rest.is_empty() && l.starts_with("220") {
            greeting.push(text);
        } else {
            rest.push(text);
        }
    }
    if greeting.is_empty() || rest.is_empty() {
        return None;
    }
    Some((Reply::new(220, &greeting), Reply::new(code, &rest)))
}

fn judge_smuggle(id: &str, ctx: &Ctx, log: &Log) -> Outcome {
    let token = ctx.token_for(id);
    let Some(eod) = log.get("eod") else {
        return match &log.end {
            End::Refused(label) if log.get_last(label).is_some_and(Reply::is_permanent) => {
                Outcome::new(
                    Status::Error,
                    format!(
                        "{}: the probe needs a sender and recipient (--from, --to) the server accepts",
                        log.reason()
                            .unwrap_or_else(|| format!("{} refused", step_command(id, label)))
                    ),
                )
            }
            // The whole content went out and nothing answered it (a timeout, a close): the
            // server may have queued the message before its reply was lost (RFC 5321 §4.1.1.4
            // has it take responsibility at the final dot, RFC 1047), so say where to look, as
            // the verdicts with a reply do.
            End::Closed("eod") | End::TimedOut("eod") => Outcome::new(
                Status::Error,
                format!(
                    "{}: the message was sent and may have been delivered: only the mailbox can tell (token {token})",
                    log.reason()
                        .unwrap_or_else(|| "no reply to the message".into())
                ),
            )
            .with("token", token),
            // The server closed the connection, or stopped reading, while the content itself
            // was being written (the only write after DATA's `354`): the part it read may hold
            // the variant, an end it may have acted on, so the outer message may be queued.
            End::Closed("write") | End::TimedOut("write")
                if log.get("data").is_some_and(Reply::is_start_input) =>
            {
                Outcome::new(
                    Status::Error,
                    format!(
                        "{} while the message was being written: part or all of it may have been delivered: only the mailbox can tell (token {token})",
                        match log.end {
                            End::TimedOut(_) => "the server stopped reading",
                            _ => "the server closed the connection",
                        }
                    ),
                )
                .with("token", token)
            }
            _ => Outcome::new(
                Status::Error,
                log.reason()
                    .unwrap_or_else(|| "no reply to the message".into()),
            ),
        };
    };
    let extra = smuggle_extra(log);
    let codes = |replies: &[&Reply]| -> String {
        replies
            .iter()
            .map(|r| r.code.map_or("?".into(), |c| c.to_string()))
            .collect::<Vec<String>>()
            .join(" ")
    };
    // The smuggled transaction answered has a shape: replies to its MAIL, RCPT and DATA at
    // least (then, after a `354`, one to its end). Fewer extra replies, or replies of another
    // shape (a server answering every line it reads), are something else.
    let o = if let Some(tx) = smuggled_transaction(&extra) {
        let codes: Vec<String> = extra
            .iter()
            .map(|r| r.code.map_or("?".into(), |c| c.to_string()))
            .collect();
        // What was delivered, from the codes themselves: the outer message's reply, and the
        // smuggled DATA's `354` followed by a 2xx for its own end.
        let outer = eod.is_positive();
        // `None`: its DATA got a `354` but nothing answered its end.
        let smuggled = match (tx.get(2), tx.get(3)) {
            (Some(d), Some(e)) if d.is_start_input() => Some(e.is_positive()),
            (Some(d), None) if d.is_start_input() => None,
            _ => Some(false),
        };
        let delivered = match (outer, smuggled) {
            (true, Some(true)) => {
                format!("the mailbox will show two messages with token {token}")
            }
            (true, Some(false)) => {
                format!("the outer message was accepted, the smuggled one was not; token {token}")
            }
            (false, Some(true)) => format!(
                "the outer message was refused but the smuggled one was accepted; token {token}"
            ),
            (false, Some(false)) => "neither message was accepted, but the commands hidden in \
                                     the message were run"
                .to_string(),
            (outer, None) => format!(
                "the outer message was {}, the smuggled one's end was not answered: look for token {token}",
                if outer { "accepted" } else { "refused" }
            ),
        };
        let stray = if tx.len() < extra.len() {
            " (the first answers the rest of the variant, read as a line of its own)"
        } else {
            ""
        };
        if let Some(data) = sync_refused(tx) {
            let answered = format!("{} then {}{stray}", short(eod), codes.join(" "));
            return judge_sync_refused(ctx, log, &token, &answered, data).with("token", token);
        }
        Outcome::new(
            Status::Fail,
            format!(
                "the variant ended the message and the embedded commands were answered ({} then {}{stray}): {delivered}",
                short(eod),
                codes.join(" ")
            ),
        )
    } else if !extra.is_empty() {
        Outcome::new(
            Status::Error,
            format!(
                "after the message ({}) came {} that are not the smuggled transaction's MAIL, RCPT and DATA replies: only the mailbox can tell (token {token})",
                short(eod),
                codes(&extra)
            ),
        )
    } else if eod.is_positive() {
        // One reply passes only when QUIT was answered next: a close there may have swallowed
        // the answers to the embedded commands.
        match &log.end {
            _ if log.quit_answered() => Outcome::new(
                Status::Pass,
                format!(
                    "one reply for the whole message ({}): the embedded commands stayed message text; token {token} must arrive as ONE message",
                    short(eod)
                ),
            ),
            _ => Outcome::new(
                Status::Error,
                format!(
                    "the message was accepted ({}) but {}: only the mailbox can tell (token {token})",
                    short(eod),
                    log.reason().unwrap_or_default()
                ),
            ),
        }
    } else if eod.is_transient() {
        // A temporary failure (421 shutting down, 451 local error) says nothing about the line
        // ending: the same message may be accepted on the next try.
        Outcome::new(
            Status::Error,
            format!(
                "deferred the message ({}): a temporary failure shows nothing about the line ending (token {token})",
                short(eod)
            ),
        )
    } else if eod.code.is_some() && names_bare_line_ending(eod) {
        Outcome::new(
            Status::Pass,
            format!(
                "refused the message with the bare line ending: {}",
                short(eod)
            ),
        )
    } else if eod.code.is_some() && log.quit_answered() {
        // A 5xx for another reason (spam, policy), then a normal `221`: the server read the
        // whole message as one and kept reading commands after it.
        Outcome::new(
            Status::Pass,
            format!(
                "refused the message ({}) and answered QUIT next: the embedded commands were not run",
                short(eod)
            ),
        )
    } else {
        // A refusal followed by a close (554 spam + close, or no code at all): the close may
        // have swallowed the answers to the embedded commands.
        Outcome::new(
            Status::Error,
            format!(
                "refused the message ({}) but {}: nothing shows what it made of the embedded commands (token {token})",
                short(eod),
                log.reason()
                    .unwrap_or_else(|| "the session did not end with a 221 to QUIT".into())
            ),
        )
    };
    o.with("token", token)
}

/// The replies after the outer message's other than QUIT's own. A synchronization refusal in
/// QUIT's place is no answer to QUIT: nothing followed QUIT, which went out after the reply
/// to the message. It is the smuggled DATA's answer (Exim refuses a DATA with the smuggled
/// message's lines already waiting, `554 SMTP synchronization error`, and closes), so it
/// counts with the replies before it.
fn smuggle_extra(log: &Log) -> Vec<&Reply> {
    let after_quit = log.after_quit("quit");
    let mut extra = after_quit.others();
    if let Some(q) = after_quit.quit.filter(|q| names_synchronization(q)) {
        extra.push(q);
    }
    extra
}

/// The smuggled DATA's refusal when it says the client sent ahead (Postfix's
/// `reject_unauth_pipelining` "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP
/// command pipelining", `smtpd_forbid_unauth_pipelining`'s "554 5.5.0 Error: SMTP protocol
/// synchronization", Exim's "554 SMTP synchronization error"): the variant ended the message
/// and the smuggled MAIL and RCPT ran; only the smuggled message arriving with its DATA was
/// refused.
fn sync_refused<'r>(tx: &[&'r Reply]) -> Option<&'r Reply> {
    tx.get(2)
        .copied()
        .filter(|d| !d.is_start_input() && names_synchronization(d))
}

/// Does a `smuggle.*` probe's first connection call for the BDAT follow-up: the smuggled DATA
/// refused as sent ahead ([`sync_refused`]) on a server that offers CHUNKING? A smuggled
/// `BDAT n LAST` carries its message in the command's chunk, which that check does not stop
/// on Postfix 3.7 (`reject_unauth_pipelining`, `smtpd_forbid_unauth_pipelining`) or Exim 4.96.
fn smuggle_needs_bdat(id: &str, log: &Log) -> bool {
    smuggle_variant(id).is_some()
        && log.get("eod").is_some()
        && log.caps.as_ref().is_some_and(|c| c.has("CHUNKING"))
        && smuggled_transaction(&smuggle_extra(log)).is_some_and(|tx| sync_refused(tx).is_some())
}

/// What the BDAT follow-up showed: its smuggled `BDAT` accepted (`Ok`), refused for good
/// (`Err(Some)`), or nothing to tell (`Err(None)`: it did not get that far, or the replies
/// have another shape).
fn bdat_followup(log: &Log) -> Result<&Reply, Option<&Reply>> {
    let replies = log.all("bdat-quit");
    let answer = |r: &Reply| matches!(r.code.map(|c| c / 100), Some(2 | 4 | 5));
    match replies.as_slice() {
        [mail, rcpt, bdat, ..] if answer(mail) && answer(rcpt) => {
            if bdat.is_positive() && !bdat.is_closing() {
                Ok(bdat)
            } else if bdat.is_permanent() {
                Err(Some(bdat))
            } else {
                Err(None)
            }
        }
        _ => Err(None),
    }
}

/// `smuggle.*` when the smuggled DATA was refused as sent ahead (`data`, [`sync_refused`]):
/// the variant ended the message, but whether a second message can be delivered depends on
/// what else gets past that check. A smuggled BDAT accepted (the follow-up) fails; a plaintext
/// run on a server offering STARTTLS is inconclusive (Exim 4.96 does not see the smuggled
/// message waiting under TLS, and delivers it); otherwise no second message came: a warn.
fn judge_sync_refused(ctx: &Ctx, log: &Log, token: &str, answered: &str, data: &Reply) -> Outcome {
    let head = format!(
        "the variant ended the message and the smuggled MAIL and RCPT were answered ({answered}); the smuggled DATA was refused because the smuggled message came with it ({})",
        short(data)
    );
    let ran = log.bdat.is_some();
    let followup = bdat_followup(log);
    if let Ok(bdat) = followup {
        return Outcome::new(
            Status::Fail,
            format!(
                "{head}, but the same smuggling with BDAT instead of DATA (CHUNKING is offered) was accepted ({}): the mailbox will show a second message, SMUGGLED via BDAT, with token {token}",
                short(bdat)
            ),
        )
        .with("bdat", "accepted");
    }
    let bdat_said = match (ran, followup) {
        (false, _) => " (no CHUNKING: no smuggled BDAT to try)".to_string(),
        (true, Err(Some(r))) => format!(", and so was a smuggled BDAT ({})", short(r)),
        (true, _) => {
            return Outcome::new(
                Status::Error,
                format!(
                    "{head}; the follow-up that smuggles with BDAT (CHUNKING is offered) did not tell: {}: only the mailbox can tell (token {token})",
                    match &log.bdat {
                        Some(End::Done) | None =>
                            "its replies are not a smuggled transaction's".into(),
                        Some(end) => log.reason_of(end).unwrap_or_default(),
                    }
                ),
            );
        }
    };
    let bdat = if ran { "refused" } else { "not offered" };
    let caps = log.caps.clone().unwrap_or_default();
    if !ctx.starttls && !ctx.implicit_tls && caps.has("STARTTLS") {
        return Outcome::new(
            Status::Error,
            format!(
                "{head}{bdat_said}: no second message here, but a sending relay uses STARTTLS, and under TLS a server may not see the smuggled message waiting (Exim 4.96 then delivers it): run with --tls (token {token})"
            ),
        )
        .with("bdat", bdat);
    }
    Outcome::new(
        Status::Warn,
        format!(
            "{head}{bdat_said}: no second message was delivered, but only because the smuggled lines came together; the server still ends DATA at the variant (token {token})"
        ),
    )
    .with("bdat", bdat)
}

/// Are the replies after the outer message's those of the smuggled transaction, in the order
/// RFC 5321 §4.3.2 allows them? MAIL and RCPT get a completion or a refusal (never `354`),
/// DATA a `354` or a refusal (never a 2xx), and only after a `354` one more reply, to the
/// smuggled message's end. After a refused DATA the smuggled message's lines reach the command
/// parser, so any number of refusals may follow. Anything else (a server answering `250` to
/// every line it reads, inside DATA too) is no evidence that the variant ended the message.
fn strict_shape(extra: &[&Reply]) -> bool {
    let class = |r: &Reply| r.code.map(|c| c / 100);
    let answer = |r: &Reply| matches!(class(r), Some(2 | 4 | 5));
    let refusal = |r: &Reply| matches!(class(r), Some(4 | 5));
    match extra {
        [mail, rcpt, data, rest @ ..] if answer(mail) && answer(rcpt) => {
            if data.is_start_input() {
                match rest {
                    [] => true,
                    [end] => answer(end),
                    _ => false,
                }
            } else {
                refusal(data) && rest.iter().all(|r| refusal(r))
            }
        }
        _ => false,
    }
}

/// The smuggled transaction's replies among those after the outer message's (see
/// [`strict_shape`]), or `None` when they do not have its shape. One reply may come before
/// them when the rest of the variant is a line of its own: a server that ends DATA at
/// `<CR>.<CR>` leaves the `<LF>` of `smuggle.cr-crlf`'s `<CR>.<CR><LF>` (and one ending at
/// `<LF>.<CR>` that of `lf-crlf`), which its command parser answers (`500 5.5.2 Error: bad
/// syntax`) before the smuggled MAIL. Only with the complete shape that ends in a `354` and
/// one reply to the smuggled end: nothing else produces exactly that.
fn smuggled_transaction<'a, 'r>(extra: &'a [&'r Reply]) -> Option<&'a [&'r Reply]> {
    if strict_shape(extra) {
        return Some(extra);
    }
    match extra {
        [stray, tx @ ..]
            if stray.verdict() != crate::smtp::reply::Verdict::Neither
                && tx.len() == 4
                && tx[2].is_start_input()
                && strict_shape(tx) =>
        {
            Some(tx)
        }
        _ => None,
    }
}

/// Does a refusal say the client sent a command before the reply to the previous one (Exim's
/// `554 SMTP synchronization error` under smtp_enforce_sync, RFC 5321 §4.3.1 and RFC 2920 §3:
/// without PIPELINING a client waits)? Sent in one piece with no line end but the last `<CR><LF>`,
/// that means the server ended a command inside the piece: the line was split.
fn names_synchronization(r: &Reply) -> bool {
    r.is_permanent()
        && r.lines.iter().any(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("synchroni") || l.contains("pipelining")
        })
}

/// Does a refusal name the bare line ending (Postfix's "bare <LF> received", Exim's "bare LF
/// in DATA")? Then it is about the variant whatever follows it.
fn names_bare_line_ending(r: &Reply) -> bool {
    r.is_permanent()
        && r.lines
            .iter()
            .any(|l| l.to_ascii_lowercase().contains("bare"))
}

/// How the transcript shows a SASL response: the fixed mask when it holds a secret, else its
/// base64 as sent (a LOGIN user name, an empty response).
fn shown(step: &crate::smtp::auth::Step, b64: &str) -> String {
    if step.secret {
        crate::smtp::auth::MASK.to_string()
    } else {
        b64.to_string()
    }
}

/// The state machine one probe runs through (see the module doc).
#[derive(Debug)]
pub(crate) struct Runner {
    id: &'static str,
    ctx: Ctx,
    steps: VecDeque<Step>,
    /// What the driver is doing for us.
    waiting: Option<Step>,
    /// Still in the preamble (the probe's own steps come once it is through).
    in_preamble: bool,
    /// STARTTLS steps of the preamble already queued.
    tls_queued: bool,
    /// `--tls` but the server does not offer STARTTLS.
    no_starttls: bool,
    /// AUTH steps of the preamble already queued.
    auth_queued: bool,
    /// `--auth-user` but the server does not offer the mechanism, or it cannot go on (why).
    no_auth: Option<String>,
    /// The SASL exchange in progress (the send's mechanisms, `smtp::auth`).
    sasl: Option<Box<dyn crate::smtp::auth::Mechanism>>,
    /// `334` challenges answered so far.
    challenges: usize,
    log: Log,
    /// Replies taken by the current `UntilQuit`.
    until_count: usize,
    /// `pipelining.early-talker`'s or a `limits.*` probe's control connection is queued or
    /// done.
    control: bool,
    /// `limits.*`: a control connection another probe of the run already made
    /// ([`Runner::with_control`]).
    prior_control: Option<LimitsControl>,
    /// Whom the probe's connection reached (`host [address]`), from [`Runner::connected_to`].
    server: Option<String>,
    /// The first command after the preamble's EHLO on the probe's own connection got nothing
    /// back within the timeout, not even part of a reply (a server that stalls after EHLO).
    stalled_after_ehlo: bool,
    finished: bool,
}

impl Runner {
    /// A runner for probe `id` (one of [`PROBES`]).
    pub(crate) fn new(id: &'static str, ctx: Ctx) -> Runner {
        let mut steps = VecDeque::new();
        let pre = preamble(id);
        if pre != Preamble::None {
            steps.push_back(read("banner", Some(2)));
            steps.push_back(line(format!("EHLO {}", ctx.helo)));
            steps.push_back(read("ehlo", Some(2)));
        }
        Runner {
            id,
            ctx,
            steps,
            waiting: None,
            in_preamble: pre != Preamble::None,
            tls_queued: false,
            no_starttls: false,
            auth_queued: false,
            no_auth: None,
            sasl: None,
            challenges: 0,
            log: Log {
                id,
                replies: Vec::new(),
                caps: None,
                end: End::Done,
                transcript: Vec::new(),
                first_end: None,
                greeting_cut: false,
                outstanding: 0,
                unasked: None,
                control: None,
                bdat: None,
            },
            until_count: 0,
            control: false,
            prior_control: None,
            server: None,
            stalled_after_ehlo: false,
            finished: false,
        }
    }

    /// `limits.*`: the control connection an earlier probe of the run made (one control per
    /// run: the server's answer to a harmless line does not depend on which probe asks).
    pub(crate) fn with_control(&mut self, c: Option<LimitsControl>) {
        self.prior_control = c;
    }

    /// `limits.*`: the control connection this probe ran or used, for the next probes.
    pub(crate) fn control_seen(&self) -> Option<LimitsControl> {
        self.log.control.clone()
    }

    /// Does the driver's next write carry a `limits.*` probe's line? Then it says how many
    /// bytes the server had sent unread before it ([`Runner::unasked_before_write`]).
    pub(crate) fn watches_unasked(&self) -> bool {
        is_limits(self.id)
            && !self.in_preamble
            && !self.control
            && self.log.unasked.is_none()
            && matches!(&self.waiting, Some(Step::Send(b)) if b.as_slice() != b"QUIT\r\n")
    }

    /// Before the write [`Runner::watches_unasked`] named: `n` bytes of replies had arrived
    /// unasked (a server sending `250` endlessly). What follows cannot be paired with the
    /// line, so the verdict is inconclusive.
    pub(crate) fn unasked_before_write(&mut self, n: usize) {
        if n > 0 && self.watches_unasked() {
            self.log.unasked = Some(n);
            self.log.transcript.push(format!(
                "-- {n} byte{} the server sent unasked were waiting before this line was written",
                crate::smtp::event::plural_s(n)
            ));
        }
    }

    /// The first thing to do.
    pub(crate) fn start(&mut self) -> Io {
        if !self.in_preamble {
            // No preamble: build right away (with no capabilities).
            match build(self.id, &self.ctx, &Capabilities::default()) {
                Ok(s) => self.steps = s.into(),
                Err(o) => return self.done(o),
            }
        }
        self.advance()
    }

    /// The driver's report on the last [`Io`]; returns the next thing to do.
    pub(crate) fn on(&mut self, input: Input) -> Io {
        if self.finished {
            return self.finish(End::Done);
        }
        // Nothing at all to the first command after EHLO on the probe's own connection: the
        // evidence the driver counts (a part of a reply, or a reply that came late but within
        // the timeout, is not a stall). The early talker's first command after its EHLO is
        // its QUIT: the same evidence.
        if input == Input::TimedOut
            && matches!(
                self.waiting,
                Some(Step::Read { .. } | Step::UntilQuit { .. })
            )
            && !self.control
            && self.log.replies.last().is_some_and(|(l, _)| *l == "ehlo")
        {
            self.stalled_after_ehlo = true;
        }
        // What had arrived of the reply is in the transcript, as a reply cut off by the close
        // is; the step times out all the same.
        let input = match input {
            Input::TimedOutPartway(r, so_far) => {
                self.log.transcript.push(format!(
                    "S: {} (cut off by the timeout: {so_far})",
                    escape(&r.raw.0).trim_end_matches("\\r\\n")
                ));
                Input::TimedOut
            }
            other => other,
        };
        match (self.waiting.take(), input) {
            // The TLS session failed after its handshake (a renegotiation the client refused):
            // the session ends there, for the reason the send gives.
            (Some(step), Input::TlsFailed(why)) if !matches!(step, Step::StartTls) => {
                return self.finish(End::Tls(why));
            }
            (Some(Step::Send(_) | Step::SendSecret { .. }), Input::Sent) => {}
            (Some(Step::Send(_) | Step::SendSecret { .. }), Input::TimedOut) => {
                return self.finish(End::TimedOut("write"));
            }
            (Some(Step::Send(_) | Step::SendSecret { .. }), _) => {
                return self.finish(End::Closed("write"));
            }
            // A reply the close cut short ended nothing (RFC 5321 §4.2.1): in the transcript,
            // not among the replies the verdict reads, and the step ends as closed.
            (Some(Step::Read { label, .. }), Input::Reply(r))
                if r.deviations.contains(&Deviation::TruncatedAtClose) =>
            {
                self.log.transcript.push(format!(
                    "S: {} (cut off by the close)",
                    escape(&r.raw.0).trim_end_matches("\\r\\n")
                ));
                return self.finish(End::Closed(label));
            }
            (
                Some(Step::Read {
                    label: "banner", ..
                }),
                Input::Reply(r),
            ) if preamble(self.id) == Preamble::None && split_greeting(&r).is_some() => {
                // The early EHLO answered inside an unfinished `220-` greeting: both replies
                // are here, so the EHLO's read is done too.
                self.log.transcript.push(reply_line(&r));
                if let Some((greeting, reply)) = split_greeting(&r) {
                    self.log.replies.push(("banner", greeting));
                    self.log.replies.push(("ehlo", reply));
                }
                self.log.greeting_cut = true;
                if matches!(self.steps.front(), Some(Step::Read { label: "ehlo", .. })) {
                    self.steps.pop_front();
                }
            }
            (Some(Step::Read { label, want }), Input::Reply(r)) => {
                self.record(label, r.clone());
                // Cut off at the size limit: what follows is the rest of this reply, and would
                // be read as the answers to our next commands. Stop here.
                if too_large(&r) {
                    return self.finish(End::Refused(label));
                }
                if label == "auth" && self.sasl.is_some() {
                    return self.on_auth_reply(&r);
                }
                if label == "ehlo" && self.in_preamble {
                    self.log.caps = Some(Capabilities::from_reply(&r));
                }
                if let Some(class) = want
                    && r.class() != Some(class)
                {
                    return self.finish(End::Refused(label));
                }
                if label == "ehlo" && self.in_preamble {
                    self.after_ehlo();
                }
            }
            (Some(Step::Read { label, .. }), Input::TimedOut)
            | (Some(Step::UntilQuit { label, .. }), Input::TimedOut) => {
                return self.finish(End::TimedOut(label));
            }
            (Some(Step::Read { label, .. }), _) => return self.finish(End::Closed(label)),
            // Cut short by the close, as above: not the `221`, and not a reply to count.
            (Some(Step::UntilQuit { label, .. }), Input::Reply(r))
                if r.deviations.contains(&Deviation::TruncatedAtClose) =>
            {
                self.log.transcript.push(format!(
                    "S: {} (cut off by the close)",
                    escape(&r.raw.0).trim_end_matches("\\r\\n")
                ));
                return self.finish(End::Closed(label));
            }
            (Some(Step::UntilQuit { label, outstanding }), Input::Reply(r)) => {
                let quit = r.is_closing();
                let cut = too_large(&r);
                self.record(label, r);
                if cut {
                    return self.finish(End::Refused(label));
                }
                self.until_count += 1;
                if !quit && self.until_count < MAX_REPLIES {
                    self.waiting = Some(Step::UntilQuit { label, outstanding });
                    return Io::ReadOn;
                }
            }
            // A close where the `221` should be: the replies end, but the server never showed
            // it read everything before QUIT as we meant it. Judges that need the `221` say
            // inconclusive ([`Log::quit_answered`]); the others read their own replies.
            (Some(Step::UntilQuit { label, .. }), _) => return self.finish(End::Closed(label)),
            (Some(Step::StartTls), Input::TlsUp) => {
                self.log.transcript.push("-- TLS handshake done".into());
            }
            (Some(Step::StartTls), Input::TlsFailed(why)) => return self.finish(End::Tls(why)),
            (Some(Step::StartTls), _) => {
                return self.finish(End::Tls("the connection closed".into()));
            }
            (Some(Step::Reconnect), Input::Connected(server)) => {
                self.log.transcript.push(if is_limits(self.id) {
                    format!("-- control connection (the same greeting, then {CONTROL_LINE})")
                } else if smuggle_variant(self.id).is_some() {
                    "-- follow-up connection: the same variant, the smuggled DATA replaced by BDAT (CHUNKING is offered)".into()
                } else {
                    "-- control connection (waits for the greeting)".into()
                });
                self.log
                    .transcript
                    .push(format!("-- connected to {server}"));
            }
            (Some(Step::Reconnect), _) => return self.finish(End::Closed("control-banner")),
            (None, _) => return self.finish(End::Done),
        }
        self.advance()
    }

    /// Something the connection layer saw between the bytes (a server's TLS renegotiation):
    /// a `-- ` line of the transcript, where it happened.
    pub(crate) fn note(&mut self, text: &str) {
        self.log.transcript.push(format!("-- {text}"));
    }

    /// The driver's connection is up, to `server` (`host [address]`: the MX host or the name
    /// given, and the address that answered). Called before [`Runner::start`]; the transcript
    /// and the evidence's `server` name it.
    pub(crate) fn connected_to(&mut self, server: &str) {
        self.log
            .transcript
            .push(format!("-- connected to {server}"));
        self.server = Some(server.to_string());
    }

    fn record(&mut self, label: &'static str, r: Reply) {
        self.log.transcript.push(reply_line(&r));
        self.log.replies.push((label, r));
    }

    /// After the preamble's EHLO: STARTTLS when `--tls` and the probe takes it.
    fn after_ehlo(&mut self) {
        if preamble(self.id) != Preamble::Greet {
            return;
        }
        if self.tls_queued || !self.ctx.starttls {
            self.queue_auth();
            return;
        }
        self.tls_queued = true;
        let offered = self.log.caps.as_ref().is_some_and(|c| c.has("STARTTLS"));
        if !offered {
            self.no_starttls = true;
            return;
        }
        self.steps.push_back(line("STARTTLS"));
        self.steps.push_back(read("starttls", Some(2)));
        self.steps.push_back(Step::StartTls);
        self.steps
            .push_back(line(format!("EHLO {}", self.ctx.helo)));
        self.steps.push_back(read("ehlo", Some(2)));
    }

    /// After the last EHLO of the preamble: AUTH when `--auth-user` and the probe takes it.
    fn queue_auth(&mut self) {
        if self.auth_queued || self.id == "relay.open" {
            return;
        }
        let Some(a) = &self.ctx.auth else {
            return;
        };
        self.auth_queued = true;
        let name = a.mechanism.clone();
        let caps = self.log.caps.clone().unwrap_or_default();
        // A probe that skips on these capabilities (pipelining.unadvertised with PIPELINING)
        // does so before AUTH: no credentials sent for nothing.
        if build(self.id, &self.ctx, &caps).is_err() {
            return;
        }
        if !caps.offers_auth(&name) {
            self.no_auth = Some(format!(
                "--auth-user: the server does not offer AUTH {name} here (try --tls)"
            ));
            return;
        }
        let Some(mut mech) = crate::smtp::auth::mechanism(&name, &a.creds) else {
            self.no_auth = Some(format!("--auth {name}: not a mechanism ehlo implements"));
            return;
        };
        if let Err(e) = mech.ready() {
            self.no_auth = Some(format!("--auth {name}: {e}"));
            return;
        }
        match mech.initial_response() {
            Some(step) => {
                let b64 = crate::smtp::auth::encode_initial(&step);
                self.steps.push_back(Step::SendSecret {
                    bytes: format!("AUTH {name} {b64}\r\n").into_bytes(),
                    shown: format!("AUTH {name} {}\\r\\n", shown(&step, &b64)),
                });
            }
            None => self.steps.push_back(line(format!("AUTH {name}"))),
        }
        self.steps.push_back(read("auth", None));
        self.sasl = Some(mech);
    }

    /// A reply during AUTH: answer a `334` with the mechanism's next response, verify a
    /// `235`, stop on anything else (as the send does, `smtp::client::auth`).
    fn on_auth_reply(&mut self, r: &Reply) -> Io {
        let name = self
            .ctx
            .auth
            .as_ref()
            .map_or(String::new(), |a| a.mechanism.clone());
        let Some(mech) = self.sasl.as_mut() else {
            return self.advance();
        };
        match () {
            _ if r.is_sasl_challenge() && self.challenges < MAX_CHALLENGES => {
                self.challenges += 1;
                let text = r.lines.first().map_or("", String::as_str);
                let step = match crate::smtp::auth::decode_challenge(text.trim())
                    .and_then(|c| mech.respond(&c))
                {
                    Ok(step) => step,
                    Err(e) => {
                        let why = format!("AUTH {name}: {e}");
                        self.sasl = None;
                        return self.done(Outcome::new(Status::Error, why));
                    }
                };
                let b64 = crate::smtp::auth::encode_response(&step);
                self.steps.push_front(read("auth", None));
                self.steps.push_front(Step::SendSecret {
                    bytes: format!("{b64}\r\n").into_bytes(),
                    shown: format!("{}\\r\\n", shown(&step, &b64)),
                });
                self.advance()
            }
            _ if r.is_authenticated() => {
                let verdict = mech.finish(None);
                self.sasl = None;
                match verdict {
                    Ok(()) => self.advance(),
                    Err(e) => self.done(Outcome::new(Status::Error, format!("AUTH {name}: {e}"))),
                }
            }
            _ => {
                self.sasl = None;
                self.finish(End::Refused("auth"))
            }
        }
    }

    fn advance(&mut self) -> Io {
        if self.no_starttls {
            return self.done(Outcome::new(
                Status::Error,
                "--tls: the server does not offer STARTTLS",
            ));
        }
        if let Some(why) = self.no_auth.take() {
            return self.done(Outcome::new(Status::Error, why));
        }
        loop {
            if let Some(step) = self.steps.pop_front() {
                let io = match &step {
                    Step::Send(b) => {
                        self.log.transcript.push(format!("C: {}", escape(b)));
                        Io::Send(b.clone())
                    }
                    Step::SendSecret { bytes, shown } => {
                        self.log.transcript.push(format!("C: {shown}"));
                        Io::Send(bytes.clone())
                    }
                    Step::Read { .. } => Io::Read,
                    Step::UntilQuit { outstanding, .. } => {
                        self.until_count = 0;
                        self.log.outstanding = *outstanding;
                        Io::Read
                    }
                    Step::StartTls => Io::StartTls,
                    Step::Reconnect => Io::Reconnect,
                };
                self.waiting = Some(step);
                return io;
            }
            if self.in_preamble
                && self.control
                && let Some(variant) = smuggle_variant(self.id)
            {
                // The follow-up's greeting is done: the same variant, the smuggled DATA as BDAT.
                self.in_preamble = false;
                self.steps = VecDeque::from(vec![
                    line(format!("MAIL FROM:<{}>", self.ctx.from)),
                    read("bdat-mail", Some(2)),
                    line(format!("RCPT TO:<{}>", self.ctx.to)),
                    read("bdat-rcpt", Some(2)),
                    line("DATA"),
                    read("bdat-data", Some(3)),
                    Step::Send(smuggle_bytes(self.id, &self.ctx, variant, true)),
                    read("bdat-eod", None),
                    line("QUIT"),
                    Step::UntilQuit {
                        label: "bdat-quit",
                        outstanding: 0,
                    },
                ]);
                continue;
            }
            if self.in_preamble && self.control && is_limits(self.id) {
                // The control connection's greeting is done: the harmless line, then QUIT.
                self.in_preamble = false;
                self.steps = VecDeque::from(vec![
                    line(CONTROL_LINE),
                    read("control-noop", None),
                    line("QUIT"),
                    Step::UntilQuit {
                        label: "control-quit",
                        outstanding: 0,
                    },
                ]);
                continue;
            }
            if self.in_preamble {
                self.in_preamble = false;
                let caps = self.log.caps.clone().unwrap_or_default();
                match build(self.id, &self.ctx, &caps) {
                    Ok(s) => {
                        self.steps = s.into();
                        continue;
                    }
                    Err(o) => return self.done(o),
                }
            }
            return self.finish(End::Done);
        }
    }

    /// Starts the probe again on a new connection as a control (the first connection's end
    /// kept in `first_end`): the same greeting, then STARTTLS and AUTH as asked, queued anew.
    fn start_again(&mut self) -> Io {
        self.control = true;
        self.log.first_end = Some(std::mem::replace(&mut self.log.end, End::Done));
        self.waiting = None;
        self.in_preamble = true;
        self.tls_queued = false;
        self.auth_queued = false;
        self.sasl = None;
        self.challenges = 0;
        self.steps = VecDeque::from(vec![
            Step::Reconnect,
            read("banner", Some(2)),
            line(format!("EHLO {}", self.ctx.helo)),
            read("ehlo", Some(2)),
        ]);
        self.advance()
    }

    fn finish(&mut self, end: End) -> Io {
        if !self.finished {
            self.log.end = end;
        }
        if !self.finished
            && !self.control
            && self.id == "pipelining.early-talker"
            && early_talker_needs_control(&self.log)
        {
            // A second connection that waits for the greeting tells a reaction to the early
            // talk from what the server does to every client.
            self.control = true;
            self.log.first_end = Some(std::mem::replace(&mut self.log.end, End::Done));
            self.waiting = None;
            self.steps = VecDeque::from(vec![
                Step::Reconnect,
                read("control-banner", Some(2)),
                line(format!("EHLO {}", self.ctx.helo)),
                read("control-ehlo", None),
                line("QUIT"),
                Step::UntilQuit {
                    label: "control-quit",
                    outstanding: 0,
                },
            ]);
            return self.advance();
        }
        if !self.finished && !self.control && limits_needs_control(self.id, &self.log) {
            if let Some(c) = self.prior_control.clone() {
                self.log.transcript.push(format!(
                    "-- control connection (run by {}): {}",
                    c.by,
                    control_said(&c)
                ));
                self.log.control = Some(c);
            } else {
                // The same greeting (STARTTLS and AUTH as asked) on a new connection, then a
                // harmless line where the probe's was: the close counts only if that one is
                // answered.
                return self.start_again();
            }
        }
        if !self.finished && !self.control && smuggle_needs_bdat(self.id, &self.log) {
            // The smuggled DATA was refused only because the smuggled message came with it:
            // smuggle again with BDAT, whose chunk needs no DATA (the same greeting, STARTTLS
            // and AUTH as asked).
            return self.start_again();
        }
        if !self.finished
            && self.control
            && smuggle_variant(self.id).is_some()
            && let Some(first) = self.log.first_end.take()
        {
            // The verdict reads the first connection's end; the follow-up's is kept apart.
            self.log.bdat = Some(std::mem::replace(&mut self.log.end, first));
        }
        if !self.finished && self.control && is_limits(self.id) && self.log.control.is_none() {
            let aq = self.log.after_quit("control-quit");
            let others = aq.others().len();
            self.log.control = Some(LimitsControl {
                noop: self.log.get("control-noop").cloned(),
                why: self.log.reason(),
                by: self.id,
                // Without QUIT's reply known the last may be QUIT's in another form.
                unasked: if aq.quit.is_some() {
                    others
                } else {
                    others.saturating_sub(1)
                },
            });
            // The verdict reads the probe's own connection (its replies after QUIT).
            if let Some(first) = self.log.first_end.clone() {
                self.log.end = first;
            }
        }
        let o = if let Some((label, r)) = self.log.replies.iter().find(|(_, r)| too_large(r)) {
            // The replies after one cut off at the size limit are its rest, not answers to
            // anything we sent: no verdict can be read from them.
            Outcome::new(
                Status::Error,
                format!(
                    "{} is not SMTP: {}; the replies after it cannot be paired with the commands",
                    reply_name(self.id, label),
                    crate::check::probe::garbled(r)
                ),
            )
        } else if self.in_preamble && preamble(self.id) != Preamble::None && !self.control {
            let o = Outcome::new(
                Status::Error,
                self.log
                    .reason()
                    .unwrap_or_else(|| "the greeting did not complete".into()),
            );
            // The credentials were refused for good (535): the driver runs no other probe that
            // would send them again (a lockout, and the same answer each time).
            let refused = self.log.end == End::Refused("auth")
                && self
                    .log
                    .get_last("auth")
                    .is_some_and(|r| r.class() == Some(5));
            if refused {
                o.with("auth_failed", true)
            } else if self.log.end == End::TimedOut("banner") {
                // No greeting within the timeout (silence, or a trickle that never ends a
                // line): the driver runs no other probe on this server, each would wait as long.
                o.with("no_greeting", true)
            } else if matches!(self.log.end, End::TimedOut(step) if step != "write") {
                // Greeted, then no reply to EHLO (or STARTTLS, the EHLO after it, AUTH)
                // within the timeout: every probe goes through the same steps and would wait
                // as long; the driver runs no other probe on this server.
                o.with("no_reply_before_probe", true)
            } else {
                o
            }
        } else {
            judge(self.id, &self.ctx, &self.log)
        };
        // Inconclusive for want of any reply after EHLO: the driver gives up on a server that
        // does this to two probes in a row (each further probe would wait as long).
        // The early talker is judged on its EHLO's reply alone: a QUIT left unanswered after
        // it is counted all the same (on a server that stalls after EHLO its wait is the
        // first of the two, not one more).
        let o = if self.stalled_after_ehlo
            && (o.status == Status::Error || self.id == "pipelining.early-talker")
        {
            o.with("no_reply_after_ehlo", true)
        } else {
            o
        };
        self.done(o)
    }

    fn done(&mut self, mut o: Outcome) -> Io {
        self.finished = true;
        o.evidence.insert(
            "transcript".into(),
            Value::from(self.log.transcript.clone()),
        );
        if let Some(server) = &self.server {
            o.evidence
                .insert("server".into(), Value::from(server.clone()));
        }
        let advice = advice(self.id);
        if !advice.is_empty() {
            o.evidence.insert("advice".into(), Value::from(advice));
        }
        Io::Done(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx {
            helo: "probe.test".into(),
            from: "me@example.test".into(),
            to: "me@example.test".into(),
            relay_to: "x@example.net".into(),
            token: "t0".into(),
            starttls: false,
            implicit_tls: false,
            auth: None,
            date: "Thu, 01 Jan 2026 00:00:00 +0000".into(),
        }
    }

    fn auth(mechanism: &str) -> ProbeAuth {
        ProbeAuth {
            mechanism: mechanism.into(),
            creds: crate::smtp::auth::Credentials {
                user: "alice".into(),
                password: Some(crate::smtp::auth::Secret::new("pw")),
                ..Default::default()
            },
        }
    }

    fn r(code: u16, text: &str) -> Input {
        Input::Reply(Reply::new(code, &[text]))
    }

    /// Run `id` against a scripted list of server inputs (after each `Send`, `Sent` is
    /// answered automatically); returns the outcome and the bytes sent.
    fn drive(id: &'static str, c: Ctx, mut inputs: Vec<Input>) -> (Outcome, Vec<Vec<u8>>) {
        let mut runner = Runner::new(id, c);
        let mut sent = Vec::new();
        let mut io = runner.start();
        inputs.reverse();
        loop {
            io = match io {
                Io::Done(o) => return (o, sent),
                Io::Send(b) => {
                    sent.push(b);
                    runner.on(Input::Sent)
                }
                Io::Reconnect => runner.on(Input::Connected("mx.test [192.0.2.1:25]".into())),
                Io::Read | Io::ReadOn | Io::StartTls => {
                    runner.on(inputs.pop().unwrap_or(Input::Closed))
                }
            }
        }
    }

    fn greet() -> Vec<Input> {
        vec![
            r(220, "mx ESMTP"),
            Input::Reply(Reply::new(250, &["mx", "PIPELINING", "STARTTLS"])),
        ]
    }

    fn greet_chunking() -> Vec<Input> {
        vec![
            r(220, "mx ESMTP"),
            Input::Reply(Reply::new(
                250,
                &["mx", "PIPELINING", "CHUNKING", "STARTTLS"],
            )),
        ]
    }

    /// More replies than commands after a `limits.*` line read as a split only when a control
    /// connection (the same greeting, a `NOOP` of normal length, `QUIT`) gets none it did not
    /// ask for: a server whose unasked replies arrive only after the line was written (the
    /// check for replies already waiting cannot see them) answers the control so too. A NUL
    /// that ends a command, the rest answered as one of its own, is such a split.
    #[test]
    fn a_split_counts_only_when_a_control_gets_no_unasked_replies() {
        let run = |id: &'static str, control: Vec<Input>| {
            let mut i = greet();
            i.extend([r(250, "ok"), r(500, "unrecognized"), r(221, "bye")]);
            i.extend([r(220, "mx"), r(250, "mx")]);
            i.extend(control);
            drive(id, ctx(), i)
        };
        let clean = || vec![r(250, "ok"), r(221, "bye")];
        let chatty = || vec![r(250, "ok"), r(250, "unasked"), r(221, "bye")];
        for (id, split) in [
            ("limits.line", Status::Fail),
            ("limits.bare-lf-command", Status::Warn),
            ("limits.nul", Status::Fail),
        ] {
            let (o, sent) = run(id, clean());
            assert_eq!(o.status, split, "{id}: {o:?}");
            assert_eq!(sent[4], b"NOOP ehlo-probe-control\r\n", "{id}");
            let (o, _) = run(id, chatty());
            assert_eq!(o.status, Status::Error, "{id}: {o:?}");
            assert!(
                o.summary.contains("sends replies nobody asked for")
                    && o.summary.contains("got 1 more"),
                "{id}: {}",
                o.summary
            );
            assert_eq!(o.evidence["control"]["unasked"], 1, "{id}");
        }
        let (o, _) = run("limits.nul", clean());
        assert!(
            o.summary
                .contains("split RSET<NUL> ehlo-probe into two commands")
                && o.summary.contains("(250 ok then 500 unrecognized)"),
            "{}",
            o.summary
        );
        // One reply and the 221: no control connection, the verdicts as before.
        let mut i = greet();
        i.extend([r(250, "ok"), r(221, "bye")]);
        let (o, sent) = drive("limits.nul", ctx(), i);
        assert_eq!(o.status, Status::Warn, "{o:?}");
        assert_eq!(sent.len(), 3, "no control connection");
    }

    /// The smuggled DATA refused as sent ahead (Postfix's `smtpd_data_restrictions =
    /// reject_unauth_pipelining`, 503; Exim's synchronization check, 554): the variant ended
    /// the message, but no second message came of it. With CHUNKING offered a follow-up
    /// connection smuggles with BDAT (Postfix 3.7 and Exim 4.96 accept that chunk: the check is
    /// DATA's): accepted fails. Without CHUNKING, or with the BDAT refused, nothing was
    /// delivered: a warn, except in plaintext on a server offering STARTTLS (Exim 4.96 under
    /// TLS does not see the smuggled lines waiting and delivers them): inconclusive.
    #[test]
    fn a_smuggled_data_refused_as_sent_ahead_is_judged_by_what_gets_through() {
        let first = |greeting: Vec<Input>| {
            let mut i = greeting;
            i.extend([r(250, "ok"), r(250, "ok"), r(354, "go"), r(250, "queued 1")]);
            i.extend([
                r(250, "2.1.0 Ok"),
                r(250, "2.1.5 Ok"),
                r(
                    503,
                    "5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining",
                ),
                r(221, "2.7.0 Error: I can break rules, too. Goodbye."),
            ]);
            i
        };
        let followup = |bdat: Input| {
            let mut i = greet_chunking();
            i.extend([r(250, "ok"), r(250, "ok"), r(354, "go"), r(250, "queued 2")]);
            i.extend([r(250, "2.1.0 Ok"), r(250, "2.1.5 Ok"), bdat, r(221, "bye")]);
            i
        };
        // CHUNKING: the follow-up's smuggled BDAT is accepted: fail.
        let mut i = first(greet_chunking());
        i.extend(followup(r(250, "2.0.0 Ok: 400 bytes queued as 3")));
        let (o, sent) = drive("smuggle.lf-lf", ctx(), i);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(
            o.summary.contains("was accepted (250 2.0.0 Ok: 400 bytes"),
            "{}",
            o.summary
        );
        assert_eq!(o.evidence["bdat"], "accepted");
        let transcript = o.evidence["transcript"].to_string();
        assert!(
            transcript.contains("-- follow-up connection"),
            "{transcript}"
        );
        // The follow-up writes the same variant with `BDAT n LAST`, n the smuggled message and
        // its `.` line, which also ends the whole as one message on a server that reads it so.
        let variant = smuggle_variant("smuggle.lf-lf").unwrap();
        assert_eq!(sent[4], smuggle_content("smuggle.lf-lf", &ctx(), variant));
        let content = String::from_utf8(sent[10].clone()).unwrap();
        let (_, tail) = content.split_once("\n.\nMAIL FROM:").unwrap();
        let (command, chunk) = tail
            .split_once("\r\nRCPT TO:<me@example.test>\r\n")
            .unwrap()
            .1
            .split_once("\r\n")
            .unwrap();
        assert_eq!(command, format!("BDAT {} LAST", chunk.len()), "{content:?}");
        assert!(chunk.contains(
            "Subject: ehlo probe smuggle.lf-lf SMUGGLED via BDAT ehlo-probe-t0-smuggle-lf-lf\r\n"
        ));
        assert!(content.ends_with("\r\n.\r\n"), "{content:?}");
        // The BDAT refused too, over TLS: warn, nothing delivered.
        let tls = Ctx {
            starttls: true,
            ..ctx()
        };
        let mut i = vec![
            r(220, "mx ESMTP"),
            Input::Reply(Reply::new(250, &["mx", "STARTTLS"])),
            r(220, "go ahead"),
            Input::TlsUp,
        ];
        i.extend(first(greet_chunking()).into_iter().skip(1));
        i.extend([
            r(220, "mx ESMTP"),
            Input::Reply(Reply::new(250, &["mx", "STARTTLS"])),
            r(220, "go ahead"),
            Input::TlsUp,
        ]);
        i.extend(
            followup(r(503, "5.5.0 Error: improper use of pipelining"))
                .into_iter()
                .skip(1),
        );
        let (o, _) = drive("smuggle.lf-lf", tls, i);
        assert_eq!(o.status, Status::Warn, "{o:?}");
        assert!(
            o.summary.contains("and so was a smuggled BDAT (503"),
            "{}",
            o.summary
        );
        assert_eq!(o.evidence["bdat"], "refused");
        // No CHUNKING, plaintext, STARTTLS offered: no follow-up, inconclusive (--tls).
        let (o, sent) = drive("smuggle.lf-lf", ctx(), first(greet()));
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(o.summary.contains("run with --tls"), "{}", o.summary);
        assert!(o.summary.contains("no CHUNKING"), "{}", o.summary);
        assert_eq!(sent.len(), 6, "no follow-up connection");
        // No CHUNKING and no STARTTLS offered: warn.
        let plain = vec![
            r(220, "mx ESMTP"),
            Input::Reply(Reply::new(250, &["mx", "PIPELINING"])),
        ];
        let (o, _) = drive("smuggle.lf-lf", ctx(), first(plain));
        assert_eq!(o.status, Status::Warn, "{o:?}");
        assert!(
            o.summary.contains("no second message was delivered"),
            "{}",
            o.summary
        );
        // The follow-up cut short: inconclusive, with the token.
        let mut i = first(greet_chunking());
        i.extend(greet_chunking());
        i.push(Input::Closed);
        let (o, _) = drive("smuggle.lf-lf", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.summary.contains("did not tell: the server closed"),
            "{}",
            o.summary
        );
        assert_eq!(o.evidence["token"], "ehlo-probe-t0-smuggle-lf-lf");
    }

    #[test]
    fn every_probe_has_advice_and_a_unique_id() {
        let mut seen = std::collections::HashSet::new();
        for p in PROBES {
            assert!(seen.insert(p.id), "{}", p.id);
            assert!(!advice(p.id).is_empty(), "{}", p.id);
            assert!(crate::check::model::find_in(crate::check::model::CHECKS, p.id).is_none());
        }
    }

    #[test]
    fn smuggle_fails_when_the_embedded_commands_are_answered() {
        let mut i = greet();
        i.extend([r(250, "ok"), r(250, "ok"), r(354, "go")]);
        i.extend([
            r(250, "queued 1"),
            r(250, "ok"),
            r(250, "ok"),
            r(354, "go"),
            r(250, "queued 2"),
            r(221, "bye"),
        ]);
        let (o, sent) = drive("smuggle.lf-lf", ctx(), i);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        let content = &sent[4];
        assert!(
            content.windows(6).any(|w| w == b"\n.\nMAI".as_slice()),
            "{}",
            escape(content)
        );
        assert!(content.ends_with(b"\r\n.\r\n"));
        assert_eq!(o.evidence["token"], "ehlo-probe-t0-smuggle-lf-lf");
    }

    /// `smuggle.lf-headers` writes the outer message with bare-LF lines (Exim's LF-only mode
    /// turns on at a first header line ending in LF) and the smuggled transaction in CRLF. A
    /// patched Exim in that mode (Debian 12's 4.96) answers the smuggled MAIL and RCPT, refuses
    /// the DATA with the smuggled lines already waiting (`554 SMTP synchronization error`) and
    /// closes: that refusal is DATA's, not QUIT's; with CHUNKING offered, the follow-up's
    /// smuggled BDAT is accepted and the probe fails.
    #[test]
    fn lf_headers_sends_bare_lf_lines_and_fails_on_exims_lf_only_mode() {
        let mut i = greet_chunking();
        i.extend([r(250, "OK"), r(250, "Accepted"), r(354, "go")]);
        i.extend([
            r(250, "OK id=1"),
            r(250, "OK"),
            r(250, "Accepted"),
            r(554, "SMTP synchronization error"),
            Input::Closed,
        ]);
        i.extend(greet_chunking());
        i.extend([
            r(250, "OK"),
            r(250, "Accepted"),
            r(354, "go"),
            r(250, "OK id=2"),
        ]);
        i.extend([
            r(250, "OK"),
            r(250, "Accepted"),
            r(250, "OK id=3"),
            r(221, "bye"),
        ]);
        let (o, sent) = drive("smuggle.lf-headers", ctx(), i);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(
            o.summary.contains("then 250 250 554)") && o.summary.contains("SMUGGLED via BDAT"),
            "{}",
            o.summary
        );
        let content = String::from_utf8(sent[4].clone()).unwrap();
        let (outer, smuggled) = content.split_once("\n.\nMAIL FROM:").unwrap();
        assert!(outer.starts_with("From: <"), "{content:?}");
        assert!(outer.contains("\nSubject: ehlo probe smuggle.lf-headers outer "));
        assert!(!outer.contains('\r'), "{content:?}");
        assert!(smuggled.contains(">\r\nRCPT TO:<"), "{content:?}");
        assert!(smuggled.ends_with("\r\n.\r\n"), "{content:?}");
        assert!(advice("smuggle.lf-headers").contains("LF-only mode"));

        // One reply for the whole message, then the 221: the server read it as one message.
        let mut i = greet();
        i.extend([
            r(250, "OK"),
            r(250, "Accepted"),
            r(354, "go"),
            r(250, "queued"),
            r(221, "bye"),
        ]);
        assert_eq!(drive("smuggle.lf-headers", ctx(), i).0.status, Status::Pass);
        // Every other probe's outer message keeps its CRLF.
        let mut i = greet();
        i.extend([
            r(250, "ok"),
            r(250, "ok"),
            r(354, "go"),
            r(250, "q"),
            r(221, "bye"),
        ]);
        let (_, sent) = drive("smuggle.lf-lf", ctx(), i);
        assert!(sent[4].starts_with(b"From: <"));
        assert!(sent[4].windows(5).any(|w| w == b">\r\nTo"));
    }

    #[test]
    fn smuggle_passes_on_one_reply_or_a_refusal_and_is_inconclusive_on_a_close() {
        let mut i = greet();
        i.extend([
            r(250, "ok"),
            r(250, "ok"),
            r(354, "go"),
            r(250, "queued"),
            r(221, "bye"),
        ]);
        assert_eq!(drive("smuggle.cr-cr", ctx(), i).0.status, Status::Pass);
        let mut i = greet();
        i.extend([
            r(250, "ok"),
            r(250, "ok"),
            r(354, "go"),
            r(521, "5.5.2 bare <LF> received"),
        ]);
        assert_eq!(drive("smuggle.lf-lf", ctx(), i).0.status, Status::Pass);
        let mut i = greet();
        i.extend([r(250, "ok"), r(250, "ok"), r(354, "go")]);
        let (o, _) = drive("smuggle.lf-lf", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(o.summary.contains("closed the connection"), "{}", o.summary);
        let mut i = greet();
        i.extend([r(250, "ok"), r(550, "5.1.1 no such user")]);
        let (o, _) = drive("smuggle.lf-lf", ctx(), i);
        assert_eq!(o.status, Status::Error);
        assert!(o.summary.contains("RCPT refused: 550"), "{}", o.summary);
    }

    /// A refusal of the message passes only when the session then went on normally (a `221`
    /// to QUIT) or the refusal names the bare line ending; a temporary failure, or a refusal
    /// followed by the close, shows nothing about the embedded commands.
    #[test]
    fn smuggle_refusals_pass_only_with_a_normal_end_or_a_named_bare_line_ending() {
        let run = |eod: Input, after: Vec<Input>| {
            let mut i = greet();
            i.extend([r(250, "ok"), r(250, "ok"), r(354, "go"), eod]);
            i.extend(after);
            drive("smuggle.lf-lf", ctx(), i).0
        };
        // 421 then the close: inconclusive, worded as a deferral.
        let o = run(r(421, "4.3.2 Service shutting down"), vec![]);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.summary.contains("deferred the message (421"),
            "{}",
            o.summary
        );
        assert!(!o.summary.contains("refused"), "{}", o.summary);
        // 451 even with a 221 after it: a temporary failure, not a refusal.
        let o = run(r(451, "4.3.0 local error"), vec![r(221, "bye")]);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(o.summary.contains("deferred"), "{}", o.summary);
        // 554 spam, then the close: inconclusive.
        let o = run(r(554, "5.7.1 spam"), vec![]);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.summary.contains("refused the message (554"),
            "{}",
            o.summary
        );
        // 554 spam, then the 221: the session went on, pass.
        let o = run(r(554, "5.7.1 spam"), vec![r(221, "bye")]);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        // A refusal that names the bare line ending passes even when the close follows.
        let o = run(r(550, "5.5.2 Error: bare <LF> received"), vec![]);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        // No code at all (garbage), then the close: inconclusive.
        let garbage = Reply {
            code: None,
            ..Reply::new(500, &["junk"])
        };
        let o = run(Input::Reply(garbage), vec![]);
        assert_eq!(o.status, Status::Error, "{o:?}");
    }

    /// The fail line says what was delivered, from the codes: no "two messages" when the
    /// server accepted neither.
    #[test]
    fn smuggle_fail_summary_follows_the_codes() {
        let run = |eod: Input, after: Vec<Input>| {
            let mut i = greet();
            i.extend([r(250, "ok"), r(250, "ok"), r(354, "go"), eod]);
            i.extend(after);
            drive("smuggle.lf-lf", ctx(), i).0
        };
        let o = run(
            r(451, "4.3.0 try later"),
            vec![
                r(451, "4.3.0 try later"),
                r(503, "5.5.1 need MAIL"),
                r(503, "5.5.1 need RCPT"),
                r(221, "bye"),
            ],
        );
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(!o.summary.contains("two messages"), "{}", o.summary);
        assert!(o.summary.contains("neither message"), "{}", o.summary);
        let o = run(
            r(250, "queued 1"),
            vec![
                r(250, "ok"),
                r(550, "5.1.1 no"),
                r(503, "5.5.1 need RCPT"),
                r(221, "bye"),
            ],
        );
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(
            o.summary
                .contains("the outer message was accepted, the smuggled one was not"),
            "{}",
            o.summary
        );
        let o = run(
            r(250, "queued 1"),
            vec![
                r(250, "ok"),
                r(250, "ok"),
                r(354, "go"),
                r(250, "queued 2"),
                r(221, "bye"),
            ],
        );
        assert!(o.summary.contains("two messages"), "{}", o.summary);
    }

    /// The content went out and no reply came (a timeout, a close): the server may have
    /// queued the message all the same (`ehlo serve --delay dot:4000` stores it and answers
    /// after a 2 s timeout). Inconclusive, and the result says the message may be in the
    /// mailbox and under which token; it said only "no eod reply within the timeout".
    #[test]
    fn smuggle_without_a_reply_to_the_content_says_it_may_have_been_delivered() {
        for last in [Input::TimedOut, Input::Closed] {
            let mut i = greet();
            i.extend([r(250, "ok"), r(250, "ok"), r(354, "go"), last.clone()]);
            let (o, sent) = drive("smuggle.lf-lf", ctx(), i);
            assert_eq!(sent.len(), 5, "the content was sent: {last:?}");
            assert_eq!(o.status, Status::Error, "{o:?}");
            assert!(
                o.summary.contains("may have been delivered")
                    && o.summary.contains("token ehlo-probe-t0-smuggle-lf-lf"),
                "{last:?}: {}",
                o.summary
            );
            assert_eq!(o.evidence["token"], "ehlo-probe-t0-smuggle-lf-lf");
        }
        // Refused before the content: nothing was sent, nothing to look for.
        let mut i = greet();
        i.extend([r(250, "ok"), r(250, "ok"), Input::TimedOut]);
        let (o, _) = drive("smuggle.lf-lf", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(!o.summary.contains("delivered"), "{}", o.summary);
    }

    /// The server closed the connection, or stopped reading until the write timed out, while
    /// the content itself was being written (after DATA's `354`): part of it, the smuggled end
    /// included, may have been read and queued. The result said only "the server closed the
    /// connection (waiting for the write reply)", no token to look for in the mailbox.
    #[test]
    fn smuggle_cut_while_writing_the_content_says_it_may_have_been_delivered() {
        // `cut`: what the driver reports for the first write holding `at`.
        let run = |cut: Input, at: &[u8], before: Vec<Input>| {
            let mut runner = Runner::new("smuggle.lf-lf", ctx());
            let mut inputs = greet();
            inputs.extend(before);
            inputs.reverse();
            let mut sends = 0;
            let mut io = runner.start();
            loop {
                io = match io {
                    Io::Done(o) => return (o, sends),
                    Io::Send(b) => {
                        sends += 1;
                        let hit = b.windows(at.len()).any(|w| w == at);
                        runner.on(if hit { cut.clone() } else { Input::Sent })
                    }
                    _ => runner.on(inputs.pop().unwrap_or(Input::Closed)),
                }
            }
        };
        for cut in [Input::Closed, Input::TimedOut] {
            let replies = vec![r(250, "ok"), r(250, "ok"), r(354, "go")];
            let (o, sends) = run(cut.clone(), b"SMUGGLED", replies);
            assert_eq!(sends, 5, "{cut:?}: the content was the last write");
            assert_eq!(o.status, Status::Error, "{o:?}");
            assert!(
                o.summary.contains("while the message was being written")
                    && o.summary.contains("may have been delivered")
                    && o.summary.contains("token ehlo-probe-t0-smuggle-lf-lf"),
                "{cut:?}: {}",
                o.summary
            );
            assert_eq!(o.evidence["token"], "ehlo-probe-t0-smuggle-lf-lf");
        }
        // DATA's own write cut: no message went out, nothing to look for.
        let (o, sends) = run(Input::Closed, b"DATA", vec![r(250, "ok"), r(250, "ok")]);
        assert_eq!(sends, 4);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.summary
                .contains("closed the connection while the probe was writing")
                && !o.summary.contains("delivered"),
            "{}",
            o.summary
        );
    }

    /// A server that resets the connection right after its EHLO reply: the probe's own line
    /// meets a closed connection and its write fails. That close is no reaction to the long
    /// line, the bare LF or the NUL byte: inconclusive, where it passed ("closed the connection
    /// on the NUL byte"). A close while the reply is awaited still passes.
    #[test]
    fn a_limits_line_whose_write_failed_does_not_pass() {
        for id in ["limits.line", "limits.bare-lf-command", "limits.nul"] {
            let mut runner = Runner::new(id, ctx());
            let mut inputs = greet();
            inputs.reverse();
            let mut io = runner.start();
            let o = loop {
                io = match io {
                    Io::Done(o) => break o,
                    Io::Send(b) if b.starts_with(b"EHLO") => runner.on(Input::Sent),
                    Io::Send(_) => runner.on(Input::Closed),
                    _ => runner.on(inputs.pop().unwrap_or(Input::Closed)),
                }
            };
            assert_eq!(o.status, Status::Error, "{id}: {o:?}");
            assert!(
                o.summary
                    .contains("closed the connection while the probe was writing"),
                "{id}: {}",
                o.summary
            );
            // A close while the reply is awaited passes once a control connection's NOOP is
            // answered.
            let mut i = greet();
            i.push(Input::Closed);
            i.extend(greet());
            i.extend([r(250, "ok"), r(221, "bye")]);
            let (o, _) = drive(id, ctx(), i);
            assert_eq!(o.status, Status::Pass, "{id}: {o:?}");
        }
    }

    /// A server that closes after EHLO whatever comes next (or whose reset arrives after our
    /// write) closed on nothing the line held: the control connection, the same greeting then
    /// a NOOP of normal length, is closed too, so the verdict is inconclusive (it passed:
    /// "closed the connection on the NUL byte"). When the control's NOOP is answered the close
    /// passes, and one control serves the run's other `limits.*` probes.
    #[test]
    fn a_close_on_a_limits_line_needs_a_control_that_is_answered() {
        for id in ["limits.line", "limits.bare-lf-command", "limits.nul"] {
            let mut i = greet();
            i.push(Input::Closed);
            i.extend(greet());
            i.push(Input::Closed);
            let (o, sent) = drive(id, ctx(), i);
            assert_eq!(o.status, Status::Error, "{id}: {o:?}");
            assert!(
                o.summary
                    .contains("the close is not shown to be a reaction"),
                "{id}: {}",
                o.summary
            );
            assert_eq!(o.evidence["control"]["answered"], false);
            // The control greets as the probe did, then sends a NOOP of normal length.
            assert_eq!(sent[2], b"EHLO probe.test\r\n", "{id}");
            assert_eq!(sent[3], b"NOOP ehlo-probe-control\r\n", "{id}");
            // A 421 to the control's NOOP: the server is closing for everyone.
            let mut i = greet();
            i.push(Input::Closed);
            i.extend(greet());
            i.push(r(421, "closing"));
            let (o, _) = drive(id, ctx(), i);
            assert_eq!(o.status, Status::Error, "{id}: {o:?}");
            assert!(
                o.summary.contains("its NOOP got 421 closing"),
                "{}",
                o.summary
            );
            // Answered: pass, with the control named.
            let mut i = greet();
            i.push(Input::Closed);
            i.extend(greet());
            i.extend([r(250, "ok"), r(221, "bye")]);
            let mut runner = Runner::new(id, ctx());
            let (o, control) = {
                let mut io = runner.start();
                i.reverse();
                loop {
                    io = match io {
                        Io::Done(o) => break (o, runner.control_seen()),
                        Io::Send(_) => runner.on(Input::Sent),
                        Io::Reconnect => runner.on(Input::Connected("mx.test".into())),
                        _ => runner.on(i.pop().unwrap_or(Input::Closed)),
                    }
                }
            };
            assert_eq!(o.status, Status::Pass, "{id}: {o:?}");
            assert!(
                o.summary.contains("NOOP of normal length got 250 ok"),
                "{}",
                o.summary
            );
            // The next probe of the run uses that control: no second connection.
            let mut runner = Runner::new("limits.nul", ctx());
            runner.with_control(control);
            let mut i = greet();
            i.push(Input::Closed);
            i.reverse();
            let mut io = runner.start();
            let o = loop {
                io = match io {
                    Io::Done(o) => break o,
                    Io::Send(_) => runner.on(Input::Sent),
                    Io::Reconnect => panic!("a second control connection"),
                    _ => runner.on(i.pop().unwrap_or(Input::Closed)),
                }
            };
            assert_eq!(o.status, Status::Pass, "{o:?}");
            assert_eq!(o.evidence["control"]["by"], id);
        }
    }

    /// A server sending `250` endlessly had replies waiting before the probe's line was
    /// written: they answered something else, so the extra replies are no split (limits.line
    /// failed: "split … 8 extra replies"). The driver says what was waiting; inconclusive.
    #[test]
    fn replies_waiting_before_the_limits_line_are_inconclusive() {
        for id in ["limits.line", "limits.bare-lf-command", "limits.nul"] {
            let mut runner = Runner::new(id, ctx());
            let mut i = greet();
            i.extend(std::iter::repeat_n(r(250, "x"), 10));
            i.reverse();
            let mut io = runner.start();
            let mut watched = Vec::new();
            let o = loop {
                io = match io {
                    Io::Done(o) => break o,
                    Io::Send(b) => {
                        if runner.watches_unasked() {
                            watched.push(b);
                        }
                        runner.unasked_before_write(7);
                        runner.on(Input::Sent)
                    }
                    _ => runner.on(i.pop().unwrap_or(Input::Closed)),
                }
            };
            assert_eq!(o.status, Status::Error, "{id}: {o:?}");
            assert!(
                o.summary
                    .contains("replies nobody asked for (7 bytes waiting)"),
                "{id}: {}",
                o.summary
            );
            // Only the probe's own line is watched (not EHLO, not QUIT).
            assert_eq!(watched.len(), 1, "{id}");
            assert!(!watched[0].starts_with(b"EHLO") && !watched[0].starts_with(b"QUIT"));
        }
    }

    /// Extra replies that are not the smuggled MAIL, RCPT and DATA's (a server answering `250`
    /// to every line it reads, inside DATA too: no `354`, more replies than commands) are no
    /// evidence: inconclusive, whichever variant; the real shapes still fail.
    #[test]
    fn smuggle_fails_only_on_the_smuggled_transactions_shape() {
        let run = |id: &'static str, after: Vec<Input>| {
            let mut i = greet();
            i.extend([r(250, "ok"), r(250, "ok"), r(354, "go"), r(250, "OK")]);
            i.extend(after);
            drive(id, ctx(), i).0
        };
        for id in ["smuggle.cr-cr", "smuggle.lf-lf"] {
            let o = run(id, (0..8).map(|_| r(250, "OK")).collect());
            assert_eq!(o.status, Status::Error, "{o:?}");
            assert!(
                o.summary.contains("only the mailbox can tell"),
                "{}",
                o.summary
            );
        }
        // Three 250s: DATA never answers 2xx.
        let o = run(
            "smuggle.lf-lf",
            vec![r(250, "ok"), r(250, "ok"), r(250, "ok"), r(221, "bye")],
        );
        assert_eq!(o.status, Status::Error, "{o:?}");
        // After the smuggled message's end nothing more is asked.
        let o = run(
            "smuggle.lf-lf",
            vec![
                r(250, "ok"),
                r(250, "ok"),
                r(354, "go"),
                r(250, "queued 2"),
                r(250, "ok"),
                r(221, "bye"),
            ],
        );
        assert_eq!(o.status, Status::Error, "{o:?}");
        // A refused DATA: the smuggled lines reach the command parser, each refused.
        let o = run(
            "smuggle.lf-lf",
            vec![
                r(250, "ok"),
                r(550, "5.1.1 no"),
                r(554, "5.5.1 no valid recipients"),
                r(500, "5.5.2 unrecognized"),
                r(500, "5.5.2 unrecognized"),
                r(221, "bye"),
            ],
        );
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(
            o.summary.contains("the smuggled one was not"),
            "{}",
            o.summary
        );
    }

    /// The connection layer's reason may begin with "TLS handshake failed" itself: it read
    /// "TLS handshake failed: TLS handshake failed: the peer closed the connection …".
    #[test]
    fn a_failed_handshake_is_said_once() {
        let mut i = greet();
        i.extend([
            r(220, "go ahead"),
            Input::TlsFailed(
                "TLS handshake failed: the peer closed the connection during the handshake".into(),
            ),
        ]);
        let (o, _) = drive("starttls.injection", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert_eq!(
            o.summary,
            "TLS handshake failed: the peer closed the connection during the handshake"
        );
        let mut i = greet();
        i.extend([
            r(220, "go ahead"),
            Input::TlsFailed("certificate verification failed: expired".into()),
        ]);
        let (o, _) = drive("starttls.injection", ctx(), i);
        assert_eq!(
            o.summary,
            "TLS handshake failed: certificate verification failed: expired"
        );
    }

    /// A `4xx` (greylisting) to the probe's RCPT is a deferral, not a refusal: it was worded
    /// "rcpt refused: 450 …", and enum.rcpt asked for "a recipient the server accepts".
    #[test]
    fn a_deferred_recipient_says_retry_not_another_recipient() {
        let mut i = greet();
        i.extend([r(250, "ok"), r(450, "4.2.0 greylisted"), r(221, "bye")]);
        let (o, _) = drive("smuggle.lf-lf", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.summary
                .contains("RCPT deferred: 450 4.2.0 greylisted (a temporary failure: retry later)"),
            "{}",
            o.summary
        );
        assert!(!o.summary.contains("refused"), "{}", o.summary);
        let mut i = greet();
        i.extend([
            r(250, "ok"),
            r(450, "4.2.0 greylisted"),
            r(450, "4.2.0 greylisted"),
            r(250, "ok"),
            r(221, "bye"),
        ]);
        let (o, _) = drive("enum.rcpt", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(o.summary.contains("was deferred: 450"), "{}", o.summary);
        assert!(o.summary.contains("retry later"), "{}", o.summary);
        assert!(!o.summary.contains("accepts"), "{}", o.summary);
    }

    /// A server that ends DATA at `<CR>.<CR>` reads `smuggle.cr-crlf`'s `<CR>.<CR><LF>` up to
    /// its `<CR>` and the `<LF>` left over as an empty command line: its `500` comes before
    /// the smuggled MAIL's `250`. That was inconclusive ("only the mailbox can tell") although
    /// the smuggled message was delivered.
    #[test]
    fn a_reply_to_the_rest_of_the_variant_before_the_smuggled_transaction_fails() {
        let run = |after: Vec<Input>| {
            let mut i = greet();
            i.extend([r(250, "ok"), r(250, "ok"), r(354, "go"), r(250, "queued 1")]);
            i.extend(after);
            drive("smuggle.cr-crlf", ctx(), i).0
        };
        for stray in [r(500, "5.5.2 Error: bad syntax"), r(250, "OK")] {
            let o = run(vec![
                stray,
                r(250, "ok"),
                r(250, "ok"),
                r(354, "go"),
                r(250, "queued 2"),
                r(221, "bye"),
            ]);
            assert_eq!(o.status, Status::Fail, "{o:?}");
            assert!(o.summary.contains("two messages"), "{}", o.summary);
            assert!(
                o.summary.contains("the rest of the variant"),
                "{}",
                o.summary
            );
        }
        // Only that exact shape: one more reply, or no 354, stays inconclusive.
        for after in [
            vec![
                r(500, "bad"),
                r(250, "ok"),
                r(250, "ok"),
                r(354, "go"),
                r(250, "queued 2"),
                r(250, "ok"),
                r(221, "bye"),
            ],
            vec![
                r(500, "bad"),
                r(250, "ok"),
                r(250, "ok"),
                r(250, "ok"),
                r(250, "ok"),
                r(221, "bye"),
            ],
        ] {
            let o = run(after);
            assert_eq!(o.status, Status::Error, "{o:?}");
        }
    }

    #[test]
    fn a_reply_cut_off_by_the_close_is_no_reply() {
        // The dot's `250` without its CRLF, then the close: not the one reply that passes.
        let mut cut = Reply::new(250, &["queued"]);
        cut.deviations.push(Deviation::TruncatedAtClose);
        let mut i = greet();
        i.extend([r(250, "ok"), r(250, "ok"), r(354, "go"), Input::Reply(cut)]);
        let (o, _) = drive("smuggle.cr-cr", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(o.summary.contains("closed the connection"), "{}", o.summary);
    }

    #[test]
    fn starttls_injection_counts_replies_inside_tls() {
        let mut i = greet();
        i.extend([r(220, "go"), Input::TlsUp, r(250, "reset"), r(221, "bye")]);
        let (o, sent) = drive("starttls.injection", ctx(), i);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert_eq!(sent[1], b"STARTTLS\r\nRSET\r\n");
        let mut i = greet();
        i.extend([r(220, "go"), Input::TlsUp, r(221, "bye")]);
        assert_eq!(drive("starttls.injection", ctx(), i).0.status, Status::Pass);
        let mut i = greet();
        let ehlo = Input::Reply(Reply::new(250, &["mx", "PIPELINING"]));
        i.extend([r(220, "go"), Input::TlsUp, ehlo, r(221, "bye")]);
        let (o, sent) = drive("starttls.injection-ehlo", ctx(), i);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(o.summary.contains("answered the EHLO"), "{}", o.summary);
        assert_eq!(sent[1], b"STARTTLS\r\nEHLO probe.test\r\n");
        let mut i = greet();
        i.extend([r(220, "go"), Input::TlsFailed("bad".into())]);
        assert_eq!(
            drive("starttls.injection", ctx(), i).0.status,
            Status::Error
        );
        // Not offered: skip.
        let i = vec![r(220, "mx"), r(250, "mx")];
        assert_eq!(drive("starttls.injection", ctx(), i).0.status, Status::Skip);
    }

    /// A 4xx is no refusal in any judge: 421 + close to the pipelined group or the long line,
    /// 454 to STARTTLS, 451 to the NUL command are all inconclusive.
    #[test]
    fn a_temporary_failure_is_never_a_refusal() {
        let no_pipelining = || Input::Reply(Reply::new(250, &["mx", "8BITMIME"]));
        let shutting = || r(421, "4.3.2 Service shutting down, closing channel");
        let i = vec![r(220, "mx"), no_pipelining(), shutting()];
        let o = drive("pipelining.unadvertised", ctx(), i).0;
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(o.summary.contains("deferred: 421"), "{}", o.summary);
        let i = vec![r(220, "mx"), no_pipelining(), r(250, "ok"), shutting()];
        let o = drive("pipelining.unadvertised", ctx(), i).0;
        assert_eq!(o.status, Status::Error, "{o:?}");
        for id in ["limits.line", "limits.bare-lf-command", "limits.nul"] {
            let mut i = greet();
            i.push(shutting());
            let o = drive(id, ctx(), i).0;
            assert_eq!(o.status, Status::Error, "{id}: {o:?}");
            assert!(o.summary.contains("deferred: 421"), "{id}: {}", o.summary);
        }
        for id in ["starttls.injection", "starttls.injection-ehlo"] {
            let mut i = greet();
            i.extend([
                r(454, "4.7.0 TLS not available due to local problem"),
                r(221, "bye"),
            ]);
            let o = drive(id, ctx(), i).0;
            assert_eq!(o.status, Status::Error, "{id}: {o:?}");
            assert!(o.summary.contains("454"), "{id}: {}", o.summary);
        }
        // A permanent refusal still passes.
        let mut i = greet();
        i.extend([r(500, "5.5.2 line too long"), r(221, "bye")]);
        assert_eq!(drive("limits.line", ctx(), i).0.status, Status::Pass);
    }

    #[test]
    fn downgrade_fails_on_auth_before_tls_in_either_form() {
        let caps = |lines: &[&str]| Input::Reply(Reply::new(250, lines));
        let run = |ehlo: Input| {
            let i = vec![
                r(220, "mx"),
                ehlo,
                r(250, "ok"),
                r(250, "ok"),
                r(221, "bye"),
            ];
            drive("starttls.downgrade", ctx(), i).0
        };
        // The old form alone (RFC 4954 §3): still credentials before TLS.
        let o = run(caps(&["mx", "PIPELINING", "STARTTLS", "AUTH=PLAIN LOGIN"]));
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(o.summary.contains("AUTH PLAIN LOGIN"), "{}", o.summary);
        assert_eq!(o.evidence["auth_before_tls"], json!(["PLAIN", "LOGIN"]));
        // The RFC 4954 form, and a bare AUTH that names no mechanism.
        let o = run(caps(&["mx", "STARTTLS", "AUTH CRAM-MD5"]));
        assert_eq!(o.status, Status::Fail, "{o:?}");
        let o = run(caps(&["mx", "STARTTLS", "AUTH"]));
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(o.summary.starts_with("offers AUTH before"), "{}", o.summary);
        // No AUTH at all: pass, plaintext MAIL noted.
        let o = run(caps(&["mx", "STARTTLS"]));
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert_eq!(o.evidence["auth_before_tls"], json!([]));
        assert_eq!(o.evidence["mail_without_tls"], json!(true));
        // No STARTTLS: fail whatever else.
        let o = run(caps(&["mx", "PIPELINING"]));
        assert_eq!(o.status, Status::Fail, "{o:?}");
        // A hostile list of 20 000 mechanisms: summary and evidence stay small.
        let many: String = (0..20_000).map(|i| format!(" M{i}")).collect();
        let line = format!("AUTH{many}");
        let o = run(caps(&["mx", "STARTTLS", &line]));
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(o.summary.len() < 600, "{} bytes", o.summary.len());
        assert!(o.evidence["auth_before_tls"].to_string().len() < 600);
    }

    #[test]
    fn a_close_instead_of_the_221_to_quit_is_no_clean_end() {
        // STARTTLS, the handshake, then the close without a byte: nothing shows the injected
        // RSET was read and ignored.
        let mut i = greet();
        i.extend([r(220, "go"), Input::TlsUp]);
        let (o, _) = drive("starttls.injection", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(o.summary.contains("closed the connection"), "{}", o.summary);
        // A `221` cut off by the close is no `221` either.
        let mut cut = Reply::new(221, &["bye"]);
        cut.deviations.push(Deviation::TruncatedAtClose);
        let mut i = greet();
        i.extend([r(220, "go"), Input::TlsUp, Input::Reply(cut.clone())]);
        let (o, _) = drive("starttls.injection-ehlo", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.evidence["transcript"]
                .to_string()
                .contains("(cut off by the close)"),
            "{o:?}"
        );
        // One reply to the message, then the close: the embedded commands may never have been
        // answered, so only the mailbox can tell.
        let mut i = greet();
        i.extend([r(250, "ok"), r(250, "ok"), r(354, "go"), r(250, "queued")]);
        let (o, _) = drive("smuggle.lf-lf", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.summary.contains("only the mailbox can tell"),
            "{}",
            o.summary
        );
        let mut i = greet();
        i.extend([r(250, "ok"), r(250, "ok"), r(354, "go"), r(250, "queued")]);
        i.push(Input::Reply(cut));
        assert_eq!(drive("smuggle.lf-lf", ctx(), i).0.status, Status::Error);
        // Answers to the embedded commands before the close still fail it.
        let mut i = greet();
        i.extend([r(250, "ok"), r(250, "ok"), r(354, "go"), r(250, "q1")]);
        i.extend([r(250, "ok"), r(250, "ok"), r(354, "go")]);
        assert_eq!(drive("smuggle.lf-lf", ctx(), i).0.status, Status::Fail);
        // The probes that judge their own replies keep their verdicts on a close: one answer
        // to the long line, then the close, passes (nothing split off was answered).
        let mut i = greet();
        i.push(r(501, "5.5.4 too long"));
        let (o, _) = drive("limits.line", ctx(), i);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert!(o.summary.contains("and closed"), "{}", o.summary);
        let mut i = greet();
        i.extend([r(252, "2.0.0 me"), r(550, "5.1.1 unknown")]);
        assert_eq!(drive("enum.vrfy", ctx(), i).0.status, Status::Fail);
    }

    /// A strict server that answers QUIT with `250 2.0.0 Bye` and closes: that last reply is
    /// QUIT's, not an embedded command's answer.
    #[test]
    fn the_last_reply_before_the_close_is_quits() {
        let bye = || r(250, "2.0.0 Bye");
        let mut i = greet();
        i.extend([
            r(250, "ok"),
            r(250, "ok"),
            r(354, "go"),
            r(250, "queued"),
            bye(),
        ]);
        let o = drive("smuggle.lf-lf", ctx(), i).0;
        assert_eq!(o.status, Status::Pass, "{o:?}");
        let mut i = greet();
        i.extend([r(500, "5.5.2 line too long"), bye()]);
        let o = drive("limits.line", ctx(), i).0;
        assert_eq!(o.status, Status::Pass, "{o:?}");
        // After STARTTLS the injected line is outstanding: a reply and then the close answer
        // it, not QUIT, whatever its text (the next test).
        let mut i = greet();
        i.extend([r(220, "go"), Input::TlsUp, r(221, "2.0.0 Bye")]);
        let o = drive("starttls.injection", ctx(), i).0;
        assert_eq!(o.status, Status::Pass, "{o:?}");
        // One reply too many before the 221, but not the smuggled transaction's shape: no fail.
        let mut i = greet();
        i.extend([
            r(250, "ok"),
            r(250, "ok"),
            r(354, "go"),
            r(250, "queued"),
            bye(),
        ]);
        i.push(r(221, "bye"));
        let o = drive("smuggle.lf-lf", ctx(), i).0;
        assert_eq!(o.status, Status::Error, "{o:?}");
        // The smuggled transaction answered, then the close without a 221: still a fail.
        let mut i = greet();
        i.extend([r(250, "ok"), r(250, "ok"), r(354, "go"), r(250, "q1")]);
        i.extend([r(250, "ok"), r(250, "ok"), r(354, "go"), r(250, "q2")]);
        let o = drive("smuggle.lf-lf", ctx(), i).0;
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(o.summary.contains("look for token"), "{}", o.summary);
    }

    /// A server vulnerable to STARTTLS injection that answers the injected line inside TLS and
    /// then closes instead of answering QUIT: that `250` came while the injected line was
    /// outstanding, so it is the injected line's answer (fail), not QUIT's. A server answering
    /// QUIT with `250 Bye` looks the same on the wire here and fails too.
    #[test]
    fn an_answer_to_the_injected_line_then_a_close_fails() {
        for (id, answer) in [
            ("starttls.injection", r(250, "2.0.0 Ok")),
            ("starttls.injection-ehlo", r(250, "mx.test")),
        ] {
            let mut i = greet();
            i.extend([r(220, "go"), Input::TlsUp, answer]);
            let o = drive(id, ctx(), i).0;
            assert_eq!(o.status, Status::Fail, "{id}: {o:?}");
            assert!(
                o.summary.contains("without answering QUIT"),
                "{}",
                o.summary
            );
            assert_eq!(o.evidence["injected_replies"], json!(1));
        }
        // Answered, then the 221: one extra reply, QUIT answered.
        let mut i = greet();
        i.extend([r(220, "go"), Input::TlsUp, r(250, "ok"), r(221, "bye")]);
        let o = drive("starttls.injection", ctx(), i).0;
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(
            !o.summary.contains("without answering QUIT"),
            "{}",
            o.summary
        );
    }

    /// A server that keeps answering after QUIT: at most [`MAX_REPLIES`] replies, every one
    /// after the first read under the same deadline (`Io::ReadOn`).
    #[test]
    fn replies_after_quit_are_capped_under_one_deadline() {
        let mut runner = Runner::new("enum.vrfy", ctx());
        let mut inputs = greet();
        inputs.extend([r(252, "x"), r(252, "x")]);
        inputs.reverse();
        let mut io = runner.start();
        let (mut fresh, mut on) = (0, 0);
        let mut quit_sent = false;
        loop {
            io = match io {
                Io::Done(_) => break,
                Io::Send(b) => {
                    quit_sent |= b == b"QUIT\r\n";
                    runner.on(Input::Sent)
                }
                Io::Read if quit_sent => {
                    fresh += 1;
                    runner.on(r(250, "still here"))
                }
                Io::ReadOn => {
                    on += 1;
                    runner.on(r(250, "still here"))
                }
                Io::Read | Io::StartTls | Io::Reconnect => {
                    runner.on(inputs.pop().unwrap_or(Input::Closed))
                }
            };
        }
        assert_eq!(fresh, 1, "one deadline for the whole QUIT step");
        assert_eq!(fresh + on, MAX_REPLIES);
    }

    #[test]
    fn early_talker_sends_before_reading() {
        let (o, sent) = drive(
            "pipelining.early-talker",
            ctx(),
            vec![r(220, "mx"), r(250, "mx"), r(221, "bye")],
        );
        // Answered (a stock Postfix smtpd without postscreen): warn, not fail: the pregreet
        // test is a spam defence a server may choose not to run, no hole.
        assert_eq!(o.status, Status::Warn, "{o:?}");
        assert!(advice("pipelining.early-talker").starts_with("A warn means"));
        assert!(advice("pipelining.unadvertised").starts_with("A warn means"));
        assert_eq!(sent[0], b"EHLO probe.test\r\n");
        // Refused in the greeting, and a client that waits is greeted: pass.
        let (o, _) = drive(
            "pipelining.early-talker",
            ctx(),
            vec![
                r(554, "5.5.1 synchronization error"),
                Input::Closed,
                r(220, "mx"),
                r(250, "mx"),
                r(221, "bye"),
            ],
        );
        assert_eq!(o.status, Status::Pass, "{o:?}");
        let pipeconnect = Input::Reply(Reply::new(250, &["mx", "PIPECONNECT"]));
        let (o, _) = drive(
            "pipelining.early-talker",
            ctx(),
            vec![r(220, "mx"), pipeconnect, r(221, "bye")],
        );
        assert_eq!(o.status, Status::Info, "{o:?}");
        let (o, _) = drive("pipelining.early-talker", ctx(), vec![Input::TimedOut]);
        assert_eq!(o.status, Status::Error);
    }

    /// The bytes of one reply as the driver's parser makes them.
    fn parsed(bytes: &[u8]) -> Input {
        let mut p = crate::smtp::reply::ReplyParser::new(crate::smtp::reply::Limits::default());
        let mut buf = bytes.to_vec();
        Input::Reply(p.next_reply(&mut buf).expect("one complete reply"))
    }

    /// The early talker passes only on evidence that the server reacted to it: a 421
    /// greeting, a peer that is not SMTP, a close that a client that waits gets too, or an
    /// EHLO refused for its argument are inconclusive.
    #[test]
    fn early_talker_passes_only_on_evidence() {
        let run = |i: Vec<Input>| drive("pipelining.early-talker", ctx(), i).0;
        // 421 greeting (too many connections): inconclusive.
        let o = run(vec![r(421, "4.7.0 Too many connections")]);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(o.summary.contains("421"), "{}", o.summary);
        // An HTTP peer: no code.
        let o = run(vec![parsed(b"HTTP/1.1 400 Bad Request\r\n")]);
        assert_eq!(o.status, Status::Error, "{o:?}");
        // Closed without a greeting (an smtps port spoken in plaintext), and the control
        // connection is not greeted either: inconclusive.
        let o = run(vec![Input::Closed, Input::TimedOut]);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(o.summary.contains("--tls-on-connect"), "{}", o.summary);
        // ... but greeted when it waits: pass.
        let o = run(vec![
            Input::Closed,
            r(220, "mx"),
            r(250, "mx"),
            r(221, "bye"),
        ]);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        // EHLO refused for its argument (Exim's 501 for a bad --helo), the same after the
        // greeting: inconclusive.
        let bad = || r(501, "Syntactically invalid EHLO argument(s)");
        let o = run(vec![r(220, "mx"), bad(), r(220, "mx"), bad()]);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(o.summary.contains("--helo"), "{}", o.summary);
        // Refused early, answered when it waits: pass.
        let o = run(vec![
            r(220, "mx"),
            r(554, "5.5.1 synchronization error"),
            r(220, "mx"),
            r(250, "mx"),
            r(221, "bye"),
        ]);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        // A 4xx to the early EHLO: inconclusive, no control needed.
        let o = run(vec![r(220, "mx"), r(421, "4.3.2 busy")]);
        assert_eq!(o.status, Status::Error, "{o:?}");
    }

    /// postscreen's pregreet test: `220-` first, then (greet_action = enforce) the EHLO's
    /// `250` without the rest of the greeting, or (drop) a `521`. The parser merges them; the
    /// probe takes both replies apart, passes, and does not wait for another EHLO reply.
    #[test]
    fn early_talker_recognises_an_interrupted_greeting() {
        let enforce = parsed(b"220-mx ESMTP\r\n250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
        let (o, sent) = drive(
            "pipelining.early-talker",
            ctx(),
            vec![enforce, r(221, "2.0.0 Bye")],
        );
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert!(o.summary.contains("250 mx"), "{}", o.summary);
        assert_eq!(sent.len(), 2, "EHLO then QUIT");
        let drop = parsed(b"220-mx ESMTP\r\n521 5.5.1 Protocol error\r\n");
        let (o, _) = drive("pipelining.early-talker", ctx(), vec![drop]);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert!(
            o.summary.contains("521 5.5.1 Protocol error"),
            "{}",
            o.summary
        );
        assert!(!o.summary.contains("521 mx"), "{}", o.summary);
    }

    /// A server answering "250 OK" to every EXPN lists no member and tells no user apart: a
    /// pass that says so. One that lists members for both still fails (it expands), and the
    /// summary says what it does, not that the answers differ.
    #[test]
    fn expn_answering_250_to_all_discloses_nothing_unless_it_lists_members() {
        let mut i = greet();
        i.extend([r(250, "OK"), r(250, "OK"), r(221, "bye")]);
        let (o, _) = drive("enum.expn", ctx(), i);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert!(o.summary.contains("alike"), "{}", o.summary);
        assert!(o.summary.contains("nothing disclosed"), "{}", o.summary);
        // Echoing the address asked for lists no other member.
        let c = ctx();
        let unknown = c.unknown_user();
        let mut i = greet();
        let k = format!("2.1.5 <{}>", c.to);
        let u = format!("2.1.5 <{unknown}>");
        i.extend([r(250, &k), r(250, &u), r(221, "bye")]);
        assert_eq!(drive("enum.expn", c, i).0.status, Status::Pass);
        // Members listed (multi-line, as RFC 5321 §3.5.3 shows) for both: a fail.
        let list = Reply::new(250, &["Alice <alice@example.test>", "bob@example.test"]);
        let mut i = greet();
        i.extend([
            Input::Reply(list.clone()),
            Input::Reply(list),
            r(221, "bye"),
        ]);
        let (o, _) = drive("enum.expn", ctx(), i);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(
            o.summary.starts_with("EXPN expands addresses"),
            "{}",
            o.summary
        );
        assert!(!o.summary.contains("tells users apart"), "{}", o.summary);
        // Answers that differ still say so.
        let mut i = greet();
        i.extend([r(250, "me <me@example.test>"), r(550, "no"), r(221, "bye")]);
        let (o, _) = drive("enum.expn", ctx(), i);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(o.summary.contains("tells users apart"), "{}", o.summary);
    }

    /// A refusal of the outside recipient passes only when the control recipient (`--to`) is
    /// accepted: a server that refuses every RCPT shows nothing about relaying (it passed).
    #[test]
    fn relay_open_needs_an_accepted_control_recipient() {
        let run = |control: Input| {
            let mut i = greet();
            i.extend([
                r(250, "2.1.0 Ok"),
                r(554, "5.7.1 <x@example.net>: Relay access denied"),
                control,
                r(250, "2.0.0 Ok"),
                r(221, "2.0.0 Bye"),
            ]);
            drive("relay.open", ctx(), i)
        };
        let (o, sent) = run(r(
            550,
            "5.1.1 <me@example.test>: Recipient address rejected",
        ));
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.summary.starts_with(
                "the server refused every recipient, the control recipient <me@example.test> \
                 too (550 5.1.1"
            ) && o.summary.contains("need not be about relaying"),
            "{}",
            o.summary
        );
        assert_eq!(o.evidence["control_accepted"], false);
        assert!(
            sent.contains(&b"RCPT TO:<me@example.test>\r\n".to_vec()),
            "{sent:?}"
        );
        let (o, _) = run(r(250, "2.1.5 Ok"));
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert!(
            o.summary
                .contains("accepted the control recipient <me@example.test>: 250 2.1.5 Ok"),
            "{}",
            o.summary
        );
        assert_eq!(o.evidence["control_accepted"], true);
        // A deferred control, or a close in its place: inconclusive too.
        let (o, _) = run(r(450, "4.2.0 try later"));
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.summary.contains("deferred the control recipient"),
            "{}",
            o.summary
        );
        let (o, _) = run(Input::Closed);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.summary.contains("the server closed the connection"),
            "{}",
            o.summary
        );
    }

    #[test]
    fn enumeration_and_relay() {
        let mut i = greet();
        i.extend([r(252, "2.0.0 me"), r(550, "5.1.1 unknown"), r(221, "bye")]);
        assert_eq!(drive("enum.vrfy", ctx(), i).0.status, Status::Fail);
        let mut i = greet();
        i.extend([r(252, "2.0.0 try"), r(252, "2.0.0 try"), r(221, "bye")]);
        assert_eq!(drive("enum.vrfy", ctx(), i).0.status, Status::Pass);
        let mut i = greet();
        i.extend([r(502, "no"), r(502, "no"), r(221, "bye")]);
        assert_eq!(drive("enum.expn", ctx(), i).0.status, Status::Pass);
        let mut i = greet();
        i.extend([
            r(250, "ok"),
            r(554, "5.7.1 Relay access denied"),
            r(250, "ok"),
            r(250, "ok"),
            r(221, "bye"),
        ]);
        assert_eq!(drive("relay.open", ctx(), i).0.status, Status::Pass);
        let mut i = greet();
        i.extend([r(250, "ok"), r(250, "ok"), r(250, "ok"), r(221, "bye")]);
        assert_eq!(drive("relay.open", ctx(), i).0.status, Status::Fail);
        let mut i = greet();
        i.extend([
            r(250, "ok"),
            r(250, "ok"),
            r(550, "no"),
            r(250, "ok"),
            r(221, "bye"),
        ]);
        assert_eq!(drive("enum.rcpt", ctx(), i).0.status, Status::Warn);
    }

    #[test]
    fn limits_count_replies() {
        let mut i = greet();
        i.extend([r(250, "ok"), r(500, "unknown command"), r(221, "bye")]);
        let (o, sent) = drive("limits.line", ctx(), i);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(sent[1].len(), LONG_LINE + 7);
        // Exim 4.96's answer: one reply for the part past its buffer ("1 extra replies" once).
        assert!(
            o.summary
                .contains("(1 extra reply, first: 500 unknown command)"),
            "{}",
            o.summary
        );
        let mut i = greet();
        i.extend([r(250, "ok"), r(500, "a"), r(500, "b"), r(221, "bye")]);
        let o = drive("limits.line", ctx(), i).0;
        assert!(
            o.summary.contains("(2 extra replies, first: 500 a)"),
            "{}",
            o.summary
        );
        let mut i = greet();
        i.extend([r(500, "5.5.2 line too long"), r(221, "bye")]);
        assert_eq!(drive("limits.line", ctx(), i).0.status, Status::Pass);
        let mut i = greet();
        i.extend([r(250, "ok"), r(250, "ok"), r(221, "bye")]);
        assert_eq!(
            drive("limits.bare-lf-command", ctx(), i).0.status,
            Status::Warn
        );
        let mut i = greet();
        i.extend([r(501, "5.5.4 Syntax: RSET"), r(221, "bye")]);
        assert_eq!(
            drive("limits.bare-lf-command", ctx(), i).0.status,
            Status::Pass
        );
        let mut i = greet();
        i.extend([r(250, "ok"), r(221, "bye")]);
        assert_eq!(drive("limits.nul", ctx(), i).0.status, Status::Warn);
    }

    /// A server that does not advertise PIPELINING and enforces it (Exim's smtp_enforce_sync,
    /// `serve --hide PIPELINING`) answers a split line with one `554 … synchronization error`
    /// and closes: one reply, but it says a second command was waiting, so the line was split.
    #[test]
    fn a_synchronization_refusal_is_a_split_not_one_reply() {
        let sync = || r(554, "5.5.0 SMTP synchronization error");
        for closed in [false, true] {
            let end = if closed { Input::Closed } else { r(221, "bye") };
            let mut i = greet();
            i.extend([sync(), end.clone()]);
            let o = drive("limits.bare-lf-command", ctx(), i).0;
            assert_eq!(o.status, Status::Warn, "{o:?}");
            assert!(
                o.summary.contains("a bare LF ended a command"),
                "{}",
                o.summary
            );
            let mut i = greet();
            i.extend([sync(), end]);
            let o = drive("limits.line", ctx(), i).0;
            assert_eq!(o.status, Status::Fail, "{o:?}");
            assert!(o.summary.contains("split"), "{}", o.summary);
        }
        // Another refusal of the one command still passes.
        let mut i = greet();
        i.extend([r(500, "5.5.2 Error: command not recognized"), r(221, "bye")]);
        let o = drive("limits.bare-lf-command", ctx(), i).0;
        assert_eq!(o.status, Status::Pass, "{o:?}");
    }

    /// A `530` to the commands a probe judges by their refusal is the server's STARTTLS/AUTH
    /// policy, not an answer about what the probe tests: inconclusive, never pass.
    #[test]
    fn a_530_before_tls_or_auth_tests_nothing() {
        let must = || r(530, "5.7.0 Must issue a STARTTLS command first");
        for (id, replies) in [
            ("enum.vrfy", vec![must(), must(), r(221, "bye")]),
            ("enum.expn", vec![must(), must(), r(221, "bye")]),
            ("limits.nul", vec![must(), r(221, "bye")]),
            (
                "pipelining.unadvertised",
                vec![must(), must(), r(221, "bye")],
            ),
            ("relay.open", vec![must(), r(221, "bye")]),
            ("smuggle.lf-lf", vec![must(), r(221, "bye")]),
        ] {
            let c = ctx();
            if id == "pipelining.unadvertised" {
                // Only run where PIPELINING is not advertised.
                let mut i = vec![r(220, "mx ESMTP"), r(250, "mx")];
                i.extend(replies);
                let (o, _) = drive(id, c, i);
                assert_eq!(o.status, Status::Error, "{id}: {o:?}");
                assert!(o.summary.contains("--tls"), "{}", o.summary);
                continue;
            }
            let mut i = greet();
            i.extend(replies);
            let (o, _) = drive(id, c, i);
            assert_eq!(o.status, Status::Error, "{id}: {o:?}");
            assert!(
                o.summary.contains("wants STARTTLS or AUTH first"),
                "{id}: {}",
                o.summary
            );
        }
        // A refusal for the probed reason still passes.
        let mut i = greet();
        i.extend([r(501, "5.5.2 NUL"), r(221, "bye")]);
        assert_eq!(drive("limits.nul", ctx(), i).0.status, Status::Pass);
    }

    /// A `530` hides whether a line would be accepted, not how many commands the server read
    /// in it: `limits.bare-lf-command` and `limits.nul` both read a split under `530`s and say
    /// the refusals were the STARTTLS/AUTH policy; a lone `530` to the NUL line, whose verdict
    /// is the refusal, tested nothing (limits.nul was inconclusive on a split, bare-lf warned).
    #[test]
    fn under_530_the_limits_probes_read_the_count_alike() {
        let must = || r(530, "5.7.0 Must issue a STARTTLS command first");
        for (id, split) in [
            ("limits.bare-lf-command", Status::Warn),
            ("limits.nul", Status::Fail),
        ] {
            let mut i = greet();
            i.extend([must(), must(), r(221, "bye")]);
            i.extend([r(220, "mx"), r(250, "mx"), r(250, "ok"), r(221, "bye")]);
            let (o, _) = drive(id, ctx(), i);
            assert_eq!(o.status, split, "{id}: {o:?}");
            assert!(
                o.summary.contains("before STARTTLS or AUTH"),
                "{id}: {}",
                o.summary
            );
        }
        // One 530 to the NUL line: whether the NUL would be taken is not shown.
        let mut i = greet();
        i.extend([must(), r(221, "bye")]);
        let (o, _) = drive("limits.nul", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(o.summary.contains("--auth-user"), "{}", o.summary);
    }

    /// The 530 summary names the command refused, not the probe's step ("known refused with
    /// 530" named nothing the reader sent).
    #[test]
    fn a_530_summary_names_the_command_refused() {
        let must = || r(530, "5.7.0 Must issue a STARTTLS command first");
        let ok = || r(250, "2.1.0 Ok");
        for (id, replies, named) in [
            ("enum.vrfy", vec![must(), must(), r(221, "bye")], "VRFY"),
            ("enum.expn", vec![must(), must(), r(221, "bye")], "EXPN"),
            (
                "enum.rcpt",
                vec![ok(), must(), must(), ok(), r(221, "bye")],
                "RCPT",
            ),
            ("enum.rcpt", vec![must(), r(221, "bye")], "MAIL"),
            ("limits.nul", vec![must(), r(221, "bye")], "RSET<NUL>"),
            (
                "relay.open",
                vec![
                    ok(),
                    r(554, "5.7.1 Relay access denied"),
                    must(),
                    ok(),
                    r(221, "bye"),
                ],
                "RCPT",
            ),
        ] {
            let mut i = greet();
            i.extend(replies);
            let (o, _) = drive(id, ctx(), i);
            assert_eq!(o.status, Status::Error, "{id}: {o:?}");
            assert!(
                o.summary
                    .starts_with(&format!("{named} refused with 530 5.7.0 Must issue")),
                "{id}: {}",
                o.summary
            );
        }
    }

    /// A reply cut at the reader's size limit (a server sending 1 MiB without a line end):
    /// the transcript's `S:` line shows what was kept of it, escaped, and the size, as the
    /// send's transcript shows the kept lines and the cut. It showed an empty `S: ` line.
    #[test]
    fn a_reply_cut_at_the_size_limit_shows_its_start_and_size() {
        use crate::smtp::reply::{Limits, ReplyParser};
        for (head, want) in [
            (
                &b"220 "[..],
                "S: (cut off: a reply too large: 1 048 580 bytes without a line end passed the \
                 limit of 1 048 576 bytes and 1000 lines)",
            ),
            (
                &b"220-hello\x01\r\n220 "[..],
                "S: 220-hello\\x01 (cut off: a reply too large: 1 048 592 bytes in 2 lines, the \
                 last without a line end passed the limit of 1 048 576 bytes and 1000 lines)",
            ),
        ] {
            let mut buf = head.to_vec();
            buf.extend(std::iter::repeat_n(b'x', 1 << 20));
            let cut = ReplyParser::new(Limits::default())
                .next_reply(&mut buf)
                .expect("a reply cut at the limit");
            let (o, _) = drive("relay.open", ctx(), vec![Input::Reply(cut)]);
            assert_eq!(o.status, Status::Error, "{o:?}");
            let shown: Vec<String> = o.evidence["transcript"]
                .as_array()
                .expect("a transcript")
                .iter()
                .map(|l| l.as_str().unwrap_or_default().to_string())
                .collect();
            assert!(shown.iter().any(|l| l == want), "{shown:?}");
        }
    }

    /// Stop reasons name the command sent (`DATA`, `EHLO`, `MAIL`) and the greeting, not the
    /// probe's own step names: they read "data answered 250 OK …", "ehlo refused: …".
    #[test]
    fn stop_reasons_name_the_command() {
        let mut i = greet();
        i.extend([r(250, "OK"), r(250, "OK"), r(250, "OK")]);
        let (o, _) = drive("smuggle.lf-lf", ctx(), i);
        assert!(
            o.summary
                .contains("DATA answered 250 OK where RFC 5321 §4.3.2 has 354"),
            "{}",
            o.summary
        );
        let (o, _) = drive("relay.open", ctx(), vec![r(220, "mx"), r(554, "go away")]);
        assert!(
            o.summary.contains("EHLO refused: 554 go away"),
            "{}",
            o.summary
        );
        let mut i = greet();
        i.push(r(451, "try later"));
        let (o, _) = drive("relay.open", ctx(), i);
        assert!(
            o.summary.contains("MAIL deferred: 451 try later"),
            "{}",
            o.summary
        );
        let (o, _) = drive("relay.open", ctx(), vec![r(421, "busy")]);
        assert!(
            o.summary.contains("the greeting deferred: 421"),
            "{}",
            o.summary
        );
    }

    /// A `250` to DATA is no refusal (the old summary read "data refused: 250 OK") and
    /// not the sender's or recipient's fault: the summary says what RFC 5321 expects instead.
    #[test]
    fn a_completion_to_data_is_named_so() {
        let mut i = greet();
        i.extend([r(250, "OK"), r(250, "OK"), r(250, "OK")]);
        let (o, _) = drive("smuggle.lf-lf", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.summary
                .contains("DATA answered 250 OK where RFC 5321 §4.3.2 has 354"),
            "{}",
            o.summary
        );
        assert!(!o.summary.contains("--from"), "{}", o.summary);
    }

    /// One reply after QUIT and then silence (no `221`, no close) may be QUIT's answer: no
    /// split shown (a server answering `250` to every line made limits.line fail). A second
    /// one, or one before the `221`, is a split.
    #[test]
    fn one_unattributed_reply_after_quit_is_no_split() {
        for id in ["limits.line", "limits.bare-lf-command"] {
            let mut i = greet();
            i.extend([r(250, "OK"), r(250, "OK"), Input::TimedOut]);
            let (o, _) = drive(id, ctx(), i);
            assert_eq!(o.status, Status::Error, "{id}: {o:?}");
            assert!(o.summary.contains("may be QUIT's answer"), "{}", o.summary);
            let mut i = greet();
            i.extend([r(250, "OK"), r(250, "OK"), r(250, "OK"), Input::TimedOut]);
            let (o, _) = drive(id, ctx(), i);
            assert_ne!(o.status, Status::Error, "{id}: {o:?}");
            assert_ne!(o.status, Status::Pass, "{id}: {o:?}");
            // The `250` and then the close: QUIT's, nothing extra.
            let mut i = greet();
            i.extend([r(250, "OK"), r(250, "Bye"), Input::Closed]);
            assert_eq!(drive(id, ctx(), i).0.status, Status::Pass, "{id}");
        }
    }

    /// A peer whose greeting or EHLO reply is no SMTP (no code, or a line past the limit) is
    /// said to be so, not to have "refused" with "(no code)".
    #[test]
    fn a_reply_that_is_not_smtp_is_named_so() {
        let parse = |bytes: &[u8]| {
            let mut buf = bytes.to_vec();
            let mut p = crate::smtp::reply::ReplyParser::new(crate::smtp::reply::Limits::default());
            Input::Reply(
                p.next_reply(&mut buf)
                    .or_else(|| p.finish(&mut buf))
                    .unwrap(),
            )
        };
        let (o, _) = drive(
            "enum.vrfy",
            ctx(),
            vec![parse(b"HTTP/1.1 400 Bad Request\r\n")],
        );
        assert_eq!(o.status, Status::Error);
        assert!(
            o.summary
                .contains("the greeting is not SMTP: no reply code in 'HTTP/1.1"),
            "{}",
            o.summary
        );
        let mut long = vec![b'A'; 20_000];
        long.extend_from_slice(b"\r\n");
        let mut i = vec![r(220, "mx ESMTP")];
        i.push(parse(&long));
        let (o, _) = drive("enum.vrfy", ctx(), i);
        assert!(
            o.summary
                .contains("the reply to EHLO is not SMTP: a line of"),
            "{}",
            o.summary
        );
        assert!(!o.summary.contains("(no code)"), "{}", o.summary);
        // The early-talker probe says it the same way (it read "((no code) HTTP/1.1 …)").
        let (o, _) = drive(
            "pipelining.early-talker",
            ctx(),
            vec![parse(b"HTTP/1.1 400 Bad Request\r\n")],
        );
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.summary.contains(
                "the peer does not answer in SMTP: no reply code in 'HTTP/1.1 400 Bad Request'"
            ),
            "{}",
            o.summary
        );
        assert!(!o.summary.contains("(no code)"), "{}", o.summary);
    }

    /// A reply cut off at the size limit stops the probe: its rest would otherwise be read as
    /// the answers to MAIL, RCPT, QUIT… (an EHLO flood made relay.open fail on `250 XAAA…`).
    #[test]
    fn a_reply_cut_off_at_the_size_limit_ends_the_probe_inconclusive() {
        let flood = || {
            let mut buf = b"250-X\r\n".repeat(1200);
            let mut p = crate::smtp::reply::ReplyParser::new(crate::smtp::reply::Limits::default());
            let first = p.next_reply(&mut buf).unwrap();
            assert!(too_large(&first), "{first:?}");
            // The rest of the flood, as the parser would hand it on.
            (Input::Reply(first), r(250, "X"))
        };
        let (cut, rest) = flood();
        let mut i = vec![r(220, "mx ESMTP"), cut];
        i.extend([rest, r(250, "ok"), r(250, "ok"), r(221, "bye")]);
        let (o, sent) = drive("relay.open", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.summary
                .contains("the reply to EHLO is not SMTP: a reply too large"),
            "{}",
            o.summary
        );
        assert_eq!(sent.len(), 1, "nothing sent after the cut reply");
        // Cut off among the replies after QUIT: no extra reply counted either.
        let (cut, rest) = flood();
        let mut i = greet();
        i.extend([r(250, "ok"), cut, rest, r(221, "bye")]);
        let (o, _) = drive("limits.line", ctx(), i);
        assert_eq!(o.status, Status::Error, "{o:?}");
        assert!(
            o.summary.contains("the reply to QUIT is not SMTP"),
            "{}",
            o.summary
        );
    }

    #[test]
    fn preamble_failures_and_tls_preamble() {
        let (o, _) = drive("relay.open", ctx(), vec![r(421, "busy")]);
        assert_eq!(o.status, Status::Error);
        assert!(
            o.summary.contains("the greeting deferred: 421"),
            "{}",
            o.summary
        );
        let mut c = ctx();
        c.starttls = true;
        let (o, _) = drive("relay.open", c.clone(), vec![r(220, "mx"), r(250, "mx")]);
        assert_eq!(o.status, Status::Error);
        assert!(o.summary.contains("STARTTLS"), "{}", o.summary);
        let mut i = greet();
        i.extend([
            r(220, "go"),
            Input::TlsUp,
            r(250, "mx"),
            r(250, "ok"),
            r(550, "no relay"),
            r(250, "ok"),
            r(250, "ok"),
            r(221, "bye"),
        ]);
        let (o, sent) = drive("relay.open", c, i);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert_eq!(sent[1], b"STARTTLS\r\n");
        assert!(
            o.evidence["transcript"]
                .to_string()
                .contains("TLS handshake done")
        );
    }

    #[test]
    fn auth_plain_in_the_preamble_is_masked_and_not_for_relay() {
        let mut c = ctx();
        c.auth = Some(auth("PLAIN"));
        let caps = || Input::Reply(Reply::new(250, &["mx", "AUTH PLAIN LOGIN"]));
        let i = vec![
            r(220, "mx"),
            caps(),
            r(235, "ok"),
            r(252, "x"),
            r(252, "x"),
            r(221, "bye"),
        ];
        let (o, sent) = drive("enum.vrfy", c.clone(), i);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert_eq!(sent[1], b"AUTH PLAIN AGFsaWNlAHB3\r\n");
        let t = o.evidence["transcript"].to_string();
        assert!(
            t.contains("AUTH PLAIN ********") && !t.contains("AGFsaWNl"),
            "{t}"
        );
        // A refused AUTH: inconclusive, with the reply.
        let (o, _) = drive(
            "enum.vrfy",
            c.clone(),
            vec![r(220, "mx"), caps(), r(535, "5.7.8 bad")],
        );
        assert_eq!(o.status, Status::Error);
        assert!(o.summary.contains("AUTH refused: 535"), "{}", o.summary);
        // relay.open is about unauthenticated clients: no AUTH.
        let i = vec![
            r(220, "mx"),
            caps(),
            r(250, "ok"),
            r(554, "no"),
            r(250, "ok"),
            r(250, "ok"),
            r(221, "bye"),
        ];
        let (o, sent) = drive("relay.open", c.clone(), i);
        assert_eq!(o.status, Status::Pass);
        assert!(sent.iter().all(|b| !b.starts_with(b"AUTH")));
        // Not offered: inconclusive, nothing else sent.
        let (o, _) = drive("enum.vrfy", c, vec![r(220, "mx"), r(250, "mx")]);
        assert_eq!(o.status, Status::Error);
        assert!(o.summary.contains("AUTH PLAIN"), "{}", o.summary);
    }

    /// A 535 marks the outcome so the driver stops sending the credentials; a probe that
    /// would skip on the capabilities skips before AUTH.
    #[test]
    fn a_refused_password_is_marked_and_a_skipping_probe_sends_no_auth() {
        let mut c = ctx();
        c.auth = Some(auth("PLAIN"));
        let caps = || Input::Reply(Reply::new(250, &["mx", "PIPELINING", "AUTH PLAIN"]));
        let (o, _) = drive(
            "enum.vrfy",
            c.clone(),
            vec![r(220, "mx"), caps(), r(535, "5.7.8 bad")],
        );
        assert_eq!(o.evidence.get("auth_failed"), Some(&json!(true)), "{o:?}");
        // A 454 (temporary) is not a verdict on the password.
        let (o, _) = drive(
            "enum.vrfy",
            c.clone(),
            vec![r(220, "mx"), caps(), r(454, "4.7.0 try later")],
        );
        assert!(o.evidence.get("auth_failed").is_none(), "{o:?}");
        let (o, sent) = drive(
            "pipelining.unadvertised",
            c.clone(),
            vec![r(220, "mx"), caps()],
        );
        assert_eq!(o.status, Status::Skip, "{o:?}");
        assert!(sent.iter().all(|b| !b.starts_with(b"AUTH")), "{sent:?}");
        assert!(authenticates("enum.vrfy", &c));
        assert!(!authenticates("relay.open", &c));
        assert!(!authenticates("starttls.injection", &c));
        assert!(!authenticates("pipelining.early-talker", &c));
        assert!(!authenticates("enum.vrfy", &ctx()));
    }

    #[test]
    fn smuggle_references_name_a_cve_only_where_nvd_does() {
        let rfc = |id: &str| crate::check::model::find_in(PROBES, id).unwrap().rfc;
        // NVD's text for all three CVEs is the <LF>.<CR><LF> form.
        let named = rfc("smuggle.lf-crlf");
        for cve in ["CVE-2023-51764", "51765", "51766"] {
            assert!(named.contains(cve), "{named}");
        }
        let mut others = 0;
        for p in PROBES.iter().filter(|p| p.id.starts_with("smuggle.")) {
            if p.id == "smuggle.lf-crlf" {
                continue;
            }
            others += 1;
            assert!(!p.rfc.contains("CVE"), "{}: {}", p.id, p.rfc);
            assert!(
                p.rfc.contains("SEC Consult, Dec 2023"),
                "{}: {}",
                p.id,
                p.rfc
            );
        }
        assert_eq!(others, 9);
    }

    /// Postfix exempts `smtpd_forbid_bare_newline_exclusions` (default `$mynetworks`, loopback
    /// included) from the fix: an operator probing their own server from such an address sees
    /// the smuggle probes fail with the setting in place. The advice must say so, and must not
    /// credit Exim's DATA fix with refusing a bare LF in commands.
    #[test]
    fn smuggle_advice_names_postfixs_exclusions_and_exims_fix_as_it_is() {
        let smuggle = advice("smuggle.lf-lf");
        for want in [
            "smtpd_forbid_bare_newline_exclusions",
            "$mynetworks",
            "probe from outside it",
            "the default from 3.9",
            "3.7.10",
            "4.96-15+deb12u4",
            "LF-only mode",
        ] {
            assert!(smuggle.contains(want), "{want}: {smuggle}");
        }
        let bare = advice("limits.bare-lf-command");
        assert!(!bare.contains("refuses bare LF"), "{bare}");
        assert!(bare.contains("about the end of DATA only"), "{bare}");
    }

    /// Without STARTTLS the downgrade probe fails either way, but speaks of credentials only
    /// when AUTH is offered (aiosmtpd's sink offers neither).
    #[test]
    fn no_starttls_names_credentials_only_with_auth() {
        let run = |ehlo: &[&str]| {
            let mut i = vec![
                r(220, "mx"),
                Input::Reply(Reply::new(250, ehlo)),
                r(250, "ok"),
            ];
            i.extend([r(250, "ok"), r(221, "bye")]);
            drive("starttls.downgrade", ctx(), i).0
        };
        let o = run(&["mx", "8BITMIME"]);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(!o.summary.contains("credentials"), "{}", o.summary);
        assert!(o.summary.contains("no AUTH offered"), "{}", o.summary);
        let o = run(&["mx", "AUTH PLAIN LOGIN"]);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert!(
            o.summary.contains("AUTH PLAIN LOGIN is: passwords"),
            "{}",
            o.summary
        );
    }

    #[test]
    fn unadvertised_pipelining_passes_when_the_group_is_refused() {
        let no_pipelining = || Input::Reply(Reply::new(250, &["mx", "STARTTLS"]));
        // Exim's smtp_enforce_sync: the first command of the group is refused.
        let i = vec![
            r(220, "mx"),
            no_pipelining(),
            r(554, "5.5.0 SMTP synchronization error"),
        ];
        let (o, sent) = drive("pipelining.unadvertised", ctx(), i);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert!(o.summary.contains("554"), "{}", o.summary);
        assert_eq!(sent[1], b"RSET\r\nNOOP\r\n");
        // Postfix's reject_unauth_pipelining: the RSET is answered, the rest refused.
        let i = vec![
            r(220, "mx"),
            no_pipelining(),
            r(250, "2.0.0 Ok"),
            r(503, "5.5.0 Error: improper command pipelining"),
            r(221, "bye"),
        ];
        let (o, _) = drive("pipelining.unadvertised", ctx(), i);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert!(o.summary.contains("503"), "{}", o.summary);
        // Answered, then dropped: pass; answered both: warn (leniency, no hole).
        let i = vec![r(220, "mx"), no_pipelining(), r(250, "ok")];
        let (o, _) = drive("pipelining.unadvertised", ctx(), i);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        let i = vec![
            r(220, "mx"),
            no_pipelining(),
            r(250, "ok"),
            r(250, "ok"),
            r(221, "bye"),
        ];
        assert_eq!(
            drive("pipelining.unadvertised", ctx(), i).0.status,
            Status::Warn
        );
        // Silence after the group: inconclusive, not pass.
        let i = vec![r(220, "mx"), no_pipelining(), Input::TimedOut];
        assert_eq!(
            drive("pipelining.unadvertised", ctx(), i).0.status,
            Status::Error
        );
        // Advertised: nothing to test.
        assert_eq!(
            drive("pipelining.unadvertised", ctx(), greet()).0.status,
            Status::Skip
        );
    }

    #[test]
    fn auth_login_answers_the_challenges_with_the_password_masked() {
        let mut c = ctx();
        c.auth = Some(auth("LOGIN"));
        let caps = || Input::Reply(Reply::new(250, &["mx", "AUTH LOGIN CRAM-MD5"]));
        let i = vec![
            r(220, "mx"),
            caps(),
            r(334, "VXNlcm5hbWU6"),
            r(334, "UGFzc3dvcmQ6"),
            r(235, "2.7.0 ok"),
            r(252, "x"),
            r(252, "x"),
            r(221, "bye"),
        ];
        let (o, sent) = drive("enum.vrfy", c.clone(), i);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert_eq!(sent[1], b"AUTH LOGIN\r\n");
        assert_eq!(sent[2], b"YWxpY2U=\r\n"); // alice
        assert_eq!(sent[3], b"cHc=\r\n"); // pw
        assert!(sent[4].starts_with(b"VRFY "));
        let t = o.evidence["transcript"].to_string();
        assert!(t.contains("C: ********") && !t.contains("cHc="), "{t}");
        // A refusal after the password: inconclusive with the reply.
        let i = vec![
            r(220, "mx"),
            caps(),
            r(334, "VXNlcm5hbWU6"),
            r(334, "UGFzc3dvcmQ6"),
            r(535, "5.7.8 bad"),
        ];
        let (o, _) = drive("enum.vrfy", c.clone(), i);
        assert_eq!(o.status, Status::Error);
        assert!(o.summary.contains("AUTH refused: 535"), "{}", o.summary);
        // A challenge that is not base64: inconclusive, named.
        let i = vec![r(220, "mx"), caps(), r(334, "!!not base64!!")];
        let (o, _) = drive("enum.vrfy", c.clone(), i);
        assert_eq!(o.status, Status::Error);
        assert!(o.summary.contains("AUTH LOGIN"), "{}", o.summary);
        // A server that keeps challenging: stops after MAX_CHALLENGES, no loop.
        let mut i = vec![r(220, "mx"), caps()];
        i.extend((0..100).map(|_| r(334, "VXNlcm5hbWU6")));
        let (o, sent) = drive("enum.vrfy", c.clone(), i);
        assert_eq!(o.status, Status::Error);
        assert!(sent.len() <= MAX_CHALLENGES + 2, "{}", sent.len());
        // CRAM-MD5 not offered: inconclusive, nothing sent past EHLO.
        c.auth = Some(auth("CRAM-MD5"));
        let (o, sent) = drive(
            "enum.vrfy",
            c,
            vec![
                r(220, "mx"),
                Input::Reply(Reply::new(250, &["mx", "AUTH PLAIN"])),
            ],
        );
        assert_eq!(o.status, Status::Error);
        assert!(o.summary.contains("AUTH CRAM-MD5"), "{}", o.summary);
        assert_eq!(sent.len(), 1);
    }

    #[test]
    fn escape_shows_controls() {
        assert_eq!(escape(b"a\r\n\x00."), "a\\r\\n\\x00.");
        assert!(escape(&[b'x'; 4000]).ends_with("… (4000 bytes)"));
    }
}
