//! The client handshake: STARTTLS upgrade or implicit TLS over any stream, SNI, the name to
//! verify, and the evidence afterwards.

use std::net::IpAddr;
use std::pin::Pin;

use openssl::ssl::{Ssl, SslVerifyMode, SslVersion, StatusType};
use openssl::x509::{X509, X509Ref};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_openssl::SslStream;

use super::diagnose::{
    client_cert_refused_absent, explain_failure, handshake_reason, is_not_tls, version_mismatch,
};
use super::params::{
    TlsParams, client_context, configure_versions_and_ciphers, install_trust, use_client_cert,
};
use super::reneg::{Judge, Renegotiation};
use super::tap::Tap;
use super::verify::build_info;
use super::{TlsError, setup};
use crate::net::dane;
use crate::net::dns::parse_ip_literal;
use crate::net::trust::{self, SystemStore};
use crate::smtp::codes::Hint;
use crate::smtp::event::TlsInfo;

/// Why `--tls-verify dane` does not enforce verification when the TLSA records are all
/// unusable, said for the first handshake's certificate and a renegotiation's alike.
const DANE_UNUSABLE: &str =
    "the TLSA records are all unusable: TLS without authentication (RFC 7672 §3.1.3)";

/// The client's TLS stream over `S`: [`Tap`] keeps the first bytes read and watches the
/// handshake records written (whether a client certificate went out).
pub(crate) type TlsStream<S> = SslStream<Tap<S>>;

/// The bytes start like an SMTP greeting: `220` then a space or a hyphen (RFC 5321 §4.2).
fn looks_like_greeting(head: &[u8]) -> bool {
    head.len() >= 4 && head.starts_with(b"220") && matches!(head[3], b' ' | b'-')
}

/// Run a client handshake over `stream`. `host` is the name connected to (used for SNI and
/// verification unless overridden in `params`). On success returns the stream and the evidence.
///
/// No timeout is applied here: a peer that stalls mid-handshake stalls this future, so the
/// caller wraps it in `tokio::time::timeout` (its TLS phase timeout) ending at `deadline`
/// (`None`: no timeout), which the close_notify after a failed verification keeps within.
pub(crate) async fn connect<S>(
    stream: S,
    host: &str,
    params: &TlsParams,
    deadline: Option<std::time::Instant>,
) -> Result<(TlsStream<S>, TlsInfo), TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    connect_trusting(stream, host, params, &trust::system_store, deadline).await
}

/// [`connect`] with the system trust store located by `system` (tests pass a fake machine's).
pub(super) async fn connect_trusting<S>(
    stream: S,
    host: &str,
    params: &TlsParams,
    system: &dyn Fn() -> SystemStore,
    deadline: Option<std::time::Instant>,
) -> Result<(TlsStream<S>, TlsInfo), TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // An IDN is named by its A-labels on the wire and in certificates (RFC 6066 §3, RFC 6125
    // §6.4.2): `mx.bücher.example` is sent and checked as `mx.xn--bcher-kva.example`.
    let host = crate::net::dns::ascii_host(host.trim().trim_end_matches('.'));
    // A scoped IPv6 address (`fe80::1%eth0`): its zone names an interface of this host and
    // means nothing to the peer or its certificate, which can only hold the address (RFC
    // 5280 §4.2.1.6). No SNI for it, as for any address literal.
    let host = match crate::net::route::ip_literal(&host) {
        Some((ip, Some(_))) => ip.to_string(),
        _ => host,
    };
    let host = host.as_str();
    let mut b = client_context().map_err(setup("cannot create the TLS context"))?;
    // Never abort the handshake on a bad certificate: the verdict is computed anyway (the
    // verify_result is filled in under VERIFY_NONE) and enforced below, after the evidence exists.
    b.set_verify(SslVerifyMode::NONE);
    let fallback = install_trust(&mut b, params, system)?;
    configure_versions_and_ciphers(&mut b, params)?;
    if let Some(cc) = &params.client_cert {
        use_client_cert(&mut b, cc)?;
    }
    let ctx = b.build();
    // SNI and the verify name are set by hand below: they may differ.
    let mut ssl = Ssl::new(&ctx).map_err(setup("cannot create the TLS session"))?;

    // SNI (RFC 6066 §3) must be a host name, never an IP literal.
    let sni = params
        .sni
        .clone()
        .or_else(|| parse_ip_literal(host).is_none().then(|| host.to_string()))
        .filter(|s| !s.is_empty() && parse_ip_literal(s).is_none())
        .map(|s| crate::net::dns::ascii_host(&s));
    if let Some(sni) = &sni {
        ssl.set_hostname(sni)
            .map_err(setup("cannot set the SNI name"))?;
    }

    let checked = params
        .verify_name
        .clone()
        .unwrap_or_else(|| host.to_string());
    let checked = crate::net::dns::ascii_host(checked.trim_end_matches('.'));
    let checked_ip = parse_ip_literal(&checked);
    // The name is checked by `verify::match_name` (RFC 6125), not by OpenSSL: its verify
    // result is then the chain's own verdict.
    let checked = match checked_ip {
        Some(ip) => ip.to_string(),
        None => checked,
    };
    // Ask for a stapled OCSP response (RFC 6066 §8) so the evidence can say whether one came.
    ssl.set_status_type(StatusType::OCSP)
        .map_err(setup("cannot request OCSP stapling"))?;

    // The level the chain is judged at, for the checks made after the handshake (the bundle
    // fallback, DANE-TA) as OpenSSL's own verification judges it.
    let auth_level = crate::net::trust::auth_level(&mut ssl);
    // A server's renegotiation (TLS 1.2) presents a certificate again: judged as this one is,
    // counted, and refused when untrusted under enforcement (see `reneg`). Still VERIFY_NONE:
    // the callback returns OpenSSL's own verdict, so the first handshake is judged as before.
    let reneg = std::sync::Arc::new(Renegotiation::default());
    let judge = Judge {
        checked: checked.clone(),
        checked_ip,
        enforced: params.verify && !params.dane_unusable,
        only: params.verify_only,
        waived: params.dane_unusable.then(|| DANE_UNUSABLE.to_string()),
        tlsa: params.tlsa.clone(),
        dane_names: dane_names(&checked, checked_ip, &params.dane_names),
        fallback: fallback.clone(),
        auth_level,
    };
    let watch = reneg.clone();
    ssl.set_verify_callback(SslVerifyMode::NONE, move |ok, ctx| {
        watch.on_verify(&judge, ok, ctx)
    });
    let mut s = SslStream::new(ssl, Tap::new(stream).with_renegotiation(reneg))
        .map_err(setup("cannot create the TLS stream"))?;
    if let Err(e) = Pin::new(&mut s).connect().await {
        let mut reason = handshake_reason(&e);
        // `--tls-protocol` chose the versions: the default's advice (TLS 1.0/1.1 refused by
        // default) is not the reason, the choice is.
        if let (Some(allowed), Some(raw)) = (params.protocols.as_deref(), version_mismatch(&e)) {
            let names: Vec<&str> = allowed.iter().map(|v| v.name()).collect();
            reason = Hint::new(format!(
                "{raw}: no TLS version in common: the server offers none of {} (⟨tls-versions⟩{})",
                names.join(","),
                params.protocols_note
            ));
        }
        // The client answered a CertificateRequest with no certificate, having none configured
        // (its plain-text Certificate message went, `tap`), and the server then refused: it
        // requires one, whatever else the alert could mean.
        if params.client_cert.is_none()
            && s.get_mut().requested(false)
            && let Some(r) = client_cert_refused_absent(&e)
        {
            reason = r;
        }
        return Err(if is_not_tls(&e) {
            let head = s.get_ref().head();
            TlsError::NotTls {
                reason,
                greeting: looks_like_greeting(head),
                head: head.escape_ascii().to_string(),
            }
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
        auth_level,
    );
    // OpenSSL sends the configured certificate exactly when the server's CertificateRequest
    // arrives; the openssl crate exposes no hook to observe the request, so the client's own
    // records tell (see `tap`).
    let tls13 = s.ssl().version2() == Some(SslVersion::TLS1_3);
    info.client_cert_requested = s.get_mut().requested(tls13);
    info.client_cert_configured = params.client_cert.is_some();
    info.client_cert_sent = info.client_cert_requested && info.client_cert_configured;
    info.verify.only = params.verify_only;
    if params.dane_unusable {
        info.verify.waived = Some(DANE_UNUSABLE.into());
    }
    // DANE (RFC 7672 §3): with TLSA records the records authenticate the server, not the CA
    // store; the CA verdict above is still shown.
    if !params.tlsa.is_empty() {
        let chain: Vec<X509> = s
            .ssl()
            .peer_cert_chain()
            .map(|st| st.iter().map(X509Ref::to_owned).collect())
            .unwrap_or_default();
        let names = dane_names(&checked, checked_ip, &params.dane_names);
        let level = auth_level;
        let v = dane::verify(&chain, &params.tlsa, &names, params.verify, level);
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
    if params.verify && !info.verify.passed() {
        let reason = explain_failure(&info, params.stand_in_host, params.ca_path.is_some());
        // The handshake completed: end the session with close_notify (RFC 8446 §6.1) rather
        // than dropping it, so the server logs an orderly close, not a truncated session;
        // within the handshake's deadline, or the caller would call it a timeout.
        let most = std::time::Duration::from_secs(1);
        let wait = deadline.map_or(most, |d| {
            most.min(d.saturating_duration_since(std::time::Instant::now()))
        });
        let _ = tokio::time::timeout(wait, tokio::io::AsyncWriteExt::shutdown(&mut s)).await;
        return Err(TlsError::Verify {
            reason,
            info: Box::new(info),
        });
    }
    Ok((s, info))
}

/// The reference names a DANE-TA leaf must carry (RFC 7672 §3.2.2-3): the name checked (not an
/// address), then the others given, each once.
fn dane_names(checked: &str, checked_ip: Option<IpAddr>, others: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for n in std::iter::once(checked.to_string())
        .filter(|n| !n.is_empty() && checked_ip.is_none())
        .chain(others.iter().cloned())
    {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    names
}
