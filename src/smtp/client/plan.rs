//! What the client session will do, decided before any I/O: the `Plan` and its parts (greeting
//! verb, STARTTLS and AUTH policies, stop points, extensions, XCLIENT).

use crate::smtp::auth::Credentials;
use crate::smtp::codes::TlsAsked;
use crate::smtp::data::Fixup;
use crate::smtp::ext::{Attribute, Dsn};

/// Greeting verb (RFC 5321 EHLO/HELO, RFC 2033 LHLO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Protocol {
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
pub(crate) enum StartTls {
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
pub(crate) enum AuthRequirement {
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
pub(crate) struct AuthPlan {
    /// Mechanisms to try in order; empty = every advertised one ehlo supports, strongest first.
    pub(crate) mechanisms: Vec<String>,
    /// Requirement.
    pub(crate) requirement: AuthRequirement,
    /// Credentials.
    pub(crate) credentials: Credentials,
    /// Send AUTH even when not advertised (`--auth-force`).
    pub(crate) force: bool,
    /// Show the decoded exchange (`--auth-plaintext`).
    pub(crate) show_plaintext: bool,
    /// Do not mask secrets (`--show-secrets`).
    pub(crate) show_secrets: bool,
    /// Other names for mechanisms (swaks's `--auth-map ALIAS=TYPE`, upper case), on top of
    /// [`crate::smtp::auth::ALIASES`]: `AUTH ALIAS` is sent and run as TYPE.
    pub(crate) aliases: Vec<(String, String)>,
    /// The credentials may go over a connection without TLS: the user allowed it (a flag, or
    /// a confirmation asked before the run). Without it, AUTH over a connection that is not
    /// encrypted when AUTH is about to start (an optional STARTTLS the server did not offer or
    /// that failed) is refused before anything is sent.
    pub(crate) allow_plaintext: bool,
    /// When AUTH is about to start over a connection that is not encrypted and
    /// `allow_plaintext` is not set, ask (an [`super::Action::ConfirmPlaintextAuth`], answered
    /// with [`super::Session::plaintext_auth_answered`]) instead of refusing: the driver can
    /// put the question to the user.
    pub(crate) confirm_plaintext: bool,
}

impl AuthPlan {
    /// The mechanism a name runs: itself, or what an alias maps it to.
    pub(crate) fn resolve(&self, name: &str) -> String {
        let upper = name.to_ascii_uppercase();
        self.aliases
            .iter()
            .map(|(a, t)| (a.as_str(), t.as_str()))
            .chain(crate::smtp::auth::ALIASES.iter().copied())
            .find(|(a, _)| *a == upper)
            .map_or(upper, |(_, t)| t.to_string())
    }

    /// The aliases (the plan's, then the built-in ones) that run `mechanism`.
    pub(super) fn aliases_of<'a>(
        &'a self,
        mechanism: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.aliases
            .iter()
            .map(|(a, t)| (a.as_str(), t.as_str()))
            .chain(crate::smtp::auth::ALIASES.iter().copied())
            .filter(move |(_, t)| *t == mechanism)
            .map(|(a, _)| a)
    }
}

/// How a stop point ends the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopKind {
    /// Send QUIT after the reply (`--quit-after`).
    Quit,
    /// Close after reading the reply, without QUIT (`--drop-after`).
    Drop,
    /// Close right after sending the command (`--drop-after-send`).
    DropAfterSend,
}

/// Stop points (swaks's --quit-after / --drop-after / --drop-after-send).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopAt {
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
pub(crate) struct Stop {
    /// How.
    pub(crate) kind: StopKind,
    /// Where.
    pub(crate) at: StopAt,
}

/// Everything the session will do, decided before any I/O (built by `cli::mode`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    /// A PROXY protocol header (HAProxy PROXY protocol v1/v2) the session sends before
    /// anything else, the banner and TLS included.
    pub(crate) proxy: Option<Vec<u8>>,
    /// Also report every write as raw bytes ([`Event::RawSent`], secrets masked).
    ///
    /// [`Event::RawSent`]: crate::smtp::event::Event::RawSent
    pub(crate) raw_events: bool,
    /// Name for EHLO/HELO/LHLO.
    pub(crate) helo: String,
    /// Greeting verb.
    pub(crate) protocol: Protocol,
    /// STARTTLS policy. (Whether the transport is TLS from the start is the connection's
    /// business: the driver tells the session with [`Session::implicit_tls_established`].)
    ///
    /// [`Session::implicit_tls_established`]: super::Session::implicit_tls_established
    pub(crate) starttls: StartTls,
    /// What asked for STARTTLS, as typed: a hint on how to go on without TLS names it.
    pub(crate) tls_asked: TlsAsked,
    /// AUTH, if asked for.
    pub(crate) auth: Option<AuthPlan>,
    /// Reverse path ("" = null sender).
    pub(crate) from: String,
    /// Recipients in order.
    pub(crate) rcpts: Vec<String>,
    /// The envelope addresses with an ASCII local part at an internationalized domain, each
    /// with its domain in A-label form (RFC 5890 §2.3.2.1, RFC 5891 §4: the same domain), the
    /// form sent to a server that does not offer SMTPUTF8: only a non-ASCII local part needs
    /// the extension (RFC 6531 §3.2). Made where IDNA is known (`cli::mode`), not here.
    pub(crate) a_labels: Vec<(String, String)>,
    /// Extra MAIL parameters.
    pub(crate) mail_params: Vec<String>,
    /// Extra RCPT parameters.
    pub(crate) rcpt_params: Vec<String>,
    /// Message content before DATA fix-ups.
    pub(crate) message: Vec<u8>,
    /// DATA fix-ups.
    pub(crate) fixup: Fixup,
    /// Send MAIL, RCPTs and DATA in one write (RFC 2920) when advertised.
    pub(crate) pipeline: bool,
    /// Where to stop early.
    pub(crate) stop: Option<Stop>,
    /// A stop point's QUIT wants its `221` as the end's does: a close instead is an unexpected
    /// close (the send, as swaks's quit-after). Off for the checks' probe sessions, which stop
    /// at a point to look, not to judge the goodbye.
    pub(crate) stop_wants_goodbye: bool,
    /// ESMTP extensions to use.
    pub(crate) ext: ExtPlan,
}

/// Which ESMTP extensions to use (advertised → used; not advertised → an error, or sent anyway
/// with `force`). SIZE (RFC 1870) and 8BITMIME (RFC 6152) need no flag: `SIZE=` goes out
/// whenever it is advertised and `BODY=8BITMIME` whenever the content has 8-bit bytes.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExtPlan {
    /// `--smtputf8`: add `SMTPUTF8` (RFC 6531 §3.4) even when no address or header needs it.
    pub(crate) smtputf8: bool,
    /// DSN parameters (RFC 3461).
    pub(crate) dsn: Dsn,
    /// `REQUIRETLS` on MAIL (RFC 8689 §2); needs TLS.
    pub(crate) requiretls: bool,
    /// Send the content with BDAT (RFC 3030) in chunks of this size (0 = one chunk).
    pub(crate) bdat: Option<usize>,
    /// `PRDR` on MAIL (draft-hall-prdr): per-recipient replies after the content.
    pub(crate) prdr: bool,
    /// XCLIENT (Postfix) after the greeting.
    pub(crate) xclient: Option<XclientPlan>,
    /// XFORWARD attributes (Postfix), sent before MAIL.
    pub(crate) xforward: Vec<Attribute>,
    /// `--force-ext`: use extensions even when not advertised.
    pub(crate) force: bool,
}

/// XCLIENT (Postfix XCLIENT_README): attributes, then a 220 and a new EHLO.
#[derive(Debug, Clone, Default)]
pub(crate) struct XclientPlan {
    /// The XCLIENT commands in the order they are sent, each answered by a 220.
    pub(crate) commands: Vec<XclientCommand>,
    /// Send before STARTTLS rather than after.
    pub(crate) before_starttls: bool,
    /// What happens when XCLIENT is not advertised or refused.
    pub(crate) requirement: XclientRequirement,
    /// Do not check attributes against the advertised list.
    pub(crate) no_verify: bool,
}

/// XCLIENT policy (swaks `--xclient-optional`, `--xclient-optional-strict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum XclientRequirement {
    /// Fail (in the XCLIENT phase) if XCLIENT (or an attribute) is not advertised or the server refuses it.
    #[default]
    Required,
    /// Carry on without XCLIENT when it is not advertised or refused.
    Optional,
    /// Carry on without XCLIENT when it (or an attribute) is not advertised, but fail when the
    /// server refuses it.
    OptionalStrict,
}

/// One XCLIENT command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum XclientCommand {
    /// Attributes (`ADDR`, `NAME`, …), xtext-encoded when sent.
    Attrs(Vec<Attribute>),
    /// A raw argument string, sent as given (`--xclient`).
    Raw(String),
}

impl XclientPlan {
    /// Every attribute of every command (the ones checked against the advertised list).
    pub(crate) fn attrs(&self) -> Vec<Attribute> {
        self.commands
            .iter()
            .flat_map(|c| match c {
                XclientCommand::Attrs(a) => a.clone(),
                XclientCommand::Raw(_) => Vec::new(),
            })
            .collect()
    }
}
