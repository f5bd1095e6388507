//! ESMTP extensions and transports end to end: not-advertised errors with their own exit codes
//! (SMTPUTF8 31, PRDR 30, CHUNKING 25, XCLIENT 33/34, PROXY 35; 8-bit content without 8BITMIME
//! is sent with a warning), the PROXY header on the wire, `--socket` (LMTP with per-recipient
//! replies) and `--pipe`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::time::Duration;

use crate::util::*;

/// Banner and an EHLO reply with exactly these keyword lines.
fn greet_with(keywords: &'static [u8]) -> Vec<Step> {
    vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(keywords),
    ]
}

/// The server expects QUIT next (nothing of the transaction was sent).
fn quit_only(mut steps: Vec<Step>) -> Vec<Step> {
    steps.push(Step::Expect("QUIT"));
    steps.push(Step::Send(b"221 bye\r\n"));
    steps
}

#[test]
fn thirty_one_when_smtputf8_is_needed_but_not_advertised() {
    let srv = scripted(quit_only(greet_with(
        b"250-scripted.test\r\n250 8BITMIME\r\n",
    )));
    let run = ehlo(&[
        "--server",
        &srv.server(),
        "--to",
        "jöe@scripted.test",
        "--from",
        "a@client.test",
        "--timeout",
        "5",
    ]);
    let got = srv.finish();
    assert_eq!(run.code, 31, "{}", run.all());
    assert!(!got.contains("MAIL"), "{got}");
    assert!(run.stderr.contains("SMTPUTF8"), "{}", run.stderr);
    assert!(run.stderr.contains("--force-ext"), "{}", run.stderr);
}

#[test]
fn smtputf8_and_8bitmime_are_used_when_advertised() {
    let mut steps = greet_with(b"250-scripted.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n");
    steps.extend(accept_all());
    let srv = scripted(steps);
    let run = send(&srv, &["--from", "jöe@client.test", "--body", "café"]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        got.contains("MAIL FROM:<jöe@client.test> SMTPUTF8 BODY=8BITMIME\r\n"),
        "{got}"
    );
}

/// swaks sends an 8-bit `--body` as it is to a server that does not offer 8BITMIME; so does
/// ehlo, undeclared (no `BODY=`), with one warning naming RFC 6152 and `--force-ext`, exit 0.
#[test]
fn eight_bit_content_without_8bitmime_goes_undeclared_with_a_warning_unless_forced() {
    let mut steps = greet_with(b"250 scripted.test\r\n");
    steps.extend(accept_all());
    let srv = scripted(steps);
    let run = send(&srv, &["--body", "café"]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        got.lines().any(|l| l == "MAIL FROM:<sender@client.test>"),
        "{got}"
    );
    assert!(got.contains("\r\n\r\ncafé\r\n.\r\n"), "{got}");
    let warning: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("8BITMIME"))
        .collect();
    assert_eq!(warning.len(), 1, "{}", run.all());
    assert!(warning[0].contains("RFC 6152 §3"), "{}", warning[0]);
    assert!(warning[0].contains("--force-ext"), "{}", warning[0]);

    let mut steps = greet_with(b"250 scripted.test\r\n");
    steps.extend(accept_all());
    let srv = scripted(steps);
    let run = send(&srv, &["--body", "café", "--force-ext"]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(got.contains(" BODY=8BITMIME\r\n"), "{got}");
}

/// swaks sends a `--data` message with a UTF-8 header as it is to a server that does not offer
/// SMTPUTF8; so does ehlo (it exited 31 before MAIL), undeclared, with one warning naming
/// RFC 6531 §3.2 and `--force-ext`, exit 0. `--smtputf8` still requires it.
#[test]
fn a_utf8_header_without_smtputf8_goes_undeclared_with_a_warning() {
    let data = "Subject: café\r\n\r\nbody\r\n";
    let mut steps = greet_with(b"250-scripted.test\r\n250 8BITMIME\r\n");
    steps.extend(accept_all());
    let srv = scripted(steps);
    let run = send(&srv, &["--data", data]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        got.lines().any(
            |l| l.starts_with("MAIL FROM:<sender@client.test> BODY=8BITMIME SIZE=")
                || l == "MAIL FROM:<sender@client.test> BODY=8BITMIME"
        ),
        "{got}"
    );
    assert!(!got.contains("SMTPUTF8"), "{got}");
    assert!(got.contains("Subject: café\r\n\r\nbody\r\n.\r\n"), "{got}");
    let warning: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("SMTPUTF8"))
        .collect();
    assert_eq!(warning.len(), 1, "{}", run.all());
    assert!(warning[0].contains("RFC 6531 §3.2"), "{}", warning[0]);
    assert!(warning[0].contains("--force-ext"), "{}", warning[0]);

    let srv = scripted(quit_only(greet_with(
        b"250-scripted.test\r\n250 8BITMIME\r\n",
    )));
    let run = send(&srv, &["--data", data, "--smtputf8"]);
    let got = srv.finish();
    assert_eq!(run.code, 31, "{}", run.all());
    assert!(!got.contains("MAIL"), "{got}");
}

#[test]
fn thirty_for_prdr_not_advertised() {
    let srv = scripted(quit_only(greet()));
    let run = send(&srv, &["--prdr"]);
    srv.finish();
    assert_eq!(run.code, 30, "{}", run.all());
    assert!(run.stderr.contains("PRDR"), "{}", run.stderr);
}

#[test]
fn twenty_five_for_bdat_not_advertised() {
    let srv = scripted(quit_only(greet()));
    let run = send(&srv, &["--bdat"]);
    srv.finish();
    assert_eq!(run.code, 25, "{}", run.all());
    assert!(run.stderr.contains("CHUNKING"), "{}", run.stderr);
}

/// `--no-data-fixup` data ends in the `CRLF . CRLF` DATA needs (ehlo refuses it without); under
/// BDAT that is no end marker, so it is not sent: the message is the one `--dump-mail` shows
/// (BDAT used to send the dot as the message's last line).
#[test]
fn bdat_with_no_data_fixup_leaves_out_the_end_marker() {
    let data = "Subject: x\r\n\r\nbody\r\n.\r\n";
    let mut steps = greet_with(b"250-scripted.test\r\n250 CHUNKING\r\n");
    steps.extend([
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("BDAT 20 LAST"),
        Step::Line,
        Step::Line,
        Step::Line,
        Step::Send(b"250 2.0.0 queued\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let srv = scripted(steps);
    let run = send(&srv, &["--no-data-fixup", "--data", data, "--bdat"]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        got.contains("BDAT 20 LAST\r\nSubject: x\r\n\r\nbody\r\nQUIT"),
        "{got:?}"
    );
    let dump = ehlo(&[
        "--to",
        "a@example.test",
        "--no-data-fixup",
        "--data",
        data,
        "--bdat",
        "--dump-mail",
    ]);
    assert_eq!(dump.code, 0, "{}", dump.all());
    assert_eq!(dump.stdout, "Subject: x\r\n\r\nbody\r\n");
}

#[test]
fn bdat_and_dsn_on_the_wire() {
    let mut steps = greet_with(b"250-scripted.test\r\n250-DSN\r\n250 CHUNKING\r\n");
    steps.extend([
        Step::Expect("MAIL FROM:<sender@client.test> RET=HDRS ENVID=x+2By"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT TO:<rcpt@scripted.test> NOTIFY=NEVER ORCPT=rfc822;rcpt@scripted.test"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("BDAT 10 LAST"),
        Step::Line,
        Step::Line,
        Step::Line,
        Step::Send(b"250 2.0.0 queued\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let srv = scripted(steps);
    let run = send(
        &srv,
        &[
            "--data",
            ".a\\n.\\nb\\n",
            "--bdat",
            "--dsn-notify",
            "never",
            "--dsn-ret",
            "hdrs",
            "--dsn-envid",
            "x+y",
            "--dsn-orcpt",
        ],
    );
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        got.contains("BDAT 10 LAST\r\n.a\r\n.\r\nb\r\nQUIT"),
        "no dot-stuffing, no end marker: {got:?}"
    );
}

/// A refused middle chunk (RFC 3030 §2) fails the message with exit 26. Pipelined (RFC 3030
/// §4.2), the envelope and every chunk go in one write, the replies come back in order, each
/// explained as its own chunk's, and a 250 to BDAT LAST after the refusal does not make the
/// message accepted; one at a time, no chunk follows the refused one.
#[test]
fn bdat_a_refused_second_chunk_is_26_pipelined_or_not() {
    let data = "aaaaaaaa\r\nbbbbbbbb\r\ncccccccc\r\n";
    let args = ["--no-data-fixup", "--data", data, "--bdat", "10"];
    let ehlo_reply: &[u8] = b"250-scripted.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n";
    // Pipelined: everything is read before any reply is written.
    let mut steps = greet_with(ehlo_reply);
    steps.extend([
        Step::Expect("MAIL FROM:"),
        Step::Expect("RCPT TO:"),
        Step::Expect("BDAT 10"),
        Step::Expect("aaaaaaaa"),
        Step::Expect("BDAT 10"),
        Step::Expect("bbbbbbbb"),
        Step::Expect("BDAT 10 LAST"),
        Step::Expect("cccccccc"),
        Step::Send(
            b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.0.0 10 octets\r\n\
              452 4.3.1 Insufficient system storage\r\n250 2.0.0 queued as X\r\n",
        ),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let srv = scripted(steps);
    let mut pipelined = args.to_vec();
    pipelined.push("--pipeline");
    let run = send(&srv, &pipelined);
    let got = srv.finish();
    assert_eq!(run.code, 26, "{}", run.all());
    assert!(
        got.contains(
            "BDAT 10\r\naaaaaaaa\r\nBDAT 10\r\nbbbbbbbb\r\nBDAT 10 LAST\r\ncccccccc\r\nQUIT"
        ),
        "{got:?}"
    );
    let out = run.all();
    assert!(out.contains("BDAT chunk 2 of 3 refused"), "{out}");
    assert!(
        out.contains("BDAT chunk 2 of 3 was refused: no more chunks are sent"),
        "{out}"
    );
    // The refusal is the run's verdict, and the reply after it is shown, not taken.
    assert!(
        out.contains("452 4.3.1 Insufficient system storage"),
        "{out}"
    );
    assert!(out.contains("250 2.0.0 queued as X"), "{out}");
    assert!(!out.contains("Result: ok"), "{out}");

    // One at a time: chunk 3 never goes.
    let mut steps = greet_with(ehlo_reply);
    steps.extend([
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("BDAT 10"),
        Step::Expect("aaaaaaaa"),
        Step::Send(b"250 2.0.0 10 octets\r\n"),
        Step::Expect("BDAT 10"),
        Step::Expect("bbbbbbbb"),
        Step::Send(b"452 4.3.1 Insufficient system storage\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let srv = scripted(steps);
    let run = send(&srv, &args);
    let got = srv.finish();
    assert_eq!(run.code, 26, "{}", run.all());
    assert!(!got.contains("cccccccc"), "{got:?}");
    assert!(
        run.all().contains("BDAT chunk 2 of 3 refused"),
        "{}",
        run.all()
    );
}

#[test]
fn bad_extension_flags_are_usage_errors() {
    for (args, needle) in [
        (&["--dsn-notify", "NEVER,SUCCESS"][..], "--dsn-notify"),
        (&["--bdat", "0"], "--bdat"),
        (&["--requiretls"], "--requiretls"),
        // --force-ext waives "not advertised", never the TLS RFC 8689 requires: REQUIRETLS
        // in clear text would ask for protection over a link that has none.
        (
            &["--force-ext", "--requiretls"],
            "REQUIRETLS needs TLS (RFC 8689 §2)",
        ),
        (&["--prdr", "--protocol", "lmtp"], "--prdr"),
        (&["--xclient-optional"], "--xclient"),
        (&["--socket", "/tmp/x", "--pipe", "cat"], "--pipe"),
    ] {
        let mut v = vec!["--server", "127.0.0.1:9", "--to", "a@b.test"];
        v.extend_from_slice(args);
        let run = ehlo(&v);
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }
}

/// RFC 3461 §4.4 and §4.2: an ENVID is printable US-ASCII and at most 100 characters as sent
/// (xtext), an ORCPT at most 500. `--dsn-envid`/`--dsn-orcpt` values past that are refused in
/// one line before any connection (swaks has no DSN flags: these are ehlo's own), while
/// `--mail-param` still sends a value as given.
#[test]
fn dsn_values_the_rfc_forbids_are_refused_before_connecting() {
    let pluses = "+".repeat(200);
    let long_rcpt = format!("a{pluses}@b.test");
    let tab_envid = "a\u{7}b".to_string();
    // 34 '=' are 34 characters typed but 102 as sent (+3D each).
    let eq_envid = "=".repeat(34);
    for (args, needle) in [
        (
            vec!["--to", "a@b.test", "--dsn-envid", "idé"],
            "--dsn-envid: 'é' is not printable US-ASCII",
        ),
        (
            vec!["--to", "a@b.test", "--dsn-envid", &tab_envid],
            "--dsn-envid: '\\u{7}' is not printable US-ASCII",
        ),
        (
            vec!["--to", "a@b.test", "--dsn-envid", &eq_envid],
            "--dsn-envid: 102 characters once xtext-encoded, more than 100",
        ),
        (
            vec!["--to", &long_rcpt, "--dsn-orcpt"],
            "--dsn-orcpt: ORCPT for a recipient is 615 characters once encoded, more than 500",
        ),
    ] {
        let mut v = vec!["--server", "127.0.0.1:9"];
        v.extend_from_slice(&args);
        let run = ehlo(&v);
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        assert_eq!(run.stdout, "", "{args:?}: nothing before connecting");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }

    // At the bound (33 '=' are 99 characters) it is sent encoded; --mail-param sends as given.
    let mut steps = greet_with(b"250-scripted.test\r\n250 DSN\r\n");
    steps.extend([
        Step::Expect(
            "MAIL FROM:<sender@client.test> ENVID=+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D\
             +3D+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D+3D",
        ),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT TO:<rcpt@scripted.test>"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let srv = scripted(steps);
    let envid = "=".repeat(33);
    let run = send(&srv, &["--dsn-envid", &envid, "--quit-after", "rcpt"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let mut steps = greet_with(b"250-scripted.test\r\n250 DSN\r\n");
    steps.extend([
        Step::Expect("MAIL FROM:<sender@client.test> ENVID=id\u{e9}"),
        Step::Send(b"501 5.5.4 Bad ENVID parameter syntax\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let srv = scripted(steps);
    let run = send(&srv, &["--mail-param", "ENVID=idé"]);
    srv.finish();
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(run.all().contains("501 5.5.4"), "{}", run.all());
}

#[test]
fn thirty_three_and_thirty_four_for_xclient() {
    // Not advertised.
    let srv = scripted(quit_only(greet()));
    let run = send(&srv, &["--xclient-addr", "192.0.2.1"]);
    srv.finish();
    assert_eq!(run.code, 33, "{}", run.all());

    // Refused.
    let mut steps = greet_with(b"250-scripted.test\r\n250 XCLIENT ADDR NAME\r\n");
    steps.extend([
        Step::Expect("XCLIENT ADDR=192.0.2.1 NAME=a+20b"),
        Step::Send(b"550 5.7.0 not authorized\r\n"),
    ]);
    let srv = scripted(quit_only(steps));
    let run = send(
        &srv,
        &["--xclient-addr", "192.0.2.1", "--xclient-name", "a b"],
    );
    srv.finish();
    assert_eq!(run.code, 33, "{}", run.all());

    // EHLO after XCLIENT refused.
    let mut steps = greet_with(b"250-scripted.test\r\n250 XCLIENT ADDR\r\n");
    steps.extend([
        Step::Expect("XCLIENT ADDR=192.0.2.1"),
        Step::Send(b"220 scripted.test again\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"554 5.7.1 no\r\n"),
    ]);
    let srv = scripted(quit_only(steps));
    let run = send(&srv, &["--xclient-addr", "192.0.2.1"]);
    srv.finish();
    assert_eq!(run.code, 34, "{}", run.all());
}

#[test]
fn xclient_delim_sends_one_command_per_group() {
    let mut steps = greet_with(b"250-scripted.test\r\n250 XCLIENT ADDR NAME HELO\r\n");
    steps.extend([
        Step::Expect("XCLIENT HELO=helo+20string\r\n"),
        Step::Send(b"220 scripted.test again\r\n"),
        // In the order given, as swaks sends it (its manual's own example).
        Step::Expect("XCLIENT NAME=foo.example.com ADDR=192.0.2.1\r\n"),
        Step::Send(b"220 scripted.test again\r\n"),
        Step::Expect("XCLIENT FOO=bar\r\n"),
        Step::Send(b"220 scripted.test again\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250 scripted.test\r\n"),
    ]);
    let srv = scripted(quit_only(steps));
    let run = send(
        &srv,
        &[
            "--xclient-helo",
            "helo string",
            "--xclient-delim",
            "--xclient-name",
            "foo.example.com",
            "--xclient-addr",
            "192.0.2.1",
            "--xclient",
            "FOO=bar",
            "--xclient-delim",
            "-q",
            "xclient-helo",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        run.stdout.matches(" -> XCLIENT ").count(),
        3,
        "{}",
        run.stdout
    );
}

/// Postfix takes an XCLIENT address as an RFC 5321 address literal: an IPv6 one tagged
/// `IPV6:` (a bare `::1` is `501 5.5.4 Bad ADDR syntax`). `--xclient-addr ::1` went as typed;
/// now a bare IPv6 address typed to --xclient-addr gets the tag, while a tagged one, an IPv4
/// one and a raw --xclient go as typed.
#[test]
fn an_ipv6_xclient_address_is_sent_with_its_ipv6_tag() {
    // Each run: the XCLIENT lines expected, in order, then EHLO again and QUIT.
    let run_expecting = |lines: &[&'static str], args: &[&str]| {
        let mut steps = greet_with(b"250-scripted.test\r\n250 XCLIENT ADDR DESTADDR NAME\r\n");
        for &line in lines {
            steps.push(Step::Expect(line));
            steps.push(Step::Send(b"220 scripted.test again\r\n"));
        }
        steps.extend([Step::Expect("EHLO"), Step::Send(b"250 scripted.test\r\n")]);
        let srv = scripted(quit_only(steps));
        let mut all = args.to_vec();
        all.extend(["-q", "xclient-helo"]);
        let run = send(&srv, &all);
        let got = srv.finish();
        assert_eq!(run.code, 0, "{}\n{got}", run.all());
    };
    run_expecting(
        &[
            "XCLIENT ADDR=IPV6:2001:db8::1 DESTADDR=IPV6:::1\r\n",
            "XCLIENT ADDR=::1\r\n",
        ],
        &[
            "--xclient-addr",
            "2001:db8::1",
            "--xclient-destaddr",
            "::1",
            "--xclient",
            "ADDR=::1",
        ],
    );
    run_expecting(
        &["XCLIENT ADDR=IPv6:2001:db8::2\r\n"],
        &["--xclient-addr", "IPv6:2001:db8::2"],
    );
    run_expecting(
        &["XCLIENT ADDR=192.0.2.1\r\n"],
        &["--xclient-addr", "192.0.2.1"],
    );
    // Bracketed as a host's IPv6 address is written: it went out as ADDR=[::1], which Postfix
    // refuses (501 5.5.4 Bad ADDR syntax) as it refuses a bare one.
    run_expecting(
        &["XCLIENT ADDR=IPV6:2001:db8::3\r\n"],
        &["--xclient-addr", "[2001:db8::3]"],
    );
}

/// DESTADDR is read by Postfix as ADDR is: `XCLIENT DESTADDR=::1` is `501 5.5.4 Bad DESTADDR
/// syntax` and `DESTADDR=IPV6:::1` is taken (Postfix 3.7 with inet_protocols=all). The flag
/// sent a bare or bracketed IPv6 address as typed; now it gets the tag, like --xclient-addr.
#[test]
fn an_ipv6_xclient_destination_address_is_sent_with_its_ipv6_tag() {
    for (typed, line) in [
        ("::1", "XCLIENT DESTADDR=IPV6:::1\r\n"),
        ("[2001:db8::4]", "XCLIENT DESTADDR=IPV6:2001:db8::4\r\n"),
        ("ipv6:::1", "XCLIENT DESTADDR=ipv6:::1\r\n"),
        ("192.0.2.9", "XCLIENT DESTADDR=192.0.2.9\r\n"),
    ] {
        let mut steps = greet_with(b"250-scripted.test\r\n250 XCLIENT ADDR DESTADDR\r\n");
        steps.extend([
            Step::Expect(line),
            Step::Send(b"220 scripted.test again\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250 scripted.test\r\n"),
        ]);
        let srv = scripted(quit_only(steps));
        let run = send(&srv, &["--xclient-destaddr", typed, "-q", "xclient-helo"]);
        let got = srv.finish();
        assert_eq!(run.code, 0, "{typed}: {}\n{got}", run.all());
    }
}

#[test]
fn xclient_optional_strict_skips_when_not_offered_and_fails_when_refused() {
    // Not advertised: carry on with a warning, exit 0.
    let srv = scripted(after_greet(accept_all()));
    let run = send(
        &srv,
        &["--xclient-addr", "192.0.2.1", "--xclient-optional-strict"],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all()
            .contains("carrying on without it (--xclient-optional-strict)"),
        "{}",
        run.all()
    );

    // Advertised and refused: exit 33 (--xclient-optional would carry on).
    let refused = || {
        let mut steps = greet_with(b"250-scripted.test\r\n250 XCLIENT ADDR\r\n");
        steps.extend([
            Step::Expect("XCLIENT ADDR=192.0.2.1\r\n"),
            Step::Send(b"550 5.7.0 not authorized\r\n"),
        ]);
        steps
    };
    let srv = scripted(quit_only(refused()));
    let run = send(
        &srv,
        &["--xclient-addr", "192.0.2.1", "--xclient-optional-strict"],
    );
    srv.finish();
    assert_eq!(run.code, 33, "{}", run.all());

    let mut steps = refused();
    steps.extend(accept_all());
    let srv = scripted(steps);
    let run = send(&srv, &["--xclient-addr", "192.0.2.1", "--xclient-optional"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
}

#[test]
fn proxy_v1_header_goes_first_and_bad_values_are_35() {
    let srv = scripted(vec![
        Step::Expect("PROXY TCP4 192.0.2.1 192.0.2.2 4000 25\r\n"),
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250 scripted.test\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]);
    let run = send(
        &srv,
        &[
            "--proxy-version",
            "1",
            "--proxy-source",
            "192.0.2.1",
            "--proxy-source-port",
            "4000",
            "--proxy-dest",
            "192.0.2.2",
            "--proxy-dest-port",
            "25",
            "-q",
            "ehlo",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("PROXY TCP4 192.0.2.1"),
        "{}",
        run.stdout
    );

    for bad in [
        &["--proxy-version", "2", "--proxy-source", "nope"][..],
        &[
            "--proxy-version",
            "1",
            "--proxy-source",
            "192.0.2.1",
            "--proxy-source-port",
            "1",
            "--proxy-dest",
            "2001:db8::1",
            "--proxy-dest-port",
            "25",
        ],
        &["--proxy-source", "192.0.2.1"],
        &["--proxy", "base64:!!!"],
        // Values clap used to refuse itself (exit 1): the builder refuses them as PROXY's.
        &["--proxy-version", "3", "--proxy-source", "192.0.2.1"],
        &["--proxy-version", "two"],
        &["--proxy-family", "BOGUS", "--proxy-source", "192.0.2.1"],
        &["--proxy-version", "2", "--proxy-protocol", "BOGUS"],
        &["--proxy-version", "2", "--proxy-command", "BOGUS"],
        &[
            "--proxy",
            "TCP4 192.0.2.1 192.0.2.2 1 2",
            "--proxy-version",
            "3",
        ],
    ] {
        let mut v = vec!["--server", "127.0.0.1:9", "--to", "a@b.test"];
        v.extend_from_slice(bad);
        let run = ehlo(&v);
        assert_eq!(run.code, 35, "{bad:?}: {}", run.all());
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    }
}

#[test]
fn proxy_from_a_file_goes_out_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    // A PROXY v2 header (HAProxy proxy-protocol §2.2): TCP over IPv4, 127.1.2.3:80 ->
    // 127.4.5.6:25; every byte ASCII so the scripted server's transcript keeps it.
    let mut v2 = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    v2.extend_from_slice(&[
        0x21, 0x11, 0x00, 0x0C, 127, 1, 2, 3, 127, 4, 5, 6, 0, 80, 0, 25,
    ]);
    let v2_path = dir.path().join("v2.bin");
    std::fs::write(&v2_path, &v2).unwrap();
    // A v1 header without the CRLF that --proxy TEXT would add: sent as it is.
    let v1 = b"PROXY TCP4 192.0.2.9 192.0.2.10 4000 25\r\n".to_vec();
    let v1_path = dir.path().join("v1.txt");
    std::fs::write(&v1_path, &v1).unwrap();

    // Lines the server reads before the EHLO reply: v2's preamble holds four line ends and its
    // address block runs into the EHLO line; v1 is one line, then the EHLO.
    for (path, header, lines) in [(&v2_path, &v2, 5), (&v1_path, &v1, 2)] {
        let mut steps = vec![Step::Send(b"220 scripted.test ESMTP\r\n")];
        steps.extend(std::iter::repeat_n(Step::Line, lines));
        steps.extend([
            Step::Send(b"250 scripted.test\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let srv = scripted(steps);
        let arg = format!("@{}", path.display());
        let run = send(&srv, &["--proxy", &arg, "-q", "ehlo"]);
        let wire = srv.finish();
        assert_eq!(run.code, 0, "{}", run.all());
        let mut want = header.clone();
        want.extend_from_slice(b"EHLO client.test\r\n");
        assert!(
            wire.as_bytes().starts_with(&want),
            "{:?}\n{}",
            wire,
            run.all()
        );
    }
    // Empty or missing files are PROXY option errors (35).
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    for (arg, why) in [
        (format!("@{}", empty.display()), "is empty"),
        (
            "@/nonexistent/proxy.bin".to_string(),
            "cannot read /nonexistent/proxy.bin",
        ),
    ] {
        let run = ehlo(&[
            "--server",
            "127.0.0.1:9",
            "--to",
            "a@b.test",
            "--proxy",
            &arg,
        ]);
        assert_eq!(run.code, 35, "{arg}: {}", run.all());
        assert!(run.stderr.contains(why), "{arg}: {}", run.stderr);
    }
}

/// A tiny LMTP server on a UNIX socket: after DATA one reply per recipient, 550 for local parts
/// starting with "fail". Returns every line it read.
fn unix_lmtp(path: std::path::PathBuf) -> std::thread::JoinHandle<String> {
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        let (sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut w = sock.try_clone().unwrap();
        let mut r = BufReader::new(sock);
        let mut got = String::new();
        let mut rcpts: Vec<String> = Vec::new();
        w.write_all(b"220 lmtp.test LMTP\r\n").unwrap();
        let mut line = String::new();
        while r.read_line(&mut line).unwrap_or(0) > 0 {
            got.push_str(&line);
            let upper = line.to_ascii_uppercase();
            if upper.starts_with("LHLO") {
                w.write_all(b"250-lmtp.test\r\n250 PIPELINING\r\n").unwrap();
            } else if upper.starts_with("RCPT") {
                rcpts.push(line.clone());
                w.write_all(b"250 ok\r\n").unwrap();
            } else if upper.starts_with("DATA") {
                w.write_all(b"354 go\r\n").unwrap();
                loop {
                    line.clear();
                    r.read_line(&mut line).unwrap();
                    got.push_str(&line);
                    if line == ".\r\n" || line.is_empty() {
                        break;
                    }
                }
                for rc in &rcpts {
                    let reply: &[u8] = if rc.contains("<fail") {
                        b"550 5.2.1 mailbox disabled\r\n"
                    } else {
                        b"250 2.0.0 delivered\r\n"
                    };
                    w.write_all(reply).unwrap();
                }
            } else if upper.starts_with("QUIT") {
                w.write_all(b"221 bye\r\n").unwrap();
                break;
            } else {
                w.write_all(b"250 ok\r\n").unwrap();
            }
            line.clear();
        }
        got
    })
}

#[test]
fn socket_lmtp_per_recipient_replies_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lmtp.sock");
    let server = unix_lmtp(path.clone());
    let run = ehlo(&[
        "--socket",
        path.to_str().unwrap(),
        "--protocol",
        "LMTP",
        "--to",
        "ok@x.test,fail@x.test",
        "--from",
        "a@x.test",
        "--helo",
        "client.test",
        "--timeout",
        "5",
        "--json",
    ]);
    let got = server.join().unwrap();
    assert!(got.starts_with("LHLO client.test\r\n"), "{got}");
    assert_eq!(run.code, 26, "one delivery was refused: {}", run.all());
    let summary: serde_json::Value =
        serde_json::from_str(run.stdout.lines().last().expect("a summary line")).unwrap();
    let r = &summary["data"]["recipients"];
    assert_eq!(r[0]["data_code"], 250, "{summary}");
    assert_eq!(r[1]["data_code"], 550, "{summary}");
    assert_eq!(r[1]["data_enhanced"], "5.2.1", "{summary}");
    assert_eq!(r[0]["status"], "accepted", "{summary}");
    assert_eq!(r[1]["status"], "perm_failed", "{summary}");
}

/// LMTP (RFC 2033 §4.2) and PRDR: the server answers the first of two accepted recipients after
/// the content, then closes (exit 6) or goes silent (a timeout, exit 26). The summary, human
/// and JSON, says the second got no reply after the content and is not known to be delivered,
/// not "accepted" from its RCPT reply.
#[test]
fn lmtp_and_prdr_a_delivery_reply_that_never_came_is_not_an_acceptance() {
    // The eight cases at once: a silent one is two idle waits of --timeout (the content's
    // reply, QUIT's).
    std::thread::scope(|s| {
        for prdr in [false, true] {
            for silent in [false, true] {
                for json in [false, true] {
                    s.spawn(move || delivery_reply_never_came(prdr, silent, json));
                }
            }
        }
    });
}

fn delivery_reply_never_came(prdr: bool, silent: bool, json: bool) {
    let mut steps = vec![Step::Send(b"220 scripted.test ESMTP\r\n")];
    if prdr {
        steps.push(Step::Expect("EHLO"));
        steps.push(Step::Send(b"250-scripted.test\r\n250 PRDR\r\n"));
    } else {
        steps.push(Step::Expect("LHLO"));
        steps.push(Step::Send(b"250 scripted.test\r\n"));
    }
    steps.extend([
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT TO:<a@"),
        Step::Send(b"250 ok\r\n"),
        Step::Expect("RCPT TO:<b@"),
        Step::Send(b"250 2.1.5 ok for b\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\r\n"),
        Step::Data,
    ]);
    if prdr {
        steps.push(Step::Send(b"353 per recipient\r\n"));
    }
    steps.push(Step::Send(b"250 2.0.0 delivered to a\r\n"));
    // Silent: nothing more, the server reading until the client closes (a fixed
    // 3 s sleep was waited out whole, the client's QUIT unread behind it).
    if !silent {
        steps.push(Step::Close);
    }
    let srv = scripted(steps);
    let server = srv.server();
    let mut args = vec![
        "--server",
        &server,
        "--to",
        "a@x.test,b@x.test",
        "--from",
        "f@x.test",
        "--timeout",
        "1",
    ];
    args.extend(if prdr {
        ["--prdr"].as_slice()
    } else {
        ["--protocol", "LMTP"].as_slice()
    });
    if json {
        args.push("--json");
    }
    let run = ehlo(&args);
    let _ = srv.finish();
    let case = format!("prdr {prdr} silent {silent} json {json}");
    assert_eq!(
        run.code,
        if silent { 26 } else { 6 },
        "{case}: {}",
        run.all()
    );
    if json {
        let summary: serde_json::Value =
            serde_json::from_str(run.stdout.lines().last().expect("a summary line")).unwrap();
        let r = &summary["data"]["recipients"];
        assert_eq!(r[0]["status"], "accepted", "{case}: {summary}");
        assert_eq!(r[0]["data_code"], 250, "{case}: {summary}");
        assert_eq!(r[1]["status"], "no_delivery_reply", "{case}: {summary}");
        assert_eq!(r[1]["code"], 250, "{case}: the RCPT reply: {summary}");
        assert!(r[1].get("data_code").is_none(), "{case}: {summary}");
    } else {
        assert!(
            run.stderr
                .contains("<a@x.test> accepted (250 2.0.0 delivered to a)"),
            "{case}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(
                "<b@x.test> no reply after the content: not known to be delivered \
                     (RCPT: 250 2.1.5 ok for b)"
            ),
            "{case}: {}",
            run.stderr
        );
    }
}

#[test]
fn socket_that_does_not_exist_is_exit_2() {
    let run = ehlo(&["--socket", "/nonexistent/ehlo.sock", "--to", "a@b.test"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("/nonexistent/ehlo.sock"),
        "{}",
        run.stderr
    );
}

#[test]
fn pipe_speaks_smtp_with_a_child_process() {
    let script = r#"printf '220 child ESMTP\r\n'; read l; printf '250 child\r\n'; read l; printf '221 bye\r\n'; echo "child saw: $l" >&2"#;
    let run = ehlo(&["--pipe", script, "-q", "ehlo", "--helo", "me.test"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("<-  220 child ESMTP"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Connection closed with child process."),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("child saw: QUIT"),
        "child's stderr passes through: {}",
        run.stderr
    );

    // A child that exits before greeting: an unexpected close (6).
    let run = ehlo(&["--pipe", "exit 3", "--to", "a@b.test", "--timeout", "5"]);
    assert_eq!(run.code, 6, "{}", run.all());
    assert!(
        run.stderr
            .contains("Child process closed connection unexpectedly"),
        "{}",
        run.stderr
    );
}

/// ehlo holds AUTH secrets in memory: started with a core-file limit (`ulimit -c`), it runs
/// with a soft limit of 0 (the hard one kept), and the `--pipe` command, the user's program,
/// gets the limit back (2048 bytes: 4 blocks of 512, see [`under_core_limit`]).
#[test]
fn no_core_dump_of_ehlo_but_the_pipe_command_keeps_the_users_limit() {
    let script = r#"printf '220 child ESMTP\r\n'; for p in ehlo:$PPID child:$$; do awk -v who=${p%:*} '/core file/ {print "core of", who, $5, $6}' /proc/${p#*:}/limits >&2; done; read l; printf '250 child\r\n'; read l; printf '221 bye\r\n'"#;
    let mut cmd = under_core_limit();
    cmd.env("NO_COLOR", "1");
    let run = run_cmd(
        cmd,
        &["--pipe", script, "-q", "ehlo", "--helo", "me.test"],
        None,
        Duration::from_secs(30),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let hard = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("core of ehlo 0 "))
        .unwrap_or_else(|| panic!("ehlo ran with a core limit: {}", run.stderr));
    assert!(
        run.stderr.contains(&format!("core of child 2048 {hard}\n")),
        "the pipe command did not get the user's limit back: {}",
        run.stderr
    );
}

/// ehlo's unwinder is linked in from libgcc's static archive (build.rs): the running process
/// maps no `libgcc_s.so.1`, whose loading and constructor (ten `cpuid` instructions, each a trap
/// to the hypervisor in a virtual machine) cost every start about 0.14 ms of CPU. Its `--pipe`
/// child lists the shared libraries ehlo has mapped.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn ehlo_runs_without_the_shared_libgcc() {
    let script = r#"printf '220 child ESMTP\r\n'; grep -o '[^/]*\.so[.0-9]*$' /proc/$PPID/maps | sort -u | sed 's/^/mapped /' >&2; read l; printf '250 child\r\n'; read l; printf '221 bye\r\n'"#;
    let run = ehlo(&["--pipe", script, "-q", "ehlo", "--helo", "me.test"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let mapped: Vec<&str> = (run.stderr.lines())
        .filter_map(|l| l.strip_prefix("mapped "))
        .collect();
    assert!(
        mapped.iter().any(|l| l.starts_with("libc.so")),
        "no mapping listed: {}",
        run.stderr
    );
    assert!(
        !mapped.iter().any(|l| l.starts_with("libgcc_s")),
        "ehlo loaded the shared libgcc: {mapped:?}"
    );
}

#[test]
fn pipe_command_that_cannot_run_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let not_executable = dir.path().join("plain.txt");
    std::fs::write(&not_executable, "not a program").unwrap();
    let not_executable = not_executable.display().to_string();
    let cases = [
        (
            "/nonexistent/ehlo-no-such-cmd --flag",
            "did not find the command (exit 127)",
        ),
        (
            not_executable.as_str(),
            "could not execute the command (exit 126)",
        ),
    ];
    for (cmd, why) in cases {
        let run = ehlo(&["--pipe", cmd, "--to", "a@b.test", "--timeout", "5"]);
        assert_eq!(run.code, 2, "{cmd}: {}", run.all());
        let want = format!("could not connect to child process '{cmd}': /bin/sh {why}");
        assert!(run.stderr.contains(&want), "{cmd}: {}", run.stderr);
        let json = ehlo(&["--pipe", cmd, "--to", "a@b.test", "--json"]);
        assert_eq!(json.code, 2, "{cmd}: {}", json.all());
        assert!(
            json.stdout.contains("\"connect\""),
            "{cmd}: {}",
            json.stdout
        );
    }
    // A program that greets and then exits 127 did run: not a spawn failure.
    let run = ehlo(&[
        "--pipe",
        "printf '220 x\\r\\n'; exit 127",
        "--to",
        "a@b.test",
        "--timeout",
        "5",
    ]);
    assert_eq!(run.code, 6, "{}", run.all());
}

/// A `--pipe` command that refuses the banner and is gone before QUIT (it closed its stdin, so
/// writing QUIT breaks the pipe) is exit 21 for the refused banner, as over TCP and in swaks:
/// the failed QUIT write used to be the run's answer (exit 6, "QUIT: Broken pipe").
#[test]
fn pipe_command_that_refuses_the_banner_and_exits_is_21() {
    let script = r#"exec 0<&-; printf '554 5.7.1 go away\r\n'"#;
    let run = ehlo(&["--pipe", script, "--to", "a@b.test", "--timeout", "5"]);
    assert_eq!(run.code, 21, "{}", run.all());
    assert!(run.stderr.contains("554 5.7.1 go away"), "{}", run.stderr);
    assert!(!run.stderr.contains("QUIT: Broken pipe"), "{}", run.stderr);
    // Gone after taking the message: the close instead of QUIT's 221 is said, as over TCP.
    let script = r#"printf '220 x\r\n'; for r in 250 250 250 354; do read l; printf '%s ok\r\n' $r; done; while read l; do case $l in .*) break;; esac; done; exec 0<&-; printf '250 queued\r\n'"#;
    let run = ehlo(&["--pipe", script, "--to", "a@b.test", "--timeout", "5"]);
    assert_eq!(run.code, 6, "{}", run.all());
    assert!(
        run.stdout.contains("the message was accepted"),
        "{}",
        run.all()
    );
}

/// Is process `pid` still running (a zombie waiting for its reaper counts as ended)?
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // "PID (COMM) STATE …": the state follows the last ')'.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

/// A `--pipe` command that never greets is ended at the timeout with everything it started: a
/// command the shell runs as its child (dash does not exec it) used to outlive the run.
#[test]
fn pipe_timeout_ends_the_commands_children_too() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("sleep.pid");
    // Its output elsewhere: the run's own pipes must not wait for it.
    let cmd = format!(
        "sleep 101 </dev/null >/dev/null 2>&1 & echo $! > {}; wait",
        pidfile.display()
    );
    let run = ehlo(&["--pipe", &cmd, "--to", "a@b.test", "--timeout", "1"]);
    assert_eq!(run.code, 21, "{}", run.all());
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while running(pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let alive = running(pid);
    if alive {
        // Do not leave it behind for the rest of the suite.
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
    assert!(!alive, "the pipe command's child {pid} outlived the run");
}

/// A `--pipe` command that leaves background jobs holding the pipe (`cmd &`) after a session
/// that went well: ehlo ends the command's whole group as it exits, SIGTERM first (a job that
/// traps it gets to clean up: here it writes a file), and nothing of it outlives the run.
#[test]
fn pipe_background_jobs_end_with_the_run_sigterm_first() {
    let dir = tempfile::tempdir().unwrap();
    let (sleep_pid, trap_pid, marker) = (
        dir.path().join("sleep.pid"),
        dir.path().join("trap.pid"),
        dir.path().join("got-term"),
    );
    let script = format!(
        "sleep 181 & echo $! > {sleep}; \
         ( trap 'echo TERM > {marker}; exit 0' TERM; : > {marker}.ready; while :; do sleep 0.1; done ) & echo $! > {trap}; \
         while [ ! -e {marker}.ready ]; do sleep 0.02; done; \
         printf '220 child ESMTP\\r\\n'; read l; printf '250 child\\r\\n'; read l; printf '221 bye\\r\\n'",
        sleep = sleep_pid.display(),
        trap = trap_pid.display(),
        marker = marker.display(),
    );
    let started = std::time::Instant::now();
    let run = ehlo(&["--pipe", &script, "-q", "ehlo", "--helo", "me.test"]);
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("<-  221 bye"), "{}", run.stdout);
    let pids: Vec<u32> = [&sleep_pid, &trap_pid]
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap().trim().parse().unwrap())
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while pids.iter().any(|&p| running(p)) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<u32> = pids.iter().copied().filter(|&p| running(p)).collect();
    for pid in &left {
        // Do not leave it behind for the rest of the suite.
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
    assert!(
        left.is_empty(),
        "background jobs outlived the run: {left:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&marker).ok().as_deref(),
        Some("TERM\n"),
        "the job was not sent SIGTERM before SIGKILL"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// A `--pipe` command that does not answer ends the run at `--timeout`, not two seconds later
/// (the grace a child gets to exit after QUIT is not for one that timed out).
#[test]
fn pipe_timeout_ends_the_run_at_the_timeout() {
    let started = std::time::Instant::now();
    let run = ehlo(&[
        "--pipe",
        "exec sleep 30",
        "--to",
        "a@b.test",
        "--timeout",
        "1",
    ]);
    let took = started.elapsed();
    assert_eq!(run.code, 21, "{}", run.all());
    assert!(
        took < Duration::from_millis(2500),
        "a 1 s timeout took {took:?}: {}",
        run.all()
    );
}

/// The pids whose command line matches `pattern` (`pgrep -f`).
fn pgrep(pattern: &str) -> Vec<String> {
    let out = std::process::Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The `--pipe` command leads a process group of its own (so that a timeout kills it whole),
/// out of reach of signals sent to ehlo: SIGTERM (`timeout`, `kill`), SIGHUP and SIGINT sent
/// to ehlo reach the command's group too, and ehlo exits as interrupted (128 + the signal).
#[test]
fn a_signal_to_ehlo_ends_the_pipe_commands_group() {
    for (i, (sig, code)) in [("TERM", 143), ("HUP", 129), ("INT", 130)]
        .into_iter()
        .enumerate()
    {
        // A unique argument to find it by; `; true` keeps the shell around as its parent.
        let unique = format!("121.{}{i}", std::process::id());
        let cmd = format!("sleep {unique}; true");
        let args: Vec<String> = ["--pipe", &cmd, "--to", "a@b.test", "--timeout", "0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (mut child, _lines, stderr) = spawn_ehlo(&args);
        let pattern = format!("^sleep {}$", unique.replace('.', "\\."));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while pgrep(&pattern).is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!pgrep(&pattern).is_empty(), "the command never started");
        let _ = std::process::Command::new("kill")
            .args([format!("-{sig}"), child.id().to_string()])
            .status();
        let (exit, _) = wait_sampling(&mut child, Duration::from_secs(10));
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        let mut left = pgrep(&unique.replace('.', "\\."));
        while !left.is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            left = pgrep(&unique.replace('.', "\\."));
        }
        for pid in &left {
            // Do not leave it behind for the rest of the suite.
            let _ = std::process::Command::new("kill")
                .args(["-9", pid])
                .status();
        }
        // Only now: a command left behind holds ehlo's stderr (it inherits it) open.
        let err = stderr.join().unwrap();
        assert!(
            left.is_empty(),
            "SIG{sig}: the pipe command outlived ehlo: {left:?}"
        );
        assert_eq!(exit, code, "SIG{sig}: {err}");
        assert!(err.contains(&format!("interrupted by SIG{sig}")), "{err}");
    }
}

/// ehlo killed outright (SIGKILL: no chance to kill the group) takes its `--pipe` command with
/// it (PR_SET_PDEATHSIG); it used to stay behind, reparented.
#[test]
fn a_sigkilled_ehlo_takes_its_pipe_command_along() {
    let unique = format!("131.{}", std::process::id());
    // `exec`: the command is ehlo's child itself, not a child of the shell.
    let cmd = format!("exec sleep {unique}");
    let args: Vec<String> = ["--pipe", &cmd, "--to", "a@b.test", "--timeout", "0"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (mut child, _lines, _stderr) = spawn_ehlo(&args);
    let pattern = format!("^sleep {}$", unique.replace('.', "\\."));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while pgrep(&pattern).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!pgrep(&pattern).is_empty(), "the command never started");
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let mut left = pgrep(&pattern);
    while !left.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        left = pgrep(&pattern);
    }
    for pid in &left {
        // Do not leave it behind for the rest of the suite.
        let _ = std::process::Command::new("kill")
            .args(["-9", pid])
            .status();
    }
    assert!(
        left.is_empty(),
        "the pipe command outlived a SIGKILLed ehlo: {left:?}"
    );
}

/// The parent-death signal is tied to the thread that spawned the child: a session that lasts
/// longer than a runtime thread may idle (tokio's blocking pool keeps one 10 s) keeps its child.
#[test]
fn a_long_pipe_session_keeps_its_command() {
    let script = r#"printf '220 child ESMTP\r\n'; read l; sleep 11; printf '250 child\r\n'; read l; printf '221 bye\r\n'"#;
    let run = ehlo_with(
        &[
            "--pipe",
            script,
            "-q",
            "ehlo",
            "--helo",
            "me.test",
            "--timeout",
            "30",
        ],
        None,
        Duration::from_secs(60),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("<-  250 child"), "{}", run.stdout);
}

/// One CRLF line from `s`, byte by byte (no buffering: the TLS handshake must find its bytes on
/// the socket). Empty at the end of the stream.
fn read_line_raw<S: std::io::Read>(s: &mut S) -> String {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while let Ok(1) = s.read(&mut b) {
        line.push(b[0]);
        if b[0] == b'\n' {
            break;
        }
    }
    String::from_utf8_lossy(&line).into_owned()
}

/// Answer SMTP commands on `s` until QUIT (`tls` = already encrypted: no STARTTLS offered), or
/// until STARTTLS was accepted (returns true then). Every line read is appended to `got`.
fn unix_smtp_dialogue<S: std::io::Read + Write>(s: &mut S, tls: bool, got: &mut String) -> bool {
    loop {
        let line = read_line_raw(s);
        if line.is_empty() {
            return false;
        }
        got.push_str(if tls { "tls: " } else { "plain: " });
        got.push_str(&line);
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") && !tls {
            b"250-unix.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
        } else if upper.starts_with("EHLO") {
            b"250-unix.test\r\n250 PIPELINING\r\n"
        } else if upper.starts_with("STARTTLS") {
            s.write_all(b"220 2.0.0 go ahead\r\n").unwrap();
            return true;
        } else if upper.starts_with("DATA") {
            s.write_all(b"354 go\r\n").unwrap();
            loop {
                let l = read_line_raw(s);
                got.push_str(&l);
                if l == ".\r\n" || l.is_empty() {
                    break;
                }
            }
            b"250 2.0.0 queued\r\n"
        } else if upper.starts_with("QUIT") {
            s.write_all(b"221 bye\r\n").unwrap();
            return false;
        } else {
            b"250 ok\r\n"
        };
        s.write_all(reply).unwrap();
    }
}

#[test]
fn starttls_over_a_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smtp.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let server = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut got = String::new();
        sock.write_all(b"220 unix.test ESMTP\r\n").unwrap();
        if !unix_smtp_dialogue(&mut sock, false, &mut got) {
            return got;
        }
        let mut tls = test_acceptor()
            .accept(sock)
            .expect("TLS handshake on the socket");
        unix_smtp_dialogue(&mut tls, true, &mut got);
        got
    });
    let socket = path.to_str().unwrap();
    let run = ehlo(&[
        "--socket",
        socket,
        "--tls",
        "--insecure",
        "--to",
        "a@b.test",
        "--from",
        "me@c.test",
        "--timeout",
        "10",
    ]);
    let got = server.join().unwrap();
    assert_eq!(run.code, 0, "{}", run.all());
    // The transcript shows the upgrade: STARTTLS in the clear, then encrypted lines.
    assert!(run.stdout.contains(" -> STARTTLS"), "{}", run.stdout);
    assert!(run.stdout.contains("=== TLS started"), "{}", run.stdout);
    assert!(run.stdout.contains(" ~> EHLO "), "{}", run.stdout);
    assert!(
        run.stdout.contains(" ~> MAIL FROM:<me@c.test>"),
        "{}",
        run.stdout
    );
    // And the server saw everything after STARTTLS encrypted.
    assert!(got.contains("plain: STARTTLS\r\n"), "{got}");
    assert!(got.contains("tls: EHLO "), "{got}");
    assert!(got.contains("tls: MAIL FROM:<me@c.test>"), "{got}");
    assert!(got.contains("tls: QUIT"), "{got}");
    assert!(!got.contains("plain: MAIL"), "{got}");
}

/// An XCLIENT or XCLIENT-HELO stop point when `--xclient-optional(-strict)` skipped XCLIENT
/// (not offered, or refused): the session stops there all the same, as TLS and AUTH stop points
/// do, with a line saying XCLIENT did not happen. It used to carry on and deliver the message.
#[test]
fn xclient_stop_points_stop_when_xclient_was_skipped() {
    let refused = || {
        let mut steps = greet_with(b"250-scripted.test\r\n250 XCLIENT ADDR\r\n");
        steps.extend([
            Step::Expect("XCLIENT ADDR=192.0.2.1\r\n"),
            Step::Send(b"550 5.7.0 not authorized\r\n"),
        ]);
        steps
    };
    for flag in ["--quit-after", "--drop-after", "--drop-after-send"] {
        for at in ["xclient", "xclient-helo"] {
            let mut cases = vec![
                ("--xclient-optional", greet()),
                ("--xclient-optional-strict", greet()),
            ];
            // A drop-after-send XCLIENT closes once XCLIENT is out, before the refusal.
            if !(flag == "--drop-after-send" && at == "xclient") {
                cases.push(("--xclient-optional", refused()));
            }
            for (optional, mut script) in cases {
                let quit = flag == "--quit-after";
                if quit {
                    script.push(Step::Expect("QUIT"));
                    script.push(Step::Send(b"221 2.0.0 Bye\r\n"));
                }
                let srv = scripted(script);
                let args = [
                    "--xclient-addr",
                    "192.0.2.1",
                    optional,
                    "--timeout",
                    "5",
                    flag,
                    at,
                ];
                let run = send(&srv, &args);
                let what = format!("{flag} {at} {optional}");
                let got = srv.finish();
                assert_eq!(run.code, 0, "{what}: {}", run.all());
                assert!(!got.contains("MAIL FROM"), "{what}: {got}");
                let ends = if quit { "QUIT\r\n" } else { "" };
                assert!(got.ends_with(&format!("\r\n{ends}")), "{what}: {got:?}");
                assert!(
                    run.stdout
                        .contains("no XCLIENT in this session: stopping at its stop point"),
                    "{what}: {}",
                    run.stdout
                );
            }
        }
    }
}
