//! `ehlo demo`, the README's first command: it must succeed offline, quickly, and show every
//! phase of a send (connect, banner, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, QUIT).

use std::time::Duration;

use crate::util::{ehlo, ehlo_with};

#[test]
fn demo_shows_every_phase() {
    let r = ehlo(&["demo", "--color", "never"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.elapsed < Duration::from_secs(10),
        "demo took {:?}",
        r.elapsed
    );
    let out = &r.stdout;
    // In transcript order: each phase must come after the previous one.
    let phases = [
        "<-  220 demo.ehlo.test ESMTP",
        " -> EHLO client.demo.test",
        " -> STARTTLS",
        "<-  220 2.0.0 Ready to start TLS",
        "=== TLS started with cipher",
        "passed CA verification, passed host verification",
        " ~> EHLO client.demo.test",
        "<~  250-AUTH PLAIN LOGIN CRAM-MD5",
        " ~> AUTH ",
        "<~  235 2.7.0 Authentication successful",
        " ~> MAIL FROM:<alice@demo.test>",
        " ~> RCPT TO:<bob@demo.test>",
        "<~  250 2.1.5 Ok",
        " ~> RCPT TO:<nobody@demo.test>",
        "<~* 550 5.1.1 <nobody@demo.test>",
        "5.1.1 = Bad destination mailbox address",
        " ~> DATA",
        "<~  354 ",
        " ~> ..this line starts with a dot",
        " ~> .\n",
        "<~  250 2.0.0 Ok: queued as ",
        " ~> QUIT",
        "<~  221 2.0.0 Bye",
        "the embedded server stored 1 message(s)",
        "tls=true auth=demo",
        "===   | .this line starts with a dot",
    ];
    let mut at = 0;
    for p in phases {
        match out[at..].find(p) {
            Some(i) => at += i + p.len(),
            None => panic!("demo output lacks {p:?} after byte {at}:\n{out}"),
        }
    }
    // AUTH is not offered before TLS (RFC 4954 §4): the first EHLO reply has no AUTH line.
    let before_tls = &out[..out.find("=== TLS started").unwrap()];
    assert!(
        !before_tls.lines().any(|l| l.starts_with("<-  250-AUTH")),
        "{before_tls}"
    );
    // The demo password is never shown.
    assert!(!out.contains("demo-password"), "{out}");
}

#[test]
fn demo_json_is_json_lines() {
    let r = ehlo_with(&["demo", "--json"], None, Duration::from_secs(10));
    assert_eq!(r.code, 0, "{}", r.all());
    let mut types = Vec::new();
    for line in r.stdout.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        types.push(
            v["type"]
                .as_str()
                .expect("every event has a type")
                .to_string(),
        );
        if v["type"] == "tls_started" {
            assert_eq!(v["data"]["info"]["verify"]["ok"], true, "{line}");
        }
    }
    // The JSON Lines contract: schema first, summary last (after the stored message's lines).
    assert_eq!(
        types.first().map(String::as_str),
        Some("schema"),
        "{types:?}"
    );
    assert_eq!(
        types.last().map(String::as_str),
        Some("summary"),
        "{types:?}"
    );
    assert_eq!(
        types.iter().filter(|t| *t == "summary").count(),
        1,
        "{types:?}"
    );
    assert!(r.stdout.contains("the embedded server stored 1 message(s)"));
    for t in [
        "schema",
        "connected",
        "tls_started",
        "sent",
        "received",
        "summary",
    ] {
        assert!(types.iter().any(|x| x == t), "no {t} event in {types:?}");
    }
    let codes: Vec<i64> = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "received")
        .filter_map(|v| v["data"]["reply"]["code"].as_i64())
        .collect();
    assert!(
        codes.contains(&550) && codes.contains(&235) && codes.contains(&221),
        "{codes:?}"
    );
}

/// The demo has one renderer and one colour decision: `--color always` colours its transcript
/// even into a pipe, as a send's, and the embedded server (whose transcript is not shown) does
/// not undo that decision; `--color never` has no colour at all.
#[test]
fn demo_colours_as_asked_into_a_pipe() {
    let r = ehlo(&["demo", "--color", "always"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("\u{1b}["), "{}", r.stdout);
    assert!(r.stdout.contains("<~  235 2.7.0 Authentication successful"));
    let r = ehlo(&["demo", "--color", "never"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains('\u{1b}'), "{}", r.all());
}

/// The command the demo says its transcript comes from carries every setting of the send:
/// sender, EHLO name, the message itself and where the password comes from.
#[test]
fn demo_prints_the_command_that_does_the_same() {
    let r = ehlo(&["demo", "--color", "never"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let out = &r.stdout;
    let start = out.find("The send below is what `").expect("the command") + 24;
    let cmd = &out[start..start + out[start..].find('`').expect("closing backtick")];
    for flag in [
        "ehlo --server localhost:",
        "--tls --tls-ca-path ",
        "--auth --auth-user demo --auth-password-file ",
        "--helo client.demo.test ",
        "--from alice@demo.test ",
        "--to bob@demo.test,nobody@demo.test ",
        "--data '",
    ] {
        assert!(cmd.contains(flag), "{flag:?} missing from {cmd}");
    }
    // --data holds the message the server stored, line for line.
    let data = &cmd[cmd.find("--data '").unwrap() + 8..cmd.rfind('\'').unwrap()];
    let stored: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_once("  | ").map(|(_, t)| t))
        .collect();
    let sent: Vec<&str> = data.trim_end_matches("\\n").split("\\n").collect();
    // The stored copy has the dot-stuffing undone: the same lines.
    assert_eq!(sent, stored, "{cmd}");
}
