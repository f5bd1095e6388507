//! `ehlo serve`: a tokio listener hosting `smtp::server::Session`, with STARTTLS / implicit TLS, AUTH,
//! fault injection and message storage.
//!
//! TODO(serve helper): implement; `ServeOptions` is the contract with the CLI.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::render::Format;

/// Settings of the embedded server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on (default 127.0.0.1:2525; port 0 picks a free one).
    pub listen: SocketAddr,
    /// Implicit TLS on every connection.
    pub tls_on_connect: bool,
    /// Offer STARTTLS.
    pub starttls: bool,
    /// Certificate (PEM); a self-signed one is generated when absent.
    pub cert: Option<PathBuf>,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
    /// Accepted `NAME:PASS` pairs for AUTH PLAIN/LOGIN/CRAM-MD5.
    pub users: Vec<(String, String)>,
    /// Accept any credentials.
    pub accept_any_auth: bool,
    /// Fault specs (`rcpt=550:5.1.1`, `data=452`, `connect=421`, …), validated at start.
    pub faults: Vec<String>,
    /// Delay specs (`cmd:ms`).
    pub delays: Vec<String>,
    /// Extensions not to advertise.
    pub hide: Vec<String>,
    /// LMTP mode (LHLO, one reply per recipient after DATA).
    pub lmtp: bool,
    /// Largest message accepted (SIZE).
    pub max_size: usize,
    /// Store messages in this Maildir.
    pub maildir: Option<PathBuf>,
    /// Append messages to this mbox.
    pub mbox: Option<PathBuf>,
    /// Seed for any randomness.
    pub seed: Option<u64>,
    /// Host name in the banner and EHLO reply.
    pub hostname: String,
    /// Exit after this many sessions (tests).
    pub max_sessions: Option<usize>,
    /// Output.
    pub format: Format,
}

/// Run the server until Ctrl-C (or `max_sessions`), rendering each session. Returns the exit code.
/// TODO(serve helper): implement.
pub async fn run(opts: ServeOptions) -> u8 {
    let _ = opts;
    0
}
