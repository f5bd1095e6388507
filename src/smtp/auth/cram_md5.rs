//! SASL CRAM-MD5 (RFC 2195): one challenge (a msg-id such as `<1896.697170952@host>`), answered
//! with `user SP hex(HMAC-MD5(password, challenge))`; and CRAM-SHA1, the same exchange with
//! HMAC-SHA1 (RFC 2104 with SHA-1, as offered by some Exim and Courier setups and by swaks).

use hmac::{Hmac, KeyInit, Mac};

use super::{
    AuthError, Credentials, Mechanism, Secret, Step, mask, need_user_and_password_or_empty,
    printable,
};

/// The hash under the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Md5,
    Sha1,
}

/// CRAM-MD5 / CRAM-SHA1 client. Holds the password, so its `Debug` is hand-written.
pub(crate) struct CramMd5 {
    hash: Hash,
    user: String,
    /// An empty `user` was asked for ([`Credentials::empty_user`]): the response is then
    /// ` digest`, as swaks sends it.
    empty_user: bool,
    password: Option<Secret>,
    answered: bool,
}

impl std::fmt::Debug for CramMd5 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CramMd5")
            .field("hash", &self.hash)
            .field("user", &self.user)
            .field("empty_user", &self.empty_user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("answered", &self.answered)
            .finish()
    }
}

impl CramMd5 {
    /// Take what CRAM-MD5 needs from the credentials.
    pub(crate) fn new(creds: &Credentials) -> Self {
        CramMd5 {
            hash: Hash::Md5,
            user: creds.user.clone(),
            empty_user: creds.empty_user,
            password: creds.password.clone(),
            answered: false,
        }
    }

    /// CRAM-SHA1: the same exchange with HMAC-SHA1.
    pub(crate) fn sha1(creds: &Credentials) -> Self {
        CramMd5 {
            hash: Hash::Sha1,
            ..CramMd5::new(creds)
        }
    }
}

/// HMAC of `data` under `key` (RFC 2104 hashes long keys, so any key length works).
fn hmac_of(hash: Hash, key: &[u8], data: &[u8]) -> Vec<u8> {
    fn run<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
        match <M as KeyInit>::new_from_slice(key) {
            Ok(mut mac) => {
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
            // Unreachable for HMAC (any key length is valid); an empty digest fails AUTH.
            Err(_) => Vec::new(),
        }
    }
    match hash {
        Hash::Md5 => run::<Hmac<md5::Md5>>(key, data),
        Hash::Sha1 => run::<Hmac<sha1::Sha1>>(key, data),
    }
}

/// Lower-case hex, as RFC 2195 §2 requires for the digest.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

impl Mechanism for CramMd5 {
    fn name(&self) -> &'static str {
        match self.hash {
            Hash::Md5 => "CRAM-MD5",
            Hash::Sha1 => "CRAM-SHA1",
        }
    }

    fn initial_response(&mut self) -> Option<Step> {
        // RFC 2195: the server speaks first.
        None
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Step, AuthError> {
        self.ready()?;
        let name = self.name();
        if self.answered {
            return Err(AuthError::TooManySteps(name));
        }
        if challenge.is_empty() {
            // Without a challenge the digest would be a fixed function of the password: a replayable
            // password equivalent. Refuse rather than hand it out.
            return Err(AuthError::BadChallenge {
                mechanism: name,
                detail: "empty challenge".into(),
            });
        }
        let pass = self.password.as_ref().map(Secret::expose).unwrap_or("");
        let digest = hex(&hmac_of(self.hash, pass.as_bytes(), challenge));
        let data = format!("{} {}", self.user, digest).into_bytes();
        self.answered = true;
        Ok(Step {
            data,
            // The digest is password-derived (an offline dictionary attack target): masked.
            display: format!("{} {}", printable(self.user.as_bytes()), mask(&digest)),
            secret: true,
        })
    }

    fn ready(&self) -> Result<(), AuthError> {
        need_user_and_password_or_empty(self.name(), &self.user, self.empty_user, &self.password)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode_challenge, encode_response, leak::assert_hidden, mechanism};
    use super::*;

    const RFC_PASS: &str = "tanstaaftanstaaf";
    const RFC_CHALLENGE: &[u8] = b"<1896.697170952@postoffice.reston.mci.net>";
    const RFC_SHA1: &str = "8cb10ed0a8b764ab0e05125dd6eaa295f19b5943";

    fn creds() -> Credentials {
        Credentials {
            user: "tim".into(),
            password: Some(Secret::new(RFC_PASS)),
            ..Default::default()
        }
    }

    #[test]
    fn rfc2195_vector() {
        let mut m = mechanism("CRAM-MD5", &creds()).unwrap();
        assert!(m.initial_response().is_none());
        // RFC 2195 §2's exchange, base64 as the server would send it.
        let ch =
            decode_challenge("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+").unwrap();
        assert_eq!(ch, RFC_CHALLENGE);
        let s = m.respond(&ch).unwrap();
        assert_eq!(s.data, b"tim b913a602c7eda7a495b4e6e7334d3890");
        assert_eq!(
            encode_response(&s),
            "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"
        );
        assert_eq!(s.display, format!("tim {}", crate::smtp::auth::MASK));
        assert!(s.secret);
        assert_eq!(
            m.respond(RFC_CHALLENGE),
            Err(AuthError::TooManySteps("CRAM-MD5"))
        );
    }

    #[test]
    fn cram_sha1_is_hmac_sha1() {
        // RFC 2202 §3 test case 2 (key "Jefe"), as a CRAM-SHA1 exchange.
        let c = Credentials {
            user: "tim".into(),
            password: Some(Secret::new("Jefe")),
            ..Default::default()
        };
        let mut m = mechanism("cram-sha1", &c).unwrap();
        assert_eq!(m.name(), "CRAM-SHA1");
        assert!(m.initial_response().is_none());
        let s = m.respond(b"what do ya want for nothing?").unwrap();
        assert_eq!(s.data, b"tim effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        assert!(s.secret);
        assert_hidden(&s.display, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        assert_hidden(&format!("{m:?}"), "Jefe");
        // The RFC 2195 exchange under SHA-1 (computed independently with Python's hmac).
        let s = CramMd5::sha1(&creds()).respond(RFC_CHALLENGE).unwrap();
        assert_eq!(s.data, format!("tim {RFC_SHA1}").as_bytes());
    }

    /// swaks's `-au '<>'`: the response is ` digest` (an empty name, then the space); without
    /// the request an empty user is refused, so `--auth` without a list moves on.
    #[test]
    fn an_empty_user_asked_for_is_sent_empty() {
        let mut c = creds();
        c.user = String::new();
        for name in ["CRAM-MD5", "CRAM-SHA1"] {
            assert_eq!(
                mechanism(name, &c).unwrap().ready(),
                Err(AuthError::Missing {
                    mechanism: name,
                    what: "a user name"
                })
            );
        }
        c.empty_user = true;
        let mut m = CramMd5::new(&c);
        m.ready().unwrap();
        let s = m.respond(RFC_CHALLENGE).unwrap();
        // HMAC-MD5 under the RFC 2195 password, as in rfc2195_vector.
        assert_eq!(s.data, b" b913a602c7eda7a495b4e6e7334d3890");
        assert_eq!(s.display, format!(" {}", crate::smtp::auth::MASK));
    }

    #[test]
    fn empty_challenge_is_refused() {
        let mut m = CramMd5::new(&creds());
        assert!(matches!(
            m.respond(b""),
            Err(AuthError::BadChallenge { .. })
        ));
        // Still usable afterwards: the refusal did not count as an answer.
        assert!(m.respond(RFC_CHALLENGE).is_ok());
    }

    #[test]
    fn long_password_is_hashed_not_rejected() {
        let mut c = creds();
        c.password = Some(Secret::new("p".repeat(1000)));
        let s = CramMd5::new(&c).respond(b"<x@y>").unwrap();
        assert_eq!(s.data.len(), "tim ".len() + 32);
    }

    #[test]
    fn secret_never_in_display_or_debug() {
        let mut m = mechanism("CRAM-MD5", &creds()).unwrap();
        let s = m.respond(RFC_CHALLENGE).unwrap();
        for text in [s.display.clone(), format!("{m:?}"), format!("{s:?}")] {
            assert_hidden(&text, RFC_PASS);
            assert_hidden(&text, "b913a602c7eda7a495b4e6e7334d3890");
        }
    }
}
