//! SASL PLAIN (RFC 4616): one message `authzid NUL authcid NUL passwd`, sent as the initial
//! response, or after an empty 334 when the client chose not to send one.

use super::{AuthError, Credentials, Mechanism, Secret, Step, mask, printable};

const NAME: &str = "PLAIN";

/// PLAIN client. Holds the password, so its `Debug` is hand-written.
pub(crate) struct Plain {
    authzid: String,
    user: String,
    /// An empty `user` was asked for ([`Credentials::empty_user`]).
    empty_user: bool,
    password: Option<Secret>,
    /// The message has gone out (as initial response or answer to the first 334).
    sent: bool,
}

impl std::fmt::Debug for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plain")
            .field("authzid", &self.authzid)
            .field("user", &self.user)
            .field("empty_user", &self.empty_user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("sent", &self.sent)
            .finish()
    }
}

impl Plain {
    /// Take what PLAIN needs from the credentials.
    pub(crate) fn new(creds: &Credentials) -> Self {
        Plain {
            authzid: creds.authzid.clone().unwrap_or_default(),
            user: creds.user.clone(),
            empty_user: creds.empty_user,
            password: creds.password.clone(),
            sent: false,
        }
    }

    fn message(&mut self) -> Result<Step, AuthError> {
        self.ready()?;
        let pass = self.password.as_ref().map(Secret::expose).unwrap_or("");
        // RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd.
        let mut data = Vec::with_capacity(self.authzid.len() + self.user.len() + pass.len() + 2);
        data.extend_from_slice(self.authzid.as_bytes());
        data.push(0);
        data.extend_from_slice(self.user.as_bytes());
        data.push(0);
        data.extend_from_slice(pass.as_bytes());
        let display = format!(
            "{}\\0{}\\0{}",
            printable(self.authzid.as_bytes()),
            printable(self.user.as_bytes()),
            mask(pass)
        );
        self.sent = true;
        Ok(Step {
            data,
            display,
            secret: true,
        })
    }
}

impl Mechanism for Plain {
    fn name(&self) -> &'static str {
        NAME
    }

    fn initial_response(&mut self) -> Option<Step> {
        self.message().ok()
    }

    /// The one 334 only asks for the message (RFC 4616 §2): its text is not decoded.
    fn ignores_challenge(&self) -> bool {
        true
    }

    fn respond(&mut self, _challenge: &[u8]) -> Result<Step, AuthError> {
        // RFC 4616 has no server challenge: the only legitimate 334 is the empty one that asks for
        // the message when no initial response was sent. Its content is ignored on purpose.
        if self.sent {
            return Err(AuthError::TooManySteps(NAME));
        }
        self.message()
    }

    fn ready(&self) -> Result<(), AuthError> {
        let missing = |what| {
            Err(AuthError::Missing {
                mechanism: NAME,
                what,
            })
        };
        // An empty authcid asked for goes out as swaks sends it (`\0\0password`); a server
        // may refuse it (RFC 4616 §2 wants one), which is what the user came to see.
        if self.user.is_empty() && !self.empty_user {
            return missing("a user name");
        }
        let Some(pass) = &self.password else {
            return missing("a password");
        };
        // RFC 4616 §2: none of the three fields may contain NUL, which would shift the fields.
        if self.user.contains('\0') || self.authzid.contains('\0') {
            return missing("a user name and authzid without NUL");
        }
        if pass.expose().contains('\0') {
            return missing("a password without NUL");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{encode_initial, leak::assert_hidden, mechanism};
    use super::*;

    const PASS: &str = "correct horse battery staple";

    fn creds(authzid: Option<&str>) -> Credentials {
        Credentials {
            user: "tim".into(),
            password: Some(Secret::new(PASS)),
            authzid: authzid.map(Into::into),
            ..Default::default()
        }
    }

    /// swaks's `-au '<>'`: `\0\0password`; without the request an empty user is refused.
    #[test]
    fn an_empty_user_asked_for_is_sent_empty() {
        let mut c = creds(None);
        c.user = String::new();
        assert_eq!(
            Plain::new(&c).ready(),
            Err(AuthError::Missing {
                mechanism: "PLAIN",
                what: "a user name"
            })
        );
        c.empty_user = true;
        let mut m = Plain::new(&c);
        m.ready().unwrap();
        let s = m.initial_response().unwrap();
        assert_eq!(s.data, b"\0\0correct horse battery staple");
        assert_eq!(s.display, format!("\\0\\0{}", crate::smtp::auth::MASK));
    }

    #[test]
    fn initial_response_is_nul_separated_and_masked() {
        let mut m = mechanism("plain", &creds(None)).unwrap();
        m.ready().unwrap();
        let s = m.initial_response().unwrap();
        assert_eq!(s.data, b"\0tim\0correct horse battery staple");
        assert_eq!(s.display, format!("\\0tim\\0{}", crate::smtp::auth::MASK));
        assert!(s.secret);
        assert_eq!(
            encode_initial(&s),
            "AHRpbQBjb3JyZWN0IGhvcnNlIGJhdHRlcnkgc3RhcGxl"
        );
        // Any challenge after the message is a protocol error, not a second send.
        assert_eq!(m.respond(b""), Err(AuthError::TooManySteps("PLAIN")));
    }

    #[test]
    fn authzid_goes_first() {
        let mut m = Plain::new(&creds(Some("admin")));
        let s = m.initial_response().unwrap();
        assert_eq!(s.data, b"admin\0tim\0correct horse battery staple");
        assert!(s.display.starts_with("admin\\0tim\\0*"));
    }

    #[test]
    fn without_initial_response_the_first_334_gets_the_message_once() {
        let mut m = Plain::new(&creds(None));
        let s = m.respond(b"").unwrap();
        assert_eq!(s.data, b"\0tim\0correct horse battery staple");
        assert_eq!(m.respond(b""), Err(AuthError::TooManySteps("PLAIN")));
        assert_eq!(
            m.respond(b"whatever"),
            Err(AuthError::TooManySteps("PLAIN"))
        );
    }

    #[test]
    fn nul_in_a_field_is_refused() {
        let mut c = creds(None);
        c.user = "ti\0m".into();
        let mut m = Plain::new(&c);
        assert!(matches!(m.ready(), Err(AuthError::Missing { .. })));
        assert!(m.initial_response().is_none());
        let mut c = creds(None);
        c.password = Some(Secret::new("a\0b"));
        assert!(matches!(
            Plain::new(&c).respond(b""),
            Err(AuthError::Missing { .. })
        ));
    }

    #[test]
    fn secret_never_in_display_or_debug() {
        let mut m = mechanism("PLAIN", &creds(Some("admin"))).unwrap();
        let s = m.initial_response().unwrap();
        assert_hidden(&s.display, PASS);
        assert_hidden(&format!("{m:?}"), PASS);
        assert_hidden(&format!("{s:?}"), PASS);
        assert!(!format!("{s:?}").contains(&format!("{:?}", s.data)));
    }
}
