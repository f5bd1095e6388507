//! TLS tests: handshakes against our own acceptor, verification verdicts, name matching, files.

use super::*;
use std::path::Path;

use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslAcceptor, SslMethod, SslOptions, SslVerifyMode, SslVersion};
use openssl::x509::X509;

use super::connect::connect_trusting;
use super::server::load_cert_key;
use super::verify::dns_name_matches;
use crate::net::trust::{self, SystemStore};
use crate::smtp::codes::Hint;
use crate::smtp::event::TlsInfo;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};

fn params(verify: bool) -> TlsParams {
    TlsParams {
        verify,
        ..Default::default()
    }
}

/// Handshake `host`/`params` against an acceptor for `cert`/`key` over an in-memory pipe;
/// returns the client result and whether the server saw a successful handshake.
async fn handshake(
    cert: &X509,
    key: &PKey<Private>,
    host: &str,
    p: &TlsParams,
) -> Result<(super::TlsStream<DuplexStream>, TlsInfo), TlsError> {
    handshake_trusting(cert, key, host, p, &trust::system_store).await
}

/// [`handshake`] with the system store located by `system`.
async fn handshake_trusting(
    cert: &X509,
    key: &PKey<Private>,
    host: &str,
    p: &TlsParams,
    system: &dyn Fn() -> SystemStore,
) -> Result<(super::TlsStream<DuplexStream>, TlsInfo), TlsError> {
    let acc = acceptor(cert, &[], key).unwrap();
    handshake_accepting(acc, host, p, system).await
}

/// [`handshake_trusting`] against an acceptor of the test's own.
async fn handshake_accepting(
    acc: SslAcceptor,
    host: &str,
    p: &TlsParams,
    system: &dyn Fn() -> SystemStore,
) -> Result<(super::TlsStream<DuplexStream>, TlsInfo), TlsError> {
    let (c, s) = duplex(64 * 1024);
    let server = tokio::spawn(async move {
        if let Ok((mut s, _)) = accept(s, &acc).await {
            // Echo one line so the client can prove the channel works.
            let mut buf = [0u8; 64];
            if let Ok(n) = s.read(&mut buf).await {
                let _ = s.write_all(&buf[..n]).await;
            }
        }
    });
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        connect_trusting(c, host, p, system, None),
    )
    .await
    .expect("handshake must not hang");
    drop(server);
    r
}

/// A CA named `cn` and a certificate for localhost it signed (with that certificate's key).
fn ca_and_leaf(cn: &str) -> (X509, X509, PKey<Private>) {
    let mut cp = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    cp.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    cp.distinguished_name
        .push(rcgen::DnType::CommonName, cn.to_string());
    let ca = rcgen::CertifiedIssuer::self_signed(cp, rcgen::KeyPair::generate().unwrap()).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    (
        X509::from_der(ca.der()).unwrap(),
        X509::from_der(leaf.der()).unwrap(),
        PKey::private_key_from_pem(leaf_key.serialize_pem().as_bytes()).unwrap(),
    )
}

/// `dir/HASH.0` holding `ca`, the name OpenSSL's directory lookup opens for its subject.
fn install_hashed(dir: &Path, ca: &X509) {
    std::fs::create_dir_all(dir).unwrap();
    let name = format!("{:08x}.0", ca.subject_name_hash());
    std::fs::write(dir.join(name), ca.to_pem().unwrap()).unwrap();
}

#[tokio::test]
async fn system_store_of_a_debian_layout_verifies_by_directory_then_bundle() {
    let (ca, leaf, key) = ca_and_leaf("ehlo test root A");
    let (other, _, _) = ca_and_leaf("ehlo test root B");
    // A fake machine: /etc/ssl/certs hashed (holding only the unrelated root) plus the bundle.
    let root = tempfile::tempdir().unwrap();
    let certs = root.path().join("etc/ssl/certs");
    install_hashed(&certs, &other);
    let bundle = certs.join("ca-certificates.crt");
    std::fs::write(&bundle, other.to_pem().unwrap()).unwrap();
    let no_env = |_: &str| None;
    let system = || trust::locate(root.path(), no_env);
    assert_eq!(system().file.as_deref(), Some(bundle.as_path()));

    // Our root is nowhere: refused.
    let r = handshake_trusting(&leaf, &key, "localhost", &params(true), &system).await;
    let Err(TlsError::Verify { reason, .. }) = r else {
        panic!("expected Verify, got {:?}", r.map(|x| x.1))
    };
    assert!(reason.contains("unable to get local issuer"), "{reason}");

    // Installed in the bundle only: the fallback after the directory finds it…
    let mut pem = other.to_pem().unwrap();
    pem.extend(ca.to_pem().unwrap());
    std::fs::write(&bundle, pem).unwrap();
    let (_, info) = handshake_trusting(&leaf, &key, "localhost", &params(true), &system)
        .await
        .unwrap();
    assert!(info.verify.ok && info.verify.chain_ok, "{:?}", info.verify);
    // …and when nothing is enforced (--insecure, check's verdicts): the verdict reported must
    // be the one an enforcing run would reach (check used to warn "unable to get local issuer
    // certificate" for a chain SSL_CERT_FILE verifies).
    let (_, info) = handshake_trusting(&leaf, &key, "localhost", &params(false), &system)
        .await
        .unwrap();
    assert!(info.verify.chain_ok, "{:?}", info.verify);

    // Installed in the hashed directory (update-ca-certificates): found by lookup, in both
    // modes, even with the bundle gone.
    std::fs::remove_file(&bundle).unwrap();
    install_hashed(&certs, &ca);
    for verify in [true, false] {
        let (_, info) = handshake_trusting(&leaf, &key, "localhost", &params(verify), &system)
            .await
            .unwrap();
        assert!(info.verify.chain_ok, "verify={verify}: {:?}", info.verify);
    }

    // --tls-ca-path replaces the system store: the unrelated root alone does not verify.
    let other_file = root.path().join("other.pem");
    std::fs::write(&other_file, other.to_pem().unwrap()).unwrap();
    let p = TlsParams {
        ca_path: Some(other_file),
        ..params(true)
    };
    let r = handshake_trusting(&leaf, &key, "localhost", &p, &system).await;
    assert!(
        matches!(r, Err(TlsError::Verify { .. })),
        "{:?}",
        r.map(|x| x.1)
    );
}

/// A root (signed with SHA-256) and a leaf for localhost it signed with SHA-1, and the leaf's
/// key (what `openssl x509 -req -sha1` makes).
pub(crate) fn sha1_signed_leaf() -> (X509, X509, PKey<Private>) {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
    use openssl::x509::{X509Builder, X509Name, X509NameBuilder};
    let key = || {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
    };
    let name = |cn: &str| -> X509Name {
        let mut n = X509NameBuilder::new().unwrap();
        n.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
        n.build()
    };
    let (ca_key, leaf_key) = (key(), key());
    let make = |subject: &str, public: &PKey<Private>, ca: bool, digest: MessageDigest| {
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        let serial = BigNum::from_u32(if ca { 1 } else { 2 }).unwrap();
        b.set_serial_number(&serial.to_asn1_integer().unwrap())
            .unwrap();
        b.set_subject_name(&name(subject)).unwrap();
        b.set_issuer_name(&name("ehlo test SHA-1 root")).unwrap();
        b.set_pubkey(public).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
            .unwrap();
        if ca {
            let bc = BasicConstraints::new().critical().ca().build().unwrap();
            b.append_extension(bc).unwrap();
        } else {
            let san = SubjectAlternativeName::new()
                .dns("localhost")
                .build(&b.x509v3_context(None, None))
                .unwrap();
            b.append_extension(san).unwrap();
        }
        b.sign(&ca_key, digest).unwrap();
        b.build()
    };
    let ca = make(
        "ehlo test SHA-1 root",
        &ca_key,
        true,
        MessageDigest::sha256(),
    );
    let leaf = make("localhost", &leaf_key, false, MessageDigest::sha1());
    (ca, leaf, leaf_key)
}

/// The bundle fallback (`SSL_CERT_FILE`, or a system bundle whose directory does not know the
/// issuer) judges a chain at the connection's security level, as the handshake does with
/// `--tls-ca-path`: a SHA-1-signed leaf fails both ways. It used to pass through the bundle.
#[tokio::test]
async fn a_sha1_signature_fails_through_the_bundle_as_through_the_ca_path() {
    let (ca, leaf, key) = sha1_signed_leaf();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("ca.pem");
    std::fs::write(&file, ca.to_pem().unwrap()).unwrap();
    let empty_root = tmp.path().join("root");
    std::fs::create_dir_all(&empty_root).unwrap();
    let file_s = file.to_str().unwrap().to_string();
    let system = || {
        trust::locate(&empty_root, |k: &str| {
            (k == "SSL_CERT_FILE").then(|| std::ffi::OsString::from(&file_s))
        })
    };
    // A server that may present it at all (OpenSSL's own level refuses it on the server side).
    let server = || {
        let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
        b.set_security_level(0);
        b.set_certificate(&leaf).unwrap();
        b.set_private_key(&key).unwrap();
        b.build()
    };
    let by_ca_path = TlsParams {
        ca_path: Some(file.clone()),
        ..params(true)
    };
    for (how, p) in [
        ("SSL_CERT_FILE", params(true)),
        ("--tls-ca-path", by_ca_path),
    ] {
        let r = handshake_accepting(server(), "localhost", &p, &system).await;
        let Err(TlsError::Verify { info, .. }) = r else {
            panic!("{how}: expected Verify, got {:?}", r.map(|x| x.1))
        };
        assert!(
            !info.verify.chain_ok && info.verify.name_ok,
            "{how}: {:?}",
            info.verify
        );
        assert_eq!(
            info.verify.reason.as_deref(),
            Some("CA signature digest algorithm too weak"),
            "{how}"
        );
    }
    // The same chain signed with SHA-256 would pass the fallback: the level is what differs.
    let (ca2, leaf2, key2) = ca_and_leaf("ehlo test root D");
    std::fs::write(&file, ca2.to_pem().unwrap()).unwrap();
    let (_, info) = handshake_trusting(&leaf2, &key2, "localhost", &params(true), &system)
        .await
        .unwrap();
    assert!(info.verify.ok, "{:?}", info.verify);
}

#[tokio::test]
async fn system_store_from_ssl_cert_file_and_ssl_cert_dir() {
    let (ca, leaf, key) = ca_and_leaf("ehlo test root C");
    let tmp = tempfile::tempdir().unwrap();
    let empty_root = tmp.path().join("root");
    std::fs::create_dir_all(&empty_root).unwrap();
    let file = tmp.path().join("ca.pem");
    std::fs::write(&file, ca.to_pem().unwrap()).unwrap();
    let dir = tmp.path().join("hashed");
    install_hashed(&dir, &ca);
    let (file_s, dir_s) = (file.to_str().unwrap(), dir.to_str().unwrap());
    for (var, value) in [("SSL_CERT_FILE", file_s), ("SSL_CERT_DIR", dir_s)] {
        let system = || {
            trust::locate(&empty_root, |k: &str| {
                (k == var).then(|| std::ffi::OsString::from(value))
            })
        };
        let (_, info) = handshake_trusting(&leaf, &key, "localhost", &params(true), &system)
            .await
            .unwrap_or_else(|e| panic!("{var}: {e}"));
        assert!(info.verify.ok, "{var}: {:?}", info.verify);
    }
    // Neither: nothing trusted on this fake machine.
    let system = || trust::locate(&empty_root, |_: &str| None);
    let r = handshake_trusting(&leaf, &key, "localhost", &params(true), &system).await;
    assert!(
        matches!(r, Err(TlsError::Verify { .. })),
        "{:?}",
        r.map(|x| x.1)
    );
}

#[tokio::test]
async fn insecure_handshake_reports_evidence() {
    let (cert, key) = self_signed(&["localhost"]).unwrap();
    let (mut s, info) = handshake(&cert, &key, "localhost", &params(false))
        .await
        .unwrap();
    assert!(info.version.starts_with("TLSv1."), "{}", info.version);
    assert!(!info.cipher.is_empty() && info.bits >= 128, "{info:?}");
    assert_eq!(info.sni.as_deref(), Some("localhost"));
    assert_eq!(info.chain.len(), 1);
    let leaf = &info.chain[0];
    assert_eq!(leaf.sans, ["DNS:localhost"]);
    assert!(leaf.subject.starts_with("/CN="), "{}", leaf.subject);
    assert_eq!(leaf.subject, leaf.issuer);
    assert!(
        leaf.not_after.starts_with("4096-01-01T00:00:00"),
        "{}",
        leaf.not_after
    );
    assert!(leaf.not_after.ends_with('Z'));
    assert!(
        leaf.not_before.starts_with("1975-01-01T"),
        "{}",
        leaf.not_before
    );
    assert!(leaf.days_left > 700_000, "{}", leaf.days_left);
    assert_eq!(leaf.sha256.len(), 32 * 3 - 1);
    assert!(leaf.pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let v = &info.verify;
    assert!(!v.ok && !v.enforced && !v.chain_ok);
    assert!(v.name_ok);
    assert_eq!(v.matched.as_deref(), Some("DNS:localhost"));
    assert_eq!(v.checked_name.as_deref(), Some("localhost"));
    assert!(
        v.reason.as_deref().unwrap().contains("self-signed"),
        "{v:?}"
    );
    assert!(!info.ocsp_stapled && !info.client_cert_sent);
    // The stream carries data both ways after the handshake.
    s.write_all(b"NOOP\r\n").await.unwrap();
    let mut buf = [0u8; 6];
    s.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"NOOP\r\n");
}

/// An IDN host (an MX exchange, `--server mx.bücher.example`) is named by its A-labels in SNI
/// (RFC 6066 §3: ASCII) and checked against the certificate in that form (RFC 6125 §6.4.2): a
/// certificate for `mx.xn--bcher-kva.example` is the right one for `mx.bücher.example`.
#[tokio::test]
async fn an_idn_host_is_sent_and_checked_as_a_labels() {
    let (cert, key) = self_signed(&["mx.xn--bcher-kva.example"]).unwrap();
    let (_, info) = handshake(&cert, &key, "mx.bücher.example", &params(false))
        .await
        .unwrap();
    assert_eq!(info.sni.as_deref(), Some("mx.xn--bcher-kva.example"));
    assert_eq!(
        info.verify.checked_name.as_deref(),
        Some("mx.xn--bcher-kva.example")
    );
    assert!(info.verify.name_ok, "{:?}", info.verify);
    assert_eq!(
        info.verify.matched.as_deref(),
        Some("DNS:mx.xn--bcher-kva.example")
    );
}

#[tokio::test]
async fn name_mismatch_is_reported_separately() {
    let (cert, key) = self_signed(&["localhost"]).unwrap();
    let p = TlsParams {
        verify_name: Some("other.example".into()),
        sni: Some("sni.example".into()),
        ..params(false)
    };
    let (_, info) = handshake(&cert, &key, "localhost", &p).await.unwrap();
    assert_eq!(info.sni.as_deref(), Some("sni.example"));
    assert_eq!(info.verify.checked_name.as_deref(), Some("other.example"));
    assert!(!info.verify.name_ok && info.verify.matched.is_none());
    assert!(!info.verify.chain_ok);
}

#[tokio::test]
async fn enforced_verification_fails_with_info_and_hint() {
    let (cert, key) = self_signed(&["localhost"]).unwrap();
    let err = handshake(&cert, &key, "localhost", &params(true))
        .await
        .unwrap_err();
    let TlsError::Verify { reason, info } = err else {
        panic!("expected Verify, got {err:?}")
    };
    assert!(reason.contains("self-signed"), "{reason}");
    assert!(
        reason.contains("--tls-ca-path") && reason.contains("--insecure"),
        "{reason}"
    );
    assert!(info.verify.enforced && !info.verify.ok);
    assert_eq!(info.chain.len(), 1);
}

#[tokio::test]
async fn private_ca_file_and_dir_make_it_verify() {
    let (cert, key) = self_signed(&["localhost"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ca.pem");
    std::fs::write(&file, cert.to_pem().unwrap()).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a certificate").unwrap();
    for ca in [file.clone(), dir.path().to_path_buf()] {
        let p = TlsParams {
            ca_path: Some(ca),
            ..params(true)
        };
        let (_, info) = handshake(&cert, &key, "localhost", &p).await.unwrap();
        let v = &info.verify;
        assert!(v.ok && v.chain_ok && v.name_ok && v.enforced, "{v:?}");
        assert!(v.reason.is_none());
    }
    // Trusted chain, wrong name: chain_ok stays true, and enforcement fails on the name.
    let p = TlsParams {
        ca_path: Some(file),
        verify_name: Some("other.example".into()),
        ..params(true)
    };
    let Err(TlsError::Verify { reason, info }) = handshake(&cert, &key, "localhost", &p).await
    else {
        panic!("expected Verify")
    };
    assert!(info.verify.chain_ok && !info.verify.name_ok);
    assert_eq!(info.verify.reason.as_deref(), Some("hostname mismatch"));
    assert!(reason.contains("not valid for other.example"), "{reason}");
    assert!(reason.contains("DNS:localhost"), "{reason}");
    // The CA is trusted already: the fix is the name, not a CA file (issue: connecting
    // by IP to a server whose certificate passes the CA check).
    assert!(!reason.contains("--tls-ca-path"), "{reason}");
    assert!(reason.contains("--tls-verify-target localhost"), "{reason}");
}

#[tokio::test]
async fn trusted_certificate_reached_by_ip_suggests_the_name() {
    let (cert, key) = self_signed(&["localhost"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ca.pem");
    std::fs::write(&file, cert.to_pem().unwrap()).unwrap();
    let p = TlsParams {
        ca_path: Some(file),
        ..params(true)
    };
    let Err(TlsError::Verify { reason, info }) = handshake(&cert, &key, "127.0.0.1", &p).await
    else {
        panic!("expected Verify")
    };
    assert!(info.verify.chain_ok && !info.verify.name_ok);
    assert!(reason.contains("IP address mismatch"), "{reason}");
    assert!(reason.contains("--server localhost"), "{reason}");
    assert!(reason.contains("--tls-verify-target localhost"), "{reason}");
    assert!(!reason.contains("--tls-ca-path"), "{reason}");
}

#[tokio::test]
async fn name_mismatch_does_not_hide_an_expired_chain() {
    // OpenSSL checks the name before the dates; the verdict must still see the expiry.
    let kp = rcgen::KeyPair::generate().unwrap();
    let mut cp = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    cp.not_before = rcgen::date_time_ymd(2000, 1, 1);
    cp.not_after = rcgen::date_time_ymd(2001, 1, 1);
    let c = cp.self_signed(&kp).unwrap();
    let cert = X509::from_der(c.der()).unwrap();
    let key = PKey::private_key_from_pem(kp.serialize_pem().as_bytes()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ca.pem");
    std::fs::write(&file, cert.to_pem().unwrap()).unwrap();
    let p = TlsParams {
        ca_path: Some(file),
        verify_name: Some("other.example".into()),
        ..params(false)
    };
    let (_, info) = handshake(&cert, &key, "localhost", &p).await.unwrap();
    assert!(!info.verify.chain_ok && !info.verify.name_ok);
    assert_eq!(
        info.verify.reason.as_deref(),
        Some("certificate has expired")
    );
    assert!(
        info.chain[0].days_left < -9000,
        "{}",
        info.chain[0].days_left
    );
    assert!(info.chain[0].not_after.starts_with("2001-01-01T"));
}

/// A trusted root, an intermediate that expired in 2001 and a current leaf for localhost the
/// server sends with it: the reason names the intermediate and its date, never the leaf's
/// notAfter (still to come), and sends no one to a CA file, which cannot mend a date.
#[tokio::test]
async fn an_expired_intermediate_is_named_with_its_own_date() {
    let mut rp = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    rp.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    rp.distinguished_name
        .push(rcgen::DnType::CommonName, "ehlo test root E");
    let root =
        rcgen::CertifiedIssuer::self_signed(rp, rcgen::KeyPair::generate().unwrap()).unwrap();
    let mut ip = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ip.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ip.distinguished_name
        .push(rcgen::DnType::CommonName, "ehlo test old intermediate");
    ip.not_before = rcgen::date_time_ymd(2000, 1, 1);
    ip.not_after = rcgen::date_time_ymd(2001, 1, 1);
    let ica =
        rcgen::CertifiedIssuer::signed_by(ip, rcgen::KeyPair::generate().unwrap(), &root).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ica)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ca.pem");
    std::fs::write(&file, X509::from_der(root.der()).unwrap().to_pem().unwrap()).unwrap();
    let acc = acceptor(
        &X509::from_der(leaf.der()).unwrap(),
        &[X509::from_der(ica.der()).unwrap()],
        &PKey::private_key_from_pem(leaf_key.serialize_pem().as_bytes()).unwrap(),
    )
    .unwrap();
    let p = TlsParams {
        ca_path: Some(file),
        ..params(true)
    };
    let err = handshake_accepting(acc, "localhost", &p, &trust::system_store)
        .await
        .unwrap_err();
    let TlsError::Verify { reason, info } = err else {
        panic!("expected Verify, got {err:?}")
    };
    assert_eq!(info.chain.len(), 2, "{:?}", info.chain);
    assert!(info.chain[0].days_left > 0 && info.chain[1].days_left < 0);
    let leaf_after = info.chain[0].not_after.clone();
    assert!(
        reason.contains("peer[1] (/CN=ehlo test old intermediate) expired on 2001-01-01T"),
        "{reason}"
    );
    assert!(!reason.contains(&leaf_after), "{reason}");
    assert!(
        !reason.contains("--tls-ca-path") && reason.contains("renew"),
        "{reason}"
    );
}

/// Chains that are malformed rather than unknown, sent by a server under a trusted root: a leaf
/// with a critical extension of no known kind, a leaf issued by a CA:FALSE certificate, a leaf
/// outside its intermediate's name constraints. Each fails with OpenSSL's reason, the RFC 5280
/// rule it breaks, and reissuing as the remedy: it used to offer `--tls-ca-path`, which the
/// root is already in and which no trust store can mend.
#[tokio::test]
async fn a_malformed_chain_is_not_sent_to_a_ca_file() {
    let ca = |cn: &str, is_ca: rcgen::IsCa| {
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = is_ca;
        p.distinguished_name.push(rcgen::DnType::CommonName, cn);
        p
    };
    let root = rcgen::CertifiedIssuer::self_signed(
        ca(
            "ehlo test root M",
            rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained),
        ),
        rcgen::KeyPair::generate().unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ca.pem");
    std::fs::write(&file, X509::from_der(root.der()).unwrap().to_pem().unwrap()).unwrap();
    let p = TlsParams {
        ca_path: Some(file),
        ..params(true)
    };
    // A leaf for localhost signed by an intermediate made of `ica`, plus `leaf_ext` on the leaf.
    let run = |ica: rcgen::CertificateParams, critical: bool| {
        let ica =
            rcgen::CertifiedIssuer::signed_by(ica, rcgen::KeyPair::generate().unwrap(), &root)
                .unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let mut lp = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        if critical {
            let mut ext = rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 99999, 7],
                vec![0x05, 0x00],
            );
            ext.set_criticality(true);
            lp.custom_extensions.push(ext);
        }
        let leaf = lp.signed_by(&leaf_key, &ica).unwrap();
        acceptor(
            &X509::from_der(leaf.der()).unwrap(),
            &[X509::from_der(ica.der()).unwrap()],
            &PKey::private_key_from_pem(leaf_key.serialize_pem().as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let good_ica = || {
        ca(
            "ehlo test intermediate M",
            rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained),
        )
    };
    let mut constrained = good_ica();
    constrained.name_constraints = Some(rcgen::NameConstraints {
        permitted_subtrees: vec![rcgen::GeneralSubtree::DnsName("allowed.test".into())],
        excluded_subtrees: vec![],
    });
    // A CA by its basicConstraints whose keyUsage does not allow signing certificates:
    // OpenSSL calls it "invalid CA certificate" too.
    let mut no_cert_sign = good_ica();
    no_cert_sign.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    for (acc, openssl_says, rule) in [
        (
            run(no_cert_sign, false),
            "invalid CA certificate",
            "keyCertSign",
        ),
        (
            run(good_ica(), true),
            "unhandled critical extension",
            "RFC 5280 §4.2",
        ),
        (
            run(ca("ehlo test not a CA", rcgen::IsCa::ExplicitNoCa), false),
            "invalid CA certificate",
            "is not a CA",
        ),
        (
            run(constrained, false),
            "permitted subtree violation",
            "name constraints",
        ),
    ] {
        let err = handshake_accepting(acc, "localhost", &p, &trust::system_store)
            .await
            .unwrap_err();
        let TlsError::Verify { reason, info } = err else {
            panic!("{openssl_says}: expected Verify, got {err:?}")
        };
        assert_eq!(info.verify.reason.as_deref(), Some(openssl_says));
        let reason = reason.to_string();
        assert!(reason.starts_with(openssl_says), "{reason}");
        assert!(reason.contains(rule), "{reason}");
        assert!(reason.contains("reissue"), "{reason}");
        assert!(!reason.contains("--tls-ca-path"), "{reason}");
    }
    // The same root and a well-formed intermediate verify: the failures above are the defects'.
    assert!(
        handshake_accepting(
            run(good_ica(), false),
            "localhost",
            &p,
            &trust::system_store
        )
        .await
        .is_ok()
    );
}

/// A server whose Certificate message is over OpenSSL's 100 KiB certificate list cap: a
/// handshake failure that says so (it was OpenSSL's bare "excessive message size"), in bounded
/// time and memory.
#[tokio::test]
async fn an_oversized_certificate_chain_is_a_named_handshake_failure() {
    let (ca, leaf, key) = ca_and_leaf("ehlo test root F");
    let chain: Vec<X509> = std::iter::repeat_n(ca, 400).collect();
    let total: usize = chain.iter().map(|c| c.to_der().unwrap().len()).sum();
    assert!(total > 100 * 1024, "{total}");
    let acc = acceptor(&leaf, &chain, &key).unwrap();
    let err = handshake_accepting(acc, "localhost", &params(false), &trust::system_store)
        .await
        .unwrap_err();
    let TlsError::Handshake(reason) = err else {
        panic!("expected Handshake, got {err:?}")
    };
    assert!(reason.starts_with("excessive message size: "), "{reason}");
    assert!(
        reason.contains("certificate chain over 100 KiB"),
        "{reason}"
    );
}

#[tokio::test]
async fn ip_literal_host_sends_no_sni_and_matches_ip_san() {
    let (cert, key) = self_signed(&["127.0.0.1", "::1"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ca.pem");
    std::fs::write(&file, cert.to_pem().unwrap()).unwrap();
    let p = TlsParams {
        ca_path: Some(file),
        ..params(true)
    };
    let (_, info) = handshake(&cert, &key, "[127.0.0.1]", &p).await.unwrap();
    assert_eq!(info.sni, None);
    assert_eq!(info.verify.matched.as_deref(), Some("IP:127.0.0.1"));
    assert_eq!(info.chain[0].sans, ["IP:127.0.0.1", "IP:::1"]);
    let (_, info) = handshake(&cert, &key, "[IPv6:::1]", &p).await.unwrap();
    assert_eq!(info.verify.matched.as_deref(), Some("IP:::1"));
    assert!(info.verify.ok);
}

#[tokio::test]
async fn garbage_peer_is_a_readable_handshake_error() {
    let (c, mut s) = duplex(4096);
    let peer = tokio::spawn(async move {
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).await;
        let _ = s
            .write_all(b"220 mail.example.com ESMTP ready, not TLS at all\r\n")
            .await;
        // Keep the pipe open until the client gives up.
        let _ = s.read(&mut buf).await;
    });
    let err = connect(c, "localhost", &params(false), None)
        .await
        .unwrap_err();
    let TlsError::NotTls {
        reason,
        greeting,
        head,
    } = &err
    else {
        panic!("expected NotTls, got {err:?}")
    };
    assert!(reason.contains("did not speak TLS"), "{reason}");
    assert!(greeting, "{head}");
    assert!(
        "220 mail".starts_with(head.as_str()) && head.len() >= 4,
        "{head}"
    );
    peer.abort();
}

#[tokio::test]
async fn peer_closing_is_a_handshake_error() {
    // Closed before the ClientHello could be written…
    let (c, s) = duplex(4096);
    drop(s);
    let err = connect(c, "localhost", &params(false), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TlsError::Handshake(r) if r.contains("closed")),
        "{err:?}"
    );
    // …and closed after reading it (the server dropped us mid-handshake).
    let (c, mut s) = duplex(4096);
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).await;
    });
    let err = connect(c, "localhost", &params(false), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TlsError::Handshake(r) if r.contains("closed")),
        "{err:?}"
    );
}

#[tokio::test]
async fn stalled_peer_is_left_to_the_callers_timeout() {
    // connect() has no timeout of its own; the caller bounds it.
    let (c, _s) = duplex(4096);
    let r = tokio::time::timeout(
        std::time::Duration::from_millis(100),
        connect(c, "localhost", &params(false), None),
    )
    .await;
    assert!(
        r.is_err(),
        "a silent peer must stall until the caller's timeout"
    );
}

#[tokio::test]
async fn bad_ca_path_is_a_setup_error() {
    let (c, _s) = duplex(64);
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "nothing here").unwrap();
    for ca in [dir.path().join("missing.pem"), empty] {
        let p = TlsParams {
            ca_path: Some(ca),
            ..params(true)
        };
        let (c2, _s2) = duplex(64);
        assert!(matches!(
            connect(c2, "localhost", &p, None).await,
            Err(TlsError::Setup(_))
        ));
    }
    drop(c);
}

/// `check`: what the handshake would refuse as "TLS setup failed" is found before connecting,
/// one line naming the flag; usable inputs pass, and without TLS flags nothing is read.
#[test]
fn check_finds_unusable_inputs_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(&["client.test"]).unwrap();
    let (_, other) = self_signed(&["other.test"]).unwrap();
    let write = |name: &str, body: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let cert_file = write("c.pem", &cert.to_pem().unwrap());
    let key_file = write("c.key", &key.private_key_to_pem_pkcs8().unwrap());
    let other_file = write("o.key", &other.private_key_to_pem_pkcs8().unwrap());
    let junk = write("junk.pem", b"junk");
    let cas = dir.path().join("cas");
    std::fs::create_dir_all(&cas).unwrap();
    std::fs::write(cas.join("a.pem"), cert.to_pem().unwrap()).unwrap();
    let client = |key: &Path| {
        Some(ClientCert {
            cert: cert_file.clone(),
            key: key.to_path_buf(),
            chain: None,
        })
    };
    assert_eq!(check(&params(true)), Ok(()));
    for ok in [
        TlsParams {
            ca_path: Some(cert_file.clone()),
            ..params(true)
        },
        TlsParams {
            ca_path: Some(cas.clone()),
            ..params(true)
        },
        // No TLS 1.2 cipher usable, but TLS 1.3's suites are left: a TLS 1.3 server works.
        TlsParams {
            cipher_list: Some("aNULL".into()),
            ..params(true)
        },
        // Anonymous suites at the security level that allows them.
        TlsParams {
            cipher_list: Some("aNULL:@SECLEVEL=0".into()),
            protocols: Some(vec![TlsVersion::Tls1_2]),
            ..params(true)
        },
        TlsParams {
            client_cert: client(&key_file),
            cipher_list: Some("ECDHE-ECDSA-AES128-GCM-SHA256".into()),
            ciphersuites: Some("TLS_AES_128_GCM_SHA256".into()),
            protocols: Some(vec![TlsVersion::Tls1_2, TlsVersion::Tls1_3]),
            ..params(true)
        },
    ] {
        assert_eq!(check(&ok), Ok(()), "{ok:?}");
    }
    let bad = [
        (
            TlsParams {
                ca_path: Some(junk.clone()),
                ..params(true)
            },
            "--tls-ca-path: ",
        ),
        (
            TlsParams {
                client_cert: client(&other_file),
                ..params(true)
            },
            "does not belong to --tls-cert",
        ),
        (
            TlsParams {
                client_cert: client(&junk),
                ..params(true)
            },
            "--tls-cert/--tls-key: ",
        ),
        (
            TlsParams {
                cipher_list: Some("NOPE".into()),
                ..params(true)
            },
            "--tls-cipher: ",
        ),
        (
            TlsParams {
                ciphersuites: Some("NOPE".into()),
                ..params(true)
            },
            "--tls-ciphersuites: ",
        ),
        // A list OpenSSL knows that leaves nothing it will offer for the versions allowed.
        (
            TlsParams {
                cipher_list: Some("aNULL".into()),
                protocols: Some(vec![TlsVersion::Tls1_2]),
                ..params(true)
            },
            "--tls-cipher 'aNULL' with the versions of --tls-protocol: OpenSSL has no cipher to offer",
        ),
        (
            TlsParams {
                cipher_list: Some("eNULL".into()),
                protocols: Some(vec![TlsVersion::Tls1_2]),
                ..params(true)
            },
            "(no ciphers available)",
        ),
    ];
    for (p, says) in bad {
        let e = check(&p).unwrap_err();
        assert!(e.contains(says) && !e.contains('\n'), "{e}");
    }
}

#[test]
fn wildcard_matching_rfc6125() {
    assert!(dns_name_matches("mail.example.com", "MAIL.example.com."));
    assert!(dns_name_matches("*.example.com", "mx.example.com"));
    assert!(!dns_name_matches("*.example.com", "example.com"));
    assert!(!dns_name_matches("*.example.com", "a.b.example.com"));
    assert!(!dns_name_matches("*.com", "example.com"));
    assert!(!dns_name_matches("m*.example.com", "mx.example.com"));
    assert!(!dns_name_matches("*.*.example.com", "a.b.example.com"));
    assert!(!dns_name_matches("", "example.com"));
    assert!(!dns_name_matches("*.example.com", ".example.com"));
}

/// A leaf signed with SHA-1 is refused by the acceptor (OpenSSL refuses SHA-1 from security
/// level 1 on) with the reason in words, not OpenSSL's raw error stack.
#[test]
fn a_certificate_below_the_security_level_is_refused_in_words() {
    let (_, leaf, key) = sha1_signed_leaf();
    let Err(TlsError::Setup(r)) = acceptor(&leaf, &[], &key) else {
        panic!("a SHA-1 leaf was accepted")
    };
    assert!(
        r.starts_with("the certificate is below OpenSSL's security level (ca md too weak)"),
        "{r}"
    );
    assert!(r.contains("SHA-256") && !r.contains("error:0A"), "{r}");
}

#[test]
fn load_cert_key_accepts_pkcs8_pkcs1_and_sec1() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(&["localhost"]).unwrap();
    let cp = dir.path().join("c.pem");
    std::fs::write(&cp, cert.to_pem().unwrap()).unwrap();
    // SEC1 (BEGIN EC PRIVATE KEY) and PKCS#8 (BEGIN PRIVATE KEY) of the same EC key.
    let sec1 = key.ec_key().unwrap().private_key_to_pem().unwrap();
    let pkcs8 = key.private_key_to_pem_pkcs8().unwrap();
    for pem in [sec1, pkcs8] {
        let kp = dir.path().join("k.pem");
        std::fs::write(&kp, &pem).unwrap();
        let (c, k) = load_cert_key(&cp, &kp).unwrap();
        assert!(acceptor(&c, &[], &k).is_ok());
    }
    // PKCS#1 (BEGIN RSA PRIVATE KEY).
    let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
    let kp = dir.path().join("rsa.pem");
    std::fs::write(&kp, rsa.private_key_to_pem().unwrap()).unwrap();
    let (c, k) = load_cert_key(&cp, &kp).unwrap();
    // …which does not belong to this certificate.
    assert!(
        matches!(acceptor(&c, &[], &k), Err(TlsError::Setup(r)) if r.contains("does not match"))
    );
    // A key of the same type (EC) from another certificate: OpenSSL refuses it already when
    // it is set; still told as the mismatch it is.
    let (_, other) = self_signed(&["localhost"]).unwrap();
    assert!(
        matches!(acceptor(&cert, &[], &other), Err(TlsError::Setup(r)) if r.contains("does not match"))
    );
    // An encrypted key fails without prompting, and garbage is rejected.
    let enc = key
        .private_key_to_pem_pkcs8_passphrase(openssl::symm::Cipher::aes_128_cbc(), b"pw")
        .unwrap();
    std::fs::write(&kp, enc).unwrap();
    assert!(matches!(load_cert_key(&cp, &kp), Err(TlsError::Setup(_))));
    std::fs::write(&kp, "garbage").unwrap();
    assert!(matches!(load_cert_key(&cp, &kp), Err(TlsError::Setup(_))));
    assert!(matches!(load_cert_key(&kp, &kp), Err(TlsError::Setup(_))));
}

/// Handshake against a custom acceptor over a pipe; the server result comes back too.
async fn handshake_with(
    acc: SslAcceptor,
    p: &TlsParams,
) -> (
    Result<(super::TlsStream<DuplexStream>, TlsInfo), TlsError>,
    Result<(), TlsError>,
) {
    let (c, s) = duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let (mut s, _) = accept(s, &acc).await?;
        // The client writes one byte after a successful handshake; a read error here is
        // the server refusing the client (TLS 1.3 checks the client certificate late).
        let mut buf = [0u8; 16];
        s.read(&mut buf)
            .await
            .map_err(|e| TlsError::Handshake(Hint::plain(e.to_string())))?;
        Ok::<(), TlsError>(())
    });
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        connect(c, "localhost", p, None),
    )
    .await
    .expect("handshake must not hang");
    let mut r = r;
    if let Ok((s, _)) = r.as_mut() {
        let _ = s.write_all(b"x").await;
    }
    let server = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("server must not hang")
        .unwrap();
    (r, server)
}

fn builder(cert: &X509, key: &PKey<Private>) -> openssl::ssl::SslAcceptorBuilder {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    b.set_certificate(cert).unwrap();
    b.set_private_key(key).unwrap();
    b
}

#[test]
fn protocol_lists() {
    use TlsVersion::*;
    assert_eq!(parse_protocols("tlsv1_2,tlsv1_3"), Ok(vec![Tls1_2, Tls1_3]));
    assert_eq!(
        parse_protocols("TLSv1.3, tlsv1_2"),
        Ok(vec![Tls1_2, Tls1_3])
    );
    assert_eq!(parse_protocols("tlsv1"), Ok(vec![Tls1_0]));
    assert_eq!(
        parse_protocols("no_tlsv1,no_tlsv1_1"),
        Ok(vec![Tls1_2, Tls1_3])
    );
    assert_eq!(parse_protocols("no_tlsv1_3"), Ok(vec![Tls1_2]));
    assert_eq!(
        parse_protocols("no_sslv2,no_sslv3"),
        Ok(vec![Tls1_2, Tls1_3])
    );
    let e = parse_protocols("sslv3").unwrap_err();
    assert!(e.contains("not supported by this OpenSSL build"), "{e}");
    assert!(
        parse_protocols("tlsv1_2,no_tlsv1")
            .unwrap_err()
            .contains("mixes")
    );
    assert!(
        parse_protocols("no_tlsv1_2,no_tlsv1_3")
            .unwrap_err()
            .contains("every")
    );
    assert!(parse_protocols("tls9").unwrap_err().contains("'tls9'"));
    assert!(parse_protocols(" , ").is_err());
    // A gap: OpenSSL would use only the lowest run of it (TLS 1.1 alone), silently; refused.
    assert_eq!(
        parse_protocols("tlsv1_3,tlsv1_1").unwrap_err(),
        "tlsv1_1,tlsv1_3 leaves out tlsv1_2 in between: OpenSSL negotiates one range of versions, so give tlsv1_1,tlsv1_2,tlsv1_3 (or fewer at either end)"
    );
    assert!(
        parse_protocols("tlsv1,tlsv1_2,tlsv1_3")
            .unwrap_err()
            .contains("leaves out tlsv1_1 in between")
    );
    assert_eq!(
        parse_protocols("tlsv1_1,tlsv1_2,tlsv1_3"),
        Ok(vec![Tls1_1, Tls1_2, Tls1_3])
    );
    let p = TlsParams {
        protocols: Some(vec![Tls1_0, Tls1_2]),
        ..Default::default()
    };
    assert!(p.legacy());
    assert!(p.notes()[0].contains("@SECLEVEL=0"));
    assert!(!TlsParams::default().legacy());
    assert!(TlsParams::default().notes().is_empty());
}

#[tokio::test]
async fn tls12_only_server_and_protocol_choice() {
    let (cert, key) = self_signed(&["localhost"]).unwrap();
    let only12 = || {
        let mut b = builder(&cert, &key);
        b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
        b.build()
    };
    // Default: negotiates down to 1.2.
    let (r, _) = handshake_with(only12(), &params(false)).await;
    assert_eq!(r.unwrap().1.version, "TLSv1.2");
    // Allow list 1.3 only: no version in common, said so.
    let p = TlsParams {
        protocols: Some(vec![TlsVersion::Tls1_3]),
        ..params(false)
    };
    let (r, _) = handshake_with(only12(), &p).await;
    let Err(TlsError::Handshake(reason)) = r else {
        panic!("expected a handshake error, got {:?}", r.map(|x| x.1))
    };
    assert!(reason.contains("version"), "{reason}");
    // A 1.2 cipher of our choosing is the one negotiated.
    let p = TlsParams {
        cipher_list: Some("ECDHE-ECDSA-CHACHA20-POLY1305".into()),
        ..params(false)
    };
    let (r, _) = handshake_with(only12(), &p).await;
    assert_eq!(r.unwrap().1.cipher, "ECDHE-ECDSA-CHACHA20-POLY1305");
    // TLS 1.3 suites against a 1.3 server.
    let p = TlsParams {
        ciphersuites: Some("TLS_CHACHA20_POLY1305_SHA256".into()),
        ..params(false)
    };
    let (r, _) = handshake_with(builder(&cert, &key).build(), &p).await;
    let info = r.unwrap().1;
    assert_eq!(
        (info.version.as_str(), info.cipher.as_str()),
        ("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256")
    );
    // Nonsense cipher names are a setup error naming the flag.
    for p in [
        TlsParams {
            cipher_list: Some("NOT-A-CIPHER".into()),
            ..params(false)
        },
        TlsParams {
            ciphersuites: Some("NOT_A_SUITE".into()),
            ..params(false)
        },
    ] {
        let (c, _s) = duplex(64);
        let e = connect(c, "localhost", &p, None).await.unwrap_err();
        assert!(
            matches!(&e, TlsError::Setup(r) if r.contains("--tls-cipher")),
            "{e:?}"
        );
    }
}

#[tokio::test]
async fn legacy_tls10_is_reachable_only_when_asked() {
    let (cert, key) = self_signed(&["localhost"]).unwrap();
    let legacy = || {
        let mut b = builder(&cert, &key);
        b.clear_options(SslOptions::NO_TLSV1 | SslOptions::NO_TLSV1_1);
        b.set_min_proto_version(Some(SslVersion::TLS1)).unwrap();
        b.set_max_proto_version(Some(SslVersion::TLS1)).unwrap();
        b.set_cipher_list("DEFAULT:@SECLEVEL=0").unwrap();
        b.build()
    };
    let (r, _) = handshake_with(legacy(), &params(false)).await;
    assert!(r.is_err(), "TLS 1.0 must stay off by default");
    let p = TlsParams {
        protocols: Some(vec![TlsVersion::Tls1_0]),
        ..params(false)
    };
    let (r, _) = handshake_with(legacy(), &p).await;
    assert_eq!(r.unwrap().1.version, "TLSv1");
}

#[tokio::test]
async fn client_certificate_for_a_server_that_requires_one() {
    let (cert, key) = self_signed(&["localhost"]).unwrap();
    let (ccert, ckey) = self_signed(&["client.example"]).unwrap();
    let requiring = |max: SslVersion| {
        let mut b = builder(&cert, &key);
        b.set_max_proto_version(Some(max)).unwrap();
        b.set_verify_callback(
            SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
            |_, _| true,
        );
        b.build()
    };
    let dir = tempfile::tempdir().unwrap();
    let cp = dir.path().join("client.pem");
    let kp = dir.path().join("client.key");
    // Leaf plus one extra certificate (sent as chain), PKCS#8 key.
    let mut pem = ccert.to_pem().unwrap();
    pem.extend(cert.to_pem().unwrap());
    std::fs::write(&cp, pem).unwrap();
    std::fs::write(&kp, ckey.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let with_cert = TlsParams {
        client_cert: Some(ClientCert {
            cert: cp.clone(),
            key: kp.clone(),
            chain: None,
        }),
        ..params(false)
    };
    for max in [SslVersion::TLS1_2, SslVersion::TLS1_3] {
        // Without: TLS 1.2 fails in the handshake, TLS 1.3 right after it (server side).
        let (r, server) = handshake_with(requiring(max), &params(false)).await;
        assert!(
            server.is_err() || r.is_err(),
            "{max:?}: server accepted no cert"
        );
        if let Err(TlsError::Handshake(reason)) = &r {
            assert!(reason.contains("client certificate"), "{reason}");
        }
        // With: accepted, and the evidence says it was sent.
        let (r, server) = handshake_with(requiring(max), &with_cert).await;
        let info = r.unwrap().1;
        assert!(server.is_ok(), "{max:?}: {server:?}");
        assert!(
            info.client_cert_sent && info.client_cert_requested,
            "{max:?}"
        );
        // A server that never asks: configured, but neither requested nor sent.
        let mut plain = builder(&cert, &key);
        plain.set_max_proto_version(Some(max)).unwrap();
        let (r, server) = handshake_with(plain.build(), &with_cert).await;
        let info = r.unwrap().1;
        assert!(server.is_ok(), "{max:?}: {server:?}");
        assert!(
            !info.client_cert_sent && !info.client_cert_requested,
            "{max:?}: {info:?}"
        );
        // A server that asks without insisting, of a client with none: requested, not sent.
        let mut asking = builder(&cert, &key);
        asking.set_max_proto_version(Some(max)).unwrap();
        asking.set_verify_callback(SslVerifyMode::PEER, |_, _| true);
        let (r, server) = handshake_with(asking.build(), &params(false)).await;
        let info = r.unwrap().1;
        assert!(server.is_ok(), "{max:?}: {server:?}");
        assert!(
            !info.client_cert_sent && info.client_cert_requested,
            "{max:?}: {info:?}"
        );
    }
    // Key of another certificate: a setup error naming both flags.
    let other = dir.path().join("other.key");
    std::fs::write(&other, key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let p = TlsParams {
        client_cert: Some(ClientCert {
            cert: cp.clone(),
            key: other,
            chain: None,
        }),
        ..params(false)
    };
    let (c, _s) = duplex(64);
    let e = connect(c, "localhost", &p, None).await.unwrap_err();
    assert!(
        matches!(&e, TlsError::Setup(r) if r.contains("--tls-key") && r.contains("--tls-cert")),
        "{e:?}"
    );
    // A chain file without certificates.
    let p = TlsParams {
        client_cert: Some(ClientCert {
            cert: cp,
            key: kp.clone(),
            chain: Some(kp),
        }),
        ..params(false)
    };
    let (c, _s) = duplex(64);
    let e = connect(c, "localhost", &p, None).await.unwrap_err();
    assert!(
        matches!(&e, TlsError::Setup(r) if r.contains("--tls-chain")),
        "{e:?}"
    );
}

/// A server that checks client certificates refuses one: the reason says it was the client's
/// certificate. TLS 1.2 with none configured said "the server rejected the handshake: no cipher
/// or version in common, or it requires a client certificate", though the client had answered
/// the server's request for one; `unknown ca` and `certificate expired` were OpenSSL's bare
/// alert, which reads as the server's own certificate failing.
#[tokio::test]
async fn a_refused_client_certificate_is_named_as_the_clients() {
    let (cert, key) = self_signed(&["localhost"]).unwrap();
    // A CA the server trusts for client certificates, and a client certificate it signed that
    // expired in 2001.
    let (client_ca, _, _) = ca_and_leaf("ehlo test client CA");
    let mut cap = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    cap.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    cap.distinguished_name
        .push(rcgen::DnType::CommonName, "ehlo test client CA 2");
    let ca2 =
        rcgen::CertifiedIssuer::self_signed(cap, rcgen::KeyPair::generate().unwrap()).unwrap();
    let old_key = rcgen::KeyPair::generate().unwrap();
    let mut op = rcgen::CertificateParams::new(vec!["client.example".to_string()]).unwrap();
    op.not_before = rcgen::date_time_ymd(2000, 1, 1);
    op.not_after = rcgen::date_time_ymd(2001, 1, 1);
    let old = op.signed_by(&old_key, &ca2).unwrap();
    let requiring = |max: SslVersion| {
        let mut b = builder(&cert, &key);
        b.set_max_proto_version(Some(max)).unwrap();
        b.cert_store_mut().add_cert(client_ca.clone()).unwrap();
        b.cert_store_mut()
            .add_cert(X509::from_der(ca2.der()).unwrap())
            .unwrap();
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
        b.build()
    };
    let dir = tempfile::tempdir().unwrap();
    let client = |name: &str, c: &X509, k: &PKey<Private>| {
        let cp = dir.path().join(format!("{name}.pem"));
        let kp = dir.path().join(format!("{name}.key"));
        std::fs::write(&cp, c.to_pem().unwrap()).unwrap();
        std::fs::write(&kp, k.private_key_to_pem_pkcs8().unwrap()).unwrap();
        TlsParams {
            client_cert: Some(ClientCert {
                cert: cp,
                key: kp,
                chain: None,
            }),
            ..params(false)
        }
    };
    let (stranger, stranger_key) = self_signed(&["client.example"]).unwrap();
    let untrusted = client("stranger", &stranger, &stranger_key);
    let expired = client(
        "old",
        &X509::from_der(old.der()).unwrap(),
        &PKey::private_key_from_pem(old_key.serialize_pem().as_bytes()).unwrap(),
    );
    // The reason the client gives, from the handshake (TLS 1.2) or the first read (TLS 1.3,
    // where the server judges the certificate after the client's handshake has ended).
    let refusal = |r: Result<(super::TlsStream<DuplexStream>, TlsInfo), TlsError>| async move {
        match r {
            Err(TlsError::Handshake(h)) => h.to_string(),
            Err(e) => panic!("expected a handshake failure, got {e:?}"),
            Ok((mut s, _)) => {
                let mut buf = [0u8; 16];
                let e = s.read(&mut buf).await.expect_err("the server refuses");
                alert_on_read(&e).expect("an alert").to_string()
            }
        }
    };
    for max in [SslVersion::TLS1_2, SslVersion::TLS1_3] {
        let (r, _) = handshake_with(requiring(max), &untrusted).await;
        let got = refusal(r).await;
        assert!(got.contains("unknown ca"), "{max:?}: {got}");
        assert!(
            got.contains("does not trust the issuer of the client certificate sent"),
            "{max:?}: {got}"
        );
        let (r, _) = handshake_with(requiring(max), &expired).await;
        let got = refusal(r).await;
        assert!(got.contains("certificate expired"), "{max:?}: {got}");
        assert!(
            got.contains("refused the client certificate sent as out of its dates"),
            "{max:?}: {got}"
        );
    }
    // None configured: TLS 1.2 ends the handshake with handshake_failure once the client has
    // answered the request with an empty Certificate message.
    let (r, _) = handshake_with(requiring(SslVersion::TLS1_2), &params(false)).await;
    let got = refusal(r).await;
    assert!(
        got.contains(
            "the server asked for a client certificate and ended the handshake when none came"
        ),
        "{got}"
    );
    assert!(!got.contains("no cipher or version in common"), "{got}");
    // A handshake_failure of a server that asked for nothing keeps the general words.
    let mut picky = builder(&cert, &key);
    picky
        .set_max_proto_version(Some(SslVersion::TLS1_2))
        .unwrap();
    picky
        .set_cipher_list("ECDHE-RSA-AES128-GCM-SHA256")
        .unwrap();
    let only_other = TlsParams {
        cipher_list: Some("ECDHE-RSA-AES256-GCM-SHA384".into()),
        protocols: Some(vec![TlsVersion::Tls1_2]),
        ..params(false)
    };
    let (r, _) = handshake_with(picky.build(), &only_other).await;
    let got = refusal(r).await;
    assert!(!got.contains("asked for a client certificate"), "{got}");
}

/// swaks's `--tls-verify-ca` / `--tls-verify-host` alone: only that half is enforced, the other
/// is still judged and shown.
#[tokio::test]
async fn verify_only_the_chain_or_only_the_name() {
    use crate::smtp::event::VerifyPart;
    let (ca, leaf, key) = ca_and_leaf("ehlo test root V");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ca.pem");
    std::fs::write(&file, ca.to_pem().unwrap()).unwrap();
    let only = |part: Option<VerifyPart>, name: &str| TlsParams {
        ca_path: Some(file.clone()),
        verify_only: part,
        verify_name: Some(name.into()),
        ..params(true)
    };
    // A trusted chain for another name: passes when only the chain is enforced…
    let (_, info) = handshake(
        &leaf,
        &key,
        "localhost",
        &only(Some(VerifyPart::Chain), "mx.other.example"),
    )
    .await
    .unwrap();
    let v = &info.verify;
    assert!(v.chain_ok && !v.name_ok && !v.ok && v.passed(), "{v:?}");
    assert_eq!(v.only, Some(VerifyPart::Chain));
    // …and fails when the name counts.
    for part in [None, Some(VerifyPart::Name)] {
        let r = handshake(&leaf, &key, "localhost", &only(part, "mx.other.example")).await;
        let Err(TlsError::Verify { reason, .. }) = r else {
            panic!("{part:?}: expected Verify, got {:?}", r.map(|x| x.1))
        };
        assert!(reason.contains("hostname mismatch"), "{part:?}: {reason}");
    }
    // A self-signed certificate for the right name: passes when only the name is enforced…
    let (cert, key) = self_signed(&["localhost"]).unwrap();
    let name_only = TlsParams {
        verify_only: Some(VerifyPart::Name),
        ..params(true)
    };
    let (_, info) = handshake(&cert, &key, "localhost", &name_only)
        .await
        .unwrap();
    let v = &info.verify;
    assert!(!v.chain_ok && v.name_ok && !v.ok && v.passed(), "{v:?}");
    // …fails on the chain otherwise…
    for part in [None, Some(VerifyPart::Chain)] {
        let p = TlsParams {
            verify_only: part,
            ..params(true)
        };
        let Err(TlsError::Verify { reason, .. }) = handshake(&cert, &key, "localhost", &p).await
        else {
            panic!("{part:?}: expected Verify")
        };
        assert!(reason.contains("self-signed"), "{part:?}: {reason}");
    }
    // …and on the name, not the chain, when the name is wrong.
    let p = TlsParams {
        verify_name: Some("mx.other.example".into()),
        ..name_only
    };
    let Err(TlsError::Verify { reason, .. }) = handshake(&cert, &key, "localhost", &p).await else {
        panic!("expected Verify")
    };
    assert!(
        reason.starts_with("hostname mismatch")
            && reason.contains("not valid for mx.other.example"),
        "{reason}"
    );
}

/// The embedded server's certificate is the one rcgen made before ehlo made it with openssl:
/// ECDSA P-256 signed with SHA-256 by its own key, `CN=ehlo serve self-signed certificate`
/// (rcgen's subject named rcgen) as subject and issuer, 1975-01-01 to 4096-01-01, the names as DNS or IP subject alternative names, and the
/// serial taken from the SHA-256 of the public key.
#[test]
fn the_self_signed_certificate_keeps_its_subject_names_validity_and_key_type() {
    use openssl::nid::Nid;
    let (cert, key) = self_signed(&["localhost", "127.0.0.1", "::1"]).unwrap();
    assert_eq!(cert.version(), 2);
    let cn = |n: &openssl::x509::X509NameRef| {
        n.entries_by_nid(Nid::COMMONNAME)
            .map(|e| e.data().to_string().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        cn(cert.subject_name()),
        ["ehlo serve self-signed certificate"]
    );
    assert_eq!(
        cn(cert.issuer_name()),
        ["ehlo serve self-signed certificate"]
    );
    assert_eq!(cert.not_before().to_string(), "Jan  1 00:00:00 1975 GMT");
    assert_eq!(cert.not_after().to_string(), "Jan  1 00:00:00 4096 GMT");
    let sans = cert.subject_alt_names().unwrap();
    let sans: Vec<String> = sans
        .iter()
        .map(|g| match (g.dnsname(), g.ipaddress()) {
            (Some(d), _) => format!("DNS:{d}"),
            (_, Some(ip)) => format!("IP:{ip:?}"),
            _ => "?".into(),
        })
        .collect();
    assert_eq!(
        sans,
        [
            "DNS:localhost",
            "IP:[127, 0, 0, 1]",
            "IP:[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]"
        ]
    );
    assert_eq!(
        cert.signature_algorithm().object().nid(),
        Nid::ECDSA_WITH_SHA256
    );
    let ec = key.ec_key().unwrap();
    assert_eq!(ec.group().curve_name(), Some(Nid::X9_62_PRIME256V1));
    assert!(cert.verify(&key).unwrap());
    assert!(cert.public_key().unwrap().public_eq(&key));
    let spki = key.public_key_to_der().unwrap();
    let mut serial =
        openssl::hash::hash(openssl::hash::MessageDigest::sha256(), &spki).unwrap()[..20].to_vec();
    serial[0] &= 0x7f;
    assert_eq!(
        cert.serial_number().to_bn().unwrap().to_vec(),
        openssl::bn::BigNum::from_slice(&serial).unwrap().to_vec()
    );
}

/// The dates warning is worded here once, for every renderer: out of its dates, near its
/// notAfter (fewer than 14 days), and nothing for a certificate with time left.
#[test]
fn dates_words_name_the_depth_and_the_date() {
    use crate::smtp::event::CertInfo;
    let cert = |days_left: i64, not_yet_valid: bool| CertInfo {
        not_before: "2030-01-01T00:00:00Z".into(),
        days_left,
        not_yet_valid,
        ..CertInfo::default()
    };
    let said = |i, c: CertInfo| dates_words(i, &c);
    assert_eq!(
        said(0, cert(3000, true)).as_deref(),
        Some("TLS peer[0] certificate is not valid before 2030-01-01T00:00:00Z")
    );
    assert_eq!(
        said(1, cert(-3, false)).as_deref(),
        Some("TLS peer[1] certificate expired 3 days ago")
    );
    assert_eq!(
        said(0, cert(-1, false)).as_deref(),
        Some("TLS peer[0] certificate expired 1 day ago")
    );
    assert_eq!(
        said(0, cert(0, false)).as_deref(),
        Some("TLS peer[0] certificate expires within a day")
    );
    assert_eq!(
        said(0, cert(5, false)).as_deref(),
        Some("TLS peer[0] certificate expires in 5 days")
    );
    assert_eq!(
        said(0, cert(13, false)).as_deref(),
        Some("TLS peer[0] certificate expires in 13 days")
    );
    assert_eq!(said(0, cert(14, false)), None);
}

/// The verify callback of a first handshake and then of a renegotiation, called by hand with
/// each certificate in turn against `store`, as OpenSSL calls it.
fn handshakes_judged(
    store: &openssl::x509::store::X509Store,
    judge: &super::reneg::Judge,
    certs: [&openssl::x509::X509; 2],
) -> super::reneg::Renegotiation {
    let reneg = super::reneg::Renegotiation::default();
    for cert in certs {
        let mut ctx = openssl::x509::X509StoreContext::new().unwrap();
        let untrusted = openssl::stack::Stack::new().unwrap();
        ctx.init(store, cert, &untrusted, |c| {
            let ok = c.verify_cert()?;
            Ok(reneg.on_verify(judge, ok, c))
        })
        .unwrap();
    }
    reneg
}

/// A server's renegotiation presenting another certificate is judged as the first handshake's
/// was: a root the hashed directory lacks but the bundle holds (`SSL_CERT_FILE`, a system
/// bundle) is trusted through the same fallback, not refused under `--tls-verify`. Each
/// handshake's verification is run here as OpenSSL runs it, with the directory's store, and
/// its verify callback's call made by hand.
#[test]
fn a_renegotiated_certificate_is_trusted_through_the_bundle_like_the_first() {
    use super::params::Fallback;
    use super::reneg::Judge;
    use openssl::x509::store::X509StoreBuilder;

    let (_, first, _) = ca_and_leaf("ehlo test root R1");
    let (ca, second, _) = ca_and_leaf("ehlo test root R2");
    let (other, _, _) = ca_and_leaf("ehlo test root R3");
    let root = tempfile::tempdir().unwrap();
    let certs = root.path().join("certs");
    install_hashed(&certs, &other);
    let bundle = root.path().join("bundle.pem");
    let mut pem = other.to_pem().unwrap();
    pem.extend(ca.to_pem().unwrap());
    std::fs::write(&bundle, pem).unwrap();
    let dir = certs.to_str().unwrap().to_string();
    let mut b = X509StoreBuilder::new().unwrap();
    trust::add_dir(&mut b, &dir).unwrap();
    let store = b.build();

    let judged = |fallback: Option<Fallback>| {
        let judge = Judge {
            checked: "localhost".into(),
            checked_ip: None,
            enforced: true,
            only: None,
            waived: None,
            tlsa: Vec::new(),
            dane_names: Vec::new(),
            fallback,
            auth_level: 1,
        };
        let reneg = handshakes_judged(&store, &judge, [&first, &second]);
        let news: Vec<String> = reneg.take_news().iter().map(|e| format!("{e:?}")).collect();
        (reneg.refusal(), news)
    };

    // The bundle holds the new certificate's root: trusted, the change said as a change only.
    let (refused, news) = judged(Some(Fallback {
        dir: Some(dir.clone()),
        file: bundle.clone(),
    }));
    assert_eq!(refused, None, "{news:?}");
    assert_eq!(news.len(), 2, "{news:?}");
    // The certificate now in use, with its verdict, then the warning.
    assert!(news[0].starts_with("TlsRenegotiated"), "{news:?}");
    assert!(news[0].contains("chain_ok: true"), "{news:?}");
    assert!(
        news[1].contains("TLS certificate changed in the renegotiation"),
        "{news:?}"
    );
    assert!(!news[1].contains("would fail"), "{news:?}");

    // With `--tls-ca-path` there is no fallback: the directory alone lacks the root.
    let (refused, _) = judged(None);
    let refused = refused.expect("refused without the bundle");
    assert!(
        refused
            .contains("untrusted certificate in a TLS renegotiation: unable to get local issuer"),
        "{refused}"
    );

    // A bundle without that root does not trust it either.
    std::fs::write(&bundle, other.to_pem().unwrap()).unwrap();
    let (refused, _) = judged(Some(Fallback {
        dir: Some(dir),
        file: bundle,
    }));
    assert!(refused.is_some());
}

/// Under DANE a renegotiation's different certificate is matched against the same TLSA
/// records as the first handshake's (RFC 7672 §3): authenticated by one, the session goes on
/// (the CA store, which does not know it, is not asked); matched by none, it is refused. It
/// used to be refused whatever the records said. The event for the transcript carries the
/// DANE verdict on the new certificate.
#[test]
fn a_renegotiated_certificate_is_matched_against_the_tlsa_records() {
    use super::reneg::Judge;
    use crate::net::dane::Tlsa;
    use crate::smtp::event::Event;
    use openssl::x509::store::X509StoreBuilder;

    let (_, first, _) = ca_and_leaf("ehlo test root R1");
    let (_, second, _) = ca_and_leaf("ehlo test root R2");
    let spki = |c: &openssl::x509::X509| {
        let der = c.public_key().unwrap().public_key_to_der().unwrap();
        let hex: String = openssl::sha::sha256(&der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Tlsa::parse(&format!("3 1 1 {hex}")).unwrap()
    };
    // An empty store: neither chain verifies by the CA path.
    let store = X509StoreBuilder::new().unwrap().build();
    let judged = |tlsa: Vec<Tlsa>| {
        let judge = Judge {
            checked: "localhost".into(),
            checked_ip: None,
            enforced: true,
            only: None,
            waived: None,
            tlsa,
            dane_names: vec!["localhost".into()],
            fallback: None,
            auth_level: 1,
        };
        let reneg = handshakes_judged(&store, &judge, [&first, &second]);
        (reneg.refusal(), reneg.take_news())
    };

    let (refused, news) = judged(vec![spki(&first), spki(&second)]);
    assert_eq!(refused, None, "{news:?}");
    let Some(Event::TlsRenegotiated { info }) = news.first() else {
        panic!("{news:?}")
    };
    let dane = info.dane.as_ref().expect("a DANE verdict");
    assert!(dane.ok, "{dane:?}");
    assert_eq!(dane.matched_depth, Some(0), "{dane:?}");
    assert!(!info.verify.chain_ok, "{info:?}");
    assert_eq!(
        info.chain[0].sha256,
        super::verify::cert_info(&second).sha256
    );

    let (refused, news) = judged(vec![spki(&first)]);
    let refused = refused.expect("refused: no record matches the new certificate");
    assert!(
        refused.contains("a TLS renegotiation that the TLSA records do not authenticate"),
        "{refused}"
    );
    assert!(
        matches!(news.first(), Some(Event::TlsRenegotiated { info }) if info.dane.as_ref().is_some_and(|d| !d.ok)),
        "{news:?}"
    );
}

/// `--tls-verify dane` with TLSA records that are all unusable does not enforce verification
/// (RFC 7672 §3.1.3), and the first handshake's verdict says so; a renegotiation's new
/// certificate said it was not enforced without the reason (the transcript blamed
/// `--insecure`). Its verdict now carries the same reason, and the change's warning says it.
#[test]
fn a_renegotiated_certificate_says_why_its_verification_is_waived() {
    use super::reneg::Judge;
    use crate::smtp::event::Event;
    use openssl::x509::store::X509StoreBuilder;

    let (_, first, _) = ca_and_leaf("ehlo test root R1");
    let (_, second, _) = ca_and_leaf("ehlo test root R2");
    let store = X509StoreBuilder::new().unwrap().build();
    let why = "the TLSA records are all unusable: TLS without authentication (RFC 7672 §3.1.3)";
    let judge = Judge {
        checked: "localhost".into(),
        checked_ip: None,
        enforced: false,
        only: None,
        waived: Some(why.into()),
        tlsa: Vec::new(),
        dane_names: vec!["localhost".into()],
        fallback: None,
        auth_level: 1,
    };
    let reneg = handshakes_judged(&store, &judge, [&first, &second]);
    assert_eq!(reneg.refusal(), None);
    let news = reneg.take_news();
    let Some(Event::TlsRenegotiated { info }) = news.first() else {
        panic!("{news:?}")
    };
    assert!(!info.verify.ok && !info.verify.enforced, "{info:?}");
    assert_eq!(info.verify.waived.as_deref(), Some(why), "{info:?}");
    let human = crate::render::human::plain_lines(&news[0]).join("\n");
    assert!(
        human.contains(&format!("=== (verification not enforced: {why})"))
            && !human.contains("--insecure"),
        "{human}"
    );
    assert!(
        matches!(news.get(1), Some(Event::Warning { .. })),
        "{news:?}"
    );
    let message = crate::render::human::plain_lines(&news[1]).join(" ");
    assert!(
        message.ends_with(&format!(
            "(it would fail verification: unable to get local issuer certificate; not enforced: {why})"
        )),
        "{message}"
    );
}
