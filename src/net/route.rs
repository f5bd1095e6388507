//! The one connection plan: where to connect ([`Target`]), over what ([`Transport`]) and how
//! ([`Link`]: address family, local bind, DNS, TLS, timeouts). The CLI builds a
//! [`ConnectPlan`] for a send, the REPL and replay alike; [`super::conn`] carries it out.
//! Plain data: nothing here resolves, connects or reads a flag.

use std::net::{IpAddr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use crate::net::dns::{DnsOptions, Family};
use crate::net::tls::TlsParams;

/// An address literal as a host may be written: an IP address, or an IPv6 address with a
/// zone (RFC 4007 §11: `fe80::1%eth0`, `fe80::1%2`), the interface name or index a scoped
/// (link-local) address needs to mean anything. The zone is returned as written, for the
/// connection to turn into a scope id ([`super::conn`]); `None` for anything else, a host
/// name to look up. Never a name: a zone is on IPv6 only, and is one word without a `%`,
/// `/`, `:`, bracket, whitespace or control character (Linux: at most 15 bytes, `IFNAMSIZ`).
pub(crate) fn ip_literal(host: &str) -> Option<(IpAddr, Option<&str>)> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some((ip, None));
    }
    let (addr, zone) = host.split_once('%')?;
    let ip = addr.parse::<Ipv6Addr>().ok()?;
    let plain = |c: char| {
        !(c.is_whitespace() || c.is_control() || matches!(c, '%' | '/' | ':' | '[' | ']'))
    };
    (!zone.is_empty() && zone.len() <= 15 && zone != "." && zone != ".." && zone.chars().all(plain))
        .then_some((IpAddr::V6(ip), Some(zone)))
}

/// Split a server's text into host and port, the one reading of it in every mode (`--server`,
/// `--local-interface`, `ehlo repl`/`probe`'s argument, `:reconnect`): `HOST`, `HOST:PORT`,
/// `[HOST]`, `[HOST]:PORT`, `HOST/PORT` (swaks's parse_server), or a bare IPv6 address, which
/// may carry its zone (`fe80::1%eth0`, RFC 4007 §11) but cannot carry a port: more than one
/// colon and no brackets is an IPv6 address or nothing (`::1:2525` is refused, not split at its
/// last colon). `port_of` reads a port (a number or a service name).
pub(crate) fn split_server(
    s: &str,
    port_of: impl Fn(&str) -> Result<u16, String>,
) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("'{s}' has '[' without ']'"))?;
        // RFC 5321 §4.1.3's address literal, `[IPv6:2001:db8::1]` as in `user@[IPv6:…]`: the
        // address (it was looked up in DNS as the name `IPv6:2001:db8::1`, exit 2).
        // The tag promises an IPv6 address: anything else after it is refused in one line,
        // exit 1 (`[IPv6:127.0.0.1]` and `[IPv6:mx.test]` were looked up in DNS as names with a
        // colon, which none can be, exit 2), as `--to user@[IPv6:127.0.0.1]` is refused.
        let host = match (host.get(..5), host.get(5..)) {
            (Some(tag), Some(addr)) if tag.eq_ignore_ascii_case("IPv6:") => {
                match ip_literal(addr) {
                    Some((IpAddr::V6(_), _)) => addr,
                    Some((IpAddr::V4(v4), _)) => {
                        return Err(format!(
                            "'[{host}]' tags an IPv4 address as IPv6: write [{v4}] (RFC 5321 §4.1.3)"
                        ));
                    }
                    None => {
                        return Err(format!(
                            "'[{host}]' is not an IPv6 address (RFC 5321 §4.1.3)"
                        ));
                    }
                }
            }
            _ => host,
        };
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':').or_else(|| after.strip_prefix('/')) {
                Some(p) => Some(port_of(p)?),
                None => return Err(format!("unexpected '{after}' after ']' in '{s}'")),
            },
        };
        (host, port)
    } else if let Some((host, port)) = s.rsplit_once('/') {
        (host, Some(port_of(port)?))
    } else if s.matches(':').count() == 1 {
        let (host, port) = s.split_once(':').unwrap_or((s, ""));
        (host, Some(port_of(port)?))
    } else if s.contains(':') {
        if !ip_literal(s).is_some_and(|(ip, _)| ip.is_ipv6()) {
            return Err(format!(
                "'{s}' is not HOST:PORT; write IPv6 addresses as [ADDR]:PORT or ADDR/PORT"
            ));
        }
        (s, None)
    } else {
        (s, None)
    };
    if host.is_empty() {
        return Err(format!("'{s}' has no host"));
    }
    Ok((host, port))
}

/// The mail domain of `addr` as routing compares it: the part after its last `@`, one trailing
/// dot (an absolute name, RFC 1034 §3.1) dropped, in its ASCII form (A-labels for an IDN, RFC
/// 5890 §2.3.2.1), lower case (RFC 4343). `None` for an address without a domain
/// (`postmaster`, RFC 5321 §4.1.1.3) or with an empty one.
pub(crate) fn mail_domain(addr: &str) -> Option<String> {
    let (_, d) = addr.rsplit_once('@')?;
    let d = d.trim();
    let d = d.strip_suffix('.').unwrap_or(d);
    (!d.is_empty()).then(|| crate::net::dns::ascii_host(d).to_ascii_lowercase())
}

/// Why `domain` (one trailing dot already dropped) is no name DNS can be asked about, if it
/// is not: an empty label (`a..b`, a leading dot, a second trailing dot), a label over 63
/// octets or a name over 253 (RFC 1035 §2.3.4), counted in its ASCII form (an IDN's A-labels),
/// or a label that claims to be an A-label and is none (RFC 5891 §5.4).
pub(crate) fn unaskable(domain: &str) -> Option<String> {
    let ascii = crate::net::dns::ascii_host(domain);
    if ascii.len() > 253 {
        return Some(format!(
            "the name is {} octets long, over 253 (RFC 1035 §2.3.4)",
            ascii.len()
        ));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Some("it has an empty label (two dots in a row, or a leading dot)".into());
        }
        if label.len() > 63 {
            return Some(format!(
                "a label is {} octets long, over 63 (RFC 1035 §2.3.4)",
                label.len()
            ));
        }
    }
    crate::net::dns::bad_a_label(&ascii)
}

/// Routed by one recipient's domain (its MX, or its address literal), the other domains among
/// `rcpts`, each once in the order first met: mail for them goes to a server that is not theirs,
/// since RFC 5321 §5.1 routes each domain by its own MX and one session reaches one server.
/// swaks routes the same way (the last recipient's domain) and says nothing; a run that would
/// hand another domain's recipients to this MX must say so.
pub(crate) fn off_route(routed: &str, rcpts: &[String]) -> Vec<String> {
    let Some(routed) = mail_domain(&format!("@{routed}")) else {
        return Vec::new();
    };
    let mut others: Vec<String> = Vec::new();
    for d in rcpts.iter().filter_map(|r| mail_domain(r)) {
        if d != routed && !others.contains(&d) {
            others.push(d);
        }
    }
    others
}

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A host name or an address literal (no brackets; IPv6 with its zone if it has one,
    /// [`ip_literal`]).
    Host {
        /// Host name or IP literal.
        host: String,
        /// Port.
        port: u16,
    },
    /// The MX hosts of a domain, in preference order with failover (RFC 5321 §5.1).
    Mx {
        /// The domain.
        domain: String,
        /// Port.
        port: u16,
    },
}

impl Target {
    /// The port, whichever kind of target.
    pub(crate) fn port(&self) -> u16 {
        match self {
            Target::Host { port, .. } | Target::Mx { port, .. } => *port,
        }
    }

    /// The target that is exactly `addr`, for a second connection to the server a first one
    /// reached: its address literal and, for a scoped IPv6 address, its scope id as the zone
    /// in digits (an interface index, RFC 4007 §11.2), which the connection reads back
    /// without looking anything up. `Ipv6Addr`'s text alone drops the scope: a follow-up to
    /// `fe80::1%eth0` went to `fe80::1` on no interface, which the kernel refuses (EINVAL).
    pub(crate) fn at(addr: std::net::SocketAddr) -> Target {
        let host = match addr {
            std::net::SocketAddr::V6(a) if a.scope_id() != 0 => {
                format!("{}%{}", a.ip(), a.scope_id())
            }
            a => a.ip().to_string(),
        };
        Target::Host {
            host,
            port: addr.port(),
        }
    }

    /// Parse `HOST[:PORT]`, `HOST/PORT`, `[v6]:PORT`, a bare IPv6 literal ([`split_server`], as
    /// a send reads `--server`), or `@domain` (the REPL's, replay's and probe's server argument,
    /// `:reconnect`'s). A port in the text wins over `port` (from
    /// `--port`), as a send's `--server HOST:PORT` does (swaks's parse_server); without either
    /// the port is `default_port`. `port_of` reads a port (the caller's: a number, or a service
    /// name as `--port` takes it).
    pub(crate) fn parse(
        s: &str,
        port: Option<u16>,
        default_port: u16,
        port_of: fn(&str) -> Result<u16, String>,
    ) -> Result<Target, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty server".into());
        }
        if let Some(domain) = s.strip_prefix('@') {
            let (domain, p) = match domain.rsplit_once(':') {
                Some((d, p)) => (d, Some(port_of(p)?)),
                None => (domain, None),
            };
            if domain.is_empty() {
                return Err("@ needs a domain: @example.com".into());
            }
            return Ok(Target::Mx {
                domain: domain.to_string(),
                port: p.or(port).unwrap_or(default_port),
            });
        }
        let (host, p) = split_server(s, port_of)?;
        Ok(Target::Host {
            host: host.to_string(),
            port: p.or(port).unwrap_or(default_port),
        })
    }
}

/// The port written inside a server's text (`HOST:PORT`, `[v6]:PORT`, `HOST/PORT`,
/// `@domain:PORT`), if any and if it reads ([`Target::parse`]'s reading).
pub(crate) fn port_inside(s: &str, port_of: fn(&str) -> Result<u16, String>) -> Option<u16> {
    let s = s.trim();
    match s.strip_prefix('@') {
        Some(domain) => domain.rsplit_once(':').and_then(|(_, p)| port_of(p).ok()),
        None => split_server(s, port_of).ok().and_then(|(_, p)| p),
    }
}

/// `--port` (`-p`, `EHLO_PORT`) `given` and a different port `inside` the server's text
/// (`what`: `--server`, or the REPL's, replay's and probe's address): the one inside wins, as
/// in swaks's parse_server (documented), but silently a `-s host:8025 --port 25` went to
/// 8025 while its author expected 25. The one warning every mode says before connecting,
/// naming the port used and why; the run goes on to it.
pub(crate) fn port_inside_warning(
    what: &str,
    inside: Option<u16>,
    given: Option<u16>,
) -> Option<String> {
    let (inside, given) = (inside?, given?);
    (given != inside).then(|| {
        format!(
            "--port {given} is not used: the port inside {what} ({inside}) wins, as in swaks; \
             connecting to port {inside}"
        )
    })
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Host { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Target::Host { host, port } => write!(f, "{host}:{port}"),
            Target::Mx { domain, port } => write!(f, "@{domain} (port {port})"),
        }
    }
}

/// How the bytes travel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Transport {
    /// TCP to the plan's [`Target`].
    #[default]
    Tcp,
    /// A UNIX-domain socket (`--socket`); the target only names the peer for TLS.
    Socket(PathBuf),
    /// A child process's stdin/stdout (`--pipe`, run through `/bin/sh -c`).
    Pipe(String),
}

/// Where to bind before connecting: `--local-interface HOST[:PORT]` and `--local-port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalBind {
    /// An IP address or a host name; `None` = any address (only a port was asked for).
    pub(crate) host: Option<String>,
    /// Source port; 0 lets the system choose.
    pub(crate) port: u16,
    /// Said after `--local-interface` in a refusal of it: where the flag was set when that was
    /// below the command line (` (set by EHLO_LOCAL_INTERFACE in the environment)`), else empty.
    pub(crate) note: String,
}

/// How to reach a server, whichever it is: everything of a [`ConnectPlan`] but the target. The
/// REPL keeps one and points it at a new target on `:reconnect HOST`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Link {
    /// Which transport.
    pub(crate) transport: Transport,
    /// `-4` / `-6`: addresses of the other family are skipped.
    pub(crate) family: Family,
    /// `--local-interface` / `--local-port`: where to connect from.
    pub(crate) local: Option<LocalBind>,
    /// Resolver settings.
    pub(crate) dns: DnsOptions,
    /// TLS settings (implicit TLS and STARTTLS alike).
    pub(crate) tls: TlsParams,
    /// Implicit TLS: the handshake right after connecting (and after the session's PROXY header).
    pub(crate) tls_on_connect: bool,
    /// Per-reply and per-write timeout, also the TLS handshake's; zero = none.
    pub(crate) timeout: Duration,
    /// Per-attempt connect timeout; zero = none.
    pub(crate) connect_timeout: Duration,
    /// `--tls-verify dane`: look up the TLSA records of each host tried and authenticate it by
    /// them when they are DNSSEC-secure (RFC 7672 §2.2), by the CA store otherwise.
    pub(crate) dane: bool,
    /// The server is an HTTPS server (an MTA-STS policy host, RFC 8461 §3.3), not an SMTP
    /// one: a port that answers without TLS gets no advice about SMTP ports.
    pub(crate) https: bool,
}

impl Link {
    /// This link to `target`.
    pub(crate) fn to(&self, target: Target) -> ConnectPlan {
        ConnectPlan {
            target,
            link: self.clone(),
        }
    }
}

/// One connection: where ([`Target`]) and how ([`Link`]).
#[derive(Debug, Clone)]
pub(crate) struct ConnectPlan {
    /// Where to connect (for `--socket`/`--pipe` only the name TLS verifies).
    pub(crate) target: Target,
    /// How.
    pub(crate) link: Link,
}

impl ConnectPlan {
    /// What the plan connects to, for a failure's one-line reason: `host:port` or
    /// `any MX of domain`.
    pub(crate) fn describe(&self) -> String {
        match &self.target {
            // `[::1]:25`, not `::1:25` (itself an IPv6 address).
            Target::Host { .. } => self.target.to_string(),
            Target::Mx { domain, .. } => format!("any MX of {domain}"),
        }
    }

    /// Whether a server that never greets the session (a 4xx/5xx instead of the 220, no
    /// greeting within the timeout, a close, or bytes that are no SMTP reply) is left for the
    /// next MX address: only when the plan routes by MX over TCP (RFC 5321 §5.1: the addresses
    /// are alternatives for the same mail; Postfix's smtp(8) moves on from a server it finds
    /// unusable, and after a 4xx greeting and, by default, `smtp_skip_5xx_greeting`, a 5xx one).
    /// With implicit TLS the same holds for a server that gives no usable TLS session before
    /// any SMTP: it speaks no TLS, breaks the handshake off, does not finish it within the
    /// timeout, or fails the certificate verification asked for (RFC 7672 §2.2.3 forbids
    /// delivery "via the corresponding host", not via the other MX hosts; Postfix's smtp(8)
    /// goes on to the next MX after a TLS failure too). A failure of our own TLS settings is not
    /// the server's and ends the run.
    /// A server named by the user (`--server`, a socket, a child process) is the one asked
    /// about: its failure is the answer. So is any failure after a 220.
    pub(crate) fn tries_next_mx_on_refusal(&self) -> bool {
        matches!(self.target, Target::Mx { .. }) && self.link.transport == Transport::Tcp
    }
}

#[cfg(test)]
mod tests {
    /// Recipients of other domains than the routed one are named once each; case, one
    /// trailing dot and an IDN's U-label or A-label form make no other domain.
    #[test]
    fn off_route_names_each_other_domain_once() {
        let rcpts: Vec<String> = [
            "a@Plain.Test.",
            "b@elsewhere.test",
            "c@ELSEWHERE.test",
            "postmaster",
            "d@b\u{fc}cher.test",
            "e@xn--bcher-kva.test",
            "f@[192.0.2.1]",
            "g@plain.test",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            super::off_route("plain.test", &rcpts),
            ["elsewhere.test", "xn--bcher-kva.test", "[192.0.2.1]"]
        );
        assert!(super::off_route("plain.test", &rcpts[..1]).is_empty());
        assert_eq!(super::mail_domain("a@b.test.."), Some("b.test.".into()));
        assert_eq!(super::mail_domain("a@"), None);
        assert_eq!(super::mail_domain("a@."), None);
    }

    /// Names DNS cannot be asked about are named with the reason; good ones, an IDN's U-labels
    /// and a 63-octet label included, are not.
    #[test]
    fn unaskable_domains_say_why() {
        for good in [
            "example.net",
            "b\u{fc}cher.test",
            "b\u{fc}cher\u{3002}test",
            "xn--bcher-kva.test",
            &format!("{}.test", "x".repeat(63)),
        ] {
            assert_eq!(super::unaskable(good), None, "{good}");
        }
        for (bad, why) in [
            ("a..b.test", "empty label"),
            (".b.test", "empty label"),
            ("b.test.", "empty label"),
            (&format!("{}.test", "x".repeat(64)), "64 octets"),
            ("xn--a.test", "'xn--a' is no valid A-label"),
            ("b\u{fc}cher.xn--a.test", "'xn--a' is no valid A-label"),
            (
                &format!("{}.test", vec!["x".repeat(60); 5].join(".")),
                "over 253",
            ),
        ] {
            let got = super::unaskable(bad).unwrap_or_default();
            assert!(got.contains(why), "{bad}: {got}");
        }
    }

    use super::*;

    fn number(p: &str) -> Result<u16, String> {
        match p.parse::<u16>() {
            Ok(0) | Err(_) => Err(format!("'{p}' is not a port")),
            Ok(n) => Ok(n),
        }
    }

    fn parse(s: &str, port: Option<u16>, default_port: u16) -> Result<Target, String> {
        Target::parse(s, port, default_port, number)
    }

    fn host(h: &str, p: u16) -> Target {
        Target::Host {
            host: h.into(),
            port: p,
        }
    }

    /// An address with a zone is an address (never looked up); the zone is IPv6's only and
    /// one interface word.
    #[test]
    fn ip_literals_with_and_without_a_zone() {
        let v6 = |s: &str| IpAddr::V6(s.parse().unwrap());
        assert_eq!(
            ip_literal("192.0.2.1"),
            Some(("192.0.2.1".parse().unwrap(), None))
        );
        assert_eq!(ip_literal("::1"), Some((v6("::1"), None)));
        assert_eq!(ip_literal("fe80::1%lo"), Some((v6("fe80::1"), Some("lo"))));
        assert_eq!(ip_literal("fe80::1%2"), Some((v6("fe80::1"), Some("2"))));
        assert_eq!(
            ip_literal("fe80::1%enp0s31f6"),
            Some((v6("fe80::1"), Some("enp0s31f6")))
        );
        for name in [
            "mx.example.com",
            "192.0.2.1%lo",
            "fe80::1%",
            "fe80::1%a%b",
            "fe80::1%a/b",
            "fe80::1%..",
            "fe80::1%a b",
            "fe80::1%0123456789abcdef",
            "fe80::g%lo",
            "[fe80::1%lo]",
        ] {
            assert_eq!(ip_literal(name), None, "{name}");
        }
    }

    #[test]
    fn targets() {
        assert_eq!(parse("mx.test", None, 25), Ok(host("mx.test", 25)));
        assert_eq!(parse("mx.test", None, 465), Ok(host("mx.test", 465)));
        assert_eq!(
            parse("127.0.0.1:2525", None, 25),
            Ok(host("127.0.0.1", 2525))
        );
        assert_eq!(
            parse("127.0.0.1:2525", Some(26), 25),
            Ok(host("127.0.0.1", 2525)),
            "the port in HOST:PORT wins over --port, as in a send"
        );
        assert_eq!(parse("127.0.0.1", Some(26), 25), Ok(host("127.0.0.1", 26)));
        assert_eq!(parse("[::1]:587", Some(26), 25), Ok(host("::1", 587)));
        assert_eq!(
            parse("@example.com:2525", Some(26), 25),
            Ok(Target::Mx {
                domain: "example.com".into(),
                port: 2525
            })
        );
        assert_eq!(parse("[::1]:587", None, 25), Ok(host("::1", 587)));
        assert_eq!(parse("::1", None, 25), Ok(host("::1", 25)));
        assert_eq!(
            parse("@example.com", None, 25),
            Ok(Target::Mx {
                domain: "example.com".into(),
                port: 25
            })
        );
        assert!(parse("mx:port", None, 25).is_err());
        // swaks's HOST/PORT, and the caller's port reader (a service name for the REPL).
        assert_eq!(
            parse("127.0.0.1/2525", None, 25),
            Ok(host("127.0.0.1", 2525))
        );
        assert_eq!(parse("::1/2525", None, 25), Ok(host("::1", 2525)));
        assert_eq!(parse("[::1]/2525", None, 25), Ok(host("::1", 2525)));
        let smtp = |p: &str| if p == "smtp" { Ok(25) } else { number(p) };
        assert_eq!(
            Target::parse("mx.test:smtp", Some(26), 587, smtp),
            Ok(host("mx.test", 25))
        );
        assert!(parse("[::1", None, 25).is_err());
        // More than one colon without brackets is a whole IPv6 address or refused, as a send's
        // `--server` is: `::1:44502` was split at its last colon here (port 44502), where the
        // send refused it; `::1:25`, an address, goes to [::1:25]:25 in both (and in swaks).
        for bad in [
            "::1:44502",
            "::1::25",
            "fe80::1%lo:25",
            "::1]",
            "[::1]x",
            "[]:25",
        ] {
            let want = split_server(bad, number).unwrap_err();
            assert_eq!(parse(bad, None, 25), Err(want.clone()), "{bad}");
            assert!(want.contains(bad), "{bad}: {want}");
        }
        assert_eq!(
            parse("::1:44502", None, 25),
            Err(
                "'::1:44502' is not HOST:PORT; write IPv6 addresses as [ADDR]:PORT or ADDR/PORT"
                    .into()
            )
        );
        assert_eq!(parse("::1:25", None, 587), Ok(host("::1:25", 587)));
        // The RFC 5321 address literal is the address, bracketed with or without a port.
        assert_eq!(parse("[IPv6:::1]:2525", None, 25), Ok(host("::1", 2525)));
        assert_eq!(
            parse("[ipv6:2001:db8::1]", None, 25),
            Ok(host("2001:db8::1", 25))
        );
        assert_eq!(
            split_server("[IPv6:::1]/587", number),
            Ok(("::1", Some(587)))
        );
        // After the tag only an IPv6 address: a name or an IPv4 address is refused in one line
        // (they were looked up in DNS as the names `IPv6:mx.test`, `IPv6:127.0.0.1`, exit 2).
        assert_eq!(
            split_server("[IPv6:mx.test]", number),
            Err("'[IPv6:mx.test]' is not an IPv6 address (RFC 5321 §4.1.3)".into())
        );
        assert_eq!(
            parse("[IPv6:127.0.0.1]:2525", None, 25),
            Err(
                "'[IPv6:127.0.0.1]' tags an IPv4 address as IPv6: write [127.0.0.1] \
                 (RFC 5321 §4.1.3)"
                    .into()
            )
        );
        assert_eq!(
            split_server("[IPv6:fe80::1%lo]:25", number),
            Ok(("fe80::1%lo", Some(25)))
        );
        assert!(parse("@", None, 25).is_err());
        assert!(parse("", None, 25).is_err());
        assert_eq!(host("::1", 25).to_string(), "[::1]:25");
        assert_eq!(host("::1", 25).port(), 25);
        let plan = Link::default().to(host("::1", 2525));
        assert_eq!(plan.describe(), "[::1]:2525");
        // A scoped IPv6 literal keeps its zone, bracketed or bare, and names it when shown.
        for (text, want) in [
            ("fe80::1%lo", host("fe80::1%lo", 25)),
            ("[fe80::1%lo]:2525", host("fe80::1%lo", 2525)),
            ("fe80::1%1", host("fe80::1%1", 25)),
            ("[fe80::1%eth0]/2525", host("fe80::1%eth0", 2525)),
        ] {
            assert_eq!(parse(text, None, 25), Ok(want), "{text}");
        }
        assert_eq!(
            Link::default().to(host("fe80::1%lo", 25)).describe(),
            "[fe80::1%lo]:25"
        );
        assert_eq!(
            Link::default().to(host("mx.test", 25)).describe(),
            "mx.test:25"
        );
    }
}
