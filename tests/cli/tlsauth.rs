//! AUTH secrets and TLS in depth, end to end against the scripted server: secret sources,
//! the plaintext-AUTH guard (before connecting, and when an optional STARTTLS left the
//! connection clear), AUTH exchanges a hostile server ends its own way, `--tls-protocol`,
//! client certificates, peer certificate dumps and mode confusion (a plain port used with
//! `--tls-on-connect`).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use openssl::ssl::{SslVerifyMode, SslVersion};

use crate::util::*;

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Banner, EHLO offering STARTTLS, STARTTLS, handshake, EHLO again offering `auth`.
fn starttls_then(ehlo2: &'static [u8], more: Vec<Step>) -> Vec<Step> {
    let mut v = vec![
        Step::Send(b"220 x ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
        Step::Expect("STARTTLS"),
        Step::Send(b"220 2.0.0 go ahead\r\n"),
        Step::Tls,
        Step::Expect("EHLO"),
        Step::Send(ehlo2),
    ];
    v.extend(more);
    v
}

#[test]
fn auth_over_plaintext_is_refused_without_a_terminal() {
    // No server needed: the guard fires before connecting.
    let run = ehlo(&[
        "-s",
        "127.0.0.1:9",
        "-t",
        "a@b.test",
        "-a",
        "--au",
        "u",
        "--ap",
        "pw",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("--allow-plaintext-auth") && run.stderr.contains("--tls"),
        "{}",
        run.all()
    );
    assert!(
        !run.all().contains("Trying"),
        "must not connect: {}",
        run.all()
    );
}

/// `--tls-optional`/`--tls-optional-strict` against a server without STARTTLS: the connection
/// stays clear, so AUTH is refused when it is about to start (same words and exit code as the
/// refusal before connecting) and no credential reaches the server, unless
/// `--allow-plaintext-auth`.
#[test]
fn optional_tls_that_did_not_happen_does_not_let_auth_go_out_in_the_clear() {
    for flag in ["--tls-optional", "--tls-optional-strict"] {
        let srv = scripted(vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 AUTH PLAIN LOGIN\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let run = send(&srv, &[flag, "-a", "PLAIN", "--au", "u", "--ap", "pw-x7"]);
        let got = srv.finish();
        assert_eq!(run.code, 1, "{flag}: {}", run.all());
        assert!(
            run.all().contains(
                "AUTH without TLS would send the credentials unencrypted: add --tls (STARTTLS) \
                 or --tls-on-connect, or --allow-plaintext-auth to send them anyway"
            ),
            "{flag}: {}",
            run.all()
        );
        assert!(!got.contains("AUTH"), "{flag}: the server got {got:?}");
        // Allowed by the flag: AUTH goes out, with the warning.
        let srv = scripted(vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 AUTH PLAIN LOGIN\r\n"),
            Step::Expect("AUTH PLAIN"),
            Step::Send(b"235 2.7.0 ok\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let run = send(
            &srv,
            &[
                flag,
                "--allow-plaintext-auth",
                "-a",
                "PLAIN",
                "--au",
                "u",
                "--ap",
                "pw-x7",
                "-q",
                "auth",
            ],
        );
        srv.finish();
        assert_eq!(run.code, 0, "{flag}: {}", run.all());
        assert!(
            run.all().contains("AUTH over an unencrypted connection"),
            "{}",
            run.all()
        );
        assert!(!run.all().contains("pw-x7"), "{}", run.all());
    }
}

/// `ehlo` with `args` on a pseudo-terminal (`script -qec`), stdio piped, no colour, the
/// environment isolated.
fn on_a_terminal(args: &[String]) -> std::process::Command {
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_ehlo").to_string())
        .chain(args.iter().cloned())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &quoted.join(" "), "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    isolate(&mut cmd);
    cmd
}

/// Run `ehlo` with `args` on a pseudo-terminal (`script -qec`), typing `answer` into it; the
/// exit code and everything the terminal showed.
fn ehlo_on_a_terminal(args: &[String], answer: &[u8]) -> (i32, String) {
    use std::io::{Read, Write};
    let mut child = on_a_terminal(args).spawn().expect("spawn script");
    // Kept open until the end: an end of input would reach the terminal as one too.
    let mut typed = child.stdin.take().unwrap();
    typed.write_all(answer).unwrap();
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let (code, _) = wait_sampling(&mut child, Duration::from_secs(30));
    drop(typed);
    let shown = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    (code, shown)
}

/// `--tls-optional` on a terminal against a server without STARTTLS: when AUTH is about to
/// start over the clear connection, ehlo asks, as it does without any TLS flag (it used to
/// refuse without asking, exit 1). `y` sends AUTH (with the warning); `n` refuses, nothing sent.
#[test]
fn optional_tls_that_did_not_happen_asks_on_a_terminal() {
    for (answer, code) in [(&b"y\n"[..], 0), (&b"n\n"[..], 1)] {
        let mut steps = vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 AUTH PLAIN LOGIN\r\n"),
        ];
        if code == 0 {
            steps.extend([Step::Expect("AUTH PLAIN"), Step::Send(b"235 2.7.0 ok\r\n")]);
        }
        steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
        let srv = scripted(steps);
        let mut args = send_args(&srv.server());
        args.extend(
            [
                "--tls-optional",
                "-a",
                "PLAIN",
                "--au",
                "u",
                "--ap",
                "pw-x7",
                "-q",
                "auth",
            ]
            .map(String::from),
        );
        let (exit, shown) = ehlo_on_a_terminal(&args, answer);
        let got = srv.finish();
        assert!(
            shown.contains("AUTH without TLS: send credentials unencrypted? [y/N]"),
            "{shown}"
        );
        assert_eq!(exit, code, "{shown}");
        if code == 0 {
            assert!(got.contains("AUTH PLAIN"), "{got}");
            assert!(
                shown.contains("AUTH over an unencrypted connection"),
                "{shown}"
            );
        } else {
            assert!(!got.contains("AUTH"), "the server got {got:?}");
            assert!(
                shown.contains("AUTH over an unencrypted connection declined"),
                "{shown}"
            );
        }
        assert!(!shown.contains("pw-x7"), "{shown}");
    }
}

/// The send asks `send credentials unencrypted? [y/N]` before it asks the password: one who
/// expected the password prompt types the password there. It was echoed and stayed on the
/// terminal in clear (a no all the same); now it is drawn over with the mask once entered.
#[test]
fn a_password_typed_at_the_plaintext_question_is_drawn_over() {
    use std::io::{Read, Write};
    // Asked before connecting (no TLS planned): a no ends the run there, nothing to serve.
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut args = send_args(&unused.local_addr().unwrap().to_string());
    args.extend(["-a", "PLAIN", "--au", "u", "-q", "auth"].map(String::from));
    let mut cmd = on_a_terminal(&args);
    cmd.env("TERM", "xterm");
    let mut child = cmd.spawn().expect("spawn script");
    let mut typed = child.stdin.take().unwrap();
    let mut out = child.stdout.take().unwrap();
    let shown = Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = {
        let shown = Arc::clone(&shown);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                shown.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    // Typed once the question is on the screen, as a person would (typed ahead, the echo
    // would come before the question).
    let start = std::time::Instant::now();
    while !String::from_utf8_lossy(&shown.lock().unwrap()).contains("[y/N]") {
        assert!(start.elapsed() < Duration::from_secs(20), "no question");
        std::thread::sleep(Duration::from_millis(20));
    }
    typed.write_all(b"Typed-Here-Pw-9\n").unwrap();
    let (code, _) = wait_sampling(&mut child, Duration::from_secs(30));
    drop(typed);
    reader.join().unwrap();
    assert_eq!(code, 1);
    let raw = shown.lock().unwrap().clone();
    let mut screen = vt100::Parser::new(24.try_into().unwrap(), 80.try_into().unwrap(), 0);
    screen.process(&raw);
    let screen = screen.screen().contents();
    assert!(
        screen.contains("send credentials unencrypted? [y/N] ********"),
        "{screen}"
    );
    assert!(!screen.contains("Typed-Here-Pw-9"), "{screen}");
}

/// A DIGEST-MD5 server that forges rspauth, is cancelled with "*" and answers 235: the server
/// did not prove it knows the password and may be an impostor holding the connection as
/// authenticated, so the session ends there (QUIT, 28, no MAIL) even with `--auth-optional`,
/// in the transcript and in JSON; the 235 is not read as "authentication succeeded".
#[test]
fn a_235_after_a_cancelled_exchange_is_reported_and_not_trusted() {
    for json in [false, true] {
        let srv = scripted(vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 AUTH DIGEST-MD5\r\n"),
            Step::Expect("AUTH DIGEST-MD5"),
            // nonce="n",algorithm=md5-sess
            Step::Send(b"334 bm9uY2U9Im4iLGFsZ29yaXRobT1tZDUtc2Vzcw==\r\n"),
            Step::Line,
            // rspauth=0000: the server does not know the password.
            Step::Send(b"334 cnNwYXV0aD0wMDAw\r\n"),
            Step::Expect("*"),
            Step::Send(b"235 2.7.0 Authentication successful\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let mut extra = vec![
            "--allow-plaintext-auth",
            "--auth-optional",
            "DIGEST-MD5",
            "--au",
            "u",
            "--ap",
            "pw-x7",
        ];
        if json {
            extra.push("--json");
        }
        let run = send(&srv, &extra);
        let got = srv.finish();
        assert_eq!(run.code, 28, "{}", run.all());
        assert!(!got.contains("MAIL FROM"), "{got}");
        let out = run.all();
        assert!(
            out.contains("AUTH DIGEST-MD5: server signature did not verify")
                && out.contains("could not prove it knows the password"),
            "{out}"
        );
        assert!(!out.contains("carrying on without AUTH"), "{out}");
        assert!(!out.contains("authentication succeeded"), "{out}");
    }
}

/// The server-first message of a SCRAM-SHA-256 exchange for the client-first in `line`
/// (`AUTH SCRAM-SHA-256 <base64>`): the client's nonce with ours after it.
fn scram_server_first(line: &str) -> Vec<u8> {
    let ir = line.split_whitespace().nth(2).unwrap_or_default();
    let first = base64::engine::general_purpose::STANDARD
        .decode(ir)
        .unwrap_or_default();
    let first = String::from_utf8_lossy(&first).into_owned();
    let nonce = first
        .split(',')
        .find_map(|a| a.strip_prefix("r="))
        .unwrap_or_default()
        .to_string();
    format!(
        "334 {}\r\n",
        b64(&format!("r={nonce}srv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
    )
    .into_bytes()
}

/// A SCRAM-SHA-256 server whose `v=` is wrong (RFC 5802 §5, §9: it does not know the password,
/// a possible impostor) is cancelled with "*"; whether it then says 235 or 535, the session
/// ends (QUIT, 28, no MAIL) with `--auth-optional` and `--auth-optional-strict` too.
#[test]
fn a_wrong_scram_signature_ends_the_session_whatever_the_optional_flags() {
    for answer in [
        &b"235 2.7.0 Authentication successful\r\n"[..],
        &b"535 5.7.8 Authentication failed\r\n"[..],
    ] {
        for flag in ["--auth-optional", "--auth-optional-strict", "--auth"] {
            let srv = scripted(vec![
                Step::Send(b"220 x ESMTP\r\n"),
                Step::Expect("EHLO"),
                Step::Send(b"250-x\r\n250 AUTH SCRAM-SHA-256\r\n"),
                Step::Answer(scram_server_first),
                Step::Line,
                Step::SendOwned(
                    format!(
                        "334 {}\r\n",
                        b64("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
                    )
                    .into_bytes(),
                ),
                Step::Expect("*"),
                Step::Send(answer),
                Step::Expect("QUIT"),
                Step::Send(b"221 bye\r\n"),
            ]);
            let run = send(
                &srv,
                &[
                    "--allow-plaintext-auth",
                    flag,
                    "SCRAM-SHA-256",
                    "--au",
                    "u",
                    "--ap",
                    "pw-x7",
                ],
            );
            let got = srv.finish();
            let out = run.all();
            assert_eq!(run.code, 28, "{flag}: {out}");
            assert!(!got.contains("MAIL FROM"), "{flag}: {got}");
            assert!(
                out.contains("AUTH SCRAM-SHA-256: server signature did not verify"),
                "{flag}: {out}"
            );
            assert!(!out.contains("carrying on without AUTH"), "{flag}: {out}");
        }
    }
}

/// A plain 535 with `--auth-optional` still carries on unauthenticated, and delivers.
#[test]
fn a_refused_auth_with_auth_optional_still_carries_on() {
    let srv = scripted(vec![
        Step::Send(b"220 x ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-x\r\n250 AUTH PLAIN\r\n"),
        Step::Expect("AUTH PLAIN"),
        Step::Send(b"535 5.7.8 Authentication failed\r\n"),
        Step::Expect("MAIL FROM"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let run = send(
        &srv,
        &[
            "--allow-plaintext-auth",
            "--auth-optional",
            "PLAIN",
            "--au",
            "u",
            "--ap",
            "pw-x7",
            "-q",
            "mail",
        ],
    );
    srv.finish();
    let out = run.all();
    assert_eq!(run.code, 0, "{out}");
    assert!(
        out.contains("carrying on without AUTH (--auth-optional)"),
        "{out}"
    );
}

/// `--auth-optional-strict MECH` with MECH not offered: AUTH was not tried, so the session
/// carries on (swaks fails it only when AUTH was tried and failed).
#[test]
fn auth_optional_strict_with_its_mechanism_not_offered_carries_on() {
    let srv = scripted(vec![
        Step::Send(b"220 x ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-x\r\n250 AUTH PLAIN LOGIN\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let run = send(
        &srv,
        &[
            "--allow-plaintext-auth",
            "--auth-optional-strict",
            "CRAM-MD5",
            "--au",
            "u",
            "--ap",
            "pw-x7",
            "-q",
            "auth",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all()
            .contains("asked for CRAM-MD5, the server offers PLAIN LOGIN: carrying on without AUTH (--auth-optional-strict)"),
        "{}",
        run.all()
    );
}

/// `--auth-plaintext` shows a decoded challenge with its controls escaped: a server's CR LF
/// cannot write a line of its own (a forged result) into the transcript.
#[test]
fn a_decoded_challenge_cannot_forge_transcript_lines() {
    let forged = b64("\x1b[31mUser\r\n=== Result: ok (forged)\n<-  235 2.7.0 forged");
    let srv = scripted(vec![
        Step::Send(b"220 x ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-x\r\n250 AUTH LOGIN\r\n"),
        Step::Expect("AUTH LOGIN"),
        Step::SendOwned(format!("334 {forged}\r\n").into_bytes()),
        Step::Line,
        Step::Send(b"535 5.7.8 no\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let run = send(
        &srv,
        &[
            "--allow-plaintext-auth",
            "-a",
            "LOGIN",
            "--auth-plaintext",
            "--au",
            "u",
            "--ap",
            "pw-x7",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 28, "{}", run.all());
    let out = run.all();
    assert!(
        out.contains(
            r"challenge decoded: \x1b[31mUser\x0d\x0a=== Result: ok (forged)\x0a<-  235 2.7.0 forged"
        ),
        "{out}"
    );
    // One line holds the whole challenge: nothing of it starts a line of its own.
    assert_eq!(
        out.lines().filter(|l| l.contains("forged")).count(),
        1,
        "{out}"
    );
    assert!(!out.contains('\x1b'), "{out}");
}

#[test]
fn a_missing_password_without_a_terminal_names_the_sources() {
    let run = ehlo(&[
        "-s",
        "127.0.0.1:9",
        "-t",
        "a@b.test",
        "--tls",
        "-a",
        "--au",
        "u",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    for source in [
        "--auth-password",
        "EHLO_AUTH_PASSWORD",
        "--auth-password-file",
        ".netrc",
    ] {
        assert!(run.stderr.contains(source), "{source}: {}", run.stderr);
    }
}

#[test]
fn password_file_and_netrc_feed_auth() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "file-secret-7\n").unwrap();
    std::fs::write(
        dir.path().join(".netrc"),
        "machine 127.0.0.1 login netrc-user password netrc-secret-8\n",
    )
    .unwrap();
    let home = dir.path().to_str().unwrap();
    for (extra, user, pass) in [
        (
            vec!["--au", "u", "--auth-password-file", pw.to_str().unwrap()],
            "u",
            "file-secret-7",
        ),
        (vec![], "netrc-user", "netrc-secret-8"),
    ] {
        let expect = format!("AUTH PLAIN {}", b64(&format!("\0{user}\0{pass}")));
        let mut steps = starttls_then(b"250-x\r\n250 AUTH PLAIN\r\n", vec![]);
        steps.push(Step::Line);
        steps.push(Step::Send(b"235 2.7.0 ok\r\n"));
        steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
        let srv = scripted(steps);
        let mut args = send_args(&srv.server());
        args.extend(
            ["--tls", "-k", "-a", "PLAIN", "-q", "auth"]
                .iter()
                .map(|s| s.to_string()),
        );
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = ehlo_with_env(&refs, &[("HOME", home)], None, Duration::from_secs(30));
        let got = srv.finish();
        assert_eq!(run.code, 0, "{}", run.all());
        assert!(
            got.contains(&expect),
            "server got {got:?}, wanted {expect:?}"
        );
        assert!(!run.all().contains(pass), "{}", run.all());
    }
}

#[test]
fn tls_on_connect_against_a_plain_port_says_use_starttls() {
    let srv = scripted(vec![
        Step::Send(b"220 plain.test ESMTP\r\n"),
        Step::Sleep(Duration::from_millis(500)),
    ]);
    let run = send(&srv, &["--tls-on-connect", "-k"]);
    drop(srv);
    assert_eq!(run.code, 29, "{}", run.all());
    assert!(
        run.all()
            .contains("this port speaks plain SMTP: use --tls (STARTTLS)"),
        "{}",
        run.all()
    );
}

/// Bytes that are neither TLS nor an SMTP greeting (an HTTP server, a banner of another
/// protocol) say nothing about SMTP: a neutral hint naming what arrived, not "use STARTTLS".
#[test]
fn tls_on_connect_against_a_non_smtp_port_gives_a_neutral_hint() {
    for banner in [
        &b"HTTP/1.1 400 Bad Request\r\n\r\n"[..],
        b"554 5.7.1 go away\r\n",
    ] {
        let srv = scripted(vec![
            Step::Send(banner),
            Step::Sleep(Duration::from_millis(500)),
        ]);
        let run = send(&srv, &["--tls-on-connect", "-k"]);
        drop(srv);
        assert_eq!(run.code, 29, "{}", run.all());
        assert!(!run.all().contains("speaks plain SMTP"), "{}", run.all());
        assert!(
            run.all().contains("neither TLS nor an SMTP greeting"),
            "{}",
            run.all()
        );
    }
}

/// The remedy of a version mismatch names where `--tls-protocol` was set when the environment
/// set it, inside its brackets as the other settings' lines do (it said a bare
/// `(--tls-protocol)`, as if typed).
#[test]
fn the_tls_protocol_remedy_names_where_it_was_set() {
    let srv = starttls_to_tls12_only();
    let mut args = send_args(&srv.server());
    args.extend(["--tls", "-k", "-q", "ehlo"].map(String::from));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = ehlo_with_env(
        &refs,
        &[("EHLO_TLS_PROTOCOL", "tlsv1_3")],
        None,
        Duration::from_secs(30),
    );
    srv.finish();
    assert_eq!(run.code, 29, "{}", run.all());
    assert!(
        run.all().contains(
            "the server offers none of tlsv1_3 (--tls-protocol, set by EHLO_TLS_PROTOCOL in \
             the environment)"
        ),
        "{}",
        run.all()
    );
}

fn tls12_only() -> Arc<openssl::ssl::SslAcceptor> {
    let mut b = test_acceptor_builder();
    b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    Arc::new(b.build())
}

/// A server that offers STARTTLS and then speaks TLS 1.2 at most.
fn starttls_to_tls12_only() -> Scripted {
    scripted_with(
        vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
            Step::Expect("STARTTLS"),
            Step::Send(b"220 go ahead\r\n"),
            Step::Tls,
        ],
        tls12_only(),
    )
}

#[test]
fn tls_protocol_against_a_tls12_only_server() {
    // Allowing only TLS 1.3: no version in common, exit 29.
    let srv = starttls_to_tls12_only();
    let run = send(
        &srv,
        &["--tls", "-k", "--tls-protocol", "tlsv1_3", "-q", "ehlo"],
    );
    srv.finish();
    assert_eq!(run.code, 29, "{}", run.all());
    assert!(run.all().contains("version"), "{}", run.all());
    // The versions asked for are the reason, not what OpenSSL refuses by default.
    assert!(
        run.all()
            .contains("the server offers none of tlsv1_3 (--tls-protocol)"),
        "{}",
        run.all()
    );
    assert!(!run.all().contains("unless asked"), "{}", run.all());

    // A deny list that leaves TLS 1.2: negotiated, and no security-level note.
    let mut steps = starttls_then(b"250 x\r\n", vec![]);
    steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
    let srv = scripted_with(steps, tls12_only());
    let run = send(
        &srv,
        &["--tls", "-k", "--tls-protocol", "no_tlsv1_3", "-q", "ehlo"],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("TLSv1.2:"), "{}", run.stdout);
    assert!(!run.stdout.contains("SECLEVEL"), "{}", run.stdout);
}

/// `--tls-protocol tlsv1_1,tlsv1_3` has a gap OpenSSL cannot honour (it would offer TLS 1.1
/// alone, and fail against a TLS 1.3-only server with exit 29): refused before connecting,
/// with a one-line reason, exit 1.
#[test]
fn tls_protocol_with_a_gap_is_a_usage_error() {
    let l = crate::util::tripwire();
    let server = l.local_addr().unwrap().to_string();
    let mut args = send_args(&server);
    args.extend(["--tls", "-k", "--tls-protocol", "tlsv1_1,tlsv1_3"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = ehlo(&args);
    assert_eq!(run.code, 1, "{}", run.all());
    let first = run.stderr.lines().next().unwrap_or("");
    assert!(
        first.contains("tlsv1_1,tlsv1_3 leaves out tlsv1_2 in between"),
        "{}",
        run.all()
    );
    assert!(l.accept().is_err(), "connected anyway: {}", run.all());
}

/// A server that offers only TLS 1.1, asked with the default versions (1.2 and 1.3): exit 29,
/// and the reason names the allow list that reaches it. It used to blame "this OpenSSL" and name
/// no way to reach the server.
#[test]
fn a_tls11_only_server_is_refused_with_the_flag_that_reaches_it() {
    let mut b = test_acceptor_builder();
    b.clear_options(openssl::ssl::SslOptions::NO_TLSV1 | openssl::ssl::SslOptions::NO_TLSV1_1);
    b.set_min_proto_version(Some(SslVersion::TLS1_1)).unwrap();
    b.set_max_proto_version(Some(SslVersion::TLS1_1)).unwrap();
    b.set_cipher_list("DEFAULT:@SECLEVEL=0").unwrap();
    let srv = scripted_with(
        vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
            Step::Expect("STARTTLS"),
            Step::Send(b"220 go ahead\r\n"),
            Step::Tls,
        ],
        Arc::new(b.build()),
    );
    let run = send(&srv, &["--tls", "-k", "-q", "ehlo"]);
    srv.finish();
    assert_eq!(run.code, 29, "{}", run.all());
    assert!(
        run.all().contains(
            "no TLS version in common (the server may offer only the obsolete TLS 1.0/1.1, which \
             ehlo leaves out unless asked: --tls-protocol tlsv1,tlsv1_1,tlsv1_2,tlsv1_3)"
        ),
        "{}",
        run.all()
    );
    assert!(!run.all().contains("this OpenSSL"), "{}", run.all());
}

#[test]
fn legacy_protocols_say_that_the_security_level_is_lowered() {
    let mut b = test_acceptor_builder();
    b.clear_options(openssl::ssl::SslOptions::NO_TLSV1 | openssl::ssl::SslOptions::NO_TLSV1_1);
    b.set_min_proto_version(Some(SslVersion::TLS1_1)).unwrap();
    b.set_max_proto_version(Some(SslVersion::TLS1_1)).unwrap();
    b.set_cipher_list("DEFAULT:@SECLEVEL=0").unwrap();
    let mut steps = starttls_then(b"250 x\r\n", vec![]);
    steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
    let srv = scripted_with(steps, Arc::new(b.build()));
    let run = send(
        &srv,
        &[
            "--tls",
            "-k",
            "--tls-protocol",
            "tlsv1_1,tlsv1_2",
            "-q",
            "ehlo",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("@SECLEVEL=0"), "{}", run.stdout);
    assert!(run.stdout.contains("TLSv1.1:"), "{}", run.stdout);
}

#[test]
fn client_certificate_for_a_server_that_requires_one() {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["client.test".into()]).unwrap();
    let cert = dir.path().join("client.pem");
    let key = dir.path().join("client.key");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let requiring = |max: SslVersion| {
        let mut b = test_acceptor_builder();
        b.set_max_proto_version(Some(max)).unwrap();
        b.set_verify_callback(
            SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
            |_, _| true,
        );
        Arc::new(b.build())
    };
    // With the certificate: accepted, and the transcript says it was sent.
    let mut steps = starttls_then(b"250 x\r\n", vec![]);
    steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
    let srv = scripted_with(steps, requiring(SslVersion::TLS1_3));
    let run = send(
        &srv,
        &[
            "--tls",
            "-k",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "-q",
            "ehlo",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("TLS client certificate sent"),
        "{}",
        run.stdout
    );
    // A server that never asks: the certificate is configured, not sent.
    let mut steps = starttls_then(b"250 x\r\n", vec![]);
    steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
    let srv = scripted_with(steps, Arc::new(test_acceptor_builder().build()));
    let run = send(
        &srv,
        &[
            "--tls",
            "-k",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "-q",
            "ehlo",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .contains("TLS client certificate configured but not requested (not sent)"),
        "{}",
        run.stdout
    );
    // Without: exit 29 with the hint, whether the refusal is part of the handshake (TLS 1.2)
    // or arrives as an alert on the first read after it (TLS 1.3).
    for max in [SslVersion::TLS1_2, SslVersion::TLS1_3] {
        let srv = scripted_with(starttls_then(b"250 x\r\n", vec![]), requiring(max));
        let run = send(&srv, &["--tls", "-k", "-q", "ehlo"]);
        drop(srv);
        assert_eq!(run.code, 29, "{max:?}: {}", run.all());
        assert!(run.all().contains("--tls-cert"), "{max:?}: {}", run.all());
    }
}

#[test]
fn peer_certificate_to_a_file_and_to_the_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("peer.pem");
    let mut steps = starttls_then(b"250 x\r\n", vec![]);
    steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
    let srv = scripted(steps);
    let run = send(
        &srv,
        &[
            "--tls",
            "-k",
            "-q",
            "ehlo",
            "--tls-get-peer-cert",
            file.to_str().unwrap(),
            "--tls-get-peer-chain",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let pem = std::fs::read_to_string(&file).unwrap();
    openssl::x509::X509::from_pem(pem.as_bytes()).expect("a PEM certificate in the file");
    // The chain printed in the transcript (one certificate here) is the same certificate.
    let mut printed: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("=== "))
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .collect();
    let end = printed
        .iter()
        .position(|l| l.starts_with("-----END CERTIFICATE-----"))
        .expect("a whole PEM block in the transcript");
    printed.truncate(end + 1);
    assert_eq!(printed.join("\n").trim(), pem.trim(), "{}", run.stdout);
    assert!(run.stdout.contains("saved to"), "{}", run.stdout);
}

// Every way a TLS session ends, the error and timeout paths included, sends a close_notify
// first (RFC 8446 §6.1): a server such as Exim logs "non-properly terminated" otherwise.

#[test]
fn close_notify_after_a_reply_timeout() {
    let srv = scripted(starttls_then(
        b"250 x\r\n",
        vec![
            Step::Expect("MAIL FROM"),
            Step::Sleep(Duration::from_secs(3)),
            Step::ExpectCloseNotify,
        ],
    ));
    let run = send(&srv, &["--tls", "-k", "--timeout", "1"]);
    srv.finish();
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(
        run.all().contains("timed out") || run.all().contains("timeout"),
        "{}",
        run.all()
    );
}

#[test]
fn close_notify_after_a_refusal() {
    let srv = scripted(starttls_then(
        b"250 x\r\n",
        vec![
            Step::Expect("MAIL FROM"),
            Step::Send(b"550 5.7.1 go away\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 2.0.0 bye\r\n"),
            Step::ExpectCloseNotify,
        ],
    ));
    let run = send(&srv, &["--tls", "-k"]);
    srv.finish();
    assert_ne!(run.code, 0, "{}", run.all());
}

#[test]
fn close_notify_after_a_certificate_that_fails_verification() {
    // Implicit TLS, no -k: the self-signed certificate fails after a complete handshake.
    let srv = scripted(vec![Step::Tls, Step::ExpectCloseNotify]);
    let run = send(&srv, &["--tls-on-connect"]);
    srv.finish();
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(run.all().contains("verification"), "{}", run.all());
}

#[test]
fn the_repl_sends_close_notify_when_a_hostile_reply_ends_the_session() {
    // The REPL's session ends on a reply past the size cap; its TLS connection still ends with
    // a close_notify.
    let srv = scripted(vec![
        Step::Tls,
        Step::Send(b"220 hostile.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::SendOwned(b"250-x\r\n".repeat(1100)),
        Step::ExpectCloseNotify,
    ]);
    let run = ehlo_with(
        &[
            "repl",
            &srv.server(),
            "--tls-on-connect",
            "-k",
            "--color",
            "never",
        ],
        Some(b"EHLO client.test\n"),
        Duration::from_secs(20),
    );
    srv.finish();
    assert!(run.all().contains("reply too large"), "{}", run.all());
}

/// swaks's `--tls-verify-ca` and `--tls-verify-host`: each alone enforces only its half of the
/// verification (the transcript says which half was not enforced); both, like ehlo's default,
/// enforce both.
#[test]
fn verify_ca_or_host_alone_enforces_only_that_half() {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ck.cert.pem()).unwrap();
    let ca = ca.to_str().unwrap();
    let acceptor = || {
        let cert = openssl::x509::X509::from_der(ck.cert.der()).unwrap();
        let key =
            openssl::pkey::PKey::private_key_from_pem(ck.signing_key.serialize_pem().as_bytes())
                .unwrap();
        let mut b = openssl::ssl::SslAcceptor::mozilla_intermediate_v5(
            openssl::ssl::SslMethod::tls_server(),
        )
        .unwrap();
        b.set_certificate(&cert).unwrap();
        b.set_private_key(&key).unwrap();
        Arc::new(b.build())
    };
    let passes = || {
        vec![
            Step::Tls,
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250 x\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]
    };
    let fails = || vec![Step::Tls, Step::ExpectCloseNotify];
    // The server is reached as 127.0.0.1; the certificate names localhost.
    let cases: [(&[&str], bool, &str); 6] = [
        // A trusted chain for another name: the chain alone passes, the default does not.
        (
            &["--tls-ca-path", ca, "--tls-verify-ca"],
            true,
            "(host verification not enforced: --tls-verify-ca)",
        ),
        (&["--tls-ca-path", ca], false, "IP address mismatch"),
        (
            &["--tls-ca-path", ca, "--tls-verify-ca", "--tls-verify-host"],
            false,
            "IP address mismatch",
        ),
        // A self-signed certificate for the right name: the name alone passes.
        (
            &["--tls-verify-target", "localhost", "--tls-verify-host"],
            true,
            "(CA verification not enforced: --tls-verify-host)",
        ),
        (&["--tls-verify-target", "localhost"], false, "self-signed"),
        (&["--tls-verify-host"], false, "IP address mismatch"),
    ];
    for (extra, ok, says) in cases {
        let srv = scripted_with(if ok { passes() } else { fails() }, acceptor());
        let mut args = vec!["--tls-on-connect", "-q", "ehlo"];
        args.extend(extra);
        let run = send(&srv, &args);
        srv.finish();
        assert_eq!(
            run.code,
            if ok { 0 } else { 29 },
            "{extra:?}: {}",
            run.all()
        );
        assert!(run.all().contains(says), "{extra:?}: {}", run.all());
    }
    // --insecure turns verification off; asking for a half of it at the same time is refused.
    let run = ehlo(&["-s", "127.0.0.1:9", "-t", "a@b.c", "-k", "--tls-verify-ca"]);
    assert_eq!(run.code, 1, "{}", run.all());
}

/// A root (SHA-256) and a leaf for localhost it signed with SHA-1 (`openssl x509 -req -sha1`),
/// as PEM files in `dir`; returns the root's file and an acceptor presenting the leaf (at
/// security level 0: OpenSSL refuses to serve it otherwise).
fn sha1_signed_server(
    dir: &std::path::Path,
) -> (std::path::PathBuf, Arc<openssl::ssl::SslAcceptor>) {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::{PKey, Private};
    use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
    use openssl::x509::{X509, X509Builder, X509NameBuilder};
    let key = || {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
    };
    let (ca_key, leaf_key) = (key(), key());
    let make = |cn: &str, public: &PKey<Private>, ca: bool, digest: MessageDigest| -> X509 {
        let name = |cn: &str| {
            let mut n = X509NameBuilder::new().unwrap();
            n.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
            n.build()
        };
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        let serial = BigNum::from_u32(if ca { 1 } else { 2 }).unwrap();
        b.set_serial_number(&serial.to_asn1_integer().unwrap())
            .unwrap();
        b.set_subject_name(&name(cn)).unwrap();
        b.set_issuer_name(&name("ehlo SHA-1 test root")).unwrap();
        b.set_pubkey(public).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
            .unwrap();
        let ext = if ca {
            BasicConstraints::new().critical().ca().build().unwrap()
        } else {
            SubjectAlternativeName::new()
                .dns("localhost")
                .ip("127.0.0.1")
                .build(&b.x509v3_context(None, None))
                .unwrap()
        };
        b.append_extension(ext).unwrap();
        b.sign(&ca_key, digest).unwrap();
        b.build()
    };
    let ca = make(
        "ehlo SHA-1 test root",
        &ca_key,
        true,
        MessageDigest::sha256(),
    );
    let leaf = make("localhost", &leaf_key, false, MessageDigest::sha1());
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.to_pem().unwrap()).unwrap();
    let mut b =
        openssl::ssl::SslAcceptor::mozilla_intermediate_v5(openssl::ssl::SslMethod::tls_server())
            .unwrap();
    b.set_security_level(0);
    b.set_certificate(&leaf).unwrap();
    b.set_private_key(&leaf_key).unwrap();
    (ca_file, Arc::new(b.build()))
}

/// A SHA-1-signed leaf fails verification (exit 29, "too weak") whether its root is trusted
/// through `SSL_CERT_FILE` (the bundle read after the handshake) or `--tls-ca-path`: both
/// judge at the connection's security level. Through the bundle it used to pass (exit 0).
#[test]
fn a_sha1_signed_certificate_fails_through_ssl_cert_file_too() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, acceptor) = sha1_signed_server(dir.path());
    let ca = ca.to_str().unwrap();
    let no_dir = dir.path().join("no-hashed-dir");
    std::fs::create_dir_all(&no_dir).unwrap();
    let no_dir = no_dir.to_str().unwrap();
    type Env<'a> = &'a [(&'a str, &'a str)];
    let runs: [(&[&str], Env); 2] = [
        (&[], &[("SSL_CERT_FILE", ca), ("SSL_CERT_DIR", no_dir)]),
        (&["--tls-ca-path", ca], &[]),
    ];
    for (flags, env) in runs {
        let steps = vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
            Step::Expect("STARTTLS"),
            Step::Send(b"220 2.0.0 go ahead\r\n"),
            Step::Tls,
            Step::ExpectCloseNotify,
        ];
        let srv = scripted_with(steps, acceptor.clone());
        let mut args = send_args(&srv.server());
        args.extend(["--tls", "--quit-after", "rcpt"].map(String::from));
        args.extend(flags.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = ehlo_with_env(&args, env, None, Duration::from_secs(30));
        srv.finish();
        assert_eq!(run.code, 29, "{flags:?} {env:?}: {}", run.all());
        assert!(
            run.all()
                .contains("failed CA verification (CA signature digest algorithm too weak)"),
            "{flags:?} {env:?}: {}",
            run.all()
        );
        // A CA file cannot mend a weak signature: the remedy is the server's certificate.
        let result = run
            .all()
            .lines()
            .find(|l| l.starts_with("*** Result"))
            .unwrap_or_default()
            .to_string();
        assert!(
            result.contains("stronger key or signature") && !result.contains("--tls-ca-path"),
            "{flags:?} {env:?}: {result}"
        );
    }
}

/// A current leaf sent with an intermediate that expired in 2001, under a trusted root: exit
/// 29, and the reason names the intermediate and its own date (the transcript's `peer[1]`) with
/// renewal as the remedy. It used to give the leaf's notAfter, a date still to come, as the
/// day "the certificate expired", and to suggest `--tls-ca-path`.
#[test]
fn an_expired_intermediate_is_named_with_its_own_date() {
    use openssl::pkey::PKey;
    use openssl::x509::X509;
    let mut rp = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    rp.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    rp.distinguished_name
        .push(rcgen::DnType::CommonName, "ehlo test root");
    let root =
        rcgen::CertifiedIssuer::self_signed(rp, rcgen::KeyPair::generate().unwrap()).unwrap();
    let mut ip = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ip.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ip.distinguished_name
        .push(rcgen::DnType::CommonName, "ehlo test old intermediate");
    ip.not_before = rcgen::date_time_ymd(2000, 1, 1);
    ip.not_after = rcgen::date_time_ymd(2001, 2, 1);
    let ica =
        rcgen::CertifiedIssuer::signed_by(ip, rcgen::KeyPair::generate().unwrap(), &root).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
        .unwrap()
        .signed_by(&leaf_key, &ica)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, root.pem()).unwrap();
    let mut b =
        openssl::ssl::SslAcceptor::mozilla_intermediate_v5(openssl::ssl::SslMethod::tls_server())
            .unwrap();
    b.set_certificate(&X509::from_der(leaf.der()).unwrap())
        .unwrap();
    b.add_extra_chain_cert(X509::from_der(ica.der()).unwrap())
        .unwrap();
    b.set_private_key(&PKey::private_key_from_pem(leaf_key.serialize_pem().as_bytes()).unwrap())
        .unwrap();
    let steps = vec![
        Step::Send(b"220 x ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
        Step::Expect("STARTTLS"),
        Step::Send(b"220 2.0.0 go ahead\r\n"),
        Step::Tls,
        Step::ExpectCloseNotify,
    ];
    let srv = scripted_with(steps, Arc::new(b.build()));
    let mut args = send_args(&srv.server());
    args.extend(["--tls", "--tls-ca-path", ca_file.to_str().unwrap()].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = ehlo_with_env(&args, &[], None, Duration::from_secs(30));
    srv.finish();
    let out = run.all();
    assert_eq!(run.code, 29, "{out}");
    assert!(
        out.contains("TLS peer[1]   subject=[/CN=ehlo test old intermediate]"),
        "{out}"
    );
    let result = out
        .lines()
        .find(|l| l.starts_with("*** Result"))
        .unwrap_or_default();
    assert!(
        result.contains(
            "certificate has expired: peer[1] (/CN=ehlo test old intermediate) expired on 2001-02-01T00:00:00Z"
        ),
        "{result}"
    );
    assert!(
        result.contains("renew") && !result.contains("--tls-ca-path"),
        "{result}"
    );
    assert!(!out.contains("MAIL FROM"), "{out}");
}

/// `--tls-protocol` reaching TLS 1.0/1.1 lowers OpenSSL's security level to 0 for the
/// handshake only: the chain is still judged at the usual level, so a SHA-1-signed leaf fails
/// verification (exit 29) while TLS 1.3 is negotiated, through `--tls-ca-path` and through the
/// bundle read after the handshake alike. It used to pass CA verification (exit 0).
#[test]
fn legacy_protocols_do_not_lower_certificate_verification() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, acceptor) = sha1_signed_server(dir.path());
    let ca = ca.to_str().unwrap();
    let no_dir = dir.path().join("no-hashed-dir");
    std::fs::create_dir_all(&no_dir).unwrap();
    let no_dir = no_dir.to_str().unwrap();
    type Env<'a> = &'a [(&'a str, &'a str)];
    let runs: [(&[&str], Env); 2] = [
        (&["--tls-ca-path", ca], &[]),
        (&[], &[("SSL_CERT_FILE", ca), ("SSL_CERT_DIR", no_dir)]),
    ];
    for (flags, env) in runs {
        let steps = vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
            Step::Expect("STARTTLS"),
            Step::Send(b"220 2.0.0 go ahead\r\n"),
            Step::Tls,
            Step::ExpectCloseNotify,
        ];
        let srv = scripted_with(steps, acceptor.clone());
        let mut args = send_args(&srv.server());
        args.extend(
            [
                "--tls",
                "--tls-protocol",
                "tlsv1_1,tlsv1_2,tlsv1_3",
                "--quit-after",
                "rcpt",
            ]
            .map(String::from),
        );
        args.extend(flags.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = ehlo_with_env(&args, env, None, Duration::from_secs(30));
        srv.finish();
        let out = run.all();
        assert!(out.contains("@SECLEVEL=0"), "{out}");
        assert!(out.contains("TLSv1.3"), "{flags:?} {env:?}: {out}");
        assert_eq!(run.code, 29, "{flags:?} {env:?}: {out}");
        assert!(
            out.contains("failed CA verification (CA signature digest algorithm too weak)"),
            "{flags:?} {env:?}: {out}"
        );
        assert!(!out.contains("passed CA verification"), "{out}");
    }
}

/// TLS inputs OpenSSL cannot use — a `--tls-ca-path` that is no PEM, a `--tls-key` of another
/// certificate, an encrypted key, a cipher string or TLS 1.3 suite list it knows nothing of —
/// are bad options: exit 1 with a one-line reason naming the flag, before connecting. They
/// used to be found only after STARTTLS ("TLS setup failed", exit 29). The REPL, `probe` and
/// `check` read `--tls-ca-path` the same way.
#[test]
fn unusable_tls_inputs_are_usage_errors_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, body: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.to_str().unwrap().to_string()
    };
    let a = rcgen::generate_simple_self_signed(vec!["client.test".into()]).unwrap();
    let b = rcgen::generate_simple_self_signed(vec!["other.test".into()]).unwrap();
    let cert = file("a.pem", a.cert.pem().as_bytes());
    let other_key = file("b.key", b.signing_key.serialize_pem().as_bytes());
    let encrypted =
        openssl::pkey::PKey::private_key_from_pem(a.signing_key.serialize_pem().as_bytes())
            .unwrap()
            .private_key_to_pem_pkcs8_passphrase(openssl::symm::Cipher::aes_256_cbc(), b"secret")
            .unwrap();
    let encrypted = file("enc.key", &encrypted);
    let not_pem = file("ca.txt", b"this is not a certificate\n");
    let l = crate::util::tripwire();
    let server = l.local_addr().unwrap().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--tls-ca-path", &not_pem], "--tls-ca-path: "),
        (
            vec!["--tls-cert", &cert, "--tls-key", &other_key],
            "does not belong to --tls-cert",
        ),
        (
            vec!["--tls-cert", &cert, "--tls-key", &encrypted],
            "encrypted keys are not supported",
        ),
        (vec!["--tls-cipher", "NOPE"], "--tls-cipher: "),
        (vec!["--tls-ciphersuites", "NOPE"], "--tls-ciphersuites: "),
    ];
    for (flags, says) in cases {
        let mut args = send_args(&server);
        args.push("--tls".into());
        args.extend(flags.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = ehlo(&args);
        assert_eq!(run.code, 1, "{flags:?}: {}", run.all());
        assert_eq!(run.stderr.lines().count(), 1, "{flags:?}: {}", run.all());
        assert!(run.stderr.contains(says), "{flags:?}: {}", run.all());
        assert!(!run.stderr.contains("TLS setup failed"), "{}", run.all());
    }
    let others: [&[&str]; 3] = [
        &["repl", &server, "--tls-ca-path", &not_pem],
        &[
            "probe",
            &server,
            "--to",
            "a@b.test",
            "--tls-ca-path",
            &not_pem,
        ],
        &["check", "example.test", "--tls-ca-path", &not_pem],
    ];
    for args in others {
        let run = ehlo_with(args, Some(b"QUIT\n"), Duration::from_secs(30));
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        assert!(
            run.all().contains("holds no PEM certificate"),
            "{args:?}: {}",
            run.all()
        );
    }
    assert!(l.accept().is_err(), "connected anyway");
}

/// A server that requires a client certificate (up to `max`): a TLS 1.3 one refuses its
/// absence only after the client's Finished, with an alert on the session.
pub(crate) fn requiring_a_client_cert(max: SslVersion) -> Arc<openssl::ssl::SslAcceptor> {
    let mut b = test_acceptor_builder();
    b.set_max_proto_version(Some(max)).unwrap();
    b.set_verify_callback(
        SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
        |_, _| true,
    );
    Arc::new(b.build())
}

/// Read one line (up to LF) from `tcp`, byte by byte: nothing after it is taken.
fn read_line_from(tcp: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while tcp.read(&mut b).unwrap_or(0) == 1 {
        line.push(b[0]);
        if b[0] == b'\n' {
            break;
        }
    }
    String::from_utf8_lossy(&line).into_owned()
}

/// A TLS 1.3 server that answers STARTTLS, refuses the missing client certificate after the
/// handshake and resets the connection at once (SO_LINGER 0, as some servers close): its
/// alert and the reset are there before the client's first write in TLS. Serves one client.
pub(crate) fn alert_then_reset_server() -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = requiring_a_client_cert(SslVersion::TLS1_3);
    let handle = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        tcp.write_all(b"220 x ESMTP\r\n").unwrap();
        assert!(read_line_from(&mut tcp).to_uppercase().starts_with("EHLO"));
        tcp.write_all(b"250-x\r\n250 STARTTLS\r\n").unwrap();
        assert!(
            read_line_from(&mut tcp)
                .to_uppercase()
                .starts_with("STARTTLS")
        );
        tcp.write_all(b"220 2.0.0 go ahead\r\n").unwrap();
        let reset = tcp.try_clone().unwrap();
        assert!(
            acceptor.accept(tcp).is_err(),
            "accepted a client without a certificate"
        );
        let s = tokio::net::TcpSocket::from_std_stream(reset);
        s.set_zero_linger().unwrap();
        drop(s);
    });
    (addr, handle)
}

/// The alert a TLS 1.3 server sent before resetting the connection is the reason, even when
/// the reset makes the client's first write (the EHLO) fail before anything is read: exit 29
/// with the client-certificate hint, as when the alert comes with a read (it used to be
/// "EHLO after TLS: unexpected EOF", exit 6).
#[test]
fn an_alert_waiting_when_the_first_write_fails_is_the_reason() {
    for _ in 0..3 {
        let (addr, server) = alert_then_reset_server();
        let mut args = send_args(&addr.to_string());
        args.extend(["--tls", "-k"].map(String::from));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = ehlo(&refs);
        server.join().unwrap();
        assert_eq!(run.code, 29, "{}", run.all());
        assert!(run.all().contains("certificate required"), "{}", run.all());
        assert!(run.all().contains("--tls-cert"), "{}", run.all());
        assert!(!run.all().contains("unexpected EOF"), "{}", run.all());
    }
}

/// Bytes that are not TLS in answer to the ClientHello, after the server's own 220 to
/// STARTTLS: the port is right (the advice for implicit TLS does not apply); a broken server
/// or something stripping TLS, with what it sent.
#[test]
fn plain_text_after_the_starttls_go_ahead_is_not_called_a_plaintext_port() {
    let srv = scripted(vec![
        Step::Send(b"220 x ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
        Step::Expect("STARTTLS"),
        Step::Send(b"220 2.0.0 go ahead\r\n"),
        Step::Sleep(Duration::from_millis(300)),
        Step::Send(b"554 5.7.0 no TLS here\r\n"),
        Step::Sleep(Duration::from_millis(500)),
    ]);
    let run = send(&srv, &["--tls", "-k"]);
    drop(srv);
    assert_eq!(run.code, 29, "{}", run.all());
    assert!(
        run.all()
            .contains("after its 220 to STARTTLS the server sent \"554 5\""),
        "{}",
        run.all()
    );
    assert!(!run.all().contains("ports 25 and 587"), "{}", run.all());
}

/// `--tls-sni` must be an ASCII host name without a trailing dot (RFC 6066 §3): a name OpenSSL
/// would send as it is (UTF-8, a space) or refuse only after STARTTLS (over 255 bytes) is a
/// usage error before connecting; a trailing dot is dropped.
#[test]
fn tls_sni_is_a_host_name_checked_before_connecting() {
    let long = format!("{}.example", "x".repeat(300));
    for bad in ["bücher.example", "a b.example", long.as_str(), "a..b"] {
        let srv = scripted(vec![]);
        let run = send(&srv, &["--tls", "-k", "--tls-sni", bad]);
        drop(srv);
        assert_eq!(run.code, 1, "{bad}: {}", run.all());
        assert!(run.stderr.contains("--tls-sni"), "{bad}: {}", run.all());
        assert!(!run.all().contains("Connected"), "{bad}: {}", run.all());
    }
    let srv = scripted(starttls_then(
        b"250 x\r\n",
        vec![Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")],
    ));
    let run = send(
        &srv,
        &["--tls", "-k", "--tls-sni", "sni.example.", "-q", "ehlo"],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("TLS SNI sent: sni.example\n"),
        "{}",
        run.stdout
    );
}

/// `--auth-user '<>'` is the empty user name, as in swaks (whose LOGIN sends an empty line for
/// it and whose PLAIN sends `\0\0password`); ehlo refused it as "needs a user name".
#[test]
fn auth_user_angles_send_the_empty_user_name_as_swaks_does() {
    let offer = |more: Vec<Step>| {
        let mut v = vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-scripted.test\r\n250 AUTH PLAIN LOGIN\r\n"),
        ];
        v.extend(more);
        scripted(v)
    };
    let login = offer(vec![
        Step::Expect("AUTH LOGIN"),
        Step::Send(b"334 VXNlcm5hbWU6\r\n"),
        Step::Line,
        Step::Send(b"334 UGFzc3dvcmQ6\r\n"),
        Step::Line,
        Step::Send(b"535 5.7.8 no\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let run = send(
        &login,
        &[
            "-a",
            "LOGIN",
            "-au",
            "<>",
            "-ap",
            "secret",
            "--allow-plaintext-auth",
        ],
    );
    let got = login.finish();
    assert_eq!(run.code, 28, "{}", run.all());
    assert!(
        got.contains(&format!("AUTH LOGIN\r\n\r\n{}\r\nQUIT", b64("secret"))),
        "{got:?}"
    );

    let plain = offer(vec![
        Step::Expect("AUTH PLAIN"),
        Step::Send(b"235 2.7.0 ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let run = send(
        &plain,
        &[
            "-a",
            "PLAIN",
            "-au",
            "<>",
            "-ap",
            "secret",
            "--allow-plaintext-auth",
            "-q",
            "auth",
        ],
    );
    let got = plain.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        got.contains(&format!("AUTH PLAIN {}\r\n", b64("\0\0secret"))),
        "{got:?}"
    );
}

/// STARTTLS over `--socket`: the connection has no host name, so `localhost` is sent as SNI
/// and checked; a trusted certificate for another name fails (exit 29) with the name to verify
/// as the remedy, never `--server` (which it used to offer), and passes with
/// `--tls-verify-target`.
#[test]
fn a_socket_checks_localhost_and_offers_only_the_name_to_verify() {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixListener;
    let ck = rcgen::generate_simple_self_signed(vec!["mx.example.test".into()]).unwrap();
    let cert = openssl::x509::X509::from_der(ck.cert.der()).unwrap();
    let key = openssl::pkey::PKey::private_key_from_pem(ck.signing_key.serialize_pem().as_bytes())
        .unwrap();
    let mut b =
        openssl::ssl::SslAcceptor::mozilla_intermediate_v5(openssl::ssl::SslMethod::tls_server())
            .unwrap();
    b.set_certificate(&cert).unwrap();
    b.set_private_key(&key).unwrap();
    let acceptor = Arc::new(b.build());
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, cert.to_pem().unwrap()).unwrap();
    let path = dir.path().join("smtp.sock");
    let listener = UnixListener::bind(&path).unwrap();
    // Two sessions: banner, EHLO, STARTTLS, the handshake, then whatever the client does.
    let server = std::thread::spawn(move || {
        let mut sni = Vec::new();
        for _ in 0..2 {
            let (sock, _) = listener.accept().unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut w = sock.try_clone().unwrap();
            let mut r = BufReader::new(sock.try_clone().unwrap());
            let mut line = String::new();
            w.write_all(b"220 sock.test ESMTP\r\n").unwrap();
            r.read_line(&mut line).unwrap();
            w.write_all(b"250-sock.test\r\n250 STARTTLS\r\n").unwrap();
            line.clear();
            r.read_line(&mut line).unwrap();
            assert!(line.starts_with("STARTTLS"), "{line}");
            w.write_all(b"220 go ahead\r\n").unwrap();
            if let Ok(mut t) = acceptor.accept(sock) {
                sni.push(
                    t.ssl()
                        .servername(openssl::ssl::NameType::HOST_NAME)
                        .map(String::from),
                );
                let mut buf = [0u8; 512];
                // The client's EHLO in TLS (a verified session) or its close_notify.
                if let Ok(n) = std::io::Read::read(&mut t, &mut buf)
                    && n > 0
                {
                    let _ = t.write_all(b"554 5.7.0 enough\r\n");
                }
            }
        }
        sni
    });
    let socket = path.to_str().unwrap();
    let ca = ca.to_str().unwrap();
    let base = [
        "--socket",
        socket,
        "--tls",
        "--tls-ca-path",
        ca,
        "--to",
        "a@x.test",
        "--from",
        "b@x.test",
        "--timeout",
        "5",
    ];
    let run = ehlo(&base);
    let out = run.all();
    assert_eq!(run.code, 29, "{out}");
    assert!(out.contains("using host localhost to verify"), "{out}");
    let result = out
        .lines()
        .find(|l| l.starts_with("*** Result"))
        .unwrap_or_default();
    assert!(
        result.contains("--tls-verify-target mx.example.test") && !result.contains("--server"),
        "{result}"
    );
    let mut named = base.to_vec();
    named.extend(["--tls-verify-target", "mx.example.test"]);
    let run = ehlo(&named);
    let out = run.all();
    assert!(out.contains("passed host verification"), "{out}");
    assert_ne!(run.code, 29, "{out}");
    let sni = server.join().unwrap();
    assert_eq!(
        sni,
        [Some("localhost".to_string()), Some("localhost".to_string())]
    );
}

/// A 454 to STARTTLS, and STARTTLS not offered, under each way of asking for STARTTLS: the way
/// to carry on in plain text names what was typed (it used to say "leave out --tls" or "drop
/// --tls" whatever asked for STARTTLS), in the transcript and in JSON alike.
#[test]
fn going_on_without_tls_names_what_asked_for_it() {
    let cases: [(&[&str], &str); 5] = [
        (&["--tls"], "leave out --tls"),
        (
            &["--tls-optional-strict"],
            "use --tls-optional instead of --tls-optional-strict",
        ),
        (
            &["--protocol", "ESMTPS"],
            "use --protocol ESMTP instead of ESMTPS",
        ),
        (
            &["--protocol", "LMTPS"],
            "use --protocol LMTP instead of LMTPS",
        ),
        (
            &["--protocol", "ESMTPS", "--tls"],
            "leave out --tls and use --protocol ESMTP instead of ESMTPS",
        ),
    ];
    for (flags, words) in cases {
        for json in [false, true] {
            let srv = scripted(vec![
                Step::Send(b"220 x ESMTP\r\n"),
                Step::Line,
                Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
                Step::Expect("STARTTLS"),
                Step::Send(b"454 4.7.0 TLS not available\r\n"),
                Step::Expect("QUIT"),
                Step::Send(b"221 bye\r\n"),
            ]);
            let mut extra = flags.to_vec();
            if json {
                extra.push("--json");
            }
            let run = send(&srv, &extra);
            srv.finish();
            assert_eq!(run.code, 29, "{flags:?}: {}", run.all());
            let want = format!("retry later, or {words} to carry on in plaintext");
            assert!(run.all().contains(&want), "{flags:?}: {}", run.all());
            if words != "leave out --tls" && !words.starts_with("leave out --tls ") {
                assert!(!run.all().contains("leave out --tls"), "{}", run.all());
            }
        }
    }
    // Not offered: only required STARTTLS fails there (optional-strict carries on).
    for (flags, words) in [cases[0], cases[2], cases[3]] {
        let srv = scripted(vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Line,
            Step::Send(b"250-x\r\n250 8BITMIME\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let run = send(&srv, flags);
        srv.finish();
        assert_eq!(run.code, 29, "{flags:?}: {}", run.all());
        let want = format!("try --tls-on-connect on port 465, or {words})");
        assert!(run.all().contains(&want), "{flags:?}: {}", run.all());
        assert!(!run.all().contains("drop --tls"), "{}", run.all());
    }
}

/// `--tls-sni` naming an IPv4 address: RFC 6066 §3 allows no IP literal in SNI, so none is
/// sent; that is said once before connecting (a `!!!` line, a JSON `warning`), not left to the
/// "TLS no SNI sent" line alone. Other warnings of the command line stay beside it.
#[test]
fn an_ip_address_given_as_sni_is_warned_about_once() {
    let warning = "--tls-sni 10.0.0.1: an IP address is not a name SNI can carry (RFC 6066 §3): no SNI is sent";
    let quit_at_banner = || {
        scripted(vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ])
    };
    let srv = quit_at_banner();
    let run = send(&srv, &["--tls", "--tls-sni", "10.0.0.1", "-q", "connect"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        run.all().matches(&format!("!!! {warning}")).count(),
        1,
        "{}",
        run.all()
    );

    let srv = quit_at_banner();
    let run = send(
        &srv,
        &["--tls", "--tls-sni", "10.0.0.1", "-q", "connect", "--json"],
    );
    srv.finish();
    let warnings: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "warning")
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.all());
    assert_eq!(warnings[0]["data"]["message"], warning, "{}", run.all());

    // IPv6, bare or in brackets, is an IP address too: the same warning, not a refusal as
    // "no host name" (exit 1), which it was while IPv4 was warned about and went on.
    for ip in ["::1", "[::1]", "2001:db8::25"] {
        let srv = quit_at_banner();
        let run = send(&srv, &["--tls", "--tls-sni", ip, "-q", "connect"]);
        srv.finish();
        assert_eq!(run.code, 0, "{ip}: {}", run.all());
        let warning = format!(
            "!!! --tls-sni {ip}: an IP address is not a name SNI can carry (RFC 6066 §3): no SNI is sent"
        );
        assert_eq!(run.all().matches(&warning).count(), 1, "{}", run.all());
    }

    // A host name is sent: nothing to say. Without TLS the name is not used at all.
    for flags in [
        &["--tls", "--tls-sni", "mx.example.test"][..],
        &["--tls-sni", "10.0.0.1"][..],
    ] {
        let srv = quit_at_banner();
        let mut args = flags.to_vec();
        args.extend(["-q", "connect"]);
        let run = send(&srv, &args);
        srv.finish();
        assert!(
            !run.all().contains("SNI can carry"),
            "{flags:?}: {}",
            run.all()
        );
    }
}

/// A `--tls-cipher` list OpenSSL knows but that leaves no cipher it will offer for the
/// versions allowed (`aNULL` with TLS 1.2 only) is a usage error before connecting (exit 1,
/// one line): it used to pass the start-up check and fail after STARTTLS with exit 29.
#[test]
fn a_cipher_list_that_selects_nothing_is_refused_before_connecting() {
    let wire = tripwire();
    let server = wire.local_addr().unwrap().to_string();
    let run = ehlo(&[
        "--server",
        &server,
        "--to",
        "a@b.test",
        "--tls",
        "--tls-cipher",
        "aNULL",
        "--tls-protocol",
        "tlsv1_2",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.all());
    assert!(
        run.stderr.contains(
            "--tls-cipher 'aNULL' with the versions of --tls-protocol: OpenSSL has no cipher to offer"
        ),
        "{}",
        run.all()
    );
    assert!(wire.accept().is_err(), "connected: {}", run.all());
}

/// A `--tls-cipher` list that leaves nothing below TLS 1.3 while TLS 1.3 is allowed (`aNULL`
/// at the default security level) is no usage error, as a TLS 1.3 server is still reached,
/// but it used to be taken silently: the list asked for is then not what is negotiated, and a
/// server without TLS 1.3 refuses the handshake with a bare "handshake failure". Now one
/// warning before connecting says so; a list that works below TLS 1.3 gets none. With TLS
/// 1.3 alone the list is not used at all, and that is said instead of passing silently.
#[test]
fn a_cipher_list_left_only_tls13_is_warned_about_before_connecting() {
    let warning = "!!! --tls-cipher 'aNULL' leaves OpenSSL no cipher to offer below TLS 1.3 \
                   (no ciphers available; anonymous and null-encryption ciphers need \
                   '@SECLEVEL=0' in the list): only TLS 1.3 can be negotiated, with its own \
                   suites (--tls-ciphersuites), and a server without TLS 1.3 will refuse the \
                   handshake";
    let quit_at_banner = || {
        scripted(vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ])
    };
    let srv = quit_at_banner();
    let run = send(&srv, &["--tls", "--tls-cipher", "aNULL", "-q", "connect"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(run.all().matches(warning).count(), 1, "{}", run.all());
    // TLS 1.3 alone: the list is not used at all (its suites are --tls-ciphersuites).
    let srv = quit_at_banner();
    let run = send(
        &srv,
        &[
            "--tls",
            "--tls-cipher",
            "ECDHE-RSA-AES128-GCM-SHA256",
            "--tls-protocol",
            "tlsv1_3",
            "-q",
            "connect",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let unused = "!!! --tls-cipher 'ECDHE-RSA-AES128-GCM-SHA256' is not used: it sets the \
                  ciphers of TLS 1.2 and older, and --tls-protocol allows only TLS 1.3, whose \
                  suites are --tls-ciphersuites";
    assert_eq!(run.all().matches(unused).count(), 1, "{}", run.all());
    for flags in [
        &["--tls", "--tls-cipher", "aNULL:@SECLEVEL=0"][..],
        &["--tls", "--tls-cipher", "ECDHE-RSA-AES128-GCM-SHA256"][..],
        // Without TLS the list is not used at all.
        &["--tls-cipher", "aNULL"][..],
    ] {
        let srv = quit_at_banner();
        let mut args = flags.to_vec();
        args.extend(["-q", "connect"]);
        let run = send(&srv, &args);
        srv.finish();
        assert_eq!(run.code, 0, "{flags:?}: {}", run.all());
        assert!(
            !run.all().contains("below TLS 1.3"),
            "{flags:?}: {}",
            run.all()
        );
    }
}

/// A server that answers STARTTLS with 250: only 220 starts TLS (RFC 3207 §4), so this is no
/// refusal, and it is not called one. `--tls-optional` carries on in plain text saying what
/// happened (human and the JSON `warning`); `--tls` and `--tls-optional-strict` end with exit
/// 29 and the same words, nothing of the mail sent.
#[test]
fn a_250_to_starttls_is_said_as_tls_not_started() {
    const WORDS: &str = "STARTTLS was answered 250, not 220 (RFC 3207 §4): TLS not started";
    let server = |then_mail: bool| {
        let mut steps = vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
            Step::Expect("STARTTLS"),
            Step::Send(b"250 2.0.0 fine\r\n"),
        ];
        if then_mail {
            steps.extend([Step::Expect("MAIL FROM"), Step::Send(b"250 ok\r\n")]);
        }
        steps.extend([Step::Expect("QUIT"), Step::Send(b"221 bye\r\n")]);
        scripted(steps)
    };
    let optional = format!("{WORDS}; carrying on without TLS (--tls-optional)");

    let srv = server(true);
    let run = send(&srv, &["--tls-optional", "-q", "mail"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all().contains(&format!("!!! {optional}")),
        "{}",
        run.all()
    );
    assert!(!run.all().contains("refused"), "{}", run.all());

    let srv = server(true);
    let run = send(&srv, &["--tls-optional", "-q", "mail", "--json"]);
    srv.finish();
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .collect();
    let warnings: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|v| v["type"] == "warning")
        .map(|v| &v["data"]["message"])
        .collect();
    assert_eq!(
        warnings,
        [&serde_json::Value::from(optional)],
        "{}",
        run.all()
    );

    for flag in ["--tls", "--tls-optional-strict"] {
        let srv = server(false);
        let run = send(&srv, &[flag]);
        let got = srv.finish();
        assert_eq!(run.code, 29, "{flag}: {}", run.all());
        assert!(
            run.all()
                .contains(&format!("*** Result: failed (exit 29): {WORDS}\n")),
            "{flag}: {}",
            run.all()
        );
        assert!(!got.contains("MAIL"), "{flag}: the server got {got:?}");

        let srv = server(false);
        let run = send(&srv, &[flag, "--json"]);
        srv.finish();
        let summary = run
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["type"] == "summary")
            .expect("a summary");
        assert_eq!(summary["data"]["exit_code"], 29, "{flag}: {}", run.all());
        assert_eq!(summary["data"]["outcome"], "tls", "{flag}: {}", run.all());
        assert_eq!(summary["data"]["error"], WORDS, "{flag}: {}", run.all());
    }
}

/// A `--tls-ca-path` that does not exist is refused before connecting in the same words by
/// the send, `repl`, `check` and `probe` (one check behind them all; the send used to word it
/// otherwise): exit 1, one line, nothing connected.
#[test]
fn a_missing_tls_ca_path_is_worded_alike_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing-ca.pem");
    let path = missing.to_str().unwrap();
    let reason = format!("--tls-ca-path: {path} does not exist");
    let trap = tripwire();
    let addr = trap.local_addr().unwrap().to_string();
    let runs: [(&str, Vec<&str>); 4] = [
        ("send", vec!["--server", &addr, "--to", "a@b.test", "--tls"]),
        ("repl", vec!["repl", &addr, "--tls"]),
        ("check", vec!["check", "mx.example.test"]),
        ("probe", vec!["probe", &addr, "--to", "a@b.test"]),
    ];
    for (mode, mut args) in runs {
        args.extend(["--tls-ca-path", path]);
        let run = ehlo(&args);
        assert_eq!(run.code, 1, "{mode}: {}", run.all());
        assert_eq!(run.stdout, "", "{mode}: {}", run.all());
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{mode}: {}", run.all());
        // The same line in every mode, none naming itself first.
        assert_eq!(lines[0], format!("*** {reason}"), "{mode}");
    }
    assert!(trap.accept().is_err(), "nothing may connect");
}

/// A chain the CA file given does not vouch for: the hint said "use --tls-ca-path FILE if the
/// CA is private" to a send given `--tls-ca-path`; it names the file given instead.
#[test]
fn a_ca_file_given_is_not_asked_for_again() {
    // Another CA than the one (the scripted server's own self-signed certificate) that signed.
    let other = rcgen::generate_simple_self_signed(vec!["other.test".into()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("other.pem");
    std::fs::write(&ca, other.cert.pem()).unwrap();
    let srv = scripted(vec![Step::Tls, Step::ExpectCloseNotify]);
    let run = send(
        &srv,
        &["--tls-on-connect", "--tls-ca-path", ca.to_str().unwrap()],
    );
    srv.finish();
    assert_eq!(run.code, 29, "{}", run.all());
    let all = run.all();
    assert!(!all.contains("use --tls-ca-path FILE if"), "{all}");
    assert!(
        all.contains("the CA file given (--tls-ca-path FILE) replaces the system store"),
        "{all}"
    );
    // Without it, the system store: the remedy is a CA file.
    let srv = scripted(vec![Step::Tls, Step::ExpectCloseNotify]);
    let run = send(&srv, &["--tls-on-connect"]);
    srv.finish();
    assert!(
        run.all().contains("use --tls-ca-path FILE if"),
        "{}",
        run.all()
    );
}
