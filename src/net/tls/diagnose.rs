//! What a TLS failure means in words: handshake reasons, verification failures, alerts on read.

use crate::smtp::codes::Hint;
use crate::smtp::event::{TlsInfo, VerifyPart};

/// What to do about a chain that does not verify; remedies kept as data for each front end.
const VERIFY_HINT: &str = "use ⟨ca-file⟩ if the CA is private, or ⟨insecure⟩ to skip verification";

/// Did the handshake fail because the peer does not speak TLS at all? Judged by OpenSSL's
/// reason *codes* (stable across versions), not its wording.
pub(super) fn is_not_tls(e: &openssl::ssl::Error) -> bool {
    // SSL_R_WRONG_VERSION_NUMBER, SSL_R_PACKET_LENGTH_TOO_LONG, SSL_R_UNKNOWN_PROTOCOL,
    // SSL_R_HTTP_REQUEST, and SSL_R_RECORD_LAYER_FAILURE (what OpenSSL 3.2+ may report).
    const CODES: [i32; 5] = [267, 198, 252, 156, 313];
    e.ssl_error()
        .is_some_and(|st| st.errors().iter().any(|x| CODES.contains(&x.reason_code())))
}

/// One line: what failed, why it matters, and what to do.
pub(super) fn explain_failure(info: &TlsInfo) -> Hint {
    let v = &info.verify;
    let leaf = info.chain.first();
    // With only the name enforced (--tls-verify-host), a chain failure is not the reason.
    let name_only = v.only == Some(VerifyPart::Name);
    let reason = if name_only {
        let ip = v
            .checked_name
            .as_deref()
            .is_some_and(|n| n.parse::<std::net::IpAddr>().is_ok());
        if ip {
            "IP address mismatch"
        } else {
            "hostname mismatch"
        }
        .to_string()
    } else {
        v.reason
            .clone()
            .unwrap_or_else(|| "verification failed".into())
    };
    let why = if !v.chain_ok && !name_only {
        // Codes are not kept in the verdict; recognise the texts OpenSSL 3 uses (3.0.19 says
        // "certificate is not yet valid or the system clock is incorrect": the start is kept).
        let known = if reason.starts_with("certificate is not yet valid") {
            "certificate is not yet valid"
        } else if reason.starts_with("certificate has expired") {
            "certificate has expired"
        } else {
            reason.as_str()
        };
        match known {
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
    let hint = if (v.chain_ok || name_only) && !v.name_ok {
        let named = leaf
            .and_then(|c| c.sans.iter().find_map(|s| s.strip_prefix("DNS:")))
            .filter(|n| !n.starts_with('*'))
            .unwrap_or("NAME");
        let mut h = Hint::plain("connect by a name the certificate holds (e.g. ");
        h.push(Hint::new("⟨connect-to⟩"));
        h.push_str(&format!(" {named}), or check it against that name with "));
        h.push(Hint::new("⟨verify-name⟩"));
        h.push_str(&format!(" {named}; "));
        h.push(Hint::new("⟨insecure⟩ skips verification"));
        h
    } else {
        Hint::new(VERIFY_HINT)
    };
    let mut out = if why.is_empty() {
        Hint::plain(format!("{reason} ("))
    } else {
        Hint::plain(format!("{reason}: {why} ("))
    };
    out.push(hint);
    out.push_str(")");
    out
}

/// The handshake failed for want of a protocol version both sides allow: OpenSSL's reason
/// (`unsupported protocol`, or the peer's `protocol version` alert), else `None`.
pub(super) fn version_mismatch(e: &openssl::ssl::Error) -> Option<String> {
    let reason = e
        .ssl_error()
        .and_then(|st| st.errors().iter().find_map(|x| x.reason()))?;
    matches!(
        reason,
        "unsupported protocol" | "tlsv1 alert protocol version" | "ssl/tls alert protocol version"
    )
    .then(|| reason.to_string())
}

/// OpenSSL's first queued reason for a failed handshake, and the key both hint tables
/// ([`handshake_reason`], [`server_handshake_reason`]) look it up by: OpenSSL 3.2 renamed the
/// alert reasons "sslv3 alert …" to "ssl/tls alert …", so the key has the one older spelling.
/// `None` when OpenSSL queued no reason.
fn reason_and_key(e: &openssl::ssl::Error) -> Option<(String, String)> {
    let reason = e
        .ssl_error()
        .and_then(|st| st.errors().iter().find_map(|x| x.reason()))?
        .to_string();
    let key = match reason.strip_prefix("ssl/tls alert ") {
        Some(rest) => format!("sslv3 alert {rest}"),
        None => reason.clone(),
    };
    Some((reason, key))
}

/// OpenSSL's handshake error made readable: the library's reason plus what it usually means.
pub(super) fn handshake_reason(e: &openssl::ssl::Error) -> Hint {
    if let Some(io) = e.io_error() {
        return Hint::plain(match io.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                "the peer closed the connection during the handshake".into()
            }
            std::io::ErrorKind::BrokenPipe
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted => {
                format!("the peer closed the connection during the handshake ({io})")
            }
            _ => format!("I/O error: {io}"),
        });
    }
    let Some((reason, key)) = reason_and_key(e) else {
        // SSL_ERROR_SYSCALL with nothing queued: the transport hit EOF.
        return Hint::plain(if e.code() == openssl::ssl::ErrorCode::SYSCALL {
            "the peer closed the connection during the handshake".into()
        } else {
            e.to_string()
        });
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
            "the server rejected the handshake: no cipher or version in common, or it requires a client certificate (⟨client-cert⟩)",
        ),
        "no shared cipher" | "no cipher match" => {
            Some("the server rejected the handshake: no cipher or version in common")
        }
        "tlsv13 alert certificate required" | "sslv3 alert bad certificate" => {
            Some("the server wants a client certificate (⟨client-cert⟩)")
        }
        "tlsv1 alert unrecognized name" => Some("the server does not know the SNI name sent"),
        "tlsv1 alert internal error" => Some("the server hit an internal error"),
        _ => None,
    };
    match hint {
        Some(h) if h != reason => Hint::new(h).after(&format!("{reason}: ")),
        _ => Hint::plain(reason),
    }
}

/// [`handshake_reason`] from the server's side (`ehlo serve`): the peer is the client, so what
/// the client's wording blames on "the server" is the client's doing here, and a certificate
/// alert means the client refused this server's certificate (not that a client certificate is
/// wanted). Reasons both sides share keep the client's wording.
pub(super) fn server_handshake_reason(e: &openssl::ssl::Error) -> Hint {
    let Some((reason, key)) = reason_and_key(e).filter(|_| e.io_error().is_none()) else {
        return handshake_reason(e);
    };
    let hint = match key.as_str() {
        "wrong version number"
        | "packet length too long"
        | "record layer failure"
        | "http request"
        | "unknown protocol" => {
            "the client did not speak TLS (plain SMTP to this implicit-TLS listener, or plain text after STARTTLS)"
        }
        "unsupported protocol" | "tlsv1 alert protocol version" => {
            "no TLS version in common (the client offers only versions this OpenSSL refuses by default, such as TLS 1.0/1.1)"
        }
        "no shared cipher" | "no cipher match" | "sslv3 alert handshake failure" => {
            "no cipher or version in common with the client"
        }
        "sslv3 alert bad certificate"
        | "sslv3 alert certificate unknown"
        | "sslv3 alert unsupported certificate"
        | "sslv3 alert certificate expired"
        | "tlsv1 alert unknown ca" => {
            "the client refused this server's certificate (without --tls-cert it is a generated self-signed one: the client must trust it or skip verification)"
        }
        _ => return handshake_reason(e),
    };
    Hint::plain(format!("{reason}: {hint}"))
}

/// A read on an established TLS stream failed because the server sent a TLS alert: TLS 1.3
/// servers refuse a missing or unacceptable client certificate only *after* the client finished
/// its handshake, so the refusal arrives with the first read. The readable reason, or `None` for
/// ordinary I/O errors.
pub(crate) fn alert_on_read(e: &std::io::Error) -> Option<Hint> {
    let ssl = e.get_ref()?.downcast_ref::<openssl::ssl::Error>()?;
    let alert = ssl.ssl_error().is_some_and(|st| {
        st.errors()
            .iter()
            .any(|x| x.reason().is_some_and(|r| r.contains("alert")))
    });
    alert.then(|| handshake_reason(ssl))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::event::{CertInfo, VerifyVerdict};

    /// The dates a chain failed on are named, whichever wording of the reason OpenSSL 3 uses.
    #[test]
    fn a_date_failure_names_the_date_in_every_openssl_wording() {
        let info = |reason: &str| TlsInfo {
            chain: vec![CertInfo {
                not_before: "2030-01-01T00:00:00Z".into(),
                not_after: "2021-01-01T00:00:00Z".into(),
                ..CertInfo::default()
            }],
            verify: VerifyVerdict {
                checked_name: Some("mx.example.test".into()),
                name_ok: true,
                reason: Some(reason.into()),
                ..VerifyVerdict::default()
            },
            ..TlsInfo::default()
        };
        for (reason, want) in [
            (
                "certificate is not yet valid",
                "the certificate is not valid before 2030-01-01T00:00:00Z",
            ),
            (
                "certificate is not yet valid or the system clock is incorrect",
                "the certificate is not valid before 2030-01-01T00:00:00Z",
            ),
            (
                "certificate has expired",
                "the certificate expired on 2021-01-01T00:00:00Z",
            ),
            (
                "certificate has expired or the system clock is incorrect",
                "the certificate expired on 2021-01-01T00:00:00Z",
            ),
        ] {
            let got = explain_failure(&info(reason)).to_string();
            assert!(got.contains(want), "{reason}: {got}");
            assert!(got.starts_with(reason), "{reason}: {got}");
        }
    }
}
