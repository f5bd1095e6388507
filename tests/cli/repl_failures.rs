//! How `ehlo repl` and `ehlo replay` end when something went wrong that no 4xx/5xx code says
//! in so many words: `--tls` without TLS, a reply cut off or too large, a reply with no code,
//! late replies, a secret nobody can give. Each against a scripted server, checked by the
//! bytes it received, the exit code and the JSON summary.

use std::time::Duration;

use crate::util::{Run, Scripted, Step, ehlo, ehlo_with, ehlo_with_env, ehlo_x_then, scripted};

/// Run `ehlo` with `stdin` piped in, 30 s at most.
fn piped(args: &[&str], stdin: &str) -> Run {
    ehlo_with(args, Some(stdin.as_bytes()), Duration::from_secs(30))
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

const AUTH_SCRIPT: &str = "MAIL FROM:<a@b.test>\nAUTH PLAIN AGJvYgBzZWNyZXQ=\nQUIT\n";

/// Piped `--tls`: STARTTLS refused (454) or not offered is a TLS failure like a failed
/// handshake: exit 29, nothing of the script goes out in plain text (it used to go on: MAIL
/// and the PLAIN blob in clear, exit 0).
#[test]
fn piped_tls_refused_or_not_offered_ends_the_run_with_29() {
    for json in [false, true] {
        let server = scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO x.test"),
            Step::Send(b"250-scripted.test\r\n250 STARTTLS\r\n"),
            Step::Expect("STARTTLS"),
            Step::Send(b"454 4.7.0 TLS not available\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let addr = server.server();
        let mut args = vec!["repl", addr.as_str(), "--tls", "--helo", "x.test"];
        if json {
            args.push("--json");
        }
        let run = piped(&args, AUTH_SCRIPT);
        assert_eq!(run.code, 29, "{}", run.all());
        let got = server.finish();
        assert_eq!(got, "EHLO x.test\r\nSTARTTLS\r\nQUIT\r\n", "{}", run.all());
        if json {
            let s = summary(&run);
            assert_eq!(s["exit_code"], 29, "{s}");
            // As the send's summary has it (a refusal: the phase's unexpected reply).
            assert_eq!(s["outcome"], "unexpected_reply", "{s}");
            assert!(
                s["error"].as_str().is_some_and(|e| e.contains("454 4.7.0")),
                "{s}"
            );
        } else {
            assert!(
                run.all().contains(
                    "--tls: STARTTLS: expected 220, got 454 4.7.0 TLS not available: nothing more is sent in plain text"
                ),
                "{}",
                run.all()
            );
            // The refusal's hint names the flag that sent STARTTLS, not a `:starttls` never typed.
            assert!(
                run.all()
                    .contains("retry later, or start ehlo repl again without --tls to carry on"),
                "{}",
                run.all()
            );
            assert!(!run.all().contains("leave out :starttls"), "{}", run.all());
        }
    }

    // Not offered: not sent either (swaks: TLS "not available for any reason").
    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO x.test"),
        Step::Send(b"250-scripted.test\r\n250 PIPELINING\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let addr = server.server();
    let run = piped(&["repl", &addr, "--tls", "--helo", "x.test"], AUTH_SCRIPT);
    assert_eq!(run.code, 29, "{}", run.all());
    assert_eq!(server.finish(), "EHLO x.test\r\nQUIT\r\n", "{}", run.all());
    assert!(
        run.all()
            .contains("--tls: STARTTLS is not advertised by the server (the server offers no TLS on this port; try a new session with ehlo repl --tls-on-connect on port 465, or start ehlo repl again without --tls)"),
        "{}",
        run.all()
    );
}

/// A required STARTTLS that does not start TLS ends the send and a piped `ehlo repl --tls` with
/// the same exit code and the same JSON `outcome`, decided once in the core: `not_advertised`
/// (the EHLO reply lists no STARTTLS), `unexpected_reply` (454), `tls` (a 250, which starts
/// nothing). The REPL said `tls` for all three.
#[test]
fn a_required_starttls_ends_the_send_and_the_repl_alike() {
    let caps: [(&[u8], &[u8], &str); 3] = [
        (
            b"250-scripted.test\r\n250 PIPELINING\r\n",
            b"",
            "not_advertised",
        ),
        (
            b"250-scripted.test\r\n250 STARTTLS\r\n",
            b"454 4.7.0 TLS not available\r\n",
            "unexpected_reply",
        ),
        (
            b"250-scripted.test\r\n250 STARTTLS\r\n",
            b"250 2.0.0 fine\r\n",
            "tls",
        ),
    ];
    for (ehlo_reply, starttls_reply, outcome) in caps {
        let steps = || {
            let mut v = vec![
                Step::Send(b"220 scripted.test ESMTP\r\n"),
                Step::Expect("EHLO x.test"),
                Step::Send(ehlo_reply),
            ];
            if !starttls_reply.is_empty() {
                v.extend([Step::Expect("STARTTLS"), Step::Send(starttls_reply)]);
            }
            v.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
            v
        };
        let server = scripted(steps());
        let addr = server.server();
        let send = piped(
            &[
                "--server", &addr, "--tls", "--helo", "x.test", "--from", "a@b.test", "--to",
                "c@d.test", "--json",
            ],
            "",
        );
        server.finish();
        let server = scripted(steps());
        let addr = server.server();
        let repl = piped(
            &["repl", &addr, "--tls", "--helo", "x.test", "--json"],
            "NOOP\n",
        );
        server.finish();
        let (send, repl) = (summary(&send), summary(&repl));
        assert_eq!(send["outcome"], outcome, "{send}");
        assert_eq!(repl["outcome"], outcome, "{repl}");
        assert_eq!(send["exit_code"], 29, "{send}");
        assert_eq!(repl["exit_code"], 29, "{repl}");
    }
}

/// Piped `--tls` and a replayed `:starttls` against a server that answers STARTTLS with 250:
/// only 220 starts TLS (RFC 3207 §4), so the run ends with exit 29 as for a refusal, in the
/// send's words for it, which do not call a 250 a refusal.
#[test]
fn a_250_to_starttls_ends_a_piped_tls_run_as_tls_not_started() {
    const WORDS: &str = "STARTTLS was answered 250, not 220 (RFC 3207 §4): TLS not started";
    let server = |then_quit: bool| {
        let mut steps = vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO x.test"),
            Step::Send(b"250-scripted.test\r\n250 STARTTLS\r\n"),
            Step::Expect("STARTTLS"),
            Step::Send(b"250 2.0.0 fine\r\n"),
        ];
        if then_quit {
            steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
        }
        scripted(steps)
    };
    let srv = server(true);
    let addr = srv.server();
    let run = piped(&["repl", &addr, "--tls", "--helo", "x.test"], AUTH_SCRIPT);
    assert_eq!(run.code, 29, "{}", run.all());
    assert_eq!(
        srv.finish(),
        "EHLO x.test\r\nSTARTTLS\r\nQUIT\r\n",
        "{}",
        run.all()
    );
    assert!(
        run.all().contains(&format!(
            "--tls: {WORDS}: nothing more is sent in plain text"
        )),
        "{}",
        run.all()
    );
    assert!(!run.all().contains("refused"), "{}", run.all());

    let dir = tempfile::tempdir().unwrap();
    let script = starttls_recording(&dir);
    let srv = server(false);
    let addr = srv.server();
    let run = piped(&["replay", script.to_str().unwrap(), "-s", &addr], "");
    assert_eq!(run.code, 29, "{}", run.all());
    assert_eq!(srv.finish(), "EHLO x.test\r\nSTARTTLS\r\n", "{}", run.all());
    assert!(
        run.all()
            .contains(&format!("{WORDS}: nothing more is sent")),
        "{}",
        run.all()
    );
}

/// Piped `repl --strict`: an `:auth` whose 235 proves nothing (SCRAM without the server's
/// signature `v=`, DIGEST-MD5 without `rspauth`) failed, as the send fails it: exit 28, the
/// reason in the summary. It used to exit 0 with the outcome "ok".
#[test]
fn piped_strict_auth_without_the_servers_proof_exits_28() {
    // DIGEST-MD5's challenge (RFC 2831 §2.1.1), static: the 235 comes without rspauth.
    let digest = b"334 cmVhbG09InNjcmlwdGVkLnRlc3QiLG5vbmNlPSJPQTZNRzl0RVFHbTJoaCIscW9wPSJhdXRoIixjaGFyc2V0PXV0Zi04LGFsZ29yaXRobT1tZDUtc2Vzcw==\r\n";
    let runs: [(&str, Vec<Step>); 2] = [
        (
            "SCRAM-SHA-256",
            vec![
                Step::Expect("AUTH SCRAM-SHA-256 "),
                Step::Send(b"235 2.7.0 ok\r\n"),
            ],
        ),
        (
            "DIGEST-MD5",
            vec![
                Step::Expect("AUTH DIGEST-MD5"),
                Step::Send(digest),
                Step::Line,
                Step::Send(b"235 2.7.0 ok\r\n"),
            ],
        ),
    ];
    for (mech, auth) in runs {
        let mut steps = vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO x.test"),
            Step::Send(b"250-scripted.test\r\n250 AUTH SCRAM-SHA-256 DIGEST-MD5\r\n"),
        ];
        steps.extend(auth);
        steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
        let server = scripted(steps);
        let addr = server.server();
        let run = ehlo_with_env(
            &[
                "repl",
                &addr,
                "--strict",
                "--json",
                "--allow-plaintext-auth",
            ],
            &[("EHLO_AUTH_PASSWORD", "Sekr3t")],
            Some(format!("EHLO x.test\n:auth {mech} bob\nMAIL FROM:<a@b.test>\n").as_bytes()),
            Duration::from_secs(30),
        );
        assert_eq!(run.code, 28, "{mech}: {}", run.all());
        let got = server.finish();
        assert!(!got.contains("MAIL"), "{mech}: {got}");
        let s = summary(&run);
        assert_eq!(s["exit_code"], 28, "{s}");
        assert!(
            s["error"]
                .as_str()
                .is_some_and(|e| e.starts_with(&format!("AUTH {mech}: "))),
            "{s}"
        );
    }
}

/// An `:auth` that ehlo cancelled with `*` (a challenge it cannot read) and the server then
/// answered with 235: no success (README: "a 235 to that is no success"), as the send says.
/// `repl --strict` and `replay` fail with 28, nothing more is sent. It used to count as
/// authenticated (`ehlo[plain|authed]`, `:status` "authenticated", MAIL sent, exit 0).
#[test]
fn a_235_to_the_cancel_of_an_auth_step_is_no_success() {
    let steps = |then: Vec<Step>| {
        let mut v = vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO x.test"),
            Step::Send(b"250-scripted.test\r\n250 AUTH CRAM-MD5\r\n"),
            Step::Expect("AUTH CRAM-MD5"),
            Step::Send(b"334 !!!not-base64\r\n"),
            Step::Expect("*"),
            Step::Send(b"235 2.7.0 ok\r\n"),
        ];
        v.extend(then);
        v
    };
    let server = scripted(steps(vec![
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    let addr = server.server();
    let run = ehlo_with_env(
        &[
            "repl",
            &addr,
            "--strict",
            "--json",
            "--allow-plaintext-auth",
        ],
        &[("EHLO_AUTH_PASSWORD", "Sekr3t")],
        Some(b"EHLO x.test\n:auth CRAM-MD5 bob\nMAIL FROM:<a@b.test>\n"),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 28, "{}", run.all());
    let got = server.finish();
    assert!(!got.contains("MAIL"), "{got}");
    let s = summary(&run);
    assert_eq!(s["exit_code"], 28, "{s}");
    assert!(
        s["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("AUTH CRAM-MD5: ")
                && e.contains("the session is not authenticated")),
        "{s}"
    );

    // Not strict: the session goes on, but unauthenticated (`:status` says so).
    let server = scripted(steps(vec![
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    let addr = server.server();
    let run = ehlo_with_env(
        &["repl", &addr, "--allow-plaintext-auth"],
        &[("EHLO_AUTH_PASSWORD", "Sekr3t")],
        Some(b"EHLO x.test\n:auth CRAM-MD5 bob\n:status\n"),
        Duration::from_secs(30),
    );
    server.finish();
    assert!(!run.all().contains("authed"), "{}", run.all());
    assert!(!run.all().contains(": authenticated"), "{}", run.all());

    // replay: the recorded 235 is no pass either.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("auth.ehlo");
    std::fs::write(
        &script,
        "< 220\n> EHLO x.test\n< 250\n> :auth CRAM-MD5 bob\n< 334\n< 235\n> NOOP\n< 250\n",
    )
    .unwrap();
    // (replay closes without QUIT when a step fails)
    let server = scripted(steps(vec![]));
    let addr = server.server();
    let run = ehlo_with_env(
        &[
            "replay",
            script.to_str().unwrap(),
            "--server",
            &addr,
            "--allow-plaintext-auth",
        ],
        &[("EHLO_AUTH_PASSWORD", "Sekr3t")],
        None,
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 28, "{}", run.all());
    assert!(!server.finish().contains("NOOP"), "{}", run.all());
}

/// Piped `:auth PLAIN bob` with no password from anywhere (no EHLO_AUTH_PASSWORD, no
/// `--auth-password-file`, no terminal) is refused for that reason; the script's next line is
/// run as the command it is. It used to be read as the password (NOOP sent base64'd inside
/// the PLAIN blob, never as a command; exit 0 even with --strict).
#[test]
fn piped_auth_with_no_secret_does_not_eat_the_next_line() {
    let opening = || {
        vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO x.test"),
            Step::Send(b"250-scripted.test\r\n250 AUTH PLAIN LOGIN\r\n"),
        ]
    };
    let script = "EHLO x.test\n:auth PLAIN bob\nNOOP\nQUIT\n";
    let mut steps = opening();
    steps.extend([
        Step::Expect("NOOP"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let server = scripted(steps);
    let addr = server.server();
    let run = piped(&["repl", &addr, "--allow-plaintext-auth"], script);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(server.finish(), "EHLO x.test\r\nNOOP\r\nQUIT\r\n");
    assert!(
        run.all()
            .contains("AUTH PLAIN needs a password: set EHLO_AUTH_PASSWORD or pass --auth-password-file FILE (no terminal to ask on)"),
        "{}",
        run.all()
    );

    let mut steps = opening();
    steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
    let server = scripted(steps);
    let addr = server.server();
    let run = piped(
        &["repl", &addr, "--allow-plaintext-auth", "--strict"],
        script,
    );
    // As the send with no password to be had: a usage error, nothing sent (exit 1).
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(server.finish(), "EHLO x.test\r\nQUIT\r\n");
}

/// Piped `:auth PLAIN` with no user (none named, no EHLO_AUTH_USER, no terminal) is refused
/// for that reason, and `:auth FOO bob` (a mechanism ehlo does not know) before anything is
/// read: the script's next line is run as the command it is. It used to be read as the user
/// name (MAIL FROM sent inside the PLAIN blob, never as a command, and recorded as
/// `:auth PLAIN MAIL FROM:<a@b.test>`); after `:auth FOO` it was lost without a trace.
#[test]
fn piped_auth_with_no_user_does_not_eat_the_next_line() {
    for (step, said) in [
        (
            ":auth PLAIN",
            "AUTH PLAIN needs a user: :auth PLAIN USER, or set EHLO_AUTH_USER (no terminal to ask on)",
        ),
        (":auth", "AUTH PLAIN needs a user"),
        // Not repeated: a word no server offered and no SASL name may be a password.
        (":auth FOO", "ehlo does not implement the mechanism named"),
        (":auth GSSAPI", "ehlo does not implement AUTH GSSAPI"),
    ] {
        let script = format!("EHLO x.test\n{step}\nNOOP\nQUIT\n");
        let server = scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO x.test"),
            Step::Send(b"250-scripted.test\r\n250 AUTH PLAIN LOGIN\r\n"),
            Step::Expect("NOOP"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let addr = server.server();
        let run = ehlo_with_env(
            &["repl", &addr, "--allow-plaintext-auth"],
            &[("EHLO_AUTH_PASSWORD", "Sekr3t")],
            Some(script.as_bytes()),
            Duration::from_secs(30),
        );
        assert_eq!(run.code, 0, "{step}: {}", run.all());
        assert_eq!(
            server.finish(),
            "EHLO x.test\r\nNOOP\r\nQUIT\r\n",
            "{step}: {}",
            run.all()
        );
        assert!(run.all().contains(said), "{step}: {}", run.all());
    }

    // --strict: the step that could not run ends the session there, a usage error as the send
    // with `--auth PLAIN` and no user name to be had (exit 1, nothing sent).
    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO x.test"),
        Step::Send(b"250-scripted.test\r\n250 AUTH PLAIN LOGIN\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let addr = server.server();
    let run = ehlo_with_env(
        &["repl", &addr, "--allow-plaintext-auth", "--strict"],
        &[("EHLO_AUTH_PASSWORD", "Sekr3t")],
        Some(b"EHLO x.test\n:auth PLAIN\nMAIL FROM:<a@b.test>\n"),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(server.finish(), "EHLO x.test\r\nQUIT\r\n");
}

/// Piped `:auth DIGEST-MD5|NTLM|CRAM-SHA1` with no password says where one comes from, as the
/// other mechanisms do (it used to say only "DIGEST-MD5 needs a password").
#[test]
fn piped_auth_with_no_password_names_the_sources_for_every_mechanism() {
    for mech in ["DIGEST-MD5", "NTLM", "CRAM-SHA1"] {
        let server = scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO x.test"),
            Step::Send(b"250-scripted.test\r\n250 AUTH DIGEST-MD5 NTLM CRAM-SHA1\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let addr = server.server();
        let run = piped(
            &["repl", &addr, "--allow-plaintext-auth"],
            &format!("EHLO x.test\n:auth {mech} bob\nQUIT\n"),
        );
        assert_eq!(server.finish(), "EHLO x.test\r\nQUIT\r\n", "{mech}");
        assert!(
            run.all().contains(&format!(
                "AUTH {mech} needs a password: set EHLO_AUTH_PASSWORD or pass --auth-password-file FILE (no terminal to ask on)"
            )),
            "{mech}: {}",
            run.all()
        );
    }
}

/// `:auth SPA|MSN USER` runs NTLM under the name the server offers (README: "SPA and MSN are
/// NTLM", as in the send). The REPL used to refuse them: "ehlo does not implement AUTH MSN".
#[test]
fn repl_auth_takes_ntlms_other_names() {
    for name in ["SPA", "MSN"] {
        let mut steps = vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO x.test"),
            Step::SendOwned(format!("250-scripted.test\r\n250 AUTH {name}\r\n").into_bytes()),
        ];
        steps.extend([
            Step::Expect(if name == "SPA" {
                "AUTH SPA"
            } else {
                "AUTH MSN"
            }),
            Step::Send(b"334 \r\n"),
            // NTLM's NEGOTIATE message: base64 of "NTLMSSP\0" + type 1.
            Step::Expect("TlRMTVNTUAABAAAA"),
            Step::Send(b"535 5.7.8 no\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let server = scripted(steps);
        let addr = server.server();
        let run = ehlo_with_env(
            &["repl", &addr, "--allow-plaintext-auth"],
            &[("EHLO_AUTH_PASSWORD", "Sekr3t")],
            Some(format!("EHLO x.test\n:auth {name} bob\nQUIT\n").as_bytes()),
            Duration::from_secs(30),
        );
        server.finish();
        assert!(
            !run.all().contains("does not implement"),
            "{name}: {}",
            run.all()
        );
    }
}

/// `replay --keep-going`: a `:starttls` refused (454) ends the replay like a failed handshake
/// (exit 29): the steps after it, meant for TLS, are not sent in plain text. It used to run
/// them all in clear.
#[test]
fn replay_keep_going_stops_at_a_refused_starttls() {
    let dir = tempfile::tempdir().unwrap();
    let script = starttls_recording(&dir);
    for keep_going in [true, false] {
        let server = scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO x.test"),
            Step::Send(b"250-scripted.test\r\n250 STARTTLS\r\n"),
            Step::Expect("STARTTLS"),
            Step::Send(b"454 4.7.0 TLS not available\r\n"),
        ]);
        let addr = server.server();
        let mut args = vec!["replay", script.to_str().unwrap(), "-s", addr.as_str()];
        if keep_going {
            args.push("--keep-going");
        }
        let run = piped(&args, "");
        assert_eq!(run.code, 29, "{}", run.all());
        assert_eq!(
            server.finish(),
            "EHLO x.test\r\nSTARTTLS\r\n",
            "{}",
            run.all()
        );
        assert!(
            run.all().contains(
                "STARTTLS: expected 220, got 454 4.7.0 TLS not available: nothing more is sent"
            ),
            "{}",
            run.all()
        );
    }
}

/// `replay --json` of a recording whose `:starttls` does not start TLS: the summary's `outcome`
/// is the one the send and `repl --tls` give for the same server, from the core's one decision
/// (`not_advertised` when the EHLO reply lists no STARTTLS, `unexpected_reply` for a 454,
/// `timeout` for no reply), all exit 29 and nothing sent after it. It used to say `tls` for all.
#[test]
fn replay_a_starttls_that_did_not_start_has_the_sends_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let script = starttls_recording(&dir);
    let cases: [(&[u8], &[u8], &str); 3] = [
        (
            b"250-scripted.test\r\n250 STARTTLS\r\n",
            b"454 4.7.0 TLS not available\r\n",
            "unexpected_reply",
        ),
        (
            b"250 scripted.test\r\n",
            b"502 5.5.1 unrecognized command\r\n",
            "not_advertised",
        ),
        (b"250-scripted.test\r\n250 STARTTLS\r\n", b"", "timeout"),
    ];
    for (ehlo, answer, outcome) in cases {
        let mut steps = vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO x.test"),
            Step::Send(ehlo),
            Step::Expect("STARTTLS"),
        ];
        if answer.is_empty() {
            steps.push(Step::Sleep(Duration::from_millis(1500)));
        } else {
            steps.push(Step::Send(answer));
        }
        let server = scripted(steps);
        let addr = server.server();
        let args = [
            "replay",
            script.to_str().unwrap(),
            "-s",
            addr.as_str(),
            "--json",
            "--timeout",
            "1",
        ];
        let run = piped(&args, "");
        let all = run.all();
        assert_eq!(run.code, 29, "{outcome}: {all}");
        assert_eq!(server.finish(), "EHLO x.test\r\nSTARTTLS\r\n", "{all}");
        let s = summary(&run);
        assert_eq!(s["outcome"], outcome, "{all}");
        assert_eq!(s["exit_code"], 29, "{all}");
        assert!(all.contains("nothing more is sent"), "{all}");
        if outcome == "not_advertised" {
            // The remedy is replay's, not the REPL's.
            assert!(all.contains("ehlo replay --tls-on-connect"), "{all}");
        }
    }
}

/// Piped `repl --strict --timeout 1`: no reply to a NOOP while the connection stays up exits
/// 36 (a command outside the phases failed), as replay does on the same script, not 6 (the
/// server closed), which it used to.
#[test]
fn piped_strict_timeout_outside_the_phases_exits_36() {
    let server = scripted(ehlo_x_then(vec![
        Step::Expect("NOOP"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    let addr = server.server();
    let run = piped(
        &["repl", &addr, "--strict", "--timeout", "1", "--json"],
        "EHLO x.test\nNOOP\nRSET\nQUIT\n",
    );
    assert_eq!(run.code, 36, "{}", run.all());
    assert_eq!(server.finish(), "EHLO x.test\r\nNOOP\r\nQUIT\r\n");
    let s = summary(&run);
    assert_eq!(s["exit_code"], 36, "{s}");
    assert_eq!(s["outcome"], "timeout", "{s}");
}

/// An `:auth` refused because the connection is not encrypted exits 1, as the send's refusal
/// does (README), in `replay` and `repl --strict`, and the summary says why. It used to exit
/// 28 with the summary's `error` null.
#[test]
fn plaintext_auth_refusal_exits_1_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("auth.ehlo");
    std::fs::write(
        &script,
        "< 220\n> EHLO x.test\n< 250\n> :auth PLAIN bob\n< 235\n",
    )
    .unwrap();
    let opening = |quit: bool| {
        let mut steps = vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO x.test"),
            Step::Send(b"250-scripted.test\r\n250 AUTH PLAIN\r\n"),
        ];
        if quit {
            steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
        }
        scripted(steps)
    };
    let server = opening(false);
    let addr = server.server();
    let run = ehlo_with_env(
        &["replay", script.to_str().unwrap(), "-s", &addr, "--json"],
        &[("EHLO_AUTH_PASSWORD", "Sekr3t")],
        None,
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(server.finish(), "EHLO x.test\r\n");
    let s = summary(&run);
    assert_eq!(s["exit_code"], 1, "{s}");
    assert!(
        s["error"]
            .as_str()
            .is_some_and(|e| e.contains("the connection is not encrypted")),
        "{s}"
    );

    let server = opening(true);
    let addr = server.server();
    let run = ehlo_with_env(
        &["repl", &addr, "--strict"],
        &[("EHLO_AUTH_PASSWORD", "Sekr3t")],
        Some(b"EHLO x.test\n:auth PLAIN bob\nMAIL FROM:<a@b.test>\n"),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(server.finish(), "EHLO x.test\r\nQUIT\r\n");
}

/// The input ends inside a typed DATA (after the 354): the connection is closed without the
/// final dot, so nothing is delivered; `--strict` exits 25 (DATA). A `:quit` typed there is
/// content, and said so once. It used to send the dot (a cut message delivered, exit 0).
#[test]
fn end_of_input_inside_typed_data_delivers_nothing() {
    for strict in [false, true] {
        let server = scripted(ehlo_x_then(vec![
            Step::Expect("MAIL FROM:"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("RCPT TO:"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("DATA"),
            Step::Send(b"354 go ahead\r\n"),
            Step::Data,
            Step::Send(b"250 queued\r\n"),
        ]));
        let addr = server.server();
        let mut args = vec!["repl", addr.as_str()];
        if strict {
            args.push("--strict");
        }
        let run = piped(
            &args,
            "EHLO x.test\nMAIL FROM:<a@ehlo.test>\nRCPT TO:<b@ehlo.test>\nDATA\nSubject: half\n:quit\n:raw \"x\"\n\nfirst half of the",
        );
        assert_eq!(run.code, if strict { 25 } else { 0 }, "{}", run.all());
        let got = server.finish();
        assert!(
            got.ends_with("Subject: half\r\n:quit\r\n:raw \"x\"\r\n\r\nfirst half of the\r\n"),
            "{got:?}"
        );
        let out = run.all();
        assert!(!out.contains("queued"), "{out}");
        assert!(
            out.contains(
                "the input ended inside DATA: the message was not finished, and is not sent"
            ),
            "{out}"
        );
        assert_eq!(
            out.matches("inside DATA every line is message content")
                .count(),
            1,
            "{out}"
        );
    }
}

/// Piped `:data` whose DATA gets no 354: the message, held until then, is never sent, and the
/// transcript says so with its size in lines, whether the server stays silent (its QUIT
/// unanswered too), drops the connection, or refuses DATA. The silent and dropped cases used
/// to show `-> DATA`, the timeout or the close, and not a word about the 3 lines typed.
#[test]
fn a_data_message_never_sent_for_want_of_a_354_is_said_not_sent() {
    let after_data = |tail: Vec<Step>| {
        let mut v = vec![
            Step::Expect("MAIL FROM:"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("RCPT TO:"),
            Step::Send(b"250 ok\r\n"),
            Step::Expect("DATA"),
        ];
        v.extend(tail);
        ehlo_x_then(v)
    };
    let script =
        "EHLO x.test\nMAIL FROM:<a@x.test>\nRCPT TO:<b@x.test>\n:data\none\ntwo\nthree\n.\n";
    for (case, tail, code, said) in [
        (
            "silent",
            vec![Step::Expect("QUIT"), Step::Sleep(Duration::from_secs(3))],
            25,
            "the message (3 lines) was not sent: another line was sent before DATA was answered with 354",
        ),
        (
            "dropped",
            vec![Step::Close],
            6,
            "the message (3 lines) was not sent: the connection closed before DATA was answered with 354",
        ),
        (
            "refused",
            vec![
                Step::Send(b"554 5.5.1 no valid recipients\r\n"),
                Step::Expect("QUIT"),
                Step::Send(b"221 bye\r\n"),
            ],
            0,
            "DATA was not answered with 354: the message (3 lines) was not sent",
        ),
    ] {
        let server = scripted(after_data(tail));
        let addr = server.server();
        let run = piped(&["repl", &addr, "--timeout", "1"], script);
        let out = run.all();
        assert_eq!(run.code, code, "{case}: {out}");
        assert_eq!(
            out.matches(said).count(),
            1,
            "{case}: {said:?} once in:\n{out}"
        );
        assert!(!out.contains("-> one"), "{case}: {out}");
        let got = server.finish();
        assert!(!got.contains("one\r\n"), "{case}: {got:?}");
    }
}

/// Piped `:set NAME VALUE` prints its one confirmation and nothing else: the settings list
/// seen after `:set echo off` in a piped run was the next bare `:set`'s (echo off hides the
/// ` -> NOOP` between them, so the list seemed to follow the change). Each change says its
/// own line once; the list comes once, after the NOOP's reply, at the bare `:set`.
#[test]
fn piped_set_name_value_prints_only_its_confirmation() {
    let server = scripted(ehlo_x_then(vec![
        Step::Expect("NOOP"),
        Step::Send(b"250 2.0.0 noop ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    let addr = server.server();
    let run = piped(
        &["repl", &addr, "--timeout", "9"],
        "EHLO x.test\n:set explain none\n:set timeout 7\n:set echo off\nNOOP\n:set\n",
    );
    let out = run.all();
    assert_eq!(run.code, 0, "{out}");
    server.finish();
    let lines: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("<-  250 scripted.test"))
        .skip(1)
        .filter(|l| !l.starts_with("==="))
        // A reply's time, "(0 ms)", varies.
        .map(|l| l.split(" (").next().unwrap_or(l))
        .collect();
    assert_eq!(
        lines,
        [
            "explain  none",
            "timeout  7s per reply",
            "echo     off",
            "<-  250 2.0.0 noop ok",
            "timeout  7s per reply",
            "explain  none",
            "echo     off",
            "<-  221 bye",
        ],
        "{out}"
    );
}

/// `replay`: a reply the close cut off (`250 ok pa`, no line end, then the close) answers
/// nothing: the step differs and the run exits 6 (the server closed), as the README says. It
/// used to count as the 250 recorded: "every reply as recorded", exit 0.
#[test]
fn replay_does_not_accept_a_reply_cut_off_by_the_close() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("cut.ehlo");
    std::fs::write(&script, "< 220\n> EHLO x.test\n< 250\n> NOOP\n< 250\n").unwrap();
    let server = scripted(ehlo_x_then(vec![
        Step::Expect("NOOP"),
        Step::Send(b"250 ok pa"),
        Step::Close,
    ]));
    let addr = server.server();
    let run = piped(&["replay", script.to_str().unwrap(), "-s", &addr], "");
    server.finish();
    assert_eq!(run.code, 6, "{}", run.all());
    assert!(
        !run.all().contains("every reply as recorded"),
        "{}",
        run.all()
    );
}

/// Piped `repl --strict`: a reply cut as too large (an endless `250-X` continuation, a banner
/// of a megabyte with no line end) ends the run with the phase's code (EHLO 22, banner 21),
/// as the send does; it used to count as a close the session meant: exit 0, outcome ok.
/// Without `--strict` too, once the script has run (the lines after the cut said not sent):
/// a piped run against such a server used to exit 0, as if it were a good one.
#[test]
fn piped_reply_too_large_exits_with_the_phases_code() {
    let runs: [(Vec<Step>, i32); 2] = [
        (
            vec![
                Step::Send(b"220 scripted.test ESMTP\r\n"),
                Step::Expect("EHLO x.test"),
                Step::Flood(b"250-X\r\n", Duration::from_secs(20)),
            ],
            22,
        ),
        (
            vec![Step::Flood(b"220 xxxxxxxx", Duration::from_secs(20))],
            21,
        ),
    ];
    for (steps, want) in runs {
        for strict in [true, false] {
            let server = scripted(steps.clone());
            let addr = server.server();
            let mut args = vec!["repl", &addr, "--json"];
            if strict {
                args.push("--strict");
            }
            let run = piped(&args, "EHLO x.test\nNOOP\nQUIT\n");
            server.finish();
            assert_eq!(run.code, want, "strict {strict}: {}", run.stderr);
            let s = summary(&run);
            assert_eq!(s["exit_code"], want, "{s}");
            assert!(
                s["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("reply too large")),
                "{s}"
            );
            if !strict {
                assert!(
                    run.stdout.contains("the run could not finish"),
                    "{}",
                    run.stdout
                );
            }
        }
    }
}

/// Piped `repl --strict`: a reply without a code (`ABC garbage`) or with a 1xx code is no
/// success either: the run ends with the phase's code (NOOP: 36), as a 600 already did. Both
/// used to pass (exit 0).
#[test]
fn piped_strict_fails_on_a_reply_without_a_code_or_with_1xx() {
    for reply in [&b"ABC garbage\r\n"[..], b"150 maybe\r\n"] {
        let server = scripted(ehlo_x_then(vec![
            Step::Expect("NOOP"),
            Step::Send(reply),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]));
        let addr = server.server();
        let run = piped(
            &["repl", &addr, "--strict"],
            "EHLO x.test\nNOOP\nRSET\nQUIT\n",
        );
        assert_eq!(run.code, 36, "{}", run.all());
        assert_eq!(server.finish(), "EHLO x.test\r\nNOOP\r\nQUIT\r\n");
    }
}

/// Piped: the script's QUIT gets no reply within `--timeout`; the REPL ends without sending
/// a second QUIT of its own (it used to), with QUIT's code and the `timeout` outcome, as the
/// send ends when its QUIT draws no reply (27).
#[test]
fn a_quit_without_reply_is_not_sent_twice() {
    let server = scripted(ehlo_x_then(vec![Step::Expect("QUIT")]));
    let addr = server.server();
    let run = piped(&["repl", &addr, "--timeout", "1"], "EHLO x.test\nQUIT\n");
    assert_eq!(run.code, 27, "{}", run.all());
    assert_eq!(server.finish(), "EHLO x.test\r\nQUIT\r\n", "{}", run.all());
}

/// `repl --timeout 1`: a reply that comes after its wait ended (here the EHLO's, 1.5 s late,
/// while the NOOP typed next is waiting) is the EHLO's, as the session pairs it: the
/// transcript and the JSON say so and time it from the EHLO, and the recording writes it as a
/// `~` line after `> EHLO`, not as the NOOP's reply (it used to be `> EHLO me`, `> NOOP`,
/// `< 250`, which a replay against a server that answers on time fails on).
#[test]
fn a_late_reply_is_attributed_to_the_input_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    for json in [false, true] {
        let server = scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO me"),
            Step::Sleep(Duration::from_millis(1500)),
            Step::Send(b"250-scripted.test\r\n250 PIPELINING\r\n"),
            Step::Expect("NOOP"),
            Step::Send(b"250 2.0.0 noop ok\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let addr = server.server();
        let rec = dir.path().join(format!("late-{json}.ehlo"));
        let log = dir.path().join(format!("late-{json}.log"));
        let mut args = vec![
            "repl",
            addr.as_str(),
            "--timeout",
            "1",
            "--record",
            rec.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ];
        if json {
            args.push("--json");
        }
        let run = piped(&args, "EHLO me\nNOOP\nQUIT\n");
        // The EHLO's wait ran out: the script goes on, and ends with EHLO's code, as a send
        // with the same `--timeout` would.
        assert_eq!(run.code, 22, "{}", run.all());
        assert_eq!(server.finish(), "EHLO me\r\nNOOP\r\nQUIT\r\n");
        let recording = std::fs::read_to_string(&rec).unwrap();
        let steps: Vec<&str> = recording.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            steps,
            [
                "< 220",
                "> EHLO me",
                "~ 250",
                "> NOOP",
                "< 250",
                "> QUIT",
                "< 221"
            ],
            "{recording}\n{}",
            run.all()
        );
        // The JSON (stdout with --json, and the --log copy): the late reply named and timed
        // from the EHLO (1.5 s), the NOOP's from the NOOP (its reply came at once).
        let log_text = std::fs::read_to_string(&log).unwrap();
        let streams = if json {
            vec![run.stdout.clone(), log_text]
        } else {
            vec![log_text]
        };
        for stream in streams {
            let events: Vec<serde_json::Value> = stream
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            let info = events
                .iter()
                .position(|e| {
                    e["type"] == "info"
                        && e["data"]["message"]
                            .as_str()
                            .is_some_and(|m| m.starts_with("late reply to `EHLO me`"))
                })
                .unwrap_or_else(|| panic!("no late-reply event: {stream}"));
            let timing = |phase: &str| {
                events
                    .iter()
                    .find(|e| {
                        e["type"] == "timing"
                            && e["data"]["what"] == "reply"
                            && e["data"]["phase"] == phase
                    })
                    .unwrap_or_else(|| panic!("no {phase} timing: {stream}"))["data"]["ms"]
                    .as_f64()
                    .unwrap()
            };
            assert!(timing("helo") >= 1400.0, "{stream}");
            assert!(timing("other") < 1000.0, "{stream}");
            // The reply itself follows the event that names it.
            assert!(
                events[info..].iter().any(|e| e["type"] == "received"),
                "{stream}"
            );
        }
        if !json {
            let out = run.all();
            // Timed from the EHLO: 1.5 s, more on a loaded machine (1.6 s was seen when the
            // text was matched exactly), never under the server's pause.
            let secs = |head: &str, tail: &str| -> Option<(usize, f64)> {
                let at = out.find(head)?;
                let rest = &out[at + head.len()..];
                let n: f64 = rest[..rest.find(tail)?].parse().ok()?;
                (n >= 1.4).then_some((at, n))
            };
            let late = secs("late reply to `EHLO me` (", " s after it)");
            let reply = secs("250 PIPELINING (", " s)");
            assert!(
                late.is_some() && reply.is_some() && late < reply,
                "the late reply is not named as the EHLO's:\n{out}"
            );
        }
        // The recording replays against a server that answers on time.
        let normal = scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO me"),
            Step::Send(b"250-scripted.test\r\n250 PIPELINING\r\n"),
            Step::Expect("NOOP"),
            Step::Send(b"250 2.0.0 noop ok\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let normal_addr = normal.server();
        let replay = piped(&["replay", rec.to_str().unwrap(), "-s", &normal_addr], "");
        assert_eq!(replay.code, 0, "{recording}\n{}", replay.all());
        normal.finish();
    }
}

/// `repl --helo NAME` is checked as the send's is (the one shared check): a name with a line
/// break (which would send what follows it as a command of its own, here a MAIL) or an empty
/// one is a usage error, exit 1, before anything is sent. It used to go out as typed.
#[test]
fn repl_helo_is_checked_as_the_sends_is() {
    for bad in ["a.test\r\nMAIL FROM:<x@y.test>", "a.test\nRSET", "", "   "] {
        let server = scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Line,
            Step::Send(b"250 ok\r\n"),
            Step::Line,
            Step::Send(b"250 ok\r\n"),
            Step::Line,
            Step::Send(b"221 bye\r\n"),
        ]);
        let addr = server.server();
        let run = piped(&["repl", &addr, "--helo", bad], "QUIT\n");
        let send = piped(&["-s", &addr, "--helo", bad, "-t", "a@b.test"], "");
        assert_eq!(run.code, 1, "{bad:?}: {}", run.all());
        assert_eq!(send.code, 1, "{bad:?}: {}", send.all());
        assert!(run.stderr.contains("--helo"), "{}", run.all());
        // The same one-line reason as the send's.
        assert_eq!(run.stderr.lines().next(), send.stderr.lines().next());
        // Nothing was sent: connect once so the server's script can end.
        let _ = std::net::TcpStream::connect(server.addr);
        assert_eq!(server.finish(), "", "{bad:?}");
    }
}

/// `replay`: a certificate that does not verify ends the replay (exit 29), and the hint names
/// what replay has to fix it (`--tls-ca-path`, `--insecure`), not the REPL's `:starttls --ca`
/// it used to (a command a replay cannot take).
#[test]
fn replay_tls_failure_hint_names_replays_flags() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("tls.ehlo");
    std::fs::write(
        &script,
        "< 220\n> EHLO x.test\n< 250\n> :starttls\n< 220\n> QUIT\n< 221\n",
    )
    .unwrap();
    let server = crate::util::scripted_with(
        vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO x.test"),
            Step::Send(b"250-scripted.test\r\n250 STARTTLS\r\n"),
            Step::Expect("STARTTLS"),
            Step::Send(b"220 go ahead\r\n"),
            Step::Tls,
        ],
        crate::util::test_acceptor(),
    );
    let addr = server.server();
    let run = piped(&["replay", script.to_str().unwrap(), "-s", &addr], "");
    assert_eq!(run.code, 29, "{}", run.all());
    let out = run.all();
    assert!(
        out.contains(
            "use ehlo replay --tls-ca-path FILE if the CA is private, or ehlo replay --insecure"
        ),
        "{out}"
    );
    assert!(!out.contains(":starttls --ca"), "{out}");
    drop(server);
}

/// A TLS 1.3 server refuses the REPL's missing client certificate with an alert after the
/// handshake, which comes with the first read, or waits when the first write in TLS fails on
/// the reset that followed it: either way a TLS failure (exit 29, outcome tls) with the
/// reason in words, never "read failed: error:0A00045C:SSL routines…" and exit 6.
#[test]
fn piped_strict_tls13_client_cert_refusal_is_a_tls_failure() {
    use crate::tlsauth::{alert_then_reset_server, requiring_a_client_cert};
    let script = "EHLO x.test\n:starttls\nEHLO y.test\nQUIT\n";
    // The alert with the read (the server reads on before closing).
    let srv = crate::util::scripted_with(
        vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
            Step::Expect("STARTTLS"),
            Step::Send(b"220 2.0.0 go ahead\r\n"),
            Step::Tls,
        ],
        requiring_a_client_cert(openssl::ssl::SslVersion::TLS1_3),
    );
    let addr = srv.server();
    let run = piped(
        &["repl", &addr, "-k", "--strict", "--timeout", "5", "--json"],
        script,
    );
    drop(srv);
    assert_eq!(run.code, 29, "{}", run.all());
    assert_eq!(summary(&run)["outcome"], "tls", "{}", run.all());
    assert!(run.all().contains("certificate required"), "{}", run.all());
    assert!(!run.all().contains("SSL routines"), "{}", run.all());
    // The alert waiting when the write fails.
    let (addr, server) = alert_then_reset_server();
    let run = piped(
        &[
            "repl",
            &addr.to_string(),
            "-k",
            "--strict",
            "--timeout",
            "5",
        ],
        script,
    );
    server.join().unwrap();
    assert_eq!(run.code, 29, "{}", run.all());
    assert!(run.all().contains("certificate required"), "{}", run.all());
    assert!(!run.all().contains("unexpected EOF"), "{}", run.all());
}

/// Piped, a `:starttls` whose handshake fails ends the run (exit 29) even without `--strict`
/// or `--tls`: the script's next lines were written for TLS, and a man in the middle can break
/// the handshake (220, then a close) to have them sent in clear. It used to connect again in
/// plain text and send them there: here an AUTH PLAIN blob.
#[test]
fn piped_failed_starttls_never_goes_on_in_plain_text() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        // First connection: the go-ahead, then a close instead of a handshake.
        let (mut c, _) = listener.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 4096];
        c.write_all(b"220 x ESMTP\r\n").unwrap();
        let _ = c.read(&mut buf);
        c.write_all(b"250-x\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n")
            .unwrap();
        let _ = c.read(&mut buf);
        c.write_all(b"220 2.0.0 go ahead\r\n").unwrap();
        drop(c);
        // Any later connection is plain text: record what it gets.
        listener.set_nonblocking(true).unwrap();
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < until {
            let Ok((mut c, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            c.set_nonblocking(false).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = c.write_all(b"220 x ESMTP\r\n");
            while let Ok(n) = c.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let got = String::from_utf8_lossy(&buf[..n]).into_owned();
                let _ = tx.send(got.clone());
                let reply: &[u8] = if got.starts_with("QUIT") {
                    b"221 bye\r\n"
                } else {
                    b"250-x\r\n250 AUTH PLAIN\r\n"
                };
                let _ = c.write_all(reply);
            }
        }
    });
    let run = piped(
        &["repl", &addr.to_string(), "-k", "--timeout", "5", "--json"],
        "EHLO x.test\n:starttls\nAUTH PLAIN AGJvYgBzZWNyZXQ=\nQUIT\n",
    );
    std::thread::sleep(Duration::from_millis(200));
    let plain: String = rx.try_iter().collect();
    assert!(
        !plain.contains("AUTH"),
        "sent in plain text: {plain:?}\n{}",
        run.all()
    );
    assert_eq!(run.code, 29, "{}", run.all());
    assert_eq!(summary(&run)["outcome"], "tls", "{}", run.all());
}

/// Piped lines after the server closed the connection: each is said not sent, by name (an
/// AUTH's secret masked), so that the script's reader knows which were lost; it used to be
/// "not connected" once a line, naming none.
#[test]
fn piped_lines_after_a_close_are_each_named_as_not_sent() {
    let server = scripted(ehlo_x_then(vec![Step::Expect("NOOP"), Step::Close]));
    let addr = server.server();
    let script = "EHLO x.test\nNOOP\nMAIL FROM:<a@b.test>\nAUTH PLAIN AGFsaWNlAFNla3IzdA==\n";
    let run = ehlo_with(
        &["repl", &addr],
        Some(script.as_bytes()),
        Duration::from_secs(30),
    );
    assert_eq!(server.finish(), "EHLO x.test\r\nNOOP\r\n", "{}", run.all());
    let out = run.all();
    // A dropped connection with lines left: the run could not finish (exit 6, as the send).
    assert_eq!(run.code, 6, "{out}");
    for said in [
        "not connected: `MAIL FROM:<a@b.test>` not sent (:reconnect or :quit)",
        "not connected: `AUTH PLAIN ********` not sent (:reconnect or :quit)",
    ] {
        assert!(out.contains(said), "{said:?} not in:\n{out}");
    }
    assert!(!out.contains("AGFsaWNlAFNla3IzdA=="), "{out}");
}

/// Piped without `--strict`, the server dropping the connection while the script still has
/// lines to send (here right after EHLO) ends the run as the send ends on it: exit 6, the
/// summary's `outcome` `closed`, the same as `--strict` (the lines left are still each said
/// not sent). It used to exit 0: a script that could not run passed a CI job, while a reply
/// that did not come within `--timeout` already failed it.
#[test]
fn a_piped_run_the_server_dropped_ends_closed_without_strict_too() {
    for strict in [false, true] {
        let server = scripted(ehlo_x_then(vec![Step::Close]));
        let addr = server.server();
        let mut args = vec!["repl", addr.as_str(), "--json"];
        if strict {
            args.push("--strict");
        }
        let run = piped(
            &args,
            "EHLO x.test\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\nQUIT\n",
        );
        server.finish();
        let all = run.all();
        assert_eq!(run.code, 6, "strict {strict}: {all}");
        let s = summary(&run);
        assert_eq!(s["outcome"], "closed", "strict {strict}: {all}");
        assert_eq!(s["exit_code"], 6, "strict {strict}: {all}");
        if !strict {
            assert!(
                all.contains("not connected: `RCPT TO:<c@d.test>` not sent"),
                "{all}"
            );
            assert!(
                all.contains("the server closed the connection while the script had lines to send: the run could not finish (exit 6)"),
                "{all}"
            );
        }
    }
    // A 421 announces its close: a refusal, which leaves the exit code 0 without --strict.
    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO x.test"),
        Step::Send(b"421 4.3.2 going away\r\n"),
        Step::Close,
    ]);
    let addr = server.server();
    let run = piped(
        &["repl", &addr],
        "EHLO x.test\nMAIL FROM:<a@b.test>\nQUIT\n",
    );
    server.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    // A close the script asked for (QUIT, then lines after it) is no drop: exit 0.
    let server = scripted(ehlo_x_then(vec![
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
        Step::Close,
    ]));
    let addr = server.server();
    let run = piped(&["repl", &addr], "EHLO x.test\nQUIT\nNOOP\n");
    server.finish();
    assert_eq!(run.code, 0, "{}", run.all());
}

/// `ehlo repl SERVER args…` with stdin a pipe kept open for `open` (a script still being
/// written), then closed; its exit code, peak resident memory (KiB), stdout and how long it
/// ran.
fn piped_held_open(args: &[&str], open: Duration) -> (i32, u64, String, Duration) {
    piped_held_open_after(args, b"", open)
}

/// [`piped_held_open`], with `script` written to stdin first.
fn piped_held_open_after(
    args: &[&str],
    script: &'static [u8],
    open: Duration,
) -> (i32, u64, String, Duration) {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE");
    crate::util::isolate(&mut cmd);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let t0 = std::time::Instant::now();
    let mut child = cmd.spawn().expect("spawn ehlo");
    let stdin = child.stdin.take().unwrap();
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let holder = std::thread::spawn(move || {
        let mut stdin = stdin;
        let _ = stdin.write_all(script);
        std::thread::sleep(open);
        drop(stdin);
    });
    let (code, peak) = crate::util::wait_sampling(&mut child, open + Duration::from_secs(20));
    let elapsed = t0.elapsed();
    let _ = holder.join();
    (code, peak, reader.join().unwrap(), elapsed)
}

/// Piped, while the script is still being read: a server that repeats `250 unasked` without
/// end. Every reply was shown and kept until the next input, so the transcript and memory grew
/// for as long as the server went on (44 MB of transcript in 6 s, 228 MiB resident in 15 s). The
/// REPL stops reading after 100 in a row and closes the connection; `--strict` ends the run
/// there with the phase's code, without waiting for the rest of the script; without it the
/// run ends with that code once the script is read (it exited 0, as against a good server).
#[test]
fn piped_an_endless_stream_of_unasked_replies_is_cut_after_100() {
    let flood = || {
        scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Flood(b"250 unasked\r\n", Duration::from_secs(30)),
        ])
    };
    let server = flood();
    let addr = server.server();
    let (code, _, out, _) = piped_held_open(&["repl", &addr], Duration::from_secs(2));
    server.finish();
    assert_eq!(code, 21, "{out:.3000}");
    assert!(
        out.contains("server sent 100 replies in a row that nobody asked for; stopped reading"),
        "{out:.3000}"
    );
    assert_eq!(out.matches("<** 250 unasked").count(), 100, "{out:.3000}");

    // --strict: the run ends at once, stdin still open for five seconds more.
    let server = flood();
    let addr = server.server();
    let (code, peak_kib, out, elapsed) = piped_held_open(
        &["repl", &addr, "--strict", "--json"],
        Duration::from_secs(5),
    );
    server.finish();
    assert_eq!(code, 21, "{out:.3000}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB");
    let s = summary(&Run {
        code,
        stdout: out.clone(),
        stderr: String::new(),
        elapsed,
    });
    assert_eq!(s["exit_code"], 21, "{s}");
    assert!(
        s["error"]
            .as_str()
            .is_some_and(|e| e
                .contains("banner: the server sent 100 replies in a row that nobody asked for")),
        "{s}"
    );
    assert!(
        out.contains(r#""kind":"unsolicited_flood","replies":100"#),
        "{out:.3000}"
    );
}

/// A flood that starts after a NOOP's reply ends the run with 36, the code of a reply to a
/// command in no phase, and `unexpected_reply` with or without --strict: it exited 6, the code
/// of a server that closed the connection, while it was ehlo that stopped reading.
#[test]
fn piped_a_flood_after_a_noop_exits_36_not_6() {
    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Line,
        Step::Send(b"250 scripted.test\r\n"),
        Step::Line,
        Step::Send(b"250 2.0.0 Ok\r\n"),
        Step::Flood(b"250 unasked\r\n", Duration::from_secs(30)),
    ]);
    let addr = server.server();
    let (code, _, out, elapsed) = piped_held_open_after(
        &["repl", &addr, "--strict", "--json"],
        b"EHLO x\nNOOP\n",
        Duration::from_secs(5),
    );
    server.finish();
    assert_eq!(code, 36, "{out:.3000}");
    let s = summary(&Run {
        code,
        stdout: out,
        stderr: String::new(),
        elapsed,
    });
    assert_eq!(s["exit_code"], 36, "{s}");
    // The outcome is the one the same run without --strict ends with (it was `strict`, the
    // label of a step that could not run as written).
    assert_eq!(s["outcome"], "unexpected_reply", "{s}");
}

/// A mismatch exits with the code `ehlo replay --help` gives its command: QUIT 27 (the help
/// left QUIT out, so "36 for any other command" read as QUIT's), NOOP 36; and the help names
/// both, with the `:auth` that has no secret among the steps that exit 1.
#[test]
fn replay_mismatch_codes_are_the_ones_its_help_lists() {
    let help = ehlo(&["replay", "--help"]);
    let text = help.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for words in [
        "QUIT 27",
        "36 for any other command: NOOP",
        "an :auth with no secret",
    ] {
        assert!(
            text.contains(words),
            "`{words}` not in ehlo replay --help:\n{text}"
        );
    }
    for (verb, reply, code) in [
        ("QUIT", &b"221 bye\r\n"[..], 27),
        ("NOOP", &b"250 ok\r\n"[..], 36),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("s.ehlo");
        std::fs::write(&script, format!("< 220\n> {verb}\n< 251\n")).unwrap();
        let server = scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect(verb),
            Step::Send(reply),
        ]);
        let addr = server.server();
        let run = piped(&["replay", script.to_str().unwrap(), "-s", &addr], "");
        assert_eq!(run.code, code, "{verb}: {}", run.all());
        server.finish();
    }
}

/// Piped, the server sends 421 and closes right after its 354: the message lines that follow
/// in the script were read as commands — each refused as "a password typed at the wrong
/// prompt?" (not named, the wrong reason) and a `NOOP …` body line as a command not sent. Now
/// each line up to the lone "." is said to be the message's, unsent, and the line after it is
/// a command again.
#[test]
fn piped_message_lines_after_a_close_inside_data_are_said_to_be_the_messages() {
    let server = scripted(ehlo_x_then(vec![
        Step::Expect("MAIL FROM:<a@b.test>"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT TO:<c@d.test>"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go ahead\r\n421 4.3.0 going away\r\n"),
        Step::Close,
    ]));
    let addr = server.server();
    let script = "EHLO x.test\nMAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\nDATA\nSubject: x\n\nhunter body\nNOOP in the body\n.\nNOOP\n";
    let run = ehlo_with(
        &["repl", &addr],
        Some(script.as_bytes()),
        Duration::from_secs(30),
    );
    assert_eq!(
        server.finish(),
        "EHLO x.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n",
        "{}",
        run.all()
    );
    let out = run.all();
    let line = "not connected: a line of the message not sent (the connection closed inside DATA; the message was not delivered)";
    assert_eq!(out.matches(line).count(), 4, "{out}");
    assert_eq!(
        out.matches("not connected: the message's final \".\" not sent")
            .count(),
        1,
        "{out}"
    );
    assert!(
        out.contains("not connected: `NOOP` not sent (:reconnect or :quit)"),
        "{out}"
    );
    assert!(!out.contains("no SMTP verb"), "{out}");
    assert!(!out.contains("NOOP in the body"), "{out}");
    // A 421 announced the close: a refusal, an answer without --strict (exit 0), no drop.
    assert_eq!(run.code, 0, "{out}");
}

/// Piped, a `:data` after the server closed: its message lines were read as commands (refused
/// as a password typed at the wrong prompt, a `RSET` body line "not sent" as a command). Now
/// the message is read to its "." as when connected and said not sent with it.
#[test]
fn piped_data_after_a_close_takes_its_message_with_it() {
    let server = scripted(ehlo_x_then(vec![
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
        Step::Close,
    ]));
    let addr = server.server();
    let script = "EHLO x.test\nQUIT\n:data\nSubject: x\n\nRSET\n.\nNOOP\n";
    let run = ehlo_with(
        &["repl", &addr],
        Some(script.as_bytes()),
        Duration::from_secs(30),
    );
    assert_eq!(server.finish(), "EHLO x.test\r\nQUIT\r\n", "{}", run.all());
    let out = run.all();
    assert!(
        out.contains("not connected: `:data` and its message (3 lines) not sent"),
        "{out}"
    );
    assert!(
        out.contains("not connected: `NOOP` not sent (:reconnect or :quit)"),
        "{out}"
    );
    assert!(!out.contains("no SMTP verb"), "{out}");
    assert!(!out.contains("`RSET`"), "{out}");
    // The script asked for the close (QUIT answered 221): its lines after it are no drop.
    assert_eq!(run.code, 0, "{out}");
}

/// `replay` of a script edited by hand: a line with a bare CR inside (`NOOP a<CR>RSET`, what
/// SMTP smuggling sends) or bytes that are not UTF-8 is refused before connecting, naming the
/// line (exit 1). The bare CR used to reach the server inside the command line, and the
/// non-UTF-8 script was refused without saying where ("stream did not contain valid UTF-8").
#[test]
fn replay_refuses_a_bare_cr_or_non_utf8_line_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    for (bytes, said) in [
        (
            &b"< 220\n> NOOP a\rRSET\n< 250\n"[..],
            "line 2: a bare CR inside the line (byte 9)",
        ),
        (
            &b"< 220\n> NOOP\n< 250\n> NOOP \xff\n< 250\n"[..],
            "line 4: not UTF-8 (byte 8 of the line, 0xff)",
        ),
        // A line to send longer than the 1 MiB the REPL takes from a pipe: it used to go out
        // whole, a 2 MB NOOP as one command line.
        (
            &format!("< 220\n> NOOP {}\n< 250\n", "a".repeat(2_000_000)).into_bytes()[..],
            "line 2: a line of 2 000 005 bytes to send, longer than the 1 MiB",
        ),
    ] {
        let script = dir.path().join("edited.ehlo");
        std::fs::write(&script, bytes).unwrap();
        let run = piped(&["replay", script.to_str().unwrap(), "-s", &addr], "");
        assert_eq!(run.code, 1, "{}", run.all());
        assert!(run.all().contains(said), "{}", run.all());
        let accepted = listener.accept();
        assert!(
            accepted
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
            "replay connected: {accepted:?}"
        );
    }
}

/// A recording that goes to TLS with `:starttls`, then MAIL and QUIT (`tls.ehlo` in `dir`).
fn starttls_recording(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let script = dir.path().join("tls.ehlo");
    std::fs::write(
        &script,
        "< 220\n> EHLO x.test\n< 250\n> :starttls\n< 220\n> MAIL FROM:<a@b.test>\n< 250\n> QUIT\n< 221\n",
    )
    .unwrap();
    script
}

/// `replay` of a recording edited by hand with a meta-command the REPL does not take (a typo:
/// `:startls`): the step fails with exit 1, its line and reason named, and nothing after it
/// is sent (`--keep-going` lists it as a mismatch and exits 1). It used to be said and passed
/// over: with no reply recorded after it, "every reply as recorded", exit 0.
#[test]
fn replay_fails_on_a_meta_command_the_repl_does_not_take() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("typo.ehlo");
    std::fs::write(
        &script,
        "< 220\n> EHLO x.test\n< 250\n> :startls\n> NOOP\n< 250\n",
    )
    .unwrap();
    for keep_going in [false, true] {
        let server = scripted(ehlo_x_then(vec![
            Step::Line,
            Step::Send(b"250 2.0.0 ok\r\n"),
            Step::Line,
            Step::Send(b"221 2.0.0 bye\r\n"),
        ]));
        let addr = server.server();
        let mut args = vec!["replay", script.to_str().unwrap(), "-s", addr.as_str()];
        if keep_going {
            args.push("--keep-going");
        }
        let run = piped(&args, "");
        let got = server.finish();
        assert_eq!(run.code, 1, "{}", run.all());
        assert!(
            run.all()
                .contains("line 4: `:startls` was not run: unknown meta-command :startls"),
            "{}",
            run.all()
        );
        assert!(
            !run.all().contains("every reply as recorded"),
            "{}",
            run.all()
        );
        // Without --keep-going the run ends there: the NOOP after it is not sent.
        assert_eq!(got.contains("NOOP"), keep_going, "{got:?}\n{}", run.all());
    }
}

/// `replay --json` of a step refused before anything was sent: the summary's `error` names the
/// step's line, as the `error` event before it does. It said "`> :startls` failed before
/// sending anything (the error above)", or "`:record x` is refused…", without one.
#[test]
fn replay_summary_error_of_a_refused_step_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("refused.ehlo");
    for step in ["> :startls\n< 220\n", "> :record x\n"] {
        std::fs::write(&script, format!("< 220\n> EHLO x.test\n< 250\n{step}")).unwrap();
        let server = scripted(ehlo_x_then(vec![Step::Line, Step::Send(b"221 bye\r\n")]));
        let addr = server.server();
        let run = piped(
            &["replay", script.to_str().unwrap(), "-s", &addr, "--json"],
            "",
        );
        server.finish();
        assert_eq!(run.code, 1, "{}", run.all());
        let s = summary(&run);
        let error = s["error"].as_str().unwrap_or_default();
        assert!(error.starts_with("replay: line 4: `"), "{step:?}: {s}");
        assert!(
            run.stdout
                .contains(r#"{"type":"error","data":{"message":"replay: line 4: `"#),
            "{}",
            run.stdout
        );
    }
}

/// A recording whose last line has no newline (`:record` ends every line: the file was cut,
/// or written by hand): a cut line to send is refused naming it, nothing sent (`> EHLO x.te`
/// went out as it was); a last reply line is checked and a warning names it (it passed in
/// silence, the steps after it lost).
#[test]
fn replay_of_a_file_cut_inside_its_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("cut.ehlo");
    std::fs::write(&script, "< 220\n> EHLO x.test\n< 250\n> EHLO x.te").unwrap();
    let run = piped(
        &["replay", script.to_str().unwrap(), "-s", "127.0.0.1:1"],
        "",
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr
            .contains(r#"line 4: the file ends inside "> EHLO x.te" (no newline after it)"#),
        "{}",
        run.all()
    );
    std::fs::write(&script, "< 220\n> EHLO x.test\n< 250").unwrap();
    for json in [false, true] {
        let server = scripted(ehlo_x_then(vec![Step::Line, Step::Send(b"221 bye\r\n")]));
        let addr = server.server();
        let mut args = vec!["replay", script.to_str().unwrap(), "-s", addr.as_str()];
        if json {
            args.push("--json");
        }
        let run = piped(&args, "");
        server.finish();
        assert_eq!(run.code, 0, "{}", run.all());
        let warning = r#"replay: line 3: the file ends without a newline after \"< 250\""#;
        let warning = if json {
            format!(r#"{{"type":"warning","data":{{"message":"{warning}"#)
        } else {
            warning.replace('\\', "")
        };
        assert!(run.all().contains(&warning), "{warning}\n{}", run.all());
    }
}

/// `replay` of a `:reconnect` to an address that does not parse (a port past 65535): the step
/// fails, exit 1, the reason said, nothing after it sent. It used to be said and passed over:
/// "every reply as recorded", exit 0.
#[test]
fn replay_fails_on_a_reconnect_to_a_bad_address() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("reconnect.ehlo");
    std::fs::write(
        &script,
        "< 220\n> :reconnect nowhere.test:99999\n> NOOP\n< 250\n",
    )
    .unwrap();
    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Line,
        Step::Send(b"250 2.0.0 ok\r\n"),
        Step::Line,
        Step::Send(b"221 2.0.0 bye\r\n"),
    ]);
    let addr = server.server();
    let run = piped(&["replay", script.to_str().unwrap(), "-s", &addr], "");
    let got = server.finish();
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.all().contains("'99999' is not a port"), "{}", run.all());
    assert!(!got.contains("NOOP"), "{got:?}\n{}", run.all());
}

/// `replay --keep-going` of a line the REPL refuses as no command (a password at the wrong
/// prompt): its row neither repeats the line nor shows the banner's 220 as what it drew. It
/// used to read `2  hunter9  500  220, then failed`.
#[test]
fn replay_keep_going_row_of_a_refused_line_neither_repeats_it_nor_takes_the_banner() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("pw.ehlo");
    std::fs::write(&script, "< 220\n> hunter9\n< 500\n> QUIT\n< 221\n").unwrap();
    let server = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 2.0.0 bye\r\n"),
    ]);
    let addr = server.server();
    let run = piped(
        &[
            "replay",
            script.to_str().unwrap(),
            "-s",
            &addr,
            "--keep-going",
        ],
        "",
    );
    server.finish();
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(!run.all().contains("hunter9"), "{}", run.all());
    assert!(!run.all().contains("220, then failed"), "{}", run.all());
    assert!(run.all().contains("(not sent)"), "{}", run.all());
}

/// `replay` of an empty file, or one of comments only (a recording cut to nothing, the wrong
/// file): refused before connecting, exit 1, naming why. It used to connect, check nothing and
/// pass: "0 steps, every reply as recorded", exit 0.
#[test]
fn replay_refuses_a_script_that_checks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("empty.ehlo", ""),
        ("comments.ehlo", "# ehlo recording\n\n# x\n"),
    ] {
        let script = dir.path().join(name);
        std::fs::write(&script, text).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let run = piped(&["replay", script.to_str().unwrap(), "-s", &addr], "");
        assert_eq!(run.code, 1, "{}", run.all());
        assert!(
            run.all().contains("holds no step and no reply"),
            "{}",
            run.all()
        );
        assert!(listener.accept().is_err(), "connected: {}", run.all());
    }
}

/// A replay script that is a FIFO nobody writes is given up within `--timeout`, and within
/// `--deadline`, which counts the reading of the script too: one line, exit 1, nothing
/// connected to (a tripwire listener sees no connection). Its `open(2)` waited for a writer
/// for ever, past both limits. A directory is refused by what it is.
#[test]
fn replay_of_a_fifo_nobody_writes_is_given_up_within_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("script.ehlo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let trip = crate::util::tripwire();
    let server = trip.local_addr().unwrap().to_string();
    let fifo = fifo.to_str().unwrap();
    for (limits, said) in [
        (
            ["--timeout", "1s", "--deadline", "0"],
            format!(
                "cannot read {fifo}: nothing came from this FIFO within 1s (--timeout): does \
                 anything write it? The script was not read to its end (nothing was sent)"
            ),
        ),
        (
            ["--timeout", "0", "--deadline", "1s"],
            format!("cannot read {fifo}: --deadline 1s reached: nothing came from this FIFO: "),
        ),
    ] {
        let mut args = vec!["replay", fifo, "--server", &server, "--json"];
        args.extend(limits);
        let run = ehlo_with(&args, Some(b""), Duration::from_secs(20));
        assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
        assert_eq!(run.code, 1, "{}", run.all());
        let s = summary(&run);
        assert_eq!(s["outcome"], "usage", "{s}");
        assert!(
            s["error"].as_str().unwrap().starts_with(&said),
            "{limits:?}: {s}"
        );
    }
    let run = ehlo(&["replay", dir.path().to_str().unwrap(), "--server", &server]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("is a directory, not a recording file"),
        "{}",
        run.all()
    );
    trip.set_nonblocking(true).unwrap();
    assert!(trip.accept().is_err(), "nothing connects");
}

/// A piped `:data` of three lines (`--timeout 1`, `extra` after it) to a server that leaves
/// DATA unanswered until the script's NOOP has gone out, then sends a late 354: the run and
/// the server, to read what it received.
fn late_354_after_noop(extra: &[&str]) -> (Run, Scripted) {
    let server = scripted(ehlo_x_then(vec![
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("DATA"),
        Step::Expect("NOOP"),
        Step::Send(b"354 go ahead\r\n"),
        Step::Sleep(Duration::from_secs(2)),
    ]));
    let addr = server.server();
    let mut args = vec!["repl", addr.as_str(), "--timeout", "1"];
    args.extend_from_slice(extra);
    let script =
        "EHLO x.test\nMAIL FROM:<a@x.test>\nRCPT TO:<b@x.test>\n:data\none\ntwo\nthree\n.\nNOOP\n";
    (piped(&args, script), server)
}

/// A DATA left unanswered past the timeout, then another line sent, then a late 354: the
/// held `:data` message must not follow, since the server takes every line after its 354
/// (the NOOP too) as content (RFC 5321 §4.1.1.4). Once a line goes out over the unanswered
/// DATA the message is dropped and said not sent; the late 354 is just a reply.
#[test]
fn a_data_message_is_not_sent_after_a_late_354_once_another_line_went_out() {
    let (run, server) = late_354_after_noop(&[]);
    let out = run.all();
    let said = "the message (3 lines) was not sent";
    assert_eq!(out.matches(said).count(), 1, "{said:?} once in:\n{out}");
    assert!(!out.contains("-> one"), "{out}");
    let got = server.finish();
    assert!(!got.contains("one\r\n"), "{got:?}");
}

/// The same under `--json`: every line is one JSON event; the dropped message is one
/// `warning`, the late 354 one `received` reply (after an `info` naming the late reply), and
/// what the 354 means for the lines after it one event of its own, in that order.
#[test]
fn a_data_message_dropped_after_a_late_354_is_said_in_json_events() {
    let (run, server) = late_354_after_noop(&["--json"]);
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}\n{}", run.all())))
        .collect();
    let all = run.all();
    let of = |kind: &str, has: &str| -> Vec<usize> {
        (0..events.len())
            .filter(|&i| {
                events[i]["type"] == kind
                    && events[i]["data"]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains(has))
            })
            .collect()
    };
    let dropped = of("warning", "the message (3 lines) was not sent");
    assert_eq!(dropped.len(), 1, "{all}");
    let late = of("info", "late reply to `:data`");
    assert_eq!(late.len(), 1, "{all}");
    let replies: Vec<usize> = (0..events.len())
        .filter(|&i| events[i]["type"] == "received" && events[i]["data"]["reply"]["code"] == 354)
        .collect();
    assert_eq!(replies.len(), 1, "{all}");
    assert_eq!(events[replies[0]]["data"]["phase"], "data", "{all}");
    let content = of(
        "info",
        "DATA was answered with 354 after the message was dropped",
    );
    assert_eq!(content.len(), 1, "{all}");
    assert!(
        dropped[0] < late[0] && late[0] < replies[0] && replies[0] < content[0],
        "{all}"
    );
    // Nothing of the message went out, and nothing was said outside the events.
    assert!(
        !events
            .iter()
            .any(|e| e["type"] == "sent" && e["data"]["kind"] == "body"),
        "{all}"
    );
    assert!(!run.stderr.contains("was not sent"), "{all}");
    assert!(!server.finish().contains("one\r\n"));
}
