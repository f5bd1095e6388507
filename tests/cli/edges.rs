//! CLI edges of the one-shot send: a closed stdout pipe, address-family flags, the
//! local bind address, protocol variants, every stop point of --quit-after / --drop-after /
//! --drop-after-send, and the transcript options (time lapse, suppress-data, silent levels, raw
//! hex, explain levels, no hints, colour).

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

// ---- a closed stdout (`ehlo … | head -1`) ------------------------------------------------------

/// Run ehlo, read one line of stdout, close the read end, wait. The server sleeps before its
/// banner so that nearly all of the transcript is written after the pipe is gone.
fn with_stdout_closed_after_one_line(srv: &Scripted, extra: &[&str]) -> (i32, String, String) {
    let mut args = send_args(&srv.server());
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_ehlo"))
        .args(&args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    {
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut first).unwrap();
        // Dropped here: the read end closes, later writes get EPIPE.
    }
    let mut err = child.stderr.take().unwrap();
    let t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("ehlo hangs on a closed stdout");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code().unwrap_or(-1), first, t.join().unwrap())
}

fn slow_banner_then(more: Vec<Step>) -> Vec<Step> {
    let mut v = vec![Step::Sleep(Duration::from_millis(400))];
    v.extend(after_greet(more));
    v
}

#[test]
fn a_closed_stdout_pipe_exits_quietly_with_the_normal_code() {
    for json in [false, true] {
        let extra: &[&str] = if json { &["--json"] } else { &[] };
        // Success: exit 0, nothing on stderr (no panic, no "Broken pipe").
        let srv = scripted(slow_banner_then(accept_all()));
        let (code, first, err) = with_stdout_closed_after_one_line(&srv, extra);
        let got = srv.finish();
        assert_eq!(code, 0, "json={json}: {err}");
        assert!(err.is_empty(), "json={json}: stderr {err:?}");
        assert!(!first.is_empty());
        // The send still went through to the end.
        assert!(got.ends_with("QUIT\r\n"), "{got}");

        // Failure: the failure's own exit code, the reason on stderr, still no panic.
        let srv = scripted(slow_banner_then(vec![
            Step::Expect("MAIL FROM:"),
            Step::Send(b"250 Ok\r\n"),
            Step::Expect("RCPT TO:"),
            Step::Send(b"550 5.1.1 No such user\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 Bye\r\n"),
        ]));
        let (code, _, err) = with_stdout_closed_after_one_line(&srv, extra);
        srv.finish();
        assert_eq!(code, 24, "json={json}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!err.to_lowercase().contains("broken pipe"), "{err}");
        if !json {
            assert!(err.contains("no recipient was accepted"), "{err}");
        }
    }
}

// ---- -4 / -6 -------------------------------------------------------------------------------

/// Flags that cannot go together are refused in one line, as swaks does ("Options -4 and -6
/// are mutually exclusive"); it was clap's block of four (`error: …`, a usage line, a blank
/// line, "For more information, try '--help'").
#[test]
fn four_and_six_together_are_a_usage_error() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["-4", "-6", "--server", "127.0.0.1:9", "--to", "a@b.test"],
            "*** '--ipv4' cannot be used with '--ipv6'; nothing was sent",
        ),
        (
            &["--to", "a@b.test", "-s", "127.0.0.1:9", "-tls", "-tlsc"],
            "*** '--tls' cannot be used with '--tls-on-connect'; nothing was sent",
        ),
        (
            &[
                "--to",
                "a@b.test",
                "-s",
                "127.0.0.1:9",
                "--attach-type",
                "text/plain",
            ],
            "*** --attach-type applies to the --attach, --attach-body or --attach-inline after \
             it, and none follows; nothing was sent",
        ),
        (
            &[
                "-t", "a@b.test", "-s", "h:9", "--socket", "/tmp/x", "--pipe", "cat",
            ],
            "*** '--server <HOST[:PORT]>' cannot be used with '--socket <PATH>', \
             '--pipe <COMMAND>'; nothing was sent",
        ),
        (
            &["serve", "--starttls", "--tls-on-connect"],
            "*** '--starttls' cannot be used with '--tls-on-connect' (in 'ehlo serve')",
        ),
    ];
    for (args, said) in cases {
        let run = ehlo(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        assert_eq!(run.stderr.trim_end(), *said, "{args:?}: {}", run.all());
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.all());
    }
}

/// Decision: `-4` with an IPv6 literal (or `-6` with an IPv4 one) is a contradiction in the
/// flags themselves, known before any connection, so it is a usage error: exit 1, one line
/// naming the flag, the address and the family flag. (A host NAME with no address of the wanted
/// family is only found out by DNS and is exit 2.)
#[test]
fn a_family_flag_contradicting_a_literal_is_exit_1_with_a_clear_reason() {
    for (args, needle) in [
        (
            vec!["-4", "--server", "[::1]:2525", "--to", "a@b.test"],
            "--server: ::1 is an IPv6 address but -4 was given",
        ),
        (
            vec!["-4", "--server", "::1", "--to", "a@b.test"],
            "--server: ::1 is an IPv6 address but -4 was given",
        ),
        (
            vec!["-6", "--server", "127.0.0.1:2525", "--to", "a@b.test"],
            "--server: 127.0.0.1 is an IPv4 address but -6 was given",
        ),
        (
            vec!["-4", "--to", "a@[IPv6:::1]"],
            "--to: ::1 is an IPv6 address but -4 was given",
        ),
    ] {
        let run = ehlo(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        assert_eq!(run.stderr.trim(), format!("*** {needle}"), "{args:?}");
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
}

#[test]
fn minus_four_with_localhost_connects_over_ipv4_only() {
    let srv = scripted(after_greet(accept_all()));
    let server = format!("localhost:{}", srv.addr.port());
    let mut args = send_args(&server);
    args.push("-4".into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = ehlo(&refs);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!run.all().contains("::1"), "{}", run.all());
}

// ---- --local-interface -------------------------------------------------------------------

fn connected_local(stdout: &str) -> String {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "connected")
        .map(|v| v["data"]["local"].as_str().unwrap().to_string())
        .expect("a connected event")
}

#[test]
fn local_interface_sets_the_source_address() {
    // 127.0.0.2 is loopback too on Linux: a source the default route would never pick.
    for ip in ["127.0.0.1", "127.0.0.2"] {
        let srv = scripted(after_greet(accept_all()));
        let run = send(&srv, &["--local-interface", ip, "--json"]);
        let (_, peer) = srv.finish_with_peer();
        assert_eq!(run.code, 0, "{}", run.all());
        assert_eq!(peer.ip().to_string(), ip, "the server saw {peer}");
        assert!(connected_local(&run.stdout).starts_with(&format!("{ip}:")));
    }
}

#[test]
fn local_interface_with_a_port_binds_that_port() {
    let port = crate::util::free_port();
    let srv = scripted(after_greet(accept_all()));
    let li = format!("127.0.0.1:{port}");
    let run = send(&srv, &["--li", &li, "--json"]);
    let (_, peer) = srv.finish_with_peer();
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(peer.to_string(), li);
    assert_eq!(connected_local(&run.stdout), li);
}

/// swaks's `--local-interface HOST` takes a name, and `-lp`/`--lport`/`--local-port` a port.
#[test]
fn local_interface_by_name_and_local_port() {
    let port = crate::util::free_port();
    let srv = scripted(after_greet(accept_all()));
    let run = send(
        &srv,
        &["-li", "localhost", "-lp", &port.to_string(), "--json"],
    );
    // The run's own failure first: the server waits for a connection that never came.
    assert_eq!(run.code, 0, "{}", run.all());
    let (_, peer) = srv.finish_with_peer();
    assert_eq!(peer.to_string(), format!("127.0.0.1:{port}"));

    let port = crate::util::free_port();
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["--local-port", &port.to_string(), "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let (_, peer) = srv.finish_with_peer();
    assert_eq!(peer.port(), port);

    let srv = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = srv.local_addr().unwrap().to_string();
    let run = ehlo(&[
        "-s",
        &server,
        "-t",
        "a@b.test",
        "-li",
        "no-such-host.invalid",
    ]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.all().contains("no-such-host.invalid"), "{}", run.all());
}

/// `-p SERVICE`: a service name is its port.
#[test]
fn port_by_service_name() {
    let run = ehlo(&[
        "-s",
        "127.0.0.1",
        "-p",
        "submission",
        "-t",
        "a@b.test",
        "--dump-config",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let run = ehlo(&["-s", "127.0.0.1", "-p", "no-such-service", "-t", "a@b.test"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("no-such-service"), "{}", run.stderr);
}

#[test]
fn a_local_interface_that_cannot_be_bound_is_exit_2() {
    // 192.0.2.1 (TEST-NET-1) is not an address of this machine.
    let srv = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = srv.local_addr().unwrap().to_string();
    let run = ehlo(&[
        "--server",
        &server,
        "--to",
        "a@b.test",
        "--local-interface",
        "192.0.2.1",
    ]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("cannot bind to 192.0.2.1"),
        "{}",
        run.stderr
    );
}

// ---- --protocol ----------------------------------------------------------------------------

#[test]
fn protocol_lmtp_sends_lhlo_and_reads_one_reply_per_recipient() {
    let srv = scripted(vec![
        Step::Send(b"220 lmtp.test LMTP\r\n"),
        Step::Expect("LHLO client.test\r\n"),
        Step::Send(b"250-lmtp.test\r\n250 PIPELINING\r\n"),
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 Ok\r\n"),
        Step::Expect("RCPT TO:<a@scripted.test>"),
        Step::Send(b"250 Ok\r\n"),
        Step::Expect("RCPT TO:<b@scripted.test>"),
        Step::Send(b"250 Ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\r\n"),
        Step::Data,
        Step::Send(b"250 2.0.0 <a@scripted.test> delivered\r\n"),
        Step::Send(b"452 4.2.2 <b@scripted.test> mailbox full\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 Bye\r\n"),
    ]);
    let run = ehlo(&[
        "--server",
        &srv.server(),
        "--protocol",
        "lmtp",
        "--to",
        "a@scripted.test,b@scripted.test",
        "--helo",
        "client.test",
        "--timeout",
        "5",
    ]);
    let got = srv.finish();
    assert!(got.starts_with("LHLO client.test\r\n"), "{got}");
    assert!(
        run.stdout
            .contains("<-  250 2.0.0 <a@scripted.test> delivered")
    );
    assert!(
        run.stdout
            .contains("<** 452 4.2.2 <b@scripted.test> mailbox full")
    );
    // One delivery failed: the end-of-data phase failed (26), and the summary says for whom.
    assert_eq!(run.code, 26, "{}", run.all());
    assert!(
        run.stderr
            .contains("<a@scripted.test> accepted (250 2.0.0 <a@scripted.test> delivered)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("<b@scripted.test> temporarily rejected (452 4.2.2"),
        "{}",
        run.stderr
    );
}

#[test]
fn protocol_smtp_sends_helo() {
    let srv = scripted(vec![
        Step::Send(b"220 old.test SMTP\r\n"),
        Step::Expect("HELO client.test\r\n"),
        Step::Send(b"250 old.test\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 Bye\r\n"),
    ]);
    let run = send(&srv, &["--protocol", "SMTP", "--quit-after", "helo"]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(got, "HELO client.test\r\nQUIT\r\n");
}

// ---- stop points ---------------------------------------------------------------------------

/// One stage of a full dialogue: what the client sends (None for the connect stage), the steps
/// the server reads it with, and the server's answer.
struct Stage {
    name: &'static str,
    sent: &'static str,
    read: Vec<Step>,
    answer: Vec<Step>,
}

/// Banner, EHLO, STARTTLS, EHLO, AUTH PLAIN, MAIL, RCPT, DATA, content: every stop point.
fn stages() -> Vec<Stage> {
    vec![
        Stage {
            name: "connect",
            sent: "",
            read: vec![],
            answer: vec![Step::Send(b"220 scripted.test ESMTP\r\n")],
        },
        Stage {
            name: "first-helo",
            sent: "EHLO client.test\r\n",
            read: vec![Step::Expect("EHLO client.test")],
            answer: vec![Step::Send(b"250-scripted.test\r\n250 STARTTLS\r\n")],
        },
        Stage {
            name: "tls",
            sent: "STARTTLS\r\n",
            read: vec![Step::Expect("STARTTLS")],
            answer: vec![Step::Send(b"220 2.0.0 go ahead\r\n"), Step::Tls],
        },
        Stage {
            name: "helo",
            sent: "EHLO client.test\r\n",
            read: vec![Step::Expect("EHLO client.test")],
            answer: vec![Step::Send(b"250-scripted.test\r\n250 AUTH PLAIN\r\n")],
        },
        Stage {
            name: "auth",
            // base64("\0user\0secret")
            sent: "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n",
            read: vec![Step::Expect("AUTH PLAIN")],
            answer: vec![Step::Send(b"235 2.7.0 ok\r\n")],
        },
        Stage {
            name: "mail",
            sent: "MAIL FROM:<sender@client.test>\r\n",
            read: vec![Step::Expect("MAIL FROM:")],
            answer: vec![Step::Send(b"250 2.1.0 Ok\r\n")],
        },
        Stage {
            name: "rcpt",
            sent: "RCPT TO:<rcpt@scripted.test>\r\n",
            read: vec![Step::Expect("RCPT TO:")],
            answer: vec![Step::Send(b"250 2.1.5 Ok\r\n")],
        },
        Stage {
            name: "data",
            sent: "DATA\r\n",
            read: vec![Step::Expect("DATA")],
            answer: vec![Step::Send(b"354 go\r\n")],
        },
        Stage {
            name: "dot",
            sent: "<content>",
            read: vec![Step::Data],
            answer: vec![Step::Send(b"250 2.0.0 queued\r\n")],
        },
    ]
}

const STOP_ARGS: &[&str] = &[
    "--tls", "-k", "--auth", "PLAIN", "--au", "user", "--ap", "secret",
];

/// Run one stop point: `flag` is --quit-after, --drop-after or --drop-after-send.
fn stop_at(flag: &str, index: usize) {
    let all = stages();
    let name = all[index].name;
    let quit = flag == "--quit-after";
    let mut script = Vec::new();
    let mut expected = String::new();
    for (i, stage) in all.into_iter().enumerate().take(index + 1) {
        expected.push_str(stage.sent);
        script.extend(stage.read);
        if i < index || flag != "--drop-after-send" {
            script.extend(stage.answer);
        }
    }
    if quit {
        script.push(Step::Expect("QUIT"));
        script.push(Step::Send(b"221 2.0.0 Bye\r\n"));
        expected.push_str("QUIT\r\n");
    }
    let srv = scripted(script);
    let mut extra = STOP_ARGS.to_vec();
    extra.extend([flag, name]);
    let run = send(&srv, &extra);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{flag} {name}: {}", run.all());
    assert!(run.stderr.is_empty(), "{flag} {name}: {}", run.stderr);
    // The client's bytes, exactly (the message content is date-stamped: check its shape).
    let got = match got.find("DATA\r\n") {
        Some(i) if name == "dot" => {
            let rest = &got[i + 6..];
            let end = rest.find("\r\n.\r\n").expect("an end marker") + 5;
            assert!(rest.starts_with("Date: "), "{rest}");
            format!("{}<content>{}", &got[..i + 6], &rest[end..])
        }
        _ => got,
    };
    assert_eq!(got, expected, "{flag} {name}");
}

#[test]
fn quit_after_each_stop_point_sends_quit_there_and_exits_0() {
    for i in 0..=6 {
        stop_at("--quit-after", i);
    }
}

#[test]
fn drop_after_each_stop_point_closes_after_the_reply_and_exits_0() {
    for i in 0..=8 {
        stop_at("--drop-after", i);
    }
}

#[test]
fn drop_after_send_each_stop_point_closes_after_the_command_and_exits_0() {
    for i in 0..=8 {
        stop_at("--drop-after-send", i);
    }
}

/// What the client must send before it stops at `tls` or `auth` when that step does not happen:
/// the greeting, then QUIT for --quit-after, nothing more for the drops. Never MAIL.
fn stops_without_the_step(flag: &str, at: &str, mut script: Vec<Step>, extra: &[&str]) {
    let quit = flag == "--quit-after" || flag == "-q";
    if quit {
        script.push(Step::Expect("QUIT"));
        script.push(Step::Send(b"221 2.0.0 Bye\r\n"));
    }
    let srv = scripted(script);
    let mut args = extra.to_vec();
    args.extend([flag, at]);
    let run = send(&srv, &args);
    let what = format!("{flag} {at} {extra:?}");
    // Before `finish`: a run refused before it connects would leave the server waiting.
    assert_eq!(run.code, 0, "{what}: {}", run.all());
    let got = srv.finish();
    assert!(!got.contains("MAIL FROM"), "{what}: {got}");
    let ends = if quit { "QUIT\r\n" } else { "" };
    assert!(got.ends_with(&format!("\r\n{ends}")), "{what}: {got:?}");
    let step = if at == "tls" { "STARTTLS" } else { "AUTH" };
    assert!(
        run.stdout.contains(&format!(
            "no {step} in this session: stopping at its stop point"
        )),
        "{what}: {}",
        run.stdout
    );
}

/// swaks stops at `tls` and `auth` whether or not TLS or AUTH was used; ehlo went on and
/// delivered the message. Without --tls or --auth, with --tls-optional when STARTTLS is not
/// offered, and with --auth-optional when AUTH is not offered or refused: no MAIL, exit 0.
#[test]
fn stop_points_at_tls_or_auth_that_did_not_happen_send_no_mail() {
    for flag in ["--quit-after", "--drop-after", "--drop-after-send"] {
        for at in ["tls", "auth"] {
            stops_without_the_step(flag, at, greet(), &[]);
        }
        stops_without_the_step(flag, "tls", greet(), &["--tls-optional"]);
        let auth = [
            "--auth-optional",
            "PLAIN",
            "--au",
            "u",
            "--ap",
            "p",
            "--allow-plaintext-auth",
        ];
        stops_without_the_step(flag, "auth", greet(), &auth);
        if flag != "--drop-after-send" {
            // Offered and refused (a drop-after-send closes once AUTH is out, as before).
            let script = vec![
                Step::Send(b"220 scripted.test ESMTP\r\n"),
                Step::Expect("EHLO"),
                Step::Send(b"250-scripted.test\r\n250 AUTH PLAIN\r\n"),
                Step::Expect("AUTH PLAIN"),
                Step::Send(b"535 5.7.8 no\r\n"),
            ];
            stops_without_the_step(flag, "auth", script, &auth);
        }
    }
    // The short spellings too.
    for flag in ["-q", "-da", "-das"] {
        stops_without_the_step(flag, "tls", greet(), &[]);
    }
}

/// With implicit TLS the `tls` stop comes right after the handshake, before the banner is read,
/// as in swaks: QUIT at once (the banner is then read and reported before QUIT's reply), or a
/// close. The server receives nothing else.
#[test]
fn stop_points_at_tls_over_implicit_tls_act_right_after_the_handshake() {
    let srv = scripted(vec![
        Step::Tls,
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 2.0.0 Bye\r\n"),
    ]);
    let run = send(&srv, &["--tls-on-connect", "-k", "--quit-after", "tls"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let got = srv.finish();
    assert_eq!(got, "QUIT\r\n");
    let quit = run.stdout.find("QUIT").expect("QUIT shown");
    let banner = run.stdout.find("220 scripted.test").expect("banner shown");
    assert!(quit < banner, "{}", run.stdout);
    assert!(run.stdout.contains("221 2.0.0 Bye"), "{}", run.stdout);
    for flag in ["--drop-after", "--drop-after-send"] {
        let srv = scripted(vec![Step::Tls, Step::Send(b"220 scripted.test ESMTP\r\n")]);
        let run = send(&srv, &["--tls-on-connect", "-k", flag, "tls"]);
        assert_eq!(run.code, 0, "{flag}: {}", run.all());
        let got = srv.finish();
        assert_eq!(got, "", "{flag}");
    }
}

#[test]
fn quit_after_data_or_dot_is_a_usage_error() {
    for p in ["data", "dot"] {
        let run = ehlo(&["--server", "127.0.0.1:9", "--to", "a@b.test", "-q", p]);
        assert_eq!(run.code, 1, "{p}: {}", run.all());
    }
}

/// Under BDAT the first chunk is already content, the whole message when it fits one chunk:
/// a DATA stop there ran on and delivered it (exit 0). It is refused before connecting, with
/// the reason; the other stop points still combine with --bdat.
#[test]
fn drop_after_data_with_bdat_is_a_usage_error() {
    let base = ["--server", "127.0.0.1:9", "--to", "a@b.test", "--bdat"];
    for (flag, shown) in [
        ("--drop-after", "--drop-after"),
        ("--drop-after-send", "--drop-after-send"),
        ("-da", "--drop-after"),
        ("-das", "--drop-after-send"),
    ] {
        let mut args = base.to_vec();
        args.extend([flag, "data"]);
        let run = ehlo(&args);
        assert_eq!(run.code, 1, "{flag}: {}", run.all());
        assert!(
            run.stderr
                .contains(&format!("{shown} DATA with --bdat: BDAT has no DATA step")),
            "{flag}: {}",
            run.stderr
        );
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    }
    // RCPT and DOT are stop points under BDAT as under DATA: the run goes on to connect.
    for at in ["rcpt", "dot"] {
        let mut args = base.to_vec();
        args.extend(["--drop-after", at]);
        let run = ehlo(&args);
        assert_eq!(run.code, 2, "{at}: {}", run.all());
    }
}

// ---- transcript options --------------------------------------------------------------------

#[test]
fn show_time_lapse_prints_response_times() {
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["--show-time-lapse"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let lapses: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("=== response in "))
        .collect();
    // banner, EHLO, MAIL, RCPT, DATA, dot, QUIT
    assert_eq!(lapses.len(), 7, "{}", run.stdout);
    assert!(
        lapses.iter().all(|l| l.ends_with('s') && l.contains('.')),
        "{lapses:?}"
    );
    // Each before the reply it times, as swaks prints it.
    let lines: Vec<&str> = run.stdout.lines().collect();
    let replies = lines
        .windows(2)
        .filter(|w| w[0].starts_with("=== response in ") && w[1].starts_with("<-  "))
        .count();
    assert_eq!(replies, 7, "{}", run.stdout);
    // `i`: whole seconds.
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["--show-time-lapse", "i"]);
    srv.finish();
    assert!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("=== response in "))
            .all(|l| !l.contains('.')),
        "{}",
        run.stdout
    );
    // Off by default.
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &[]);
    srv.finish();
    assert!(!run.stdout.contains("response in"), "{}", run.stdout);
}

#[test]
fn suppress_data_prints_a_line_count_instead_of_the_message() {
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["--suppress-data", "--body", "one\ntwo\nthree"]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(got.contains("\r\none\r\ntwo\r\nthree\r\n.\r\n"), "{got}");
    assert!(!run.stdout.contains("two"), "{}", run.stdout);
    // 6 default headers, a blank line, 3 body lines and the final dot.
    assert!(run.stdout.contains(" -> 11 lines sent"), "{}", run.stdout);
}

/// The greeting, then QUIT right away (for `-q helo`).
fn quit_after_helo() -> Vec<Step> {
    after_greet(vec![Step::Expect("QUIT"), Step::Send(b"221 Bye\r\n")])
}

fn refused_rcpt() -> Vec<Step> {
    after_greet(vec![
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 Ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"550 5.1.1 No such user\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 Bye\r\n"),
    ])
}

#[test]
fn silent_levels_behave_as_documented() {
    // 1: nothing until an error, then everything from the error on (swaks: what came before is
    // not replayed).
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["--silent", "1"]);
    srv.finish();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    let srv = scripted(refused_rcpt());
    let run = send(&srv, &["--silent", "1"]);
    srv.finish();
    assert_eq!(run.code, 24);
    assert!(!run.stdout.contains("=== Trying"), "{}", run.stdout);
    assert!(!run.stdout.contains(" -> MAIL FROM:"), "{}", run.stdout);
    assert!(run.stdout.starts_with("<** 550 5.1.1"), "{}", run.stdout);
    assert!(run.stdout.contains(" -> QUIT"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("*** Result: failed (exit 24): no recipient"),
        "{}",
        run.stderr
    );
    // -S alone is level 1.
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["-S"]);
    srv.finish();
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));

    // 2: errors only.
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["--silent", "2"]);
    srv.finish();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    let srv = scripted(refused_rcpt());
    let run = send(&srv, &["--silent", "2"]);
    srv.finish();
    assert_eq!(run.code, 24);
    assert!(run.stdout.contains("<** 550 5.1.1"), "{}", run.stdout);
    assert!(!run.stdout.contains(" -> "), "{}", run.stdout);
    assert!(!run.stdout.contains("=== "), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("*** Result: failed (exit 24): no recipient"),
        "{}",
        run.stderr
    );

    // 3: nothing at all; the exit code still tells.
    let srv = scripted(refused_rcpt());
    let run = send(&srv, &["--silent", "3"]);
    srv.finish();
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (24, "", "")
    );

    // Out of range.
    let run = ehlo(&[
        "--server",
        "127.0.0.1:9",
        "--to",
        "a@b.test",
        "--silent",
        "4",
    ]);
    assert_eq!(run.code, 1);
}

#[test]
fn show_raw_text_adds_hex_dumps_of_both_directions() {
    let srv = scripted(quit_after_helo());
    let run = send(&srv, &["--show-raw-text", "-q", "helo"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    // "220 " = 32 32 30 20, read; "EHLO" = 45 48 4C 4F, written.
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("<   0000: 32 32 30 20")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("  > 0000: 45 48 4C 4F")),
        "{}",
        run.stdout
    );
    // The parsed lines are still there.
    assert!(run.stdout.contains("<-  220 scripted.test ESMTP"));
    let srv = scripted(quit_after_helo());
    let run = send(&srv, &["-q", "helo"]);
    srv.finish();
    assert!(!run.stdout.contains("0000:"), "{}", run.stdout);
}

#[test]
fn explain_all_errors_and_none() {
    let explained = |out: &str, code: &str| {
        out.lines()
            .any(|l| l.trim_start().starts_with(&format!("{code} = ")))
    };
    let srv = scripted(refused_rcpt());
    let all = send(&srv, &["--explain", "all"]);
    srv.finish();
    let srv = scripted(refused_rcpt());
    let errors = send(&srv, &[]);
    srv.finish();
    let srv = scripted(refused_rcpt());
    let none = send(&srv, &["--explain", "none"]);
    srv.finish();
    for r in [&all, &errors, &none] {
        assert_eq!(r.code, 24, "{}", r.all());
    }
    assert!(explained(&all.stdout, "220"), "{}", all.stdout);
    assert!(explained(&all.stdout, "550"), "{}", all.stdout);
    assert!(explained(&all.stdout, "5.1.1"), "{}", all.stdout);
    assert!(!explained(&errors.stdout, "220"), "{}", errors.stdout);
    assert!(explained(&errors.stdout, "550"), "{}", errors.stdout);
    assert!(explained(&errors.stdout, "5.1.1"), "{}", errors.stdout);
    assert!(!explained(&none.stdout, "550"), "{}", none.stdout);
    assert!(!none.stdout.contains("hint:"), "{}", none.stdout);
    assert!(none.stdout.contains("<** 550 5.1.1 No such user"));
}

#[test]
fn no_hints_drops_the_prefixes() {
    let srv = scripted(quit_after_helo());
    let run = send(&srv, &["--no-hints", "-q", "helo"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.lines().any(|l| l == "EHLO client.test"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.lines().any(|l| l == "220 scripted.test ESMTP"));
    for hint in ["=== ", " -> ", "<-  "] {
        assert!(!run.stdout.contains(hint), "{hint:?} in {}", run.stdout);
    }
}

fn has_escapes(r: &Run) -> bool {
    r.all().contains('\u{1b}')
}

#[test]
fn colour_only_when_asked_for_and_never_in_json() {
    let send_env = |extra: &[&str], env: &[(&str, &str)]| {
        let srv = scripted(refused_rcpt());
        let mut args = send_args(&srv.server());
        args.retain(|a| a != "--color" && a != "never");
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = ehlo_env(&refs, env);
        srv.finish();
        assert_eq!(run.code, 24, "{}", run.all());
        run
    };
    // Pipes are not terminals: auto means no colour, NO_COLOR or not.
    assert!(!has_escapes(&send_env(&[], &[])));
    assert!(!has_escapes(&send_env(&[], &[("NO_COLOR", "1")])));
    assert!(!has_escapes(&send_env(&["--color", "never"], &[])));
    // always wins over NO_COLOR, on both streams.
    let r = send_env(&["--color", "always"], &[("NO_COLOR", "1")]);
    assert!(r.stdout.contains("\u{1b}["), "{}", r.stdout);
    assert!(r.stderr.contains("\u{1b}["), "{}", r.stderr);
    // CLICOLOR_FORCE turns auto on; NO_COLOR and --color never beat it.
    assert!(has_escapes(&send_env(&[], &[("CLICOLOR_FORCE", "1")])));
    assert!(!has_escapes(&send_env(
        &["--color", "never"],
        &[("CLICOLOR_FORCE", "1")]
    )));
    // --json: never colour, whatever was asked.
    for (extra, env) in [
        (&["--json", "--color", "always"][..], &[][..]),
        (&["--json"][..], &[("CLICOLOR_FORCE", "1")][..]),
    ] {
        let r = send_env(extra, env);
        assert!(!has_escapes(&r), "{extra:?}: {}", r.all());
        for l in r.stdout.lines() {
            serde_json::from_str::<serde_json::Value>(l).unwrap();
        }
    }
}

/// swaks's `--support`: what this build can do, exit 0, nothing sent (even with a send's flags,
/// as in swaks).
#[test]
fn support_lists_the_build_and_sends_nothing() {
    for args in [
        &["--support"][..],
        &["-support", "-t", "a@b.test", "-s", "192.0.2.1"],
    ] {
        let run = ehlo(args);
        assert_eq!(run.code, 0, "{}", run.all());
        assert!(
            run.stdout.contains("=== TLS supported (OpenSSL "),
            "{}",
            run.stdout
        );
        for mech in [
            "CRAM-SHA1",
            "DIGEST-MD5",
            "NTLM",
            "SCRAM-SHA-256",
            "SPA=NTLM",
        ] {
            assert!(run.stdout.contains(mech), "{mech}: {}", run.stdout);
        }
        assert!(!run.stdout.contains("Trying"), "{}", run.stdout);
    }
}

/// A one-connection SMTP server on `[::1]`: the banner, then `221` to QUIT. Its port, and what
/// it received.
fn loopback_v6_server() -> (u16, std::thread::JoinHandle<String>) {
    use std::io::Write as _;
    let l = TcpListener::bind("[::1]:0").expect("an IPv6 loopback listener");
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(b"220 v6.test ESMTP\r\n").unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 512];
        while let Ok(n @ 1..) = s.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
            if got.ends_with(b"QUIT\r\n") {
                let _ = s.write_all(b"221 bye\r\n");
                break;
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    });
    (port, h)
}

/// A scoped IPv6 literal (`fe80::1%eth0`, `[fe80::1%2]:25`: RFC 4007 §11) is an address with
/// its interface, never a name to look up: the send, the REPL (one connection plan) connect to
/// it on that interface (the loopback's `::1%lo` here: the kernel ignores the scope of a
/// non-link-local address, so the connection itself proves the plan), by name or by index, with
/// no DNS query. An unknown interface is one line naming the server as `[ADDR%ZONE]:PORT`. It
/// used to be looked up ("DNS lookup of fe80::1%lo failed"), or refused as no HOST:PORT.
#[test]
fn a_scoped_ipv6_literal_is_connected_to_on_its_interface() {
    let index = std::fs::read_to_string("/sys/class/net/lo/ifindex").unwrap();
    let index = index.trim();
    for (form, zone) in [("[::1%lo]:{port}", "lo"), ("::1%{index}/{port}", index)] {
        let (port, server) = loopback_v6_server();
        let spec = form
            .replace("{port}", &port.to_string())
            .replace("{index}", index);
        let run = ehlo_with(
            &[
                "--server",
                &spec,
                "-t",
                "a@b.test",
                "--quit-after",
                "connect",
                "--json",
            ],
            None,
            Duration::from_secs(30),
        );
        assert_eq!(run.code, 0, "{spec}: {}", run.all());
        assert_eq!(server.join().unwrap(), "QUIT\r\n", "{spec}");
        assert!(!run.stdout.contains("dns_query"), "{}", run.stdout);
        assert!(
            run.stdout.contains(&format!(
                r#""type":"connecting","data":{{"host":"::1%{zone}","addr":"[::1%{zone}]:{port}","address":"[::1%{zone}]:{port}"}}"#
            )),
            "{spec}: {}",
            run.stdout
        );
    }

    let (port, server) = loopback_v6_server();
    let target = format!("[::1%lo]:{port}");
    let run = ehlo_with(&["repl", &target], Some(b"QUIT\n"), Duration::from_secs(30));
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(server.join().unwrap(), "QUIT\r\n");
    assert!(
        run.stdout.contains(&format!("Trying [::1%lo]:{port}...")),
        "{}",
        run.all()
    );

    for args in [
        &["--server", "fe80::1%nosuch0", "-t", "a@b.test"][..],
        &["repl", "[fe80::1%nosuch0]:25"],
    ] {
        let run = ehlo_with(args, Some(b"QUIT\n"), Duration::from_secs(30));
        assert_eq!(run.code, 2, "{args:?}: {}", run.all());
        assert!(
            run.stderr.contains(
                "could not connect to [fe80::1%nosuch0]:25: no network interface 'nosuch0'"
            ),
            "{args:?}: {}",
            run.all()
        );
        assert!(!run.all().contains("DNS"), "{args:?}: {}", run.all());
    }
}

/// Run the `#[ignore]`d test `name` of this binary alone inside a network namespace of its own
/// (`unshare -rn`) with a link: a veth pair `v0`/`v1`, both ends in the namespace (an
/// unprivileged user can make one there), up, and the link-local address fe80::25 on `v0`
/// without duplicate address detection (`nodad`: usable at once). Its output if it did not pass.
fn in_a_namespace_with_a_link(name: &str) -> Result<(), String> {
    crate::util::in_a_new_network_namespace(
        "ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up \
         && ip -6 addr add fe80::25/64 dev v0 nodad",
        name,
    )
}

/// A real link-local address (RFC 4291 §2.5.6), not the loopback's: `ehlo serve` listens on
/// `[fe80::25%v0]:PORT` and the send to `fe80::25%v0` is delivered there, the transcript naming
/// the address with its zone. The same address without a zone names no interface: one line
/// saying so, exit 2 (it was the kernel's "Invalid argument (os error 22)"); an interface
/// that does not exist, one line naming it, exit 2. The zone used to be looked up in
/// `/sys/class/net`, which shows the interfaces of the namespace that mounted sysfs: `v0` here
/// was "no network interface 'v0' on this host", and `serve --listen` refused the bracketed
/// scoped address with "an IPv6 address goes in brackets".
#[test]
fn a_link_local_address_is_reached_on_the_interface_its_zone_names() {
    let name = concat!(
        "edges::",
        "a_link_local_address_is_reached_on_the_interface_its_zone_names_inside"
    );
    if let Err(out) = in_a_namespace_with_a_link(name) {
        panic!("{out}");
    }
}

#[test]
#[ignore = "run inside a network namespace with a link by the test of the same name"]
fn a_link_local_address_is_reached_on_the_interface_its_zone_names_inside() {
    // The precondition: fe80::25 on v0 here (else this ran outside its namespace).
    let inet6 = std::fs::read_to_string("/proc/self/net/if_inet6").unwrap();
    assert!(
        inet6
            .lines()
            .any(|l| l.starts_with("fe800000000000000000000000000025 ") && l.ends_with(" v0")),
        "no fe80::25 on v0: run by the test of the same name without _inside\n{inet6}"
    );
    let mut serve = Command::new(env!("CARGO_BIN_EXE_ehlo"))
        .args(["serve", "--listen", "[fe80::25%v0]:0", "--color", "never"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ehlo serve starts");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let out = serve.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let mut wait_for = |what: &str| -> Option<String> {
        let end = Instant::now() + Duration::from_secs(30);
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            let line = rx.recv_timeout(left).ok()?;
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(what) {
                return Some(line);
            }
        }
        None
    };
    let Some(listening) = wait_for("server listening on [fe80::25%v0]:") else {
        let _ = serve.kill();
        let _ = serve.wait();
        panic!("no listening line naming the zone");
    };
    let port = listening
        .split("[fe80::25%v0]:")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("no port in {listening}"));
    let port_s = port.to_string();

    let run = ehlo_with(
        &[
            "--server",
            "fe80::25%v0",
            "-p",
            &port_s,
            "-t",
            "a@b.test",
            "--from",
            "x@y.test",
        ],
        None,
        Duration::from_secs(30),
    );
    // A local link-local address written without its zone is on the scoped server's link
    // (it was the kernel's "Invalid argument" from bind); to a server with no zone it names no
    // link: one line saying so, exit 2.
    let local = ehlo_with(
        &[
            "--server",
            "fe80::25%v0",
            "-p",
            &port_s,
            "--local-interface",
            "fe80::25",
            "-t",
            "a@b.test",
            "--json",
        ],
        None,
        Duration::from_secs(30),
    );
    let no_link = ehlo_with(
        &[
            "--server",
            &format!("[::1]:{port}"),
            "--local-interface",
            "fe80::25",
            "-t",
            "a@b.test",
        ],
        None,
        Duration::from_secs(30),
    );
    let stored = wait_for("stored message");
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .contains(&format!("=== Trying [fe80::25%v0]:{port}...")),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("250 2.0.0 Ok: queued as"),
        "{}",
        run.all()
    );
    let stored = stored.unwrap_or_else(|| panic!("serve stored nothing:\n{seen}"));
    assert!(stored.contains("from <x@y.test> to <a@b.test>"), "{stored}");
    assert_eq!(local.code, 0, "{}", local.all());
    assert!(
        local.stdout.contains(r#""local":"[fe80::25%"#),
        "{}",
        local.all()
    );
    assert_eq!(no_link.code, 2, "{}", no_link.all());
    assert!(
        no_link.stderr.contains(
            "--local-interface fe80::25 is a link-local address: name its interface as its \
             zone, fe80::25%eth0 (RFC 4007 §11)"
        ),
        "{}",
        no_link.all()
    );
    assert!(
        !no_link.all().contains("Invalid argument"),
        "{}",
        no_link.all()
    );

    for (server, why) in [
        (
            "fe80::25",
            "fe80::25 is a link-local address: name its interface as its zone, \
             fe80::25%eth0 (RFC 4007 §11)",
        ),
        (
            "fe80::25%nosuch0",
            "no network interface 'nosuch0' on this host",
        ),
    ] {
        let run = ehlo_with(
            &["--server", server, "-p", &port_s, "-t", "a@b.test"],
            None,
            Duration::from_secs(30),
        );
        assert_eq!(run.code, 2, "{server}: {}", run.all());
        let line = format!("could not connect to [{server}]:{port}: {why}");
        assert_eq!(
            run.all().lines().filter(|l| l.contains(&line)).count(),
            1,
            "{server}: {}",
            run.all()
        );
        assert!(!run.all().contains("Invalid argument"), "{}", run.all());
        assert!(!run.all().contains("Trying"), "{}", run.all());
    }
}

/// A refused greeting is named by the verb that was sent: LHLO under `--protocol lmtp`, HELO
/// under `--protocol smtp` (the result line used to say "EHLO: expected 250" for both).
#[test]
fn a_refused_greeting_names_the_verb_that_was_sent() {
    for (protocol, verb) in [("lmtp", "LHLO"), ("smtp", "HELO"), ("esmtp", "EHLO")] {
        for json in [false, true] {
            let srv = scripted(vec![
                Step::Send(b"220 peer.test ready\r\n"),
                Step::Expect(verb),
                Step::Send(b"550 5.7.1 not you\r\n"),
                Step::Expect("QUIT"),
                Step::Send(b"221 Bye\r\n"),
            ]);
            let mut extra = vec!["--protocol", protocol];
            if json {
                extra.push("--json");
            }
            let run = send(&srv, &extra);
            let got = srv.finish();
            assert!(got.starts_with(&format!("{verb} client.test")), "{got}");
            assert_eq!(run.code, 22, "{}", run.all());
            let want = format!("{verb}: expected 250, got 550 5.7.1 not you");
            if json {
                let summary: serde_json::Value =
                    serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
                assert_eq!(summary["data"]["error"], want.as_str(), "{}", run.stdout);
            } else {
                assert!(run.all().contains(&want), "{}", run.all());
            }
            for other in ["EHLO", "LHLO", "HELO"].iter().filter(|v| **v != verb) {
                assert!(
                    !run.all().contains(&format!("{other}: expected")),
                    "{}",
                    run.all()
                );
            }
        }
    }
}

/// `--timeout " 5s"` (a blank around the value) is refused as swaks 20201014 refuses it
/// ("Unknown timeout format ' 5s'", exit 1): one line naming the value, nothing connected. It
/// was trimmed and taken. Config-file values are read by the same parser.
#[test]
fn a_duration_with_a_blank_around_it_is_refused() {
    let trap = tripwire();
    let addr = trap.local_addr().unwrap().to_string();
    for value in [" 5s", "5s "] {
        let run = ehlo(&[
            "--timeout",
            value,
            "--server",
            &addr,
            "--to",
            "ehlotest@ehlo.test",
            "-q",
            "connect",
        ]);
        assert_eq!(run.code, 1, "{value:?}: {}", run.all());
        assert!(
            run.stderr.lines().next().is_some_and(|l| {
                l.contains(&format!(
                "'{value}' has a blank around it: a duration is N, Ns, Nm or Nh with nothing else"
            ))
            }),
            "{value:?}: {}",
            run.all()
        );
        assert!(!run.all().contains("Trying"), "{value:?}: {}", run.all());
    }
    assert!(trap.accept().is_err(), "nothing may connect");
}

/// A host NAME whose address is IPv6 link-local (RFC 4291 §2.5.6) cannot carry the zone that
/// address needs (RFC 4007 §11: a zone is part of an address's text form, never of a DNS
/// answer), so the kernel would refuse the connection as "Invalid argument (os error 22)".
/// The send and the REPL say why in one line, as for the literal `--server fe80::25`, naming
/// the name it came from and the literal to give instead; nothing is attempted, exit 2. A
/// fake DNS server gives the name its AAAA record: no /etc/hosts, no network.
#[test]
fn a_name_resolving_to_a_link_local_address_says_a_name_carries_no_zone() {
    use ehlo::net::testutil::{FakeDns, RecordSpec};
    let ll: std::net::Ipv6Addr = "fe80::25".parse().unwrap();
    let (dns, _h) = FakeDns::start(vec![
        ("ll.example.test", RecordSpec::Aaaa(ll)),
        ("both.example.test", RecordSpec::Aaaa(ll)),
        (
            "both.example.test",
            RecordSpec::Aaaa(std::net::Ipv6Addr::LOCALHOST),
        ),
    ]);
    let dns = dns.to_string();
    let why = "could not connect to ll.example.test:2525: fe80::25 (the address of \
               ll.example.test) is a link-local address, and a host name cannot carry the \
               interface it needs: give the address with its zone instead, fe80::25%eth0 \
               (RFC 4007 §11)";
    for (args, code) in [
        (
            vec![
                "--server",
                "ll.example.test:2525",
                "--dns-server",
                &dns,
                "-t",
                "a@b.test",
                "--timeout",
                "5s",
            ],
            2,
        ),
        (
            vec![
                "repl",
                "ll.example.test:2525",
                "--dns-server",
                &dns,
                "--timeout",
                "5s",
            ],
            2,
        ),
    ] {
        let run = ehlo_with(&args, Some(b"QUIT\n"), Duration::from_secs(30));
        assert_eq!(run.code, code, "{args:?}: {}", run.all());
        assert_eq!(
            run.all().lines().filter(|l| l.contains(why)).count(),
            1,
            "{args:?}: {}",
            run.all()
        );
        assert!(!run.all().contains("Invalid argument"), "{}", run.all());
        assert!(!run.all().contains("Trying"), "{}", run.all());
    }

    // A name with another address too: the link-local one is said not tried, the other used.
    let (port, server) = loopback_v6_server();
    let target = format!("both.example.test:{port}");
    let run = ehlo_with(
        &[
            "--server",
            &target,
            "--dns-server",
            &dns,
            "-t",
            "a@b.test",
            "--quit-after",
            "connect",
        ],
        None,
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(server.join().unwrap(), "QUIT\r\n");
    let skipped = "fe80::25 (the address of both.example.test) is a link-local address, and a \
                   host name cannot carry the interface it needs: give the address with its \
                   zone instead, fe80::25%eth0 (RFC 4007 §11); not tried";
    assert_eq!(
        run.all().lines().filter(|l| l.contains(skipped)).count(),
        1,
        "{}",
        run.all()
    );
    assert!(!run.all().contains("Invalid argument"), "{}", run.all());
}

/// A port with a blank around it (`-p ' 2525'`, `--server 'host: 2525'`) is refused as swaks
/// refuses it ("unable to resolve service name  2525 into a port", exit 1): one line naming the
/// value, nothing connected. It was trimmed and the send went ahead.
#[test]
fn a_port_with_a_blank_around_it_is_refused() {
    let trap = tripwire();
    let port = trap.local_addr().unwrap().port().to_string();
    let cases: [(&str, String, String); 5] = [
        ("-p", format!(" {port}"), format!(" {port}")),
        ("--port", format!("{port} "), format!("{port} ")),
        ("--port", format!("\t{port}"), format!("\\x09{port}")),
        ("--server", format!("127.0.0.1: {port}"), format!(" {port}")),
        ("--server", format!("127.0.0.1:{port} "), format!("{port} ")),
    ];
    for (flag, value, named) in &cases {
        let mut args = vec!["--to", "ehlotest@ehlo.test", "-q", "connect"];
        if flag != &"--server" {
            args.extend(["--server", "127.0.0.1"]);
        }
        args.extend([*flag, value.as_str()]);
        let run = ehlo(&args);
        assert_eq!(run.code, 1, "{flag} {value:?}: {}", run.all());
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "{flag} {value:?}: {}",
            run.all()
        );
        assert!(
            run.stderr.contains(&format!(
                "'{named}' has a blank around it: a port is a number (1-65535) or a service name with nothing else"
            )),
            "{flag} {value:?}: {}",
            run.all()
        );
        assert!(
            !run.all().contains("Trying"),
            "{flag} {value:?}: {}",
            run.all()
        );
    }
    // Around the host it is whitespace in the host name, refused the same way.
    let run = ehlo(&[
        "--to",
        "ehlotest@ehlo.test",
        "--server",
        &format!(" 127.0.0.1:{port}"),
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("' 127.0.0.1' contains whitespace"),
        "{}",
        run.all()
    );
    assert!(trap.accept().is_err(), "nothing may connect");
}

/// The send's arguments to `addr` (a tripwire nothing may reach) with `extra` after them.
fn send_to(addr: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["--to", "ehlotest@ehlo.test", "--server", addr]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// Each command line exits 1 with one line on stderr holding its words; `more` checks the rest.
fn each_refused_in_one_line(cases: &[(Vec<String>, &str)], more: impl Fn(&[&str], &Run)) {
    for (args, said) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = ehlo(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.all());
        assert!(run.stderr.contains(said), "{args:?}: {}", run.all());
        more(&args, &run);
    }
}

/// A numeric flag given a negative number names the flag and says why the value is wrong, in
/// every mode: clap took `-1` for an option ("unexpected argument '-1' found", "unknown option
/// '-1'") and never said which flag lacked a value; `serve`'s u64 counts said "invalid digit
/// found in string".
#[test]
fn a_negative_number_is_a_bad_value_of_its_flag() {
    let trap = tripwire();
    let addr = trap.local_addr().unwrap().to_string();
    let send = |extra: &[&str]| send_to(&addr, extra);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            send(&["-p", "-1"]),
            "invalid value '-1' for --port: '-1' is not a port (1-65535)",
        ),
        (
            send(&["--port", "-25"]),
            "invalid value '-25' for --port: '-25' is not a port (1-65535)",
        ),
        (
            send(&["--lport", "-1"]),
            "invalid value '-1' for --local-port: '-1' is not a port (1-65535)",
        ),
        (
            send(&["--timeout", "-5"]),
            "invalid value '-5' for --timeout: '-5' is not a duration",
        ),
        // A flag whose value is an optional number takes `-1` as that value, as swaks's
        // Getopt::Long (`silent|S:i`) does: swaks reads `-S -1` as `-S 1`. It was read as an
        // unknown option `-1`.
        (
            send(&["-S", "-1"]),
            "invalid value '-1' for --silent: -1 is not in 1..=3",
        ),
        (
            send(&["-silent", "-2"]),
            "invalid value '-2' for --silent: -2 is not in 1..=3",
        ),
        (
            send(&["--bdat", "-1"]),
            "invalid value '-1' for --bdat: '-1' is not a size",
        ),
        (
            owned(&["serve", "--max-connections", "-1"]),
            "invalid value '-1' for --max-connections of 'ehlo serve': -1 is not in 1..=1000000",
        ),
        (
            owned(&["serve", "--max-sessions", "-1"]),
            "invalid value '-1' for --max-sessions of 'ehlo serve': -1 is not in 1..=",
        ),
        (
            owned(&["serve", "--greet-pause", "-1"]),
            "invalid value '-1' for --greet-pause of 'ehlo serve': -1 is not in 0..=60000",
        ),
        (
            owned(&["serve", "--seed", "-1"]),
            "invalid value '-1' for --seed of 'ehlo serve': '-1' is not a whole number",
        ),
        (
            owned(&["serve", "--max-auth-failures", "-1"]),
            "invalid value '-1' for --max-auth-failures of 'ehlo serve': -1 is not in 0..=",
        ),
        (
            owned(&["check", "-p", "-1", "ehlo.test"]),
            "invalid value '-1' for --port of 'ehlo check': '-1' is not a port (1-65535)",
        ),
        (
            owned(&["check", "--cert-days", "-1", "ehlo.test"]),
            "invalid value '-1' for --cert-days of 'ehlo check': -1 is not in 0..=",
        ),
        (
            owned(&["probe", "--port", "-1", "127.0.0.1"]),
            "invalid value '-1' for --port of 'ehlo probe': '-1' is not a port (1-65535)",
        ),
        (
            owned(&["repl", "--port", "-1", "127.0.0.1"]),
            "invalid value '-1' for --port of 'ehlo repl': '-1' is not a port (1-65535)",
        ),
    ];
    each_refused_in_one_line(&cases, |args, run| {
        assert!(
            !run.stderr.contains("unexpected argument"),
            "{args:?}: {}",
            run.all()
        );
        assert!(
            !run.stderr.contains("unknown option"),
            "{args:?}: {}",
            run.all()
        );
    });
    assert!(trap.accept().is_err(), "nothing may connect");
}

/// A negative duration with its unit (`--deadline -1s`, `-5m`) or a fraction is a bad value of
/// its flag, named in one line, in the send and in every subcommand: clap, which takes only a
/// bare negative number for a value, read `-1s` as the options `-1` and `-s` ("unexpected
/// argument '-1' found", "unknown option '-1' for 'ehlo replay'").
#[test]
fn a_negative_duration_with_a_unit_is_a_bad_value_of_its_flag() {
    let trap = tripwire();
    let addr = trap.local_addr().unwrap().to_string();
    let send = |extra: &[&str]| send_to(&addr, extra);
    let script = tempfile::tempdir().unwrap();
    let file = script.path().join("s.txt");
    std::fs::write(&file, "< 220 x\n> NOOP\n< 250 ok\n").unwrap();
    let file = file.to_str().unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            send(&["--deadline", "-1s"]),
            "invalid value '-1s' for --deadline: '-1s' is not a duration",
        ),
        (
            send(&["--timeout", "-5m"]),
            "invalid value '-5m' for --timeout: '-5m' is not a duration",
        ),
        (
            send(&["--connect-timeout", "-1s"]),
            "invalid value '-1s' for --connect-timeout: '-1s' is not a duration",
        ),
        (
            owned(&["replay", file, "--server", &addr, "--deadline", "-1s"]),
            "invalid value '-1s' for --deadline of 'ehlo replay': '-1s' is not a duration",
        ),
        (
            owned(&["check", "--deadline", "-2m", "ehlo.test"]),
            "invalid value '-2m' for --deadline of 'ehlo check': '-2m' is not a duration",
        ),
        (
            owned(&["serve", "--idle-timeout", "-1s"]),
            "invalid value '-1s' for --idle-timeout of 'ehlo serve': '-1s' is not a duration",
        ),
    ];
    each_refused_in_one_line(&cases, |_, _| {});
    // Not a numeric flag: `--to -1s` is still an unknown option, as in swaks.
    let run = ehlo(&["--server", &addr, "--to", "-1s"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(!run.stderr.contains("for --to"), "{}", run.all());
    assert!(trap.accept().is_err(), "nothing may connect");
}

/// Values swaks reads only when it needs them, or reads as "not given", are refused before
/// connecting in one line (README, swaks section): an unreadable `--tls-cert`/`--tls-key`
/// (swaks ignores them without TLS and goes on in plain text with `--tls-optional`), an
/// `--auth-map` that is no `ALIAS=TYPE` (swaks checks it only when it authenticates), `-p 0`
/// (swaks takes it for no port and connects to the `--server` port).
#[test]
fn values_swaks_would_skip_are_refused_before_connecting() {
    let trap = tripwire();
    let addr = trap.local_addr().unwrap().to_string();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--tls-cert", "/nonexistent", "--tls-key", "/nonexistent"],
            "--tls-cert: /nonexistent is not a readable file",
        ),
        (
            &[
                "--tls-optional",
                "--tls-cert",
                "/nonexistent",
                "--tls-key",
                "/nonexistent",
            ],
            "--tls-cert: /nonexistent is not a readable file",
        ),
        (
            &["--auth-map", "bogus"],
            "--auth-map: 'bogus' is not ALIAS=TYPE",
        ),
        (&["-p", "0"], "'0' is not a port (1-65535)"),
    ];
    for (extra, said) in cases {
        let mut args = vec!["--to", "ehlotest@ehlo.test", "--server", &addr];
        args.extend_from_slice(extra);
        let run = ehlo(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.all());
        assert!(run.stderr.contains(said), "{args:?}: {}", run.all());
    }
    assert!(trap.accept().is_err(), "nothing may connect");
}

/// A control character in an argument (ESC, CR, BS, a C1 CSI) is the user's, but a usage error
/// quoting it must not hand it to the terminal: it is shown escaped, as a server's bytes are in
/// the transcript; and one in `--server` is called a control character, not whitespace.
#[test]
fn usage_errors_escape_control_characters_in_the_arguments() {
    for (args, shown) in [
        (
            vec!["--to", "a@ehlo.test", "--server", "h\u{1b}[2Jx"],
            "'h\\x1B[2Jx' contains a control character",
        ),
        (
            vec!["--bogus\u{1b}[31m\r\u{8}"],
            "'--bogus\\x1B[31m\\x0D\\x08'",
        ),
        (vec!["repl", "h\u{9b}2Jx", "25"], "h\\u{009B}2Jx"),
    ] {
        let run = ehlo(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        assert!(run.stderr.contains(shown), "{args:?}: {}", run.all());
        assert!(
            !run.all().chars().any(|c| c != '\n' && c.is_control()),
            "{args:?}: a control character reached the output: {:?}",
            run.all()
        );
    }
}
