//! Client TLS settings (`TlsParams`, `--tls-protocol`, client certificates) and how they set up
//! an OpenSSL context: options, versions and ciphers, trust anchors, certificate files; and
//! `check`, the same set-up tried before connecting so that unusable inputs are usage errors.

use std::path::{Path, PathBuf};

use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions, SslVersion};
use openssl::x509::X509;

use super::TlsError;
use super::server::load_cert_key;
use crate::net::trust::{self, SystemStore};

/// Client TLS settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct TlsParams {
    /// SNI to send (default: the server host name when it is not an IP literal).
    pub(crate) sni: Option<String>,
    /// Enforce verification (off with `--insecure`).
    pub(crate) verify: bool,
    /// Enforce only this part of it (`--tls-verify-ca` / `--tls-verify-host` alone); `None` =
    /// the chain and the name.
    pub(crate) verify_only: Option<crate::smtp::event::VerifyPart>,
    /// Name to verify the certificate against (default: the host name connected to).
    pub(crate) verify_name: Option<String>,
    /// The only trusted CAs, a PEM file or directory (`--tls-ca-path`); `None` = the system store.
    pub(crate) ca_path: Option<PathBuf>,
    /// Protocol versions allowed (`--tls-protocol`), ascending; `None` = OpenSSL's default.
    pub(crate) protocols: Option<Vec<TlsVersion>>,
    /// Said after the remedy naming `--tls-protocol` inside its brackets, when the versions
    /// allowed leave none the server offers: where the flag was set when that was below the
    /// command line (`, set by EHLO_TLS_PROTOCOL in the environment`), else empty.
    pub(crate) protocols_note: String,
    /// OpenSSL cipher list for TLS 1.2 and below (`--tls-cipher`).
    pub(crate) cipher_list: Option<String>,
    /// TLS 1.3 cipher suites (`--tls-ciphersuites`).
    pub(crate) ciphersuites: Option<String>,
    /// Client certificate to present if the server asks (`--tls-cert`/`--tls-key`/`--tls-chain`).
    pub(crate) client_cert: Option<ClientCert>,
    /// Where to put the server's leaf certificate (`--tls-get-peer-cert`).
    pub(crate) peer_cert_out: Option<PemOut>,
    /// Where to put the server's whole chain as sent (`--tls-get-peer-chain`).
    pub(crate) peer_chain_out: Option<PemOut>,
    /// TLSA records to authenticate the server by DANE instead of the CA store (`--tlsa`,
    /// `--tlsa-file`); empty = none.
    pub(crate) tlsa: Vec<crate::net::dane::Tlsa>,
    /// Reference names a DANE-TA leaf may carry besides the name verified (RFC 7672 §3.2.3):
    /// the next-hop domain when the route came from its MX records.
    pub(crate) dane_names: Vec<String>,
    /// `--tls-verify dane` found a secure TLSA RRset with no usable record: TLS is mandatory
    /// but unauthenticated (RFC 7672 §3.1.3), `verify` is off and the verdict says why.
    pub(crate) dane_unusable: bool,
    /// The connection has no host name (`--socket`, `--pipe`): `localhost` stands in for SNI
    /// and the name check, so a name mismatch is mended by the name to verify, never by
    /// connecting by another name. Set by the connection layer.
    pub(crate) stand_in_host: bool,
}

impl TlsParams {
    /// Do these settings reach TLS 1.0/1.1 (and so lower OpenSSL's security level)?
    pub(crate) fn legacy(&self) -> bool {
        self.protocols
            .as_ref()
            .is_some_and(|p| p.iter().any(|v| *v < TlsVersion::Tls1_2))
    }

    /// Lines worth telling the user before the handshake (what ehlo changed in OpenSSL).
    pub(crate) fn notes(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.legacy() {
            v.push(
                "TLS 1.0/1.1 requested: lowering OpenSSL's security level to 0 (@SECLEVEL=0) for this connection's handshake (the certificate is still verified at the usual level); these versions are obsolete (RFC 8996)"
                    .to_string(),
            );
        }
        v
    }
}

/// A TLS protocol version ehlo can negotiate (SSLv2/SSLv3 are gone from OpenSSL 3 builds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TlsVersion {
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
    /// The `--tls-protocol` spelling.
    pub(super) fn name(self) -> &'static str {
        match self {
            TlsVersion::Tls1_0 => "tlsv1",
            TlsVersion::Tls1_1 => "tlsv1_1",
            TlsVersion::Tls1_2 => "tlsv1_2",
            TlsVersion::Tls1_3 => "tlsv1_3",
        }
    }
}

/// Which TLS setting a message is about. The net layer names no flags: the words for each
/// (the flag a user gave, `--tls-cipher`…) are the command line's, in `cli` (its `Display`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsSetting {
    /// The extra trust anchors.
    CaPath,
    /// The protocol versions allowed.
    Protocol,
    /// The cipher list for TLS 1.2 and below.
    Cipher,
    /// The TLS 1.3 cipher suites.
    Ciphersuites,
    /// The client certificate.
    Cert,
    /// The client certificate's private key.
    Key,
    /// The client certificate's intermediates.
    Chain,
}

impl TlsSetting {
    /// Every setting.
    pub(crate) const ALL: [TlsSetting; 7] = [
        TlsSetting::CaPath,
        TlsSetting::Protocol,
        TlsSetting::Cipher,
        TlsSetting::Ciphersuites,
        TlsSetting::Cert,
        TlsSetting::Key,
        TlsSetting::Chain,
    ];
}

/// A setup failure about `s`: "SETTING: what: error".
fn setting(s: TlsSetting, what: &str, e: impl std::fmt::Display) -> TlsError {
    TlsError::Setup(format!("{s}: {what}: {e}"))
}

/// Parse `--tls-protocol`: an allow list (`tlsv1_2,tlsv1_3`) or a deny list (`no_tlsv1,no_tlsv1_1`),
/// never both. A deny list narrows OpenSSL's default (TLS 1.2 and 1.3); TLS 1.0/1.1 are reached
/// only by naming them in an allow list. The versions must be contiguous: OpenSSL negotiates
/// within one range (lowest to highest) and, given a gap (`tlsv1_1,tlsv1_3`), uses only the
/// lowest run of it, silently. Returns the allowed versions, ascending.
pub(crate) fn parse_protocols(spec: &str) -> Result<Vec<TlsVersion>, String> {
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
    let (lowest, highest) = (out[0], out[out.len() - 1]);
    let between: Vec<TlsVersion> = TlsVersion::ALL
        .into_iter()
        .filter(|v| *v >= lowest && *v <= highest)
        .collect();
    if between.len() != out.len() {
        let names = |v: &[TlsVersion]| v.iter().map(|v| v.name()).collect::<Vec<_>>().join(",");
        let missing: Vec<TlsVersion> = between
            .iter()
            .copied()
            .filter(|v| !out.contains(v))
            .collect();
        return Err(format!(
            "{} leaves out {} in between: OpenSSL negotiates one range of versions, so give {} (or fewer at either end)",
            names(&out),
            names(&missing),
            names(&between)
        ));
    }
    Ok(out)
}

/// Check a name given for SNI (`--tls-sni`, `:starttls --sni`): RFC 6066 §3 sends a DNS host
/// name, "represented as a byte string using ASCII encoding without a trailing dot", so the
/// trailing dot is dropped, and a name that is not ASCII (an IDN is sent as its A-label,
/// RFC 5890 §2.3.2.1), holds a character no host name has, or passes the lengths of
/// RFC 1035 §2.3.4 (253 octets, 63 a label) is refused: OpenSSL would send it as it is, or
/// refuse it only after STARTTLS. An empty name stays empty (no SNI). An IP address, IPv4 or
/// IPv6 (`::1`, `[::1]`), is kept as given: it is never sent ("Literal IPv4 and IPv6 addresses
/// are not permitted", RFC 6066 §3), and the send says so before connecting.
pub(crate) fn sni_name(name: &str) -> Result<String, String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if ip_address(trimmed) {
        return Ok(trimmed.to_string());
    }
    let shown = name.escape_debug();
    if !trimmed.is_ascii() {
        return Err(format!(
            "'{shown}' is not an ASCII host name: SNI carries an internationalized name as its A-label (xn--…, RFC 6066 §3)"
        ));
    }
    if let Some(c) = trimmed
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!(
            "'{shown}' is not a host name: {:?} is not allowed in one (RFC 6066 §3)",
            c
        ));
    }
    if trimmed.len() > 253 || trimmed.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return Err(format!(
            "'{shown}' is not a host name: at most 253 characters, labels of 1 to 63 (RFC 1035 §2.3.4)"
        ));
    }
    Ok(trimmed.to_string())
}

/// Is `s` an IP address as written on a command line: IPv4, IPv6, or IPv6 in brackets?
pub(crate) fn ip_address(s: &str) -> bool {
    let inner = s
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .filter(|v| v.contains(':'))
        .unwrap_or(s);
    inner.parse::<std::net::IpAddr>().is_ok()
}

/// A client certificate, its key and any intermediate certificates, as PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientCert {
    /// Certificate (`--tls-cert`); further certificates in the file are sent as the chain.
    pub(crate) cert: PathBuf,
    /// Private key (`--tls-key`): PKCS#8, PKCS#1 or SEC1 PEM.
    pub(crate) key: PathBuf,
    /// Intermediate certificates (`--tls-chain`).
    pub(crate) chain: Option<PathBuf>,
}

/// Where `--tls-get-peer-cert` / `--tls-get-peer-chain` put the PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PemOut {
    /// Into the transcript (`===` lines).
    Transcript,
    /// Into this file.
    File(PathBuf),
}

/// Largest certificate/key/CA file we read: PEM bundles are kilobytes; this bounds memory.
const MAX_PEM_FILE: u64 = 4 * 1024 * 1024;

/// What `SslConnector::builder` sets up (options, modes, cipher list), minus its
/// `set_default_verify_paths`: that parses the whole CA bundle on every run, and a vendored
/// OpenSSL would look under its own OPENSSLDIR anyway. Trust is [`install_trust`]'s job.
pub(super) fn client_context() -> Result<SslContextBuilder, openssl::error::ErrorStack> {
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
#[derive(Debug, Clone)]
pub(super) struct Fallback {
    pub(super) dir: Option<String>,
    pub(super) file: PathBuf,
}

/// Put the trust anchors into the context, as lazily as possible (see `net::trust`): only the
/// `--tls-ca-path` certificates when given; else the system store's hashed directory as a
/// lookup. The system bundle is never parsed here: it is returned as the fallback, consulted
/// after the handshake only if the directory did not know the issuer. That holds whether or not
/// verification is enforced: the verdict is reported either way (`--insecure`, and check,
/// which judges certificates without enforcing), and must be the one an enforcing run reaches.
pub(super) fn install_trust(
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
    Ok(store.file.map(|file| Fallback {
        dir: store.dir,
        file,
    }))
}

/// `--tls-protocol`, `--tls-cipher`, `--tls-ciphersuites` onto the context. Legacy versions
/// (TLS 1.0/1.1) need security level 0 in OpenSSL 3 (level 1 forbids them and SHA-1
/// signatures); it is lowered only then.
pub(super) fn configure_versions_and_ciphers(
    b: &mut SslContextBuilder,
    params: &TlsParams,
) -> Result<(), TlsError> {
    if let Some(list) = &params.cipher_list {
        b.set_cipher_list(list).map_err(|_| {
            TlsError::Setup(format!(
                "{}: OpenSSL knows no cipher in '{list}' (see `openssl ciphers`)",
                TlsSetting::Cipher
            ))
        })?;
    }
    if let Some(suites) = &params.ciphersuites {
        b.set_ciphersuites(suites).map_err(|_| {
            TlsError::Setup(format!(
                "{}: OpenSSL knows no TLS 1.3 suite in '{suites}' (e.g. TLS_AES_128_GCM_SHA256)",
                TlsSetting::Ciphersuites
            ))
        })?;
    }
    let Some(allowed) = params.protocols.as_deref().filter(|a| !a.is_empty()) else {
        return Ok(());
    };
    let (min, max) = (allowed[0], allowed[allowed.len() - 1]);
    b.set_min_proto_version(Some(min.ssl()))
        .map_err(|e| setting(TlsSetting::Protocol, "cannot set the lowest version", e))?;
    b.set_max_proto_version(Some(max.ssl()))
        .map_err(|e| setting(TlsSetting::Protocol, "cannot set the highest version", e))?;
    // Every version from min to max is allowed: `parse_protocols` refuses a gap, which
    // OpenSSL cannot honour (NO_TLSv1_x options inside the range leave only its lowest run).
    if params.legacy() {
        // The handshake's level only: OpenSSL judges the server's chain at the connection's
        // security level unless the verify parameters carry an auth level of their own
        // (`X509_VERIFY_PARAM_set_auth_level`, which `ssl_verify_cert_chain` lets win), so the
        // chain is still judged at the level the context had before the drop (a SHA-1
        // signature or a short key stays refused, whatever version is negotiated).
        let level = context_level(params.cipher_list.as_deref());
        b.verify_param_mut()
            .set_auth_level(i32::try_from(level).unwrap_or(i32::MAX));
        b.set_security_level(0);
    }
    Ok(())
}

/// The security level of a client context with `cipher_list` (a `@SECLEVEL=n` in it counts):
/// OpenSSL's default, or the system's configuration, otherwise.
fn context_level(cipher_list: Option<&str>) -> u32 {
    let Ok(mut b) = SslContextBuilder::new(SslMethod::tls_client()) else {
        return crate::net::trust::default_security_level();
    };
    if let Some(list) = cipher_list {
        let _ = b.set_cipher_list(list);
    }
    b.build().security_level()
}

/// Present the client certificate, key and chain of `cc` from the context `b`.
pub(super) fn use_client_cert(b: &mut SslContextBuilder, cc: &ClientCert) -> Result<(), TlsError> {
    let (cert, key, chain) = load_client_cert(cc)?;
    b.set_certificate(&cert)
        .map_err(|e| setting(TlsSetting::Cert, "cannot use the client certificate", e))?;
    let mismatch = |_| {
        TlsError::Setup(format!(
            "{} {} does not belong to {} {}",
            TlsSetting::Key,
            cc.key.display(),
            TlsSetting::Cert,
            cc.cert.display()
        ))
    };
    b.set_private_key(&key).map_err(mismatch)?;
    b.check_private_key().map_err(mismatch)?;
    for c in chain {
        b.add_extra_chain_cert(c).map_err(|e| {
            TlsError::Setup(format!(
                "cannot add a {} certificate: {e}",
                TlsSetting::Chain
            ))
        })?;
    }
    Ok(())
}

/// Check the files and strings of `params` before connecting, so that a mistake in them is a
/// usage error (exit 1) and not a TLS failure after STARTTLS: the `--tls-ca-path` certificates
/// (a directory: up to its first file holding one), and, when given, the versions, ciphers and
/// client certificate set on a context as the handshake sets them. Cheap on purpose: no trust
/// store is built (the system store is never touched), so the handshake's own loading stays
/// the only one. The error is one line naming the flag.
pub(crate) fn check(params: &TlsParams) -> Result<(), String> {
    let reason = |e: TlsError| match e {
        TlsError::Setup(s) => s,
        other => other.to_string(),
    };
    if let Some(path) = &params.ca_path {
        read_ca_path(path, true).map_err(|e| format!("{}: {}", TlsSetting::CaPath, reason(e)))?;
    }
    let ciphers = params.cipher_list.is_some() || params.ciphersuites.is_some();
    if !ciphers && params.protocols.is_none() && params.client_cert.is_none() {
        return Ok(());
    }
    let mut b = client_context().map_err(|e| format!("cannot create the TLS context: {e}"))?;
    configure_versions_and_ciphers(&mut b, params).map_err(reason)?;
    if let Some(cc) = &params.client_cert {
        use_client_cert(&mut b, cc).map_err(|e| {
            let r = reason(e);
            if TlsSetting::ALL
                .iter()
                .any(|s| r.starts_with(&s.to_string()))
            {
                r
            } else {
                format!("{}/{}: {r}", TlsSetting::Cert, TlsSetting::Key)
            }
        })?;
    }
    if ciphers || params.protocols.is_some() {
        hello_can_be_made(&b.build(), params)?;
    }
    Ok(())
}

/// Can OpenSSL write a ClientHello with these versions and ciphers? A cipher list it knows can
/// still select nothing usable (`--tls-cipher aNULL` with `--tls-protocol tlsv1_2`: anonymous
/// suites are below every security level but 0), which OpenSSL finds only when it builds the
/// ClientHello ("no ciphers available"), so one is built here into a sink, before connecting:
/// nothing is sent anywhere. The versions allowed count: TLS 1.3 suites keep a TLS 1.2 list
/// that selects nothing usable working against a TLS 1.3 server, so that is no error.
fn hello_can_be_made(ctx: &SslContext, params: &TlsParams) -> Result<(), String> {
    let Some(failed) = hello_failure(ctx)? else {
        return Ok(());
    };
    let mut given = Vec::new();
    if let Some(list) = &params.cipher_list {
        given.push(format!("{} '{list}'", TlsSetting::Cipher));
    }
    if let Some(suites) = &params.ciphersuites {
        given.push(format!("{} '{suites}'", TlsSetting::Ciphersuites));
    }
    if params.protocols.is_some() {
        given.push(format!("the versions of {}", TlsSetting::Protocol));
    }
    Err(format!(
        "{}: OpenSSL has no cipher to offer with these ({failed}), so no handshake could start (`openssl ciphers -v LIST` shows what a list selects)",
        given.join(" with ")
    ))
}

/// `--tls-cipher` sets the ciphers of TLS 1.2 and older only (TLS 1.3's suites are
/// `--tls-ciphersuites`, OpenSSL's `SSL_CTX_set_ciphersuites`). A list that leaves nothing
/// below TLS 1.3 (`aNULL`: anonymous suites are below every security level but 0) passes
/// [`check`] while TLS 1.3 is allowed, as a TLS 1.3 server is still reached, but then the list
/// asked for is not what is negotiated, and a server without TLS 1.3 can only refuse the
/// handshake ("handshake failure"): said before connecting, with the reason OpenSSL gives
/// when it builds a ClientHello of the older versions alone. With TLS 1.3 alone the list is
/// not used at all, which is said too.
pub(crate) fn cipher_list_warning(params: &TlsParams) -> Option<String> {
    let list = params.cipher_list.as_deref()?;
    let allowed = params
        .protocols
        .clone()
        .unwrap_or_else(|| vec![TlsVersion::Tls1_2, TlsVersion::Tls1_3]);
    let older: Vec<TlsVersion> = allowed
        .iter()
        .copied()
        .filter(|v| *v != TlsVersion::Tls1_3)
        .collect();
    if !allowed.contains(&TlsVersion::Tls1_3) {
        return None;
    }
    if older.is_empty() {
        return Some(format!(
            "{} '{list}' is not used: it sets the ciphers of TLS 1.2 and older, and {} allows \
             only TLS 1.3, whose suites are {}",
            TlsSetting::Cipher,
            TlsSetting::Protocol,
            TlsSetting::Ciphersuites
        ));
    }
    let older = TlsParams {
        protocols: Some(older),
        ciphersuites: None,
        client_cert: None,
        ..params.clone()
    };
    let mut b = client_context().ok()?;
    configure_versions_and_ciphers(&mut b, &older).ok()?;
    let failed = hello_failure(&b.build()).ok()??;
    let level = if list.contains("NULL") && !list.contains("@SECLEVEL") {
        "; anonymous and null-encryption ciphers need '@SECLEVEL=0' in the list"
    } else {
        ""
    };
    Some(format!(
        "{} '{list}' leaves OpenSSL no cipher to offer below TLS 1.3 ({failed}{level}): only TLS 1.3 can be negotiated, with its own suites ({}), and a server without TLS 1.3 will refuse the handshake",
        TlsSetting::Cipher,
        TlsSetting::Ciphersuites
    ))
}

/// Why OpenSSL cannot build a ClientHello from `ctx` (None: it can); Err when no session can
/// be made at all.
fn hello_failure(ctx: &SslContext) -> Result<Option<String>, String> {
    use openssl::ssl::{HandshakeError, Ssl};
    /// Takes the ClientHello, never answers.
    struct Sink;
    impl std::io::Read for Sink {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::WouldBlock.into())
        }
    }
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let ssl = Ssl::new(ctx).map_err(|e| format!("cannot create the TLS session: {e}"))?;
    Ok(match ssl.connect(Sink) {
        Ok(_) | Err(HandshakeError::WouldBlock(_)) => None,
        Err(HandshakeError::Failure(m)) => Some(
            m.error()
                .ssl_error()
                .and_then(|s| s.errors().first())
                .and_then(|e| e.reason())
                .unwrap_or("the ClientHello could not be made")
                .to_string(),
        ),
        Err(HandshakeError::SetupFailure(e)) => Some(e.to_string()),
    })
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
            TlsError::Setup(format!(
                "cannot read {} {}: {e}",
                TlsSetting::Chain,
                path.display()
            ))
        })?;
        let certs = X509::stack_from_pem(&pem).unwrap_or_default();
        if certs.is_empty() {
            return Err(TlsError::Setup(format!(
                "{} {} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
                TlsSetting::Chain,
                path.display()
            )));
        }
        chain.extend(certs);
    }
    Ok((cert, key, chain))
}

/// Read the extra trust anchors: a PEM file (one or more certificates) or a directory whose
/// files hold PEM certificates (hashed `c_rehash` names are not required).
fn load_ca_path(path: &Path) -> Result<Vec<X509>, TlsError> {
    read_ca_path(path, false)
}

/// [`load_ca_path`]; `first`: in a directory, stop at the first file that holds a certificate
/// (enough to know the path is usable).
fn read_ca_path(path: &Path, first: bool) -> Result<Vec<X509>, TlsError> {
    // One wording for a missing path, whichever mode checks it (send, repl, check, probe).
    let meta = std::fs::metadata(path).map_err(|e| {
        TlsError::Setup(match e.kind() {
            std::io::ErrorKind::NotFound => format!("{} does not exist", path.display()),
            _ => format!("cannot read CA path {}: {e}", path.display()),
        })
    })?;
    let mut certs = Vec::new();
    if meta.is_dir() {
        let dir = std::fs::read_dir(path)
            .map_err(|e| TlsError::Setup(format!("cannot list {}: {e}", path.display())))?;
        for entry in dir.flatten() {
            let p = entry.path();
            if let Ok(pem) = read_bounded(&p) {
                certs.extend(X509::stack_from_pem(&pem).unwrap_or_default());
            }
            if first && !certs.is_empty() {
                break;
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

/// A certificate, key or CA file: a regular file of at most [`MAX_PEM_FILE`] bytes (a FIFO or
/// a device such as `/dev/zero` is refused before it is opened: no wait, no unbounded read).
pub(crate) fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
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
