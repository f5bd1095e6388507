//! `ehlo serve` flags → `ServeOptions`.

use super::{simple_format, usage};
use crate::cli::args::ServeArgs;
use crate::error::Error;
use crate::serve::ServeOptions;
use std::net::{SocketAddr, ToSocketAddrs};

pub(super) fn serve_options(a: ServeArgs) -> Result<ServeOptions, Error> {
    let max_sessions = a
        .max_sessions
        .map(usize::try_from)
        .transpose()
        .map_err(|_| usage("--max-sessions: too large"))?;
    check_hostname(&a.hostname)?;
    let users = parse_users(&a.user)?;
    let (listen, also_listen) = listen_addresses(&a.listen)?;
    Ok(ServeOptions {
        listen,
        also_listen,
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
        maildir: a.maildir,
        mbox: a.mbox,
        seed: a.seed,
        hostname: a.hostname,
        max_sessions,
        max_connections: usize::try_from(a.max_connections)
            .map_err(|_| usage("--max-connections: too large"))?,
        idle_timeout: a.idle_timeout,
        max_auth_failures: a.max_auth_failures,
        quirks: crate::smtp::server::Quirks::parse(&a.quirk).map_err(usage)?,
        greet_pause: std::time::Duration::from_millis(a.greet_pause),
        format: simple_format(a.json, a.color),
        quiet: a.quiet,
    })
}

/// The forms `--listen` takes, for its refusals.
const LISTEN_FORMS: &str =
    "expected ADDR:PORT, [IPv6]:PORT or HOST:PORT (127.0.0.1:2525, [::1]:2525, localhost:2525)";

/// `--listen`: an address and port, or a host name and port, resolved here to every address it
/// has (`localhost` to 127.0.0.1 and ::1 where both are listed, as a server user expects to
/// be reached on either), the first one first. A name that does not resolve cannot be
/// listened on: exit 2, as for an address that cannot be bound.
fn listen_addresses(spec: &str) -> Result<(SocketAddr, Vec<SocketAddr>), Error> {
    if let Ok(a) = spec.parse::<SocketAddr>() {
        return Ok((a, Vec::new()));
    }
    let Some((host, port)) = spec.rsplit_once(':') else {
        return Err(usage(format!(
            "--listen '{}': {LISTEN_FORMS}",
            spec.escape_debug()
        )));
    };
    if host.contains(':') || host.starts_with('[') {
        return Err(usage(format!(
            "--listen '{}': an IPv6 address goes in brackets, [::1]:2525",
            spec.escape_debug()
        )));
    }
    let Ok(port) = port.parse::<u16>() else {
        return Err(usage(format!(
            "--listen '{}': the port is a number from 0 to 65535; {LISTEN_FORMS}",
            spec.escape_debug()
        )));
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(usage(format!(
            "--listen '{}': {LISTEN_FORMS}",
            spec.escape_debug()
        )));
    }
    let unresolved = |reason: String| Error::Listen {
        addr: spec.to_string(),
        reason,
    };
    let mut addrs: Vec<SocketAddr> = Vec::new();
    let found = (host, port)
        .to_socket_addrs()
        .map_err(|e| unresolved(format!("{host} does not resolve ({e}); {LISTEN_FORMS}")))?;
    for a in found {
        if !addrs.contains(&a) {
            addrs.push(a);
        }
    }
    let mut it = addrs.into_iter();
    let Some(first) = it.next() else {
        return Err(unresolved(format!("{host} has no address; {LISTEN_FORMS}")));
    };
    Ok((first, it.collect()))
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
