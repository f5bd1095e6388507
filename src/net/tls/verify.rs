//! Verification after the handshake (posttls-finger style): chain and name verdicts, RFC 6125
//! name matching, and each certificate as evidence.

use std::net::IpAddr;

use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::hash::MessageDigest;
use openssl::ssl::SslRef;
use openssl::stack::StackRef;
use openssl::x509::store::X509StoreRef;
use openssl::x509::{X509, X509NameRef, X509Ref, X509StoreContext, X509VerifyResult};

use super::params::Fallback;
use crate::net::trust::{self};
use crate::smtp::event::{CertInfo, TlsInfo, VerifyVerdict};

/// Verify results that mean "no trusted issuer found": `X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT`,
/// `X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT` (a self-signed leaf the bundle may hold),
/// `X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN`, `X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY`.
const ISSUER_UNKNOWN: [i32; 4] = [2, 18, 19, 20];

/// Collect the evidence after a successful handshake.
pub(super) fn build_info(
    ssl: &SslRef,
    sni: Option<String>,
    checked: &str,
    checked_ip: Option<IpAddr>,
    enforced: bool,
    fallback: Option<&Fallback>,
    auth_level: u32,
) -> TlsInfo {
    let (cipher, bits) = ssl
        .current_cipher()
        .map(|c| (c.name().to_string(), c.bits().secret))
        .unwrap_or_default();
    let chain: Vec<CertInfo> = ssl
        .peer_cert_chain()
        .map(|st| st.iter().map(cert_info).collect())
        .unwrap_or_default();
    let verify = verdict(ssl, checked, checked_ip, enforced, fallback, auth_level);
    TlsInfo {
        version: ssl.version_str().to_string(),
        cipher,
        bits,
        sni,
        chain,
        verify,
        client_cert_sent: false,
        client_cert_requested: false,
        client_cert_configured: false,
        ocsp_stapled: ssl.ocsp_status().is_some(),
        dane: None,
    }
}

pub(super) fn verdict(
    ssl: &SslRef,
    checked: &str,
    checked_ip: Option<IpAddr>,
    enforced: bool,
    fallback: Option<&Fallback>,
    auth_level: u32,
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

    // The handshake's verification is the chain's alone (the name is ehlo's check above, never
    // OpenSSL's: it reports only its first error, and a name checked before the signatures and
    // dates would hide an expired or untrusted chain), made at the connection's security level.
    let chain_result = ssl.verify_result();
    // The issuer was not in the hashed directory: now (and only now) try the whole bundle, at
    // the level the handshake's verification used, so that every path judges a chain alike.
    let chain_result = match ssl.peer_cert_chain() {
        Some(chain) => with_fallback(chain_result, fallback, auth_level, &leaf, chain),
        None => chain_result,
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
        // Set by the caller, which knows what is enforced.
        only: None,
        waived: None,
    }
}

/// `result`, OpenSSL's verdict on `leaf` + `chain` against the hashed directory, or when that
/// did not know the issuer, the verdict against the whole bundle (`fallback`) at `auth_level`:
/// the one judgement of the first handshake and of a renegotiation's new certificate.
pub(super) fn with_fallback(
    result: X509VerifyResult,
    fallback: Option<&Fallback>,
    auth_level: u32,
    leaf: &X509Ref,
    chain: &StackRef<X509>,
) -> X509VerifyResult {
    match fallback {
        Some(fb) if ISSUER_UNKNOWN.contains(&result.as_raw()) => {
            trust::fallback_store(fb.dir.as_deref(), &fb.file, auth_level)
                .ok()
                .and_then(|store| reverify_chain(&store, leaf, chain))
                .unwrap_or(result)
        }
        _ => result,
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
pub(crate) fn match_name(cert: &X509Ref, name: &str, ip: Option<IpAddr>) -> Option<String> {
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

/// The name `v`'s certificate matched only in its subject CN (no DNS subjectAltName), when the
/// name check counted: such a certificate is accepted, as RFC 6125 §6.4.4 allowed (and OpenSSL,
/// Postfix and Exim still do), but RFC 9525, which obsoletes RFC 6125, has no CN-ID any more (§2),
/// and clients that follow it (Go's crypto/tls since 1.15, browsers) refuse the certificate.
pub(crate) fn cn_only(v: &VerifyVerdict) -> Option<&str> {
    let counted = v.enforced && v.only != Some(crate::smtp::event::VerifyPart::Chain);
    matched_by_cn_alone(v).filter(|_| counted)
}

/// The subject CN that `v`'s name matched, when no DNS subjectAltName did, whether or not the
/// name check counted (`ehlo check` judges it without enforcing it).
pub(crate) fn matched_by_cn_alone(v: &VerifyVerdict) -> Option<&str> {
    v.matched
        .as_deref()
        .and_then(|m| m.strip_prefix("CN="))
        .filter(|_| v.name_ok)
}

/// A peer certificate this close to its notAfter gets a warning.
pub(crate) const EXPIRY_WARN_DAYS: i64 = 14;

/// The warning a peer certificate out of its dates (or near its notAfter) earns, decided here
/// once so that every renderer says the same (RFC 5280 §4.1.2.5: a certificate is valid only
/// between notBefore and notAfter): `TLS peer[0] certificate expired 3 days ago`, `… is not
/// valid before 2030-01-01T00:00:00Z`, `… expires in 5 days`. `i` is its depth in the chain.
pub(crate) fn dates_words(i: usize, cert: &CertInfo) -> Option<String> {
    let days = |n: i64| match n {
        1 => "1 day".to_string(),
        n => format!("{n} days"),
    };
    if cert.not_yet_valid {
        Some(format!(
            "TLS peer[{i}] certificate is not valid before {}",
            cert.not_before
        ))
    } else if cert.days_left < 0 {
        Some(format!(
            "TLS peer[{i}] certificate expired {} ago",
            days(-cert.days_left)
        ))
    } else if cert.days_left < EXPIRY_WARN_DAYS {
        Some(format!(
            "TLS peer[{i}] certificate expires {}",
            match cert.days_left {
                0 => "within a day".to_string(),
                n => format!("in {}", days(n)),
            }
        ))
    } else {
        None
    }
}

/// What [`cn_only`] says of a certificate that names `cn` only in its subject CN.
pub(crate) fn cn_only_words(cn: &str) -> String {
    format!(
        "the certificate names {} only in its subject CN, with no DNS subjectAltName: accepted, as RFC 6125 §6.4.4 allowed, but RFC 9525, which obsoletes it, no longer matches the CN (§2), and clients that follow it (Go's crypto/tls, browsers) refuse this certificate: reissue it with the name as a DNS subjectAltName",
        cn
    )
}

/// RFC 6125 §6.4.3 matching: case-insensitive, trailing dots ignored, and a wildcard only as the
/// whole left-most label (`*.example.com` matches `a.example.com`, not `example.com` nor
/// `a.b.example.com`); partial wildcards (`f*.example.com`) and wildcards over fewer than two
/// labels (`*.com`) never match, as with OpenSSL's `NO_PARTIAL_WILDCARDS`.
pub(crate) fn dns_name_matches(pattern: &str, name: &str) -> bool {
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
pub(crate) fn cert_info(cert: &X509Ref) -> CertInfo {
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
        not_yet_valid: in_future(cert.not_before()),
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
pub(super) fn rfc3339(t: &Asn1TimeRef) -> String {
    unix_seconds(t)
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

/// Is `t` still to come?
pub(super) fn in_future(t: &Asn1TimeRef) -> bool {
    Asn1Time::days_from_now(0)
        .ok()
        .and_then(|now| now.compare(t).ok())
        .is_some_and(|o| o == std::cmp::Ordering::Less)
}

/// Whole days from now until `t`, rounded down (so negative as soon as it has expired).
pub(super) fn days_left(t: &Asn1TimeRef) -> i64 {
    let Ok(now) = Asn1Time::days_from_now(0) else {
        return 0;
    };
    match now.diff(t) {
        Ok(d) => (i64::from(d.days) * 86_400 + i64::from(d.secs)).div_euclid(86_400),
        Err(_) => 0,
    }
}
