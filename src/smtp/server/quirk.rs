//! Quirks of `ehlo serve --quirk NAME`: switches that make the server behave like a vulnerable
//! MTA, so that `ehlo probe` (and any other client's safety check) can be tested against both
//! behaviours in-process. Every switch is off by default; the default server is the safe one.
//!
//! - `bare-lf-dot`: in DATA a bare LF ends a line, so `<LF>.<LF>` and `<LF>.<CR><LF>` end the
//!   message — SMTP smuggling (CVE-2023-51764, Postfix before `smtpd_forbid_bare_newline`).
//! - `starttls-keep`: plaintext pipelined after `STARTTLS` is kept and executed inside the TLS
//!   session (CVE-2011-0411 class).
//! - `disclose-users`: `VRFY` and `EXPN` say which users exist (250 for a `--user` name, 550
//!   5.1.1 otherwise) instead of `252` / `502`.
//! - `answer-unsynced`: with `--hide PIPELINING`, commands a client sends before their
//!   predecessor's reply are answered one by one. Without it such a client gets `554 5.5.0 SMTP
//!   synchronization error` and the connection is closed, as Exim's `smtp_enforce_sync` does.
//!
//! Early talkers (commands before the greeting) are accepted unless `--greet-pause` is set:
//! that is the listener's timing, not a quirk.

/// The `--quirk` help text.
pub(crate) const QUIRK_HELP: &str = "\
Behave like a vulnerable MTA (repeatable), for testing safety probes:
  bare-lf-dot     a bare LF ends a line in DATA: <LF>.<LF> ends the message (SMTP smuggling)
  starttls-keep   execute plaintext pipelined after STARTTLS inside TLS (CVE-2011-0411)
  disclose-users  VRFY/EXPN answer 250 for a --user name and 550 for anyone else
  answer-unsynced with --hide PIPELINING, answer commands pipelined anyway (default: 554 and close)";

/// Names `--quirk` accepts.
pub(crate) const NAMES: &[&str] = &[
    "bare-lf-dot",
    "starttls-keep",
    "disclose-users",
    "answer-unsynced",
];

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

impl Quirks {
    /// Parse the `--quirk` values; an unknown name is an error naming the known ones.
    pub(crate) fn parse(names: &[String]) -> Result<Quirks, String> {
        let mut q = Quirks::default();
        for n in names {
            match n.trim().to_ascii_lowercase().as_str() {
                "bare-lf-dot" => q.bare_lf_dot = true,
                "starttls-keep" => q.starttls_keep = true,
                "disclose-users" => q.disclose_users = true,
                "answer-unsynced" => q.answer_unsynced = true,
                other => {
                    return Err(format!(
                        "--quirk: unknown quirk '{other}'; known: {}",
                        NAMES.join(", ")
                    ));
                }
            }
        }
        Ok(q)
    }
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
    fn parse_and_users() {
        let q = Quirks::parse(&["bare-lf-dot".into(), "Disclose-Users".into()]).unwrap();
        assert!(q.bare_lf_dot && q.disclose_users && !q.starttls_keep);
        let e = Quirks::parse(&["nope".into()]).unwrap_err();
        assert!(e.contains("starttls-keep"), "{e}");
        assert_eq!(
            known_user("<Alice@x.test>", ["alice"]),
            Some("alice".to_string())
        );
        assert_eq!(known_user("bob", ["alice"]), None);
        assert_eq!(known_user("alice@x", ["alice@y"]), None);
    }
}
