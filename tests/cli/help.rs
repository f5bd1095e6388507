//! The built binary's help, version and flag errors: what a user sees first.

use std::process::{Command, Output};

fn ehlo(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    crate::util::isolate(&mut cmd);
    cmd.args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run ehlo")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Help text with line wrapping undone, so checks do not depend on the terminal width.
fn unwrapped(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_has_every_group() {
    let o = ehlo(&["--help"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    for heading in [
        "Transport:",
        "TLS:",
        "AUTH:",
        "Envelope:",
        "Message:",
        "Output:",
        "Stop points:",
    ] {
        assert!(text.contains(heading), "--help lacks {heading}\n{text}");
    }
    let flat = unwrapped(&text);
    for needle in [
        "serve",
        "demo",
        "--quit-after",
        "[alias: --tlsc]",
        "Examples:",
        "-h NAME is --helo NAME",
        "two dashes",
    ] {
        assert!(flat.contains(needle), "--help lacks {needle}\n{text}");
    }
}

#[test]
fn short_h_alone_is_help() {
    let o = ehlo(&["-h"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("Usage: ehlo"), "{text}");
    assert!(
        unwrapped(&text).contains("-h NAME is --helo NAME; -h alone is help"),
        "{text}"
    );
}

/// swaks's `-h NAME` is --helo: it must send with that name, not print help and exit 0.
#[test]
fn short_h_with_a_name_is_helo() {
    let o = ehlo(&["-h", "me.example", "-t", "a@b.c", "--dump-config"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("helo me.example"), "{}", stdout(&o));
}

/// Help next to other arguments: exit 1 and one line saying nothing was sent, never a silent 0.
#[test]
fn help_with_other_arguments_fails() {
    for args in [
        &["-t", "a@b.c", "-s", "127.0.0.1", "--help"][..],
        &["-t", "a@b.c", "-h"],
        &["-t", "a@b.c", "-h", "-s", "127.0.0.1"],
        &["-hfoo", "-t", "a@b.c"],
    ] {
        let o = ehlo(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = stderr(&o);
        assert!(err.contains("nothing was sent"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
}

#[test]
fn single_dash_help_works_like_swaks() {
    let o = ehlo(&["-help"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("Stop points:"));
}

#[test]
fn subcommand_help() {
    let o = ehlo(&["serve", "--help"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("--max-sessions"), "{text}");
    assert!(text.contains("127.0.0.1:2525"), "{text}");
}

#[test]
fn bad_flag_exits_1_with_clap_message() {
    // (`--no-…` words are negations, reported by layering: tests/cli/config.rs.)
    let o = ehlo(&["--such-flag"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("unknown option '--such-flag'"), "{err}");
    assert!(stdout(&o).is_empty());
    let o = ehlo(&["-t", "a@b.c", "-q", "data"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("invalid value 'data'"),
        "{}",
        stderr(&o)
    );
}

/// A value clap refuses is one line with the valid values, exit 1, like every other bad input:
/// it was clap's block of four (`error: …`, `[possible values: …]`, a blank line, "For more
/// information, try '--help'"). The parser's own reason, clap's suggestion, a missing value and
/// a subcommand's flag are said on that line too.
#[test]
fn a_refused_value_is_one_line_with_the_valid_values() {
    let cases: [(&[&str], &str); 7] = [
        (
            &["-t", "a@b.c", "--tls-verify=false"],
            "*** invalid value 'false' for --tls-verify (possible values: pkix, dane); nothing was sent\n",
        ),
        (
            &["-t", "a@b.c", "--tls-verify=Pkix"],
            "*** invalid value 'Pkix' for --tls-verify (possible values: pkix, dane; did you mean 'pkix'?); nothing was sent\n",
        ),
        (
            &["-t", "a@b.c", "--tls-verify="],
            "*** --tls-verify needs a value (possible values: pkix, dane); nothing was sent\n",
        ),
        (
            &["-t", "a@b.c", "--timeout", "abc"],
            "*** invalid value 'abc' for --timeout: 'abc' is not a duration (N, Ns, Nm or Nh); nothing was sent\n",
        ),
        (
            &["check", "--dnssec", "x", "example.com"],
            "*** invalid value 'x' for --dnssec of 'ehlo check' (possible values: off, validate, trust-ad)\n",
        ),
        // A path has no list of values: none is named (it said "(possible values: )").
        (
            &["check", "--junit", "", "example.com"],
            "*** --junit of 'ehlo check' needs a value\n",
        ),
        (
            &["-t", "a@b.c", "--output-file="],
            "*** --output-file needs a value; nothing was sent\n",
        ),
    ];
    for (args, want) in cases {
        let o = ehlo(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(stderr(&o), want, "{args:?}");
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
}

/// A newcomer's typo in the send's flags gets the option meant, and a flag of another mode
/// says which: one line, exit 1, nothing sent (the server would see a connection).
#[test]
fn misspelt_flags_name_the_option_meant() {
    let server = crate::util::tripwire();
    let at = server.local_addr().unwrap().to_string();
    for (args, want) in [
        (
            vec!["--tls-verfy"],
            "*** unknown option '--tls-verfy' (did you mean '--tls-verify'?); nothing was sent\n",
        ),
        (
            vec!["--quit-afer", "rcpt"],
            "*** unknown option '--quit-afer' (did you mean '--quit-after'?); nothing was sent\n",
        ),
        (
            vec!["--strict"],
            "*** unknown option '--strict' (an option of 'ehlo repl', not of the send); nothing \
             was sent\n",
        ),
        (
            vec!["--demo"],
            "*** unknown option '--demo' ('demo' is a subcommand: ehlo demo …); nothing was \
             sent\n",
        ),
    ] {
        let mut all = vec!["-s", at.as_str(), "-t", "a@example.test"];
        all.extend(args.iter().copied());
        let o = ehlo(&all);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), want, "{args:?}");
        assert!(stdout(&o).is_empty(), "{args:?}: {}", stdout(&o));
    }
    assert!(server.accept().is_err(), "a connection was made");
}

/// A flag a subcommand does not take, as a newcomer gives it (swaks's `--to` to `check`, a typo,
/// a short of the send), is one line naming where the flag belongs or the one meant, exit 1,
/// and nothing on stdout: not clap's block with its "use '-- --to'" tip.
#[test]
fn a_subcommand_names_the_mode_of_a_flag_it_does_not_take() {
    for (args, want) in [
        (
            &["check", "--to", "x@example.test", "example.test"][..],
            "*** unknown option '--to' for 'ehlo check' (an option of the send and 'ehlo probe', \
             not of 'ehlo check')\n",
        ),
        (
            &["check", "-t", "x@example.test", "example.test"],
            "*** unknown option '-t' for 'ehlo check' (--to, an option of the send and 'ehlo \
             probe', not of 'ehlo check')\n",
        ),
        // A short with no value after it is no flag of another mode needing one: the
        // subcommand's own switch it abbreviates is named.
        (
            &["serve", "-q"],
            "*** unknown option '-q' for 'ehlo serve' (did you mean '--quiet'? -q is \
             --quit-after only in the send, where it takes a value)\n",
        ),
        (
            &["serve", "-q", "--listen", "127.0.0.1:0"],
            "*** unknown option '-q' for 'ehlo serve' (did you mean '--quiet'? -q is \
             --quit-after only in the send, where it takes a value)\n",
        ),
        (
            &["serve", "-q", "rcpt"],
            "*** unknown option '-q' for 'ehlo serve' (--quit-after, an option of the send, not \
             of 'ehlo serve')\n",
        ),
        (
            &["check", "-f"],
            "*** unknown option '-f' for 'ehlo check' (--from, an option of the send and 'ehlo \
             probe', not of 'ehlo check')\n",
        ),
        (
            &["probe", "--quit-after", "rcpt", "mx.example.test"],
            "*** unknown option '--quit-after' for 'ehlo probe' (an option of the send, not of \
             'ehlo probe')\n",
        ),
        (
            &["repl", "--server", "mx.example.test"],
            "*** unknown option '--server' for 'ehlo repl' (an option of the send and 'ehlo \
             replay', not of 'ehlo repl': the server is its argument, 'ehlo repl \
             HOST[:PORT]')\n",
        ),
        // `--port`/`--server` to the server: where it listens is --listen's, with the port
        // or address typed (it read only "not of 'ehlo serve'").
        (
            &["serve", "--port", "2526"],
            "*** unknown option '--port' for 'ehlo serve' (an option of the send, 'ehlo repl', \
             'ehlo replay', 'ehlo check' and 'ehlo probe', not of 'ehlo serve': it listens \
             where --listen ADDR:PORT says, 'ehlo serve --listen 127.0.0.1:2526')\n",
        ),
        (
            &["serve", "-p", "587"],
            "*** unknown option '-p' for 'ehlo serve' (--port, an option of the send, 'ehlo \
             repl', 'ehlo replay', 'ehlo check' and 'ehlo probe', not of 'ehlo serve': it \
             listens where --listen ADDR:PORT says, 'ehlo serve --listen 127.0.0.1:587')\n",
        ),
        (
            &["serve", "--server", "[::1]:2525"],
            "*** unknown option '--server' for 'ehlo serve' (an option of the send and 'ehlo \
             replay', not of 'ehlo serve': it listens where --listen ADDR:PORT says, 'ehlo \
             serve --listen [::1]:2525')\n",
        ),
        (
            &["probe", "mx.example.test", "587", "--to", "a@example.test"],
            "*** unexpected argument '587' for 'ehlo probe': a port follows the host after a \
             colon, 'ehlo probe mx.example.test:587' (or --port 587)\n",
        ),
        // The server as `ehlo repl` takes it: replay's is --server (it gave only the usage).
        (
            &["replay", "session.ehlo", "mx.example.test:25"],
            "*** unexpected argument 'mx.example.test:25' for 'ehlo replay': the server is \
             --server's, 'ehlo replay FILE --server mx.example.test:25'\n",
        ),
        (
            &["check", "--timout", "5s", "example.test"],
            "*** unknown option '--timout' for 'ehlo check' (did you mean '--timeout'?)\n",
        ),
        // Other tools' word for an expectation: the flag is --expect (it gave no hint).
        (
            &["check", "--assert", "tls.starttls=pass", "example.test"],
            "*** unknown option '--assert' for 'ehlo check' (did you mean '--expect'?)\n",
        ),
        (
            &["probe", "mx.example.test", "--assert=smuggle.lf-lf=fail"],
            "*** unknown option '--assert' for 'ehlo probe' (did you mean '--expect'?)\n",
        ),
        (
            &["serve", "--max-conections", "3"],
            "*** unknown option '--max-conections' for 'ehlo serve' (did you mean \
             '--max-connections'?)\n",
        ),
        (
            &["demo", "--frobnicate"],
            "*** unknown option '--frobnicate' for 'ehlo demo' (see 'ehlo demo --help')\n",
        ),
    ] {
        let o = ehlo(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), want, "{args:?}");
        assert!(stdout(&o).is_empty(), "{args:?}: {}", stdout(&o));
    }
    // A word that may be a secret is still never quoted.
    let o = ehlo(&["check", "--auth-password", "--hunter2", "example.test"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!stderr(&o).contains("hunter2"), "{}", stderr(&o));
}

/// `serve --fail`'s grammar is prose that clap wraps, not lines broken at 100 columns that
/// clap then breaks again after its indent ("bdat,\n rset,\n noop").
#[test]
fn fail_help_wraps_as_paragraphs() {
    let o = ehlo(&["serve", "--help"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let from = text.find("--fail <SPEC>").expect("--fail");
    let to = from + text[from..].find("--delay <").expect("--delay");
    let block = &text[from..to];
    for words in [
        "rset, noop, vrfy",
        "RFC 2033",
        "class's X.0.0",
        "must be the code's",
    ] {
        assert!(
            block.contains(words),
            "{words:?} broken over lines: {block}"
        );
    }
}

#[test]
fn usage_error_is_one_line_on_stderr() {
    let o = ehlo(&["-s", "127.0.0.1"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with("*** --to:"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// A bare `ehlo` is a newcomer's first try: a few lines (the usage, the commonest forms, where
/// every flag is), not the whole short help (over 250 lines), on stderr with the usage exit
/// code 1, nothing on stdout; and a config file's or the environment's options do not make it
/// a send.
#[test]
fn no_arguments_shows_a_short_usage_and_fails() {
    let o = ehlo(&[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with("Usage: ehlo"), "{err}");
    assert!(err.lines().count() <= 15, "{err}");
    for form in [
        "ehlo demo",
        "ehlo -t you@example.com",
        "ehlo check example.com",
        "`ehlo --help` for every flag",
    ] {
        assert!(err.contains(form), "{form:?} missing:\n{err}");
    }
    assert!(err.lines().all(|l| l.chars().count() <= 100), "{err}");
    assert!(!err.contains("Envelope:"), "{err}");
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    crate::util::isolate(&mut cmd);
    let o = cmd
        .env("EHLO_TO", "nobody@example.invalid")
        .env("EHLO_SERVER", "127.0.0.1:9")
        .output()
        .expect("run ehlo");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), err);
}

#[test]
fn version_mentions_openssl() {
    let o = ehlo(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.starts_with(&format!("ehlo {}", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(text.contains("OpenSSL"), "{text}");
}

/// `-V` is `--version`: a bug report quoting either names the OpenSSL ehlo is linked against,
/// for the top level and for a subcommand alike.
#[test]
fn short_and_long_version_print_the_same() {
    let long = ehlo(&["--version"]);
    for args in [&["-V"][..], &["repl", "-V"], &["repl", "--version"]] {
        let o = ehlo(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert_eq!(
            stdout(&o).replace("ehlo-repl", "ehlo"),
            stdout(&long),
            "{args:?}"
        );
    }
}

/// A bare address or host where swaks users would write `--to` / `--server` is refused in one
/// line naming the flag meant (exit 1, nothing sent), not as an "unrecognized subcommand";
/// a subcommand, and clap's suggestion for a misspelt one, are unchanged.
#[test]
fn a_bare_address_or_host_names_the_flag_meant() {
    for (args, word, flag) in [
        (&["user@example.com"][..], "user@example.com", "--to"),
        (
            &["-q", "rcpt", "user@example.com"],
            "user@example.com",
            "--to",
        ),
        (
            &["-t", "a@example.net", "mx.example.com"],
            "mx.example.com",
            "--server",
        ),
        (
            &["--to=a@example.net", "[::1]:2525"],
            "[::1]:2525",
            "--server",
        ),
    ] {
        let o = ehlo(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = stderr(&o);
        assert_eq!(
            err.trim_end(),
            format!(
                "*** '{word}' looks like {}: did you mean `ehlo {flag} {word}`? (nothing was sent)",
                if flag == "--to" {
                    "an address"
                } else {
                    "a host"
                }
            ),
            "{args:?}"
        );
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
    // Without a recipient the command named is one that runs (`ehlo --server HOST` alone is
    // refused next for its missing --to), and a domain may be one to check: it named only
    // `ehlo --server example.com`.
    for (args, want) in [
        (
            &["example.com"][..],
            "*** 'example.com' looks like a host: did you mean `ehlo --server example.com -t \
             ADDR`, or `ehlo check example.com`? (nothing was sent)\n",
        ),
        (
            &["--tls", "[::1]:2525"],
            "*** '[::1]:2525' looks like a host: did you mean `ehlo --server [::1]:2525 -t \
             ADDR`? (nothing was sent)\n",
        ),
    ] {
        let o = ehlo(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(stderr(&o), want, "{args:?}");
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
    // Any other word after the options is named as what it is: it read "the subcommand 'world'
    // cannot be used with:", cut where clap went on listing the options on lines of their own.
    let o = ehlo(&["-t", "a@example.test", "--body", "hello", "world"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with("*** unexpected word 'world': the send takes options only"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let o = ehlo(&["reply"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("'repl'"), "{}", stderr(&o));
    let o = ehlo(&["explain", "5.7.1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A word that is no option, no subcommand and no address or host is refused in one line with
/// exit 1, like every other bad input, not clap's block of five (`error: unrecognized
/// subcommand`, a tip, two usage lines, where the help is): a misspelt subcommand with the
/// one meant, the subcommands when nothing is near, a stray word after the send's flags not
/// called a subcommand, and an extra word given to a subcommand not called an option.
#[test]
fn a_stray_word_is_refused_in_one_line_saying_what_it_is() {
    for (args, line) in [
        (
            &["dmeo"][..],
            "*** unknown subcommand 'dmeo' (did you mean 'demo'?); nothing was sent",
        ),
        (
            &["help", "chek"],
            "*** unknown subcommand 'chek' for 'ehlo help' (did you mean 'check'?)",
        ),
        (
            &["foo"],
            "*** unknown subcommand 'foo' (the subcommands: serve, demo, repl, replay, explain, \
             check, probe; the send takes options only: see 'ehlo --help'); nothing was sent",
        ),
        (
            &["--to", "a@example.test", "foo"],
            "*** unexpected word 'foo': the send takes options only, each value right after its \
             flag (a value with spaces needs quotes; see 'ehlo --help'); nothing was sent",
        ),
        (
            &["demo", "now"],
            "*** unexpected argument 'now' for 'ehlo demo' (usage: ehlo demo [OPTIONS]; \
             'ehlo demo --help' says more)",
        ),
        // telnet's `HOST PORT`: the port goes after a colon (it gave only the usage).
        (
            &["repl", "mx.example.test", "25"],
            "*** unexpected argument '25' for 'ehlo repl': a port follows the host after a \
             colon, 'ehlo repl mx.example.test:25' (or --port 25)",
        ),
        (
            &["repl", "mx.example.test:25", "26"],
            "*** unexpected argument '26' for 'ehlo repl' (usage: ehlo repl [OPTIONS] \
             [HOST[:PORT] | @domain]; 'ehlo repl --help' says more)",
        ),
    ] {
        let o = ehlo(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(stderr(&o).trim_end(), line, "{args:?}");
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
    // A word right after a password may be the rest of it (a space not quoted): not shown.
    for args in [
        &["--auth-password", "two", "words", "--to", "a@example.test"][..],
        &["--to", "a@example.test", "--auth-password=two", "words"],
    ] {
        let o = ehlo(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = stderr(&o);
        assert!(
            err.contains("unexpected word after a password"),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("words") && !err.contains("two"),
            "{args:?}: {err}"
        );
    }
    // A real subcommand after the send's flags is still said to be one.
    let o = ehlo(&["--to", "a@example.test", "demo"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("the subcommand 'demo' cannot be used with"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn dump_mail_prints_the_message() {
    let o = ehlo(&[
        "-tls",
        "-t",
        "a@example.test",
        "--header",
        "Subject: hi",
        "--dump-mail",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("\r\nTo: a@example.test\r\n"), "{text}");
    assert!(text.contains("\r\nSubject: hi\r\n"), "{text}");
    assert!(
        text.ends_with("\r\n\r\nThis is a test mailing\r\n"),
        "{text}"
    );
    assert!(!text.replace("\r\n", "").contains('\n'), "{text:?}");
}

/// `--dump-mail` prints what would go out (as swaks does): the mbox `From ` line dropped and
/// bare LF and CR made CRLF; not the transfer's dot-stuffing or end marker.
#[test]
fn dump_mail_prints_the_message_as_sent() {
    let o = ehlo(&[
        "-t",
        "a@example.test",
        "--data",
        "From x@y Mon\nSubject: a\n\n.dot\nbare\rcr\n.\n",
        "--dump-mail",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Subject: a\r\n\r\n.dot\r\nbare\r\ncr\r\n");
}

/// The secret files' help says the order the code follows (the README's too): the file named on
/// the command line first, then the environment variable, as the send's layering orders them.
#[test]
fn secret_file_help_puts_the_command_line_first_as_the_code_does() {
    for sub in ["repl", "replay"] {
        let text = unwrapped(&stdout(&ehlo(&[sub, "--help"])));
        for (var, flag) in [
            ("EHLO_AUTH_PASSWORD", "--auth-password-file"),
            ("EHLO_AUTH_TOKEN", "--auth-token-file"),
        ] {
            assert!(
                text.contains(&format!("`:auth` takes this file first, then {var}")),
                "{sub} {flag}: {text}"
            );
        }
        assert!(
            !text.contains("Otherwise `:auth` reads EHLO_AUTH"),
            "{text}"
        );
    }
    let text = unwrapped(&stdout(&ehlo(&["--help"])));
    assert!(
        text.contains("replaces a lower layer's password, e.g. $EHLO_AUTH_PASSWORD")
            && text.contains("a command-line --auth-password-file beats $EHLO_AUTH_PASSWORD"),
        "{text}"
    );
}

/// The long flags `ehlo MODE --help` lists (`""`: the send), help and version included.
fn help_flags(mode: &str) -> std::collections::HashSet<String> {
    let mut args: Vec<&str> = mode.split_whitespace().collect();
    args.push("--help");
    let o = ehlo(&args);
    assert_eq!(o.status.code(), Some(0), "{mode}: {}", stderr(&o));
    flags_in(&stdout(&o)).collect()
}

/// Every `--long-flag` word in `text` (one not glued to a word before it, as `xn--bcher-kva`
/// is; a prefix written as `--xforward-*` or `--no-h-NAME` ends with its dash).
fn flags_in(text: &str) -> impl Iterator<Item = String> + '_ {
    text.match_indices("--").filter_map(move |(at, _)| {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '-') {
            return None;
        }
        let name: String = text[at + 2..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        (name.len() > 1).then(|| format!("--{name}"))
    })
}

/// The README's flags are the flag table's: a flag the README names in an `ehlo MODE …`
/// example is one `ehlo MODE --help` lists, and any other `--flag` it names is one of some
/// mode's (or another tool's, listed here), so a renamed or removed flag cannot leave the
/// README describing it. Man pages and completions are generated from the same table
/// (`generated.rs` keeps them equal to it).
#[test]
fn the_readme_names_only_flags_the_flag_table_has() {
    // Other programs' flags the README quotes (cargo, the test harness, curl, the linker…).
    const OTHER_TOOLS: &[&str] = &[
        "--bin",
        "--cacert",
        "--demangle",
        "--ignored",
        // testssl.sh's, named beside check's --connect-to.
        "--ip",
        "--locked",
        "--no-default-features",
        "--no-warn-symbol-ordering",
        "--nocapture",
        "--path",
        "--release",
        "--size-sort",
        "--symbol-ordering-file",
        "--target",
        "--test",
        "--timings",
        // swaks's own, named as the one ehlo does not implement.
        "--trigger-deprecation",
        // The name of a lint's subject, not a flag.
        "--long-flag",
        // A typo the README quotes to show the answer it gets.
        "--max-conections",
    ];
    let readme = include_str!("../../README.md");
    let modes = [
        "", "check", "probe", "repl", "replay", "serve", "demo", "explain",
    ];
    let table: Vec<(&str, std::collections::HashSet<String>)> =
        modes.iter().map(|m| (*m, help_flags(m))).collect();
    let any: std::collections::HashSet<&String> = table.iter().flat_map(|(_, f)| f).collect();
    let mut wrong = Vec::new();
    // `ehlo MODE …` spans: the flags of that mode; `ehlo --…` spans: the send's.
    for span in readme.split('`').skip(1).step_by(2) {
        let Some(rest) = span.strip_prefix("ehlo ") else {
            continue;
        };
        let first = rest.split_whitespace().next().unwrap_or_default();
        let mode = if modes.contains(&first) { first } else { "" };
        if mode.is_empty() && !first.starts_with('-') {
            continue;
        }
        let flags = &table.iter().find(|(m, _)| *m == mode).unwrap().1;
        for flag in flags_in(span) {
            if !flag.ends_with('-')
                && !flags.contains(&flag)
                && !OTHER_TOOLS.contains(&flag.as_str())
            {
                wrong.push(format!("`{span}`: {flag} is no flag of `ehlo {mode}`"));
            }
        }
    }
    for flag in flags_in(readme) {
        let prefix = flag.ends_with('-') || flag.starts_with("--h-");
        let known = any.contains(&flag)
            || OTHER_TOOLS.contains(&flag.as_str())
            || (prefix
                && any
                    .iter()
                    .any(|f| f.starts_with(flag.trim_end_matches('-'))))
            || (flag.starts_with("--h-") && any.contains(&"--header".to_string()))
            // swaks's `--no-<letter>` (`--no-q`): known when the send takes it.
            || flag.strip_prefix("--no-").is_some_and(|l| {
                l.chars().count() == 1
                    && ehlo(&["--no-config", "-t", "a@x.test", &flag, "--dump-config"])
                        .status
                        .success()
            });
        if !known {
            wrong.push(format!("{flag} is no flag of any mode"));
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "README:\n  {}", wrong.join("\n  "));
}

/// The send's help opens with the flags every send is written with: the Envelope group
/// (--to, --from, --helo) is the first after -h/-V, then Transport (--server), where --to
/// used to come after some 360 lines of transport, TLS and AUTH options.
#[test]
fn help_lists_the_envelope_first() {
    for flag in ["-h", "--help"] {
        let out = stdout(&ehlo(&[flag]));
        let headings: Vec<&str> = out
            .lines()
            .filter(|l| l.ends_with(':') && !l.starts_with(' ') && !l.contains(' '))
            .collect();
        let at = |h: &str| headings.iter().position(|x| *x == h);
        let (Some(options), Some(envelope), Some(transport)) =
            (at("Options:"), at("Envelope:"), at("Transport:"))
        else {
            panic!("{flag}: headings {headings:?}");
        };
        assert_eq!(
            (envelope, transport),
            (options + 1, options + 2),
            "{headings:?}"
        );
        let to = out.find("-t, --to").expect("--to");
        let server = out.find("-s, --server").expect("--server");
        assert!(to < server, "{flag}");
    }
}

/// A subcommand run without what it needs (`ehlo explain`, the first thing tried after
/// reading the README) is refused in one line like every other bad input, exit 1, naming what
/// is missing, the usage and where the help is, instead of clap's block of five lines; the
/// send's `--tls-cert` without `--tls-key` too, saying nothing was sent.
#[test]
fn a_missing_argument_is_one_line() {
    for (args, want) in [
        (
            &["explain"][..],
            "*** 'ehlo explain' needs <CODE|TEXT>... (usage: ehlo explain <CODE|TEXT>...; \
             'ehlo explain --help' says more)",
        ),
        (&["check"], "*** 'ehlo check' needs <DOMAIN|@FILE|->..."),
        (&["probe"], "*** 'ehlo probe' needs <HOST[:PORT] | @domain>"),
        (
            &["replay"],
            "*** 'ehlo replay' needs --server <HOST[:PORT]> and <FILE>",
        ),
        (
            &["--tls-cert", "c.pem", "-t", "a@b.test"],
            "*** missing --tls-key <FILE> (usage: ehlo --tls-cert <FILE> --tls-key <FILE>",
        ),
    ] {
        let o = ehlo(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with(want), "{args:?}: {err}");
        assert!(!err.contains("For more information"), "{args:?}: {err}");
    }
}

/// Help and version are the whole result of their run, as `ehlo explain`'s explanation is: on a
/// full disk they exit 10 with the one line `explain` gives, where they exited 0 with nothing
/// said and nothing written; a closed pipe (`ehlo --help | head -1`) stays success.
#[test]
fn help_and_version_that_cannot_be_written_exit_ten_as_explain_does() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["--version"],
        &["check", "--help"],
        &["help", "serve"],
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
        crate::util::isolate(&mut cmd);
        let full = cmd
            .args(args)
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .expect("run ehlo");
        let err = stderr(&full);
        assert_eq!(full.status.code(), Some(10), "{args:?}: {err}");
        assert_eq!(
            err.trim_end(),
            "*** cannot write to stdout: No space left on device (os error 28)",
            "{args:?}"
        );
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
        crate::util::isolate(&mut cmd);
        let mut child = cmd
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run ehlo");
        drop(child.stdout.take());
        let closed = child.wait_with_output().expect("wait");
        assert_eq!(
            closed.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&closed)
        );
        assert_eq!(stderr(&closed), "", "{args:?}");
    }
}

/// A subcommand's help that lists its exit codes lists every one the mode ends with, as the
/// README's table says: `explain` exits 10 when its explanation cannot be written (run here on
/// a full disk), `check` 10 when no DNS resolver can be set up, `replay` 128+N when a signal
/// ends it. The lists used to stop short of these, so a script's author reading `--help` would
/// not know them.
#[test]
fn a_mode_s_exit_code_list_names_every_code_it_ends_with() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    crate::util::isolate(&mut cmd);
    let full = cmd
        .args(["explain", "550"])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .expect("run ehlo");
    assert_eq!(full.status.code(), Some(10), "{}", stderr(&full));
    for (mode, heading, codes) in [
        ("explain", "Exit status:", &["0", "1", "10"][..]),
        ("check", "Exit codes:", &["0", "1", "10", "40", "41"]),
        (
            "replay",
            "Exit status:",
            &["0", "1", "2", "6", "36", "128+N"],
        ),
    ] {
        let help = stdout(&ehlo(&[mode, "--help"]));
        let from = help
            .find(heading)
            .unwrap_or_else(|| panic!("{mode}: {help}"));
        let list = &help[from..];
        let list = unwrapped(&list[..list.find("\n\n").unwrap_or(list.len())]);
        let words: Vec<&str> = list
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '+'))
            .collect();
        for code in codes {
            assert!(words.contains(code), "{mode}: {code} missing from {list}");
        }
    }
}
