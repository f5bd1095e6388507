//! Where the TLS client's trust anchors come from, and loading them lazily.
//!
//! * `--tls-ca-path` given: only those certificates (what swaks and `curl --cacert` do).
//! * Otherwise the system store. ehlo's default build links a vendored OpenSSL whose compiled-in
//!   OPENSSLDIR (`/usr/local/ssl`) holds nothing, so the store is located here: OpenSSL's own
//!   `SSL_CERT_DIR` / `SSL_CERT_FILE` first (each independently, as OpenSSL does), then the usual
//!   distribution locations (the list Go's `crypto/x509` and the `openssl-probe` crate search).
//! * The hashed directory (`c_rehash` / `update-ca-certificates` names, `HASH.N`) is given to
//!   OpenSSL as a lookup: during the handshake it reads only the file of the issuer it needs.
//!   The PEM bundle (~140 certificates to parse) is read only as a fallback, after the
//!   handshake, when the directory did not know the issuer (see `net::tls`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use openssl::ssl::SslFiletype;
use openssl::x509::X509PurposeId;
use openssl::x509::store::{X509Lookup, X509Store, X509StoreBuilder, X509StoreBuilderRef};
use openssl::x509::verify::X509VerifyParam;

/// The system trust store as located on this machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SystemStore {
    /// A hashed certificate directory, or a `:`-separated list of them (`SSL_CERT_DIR`).
    pub(crate) dir: Option<String>,
    /// A PEM bundle of CA certificates.
    pub(crate) file: Option<PathBuf>,
}

/// CA bundles, most common first.
const BUNDLES: &[&str] = &[
    "etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Arch, Gentoo, Alpine
    "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // Fedora, RHEL/CentOS 7+
    "etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL 6
    "etc/ssl/ca-bundle.pem",             // openSUSE
    "etc/pki/tls/cacert.pem",            // OpenELEC
    "etc/ssl/cert.pem",                  // Alpine, OpenBSD
    "usr/local/share/certs/ca-root-nss.crt", // FreeBSD
];

/// Hashed certificate directories, most common first (a directory counts only if it holds
/// at least one `HASH.N` name).
const DIRS: &[&str] = &[
    "etc/ssl/certs",                                 // Debian, Ubuntu, Alpine, SUSE, Arch
    "etc/pki/ca-trust/extracted/pem/directory-hash", // Fedora, RHEL 9
    "etc/pki/tls/certs",                             // RHEL with c_rehash run
];

/// The system store of this machine: `SSL_CERT_DIR`/`SSL_CERT_FILE`, else the probed locations.
pub(crate) fn system_store() -> SystemStore {
    locate(Path::new("/"), |k| std::env::var_os(k))
}

/// [`system_store`] with the file system rooted at `root` and the environment given as a
/// function, so tests can build a fake machine.
pub(crate) fn locate(root: &Path, env: impl Fn(&str) -> Option<OsString>) -> SystemStore {
    let var = |k: &str| env(k).filter(|v| !v.is_empty());
    let dir = match var("SSL_CERT_DIR") {
        Some(d) => Some(d.to_string_lossy().into_owned()),
        None => DIRS
            .iter()
            .map(|d| root.join(d))
            .find(|d| is_hashed_dir(d))
            .map(|d| d.to_string_lossy().into_owned()),
    };
    let file = match var("SSL_CERT_FILE") {
        Some(f) => Some(PathBuf::from(f)),
        None => BUNDLES.iter().map(|f| root.join(f)).find(|f| f.is_file()),
    };
    SystemStore { dir, file }
}

/// One line when `SSL_CERT_FILE` names no file (missing, or a directory): OpenSSL, and so
/// ehlo, then trusts only what else the store holds, and a user who set the variable should
/// not learn that from a verification failure. `None` when it is unset, empty or a file.
pub(crate) fn missing_cert_file(env: impl Fn(&str) -> Option<OsString>) -> Option<String> {
    let path = PathBuf::from(env("SSL_CERT_FILE").filter(|v| !v.is_empty())?);
    let what = match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => return None,
        Ok(_) => "is not a file",
        Err(_) => "does not exist",
    };
    Some(format!(
        "SSL_CERT_FILE is ignored: {} {what} (the system store is used without it)",
        path.display()
    ))
}

/// Does `dir` hold at least one OpenSSL hash name (`8 hex digits . N`)? Stops at the first.
fn is_hashed_dir(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| is_hash_name(&e.file_name()))
}

fn is_hash_name(name: &std::ffi::OsStr) -> bool {
    let b = name.as_encoded_bytes();
    b.len() >= 10
        && b[..8].iter().all(u8::is_ascii_hexdigit)
        && b[8] == b'.'
        && b[9..].iter().all(u8::is_ascii_digit)
}

/// Add a lazy lookup of the hashed directory (or `:`-separated directories) to `store`.
pub(crate) fn add_dir(store: &mut X509StoreBuilderRef, dir: &str) -> Result<(), String> {
    store
        .add_lookup(X509Lookup::hash_dir())
        .and_then(|l| l.add_dir(dir, SslFiletype::PEM))
        .map_err(|e| format!("cannot use the CA directory {dir}: {e}"))
}

/// Make `store` judge chains at `auth_level`, the connection's OpenSSL security level, as the
/// handshake's own verification does (`X509_VERIFY_PARAM_set_auth_level`): every store ehlo
/// builds to verify a chain after the handshake (the bundle fallback, a DANE-TA trust anchor)
/// must, or a SHA-1 signature or a short key the handshake refuses would pass through it.
pub(crate) fn set_auth_level(
    store: &mut X509StoreBuilderRef,
    auth_level: u32,
) -> Result<(), openssl::error::ErrorStack> {
    let mut param = X509VerifyParam::new()?;
    param.set_auth_level(i32::try_from(auth_level).unwrap_or(i32::MAX));
    store.set_param(&param)
}

/// The level a connection's certificate chain is judged at: the auth level of its verify
/// parameters when one was set (TLS 1.0/1.1 lower the connection's security level to 0 for the
/// handshake only), else the connection's security level, as OpenSSL's own verification does.
pub(crate) fn auth_level(ssl: &mut openssl::ssl::SslRef) -> u32 {
    u32::try_from(ssl.param_mut().auth_level()).unwrap_or_else(|_| ssl.security_level())
}

/// The security level a client connection has unless told otherwise (OpenSSL's default, or
/// the system's configuration), for judging a chain that arrived without its connection.
pub(crate) fn default_security_level() -> u32 {
    openssl::ssl::SslContext::builder(openssl::ssl::SslMethod::tls_client())
        .map(|b| b.build().security_level())
        .unwrap_or(1)
}

/// A store with the directory (if any) and the whole bundle `file`, for verifying a chain
/// after the handshake when the directory alone did not know the issuer. `auth_level` is the
/// connection's OpenSSL security level, which the handshake's own verification uses as its
/// auth level (`X509_VERIFY_PARAM_set_auth_level`): without it a SHA-1 signature or a short
/// key refused through `--tls-ca-path` would pass through the bundle.
pub(crate) fn fallback_store(
    dir: Option<&str>,
    file: &Path,
    auth_level: u32,
) -> Result<X509Store, String> {
    let mut b = X509StoreBuilder::new().map_err(|e| e.to_string())?;
    set_auth_level(&mut b, auth_level).map_err(|e| e.to_string())?;
    if let Some(dir) = dir {
        add_dir(&mut b, dir)?;
    }
    b.add_lookup(X509Lookup::file())
        .and_then(|l| l.load_cert_file(file, SslFiletype::PEM))
        .map_err(|e| format!("cannot read the CA bundle {}: {e}", file.display()))?;
    // The purpose the handshake checks too (a server certificate).
    b.set_purpose(X509PurposeId::SSL_SERVER)
        .map_err(|e| e.to_string())?;
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let m: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |k| m.get(k).cloned()
    }

    /// `SSL_CERT_FILE` naming a missing file or a directory is one line naming both; unset,
    /// empty or a file says nothing.
    #[test]
    fn ssl_cert_file_naming_no_file_is_worded() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, "").unwrap();
        let (d, f) = (dir.path().to_str().unwrap(), file.to_str().unwrap());
        assert_eq!(
            missing_cert_file(env(&[("SSL_CERT_FILE", "/no/such/ca.pem")])).as_deref(),
            Some(
                "SSL_CERT_FILE is ignored: /no/such/ca.pem does not exist (the system store is \
                 used without it)"
            )
        );
        assert_eq!(
            missing_cert_file(env(&[("SSL_CERT_FILE", d)])),
            Some(format!(
                "SSL_CERT_FILE is ignored: {d} is not a file (the system store is used without \
                 it)"
            ))
        );
        assert_eq!(missing_cert_file(env(&[("SSL_CERT_FILE", f)])), None);
        assert_eq!(missing_cert_file(env(&[("SSL_CERT_FILE", "")])), None);
        assert_eq!(missing_cert_file(env(&[])), None);
    }

    #[test]
    fn hash_names() {
        for ok in ["9d66eef0.0", "ABCDEF01.12"] {
            assert!(is_hash_name(ok.as_ref()), "{ok}");
        }
        for bad in [
            "9d66eef0",
            "9d66eef0.",
            "9d66eefg.0",
            "ca.pem",
            "9d66eef0.0.pem",
            "",
        ] {
            assert!(!is_hash_name(bad.as_ref()), "{bad}");
        }
    }

    #[test]
    fn probes_debian_rhel_and_alpine_layouts() {
        let none = env(&[]);
        // Nothing there: nothing found.
        let root = tempfile::tempdir().unwrap();
        assert_eq!(locate(root.path(), &none), SystemStore::default());

        // Debian/Ubuntu: a hashed /etc/ssl/certs and the bundle inside it.
        let deb = tempfile::tempdir().unwrap();
        let certs = deb.path().join("etc/ssl/certs");
        std::fs::create_dir_all(&certs).unwrap();
        std::fs::write(certs.join("ca-certificates.crt"), "x").unwrap();
        // A directory without hash names is not a lookup directory (yet).
        let s = locate(deb.path(), &none);
        assert_eq!(s.dir, None);
        assert_eq!(s.file, Some(certs.join("ca-certificates.crt")));
        std::fs::write(certs.join("5ad8a5d6.0"), "x").unwrap();
        let s = locate(deb.path(), &none);
        assert_eq!(s.dir.as_deref(), Some(certs.to_str().unwrap()));

        // RHEL 9: extracted bundle and directory-hash.
        let rhel = tempfile::tempdir().unwrap();
        let pem = rhel.path().join("etc/pki/ca-trust/extracted/pem");
        std::fs::create_dir_all(pem.join("directory-hash")).unwrap();
        std::fs::write(pem.join("tls-ca-bundle.pem"), "x").unwrap();
        std::fs::write(pem.join("directory-hash/5ad8a5d6.0"), "x").unwrap();
        let s = locate(rhel.path(), &none);
        assert_eq!(
            s.dir.as_deref(),
            Some(pem.join("directory-hash").to_str().unwrap())
        );
        assert_eq!(s.file, Some(pem.join("tls-ca-bundle.pem")));

        // Alpine without update-ca-certificates: only /etc/ssl/cert.pem.
        let alp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(alp.path().join("etc/ssl")).unwrap();
        std::fs::write(alp.path().join("etc/ssl/cert.pem"), "x").unwrap();
        let s = locate(alp.path(), &none);
        assert_eq!(
            (s.dir, s.file),
            (None, Some(alp.path().join("etc/ssl/cert.pem")))
        );
    }

    #[test]
    fn ssl_cert_file_and_dir_win_each_on_its_own() {
        let deb = tempfile::tempdir().unwrap();
        let certs = deb.path().join("etc/ssl/certs");
        std::fs::create_dir_all(&certs).unwrap();
        std::fs::write(certs.join("ca-certificates.crt"), "x").unwrap();
        std::fs::write(certs.join("5ad8a5d6.0"), "x").unwrap();
        let s = locate(deb.path(), env(&[("SSL_CERT_FILE", "/my/ca.pem")]));
        assert_eq!(s.file, Some(PathBuf::from("/my/ca.pem")));
        assert_eq!(s.dir.as_deref(), Some(certs.to_str().unwrap()));
        let s = locate(deb.path(), env(&[("SSL_CERT_DIR", "/a:/b")]));
        assert_eq!(s.dir.as_deref(), Some("/a:/b"));
        assert_eq!(s.file, Some(certs.join("ca-certificates.crt")));
        // Empty means unset.
        let s = locate(
            deb.path(),
            env(&[("SSL_CERT_DIR", ""), ("SSL_CERT_FILE", "")]),
        );
        assert_eq!(s.dir.as_deref(), Some(certs.to_str().unwrap()));
    }
}
