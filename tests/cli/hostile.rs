//! Hostile servers against the one-shot client: replies built to cost quadratic CPU,
//! unbounded memory or an endless read, replies that arrive before their command, and banners
//! that never end their line. Each must end within the timeout with the phase's exit code and a
//! diagnosis that says what actually arrived.

use std::time::Duration;

use crate::util::*;

fn send_with_limit(srv: &Scripted, extra: &[&str], limit: Duration) -> Run {
    let mut args = send_args(&srv.server());
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ehlo_with(&refs, None, limit)
}

/// An EHLO reply of 100 lines × 1000 distinct AUTH names (800 KB, under the reply limit).
fn many_auth_names() -> Vec<u8> {
    let mut out = b"250-hostile.test\r\n".to_vec();
    for line in 0..100 {
        let names: Vec<String> = (0..1000).map(|i| format!("M{line:03}X{i:04}")).collect();
        out.extend_from_slice(format!("250-AUTH {}\r\n", names.join(" ")).as_bytes());
    }
    out.extend_from_slice(b"250 PIPELINING\r\n");
    out
}

#[test]
fn many_auth_names_are_parsed_within_the_reply_timeout() {
    // The de-duplication of AUTH names was quadratic, so parsing this reply
    // took minutes, far past --timeout. The server then says nothing: MAIL times out (exit 23),
    // and the whole run must stay within the timeout plus start-up.
    let srv = scripted(vec![
        Step::Send(b"220 hostile.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::SendOwned(many_auth_names()),
        Step::Expect("MAIL FROM:"),
        Step::Sleep(Duration::from_secs(6)),
    ]);
    let run = send_with_limit(&srv, &["--timeout", "3"], Duration::from_secs(20));
    srv.finish();
    assert_eq!(run.code, 23, "{}", run.all());
    assert!(run.all().contains("waiting in MAIL phase"), "{}", run.all());
    assert!(
        run.elapsed < Duration::from_secs(12),
        "the reply timeout did not bound the run: {:?}",
        run.elapsed
    );
}

/// 1000 lines of 7.8 KB: 7.8 MB for one EHLO reply.
fn huge_ehlo() -> Vec<u8> {
    let line = [b"250-".to_vec(), vec![b'x'; 7800], b"\r\n".to_vec()].concat();
    let mut out = line.repeat(1000);
    out.extend_from_slice(b"250 END\r\n");
    out
}

#[test]
fn a_huge_reply_is_cut_at_the_limit_with_the_phase_exit_code() {
    // The whole reply was kept (122 MiB of RSS). It is cut at 1 MiB, reported
    // with what was received, and the EHLO phase fails (exit 22) without QUIT.
    for json in [false, true] {
        let srv = scripted(vec![
            Step::Send(b"220 hostile.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::SendOwned(huge_ehlo()),
        ]);
        let extra: &[&str] = if json { &["--json"] } else { &[] };
        let run = send_with_limit(&srv, extra, Duration::from_secs(20));
        let got = srv.finish();
        assert_eq!(run.code, 22, "json={json}: {}", run.stderr);
        let all = run.all();
        assert!(
            all.contains("reply too large: 1 053 810 bytes in 135 lines passed the limit of 1 048 576 bytes and 1000 lines"),
            "json={json}: {all:.2000}"
        );
        assert!(!got.contains("QUIT"), "{got}");
        if json {
            assert!(all.contains(r#""kind":"reply_too_large""#), "{all:.2000}");
            assert!(
                all.contains(r#""error":"reply_too_large""#) || all.contains("reply_too_large")
            );
        }
    }
}

#[test]
fn a_reply_that_never_ends_is_cut_instead_of_read_forever() {
    // `250-x` forever (the parser's side; tests/repl.rs has the REPL's). The reply is cut after
    // 1000 lines, long before the 30 s timeout.
    let srv = scripted(vec![
        Step::Send(b"220 hostile.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Flood(b"250-x\r\n", Duration::from_secs(15)),
    ]);
    let run = send_with_limit(&srv, &["--timeout", "30"], Duration::from_secs(25));
    srv.finish();
    assert_eq!(run.code, 22, "{}", run.all());
    assert!(
        run.all()
            .contains("reply too large: 7 007 bytes in 1 001 lines"),
        "{}",
        run.all()
    );
    assert!(run.elapsed < Duration::from_secs(20), "{:?}", run.elapsed);
}

#[test]
fn a_reply_before_its_command_is_reported_once() {
    // "250 early" arrives with the banner, so it is taken as EHLO's reply and
    // every later reply is shifted by one. Said the first time, not on every reply.
    let srv = scripted(vec![
        Step::Send(b"220 hostile.test ESMTP\r\n250 early\r\n"),
        Step::Expect("EHLO"),
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 2.0.0 EHLO reply\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"250 2.1.0 MAIL reply\r\n"),
        Step::Expect("DATA"),
        Step::Close,
    ]);
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 6, "{}", run.all());
    let all = run.all();
    assert_eq!(
        all.matches("a reply arrived before its command was sent")
            .count(),
        1,
        "{all}"
    );
}

#[test]
fn in_step_replies_are_not_reported_as_early() {
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["--json"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!run.all().contains("early_reply"), "{}", run.all());
}

#[test]
fn a_banner_without_a_line_end_says_what_arrived() {
    // 100 KB of banner without a line end is not "no banner".
    let mut banner = b"220 ".to_vec();
    banner.extend(vec![b'x'; 102_400]);
    let srv = scripted(vec![
        Step::SendOwned(banner),
        Step::Sleep(Duration::from_secs(4)),
    ]);
    let run = send_with_limit(&srv, &["--timeout", "2"], Duration::from_secs(20));
    srv.finish();
    assert_eq!(run.code, 21, "{}", run.all());
    let all = run.all();
    assert!(
        all.contains("no complete banner within 2 s: 102 404 bytes without a line end"),
        "{all}"
    );
    assert!(!all.contains("implicit TLS"), "{all}");
}

#[test]
fn a_trickled_banner_says_how_little_arrived() {
    let srv = scripted(vec![
        Step::Trickle(b"220 slow", Duration::from_millis(700)),
        Step::Sleep(Duration::from_secs(2)),
    ]);
    let run = send_with_limit(&srv, &["--timeout", "2"], Duration::from_secs(20));
    srv.finish();
    assert_eq!(run.code, 21, "{}", run.all());
    let all = run.all();
    assert!(all.contains("no complete banner within 2 s: "), "{all}");
    assert!(all.contains("bytes without a line end"), "{all}");
    assert!(!all.contains("implicit TLS"), "{all}");
}

#[test]
fn a_banner_that_keeps_coming_gets_the_same_diagnosis_whenever_the_deadline_strikes() {
    // A byte every 100 µs: when the 2 s pass, a read is nearly always finishing, and the
    // deadline found passed after it used to end the run with a bare "timed out" (no word on
    // what arrived, no QUIT), while the clock striking between two bytes gave the diagnosis.
    // Both are the same timeout now.
    let srv = scripted(vec![
        Step::Send(b"220 "),
        Step::Dribble(b'x', Duration::from_micros(100), Duration::from_secs(6)),
    ]);
    let run = send_with_limit(&srv, &["--timeout", "2"], Duration::from_secs(20));
    srv.finish();
    assert_eq!(run.code, 21, "{}", run.all());
    let all = run.all();
    assert!(all.contains("no complete banner within 2 s: "), "{all}");
    assert!(all.contains("bytes without a line end"), "{all}");
    // No QUIT into the half-received banner (the rest would be read as its reply).
    assert!(!all.contains(" -> QUIT"), "{all}");
    assert!(
        all.contains("timed out after 2s waiting in banner phase"),
        "{all}"
    );
}

#[test]
fn a_silent_server_still_gets_the_implicit_tls_hint() {
    let srv = scripted(vec![Step::Sleep(Duration::from_secs(3))]);
    let run = send_with_limit(&srv, &["--timeout", "1"], Duration::from_secs(20));
    srv.finish();
    assert_eq!(run.code, 21, "{}", run.all());
    assert!(run.all().contains("not one byte in 1 s"), "{}", run.all());
    assert!(run.all().contains("implicit TLS"), "{}", run.all());
}

#[test]
fn a_reply_to_the_dot_cut_off_by_the_close_is_not_success() {
    // The first line of a multi-line reply, or a last line without its CRLF, then the close:
    // the reply never ended, so the message was not accepted (Postfix: "lost connection after
    // end of data"). Exit 6 for the close, blamed on the end of data; the partial reply and
    // the deviation are still shown.
    for cut in [&b"250-2.0.0 queued as X\r\n"[..], b"250 2.0.0 queued"] {
        for json in [false, true] {
            let srv = scripted(after_greet(vec![
                Step::Expect("MAIL FROM:"),
                Step::Send(b"250 2.1.0 Ok\r\n"),
                Step::Expect("RCPT TO:"),
                Step::Send(b"250 2.1.5 Ok\r\n"),
                Step::Expect("DATA"),
                Step::Send(b"354 go\r\n"),
                Step::Data,
                Step::SendOwned(cut.to_vec()),
                Step::Close,
            ]));
            let extra: &[&str] = if json { &["--json"] } else { &[] };
            let run = send(&srv, extra);
            srv.finish();
            let all = run.all();
            let case = format!("{} json={json}", String::from_utf8_lossy(cut));
            assert_eq!(run.code, 6, "{case}: {all}");
            assert!(all.contains("queued"), "{case}: {all}");
            if json {
                assert!(all.contains(r#""message_accepted":false"#), "{case}: {all}");
                assert!(
                    all.contains(r#""kind":"truncated_at_close""#),
                    "{case}: {all}"
                );
                assert!(all.contains(r#""outcome":"closed""#), "{case}: {all}");
            } else {
                assert!(
                    all.contains("connection closed in the middle of a reply"),
                    "{case}: {all}"
                );
                assert!(
                    all.contains("closed the connection during end of data"),
                    "{case}: {all}"
                );
                assert!(!all.contains("Result: ok"), "{case}: {all}");
                assert!(all.contains("so it answers nothing"), "{case}: {all}");
                assert!(!all.contains("ehlo tolerated it"), "{case}: {all}");
            }
        }
    }
}

#[test]
fn a_cut_off_reply_fails_the_phase_it_cut_off() {
    // EHLO: a cut `250-` is no greeting, so no MAIL goes out.
    let srv = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-scripted.test\r\n250-bar\r\n"),
        Step::Close,
    ]);
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 6, "{}", run.all());
    assert!(
        run.all().contains("closed the connection during EHLO"),
        "{}",
        run.all()
    );
    assert!(!run.all().contains("MAIL FROM"), "{}", run.all());
    // RCPT: a cut reply accepts no recipient.
    let srv = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-scripted.test\r\n250 8BITMIME\r\n"),
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"250-2.1.5 Ok\r\n"),
        Step::Close,
    ]);
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 6, "{}", run.all());
    assert!(
        run.all().contains("closed the connection during RCPT"),
        "{}",
        run.all()
    );
    assert!(!run.all().contains("-> DATA"), "{}", run.all());
}

/// A server that answers STARTTLS with 220 and then stalls the handshake: the timeout names
/// the handshake (the 220 came; it used to read "waiting in STARTTLS phase", as for a server
/// that never answers STARTTLS), and the failure is a `tls_failed` event as every other
/// handshake failure is.
#[test]
fn a_stalled_starttls_handshake_times_out_as_a_handshake() {
    for json in [false, true] {
        let srv = scripted(vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
            Step::Expect("STARTTLS"),
            Step::Send(b"220 2.0.0 go ahead\r\n"),
            Step::Sleep(Duration::from_secs(4)),
        ]);
        let mut extra = vec!["--tls", "-k", "--timeout", "2"];
        if json {
            extra.push("--json");
        }
        let run = send_with_limit(&srv, &extra, Duration::from_secs(20));
        drop(srv);
        let all = run.all();
        assert_eq!(run.code, 29, "json={json}: {all}");
        assert!(
            all.contains(
                "timed out after 2s in the TLS handshake (after the server's 220 to STARTTLS)"
            ),
            "json={json}: {all}"
        );
        if json {
            assert!(
                all.contains(
                    r#"{"type":"tls_failed","data":{"reason":"TLS handshake timed out after 2s"}"#
                ),
                "{all}"
            );
            assert!(all.contains(r#""outcome":"timeout""#), "{all}");
        } else {
            assert!(
                all.contains("*** TLS handshake timed out after 2s\n"),
                "{all}"
            );
        }
    }
}

#[test]
fn a_silent_implicit_tls_handshake_times_out_as_a_handshake_not_starttls() {
    // --tls-on-connect to a server that accepts and says nothing: no STARTTLS was ever sent, so
    // the timeout names the TLS handshake; the exit code is the TLS phase's (29).
    for json in [false, true] {
        let srv = scripted(vec![Step::Sleep(Duration::from_secs(4))]);
        let mut extra = vec!["--tls-on-connect", "--timeout", "2"];
        if json {
            extra.push("--json");
        }
        let run = send_with_limit(&srv, &extra, Duration::from_secs(20));
        srv.finish();
        let all = run.all();
        assert_eq!(run.code, 29, "json={json}: {all}");
        assert!(
            all.contains("timed out after 2s in the TLS handshake (implicit TLS"),
            "json={json}: {all}"
        );
        assert!(!all.contains("STARTTLS"), "json={json}: {all}");
        if json {
            assert!(all.contains(r#""outcome":"timeout""#), "{all}");
        }
    }
}

#[test]
fn a_multi_line_rcpt_reply_ending_in_550_refuses_the_recipient() {
    // `250-` then `550` to RCPT: the last line is the verdict (swaks exits 24 too).
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"250-2.1.5 ok\r\n550 5.1.1 user unknown\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 2.0.0 Bye\r\n"),
    ]));
    let run = send(&srv, &["--json"]);
    srv.finish();
    assert_eq!(run.code, 24, "{}", run.all());
    assert!(
        run.stdout.contains(r#""status":"perm_failed""#),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(r#""kind":"mixed_codes""#),
        "{}",
        run.stdout
    );
}

#[test]
fn a_221_after_the_dot_is_no_acceptance() {
    // RFC 5321 §4.3.2: 250 after the dot. A 221 answers some other command (swaks: 26).
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"250 2.1.5 Ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\r\n"),
        Step::Data,
        Step::Send(b"221 2.0.0 closing\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 2.0.0 Bye\r\n"),
    ]));
    let run = send(&srv, &["--json"]);
    srv.finish();
    assert_eq!(run.code, 26, "{}", run.all());
    assert!(
        run.stdout.contains(r#""message_accepted":false"#),
        "{}",
        run.stdout
    );
}

#[test]
fn a_250_sent_with_the_354_is_no_acceptance() {
    // The `250` came before the content was sent; the real verdict (500) follows it.
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"250 2.1.5 Ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\r\n250 queued early\r\n"),
        Step::Data,
        Step::Send(b"500 what\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 2.0.0 Bye\r\n"),
    ]));
    let run = send(&srv, &["--json"]);
    srv.finish();
    assert_eq!(run.code, 26, "{}", run.all());
    assert!(
        run.stdout.contains(r#""message_accepted":false"#),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(r#""kind":"early_reply""#),
        "{}",
        run.stdout
    );
}

#[test]
fn a_password_the_server_echoes_is_never_printed() {
    // sendmail-style: the password line comes back in the 500. Masked in the transcript, the
    // result line, the JSON and the raw bytes.
    for extra in [&["--json"][..], &[][..], &["--raw"][..]] {
        let srv = scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250-x\r\n250 AUTH LOGIN\r\n"),
            Step::Expect("AUTH LOGIN"),
            Step::Send(b"334 VXNlcm5hbWU6\r\n"),
            Step::Line,
            Step::Send(b"334 UGFzc3dvcmQ6\r\n"),
            Step::Line,
            Step::Send(b"500 5.5.1 unrecognized command UzNjcmV0UFc=\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let mut args = vec![
            "--auth",
            "LOGIN",
            "--auth-user",
            "u",
            "--auth-password",
            "S3cretPW",
            "--allow-plaintext-auth",
        ];
        args.extend_from_slice(extra);
        let run = send(&srv, &args);
        srv.finish();
        assert_eq!(run.code, 28, "{}", run.all());
        let all = run.all();
        assert!(
            !all.contains("UzNjcmV0UFc") && !all.contains("S3cretPW"),
            "{all}"
        );
        assert!(all.contains("unrecognized command ********"), "{all}");
    }
}

#[test]
fn a_close_instead_of_the_221_is_exit_6_with_the_message_accepted() {
    let mut steps = after_greet(accept_all());
    steps.truncate(steps.len() - 1);
    steps.push(Step::Close);
    let srv = scripted(steps);
    let run = send(&srv, &["--json"]);
    srv.finish();
    assert_eq!(run.code, 6, "{}", run.all());
    assert!(
        run.stdout.contains(r#""message_accepted":true"#),
        "{}",
        run.stdout
    );
}

/// Server text a terminal acts on that JSON may carry raw: a C1 CSI (U+009B, here `CSI 2 J`,
/// clear screen), DEL, and a right-to-left override (U+202E) that reorders what is shown.
const TERMINAL_BAIT: &str = "evil \u{9b}2J del\u{7f} bidi \u{202e}txt.exe";

/// Every line of `out` is one JSON value, none carries a raw C1 control, DEL or bidi override,
/// and at least one string in it is `TERMINAL_BAIT` again once parsed.
fn assert_terminal_safe_json(out: &str) {
    let raw = |c: char| matches!(u32::from(c), 0x7f..=0x9f | 0x202a..=0x202e | 0x2066..=0x2069);
    assert!(
        !out.chars().any(raw),
        "raw terminal controls in JSON: {out:?}"
    );
    let mut found = false;
    for l in out.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        found |= v.to_string().contains(TERMINAL_BAIT);
    }
    assert!(
        found,
        "the server's text did not survive the escaping: {out}"
    );
}

#[test]
fn json_escapes_the_terminal_controls_a_server_sends() {
    // serde_json escapes only U+0000-U+001F: a C1 CSI, DEL or a bidi override in a banner was
    // written raw, so `tail -f` of --json output or of a --log file let the server drive the
    // terminal or reorder the text shown. They are \u escapes now; the parsed value is the same.
    let banner = format!("220 {TERMINAL_BAIT}\r\n").into_bytes();
    let srv = scripted(vec![
        Step::SendOwned(banner.clone()),
        Step::Expect("EHLO"),
        Step::Send(b"250 hostile.test\r\n"),
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::SendOwned(format!("550 5.1.1 {TERMINAL_BAIT}\r\n").into_bytes()),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let run = send_with_limit(&srv, &["--json"], Duration::from_secs(20));
    srv.finish();
    assert_eq!(run.code, 24, "{}", run.all());
    assert_terminal_safe_json(&run.stdout);

    // `ehlo probe --json` writes its reports through another writer: the same holds there.
    let srv = scripted(vec![
        Step::SendOwned(banner),
        Step::Expect("EHLO"),
        Step::Send(b"250 hostile.test\r\n"),
        Step::Expect("VRFY"),
        Step::SendOwned(format!("502 5.5.1 {TERMINAL_BAIT}\r\n").into_bytes()),
        Step::Expect("VRFY"),
        Step::SendOwned(format!("502 5.5.1 {TERMINAL_BAIT}\r\n").into_bytes()),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let args = [
        "probe",
        &srv.server(),
        "--to",
        "a@hostile.test",
        "--yes",
        "--json",
        "--timeout",
        "5s",
        "--only",
        "enum.vrfy",
    ];
    let run = ehlo_with(&args, None, Duration::from_secs(30));
    srv.finish();
    assert_terminal_safe_json(&run.stdout);
}

#[test]
fn a_four_digit_code_is_no_acceptance() {
    // `2500 queued` was read as code 250 with the text `0 queued`: the run said `Result: ok`,
    // exit 0, for a reply Postfix and Exim take for garbage. Four digits are no reply code.
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"250 2.1.5 Ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\r\n"),
        Step::Data,
        Step::Send(b"2500 queued\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 2.0.0 Bye\r\n"),
    ]));
    let run = send(&srv, &["--json"]);
    srv.finish();
    assert_eq!(run.code, 26, "{}", run.all());
    assert!(
        run.stdout.contains(r#""message_accepted":false"#),
        "{}",
        run.stdout
    );
    // This server spoke SMTP until then: the hint is not "wrong port or not an SMTP server?".
    assert!(
        run.stdout.contains("no three-digit reply code") && !run.stdout.contains("wrong port"),
        "{}",
        run.stdout
    );

    // A greeting of `2200 ready` is no 220: the banner phase fails, nothing more is sent.
    let srv = scripted(vec![Step::Send(b"2200 ready\r\n"), Step::Expect("QUIT")]);
    let run = send(&srv, &[]);
    srv.finish();
    assert_eq!(run.code, 21, "{}", run.all());
    assert!(
        run.stderr.contains("got no code 2200 ready"),
        "{}",
        run.all()
    );
}

#[test]
fn a_keyword_listed_twice_with_other_parameters_is_warned_about() {
    // `SIZE 100` then `SIZE 100000000`: ehlo took the first in silence, so its "over the
    // server's SIZE limit of 100" warning had no visible cause. The contradiction is said.
    let srv = scripted(vec![
        Step::Send(b"220 hostile.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-hostile.test\r\n250-SIZE 100\r\n250-SIZE 100000000\r\n250 SIZE abc\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let run = send_with_limit(&srv, &["--quit-after", "EHLO"], Duration::from_secs(20));
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains(
            "the EHLO reply lists SIZE more than once with different parameters \
             (100 / 100000000 / abc): ehlo uses the first"
        ),
        "{}",
        run.all()
    );
}

/// A server that refuses a BDAT at once and closes without reading its chunk (RFC 3030 §2 has
/// it read the chunk first): the write of the chunk fails (reset by peer), but the refusal
/// came first and is still unread. The send reads it: the result is that refusal at the end
/// of data (exit 26), not the reset. It used to say only "end of data: Connection reset by
/// peer (os error 104)", exit 6, the server's 552 never shown.
#[test]
fn a_bdat_refused_before_its_chunk_is_read_says_the_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.eml");
    // More than the socket buffers of both ends hold, so the write is cut by the reset.
    let line = format!("{}\r\n", "a".repeat(998));
    std::fs::write(&big, format!("Subject: big\r\n\r\n{}", line.repeat(20_000))).unwrap();
    let srv = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-scripted.test\r\n250 CHUNKING\r\n"),
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"250 2.1.5 Ok\r\n"),
        Step::Expect("BDAT"),
        Step::Send(b"552 5.3.4 message too big for scripted.test\r\n"),
        Step::Sleep(Duration::from_millis(200)),
        Step::Close,
    ]);
    let at = format!("@{}", big.display());
    let run = send_with_limit(&srv, &["--bdat", "--data", &at], Duration::from_secs(60));
    srv.finish();
    let all = run.all();
    assert_eq!(run.code, 26, "{all}");
    // The transcript is 20 MB: scanned by memchr, not the debug build's `str::contains`.
    assert!(
        has(&all, "552 5.3.4 message too big for scripted.test\n"),
        "{all}"
    );
    assert!(a_line_has(&all, "Result: failed", "552 5.3.4"), "{all}");
    // The server has closed: no QUIT is written into the dead connection (nor shown as sent).
    assert!(!has(&all, "QUIT"), "{all}");
}

/// `ehlo check` against a server whose answer to EHLO has no reply code (`25 ok`, two digits):
/// that is no SMTP reply, as the greeting's check says of one without a code. It read
/// `EHLO refused: ??? 25 ok`, a refusal by a code that never came.
#[test]
fn check_says_an_ehlo_answer_without_a_code_is_no_smtp_reply() {
    let srv = scripted(vec![
        Step::Send(b"220 hostile.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"25 ok\r\n"),
        Step::Sleep(Duration::from_millis(300)),
    ]);
    let port = srv.server().rsplit(':').next().unwrap().to_string();
    let run = ehlo_with(
        &[
            "check",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--json",
            "--timeout",
            "5s",
        ],
        None,
        Duration::from_secs(30),
    );
    srv.finish();
    assert_eq!(run.code, 40, "{}", run.all());
    let ehlo: serde_json::Value = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["id"] == "smtp.ehlo")
        .unwrap_or_else(|| panic!("no smtp.ehlo: {}", run.all()));
    assert_eq!(ehlo["status"], "fail", "{ehlo}");
    assert_eq!(
        ehlo["summary"], "not an SMTP reply to EHLO: no reply code in '25 ok'",
        "{ehlo}"
    );
    assert!(!run.stdout.contains("???"), "{}", run.stdout);
}

/// A reply line of 8 000 bytes that are not UTF-8 (32 000 characters once escaped) and no
/// code: the transcript shows it whole (the wire is never cut), but the result line and the
/// JSON summary's `error` quote its start and its size. The result line was 32 KB long.
#[test]
fn a_huge_garbage_reply_is_quoted_short_in_the_result() {
    let mut garbage = vec![0xFF; 8000];
    garbage.extend_from_slice(b"\r\n");
    for json in [false, true] {
        let srv = scripted(vec![
            Step::Send(b"220 hostile.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::SendOwned(garbage.clone()),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let extra: &[&str] = if json { &["--json"] } else { &[] };
        let run = send_with_limit(&srv, extra, Duration::from_secs(30));
        srv.finish();
        assert_eq!(run.code, 22, "json={json}: {:.3000}", run.all());
        let result = if json {
            let summary: serde_json::Value =
                serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
            summary["data"]["error"].as_str().unwrap().to_string()
        } else {
            run.stderr
                .lines()
                .find(|l| l.contains("Result: failed"))
                .unwrap_or_else(|| panic!("no result line: {:.3000}", run.stderr))
                .to_string()
        };
        assert!(
            result.len() < 700,
            "json={json}: {} bytes: {result:.3000}",
            result.len()
        );
        assert!(
            result.contains("EHLO: expected 250, got no code \\xFF\\xFF")
                && result.ends_with("(32 000 bytes in all)"),
            "json={json}: {result:.3000}"
        );
    }
}
