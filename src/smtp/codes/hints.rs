//! Hints: what a reply means in its context and what to do about it ("530 after MAIL → add
//! ⟨tls⟩"), vendor-specific hints marked as such.

use super::Known;
use super::remedy::Hint;
use crate::smtp::event::Phase;
use crate::smtp::reply::{EnhancedCode, Reply};

/// What a reply to STARTTLS other than 220 means when it is no refusal either: only 220 starts
/// TLS (RFC 3207 §4), so a 250 (or any other code outside 4xx/5xx) leaves the session in plain
/// text although the server did not refuse. `None` for a 4xx/5xx, which is a refusal. One
/// sentence, the same whether the session then carries on without TLS or ends with exit 29.
pub(crate) fn starttls_not_started(reply: &Reply) -> Option<String> {
    let answered = match reply.code {
        Some(220) | Some(400..=599) => return None,
        Some(c) => format!("answered {c:03}"),
        None => "answered without a reply code".to_string(),
    };
    Some(format!(
        "STARTTLS was {answered}, not 220 (RFC 3207 §4): TLS not started"
    ))
}

/// At most this many bytes of reply text are scanned for keywords, so a hostile multi-megabyte
/// reply costs no more than a short one.
const SCAN_LIMIT: usize = 4096;

/// What the hint rules look at.
pub(super) struct Ctx {
    code: u16,
    enhanced: Option<EnhancedCode>,
    /// Lower-cased, bounded reply text (all lines, joined with spaces).
    text: String,
    phase: Phase,
    /// What the session knows of itself (nothing for `ehlo explain`).
    known: Known,
}

impl Ctx {
    pub(super) fn new(reply: &Reply, code: u16, phase: Phase) -> Ctx {
        let mut text = String::new();
        for line in &reply.lines {
            if text.len() >= SCAN_LIMIT {
                break;
            }
            let room = SCAN_LIMIT - text.len();
            let mut end = line.len().min(room);
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            // Servers repeat the enhanced code on every line (`550-5.7.26 …`); without it a
            // phrase wrapped over two lines still reads as one.
            let part = &line[..end];
            let part = match crate::smtp::reply::parse_enhanced(part) {
                Some(_) => part.split_once(' ').map(|(_, r)| r).unwrap_or(""),
                None => part,
            };
            text.push_str(&part.to_lowercase());
            text.push(' ');
        }
        Ctx {
            code,
            enhanced: reply.enhanced,
            text,
            phase,
            known: Known::default(),
        }
    }

    pub(super) fn has(&self, words: &[&str]) -> bool {
        words.iter().any(|w| self.text.contains(w))
    }

    /// One of `words` stands as a word of its own (not inside "garbled" for "rbl").
    pub(super) fn has_word(&self, words: &[&str]) -> bool {
        self.text
            .split(|ch: char| !ch.is_alphanumeric())
            .any(|w| words.contains(&w))
    }

    /// One of `names` stands as a name of its own: no letter, digit, `-` or `_` touches it on
    /// either side, so "xnotify=never" does not name NOTIFY (an esmtp-keyword is letters,
    /// digits and `-`, RFC 5321 §4.1.2). A name ending in a separator ("ret=") needs the
    /// boundary on its left only. One left-to-right pass per name: linear in the (bounded) text.
    pub(super) fn has_token(&self, names: &[&str]) -> bool {
        let inner = |ch: char| ch.is_alphanumeric() || ch == '-' || ch == '_';
        names.iter().any(|name| {
            self.text.match_indices(name).any(|(at, _)| {
                let before = self.text[..at].chars().next_back();
                let after = self.text[at + name.len()..].chars().next();
                !before.is_some_and(inner)
                    && (!name.ends_with(|c: char| c.is_alphanumeric()) || !after.is_some_and(inner))
            })
        })
    }

    /// The enhanced code is `_.subject.detail` (any class).
    pub(super) fn enh(&self, subject: u16, detail: u16) -> bool {
        self.enhanced
            .is_some_and(|e| e.subject == subject && e.detail == detail)
    }

    pub(super) fn enh_subject(&self, subject: u16) -> bool {
        self.enhanced.is_some_and(|e| e.subject == subject)
    }

    pub(super) fn class(&self) -> u16 {
        self.code / 100
    }
}

/// Hints for something that is not an SMTP reply at all (no code), as an answer in `phase`.
fn garbage_hint(reply: &Reply, phase: Phase) -> String {
    let raw: &[u8] = if reply.raw.0.is_empty() {
        reply.lines.first().map(|l| l.as_bytes()).unwrap_or(b"")
    } else {
        &reply.raw.0
    };
    // TLS record header: content type 0x15 (alert) or 0x16 (handshake), version major 3.
    if raw.len() >= 2 && matches!(raw[0], 0x15 | 0x16) && raw[1] == 0x03 {
        return "this port speaks implicit TLS, not plain SMTP: try ⟨tls-on-connect⟩".to_string();
    }
    let head: String = String::from_utf8_lossy(&raw[..raw.len().min(256)]).to_ascii_lowercase();
    let head = head.trim_start();
    if head.starts_with("http/")
        || head.starts_with("<!doctype")
        || head.starts_with("<html")
        || head.contains("<html")
    {
        return "this is an HTTP server, not SMTP: check the host and port (SMTP uses 25, 587 or 465)"
            .to_string();
    }
    if head.starts_with("ssh-") {
        return "this is an SSH server, not SMTP: check the port".to_string();
    }
    if head.starts_with("+ok") || head.starts_with("-err") {
        return "this looks like a POP3 server, not SMTP: check the port".to_string();
    }
    if head.starts_with("* ok") || head.starts_with("* preauth") || head.starts_with("* bye") {
        return "this looks like an IMAP server, not SMTP: check the port".to_string();
    }
    if matches!(phase, Phase::Banner | Phase::Connect | Phase::Proxy) {
        return "the server did not answer with an SMTP reply — wrong port or not an SMTP server?"
            .to_string();
    }
    // Past the greeting the peer has spoken SMTP: the port is right, this answer is broken.
    "this answer has no three-digit reply code (RFC 5321 §4.2), so it is no verdict: the server \
     is broken or out of step (strict clients such as Postfix and Exim fail here too)"
        .to_string()
}

/// Vendor-specific hints: codes and wording that only one provider uses. Always labelled.
pub(super) fn vendor_hint(c: &Ctx) -> Option<String> {
    let gmail = c.has(&["gsmtp", "support.google.com", "gmail"]);
    // Exchange Online's replies name a host under outlook.com or exchangelabs.com, or link to
    // aka.ms (`For more information see https://aka.ms/EXOSmtpErrors`).
    let microsoft = c.has(&[
        "outlook.com",
        "office365",
        "microsoft",
        "exchange online",
        "exchangelabs.com",
        "aka.ms/",
    ]);
    // Microsoft's documented block-list codes (S3140: the IP is listed, S3150: part of its
    // network is) and Outlook.com's lettered codes come with or without an enhanced code.
    if c.class() == 5
        && c.has(&[
            "(s3140)", "(s3150)", "(s3113)", "(s3114)", "(s3115)", "(s3116)",
        ])
    {
        return Some(
            "(Microsoft) your sending IP (or its network) is on Microsoft's block list: \
             request delisting through Microsoft's delist portal (sender.office.com), or ask \
             your provider"
                .to_string(),
        );
    }
    if c.class() == 5 && c.has(&["sc-001", "sc-002", "sc-003", "sc-004", "ou-001", "ou-002"]) {
        return Some(
            "(Microsoft) Outlook.com refused the mail for policy reasons (the sending IP's \
             reputation or the content): see Microsoft's postmaster pages for the code given"
                .to_string(),
        );
    }
    if c.class() == 5 && c.has(&["dy-001", "dy-002"]) {
        return Some(
            "(Microsoft) Outlook.com refuses mail from dynamic or compromised-looking IPs: send \
             through your provider's mail server"
                .to_string(),
        );
    }
    // Gmail's refusal of mail sent straight from a dynamic or residential IP ("The IP you're
    // using to send mail is not authorized to send email directly to our servers. Please use
    // the SMTP relay at your service provider instead."; Google Workspace Admin Help, "SMTP
    // errors and codes"): not a relay refusal, so no AUTH to this server helps.
    if gmail
        && c.class() == 5
        && c.has(&[
            "not authorized to send email directly",
            "smtp relay at your service provider",
        ])
    {
        return Some(
            "(Gmail) Gmail does not take mail sent directly from this IP (a dynamic or \
             residential address): send through your provider's mail server (its smarthost) \
             instead"
                .to_string(),
        );
    }
    // Yahoo's TSS09 ("All messages from 192.0.2.1 will be permanently deferred; Retrying will
    // NOT succeed", Yahoo Sender Hub, "SMTP error codes"): the sending IP is refused, whatever
    // the recipient.
    if c.class() == 5
        && c.has(&["yahoo", "[tss09]"])
        && c.has(&["permanently deferred"])
        && c.has(&["all messages from"])
    {
        return Some(
            "(Yahoo) Yahoo refuses all mail from your sending IP (its reputation or user \
             complaints): retrying from this IP will not help; send through another IP, or ask \
             Yahoo's postmaster to review it"
                .to_string(),
        );
    }
    let e = c.enhanced?;
    // Exchange Online answers an unknown recipient with 5.1.10, "RESOLVER.ADR.RecipientNotFound;
    // Recipient not found by SMTP address lookup" (Microsoft Learn, "Fix email delivery issues
    // for error code 5.1.10 in Exchange Online"), where RFC 7505 §4 uses 5.1.10 for a null
    // MX: the wording tells which.
    if e.class == 5
        && (e.subject, e.detail) == (1, 10)
        && c.has(&["resolver.adr", "recipientnotfound", "recipient not found"])
    {
        return Some(
            "(Microsoft) the recipient was not found in the receiving Microsoft 365 organisation \
             (Exchange Online's 5.1.10): the mailbox does not exist; check the recipient address \
             for typos"
                .to_string(),
        );
    }
    // "550 5.1.8 Access denied, bad outbound sender": Exchange Online blocked the sending
    // account for sending spam, usually because it is compromised (Microsoft Learn, "Fix email
    // delivery issues for error code 5.1.8 in Exchange Online"); the address itself is fine.
    if e.class == 5 && (e.subject, e.detail) == (1, 8) && c.has(&["bad outbound sender"]) {
        return Some(
            "(Microsoft) the sending account is blocked from sending mail (Microsoft 365 \
             flagged it for sending spam, often a compromised account): its admin must secure \
             the account and release it from the restricted users list"
                .to_string(),
        );
    }
    if gmail && e.class == 4 && e.subject == 7 && e.detail == 0 && !is_busy_ctx(c) {
        return Some(
            "(Gmail) Gmail deferred you (the sending IP's or domain's reputation, an unusual \
             rate, or a suspicious greeting): retry later; if it persists, check the IP and \
             domain in Google Postmaster Tools"
                .to_string(),
        );
    }
    // Microsoft Exchange Online uses private details far above the registry's range.
    if e.subject == 7 {
        let hint = match e.detail {
            139 => Some(
                "(Microsoft) authentication unsuccessful: basic authentication (SMTP AUTH) is \
                 disabled for this tenant or mailbox; an admin must enable authenticated SMTP for \
                 it, or use OAuth",
            ),
            57 => Some(
                "(Microsoft) the client was not authenticated: log in first with ⟨auth⟩ \
                 (submission port 587 with ⟨tls⟩)",
            ),
            708 | 709 => Some(
                "(Microsoft) traffic from your IP is refused because of its reputation (often a \
                 new or shared sending IP): send through another IP or contact Microsoft support",
            ),
            606..=649 => Some(
                "(Microsoft) your sending IP is banned: request delisting through Microsoft's \
                 delist portal, then retry",
            ),
            64 => Some(
                "(Microsoft) relay access denied: the message could not be attributed to a tenant \
                 (check the inbound connector)",
            ),
            500..=699 if e.class == 4 => Some(
                "(Microsoft) your traffic is being throttled or looks suspicious; slow down and \
                 retry later",
            ),
            _ => None,
        };
        if let Some(h) = hint {
            return Some(h.to_string());
        }
    }
    if microsoft && e.subject == 4 && e.detail == 1 && c.has(&["access denied"]) {
        return Some(
            "(Microsoft) recipient rejected by directory-based edge blocking: the address does \
             not exist in the receiving organisation"
                .to_string(),
        );
    }
    if gmail {
        let hint = match (e.subject, e.detail) {
            (7, 26) => Some(
                "(Gmail) the message failed Gmail's sender authentication: publish SPF and DKIM \
                 for the sender's domain and align them with its DMARC policy",
            ),
            (7, 28) => Some(
                "(Gmail) an unusual rate of mail from your IP or domain: slow down and retry later",
            ),
            (7, 9) => Some(
                "(Gmail) the account needs an app password (2-step verification is on) or OAuth; \
                 the normal password will not work here",
            ),
            (7, 8) => Some(
                "(Gmail) username and password not accepted: use an app password (or OAuth) \
                 rather than the account password",
            ),
            (7, 1) if c.has(&["unsolicited", "spam"]) => Some(
                "(Gmail) the message was classified as unsolicited: check content, sending \
                 volume and the sender domain's authentication",
            ),
            _ => None,
        };
        if let Some(h) = hint {
            return Some(h.to_string());
        }
    }
    None
}

fn is_greylisting(c: &Ctx) -> bool {
    c.class() == 4
        && (c.has(&[
            "greylist",
            "graylist",
            "grey-list",
            "gray-list",
            "grey list",
            "gray list",
        ]) || (matches!(c.code, 450 | 451)
            && c.enh(7, 1)
            // 4.7.1 is also used for soft policy refusals (relay, missing reverse DNS); only a
            // "come back later" wording makes it greylisting.
            && c.has(&["try again", "retry", "later", "deferred"])
            && !c.has(&["relay", "hostname", "reverse", "ptr"]))
            // Without an enhanced code: the "come back later" phrases of greylisting daemons
            // (milter-greylist, spamd, sqlgrey) on a recipient deferral.
            || (matches!(c.code, 450 | 451)
                && c.phase == Phase::Rcpt
                && c.enhanced.is_none()
                && c.has(&["come back later", "try again later"])
                && !c.has(&[
                    "relay",
                    "hostname",
                    "reverse",
                    "ptr",
                    "unrouteable",
                    "resolve",
                    "local problem",
                    "failure",
                    "failed",
                    "error",
                ])))
}

/// A DNS blocklist named in a refusal: a list's own name, or "blocklist"/"DNSBL"/"RBL" in some
/// spelling. "listed in" alone is not enough: Domino's unknown-user reply is "User … not listed
/// in Domino Directory". An addressing code (X.1.x, RFC 3463 §3.2) is about the address, never
/// about the sending IP.
fn is_blocklisted(c: &Ctx) -> bool {
    matches!(c.class(), 4 | 5)
        && c.enhanced.is_none_or(|e| e.subject != 1)
        && (c.has(&[
            "spamhaus",
            "spamcop",
            "barracuda",
            "sorbs",
            "uceprotect",
            "spamrats",
            "mailspike",
            "abuseat",
            "psbl",
            "surbl",
            "dronebl",
            "block list",
            "blocked by rbl",
            "rbl.",
            "dnsbl",
            "blocklist",
            "blacklist",
            "black list",
            "blocked using",
        ]) || c.has_word(&["rbl", "rbls", "dnsbls"]))
}

/// Hints from wordings that mean the same whatever the code and command.
fn text_hint(c: &Ctx) -> Option<String> {
    if !matches!(c.class(), 4 | 5) {
        return None;
    }
    let s = |t: &str| Some(t.to_string());
    if c.has(&[
        "too many unrecognized",
        "too many errors",
        "too many bad commands",
        "too many invalid",
        "too many syntax",
    ]) {
        return s(
            "the server counted too many unknown or bad commands and is giving up on this \
             connection: check what was sent before (typos, commands it does not support)",
        );
    }
    // Exim's smtp_accept_max_nonmail (10 by default, for every host unless
    // smtp_accept_max_nonmail_hosts says otherwise): commands that carry no mail, each counted
    // on the connection (one RSET, EHLO/HELO and STARTTLS per message are free), and one too
    // many draws "554 Too many nonmail commands" and the connection is dropped (Exim's
    // smtp_in.c, TOO_MANY_NONMAIL_CMD).
    if c.has(&["too many nonmail commands", "too many non-mail commands"]) {
        return s(
            "the server counted too many commands that carry no mail (NOOP, RSET, VRFY, EXPN, \
             HELP, repeated EHLO…) on this connection and dropped it (Exim's \
             smtp_accept_max_nonmail, 10 by default): reconnect and send MAIL FROM sooner, \
             with fewer of them per connection",
        );
    }
    if c.has(&["bare <lf>", "bare lf", "bare newline", "bare <cr>"]) {
        return s(
            "the server refuses a bare LF line end in the message (SMTP smuggling protection): \
             send CRLF line ends (ehlo does unless its CRLF fix-up is turned off or raw bytes are sent)",
        );
    }
    if c.has(&["dmarc"]) && !c.enh(7, 26) {
        return s(
            "the sender domain's DMARC policy rejected the message: align SPF or DKIM with the \
             From: domain, or send through the servers that domain authorises",
        );
    }
    // An SPF refusal under a generic code (Postfix's policyd-spf: `550 5.7.1 <a@x>: Sender
    // address rejected: SPF check failed…`; "Sender Policy Framework violation") is no sender
    // address "that does not exist": say what X.7.23 / X.7.24 (RFC 7372 §3.2) would.
    if (c.has_word(&["spf"]) || c.has(&["sender policy framework"]))
        && !(c.enh(7, 23) || c.enh(7, 24) || c.enh(7, 26))
    {
        let unsure = c.class() == 4 || c.has(&["temperror", "permerror", "temporary"]);
        let sub = if unsure { 24 } else { 23 };
        return enhanced_hint(EnhancedCode {
            class: 5,
            subject: 7,
            detail: sub,
        })
        .map(str::to_string);
    }
    None
}

/// What servers say when they are too busy for us, or we are too fast for them: a rate
/// limit (Exim's ratelimit ACL: "Sender rate overlimit"; Gmail: "unusual rate"), a connection
/// limit (Postfix anvil: "too many connections"), throttling. Lower case; matched anywhere in
/// the (lower-cased) text of a 4xx or 5xx reply.
pub(crate) const BUSY_PHRASES: [&str; 22] = [
    "rate overlimit",
    "too many open connections",
    "connection rate",
    "unexpected volume",
    "too many login attempts",
    "receiving mail at a rate",
    "rate limit",
    "ratelimit",
    "rate-limit",
    "rate that prevents",
    "unusual rate",
    "sending rate",
    "too many messages",
    "too many connections",
    "too many concurrent",
    "too many sessions",
    "too many simultaneous",
    "too much mail",
    "too fast",
    "throttl",
    "exceeded the rate",
    "slow down",
];

/// Does the reply say the server is busy or we are too fast (rate or connection limits,
/// throttling): come back later, more slowly? A 4xx or 5xx with one of [`BUSY_PHRASES`]; the
/// code alone (a bare 421) does not say why.
pub(crate) fn is_busy(reply: &Reply) -> bool {
    reply
        .code
        .is_some_and(|code| is_busy_ctx(&Ctx::new(reply, code, Phase::Other)))
}

fn is_busy_ctx(c: &Ctx) -> bool {
    matches!(c.class(), 4 | 5) && c.has(&BUSY_PHRASES)
}

/// Content or sender classified as spam, in the wordings spam filters use (SpamAssassin via
/// Exim or Amavis, rspamd, Haraka, Microsoft, Gmail) with or without an enhanced code.
fn is_spam_verdict(c: &Ctx) -> bool {
    matches!(c.class(), 4 | 5)
        && c.has(&[
            "spam",
            "unsolicited",
            "junk mail",
            "bulk mail",
            "content rejected",
            "rejected due to content",
            "scored too high",
            "high probability",
        ])
}

/// A 503 to AUTH whose text says the server offers no authentication here (Postfix "Error:
/// authentication not enabled", sendmail "AUTH not available", Exim "AUTH command used when not
/// advertised"): 503 is RFC 5321's "bad sequence", but this one is no sequence error.
pub(super) fn auth_not_offered(c: &Ctx) -> bool {
    c.phase == Phase::Auth
        && c.code == 503
        && c.has(&["auth"])
        && c.has(&[
            "not enabled",
            "not available",
            "not supported",
            "not advertised",
            "not offered",
            "disabled",
        ])
}

/// The meaning of a 503 to AUTH that [`auth_not_offered`] recognises.
pub(super) const AUTH_NOT_OFFERED: &str = "the server does not offer AUTH on this connection \
     (authentication not enabled, or offered only after STARTTLS)";

/// An extension the server did not advertise was used anyway (ehlo's `--force-ext`): Exim says
/// "… used when not advertised", and for an unknown parameter after the address "… may not
/// follow <address>" (its address parser sees the parameter as part of the address).
fn unadvertised_hint(c: &Ctx) -> Option<String> {
    if c.has(&["not advertised"]) {
        return Some(
            "the server refuses an extension it did not advertise in its EHLO reply (sent anyway, \
             e.g. with ⟨force-ext⟩): leave it out, or use a server whose EHLO reply lists it"
                .to_string(),
        );
    }
    if c.has(&["may not follow"]) {
        return Some(UNRECOGNISED_PARAM.to_string());
    }
    None
}

/// At RCPT (and at DATA, where some servers refuse late) a refusal can be about someone other
/// than the recipient just given: the envelope sender (Postfix "Sender address rejected",
/// Exim's sender verification), the client host, or the greeting name. Who, in words.
pub(super) fn refused_party(c: &Ctx) -> Option<&'static str> {
    if !matches!(c.class(), 4 | 5) || !matches!(c.phase, Phase::Rcpt | Phase::Data) {
        return None;
    }
    if c.has(&[
        "sender address rejected",
        "sender verify",
        "sender verification",
        "verification failed for",
        "postmaster verification failed",
        "callback setup failed",
    ]) {
        Some("your envelope sender (MAIL FROM)")
    } else if c.has(&["client host rejected", "client host blocked"]) {
        Some("your client host")
    } else if c.has(&["helo command rejected", "helo name rejected"]) {
        Some("your greeting name (EHLO)")
    } else {
        None
    }
}

/// The hint for a refusal that `refused_party` attributes to someone other than the recipient.
fn other_party_hint(c: &Ctx) -> Option<String> {
    let who = refused_party(c)?;
    let s = |t: &str| Some(t.to_string());
    if who.starts_with("your envelope sender") {
        if c.has(&["not owned", "not logged in"]) {
            return s(
                "the refusal is about the sender: you may not send as this address; use a \
                      ⟨from⟩ that belongs to the account you authenticated as",
            );
        }
        let verify = c.has(&["verif", "unrouteable", "unroutable", "callback", "callout"]);
        let transient = c.class() == 4;
        return Some(format!(
            "the refusal is about the sender, not this recipient: the server {} your envelope \
             sender (⟨from⟩){}; use a ⟨from⟩ on a domain that exists in DNS and accepts mail{}",
            if verify {
                "tried to verify"
            } else {
                "does not accept"
            },
            if verify {
                " and could not (its domain does not resolve, or its servers refuse the address)"
            } else {
                ""
            },
            if transient {
                " (given as temporary: the check may pass later)"
            } else {
                ""
            }
        ));
    }
    if who.starts_with("your client host") {
        return s(
            "the refusal is about your client host (its IP, reverse DNS or reputation), not \
             this recipient: send from a host whose PTR name resolves back to its IP, or through \
             your provider's relay",
        );
    }
    s(
        "the refusal is about the name you greet with, not this recipient: give a fully \
         qualified host name that resolves, with ⟨helo⟩",
    )
}

/// How MTAs word a refusal to relay (Postfix "Relay access denied", Sendmail and Haraka
/// "Relaying denied", Exim "relay not permitted", Exchange "Unable to relay", qmail "sorry, that
/// domain isn't in my list of allowed rcpthosts"). The bare word "relay" is not enough: Postfix's
/// "User unknown in relay recipient table" is an unknown recipient, and Gmail's "Please use the
/// SMTP relay at your service provider" is about the sending IP.
const RELAY_DENIALS: &[&str] = &[
    "relay access denied",
    "relaying denied",
    "relay denied",
    "relay not permitted",
    "relaying not permitted",
    "relay not allowed",
    "relaying not allowed",
    "relaying is not allowed",
    "relay is not allowed",
    "relaying disallowed",
    "relay prohibited",
    "relaying prohibited",
    "relay not authorized",
    "relaying not authorized",
    "we do not relay",
    "unable to relay",
    "cannot relay",
    "can't relay",
    "not permitted to relay",
    "not allowed to relay",
    "no relaying",
    "allowed rcpthosts",
];

fn relay_denied(c: &Ctx) -> Option<String> {
    // An addressing code (X.1.x) says the address itself is the problem (RFC 3463 §3.2).
    if !(matches!(c.code, 450 | 451 | 454 | 550 | 551 | 553 | 554)
        && c.enhanced.is_none_or(|e| e.subject != 1)
        && c.has(RELAY_DENIALS))
    {
        return None;
    }
    let k = c.known;
    let mut h = if k.authenticated == Some(true) {
        // Authenticated, and still no relay: adding AUTH is what was done already.
        "relay denied although this session has authenticated: this account may not send to \
         other domains here (or the server wants a sender of the account's, ⟨from⟩); send to a \
         domain the server hosts, or ask its admin"
    } else if k.tls == Some(false) && k.auth_offered == Some(false) {
        "relay denied: this server takes mail only for its own domains unless you \
         authenticate, and it offers no AUTH before TLS: add ⟨tls⟩ and ⟨auth⟩, or send to a \
         domain the server hosts"
    } else {
        "relay denied: this server takes mail only for its own domains unless you \
         authenticate; add ⟨auth⟩, or send to a domain the server hosts"
    }
    .to_string();
    if c.class() == 4 {
        h.push_str(" (it is given as a temporary error, but retrying will not help by itself)");
    }
    Some(h)
}

/// 530 (and 5.7.0/5.7.10/5.7.11 in the same role): the server wants the client to do something
/// first. Which thing is only in the text, so read it (RFC 3207 §4, RFC 4954 §6 share 530).
/// Worded from what the session knows ([`Known`]): a session in TLS is not told to add TLS,
/// nor an authenticated one to authenticate.
fn access_first_hint(c: &Ctx) -> String {
    let tls = c.has(&["starttls", "tls", "ssl", "encrypt"]) || c.enh(7, 10) || c.enh(7, 11);
    let auth = c.has(&["auth", "login", "credential"]);
    let k = c.known;
    let in_tls = k.tls == Some(true);
    let s = |t: &str| t.to_string();
    if k.authenticated == Some(true) && (auth || !tls) {
        return s(
            "the server wants authentication, but this session has authenticated: this account \
             may not do this here (send as this sender, or to this recipient); the reply text \
             may say more",
        );
    }
    if tls && !in_tls {
        return s("the server wants STARTTLS first: add ⟨tls⟩");
    }
    if tls {
        // In TLS already, and TLS is still what the server names.
        return s(
            "the server wants encryption, but this session is in TLS already: it may want a \
             client certificate (⟨client-cert⟩) or authentication (⟨auth⟩); the reply text \
             may say which",
        );
    }
    match (auth, in_tls, k.tls, k.auth_offered) {
        // In TLS (the session's or not known), and no AUTH offered on it.
        (_, true, _, Some(false)) => s(
            "the server wants authentication, but offers no AUTH on this connection (its EHLO \
             reply lists none): it may take it on its submission port (587, or 465 with \
             ⟨tls-on-connect⟩)",
        ),
        (_, true, _, _) => s("the server wants authentication: add ⟨auth⟩"),
        // In plain text, and no AUTH offered: many servers offer it only after STARTTLS.
        (true, false, Some(false), Some(false)) => s(
            "the server wants authentication, and offers AUTH only after STARTTLS here (its \
             EHLO reply lists none): add ⟨tls⟩ and ⟨auth⟩",
        ),
        (true, _, _, _) => s("the server wants authentication: add ⟨auth⟩ (usually with ⟨tls⟩)"),
        (false, _, _, _) => s(
            "the server wants STARTTLS first: add ⟨tls⟩ (and ⟨auth⟩ if it still \
             refuses)",
        ),
    }
}

/// What a refusal's words say about a recipient or the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wording {
    /// "User unknown", "no such user", "doesn't have a yahoo.com account".
    NoSuchUser,
    /// "This mailbox is disabled".
    Disabled,
    /// "not owned by user", "send as": the sender is not the account's to use.
    NotYours,
}

impl Wording {
    fn hint(self) -> &'static str {
        match self {
            Wording::NoSuchUser => {
                "the mailbox does not exist: check the recipient address for typos"
            }
            Wording::Disabled => {
                "the mailbox is disabled: the recipient cannot receive mail for now"
            }
            Wording::NotYours => {
                "you may not send as this address: use a ⟨from⟩ that belongs to the account \
                 you authenticated as"
            }
        }
    }
}

/// What a refusal's words say, whatever command it answers: refusals of a recipient come at
/// RCPT, and also after the content (LMTP, PRDR, and servers that decide late, such as Yahoo's
/// "554 delivery error: dd This user doesn't have a yahoo.com account" and "This mailbox is
/// disabled (554.30)", Yahoo Sender Hub, "SMTP error codes"). Every command's rules read the
/// words here, so they are kept in one place.
fn wording(c: &Ctx) -> Option<Wording> {
    if !matches!(c.code, 550..=554) {
        return None;
    }
    // Wordings about the envelope sender ("Domain of sender address … does not exist") are
    // not about the recipient.
    if !c.has(&["sender"])
        && c.has(&[
            "user unknown",
            "unknown user",
            "no such user",
            "does not exist",
            "doesn't exist",
            "mailbox not found",
            "recipient not found",
            "unknown recipient",
            "doesn't have a",
            "no such mailbox",
            "does not have an account",
            "not listed in domino directory",
        ])
    {
        return Some(Wording::NoSuchUser);
    }
    if c.has(&[
        "mailbox is disabled",
        "mailbox disabled",
        "mailbox has been disabled",
        "account is disabled",
        "account has been disabled",
    ]) {
        return Some(Wording::Disabled);
    }
    if c.has(&[
        "not owned",
        "send as",
        "send mail as",
        "sender address rejected: not",
    ]) {
        return Some(Wording::NotYours);
    }
    None
}

/// Hints that depend on the command the reply answers.
fn phase_hint(c: &Ctx) -> Option<String> {
    use Phase::*;
    let s = |t: &str| Some(t.to_string());
    match c.phase {
        Banner => match c.code {
            421 => s(
                "the server refuses connections right now (overloaded, rate limit, maintenance \
                 or too many connections from you); retry later",
            ),
            554 => s(
                "the server refuses you, usually because of your IP's reputation (a blocklist) \
                 or a policy; nothing else will be accepted on this connection",
            ),
            _ => None,
        },
        Helo | HeloAfterTls | HeloAfterXclient => match c.code {
            500 | 502 => s(
                "the server does not speak ESMTP (EHLO unknown); ehlo falls back to HELO, so \
                 extensions such as STARTTLS, AUTH and SIZE are not available",
            ),
            501 | 504 => s(
                "the server dislikes the name you greet with: give a fully qualified host name \
                 or an address literal like [192.0.2.1] with ⟨helo⟩",
            ),
            550 | 554 if c.has(&["helo", "ehlo", "hostname", "host name", "fqdn"]) => s(
                "the server dislikes the name you greet with: give a fully qualified host name \
                 that resolves, with ⟨helo⟩",
            ),
            550 | 554 => s("the server refuses your client (its IP or name) by policy"),
            _ => None,
        },
        StartTls if c.has(&["already active", "already secured"]) => {
            s("TLS is already active on this connection: STARTTLS is sent once")
        }
        StartTls => match c.code {
            454 => s(
                "TLS is not available right now (a certificate or TLS setup problem on the \
                 server); retry later, or ⟨no-tls⟩ to carry on in plaintext",
            ),
            500 | 502 => s(
                "the server does not support STARTTLS: check that the EHLO reply lists it, or \
                 try ⟨tls-on-connect⟩ (port 465)",
            ),
            501 => s("STARTTLS must be sent without arguments"),
            503 => s("STARTTLS out of sequence: TLS may already be active, or EHLO was not sent"),
            _ => None,
        },
        Auth => {
            if (c.code == 538 || c.enh(7, 11)) && c.known.tls == Some(true) {
                s(
                    "the server says this mechanism needs an encrypted connection, but this \
                     session is in TLS already: pick another mechanism with ⟨auth-mech⟩",
                )
            } else if c.code == 538 || c.enh(7, 11) {
                s("this mechanism needs an encrypted connection: add ⟨tls⟩ (or ⟨tls-on-connect⟩)")
            } else if c.code == 534 || c.enh(7, 9) {
                s(
                    "the server considers this mechanism too weak for this account: try another, \
                     stronger one with ⟨auth-mech⟩",
                )
            } else if c.code == 535 || c.enh(7, 8) {
                s(
                    "credentials rejected: check ⟨auth-user⟩ and the password (some providers \
                     want an app password or OAuth instead of the account password)",
                )
            } else if c.code == 500 && c.enh(5, 6) {
                s("an AUTH exchange line was longer than the server accepts")
            } else if matches!(c.code, 502 | 504) {
                s(
                    "the server does not support this AUTH mechanism (or AUTH at all): pick one \
                     listed on the AUTH line of the EHLO reply with ⟨auth-mech⟩",
                )
            } else if (c.code == 432 || c.enh(7, 12)) && c.known.tls == Some(true) {
                s(
                    "a password transition is needed: authenticate once with the PLAIN mechanism \
                     (⟨auth-mech⟩); the selected mechanism should then work (retrying unchanged \
                     will not help)",
                )
            } else if c.code == 432 || c.enh(7, 12) {
                // RFC 4954 §6: the user moves to the selected mechanism "by authenticating once
                // using the [PLAIN] authentication mechanism"; a retry as it was does not help.
                s(
                    "a password transition is needed: authenticate once with the PLAIN mechanism \
                     over TLS (⟨auth-mech⟩ with ⟨tls⟩); the selected mechanism should then work \
                     (retrying unchanged will not help)",
                )
            } else if c.code == 454 {
                s(
                    "temporary authentication failure on the server side (e.g. its password \
                     backend is down); retry later",
                )
            } else if auth_not_offered(c) && c.known.tls == Some(true) {
                s(
                    "the server does not offer AUTH on this connection, in TLS either: it has \
                     authentication turned off for you here (its submission port, 587 or 465, \
                     may take it)",
                )
            } else if auth_not_offered(c) {
                s(
                    "the server does not offer AUTH on this connection: check the AUTH line of \
                     its EHLO reply; many servers offer it only after STARTTLS (Postfix's \
                     smtpd_tls_auth_only), so add ⟨tls⟩, else the server has authentication \
                     turned off for you",
                )
            } else if c.code == 503 {
                s(
                    "AUTH out of sequence: already authenticated, inside a mail transaction, or \
                     sent before EHLO",
                )
            } else {
                None
            }
        }
        Xclient => match c.code {
            550 | 554 => s(
                "the server does not allow XCLIENT from your address (Postfix: \
                 smtpd_authorized_xclient_hosts)",
            ),
            500 | 502 => s("the server does not support XCLIENT"),
            _ => None,
        },
        Mail => {
            if c.code == 552 || c.enh(3, 4) || c.enh(2, 3) {
                s(
                    "the SIZE you declared is over the server's limit (see SIZE in the EHLO \
                     reply): send a smaller message",
                )
            } else if c.code == 555 || c.code == 455 {
                s(MAIL_PARAMS_REFUSED)
            } else if c.enh(1, 8) {
                s(
                    "the sender's domain does not resolve or cannot receive mail: use a ⟨from⟩ \
                     on a real, mail-receiving domain",
                )
            } else if matches!(c.code, 501 | 553 | 503 | 555) && mentions_parameter(c) {
                s(MAIL_PARAM_INVALID)
            } else if c.enh(1, 7) || c.code == 501 {
                s(
                    "the sender address is malformed: give ⟨from⟩ as user@domain (or <> for the \
                     null sender)",
                )
            } else if wording(c) == Some(Wording::NotYours) || (c.code == 553 && c.enh(7, 1)) {
                s(Wording::NotYours.hint())
            } else if c.code == 503 {
                s(
                    "MAIL out of sequence: send EHLO first, authenticate first if the server \
                     requires it, or reset the previous transaction",
                )
            } else if matches!(c.code, 550 | 553 | 554) {
                s(
                    "the server refuses this sender: use a ⟨from⟩ on a domain that exists and \
                     that you may send for",
                )
            } else {
                None
            }
        }
        Rcpt => {
            if c.code == 551 {
                s(
                    "the recipient is not local and this server will not forward: use the \
                     address the reply gives, or the recipient domain's own MX",
                )
            } else if matches!(c.code, 501 | 553 | 555) && mentions_parameter(c) {
                s(RCPT_PARAM_INVALID)
            } else if c.has(&["too many recipients"]) || (c.class() == 4 && c.enh(5, 3)) {
                s(
                    "too many recipients for one transaction: send the rest in another \
                     transaction (a new MAIL FROM); real MTAs do this by themselves",
                )
            } else if c.enh(1, 1) {
                s("the mailbox does not exist: check the recipient address for typos")
            } else if let Some(w) = wording(c) {
                s(w.hint())
            } else if c.enh(1, 2) {
                s(
                    "the recipient's domain is wrong or takes no mail: check the part after \
                     the @",
                )
            } else if c.enh(1, 3)
                || c.code == 501
                // RFC 5321 §4.2.2: 553 is "mailbox name not allowed", which servers also use
                // for policy (a 5.7.x code, qmail's rcpthosts); only X.1.3 or no enhanced code
                // makes it a malformed address.
                || (c.code == 553 && c.enhanced.is_none())
            {
                s("the recipient address is malformed: give it as user@domain")
            } else if c.enh(1, 6) {
                s("the mailbox has been closed and no forwarding address is known")
            } else if c.enh(2, 1) {
                s("the mailbox is disabled: the recipient cannot receive mail for now")
            } else if matches!(c.code, 452 | 552) && (c.enh(5, 3) || c.has(&["too many"])) {
                s(
                    "too many recipients for one transaction: send the rest in another \
                     transaction (a new MAIL FROM); real MTAs do this by themselves",
                )
            } else if c.enh(2, 2) || c.code == 552 {
                s("the recipient's mailbox is full: they must make room; retrying later may work")
            } else if c.code == 452 && c.enh(3, 1) {
                // X.3.1 "Mail system full" (RFC 3463): the server's storage, not a limit on
                // recipients (Postfix: `452 4.3.1 Insufficient system storage`).
                s(
                    "the server is out of storage for now (a full disk or queue, not a limit on \
                     recipients): retry later",
                )
            } else if c.code == 452 {
                s(
                    "too many recipients, or the mailbox or server is out of space for now: \
                     retry later, with fewer recipients per transaction",
                )
            } else if c.code == 450 {
                s(
                    "the mailbox is temporarily unavailable (busy, or deferred by policy); retry \
                     later",
                )
            } else if c.code == 503 {
                s("RCPT out of sequence: MAIL FROM must be accepted first")
            } else if c.code == 555 || c.code == 455 {
                s(RCPT_PARAMS_REFUSED)
            } else if (c.class() == 5 && c.enh_subject(7))
                || (matches!(c.code, 550 | 553 | 554)
                    && c.has(&[
                        "prohibit",
                        "not allowed",
                        "not authorized",
                        "not permitted",
                        "access denied",
                        "restricted",
                    ]))
            {
                // Postfix's submission service (`permit_sasl_authenticated, reject`) answers an
                // unauthenticated client's RCPT `554 5.7.1 …: Recipient address rejected:
                // Access denied`: the commonest reason a developer meets this refusal.
                if c.known.authenticated == Some(true) {
                    return s(
                        "the server refuses this recipient for you by policy, although this \
                         session has authenticated: the account may not send to it, or the \
                         recipient accepts mail only from certain senders",
                    );
                }
                s(
                    "the server refuses this recipient for you by policy: a server that takes \
                     mail only from its users refuses so before AUTH (add ⟨auth⟩ if you did not \
                     authenticate); otherwise the recipient may accept mail only from certain \
                     senders",
                )
            } else if c.code == 550 {
                s(
                    "the recipient was refused: the mailbox may not exist, or policy does not \
                     let you send to it",
                )
            } else {
                None
            }
        }
        Data => match c.code {
            550 | 554 if c.enh(7, 1) => s(
                "the transaction was refused by policy at DATA (a sender, IP or recipient check \
                 the server makes late); the reply text should say which",
            ),
            503 | 554 => s(
                "DATA refused: no recipient (or no sender) was accepted; see the RCPT replies \
                 above",
            ),
            _ => None,
        },
        Dot => {
            // A more specific enhanced code wins over the basic code: 552 is "storage
            // exceeded", which 5.2.2 narrows to a full mailbox (RFC 3463 §3.3), not a size.
            if c.enh(2, 2) {
                s(
                    "a recipient's mailbox is full (over quota), not a size limit of the server: \
                     they must make room; retrying later may work",
                )
            } else if c.enh(1, 1) {
                s("the mailbox does not exist: check the recipient address for typos")
            } else if let Some(w) = wording(c).filter(|&w| {
                // A recipient wording under a policy or content code is about something else.
                w == Wording::NotYours || c.enhanced.is_none_or(|e| matches!(e.subject, 1 | 2))
            }) {
                s(w.hint())
            } else if (c.code == 552
                && c.enhanced
                    .is_none_or(|e| e.subject == 3 || (e.subject, e.detail) == (2, 3)))
                || c.enh(3, 4)
                || c.enh(2, 3)
            {
                s(
                    "message too big: compare its size with the SIZE limit in the EHLO reply and \
                     send something smaller",
                )
            } else if c.class() == 5 && (c.enh(7, 1) || c.enh(7, 0)) {
                s(
                    "the content was rejected as spam or by policy: check the text for the \
                     reason, links, attachments and the sender domain's SPF/DKIM/DMARC",
                )
            } else if c.class() == 5 && c.enh_subject(6) {
                s(
                    "the content itself was refused (format, encoding or media type): check the \
                     message's MIME structure and character set",
                )
            } else if c.code == 554 {
                s(
                    "the message was rejected, usually by a content filter (spam, virus or \
                     policy): the reply text should give the reason",
                )
            } else if c.code == 550 {
                s("the message was refused by policy after its content was seen")
            } else if c.code == 451 && !c.enh_subject(7) {
                // A 4.7.x is policy holding the message back: the generic hint says so.
                s(
                    "the server had a temporary problem processing the message (e.g. its content \
                     scanner); retry later",
                )
            } else {
                None
            }
        }
        Quit if c.code != 221 => {
            s("an unusual answer to QUIT, but harmless: the session is over either way")
        }
        _ => None,
    }
}

/// Hints from the enhanced code alone, whatever the command (also used by `:explain`).
pub(super) fn enhanced_hint(e: EnhancedCode) -> Option<&'static str> {
    if e.class == 2 {
        return None;
    }
    Some(match (e.subject, e.detail) {
        (1, 1) => "the mailbox does not exist: check the recipient address for typos",
        (1, 10) => "the recipient's domain accepts no mail (null MX, RFC 7505)",
        (2, 2) => "the recipient's mailbox is full",
        (3, 4) | (2, 3) => "the message is too big: compare with the SIZE limit in the EHLO reply",
        (5, 3) => "too many recipients: split them over several transactions",
        (6, 7) | (6, 8) | (6, 9) => {
            "non-ASCII addresses or headers need SMTPUTF8 support that is missing here: use \
             ASCII addresses, or a path that supports SMTPUTF8"
        }
        (7, 8) => "credentials rejected: check the user name and password",
        (7, 9) => "the AUTH mechanism is too weak for this account: try another one",
        (7, 10) | (7, 11) => "an encrypted connection is needed: add ⟨tls⟩",
        (7, 12) => {
            "a password transition is needed: authenticate once with PLAIN over TLS, then the \
             selected mechanism should work (RFC 4954 §6)"
        }
        (7, 13) => "the account is disabled: ask its administrator",
        (7, 20) | (7, 21) | (7, 22) => {
            "the message needs a valid DKIM signature matching the From: domain: send through a \
             server that signs for that domain"
        }
        (7, 23) => {
            "the sending IP is not in the sender domain's SPF record: send through an authorised \
             server, or fix the SPF record"
        }
        (7, 24) => {
            "the sender domain's SPF record could not be evaluated (DNS trouble or a broken \
             record): check the record; this may pass later"
        }
        (7, 25) => {
            "your sending IP has no matching reverse DNS: send from a host whose PTR name \
             resolves back to its IP"
        }
        (7, 26) => {
            "sender authentication failed (SPF, DKIM and DMARC style checks): publish and align \
             SPF and DKIM for the sender's domain, or send through its authorised servers"
        }
        (7, 27) => {
            "the sender's domain has a null MX and could never receive bounces: use a sender \
             domain that accepts mail"
        }
        (7, 28) => "the server sees a flood of similar mail: slow down and retry much later",
        (7, 29) => {
            "ARC validation failed on a forwarded message: check the forwarder's ARC sealing"
        }
        (7, 30) => {
            "the message asks for TLS on every hop (REQUIRETLS) and this path cannot promise \
             it: drop REQUIRETLS or send via servers that support it"
        }
        (4, _) if e.class == 4 => {
            "a network or routing problem beyond this server (DNS or the next hop); retry later"
        }
        (4, _) => {
            "a network or routing problem (a mail loop, or a next hop that cannot be reached): \
             check the recipient domain's MX records and any forwarding"
        }
        (2, 4) => "a mailing list behind this address could not be expanded: its owner must fix it",
        (6, _) => {
            "the content itself was refused (format, encoding or media type): check the \
             message's MIME structure and character set"
        }
        _ => return None,
    })
}

/// Enhanced codes that say more than any per-command rule could (null MX, SMTPUTF8, sender
/// authentication results, a disabled account), so they are checked before those rules.
fn strong_enhanced_hint(c: &Ctx) -> Option<String> {
    let e = c.enhanced?;
    let strong = matches!(
        (e.subject, e.detail),
        (1, 10) | (6, _) | (7, 13) | (7, 20..=30)
    );
    if strong && matches!(c.class(), 4 | 5) {
        enhanced_hint(e).map(str::to_string)
    } else {
        None
    }
}

/// 523, X.7.10 and X.7.11 (RFC 5248, RFC 3463 "Encryption Needed"): add TLS, unless the session
/// is in TLS already.
fn encryption_needed(c: &Ctx) -> String {
    if c.known.tls == Some(true) {
        "the server wants encryption, but this session is in TLS already: it may want another \
         TLS version or cipher, or a stronger mechanism; the reply text may say which"
            .to_string()
    } else {
        "an encrypted connection is needed: add ⟨tls⟩".to_string()
    }
}

/// Hints that hold whatever the command was.
fn generic_hint(c: &Ctx) -> Option<String> {
    let s = |t: &str| Some(t.to_string());
    match c.code {
        421 => {
            return s(
                "the server is closing the channel (overloaded, rate limit, greylisting or an \
                 idle timeout): reconnect and retry later",
            );
        }
        530 => return Some(access_first_hint(c)),
        556 => {
            return s(
                "the recipient's domain accepts no mail (null MX, RFC 7505): this address \
                 cannot receive mail",
            );
        }
        // After the greeting a 521 is a no-mail host only when it says so: Postfix also ends
        // a session with it over a command it cannot recover from (a malformed BDAT).
        521 if c.phase == Phase::Banner || c.has(&["not accept mail", "accepts no mail"]) => {
            return s(
                "this host accepts no mail at all (RFC 7504): send to the domain's real MX \
                 instead",
            );
        }
        521 => {
            return s(
                "the server ended the session over this command and will not take it again: \
                 fix what the text names (a malformed BDAT, say) and connect again",
            );
        }
        503 => {
            return s(
                "bad sequence of commands (e.g. MAIL before EHLO or before AUTH, RCPT before \
                 MAIL, DATA before RCPT)",
            );
        }
        555 => {
            return s(
                "a MAIL FROM / RCPT TO parameter was not recognised: only use extensions the \
                 EHLO reply lists",
            );
        }
        523 => return Some(encryption_needed(c)),
        _ => {}
    }
    if c.enh(7, 10) || c.enh(7, 11) {
        return Some(encryption_needed(c));
    }
    if let Some(e) = c.enhanced
        && let Some(h) = enhanced_hint(e)
    {
        return s(h);
    }
    if c.class() == 5 && c.enh(7, 0) && c.has(&["tls", "auth"]) {
        return Some(access_first_hint(c));
    }
    match c.code {
        500 => s(
            "the server did not understand the command (or the line was too long): check that \
             it supports this command",
        ),
        502 => s("the server does not implement this command"),
        504 => s("the server does not implement this parameter or mechanism"),
        501 => s("syntax error in the arguments: check the address or parameter format"),
        454 if c.enh(7, 0) => s("temporary security failure on the server side; retry later"),
        // A 4.7.x deferral (`451 4.7.1`) is the server's policy holding the mail back for now
        // (greylisting, a rate limit, a reputation check), not a fault on its side.
        _ if c.class() == 4 && c.enh_subject(7) => s(
            "deferred by the server's policy for now (greylisting, a rate limit or a reputation \
             check; the text may say which): retry later (a real MTA queues the message and \
             retries by itself)",
        ),
        // Nothing more specific is known: say what the class means for the user.
        _ if c.class() == 4 => s(
            "a temporary failure on the server side: retry later (a real MTA queues the message \
             and retries by itself)",
        ),
        _ if c.class() == 5 => s(
            "refused for good: the reply text gives the server's reason; retrying unchanged will \
             not help",
        ),
        _ => None,
    }
}

/// Exim's refusal of a parameter it does not recognise ("… may not follow <address>").
const UNRECOGNISED_PARAM: &str = "the server did not recognise a parameter after the address, \
     so it read it as part of the address: only use parameters of extensions the EHLO reply lists \
     (it was probably forced with ⟨force-ext⟩)";

/// The reply names a MAIL/RCPT parameter (a refused extension parameter, not the address):
/// Postfix's "Bad RET parameter syntax", "Bad message size syntax" (SIZE=), Exim's "invalid
/// data for BODY", "Value for RET is invalid".
fn mentions_parameter(c: &Ctx) -> bool {
    c.has_token(&[
        "notify",
        "orcpt",
        "ret",
        "ret parameter",
        "envid",
        "body=",
        "body",
        "message size",
        "smtputf8",
    ])
}

/// The hint for a MAIL FROM parameter the reply names with a bad value (501, 553: Postfix's
/// "Bad RET parameter syntax", Exim's "invalid data for BODY").
const MAIL_PARAM_INVALID: &str = "the server refused a MAIL FROM parameter (SIZE=, BODY=, RET=, \
     ENVID=, SMTPUTF8…): only use extensions the EHLO reply lists, with valid values";

/// As [`MAIL_PARAM_INVALID`], for RCPT TO.
const RCPT_PARAM_INVALID: &str = "the server refused an RCPT TO parameter (NOTIFY=, ORCPT=): \
     only use extensions the EHLO reply lists, with valid values";

/// The hint for a 555 or 455 to MAIL FROM when nothing more is known than the phase: the
/// parameters a MAIL FROM usually carries.
const MAIL_PARAMS_REFUSED: &str = "the server did not accept a MAIL FROM parameter (SIZE=, \
     BODY=, SMTPUTF8, RET=, ENVID=…): only use extensions the EHLO reply lists";

/// As [`MAIL_PARAMS_REFUSED`], for RCPT TO.
const RCPT_PARAMS_REFUSED: &str = "the server did not accept an RCPT TO parameter (NOTIFY=, \
     ORCPT= need the DSN extension): only use extensions the EHLO reply lists";

/// The hint of a reply to MAIL FROM or RCPT TO that refused its parameters, worded by the
/// parameters the command carried, `sent`, which the session knows and the reply's explanation
/// does not: the ones the reply names (Postfix "555 5.5.4 Unsupported option: XFOO=1", "501
/// 5.5.4 Bad RET parameter syntax", Exim "501 Value for RET is invalid", "… XFOO=1 may not
/// follow <address>"), else all of them. A parameter not implemented (555 or 455, RFC 5321
/// §4.1.1.11 and §4.2.3), one with a bad value (501, 553) and one Exim read as part of the
/// address each keep their advice; `hint` stays when it is any other (a vendor's or the reply
/// text's own reading).
pub(crate) fn params_refused(
    hint: Option<Hint>,
    reply: &Reply,
    phase: Phase,
    sent: &[String],
) -> Option<Hint> {
    let (general, invalid, command) = match phase {
        Phase::Mail => (MAIL_PARAMS_REFUSED, MAIL_PARAM_INVALID, "MAIL FROM"),
        Phase::Rcpt => (RCPT_PARAMS_REFUSED, RCPT_PARAM_INVALID, "RCPT TO"),
        _ => return hint,
    };
    let Some(code) = reply.code else {
        return hint;
    };
    let is = |text: &str| hint.as_ref() == Some(&Hint::new(text));
    let c = Ctx::new(reply, code, phase);
    // The parameters the reply names, by keyword (`RET` of `RET=X`) as a whole word, or the
    // words a server uses for one (Postfix: "Bad message size syntax" is SIZE=).
    let named: Vec<&String> = sent
        .iter()
        .filter(|p| {
            let key = p.split('=').next().unwrap_or_default().to_ascii_lowercase();
            !key.is_empty()
                && (c.has_token(&[key.as_str()]) || key == "size" && c.has(&["message size"]))
        })
        .collect();
    let list = |ps: &[&String]| ps.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" ");
    if matches!(code, 555 | 455) && is(general) {
        let all: Vec<&String> = sent.iter().collect();
        let shown = if named.is_empty() { all } else { named };
        let text = match shown.as_slice() {
            [] => format!(
                "the server refused the parameters of this {command}, which carried none: the \
                 refusal is about something else (read the reply text) or the server is wrong"
            ),
            [one] => format!(
                "the server did not accept the parameter of this {command}, {one}: only use \
                 extensions the EHLO reply lists"
            ),
            many => format!(
                "the server did not accept a parameter of this {command} ({}): only use \
                 extensions the EHLO reply lists",
                list(many)
            ),
        };
        return Some(Hint::plain(text));
    }
    if named.is_empty() {
        return hint;
    }
    if is(invalid) {
        let which = match named.as_slice() {
            [one] => format!("the parameter of this {command}, {one}"),
            many => format!("a parameter of this {command} ({})", list(many)),
        };
        return Some(Hint::plain(format!(
            "the server refused {which}: give it a value the extension allows, or leave it out \
             (only use extensions the EHLO reply lists)"
        )));
    }
    if is(UNRECOGNISED_PARAM) {
        let which = match named.as_slice() {
            [one] => format!("the parameter {one} after the address"),
            many => format!("a parameter after the address ({})", list(many)),
        };
        return Some(Hint::plain(format!(
            "the server did not recognise {which}, so it read it as part of the address: only \
             use parameters of extensions the EHLO reply lists"
        )));
    }
    hint
}

pub(super) fn hint(reply: &Reply, phase: Phase) -> Option<String> {
    hint_in(reply, phase, Known::default())
}

/// [`hint`] worded from what the session knows of itself (`known`).
pub(super) fn hint_in(reply: &Reply, phase: Phase, known: Known) -> Option<String> {
    // Whatever its code, a reply the close cut short is no answer (RFC 5321 §4.2.1: it ends
    // with its last line), and what it would have said is unknown.
    if reply
        .deviations
        .contains(&crate::smtp::event::Deviation::TruncatedAtClose)
    {
        return Some(
            "the connection closed before this reply ended, so it answers nothing whatever its \
             code says (a sender treats it as a lost connection and retries later)"
                .to_string(),
        );
    }
    let Some(code) = reply.code else {
        return Some(garbage_hint(reply, phase));
    };
    if !(200..600).contains(&code) {
        return Some(format!(
            "{code} is not a valid SMTP reply code: the server is broken, or this is not SMTP"
        ));
    }
    let mut c = Ctx::new(reply, code, phase);
    c.known = known;
    let found = vendor_hint(&c)
        .or_else(|| {
            is_blocklisted(&c).then(|| {
                "your sending IP (or domain) is on a DNS blocklist: look up the list named in \
                 the reply and request delisting, or send from another IP"
                    .to_string()
            })
        })
        .or_else(|| unadvertised_hint(&c))
        .or_else(|| text_hint(&c))
        .or_else(|| {
            is_busy_ctx(&c).then(|| {
                let mut h = if c.code == 421 {
                    "the server is closing the channel because you are sending too fast (a rate \
                     limit on your IP, account or sender): slow down, reconnect and retry later"
                } else {
                    "you are sending too fast for this server (a rate limit on your IP, account \
                     or sender): slow down, and retry later"
                }
                .to_string();
                if c.class() == 5 {
                    h.push_str(" (it is given as permanent, but the limit resets with time)");
                }
                h
            })
        })
        .or_else(|| other_party_hint(&c))
        .or_else(|| {
            is_greylisting(&c).then(|| {
                "greylisted: the server defers unknown senders once; retry after a few minutes \
                 (a real MTA does this by itself)"
                    .to_string()
            })
        })
        .or_else(|| {
            // Relay refusals surface on RCPT (or MAIL), and a 530 is about access whatever
            // the command; both outrank the per-command rules.
            matches!(phase, Phase::Rcpt | Phase::Mail)
                .then(|| relay_denied(&c))
                .flatten()
        })
        .or_else(|| (code == 530).then(|| access_first_hint(&c)))
        .or_else(|| strong_enhanced_hint(&c))
        .or_else(|| {
            // At the end of data a 5.7.x refusal has its own (content) hint below.
            (is_spam_verdict(&c)
                && c.enhanced.is_none_or(|e| e.subject != 1)
                && !(c.phase == Phase::Dot && c.enh(7, 1)))
            .then(|| {
                "the message (or its sender) was classified as spam: check the text, links and \
                 attachments and the sender domain's SPF/DKIM/DMARC; the receiving side's admin \
                 can tell which rule hit"
                    .to_string()
            })
        })
        .or_else(|| phase_hint(&c))
        .or_else(|| generic_hint(&c));
    // A reply cut at the size limit was not tolerated: the client closes the connection.
    let tolerated = reply
        .deviations
        .iter()
        .any(|d| !matches!(d, crate::smtp::event::Deviation::ReplyTooLarge { .. }));
    if found.is_none() && tolerated {
        return Some(
            "the reply breaks SMTP syntax rules (see the deviations); ehlo tolerated it, but \
             stricter clients may fail here"
                .to_string(),
        );
    }
    found
}
