//! XOAUTH2 (Google, Microsoft; https://developers.google.com/gmail/imap/xoauth2-protocol): the
//! initial response `user=U ^A auth=Bearer TOKEN ^A ^A`. On failure the server sends a 334 whose
//! base64 text is a JSON error (status, schemes, scope); the client answers it with an empty line
//! and the server then sends the final 5xx.

use super::{
    AuthError, Credentials, Mechanism, Secret, Step, bearer_token, empty_step, error_document,
    has_control, mask, printable,
};

const NAME: &str = "XOAUTH2";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing sent yet.
    Start,
    /// The token has gone out.
    Sent,
    /// The server's error challenge has been answered; only the final reply can follow.
    ErrorAcked,
}

/// XOAUTH2 client. Holds the token, so its `Debug` is hand-written.
pub(crate) struct XOAuth2 {
    user: String,
    token: Option<Secret>,
    state: State,
    server_error: Option<String>,
}

impl std::fmt::Debug for XOAuth2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XOAuth2")
            .field("user", &self.user)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("state", &self.state)
            .field("server_error", &self.server_error)
            .finish()
    }
}

impl XOAuth2 {
    /// Take what XOAUTH2 needs: the user and the token (or, failing that, the password).
    pub(crate) fn new(creds: &Credentials) -> Self {
        XOAuth2 {
            user: creds.user.clone(),
            token: bearer_token(creds),
            state: State::Start,
            server_error: None,
        }
    }

    fn message(&mut self) -> Result<Step, AuthError> {
        self.ready()?;
        let token = self.token.as_ref().map(Secret::expose).unwrap_or("");
        let data = format!("user={}\x01auth=Bearer {}\x01\x01", self.user, token).into_bytes();
        let display = format!(
            "user={}^Aauth=Bearer {}^A^A",
            printable(self.user.as_bytes()),
            mask(token)
        );
        self.state = State::Sent;
        Ok(Step {
            data,
            display,
            secret: true,
        })
    }
}

impl Mechanism for XOAuth2 {
    fn name(&self) -> &'static str {
        NAME
    }

    fn initial_response(&mut self) -> Option<Step> {
        self.message().ok()
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Step, AuthError> {
        match self.state {
            // AUTH went out without the initial response: the first (empty) 334 asks for it.
            State::Start => self.message(),
            State::Sent => {
                // After the token, a 334 can only carry the JSON error; an empty line makes the
                // server send its final 5xx.
                self.server_error = Some(error_document(challenge));
                self.state = State::ErrorAcked;
                Ok(empty_step())
            }
            State::ErrorAcked => Err(AuthError::TooManySteps(NAME)),
        }
    }

    fn server_error(&self) -> Option<String> {
        self.server_error.clone()
    }

    fn ready(&self) -> Result<(), AuthError> {
        let missing = |what| {
            Err(AuthError::Missing {
                mechanism: NAME,
                what,
            })
        };
        if self.user.is_empty() {
            return missing("a user name");
        }
        let Some(token) = &self.token else {
            return missing("a token");
        };
        if token.is_empty() {
            return missing("a non-empty token");
        }
        // ^A is the field separator: one inside a field would end it early.
        if has_control(&self.user) {
            return missing("a user name without control characters");
        }
        if has_control(token.expose()) {
            return missing("a token without control characters");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode_challenge, encode_initial, leak::assert_hidden, mechanism};
    use super::*;

    // Google's documentation example.
    const TOKEN: &str = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg";

    fn creds() -> Credentials {
        Credentials {
            user: "someuser@example.com".into(),
            token: Some(Secret::new(TOKEN)),
            ..Default::default()
        }
    }

    #[test]
    fn initial_response_matches_googles_example() {
        let mut m = mechanism("XOAUTH2", &creds()).unwrap();
        m.ready().unwrap();
        let s = m.initial_response().unwrap();
        assert_eq!(
            s.data,
            format!("user=someuser@example.com\x01auth=Bearer {TOKEN}\x01\x01").as_bytes()
        );
        assert_eq!(
            encode_initial(&s),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
        );
        assert_eq!(
            s.display,
            format!(
                "user=someuser@example.com^Aauth=Bearer {}^A^A",
                crate::smtp::auth::MASK
            )
        );
        assert!(s.secret);
        assert!(m.server_error().is_none());
    }

    #[test]
    fn error_challenge_gets_an_empty_answer_and_is_kept() {
        let mut m = XOAuth2::new(&creds());
        m.initial_response().unwrap();
        // {"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}
        let ch = decode_challenge(
            "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==",
        )
        .unwrap();
        let s = m.respond(&ch).unwrap();
        assert!(s.data.is_empty());
        assert!(!s.secret);
        assert_eq!(
            m.server_error().as_deref(),
            Some(r#"{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}"#)
        );
        assert_eq!(m.respond(&ch), Err(AuthError::TooManySteps("XOAUTH2")));
    }

    #[test]
    fn without_initial_response_the_first_334_gets_the_token() {
        let mut m = XOAuth2::new(&creds());
        let s = m.respond(b"").unwrap();
        assert!(s.data.starts_with(b"user=someuser@example.com\x01"));
        // The next one is the error.
        assert!(m.respond(b"{}").unwrap().data.is_empty());
        assert_eq!(m.server_error().as_deref(), Some("{}"));
    }

    #[test]
    fn huge_or_binary_error_is_bounded_and_escaped() {
        let mut m = XOAuth2::new(&creds());
        m.initial_response().unwrap();
        let mut ch = vec![b'{'; 100_000];
        ch[1] = 0x01;
        m.respond(&ch).unwrap();
        let e = m.server_error().unwrap();
        assert!(e.chars().count() <= 2049);
        assert!(e.starts_with("{^A{"));
    }

    #[test]
    fn password_stands_in_for_token_and_is_trimmed() {
        let c = Credentials {
            user: "u@example.com".into(),
            password: Some(Secret::new(format!("{TOKEN}\n"))),
            ..Default::default()
        };
        let s = XOAuth2::new(&c).initial_response().unwrap();
        assert!(
            s.data
                .ends_with(format!("Bearer {TOKEN}\x01\x01").as_bytes())
        );
    }

    #[test]
    fn control_characters_are_refused() {
        let mut c = creds();
        c.token = Some(Secret::new("ab\x01cd"));
        let mut m = XOAuth2::new(&c);
        assert!(matches!(m.ready(), Err(AuthError::Missing { .. })));
        assert!(m.initial_response().is_none());
    }

    #[test]
    fn secret_never_in_display_or_debug() {
        let mut m = mechanism("XOAUTH2", &creds()).unwrap();
        let s = m.initial_response().unwrap();
        m.respond(b"{\"status\":\"400\"}").unwrap();
        for text in [s.display.clone(), format!("{m:?}"), format!("{s:?}")] {
            assert_hidden(&text, TOKEN);
        }
    }
}
