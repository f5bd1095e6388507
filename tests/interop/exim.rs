//! Exim 4 (the other most deployed MTA; it sends no enhanced status codes) as an interop peer:
//! the same cases as against Postfix, each named `exim_*`, and Exim as a *client* of
//! `ehlo serve` (a manualroute router with TLS and AUTH required, BDAT, DSN, LMTP).
//!
//! Exim runs from extracted Debian packages in a private mount namespace (see
//! `tests/interop/exim.sh`, started by `setup.sh`):
//! - 127.0.0.1:2625 STARTTLS, 127.0.0.1:4665 implicit TLS, 127.0.0.1:2687 (same daemon);
//!   AUTH PLAIN/LOGIN/CRAM-MD5 after TLS as `ehlotest` / `interop-secret-1`; CHUNKING, PRDR,
//!   DSN, SMTPUTF8, 8BITMIME, PIPELINING, SIZE 1048576.
//! - `refused@exim.test` is refused at RCPT, `sender-check@exim.test` verifies the sender,
//!   `prdr-refused@exim.test` is refused per recipient after the content (PRDR).
//! - Every other `…@exim.test` lands in `/tmp/ehlo-interop/exim/mail/Maildir` (LF line ends).
//! - `…@serve-PORT.test` is relayed to `ehlo serve` on 127.0.0.1:PORT (STARTTLS and AUTH PLAIN
//!   `exim-client` / `client-secret-2` required), `…@lmtp-PORT.test` over LMTP.

use super::*;

const EXIM_SMTP: &str = "127.0.0.1:2625";
const EXIM_THIRD: &str = "127.0.0.1:2687";
const EXIM_MAILDIR: &str = "/tmp/ehlo-interop/exim/mail/Maildir";
const EXIM_MAINLOG: &str = "/tmp/ehlo-interop/exim/log/mainlog";
const EXIM_RCPT: &str = "user@exim.test";
const EXIM_SENDER: &str = "sender@exim.test";
const CLIENT_USER: &str = "exim-client";
const CLIENT_PASS: &str = "client-secret-2";

pub(super) fn require_exim() {
    require_peer("Exim", EXIM_SMTP, Some("ehlo-interop-exim"));
    require_peer("Exim (third port)", EXIM_THIRD, Some("ehlo-interop-exim"));
    assert!(
        Path::new(POSTFIX_CERT).is_file(),
        "interop certificate {POSTFIX_CERT} missing: run tests/interop/setup.sh"
    );
}

fn exim_maildir() -> PathBuf {
    PathBuf::from(EXIM_MAILDIR)
}

/// The part of Exim's main log written while `f` ran (plus a moment for the delivery).
fn mainlog_during(f: impl FnOnce()) -> String {
    let before = fs::metadata(EXIM_MAINLOG).map(|m| m.len()).unwrap_or(0);
    f();
    thread::sleep(Duration::from_millis(500));
    let all = fs::read(EXIM_MAINLOG).unwrap_or_default();
    let from = usize::try_from(before).unwrap_or(0).min(all.len());
    String::from_utf8_lossy(&all[from..]).into_owned()
}

fn base(server: &str, to: &str) -> Vec<String> {
    vec![
        "--server".into(),
        server.into(),
        "--to".into(),
        to.into(),
        "--from".into(),
        EXIM_SENDER.into(),
        "--helo".into(),
        "client.ehlo.test".into(),
    ]
}

fn ehlo_v(args: &[String]) -> Run {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ehlo(&refs)
}

// ------------------------------------------------------------------------------------------------
// ehlo → Exim
// ------------------------------------------------------------------------------------------------

/// Exim drops a client that sends more than smtp_accept_max_nonmail (10) commands carrying no
/// mail with "554 Too many nonmail commands"; the REPL explains that limit, not a generic 554.
#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_too_many_nonmail_commands_is_explained() {
    require_exim();
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("noops");
    let mut text = String::from("EHLO client.ehlo.test\n");
    for _ in 0..12 {
        text.push_str("NOOP\n");
    }
    fs::write(&script, text).expect("write the script");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("exec \"$0\" repl \"$1\" < \"$2\"")
        .arg(ehlo_bin())
        .arg(EXIM_SMTP)
        .arg(&script);
    let run = run_bounded(cmd);
    run.assert_contains("554 Too many nonmail commands");
    run.assert_contains("hint: the server counted too many commands that carry no mail");
    run.assert_contains("smtp_accept_max_nonmail");
    assert!(!run.all().contains("refused for good"), "{}", run.dump());
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_plain_send_is_byte_exact_in_the_maildir() {
    require_exim();
    let token = unique("exim-exact");
    let text = tricky_message(&token, EXIM_RCPT);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("m.eml");
    fs::write(&file, &text).expect("write message");
    let mut a = base(EXIM_SMTP, EXIM_RCPT);
    a.extend(["--data".into(), format!("@{}", file.display())]);
    let run = ehlo_v(&a);
    run.assert_exit(0);
    run.assert_contains("250 OK id=");
    let (path, stored) = wait_for_maildir(&exim_maildir(), &token, DELIVERY_LIMIT);
    // Exim stores LF line ends in a Maildir, and puts its trace headers first (Return-path,
    // Envelope-to, Received); everything after them is the message as sent, byte for byte.
    let want = text.as_bytes();
    let at = stored
        .windows(want.len())
        .position(|w| w == want)
        .unwrap_or_else(|| {
            panic!(
                "{}: the message is not stored byte-exact\n{}",
                path.display(),
                mismatch(&stored, want)
            )
        });
    assert!(
        is_trace_header_block(&stored[..at]),
        "Exim added more than trace headers:\n{}",
        String::from_utf8_lossy(&stored[..at])
    );
    assert_eq!(at + want.len(), stored.len(), "bytes after the message");
    let prefix = String::from_utf8_lossy(&stored[..at]);
    assert!(
        prefix.contains(&format!("Envelope-to: {EXIM_RCPT}")),
        "{prefix}"
    );
    assert!(prefix.contains("helo=client.ehlo.test"), "{prefix}");
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_starttls_verified_with_ca_file_and_closed_with_close_notify() {
    require_exim();
    let token = unique("exim-starttls");
    let mut a = base("localhost:2625", EXIM_RCPT);
    a.extend(
        [
            "--tls",
            "--tls-ca-path",
            POSTFIX_CERT,
            "--header",
            &format!("Subject: {token}"),
        ]
        .map(String::from),
    );
    let mut run = None;
    let log = mainlog_during(|| run = Some(ehlo_v(&a)));
    let run = run.unwrap();
    run.assert_exit(0);
    run.assert_contains("STARTTLS");
    let (_, stored) = wait_for_maildir(&exim_maildir(), &token, DELIVERY_LIMIT);
    assert!(
        contains_bytes(&stored, b"with esmtps"),
        "Received: does not show TLS:\n{}",
        String::from_utf8_lossy(&stored)
    );
    // ehlo ends the TLS session with close_notify: Exim (GnuTLS) logs "The TLS connection was
    // non-properly terminated" when a client just drops the TCP connection.
    assert!(
        log.contains("P=esmtps"),
        "no TLS reception in the log:\n{log}"
    );
    assert!(
        !log.contains("non-properly terminated") && !log.contains("TLS error"),
        "Exim saw the TLS session end without close_notify:\n{log}"
    );
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_implicit_tls_verified_with_ca_file() {
    require_exim();
    let token = unique("exim-smtps");
    let mut a = base("localhost:4665", EXIM_RCPT);
    a.extend(
        [
            "--tls-on-connect",
            "--tls-ca-path",
            POSTFIX_CERT,
            "--header",
            &format!("Subject: {token}"),
        ]
        .map(String::from),
    );
    let mut run = None;
    let log = mainlog_during(|| run = Some(ehlo_v(&a)));
    let run = run.unwrap();
    run.assert_exit(0);
    run.assert_contains("TLS");
    wait_for_maildir(&exim_maildir(), &token, DELIVERY_LIMIT);
    assert!(
        !log.contains("non-properly terminated"),
        "no close_notify on implicit TLS:\n{log}"
    );
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_trusted_certificate_reached_by_ip_suggests_the_name() {
    require_exim();
    // The CA file makes the chain trusted; 127.0.0.1 is in the certificate too, so check
    // against a name it does not hold: the advice is the name, not another CA file.
    let mut a = base(EXIM_SMTP, EXIM_RCPT);
    a.extend(
        [
            "--tls",
            "--tls-ca-path",
            POSTFIX_CERT,
            "--tls-verify-target",
            "mx.other.test",
            "--quit-after",
            "tls",
        ]
        .map(String::from),
    );
    let mut run = None;
    let log = mainlog_during(|| run = Some(ehlo_v(&a)));
    let run = run.unwrap();
    run.assert_exit(29);
    run.assert_contains("--tls-verify-target localhost");
    assert!(!run.all().contains("--tls-ca-path FILE"), "{}", run.dump());
    // An error path: the handshake completed, the name check failed, and ehlo still ends the
    // TLS session with close_notify (Exim logs "non-properly terminated" otherwise).
    assert!(
        !log.contains("non-properly terminated") && !log.contains("TLS error"),
        "Exim saw the TLS session end without close_notify:\n{log}"
    );
}

fn exim_auth(mech: &str) {
    exim_auth_with(mech, &[]);
}

fn exim_auth_with(mech: &str, extra: &[&str]) {
    require_exim();
    let token = unique(&format!("exim-auth-{mech}"));
    let mut a = base(EXIM_SMTP, EXIM_RCPT);
    a.extend(
        [
            "--tls",
            "--insecure",
            "--auth",
            mech,
            "--auth-user",
            TEST_USER,
            "--auth-password",
            TEST_PASS,
            "--header",
            &format!("Subject: {token}"),
        ]
        .map(String::from),
    );
    a.extend(extra.iter().map(|s| s.to_string()));
    let run = ehlo_v(&a);
    run.assert_exit(0);
    run.assert_contains("235 Authentication succeeded");
    assert_no_secrets(&run, TEST_USER, TEST_PASS);
    let (_, stored) = wait_for_maildir(&exim_maildir(), &token, DELIVERY_LIMIT);
    assert!(
        contains_bytes(&stored, b"esmtpsa"),
        "Received: does not show an authenticated TLS session:\n{}",
        String::from_utf8_lossy(&stored)
    );
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_auth_plain() {
    exim_auth("PLAIN");
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_auth_login() {
    exim_auth("LOGIN");
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_auth_cram_md5() {
    exim_auth("CRAM-MD5");
}

/// Exim's `spa` authenticator speaks NTLMv1 only (as swaks's Authen::NTLM does by default):
/// ehlo's NTLMv1 (with the LM response) gets in, a wrong password is exit 28, and ehlo's default
/// NTLMv2 is refused (README: how it differs from swaks).
#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_auth_ntlm_v1() {
    exim_auth_with("NTLM", &["--auth-extra", "ntlm-version=1"]);
    let auth = |password: &str, extra: &[&str]| {
        let mut a = base(EXIM_SMTP, EXIM_RCPT);
        a.extend(
            [
                "--tls",
                "--insecure",
                "--auth",
                "NTLM",
                "--auth-user",
                TEST_USER,
                "--auth-password",
                password,
                "--auth-plaintext",
                "-q",
                "auth",
            ]
            .map(String::from),
        );
        a.extend(extra.iter().map(|s| s.to_string()));
        let run = ehlo_v(&a);
        assert_no_secrets(&run, TEST_USER, password);
        run
    };
    let run = auth("wrong-secret-7", &["--auth-extra", "ntlm-version=1"]);
    run.assert_exit(28);
    run.assert_contains("NTLMv1 responses=********");
    run.assert_contains("535 Incorrect authentication data");
    assert!(!run.all().contains("try --auth-extra"), "{}", run.all());
    // NTLMv2 refused as a wrong password is: the run says what gets in.
    let run = auth(TEST_PASS, &[]);
    run.assert_exit(28);
    run.assert_contains("NTLMv2 responses=********");
    run.assert_contains("535 Incorrect authentication data");
    run.assert_contains("knows only NTLMv1");
    run.assert_contains("try --auth-extra ntlm-version=1");
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_wrong_password_tries_every_advertised_mechanism() {
    require_exim();
    let wrong = "wrong-secret-7";
    let mut a = base(EXIM_SMTP, EXIM_RCPT);
    a.extend(
        [
            "--tls",
            "--insecure",
            "--auth",
            "--auth-user",
            TEST_USER,
            "--auth-password",
            wrong,
        ]
        .map(String::from),
    );
    let run = ehlo_v(&a);
    run.assert_exit(28);
    for mech in ["AUTH CRAM-MD5", "AUTH PLAIN", "AUTH LOGIN", "AUTH NTLM"] {
        run.assert_contains(mech);
    }
    run.assert_contains("every mechanism was refused");
    let refusals = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("<~") && l.contains("535 Incorrect authentication data"))
        .count();
    assert_eq!(refusals, 4, "{}", run.dump());
    assert_no_secrets(&run, TEST_USER, wrong);
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_bdat_delivers_the_same_bytes() {
    require_exim();
    let token = unique("exim-bdat");
    let text = tricky_message(&token, EXIM_RCPT);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("m.eml");
    fs::write(&file, &text).expect("write message");
    let mut a = base(EXIM_SMTP, EXIM_RCPT);
    a.extend([
        "--bdat".to_string(),
        "700".into(),
        "--data".into(),
        format!("@{}", file.display()),
    ]);
    let run = ehlo_v(&a);
    run.assert_exit(0);
    run.assert_contains("BDAT 700");
    run.assert_contains("LAST");
    run.assert_contains("byte chunk received");
    let (_, stored) = wait_for_maildir(&exim_maildir(), &token, DELIVERY_LIMIT);
    assert!(
        contains_bytes(&stored, text.as_bytes()),
        "BDAT content changed on the way:\n{}",
        mismatch(&stored, text.as_bytes())
    );
}

/// RFC 3030 §4.2 with PIPELINING, against Exim: the whole message as one BDAT LAST in the
/// envelope's write, and in 300-octet chunks pipelined; Exim stores the same bytes either way.
#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_pipelined_bdat_delivers_the_same_bytes() {
    require_exim();
    for chunk in [None, Some("300")] {
        let token = unique("exim-pipe-bdat");
        let text = tricky_message(&token, EXIM_RCPT);
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("m.eml");
        fs::write(&file, &text).expect("write message");
        let mut a = base(EXIM_SMTP, EXIM_RCPT);
        a.extend(["--pipeline".to_string(), "--bdat".into()]);
        a.extend(chunk.map(String::from));
        a.extend(["--data".to_string(), format!("@{}", file.display())]);
        let run = ehlo_v(&a);
        run.assert_exit(0);
        let out = &run.stdout;
        let mail_reply = out.find("<-  250 OK").expect("MAIL's reply");
        let first_bdat = out.find(" -> BDAT ").expect("a BDAT");
        assert!(
            first_bdat < mail_reply,
            "chunks wait for no reply: {}",
            run.dump()
        );
        if chunk.is_none() {
            assert_eq!(out.matches(" -> BDAT ").count(), 1, "{}", run.dump());
            assert!(out[..mail_reply].contains(" LAST\n"), "{}", run.dump());
        } else {
            run.assert_contains("300 byte chunk received");
        }
        let (_, stored) = wait_for_maildir(&exim_maildir(), &token, DELIVERY_LIMIT);
        assert!(
            contains_bytes(&stored, text.as_bytes()),
            "BDAT content changed on the way:\n{}",
            mismatch(&stored, text.as_bytes())
        );
    }
}

/// `--no-data-fixup` data carries the `CRLF . CRLF` DATA needs; under BDAT that is no end
/// marker, and Exim stores the message without a last `.` line (BDAT sent it as content).
#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_bdat_with_no_data_fixup_leaves_out_the_end_marker() {
    require_exim();
    let token = unique("exim-ndf-bdat");
    let text = format!("Subject: {token}\r\n\r\nbody\r\n.\r\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("m.eml");
    fs::write(&file, &text).expect("write message");
    let mut a = base(EXIM_SMTP, EXIM_RCPT);
    a.extend([
        "--bdat".to_string(),
        "--no-data-fixup".into(),
        "--data".into(),
        format!("@{}", file.display()),
    ]);
    let run = ehlo_v(&a);
    run.assert_exit(0);
    let (_, stored) = wait_for_maildir(&exim_maildir(), &token, DELIVERY_LIMIT);
    // The Maildir file has LF line ends.
    let sent = format!("Subject: {token}\n\nbody\n");
    assert!(
        contains_bytes(&stored, sent.as_bytes()),
        "{}",
        mismatch(&stored, sent.as_bytes())
    );
    assert!(
        stored.ends_with(b"\nbody\n"),
        "a '.' line was stored after the body: {:?}",
        String::from_utf8_lossy(&stored)
    );
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_prdr_refusal_is_for_that_recipient_only() {
    require_exim();
    let token = unique("exim-prdr");
    let mut a = base(EXIM_SMTP, EXIM_RCPT);
    a.extend(
        [
            "--to",
            "prdr-refused@exim.test",
            "--prdr",
            "--json",
            "--header",
            &format!("Subject: {token}"),
        ]
        .map(String::from),
    );
    let run = ehlo_v(&a);
    let lines = json_lines(&run);
    let received: Vec<&serde_json::Value> =
        lines.iter().filter(|v| v["type"] == "received").collect();
    let e353 = received
        .iter()
        .find(|v| v["data"]["reply"]["code"] == 353)
        .unwrap_or_else(|| panic!("no 353 from Exim\n{}", run.dump()));
    assert_eq!(e353["data"]["expected"], true);
    assert_eq!(e353["data"]["explanation"]["severity"], "ok");
    let basic = e353["data"]["explanation"]["basic"].as_str().unwrap();
    assert!(
        basic.contains("PRDR") && !basic.contains("out of step"),
        "{basic}"
    );
    let refused = received
        .iter()
        .find(|v| v["data"]["reply"]["code"] == 550)
        .unwrap_or_else(|| panic!("no per-recipient 550\n{}", run.dump()));
    let basic = refused["data"]["explanation"]["basic"].as_str().unwrap();
    assert!(basic.contains("refused for this recipient only"), "{basic}");
    let summary = lines.last().unwrap();
    let rcpts = summary["data"]["recipients"].as_array().unwrap();
    assert_eq!(rcpts[0]["data_code"], 250, "{summary}");
    assert_eq!(rcpts[1]["data_code"], 550, "{summary}");
    assert_eq!(rcpts[1]["status"], "perm_failed", "{summary}");
    // The accepted recipient got the message.
    wait_for_maildir(&exim_maildir(), &token, DELIVERY_LIMIT);
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_dsn_success_notification_comes_back() {
    require_exim();
    let token = unique("exim-dsn");
    let envid = format!("env-{}", &token[token.len() - 12..]);
    let mut a = base(EXIM_SMTP, EXIM_RCPT);
    a.extend(
        [
            "--dsn-notify",
            "SUCCESS",
            "--dsn-ret",
            "HDRS",
            "--dsn-envid",
            &envid,
            "--header",
            &format!("Subject: {token}"),
        ]
        .map(String::from),
    );
    let run = ehlo_v(&a);
    run.assert_exit(0);
    run.assert_contains("NOTIFY=SUCCESS");
    run.assert_contains("RET=HDRS");
    // Exim delivers locally (no DSN past this point) and reports success to the sender, which
    // is local too: the report carries our envelope id (RFC 3464 Original-Envelope-Id).
    let (_, report) = wait_for_maildir(&exim_maildir(), &envid, DELIVERY_LIMIT);
    let report = String::from_utf8_lossy(&report);
    assert!(
        report.contains(&format!("Original-Envelope-ID: {envid}"))
            && report.contains("Action: delivered"),
        "{report}"
    );
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_smtputf8_address_is_accepted() {
    require_exim();
    let token = unique("exim-utf8");
    let mut a = base(EXIM_SMTP, "jörg@exim.test");
    a.extend(["--smtputf8", "--header", &format!("Subject: {token}")].map(String::from));
    let run = ehlo_v(&a);
    run.assert_exit(0);
    run.assert_contains("SMTPUTF8");
    let (_, stored) = wait_for_maildir(&exim_maildir(), &token, DELIVERY_LIMIT);
    assert!(
        contains_bytes(&stored, "Envelope-to: jörg@exim.test".as_bytes()),
        "{}",
        String::from_utf8_lossy(&stored)
    );
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_size_limit_is_refused_at_mail() {
    require_exim();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("big.eml");
    let mut big = b"Subject: too big\n\n".to_vec();
    big.extend(
        std::iter::repeat_n(
            b"0123456789abcdef0123456789abcdef0123456789\n" as &[u8],
            30_000,
        )
        .flatten(),
    );
    fs::write(&file, &big).expect("write big message");
    let mut a = base(EXIM_SMTP, EXIM_RCPT);
    a.extend(["--data".into(), format!("@{}", file.display())]);
    let run = ehlo_v(&a);
    // SIZE= on MAIL is over the advertised 1048576: refused at MAIL (exit 23).
    run.assert_exit(23);
    run.assert_contains("552 Message size exceeds maximum permitted");
    run.assert_contains("SIZE");
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_pipelining_with_a_refused_recipient() {
    require_exim();
    let token = unique("exim-pipe");
    let mut a = base(EXIM_THIRD, EXIM_RCPT);
    a.extend(
        [
            "--to",
            "refused@exim.test",
            "--pipeline",
            "--header",
            &format!("Subject: {token}"),
        ]
        .map(String::from),
    );
    let run = ehlo_v(&a);
    run.assert_exit(0);
    run.assert_contains("550 <refused@exim.test> is refused by the interop ACL");
    wait_for_maildir(&exim_maildir(), &token, DELIVERY_LIMIT);
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_refused_recipient_exits_24_without_blaming_a_missing_mailbox_only() {
    require_exim();
    let run = ehlo_v(&base(EXIM_SMTP, "refused@exim.test"));
    run.assert_exit(24);
    run.assert_contains("550 <refused@exim.test> is refused by the interop ACL");
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_sender_verification_is_explained_as_the_senders_problem() {
    require_exim();
    let a = vec![
        "--server".to_string(),
        EXIM_SMTP.into(),
        "--to".into(),
        "sender-check@exim.test".into(),
        "--from".into(),
        "someone@unrouteable.test".into(),
        "--json".into(),
    ];
    let run = ehlo_v(&a);
    run.assert_exit(24);
    let lines = json_lines(&run);
    let refusal = lines
        .iter()
        .find(|v| v["type"] == "received" && v["data"]["reply"]["code"] == 550)
        .unwrap_or_else(|| panic!("no 550\n{}", run.dump()));
    let hint = refusal["data"]["explanation"]["hint"].as_str().unwrap();
    assert!(hint.contains("about the sender"), "{hint}");
    let summary = lines.last().unwrap();
    assert_eq!(
        summary["data"]["recipients"][0]["text"],
        "Verification failed for <someone@unrouteable.test>\nUnrouteable address\nSender verify failed",
        "{summary}"
    );
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_forced_unadvertised_extension_is_explained_as_such() {
    require_exim();
    // Before STARTTLS Exim offers no AUTH; --auth-force sends it anyway.
    let a = vec![
        "--server".to_string(),
        EXIM_SMTP.into(),
        "--to".into(),
        EXIM_RCPT.into(),
        "--from".into(),
        EXIM_SENDER.into(),
        "--auth-force".into(),
        "--auth".into(),
        "PLAIN".into(),
        "--auth-user".into(),
        TEST_USER.into(),
        "--auth-password".into(),
        TEST_PASS.into(),
        "--allow-plaintext-auth".into(),
    ];
    let run = ehlo_v(&a);
    run.assert_exit(28);
    run.assert_contains("503 AUTH command used when not advertised");
    run.assert_contains("did not advertise");
    assert!(!run.all().contains("bad sequence"), "{}", run.dump());
}

// ------------------------------------------------------------------------------------------------
// Exim → ehlo serve
// ------------------------------------------------------------------------------------------------

/// Hand Exim a message for `rcpt` (a domain its routers send to `ehlo serve`).
fn relay_through_exim(rcpt: &str, token: &str, extra: &[&str]) {
    let mut a = base(EXIM_SMTP, rcpt);
    a.extend(["--header".to_string(), format!("Subject: {token}")]);
    a.extend(extra.iter().map(|s| s.to_string()));
    let run = ehlo_v(&a);
    run.assert_exit(0);
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_as_client_uses_tls_auth_bdat_and_dsn_with_ehlo_serve() {
    require_exim();
    let user = format!("{CLIENT_USER}:{CLIENT_PASS}");
    let serve = Serve::start(&["--starttls", "--user", &user]);
    let port = serve.addr.rsplit(':').next().unwrap().to_string();
    let token = unique("exim-client");
    let rcpt = format!("someone@serve-{port}.test");
    relay_through_exim(&rcpt, &token, &["--dsn-notify", "SUCCESS,FAILURE"]);
    let (_, stored) = wait_for_maildir(&serve.maildir, &token, DELIVERY_LIMIT);
    let stored = String::from_utf8_lossy(&stored);
    assert!(stored.contains("by exim.test with esmtp"), "{stored}");
    let log = serve.log_text();
    for needle in [
        "EHLO exim.test",
        "STARTTLS",
        "TLS started",
        "AUTH PLAIN",
        "235",
        "BDAT",
        "NOTIFY=SUCCESS,FAILURE",
        "250 2.0.0 Ok: queued as",
    ] {
        assert!(log.contains(needle), "{needle:?} missing from\n{log}");
    }
    assert!(
        !log.contains(CLIENT_PASS),
        "serve printed the password\n{log}"
    );
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_as_lmtp_client_of_ehlo_serve() {
    require_exim();
    let serve = Serve::start(&["--lmtp"]);
    let port = serve.addr.rsplit(':').next().unwrap().to_string();
    let token = unique("exim-lmtp");
    relay_through_exim(&format!("someone@lmtp-{port}.test"), &token, &[]);
    wait_for_maildir(&serve.maildir, &token, DELIVERY_LIMIT);
    let log = serve.log_text();
    assert!(log.contains("LHLO exim.test"), "{log}");
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_as_lmtp_client_gets_a_per_recipient_refusal_after_the_content() {
    require_exim();
    // RFC 2033 §4.2: one reply per recipient after the content; the second one is refused
    // (mailbox full) while the first one gets the message.
    let serve = Serve::start(&["--lmtp", "--fail", "lmtp-rcpt#2=552:5.2.2"]);
    let port = serve.addr.rsplit(':').next().unwrap().to_string();
    let token = unique("exim-lmtp-rcpt");
    let first = format!("first@lmtp-{port}.test");
    let second = format!("second@lmtp-{port}.test");
    let before = fs::metadata(EXIM_MAINLOG).map(|m| m.len()).unwrap_or(0);
    relay_through_exim(&first, &token, &["--to", &second]);
    wait_for_maildir(&serve.maildir, &token, DELIVERY_LIMIT);
    // Exim logs the delivery (=>) and the bounce (**) once the LMTP replies are in.
    let deadline = Instant::now() + DELIVERY_LIMIT;
    let log = loop {
        let all = fs::read(EXIM_MAINLOG).unwrap_or_default();
        let from = usize::try_from(before).unwrap_or(0).min(all.len());
        let log = String::from_utf8_lossy(&all[from..]).into_owned();
        if log.contains(&format!("** {second}")) || Instant::now() > deadline {
            break log;
        }
        thread::sleep(Duration::from_millis(200));
    };
    let delivered = log
        .lines()
        .find(|l| l.contains(&format!("=> {first}")))
        .unwrap_or_else(|| panic!("no delivery to {first} in Exim's log:\n{log}"));
    assert!(delivered.contains("250 2.0.0"), "{delivered}");
    let bounced = log
        .lines()
        .find(|l| l.contains(&format!("** {second}")))
        .unwrap_or_else(|| panic!("no refusal of {second} in Exim's log:\n{log}"));
    assert!(bounced.contains("552 5.2.2"), "{bounced}");
    let served = serve.log_text();
    assert!(served.contains("LHLO exim.test"), "{served}");
    assert!(
        served.contains(&format!("552 5.2.2 <{second}> Fault injected")),
        "{served}"
    );
    assert!(
        served.contains(&format!("to <{first}> ("))
            && !served.contains(&format!("to <{first}>, <{second}>")),
        "stored for the first recipient only:\n{served}"
    );
}

/// `ehlo repl` on Exim's 2625 with `flags` and `--record rec`, its stdin redirected from the
/// file `input`.
fn repl_recorded(flags: &[&str], rec: &Path, input: &Path) -> Run {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("s=$1 r=$2 i=$3; shift 3; exec \"$0\" repl \"$s\" \"$@\" --record \"$r\" < \"$i\"")
        .arg(ehlo_bin())
        .arg(EXIM_SMTP)
        .arg(rec)
        .arg(input)
        .args(flags);
    run_bounded(cmd)
}

/// A session recorded with `ehlo repl --record` against Exim replays against it step by step:
/// commands in no phase (NOOP, HELP, VRFY, RSET), `:starttls`, a refused RCPT, a message. A
/// hand-typed AUTH CRAM-MD5 is recorded with the user its response named (never the digest):
/// recorded without one, its replay stopped at once, "AUTH CRAM-MD5 needs a user" (exit 1).
/// The response typed here is a wrong digest, so Exim answered 535; the replay computes the
/// right one from the password and gets 235: that step, and only it, differs (exit 28).
#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_a_recorded_repl_session_replays_step_by_step() {
    require_exim();
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("typed");
    let rec = dir.path().join("session.ehlo");
    let digest = "0123456789abcdef0123456789abcdef";
    let response = B64.encode(format!("{TEST_USER} {digest}"));
    let text = format!(
        "EHLO client.ehlo.test\nNOOP\nHELP\nVRFY postmaster\nRSET\n:starttls --insecure\n\
         EHLO client.ehlo.test\nAUTH CRAM-MD5\n{response}\nMAIL FROM:<{EXIM_SENDER}>\n\
         RCPT TO:<{EXIM_RCPT}>\nRCPT TO:<refused@exim.test>\nDATA\nSubject: replayed\n\nhi\n.\nQUIT\n"
    );
    fs::write(&input, text).expect("write the input");
    let run = repl_recorded(&[], &rec, &input);
    run.assert_exit(0);
    let recorded = fs::read_to_string(&rec).expect("the recording");
    assert!(
        recorded.contains(&format!("> :auth CRAM-MD5 {TEST_USER}\n< 334\n< 535\n")),
        "{recorded}"
    );
    assert!(
        !recorded.contains(digest) && !recorded.contains(&response),
        "{recorded}"
    );
    let mut cmd = Command::new(ehlo_bin());
    cmd.args(["replay", rec.to_str().unwrap(), "--server", EXIM_SMTP])
        .env("EHLO_AUTH_PASSWORD", TEST_PASS);
    let replay = run_bounded(cmd);
    replay.assert_exit(28);
    replay.assert_contains(&format!(
        "`> :auth CRAM-MD5 {TEST_USER}`: expected 334, 535, got 334, 235"
    ));
    let mismatches = replay.all().matches("`: expected ").count();
    assert_eq!(mismatches, 1, "{}", replay.dump());
}

/// A typed `BDAT n [LAST]` (CHUNKING, RFC 3030) in `ehlo repl`: its chunk is asked for first,
/// as lines that count their CRLF (a last line that fills the chunk goes without one), and goes
/// out with the line, so the one reply comes at once: a BDAT Exim refuses (no transaction)
/// still has its chunk read (§2; the NOOP after it is answered as a NOOP), a message in two
/// chunks and `BDAT 0 LAST` is delivered byte for byte, and the recording (`| ` lines after
/// each `> BDAT`) replays step by step with every reply checked. The line used to go out
/// alone: the REPL waited --timeout for a reply only the chunk draws, the chunk's lines went
/// out as commands, and the replay waited twice the timeout and checked nothing.
#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn exim_a_typed_bdat_sends_its_chunk_and_replays_checked() {
    require_exim();
    let token = unique("exim-bdat");
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("typed");
    let rec = dir.path().join("bdat.ehlo");
    let subject = format!("Subject: {token}");
    let text = format!(
        "EHLO client.ehlo.test\nBDAT 3\nabc\nNOOP\nMAIL FROM:<{EXIM_SENDER}>\n\
         RCPT TO:<{EXIM_RCPT}>\nBDAT {}\n{subject}\n\nBDAT 5\nhello\nBDAT 0 LAST\nQUIT\n",
        subject.len() + 4
    );
    fs::write(&input, text).expect("write the input");
    let run = repl_recorded(&["--timeout", "20"], &rec, &input);
    run.assert_exit(0);
    let all = run.all();
    assert!(!all.contains("no reply within"), "{}", run.dump());
    assert!(!all.contains("not sent"), "{}", run.dump());
    run.assert_contains("503 valid RCPT command must precede BDAT");
    let recorded = fs::read_to_string(&rec).expect("the recording");
    assert!(
        recorded.contains(&format!(
            "> BDAT 3\n| abc\n< 503\n> NOOP\n< 250\n> MAIL FROM:<{EXIM_SENDER}>\n< 250\n\
             > RCPT TO:<{EXIM_RCPT}>\n< 250\n> BDAT {}\n| {subject}\n| \n< 250\n\
             > BDAT 5\n| hello\n< 250\n> BDAT 0 LAST\n< 250\n> QUIT\n< 221\n",
            subject.len() + 4
        )),
        "{recorded}"
    );
    let (_, stored) = wait_for_maildir(&exim_maildir(), &token, DELIVERY_LIMIT);
    let want = format!("{subject}\n\nhello");
    assert!(
        String::from_utf8_lossy(&stored).contains(&want),
        "{}",
        String::from_utf8_lossy(&stored)
    );
    let mut cmd = Command::new(ehlo_bin());
    cmd.args([
        "replay",
        rec.to_str().unwrap(),
        "--server",
        EXIM_SMTP,
        "--timeout",
        "20",
    ]);
    let started = Instant::now();
    let replay = run_bounded(cmd);
    replay.assert_exit(0);
    replay.assert_contains("every reply as recorded");
    let all = replay.all();
    assert!(
        !all.contains("not checked") && !all.contains("no reply within"),
        "{}",
        replay.dump()
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
