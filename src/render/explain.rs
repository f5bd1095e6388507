//! `ehlo explain` and the REPL's `:explain` in words: a [`Report`] on a pasted reply, or the
//! [`CodeTable`] view of codes alone. The explanations themselves (what a code means after a
//! command, what to do) are `smtp::codes`'s; this only lays them out, with each hint's remedy
//! worded for the front end.

use crate::render::remedy::{self, FrontEnd};
use crate::smtp::codes::CodeTable;
use crate::smtp::event::Phase;
use crate::smtp::explain::{PhaseFrom, Report};

/// The human form of a report: the codes and their registry meaning, then what the reply means
/// as an answer to its command (or to each command it may answer) and what to do.
pub(crate) fn report_text(r: &Report, front: FrontEnd) -> String {
    if let Some(t) = &r.table {
        return code_table_text(t, front);
    }
    let mut out: Vec<String> = Vec::new();
    let mut head = r.code.map(|c| c.to_string()).unwrap_or_default();
    if let Some(e) = &r.enhanced {
        head.push(' ');
        head.push_str(&e.code);
    }
    if !r.text.is_empty() {
        // Pasted or piped text is not trusted to drive the terminal: escaped as the transcript
        // escapes a server's reply.
        out.push(format!("{head}  {}", super::human::reply_text(&r.text)));
    } else {
        out.push(head);
    }
    if let Some(e) = &r.enhanced {
        out.push(format!("{}  {}: {}", e.code, e.title, e.meaning));
    }
    if let Some(d) = r.classes_differ {
        let code = r
            .code
            .map_or_else(|| format!("{}xx", d.basic), |c| c.to_string());
        let enhanced = r
            .enhanced
            .as_ref()
            .map_or_else(|| format!("{}.x.x", d.enhanced), |e| e.code.clone());
        out.push(classes_note(&code, &enhanced));
    }
    match (r.phase, r.phase_from) {
        (Some(p), from) => {
            let whence = match from {
                PhaseFrom::Text => " (as the text says)",
                _ => "",
            };
            out.push(format!("answer to {}{whence}", p.label()));
        }
        (None, _) => out.push(
            "the command it answers is not known (give --phase): explained for each command \
                 it can answer"
                .to_string(),
        ),
    }
    // Merge the same hint for several commands.
    let single = r.explanations.len() == 1;
    for e in &r.explanations {
        if single {
            out.push(format!("  meaning: {}", e.basic));
        } else {
            out.push(format!("  after {}: {}", after(e.phase), e.basic));
        }
    }
    let mut hints: Vec<(Vec<&str>, String)> = Vec::new();
    for e in &r.explanations {
        if let Some(h) = e.hint.as_ref().map(|h| remedy::words(h, front)) {
            match hints.iter_mut().find(|(_, t)| *t == h) {
                Some((ps, _)) => ps.push(after(e.phase)),
                None => hints.push((vec![after(e.phase)], h)),
            }
        }
    }
    for (phases, h) in hints {
        if single || phases.len() == r.explanations.len() {
            out.push(format!("hint: {h}"));
        } else {
            out.push(format!("hint after {}: {h}", phases.join(", ")));
        }
    }
    out.join("\n")
}

/// The command an explanation is for: the commands without a meaning of their own are listed
/// last, as one.
fn after(p: Phase) -> &'static str {
    if p == Phase::Other {
        "any other command"
    } else {
        p.label()
    }
}

/// The note on a reply whose basic and enhanced codes disagree on the class (`550 4.7.1`).
fn classes_note(code: &str, enhanced: &str) -> String {
    format!("note: the classes differ ({code} vs {enhanced}); RFC 3463 §2 wants them to match")
}

/// The code-table view (`550 5.1.1`, `X.7.1`): the basic code's meaning, class and meaning
/// after each command; the enhanced code's registry row; a class mismatch; the hints.
pub(crate) fn code_table_text(t: &CodeTable, front: FrontEnd) -> String {
    let mut out: Vec<String> = Vec::new();
    if let Some(b) = &t.basic {
        match &b.source {
            Some(source) => out.push(format!("{}  {}  [{source}]", b.code, b.meaning)),
            None => out.push(format!("{}  {}", b.code, b.meaning)),
        }
        out.push(format!("     class {}", b.class));
        if let Some(m) = b.anywhere {
            out.push(format!("     after any command: {m}"));
        }
        for (p, m) in &b.after {
            out.push(format!("     after {}: {m}", p.label()));
        }
    }
    if let Some(e) = &t.enhanced {
        out.push(format!("{}  {}", e.info.code, e.info.title));
        out.push(format!("     {}", e.info.meaning));
        if let Some(reference) = &e.reference {
            let mut line = format!("     registry: {reference}");
            if let Some(usual) = &e.usual_basic {
                line.push_str(&format!("; usual basic codes: {usual}"));
            }
            out.push(line);
        }
    }
    if let Some((b, e)) = t.classes_differ {
        out.push(classes_note(&b.to_string(), &e.to_string()));
    }
    for (phases, h) in &t.hints {
        let h = remedy::words(h, front);
        if phases.is_empty() {
            out.push(format!("hint: {h}"));
        } else {
            let labels: Vec<&str> = phases.iter().map(|p| p.label()).collect();
            out.push(format!("hint after {}: {h}", labels.join(", ")));
        }
    }
    out.join("\n")
}

/// `ehlo explain --json`'s one object: the report's members, then the end every other mode's
/// JSON gives a consumer, `exit_code` (0), `outcome` (`ok`) and `error` (null).
#[derive(serde::Serialize)]
struct Answered<'a> {
    #[serde(flatten)]
    report: &'a Report,
    exit_code: u8,
    outcome: &'static str,
    error: Option<&'a str>,
}

/// The one JSON line (without its newline) `ehlo explain --json` writes for `r`.
pub(crate) fn json_line(r: &Report) -> Result<String, serde_json::Error> {
    let answered = Answered {
        report: r,
        exit_code: crate::error::EXIT_OK,
        outcome: "ok",
        error: None,
    };
    serde_json::to_string(&answered).map(super::json::terminal_safe)
}

/// The one JSON line (without its newline) `ehlo explain --json` writes instead of a report
/// when it has none to give (input without a code, a command line it refuses, stdin it cannot
/// read): `{"exit_code", "outcome", "error"}`, the run's exit code, its label and its reason
/// (said on stderr too), so a consumer of stdout is never left with nothing.
pub(crate) fn json_refusal(error: &crate::error::Error) -> String {
    let line = serde_json::json!({
        "exit_code": error.exit_code(),
        "outcome": error.label(),
        "error": error.to_string(),
    });
    super::json::terminal_safe(line.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::codes::code_table;
    use crate::smtp::explain::analyse;

    fn table(text: &str) -> Option<String> {
        code_table(text).map(|t| code_table_text(&t, FrontEnd::Send))
    }

    #[test]
    fn code_table_forms() {
        let t = table("550").unwrap();
        assert!(t.starts_with("550  Action refused"), "{t}");
        assert!(
            t.contains("after RCPT: mailbox unavailable / recipient refused"),
            "{t}"
        );
        assert!(t.contains("after MAIL: sender refused"), "{t}");

        let t = table("5.7.1").unwrap();
        assert!(
            t.starts_with("5.7.1  Delivery not authorized, message refused"),
            "{t}"
        );
        assert!(t.contains("[RFC3463]"), "{t}");

        let t = table("X.7.8").unwrap();
        assert!(
            t.starts_with("X.7.8  Authentication credentials invalid"),
            "{t}"
        );
        assert!(t.contains("hint: credentials rejected"), "{t}");

        let t = table("  550 5.1.1 ").unwrap();
        assert!(t.contains("5.1.1  Bad destination mailbox address"), "{t}");
        // LMTP and PRDR give a per-recipient 5.1.1 after the content too.
        assert!(
            t.contains("hint after RCPT, end of data: the mailbox does not exist"),
            "{t}"
        );

        let t = table("550-5.1.1").unwrap();
        assert!(t.contains("5.1.1"), "{t}");

        let t = table("550 4.1.1").unwrap();
        assert!(t.contains("classes differ"), "{t}");

        let t = table("5.1.99").unwrap();
        assert!(t.contains("not in the IANA registry"), "{t}");

        let t = table("530 X.7.0 Must issue a STARTTLS command first").unwrap();
        assert!(t.contains("5.7.0") || t.contains("X.7.0"), "{t}");
        assert!(t.contains("add --tls"), "{t}");
        // The REPL words the same table in its commands.
        let repl = code_table_text(
            &code_table("530 X.7.0 Must issue a STARTTLS command first").unwrap(),
            FrontEnd::Repl,
        );
        assert!(
            repl.contains("add :starttls") && !repl.contains("--tls"),
            "{repl}"
        );

        let t = table("421").unwrap();
        assert!(
            t.contains("after any command: service not available"),
            "{t}"
        );
        assert!(
            t.contains("after banner: the server will not serve you"),
            "{t}"
        );
        assert!(!t.contains("after RCPT: service"), "{t}");

        let t = table("5.7.708").unwrap();
        assert!(t.contains("hint: (Microsoft)"), "{t}");

        assert!(table("699").unwrap().contains("not a valid"));
    }

    #[test]
    fn reports_in_words() {
        let r = analyse("554 5.7.1 Service unavailable; client host blocked", None).unwrap();
        let t = report_text(&r, FrontEnd::Send);
        assert!(t.contains("give --phase"), "{t}");
        let r = analyse("550 5.1.1", None).unwrap();
        let t = report_text(&r, FrontEnd::Send);
        assert!(t.contains("5.1.1  Bad destination mailbox address"), "{t}");
    }

    /// A pasted reply whose classes disagree carries the same note as the codes alone.
    #[test]
    fn a_pasted_reply_notes_classes_that_differ() {
        let note = "note: the classes differ (550 vs 4.7.1); RFC 3463 §2 wants them to match";
        for input in [
            "550 4.7.1 Service unavailable",
            "550 4.7.1",
            "550-4.7.1 a\n550 4.7.1 b",
        ] {
            let t = report_text(&analyse(input, None).unwrap(), FrontEnd::Send);
            assert_eq!(t.matches(note).count(), 1, "{input}: {t}");
        }
        let r = analyse(
            "550 4.7.1 Service unavailable",
            Some(crate::smtp::event::Phase::Rcpt),
        );
        assert!(report_text(&r.unwrap(), FrontEnd::Send).contains(note));
        for agree in [
            "550 5.7.1 Service unavailable",
            "550 Service unavailable",
            "550 X.7.1 no",
        ] {
            let r = analyse(agree, None).unwrap();
            assert!(r.classes_differ.is_none(), "{agree}");
            assert!(
                !report_text(&r, FrontEnd::Send).contains("classes differ"),
                "{agree}"
            );
        }
    }
}
