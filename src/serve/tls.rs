//! TLS for the embedded server: the certificate it presents, from the user's PEM files
//! (`--tls-cert`/`--tls-key`, the chain may follow the leaf) or a fresh self-signed one, handed
//! to the one server acceptor in `net::tls` (which also runs the handshake).

use std::path::Path;

use openssl::pkey::PKey;
use openssl::ssl::SslAcceptor;
use openssl::x509::X509;

use crate::Error;
use crate::net::tls::{self, TlsError};

/// Build the acceptor: `cert`/`key` PEM files (the chain may follow the leaf in `cert`), or a
/// self-signed certificate for `localhost`, the loopback addresses and `names`. With it, the
/// warning to give at start when the user's certificate is out of its dates (served all the
/// same: an expired certificate is a fault to test clients with).
pub(crate) fn acceptor(
    cert: Option<&Path>,
    key: Option<&Path>,
    names: &[String],
) -> Result<(SslAcceptor, Option<String>), Error> {
    let prereq = |e: TlsError| Error::Prerequisite(format!("OpenSSL: {e}"));
    match (cert, key) {
        (Some(cert), Some(key)) => {
            // Bounded, regular files only, as the send reads its PEM files: a FIFO would block
            // before the server listens (and before its signals are handled), `/dev/zero`
            // would be read until memory runs out.
            let read = |p: &Path| {
                tls::read_bounded(p)
                    .map_err(|e| Error::Usage(format!("cannot read {}: {e}", p.display())))
            };
            let chain = X509::stack_from_pem(&read(cert)?).map_err(|e| {
                Error::Usage(format!("{}: not a PEM certificate: {e}", cert.display()))
            })?;
            let mut it = chain.into_iter();
            let leaf = it
                .next()
                .ok_or_else(|| Error::Usage(format!("{}: no certificate found", cert.display())))?;
            let extra: Vec<X509> = it.collect();
            // The callback variant, as the send loads its key: without one, OpenSSL asks for
            // an encrypted key's pass phrase on the terminal (a start-up that waits for input).
            let pkey = PKey::private_key_from_pem_callback(&read(key)?, |_| Ok(0)).map_err(|_| {
                Error::Usage(format!(
                    "{} holds no usable private key (expected PEM: PKCS#8, PKCS#1 or SEC1; encrypted keys are not supported)",
                    key.display()
                ))
            })?;
            let dates = tls::out_of_dates(&leaf).map(|w| format!("{}: {w}", cert.display()));
            let acceptor = tls::acceptor(&leaf, &extra, &pkey).map_err(|e| match e {
                TlsError::Setup(r) if r.contains("does not match") => Error::Usage(format!(
                    "{} does not match the certificate in {}: {r}",
                    key.display(),
                    cert.display()
                )),
                // The user's file, not a missing prerequisite: bad input (exit 1).
                TlsError::Setup(r) if r.contains("security level") => {
                    Error::Usage(format!("{}: {r}", cert.display()))
                }
                other => prereq(other),
            })?;
            Ok((acceptor, dates))
        }
        (None, None) => {
            let mut sans = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
            for n in names {
                if !n.is_empty() && !sans.contains(n) {
                    sans.push(n.clone());
                }
            }
            let sans: Vec<&str> = sans.iter().map(String::as_str).collect();
            let (x, k) = tls::self_signed(&sans)
                .map_err(|e| Error::Prerequisite(format!("cannot generate a certificate: {e}")))?;
            Ok((tls::acceptor(&x, &[], &k).map_err(prereq)?, None))
        }
        _ => Err(Error::Usage(
            "--tls-cert and --tls-key must be given together".into(),
        )),
    }
}
