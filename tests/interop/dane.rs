//! DANE TLSA matching (`--tlsa`, `--tlsa-file`) cross-checked against NLnet Labs' `ldns-dane`
//! (Debian ldnsutils, an independent DANE implementation) on the real Postfix certificate: the
//! records `ldns-dane create` makes authenticate Postfix in ehlo (STARTTLS and implicit TLS), a
//! record ldns-dane refuses ehlo refuses too (exit 29), and the digest ehlo shows as evidence is
//! the one ldns-dane computes, a record split across lines in `( … )` reads the same in both.
//! Tests named `dane_*`.

use super::*;

/// `ldns-dane ARGS…`, panicking with a hint if it is not installed.
fn ldns_dane(args: &[&str]) -> Run {
    let mut cmd = Command::new("ldns-dane");
    cmd.args(args);
    let what = format!("ldns-dane {}", args.join(" "));
    if which("ldns-dane").is_none() {
        panic!(
            "{what}: ldns-dane is not installed (apt-get install ldnsutils; tests/interop/setup.sh does)"
        );
    }
    run_bounded(cmd)
}

fn which(prog: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(prog))
            .find(|f| f.is_file())
    })
}

/// The TLSA record `ldns-dane create` makes for Postfix's implicit-TLS port (the same
/// certificate serves STARTTLS on 2525), as one zone-file line.
fn created(usage: u8, selector: u8, mtype: u8) -> String {
    let run = ldns_dane(&[
        "-4",
        "-a",
        "127.0.0.1",
        "create",
        "localhost",
        "4465",
        &usage.to_string(),
        &selector.to_string(),
        &mtype.to_string(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.dump());
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("TLSA"))
        .unwrap_or_else(|| panic!("no TLSA record from ldns-dane create\n{}", run.dump()))
        .to_string();
    assert!(
        line.contains(&format!("TLSA\t{usage} {selector} {mtype} "))
            || line.contains(&format!("TLSA {usage} {selector} {mtype} ")),
        "{line}"
    );
    line
}

/// Does ldns-dane (with no name check, as DANE-EE needs none) accept the records in `file`
/// for Postfix's implicit-TLS port?
fn ldns_verifies(file: &Path) -> bool {
    let run = ldns_dane(&[
        "-4",
        "-n",
        "-a",
        "127.0.0.1",
        "-t",
        file.to_str().unwrap(),
        "verify",
    ]);
    run.code == Some(0)
}

fn tmp_file(tag: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("{}-{tag}.tlsa", unique("dane")));
    fs::write(&path, text).unwrap();
    path
}

/// ehlo's verdict for the records in `file`, over STARTTLS (2525) and implicit TLS (4465).
fn ehlo_verdicts(file: &Path) -> (Run, Run) {
    let f = file.to_str().unwrap();
    let starttls = ehlo(&[
        "-s",
        POSTFIX_SMTP,
        "-t",
        LOCAL_RCPT,
        "--tls",
        "--tlsa-file",
        f,
        "-q",
        "ehlo",
    ]);
    let implicit = ehlo(&[
        "-s",
        POSTFIX_SMTPS,
        "-t",
        LOCAL_RCPT,
        "--tls-on-connect",
        "--tlsa-file",
        f,
        "-q",
        "ehlo",
    ]);
    (starttls, implicit)
}

#[test]
#[ignore = "needs the interop peers and ldns-dane (tests/interop/setup.sh)"]
fn dane_ldns_dane_records_authenticate_postfix_in_ehlo() {
    require_postfix_smtp();
    require_postfix_smtps();
    for (s, m) in [(1, 1), (0, 1), (1, 2), (0, 2), (1, 0), (0, 0)] {
        let line = created(3, s, m);
        let file = tmp_file(&format!("3{s}{m}"), &format!("{line}\n"));
        assert!(
            ldns_verifies(&file),
            "ldns-dane refuses its own record {line}"
        );
        let (starttls, implicit) = ehlo_verdicts(&file);
        for run in [&starttls, &implicit] {
            assert_eq!(run.code, Some(0), "3 {s} {m}\n{}", run.dump());
            assert!(
                run.stdout.contains(&format!("[matched] <- 3 {s} {m} ")),
                "{}",
                run.dump()
            );
            assert!(
                run.stdout.contains("=== TLS DANE passed: "),
                "{}",
                run.dump()
            );
        }
        let _ = fs::remove_file(&file);
    }
}

/// A record split across lines in parentheses, as zone files write long ones (RFC 1035 §5.1),
/// with a comment inside: `ldns-dane -t` reads it, and so does `--tlsa-file`.
#[test]
#[ignore = "needs the interop peers and ldns-dane (tests/interop/setup.sh)"]
fn dane_a_record_split_across_lines_reads_as_in_ldns_dane() {
    require_postfix_smtp();
    require_postfix_smtps();
    let line = created(3, 1, 1);
    let at = line.find("TLSA").unwrap() + "TLSA".len();
    let (head, rdata) = line.split_at(at);
    let hex = rdata.split_whitespace().skip(3).collect::<String>();
    assert_eq!(hex.len(), 64, "{line}");
    let text = format!(
        "{head} ( 3 1 1 ; DANE-EE SPKI SHA2-256\n\t{}\n\t{} )\n",
        &hex[..32],
        &hex[32..]
    );
    let file = tmp_file("multiline", &text);
    assert!(ldns_verifies(&file), "ldns-dane refuses\n{text}");
    let (starttls, implicit) = ehlo_verdicts(&file);
    for run in [&starttls, &implicit] {
        assert_eq!(run.code, Some(0), "{text}\n{}", run.dump());
        assert!(
            run.stdout
                .contains(&format!("[matched] <- 3 1 1 {}", &hex[..16])),
            "{}",
            run.dump()
        );
    }
    let _ = fs::remove_file(&file);
}

#[test]
#[ignore = "needs the interop peers and ldns-dane (tests/interop/setup.sh)"]
fn dane_a_record_ldns_dane_refuses_is_exit_29_in_ehlo() {
    require_postfix_smtp();
    require_postfix_smtps();
    let line = created(3, 1, 1);
    // The same record with its last hex digit changed: a digest of another key.
    let last = line.trim_end().chars().last().unwrap();
    let flipped = if last == '0' { '1' } else { '0' };
    let wrong = format!(
        "{}{flipped}\n",
        &line.trim_end()[..line.trim_end().len() - 1]
    );
    let file = tmp_file("wrong", &wrong);
    assert!(!ldns_verifies(&file), "ldns-dane accepts {wrong}");
    let (starttls, implicit) = ehlo_verdicts(&file);
    for run in [&starttls, &implicit] {
        assert_eq!(run.code, Some(29), "{}", run.dump());
        assert!(
            run.all()
                .contains("DANE verification failed: no TLSA record matched"),
            "{}",
            run.dump()
        );
    }
    // A DANE-EE record for a PKIX usage: ldns-dane without PKIX trust refuses it; for SMTP
    // ehlo ignores usage 1 altogether (RFC 7672 §3.1.3) and so fails too.
    let pkix = created(3, 1, 1).replacen("TLSA\t3 1 1 ", "TLSA\t1 1 1 ", 1);
    assert!(pkix.contains("\t1 1 1 "), "{pkix}");
    let file2 = tmp_file("pkix", &format!("{pkix}\n"));
    assert!(
        !ldns_verifies(&file2),
        "ldns-dane accepts PKIX-EE without a CA: {pkix}"
    );
    let (starttls, _) = ehlo_verdicts(&file2);
    assert_eq!(starttls.code, Some(29), "{}", starttls.dump());
    assert!(
        starttls.all().contains("no usable TLSA record"),
        "{}",
        starttls.dump()
    );
    let _ = fs::remove_file(&file);
    let _ = fs::remove_file(&file2);
}

#[test]
#[ignore = "needs the interop peers and ldns-dane (tests/interop/setup.sh)"]
fn dane_evidence_digest_is_what_ldns_dane_publishes() {
    require_postfix_smtps();
    // A record that matches nothing: ehlo shows each certificate's digest, to publish.
    let zero = format!("3 1 1 {}", "00".repeat(32));
    let run = ehlo(&[
        "-s",
        POSTFIX_SMTPS,
        "-t",
        LOCAL_RCPT,
        "--tls-on-connect",
        "--tlsa",
        &zero,
    ]);
    assert_eq!(run.code, Some(29), "{}", run.dump());
    let shown = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("=== TLS DANE depth 0 spki sha256 "))
        .unwrap_or_else(|| panic!("no depth 0 evidence\n{}", run.dump()))
        .trim()
        .to_string();
    let line = created(3, 1, 1);
    let published = line.split_whitespace().last().unwrap().to_ascii_lowercase();
    assert_eq!(shown, published, "{}", run.dump());
}

/// `check`'s `dane.match` cross-checked with `ldns-dane -n -t TLSAFILE verify` on the same
/// chain (Postfix's certificate, served over STARTTLS on 2525 to `check` and over implicit TLS
/// on 4465 to ldns-dane): `check` validates the signed zone served by NSD (and, through
/// Unbound, with `--dnssec trust-ad`, with the same statuses), takes the TLSA records of each
/// MX host from its `dane.tlsa` result, and its `dane.match` verdict must be ldns-dane's on
/// those records — the published key (`dnssec.test`, and `sub.dnssec.test` under NSEC3)
/// passes both, another key's digest (`mx-wrong.dnssec.test`, an implicit MX) fails both, and
/// under the unsigned delegation there is nothing to match.
#[test]
#[ignore = "needs NSD, Unbound, Postfix and ldns-dane (tests/interop/setup.sh)"]
fn dane_check_match_agrees_with_ldns_dane_on_the_signed_zone() {
    use super::dnssec::{NSD, UNBOUND, require_dns_peers};
    let anchor = require_dns_peers();
    require_postfix_smtp();
    require_postfix_smtps();
    let domains = [
        "dnssec.test",
        "sub.dnssec.test",
        "mx-wrong.dnssec.test",
        "insecure.dnssec.test",
    ];
    let port = POSTFIX_SMTP.rsplit(':').next().unwrap();
    let check = |mode: &[&str]| {
        let mut args = vec![
            "check",
            "--json",
            "--port",
            port,
            "--allow-private",
            "-4",
            "--only",
            "dnssec.*",
            "--only",
            "dane.*",
        ];
        args.extend_from_slice(mode);
        args.extend_from_slice(&domains);
        let mut cmd = Command::new(ehlo_bin());
        cmd.args(&args);
        let run = run_bounded(cmd);
        let lines: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|v: &serde_json::Value| v["type"] == "check")
            .collect();
        (run, lines)
    };
    let (run, lines) = check(&["--dns-server", NSD, "--dns-trust-anchor", &anchor]);
    assert_eq!(run.code, Some(40), "{}", run.dump());
    let (ad_run, ad_lines) = check(&["--dns-server", UNBOUND, "--dnssec", "trust-ad"]);
    assert_eq!(ad_run.code, Some(40), "{}", ad_run.dump());
    let statuses = |lines: &[serde_json::Value]| {
        let mut s: Vec<String> = lines
            .iter()
            .map(|v| format!("{} {} {}", v["domain"], v["id"], v["status"]))
            .collect();
        s.sort();
        s
    };
    assert_eq!(
        statuses(&lines),
        statuses(&ad_lines),
        "validate and trust-ad disagree"
    );
    let find = |domain: &str, id: &str| {
        lines
            .iter()
            .find(|v| v["domain"] == domain && v["id"] == id)
            .unwrap_or_else(|| panic!("no {id} for {domain}\n{}", run.dump()))
            .clone()
    };
    for (domain, want) in [
        ("dnssec.test", "pass"),
        ("sub.dnssec.test", "pass"),
        ("mx-wrong.dnssec.test", "fail"),
    ] {
        let tlsa = find(domain, "dane.tlsa");
        assert_eq!(tlsa["status"], "pass", "{domain}: {tlsa}");
        let records: Vec<String> = tlsa["evidence"]["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "_4465._tcp.localhost. 3600 IN TLSA {}\n",
                    r.as_str().unwrap()
                )
            })
            .collect();
        assert!(!records.is_empty(), "{domain}: {tlsa}");
        let file = tmp_file(&format!("check-{domain}"), &records.concat());
        let ldns = ldns_verifies(&file);
        let _ = fs::remove_file(&file);
        let m = find(domain, "dane.match");
        assert_eq!(m["status"], want, "{domain}: {m}");
        assert_eq!(
            ldns,
            want == "pass",
            "{domain}: ldns-dane {} what check says is {want}: {records:?}",
            if ldns { "accepts" } else { "refuses" }
        );
    }
    assert_eq!(find("insecure.dnssec.test", "dane.tlsa")["status"], "info");
    assert_eq!(find("insecure.dnssec.test", "dane.match")["status"], "skip");
}
