//! How each front end words a hint's [`Remedy`]: the one-shot send (and JSON) names its flags,
//! the REPL its commands, `check` and `probe` the flags they have. One table, so a reply hint
//! and the connection layer's TLS advice are worded alike wherever they are shown. The core
//! holds typed remedies only: a hint's default wording (`Display`, JSON) is the send's, here.

use serde::Serialize;

use crate::smtp::codes::{Hint, Remedy, TlsAsked, TlsProtocol};

/// Where a hint is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrontEnd {
    /// The one-shot send (human transcript and JSON Lines).
    Send,
    /// The one-shot send's human transcript when its command line was typed in swaks's
    /// single-dash spelling (`-tls -au USER`): the flags swaks has a short spelling for are
    /// named so (`-tls`, `-a -au USER`, `-f`), the others as [`FrontEnd::Send`] names them.
    /// JSON keeps the send's words whatever was typed.
    Swaks,
    /// `ehlo repl`.
    Repl,
    /// `ehlo replay`: the REPL's words, but a TLS failure ends the replay, so what would make
    /// the script's `:starttls` pass is one of replay's flags (or a step of the script).
    Replay,
    /// `ehlo check`: certificates are judged, never enforced; no client certificate.
    Check,
    /// `ehlo probe`: the server is the positional target; no client certificate.
    Probe,
}

/// A remedy in `front`'s words.
pub(crate) fn word(r: Remedy, front: FrontEnd) -> &'static str {
    match front {
        FrontEnd::Send => send(r),
        FrontEnd::Swaks => swaks(r).unwrap_or_else(|| send(r)),
        FrontEnd::Replay => match r {
            Remedy::CaFile => "ehlo replay --tls-ca-path FILE",
            Remedy::Insecure => "ehlo replay --insecure",
            Remedy::VerifyName => "a :starttls --sni step in the script",
            Remedy::TlsOnConnect => "ehlo replay --tls-on-connect",
            Remedy::StartTlsInstead => {
                "ehlo replay without --tls-on-connect, with a :starttls step in the script"
            }
            Remedy::ConnectTo => "ehlo replay --server",
            Remedy::ClientCert => "replay has none: use a one-shot send with --tls-cert",
            Remedy::NoTls(_) => "leave out the script's :starttls step",
            other => word(other, FrontEnd::Repl),
        },
        FrontEnd::Repl => match r {
            Remedy::StartTls => ":starttls",
            // `ehlo repl --tls` sends STARTTLS by itself after the first EHLO; otherwise it
            // went out because `:starttls` was typed.
            Remedy::NoTls(TlsAsked::Itself) => "start ehlo repl again without --tls",
            Remedy::NoTls(_) => "leave out :starttls",
            // Implicit TLS is chosen when the REPL starts: it has no command for it.
            Remedy::TlsOnConnect => "a new session with ehlo repl --tls-on-connect",
            Remedy::Auth => ":auth PLAIN USER",
            Remedy::AuthMech => ":auth TYPE USER",
            Remedy::AuthUser => "the user given to :auth",
            Remedy::From => "MAIL FROM",
            Remedy::Helo => "EHLO",
            Remedy::CaFile => ":starttls --ca FILE",
            Remedy::Insecure => ":starttls --insecure",
            Remedy::VerifyName => ":starttls --sni",
            Remedy::ConnectTo => "a new session with ehlo repl",
            Remedy::ClientCert => "the REPL has none: use a one-shot send with --tls-cert",
            Remedy::StartTlsInstead => {
                "start ehlo repl again without --tls-on-connect, then :starttls"
            }
            // The REPL sends what is typed: nothing is held back for want of an extension.
            Remedy::AuthForce => "typing the AUTH command",
            Remedy::ForceExt => "typing the command",
            Remedy::XclientNoVerify => "typing the XCLIENT command",
            Remedy::AllowPlaintextAuth => "ehlo repl --allow-plaintext-auth",
            // Settings of a one-shot send's plan: the REPL has none of them.
            other => send_only(other).unwrap_or_else(|| send(other)),
        },
        // `check` judges certificates without enforcing them and connects to the MX hosts
        // itself: what it has no flag for is done with a one-shot send.
        FrontEnd::Check => match r {
            Remedy::ClientCert => "check presents none",
            Remedy::Insecure => "a one-shot send's --insecure",
            Remedy::VerifyName => "a one-shot send's --tls-verify-target",
            Remedy::ConnectTo => "a one-shot send's --server",
            Remedy::StartTlsInstead => "STARTTLS instead of implicit TLS",
            Remedy::TlsOnConnect => "implicit TLS",
            Remedy::NoTls(_) => "send without STARTTLS",
            // `check` offers TLS 1.2 and 1.3; `--tls-probe` tries each version alone.
            Remedy::OldTls => "--tls-probe tries each version alone",
            Remedy::TlsVersions => "tried alone by --tls-probe",
            other => send_only(other).unwrap_or_else(|| send(other)),
        },
        FrontEnd::Probe => match r {
            Remedy::ClientCert => "probe presents none: use a one-shot send with --tls-cert",
            Remedy::VerifyName => "a one-shot send's --tls-verify-target",
            Remedy::ConnectTo => "ehlo probe",
            Remedy::NoTls(_) => "send without STARTTLS",
            other => send_only(other).unwrap_or_else(|| send(other)),
        },
    }
}

/// How the one-shot send says it: the flag that does it.
fn send(r: Remedy) -> &'static str {
    match r {
        Remedy::StartTls => "--tls",
        Remedy::TlsOnConnect => "--tls-on-connect",
        Remedy::Auth => "--auth --auth-user USER",
        Remedy::AuthMech => "--auth TYPE",
        Remedy::AuthUser => "--auth-user",
        Remedy::From => "--from",
        Remedy::Helo => "--helo",
        Remedy::CaFile => "--tls-ca-path FILE",
        Remedy::Insecure => "--insecure",
        Remedy::VerifyName => "--tls-verify-target",
        Remedy::ConnectTo => "--server",
        Remedy::ClientCert => "--tls-cert/--tls-key",
        Remedy::StartTlsInstead => "use --tls (STARTTLS) instead of --tls-on-connect",
        Remedy::AuthForce => "--auth-force",
        Remedy::ForceExt => "--force-ext",
        Remedy::XclientNoVerify => "--xclient-no-verify",
        Remedy::AuthOptional => "--auth-optional",
        Remedy::AuthOptionalStrict => "--auth-optional-strict",
        Remedy::TlsOptional => "--tls-optional",
        Remedy::XclientOptional => "--xclient-optional",
        Remedy::XclientOptionalStrict => "--xclient-optional-strict",
        Remedy::Pipeline => "--pipeline",
        Remedy::SmtpUtf8 => "--smtputf8",
        Remedy::RequireTls => "--requiretls",
        Remedy::Prdr => "--prdr",
        Remedy::Bdat => "--bdat",
        Remedy::AllowPlaintextAuth => "--allow-plaintext-auth",
        Remedy::NtlmV1 => "--auth-extra ntlm-version=1",
        Remedy::OldTls => "--tls-protocol tlsv1,tlsv1_1,tlsv1_2,tlsv1_3",
        Remedy::TlsVersions => "--tls-protocol",
        Remedy::NoTls(asked) => no_tls(asked),
    }
}

/// How a swaks user spells the remedies swaks has a short or single-dash name for (swaks's
/// own aliases, which ehlo takes as it does: `-tls`, `-tlsc`, `-a`, `-au`, `-f`, `-s`).
fn swaks(r: Remedy) -> Option<&'static str> {
    Some(match r {
        Remedy::StartTls => "-tls",
        Remedy::TlsOnConnect => "-tlsc",
        Remedy::Auth => "-a -au USER",
        Remedy::AuthMech => "-a TYPE",
        Remedy::AuthUser => "-au",
        Remedy::From => "-f",
        Remedy::ConnectTo => "-s",
        Remedy::AuthOptional => "-ao",
        Remedy::AuthOptionalStrict => "-aos",
        Remedy::TlsOptional => "-tlso",
        Remedy::StartTlsInstead => "use -tls (STARTTLS) instead of -tlsc",
        Remedy::NoTls(TlsAsked::Itself) => "leave out -tls",
        Remedy::NoTls(TlsAsked::OptionalStrict) => "use -tlso instead of -tlsos",
        _ => return None,
    })
}

/// How the one-shot send goes on without TLS: without what asked for it.
fn no_tls(asked: TlsAsked) -> &'static str {
    use TlsProtocol as P;
    match asked {
        TlsAsked::Itself => "leave out --tls",
        TlsAsked::OptionalStrict => "use --tls-optional instead of --tls-optional-strict",
        TlsAsked::Dane => "leave out --tls-verify dane",
        TlsAsked::Command => "leave out STARTTLS",
        TlsAsked::Protocol { name, also_itself } => match (name, also_itself) {
            (P::Esmtps, false) => "use --protocol ESMTP instead of ESMTPS",
            (P::Esmtpsa, false) => "use --protocol ESMTPA instead of ESMTPSA",
            (P::Lmtps, false) => "use --protocol LMTP instead of LMTPS",
            (P::Lmtpsa, false) => "use --protocol LMTPA instead of LMTPSA",
            (P::Esmtps, true) => "leave out --tls and use --protocol ESMTP instead of ESMTPS",
            (P::Esmtpsa, true) => "leave out --tls and use --protocol ESMTPA instead of ESMTPSA",
            (P::Lmtps, true) => "leave out --tls and use --protocol LMTP instead of LMTPS",
            (P::Lmtpsa, true) => "leave out --tls and use --protocol LMTPA instead of LMTPSA",
        },
    }
}

/// A hint by default (an error's text, the JSON `hint`) is in the one-shot send's words.
impl std::fmt::Display for Hint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&words(self, FrontEnd::Send))
    }
}

impl Serialize for Hint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// A remedy only the one-shot send has (forcing what is not advertised, the settings of its
/// plan), named as such for the other front ends.
fn send_only(r: Remedy) -> Option<&'static str> {
    Some(match r {
        Remedy::AuthForce => "a one-shot send's --auth-force",
        Remedy::ForceExt => "a one-shot send's --force-ext",
        Remedy::XclientNoVerify => "a one-shot send's --xclient-no-verify",
        Remedy::AuthOptional => "a one-shot send's --auth-optional",
        Remedy::AuthOptionalStrict => "a one-shot send's --auth-optional-strict",
        Remedy::TlsOptional => "a one-shot send's --tls-optional",
        Remedy::XclientOptional => "a one-shot send's --xclient-optional",
        Remedy::XclientOptionalStrict => "a one-shot send's --xclient-optional-strict",
        Remedy::Pipeline => "a one-shot send's --pipeline",
        Remedy::SmtpUtf8 => "a one-shot send's --smtputf8",
        Remedy::RequireTls => "a one-shot send's --requiretls",
        Remedy::Prdr => "a one-shot send's --prdr",
        Remedy::Bdat => "a one-shot send's --bdat",
        // The REPL's and replay's `:auth NTLM` send NTLMv2 only.
        Remedy::NtlmV1 => "a one-shot send's --auth-extra ntlm-version=1",
        // The REPL, replay and probe offer TLS 1.2 and 1.3 only: no flag of theirs changes it.
        Remedy::OldTls => "a one-shot send's --tls-protocol tlsv1,tlsv1_1,tlsv1_2,tlsv1_3",
        Remedy::TlsVersions => "a one-shot send's --tls-protocol",
        _ => return None,
    })
}

/// `hint` in `front`'s words.
pub(crate) fn words(hint: &Hint, front: FrontEnd) -> String {
    hint.words(|r| word(r, front).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    /// The connection layer's TLS advice, as each front end shows it.
    #[test]
    fn tls_advice_is_worded_per_front_end() {
        let h = Hint::new("use ⟨ca-file⟩ if the CA is private, or ⟨insecure⟩ to skip verification");
        assert_eq!(
            words(&h, FrontEnd::Send),
            "use --tls-ca-path FILE if the CA is private, or --insecure to skip verification"
        );
        assert_eq!(
            words(&h, FrontEnd::Repl),
            "use :starttls --ca FILE if the CA is private, or :starttls --insecure to skip verification"
        );
        assert_eq!(
            words(&h, FrontEnd::Probe),
            "use --tls-ca-path FILE if the CA is private, or --insecure to skip verification"
        );
        assert_eq!(
            words(&h, FrontEnd::Replay),
            "use ehlo replay --tls-ca-path FILE if the CA is private, or ehlo replay --insecure to skip verification"
        );
        let h = Hint::new(
            "connect by a name the certificate holds (e.g. ⟨connect-to⟩ mx.test), or check it against that name with ⟨verify-name⟩ mx.test",
        );
        assert_eq!(
            words(&h, FrontEnd::Send),
            "connect by a name the certificate holds (e.g. --server mx.test), or check it against that name with --tls-verify-target mx.test"
        );
        assert_eq!(
            words(&h, FrontEnd::Repl),
            "connect by a name the certificate holds (e.g. a new session with ehlo repl mx.test), or check it against that name with :starttls --sni mx.test"
        );
        let h = Hint::new("it requires a client certificate (⟨client-cert⟩)");
        assert_eq!(
            words(&h, FrontEnd::Send),
            "it requires a client certificate (--tls-cert/--tls-key)"
        );
        assert_eq!(
            words(&h, FrontEnd::Repl),
            "it requires a client certificate (the REPL has none: use a one-shot send with --tls-cert)"
        );
        assert_eq!(
            words(&h, FrontEnd::Check),
            "it requires a client certificate (check presents none)"
        );
        let h = Hint::new("this port speaks plain SMTP: ⟨starttls-instead⟩");
        assert_eq!(
            words(&h, FrontEnd::Send),
            "this port speaks plain SMTP: use --tls (STARTTLS) instead of --tls-on-connect"
        );
        assert_eq!(
            words(&h, FrontEnd::Repl),
            "this port speaks plain SMTP: start ehlo repl again without --tls-on-connect, then :starttls"
        );
    }

    /// A server that offers only TLS 1.0/1.1: each front end says how it can be reached there,
    /// and `check`'s version probe names itself, not a flag `check` does not have.
    #[test]
    fn old_tls_advice_is_worded_per_front_end() {
        let h = Hint::new("only TLS 1.0/1.1 (⟨old-tls⟩)");
        assert_eq!(
            words(&h, FrontEnd::Send),
            "only TLS 1.0/1.1 (--tls-protocol tlsv1,tlsv1_1,tlsv1_2,tlsv1_3)"
        );
        for front in [FrontEnd::Repl, FrontEnd::Replay, FrontEnd::Probe] {
            assert_eq!(
                words(&h, front),
                "only TLS 1.0/1.1 (a one-shot send's --tls-protocol tlsv1,tlsv1_1,tlsv1_2,tlsv1_3)"
            );
        }
        assert_eq!(
            words(&h, FrontEnd::Check),
            "only TLS 1.0/1.1 (--tls-probe tries each version alone)"
        );
        let h = Hint::new("the server offers none of tlsv1_1 (⟨tls-versions⟩)");
        assert_eq!(
            words(&h, FrontEnd::Send),
            "the server offers none of tlsv1_1 (--tls-protocol)"
        );
        let check = words(&h, FrontEnd::Check);
        assert_eq!(
            check,
            "the server offers none of tlsv1_1 (tried alone by --tls-probe)"
        );
        assert!(!check.contains("--tls-protocol"), "{check}");
    }

    /// A send typed in swaks's spelling gets its hints so: the flags with a swaks alias by that
    /// alias, every other as the send names it; each alias is one ehlo takes.
    #[test]
    fn a_swaks_spelt_send_gets_swaks_spellings() {
        let h = Hint::new("add ⟨auth⟩ (usually with ⟨tls⟩), or ⟨tls-on-connect⟩; ⟨ca-file⟩");
        assert_eq!(
            words(&h, FrontEnd::Swaks),
            "add -a -au USER (usually with -tls), or -tlsc; --tls-ca-path FILE"
        );
        for r in Remedy::ALL {
            let Some(spelt) = swaks(r) else { continue };
            for word in spelt.split(' ').filter(|w| w.starts_with('-')) {
                let long = word.trim_start_matches('-');
                assert!(
                    crate::cli::args::Cli::command().get_arguments().any(|a| a
                        .get_short()
                        .map(String::from)
                        .as_deref()
                        == Some(long)
                        || a.get_long() == Some(long)
                        || a.get_all_aliases().is_some_and(|v| v.contains(&long))),
                    "{r:?}: {word} is no flag of the send"
                );
            }
        }
    }

    /// No front end leaves another's flag where it has none.
    #[test]
    fn each_front_end_names_only_what_it_has() {
        for r in Remedy::ALL {
            let repl = word(r, FrontEnd::Repl);
            assert!(
                !repl.contains("--")
                    || repl.starts_with(':')
                    || repl.contains("ehlo repl")
                    || repl.contains("one-shot"),
                "{r:?}: {repl}"
            );
            for front in [FrontEnd::Check, FrontEnd::Probe] {
                let w = word(r, front);
                assert!(!w.contains("--tls-cert/--tls-key"), "{r:?}: {w}");
            }
        }
    }

    /// The way to go on without TLS names what asked for STARTTLS: the send's flag or
    /// `--protocol` value, the REPL's `--tls` or a typed `:starttls`, replay's script step.
    #[test]
    fn going_on_without_tls_is_worded_after_what_asked_for_it() {
        let h = Hint::new("retry later, or ⟨no-tls⟩ to carry on in plaintext");
        let send = |asked| words(&h.clone().tls_asked(asked), FrontEnd::Send);
        assert_eq!(
            send(TlsAsked::Itself),
            "retry later, or leave out --tls to carry on in plaintext"
        );
        assert_eq!(
            send(TlsAsked::OptionalStrict),
            "retry later, or use --tls-optional instead of --tls-optional-strict to carry on in plaintext"
        );
        let esmtpsa = TlsAsked::Protocol {
            name: crate::smtp::codes::TlsProtocol::Esmtpsa,
            also_itself: false,
        };
        assert_eq!(
            send(esmtpsa),
            "retry later, or use --protocol ESMTPA instead of ESMTPSA to carry on in plaintext"
        );
        // JSON shows the send's words too.
        assert_eq!(h.clone().tls_asked(esmtpsa).to_string(), send(esmtpsa));
        let repl = |asked| words(&h.clone().tls_asked(asked), FrontEnd::Repl);
        assert_eq!(
            repl(TlsAsked::Command),
            "retry later, or leave out :starttls to carry on in plaintext"
        );
        assert_eq!(
            repl(TlsAsked::Itself),
            "retry later, or start ehlo repl again without --tls to carry on in plaintext"
        );
        assert!(
            words(&h.clone().tls_asked(TlsAsked::Command), FrontEnd::Replay)
                .contains("leave out the script's :starttls step")
        );
    }
}
