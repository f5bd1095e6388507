//! Basic reply codes in command context (RFC 5321 §4.3.2): what a code means after each command,
//! and how bad it is there.

use super::Severity;
use super::registry::basic_meaning;
use crate::smtp::event::Phase;
use crate::smtp::reply::Reply;

/// The positive (2xx/3xx) replies that a command expects (RFC 5321 §4.3.2; RFC 3207 for
/// STARTTLS; RFC 4954 for AUTH). `None`: no particular expectation (REPL commands, …).
fn expected_positive(phase: Phase) -> Option<&'static [u16]> {
    Some(match phase {
        Phase::Banner | Phase::StartTls => &[220],
        Phase::Helo | Phase::HeloAfterTls | Phase::HeloAfterXclient | Phase::Mail => &[250],
        // 353: PRDR's "per-recipient replies follow" (draft-hall-prdr §4), only ever after the
        // content.
        Phase::Dot => &[250, 353],
        // 251 is allowed after RCPT; 252 is a VRFY reply some servers also give to RCPT.
        Phase::Rcpt => &[250, 251, 252],
        Phase::Data => &[354],
        Phase::Auth => &[235, 334],
        // Postfix answers a successful XCLIENT with a new 220 greeting; others use 250.
        Phase::Xclient => &[220, 250],
        Phase::Quit => &[221],
        Phase::Dns | Phase::Connect | Phase::Proxy | Phase::Other => return None,
    })
}

/// What `code` means as an answer to the command of `phase`, where that differs from the plain
/// table meaning. Own words.
pub(super) fn context_meaning(code: u16, phase: Phase) -> Option<&'static str> {
    use Phase::*;
    Some(match (phase, code) {
        (Banner, 220) => "service ready: the server greets you and waits for EHLO",
        (Banner, 421) => "the server will not serve you right now and is closing the connection",
        (Banner, 554) => "the server refuses to talk to you: no SMTP service for this client",
        (Helo | HeloAfterTls | HeloAfterXclient, 250) => {
            "ok: greeting accepted; the lines after the first list the extensions the server supports"
        }
        (Helo | HeloAfterTls | HeloAfterXclient, 500 | 502) => {
            "EHLO not understood: an old server without ESMTP (HELO may still work)"
        }
        (Helo | HeloAfterTls | HeloAfterXclient, 501) => {
            "the name you greeted with (the EHLO argument) was rejected"
        }
        (Helo | HeloAfterTls | HeloAfterXclient, 550 | 554) => {
            "the server refuses your greeting (by policy)"
        }
        (StartTls, 220) => "ready to start the TLS handshake",
        (StartTls, 454) => "TLS is not available right now",
        (StartTls, 500 | 502) => "STARTTLS is not supported here",
        (StartTls, 501) => "STARTTLS takes no arguments",
        (StartTls, 503) => "STARTTLS is out of sequence (TLS may already be active)",
        (Auth, 235) => "authentication succeeded",
        (Auth, 334) => {
            "AUTH continues: the server sends a base64 challenge and waits for your answer"
        }
        (Auth, 454) => "temporary authentication failure on the server side",
        (Auth, 500 | 502) => "AUTH not supported here (or the exchange line was too long)",
        (Auth, 501) => "the AUTH exchange was malformed or cancelled",
        (Auth, 503) => "AUTH out of sequence (already authenticated, or inside a mail transaction)",
        (Auth, 504) => "this AUTH mechanism is not supported",
        (Auth, 535) => "authentication failed: credentials rejected",
        // RFC 4954 §6: these three ask the user to act; none goes away by retrying as it was.
        (Auth, 432) => {
            "a password transition is needed: the user must authenticate once with PLAIN before \
             the selected mechanism works"
        }
        (Auth, 534) => "this AUTH mechanism is too weak for the server's policy",
        (Auth, 538) => "this AUTH mechanism needs an encrypted connection",
        (Xclient, 220 | 250) => "XCLIENT accepted",
        (Xclient, 550) => "XCLIENT refused: your client is not allowed to use it",
        (Mail, 250) => "sender accepted; RCPT comes next",
        (Mail, 550) => "sender refused: the server will not take mail from this address",
        (Mail, 553) => "sender address not allowed (bad syntax, or not yours to use)",
        (Mail, 552) => "the declared message size exceeds the server's limit",
        (Mail, 451 | 452) => "the server cannot accept a new message right now; retry later",
        (Mail, 455 | 555) => "the MAIL FROM parameters could not be accepted",
        (Mail, 554) => "sender refused: the transaction failed (usually by policy)",
        (Mail, 503) => "MAIL out of sequence (before EHLO or AUTH, or inside another transaction)",
        (Rcpt, 250) => "recipient accepted",
        (Rcpt, 251) => "recipient not local; the server will forward the message",
        (Rcpt, 252) => "recipient cannot be verified, but the server will try to deliver",
        (Rcpt, 450) => "mailbox unavailable for now; recipient deferred, retry later",
        // RFC 5321 §4.2.3 words 451 "local error in processing", but at RCPT it is as often a
        // deferral by policy (greylisting's `451 4.7.1`, a rate limit): no server fault.
        (Rcpt, 451) => {
            "recipient deferred: a local error on the server, or a policy deferral such as \
             greylisting (the enhanced code and the text tell which); retry later"
        }
        (Rcpt, 452) => "too many recipients, or not enough storage right now; retry later",
        (Rcpt, 550) => "mailbox unavailable / recipient refused",
        (Rcpt, 551) => "recipient not local and the server will not forward",
        (Rcpt, 552) => "the recipient's storage is full (or too many recipients)",
        (Rcpt, 554) => {
            "recipient refused: the transaction failed for this address (usually policy: relay, \
             blocklist or sender checks; the text says which)"
        }
        (Rcpt, 553) => "recipient address not allowed (e.g. bad syntax)",
        (Rcpt, 455 | 555) => "the RCPT TO parameters could not be accepted",
        (Rcpt, 503) => "RCPT out of sequence (no accepted MAIL FROM yet)",
        (Data, 354) => "go ahead: send the message and end it with <CRLF>.<CRLF>",
        (Data, 503) => "DATA out of sequence: no accepted sender or recipient",
        // RFC 5321 §3.3's "no valid recipients", but also a policy check made at DATA
        // (Postfix's smtpd_data_restrictions: `554 5.7.1 <DATA>: Data command rejected: …`).
        (Data, 554) => {
            "DATA refused: no valid recipients, or a policy check made at DATA (the text says \
             which)"
        }
        (Dot, 250) => "message accepted for delivery (queued)",
        (Dot, 353) => {
            "PRDR: content received; one reply per recipient follows, then a final reply for the \
             message (draft-hall-prdr)"
        }
        (Dot, 451) => "the server failed while processing the message; retry later",
        (Dot, 452) => "not enough storage for the message right now; retry later",
        (Dot, 450 | 550) => "message refused by policy after its content was seen",
        (Dot, 552) => {
            "storage allocation exceeded: the message is too big, or a mailbox is over its quota \
             (an enhanced code tells which: 5.3.4 too big, 5.2.2 quota; without one, the text)"
        }
        (Dot, 554) => "message rejected, usually by a content policy (spam, virus, authentication)",
        (Quit, 221) => "normal close: the server says goodbye",
        (_, 421) => "service not available; the server is closing the connection",
        // RFC 7504 §3: a host that accepts no mail greets with 521 and answers every command
        // but QUIT with it. Postfix also answers 521 to a command it cannot go on after and
        // hangs up (smtpd.c: a malformed BDAT, whose chunk end it can no longer find; a client
        // that talks before its turn), so after a command it says "closing for good", not "no
        // mail here".
        (Banner, 521) => "this host does not accept mail at all (RFC 7504 §3)",
        (_, 521) => {
            "refused for good, and the server is closing the connection: a host that accepts no \
             mail (RFC 7504), or a command the server will not go on after (the text says why)"
        }
        _ => return None,
    })
}

/// Table meanings that name the one command they belong to ("as a greeting: …", "after AUTH:
/// …") read wrongly as the answer to another command; this is what such a code says anywhere.
fn phase_free_meaning(code: u16) -> Option<&'static str> {
    Some(match code {
        220 => "service ready",
        454 => "temporary failure: the server cannot do this right now; retry later",
        500 => "syntax error or unrecognised command (or a line that is too long)",
        554 => "transaction failed (refused, usually by policy; the text says why)",
        _ => return None,
    })
}

/// The basic-code line of an explanation: context meaning, else the table meaning (or its
/// phase-free form when the table's wording belongs to another command), else what the class
/// alone says.
pub(super) fn basic_in_context(code: Option<u16>, phase: Phase) -> String {
    let Some(code) = code else {
        return "no reply code: the line does not start with three digits, so it is not an SMTP reply"
            .to_string();
    };
    // The table only when the command gives no meaning of its own: most replies of a dialogue
    // have one, and a run then never loads the table (callgrind: 6% of a plain send's
    // instructions went to loading it for replies that did not use it).
    let table = || {
        if phase == Phase::Other {
            basic_meaning(code)
        } else {
            phase_free_meaning(code).or_else(|| basic_meaning(code))
        }
    };
    let mut s = match context_meaning(code, phase).or_else(table) {
        Some(m) => m.to_string(),
        None => match code / 100 {
            2 => "unknown success code (2xx: the command was accepted)".to_string(),
            3 => "unknown intermediate code (3xx: the server waits for more input)".to_string(),
            4 => "unknown temporary failure code (4xx: retry later)".to_string(),
            5 => "unknown permanent failure code (5xx: do not retry unchanged)".to_string(),
            1 => "1xx replies are not used by SMTP (RFC 5321 §4.2.1)".to_string(),
            _ => "not a valid SMTP reply code (SMTP replies are 2xx–5xx)".to_string(),
        },
    };
    // A positive reply that the command cannot get (RFC 5321 §4.3.2) usually means the two
    // sides are out of step (e.g. a PIPELINING desync); say so.
    if matches!(code / 100, 2 | 3)
        && let Some(exp) = expected_positive(phase)
        && !exp.contains(&code)
    {
        s.push_str(&format!(
            " (unexpected as an answer to {}: the dialogue may be out of step)",
            phase.label()
        ));
    }
    s
}

pub(super) fn severity(reply: &Reply, phase: Phase) -> Severity {
    // Cut off by the close: no verdict, so a retry later (a lost connection to a sender).
    if reply
        .deviations
        .contains(&crate::smtp::event::Deviation::TruncatedAtClose)
    {
        return Severity::Transient;
    }
    let Some(code) = reply.code else {
        return Severity::Permanent;
    };
    let sev = match code / 100 {
        4 => Severity::Transient,
        2 | 3 => {
            if matches!(code, 251 | 252) {
                Severity::Notice
            } else {
                match expected_positive(phase) {
                    Some(exp) if !exp.contains(&code) => Severity::Notice,
                    _ => Severity::Ok,
                }
            }
        }
        // 5xx, and 1xx/6xx+, which no SMTP server may send.
        _ => Severity::Permanent,
    };
    if sev == Severity::Ok && !reply.deviations.is_empty() {
        Severity::Notice
    } else {
        sev
    }
}
