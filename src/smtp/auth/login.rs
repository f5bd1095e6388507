//! SASL LOGIN (draft-murchison-sasl-login-00): the server prompts twice ("Username:", then
//! "Password:") and the client answers with the user name and then the password.

use super::{
    AuthError, Credentials, Mechanism, Secret, Step, mask, need_user_and_password_or_empty,
    printable,
};

const NAME: &str = "LOGIN";

/// LOGIN client. Holds the password, so its `Debug` is hand-written.
pub(crate) struct Login {
    user: String,
    /// An empty `user` was asked for ([`Credentials::empty_user`]).
    empty_user: bool,
    password: Option<Secret>,
    /// Challenges answered so far (0, 1 or 2).
    answered: u8,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("user", &self.user)
            .field("empty_user", &self.empty_user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("answered", &self.answered)
            .finish()
    }
}

impl Login {
    /// Take what LOGIN needs from the credentials.
    pub(crate) fn new(creds: &Credentials) -> Self {
        Login {
            user: creds.user.clone(),
            empty_user: creds.empty_user,
            password: creds.password.clone(),
            answered: 0,
        }
    }
}

impl Mechanism for Login {
    fn name(&self) -> &'static str {
        NAME
    }

    fn initial_response(&mut self) -> Option<Step> {
        // The draft allows the user name as an initial response, but many servers then still
        // send "Username:"; waiting for the prompts works everywhere.
        None
    }

    /// The prompts are read by position, so their text is not decoded at all: a server that
    /// sends `334 Username:` unencoded still gets the user name, as from swaks.
    fn ignores_challenge(&self) -> bool {
        true
    }

    fn respond(&mut self, _challenge: &[u8]) -> Result<Step, AuthError> {
        // The prompt text is informational only (servers send "Username:", "User Name\0",
        // localised text or nothing): the answer depends on the position alone.
        self.ready()?;
        let step = match self.answered {
            0 => Step {
                data: self.user.as_bytes().to_vec(),
                display: printable(self.user.as_bytes()),
                secret: false,
            },
            1 => {
                let pass = self.password.as_ref().map(Secret::expose).unwrap_or("");
                Step {
                    data: pass.as_bytes().to_vec(),
                    display: mask(pass),
                    secret: true,
                }
            }
            _ => return Err(AuthError::TooManySteps(NAME)),
        };
        self.answered += 1;
        Ok(step)
    }

    fn ready(&self) -> Result<(), AuthError> {
        // Checked before the user name goes out, so a missing password fails before any answer.
        // An empty user name asked for goes out as an empty line, as from swaks.
        need_user_and_password_or_empty(NAME, &self.user, self.empty_user, &self.password)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode_challenge, encode_response, leak::assert_hidden, mechanism};
    use super::*;

    const PASS: &str = "tanstaaftanstaaf-secret";

    fn creds() -> Credentials {
        Credentials {
            user: "tim@example.org".into(),
            password: Some(Secret::new(PASS)),
            ..Default::default()
        }
    }

    #[test]
    fn user_then_password() {
        let mut m = mechanism("LOGIN", &creds()).unwrap();
        assert!(m.initial_response().is_none());
        let s1 = m
            .respond(&decode_challenge("VXNlcm5hbWU6").unwrap())
            .unwrap();
        assert_eq!(s1.data, b"tim@example.org");
        assert_eq!(s1.display, "tim@example.org");
        assert!(!s1.secret);
        assert_eq!(encode_response(&s1), "dGltQGV4YW1wbGUub3Jn");
        let s2 = m
            .respond(&decode_challenge("UGFzc3dvcmQ6").unwrap())
            .unwrap();
        assert_eq!(s2.data, PASS.as_bytes());
        assert_eq!(s2.display, crate::smtp::auth::MASK);
        assert!(s2.secret);
        assert_eq!(m.respond(b"Again:"), Err(AuthError::TooManySteps("LOGIN")));
        assert_eq!(m.respond(b""), Err(AuthError::TooManySteps("LOGIN")));
    }

    #[test]
    fn other_prompt_texts_are_tolerated() {
        let mut m = Login::new(&creds());
        assert_eq!(m.respond(b"User Name\0").unwrap().data, b"tim@example.org");
        assert_eq!(m.respond(b"\xff\xfe").unwrap().data, PASS.as_bytes());
    }

    #[test]
    fn missing_password_fails_before_the_user_name_goes_out() {
        let mut c = creds();
        c.password = None;
        let mut m = Login::new(&c);
        assert_eq!(
            m.respond(b"Username:"),
            Err(AuthError::Missing {
                mechanism: "LOGIN",
                what: "a password"
            })
        );
    }

    /// swaks's `-au '<>'`: an empty line for the user name, then the password; without the
    /// request an empty user is still refused before AUTH goes out.
    #[test]
    fn an_empty_user_asked_for_is_an_empty_line() {
        let mut c = creds();
        c.user = String::new();
        assert_eq!(
            Login::new(&c).ready(),
            Err(AuthError::Missing {
                mechanism: "LOGIN",
                what: "a user name"
            })
        );
        c.empty_user = true;
        let mut m = Login::new(&c);
        m.ready().unwrap();
        let s1 = m.respond(b"Username:").unwrap();
        assert_eq!(
            (s1.data.as_slice(), encode_response(&s1).as_str()),
            (&b""[..], "")
        );
        assert_eq!(m.respond(b"Password:").unwrap().data, PASS.as_bytes());
    }

    #[test]
    fn secret_never_in_display_or_debug() {
        let mut m = mechanism("LOGIN", &creds()).unwrap();
        let s1 = m.respond(b"Username:").unwrap();
        let s2 = m.respond(b"Password:").unwrap();
        for text in [
            s1.display.clone(),
            s2.display.clone(),
            format!("{m:?}"),
            format!("{s2:?}"),
        ] {
            assert_hidden(&text, PASS);
        }
    }
}
