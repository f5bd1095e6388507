//! The server's renegotiations of an established client session (TLS 1.2 and older, RFC 5246
//! §7.4.1.1 HelloRequest; OpenSSL's client takes part only in secure renegotiation, RFC 5746):
//! each new handshake's certificate judged as the first one was, the news for the transcript,
//! and a refusal (an untrusted certificate under `--tls-verify`, or a server renegotiating
//! without end) that [`super::tap::Tap`] enforces by failing the session's next read or write.
//!
//! The openssl crate has no info callback: renegotiations are counted by the tap (the client's
//! ChangeCipherSpec after the first handshake), and the verify callback, which runs once per
//! handshake that carries a certificate (a full one; an abbreviated one resumes the session),
//! judges each new certificate. It ends each verification where OpenSSL's default callback
//! does (at the first error), so the first handshake's verdict is unchanged.

use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use openssl::hash::MessageDigest;
use openssl::x509::{X509, X509Ref, X509StoreContext, X509StoreContextRef, X509VerifyResult};

use super::params::Fallback;
use super::verify::{cert_info, match_name, with_fallback};
use crate::smtp::event::{Event, TlsInfo, VerifyPart, VerifyVerdict};

/// Renegotiations a session goes along with; the next one is refused: each is a full
/// handshake, and a server asking for them in a loop would hold the send forever.
pub(super) const MAX_RENEGOTIATIONS: u32 = 8;

/// How a renegotiated certificate is judged: as the first handshake's was.
#[derive(Debug, Clone)]
pub(super) struct Judge {
    /// The name checked (RFC 6125), empty when none is.
    pub(super) checked: String,
    pub(super) checked_ip: Option<IpAddr>,
    /// `--tls-verify` (or its halves) is enforced.
    pub(super) enforced: bool,
    /// Only this half of the verdict counts.
    pub(super) only: Option<VerifyPart>,
    /// Why verification is not enforced when `--tls-verify` asked for it (the TLSA records
    /// all unusable, RFC 7672 §3.1.3): said for the new certificate as for the first.
    pub(super) waived: Option<String>,
    /// TLSA records that authenticate the server instead of the CA store (RFC 7672 §3), as
    /// the first handshake's chain was matched against them; empty = none.
    pub(super) tlsa: Vec<crate::net::dane::Tlsa>,
    /// The reference names a DANE-TA leaf must carry (RFC 7672 §3.2.2-3).
    pub(super) dane_names: Vec<String>,
    /// The bundle the first handshake's verdict falls back to when the hashed directory does
    /// not know the issuer ([`super::verify::with_fallback`]), and the level it judges at.
    pub(super) fallback: Option<Fallback>,
    pub(super) auth_level: u32,
}

#[derive(Debug, Default)]
struct State {
    /// Verifications seen: the first handshake's, then one per full renegotiation (an
    /// abbreviated one resumes the session, with no certificate).
    handshakes: u32,
    /// Renegotiations the client finished.
    renegotiations: u32,
    /// SHA-256 of the first handshake's leaf certificate.
    first_leaf: Option<Vec<u8>>,
    /// Transcript events not yet taken.
    news: Vec<Event>,
    /// Why the session is refused.
    refused: Option<String>,
}

/// What the server's renegotiations did, shared by the verify callback, the stream under the
/// session and the connection layer that reports it.
#[derive(Debug, Default)]
pub(crate) struct Renegotiation {
    state: Mutex<State>,
    refused: AtomicBool,
}

fn digest(cert: &X509Ref) -> Option<Vec<u8>> {
    cert.digest(MessageDigest::sha256())
        .ok()
        .map(|d| d.to_vec())
}

impl Renegotiation {
    /// The session is refused: no byte more goes to the server or comes from it.
    pub(super) fn is_refused(&self) -> bool {
        self.refused.load(Ordering::Acquire)
    }

    /// Why the session was refused, if it was.
    pub(crate) fn refusal(&self) -> Option<String> {
        self.lock().refused.clone()
    }

    /// The transcript events since the last call.
    pub(super) fn take_news(&self) -> Vec<Event> {
        std::mem::take(&mut self.lock().news)
    }

    /// The transcript events since the last call, taken once a read of `ssl`'s session has
    /// returned: a renegotiation it went along with has then ended (its application data
    /// follow its Finished, RFC 5246 §7.4.9), and the cipher and version `ssl` now uses are the
    /// new handshake's, told as the first handshake's are. The verify callback that judged the
    /// new certificate ran before the ServerHelloDone, when OpenSSL has no current cipher yet.
    /// A refused renegotiation never ended: its event keeps only the version it offered.
    pub(crate) fn take_news_of(&self, ssl: &openssl::ssl::SslRef) -> Vec<Event> {
        let mut news = self.take_news();
        if self.is_refused() {
            return news;
        }
        for ev in &mut news {
            if let Event::TlsRenegotiated { info } = ev {
                if let Some(c) = ssl.current_cipher() {
                    info.cipher = c.name().to_string();
                    info.bits = c.bits().secret;
                }
                info.version = ssl.version_str().to_string();
            }
        }
        news
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn refuse(&self, st: &mut State, why: String) -> bool {
        st.refused = Some(why);
        self.refused.store(true, Ordering::Release);
        false
    }

    /// The client has now finished `n` renegotiations (its ChangeCipherSpec records after the
    /// first handshake, seen by the tap): each is said once, and one past the cap is refused.
    pub(super) fn renegotiated(&self, n: u32) {
        let mut st = self.lock();
        if n <= st.renegotiations {
            return;
        }
        while st.renegotiations < n {
            st.renegotiations += 1;
            if st.renegotiations > MAX_RENEGOTIATIONS {
                self.refuse(
                    &mut st,
                    format!(
                        "the server asked for TLS renegotiation more than {MAX_RENEGOTIATIONS} times in one session: refused (each is a handshake)"
                    ),
                );
                return;
            }
            st.news.push(Event::info(
                "server renegotiated TLS (RFC 5746 secure renegotiation)",
            ));
        }
    }

    /// The verify callback: `ok` is OpenSSL's verdict on the certificate at the context's
    /// depth. Returns what OpenSSL's default callback would (`ok`), except that a refused
    /// renegotiation returns `false`.
    pub(super) fn on_verify(&self, judge: &Judge, ok: bool, ctx: &mut X509StoreContextRef) -> bool {
        // A verification ends at its first error (returned as is) or with the leaf's success,
        // reported last (depth 0): one call per handshake is counted.
        if ok && ctx.error_depth() != 0 {
            return true;
        }
        let leaf = match ctx.chain().and_then(|c| c.get(0)) {
            Some(c) => c.to_owned(),
            None => match ctx.current_cert() {
                Some(c) => c.to_owned(),
                None => return ok,
            },
        };
        let mut st = self.lock();
        st.handshakes += 1;
        if st.handshakes == 1 {
            st.first_leaf = digest(&leaf);
            return ok;
        }
        if st.first_leaf.is_some() && digest(&leaf) == st.first_leaf {
            return ok;
        }
        // Judged as the first handshake's chain is: the bundle when the directory lacks the
        // issuer. The chain OpenSSL built so far holds the server's certificates that it used.
        let chain_err = if ok {
            None
        } else {
            let result = match ctx.chain() {
                Some(chain) => with_fallback(
                    ctx.error(),
                    judge.fallback.as_ref(),
                    judge.auth_level,
                    &leaf,
                    chain,
                ),
                None => ctx.error(),
            };
            (result != X509VerifyResult::OK).then(|| result.error_string().to_string())
        };
        let name_err = (!judge.checked.is_empty()
            && match_name(&leaf, &judge.checked, judge.checked_ip).is_none())
        .then(|| {
            if judge.checked_ip.is_some() {
                "IP address mismatch".to_string()
            } else {
                format!("hostname mismatch (using host {} to verify)", judge.checked)
            }
        });
        let counted = match judge.only {
            None => chain_err.clone().or(name_err.clone()),
            Some(VerifyPart::Chain) => chain_err.clone(),
            Some(VerifyPart::Name) => name_err.clone(),
        };
        // The certificate now in use, judged as the first handshake's is (the CA verdict, the
        // name, the TLSA records when they apply), for the transcript and the JSON. The chain
        // is the one OpenSSL built from what the server sent (leaf first), as far as it got.
        let chain: Vec<X509> = match ctx.chain() {
            Some(c) if !c.is_empty() => c.iter().map(X509Ref::to_owned).collect(),
            _ => vec![leaf.clone()],
        };
        let dane = (!judge.tlsa.is_empty()).then(|| {
            crate::net::dane::verify(
                &chain,
                &judge.tlsa,
                &judge.dane_names,
                judge.enforced,
                judge.auth_level,
            )
        });
        let ssl = X509StoreContext::ssl_idx()
            .ok()
            .and_then(|i| ctx.ex_data(i));
        let matched = (!judge.checked.is_empty())
            .then(|| match_name(&leaf, &judge.checked, judge.checked_ip))
            .flatten();
        let info = TlsInfo {
            // The cipher is filled in when the news is taken, the handshake over
            // (`take_news_of`); a stapled OCSP response (RFC 6066 §8, after the Certificate
            // message) comes after this judgement: not known here, left out.
            version: ssl.map(|s| s.version_str().to_string()).unwrap_or_default(),
            sni: ssl
                .and_then(|s| s.servername(openssl::ssl::NameType::HOST_NAME))
                .map(str::to_string),
            chain: chain.iter().map(|c| cert_info(c)).collect(),
            verify: VerifyVerdict {
                ok: chain_err.is_none() && name_err.is_none(),
                enforced: judge.enforced,
                checked_name: (!judge.checked.is_empty()).then(|| judge.checked.clone()),
                chain_ok: chain_err.is_none(),
                name_ok: name_err.is_none(),
                matched,
                reason: chain_err.clone().or_else(|| {
                    name_err.as_ref().map(|_| {
                        if judge.checked_ip.is_some() {
                            "IP address mismatch".to_string()
                        } else {
                            "hostname mismatch".to_string()
                        }
                    })
                }),
                only: judge.only,
                waived: judge.waived.clone(),
            },
            dane: dane.clone(),
            ..Default::default()
        };
        let leaf_info = cert_info(&leaf);
        let whose = format!("subject={}, issuer={}", leaf_info.subject, leaf_info.issuer);
        st.news.push(Event::TlsRenegotiated { info });
        if judge.enforced {
            // With TLSA records the records authenticate the server, not the CA store (RFC 7672
            // §3): the new certificate is matched against them as the first one was.
            if let Some(d) = &dane {
                if !d.ok {
                    let why = d.reason.as_deref().unwrap_or("no TLSA record matched");
                    return self.refuse(
                        &mut st,
                        format!(
                            "the server presented a certificate in a TLS renegotiation that the TLSA records do not authenticate: {why} ({whose})"
                        ),
                    );
                }
            } else if let Some(why) = counted {
                return self.refuse(
                    &mut st,
                    format!(
                        "the server presented an untrusted certificate in a TLS renegotiation: {why} ({whose})"
                    ),
                );
            }
        }
        let verdict = match (&dane, chain_err.or(name_err)) {
            (Some(d), _) if !d.ok => format!(
                " (it would fail DANE: {})",
                d.reason.as_deref().unwrap_or("no TLSA record matched")
            ),
            (Some(_), _) => " (authenticated by DANE)".to_string(),
            (None, Some(why)) => match &judge.waived {
                Some(waived) => {
                    format!(" (it would fail verification: {why}; not enforced: {waived})")
                }
                None => format!(" (it would fail verification: {why})"),
            },
            (None, None) => String::new(),
        };
        st.news.push(Event::warning(format!(
            "TLS certificate changed in the renegotiation: now {whose}{verdict}"
        )));
        ok
    }
}
