//! Explaining a reply without a connection (`ehlo explain`, the REPL's `:explain`): find the
//! reply in pasted text (a whole multi-line reply, or a bounce's diagnostic line such as
//! Postfix's "host … said: 550 … (in reply to RCPT TO command)" or Exim's "SMTP error from
//! remote mail server after RCPT TO:<…>:"), work out the command it answers when the text says
//! so, and run it through the same engine as the transcript ([`codes::explain_answer`]).
//!
//! Pure and total: any input gets an answer or `None` ("no reply code here"); only a bounded
//! prefix of the input is read.

use serde::Serialize;

use crate::smtp::codes::{self, Answer, EnhancedInfo, Hint, Severity};
use crate::smtp::event::Phase;
use crate::smtp::reply::{EnhancedCode, Reply};

/// At most this much pasted text is read (a bounce can be long; the reply is near its start).
const INPUT_LIMIT: usize = 64 * 1024;

/// At most this many reply lines are kept.
const MAX_LINES: usize = 100;

/// The phases a reply is explained for when the input does not say which command it answers,
/// in dialogue order (the same list the REPL's `:explain` context lines use).
const PHASES: &[Phase] = codes::DIALOGUE_PHASES;

/// Where the phase of an explanation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseFrom {
    /// Given by the user (`--phase`).
    Given,
    /// Read from the pasted text ("in reply to RCPT TO command").
    Text,
    /// Unknown: the reply is explained for every command it is a known answer to.
    Unknown,
}

/// The explanation for one command the reply may answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InPhase {
    /// The command.
    pub(crate) phase: Phase,
    /// What the basic code means as an answer to it.
    pub basic: String,
    /// What to do, if anything.
    pub hint: Option<Hint>,
    /// How bad it is.
    pub(crate) severity: Option<Severity>,
}

/// Everything `ehlo explain` says about one pasted reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The basic code, if the input had one.
    pub code: Option<u16>,
    /// The enhanced code and its registry meaning, if the input had one.
    pub enhanced: Option<EnhancedInfo>,
    /// The reply's text, every line, without the codes (`\n` between lines).
    pub(crate) text: String,
    /// The command the reply answers, when known.
    pub(crate) phase: Option<Phase>,
    /// Where `phase` came from.
    pub phase_from: PhaseFrom,
    /// One explanation per command considered (one when the phase is known).
    pub explanations: Vec<InPhase>,
    /// The enhanced code's class differs from the basic code's (`550 4.7.1`): RFC 3463 §2
    /// wants them to match, so the reply contradicts itself. Absent when they agree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes_differ: Option<ClassesDiffer>,
    /// The code-only view (`550 5.1.1`): the basic and registry tables, per command.
    pub(crate) table: Option<codes::CodeTable>,
}

/// The two classes of a reply that contradicts itself (RFC 3463 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClassesDiffer {
    /// The basic code's class: its first digit (5 for 550).
    pub basic: u16,
    /// The enhanced code's class (4 for 4.7.1).
    pub enhanced: u8,
}

/// The classes of `code` and `enhanced` when they differ; `None` when they agree or either is
/// missing, or the enhanced code has no class (`X.7.1`).
fn classes_differ(code: Option<u16>, enhanced: Option<&EnhancedCode>) -> Option<ClassesDiffer> {
    match (code, enhanced) {
        (Some(c), Some(e)) if e.class != 0 && !e.class_agrees(c) => Some(ClassesDiffer {
            basic: c / 100,
            enhanced: e.class,
        }),
        _ => None,
    }
}

/// The command a bounce or log line says the reply answered (Postfix "(in reply to RCPT TO
/// command)", Exim "after RCPT TO:<…>", "after end of data", "after initial connection").
pub(crate) fn phase_in_text(text: &str) -> Option<Phase> {
    let t = text.to_ascii_lowercase();
    // Most specific first: "end of data" before "data", "mail from" before "mail".
    let marks: &[(&str, Phase)] = &[
        ("end of data", Phase::Dot),
        ("after data", Phase::Data),
        ("to data command", Phase::Data),
        ("rcpt to", Phase::Rcpt),
        ("mail from", Phase::Mail),
        ("to starttls", Phase::StartTls),
        ("after starttls", Phase::StartTls),
        ("to auth", Phase::Auth),
        ("after auth", Phase::Auth),
        ("to ehlo", Phase::Helo),
        ("after ehlo", Phase::Helo),
        ("to helo", Phase::Helo),
        ("after helo", Phase::Helo),
        ("to lhlo", Phase::Helo),
        ("after lhlo", Phase::Helo),
        ("to quit", Phase::Quit),
        ("after quit", Phase::Quit),
        ("initial connection", Phase::Banner),
        ("initial server greeting", Phase::Banner),
        ("refused to talk to me", Phase::Banner),
        ("greeting", Phase::Banner),
    ];
    // Only the context words count, not the reply's own text: "in reply to …" and "after …"
    // are what bounces and logs write.
    for (mark, phase) in marks {
        for lead in [
            "in reply ",
            "after ",
            "while receiving the ",
            "refused to talk to me",
        ] {
            if let Some(at) = t.find(lead) {
                let tail = &t[at..];
                let window = &tail[..tail.len().min(lead.len() + 40)];
                if window.contains(mark) {
                    return Some(*phase);
                }
            }
        }
    }
    None
}

/// Where a reply code starts in `line`: three digits 2xx–5xx followed by a space, a hyphen or
/// the end, at the start or after a space, `;`, `:`, `(`, `[`, a quote or `#` (so "said: 550 …",
/// "smtp; 550 …", and Exchange's "Remote Server returned '550 5.1.10 …'" and "#550 5.1.1 … ##").
fn code_at(line: &str) -> Option<(usize, u16)> {
    let b = line.as_bytes();
    let mut i = 0;
    while i + 3 <= b.len() {
        let starts = i == 0
            || matches!(
                b[i - 1],
                b' ' | b'\t' | b';' | b':' | b'(' | b'[' | b'\'' | b'"' | b'#'
            );
        if starts
            && matches!(b[i], b'2'..=b'5')
            && b[i + 1].is_ascii_digit()
            && b[i + 2].is_ascii_digit()
            && (i + 3 == b.len() || matches!(b[i + 3], b' ' | b'-'))
            // Not an IP address or a dotted number ("550.1", "192.0.2.1").
            && !(i + 3 < b.len() && b[i + 3] == b'.')
        {
            let code = u16::from(b[i] - b'0') * 100
                + u16::from(b[i + 1] - b'0') * 10
                + u16::from(b[i + 2] - b'0');
            return Some((i, code));
        }
        i += 1;
    }
    None
}

/// Drop a trailing "(in reply to … command)" that Postfix appends to the reply in bounces.
fn strip_context(line: &str) -> &str {
    let l = line.trim_end();
    if let Some(at) = l.to_ascii_lowercase().rfind("(in reply to ")
        && l.ends_with(')')
    {
        return l[..at].trim_end();
    }
    l
}

/// Drop what closes the wrapping a reply was quoted in, `before` being the line up to its code:
/// the quote after Exchange's "Remote Server returned '550 …'", the `##` after its "#550 … ##",
/// and the `>'` after "'< #5.0.0 smtp;550 …>'". Only closers whose opener came before the code
/// go, so a reply's own quotes and brackets stay.
fn strip_wrapping<'a>(rest: &'a str, before: &str) -> &'a str {
    let mut r = rest.trim_end();
    for q in ['\'', '"'] {
        if before.matches(q).count() % 2 == 1 {
            r = r.strip_suffix(q).unwrap_or(r).trim_end();
        }
    }
    if before.ends_with('#') {
        r = r.strip_suffix("##").unwrap_or(r).trim_end();
    }
    if before.matches('<').count() > before.matches('>').count() {
        r = r.strip_suffix('>').unwrap_or(r).trim_end();
    }
    r
}

/// Find the reply in pasted text: the first line with a reply code starts it; later lines
/// with the same code (`550-…`, `550 …`) or without one (folded bounce headers) continue it,
/// until a blank line.
pub(crate) fn find_reply(input: &str) -> Option<Reply> {
    let mut end = input.len().min(INPUT_LIMIT);
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    let input = &input[..end];
    let mut code: Option<u16> = None;
    let mut lines: Vec<String> = Vec::new();
    for raw in input.lines() {
        let line = raw.trim();
        match code {
            None => {
                if let Some((at, c)) = code_at(line) {
                    code = Some(c);
                    let rest = line[at + 3..].strip_prefix(['-', ' ']).unwrap_or("");
                    lines.push(strip_wrapping(strip_context(rest), &line[..at]).to_string());
                }
            }
            Some(c) => {
                if line.is_empty() || lines.len() >= MAX_LINES {
                    break;
                }
                let own = format!("{c}");
                let rest = match line.strip_prefix(own.as_str()) {
                    Some("") => "",
                    Some(r) if r.starts_with(['-', ' ']) => &r[1..],
                    _ => line,
                };
                lines.push(strip_context(rest).to_string());
            }
        }
    }
    let code = code?;
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    Some(Reply::new(code, &refs))
}

/// Explain pasted text: a reply (one or many lines), a bounce's diagnostic line, or just codes
/// (`550`, `5.7.1`, `550 5.1.1`). `phase` is the command it answers when the user knows it;
/// otherwise the text may say, and failing that every command the code is an answer to is
/// covered. `None` when the input holds no code at all.
pub fn analyse(input: &str, phase: Option<Phase>) -> Option<Report> {
    let reply = find_reply(input);
    let words_only = reply
        .as_ref()
        .is_none_or(|r| r.text_without_codes().trim().is_empty() && r.lines.len() <= 1);
    // Codes alone (`550 5.1.1`, `X.7.1`): the table view, as `:explain` has always shown. A
    // reply found after other words ("… Remote Server returned '550 5.1.10'") gives its own
    // codes, wherever they stood in the input.
    let table = if words_only && phase.is_none() {
        match &reply {
            Some(r) => {
                let enhanced = r
                    .enhanced
                    .or_else(|| words(input).find_map(codes::parse_enhanced_word))
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                codes::code_table(&format!("{} {enhanced}", r.code.unwrap_or(0)))
            }
            None => codes::code_table(input),
        }
    } else {
        None
    };
    let (phase, phase_from) = match phase {
        Some(p) => (Some(p), PhaseFrom::Given),
        None => match phase_in_text(input) {
            Some(p) => (Some(p), PhaseFrom::Text),
            None => (None, PhaseFrom::Unknown),
        },
    };
    let Some(reply) = reply else {
        // No basic code; an enhanced code alone still has a table entry.
        // A code outside 2xx–5xx (`699`) is no reply, but the table still names it.
        return table.map(|t| Report {
            code: t.basic.as_ref().map(|b| b.code),
            enhanced: enhanced_only(input),
            text: String::new(),
            phase: None,
            phase_from: PhaseFrom::Unknown,
            explanations: Vec::new(),
            classes_differ: None,
            table: Some(t),
        });
    };
    let phases: Vec<Phase> = match phase {
        Some(p) => vec![p],
        None => {
            let code = reply.code.unwrap_or(0);
            let known: Vec<Phase> = PHASES
                .iter()
                .copied()
                .filter(|&p| codes::is_known_answer(code, p))
                .collect();
            if known.is_empty() {
                vec![Phase::Other]
            } else if known.len() < PHASES.len() {
                // The commands with a meaning of their own, then every other one: a 501 has
                // its own after EHLO, STARTTLS and AUTH, but is most often the answer to MAIL or
                // RCPT, whose explanation is the table's (RFC 5321 §4.2.3).
                let mut all = known;
                all.push(Phase::Other);
                all
            } else {
                known
            }
        }
    };
    let explanations = phases
        .iter()
        .map(|&p| {
            let e = codes::explain_answer(&reply, p, Answer::Command);
            InPhase {
                phase: p,
                basic: e.basic.unwrap_or_default(),
                hint: e.hint,
                severity: e.severity,
            }
        })
        .collect();
    Some(Report {
        code: reply.code,
        enhanced: reply.enhanced.as_ref().and_then(codes::lookup_enhanced),
        text: reply.text_without_codes(),
        phase,
        phase_from,
        explanations,
        classes_differ: classes_differ(reply.code, reply.enhanced.as_ref()),
        table,
    })
}

/// The words of `input` that may be codes: split where `code_table` splits, and at the quotes
/// and `#` that wrap codes in bounces.
fn words(input: &str) -> impl Iterator<Item = &str> {
    input
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '-' | '\'' | '"' | '#'))
        .filter(|w| !w.is_empty())
}

/// The first enhanced code among the words of `input` (`5.7.1`, `X.7.1`).
fn enhanced_only(input: &str) -> Option<EnhancedInfo> {
    words(input)
        .find_map(codes::parse_enhanced_word)
        .and_then(|e| codes::lookup_enhanced(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_multi_line_reply_is_one_reply() {
        let r = find_reply(
            "550-5.7.26 This mail is unauthenticated, which poses a security risk to the\n\
             550-5.7.26 sender and Gmail users, and has been blocked.\n\
             550 5.7.26 https://support.google.com/mail/answer/81126 - gsmtp\n",
        )
        .unwrap();
        assert_eq!(r.code, Some(550));
        assert_eq!(r.enhanced.map(|e| e.to_string()).as_deref(), Some("5.7.26"));
        assert_eq!(r.lines.len(), 3);
        assert!(r.text_without_codes().ends_with("- gsmtp"));
    }

    #[test]
    fn bounce_lines_give_the_reply_and_the_phase() {
        let postfix = "<u@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 \
                       <u@example.org>: Recipient address rejected: User unknown in local \
                       recipient table (in reply to RCPT TO command)";
        let r = analyse(postfix, None).unwrap();
        assert_eq!(r.code, Some(550));
        assert_eq!(
            (r.phase, r.phase_from),
            (Some(Phase::Rcpt), PhaseFrom::Text)
        );
        assert!(!r.text.contains("in reply to"), "{}", r.text);
        let h = r.explanations[0].hint.as_ref().unwrap().to_string();
        assert!(h.contains("does not exist"), "{h}");

        let exim = "  SMTP error from remote mail server after RCPT TO:<u@example.org>:\n\
                    \x20 550-Verification failed for <s@example.net>\n\
                    \x20 550-Unrouteable address\n\
                    \x20 550 Sender verify failed\n";
        let r = analyse(exim, None).unwrap();
        assert_eq!(r.phase, Some(Phase::Rcpt));
        assert_eq!(r.text.lines().count(), 3);
        let h = r.explanations[0].hint.as_ref().unwrap().to_string();
        assert!(h.contains("about the sender"), "{h}");

        let dsn = "Diagnostic-Code: smtp; 552 5.2.2 <u@example.org>: Mailbox full";
        let r = analyse(dsn, Some(Phase::Dot)).unwrap();
        assert_eq!(r.phase_from, PhaseFrom::Given);
        assert!(r.explanations[0].hint.as_ref().unwrap().contains("full"));

        assert_eq!(
            phase_in_text("host x said: 554 5.7.1 spam (in reply to end of DATA command)"),
            Some(Phase::Dot)
        );
        assert_eq!(
            phase_in_text("SMTP error from remote mail server after MAIL FROM:<a@b> SIZE=1:"),
            Some(Phase::Mail)
        );
        assert_eq!(
            phase_in_text("SMTP error from remote mail server after initial connection:"),
            Some(Phase::Banner)
        );
        assert_eq!(phase_in_text("550 5.1.1 User unknown"), None);
    }

    #[test]
    fn without_a_phase_every_command_the_code_answers_is_covered() {
        let r = analyse("554 5.7.1 Service unavailable; client host blocked", None).unwrap();
        assert_eq!(r.phase_from, PhaseFrom::Unknown);
        let phases: Vec<Phase> = r.explanations.iter().map(|e| e.phase).collect();
        assert!(
            phases.contains(&Phase::Banner) && phases.contains(&Phase::Rcpt),
            "{phases:?}"
        );
        assert_eq!(r.phase, None);
        // A code with a meaning of its own after some commands only is also explained for the
        // others (Postfix's answer to a malformed MAIL).
        let r = analyse("501 5.5.2 Syntax: MAIL FROM:<address>", None).unwrap();
        let last = r.explanations.last().unwrap();
        assert_eq!(last.phase, Phase::Other);
        assert!(
            last.basic.contains("Syntax error in parameters"),
            "{}",
            last.basic
        );
        assert!(r.explanations.iter().any(|e| e.phase == Phase::Helo));
        // One that has a meaning after every command gets no extra row.
        let r = analyse("421 4.4.2 mail.example.org Error: timeout exceeded", None).unwrap();
        assert!(r.explanations.iter().all(|e| e.phase != Phase::Other));
    }

    #[test]
    fn codes_alone_keep_the_table_view() {
        let r = analyse("550 5.1.1", None).unwrap();
        let t = r.table.unwrap();
        assert_eq!(t.basic.map(|b| b.code), Some(550));
        assert_eq!(
            t.enhanced.unwrap().info.title,
            "Bad destination mailbox address"
        );
        assert!(analyse("X.7.1", None).is_some());
        assert!(analyse("hello there", None).is_none());
        assert!(analyse("", None).is_none());
    }

    #[test]
    fn exchange_ndrs_give_their_reply() {
        // Exchange Online's NDR, as pasted whole: the diagnostic line quotes the reply.
        let ndr = "Your message to u@example.org couldn't be delivered.\n\
                   u wasn't found at example.org.\n\n\
                   Diagnostic information for administrators:\n\n\
                   Generating server: BN8PR12MB3281.namprd12.prod.outlook.com\n\n\
                   u@example.org\n\
                   Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient \
                   not found by SMTP address lookup'\n\n\
                   Original message headers:\n\n\
                   Received: from BN8PR12MB3281.namprd12.prod.outlook.com\n\
                   Content-Length: 250 bytes\n";
        let r = analyse(ndr, None).unwrap();
        assert_eq!(r.code, Some(550));
        assert_eq!(r.enhanced.as_ref().map(|e| e.code.as_str()), Some("5.1.10"));
        assert_eq!(
            r.text,
            "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
        );
        let h = r.explanations[0].hint.as_ref().unwrap().to_string();
        assert!(
            h.starts_with("(Microsoft)") && h.contains("does not exist"),
            "{h}"
        );
        // Older Exchange NDRs: "#550 … ##", and a reply inside "'< #5.0.0 smtp;550 …>'".
        let r = find_reply("#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##").unwrap();
        assert_eq!(r.code, Some(550));
        assert_eq!(
            r.text_without_codes(),
            "RESOLVER.ADR.RecipNotFound; not found"
        );
        let r = find_reply("Remote Server returned '< #5.0.0 smtp;550 5.1.1 User doesn't exist>'")
            .unwrap();
        assert_eq!(r.text_without_codes(), "User doesn't exist");
        // A reply's own quotes and brackets stay.
        let r = find_reply("said: 550 5.7.1 it's 'quoted' <x>").unwrap();
        assert_eq!(r.text_without_codes(), "it's 'quoted' <x>");
        // A bare code late in a long NDR line keeps its basic code in the table view.
        let long = format!("{} Remote Server returned '550 5.1.1'", "word ".repeat(40));
        let t = analyse(&long, None).unwrap().table.unwrap();
        assert_eq!(t.basic.map(|b| b.code), Some(550));
        assert_eq!(t.enhanced.map(|e| e.info.code), Some("5.1.1".to_string()));
    }

    #[test]
    fn hostile_input_is_bounded() {
        let big = "550-x\n".repeat(100_000);
        let r = find_reply(&big).unwrap();
        assert!(r.lines.len() <= MAX_LINES + 1);
        let weird = "\u{0}\u{fffd}550\u{1}-é\n5\n55\n555555 x\n";
        let _ = analyse(weird, None);
        assert_eq!(code_at("192.0.2.1 550.2"), None);
        assert_eq!(code_at("said: 550 x"), Some((6, 550)));
    }
}
