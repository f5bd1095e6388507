//! Hints as data: a hint's text keeps what it tells the user to do as a [`Remedy`] (written
//! `⟨name⟩` where the hints are composed), so each front end words the remedy in its own terms —
//! the one-shot send's flags by default (also in JSON), the REPL's commands in the REPL, the
//! flags `check` and `probe` have there. Reply hints (`hints`) and the connection layer's TLS
//! advice (`net::tls`) are written this way alike, and so are the client session's warnings
//! and errors: the sans-IO core names what to do, never a flag. The words for each remedy,
//! the one-shot send's flags included (a hint's default wording: `Display`, JSON), are the
//! renderer's one table (`render::remedy`).

/// Something a hint tells the user to do — or, in a warning that says why the session carried
/// on, the setting of the plan that made it (`carrying on without AUTH (--auth-optional)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Remedy {
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
    /// Trust a private CA: a CA file or directory instead of the system store.
    CaFile,
    /// Do not enforce certificate verification (the verdict is still shown).
    Insecure,
    /// Check the certificate against another name than the one connected to (RFC 6125).
    VerifyName,
    /// Connect by another name (the server's address as given to the tool).
    ConnectTo,
    /// Present a client certificate (RFC 8446 §4.4.2).
    ClientCert,
    /// Speak plain SMTP and upgrade with STARTTLS instead of implicit TLS (RFC 3207).
    StartTlsInstead,
    /// Send AUTH although the server does not advertise it.
    AuthForce,
    /// Use an extension the server does not advertise.
    ForceExt,
    /// Send XCLIENT attributes the server does not advertise.
    XclientNoVerify,
    /// Setting: carry on without AUTH when it cannot be done.
    AuthOptional,
    /// Setting: carry on without AUTH when it is not offered, fail when it fails.
    AuthOptionalStrict,
    /// Setting: carry on without TLS when STARTTLS is refused.
    TlsOptional,
    /// Setting: carry on without XCLIENT when it is refused or not advertised.
    XclientOptional,
    /// Setting: carry on without XCLIENT only when it is not advertised.
    XclientOptionalStrict,
    /// Setting: pipeline the envelope (RFC 2920).
    Pipeline,
    /// Setting: ask for SMTPUTF8 (RFC 6531).
    SmtpUtf8,
    /// Setting: ask for REQUIRETLS (RFC 8689).
    RequireTls,
    /// Setting: ask for PRDR (draft-hall-prdr).
    Prdr,
    /// Setting: send the content with BDAT (RFC 3030).
    Bdat,
    /// Setting: let AUTH send the credentials over a connection without TLS.
    AllowPlaintextAuth,
    /// Setting: NTLM sends NTLMv1 responses, for servers that know nothing newer.
    NtlmV1,
    /// Allow the obsolete TLS 1.0 and 1.1 (RFC 8996) besides 1.2 and 1.3, which alone are
    /// offered by default.
    OldTls,
    /// Setting: the TLS versions offered were chosen (each alone when `check` probes them).
    TlsVersions,
    /// Go on without TLS: undo what asked for STARTTLS, worded after what the user typed to ask
    /// for it (a hint composed as `⟨no-tls⟩` holds [`TlsAsked::Itself`] until the session that
    /// knows its plan fills it in, [`Hint::tls_asked`]).
    NoTls(TlsAsked),
}

/// What asked for STARTTLS in a one-shot send, as typed: a hint that tells how to carry on
/// without TLS names that, not a setting the user never gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum TlsAsked {
    /// STARTTLS required by itself (swaks `--tls`).
    #[default]
    Itself,
    /// STARTTLS tried when offered, a failure fatal (swaks `--tls-optional-strict`).
    OptionalStrict,
    /// Implied by a protocol name with TLS in it (swaks `--protocol`, the names of RFC 3848
    /// §3); `also_itself` when STARTTLS was required by itself as well.
    Protocol {
        /// The protocol named.
        name: TlsProtocol,
        /// Required by itself too: both must go.
        also_itself: bool,
    },
    /// DANE (RFC 7672 §2.2): STARTTLS when offered, required for a host with a secure TLSA
    /// RRset.
    Dane,
    /// Sent because it was typed as a command (the REPL's `:starttls`).
    Command,
}

/// The protocol names that imply STARTTLS (RFC 3848 §3; LMTPS and LMTPSA as swaks has them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsProtocol {
    /// ESMTP with STARTTLS.
    Esmtps,
    /// ESMTP with STARTTLS and AUTH.
    Esmtpsa,
    /// LMTP with STARTTLS.
    Lmtps,
    /// LMTP with STARTTLS and AUTH.
    Lmtpsa,
}

impl Remedy {
    /// Every remedy, for parsing.
    pub(crate) const ALL: [Remedy; 31] = [
        Remedy::StartTls,
        Remedy::TlsOnConnect,
        Remedy::Auth,
        Remedy::AuthMech,
        Remedy::AuthUser,
        Remedy::From,
        Remedy::Helo,
        Remedy::CaFile,
        Remedy::Insecure,
        Remedy::VerifyName,
        Remedy::ConnectTo,
        Remedy::ClientCert,
        Remedy::StartTlsInstead,
        Remedy::AuthForce,
        Remedy::ForceExt,
        Remedy::XclientNoVerify,
        Remedy::AuthOptional,
        Remedy::AuthOptionalStrict,
        Remedy::TlsOptional,
        Remedy::XclientOptional,
        Remedy::XclientOptionalStrict,
        Remedy::Pipeline,
        Remedy::SmtpUtf8,
        Remedy::RequireTls,
        Remedy::Prdr,
        Remedy::Bdat,
        Remedy::AllowPlaintextAuth,
        Remedy::NtlmV1,
        Remedy::OldTls,
        Remedy::TlsVersions,
        Remedy::NoTls(TlsAsked::Itself),
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
            Remedy::CaFile => "ca-file",
            Remedy::Insecure => "insecure",
            Remedy::VerifyName => "verify-name",
            Remedy::ConnectTo => "connect-to",
            Remedy::ClientCert => "client-cert",
            Remedy::StartTlsInstead => "starttls-instead",
            Remedy::AuthForce => "auth-force",
            Remedy::ForceExt => "force-ext",
            Remedy::XclientNoVerify => "xclient-no-verify",
            Remedy::AuthOptional => "auth-optional",
            Remedy::AuthOptionalStrict => "auth-optional-strict",
            Remedy::TlsOptional => "tls-optional",
            Remedy::XclientOptional => "xclient-optional",
            Remedy::XclientOptionalStrict => "xclient-optional-strict",
            Remedy::Pipeline => "pipeline",
            Remedy::SmtpUtf8 => "smtputf8",
            Remedy::RequireTls => "requiretls",
            Remedy::Prdr => "prdr",
            Remedy::Bdat => "bdat",
            Remedy::AllowPlaintextAuth => "allow-plaintext-auth",
            Remedy::NtlmV1 => "ntlm-v1",
            Remedy::OldTls => "old-tls",
            Remedy::TlsVersions => "tls-versions",
            Remedy::NoTls(_) => "no-tls",
        }
    }
}

/// One piece of a [`Hint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Words as they are.
    Text(String),
    /// A remedy, for the front end to word.
    Do(Remedy),
}

/// A hint: text with the remedies it names kept apart. Shown (`Display`, JSON) in the one-shot
/// send's words; [`Hint::words`] words it for another front end.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hint(Vec<Part>);

impl Hint {
    /// Every piece of its text, to be rewritten in place (a front end's mask for the secrets
    /// it knows, [`crate::smtp::event::Event::texts_mut`]); the remedies are no text.
    pub(crate) fn texts_mut(&mut self, f: &mut dyn FnMut(&mut String)) {
        for part in &mut self.0 {
            if let Part::Text(t) = part {
                f(t);
            }
        }
    }

    /// A hint from its composed text, remedies written `⟨name⟩`. A `⟨…⟩` that names no
    /// remedy stays text.
    pub(crate) fn new(text: impl AsRef<str>) -> Hint {
        let mut h = Hint::default();
        let mut rest = text.as_ref();
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
                    h.push_str(&rest[..i]);
                    h.0.push(Part::Do(r));
                    rest = &after[j + '⟩'.len_utf8()..];
                }
                None => {
                    let end = i + '⟨'.len_utf8();
                    h.push_str(&rest[..end]);
                    rest = &rest[end..];
                }
            }
        }
        h.push_str(rest);
        h
    }

    /// A hint that names no remedy (text from elsewhere: a library's reason, a server's words),
    /// taken as it is even if it holds a `⟨name⟩`.
    pub(crate) fn plain(text: impl Into<String>) -> Hint {
        let mut h = Hint::default();
        h.push_str(&text.into());
        h
    }

    /// The pieces in order.
    #[cfg(test)]
    pub(crate) fn parts(&self) -> &[Part] {
        &self.0
    }

    /// Does the hint name remedy `r`?
    pub(crate) fn names(&self, r: Remedy) -> bool {
        self.0.contains(&Part::Do(r))
    }

    /// The hint with each remedy worded by `word`.
    pub(crate) fn words(&self, word: impl Fn(Remedy) -> String) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.clone(),
                Part::Do(r) => word(*r),
            })
            .collect()
    }

    /// The hint with its way to go on without TLS ([`Remedy::NoTls`]) worded after what asked
    /// for STARTTLS: the session knows that from its plan, the reply's explanation does not.
    pub(crate) fn tls_asked(mut self, asked: TlsAsked) -> Hint {
        for p in &mut self.0 {
            if let Part::Do(Remedy::NoTls(a)) = p {
                *a = asked;
            }
        }
        self
    }

    /// Append words (no remedy in them).
    pub(crate) fn push_str(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some(Part::Text(t)) => t.push_str(text),
            _ => self.0.push(Part::Text(text.to_string())),
        }
    }

    /// Append another hint, remedies included.
    pub(crate) fn push(&mut self, other: Hint) {
        for p in other.0 {
            match p {
                Part::Text(t) => self.push_str(&t),
                Part::Do(r) => self.0.push(Part::Do(r)),
            }
        }
    }

    /// This hint, then composed text (remedies written `⟨name⟩`, see [`Hint::new`]): for advice
    /// that follows words from elsewhere (a server's, an error's), which stay as they are.
    pub(crate) fn and(mut self, composed: &str) -> Hint {
        self.push(Hint::new(composed));
        self
    }

    /// Words first, then this hint (`"certificate verification failed: "` and the reason).
    pub(crate) fn after(self, text: &str) -> Hint {
        let mut h = Hint::plain(text);
        h.push(self);
        h
    }

    /// Does the hint, in the send's words, contain `needle`?
    #[cfg(test)]
    pub(crate) fn contains(&self, needle: &str) -> bool {
        self.to_string().contains(needle)
    }

    /// Does the hint, in the send's words, start with `prefix`?
    pub(crate) fn starts_with(&self, prefix: &str) -> bool {
        self.to_string().starts_with(prefix)
    }
}

impl From<&str> for Hint {
    fn from(text: &str) -> Hint {
        Hint::new(text)
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

    #[test]
    fn plain_text_keeps_what_looks_like_a_remedy() {
        let mut h = Hint::plain("the server said ⟨tls⟩: ");
        h.push(Hint::new("use ⟨ca-file⟩"));
        assert_eq!(
            h.to_string(),
            "the server said ⟨tls⟩: use --tls-ca-path FILE"
        );
        assert_eq!(h.words(|_| "X".into()), "the server said ⟨tls⟩: use X");
        let h = Hint::new("⟨insecure⟩ skips it").after("failed: ");
        assert_eq!(h.parts()[0], Part::Text("failed: ".into()));
        assert!(h.starts_with("failed: --insecure"));
    }
}
