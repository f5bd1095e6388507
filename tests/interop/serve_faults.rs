//! `ehlo serve`'s fault injection seen by real clients — curl, swaks, Python's smtplib and Exim
//! — each named `serve_faults_*`: every reply fault reaches the client as the code the README
//! promises (and the client's own exit code or exception follows from it), a `drop` is a close,
//! a `--delay` outlasts the client's timeout, a refused STARTTLS or AUTH fails the client, and
//! what the client sent is stored and recorded under `--json` byte for byte.

use super::*;

/// `curl ARGS…`, its stdin closed.
fn curl(args: &[&str]) -> Run {
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error"]).args(args);
    run_bounded(cmd)
}

/// `/usr/bin/python3 -c SCRIPT ARGS…` (Debian's interpreter, which setup.sh installs).
fn python(script: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg("-c").arg(script).args(args);
    run_bounded(cmd)
}

fn require_clients() {
    for (tool, arg) in [
        ("curl", "--version"),
        ("swaks", "--version"),
        ("/usr/bin/python3", "--version"),
    ] {
        let run = run_bounded({
            let mut c = Command::new(tool);
            c.arg(arg);
            c
        });
        assert_eq!(
            run.code,
            Some(0),
            "{tool} is not installed (tests/interop/setup.sh installs it): {}",
            run.dump()
        );
    }
}

/// Every message file in the Maildir's `new/` and `cur/`.
fn stored(serve: &Serve) -> Vec<Vec<u8>> {
    let mut all = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(entries) = fs::read_dir(serve.maildir.join(sub)) {
            all.extend(entries.flatten().filter_map(|e| fs::read(e.path()).ok()));
        }
    }
    all
}

/// The `--json` records in serve's log (stderr lines, if any, are not JSON and are left out).
fn records(serve: &Serve) -> Vec<serde_json::Value> {
    fs::read_to_string(&serve.log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Wait until serve's log holds `needle` (the client may exit before serve writes its line).
#[track_caller]
fn wait_for_log(serve: &Serve, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !fs::read_to_string(&serve.log)
        .unwrap_or_default()
        .contains(needle)
    {
        assert!(
            Instant::now() < deadline,
            "{needle:?} not in serve's log\n{}",
            serve.log_text()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// The content of a `message_stored` record: its `text`, or its base64 `bytes` decoded.
fn recorded_content(record: &serde_json::Value) -> Vec<u8> {
    let content = &record["data"]["content"];
    if let Some(text) = content["text"].as_str() {
        text.as_bytes().to_vec()
    } else {
        let b64 = content["bytes"]
            .as_str()
            .unwrap_or_else(|| panic!("no content in {record}"));
        B64.decode(b64).expect("content bytes are base64")
    }
}

/// A message file with what a transport must keep: lines that begin with dots (curl stuffs
/// them), a lone dot, an empty line, a bare CR inside a line and 8-bit octets that are not
/// UTF-8 (so serve's JSON carries them as base64). It ends in CRLF, so curl adds nothing.
fn curl_message(token: &str) -> Vec<u8> {
    let mut m = format!(
        "Subject: {token}\r\nFrom: <a@client.test>\r\n\r\n.\r\n..two\r\n.three\r\n\r\nbare\rcr\r\n"
    )
    .into_bytes();
    m.extend_from_slice(b"caf\xe9 latin-1\r\nend\r\n");
    m
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn serve_faults_curl_smtps_message_is_stored_and_recorded_byte_for_byte() {
    require_clients();
    let serve = Serve::start(&["--tls-on-connect", "--json"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("m.eml");
    let token = unique("curl-smtps");
    let message = curl_message(&token);
    fs::write(&file, &message).expect("write message");
    let url = format!("smtps://{}", serve.addr);
    let upload = file.to_str().expect("UTF-8 path");
    let run = curl(&[
        "--insecure",
        &url,
        "--mail-from",
        "a@client.test",
        "--mail-rcpt",
        "one@serve.test",
        "--mail-rcpt",
        "two@serve.test",
        "-T",
        upload,
    ]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.dump(), serve.log_text());
    let (_, file_bytes) = wait_for_maildir(&serve.maildir, &token, Duration::from_secs(10));
    assert!(
        file_bytes == message,
        "the Maildir file is not what curl sent\n{}",
        mismatch(&file_bytes, &message)
    );
    wait_for_log(&serve, "message_stored");
    let recs = records(&serve);
    let rec = recs
        .iter()
        .find(|r| r["type"] == "message_stored")
        .expect("a message_stored record");
    assert_eq!(rec["data"]["from"], "a@client.test", "{rec}");
    assert_eq!(
        rec["data"]["rcpts"],
        serde_json::json!(["one@serve.test", "two@serve.test"]),
        "{rec}"
    );
    assert_eq!(rec["data"]["bytes"], message.len(), "{rec}");
    let content = recorded_content(rec);
    assert!(
        content == message,
        "the JSON content is not what curl sent\n{}",
        mismatch(&content, &message)
    );
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn serve_faults_curl_fails_with_each_injected_fault() {
    require_clients();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("m.eml");
    fs::write(&file, curl_message("curl-fault")).expect("write message");
    let upload = file.to_str().expect("UTF-8 path");
    // (serve's flags, curl's flags before the URL, curl's exit code, what serve's log shows)
    let cases: &[(&[&str], &[&str], i32, &str)] = &[
        // CURLE_SEND_ERROR (55): "RCPT failed: 452".
        (
            &["--fail", "rcpt=452"],
            &[],
            55,
            "452 4.0.0 Fault injected by ehlo serve (--fail rcpt=452)",
        ),
        // CURLE_USE_SSL_FAILED (64): "STARTTLS denied, code 454".
        (
            &["--starttls", "--fail", "starttls=454"],
            &["--ssl-reqd"],
            64,
            "454 4.0.0 Fault injected by ehlo serve (--fail starttls=454)",
        ),
        // CURLE_LOGIN_DENIED (67).
        (
            &[
                "--starttls",
                "--user",
                "app:secret",
                "--fail",
                "auth=535:5.7.8",
            ],
            &["--ssl-reqd", "--insecure", "--user", "app:secret"],
            67,
            "535 5.7.8 Fault injected by ehlo serve (--fail auth=535:5.7.8)",
        ),
        // CURLE_RECV_ERROR (56): no reply to the final dot, the connection closed.
        (
            &["--fail", "dot=drop"],
            &[],
            56,
            "fault injected (--fail dot=drop): closing the connection without a reply: the \
             message received is not stored",
        ),
        // CURLE_OPERATION_TIMEDOUT (28): the 354 comes after curl's whole-run limit.
        (&["--delay", "data:4000"], &["--max-time", "2"], 28, "DATA"),
    ];
    for (serve_args, curl_args, code, shown) in cases {
        let serve = Serve::start(serve_args);
        let url = format!("smtp://{}", serve.addr);
        let mut args: Vec<&str> = curl_args.to_vec();
        args.extend([
            url.as_str(),
            "--mail-from",
            "a@client.test",
            "--mail-rcpt",
            "one@serve.test",
            "-T",
            upload,
        ]);
        let run = curl(&args);
        assert_eq!(
            run.code,
            Some(*code),
            "curl against serve {serve_args:?}\n{}\n{}",
            run.dump(),
            serve.log_text()
        );
        wait_for_log(&serve, shown);
        assert!(
            stored(&serve).is_empty(),
            "{serve_args:?}: a message was stored\n{}",
            serve.log_text()
        );
    }
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn serve_faults_swaks_exit_code_names_the_step_that_failed() {
    require_clients();
    let user = ["--starttls", "--user", "app:secret"];
    let auth = ["--tls", "-a", "PLAIN", "-au", "app", "-ap", "secret"];
    // (serve's flags, swaks's own flags, swaks's exit code: 21 banner, 22 HELO, 23 MAIL,
    // 24 RCPT, 25 DATA, 26 after the content, 28 AUTH, 29 TLS)
    let cases: Vec<(Vec<&str>, Vec<&str>, i32)> = vec![
        (vec!["--fail", "connect=421"], vec![], 21),
        (vec!["--fail", "helo=550"], vec![], 22),
        (vec!["--fail", "mail=451"], vec![], 23),
        (vec!["--fail", "rcpt=550:5.1.1"], vec![], 24),
        (vec!["--fail", "data=554"], vec![], 25),
        (vec!["--fail", "dot=452"], vec![], 26),
        (
            [&user[..], &["--fail", "auth=535:5.7.8"]].concat(),
            auth.to_vec(),
            28,
        ),
        (
            vec!["--starttls", "--fail", "starttls=454"],
            vec!["--tls"],
            29,
        ),
        // A reply slower than swaks's --timeout: swaks gives up at RCPT.
        (vec!["--delay", "rcpt:4000"], vec!["--timeout", "1"], 24),
    ];
    for (serve_args, swaks_args, code) in cases {
        let serve = Serve::start(&serve_args);
        let mut args = vec![
            "--server",
            serve.addr.as_str(),
            "--from",
            "a@client.test",
            "--to",
            "one@serve.test",
        ];
        args.extend(&swaks_args);
        let run = swaks(&args);
        assert_eq!(
            run.code,
            Some(code),
            "swaks against serve {serve_args:?}\n{}\n{}",
            run.dump(),
            serve.log_text()
        );
        if code != 24 || serve_args[0] == "--fail" {
            run.assert_contains("Fault injected by ehlo serve");
        } else {
            run.assert_contains("Timeout");
        }
        assert!(stored(&serve).is_empty(), "{}", serve.log_text());
    }
}

/// Python's smtplib sends two recipients (the second refused by a fault) and a body with dot
/// lines; prints the refused recipients, or the exception's class and reply.
const SMTPLIB_SEND: &str = r#"
import smtplib, sys
port, token = int(sys.argv[1]), sys.argv[2]
body = ("Subject: %s\r\n\r\n.\r\n..two\r\nend" % token).encode() + b"\r\n\xc3\xa9\r\n"
try:
    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    refused = s.sendmail("a@client.test", ["one@serve.test", "two@serve.test"], body)
    print("refused", sorted((k, v[0]) for k, v in refused.items()))
    s.quit()
except smtplib.SMTPResponseException as e:
    print(type(e).__name__, e.smtp_code, e.smtp_error.decode())
except smtplib.SMTPServerDisconnected as e:
    print("SMTPServerDisconnected", e)
"#;

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn serve_faults_python_smtplib_sees_each_fault_and_the_message_is_stored_whole() {
    require_clients();
    // (serve's flags, what smtplib printed)
    let cases: &[(&[&str], &str)] = &[
        (
            &["--fail", "rcpt#2=550:5.1.1"],
            "refused [('two@serve.test', 550)]",
        ),
        // A reply written a byte at a time is still one reply.
        (&["--fail", "trickle=2"], "refused []"),
        // Replies ending in a bare LF are read as lines by smtplib.
        (&["--fail", "bare-lf"], "refused []"),
        (
            &["--fail", "mail=drop"],
            "SMTPServerDisconnected Connection unexpectedly closed",
        ),
        (
            &["--fail", "data=451"],
            "SMTPDataError 451 4.0.0 Fault injected by ehlo serve (--fail data=451)",
        ),
        (
            &["--fail", "connect=554"],
            "SMTPConnectError 554 Fault injected by ehlo serve (--fail connect=554)",
        ),
        // Silence instead of a greeting: smtplib waits; serve's idle timeout ends it.
        (
            &["--fail", "banner=silent", "--idle-timeout", "2s"],
            "SMTPConnectError 421 4.4.2 ehlo.serve Error: timeout exceeded",
        ),
    ];
    for (serve_args, printed) in cases {
        let serve = Serve::start(serve_args);
        let port = serve.addr.rsplit(':').next().expect("port");
        let token = unique("smtplib");
        let run = python(SMTPLIB_SEND, &[port, &token]);
        assert_eq!(run.code, Some(0), "{}", run.dump());
        assert_eq!(
            run.stdout.trim(),
            *printed,
            "serve {serve_args:?}\n{}",
            serve.log_text()
        );
        if printed.starts_with("refused") {
            // smtplib stuffs the dot lines and ends the content in CRLF; the file has the
            // content as it was before the stuffing.
            let mut want = format!("Subject: {token}\r\n\r\n.\r\n..two\r\nend").into_bytes();
            want.extend_from_slice(b"\r\n\xc3\xa9\r\n");
            let (_, got) = wait_for_maildir(&serve.maildir, &token, Duration::from_secs(10));
            assert!(got == want, "{}", mismatch(&got, &want));
        } else {
            assert!(stored(&serve).is_empty(), "{}", serve.log_text());
        }
    }
}

#[test]
#[ignore = "interop: run with tests/interop/run.sh"]
fn serve_faults_exim_bounces_a_refused_chunk_and_stores_nothing() {
    exim::require_exim();
    let serve = Serve::start(&[
        "--starttls",
        "--user",
        "exim-client:client-secret-2",
        "--fail",
        "bdat=554:5.6.0",
    ]);
    let port = serve.addr.rsplit(':').next().expect("port").to_string();
    let rcpt = format!("one@serve-{port}.test");
    let token = unique("exim-bdat-fault");
    let mainlog = "/tmp/ehlo-interop/exim/log/mainlog";
    let before = fs::metadata(mainlog).map(|m| m.len()).unwrap_or(0);
    let subject = format!("Subject: {token}");
    let run = ehlo(&[
        "--server",
        "127.0.0.1:2625",
        "--from",
        "sender@exim.test",
        "--to",
        &rcpt,
        "--helo",
        "client.ehlo.test",
        "--header",
        &subject,
    ]);
    run.assert_exit(0);
    // Exim logs the permanent failure (**) with serve's reply once it has tried.
    let deadline = Instant::now() + DELIVERY_LIMIT;
    let bounced = loop {
        let all = fs::read(mainlog).unwrap_or_default();
        let from = usize::try_from(before).unwrap_or(0).min(all.len());
        let log = String::from_utf8_lossy(&all[from..]).into_owned();
        if let Some(line) = log.lines().find(|l| l.contains(&format!("** {rcpt}"))) {
            break line.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "Exim logged no failure for {rcpt}:\n{log}\n{}",
            serve.log_text()
        );
        thread::sleep(Duration::from_millis(200));
    };
    assert!(
        bounced.contains("554 5.6.0 Fault injected by ehlo serve (--fail bdat=554:5.6.0)"),
        "{bounced}"
    );
    assert!(stored(&serve).is_empty(), "{}", serve.log_text());
    let log = serve.log_text();
    assert!(log.contains("BDAT") && log.contains("TLS started"), "{log}");
}
