//! DNS with hickory-resolver: MX lookup in preference order, implicit MX (RFC 5321 §5.1), null MX
//! (RFC 7505), A/AAAA for a host, and `--dns-server IP[:port]`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;

use crate::smtp::event::Event;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};

/// Which address families to use (`-4`, `-6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// Both, IPv6 first as the resolver returns them.
    #[default]
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    /// `-4` / `-6` (either flag wins over "any"; the flags conflict in the parser).
    pub fn from_flags(ipv4: bool, ipv6: bool) -> Family {
        match (ipv4, ipv6) {
            (true, _) => Family::V4,
            (_, true) => Family::V6,
            _ => Family::Any,
        }
    }

    /// Is `ip` of this family?
    pub fn admits(self, ip: IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        }
    }
}

/// Longest per-query DNS timeout: hickory multiplies it by the attempts, so a dead resolver
/// with the default 30 s reply timeout would otherwise hold a run for a minute.
pub const DNS_QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Resolver settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsOptions {
    /// Use this server instead of the system's (`--dns-server`).
    pub server: Option<SocketAddr>,
    /// Per-query timeout.
    pub timeout: Duration,
    /// Retries after the first try.
    pub attempts: usize,
}

impl DnsOptions {
    /// The resolver settings of every mode: `server` (`--dns-server`) or the system's, each
    /// query given the reply timeout but at most [`DNS_QUERY_TIMEOUT`] (also when the reply
    /// timeout is zero = none), one retry.
    pub fn with_timeout(server: Option<SocketAddr>, reply_timeout: Duration) -> DnsOptions {
        DnsOptions {
            server,
            timeout: if reply_timeout.is_zero() {
                DNS_QUERY_TIMEOUT
            } else {
                reply_timeout.min(DNS_QUERY_TIMEOUT)
            },
            attempts: 1,
        }
    }
}

impl Default for DnsOptions {
    fn default() -> Self {
        DnsOptions {
            server: None,
            timeout: Duration::from_secs(5),
            attempts: 1,
        }
    }
}

/// One mail exchanger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mx {
    /// Preference (lower first).
    pub preference: u16,
    /// Exchange host name, without the trailing dot.
    pub host: String,
}

/// Where mail for a domain goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxAnswer {
    /// MX records, sorted by preference (ties keep the server's order).
    Mx(Vec<Mx>),
    /// No MX records: the domain itself is the implicit MX (RFC 5321 §5.1).
    Implicit,
}

/// DNS failures.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DnsError {
    /// The domain publishes a null MX (`MX 0 .`, RFC 7505): it accepts no mail.
    #[error("{0} publishes a null MX (RFC 7505): it accepts no mail")]
    NullMx(String),
    /// The name does not exist.
    #[error("{0} does not exist (NXDOMAIN)")]
    NxDomain(String),
    /// The name has no address records of the wanted family.
    #[error("{name} has no {family} address")]
    NoAddress {
        /// Host.
        name: String,
        /// "A", "AAAA" or "A/AAAA".
        family: &'static str,
    },
    /// The resolver could not be built or a query failed.
    #[error("DNS lookup of {name} failed: {reason}")]
    Failed {
        /// Name asked for.
        name: String,
        /// Why.
        reason: String,
    },
}

/// Parse an IP literal as a user or an SMTP address may write it: `192.0.2.1`, `::1`,
/// `[192.0.2.1]`, `[::1]` and the RFC 5321 §4.1.3 address-literal forms `[IPv6:2001:db8::1]`.
pub fn parse_ip_literal(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    // The tag is case-insensitive (RFC 5321 §4.1.3 "Standardized-tag" is an Ldh-str).
    if inner.len() > 5 && inner[..5].eq_ignore_ascii_case("IPv6:") {
        return inner[5..].parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    inner.parse::<IpAddr>().ok()
}

/// `localhost` never goes to DNS (RFC 6761 §6.3): answer it ourselves so loopback tests work with
/// any resolver configuration, `--dns-server` included.
fn is_localhost(host: &str) -> bool {
    host.trim_end_matches('.').eq_ignore_ascii_case("localhost")
}

/// `name.` — lookups of mail domains are absolute; search lists would only produce surprises.
fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

/// A resolver built once per run.
pub struct Resolver {
    /// The hickory resolver, or why it could not be built. Failing lazily keeps IP literals and
    /// `localhost` working on a machine without a usable `/etc/resolv.conf`.
    inner: Result<TokioResolver, String>,
}

impl Resolver {
    /// Build from options (system configuration unless `server` is set).
    pub fn new(opts: &DnsOptions) -> Result<Resolver, DnsError> {
        let mut ropts = ResolverOpts::default();
        // A zero timeout would make every query fail at once; treat it as "the default".
        ropts.timeout = if opts.timeout.is_zero() {
            DnsOptions::default().timeout
        } else {
            opts.timeout
        };
        ropts.attempts = opts.attempts;
        let inner = match opts.server {
            Some(server) => {
                let mut conn = ConnectionConfig::udp();
                conn.port = server.port();
                let ns = NameServerConfig::new(server.ip(), true, vec![conn]);
                // The user picked this server to see its answers: /etc/hosts must not shadow them.
                ropts.use_hosts_file = ResolveHosts::Never;
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![ns]),
                    TokioRuntimeProvider::default(),
                )
                .with_options(ropts)
                .build()
                .map_err(|e| DnsError::Failed {
                    name: server.to_string(),
                    reason: e.to_string(),
                })?
            }
            None => match TokioResolver::builder_tokio() {
                Ok(mut b) => {
                    // Keep the system's ndots/search etc., override only what the user controls.
                    let o = b.options_mut();
                    o.timeout = ropts.timeout;
                    o.attempts = ropts.attempts;
                    b.build().map_err(|e| DnsError::Failed {
                        name: "system resolver".into(),
                        reason: e.to_string(),
                    })?
                }
                Err(e) => {
                    return Ok(Resolver {
                        inner: Err(format!("cannot read the system DNS configuration: {e}")),
                    });
                }
            },
        };
        Ok(Resolver { inner: Ok(inner) })
    }

    fn resolver(&self, name: &str) -> Result<&TokioResolver, DnsError> {
        self.inner.as_ref().map_err(|reason| DnsError::Failed {
            name: name.to_string(),
            reason: reason.clone(),
        })
    }

    /// MX records of `domain` (sorted), `Implicit` when there are none, `NullMx` for RFC 7505.
    pub async fn mx(&self, domain: &str) -> Result<MxAnswer, DnsError> {
        let domain = domain.trim().trim_end_matches('.');
        // An address literal (`user@[192.0.2.1]`) or localhost has no MX: the "domain" is the host.
        if parse_ip_literal(domain).is_some() || is_localhost(domain) {
            return Ok(MxAnswer::Implicit);
        }
        if domain.is_empty() {
            return Err(DnsError::Failed {
                name: domain.to_string(),
                reason: "empty domain".into(),
            });
        }
        let r = self.resolver(domain)?;
        let lookup = match r.mx_lookup(fqdn(domain).as_str()).await {
            Ok(l) => l,
            Err(e) if e.is_nx_domain() => return Err(DnsError::NxDomain(domain.to_string())),
            // RFC 5321 §5.1: no MX records → the domain itself is the implicit MX.
            Err(e) if e.is_no_records_found() => return Ok(MxAnswer::Implicit),
            Err(e) => return Err(failed(domain, &e)),
        };
        let mut mxs = Vec::new();
        for rec in lookup.answers() {
            // Answers may also carry the CNAME chain that led here; only MX data matters.
            if let RData::MX(m) = &rec.data {
                // RFC 7505 §3: a null MX is a single `0 .`; a root exchange anywhere is a
                // statement that no mail is accepted, never a host to connect to.
                if m.exchange.is_root() {
                    return Err(DnsError::NullMx(domain.to_string()));
                }
                mxs.push(Mx {
                    preference: m.preference,
                    host: m.exchange.to_utf8().trim_end_matches('.').to_string(),
                });
            }
        }
        if mxs.is_empty() {
            return Ok(MxAnswer::Implicit);
        }
        // Stable: equal preferences keep the server's order (the caller may shuffle them).
        mxs.sort_by_key(|m| m.preference);
        Ok(MxAnswer::Mx(mxs))
    }

    /// Where mail for `domain` goes, as host names in preference order (the domain itself for
    /// an implicit MX), with the lookup reported as events. Shared by the send and the REPL.
    pub async fn mail_hosts(
        &self,
        domain: &str,
        emit: &mut dyn FnMut(Event),
    ) -> Result<Vec<String>, DnsError> {
        emit(Event::DnsQuery {
            name: domain.to_string(),
            rtype: "MX".into(),
        });
        match self.mx(domain).await? {
            MxAnswer::Mx(list) => {
                emit(Event::DnsAnswer {
                    name: domain.to_string(),
                    rtype: "MX".into(),
                    records: list
                        .iter()
                        .map(|m| format!("{} {}", m.preference, m.host))
                        .collect(),
                });
                Ok(list.into_iter().map(|m| m.host).collect())
            }
            MxAnswer::Implicit => {
                emit(Event::Info {
                    message: format!(
                        "{domain} has no MX record: using the domain itself (implicit MX, RFC 5321 §5.1)"
                    ),
                });
                Ok(vec![domain.to_string()])
            }
        }
    }

    /// Addresses of `host` for `family`, with the lookup reported as events; an IP address is
    /// returned as it is, without a query. Shared by the send and the REPL.
    pub async fn host_addresses(
        &self,
        host: &str,
        family: Family,
        emit: &mut dyn FnMut(Event),
    ) -> Result<Vec<IpAddr>, DnsError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        emit(Event::DnsQuery {
            name: host.to_string(),
            rtype: "A/AAAA".into(),
        });
        let list = self.addresses(host, family).await?;
        emit(Event::DnsAnswer {
            name: host.to_string(),
            rtype: "A/AAAA".into(),
            records: list.iter().map(IpAddr::to_string).collect(),
        });
        Ok(list)
    }

    /// Addresses of `host` for `family` (literals returned as they are).
    pub async fn addresses(&self, host: &str, family: Family) -> Result<Vec<IpAddr>, DnsError> {
        let host = host.trim();
        if let Some(ip) = parse_ip_literal(host) {
            let fits = match family {
                Family::Any => true,
                Family::V4 => ip.is_ipv4(),
                Family::V6 => ip.is_ipv6(),
            };
            return if fits {
                Ok(vec![ip])
            } else {
                Err(DnsError::NoAddress {
                    name: host.to_string(),
                    family: family_label(family),
                })
            };
        }
        let name = host.trim_end_matches('.');
        if is_localhost(name) {
            let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
            let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
            // IPv4 first for localhost: test servers (ours included) usually bind 127.0.0.1 only,
            // so trying ::1 first would add a refused attempt to every loopback transcript.
            return Ok(match family {
                Family::Any => vec![v4, v6],
                Family::V4 => vec![v4],
                Family::V6 => vec![v6],
            });
        }
        if name.is_empty() {
            return Err(DnsError::Failed {
                name: host.to_string(),
                reason: "empty host name".into(),
            });
        }
        let r = self.resolver(name)?;
        match family {
            Family::V4 => single(r, name, RecordType::A).await,
            Family::V6 => single(r, name, RecordType::AAAA).await,
            Family::Any => {
                let (r6, r4) = tokio::join!(
                    lookup_ips(r, name, RecordType::AAAA),
                    lookup_ips(r, name, RecordType::A)
                );
                let mut addrs = Vec::new();
                if let Ok(v) = &r6 {
                    addrs.extend(v);
                }
                if let Ok(v) = &r4 {
                    addrs.extend(v);
                }
                if !addrs.is_empty() {
                    return Ok(addrs);
                }
                let errs = [r6.err(), r4.err()];
                let errs = errs.iter().flatten();
                if errs.clone().any(|e| e.is_nx_domain()) {
                    return Err(DnsError::NxDomain(name.to_string()));
                }
                match errs.clone().find(|e| !e.is_no_records_found()) {
                    Some(e) => Err(failed(name, e)),
                    None => Err(DnsError::NoAddress {
                        name: name.to_string(),
                        family: "A/AAAA",
                    }),
                }
            }
        }
    }
}

/// One RRset as `ehlo check` needs it: the records of the asked type, the CNAME targets
/// followed on the way (RFC 1034 §3.6.2), or the name's absence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RrSet {
    /// The name does not exist (NXDOMAIN).
    pub nxdomain: bool,
    /// Records of the asked type (empty for NODATA or NXDOMAIN).
    pub records: Vec<RData>,
    /// CNAME targets met while resolving, in order, without trailing dots.
    pub cnames: Vec<String>,
    /// TTL of the first record of the asked type.
    pub ttl: Option<u32>,
}

impl RrSet {
    /// TXT records, each record's strings joined (RFC 7208 §3.3, RFC 8461 §3.1), lossy UTF-8.
    pub fn txt_strings(&self) -> Vec<String> {
        self.records
            .iter()
            .filter_map(|r| match r {
                RData::TXT(t) => Some(
                    t.txt_data
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect()
    }
}

impl Resolver {
    /// Any RRset, with NXDOMAIN and NODATA as answers rather than errors (`ehlo check` judges
    /// them); SERVFAIL, timeouts and refusals are [`DnsError::Failed`].
    pub async fn rrset(&self, name: &str, rtype: RecordType) -> Result<RrSet, DnsError> {
        let name = name.trim().trim_end_matches('.');
        if name.is_empty() {
            return Err(DnsError::Failed {
                name: name.to_string(),
                reason: "empty name".into(),
            });
        }
        let r = self.resolver(name)?;
        match r.lookup(fqdn(name).as_str(), rtype).await {
            Ok(lookup) => {
                let mut set = RrSet::default();
                for rec in lookup.answers() {
                    match &rec.data {
                        RData::CNAME(c) if rtype != RecordType::CNAME => set
                            .cnames
                            .push(c.0.to_utf8().trim_end_matches('.').to_string()),
                        d if d.record_type() == rtype => {
                            set.ttl.get_or_insert(rec.ttl);
                            set.records.push(d.clone());
                        }
                        _ => {}
                    }
                }
                Ok(set)
            }
            Err(e) if e.is_nx_domain() => Ok(RrSet {
                nxdomain: true,
                ..RrSet::default()
            }),
            Err(e) if e.is_no_records_found() => Ok(RrSet::default()),
            Err(e) => Err(failed(name, &e)),
        }
    }

    /// PTR names of `ip` (RFC 1035 §3.5, RFC 3596 §2.5), without trailing dots; empty when none.
    pub async fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, DnsError> {
        let name = hickory_resolver::proto::rr::Name::from(ip).to_ascii();
        let set = self.rrset(&name, RecordType::PTR).await?;
        Ok(set
            .records
            .iter()
            .filter_map(|r| match r {
                RData::PTR(p) => Some(p.0.to_utf8().trim_end_matches('.').to_string()),
                _ => None,
            })
            .collect())
    }
}

fn family_label(f: Family) -> &'static str {
    match f {
        Family::Any => "A/AAAA",
        Family::V4 => "A",
        Family::V6 => "AAAA",
    }
}

fn failed(name: &str, e: &NetError) -> DnsError {
    DnsError::Failed {
        name: name.to_string(),
        reason: e.to_string(),
    }
}

/// One A or AAAA lookup; an empty answer (even an `Ok` holding only a CNAME chain) is
/// "no records". The name is passed as given so the system search list applies to short names.
async fn lookup_ips(
    r: &TokioResolver,
    name: &str,
    rtype: RecordType,
) -> Result<Vec<IpAddr>, NetError> {
    let lookup = r.lookup(name, rtype).await?;
    Ok(lookup
        .answers()
        .iter()
        .filter_map(|rec| match &rec.data {
            RData::A(a) if rtype == RecordType::A => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) if rtype == RecordType::AAAA => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect())
}

async fn single(r: &TokioResolver, name: &str, rtype: RecordType) -> Result<Vec<IpAddr>, DnsError> {
    let label = if rtype == RecordType::A { "A" } else { "AAAA" };
    match lookup_ips(r, name, rtype).await {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => Err(DnsError::NoAddress {
            name: name.to_string(),
            family: label,
        }),
        Err(e) if e.is_nx_domain() => Err(DnsError::NxDomain(name.to_string())),
        Err(e) if e.is_no_records_found() => Err(DnsError::NoAddress {
            name: name.to_string(),
            family: label,
        }),
        Err(e) => Err(failed(name, &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::testutil::{FakeDns, RecordSpec};

    fn v4(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn table() -> Vec<(&'static str, RecordSpec)> {
        vec![
            (
                "example.test",
                RecordSpec::Mx(20, "mx2.example.test".into()),
            ),
            (
                "example.test",
                RecordSpec::Mx(10, "mx1.example.test".into()),
            ),
            (
                "example.test",
                RecordSpec::Mx(20, "mx3.example.test".into()),
            ),
            ("mx1.example.test", RecordSpec::A(v4("192.0.2.1"))),
            (
                "mx1.example.test",
                RecordSpec::Aaaa("2001:db8::1".parse().unwrap()),
            ),
            ("plain.test", RecordSpec::A(v4("192.0.2.7"))),
            ("null.test", RecordSpec::Mx(0, ".".into())),
            (
                "mixed-null.test",
                RecordSpec::Mx(10, "mx.mixed-null.test".into()),
            ),
            ("mixed-null.test", RecordSpec::Mx(0, ".".into())),
            ("gone.test", RecordSpec::NxDomain),
            ("broken.test", RecordSpec::ServFail),
            (
                "v6only.test",
                RecordSpec::Aaaa("2001:db8::6".parse().unwrap()),
            ),
        ]
    }

    async fn resolver() -> Resolver {
        let (addr, _h) = FakeDns::start(table());
        Resolver::new(&DnsOptions {
            server: Some(addr),
            timeout: Duration::from_secs(2),
            attempts: 0,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn mx_sorted_stably_without_trailing_dots() {
        let r = resolver().await;
        let MxAnswer::Mx(mx) = r.mx("Example.Test.").await.unwrap() else {
            panic!("expected MX records")
        };
        let got: Vec<(u16, &str)> = mx.iter().map(|m| (m.preference, m.host.as_str())).collect();
        assert_eq!(
            got,
            [
                (10, "mx1.example.test"),
                (20, "mx2.example.test"),
                (20, "mx3.example.test")
            ]
        );
    }

    #[tokio::test]
    async fn implicit_null_and_nxdomain() {
        let r = resolver().await;
        assert_eq!(r.mx("plain.test").await.unwrap(), MxAnswer::Implicit);
        assert!(matches!(r.mx("null.test").await, Err(DnsError::NullMx(d)) if d == "null.test"));
        assert!(matches!(
            r.mx("mixed-null.test").await,
            Err(DnsError::NullMx(_))
        ));
        assert!(matches!(r.mx("gone.test").await, Err(DnsError::NxDomain(d)) if d == "gone.test"));
        // Not in the table at all: the fake answers NXDOMAIN too.
        assert!(matches!(
            r.mx("unknown.test").await,
            Err(DnsError::NxDomain(_))
        ));
        assert!(matches!(
            r.mx("broken.test").await,
            Err(DnsError::Failed { .. })
        ));
        // Literals and localhost never reach DNS.
        assert_eq!(r.mx("[192.0.2.9]").await.unwrap(), MxAnswer::Implicit);
        assert_eq!(r.mx("localhost").await.unwrap(), MxAnswer::Implicit);
    }

    #[tokio::test]
    async fn addresses_by_family() {
        let r = resolver().await;
        let a1: IpAddr = "192.0.2.1".parse().unwrap();
        let a6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            r.addresses("mx1.example.test", Family::V4).await.unwrap(),
            [a1]
        );
        assert_eq!(
            r.addresses("mx1.example.test", Family::V6).await.unwrap(),
            [a6]
        );
        assert_eq!(
            r.addresses("mx1.example.test.", Family::Any).await.unwrap(),
            [a6, a1]
        );
        assert_eq!(
            r.addresses("plain.test", Family::Any).await.unwrap(),
            [IpAddr::V4(v4("192.0.2.7"))]
        );
        assert!(matches!(
            r.addresses("plain.test", Family::V6).await,
            Err(DnsError::NoAddress { family: "AAAA", .. })
        ));
        assert!(matches!(
            r.addresses("v6only.test", Family::V4).await,
            Err(DnsError::NoAddress { family: "A", .. })
        ));
        assert!(matches!(
            r.addresses("null.test", Family::Any).await,
            Err(DnsError::NoAddress {
                family: "A/AAAA",
                ..
            })
        ));
        assert!(matches!(
            r.addresses("gone.test", Family::Any).await,
            Err(DnsError::NxDomain(_))
        ));
        assert!(matches!(
            r.addresses("gone.test", Family::V4).await,
            Err(DnsError::NxDomain(_))
        ));
        assert!(matches!(
            r.addresses("broken.test", Family::V4).await,
            Err(DnsError::Failed { .. })
        ));
    }

    #[tokio::test]
    async fn literals_and_localhost_skip_dns() {
        let r = resolver().await;
        let lo4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let lo6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(
            r.addresses("localhost", Family::Any).await.unwrap(),
            [lo4, lo6]
        );
        assert_eq!(r.addresses("LOCALHOST.", Family::V6).await.unwrap(), [lo6]);
        assert_eq!(
            r.addresses("[127.0.0.1]", Family::Any).await.unwrap(),
            [lo4]
        );
        assert_eq!(r.addresses("[IPv6:::1]", Family::Any).await.unwrap(), [lo6]);
        assert_eq!(r.addresses("::1", Family::V6).await.unwrap(), [lo6]);
        assert!(matches!(
            r.addresses("127.0.0.1", Family::V6).await,
            Err(DnsError::NoAddress { .. })
        ));
        assert!(matches!(
            r.addresses("", Family::Any).await,
            Err(DnsError::Failed { .. })
        ));
        assert!(matches!(
            r.addresses("bad name with spaces", Family::Any).await,
            Err(DnsError::Failed { .. }) | Err(DnsError::NxDomain(_))
        ));
    }

    #[tokio::test]
    async fn system_resolver_builds_and_answers_localhost_offline() {
        // Whatever /etc/resolv.conf says (or if it is missing), literals and localhost work.
        let r = Resolver::new(&DnsOptions::default()).unwrap();
        let lo4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert_eq!(r.addresses("localhost", Family::V4).await.unwrap(), [lo4]);
        assert_eq!(r.addresses("127.0.0.1", Family::Any).await.unwrap(), [lo4]);
        assert_eq!(r.mx("localhost.").await.unwrap(), MxAnswer::Implicit);
    }

    #[test]
    fn ip_literal_forms() {
        assert_eq!(
            parse_ip_literal("192.0.2.1"),
            Some("192.0.2.1".parse().unwrap())
        );
        assert_eq!(
            parse_ip_literal("[192.0.2.1]"),
            Some("192.0.2.1".parse().unwrap())
        );
        assert_eq!(
            parse_ip_literal("[ipv6:2001:db8::1]"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_ip_literal("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(parse_ip_literal("[IPv6:192.0.2.1]"), None);
        assert_eq!(parse_ip_literal("[192.0.2.1"), None);
        assert_eq!(parse_ip_literal("example.com"), None);
        assert_eq!(parse_ip_literal("[]"), None);
    }

    #[tokio::test]
    async fn dead_server_times_out_quickly() {
        // A bound socket that never answers: the lookup must fail within timeout × (attempts+1).
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let r = Resolver::new(&DnsOptions {
            server: Some(silent.local_addr().unwrap()),
            timeout: Duration::from_millis(200),
            attempts: 0,
        })
        .unwrap();
        let t = std::time::Instant::now();
        let res = r.mx("example.test").await;
        assert!(matches!(res, Err(DnsError::Failed { .. })), "{res:?}");
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    }
}
