//! The corpus of real reply wordings (`tests/data/replies/`, one file per MTA or provider):
//! every row is explained by the same engine as the transcript and `ehlo explain`, with the
//! meaning of its phase and a hint that says what the row expects and does not contradict the
//! reply's enhanced code. See `tests/data/replies/README.md` for the format.

use std::path::PathBuf;

use ehlo::smtp::event::Phase;
use ehlo::smtp::explain::{self, PhaseFrom};

struct Row {
    file: String,
    line: usize,
    phase: Phase,
    reply: String,
    expect: String,
}

fn phase(word: &str) -> Option<Phase> {
    Some(match word {
        "banner" => Phase::Banner,
        "ehlo" => Phase::Helo,
        "starttls" => Phase::StartTls,
        "auth" => Phase::Auth,
        "mail" => Phase::Mail,
        "rcpt" => Phase::Rcpt,
        "data" => Phase::Data,
        "dot" => Phase::Dot,
        "quit" => Phase::Quit,
        _ => return None,
    })
}

fn corpus() -> Vec<Row> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/replies");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/data/replies")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut rows = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).expect("read corpus file");
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.splitn(3, " | ").collect();
            assert_eq!(
                parts.len(),
                3,
                "{name}:{}: not PHASE | REPLY | EXPECT",
                i + 1
            );
            rows.push(Row {
                file: name.clone(),
                line: i + 1,
                phase: phase(parts[0])
                    .unwrap_or_else(|| panic!("{name}:{}: unknown phase {}", i + 1, parts[0])),
                reply: parts[1].replace("\\n", "\n"),
                expect: parts[2].trim().to_string(),
            });
        }
    }
    rows
}

/// Words a hint must not use for an enhanced code (subject, detail): it would contradict it.
fn contradictions(subject: u16, detail: u16) -> &'static [&'static str] {
    match (subject, detail) {
        (1, 1) => &["too big", "mailbox is full", "envelope sender"],
        (2, 2) => &["too big", "does not exist"],
        (3, 4) | (2, 3) => &["mailbox is full", "does not exist"],
        (5, 3) => &["mailbox is full", "too big"],
        (7, 8) => &["too big", "does not exist", "mailbox is full"],
        (7, 26) | (7, 23) | (7, 25) => &["does not exist", "too big", "mailbox is full"],
        (7, 1) | (7, 0) => &["does not exist", "mailbox is full"],
        (4, _) => &["mailbox is full", "too big"],
        (6, _) => &["does not exist", "mailbox is full"],
        _ => &[],
    }
}

#[test]
fn every_real_wording_is_explained_for_its_phase_without_contradiction() {
    let rows = corpus();
    let files: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.file.as_str()).collect();
    for f in [
        "postfix.txt",
        "exim.txt",
        "sendmail.txt",
        "microsoft.txt",
        "gmail.txt",
        "yahoo.txt",
        "dovecot-lmtp.txt",
        "opensmtpd.txt",
        "haraka.txt",
    ] {
        assert!(files.contains(f), "corpus file {f} missing");
    }
    assert!(rows.len() >= 150, "only {} wordings", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        let at = format!("{}:{} {:?} {:?}", row.file, row.line, row.phase, row.reply);
        let Some(report) = explain::analyse(&row.reply, Some(row.phase)) else {
            failures.push(format!("{at}: no reply code found"));
            continue;
        };
        assert_eq!(report.phase_from, PhaseFrom::Given);
        assert_eq!(report.explanations.len(), 1, "{at}");
        let e = &report.explanations[0];
        let code = report.code.unwrap_or(0);
        let basic = e.basic.to_lowercase();
        let hint = e.hint.clone().unwrap_or_default().to_string();
        let lower = hint.to_lowercase();
        let mut problems = Vec::new();
        if row.phase != Phase::Banner && basic.contains("as a greeting") {
            problems.push(format!("basic meaning of another phase: {}", e.basic));
        }
        if basic.contains("out of step") {
            problems.push(format!(
                "a reply this command may get called out of step: {}",
                e.basic
            ));
        }
        if row.expect == "-" {
            if code >= 400 || e.hint.is_some() {
                problems.push(format!("a success with a hint: {hint}"));
            }
        } else {
            if code < 400 {
                problems.push("a failure row with a success code".into());
            }
            if e.hint.is_none() {
                problems.push("no hint".into());
            }
            for want in row.expect.split(" ; ") {
                let want = want.trim().to_lowercase();
                match want.strip_prefix('!') {
                    Some(not) if lower.contains(not) => {
                        problems.push(format!("hint says {not:?}: {hint}"))
                    }
                    Some(_) => {}
                    None if !lower.contains(&want) => {
                        problems.push(format!("hint lacks {want:?}: {hint}"))
                    }
                    None => {}
                }
            }
        }
        if let Some(enh) = &report.enhanced {
            let mut it = enh
                .code
                .split('.')
                .skip(1)
                .map(|n| n.parse::<u16>().unwrap_or(999));
            let (s, d) = (it.next().unwrap_or(999), it.next().unwrap_or(999));
            for bad in contradictions(s, d) {
                if lower.contains(bad) {
                    problems.push(format!(
                        "hint contradicts {}: says {bad:?}: {hint}",
                        enh.code
                    ));
                }
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{at}\n    {}", problems.join("\n    ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} wordings explained wrongly:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
