//! MX routing end to end (RFC 5321 §5.1, RFC 7505): the built `ehlo` resolves through the
//! in-process fake DNS server (`ehlo::net::testutil::FakeDns`, `--dns-server 127.0.0.1:PORT`) and
//! connects to scripted servers. MX hosts resolve to loopback addresses and `--port` points at the
//! scripted server's port; 127.0.0.2 (loopback on Linux, but nothing listens there on that port)
//! plays the dead first MX, so failover can be observed.

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::time::Duration;

use ehlo::net::testutil::{FakeDns, RecordSpec};

use crate::util::*;

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// Arguments for a send routed by MX (no `--server`) to `to`, through `dns`, on `port`.
fn mx_args(dns: &str, port: u16, to: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "--dns-server",
        dns,
        "--port",
        &port.to_string(),
        "--to",
        to,
        "--from",
        "sender@client.test",
        "--helo",
        "client.test",
        "--timeout",
        "5",
        "--color",
        "never",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run_mx(dns: &str, port: u16, to: &str, extra: &[&str]) -> Run {
    let args = mx_args(dns, port, to, extra);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ehlo(&refs)
}

fn untouched(l: &TcpListener) -> bool {
    matches!(l.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[test]
fn mx_hosts_are_tried_in_preference_order_with_failover() {
    let srv = scripted(after_greet(accept_all()));
    // Listed out of order on purpose: the preference decides, not the answer order.
    let (dns, _h) = FakeDns::start(vec![
        (
            "example.test",
            RecordSpec::Mx(20, "mx-good.example.test".into()),
        ),
        (
            "example.test",
            RecordSpec::Mx(10, "mx-dead.example.test".into()),
        ),
        ("mx-dead.example.test", RecordSpec::A(v4("127.0.0.2"))),
        ("mx-good.example.test", RecordSpec::A(v4("127.0.0.1"))),
    ]);
    let port = srv.addr.port();
    let run = run_mx(&dns.to_string(), port, "user@example.test", &[]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(got.contains("RCPT TO:<user@example.test>\r\n"), "{got}");
    let out = run.all();
    assert!(
        out.contains(
            "MX lookup for example.test: 10 mx-dead.example.test, 20 mx-good.example.test"
        ),
        "{out}"
    );
    // Both attempts are in the transcript, the dead one first (`***` errors go to stderr).
    let dead = out
        .find(&format!("Trying mx-dead.example.test:{port} (127.0.0.2)"))
        .unwrap_or_else(|| panic!("no attempt on the first MX: {out}"));
    let good = out
        .find(&format!("Trying mx-good.example.test:{port} (127.0.0.1)"))
        .unwrap_or_else(|| panic!("no attempt on the second MX: {out}"));
    assert!(dead < good, "{out}");
    assert!(
        run.stderr.contains(&format!(
            "Error connecting to mx-dead.example.test (127.0.0.2:{port})"
        )),
        "{}",
        run.stderr
    );
    assert!(out.contains("Connected to mx-good.example.test."), "{out}");
}

#[test]
fn failover_also_covers_an_mx_whose_name_does_not_resolve() {
    let srv = scripted(after_greet(accept_all()));
    let (dns, _h) = FakeDns::start(vec![
        (
            "example.test",
            RecordSpec::Mx(5, "missing.example.test".into()),
        ),
        ("example.test", RecordSpec::Mx(10, "mx.example.test".into())),
        ("missing.example.test", RecordSpec::NxDomain),
        ("mx.example.test", RecordSpec::A(v4("127.0.0.1"))),
    ]);
    let run = run_mx(&dns.to_string(), srv.addr.port(), "user@example.test", &[]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all().contains("missing.example.test does not exist"),
        "{}",
        run.all()
    );
}

#[test]
fn every_mx_refusing_is_a_connect_failure_naming_the_domain() {
    let (dns, _h) = FakeDns::start(vec![
        ("example.test", RecordSpec::Mx(10, "a.example.test".into())),
        ("example.test", RecordSpec::Mx(20, "b.example.test".into())),
        ("a.example.test", RecordSpec::A(v4("127.0.0.2"))),
        ("b.example.test", RecordSpec::A(v4("127.0.0.3"))),
    ]);
    let port = tripwire().local_addr().unwrap().port();
    let run = run_mx(&dns.to_string(), port, "user@example.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    let out = run.all();
    assert!(out.contains("127.0.0.2:"), "{out}");
    assert!(out.contains("127.0.0.3:"), "{out}");
    assert!(out.contains("any MX of example.test"), "{out}");
}

#[test]
fn without_mx_the_domain_itself_is_the_implicit_mx() {
    let srv = scripted(after_greet(accept_all()));
    let (dns, _h) = FakeDns::start(vec![("plain.test", RecordSpec::A(v4("127.0.0.1")))]);
    let run = run_mx(&dns.to_string(), srv.addr.port(), "user@plain.test", &[]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(got.contains("RCPT TO:<user@plain.test>\r\n"), "{got}");
    let out = run.all();
    assert!(out.contains("implicit MX"), "{out}");
    assert!(out.contains("Connected to plain.test."), "{out}");
}

#[test]
fn the_last_recipient_domain_is_the_one_routed() {
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 Ok\r\n"),
        Step::Expect("RCPT TO:<a@elsewhere.test>"),
        Step::Send(b"250 Ok\r\n"),
        Step::Expect("RCPT TO:<b@plain.test>"),
        Step::Send(b"250 Ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 go\r\n"),
        Step::Data,
        Step::Send(b"250 Ok\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 Bye\r\n"),
    ]));
    // elsewhere.test is absent (NXDOMAIN): looking it up would fail the run.
    let (dns, _h) = FakeDns::start(vec![("plain.test", RecordSpec::A(v4("127.0.0.1")))]);
    let run = run_mx(
        &dns.to_string(),
        srv.addr.port(),
        "a@elsewhere.test,b@plain.test",
        &[],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    // As swaks routes, but said: a@elsewhere.test went to plain.test's server, not its own MX.
    assert!(
        run.all().contains(
            "!!! routed by the last recipient's domain (plain.test), as swaks does: the \
             recipients at elsewhere.test go to the MX of plain.test too, not to their own MX"
        ),
        "{}",
        run.all()
    );
}

/// Recipients all in the routed domain (any case, one trailing dot) or a server named with
/// --server: nothing to say about routing.
#[test]
fn recipients_of_one_domain_or_an_explicit_server_get_no_routing_warning() {
    let (dns, _h) = FakeDns::start(vec![("plain.test", RecordSpec::A(v4("127.0.0.1")))]);
    for (to, server) in [
        ("a@Plain.test.,b@plain.test", None),
        ("a@elsewhere.test,b@plain.test", Some("127.0.0.1")),
    ] {
        let srv = scripted(after_greet(vec![
            Step::Expect("MAIL FROM:"),
            Step::Send(b"250 Ok\r\n"),
            Step::Expect("RCPT TO:<a@"),
            Step::Send(b"250 Ok\r\n"),
            Step::Expect("RCPT TO:<b@plain.test>"),
            Step::Send(b"250 Ok\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 Bye\r\n"),
        ]));
        let mut extra = vec!["--quit-after", "rcpt"];
        if let Some(s) = server {
            extra.extend(["--server", s]);
        }
        let run = run_mx(&dns.to_string(), srv.addr.port(), to, &extra);
        srv.finish();
        assert_eq!(run.code, 0, "{to}: {}", run.all());
        assert!(!run.all().contains("routed by"), "{to}: {}", run.all());
    }
}

#[test]
fn a_null_mx_is_exit_two_with_no_connection_attempt() {
    let trap = tripwire();
    let (dns, _h) = FakeDns::start(vec![
        ("null.test", RecordSpec::Mx(0, ".".into())),
        // An address for the domain exists: a null MX must not fall back to it.
        ("null.test", RecordSpec::A(v4("127.0.0.1"))),
    ]);
    let port = trap.local_addr().unwrap().port();
    let run = run_mx(&dns.to_string(), port, "user@null.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("null.test publishes a null MX (RFC 7505): it accepts no mail"),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains("Trying"), "{}", run.all());
    // The answer is shown as any MX answer is (it was left out: the query had no answer).
    assert!(
        run.stdout.contains("=== MX lookup for null.test: 0 .\n"),
        "{}",
        run.all()
    );
    assert!(untouched(&trap), "a connection was attempted");

    // The JSON summary says the same.
    let run = run_mx(&dns.to_string(), port, "user@null.test", &["--json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(!run.stdout.contains("\"connecting\""), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            r#"{"type":"dns_answer","data":{"name":"null.test","rtype":"MX","records":["0 ."]}"#
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("RFC 7505"), "{}", run.stdout);
    assert!(untouched(&trap), "a connection was attempted");
}

/// RFC 7505 §3: only the single `MX 0 .` is a null MX. `MX 10 .` is no null MX and names no
/// host: the send says so (no usable MX, exit 2) instead of "accepts no mail", and never
/// falls back to the domain's own address.
#[test]
fn mx_10_root_is_no_null_mx_and_no_host() {
    let trap = tripwire();
    let (dns, _h) = FakeDns::start(vec![
        ("null10.test", RecordSpec::Mx(10, ".".into())),
        ("null10.test", RecordSpec::A(v4("127.0.0.1"))),
    ]);
    let port = trap.local_addr().unwrap().port();
    let run = run_mx(&dns.to_string(), port, "user@null10.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(!run.all().contains("publishes a null MX"), "{}", run.all());
    assert!(
        run.stderr.contains(
            "null10.test has no usable MX: MX 10 . is not a null MX: a null MX has preference 0 \
             (RFC 7505 §3)"
        ),
        "{}",
        run.stderr
    );
    assert!(untouched(&trap), "a connection was attempted");
}

#[test]
fn nxdomain_is_exit_two() {
    let trap = tripwire();
    let (dns, _h) = FakeDns::start(vec![("gone.test", RecordSpec::NxDomain)]);
    let port = trap.local_addr().unwrap().port();
    for to in ["user@gone.test", "user@absent-from-the-table.test"] {
        let run = run_mx(&dns.to_string(), port, to, &[]);
        assert_eq!(run.code, 2, "{}", run.all());
        let domain = to.split('@').nth(1).unwrap();
        assert!(
            run.stderr
                .contains(&format!("{domain} does not exist (NXDOMAIN)")),
            "{}",
            run.stderr
        );
        // The reason comes first, on one line: the summary's (per-recipient lines follow it),
        // with what to check (it ended at "(NXDOMAIN)").
        assert!(
            run.stderr.starts_with(&format!(
                "*** Result: failed (exit 2): {domain} does not exist (NXDOMAIN): check the \
                 domain after the @ for a typo\n"
            )),
            "{}",
            run.stderr
        );
    }
    // A `--server` name that does not exist: the fix named is the server's name; the JSON
    // failover keeps the failure alone, as the `dns_failed` event does.
    let run = run_mx(
        &dns.to_string(),
        port,
        "user@example.test",
        &["--server", "gone.test"],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.starts_with(
            "*** Result: failed (exit 2): gone.test does not exist (NXDOMAIN): check the \
             server's name for a typo\n"
        ),
        "{}",
        run.stderr
    );
    let run = run_mx(
        &dns.to_string(),
        port,
        "user@example.test",
        &["--server", "gone.test", "--json"],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stdout.contains(
            "\"error\":\"gone.test does not exist (NXDOMAIN): check the server's name for a \
             typo\""
        ) && run
            .stdout
            .contains("\"reason\":\"gone.test does not exist (NXDOMAIN)\"}]"),
        "{}",
        run.stdout
    );
    assert!(untouched(&trap));
}

#[test]
fn servfail_is_exit_two() {
    let (dns, _h) = FakeDns::start(vec![
        ("broken.test", RecordSpec::ServFail),
        ("refused.test", RecordSpec::Refused),
    ]);
    let run = run_mx(&dns.to_string(), 9, "user@broken.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    // The RCODE by its name (RFC 1035 §4.1.1), not hickory's "error response: Server Failure".
    assert!(
        run.stderr
            .contains("DNS lookup of broken.test failed: the DNS server answered SERVFAIL: it could not get an answer"),
        "{}",
        run.stderr
    );
    let run = run_mx(&dns.to_string(), 9, "user@refused.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains(
            "DNS lookup of refused.test failed: the DNS server answered REFUSED: it does not \
             answer this question for this client"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains("error response"), "{}", run.all());
}

/// A failed MX query is a `dns_failed` event, as a failed address lookup is: the same fields,
/// `rtype` saying which lookup failed, after its `dns_query` and before the summary.
#[test]
fn a_failed_mx_query_is_a_dns_failed_event_like_a_failed_address_lookup() {
    let (dns, _h) = FakeDns::start(vec![
        ("broken.test", RecordSpec::ServFail),
        ("half.test", RecordSpec::Mx(10, "mx.half.test".into())),
        ("mx.half.test", RecordSpec::ServFail),
    ]);
    let failed = |to: &str| {
        let run = run_mx(&dns.to_string(), 9, to, &["--json"]);
        assert_eq!(run.code, 2, "{}", run.all());
        let lines: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
        let at = types
            .iter()
            .position(|t| *t == "dns_failed")
            .unwrap_or_else(|| panic!("no dns_failed: {}", run.stdout));
        assert_eq!(types[at - 1], "dns_query", "{}", run.stdout);
        assert_eq!(types.last(), Some(&"summary"));
        lines[at]["data"].clone()
    };
    let mx = failed("user@broken.test");
    assert_eq!(mx["name"], "broken.test");
    assert_eq!(mx["rtype"], "MX");
    assert!(
        mx["reason"]
            .as_str()
            .unwrap()
            .contains("the DNS server answered SERVFAIL"),
        "{mx}"
    );
    let host = failed("user@half.test");
    assert_eq!(host["rtype"], "A/AAAA");
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&mx), keys(&host));
}

#[test]
fn a_dns_server_that_never_answers_is_exit_two_within_the_timeout() {
    // Bound but never read: queries vanish.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = silent.local_addr().unwrap().to_string();
    let args = mx_args(&dns, 9, "user@example.test", &[]);
    let mut refs: Vec<&str> = args.iter().map(String::as_str).collect();
    // --timeout 1 caps each DNS query at 1 s (one retry): well under the 30 s test limit.
    let t = refs.iter().position(|a| *a == "--timeout").unwrap();
    refs[t + 1] = "1";
    let run = ehlo_with(&refs, None, Duration::from_secs(15));
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.elapsed < Duration::from_secs(8),
        "took {:?}",
        run.elapsed
    );
    // The server asked and the time it had are named, with what to do: "timed out" alone
    // looked like the domain's trouble, not a --dns-server that is down or mistyped.
    assert!(
        run.stderr.contains(&format!(
            "DNS lookup of example.test timed out (no answer from {dns} within 1s; is that DNS \
             server running and reachable? --dns-server names another)"
        )),
        "{}",
        run.stderr
    );
    drop(silent);
}

#[test]
fn an_address_literal_recipient_bypasses_dns() {
    let srv = scripted(after_greet(accept_all()));
    // A DNS server that never answers: any query would fail the run.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = silent.local_addr().unwrap().to_string();
    let run = run_mx(&dns, srv.addr.port(), "user@[127.0.0.1]", &[]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(got.contains("RCPT TO:<user@[127.0.0.1]>\r\n"), "{got}");
    assert!(!run.all().contains("lookup"), "{}", run.all());
    assert!(run.elapsed < Duration::from_secs(4), "{:?}", run.elapsed);

    // swaks's decimal form (`user@#16909060` is 1.2.3.4): an address too, so no MX lookup and no
    // "has no MX record" (it was routed as a domain whose implicit MX was the literal).
    let srv = scripted(after_greet(accept_all()));
    let port = srv.addr.port();
    let run = run_mx(&dns, port, "user@#2130706433", &[]);
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(got.contains("RCPT TO:<user@#2130706433>\r\n"), "{got}");
    assert!(
        run.stdout
            .contains(&format!("=== Trying 127.0.0.1:{port}...")),
        "{}",
        run.all()
    );
    assert!(!run.all().contains("MX"), "{}", run.all());
    assert!(!run.all().contains("lookup"), "{}", run.all());
}

#[test]
fn json_shows_the_failover_as_ordered_events() {
    let srv = scripted(after_greet(accept_all()));
    let (dns, _h) = FakeDns::start(vec![
        ("example.test", RecordSpec::Mx(10, "a.example.test".into())),
        ("example.test", RecordSpec::Mx(20, "b.example.test".into())),
        ("a.example.test", RecordSpec::A(v4("127.0.0.2"))),
        ("b.example.test", RecordSpec::A(v4("127.0.0.1"))),
    ]);
    let port = srv.addr.port();
    let run = run_mx(&dns.to_string(), port, "user@example.test", &["--json"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let routing: Vec<String> = lines
        .iter()
        .filter(|l| {
            let t = l["type"].as_str().unwrap();
            t.starts_with("dns_") || t.starts_with("connect")
        })
        .map(|l| {
            let d = &l["data"];
            let what = d["addr"]
                .as_str()
                .or(d["peer"].as_str())
                .unwrap_or_else(|| d["name"].as_str().unwrap());
            format!("{} {what}", l["type"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        routing,
        [
            "dns_query example.test".to_string(),
            "dns_answer example.test".into(),
            "dns_query a.example.test".into(),
            "dns_answer a.example.test".into(),
            format!("connecting 127.0.0.2:{port}"),
            format!("connect_failed 127.0.0.2:{port}"),
            "dns_query b.example.test".into(),
            "dns_answer b.example.test".into(),
            format!("connecting 127.0.0.1:{port}"),
            format!("connected 127.0.0.1:{port}"),
        ]
    );
    let mx = lines.iter().find(|l| l["type"] == "dns_answer").unwrap();
    assert_eq!(
        mx["data"]["records"],
        serde_json::json!(["10 a.example.test", "20 b.example.test"])
    );
    // The summary of a send that then connected still lists what failed on the way.
    let failover = &lines.last().unwrap()["data"]["failover"];
    assert_eq!(failover.as_array().map(Vec::len), Some(1), "{failover}");
    assert_eq!(failover[0]["host"], "a.example.test");
    assert_eq!(failover[0]["address"], format!("127.0.0.2:{port}"));
}

/// Every `rtype` a run's DNS events carry (`MX`, and `A/AAAA` for a host's addresses) is a
/// value the JSON specification (`src/render/json.rs`) and the README list.
#[test]
fn the_dns_rtypes_a_run_emits_are_documented() {
    let srv = scripted(after_greet(accept_all()));
    let (dns, _h) = FakeDns::start(vec![
        ("example.test", RecordSpec::Mx(10, "a.example.test".into())),
        ("a.example.test", RecordSpec::A(v4("127.0.0.1"))),
    ]);
    let run = run_mx(
        &dns.to_string(),
        srv.addr.port(),
        "user@example.test",
        &["--json"],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let mut rtypes: Vec<String> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["type"] == "dns_query" || l["type"] == "dns_answer")
        .map(|l| l["data"]["rtype"].as_str().unwrap().to_string())
        .collect();
    rtypes.dedup();
    assert_eq!(rtypes, ["MX", "A/AAAA"], "{}", run.stdout);
    let spec = include_str!("../../src/render/json.rs");
    let row = spec
        .lines()
        .find(|l| l.starts_with("//! | `dns_query` |"))
        .expect("the dns_query row of the specification");
    let readme = include_str!("../../README.md");
    let json_section = &readme[readme.find("## JSON Lines output").unwrap()..];
    for rtype in &rtypes {
        assert!(row.contains(&format!("`{rtype}`")), "{rtype} not in: {row}");
        assert!(
            json_section.contains(&format!("`{rtype}`")),
            "{rtype} not in the README's JSON section"
        );
    }
}

#[test]
fn every_address_of_an_mx_is_tried_and_family_flags_filter_them() {
    let table = || {
        vec![
            ("dual.test", RecordSpec::Mx(10, "mx.dual.test".into())),
            ("mx.dual.test", RecordSpec::Aaaa("::1".parse().unwrap())),
            ("mx.dual.test", RecordSpec::A(v4("127.0.0.1"))),
        ]
    };
    // Both families: ::1 first (nothing listens there on this port), then 127.0.0.1.
    let srv = scripted(after_greet(accept_all()));
    let (dns, _h) = FakeDns::start(table());
    let port = srv.addr.port();
    let run = run_mx(&dns.to_string(), port, "user@dual.test", &[]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let out = run.all();
    assert!(out.contains(&format!("[::1]:{port}")), "{out}");
    assert!(out.contains("Connected to mx.dual.test."), "{out}");
    // IPv6 first, as the README says (RFC 6724's default order, getaddrinfo's and so swaks's).
    let (v6, v4) = (
        out.find("Trying mx.dual.test").unwrap(),
        out.find("(127.0.0.1)...").unwrap(),
    );
    assert!(out[v6..v4].contains("(::1)"), "{out}");

    // -4: the IPv6 address is never tried.
    let srv = scripted(after_greet(accept_all()));
    let run = run_mx(&dns.to_string(), srv.addr.port(), "user@dual.test", &["-4"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!run.all().contains("::1"), "{}", run.all());

    // -6: only ::1, which refuses: exit 2, and 127.0.0.1 (listening) is never touched.
    let trap = tripwire();
    let port = trap.local_addr().unwrap().port();
    let run = run_mx(&dns.to_string(), port, "user@dual.test", &["-6"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(!run.all().contains("(127.0.0.1)"), "{}", run.all());
    assert!(untouched(&trap));
}

/// `--dnssec validate` end to end against an in-process signed zone on loopback, its key given
/// as `--dns-trust-anchor`: the MX and address answers are shown as secure and the mail goes
/// through; a forged address record fails the lookup (exit 2) before any connection.
#[test]
fn dnssec_validate_shows_secure_answers_and_refuses_forged_ones() {
    use ehlo::net::testutil::{SignedDns, Signing};
    use hickory_resolver::proto::rr::rdata::{A, MX};
    use hickory_resolver::proto::rr::{Name, RData};
    let srv = scripted(after_greet(accept_all()));
    let mx = |host: &str| RData::MX(MX::new(10, Name::from_ascii(host).unwrap()));
    let zone = SignedDns::start(
        "signed.test",
        vec![
            ("signed.test", mx("mx.signed.test."), Signing::Valid),
            (
                "mx.signed.test",
                RData::A(A(v4("127.0.0.1"))),
                Signing::Valid,
            ),
            (
                "forged.signed.test",
                mx("mx-forged.signed.test."),
                Signing::Valid,
            ),
            (
                "mx-forged.signed.test",
                RData::A(A(v4("127.0.0.1"))),
                Signing::Tampered,
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("anchor.key");
    std::fs::write(&anchor, format!("{}\n", zone.anchor)).unwrap();
    let anchor = anchor.to_str().unwrap();
    let dns = zone.addr.to_string();
    let port = srv.addr.port();

    let run = run_mx(
        &dns,
        port,
        "user@signed.test",
        &["--dnssec", "validate", "--dns-trust-anchor", anchor],
    );
    let got = srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(got.contains("RCPT TO:<user@signed.test>\r\n"), "{got}");
    assert!(
        run.stdout
            .contains("MX lookup for signed.test: 10 mx.signed.test (DNSSEC: secure)"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout
            .contains("A/AAAA lookup for mx.signed.test: 127.0.0.1 (DNSSEC: secure)"),
        "{}",
        run.all()
    );

    // JSON carries the proof too.
    let srv = scripted(after_greet(accept_all()));
    let run = run_mx(
        &dns,
        srv.addr.port(),
        "user@signed.test",
        &[
            "--dnssec",
            "validate",
            "--dns-trust-anchor",
            anchor,
            "--json",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .lines()
            .any(|l| l.contains("\"dns_answer\"") && l.contains("\"proof\":\"secure\"")),
        "{}",
        run.all()
    );

    // The tampered address: no connection at all, exit 2, the reason said.
    let trap = tripwire();
    let run = run_mx(
        &dns,
        trap.local_addr().unwrap().port(),
        "user@forged.signed.test",
        &["--dnssec", "validate", "--dns-trust-anchor", anchor],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.all().contains("DNSSEC validation failed"),
        "{}",
        run.all()
    );
    assert!(untouched(&trap));

    // Off (the default): the same forged record is used as it comes and nothing says DNSSEC.
    let srv = scripted(after_greet(accept_all()));
    let run = run_mx(&dns, srv.addr.port(), "user@signed.test", &[]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!run.all().contains("DNSSEC"), "{}", run.all());
}

#[test]
fn dns_trust_anchor_needs_validate_and_a_readable_file() {
    let run = ehlo(&[
        "--dns-trust-anchor",
        "/nonexistent/anchor.key",
        "--to",
        "user@example.test",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.all().contains("--dnssec validate"), "{}", run.all());
    let run = ehlo(&[
        "--dnssec",
        "validate",
        "--dns-trust-anchor",
        "/nonexistent/anchor.key",
        "--dns-server",
        "127.0.0.1:9",
        "--to",
        "user@example.test",
        "--timeout",
        "2",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all()
            .contains("cannot use the DNS trust anchor file /nonexistent/anchor.key"),
        "{}",
        run.all()
    );
    let run = ehlo(&["--dnssec", "sometimes", "--to", "user@example.test"]);
    assert_eq!(run.code, 1, "{}", run.all());
}

/// The cost of DNSSEC when it is off (the send's default): the queries on the wire are the
/// plain ones — MX, then A and AAAA of the exchange — none with the DO or AD bit, and no DNSKEY
/// or DS ever asked for. With `--dnssec trust-ad` the same three questions go out, with AD
/// set and still no DO (RFC 6840 §5.7) and no DNSKEY/DS either: the resolver does the work.
#[test]
fn dnssec_off_asks_only_the_plain_questions_and_trust_ad_only_adds_the_ad_bit() {
    use hickory_resolver::proto::rr::RecordType;
    let records = || {
        vec![
            ("plain.test", RecordSpec::Mx(10, "mx.plain.test".into())),
            ("mx.plain.test", RecordSpec::A(v4("127.0.0.1"))),
        ]
    };
    for (extra, ad) in [(&[][..], false), (&["--dnssec", "trust-ad"][..], true)] {
        let (dns, _h, log) = FakeDns::start_logged(records());
        let srv = scripted(after_greet(accept_all()));
        let run = run_mx(&dns.to_string(), srv.addr.port(), "user@plain.test", extra);
        srv.finish();
        assert_eq!(run.code, 0, "{extra:?}: {}", run.all());
        let mut seen: Vec<(String, RecordType)> = log
            .lock()
            .unwrap()
            .iter()
            .map(|q| (q.name.clone(), q.rtype))
            .collect();
        seen.sort_by_key(|(n, t)| (n.clone(), u16::from(*t)));
        assert_eq!(
            seen,
            [
                ("mx.plain.test".to_string(), RecordType::A),
                ("mx.plain.test".to_string(), RecordType::AAAA),
                ("plain.test".to_string(), RecordType::MX),
            ],
            "{extra:?}"
        );
        for q in log.lock().unwrap().iter() {
            assert!(!q.dnssec_ok, "{extra:?}: DO bit on {q:?}");
            assert!(!q.cd, "{extra:?}: CD bit on {q:?}");
            assert_eq!(q.ad, ad, "{extra:?}: {q:?}");
        }
    }
}

/// `--dnssec trust-ad` end to end: the resolver's AD bit is the proof on each answer line and
/// in JSON, a name it does not vouch for is insecure, and its SERVFAIL is a bogus answer that
/// stops the send before any connection (exit 2, the reason said).
#[test]
fn dnssec_trust_ad_shows_the_resolvers_verdict() {
    let (dns, _h) = FakeDns::start(vec![
        ("signed.test", RecordSpec::Mx(10, "mx.signed.test".into())),
        ("signed.test", RecordSpec::Authentic),
        ("mx.signed.test", RecordSpec::A(v4("127.0.0.1"))),
        ("mx.signed.test", RecordSpec::Authentic),
        ("half.test", RecordSpec::Mx(10, "mx.plain.test".into())),
        ("half.test", RecordSpec::Authentic),
        ("mx.plain.test", RecordSpec::A(v4("127.0.0.1"))),
        ("bogus.test", RecordSpec::Mx(10, "mx.bogus.test".into())),
        ("mx.bogus.test", RecordSpec::ServFail),
    ]);
    let dns = dns.to_string();
    let srv = scripted(after_greet(accept_all()));
    let run = run_mx(
        &dns,
        srv.addr.port(),
        "user@signed.test",
        &["--dnssec", "trust-ad"],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .contains("MX lookup for signed.test: 10 mx.signed.test (DNSSEC: secure)"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout
            .contains("A/AAAA lookup for mx.signed.test: 127.0.0.1 (DNSSEC: secure)"),
        "{}",
        run.all()
    );

    let srv = scripted(after_greet(accept_all()));
    let run = run_mx(
        &dns,
        srv.addr.port(),
        "user@half.test",
        &["--dnssec", "trust-ad", "--json"],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let answers: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("\"dns_answer\""))
        .collect();
    assert_eq!(answers.len(), 2, "{}", run.all());
    assert!(answers[0].contains("\"proof\":\"secure\""), "{answers:?}");
    assert!(answers[1].contains("\"proof\":\"insecure\""), "{answers:?}");

    let trap = tripwire();
    let run = run_mx(
        &dns,
        trap.local_addr().unwrap().port(),
        "user@bogus.test",
        &["--dnssec", "trust-ad"],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.all().contains("DNSSEC validation failed") && run.all().contains("SERVFAIL"),
        "{}",
        run.all()
    );
    assert!(untouched(&trap));

    // The anchors belong to validate: with trust-ad they are refused, not silently ignored.
    let run = ehlo(&[
        "--dnssec",
        "trust-ad",
        "--dns-trust-anchor",
        "/nonexistent/anchor.key",
        "--to",
        "user@example.test",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.all().contains("--dnssec validate"), "{}", run.all());
}

/// A refusing greeting: the refusal, then QUIT answered.
fn refusing(banner: &'static [u8]) -> Vec<Step> {
    vec![
        Step::Send(banner),
        Step::Expect("QUIT"),
        Step::Send(b"221 Bye\r\n"),
    ]
}

/// A port free on both 127.0.0.1 and 127.0.0.2 (loopback on Linux), so two MX hosts can share
/// one `--port`.
fn shared_port() -> u16 {
    loop {
        let one = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = one.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.2", port)).is_ok() {
            return port;
        }
    }
}

fn at(ip: &str, port: u16) -> std::net::SocketAddr {
    format!("{ip}:{port}").parse().unwrap()
}

#[test]
fn a_greeting_refusal_is_left_for_the_next_mx() {
    for banner in [
        &b"421 4.3.2 mx-busy.example.test busy, try later\r\n"[..],
        b"554 5.7.1 mx-busy.example.test no service for you\r\n",
    ] {
        let port = shared_port();
        let good = scripted_at(at("127.0.0.1", port), after_greet(accept_all()));
        let busy = scripted_at(at("127.0.0.2", port), refusing(banner));
        let (dns, _h) = FakeDns::start(vec![
            (
                "example.test",
                RecordSpec::Mx(10, "mx-busy.example.test".into()),
            ),
            (
                "example.test",
                RecordSpec::Mx(20, "mx-good.example.test".into()),
            ),
            ("mx-busy.example.test", RecordSpec::A(v4("127.0.0.2"))),
            ("mx-good.example.test", RecordSpec::A(v4("127.0.0.1"))),
        ]);
        let run = run_mx(&dns.to_string(), port, "user@example.test", &["--json"]);
        // Checked before waiting for the servers: one never contacted would wait forever.
        assert_eq!(run.code, 0, "{}", run.all());
        let refused = busy.finish();
        let got = good.finish();
        // The refusing server got QUIT and nothing else; the next MX got the mail.
        assert_eq!(refused, "QUIT\r\n");
        assert!(got.contains("RCPT TO:<user@example.test>\r\n"), "{got}");
        let lines: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // Every attempt, and why the first was left, in order.
        let steps: Vec<String> = lines
            .iter()
            .filter_map(|l| {
                let d = &l["data"];
                match l["type"].as_str().unwrap() {
                    "connected" => Some(format!("connected {}", d["host"].as_str().unwrap())),
                    "received" if d["phase"] == "banner" => {
                        Some(format!("banner {}", d["reply"]["code"]))
                    }
                    "warning" => Some(format!("warning {}", d["message"].as_str().unwrap())),
                    _ => None,
                }
            })
            .collect();
        let code = &String::from_utf8_lossy(banner)[..3];
        assert_eq!(
            steps,
            [
                "connected mx-busy.example.test".to_string(),
                format!("banner {code}"),
                format!(
                    "warning mx-busy.example.test [127.0.0.2:{port}] refused the session in its greeting ({}): left for the next MX address (RFC 5321 §5.1)",
                    String::from_utf8_lossy(banner).trim_end()
                ),
                "connected mx-good.example.test".into(),
                "banner 220".into(),
            ]
        );
        let summary = &lines.last().unwrap()["data"];
        assert_eq!(summary["exit_code"], 0);
        assert_eq!(
            summary["server"],
            format!("mx-good.example.test [127.0.0.1:{port}]")
        );
        // The summary's banner time is the answering server's, not the sum over both.
        let last_connect = lines
            .iter()
            .rposition(|l| l["type"] == "connected")
            .unwrap();
        let banner_timings = |from: usize, to: usize| -> Vec<String> {
            lines[from..to]
                .iter()
                .filter(|l| l["type"] == "timing" && l["data"]["phase"] == "banner")
                .map(|l| l["data"]["ms"].to_string())
                .collect()
        };
        assert_eq!(banner_timings(0, last_connect).len(), 1, "{}", run.stdout);
        let answering = banner_timings(last_connect, lines.len());
        let in_summary: Vec<String> = summary["timings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["phase"] == "banner")
            .map(|t| t["ms"].to_string())
            .collect();
        assert_eq!(in_summary, answering, "{}", run.stdout);
    }
}

/// The summary lists every failover failure as data, not only in `error`'s words: a refused
/// connection (with its address), a host whose name does not resolve (no address) and a
/// server left because it refused in its greeting, in the order met.
#[test]
fn the_summary_lists_each_failover_failure_with_host_address_and_reason() {
    let port = shared_port();
    let busy = scripted_at(at("127.0.0.2", port), refusing(b"554 5.7.1 busy\r\n"));
    let (dns, _h) = FakeDns::start(vec![
        ("example.test", RecordSpec::Mx(10, "a.example.test".into())),
        ("example.test", RecordSpec::Mx(20, "b.example.test".into())),
        ("example.test", RecordSpec::Mx(30, "c.example.test".into())),
        ("a.example.test", RecordSpec::A(v4("127.0.0.3"))),
        ("b.example.test", RecordSpec::NxDomain),
        ("c.example.test", RecordSpec::A(v4("127.0.0.2"))),
    ]);
    let run = run_mx(&dns.to_string(), port, "user@example.test", &["--json"]);
    assert_eq!(run.code, 21, "{}", run.all());
    busy.finish();
    let summary: serde_json::Value =
        serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    let summary = &summary["data"];
    // The text is what it was: the last refusal.
    assert_eq!(
        summary["error"], "banner: expected 220, got 554 5.7.1 busy",
        "{}",
        run.stdout
    );
    assert_eq!(
        summary["failover"],
        serde_json::json!([
            {
                "host": "a.example.test",
                "address": format!("127.0.0.3:{port}"),
                "reason": "Connection refused (os error 111)",
            },
            {
                "host": "b.example.test",
                "address": null,
                "reason": "b.example.test does not exist (NXDOMAIN)",
            },
            {
                "host": "c.example.test",
                "address": format!("127.0.0.2:{port}"),
                "reason": "refused the session in its greeting (554 5.7.1 busy)",
            },
        ]),
        "{}",
        run.stdout
    );
    // Every connection refused: `error` names them in words, `failover` as data.
    let (dns, _h) = FakeDns::start(vec![
        ("example.test", RecordSpec::Mx(10, "a.example.test".into())),
        ("example.test", RecordSpec::Mx(20, "b.example.test".into())),
        ("a.example.test", RecordSpec::A(v4("127.0.0.3"))),
        ("b.example.test", RecordSpec::A(v4("127.0.0.4"))),
    ]);
    let run = run_mx(&dns.to_string(), port, "user@example.test", &["--json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let summary: serde_json::Value =
        serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    let failover: Vec<String> = summary["data"]["failover"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["host"].as_str().unwrap(),
                f["address"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        failover,
        [
            format!("a.example.test 127.0.0.3:{port}"),
            format!("b.example.test 127.0.0.4:{port}")
        ]
    );
    let error = summary["data"]["error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!(
            "could not connect to any MX of example.test: a.example.test (127.0.0.3:{port}): \
             Connection refused"
        )),
        "{error}"
    );
}

/// A send that met no failure on its way to its server has no `failover` field (one that
/// did, and then connected, lists it: `json_shows_the_failover_as_ordered_events`).
#[test]
fn a_send_without_failover_failures_has_no_failover_field() {
    let srv = scripted(after_greet(accept_all()));
    let (dns, _h) = FakeDns::start(vec![
        ("example.test", RecordSpec::Mx(10, "a.example.test".into())),
        ("a.example.test", RecordSpec::A(v4("127.0.0.1"))),
    ]);
    let run = run_mx(
        &dns.to_string(),
        srv.addr.port(),
        "user@example.test",
        &["--json"],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let summary: serde_json::Value =
        serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert!(summary["data"].get("failover").is_none(), "{}", run.stdout);
}

#[test]
fn every_mx_refusing_in_its_greeting_is_exit_21_with_the_last_refusal() {
    let port = shared_port();
    let first = scripted_at(at("127.0.0.1", port), refusing(b"421 4.3.2 first busy\r\n"));
    let second = scripted_at(
        at("127.0.0.2", port),
        refusing(b"554 5.7.1 second refuses\r\n"),
    );
    let (dns, _h) = FakeDns::start(vec![
        ("example.test", RecordSpec::Mx(10, "a.example.test".into())),
        ("example.test", RecordSpec::Mx(20, "b.example.test".into())),
        // A third MX that does not resolve: the refusals still decide.
        (
            "example.test",
            RecordSpec::Mx(30, "gone.example.test".into()),
        ),
        ("a.example.test", RecordSpec::A(v4("127.0.0.1"))),
        ("b.example.test", RecordSpec::A(v4("127.0.0.2"))),
        ("gone.example.test", RecordSpec::NxDomain),
    ]);
    let run = run_mx(&dns.to_string(), port, "user@example.test", &[]);
    // Checked before waiting for the servers: one never contacted would wait forever.
    assert_eq!(run.code, 21, "{}", run.all());
    let out = run.all();
    assert!(out.contains("no other MX address to try"), "{out}");
    assert!(
        run.stderr.contains(
            "*** Result: failed (exit 21): banner: expected 220, got 554 5.7.1 second refuses"
        ),
        "{}",
        run.stderr
    );
    assert!(
        out.contains("gone.example.test does not exist (NXDOMAIN)"),
        "{out}"
    );
    assert_eq!(first.finish(), "QUIT\r\n");
    assert_eq!(second.finish(), "QUIT\r\n");
}

/// `--server both.example.test:PORT` (two addresses; `server` listens on the first) at
/// `--timeout secs`: what `server` received and the run. The second address must never be
/// tried: an explicit server is the answer, whatever its greeting.
fn explicit_server_with_two_addresses(
    server: Scripted,
    secs: &str,
    extra: &[&str],
) -> (String, Run) {
    let port = server.addr.port();
    let trap = std::net::TcpListener::bind(("127.0.0.2", port));
    let (dns, _h) = FakeDns::start(vec![
        ("both.example.test", RecordSpec::A(v4("127.0.0.1"))),
        ("both.example.test", RecordSpec::A(v4("127.0.0.2"))),
    ]);
    let dns = dns.to_string();
    let target = format!("both.example.test:{port}");
    let mut args = vec![
        "--dns-server",
        &dns,
        "--server",
        &target,
        "--to",
        "user@example.test",
        "--timeout",
        secs,
        "--color",
        "never",
    ];
    args.extend_from_slice(extra);
    let run = ehlo(&args);
    let wire = server.finish();
    assert!(!run.all().contains("next MX"), "{}", run.all());
    if let Ok(t) = trap {
        t.set_nonblocking(true).unwrap();
        assert!(untouched(&t), "the second address was tried");
    }
    (wire, run)
}

#[test]
fn an_explicit_server_refusing_in_its_greeting_is_the_answer() {
    let (wire, run) =
        explicit_server_with_two_addresses(scripted(refusing(b"421 4.3.2 busy\r\n")), "5", &[]);
    assert_eq!(wire, "QUIT\r\n");
    assert_eq!(run.code, 21, "{}", run.all());
}

/// A send to `user@example.test` routed by MX at `--timeout secs`: `mx-bad.example.test`
/// (preference 10, 127.0.0.2) runs `bad`, `mx-good.example.test` (20, 127.0.0.1) takes the mail.
/// Returns the run and what each server received.
fn bad_then_good(bad: Vec<Step>, secs: &str, extra: &[&str]) -> (Run, String, String, u16) {
    let port = shared_port();
    let good = scripted_at(at("127.0.0.1", port), after_greet(accept_all()));
    let bad = scripted_at(at("127.0.0.2", port), bad);
    let (dns, _h) = FakeDns::start(vec![
        (
            "example.test",
            RecordSpec::Mx(10, "mx-bad.example.test".into()),
        ),
        (
            "example.test",
            RecordSpec::Mx(20, "mx-good.example.test".into()),
        ),
        ("mx-bad.example.test", RecordSpec::A(v4("127.0.0.2"))),
        ("mx-good.example.test", RecordSpec::A(v4("127.0.0.1"))),
    ]);
    let args = mx_args(&dns.to_string(), port, "user@example.test", extra);
    let mut refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let t = refs.iter().position(|a| *a == "--timeout").unwrap();
    refs[t + 1] = secs;
    let run = ehlo_with(&refs, None, Duration::from_secs(20));
    // Checked before waiting for the servers: one never contacted would wait forever.
    assert_eq!(run.code, 0, "{}", run.all());
    let (bad, good) = (bad.finish(), good.finish());
    assert!(good.contains("RCPT TO:<user@example.test>\r\n"), "{good}");
    (run, bad, good, port)
}

/// The warning that says why the first MX was left.
fn left_because(port: u16, why: &str) -> String {
    format!(
        "mx-bad.example.test [127.0.0.2:{port}] {why}: left for the next MX address (RFC 5321 §5.1)"
    )
}

#[test]
fn an_mx_that_sends_no_greeting_within_the_timeout_is_left_for_the_next() {
    // Not a byte (a tarpit, a stuck server), and half a greeting that never ends.
    for bad in [vec![], vec![Step::Send(b"220 mx-bad.example.test still ")]] {
        let (run, got, _, port) = bad_then_good(bad, "1", &["--json"]);
        let lines: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let steps: Vec<String> = lines
            .iter()
            .filter_map(|l| match l["type"].as_str().unwrap() {
                "connected" => Some(format!("connected {}", l["data"]["host"].as_str()?)),
                // The session's own warning on what did arrive comes before.
                "warning" => Some(l["data"]["message"].as_str()?.to_string())
                    .filter(|m| m.contains("next MX")),
                _ => None,
            })
            .collect();
        assert_eq!(
            steps,
            [
                "connected mx-bad.example.test".to_string(),
                left_because(port, "sent no complete greeting within 1 s"),
                "connected mx-good.example.test".into(),
            ],
            "{}",
            run.stdout
        );
        // No QUIT: to silence, nor to half a greeting (its rest would be read as QUIT's
        // reply after another timeout).
        assert_eq!(got, "");
        let summary = &lines.last().unwrap()["data"];
        assert_eq!(summary["exit_code"], 0);
        assert_eq!(
            summary["server"],
            format!("mx-good.example.test [127.0.0.1:{port}]")
        );
    }
}

#[test]
fn an_mx_that_closes_before_or_while_greeting_is_left_for_the_next() {
    for (bad, why) in [
        (
            vec![Step::Close],
            "closed the connection before its greeting",
        ),
        (
            vec![
                Step::Send(b"220-mx-bad.example.test half a gree"),
                Step::Close,
            ],
            "closed the connection before its greeting",
        ),
    ] {
        let (run, got, _, port) = bad_then_good(bad, "5", &[]);
        assert_eq!(got, "");
        let out = run.all();
        let left = out
            .find(&format!("!!! {}", left_because(port, why)))
            .unwrap_or_else(|| panic!("{out}"));
        let next = out
            .find(&format!("Trying mx-good.example.test:{port} (127.0.0.1)"))
            .unwrap_or_else(|| panic!("{out}"));
        assert!(left < next, "{out}");
        assert!(out.contains("Connected to mx-good.example.test."), "{out}");
    }
}

#[test]
fn an_mx_that_greets_with_something_that_is_no_smtp_reply_is_left_for_the_next() {
    for (bad, why) in [
        (
            vec![
                Step::Send(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"),
                Step::Close,
            ],
            "sent no SMTP greeting but HTTP/1.1 400 Bad Request",
        ),
        (
            vec![Step::Send(b"\x00\x7f\xfe\x1b]0;x\x07\r\n"), Step::Close],
            "sent no SMTP greeting but \\x00\\x7F\\xFE\\x1B]0;x\\x07",
        ),
        // A TLS record where the plaintext greeting belongs.
        (
            vec![Step::Send(&[0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])],
            "sent no SMTP greeting but <TLS record: 16 03 01 00 05 01 02 03 04 05>",
        ),
    ] {
        let (run, _, _, port) = bad_then_good(bad, "5", &[]);
        let out = run.all();
        assert!(
            out.contains(&format!("!!! {}", left_because(port, why))),
            "{out}"
        );
        assert!(out.contains("Connected to mx-good.example.test."), "{out}");
    }
}

#[test]
fn every_mx_failing_to_greet_ends_with_the_last_ones_exit_code() {
    // The first MX is silent, the second closes: exit 6 (the close), as one MX closing gives.
    let port = shared_port();
    let silent = scripted_at(at("127.0.0.1", port), vec![]);
    let closing = scripted_at(at("127.0.0.2", port), vec![Step::Close]);
    let (dns, _h) = FakeDns::start(vec![
        ("example.test", RecordSpec::Mx(10, "a.example.test".into())),
        ("example.test", RecordSpec::Mx(20, "b.example.test".into())),
        ("a.example.test", RecordSpec::A(v4("127.0.0.1"))),
        ("b.example.test", RecordSpec::A(v4("127.0.0.2"))),
    ]);
    let args = mx_args(&dns.to_string(), port, "user@example.test", &[]);
    let mut refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let t = refs.iter().position(|a| *a == "--timeout").unwrap();
    refs[t + 1] = "1";
    let run = ehlo_with(&refs, None, Duration::from_secs(20));
    assert_eq!(run.code, 6, "{}", run.all());
    assert!(
        run.stderr.contains(
            "*** Result: failed (exit 6): the server closed the connection during banner"
        ),
        "{}",
        run.stderr
    );
    assert!(run.all().contains("no other MX address to try"));
    // The other way round: the silent one last, its timeout is the answer (exit 21, banner).
    drop((silent.finish(), closing.finish()));
    let closing = scripted_at(at("127.0.0.1", port), vec![Step::Close]);
    let silent = scripted_at(at("127.0.0.2", port), vec![]);
    let run = ehlo_with(&refs, None, Duration::from_secs(20));
    assert_eq!(run.code, 21, "{}", run.all());
    assert!(
        run.stderr
            .contains("*** Result: failed (exit 21): timed out after 1s waiting in banner phase"),
        "{}",
        run.stderr
    );
    drop((silent.finish(), closing.finish()));
}

#[test]
fn a_failure_after_the_220_is_the_answer_not_a_reason_to_try_the_next_mx() {
    let port = shared_port();
    let refusing_ehlo = scripted_at(
        at("127.0.0.2", port),
        vec![
            Step::Send(b"220 mx-bad.example.test ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"554 5.7.1 not you\r\n"),
            Step::Expect("QUIT"),
            Step::Send(b"221 Bye\r\n"),
        ],
    );
    let trap = std::net::TcpListener::bind(at("127.0.0.1", port)).unwrap();
    trap.set_nonblocking(true).unwrap();
    let (dns, _h) = FakeDns::start(vec![
        (
            "example.test",
            RecordSpec::Mx(10, "mx-bad.example.test".into()),
        ),
        (
            "example.test",
            RecordSpec::Mx(20, "mx-good.example.test".into()),
        ),
        ("mx-bad.example.test", RecordSpec::A(v4("127.0.0.2"))),
        ("mx-good.example.test", RecordSpec::A(v4("127.0.0.1"))),
    ]);
    let run = run_mx(&dns.to_string(), port, "user@example.test", &[]);
    assert_eq!(run.code, 22, "{}", run.all());
    assert_eq!(refusing_ehlo.finish(), "EHLO client.test\r\nQUIT\r\n");
    assert!(!run.all().contains("next MX"), "{}", run.all());
    assert!(untouched(&trap), "the next MX was tried after a 220");
}

#[test]
fn an_explicit_server_that_never_greets_is_the_answer() {
    let (wire, run) = explicit_server_with_two_addresses(scripted(vec![]), "1", &[]);
    assert_eq!(wire, "");
    assert_eq!(run.code, 21, "{}", run.all());
}

#[test]
fn equal_preference_mx_hosts_are_tried_in_random_order() {
    let trap = tripwire();
    let port = trap.local_addr().unwrap().port();
    let (dns, _h) = FakeDns::start(vec![
        ("eq.test", RecordSpec::Mx(10, "a.eq.test".into())),
        ("eq.test", RecordSpec::Mx(10, "b.eq.test".into())),
        ("eq.test", RecordSpec::Mx(5, "first.eq.test".into())),
        ("a.eq.test", RecordSpec::A(v4("127.0.0.2"))),
        ("b.eq.test", RecordSpec::A(v4("127.0.0.3"))),
        ("first.eq.test", RecordSpec::A(v4("127.0.0.4"))),
    ]);
    let mut seen = std::collections::BTreeSet::new();
    // Each order has a chance of 1/2 per run: 24 runs all alike happen once in 8 million.
    for _ in 0..24 {
        let run = run_mx(&dns.to_string(), port, "user@eq.test", &[]);
        assert_eq!(run.code, 2, "{}", run.all());
        let out = run.all();
        let line = out
            .lines()
            .find(|l| l.contains("MX lookup for eq.test"))
            .unwrap_or_else(|| panic!("{out}"))
            .to_string();
        // The lower preference always comes first.
        assert!(
            line.ends_with(": 5 first.eq.test, 10 a.eq.test, 10 b.eq.test")
                || line.ends_with(": 5 first.eq.test, 10 b.eq.test, 10 a.eq.test"),
            "{line}"
        );
        assert!(
            out.contains("MX hosts of equal preference are tried in random order (RFC 5321 §5.1)"),
            "{out}"
        );
        // The hosts are tried in the order shown.
        let a = out.find("Trying a.eq.test").unwrap();
        let b = out.find("Trying b.eq.test").unwrap();
        assert_eq!(a < b, line.ends_with("a.eq.test, 10 b.eq.test"), "{out}");
        seen.insert(a < b);
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(
        seen.len(),
        2,
        "equal-preference hosts always came in one order"
    );
    assert!(untouched(&trap));
}

#[test]
fn an_mx_that_is_an_ip_address_is_skipped() {
    // 127.0.0.1 as the exchange, with a server listening there: it must never be connected to.
    let trap = tripwire();
    let port = trap.local_addr().unwrap().port();
    let (dns, _h) = FakeDns::start(vec![
        ("lit.test", RecordSpec::Mx(10, "127.0.0.1".into())),
        ("mixed.test", RecordSpec::Mx(10, "127.0.0.1".into())),
        ("mixed.test", RecordSpec::Mx(20, "mx.mixed.test".into())),
        ("mx.mixed.test", RecordSpec::A(v4("127.0.0.2"))),
    ]);
    let run = run_mx(&dns.to_string(), port, "user@lit.test", &["--json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let summary: serde_json::Value =
        serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["data"]["outcome"], "dns");
    assert_eq!(
        summary["data"]["error"],
        "lit.test has no usable MX: 127.0.0.1 is an IP address, not a host name (RFC 1035 §3.3.9)"
    );
    assert!(
        run.stdout
            .contains("MX 10 127.0.0.1 of lit.test is an IP address"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("\"connecting\""), "{}", run.stdout);

    // Beside a usable MX: skipped with a warning, the other one tried.
    let run = run_mx(&dns.to_string(), port, "user@mixed.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    let out = run.all();
    assert!(
        out.contains("!!! MX 10 127.0.0.1 of mixed.test is an IP address, not a host name (RFC 1035 §3.3.9): skipped"),
        "{out}"
    );
    assert!(
        out.contains(&format!("Trying mx.mixed.test:{port} (127.0.0.2)")),
        "{out}"
    );
    assert!(!out.contains("(127.0.0.1)"), "{out}");
    assert!(untouched(&trap), "the IP-address MX was connected to");
}

#[test]
fn a_host_or_address_listed_twice_is_tried_once() {
    let trap = tripwire();
    let port = trap.local_addr().unwrap().port();
    let mut table: Vec<(&str, RecordSpec)> = (0..5)
        .map(|p| ("dup.test", RecordSpec::Mx(p, "mx.dup.test".into())))
        .collect();
    table.extend([
        ("mx.dup.test", RecordSpec::A(v4("127.0.0.2"))),
        ("alias.test", RecordSpec::Mx(10, "one.alias.test".into())),
        ("alias.test", RecordSpec::Mx(20, "two.alias.test".into())),
        ("one.alias.test", RecordSpec::A(v4("127.0.0.2"))),
        ("two.alias.test", RecordSpec::A(v4("127.0.0.2"))),
        ("two.alias.test", RecordSpec::A(v4("127.0.0.3"))),
    ]);
    let (dns, _h, log) = FakeDns::start_logged(table);
    let run = run_mx(&dns.to_string(), port, "user@dup.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    let out = run.all();
    assert_eq!(out.matches("Trying ").count(), 1, "{out}");
    assert_eq!(
        out.matches("A/AAAA lookup for mx.dup.test").count(),
        1,
        "{out}"
    );
    assert!(
        out.contains(
            "MX hosts of dup.test listed more than once are tried once: mx.dup.test (5 records)"
        ),
        "{out}"
    );
    let asked = log
        .lock()
        .unwrap()
        .iter()
        .filter(|q| {
            q.name == "mx.dup.test" && q.rtype == hickory_resolver::proto::rr::RecordType::A
        })
        .count();
    assert_eq!(asked, 1, "mx.dup.test looked up {asked} times");

    // Two names for one address: the address once, the other address of the second name too.
    let run = run_mx(&dns.to_string(), port, "user@alias.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    let out = run.all();
    // Tried once: one attempt, one line saying it failed (the result names that failure too).
    assert_eq!(out.matches("(127.0.0.2)...").count(), 1, "{out}");
    assert_eq!(
        out.matches(&format!(
            "Error connecting to one.alias.test (127.0.0.2:{port})"
        ))
        .count(),
        1,
        "{out}"
    );
    assert!(
        out.contains(
            "two.alias.test: 127.0.0.2 (as one.alias.test) already tried, not tried again"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!("Trying two.alias.test:{port} (127.0.0.3)")),
        "{out}"
    );
    assert!(untouched(&trap));
}

#[test]
fn past_ten_mx_hosts_the_rest_are_left_out_with_a_warning() {
    let trap = tripwire();
    let port = trap.local_addr().unwrap().port();
    let names: Vec<String> = (0..12).map(|i| format!("m{i}.many.test")).collect();
    let mut table: Vec<(&str, RecordSpec)> = Vec::new();
    for (i, n) in names.iter().enumerate() {
        table.push(("many.test", RecordSpec::Mx(i as u16, n.clone())));
        table.push((n.as_str(), RecordSpec::A(v4(&format!("127.0.1.{}", i + 1)))));
    }
    let (dns, _h) = FakeDns::start(table);
    let run = run_mx(&dns.to_string(), port, "user@many.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    let out = run.all();
    assert!(
        out.contains("!!! many.test has 12 MX hosts: only the first 10 are tried"),
        "{out}"
    );
    assert_eq!(out.matches("Trying ").count(), 10, "{out}");
    assert!(out.contains("Trying m9.many.test"), "{out}");
    assert!(!out.contains("Trying m10.many.test"), "{out}");
    assert!(untouched(&trap));
}

#[test]
fn every_mx_failing_in_dns_is_a_dns_outcome() {
    let (dns, _h) = FakeDns::start(vec![
        ("twonx.test", RecordSpec::Mx(10, "nx1.twonx.test".into())),
        ("twonx.test", RecordSpec::Mx(20, "nx2.twonx.test".into())),
        ("nx1.twonx.test", RecordSpec::NxDomain),
        ("nx2.twonx.test", RecordSpec::NxDomain),
    ]);
    let run = run_mx(&dns.to_string(), 9, "user@twonx.test", &["--json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let summary: serde_json::Value =
        serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["data"]["outcome"], "dns", "{}", run.stdout);
    // Each MX host's failure, not only the first's.
    assert_eq!(
        summary["data"]["error"],
        "twonx.test has no usable MX: nx1.twonx.test does not exist (NXDOMAIN); nx2.twonx.test \
         does not exist (NXDOMAIN)"
    );
}

/// Every MX host refusing the connection: the result names each host's failure, not only the
/// last one's, at most five and then how many more; what a refusal means is said once.
#[test]
fn every_mx_failing_to_connect_is_named_in_the_result() {
    let trap = tripwire();
    let port = trap.local_addr().unwrap().port();
    let names: Vec<String> = (2..9).map(|i| format!("m{i}.refused.test")).collect();
    let mut table: Vec<(&str, RecordSpec)> = Vec::new();
    for (i, n) in (2..9).zip(&names) {
        table.push(("refused.test", RecordSpec::Mx(i, n.clone())));
        table.push((n.as_str(), RecordSpec::A(v4(&format!("127.0.0.{i}")))));
    }
    // Two hosts, one failing in DNS: both failures, in the order met.
    table.extend([
        ("mixed.test", RecordSpec::Mx(10, "gone.mixed.test".into())),
        ("mixed.test", RecordSpec::Mx(20, "m2.refused.test".into())),
        ("gone.mixed.test", RecordSpec::NxDomain),
    ]);
    let (dns, _h) = FakeDns::start(table);
    let run = run_mx(&dns.to_string(), port, "user@refused.test", &["--json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let summary: serde_json::Value =
        serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["data"]["outcome"], "connect", "{}", run.stdout);
    let refused = |i: u16| format!("m{i}.refused.test (127.0.0.{i}:{port}): Connection refused");
    let error = summary["data"]["error"].as_str().unwrap();
    let named: Vec<String> = (2..7).map(refused).collect();
    let mut at = 0;
    for n in &named {
        let found = error[at..].find(n.as_str());
        assert!(found.is_some(), "{n} missing or out of order in {error}");
        at += found.unwrap();
    }
    assert!(!error.contains("m7.refused.test"), "{error}");
    assert!(
        error.ends_with(&format!(
            "; … and 2 more; none accepts connections on port {port} (no server on that port, \
             or a firewall refuses it)"
        )),
        "{error}"
    );

    let run = run_mx(&dns.to_string(), port, "user@mixed.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains(&format!(
            "*** Result: failed (exit 2): could not connect to any MX of mixed.test: \
             gone.mixed.test does not exist (NXDOMAIN); {} (os error 111)\n",
            refused(2)
        )),
        "{}",
        run.stderr
    );
    assert!(untouched(&trap));
}

/// A single MX host with no address: said once, in the result line, not also as a warning.
#[test]
fn a_single_mx_without_an_address_is_said_once() {
    let trap = tripwire();
    let port = trap.local_addr().unwrap().port();
    let (dns, _h) = FakeDns::start(vec![
        ("noaddr.test", RecordSpec::Mx(10, "mx.noaddr.test".into())),
        ("mx.noaddr.test", RecordSpec::Txt("nothing".into())),
    ]);
    let run = run_mx(&dns.to_string(), port, "user@noaddr.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    let out = run.all();
    assert_eq!(
        out.matches("mx.noaddr.test has no A/AAAA address").count(),
        1,
        "{out}"
    );
    assert!(
        run.stderr
            .contains("*** Result: failed (exit 2): mx.noaddr.test has no A/AAAA address\n"),
        "{out}"
    );
    // JSON Lines: the failed lookup is a `dns_failed` event for its host, not a bare warning.
    let run = run_mx(&dns.to_string(), port, "user@noaddr.test", &["--json"]);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let failed: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["type"] == "dns_failed").collect();
    assert_eq!(failed.len(), 1, "{}", run.stdout);
    assert_eq!(failed[0]["data"]["name"], "mx.noaddr.test");
    assert_eq!(failed[0]["data"]["rtype"], "A/AAAA");
    assert_eq!(
        failed[0]["data"]["reason"],
        "mx.noaddr.test has no A/AAAA address"
    );
    assert!(
        !lines.iter().any(|l| l["type"] == "warning"),
        "{}",
        run.stdout
    );
    assert_eq!(lines.last().unwrap()["data"]["outcome"], "dns");
    assert!(untouched(&trap));
}

/// `--tls-on-connect` routed by MX: `mx-bad.example.test` (preference 10, 127.0.0.2) runs `bad`
/// and `mx-good.example.test` (20, 127.0.0.1) completes the handshake with a certificate for its
/// name, trusted through `--tls-ca-path`, and takes the mail; `--timeout secs`. Returns the run
/// and the port; the warning that left the first MX must come before the second is tried.
fn tls_bad_then_good(bad: Scripted, port: u16, secs: &str, extra: &[&str]) -> Run {
    tls_bad_then_good_by(bad, port, secs, extra, false)
}

/// [`tls_bad_then_good`]; with `dane` the second MX is authenticated by a DANE-EE record for
/// its key given as `--tlsa` (which the first MX's certificate does not match), not by the CA.
fn tls_bad_then_good_by(bad: Scripted, port: u16, secs: &str, extra: &[&str], dane: bool) -> Run {
    use rcgen::PublicKeyData;
    let ck = rcgen::generate_simple_self_signed(vec!["mx-good.example.test".into()]).unwrap();
    let tlsa = format!(
        "3 1 1 {}",
        openssl::sha::sha256(&ck.signing_key.subject_public_key_info())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ck.cert.pem()).unwrap();
    let mut b =
        openssl::ssl::SslAcceptor::mozilla_intermediate_v5(openssl::ssl::SslMethod::tls_server())
            .unwrap();
    b.set_certificate(&openssl::x509::X509::from_der(ck.cert.der()).unwrap())
        .unwrap();
    b.set_private_key(
        &openssl::pkey::PKey::private_key_from_pem(ck.signing_key.serialize_pem().as_bytes())
            .unwrap(),
    )
    .unwrap();
    let mut steps = vec![Step::Tls];
    steps.extend(after_greet(accept_all()));
    let good = scripted_at_with(at("127.0.0.1", port), steps, std::sync::Arc::new(b.build()));
    let (dns, _h) = FakeDns::start(vec![
        (
            "example.test",
            RecordSpec::Mx(10, "mx-bad.example.test".into()),
        ),
        (
            "example.test",
            RecordSpec::Mx(20, "mx-good.example.test".into()),
        ),
        ("mx-bad.example.test", RecordSpec::A(v4("127.0.0.2"))),
        ("mx-good.example.test", RecordSpec::A(v4("127.0.0.1"))),
    ]);
    let mut more = vec!["--tls-on-connect"];
    if dane {
        more.extend(["--tlsa", tlsa.as_str()]);
    } else {
        more.extend(["--tls-ca-path", ca.to_str().unwrap()]);
    }
    more.extend_from_slice(extra);
    let args = mx_args(&dns.to_string(), port, "user@example.test", &more);
    let mut refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let t = refs.iter().position(|a| *a == "--timeout").unwrap();
    refs[t + 1] = secs;
    let run = ehlo_with(&refs, None, Duration::from_secs(20));
    // Checked before waiting for the servers: one never contacted would wait forever.
    assert_eq!(run.code, 0, "{}", run.all());
    bad.finish();
    let got = good.finish();
    assert!(got.contains("RCPT TO:<user@example.test>\r\n"), "{got}");
    let out = run.all();
    let left = out
        .find(&format!(
            "!!! mx-bad.example.test [127.0.0.2:{port}] gave no usable implicit TLS session ("
        ))
        .unwrap_or_else(|| panic!("the first MX was not left: {out}"));
    let next = out
        .find(&format!("Trying mx-good.example.test:{port} (127.0.0.1)"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(left < next, "{out}");
    assert!(
        out[left..next].contains("): left for the next MX address (RFC 5321 §5.1)"),
        "{out}"
    );
    run
}

/// The warning line that left the first MX (the reason is in it).
fn left_line(run: &Run) -> String {
    let out = run.all();
    out.lines()
        .find(|l| l.contains("left for the next MX address"))
        .unwrap_or_else(|| panic!("{out}"))
        .to_string()
}

#[test]
fn implicit_tls_an_mx_that_answers_in_plain_smtp_is_left_for_the_next() {
    let port = shared_port();
    let bad = scripted_at(
        at("127.0.0.2", port),
        vec![Step::Send(b"220 mx-bad.example.test ESMTP\r\n")],
    );
    let run = tls_bad_then_good(bad, port, "5", &[]);
    let line = left_line(&run);
    assert!(line.contains("this port speaks plain SMTP"), "{line}");
}

#[test]
fn implicit_tls_an_mx_that_closes_during_the_handshake_is_left_for_the_next() {
    let port = shared_port();
    let bad = scripted_at(at("127.0.0.2", port), vec![Step::Close]);
    let run = tls_bad_then_good(bad, port, "5", &[]);
    let line = left_line(&run);
    assert!(line.contains("TLS handshake failed"), "{line}");
}

#[test]
fn implicit_tls_an_mx_that_never_answers_the_handshake_is_left_for_the_next() {
    let port = shared_port();
    // Connected, then not a byte back to the ClientHello.
    let bad = scripted_at(at("127.0.0.2", port), vec![]);
    let run = tls_bad_then_good(bad, port, "1", &[]);
    let line = left_line(&run);
    assert!(
        line.contains("timed out after 1s in the TLS handshake (implicit TLS, before any SMTP)"),
        "{line}"
    );
}

#[test]
fn implicit_tls_an_mx_whose_certificate_fails_verification_is_left_for_the_next() {
    let port = shared_port();
    // A self-signed certificate for localhost: neither trusted nor naming the MX host.
    let bad = scripted_at(at("127.0.0.2", port), vec![Step::Tls]);
    let run = tls_bad_then_good(bad, port, "5", &[]);
    let line = left_line(&run);
    assert!(line.contains("certificate verification failed"), "{line}");
}

#[test]
fn implicit_tls_an_mx_that_fails_dane_authentication_is_left_for_the_next() {
    let port = shared_port();
    // Its certificate matches no TLSA record given (RFC 7672 §2.2.3: not via this host).
    let bad = scripted_at(at("127.0.0.2", port), vec![Step::Tls]);
    let run = tls_bad_then_good_by(bad, port, "5", &[], true);
    let line = left_line(&run);
    assert!(line.contains("DANE verification failed"), "{line}");
    assert!(
        run.all().contains("TLS DANE passed: 3 1 1 "),
        "{}",
        run.all()
    );
}

#[test]
fn implicit_tls_every_mx_failing_ends_with_the_last_ones_exit_code() {
    let port = shared_port();
    let first = scripted_at(at("127.0.0.1", port), vec![Step::Close]);
    let second = scripted_at(
        at("127.0.0.2", port),
        vec![Step::Send(b"220 plain ESMTP\r\n")],
    );
    let (dns, _h) = FakeDns::start(vec![
        ("example.test", RecordSpec::Mx(10, "a.example.test".into())),
        ("example.test", RecordSpec::Mx(20, "b.example.test".into())),
        ("a.example.test", RecordSpec::A(v4("127.0.0.1"))),
        ("b.example.test", RecordSpec::A(v4("127.0.0.2"))),
    ]);
    let run = run_mx(
        &dns.to_string(),
        port,
        "user@example.test",
        &["--tls-on-connect", "-k"],
    );
    assert_eq!(run.code, 29, "{}", run.all());
    let out = run.all();
    assert_eq!(
        out.matches("left for the next MX address").count(),
        2,
        "{out}"
    );
    assert!(out.contains("no other MX address to try"), "{out}");
    assert!(
        run.stderr.contains("*** Result: failed (exit 29)")
            && run.stderr.contains("this port speaks plain SMTP"),
        "{}",
        run.stderr
    );
    drop((first.finish(), second.finish()));
}

#[test]
fn an_explicit_server_failing_the_implicit_tls_handshake_is_the_answer() {
    let (_, run) = explicit_server_with_two_addresses(
        scripted(vec![Step::Send(b"220 plain ESMTP\r\n")]),
        "5",
        &["--tls-on-connect", "-k"],
    );
    assert_eq!(run.code, 29, "{}", run.all());
    assert!(
        run.all().contains("this port speaks plain SMTP"),
        "{}",
        run.all()
    );
}

/// An MX exchange that is an alias breaks RFC 2181 §10.3: the send follows it, as Postfix
/// does, and says so; a --server name that is an alias is no MX and gets no such line.
#[test]
fn an_mx_exchange_that_is_a_cname_is_followed_with_a_warning() {
    let (dns, _h) = FakeDns::start(vec![
        ("alias.test", RecordSpec::Mx(10, "mx.alias.test".into())),
        ("mx.alias.test", RecordSpec::Cname("host.alias.test".into())),
        ("host.alias.test", RecordSpec::A(v4("127.0.0.1"))),
    ]);
    let srv = scripted(after_greet(accept_all()));
    let run = run_mx(&dns.to_string(), srv.addr.port(), "user@alias.test", &[]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.all().contains(
            "!!! mx.alias.test is a CNAME (→ host.alias.test): an MX must name the host itself \
             (RFC 2181 §10.3); followed, as Postfix does"
        ),
        "{}",
        run.all()
    );
    let srv = scripted(after_greet(accept_all()));
    let run = run_mx(
        &dns.to_string(),
        srv.addr.port(),
        "user@alias.test",
        &["--server", "mx.alias.test"],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!run.all().contains("is a CNAME"), "{}", run.all());
}

/// An MX host that is a CNAME left dangling (its target gone, or without addresses): the send
/// named the alias as absent ("mx.gone.test does not exist (NXDOMAIN)") while `ehlo check`
/// said where the chain leads; both now say the same, with the chain (one wording, in
/// src/net/dns.rs), and the exit code stays a DNS failure's.
#[test]
fn a_dangling_cname_mx_is_worded_as_check_words_it() {
    let (dns, _h) = dangling_cname_mx_dns();
    let dangling = "mx.gone.test is a CNAME (→ old.gone.test → older.gone.test), and \
                    older.gone.test does not exist (NXDOMAIN)";
    let check = ehlo(&[
        "check",
        "gone.test",
        "--dns-server",
        &dns.to_string(),
        "--only",
        "mx.target",
        "--timeout",
        "2s",
        "--color",
        "never",
    ]);
    assert_eq!(check.code, 40, "{}", check.all());
    assert!(check.stdout.contains(dangling), "{}", check.all());
    let run = run_mx(&dns.to_string(), 9, "user@gone.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.all()
            .contains(&format!("*** Result: failed (exit 2): {dangling}")),
        "{}",
        run.all()
    );
    // The same as --server, and with -4 (one family asked).
    let run = run_mx(
        &dns.to_string(),
        9,
        "user@gone.test",
        &["--server", "mx.gone.test", "-4"],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.all().contains(dangling), "{}", run.all());
    // An alias to a name without addresses: the chain, then the send's own "no address".
    let run = run_mx(&dns.to_string(), 9, "user@bare.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.all().contains(
            "mx.bare.test is a CNAME (→ txt.bare.test), and txt.bare.test has no A/AAAA address"
        ),
        "{}",
        run.all()
    );
    // No alias: as before.
    let run = run_mx(&dns.to_string(), 9, "user@plain.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.all()
            .contains("*** Result: failed (exit 2): nothere.plain.test does not exist (NXDOMAIN)"),
        "{}",
        run.all()
    );
}

/// A recipient domain with a trailing dot: looked up as the absolute name it is, sent as typed
/// (as swaks sends it), and warned about, since RFC 5321 §4.1.2 has no such domain.
#[test]
fn a_trailing_dot_is_looked_up_sent_as_typed_and_warned_about() {
    let (dns, _h) = FakeDns::start(vec![("plain.test", RecordSpec::A(v4("127.0.0.1")))]);
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL FROM:<sender@client.test>"),
        Step::Send(b"250 Ok\r\n"),
        Step::Expect("RCPT TO:<user@plain.test.>"),
        Step::Send(b"501 malformed\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 Bye\r\n"),
    ]));
    let run = run_mx(&dns.to_string(), srv.addr.port(), "user@plain.test.", &[]);
    srv.finish();
    assert_eq!(run.code, 24, "{}", run.all());
    assert!(
        run.all().contains(
            "!!! --to user@plain.test.: a domain ending in a dot is no domain in SMTP (RFC 5321 \
             §4.1.2): sent as typed, as swaks sends it"
        ),
        "{}",
        run.all()
    );
    assert!(!run.all().contains("--from"), "{}", run.all());
}

/// A recipient domain DNS cannot be asked about is refused before any query (exit 1, the
/// reason named), where it used to go to the resolver and come back as hickory's "Malformed
/// label" with exit 2; with --server it is sent as typed. An `xn--` label that is no A-label
/// (RFC 5891 §5.4) was asked about and came back NXDOMAIN, read as a typo.
#[test]
fn a_domain_dns_cannot_be_asked_about_is_refused_before_any_lookup() {
    let (dns, _h, log) =
        FakeDns::start_logged(vec![("plain.test", RecordSpec::A(v4("127.0.0.1")))]);
    let long = format!("user@{}.test", "x".repeat(64));
    for (to, why) in [
        ("user@plain..test", "it has an empty label"),
        ("user@plain.test..", "it has an empty label"),
        ("user@.plain.test", "it has an empty label"),
        (
            long.as_str(),
            "a label is 64 octets long, over 63 (RFC 1035 §2.3.4)",
        ),
        (
            "user@xn--a.test",
            "'xn--a' is no valid A-label: its Punycode does not decode to a valid U-label \
             (RFC 5891 §5.4)",
        ),
        ("user@b\u{fc}cher.xn--a.test", "'xn--a' is no valid A-label"),
    ] {
        let run = run_mx(&dns.to_string(), 9, to, &[]);
        assert_eq!(run.code, 1, "{to}: {}", run.all());
        assert!(
            run.stderr.contains(&format!(
                "--to: the domain of '{to}' cannot be looked up for its MX: {why}"
            )),
            "{to}: {}",
            run.stderr
        );
        assert!(!run.all().contains("Malformed"), "{}", run.all());
    }
    assert!(log.lock().unwrap().is_empty(), "{:?}", log.lock().unwrap());
    let srv = scripted(after_greet(vec![
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 Ok\r\n"),
        Step::Expect("RCPT TO:<user@plain..test>"),
        Step::Send(b"501 malformed\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 Bye\r\n"),
    ]));
    let run = run_mx(
        &dns.to_string(),
        srv.addr.port(),
        "user@plain..test",
        &["--server", "127.0.0.1"],
    );
    srv.finish();
    assert_eq!(run.code, 24, "{}", run.all());
}

/// A socket bound to `--local-interface` reaches only addresses of its family: the host's
/// others are left out with one line saying so, as swaks (IO::Socket::INET6) pairs local and
/// remote addresses by family, not each "tried" and failed, the last such failure then hiding
/// the real one in the result.
#[test]
fn a_local_interface_leaves_out_the_other_family() {
    let (dns, _h) = FakeDns::start(vec![
        ("both.example.test", RecordSpec::A(v4("127.0.0.1"))),
        (
            "both.example.test",
            RecordSpec::Aaaa("::1".parse().unwrap()),
        ),
        ("six.example.test", RecordSpec::Aaaa("::1".parse().unwrap())),
    ]);
    let events = |stdout: &str, kind: &str| -> Vec<serde_json::Value> {
        stdout
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["type"] == kind)
            .map(|v| v["data"].clone())
            .collect()
    };
    let srv = scripted(after_greet(accept_all()));
    let port = srv.addr.port();
    let server = format!("both.example.test:{port}");
    let run = run_mx(
        &dns.to_string(),
        port,
        "user@example.test",
        &[
            "--server",
            &server,
            "--local-interface",
            "127.0.0.1",
            "--json",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        events(&run.stdout, "connect_failed"),
        Vec::<serde_json::Value>::new()
    );
    let tried: Vec<String> = events(&run.stdout, "connecting")
        .iter()
        .map(|d| d["addr"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tried, [format!("127.0.0.1:{port}")]);
    assert!(
        events(&run.stdout, "info").iter().any(|d| d["message"]
            .as_str()
            .unwrap_or_default()
            .contains(
                "--local-interface 127.0.0.1 has no IPv6 address (only IPv4): ::1 of both.example.test not tried"
            )),
        "{}",
        run.stdout
    );

    // Nothing of the local address's family: exit 2 for that reason, nothing tried.
    let run = run_mx(
        &dns.to_string(),
        9,
        "user@example.test",
        &[
            "--server",
            "six.example.test",
            "--local-interface",
            "127.0.0.1",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(!run.all().contains("Trying"), "{}", run.all());
    assert!(
        run.stderr.contains(
            "could not connect to six.example.test:9: --local-interface 127.0.0.1 has no IPv6 \
             address (only IPv4): ::1 of six.example.test not tried"
        ),
        "{}",
        run.stderr
    );
}

/// Addresses are tried one at a time, IPv6 first, with no Happy Eyeballs race (RFC 8305; nor in
/// swaks or Postfix): an IPv6 path that drops the SYN costs a whole `--connect-timeout` before
/// IPv4 is tried. When IPv4 then answers, a warning says how long went on IPv6 and what avoids
/// it. The IPv6 side here is a listener whose accept queue is full, so the kernel drops the SYN
/// as a blackholed route would.
#[test]
fn time_lost_on_a_silent_ipv6_address_before_ipv4_answers_is_said() {
    let srv = scripted(after_greet(accept_all()));
    let port = srv.addr.port();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _in_rt = rt.enter();
    let sock = tokio::net::TcpSocket::new_v6().unwrap();
    sock.bind(format!("[::1]:{port}").parse().unwrap())
        .expect("IPv6 loopback for the silent address");
    let _silent = sock.listen(0).unwrap();
    let six: std::net::SocketAddr = format!("[::1]:{port}").parse().unwrap();
    // The queue holds one connection (backlog 0); every SYN after that is dropped.
    let mut fill = Vec::new();
    for _ in 0..3 {
        if let Ok(c) = std::net::TcpStream::connect_timeout(&six, Duration::from_millis(300)) {
            fill.push(c);
        }
    }
    assert!(
        std::net::TcpStream::connect_timeout(&six, Duration::from_millis(300)).is_err(),
        "the IPv6 listener still answers"
    );
    let (dns, _h) = FakeDns::start(vec![
        ("both.example.test", RecordSpec::A(v4("127.0.0.1"))),
        (
            "both.example.test",
            RecordSpec::Aaaa("::1".parse().unwrap()),
        ),
    ]);
    let server = format!("both.example.test:{port}");
    let run = run_mx(
        &dns.to_string(),
        port,
        "user@example.test",
        &["--server", &server, "--connect-timeout", "1"],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let out = run.all();
    assert!(
        out.contains(&format!(
            "*** Error connecting to both.example.test ([::1]:{port}): timed out after 1s"
        )),
        "{out}"
    );
    // The time is the attempt's, a little over the 1 s bound (more under load).
    let warned = out
        .lines()
        .find_map(|l| l.strip_prefix("!!! 1."))
        .unwrap_or_else(|| panic!("no warning of about 1 s: {out}"));
    assert!(
        warned.ends_with(&format!(
            "s went on IPv6 attempts that failed ([::1]:{port}: timed out after 1s) before \
             IPv4 answered: -4 skips IPv6, --connect-timeout shortens each attempt's wait (now \
             1s)"
        )),
        "{out}"
    );

    // -4: IPv6 is not tried, so nothing is said.
    let srv = scripted(after_greet(accept_all()));
    let port4 = srv.addr.port();
    let run = run_mx(
        &dns.to_string(),
        port4,
        "user@example.test",
        &["--server", &format!("both.example.test:{port4}"), "-4"],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(!run.all().contains("::1"), "{}", run.all());
    assert!(!run.all().contains("went on IPv6"), "{}", run.all());
}

/// The Unicode full stops separate labels as `.` does (RFC 3490 §3.1, UTS #46):
/// `user@bücher。test` is routed by the MX of `xn--bcher-kva.test`, the name asked. It was
/// asked as one label holding a dot (`xn--bcher-kva\.test`), which no server answers.
#[test]
fn unicode_full_stops_in_a_recipient_domain_separate_labels() {
    for dot in ['\u{3002}', '\u{ff0e}', '\u{ff61}'] {
        let (dns, _h, log) = FakeDns::start_logged(vec![
            (
                "xn--bcher-kva.test",
                RecordSpec::Mx(10, "mx.xn--bcher-kva.test".into()),
            ),
            ("mx.xn--bcher-kva.test", RecordSpec::A(v4("127.0.0.1"))),
        ]);
        let srv = scripted(after_greet(accept_all()));
        let to = format!("user@b\u{fc}cher{dot}test");
        let run = run_mx(&dns.to_string(), srv.addr.port(), &to, &[]);
        let got = srv.finish();
        assert_eq!(run.code, 0, "{dot}: {}", run.all());
        assert!(
            got.contains("RCPT TO:<user@xn--bcher-kva.test>\r\n"),
            "{got}"
        );
        assert!(
            run.all().contains("xn--bcher-kva.test"),
            "{dot}: {}",
            run.all()
        );
        let asked: Vec<String> = log.lock().unwrap().iter().map(|q| q.name.clone()).collect();
        assert!(
            asked.contains(&"xn--bcher-kva.test".to_string()),
            "{dot}: {asked:?}"
        );
    }
}
