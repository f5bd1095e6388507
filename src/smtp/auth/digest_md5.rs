//! SASL DIGEST-MD5 (RFC 2831, historic since RFC 6331 but still offered by old Exchange, Dovecot
//! and Cyrus setups, and by swaks): the server's digest-challenge is answered with a
//! digest-response for qop `auth` (no integrity or privacy layer), then the server's `rspauth`
//! is checked, which proves that the server knows the password too.

use md5::{Digest, Md5};

use super::{
    AuthError, Credentials, Mechanism, Secret, Step, empty_step, mask, need_user_and_password,
    printable,
};

const NAME: &str = "DIGEST-MD5";

/// The service name in `digest-uri` (RFC 2831 §2.1.2: "smtp" for SMTP, RFC 4954 §4).
const DEFAULT_SERV_TYPE: &str = "smtp";

/// DIGEST-MD5 client. Holds the password, so its `Debug` is hand-written.
pub(crate) struct DigestMd5 {
    user: String,
    password: Option<Secret>,
    authzid: Option<String>,
    realm: Option<String>,
    digest_uri: String,
    cnonce: Option<String>,
    state: State,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Waiting for the digest-challenge.
    Start,
    /// The digest-response went out; the server's `rspauth` must equal this.
    Sent { rspauth: String },
    /// `rspauth` checked.
    Verified,
}

impl std::fmt::Debug for DigestMd5 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestMd5")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("authzid", &self.authzid)
            .field("realm", &self.realm)
            .field("digest_uri", &self.digest_uri)
            .field(
                "state",
                &match self.state {
                    State::Start => "start",
                    // rspauth is password-derived.
                    State::Sent { .. } => "sent",
                    State::Verified => "verified",
                },
            )
            .finish()
    }
}

impl DigestMd5 {
    /// Take what DIGEST-MD5 needs from the credentials: `digest-uri` is
    /// `serv-type/host[/serv-name]` (RFC 2831 §2.1.2), from [`Credentials::service`] (default
    /// `smtp`), [`Credentials::service_host`] or else the server's host name, and
    /// [`Credentials::service_name`]; the realm from [`Credentials::realm`] or else the first one
    /// the server offers.
    pub(crate) fn new(creds: &Credentials) -> Self {
        let serv_type = creds.service.as_deref().unwrap_or(DEFAULT_SERV_TYPE);
        let host = creds
            .service_host
            .as_deref()
            .or(creds.host.as_deref())
            .unwrap_or("localhost");
        let mut digest_uri = format!("{serv_type}/{host}");
        if let Some(name) = creds.service_name.as_deref().filter(|n| !n.is_empty()) {
            digest_uri.push('/');
            digest_uri.push_str(name);
        }
        DigestMd5 {
            user: creds.user.clone(),
            password: creds.password.clone(),
            authzid: creds.authzid.clone().filter(|a| !a.is_empty()),
            realm: creds.realm.clone(),
            digest_uri,
            cnonce: creds.nonce.clone(),
            state: State::Start,
        }
    }

    fn response(&mut self, challenge: &[u8]) -> Result<Step, AuthError> {
        let bad = |detail: &str| AuthError::BadChallenge {
            mechanism: NAME,
            detail: detail.to_string(),
        };
        let directives =
            parse_directives(challenge).ok_or_else(|| bad("not a digest-challenge"))?;
        let get = |key: &str| {
            directives
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.as_str())
        };
        let nonce = get("nonce").ok_or_else(|| bad("no nonce"))?.to_string();
        if get("algorithm").is_none_or(|a| !a.eq_ignore_ascii_case("md5-sess")) {
            return Err(bad("algorithm is not md5-sess"));
        }
        // qop-options is a list; absent means "auth" (RFC 2831 §2.1.1).
        if let Some(qop) = get("qop")
            && !qop
                .split(',')
                .any(|q| q.trim().eq_ignore_ascii_case("auth"))
        {
            return Err(bad("the server does not offer qop auth"));
        }
        let utf8 = get("charset").is_some_and(|c| c.eq_ignore_ascii_case("utf-8"));
        let realm = self.realm.clone().or_else(|| {
            directives
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("realm"))
                .map(|(_, v)| v.clone())
        });
        let cnonce = self
            .cnonce
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or(AuthError::Missing {
                mechanism: NAME,
                what: "a client nonce",
            })?;
        let password = self.password.as_ref().map(Secret::expose).unwrap_or("");
        let nc = "00000001";
        let (response, rspauth) = digests(&Inputs {
            user: &self.user,
            realm: realm.as_deref().unwrap_or(""),
            password,
            nonce: &nonce,
            cnonce: &cnonce,
            nc,
            digest_uri: &self.digest_uri,
            authzid: self.authzid.as_deref(),
            latin1: utf8,
        });
        let mut head = String::new();
        if utf8 {
            head.push_str("charset=utf-8,");
        }
        head.push_str(&format!("username=\"{}\",", quote(&self.user)));
        if let Some(r) = &realm {
            head.push_str(&format!("realm=\"{}\",", quote(r)));
        }
        head.push_str(&format!(
            "nonce=\"{}\",nc={nc},cnonce=\"{}\",digest-uri=\"{}\",response=",
            quote(&nonce),
            quote(&cnonce),
            quote(&self.digest_uri)
        ));
        let mut tail = ",qop=auth".to_string();
        if let Some(a) = &self.authzid {
            tail.push_str(&format!(",authzid=\"{}\"", quote(a)));
        }
        self.state = State::Sent { rspauth };
        Ok(Step {
            data: format!("{head}{response}{tail}").into_bytes(),
            // The response digest is password-derived (an offline dictionary attack target).
            display: format!("{}{}{}", printable(head.as_bytes()), mask(&response), tail),
            secret: true,
        })
    }

    /// Check `rspauth=…` from the server (second challenge, or the 235's data).
    fn check_rspauth(&mut self, data: &[u8]) -> Result<(), AuthError> {
        let State::Sent { rspauth } = &self.state else {
            return Err(AuthError::TooManySteps(NAME));
        };
        let directives = parse_directives(data).ok_or(AuthError::BadChallenge {
            mechanism: NAME,
            detail: "not a response-auth".into(),
        })?;
        match directives
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("rspauth"))
        {
            Some((_, v)) if v.eq_ignore_ascii_case(rspauth) => {
                self.state = State::Verified;
                Ok(())
            }
            Some(_) => Err(AuthError::ServerSignature),
            None => Err(AuthError::BadChallenge {
                mechanism: NAME,
                detail: "no rspauth".into(),
            }),
        }
    }
}

/// What the two digests are computed from.
struct Inputs<'a> {
    user: &'a str,
    realm: &'a str,
    password: &'a str,
    nonce: &'a str,
    cnonce: &'a str,
    nc: &'a str,
    digest_uri: &'a str,
    authzid: Option<&'a str>,
    /// `charset=utf-8` was offered: user, realm and password go into A1 as ISO 8859-1 when they
    /// all fit (RFC 2831 §2.1.2.1), else as UTF-8.
    latin1: bool,
}

/// The `response` and the expected `rspauth` (RFC 2831 §2.1.2.1 and §2.1.3), lower-case hex.
fn digests(i: &Inputs<'_>) -> (String, String) {
    let joined = format!("{}:{}:{}", i.user, i.realm, i.password);
    let secret_bytes = if i.latin1 {
        to_latin1(&joined).unwrap_or_else(|| joined.clone().into_bytes())
    } else {
        joined.into_bytes()
    };
    let mut a1 = Md5::digest(&secret_bytes).to_vec();
    a1.extend_from_slice(format!(":{}:{}", i.nonce, i.cnonce).as_bytes());
    if let Some(a) = i.authzid {
        a1.extend_from_slice(format!(":{a}").as_bytes());
    }
    let ha1 = hex(&Md5::digest(&a1));
    let kd = |a2: &str| {
        let ha2 = hex(&Md5::digest(a2.as_bytes()));
        hex(&Md5::digest(
            format!("{ha1}:{}:{}:{}:auth:{ha2}", i.nonce, i.nc, i.cnonce).as_bytes(),
        ))
    };
    (
        kd(&format!("AUTHENTICATE:{}", i.digest_uri)),
        kd(&format!(":{}", i.digest_uri)),
    )
}

/// `s` as ISO 8859-1 bytes, if every character fits.
fn to_latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A quoted-string's content (RFC 2831 §7.2: `"` and `\` escaped with `\`).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `key=value` or `key="quoted"` directives separated by commas (RFC 2831 §7.1 `#rule`), in one
/// linear pass. `None` when the text is not of that form.
fn parse_directives(data: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(data).ok()?;
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if key.is_empty() || chars.next() != Some('=') {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
            value.truncate(value.trim_end().len());
        }
        out.push((key, value));
    }
    (!out.is_empty()).then_some(out)
}

impl Mechanism for DigestMd5 {
    fn name(&self) -> &'static str {
        NAME
    }

    fn initial_response(&mut self) -> Option<Step> {
        // RFC 2831 §2.1: the server speaks first (no initial authentication in SMTP).
        None
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Step, AuthError> {
        self.ready()?;
        match self.state {
            State::Start => self.response(challenge),
            State::Sent { .. } => {
                self.check_rspauth(challenge)?;
                // RFC 2831 §2.1.3: the client answers the response-auth with an empty response.
                Ok(empty_step())
            }
            State::Verified => Err(AuthError::TooManySteps(NAME)),
        }
    }

    fn finish(&mut self, data: Option<&[u8]>) -> Result<(), AuthError> {
        match (&self.state, data) {
            (State::Verified, _) => Ok(()),
            // Some servers put rspauth in the 235 itself (RFC 4954 §4 additional data).
            (State::Sent { .. }, Some(d)) if !d.is_empty() => self.check_rspauth(d),
            // RFC 2831 §2.1.3: the server must prove it knows the password with rspauth; a
            // 235 without it proves nothing (as SCRAM's 235 without v=).
            (State::Sent { .. }, _) => Err(AuthError::BadChallenge {
                mechanism: NAME,
                detail: "235 without the server's rspauth: the server did not prove it knows \
                         the password"
                    .into(),
            }),
            (State::Start, _) => Err(AuthError::BadChallenge {
                mechanism: NAME,
                detail: "235 before the DIGEST-MD5 exchange completed".into(),
            }),
        }
    }

    fn ready(&self) -> Result<(), AuthError> {
        need_user_and_password(NAME, &self.user, &self.password)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{leak::assert_hidden, mechanism};
    use super::*;

    /// RFC 2831 §4's example (an IMAP login; the digest-uri is set to match it).
    fn rfc_creds() -> Credentials {
        Credentials {
            user: "chris".into(),
            password: Some(Secret::new("secret")),
            service: Some("imap".into()),
            host: Some("elwood.innosoft.com".into()),
            nonce: Some("OA6MHXh6VqTrRk".into()),
            ..Default::default()
        }
    }

    const RFC_CHALLENGE: &str = "realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",\
        qop=\"auth\",algorithm=md5-sess,charset=utf-8";
    const RFC_RESPONSE: &str = "charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\",\
        nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",\
        digest-uri=\"imap/elwood.innosoft.com\",response=d388dad90d4bbd760a152321f2143af7,qop=auth";

    #[test]
    fn rfc2831_example() {
        let mut m = mechanism("digest-md5", &rfc_creds()).unwrap();
        assert_eq!(m.name(), "DIGEST-MD5");
        assert!(m.initial_response().is_none());
        let s = m.respond(RFC_CHALLENGE.as_bytes()).unwrap();
        assert_eq!(String::from_utf8(s.data.clone()).unwrap(), RFC_RESPONSE);
        assert!(s.secret);
        assert_hidden(&s.display, "d388dad90d4bbd760a152321f2143af7");
        assert!(s.display.contains("username=\"chris\""), "{}", s.display);
        // The server proves it knows the password; the client answers with nothing.
        let s = m
            .respond(b"rspauth=ea40f60335c427b5527b84dbabcdfffd")
            .unwrap();
        assert!(s.data.is_empty());
        assert!(m.finish(None).is_ok());
        assert_eq!(
            m.respond(b"rspauth=x"),
            Err(AuthError::TooManySteps("DIGEST-MD5"))
        );
    }

    #[test]
    fn a_wrong_rspauth_is_an_impostor() {
        let mut m = DigestMd5::new(&rfc_creds());
        m.respond(RFC_CHALLENGE.as_bytes()).unwrap();
        assert_eq!(
            m.respond(b"rspauth=00000000000000000000000000000000"),
            Err(AuthError::ServerSignature)
        );
        // rspauth with the 235 instead of a second challenge.
        let mut m = DigestMd5::new(&rfc_creds());
        m.respond(RFC_CHALLENGE.as_bytes()).unwrap();
        assert!(
            m.finish(Some(b"rspauth=ea40f60335c427b5527b84dbabcdfffd"))
                .is_ok()
        );
    }

    /// A 235 with no rspauth at all (neither a second challenge nor data with the 235): the
    /// server never proved it knows the password, so the exchange is not a success.
    #[test]
    fn a_235_without_rspauth_is_not_a_success() {
        let mut m = DigestMd5::new(&rfc_creds());
        m.respond(RFC_CHALLENGE.as_bytes()).unwrap();
        let e = m.finish(None).unwrap_err().to_string();
        assert!(e.contains("without the server's rspauth"), "{e}");
        let mut m = DigestMd5::new(&rfc_creds());
        m.respond(RFC_CHALLENGE.as_bytes()).unwrap();
        assert!(m.finish(Some(b"")).is_err());
        // Nor is a 235 before the digest-response went out.
        let mut m = DigestMd5::new(&rfc_creds());
        assert!(m.finish(None).is_err());
    }

    #[test]
    fn smtp_uri_realm_and_authzid() {
        // Default service smtp, the server's host; no realm offered and none given: no realm
        // directive, A1 with an empty realm; --auth-extra realm= wins over the server's.
        let c = Credentials {
            user: "u".into(),
            password: Some(Secret::new("p")),
            host: Some("mx.test".into()),
            nonce: Some("cn".into()),
            authzid: Some("boss".into()),
            ..Default::default()
        };
        let s = DigestMd5::new(&c)
            .respond(b"nonce=\"n\",algorithm=md5-sess")
            .unwrap();
        let text = String::from_utf8(s.data).unwrap();
        assert!(text.starts_with("username=\"u\",nonce=\"n\","), "{text}");
        assert!(text.contains("digest-uri=\"smtp/mx.test\""), "{text}");
        assert!(text.ends_with(",qop=auth,authzid=\"boss\""), "{text}");
        let mut c = c;
        c.realm = Some("mine".into());
        c.service_host = Some("other.test".into());
        c.service_name = Some("name".into());
        let s = DigestMd5::new(&c)
            .respond(b"realm=\"theirs\",nonce=\"n\",algorithm=md5-sess")
            .unwrap();
        let text = String::from_utf8(s.data).unwrap();
        assert!(text.contains("realm=\"mine\""), "{text}");
        assert!(
            text.contains("digest-uri=\"smtp/other.test/name\""),
            "{text}"
        );
    }

    #[test]
    fn bad_challenges_are_refused() {
        for ch in [
            &b""[..],
            b"garbage",
            b"nonce=\"unterminated",
            b"nonce=\"n\"",                                      // no algorithm
            b"nonce=\"n\",algorithm=md5",                        // not md5-sess
            b"nonce=\"n\",algorithm=md5-sess,qop=\"auth-conf\"", // no plain auth
            b"algorithm=md5-sess",                               // no nonce
        ] {
            let r = DigestMd5::new(&rfc_creds()).respond(ch);
            assert!(
                matches!(r, Err(AuthError::BadChallenge { .. })),
                "{:?}: {r:?}",
                String::from_utf8_lossy(ch)
            );
        }
    }

    #[test]
    fn directives_parse_quotes_and_escapes() {
        let d = parse_directives(br#" a = "x\"y" , b=plain ,,c="1,2""#).unwrap();
        assert_eq!(
            d,
            [
                ("a".to_string(), "x\"y".to_string()),
                ("b".into(), "plain".into()),
                ("c".into(), "1,2".into())
            ]
        );
        assert_eq!(quote("a\"b\\c"), "a\\\"b\\\\c");
    }

    #[test]
    fn secret_never_in_debug() {
        let mut m = mechanism("DIGEST-MD5", &rfc_creds()).unwrap();
        m.respond(RFC_CHALLENGE.as_bytes()).unwrap();
        let dbg = format!("{m:?}");
        assert_hidden(&dbg, "secret");
        assert_hidden(&dbg, "ea40f60335c427b5527b84dbabcdfffd");
    }
}
