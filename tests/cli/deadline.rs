//! The one-shot send's `--deadline`: one bound on the whole run, where `--timeout` bounds each
//! step. A scripted server answers every step just under `--timeout`, so that without the
//! deadline the run takes steps × the delay; with it, the run stops at the deadline, says where
//! it was cut, sends no QUIT and exits with the timeout code of the phase it cut.

use std::time::Duration;

use crate::util::*;

/// A server slow at every step (each reply `delay` after the line it answers, the banner
/// `delay` after the connection, the reply to the message `last` after its end), under
/// `--timeout` each time: a whole transaction. Lines are read whatever they are: a client the
/// deadline stopped sends no more.
fn slow_at_every_step(delay: Duration, last: Duration) -> Vec<Step> {
    vec![
        Step::Sleep(delay),
        Step::Send(b"220 slow.test ESMTP\r\n"),
        Step::Line,
        Step::Sleep(delay),
        Step::Send(b"250 slow.test\r\n"),
        Step::Line,
        Step::Sleep(delay),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Line,
        Step::Sleep(delay),
        Step::Send(b"250 2.1.5 Ok\r\n"),
        Step::Line,
        Step::Sleep(delay),
        Step::Send(b"354 go ahead\r\n"),
        Step::Data,
        Step::Sleep(last),
        Step::Send(b"250 2.0.0 Ok: queued\r\n"),
        Step::Line,
        Step::Sleep(delay),
        Step::Send(b"221 2.0.0 Bye\r\n"),
    ]
}

/// Cut while the reply to RCPT is awaited: the RCPT went out, so the summary says the
/// recipient was sent and got no reply (`no_reply`, "sent, no reply"), not "not attempted" as
/// before, in JSON and in words.
#[test]
fn a_recipient_whose_rcpt_reply_the_deadline_cut_is_sent_with_no_reply() {
    // The banner, EHLO's and MAIL's replies at once; RCPT's would come after the deadline.
    let rcpt_unanswered = || {
        scripted(vec![
            Step::Send(b"220 slow.test ESMTP\r\n"),
            Step::Line,
            Step::Send(b"250 slow.test\r\n"),
            Step::Line,
            Step::Send(b"250 2.1.0 Ok\r\n"),
            Step::Line,
            Step::Sleep(Duration::from_secs(4)),
            Step::Send(b"250 2.1.5 Ok\r\n"),
        ])
    };
    let srv = rcpt_unanswered();
    let run = send(&srv, &["--timeout", "10s", "--deadline", "1s", "--json"]);
    let got = srv.finish();
    assert!(got.contains("RCPT TO:"), "the RCPT went out: {got}");
    let last = run.stdout.lines().last().unwrap_or_default();
    let summary: serde_json::Value = serde_json::from_str(last).expect("JSON summary");
    let data = &summary["data"];
    assert_eq!(
        data["error"], "deadline 1s reached while waiting for the reply to RCPT",
        "{last}"
    );
    assert_eq!(data["recipients"][0]["status"], "no_reply", "{last}");
    assert_eq!(
        data["recipients"][0]["code"],
        serde_json::Value::Null,
        "{last}"
    );
    // In words.
    let srv = rcpt_unanswered();
    let run = send(&srv, &["--timeout", "10s", "--deadline", "1s"]);
    drop(srv);
    assert!(
        run.all().contains("<rcpt@scripted.test> sent, no reply"),
        "{}",
        run.all()
    );
}

/// Cut while the reply to the message's end of data is awaited: exit 26 (a timeout after the
/// message), one line saying where and that the message may or may not have been delivered,
/// no QUIT, and the run over at the deadline, not at 7 × the delay. Before, there was no
/// `--deadline`: each step stayed under `--timeout` and the run took their sum.
#[test]
fn a_send_stops_at_the_deadline_while_the_message_reply_is_awaited() {
    let srv = scripted(slow_at_every_step(
        Duration::from_secs(1),
        Duration::from_secs(4),
    ));
    // 354 comes at 5 × 1 s, the message's reply would at 9 s (and 221 at 10 s).
    let run = send(&srv, &["--timeout", "5s", "--deadline", "7s"]);
    assert_eq!(run.code, 26, "{}", run.all());
    let got = srv.finish();
    assert!(
        run.elapsed < Duration::from_millis(8500),
        "the deadline did not bound the run: {:?}\n{}",
        run.elapsed,
        run.all()
    );
    let line = "deadline 7s reached while waiting for the reply to the message; \
                the message may or may not have been delivered";
    assert_eq!(
        run.all().lines().filter(|l| l.contains(line)).count(),
        1,
        "{}",
        run.all()
    );
    assert!(got.contains("\r\n.\r\n"), "the message went out: {got}");
    assert!(!got.contains("QUIT"), "no QUIT after the cut: {got}");
}

/// JSON Lines: the summary says `deadline`, where it was cut (the reply to EHLO, exit 22) and
/// the recipient not attempted; the run ends at the deadline, not after the whole dialogue.
#[test]
fn a_json_summary_names_the_deadline_and_where_it_cut() {
    let delay = Duration::from_secs(2);
    let srv = scripted(slow_at_every_step(delay, delay));
    // The banner at 2 s, the reply to EHLO would come at 4 s.
    let run = send(&srv, &["--timeout", "3s", "--deadline", "3s", "--json"]);
    assert_eq!(run.code, 22, "{}", run.all());
    let got = srv.finish();
    assert!(
        run.elapsed < Duration::from_millis(4500),
        "{:?}",
        run.elapsed
    );
    let last = run.stdout.lines().last().unwrap_or_default();
    let summary: serde_json::Value = serde_json::from_str(last).expect("JSON summary");
    assert_eq!(summary["type"], "summary", "{last}");
    let data = &summary["data"];
    assert_eq!(data["outcome"], "deadline", "{last}");
    assert_eq!(data["exit_code"], 22, "{last}");
    assert_eq!(
        data["error"], "deadline 3s reached while waiting for the reply to EHLO",
        "{last}"
    );
    assert_eq!(data["recipients"][0]["status"], "not_attempted", "{last}");
    assert!(!got.contains("QUIT"), "{got}");
}

/// The deadline covers the connection too: a server that accepts and never greets is cut at
/// the deadline, in the banner (21), though `--timeout` is longer.
#[test]
fn the_deadline_cuts_a_banner_wait_shorter_than_the_timeout() {
    let srv = scripted(vec![Step::Sleep(Duration::from_secs(6))]);
    let run = send(&srv, &["--timeout", "20s", "--deadline", "1"]);
    assert_eq!(run.code, 21, "{}", run.all());
    assert!(run.elapsed < Duration::from_secs(4), "{:?}", run.elapsed);
    assert!(
        run.stderr
            .contains("deadline 1s reached while waiting for the banner"),
        "{}",
        run.all()
    );
    drop(srv);
}

/// `EHLO_DEADLINE` and a config file line set it as the other flags are set; `0` is none.
#[test]
fn the_deadline_comes_from_the_environment_too_and_zero_is_none() {
    let srv = scripted(vec![Step::Sleep(Duration::from_secs(6))]);
    let mut args = send_args(&srv.server());
    args.extend(["--timeout".to_string(), "20s".to_string()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = ehlo_env(&refs, &[("EHLO_DEADLINE", "1s")]);
    assert_eq!(run.code, 21, "{}", run.all());
    assert!(run.all().contains("deadline 1s reached"), "{}", run.all());
    drop(srv);
    // `0`: no deadline, the step's own timeout ends the run.
    let srv = scripted(vec![Step::Sleep(Duration::from_secs(4))]);
    let run = send(&srv, &["--timeout", "1s", "--deadline", "0"]);
    assert_eq!(run.code, 21, "{}", run.all());
    assert!(!run.all().contains("deadline"), "{}", run.all());
    drop(srv);
}

/// `ehlo replay --deadline`: the replay of a whole transaction against the slow server ends at
/// the deadline, in the phase it cut (MAIL, exit 23), without QUIT; before, the flag was
/// refused and the replay took every step's delay. The cut is said as the send says it, by the
/// step and the script line it came from (it said "in the MAIL phase").
#[test]
fn a_replay_stops_at_the_deadline_in_the_phase_it_cut() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.ehlo");
    std::fs::write(
        &script,
        "< 220\n> EHLO x\n< 250\n> MAIL FROM:<a@b.test>\n< 250\n> RCPT TO:<c@d.test>\n< 250\n\
         > DATA\n< 354\n> :data hello\n< 250\n> QUIT\n< 221\n",
    )
    .unwrap();
    let delay = Duration::from_secs(2);
    let srv = scripted(slow_at_every_step(delay, delay));
    let server = srv.server();
    // The banner at 2 s, the reply to EHLO at 4 s, MAIL's would come at 6 s.
    let args = [
        "replay",
        script.to_str().unwrap(),
        "--server",
        &server,
        "--timeout",
        "3s",
        "--deadline",
        "5s",
    ];
    let run = ehlo_with(&args, Some(b""), Duration::from_secs(30));
    assert_eq!(run.code, 23, "{}", run.all());
    let got = srv.finish();
    assert!(
        run.elapsed < Duration::from_millis(6500),
        "{:?}",
        run.elapsed
    );
    assert!(
        run.all().contains(
            "deadline 5s reached while waiting for the reply to MAIL, line 4 of the script"
        ),
        "{}",
        run.all()
    );
    assert!(got.contains("MAIL FROM:"), "{got}");
    assert!(!got.contains("QUIT"), "{got}");
}

/// `ehlo replay --deadline` cut while a NOOP's reply was awaited exits 36, as the same reply
/// missing `--timeout` and a refused NOOP do (the table's code for a command in no phase): it
/// exited 6, "the server closed the connection", which no server had done. The cut names the
/// command, as it names MAIL or RCPT, for each command in no phase: it said "while waiting
/// for the reply to command".
#[test]
fn a_replay_cut_by_the_deadline_at_a_noop_exits_36_not_6() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.ehlo");
    for (line, verb) in [
        ("NOOP", "NOOP"),
        ("rset", "RSET"),
        ("VRFY postmaster", "VRFY"),
        ("HELP", "HELP"),
    ] {
        std::fs::write(
            &script,
            format!("< 220\n> EHLO x\n< 250\n> {line}\n< 250\n> QUIT\n< 221\n"),
        )
        .unwrap();
        let srv = scripted(vec![
            Step::Send(b"220 slow.test ESMTP\r\n"),
            Step::Line,
            Step::Send(b"250 slow.test\r\n"),
            Step::Line,
            Step::Sleep(Duration::from_secs(3)),
            Step::Send(b"250 2.0.0 Ok\r\n"),
        ]);
        let server = srv.server();
        let args = [
            "replay",
            script.to_str().unwrap(),
            "--server",
            &server,
            "--timeout",
            "10s",
            "--deadline",
            "1s",
            "--json",
        ];
        let run = ehlo_with(&args, Some(b""), Duration::from_secs(30));
        srv.finish();
        assert_eq!(run.code, 36, "{line}: {}", run.all());
        let summary = run
            .stdout
            .lines()
            .find(|l| l.contains(r#""type":"summary""#))
            .unwrap_or_else(|| panic!("{}", run.all()));
        assert!(summary.contains(r#""exit_code":36"#), "{summary}");
        assert!(summary.contains(r#""outcome":"deadline""#), "{summary}");
        assert!(
            summary.contains(&format!(
                "deadline 1s reached while waiting for the reply to {verb}, line 4 of the script"
            )),
            "{line}: {summary}"
        );
    }
}
