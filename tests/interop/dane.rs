//! DANE TLSA matching (`--tlsa`, `--tlsa-file`) cross-checked against NLnet Labs' `ldns-dane`
//! (Debian ldnsutils, an independent DANE implementation) on the real Postfix certificate: the
//! records `ldns-dane create` makes authenticate Postfix in ehlo (STARTTLS and implicit TLS), a
//! record ldns-dane refuses ehlo refuses too (exit 29), and the digest ehlo shows as evidence is
//! the one ldns-dane computes. Tests named `dane_*`.

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
