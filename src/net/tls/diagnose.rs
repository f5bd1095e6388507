//! What a TLS failure means in words: handshake reasons, verification failures, alerts on read.

use crate::smtp::codes::Hint;
use crate::smtp::event::{CertInfo, TlsInfo, VerifyPart};

/// What to do about a chain that does not verify; remedies kept as data for each front end.
const VERIFY_HINT: &str = "use ⟨ca-file⟩ if the CA is private, or ⟨insecure⟩ to skip verification";
/// [`VERIFY_HINT`] when a CA file or directory was given already (`--tls-ca-path`, `:starttls
/// --ca`): it replaced the system store and does not hold the issuer, so "use --tls-ca-path"
/// told the user to add what they had given.
const VERIFY_HINT_CA_GIVEN: &str = "the CA file given (⟨ca-file⟩) replaces the system store and \
     holds no CA that issued this chain: give the one that does, or ⟨insecure⟩ to skip \
     verification";
/// A certificate the server sent is past its notAfter: no CA file makes it valid again.
const EXPIRED_HINT: &str =
    "the server's operator must renew it; ⟨insecure⟩ skips verification meanwhile";
/// A certificate the server sent starts later (RFC 5280 §4.1.2.5): a clock, or its issue date.
const NOT_YET_HINT: &str = "check this machine's clock; if it is right, the certificate was issued \
     to start later; ⟨insecure⟩ skips verification meanwhile";
/// Only certificates out of their dates that the server did not send: the trust store's own
/// root or intermediate, which a current store (or CA file) replaces.
const STORE_DATES_HINT: &str = "none the server sent is out of its dates: a root or \
     intermediate of the trust store is; update it, or use ⟨ca-file⟩ with a current CA, or \
     ⟨insecure⟩ to skip verification";
/// A key or signature below OpenSSL's security level (OpenSSL 3 refuses SHA-1 signatures from
/// level 1 on, and RSA/DSA/DH keys under 2048 bits at level 2): the server's certificate must
/// change.
const WEAK_HINT: &str = "the server needs a certificate with a stronger key or signature, \
     such as RSA of 2048 bits or more signed with SHA-256; ⟨insecure⟩ skips verification \
     meanwhile";

/// A chain that is malformed, not unknown: its certificates break a rule of RFC 5280 that no
/// trust store can waive, so a CA file changes nothing; the certificates must be reissued.
const DEFECT_HINT: &str = "no CA file mends this: the server's operator must reissue the \
     certificate or fix the chain it sends; ⟨insecure⟩ skips verification meanwhile";

/// What a malformed chain's verify error (OpenSSL's `X509_verify_cert_error_string`) means, by
/// the rule of RFC 5280 it breaks; `None` for the other errors.
fn chain_defect(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "unhandled critical extension" => {
            "a certificate the server sent carries an extension marked critical that this \
             client does not know, and RFC 5280 §4.2 requires such a certificate to be rejected"
        }
        "permitted subtree violation"
        | "excluded subtree violation"
        | "name constraints minimum and maximum not supported"
        | "unsupported name constraint type"
        | "unsupported or invalid name constraint syntax"
        | "unsupported or invalid name syntax" => {
            "a CA's name constraints (RFC 5280 §4.2.1.10) do not allow a name in a certificate \
             below it"
        }
        "invalid CA certificate" => {
            // OpenSSL's X509_check_ca: no CA:TRUE, or a keyUsage without keyCertSign.
            "a certificate that issued another in the chain is not a CA (its basicConstraints \
             lack CA:TRUE, RFC 5280 §4.2.1.9, or its keyUsage lacks keyCertSign, §4.2.1.3)"
        }
        "path length constraint exceeded" => {
            "a CA's pathLenConstraint (RFC 5280 §4.2.1.9) allows fewer intermediates below it \
             than the chain has"
        }
        "key usage does not include certificate signing" => {
            "a CA's keyUsage lacks keyCertSign (RFC 5280 §4.2.1.3)"
        }
        "unsuitable certificate purpose" => {
            "the certificate is not one for a TLS server (its extendedKeyUsage lacks \
             serverAuth, RFC 5280 §4.2.1.12)"
        }
        "certificate signature failure"
        | "unable to decrypt certificate's signature"
        | "unable to decode issuer public key" => {
            "a signature in the chain does not verify: a certificate was altered, or was not \
             signed by the certificate that has its issuer's name"
        }
        _ => return None,
    })
}

/// The server sent no certificate: only an anonymous cipher (`aNULL`, RFC 5246 §7.4.2
/// "anonymous") allows that, and only when the client offered one; no CA file can help.
const NO_CERT_HINT: &str = "an anonymous cipher authenticates no server: ⟨insecure⟩ is the \
     only way on, or leave aNULL out of the cipher list to refuse such a server";

/// Did the handshake fail because the peer does not speak TLS at all? Judged by OpenSSL's
/// reason *codes* (stable across versions), not its wording.
pub(super) fn is_not_tls(e: &openssl::ssl::Error) -> bool {
    // SSL_R_WRONG_VERSION_NUMBER, SSL_R_PACKET_LENGTH_TOO_LONG, SSL_R_UNKNOWN_PROTOCOL,
    // SSL_R_HTTP_REQUEST, and SSL_R_RECORD_LAYER_FAILURE (what OpenSSL 3.2+ may report).
    const CODES: [i32; 5] = [267, 198, 252, 156, 313];
    e.ssl_error()
        .is_some_and(|st| st.errors().iter().any(|x| CODES.contains(&x.reason_code())))
}

/// The certificates of the chain the server sent that are out of their dates (`bad`), each
/// with the date `date` gives, in the transcript's numbering (`peer[1]`). The leaf alone keeps
/// the short form; `None` when none the server sent is (the trust store's own certificate is).
fn out_of_dates(
    info: &TlsInfo,
    bad: impl Fn(&CertInfo) -> bool,
    date: impl Fn(&CertInfo) -> &str,
    verb: &str,
) -> Option<String> {
    let found: Vec<(usize, &CertInfo)> = info
        .chain
        .iter()
        .enumerate()
        .filter(|(_, c)| bad(c))
        .collect();
    match found.as_slice() {
        [] => None,
        [(0, leaf)] => Some(format!("the certificate {verb} {}", date(leaf))),
        _ => Some(
            found
                .iter()
                .map(|(i, c)| match i {
                    0 => format!("the server's certificate {verb} {}", date(c)),
                    _ => format!("peer[{i}] ({}) {verb} {}", c.subject, date(c)),
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
    }
}

/// Which issuer the chain the server sent stops short of, for "unable to get local issuer
/// certificate" (X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY): follow issuer names up from the
/// leaf through the certificates sent, in any order (RFC 8446 §4.4.2 lets them come unordered),
/// to the first whose issuer was not sent. The leaf's own issuer missing is the usual
/// misconfiguration, an intermediate left out (RFC 5246 §7.4.2 asks the server to send it);
/// a chain that climbs and then stops names a root the trust store lacks. `None` without a
/// chain, or when a certificate sent issues itself (another reason covers that).
pub(crate) fn missing_issuer(info: &TlsInfo) -> Option<String> {
    let mut at = info.chain.first()?;
    for _ in 0..info.chain.len() {
        if at.issuer == at.subject || at.issuer.is_empty() {
            return None;
        }
        match info.chain.iter().find(|c| c.subject == at.issuer) {
            Some(up) => at = up,
            None if std::ptr::eq(at, &info.chain[0]) => {
                return Some(format!(
                    "the server did not send its certificate's issuer {}, and the trust store \
                     does not hold it (the server omits an intermediate certificate, or the CA \
                     is private)",
                    at.issuer
                ));
            }
            None => {
                return Some(format!(
                    "the chain the server sent ends at {}, whose issuer {} is not in the trust \
                     store (a private CA, or a root this store lacks)",
                    at.subject, at.issuer
                ));
            }
        }
    }
    None
}

/// One line: what failed, why it matters, and what to do. `stand_in_host`: the connection has
/// no host name (a socket, a pipe), so `localhost` was checked and no other name to connect by
/// would change that. `ca_given`: the trusted CAs are a file or directory the user gave, not
/// the system store ([`VERIFY_HINT_CA_GIVEN`]).
pub(super) fn explain_failure(info: &TlsInfo, stand_in_host: bool, ca_given: bool) -> Hint {
    let verify_hint = if ca_given {
        VERIFY_HINT_CA_GIVEN
    } else {
        VERIFY_HINT
    };
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
    let (why, chain_hint) = if !v.chain_ok && !name_only {
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
            "self-signed certificate" | "self signed certificate" => (
                "the server presented a self-signed certificate".to_string(),
                verify_hint,
            ),
            "self-signed certificate in certificate chain"
            | "self signed certificate in certificate chain" => (
                "the chain ends in a root that is not in the trust store".to_string(),
                verify_hint,
            ),
            "unable to get local issuer certificate" | "unable to verify the first certificate" => (
                missing_issuer(info).unwrap_or_else(|| {
                    "the issuer is not in the trust store (a private CA, or the server omits an \
                     intermediate certificate)"
                        .to_string()
                }),
                verify_hint,
            ),
            // The certificate out of its dates may be an intermediate, not the leaf: the one
            // that is gets named, never the leaf's date for another's failure.
            "certificate has expired" => out_of_dates(
                info,
                |c| c.days_left < 0,
                |c| c.not_after.as_str(),
                "expired on",
            )
            .map_or((String::new(), STORE_DATES_HINT), |w| (w, EXPIRED_HINT)),
            "certificate is not yet valid" => out_of_dates(
                info,
                |c| c.not_yet_valid,
                |c| c.not_before.as_str(),
                "is not valid before",
            )
            .map_or((String::new(), STORE_DATES_HINT), |w| (w, NOT_YET_HINT)),
            // "EE certificate key too weak", "CA certificate key too weak", "CA signature
            // digest algorithm too weak": OpenSSL's security level, not the trust store.
            weak if weak.ends_with("too weak") => (String::new(), WEAK_HINT),
            "the server sent no certificate" => (
                format!(
                    "it chose {} {}, a cipher without one",
                    info.version, info.cipher
                ),
                NO_CERT_HINT,
            ),
            defect => chain_defect(defect).map_or((String::new(), verify_hint), |w| {
                (w.to_string(), DEFECT_HINT)
            }),
        }
    } else {
        let names = leaf.map(|c| c.sans.join(", ")).unwrap_or_default();
        let checked = v.checked_name.as_deref().unwrap_or("?");
        // A wildcard that looks as if it should match but may not: said, or the mismatch
        // reads as ehlo's mistake (`openssl s_client` and every RFC 6125 client agree).
        let wildcard = leaf
            .map(|c| wildcard_miss(&c.sans, checked))
            .unwrap_or_default();
        (
            format!(
                "the certificate is not valid for {checked} (it names {}){wildcard}",
                if names.is_empty() {
                    leaf.map(|c| c.subject.as_str()).unwrap_or("nothing")
                } else {
                    &names
                }
            ),
            verify_hint,
        )
    };
    // The chain is trusted and only the name is wrong (typically: connected by IP address, or
    // by an alias): a CA file would change nothing; the name to connect by or check is the fix.
    let hint = if (v.chain_ok || name_only) && !v.name_ok {
        // A certificate for addresses only (IP subjectAltNames, RFC 5280 §4.2.1.6) is met by
        // connecting to, or checking, one of them: that is the example then, not "NAME".
        let named = leaf
            .and_then(|c| {
                let dns = c.sans.iter().find_map(|s| s.strip_prefix("DNS:"));
                let ip = c.sans.iter().find_map(|s| s.strip_prefix("IP:"));
                dns.filter(|n| !n.starts_with('*'))
                    .or(ip.filter(|_| dns.is_none()))
            })
            .unwrap_or("NAME");
        let mut h = if stand_in_host {
            // swaks fails the name check on these transports; ehlo checks `localhost`.
            Hint::plain(
                "a socket or pipe has no host name: localhost is checked unless another name \
                 is given; check it against a name the certificate holds with ",
            )
        } else {
            let mut h = Hint::plain("connect by a name the certificate holds (e.g. ");
            h.push(Hint::new("⟨connect-to⟩"));
            h.push_str(&format!(" {named}), or check it against that name with "));
            h
        };
        h.push(Hint::new("⟨verify-name⟩"));
        h.push_str(&format!(" {named}; "));
        h.push(Hint::new("⟨insecure⟩ skips verification"));
        h
    } else {
        Hint::new(chain_hint)
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

/// The words [`wildcard_near_miss`] adds for the first DNS subjectAltName of `sans` (`DNS:…`
/// entries, as [`CertInfo::sans`] holds them) that `name` misses by depth; empty if none.
pub(crate) fn wildcard_miss(sans: &[String], name: &str) -> String {
    sans.iter()
        .filter_map(|s| s.strip_prefix("DNS:"))
        .find_map(|p| wildcard_near_miss(p, name))
        .unwrap_or_default()
}

/// `pattern` is a wildcard (`*.example.com`) that `name` misses only by its depth: the domain
/// itself, or a name more than one label below it. RFC 6125 §6.4.3 lets the `*` stand for one
/// whole left-most label, no more and no fewer. The words to add, or `None`.
fn wildcard_near_miss(pattern: &str, name: &str) -> Option<String> {
    let rest = pattern.strip_prefix("*.")?.trim_end_matches('.');
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    let rest_lc = rest.to_ascii_lowercase();
    let deeper = n
        .strip_suffix(&rest_lc)
        .and_then(|head| head.strip_suffix('.'))
        .is_some_and(|head| head.contains('.'));
    (n == rest_lc || deeper).then(|| {
        format!(
            ": {pattern} stands for exactly one label (RFC 6125 §6.4.3), so it covers neither \
             {rest} itself nor a name two or more labels below it"
        )
    })
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
        // TLS 1.2 and 1.3 are what ehlo offers unless told otherwise (`TlsParams::protocols`
        // unset); TLS 1.0 and 1.1 are obsolete (RFC 8996) and reached only on request.
        "unsupported protocol" | "tlsv1 alert protocol version" => Some(
            "no TLS version in common (the server may offer only the obsolete TLS 1.0/1.1, which ehlo leaves out unless asked: ⟨old-tls⟩)",
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
        // Alerts only a server that checked the client certificate sends (RFC 8446 §6.2; OpenSSL
        // sends `certificate_expired` for a certificate not valid yet too): they judge the
        // client's certificate, never the server's own, which the client verifies itself.
        "tlsv1 alert unknown ca" => Some(
            "the server does not trust the issuer of the client certificate sent (a CA it does not accept, or an intermediate missing from the chain sent) (⟨client-cert⟩)",
        ),
        "sslv3 alert certificate expired" => Some(
            "the server refused the client certificate sent as out of its dates (expired, or not valid yet) (⟨client-cert⟩)",
        ),
        "sslv3 alert certificate revoked" => {
            Some("the server refused the client certificate sent as revoked (⟨client-cert⟩)")
        }
        "sslv3 alert certificate unknown" | "sslv3 alert unsupported certificate" => {
            Some("the server refused the client certificate sent (⟨client-cert⟩)")
        }
        "tlsv1 alert unrecognized name" => Some("the server does not know the SNI name sent"),
        "tlsv1 alert internal error" => Some("the server hit an internal error"),
        // SSL_R_EXCESSIVE_MESSAGE_SIZE: a handshake message past OpenSSL's cap, in practice the
        // server's Certificate message over the 100 KiB certificate list limit.
        "excessive message size" => Some(
            "a handshake message from the server is larger than OpenSSL accepts: usually a certificate chain over 100 KiB (a misconfigured server)",
        ),
        _ => None,
    };
    match hint {
        Some(h) if h != reason => Hint::new(h).after(&format!("{reason}: ")),
        _ => Hint::plain(reason),
    }
}

/// The TLS 1.2 handshake failed with a `handshake_failure` alert after the server asked for a
/// client certificate and got an empty one (RFC 5246 §7.4.6 lets it end the handshake so):
/// [`handshake_reason`]'s "no cipher or version in common, or …" guess made sure. `None` for
/// any other failure.
pub(super) fn client_cert_refused_absent(e: &openssl::ssl::Error) -> Option<Hint> {
    let (reason, key) = reason_and_key(e).filter(|_| e.io_error().is_none())?;
    (key == "sslv3 alert handshake failure").then(|| {
        Hint::new(
            "the server asked for a client certificate and ended the handshake when none came: it requires one (⟨client-cert⟩)",
        )
        .after(&format!("{reason}: "))
    })
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

/// A read on an established TLS session of `ehlo serve` failed with a TLS error: the reason in
/// words, from the server's side, as [`alert_on_read`] words the server's alert for the send
/// (`the server ended the TLS session: …`), instead of OpenSSL's error stack
/// (`error:0A000126:SSL routines::unexpected eof while reading:…`). `None` for a plain I/O
/// error (a reset says itself) or a TLS error OpenSSL gave no reason for.
pub(crate) fn server_read_reason(e: &std::io::Error) -> Option<Hint> {
    let ssl = e.get_ref()?.downcast_ref::<openssl::ssl::Error>()?;
    let (reason, key) = reason_and_key(ssl).filter(|_| ssl.io_error().is_none())?;
    if key.contains(" alert ") {
        // RFC 8446 §6: the client sent an alert and ended the session (after a refused
        // renegotiation, a certificate it refused late, …).
        return Some(Hint::plain(format!(
            "the client ended the TLS session: {reason}"
        )));
    }
    let hint = match key.as_str() {
        // RFC 8446 §6.1: a close without close_notify may have cut what was being sent.
        "unexpected eof while reading" => Some(
            "the client closed the connection in the middle of the TLS session (no close_notify)",
        ),
        "decryption failed or bad record mac"
        | "bad record mac"
        | "bad record type"
        | "record layer failure"
        | "wrong version number"
        | "packet length too long"
        | "unexpected record"
        | "unexpected message" => Some(
            "the client sent bytes that are not records of this TLS session (plain text after the handshake, or a corrupted stream)",
        ),
        _ => None,
    };
    Some(Hint::plain(match hint {
        Some(h) => format!("TLS error: {reason}: {h}"),
        None => format!("TLS error: {reason}"),
    }))
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
                days_left: if reason.contains("expired") {
                    -2000
                } else {
                    3000
                },
                not_yet_valid: reason.contains("not yet valid"),
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
            let got = explain_failure(&info(reason), false, false).to_string();
            assert!(got.contains(want), "{reason}: {got}");
            assert!(got.starts_with(reason), "{reason}: {got}");
        }
    }

    /// [`explain_failure`] for a connection by host name.
    fn explain_failure_of(info: &TlsInfo) -> Hint {
        explain_failure(info, false, false)
    }

    /// A trusted certificate for another name reached over a socket or a pipe: `localhost` was
    /// checked, and the remedy is the name to verify; `--server` (which a socket or pipe does
    /// not use) is not offered.
    #[test]
    fn a_name_mismatch_over_a_socket_or_pipe_offers_only_the_name_to_verify() {
        let mut info = chain_info("hostname mismatch", 10, false);
        info.chain[0].sans = vec!["DNS:mx.example.test".into()];
        info.verify.checked_name = Some("localhost".into());
        info.verify.chain_ok = true;
        info.verify.name_ok = false;
        let got = explain_failure(&info, true, false).to_string();
        assert!(got.contains("--tls-verify-target mx.example.test"), "{got}");
        assert!(got.contains("localhost is checked"), "{got}");
        assert!(!got.contains("--server"), "{got}");
        let by_name = explain_failure(&info, false, false).to_string();
        assert!(by_name.contains("--server mx.example.test"), "{by_name}");
    }

    /// A trusted certificate for IP addresses only, reached by a name: the example to connect
    /// by or check is an address it holds, where the hint used to say the literal "NAME".
    #[test]
    fn an_address_only_certificate_offers_its_address() {
        let mut info = chain_info("hostname mismatch", 10, false);
        info.chain[0].sans = vec!["IP:127.0.0.1".into(), "IP:::1".into()];
        info.verify.checked_name = Some("localhost".into());
        info.verify.chain_ok = true;
        info.verify.name_ok = false;
        let got = explain_failure_of(&info).to_string();
        assert!(got.contains("(e.g. --server 127.0.0.1)"), "{got}");
        assert!(got.contains("--tls-verify-target 127.0.0.1;"), "{got}");
        assert!(!got.contains("NAME"), "{got}");
        // A DNS name, when there is one, is still the example; a wildcard alone gives none.
        info.chain[0].sans = vec!["IP:127.0.0.1".into(), "DNS:mx.example.test".into()];
        let got = explain_failure_of(&info).to_string();
        assert!(got.contains("--server mx.example.test"), "{got}");
        info.chain[0].sans = vec!["DNS:*.example.test".into()];
        let got = explain_failure_of(&info).to_string();
        assert!(got.contains("--server NAME"), "{got}");
        // A wildcard missed by depth says why; it said only "it names DNS:*.example.test",
        // which reads as if a.b.example.test should have matched.
        for name in ["a.b.example.test", "example.test", "A.B.Example.Test."] {
            info.verify.checked_name = Some(name.into());
            let got = explain_failure_of(&info).to_string();
            assert!(
                got.contains(
                    "(it names DNS:*.example.test): *.example.test stands for exactly one label \
                     (RFC 6125 §6.4.3), so it covers neither example.test itself nor a name \
                     two or more labels below it"
                ),
                "{name}: {got}"
            );
        }
        // Another domain altogether: no wildcard words.
        info.verify.checked_name = Some("mx.other.test".into());
        let got = explain_failure_of(&info).to_string();
        assert!(!got.contains("stands for"), "{got}");
    }

    /// No certificate at all (an anonymous cipher the client allowed): the reason names the
    /// cipher, and no CA file is offered, which could not help; it used to be.
    #[test]
    fn no_certificate_is_blamed_on_the_anonymous_cipher_not_the_trust_store() {
        let info = TlsInfo {
            version: "TLSv1.2".into(),
            cipher: "ADH-AES256-GCM-SHA384".into(),
            verify: VerifyVerdict {
                checked_name: Some("mx.example.test".into()),
                reason: Some("the server sent no certificate".into()),
                ..VerifyVerdict::default()
            },
            ..TlsInfo::default()
        };
        let got = explain_failure_of(&info).to_string();
        assert!(
            got.starts_with(
                "the server sent no certificate: it chose TLSv1.2 ADH-AES256-GCM-SHA384, a \
                 cipher without one (an anonymous cipher authenticates no server: --insecure \
                 is the only way on"
            ),
            "{got}"
        );
        assert!(!got.contains("--tls-ca-path"), "{got}");
    }

    /// An unknown issuer names which one: the leaf's, when the server sent no intermediate,
    /// or the root above the last certificate sent. It said "the issuer is not in the trust
    /// store (a private CA, or the server omits an intermediate certificate)" for both.
    #[test]
    fn an_unknown_issuer_is_named() {
        let cert = |subject: &str, issuer: &str| CertInfo {
            subject: subject.into(),
            issuer: issuer.into(),
            ..CertInfo::default()
        };
        let info = |chain: Vec<CertInfo>| TlsInfo {
            chain,
            verify: VerifyVerdict {
                checked_name: Some("mx.example.test".into()),
                name_ok: true,
                reason: Some("unable to get local issuer certificate".into()),
                ..VerifyVerdict::default()
            },
            ..TlsInfo::default()
        };
        let leaf = cert("/CN=mx.example.test", "/CN=Lab Intermediate");
        let ica = cert("/CN=Lab Intermediate", "/CN=Lab Root CA");
        let other = cert("/CN=Other Root", "/CN=Other Root");
        // The intermediate left out (an unrelated certificate sent instead changes nothing).
        for chain in [vec![leaf.clone()], vec![leaf.clone(), other.clone()]] {
            let got = explain_failure_of(&info(chain)).to_string();
            assert!(
                got.contains(
                    "the server did not send its certificate's issuer /CN=Lab Intermediate, and \
                     the trust store does not hold it (the server omits an intermediate"
                ),
                "{got}"
            );
            assert!(got.contains("--tls-ca-path"), "{got}");
        }
        // Sent, out of order: the root above it is the one missing.
        let got = explain_failure_of(&info(vec![leaf.clone(), other, ica.clone()])).to_string();
        assert!(
            got.contains(
                "the chain the server sent ends at /CN=Lab Intermediate, whose issuer \
                 /CN=Lab Root CA is not in the trust store"
            ),
            "{got}"
        );
        // A loop of names does not hang; no chain keeps the general words.
        let a = cert("/CN=A", "/CN=B");
        let b = cert("/CN=B", "/CN=A");
        assert_eq!(missing_issuer(&info(vec![a, b])), None);
        let got = explain_failure_of(&info(vec![])).to_string();
        assert!(
            got.contains("the issuer is not in the trust store"),
            "{got}"
        );
    }

    /// A leaf, and an intermediate with the dates given, as the server sends them.
    fn chain_info(reason: &str, ica_days_left: i64, ica_not_yet: bool) -> TlsInfo {
        TlsInfo {
            chain: vec![
                CertInfo {
                    subject: "/CN=mx.example.test".into(),
                    not_before: "2026-01-01T00:00:00Z".into(),
                    not_after: "2099-01-01T00:00:00Z".into(),
                    days_left: 20000,
                    ..CertInfo::default()
                },
                CertInfo {
                    subject: "/CN=Old Intermediate".into(),
                    not_before: "2031-01-01T00:00:00Z".into(),
                    not_after: "2020-02-01T00:00:00Z".into(),
                    days_left: ica_days_left,
                    not_yet_valid: ica_not_yet,
                    ..CertInfo::default()
                },
            ],
            verify: VerifyVerdict {
                checked_name: Some("mx.example.test".into()),
                name_ok: true,
                reason: Some(reason.into()),
                ..VerifyVerdict::default()
            },
            ..TlsInfo::default()
        }
    }

    /// An intermediate out of its dates is the one named, with its own date: the leaf's
    /// notAfter (a date to come) was given as the day "the certificate expired".
    #[test]
    fn an_intermediate_out_of_its_dates_is_named_not_the_leaf() {
        let got =
            explain_failure_of(&chain_info("certificate has expired", -2500, false)).to_string();
        assert!(
            got.contains("peer[1] (/CN=Old Intermediate) expired on 2020-02-01T00:00:00Z"),
            "{got}"
        );
        assert!(!got.contains("2099"), "{got}");
        let got =
            explain_failure_of(&chain_info("certificate is not yet valid", 10, true)).to_string();
        assert!(
            got.contains("peer[1] (/CN=Old Intermediate) is not valid before 2031-01-01T00:00:00Z"),
            "{got}"
        );
        assert!(!got.contains("2026-01-01"), "{got}");
        // None the server sent is out of its dates: the trust store's own certificate is.
        let got = explain_failure_of(&chain_info("certificate has expired", 10, false)).to_string();
        assert!(!got.contains("2099") && !got.contains("2020"), "{got}");
        assert!(got.contains("trust store"), "{got}");
    }

    /// A CA file mends an unknown issuer, not a date or a weak key: each failure gets its own
    /// remedy, and `--insecure` stays the way past all of them.
    #[test]
    fn dates_and_weak_keys_are_not_sent_to_a_ca_file() {
        for (reason, ica_days, ica_not_yet, want) in [
            ("certificate has expired", -1, false, "renew"),
            ("certificate is not yet valid", 10, true, "clock"),
            ("EE certificate key too weak", 10, false, "stronger key"),
            ("CA certificate key too weak", 10, false, "stronger key"),
            (
                "CA signature digest algorithm too weak",
                10,
                false,
                "stronger key or signature",
            ),
        ] {
            let got = explain_failure_of(&chain_info(reason, ica_days, ica_not_yet)).to_string();
            assert!(got.starts_with(reason), "{got}");
            assert!(got.contains(want), "{reason}: {got}");
            assert!(!got.contains("--tls-ca-path"), "{reason}: {got}");
            assert!(got.contains("--insecure"), "{reason}: {got}");
        }
        // A malformed chain: RFC 5280 breaks no trust store can waive. Each used to be sent to
        // a CA file ("use --tls-ca-path FILE if the CA is private"), which changes nothing.
        for (reason, want) in [
            ("unhandled critical extension", "RFC 5280 §4.2"),
            ("permitted subtree violation", "name constraints"),
            ("excluded subtree violation", "name constraints"),
            ("invalid CA certificate", "is not a CA"),
            ("path length constraint exceeded", "pathLenConstraint"),
            (
                "key usage does not include certificate signing",
                "keyCertSign",
            ),
            ("unsuitable certificate purpose", "serverAuth"),
            ("certificate signature failure", "does not verify"),
        ] {
            let got = explain_failure_of(&chain_info(reason, 10, false)).to_string();
            assert!(got.starts_with(&format!("{reason}: ")), "{got}");
            assert!(got.contains(want), "{reason}: {got}");
            assert!(got.contains("reissue"), "{reason}: {got}");
            assert!(!got.contains("--tls-ca-path"), "{reason}: {got}");
            assert!(got.contains("--insecure"), "{reason}: {got}");
        }
        // An unknown issuer still gets the CA file.
        let got = explain_failure_of(&chain_info(
            "unable to get local issuer certificate",
            10,
            false,
        ));
        assert!(got.contains("--tls-ca-path"), "{got}");
    }
}
