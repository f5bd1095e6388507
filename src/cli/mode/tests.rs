//! Tests of argv → `Mode`: validation, normalisation and every usage error.

use super::*;

use crate::cli::args::Cli;
use crate::cli::message::MessageContext;
use crate::error::Error;
use crate::net::dns::Family;
use crate::net::route::{Target, Transport};
use crate::net::tls::PemOut;
use crate::render::{ColorChoice, Format, HumanOptions, Kinds};
use crate::smtp::auth::Credentials;
use crate::smtp::client::{
    AuthRequirement, Protocol, StartTls, Stop, StopAt, StopKind, XclientCommand, XclientRequirement,
};
use crate::smtp::data::Fixup;
use crate::smtp::ext::Ret;
use std::time::Duration;
use time::macros::datetime;

fn env() -> Environment {
    Environment {
        user: Some("alice".into()),
        pw_user: || Some("pwalice".into()),
        hostname: "client.test".into(),
        message: MessageContext {
            now: datetime!(2024-01-02 03:04:05 UTC).into(),
            hostname: "client.test".into(),
            pid: 7,
        },
        read_stdin: |_| Ok(b"from stdin\n".to_vec()),
        stdin: || Box::new(&b"from stdin\n"[..]),
        home: None,
        prompt: None,
    }
}

fn mode(args: &[&str]) -> Result<Mode, Error> {
    let argv = std::iter::once("ehlo").chain(args.iter().copied());
    let cli = Cli::parse_args(argv).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    from_cli_in(cli, &env())
}

fn send(args: &[&str]) -> SendConfig {
    match mode(args) {
        Ok(Mode::Send(c)) => *c,
        Ok(other) => panic!("{args:?}: not a send: {other:?}"),
        Err(e) => panic!("{args:?}: {e}"),
    }
}

fn err(args: &[&str]) -> String {
    match mode(args) {
        Err(e @ Error::Usage(_)) => {
            assert_eq!(e.exit_code(), 1);
            e.to_string()
        }
        other => panic!("{args:?}: expected a usage error, got {other:?}"),
    }
}

fn host(h: &str, port: u16) -> Target {
    Target::Host {
        host: h.into(),
        port,
    }
}

/// `ehlo repl`'s `--tls`/`--helo` add steps; a replay's script holds them, so it refuses both
/// with the reason (they were shown in its --help and silently ignored).
#[test]
fn replay_refuses_tls_and_helo() {
    for (args, flag) in [
        (&["replay", "f", "-s", "h", "--tls"][..], "--tls"),
        (&["replay", "f", "-s", "h", "--helo", "me.test"], "--helo"),
        (&["replay", "f", "-s", "h", "--ehlo", "me.test"], "--helo"),
    ] {
        let e = err(args);
        assert!(
            e.contains(&format!("ehlo replay {flag}: the script holds")),
            "{e}"
        );
    }
    assert!(matches!(
        mode(&["replay", "f", "-s", "h"]),
        Ok(Mode::Replay(_))
    ));
    let Ok(Mode::Repl(c)) = mode(&["repl", "h", "--tls", "--helo", "me.test"]) else {
        panic!("not repl")
    };
    assert!(c.starttls);
    assert_eq!(c.ehlo.as_deref(), Some("me.test"));
}

/// `repl`, `replay` and `probe` take the port as the send does: one inside HOST:PORT wins over
/// `-p`, which fills in a target without one.
#[test]
fn subcommand_server_port_wins_over_dash_p() {
    let Ok(Mode::Repl(c)) = mode(&["repl", "h:2525", "-p", "587"]) else {
        panic!("not repl")
    };
    assert_eq!(c.target, Some(host("h", 2525)));
    let Ok(Mode::Repl(c)) = mode(&["repl", "h", "-p", "587"]) else {
        panic!("not repl")
    };
    assert_eq!(c.target, Some(host("h", 587)));
    let Ok(Mode::Replay(c)) = mode(&["replay", "f", "-s", "[::1]:2525", "-p", "587"]) else {
        panic!("not replay")
    };
    assert_eq!(c.session.target, Some(host("::1", 2525)));
    let Ok(Mode::Probe(c)) = mode(&["probe", "h:2525", "-p", "587", "-t", "me@x.test"]) else {
        panic!("not probe")
    };
    assert_eq!(c.plan.target, host("h", 2525));
}

#[test]
fn server_and_port_precedence() {
    assert_eq!(
        send(&["-t", "a@x.test", "-s", "mx.test"]).connect.target,
        host("mx.test", 25)
    );
    assert_eq!(
        send(&["-t", "a@x.test", "-s", "mx.test:2525"])
            .connect
            .target,
        host("mx.test", 2525)
    );
    assert_eq!(
        send(&["-t", "a@x.test", "-s", "mx.test:2525", "-p", "587"])
            .connect
            .target,
        host("mx.test", 2525)
    );
    assert_eq!(
        send(&["-t", "a@x.test", "-s", "[::1]:26"]).connect.target,
        host("::1", 26)
    );
    assert_eq!(
        send(&["-t", "a@x.test", "-s", "::1/27"]).connect.target,
        host("::1", 27)
    );
    assert_eq!(
        send(&["-t", "a@x.test", "-s", "h", "--tlsc"])
            .connect
            .target,
        host("h", 465)
    );
    assert_eq!(
        send(&["-t", "a@x.test", "-s", "h", "--protocol", "lmtp"])
            .connect
            .target,
        host("h", 24)
    );
    assert_eq!(
        send(&["-t", "a@x.test", "-s", "h", "--protocol", "ssmtp"])
            .connect
            .target,
        host("h", 465)
    );
    assert_eq!(
        send(&["-t", "a@x.test", "-s", "h:2525", "--tlsc"])
            .connect
            .target,
        host("h", 2525)
    );
}

#[test]
fn mx_target_from_last_recipient() {
    let c = send(&["-t", "a@first.test", "--cc", "b@Second.Test"]);
    assert_eq!(
        c.connect.target,
        Target::Mx {
            domain: "second.test".into(),
            port: 25
        }
    );
    let c = send(&["-t", "a@x.test", "--bcc", "z@last.test", "-p", "2525"]);
    assert_eq!(
        c.connect.target,
        Target::Mx {
            domain: "last.test".into(),
            port: 2525
        }
    );
    assert_eq!(
        send(&["-t", "a@[192.0.2.1]"]).connect.target,
        host("192.0.2.1", 25)
    );
    assert_eq!(
        send(&["-t", "a@[IPv6:2001:db8::1]"]).connect.target,
        host("2001:db8::1", 25)
    );
    assert!(err(&["-t", "nodomain"]).contains("--to"));
    assert!(err(&["-t", "a@[not-an-ip]"]).contains("not an IP"));
    assert!(err(&["-t", "a@"]).contains("empty domain"));
    assert!(err(&["-t", "a@[ééé:1]"]).contains("not an IP"));
    assert!(err(&["-t", "a@[ipv6:]"]).contains("not an IP"));
    assert_eq!(
        err(&["-t", "a@[IPv6:127.0.0.1]"]),
        "--to: '[IPv6:127.0.0.1]' in 'a@[IPv6:127.0.0.1]' tags an IPv4 address as IPv6: write \
         [127.0.0.1] (RFC 5321 §4.1.3)"
    );
    assert_eq!(
        send(&["-t", "a@[IPv6:::ffff:192.0.2.1]"]).connect.target,
        host("::ffff:192.0.2.1", 25)
    );
}

#[test]
fn recipients_are_trimmed_and_needed() {
    let c = send(&[
        "-t",
        "a@x.test , b@x.test,,",
        "-t",
        "<c@x.test>",
        "--bcc",
        " d@x.test",
    ]);
    assert_eq!(
        c.plan.rcpts,
        ["a@x.test", "b@x.test", "c@x.test", "d@x.test"]
    );
    // Bcc never shows in the headers; To: has the -t text as typed, as swaks writes it.
    let text = String::from_utf8(c.plan.message).unwrap();
    assert!(
        text.contains("\nTo: a@x.test , b@x.test,,,<c@x.test>\n"),
        "{text}"
    );
    assert!(!text.contains("d@x.test"), "{text}");

    assert!(err(&["-s", "h"]).contains("--to"));
    assert!(err(&["-s", "h", "-q", "rcpt"]).contains("--to"));
    assert!(err(&["-s", "h", "--das", "rcpt"]).contains("--to"));
    // A stop before RCPT needs no recipient, but needs a server.
    let c = send(&["-s", "h", "-q", "mail"]);
    assert!(c.plan.rcpts.is_empty());
    assert_eq!(
        c.plan.stop,
        Some(Stop {
            kind: StopKind::Quit,
            at: StopAt::Mail
        })
    );
    assert!(err(&["-q", "ehlo"]).contains("--server"));
    assert!(err(&["-t", "a\r\nRSET@x.test", "-s", "h"]).contains("line break"));
}

#[test]
fn a_recipient_flag_that_names_no_address_is_refused() {
    // swaks asks for the value of an empty --to/--cc/--bcc; ehlo dropped it and sent to the
    // other recipients (or, before RCPT, to none) without a word.
    for (args, flag) in [
        (&["-s", "h", "-t", "a@x.test", "--cc", ""][..], "--cc ''"),
        (
            &["-s", "h", "-t", "a@x.test", "--bcc", " , "][..],
            "--bcc ' , '",
        ),
        (&["-s", "h", "-t", "a@x.test", "-t", ""][..], "--to ''"),
        (&["-s", "h", "--to=", "-q", "ehlo"][..], "--to ''"),
    ] {
        let e = err(args);
        assert!(
            e.starts_with(&format!("{flag} names no address")),
            "{args:?}: {e}"
        );
    }
    // An empty element beside an address is only dropped (README: "An empty list element").
    assert_eq!(
        send(&["-s", "h", "-t", "a@x.test,", "--cc", ",c@x.test"])
            .plan
            .rcpts,
        ["a@x.test", "c@x.test"]
    );
}

#[test]
fn an_empty_part_value_is_refused() {
    // swaks v20201014 and v20240103: "option attach specified with no argument", exit 1; ehlo
    // sent an empty application/octet-stream part (or text part) in its place.
    for flag in ["--attach", "--attach-body", "--attach-inline"] {
        let e = err(&["-s", "h", "-t", "a@x.test", flag, ""]);
        assert!(
            e.starts_with(&format!("{flag} '': the value is empty")),
            "{e}"
        );
    }
    let e = err(&["-s", "h", "-t", "a@x.test", "--attach", "x", "--attach", ""]);
    assert!(e.starts_with("--attach '': "), "{e}");
}

#[test]
fn stop_kinds() {
    let c = send(&["-s", "h", "--drop-after", "banner"]);
    assert_eq!(
        c.plan.stop,
        Some(Stop {
            kind: StopKind::Drop,
            at: StopAt::Connect
        })
    );
    let c = send(&["-s", "h", "-t", "a@b", "--das", "dot"]);
    assert_eq!(
        c.plan.stop,
        Some(Stop {
            kind: StopKind::DropAfterSend,
            at: StopAt::Dot
        })
    );
    assert_eq!(send(&["-s", "h", "-t", "a@b"]).plan.stop, None);
}

#[test]
fn sender_and_helo_defaults() {
    let c = send(&["-t", "a@x.test"]);
    assert_eq!(c.plan.from, "alice@client.test");
    assert_eq!(c.plan.helo, "client.test");
    assert_eq!(send(&["-t", "a@x.test", "-f", "<>"]).plan.from, "");
    assert_eq!(
        send(&["-t", "a@x.test", "-f", "<b@y.test>"]).plan.from,
        "b@y.test"
    );
    assert_eq!(
        send(&["-t", "a@x.test", "--ehlo", "me.test"]).plan.helo,
        "me.test"
    );
    assert!(err(&["-t", "a@x.test", "--helo", " "]).contains("--helo"));
    assert!(err(&["-t", "a@x.test", "--mail-param", "A\nB"]).contains("--mail-param"));
}

/// A domain list on stdin longer than the limit is refused as an @FILE one is: it used to be cut
/// at the limit without a word, the rest never checked and the cut last line checked as a name.
#[test]
fn check_refuses_a_domain_list_on_stdin_over_the_limit() {
    // An endless list: `example.com` for ever, each with a long comment (fewer lines to read
    // in a debug build).
    struct Endless;
    impl std::io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let mut line = b"example.com #".to_vec();
            line.resize(4095, b'x');
            line.push(b'\n');
            let n = buf.len().min(line.len());
            buf[..n].copy_from_slice(&line[..n]);
            Ok(n)
        }
    }
    let e = Environment {
        stdin: || Box::new(Endless),
        ..env()
    };
    let cli = Cli::parse_args(["ehlo", "check", "-"]).unwrap();
    match from_cli_in(cli, &e) {
        Err(e @ Error::Usage(_)) => {
            assert!(e.to_string().contains("stdin is larger than 64 MiB"), "{e}");
        }
        other => panic!("expected a usage error, got {:?}", other.map(|_| ())),
    }
    // A list within the limit is read whole.
    let e = Environment {
        stdin: || Box::new(&b"a.example\n# a comment\nb.example\n"[..]),
        ..env()
    };
    let cli = Cli::parse_args(["ehlo", "check", "-"]).unwrap();
    let Ok(Mode::Check(c)) = from_cli_in(cli, &e) else {
        panic!("check did not parse")
    };
    assert_eq!(c.domains, ["a.example", "b.example"]);
}

/// A selection that runs nothing used to be a green run (no check, "PASS", exit 0), and an
/// expectation about a check left out was unmet on every run (exit 40): both are usage errors.
#[test]
fn check_and_probe_refuse_a_selection_that_tests_nothing() {
    for (args, said) in [
        (
            &["check", "example.test", "--only", "smtp.postmaster"][..],
            "--only 'smtp.postmaster' runs nothing: smtp.postmaster is opt-in and needs --rcpt-probe",
        ),
        (
            &[
                "check",
                "example.test",
                "--only",
                "tls.versions",
                "--only",
                "mx.*",
            ],
            "tls.versions is opt-in and needs --tls-probe",
        ),
        (
            &["check", "example.test", "--only", "mx.*", "--skip", "mx.*"],
            "--only 'mx.*' runs nothing: --skip leaves out every id it matches",
        ),
        (
            &["check", "example.test", "--skip", "*"],
            "--skip leaves nothing to run",
        ),
        (
            &[
                "check",
                "example.test",
                "--only",
                "mx.*",
                "--expect",
                "tls.starttls=pass",
            ],
            "--expect 'tls.starttls=pass': --only/--skip leave out tls.starttls",
        ),
        (
            &[
                "check",
                "example.test",
                "--only",
                "smtp.banner",
                "--expect",
                "smtp.connect.ms<900",
            ],
            "leave out smtp.connect, so it could never be met",
        ),
        (
            &[
                "probe",
                "mx.example.test",
                "--to",
                "a@example.test",
                "--only",
                "enum.*",
                "--skip",
                "enum.*",
            ],
            "--only 'enum.*' runs nothing",
        ),
        (
            &[
                "probe",
                "mx.example.test",
                "--to",
                "a@example.test",
                "--only",
                "enum.vrfy",
                "--expect",
                "enum.rcpt=pass",
            ],
            "--expect 'enum.rcpt=pass': --only/--skip leave out enum.rcpt",
        ),
    ] {
        let e = err(args);
        assert!(e.contains(said), "{args:?}: {e}");
    }
    // What does run is accepted: an opt-in check with its flag, a glob that also matches
    // checks that run, an expectation about a selected check.
    for args in [
        &[
            "check",
            "example.test",
            "--only",
            "smtp.postmaster",
            "--rcpt-probe",
        ][..],
        &["check", "example.test", "--only", "smtp.*"],
        &[
            "check",
            "example.test",
            "--only",
            "tls.*",
            "--expect",
            "tls.cert.days>=21",
        ],
        &[
            "probe",
            "mx.example.test",
            "--to",
            "a@example.test",
            "--only",
            "enum.*",
            "--expect",
            "enum.rcpt=warn",
        ],
    ] {
        assert!(mode(args).is_ok(), "{args:?}: {:?}", mode(args).err());
    }
}

/// A `--dns-trust-anchor` file with no usable DNSKEY is a usage error before the run, as in
/// the send: it used to stop `ehlo check` with 41 ("retry later") and no JSON summary.
#[test]
fn check_reads_the_trust_anchor_file_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("anchor.key");
    std::fs::write(&bad, "garbage\n").unwrap();
    let empty = dir.path().join("empty.key");
    std::fs::write(&empty, "").unwrap();
    for (path, said) in [
        (&bad, "cannot use the DNS trust anchor file"),
        (&empty, "no DNSKEY record in it"),
        (
            &dir.path().to_path_buf(),
            "cannot use the DNS trust anchor file",
        ),
    ] {
        let p = path.display().to_string();
        let e = err(&["check", "example.test", "--dns-trust-anchor", &p]);
        assert!(e.contains(said), "{p}: {e}");
    }
    let good = dir.path().join("good.key");
    std::fs::write(
        &good,
        "example.test. 3600 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n",
    )
    .unwrap();
    let p = good.display().to_string();
    assert!(mode(&["check", "example.test", "--dns-trust-anchor", &p]).is_ok());
}

/// An unwritable `--junit` path is refused before `ehlo check` runs (it was found only after
/// every domain had been checked), as `ehlo probe` refuses it before any probe.
#[test]
fn check_refuses_an_unwritable_junit_path_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    for path in ["/nonexistent/dir/report.xml", d.as_str()] {
        let e = err(&["check", "example.test", "--junit", path]);
        assert!(e.contains(&format!("cannot write --junit {path}")), "{e}");
    }
    let ok = dir.path().join("report.xml").display().to_string();
    assert!(mode(&["check", "example.test", "--junit", &ok]).is_ok());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing left behind"
    );
}

/// An IP address is no mail domain: refused up front, not looked up as a name and failed with
/// "does not exist (NXDOMAIN)", exit 40.
#[test]
fn check_refuses_an_ip_address_as_a_domain() {
    for arg in ["127.0.0.1", "192.0.2.25.", "example.123"] {
        let e = err(&["check", arg]);
        assert!(
            e.contains(&format!("'{arg}' is not a domain name: an IP address")),
            "{e}"
        );
    }
    assert!(mode(&["check", "123.example", "0x1.example"]).is_ok());
}

/// Something else pasted into a domain list (a URL, an address, `host:port`, an IDN in
/// Unicode) is refused with the domain to write instead: the rule a character broke ("':' is
/// not allowed in a domain name (use the A-label form for IDNs)") did not say it, and named
/// IDNs for a URL. A second trailing dot is an empty label, refused (it was taken as the name).
#[test]
fn check_says_what_a_pasted_url_address_or_idn_should_be() {
    for (arg, said) in [
        (
            "https://mx.example.test/x",
            "a URL; its host is mx.example.test",
        ),
        (
            "https://u@example.test:8443?q",
            "a URL; its host is example.test",
        ),
        (
            "postmaster@example.test",
            "an e-mail address; its domain is example.test",
        ),
        (
            "mailto:a@example.test",
            "an e-mail address; its domain is example.test",
        ),
        (
            "<a@example.test>",
            "an e-mail address; its domain is example.test",
        ),
        (
            "example.test:25",
            "a port is no part of a domain; write example.test",
        ),
        (
            "bücher.example.test",
            "an IDN is checked in its A-label form: write xn--bcher-kva.example.test",
        ),
        (
            "b\u{fc}cher\u{3002}example.test",
            "an IDN is checked in its A-label form: write xn--bcher-kva.example.test",
        ),
        (
            "example\u{ff0e}test",
            "'\u{ff0e}' separates labels as '.' does (RFC 3490 §3.1): write example.test",
        ),
        (
            "example\u{ff61}test",
            "'\u{ff61}' separates labels as '.' does (RFC 3490 §3.1): write example.test",
        ),
        ("example.test,", "',' is not allowed in a domain name"),
        ("example.test..", "bad label ''"),
    ] {
        let e = err(&["check", arg]);
        assert!(e.contains(said), "{arg}: {e}");
        if arg.is_ascii() {
            assert!(!e.contains("IDN"), "{arg}: {e}");
        }
    }
    // The same in a list, with the file and line.
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("l.txt");
    std::fs::write(&list, "example.test\r\nhttp://example.net/\r\n").unwrap();
    let e = err(&["check", &format!("@{}", list.display())]);
    assert!(e.contains("l.txt line 2: 'http://example.net/' is not a domain name: a URL; its host is example.net"), "{e}");
    // One trailing dot is an absolute name, the same domain as without it.
    let Ok(Mode::Check(c)) = mode(&["check", "example.test.", "EXAMPLE.test"]) else {
        panic!("check did not parse")
    };
    assert_eq!(c.domains, ["example.test."]);
}

/// A line break in `--helo` would end the EHLO early and send the rest as a command (check
/// would send a MAIL it promises never to send): check and probe refuse it with the send's words.
#[test]
fn helo_with_a_line_break_is_refused_by_send_check_and_probe() {
    let injected = "x\r\nMAIL FROM:<a@b>";
    let said = "--helo: 'x\\r\\nMAIL FROM:<a@b>' contains a line break";
    let cases: [&[&str]; 4] = [
        &["-t", "a@x.test", "--helo", injected],
        &["check", "example.test", "--helo", injected],
        &["check", "example.test", "--helo", "x\nMAIL FROM:<a@b>"],
        &["probe", "h.test", "--to", "a@x.test", "--helo", injected],
    ];
    for args in cases {
        let e = err(args);
        assert!(
            e.contains(said) || (args.contains(&"x\nMAIL FROM:<a@b>") && e.contains("line break")),
            "{args:?}: {e}"
        );
    }
    assert!(err(&["check", "example.test", "--helo", " "]).contains("--helo: the name is empty"));
    let Ok(Mode::Check(c)) = mode(&["check", "example.test", "--helo", " me.test "]) else {
        panic!("check did not parse");
    };
    assert_eq!(c.probe.helo, "me.test");
}

#[test]
fn protocol_and_tls_flags() {
    let c = send(&[
        "-t",
        "a@x.test",
        "--protocol",
        "esmtpsa",
        "--au",
        "u",
        "--ap",
        "x",
    ]);
    assert_eq!(c.plan.starttls, StartTls::Required);
    assert!(!c.connect.link.tls_on_connect);
    assert!(c.plan.auth.is_some());
    assert_eq!(c.plan.protocol, Protocol::Esmtp);
    let c = send(&["-t", "a@x.test", "--protocol", "SMTPS"]);
    assert!(c.connect.link.tls_on_connect);
    assert_eq!(c.plan.protocol, Protocol::Smtp);
    assert!(c.plan.auth.is_none());
    // An explicit TLS flag wins over what the protocol implies.
    let c = send(&["-t", "a@x.test", "--protocol", "ssmtp", "--tls-optional"]);
    assert_eq!(c.plan.starttls, StartTls::Optional);
    assert!(!c.connect.link.tls_on_connect);
    assert_eq!(
        c.connect.target,
        Target::Mx {
            domain: "x.test".into(),
            port: 25
        }
    );
    let c = send(&["-t", "a@x.test", "--tlsos"]);
    assert_eq!(c.plan.starttls, StartTls::OptionalStrict);
    let c = send(&["-t", "a@x.test"]);
    assert_eq!(c.plan.starttls, StartTls::Off);
    assert!(c.connect.link.tls.verify);
    let c = send(&[
        "-t",
        "a@x.test",
        "-k",
        "--tls-sni",
        "sni.test",
        "--tls-verify-target",
        "v.test",
    ]);
    assert!(!c.connect.link.tls.verify);
    assert_eq!(c.connect.link.tls.sni.as_deref(), Some("sni.test"));
    assert_eq!(c.connect.link.tls.verify_name.as_deref(), Some("v.test"));
    assert!(err(&["-t", "a@x.test", "--tls-ca-path", "/no/such/ca.pem"]).contains("--tls-ca-path"));
    let dir = std::env::temp_dir();
    let c = send(&["-t", "a@x.test", "--tls-ca-path", dir.to_str().unwrap()]);
    assert_eq!(c.connect.link.tls.ca_path.as_deref(), Some(dir.as_path()));
}

/// `--auth-hide-password` with `--show-secrets` hides the exchange's secrets: the explicit
/// request to hide the password wins. It used to print the password's base64.
#[test]
fn auth_hide_password_beats_show_secrets() {
    let base = [
        "-t",
        "a@x.test",
        "-s",
        "h",
        "--au",
        "u",
        "--ap",
        "pw",
        "--allow-plaintext-auth",
    ];
    let plan = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        send(&args).plan.auth.unwrap()
    };
    assert!(plan(&["--show-secrets"]).show_secrets);
    assert!(!plan(&["--show-secrets", "--auth-hide-password"]).show_secrets);
    assert!(!plan(&["--auth-hide-password", "X", "--show-secrets"]).show_secrets);
}

/// `--auth-password '<>'` is the empty password, as in swaks (and as `--auth-user '<>'` is the
/// empty user). It used to send the two characters `<>`.
#[test]
fn auth_password_angles_are_the_empty_password() {
    let c = send(&[
        "-t",
        "a@x.test",
        "-s",
        "h",
        "--au",
        "u",
        "--ap",
        "<>",
        "--allow-plaintext-auth",
    ]);
    let a = c.plan.auth.unwrap();
    assert_eq!(
        a.credentials.password.as_ref().map(|p| p.expose()),
        Some("")
    );
}

#[test]
fn auth_plan() {
    assert!(send(&["-t", "a@x.test"]).plan.auth.is_none());
    // --auth-user implies --auth.
    let c = send(&[
        "-t",
        "a@x.test",
        "-s",
        "h",
        "--au",
        "<>",
        "--ap",
        "pw",
        "--allow-plaintext-auth",
    ]);
    let a = c.plan.auth.unwrap();
    assert_eq!(a.requirement, AuthRequirement::Required);
    assert!(a.mechanisms.is_empty());
    assert_eq!(a.credentials.user, "");
    assert_eq!(
        a.credentials.password.as_ref().map(|p| p.expose()),
        Some("pw")
    );
    assert_eq!(a.credentials.host.as_deref(), Some("h"));
    assert_eq!(a.credentials.port, Some(25));
    assert!(
        a.credentials.nonce.is_some(),
        "the plan carries its SCRAM nonce"
    );
    let c = send(&[
        "-t",
        "a@x.test",
        "--ao",
        "plain, Login,PLAIN",
        "--au",
        "u",
        "--apt",
        "--allow-plaintext-auth",
    ]);
    let a = c.plan.auth.unwrap();
    assert_eq!(a.requirement, AuthRequirement::Optional);
    assert_eq!(a.mechanisms, ["PLAIN", "LOGIN"]);
    assert!(a.show_plaintext);
    assert_eq!(a.credentials.host, None);
    let c = send(&[
        "-t",
        "a@x.test",
        "--aos",
        "--auth-force",
        "--show-secrets",
        "--tls",
        "--au",
        "u",
        "--ap",
        "x",
    ]);
    let a = c.plan.auth.unwrap();
    assert_eq!(a.requirement, AuthRequirement::OptionalStrict);
    assert!(a.force && a.show_secrets);
    // swaks's exit for "No auth types supported": 10, not a usage error's 1.
    match mode(&["-t", "a@x.test", "-a", "GSSAPI"]) {
        Err(e @ Error::Prerequisite(_)) => {
            assert_eq!(e.exit_code(), 10);
            assert!(e.to_string().contains("does not implement GSSAPI"), "{e}");
        }
        other => panic!("-a GSSAPI: expected exit 10, got {other:?}"),
    }
    // swaks's --auth-map and --auth-extra reach the plan; built-in aliases are accepted.
    let c = send(&[
        "-t",
        "a@x.test",
        "--tls",
        "--ap",
        "x",
        "-a",
        "msn,EXCH",
        "--auth-map",
        "exch=ntlm,SPA=NTLM,login=LOGIN",
        "--auth-extra",
        "Domain=CORP,dmd5-serv-type=imap,dmd5-host=h.test,dmd5-serv-name=n,NTLM-Version=1",
    ]);
    let a = c.plan.auth.unwrap();
    assert_eq!(a.mechanisms, ["MSN", "EXCH"]);
    // A built-in name mapped to itself (swaks's defaults spelt out) changes nothing.
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        a.aliases,
        [
            pair("EXCH", "NTLM"),
            pair("SPA", "NTLM"),
            pair("LOGIN", "LOGIN")
        ]
    );
    assert_eq!(a.resolve("exch"), "NTLM");
    assert_eq!(a.resolve("SPA"), "NTLM");
    let cr = &a.credentials;
    assert_eq!(cr.realm.as_deref(), Some("CORP"));
    assert_eq!(cr.service.as_deref(), Some("imap"));
    assert_eq!(cr.service_host.as_deref(), Some("h.test"));
    assert_eq!(cr.service_name.as_deref(), Some("n"));
    assert!(cr.ntlm_v1);
    assert!(cr.time.is_some());
    for (args, want) in [
        (&["--auth-map", "x"][..], "not ALIAS=TYPE"),
        (&["--auth-map", "x=GSSAPI"], "TYPE must be a mechanism"),
        (&["--auth-map", "plain=LOGIN"], "PLAIN already names PLAIN"),
        (&["--auth-map", "SPA=CRAM-MD5"], "SPA already names NTLM"),
        (&["--auth-extra", "colour=blue"], "unknown key 'colour'"),
        (&["--auth-extra", "realm"], "not KEY=VALUE"),
        (
            &["--auth-extra", "ntlm-version=3"],
            "ntlm-version is 1 or 2",
        ),
    ] {
        let argv: Vec<&str> = ["-t", "a@x.test", "--tls", "--au", "u", "--ap", "x", "-a"]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        let e = err(&argv);
        assert!(e.contains(want), "{args:?}: {e}");
    }
}

fn mode_in(args: &[&str], e: &Environment) -> Result<Mode, Error> {
    let argv = std::iter::once("ehlo").chain(args.iter().copied());
    from_cli_in(Cli::parse_args(argv).unwrap(), e)
}

fn creds_in(args: &[&str], e: &Environment) -> Credentials {
    match mode_in(args, e) {
        Ok(Mode::Send(c)) => c.plan.auth.unwrap().credentials,
        other => panic!("{args:?}: {other:?}"),
    }
}

/// A terminal that answers by question: yes to the plaintext question, fixed user, password
/// and token; secrets must be asked without echo.
fn answering(prompt: &str, echo: bool) -> std::io::Result<String> {
    Ok(if prompt.contains("[y/N]") {
        assert!(echo);
        "y".into()
    } else if prompt.contains("user name") {
        assert!(echo);
        "typed-user".into()
    } else if prompt.starts_with("Password for") {
        assert!(!echo, "{prompt}");
        "typed-pw".into()
    } else if prompt.starts_with("OAuth token") {
        assert!(!echo, "{prompt}");
        "typed-token".into()
    } else {
        panic!("unexpected prompt {prompt:?}")
    })
}

fn refusing(prompt: &str, _echo: bool) -> std::io::Result<String> {
    assert!(prompt.contains("[y/N]"), "{prompt}");
    Ok("\n".into())
}

#[test]
fn plaintext_auth_needs_confirmation_or_the_flag() {
    let base = ["-t", "a@x.test", "-s", "h", "-a", "--au", "u", "--ap", "pw"];
    let e = err(&base);
    assert!(
        e.contains("--allow-plaintext-auth") && e.contains("--tls"),
        "{e}"
    );
    // Any TLS mode, or the flag, is enough.
    for extra in [
        &["--tls"][..],
        &["--tls-on-connect"],
        &["--tls-optional"],
        &["--tlsos"],
        &["--allow-plaintext-auth"],
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        assert!(send(&args).plan.auth.is_some(), "{extra:?}");
    }
    // --dump-mail sends nothing, so it asks nothing.
    let args: Vec<&str> = base.iter().copied().chain(["--dump-mail"]).collect();
    assert!(send(&args).dump_mail);
    // On a terminal: asked; "y" goes on, anything else is a usage error.
    let mut e = env();
    e.prompt = Some(answering);
    assert_eq!(creds_in(&base, &e).password.unwrap().expose(), "pw");
    e.prompt = Some(refusing);
    let Err(Error::Usage(m)) = mode_in(&base, &e) else {
        panic!("declined must be a usage error")
    };
    assert!(
        m.contains("declined") && m.contains("--allow-plaintext-auth"),
        "{m}"
    );
}

/// A stop point before AUTH sends no credential: the plaintext refusal does not apply (swaks
/// just stops there); it used to refuse `-q helo` with the auth flags of a config file.
#[test]
fn a_stop_before_auth_needs_no_plaintext_permission() {
    let base = ["-s", "h", "-a", "--au", "u", "--ap", "pw"];
    for stop in [
        &["-q", "connect"][..],
        &["-q", "first-helo"],
        &["-q", "tls"],
        &["-q", "helo"],
        &["--drop-after", "ehlo"],
        &["--drop-after-send", "helo"],
    ] {
        let args: Vec<&str> = base.iter().chain(stop).copied().collect();
        let c = send(&args);
        assert!(c.plan.auth.is_some(), "{stop:?}");
    }
    // Nor does it need a secret that is not given (no terminal to ask on here).
    let c = send(&["-s", "h", "-a", "-q", "helo"]);
    assert!(c.plan.auth.is_some());
    // At AUTH or after it the credentials would go out: refused as ever.
    for stop in [
        &["-q", "auth"][..],
        &["-q", "mail"],
        &["--drop-after-send", "auth"],
    ] {
        let args: Vec<&str> = base.iter().chain(stop).copied().collect();
        let e = err(&args);
        assert!(e.contains("--allow-plaintext-auth"), "{stop:?}: {e}");
    }
}

#[test]
fn secret_sources_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, "from-file\nignored\n").unwrap();
    let tok_file = dir.path().join("tok");
    std::fs::write(&tok_file, "tok-from-file\n").unwrap();
    std::fs::write(
        dir.path().join(".netrc"),
        "machine mx.test login netrc-user password from-netrc\ndefault login d password from-default\n",
    )
    .unwrap();
    let mut e = env();
    e.home = Some(dir.path().to_path_buf());
    let pwf = pw_file.to_str().unwrap();
    let base = ["-t", "a@x.test", "-s", "mx.test", "--tls", "-a"];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let c = |extra: &[&str]| {
        let args = with(extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        creds_in(&refs, &e)
    };
    // The flag wins over the file, the file over .netrc.
    assert_eq!(
        c(&["--au", "me", "--ap", "flag", "--auth-password-file", pwf])
            .password
            .unwrap()
            .expose(),
        "flag"
    );
    let got = c(&["--auth-password-file", pwf, "--au", "me"]);
    assert_eq!(got.password.unwrap().expose(), "from-file");
    assert_eq!(got.user, "me");
    // .netrc: the machine entry, with its login when no --auth-user is given…
    let got = c(&[]);
    assert_eq!(got.password.unwrap().expose(), "from-netrc");
    assert_eq!(got.user, "netrc-user");
    // …and `default` when the machine's login is someone else and default's is this user…
    let got = c(&["--au", "d"]);
    assert_eq!(got.password.unwrap().expose(), "from-default");
    assert_eq!(got.user, "d");
    // …but not another login's password (curl skips such a `default` too).
    let args = with(&["--au", "other"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let Err(Error::Usage(m)) = mode_in(&refs, &e) else {
        panic!("default's password must not serve another user")
    };
    assert!(
        m.contains("no password") && !m.contains("from-default"),
        "{m}"
    );
    // Token file for the OAuth mechanisms; .netrc is not asked then.
    let tf = tok_file.to_str().unwrap();
    let got = c(&["XOAUTH2", "--au", "u", "--auth-token-file", tf]);
    assert_eq!(got.token.unwrap().expose(), "tok-from-file");
    assert!(got.password.is_none());
    // A missing file is a usage error naming the flag.
    let args = with(&["--auth-password-file", "/no/such/pw"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(err(&refs).starts_with("--auth-password-file: cannot read"));
}

#[test]
fn missing_secrets_prompt_on_a_terminal_or_fail() {
    let base = ["-t", "a@x.test", "-s", "mx.test", "--tls"];
    let e = err(&[&base[..], &["-a", "--au", "u"]].concat());
    assert!(
        e.contains("no password")
            && e.contains("--auth-password-file")
            && e.contains("EHLO_AUTH_PASSWORD")
            && e.contains(".netrc entry for mx.test"),
        "{e}"
    );
    let e = err(&[&base[..], &["-a", "XOAUTH2,OAUTHBEARER", "--au", "u"]].concat());
    assert!(
        e.contains("no OAuth token") && e.contains("--auth-token-file"),
        "{e}"
    );
    // --auth-optional reads the password from stdin, one line, as swaks reads its answer to
    // `Password: ` (at the end of stdin an empty one).
    let c = send(&[&base[..], &["--ao", "--au", "u"]].concat());
    let creds = c.plan.auth.unwrap().credentials;
    assert_eq!(creds.password.unwrap().expose(), "from stdin");
    assert_eq!(creds.user, "u");
    assert!(
        c.notes.iter().any(|n| n.contains("read from stdin")),
        "{:?}",
        c.notes
    );
    // A token alone is enough when no mechanism is named.
    let c = send(&[&base[..], &["-a", "--auth-oauth-token", "t"]].concat());
    assert!(c.plan.auth.unwrap().credentials.token.is_some());
    // On a terminal: user name (echoed) and password (not echoed) are asked for.
    let mut e = env();
    e.prompt = Some(answering);
    let got = creds_in(&[&base[..], &["-a"]].concat(), &e);
    assert_eq!(got.user, "typed-user");
    assert_eq!(got.password.unwrap().expose(), "typed-pw");
    let got = creds_in(
        &[&base[..], &["-a", "OAUTHBEARER", "--au", "u"]].concat(),
        &e,
    );
    assert_eq!(got.token.unwrap().expose(), "typed-token");
    assert!(got.password.is_none());
}

/// swaks's `-au` / `-ap` without a value: ~/.netrc, then a prompt; without a terminal a
/// one-line reason and exit 1, never a hang or a silent run without AUTH.
#[test]
fn auth_user_and_password_without_a_value() {
    let base = ["-t", "a@x.test", "-s", "mx.test", "--tls"];
    let e = err(&[&base[..], &["--au", "--ap", "pw"]].concat());
    assert!(
        e.contains("--auth-user was given without a user name") && e.contains("cannot prompt"),
        "{e}"
    );
    let e = err(&[&base[..], &["--au", "u", "--ap"]].concat());
    assert!(e.contains("no password"), "{e}");
    // From ~/.netrc.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".netrc"),
        "machine mx.test login netrc-user password from-netrc\n",
    )
    .unwrap();
    let mut e = env();
    e.home = Some(dir.path().to_path_buf());
    let got = creds_in(&[&base[..], &["--au", "--ap"]].concat(), &e);
    assert_eq!(got.user, "netrc-user");
    assert_eq!(got.password.unwrap().expose(), "from-netrc");
    // On a terminal the user name is asked for; a password already given is not.
    let mut e = env();
    e.prompt = Some(answering);
    let got = creds_in(&[&base[..], &["--au", "--ap", "given"]].concat(), &e);
    assert_eq!(got.user, "typed-user");
    assert_eq!(got.password.unwrap().expose(), "given");
    let got = creds_in(&[&base[..], &["--au", "me", "--ap"]].concat(), &e);
    assert_eq!(got.user, "me");
    assert_eq!(got.password.unwrap().expose(), "typed-pw");
}

/// A password and no user name (`--auth` with `--ap`, as swaks's `--auth` with a password
/// set): refused before connecting, naming the flag, instead of a session failing with
/// "DIGEST-MD5 needs a user name"; asked for on a terminal, as swaks does. OAUTHBEARER, whose
/// user is optional, is left alone.
#[test]
fn a_password_without_a_user_name_asks_for_one_or_says_so() {
    let base = ["-t", "a@x.test", "-s", "mx.test", "--tls"];
    for more in [
        &["--auth", "--ap", "pw"][..],
        &["--ap", "pw"],
        &["-a", "PLAIN", "--ap", "pw"],
    ] {
        let e = err(&[&base[..], more].concat());
        assert!(
            e.contains("--auth: no user name: give --auth-user USER")
                && e.contains("cannot prompt"),
            "{more:?}: {e}"
        );
    }
    let got = send(&[&base[..], &["-a", "OAUTHBEARER", "--ap", "tok"]].concat());
    assert_eq!(got.plan.auth.unwrap().credentials.user, "");
    // `--auth-optional` carries on without AUTH, as with a missing password.
    assert!(
        send(&[&base[..], &["--auth-optional", "--ap", "pw"]].concat())
            .plan
            .auth
            .is_some()
    );
    let mut e = env();
    e.prompt = Some(answering);
    let got = creds_in(&[&base[..], &["--auth", "--ap", "given"]].concat(), &e);
    assert_eq!(got.user, "typed-user");
    assert_eq!(got.password.unwrap().expose(), "given");
}

#[test]
fn default_sender_from_logname_or_the_password_database() {
    assert_eq!(send(&["-t", "a@x.test"]).plan.from, "alice@client.test");
    assert_eq!(
        send(&["-t", "a@x.test", "--force-getpwuid"]).plan.from,
        "pwalice@client.test"
    );
    let mut e = env();
    e.user = None;
    match mode_in(&["-t", "a@x.test"], &e) {
        Ok(Mode::Send(c)) => assert_eq!(c.plan.from, "pwalice@client.test"),
        other => panic!("{other:?}"),
    }
    // An explicit --from wins over both.
    assert_eq!(
        send(&["-t", "a@x.test", "-f", "x@y.test", "--force-getpwuid"])
            .plan
            .from,
        "x@y.test"
    );
}

#[test]
fn tls_depth_flags() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("c.pem");
    let key = dir.path().join("k.pem");
    // Usable files: they are checked before connecting (a file OpenSSL cannot use is a usage
    // error, below).
    let (x, pk) = crate::net::tls::self_signed(&["client.test"]).unwrap();
    std::fs::write(&cert, x.to_pem().unwrap()).unwrap();
    std::fs::write(&key, pk.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let (c, k) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let cfg = send(&[
        "-t",
        "a@x.test",
        "--tls-protocol",
        "tlsv1_2",
        "--tls-cipher",
        "HIGH",
        "--tls-ciphersuites",
        "TLS_AES_128_GCM_SHA256",
        "--tls-cert",
        c,
        "--tls-key",
        k,
        "--tls-get-peer-cert",
        "--tls-get-peer-chain",
        "/tmp/chain.pem",
    ]);
    let t = cfg.connect.link.tls;
    assert_eq!(t.protocols, Some(vec![crate::net::tls::TlsVersion::Tls1_2]));
    assert_eq!(t.cipher_list.as_deref(), Some("HIGH"));
    assert_eq!(t.ciphersuites.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    assert_eq!(t.client_cert.unwrap().key, key);
    assert_eq!(t.peer_cert_out, Some(PemOut::Transcript));
    assert_eq!(
        t.peer_chain_out,
        Some(PemOut::File("/tmp/chain.pem".into()))
    );
    // Cert and key need each other (clap), and must exist.
    let argv =
        |a: &[&str]| Cli::parse_args(std::iter::once("ehlo").chain(a.iter().copied())).is_err();
    assert!(argv(&["-t", "a@x.test", "--tls-cert", c]));
    assert!(argv(&["-t", "a@x.test", "--tls-key", k]));
    assert!(argv(&["-t", "a@x.test", "--tls-chain", c]));
    let e = err(&["-t", "a@x.test", "--tls-cert", "/no/c.pem", "--tls-key", k]);
    assert!(e.starts_with("--tls-cert: /no/c.pem"), "{e}");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "x").unwrap();
    let e = err(&[
        "-t",
        "a@x.test",
        "--tls-cert",
        junk.to_str().unwrap(),
        "--tls-key",
        k,
    ]);
    assert!(e.contains("holds no PEM certificate"), "{e}");
}

#[test]
fn family_checks() {
    assert_eq!(
        send(&["-t", "a@x.test", "-4"]).connect.link.family,
        Family::V4
    );
    assert!(err(&["-t", "a@x.test", "-4", "-s", "::1"]).contains("-4"));
    assert!(err(&["-t", "a@x.test", "-6", "-s", "127.0.0.1"]).contains("-6"));
    assert!(err(&["-t", "a@[127.0.0.1]", "-6"]).contains("-6"));
    assert!(err(&["-t", "a@x.test", "-6", "--li", "127.0.0.1"]).contains("--local-interface"));
    assert!(
        err(&["-t", "a@x.test", "-s", "::1", "--li", "127.0.0.1"])
            .contains("different IP families")
    );
    let c = send(&[
        "-t",
        "a@x.test",
        "-s",
        "127.0.0.1",
        "--li",
        "127.0.0.2:4000",
    ]);
    let bind = |host: Option<&str>, port| {
        Some(crate::net::route::LocalBind {
            host: host.map(str::to_string),
            port,
            note: String::new(),
        })
    };
    assert_eq!(c.connect.link.local, bind(Some("127.0.0.2"), 4000));
    let c = send(&[
        "-t",
        "a@x.test",
        "--li",
        "client.example",
        "--lport",
        "2500",
    ]);
    assert_eq!(c.connect.link.local, bind(Some("client.example"), 2500));
    let c = send(&["-t", "a@x.test", "--li", "127.0.0.2:4000", "--lp", "4001"]);
    assert_eq!(c.connect.link.local, bind(Some("127.0.0.2"), 4000));
    let c = send(&["-t", "a@x.test", "--local-port", "2501"]);
    assert_eq!(c.connect.link.local, bind(None, 2501));
    // --copy-routing: the MX of another domain than the recipient's.
    let c = send(&["-t", "a@x.test", "--copy-routing", "Relay.Example"]);
    assert_eq!(
        c.connect.target,
        Target::Mx {
            domain: "relay.example".into(),
            port: 25
        }
    );
    let c = send(&[
        "-t",
        "a@x.test",
        "--copy-routing",
        "[192.0.2.5]",
        "-p",
        "submission",
    ]);
    assert_eq!(
        c.connect.target,
        Target::Host {
            host: "192.0.2.5".into(),
            port: 587
        }
    );
}

#[test]
fn timeouts_and_dns() {
    let c = send(&["-t", "a@x.test"]);
    assert_eq!(c.connect.link.timeout, Duration::from_secs(30));
    assert_eq!(c.connect.link.connect_timeout, Duration::from_secs(30));
    assert_eq!(c.connect.link.dns.lookup_budget(), Duration::from_secs(5));
    assert_eq!(c.connect.link.dns.server, None);
    let c = send(&[
        "-t",
        "a@x.test",
        "--timeout",
        "2",
        "--connect-timeout",
        "1m",
    ]);
    assert_eq!(c.connect.link.timeout, Duration::from_secs(2));
    assert_eq!(c.connect.link.connect_timeout, Duration::from_secs(60));
    assert_eq!(c.connect.link.dns.lookup_budget(), Duration::from_secs(2));
    let c = send(&[
        "-t",
        "a@x.test",
        "--timeout",
        "0",
        "--dns-server",
        "127.0.0.1:5353",
    ]);
    assert_eq!(c.connect.link.timeout, Duration::ZERO);
    assert_eq!(c.connect.link.dns.lookup_budget(), Duration::from_secs(5));
    assert_eq!(
        c.connect.link.dns.server,
        Some("127.0.0.1:5353".parse().unwrap())
    );
}

#[test]
fn message_sources() {
    let c = send(&["-t", "a@x.test", "--body", "hello"]);
    let text = String::from_utf8(c.plan.message).unwrap();
    assert!(text.ends_with("\n\nhello\n"), "{text}");
    assert!(
        text.starts_with("Date: Tue, 02 Jan 2024 03:04:05 +0000\n"),
        "{text}"
    );
    // A composed message's last line is content, never an end marker.
    assert_eq!(
        c.plan.fixup,
        Fixup {
            own_end_marker: false,
            ..Fixup::ALL
        }
    );

    let c = send(&["-t", "a@x.test", "--body", "-"]);
    assert!(c.plan.message.ends_with(b"\n\nfrom stdin\n"));

    let c = send(&[
        "-t",
        "a@x.test",
        "-d",
        "Subject: x\\n\\nhi",
        "--ndf",
        "--dump-mail",
    ]);
    // swaks's --no-data-fixup replaces nothing, not even a literal \n.
    assert_eq!(c.plan.message, b"Subject: x\\n\\nhi");
    assert_eq!(c.plan.fixup, Fixup::NONE);
    let c = send(&["-t", "a@x.test", "-d", "@@literal"]);
    assert_eq!(c.plan.message, b"@literal");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("msg.eml");
    std::fs::write(&path, b"Subject: file\r\n\r\nraw \\n breaks\r\n").unwrap();
    let arg = format!("@{}", path.display());
    // A literal \n in a file is a line break too, as swaks has it.
    let c = send(&["-t", "a@x.test", "--data", &arg]);
    assert_eq!(c.plan.message, b"Subject: file\r\n\r\nraw \n breaks\r\n");
    let c = send(&["-t", "a@x.test", "--body", &arg]);
    assert!(c.plan.message.ends_with(b"raw \n breaks\r\n"));

    let e = err(&["-t", "a@x.test", "--body", "@/no/such/file"]);
    assert!(e.starts_with("--body: cannot read /no/such/file: "), "{e}");
    let e = err(&["-t", "a@x.test", "--header", "no colon"]);
    assert!(e.starts_with("--header:"), "{e}");
    let e = err(&["-t", "a@x.test", "--ah", "Bad Name: x"]);
    assert!(e.starts_with("--add-header:"), "{e}");
    let c = send(&["-t", "a@x.test", "--header", "Subject: hi", "--dump-mail"]);
    assert!(c.dump_mail);
    assert!(
        String::from_utf8(c.plan.message)
            .unwrap()
            .contains("\nSubject: hi\n")
    );
}

#[test]
fn data_file_of_many_pages_arrives_whole() {
    // The buffer is sized from the file's length: every byte still arrives, in order.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.eml");
    let mut content = b"Subject: big\r\n\r\n".to_vec();
    for i in 0..20_000 {
        content.extend_from_slice(format!("line {i:05}\r\n").as_bytes());
    }
    std::fs::write(&path, &content).unwrap();
    let arg = format!("@{}", path.display());
    let c = send(&["-t", "a@x.test", "--data", &arg]);
    assert_eq!(c.plan.message.len(), content.len());
    assert_eq!(c.plan.message, content);
}

#[test]
fn data_fixups_and_tokens() {
    let fix = |extra: &[&str]| {
        let mut args = vec!["-t", "a@x.test", "-d", "x", "--dump-mail"];
        args.extend_from_slice(extra);
        send(&args).plan.fixup
    };
    assert_eq!(fix(&[]), Fixup::ALL);
    assert_eq!(fix(&["--no-data-fixup", "--no-dot-stuffing"]), Fixup::NONE);
    let only = |f: fn(&mut Fixup)| {
        let mut x = Fixup::ALL;
        f(&mut x);
        x
    };
    assert_eq!(fix(&["--no-dot-stuffing"]), only(|f| f.dot_stuff = false));
    assert_eq!(fix(&["--no-crlf-fixup"]), only(|f| f.crlf = false));
    assert_eq!(fix(&["--nsf"]), only(|f| f.strip_from = false));
    assert_eq!(
        fix(&["--no-strip-from", "--no-crlf-fixup", "--no-dot-stuffing"]),
        Fixup {
            end_marker: true,
            own_end_marker: true,
            ..Fixup::NONE
        }
    );
    // Tokens in --data, except with --no-data-fixup (swaks: raw means raw).
    let c = send(&[
        "-t",
        "a@x.test",
        "-d",
        "Date: %DATE%\n%NEW_HEADERS%\n\n%BODY%",
    ]);
    assert_eq!(
        c.plan.message,
        b"Date: Tue, 02 Jan 2024 03:04:05 +0000\n\n\nThis is a test mailing"
    );
    let c = send(&["-t", "a@x.test", "-d", "%DATE%", "--ndf", "--dump-mail"]);
    assert_eq!(c.plan.message, b"%DATE%");
}

/// swaks turns a literal backslash-n into a line break in the whole DATA, wherever it came from
/// (argument, `@FILE`, stdin, `--body`), and not at all with `--no-data-fixup`.
#[test]
fn backslash_n_in_data_and_body_files_as_swaks() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.eml");
    std::fs::write(&data, b"Subject: f\n%NEW_HEADERS%\n\n%BODY%\nend\\nx\n").unwrap();
    let body = dir.path().join("body.txt");
    std::fs::write(&body, b"b1\\nb2").unwrap();
    let (data_arg, body_arg) = (
        format!("@{}", data.display()),
        format!("@{}", body.display()),
    );
    let c = send(&["-t", "a@x.test", "-d", &data_arg, "--body", &body_arg]);
    assert_eq!(c.plan.message, b"Subject: f\n\n\nb1\nb2\nend\nx\n");
    let c = send(&["-t", "a@x.test", "--body", &body_arg]);
    assert!(
        c.plan.message.ends_with(b"\n\nb1\nb2\n"),
        "{}",
        String::from_utf8_lossy(&c.plan.message)
    );
    // --no-data-fixup: raw means raw, inline too.
    let c = send(&["-t", "a@x.test", "-d", "a\\nb\r\n.\r\n", "--ndf"]);
    assert_eq!(c.plan.message, b"a\\nb\r\n.\r\n");
}

/// swaks writes a body part into the DATA as it is (a literal `\n` a line break, as in `--body`)
/// only when its type is exactly `text/plain`; `text/plain; charset=utf-8`, like any other
/// type, goes base64 and keeps the two characters. ehlo broke the line for any text/plain.
#[test]
fn backslash_n_in_an_attach_body_only_for_a_bare_text_plain_as_swaks() {
    let body = |t: &str| {
        let c = send(&[
            "-t",
            "a@x.test",
            "--attach-type",
            t,
            "--attach-body",
            "a\\nb",
        ]);
        String::from_utf8(c.plan.message).unwrap()
    };
    for t in [
        "text/plain; charset=utf-8",
        "text/html",
        "text/plain;format=flowed",
    ] {
        let text = body(t);
        assert!(text.contains("\n\na\\nb\n"), "{t}: {text}");
    }
    for t in ["text/plain", "TEXT/Plain"] {
        let text = body(t);
        assert!(text.contains("\n\na\nb\n"), "{t}: {text}");
    }
}

/// Tokens too: swaks replaces `%NEWLINE%`, `%TO_ADDRESS%`… in the DATA it writes, so in a body
/// part only when it is typed exactly `text/plain`; a text/html part goes base64 with its
/// tokens as written. ehlo replaced them in every body part.
#[test]
fn tokens_in_an_attach_body_only_for_a_bare_text_plain_as_swaks() {
    let body = |t: &str| {
        let c = send(&[
            "-t",
            "a@x.test",
            "--attach-type",
            t,
            "--attach-body",
            "x %TO_ADDRESS% y%NEWLINE%z",
        ]);
        String::from_utf8(c.plan.message).unwrap()
    };
    for t in ["text/html", "text/plain; charset=utf-8"] {
        let text = body(t);
        assert!(
            text.contains("\n\nx %TO_ADDRESS% y%NEWLINE%z\n"),
            "{t}: {text}"
        );
    }
    let text = body("text/plain");
    assert!(text.contains("\n\nx a@x.test y\nz\n"), "{text}");
    // swaks ignores an --attach-name for a body part: still as given, tokens and `\n` replaced.
    let c = send(&[
        "-t",
        "a@x.test",
        "--attach-name",
        "n.txt",
        "--attach-body",
        "a\\nb %TO_ADDRESS%",
    ]);
    let text = String::from_utf8(c.plan.message).unwrap();
    assert!(text.contains("\n\na\nb a@x.test\n"), "{text}");
}

/// An empty `--attach-name ''` names nothing, and swaks then sends the file as
/// application/octet-stream with no file name: ehlo still guessed application/pdf from the path.
#[test]
fn an_empty_attach_name_guesses_no_type_as_swaks() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("file.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 x\n").unwrap();
    let pdf_arg = format!("@{}", pdf.display());
    let c = send(&["-t", "a@x.test", "--attach-name", "", "--attach", &pdf_arg]);
    let text = String::from_utf8(c.plan.message).unwrap();
    assert!(
        text.contains("Content-Type: application/octet-stream\nContent-Disposition: attachment\n"),
        "{text}"
    );
    assert!(!text.contains("pdf"), "{text}");
    // An --attach-type still types it.
    let c = send(&[
        "-t",
        "a@x.test",
        "--attach-type",
        "application/pdf",
        "--attach-name",
        "",
        "--attach",
        &pdf_arg,
    ]);
    let text = String::from_utf8(c.plan.message).unwrap();
    assert!(
        text.contains("Content-Type: application/pdf\nContent-Disposition: attachment\n"),
        "{text}"
    );
}

#[test]
fn attachments() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 \x00\xff").unwrap();
    let pdf_arg = format!("@{}", pdf.display());
    let c = send(&[
        "-t",
        "a@x.test",
        "--attach",
        &pdf_arg,
        "--attach",
        "plain words",
    ]);
    let text = String::from_utf8(c.plan.message).unwrap();
    assert!(
        text.contains("Content-Type: application/pdf\nContent-Disposition: attachment; filename=\"report.pdf\"\n"),
        "{text}"
    );
    assert!(
        text.contains("Content-Type: application/octet-stream\nContent-Disposition: attachment\n"),
        "{text}"
    );
    // --attach-type is sticky, --attach-name applies once; stdin works for one part.
    let c = send(&[
        "-t",
        "a@x.test",
        "--attach-type",
        "image/x-test",
        "--attach-name",
        "one.img",
        "--attach",
        "1",
        "--attach",
        "-",
        "--attach-name",
        "--attach-inline",
        &pdf_arg,
    ]);
    let text = String::from_utf8(c.plan.message).unwrap();
    assert!(
        text.contains(
            "Content-Type: image/x-test\nContent-Disposition: attachment; filename=\"one.img\"\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("Content-Type: image/x-test\nContent-Disposition: attachment\n"),
        "{text}"
    );
    assert!(
        text.contains("Content-Type: image/x-test\nContent-Disposition: inline\nContent-ID: <part1@client.test>\n"),
        "{text}"
    );
    assert_eq!(
        c.notes,
        [
            "inline part 1 (image/x-test): Content-ID <part1@client.test>, reference it as cid:part1@client.test"
        ]
    );

    let e = err(&["-t", "a@x.test", "--attach", "@/no/such/file.bin"]);
    assert!(
        e.starts_with("--attach: cannot read /no/such/file.bin: "),
        "{e}"
    );
    let e = err(&["-t", "a@x.test", "--attach-inline", "@/no/such/dir/"]);
    assert!(
        e.starts_with("--attach-inline: cannot read /no/such/dir/: "),
        "{e}"
    );
    let e = err(&[
        "-t",
        "a@x.test",
        "--attach-body",
        &format!("@{}", dir.path().display()),
    ]);
    assert!(e.starts_with("--attach-body: cannot read "), "{e}");
    let e = err(&[
        "-t",
        "a@x.test",
        "--attach-type",
        "nonsense",
        "--attach",
        "x",
    ]);
    assert!(
        e.starts_with("--attach-type: 'nonsense' is not a MIME type"),
        "{e}"
    );
    let e = err(&["-t", "a@x.test", "--attach-name", "a\nb", "--attach", "x"]);
    assert!(e.starts_with("--attach-name:"), "{e}");
    // --data takes stdin alone; --body and --attach share it (see swaks_compat's test).
    let e = err(&["-t", "a@x.test", "--data", "-", "--body", "-"]);
    assert!(
        e.starts_with("--body: stdin can be read only once (also given to --data)"),
        "{e}"
    );
    // A dangling --attach-type or --attach-name is a parse error (exit 1).
    for args in [
        &[
            "-t",
            "a@x.test",
            "--attach",
            "x",
            "--attach-type",
            "text/html",
        ][..],
        &["-t", "a@x.test", "--attach-name", "n"],
    ] {
        let argv = std::iter::once("ehlo").chain(args.iter().copied());
        let e = Cli::parse_args(argv).unwrap_err();
        assert!(e.to_string().contains("none follows"), "{e}");
        assert!(e.use_stderr());
    }
    // --data takes no parts.
    let argv = ["ehlo", "-t", "a@x.test", "-d", "x", "--attach", "y"];
    assert!(Cli::parse_args(argv).is_err());
}

#[test]
fn the_null_address_as_a_recipient_is_refused_not_dropped() {
    for args in [
        &["-t", "<>"][..],
        &["-t", "a@x.test,<>"],
        &["-t", "a@x.test", "--cc", " <> "],
        &["-t", "a@x.test", "--bcc", "< >"],
    ] {
        let e = err(args);
        assert!(
            e.contains("is the null address, which names no recipient"),
            "{args:?}: {e}"
        );
    }
    // An empty element is still dropped (README), and `<>` is still the null sender.
    let c = send(&["-t", "a@x.test,,b@x.test", "-f", "<>"]);
    assert_eq!(c.plan.rcpts, ["a@x.test", "b@x.test"]);
    assert_eq!(c.plan.from, "");
}

#[test]
fn addresses_with_spaces_are_refused() {
    let e = err(&["-t", "Bob Smith <b@x.test>"]);
    assert!(
        e.starts_with("--to: 'Bob Smith <b@x.test>' contains white space"),
        "{e}"
    );
    let e = err(&["-t", "a@x.test", "--cc", "c d@x.test"]);
    assert!(e.starts_with("--cc: "), "{e}");
    let e = err(&["-t", "a@x.test", "--bcc", "c@x\ttest"]);
    assert!(e.starts_with("--bcc: "), "{e}");
    let e = err(&["-t", "a@x.test", "-f", "me @x.test"]);
    assert!(e.starts_with("--from: "), "{e}");
    // A quoted local part may hold spaces (RFC 5321 §4.1.2).
    let c = send(&["-t", "\"a b\"@x.test"]);
    assert_eq!(c.plan.rcpts, ["\"a b\"@x.test"]);
    assert!(err(&["-t", "\"a b\"@x test"]).starts_with("--to: "));
}

#[test]
fn output_format() {
    let c = send(&["-t", "a@x.test", "--json"]);
    assert_eq!(c.format, Format::Json);
    let c = send(&[
        "-t",
        "a@x.test",
        "-S",
        "--stl",
        "i",
        "-n",
        "--raw",
        "--nth",
        "--color",
        "never",
        "--explain",
        "all",
    ]);
    assert_eq!(
        c.format,
        Format::Human(HumanOptions {
            color: ColorChoice::Never,
            explain: crate::render::ExplainLevel::All,
            time_lapse: Some(true),
            suppress_data: true,
            silent: 1,
            show_raw: true,
            hints: false,
            hide: Kinds::default(),
            bare: Kinds::default(),
            repl: false,
            replay: false,
            swaks_spelling: false,
            wrap: None,
        })
    );
    let c = send(&["-t", "a@x.test", "--stl"]);
    let Format::Human(h) = c.format else { panic!() };
    assert_eq!(h.time_lapse, Some(false));
    assert_eq!(h.silent, 0);
    assert!(h.hints);
}

#[test]
fn serve_and_demo() {
    let Ok(Mode::Serve(o)) = mode(&[
        "serve",
        "--starttls",
        "--user",
        "a:b",
        "--json",
        "--max-sessions",
        "3",
    ]) else {
        panic!("not serve")
    };
    assert!(o.starttls && !o.tls_on_connect);
    assert_eq!(o.users, [("a".to_string(), "b".to_string())]);
    assert_eq!(o.format, Format::Json);
    assert_eq!(o.max_sessions, Some(3));
    assert_eq!(o.max_size, 10 << 20);
    let Ok(Mode::Demo(f)) = mode(&["demo", "--color", "always"]) else {
        panic!("not demo")
    };
    assert_eq!(
        f,
        Format::Human(HumanOptions {
            color: ColorChoice::Always,
            wrap: Some(80),
            ..HumanOptions::default()
        })
    );
}

/// `--hostname` is written into the banner and the EHLO reply: a CR/LF would inject reply
/// lines, a space or an empty name would break them. Refused at start, with one line.
#[test]
fn serve_hostname_must_be_a_domain_or_address_literal() {
    for good in [
        "mx.test",
        "ehlo.serve",
        "localhost",
        "mx.test.",
        "m_x-1.test",
        "[192.0.2.1]",
        "[IPv6:2001:db8::1]",
        "bücher.test",
    ] {
        let Ok(Mode::Serve(o)) = mode(&["serve", "--hostname", good]) else {
            panic!("{good} refused")
        };
        assert_eq!(o.hostname, good);
    }
    for (bad, why) in [
        ("", "empty"),
        ("mx.test\r\n250 injected", "\\x0D"),
        ("mx.test\n", "\\x0A"),
        ("mx test", "space"),
        ("mx\ttest", "\\x09"),
        ("mx..test", "empty label"),
        (".", "empty label"),
        ("[192.0.2.1", "address literal"),
        ("[300.1.1.1]", "address literal"),
        ("[2001:db8::1]", "address literal"),
        ("mx<b>.test", "'<'"),
    ] {
        let e = err(&["serve", "--hostname", bad]);
        assert!(e.contains("--hostname") && e.contains(why), "{bad:?}: {e}");
        assert!(!e.contains('\n') && !e.contains('\r'), "{e}");
    }
}

#[test]
fn serve_users_are_checked_without_showing_the_password_and_once_per_name() {
    let Ok(Mode::Serve(o)) = mode(&["serve", "--user", "alice:pa:ss", "--user", "bob:"]) else {
        panic!("serve")
    };
    assert_eq!(
        o.users,
        [
            ("alice".to_string(), "pa:ss".to_string()),
            ("bob".to_string(), String::new())
        ]
    );
    // A malformed value (a password typed with the wrong separator) is never repeated.
    for bad in ["alice=Sup3rSecret", ":Sup3rSecret", "Sup3rSecret"] {
        let e = err(&["serve", "--user", "bob:x", "--user", bad]);
        assert!(
            e.contains("--user (the 2nd one): expected NAME:PASS"),
            "{e}"
        );
        assert!(!e.contains("Sup3rSecret"), "{e}");
    }
    // A name given twice: refused (the second password was ignored, the count said 2).
    let e = err(&[
        "serve",
        "--user",
        "alice:pw-first",
        "--user",
        "alice:pw-second",
    ]);
    assert!(e.contains("--user alice: the name is given twice"), "{e}");
    assert!(!e.contains("pw-"), "{e}");
}

#[test]
fn extension_and_transport_flags() {
    let c = send(&["-t", "a@x.test", "-s", "h"]);
    assert_eq!(c.connect.link.transport, Transport::Tcp);
    assert!(c.plan.ext.bdat.is_none() && c.plan.ext.dsn.is_empty());
    let c = send(&[
        "-t",
        "a@x.test",
        "--socket",
        "/run/lmtp.sock",
        "--bdat",
        "--dsn-notify",
        "failure,delay",
        "--dsn-ret",
        "full",
        "--prdr",
        "--smtputf8",
        "--force-ext",
    ]);
    assert_eq!(
        c.connect.link.transport,
        Transport::Socket("/run/lmtp.sock".into())
    );
    assert_eq!(c.plan.ext.bdat, Some(0));
    assert_eq!(c.plan.ext.dsn.notify.as_deref(), Some("FAILURE,DELAY"));
    assert_eq!(c.plan.ext.dsn.ret, Some(Ret::Full));
    assert!(c.plan.ext.prdr && c.plan.ext.smtputf8 && c.plan.ext.force);
    assert_eq!(
        send(&["-t", "a@x.test", "--bdat", "64K"]).plan.ext.bdat,
        Some(65536)
    );
    let c = send(&[
        "-t",
        "a@x.test",
        "--pipe",
        "sendmail -bs",
        "--xclient-name",
        "n",
        "--xclient-addr",
        "192.0.2.1",
        "--xclient",
        "LOGIN=u",
        "--xforward-helo",
        "h",
    ]);
    assert_eq!(
        c.connect.link.transport,
        Transport::Pipe("sendmail -bs".into())
    );
    let x = c.plan.ext.xclient.unwrap();
    let names: Vec<_> = x.attrs().into_iter().map(|a| a.name).collect();
    assert_eq!(
        names,
        ["NAME", "ADDR"],
        "the order given, as swaks sends it"
    );
    assert_eq!(x.commands[1], XclientCommand::Raw("LOGIN=u".into()));
    assert_eq!(x.commands.len(), 2);
    assert_eq!(c.plan.ext.xforward[0].name, "HELO");
    let c = send(&["-s", "h", "--proxy", "PROXY UNKNOWN", "-q", "proxy"]);
    assert_eq!(c.plan.proxy.as_deref(), Some(&b"PROXY UNKNOWN\r\n"[..]));
    assert!(err(&["-s", "h", "-q", "proxy"]).contains("PROXY"));
    assert!(err(&["-s", "h", "-q", "xclient"]).contains("XCLIENT"));
    assert!(err(&["-t", "a@x.test", "--pipe", " "]).contains("--pipe"));
    assert!(err(&["-t", "a@x.test", "--dsn-envid", &"x".repeat(101)]).contains("--dsn-envid"));
    assert!(err(&["-t", "a@x.test", "--xclient-addr", ""]).contains("--xclient-addr"));
}

/// swaks's PROXY defaults: version 1 once any attribute is given, its v2 family names, and a
/// raw --proxy TEXT sent as "PROXY TEXT".
#[test]
fn proxy_swaks_defaults() {
    let proxy = |extra: &[&str]| -> Result<Vec<u8>, String> {
        let mut args = vec!["-s", "h", "-q", "proxy"];
        args.extend_from_slice(extra);
        let cli = Cli::parse_args(std::iter::once("ehlo").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        match from_cli_in(cli, &env()).map_err(|e| e.to_string())? {
            Mode::Send(c) => Ok(c.plan.proxy.unwrap()),
            _ => panic!("not a send"),
        }
    };
    let addrs = [
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "5555",
        "--proxy-dest",
        "192.0.2.2",
        "--proxy-dest-port",
        "25",
    ];
    assert_eq!(
        proxy(&addrs).unwrap(),
        b"PROXY TCP4 192.0.2.1 192.0.2.2 5555 25\r\n"
    );
    assert_eq!(
        proxy(&["--proxy", "TCP4 192.0.2.1 192.0.2.2 5555 25"]).unwrap(),
        b"PROXY TCP4 192.0.2.1 192.0.2.2 5555 25\r\n"
    );
    // Already spelt with the word: not doubled.
    assert_eq!(
        proxy(&["--proxy", "PROXY UNKNOWN"]).unwrap(),
        b"PROXY UNKNOWN\r\n"
    );
    let mut v2 = vec!["--proxy-version", "2", "--proxy-family", "AF_INET"];
    v2.extend_from_slice(&addrs);
    let h = proxy(&v2).unwrap();
    assert_eq!(h[13], 0x11, "AF_INET, STREAM");
    let mut v2 = vec!["--proxy-version", "2", "--proxy-family", "AF_INET6"];
    v2.extend_from_slice(&[
        "--proxy-source",
        "2001:db8::1",
        "--proxy-source-port",
        "1",
        "--proxy-dest",
        "2001:db8::2",
        "--proxy-dest-port",
        "2",
    ]);
    assert_eq!(proxy(&v2).unwrap()[13], 0x21);
    let h = proxy(&["--proxy-version", "2", "--proxy-family", "AF_UNSPEC"]).unwrap();
    assert_eq!(&h[13..16], &[0, 0, 0]);
    let h = proxy(&[
        "--proxy-version",
        "2",
        "--proxy-family",
        "AF_UNIX",
        "--proxy-source",
        "/run/a.sock",
        "--proxy-dest",
        "/run/b.sock",
    ])
    .unwrap();
    assert_eq!(h[13], 0x31);
    // An AF_UNIX block has no ports (HAProxy proxy-protocol.txt §2.2): refused, not dropped.
    for port in ["--proxy-source-port", "--proxy-dest-port"] {
        let err = proxy(&[
            "--proxy-version",
            "2",
            "--proxy-family",
            "AF_UNIX",
            "--proxy-source",
            "/a",
            "--proxy-dest",
            "/b",
            port,
            "5",
        ])
        .unwrap_err();
        assert!(err.contains("no ports"), "{err}");
    }
    assert!(
        proxy(&[
            "--proxy-family",
            "AF_UNIX",
            "--proxy-source",
            "/a",
            "--proxy-dest",
            "/b"
        ])
        .unwrap_err()
        .contains("version 2")
    );
    // Raw with the v2 version: the signature, then the bytes given.
    let h = proxy(&["--proxy-version", "2", "--proxy", "xyz"]).unwrap();
    assert_eq!(&h[..12], &crate::net::proxy::PROXY_V2_SIGNATURE);
    assert_eq!(&h[12..], b"xyz");
    assert!(
        proxy(&["--proxy", "x", "--proxy-source", "192.0.2.1"])
            .unwrap_err()
            .contains("mixed")
    );
}

#[test]
fn proxy_command_protocol_and_unknown_family() {
    let proxy = |extra: &[&str]| -> Vec<u8> {
        let mut args = vec!["-s", "h", "-q", "proxy"];
        args.extend_from_slice(extra);
        send(&args).plan.proxy.unwrap()
    };
    let addrs = [
        "--proxy-source",
        "192.0.2.1",
        "--proxy-source-port",
        "5555",
        "--proxy-dest",
        "198.51.100.2",
        "--proxy-dest-port",
        "25",
    ];
    let mut v2_dgram_local = vec![
        "--proxy-version",
        "2",
        "--proxy-command",
        "local",
        "--proxy-protocol",
        "DGRAM",
    ];
    v2_dgram_local.extend_from_slice(&addrs);
    assert_eq!(&proxy(&v2_dgram_local)[12..14], &[0x20, 0x12]);
    assert_eq!(
        proxy(&["--proxy-version", "1", "--proxy-family", "UNKNOWN"]),
        b"PROXY UNKNOWN\r\n"
    );
    let local = proxy(&["--proxy-version", "2", "--proxy-command", "LOCAL"]);
    assert_eq!(
        &local[12..],
        &[0x20, 0x00, 0, 0],
        "LOCAL with no addresses: AF_UNSPEC"
    );
    let e = |extra: &[&str]| {
        let mut args = vec!["-s", "h", "-q", "proxy"];
        args.extend_from_slice(extra);
        match mode(&args) {
            Err(e @ Error::ProxyOption(_)) => {
                assert_eq!(e.exit_code(), 35);
                e.to_string()
            }
            other => panic!("{extra:?}: {other:?}"),
        }
    };
    assert!(e(&["--proxy-version", "1", "--proxy-command", "LOCAL"]).contains("version 2"));
    // A value none of the options has is PROXY's mistake too (35), naming what to give.
    assert_eq!(
        e(&["--proxy-version", "3"]),
        "--proxy-version: '3' is not a PROXY protocol version (give 1 or 2)"
    );
    assert_eq!(
        e(&["--proxy-family", "BOGUS"]),
        "--proxy-family: 'BOGUS' is not one of TCP4, TCP6, UNKNOWN, AF_UNIX"
    );
    assert_eq!(
        e(&["--proxy-version", "2", "--proxy-protocol", "raw"]),
        "--proxy-protocol: 'raw' is not one of STREAM, DGRAM"
    );
    assert_eq!(
        e(&["--proxy-version", "2", "--proxy-command", "x"]),
        "--proxy-command: 'x' is not one of PROXY, LOCAL"
    );
    // swaks's spellings still mean their values, in any case.
    let mut inet6 = vec!["--proxy-version", "2", "--proxy-family", "af_inet6"];
    inet6.extend_from_slice(&[
        "--proxy-source",
        "2001:db8::1",
        "--proxy-source-port",
        "1",
        "--proxy-dest",
        "2001:db8::2",
        "--proxy-dest-port",
        "25",
    ]);
    assert_eq!(proxy(&inet6)[13], 0x21, "AF_INET6 over STREAM");
    let mut unknown_with_addrs = vec!["--proxy-version", "2", "--proxy-family", "UNKNOWN"];
    unknown_with_addrs.extend_from_slice(&addrs);
    assert!(e(&unknown_with_addrs).contains("no addresses"));
}

#[test]
fn xclient_delim_splits_commands_in_command_line_order() {
    let names = |c: &XclientCommand| match c {
        XclientCommand::Attrs(a) => a
            .iter()
            .map(|a| a.name.clone())
            .collect::<Vec<_>>()
            .join(" "),
        XclientCommand::Raw(r) => format!("raw {r}"),
    };
    let commands = |extra: &[&str]| {
        let mut args = vec!["-t", "a@x.test"];
        args.extend_from_slice(extra);
        let x = send(&args).plan.ext.xclient.unwrap();
        x.commands.iter().map(names).collect::<Vec<_>>()
    };
    // swaks's own example: HELO, then NAME and ADDR, each in the order given.
    assert_eq!(
        commands(&[
            "--xclient-helo",
            "h s",
            "--xclient-delim",
            "--xclient-name",
            "n",
            "--xclient-addr",
            "192.0.2.1",
        ]),
        ["HELO", "NAME ADDR"]
    );
    // Inside one command the attributes keep the command-line order, not Postfix's.
    assert_eq!(
        commands(&[
            "--xclient-reverse-name",
            "r",
            "--xclient-login",
            "l",
            "--xclient-port",
            "25",
            "--xclient-addr",
            "192.0.2.1",
        ]),
        ["REVERSE_NAME LOGIN PORT ADDR"]
    );
    // Delimiters at the ends or doubled split nothing; a raw string is a group of its own.
    assert_eq!(
        commands(&[
            "--xclient-delim",
            "--xclient-addr",
            "192.0.2.1",
            "--xclient-delim",
            "--xclient-delim",
            "--xclient",
            "FOO=bar",
            "--xclient-port",
            "25",
            "--xclient-delim",
        ]),
        ["ADDR", "raw FOO=bar", "PORT"]
    );
    // A repeated attribute counts where it was last given (the delimiter then splits nothing).
    assert_eq!(
        commands(&[
            "--xclient-addr",
            "192.0.2.1",
            "--xclient-delim",
            "--xclient-name",
            "n",
            "--xclient-addr",
            "192.0.2.2",
        ]),
        ["NAME ADDR"]
    );
    let x = send(&[
        "-t",
        "a@x.test",
        "--xclient-addr",
        "192.0.2.1",
        "--xclient-optional-strict",
    ])
    .plan
    .ext
    .xclient
    .unwrap();
    assert_eq!(x.requirement, XclientRequirement::OptionalStrict);
    let requirement = |flag: Option<&str>| {
        let mut args = vec!["-t", "a@x.test", "--xclient-addr", "192.0.2.1"];
        args.extend(flag);
        send(&args).plan.ext.xclient.unwrap().requirement
    };
    assert_eq!(requirement(None), XclientRequirement::Required);
    assert_eq!(
        requirement(Some("--xclient-optional")),
        XclientRequirement::Optional
    );
    assert!(err(&["-t", "a@x.test", "--xclient-delim"]).contains("--xclient-delim"));
    assert!(err(&["-t", "a@x.test", "--xclient-optional-strict"]).contains("--xclient-optional"));
}

/// The plan carries the A-label form of each address whose local part is ASCII and whose
/// domain is not (RFC 5891 §4), for a server without SMTPUTF8; a non-ASCII local part has
/// none, nor has an ASCII address; a quoted `@` in the local part is not taken for the domain's.
#[test]
fn idn_domains_get_their_a_label_forms() {
    let c = send(&[
        "-t",
        "jo@bücher.test,jöe@bücher.test,b@x.test,\"a@b\"@straße.test",
        "-f",
        "me@bücher.test",
    ]);
    assert_eq!(
        c.plan.a_labels,
        [
            (
                "me@bücher.test".to_string(),
                "me@xn--bcher-kva.test".to_string()
            ),
            ("jo@bücher.test".into(), "jo@xn--bcher-kva.test".into()),
            (
                "\"a@b\"@straße.test".into(),
                "\"a@b\"@xn--strae-oqa.test".into()
            ),
        ]
    );
}

/// An empty `--data` file or stdin is refused (exit 1) as swaks refuses it: it used to go out
/// as a DATA with no message in it (`cmd | ehlo --data -` with `cmd` failing delivered that).
#[test]
fn data_from_an_empty_file_or_stdin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.eml");
    std::fs::write(&empty, b"").unwrap();
    let at = format!("@{}", empty.display());
    let e = err(&["-t", "a@x.test", "--data", &at]);
    assert!(
        e.contains(&format!("--data {at}: the file is empty")),
        "{e}"
    );
    let mut quiet = env();
    quiet.read_stdin = |_| Ok(Vec::new());
    for arg in ["-", "@-"] {
        let argv = ["ehlo", "-t", "a@x.test", "--data", arg];
        let cli = Cli::parse_args(argv).unwrap();
        match from_cli_in(cli, &quiet) {
            Err(e @ Error::Usage(_)) => {
                assert!(e.to_string().contains("stdin is empty"), "{e}");
            }
            other => panic!("--data {arg}: expected a usage error, got {other:?}"),
        }
    }
    // One empty line is a message, sent on purpose.
    let c = send(&["-t", "a@x.test", "--data", "\\n"]);
    assert!(!c.plan.message.is_empty());
}

/// The command lines after `ehlo ` in `text`: a line's command starts at `ehlo ` (after a
/// `$ ` prompt, `VAR=value` words or a `… |` pipe) and is read as the shell reads it (quotes,
/// `\` line continuations) up to its end: a newline, a `|`, `;`, `<`, `>` or `#`, or a run
/// of spaces (the column a description or comment starts at). The words after `ehlo`.
fn commands_in(text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let mut rest = line.trim_start();
        rest = rest.strip_prefix("$ ").unwrap_or(rest);
        if let Some(piped) = rest.find("| ehlo ") {
            rest = &rest[piped + 2..];
        }
        while let Some((word, after)) = rest.split_once(' ')
            && word.contains('=')
            && word.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        {
            rest = after;
        }
        if !rest.starts_with("ehlo ") {
            continue;
        }
        // `rest` is the end of `line`: the command goes on from there, over more lines.
        found.push(shell_words(&text[start + line.len() - rest.len()..]));
    }
    found
        .into_iter()
        .map(|mut w| {
            w.remove(0);
            w
        })
        .collect()
}

/// The words of one shell command at the start of `text` (see [`commands_in`]).
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars().peekable();
    let mut spaces = 0;
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\' | '$')) => {
                            w.push(chars.next().unwrap());
                        }
                        c => w.push(c),
                    }
                }
            }
            '\\' if chars.peek() == Some(&'\n') => {
                chars.next();
                words.extend(word.take());
                while chars.next_if(|c| *c == ' ').is_some() {}
                spaces = 0;
                continue;
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            ' ' => {
                words.extend(word.take());
                spaces += 1;
                if spaces == 2 {
                    break;
                }
                continue;
            }
            '\n' | '|' | ';' | '<' | '>' => break,
            '#' if word.is_none() => break,
            c => word.get_or_insert_with(String::new).push(c),
        }
        spaces = 0;
    }
    words.extend(word);
    words
}

/// Every example command a newcomer copies (the README's shell blocks and `$ ehlo` lines,
/// each mode's `--help` "Examples", the short usage of `ehlo` alone, what the demo suggests
/// next) is one the flag table and
/// its checks take: no flag renamed or removed under it, no value or pairing it refuses.
#[test]
fn every_documented_example_command_parses() {
    use clap::CommandFactory;
    let readme = include_str!("../../../README.md");
    let mut sources: Vec<(String, String)> = Vec::new();
    let mut fence: Option<(usize, String)> = None;
    for (n, line) in readme.lines().enumerate() {
        if let Some(lang) = line.strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some((n + 1, lang.to_string())),
            };
            continue;
        }
        if let Some((from, lang)) = &fence
            && (lang == "sh" || line.starts_with("$ "))
        {
            sources.push((
                format!("README.md block at line {from}"),
                format!("{line}\n"),
            ));
        }
    }
    // A shell block's continued lines belong to the line before them.
    let mut merged: Vec<(String, String)> = Vec::new();
    for (at, line) in sources {
        match merged.last_mut() {
            Some((_, text)) if text.ends_with("\\\n") => text.push_str(&line),
            _ => merged.push((at, line)),
        }
    }
    let mut cmd = Cli::command();
    let mut helps = vec![(
        "ehlo --help".to_string(),
        cmd.render_long_help().to_string(),
    )];
    for sub in cmd.get_subcommands_mut() {
        let name = sub.get_name().to_string();
        helps.push((
            format!("ehlo {name} --help"),
            sub.render_long_help().to_string(),
        ));
    }
    for (at, help) in helps {
        let examples = help
            .find("\nExamples")
            .map(|i| &help[i..])
            .unwrap_or_else(|| {
                assert!(!help.contains("  ehlo "), "{at}: commands outside Examples");
                ""
            });
        merged.push((at, examples.to_string()));
    }
    merged.push(("ehlo alone".into(), crate::cli::BARE_USAGE.to_string()));
    merged.push((
        "ehlo demo's next steps".into(),
        crate::demo::NEXT.to_string(),
    ));
    // The files an example names (`@domains.txt`, `--body @body.txt`) are the reader's: here
    // they exist, in a directory of the test's own. A password is typed at the terminal the
    // examples are run from, as the help says ehlo asks there.
    let dir = tempfile::tempdir().unwrap();
    let terminal = Environment {
        prompt: Some(|_, _| Ok("secret\n".into())),
        ..env()
    };
    let mut wrong = Vec::new();
    let mut count = 0;
    for (at, text) in &merged {
        for words in commands_in(text) {
            // `ehlo <COMMAND> [ARGS]`: a synopsis, not a command to run.
            if words.first().is_none_or(|w| w.starts_with(['<', '['])) {
                continue;
            }
            count += 1;
            let argv: Vec<std::ffi::OsString> = std::iter::once("ehlo".to_string())
                .chain(words.iter().map(|w| match w.strip_prefix('@') {
                    Some(file) if file.ends_with(".txt") => {
                        let path = dir.path().join(file);
                        std::fs::write(&path, "example.org\n").unwrap();
                        format!("@{}", path.display())
                    }
                    _ => w.clone(),
                }))
                .map(Into::into)
                .collect();
            let parsed = crate::cli::rewrite_single_dash(argv)
                .map_err(|e| e.to_string())
                .and_then(|argv| Cli::parse_args(argv).map_err(|e| e.to_string()))
                .and_then(|cli| from_cli_in(cli, &terminal).map_err(|e| e.to_string()));
            if let Err(e) = parsed {
                wrong.push(format!("{at}: ehlo {}: {}", words.join(" "), e.trim()));
            }
        }
    }
    assert!(count >= 30, "only {count} example commands found");
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// A non-ASCII `--header`/`--add-header` value goes out RFC 2047 encoded where swaks sends the
/// UTF-8 bytes as typed: the same swaks command line put other bytes on the wire without a
/// word. The run now says so, once, naming the headers; not for a header that goes as typed
/// (ASCII, an address header whose only non-ASCII is the address) nor with --smtputf8.
#[test]
fn a_header_sent_rfc2047_encoded_unlike_swaks_is_said() {
    let base = ["-t", "a@x.test", "-s", "mx.test"];
    let said = |extra: &[&str]| -> Vec<String> {
        let cfg = send(&[&base[..], extra].concat());
        assert!(!cfg.notes.iter().any(|n| n.contains("RFC 2047")), "{cfg:?}");
        (cfg.unlike_swaks.into_iter())
            .filter(|(n, warning)| !warning && n.contains("RFC 2047"))
            .map(|(n, _)| n)
            .collect()
    };
    let n = said(&[
        "--header",
        "Subject: Grüße",
        "--add-header",
        "X-A: ä",
        "--header",
        "X-B: b",
    ]);
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(
        n[0].starts_with("Subject, X-A: ") && n[0].contains("swaks sends the UTF-8 bytes"),
        "{n:?}"
    );
    // A --data message's headers replaced by --header are encoded the same way.
    let n = said(&["--data", "Subject: x\n\nbody", "--header", "Subject: café"]);
    assert!(n.len() == 1 && n[0].starts_with("Subject: "), "{n:?}");
    for extra in [
        &["--header", "Subject: plain"][..],
        &["--header", "To: jürgen@exämple.test"],
        &["--header", "Subject: Grüße", "--smtputf8"],
    ] {
        assert!(said(extra).is_empty(), "{extra:?}: {:?}", said(extra));
    }
}
