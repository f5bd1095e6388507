//! TLS with openssl + tokio-openssl: STARTTLS upgrade and implicit TLS for the client, SNI,
//! verification (CA + host name, computed even when not enforced) and the [`TlsInfo`] evidence;
//! plus the server side (self-signed certificate, acceptor, accept) for `ehlo serve` and tests.
//!
//! The client always handshakes with `SslVerifyMode::NONE` and judges the result afterwards
//! (posttls-finger style): that way `--insecure` still reports whether the certificate *would*
//! have verified, and an enforced failure can still show what was negotiated.
//!
//! Timeouts are the caller's job: [`connect`] and [`accept`] wait as long as the peer stalls, so
//! wrap them in `tokio::time::timeout`.

use crate::smtp::codes::Hint;
use crate::smtp::event::TlsInfo;

mod connect;
mod diagnose;
mod params;
mod reneg;
mod server;
mod tap;
#[cfg(test)]
pub(crate) mod tests;
mod verify;

pub(crate) use connect::{TlsStream, connect};
pub(crate) use diagnose::{alert_on_read, missing_issuer, server_read_reason, wildcard_miss};
pub(crate) use params::{
    ClientCert, PemOut, TlsParams, TlsSetting, TlsVersion, check, cipher_list_warning, ip_address,
    parse_protocols, read_bounded, sni_name,
};
pub(crate) use reneg::Renegotiation;
pub(crate) use server::{accept, acceptor, out_of_dates, self_signed};
pub(crate) use verify::{
    cert_info, cn_only, cn_only_words, dates_words, match_name, matched_by_cn_alone,
};

/// Why TLS failed.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum TlsError {
    /// OpenSSL could not be set up with these settings (bad CA path, …).
    #[error("TLS setup failed: {0}")]
    Setup(String),
    /// The peer answered the ClientHello with something that is not TLS (a plaintext SMTP
    /// greeting, usually): the reason says what arrived.
    #[error("TLS handshake failed: {reason}")]
    NotTls {
        /// OpenSSL's reason, in words.
        reason: Hint,
        /// The bytes that arrived start like an SMTP greeting (`220 ` or `220-`).
        greeting: bool,
        /// The first of those bytes, escaped (at most 8 of them).
        head: String,
    },
    /// The handshake failed.
    #[error("TLS handshake failed: {0}")]
    Handshake(Hint),
    /// The handshake worked but verification failed and is enforced; the info is still reported.
    #[error("TLS certificate verification failed: {reason}")]
    Verify {
        /// Why, with what to do.
        reason: Hint,
        /// What was negotiated (for the transcript).
        info: Box<TlsInfo>,
    },
    /// TLSA records were given and none authenticated the server (enforced); the info, with the
    /// DANE evidence, is still reported.
    #[error("DANE verification failed: {reason}")]
    Dane {
        /// Why.
        reason: String,
        /// What was negotiated (for the transcript).
        info: Box<TlsInfo>,
    },
}

fn setup<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> TlsError + '_ {
    move |e| TlsError::Setup(format!("{what}: {e}"))
}

/// A random SCRAM client nonce (RFC 5802 §5.1) from OpenSSL's generator, for the plan's
/// credentials (the sans-IO core has no randomness of its own); `None` if it fails.
pub(crate) fn scram_nonce() -> Option<String> {
    let mut b = [0u8; 18];
    openssl::rand::rand_bytes(&mut b).ok()?;
    Some(crate::smtp::auth::scram_nonce(&b))
}
