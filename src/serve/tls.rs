//! TLS for the embedded server: an OpenSSL acceptor from the user's PEM files or from a
//! self-signed rcgen certificate, and the server-side handshake with its [`TlsInfo`] evidence.
//! (Kept here rather than in `net::tls`, which owns the client side.)

use std::path::Path;
use std::pin::Pin;

use openssl::pkey::PKey;
use openssl::ssl::{NameType, Ssl, SslAcceptor, SslMethod};
use openssl::x509::X509;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_openssl::SslStream;

use crate::Error;
use crate::smtp::event::TlsInfo;

/// Build the acceptor: `cert`/`key` PEM files (the chain may follow the leaf in `cert`), or a
/// self-signed certificate for `localhost`, the loopback addresses and `names`.
pub(crate) fn acceptor(
    cert: Option<&Path>,
    key: Option<&Path>,
    names: &[String],
) -> Result<SslAcceptor, Error> {
    let prereq = |e: openssl::error::ErrorStack| Error::Prerequisite(format!("OpenSSL: {e}"));
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).map_err(prereq)?;
    match (cert, key) {
        (Some(cert), Some(key)) => {
            let read = |p: &Path| {
                std::fs::read(p)
                    .map_err(|e| Error::Usage(format!("cannot read {}: {e}", p.display())))
            };
            let chain = X509::stack_from_pem(&read(cert)?).map_err(|e| {
                Error::Usage(format!("{}: not a PEM certificate: {e}", cert.display()))
            })?;
            let mut it = chain.into_iter();
            let leaf = it
                .next()
                .ok_or_else(|| Error::Usage(format!("{}: no certificate found", cert.display())))?;
            let pkey = PKey::private_key_from_pem(&read(key)?).map_err(|e| {
                Error::Usage(format!("{}: not a PEM private key: {e}", key.display()))
            })?;
            b.set_certificate(&leaf).map_err(prereq)?;
            for extra in it {
                b.add_extra_chain_cert(extra).map_err(prereq)?;
            }
            b.set_private_key(&pkey).map_err(prereq)?;
            b.check_private_key().map_err(|e| {
                Error::Usage(format!(
                    "{} does not match the certificate in {}: {e}",
                    key.display(),
                    cert.display()
                ))
            })?;
        }
        (None, None) => {
            let mut sans = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
            for n in names {
                if !n.is_empty() && !sans.contains(n) {
                    sans.push(n.clone());
                }
            }
            let ck = rcgen::generate_simple_self_signed(sans)
                .map_err(|e| Error::Prerequisite(format!("cannot generate a certificate: {e}")))?;
            let x = X509::from_der(ck.cert.der()).map_err(prereq)?;
            let k = PKey::private_key_from_pem(ck.signing_key.serialize_pem().as_bytes())
                .map_err(prereq)?;
            b.set_certificate(&x).map_err(prereq)?;
            b.set_private_key(&k).map_err(prereq)?;
        }
        _ => {
            return Err(Error::Usage(
                "--tls-cert and --tls-key must be given together".into(),
            ));
        }
    }
    Ok(b.build())
}

/// Run the server handshake over `stream`.
pub(crate) async fn accept<S>(
    acc: &SslAcceptor,
    stream: S,
) -> Result<(SslStream<S>, TlsInfo), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let ssl = Ssl::new(acc.context()).map_err(|e| e.to_string())?;
    let mut s = SslStream::new(ssl, stream).map_err(|e| e.to_string())?;
    Pin::new(&mut s).accept().await.map_err(|e| e.to_string())?;
    let x = s.ssl();
    let (cipher, bits) = x
        .current_cipher()
        .map(|c| (c.name().to_string(), c.bits().secret))
        .unwrap_or_default();
    let info = TlsInfo {
        version: x.version_str().to_string(),
        cipher,
        bits,
        sni: x.servername(NameType::HOST_NAME).map(str::to_string),
        ..TlsInfo::default()
    };
    Ok((s, info))
}
