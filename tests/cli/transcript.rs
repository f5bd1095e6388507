//! The annotated transcript against hostile or odd servers: hints, explanations, deviations,
//! bounded memory and time, STARTTLS injection, and secrets that never print.

use std::time::Duration;

use base64::Engine;

use crate::util::*;

#[test]
fn hints_and_explanations_in_a_refused_recipient() {
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL"),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Expect("RCPT"),
        Step::Send(b"550 5.1.1 <rcpt@scripted.test>: Recipient address rejected: User unknown\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 2.0.0 Bye\r\n"),
    ]));
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 24);
    let out = &run.stdout;
    assert!(out.contains(" -> MAIL FROM:<sender@client.test>"), "{out}");
    assert!(out.contains("<-  250 2.1.0 Ok"), "{out}");
    assert!(out.contains("<** 550 5.1.1 <rcpt@scripted.test>"), "{out}");
    assert!(out.contains("5.1.1"), "{out}");
    // The explanation names the registry meaning of 5.1.1.
    assert!(
        out.to_lowercase()
            .contains("bad destination mailbox address"),
        "{out}"
    );
}

#[test]
fn bare_lf_replies_work_and_are_reported() {
    let srv = scripted(vec![
        Step::Send(b"220 lf.test ESMTP\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-lf.test\n250 8BITMIME\n"),
        Step::Expect("MAIL"),
        Step::Send(b"250 ok\n"),
        Step::Expect("RCPT"),
        Step::Send(b"250 ok\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\n"),
        Step::Data,
        Step::Send(b"250 queued\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\n"),
    ]);
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all().to_lowercase().contains("bare lf"),
        "{}",
        run.all()
    );
}

#[test]
fn mixed_multiline_codes_are_reported_not_fatal() {
    let srv = scripted(vec![
        Step::Send(b"220 x\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-x\r\n251-PIPELINING\r\n250 8BITMIME\r\n"),
        Step::Expect("MAIL"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\r\n"),
        Step::Data,
        Step::Send(b"250 ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let run = send(&srv, &["--explain", "all"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.all().contains("251"), "{}", run.all());
    assert!(run.all().to_lowercase().contains("code"), "{}", run.all());
}

#[test]
fn a_huge_line_without_crlf_neither_hangs_nor_floods() {
    let srv = scripted(vec![
        Step::SendOwned(vec![b'A'; 100 * 1024]),
        Step::Sleep(Duration::from_secs(3)),
    ]);
    let run = send(&srv, &["--timeout", "1"]);
    srv.finish();
    assert_eq!(run.code, 21, "{}", run.all());
    assert!(run.elapsed < Duration::from_secs(3));
    assert!(
        run.stdout.len() < 32 * 1024,
        "output bounded: {} bytes",
        run.stdout.len()
    );
}

#[test]
fn a_trickling_server_is_waited_for_within_the_reply_timeout() {
    let mut steps = vec![Step::Trickle(
        b"220 slow.test ESMTP\r\n",
        Duration::from_millis(60),
    )];
    steps.extend(vec![Step::Expect("EHLO"), Step::Send(b"250 slow.test\r\n")]);
    steps.extend(accept_all());
    let srv = scripted(steps);
    let run = send(&srv, &["--timeout", "5"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());

    // The same trickle with a shorter per-reply deadline times out in the banner.
    let srv = scripted(vec![Step::Trickle(
        b"220 slow.test ESMTP and a long greeting text\r\n",
        Duration::from_millis(100),
    )]);
    let run = send(&srv, &["--timeout", "1"]);
    assert_eq!(run.code, 21, "{}", run.all());
    assert!(run.elapsed < Duration::from_secs(3), "{:?}", run.elapsed);
    drop(srv);
}

#[test]
fn bytes_after_the_starttls_220_are_flagged_and_discarded() {
    let srv = scripted(vec![
        Step::Send(b"220 x\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
        Step::Expect("STARTTLS"),
        Step::Send(b"220 2.0.0 Ready to start TLS\r\n250-injected.test\r\n250 AUTH PLAIN\r\n"),
        Step::Tls,
        Step::Expect("EHLO"),
        Step::Send(b"250 x\r\n"),
        Step::Expect("MAIL"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\r\n"),
        Step::Data,
        Step::Send(b"250 ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let run = send(&srv, &["--tls", "--insecure"]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all().to_lowercase().contains("injection"),
        "{}",
        run.all()
    );
    assert_eq!(
        got.matches("EHLO").count(),
        2,
        "EHLO again after TLS: {got}"
    );
    assert!(
        run.stdout.contains(" ~> MAIL FROM:"),
        "TLS hints: {}",
        run.stdout
    );
}

#[test]
fn secrets_never_print_in_any_output_mode() {
    let password = "s3cret-Pa55word";
    let plain_b64 = base64::engine::general_purpose::STANDARD.encode(format!("\0user\0{password}"));
    let pw_b64 = base64::engine::general_purpose::STANDARD.encode(password);
    for mode in [
        &[][..],
        &["--json"][..],
        &["--show-raw-text"][..],
        &["--json", "--show-raw-text"][..],
        &["--auth-plaintext"][..],
    ] {
        let mut steps = vec![
            Step::Send(b"220 x\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 AUTH PLAIN LOGIN\r\n"),
            Step::Expect("AUTH PLAIN "),
            Step::Send(b"235 2.7.0 Authentication successful\r\n"),
        ];
        steps.extend(accept_all());
        let srv = scripted(steps);
        let mut args = vec![
            "--auth",
            "PLAIN",
            "--auth-user",
            "user",
            "--auth-password",
            password,
            "--allow-plaintext-auth",
        ];
        args.extend_from_slice(mode);
        let run = send(&srv, &args);
        let got = srv.finish();
        assert_eq!(run.code, 0, "{mode:?}: {}", run.all());
        assert!(
            got.contains(&plain_b64),
            "the server did get the credentials"
        );
        let all = run.all();
        for secret in [password, plain_b64.as_str(), pw_b64.as_str()] {
            assert!(!all.contains(secret), "{mode:?} leaked {secret}: {all}");
        }
    }
}

#[test]
fn tls_bytes_instead_of_a_banner_suggest_tls_on_connect() {
    // A TLS alert record (protocol_version), then silence: what some implicit-TLS servers send
    // when a client speaks first in plain text; and a bare handshake record.
    for bytes in [
        &b"\x15\x03\x03\x00\x02\x02\x46"[..],
        &b"\x16\x03\x01\x00\x2a\x02\x00\x00\x26\x03\x03"[..],
    ] {
        let srv = scripted(vec![
            Step::SendOwned(bytes.to_vec()),
            Step::Sleep(Duration::from_secs(3)),
        ]);
        let run = send(&srv, &["--timeout", "2"]);
        drop(srv);
        assert_eq!(run.code, 21, "{}", run.all());
        assert!(
            run.stdout
                .contains("this port speaks implicit TLS: try --tls-on-connect"),
            "{}",
            run.all()
        );
        // Diagnosed from the first bytes, not after the 2 s reply timeout.
        assert!(run.elapsed < Duration::from_secs(2), "{:?}", run.elapsed);
    }
}

/// Every output mode, for LOGIN and XOAUTH2, on success and on refusal (so error messages and
/// the XOAUTH2 error challenge are covered): neither the secret nor any base64 form of what
/// carried it may appear. The decoded error challenge must appear.
#[test]
fn login_and_xoauth2_secrets_never_print() {
    let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let password = "L0gin-Pa55-word";
    let token = "ya29.T0ken-Value-XYZ";
    let xoauth2_ir = format!("user=user\x01auth=Bearer {token}\x01\x01");
    let json_err = r#"{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}"#;
    let login = |ok: bool| {
        let mut v = vec![
            Step::Send(b"220 x\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 AUTH LOGIN XOAUTH2\r\n"),
            Step::Expect("AUTH LOGIN"),
            Step::Send(b"334 VXNlcm5hbWU6\r\n"),
            Step::Line,
            Step::Send(b"334 UGFzc3dvcmQ6\r\n"),
            Step::Line,
        ];
        v.extend(if ok {
            let mut w = vec![Step::Send(b"235 2.7.0 ok\r\n")];
            w.extend(accept_all());
            w
        } else {
            vec![
                Step::Send(b"535 5.7.8 Authentication credentials invalid\r\n"),
                Step::Expect("QUIT"),
                Step::Send(b"221 bye\r\n"),
            ]
        });
        v
    };
    let xoauth2 = |ok: bool| {
        let mut v = vec![
            Step::Send(b"220 x\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 AUTH LOGIN XOAUTH2\r\n"),
            Step::Expect("AUTH XOAUTH2 "),
        ];
        v.extend(if ok {
            let mut w = vec![Step::Send(b"235 2.7.0 ok\r\n")];
            w.extend(accept_all());
            w
        } else {
            vec![
                Step::SendOwned(format!("334 {}\r\n", enc(json_err)).into_bytes()),
                Step::Line,
                Step::Send(b"535 5.7.8 Username and Password not accepted\r\n"),
                Step::Expect("QUIT"),
                Step::Send(b"221 bye\r\n"),
            ]
        });
        v
    };
    let login_forms = [password.to_string(), enc(password)];
    let token_forms = [token.to_string(), enc(token), enc(&xoauth2_ir)];
    for ok in [true, false] {
        for mode in [
            &[][..],
            &["--json"][..],
            &["--show-raw-text"][..],
            &["--json", "--show-raw-text"][..],
            &["--auth-plaintext"][..],
        ] {
            for (mech, steps, secret_args, forms) in [
                (
                    "LOGIN",
                    login(ok),
                    ["--auth-password", password],
                    &login_forms[..],
                ),
                (
                    "XOAUTH2",
                    xoauth2(ok),
                    ["--auth-oauth-token", token],
                    &token_forms[..],
                ),
            ] {
                let srv = scripted(steps);
                let mut args = vec![
                    "--auth",
                    mech,
                    "--auth-user",
                    "user",
                    "--allow-plaintext-auth",
                ];
                args.extend_from_slice(&secret_args);
                args.extend_from_slice(mode);
                let run = send(&srv, &args);
                let got = srv.finish();
                let what = format!("{mech} ok={ok} {mode:?}");
                assert_eq!(run.code, if ok { 0 } else { 28 }, "{what}: {}", run.all());
                assert!(
                    got.contains(&forms[1]) || got.contains(&forms[forms.len() - 1]),
                    "{what}: the server did get the secret: {got}"
                );
                let all = run.all();
                for secret in forms {
                    assert!(
                        !all.contains(secret.as_str()),
                        "{what} leaked {secret}: {all}"
                    );
                }
                if mech == "XOAUTH2" && !ok {
                    // The JSON error challenge is shown decoded (JSON output escapes quotes).
                    assert!(
                        all.contains(r#""status":"401""#) || all.contains(r#"\"status\":\"401\""#),
                        "{what}: decoded error challenge missing: {all}"
                    );
                }
            }
        }
    }
}

/// swaks's --hide-* and --no-*-hints (and their short forms), and --output-file*: the transcript
/// of a refused recipient, shaped and sent where the user asked.
#[test]
fn hide_hint_and_output_file_options() {
    let refused = || {
        scripted(after_greet(vec![
            Step::Expect("MAIL"),
            Step::Send(b"250 2.1.0 Ok\r\n"),
            Step::Expect("RCPT"),
            Step::Send(b"550 5.1.1 unknown\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 2.0.0 Bye\r\n"),
        ]))
    };
    let srv = refused();
    let run = send(&srv, &["-hr", "-nsh"]);
    assert_eq!(run.code, 24, "{}", run.all());
    assert!(
        !run.stdout.contains("<-") && !run.stdout.contains("550"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\nRCPT TO:<rcpt@scripted.test>\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("=== Connected"), "{}", run.stdout);

    let srv = refused();
    let run = send(&srv, &["--hide-all"]);
    assert_eq!(run.code, 24, "{}", run.all());
    assert_eq!(run.all(), "");

    let srv = refused();
    let run = send(&srv, &["-hs", "-hi", "-nrh"]);
    assert_eq!(run.code, 24, "{}", run.all());
    assert!(
        !run.stdout.contains("===") && !run.stdout.contains("RCPT"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\n550 5.1.1 unknown\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("***"),
        "errors stay with -hi: {}",
        run.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    let both = dir.path().join("both.txt");
    // Appended to, as swaks does (`>>`): an earlier run's lines stay, first.
    std::fs::write(&both, "an earlier run's line\n").unwrap();
    let srv = refused();
    let run = send(&srv, &["--output-file", both.to_str().unwrap()]);
    assert_eq!(run.code, 24);
    assert_eq!(run.all(), "", "everything went to the file");
    let text = std::fs::read_to_string(&both).unwrap();
    assert!(text.starts_with("an earlier run's line\n=== "), "{text}");
    assert!(text.contains("<** 550 5.1.1 unknown"), "{text}");
    assert!(
        text.contains("*** "),
        "stderr's lines are in the same file: {text}"
    );

    let out = dir.path().join("out.txt");
    let srv = refused();
    let run = send(&srv, &["--output-file-stdout", out.to_str().unwrap()]);
    assert_eq!(run.code, 24);
    assert!(
        run.stdout.is_empty() && run.stderr.contains("***"),
        "{}",
        run.all()
    );
    assert!(std::fs::read_to_string(&out).unwrap().contains(" -> QUIT"));

    let err = dir.path().join("err.txt");
    let srv = refused();
    let run = send(&srv, &["--output-file-stderr", err.to_str().unwrap()]);
    assert_eq!(run.code, 24);
    assert!(
        run.stderr.is_empty() && run.stdout.contains(" -> QUIT"),
        "{}",
        run.all()
    );
    assert!(std::fs::read_to_string(&err).unwrap().contains("*** "));

    let run = ehlo(&[
        "-s",
        "127.0.0.1:9",
        "-t",
        "a@b.test",
        "--output-file",
        "/nonexistent/dir/x",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("/nonexistent/dir/x"), "{}", run.stderr);
}

/// A reply byte that is not UTF-8 reads the same in the transcript and in the summary lines
/// that quote the reply (`\xFF` in both; the summary once showed U+FFFD where the transcript
/// showed `\xFF`).
#[test]
fn a_byte_that_is_not_utf8_is_shown_alike_in_transcript_and_summary() {
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"550 5.1.1 no \xff user\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 2.0.0 Bye\r\n"),
    ]));
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 24, "{}", run.all());
    let all = run.all();
    assert!(!all.contains('\u{fffd}'), "{all}");
    assert!(
        run.stdout.contains("<** 550 5.1.1 no \\xFF user\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("no recipient was accepted (last: 550 5.1.1 no \\xFF user)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("<rcpt@scripted.test> rejected (550 5.1.1 no \\xFF user)"),
        "{}",
        run.stderr
    );
}
