//! The server side: self-signed certificates, the one acceptor, the server handshake, and
//! certificate/key loading, for `ehlo serve` and the tests.

use std::path::Path;
use std::pin::Pin;

use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::ssl::{Ssl, SslAcceptor, SslMethod};
use openssl::x509::{X509, X509Ref};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_openssl::SslStream;

use super::diagnose::server_handshake_reason;
use super::params::read_bounded;
use super::{TlsError, setup};
use crate::smtp::event::TlsInfo;

/// A self-signed certificate for `names` (DNS names or IP addresses) and its key, for the
/// embedded server and tests. ECDSA P-256, valid until 4096 (rcgen defaults).
pub(crate) fn self_signed(names: &[&str]) -> Result<(X509, PKey<Private>), TlsError> {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let ck = rcgen::generate_simple_self_signed(names)
        .map_err(setup("cannot generate a self-signed certificate"))?;
    let cert =
        X509::from_der(ck.cert.der()).map_err(setup("cannot load the generated certificate"))?;
    let key = PKey::private_key_from_pem(ck.signing_key.serialize_pem().as_bytes())
        .map_err(setup("cannot load the generated key"))?;
    Ok((cert, key))
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
    b.set_certificate(cert)
        .map_err(setup("cannot use the certificate"))?;
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
