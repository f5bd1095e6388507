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
