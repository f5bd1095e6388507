//! SASL CRAM-MD5 (RFC 2195): one challenge (a msg-id such as `<1896.697170952@host>`), answered
//! with `user SP hex(HMAC-MD5(password, challenge))`.

use hmac::{Hmac, KeyInit, Mac};

use super::{AuthError, Credentials, Mechanism, Secret, Step, mask, printable};

const NAME: &str = "CRAM-MD5";

/// CRAM-MD5 client. Holds the password, so its `Debug` is hand-written.
pub struct CramMd5 {
    user: String,
    password: Option<Secret>,
    answered: bool,
}

impl std::fmt::Debug for CramMd5 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CramMd5")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("answered", &self.answered)
            .finish()
    }
}

impl CramMd5 {
    /// Take what CRAM-MD5 needs from the credentials.
    pub fn new(creds: &Credentials) -> Self {
        CramMd5 {
            user: creds.user.clone(),
            password: creds.password.clone(),
            answered: false,
        }
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
        NAME
    }

    fn initial_response(&mut self) -> Option<Step> {
        // RFC 2195: the server speaks first.
        None
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Step, AuthError> {
        self.ready()?;
        if self.answered {
            return Err(AuthError::TooManySteps(NAME));
        }
        if challenge.is_empty() {
            // Without a challenge the digest would be a fixed function of the password: a replayable
            // password equivalent. Refuse rather than hand it out.
            return Err(AuthError::BadChallenge {
                mechanism: NAME,
                detail: "empty challenge".into(),
            });
        }
        let pass = self.password.as_ref().map(Secret::expose).unwrap_or("");
        // HMAC accepts keys of any length (RFC 2104 hashes long keys), so this cannot fail.
        let mut mac =
            Hmac::<md5::Md5>::new_from_slice(pass.as_bytes()).map_err(|_| AuthError::Missing {
                mechanism: NAME,
                what: "a usable password",
            })?;
        mac.update(challenge);
        let digest = hex(&mac.finalize().into_bytes());
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
        if self.user.is_empty() {
            return Err(AuthError::Missing {
                mechanism: NAME,
                what: "a user name",
            });
        }
        if self.password.is_none() {
            return Err(AuthError::Missing {
                mechanism: NAME,
                what: "a password",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode_challenge, encode_response, leak::assert_hidden, mechanism};
    use super::*;

    const RFC_PASS: &str = "tanstaaftanstaaf";
    const RFC_CHALLENGE: &[u8] = b"<1896.697170952@postoffice.reston.mci.net>";

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
