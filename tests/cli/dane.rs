//! DANE in the one-shot send (issue 11): `--tlsa` / `--tlsa-file` against in-process TLS servers
//! with rcgen certificates and against `ehlo serve`: DANE-EE authenticates a certificate no CA
//! vouches for, DANE-TA needs the chain to verify to the matched anchor, a mismatch is exit 29
//! with the reason and the digest each certificate really has, bad records are usage errors.

use std::sync::Arc;

use openssl::pkey::PKey;
use openssl::ssl::{SslAcceptor, SslMethod};
use openssl::x509::X509;
use rcgen::PublicKeyData;

use crate::util::*;

/// A root CA and a leaf for `localhost` it signed: (root DER, leaf DER, leaf SPKI DER as rcgen
/// encodes it, leaf key PEM).
struct Pki {
    root: Vec<u8>,
    root_spki: Vec<u8>,
    leaf: Vec<u8>,
    leaf_spki: Vec<u8>,
    leaf_key: String,
}

fn pki() -> Pki {
    let mut cp = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    cp.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    cp.distinguished_name
        .push(rcgen::DnType::CommonName, "DANE test root");
    let root_key = rcgen::KeyPair::generate().unwrap();
    let root_spki = root_key.subject_public_key_info();
    let root = rcgen::CertifiedIssuer::self_signed(cp, root_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &root)
        .unwrap();
    Pki {
        root: root.der().to_vec(),
        root_spki,
        leaf: leaf.der().to_vec(),
        leaf_spki: leaf_key.subject_public_key_info(),
        leaf_key: leaf_key.serialize_pem(),
    }
}

/// An acceptor presenting the leaf and then the root.
fn acceptor(p: &Pki) -> Arc<SslAcceptor> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    b.set_certificate(&X509::from_der(&p.leaf).unwrap())
        .unwrap();
    b.set_private_key(&PKey::private_key_from_pem(p.leaf_key.as_bytes()).unwrap())
        .unwrap();
    b.add_extra_chain_cert(X509::from_der(&p.root).unwrap())
        .unwrap();
    Arc::new(b.build())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sha256(b: &[u8]) -> String {
    hex(&openssl::sha::sha256(b))
}

/// STARTTLS, then EHLO and QUIT over TLS.
fn starttls_quit() -> Vec<Step> {
    vec![
        Step::Send(b"220 x ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-x\r\n250 STARTTLS\r\n"),
        Step::Expect("STARTTLS"),
        Step::Send(b"220 2.0.0 go ahead\r\n"),
        Step::Tls,
        Step::Expect("EHLO"),
        Step::Send(b"250 x\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 bye\r\n"),
    ]
}

/// STARTTLS and the handshake, after which the client must hang up (verification failed).
fn starttls_only() -> Vec<Step> {
    let mut v = starttls_quit();
    v.truncate(6);
    v
}

#[test]
fn dane_ee_authenticates_a_certificate_no_ca_vouches_for() {
    let p = pki();
    let digest = sha256(&p.leaf_spki);
    let srv = scripted_with(starttls_quit(), acceptor(&p));
    let record = format!("3 1 1 {digest}");
    // No --tls-ca-path: the CA store refuses this chain, the TLSA record authenticates it.
    let run = send(&srv, &["--tls", "--tlsa", &record, "-q", "ehlo"]);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let out = &run.stdout;
    assert!(out.contains("failed CA verification"), "{out}");
    assert!(
        out.contains("(CA verification not needed: DANE authenticates the server)"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "=== TLS DANE depth 0 spki sha256 {digest} [matched] <- 3 1 1 {}…",
            &digest[..16]
        )),
        "{out}"
    );
    // The root is evidence too, unmatched.
    assert!(
        out.contains(&format!(
            "=== TLS DANE depth 1 spki sha256 {}\n",
            sha256(&p.root_spki)
        )),
        "{out}"
    );
    assert!(out.contains("=== TLS DANE passed: 3 1 1 "), "{out}");
    assert!(out.contains("DANE-EE"), "{out}");
}

#[test]
fn dane_mismatch_is_exit_29_with_the_reason_and_the_digest_to_publish() {
    let p = pki();
    let other = pki();
    let srv = scripted_with(starttls_only(), acceptor(&p));
    let wrong = format!("3 1 1 {}", sha256(&other.leaf_spki));
    let run = send(&srv, &["--tls", "--tlsa", &wrong]);
    let got = srv.finish();
    assert_eq!(run.code, 29, "{}", run.all());
    assert!(
        run.all()
            .contains("DANE verification failed: no TLSA record matched the certificate chain"),
        "{}",
        run.all()
    );
    // What the record would have to be, ready to publish.
    assert!(
        run.stdout.contains(&format!(
            "=== TLS DANE depth 0 spki sha256 {}\n",
            sha256(&p.leaf_spki)
        )),
        "{}",
        run.stdout
    );
    // Nothing was sent over the unauthenticated channel.
    assert!(!got.contains("MAIL FROM"), "{got}");
}

#[test]
fn dane_ta_authenticates_through_the_chain_and_checks_the_name() {
    let p = pki();
    let ta = format!("2 0 1 {}", sha256(&p.root));
    let srv = scripted_with(starttls_quit(), acceptor(&p));
    let run = send(
        &srv,
        &[
            "--tls",
            "--tlsa",
            &ta,
            "--tls-verify-target",
            "localhost",
            "-q",
            "ehlo",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains(&format!(
            "=== TLS DANE depth 1 cert sha256 {} [matched] <- 2 0 1 ",
            sha256(&p.root)
        )),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("DANE-TA"), "{}", run.stdout);

    // The same anchor, but the leaf does not carry the name asked for.
    let srv = scripted_with(starttls_only(), acceptor(&p));
    let run = send(
        &srv,
        &[
            "--tls",
            "--tlsa",
            &ta,
            "--tls-verify-target",
            "mx.elsewhere.test",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 29, "{}", run.all());
    assert!(
        run.all()
            .contains("no name in the leaf matches mx.elsewhere.test"),
        "{}",
        run.all()
    );
}

#[test]
fn tlsa_file_rollover_set_and_json_evidence() {
    let p = pki();
    let next = pki();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tlsa.txt");
    // The next key published before the rollover, beside the current one (zone-file lines).
    std::fs::write(
        &file,
        format!(
            "; rollover\n_25._tcp.localhost. 3600 IN TLSA 3 1 1 {}\n_25._tcp.localhost. 3600 IN TLSA 3 1 1 {}\n",
            sha256(&next.leaf_spki),
            sha256(&p.leaf_spki)
        ),
    )
    .unwrap();
    let srv = scripted_with(starttls_quit(), acceptor(&p));
    let path = file.to_str().unwrap();
    let run = send(
        &srv,
        &["--tls", "--tlsa-file", path, "--json", "-q", "ehlo"],
    );
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    let tls = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "tls_started")
        .unwrap_or_else(|| panic!("no tls_started event: {}", run.stdout));
    let dane = &tls["data"]["info"]["dane"];
    assert_eq!(dane["ok"], true, "{dane}");
    assert_eq!(dane["records"].as_array().unwrap().len(), 2, "{dane}");
    assert_eq!(
        dane["matched"],
        format!("3 1 1 {}", sha256(&p.leaf_spki)),
        "{dane}"
    );
    assert_eq!(dane["matched_depth"], 0, "{dane}");
    assert_eq!(
        dane["evidence"][0]["digest"],
        sha256(&p.leaf_spki),
        "{dane}"
    );
}

#[test]
fn only_pkix_usages_is_a_failure_not_a_pass() {
    let p = pki();
    let srv = scripted_with(starttls_only(), acceptor(&p));
    let pkix = format!("1 1 1 {}", sha256(&p.leaf_spki));
    let run = send(&srv, &["--tls", "--tlsa", &pkix]);
    srv.finish();
    assert_eq!(run.code, 29, "{}", run.all());
    assert!(run.all().contains("no usable TLSA record"), "{}", run.all());
    assert!(
        run.stdout.contains("TLS DANE ignored 1 1 1 "),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_records_and_files_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (args, want) in [
        (vec!["--tls", "--tlsa", "3 1 1 abcd"], "32 octets"),
        (vec!["--tls", "--tlsa", "3 1 1"], "USAGE SELECTOR MTYPE HEX"),
        (vec!["--tls", "--tlsa", "3 1 one ab"], "matching type"),
        (vec!["--tlsa", "3 0 0 01"], "add --tls or --tls-on-connect"),
        (
            vec!["--tls", "--tlsa-file", "/no/such/tlsa"],
            "--tlsa-file: /no/such/tlsa",
        ),
    ] {
        let mut all = vec!["-s", "127.0.0.1:9", "-t", "a@b.test"];
        all.extend(args.iter().copied());
        let run = ehlo(&all);
        assert_eq!(run.code, 1, "{args:?}: {}", run.all());
        assert!(run.all().contains(want), "{args:?}: {}", run.all());
    }
    let file = dir.path().join("bad");
    std::fs::write(&file, "3 0 0 01\n\n3 1 1 zz\n").unwrap();
    let run = ehlo(&[
        "-s",
        "127.0.0.1:9",
        "-t",
        "a@b.test",
        "--tls",
        "--tlsa-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.all().contains("line 3:"), "{}", run.all());
}

#[test]
fn dane_against_ehlo_serve() {
    // `ehlo serve` with its own self-signed certificate (a real listener, the same binary):
    // the certificate it presents is learnt from a first run's evidence, then pinned.
    let serve = crate::serve::Serve::start(&["--max-sessions", "2", "--starttls"]);
    let zero = format!("3 1 1 {}", "00".repeat(32));
    let first = crate::serve::send(&serve.addr, &["--tls", "--tlsa", &zero]);
    assert_eq!(first.code, 29, "{}", first.all());
    let digest = first
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("=== TLS DANE depth 0 spki sha256 "))
        .unwrap_or_else(|| panic!("no depth 0 evidence: {}", first.stdout))
        .trim()
        .to_string();
    assert_eq!(digest.len(), 64, "{digest}");
    let run = crate::serve::send(
        &serve.addr,
        &["--tls", "--tlsa", &format!("3 1 1 {digest}")],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("[matched] <- 3 1 1"), "{}", run.stdout);
    assert!(run.stdout.contains(" ~> MAIL FROM:"), "{}", run.stdout);
    let (_, out) = serve.finish();
    assert!(out.contains("TLS started"), "{out}");
}

#[test]
fn dane_ta_accepts_the_next_hop_domain_when_routed_by_mx() {
    use ehlo::net::testutil::{FakeDns, RecordSpec};
    use std::net::Ipv4Addr;
    // A leaf that names only the recipient's domain, not the MX host (RFC 7672 §3.2.3 allows
    // either), under a root published as DANE-TA.
    let mut cp = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    cp.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    cp.distinguished_name
        .push(rcgen::DnType::CommonName, "root");
    let root =
        rcgen::CertifiedIssuer::self_signed(cp, rcgen::KeyPair::generate().unwrap()).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["dane.test".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &root)
        .unwrap();
    let p = Pki {
        root: root.der().to_vec(),
        root_spki: Vec::new(),
        leaf: leaf.der().to_vec(),
        leaf_spki: leaf_key.subject_public_key_info(),
        leaf_key: leaf_key.serialize_pem(),
    };
    let (dns, _) = FakeDns::start(vec![
        ("dane.test", RecordSpec::Mx(10, "mx.dane.test".into())),
        ("mx.dane.test", RecordSpec::A(Ipv4Addr::LOCALHOST)),
    ]);
    let ta = format!("2 0 1 {}", sha256(&p.root));
    let srv = scripted_with(starttls_quit(), acceptor(&p));
    let port = srv.addr.port().to_string();
    let dns = dns.to_string();
    let args = [
        "--dns-server",
        &dns,
        "--port",
        &port,
        "--to",
        "user@dane.test",
        "--from",
        "sender@client.test",
        "--helo",
        "client.test",
        "--timeout",
        "5",
        "--color",
        "never",
        "--tls",
        "--tlsa",
        &ta,
        "-q",
        "ehlo",
    ];
    let run = ehlo(&args);
    srv.finish();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("the leaf's DNS:dane.test matches"),
        "{}",
        run.stdout
    );
    // Sent to the MX host by name (no MX routing), the next-hop domain is unknown: no name.
    let srv = scripted_with(starttls_only(), acceptor(&p));
    let run = send(
        &srv,
        &[
            "--tls",
            "--tlsa",
            &ta,
            "--tls-verify-target",
            "mx.dane.test",
        ],
    );
    srv.finish();
    assert_eq!(run.code, 29, "{}", run.all());
    assert!(
        run.all()
            .contains("no name in the leaf matches mx.dane.test"),
        "{}",
        run.all()
    );
}
