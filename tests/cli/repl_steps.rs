//! `ehlo repl` and `ehlo replay` steps that went wrong without a reply code saying so, and the
//! secrets they hold: a hand-written AUTH credential in a replayed script that the server
//! refuses, each checked by every output (transcript, `--json`, the `--keep-going` table).

use std::time::Duration;

use crate::util::{Run, Step, ehlo_with, ehlo_with_env, read_to_end, scripted};

/// Run `ehlo` with `stdin` piped in, 30 s at most.
fn piped(args: &[&str], stdin: &str) -> Run {
    ehlo_with(args, Some(stdin.as_bytes()), Duration::from_secs(30))
}

/// `ehlo repl` (with `--strict` when `strict`) piping `stdin` to a scripted server that greets,
/// answers EHLO, then takes a NOOP only when not `strict`, then QUIT: the server must have
/// got exactly `EHLO x`, that NOOP unless `strict`, and QUIT — the refused message between
/// them never goes out, and under `--strict` nothing after it runs.
fn ehlo_x_then_noop_unless_strict(strict: bool, stdin: &[u8], limit: Duration) -> Run {
    let mut steps = vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250 scripted.test\r\n"),
    ];
    if !strict {
        steps.extend([Step::Expect("NOOP"), Step::Send(b"250 ok\r\n")]);
    }
    steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
    let server = scripted(steps);
    let addr = server.server();
    let mut args = vec!["repl", addr.as_str()];
    if strict {
        args.push("--strict");
    }
    let run = ehlo_with(&args, Some(stdin), limit);
    let got = server.finish();
    let want = if strict {
        "EHLO x\r\nQUIT\r\n"
    } else {
        "EHLO x\r\nNOOP\r\nQUIT\r\n"
    };
    assert_eq!(got, want, "{}", run.all());
    run
}

/// base64 of "Sekr3tPW99" and of the PLAIN blob "\0alice\0Sekr3tPW99".
const PASSWORD_B64: &str = "U2VrcjN0UFc5OQ==";
const PLAIN_B64: &str = "AGFsaWNlAFNla3IzdFBXOTk=";

/// A replayed script's hand-written `> AUTH PLAIN <blob>` and `> <base64 password>` of an
/// AUTH LOGIN, refused with 535: the mismatch event, the summary's error, the transcript and
/// the `--keep-going` table name the step masked, as its `sent` event does.
#[test]
fn replay_mismatch_on_a_hand_written_credential_never_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.ehlo");
    std::fs::write(
        &plain,
        format!("< 220\n> EHLO x\n< 250\n> AUTH PLAIN {PLAIN_B64}\n< 235\n"),
    )
    .unwrap();
    let login = dir.path().join("login.ehlo");
    std::fs::write(
        &login,
        format!("< 220\n> EHLO x\n< 250\n> AUTH LOGIN\n< 334\n> YWxpY2U=\n< 334\n> {PASSWORD_B64}\n< 235\n"),
    )
    .unwrap();
    for (script, login) in [(&plain, false), (&login, true)] {
        for mode in ["--json", "--keep-going"] {
            let mut steps = vec![
                Step::Send(b"220 scripted.test ESMTP\r\n"),
                Step::Expect("EHLO"),
                Step::Send(b"250-scripted.test\r\n250 AUTH LOGIN PLAIN\r\n"),
                Step::Expect("AUTH"),
            ];
            if login {
                steps.extend([
                    Step::Send(b"334 VXNlcm5hbWU6\r\n"),
                    Step::Line,
                    Step::Send(b"334 UGFzc3dvcmQ6\r\n"),
                    Step::Line,
                ]);
            }
            steps.extend([
                Step::Send(b"535 5.7.8 Authentication credentials invalid\r\n"),
                Step::Line,
                Step::Send(b"221 bye\r\n"),
            ]);
            let server = scripted(steps);
            let addr = server.server();
            let args = [
                "replay",
                script.to_str().unwrap(),
                "--server",
                addr.as_str(),
                "--color",
                "never",
                mode,
            ];
            let run = piped(&args, "");
            let got = server.finish();
            let secret = if login { PASSWORD_B64 } else { PLAIN_B64 };
            // The credential did reach the server.
            assert!(got.contains(secret), "{got}");
            assert_eq!(run.code, 28, "{}", run.all());
            assert!(
                run.all().contains("expected 235, got 535"),
                "{mode}: {}",
                run.all()
            );
            assert!(
                !run.all().contains(secret),
                "{mode} shows the secret:\n{}",
                run.all()
            );
            if mode == "--keep-going" {
                assert!(run.stdout.contains("LINE  COMMAND"), "{}", run.all());
            }
        }
    }
}

/// The JSON summary a `--json` run ends with.
fn summary(run: &Run) -> serde_json::Value {
    let line = run
        .stdout
        .lines()
        .rfind(|l| l.starts_with(r#"{"type":"summary""#))
        .unwrap_or_else(|| panic!("no summary: {}", run.all()));
    serde_json::from_str::<serde_json::Value>(line).unwrap()["data"].clone()
}

/// `repl --strict`, piped: a step that sends nothing because it could not run (an unreadable
/// `:data @FILE`, `:send` without an envelope, a refused misspelt verb) ends the run with exit
/// 1, and a typed `:data` cut by the end of input with 25 (as a typed DATA is): QUIT, nothing
/// more sent, the summary says why. They used to pass (exit 0, error null).
#[test]
fn strict_repl_fails_on_a_step_that_sent_nothing() {
    let cases = [
        (
            ":data @/nonexistent/msg.eml\nNOOP\n",
            1,
            "cannot read /nonexistent/msg.eml",
        ),
        (":send\nNOOP\n", 1, ":send needs an envelope"),
        ("EHLLO x\nNOOP\n", 1, "(a typo of EHLO?)"),
        // Letters only, unknown: a password as much as a test (`:raw` sends that).
        ("Lettersonly\nNOOP\n", 1, "no SMTP verb ehlo knows"),
        (":data\nSubject: cut\n\nno final dot\n", 25, "end of input"),
    ];
    for (lines, code, says) in cases {
        let server = scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250 scripted.test\r\n"),
            Step::Line,
            Step::Send(b"221 bye\r\n"),
        ]);
        let addr = server.server();
        let args = ["repl", addr.as_str(), "--strict", "--json"];
        let run = piped(&args, &format!("EHLO x\n{lines}"));
        let got = server.finish();
        assert_eq!(run.code, code, "{lines}: {}", run.all());
        assert_eq!(got, "EHLO x\r\nQUIT\r\n", "{lines}: {}", run.all());
        let s = summary(&run);
        assert_eq!(s["exit_code"], code, "{s}");
        assert!(
            s["error"].as_str().is_some_and(|e| e.contains(says)),
            "{lines}: {s}"
        );
    }
}

/// `repl --strict`, piped: an `:auth` that cannot start (no password to be had, a mechanism
/// ehlo does not implement) sends nothing and exits as the send does for the same condition:
/// 1 (a usage error) without a password, 10 for an unknown mechanism (swaks's "No auth types
/// supported"), where it used to exit 28 (AUTH failed).
#[test]
fn strict_repl_auth_that_cannot_start_exits_as_the_send_does() {
    // The step, its environment, the send's flags for the same condition, what is said.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str], &'a str);
    let cases: [(Case, i32); 2] = [
        (
            (
                ":auth PLAIN bob\nNOOP\n",
                &[],
                &["--auth-user", "bob"],
                "needs a password",
            ),
            1,
        ),
        (
            (
                ":auth BOGUS bob\nNOOP\n",
                &[("EHLO_AUTH_PASSWORD", "Sekr3t")],
                &["--auth-user", "bob", "--auth", "BOGUS"],
                "ehlo does not implement",
            ),
            10,
        ),
    ];
    for ((lines, env, send_flags, says), code) in cases {
        // The send, for the same condition (found before it connects).
        let mut args = vec![
            "-s",
            "127.0.0.1:1",
            "-t",
            "a@b.test",
            "--allow-plaintext-auth",
        ];
        args.extend_from_slice(send_flags);
        let send = ehlo_with_env(&args, env, Some(b""), Duration::from_secs(30));
        assert_eq!(send.code, code, "send {send_flags:?}: {}", send.all());

        let server = scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-scripted.test\r\n250 AUTH PLAIN LOGIN\r\n"),
            Step::Line,
            Step::Send(b"221 bye\r\n"),
        ]);
        let addr = server.server();
        let args = [
            "repl",
            addr.as_str(),
            "--strict",
            "--json",
            "--allow-plaintext-auth",
        ];
        let run = ehlo_with_env(
            &args,
            env,
            Some(format!("EHLO x\n{lines}").as_bytes()),
            Duration::from_secs(30),
        );
        let got = server.finish();
        assert_eq!(run.code, send.code, "{lines}: {}", run.all());
        assert_eq!(got, "EHLO x\r\nQUIT\r\n", "{lines}: {}", run.all());
        let s = summary(&run);
        assert_eq!(s["exit_code"], code, "{s}");
        assert!(
            s["error"].as_str().is_some_and(|e| e.contains(says)),
            "{lines}: {s}"
        );
        assert!(!run.all().contains("Sekr3t"), "{}", run.all());
    }
}

/// A piped line that is not UTF-8 inside a typed DATA: the message is abandoned (closed
/// without the final dot, so nothing is delivered; it used to go out without the line, exit 0),
/// an `error` event says so, `--strict` exits 25, and the message's other lines are never run
/// as commands. Inside `:data`, the message is read to its `.` and not sent.
#[test]
fn a_refused_line_inside_a_message_abandons_the_message() {
    let typed: &[u8] = b"EHLO x\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\nDATA\nSubject: t\n\n\xff bad\nNOOP\n.\nQUIT\n";
    for strict in [false, true] {
        let server = scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250 scripted.test\r\n"),
            Step::Expect("MAIL"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("RCPT"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("DATA"),
            Step::Send(b"354 go\r\n"),
        ]);
        let addr = server.server();
        let mut args = vec!["repl", addr.as_str(), "--json"];
        if strict {
            args.push("--strict");
        }
        let run = ehlo_with(&args, Some(typed), Duration::from_secs(30));
        let got = server.finish();
        assert_eq!(
            got,
            "EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nSubject: t\r\n\r\n",
            "{}",
            run.all()
        );
        assert_eq!(run.code, if strict { 25 } else { 0 }, "{}", run.all());
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(r#"{"type":"error""#)
                    && l.contains("the message is not sent")),
            "{}",
            run.all()
        );
        if strict {
            assert_eq!(summary(&run)["exit_code"], 25);
        }
    }
    for strict in [false, true] {
        let stdin: &[u8] = b"EHLO x\n:data\nSubject: t\n\n\xff bad\nRSET\n.\nNOOP\n";
        let run = ehlo_x_then_noop_unless_strict(strict, stdin, Duration::from_secs(30));
        assert_eq!(run.code, if strict { 25 } else { 0 }, "{}", run.all());
        assert!(
            run.stderr.contains("input line 5 is not UTF-8"),
            "{}",
            run.all()
        );
    }
}

/// A piped `:data` message over 64 MiB (the most `:data @FILE` and `--data` take) is read to
/// its `.` and not sent, `--strict` exits 25, and none of its lines runs as a command. It used
/// to be held whatever its size (a million lines of up to 1 MiB), and a message cut at its
/// millionth line left the rest of it to run as commands (a `NOOP` in it went out, exit 0).
#[test]
fn a_data_message_over_64_mib_is_read_to_its_dot_and_not_sent() {
    let line = "x".repeat(1_000_000);
    let mut stdin = String::from("EHLO x\n:data\n");
    for _ in 0..68 {
        stdin.push_str(&line);
        stdin.push('\n');
    }
    stdin.push_str("RSET\n.\nNOOP\n");
    for strict in [false, true] {
        let run = ehlo_x_then_noop_unless_strict(strict, stdin.as_bytes(), Duration::from_secs(60));
        assert_eq!(run.code, if strict { 25 } else { 0 }, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("message cancelled: longer than 64 MiB or 1000000 lines"),
            "{}",
            run.stderr
        );
    }
}

/// A piped script saved with a UTF-8 byte order mark (Notepad's): the mark is no part of the
/// first command, which went out with it (`\xEF\xBB\xBFEHLO x`, refused `500 bad syntax`);
/// now it is dropped with a warning, and only there: a BOM's bytes later in the script are a
/// line's own (here inside a message, sent as typed).
#[test]
fn a_byte_order_mark_at_the_start_of_a_script_is_dropped_and_said() {
    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Line,
        Step::Send(b"250 scripted.test\r\n"),
        Step::Expect("MAIL"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\r\n"),
        Step::Data,
        Step::Send(b"250 queued\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let addr = server.server();
    let stdin =
        "\u{feff}EHLO x\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\nDATA\n\u{feff}body\n.\nQUIT\n";
    let run = piped(&["repl", &addr], stdin);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        server.finish(),
        "EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n\u{feff}body\r\n.\r\nQUIT\r\n",
        "{}",
        run.all()
    );
    assert!(
        run.all()
            .contains("!!! input line 1 starts with a UTF-8 byte order mark (EF BB BF): dropped"),
        "{}",
        run.all()
    );
}

/// Run `ehlo` with stdin piped in, stdout read, and stderr a pipe whose reader is gone (every
/// write to it fails with EPIPE).
fn with_broken_stderr(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> (i32, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    crate::util::isolate(&mut cmd);
    cmd.env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(writer);
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = read_to_end(child.stdout.take().unwrap());
    let code = child.wait().unwrap().code().unwrap_or(-1);
    (code, out)
}

/// A stderr whose reader is gone is no reason to panic (exit 101) or to lose the rest of a
/// script: the send's note on an `EHLO_*` variable naming no option, the REPL's errors.
#[test]
fn a_broken_stderr_neither_panics_nor_cuts_the_run() {
    let server = scripted(crate::util::after_greet(crate::util::accept_all()));
    let mut args = crate::util::send_args(&server.server());
    args.push("--suppress-data".to_string());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out) = with_broken_stderr(&refs, &[("EHLO_NO_SUCH_OPTION", "1")], b"");
    // Checked before the server is waited for (a panic at start-up never connects).
    assert_eq!(code, 0, "{out}");
    let got = server.finish();
    assert!(got.ends_with("QUIT\r\n"), "{got}");

    // The REPL: an error said on stderr (a misspelt verb), then the rest of the script.
    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250 scripted.test\r\n"),
        Step::Expect("NOOP"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let addr = server.server();
    let (code, out) = with_broken_stderr(
        &["repl", addr.as_str()],
        &[],
        b"EHLO x\nEHLLO x\n\xff\nNOOP\nQUIT\n",
    );
    let got = server.finish();
    assert_eq!(got, "EHLO x\r\nNOOP\r\nQUIT\r\n", "{out}");
    assert_eq!(code, 0, "{out}");
}

/// A server that closes instead of answering QUIT with 221: the `closed` event says it was not
/// expected, and `repl --strict` exits 6 as the send and replay do (it exited 0).
#[test]
fn a_close_instead_of_221_to_quit_is_unexpected() {
    let quitclose = || {
        scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250 scripted.test\r\n"),
            Step::Expect("QUIT"),
            Step::Close,
        ])
    };
    let closed = |run: &Run| -> Vec<serde_json::Value> {
        run.stdout
            .lines()
            .filter(|l| l.starts_with(r#"{"type":"closed""#))
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["data"].clone())
            .collect()
    };
    let server = quitclose();
    let addr = server.server();
    let run = piped(
        &["repl", addr.as_str(), "--strict", "--json"],
        "EHLO x\nQUIT\n",
    );
    server.finish();
    assert_eq!(run.code, 6, "{}", run.all());
    assert_eq!(summary(&run)["exit_code"], 6);
    let c = closed(&run);
    assert!(
        !c.is_empty() && c.iter().all(|c| c["expected"] == false),
        "{}",
        run.all()
    );

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("q.ehlo");
    std::fs::write(&script, "< 220\n> EHLO x\n< 250\n> QUIT\n< 221\n").unwrap();
    let server = quitclose();
    let addr = server.server();
    let run = piped(
        &[
            "replay",
            script.to_str().unwrap(),
            "--server",
            addr.as_str(),
            "--json",
        ],
        "",
    );
    server.finish();
    assert_eq!(run.code, 6, "{}", run.all());
    let c = closed(&run);
    assert!(
        !c.is_empty() && c.iter().all(|c| c["expected"] == false),
        "{}",
        run.all()
    );
}

/// `repl --record FILE` that cannot be written, or that exists, refuses the run before anything
/// is sent (exit 1, a summary under `--json`), as an unwritable `--log` does; it used to go on
/// (exit 0) or replace the file. An unwritable `:record FILE` typed in a script fails the run
/// under `--strict`.
#[test]
fn an_unusable_record_file_refuses_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("keep.ehlo");
    std::fs::write(&existing, "precious\n").unwrap();
    // In a directory that does not exist: a fixed path such as /nonexistent/x.ehlo is written
    // as root as soon as anything on the machine has made /nonexistent (then the first run
    // leaves the file, and the next is told it exists).
    let missing = dir.path().join("no-such-dir").join("x.ehlo");
    let cannot = format!("cannot write {}", missing.display());
    for (path, says) in [
        (missing.to_str().unwrap(), cannot.as_str()),
        (existing.to_str().unwrap(), "exists: remove it first"),
    ] {
        // Nobody listens: the run must end before it connects.
        let run = piped(
            &[
                "repl",
                "127.0.0.1:9",
                "--record",
                path,
                "--strict",
                "--json",
            ],
            "EHLO x\nQUIT\n",
        );
        assert_eq!(run.code, 1, "{}", run.all());
        assert!(run.stderr.contains(says), "{}", run.all());
        assert_eq!(summary(&run)["exit_code"], 1);
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "precious\n");

    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250 scripted.test\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let addr = server.server();
    let run = piped(
        &["repl", addr.as_str(), "--strict"],
        &format!(
            "EHLO x\n:record {}\nNOOP\nQUIT\n",
            dir.path().join("no-such-dir").join("y.ehlo").display()
        ),
    );
    assert_eq!(server.finish(), "EHLO x\r\nQUIT\r\n", "{}", run.all());
    assert_eq!(run.code, 1, "{}", run.all());
}

/// `repl --log FILE` without `--json`: the log ends with the run's `summary` as a `--json` run
/// does (it had none), and the transcript does not gain one. A SIGTERM ends the run with the
/// send's ending for a signal: outcome `interrupted`, the signal named (it was `failed`, null).
#[test]
fn the_log_always_ends_with_a_summary_and_a_signal_is_interrupted() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl");
    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250 scripted.test\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let addr = server.server();
    let run = piped(
        &["repl", addr.as_str(), "--log", log.to_str().unwrap()],
        "EHLO x\nQUIT\n",
    );
    server.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!run.all().contains("Result:"), "{}", run.all());
    let text = std::fs::read_to_string(&log).unwrap();
    let last = text.lines().last().unwrap_or_default();
    assert!(last.starts_with(r#"{"type":"summary""#), "{text}");

    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Sleep(Duration::from_secs(5)),
    ]);
    let addr = server.server();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    crate::util::isolate(&mut cmd);
    let mut child = cmd
        .args(["repl", addr.as_str(), "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _stdin = child.stdin.take();
    let mut out = child.stdout.take().unwrap();
    // Wait for the banner to be shown, then signal.
    let mut seen = Vec::new();
    let mut b = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(r#""code":220"#) {
        let n = out.read(&mut b).unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&b[..n]);
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    out.read_to_end(&mut seen).unwrap();
    let code = child.wait().unwrap().code();
    server.finish();
    let stdout = String::from_utf8_lossy(&seen).into_owned();
    let s = summary(&Run {
        code: code.unwrap_or(-1),
        stdout: stdout.clone(),
        stderr: String::new(),
        elapsed: Duration::ZERO,
    });
    assert_eq!(s["outcome"], "interrupted", "{s}");
    assert!(
        s["error"].as_str().is_some_and(|e| e.contains("SIGTERM")),
        "{s}"
    );
}

/// A banner that trickles in (`220-` lines, no last line) past `--timeout`: the warning says
/// what arrived, as the send does, suggests implicit TLS only on silence, and comes once; the
/// waits after it (each said) say that the banner is still not complete, in their own words.
#[test]
fn a_trickling_banner_is_warned_about_once_and_not_as_implicit_tls() {
    let server = scripted(vec![
        Step::Send(b"220-slow.test first line\r\n"),
        Step::Sleep(Duration::from_secs(4)),
    ]);
    let addr = server.server();
    let run = piped(&["repl", addr.as_str(), "--timeout", "1"], "NOOP\nNOOP\n");
    server.finish();
    let all = run.all();
    assert!(!all.contains("implicit TLS"), "{all}");
    assert_eq!(
        all.matches("no complete banner within 1s: 1 line").count(),
        1,
        "{all}"
    );
}

/// A piped run without `--strict` whose greeting trickles in slower than `--timeout`, then
/// never answers: every wait that runs out is said — in the transcript and as JSON `warning`s
/// — not only the greeting's (the waits of the lines sent while it was still owed were
/// silent), and the run ends as the send ends on a timeout: the greeting's code, 21, and the
/// summary's `timeout` outcome (it ended with exit 0 and `ok`). The script still runs to its
/// end: every line goes out.
#[test]
fn a_piped_run_says_every_timeout_and_ends_with_the_phase_code() {
    // Both formats at once: each run is four waits of a second, idle.
    std::thread::scope(|s| {
        for json in [false, true] {
            s.spawn(move || piped_run_says_every_timeout(json));
        }
    });
}

fn piped_run_says_every_timeout(json: bool) {
    // The banner's end comes only once QUIT is in (each line goes out when the wait
    // before it has run out): the banner's wait and EHLO's and NOOP's run out with it
    // still owed, QUIT's sees it late. Then nothing more: the server reads until the
    // client closes (it slept a fixed 3.5 s, then 3 s more with the lines unread).
    let server = scripted(vec![
        Step::Send(b"220 slow"),
        Step::Expect("EHLO x.test"),
        Step::Expect("NOOP"),
        Step::Expect("QUIT"),
        Step::Send(b".test ESMTP\r\n"),
    ]);
    let addr = server.server();
    let mut args = vec!["repl", addr.as_str(), "--timeout", "1"];
    if json {
        args.push("--json");
    }
    let run = piped(&args, "EHLO x.test\nNOOP\nQUIT\n");
    let got = server.finish();
    let all = run.all();
    assert_eq!(run.code, 21, "{all}");
    assert_eq!(got, "EHLO x.test\r\nNOOP\r\nQUIT\r\n", "{all}");
    // The greeting's own wait, the two waits while it was still owed, QUIT's.
    let said = |s: &str| all.matches(s).count();
    assert_eq!(said("no complete banner within 1s: 8 bytes"), 1, "{all}");
    assert_eq!(
        said("no reply within 1s: the banner is still not complete"),
        2,
        "{all}"
    );
    assert_eq!(said("no reply within 1s: a late reply"), 1, "{all}");
    if json {
        let events: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let warnings = events.iter().filter(|e| e["type"] == "warning").count();
        assert_eq!(warnings, 4, "{all}");
        let s = &events.last().unwrap()["data"];
        assert_eq!(s["exit_code"], 21, "{s}");
        assert_eq!(s["outcome"], "timeout", "{s}");
        assert!(
            s["error"].as_str().is_some_and(|e| e.contains("banner")),
            "{s}"
        );
    } else {
        assert!(
            all.contains("the first reply that did not come within --timeout (exit 21)"),
            "{all}"
        );
    }
}

/// `ehlo replay`: a relative `:data @FILE` is the file beside the script, whatever the current
/// directory (it was read from the current directory).
#[test]
fn replay_reads_a_relative_data_file_beside_the_script() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("msg.eml"),
        "Subject: beside\r\n\r\nhello\r\n",
    )
    .unwrap();
    let script = dir.path().join("s.ehlo");
    std::fs::write(
        &script,
        "< 220\n> EHLO x\n< 250\n> MAIL FROM:<a@b.test>\n< 250\n> RCPT TO:<c@d.test>\n< 250\n> :data @msg.eml\n< 354\n< 250\n> QUIT\n< 221\n",
    )
    .unwrap();
    let server = scripted(crate::util::after_greet(crate::util::accept_all()));
    let addr = server.server();
    let run = piped(
        &[
            "replay",
            script.to_str().unwrap(),
            "--server",
            addr.as_str(),
        ],
        "",
    );
    let got = server.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(got.contains("Subject: beside\r\n"), "{got}");
}

/// A piped `ehlo repl` (stdin not a terminal) got SIGINT mid-script — a `kill -INT`, a Ctrl-C
/// at the terminal of the pipeline it runs in: it ends as on SIGTERM, with the summary
/// (outcome `interrupted`, SIGINT named) and exit 130, instead of dying at once with neither.
/// SIGQUIT (Ctrl-\) the same way with 131: its default action killed the run without either.
#[test]
fn a_piped_repl_ends_on_sigint_or_sigquit_with_its_summary() {
    for (sig, code) in [("INT", 130), ("QUIT", 131)] {
        piped_repl_ends_on(sig, code);
    }
}

fn piped_repl_ends_on(sig: &str, code: i32) {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250 scripted.test\r\n"),
        Step::Sleep(Duration::from_secs(5)),
    ]);
    let addr = server.server();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    crate::util::isolate(&mut cmd);
    let mut child = cmd
        .args(["repl", addr.as_str(), "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The script so far; the rest (never sent) would follow.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"EHLO x\n").unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut b = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(r#""code":250"#) {
        let n = out.read(&mut b).unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&b[..n]);
    }
    let killed = Command::new("kill")
        .args([format!("-{sig}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    out.read_to_end(&mut seen).unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    server.finish();
    let stdout = String::from_utf8_lossy(&seen).into_owned();
    assert_eq!(status.code(), Some(code), "SIG{sig} {status:?}: {stdout}");
    let s = summary(&Run {
        code,
        stdout: stdout.clone(),
        stderr: String::new(),
        elapsed: Duration::ZERO,
    });
    assert_eq!(s["outcome"], "interrupted", "{s}");
    assert_eq!(s["exit_code"], code, "{s}");
    assert!(
        s["error"]
            .as_str()
            .is_some_and(|e| e.contains(&format!("SIG{sig}"))),
        "{s}"
    );
}

/// A piped script with classic Mac OS line ends (CR only) went out as ONE line with bare CRs
/// inside (`EHLO x<CR>NOOP<CR>QUIT`), what an SMTP smuggling test sends: now each lone CR ends
/// a line, said once as a warning naming the first; CRLF lines around them are unchanged, and
/// `:raw "\r"` still sends a bare CR when asked.
#[test]
fn a_lone_cr_in_a_piped_script_ends_the_line() {
    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250 scripted.test\r\n"),
        Step::Expect("NOOP"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RSET"),
        Step::Send(b"250 ok\r\n"),
        Step::Line,
        Step::Send(b"250 ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let addr = server.server();
    let stdin = "EHLO x\rNOOP\rRSET\r\n:raw \"NOOP\\rX\\r\\n\"\rQUIT\r";
    let run = piped(&["repl", &addr], stdin);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        server.finish(),
        "EHLO x\r\nNOOP\r\nRSET\r\nNOOP\rX\r\nQUIT\r\n",
        "{}",
        run.all()
    );
    let all = run.all();
    assert_eq!(all.matches("ends in a CR without LF").count(), 1, "{all}");
    assert!(
        all.contains("!!! input line 1 ends in a CR without LF"),
        "{all}"
    );
    assert!(!all.contains("contains a CR or LF"), "{all}");
}

/// A banner that differs from the script's is said as another line's difference is, with the
/// server's line; one without a reply code was shown as code `0` (`got 0 (0 hello)`), a code
/// no server sent: it is named for what it is, in the transcript, the JSON event and the
/// `--keep-going` table.
#[test]
fn a_banner_without_a_reply_code_is_not_shown_as_code_zero() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("banner.ehlo");
    std::fs::write(&script, "< 220\n> QUIT\n< 221\n").unwrap();
    for (banner, got, detail) in [
        (
            &b"hello, no code here\r\n"[..],
            "a line without a reply code",
            "(\"hello, no code here\")",
        ),
        (&b"554 5.7.1 go away\r\n"[..], "554", "(554 5.7.1 go away)"),
    ] {
        for mode in ["", "--json", "--keep-going"] {
            let server = scripted(vec![
                Step::Send(banner),
                Step::Line,
                Step::Send(b"221 bye\r\n"),
            ]);
            let addr = server.server();
            let mut args = vec![
                "replay",
                script.to_str().unwrap(),
                "--server",
                &addr,
                "--color",
                "never",
                "--timeout",
                "5",
            ];
            if !mode.is_empty() {
                args.push(mode);
            }
            let run = piped(&args, "");
            assert_eq!(run.code, 21, "{}", run.all());
            let said = format!("replay: banner: expected 220, got {got} {detail}");
            if mode == "--json" {
                let event = run
                    .stdout
                    .lines()
                    .find(|l| l.contains(r#""type":"replay_mismatch""#))
                    .unwrap_or_else(|| panic!("{}", run.stdout));
                let v: serde_json::Value = serde_json::from_str(event).unwrap();
                assert_eq!(v["data"]["line"], 0, "{event}");
                assert_eq!(v["data"]["got"], serde_json::json!([got]), "{event}");
                let summary = run.stdout.lines().last().unwrap_or_default();
                let v: serde_json::Value = serde_json::from_str(summary).unwrap();
                assert_eq!(v["data"]["error"], said.as_str(), "{summary}");
            } else {
                assert!(run.stderr.contains(&format!("*** {said}")), "{}", run.all());
            }
            if mode == "--keep-going" {
                assert!(
                    run.stdout
                        .contains(&format!("  banner  (banner)  220       {got}")),
                    "{}",
                    run.stdout
                );
            }
            assert!(!run.all().contains("got 0"), "{}", run.all());
            drop(server);
        }
    }
}

/// `:replay FILE` in a session runs the script over a connection whose banner came before it:
/// the script's banner line was passed over without a word, as if it had matched (a session
/// greeted `554` ran a script recorded against `220`). It is said not to be checked.
#[test]
fn replay_in_a_session_says_the_scripts_banner_is_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("banner.ehlo");
    std::fs::write(&script, "# recorded\n< 220\n> NOOP\n< 250\n").unwrap();
    let server = scripted(vec![
        Step::Send(b"554 5.7.1 not you\r\n"),
        Step::Expect("NOOP"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let addr = server.server();
    let run = piped(
        &["repl", &addr, "--color", "never"],
        &format!(":replay {}\n:quit\n", script.display()),
    );
    assert!(
        run.all().contains(
            "replay: line 2: the script's banner (220) is not checked: this session's came before the script ran (`ehlo replay FILE` checks it)"
        ),
        "{}",
        run.all()
    );
    // A script without a banner line (a recording begun mid-session) has nothing to say.
    std::fs::write(&script, "> NOOP\n< 250\n").unwrap();
    let server = scripted(vec![
        Step::Send(b"220 hi\r\n"),
        Step::Expect("NOOP"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let addr = server.server();
    let run = piped(
        &["repl", &addr, "--color", "never"],
        &format!(":replay {}\n:quit\n", script.display()),
    );
    assert!(!run.all().contains("banner"), "{}", run.all());
}

/// `ehlo repl` piping `stdin` (`--timeout 20`, extra `args`) to a scripted server taking `steps`
/// after `EHLO x.test`; what the server got, and the run.
fn bdat_run(steps: Vec<Step>, args: &[&str], stdin: &str) -> (String, Run) {
    let server = scripted(crate::util::ehlo_x_then(steps));
    let addr = server.server();
    let mut all = vec!["repl", addr.as_str(), "--timeout", "20"];
    all.extend_from_slice(args);
    let run = piped(&all, stdin);
    (server.finish(), run)
}

/// `ehlo replay script --timeout timeout` against a scripted server taking `steps` after
/// `EHLO x.test`; what the server got, and the run.
fn bdat_replay(steps: Vec<Step>, script: &std::path::Path, timeout: &str) -> (String, Run) {
    let server = scripted(crate::util::ehlo_x_then(steps));
    let addr = server.server();
    let run = piped(
        &[
            "replay",
            script.to_str().unwrap(),
            "--server",
            addr.as_str(),
            "--timeout",
            timeout,
        ],
        "",
    );
    (server.finish(), run)
}

/// Piped, a typed `BDAT n [LAST]` reads its chunk from the script's next lines (each with its
/// CRLF, a last line of exactly the octets left without one) and sends it with the line, then
/// reads the one reply (RFC 3030 §2: none comes before the chunk): also a BDAT the server
/// refuses (its chunk is read all the same) and `BDAT 0 LAST`. The recording holds the chunk
/// as `|` lines and replays byte for byte, every reply checked. The line used to go out alone
/// and wait --timeout (`--strict`: exit 26), its chunk's lines sent as commands or refused.
#[test]
fn a_piped_bdat_sends_its_chunk_with_the_line_and_replays_it() {
    let steps = || {
        vec![
            Step::Expect("BDAT 3"),
            Step::Octets(3),
            Step::Send(b"503 5.5.1 no transaction\r\n"),
            Step::Expect("NOOP"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("MAIL FROM:<a@b.test>"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("RCPT TO:<c@d.test>"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("BDAT 12"),
            Step::Octets(12),
            Step::Send(b"250 2.0.0 12 octets\r\n"),
            Step::Expect("BDAT 0 LAST"),
            Step::Send(b"250 2.0.0 queued\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]
    };
    let wire = "EHLO x.test\r\nBDAT 3\r\nx\r\nNOOP\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n\
                BDAT 12\r\nhello\r\nworldBDAT 0 LAST\r\nQUIT\r\n";
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("bdat.ehlo");
    let (got, run) = bdat_run(
        steps(),
        &["--record", rec.to_str().unwrap()],
        "EHLO x.test\nBDAT 3\nx\nNOOP\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\nBDAT 12\nhello\nworld\n\
         BDAT 0 LAST\nQUIT\n",
    );
    assert_eq!(got, wire, "{}", run.all());
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!run.all().contains("no reply within"), "{}", run.all());
    let text = std::fs::read_to_string(&rec).unwrap();
    assert!(
        text.contains(
            "> BDAT 3\n| x\n< 503\n> NOOP\n< 250\n> MAIL FROM:<a@b.test>\n< 250\n\
             > RCPT TO:<c@d.test>\n< 250\n> BDAT 12\n| hello\n| world\n< 250\n\
             > BDAT 0 LAST\n< 250\n> QUIT\n< 221\n"
        ),
        "{text}"
    );
    let (got, replay) = bdat_replay(steps(), &rec, "20");
    assert_eq!(got, wire, "{}", replay.all());
    assert_eq!(replay.code, 0, "{}", replay.all());
    assert!(
        replay.all().contains("every reply as recorded")
            && !replay.all().contains("not checked")
            && !replay.all().contains("no reply within"),
        "{}",
        replay.all()
    );
}

/// A typed chunk of many short lines is held as its octets, not as a string a line: 2 000 000
/// empty lines (4 MB of chunk) under a 48 MiB data limit go out whole and are recorded a `|`
/// line each. Each line used to be kept as a String besides its octets (~30 bytes a line more,
/// ~1 GB for a 64 MiB chunk of empty lines): the run ran out of memory here. The recording
/// replays under the same limit.
#[test]
fn a_typed_chunk_of_many_short_lines_is_held_as_its_octets_and_replays() {
    const LINES: usize = 2_000_000;
    let steps = || {
        vec![
            // The BDAT line goes out once its 4 MB are typed: in a debug build on a loaded 2-core
            // machine that took over the server's usual 20 s (seen with --test-threads=4), within
            // the run's own 120 s.
            Step::ReadTimeout(Duration::from_secs(120)),
            Step::Expect("BDAT 4000000 LAST"),
            Step::Octets(2 * LINES),
            Step::Send(b"250 2.0.0 queued\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]
    };
    let server = scripted(crate::util::ehlo_x_then(steps()));
    let addr = server.server();
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("many.ehlo");
    let mut stdin = String::from("EHLO x.test\nBDAT 4000000 LAST\n");
    stdin.push_str(&"\n".repeat(LINES));
    stdin.push_str("QUIT\n");
    let run = crate::util::run_cmd(
        crate::util::under_data_limit(48 << 10),
        &[
            "repl",
            addr.as_str(),
            "--timeout",
            "60",
            "--record",
            rec.to_str().unwrap(),
        ],
        Some(stdin.as_bytes()),
        Duration::from_secs(120),
    );
    assert_eq!(run.code, 0, "{}", &run.stderr);
    let got = server.finish();
    let wire = format!(
        "EHLO x.test\r\nBDAT 4000000 LAST\r\n{}QUIT\r\n",
        "\r\n".repeat(LINES)
    );
    // Not printed whole on a mismatch: 4 MB.
    assert!(got == wire, "{} octets; {}", got.len(), &run.stderr);
    let text = std::fs::read_to_string(&rec).unwrap();
    assert_eq!(text.lines().filter(|l| *l == "| ").count(), LINES);
    assert!(
        text.contains("> BDAT 4000000 LAST\n| \n"),
        "{}",
        &text[..200]
    );
    assert!(text.contains("| \n< 250\n> QUIT\n< 221\n"));
    // Replayed under the same data limit, byte for byte: over a million content lines, it was
    // refused ("line 1000001: more than 1 000 000 steps, replies and content lines").
    let server = scripted(crate::util::ehlo_x_then(steps()));
    let addr = server.server();
    let replay = crate::util::run_cmd(
        crate::util::under_data_limit(48 << 10),
        &[
            "replay",
            rec.to_str().unwrap(),
            "--server",
            addr.as_str(),
            "--timeout",
            "60",
        ],
        None,
        Duration::from_secs(120),
    );
    assert_eq!(replay.code, 0, "{}", replay.all());
    assert!(
        replay
            .all()
            .contains("replay: 3 steps, every reply as recorded"),
        "{}",
        replay.all()
    );
    let got = server.finish();
    assert!(got == wire, "{} octets; {}", got.len(), replay.all());
}

/// A server that stops reading while a typed chunk goes out: the write runs out of
/// --timeout, and ehlo says so and closes; the run ends as a send's write does, with the
/// phase's code and the `timeout` outcome (26 at the last chunk), `--strict` too. It was said
/// as the server's close ("Remote host closed connection unexpectedly", exit 6).
#[test]
fn a_chunk_the_server_does_not_read_is_a_timeout_not_a_close() {
    const LINES: usize = 20_000;
    let mut stdin = String::from("EHLO x.test\nBDAT 20000000 LAST\n");
    for _ in 0..LINES {
        stdin.push_str(&"a".repeat(998));
        stdin.push('\n');
    }
    stdin.push_str("QUIT\n");
    // With and without --strict at once: each run is mostly idle waits of --timeout.
    let stdin = &stdin;
    std::thread::scope(|s| {
        for strict in [false, true] {
            s.spawn(move || {
                let server = scripted(crate::util::ehlo_x_then(vec![
                    Step::Expect("BDAT 20000000 LAST"),
                    Step::Sleep(Duration::from_secs(12)),
                ]));
                let addr = server.server();
                let mut args = vec!["repl", addr.as_str(), "--timeout", "2", "--json"];
                if strict {
                    args.push("--strict");
                }
                let run = piped(&args, stdin);
                drop(server);
                let all = run.all();
                assert_eq!(
                    run.code,
                    26,
                    "strict {strict}: {}",
                    &all[all.len().saturating_sub(3000)..]
                );
                assert!(
                    all.contains("the write of ")
                        && all.contains("did not finish within --timeout (2s)"),
                    "{}",
                    &all[all.len().saturating_sub(3000)..]
                );
                assert!(
                    !all.contains("unexpectedly"),
                    "{}",
                    &all[all.len().saturating_sub(3000)..]
                );
                assert!(
                    all.contains(r#""outcome":"timeout""#),
                    "{}",
                    &all[all.len().saturating_sub(3000)..]
                );
            });
        }
    });
}

/// A server that refuses a typed BDAT at once and closes without reading its chunk: the
/// chunk's write is cut by the reset, and the refusal that came first is shown before the
/// close (`--strict`: the end of data's code, 26). It was lost: "write failed: Connection
/// reset by peer", exit 6 with or without `--strict`.
#[test]
fn a_typed_bdat_refused_before_its_chunk_is_read_shows_the_refusal() {
    let mut stdin = String::from("EHLO x.test\nBDAT 20000000 LAST\n");
    for _ in 0..20_000 {
        stdin.push_str(&"a".repeat(998));
        stdin.push('\n');
    }
    stdin.push_str("QUIT\n");
    let server = scripted(crate::util::ehlo_x_then(vec![
        Step::Expect("BDAT 20000000 LAST"),
        Step::Send(b"552 5.3.4 chunk too big for scripted.test\r\n"),
        Step::Sleep(Duration::from_millis(200)),
        Step::Close,
    ]));
    let addr = server.server();
    let run = piped(
        &["repl", addr.as_str(), "--timeout", "20", "--strict"],
        &stdin,
    );
    server.finish();
    let all = run.all();
    let tail = &all[all.len().saturating_sub(3000)..];
    assert!(
        all.contains("552 5.3.4 chunk too big for scripted.test"),
        "{tail}"
    );
    assert_eq!(run.code, 26, "{tail}");
}

/// Piped, a chunk line that fits neither with its CRLF nor as the last octets is not taken,
/// and the BDAT is not sent: no byte of either goes out (`--strict`: exit 1, QUIT); the end of
/// the input inside a chunk sends nothing of it either (`--strict`: exit 26, end of data).
#[test]
fn a_piped_bdat_whose_chunk_does_not_fit_or_ends_early_sends_nothing_of_it() {
    let (got, run) = bdat_run(
        vec![
            Step::Expect("NOOP"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ],
        &[],
        "EHLO x.test\nBDAT 4 LAST\nhello\nNOOP\nQUIT\n",
    );
    assert_eq!(got, "EHLO x.test\r\nNOOP\r\nQUIT\r\n", "{}", run.all());
    assert!(
        run.all().contains(
            "BDAT 4 LAST: this line is 5 octets, 7 with its CRLF, and the chunk has 4 left \
             (a line of 2 octets, or of 4 to end it): the BDAT is not sent (nothing of it was)"
        ),
        "{}",
        run.all()
    );
    let (got, run) = bdat_run(
        vec![Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")],
        &["--strict"],
        "EHLO x.test\nBDAT 4 LAST\nhello\nNOOP\nQUIT\n",
    );
    assert_eq!(got, "EHLO x.test\r\nQUIT\r\n", "{}", run.all());
    assert_eq!(run.code, 1, "{}", run.all());
    let (got, run) = bdat_run(
        vec![Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")],
        &["--strict"],
        "EHLO x.test\nBDAT 10 LAST\nhello\n",
    );
    assert_eq!(got, "EHLO x.test\r\nQUIT\r\n", "{}", run.all());
    assert_eq!(run.code, 26, "{}", run.all());
    assert!(
        run.all().contains(
            "BDAT 10 LAST: the input ended after 7 of the chunk's 10 octets: nothing of the \
             BDAT was sent"
        ),
        "{}",
        run.all()
    );
}

/// A recording made before chunks were recorded (`> BDAT 5 LAST` with no `|` lines, its chunk a
/// later `:raw` step) replays as it was made: the line alone, with a warning saying the server
/// reads the next step's bytes as its chunk, not refused and not sent with a chunk nobody typed.
#[test]
fn replay_of_a_bdat_recorded_without_its_chunk_sends_the_line_alone_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("old.ehlo");
    std::fs::write(
        &script,
        "< 220\n> EHLO x.test\n< 250\n> BDAT 5 LAST\n> :raw \"hello\"\n~ 250\n> QUIT\n< 221\n",
    )
    .unwrap();
    let (got, run) = bdat_replay(
        vec![
            Step::Expect("BDAT 5 LAST"),
            Step::Octets(5),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ],
        &script,
        "1",
    );
    assert_eq!(
        got,
        "EHLO x.test\r\nBDAT 5 LAST\r\nhelloQUIT\r\n",
        "{}",
        run.all()
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all().contains(
            "BDAT 5 LAST: no content lines (`|`) for its 5 octets: the line is sent alone, \
             the server reads the next step's bytes as its chunk"
        ),
        "{}",
        run.all()
    );
}
