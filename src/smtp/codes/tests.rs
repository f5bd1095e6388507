//! Tests of the reply-code knowledge: CSV parsing, registry, context, hints, the table view.

use super::registry::{
    BASIC, BASIC_CSV, CsvError, ENHANCED_CSV, OWN_WORDS, basic_entry, basic_meaning, load_basic,
    load_registry, own_words, paraphrase, parse_csv, registry, registry_entry, registry_row,
};
use super::*;
use crate::smtp::event::Deviation;

fn ex(code: u16, line: &str, phase: Phase) -> Explanation {
    explain(&Reply::new(code, &[line]), phase)
}

fn hint_of(code: u16, line: &str, phase: Phase) -> String {
    ex(code, line, phase).hint.unwrap_or_default().to_string()
}

// --- CSV parser -----------------------------------------------------------------------

#[test]
fn csv_quotes_newlines_and_doubled_quotes() {
    let t = "a,b,c\r\n1,\"x\ny\",\"say \"\"hi\"\"\"\r\n2,,\"\"\r\n";
    let r = parse_csv(t).unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[1], vec!["1", "x\ny", "say \"hi\""]);
    assert_eq!(r[2], vec!["2", "", ""]);
}

#[test]
fn csv_quoted_crlf_kept_and_last_record_without_newline() {
    let r = parse_csv("\"a\r\nb\",c\r\nd,e").unwrap();
    assert_eq!(r, vec![vec!["a\r\nb", "c"], vec!["d", "e"]]);
}

#[test]
fn csv_bare_lf_records_and_blank_lines() {
    let r = parse_csv("a,b\n\n1,2\n").unwrap();
    assert_eq!(r, vec![vec!["a", "b"], vec!["1", "2"]]);
    // A trailing empty field is still a field.
    assert_eq!(parse_csv("a,\r\n").unwrap(), vec![vec!["a", ""]]);
}

#[test]
fn csv_errors() {
    assert_eq!(
        parse_csv("a,\"open\nstill"),
        Err(CsvError::UnterminatedQuote { line: 1 })
    );
    assert_eq!(
        parse_csv("x\r\n\"q\"z,1"),
        Err(CsvError::JunkAfterQuote { line: 2 })
    );
    assert_eq!(parse_csv("").unwrap(), Vec::<Vec<String>>::new());
}

#[test]
fn csv_literal_cr_and_quotes_and_edges() {
    // A lone CR and a quote inside an unquoted field are data; a field ending the text after a
    // comma is empty; a quoted field may end the text.
    assert_eq!(
        parse_csv("a\rb,c\"d\",\r\n,x,").unwrap(),
        vec![vec!["a\rb", "c\"d\"", ""], vec!["", "x", ""]]
    );
    assert_eq!(parse_csv("\"q\"").unwrap(), vec![vec!["q"]]);
    assert_eq!(parse_csv("\"\"\"\"").unwrap(), vec![vec!["\""]]);
    assert_eq!(
        parse_csv("\u{e9},\u{a7}1\r\n").unwrap(),
        vec![vec!["\u{e9}", "\u{a7}1"]]
    );
    // Error lines count the line breaks inside earlier quoted fields; a CR after a closing
    // quote that does not start CRLF is junk.
    assert_eq!(
        parse_csv("\"a\nb\nc\",1\n\"x\"y"),
        Err(CsvError::JunkAfterQuote { line: 4 })
    );
    assert_eq!(
        parse_csv("1\n2\n3,\"open"),
        Err(CsvError::UnterminatedQuote { line: 3 })
    );
    assert_eq!(
        parse_csv("\"a\"\r"),
        Err(CsvError::JunkAfterQuote { line: 1 })
    );
}

// --- registry -------------------------------------------------------------------------

#[test]
fn the_record_index_agrees_with_the_full_parse() {
    for e in registry() {
        assert_eq!(
            registry_row(e.subject, e.detail).as_ref(),
            Some(e),
            "{}",
            e.code()
        );
    }
    assert_eq!(registry_row(1, 99), None);
}

#[test]
fn registry_loads_all_81_codes() {
    let reg = load_registry(ENHANCED_CSV).expect("vendored registry parses");
    assert_eq!(reg.len(), 81);
    assert_eq!(registry().len(), 81);
    assert_eq!(reg.first().unwrap().code(), "X.0.0");
    assert_eq!(reg.last().unwrap().code(), "X.7.30");
    // No duplicates.
    for (i, a) in reg.iter().enumerate() {
        assert!(
            !reg[i + 1..]
                .iter()
                .any(|b| (b.subject, b.detail) == (a.subject, a.detail)),
            "{} twice",
            a.code()
        );
    }
    // Every registered code has our own words (a new export would need new ones).
    for e in &reg {
        assert!(own_words(e.subject, e.detail).is_some(), "{}", e.code());
    }
    assert_eq!(OWN_WORDS.len(), 81);
}

#[test]
fn registry_quirks() {
    // Sample text wrapped over two lines (X.6.8) is joined.
    let e = registry_entry(6, 8).unwrap();
    assert_eq!(
        e.sample_text,
        "UTF-8 string reply is required, but not permitted by the SMTP client"
    );
    // X.6.10: description only.
    let e = registry_entry(6, 10).unwrap();
    assert_eq!(e.sample_text, "");
    assert!(e.description.contains("duplicate of X.6.8"));
    let i = lookup_enhanced(&EnhancedCode {
        class: 5,
        subject: 6,
        detail: 10,
    })
    .unwrap();
    assert!(i.title.contains("duplicate of X.6.8"));
    assert!(i.meaning.starts_with("Permanent failure: deprecated"));
    // Associated basic code wrapped over two lines (X.5.0) and the odd "." (X.7.28).
    assert!(
        registry_entry(5, 0)
            .unwrap()
            .associated_basic
            .ends_with("501, 502, 503, 554")
    );
    assert_eq!(registry_entry(7, 28).unwrap().associated_basic, ".");
    // Doubled quotes become one quote.
    assert!(registry_entry(1, 1).unwrap().description.contains("\"@\""));
    // Indented continuation lines (X.7.30) are squashed.
    assert!(!registry_entry(7, 30).unwrap().description.contains("  "));
    assert_eq!(registry_entry(7, 30).unwrap().reference, "[RFC8689]");
}

#[test]
fn lookups() {
    let c = |class, subject, detail| EnhancedCode {
        class,
        subject,
        detail,
    };
    let i = lookup_enhanced(&c(5, 1, 1)).unwrap();
    assert_eq!(i.code, "5.1.1");
    assert_eq!(i.title, "Bad destination mailbox address");
    assert!(i.meaning.starts_with("Permanent failure: "));
    assert!(i.meaning.contains("does not exist"));

    let i = lookup_enhanced(&c(4, 7, 1)).unwrap();
    assert_eq!(i.title, "Delivery not authorized, message refused");
    assert!(i.meaning.starts_with("Temporary failure (retry later): "));

    let i = lookup_enhanced(&c(5, 7, 8)).unwrap();
    assert_eq!(i.title, "Authentication credentials invalid");

    let i = lookup_enhanced(&c(5, 7, 30)).unwrap();
    assert_eq!(i.title, "REQUIRETLS support required");

    let i = lookup_enhanced(&c(2, 1, 5)).unwrap();
    assert!(i.meaning.starts_with("Success: "));

    // X form.
    let i = lookup_enhanced(&c(0, 7, 1)).unwrap();
    assert_eq!(i.code, "X.7.1");
    assert!(i.meaning.starts_with("Any class: "));
}

/// X.1.10: the registry's title stays IANA's (RFC 7505's null MX), and the meaning says both
/// what the registry assigns and what Microsoft 365 commonly sends it for (an unknown
/// recipient), since a bare 5.1.10 may be either.
#[test]
fn x_1_10_says_the_registry_meaning_and_microsofts_use() {
    for class in [5, 4, 0] {
        let i = lookup_enhanced(&EnhancedCode {
            class,
            subject: 1,
            detail: 10,
        })
        .unwrap();
        assert_eq!(i.title, "Recipient address has null MX");
        assert!(
            i.meaning.contains("IANA registry") && i.meaning.contains("null MX (RFC 7505)"),
            "{}",
            i.meaning
        );
        assert!(
            i.meaning.contains("Microsoft 365")
                && i.meaning.contains("recipient not found")
                && i.meaning.contains("RESOLVER.ADR.RecipientNotFound"),
            "{}",
            i.meaning
        );
    }
}

#[test]
fn unregistered_codes_fall_back_to_class_and_subject() {
    let i = lookup_enhanced(&EnhancedCode {
        class: 5,
        subject: 1,
        detail: 99,
    })
    .unwrap();
    assert_eq!(i.code, "5.1.99");
    assert_eq!(i.title, "Not in the IANA registry");
    assert_eq!(
        i.meaning,
        "Permanent failure: addressing status; detail 99 is not in the IANA registry"
    );
    let i = lookup_enhanced(&EnhancedCode {
        class: 4,
        subject: 9,
        detail: 0,
    })
    .unwrap();
    assert!(i.meaning.contains("subject 9 is not in the IANA registry"));
    assert!(i.meaning.starts_with("Temporary failure"));
    assert!(
        lookup_enhanced(&EnhancedCode {
            class: 5,
            subject: 1000,
            detail: 0
        })
        .is_none()
    );
}

#[test]
fn paraphrase_uses_subject_and_sample() {
    assert_eq!(
        paraphrase(5, 3, "Mail system full"),
        "Permanent failure: mail system status (mail system full)"
    );
}

// --- basic codes ----------------------------------------------------------------------

#[test]
fn basic_table() {
    let b = load_basic(BASIC_CSV).unwrap();
    assert_eq!(b.len(), 34);
    assert_eq!(basic_meaning(221).unwrap(), BASIC[3].meaning);
    // A quoted field with a comma inside.
    assert_eq!(
        basic_meaning(252).unwrap(),
        "Cannot verify the user, but will accept the message and try to deliver it"
    );
    assert_eq!(
        basic_entry(452).unwrap().source,
        "RFC 5321 §4.2.3, §4.5.3.1.10"
    );
    assert!(basic_meaning(556).unwrap().contains("null MX"));
    assert_eq!(basic_meaning(299), None);
}

#[test]
fn basic_in_command_context() {
    let b = |code, p| ex(code, "x", p).basic.unwrap();
    assert!(b(550, Phase::Rcpt).contains("recipient refused"));
    assert!(b(550, Phase::Mail).contains("sender refused"));
    assert!(b(554, Phase::Dot).contains("content policy"));
    assert!(b(221, Phase::Quit).contains("normal close"));
    assert!(b(354, Phase::Data).contains("go ahead"));
    assert!(b(250, Phase::Helo).contains("extensions"));
    assert!(b(220, Phase::StartTls).contains("TLS handshake"));
    // No context: the table meaning.
    assert_eq!(b(502, Phase::Other), basic_meaning(502).unwrap());
    // Out-of-step positive reply.
    assert!(b(354, Phase::Mail).contains("unexpected as an answer to MAIL"));
}

// --- severity -------------------------------------------------------------------------

#[test]
fn severities() {
    let s = |code, p| ex(code, "x", p).severity.unwrap();
    assert_eq!(s(250, Phase::Mail), Severity::Ok);
    assert_eq!(s(220, Phase::Banner), Severity::Ok);
    assert_eq!(s(220, Phase::StartTls), Severity::Ok);
    assert_eq!(s(354, Phase::Data), Severity::Ok);
    assert_eq!(s(334, Phase::Auth), Severity::Ok);
    assert_eq!(s(235, Phase::Auth), Severity::Ok);
    assert_eq!(s(221, Phase::Quit), Severity::Ok);
    assert_eq!(s(251, Phase::Rcpt), Severity::Notice);
    assert_eq!(s(252, Phase::Rcpt), Severity::Notice);
    assert_eq!(s(250, Phase::Data), Severity::Notice);
    assert_eq!(s(250, Phase::Other), Severity::Ok);
    assert_eq!(s(450, Phase::Rcpt), Severity::Transient);
    assert_eq!(s(550, Phase::Rcpt), Severity::Permanent);
    assert_eq!(s(650, Phase::Rcpt), Severity::Permanent);
    let mut r = Reply::new(250, &["ok"]);
    r.deviations.push(Deviation::BareLf);
    assert_eq!(explain(&r, Phase::Mail).severity, Some(Severity::Notice));
    assert!(
        explain(&r, Phase::Mail)
            .hint
            .unwrap()
            .contains("deviations")
    );
    r.code = None;
    assert_eq!(explain(&r, Phase::Mail).severity, Some(Severity::Permanent));
}

// --- hints ----------------------------------------------------------------------------

/// A reply cut at the size limit was not tolerated (the client closes the connection): no
/// "ehlo tolerated it" hint for it, while a bare LF still gets one.
#[test]
fn a_reply_cut_at_the_limit_is_not_called_tolerated() {
    let mut r = Reply::new(250, &["x"]);
    r.deviations.push(Deviation::ReplyTooLarge {
        bytes: 7007,
        lines: 1001,
        unfinished_line: false,
        max_bytes: 1 << 20,
        max_lines: 1000,
    });
    let hint = explain(&r, Phase::Helo).hint.map(|h| h.to_string());
    assert!(
        !hint.as_deref().unwrap_or("").contains("tolerated"),
        "{hint:?}"
    );
    r.deviations = vec![Deviation::BareLf];
    let hint = explain(&r, Phase::Helo).hint.map(|h| h.to_string());
    assert!(hint.unwrap_or_default().contains("tolerated"));
}

#[test]
fn hint_530_starttls_vs_auth() {
    let h = hint_of(
        530,
        "5.7.0 Must issue a STARTTLS command first",
        Phase::Mail,
    );
    assert!(h.contains("STARTTLS first: add --tls"), "{h}");
    let h = hint_of(530, "5.7.0 Authentication required", Phase::Mail);
    assert!(
        h.contains("wants authentication: add --auth --auth-user"),
        "{h}"
    );
    // Unclear text: STARTTLS first (the usual case), mentioning auth too.
    let h = hint_of(530, "5.7.0 Access denied", Phase::Rcpt);
    assert!(h.contains("add --tls"), "{h}");
    let h = hint_of(
        530,
        "5.7.0 Must issue a STARTTLS command first",
        Phase::Auth,
    );
    assert!(h.contains("add --tls"), "{h}");
}

fn hint_known(code: u16, line: &str, phase: Phase, known: Known) -> String {
    let e = explain_known(&Reply::new(code, &[line]), phase, Answer::Command, known);
    e.hint.unwrap_or_default().to_string()
}

/// A hint never tells a session to add what it has done: a `530 5.7.0 Authentication required`
/// over TLS said "add --auth --auth-user USER (usually with --tls)"; to an authenticated
/// session a relay refusal said "add --auth"; `ehlo explain` (nothing known) keeps the
/// general words.
#[test]
fn hints_are_worded_from_what_the_session_knows() {
    let known = |tls, auth_offered, authenticated| Known {
        tls: Some(tls),
        auth_offered: Some(auth_offered),
        authenticated: Some(authenticated),
    };
    let auth = "5.7.0 Authentication required";
    let h = hint_known(530, auth, Phase::Mail, known(true, true, false));
    assert_eq!(
        h,
        "the server wants authentication: add --auth --auth-user USER"
    );
    let h = hint_known(530, auth, Phase::Mail, known(true, false, false));
    assert!(h.contains("offers no AUTH on this connection"), "{h}");
    assert!(!h.contains("add --tls"), "{h}");
    let h = hint_known(530, auth, Phase::Mail, known(false, false, false));
    assert!(h.contains("add --tls and --auth --auth-user USER"), "{h}");
    let h = hint_known(530, auth, Phase::Mail, known(false, true, false));
    assert_eq!(h, hint_of(530, auth, Phase::Mail));
    let h = hint_known(530, auth, Phase::Rcpt, known(true, true, true));
    assert!(h.contains("this session has authenticated"), "{h}");
    assert!(!h.contains("add --auth"), "{h}");
    // TLS named by the server, the session in TLS already.
    let starttls = "5.7.0 Must issue a STARTTLS command first";
    let h = hint_known(530, starttls, Phase::Mail, known(true, true, false));
    assert!(h.contains("in TLS already"), "{h}");
    assert!(!h.contains("add --tls"), "{h}");
    let h = hint_known(
        523,
        "5.7.10 Encryption needed",
        Phase::Mail,
        known(true, true, false),
    );
    assert!(h.contains("in TLS already"), "{h}");
    let h = hint_known(
        538,
        "5.7.11 Encryption required",
        Phase::Auth,
        known(true, true, false),
    );
    assert!(h.contains("another mechanism"), "{h}");
    assert!(!h.contains("add --tls"), "{h}");
    let not_enabled = "5.5.1 Error: authentication not enabled";
    let h = hint_known(503, not_enabled, Phase::Auth, known(true, false, false));
    assert!(h.contains("in TLS either"), "{h}");
    assert!(!h.contains("add --tls"), "{h}");
    let relay = "5.7.1 <a@b.example>: Relay access denied";
    let h = hint_known(554, relay, Phase::Rcpt, known(true, true, true));
    assert!(h.contains("although this session has authenticated"), "{h}");
    assert!(!h.contains("add --auth"), "{h}");
    let policy = "5.7.1 <a@b.example>: Recipient address rejected: Access denied";
    let h = hint_known(554, policy, Phase::Rcpt, known(true, true, true));
    assert!(h.contains("although this session has authenticated"), "{h}");
    assert!(!h.contains("add --auth"), "{h}");
    // Nothing known: as `ehlo explain` words them.
    for (code, line, phase) in [
        (530, auth, Phase::Mail),
        (530, starttls, Phase::Mail),
        (554, relay, Phase::Rcpt),
    ] {
        assert_eq!(
            hint_known(code, line, phase, Known::default()),
            hint_of(code, line, phase)
        );
    }
}

#[test]
fn hint_relay_denied() {
    for (code, line) in [
        (554, "5.7.1 <a@b.example>: Relay access denied"),
        (550, "5.7.1 Unable to relay"),
        (454, "4.7.1 <a@b.example>: Relay access denied"),
    ] {
        let h = hint_of(code, line, Phase::Rcpt);
        assert!(h.starts_with("relay denied"), "{code}: {h}");
        assert!(h.contains("--auth"), "{h}");
        assert_eq!(h.contains("temporary"), code == 454, "{h}");
    }
}

#[test]
fn hint_rcpt_failures() {
    let h = hint_of(
        550,
        "5.1.1 <nobody@x.example>: Recipient address rejected",
        Phase::Rcpt,
    );
    assert!(h.contains("mailbox does not exist"), "{h}");
    let h = hint_of(550, "No such user here", Phase::Rcpt);
    assert!(h.contains("mailbox does not exist"), "{h}");
    let h = hint_of(452, "4.5.3 Error: too many recipients", Phase::Rcpt);
    assert!(h.contains("too many recipients for one transaction"), "{h}");
    let h = hint_of(452, "Insufficient system storage", Phase::Rcpt);
    assert!(h.contains("retry later"), "{h}");
    let h = hint_of(552, "5.2.2 Mailbox full", Phase::Rcpt);
    assert!(h.contains("mailbox is full"), "{h}");
    let h = hint_of(503, "5.5.1 Error: need MAIL command", Phase::Rcpt);
    assert!(h.contains("MAIL FROM must be accepted first"), "{h}");
}

fn hint_lines(code: u16, lines: &[&str], phase: Phase) -> String {
    explain(&Reply::new(code, lines), phase)
        .hint
        .unwrap_or_default()
        .to_string()
}

#[test]
fn enhanced_code_wins_over_the_basic_code_when_more_specific() {
    // 552 is "storage exceeded"; 5.2.2 narrows it to a full mailbox (SMTP and LMTP).
    for line in ["5.2.2 <c@x.test> Mailbox is full", "5.2.2 Over quota"] {
        let h = hint_of(552, line, Phase::Dot);
        assert!(
            h.contains("mailbox is full") && !h.contains("too big"),
            "{h}"
        );
    }
    let b = ex(552, "5.2.2 Mailbox full", Phase::Dot).basic.unwrap();
    assert!(!b.starts_with("message too big"), "{b}");
    // Without the narrowing code, 552 at the end of data is still the size.
    let h = hint_of(552, "5.3.4 Message size exceeds fixed limit", Phase::Dot);
    assert!(h.contains("too big"), "{h}");
    // Exim's "552 too many recipients" at RCPT is not a full mailbox.
    let h = hint_of(552, "too many recipients", Phase::Rcpt);
    assert!(h.contains("too many recipients"), "{h}");
}

#[test]
fn refusals_of_unadvertised_extensions_blame_the_extension() {
    // Exim, under --force-ext.
    for (code, line, phase) in [
        (501, "SMTPUTF8 used when not advertised", Phase::Mail),
        (
            503,
            "BDAT command used when CHUNKING not advertised",
            Phase::Dot,
        ),
        (
            503,
            "STARTTLS command used when not advertised",
            Phase::StartTls,
        ),
        (503, "AUTH command used when not advertised", Phase::Auth),
        (
            501,
            "<a@x.test> RET=HDRS: malformed address: RET=HDRS may not follow <a@x.test>",
            Phase::Mail,
        ),
        (
            501,
            "<b@x.test> NOTIFY=SUCCESS: malformed address: NOTIFY=SUCCESS may not follow <b@x.test>",
            Phase::Rcpt,
        ),
    ] {
        let h = hint_of(code, line, phase);
        assert!(
            h.contains("advertis") || h.contains("EHLO reply lists"),
            "{line}: {h}"
        );
        assert!(
            !h.contains("sender address is malformed")
                && !h.contains("out of sequence")
                && !h.contains("bad sequence")
                && !h.contains("recipient address is malformed"),
            "{line}: {h}"
        );
    }
}

#[test]
fn wordings_without_enhanced_codes_get_specific_hints() {
    let h = hint_of(550, "Sender rate overlimit - 12.0 / 1h", Phase::Rcpt);
    assert!(h.contains("too fast"), "{h}");
    let h = hint_of(451, "Greylisted, please come back later", Phase::Rcpt);
    assert!(h.contains("greylisted"), "{h}");
    let h = hint_of(450, "Please try again later", Phase::Rcpt);
    assert!(h.contains("greylisted"), "{h}");
    let h = hint_of(550, "Your message looks like spam", Phase::Dot);
    assert!(h.contains("classified as spam"), "{h}");
    let h = hint_of(
        554,
        "Rejected: message scored too high on spam scale",
        Phase::Dot,
    );
    assert!(h.contains("classified as spam"), "{h}");
    for list in [
        "554 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        "554 Rejected - see http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1",
        "550 Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.1",
    ] {
        let (code, text) = list.split_once(' ').unwrap();
        let h = hint_of(code.parse().unwrap(), text, Phase::Rcpt);
        assert!(h.contains("blocklist"), "{list}: {h}");
    }
    let h = hint_of(
        550,
        "5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your \
         Internet service provider since part of their network is on our block list (S3150).",
        Phase::Rcpt,
    );
    assert!(h.contains("block list") || h.contains("blocklist"), "{h}");
    assert!(h.contains("Microsoft"), "{h}");
    let h = hint_of(
        451,
        "4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77714)",
        Phase::Rcpt,
    );
    assert!(h.contains("Microsoft") && h.contains("throttled"), "{h}");
    let h = hint_lines(
        421,
        &["4.7.0 Try again later, closing connection. (EHLO) x - gsmtp"],
        Phase::Helo,
    );
    assert!(h.contains("Gmail"), "{h}");
    let h = hint_lines(
        550,
        &[
            "5.7.26 This mail is unauthenticated, which poses a security risk to the",
            "5.7.26 sender and Gmail users, and has been blocked. The sender must",
            "5.7.26 authenticate with at least one of SPF or DKIM. - gsmtp",
        ],
        Phase::Dot,
    );
    assert!(h.contains("SPF") && h.contains("DKIM"), "{h}");
}

#[test]
fn the_basic_meaning_is_the_one_for_the_phase() {
    let b = ex(554, "5.7.1 <x@y.test>: Relay access denied", Phase::Rcpt)
        .basic
        .unwrap();
    assert!(!b.contains("greeting") && b.contains("recipient"), "{b}");
    // No table meaning that belongs to another command leaks into a dialogue phase.
    for &code in &[220, 454, 500, 554] {
        for &p in DIALOGUE_PHASES {
            let b = basic_in_context(Some(code), p);
            if p != Phase::Banner {
                assert!(!b.contains("as a greeting"), "{code} {p:?}: {b}");
            }
            if p != Phase::StartTls {
                assert!(!b.contains("after STARTTLS"), "{code} {p:?}: {b}");
            }
            if p != Phase::Auth {
                assert!(!b.contains("after AUTH"), "{code} {p:?}: {b}");
            }
        }
    }
    // As a greeting, 554 is still "no service".
    let b = ex(554, "No SMTP service here", Phase::Banner)
        .basic
        .unwrap();
    assert!(b.contains("refuses to talk"), "{b}");
}

#[test]
fn hint_size_and_content() {
    let h = hint_of(552, "5.3.4 Message size exceeds fixed limit", Phase::Dot);
    assert!(h.contains("too big") && h.contains("SIZE"), "{h}");
    let h = hint_of(552, "5.3.4 Message size exceeds fixed limit", Phase::Mail);
    assert!(h.contains("SIZE"), "{h}");
    let h = hint_of(550, "5.7.1 Message rejected as spam", Phase::Dot);
    assert!(h.contains("rejected as spam or by policy"), "{h}");
    let h = hint_of(554, "5.7.1 Message content rejected", Phase::Dot);
    assert!(h.contains("rejected as spam or by policy"), "{h}");
    let h = hint_of(554, "5.7.1 Rejected by policy", Phase::Data);
    assert!(h.contains("refused by policy at DATA"), "{h}");
    let h = hint_of(554, "Transaction failed", Phase::Dot);
    assert!(h.contains("content filter"), "{h}");
}

#[test]
fn hint_421_everywhere_and_banner() {
    let h = hint_of(421, "4.7.0 Too many connections", Phase::Rcpt);
    assert!(
        h.contains("closing the channel") && h.contains("retry later"),
        "{h}"
    );
    let h = hint_of(421, "Service not available", Phase::Banner);
    assert!(h.contains("refuses connections right now"), "{h}");
    let h = hint_of(
        554,
        "mx.example.net ESMTP not accepting messages",
        Phase::Banner,
    );
    assert!(h.contains("refuses you"), "{h}");
    let h = hint_of(554, "Your IP is listed on zen.spamhaus.org", Phase::Banner);
    assert!(h.contains("blocklist"), "{h}");
}

#[test]
fn hint_greylisting() {
    let h = hint_of(450, "4.7.1 Please try again later", Phase::Rcpt);
    assert!(h.starts_with("greylisted"), "{h}");
    let h = hint_of(
        451,
        "4.7.1 Service unavailable, try again later",
        Phase::Rcpt,
    );
    assert!(h.starts_with("greylisted"), "{h}");
    let h = hint_of(
        450,
        "4.2.0 <a@b.example>: Recipient address rejected: Greylisted",
        Phase::Rcpt,
    );
    assert!(h.starts_with("greylisted"), "{h}");
    // 4.7.1 without "later" wording is a soft policy refusal, not greylisting.
    let h = hint_of(
        450,
        "4.7.1 Client host rejected: cannot find your hostname",
        Phase::Rcpt,
    );
    assert!(!h.starts_with("greylisted"), "{h}");
    let h = hint_of(451, "4.7.1 Greylisting in action", Phase::Dot);
    assert!(h.starts_with("greylisted"), "{h}");
}

#[test]
fn hint_auth() {
    let h = hint_of(535, "5.7.8 Authentication credentials invalid", Phase::Auth);
    assert!(h.starts_with("credentials rejected"), "{h}");
    let h = hint_of(
        534,
        "5.7.9 Authentication mechanism is too weak",
        Phase::Auth,
    );
    assert!(h.contains("too weak") && h.contains("another"), "{h}");
    let h = hint_of(
        538,
        "5.7.11 Encryption required for requested authentication mechanism",
        Phase::Auth,
    );
    assert!(h.contains("add --tls"), "{h}");
    for code in [502, 504] {
        let h = hint_of(code, "5.5.4 Unrecognized authentication type", Phase::Auth);
        assert!(h.contains("does not support this AUTH mechanism"), "{h}");
    }
    let h = hint_of(454, "4.7.0 Temporary authentication failure", Phase::Auth);
    assert!(h.contains("retry later"), "{h}");
}

#[test]
fn hint_starttls_and_ehlo() {
    let h = hint_of(
        454,
        "4.7.0 TLS not available due to local problem",
        Phase::StartTls,
    );
    assert!(h.starts_with("TLS is not available right now"), "{h}");
    for code in [500, 502] {
        let h = hint_of(
            code,
            "5.5.2 Syntax error, command unrecognized",
            Phase::Helo,
        );
        assert!(
            h.contains("does not speak ESMTP") && h.contains("HELO"),
            "{h}"
        );
    }
}

#[test]
fn hint_null_mx_and_no_mail_hosts() {
    let h = hint_of(556, "5.1.10 Recipient address has null MX", Phase::Rcpt);
    assert!(h.contains("null MX"), "{h}");
    let h = hint_of(550, "5.1.10 Recipient address has null MX", Phase::Rcpt);
    assert!(h.contains("null MX"), "{h}");
    let h = hint_of(521, "mx.example.net does not accept mail", Phase::Banner);
    assert!(h.contains("accepts no mail at all"), "{h}");
    let h = hint_of(550, "5.7.27 Sender address has null MX", Phase::Mail);
    assert!(h.contains("null MX"), "{h}");
}

/// Exim sends no enhanced codes (`552 Message size exceeds maximum permitted` after the
/// content): the 552 line must not point at an enhanced code as if there were one.
#[test]
fn a_552_after_the_content_names_the_enhanced_codes_that_tell_the_cases_apart() {
    let b = ex(552, "Message size exceeds maximum permitted", Phase::Dot)
        .basic
        .unwrap();
    assert!(
        b.contains("5.3.4") && b.contains("5.2.2") && b.contains("the text"),
        "{b}"
    );
    assert!(!b.contains("the enhanced code tells"), "{b}");
}

/// Postfix answers a BDAT it cannot parse with `521 5.5.4 Syntax: BDAT count [LAST]` and hangs
/// up (smtpd.c): after a command, 521 is a session ended for good, not a host without mail
/// (RFC 7504 §3 is the greeting's meaning, and what a no-mail host answers to every command).
#[test]
fn a_521_after_a_command_is_a_session_ended_not_a_host_without_mail() {
    for p in [Phase::Other, Phase::Dot, Phase::Rcpt] {
        let e = ex(521, "5.5.4 Syntax: BDAT count [LAST]", p);
        let (b, h) = (e.basic.unwrap(), e.hint.unwrap());
        assert!(
            b.contains("closing the connection") && !b.starts_with("this host"),
            "{p:?}: {b}"
        );
        assert!(
            h.contains("ended the session") && !h.contains("real MX"),
            "{p:?}: {h}"
        );
    }
    let e = ex(521, "mx.example.net does not accept mail", Phase::Banner);
    assert!(e.basic.unwrap().contains("does not accept mail at all"));
    // A no-mail host answering a command with 521 still gets the no-mail hint.
    let h = hint_of(
        521,
        "5.3.2 mx.example.net does not accept mail",
        Phase::Mail,
    );
    assert!(h.contains("accepts no mail at all"), "{h}");
}

#[test]
fn hint_sequence_and_params() {
    let h = hint_of(503, "5.5.1 Error: send HELO/EHLO first", Phase::Mail);
    assert!(h.contains("MAIL out of sequence"), "{h}");
    let h = hint_of(503, "Bad sequence of commands", Phase::Other);
    assert!(h.contains("bad sequence of commands"), "{h}");
    let h = hint_of(555, "5.5.4 Unsupported option: SMTPUTF8", Phase::Mail);
    assert!(h.contains("MAIL FROM parameter"), "{h}");
    let h = hint_of(555, "5.5.4 Unsupported option: NOTIFY", Phase::Rcpt);
    assert!(h.contains("RCPT TO parameter"), "{h}");
    let h = hint_of(503, "5.5.1 Error: need RCPT command", Phase::Data);
    assert!(h.contains("DATA refused"), "{h}");
}

/// A refusal of a parameter names the one the reply names, out of those the command carried,
/// whichever way the server words it: Postfix 3.7's 555 and 501 texts and Exim 4.96's 501 texts,
/// as the interop peers answer `MAIL FROM:<a@b> SIZE=213 XFOO=1` and the like. Before, the 555
/// listed every parameter sent, the 501s gave the general list (Postfix's "Bad message size
/// syntax" and Exim's "invalid data for BODY" even read as a malformed sender address).
#[test]
fn a_refused_parameter_is_the_one_the_reply_names() {
    let hint = |code: u16, text: &str, phase: Phase, sent: &[&str]| {
        let r = Reply::new(code, &[text]);
        let sent: Vec<String> = sent.iter().map(|p| p.to_string()).collect();
        params_refused(explain(&r, phase).hint, &r, phase, &sent)
            .unwrap_or_default()
            .to_string()
    };
    let m = Phase::Mail;
    let r = Phase::Rcpt;
    for (code, text, phase, sent, named, not) in [
        // Postfix 3.7
        (
            555,
            "5.5.4 Unsupported option: XFOO=1",
            m,
            &["SIZE=213", "XFOO=1"][..],
            "MAIL FROM, XFOO=1",
            "SIZE=213",
        ),
        (
            501,
            "5.5.4 Bad message size syntax",
            m,
            &["SIZE=abc"][..],
            "MAIL FROM, SIZE=abc",
            "sender",
        ),
        (
            501,
            "5.5.4 Bad RET parameter syntax",
            m,
            &["SIZE=213", "RET=X"][..],
            "MAIL FROM, RET=X",
            "SIZE=213",
        ),
        (
            555,
            "5.5.4 Unsupported option: BODY=FOO",
            m,
            &["SIZE=213", "BODY=FOO"][..],
            "MAIL FROM, BODY=FOO",
            "SIZE=213",
        ),
        (
            501,
            "5.5.4 Error: Bad NOTIFY parameter syntax",
            r,
            &["NOTIFY=BAD"][..],
            "RCPT TO, NOTIFY=BAD",
            "ORCPT",
        ),
        (
            555,
            "5.5.4 Unsupported option: XBAR=1",
            r,
            &["XBAR=1"][..],
            "RCPT TO, XBAR=1",
            "NOTIFY",
        ),
        // Exim 4.96
        (
            501,
            "Value for RET is invalid",
            m,
            &["SIZE=213", "RET=X"][..],
            "MAIL FROM, RET=X",
            "SIZE=213",
        ),
        (
            501,
            "invalid data for BODY",
            m,
            &["SIZE=213", "BODY=FOO"][..],
            "MAIL FROM, BODY=FOO",
            "sender",
        ),
        (
            501,
            "Invalid value for NOTIFY parameter",
            r,
            &["NOTIFY=BAD"][..],
            "RCPT TO, NOTIFY=BAD",
            "ORCPT",
        ),
    ] {
        let h = hint(code, text, phase, sent);
        assert!(
            h.contains(&format!("parameter of this {named}")),
            "{text}: {h}"
        );
        assert!(!h.contains(not), "{text}: {h}");
    }
    // Exim reads parameters from the end of the line and keeps the rest as the address: the
    // ones it quotes are named.
    let h = hint(
        501,
        "<root@vm> SIZE=213 XFOO=1: malformed address: SIZE=213 XFOO=1 may not follow <root@vm>",
        m,
        &["SIZE=213", "XFOO=1"],
    );
    assert!(
        h.starts_with(
            "the server did not recognise a parameter after the address (SIZE=213 XFOO=1)"
        ),
        "{h}"
    );
    // A reply that names none of them keeps the general words.
    let h = hint(501, "5.5.4 Bad RET parameter syntax", m, &["SIZE=213"]);
    assert!(h.contains("(SIZE=, BODY=, RET="), "{h}");
    let h = hint(
        555,
        "5.5.4 Unsupported option: XFOO=1",
        m,
        &["SIZE=1", "BODY=8BITMIME"],
    );
    assert!(h.contains("(SIZE=1 BODY=8BITMIME)"), "{h}");
}

/// Exim's "554 Too many nonmail commands" (smtp_accept_max_nonmail) is explained as what it
/// is, whatever command drew it, not as the generic "refused for good".
#[test]
fn exim_too_many_nonmail_commands_is_explained() {
    for phase in [Phase::Other, Phase::Helo, Phase::Mail] {
        let h = hint_of(554, "Too many nonmail commands", phase);
        assert!(h.contains("smtp_accept_max_nonmail"), "{h}");
        assert!(h.contains("NOOP"), "{h}");
        assert!(!h.contains("refused for good"), "{h}");
    }
}

/// A parameter name is matched whole: Postfix's refusal of an unknown `XNOTIFY=NEVER` is no
/// NOTIFY (DSN) refusal, nor is a body-ish word a BODY= one; the real names still match, at the
/// start or end of the text and next to `=`, `:` or a space.
#[test]
fn parameter_names_match_whole_tokens_only() {
    for (phase, text) in [
        (Phase::Rcpt, "5.5.4 Unsupported option: XNOTIFY=NEVER"),
        (Phase::Rcpt, "5.5.4 Unsupported option: X-ORCPT=rfc822;a@b"),
        (Phase::Rcpt, "5.5.4 Unsupported option: NOTIFYX"),
        (Phase::Mail, "5.5.4 Unsupported option: XRET=HDRS"),
        (Phase::Mail, "5.5.4 Unsupported option: NOBODY=7BIT"),
        (Phase::Mail, "5.5.4 Unsupported option: XSMTPUTF8"),
        (Phase::Mail, "5.5.4 Unsupported option: MY_ENVID=1"),
    ] {
        let h = hint_of(555, text, phase);
        assert!(!h.contains("NOTIFY=, ORCPT=): only"), "{text}: {h}");
        assert!(!h.contains("with valid values"), "{text}: {h}");
    }
    for (phase, text) in [
        (Phase::Rcpt, "5.5.4 Unsupported option: NOTIFY=NEVER"),
        (Phase::Rcpt, "5.5.4 Bad ORCPT parameter"),
        (Phase::Rcpt, "notify"),
        (Phase::Mail, "5.5.4 Unsupported option: RET"),
        (Phase::Mail, "5.5.4 Bad RET parameter"),
        (Phase::Mail, "5.5.4 Unsupported option: BODY=8BITMIME"),
        (Phase::Mail, "5.5.4 Unsupported option:SMTPUTF8"),
    ] {
        let h = hint_of(501, text, phase);
        assert!(h.contains("with valid values"), "{text}: {h}");
    }
}

/// 503 to AUTH is read by its text: Postfix's "authentication not enabled" (and sendmail's "AUTH
/// not available") mean no AUTH on this connection, not a command out of sequence.
#[test]
fn auth_503_not_enabled_is_not_out_of_sequence() {
    for text in [
        "5.5.1 Error: authentication not enabled",
        "5.3.3 AUTH not available",
    ] {
        let e = ex(503, text, Phase::Auth);
        let basic = e.basic.clone().unwrap_or_default();
        let h = e.hint.map(|h| h.to_string()).unwrap_or_default();
        for line in [&basic, &h] {
            assert!(!line.contains("out of sequence"), "{text}: {line}");
            assert!(line.contains("not offer"), "{text}: {line}");
        }
        assert!(h.contains("STARTTLS"), "{text}: {h}");
    }
    // Real sequence errors keep their words.
    for text in [
        "5.5.1 Error: already authenticated",
        "5.5.1 Error: MAIL transaction in progress",
        "Bad sequence of commands",
    ] {
        let e = ex(503, text, Phase::Auth);
        assert!(
            e.basic.unwrap_or_default().contains("AUTH out of sequence"),
            "{text}"
        );
        let h = e.hint.map(|h| h.to_string()).unwrap_or_default();
        assert!(h.contains("AUTH out of sequence"), "{text}: {h}");
    }
}

#[test]
fn hint_sender_authentication_policies() {
    let h = hint_of(
        550,
        "5.7.26 Unauthenticated email is not accepted",
        Phase::Dot,
    );
    assert!(
        h.contains("SPF") && h.contains("DKIM") && !h.starts_with('('),
        "{h}"
    );
    let h = hint_of(550, "5.7.25 Reverse DNS validation failed", Phase::Dot);
    assert!(h.contains("reverse DNS"), "{h}");
    let h = hint_of(550, "5.7.23 SPF validation failed", Phase::Rcpt);
    assert!(h.contains("SPF record"), "{h}");
    let h = hint_of(
        550,
        "5.7.1 Sender address rejected: not owned by user a@b",
        Phase::Mail,
    );
    assert!(h.contains("may not send as"), "{h}");
}

#[test]
fn vendor_hints_are_labelled() {
    let h = hint_of(
        550,
        "5.7.26 This mail has been blocked because the sender is unauthenticated. - gsmtp",
        Phase::Dot,
    );
    assert!(h.starts_with("(Gmail)"), "{h}");
    let h = hint_of(
        535,
        "5.7.139 Authentication unsuccessful, basic authentication is disabled.",
        Phase::Auth,
    );
    assert!(
        h.starts_with("(Microsoft)") && h.contains("basic authentication"),
        "{h}"
    );
    let h = hint_of(
        550,
        "5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
        Phase::Banner,
    );
    assert!(h.starts_with("(Microsoft)"), "{h}");
    let h = hint_of(
        534,
        "5.7.9 Application-specific password required. https://support.google.com/mail/?p=InvalidSecondFactor",
        Phase::Auth,
    );
    assert!(
        h.starts_with("(Gmail)") && h.contains("app password"),
        "{h}"
    );
}

#[test]
fn hint_not_smtp() {
    let garbage = |raw: &[u8]| {
        let r = Reply {
            code: None,
            enhanced: None,
            lines: vec![String::from_utf8_lossy(raw).into_owned()],
            raw: crate::smtp::event::Bytes(raw.to_vec()),
            deviations: vec![],
        };
        explain(&r, Phase::Banner)
    };
    let e = garbage(b"\x15\x03\x03\x00\x02\x02\x46");
    assert!(e.hint.unwrap().contains("--tls-on-connect"));
    assert_eq!(e.severity, Some(Severity::Permanent));
    let e = garbage(b"\x16\x03\x01\x00\x2a");
    assert!(e.hint.unwrap().contains("--tls-on-connect"));
    let e = garbage(b"HTTP/1.1 400 Bad Request\r\n");
    assert!(e.hint.unwrap().contains("HTTP server"));
    let e = garbage(b"SSH-2.0-OpenSSH_9.6\r\n");
    assert!(e.hint.unwrap().contains("SSH"));
    let e = garbage(b"hello there\r\n");
    assert!(
        e.hint
            .unwrap()
            .contains("did not answer with an SMTP reply")
    );
    assert!(e.basic.unwrap().contains("no reply code"));
    // Past the greeting the server has spoken SMTP: no "wrong port" for `2500 queued` after
    // the dot, a 10 MB 334 without a line end, a reply cut at the limit.
    for phase in [Phase::Helo, Phase::Auth, Phase::Dot, Phase::Other] {
        let r = Reply {
            code: None,
            enhanced: None,
            lines: vec!["2500 queued".into()],
            raw: crate::smtp::event::Bytes(b"2500 queued\r\n".to_vec()),
            deviations: vec![],
        };
        let h = explain(&r, phase).hint.unwrap();
        assert!(!h.contains("wrong port"), "{phase:?}: {h}");
        assert!(h.contains("no three-digit reply code"), "{phase:?}: {h}");
    }
}

#[test]
fn successes_have_no_hint() {
    assert_eq!(ex(250, "2.1.0 Ok", Phase::Mail).hint, None);
    assert_eq!(ex(250, "2.0.0 Ok: queued as 123", Phase::Dot).hint, None);
    assert_eq!(ex(220, "mx ESMTP", Phase::Banner).hint, None);
    let e = ex(250, "2.1.5 Ok", Phase::Rcpt);
    assert_eq!(e.enhanced.unwrap().title, "Destination address valid");
}

#[test]
fn never_panics_on_weird_input() {
    let phases = [
        Phase::Dns,
        Phase::Connect,
        Phase::Proxy,
        Phase::Banner,
        Phase::Helo,
        Phase::StartTls,
        Phase::HeloAfterTls,
        Phase::Xclient,
        Phase::Auth,
        Phase::Mail,
        Phase::Rcpt,
        Phase::Data,
        Phase::Dot,
        Phase::Quit,
        Phase::Other,
    ];
    let long = "é".repeat(10_000);
    let weird: Vec<Reply> = vec![
        Reply::new(600, &["6.0.0 what"]),
        Reply::new(199, &[""]),
        Reply::new(999, &[]),
        Reply::new(0, &["x"]),
        Reply::new(550, &[]),
        Reply::new(550, &["", "", ""]),
        Reply::new(550, &[long.as_str()]),
        Reply::new(421, &["4.999.999 weird"]),
        Reply {
            code: None,
            enhanced: None,
            lines: vec![],
            raw: Default::default(),
            deviations: vec![Deviation::NotUtf8],
        },
        Reply {
            code: Some(550),
            enhanced: Some(EnhancedCode {
                class: 9,
                subject: 999,
                detail: 999,
            }),
            lines: vec!["\u{0}\u{ffff}".into()],
            raw: Default::default(),
            deviations: vec![],
        },
    ];
    for r in &weird {
        for &p in &phases {
            let e = explain(r, p);
            assert!(e.basic.is_some());
            assert!(e.severity.is_some());
            if r.code.is_none_or(|c| !(200..600).contains(&c)) {
                assert_eq!(e.severity, Some(Severity::Permanent));
                assert!(e.hint.is_some());
            }
        }
    }
    assert!(
        ex(650, "x", Phase::Rcpt)
            .hint
            .unwrap()
            .contains("not a valid SMTP reply code")
    );
}

// --- :explain -------------------------------------------------------------------------

#[test]
fn code_table_is_total_and_bounded() {
    assert!(code_table("550 5.1.1").is_some_and(|t| t.basic.is_some() && t.enhanced.is_some()));
    for weird in [
        "５５０",
        "5.1",
        "5..1",
        "6.1.1",
        "x.x.x",
        "550 550 5.1.1 4.1.1",
        "0.0.0 000",
        "\u{0}\u{ffff}",
    ] {
        let _ = code_table(weird);
    }
    let _ = code_table(&"5.1.1 ".repeat(100_000));
    assert_eq!(code_table(&"a".repeat(1_000_000)), None);
    assert_eq!(code_table(""), None);
    assert_eq!(code_table("hello"), None);
    assert_eq!(code_table("9.9.9 12 1234"), None);
}

// --- busy servers ---------------------------------------------------------------------------

/// Every phrase of [`hints::BUSY_PHRASES`] makes a 4xx or 5xx busy, in any case and on any line;
/// the same words in a 2xx, a bare 421 and look-alikes do not.
#[test]
fn busy_phrases_each_make_a_refusal_busy() {
    for phrase in hints::BUSY_PHRASES {
        let upper = phrase.to_uppercase();
        for code in [421, 450, 451, 452, 554] {
            let r = Reply::new(
                code,
                &["mx.example.test", &format!("4.7.0 {upper} from you")],
            );
            assert!(is_busy(&r), "{code} {phrase:?}");
        }
        assert!(
            !is_busy(&Reply::new(250, &[&format!("{phrase} noted")])),
            "250 {phrase:?}"
        );
    }
    for (code, text) in [
        (
            421,
            "mx.example.test Service not available, closing transmission channel",
        ),
        (452, "4.5.3 Too many recipients"),
        (451, "4.7.1 Greylisted, please try again later"),
        (554, "no SMTP service here"),
        (220, "too many words in this banner"),
    ] {
        assert!(!is_busy(&Reply::new(code, &[text])), "{code} {text}");
    }
}

#[test]
fn a_reply_cut_off_by_the_close_is_explained_as_no_answer() {
    let mut r = Reply::new(250, &["2.0.0 queued as X"]);
    r.deviations.push(Deviation::TruncatedAtClose);
    let e = explain(&r, Phase::Dot);
    assert_eq!(e.severity, Some(Severity::Transient));
    let hint = e.hint.unwrap_or_default().to_string();
    assert!(hint.contains("answers nothing"), "{hint}");
    assert!(!hint.contains("tolerated"), "{hint}");
}

// --- Misleading hints for real replies ------------------------------------------------------

#[test]
fn the_word_relay_alone_is_no_relay_refusal() {
    // Postfix: an unknown recipient of a relay domain (relay_recipient_maps).
    let h = hint_of(
        550,
        "5.1.1 <u@example.org>: Recipient address rejected: User unknown in relay recipient table",
        Phase::Rcpt,
    );
    assert!(h.contains("mailbox does not exist"), "{h}");
    assert!(!h.contains("relay denied") && !h.contains("--auth"), "{h}");
    // Gmail refusing mail straight from a dynamic IP: send through the provider instead.
    let h = hint_lines(
        550,
        &[
            "5.7.1 [192.0.2.1] The IP you're using to send mail is not authorized to",
            "5.7.1 send email directly to our servers. Please use the SMTP relay at your",
            "5.7.1 service provider instead. a1-20020a05 - gsmtp",
        ],
        Phase::Rcpt,
    );
    assert!(h.starts_with("(Gmail)") && h.contains("provider"), "{h}");
    assert!(!h.contains("relay denied") && !h.contains("--auth"), "{h}");
    // The relay-denial wordings still are.
    for (code, line) in [
        (550, "relay not permitted"),
        (550, "5.7.1 <u@example.com>... Relaying denied"),
        (550, "5.7.0 Mail relay denied. a1-20020a05 - gsmtp"),
        (
            553,
            "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
        ),
        (550, "5.7.1 we do not relay for example.com"),
        (550, "5.7.1 Relaying not allowed"),
    ] {
        let h = hint_of(code, line, Phase::Rcpt);
        assert!(h.starts_with("relay denied"), "{line}: {h}");
    }
    // An addressing code says the address is the problem, whatever the words.
    let h = hint_of(550, "5.1.2 relay access denied: bad domain", Phase::Rcpt);
    assert!(!h.starts_with("relay denied"), "{h}");
}

#[test]
fn listed_in_a_directory_is_no_blocklist() {
    // Domino: an unknown recipient.
    let h = hint_of(
        550,
        "5.1.1 User bob@example.com not listed in Domino Directory",
        Phase::Rcpt,
    );
    assert!(h.contains("mailbox does not exist"), "{h}");
    assert!(!h.contains("blocklist"), "{h}");
    let h = hint_of(
        550,
        "User bob@example.com not listed in Domino Directory",
        Phase::Rcpt,
    );
    assert!(h.contains("mailbox does not exist"), "{h}");
    // Blocklist context still is one.
    for (code, line) in [
        (550, "5.7.1 Rejected: 192.0.2.1 listed at zen.spamhaus.org"),
        (554, "Your IP is listed on bl.spamcop.net"),
        (550, "5.7.1 Client 192.0.2.1 is listed in an RBL"),
        (550, "5.7.1 Blocked by DNSBL b.barracudacentral.org"),
    ] {
        let h = hint_of(code, line, Phase::Rcpt);
        assert!(h.contains("blocklist"), "{line}: {h}");
    }
    // "garbled" holds "rbl" but is no list.
    let h = hint_of(501, "5.5.2 garbled command", Phase::Rcpt);
    assert!(!h.contains("blocklist"), "{h}");
}

#[test]
fn microsoft_5_1_10_is_an_unknown_recipient_and_5_1_8_a_blocked_account() {
    let h = hint_of(
        550,
        "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        Phase::Rcpt,
    );
    assert!(h.starts_with("(Microsoft)"), "{h}");
    assert!(
        h.contains("does not exist") && !h.contains("accepts no mail"),
        "{h}"
    );
    // RFC 7505's null MX keeps its meaning.
    let h = hint_of(550, "5.1.10 Recipient address has null MX", Phase::Rcpt);
    assert!(h.contains("null MX") && !h.starts_with('('), "{h}");
    for phase in [Phase::Mail, Phase::Rcpt, Phase::Dot] {
        let h = hint_of(550, "5.1.8 Access denied, bad outbound sender", phase);
        assert!(h.starts_with("(Microsoft)") && h.contains("blocked"), "{h}");
        assert!(!h.contains("--from") && !h.contains("real"), "{h}");
    }
}

#[test]
fn words_after_the_content_say_what_the_refusal_is() {
    // Yahoo refuses unknown and disabled recipients after the content too.
    let h = hint_of(
        554,
        "delivery error: dd This user doesn't have a yahoo.com account (u@yahoo.com) [0] - \
         mta1034.mail.ne1.yahoo.com",
        Phase::Dot,
    );
    assert!(h.contains("mailbox does not exist"), "{h}");
    assert!(!h.contains("content filter"), "{h}");
    let h = hint_of(
        554,
        "delivery error: dd Sorry your message to u@yahoo.com cannot be delivered. This mailbox \
         is disabled (554.30). - mta1034.mail.ne1.yahoo.com",
        Phase::Dot,
    );
    assert!(h.contains("mailbox is disabled"), "{h}");
    let h = hint_of(
        550,
        "5.7.60 SMTP; Client does not have permissions to send as this sender",
        Phase::Dot,
    );
    assert!(h.contains("may not send as"), "{h}");
    // The same wording at RCPT, and a disabled mailbox there too.
    let h = hint_of(
        554,
        "delivery error: dd Sorry your message to u@yahoo.com cannot be delivered. This mailbox \
         is disabled (554.30). - mta1034.mail.ne1.yahoo.com",
        Phase::Rcpt,
    );
    assert!(h.contains("mailbox is disabled"), "{h}");
    // A sender's domain that does not exist is not a missing mailbox.
    let h = hint_of(
        554,
        "Domain of sender address s@nowhere.example does not exist",
        Phase::Dot,
    );
    assert!(!h.contains("mailbox does not exist"), "{h}");
}

#[test]
fn a_553_at_rcpt_is_malformed_only_without_a_policy_code() {
    // qmail: a relay refusal.
    let h = hint_of(
        553,
        "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
        Phase::Rcpt,
    );
    assert!(h.starts_with("relay denied"), "{h}");
    let h = hint_of(
        553,
        "5.7.1 <u@example.org>: Recipient address rejected: Access denied",
        Phase::Rcpt,
    );
    assert!(h.contains("by policy") && !h.contains("malformed"), "{h}");
    // Yahoo's TSS09: the sending IP is refused.
    let h = hint_of(
        553,
        "5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will \
         NOT succeed. See https://postmaster.yahooinc.com/error-codes",
        Phase::Rcpt,
    );
    assert!(h.starts_with("(Yahoo)") && h.contains("sending IP"), "{h}");
    assert!(!h.contains("malformed"), "{h}");
    // Without an enhanced code, or with X.1.3, it is the address.
    let h = hint_of(553, "5.1.3 <u>... Hostname required", Phase::Rcpt);
    assert!(h.contains("malformed"), "{h}");
    let h = hint_of(553, "<u>... Hostname required", Phase::Rcpt);
    assert!(h.contains("malformed"), "{h}");
}

#[test]
fn auth_replies_that_ask_the_user_to_act() {
    // RFC 4954 §6.
    let b = ex(432, "4.7.12 A password transition is needed", Phase::Auth)
        .basic
        .unwrap();
    assert!(b.contains("PLAIN") && !b.contains("retry later"), "{b}");
    let h = hint_of(432, "4.7.12 A password transition is needed", Phase::Auth);
    assert!(h.contains("PLAIN") && h.contains("--tls"), "{h}");
    assert!(!h.contains("change the password"), "{h}");
    let b = ex(538, "5.7.11 Encryption required", Phase::Auth)
        .basic
        .unwrap();
    assert!(b.contains("encrypted"), "{b}");
    let b = ex(
        534,
        "5.7.9 Authentication mechanism is too weak",
        Phase::Auth,
    )
    .basic
    .unwrap();
    assert!(b.contains("too weak"), "{b}");
    // The code-table view: 432 is known after AUTH, where it is no "retry later".
    let t = code_table("432").unwrap();
    assert_eq!(t.hints.len(), 1, "{:?}", t.hints);
    assert_eq!(t.hints[0].0, vec![Phase::Auth]);
    assert!(t.hints[0].1.contains("PLAIN"), "{:?}", t.hints);
    let t = code_table("538").unwrap();
    assert!(t.hints[0].1.to_string().contains("--tls"), "{:?}", t.hints);
    let t = code_table("534").unwrap();
    assert!(t.hints[0].1.to_string().contains("--auth"), "{:?}", t.hints);
    // X.7.12's own words follow RFC 4954 (the registry's title stays IANA's).
    let e = lookup_enhanced(&EnhancedCode {
        class: 4,
        subject: 7,
        detail: 12,
    })
    .unwrap();
    assert_eq!(e.title, "A password transition is needed");
    assert!(e.meaning.contains("PLAIN"), "{}", e.meaning);
}

/// The registry's "Associated basic status code" of X.2.1 (and 22 others) is "Not given": the
/// table view said "usual basic codes: Not given" and JSON's `usual_basic` held that string,
/// where its schema promises the codes or null.
#[test]
fn a_registry_row_without_basic_codes_has_none() {
    let t = code_table("5.2.1").unwrap();
    assert_eq!(t.enhanced.as_ref().unwrap().usual_basic, None);
    let t = code_table("4.4.7").unwrap();
    assert_eq!(t.enhanced.as_ref().unwrap().usual_basic, None);
    let t = code_table("5.7.1").unwrap();
    assert_eq!(
        t.enhanced.as_ref().unwrap().usual_basic.as_deref(),
        Some("451, 454, 502, 503, 533, 550, 551")
    );
}

/// `451 4.7.1 Greylisted` at RCPT was explained "recipient deferred because of a local problem
/// on the server" above a greylisting hint: a mail admin read a server fault where there was
/// a policy deferral.
#[test]
fn a_451_at_rcpt_is_not_only_a_server_fault() {
    let e = ex(451, "4.7.1 Greylisted, please try again later", Phase::Rcpt);
    let b = e.basic.unwrap();
    assert!(!b.contains("because of a local problem"), "{b}");
    assert!(
        b.contains("greylisting") && b.contains("retry later"),
        "{b}"
    );
    let h = hint_of(451, "4.7.1 Greylisted, please try again later", Phase::Rcpt);
    assert!(h.starts_with("greylisted"), "{h}");
}

/// Postfix's submission port answers an unauthenticated RCPT `554 5.7.1 <a@x>: Recipient
/// address rejected: Access denied`; the hint spoke only of a recipient that accepts mail from
/// certain senders, never of the AUTH the developer forgot.
#[test]
fn a_policy_refusal_at_rcpt_names_authentication() {
    for (code, line) in [
        (
            554,
            "5.7.1 <a@example.org>: Recipient address rejected: Access denied",
        ),
        (550, "5.7.1 Recipient not authorized"),
    ] {
        let h = hint_of(code, line, Phase::Rcpt);
        assert!(
            h.contains("by policy") && h.contains("--auth"),
            "{code}: {h}"
        );
    }
}

/// Postfix's policyd-spf refuses `550 5.7.1 <a@x>: Sender address rejected: SPF check failed…`
/// at MAIL: the hint said "use a --from on a domain that exists and that you may send for", as
/// if the address were wrong, not the sending IP missing from the domain's SPF record.
#[test]
fn an_spf_refusal_under_a_generic_code_says_spf() {
    let h = hint_of(
        550,
        "5.7.1 <me@example.com>: Sender address rejected: SPF check failed, please see \
         http://www.open-spf.org/Why?s=mfrom;id=me%40example.com",
        Phase::Mail,
    );
    assert!(h.contains("SPF record") && !h.contains("--from"), "{h}");
    let h = hint_of(
        550,
        "5.7.1 The message was rejected because of Sender Policy Framework violation",
        Phase::Rcpt,
    );
    assert!(h.contains("not in the sender domain's SPF record"), "{h}");
    let h = hint_of(451, "4.7.1 SPF temperror, try again later", Phase::Rcpt);
    assert!(h.contains("could not be evaluated"), "{h}");
    // The SPF codes keep their own hints; a word that only contains the letters is no SPF.
    let h = hint_of(550, "5.7.23 SPF validation failed", Phase::Rcpt);
    assert!(h.contains("SPF record"), "{h}");
    let h = hint_of(550, "5.1.1 <spfx@example.com>: unknown user", Phase::Rcpt);
    assert!(!h.contains("SPF"), "{h}");
}

/// Postfix's smtpd_data_restrictions refuse DATA `554 5.7.1 <DATA>: Data command rejected: …`
/// with recipients accepted: the meaning said only "DATA refused: no valid recipients".
#[test]
fn a_554_to_data_is_not_only_no_valid_recipients() {
    let b = ex(
        554,
        "5.7.1 <DATA>: Data command rejected: Multi-recipient bounce",
        Phase::Data,
    )
    .basic
    .unwrap();
    assert!(b.contains("policy check made at DATA"), "{b}");
}

/// Exchange Online's directory-based edge blocking, in its newer wording (a link to aka.ms and
/// an exchangelabs.com host, no "outlook.com"): the hint told a developer to authenticate, and
/// the enhanced line said only "the next host did not answer the connection attempt".
#[test]
fn microsoft_5_4_1_access_denied_is_an_unknown_recipient() {
    let line = "5.4.1 Recipient address rejected: Access denied. For more information see \
                https://aka.ms/EXOSmtpErrors [AM0PR01MB1234.eurprd01.prod.exchangelabs.com]";
    let h = hint_of(550, line, Phase::Rcpt);
    assert!(
        h.starts_with("(Microsoft)") && h.contains("does not exist"),
        "{h}"
    );
    let e = ex(550, line, Phase::Rcpt).enhanced.unwrap();
    assert!(
        e.meaning.contains("did not answer") && e.meaning.contains("Microsoft 365"),
        "{}",
        e.meaning
    );
}

/// `452 4.3.1 Insufficient system storage` to RCPT said "too many recipients, or the mailbox or
/// server is out of space … with fewer recipients per transaction": X.3.1 is the server's
/// storage (RFC 3463 "Mail system full"), fewer recipients do not help.
#[test]
fn a_452_4_3_1_at_rcpt_is_the_servers_storage() {
    let h = hint_of(452, "4.3.1 Insufficient system storage", Phase::Rcpt);
    assert!(
        h.contains("out of storage") && !h.contains("fewer recipients"),
        "{h}"
    );
    // Without the enhanced code the reply may be either.
    let h = hint_of(452, "Insufficient system storage", Phase::Rcpt);
    assert!(h.contains("retry later"), "{h}");
}

/// `451 4.7.1` (and other 4.7.x) with words that name no cause got the class's "a temporary
/// failure on the server side": X.7 is the security or policy status (RFC 3463 §3.8), the
/// server holding the mail back, not failing.
#[test]
fn a_4_7_x_deferral_is_policy_not_a_server_fault() {
    for phase in [Phase::Mail, Phase::Rcpt, Phase::Dot] {
        let h = hint_of(451, "4.7.1 Policy rejection", phase);
        assert!(
            h.starts_with("deferred by the server's policy") && !h.contains("server side"),
            "{phase:?}: {h}"
        );
    }
    // Without an X.7 code a 451 stays a temporary failure on the server side.
    let h = hint_of(451, "4.3.0 Temporary error", Phase::Rcpt);
    assert!(h.contains("server side"), "{h}");
}
