//! Hints as data: a hint's text keeps what it tells the user to do as a [`Remedy`] (written
//! `⟨name⟩` where the hints are composed), so each front end words the remedy in its own terms —
//! the one-shot send's flags by default (also in JSON), the REPL's commands in the REPL.

use serde::Serialize;

/// Something a hint tells the user to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// Upgrade the connection with STARTTLS (RFC 3207).
    StartTls,
    /// Speak TLS from the first byte (implicit TLS, RFC 8314 §3.3).
    TlsOnConnect,
    /// Authenticate as a user (RFC 4954).
    Auth,
    /// Authenticate with a chosen SASL mechanism.
    AuthMech,
    /// The user name authenticated as.
    AuthUser,
    /// The envelope sender (MAIL FROM).
    From,
    /// The name given in EHLO/HELO.
    Helo,
}

impl Remedy {
    /// Every remedy, for parsing.
    const ALL: [Remedy; 7] = [
        Remedy::StartTls,
        Remedy::TlsOnConnect,
        Remedy::Auth,
        Remedy::AuthMech,
        Remedy::AuthUser,
        Remedy::From,
        Remedy::Helo,
    ];

    /// The name written between `⟨` and `⟩` in a hint's text.
    fn name(self) -> &'static str {
        match self {
            Remedy::StartTls => "tls",
            Remedy::TlsOnConnect => "tls-on-connect",
            Remedy::Auth => "auth",
            Remedy::AuthMech => "auth-mech",
            Remedy::AuthUser => "auth-user",
            Remedy::From => "from",
            Remedy::Helo => "helo",
        }
    }

    /// How the one-shot send says it: the flag that does it.
    pub fn flag(self) -> &'static str {
        match self {
            Remedy::StartTls => "--tls",
            Remedy::TlsOnConnect => "--tls-on-connect",
            Remedy::Auth => "--auth --auth-user USER",
            Remedy::AuthMech => "--auth TYPE",
            Remedy::AuthUser => "--auth-user",
            Remedy::From => "--from",
            Remedy::Helo => "--helo",
        }
    }
}

/// One piece of a [`Hint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// Words as they are.
    Text(&'a str),
    /// A remedy, for the front end to word.
    Do(Remedy),
}

/// A hint: text with the remedies it names kept apart. Shown (`Display`, JSON) in the one-shot
/// send's words; [`Hint::words`] words it for another front end.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hint(String);

impl Hint {
    /// A hint from its composed text, remedies written `⟨name⟩`.
    pub(crate) fn new(text: impl Into<String>) -> Hint {
        Hint(text.into())
    }

    /// The pieces in order. A `⟨…⟩` that names no remedy stays text.
    pub fn parts(&self) -> Vec<Part<'_>> {
        let mut out = Vec::new();
        let mut rest = self.0.as_str();
        while let Some(i) = rest.find('⟨') {
            let after = &rest[i + '⟨'.len_utf8()..];
            let named = after.find('⟩').and_then(|j| {
                Remedy::ALL
                    .into_iter()
                    .find(|r| r.name() == &after[..j])
                    .map(|r| (r, j))
            });
            match named {
                Some((r, j)) => {
                    if i > 0 {
                        out.push(Part::Text(&rest[..i]));
                    }
                    out.push(Part::Do(r));
                    rest = &after[j + '⟩'.len_utf8()..];
                }
                None => {
                    let end = i + '⟨'.len_utf8();
                    out.push(Part::Text(&rest[..end]));
                    rest = &rest[end..];
                }
            }
        }
        if !rest.is_empty() {
            out.push(Part::Text(rest));
        }
        out
    }

    /// The hint with each remedy worded by `word`.
    pub fn words(&self, word: impl Fn(Remedy) -> String) -> String {
        self.parts()
            .into_iter()
            .map(|p| match p {
                Part::Text(t) => t.to_string(),
                Part::Do(r) => word(r),
            })
            .collect()
    }

    /// Append words (no remedy in them).
    pub(crate) fn push_str(&mut self, text: &str) {
        self.0.push_str(text);
    }

    /// Does the hint, in the send's words, contain `needle`?
    pub fn contains(&self, needle: &str) -> bool {
        self.to_string().contains(needle)
    }
}

impl From<&str> for Hint {
    fn from(text: &str) -> Hint {
        Hint::new(text)
    }
}

impl std::fmt::Display for Hint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words(|r| r.flag().to_string()))
    }
}

impl Serialize for Hint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remedies_are_worded_by_the_front_end() {
        let h = Hint::new("add ⟨tls⟩ (and ⟨auth⟩ if it still refuses) ⟨nope⟩ ⟨");
        assert_eq!(
            h.to_string(),
            "add --tls (and --auth --auth-user USER if it still refuses) ⟨nope⟩ ⟨"
        );
        assert_eq!(
            h.words(|r| format!("[{r:?}]")),
            "add [StartTls] (and [Auth] if it still refuses) ⟨nope⟩ ⟨"
        );
        assert_eq!(
            serde_json::to_string(&Hint::new("try ⟨tls-on-connect⟩")).unwrap(),
            "\"try --tls-on-connect\""
        );
    }
}
