//! Quirks of `ehlo serve`: switches that make the server behave like a vulnerable
//! MTA, so that `ehlo probe` (and any other client's safety check) can be tested against both
//! behaviours in-process. Every switch is off by default; the default server is the safe one.
//!
//! - `bare-lf-dot`: in DATA a bare LF ends a line, so `<LF>.<LF>` and `<LF>.<CR><LF>` end the
//!   message — SMTP smuggling (CVE-2023-51764, Postfix before `smtpd_forbid_bare_newline`).
//! - `starttls-keep`: plaintext pipelined after `STARTTLS` is kept and executed inside the TLS
//!   session (CVE-2011-0411 class).
//! - `disclose-users`: `VRFY` and `EXPN` say which users exist (250 for a configured user, 550
//!   5.1.1 otherwise) instead of `252` / `502`; the mailbox shown is a user with a domain as
//!   configured, a bare name at the server's hostname.
//! - `answer-unsynced`: with PIPELINING hidden, commands a client sends before their
//!   predecessor's reply are answered one by one. Without it such a client gets `554 5.5.0 SMTP
//!   synchronization error` and the connection is closed, as Exim's `smtp_enforce_sync` does.
//!
//! Early talkers (commands before the greeting) are accepted unless the greeting is delayed:
//! that is the listener's timing, not a quirk.

/// Which quirks are on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quirks {
    /// `bare-lf-dot`.
    pub bare_lf_dot: bool,
    /// `starttls-keep`.
    pub starttls_keep: bool,
    /// `disclose-users`.
    pub disclose_users: bool,
    /// `answer-unsynced`.
    pub answer_unsynced: bool,
}

/// `disclose-users`: the user a `VRFY`/`EXPN` argument names (`<a@b>`, `a@b` or `a`), if it is
/// one of `users` (compared case-insensitively, by local part when the name has no domain).
pub(crate) fn known_user<'a>(
    arg: &str,
    users: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let a = arg.trim().trim_start_matches('<').trim_end_matches('>');
    let local = a.split('@').next().unwrap_or(a);
    users
        .into_iter()
        .find(|u| u.eq_ignore_ascii_case(a) || (!u.contains('@') && u.eq_ignore_ascii_case(local)))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_users() {
        assert_eq!(
            known_user("<Alice@x.test>", ["alice"]),
            Some("alice".to_string())
        );
        assert_eq!(known_user("bob", ["alice"]), None);
        assert_eq!(known_user("alice@x", ["alice@y"]), None);
    }
}
