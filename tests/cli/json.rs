//! `--json`: every line is a JSON object with a type; the first is the schema line and the last
//! the summary, which deserialises strictly into the documented shape.

use serde::Deserialize;

use crate::util::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Recipient {
    address: String,
    status: String,
    code: Option<u16>,
    enhanced: Option<String>,
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Timing {
    phase: String,
    ms: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Summary {
    exit_code: u8,
    outcome: String,
    error: Option<String>,
    server: Option<String>,
    tls: Option<String>,
    recipients: Vec<Recipient>,
    message_accepted: Option<bool>,
    timings: Vec<Timing>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Line {
    #[serde(rename = "type")]
    kind: String,
    data: serde_json::Value,
    t_ms: Option<f64>,
}

/// A refused run of the send's modes under `--json`: exactly a `schema` and a `summary` line;
/// the summary.
fn refusal_summary(args: &impl std::fmt::Debug, run: &Run) -> Summary {
    let lines: Vec<Line> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{args:?}: {e}: {l}")))
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l.kind.as_str()).collect();
    assert_eq!(kinds, ["schema", "summary"], "{args:?}: {}", run.all());
    serde_json::from_value(lines[1].data.clone()).unwrap()
}

/// A refused `check` or `probe` under `--json`: exactly its report's `schema` (of `mode`),
/// `error` and `summary` (exit 1) lines.
fn report_refusal(args: &impl std::fmt::Debug, run: &Run, mode: &str) -> Vec<serde_json::Value> {
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{args:?}: {e}: {l}")))
        .collect();
    let kinds: Vec<&str> = lines.iter().filter_map(|v| v["type"].as_str()).collect();
    assert_eq!(
        kinds,
        ["schema", "error", "summary"],
        "{args:?}: {}",
        run.all()
    );
    assert_eq!(lines[0]["mode"], mode, "{args:?}");
    assert_eq!(lines[2]["exit_code"], 1, "{args:?}");
    lines
}

#[test]
fn json_lines_parse_and_end_in_a_strict_summary() {
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL"),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Expect("RCPT"),
        Step::Send(b"550 5.1.1 unknown\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    let run = send(&srv, &["--json"]);
    let srv_addr = srv.server();
    srv.finish();
    assert_eq!(run.code, 24, "{}", run.all());
    let lines: Vec<Line> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.first().unwrap().kind, "schema");
    let last = lines.last().unwrap();
    assert_eq!(last.kind, "summary");
    let summary: Summary = serde_json::from_value(last.data.clone()).unwrap();
    assert_eq!(summary.exit_code, 24);
    // The server as the specification describes it: the name, then the address in brackets.
    assert_eq!(
        summary.server.as_deref(),
        Some(format!("127.0.0.1 [{}]", srv_addr).as_str())
    );
    assert_eq!(summary.recipients.len(), 1);
    assert_eq!(summary.recipients[0].status, "perm_failed");
    assert_eq!(summary.recipients[0].enhanced.as_deref(), Some("5.1.1"));
    let received: Vec<&Line> = lines.iter().filter(|l| l.kind == "received").collect();
    assert!(received.len() >= 4);
    let rcpt = received
        .iter()
        .find(|l| l.data["reply"]["code"] == 550)
        .expect("the 550 is reported");
    assert_eq!(rcpt.data["reply"]["enhanced"], "5.1.1");
    assert_eq!(rcpt.data["phase"], "rcpt");
    assert!(rcpt.data["explanation"]["enhanced"]["title"].is_string());
    assert!(lines.iter().any(|l| l.kind == "sent"));
    assert!(lines.iter().any(|l| l.kind == "connected"));
}

/// The `server` of the summary examples in the specification (`src/render/json.rs`) and the
/// README has the form a run gives it (name, a space, `[ip:port]`), not `host:port`.
#[test]
fn the_documented_summary_server_has_the_real_form() {
    let spec = include_str!("../../src/render/json.rs");
    let readme = include_str!("../../README.md");
    let examples: Vec<&str> = spec
        .lines()
        .filter_map(|l| l.strip_prefix("//! "))
        .chain(readme.lines())
        .filter(|l| l.starts_with(r#"{"type":"summary""#))
        .collect();
    assert_eq!(examples.len(), 2, "one example in each: {examples:?}");
    for example in examples {
        let line: Line = serde_json::from_str(example).unwrap_or_else(|e| panic!("{e}: {example}"));
        let summary: Summary = serde_json::from_value(line.data).unwrap();
        let server = summary.server.expect("the example names its server");
        let (name, addr) = server
            .split_once(" [")
            .unwrap_or_else(|| panic!("not \"name [ip:port]\": {server}"));
        assert!(!name.is_empty() && !name.contains(' '), "{server}");
        let addr = addr.strip_suffix(']').expect(&server);
        addr.parse::<std::net::SocketAddr>()
            .unwrap_or_else(|e| panic!("{e}: {server}"));
    }
}

/// An IPv6 server is named `::1 [::1]:PORT` (its address and port as written for IPv6, in the
/// IPv4 form's place), not `::1 [[::1]:PORT]` with its brackets doubled as before; an IPv4 one
/// stays `127.0.0.1 [127.0.0.1:PORT]`.
#[test]
fn an_ipv6_server_is_named_without_doubled_brackets() {
    for ip in ["::1", "127.0.0.1"] {
        let at: std::net::SocketAddr = (ip.parse::<std::net::IpAddr>().unwrap(), 0).into();
        let srv = scripted_at(at, after_greet(accept_all()));
        let addr = srv.addr;
        let run = send(&srv, &["--json"]);
        srv.finish();
        let last = run.stdout.lines().last().unwrap_or_default();
        let line: Line = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
        let summary: Summary = serde_json::from_value(line.data).unwrap();
        let want = if ip == "::1" {
            format!("::1 [::1]:{}", addr.port())
        } else {
            format!("127.0.0.1 [127.0.0.1:{}]", addr.port())
        };
        assert_eq!(
            summary.server.as_deref(),
            Some(want.as_str()),
            "{}",
            run.all()
        );
    }
}

/// A certificate that fails verification is a completed handshake: `tls_started` with
/// `verify.ok` false and `enforced` true, then the summary's `tls` (exit 29), never
/// `tls_failed` (a handshake that failed). The README's JSON section says which event a
/// consumer gets and what to read; it used to name `tls_failed` and the verdict without
/// saying which one a refused certificate gives.
#[test]
fn a_refused_certificate_is_tls_started_with_verify_not_ok_as_documented() {
    let srv = scripted(vec![Step::Tls]);
    let run = send(&srv, &["--tls-on-connect", "--json"]);
    drop(srv);
    assert_eq!(run.code, 29, "{}", run.all());
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        !lines.iter().any(|l| l["type"] == "tls_failed"),
        "{}",
        run.stdout
    );
    let started = lines
        .iter()
        .find(|l| l["type"] == "tls_started")
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let verify = &started["data"]["info"]["verify"];
    assert_eq!(verify["ok"], false, "{verify}");
    assert_eq!(verify["enforced"], true, "{verify}");
    let summary = &lines.last().unwrap()["data"];
    assert_eq!(summary["outcome"], "tls", "{summary}");
    let readme: String = include_str!("../../README.md")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for said in [
        "a certificate that fails verification is not `tls_failed`",
        "`tls_started` with `info.verify.ok` false",
        "summary `outcome` `tls`, exit 29",
    ] {
        assert!(readme.contains(said), "the README does not say: {said}");
    }
}

/// A mistake found once the flags are parsed, before any connection, still gives a JSON run its
/// `schema` line first and a `summary` last (exit code, outcome, the reason), with the one-line
/// reason on stderr too (a command line whose flags cannot be parsed: the next test).
#[test]
fn a_refused_run_still_writes_schema_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let bad_conf = dir.path().join("bad.conf");
    std::fs::write(&bad_conf, "bogus-option x\n").unwrap();
    let data_conf = dir.path().join("data.conf");
    std::fs::write(&data_conf, "data @/nonexistent/message.eml\n").unwrap();
    let (bad_conf, data_conf) = (bad_conf.to_str().unwrap(), data_conf.to_str().unwrap());
    let log = format!("{d}/no/such/dir/log.jsonl");
    let attach_dir = format!("@{d}");
    let send = ["-s", "127.0.0.1:9", "-t", "a@b.test", "--json"];
    let cases: Vec<(Vec<&str>, u8, &str, &str)> = vec![
        (
            vec!["--data", "@/nonexistent/x.eml"],
            1,
            "usage",
            "--data: cannot read",
        ),
        (
            vec!["--attach", &attach_dir],
            1,
            "usage",
            "--attach: cannot read",
        ),
        (vec!["--requiretls"], 1, "usage", "REQUIRETLS needs TLS"),
        (
            vec!["--protocol", "ESMTPSA", "--au", "me"],
            1,
            "usage",
            "no password",
        ),
        (
            vec!["--config", "/nonexistent/c"],
            1,
            "usage",
            "cannot read config file",
        ),
        (
            vec!["--config", bad_conf],
            1,
            "usage",
            "unknown option 'bogus-option'",
        ),
        (
            vec!["--config", data_conf],
            1,
            "usage",
            "--data (set by line 1 of ",
        ),
        (vec!["--output-file", &log], 1, "usage", "cannot write"),
        // The dumps send nothing but read the message all the same: `--dump` wrote nothing on
        // stdout for a mistake `--dump-mail` reported in JSON.
        (
            vec!["--dump", "DATA", "--data", "@/nonexistent/x.eml"],
            1,
            "usage",
            "--data: cannot read",
        ),
        (
            vec!["--dump-mail", "--data", "@/nonexistent/x.eml"],
            1,
            "usage",
            "--data: cannot read",
        ),
        (
            vec!["--proxy-version", "3"],
            35,
            "proxy",
            "--proxy-version: '3'",
        ),
    ];
    let sub: Vec<(Vec<&str>, u8, &str, &str)> = vec![
        (
            vec!["repl", "--json", "--log", &log, "127.0.0.1:9"],
            1,
            "usage",
            "cannot write the log",
        ),
        (
            vec![
                "replay",
                "/nonexistent/script",
                "-s",
                "127.0.0.1:9",
                "--json",
            ],
            1,
            "usage",
            "cannot read /nonexistent/script",
        ),
    ];
    let runs = cases
        .into_iter()
        .map(|(extra, code, outcome, why)| {
            let mut args = send.to_vec();
            args.extend(extra);
            (args, code, outcome, why)
        })
        .chain(sub);
    for (args, code, outcome, why) in runs {
        let run = ehlo_with_env(
            &args,
            &[("HOME", d)],
            None,
            std::time::Duration::from_secs(30),
        );
        assert_eq!(run.code, i32::from(code), "{args:?}: {}", run.all());
        let summary = refusal_summary(&args, &run);
        assert_eq!(summary.exit_code, code, "{args:?}");
        assert_eq!(summary.outcome, outcome, "{args:?}");
        let error = summary.error.unwrap_or_default();
        assert!(error.contains(why), "{args:?}: {error}");
        assert!(summary.server.is_none() && summary.recipients.is_empty());
        // The reason on stderr too, once, as without --json.
        assert_eq!(run.stderr, format!("*** {error}\n"), "{args:?}");
    }
    // Without --json, nothing on stdout.
    let run = ehlo(&["-s", "127.0.0.1:9", "-t", "a@b.test", "--requiretls"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

/// A command line whose flags cannot be parsed (an unknown flag, a bad, missing or ambiguous
/// value, two flags that conflict, a stray word) under `--json` ends its JSON Lines as every
/// other usage error does: the send's modes with `schema` and a `summary` (`exit_code` 1,
/// `outcome` `usage`, `error` the one line on stderr), `check`/`probe` with their report's
/// `schema`, `error` and `summary`. They wrote nothing on stdout: a CI job reading the last
/// line for `exit_code` found none. `--no-json` after it, a `--json` after `--` and
/// `--version` still write none (`ehlo explain --json` writes its one object saying why:
/// explain::json_says_why_it_has_no_explanation_on_stdout).
#[test]
fn a_command_line_refused_by_its_flags_still_ends_its_json() {
    let send: &[&str] = &["-s", "127.0.0.1:9", "-t", "a@b.test", "--json"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v: Vec<&str> = send.to_vec();
        v.extend(extra);
        v
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (with(&["--bogus"]), "unknown option '--bogus'"),
        (with(&["--timeout", "soon"]), "'soon' is not a duration"),
        (with(&["--silent", "7"]), "--silent"),
        (with(&["--timeout"]), "--timeout needs a value"),
        (with(&["--tls", "--tls-on-connect"]), "cannot be used with"),
        (with(&["-x"]), "ambiguous"),
        (with(&["--help=3"]), "'--help'"),
        (vec!["repl", "--json", "--bogus", "127.0.0.1:9"], "--bogus"),
        (vec!["replay", "--json", "/nonexistent/script"], "--server"),
        (vec!["serve", "--json", "--listen"], "--listen"),
        (vec!["demo", "--json", "--bogus"], "--bogus"),
    ];
    for (args, why) in &cases {
        let run = ehlo(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        let summary = refusal_summary(&args, &run);
        assert_eq!((summary.exit_code, summary.outcome.as_str()), (1, "usage"));
        let error = summary.error.unwrap_or_default();
        assert!(error.contains(why), "{args:?}: {error}");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(&error), "{args:?}: {}", run.stderr);
    }
    for (args, mode) in [
        (&["check", "--json", "--bogus", "x.test"][..], "check"),
        (&["probe", "--json", "--bogus", "127.0.0.1:9"][..], "probe"),
    ] {
        let run = ehlo(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        report_refusal(&args, &run, mode);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
    }
    for args in [
        with(&["--no-json", "--bogus"]),
        vec!["-s", "127.0.0.1:9", "--bogus", "--", "--json"],
        vec!["--json", "--version"],
    ] {
        let run = ehlo(&args);
        assert_eq!(
            run.stdout.lines().filter(|l| l.starts_with('{')).count(),
            0,
            "{args:?}"
        );
    }
}

/// `ehlo check --json` and `ehlo probe --json` refused once the flags are parsed (an
/// unreadable `@FILE`, a bad `--expect`, a bad `EHLO_*` variable, a missing `--tls-ca-path`)
/// still write their report's `schema` first and a `summary` last whose `exit_code` is the
/// process's, with the reason in an `error` line, in `stopped` and once on stderr. They used to
/// write nothing on stdout, where the send writes its `schema` and `summary`.
#[test]
fn a_refused_check_or_probe_still_writes_schema_and_summary() {
    // (arguments, environment, mode, words of the reason)
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 5] = [
        (
            &["check", "@/nonexistent/list", "--json"],
            &[],
            "check",
            "cannot read",
        ),
        (
            &["check", "example.test", "--json", "--expect", "bogus"],
            &[],
            "check",
            "--expect 'bogus'",
        ),
        (
            &["check", "example.test", "--json"],
            &[("EHLO_TIMEOUT", "soon")],
            "check",
            "EHLO_TIMEOUT",
        ),
        (
            &[
                "probe",
                "127.0.0.1:9",
                "--to",
                "a@b.test",
                "--json",
                "--expect",
                "x",
            ],
            &[],
            "probe",
            "--expect 'x'",
        ),
        (
            &[
                "probe",
                "127.0.0.1:9",
                "--to",
                "a@b.test",
                "--json",
                "--tls-ca-path",
                "/nonexistent/ca",
            ],
            &[],
            "probe",
            "--tls-ca-path",
        ),
    ];
    for (args, env, mode, why) in cases {
        let run = ehlo_with_env(args, env, None, std::time::Duration::from_secs(30));
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        let lines = report_refusal(&args, &run, mode);
        let message = lines[1]["message"].as_str().unwrap();
        assert!(message.contains(why), "{args:?}: {message}");
        assert_eq!(lines[2]["domains"], 0, "{args:?}");
        assert_eq!(lines[2]["stopped"], message, "{args:?}");
        assert_eq!(run.stderr, format!("*** {message}\n"), "{args:?}");
    }
    // Without --json: the one line on stderr, nothing on stdout.
    let run = ehlo(&["check", "@/nonexistent/list"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

/// `-n`/`--suppress-data` under `--json`: the body's `sent` event keeps its byte and line
/// counts but not the message text, as the human transcript prints "N lines sent".
#[test]
fn suppress_data_keeps_the_body_out_of_the_json_lines() {
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["--json", "-n", "--body", "secret body text"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!run.stdout.contains("secret body text"), "{}", run.stdout);
    let body = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["type"] == "sent" && l["data"]["kind"] == "body")
        .unwrap_or_else(|| panic!("no body event: {}", run.stdout));
    assert_eq!(body["data"]["text"], "", "{body}");
    assert!(body["data"]["bytes"].as_u64().unwrap() > 16, "{body}");
    assert!(body["data"]["lines"].as_u64().unwrap() > 1, "{body}");
}

/// `--show-raw-text` under `--json` writes the documented `raw_sent` and `raw_received`
/// events: each write and each read, as a byte payload (`{"text": …}`), the lines around them
/// unchanged. They never appeared: `--json` turned the raw events off.
#[test]
fn show_raw_text_under_json_writes_raw_events() {
    let srv = scripted(after_greet(accept_all()));
    let run = send(
        &srv,
        &["--json", "--show-raw-text", "--body", "raw body text"],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines[0]["type"], "schema");
    assert_eq!(lines.last().unwrap()["type"], "summary");
    let raw = |kind: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l["type"] == kind)
            .map(|l| {
                let data = l["data"].as_object().unwrap();
                assert_eq!(data.len(), 1, "only `bytes`: {l}");
                l["data"]["bytes"]["text"]
                    .as_str()
                    .unwrap_or_else(|| panic!("a text payload: {l}"))
                    .to_string()
            })
            .collect()
    };
    let sent = raw("raw_sent");
    let received = raw("raw_received").concat();
    assert!(sent.iter().any(|s| s == "QUIT\r\n"), "{sent:?}");
    assert!(
        sent.iter().any(|s| s.contains("raw body text\r\n.\r\n")),
        "{sent:?}"
    );
    assert!(received.starts_with("220 "), "{received:?}");
    assert!(received.ends_with("\r\n221 2.0.0 Bye\r\n"), "{received:?}");
    // Without --show-raw-text, none.
    let srv = scripted(after_greet(accept_all()));
    let run = send(&srv, &["--json"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!run.stdout.contains("\"raw_"), "{}", run.stdout);
}

/// Under `--json`, `--dump-mail`, `--dump` and `--dump-config` keep stdout JSON Lines: the
/// schema, one `dump` event with the text, the summary (exit 0).
#[test]
fn dumps_under_json_are_one_json_event() {
    let cases: [(&[&str], &str, &str); 3] = [
        (
            &["--to", "a@b.test", "--body", "dumped body", "--dump-mail"],
            "mail",
            "dumped body",
        ),
        (
            &["--to", "a@b.test", "--dump", "DATA"],
            "settings",
            "a@b.test",
        ),
        (&["--to", "a@b.test", "--dump-config"], "config", "a@b.test"),
    ];
    for (args, what, needle) in cases {
        let mut a = args.to_vec();
        a.push("--json");
        let run = ehlo(&a);
        assert_eq!(run.code, 0, "{a:?}: {}", run.all());
        let lines: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{a:?}: {e}: {l}")))
            .collect();
        assert_eq!(lines.first().unwrap()["type"], "schema", "{}", run.stdout);
        let last = lines.last().unwrap();
        assert_eq!(last["type"], "summary", "{}", run.stdout);
        assert_eq!(last["data"]["exit_code"], 0, "{}", run.stdout);
        let dumps: Vec<_> = lines.iter().filter(|l| l["type"] == "dump").collect();
        assert_eq!(dumps.len(), 1, "{}", run.stdout);
        assert_eq!(dumps[0]["data"]["what"], what, "{}", run.stdout);
        assert!(
            dumps[0]["data"]["text"].as_str().unwrap().contains(needle),
            "{a:?}: {}",
            run.stdout
        );
    }
}

/// A failed connection attempt says its kind in `connect_failed`, set where the attempt failed
/// (`cause`, and the OS error number as `os_error`), so a consumer never parses `reason`; the
/// members that were there keep their names and text.
#[test]
fn connect_failed_carries_its_cause() {
    let port = free_port().to_string();
    let server = format!("127.0.0.1:{port}");
    let cases: [(&[&str], &str, Option<i64>); 2] = [
        // Nothing listens on the port.
        (&[], "refused", Some(i64::from(nix::libc::ECONNREFUSED))),
        // A local address that is not this machine's (TEST-NET-1, RFC 5737): bind(2) fails.
        (
            &["--local-interface", "192.0.2.1"],
            "local_address",
            Some(i64::from(nix::libc::EADDRNOTAVAIL)),
        ),
    ];
    for (extra, cause, os_error) in cases {
        let mut args = vec!["-s", &server, "-t", "a@b.test", "--json"];
        args.extend_from_slice(extra);
        let r = ehlo(&args);
        assert_eq!(r.code, 2, "{}", r.all());
        let failed: Vec<serde_json::Value> = r
            .stdout
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|l| l["type"] == "connect_failed")
            .collect();
        assert_eq!(failed.len(), 1, "{}", r.stdout);
        let d = &failed[0]["data"];
        assert_eq!(d["cause"], cause, "{}", r.stdout);
        assert_eq!(d["os_error"].as_i64(), os_error, "{}", r.stdout);
        assert_eq!(d["addr"], server.as_str(), "{}", r.stdout);
        assert!(!d["reason"].as_str().unwrap().is_empty(), "{}", r.stdout);
    }
}

const TEN_S: std::time::Duration = std::time::Duration::from_secs(10);

/// The `type`s each mode may write, as the specification's table (`src/render/json.rs`) says:
/// a row whose members begin with `(`ehlo MODE`…)` belongs to those modes only, any other row
/// to every mode. (`send` stands for the one-shot send.)
fn documented_for(mode: &str) -> std::collections::BTreeSet<String> {
    let spec = include_str!("../../src/render/json.rs");
    let mut types = std::collections::BTreeSet::new();
    for row in spec.lines().filter_map(|l| l.strip_prefix("//! | `")) {
        let mut cells = row.split(" | ");
        let (Some(names), Some(members)) = (cells.next(), cells.next()) else {
            continue;
        };
        let modes: Vec<&str> = members
            .strip_prefix('(')
            .and_then(|m| m.split_once(')'))
            .map(|(note, _)| {
                note.split('`')
                    .skip(1)
                    .step_by(2)
                    .filter_map(|w| w.strip_prefix("ehlo "))
                    .collect()
            })
            .unwrap_or_default();
        if modes.is_empty() || modes.contains(&mode) {
            let names = format!("`{names}");
            let names = names.split('`').skip(1).step_by(2);
            types.extend(names.filter(|n| *n != "type").map(str::to_string));
        }
    }
    types
}

/// The `type`s of a run's JSON Lines, each line checked to be one JSON object.
fn types_written(run: &Run) -> std::collections::BTreeSet<String> {
    run.stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{}", run.all()));
            v["type"].as_str().expect("a type").to_string()
        })
        .collect()
}

/// Every `type` a mode writes is in the specification's table for that mode, so a consumer
/// reading it knows each line it can get: `ehlo replay --json` wrote `note` lines (its result,
/// `replay: 2 steps, every reply as recorded`, and a signal's or `--deadline`'s end), which the
/// table gave to `ehlo repl` alone and README did not list for replay. Each run has an
/// `EHLO_*` variable left unread, whose `warning` line every mode writes.
#[test]
fn every_type_a_mode_writes_is_documented_for_it() {
    let unread = [("EHLO_TMEOUT", "5")];
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.ehlo");
    std::fs::write(&script, "< 220\n> EHLO x.test\n< 250\n> QUIT\n< 221\n").unwrap();
    let session = || {
        scripted(ehlo_x_then(vec![
            Step::Expect("QUIT"),
            Step::Send(b"221 bye\r\n"),
        ]))
    };

    let srv = session();
    let server = srv.server();
    let args = ["replay", script.to_str().unwrap(), "--server", &server];
    let args = [&args[..], &["--json"]].concat();
    let run = ehlo_with_env(&args, &unread, Some(b""), TEN_S);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let replay = types_written(&run);
    assert!(replay.contains("note"), "{}", run.all());
    assert!(replay.contains("warning"), "{}", run.all());

    let srv = session();
    let server = srv.server();
    let run = ehlo_with_env(
        &["repl", &server, "--json"],
        &unread,
        Some(b"EHLO x.test\n:caps\nQUIT\n"),
        TEN_S,
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let repl = types_written(&run);
    assert!(repl.contains("warning"), "{}", run.all());

    let srv = scripted(after_greet(accept_all()));
    let send = types_written(&send(&srv, &["--json", "--show-raw-text"]));
    srv.finish();

    for (mode, written) in [("replay", replay), ("repl", repl), ("send", send)] {
        let documented = documented_for(mode);
        let undocumented: Vec<&String> = written.difference(&documented).collect();
        assert!(
            undocumented.is_empty(),
            "{mode} writes {undocumented:?}, not in the table for it ({documented:?})"
        );
    }
}

/// `ehlo check plain.test` of the MX lookup alone, its MX answered by the
/// [`dangling_cname_mx_dns`] server at `dns`.
fn check_mx_lookup(dns: &str) -> [&str; 6] {
    [
        "check",
        "plain.test",
        "--dns-server",
        dns,
        "--only",
        "mx.lookup",
    ]
}

/// An `EHLO_*` variable left unread is said on stderr once in every mode, and under `--json` it
/// is a `warning` line too, the first after `schema`: repl, replay, serve, demo, check and
/// probe said it on stderr only (the send alone had the line), so a CI job reading the JSON
/// never learnt that the `EHLO_TMEOUT=5` it set did not set the timeout.
#[test]
fn a_variable_left_unread_is_a_warning_line_in_every_modes_json() {
    let said = "EHLO_TMEOUT is ignored: it names no option of any mode \
                (did you mean EHLO_TIMEOUT?)";
    let env = [("EHLO_TMEOUT", "5")];
    let check = |mode: &str, run: &Run, warning: &dyn Fn(&serde_json::Value) -> String| {
        let lines: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{mode}: {e}: {l}")))
            .collect();
        assert_eq!(lines[0]["type"], "schema", "{mode}: {}", run.all());
        assert_eq!(lines[1]["type"], "warning", "{mode}: {}", run.all());
        assert_eq!(warning(&lines[1]), said, "{mode}: {}", run.all());
        let warnings = lines.iter().filter(|l| l["type"] == "warning").count();
        assert_eq!(warnings, 1, "{mode}: {}", run.all());
        assert_eq!(
            run.stderr.matches(said).count(),
            1,
            "{mode}: said once on stderr: {}",
            run.all()
        );
    };
    let events = |l: &serde_json::Value| l["data"]["message"].as_str().unwrap().to_string();
    let report = |l: &serde_json::Value| l["message"].as_str().unwrap().to_string();

    let srv = scripted(ehlo_x_then(vec![
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    let server = srv.server();
    let run = ehlo_with_env(
        &["repl", &server, "--json"],
        &env,
        Some(b"EHLO x.test\nQUIT\n"),
        TEN_S,
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    check("repl", &run, &events);

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.ehlo");
    std::fs::write(&script, "< 220\n> EHLO x.test\n< 250\n> QUIT\n< 221\n").unwrap();
    let srv = scripted(ehlo_x_then(vec![
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    let server = srv.server();
    let args = [
        "replay",
        script.to_str().unwrap(),
        "--server",
        &server,
        "--json",
    ];
    let run = ehlo_with_env(&args, &env, None, TEN_S);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    check("replay", &run, &events);

    let run = ehlo_with_env(&["demo", "--json"], &env, None, TEN_S);
    assert_eq!(run.code, 0, "{}", run.all());
    check("demo", &run, &events);

    // One session, then serve stops by itself (--max-sessions 1).
    let port = free_port().to_string();
    let listen = format!("127.0.0.1:{port}");
    let serve = {
        let listen = listen.clone();
        std::thread::spawn(move || {
            let args = [
                "serve",
                "--listen",
                &listen,
                "--max-sessions",
                "1",
                "--json",
            ];
            ehlo_with_env(&args, &[("EHLO_TMEOUT", "5")], None, TEN_S)
        })
    };
    let t0 = std::time::Instant::now();
    let mut client = loop {
        match std::net::TcpStream::connect(&listen) {
            Ok(c) => break c,
            Err(_) if t0.elapsed() < TEN_S => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Err(e) => panic!("serve never listened: {e}"),
        }
    };
    let mut reader = std::io::BufReader::new(client.try_clone().unwrap());
    smtp_reply(&mut reader);
    std::io::Write::write_all(&mut client, b"QUIT\r\n").unwrap();
    smtp_reply(&mut reader);
    let run = serve.join().unwrap();
    assert_eq!(run.code, 0, "{}", run.all());
    check("serve", &run, &events);

    // Nothing listens on the port: every probe is inconclusive (41), the report written.
    let closed = format!("127.0.0.1:{}", free_port());
    let args = ["probe", &closed, "--to", "a@example.test", "--json"];
    let run = ehlo_with_env(&args, &env, None, TEN_S);
    assert_eq!(run.code, 41, "{}", run.all());
    check("probe", &run, &report);

    let (dns, _h) = dangling_cname_mx_dns();
    let dns = dns.to_string();
    let args = [&check_mx_lookup(&dns)[..], &["--json"]].concat();
    let run = ehlo_with_env(&args, &env, None, TEN_S);
    assert!(matches!(run.code, 0 | 40), "{}", run.all());
    check("check", &run, &report);
}

/// A run refused before it starts ends its JSON with the `warning` said on stderr before the
/// mistake, as a run that starts does: an unreadable `--data @FILE` (the send) and a bad
/// `--expect` (check's report) wrote `schema` and the `summary` alone.
#[test]
fn a_refused_run_keeps_the_warning_said_before_it() {
    let said = "EHLO_TMEOUT is ignored: it names no option of any mode \
                (did you mean EHLO_TIMEOUT?)";
    let env = [("EHLO_TMEOUT", "5")];
    let lines = |run: &Run| -> Vec<serde_json::Value> {
        run.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let args = [
        "--json",
        "-t",
        "a@example.test",
        "--data",
        "@/nonexistent-ehlo",
    ];
    let run = ehlo_with_env(&args, &env, None, TEN_S);
    assert_eq!(run.code, 1, "{}", run.all());
    let got = lines(&run);
    let types: Vec<&str> = got.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["schema", "warning", "summary"], "{}", run.all());
    assert_eq!(got[1]["data"]["message"], said, "{}", run.all());

    let args = ["check", "a.test", "--expect", "bogus", "--json"];
    let run = ehlo_with_env(&args, &env, None, TEN_S);
    assert_eq!(run.code, 1, "{}", run.all());
    let got = lines(&run);
    let types: Vec<&str> = got.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["schema", "warning", "error", "summary"],
        "{}",
        run.all()
    );
    assert_eq!(got[1]["message"], said, "{}", run.all());
}

/// One thing, one name in every mode: where lines named a thing otherwise than the rest, the
/// common name is written beside the old one with the same value (schema 1 only adds
/// members): `connecting`/`connect_failed` `addr` also `address` (send, repl), a `note`'s
/// `text` also `message` (repl, replay), a `check`/`probe` line's bool `counts` also `counted`
/// (check, probe). The old names are still there.
#[test]
fn one_thing_has_its_common_name_beside_the_old_one_in_every_mode() {
    let parse = |mode: &str, run: &Run| -> Vec<serde_json::Value> {
        run.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{mode}: {e}: {l}")))
            .collect()
    };
    let of_type = |lines: &[serde_json::Value], t: &str| -> Vec<serde_json::Value> {
        lines.iter().filter(|l| l["type"] == t).cloned().collect()
    };
    let twins = |mode: &str, lines: &[serde_json::Value], t: &str, old: &str, new: &str| {
        let found = of_type(lines, t);
        assert!(!found.is_empty(), "{mode}: no `{t}` line: {lines:?}");
        for l in found {
            let d = if l.get("data").is_some() {
                &l["data"]
            } else {
                &l
            };
            assert!(!d[old].is_null(), "{mode}: `{t}` without `{old}`: {l}");
            assert_eq!(d[new], d[old], "{mode}: `{t}`: {l}");
        }
    };

    // The send: nothing listens on the port.
    let closed = format!("127.0.0.1:{}", free_port());
    let run = ehlo(&["-s", &closed, "-t", "a@b.test", "--json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let lines = parse("send", &run);
    twins("send", &lines, "connecting", "addr", "address");
    twins("send", &lines, "connect_failed", "addr", "address");

    // repl, piped: notes (`:caps`) and the connection.
    let srv = scripted(ehlo_x_then(vec![
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    let server = srv.server();
    let run = ehlo_with(
        &["repl", &server, "--json"],
        Some(b"EHLO x.test\n:caps\nQUIT\n"),
        TEN_S,
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let lines = parse("repl", &run);
    twins("repl", &lines, "note", "text", "message");
    twins("repl", &lines, "connecting", "addr", "address");
    let run = ehlo_with(&["repl", &closed, "--json"], Some(b"EHLO x.test\n"), TEN_S);
    assert_eq!(run.code, 2, "{}", run.all());
    twins(
        "repl",
        &parse("repl", &run),
        "connect_failed",
        "addr",
        "address",
    );

    // replay: its result is a note.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.ehlo");
    std::fs::write(&script, "< 220\n> EHLO x.test\n< 250\n> QUIT\n< 221\n").unwrap();
    let srv = scripted(ehlo_x_then(vec![
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]));
    let server = srv.server();
    let args = ["replay", script.to_str().unwrap(), "--server", &server];
    let run = ehlo_with(&[&args[..], &["--json"]].concat(), None, TEN_S);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    twins("replay", &parse("replay", &run), "note", "text", "message");

    // probe: every probe inconclusive (nothing listens), each line with both names.
    let run = ehlo(&["probe", &closed, "--to", "a@example.test", "--json"]);
    assert_eq!(run.code, 41, "{}", run.all());
    twins("probe", &parse("probe", &run), "probe", "counts", "counted");

    // check: the MX lookup alone.
    let (dns, _h) = dangling_cname_mx_dns();
    let dns = dns.to_string();
    let run = ehlo(&[&check_mx_lookup(&dns)[..], &["--json"]].concat());
    assert!(matches!(run.code, 0 | 40), "{}", run.all());
    twins("check", &parse("check", &run), "check", "counts", "counted");
}
