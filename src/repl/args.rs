//! The flags of `ehlo repl` and `ehlo replay` (clap `Args` structs the main `Cli` embeds as
//! subcommands), and the parsing of the `HOST[:PORT] | @domain` target.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::render::{ColorChoice, ExplainLevel};

/// Connection flags shared by `repl` and `replay` (same meaning as in a send).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnArgs {
    /// Port (default 25, or 465 with --tls-on-connect); overrides a `:PORT` in the target.
    #[arg(short = 'p', long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Start TLS right after connecting (implicit TLS, port 465).
    #[arg(long)]
    pub tls_on_connect: bool,
    /// STARTTLS right after the first EHLO (implies --ehlo with this host's name if not given).
    #[arg(long)]
    pub tls: bool,
    /// Do not enforce certificate verification (the verdict is still shown).
    #[arg(long)]
    pub insecure: bool,
    /// CA certificates to trust instead of the system store: a PEM file or a directory of them.
    #[arg(long, value_name = "PATH")]
    pub tls_ca_path: Option<PathBuf>,
    /// DNS server to ask instead of the system's (IP[:port]).
    #[arg(long, value_name = "IP[:PORT]", value_parser = parse_dns_server)]
    pub dns_server: Option<SocketAddr>,
    /// Seconds to wait for each reply (and to connect); 0 waits forever.
    #[arg(short = 't', long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Send `EHLO NAME` right after the banner.
    #[arg(long, value_name = "NAME")]
    pub ehlo: Option<String>,
    /// IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 only.
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Colour the transcript.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Which replies get explanations.
    #[arg(long, value_enum, default_value_t = ExplainLevel::Errors)]
    pub explain: ExplainLevel,
    /// Show AUTH secrets instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Also write every event as JSON Lines to FILE.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// `ehlo repl`: a smarter telnet for SMTP.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReplArgs {
    /// Server to talk to: `HOST[:PORT]`, `[IPv6]:PORT`, or `@domain` for its first MX.
    #[arg(value_name = "HOST[:PORT] | @domain")]
    pub target: Option<String>,
    /// Connection and output flags.
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Record the session as a replayable script in FILE (secrets are never written).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

/// `ehlo replay`: run a script recorded with `:record` and fail when a reply code differs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReplayArgs {
    /// The recorded script.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Server to replay against: `HOST[:PORT]`, `[IPv6]:PORT`, or `@domain`.
    #[arg(short = 's', long, value_name = "HOST[:PORT]")]
    pub server: String,
    /// Connection and output flags.
    #[command(flatten)]
    pub conn: ConnArgs,
}

fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    s.trim_matches(['[', ']'])
        .parse::<std::net::IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("not an IP address or IP:port: {s}"))
}

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A host name or address literal (no brackets).
    Host {
        /// Host.
        host: String,
        /// Port.
        port: u16,
    },
    /// The MX of a domain (`@domain`).
    Mx {
        /// Domain.
        domain: String,
        /// Port.
        port: u16,
    },
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

/// Parse `HOST[:PORT]`, `[v6]:PORT`, a bare IPv6 literal, or `@domain`. `port` (from `--port`)
/// wins over a port in the text; the default is 25, or 465 with implicit TLS.
pub fn parse_target(s: &str, port: Option<u16>, tls_on_connect: bool) -> Result<Target, String> {
    let default = if tls_on_connect { 465 } else { 25 };
    let s = s.trim();
    if s.is_empty() {
        return Err("empty server".into());
    }
    let bad_port = |p: &str| format!("bad port in {s:?}: {p:?}");
    if let Some(domain) = s.strip_prefix('@') {
        let (domain, p) = match domain.rsplit_once(':') {
            Some((d, p)) => (d, Some(p.parse::<u16>().map_err(|_| bad_port(p))?)),
            None => (domain, None),
        };
        if domain.is_empty() {
            return Err("@ needs a domain: @example.com".into());
        }
        return Ok(Target::Mx {
            domain: domain.to_string(),
            port: port.or(p).unwrap_or(default),
        });
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("unclosed [ in {s:?}"))?;
        let p = match after.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad_port(p))?),
            None if after.is_empty() => None,
            None => return Err(format!("unexpected text after ] in {s:?}")),
        };
        return Ok(Target::Host {
            host: host.to_string(),
            port: port.or(p).unwrap_or(default),
        });
    }
    if s.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok(Target::Host {
            host: s.to_string(),
            port: port.unwrap_or(default),
        });
    }
    let (host, p) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().map_err(|_| bad_port(p))?)),
        None => (s, None),
    };
    if host.is_empty() {
        return Err(format!("no host in {s:?}"));
    }
    Ok(Target::Host {
        host: host.to_string(),
        port: port.or(p).unwrap_or(default),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(h: &str, p: u16) -> Target {
        Target::Host {
            host: h.into(),
            port: p,
        }
    }

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("mx.test", None, false),
            Ok(host("mx.test", 25))
        );
        assert_eq!(
            parse_target("mx.test", None, true),
            Ok(host("mx.test", 465))
        );
        assert_eq!(
            parse_target("127.0.0.1:2525", None, false),
            Ok(host("127.0.0.1", 2525))
        );
        assert_eq!(
            parse_target("127.0.0.1:2525", Some(26), false),
            Ok(host("127.0.0.1", 26))
        );
        assert_eq!(parse_target("[::1]:587", None, false), Ok(host("::1", 587)));
        assert_eq!(parse_target("::1", None, false), Ok(host("::1", 25)));
        assert_eq!(
            parse_target("@example.com", None, false),
            Ok(Target::Mx {
                domain: "example.com".into(),
                port: 25
            })
        );
        assert!(parse_target("mx:port", None, false).is_err());
        assert!(parse_target("[::1", None, false).is_err());
        assert!(parse_target("@", None, false).is_err());
        assert!(parse_target("", None, false).is_err());
        assert_eq!(host("::1", 25).to_string(), "[::1]:25");
    }

    #[test]
    fn dns_server() {
        assert_eq!(parse_dns_server("10.0.0.1").unwrap().port(), 53);
        assert_eq!(parse_dns_server("10.0.0.1:5353").unwrap().port(), 5353);
        assert!(parse_dns_server("x").is_err());
    }
}
