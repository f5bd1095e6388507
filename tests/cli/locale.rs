//! A terminal whose locale is not UTF-8 (`LANG=C`, `LC_ALL=POSIX`, a Latin-1 locale): ehlo's own
//! glyphs (`§`, `⟨…⟩`, `…`, `→`, `—`, `✓`) come out in ASCII there, in every mode's human
//! output, while what a server or a client sent is shown as it came; with a UTF-8 locale the
//! glyphs stay, and JSON Lines is UTF-8 whatever the locale.

use std::io::{BufRead, BufReader, Write};
use std::process::Command;
use std::time::Duration;

use crate::serve::Serve;
use crate::util::{Step, ehlo_with_env, greet, scripted, send_args};

const C: &[(&str, &str)] = &[("LANG", "C.UTF-8"), ("LC_ALL", "C")];
const UTF8: &[(&str, &str)] = &[("LANG", "C"), ("LC_ALL", "C.UTF-8")];

/// Lines with a byte of 0x80 or more that do not carry `theirs` (text a peer sent, which is
/// shown as it came).
fn not_ascii<'a>(out: &'a str, theirs: &str) -> Vec<&'a str> {
    out.lines()
        .filter(|l| !l.is_ascii() && !l.contains(theirs))
        .collect()
}

/// A send whose server's banner has UTF-8 text of its own and whose EHLO reply ends a line in
/// a bare LF (a deviation citing RFC 5321 §2.3.8).
fn send_in(env: &[(&str, &str)], extra: &[&str]) -> crate::util::Run {
    let server = scripted(vec![
        Step::Send("220 scripted.test ESMTP Grüße → ok\r\n".as_bytes()),
        Step::Expect("EHLO"),
        Step::Send(b"250-scripted.test\n250 SIZE 1000000\r\n"),
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"550 5.1.1 <rcpt@scripted.test>: User unknown\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 2.0.0 Bye\r\n"),
    ]);
    let mut args = send_args(&server.server());
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = ehlo_with_env(&refs, env, None, Duration::from_secs(30));
    server.finish();
    r
}

#[test]
fn a_send_in_a_c_locale_prints_our_glyphs_in_ascii_and_the_servers_text_as_it_came() {
    let r = send_in(C, &[]);
    let all = r.all();
    assert!(all.contains("RFC 5321 section 2.3.8"), "{all}");
    assert!(
        all.contains("<-  220 scripted.test ESMTP Grüße → ok"),
        "{all}"
    );
    assert!(
        not_ascii(&all, "Grüße → ok").is_empty(),
        "{:#?}",
        not_ascii(&all, "Grüße → ok")
    );

    let u = send_in(UTF8, &[]);
    assert!(u.all().contains("RFC 5321 §2.3.8"), "{}", u.all());

    // JSON Lines is UTF-8 whatever the locale.
    let j = send_in(C, &["--json"]);
    assert!(j.stdout.contains("ESMTP Grüße → ok"), "{}", j.stdout);
}

/// `ehlo serve`'s transcript: the client's bare LF is a deviation citing §2.3.8, the client's
/// own text (a NOOP with UTF-8 in it) is shown as it came.
#[test]
fn serve_in_a_c_locale_prints_our_glyphs_in_ascii() {
    let run = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
        cmd.envs(env.iter().copied()).env("NO_COLOR", "1");
        let serve = Serve::spawn(cmd, "127.0.0.1:0", &["--max-sessions", "1"]);
        let tcp = std::net::TcpStream::connect(&serve.addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut w = tcp.try_clone().unwrap();
        let mut r = BufReader::new(tcp);
        let mut reply = || {
            let mut l = String::new();
            while r.read_line(&mut l).unwrap() > 0 && l.as_bytes().get(3) == Some(&b'-') {
                l.clear();
            }
        };
        reply();
        for cmd in [
            &b"EHLO c.test\r\n"[..],
            b"MAIL FROM:<a@c.test>\n",
            "NOOP Grüße → ok\r\n".as_bytes(),
            b"QUIT\r\n",
        ] {
            w.write_all(cmd).unwrap();
            reply();
        }
        serve.finish().1
    };
    let out = run(C);
    assert!(out.contains("RFC 5321 section 2.3.8"), "{out}");
    assert!(out.contains("NOOP Grüße → ok"), "{out}");
    assert!(not_ascii(&out, "Grüße → ok").is_empty(), "{out}");
    let out = run(UTF8);
    assert!(out.contains("RFC 5321 §2.3.8"), "{out}");
}

/// The REPL from a pipe: its help and its notes are ehlo's own words.
#[test]
fn the_repl_piped_in_a_c_locale_prints_ascii() {
    let run = |env: &[(&str, &str)]| {
        let mut env = env.to_vec();
        env.push(("TERM", "dumb"));
        let server = scripted(
            greet()
                .into_iter()
                .chain([Step::Expect("QUIT"), Step::Send(b"221 Bye\r\n")])
                .collect(),
        );
        let addr = server.server();
        let r = ehlo_with_env(
            &["repl", &addr, "--color", "never", "--timeout", "5"],
            &env,
            Some(b":help\nEHLO x.test\nQUIT\n"),
            Duration::from_secs(30),
        );
        r.all()
    };
    let out = run(C);
    assert!(out.contains("EHLO"), "{out}");
    assert!(
        not_ascii(&out, "\u{0}").is_empty(),
        "{:#?}",
        not_ascii(&out, "\u{0}")
    );
    let out = run(UTF8);
    assert!(!out.is_ascii(), "{out}");
}

/// Usage errors on stderr, said before any renderer exists.
#[test]
fn usage_errors_in_a_c_locale_are_ascii() {
    let e = |args: &[&str], env| ehlo_with_env(args, env, None, Duration::from_secs(30));
    let tls = [
        "--server",
        "127.0.0.1:1",
        "--to",
        "a@b.test",
        "--requiretls",
    ];
    let c = e(&tls, C);
    assert!(c.stderr.contains("(RFC 8689 section 2)"), "{}", c.stderr);
    assert!(c.all().is_ascii(), "{}", c.all());
    assert!(e(&tls, UTF8).stderr.contains("(RFC 8689 §2)"));
    let c = e(&["--demo"], C);
    assert!(c.stderr.contains("ehlo demo ...)"), "{}", c.stderr);
    assert!(c.all().is_ascii(), "{}", c.all());
}
