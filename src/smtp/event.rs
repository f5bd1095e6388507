//! The one event vocabulary: everything ehlo observes (core and driver) becomes an [`Event`], and the
//! renderers (human or JSON Lines) are the only consumers. Also owns [`Phase`], [`Deviation`],
//! [`TlsInfo`] and the final [`Summary`].

use serde::Serialize;

use crate::smtp::codes::{Explanation, Hint};
use crate::smtp::reply::Reply;

/// Why a connection attempt failed, by kind (POSIX connect(2) ERRORS): set by the connection
/// layer where the attempt fails, read by whoever must tell one failure from another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectCause {
    /// Nothing listens there (`ECONNREFUSED`).
    Refused,
    /// No route to the network (`ENETUNREACH`), or the network is down (`ENETDOWN`).
    NetworkUnreachable,
    /// No route to the host (`EHOSTUNREACH`).
    HostUnreachable,
    /// The address cannot be used from here (`EADDRNOTAVAIL`).
    AddressUnavailable,
    /// Forbidden, typically by a firewall rule (`EACCES`, `EPERM`).
    PermissionDenied,
    /// No answer within the connect timeout (`--timeout`/`connect_timeout`, or `ETIMEDOUT`).
    TimedOut,
    /// The local address asked for (`--local-interface`) could not be resolved or bound.
    LocalAddress,
    /// Anything else (`reason` says what).
    Other,
}

/// Byte payload that serialises as `{"text": …}` when it is valid UTF-8 and `{"bytes": base64}` otherwise
/// (the ripgrep JSON convention).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        match std::str::from_utf8(&self.0) {
            Ok(t) => m.serialize_entry("text", t)?,
            Err(_) => m.serialize_entry(
                "bytes",
                &base64::engine::general_purpose::STANDARD.encode(&self.0),
            )?,
        }
        m.end()
    }
}

/// Where in the SMTP dialogue something happened. Each phase has its own swaks exit code
/// (see `crate::error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Resolving MX / A / AAAA records.
    Dns,
    /// Opening the TCP (or other) transport.
    Connect,
    /// Sending a PROXY protocol header.
    Proxy,
    /// Waiting for the 220 greeting (RFC 5321 §4.3.1).
    Banner,
    /// EHLO / HELO / LHLO before TLS (RFC 5321 §4.1.1.1).
    Helo,
    /// STARTTLS command and the TLS handshake (RFC 3207).
    StartTls,
    /// EHLO again after TLS was established.
    HeloAfterTls,
    /// XCLIENT (Postfix extension).
    Xclient,
    /// EHLO again after XCLIENT.
    HeloAfterXclient,
    /// AUTH exchange (RFC 4954).
    Auth,
    /// MAIL FROM (RFC 5321 §4.1.1.2).
    Mail,
    /// RCPT TO (RFC 5321 §4.1.1.3).
    Rcpt,
    /// The DATA command and its 354 (RFC 5321 §4.1.1.4).
    Data,
    /// The message content and the reply to the final dot.
    Dot,
    /// QUIT (RFC 5321 §4.1.1.10).
    Quit,
    /// Anything else (REPL commands, RSET, NOOP, …).
    Other,
}

impl Phase {
    /// Short upper-case label used in messages ("MAIL", "RCPT", …).
    pub(crate) fn label(self) -> &'static str {
        match self {
            Phase::Dns => "DNS",
            Phase::Connect => "connect",
            Phase::Proxy => "PROXY",
            Phase::Banner => "banner",
            Phase::Helo => "EHLO",
            Phase::StartTls => "STARTTLS",
            Phase::HeloAfterTls => "EHLO after TLS",
            Phase::Xclient => "XCLIENT",
            Phase::HeloAfterXclient => "EHLO after XCLIENT",
            Phase::Auth => "AUTH",
            Phase::Mail => "MAIL",
            Phase::Rcpt => "RCPT",
            Phase::Data => "DATA",
            Phase::Dot => "end of data",
            Phase::Quit => "QUIT",
            Phase::Other => "command",
        }
    }
}

/// A way in which the peer departed from the protocol that we tolerated and recorded instead of
/// failing or hanging (tolerate what can be tolerated, record it, never hang).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Deviation {
    /// A reply line ended in a bare LF instead of CRLF (RFC 5321 §2.3.8).
    BareLf,
    /// (`ehlo serve`) A command line from the client ended in a bare LF instead of CRLF (RFC
    /// 5321 §2.3.8); taken as the line end, as Postfix and Exim do.
    BareLfCommand,
    /// A CR that was not followed by LF inside a line.
    BareCr,
    /// A line of a multi-line reply carried a different code than the first line (RFC 5321
    /// §4.2.1). The reply's code is its last line's.
    MixedCodes {
        /// Code of the first line.
        first: u16,
        /// Code found on a later line.
        found: u16,
    },
    /// A line did not start with a three-digit code.
    MissingCode {
        /// The offending line (lossy UTF-8, truncated).
        line: String,
    },
    /// A code outside 2xx–5xx (e.g. 1xx or 6xx).
    OddCode {
        /// The code seen.
        code: u16,
    },
    /// The character after the code was neither space nor hyphen.
    BadSeparator {
        /// The line it was seen in (truncated).
        line: String,
    },
    /// A line longer than the parser's limit; the excess was discarded.
    OverlongLine {
        /// Number of bytes the line had (at least).
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A reply passed the parser's line or byte limit: it was cut there (the line that passed
    /// the limit is not kept) and nothing after it can be trusted.
    ReplyTooLarge {
        /// Bytes received for the reply when it was cut.
        bytes: usize,
        /// Lines received or started, the one that passed the limit included.
        lines: usize,
        /// The last of them had no line end yet.
        unfinished_line: bool,
        /// The byte limit in force.
        max_bytes: usize,
        /// The line limit in force.
        max_lines: usize,
    },
    /// The text was not valid UTF-8 (shown lossily).
    NotUtf8,
    /// The enhanced status code's class differs from the reply code's first digit (RFC 3463 §2).
    EnhancedClassMismatch {
        /// Basic code.
        code: u16,
        /// Enhanced code as text.
        enhanced: String,
    },
    /// The connection closed in the middle of a reply; the partial reply was kept.
    TruncatedAtClose,
    /// Bytes arrived after the 220 to STARTTLS and before the handshake (CVE-2011-0411 class);
    /// they were discarded.
    StartTlsInjection {
        /// The discarded bytes, as shown: `ehlo serve` keeps the first 512 with any credential
        /// masked, so [`Deviation::StartTlsInjection::len`] gives how many came.
        bytes: Bytes,
        /// How many bytes arrived, all of them.
        len: usize,
    },
    /// The server sent bytes nobody asked for (outside a pending command).
    UnsolicitedReply,
    /// (`ehlo repl`) The server went on sending replies nobody asked for, `replies` of them in
    /// a row: reading stopped there and the connection was closed, since a server that talks
    /// without end would fill the memory and the screen (a real one sends one or two: a 421
    /// before it closes).
    UnsolicitedFlood {
        /// How many unasked replies had come in a row when reading stopped.
        replies: usize,
    },
    /// A reply arrived (or began) before the command it is matched with was sent: the server
    /// talks early or is out of step, so every later reply may answer an earlier command.
    /// Reported once per session.
    EarlyReply,
    /// A reply line longer than the RFC 5321 §4.5.3.1.5 limit of 512 octets (kept whole).
    LongReplyLine {
        /// Length in octets including CRLF.
        len: usize,
    },
}

/// What kind of bytes a [`Event::Sent`] carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SentKind {
    /// An SMTP command line.
    Command,
    /// Message content (DATA body or BDAT chunk).
    Body,
    /// A SASL response line (may be redacted).
    Auth,
    /// Bytes typed or given raw by the user (REPL `:raw`).
    Raw,
    /// A PROXY protocol header.
    Proxy,
}

/// One peer certificate as presented in the handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub(crate) struct CertInfo {
    /// Subject as `/CN=…/O=…`.
    pub(crate) subject: String,
    /// Issuer as `/CN=…/O=…`.
    pub(crate) issuer: String,
    /// subjectAltName entries as `DNS:name` / `IP:addr`.
    pub(crate) sans: Vec<String>,
    /// notBefore, RFC 3339 UTC.
    pub(crate) not_before: String,
    /// notAfter, RFC 3339 UTC.
    pub(crate) not_after: String,
    /// Whole days until notAfter (negative once expired).
    pub(crate) days_left: i64,
    /// notBefore is still to come: the certificate is not valid yet (the transcript says so;
    /// JSON has `not_before`).
    #[serde(skip)]
    pub(crate) not_yet_valid: bool,
    /// SHA-256 fingerprint, hex with colons.
    pub(crate) sha256: String,
    /// The certificate in PEM (not serialised into JSON by default).
    #[serde(skip)]
    pub(crate) pem: String,
}

/// The verification verdict, computed even when verification is off (`--insecure`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub(crate) struct VerifyVerdict {
    /// Did the whole verification (chain + name) pass?
    pub(crate) ok: bool,
    /// Was verification enforced (false under `--insecure`)?
    pub(crate) enforced: bool,
    /// The name the certificate was checked against, if any.
    pub(crate) checked_name: Option<String>,
    /// Did the chain verify against the trust store?
    pub(crate) chain_ok: bool,
    /// Did the name match a SAN (or CN)?
    pub(crate) name_ok: bool,
    /// Which SAN/CN matched the name, if one did.
    pub(crate) matched: Option<String>,
    /// OpenSSL's reason when it failed (e.g. "self-signed certificate").
    pub(crate) reason: Option<String>,
    /// Only this part is enforced (swaks's `--tls-verify-ca` / `--tls-verify-host` alone);
    /// `None` = both, the chain and the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) only: Option<VerifyPart>,
    /// Why verification was not enforced when `--insecure` did not say so: the host's secure
    /// TLSA RRset has no usable record (`--tls-verify dane`, RFC 7672 §3.1.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) waived: Option<String>,
}

impl VerifyVerdict {
    /// Did the enforced part pass (the whole verdict, or only the part [`Self::only`] names)?
    pub(crate) fn passed(&self) -> bool {
        match self.only {
            None => self.ok,
            Some(VerifyPart::Chain) => self.chain_ok,
            Some(VerifyPart::Name) => self.name_ok,
        }
    }
}

/// One half of certificate verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum VerifyPart {
    /// The chain: issued by a trusted CA, within its validity dates.
    Chain,
    /// The name: a SAN (or CN) matches the name checked (RFC 6125).
    Name,
}

/// What a TLS handshake negotiated and what we learnt about the peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct TlsInfo {
    /// Protocol version, e.g. `TLSv1.3`.
    pub(crate) version: String,
    /// Cipher name, e.g. `TLS_AES_256_GCM_SHA384`.
    pub(crate) cipher: String,
    /// Secret bits of the cipher.
    pub(crate) bits: i32,
    /// SNI name sent, if any.
    pub(crate) sni: Option<String>,
    /// Peer certificates as sent, leaf first.
    pub(crate) chain: Vec<CertInfo>,
    /// The verification verdict.
    pub(crate) verify: VerifyVerdict,
    /// Did we present a client certificate (one was configured and the server asked)?
    pub(crate) client_cert_sent: bool,
    /// Did the server ask for one (a CertificateRequest, RFC 8446 §4.3.2)?
    pub(crate) client_cert_requested: bool,
    /// Was one configured (`--tls-cert`)? For the transcript's wording only.
    #[serde(skip)]
    pub(crate) client_cert_configured: bool,
    /// Was an OCSP response stapled?
    pub(crate) ocsp_stapled: bool,
    /// The DANE verdict, when TLSA records were given (`--tlsa`, `--tlsa-file`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dane: Option<DaneVerdict>,
}

/// DANE (RFC 7672): how the presented chain compares with the TLSA records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub(crate) struct DaneVerdict {
    /// Did a usable record authenticate the server?
    pub(crate) ok: bool,
    /// Was the verdict enforced (false under `--insecure`)?
    pub(crate) enforced: bool,
    /// Every record given, in presentation form.
    pub(crate) records: Vec<String>,
    /// Records that cannot be used for SMTP, each with the reason.
    pub(crate) ignored: Vec<String>,
    /// Reference names a DANE-TA leaf must carry.
    pub(crate) names: Vec<String>,
    /// The record that authenticated the server.
    pub(crate) matched: Option<String>,
    /// Chain depth of the certificate it matched (0 = leaf).
    pub(crate) matched_depth: Option<usize>,
    /// Per chain depth and (selector, matching type) in use: the digest and what matched it.
    pub(crate) evidence: Vec<DaneEvidence>,
    /// How the match authenticated (DANE-EE or DANE-TA), when it did.
    pub(crate) note: Option<String>,
    /// Why it failed, when it did.
    pub(crate) reason: Option<String>,
}

/// One line of DANE evidence: a certificate's association data and the records it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub(crate) struct DaneEvidence {
    /// Chain depth (0 = leaf).
    pub(crate) depth: usize,
    /// The certificate's subject.
    pub(crate) subject: String,
    /// `cert` (selector 0) or `spki` (selector 1).
    pub(crate) selector: String,
    /// `full`, `sha256` or `sha512`.
    pub(crate) mtype: String,
    /// The association data, lower-case hex.
    pub(crate) digest: String,
    /// Records (short form) that matched at this depth.
    pub(crate) matched: Vec<String>,
    /// Why the data could not be computed, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// What a TLS handshake negotiated, seen from the server's side (`ehlo serve`): the SNI the
/// client sent and whether a client certificate was asked for, rather than the client's
/// evidence in [`TlsInfo`] (SNI sent, server chain, verification verdict).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct AcceptedTls {
    /// Protocol version, e.g. `TLSv1.3`.
    pub(crate) version: String,
    /// Cipher name, e.g. `TLS_AES_256_GCM_SHA384`.
    pub(crate) cipher: String,
    /// Secret bits of the cipher.
    pub(crate) bits: i32,
    /// The SNI name the client sent (RFC 6066 §3), if any.
    pub(crate) sni_received: Option<String>,
    /// Did the server ask for a client certificate (CertificateRequest)?
    pub(crate) client_cert_requested: bool,
    /// Subject of the certificate the client presented, if it presented one.
    pub(crate) client_cert: Option<String>,
}

/// Result for one recipient, for the summary (swaks issue #58).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RecipientResult {
    /// The address as sent in RCPT TO.
    pub(crate) address: String,
    /// `accepted`, `temp_failed`, `perm_failed`, `not_attempted`, `no_reply` or
    /// `no_delivery_reply`.
    pub(crate) status: RcptStatus,
    /// Reply code, when there was a reply.
    pub(crate) code: Option<u16>,
    /// Enhanced code text, when there was one.
    pub(crate) enhanced: Option<String>,
    /// First line of the reply text.
    pub(crate) text: Option<String>,
    /// LMTP (RFC 2033 §4.2) and PRDR: this recipient's own reply after the message content.
    /// Absent when the server gives one reply for the whole message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) data_code: Option<u16>,
    /// Enhanced code of the per-recipient reply after the content, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) data_enhanced: Option<String>,
    /// First line of the per-recipient reply after the content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) data_text: Option<String>,
}

impl RecipientResult {
    /// A recipient not tried yet.
    pub(crate) fn new(address: impl Into<String>) -> RecipientResult {
        RecipientResult {
            address: address.into(),
            status: RcptStatus::NotAttempted,
            code: None,
            enhanced: None,
            text: None,
            data_code: None,
            data_enhanced: None,
            data_text: None,
        }
    }

    /// This recipient's RCPT TO went out: until its reply comes it is `no_reply`, not
    /// `not_attempted`.
    pub(crate) fn sent(&mut self) {
        if self.status == RcptStatus::NotAttempted {
            self.status = RcptStatus::NoReply;
        }
    }

    /// The reply to this recipient's RCPT TO: 250, 251 or 252 accepted (RFC 5321 §4.3.2; 252
    /// is the VRFY answer some servers give RCPT too), 4xx a temporary failure, anything else
    /// (another 2xx too: a reply to some other command) a permanent one (RFC 5321 §4.2.1).
    pub(crate) fn answered(&mut self, reply: &Reply) {
        self.status = match reply.code {
            Some(250..=252) => RcptStatus::Accepted,
            _ if reply.is_transient() => RcptStatus::TempFailed,
            _ => RcptStatus::PermFailed,
        };
        self.code = reply.code;
        self.enhanced = reply.enhanced.map(|e| e.to_string());
        self.text = Some(reply.text_without_codes());
    }

    /// This recipient's own reply after the content (LMTP, RFC 2033 §4.2; PRDR): the delivery
    /// verdict, the final word on it, so it is the recipient's status, code and text too;
    /// `delivered` says whether it is the success the protocol wants.
    pub(crate) fn delivery(&mut self, reply: &Reply, delivered: bool) {
        self.status = if delivered {
            RcptStatus::Accepted
        } else if reply.is_transient() {
            RcptStatus::TempFailed
        } else {
            RcptStatus::PermFailed
        };
        self.code = reply.code;
        self.enhanced = reply.enhanced.map(|e| e.to_string());
        self.text = Some(reply.text_without_codes());
        self.data_code = reply.code;
        self.data_enhanced = reply.enhanced.map(|e| e.to_string());
        self.data_text = Some(reply.text_without_codes());
    }

    /// LMTP (RFC 2033 §4.2) and PRDR: the content is out and this accepted recipient's own
    /// reply is due. Until it comes the recipient is not known to be delivered, whatever its
    /// RCPT reply said; a session that ends first (a close, a timeout) leaves it so. Its RCPT
    /// reply stays in `code` and `text`.
    pub(crate) fn awaiting_delivery(&mut self) {
        if self.status == RcptStatus::Accepted {
            self.status = RcptStatus::NoDeliveryReply;
        }
    }
}

/// Per-recipient status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RcptStatus {
    /// 2xx to RCPT.
    Accepted,
    /// 4xx to RCPT.
    TempFailed,
    /// 5xx (or anything else) to RCPT.
    PermFailed,
    /// The session stopped before this RCPT was sent.
    NotAttempted,
    /// The RCPT went out but its reply never came (the connection closed, a timeout or
    /// `--deadline` cut the run, or `--drop-after rcpt`): neither accepted nor refused.
    NoReply,
    /// LMTP (RFC 2033 §4.2) or PRDR: the RCPT was accepted and the content sent, but the
    /// recipient's own reply after the content never came (the server closed the connection
    /// or went silent): not known to be delivered.
    NoDeliveryReply,
}

/// What an [`Event::Timing`] measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timed {
    /// DNS lookups (MX and addresses) before connecting.
    Dns,
    /// Opening the connection (TCP connect attempts, a socket, a child process).
    Connect,
    /// A TLS handshake (implicit TLS or after STARTTLS).
    TlsHandshake,
    /// Waiting for a reply, from the last write (or the connection) to the reply's last line.
    Reply,
}

/// Time spent in one phase, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PhaseTiming {
    /// The phase.
    pub(crate) phase: Phase,
    /// Milliseconds.
    pub(crate) ms: f64,
}

impl PhaseTiming {
    /// Count a [`Event::Timing`] towards its phase's total (the summary's `timings`, in the
    /// order the phases first took time); other events change nothing.
    pub(crate) fn add(totals: &mut Vec<PhaseTiming>, event: &Event) {
        let Event::Timing { phase, ms, .. } = event else {
            return;
        };
        match totals.iter_mut().find(|t| t.phase == *phase) {
            Some(t) => t.ms += ms,
            None => totals.push(PhaseTiming {
                phase: *phase,
                ms: *ms,
            }),
        }
    }
}

/// Final summary of a run (always the last JSON line).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Summary {
    /// The process exit code this run ends with.
    pub(crate) exit_code: u8,
    /// `ok` or a short machine-readable failure label (e.g. `rcpt_rejected`, `timeout`).
    pub(crate) outcome: String,
    /// One-line human reason when the run failed.
    pub(crate) error: Option<String>,
    /// The server the run talked to, `None` when no connection was made. A send names the host
    /// it connected to (as given, or the MX host that answered), a space and the socket address
    /// in brackets: `mx.example.net [192.0.2.1:25]`, `127.0.0.1 [127.0.0.1:2525]`; `unix:PATH`
    /// over a UNIX socket, `pipe:COMMAND` over a child process. `ehlo repl` and `ehlo replay` name
    /// the last server they connected to the same way.
    pub(crate) server: Option<String>,
    /// Negotiated TLS version, if TLS was used.
    pub(crate) tls: Option<String>,
    /// Per-recipient results.
    pub(crate) recipients: Vec<RecipientResult>,
    /// Did the server accept the message after the final dot?
    pub(crate) message_accepted: Option<bool>,
    /// Per-phase timings.
    pub(crate) timings: Vec<PhaseTiming>,
    /// The send's failures on its way to a server, in the order met: MX hosts and addresses
    /// that failed before the one it talked to, or all of them when none answered (left out of
    /// the JSON when there were none). `error` says the same in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) failover: Vec<FailoverFailure>,
}

/// One failure of a send's failover ([`Summary::failover`]): a connection attempt that failed,
/// a server left for the next because it never greeted, or a host left out before any attempt
/// (its DNS or TLSA lookup failed...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailoverFailure {
    /// The host as routed (an MX host, or the server as given).
    pub(crate) host: String,
    /// The address tried (`192.0.2.1:25`, `[2001:db8::1]:25`); `None` for a host left out
    /// before any attempt.
    pub(crate) address: Option<String>,
    /// Why, in words.
    pub(crate) reason: String,
}

/// Where events go: the run's one renderer, or a list in tests. The driver and the connection
/// layer hand every event here with `elapsed`, the time since the run started (measured by the
/// caller: the core has no clock).
pub(crate) trait Sink {
    /// Take one event.
    fn event(&mut self, event: &Event, elapsed: std::time::Duration);
}

/// The PROXY protocol header a connection to `ehlo serve --accept-proxy` began with
/// ([`Event::Connected`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyVia {
    /// 1 (text) or 2 (binary).
    pub(crate) version: u8,
    /// The proxy: the connection's own peer address.
    pub(crate) via: String,
    /// Did the header name the client (v1 `TCP4`/`TCP6`, v2 `PROXY` with IPv4/IPv6 addresses)?
    /// Not for v1 `UNKNOWN`, v2 `LOCAL` or v2 without such addresses.
    pub(crate) named: bool,
}

/// Everything that can be reported. Serialised as `{"type": "<variant>", "data": {…}}` by the JSON
/// renderer (which adds `t_ms`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// Informational message (swaks `===`); like [`Event::Warning`], its remedies are worded
    /// by the front end.
    Info {
        /// Text, with its remedies.
        message: Hint,
    },
    /// Something worth a warning, not fatal. What it advises doing is kept as [`Remedy`]
    /// values inside the text, for the front end to word (JSON: the send's words).
    ///
    /// [`Remedy`]: crate::smtp::codes::Remedy
    Warning {
        /// Text, with its remedies.
        message: Hint,
    },
    /// Something the run does other than swaks would for the same command line (a repeated
    /// `-t` sent to every recipient, a header sent RFC 2047 encoded): an [`Event::Warning`]
    /// (`warning`) or [`Event::Info`] that swaks's silent levels (`-S 1`, `-S 2`) must not
    /// hide, since the run would otherwise differ without a word. JSON Lines writes it as the
    /// `warning` or `info` it is.
    UnlikeSwaks {
        /// Text.
        message: String,
        /// A warning (`!!!`) rather than information (`===`).
        warning: bool,
    },
    /// `ehlo replay`: replies that differ from the script's expectations (one event per
    /// difference).
    ReplayMismatch {
        /// Line of the script's input (0: the banner).
        line: usize,
        /// The input (`(banner)` for the banner).
        command: String,
        /// What the script expects, in order (`250`, `25x 2.1.5`).
        expected: Vec<String>,
        /// What came, in order (codes, with the enhanced code when the script names one).
        got: Vec<String>,
        /// The first reply that differs, whole (the `received` event's shape).
        reply: Option<Box<crate::smtp::reply::Reply>>,
        /// The phase it happened in; `None` when the server had closed the connection.
        phase: Option<Phase>,
        /// The exit code this difference means.
        exit_code: u8,
    },
    /// Text an interactive session shows its user as it is, without a transcript hint (REPL
    /// `:help`, `:caps`, `:explain`, notices such as "connection closed — :reconnect or :quit").
    Note {
        /// Text (may span lines).
        text: String,
    },
    /// What `--dump-mail` (`what: "mail"`), `--dump` (`"settings"`) and `--dump-config`
    /// (`"config"`) print instead of sending, as one JSON Lines event under `--json`.
    Dump {
        /// Which dump.
        what: String,
        /// The text printed without `--json` (a message's bytes not UTF-8 as U+FFFD).
        text: String,
    },
    /// An error (swaks `***`, printed on stderr).
    Error {
        /// Text.
        message: String,
    },
    /// A DNS question was asked.
    DnsQuery {
        /// Name asked for.
        name: String,
        /// What was asked: `MX`, `A/AAAA` (one lookup of a host's addresses), `TLSA`.
        rtype: String,
    },
    /// A lookup failed (NXDOMAIN, no address, SERVFAIL, timeout...): a host's addresses (the
    /// host is left out; said in words by a warning when another host is left to try, else by
    /// the result), a domain's MX (nothing to try; the result says why), or a host's TLSA
    /// records under DANE (the host is left out, RFC 7672 §2.2; a warning says so).
    DnsFailed {
        /// Name asked for.
        name: String,
        /// What was asked (`A/AAAA`, `MX`, `TLSA`).
        rtype: String,
        /// Why, in words (`mx.example.net does not exist (NXDOMAIN)`).
        reason: String,
    },
    /// A DNS answer arrived.
    DnsAnswer {
        /// Name asked for.
        name: String,
        /// Record type.
        rtype: String,
        /// Records as text (`10 mx.example.net` for MX, no trailing dot; addresses for A/AAAA).
        records: Vec<String>,
        /// DNSSEC proof of the records (`secure`, `insecure`, `bogus`, `indeterminate`, RFC 4035
        /// §4.3) when answers are validated (`--dnssec validate` or `trust-ad`); absent otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        proof: Option<String>,
    },
    /// How the server's certificate will be authenticated (`--tls-verify dane`, RFC 7672 §2.2):
    /// by its TLSA records or by the CA store, and why.
    TlsPolicy {
        /// The host it applies to.
        host: String,
        /// `dane` (the TLSA records authenticate the server), `encrypt` (a secure TLSA RRset
        /// without a usable record: TLS without authentication, RFC 7672 §3.1.3) or `pkix` (the
        /// CA store and name).
        policy: String,
        /// TLS is mandatory for this host (a secure TLSA RRset was found).
        tls_required: bool,
        /// Why, in one line (the TLSA owner and its DNSSEC proof).
        reason: String,
    },
    /// About to connect.
    Connecting {
        /// Host name (or literal) being connected to.
        host: String,
        /// Socket address.
        addr: String,
    },
    /// Connection established.
    Connected {
        /// Host name.
        host: String,
        /// Peer socket address.
        peer: String,
        /// Local socket address.
        local: String,
        /// `ehlo serve --accept-proxy`: the PROXY protocol header the connection began with.
        /// `host`, `peer` and `local` are then the client and the address it connected to, as
        /// the header names them (as Postfix logs them), or the connection's own when it names
        /// none (v1 `UNKNOWN`, v2 `LOCAL`). Left out of the JSON otherwise.
        #[serde(skip_serializing_if = "Option::is_none")]
        proxy: Option<ProxyVia>,
    },
    /// A connection attempt failed (there may be more attempts).
    ConnectFailed {
        /// Host name.
        host: String,
        /// Address tried.
        addr: String,
        /// Why.
        reason: String,
        /// Why, as a kind the connection layer set where the attempt failed (so a reader
        /// never parses `reason` back).
        cause: ConnectCause,
        /// The operating system's error number, when the OS refused the attempt (`errno` of
        /// connect(2)/bind(2)); `None` for a timeout or a failure of ehlo's own.
        os_error: Option<i32>,
    },
    /// Bytes written to the server (display form: secrets already masked).
    Sent {
        /// Text as shown (without the trailing CRLF for commands).
        text: String,
        /// What kind of bytes.
        kind: SentKind,
        /// Number of bytes on the wire.
        bytes: usize,
        /// Number of lines (for bodies).
        lines: usize,
        /// Sent over TLS?
        tls: bool,
        /// Part of the expected flow (swaks ` ->`) or not (`**>`).
        expected: bool,
        /// Did masking hide a secret in `text`?
        redacted: bool,
        /// Phase it belongs to.
        phase: Phase,
    },
    /// A complete reply from the server.
    Received {
        /// The parsed reply.
        reply: Reply,
        /// Received over TLS?
        tls: bool,
        /// Was it the kind of reply the step wanted?
        expected: bool,
        /// Phase it answers.
        phase: Phase,
        /// Explanation of the codes in this context.
        explanation: Explanation,
    },
    /// Raw bytes written (for `--show-raw-text`; secrets masked).
    RawSent {
        /// Bytes.
        bytes: Bytes,
    },
    /// Raw bytes read (for `--show-raw-text`).
    RawReceived {
        /// Bytes.
        bytes: Bytes,
    },
    /// A tolerated protocol deviation not tied to one reply.
    Deviation {
        /// What.
        deviation: Deviation,
        /// Where.
        phase: Phase,
    },
    /// TLS handshake finished.
    TlsStarted {
        /// Negotiated parameters and peer evidence.
        info: TlsInfo,
    },
    /// The server renegotiated TLS (TLS 1.2, RFC 5746) and presented a different certificate:
    /// the one now in use, judged as the first handshake's was (`verify`, and `dane` when TLSA
    /// records apply). The [`Event::TlsStarted`] before it shows the first handshake's.
    TlsRenegotiated {
        /// The renegotiated handshake's parameters and the new certificate's evidence.
        info: TlsInfo,
    },
    /// Server's point of view (`ehlo serve`): the listener is bound, at this address.
    Listening {
        /// The socket address bound (`127.0.0.1:2525`; the real port when 0 was asked for).
        address: String,
    },
    /// Server's point of view (`ehlo serve`): a TLS handshake with a client finished.
    TlsAccepted {
        /// Negotiated parameters and what the client sent.
        info: AcceptedTls,
    },
    /// TLS handshake failed.
    TlsFailed {
        /// Why, with what to do (each front end words the remedies; JSON in the send's flags).
        reason: crate::smtp::codes::Hint,
    },
    /// Something took this long: `what` says what was timed, `phase` where.
    Timing {
        /// What was measured.
        what: Timed,
        /// Phase.
        phase: Phase,
        /// Milliseconds.
        ms: f64,
    },
    /// The connection ended.
    Closed {
        /// Was it the normal end (after QUIT or a requested drop)?
        expected: bool,
    },
    /// Final summary: always the last event.
    Summary(Summary),
    /// Server's point of view (`ehlo serve`): one command line (or SASL response line) read from
    /// the client. Secrets in AUTH lines are masked.
    ClientCommand {
        /// The line as shown, without CRLF (lossy UTF-8, secrets masked).
        text: String,
        /// Read over TLS?
        tls: bool,
        /// Phase the command belongs to.
        phase: Phase,
        /// Did masking hide a secret in `text`?
        redacted: bool,
    },
    /// Server's point of view (`ehlo serve`): a reply we wrote to the client.
    ServerReply {
        /// The reply, `raw` being the exact bytes written.
        reply: Reply,
        /// Written over TLS?
        tls: bool,
        /// Phase it answers.
        phase: Phase,
    },
    /// Server's point of view (`ehlo serve`): a message was accepted and stored.
    MessageStored {
        /// Envelope sender ("" = null sender).
        from: String,
        /// Accepted recipients.
        rcpts: Vec<String>,
        /// Size of the content in octets.
        bytes: usize,
        /// Maildir file or mbox it was written to, if any; with both, the two joined with
        /// `, ` (kept so for compatibility: [`Event::MessageStored::paths`] lists them apart).
        path: Option<String>,
        /// Every file it was written to: the Maildir file, then the mbox; empty when it was
        /// not stored. Additive to `path`.
        paths: Vec<String>,
        /// The queue id given in the reply.
        id: String,
        /// The start of the content received, exact (after un-stuffing): all of it up to 64 KiB
        /// (`ehlo serve`'s `SHOWN_BYTES`; `bytes` is the whole size, the Maildir or mbox has
        /// the rest), empty with `--quiet`.
        content: Bytes,
    },
}

/// `bytes` rewritten as text by `f` when it is UTF-8 (the JSON `text` form), else kept.
fn bytes_mut(bytes: &mut Bytes, f: &mut dyn FnMut(&mut String)) {
    match String::from_utf8(std::mem::take(&mut bytes.0)) {
        Ok(mut t) => {
            f(&mut t);
            bytes.0 = t.into_bytes();
        }
        Err(e) => bytes.0 = e.into_bytes(),
    }
}

fn reply_mut(reply: &mut Reply, f: &mut dyn FnMut(&mut String)) {
    reply.lines.iter_mut().for_each(&mut *f);
    bytes_mut(&mut reply.raw, f);
    reply
        .deviations
        .iter_mut()
        .for_each(|d| deviation_mut(d, f));
}

/// The server's own lines some deviations quote.
fn deviation_mut(deviation: &mut Deviation, f: &mut dyn FnMut(&mut String)) {
    match deviation {
        Deviation::MissingCode { line } | Deviation::BadSeparator { line } => f(line),
        Deviation::EnhancedClassMismatch { enhanced, .. } => f(enhanced),
        Deviation::StartTlsInjection { bytes, .. } => bytes_mut(bytes, f),
        _ => {}
    }
}

fn tls_info_mut(info: &mut TlsInfo, f: &mut dyn FnMut(&mut String)) {
    let v = &mut info.verify;
    for t in [
        &mut info.sni,
        &mut v.checked_name,
        &mut v.matched,
        &mut v.reason,
        &mut v.waived,
    ]
    .into_iter()
    .flatten()
    {
        f(t);
    }
    if let Some(d) = info.dane.as_mut() {
        d.names.iter_mut().for_each(&mut *f);
    }
}

impl Event {
    /// Every text this event carries, to be rewritten in place: the REPL passes each event
    /// it writes (screen, `--log`) through the secrets its session has seen, whatever layer
    /// made it (a DNS name from `src/net`, a warning quoting a typed line). The match names
    /// every variant, so a new one must say what text it holds.
    pub(crate) fn texts_mut(&mut self, f: &mut dyn FnMut(&mut String)) {
        match self {
            Event::Info { message }
            | Event::Warning { message }
            | Event::TlsFailed { reason: message } => message.texts_mut(f),
            Event::UnlikeSwaks { message, .. } | Event::Error { message } => f(message),
            Event::Note { text } | Event::Sent { text, .. } | Event::ClientCommand { text, .. } => {
                f(text)
            }
            Event::Dump { what, text } => {
                f(what);
                f(text);
            }
            Event::ReplayMismatch {
                command,
                expected,
                got,
                reply,
                ..
            } => {
                f(command);
                expected.iter_mut().chain(got.iter_mut()).for_each(&mut *f);
                if let Some(r) = reply.as_mut() {
                    reply_mut(r, f);
                }
            }
            Event::DnsQuery { name, rtype } => {
                f(name);
                f(rtype);
            }
            Event::DnsFailed {
                name,
                rtype,
                reason,
            } => {
                f(name);
                f(rtype);
                f(reason);
            }
            Event::DnsAnswer {
                name,
                rtype,
                records,
                proof,
            } => {
                f(name);
                f(rtype);
                records.iter_mut().chain(proof.iter_mut()).for_each(&mut *f);
            }
            Event::TlsPolicy {
                host,
                policy,
                reason,
                ..
            } => {
                f(host);
                f(policy);
                f(reason);
            }
            Event::Connecting { host, addr } => {
                f(host);
                f(addr);
            }
            Event::Connected {
                host, peer, local, ..
            } => {
                f(host);
                f(peer);
                f(local);
            }
            Event::ConnectFailed {
                host, addr, reason, ..
            } => {
                f(host);
                f(addr);
                f(reason);
            }
            Event::Received {
                reply, explanation, ..
            } => {
                reply_mut(reply, f);
                if let Some(h) = explanation.hint.as_mut() {
                    h.texts_mut(f);
                }
            }
            Event::ServerReply { reply, .. } => reply_mut(reply, f),
            Event::RawSent { bytes } | Event::RawReceived { bytes } => bytes_mut(bytes, f),
            Event::TlsStarted { info } | Event::TlsRenegotiated { info } => tls_info_mut(info, f),
            Event::TlsAccepted { info } => {
                for t in [&mut info.sni_received, &mut info.client_cert]
                    .into_iter()
                    .flatten()
                {
                    f(t);
                }
            }
            Event::Listening { address } => f(address),
            Event::Summary(s) => {
                for t in [&mut s.error, &mut s.server, &mut s.tls]
                    .into_iter()
                    .flatten()
                {
                    f(t);
                }
                for r in &mut s.recipients {
                    f(&mut r.address);
                    if let Some(t) = r.text.as_mut() {
                        f(t);
                    }
                }
                for x in &mut s.failover {
                    f(&mut x.host);
                    f(&mut x.reason);
                    if let Some(a) = x.address.as_mut() {
                        f(a);
                    }
                }
            }
            Event::MessageStored {
                from,
                rcpts,
                path,
                paths,
                id,
                content,
                ..
            } => {
                f(from);
                f(id);
                rcpts
                    .iter_mut()
                    .chain(paths.iter_mut())
                    .chain(path.iter_mut())
                    .for_each(&mut *f);
                bytes_mut(content, f);
            }
            Event::Deviation { deviation, .. } => deviation_mut(deviation, f),
            // Kinds, times and flags: no text.
            Event::Timing { .. } | Event::Closed { .. } => {}
        }
    }

    /// An informational message whose text names no remedy (taken as it is).
    /// A reply that answers no command (unsolicited, too large, cut off by the close), with
    /// the explanation of its code for `phase`.
    pub(crate) fn unanswering(reply: Reply, tls: bool, phase: Phase) -> Event {
        let explanation = crate::smtp::codes::explain(&reply, phase);
        Event::Received {
            reply,
            tls,
            expected: false,
            phase,
            explanation,
        }
    }

    pub(crate) fn info(text: impl Into<String>) -> Event {
        Event::Info {
            message: Hint::plain(text),
        }
    }

    /// A difference from swaks ([`Event::UnlikeSwaks`]): a warning or, `warning` false, info.
    pub(crate) fn unlike_swaks(text: impl Into<String>, warning: bool) -> Event {
        Event::UnlikeSwaks {
            message: text.into(),
            warning,
        }
    }

    /// A warning whose text names no remedy (taken as it is).
    pub(crate) fn warning(text: impl Into<String>) -> Event {
        Event::Warning {
            message: Hint::plain(text),
        }
    }
}

/// `n` with a space between groups of three digits (`102 404`), for counts shown to people.
pub(crate) fn group_digits(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The ending of a counted English noun: `""` for one, `"s"` for any other count (`0 lines`,
/// `1 line`, `2 lines`). The one place the rule is written; every "N thing(s)" uses it.
pub(crate) fn plural_s<N: PartialEq + From<u8>>(n: N) -> &'static str {
    if n == N::from(1) { "" } else { "s" }
}

/// `"1 byte"`, `"102 404 bytes"`.
pub(crate) fn count_bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{} bytes", group_digits(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One is singular, every other count (zero included) plural, whatever the integer type.
    #[test]
    fn a_count_of_one_is_singular() {
        assert_eq!(plural_s(1usize), "");
        assert_eq!(plural_s(0usize), "s");
        assert_eq!(plural_s(2u64), "s");
        assert_eq!(plural_s(1u32), "");
        assert_eq!(plural_s(11usize), "s");
        assert_eq!(plural_s(-1i64), "s");
    }
}
