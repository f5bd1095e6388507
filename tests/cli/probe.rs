//! `ehlo probe` end to end on loopback: the built binary against in-process `ehlo serve`
//! listeners, once as shipped (the safe behaviour) and once with the `--quirk` switches that
//! emulate vulnerable MTAs, so every probe that has a quirk is seen both pass and fail. What
//! the server stored is checked too: a smuggled message really became a second message.
//! Bad input: no `--to`, unknown probe ids, a server that closes mid-probe or never answers.

use std::collections::HashMap;
use std::time::Duration;

use ehlo::render::Renderer;
use ehlo::serve::{ServeOptions, ServerHandle};
use ehlo::smtp::event::Event;
use ehlo::smtp::server::Quirks;
use serde_json::Value;

use crate::util::*;

struct Quiet;
impl Renderer for Quiet {
    fn event(&mut self, _: &Event, _: Duration) {}
}

/// A running `ehlo serve` with its runtime.
struct Server {
    handle: Option<ServerHandle>,
    rt: tokio::runtime::Runtime,
}

impl Server {
    fn start(o: ServeOptions) -> Server {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let o = ServeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            hostname: "mx.test".into(),
            users: vec![("alice".into(), "pw".into())],
            ..o
        };
        let handle = rt
            .block_on(ehlo::serve::start_with(o, Box::new(Quiet)))
            .unwrap();
        Server {
            handle: Some(handle),
            rt,
        }
    }

    fn addr(&self) -> String {
        self.handle.as_ref().unwrap().addr().to_string()
    }

    fn subjects(&self) -> Vec<String> {
        self.handle
            .as_ref()
            .unwrap()
            .messages()
            .iter()
            .map(|m| {
                let text = String::from_utf8_lossy(&m.content).into_owned();
                text.lines()
                    .find_map(|l| l.strip_prefix("Subject: ").map(str::to_string))
                    .unwrap_or_default()
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
    }
}

/// Run `ehlo probe ADDR --to alice@mx.test --yes -k --json` plus `extra`; returns the run and
/// id → status.
fn probe(addr: &str, extra: &[&str]) -> (Run, HashMap<String, String>) {
    let mut args = vec![
        "probe",
        addr,
        "--to",
        "alice@mx.test",
        "--yes",
        "-k",
        "--json",
        "--timeout",
        "5s",
    ];
    args.extend_from_slice(extra);
    let run = ehlo_with(&args, None, Duration::from_secs(120));
    let mut statuses = HashMap::new();
    for l in run.stdout.lines() {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        if v["type"] == "probe" {
            statuses.insert(
                v["id"].as_str().unwrap().to_string(),
                v["status"].as_str().unwrap().to_string(),
            );
        }
    }
    (run, statuses)
}

fn status<'a>(s: &'a HashMap<String, String>, id: &str) -> &'a str {
    s.get(id).map(String::as_str).unwrap_or("(missing)")
}

const LF_VARIANTS: &[&str] = &[
    "smuggle.lf-lf",
    "smuggle.lf-crlf",
    "smuggle.crlf-lf",
    "smuggle.lf-headers",
];

#[test]
fn safe_server_passes_and_vulnerable_server_fails() {
    let safe = Server::start(ServeOptions {
        starttls: true,
        greet_pause: Duration::from_millis(300),
        ..ServeOptions::default()
    });
    let vulnerable = Server::start(ServeOptions {
        starttls: true,
        auth_before_tls: true,
        quirks: Quirks {
            bare_lf_dot: true,
            starttls_keep: true,
            disclose_users: true,
            answer_unsynced: true,
        },
        ..ServeOptions::default()
    });

    let (run, s) = probe(&safe.addr(), &["--skip", "relay.open"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for id in [
        "pipelining.early-talker",
        "starttls.injection",
        "starttls.injection-ehlo",
        "starttls.downgrade",
        "enum.vrfy",
        "enum.expn",
        "enum.rcpt",
        "limits.line",
        "limits.nul",
        "smuggle.lf-lf",
        "smuggle.lf-crlf",
        "smuggle.crlf-lf",
        "smuggle.cr-cr",
        "smuggle.crlf-nul",
        "smuggle.lf-headers",
    ] {
        assert_eq!(status(&s, id), "pass", "safe {id}: {}", run.stdout);
    }
    assert_eq!(status(&s, "pipelining.unadvertised"), "skip");
    assert!(!s.contains_key("relay.open"), "--skip relay.open");
    // The safe server kept every smuggled transaction as text of ONE message.
    let subjects = safe.subjects();
    assert_eq!(subjects.len(), 10, "{subjects:?}");
    assert!(
        subjects.iter().all(|s| s.contains(" outer ehlo-probe-")),
        "{subjects:?}"
    );

    let (run, s) = probe(&vulnerable.addr(), &[]);
    assert_eq!(run.code, 40, "{}{}", run.stdout, run.stderr);
    for id in [
        "starttls.injection",
        "starttls.injection-ehlo",
        "starttls.downgrade",
        "enum.vrfy",
        "enum.expn",
        "relay.open",
    ]
    .iter()
    .chain(LF_VARIANTS)
    {
        assert_eq!(status(&s, id), "fail", "vulnerable {id}: {}", run.stdout);
    }
    // Answering an early talker is no hole, only a spam defence not run: a warn.
    assert_eq!(
        status(&s, "pipelining.early-talker"),
        "warn",
        "{}",
        run.stdout
    );
    // The quirk ends lines at bare LF only, as Postfix did: the CR variants stay text.
    assert_eq!(status(&s, "smuggle.cr-cr"), "pass");
    // Each LF variant made the server store a second, smuggled message.
    let subjects = vulnerable.subjects();
    let smuggled: Vec<&String> = subjects
        .iter()
        .filter(|s| s.contains(" SMUGGLED "))
        .collect();
    assert_eq!(smuggled.len(), LF_VARIANTS.len(), "{subjects:?}");
    let evidence = run
        .stdout
        .lines()
        .find(|l| l.contains("\"id\":\"starttls.injection\""))
        .unwrap();
    assert!(
        evidence.contains("STARTTLS\\\\r\\\\nRSET\\\\r\\\\n"),
        "{evidence}"
    );
    assert!(evidence.contains("CVE-2011-0411"), "{evidence}");
}

#[test]
fn unadvertised_pipelining_is_noticed() {
    let s = Server::start(ServeOptions {
        hide: vec!["PIPELINING".into()],
        quirks: Quirks {
            answer_unsynced: true,
            ..Quirks::default()
        },
        ..ServeOptions::default()
    });
    let (run, st) = probe(&s.addr(), &["--only", "pipelining.unadvertised"]);
    // Leniency, not a hole: a warn, which fails the run only under --fail-on warn.
    assert_eq!(
        status(&st, "pipelining.unadvertised"),
        "warn",
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let (run, st) = probe(
        &s.addr(),
        &["--only", "pipelining.unadvertised", "--fail-on", "warn"],
    );
    assert_eq!(status(&st, "pipelining.unadvertised"), "warn");
    assert_eq!(run.code, 40, "{}", run.stdout);
}

#[test]
fn unadvertised_pipelining_refused_by_a_synchronizing_server_passes() {
    // Without the quirk, `serve --hide PIPELINING` refuses a pipelined group the way Exim's
    // smtp_enforce_sync does: 554 and close. That is the safe behaviour the probe passes.
    let s = Server::start(ServeOptions {
        hide: vec!["PIPELINING".into()],
        ..ServeOptions::default()
    });
    let (run, st) = probe(&s.addr(), &["--only", "pipelining.unadvertised"]);
    assert_eq!(
        status(&st, "pipelining.unadvertised"),
        "pass",
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("554"), "{}", run.stdout);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// The same synchronizing server splits `RSET<LF>RSET<CR><LF>` at the bare LF and, finding the
/// second RSET already waiting, answers only `554 … synchronization error`: one reply, but it
/// proves the split (the probe passed it as "a bare LF did not end the command" before).
#[test]
fn a_synchronization_error_to_a_bare_lf_is_a_split() {
    let s = Server::start(ServeOptions {
        hide: vec!["PIPELINING".into()],
        ..ServeOptions::default()
    });
    let (run, st) = probe(&s.addr(), &["--only", "limits.bare-lf-command"]);
    assert_eq!(
        status(&st, "limits.bare-lf-command"),
        "warn",
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("a bare LF ended a command")
            && run.stdout.contains("synchronization error"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// One probe that sends mail is "1 probe sends mail", not "1 probe(s) send mail".
#[test]
fn one_mailing_probe_is_counted_in_the_singular() {
    let s = Server::start(ServeOptions::default());
    let run = ehlo(&[
        "probe",
        &s.addr(),
        "--to",
        "alice@mx.test",
        "--yes",
        "--only",
        "smuggle.cr-cr",
    ]);
    assert!(
        run.stdout
            .contains("1 probe sends mail to alice@mx.test only;"),
        "{}",
        run.all()
    );
}

/// A server that ends a message at a bare `LF.LF` (the smuggling a probe should find).
fn lf_dot_server() -> Server {
    Server::start(ServeOptions {
        quirks: Quirks {
            bare_lf_dot: true,
            ..Quirks::default()
        },
        ..ServeOptions::default()
    })
}

/// A terminal whose locale is not UTF-8 (`LC_ALL=C`) gets the probe report in ASCII (`✓`/`✗`
/// as `+`/`x`, `§` as "section"), whose UTF-8 bytes showed as mojibake there; with a UTF-8
/// locale the glyphs stay.
#[test]
fn the_human_report_is_ascii_in_a_c_locale() {
    let s = lf_dot_server();
    let addr = s.addr();
    let args = [
        "probe",
        addr.as_str(),
        "--to",
        "alice@mx.test",
        "--yes",
        "--only",
        "smuggle.lf-lf",
        "--only",
        "smuggle.cr-cr",
    ];
    let c = crate::util::ehlo_with_env(
        &args,
        &[("LANG", "C.UTF-8"), ("LC_ALL", "C")],
        None,
        Duration::from_secs(120),
    );
    assert_eq!(c.code, 40, "{}", c.all());
    assert!(c.stdout.contains("x fail  smuggle.lf-lf"), "{}", c.stdout);
    assert!(c.stdout.contains("+ pass  smuggle.cr-cr"), "{}", c.stdout);
    let all = c.all();
    let wide: Vec<&str> = all.lines().filter(|l| !l.is_ascii()).collect();
    assert!(wide.is_empty(), "{wide:#?}");
    let u = crate::util::ehlo_with_env(
        &args,
        &[("LANG", "C"), ("LC_ALL", "C.UTF-8")],
        None,
        Duration::from_secs(120),
    );
    assert!(u.stdout.contains("✗ fail  smuggle.lf-lf"), "{}", u.stdout);
}

#[test]
fn human_report_shows_bytes_tokens_and_exit_code() {
    let s = lf_dot_server();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("probe.xml");
    let run = ehlo(&[
        "probe",
        &s.addr(),
        "--to",
        "alice@mx.test",
        "--yes",
        "--only",
        "smuggle.lf-lf",
        "--only",
        "smuggle.cr-cr",
        "--expect",
        "smuggle.cr-cr=pass",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 40, "{}", run.all());
    let out = &run.stdout;
    assert!(out.contains("look for ehlo-probe-"), "{out}");
    // Counted as a person writes it ("2 probe(s) send" before).
    assert!(
        out.contains("2 probes send mail to alice@mx.test only;"),
        "{out}"
    );
    assert!(out.contains("✗ fail  smuggle.lf-lf"), "{out}");
    assert!(out.contains("✓ pass  smuggle.cr-cr"), "{out}");
    // The exact bytes: the bare LF variant right before the embedded MAIL FROM.
    assert!(
        out.contains("\\n.\\nMAIL FROM:<alice@mx.test>\\r\\n"),
        "{out}"
    );
    assert!(out.contains("smtpd_forbid_bare_newline"), "{out}");
    assert!(out.contains("✓ pass  expect smuggle.cr-cr=pass"), "{out}");
    assert!(out.contains("exit 40"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"<property name="ehlo.report" value="ehlo probe"/>"#),
        "{xml}"
    );
    assert!(xml.contains("type=\"smuggle.lf-lf\""), "{xml}");
}

/// The same `--expect` twice (a CI job's shared list and its own line) is judged once: one
/// line in the report, one JUnit case, no `#2`. Each repeat was judged and reported again.
#[test]
fn a_repeated_expectation_is_judged_once() {
    let s = Server::start(ServeOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("probe.xml");
    let run = ehlo(&[
        "probe",
        &s.addr(),
        "--to",
        "alice@mx.test",
        "--yes",
        "--only",
        "enum.vrfy",
        "--expect",
        "enum.vrfy=pass",
        "--expect",
        "enum.vrfy = pass",
        "--expect",
        "enum.vrfy=pass",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        run.stdout.matches("expect enum.vrfy").count(),
        1,
        "{}",
        run.stdout
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(
        xml.matches(r#"<testcase name="enum.vrfy=pass""#).count(),
        1,
        "{xml}"
    );
    assert!(!xml.contains("#2"), "{xml}");
}

/// A server that refuses every RCPT (here `ehlo serve --fail rcpt=550:5.1.1`) refuses the outside
/// recipient too, but that shows nothing about relaying: relay.open sends a control RCPT to
/// `--to` and is inconclusive when it is refused as well (it passed, exit 0). The report, the
/// JSON line and the JUnit file say the same.
#[test]
fn relay_open_is_inconclusive_when_every_recipient_is_refused() {
    let s = Server::start(ServeOptions {
        faults: vec!["rcpt=550:5.1.1:no such user".into()],
        ..ServeOptions::default()
    });
    let (run, st) = probe(&s.addr(), &["--only", "relay.open"]);
    assert_eq!(run.code, 41, "{}", run.all());
    assert_eq!(status(&st, "relay.open"), "inconclusive", "{}", run.all());
    let line = line_of(&run, "relay.open");
    let summary = line["summary"].as_str().unwrap_or_default().to_string();
    assert!(
        summary.starts_with(
            "the server refused every recipient, the control recipient <alice@mx.test> too (550"
        ),
        "{line}"
    );
    assert_eq!(line["evidence"]["control_accepted"], false, "{line}");
    assert!(
        line["evidence"]["transcript"]
            .to_string()
            .contains("C: RCPT TO:<alice@mx.test>"),
        "{line}"
    );
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("probe.xml");
    let human = ehlo(&[
        "probe",
        &s.addr(),
        "--to",
        "alice@mx.test",
        "--only",
        "relay.open",
        "--color",
        "never",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(human.code, 41, "{}", human.all());
    assert!(
        human.stdout.contains("relay.open") && human.stdout.contains(&summary),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("1 inconclusive"), "{}", human.stdout);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<error") && xml.contains("refused every recipient"),
        "{xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");
    // The same server accepting the control: a refused outside recipient passes.
    let ok = Server::start(ServeOptions {
        faults: vec!["rcpt#1=554:5.7.1:Relay access denied".into()],
        ..ServeOptions::default()
    });
    let (run, st) = probe(&ok.addr(), &["--only", "relay.open"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(status(&st, "relay.open"), "pass", "{}", run.all());
    assert_eq!(
        line_of(&run, "relay.open")["evidence"]["control_accepted"],
        true
    );
}

#[test]
fn bad_input_is_one_line_and_exit_1() {
    let r = ehlo(&["probe", "127.0.0.1:9"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("--to ADDRESS is required"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("nothing was sent"), "{}", r.stderr);
    let r = ehlo(&[
        "probe",
        "127.0.0.1:9",
        "--to",
        "a@b.test",
        "--only",
        "smuggle.nope",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("smuggle.lf-lf"), "{}", r.stderr);
    let r = ehlo(&["probe", "127.0.0.1:9", "--to", "not-an-address"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not an address"), "{}", r.stderr);
    let r = ehlo(&[
        "probe",
        "127.0.0.1:9",
        "--to",
        "a@b.test",
        "--expect",
        "relay.open=maybe",
    ]);
    assert_eq!(r.code, 1);
    let r = ehlo(&["serve", "--quirk", "nope"]);
    assert_eq!(r.code, 1);
}

/// A server that stores the message but answers its end only after the probe's timeout: the
/// result is inconclusive and says the message may have been delivered, with its token (it
/// said only "no eod reply within the timeout" while the message sat in the mailbox).
#[test]
fn a_message_whose_reply_timed_out_is_said_to_be_maybe_delivered() {
    let s = Server::start(ServeOptions {
        delays: vec!["dot:3000".into()],
        ..ServeOptions::default()
    });
    let (run, st) = probe(&s.addr(), &["--only", "smuggle.lf-lf", "--timeout", "1s"]);
    assert_eq!(run.code, 41, "{}", run.all());
    assert_eq!(
        status(&st, "smuggle.lf-lf"),
        "inconclusive",
        "{}",
        run.stdout
    );
    let line = line_of(&run, "smuggle.lf-lf");
    let token = line["evidence"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(token.ends_with("-smuggle-lf-lf"), "{line}");
    let summary = line["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("may have been delivered") && summary.contains(&token),
        "{summary}"
    );
    // What the server did: the message is there, under that token.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        s.subjects().iter().any(|x| x.contains(&token)),
        "{:?}",
        s.subjects()
    );
}

#[test]
fn close_mid_probe_and_silence_are_inconclusive_within_the_timeout() {
    // The server drops the connection at DATA: the smuggling probe cannot tell.
    let s = Server::start(ServeOptions {
        faults: vec!["data=drop".into()],
        ..ServeOptions::default()
    });
    let (run, st) = probe(&s.addr(), &["--only", "smuggle.lf-lf"]);
    assert_eq!(
        status(&st, "smuggle.lf-lf"),
        "inconclusive",
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("closed the connection"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 41);

    // Nothing listens: one connect failure, the other probes are not run.
    let port = crate::util::free_port();
    let (run, st) = probe(&format!("127.0.0.1:{port}"), &["--only", "enum.*"]);
    assert_eq!(run.code, 41);
    assert_eq!(st.len(), 3);
    assert!(st.values().all(|v| v == "inconclusive"), "{st:?}");
    assert!(
        run.stdout.contains("not run: cannot connect"),
        "{}",
        run.stdout
    );
}

/// `ehlo probe` with `--json --timeout 1s` against a server that stalls somewhere, and how long
/// the whole run took (the give-up tests bound it).
fn probe_timed_out(server: &Server, wait: Duration) -> (Run, Duration) {
    let t0 = std::time::Instant::now();
    let run = ehlo_with(
        &[
            "probe",
            &server.addr(),
            "--to",
            "alice@mx.test",
            "--yes",
            "--json",
            "--timeout",
            "1s",
        ],
        None,
        wait,
    );
    (run, t0.elapsed())
}

#[test]
fn a_server_that_never_greets_costs_one_timeout_not_one_per_probe() {
    // Silent after the connect: each of the 22 probes waited its own --timeout (22 s here,
    // 220 s with the default 10 s). The first probe that finds no greeting is run; the rest
    // are not, as after a failed connect.
    let silent = Server::start(ServeOptions {
        faults: vec!["banner=silent".into()],
        ..ServeOptions::default()
    });
    let (run, took) = probe_timed_out(&silent, Duration::from_secs(60));
    assert_eq!(run.code, 41, "{}", run.all());
    let probes: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "probe")
        .collect();
    assert!(probes.len() > 10, "{}", run.stdout);
    assert!(
        probes.iter().all(|v| v["status"] == "inconclusive"),
        "{}",
        run.stdout
    );
    let not_run = probes
        .iter()
        .filter(|v| {
            v["summary"]
                .as_str()
                .unwrap()
                .starts_with("not run: pipelining.unadvertised: no greeting within the timeout")
        })
        .count();
    assert_eq!(not_run, probes.len() - 2, "{}", run.stdout);
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

/// A server that greets and then never answers EHLO (a filter or tarpit stuck before the
/// session) cost each of the 22 probes its own --timeout (44 s with `--timeout 2s`, 220 s with
/// the default), as a silent greeting did before it was given up on. The early talker, whose
/// EHLO went before the greeting, and the first probe after it wait theirs; the rest are not
/// run, saying why, with the evidence `no_reply_before_probe` and the summary's `given_up`.
#[test]
fn a_server_that_never_answers_ehlo_costs_two_timeouts_not_one_per_probe() {
    let stuck = Server::start(ServeOptions {
        delays: vec!["helo:30000".into()],
        ..ServeOptions::default()
    });
    let (run, took) = probe_timed_out(&stuck, Duration::from_secs(90));
    assert_eq!(run.code, 41, "{}", run.all());
    let first = line_of(&run, "pipelining.unadvertised");
    assert_eq!(first["evidence"]["no_reply_before_probe"], true, "{first}");
    assert!(
        first["summary"]
            .as_str()
            .unwrap()
            .contains("within the timeout"),
        "{first}"
    );
    let l = line_of(&run, "smuggle.lf-lf");
    assert!(
        l["summary"]
            .as_str()
            .unwrap()
            .starts_with("not run: pipelining.unadvertised: no reply to EHLO"),
        "{l}"
    );
    let summary = summary_of(&run);
    assert_eq!(
        summary["given_up"]["evidence"], "no_reply_before_probe",
        "{summary}"
    );
    assert!(took < Duration::from_secs(12), "took {took:?}");
}

#[test]
fn auth_plain_before_the_probes_never_shows_the_password() {
    let s = Server::start(ServeOptions {
        starttls: true,
        ..ServeOptions::default()
    });
    let args = |extra: &'static [&'static str]| {
        let mut v = vec![
            "probe".to_string(),
            s.addr(),
            "--to".into(),
            "alice@mx.test".into(),
            "--tls".into(),
            "-k".into(),
            "--au".into(),
            "alice".into(),
            "--only".into(),
            "enum.vrfy".into(),
            "--json".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let a = args(&[]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let run = ehlo_with_env(
        &a,
        &[("EHLO_AUTH_PASSWORD", "pw")],
        None,
        Duration::from_secs(60),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("AUTH PLAIN ********"), "{}", run.stdout);
    assert!(run.stdout.contains("S: 235 "), "{}", run.stdout);
    // Neither the password nor the PLAIN blob (base64 of \0alice\0pw) is printed.
    assert!(!run.all().contains("AGFsaWNlAHB3"), "{}", run.all());

    let run = ehlo_with_env(
        &a,
        &[("EHLO_AUTH_PASSWORD", "wrong")],
        None,
        Duration::from_secs(60),
    );
    assert_eq!(run.code, 41, "{}", run.all());
    assert!(run.stdout.contains("AUTH refused: 535"), "{}", run.stdout);

    // No password and no terminal to ask on: usage, nothing sent.
    let run = ehlo_with_env(&a, &[], None, Duration::from_secs(60));
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("needs a password"), "{}", run.stderr);
}

/// The password sources in the send's order: the command line's `--auth-password-file` beats
/// `$EHLO_AUTH_PASSWORD` (the environment is read only without the file).
#[test]
fn auth_password_file_before_the_environment_as_the_send() {
    let s = Server::start(ServeOptions {
        starttls: true,
        ..ServeOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pw");
    std::fs::write(&file, "pw\n").unwrap();
    let addr = s.addr();
    let file_arg = file.display().to_string();
    let with_file = [
        "probe",
        &addr,
        "--to",
        "alice@mx.test",
        "--tls",
        "-k",
        "--au",
        "alice",
        "--auth-password-file",
        &file_arg,
        "--only",
        "enum.vrfy",
        "--json",
    ];
    let run = ehlo_with_env(
        &with_file,
        &[("EHLO_AUTH_PASSWORD", "wrong")],
        None,
        Duration::from_secs(60),
    );
    assert_eq!(run.code, 0, "the file's password wins: {}", run.all());
    assert!(run.stdout.contains("S: 235 "), "{}", run.stdout);
    // Without the file the environment is used (and its wrong password refused).
    let run = ehlo_with_env(
        &with_file[..8]
            .iter()
            .chain(&with_file[10..])
            .copied()
            .collect::<Vec<_>>(),
        &[("EHLO_AUTH_PASSWORD", "wrong")],
        None,
        Duration::from_secs(60),
    );
    assert_eq!(run.code, 41, "{}", run.all());
    assert!(run.stdout.contains("AUTH refused: 535"), "{}", run.stdout);
}

/// `--auth-user` without `--tls`/`--tls-on-connect` would send the password in the clear once
/// per probe: refused as the send refuses it (exit 1, its words, no connection) unless
/// `--allow-plaintext-auth`.
#[test]
fn auth_without_tls_is_refused_unless_allowed() {
    let s = Server::start(ServeOptions {
        auth_before_tls: true,
        ..ServeOptions::default()
    });
    let quiet = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    quiet.set_nonblocking(true).unwrap();
    let quiet_addr = quiet.local_addr().unwrap().to_string();
    let run_with = |addr: &str, extra: &[&str]| {
        let mut a = vec![
            "probe",
            addr,
            "--to",
            "alice@mx.test",
            "--au",
            "alice",
            "--only",
            "enum.vrfy",
            "--json",
        ];
        a.extend_from_slice(extra);
        ehlo_with_env(
            &a,
            &[("EHLO_AUTH_PASSWORD", "pw")],
            None,
            Duration::from_secs(60),
        )
    };
    let run = run_with(&quiet_addr, &[]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains(
            "AUTH without TLS would send the credentials unencrypted: add --tls (STARTTLS) \
             or --tls-on-connect, or --allow-plaintext-auth to send them anyway"
        ),
        "{}",
        run.all()
    );
    assert!(quiet.accept().is_err(), "connected anyway");

    let run = run_with(&s.addr(), &["--allow-plaintext-auth"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("AUTH PLAIN ********"), "{}", run.stdout);
    assert!(!run.all().contains("AGFsaWNlAHB3"), "{}", run.all());
}

/// The JSON line of probe `id` in a `--json` run.
fn line_of(run: &Run, id: &str) -> Value {
    run.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "probe" && v["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {}", run.stdout))
}

/// The JSON summary line of a `--json` run (every line of which must be JSON).
fn summary_of(run: &Run) -> Value {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == "summary")
        .unwrap_or_else(|| panic!("no summary in {}", run.stdout))
}

/// Each of `ids` ran on `host` (its evidence's `server` starts with the name) and came to a
/// verdict there (not inconclusive): with `@domain`, the probes that passed over a given-up MX.
fn probed_on(run: &Run, st: &HashMap<String, String>, ids: &[&str], host: &str) {
    for &id in ids {
        let l = line_of(run, id);
        let server = l["evidence"]["server"].as_str().unwrap_or_default();
        assert!(server.starts_with(host), "{id} not on {host}: {l}");
        assert_ne!(status(st, id), "inconclusive", "{l}");
    }
}

/// A probed server on one connection: greets as `name` and answers EHLO (PIPELINING offered);
/// then, if `stall`, never replies again (holds the connection for `hold`), else answers every
/// line after `delay`, 221 to QUIT and 252 to anything else, until the client closes.
fn greet_then_stall_or_answer(
    c: std::net::TcpStream,
    name: &str,
    stall: bool,
    delay: Duration,
    hold: Duration,
) {
    greet_then_stall_or_answer_counted(c, name, stall, delay, hold, None)
}

/// [`greet_then_stall_or_answer`], counting in `ehlos` the connections that got as far as
/// EHLO (a client that passes over this server closes before it).
fn greet_then_stall_or_answer_counted(
    mut c: std::net::TcpStream,
    name: &str,
    stall: bool,
    delay: Duration,
    hold: Duration,
    ehlos: Option<&std::sync::atomic::AtomicUsize>,
) {
    use std::io::{BufRead, BufReader, Write};
    let _ = c.write_all(format!("220 {name} ESMTP\r\n").as_bytes());
    let mut lines = BufReader::new(c.try_clone().unwrap());
    let mut line = Vec::new();
    if lines.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
        return;
    }
    if let Some(n) = ehlos {
        n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    let _ = c.write_all(format!("250-{name}\r\n250 PIPELINING\r\n").as_bytes());
    loop {
        line.clear();
        if stall || lines.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            std::thread::sleep(hold);
            return;
        }
        std::thread::sleep(delay);
        let reply: &[u8] = if line.starts_with(b"QUIT") {
            b"221 bye\r\n"
        } else {
            b"252 cannot verify\r\n"
        };
        let _ = c.write_all(reply);
    }
}

#[test]
fn tls_on_connect_runs_inside_tls_and_skips_the_starttls_probes() {
    let s = Server::start(ServeOptions {
        tls_on_connect: true,
        ..ServeOptions::default()
    });
    let (run, st) = probe(
        &s.addr(),
        &[
            "--tls-on-connect",
            "--only",
            "starttls.*",
            "--only",
            "enum.vrfy",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    // The connection really was TLS from the start: a plaintext EHLO would get no answer.
    assert_eq!(status(&st, "enum.vrfy"), "pass", "{}", run.stdout);
    for id in [
        "starttls.injection",
        "starttls.injection-ehlo",
        "starttls.downgrade",
    ] {
        let v = line_of(&run, id);
        assert_eq!(v["status"], "skip", "{v}");
        let why = v["summary"].as_str().unwrap();
        assert!(
            why.contains("implicit TLS (--tls-on-connect)"),
            "{id}: {why}"
        );
    }

    // Without the switch the same server is unreachable in plaintext: inconclusive.
    let (run, st) = probe(&s.addr(), &["--only", "enum.vrfy"]);
    assert_eq!(status(&st, "enum.vrfy"), "inconclusive", "{}", run.stdout);
    assert_eq!(run.code, 41, "{}", run.all());
}

#[test]
fn from_is_the_envelope_sender_and_header_of_the_probe_mail() {
    let s = Server::start(ServeOptions::default());
    let (run, st) = probe(
        &s.addr(),
        &["--from", "bob@sender.test", "--only", "smuggle.cr-cr"],
    );
    assert_eq!(status(&st, "smuggle.cr-cr"), "pass", "{}", run.all());
    let msgs = s.handle.as_ref().unwrap().messages();
    assert_eq!(msgs.len(), 1, "{}", run.stdout);
    assert_eq!(msgs[0].from, "bob@sender.test");
    assert_eq!(msgs[0].rcpts, vec!["alice@mx.test".to_string()]);
    let content = String::from_utf8_lossy(&msgs[0].content);
    assert!(content.contains("From: <bob@sender.test>"), "{content}");
    assert!(
        line_of(&run, "smuggle.cr-cr")
            .to_string()
            .contains("MAIL FROM:<bob@sender.test>"),
        "{}",
        run.stdout
    );
}

#[test]
fn auth_login_and_cram_md5_reuse_the_send_mechanisms() {
    let s = Server::start(ServeOptions {
        starttls: true,
        ..ServeOptions::default()
    });
    let addr = s.addr();
    let run_with = |mech: &str, password: &str| {
        ehlo_with_env(
            &[
                "probe",
                &addr,
                "--to",
                "alice@mx.test",
                "--tls",
                "-k",
                "--au",
                "alice",
                "--auth",
                mech,
                "--only",
                "enum.vrfy",
                "--json",
            ],
            &[("EHLO_AUTH_PASSWORD", password)],
            None,
            Duration::from_secs(60),
        )
    };
    for mech in ["LOGIN", "CRAM-MD5", "login"] {
        let run = run_with(mech, "pw");
        assert_eq!(run.code, 0, "{mech}: {}", run.all());
        let t = line_of(&run, "enum.vrfy")["evidence"]["transcript"].to_string();
        let upper = mech.to_ascii_uppercase();
        assert!(t.contains(&format!("C: AUTH {upper}")), "{t}");
        assert!(t.contains("S: 334 ") && t.contains("S: 235 "), "{t}");
        assert!(t.contains("C: ********"), "{t}");
        // Neither the password's base64 (LOGIN) nor a digest line in clear.
        assert!(!run.all().contains("cHc="), "{}", run.all());
    }
    let run = run_with("CRAM-MD5", "wrong");
    assert_eq!(run.code, 41, "{}", run.all());
    assert!(run.stdout.contains("AUTH refused: 535"), "{}", run.stdout);

    let run = run_with("XOAUTH2", "pw");
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("--auth XOAUTH2"), "{}", run.stderr);
    let run = ehlo(&["probe", &addr, "--to", "alice@mx.test", "--auth", "LOGIN"]);
    assert_eq!(run.code, 1, "{}", run.all());
}

/// `--auth`'s help names exactly the mechanisms the probe takes: SPA and MSN (NTLM's other
/// names) were taken but not listed; the token mechanisms are refused and not listed.
#[test]
fn probe_auth_help_lists_exactly_the_mechanisms_it_takes() {
    let help = ehlo(&["probe", "--help"]);
    assert_eq!(help.code, 0, "{}", help.all());
    let text: Vec<&str> = help.stdout.lines().collect();
    let at = text
        .iter()
        .position(|l| l.trim_start().starts_with("--auth <MECH>"))
        .unwrap_or_else(|| panic!("{}", help.stdout));
    let end = text[at + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with('-'))
        .map_or(text.len(), |n| at + 1 + n);
    let auth_help = text[at..end].join(" ");
    let listed = |m: &str| {
        auth_help
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .any(|w| w == m)
    };
    for mech in [
        "PLAIN",
        "LOGIN",
        "CRAM-MD5",
        "CRAM-SHA1",
        "SCRAM-SHA-256",
        "DIGEST-MD5",
        "NTLM",
        "SPA",
        "MSN",
        "XOAUTH2",
        "OAUTHBEARER",
        "GSSAPI",
        "SCRAM-SHA-1",
    ] {
        // Nothing listens on port 1: a mechanism taken gets as far as the connect (41).
        let run = ehlo_with_env(
            &[
                "probe",
                "127.0.0.1:1",
                "--to",
                "alice@mx.test",
                "--au",
                "alice",
                "--auth",
                mech,
                "--allow-plaintext-auth",
                "--only",
                "enum.vrfy",
                "--timeout",
                "2s",
            ],
            &[("EHLO_AUTH_PASSWORD", "pw")],
            None,
            Duration::from_secs(30),
        );
        let taken = run.code != 1;
        assert!(
            taken || run.stderr.contains("not a password mechanism"),
            "{mech}: {}",
            run.all()
        );
        assert_eq!(taken, listed(mech), "{mech}: {auth_help}\n{}", run.all());
    }
}

#[test]
fn auth_offered_only_in_the_old_form_before_starttls_fails_the_downgrade_probe() {
    // `AUTH=PLAIN LOGIN` (the pre-RFC 4954 form) is AUTH all the same: credentials before TLS.
    let s = scripted(vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(
            b"250-scripted.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 AUTH=PLAIN LOGIN\r\n",
        ),
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Expect("RSET"),
        Step::Send(b"250 2.0.0 Ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 2.0.0 Bye\r\n"),
    ]);
    let (run, st) = probe(&s.server(), &["--only", "starttls.downgrade"]);
    s.finish();
    assert_eq!(status(&st, "starttls.downgrade"), "fail", "{}", run.stdout);
    let v = line_of(&run, "starttls.downgrade");
    assert_eq!(
        v["evidence"]["auth_before_tls"],
        serde_json::json!(["PLAIN", "LOGIN"])
    );
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .contains("offers AUTH PLAIN LOGIN before STARTTLS"),
        "{v}"
    );
    assert_eq!(run.code, 40, "{}", run.all());
}

#[test]
fn a_close_where_the_221_to_quit_belongs_is_inconclusive() {
    // STARTTLS, the handshake, then the close without a byte: nothing shows the injected line
    // was read and discarded.
    let s = Server::start(ServeOptions {
        starttls: true,
        faults: vec!["quit=drop".into()],
        ..ServeOptions::default()
    });
    let (run, st) = probe(&s.addr(), &["--only", "starttls.injection*"]);
    for id in ["starttls.injection", "starttls.injection-ehlo"] {
        assert_eq!(status(&st, id), "inconclusive", "{id}: {}", run.stdout);
        let why = line_of(&run, id)["summary"].as_str().unwrap().to_string();
        assert!(why.contains("closed the connection"), "{id}: {why}");
    }
    assert_eq!(run.code, 41, "{}", run.all());

    // A server that ends DATA at <LF>.<LF>, answers 250, then closes instead of reading on:
    // one reply, but the mailbox is the only witness now.
    let s = Server::start(ServeOptions {
        quirks: Quirks {
            bare_lf_dot: true,
            ..Quirks::default()
        },
        faults: vec!["mail#2=drop".into()],
        ..ServeOptions::default()
    });
    let (run, st) = probe(&s.addr(), &["--only", "smuggle.lf-lf"]);
    assert_eq!(
        status(&st, "smuggle.lf-lf"),
        "inconclusive",
        "{}",
        run.stdout
    );
    let why = line_of(&run, "smuggle.lf-lf")["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(why.contains("only the mailbox can tell"), "{why}");
    assert_eq!(run.code, 41, "{}", run.all());
}

#[test]
fn reply_text_never_reaches_the_terminal_raw() {
    // A VRFY answer that would overwrite its own fail line on a terminal with a forged pass:
    // CR, erase-line, then control bytes and a byte that is not UTF-8.
    let s = scripted(after_greet(vec![
        Step::Expect("VRFY"),
        Step::Send(b"250 2.0.0 <x>\r\x1b[2K  \xe2\x9c\x93 pass  enum.vrfy \x00\x01\x0c\xff\r\n"),
        Step::Expect("VRFY"),
        Step::Send(b"550 5.1.1 unknown\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 2.0.0 Bye\r\n"),
    ]));
    let run = ehlo_with(
        &[
            "probe",
            &s.server(),
            "--to",
            "alice@mx.test",
            "--only",
            "enum.vrfy",
            "--timeout",
            "5s",
        ],
        None,
        Duration::from_secs(60),
    );
    s.finish();
    assert_eq!(run.code, 40, "{}", run.all());
    let out = &run.stdout;
    let raw: Vec<char> = out
        .chars()
        .filter(|&c| c.is_control() && c != '\n')
        .collect();
    assert!(raw.is_empty(), "raw {raw:?} in\n{out}");
    // The summary shows what the server sent, escaped, on the fail line itself.
    let fail = out
        .lines()
        .find(|l| l.starts_with("  ✗ fail  enum.vrfy"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        fail.contains("<x>\\x0D\\x1B[2K  ✓ pass  enum.vrfy \\x00\\x01\\x0C\\xFF"),
        "{fail}"
    );
    // No line of its own starts with the forged verdict; the transcript shows the bytes.
    assert!(!out.lines().any(|l| l.starts_with("  ✓ pass")), "{out}");
    assert!(out.contains("S: 250 2.0.0 <x>\\r\\x1b[2K"), "{out}");
    assert!(out.contains("\\x00\\x01\\x0c\\xff"), "{out}");
}

/// `--expect ID=fail` met against a deliberately vulnerable server is a pass for CI: exit 0,
/// the result shown with "(not counted: expected by --expect …)", its JUnit case no failure.
/// It exited 40 with every expectation met. An unmet expectation, or a failure nobody
/// expected, still fails the run.
#[test]
fn a_met_expectation_of_a_failure_is_a_pass() {
    let s = lf_dot_server();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("probe.xml");
    let junit_arg = junit.to_str().unwrap().to_string();
    let run_with = |extra: &[&str]| {
        let mut args = vec![
            "probe",
            "--to",
            "alice@mx.test",
            "--yes",
            "--only",
            "smuggle.lf-lf",
            "--junit",
            &junit_arg,
        ];
        let addr = s.addr();
        args.extend(extra);
        args.push(&addr);
        ehlo(&args)
    };
    let run = run_with(&["--expect", "smuggle.lf-lf=fail"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .lines()
            .any(|l| l.contains("✗ fail  smuggle.lf-lf")
                && l.ends_with("(not counted: expected by --expect smuggle.lf-lf=fail)")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("✓ pass  expect smuggle.lf-lf=fail"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("exit 0"), "{}", run.stdout);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(!xml.contains("<failure"), "{xml}");

    // The JSON line says it does not count, and why.
    let run = run_with(&["--json", "--expect", "smuggle.lf-lf=fail"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let line: Value = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "probe" && v["id"] == "smuggle.lf-lf")
        .expect("the probe line");
    assert_eq!(line["status"], "fail", "{line}");
    assert_eq!(line["counts"], false, "{line}");
    assert_eq!(
        line["note"], "expected by --expect smuggle.lf-lf=fail",
        "{line}"
    );

    // Without the expectation, or with one that is not met, the failure fails the run.
    for extra in [&[][..], &["--expect", "smuggle.lf-lf=pass"][..]] {
        let run = run_with(extra);
        assert_eq!(run.code, 40, "{extra:?}: {}", run.all());
        assert!(
            !run.stdout.contains("not counted"),
            "{extra:?}: {}",
            run.stdout
        );
    }
}

#[test]
fn expect_lines_name_inconclusive_as_the_probe_lines_do() {
    // Nothing listens: every probe is inconclusive, and the expectation says the same word.
    let port = crate::util::free_port();
    let (run, st) = probe(
        &format!("127.0.0.1:{port}"),
        &[
            "--only",
            "enum.vrfy",
            "--expect",
            "enum.vrfy=inconclusive",
            "--expect",
            "enum.vrfy=pass",
        ],
    );
    assert_eq!(status(&st, "enum.vrfy"), "inconclusive", "{}", run.stdout);
    let expects: Vec<Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "expect")
        .collect();
    assert_eq!(expects.len(), 2, "{}", run.stdout);
    for e in &expects {
        assert_eq!(e["found"], "inconclusive", "{e}");
    }
    assert_eq!(expects[0]["met"], true, "{}", expects[0]);
    assert_eq!(expects[1]["met"], false, "{}", expects[1]);
    // `=pass` about a probe that could not run is not decided, the reason said: inconclusive,
    // as the probe is (exit 41), not a failure of the server (it was unmet, exit 40).
    assert_eq!(expects[1]["verdict"], "not_decided", "{}", expects[1]);
    let reason = expects[1]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("enum.vrfy was inconclusive: cannot connect"),
        "{reason}"
    );
    assert_eq!(run.code, 41, "{}", run.all());
    // --untested-ok: inconclusive alone is exit 0 (41 without it); an expectation not decided
    // keeps 41: the pipeline asked for it by name, and it was not shown to hold (it was 40 as
    // unmet; exit 0 would pass an assertion nobody tested).
    let (run, st) = probe(
        &format!("127.0.0.1:{port}"),
        &["--only", "enum.vrfy", "--untested-ok"],
    );
    assert_eq!(status(&st, "enum.vrfy"), "inconclusive", "{}", run.stdout);
    assert_eq!(run.code, 0, "{}", run.all());
    let (run, _) = probe(&format!("127.0.0.1:{port}"), &["--only", "enum.vrfy"]);
    assert_eq!(run.code, 41, "{}", run.all());
    let (run, _) = probe(
        &format!("127.0.0.1:{port}"),
        &[
            "--only",
            "enum.vrfy",
            "--untested-ok",
            "--expect",
            "enum.vrfy=pass",
        ],
    );
    assert_eq!(run.code, 41, "{}", run.all());

    let r = ehlo(&[
        "probe",
        "127.0.0.1:9",
        "--to",
        "a@b.test",
        "--expect",
        "enum.vrfy=bogus",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("(pass, info, skip, warn, inconclusive, fail)"),
        "{}",
        r.stderr
    );
}

#[test]
fn ctrl_c_ends_the_run_with_a_report_and_exit_41() {
    // A server that never greets, a long timeout: Ctrl-C must end the run with its report.
    let silent = Server::start(ServeOptions {
        faults: vec!["banner=silent".into()],
        ..ServeOptions::default()
    });
    let args: Vec<String> = [
        "probe",
        &silent.addr(),
        "--to",
        "alice@mx.test",
        "--yes",
        "--json",
        "--timeout",
        "60s",
        "--only",
        "relay.open",
        "--only",
        "enum.vrfy",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (mut child, rx, stderr) = spawn_ehlo(&args);
    // The note line comes before the first probe connects.
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the schema line");
    std::thread::sleep(Duration::from_millis(500));
    let t0 = std::time::Instant::now();
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let (code, _) = wait_sampling(&mut child, Duration::from_secs(20));
    let mut lines = vec![first];
    lines.extend(rx.try_iter());
    let all = format!("{}\n{}", lines.join("\n"), stderr.join().unwrap());
    assert!(t0.elapsed() < Duration::from_secs(15), "{all}");
    assert_eq!(code, 41, "{all}");
    let v: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = v.last().unwrap();
    assert_eq!(summary["type"], "summary", "{all}");
    assert_eq!(summary["exit_code"], 41, "{all}");
    assert!(
        summary["stopped"].as_str().unwrap().contains("Ctrl-C"),
        "{all}"
    );
    // Both probes are in the report: the one cut short and the one never started.
    assert!(all.contains("not finished: interrupted (Ctrl-C)"), "{all}");
    assert!(all.contains("not run: interrupted (Ctrl-C)"), "{all}");
}

/// postscreen with greet_action = enforce: `220-` first, then the early EHLO's `250` in place
/// of the rest of the greeting. The probe takes the replies apart at once (no wait for a
/// second EHLO reply) and passes: the early talker was noticed.
#[test]
fn early_talker_answered_inside_an_unfinished_greeting_passes_at_once() {
    let s = scripted(vec![
        Step::Send(b"220-mx.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-mx.test\r\n250 PIPELINING\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 2.0.0 Bye\r\n"),
    ]);
    let t0 = std::time::Instant::now();
    let (run, st) = probe(
        &s.server(),
        &["--only", "pipelining.early-talker", "--timeout", "10s"],
    );
    assert_eq!(
        status(&st, "pipelining.early-talker"),
        "pass",
        "{}",
        run.all()
    );
    assert!(t0.elapsed() < Duration::from_secs(8), "{:?}", t0.elapsed());
    let why = line_of(&run, "pipelining.early-talker")["summary"].to_string();
    assert!(why.contains("stopped its greeting"), "{why}");
    s.finish();
}

/// A server that keeps answering after QUIT holds one probe for one --timeout, not one
/// --timeout per reply.
#[test]
fn replies_after_quit_stop_at_one_timeout() {
    let mut steps = after_greet(vec![
        Step::Expect("VRFY"),
        Step::Send(b"252 2.0.0 x\r\n"),
        Step::Expect("VRFY"),
        Step::Send(b"252 2.0.0 x\r\n"),
        Step::Expect("QUIT"),
    ]);
    // 20 replies 0.7 s apart: each one within --timeout 1s, 14 s in all.
    for _ in 0..20 {
        steps.push(Step::Send(b"250 still here\r\n"));
        steps.push(Step::Sleep(Duration::from_millis(700)));
    }
    let s = scripted(steps);
    let t0 = std::time::Instant::now();
    let (run, _) = probe(&s.server(), &["--only", "enum.vrfy", "--timeout", "1s"]);
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}\n{}", run.all());
    // The script goes on writing into the closed connection; it is not waited for.
    drop(s);
}

/// A server that answers every line it reads, inside DATA too (no `354` among the replies,
/// more replies than the smuggled commands): the smuggling probe cannot tell, whatever the
/// variant; it fails only on the smuggled transaction's own replies.
#[test]
fn a_server_answering_every_line_is_no_smuggling_evidence() {
    let s = scripted(after_greet(vec![
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 OK\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"250 OK\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\r\n"),
        Step::Line,
        Step::SendOwned(b"250 OK\r\n".repeat(12)),
        Step::Sleep(Duration::from_secs(2)),
    ]));
    let (run, st) = probe(&s.server(), &["--only", "smuggle.cr-cr", "--timeout", "1s"]);
    assert_eq!(
        status(&st, "smuggle.cr-cr"),
        "inconclusive",
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("only the mailbox can tell"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 41, "{}", run.all());
}

/// The server resets the connection right after its `354` (it closes with our DATA line still
/// unread, so the close is a reset): the content's write fails, or, when the write went out
/// before the reset arrived, the read of the reply to it does. Part of a message that reaches a
/// server may be queued, so either way every output (JSON, JUnit, the report) names the token
/// to look for; the cut write said only "the server closed the connection (waiting for the
/// write reply)". Which of the two races happened is the scheduler's: the decision itself is
/// pinned by `smuggle_cut_while_writing_the_content_says_it_may_have_been_delivered`.
#[test]
fn a_message_cut_while_being_written_is_said_to_be_maybe_delivered() {
    let script = || {
        after_greet(vec![
            Step::Expect("MAIL FROM:"),
            Step::Send(b"250 OK\r\n"),
            Step::Expect("RCPT TO:"),
            Step::Send(b"250 OK\r\n"),
            // DATA arrives and stays unread: the close below resets the connection.
            Step::Sleep(Duration::from_millis(300)),
            Step::Send(b"354 go\r\n"),
            Step::Close,
        ])
    };
    let s = scripted(script());
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("probe.xml");
    let junit_arg = junit.to_str().unwrap();
    let (run, st) = probe(
        &s.server(),
        &["--only", "smuggle.lf-lf", "--junit", junit_arg],
    );
    assert_eq!(
        status(&st, "smuggle.lf-lf"),
        "inconclusive",
        "{}",
        run.all()
    );
    assert_eq!(run.code, 41, "{}", run.all());
    let line = line_of(&run, "smuggle.lf-lf");
    let token = line["evidence"]["token"].as_str().unwrap_or_default();
    assert!(token.ends_with("-smuggle-lf-lf"), "{line}");
    let summary = line["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("may have been delivered") && summary.contains(token),
        "{summary}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(token), "{xml}");
    // The report a person reads says it too.
    let s = scripted(script());
    let run = ehlo_with(
        &[
            "probe",
            &s.server(),
            "--to",
            "alice@mx.test",
            "--yes",
            "--only",
            "smuggle.lf-lf",
        ],
        None,
        Duration::from_secs(60),
    );
    assert_eq!(run.code, 41, "{}", run.all());
    assert!(
        run.stdout.contains("may have been delivered")
            && run.stdout.contains("ehlo-probe-")
            && run.stdout.contains("-smuggle-lf-lf)"),
        "{}",
        run.stdout
    );
}

/// An EHLO reply that never ends: cut off at the reader's limit, and the probe stops there
/// (inconclusive) instead of reading the rest of the flood as the answers to MAIL and RCPT
/// (which made relay.open fail on `250 XAAA…`).
#[test]
fn a_flooded_reply_ends_the_probe_inconclusive() {
    let s = scripted(vec![
        Step::Send(b"220 flood.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Flood(
            b"250-XAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
            Duration::from_secs(20),
        ),
    ]);
    let t0 = std::time::Instant::now();
    let (run, st) = probe(&s.server(), &["--only", "relay.open", "--timeout", "2s"]);
    assert!(t0.elapsed() < Duration::from_secs(15), "{}", run.all());
    assert_eq!(status(&st, "relay.open"), "inconclusive", "{}", run.all());
    assert!(
        run.stdout
            .contains("the reply to EHLO is not SMTP: a reply too large"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 41, "{}", run.all());
}

/// A server that answers `250` to QUIT and keeps the connection open: that one reply after
/// QUIT may be QUIT's, so limits.line shows no split (it failed here before).
#[test]
fn one_reply_after_quit_without_221_or_close_is_no_split() {
    let s = scripted(after_greet(vec![
        Step::Line,
        Step::Send(b"250 OK\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"250 OK\r\n"),
        Step::Sleep(Duration::from_secs(3)),
    ]));
    let (run, st) = probe(&s.server(), &["--only", "limits.line", "--timeout", "1s"]);
    assert_eq!(status(&st, "limits.line"), "inconclusive", "{}", run.all());
    assert!(
        run.stdout.contains("may be QUIT's answer"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 41, "{}", run.all());
}

/// A wrong --auth-user password: one AUTH, answered 535; the other authenticated probes are
/// not run (no lockout), the unauthenticated ones still are.
#[test]
fn a_refused_password_is_sent_once() {
    let s = Server::start(ServeOptions {
        starttls: true,
        ..ServeOptions::default()
    });
    let run = ehlo_with_env(
        &[
            "probe",
            &s.addr(),
            "--to",
            "alice@mx.test",
            "--tls",
            "-k",
            "--au",
            "alice",
            "--json",
            "--yes",
            "--timeout",
            "5s",
            "--only",
            "enum.*",
            "--only",
            "limits.*",
            "--only",
            "relay.open",
        ],
        &[("EHLO_AUTH_PASSWORD", "wrong")],
        None,
        Duration::from_secs(120),
    );
    // 41, or 40 when relay.open fails (ehlo serve relays for anyone).
    assert!(matches!(run.code, 40 | 41), "{}", run.all());
    assert_eq!(
        run.stdout.matches("AUTH PLAIN ********").count(),
        1,
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stdout.matches("not run: AUTH failed").count(),
        5,
        "{}",
        run.stdout
    );
    // relay.open does not authenticate: it still ran.
    let relay = line_of(&run, "relay.open");
    assert!(!relay["summary"].to_string().contains("not run"), "{relay}");
}

/// An unwritable --junit path stops the run before any probe sends mail, as `ehlo check`
/// refuses it: one line on stderr and, under `--json`, the report's `schema`, `error` and a
/// `summary` with exit code 1 (it used to be a `schema` and an `error` line, no `summary`, and
/// nothing on stderr; then nothing on stdout at all).
#[test]
fn an_unwritable_junit_path_is_refused_before_any_probe() {
    let s = Server::start(ServeOptions::default());
    let (run, st) = probe(
        &s.addr(),
        &[
            "--only",
            "smuggle.lf-lf",
            "--junit",
            "/nonexistent-ehlo-dir/probe.xml",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.all());
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = lines.iter().filter_map(|v| v["type"].as_str()).collect();
    assert_eq!(kinds, ["schema", "error", "summary"], "{}", run.stdout);
    assert_eq!(lines[0]["mode"], "probe", "{}", run.stdout);
    assert_eq!(lines[2]["exit_code"], 1, "{}", run.stdout);
    assert_eq!(lines[2]["domains"], 0, "{}", run.stdout);
    assert_eq!(lines[2]["stopped"], lines[1]["message"], "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("*** cannot write --junit /nonexistent-ehlo-dir/probe.xml"),
        "{}",
        run.stderr
    );
    assert!(st.is_empty(), "{st:?}");
    assert!(s.subjects().is_empty(), "{:?}", s.subjects());
}

/// With `@domain` every probe opens its own connection and picks its MX host anew (equal
/// preferences are shuffled), so a result is only actionable when it says whom it reached:
/// nothing did before, and with two MX hosts a fail could not be pinned on either. Each
/// result's evidence now names the host and address, and its transcript starts with them.
#[test]
fn every_result_names_the_mx_host_and_address_it_reached() {
    let server = Server::start(ServeOptions::default());
    let port = server.addr().rsplit(':').next().unwrap().to_string();
    let (dns, _h) = mx_domain(&[(10, 'a', 1), (10, 'b', 1)]);
    let ids = [
        "enum.vrfy",
        "enum.expn",
        "limits.line",
        "limits.nul",
        "limits.bare-lf-command",
        "starttls.downgrade",
    ];
    let mut args = vec!["--dns-server", dns.as_str(), "--port", port.as_str()];
    for id in ids {
        args.extend(["--only", id]);
    }
    let (run, st) = probe("@example.test", &args);
    let hosts = [
        format!("mx-a.example.test [127.0.0.1:{port}]"),
        format!("mx-b.example.test [127.0.0.1:{port}]"),
    ];
    for id in ids {
        assert_ne!(status(&st, id), "inconclusive", "{id}: {}", run.all());
        let v = line_of(&run, id);
        let reached = v["evidence"]["server"].as_str().unwrap_or_default();
        assert!(hosts.iter().any(|h| h == reached), "{id}: {v}");
        assert_eq!(
            v["evidence"]["transcript"][0].as_str(),
            Some(format!("-- connected to {reached}").as_str()),
            "{id}: {v}"
        );
    }
    // The human report shows it with the evidence of every result that needs acting on.
    let human = ehlo_with(
        &[
            "probe",
            "@example.test",
            "--to",
            "alice@mx.test",
            "--yes",
            "--dns-server",
            &dns,
            "--port",
            &port,
            "--only",
            "pipelining.early-talker",
        ],
        None,
        Duration::from_secs(60),
    );
    // The early talker answered is a warn (exit 0), shown with its evidence all the same.
    assert_eq!(human.code, 0, "{}", human.all());
    assert!(human.stdout.contains("! warn"), "{}", human.all());
    assert!(
        hosts
            .iter()
            .any(|h| human.stdout.contains(&format!("-- connected to {h}"))),
        "{}",
        human.all()
    );
}

/// `--deadline` bounds the whole run as `ehlo check`'s does: against a server that never greets,
/// its first two probes at `--timeout 3s` would take 6 s (the rest are not run); with
/// `--deadline 2s` the run ends after about 2 s, the probe under way "not finished", the rest
/// "not run" (evidence `unfinished`), an `--expect` about them not evaluated, the summary's
/// `stopped` saying why, the JUnit file written, exit 41.
#[test]
fn the_deadline_stops_a_run_on_a_silent_server() {
    let silent = Server::start(ServeOptions {
        faults: vec!["banner=silent".into()],
        ..ServeOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("probe.xml");
    let junit_arg = junit.to_str().unwrap();
    let addr = silent.addr();
    let args = [
        "probe",
        &addr,
        "--to",
        "alice@mx.test",
        "--yes",
        "--timeout",
        "3s",
        "--deadline",
        "2s",
        "--expect",
        "relay.open=pass",
    ];
    let mut json_args = args.to_vec();
    json_args.extend(["--json", "--junit", junit_arg]);
    let t0 = std::time::Instant::now();
    let run = ehlo_with(&json_args, None, Duration::from_secs(90));
    let took = t0.elapsed();
    assert_eq!(run.code, 41, "{}", run.all());
    assert!(took < Duration::from_secs(15), "{took:?}\n{}", run.all());
    assert!(took >= Duration::from_secs(2), "{took:?}\n{}", run.all());
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let probes: Vec<&Value> = lines.iter().filter(|v| v["type"] == "probe").collect();
    assert_eq!(probes.len(), 22, "{}", run.stdout);
    assert!(
        probes.iter().all(|v| v["status"] == "inconclusive"),
        "{}",
        run.stdout
    );
    assert!(
        probes.iter().all(|v| v["evidence"]["unfinished"] == true),
        "{}",
        run.stdout
    );
    let summaries: Vec<&str> = probes
        .iter()
        .map(|v| v["summary"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries[0], "not finished: deadline reached (--deadline)",
        "{}",
        run.stdout
    );
    assert!(
        summaries[1..]
            .iter()
            .all(|s| *s == "not run: deadline reached (--deadline)"),
        "{}",
        run.stdout
    );
    // relay.open was never tested: its --expect is listed, not decided, the reason said (it
    // was left out of every output; an unmet one would be exit 40).
    let expects: Vec<&Value> = lines.iter().filter(|v| v["type"] == "expect").collect();
    assert_eq!(expects.len(), 1, "{}", run.stdout);
    assert_eq!(expects[0]["verdict"], "not_decided", "{}", expects[0]);
    assert_eq!(
        expects[0]["reason"], "relay.open not run: deadline reached (--deadline)",
        "{}",
        expects[0]
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary", "{}", run.stdout);
    assert_eq!(summary["exit_code"], 41, "{}", run.stdout);
    assert_eq!(
        summary["stopped"], "deadline reached (--deadline)",
        "{}",
        run.stdout
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("not finished: deadline reached"), "{xml}");

    // The human report says the run stopped and why.
    let run = ehlo_with(&args, None, Duration::from_secs(90));
    assert_eq!(run.code, 41, "{}", run.all());
    assert!(
        run.stdout
            .contains("deadline reached (--deadline): the report is partial"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("exit 41"), "{}", run.stdout);
}

/// `@domain` whose name does not resolve: the first probe says why it could not connect, and
/// the human report lists the other 20 once, compactly — it printed the same "not run: cannot
/// connect: …" line and a citation for each of them. The JSON keeps one `probe` line per probe
/// (the documented contract), each with its own summary.
#[test]
fn a_failed_lookup_is_said_once_and_the_probes_not_run_are_listed_compactly() {
    use ehlo::net::testutil::FakeDns;
    let (dns, _h) = FakeDns::start(vec![]);
    let dns = dns.to_string();
    let args = [
        "probe",
        "@nx.example.test",
        "--to",
        "alice@mx.test",
        "--yes",
        "--dns-server",
        dns.as_str(),
    ];
    let human = ehlo_with(&args, None, Duration::from_secs(60));
    assert_eq!(human.code, 41, "{}", human.all());
    let out = &human.stdout;
    assert_eq!(
        out.matches("nx.example.test does not exist").count(),
        1,
        "{out}"
    );
    assert!(!out.contains("not run: cannot connect"), "{out}");
    let head = "  ? inconclusive 21 probes not run for the same reason:";
    let group: Vec<&str> = out
        .lines()
        .skip_while(|l| *l != head)
        .skip(1)
        .take_while(|l| l.starts_with("      "))
        .collect();
    assert!(group.len() > 1, "{out}");
    assert!(group.iter().all(|l| l.chars().count() <= 80), "{out}");
    let listed: Vec<&str> = group
        .iter()
        .flat_map(|l| l.split(',').map(str::trim))
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(listed.len(), 21, "{out}");
    assert!(listed.contains(&"smuggle.crlf-nul"), "{out}");
    assert!(out.contains("22 inconclusive"), "{out}");

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let json = ehlo_with(&json_args, None, Duration::from_secs(60));
    assert_eq!(json.code, 41, "{}", json.all());
    let probes: Vec<Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "probe")
        .collect();
    assert_eq!(probes.len(), 22, "{}", json.stdout);
    assert_eq!(
        probes
            .iter()
            .filter(|v| v["summary"]
                .as_str()
                .unwrap()
                .starts_with("not run: cannot connect: nx.example.test does not exist"))
            .count(),
        21,
        "{}",
        json.stdout
    );
}

/// A reply that stops partway (`250-first`, `250-second`, then silence): the transcript shows
/// the lines that had arrived, as it shows a reply cut off by the close, in the human report
/// and in the JSON evidence alike. It showed only `C: EHLO …` and "no ehlo reply".
#[test]
fn a_reply_cut_off_by_the_timeout_shows_what_had_arrived() {
    use std::io::{BufRead, BufReader, Write};
    let addr = each_connection(|mut c| {
        let _ = c.write_all(b"220 stall.test ESMTP\r\n");
        let mut lines = BufReader::new(c.try_clone().unwrap());
        let mut line = String::new();
        if lines.read_line(&mut line).is_ok() {
            let _ = c.write_all(b"250-first\r\n250-second\r\n250-thi");
        }
        std::thread::sleep(Duration::from_secs(10));
    });
    for json in [false, true] {
        let mut args = vec![
            "probe",
            &addr,
            "--to",
            "alice@mx.test",
            "--yes",
            "--timeout",
            "1s",
            "--only",
            "relay.open",
        ];
        if json {
            args.push("--json");
        }
        let run = ehlo_with(&args, None, Duration::from_secs(30));
        assert_eq!(run.code, 41, "{}", run.all());
        let shown = if json {
            line_of(&run, "relay.open")["evidence"]["transcript"].to_string()
        } else {
            run.stdout.clone()
        };
        let want = if json {
            r#"S: 250-first\\r\\n250-second\\r\\n250-thi (cut off by the timeout: 2 lines (30 bytes), the reply not finished, the last line without a line end)"#
        } else {
            r"S: 250-first\r\n250-second\r\n250-thi (cut off by the timeout: 2 lines (30 bytes), the reply not finished, the last line without a line end)"
        };
        assert!(shown.contains(want), "json {json}: {shown}");
        assert!(
            run.stdout.contains("no reply to EHLO "),
            "json {json}: {}",
            run.stdout
        );
    }
}

/// A loopback server that greets, answers EHLO, then, per line, calls `on_line`: `Some(reply)`
/// to answer it, `None` to close; every connection counted in `conns`.
fn line_server(
    on_line: fn(&[u8]) -> Option<&'static [u8]>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    line_server_at("127.0.0.1:0", on_line)
}

/// [`line_server`] listening on `at`.
fn line_server_at(
    at: &str,
    on_line: fn(&[u8]) -> Option<&'static [u8]>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let conns = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = conns.clone();
    let addr = each_connection_at(at, move |mut c| {
        counted.fetch_add(1, Ordering::SeqCst);
        let _ = c.write_all(b"220 close.test ESMTP\r\n");
        let mut lines = BufReader::new(c.try_clone().unwrap());
        let mut line = Vec::new();
        if lines.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            return;
        }
        let _ = c.write_all(b"250-close.test\r\n250 PIPELINING\r\n");
        loop {
            line.clear();
            if lines.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
                return;
            }
            match on_line(&line) {
                Some(reply) => {
                    let _ = c.write_all(reply);
                }
                // A normal close (FIN), the line read first.
                None => {
                    let _ = c.shutdown(std::net::Shutdown::Both);
                    return;
                }
            }
        }
    });
    (addr, conns)
}

/// A loopback server that hands every connection to `serve` in a thread of its own; its
/// address.
fn each_connection(serve: impl Fn(std::net::TcpStream) + Send + Sync + 'static) -> String {
    each_connection_at("127.0.0.1:0", serve)
}

/// [`each_connection`] listening on `at`.
fn each_connection_at(
    at: &str,
    serve: impl Fn(std::net::TcpStream) + Send + Sync + 'static,
) -> String {
    let listener = std::net::TcpListener::bind(at).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let serve = std::sync::Arc::new(serve);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(c) = conn else { continue };
            let serve = serve.clone();
            std::thread::spawn(move || serve(c));
        }
    });
    addr
}

/// A server that closes with a normal FIN after EHLO whatever comes next closed on nothing the
/// probes' lines held: the three limits probes passed ("closed the connection on the NUL
/// byte"). A control connection (the same greeting, then a NOOP of normal length) is closed
/// too: inconclusive, saying why, with one control for the whole run (4 connections).
#[test]
fn a_server_closing_after_ehlo_whatever_comes_is_no_limits_pass() {
    let (addr, conns) = line_server(|_| None);
    let (run, st) = probe(&addr, &["--only", "limits.*", "--timeout", "2s"]);
    for id in ["limits.line", "limits.bare-lf-command", "limits.nul"] {
        assert_eq!(status(&st, id), "inconclusive", "{id}\n{}", run.all());
        let l = line_of(&run, id);
        assert!(
            l["summary"].as_str().unwrap().contains(
                "did not answer a control connection's NOOP of normal length there either"
            ),
            "{l}"
        );
        assert_eq!(l["evidence"]["control"]["answered"], false, "{l}");
        assert_eq!(l["evidence"]["control"]["by"], "limits.line", "{l}");
    }
    assert_eq!(run.code, 41, "{}", run.all());
    assert_eq!(conns.load(std::sync::atomic::Ordering::SeqCst), 4);
}

/// A server that answers a harmless line and closes on the probes' (an over-long line, a bare
/// LF, a NUL byte): the close is its reaction, so the probes pass, naming the control.
#[test]
fn a_close_on_the_line_alone_passes_after_the_control() {
    let (addr, conns) = line_server(|l| {
        let bad = l.len() > 1000 || l.contains(&0) || !l.ends_with(b"\r\n");
        match () {
            _ if bad => None,
            _ if l.starts_with(b"QUIT") => Some(b"221 bye\r\n"),
            _ => Some(b"250 ok\r\n"),
        }
    });
    let (run, st) = probe(&addr, &["--only", "limits.*", "--timeout", "2s"]);
    for id in ["limits.line", "limits.bare-lf-command", "limits.nul"] {
        assert_passed_after_an_answered_control(&run, &st, id);
    }
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(conns.load(std::sync::atomic::Ordering::SeqCst), 4);
}

/// The control connection of an IPv6 server goes to the same IPv6 address as the probe's own
/// (it was rebuilt from the address's text, which dropped a scoped address's zone: to
/// `fe80::…%eth0` the control was refused, limits.line inconclusive, exit 41; the scope itself
/// is tested in `probe::tests`). On `[::1]`: the close is the line's, the control answered
/// there, 2 connections.
#[test]
fn an_ipv6_servers_control_connection_reaches_it() {
    let (addr, conns) = line_server_at("[::1]:0", |l| match () {
        _ if l.len() > 1000 => None,
        _ if l.starts_with(b"QUIT") => Some(b"221 bye\r\n"),
        _ => Some(b"250 ok\r\n"),
    });
    assert!(addr.starts_with("[::1]:"), "{addr}");
    let (run, st) = probe(&addr, &["--only", "limits.line", "--timeout", "2s"]);
    assert_passed_after_an_answered_control(&run, &st, "limits.line");
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(conns.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// Probe `id` passed, its summary ending with the control connection's answered NOOP.
fn assert_passed_after_an_answered_control(run: &Run, st: &HashMap<String, String>, id: &str) {
    assert_eq!(status(st, id), "pass", "{id}\n{}", run.all());
    let l = line_of(run, id);
    assert!(
        l["summary"]
            .as_str()
            .unwrap()
            .ends_with("(a control connection's NOOP of normal length got 250 ok)"),
        "{l}"
    );
}

/// A server that sends `250` endlessly after EHLO: the replies were there before the probe's
/// line was written, so they are no split (limits.line failed: "split … 8 extra replies",
/// the others warned). Inconclusive, saying so.
#[test]
fn replies_sent_before_the_limits_line_are_no_split() {
    use std::io::{BufRead, BufReader, Write};
    let addr = each_connection(|mut c| {
        let _ = c.write_all(b"220 chatty.test ESMTP\r\n");
        let mut lines = BufReader::new(c.try_clone().unwrap());
        let mut line = String::new();
        let _ = lines.read_line(&mut line);
        let mut burst = b"250-chatty.test\r\n250 PIPELINING\r\n".to_vec();
        burst.extend(b"250 x\r\n".repeat(200));
        let _ = c.write_all(&burst);
        for _ in 0..200 {
            std::thread::sleep(Duration::from_millis(20));
            if c.write_all(&b"250 x\r\n".repeat(50)).is_err() {
                return;
            }
        }
    });
    let (run, st) = probe(&addr, &["--only", "limits.*", "--timeout", "2s"]);
    for id in ["limits.line", "limits.bare-lf-command", "limits.nul"] {
        assert_eq!(status(&st, id), "inconclusive", "{id}\n{}", run.all());
        let l = line_of(&run, id);
        assert!(
            l["summary"]
                .as_str()
                .unwrap()
                .contains("the server had sent replies nobody asked for"),
            "{l}"
        );
    }
    assert_eq!(run.code, 41, "{}", run.all());
}

/// A server whose unasked reply comes only after the probe's line was written (here: one more
/// `250` before its `221` to every QUIT) gave every `limits.*` line one reply more than asked:
/// limits.line failed ("split … 1 extra reply"), bare-lf-command warned. A control connection
/// whose NOOP and QUIT get that reply too shows it is no split: inconclusive. A server that
/// answers the NUL line twice (the NUL ended a command, the rest ran as one of its own) made
/// limits.nul warn on the first reply alone: it is a split, and fails.
#[test]
fn replies_the_server_sends_after_the_limits_line_unasked_are_no_split() {
    use std::io::{BufRead, BufReader, Write};
    let server = |nul_split: bool| {
        each_connection(move |mut c| {
            let _ = c.write_all(b"220 late.test ESMTP\r\n");
            let mut lines = BufReader::new(c.try_clone().unwrap());
            let mut line = Vec::new();
            while lines.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                let reply: &[u8] = if line.starts_with(b"EHLO") {
                    b"250-late.test\r\n250 PIPELINING\r\n"
                } else if line.starts_with(b"QUIT") {
                    if nul_split {
                        b"221 bye\r\n"
                    } else {
                        b"250 unasked\r\n221 bye\r\n"
                    }
                } else if nul_split && line.contains(&0) {
                    b"250 ok\r\n500 unrecognized\r\n"
                } else {
                    b"250 ok\r\n"
                };
                let _ = c.write_all(reply);
                if line.starts_with(b"QUIT") {
                    return;
                }
                line.clear();
            }
        })
    };
    let addr = server(false);
    let (run, st) = probe(&addr, &["--only", "limits.*", "--timeout", "2s"]);
    for id in ["limits.line", "limits.bare-lf-command", "limits.nul"] {
        assert_eq!(status(&st, id), "inconclusive", "{id}\n{}", run.all());
    }
    let l = line_of(&run, "limits.line");
    assert!(
        l["summary"]
            .as_str()
            .unwrap()
            .contains("the server sends replies nobody asked for"),
        "{l}"
    );
    assert_eq!(l["evidence"]["control"]["unasked"], 1, "{l}");
    assert_eq!(run.code, 41, "{}", run.all());

    let addr = server(true);
    let (run, st) = probe(&addr, &["--only", "limits.nul", "--timeout", "2s"]);
    assert_eq!(status(&st, "limits.nul"), "fail", "{}", run.all());
    assert!(
        line_of(&run, "limits.nul")["summary"]
            .as_str()
            .unwrap()
            .contains("split RSET<NUL> ehlo-probe into two commands"),
        "{}",
        run.all()
    );
    assert_eq!(run.code, 40, "{}", run.all());
}

/// A bare IPv6 address with a port after one more colon (`::1:PORT`) is no address and no
/// HOST:PORT: a send's `--server` refused it, but `ehlo probe` and `ehlo repl` split it at its
/// last colon and connected to [::1]:PORT. Now every mode reads the server one way: exit 1,
/// the send's words, nothing connected. (Binds ::1: the loopback has IPv6 here and in CI.)
#[test]
fn a_bare_ipv6_address_with_a_port_is_refused_in_every_mode() {
    let wire = std::net::TcpListener::bind("[::1]:0").unwrap();
    wire.set_nonblocking(true).unwrap();
    // An ephemeral port has five digits: no 16-bit group, so `::1:PORT` is no IPv6 address.
    let bad = format!("::1:{}", wire.local_addr().unwrap().port());
    let want =
        format!("'{bad}' is not HOST:PORT; write IPv6 addresses as [ADDR]:PORT or ADDR/PORT");
    for args in [
        vec!["--server", &bad, "--to", "a@b.test"],
        vec!["probe", &bad, "--to", "a@b.test"],
        vec!["repl", &bad],
    ] {
        let run = ehlo_with(&args, Some(b"QUIT\n"), Duration::from_secs(30));
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        assert!(run.stderr.contains(&want), "{args:?}: {}", run.all());
        assert!(wire.accept().is_err(), "{args:?} connected to [::1]:PORT");
    }
}

/// RFC 5321's `IPv6:` tag with no IPv6 address after it (`[IPv6:127.0.0.1]:PORT`, a name) is
/// bad input in every mode that reads a server: exit 1, one line naming the form to write.
/// It was looked up in DNS as the name `IPv6:127.0.0.1`, which no name can be (exit 2), as
/// `--to user@[IPv6:127.0.0.1]` is refused and not routed.
#[test]
fn an_ipv6_tag_without_an_ipv6_address_is_refused_in_every_mode() {
    let wire = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    wire.set_nonblocking(true).unwrap();
    let port = wire.local_addr().unwrap().port();
    let v4 = format!("[IPv6:127.0.0.1]:{port}");
    let name = format!("[IPv6:localhost]:{port}");
    let cases = [
        (
            vec!["--server", &v4, "--to", "a@b.test"],
            "write [127.0.0.1]",
        ),
        (vec!["probe", &v4, "--to", "a@b.test"], "write [127.0.0.1]"),
        (vec!["repl", &v4], "write [127.0.0.1]"),
        (
            vec!["--server", &name, "--to", "a@b.test"],
            "'[IPv6:localhost]' is not an IPv6 address",
        ),
    ];
    for (args, want) in cases {
        let run = ehlo_with(&args, Some(b"QUIT\n"), Duration::from_secs(30));
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        assert!(run.stderr.contains(want), "{args:?}: {}", run.all());
        assert!(!run.stderr.contains("DNS"), "{args:?}: {}", run.all());
        assert!(wire.accept().is_err(), "{args:?} connected");
    }
}

/// The JSON summary names how the run ended beside its exit code, as the send's and explain's
/// do (`outcome`, with error.rs's labels): `ok` (0), `check_failed` (40), `untested` (41),
/// `deadline` (41, `--deadline` cut it), `usage` (1). It had `exit_code` and no `outcome`.
#[test]
fn the_summary_names_the_outcome_of_each_exit_path() {
    let safe = Server::start(ServeOptions {
        starttls: true,
        ..ServeOptions::default()
    });
    let vulnerable = Server::start(ServeOptions {
        quirks: Quirks {
            disclose_users: true,
            ..Quirks::default()
        },
        ..ServeOptions::default()
    });
    let silent = Server::start(ServeOptions {
        faults: vec!["banner=silent".into()],
        ..ServeOptions::default()
    });
    let summary = |run: &Run| -> Value {
        let last = run.stdout.lines().last().unwrap_or_default();
        let v: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {run:?}"));
        assert_eq!(v["type"], "summary", "{}", run.stdout);
        assert_eq!(v["exit_code"], run.code, "{}", run.stdout);
        v
    };
    let (run, _) = probe(&safe.addr(), &["--only", "enum.vrfy"]);
    assert_eq!((run.code, &summary(&run)["outcome"]), (0, &"ok".into()));
    let (run, _) = probe(&vulnerable.addr(), &["--only", "enum.vrfy"]);
    assert_eq!(
        (run.code, &summary(&run)["outcome"]),
        (40, &"check_failed".into())
    );
    let (run, _) = probe(&silent.addr(), &["--only", "enum.vrfy", "--timeout", "1s"]);
    assert_eq!(
        (run.code, &summary(&run)["outcome"]),
        (41, &"untested".into())
    );
    let (run, _) = probe(
        &silent.addr(),
        &["--only", "enum.*", "--timeout", "30s", "--deadline", "1s"],
    );
    assert_eq!(
        (run.code, &summary(&run)["outcome"]),
        (41, &"deadline".into())
    );
    let (run, _) = probe(&safe.addr(), &["--expect", "no.such=pass"]);
    assert_eq!((run.code, &summary(&run)["outcome"]), (1, &"usage".into()));
}

/// A probe cut by a close or a timeout names the command it was waiting on in the words of its
/// transcript: the reasons spelt the probe's internal step names ("no known reply within the
/// timeout", "waiting for the known reply", "no nul reply"), which name no command a reader
/// sent or can look up.
#[test]
fn a_cut_probe_names_the_command_it_waited_on() {
    use std::io::{BufRead, BufReader, Write};
    // Closes after EHLO on whatever comes next.
    let (closing, _) = line_server(|_| None);
    let (run, _) = probe(&closing, &["--only", "enum.*", "--timeout", "2s"]);
    for (id, want) in [
        (
            "enum.vrfy",
            "the server closed the connection (waiting for the reply to VRFY alice@mx.test)",
        ),
        (
            "enum.expn",
            "the server closed the connection (waiting for the reply to EXPN alice@mx.test)",
        ),
        (
            "enum.rcpt",
            "the server closed the connection (waiting for the reply to MAIL FROM:<alice@mx.test>)",
        ),
    ] {
        let l = line_of(&run, id);
        assert_eq!(l["summary"], want, "{l}");
    }
    // Answers EHLO and then nothing: each probe's wait is for the command it sent last.
    let silent = each_connection(|mut c| {
        let _ = c.write_all(b"220 silent.test ESMTP\r\n");
        let mut lines = BufReader::new(c.try_clone().unwrap());
        let mut line = Vec::new();
        if lines.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            return;
        }
        let _ = c.write_all(b"250-silent.test\r\n250 PIPELINING\r\n");
        std::thread::sleep(Duration::from_secs(20));
    });
    // Two runs: after two probes in a row stalled so, the rest of a run is not run.
    for (only, id, want) in [
        (
            "enum.vrfy",
            "enum.vrfy",
            "no reply to VRFY alice@mx.test within the timeout",
        ),
        (
            "limits.nul",
            "limits.nul",
            r"no reply to RSET\x00 ehlo-probe within the timeout",
        ),
        (
            "limits.bare-lf-command",
            "limits.bare-lf-command",
            r"no reply to RSET\nRSET within the timeout",
        ),
    ] {
        let (run, _) = probe(&silent, &["--only", only, "--timeout", "1s"]);
        let l = line_of(&run, id);
        assert_eq!(l["summary"], want, "{l}");
        assert_eq!(l["evidence"]["no_reply_after_ehlo"], true, "{l}");
        assert_eq!(run.code, 41, "{}", run.all());
    }
}

/// A server that greets and answers EHLO, then never replies: each probe waited its own
/// --timeout for its first command's reply (42 s at --timeout 2s, about 200 s by default, 20
/// probes inconclusive). After two probes in a row got nothing after EHLO the rest are not
/// run, naming that evidence; the JSON summary says why (`given_up`), and so do the not-run
/// probes' evidence and the `--junit` file (suite properties `ehlo.given_up.*`, which it
/// lacked: a CI reader saw the cases not run without the evidence). The early talker, whose
/// QUIT after its answered EHLO waited a timeout of its own, counts as the first of the two.
#[test]
fn a_server_that_stalls_after_ehlo_costs_two_timeouts_not_one_per_probe() {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let ehlos = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = ehlos.clone();
    let stalling = each_connection(move |mut c| {
        let _ = c.write_all(b"220 stall.test ESMTP\r\n");
        let mut lines = BufReader::new(c.try_clone().unwrap());
        let mut line = Vec::new();
        if lines.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            return;
        }
        counted.fetch_add(1, Ordering::SeqCst);
        let _ = c.write_all(b"250-stall.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
        std::thread::sleep(Duration::from_secs(30));
    });
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("probe.xml");
    let (run, st) = probe(
        &stalling,
        &["--timeout", "1s", "--junit", junit.to_str().unwrap()],
    );
    assert_eq!(run.code, 41, "{}", run.all());
    // The early talker is answered (a warn) and its QUIT is not: the first of the two
    // stalls. pipelining.unadvertised skips (PIPELINING is offered, nothing is sent after
    // EHLO): no evidence either way. starttls.injection waits the second timeout; the 19 after
    // it are not run.
    assert_eq!(
        status(&st, "pipelining.early-talker"),
        "warn",
        "{}",
        run.stdout
    );
    let l = line_of(&run, "pipelining.early-talker");
    assert_eq!(l["evidence"]["no_reply_after_ehlo"], true, "{l}");
    assert_eq!(
        status(&st, "pipelining.unadvertised"),
        "skip",
        "{}",
        run.stdout
    );
    let l = line_of(&run, "starttls.injection");
    assert_eq!(
        l["summary"], "no reply to STARTTLS within the timeout",
        "{l}"
    );
    assert_eq!(l["evidence"]["no_reply_after_ehlo"], true, "{l}");
    let why = "not run: the server stalls after EHLO: pipelining.early-talker and \
               starttls.injection got no reply to their first command after it within the \
               timeout, evidence no_reply_after_ehlo";
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .collect();
    let not_run: Vec<&Value> = lines
        .iter()
        .filter(|v| v["type"] == "probe" && v["summary"] == why)
        .collect();
    assert_eq!(not_run.len(), 19, "{}", run.stdout);
    assert!(not_run.iter().all(|v| v["status"] == "inconclusive"));
    let summary = lines.iter().find(|v| v["type"] == "summary").unwrap();
    let given_up = serde_json::json!({"evidence": "no_reply_after_ehlo",
        "by": ["pipelining.early-talker", "starttls.injection"], "host": "127.0.0.1"});
    let mut with_hosts = given_up.clone();
    with_hosts["hosts"] = serde_json::json!([given_up]);
    assert_eq!(summary["given_up"], with_hosts, "{summary}");
    assert_eq!(summary["outcome"], "untested", "{summary}");
    // Each probe not run carries the same evidence, and so does the JUnit file: a CI reader
    // of the file alone sees why (the cases' text, and the suite's properties).
    assert!(
        not_run
            .iter()
            .all(|v| v["evidence"]["given_up"] == given_up),
        "{}",
        run.stdout
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    for p in [
        r#"<property name="ehlo.given_up.evidence" value="no_reply_after_ehlo"/>"#,
        r#"<property name="ehlo.given_up.by" value="pipelining.early-talker starttls.injection"/>"#,
        r#"<property name="ehlo.given_up.host" value="127.0.0.1"/>"#,
        r#"<property name="ehlo.given_up.hosts" value="127.0.0.1"/>"#,
        r#"<property name="ehlo.given_up.hosts.127.0.0.1.evidence" value="no_reply_after_ehlo"/>"#,
    ] {
        assert!(xml.contains(p), "{p}\n{xml}");
    }
    let case = xml
        .split("<testcase ")
        .find(|c| c.starts_with(r#"name="enum.vrfy""#))
        .unwrap();
    assert!(
        case.contains("&quot;given_up&quot;:{&quot;by&quot;:[&quot;pipelining.early-talker&quot;"),
        "{case}"
    );
    // Two timeouts (the early talker's wait is the first), not twenty, nor three: counted on
    // the server's side, as the @domain test counts them, whatever the load (it asserted
    // under 3 s of wall clock at --timeout 1s, which a loaded CI machine could miss): the
    // connections that got as far as EHLO are the early talker's, pipelining.unadvertised's
    // and starttls.injection's, none of the 19 probes not run.
    assert_eq!(ehlos.load(Ordering::SeqCst), 3, "{}", run.stdout);
}

/// A slow server (a tarpit: every reply after 600 ms, within --timeout) is never given up on,
/// and a probe answered between two that stalled starts the count again: every probe runs.
#[test]
fn a_slow_server_or_a_probe_answered_between_stalls_is_not_given_up_on() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let n = std::sync::Arc::new(AtomicUsize::new(0));
    let server = each_connection(move |c| {
        // Connections 1 and 3 stall after EHLO; the others answer every line, slowly.
        let stall = matches!(n.fetch_add(1, Ordering::SeqCst), 0 | 2);
        greet_then_stall_or_answer(
            c,
            "slow.test",
            stall,
            Duration::from_millis(600),
            Duration::from_secs(5),
        );
    });
    let (run, st) = probe(&server, &["--only", "enum.*", "--timeout", "1s"]);
    for (id, stalled) in [
        ("enum.vrfy", true),
        ("enum.expn", false),
        ("enum.rcpt", true),
    ] {
        let l = line_of(&run, id);
        assert!(
            !l["summary"].as_str().unwrap().starts_with("not run"),
            "{l}"
        );
        assert_eq!(
            l["evidence"]["no_reply_after_ehlo"]
                .as_bool()
                .unwrap_or(false),
            stalled,
            "{l}"
        );
    }
    assert_ne!(status(&st, "enum.expn"), "inconclusive", "{}", run.stdout);
    let summary = summary_of(&run);
    assert_eq!(summary["given_up"], Value::Null, "{summary}");
}

/// With `@domain` the stall shortcut is per MX host: an MX that greets, answers EHLO and then
/// stalls (mx-a, preferred) is given up on after two probes in a row got nothing, and the
/// probes after them pass over it to the next MX (mx-b, which answers) as a refused connection
/// would, instead of each waiting a --timeout on mx-a. The JSON summary's `given_up` names the
/// host. Both listen on one port (an MX target has one), on 127.0.0.1 and 127.0.0.2. That
/// only two probes waited on mx-a is counted where it happens (mx-a's connections that got as
/// far as EHLO; one passed over is closed before it), not read off the wall clock alone.
#[test]
fn a_stalling_mx_is_given_up_on_alone_and_the_next_mx_is_probed() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let ehlos = std::sync::Arc::new(AtomicUsize::new(0));
    let serve = |stall: bool| {
        let ehlos = ehlos.clone();
        move |c: std::net::TcpStream| {
            greet_then_stall_or_answer_counted(
                c,
                "mx.test",
                stall,
                Duration::ZERO,
                Duration::from_secs(10),
                stall.then_some(&*ehlos),
            )
        }
    };
    each_connection_at("127.0.0.1:31310", serve(true));
    each_connection_at("127.0.0.2:31310", serve(false));
    let (dns, _h) = mx_domain(&[(10, 'a', 1), (20, 'b', 2)]);
    let timeout = Duration::from_secs(2);
    let t0 = std::time::Instant::now();
    let (run, st) = probe_domain(
        &dns,
        "31310",
        &format!("{}s", timeout.as_secs()),
        &["enum.*", "limits.line"],
        &[],
    );
    let took = t0.elapsed();
    for id in ["enum.vrfy", "enum.expn"] {
        let l = line_of(&run, id);
        assert_eq!(l["evidence"]["no_reply_after_ehlo"], true, "{l}");
        assert!(
            l["evidence"]["server"]
                .as_str()
                .unwrap()
                .starts_with("mx-a.example.test"),
            "{l}"
        );
    }
    probed_on(
        &run,
        &st,
        &["enum.rcpt", "limits.line"],
        "mx-b.example.test",
    );
    let summary = summary_of(&run);
    let given_up = serde_json::json!({"evidence": "no_reply_after_ehlo",
        "by": ["enum.vrfy", "enum.expn"], "host": "mx-a.example.test"});
    let mut with_hosts = given_up.clone();
    with_hosts["hosts"] = serde_json::json!([given_up]);
    assert_eq!(summary["given_up"], with_hosts, "{summary}");
    // Two probes waited on mx-a, not four: counted on mx-a's side, whatever the load. The
    // wall clock only bounds what else could wait: no third --timeout (four would be the old
    // behaviour), with a whole --timeout of slack for a loaded machine.
    assert_eq!(ehlos.load(Ordering::SeqCst), 2, "{}", run.stdout);
    assert!(took < 3 * timeout, "took {took:?}");
}

/// `@domain` MX records on loopback: `mx-<letter>.example.test` at `127.0.0.<n>` for each
/// `(preference, letter, n)`; the fake DNS server's address (kept running by the handle).
/// An MX record names no port, so the servers behind it listen on a fixed one, given by
/// `--port`: the tests take ports below Linux's ephemeral range (32768-60999), where another
/// test's outgoing connection could hold the same address and port (an `AddrInUse` seen in CI
/// at 44530).
fn mx_domain(mx: &[(u16, char, u8)]) -> (String, std::thread::JoinHandle<()>) {
    use ehlo::net::testutil::{FakeDns, RecordSpec};
    let mut records = Vec::new();
    for &(pref, letter, n) in mx {
        let host = format!("mx-{letter}.example.test");
        records.push((
            "example.test".to_string(),
            RecordSpec::Mx(pref, host.clone()),
        ));
        let ip = format!("127.0.0.{n}").parse().unwrap();
        records.push((host, RecordSpec::A(ip)));
    }
    let (dns, h) = FakeDns::start(
        records
            .iter()
            .map(|(n, r)| (n.as_str(), r.clone()))
            .collect(),
    );
    (dns.to_string(), h)
}

/// `ehlo probe @example.test` through the fake DNS server at `dns` (see [`mx_domain`]), every
/// MX host on `port`, with that `--timeout` and the probes `only`; then `extra`.
fn probe_domain(
    dns: &str,
    port: &str,
    timeout: &str,
    only: &[&str],
    extra: &[&str],
) -> (Run, HashMap<String, String>) {
    let mut args = vec!["--dns-server", dns, "--port", port, "--timeout", timeout];
    for id in only {
        args.extend(["--only", id]);
    }
    args.extend_from_slice(extra);
    probe("@example.test", &args)
}

/// The `limits.*` control connection (the same greeting, then a NOOP) went to the first MX
/// even when the stall shortcut had given that host up: with mx-a stalling after EHLO (given
/// up after enum.vrfy and enum.expn) and mx-b closing on the long line alone, limits.line ran
/// on mx-b, then its control reached mx-a, waited a --timeout for the NOOP's reply and left
/// limits.line inconclusive. The control passes over a given-up host as the probes do.
#[test]
fn the_limits_control_passes_over_a_given_up_mx() {
    each_connection_at("127.0.0.1:31510", |c| {
        greet_then_stall_or_answer(c, "mx.test", true, Duration::ZERO, Duration::from_secs(10))
    });
    let (_, conns_b) = line_server_at("127.0.0.2:31510", |l| match () {
        _ if l.len() > 1000 => None,
        _ if l.starts_with(b"QUIT") => Some(b"221 bye\r\n"),
        _ => Some(b"250 ok\r\n"),
    });
    let (dns, _h) = mx_domain(&[(10, 'a', 1), (20, 'b', 2)]);
    let (run, st) = probe_domain(
        &dns,
        "31510",
        "1s",
        &["enum.vrfy", "enum.expn", "limits.line"],
        &[],
    );
    let l = line_of(&run, "limits.line");
    assert_eq!(status(&st, "limits.line"), "pass", "{l}");
    let transcript = l["evidence"]["transcript"].to_string();
    assert!(!transcript.contains("mx-a.example.test"), "{l}");
    // The probe's connection and its control, both on mx-b.
    assert_eq!(conns_b.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// A `limits.*` control connection is about the host the probe's own connection reached. With
/// two MX hosts of equal preference, each connection picks one anew: the control a probe ran
/// could reach the other host, and a later probe kept the run's one control whichever host it
/// reached itself. Here mx-a closes on the probes' lines alone (a pass, after a control
/// there) and mx-b closes after EHLO whatever comes (inconclusive: its control is closed too);
/// a probe on mx-b passed on mx-a's answered control, or one on mx-a was left inconclusive by
/// mx-b's. Now each probe's control is from its own host, run again there when the kept one
/// is another host's. The shuffle is random, so the run is repeated: the old behaviour got
/// every probe of a run right one time in eight.
#[test]
fn a_limits_control_is_from_the_probes_own_mx_host() {
    line_server_at("127.0.0.1:31410", |l| {
        let bad = l.len() > 1000 || l.contains(&0) || !l.ends_with(b"\r\n");
        match () {
            _ if bad => None,
            _ if l.starts_with(b"QUIT") => Some(b"221 bye\r\n"),
            _ => Some(b"250 ok\r\n"),
        }
    });
    line_server_at("127.0.0.2:31410", |_| None);
    let (dns, _h) = mx_domain(&[(10, 'a', 1), (10, 'b', 2)]);
    for _ in 0..4 {
        let (run, st) = probe_domain(&dns, "31410", "2s", &["limits.*"], &[]);
        for id in ["limits.line", "limits.bare-lf-command", "limits.nul"] {
            let l = line_of(&run, id);
            let server = l["evidence"]["server"].as_str().unwrap_or_default();
            let host = server.split(" [").next().unwrap_or_default();
            // Every connection of the probe (its own, then its control's) reached its host.
            let transcript = l["evidence"]["transcript"].to_string();
            for other in ["mx-a.example.test", "mx-b.example.test"] {
                if other != host {
                    assert!(!transcript.contains(other), "{id}: {l}");
                }
            }
            let (want, answered) = match host {
                "mx-a.example.test" => ("pass", true),
                "mx-b.example.test" => ("inconclusive", false),
                _ => panic!("{id} reached no MX host: {l}"),
            };
            assert_eq!(status(&st, id), want, "{id} on {host}: {l}");
            assert_eq!(l["evidence"]["control"]["answered"], answered, "{l}");
        }
    }
}

/// `@domain` with an MX that never greets (mx-a, preferred) and one that answers (mx-b): every
/// probe waited a --timeout for mx-a's greeting, none reached mx-b, and the results did not
/// say which host was silent. The first probe that finds no greeting says the host; the probes
/// after it pass over mx-a to mx-b, as over a host that stalls after EHLO.
#[test]
fn an_mx_that_never_greets_is_given_up_on_alone_and_named() {
    each_connection_at("127.0.0.1:31520", |_c| {
        std::thread::sleep(Duration::from_secs(10))
    });
    each_connection_at("127.0.0.2:31520", |c| {
        greet_then_stall_or_answer(c, "mx.test", false, Duration::ZERO, Duration::from_secs(1))
    });
    let (dns, _h) = mx_domain(&[(10, 'a', 1), (20, 'b', 2)]);
    let (run, st) = probe_domain(&dns, "31520", "1s", &["enum.*"], &[]);
    let l = line_of(&run, "enum.vrfy");
    assert_eq!(l["evidence"]["no_greeting"], true, "{l}");
    assert!(
        l["summary"].as_str().unwrap().contains("mx-a.example.test"),
        "{l}"
    );
    probed_on(&run, &st, &["enum.expn", "enum.rcpt"], "mx-b.example.test");
    let summary = summary_of(&run);
    assert_eq!(
        summary["given_up"]["host"], "mx-a.example.test",
        "{summary}"
    );
    assert_eq!(summary["given_up"]["evidence"], "no_greeting", "{summary}");
}

/// The JSON summary's `given_up` and the JUnit file's `ehlo.given_up.*` named only the first
/// MX host given up on. With mx-a silent, mx-b stalling after EHLO and mx-c answering, both
/// given-up hosts are named, in the order they were given up on, each with its evidence.
#[test]
fn every_mx_given_up_on_is_named_in_order() {
    each_connection_at("127.0.0.1:31530", |_c| {
        std::thread::sleep(Duration::from_secs(10))
    });
    each_connection_at("127.0.0.2:31530", |c| {
        greet_then_stall_or_answer(c, "mx.test", true, Duration::ZERO, Duration::from_secs(10))
    });
    each_connection_at("127.0.0.3:31530", |c| {
        greet_then_stall_or_answer(c, "mx.test", false, Duration::ZERO, Duration::from_secs(1))
    });
    let (dns, _h) = mx_domain(&[(10, 'a', 1), (20, 'b', 2), (30, 'c', 3)]);
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("probe.xml");
    let (run, st) = probe_domain(
        &dns,
        "31530",
        "1s",
        &["enum.*", "limits.line"],
        &["--junit", junit.to_str().unwrap()],
    );
    probed_on(&run, &st, &["limits.line"], "mx-c.example.test");
    let summary = summary_of(&run);
    let first = serde_json::json!({"evidence": "no_greeting", "by": ["enum.vrfy"],
        "host": "mx-a.example.test"});
    let second = serde_json::json!({"evidence": "no_reply_after_ehlo",
        "by": ["enum.expn", "enum.rcpt"], "host": "mx-b.example.test"});
    let mut want = first.clone();
    want["hosts"] = serde_json::json!([first, second]);
    assert_eq!(summary["given_up"], want, "{summary}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    for p in [
        r#"<property name="ehlo.given_up.host" value="mx-a.example.test"/>"#,
        r#"<property name="ehlo.given_up.hosts" value="mx-a.example.test mx-b.example.test"/>"#,
        r#"<property name="ehlo.given_up.hosts.mx-a.example.test.evidence" value="no_greeting"/>"#,
        r#"<property name="ehlo.given_up.hosts.mx-b.example.test.evidence" value="no_reply_after_ehlo"/>"#,
        r#"<property name="ehlo.given_up.hosts.mx-b.example.test.by" value="enum.expn enum.rcpt"/>"#,
    ] {
        assert!(xml.contains(p), "{p}\n{xml}");
    }
}

/// A dotted KEY through a probe's boolean (`limits.line.control.answered.yes=true`) could
/// never be met: it was unmet on every run. Refused before any connection, exit 1, one line.
#[test]
fn a_dotted_key_through_a_value_is_refused_before_the_run() {
    let r = ehlo(&[
        "probe",
        "127.0.0.1:9",
        "--to",
        "me@example.test",
        "--expect",
        "limits.line.control.answered.yes=true",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("limits.line.control.answered is true or false, not an object"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
}
