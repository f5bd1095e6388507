//! `EHLO_*` variables for every subcommand (src/cli/layers.rs): each mode reads the variables
//! of its own flags below its command line, warns once about a name no mode has, refuses a bad
//! value in one line naming the variable (exit 1), passes over another mode's variables, and
//! never takes the port, server, recipients or login a variable set for sends names.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::util::{Run, Step, ehlo_with_env, free_port, isolate, scripted, tripwire};

fn run(env: &[(&str, &str)], args: &[&str]) -> Run {
    ehlo_with_env(args, env, None, Duration::from_secs(30))
}

/// The `*** …` lines on stderr that name `var`.
fn lines_naming<'a>(r: &'a Run, var: &str) -> Vec<&'a str> {
    r.stderr.lines().filter(|l| l.contains(var)).collect()
}

/// A bad value is one line naming the variable, exit 1, even when the command line gives the
/// flag too (as in the send: a broken layer is a mistake whoever wins).
fn assert_refused(r: &Run, var: &str) {
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(r.stdout, "", "{}", r.all());
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].starts_with(&format!("*** {var}: ")),
        "{}",
        r.stderr
    );
}

/// The one warning a misspelt variable gets, with the one meant.
fn assert_warned_once(r: &Run, typed: &str, meant: &str) {
    assert_eq!(
        lines_naming(r, typed),
        [format!(
            "*** {typed} is ignored: it names no option of any mode (did you mean {meant}?)"
        )],
        "{}",
        r.stderr
    );
}

#[test]
fn check_reads_its_variables_below_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("env.xml"), dir.path().join("argv.xml"));
    // A DNS server that never answers: every lookup times out within --timeout.
    let base = [
        "check",
        "example.test",
        "--dns-server",
        "127.0.0.1:1",
        "--timeout",
        "1s",
    ];
    let env = [
        ("EHLO_JUNIT", a.to_str().unwrap()),
        ("EHLO_JUINT", "typo.xml"),
        // Another mode's variable (the send's) is no mistake here.
        ("EHLO_FROM", "ci@example.test"),
    ];
    let r = run(&env, &base);
    assert_eq!(r.code, 41, "{}", r.all());
    assert!(a.is_file(), "EHLO_JUNIT was not applied: {}", r.all());
    assert_warned_once(&r, "EHLO_JUINT", "EHLO_JUNIT");
    assert!(lines_naming(&r, "EHLO_FROM").is_empty(), "{}", r.stderr);
    std::fs::remove_file(&a).unwrap();

    let mut args = base.to_vec();
    args.extend(["--junit", b.to_str().unwrap()]);
    let r = run(&env, &args);
    assert_eq!(r.code, 41, "{}", r.all());
    assert!(
        b.is_file() && !a.exists(),
        "the command line must win: {}",
        r.all()
    );

    // The brief's case: a bad EHLO_TIMEOUT, with or without --timeout on the command line.
    assert_refused(
        &run(&[("EHLO_TIMEOUT", "abc")], &["check", "example.test"]),
        "EHLO_TIMEOUT",
    );
    assert_refused(&run(&[("EHLO_TIMEOUT", "abc")], &base), "EHLO_TIMEOUT");
    assert_refused(
        &run(&[("EHLO_CONCURRENCY", "0")], &["check", "example.test"]),
        "EHLO_CONCURRENCY",
    );
}

#[test]
fn probe_reads_its_variables_but_never_a_recipient_port_or_login() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("env.xml"), dir.path().join("argv.xml"));
    let target = format!("127.0.0.1:{}", free_port());
    let base = [
        "probe",
        target.as_str(),
        "--to",
        "me@example.test",
        "--yes",
        "--only",
        "enum.vrfy",
    ];
    let env = [
        ("EHLO_JUNIT", a.to_str().unwrap()),
        ("EHLO_TIMEUOT", "5s"),
        // Set for sends: a probe must not log in or start TLS because of them (applied, they
        // would refuse the run: AUTH in plain text, or `--auth` without a mechanism).
        ("EHLO_AUTH_USER", "ci"),
        ("EHLO_AUTH", ""),
        ("EHLO_TLS_ON_CONNECT", ""),
    ];
    let r = run(&env, &base);
    // Connection refused on the free port: inconclusive.
    assert_eq!(r.code, 41, "{}", r.all());
    assert!(a.is_file(), "EHLO_JUNIT was not applied: {}", r.all());
    assert_warned_once(&r, "EHLO_TIMEUOT", "EHLO_TIMEOUT");
    for var in ["EHLO_AUTH_USER", "EHLO_AUTH ", "EHLO_TLS"] {
        assert!(lines_naming(&r, var).is_empty(), "{var}: {}", r.stderr);
    }
    std::fs::remove_file(&a).unwrap();

    let mut args = base.to_vec();
    args.extend(["--junit", b.to_str().unwrap()]);
    let r = run(&env, &args);
    assert_eq!(r.code, 41, "{}", r.all());
    assert!(
        b.is_file() && !a.exists(),
        "the command line must win: {}",
        r.all()
    );

    // EHLO_TO set for sends does not choose whom a probe mails: --to is still required.
    let r = run(
        &[("EHLO_TO", "ci@example.test")],
        &["probe", target.as_str(), "--yes"],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("--to ADDRESS is required"),
        "{}",
        r.stderr
    );

    assert_refused(
        &run(&[("EHLO_FAIL_ON", "sometimes")], &base),
        "EHLO_FAIL_ON",
    );
    assert_refused(&run(&[("EHLO_TIMEOUT", "abc")], &base), "EHLO_TIMEOUT");
}

/// EHLO_SERVER set for sends does not choose the server a replay talks to: `--server` is
/// still required, and nothing connects to the variable's.
#[test]
fn replay_never_takes_the_server_from_a_variable() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.ehlo");
    std::fs::write(&script, "< 220\n> QUIT\n< 221\n").unwrap();
    let wire = tripwire();
    let server = wire.local_addr().unwrap().to_string();
    let r = run(
        &[("EHLO_SERVER", server.as_str()), ("EHLO_KEEP_GONIG", "")],
        &["replay", script.to_str().unwrap()],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("--server"), "{}", r.stderr);
    assert!(wire.accept().is_err(), "replay connected to EHLO_SERVER");
    assert_warned_once(&r, "EHLO_KEEP_GONIG", "EHLO_KEEP_GOING");
}

#[test]
fn repl_reads_its_variables_below_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("env.log"), dir.path().join("argv.log"));
    let env = [
        ("EHLO_LOG", a.to_str().unwrap()),
        ("EHLO_SHWO_SECRETS", ""),
        // Set for sends: a piped repl must not add EHLO or STARTTLS steps because of them.
        ("EHLO_HELO", "ci.example.test"),
        ("EHLO_TLS", ""),
    ];
    // No target: nothing is connected to; the log still gets its schema and summary.
    let r = run(&env, &["repl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let log = std::fs::read_to_string(&a).expect("EHLO_LOG was not applied");
    assert!(log.contains(r#""type":"summary""#), "{log}");
    assert_warned_once(&r, "EHLO_SHWO_SECRETS", "EHLO_SHOW_SECRETS");
    for var in ["EHLO_HELO", "EHLO_TLS"] {
        assert!(lines_naming(&r, var).is_empty(), "{var}: {}", r.stderr);
    }
    std::fs::remove_file(&a).unwrap();

    let r = run(&env, &["repl", "--log", b.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        b.is_file() && !a.exists(),
        "the command line must win: {}",
        r.all()
    );

    assert_refused(&run(&[("EHLO_TIMEOUT", "abc")], &["repl"]), "EHLO_TIMEOUT");
    assert_refused(&run(&[("EHLO_EXPLAIN", "most")], &["repl"]), "EHLO_EXPLAIN");
    // A flag without a value set to one.
    assert_refused(&run(&[("EHLO_STRICT", "yes")], &["repl"]), "EHLO_STRICT");
    // With --json (or EHLO_JSON), as the send: the JSON Lines' schema and summary too.
    for (env, args) in [
        (vec![("EHLO_TIMEOUT", "abc")], vec!["repl", "--json"]),
        (
            vec![("EHLO_TIMEOUT", "abc"), ("EHLO_JSON", "")],
            vec!["repl"],
        ),
    ] {
        let r = run(&env, &args);
        assert_eq!(r.code, 1, "{}", r.all());
        let kinds: Vec<String> = r
            .stdout
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["type"].as_str().unwrap_or_default().to_string()
            })
            .collect();
        assert_eq!(kinds, ["schema", "summary"], "{}", r.all());
        assert_eq!(lines_naming(&r, "EHLO_TIMEOUT").len(), 1, "{}", r.stderr);
    }
}

/// `ehlo serve` with `env`, until it says where it listens: that line, then killed.
fn serve_listening(env: &[(&str, &str)], extra: &[&str]) -> (String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.envs(env.iter().copied());
    isolate(&mut cmd);
    cmd.args(["serve", "--color", "never"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn ehlo serve");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains("listening on ") {
                let _ = tx.send(line);
                break;
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(15));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (
        line.unwrap_or_else(|_| panic!("serve never listened: {stderr}")),
        stderr,
    )
}

#[test]
fn serve_reads_its_variables_below_the_command_line() {
    let env = [
        ("EHLO_LISTEN", "127.0.0.1:0"),
        ("EHLO_SEED", "42"),
        ("EHLO_SEDE", "7"),
        ("EHLO_USER", "alice:Pa55-env-secret"),
        // The send's client certificate is not serve's server certificate.
        ("EHLO_TLS_CERT", "/nonexistent/client.pem"),
    ];
    let (line, stderr) = serve_listening(&env, &[]);
    assert!(
        line.contains("127.0.0.1:") && !line.contains(":2525"),
        "{line}"
    );
    assert!(line.contains("seed 42 "), "{line}");
    assert!(line.contains("AUTH for 1 user,"), "{line}");
    assert!(!line.contains("Pa55-env-secret"), "{line}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("EHLO_SEDE"))
            .collect::<Vec<_>>(),
        ["*** EHLO_SEDE is ignored: it names no option of any mode (did you mean EHLO_SEED?)"],
        "{stderr}"
    );
    assert!(!stderr.contains("EHLO_TLS_CERT"), "{stderr}");

    let (line, _) = serve_listening(&env, &["--seed", "7"]);
    assert!(
        line.contains("seed 7 "),
        "the command line must win: {line}"
    );

    let serve = ["serve", "--listen", "127.0.0.1:0"];
    assert_refused(&run(&[("EHLO_MAX_SIZE", "huge")], &serve), "EHLO_MAX_SIZE");
    assert_refused(&run(&[("EHLO_SEED", "-1")], &serve), "EHLO_SEED");
    // A password-taking flag: refused without its value.
    let r = run(&[("EHLO_USER", "alice-Pa55-env-secret")], &serve);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(!r.all().contains("Pa55"), "{}", r.all());
}

/// One environment serves every mode: a variable of another mode's flag is passed over without
/// a word (`--dump-config` of a send lists it), while a name no mode has is warned about once.
#[test]
fn another_modes_variable_is_no_mistake() {
    let env = [
        ("EHLO_FAIL_ON", "warn"),
        ("EHLO_RELAY_TO", "x@example.net"),
        ("EHLO_LISTEN", "127.0.0.1:0"),
        // The interop tests' own knobs are no options of any mode.
        ("EHLO_INTEROP_UNBOUND_PORT", "5391"),
    ];
    let r = run(&env, &["-t", "a@example.test", "--dump-mail"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stderr, "", "{}", r.all());
    let r = run(&env, &["-t", "a@example.test", "--dump-config"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains(
            "# not read by the send: EHLO_FAIL_ON (an option of ehlo check and ehlo probe)\n"
        ),
        "{}",
        r.stdout
    );
    let r = run(&env, &["explain", "550"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.all());
    // The send's own warning names the union's nearest too.
    let r = run(
        &[("EHLO_DEADLNE", "1m")],
        &["-t", "a@example.test", "--dump-mail"],
    );
    assert_warned_once(&r, "EHLO_DEADLNE", "EHLO_DEADLINE");
}

/// Help asked for by a variable stays the command line's, in a subcommand as in the send.
#[test]
fn help_from_a_variable_is_ignored_with_the_reason() {
    let r = run(&[("EHLO_HELP", "")], &["explain", "550"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        lines_naming(&r, "EHLO_HELP"),
        ["*** EHLO_HELP is ignored: --help is taken on the command line only"],
        "{}",
        r.stderr
    );
}

/// `SSL_CERT_FILE` naming no file used to be passed over in silence, the trust store then
/// being whatever else was found: the send, `repl` and `check` say so once, naming the variable
/// and the path — and say nothing when `--tls-ca-path` replaces the system store.
#[test]
fn ssl_cert_file_naming_no_file_is_said_once() {
    let missing = "/nonexistent/ehlo-test/ca.pem";
    let env = [("SSL_CERT_FILE", missing)];
    let port = free_port().to_string();
    let server = format!("127.0.0.1:{port}");
    let expected = format!(
        "SSL_CERT_FILE is ignored: {missing} does not exist (the system store is used without it)"
    );
    let send = run(&env, &["--server", &server, "--to", "a@b.test", "--tls"]);
    let lines: Vec<String> = send
        .all()
        .lines()
        .filter(|l| l.contains("SSL_CERT_FILE"))
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 1, "{}", send.all());
    assert!(lines[0].ends_with(&expected), "{}", send.all());
    let repl = ehlo_with_env(&["repl"], &env, Some(b":quit\n"), Duration::from_secs(30));
    assert_eq!(
        lines_naming(&repl, "SSL_CERT_FILE"),
        [format!("*** {expected}")],
        "{}",
        repl.all()
    );
    let check = run(
        &env,
        &[
            "check",
            "localhost",
            "-4",
            "--allow-private",
            "--port",
            &port,
            "--only",
            "tls.starttls",
        ],
    );
    assert_eq!(
        lines_naming(&check, "SSL_CERT_FILE"),
        [format!("*** {expected}")],
        "{}",
        check.all()
    );
    // --tls-ca-path replaces the system store: the variable plays no part, nothing to say.
    let ca = tempfile::NamedTempFile::new().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(ca.path(), cert.cert.pem()).unwrap();
    let ca_path = ca.path().display().to_string();
    let with_ca = run(
        &env,
        &[
            "check",
            "localhost",
            "-4",
            "--allow-private",
            "--port",
            &port,
            "--only",
            "tls.starttls",
            "--tls-ca-path",
            &ca_path,
        ],
    );
    assert!(
        lines_naming(&with_ca, "SSL_CERT_FILE").is_empty(),
        "{}",
        with_ca.all()
    );
}

/// The one `*** …` line of a refusal (exit 1, nothing on stdout).
fn refusal(r: &Run) -> &str {
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(r.stdout, "", "{}", r.all());
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    lines[0]
}

/// A refusal that a variable alone causes names the variable, in every mode: clap's line named
/// the flag missing (`--tls-key`, `--accept-proxy`) or the flag refused, and a CI job whose
/// environment set the other flag could not tell where it came from. Exit codes are unchanged;
/// the same flags on the command line read as before (`help::a_missing_argument_is_one_line`).
#[test]
fn a_refusal_a_variable_causes_names_the_variable() {
    // The send: a certificate without its key; the key may come from its variable too.
    let r = run(&[("EHLO_TLS_CERT", "c.pem")], &["-t", "a@b.test"]);
    let line = refusal(&r);
    assert!(
        line.starts_with(
            "*** --tls-cert (set by EHLO_TLS_CERT in the environment) needs --tls-key <FILE> \
             or EHLO_TLS_KEY (usage: "
        ) && line.ends_with("; nothing was sent"),
        "{line}"
    );
    // Two variables that each need the key: both named.
    let r = run(
        &[("EHLO_TLS_CERT", "c.pem"), ("EHLO_TLS_CHAIN", "ch.pem")],
        &["-t", "a@b.test"],
    );
    let line = refusal(&r);
    assert!(
        line.contains("EHLO_TLS_CERT in the environment")
            && line.contains("EHLO_TLS_CHAIN in the environment"),
        "{line}"
    );
    // serve: the PROXY header's time without the PROXY header.
    let port = free_port().to_string();
    let listen = format!("127.0.0.1:{port}");
    let r = run(
        &[("EHLO_PROXY_TIMEOUT", "3s")],
        &["serve", "--listen", &listen],
    );
    let line = refusal(&r);
    assert!(
        line.starts_with(
            "*** --proxy-timeout (set by EHLO_PROXY_TIMEOUT in the environment) needs \
             --accept-proxy or EHLO_ACCEPT_PROXY (in 'ehlo serve'; usage: "
        ),
        "{line}"
    );
    // A refusal of the validated flags: the flag it names says where it was set, the one the
    // command line gave is left alone.
    let r = run(
        &[("EHLO_DNS_TRUST_ANCHOR", "anchors.txt")],
        &["check", "example.test", "--dnssec", "off"],
    );
    assert_eq!(
        refusal(&r),
        "*** --dns-trust-anchor (set by EHLO_DNS_TRUST_ANCHOR in the environment): the anchors \
         are only used with --dnssec validate",
        "{}",
        r.all()
    );
    let r = run(
        &[("EHLO_DSN_ENVID", "caf\u{e9}")],
        &["-t", "a@b.test", "-s", "127.0.0.1:1"],
    );
    let line = refusal(&r);
    assert!(
        line.starts_with("*** --dsn-envid (set by EHLO_DSN_ENVID in the environment): "),
        "{line}"
    );
    // The same refusal from the command line names no variable.
    let r = run(
        &[],
        &[
            "check",
            "example.test",
            "--dnssec",
            "off",
            "--dns-trust-anchor",
            "anchors.txt",
        ],
    );
    assert_eq!(
        refusal(&r),
        "*** --dns-trust-anchor: the anchors are only used with --dnssec validate",
        "{}",
        r.all()
    );
}

/// `ehlo serve`'s refusals of options that contradict each other name the variable that set
/// one, as the parse-time refusals do: they were raised once the server started (its `bind`),
/// past the point where the sources are known, and read "*** --require-tls needs TLS on offer:
/// …" for an `EHLO_REQUIRE_TLS` the command line never had. Names and places only: the value
/// of `EHLO_FAIL` is not repeated. The same flags on the command line name no variable.
#[test]
fn a_refusal_of_serve_s_options_names_the_variable_that_set_one() {
    let listen = format!("127.0.0.1:{}", free_port());
    let r = run(&[("EHLO_REQUIRE_TLS", "")], &["serve", "--listen", &listen]);
    assert_eq!(
        refusal(&r),
        "*** --require-tls (set by EHLO_REQUIRE_TLS in the environment) needs TLS on offer: \
         --starttls (not hidden) or --tls-on-connect",
        "{}",
        r.all()
    );
    let r = run(
        &[("EHLO_REQUIRE_AUTH", "")],
        &[
            "serve", "--listen", &listen, "--user", "a:b", "--hide", "AUTH",
        ],
    );
    assert_eq!(
        refusal(&r),
        "*** --require-auth (set by EHLO_REQUIRE_AUTH in the environment) needs AUTH on offer: \
         --user or --accept-any-auth (and no --hide AUTH)",
        "{}",
        r.all()
    );
    let r = run(
        &[("EHLO_FAIL", "lmtp-rcpt=452")],
        &["serve", "--listen", &listen],
    );
    let line = refusal(&r);
    assert!(
        line.starts_with(
            "*** --fail/--delay (--fail set by EHLO_FAIL in the environment) lmtp-rcpt needs \
             --lmtp"
        ) && !line.contains("452"),
        "{line}"
    );
    // From the command line: as before.
    let r = run(&[], &["serve", "--listen", &listen, "--require-tls"]);
    assert_eq!(
        refusal(&r),
        "*** --require-tls needs TLS on offer: --starttls (not hidden) or --tls-on-connect",
        "{}",
        r.all()
    );
}

/// A refusal raised once the run has started names the variable that set the flag it names, as
/// the refusals of the parsed flags do: `--local-interface` (the link-local address with no
/// zone, the family the server's other addresses need) and the REPL's `--strict` read as if
/// the command line had them. The same flags on the command line read as before.
#[test]
fn a_run_time_refusal_names_the_variable_that_set_its_flag() {
    // A link-local address without its zone, to a server with none: no link to bind on.
    let server = format!("[::1]:{}", free_port());
    let r = run(
        &[("EHLO_LOCAL_INTERFACE", "fe80::25")],
        &["--server", &server, "-t", "a@b.test"],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.all().contains(
            "--local-interface (set by EHLO_LOCAL_INTERFACE in the environment) fe80::25 is a \
             link-local address: name its interface as its zone"
        ),
        "{}",
        r.all()
    );
    let r = run(
        &[],
        &["--server", &server, "-t", "a@b.test", "--li", "fe80::25"],
    );
    assert!(
        r.all()
            .contains("--local-interface fe80::25 is a link-local address"),
        "{}",
        r.all()
    );
    // An IPv4 local address and a server name with an IPv6 address too: that one is not tried.
    // Said before connecting: a port nothing listens on refuses at once (a listener that never
    // accepted held the run for the whole --timeout).
    let server = format!("localhost:{}", free_port());
    let r = run(
        &[("EHLO_LOCAL_INTERFACE", "127.0.0.1")],
        &["--server", &server, "-t", "a@b.test", "--timeout", "5"],
    );
    assert!(
        r.all().contains(
            "--local-interface (set by EHLO_LOCAL_INTERFACE in the environment) 127.0.0.1 has \
             no IPv6 address (only IPv4): ::1 of localhost not tried"
        ),
        "{}",
        r.all()
    );
    // The REPL's --record from EHLO_RECORD naming a file that exists: refused before anything
    // connects, saying where the flag was set.
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("kept.ehlo");
    std::fs::write(&kept, "kept\n").unwrap();
    let r = run(&[("EHLO_RECORD", kept.to_str().unwrap())], &["repl"]);
    assert_eq!(
        refusal(&r),
        format!(
            "*** --record (set by EHLO_RECORD in the environment): {} exists: remove it first, \
             or type :record! FILE in the session to replace it",
            kept.display()
        ),
        "{}",
        r.all()
    );
    let r = run(&[], &["repl", "--record", kept.to_str().unwrap()]);
    assert!(
        refusal(&r).starts_with(&format!("*** --record: {} exists", kept.display())),
        "{}",
        r.all()
    );
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "kept\n");
    // replay's --deadline from EHLO_DEADLINE, cutting the reading of a script FIFO nobody
    // writes: refused before anything connects.
    let fifo = dir.path().join("script.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let wire = tripwire();
    let server = wire.local_addr().unwrap().to_string();
    let replay = [
        "replay",
        fifo.to_str().unwrap(),
        "--server",
        &server,
        "--timeout",
        "30",
    ];
    let r = run(&[("EHLO_DEADLINE", "1s")], &replay);
    assert!(
        refusal(&r).contains(
            ": --deadline (set by EHLO_DEADLINE in the environment) 1s reached: nothing came \
             from this FIFO: "
        ),
        "{}",
        r.all()
    );
    let r = run(&[], &[&replay[..], &["--deadline", "1s"]].concat());
    assert!(
        refusal(&r).contains(": --deadline 1s reached: nothing came from this FIFO: "),
        "{}",
        r.all()
    );
    assert!(
        wire.accept().is_err(),
        "replay connected before reading its script"
    );
    // The REPL's --strict from EHLO_STRICT: the refusal that ends the session says so.
    let strict = |env: &[(&str, &str)], extra: &[&str]| {
        let server = scripted(vec![
            Step::Send(b"220 scripted.test ESMTP\r\n"),
            Step::Expect("EHLO x.test"),
            Step::Send(b"250 scripted.test\r\n"),
            Step::Expect("MAIL FROM:<a@b.test>"),
            Step::Send(b"550 5.7.1 no\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]);
        let mut args = vec!["repl".to_string(), server.server()];
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = ehlo_with_env(
            &args,
            env,
            Some(b"EHLO x.test\nMAIL FROM:<a@b.test>\nNOOP\n"),
            Duration::from_secs(30),
        );
        server.finish();
        r
    };
    let r = strict(&[("EHLO_STRICT", "")], &[]);
    assert_ne!(r.code, 0, "{}", r.all());
    assert!(
        r.all().contains(
            "--strict (set by EHLO_STRICT in the environment): 550 5.7.1 no: ending the session"
        ),
        "{}",
        r.all()
    );
    let r = strict(&[], &["--strict"]);
    assert!(
        r.all()
            .contains("--strict: 550 5.7.1 no: ending the session"),
        "{}",
        r.all()
    );
}

/// A FIFO script nobody writes, given up after `--timeout`: the refusal names where the timeout
/// was set, inside the brackets that name the flag, for `ehlo replay FIFO` and the REPL's
/// `:replay FIFO` alike (`:set timeout` when that changed it). It said a bare `(--timeout)`
/// when EHLO_TIMEOUT had set it. From the command line it reads as before.
#[test]
fn a_script_fifo_given_up_after_the_timeout_names_where_the_timeout_was_set() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("script.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let fifo = fifo.to_str().unwrap();
    let wire = tripwire();
    let server = wire.local_addr().unwrap().to_string();
    let replay = ["replay", fifo, "--server", &server, "--deadline", "0"];
    let r = run(&[("EHLO_TIMEOUT", "1")], &replay);
    assert!(
        refusal(&r).contains(
            ": nothing came from this FIFO within 1s (--timeout, set by EHLO_TIMEOUT in the \
             environment): does anything write it?"
        ),
        "{}",
        r.all()
    );
    let r = run(&[], &[&replay[..], &["--timeout", "1"]].concat());
    assert!(
        refusal(&r).contains(": nothing came from this FIFO within 1s (--timeout): "),
        "{}",
        r.all()
    );
    wire.set_nonblocking(true).unwrap();
    assert!(wire.accept().is_err(), "replay connected");
    // The REPL's `:replay`, not connected: its timeout from the environment, then from `:set`.
    let repl = |env: &[(&str, &str)], input: String| {
        ehlo_with_env(
            &["repl"],
            env,
            Some(input.as_bytes()),
            Duration::from_secs(30),
        )
    };
    let r = repl(&[("EHLO_TIMEOUT", "1")], format!(":replay {fifo}\n"));
    assert!(
        r.all().contains(
            "nothing came from this FIFO within 1s (--timeout, set by EHLO_TIMEOUT in the \
             environment): "
        ),
        "{}",
        r.all()
    );
    let r = repl(
        &[("EHLO_TIMEOUT", "30")],
        format!(":set timeout 1\n:replay {fifo}\n"),
    );
    assert!(
        r.all()
            .contains("nothing came from this FIFO within 1s (:set timeout): "),
        "{}",
        r.all()
    );
    let r = ehlo_with_env(
        &["repl", "--timeout", "1"],
        &[],
        Some(format!(":replay {fifo}\n").as_bytes()),
        Duration::from_secs(30),
    );
    assert!(
        r.all()
            .contains("nothing came from this FIFO within 1s (--timeout): "),
        "{}",
        r.all()
    );
}

/// `ehlo check` and `ehlo probe` cut by a `--deadline` that EHLO_DEADLINE set say so in their
/// stop reason (the summary's `stopped`, each unfinished check's text): it read a bare
/// `deadline reached (--deadline)`, as if the command line had given it.
#[test]
fn a_run_the_deadline_cut_names_where_the_deadline_was_set() {
    // A DNS server that never answers: the lookup waits until the deadline.
    let dns = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = dns.local_addr().unwrap().to_string();
    let check = [
        "check",
        "a.example.test",
        "--only",
        "mx.lookup",
        "--dns-server",
        &dns,
        "--json",
    ];
    let stopped = |r: &Run| -> serde_json::Value {
        assert_eq!(r.code, 41, "{}", r.all());
        let last = r.stdout.lines().last().unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(last).unwrap()["stopped"].clone()
    };
    let r = run(&[("EHLO_DEADLINE", "1s")], &check);
    assert_eq!(
        stopped(&r),
        "deadline reached (--deadline, set by EHLO_DEADLINE in the environment)",
        "{}",
        r.all()
    );
    let r = run(&[], &[&check[..], &["--deadline", "1s"]].concat());
    assert_eq!(stopped(&r), "deadline reached (--deadline)", "{}", r.all());
    // A server that never greets: the probe under way is cut.
    let wire = tripwire();
    let server = wire.local_addr().unwrap().to_string();
    let probe = [
        "probe",
        &server,
        "--to",
        "alice@mx.test",
        "--yes",
        "--timeout",
        "30",
        "--json",
    ];
    let r = run(&[("EHLO_DEADLINE", "1s")], &probe);
    assert_eq!(
        stopped(&r),
        "deadline reached (--deadline, set by EHLO_DEADLINE in the environment)",
        "{}",
        r.all()
    );
}
