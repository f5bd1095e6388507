//! Reply-code knowledge: basic codes (RFC 5321 §4.2.3 and extensions), the IANA enhanced status
//! code registry (RFC 3463, RFC 5248; vendored CSV), and context hints ("530 after MAIL → add
//! --tls"). Our own words; registry data verbatim.
//!
//! Three layers, so that a reply is explained by what it is, where it came, and what to do:
//! 1. registry meaning: the IANA "SMTP Enhanced Status Codes" enumerated-codes export
//!    (`enhanced-status-codes.csv`, 81 codes X.0.0–X.7.30) read with `include_str!` and parsed
//!    once, on first use, by a small RFC 4180 parser; plus our own one-line meaning per code;
//! 2. command context: RFC 5321 §4.3.2 says which replies each command may get, and the same
//!    code means different things after different commands ("550 after RCPT" is a refused
//!    recipient, "550 after MAIL" a refused sender);
//! 3. an actionable hint in our words ("add --tls"), with vendor-specific hints marked as such
//!    ("(Microsoft) …") because they are not standard. What a hint tells the user to do is kept
//!    as a [`Remedy`] inside the [`Hint`], so each front end words it (the REPL's `:starttls`).
//!
//! Everything here is pure and total: any reply, even garbage, gets an explanation and nothing
//! panics. Only a bounded prefix of the reply text is ever scanned for keywords.

use serde::Serialize;

use crate::smtp::capabilities::Capabilities;
use crate::smtp::event::Phase;
use crate::smtp::reply::{EnhancedCode, Reply};
use context::{basic_in_context, context_meaning, severity};
pub(crate) use hints::is_busy;
pub(crate) use hints::params_refused;
pub(crate) use hints::starttls_not_started;
use hints::{Ctx, hint_in, refused_party};
#[cfg(test)]
pub(crate) use remedy::Part;
pub(crate) use remedy::{Hint, Remedy, TlsAsked, TlsProtocol};

mod context;
mod hints;
mod registry;
mod remedy;
mod table;
#[cfg(test)]
mod tests;

pub(crate) use registry::lookup_enhanced;
pub(crate) use table::CodeTable;
pub(crate) use table::code_table;

/// Registry entry of an enhanced status code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnhancedInfo {
    /// The code as received (`5.1.1`).
    pub code: String,
    /// Registry sample text ("Bad destination mailbox address").
    pub title: String,
    /// Short meaning in our words (or the class + subject names when the detail is unregistered).
    pub meaning: String,
}

/// How bad a reply is, for colouring and for `--explain errors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Severity {
    /// 2xx/3xx as expected.
    Ok,
    /// Unusual but not an error (e.g. 251, 252, a deviation).
    Notice,
    /// 4xx.
    Transient,
    /// 5xx or garbage.
    Permanent,
}

/// Explanation of one reply in the context of the command it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Explanation {
    /// What the basic code means here.
    pub(crate) basic: Option<String>,
    /// The enhanced code's registry meaning.
    pub(crate) enhanced: Option<EnhancedInfo>,
    /// What it means in this context and what to do ("server wants STARTTLS: add --tls"), the
    /// remedies kept apart for each front end to word.
    pub(crate) hint: Option<Hint>,
    /// Severity.
    pub(crate) severity: Option<Severity>,
}

/// What a reply answers beyond its command phase: the replies after the content that PRDR
/// (draft-hall-prdr §4) and LMTP (RFC 2033 §4.2) give per recipient, where the same code means
/// something narrower than a reply for the whole message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Answer {
    /// The reply to the command of the phase (everything but the cases below).
    #[default]
    Command,
    /// PRDR: the 353 after the content that announces one reply per recipient.
    PrdrStart,
    /// PRDR: one accepted recipient's own reply after the content.
    PrdrRecipient,
    /// LMTP: one accepted recipient's delivery reply after the content.
    LmtpRecipient,
    /// AUTH: the reply to the client's `*` that cancelled the exchange (RFC 4954 §4: 501).
    AuthCancel,
    /// The reply to a greeting (`EHLO`, `HELO`, `LHLO`: the verb) that no HELO follows when it
    /// is not understood: a HELO, an LHLO (RFC 2033 §4.1), an EHLO after STARTTLS or XCLIENT,
    /// or one typed in the REPL.
    GreetingWithoutFallback(&'static str),
    /// The reply to BDAT chunk `n` of `of` that is not the last (RFC 3030 §2): a 250 there
    /// takes the chunk, not the message.
    BdatChunk { n: usize, of: usize },
}

/// Explain `reply` as an answer to a command of `phase`.
pub(crate) fn explain(reply: &Reply, phase: Phase) -> Explanation {
    explain_answer(reply, phase, Answer::Command)
}

/// What a session knows of itself when a reply comes, so that a hint never tells the user to
/// add what the session has already done: "add --tls" to a session in TLS (a `530 5.7.0
/// Authentication required` after STARTTLS was "add --auth --auth-user USER (usually with
/// --tls)"), "add --auth" to one that authenticated. Each `None` when not known (`ehlo
/// explain`: a reply alone), where the hint stays as general as it was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Known {
    /// The session is in TLS (STARTTLS done, or implicit TLS).
    pub(crate) tls: Option<bool>,
    /// The latest EHLO reply offered AUTH.
    pub(crate) auth_offered: Option<bool>,
    /// The session has authenticated (a 235 to AUTH).
    pub(crate) authenticated: Option<bool>,
}

impl Known {
    /// What a session (the send's or the REPL's) knows of itself: whether it is in TLS, the
    /// latest EHLO reply's capabilities (`None` before one: whether AUTH was offered is not
    /// known), whether it has authenticated.
    pub(crate) fn of_session(tls: bool, caps: Option<&Capabilities>, authenticated: bool) -> Self {
        Known {
            tls: Some(tls),
            auth_offered: caps.map(|c| !c.auth_mechanisms().is_empty()),
            authenticated: Some(authenticated),
        }
    }
}

/// Explain `reply` as an answer to a command of `phase`, in the narrower role `answer` (a
/// PRDR or LMTP reply for one recipient after the content).
pub(crate) fn explain_answer(reply: &Reply, phase: Phase, answer: Answer) -> Explanation {
    explain_known(reply, phase, answer, Known::default())
}

/// [`explain_answer`] in a session that knows `known` of itself: its hint worded from it.
pub(crate) fn explain_known(
    reply: &Reply,
    phase: Phase,
    answer: Answer,
    known: Known,
) -> Explanation {
    let mut basic = basic_in_context(reply.code, phase);
    let mut hint = hint_in(reply, phase, known).map(Hint::new);
    if let Some(code) = reply.code {
        let c = Ctx::new(reply, code, phase);
        if hints::auth_not_offered(&c) {
            basic = hints::AUTH_NOT_OFFERED.to_string();
        }
        if let Some(who) = refused_party(&c) {
            basic = format!("{basic} — but the refusal is about {who}, not the recipient");
        }
    }
    let per_recipient = match answer {
        Answer::Command => None,
        Answer::PrdrStart => {
            // Whatever the server says here, it is the announcement, not a verdict.
            if reply.code == Some(353) {
                basic = context_meaning(353, Phase::Dot)
                    .unwrap_or_default()
                    .to_string();
            }
            None
        }
        Answer::AuthCancel => {
            // A success claimed for an exchange the client refused to finish is no success.
            if reply.class() == Some(2) {
                basic = "the server claims success for an exchange the client cancelled: \
                         not authenticated"
                    .to_string();
            } else if reply.code == Some(501) {
                // The answer a cancel asks for: no advice about authenticating applies to it.
                hint = None;
            }
            None
        }
        Answer::GreetingWithoutFallback(verb) => {
            if matches!(reply.code, Some(500 | 502)) {
                basic = format!("{verb} not understood");
                hint = Some(Hint::new(match verb {
                    "LHLO" => {
                        "the server does not speak LMTP (LHLO unknown, RFC 2033 §4.1): it may be \
                         an SMTP server, which is greeted with EHLO"
                    }
                    "HELO" => "the server does not understand HELO: it may not be an SMTP server",
                    _ => {
                        "the server does not understand EHLO here; a server without ESMTP takes \
                         HELO instead (no STARTTLS, AUTH or SIZE then)"
                    }
                }));
            }
            None
        }
        Answer::BdatChunk { n, of } => {
            basic = match reply.class() {
                Some(2) => format!(
                    "BDAT chunk {n} of {of} received: the message is judged by the reply to \
                     BDAT LAST"
                ),
                Some(4 | 5) => format!(
                    "BDAT chunk {n} of {of} refused: the message fails, no further chunk is \
                     sent (RFC 3030 §2): {basic}"
                ),
                _ => basic,
            };
            None
        }
        Answer::PrdrRecipient => Some("PRDR"),
        Answer::LmtpRecipient => Some("LMTP"),
    };
    if let (Some(proto), Some(class)) = (per_recipient, reply.class()) {
        let scope = match class {
            2 => "accepted for this recipient",
            4 => "deferred for this recipient only",
            _ => "refused for this recipient only",
        };
        basic = format!(
            "{scope} ({proto}: each recipient gets its own reply after the content): {basic}"
        );
        if let Some(h) = hint.as_mut()
            && matches!(class, 4 | 5)
        {
            h.push_str(
                " (this reply covers this one recipient; the others were answered separately)",
            );
        }
    }
    Explanation {
        basic: Some(basic),
        enhanced: reply.enhanced.as_ref().and_then(lookup_enhanced),
        hint,
        severity: Some(severity(reply, phase)),
    }
}

// ---------------------------------------------------------------------------------------------
// `:explain CODE` for the REPL
// ---------------------------------------------------------------------------------------------

/// Does `code` have a meaning of its own as an answer to the command of `phase` (RFC 5321
/// §4.3.2 and the extensions)? Used to pick the commands a pasted reply may answer.
pub(crate) fn is_known_answer(code: u16, phase: Phase) -> bool {
    context_meaning(code, phase).is_some()
}

/// Parse `5.1.1`, `X.7.1` (class 0 = any) into an enhanced code.
pub(crate) fn parse_enhanced_word(w: &str) -> Option<EnhancedCode> {
    let mut it = w.split('.');
    let c = it.next()?;
    let class = if c.eq_ignore_ascii_case("x") {
        0
    } else {
        match c.parse::<u8>().ok()? {
            v @ (2 | 4 | 5) => v,
            _ => return None,
        }
    };
    let subject: u16 = it.next()?.parse().ok()?;
    let detail: u16 = it.next()?.parse().ok()?;
    if it.next().is_some() || subject > 999 || detail > 999 {
        return None;
    }
    Some(EnhancedCode {
        class,
        subject,
        detail,
    })
}

/// The phases shown in `:explain` context lines and tried by `ehlo explain` when a reply's
/// phase is not known, in dialogue order.
pub(crate) const DIALOGUE_PHASES: &[Phase] = &[
    Phase::Banner,
    Phase::Helo,
    Phase::StartTls,
    Phase::Auth,
    Phase::Mail,
    Phase::Rcpt,
    Phase::Data,
    Phase::Dot,
    Phase::Quit,
];
