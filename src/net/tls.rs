//! TLS with openssl + tokio-openssl: STARTTLS upgrade and implicit TLS for the client, SNI,
//! verification (CA + host name, computed even when not enforced) and the [`TlsInfo`] evidence.
//!
//! TODO(net helper): implement; the types and signatures are the contract.

use std::path::PathBuf;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_openssl::SslStream;

use crate::smtp::event::TlsInfo;

/// Client TLS settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsParams {
    /// SNI to send (default: the server host name when it is not an IP literal).
    pub sni: Option<String>,
    /// Enforce verification (off with `--insecure`).
    pub verify: bool,
    /// Name to verify the certificate against (default: the host name connected to).
    pub verify_name: Option<String>,
    /// Extra CA file or directory (`--tls-ca-path`).
    pub ca_path: Option<PathBuf>,
}

/// Why TLS failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TlsError {
    /// OpenSSL could not be set up with these settings (bad CA path, …).
    #[error("TLS setup failed: {0}")]
    Setup(String),
    /// The handshake failed.
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
    /// The handshake worked but verification failed and is enforced; the info is still reported.
    #[error("TLS certificate verification failed: {reason}")]
    Verify {
        /// Why.
        reason: String,
        /// What was negotiated (for the transcript).
        info: Box<TlsInfo>,
    },
}

/// Run a client handshake over `stream`. `host` is the name connected to (used for SNI and
/// verification unless overridden in `params`). On success returns the stream and the evidence.
pub async fn connect<S>(
    stream: S,
    host: &str,
    params: &TlsParams,
) -> Result<(SslStream<S>, TlsInfo), TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _ = (stream, host, params);
    todo!("net helper")
}
