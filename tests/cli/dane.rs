//! DANE in the one-shot send (RFC 6698, RFC 7672): `--tlsa` / `--tlsa-file` against in-process TLS
//! servers with rcgen certificates and against `ehlo serve`: DANE-EE authenticates a certificate no
//! CA vouches for, DANE-TA needs the chain to verify to the matched anchor, a mismatch is exit 29
//! with the reason and the digest each certificate really has, bad records are usage errors.

use std::sync::Arc;
use std::time::Duration;

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
    pki_for(&["localhost"])
}

/// [`pki`] with a leaf for these names.
fn pki_for(names: &[&str]) -> Pki {
    let mut cp = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    cp.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    cp.distinguished_name
        .push(rcgen::DnType::CommonName, "DANE test root");
    let root_key = rcgen::KeyPair::generate().unwrap();
    let root_spki = root_key.subject_public_key_info();
    let root = rcgen::CertifiedIssuer::self_signed(cp, root_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
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

/// The signed zone of the `--tls-verify dane` tests, its anchor file and the root CA file:
/// `secure.test` (TLSA 3 1 1 of the leaf), `wrong.test` (a TLSA that matches nothing),
/// `absent.test` (no TLSA, proven), `forged.test` (a TLSA whose signature fails),
/// `unusable.test` (only a PKIX-EE record), `plain.dane.test` (an unsigned delegation with
/// the right TLSA record, insecure, so never used), `aliased.test` (a secure MX naming
/// `alias.plain.dane.test`, a CNAME in the unsigned delegation to `mx.secure.test`), and bad input: `forgedmx.test` (MX
/// signature fails), `staleaddr.test`/`earlyaddr.test` (address signatures expired / not valid
/// yet), `staletlsa.test`/`earlytlsa.test` (the same for TLSA), `malformed.test` (unusable
/// TLSA rdata), `huge.test` (900 TLSA records), `backup.test` (MX 10 mx.forged.test, MX 20
/// mx.secure.test). Every MX host is 127.0.0.1.
struct DaneZone {
    zone: ehlo::net::testutil::SignedDns,
    dir: tempfile::TempDir,
    pki: Pki,
}

impl DaneZone {
    /// The zone for an SMTP service on `port` (the TLSA owners are `_PORT._tcp.HOST`).
    fn start(port: u16, pki: Pki) -> DaneZone {
        use ehlo::net::testutil::{SignedDns, Signing};
        use hickory_resolver::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
        use hickory_resolver::proto::rr::rdata::{A, CNAME, MX, NS, TLSA};
        use hickory_resolver::proto::rr::{Name, RData};
        let spki = openssl::sha::sha256(&pki.leaf_spki).to_vec();
        let name = |s: &str| Name::from_ascii(s).unwrap();
        let tlsa = |usage: CertUsage, data: Vec<u8>| {
            RData::TLSA(TLSA::new(usage, Selector::Spki, Matching::Sha256, data))
        };
        let mut records: Vec<(String, RData, Signing)> = Vec::new();
        for host in HOSTS {
            let domain = host.trim_start_matches("mx.");
            // Bad input: a forged MX RRset, address signatures out of their validity window.
            let (mx_signing, a_signing) = match domain {
                "forgedmx.test" => (Signing::Tampered, Signing::Valid),
                "staleaddr.test" => (Signing::Valid, Signing::Expired),
                "earlyaddr.test" => (Signing::Valid, Signing::Future),
                _ => (Signing::Valid, Signing::Valid),
            };
            records.push((
                domain.into(),
                RData::MX(MX::new(10, name(&format!("{host}.")))),
                mx_signing,
            ));
            records.push((host.into(), RData::A(A::new(127, 0, 0, 1)), a_signing));
            let owner = format!("_{port}._tcp.{host}");
            match domain {
                "secure.test" | "plain.dane.test" | "forgedmx.test" | "staleaddr.test"
                | "earlyaddr.test" => {
                    records.push((owner, tlsa(CertUsage::DaneEe, spki.clone()), Signing::Valid))
                }
                // TLSA signatures out of their validity window (clock skew either way).
                "staletlsa.test" => records.push((
                    owner,
                    tlsa(CertUsage::DaneEe, spki.clone()),
                    Signing::Expired,
                )),
                "earlytlsa.test" => records.push((
                    owner,
                    tlsa(CertUsage::DaneEe, spki.clone()),
                    Signing::Future,
                )),
                // A SHA2-256 digest of 5 octets and an unassigned matching type.
                "malformed.test" => {
                    for data in [
                        TLSA::new(
                            CertUsage::DaneEe,
                            Selector::Spki,
                            Matching::Sha256,
                            vec![1; 5],
                        ),
                        TLSA::new(
                            CertUsage::DaneEe,
                            Selector::Spki,
                            Matching::Unassigned(9),
                            vec![7; 16],
                        ),
                    ] {
                        records.push((owner.clone(), RData::TLSA(data), Signing::Valid));
                    }
                }
                // 899 records that match nothing, then the leaf's key (TCP, ~60 KB).
                "huge.test" => {
                    for i in 0..899u32 {
                        let mut d = vec![0u8; 32];
                        d[..4].copy_from_slice(&i.to_be_bytes());
                        records.push((owner.clone(), tlsa(CertUsage::DaneEe, d), Signing::Valid));
                    }
                    records.push((owner, tlsa(CertUsage::DaneEe, spki.clone()), Signing::Valid));
                }
                "wrong.test" => {
                    records.push((owner, tlsa(CertUsage::DaneEe, vec![0; 32]), Signing::Valid))
                }
                "forged.test" => records.push((
                    owner,
                    tlsa(CertUsage::DaneEe, spki.clone()),
                    Signing::Tampered,
                )),
                "unusable.test" => {
                    records.push((owner, tlsa(CertUsage::PkixEe, spki.clone()), Signing::Valid))
                }
                _ => {}
            }
        }
        records.push((
            "plain.dane.test".into(),
            RData::NS(NS(name("ns.plain.dane.test."))),
            Signing::Unsigned,
        ));
        // Two MX hosts: the preferred one's TLSA lookup is bogus, the other is secure.
        for (pref, host) in [(10, "mx.forged.test."), (20, "mx.secure.test.")] {
            records.push((
                "backup.test".into(),
                RData::MX(MX::new(pref, name(host))),
                Signing::Valid,
            ));
        }
        // A secure MX naming an alias in the unsigned child that points at the secure host.
        records.push((
            "aliased.test".into(),
            RData::MX(MX::new(10, name("alias.plain.dane.test."))),
            Signing::Valid,
        ));
        records.push((
            "alias.plain.dane.test".into(),
            RData::CNAME(CNAME(name("mx.secure.test."))),
            Signing::Valid,
        ));
        // Everything lives in one signed zone, `test.`, with `plain.dane.test` delegated.
        let zone = SignedDns::start(
            "test",
            records
                .iter()
                .map(|(n, r, s)| (n.as_str(), r.clone(), *s))
                .collect(),
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("anchor.key"), format!("{}\n", zone.anchor)).unwrap();
        let root = X509::from_der(&pki.root).unwrap();
        std::fs::write(dir.path().join("root.pem"), root.to_pem().unwrap()).unwrap();
        DaneZone { zone, dir, pki }
    }

    /// `--tls-verify dane` to `user@DOMAIN` routed by MX to the scripted server.
    fn send(&self, srv_port: u16, domain: &str, extra: &[&str]) -> Run {
        let dns = self.zone.addr.to_string();
        let anchor = self.dir.path().join("anchor.key").display().to_string();
        let root = self.dir.path().join("root.pem").display().to_string();
        let port = srv_port.to_string();
        let to = format!("user@{domain}");
        let mut args = vec![
            "--dns-server",
            &dns,
            "--dns-trust-anchor",
            &anchor,
            "--tls-ca-path",
            &root,
            "--port",
            &port,
            "--to",
            &to,
            "--from",
            "sender@client.test",
            "--helo",
            "client.test",
            "--timeout",
            "5",
            "--color",
            "never",
            "--tls-verify",
            "dane",
            "-q",
            "ehlo",
        ];
        args.extend_from_slice(extra);
        ehlo(&args)
    }
}

/// The MX hosts of [`DaneZone`], each `mx.DOMAIN`.
const HOSTS: [&str; 13] = [
    "mx.secure.test",
    "mx.wrong.test",
    "mx.absent.test",
    "mx.forged.test",
    "mx.unusable.test",
    "mx.plain.dane.test",
    "mx.forgedmx.test",
    "mx.staleaddr.test",
    "mx.earlyaddr.test",
    "mx.staletlsa.test",
    "mx.earlytlsa.test",
    "mx.malformed.test",
    "mx.huge.test",
];

/// A scripted server playing `steps` with a certificate for every MX host of the zone, and the
/// zone for its port; then `--tls-verify dane` to `user@DOMAIN` through them.
fn dane_run(steps: Vec<Step>, domain: &str, extra: &[&str]) -> (Run, DaneZone) {
    let pki = pki_for(&HOSTS);
    let srv = scripted_with(steps, acceptor(&pki));
    let z = DaneZone::start(srv.addr.port(), pki);
    let run = z.send(srv.addr.port(), domain, extra);
    srv.finish();
    (run, z)
}

#[test]
fn tls_verify_dane_authenticates_by_a_secure_matching_tlsa_record() {
    // No --tls: the secure TLSA RRset makes STARTTLS mandatory on its own.
    let (run, z) = dane_run(starttls_quit(), "secure.test", &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    let out = &run.stdout;
    assert!(
        out.contains("=== TLSA lookup for _") && out.contains("._tcp.mx.secure.test: 3 1 1 "),
        "{out}"
    );
    assert!(out.contains("(DNSSEC: secure)"), "{out}");
    assert!(
        out.contains("._tcp.mx.secure.test is secure with 1 usable record")
            && out.contains(
                "=== TLS verification for mx.secure.test: DANE (TLSA records), TLS required: _"
            ),
        "{out}"
    );
    let digest = sha256(&z.pki.leaf_spki);
    assert!(
        out.contains(&format!(
            "=== TLS DANE depth 0 spki sha256 {digest} [matched]"
        )),
        "{out}"
    );
    // The same in JSON: a tls_policy line and the verdict in tls_started.
    let (run, _) = dane_run(starttls_quit(), "secure.test", &["--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let policy = lines
        .iter()
        .find(|v| v["type"] == "tls_policy")
        .unwrap_or_else(|| panic!("no tls_policy: {}", run.stdout));
    assert_eq!(policy["data"]["policy"], "dane");
    assert_eq!(policy["data"]["tls_required"], true);
    assert_eq!(policy["data"]["host"], "mx.secure.test");
    let started = lines.iter().find(|v| v["type"] == "tls_started").unwrap();
    assert_eq!(started["data"]["info"]["dane"]["ok"], true, "{started}");
}

#[test]
fn tls_verify_dane_mismatch_is_exit_29_with_the_evidence() {
    let (run, z) = dane_run(starttls_only(), "wrong.test", &[]);
    assert_eq!(run.code, 29, "{}", run.all());
    let all = run.all();
    assert!(
        all.contains("DANE verification failed: no TLSA record matched"),
        "{all}"
    );
    // The digest the record should have carried, per depth.
    let digest = sha256(&z.pki.leaf_spki);
    assert!(
        all.contains(&format!("=== TLS DANE depth 0 spki sha256 {digest}\n")),
        "{all}"
    );
}

/// No DANE (insecure, secure denial): the CA store decides. A secure RRset with no usable
/// record: TLS is mandatory but unauthenticated (RFC 7672 §2.2, §3.1.3; Postfix's "encrypt"),
/// so a certificate no CA vouches for is accepted there — it used to be checked against the CA
/// store (exit 29) — while without DANE the same certificate fails (exit 29).
#[test]
fn tls_verify_dane_falls_back_to_pkix_when_insecure_absent_and_encrypts_when_unusable() {
    // Insecure (an unsigned delegation): the CA store decides, and the records are not used.
    for (domain, why) in [
        (
            "plain.dane.test",
            "the MX records naming mx.plain.dane.test are insecure: DANE does not apply",
        ),
        ("absent.test", "has no TLSA record (secure denial): no DANE"),
    ] {
        let (run, _) = dane_run(starttls_quit(), domain, &[]);
        assert_eq!(run.code, 0, "{domain}: {}", run.all());
        let want = format!("TLS verification for mx.{domain}: PKIX (CA store and name): ");
        assert!(
            run.stdout
                .lines()
                .any(|l| l.contains(&want) && l.contains(why)),
            "{want}…{why}\n{}",
            run.stdout
        );
        assert!(!run.stdout.contains("TLS DANE depth"), "{}", run.stdout);
        assert!(
            run.stdout.contains("passed CA verification"),
            "{}",
            run.stdout
        );
    }
    // Secure, but only a PKIX-EE record: TLS is mandatory, not authenticated.
    let (run, _) = dane_run(starttls_quit(), "unusable.test", &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .contains("._tcp.mx.unusable.test is secure but none of its 1 record is usable")
            && run.stdout.contains(
                "TLS verification for mx.unusable.test: none (no usable TLSA record), TLS required: _"
            ),
        "{}",
        run.stdout
    );
    // Without the CA: the PKIX fallback is enforced as usual (exit 29); the unusable RRset's
    // TLS is not authenticated, so the same certificate passes, saying so.
    for (domain, code) in [("absent.test", 29), ("unusable.test", 0)] {
        let pki = pki_for(&[&format!("mx.{domain}")]);
        let steps = if code == 0 {
            starttls_quit()
        } else {
            starttls_only()
        };
        let srv = scripted_with(steps, acceptor(&pki));
        let z = DaneZone::start(srv.addr.port(), pki);
        let run = no_ca_send(&z, srv.addr.port(), domain);
        srv.finish();
        assert_eq!(run.code, code, "{domain}: {}", run.all());
        let all = run.all();
        if code == 0 {
            assert!(
                all.contains("failed CA verification")
                    && all.contains(
                        "=== (verification not enforced: the TLSA records are all unusable"
                    ),
                "{all}"
            );
        } else {
            assert!(all.contains("certificate verification failed"), "{all}");
        }
    }
}

/// `--tls-verify dane` to `domain`'s MX through the zone `z`, the server at `port`, without
/// `--tls-ca-path`: only DANE or the system store can authenticate the test certificate.
fn no_ca_send(z: &DaneZone, port: u16, domain: &str) -> Run {
    let dns = z.zone.addr.to_string();
    let anchor = z.dir.path().join("anchor.key").display().to_string();
    let port = port.to_string();
    let to = format!("user@{domain}");
    ehlo(&[
        "--dns-server",
        &dns,
        "--dns-trust-anchor",
        &anchor,
        "--port",
        &port,
        "--to",
        &to,
        "--from",
        "a@client.test",
        "--helo",
        "client.test",
        "--timeout",
        "5",
        "--tls-verify=dane",
        "-q",
        "ehlo",
    ])
}

/// An MX host that is an alias in an unsigned zone is insecure even though its target and
/// the target's TLSA records are signed (RFC 7672 §2.2.2-3): the CA store and the host's name
/// decide, and no certificate names the alias, so exit 29 — never a DANE pass.
#[test]
fn tls_verify_dane_does_not_trust_an_alias_from_an_unsigned_zone() {
    let (run, _) = dane_run(starttls_only(), "aliased.test", &[]);
    let out = &run.stdout;
    assert!(
        out.contains("=== A/AAAA lookup for alias.plain.dane.test: 127.0.0.1 (DNSSEC: insecure)"),
        "{}",
        run.all()
    );
    assert!(
        out.contains(
            "TLS verification for alias.plain.dane.test: PKIX (CA store and name): the addresses \
             of alias.plain.dane.test are insecure: DANE does not apply"
        ),
        "{}",
        run.all()
    );
    assert!(!out.contains("TLS DANE"), "{out}");
    assert!(!out.contains("._tcp.mx.secure.test"), "{out}");
    assert_eq!(run.code, 29, "{}", run.all());
}

#[test]
fn tls_verify_dane_refuses_a_host_whose_tlsa_lookup_is_bogus() {
    // Nothing listens there: the host must not even be tried.
    let p = crate::util::free_port();
    let z = DaneZone::start(p, pki_for(&["mx.forged.test"]));
    let run = z.send(p, "forged.test", &[]);
    assert_eq!(run.code, 2, "{}", run.all());
    let all = run.all();
    assert!(
        all.contains(
            "not connecting to mx.forged.test, a failed TLSA lookup forbids delivery to it"
        ),
        "{all}"
    );
    assert!(all.contains("DNSSEC validation failed"), "{all}");
    assert!(!all.contains("Trying"), "{all}");
}

/// RFC 7672 §2.2 with two MX hosts: the preferred one's TLSA lookup is bogus, so that host
/// is left out (never tried, never a PKIX fallback), and the mail goes to the next MX, whose
/// secure TLSA record authenticates it.
#[test]
fn tls_verify_dane_leaves_out_an_mx_whose_tlsa_lookup_fails_and_tries_the_next() {
    let (run, _) = dane_run(starttls_quit(), "backup.test", &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    let all = run.all();
    assert!(
        all.contains(
            "not connecting to mx.forged.test, a failed TLSA lookup forbids delivery to it"
        ),
        "{all}"
    );
    assert!(
        !all.contains("TLS verification for mx.forged.test"),
        "{all}"
    );
    assert!(
        all.contains(
            "=== TLS verification for mx.secure.test: DANE (TLSA records), TLS required: _"
        ),
        "{all}"
    );
    assert!(all.contains("[matched] <- 3 1 1 "), "{all}");
}

/// Bad DNSSEC input in the send (RFC 4035 §5, RFC 7672 §2.2): a forged MX RRset, address or TLSA
/// signatures expired or not valid yet (clock skew either way): a DNSSEC failure with its reason,
/// exit 2, and no connection to the host — never a fallback to unauthenticated delivery.
#[test]
fn tls_verify_dane_refuses_bogus_mx_addresses_and_tlsa_with_the_reason() {
    let p = crate::util::free_port();
    let z = DaneZone::start(p, pki_for(&HOSTS));
    for (domain, what) in [
        ("forgedmx.test", "MX"),
        ("staleaddr.test", "address"),
        ("earlyaddr.test", "address"),
        ("staletlsa.test", "TLSA"),
        ("earlytlsa.test", "TLSA"),
    ] {
        let run = z.send(p, domain, &["--json"]);
        assert_eq!(run.code, 2, "{domain}: {}", run.all());
        let all = run.all();
        assert!(all.contains("DNSSEC validation failed"), "{domain}: {all}");
        assert!(!all.contains("\"connected\""), "{domain}: {all}");
        assert!(!all.contains("panicked"), "{domain}: {all}");
        if what == "TLSA" {
            assert!(
                all.contains("a failed TLSA lookup forbids delivery"),
                "{domain}: {all}"
            );
        }
    }
}

/// The JSON of a send whose TLSA lookup failed (RFC 7672 §2.2: the host is left out): the
/// TLSA `dns_query` ends with a `dns_failed` (rtype `TLSA`, the reason), as a failed MX or
/// address lookup's does, and no `tls_policy` claims a verification for the host. It ended
/// with nothing: a consumer pairing queries with their outcome saw the question unanswered.
#[test]
fn tls_verify_dane_json_ends_a_failed_tlsa_query_with_dns_failed() {
    let p = crate::util::free_port();
    let z = DaneZone::start(p, pki_for(&HOSTS));
    let run = z.send(p, "staletlsa.test", &["--json"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let owner = format!("_{p}._tcp.mx.staletlsa.test");
    let of = |ty: &str| {
        events
            .iter()
            .filter(|e| e["type"] == ty && e["data"]["rtype"] == "TLSA")
            .collect::<Vec<_>>()
    };
    assert_eq!(of("dns_query").len(), 1, "{}", run.stdout);
    assert!(of("dns_answer").is_empty(), "{}", run.stdout);
    let failed = of("dns_failed");
    assert_eq!(failed.len(), 1, "{}", run.stdout);
    assert_eq!(failed[0]["data"]["name"], owner.as_str());
    let reason = failed[0]["data"]["reason"].as_str().unwrap();
    assert!(reason.contains("DNSSEC validation failed"), "{reason}");
    assert!(
        !events.iter().any(|e| e["type"] == "tls_policy"),
        "{}",
        run.stdout
    );
}

/// Malformed TLSA rdata in the send: the RRset is secure but no record is usable, so TLS is
/// mandatory without authentication (RFC 7672 §3.1.3), and the transcript says why.
#[test]
fn tls_verify_dane_with_malformed_tlsa_rdata_requires_unauthenticated_tls() {
    let (run, _) = dane_run(starttls_quit(), "malformed.test", &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    let out = &run.stdout;
    assert!(
        out.contains("._tcp.mx.malformed.test is secure but none of its 2 records is usable")
            && out.contains(
                "TLS verification for mx.malformed.test: none (no usable TLSA record), TLS required: _"
            ),
        "{out}"
    );
    assert!(out.contains("passed CA verification"), "{out}");
}

/// An enormous signed TLSA RRset (900 records, truncated over UDP and fetched over TCP) is
/// validated within the DNS timeout and the one matching record authenticates the server.
#[test]
fn tls_verify_dane_with_an_enormous_tlsa_rrset_matches_within_the_timeout() {
    let (run, z) = dane_run(starttls_quit(), "huge.test", &[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.elapsed < Duration::from_secs(30), "{:?}", run.elapsed);
    let digest = sha256(&z.pki.leaf_spki);
    assert!(
        run.stdout.contains(&format!(
            "=== TLS DANE depth 0 spki sha256 {digest} [matched]"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("._tcp.mx.huge.test is secure with 900 usable records"),
        "{}",
        run.stdout
    );
}

/// A signed zone whose DNSKEY cannot be fetched: the send stops with a DNSSEC failure (the
/// server answers, no chain of trust can be built) within the bound of one lookup
/// (`--timeout`), exit 2, without connecting.
#[test]
fn tls_verify_dane_without_the_zone_dnskey_fails_within_the_budget() {
    use ehlo::net::testutil::{SignedDns, Signing};
    use hickory_resolver::proto::rr::rdata::{A, MX};
    use hickory_resolver::proto::rr::{Name, RData};
    let zone = SignedDns::start_without_dnskey(
        "test",
        vec![
            (
                "nokey.test",
                RData::MX(MX::new(10, Name::from_ascii("mx.nokey.test.").unwrap())),
                Signing::Valid,
            ),
            (
                "mx.nokey.test",
                RData::A(A::new(127, 0, 0, 1)),
                Signing::Valid,
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("anchor.key");
    std::fs::write(&anchor, format!("{}\n", zone.anchor)).unwrap();
    let (dns, anchor) = (zone.addr.to_string(), anchor.display().to_string());
    let run = ehlo(&[
        "--dns-server",
        &dns,
        "--dns-trust-anchor",
        &anchor,
        "--to",
        "user@nokey.test",
        "--from",
        "sender@client.test",
        "--timeout",
        "1",
        "--tls-verify",
        "dane",
        "-q",
        "ehlo",
    ]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.all().contains("DNS lookup of nokey.test failed")
            && run.all().contains("no chain of trust"),
        "{}",
        run.all()
    );
    // --timeout 1 for the one validated question that fails (it took 3 × that).
    assert!(run.elapsed < Duration::from_secs(3), "{:?}", run.elapsed);
    assert!(!run.stdout.contains("Connected"), "{}", run.stdout);
}

#[test]
fn tls_verify_dane_needs_starttls_when_the_tlsa_is_secure() {
    let (run, _) = dane_run(
        vec![
            Step::Send(b"220 x ESMTP\r\n"),
            Step::Expect("EHLO"),
            Step::Send(b"250 x\r\n"),
            Step::Line,
            Step::Send(b"221 bye\r\n"),
        ],
        "secure.test",
        &[],
    );
    assert_eq!(run.code, 29, "{}", run.all());
}

#[test]
fn tls_verify_flag_forms() {
    // Alone (swaks), with a value, with =: all parse; dane refuses --dnssec off and --tlsa.
    for extra in [
        &["--tls-verify"][..],
        &["--tls-verify", "pkix"],
        &["--tls-verify=pkix"],
    ] {
        let mut args = vec!["--to", "a@b.test", "--dump-mail"];
        args.extend_from_slice(extra);
        let run = ehlo(&args);
        assert_eq!(run.code, 0, "{extra:?}: {}", run.all());
    }
    let run = ehlo(&[
        "--to",
        "a@b.test",
        "--tls-verify",
        "dane",
        "--dnssec",
        "off",
        "--dump-mail",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all().contains("--tls-verify dane needs DNSSEC"),
        "{}",
        run.all()
    );
    let zero = format!("3 1 1 {}", "00".repeat(32));
    let run = ehlo(&[
        "--to",
        "a@b.test",
        "--tls-verify",
        "dane",
        "--tlsa",
        &zero,
        "--tls",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    let run = ehlo(&["--to", "a@b.test", "--tls-verify", "sometimes"]);
    assert_eq!(run.code, 1, "{}", run.all());
}

/// `ehlo check` of a domain whose MX speaks only TLS 1.0, under a secure TLSA RRset: check's
/// own handshake (TLS 1.2/1.3) fails, so `dane.starttls` fails; with `--tls-probe`,
/// `dane.match` judges the certificate presented in TLS 1.0, as `tls.cert.*` do, where it said
/// "no TLS session" with the certificate in hand. Without `--tls-probe` there is none to judge.
#[test]
fn check_dane_match_judges_the_certificate_of_an_mx_speaking_only_tls_1_0() {
    let pki = pki_for(&HOSTS);
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("leaf.pem"), dir.path().join("leaf.key"));
    let leaf = X509::from_der(&pki.leaf).unwrap();
    std::fs::write(&cert, leaf.to_pem().unwrap()).unwrap();
    std::fs::write(&key, &pki.leaf_key).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    crate::check::tls10_only_mx(listener, &cert, &key);
    let z = DaneZone::start(port, pki);
    let dns = z.zone.addr.to_string();
    let anchor = z.dir.path().join("anchor.key").display().to_string();
    let root = z.dir.path().join("root.pem").display().to_string();
    let port = port.to_string();
    let dane_match = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "check",
            "secure.test",
            "--json",
            "--dns-server",
            &dns,
            "--dns-trust-anchor",
            &anchor,
            "--tls-ca-path",
            &root,
            "--port",
            &port,
            "--allow-private",
            "-4",
            "--timeout",
            "5s",
            "--only",
            "dane.*",
            "--only",
            "tls.*",
        ];
        args.extend_from_slice(extra);
        let run = ehlo_with(&args, None, Duration::from_secs(60));
        assert_eq!(run.code, 40, "{}", run.all());
        let lines: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let starttls = lines.iter().find(|v| v["id"] == "dane.starttls").unwrap();
        assert_eq!(starttls["status"], "fail", "{starttls}");
        lines
            .into_iter()
            .find(|v| v["id"] == "dane.match")
            .unwrap_or_else(|| panic!("no dane.match: {}", run.stdout))
    };
    let plain = dane_match(&[]);
    assert_eq!(plain["status"], "skip", "{plain}");
    assert_eq!(plain["summary"], "no TLS session", "{plain}");
    let probed = dane_match(&["--tls-probe"]);
    assert_eq!(probed["status"], "pass", "{probed}");
    assert!(
        probed["summary"]
            .as_str()
            .unwrap()
            .ends_with("(presented in TLSv1, found by --tls-probe)"),
        "{probed}"
    );
    assert_eq!(probed["evidence"]["protocol"], "TLSv1", "{probed}");
}
