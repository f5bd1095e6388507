//! SASL mechanisms for AUTH (RFC 4954) as small sans-IO sub-machines, and the [`Secret`] type that
//! keeps credentials out of every output.
//!
//! TODO(auth helper): implement the mechanisms; the types and signatures are the contract.

/// A credential that never prints: `Debug` and `Display` show only its length.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself: call only where it goes on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Empty?
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<{} bytes>)", self.0.len())
    }
}

/// Replace every byte of a secret's display form with `*`, keeping its length.
pub fn mask(text: &str) -> String {
    "*".repeat(text.chars().count())
}

/// What the user gave us to authenticate with.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// Authentication identity (user name).
    pub user: String,
    /// Password (PLAIN, LOGIN, CRAM-MD5, SCRAM).
    pub password: Option<Secret>,
    /// OAuth 2.0 bearer token (XOAUTH2, OAUTHBEARER).
    pub token: Option<Secret>,
    /// Authorisation identity (PLAIN authzid, SCRAM a=), if any.
    pub authzid: Option<String>,
    /// Host name for OAUTHBEARER's `host=` (optional).
    pub host: Option<String>,
    /// Port for OAUTHBEARER's `port=` (optional).
    pub port: Option<u16>,
    /// Client nonce for SCRAM (random, filled in by the caller: the core has no randomness).
    pub nonce: Option<String>,
}

/// One client response in a SASL exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Raw (not yet base64) bytes to send.
    pub data: Vec<u8>,
    /// Decoded form for `--auth-plaintext`, secrets replaced by `*` of the same length.
    pub display: String,
    /// Does `data` contain a secret (so its base64 must be masked in every output)?
    pub secret: bool,
}

/// Why a mechanism could not go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The server's challenge was not valid base64.
    #[error("server challenge is not valid base64: {0}")]
    BadBase64(String),
    /// The challenge made no sense for this mechanism.
    #[error("unexpected challenge for {mechanism}: {detail}")]
    BadChallenge {
        /// Mechanism.
        mechanism: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A credential the mechanism needs is missing.
    #[error("{mechanism} needs {what}")]
    Missing {
        /// Mechanism.
        mechanism: &'static str,
        /// "a password", "a token".
        what: &'static str,
    },
    /// SCRAM: the server's signature did not verify — the server does not know the password.
    #[error("server signature did not verify (the server may be an impostor)")]
    ServerSignature,
    /// More challenges than the mechanism can have.
    #[error("too many challenges for {0}")]
    TooManySteps(&'static str),
}

/// A SASL client mechanism as a sub-state-machine.
pub trait Mechanism: Send {
    /// IANA name (`PLAIN`, `LOGIN`, `CRAM-MD5`, `XOAUTH2`, `OAUTHBEARER`, `SCRAM-SHA-256`).
    fn name(&self) -> &'static str;
    /// The initial response to send with the AUTH command, if the mechanism has one.
    fn initial_response(&mut self) -> Option<Step>;
    /// Answer one 334 challenge (already base64-decoded).
    fn respond(&mut self, challenge: &[u8]) -> Result<Step, AuthError>;
    /// The server said 235; `data` is any final server data (SCRAM's `v=`). Verify it.
    fn finish(&mut self, data: Option<&[u8]>) -> Result<(), AuthError> {
        let _ = data;
        Ok(())
    }
}

/// Mechanisms ehlo implements, strongest first (the order tried when none is named).
pub const SUPPORTED: &[&str] = &[
    "SCRAM-SHA-256",
    "CRAM-MD5",
    "PLAIN",
    "LOGIN",
    "XOAUTH2",
    "OAUTHBEARER",
];

/// Build a mechanism by (case-insensitive) name, or `None` if ehlo does not implement it.
pub fn mechanism(name: &str, creds: &Credentials) -> Option<Box<dyn Mechanism>> {
    let _ = (name, creds);
    None
}
