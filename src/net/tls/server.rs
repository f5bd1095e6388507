//! The server side: self-signed certificates, the one acceptor, the server handshake, and
//! certificate/key loading, for `ehlo serve` and the tests.

use std::path::Path;
use std::pin::Pin;

use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::ssl::{Ssl, SslAcceptor, SslMethod, SslOptions};
use openssl::x509::{X509, X509Ref};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_openssl::SslStream;

use super::diagnose::server_handshake_reason;
use super::params::read_bounded;
use super::{TlsError, setup};
use crate::smtp::event::TlsInfo;

/// A self-signed certificate for `names` (DNS names or IP addresses) and its key, for the
/// embedded server and tests: an ECDSA P-256 key signed with SHA-256, subject and issuer
/// `CN=ehlo serve self-signed certificate` (what a client's transcript shows of it), valid
/// from 1975-01-01 to 4096-01-01, the names as subject alternative names (an IP address as an
/// iPAddress entry), the serial the first 20 bytes of the SHA-256 of the public key with its
/// top bit clear — the certificate rcgen's `generate_simple_self_signed` made, which ehlo used
/// before, but for the subject, which named rcgen.
pub(crate) fn self_signed(names: &[&str]) -> Result<(X509, PKey<Private>), TlsError> {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::{MessageDigest, hash};
    use openssl::nid::Nid;
    use openssl::x509::X509NameBuilder;
    use openssl::x509::extension::SubjectAlternativeName;
    let fail = |e: openssl::error::ErrorStack| {
        TlsError::Setup(format!("cannot generate a self-signed certificate: {e}"))
    };
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(fail)?;
    let key = EcKey::generate(&group)
        .and_then(PKey::from_ec_key)
        .map_err(fail)?;
    let mut name = X509NameBuilder::new().map_err(fail)?;
    name.append_entry_by_nid(Nid::COMMONNAME, "ehlo serve self-signed certificate")
        .map_err(fail)?;
    let name = name.build();
    let spki = key.public_key_to_der().map_err(fail)?;
    let mut serial = hash(MessageDigest::sha256(), &spki).map_err(fail)?[..20].to_vec();
    serial[0] &= 0x7f;
    let serial = BigNum::from_slice(&serial)
        .and_then(|b| b.to_asn1_integer())
        .map_err(fail)?;
    let mut b = X509::builder().map_err(fail)?;
    b.set_version(2).map_err(fail)?;
    b.set_serial_number(&serial).map_err(fail)?;
    b.set_subject_name(&name).map_err(fail)?;
    b.set_issuer_name(&name).map_err(fail)?;
    b.set_pubkey(&key).map_err(fail)?;
    // UTCTime up to 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
    let not_before = Asn1Time::from_str("750101000000Z").map_err(fail)?;
    let not_after = Asn1Time::from_str("40960101000000Z").map_err(fail)?;
    b.set_not_before(&not_before).map_err(fail)?;
    b.set_not_after(&not_after).map_err(fail)?;
    if !names.is_empty() {
        let mut san = SubjectAlternativeName::new();
        for n in names {
            if n.parse::<std::net::IpAddr>().is_ok() {
                san.ip(n);
            } else {
                san.dns(n);
            }
        }
        let ext = san.build(&b.x509v3_context(None, None)).map_err(fail)?;
        b.append_extension(ext).map_err(fail)?;
    }
    b.sign(&key, MessageDigest::sha256()).map_err(fail)?;
    Ok((b.build(), key))
}

/// The one server-side acceptor (Mozilla "intermediate" profile: TLS 1.2 and 1.3) for a leaf
/// certificate, the intermediates to send after it, and its key: used by `ehlo serve` and the
/// tests.
pub(crate) fn acceptor(
    cert: &X509Ref,
    chain: &[X509],
    key: &PKeyRef<Private>,
) -> Result<SslAcceptor, TlsError> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
        .map_err(setup("cannot create the TLS server context"))?;
    // A client's renegotiation (TLS 1.2 and older) is refused with a no_renegotiation alert:
    // each costs the server a full handshake, the CVE-2011-1473 denial of service, and an SMTP
    // session never needs one (RFC 5746 §5: servers may refuse renegotiation altogether).
    // OpenSSL 3 refuses a client's by default; this keeps it so whatever the library's default.
    b.set_options(SslOptions::NO_RENEGOTIATION);
    b.set_certificate(cert)
        .map_err(|e| match below_security_level(&e) {
            Some(why) => TlsError::Setup(why),
            None => setup("cannot use the certificate")(e),
        })?;
    for extra in chain {
        b.add_extra_chain_cert(extra.clone())
            .map_err(setup("cannot use the chain certificate"))?;
    }
    // Compared first: OpenSSL's SSL_CTX_use_PrivateKey itself refuses a key of the
    // certificate's type that is not its key ("key values mismatch"), which would read as a
    // setup failure rather than the user's mistake it is.
    if !cert.public_key().is_ok_and(|p| p.public_eq(key)) {
        return Err(TlsError::Setup(
            "the private key does not match the certificate".into(),
        ));
    }
    b.set_private_key(key)
        .map_err(setup("cannot use the private key"))?;
    b.check_private_key()
        .map_err(|_| TlsError::Setup("the private key does not match the certificate".into()))?;
    Ok(b.build())
}

/// A certificate served out of its dates (`ehlo serve --tls-cert`): past its notAfter or before
/// its notBefore (RFC 5280 §4.1.2.5), in words naming the date; `None` while it is valid. Such a
/// certificate is a fault worth injecting, so it is served, with this said at start.
pub(crate) fn out_of_dates(cert: &X509Ref) -> Option<String> {
    let refused = "a client that verifies refuses the handshake";
    if !super::verify::in_future(cert.not_after()) {
        Some(format!(
            "the certificate expired on {} (notAfter): served as it is; {refused}",
            super::verify::rfc3339(cert.not_after())
        ))
    } else if super::verify::in_future(cert.not_before()) {
        Some(format!(
            "the certificate is not valid before {} (notBefore): served as it is; {refused}",
            super::verify::rfc3339(cert.not_before())
        ))
    } else {
        None
    }
}

/// OpenSSL refused the certificate for its key or signature at its security level (Debian's
/// default is 2, as `openssl version -d`'s `openssl.cnf` sets: RSA and DSA keys of 2048 bits
/// or more, no SHA-1 signature): the reason in words, `None` for other errors. It was OpenSSL's
/// raw "error:0A00018E:SSL routines:SSL_CTX_use_certificate:ca md too weak:…", which reads as
/// a CA's fault and came with exit 10, a missing prerequisite, for a file of the user's.
fn below_security_level(e: &openssl::error::ErrorStack) -> Option<String> {
    let reason = e.errors().iter().find_map(|x| x.reason())?;
    let what = match reason {
        // The signature on the certificate itself, made with the issuer's digest.
        "ca md too weak" => "its signature's digest (SHA-1, MD5) is too weak",
        "ee key too small" => "its key is too small (RSA or DSA under 2048 bits, EC under 224)",
        "ca key too small" => "its issuer's key is too small",
        _ => return None,
    };
    Some(format!(
        "the certificate is below OpenSSL's security level ({reason}): {what}; a client that \
         verifies refuses it too: reissue it with RSA of 2048 bits or more, or EC, signed with \
         SHA-256"
    ))
}

/// Run a server handshake over `stream`: the stream and what was negotiated (version, cipher,
/// the SNI the client sent). Like [`connect`], it applies no timeout of its own.
pub(crate) async fn accept<S>(
    stream: S,
    acceptor: &SslAcceptor,
) -> Result<(SslStream<S>, TlsInfo), TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let ssl = Ssl::new(acceptor.context()).map_err(setup("cannot create the TLS session"))?;
    let mut s = SslStream::new(ssl, stream).map_err(setup("cannot create the TLS stream"))?;
    Pin::new(&mut s)
        .accept()
        .await
        .map_err(|e| TlsError::Handshake(server_handshake_reason(&e)))?;
    let x = s.ssl();
    let (cipher, bits) = x
        .current_cipher()
        .map(|c| (c.name().to_string(), c.bits().secret))
        .unwrap_or_default();
    let info = TlsInfo {
        version: x.version_str().to_string(),
        cipher,
        bits,
        sni: x
            .servername(openssl::ssl::NameType::HOST_NAME)
            .map(str::to_string),
        ..TlsInfo::default()
    };
    Ok((s, info))
}

/// Load a PEM certificate (the first of the file) and a PEM private key (PKCS#8, PKCS#1 or SEC1).
pub(crate) fn load_cert_key(cert: &Path, key: &Path) -> Result<(X509, PKey<Private>), TlsError> {
    let cert_pem = read_bounded(cert)
        .map_err(|e| TlsError::Setup(format!("cannot read certificate {}: {e}", cert.display())))?;
    let x509 = X509::from_pem(&cert_pem).map_err(|_| {
        TlsError::Setup(format!(
            "{} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
            cert.display()
        ))
    })?;
    let key_pem = read_bounded(key)
        .map_err(|e| TlsError::Setup(format!("cannot read key {}: {e}", key.display())))?;
    // The callback variant: with none, OpenSSL would prompt on the terminal for an encrypted key.
    let pkey = PKey::private_key_from_pem_callback(&key_pem, |_| Ok(0)).map_err(|_| {
        TlsError::Setup(format!(
            "{} holds no usable private key (expected PEM: PKCS#8, PKCS#1 or SEC1; encrypted keys are not supported)",
            key.display()
        ))
    })?;
    Ok((x509, pkey))
}
