//! Every documented exit code (swaks's table, README) produced end to end by the real binary,
//! mostly against scripted servers that misbehave on purpose.

use std::time::Duration;

use crate::util::*;

#[test]
fn zero_for_a_whole_accepted_transaction() {
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["--body", "hello\n.leading dot"]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        got.contains("MAIL FROM:<sender@client.test> SIZE="),
        "SIZE= declared (RFC 1870): {got}"
    );
    assert!(got.contains("RCPT TO:<rcpt@scripted.test>\r\n"), "{got}");
    assert!(
        got.contains("\r\nhello\r\n..leading dot\r\n.\r\n"),
        "dot-stuffed: {got}"
    );
    assert!(got.ends_with("QUIT\r\n"), "{got}");
}

#[test]
fn one_for_a_bad_flag() {
    let run = ehlo(&["--no-such-flag"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--no-such-flag"), "{}", run.stderr);
}

#[test]
fn one_for_an_unreadable_body_file() {
    let run = ehlo(&[
        "--server",
        "127.0.0.1:9",
        "--to",
        "a@b.test",
        "--body",
        "@/nonexistent/ehlo-test-body",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("/nonexistent/ehlo-test-body"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.trim().lines().count(),
        1,
        "one-line reason: {}",
        run.stderr
    );
}

#[test]
fn two_when_nothing_listens() {
    let port = crate::util::free_port();
    let server = format!("127.0.0.1:{port}");
    let run = ehlo(&["--server", &server, "--to", "a@b.test", "--color", "never"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.to_lowercase().contains("refused"),
        "{}",
        run.stderr
    );
    // The result says what a refusal usually means, naming the port (a newcomer's wrong port).
    assert!(
        run.stderr.lines().any(|l| {
            l.starts_with("*** Result: failed (exit 2)")
            && l.contains(&format!(
                "nothing accepts connections on port {port} there (no server on that port, or a \
                 firewall refuses it)"
            ))
        }),
        "{}",
        run.stderr
    );
    // One reason, one line: the refusal is not said twice (`Error connecting` and `Result`).
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("***"))
        .collect();
    let saying = errors.iter().filter(|l| l.contains("refused (os error"));
    assert_eq!(saying.count(), 1, "{}", run.stderr);
    assert!(
        !run.stderr.contains("*** Error connecting"),
        "{}",
        run.stderr
    );
}

#[test]
fn six_when_the_server_drops_during_data() {
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\r\n"),
        Step::Line,
        Step::Close,
    ]));
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 6, "{}", run.all());
    assert!(run.all().contains("closed"), "{}", run.all());
}

#[test]
fn twenty_one_for_garbage_421_and_silent_banners() {
    let srv = scripted(vec![
        Step::Send(b"HTTP/1.1 400 Bad Request\r\n"),
        Step::Expect("QUIT"),
        Step::Close,
    ]);
    assert_eq!(send(&srv, &[]).code, 21);
    srv.finish();

    let srv = scripted(vec![
        Step::Send(b"421 4.3.2 Service shutting down\r\n"),
        Step::Close,
    ]);
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 21, "{}", run.all());

    let srv = scripted(vec![Step::Sleep(Duration::from_secs(3))]);
    let run = send(&srv, &["--timeout", "1"]);
    srv.finish();
    assert_eq!(run.code, 21, "{}", run.all());
    assert!(
        run.elapsed < Duration::from_secs(3),
        "timeout honoured: {:?}",
        run.elapsed
    );
    assert!(
        run.all().contains("--tls-on-connect"),
        "mode hint: {}",
        run.all()
    );
}

#[test]
fn twenty_two_when_ehlo_and_helo_are_refused() {
    let srv = scripted(vec![
        Step::Send(b"220 x\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"502 5.5.2 no\r\n"),
        Step::Expect("HELO"),
        Step::Send(b"501 5.5.4 bad name\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 22, "{}", run.all());
}

#[test]
fn twenty_three_when_mail_is_refused() {
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL"),
        Step::Send(b"550 5.7.1 sender refused\r\n"),
        Step::Expect("QUIT"),
        Step::Close,
    ]));
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 23, "{}", run.all());
}

#[test]
fn twenty_four_when_every_recipient_is_refused() {
    for reply in [
        &b"550 5.1.1 <rcpt@scripted.test>: Recipient address rejected\r\n"[..],
        b"452 4.5.3 Too many recipients\r\n",
    ] {
        let srv = scripted(after_greet(vec![
            Step::Expect("MAIL"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("RCPT"),
            Step::SendOwned(reply.to_vec()),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]));
        let run = send(&srv, &[]);
        srv.finish();
        assert_eq!(run.code, 24, "{}", run.all());
    }
}

#[test]
fn twenty_five_when_data_is_refused() {
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"554 5.5.1 no valid recipients\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    assert_eq!(send(&srv, &[]).code, 25);
    srv.finish();
}

#[test]
fn twenty_six_when_the_message_is_refused() {
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\r\n"),
        Step::Data,
        Step::Send(b"552 5.3.4 Message size exceeds fixed limit\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 26, "{}", run.all());
}

#[test]
fn twenty_seven_when_quit_is_refused() {
    let mut steps = accept_all();
    steps.pop();
    steps.push(Step::Send(b"500 5.5.1 what?\r\n"));
    let srv = scripted(after_greet(steps));
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 27, "{}", run.all());
}

#[test]
fn twenty_eight_when_auth_is_refused() {
    let srv = scripted(vec![
        Step::Send(b"220 x\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-x\r\n250 AUTH PLAIN\r\n"),
        Step::Expect("AUTH PLAIN "),
        Step::Send(b"535 5.7.8 Error: authentication failed\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let run = send(
        &srv,
        &[
            "--auth",
            "PLAIN",
            "--auth-user",
            "u",
            "--auth-password",
            "wrong-pw",
            "--allow-plaintext-auth",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 28, "{}", run.all());
}

#[test]
fn twenty_nine_when_starttls_is_missing_or_fails() {
    let srv = scripted(after_greet(vec![
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    let run = send(&srv, &["--tls"]);
    srv.finish();
    assert_eq!(run.code, 29, "not advertised: {}", run.all());

    let srv = scripted(vec![
        Step::Send(b"220 x\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
        Step::Expect("STARTTLS"),
        Step::Send(b"220 go ahead\r\n"),
        Step::Send(b"this is not a TLS server hello\r\n"),
        Step::Close,
    ]);
    let run = send(&srv, &["--tls", "--insecure"]);
    srv.finish();
    assert_eq!(run.code, 29, "handshake fails: {}", run.all());
}

#[test]
fn twenty_nine_when_the_certificate_does_not_verify() {
    let srv = scripted(vec![
        Step::Send(b"220 x\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
        Step::Expect("STARTTLS"),
        Step::Send(b"220 go ahead\r\n"),
        Step::Tls,
    ]);
    let run = send(&srv, &["--tls"]);
    srv.finish();
    assert_eq!(run.code, 29, "{}", run.all());
    assert!(
        run.all().contains("--insecure"),
        "suggests a way out: {}",
        run.all()
    );
}

#[test]
fn thirty_two_when_ehlo_after_tls_is_refused() {
    let srv = scripted(vec![
        Step::Send(b"220 x\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
        Step::Expect("STARTTLS"),
        Step::Send(b"220 go ahead\r\n"),
        Step::Tls,
        Step::Expect("EHLO"),
        Step::Send(b"554 5.7.0 not you\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let run = send(&srv, &["--tls", "--insecure"]);
    srv.finish();
    assert_eq!(run.code, 32, "{}", run.all());
    assert!(run.stdout.contains("TLS"), "{}", run.stdout);
}

#[test]
fn a_timeout_exits_with_the_code_of_its_phase() {
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT"),
        Step::Sleep(Duration::from_secs(3)),
    ]));
    let run = send(&srv, &["--timeout", "1"]);
    srv.finish();
    assert_eq!(run.code, 24, "RCPT timeout: {}", run.all());
    assert!(
        run.all().to_lowercase().contains("timed out"),
        "{}",
        run.all()
    );
}

/// swaks after a reply timeout: QUIT, and its reply waited for under the same timeout; the exit
/// code stays the timed-out phase's.
#[test]
fn a_timeout_is_followed_by_quit() {
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT"),
        // Past the 1 s reply timeout, but the 221 then comes ~0.5 s into the QUIT's own
        // 1 s wait: a sleep of 2 s put it on that deadline and raced it under load.
        Step::Sleep(Duration::from_millis(1500)),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    let run = send(&srv, &["--timeout", "1"]);
    let got = srv.finish();
    assert_eq!(run.code, 24, "{}", run.all());
    assert!(got.ends_with("QUIT\r\n"), "{got}");
    assert!(run.stdout.contains("-> QUIT"), "{}", run.stdout);
    assert!(run.stdout.contains("221 bye"), "{}", run.stdout);

    // The QUIT's reply does not come either: closed one more timeout later, same code.
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL"),
        Step::Sleep(Duration::from_secs(2)),
        Step::Expect("QUIT"),
        Step::Sleep(Duration::from_secs(4)),
    ]));
    let run = send(&srv, &["--timeout", "1"]);
    let got = srv.finish();
    assert_eq!(run.code, 23, "{}", run.all());
    assert!(got.ends_with("QUIT\r\n"), "{got}");
    assert!(
        run.elapsed < Duration::from_secs(4),
        "QUIT's reply is bounded by the timeout: {:?}",
        run.elapsed
    );
}

#[test]
fn ten_when_a_prerequisite_cannot_be_set_up() {
    // `ehlo demo` writes its certificate under the temporary directory (TMPDIR): a missing one
    // (never created on the fly) and a regular file in its place are exit 10 with one line.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let missing = dir.path().join("missing");
    for (tmp, why) in [
        (&missing, "No such file or directory"),
        (&file, "Not a directory"),
    ] {
        let run = ehlo_with_env(
            &["demo"],
            &[("TMPDIR", tmp.to_str().unwrap())],
            None,
            Duration::from_secs(30),
        );
        assert_eq!(run.code, 10, "{}", run.all());
        let want = format!(
            "*** demo: cannot prepare a certificate in {}/ehlo-demo-",
            tmp.display()
        );
        assert!(run.stderr.starts_with(&want), "{}", run.stderr);
        assert!(run.stderr.contains(why), "{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
        assert!(run.stdout.is_empty(), "nothing sent: {}", run.stdout);
    }
    assert!(!missing.exists(), "TMPDIR must not be created");
    // --json: the reason as an error event, same code.
    let run = ehlo_with_env(
        &["demo", "--json"],
        &[("TMPDIR", missing.to_str().unwrap())],
        None,
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 10, "{}", run.all());
    let error = run
        .stdout
        .lines()
        .find(|l| l.starts_with(r#"{"type":"error""#))
        .unwrap_or_else(|| panic!("no error event: {}", run.stdout));
    assert!(error.contains("cannot prepare a certificate"), "{error}");
    // … and a summary last, as every JSON run ends.
    let last: serde_json::Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "summary", "{}", run.stdout);
    assert_eq!(last["data"]["exit_code"], 10, "{}", run.stdout);
    assert_eq!(last["data"]["outcome"], "prerequisite", "{}", run.stdout);
    assert!(
        last["data"]["error"]
            .as_str()
            .unwrap()
            .contains("cannot prepare a certificate"),
        "{}",
        run.stdout
    );
}

/// A duration past the cap (a year) is a bad flag in every mode that takes one, and a refused
/// `:set timeout` in the REPL: never the panic "overflow when adding duration to instant" (exit
/// 101) that `u64::MAX` seconds, or hours that overflow an instant, once were.
#[test]
fn one_for_a_duration_past_the_cap_in_every_mode() {
    let huge = "18446744073709551615";
    let hours = "5124095576030431h";
    let cases: Vec<Vec<&str>> = vec![
        vec!["repl", "127.0.0.1:9", "--timeout", huge],
        vec!["replay", "/nonexistent/script", "--timeout", hours],
        vec![
            "--to",
            "a@b.test",
            "--server",
            "127.0.0.1:9",
            "--timeout",
            huge,
        ],
        vec![
            "--to",
            "a@b.test",
            "--server",
            "127.0.0.1:9",
            "--connect-timeout",
            hours,
        ],
        vec!["probe", "127.0.0.1:9", "--timeout", huge],
        vec!["check", "b.test", "--timeout", hours],
        vec!["check", "b.test", "--deadline", huge],
        vec!["serve", "--listen", "127.0.0.1:0", "--idle-timeout", huge],
        vec!["repl", "127.0.0.1:9", "--timeout", "8761h"],
    ];
    for args in cases {
        let run = ehlo(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        assert!(
            run.stderr.contains("at most 8760h"),
            "{args:?}: {}",
            run.stderr
        );
    }
    // A year is still taken.
    let run = ehlo_with(
        &["repl", "--timeout", "8760h"],
        Some(b":quit\n"),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let run = ehlo_with(
        &["repl"],
        Some(format!(":set timeout {huge}\n:set timeout {hours}\n:quit\n").as_bytes()),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        run.all().matches("at most 8760h").count(),
        2,
        "{}",
        run.all()
    );
}

/// SIGTERM (a CI job cancelled, timeout(1)) and SIGINT end a send over TCP like one over
/// `--pipe`: the JSON summary still comes, outcome "interrupted", exit 128 + the signal.
/// SIGQUIT too (131): left to its default action it killed ehlo without the summary, for a
/// core dump that ehlo never writes.
#[test]
fn a_signal_ends_a_tcp_send_with_its_summary_and_128_plus_n() {
    for (sig, code) in [("TERM", 143), ("INT", 130), ("QUIT", 131)] {
        // The server greets, then never answers MAIL.
        let srv = scripted(after_greet(vec![
            Step::Expect("MAIL FROM:"),
            Step::Sleep(Duration::from_secs(30)),
        ]));
        let mut args = send_args(&srv.server());
        args.extend(["--json", "--timeout", "60"].map(String::from));
        let (mut child, rx, stderr) = spawn_ehlo(&args);
        let mut lines = Vec::new();
        loop {
            let l = rx
                .recv_timeout(Duration::from_secs(30))
                .expect("MAIL sent within 30 s");
            let sent = l.contains("MAIL FROM:");
            lines.push(l);
            if sent {
                break;
            }
        }
        std::process::Command::new("kill")
            .args([format!("-{sig}"), child.id().to_string()])
            .status()
            .unwrap();
        let (exit, _) = wait_sampling(&mut child, Duration::from_secs(20));
        // Every line, up to the end of ehlo's stdout (the reader may still be behind).
        while let Ok(l) = rx.recv_timeout(Duration::from_secs(5)) {
            lines.push(l);
        }
        let all = format!("{}\n{}", lines.join("\n"), stderr.join().unwrap());
        assert_eq!(exit, code, "SIG{sig}: {all}");
        let last: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
        assert_eq!(last["type"], "summary", "{all}");
        let summary = &last["data"];
        assert_eq!(summary["exit_code"], code, "{all}");
        assert_eq!(summary["outcome"], "interrupted", "{all}");
        assert_eq!(
            summary["error"],
            format!("interrupted by SIG{sig}"),
            "{all}"
        );
    }
}

/// A usage error reads the same in every mode: one `***` line that starts with what is wrong
/// (the flag, the value, the file), exit 1, never the mode's name first — `ehlo probe` and
/// `ehlo check` once put `probe: ` / `check: ` before some of theirs and not before others.
#[test]
fn one_usage_error_style_in_every_mode() {
    let trap = tripwire();
    let at = trap.local_addr().unwrap().to_string();
    // (mode, arguments, stdin, how the line starts)
    type Case<'a> = (&'a str, Vec<&'a str>, Option<&'a [u8]>, &'a str);
    let runs: [Case; 10] = [
        (
            "send",
            vec![
                "-s",
                &at,
                "-t",
                "a@b.test",
                "--tls-ca-path",
                "/nonexistent-ehlo",
            ],
            None,
            "--tls-ca-path: /nonexistent-ehlo does not exist",
        ),
        (
            "check",
            vec!["check", "-", "-"],
            Some(b""),
            "'-' (stdin) given twice",
        ),
        (
            "check",
            vec!["check", "--only", "no.such", "example.test"],
            None,
            "--only: 'no.such' matches no id",
        ),
        (
            "probe",
            vec!["probe", &at, "--to", "bad"],
            None,
            "--to 'bad' is not an address (local@domain)",
        ),
        (
            "probe",
            vec!["probe", &at, "--to", "a@b.test", "--only", "no.such"],
            None,
            "--only: 'no.such' matches no id",
        ),
        (
            "repl",
            vec!["repl", &at, "--tls-ca-path", "/nonexistent-ehlo"],
            None,
            "--tls-ca-path: /nonexistent-ehlo does not exist",
        ),
        (
            "serve",
            vec!["serve", "--fail", "bogus"],
            None,
            "--fail \"bogus\": expected",
        ),
        (
            "demo",
            vec!["demo", "--frobnicate"],
            None,
            "unknown option '--frobnicate'",
        ),
        ("explain", vec!["explain"], None, "'ehlo explain' needs"),
        (
            "replay",
            vec!["replay", "--server", &at, "/nonexistent-ehlo/script"],
            None,
            "cannot read /nonexistent-ehlo/script",
        ),
    ];
    for (mode, args, stdin, starts) in runs {
        let run = ehlo_with(&args, stdin, Duration::from_secs(20));
        assert_eq!(run.code, 1, "{mode} {args:?}: {}", run.all());
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "{mode} {args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.starts_with(&format!("*** {starts}")),
            "{mode} {args:?}: {}",
            run.stderr
        );
    }
    assert!(trap.accept().is_err(), "nothing may connect");
}

/// `-s host:465 --tls` (STARTTLS to the implicit-TLS port, a newcomer's commonest TLS mistake)
/// waited out `--timeout` for a banner before its hint came; it is said before connecting now,
/// with the flag that fixes it (RFC 8314 §3.3). Not with --tls-on-connect, nor on another port.
#[test]
fn port_465_without_tls_on_connect_is_said_before_connecting() {
    let warning = "!!! port 465 is implicit TLS (RFC 8314 §3.3): its server sends no plain-text \
                   banner; add --tls-on-connect";
    let run = ehlo(&[
        "-s",
        "127.0.0.1:465",
        "-t",
        "a@example.test",
        "--tls",
        "--timeout",
        "1",
    ]);
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.lines().next() == Some(warning) || run.stderr.lines().next() == Some(warning),
        "{}",
        run.all()
    );
    for extra in [
        &["-s", "127.0.0.1:465", "--tls-on-connect"][..],
        &["-s", "127.0.0.1:9"],
    ] {
        let mut args = vec!["-t", "a@example.test", "--timeout", "1"];
        args.extend_from_slice(extra);
        let run = ehlo(&args);
        assert!(
            !run.all().contains("is implicit TLS"),
            "{extra:?}: {}",
            run.all()
        );
    }
}

/// `-s host:PORT --port OTHER`: the port inside `--server` wins, as in swaks, but it won
/// silently, so `-s host:8025 --port 25` went to 8025 unannounced. A warning before connecting
/// names the port used and why; the send still goes there (127.0.0.1:9 refuses, and the
/// refusal names port 9). No warning when the two agree or `--server` carries no port.
#[test]
fn a_port_inside_server_that_overrides_port_is_said() {
    let warning = "!!! --port 25 is not used: the port inside --server (9) wins, as in swaks; \
                   connecting to port 9";
    let run = ehlo(&["-s", "127.0.0.1:9", "--port", "25", "-q", "ehlo"]);
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.lines().next() == Some(warning) || run.stderr.lines().next() == Some(warning),
        "{}",
        run.all()
    );
    assert!(run.all().contains("127.0.0.1:9"), "{}", run.all());
    for extra in [
        &["-s", "127.0.0.1:9", "-p", "9"][..],
        &["-s", "127.0.0.1", "-p", "9"],
        &["-s", "127.0.0.1:9"],
    ] {
        let mut args = vec!["-q", "ehlo"];
        args.extend_from_slice(extra);
        let run = ehlo(&args);
        assert!(
            !run.all().contains("is not used"),
            "{extra:?}: {}",
            run.all()
        );
    }
}

/// The same rule in `ehlo repl`, `ehlo replay` and `ehlo probe` (their address, replay's
/// `--server`): the port inside it wins over `--port`, and that is now said as the send says
/// it, once, before connecting (`***` on stderr, a `warning` line under `--json`); it was
/// silent. Not said when the two agree or the address has no port.
#[test]
fn repl_replay_and_probe_say_the_port_inside_their_address_wins() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.ehlo");
    std::fs::write(&script, "< 220\n> QUIT\n< 221\n").unwrap();
    let script = script.to_str().unwrap();
    let said = |what: &str| {
        format!(
            "*** --port 25 is not used: the port inside {what} (9) wins, as in swaks; \
             connecting to port 9"
        )
    };
    let limit = Duration::from_secs(60);
    for (args, what) in [
        (vec!["repl", "127.0.0.1:9", "--port", "25"], "the address"),
        (
            vec!["replay", script, "-s", "127.0.0.1:9", "--port", "25"],
            "--server",
        ),
        (
            vec![
                "probe",
                "127.0.0.1:9",
                "--port",
                "25",
                "-t",
                "a@b.test",
                "--yes",
            ],
            "the address",
        ),
    ] {
        let run = ehlo_with(&args, Some(b""), limit);
        assert_ne!(run.code, 0, "{args:?}: {}", run.all());
        assert_eq!(
            run.stderr.lines().next(),
            Some(said(what).as_str()),
            "{args:?}: {}",
            run.all()
        );
        assert_eq!(run.all().matches("is not used").count(), 1, "{}", run.all());
        let mut json = args.clone();
        json.push("--json");
        let run = ehlo_with(&json, Some(b""), limit);
        let warning = run
            .stdout
            .lines()
            .find(|l| l.contains("\"warning\""))
            .unwrap_or_else(|| panic!("{json:?}: {}", run.all()));
        assert!(warning.contains("the port inside"), "{warning}");
    }
    for args in [
        &["repl", "127.0.0.1:9", "--port", "9"][..],
        &["repl", "127.0.0.1", "--port", "9"],
        &["replay", script, "-s", "127.0.0.1:9"],
    ] {
        let run = ehlo_with(args, Some(b""), limit);
        assert!(
            !run.all().contains("is not used"),
            "{args:?}: {}",
            run.all()
        );
    }
}
