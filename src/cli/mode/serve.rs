//! `ehlo serve` flags → `ServeOptions`.

use super::{simple_format, usage};
use crate::cli::args::ServeArgs;
use crate::error::Error;
use crate::serve::{Listen, ServeOptions};

/// The server's options from its flags, refused here (with the flags' sources, `cli`) when
/// they contradict each other ([`crate::serve::check_options`]).
pub(super) fn serve_options(a: ServeArgs) -> Result<ServeOptions, Error> {
    let opts = options(a)?;
    crate::serve::check_options(&opts)?;
    Ok(opts)
}

fn options(a: ServeArgs) -> Result<ServeOptions, Error> {
    let max_sessions = a
        .max_sessions
        .map(usize::try_from)
        .transpose()
        .map_err(|_| usage("--max-sessions: too large"))?;
    check_hostname(&a.hostname)?;
    let users = parse_users(&a.user)?;
    // Parsed here, resolved where the server binds (`serve::listen`).
    let listen: Listen = a
        .listen
        .parse()
        .map_err(|why: String| usage(format!("--listen '{}': {why}", a.listen.escape_debug())))?;
    Ok(ServeOptions {
        listen,
        tls_on_connect: a.tls_on_connect,
        starttls: a.starttls,
        cert: a.tls_cert,
        key: a.tls_key,
        users,
        accept_any_auth: a.accept_any_auth,
        auth_before_tls: a.auth_before_tls,
        require_tls: a.require_tls,
        require_auth: a.require_auth,
        faults: a.fail,
        delays: a.delay,
        hide: a.hide,
        lmtp: a.lmtp,
        max_size: a.max_size,
        min_free: a.min_free.map(|n| n as u64),
        maildir: a.maildir,
        mbox: a.mbox,
        seed: a.seed,
        hostname: a.hostname,
        max_sessions,
        max_connections: usize::try_from(a.max_connections)
            .map_err(|_| usage("--max-connections: too large"))?,
        idle_timeout: a.idle_timeout,
        busy_timeout: a.busy_timeout,
        max_auth_failures: a.max_auth_failures,
        hard_error_limit: a.hard_error_limit,
        junk_command_limit: a.junk_command_limit,
        soft_error_limit: a.soft_error_limit,
        error_sleep_time: std::time::Duration::from_millis(a.error_sleep_time),
        quirks: crate::cli::serve_specs::quirks(&a.quirk).map_err(usage)?,
        greet_pause: std::time::Duration::from_millis(a.greet_pause),
        proxy_protocol: a.accept_proxy,
        proxy_timeout: a.proxy_timeout,
        source_marks: Vec::new(),
        format: simple_format(a.json, a.color),
        quiet: a.quiet,
    })
}

/// `--user NAME:PASS` (repeatable): the name is everything before the first `:`, the password
/// the rest. A malformed value is refused without quoting it (it may be a password typed with
/// the wrong separator); a name given twice is refused, not silently shadowed.
fn parse_users(values: &[String]) -> Result<Vec<(String, String)>, Error> {
    let mut users: Vec<(String, String)> = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let Some((name, pass)) = v.split_once(':').filter(|(name, _)| !name.is_empty()) else {
            return Err(usage(format!(
                "--user (the {}): expected NAME:PASS, a name, a colon, then the password (the value is not shown: it may hold a password)",
                ordinal(i + 1)
            )));
        };
        if users.iter().any(|(u, _)| u == name) {
            return Err(usage(format!(
                "--user {}: the name is given twice (one password per name)",
                name.escape_debug()
            )));
        }
        users.push((name.to_string(), pass.to_string()));
    }
    Ok(users)
}

/// "1st", "2nd", "3rd", "4th", … (for naming the n-th `--user`).
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix} one")
}

/// `--hostname` goes into the banner and the EHLO reply (and the self-signed certificate): a
/// domain or an address literal (RFC 5321 §4.1.3, `[192.0.2.1]`, `[IPv6:2001:db8::1]`). A CR or
/// LF would inject reply lines, a space or nothing would break them.
fn check_hostname(name: &str) -> Result<(), Error> {
    let bad = |why: &str| {
        usage(format!(
            "--hostname {name:?}: {why}; expected a domain or an address literal like [192.0.2.1]"
        ))
    };
    if name.is_empty() {
        return Err(bad("the name is empty"));
    }
    if let Some(c) = name.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad(&format!(
            "it holds {}",
            if c.is_whitespace() && !c.is_control() {
                "a space".to_string()
            } else {
                format!("the control character \\x{:02X}", u32::from(c))
            }
        )));
    }
    if name.len() > 255 {
        return Err(bad("longer than 255 octets"));
    }
    if let Some(inner) = name.strip_prefix('[') {
        let ip = inner.strip_suffix(']').unwrap_or("");
        let ok = match ip.get(..5) {
            Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => {
                ip[5..].parse::<std::net::Ipv6Addr>().is_ok()
            }
            _ => ip.parse::<std::net::Ipv4Addr>().is_ok(),
        };
        return if ok {
            Ok(())
        } else {
            Err(bad("not an address literal"))
        };
    }
    // Letters, digits, hyphens and dots (RFC 5321 §4.1.2 Domain), underscores as some hosts
    // have, and non-ASCII letters of an internationalized name (RFC 6531).
    let fits = |c: char| c.is_alphanumeric() || matches!(c, '-' | '.' | '_');
    if let Some(c) = name.chars().find(|&c| !fits(c)) {
        return Err(bad(&format!("{c:?} has no place in a domain")));
    }
    // One final dot (a fully qualified name) is fine.
    if name
        .strip_suffix('.')
        .unwrap_or(name)
        .split('.')
        .any(str::is_empty)
    {
        return Err(bad("it has an empty label"));
    }
    Ok(())
}
