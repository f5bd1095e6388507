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

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::ssl::{
    Ssl, SslAcceptor, SslContextBuilder, SslMethod, SslMode, SslOptions, SslRef, SslVerifyMode,
    SslVersion, StatusType,
};
use openssl::stack::StackRef;
use openssl::x509::store::X509StoreRef;
use openssl::x509::verify::X509CheckFlags;
use openssl::x509::{X509, X509NameRef, X509Ref, X509StoreContext, X509VerifyResult};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_openssl::SslStream;

use crate::net::dane::{self, Tlsa};
use crate::net::dns::parse_ip_literal;
use crate::net::trust::{self, SystemStore};
use crate::smtp::event::{CertInfo, TlsInfo, VerifyVerdict};

/// Client TLS settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsParams {
    /// SNI to send (default: the server host name when it is not an IP literal).
    pub sni: Option<String>,
    /// Enforce verification (off with `--insecure`).
    pub verify: bool,
    /// Name to verify the certificate against (default: the host name connected to).
    pub verify_name: Option<String>,
    /// The only trusted CAs, a PEM file or directory (`--tls-ca-path`); `None` = the system store.
    pub ca_path: Option<PathBuf>,
    /// Protocol versions allowed (`--tls-protocol`), ascending; `None` = OpenSSL's default.
    pub protocols: Option<Vec<TlsVersion>>,
    /// OpenSSL cipher list for TLS 1.2 and below (`--tls-cipher`).
    pub cipher_list: Option<String>,
    /// TLS 1.3 cipher suites (`--tls-ciphersuites`).
    pub ciphersuites: Option<String>,
    /// Client certificate to present if the server asks (`--tls-cert`/`--tls-key`/`--tls-chain`).
    pub client_cert: Option<ClientCert>,
    /// Where to put the server's leaf certificate (`--tls-get-peer-cert`).
    pub peer_cert_out: Option<PemOut>,
    /// Where to put the server's whole chain as sent (`--tls-get-peer-chain`).
    pub peer_chain_out: Option<PemOut>,
    /// TLSA records to authenticate the server by DANE instead of the CA store (`--tlsa`,
    /// `--tlsa-file`); empty = none.
    pub tlsa: Vec<Tlsa>,
}

impl TlsParams {
    /// Do these settings reach TLS 1.0/1.1 (and so lower OpenSSL's security level)?
    pub fn legacy(&self) -> bool {
        self.protocols
            .as_ref()
            .is_some_and(|p| p.iter().any(|v| *v < TlsVersion::Tls1_2))
    }

    /// Lines worth telling the user before the handshake (what ehlo changed in OpenSSL).
    pub fn notes(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.legacy() {
            v.push(
                "TLS 1.0/1.1 requested: lowering OpenSSL's security level to 0 (@SECLEVEL=0) for this connection; these versions are obsolete (RFC 8996)"
                    .to_string(),
            );
        }
        v
    }
}

/// A TLS protocol version ehlo can negotiate (SSLv2/SSLv3 are gone from OpenSSL 3 builds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    /// TLS 1.0 (RFC 2246), obsolete (RFC 8996).
    Tls1_0,
    /// TLS 1.1 (RFC 4346), obsolete (RFC 8996).
    Tls1_1,
    /// TLS 1.2 (RFC 5246).
    Tls1_2,
    /// TLS 1.3 (RFC 8446).
    Tls1_3,
}

impl TlsVersion {
    const ALL: [TlsVersion; 4] = [
        TlsVersion::Tls1_0,
        TlsVersion::Tls1_1,
        TlsVersion::Tls1_2,
        TlsVersion::Tls1_3,
    ];
    fn ssl(self) -> SslVersion {
        match self {
            TlsVersion::Tls1_0 => SslVersion::TLS1,
            TlsVersion::Tls1_1 => SslVersion::TLS1_1,
            TlsVersion::Tls1_2 => SslVersion::TLS1_2,
            TlsVersion::Tls1_3 => SslVersion::TLS1_3,
        }
    }
    fn no_option(self) -> SslOptions {
        match self {
            TlsVersion::Tls1_0 => SslOptions::NO_TLSV1,
            TlsVersion::Tls1_1 => SslOptions::NO_TLSV1_1,
            TlsVersion::Tls1_2 => SslOptions::NO_TLSV1_2,
            TlsVersion::Tls1_3 => SslOptions::NO_TLSV1_3,
        }
    }
}

/// Parse `--tls-protocol`: an allow list (`tlsv1_2,tlsv1_3`) or a deny list (`no_tlsv1,no_tlsv1_1`),
/// never both. A deny list narrows OpenSSL's default (TLS 1.2 and 1.3); TLS 1.0/1.1 are reached
/// only by naming them in an allow list. Returns the allowed versions, ascending.
pub fn parse_protocols(spec: &str) -> Result<Vec<TlsVersion>, String> {
    let mut allow = Vec::new();
    let mut deny = Vec::new();
    for raw in spec.split(',') {
        let word = raw.trim().to_ascii_lowercase().replace('.', "_");
        if word.is_empty() {
            continue;
        }
        let (negated, name) = match word.strip_prefix("no_") {
            Some(n) => (true, n.to_string()),
            None => (false, word.clone()),
        };
        let v = match name.as_str() {
            "tlsv1" | "tlsv1_0" | "tls1" | "tls1_0" => Some(TlsVersion::Tls1_0),
            "tlsv1_1" | "tls1_1" => Some(TlsVersion::Tls1_1),
            "tlsv1_2" | "tls1_2" => Some(TlsVersion::Tls1_2),
            "tlsv1_3" | "tls1_3" => Some(TlsVersion::Tls1_3),
            "sslv2" | "sslv3" => None,
            _ => {
                return Err(format!(
                    "'{}' is not a protocol (use tlsv1, tlsv1_1, tlsv1_2, tlsv1_3, or no_ before one)",
                    raw.trim()
                ));
            }
        };
        match (negated, v) {
            (false, None) => {
                return Err(format!(
                    "{name} is not supported by this OpenSSL build ({}): SSLv2 and SSLv3 are removed",
                    openssl::version::version()
                ));
            }
            // Denying what cannot be negotiated anyway is harmless (swaks scripts do it).
            (true, None) => deny.push(None),
            (false, Some(v)) => allow.push(v),
            (true, Some(v)) => deny.push(Some(v)),
        }
    }
    if !allow.is_empty() && !deny.is_empty() {
        return Err(
            "mixes an allow list and a deny list (give either tlsv1_2,tlsv1_3 or no_tlsv1,no_tlsv1_1)"
                .into(),
        );
    }
    let mut out: Vec<TlsVersion> = if !allow.is_empty() {
        allow
    } else if !deny.is_empty() {
        [TlsVersion::Tls1_2, TlsVersion::Tls1_3]
            .into_iter()
            .filter(|v| !deny.contains(&Some(*v)))
            .collect()
    } else {
        return Err("names no protocol".into());
    };
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err("denies every version ehlo can use (TLS 1.2 and 1.3)".into());
    }
    Ok(out)
}

/// A client certificate, its key and any intermediate certificates, as PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    /// Certificate (`--tls-cert`); further certificates in the file are sent as the chain.
    pub cert: PathBuf,
    /// Private key (`--tls-key`): PKCS#8, PKCS#1 or SEC1 PEM.
    pub key: PathBuf,
    /// Intermediate certificates (`--tls-chain`).
    pub chain: Option<PathBuf>,
}

/// Where `--tls-get-peer-cert` / `--tls-get-peer-chain` put the PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PemOut {
    /// Into the transcript (`===` lines).
    Transcript,
    /// Into this file.
    File(PathBuf),
}

/// Why TLS failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TlsError {
    /// OpenSSL could not be set up with these settings (bad CA path, …).
    #[error("TLS setup failed: {0}")]
    Setup(String),
    /// The peer answered the ClientHello with something that is not TLS (a plaintext SMTP
    /// greeting, usually): the reason says what arrived.
    #[error("TLS handshake failed: {0}")]
    NotTls(String),
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

/// `X509_V_ERR_HOSTNAME_MISMATCH` and `X509_V_ERR_IP_ADDRESS_MISMATCH` (stable OpenSSL ABI values;
/// the openssl crate has no constants for them).
const HOSTNAME_MISMATCH: i32 = 62;
const IP_ADDRESS_MISMATCH: i32 = 64;

/// Verify results that mean "no trusted issuer found": `X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT`,
/// `X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT` (a self-signed leaf the bundle may hold),
/// `X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN`, `X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY`.
const ISSUER_UNKNOWN: [i32; 4] = [2, 18, 19, 20];

/// Largest certificate/key/CA file we read: PEM bundles are kilobytes; this bounds memory.
const MAX_PEM_FILE: u64 = 4 * 1024 * 1024;

const VERIFY_HINT: &str =
    "use --tls-ca-path FILE if the CA is private, or --insecure to skip verification";

fn setup<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> TlsError + '_ {
    move |e| TlsError::Setup(format!("{what}: {e}"))
}

/// Run a client handshake over `stream`. `host` is the name connected to (used for SNI and
/// verification unless overridden in `params`). On success returns the stream and the evidence.
///
/// No timeout is applied here: a peer that stalls mid-handshake stalls this future, so the
/// caller wraps it in `tokio::time::timeout` (its TLS phase timeout).
pub async fn connect<S>(
    stream: S,
    host: &str,
    params: &TlsParams,
) -> Result<(SslStream<S>, TlsInfo), TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    connect_trusting(stream, host, params, &trust::system_store).await
}

/// [`connect`] with the system trust store located by `system` (tests pass a fake machine's).
async fn connect_trusting<S>(
    stream: S,
    host: &str,
    params: &TlsParams,
    system: &dyn Fn() -> SystemStore,
) -> Result<(SslStream<S>, TlsInfo), TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let host = host.trim().trim_end_matches('.');
    let mut b = client_context().map_err(setup("cannot create the TLS context"))?;
    // Never abort the handshake on a bad certificate: the verdict is computed anyway (the
    // verify_result is filled in under VERIFY_NONE) and enforced below, after the evidence exists.
    b.set_verify(SslVerifyMode::NONE);
    let fallback = install_trust(&mut b, params, system)?;
    configure_versions_and_ciphers(&mut b, params)?;
    if let Some(cc) = &params.client_cert {
        let (cert, key, chain) = load_client_cert(cc)?;
        b.set_certificate(&cert)
            .map_err(setup("cannot use the client certificate"))?;
        let mismatch = |_| {
            TlsError::Setup(format!(
                "--tls-key {} does not belong to --tls-cert {}",
                cc.key.display(),
                cc.cert.display()
            ))
        };
        b.set_private_key(&key).map_err(mismatch)?;
        b.check_private_key().map_err(mismatch)?;
        for c in chain {
            b.add_extra_chain_cert(c)
                .map_err(setup("cannot add a --tls-chain certificate"))?;
        }
    }
    let ctx = b.build();
    // SNI and the verify name are set by hand below: they may differ.
    let mut ssl = Ssl::new(&ctx).map_err(setup("cannot create the TLS session"))?;

    // SNI (RFC 6066 §3) must be a host name, never an IP literal.
    let sni = params
        .sni
        .clone()
        .or_else(|| parse_ip_literal(host).is_none().then(|| host.to_string()))
        .filter(|s| !s.is_empty() && parse_ip_literal(s).is_none());
    if let Some(sni) = &sni {
        ssl.set_hostname(sni)
            .map_err(setup("cannot set the SNI name"))?;
    }

    let checked = params
        .verify_name
        .clone()
        .unwrap_or_else(|| host.to_string());
    let checked = checked.trim_end_matches('.').to_string();
    let checked_ip = parse_ip_literal(&checked);
    let checked = match checked_ip {
        Some(ip) => ip.to_string(),
        None => checked,
    };
    {
        let param = ssl.param_mut();
        param.set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
        match checked_ip {
            Some(ip) => param.set_ip(ip),
            None if !checked.is_empty() => param.set_host(&checked),
            None => Ok(()),
        }
        .map_err(setup("cannot set the name to verify"))?;
    }
    // Ask for a stapled OCSP response (RFC 6066 §8) so the evidence can say whether one came.
    ssl.set_status_type(StatusType::OCSP)
        .map_err(setup("cannot request OCSP stapling"))?;

    let mut s = SslStream::new(ssl, stream).map_err(setup("cannot create the TLS stream"))?;
    if let Err(e) = Pin::new(&mut s).connect().await {
        let reason = handshake_reason(&e);
        return Err(if is_not_tls(&e) {
            TlsError::NotTls(reason)
        } else {
            TlsError::Handshake(reason)
        });
    }

    let mut info = build_info(
        s.ssl(),
        sni,
        &checked,
        checked_ip,
        params.verify,
        fallback.as_ref(),
    );
    // OpenSSL sends the configured certificate exactly when the server's CertificateRequest
    // arrives and fails the handshake otherwise only if the server insists; the openssl crate
    // exposes no hook to observe the request itself, so "sent" means: configured, and the
    // handshake (which would have carried it) completed.
    info.client_cert_sent = params.client_cert.is_some();
    // DANE (RFC 7672 §3): with TLSA records the records authenticate the server, not the CA
    // store; the CA verdict above is still shown.
    if !params.tlsa.is_empty() {
        let chain: Vec<X509> = s
            .ssl()
            .peer_cert_chain()
            .map(|st| st.iter().map(X509Ref::to_owned).collect())
            .unwrap_or_default();
        let names: Vec<String> = [checked.clone()]
            .into_iter()
            .filter(|n| !n.is_empty() && checked_ip.is_none())
            .collect();
        let v = dane::verify(&chain, &params.tlsa, &names, params.verify);
        let failed = params.verify && !v.ok;
        let reason = v.reason.clone().unwrap_or_default();
        info.dane = Some(v);
        if failed {
            return Err(TlsError::Dane {
                reason,
                info: Box::new(info),
            });
        }
        return Ok((s, info));
    }
    if params.verify && !info.verify.ok {
        let reason = explain_failure(&info);
        return Err(TlsError::Verify {
            reason,
            info: Box::new(info),
        });
    }
    Ok((s, info))
}

/// What `SslConnector::builder` sets up (options, modes, cipher list), minus its
/// `set_default_verify_paths`: that parses the whole CA bundle on every run, and a vendored
/// OpenSSL would look under its own OPENSSLDIR anyway. Trust is [`install_trust`]'s job.
fn client_context() -> Result<SslContextBuilder, openssl::error::ErrorStack> {
    let mut b = SslContextBuilder::new(SslMethod::tls_client())?;
    let mut opts = SslOptions::ALL
        | SslOptions::NO_COMPRESSION
        | SslOptions::NO_SSLV2
        | SslOptions::NO_SSLV3
        | SslOptions::SINGLE_DH_USE
        | SslOptions::SINGLE_ECDH_USE;
    opts &= !SslOptions::DONT_INSERT_EMPTY_FRAGMENTS;
    b.set_options(opts);
    b.set_mode(
        SslMode::AUTO_RETRY
            | SslMode::ACCEPT_MOVING_WRITE_BUFFER
            | SslMode::ENABLE_PARTIAL_WRITE
            | SslMode::RELEASE_BUFFERS,
    );
    b.set_cipher_list("DEFAULT:!aNULL:!eNULL:!MD5:!3DES:!DES:!RC4:!IDEA:!SEED:!aDSS:!SRP:!PSK")?;
    Ok(b)
}

/// The bundle to verify against after the handshake if the directory lookup did not know the
/// issuer, with the directory it complements.
struct Fallback {
    dir: Option<String>,
    file: PathBuf,
}

/// Put the trust anchors into the context, as lazily as possible (see `net::trust`): only the
/// `--tls-ca-path` certificates when given; else the system store's hashed directory as a
/// lookup. The system bundle is never parsed here: it is returned as the fallback, consulted
/// after the handshake only if the directory did not know the issuer — always when there is no
/// directory, and with `--insecure` only then (nothing is enforced, so the evidence comes from
/// the directory alone, and an untrusted server costs no bundle parse).
fn install_trust(
    b: &mut SslContextBuilder,
    params: &TlsParams,
    system: &dyn Fn() -> SystemStore,
) -> Result<Option<Fallback>, TlsError> {
    if let Some(path) = &params.ca_path {
        for cert in load_ca_path(path)? {
            // A certificate given twice is harmless; ignore "already in store".
            let _ = b.cert_store_mut().add_cert(cert);
        }
        return Ok(None);
    }
    let store = system();
    if let Some(dir) = &store.dir {
        trust::add_dir(b.cert_store_mut(), dir).map_err(TlsError::Setup)?;
    }
    Ok(store
        .file
        .filter(|_| params.verify || store.dir.is_none())
        .map(|file| Fallback {
            dir: store.dir,
            file,
        }))
}

/// `--tls-protocol`, `--tls-cipher`, `--tls-ciphersuites` onto the context. Legacy versions
/// (TLS 1.0/1.1) need security level 0 in OpenSSL 3 (level 1 forbids them and SHA-1
/// signatures); it is lowered only then.
fn configure_versions_and_ciphers(
    b: &mut SslContextBuilder,
    params: &TlsParams,
) -> Result<(), TlsError> {
    if let Some(list) = &params.cipher_list {
        b.set_cipher_list(list).map_err(|_| {
            TlsError::Setup(format!(
                "--tls-cipher: OpenSSL knows no cipher in '{list}' (see `openssl ciphers`)"
            ))
        })?;
    }
    if let Some(suites) = &params.ciphersuites {
        b.set_ciphersuites(suites).map_err(|_| {
            TlsError::Setup(format!(
                "--tls-ciphersuites: OpenSSL knows no TLS 1.3 suite in '{suites}' (e.g. TLS_AES_128_GCM_SHA256)"
            ))
        })?;
    }
    let Some(allowed) = params.protocols.as_deref().filter(|a| !a.is_empty()) else {
        return Ok(());
    };
    let (min, max) = (allowed[0], allowed[allowed.len() - 1]);
    b.set_min_proto_version(Some(min.ssl()))
        .map_err(setup("--tls-protocol: cannot set the lowest version"))?;
    b.set_max_proto_version(Some(max.ssl()))
        .map_err(setup("--tls-protocol: cannot set the highest version"))?;
    // A gap (tlsv1_1,tlsv1_3): OpenSSL's min/max cannot say it, the NO_ options can.
    for v in TlsVersion::ALL {
        if v > min && v < max && !allowed.contains(&v) {
            b.set_options(v.no_option());
        }
    }
    if params.legacy() {
        b.set_security_level(0);
    }
    Ok(())
}

/// Certificate, key and chain for `--tls-cert`/`--tls-key`/`--tls-chain`: extra certificates
/// after the first in the certificate file count as chain too.
fn load_client_cert(cc: &ClientCert) -> Result<(X509, PKey<Private>, Vec<X509>), TlsError> {
    let (cert, key) = load_cert_key(&cc.cert, &cc.key)?;
    let mut chain: Vec<X509> = read_bounded(&cc.cert)
        .ok()
        .and_then(|pem| X509::stack_from_pem(&pem).ok())
        .unwrap_or_default()
        .into_iter()
        .skip(1)
        .collect();
    if let Some(path) = &cc.chain {
        let pem = read_bounded(path).map_err(|e| {
            TlsError::Setup(format!("cannot read --tls-chain {}: {e}", path.display()))
        })?;
        let certs = X509::stack_from_pem(&pem).unwrap_or_default();
        if certs.is_empty() {
            return Err(TlsError::Setup(format!(
                "--tls-chain {} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
                path.display()
            )));
        }
        chain.extend(certs);
    }
    Ok((cert, key, chain))
}

/// Did the handshake fail because the peer does not speak TLS at all? Judged by OpenSSL's
/// reason *codes* (stable across versions), not its wording.
fn is_not_tls(e: &openssl::ssl::Error) -> bool {
    // SSL_R_WRONG_VERSION_NUMBER, SSL_R_PACKET_LENGTH_TOO_LONG, SSL_R_UNKNOWN_PROTOCOL,
    // SSL_R_HTTP_REQUEST, and SSL_R_RECORD_LAYER_FAILURE (what OpenSSL 3.2+ may report).
    const CODES: [i32; 5] = [267, 198, 252, 156, 313];
    e.ssl_error()
        .is_some_and(|st| st.errors().iter().any(|x| CODES.contains(&x.reason_code())))
}

/// Read the extra trust anchors: a PEM file (one or more certificates) or a directory whose
/// files hold PEM certificates (hashed `c_rehash` names are not required).
fn load_ca_path(path: &Path) -> Result<Vec<X509>, TlsError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| TlsError::Setup(format!("cannot read CA path {}: {e}", path.display())))?;
    let mut certs = Vec::new();
    if meta.is_dir() {
        let dir = std::fs::read_dir(path)
            .map_err(|e| TlsError::Setup(format!("cannot list {}: {e}", path.display())))?;
        for entry in dir.flatten() {
            let p = entry.path();
            if let Ok(pem) = read_bounded(&p) {
                certs.extend(X509::stack_from_pem(&pem).unwrap_or_default());
            }
        }
    } else {
        let pem = read_bounded(path)
            .map_err(|e| TlsError::Setup(format!("cannot read CA file {}: {e}", path.display())))?;
        certs = X509::stack_from_pem(&pem).unwrap_or_default();
    }
    if certs.is_empty() {
        return Err(TlsError::Setup(format!(
            "{} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}

fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > MAX_PEM_FILE {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB",
            MAX_PEM_FILE / 1024 / 1024
        )));
    }
    std::fs::read(path)
}

/// Collect the evidence after a successful handshake.
fn build_info(
    ssl: &SslRef,
    sni: Option<String>,
    checked: &str,
    checked_ip: Option<IpAddr>,
    enforced: bool,
    fallback: Option<&Fallback>,
) -> TlsInfo {
    let (cipher, bits) = ssl
        .current_cipher()
        .map(|c| (c.name().to_string(), c.bits().secret))
        .unwrap_or_default();
    let chain: Vec<CertInfo> = ssl
        .peer_cert_chain()
        .map(|st| st.iter().map(cert_info).collect())
        .unwrap_or_default();
    let verify = verdict(ssl, checked, checked_ip, enforced, fallback);
    TlsInfo {
        version: ssl.version_str().to_string(),
        cipher,
        bits,
        sni,
        chain,
        verify,
        client_cert_sent: false,
        ocsp_stapled: ssl.ocsp_status().is_some(),
        dane: None,
    }
}

fn verdict(
    ssl: &SslRef,
    checked: &str,
    checked_ip: Option<IpAddr>,
    enforced: bool,
    fallback: Option<&Fallback>,
) -> VerifyVerdict {
    let checked_name = (!checked.is_empty()).then(|| checked.to_string());
    let Some(leaf) = ssl.peer_certificate() else {
        return VerifyVerdict {
            ok: false,
            enforced,
            checked_name,
            reason: Some("the server sent no certificate".into()),
            ..Default::default()
        };
    };
    let matched = if checked.is_empty() {
        None
    } else {
        match_name(&leaf, checked, checked_ip)
    };
    let name_ok = matched.is_some();

    // OpenSSL reports only the first error, and it checks the name *before* signatures and
    // validity dates: a name mismatch can hide an expired or untrusted chain. So on a name error
    // verify the chain again without a name to get the chain's own verdict.
    let vr = ssl.verify_result();
    let chain_result = match vr.as_raw() {
        HOSTNAME_MISMATCH | IP_ADDRESS_MISMATCH => ssl
            .peer_cert_chain()
            .and_then(|chain| reverify_chain(ssl.ssl_context().cert_store(), &leaf, chain))
            .unwrap_or(vr),
        _ => vr,
    };
    // The issuer was not in the hashed directory: now (and only now) try the whole bundle.
    let chain_result = match fallback {
        Some(fb) if ISSUER_UNKNOWN.contains(&chain_result.as_raw()) => {
            trust::fallback_store(fb.dir.as_deref(), &fb.file)
                .ok()
                .and_then(|store| {
                    ssl.peer_cert_chain()
                        .and_then(|chain| reverify_chain(&store, &leaf, chain))
                })
                .unwrap_or(chain_result)
        }
        _ => chain_result,
    };
    let chain_ok = chain_result == X509VerifyResult::OK;
    let ok = chain_ok && name_ok;
    let reason = if !chain_ok {
        Some(chain_result.error_string().to_string())
    } else if !name_ok {
        Some(if checked_ip.is_some() {
            "IP address mismatch".to_string()
        } else {
            "hostname mismatch".to_string()
        })
    } else {
        None
    };
    VerifyVerdict {
        ok,
        enforced,
        checked_name,
        chain_ok,
        name_ok,
        matched,
        reason,
    }
}

/// Verify `leaf` + `chain` against `store` with no name check; `None` if OpenSSL itself failed.
fn reverify_chain(
    store: &X509StoreRef,
    leaf: &X509Ref,
    chain: &StackRef<X509>,
) -> Option<X509VerifyResult> {
    let mut ctx = X509StoreContext::new().ok()?;
    ctx.init(store, leaf, chain, |c| {
        c.verify_cert()?;
        Ok(c.error())
    })
    .ok()
}

/// Which SAN (or CN) of `cert` matches `name`, per RFC 6125 §6.4: IP names match only `IP:` SANs;
/// host names match `DNS:` SANs, and the subject CN only when there is no `DNS:` SAN (what
/// OpenSSL does too). Returned as `DNS:pattern`, `IP:addr` or `CN=pattern`.
pub fn match_name(cert: &X509Ref, name: &str, ip: Option<IpAddr>) -> Option<String> {
    let sans = cert.subject_alt_names();
    if let Some(ip) = ip {
        return sans?
            .iter()
            .filter_map(|g| g.ipaddress().and_then(ip_from_bytes))
            .find(|a| *a == ip)
            .map(|a| format!("IP:{a}"));
    }
    let dns: Vec<String> = sans
        .map(|s| {
            s.iter()
                .filter_map(|g| g.dnsname().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if !dns.is_empty() {
        return dns
            .into_iter()
            .find(|p| dns_name_matches(p, name))
            .map(|p| format!("DNS:{p}"));
    }
    cert.subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .filter_map(|e| e.data().to_string().ok())
        .find(|p| dns_name_matches(p, name))
        .map(|p| format!("CN={p}"))
}

/// RFC 6125 §6.4.3 matching: case-insensitive, trailing dots ignored, and a wildcard only as the
/// whole left-most label (`*.example.com` matches `a.example.com`, not `example.com` nor
/// `a.b.example.com`); partial wildcards (`f*.example.com`) and wildcards over fewer than two
/// labels (`*.com`) never match, as with OpenSSL's `NO_PARTIAL_WILDCARDS`.
pub fn dns_name_matches(pattern: &str, name: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    if p.is_empty() || n.is_empty() {
        return false;
    }
    if let Some(rest) = p.strip_prefix("*.") {
        if !rest.contains('.') || rest.contains('*') {
            return false;
        }
        return match n.split_once('.') {
            Some((label, tail)) => !label.is_empty() && tail == rest,
            None => false,
        };
    }
    !p.contains('*') && p == n
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(b).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(b).ok()?)),
        _ => None,
    }
}

/// One certificate as evidence.
pub fn cert_info(cert: &X509Ref) -> CertInfo {
    let sans = cert
        .subject_alt_names()
        .map(|st| {
            st.iter()
                .filter_map(|g| {
                    if let Some(d) = g.dnsname() {
                        Some(format!("DNS:{d}"))
                    } else if let Some(ip) = g.ipaddress() {
                        ip_from_bytes(ip).map(|a| format!("IP:{a}"))
                    } else if let Some(e) = g.email() {
                        Some(format!("email:{e}"))
                    } else {
                        g.uri().map(|u| format!("URI:{u}"))
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let sha256 = cert
        .digest(MessageDigest::sha256())
        .map(|d| {
            d.iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(":")
        })
        .unwrap_or_default();
    CertInfo {
        subject: name_str(cert.subject_name()),
        issuer: name_str(cert.issuer_name()),
        sans,
        not_before: rfc3339(cert.not_before()),
        not_after: rfc3339(cert.not_after()),
        days_left: days_left(cert.not_after()),
        sha256,
        pem: cert
            .to_pem()
            .ok()
            .and_then(|p| String::from_utf8(p).ok())
            .unwrap_or_default(),
    }
}

/// `/CN=…/O=…`, the `openssl x509 -subject` legacy form.
fn name_str(name: &X509NameRef) -> String {
    let mut out = String::new();
    for e in name.entries() {
        let key = e
            .object()
            .nid()
            .short_name()
            .map(str::to_string)
            .unwrap_or_else(|_| e.object().to_string());
        let val = e
            .data()
            .to_string()
            .unwrap_or_else(|_| String::from_utf8_lossy(e.data().as_slice()).into_owned());
        out.push('/');
        out.push_str(&key);
        out.push('=');
        out.push_str(&val);
    }
    out
}

/// Seconds since the Unix epoch, via `ASN1_TIME_diff` (no clock or date parsing needed).
fn unix_seconds(t: &Asn1TimeRef) -> Option<i64> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let d = epoch.diff(t).ok()?;
    Some(i64::from(d.days) * 86_400 + i64::from(d.secs))
}

/// RFC 3339 UTC (`2027-01-01T00:00:00Z`); OpenSSL's own display (`Jan  1 00:00:00 2027 GMT`) as a
/// fallback should the conversion ever fail.
fn rfc3339(t: &Asn1TimeRef) -> String {
    unix_seconds(t)
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

/// Whole days from now until `t`, rounded down (so negative as soon as it has expired).
fn days_left(t: &Asn1TimeRef) -> i64 {
    let Ok(now) = Asn1Time::days_from_now(0) else {
        return 0;
    };
    match now.diff(t) {
        Ok(d) => (i64::from(d.days) * 86_400 + i64::from(d.secs)).div_euclid(86_400),
        Err(_) => 0,
    }
}

/// One line: what failed, why it matters, and what to do.
fn explain_failure(info: &TlsInfo) -> String {
    let v = &info.verify;
    let leaf = info.chain.first();
    let reason = v
        .reason
        .clone()
        .unwrap_or_else(|| "verification failed".into());
    let why = if !v.chain_ok {
        // Codes are not kept in the verdict; recognise the texts OpenSSL 3 uses.
        match reason.as_str() {
            "self-signed certificate" | "self signed certificate" => {
                "the server presented a self-signed certificate".to_string()
            }
            "self-signed certificate in certificate chain"
            | "self signed certificate in certificate chain" => {
                "the chain ends in a root that is not in the trust store".to_string()
            }
            "unable to get local issuer certificate" | "unable to verify the first certificate" => {
                "the issuer is not in the trust store (a private CA, or the server omits an intermediate certificate)".to_string()
            }
            "certificate has expired" => format!(
                "the certificate expired on {}",
                leaf.map(|c| c.not_after.as_str()).unwrap_or("?")
            ),
            "certificate is not yet valid" => format!(
                "the certificate is not valid before {}",
                leaf.map(|c| c.not_before.as_str()).unwrap_or("?")
            ),
            _ => String::new(),
        }
    } else {
        let names = leaf.map(|c| c.sans.join(", ")).unwrap_or_default();
        format!(
            "the certificate is not valid for {} (it names {})",
            v.checked_name.as_deref().unwrap_or("?"),
            if names.is_empty() {
                leaf.map(|c| c.subject.as_str()).unwrap_or("nothing")
            } else {
                &names
            }
        )
    };
    // The chain is trusted and only the name is wrong (typically: connected by IP address, or
    // by an alias): a CA file would change nothing; the name to connect by or check is the fix.
    let hint = if v.chain_ok && !v.name_ok {
        let named = leaf
            .and_then(|c| c.sans.iter().find_map(|s| s.strip_prefix("DNS:")))
            .filter(|n| !n.starts_with('*'))
            .unwrap_or("NAME");
        format!(
            "connect by a name the certificate holds (e.g. --server {named}), or check it \
             against that name with --tls-verify-target {named}; --insecure skips verification"
        )
    } else {
        VERIFY_HINT.to_string()
    };
    if why.is_empty() {
        format!("{reason} ({hint})")
    } else {
        format!("{reason}: {why} ({hint})")
    }
}

/// OpenSSL's handshake error made readable: the library's reason plus what it usually means.
fn handshake_reason(e: &openssl::ssl::Error) -> String {
    if let Some(io) = e.io_error() {
        return match io.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                "the peer closed the connection during the handshake".into()
            }
            std::io::ErrorKind::BrokenPipe
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted => {
                format!("the peer closed the connection during the handshake ({io})")
            }
            _ => format!("I/O error: {io}"),
        };
    }
    let reason = e
        .ssl_error()
        .and_then(|st| st.errors().iter().find_map(|x| x.reason()))
        .map(str::to_string);
    let Some(reason) = reason else {
        // SSL_ERROR_SYSCALL with nothing queued: the transport hit EOF.
        return if e.code() == openssl::ssl::ErrorCode::SYSCALL {
            "the peer closed the connection during the handshake".into()
        } else {
            e.to_string()
        };
    };
    // OpenSSL 3.2 renamed the alert reasons "sslv3 alert …" to "ssl/tls alert …": one spelling.
    let key = match reason.strip_prefix("ssl/tls alert ") {
        Some(rest) => format!("sslv3 alert {rest}"),
        None => reason.clone(),
    };
    let hint = match key.as_str() {
        "wrong version number"
        | "packet length too long"
        | "record layer failure"
        | "http request"
        | "unknown protocol" => Some(
            "the peer did not speak TLS (a plaintext port? ports 25 and 587 use STARTTLS, 465 implicit TLS)",
        ),
        "unexpected eof while reading" => {
            Some("the peer closed the connection during the handshake")
        }
        "unsupported protocol" | "tlsv1 alert protocol version" => Some(
            "no TLS version in common (the server may only offer TLS 1.0/1.1, which this OpenSSL refuses by default)",
        ),
        "legacy sigalg disallowed or unsupported" => {
            Some("the server needs a legacy signature algorithm that OpenSSL 3 disables by default")
        }
        "sslv3 alert handshake failure" => Some(
            "the server rejected the handshake: no cipher or version in common, or it requires a client certificate (--tls-cert/--tls-key)",
        ),
        "no shared cipher" | "no cipher match" => {
            Some("the server rejected the handshake: no cipher or version in common")
        }
        "tlsv13 alert certificate required" | "sslv3 alert bad certificate" => {
            Some("the server wants a client certificate (--tls-cert/--tls-key)")
        }
        "tlsv1 alert unrecognized name" => Some("the server does not know the SNI name sent"),
        "tlsv1 alert internal error" => Some("the server hit an internal error"),
        _ => None,
    };
    match hint {
        Some(h) if h != reason => format!("{reason}: {h}"),
        _ => reason,
    }
}

/// A read on an established TLS stream failed because the server sent a TLS alert: TLS 1.3
/// servers refuse a missing or unacceptable client certificate only *after* the client finished
/// its handshake, so the refusal arrives with the first read. The readable reason, or `None` for
/// ordinary I/O errors.
pub fn alert_on_read(e: &std::io::Error) -> Option<String> {
    let ssl = e.get_ref()?.downcast_ref::<openssl::ssl::Error>()?;
    let alert = ssl.ssl_error().is_some_and(|st| {
        st.errors()
            .iter()
            .any(|x| x.reason().is_some_and(|r| r.contains("alert")))
    });
    alert.then(|| handshake_reason(ssl))
}

/// Recognise a TLS record header (RFC 8446 §5.1: content type, then legacy version 0x03 0x0N) at
/// the start of what should have been a plaintext SMTP greeting, and say what it means.
pub fn inspect_first_bytes(bytes: &[u8]) -> Option<&'static str> {
    let (&ty, rest) = bytes.split_first()?;
    if rest.first() != Some(&0x03) {
        return None;
    }
    // A known minor version when we have it (SSL 3.0 … TLS 1.3's legacy 0x0303).
    if rest.get(1).is_some_and(|&minor| minor > 0x04) {
        return None;
    }
    match ty {
        0x16 => Some(
            "the server sent a TLS handshake instead of an SMTP greeting: this port expects TLS from the first byte (implicit TLS, usually port 465); use --tls-on-connect",
        ),
        0x15 => Some(
            "the server sent a TLS alert instead of an SMTP greeting: it expects TLS from the first byte (implicit TLS, usually port 465); use --tls-on-connect",
        ),
        _ => None,
    }
}

/// A self-signed certificate for `names` (DNS names or IP addresses) and its key, for the
/// embedded server and tests. ECDSA P-256, valid until 4096 (rcgen defaults).
pub fn self_signed(names: &[&str]) -> Result<(X509, PKey<Private>), TlsError> {
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
pub fn acceptor(
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
    b.set_private_key(key)
        .map_err(setup("cannot use the private key"))?;
    b.check_private_key()
        .map_err(|_| TlsError::Setup("the private key does not match the certificate".into()))?;
    Ok(b.build())
}

/// Run a server handshake over `stream`: the stream and what was negotiated (version, cipher,
/// the SNI the client sent). Like [`connect`], it applies no timeout of its own.
pub async fn accept<S>(
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
        .map_err(|e| TlsError::Handshake(handshake_reason(&e)))?;
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
pub fn load_cert_key(cert: &Path, key: &Path) -> Result<(X509, PKey<Private>), TlsError> {
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

/// A random SCRAM client nonce (RFC 5802 §5.1) from OpenSSL's generator, for the plan's
/// credentials (the sans-IO core has no randomness of its own); `None` if it fails.
pub fn scram_nonce() -> Option<String> {
    let mut b = [0u8; 18];
    openssl::rand::rand_bytes(&mut b).ok()?;
    Some(crate::smtp::auth::scram_nonce(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
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
    ) -> Result<(SslStream<DuplexStream>, TlsInfo), TlsError> {
        handshake_trusting(cert, key, host, p, &trust::system_store).await
    }

    /// [`handshake`] with the system store located by `system`.
    async fn handshake_trusting(
        cert: &X509,
        key: &PKey<Private>,
        host: &str,
        p: &TlsParams,
        system: &dyn Fn() -> SystemStore,
    ) -> Result<(SslStream<DuplexStream>, TlsInfo), TlsError> {
        let acc = acceptor(cert, &[], key).unwrap();
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
            connect_trusting(c, host, p, system),
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
        let ca =
            rcgen::CertifiedIssuer::self_signed(cp, rcgen::KeyPair::generate().unwrap()).unwrap();
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
        // …which --insecure skips (nothing enforced: the directory alone gives the evidence).
        let (_, info) = handshake_trusting(&leaf, &key, "localhost", &params(false), &system)
            .await
            .unwrap();
        assert!(!info.verify.chain_ok, "{:?}", info.verify);

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
        let err = connect(c, "localhost", &params(false)).await.unwrap_err();
        let TlsError::NotTls(reason) = &err else {
            panic!("expected NotTls, got {err:?}")
        };
        assert!(reason.contains("did not speak TLS"), "{reason}");
        peer.abort();
    }

    #[tokio::test]
    async fn peer_closing_is_a_handshake_error() {
        // Closed before the ClientHello could be written…
        let (c, s) = duplex(4096);
        drop(s);
        let err = connect(c, "localhost", &params(false)).await.unwrap_err();
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
        let err = connect(c, "localhost", &params(false)).await.unwrap_err();
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
            connect(c, "localhost", &params(false)),
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
                connect(c2, "localhost", &p).await,
                Err(TlsError::Setup(_))
            ));
        }
        drop(c);
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
        Result<(SslStream<DuplexStream>, TlsInfo), TlsError>,
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
                .map_err(|e| TlsError::Handshake(e.to_string()))?;
            Ok::<(), TlsError>(())
        });
        let r = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            connect(c, "localhost", p),
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
            let e = connect(c, "localhost", &p).await.unwrap_err();
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
            assert!(info.client_cert_sent);
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
        let e = connect(c, "localhost", &p).await.unwrap_err();
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
        let e = connect(c, "localhost", &p).await.unwrap_err();
        assert!(
            matches!(&e, TlsError::Setup(r) if r.contains("--tls-chain")),
            "{e:?}"
        );
    }

    #[test]
    fn first_bytes_tls_detection() {
        assert!(
            inspect_first_bytes(&[0x16, 0x03, 0x03, 0x00, 0x7a])
                .unwrap()
                .contains("--tls-on-connect")
        );
        assert!(
            inspect_first_bytes(&[0x15, 0x03, 0x01, 0x00, 0x02])
                .unwrap()
                .contains("alert")
        );
        assert!(inspect_first_bytes(&[0x16, 0x03]).is_some());
        assert_eq!(inspect_first_bytes(b"220 mx ESMTP\r\n"), None);
        assert_eq!(inspect_first_bytes(&[0x16, 0x03, 0x09]), None);
        assert_eq!(inspect_first_bytes(&[0x17, 0x03, 0x03]), None);
        assert_eq!(inspect_first_bytes(&[0x16]), None);
        assert_eq!(inspect_first_bytes(&[]), None);
    }
}
