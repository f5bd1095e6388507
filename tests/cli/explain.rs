//! `ehlo explain`: codes, whole pasted replies and bounce lines explained without connecting,
//! by the same engine as the transcript; text and JSON; stdin; the exit status.

use std::time::Duration;

use crate::util::{Step, after_greet, ehlo, ehlo_with, read_to_end, scripted, send};

fn json(args: &[&str]) -> serde_json::Value {
    let mut a = vec!["explain", "--json"];
    a.extend_from_slice(args);
    let run = ehlo(&a);
    assert_eq!(run.code, 0, "{}", run.all());
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn codes_alone_show_every_command() {
    let run = ehlo(&["explain", "550", "5.1.1"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("after RCPT: mailbox unavailable"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("5.1.1  Bad destination mailbox address"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_bounce_line_gives_its_phase_and_the_same_hint_as_the_transcript() {
    let v = json(&[
        "host mx.example.org[192.0.2.1] said: 552 5.2.2 <u@example.org>: Mailbox full \
         (in reply to end of DATA command)",
    ]);
    assert_eq!(v["code"], 552);
    assert_eq!(v["phase"], "dot");
    assert_eq!(v["phase_from"], "text");
    assert_eq!(v["enhanced"]["code"], "5.2.2");
    let hint = v["explanations"][0]["hint"].as_str().unwrap();
    assert!(hint.contains("full") && !hint.contains("too big"), "{hint}");
}

/// A pasted reply with a 4.x.x enhanced code on a 5xx (or the reverse) says so, as the codes
/// alone do, in text and JSON; a reply that agrees has no such member.
#[test]
fn a_pasted_reply_whose_classes_differ_says_so() {
    let run = ehlo(&["explain", "550 4.7.1 Service unavailable"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .contains("note: the classes differ (550 vs 4.7.1); RFC 3463 §2"),
        "{}",
        run.stdout
    );
    let v = json(&["550 4.7.1 Service unavailable"]);
    assert_eq!(v["classes_differ"]["basic"], 5, "{v}");
    assert_eq!(v["classes_differ"]["enhanced"], 4, "{v}");
    let v = json(&["550", "4.7.1"]);
    assert_eq!(v["classes_differ"]["enhanced"], 4, "{v}");
    let v = json(&["550 5.7.1 Service unavailable"]);
    assert!(v.get("classes_differ").is_none(), "{v}");
}

#[test]
fn a_multi_line_reply_from_stdin_keeps_every_line() {
    let input = b"550-Verification failed for <s@example.net>\r\n\
                  550-Unrouteable address\r\n550 Sender verify failed\r\n";
    let run = ehlo_with(
        &["explain", "--phase", "rcpt", "-"],
        Some(input),
        Duration::from_secs(20),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains(
            "550  Verification failed for <s@example.net> / Unrouteable address / Sender verify failed"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("about the sender"), "{}", run.stdout);
}

#[test]
fn the_phase_changes_the_meaning() {
    let at_rcpt = json(&["--phase", "rcpt", "554 Transaction failed"]);
    let at_banner = json(&["--phase", "banner", "554 Transaction failed"]);
    let b = |v: &serde_json::Value| v["explanations"][0]["basic"].as_str().unwrap().to_string();
    assert!(b(&at_rcpt).contains("recipient"), "{}", b(&at_rcpt));
    assert!(!b(&at_rcpt).contains("greeting"), "{}", b(&at_rcpt));
    assert!(
        b(&at_banner).contains("refuses to talk"),
        "{}",
        b(&at_banner)
    );
    // PRDR's 353 at the end of data is expected, not out of step.
    let v = json(&["--phase", "dot", "353 PRDR content analysis beginning"]);
    assert_eq!(v["explanations"][0]["severity"], "ok");
    assert!(b(&v).contains("PRDR"), "{}", b(&v));
}

#[test]
fn no_code_is_a_usage_error_and_bad_phases_are_refused() {
    let run = ehlo(&["explain", "hello", "world"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("no SMTP reply code"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    let run = ehlo(&["explain", "--phase", "nonsense", "550"]);
    assert_eq!(run.code, 1, "{}", run.all());
}

#[test]
fn an_exchange_ndr_from_stdin_is_explained() {
    // The whole NDR as Exchange Online sends it: the reply is quoted on its diagnostic line.
    let input = b"Your message to u@example.org couldn't be delivered.\n\
                  u wasn't found at example.org.\n\n\
                  Diagnostic information for administrators:\n\n\
                  Generating server: BN8PR12MB3281.namprd12.prod.outlook.com\n\n\
                  u@example.org\n\
                  Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient \
                  not found by SMTP address lookup'\n\n\
                  Original message headers:\n\n\
                  Received: from BN8PR12MB3281.namprd12.prod.outlook.com\n\
                  \x20(2603:10b6:408:6b::15) by BN8PR12MB3281.namprd12.prod.outlook.com with \
                  HTTPS; Thu, 3 Dec 2026\n 17:46:13 +0000\n\
                  Content-Length: 250 bytes\n";
    let run = ehlo_with(&["explain", "-"], Some(input), Duration::from_secs(20));
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .starts_with("550 5.1.10  RESOLVER.ADR.RecipientNotFound; Recipient not found"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("hint: (Microsoft)")
            && !run
                .stdout
                .contains("hint: the recipient's domain accepts no mail"),
        "{}",
        run.stdout
    );
}

#[test]
fn json_carries_what_the_text_shows() {
    // The code-table view: the hint text mode prints is in the JSON too.
    let text = ehlo(&["explain", "X.7.8"]);
    assert_eq!(text.code, 0, "{}", text.all());
    assert!(
        text.stdout.contains("hint: credentials rejected"),
        "{}",
        text.stdout
    );
    let v = json(&["X.7.8"]);
    let t = &v["table"];
    assert_eq!(t["enhanced"]["code"], "X.7.8");
    assert_eq!(t["enhanced"]["title"], "Authentication credentials invalid");
    assert_eq!(t["enhanced"]["usual_basic"], "535, 554");
    let hint = t["hints"][0]["hint"].as_str().unwrap();
    assert!(hint.starts_with("credentials rejected"), "{hint}");
    assert_eq!(t["hints"][0]["phases"], serde_json::json!([]));
    // A code outside 2xx–5xx: text explains it, and so does JSON.
    let text = ehlo(&["explain", "699"]);
    assert!(
        text.stdout.contains("699 is not a valid"),
        "{}",
        text.stdout
    );
    let v = json(&["699"]);
    assert_eq!(v["code"], 699);
    assert_eq!(v["table"]["basic"]["code"], 699);
    assert!(
        v["table"]["hints"][0]["hint"]
            .as_str()
            .unwrap()
            .contains("699 is not a valid"),
        "{v}"
    );
    // Per-command rows and hints, as in the text.
    let v = json(&["550", "5.1.1"]);
    let after = v["table"]["basic"]["after"].as_array().unwrap();
    assert!(
        after
            .iter()
            .any(|a| a["phase"] == "rcpt"
                && a["meaning"] == "mailbox unavailable / recipient refused"),
        "{v}"
    );
    let hints = v["table"]["hints"].as_array().unwrap();
    assert!(
        hints
            .iter()
            .any(|h| h["phases"] == serde_json::json!(["rcpt", "dot"])
                && h["hint"].as_str().unwrap().contains("does not exist")),
        "{v}"
    );
    assert_eq!(v["table"]["classes_differ"], false);
    // A pasted reply with text has no table.
    let v = json(&["550 5.1.1 User unknown"]);
    assert!(v["table"].is_null(), "{v}");
}

/// A bare 5.1.10 may be IANA's null MX (RFC 7505) or, far more often, Microsoft 365's unknown
/// recipient: the code-table line says both, `ehlo explain` and the send's explanation alike,
/// the registry's title unchanged.
#[test]
fn a_bare_5_1_10_names_the_registry_meaning_and_microsofts_use() {
    let run = ehlo(&["explain", "5.1.10"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let out = &run.stdout;
    assert!(
        out.starts_with("5.1.10  Recipient address has null MX\n"),
        "{out}"
    );
    let meaning = out.lines().nth(1).unwrap_or_default();
    assert!(
        meaning.contains("IANA registry: a null MX (RFC 7505)")
            && meaning.contains("Microsoft 365")
            && meaning.contains("recipient not found (RESOLVER.ADR.RecipientNotFound)"),
        "{out}"
    );

    // The send's explanation of a refused RCPT carries the same line.
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 Ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"550 5.1.10 Recipient rejected\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 Bye\r\n"),
    ]));
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 24, "{}", run.all());
    let line = run
        .all()
        .lines()
        .find(|l| l.contains("5.1.10 = "))
        .unwrap_or_else(|| panic!("{}", run.all()))
        .to_string();
    assert!(
        line.contains("Recipient address has null MX: Permanent failure: IANA registry: a null MX")
            && line.contains("Microsoft 365"),
        "{line}"
    );
}

/// Odd input: a pasted reply's control characters (an ESC that would recolour the terminal, a
/// BEL) are shown escaped as the transcript shows a server's, a byte that is not UTF-8 as
/// `\xFF` (not U+FFFD), and input with no code or too much of it is one line or a bounded
/// answer, exit 1 or 0, quickly.
#[test]
fn odd_input_is_escaped_bounded_and_one_line_when_refused() {
    let run = ehlo(&["explain", "550 5.1.1 \x1b[31mred\x07"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let first = run.stdout.lines().next().unwrap_or_default();
    assert_eq!(first, "550 5.1.1  \\x1B[31mred\\x07", "{}", run.stdout);
    assert!(!run.stdout.contains('\x1b'), "{}", run.stdout);

    let run = ehlo_with(
        &["explain", "-"],
        Some(b"550 5.7.1 no \xff here\n"),
        Duration::from_secs(20),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.starts_with("550 5.7.1  no \\xFF here\n"),
        "{}",
        run.stdout
    );

    // No code: one line, exit 1, for empty, blank, non-ASCII and 10 MB of it alike.
    let big = vec![b'x'; 10 << 20];
    for input in [&b""[..], b"   \n", "héllo wörld".as_bytes(), &big] {
        let run = ehlo_with(&["explain", "-"], Some(input), Duration::from_secs(20));
        assert_eq!(run.code, 1, "{}", run.all());
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.starts_with("*** no SMTP reply code"),
            "{}",
            run.stderr
        );
        assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
    }
    // 4.7.999 (no such detail) and 2.0.0 without a basic code are explained, not refused.
    for code in ["4.7.999", "2.0.0"] {
        let run = ehlo(&["explain", code]);
        assert_eq!(run.code, 0, "{}", run.all());
        assert!(run.stdout.starts_with(code), "{}", run.stdout);
    }
}

/// `ehlo explain --json` writes one object on stdout whatever ends it: for input it refuses
/// (no code: `xyz`, an empty argument, 10 MB of stdin without one) and for a command line
/// refused for its flags, `{"error", "exit_code", "outcome"}` with the run's exit code and the
/// reason that stderr has too; it wrote nothing, so a JSON consumer read an empty stream.
/// The explanation itself carries `exit_code` 0, `outcome` `ok`, `error` null.
#[test]
fn json_says_why_it_has_no_explanation_on_stdout() {
    let ten_mb = vec![b'x'; 10 << 20];
    // Arguments, stdin, a word of the reason.
    type Case<'a> = (&'a [&'a str], Option<&'a [u8]>, &'a str);
    let cases: [Case; 6] = [
        (&["explain", "--json", "xyz"], None, "no SMTP reply code"),
        (&["explain", "--json", ""], None, "no SMTP reply code"),
        (
            &["explain", "--json", "-"],
            Some(&ten_mb),
            "no SMTP reply code",
        ),
        (&["explain", "--json", "-"], Some(b""), "no SMTP reply code"),
        (&["explain", "--json", "--bogus", "550"], None, "--bogus"),
        (
            &["explain", "--json", "--phase", "nonsense", "550"],
            None,
            "nonsense",
        ),
    ];
    for (args, stdin, why) in cases {
        let run = ehlo_with(args, stdin, Duration::from_secs(20));
        let shown = format!("{:?}", &args[..args.len().min(4)]);
        assert_eq!(run.code, 1, "{shown}: {}", run.all());
        assert!(run.stderr.starts_with("*** "), "{shown}: {}", run.stderr);
        assert_eq!(run.stdout.lines().count(), 1, "{shown}: {}", run.stdout);
        let v: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{shown}: {e}: {}", run.stdout));
        assert_eq!(v["exit_code"], 1, "{shown}: {v}");
        assert_eq!(v["outcome"], "usage", "{shown}: {v}");
        let error = v["error"].as_str().unwrap();
        assert!(error.contains(why), "{shown}: {v}");
        assert!(run.stderr.contains(error), "{shown}: {}", run.stderr);
    }
    let v = json(&["550 5.1.1 no such user"]);
    assert_eq!(v["exit_code"], 0, "{v}");
    assert_eq!(v["outcome"], "ok", "{v}");
    assert!(v["error"].is_null(), "{v}");
    assert_eq!(v["code"], 550, "{v}");
    // --help and the text form are unchanged: nothing on stdout for a refusal.
    let run = ehlo(&["explain", "xyz"]);
    assert_eq!((run.code, run.stdout.as_str()), (1, ""), "{}", run.all());
}

/// A signal while `ehlo explain --json -` waits for its stdin (a stalled pipe, a cancelled CI
/// job) ends it with the one JSON line saying so, `interrupted` and 128+N, as every mode's JSON
/// ends: the signal's default action ended it with stdout empty.
#[test]
fn json_says_a_signal_ended_the_wait_for_stdin() {
    use nix::sys::signal::Signal;
    use std::process::{Command, Stdio};

    for (signal, code, name) in [
        (Signal::SIGTERM, 143, "SIGTERM"),
        (Signal::SIGINT, 130, "SIGINT"),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
        crate::util::isolate(&mut cmd);
        cmd.args(["explain", "--json", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn ehlo");
        // Half a reply, and stdin left open.
        let mut stdin = child.stdin.take().unwrap();
        std::io::Write::write_all(&mut stdin, b"550 5.1.1 no such").unwrap();
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        // Wait until the signal is blocked (the main thread's SigBlk has its bit), so that it
        // is sent to the waiting run, not to one still starting.
        let bit = 1u64 << (signal as i32 - 1);
        let t0 = std::time::Instant::now();
        loop {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
            let blocked = status
                .lines()
                .find_map(|l| l.strip_prefix("SigBlk:"))
                .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
                .unwrap();
            if blocked & bit != 0 {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "{name} never blocked"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        nix::sys::signal::kill(pid, signal).unwrap();
        let out = read_to_end(child.stdout.take().unwrap());
        let err = read_to_end(child.stderr.take().unwrap());
        let status = child.wait().unwrap();
        drop(stdin);
        assert_eq!(status.code(), Some(code), "{name}: {out}{err}");
        assert_eq!(out.lines().count(), 1, "{name}: {out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["exit_code"], code, "{name}: {v}");
        assert_eq!(v["outcome"], "interrupted", "{name}: {v}");
        assert_eq!(v["error"], format!("interrupted by {name}"), "{name}: {v}");
        assert_eq!(err, format!("*** interrupted by {name}\n"), "{name}");
    }
}
