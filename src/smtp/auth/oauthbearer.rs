//! OAUTHBEARER (RFC 7628): a GS2 header plus key/value pairs separated by ^A,
//! `n,a=user,^Ahost=H^Aport=P^Aauth=Bearer TOKEN^A^A` (§3.1). On failure the server sends a 334
//! with a JSON error (§3.2.2); the client must answer with a single ^A (§3.2.3) and the server
//! then sends the final 5xx.

use super::{
    AuthError, Credentials, Mechanism, Secret, Step, bearer_token, error_document, has_control,
    mask, printable, saslname,
};

const NAME: &str = "OAUTHBEARER";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Sent,
    ErrorAcked,
}

/// OAUTHBEARER client. Holds the token, so its `Debug` is hand-written.
pub(crate) struct OAuthBearer {
    user: String,
    host: Option<String>,
    port: Option<u16>,
    token: Option<Secret>,
    state: State,
    server_error: Option<String>,
}

impl std::fmt::Debug for OAuthBearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthBearer")
            .field("user", &self.user)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("state", &self.state)
            .field("server_error", &self.server_error)
            .finish()
    }
}

impl OAuthBearer {
    /// Take what OAUTHBEARER needs: the token (or the password), and the optional user (`a=`),
    /// host and port.
    pub(crate) fn new(creds: &Credentials) -> Self {
        OAuthBearer {
            user: creds.user.clone(),
            host: creds.host.clone().filter(|h| !h.is_empty()),
            port: creds.port,
            token: bearer_token(creds),
            state: State::Start,
            server_error: None,
        }
    }

    /// The message with `token_text` in the auth field (the token, or its mask for display).
    fn render(&self, token_text: &str, sep: &str) -> String {
        // RFC 7628 §3.1: gs2-header = "n," [ "a=" saslname ] ","; no channel binding.
        let mut s = String::from("n,");
        if !self.user.is_empty() {
            s.push_str("a=");
            s.push_str(&saslname(&self.user));
        }
        s.push(',');
        s.push_str(sep);
        if let Some(h) = &self.host {
            s.push_str("host=");
            s.push_str(h);
            s.push_str(sep);
        }
        if let Some(p) = self.port {
            s.push_str(&format!("port={p}{sep}"));
        }
        s.push_str("auth=Bearer ");
        s.push_str(token_text);
        s.push_str(sep);
        s.push_str(sep);
        s
    }

    fn message(&mut self) -> Result<Step, AuthError> {
        self.ready()?;
        let token = self.token.as_ref().map(Secret::expose).unwrap_or("");
        let data = self.render(token, "\x01").into_bytes();
        // The user and host are shown through `printable`, which `ready` made a no-op on them.
        let display = printable(self.render(&mask(token), "^A").as_bytes());
        self.state = State::Sent;
        Ok(Step {
            data,
            display,
            secret: true,
        })
    }
}

impl Mechanism for OAuthBearer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn initial_response(&mut self) -> Option<Step> {
        self.message().ok()
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Step, AuthError> {
        match self.state {
            State::Start => self.message(),
            State::Sent => {
                self.server_error = Some(error_document(challenge));
                self.state = State::ErrorAcked;
                // RFC 7628 §3.2.3: the dummy client response is a single %x01.
                Ok(Step {
                    data: vec![0x01],
                    display: "^A".into(),
                    secret: false,
                })
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
        let Some(token) = &self.token else {
            return missing("a token");
        };
        if token.is_empty() {
            return missing("a non-empty token");
        }
        // ^A separates the key/value pairs; a control character inside one would break framing.
        if has_control(token.expose()) {
            return missing("a token without control characters");
        }
        if has_control(&self.user) || self.host.as_deref().is_some_and(has_control) {
            return missing("a user and host without control characters");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode_challenge, encode_initial, leak::assert_hidden, mechanism};
    use super::*;

    const RFC_TOKEN: &str = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";

    fn rfc_creds() -> Credentials {
        Credentials {
            user: "user@example.com".into(),
            token: Some(Secret::new(RFC_TOKEN)),
            host: Some("server.example.com".into()),
            port: Some(143),
            ..Default::default()
        }
    }

    #[test]
    fn rfc7628_section_4_1_initial_response() {
        let mut m = mechanism("OAUTHBEARER", &rfc_creds()).unwrap();
        m.ready().unwrap();
        let s = m.initial_response().unwrap();
        assert_eq!(
            encode_initial(&s),
            "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
        );
        assert_eq!(
            s.display,
            format!(
                "n,a=user@example.com,^Ahost=server.example.com^Aport=143^Aauth=Bearer {}^A^A",
                crate::smtp::auth::MASK
            )
        );
        assert!(s.secret);
    }

    #[test]
    fn rfc7628_section_4_3_error_is_answered_with_ctrl_a() {
        let mut m = OAuthBearer::new(&rfc_creds());
        m.initial_response().unwrap();
        // RFC 7628 §4.3's failure challenge.
        let ch = decode_challenge(
            "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=",
        )
        .unwrap();
        let s = m.respond(&ch).unwrap();
        assert_eq!(s.data, b"\x01");
        assert_eq!(s.display, "^A");
        assert!(!s.secret);
        let e = m.server_error().unwrap();
        assert!(
            e.starts_with(r#"{"status":"invalid_token","scope":"example_scope""#),
            "{e}"
        );
        assert_eq!(m.respond(b""), Err(AuthError::TooManySteps("OAUTHBEARER")));
    }

    #[test]
    fn minimal_message_and_saslname_escaping() {
        let c = Credentials {
            user: "a,b=c@x".into(),
            token: Some(Secret::new("tok")),
            ..Default::default()
        };
        let s = OAuthBearer::new(&c).initial_response().unwrap();
        assert_eq!(s.data, b"n,a=a=2Cb=3Dc@x,\x01auth=Bearer tok\x01\x01");
        let c = Credentials {
            token: Some(Secret::new("tok")),
            ..Default::default()
        };
        let s = OAuthBearer::new(&c).initial_response().unwrap();
        assert_eq!(s.data, b"n,,\x01auth=Bearer tok\x01\x01");
    }

    #[test]
    fn without_initial_response_the_first_334_gets_the_message() {
        let mut m = OAuthBearer::new(&rfc_creds());
        assert!(
            m.respond(b"")
                .unwrap()
                .data
                .starts_with(b"n,a=user@example.com,")
        );
        assert_eq!(m.respond(b"{}").unwrap().data, b"\x01");
    }

    #[test]
    fn missing_or_broken_token_is_refused() {
        let mut c = rfc_creds();
        c.token = None;
        assert!(matches!(
            OAuthBearer::new(&c).respond(b""),
            Err(AuthError::Missing { .. })
        ));
        c.token = Some(Secret::new("a\x01b"));
        assert!(OAuthBearer::new(&c).initial_response().is_none());
        c.token = Some(Secret::new("  \n"));
        assert!(matches!(
            OAuthBearer::new(&c).ready(),
            Err(AuthError::Missing { .. })
        ));
    }

    #[test]
    fn secret_never_in_display_or_debug() {
        let mut m = mechanism("OAUTHBEARER", &rfc_creds()).unwrap();
        let s = m.initial_response().unwrap();
        m.respond(b"{\"status\":\"invalid_token\"}").unwrap();
        for text in [s.display.clone(), format!("{m:?}"), format!("{s:?}")] {
            assert_hidden(&text, RFC_TOKEN);
        }
    }
}
