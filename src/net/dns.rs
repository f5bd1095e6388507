//! DNS with hickory-resolver: MX lookup in preference order, implicit MX (RFC 5321 §5.1), null MX
//! (RFC 7505), A/AAAA for a host, `--dns-server IP[:port]`, and DNSSEC validation (`--dnssec`,
//! `--dns-trust-anchor`, RFC 4033-4035) with each answer's proof.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;

use crate::smtp::event::{Event, plural_s};
use crate::smtp::rng::Rng;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::dnssec::{Proof, TrustAnchors};
use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};

/// Which address families to use (`-4`, `-6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Family {
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
    pub(crate) fn from_flags(ipv4: bool, ipv6: bool) -> Family {
        match (ipv4, ipv6) {
            (true, _) => Family::V4,
            (_, true) => Family::V6,
            _ => Family::Any,
        }
    }

    /// Is `ip` of this family?
    pub(crate) fn admits(self, ip: IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        }
    }
}

/// Longest DNS lookup, its retry included: a dead resolver with the default 30 s reply timeout
/// would otherwise hold a run for a minute.
pub(crate) const DNS_QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Retries after a query's first try (hickory's `attempts`).
const DNS_RETRIES: usize = 1;

/// Whether answers are DNSSEC-validated (`--dnssec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DnssecMode {
    /// No validation: queries go out without the DO bit and answers carry no proof. The
    /// resolver is the plain one, so the send does no validation work at all.
    #[default]
    Off,
    /// Validate every answer here, from the root trust anchors built into hickory (or the
    /// `--dns-trust-anchor` file): RFC 4035 §5.
    Validate,
    /// Believe the AD bit of the configured recursive resolver (`--dns-server` or the system's),
    /// as posttls-finger does: AD set is secure, clear is insecure, SERVFAIL is bogus (RFC 4035
    /// §3.2.3, RFC 6840 §5.7-5.8). Only as trustworthy as the resolver and the path to it.
    TrustAd,
}

/// What DNSSEC says about one answer (RFC 4035 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsProof {
    /// A chain of signed DNSKEY/DS from a trust anchor to the RRset.
    Secure,
    /// Provably unsigned (under an unsigned delegation).
    Insecure,
    /// Should verify but does not (bad or expired signature, missing RRSIG or DNSKEY).
    Bogus,
    /// The validator could not tell.
    Indeterminate,
}

impl DnsProof {
    fn from_hickory(p: Proof) -> DnsProof {
        match p {
            Proof::Secure => DnsProof::Secure,
            Proof::Insecure => DnsProof::Insecure,
            Proof::Bogus => DnsProof::Bogus,
            Proof::Indeterminate => DnsProof::Indeterminate,
        }
    }

    /// `secure`, `insecure`, `bogus`, `indeterminate` (transcript and JSON).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DnsProof::Secure => "secure",
            DnsProof::Insecure => "insecure",
            DnsProof::Bogus => "bogus",
            DnsProof::Indeterminate => "indeterminate",
        }
    }
}

/// Resolver settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsOptions {
    /// Use this server instead of the system's (`--dns-server`).
    pub(crate) server: Option<SocketAddr>,
    /// Per-query timeout.
    pub(crate) timeout: Duration,
    /// Retries after the first try.
    pub(crate) attempts: usize,
    /// DNSSEC validation (`--dnssec`).
    pub(crate) dnssec: DnssecMode,
    /// DNSKEY records (zone-file lines) trusted instead of the built-in root anchors
    /// (`--dns-trust-anchor`); only used with [`DnssecMode::Validate`].
    pub(crate) trust_anchor: Option<PathBuf>,
}

impl DnsOptions {
    /// The resolver settings of every mode: `server` (`--dns-server`) or the system's, each
    /// lookup given the reply timeout but at most [`DNS_QUERY_TIMEOUT`] (also when the reply
    /// timeout is zero = none), its retry included: hickory gives each try the per-query
    /// timeout, so a lookup with one retry gets half the time per try (`--timeout 2` once took
    /// 4 s against a server that never answers).
    pub fn with_timeout(server: Option<SocketAddr>, reply_timeout: Duration) -> DnsOptions {
        let lookup = if reply_timeout.is_zero() {
            DNS_QUERY_TIMEOUT
        } else {
            reply_timeout.min(DNS_QUERY_TIMEOUT)
        };
        DnsOptions {
            server,
            timeout: lookup / (DNS_RETRIES as u32 + 1),
            attempts: DNS_RETRIES,
            dnssec: DnssecMode::Off,
            trust_anchor: None,
        }
    }

    /// The longest one lookup takes against a server that never answers: each try's timeout,
    /// the retries included.
    #[cfg(test)]
    pub(crate) fn lookup_budget(&self) -> Duration {
        self.timeout.saturating_mul(
            u32::try_from(self.attempts)
                .unwrap_or(u32::MAX)
                .saturating_add(1),
        )
    }

    /// The same settings with DNSSEC validation `mode` and an optional anchor file.
    pub fn with_dnssec(mut self, mode: DnssecMode, trust_anchor: Option<PathBuf>) -> DnsOptions {
        self.dnssec = mode;
        self.trust_anchor = trust_anchor;
        self
    }
}

impl Default for DnsOptions {
    fn default() -> Self {
        DnsOptions {
            server: None,
            timeout: Duration::from_secs(5),
            attempts: 1,
            dnssec: DnssecMode::Off,
            trust_anchor: None,
        }
    }
}

/// One mail exchanger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mx {
    /// Preference (lower first).
    pub(crate) preference: u16,
    /// Exchange host name, without the trailing dot.
    pub(crate) host: String,
}

/// Where mail for a domain goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MxAnswer {
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
    /// The name is a CNAME whose chain ends at a name that does not exist or has no address
    /// (a dangling alias, as a host move leaves behind): the name asked for does exist, so
    /// "does not exist" alone would send its admin to look at the wrong record.
    #[error("{}", dead_end_alias(name, chain, &end.to_string()))]
    DeadEndAlias {
        /// The name asked for (the alias).
        name: String,
        /// The CNAME targets, in order; the last one is where the chain ends.
        chain: Vec<String>,
        /// What the chain's end says: [`DnsError::NxDomain`] or [`DnsError::NoAddress`] of it.
        end: Box<DnsError>,
    },
    /// The `--dns-trust-anchor` file cannot be read or holds no DNSKEY.
    #[error("cannot use the DNS trust anchor file {path}: {reason}")]
    TrustAnchor {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// MX records exist but none names a host that can be tried (RFC 5321 §5.1: reported as an
    /// error, the implicit MX does not apply).
    #[error("{domain} has no usable MX: {reason}")]
    NoUsableMx {
        /// The domain.
        domain: String,
        /// Why (the records that were skipped).
        reason: String,
    },
    /// No answer within the lookup's time (`--timeout`, at most [`DNS_QUERY_TIMEOUT`], its
    /// retry included), or, validating, no DNSSEC verdict in that time because the DNSKEY/DS
    /// lookups of the chain of trust did not finish: nothing is known about the data.
    /// The message names the server that was asked and how long it was given, with what to
    /// try: "timed out" alone left a typo in `--dns-server`, or a resolver that is down,
    /// looking like the domain's own trouble.
    #[error(
        "DNS lookup of {name} timed out ({}; is that DNS server running and reachable? \
         --dns-server names another)",
        timeout_why(*.verdict, server, *.within)
    )]
    TimedOut {
        /// Name asked for.
        name: String,
        /// ehlo validated the answer itself (`--dnssec validate`), so what did not come in time
        /// may be the DNSSEC verdict rather than the answer; without validation, or trusting
        /// the resolver's AD bit, only an answer was awaited and the message says just that.
        verdict: bool,
        /// Who was asked ([`Resolver::asks`]): `--dns-server`'s address, or the system's.
        server: String,
        /// How long the lookup had, its retry included ([`Resolver::budget`]).
        within: Duration,
    },
    /// A name the user typed that does not exist ([`DnsError::NxDomain`]), with what to check:
    /// the run's result line names the fix ("check the server's name for a typo"); the
    /// `dns_failed` event and the summary's `failover` keep the failure alone.
    #[error("{err}: {hint}")]
    Typed {
        /// The failure ([`DnsError::NxDomain`]).
        err: Box<DnsError>,
        /// What to check, in words.
        hint: &'static str,
    },
    /// The resolver could not be built or a query failed.
    #[error("DNS lookup of {name} failed: {reason}")]
    Failed {
        /// Name asked for.
        name: String,
        /// Why.
        reason: String,
        /// What kind of failure it is, set where the error is made: the reason's words are
        /// for people, never read back.
        kind: FailKind,
    },
}

/// What failed a lookup ([`DnsError::Failed`]), as the code that made the error knew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailKind {
    /// The server answered this error RCODE (RFC 1035 §4.1.1).
    Answered(u16),
    /// A DNSSEC failure: the answer is bogus (RFC 4035 §5.5), or no chain of trust to it could
    /// be built, or a resolver trusted with `--dnssec trust-ad` answered SERVFAIL.
    Bogus,
    /// The name is a CNAME chain that comes back to itself.
    CnameLoop,
    /// No usable reply at all: undecodable, or the transport failed.
    Unanswered,
    /// Anything else (no resolver, an empty name, a chain too long to follow…).
    Other,
}

/// What a [`DnsError::TimedOut`] did not get in time, from whom, within how long: worded by
/// what was asked.
fn timeout_why(verdict: bool, server: &str, within: Duration) -> String {
    let within = if within.subsec_millis() == 0 {
        format!("{}s", within.as_secs())
    } else {
        format!("{:.1}s", within.as_secs_f64())
    };
    if verdict {
        format!("no answer from {server}, or no DNSSEC verdict, within {within}")
    } else {
        format!("no answer from {server} within {within}")
    }
}

/// Who a resolver's lookups ask and how long each has, for the words of a timeout.
#[derive(Debug, Clone)]
struct Waited<'a> {
    server: &'a str,
    within: Duration,
    verdict: bool,
}

impl DnsError {
    /// A DNSSEC failure: hickory found the answer bogus (`--dnssec validate`), or the resolver
    /// trusted with `--dnssec trust-ad` answered SERVFAIL (RFC 4035 §5.5). Senders defer on it
    /// (RFC 7672 §2.2), unlike on a plain absence.
    pub fn is_bogus(&self) -> bool {
        matches!(
            self,
            DnsError::Failed {
                kind: FailKind::Bogus,
                ..
            }
        )
    }

    /// The error RCODE the DNS server answered (`SERVFAIL`, `REFUSED`…, RFC 1035 §4.1.1;
    /// `NXDOMAIN` for [`DnsError::NxDomain`]), when that is what failed the lookup.
    pub(crate) fn rcode(&self) -> Option<Cow<'static, str>> {
        match self {
            DnsError::NxDomain(_) => Some(Cow::Borrowed("NXDOMAIN")),
            DnsError::DeadEndAlias { end, .. } | DnsError::Typed { err: end, .. } => end.rcode(),
            DnsError::Failed {
                kind: FailKind::Answered(code),
                ..
            } => Some(match rcode_name(*code) {
                "" => Cow::Owned(code.to_string()),
                name => Cow::Borrowed(name),
            }),
            _ => None,
        }
    }

    /// This failure of a name the user typed, with `hint` (what to check) when it is that the
    /// name does not exist: a typo is then the likeliest cause. Other failures are left as
    /// they are (a timeout names its own fix).
    pub(crate) fn typed(self, hint: &'static str) -> DnsError {
        match self {
            DnsError::NxDomain(_) => DnsError::Typed {
                err: Box::new(self),
                hint,
            },
            e => e,
        }
    }

    /// No usable reply came from the DNS server at all: its message could not be decoded (a
    /// broken or hostile resolver) or the transport failed. Like a timeout, nothing is known
    /// about the data: a check could not test it, where a bogus answer or an error RCODE
    /// (RFC 1035 §4.1.1) is something the server said.
    #[cfg(test)]
    pub(crate) fn is_unanswered(&self) -> bool {
        matches!(
            self,
            DnsError::Failed {
                kind: FailKind::Unanswered,
                ..
            }
        )
    }

    /// The lookup ran out of time ([`DnsError::TimedOut`]): the answer could not be tested.
    pub(crate) fn is_timeout(&self) -> bool {
        matches!(self, DnsError::TimedOut { .. })
    }

    /// The name is a CNAME chain that comes back to itself: no answer exists (not a failure of
    /// the lookup, a broken zone).
    pub(crate) fn is_cname_loop(&self) -> bool {
        matches!(
            self,
            DnsError::Failed {
                kind: FailKind::CnameLoop,
                ..
            }
        )
    }
}

/// Parse an IP literal as a user or an SMTP address may write it: `192.0.2.1`, `::1`,
/// `[192.0.2.1]`, `[::1]`, the RFC 5321 §4.1.3 address-literal forms `[IPv6:2001:db8::1]`, and
/// swaks's decimal IPv4 form `#16909060` (`user@#16909060` routes to 1.2.3.4).
pub(crate) fn parse_ip_literal(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(n) = s
        .strip_prefix('#')
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse::<u32>().ok())
    {
        return Some(IpAddr::V4(Ipv4Addr::from(n)));
    }
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    // The tag is case-insensitive (RFC 5321 §4.1.3 "Standardized-tag" is an Ldh-str).
    if inner.len() > 5 && inner[..5].eq_ignore_ascii_case("IPv6:") {
        return inner[5..].parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    inner.parse::<IpAddr>().ok()
}

/// Whether an exchange or alias target as [`bare`] writes it can name a host: its labels hold
/// only letters, digits, hyphens (RFC 1123 §2.1, RFC 5321 §2.3.5) and, as Postfix's
/// `valid_hostname` takes them, underscores. [`bare`] escapes every other byte with a
/// backslash (a space, a NUL, `@`, a `.` inside a label, the brackets of `[192.0.2.1]`), and
/// `*` is a wildcard's owner, never a host. Postfix skips such an MX record ("malformed domain
/// name in resource data of MX record"), and no lookup of it can be made.
pub(crate) fn is_host_name(host: &str) -> bool {
    host.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `localhost` never goes to DNS (RFC 6761 §6.3): answer it ourselves so loopback tests work with
/// any resolver configuration, `--dns-server` included.
pub(crate) fn is_localhost(host: &str) -> bool {
    host.trim_end_matches('.').eq_ignore_ascii_case("localhost")
}

/// `name.` — lookups of mail domains are absolute; search lists would only produce surprises.
/// The most MX hosts one send tries, and `check` checks, of a domain (after duplicates are
/// dropped): each costs up to two DNS queries and a connect timeout per address, so a hostile
/// RRset of hundreds of hosts cannot hold a run for hours. Exim tries at most 5 addresses
/// (`hosts_max_try`), Postfix 5 (`smtp_mx_address_limit`); a debugging tool tries more.
pub(crate) const MAX_MX_HOSTS: usize = 10;

/// Shuffle each run of equal preference in `list` (sorted by preference) with `rng`, as RFC
/// 5321 §5.1 requires of senders ("MUST randomize"). Returns whether any run had two hosts or
/// more (the order then came from `rng`).
pub(crate) fn shuffle_equal_preferences(list: &mut [Mx], rng: &mut Rng) -> bool {
    let mut any = false;
    let mut start = 0;
    while start < list.len() {
        let pref = list[start].preference;
        let end = start
            + list[start..]
                .iter()
                .take_while(|m| m.preference == pref)
                .count();
        let group = &mut list[start..end];
        if group.len() > 1 {
            any = true;
            // Fisher-Yates.
            for i in (1..group.len()).rev() {
                group.swap(i, rng.below(i + 1));
            }
        }
        start = end;
    }
    any
}

/// What the root exchanges (`.`, "no host") of an MX RRset amount to (RFC 7505 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RootMx {
    /// No record names the root.
    Absent,
    /// The RRset is the single record `MX 0 .`: a null MX, the domain accepts no mail.
    NullMx,
    /// Root exchanges that make no null MX (`MX N .` with N ≠ 0, or a `.` beside other MX
    /// records): why, with the remedy.
    Broken(String),
}

/// Whether an MX RRset is a null MX, given each record's preference and whether its exchange is
/// the root: the one place that decides it, for the send and for `check`. RFC 7505 §3: a null
/// MX is "a single MX RR" with "preference number 0" and the root as its exchange, and "a
/// domain that advertises a null MX MUST NOT advertise any other MX RR". Anything else with a
/// root exchange is a broken RRset whose `.` names no host, not a statement that no mail is
/// accepted.
pub(crate) fn root_mx(records: &[(u16, bool)]) -> RootMx {
    let roots: Vec<u16> = records
        .iter()
        .filter(|(_, root)| *root)
        .map(|(p, _)| *p)
        .collect();
    if roots.is_empty() {
        return RootMx::Absent;
    }
    if records.len() == 1 && roots == [0] {
        return RootMx::NullMx;
    }
    let listed = roots
        .iter()
        .map(|p| format!("MX {p} ."))
        .collect::<Vec<_>>()
        .join(", ");
    RootMx::Broken(if records.len() == 1 {
        format!(
            "{listed} is not a null MX: a null MX has preference 0 (RFC 7505 §3); publish \
             `MX 0 .` to refuse all mail, or an MX record naming a mail host"
        )
    } else if roots.len() == records.len() {
        format!(
            "{listed}: a null MX is a single MX record (RFC 7505 §3); publish only `MX 0 .` \
             to refuse all mail"
        )
    } else {
        let the = if roots.len() == 1 {
            "the `.` record"
        } else {
            "the `.` records"
        };
        let others = records.len() - roots.len();
        let plural = plural_s(others);
        format!(
            "{listed} beside {others} other MX record{plural}: a null MX must be the only MX \
             record (RFC 7505 §3); remove {the} to receive mail, or publish only `MX 0 .` to \
             refuse it"
        )
    })
}

/// The exchange of an MX record whose target is the root (RFC 7505's "no host").
pub(crate) const ROOT_EXCHANGE: &str = ".";

/// The hosts of an MX list (in the order to try them) that can be tried: root exchanges of an
/// RRset that is no null MX ([`root_mx`]), IP-address exchanges and exchanges that are no host
/// name ([`is_host_name`]) dropped with a warning, a repeated host kept once (one info line), at most [`MAX_MX_HOSTS`]
/// (a warning when the rest are left out). None left is [`DnsError::NoUsableMx`].
fn usable_mail_hosts(
    domain: &str,
    list: Vec<Mx>,
    emit: &mut dyn FnMut(Event),
) -> Result<Vec<String>, DnsError> {
    let mut hosts: Vec<String> = Vec::new();
    let mut repeats: Vec<(String, usize)> = Vec::new();
    let mut numeric = Vec::new();
    let mut malformed = Vec::new();
    let roots: Vec<(u16, bool)> = list
        .iter()
        .map(|m| (m.preference, m.host == ROOT_EXCHANGE))
        .collect();
    let broken = match root_mx(&roots) {
        RootMx::Broken(why) => {
            emit(Event::warning(format!(
                "{domain}: {why}: the `.` names no host, skipped"
            )));
            Some(why)
        }
        // A null MX never gets here ([`Resolver::mx_proved`] reports it).
        RootMx::Absent | RootMx::NullMx => None,
    };
    for m in list {
        if m.host == ROOT_EXCHANGE {
            continue;
        }
        if m.host.parse::<IpAddr>().is_ok() {
            emit(Event::warning(format!(
                "MX {} {} of {domain} is an IP address, not a host name (RFC 1035 §3.3.9): skipped",
                m.preference, m.host
            )));
            numeric.push(m.host);
            continue;
        }
        if !is_host_name(&m.host) {
            // It was looked up, and the lookup failed on the name itself ("Malformed label").
            emit(Event::warning(format!(
                "MX {} {} of {domain} is not a host name (a label holds characters other than \
                 letters, digits and hyphens, RFC 5321 §2.3.5): skipped",
                m.preference, m.host
            )));
            malformed.push(m.host);
            continue;
        }
        // Named as first listed.
        match hosts.iter().find(|h| h.eq_ignore_ascii_case(&m.host)) {
            Some(first) => match repeats.iter_mut().find(|(h, _)| h == first) {
                Some((_, n)) => *n += 1,
                None => repeats.push((first.clone(), 2)),
            },
            None => hosts.push(m.host),
        }
    }
    if !repeats.is_empty() {
        let list: Vec<String> = repeats
            .iter()
            .map(|(h, n)| format!("{h} ({n} records)"))
            .collect();
        emit(Event::info(format!(
            "MX hosts of {domain} listed more than once are tried once: {}",
            list.join(", ")
        )));
    }
    if hosts.is_empty() {
        let mut why = Vec::new();
        if !numeric.is_empty() {
            why.push(format!(
                "{} is an IP address, not a host name (RFC 1035 §3.3.9)",
                numeric.join(", ")
            ));
        }
        if !malformed.is_empty() {
            why.push(format!(
                "{} is not a host name (RFC 5321 §2.3.5)",
                malformed.join(", ")
            ));
        }
        why.extend(broken);
        return Err(DnsError::NoUsableMx {
            domain: domain.to_string(),
            reason: why.join("; "),
        });
    }
    if hosts.len() > MAX_MX_HOSTS {
        emit(Event::warning(format!(
            "{domain} has {} MX hosts: only the first {MAX_MX_HOSTS} are tried",
            hosts.len()
        )));
        hosts.truncate(MAX_MX_HOSTS);
    }
    Ok(hosts)
}

fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

/// A resolver built once per run.
pub struct Resolver {
    /// The hickory resolver or the AD-trusting stub, or why it could not be built. Failing
    /// lazily keeps IP literals and `localhost` working on a machine without a usable
    /// `/etc/resolv.conf`.
    inner: Result<Backend, String>,
    /// Answers carry a DNSSEC proof (`--dnssec validate` or `trust-ad`).
    validating: bool,
    /// The longest one lookup takes, its retry and (validating) its chain of trust included.
    budget: Duration,
    /// The cap on lookups in flight at once, shared by the resolvers of one run
    /// ([`Resolver::with_gate`]); `None`: no cap (one connection, one send).
    gate: Option<Arc<tokio::sync::Semaphore>>,
    /// Whether the DNS server has answered anything, shared by the resolvers of one run
    /// ([`Resolver::with_silence`]); `None`: every lookup is sent.
    silence: Option<Arc<Silence>>,
    /// Who the lookups ask, as a timeout names it: `--dns-server`'s address, or the system
    /// resolver's from its configuration.
    asks: String,
}

/// What one run's lookups heard from the DNS server: a server that answers nothing (down, or a
/// firewall dropping the queries) made `ehlo check` wait out every domain's every lookup, so
/// 1000 domains took minutes to say the same thing 1000 times. Once [`SILENT_AFTER`] lookups
/// have run out of time and none was answered, the server is asked the root's NS records (any
/// server replies to that at once, if only with REFUSED or SERVFAIL, as Postfix's
/// `dnssec_probe` relies on); no reply to it either, and the next lookups are not sent and fail
/// at once with that reason. Any answer, even a late one, lifts it. Lookups that time out
/// because the names' own servers are dead (the resolver's SERVFAIL comes after ehlo's
/// timeout) leave the probe answered, and every lookup is still sent.
#[derive(Debug, Default)]
pub(crate) struct Silence {
    answered: std::sync::atomic::AtomicBool,
    timeouts: std::sync::atomic::AtomicU32,
    /// The root probe was sent (once a run).
    probed: std::sync::atomic::AtomicBool,
    /// The root probe ran out of time too.
    confirmed: std::sync::atomic::AtomicBool,
}

/// Lookups that must run out of time, none answered, before the DNS server is probed: more
/// than one, so that a single lost query never costs a probe.
const SILENT_AFTER: u32 = 3;

impl Silence {
    /// The server answered none of this run's lookups, the root probe included.
    fn silent(&self) -> Option<u32> {
        use std::sync::atomic::Ordering::Relaxed;
        (!self.answered.load(Relaxed) && self.confirmed.load(Relaxed))
            .then(|| self.timeouts.load(Relaxed))
    }

    /// Whether this caller should send the root probe now: [`SILENT_AFTER`] timeouts, no
    /// answer, and no probe sent before.
    fn probe_due(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        !self.answered.load(Relaxed)
            && self.timeouts.load(Relaxed) >= SILENT_AFTER
            && !self.probed.swap(true, Relaxed)
    }

    /// Note how a lookup ended: a DNS reply of any kind (records, a denial, an error RCODE, a
    /// bogus verdict on an answer that came) is an answer; a timeout counts towards silence.
    fn note(&self, res: &Result<hickory_resolver::lookup::Lookup, NetError>) {
        use std::sync::atomic::Ordering::Relaxed;
        match res {
            Ok(_) | Err(NetError::Dns(_)) => self.answered.store(true, Relaxed),
            Err(e) if own_bogus(e).is_some() => self.answered.store(true, Relaxed),
            Err(e) if is_timeout(e) => {
                self.timeouts.fetch_add(1, Relaxed);
            }
            Err(_) => {}
        }
    }
}

/// The reason a lookup was not sent to a silent server ([`Silence`]), carried in a
/// [`NetError`] as [`OwnBogus`] is, and known by its type.
#[derive(Debug)]
struct NotAsked(u32, String);

impl std::fmt::Display for NotAsked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not asked: the DNS server {} answered none of this run's lookups ({} ran out of \
             time)",
            self.1, self.0
        )
    }
}

impl std::error::Error for NotAsked {}

/// Who asks the questions: hickory (off and validate) or the AD-trusting stub (trust-ad). Both
/// answer with hickory's `Lookup` and `NetError`, so everything above is the same code.
enum Backend {
    // Boxed: the resolver is large and there is one per run.
    /// With the time budget of one validated lookup (see [`validation_budget`]).
    Hickory(Box<TokioResolver>, Option<Validated>),
    TrustAd(crate::net::dns_ad::AdStub),
}

impl Backend {
    async fn lookup(
        &self,
        name: &str,
        rtype: RecordType,
    ) -> Result<hickory_resolver::lookup::Lookup, NetError> {
        let name = query_name(name)?;
        match self {
            Backend::Hickory(r, None) => r.lookup(name, rtype).await,
            Backend::Hickory(r, Some(v)) => v.lookup(r, name, rtype).await,
            Backend::TrustAd(s) => s.lookup(&name.to_ascii(), rtype).await,
        }
    }
}

/// A bogus answer asked again of `server`, without the resolver's cache, through hickory's
/// validating client, which keeps the response it refused: the answer, secure, when the
/// refusal was only for the wildcard proof and [`wildcard_proven`] finds that proof in it;
/// `None` otherwise (the lookup stays bogus). Only a bogus verdict pays for this.
async fn wildcard_recheck(
    server: SocketAddr,
    anchors: Arc<TrustAnchors>,
    per_try: Duration,
    name: Name,
    rtype: RecordType,
) -> Option<hickory_resolver::lookup::Lookup> {
    use hickory_resolver::net::DnsError as HDnsError;
    use hickory_resolver::net::client::{Client, ClientHandle, DnssecClient};
    use hickory_resolver::net::udp::UdpClientStream;
    use hickory_resolver::proto::rr::DNSClass;
    let stream = UdpClientStream::builder(server, TokioRuntimeProvider::default())
        .with_timeout(Some(per_try))
        .build();
    let (client, bg) = Client::<TokioRuntimeProvider>::from_sender(stream);
    let bg = tokio::spawn(bg);
    let mut client = DnssecClient::from_client(client, anchors);
    let res = client.query(name, DNSClass::IN, rtype).await;
    bg.abort();
    match res {
        Err(NetError::Dns(HDnsError::Nsec {
            query,
            response,
            proof: Proof::Bogus,
            ..
        })) if wildcard_proven(&query, &response) => {
            Some(hickory_resolver::lookup::Lookup::new_with_max_ttl(
                *query,
                response.answers.iter().cloned(),
            ))
        }
        _ => None,
    }
}

/// Does `msg` prove its answer to `query`, synthesised from a wildcard, as RFC 4035 §5.3.4
/// asks? hickory-net 0.26.3 (`verify_nsec`) wants an NSEC that *covers* `*.<closest
/// encloser>`, but for a positive answer that wildcard exists and its NSEC *matches* it, so an
/// NSEC zone's wildcard expanded by exactly one label (`host.example` from `*.example`, every
/// TLSA published as `*._tcp.mx.example`) is bogus there while Unbound, Postfix and ldns prove
/// it secure (hickory-dns pull request 3812 adds this case as a failing test; two labels and
/// more pass there by accident). Only the denial is judged here: every record read carries
/// the `proof` hickory gave it after verifying its RRSIG against the zone's validated keys, and
/// only `Secure` ones count. The proof: the answer RRset and its RRSIG are secure, the RRSIG's
/// label count `L` is below the query name's (RFC 4035 §5.3.2: expanded from
/// `*.<the name's last L labels>`), and a secure NSEC signed by the same zone covers the
/// "next closer" name, the query name's last `L + 1` labels (RFC 4035 §3.1.3.3, RFC 5155 §1.3's
/// term): no closer name exists, so the wildcard is the one that applies. NSEC3 zones and
/// CNAMEs are left to hickory (they validate there).
fn wildcard_proven(query: &hickory_resolver::proto::op::Query, msg: &Message) -> bool {
    use hickory_resolver::proto::dnssec::rdata::DNSSECRData;
    // The records' names are absolute; the question may not be (a name asked without its dot).
    let mut absolute = query.name().clone();
    absolute.set_fqdn(true);
    let qname = &absolute;
    if msg.response_code != ResponseCode::NoError {
        return false;
    }
    let answers: Vec<&Record> = msg
        .answers
        .iter()
        .filter(|r| r.name == *qname && r.record_type() == query.query_type())
        .collect();
    if answers.is_empty() || answers.iter().any(|r| r.proof != Proof::Secure) {
        return false;
    }
    fn rrsig_of(r: &Record) -> Option<&hickory_resolver::proto::dnssec::rdata::SigInput> {
        match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(sig)) if r.proof == Proof::Secure => Some(sig.input()),
            _ => None,
        }
    }
    // The answer's RRSIG, expanded from a wildcard: fewer labels than the name.
    let Some(sig) = msg
        .answers
        .iter()
        .filter(|r| r.name == *qname)
        .filter_map(rrsig_of)
        .find(|i| i.type_covered == query.query_type() && i.num_labels < qname.num_labels())
    else {
        return false;
    };
    let zone = &sig.signer_name;
    let next_closer = qname.trim_to(usize::from(sig.num_labels) + 1);
    if !zone.zone_of(&next_closer) || next_closer.num_labels() <= zone.num_labels() {
        return false;
    }
    msg.authorities.iter().any(|r| {
        let RData::DNSSEC(DNSSECRData::NSEC(nsec)) = &r.data else {
            return false;
        };
        let owner = &r.name;
        let next = nsec.next_domain_name();
        // Signed by the answer's zone (its RRSIG secure), not a parent's NSEC at a delegation
        // (RFC 6840 §4.1), and covering the next closer name: owner < name < next, or the
        // zone's last NSEC (next is the apex) with the name past the owner.
        let signed_here = msg.authorities.iter().any(|s| {
            s.name == *owner
                && rrsig_of(s)
                    .is_some_and(|i| i.type_covered == RecordType::NSEC && i.signer_name == *zone)
        });
        r.proof == Proof::Secure
            && signed_here
            && zone.zone_of(owner)
            && !(nsec.is_ancestor_delegation() && owner.zone_of(&next_closer))
            && next_closer > *owner
            && (next_closer < *next || (next <= owner && next.zone_of(&next_closer)))
    })
}

/// How a validated lookup that never got a verdict although the server answers says so.
const NO_CHAIN: &str = "no chain of trust to the answer could be built";

/// What a validating hickory backend needs besides the resolver: the time budget of one
/// validated lookup and a plain (non-validating) resolver asking the same servers.
struct Validated {
    /// See [`validation_budget`].
    budget: Duration,
    /// Asked only when a validated lookup is still without a verdict halfway through its budget.
    plain: Box<TokioResolver>,
    /// The server asked (`--dns-server`, else the system's first), the trust anchors and one
    /// try's timeout: a bogus answer is asked again of it to check a wildcard's proof
    /// ([`wildcard_recheck`]).
    server: Option<SocketAddr>,
    anchors: Arc<TrustAnchors>,
    per_try: Duration,
}

impl Validated {
    /// A validated lookup within the budget. One without a verdict in time is a timeout — unless
    /// the server answered the same question asked plainly: the data is there, its chain of
    /// trust is what never completes (a DS or trust anchor whose DNSKEY the zone does not
    /// serve, which hickory 0.26.3 keeps asking for, thousands of queries a second, where
    /// Unbound answers SERVFAIL at once). RFC 4033 §5 calls that bogus ("missing data that the
    /// relevant DNSSEC RRs indicate should be present"), and so does ehlo: the same verdict as
    /// through a validating resolver with `--dnssec trust-ad`.
    async fn lookup(
        &self,
        r: &TokioResolver,
        name: Name,
        rtype: RecordType,
    ) -> Result<hickory_resolver::lookup::Lookup, NetError> {
        let asked = name.clone();
        let validated = async move {
            match r.lookup(asked.clone(), rtype).await {
                Err(NetError::Dns(hickory_resolver::net::DnsError::DnssecBogus)) => {
                    let bogus = NetError::Dns(hickory_resolver::net::DnsError::DnssecBogus);
                    let Some(server) = self.server else {
                        return Err(bogus);
                    };
                    let again = wildcard_recheck(
                        server,
                        self.anchors.clone(),
                        self.per_try,
                        asked.clone(),
                        rtype,
                    )
                    .await;
                    if let Some(lookup) = again {
                        return Ok(lookup);
                    }
                    // hickory says "bogus" without a cause; the time rule (RFC 4035 §5.3.1)
                    // is one the records themselves show.
                    match crate::net::dns_ad::signature_out_of_date(
                        server,
                        &asked.to_ascii(),
                        rtype,
                        self.per_try,
                    )
                    .await
                    {
                        Some(why) => {
                            Err(OwnBogus::error(format!("DNSSEC validation failed: {why}")))
                        }
                        None => Err(bogus),
                    }
                }
                // A validating resolver asked by hickory (which clears CD) withholds a bogus
                // answer behind SERVFAIL (RFC 4035 §5.5): asked again with checking disabled,
                // one that serves the records then found them bogus (when their dates are the
                // cause, it says so); one that still cannot answer failed the lookup itself (the
                // zone's name servers, the resolver), which is no DNSSEC verdict.
                Err(
                    e @ NetError::Dns(hickory_resolver::net::DnsError::ResponseCode(
                        ResponseCode::ServFail,
                    )),
                ) => {
                    let Some(server) = self.server else {
                        return Err(e);
                    };
                    use crate::net::dns_ad::Unchecked;
                    match crate::net::dns_ad::unchecked(
                        server,
                        &asked.to_ascii(),
                        rtype,
                        self.per_try,
                    )
                    .await
                    {
                        Unchecked::OutOfDate(why) => Err(OwnBogus::error(format!(
                            "DNSSEC validation failed: the DNS server answered SERVFAIL, and \
                             with checking disabled it serves the records: {why}"
                        ))),
                        Unchecked::Served => Err(OwnBogus::error(
                            "DNSSEC validation failed: the DNS server answered SERVFAIL, and \
                             with checking disabled it serves the records: it found them bogus \
                             (RFC 4035 §5.5)"
                                .to_string(),
                        )),
                        Unchecked::NotServed => Err(e),
                    }
                }
                res => res,
            }
        };
        tokio::pin!(validated);
        let half = self.budget / 2;
        if let Ok(res) = tokio::time::timeout(half, &mut validated).await {
            return res;
        }
        let deadline = tokio::time::sleep(self.budget.saturating_sub(half));
        tokio::pin!(deadline);
        let plain = self.plain.lookup(name, rtype);
        tokio::pin!(plain);
        let mut answered = None;
        loop {
            tokio::select! {
                res = &mut validated => return res,
                p = &mut plain, if answered.is_none() => {
                    answered = Some(match p {
                        Ok(_) => true,
                        Err(e) => e.is_nx_domain() || e.is_no_records_found(),
                    });
                }
                () = &mut deadline => break,
            }
        }
        if answered == Some(true) {
            Err(OwnBogus::make(
                format!(
                    "DNSSEC validation failed: the server answered, but {NO_CHAIN} within {:.1}s \
                     (a DS or trust anchor whose DNSKEY the zone does not serve?)",
                    self.budget.as_secs_f64()
                ),
                true,
            ))
        } else {
            // No answer in time, validated or plain: a timeout, never "insecure", and not a
            // verdict on the data either — nothing was learnt about it.
            Err(NetError::Timeout)
        }
    }
}

/// The name to ask DNS for `name` as written: an ASCII name label for label, whatever its
/// labels hold (RFC 2181 §11: `mx_1.example` is a name DNS answers for, as getaddrinfo and
/// swaks resolve it), a name with non-ASCII characters as its A-labels (IDNA, RFC 5891 §4-5).
/// hickory's `&str` lookups would apply the IDNA rules to ASCII names too and refuse an
/// underscore before asking anything.
pub(crate) fn query_name(name: &str) -> Result<Name, NetError> {
    let parsed = if name.is_ascii() {
        Name::from_ascii(name)
    } else {
        Name::from_utf8(label_dots(name))
    };
    parsed.map_err(|e| NetError::from(format!("{name:?} is not a valid DNS name: {e}")))
}

/// `name` as a host to connect to and to name in TLS: its ASCII form (A-labels, RFC 5890
/// §2.3.2.1), which is what SNI carries (RFC 6066 §3) and what certificates hold (RFC 6125
/// §6.4.2). An ASCII name is returned as it is; one that is no valid IDN too.
pub(crate) fn ascii_host(name: &str) -> String {
    if name.is_ascii() {
        return name.to_string();
    }
    match Name::from_utf8(label_dots(name)) {
        Ok(n) => bare(&n),
        Err(_) => name.to_string(),
    }
}

/// The full stops that separate labels as `.` does (RFC 3490 §3.1 step 1, UTS #46 §4):
/// ideographic U+3002, fullwidth U+FF0E and halfwidth ideographic U+FF61.
pub(crate) const UNICODE_DOTS: [char; 3] = ['\u{3002}', '\u{FF0E}', '\u{FF61}'];

/// `name` with its Unicode full stops ([`UNICODE_DOTS`]) written as `.`. hickory splits a
/// name into labels at `.` only and maps each label by UTS #46 alone, which turns such a stop
/// into a `.` inside one label: `bücher。test` was asked as the one label `xn--bcher-kva\.test`.
fn label_dots(name: &str) -> std::borrow::Cow<'_, str> {
    if name.contains(UNICODE_DOTS) {
        std::borrow::Cow::Owned(name.replace(UNICODE_DOTS, "."))
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

/// Why a label of `name` that claims to be an A-label (`xn--`, any case, RFC 5890 §2.3.1) is
/// none, if one is not: its Punycode must decode (RFC 3492) to a valid U-label (RFC 5891 §5.4),
/// as the UTS #46 processing hickory asks DNS with checks it. `xn--a.example` is no name any
/// registry can hold; asking DNS for it only ever said NXDOMAIN, which read as a typo.
pub(crate) fn bad_a_label(name: &str) -> Option<String> {
    name.split('.')
        .find(|l| {
            l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--"))
                && Name::from_utf8(l).is_err()
        })
        .map(|l| {
            format!(
                "'{}' is no valid A-label: its Punycode does not decode to a valid U-label \
                 (RFC 5891 §5.4)",
                l.escape_debug()
            )
        })
}

/// A name from DNS data (an MX exchange, a CNAME target) as text: its presentation form in
/// ASCII, A-labels kept as they came (never decoded to Unicode: the host is connected to, sent
/// in SNI and matched against certificates by this name), without the trailing dot. A byte no
/// name may show as itself is `\DDD` in decimal, as RFC 1035 §5.1 and zone files (NSD, BIND)
/// write it: hickory writes the three digits in octal, so `mx\032sp` in a zone (a space) was
/// shown as `mx\040sp`, which a zone file reads as `mx(sp`.
pub(crate) fn bare(name: &Name) -> String {
    let ascii = name.to_ascii();
    let ascii = ascii.trim_end_matches('.');
    let mut out = String::with_capacity(ascii.len());
    let mut chars = ascii.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        // Left to right: `\\` (an escaped backslash) is taken whole before its digits are
        // seen. hickory escapes digits never singly, so `\` and three digits is a byte.
        let rest = chars.as_str();
        match rest.get(..3).and_then(|d| u8::from_str_radix(d, 8).ok()) {
            Some(byte) if rest.as_bytes()[..3].iter().all(u8::is_ascii_digit) => {
                out.push_str(&format!("\\{byte:03}"));
                chars = rest[3..].chars();
            }
            _ => {
                out.push(c);
                out.extend(chars.next());
            }
        }
    }
    out
}

/// The records of `lookup`'s answer that belong to the question: owned by the name asked or by
/// a CNAME target reached from it inside the answer (RFC 1034 §3.6.2, §4.3.2 step 3). Anything
/// else a server put in the answer section says nothing about this name (RFC 2181 §5.4.1) and
/// is dropped: an MX record of another owner must never route mail, an address of another
/// name must never be connected to.
fn owned_answers(lookup: &hickory_resolver::lookup::Lookup) -> Vec<&Record> {
    let absolute = |n: &Name| {
        let mut n = n.clone();
        n.set_fqdn(true);
        n
    };
    let mut names = vec![absolute(lookup.query().name())];
    loop {
        let before = names.len();
        for rec in lookup.answers() {
            if let RData::CNAME(c) = &rec.data
                && names.contains(&absolute(&rec.name))
                && !names.contains(&absolute(&c.0))
            {
                names.push(absolute(&c.0));
            }
        }
        if names.len() == before {
            break;
        }
    }
    lookup
        .answers()
        .iter()
        .filter(|r| names.contains(&absolute(&r.name)))
        .collect()
}

/// What building one hickory resolver gave, short of an error to report at once.
enum Built {
    /// A resolver ready to ask.
    Ready(Box<TokioResolver>),
    /// None: the system DNS configuration could not be read (why, in one line). Not an error
    /// of the run by itself: only a lookup needs it.
    Unusable(String),
}

/// One hickory resolver with `ropts` (and `anchors` when validating): asking `server` alone
/// when one is given, else the system's servers with their settings (ndots, search list),
/// only the timeout, attempts and validation overridden. An error is a resolver hickory
/// would not build.
/// The most answers a resolver keeps (hickory's default is 8192): an answer may be 64 KiB of
/// records (a TXT RRset over TCP), ~150 KB once parsed, so a hostile or merely large zone
/// made `ehlo check` of 400 domains peak at 300 MB resident (growing with the list, whatever
/// `--concurrency`), up to ~1.2 GB per resolver. As many as `ehlo check` lets be in flight
/// (`check::DNS_IN_FLIGHT`): the names domains share (an MX host, a parent's `_dmarc`) are
/// asked close together and still found.
const CACHE_ANSWERS: u64 = 256;

fn build_hickory(
    server: Option<SocketAddr>,
    ropts: ResolverOpts,
    anchors: Option<Arc<TrustAnchors>>,
) -> Result<Built, DnsError> {
    match server {
        Some(server) => {
            // UDP first, TCP for the answers that come back truncated (RFC 7766 §5): a big
            // TLSA or DNSKEY RRset must not fail only because it is big.
            let mut udp = ConnectionConfig::udp();
            udp.port = server.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = server.port();
            let ns = NameServerConfig::new(server.ip(), true, vec![udp, tcp]);
            let mut ropts = ropts;
            // The user picked this server to see its answers: /etc/hosts must not shadow them.
            ropts.use_hosts_file = ResolveHosts::Never;
            let mut b = TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![ns]),
                TokioRuntimeProvider::default(),
            )
            .with_options(ropts);
            if let Some(a) = anchors {
                b = b.with_trust_anchor(a);
            }
            b.build()
                .map(|r| Built::Ready(Box::new(r)))
                .map_err(|e| DnsError::Failed {
                    name: server.to_string(),
                    reason: e.to_string(),
                    kind: FailKind::Other,
                })
        }
        None => match TokioResolver::builder_tokio() {
            Ok(mut b) => {
                // Keep the system's ndots/search etc., override only what the user controls.
                let o = b.options_mut();
                o.timeout = ropts.timeout;
                o.attempts = ropts.attempts;
                o.validate = ropts.validate;
                o.cache_size = ropts.cache_size;
                if let Some(a) = anchors {
                    b = b.with_trust_anchor(a);
                }
                b.build()
                    .map(|r| Built::Ready(Box::new(r)))
                    .map_err(|e| DnsError::Failed {
                        name: "system resolver".into(),
                        reason: e.to_string(),
                        kind: FailKind::Other,
                    })
            }
            Err(e) => Ok(Built::Unusable(format!(
                "cannot read the system DNS configuration: {e}"
            ))),
        },
    }
}

/// Who a resolver built for `server` (`--dns-server`, else the system's) asks, as a timeout
/// names it.
fn asks(server: Option<SocketAddr>) -> String {
    match server {
        Some(s) => s.to_string(),
        None => match crate::net::dns_ad::AdStub::system_servers() {
            Ok(list) => {
                let names: Vec<String> = list.iter().map(SocketAddr::to_string).collect();
                format!(
                    "the system resolver{} {}",
                    if names.len() == 1 { "" } else { "s" },
                    names.join(", ")
                )
            }
            Err(_) => "the system resolver".to_string(),
        },
    }
}

impl Resolver {
    /// Build from options (system configuration unless `server` is set).
    pub fn new(opts: &DnsOptions) -> Result<Resolver, DnsError> {
        let mut ropts = ResolverOpts::default();
        ropts.cache_size = CACHE_ANSWERS;
        // A zero timeout would make every query fail at once; treat it as "the default".
        ropts.timeout = if opts.timeout.is_zero() {
            DnsOptions::default().timeout
        } else {
            opts.timeout
        };
        ropts.attempts = opts.attempts;
        let budget_base = ropts.timeout;
        let budget = validation_budget(budget_base, opts.attempts);
        let asks = asks(opts.server);
        if opts.dnssec == DnssecMode::TrustAd {
            let servers = match opts.server {
                Some(s) => Ok(vec![s]),
                None => crate::net::dns_ad::AdStub::system_servers(),
            };
            return Ok(Resolver {
                inner: servers.map(|s| {
                    Backend::TrustAd(crate::net::dns_ad::AdStub::new(
                        s,
                        ropts.timeout,
                        opts.attempts,
                    ))
                }),
                validating: true,
                budget,
                gate: None,
                silence: None,
                asks,
            });
        }
        let validate = opts.dnssec == DnssecMode::Validate;
        // Read the anchors before anything else: an unreadable file is the user's mistake and
        // must be reported as such, not as a failed lookup later.
        let anchors = match (&opts.trust_anchor, validate) {
            (Some(path), true) => Some(Arc::new(load_trust_anchors(path)?)),
            _ => None,
        };
        // Validation sets the DO bit (RFC 3225) and checks RRSIGs; off, the resolver is the plain
        // one so the default send pays nothing for DNSSEC.
        ropts.validate = validate;
        let unusable = |reason| Resolver {
            inner: Err(reason),
            validating: validate,
            budget,
            gate: None,
            silence: None,
            asks: asks.clone(),
        };
        let inner = match build_hickory(opts.server, ropts.clone(), anchors.clone())? {
            Built::Ready(r) => r,
            Built::Unusable(reason) => return Ok(unusable(reason)),
        };
        // Validating: a plain twin asking the same servers (see [`Validated::lookup`]).
        let validated = if validate {
            let mut plain = ropts;
            plain.validate = false;
            match build_hickory(opts.server, plain, None)? {
                Built::Ready(p) => Some(Validated {
                    budget,
                    plain: p,
                    server: opts.server.or_else(|| {
                        crate::net::dns_ad::AdStub::system_servers()
                            .ok()
                            .and_then(|l| l.first().copied())
                    }),
                    anchors: anchors.unwrap_or_default(),
                    per_try: budget_base,
                }),
                Built::Unusable(reason) => return Ok(unusable(reason)),
            }
        } else {
            None
        };
        Ok(Resolver {
            inner: Ok(Backend::Hickory(inner, validated)),
            validating: validate,
            budget,
            gate: None,
            silence: None,
            asks,
        })
    }

    /// No more than `gate`'s permits of lookups (each question with its retries; validating, its
    /// plain twin too) in flight at once; a lookup waits for a permit before it is sent, and its
    /// timeout starts then. `ehlo check` gives its resolvers one gate ([`crate::check`]): a domain
    /// asks about eight questions at once, so `--concurrency 3000` sent some 24,000 at a time, each
    /// on its own UDP socket, and a local server's answers were dropped (spurious `error`s).
    pub(crate) fn with_gate(mut self, gate: Arc<tokio::sync::Semaphore>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Share `silence` with the other resolvers of the run: once the DNS server has answered
    /// nothing and lookups ran out of time, the next lookups are not sent ([`Silence`]).
    pub(crate) fn with_silence(mut self, silence: Arc<Silence>) -> Self {
        self.silence = Some(silence);
        self
    }

    /// `name`/`rtype` asked of `r`, once this resolver's gate lets one more lookup be in flight;
    /// not sent when the run's DNS server has been silent ([`Silence`]).
    async fn ask(
        &self,
        r: &Backend,
        name: &str,
        rtype: RecordType,
    ) -> Result<hickory_resolver::lookup::Lookup, NetError> {
        // A semaphore that is never closed: `acquire` fails only if it were.
        let _permit = match &self.gate {
            Some(g) => g.acquire().await.ok(),
            None => None,
        };
        if let Some(n) = self.silence.as_ref().and_then(|s| s.silent()) {
            return Err(NetError::Io(Arc::new(std::io::Error::other(NotAsked(
                n,
                self.asks.clone(),
            )))));
        }
        let res = r.lookup(name, rtype).await;
        if let Some(s) = &self.silence {
            s.note(&res);
            if s.probe_due() {
                let probe = r.lookup(".", RecordType::NS).await;
                s.note(&probe);
                if probe.as_ref().is_err_and(is_timeout) {
                    s.confirmed
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        res
    }

    /// The longest one lookup takes (each try's timeout, the retry included; validating, the
    /// chain of trust within the same time): what the README promises a lookup.
    pub(crate) fn budget(&self) -> Duration {
        self.budget
    }

    /// Why this resolver cannot ask anything at all (the system configuration could not be
    /// read, or names no server), if it cannot: `ehlo check`, where every result needs DNS,
    /// refuses to start then rather than report each lookup as the domain's failure.
    pub(crate) fn unusable(&self) -> Option<&str> {
        self.inner.as_ref().err().map(String::as_str)
    }

    /// ehlo validates the answers itself (`--dnssec validate`): a lookup that runs out of time
    /// may have got its answer but no verdict on it. Off, nothing but the answer is awaited;
    /// with `trust-ad` the resolver's own verdict comes with its answer (RFC 4035 §3.2.3).
    fn validates_itself(&self) -> bool {
        matches!(self.inner, Ok(Backend::Hickory(_, Some(_))))
    }

    /// Who this resolver asks and for how long, for the words of a timeout.
    fn waited(&self) -> Waited<'_> {
        Waited {
            server: &self.asks,
            within: self.budget,
            verdict: self.validates_itself(),
        }
    }

    fn resolver(&self, name: &str) -> Result<&Backend, DnsError> {
        self.inner.as_ref().map_err(|reason| DnsError::Failed {
            name: name.to_string(),
            reason: reason.clone(),
            kind: FailKind::Other,
        })
    }

    /// MX records of `domain` (sorted), `Implicit` when there are none, `NullMx` for RFC 7505.
    #[cfg(test)]
    pub(crate) async fn mx(&self, domain: &str) -> Result<MxAnswer, DnsError> {
        Ok(self.mx_proved(domain).await?.0)
    }

    /// [`Self::mx`] with the DNSSEC proof of the MX RRset (`None` unless validating or when
    /// there are no MX records).
    #[cfg(test)]
    pub(crate) async fn mx_proved(
        &self,
        domain: &str,
    ) -> Result<(MxAnswer, Option<DnsProof>), DnsError> {
        match self.mx_or_null(domain).await? {
            (Some(answer), proof) => Ok((answer, proof)),
            (None, _) => Err(DnsError::NullMx(
                domain.trim().trim_end_matches('.').to_string(),
            )),
        }
    }

    /// [`Self::mx_proved`] with a null MX (RFC 7505) as `None` and its proof, for the caller
    /// that shows the answer before refusing the domain ([`Self::mail_hosts`]).
    async fn mx_or_null(
        &self,
        domain: &str,
    ) -> Result<(Option<MxAnswer>, Option<DnsProof>), DnsError> {
        let domain = domain.trim().trim_end_matches('.');
        // An address literal (`user@[192.0.2.1]`) or localhost has no MX: the "domain" is the host.
        if parse_ip_literal(domain).is_some() || is_localhost(domain) {
            return Ok((Some(MxAnswer::Implicit), None));
        }
        if domain.is_empty() {
            return Err(DnsError::Failed {
                name: domain.to_string(),
                reason: "empty domain".into(),
                kind: FailKind::Other,
            });
        }
        let r = self.resolver(domain)?;
        let (res, via) = self
            .lookup_following(r, &fqdn(domain), RecordType::MX)
            .await;
        let lookup = match res {
            Ok(l) => l,
            Err(e) if e.is_nx_domain() => return Err(DnsError::NxDomain(domain.to_string())),
            // RFC 5321 §5.1: no MX records → the domain itself is the implicit MX; but only
            // when the domain's CNAME chain, if any, was followed to its end.
            Err(e) if e.is_no_records_found() => {
                if answered_through_alias(&e, domain) {
                    self.chain_followed(r, domain, &[RecordType::MX]).await?;
                }
                return Ok((Some(MxAnswer::Implicit), None));
            }
            Err(e) => return Err(failed(domain, &e, &self.waited())),
        };
        let mut mxs = Vec::new();
        let mut proof = None;
        // The CNAME chain that led here (RFC 1034 §3.6.2) is part of the answer: an MX RRset
        // reached through an unsigned alias is only as secure as that alias (RFC 4035 §5,
        // RFC 7672 §2.2.1).
        let chain = self.chain_proof(&lookup);
        for rec in owned_answers(&lookup) {
            if let RData::MX(m) = &rec.data {
                self.note_proof(&mut proof, rec.proof);
                // A root exchange is never a host to connect to ([`usable_mail_hosts`] skips
                // it); only the single `0 .` says the domain accepts no mail (RFC 7505 §3).
                mxs.push(Mx {
                    preference: m.preference,
                    host: if m.exchange.is_root() {
                        ROOT_EXCHANGE.to_string()
                    } else {
                        bare(&m.exchange)
                    },
                });
            }
        }
        let roots: Vec<(u16, bool)> = mxs
            .iter()
            .map(|m| (m.preference, m.host == ROOT_EXCHANGE))
            .collect();
        if mxs.is_empty() {
            // Only a CNAME chain came back (a stub's answer): was it followed to its end?
            if owned_answers(&lookup)
                .iter()
                .any(|rec| matches!(rec.data, RData::CNAME(_)))
            {
                self.chain_followed(r, domain, &[RecordType::MX]).await?;
            }
            return Ok((Some(MxAnswer::Implicit), None));
        }
        fold(&mut proof, chain);
        fold(&mut proof, via.proof);
        if root_mx(&roots) == RootMx::NullMx {
            return Ok((None, proof));
        }
        // Stable: equal preferences keep the server's order ([`Resolver::mail_hosts`] shuffles them).
        mxs.sort_by_key(|m| m.preference);
        Ok((Some(MxAnswer::Mx(mxs)), proof))
    }

    /// Fold one record's proof into an RRset's (the weakest wins) when validating.
    fn note_proof(&self, acc: &mut Option<DnsProof>, p: Proof) {
        if self.validating {
            fold(acc, Some(DnsProof::from_hickory(p)));
        }
    }

    /// The weakest proof of the CNAME records in `lookup`'s answer (`None` when there are none
    /// or when not validating). Every link of a CNAME chain is an RRset of its own, validated
    /// in its own zone: an answer reached through an alias in an unsigned zone is insecure
    /// however well the target is signed (RFC 4035 §5: the chain of trust covers each RRset;
    /// RFC 7672 §2.2.1-2 asks for the secure MX and address answers DANE rests on).
    fn chain_proof(&self, lookup: &hickory_resolver::lookup::Lookup) -> Option<DnsProof> {
        let mut acc = None;
        for rec in owned_answers(lookup) {
            if matches!(rec.data, RData::CNAME(_)) {
                self.note_proof(&mut acc, rec.proof);
            }
        }
        acc
    }

    /// Where mail for `domain` goes, as host names in the order to try them (the domain itself
    /// for an implicit MX), with the lookup reported as events. Shared by the send and the REPL.
    ///
    /// Of the MX RRset (RFC 5321 §5.1): hosts of equal preference are put in random order with
    /// `rng` (a MUST); an exchange that is an IP address is no host name (RFC 1035 §3.3.9) and is
    /// skipped with a warning, as Postfix does ("numeric domain name in resource data of MX
    /// record"); a host listed more than once is tried once; past [`MAX_MX_HOSTS`] the rest are
    /// left out, with a warning. No usable record left is [`DnsError::NoUsableMx`]: the implicit
    /// MX applies only when there are no MX records at all.
    pub(crate) async fn mail_hosts(
        &self,
        domain: &str,
        rng: &mut Rng,
        emit: &mut dyn FnMut(Event),
    ) -> Result<Vec<String>, DnsError> {
        emit(Event::DnsQuery {
            name: domain.to_string(),
            rtype: "MX".into(),
        });
        let (answer, proof) = match self.mx_or_null(domain).await {
            Ok(found) => found,
            Err(e) => {
                // Said as a failed address lookup is (JSON: `dns_failed`, here with `MX`).
                emit(Event::DnsFailed {
                    name: domain.to_string(),
                    rtype: "MX".into(),
                    reason: e.to_string(),
                });
                return Err(e);
            }
        };
        let Some(answer) = answer else {
            // Shown as any answer is (JSON: a `dns_answer` before the summary), then refused.
            emit(Event::DnsAnswer {
                name: domain.to_string(),
                rtype: "MX".into(),
                records: vec![format!("0 {ROOT_EXCHANGE}")],
                proof: proof.map(|p| p.as_str().to_string()),
            });
            return Err(DnsError::NullMx(
                domain.trim().trim_end_matches('.').to_string(),
            ));
        };
        match answer {
            MxAnswer::Mx(mut list) => {
                let shuffled = shuffle_equal_preferences(&mut list, rng);
                emit(Event::DnsAnswer {
                    name: domain.to_string(),
                    rtype: "MX".into(),
                    records: list
                        .iter()
                        .map(|m| format!("{} {}", m.preference, m.host))
                        .collect(),
                    proof: proof.map(|p| p.as_str().to_string()),
                });
                if shuffled {
                    emit(Event::info(
                        "MX hosts of equal preference are tried in random order (RFC 5321 §5.1)",
                    ));
                }
                usable_mail_hosts(domain, list, emit)
            }
            MxAnswer::Implicit => {
                emit(Event::info(format!(
                    "{domain} has no MX record: using the domain itself (implicit MX, RFC 5321 §5.1)"
                )));
                Ok(vec![domain.to_string()])
            }
        }
    }

    /// Addresses of `host` for `family`, with the lookup reported as events; an IP address is
    /// returned as it is, without a query. Shared by the send and the REPL.
    #[cfg(test)]
    pub(crate) async fn host_addresses(
        &self,
        host: &str,
        family: Family,
        emit: &mut dyn FnMut(Event),
    ) -> Result<Vec<IpAddr>, DnsError> {
        Ok(self.host_addresses_noted(host, family, emit).await?.list)
    }

    /// [`Self::host_addresses`] with the CNAME targets the name led to ([`Noted::aliases`]),
    /// for the caller that knows whether `host` is an MX exchange ([`mx_alias_problem`]).
    pub(crate) async fn host_addresses_noted(
        &self,
        host: &str,
        family: Family,
        emit: &mut dyn FnMut(Event),
    ) -> Result<Noted, DnsError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(Noted {
                list: vec![ip],
                ..Noted::default()
            });
        }
        emit(Event::DnsQuery {
            name: host.to_string(),
            rtype: "A/AAAA".into(),
        });
        let Noted {
            list,
            proof,
            dropped,
            aliases,
        } = match self.addresses_noted(host, family).await {
            Ok(n) => n,
            Err(e) => {
                emit(Event::DnsFailed {
                    name: host.to_string(),
                    rtype: "A/AAAA".into(),
                    reason: e.to_string(),
                });
                return Err(e);
            }
        };
        emit(Event::DnsAnswer {
            name: host.to_string(),
            rtype: "A/AAAA".into(),
            records: list.iter().map(IpAddr::to_string).collect(),
            proof: proof.map(|p| p.as_str().to_string()),
        });
        if let Some(why) = dropped {
            emit(Event::warning(why));
        }
        Ok(Noted {
            list,
            proof,
            dropped: None,
            aliases,
        })
    }

    /// Addresses of `host` for `family` (literals returned as they are).
    pub(crate) async fn addresses(
        &self,
        host: &str,
        family: Family,
    ) -> Result<Vec<IpAddr>, DnsError> {
        Ok(self.addresses_proved(host, family).await?.0)
    }

    /// [`Self::addresses`] with the DNSSEC proof of the address RRsets (the weaker of A and
    /// AAAA); `None` unless validating, and for literals and localhost, which are not DNS answers.
    pub(crate) async fn addresses_proved(
        &self,
        host: &str,
        family: Family,
    ) -> Result<(Vec<IpAddr>, Option<DnsProof>), DnsError> {
        let noted = self.addresses_noted(host, family).await?;
        Ok((noted.list, noted.proof))
    }

    /// [`Self::addresses_proved`], and why one family was left out although the host may have
    /// it: without validation a failed AAAA (or A) lookup — SERVFAIL, a timeout — leaves the
    /// other family to use, but a run that hides it reads as if the host had no such
    /// addresses (and a dropped AAAA query holds a run for the lookup's whole timeout).
    async fn addresses_noted(&self, host: &str, family: Family) -> Result<Noted, DnsError> {
        let host = host.trim();
        if let Some(ip) = parse_ip_literal(host) {
            let fits = match family {
                Family::Any => true,
                Family::V4 => ip.is_ipv4(),
                Family::V6 => ip.is_ipv6(),
            };
            return if fits {
                Ok(Noted {
                    list: vec![ip],
                    ..Noted::default()
                })
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
            return Ok(Noted {
                list: match family {
                    Family::Any => vec![v4, v6],
                    Family::V4 => vec![v4],
                    Family::V6 => vec![v6],
                },
                ..Noted::default()
            });
        }
        if name.is_empty() {
            return Err(DnsError::Failed {
                name: host.to_string(),
                reason: "empty host name".into(),
                kind: FailKind::Other,
            });
        }
        let r = self.resolver(name)?;
        match family {
            Family::V4 => self.single(r, name, RecordType::A).await,
            Family::V6 => self.single(r, name, RecordType::AAAA).await,
            Family::Any => {
                let (r6, r4) = tokio::join!(
                    self.lookup_ips(r, name, RecordType::AAAA),
                    self.lookup_ips(r, name, RecordType::A)
                );
                // Validating, a failure of either family (bogus, SERVFAIL, timeout) fails the
                // lookup, as it does with `-4` or `-6` alone: the other family's records cannot
                // make the host secure when half of its addresses could not be validated
                // (RFC 4035 §5.5, RFC 7672 §2.2.2). Only a denial (NXDOMAIN, NODATA) leaves
                // the other family to stand alone. Without validation a broken AAAA answer
                // must not stop a send the A records can make.
                if self.validating
                    && let Some(e) = [&r6, &r4].into_iter().find_map(|res| {
                        res.as_ref()
                            .err()
                            .filter(|e| !e.is_nx_domain() && !e.is_no_records_found())
                    })
                {
                    return Err(failed(name, e, &self.waited()));
                }
                let mut addrs = Vec::new();
                let mut proof = None;
                // The chain of whichever family has one (both follow the same CNAMEs).
                let mut aliases = Vec::new();
                for ((v, p), a) in [&r6, &r4].into_iter().flatten() {
                    addrs.extend(v);
                    if aliases.is_empty() {
                        aliases.clone_from(a);
                    }
                    if let Some(p) = p {
                        proof = Some(match proof {
                            Some(old) if weaker(old, *p) => old,
                            _ => *p,
                        });
                    }
                }
                if !addrs.is_empty() {
                    let dropped = [("AAAA", &r6, "A"), ("A", &r4, "AAAA")].into_iter().find_map(
                        |(rtype, res, other)| {
                            let e = res.as_ref().err()?;
                            if e.is_nx_domain() || e.is_no_records_found() {
                                return None;
                            }
                            Some(match failed(name, e, &self.waited()) {
                                DnsError::TimedOut { .. } => format!(
                                    "the {rtype} lookup of {name} timed out: only its {other} records are used"
                                ),
                                _ => format!(
                                    "the {rtype} lookup of {name} failed ({e}): only its {other} records are used"
                                ),
                            })
                        },
                    );
                    return Ok(Noted {
                        list: addrs,
                        proof,
                        dropped,
                        aliases,
                    });
                }
                let errs = [r6.err(), r4.err()];
                let errs = errs.iter().flatten();
                if errs.clone().any(|e| e.is_nx_domain()) {
                    return Err(self.dead_end(r, name, DnsError::NxDomain).await);
                }
                match errs.clone().find(|e| !e.is_no_records_found()) {
                    Some(e) => Err(failed(name, e, &self.waited())),
                    None => {
                        // "No address" only when the name's CNAME chain, if any, ends.
                        let chain = self
                            .chain_followed(r, name, &[RecordType::AAAA, RecordType::A])
                            .await?;
                        Err(dead_end_alias_error(name, chain, |end| {
                            DnsError::NoAddress {
                                name: end,
                                family: "A/AAAA",
                            }
                        }))
                    }
                }
            }
        }
    }
}

/// Can the `--dns-trust-anchor` file at `path` be used? Asked before `ehlo check` starts: a
/// file that cannot is a usage error (exit 1, as in the send), not "could not be tested".
pub(crate) fn check_trust_anchors(path: &std::path::Path) -> Result<(), DnsError> {
    load_trust_anchors(path).map(drop)
}

/// Read a `--dns-trust-anchor` file: DNSKEY records in zone-file syntax (what `ldns-keygen`,
/// `dnssec-keygen` and unbound's `trust-anchor-file` use). Its keys replace the root anchors.
fn load_trust_anchors(path: &std::path::Path) -> Result<TrustAnchors, DnsError> {
    let text = std::fs::read_to_string(path).map_err(|e| DnsError::TrustAnchor {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let anchors: TrustAnchors = text.parse().map_err(|e| DnsError::TrustAnchor {
        path: path.display().to_string(),
        reason: format!("{e}"),
    })?;
    if anchors.is_empty() && !text.to_ascii_uppercase().contains("DNSKEY") {
        return Err(DnsError::TrustAnchor {
            path: path.display().to_string(),
            reason: "no DNSKEY record in it".into(),
        });
    }
    Ok(anchors)
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
    pub(crate) cnames: Vec<String>,
    /// TTL of the first record of the asked type.
    pub(crate) ttl: Option<u32>,
    /// DNSSEC proof of the records of the asked type (the weakest one), or of their absence
    /// (a secure or insecure NXDOMAIN/NODATA) when validating; `None` with `--dnssec off`.
    pub proof: Option<DnsProof>,
}

impl RrSet {
    /// TXT records, each record's strings joined (RFC 7208 §3.3, RFC 8461 §3.1, RFC 8460 §3:
    /// "concatenated together without adding spaces"), then read as lossy UTF-8 — joined as
    /// bytes first, so a character whose bytes a publisher's tool split between two strings
    /// stays one character rather than two U+FFFD — sorted: an RRset has no order (RFC 2181
    /// §5) and name servers rotate it, so the records a check reports are listed the same in
    /// every run.
    pub(crate) fn txt_strings(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .records
            .iter()
            .filter_map(|r| match r {
                RData::TXT(t) => Some(String::from_utf8_lossy(&t.txt_data.concat()).into_owned()),
                _ => None,
            })
            .collect();
        v.sort_unstable();
        v
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
                kind: FailKind::Other,
            });
        }
        let r = self.resolver(name)?;
        let (res, via) = self.lookup_following(r, &fqdn(name), rtype).await;
        match res {
            Ok(lookup) => {
                let mut set = RrSet {
                    cnames: via.names,
                    ..RrSet::default()
                };
                for rec in owned_answers(&lookup) {
                    match &rec.data {
                        RData::CNAME(c) if rtype != RecordType::CNAME => {
                            set.cnames.push(bare(&c.0))
                        }
                        d if d.record_type() == rtype => {
                            set.ttl.get_or_insert(rec.ttl);
                            set.records.push(d.clone());
                            // The RRset is only as good as its weakest record.
                            self.note_proof(&mut set.proof, rec.proof);
                        }
                        _ => {}
                    }
                }
                if rtype != RecordType::CNAME {
                    // ... and as the weakest link of the CNAME chain that led to it.
                    if set.records.is_empty() && self.validating && !lookup.authorities().is_empty()
                    {
                        // Only the chain came back: the target's absence rests on the
                        // authority section's denial, as for a plain NODATA.
                        set.proof = Some(denial_of(None, lookup.authorities()));
                    }
                    fold(&mut set.proof, self.chain_proof(&lookup));
                    fold(&mut set.proof, via.proof);
                    if set.records.is_empty() && !set.cnames.is_empty() {
                        // An MX answer decides the implicit MX (RFC 5321 §5.1): "none" only
                        // when the chain was followed to its end. No CNAME in the answer: the
                        // name is no alias (see [`answered_through_alias`]).
                        self.chain_followed(r, name, &[rtype]).await?;
                    }
                }
                Ok(set)
            }
            // A denial reached through aliases is only as good as the weakest link too.
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => {
                let mut set = RrSet {
                    nxdomain: e.is_nx_domain(),
                    proof: self.denial_proof(&e),
                    cnames: via.names,
                    ..RrSet::default()
                };
                if set.proof.is_some() {
                    fold(&mut set.proof, via.proof);
                }
                if !set.nxdomain
                    && rtype != RecordType::CNAME
                    && (!set.cnames.is_empty()
                        || (rtype == RecordType::MX && answered_through_alias(&e, name)))
                {
                    self.chain_followed(r, name, &[rtype]).await?;
                }
                Ok(set)
            }
            Err(e) => Err(failed(name, &e, &self.waited())),
        }
    }

    /// The proof of a validated NXDOMAIN or NODATA (hickory has already refused a bogus one):
    /// secure when the SOA or NSEC/NSEC3 records of the denial verified (RFC 4035 §5.4), else
    /// insecure (the name lies under an unsigned delegation). `None` unless validating.
    fn denial_proof(&self, e: &NetError) -> Option<DnsProof> {
        use hickory_resolver::net::{DnsError as HDnsError, NoRecords};
        if !self.validating {
            return None;
        }
        let NetError::Dns(HDnsError::NoRecordsFound(NoRecords {
            soa, authorities, ..
        })) = e
        else {
            return None;
        };
        Some(denial_of(
            soa.as_deref().map(|r| r.proof),
            authorities.iter().flat_map(|a| a.iter()),
        ))
    }

    /// The TLSA records of the SMTP service at `host`:`port` (RFC 7672 §2.2): looked up at
    /// `_PORT._tcp.<name>`, where, when `host` is a CNAME whose expansion is DNSSEC-secure, the
    /// expanded name is tried first and the original name second (RFC 7672 §2.2.3); an insecure
    /// expansion is not followed. Empty records: neither name has TLSA records. A lookup that
    /// fails (bogus, SERVFAIL) is an error, never "no TLSA" (RFC 7672 §2.2).
    pub async fn tlsa(&self, host: &str, port: u16) -> Result<TlsaAnswer, DnsError> {
        let host = host.trim().trim_end_matches('.');
        let mut bases = Vec::new();
        // The expansion, from whichever family answers first: this probe only looks for the
        // alias's target, so a family the host lacks, or one that fails (an IPv6-only host
        // whose A is broken), is the address lookup's business, never a failed TLSA lookup.
        for rtype in [RecordType::A, RecordType::AAAA] {
            if let Ok(addr) = self.rrset(host, rtype).await {
                if let Some(last) = addr.cnames.last()
                    && addr.proof == Some(DnsProof::Secure)
                {
                    bases.push(last.clone());
                }
                break;
            }
        }
        bases.push(host.to_string());
        let mut answer = TlsaAnswer::default();
        for base in bases {
            let owner = format!("_{port}._tcp.{base}");
            let set = self.rrset(&owner, RecordType::TLSA).await?;
            let records: Vec<crate::net::dane::Tlsa> = set
                .records
                .iter()
                .filter_map(|r| match r {
                    RData::TLSA(t) => Some(crate::net::dane::Tlsa {
                        usage: u8::from(t.cert_usage),
                        selector: u8::from(t.selector),
                        mtype: u8::from(t.matching),
                        data: t.cert_data.clone(),
                    }),
                    _ => None,
                })
                .collect();
            answer = TlsaAnswer {
                base,
                owner,
                records,
                proof: set.proof,
            };
            if !answer.records.is_empty() {
                break;
            }
        }
        settled(answer)
    }

    /// PTR names of `ip` (RFC 1035 §3.5, RFC 3596 §2.5), without trailing dots; empty when none.
    pub(crate) async fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, DnsError> {
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

/// A TLSA answer the validator could not settle — records or a denial proved `bogus` or
/// `indeterminate` that still came back as an answer — is a failed lookup (RFC 7672 §2.1.1:
/// neither secure nor insecure, so never "no TLSA"): the send leaves the host out instead of
/// falling back to PKIX, as `check` fails `dane.tlsa`.
fn settled(answer: TlsaAnswer) -> Result<TlsaAnswer, DnsError> {
    match answer.proof {
        Some(p @ (DnsProof::Bogus | DnsProof::Indeterminate)) => Err(DnsError::Failed {
            reason: format!(
                "DNSSEC validation failed: the TLSA answer is {} (RFC 7672 §2.1.1)",
                p.as_str()
            ),
            name: answer.owner,
            kind: FailKind::Bogus,
        }),
        _ => Ok(answer),
    }
}

/// The TLSA lookup of one SMTP service ([`Resolver::tlsa`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsaAnswer {
    /// The TLSA base domain the records were found at (or the last one tried).
    pub(crate) base: String,
    /// The name asked: `_PORT._tcp.<base>`.
    pub owner: String,
    /// The records (empty: no TLSA, so no DANE for this host).
    pub records: Vec<crate::net::dane::Tlsa>,
    /// DNSSEC proof of the TLSA RRset (`None` unless validating or when there are none).
    pub proof: Option<DnsProof>,
}

/// The most one validated lookup may take: the answer and the DNSKEY/DS lookups of its chain
/// together get what a plain lookup gets (each try's timeout, the retries included), the
/// bound the README states for every lookup. hickory alone has no overall bound: a zone whose
/// DNSKEY cannot be fetched kept it busy for minutes.
fn validation_budget(query_timeout: Duration, attempts: usize) -> Duration {
    query_timeout.saturating_mul(
        u32::try_from(attempts)
            .unwrap_or(u32::MAX)
            .saturating_add(1),
    )
}

/// The proof of a denial from its authority section: secure when the SOA (`soa`, or one among
/// `authorities`) or an NSEC/NSEC3 record verified (RFC 4035 §5.4), else insecure.
fn denial_of<'a>(
    soa: Option<Proof>,
    authorities: impl IntoIterator<Item = &'a hickory_resolver::proto::rr::Record>,
) -> DnsProof {
    let secure = soa == Some(Proof::Secure)
        || authorities.into_iter().any(|r| {
            r.proof == Proof::Secure
                && matches!(
                    r.record_type(),
                    RecordType::SOA | RecordType::NSEC | RecordType::NSEC3
                )
        });
    if secure {
        DnsProof::Secure
    } else {
        DnsProof::Insecure
    }
}

/// Fold `p` into `acc`: the weaker of the two wins; `None` adds nothing.
fn fold(acc: &mut Option<DnsProof>, p: Option<DnsProof>) {
    if let Some(p) = p {
        *acc = Some(match *acc {
            Some(old) if weaker(old, p) => old,
            _ => p,
        });
    }
}

/// Is `a` a weaker proof than `b` (bogus < indeterminate < insecure < secure)?
fn weaker(a: DnsProof, b: DnsProof) -> bool {
    fn rank(p: DnsProof) -> u8 {
        match p {
            DnsProof::Bogus => 0,
            DnsProof::Indeterminate => 1,
            DnsProof::Insecure => 2,
            DnsProof::Secure => 3,
        }
    }
    rank(a) < rank(b)
}

fn family_label(f: Family) -> &'static str {
    match f {
        Family::Any => "A/AAAA",
        Family::V4 => "A",
        Family::V6 => "AAAA",
    }
}

/// `e` as the failure of the lookup of `name` by the resolver `waited` describes.
fn failed(name: &str, e: &NetError, waited: &Waited<'_>) -> DnsError {
    if is_timeout(e) {
        return DnsError::TimedOut {
            name: name.to_string(),
            verdict: waited.verdict,
            server: waited.server.to_string(),
            within: waited.within,
        };
    }
    use hickory_resolver::net::DnsError as HDnsError;
    if let NetError::Io(io) = e
        && let Some(not_asked) = io.get_ref().and_then(|i| i.downcast_ref::<NotAsked>())
    {
        return DnsError::Failed {
            name: name.to_string(),
            reason: not_asked.to_string(),
            kind: FailKind::Unanswered,
        };
    }
    if let Some(own) = own_bogus(e) {
        return DnsError::Failed {
            name: name.to_string(),
            reason: own.words.clone(),
            kind: FailKind::Bogus,
        };
    }
    let (reason, kind) = match e {
        // hickory words these "DNS error: error response: Server Failure"; a user debugging
        // mail wants the RCODE's name (RFC 1035 §4.1.1) and what it usually means.
        NetError::Dns(HDnsError::ResponseCode(rc)) => {
            let number = u16::from(*rc);
            let why = match rc {
                ResponseCode::ServFail => {
                    ": it could not get an answer (the domain's name servers failed or did not \
                     answer, or a validating resolver found the answer bogus)"
                }
                ResponseCode::Refused => {
                    ": it does not answer this question for this client (a server for other \
                     zones, or a resolver that does not serve this client?)"
                }
                _ => "",
            };
            let reason = match rcode_name(number) {
                "" => format!("{ANSWERED}{number} ({rc})"),
                code => format!("{ANSWERED}{code}{why}"),
            };
            (reason, FailKind::Answered(number))
        }
        NetError::Dns(HDnsError::DnssecBogus) => (e.to_string(), FailKind::Bogus),
        NetError::Proto(_) | NetError::Io(_) | NetError::NoConnections => {
            (e.to_string(), FailKind::Unanswered)
        }
        _ => (e.to_string(), FailKind::Other),
    };
    DnsError::Failed {
        name: name.to_string(),
        reason,
        kind,
    }
}

/// A DNSSEC failure ehlo finds and words itself rather than hickory (no chain of trust within
/// the budget; a `--dnssec trust-ad` resolver's SERVFAIL). It travels through hickory's
/// [`NetError`] — whose `Io` variant is the one that holds an error of another type — so that
/// [`failed`] knows it by its type, never by its words, and shows just the words.
#[derive(Debug)]
pub(crate) struct OwnBogus {
    /// What is shown.
    words: String,
    /// The validated answer came, the chain of trust to it did not ([`NO_CHAIN`]).
    no_chain: bool,
}

impl std::fmt::Display for OwnBogus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words)
    }
}

impl std::error::Error for OwnBogus {}

impl OwnBogus {
    /// `words` as a bogus lookup's failure ([`FailKind::Bogus`]).
    pub(crate) fn error(words: String) -> NetError {
        OwnBogus::make(words, false)
    }

    fn make(words: String, no_chain: bool) -> NetError {
        NetError::Io(Arc::new(std::io::Error::other(OwnBogus {
            words,
            no_chain,
        })))
    }
}

/// The [`OwnBogus`] `e` carries, if any.
fn own_bogus(e: &NetError) -> Option<&OwnBogus> {
    match e {
        NetError::Io(io) => io.get_ref()?.downcast_ref::<OwnBogus>(),
        _ => None,
    }
}

/// The name of an error RCODE ehlo words itself (RFC 1035 §4.1.1, RFC 2136 §2.2 for NOTAUTH),
/// empty for the others (shown by number).
fn rcode_name(code: u16) -> &'static str {
    let rc: ResponseCode = code.into();
    match rc {
        ResponseCode::FormErr => "FORMERR",
        ResponseCode::ServFail => "SERVFAIL",
        ResponseCode::NotImp => "NOTIMP",
        ResponseCode::Refused => "REFUSED",
        ResponseCode::NotAuth => "NOTAUTH",
        _ => "",
    }
}

/// How the reason of a lookup the server answered with an error RCODE begins.
const ANSWERED: &str = "the DNS server answered ";

/// The CNAME links a lookup was asked again through ([`Resolver::lookup_following`]).
#[derive(Debug, Default)]
struct Via {
    /// The targets, in order, without trailing dots.
    names: Vec<String>,
    /// The weakest proof of the links (`None`: no link followed).
    proof: Option<DnsProof>,
}

/// The longest CNAME chain [`Resolver::lookup_following`] walks (unbound's default is 11).
pub(crate) const MAX_CNAME_LINKS: usize = 8;

/// The longest CNAME chain [`Resolver::chain_followed`] walks to tell "no records" from "the
/// chain was not followed to its end": twice what hickory follows, more than unbound's 11.
const MAX_CHAIN_WALK: usize = 16;

/// How the reason of a lookup failed by a CNAME loop begins.
const CNAME_LOOP: &str = "CNAME loop";

/// A CNAME chain as `a → b → c`, at most eight names shown (the first five, `…`, the last
/// two): a hostile chain must not make a long line.
fn show_chain(names: &[String]) -> String {
    if names.len() <= 8 {
        return names.join(" → ");
    }
    let mut shown: Vec<&str> = names[..5].iter().map(String::as_str).collect();
    shown.push("…");
    shown.extend(names[names.len() - 2..].iter().map(String::as_str));
    shown.join(" → ")
}

/// A lookup that ran out of time (hickory's own timeout or the validation budget).
fn is_timeout(e: &NetError) -> bool {
    matches!(e, NetError::Timeout)
}

/// Addresses with the DNSSEC proof of their RRset.
type Proved = (Vec<IpAddr>, Option<DnsProof>);

impl Resolver {
    /// One A or AAAA lookup; an empty answer (even an `Ok` holding only a CNAME chain) is
    /// "no records". The name is passed as given so the system search list applies to short names.
    async fn lookup_ips(
        &self,
        r: &Backend,
        name: &str,
        rtype: RecordType,
    ) -> Result<(Proved, Vec<String>), NetError> {
        let (res, via) = self.lookup_following(r, name, rtype).await;
        let lookup = res?;
        let mut proof = None;
        let mut addrs = Vec::new();
        // The CNAME targets met on the way, in order: those asked one link at a time
        // ([`Self::lookup_following`]), then those hickory followed inside the last answer.
        let mut aliases = via.names;
        for rec in owned_answers(&lookup) {
            let ip = match &rec.data {
                RData::A(a) if rtype == RecordType::A => IpAddr::V4(a.0),
                RData::AAAA(a) if rtype == RecordType::AAAA => IpAddr::V6(a.0),
                RData::CNAME(c) => {
                    aliases.push(bare(&c.0));
                    continue;
                }
                _ => continue,
            };
            self.note_proof(&mut proof, rec.proof);
            addrs.push(ip);
        }
        // An address reached through an alias is only as secure as the alias (RFC 7672 §2.2.2).
        if !addrs.is_empty() {
            fold(&mut proof, self.chain_proof(&lookup));
            fold(&mut proof, via.proof);
        }
        Ok(((addrs, proof), aliases))
    }

    /// `name`/`rtype` asked of `r`; validating with hickory, an answer that failed otherwise
    /// than by a denial or a timeout is asked again at the end of the name's CNAME chain, one
    /// link at a time. hickory 0.26 checks the NSEC proof of a NODATA or NXDOMAIN reached
    /// through a CNAME against the alias instead of the target and calls it bogus, so an alias
    /// of a host without AAAA (or A), or a TLSA alias to a name that does not exist (RFC 7671
    /// §7), would fail; asked at the target, the denial is the target's own and validates
    /// (RFC 1034 §3.6.2: the alias's answer is the target's). Each CNAME RRset asked for is
    /// validated on its own; its proof is in the returned [`Via`], which callers fold into the
    /// answer's (RFC 4035 §5: every link counts). Anything the target says, a failure
    /// included, stands; an alias that cannot be read leaves the first failure as it was.
    async fn lookup_following(
        &self,
        r: &Backend,
        name: &str,
        rtype: RecordType,
    ) -> (Result<hickory_resolver::lookup::Lookup, NetError>, Via) {
        let mut via = Via::default();
        let mut res = self.ask(r, name, rtype).await;
        if !self.validating || !matches!(r, Backend::Hickory(..)) || rtype == RecordType::CNAME {
            return (res, via);
        }
        let mut at = name.to_string();
        for _ in 0..MAX_CNAME_LINKS {
            match &res {
                // Without a chain of trust, asking the alias would only spend another budget.
                Err(e)
                    if !e.is_nx_domain()
                        && !e.is_no_records_found()
                        && !is_timeout(e)
                        && !own_bogus(e).is_some_and(|o| o.no_chain) => {}
                _ => break,
            }
            let Ok(alias) = self.ask(r, &at, RecordType::CNAME).await else {
                break;
            };
            let Some((target, proof)) =
                owned_answers(&alias)
                    .into_iter()
                    .find_map(|rec| match &rec.data {
                        RData::CNAME(c) => Some((c.0.to_ascii(), rec.proof)),
                        _ => None,
                    })
            else {
                break;
            };
            let bare = target.trim_end_matches('.').to_string();
            if bare.eq_ignore_ascii_case(at.trim_end_matches('.'))
                || via.names.iter().any(|n| n.eq_ignore_ascii_case(&bare))
            {
                break; // a loop: the failure stands
            }
            fold(&mut via.proof, Some(DnsProof::from_hickory(proof)));
            via.names.push(bare);
            res = self.ask(r, &target, rtype).await;
            at = target;
        }
        (res, via)
    }

    /// `name` does not exist: the error `at` makes of the name where its CNAME chain ends,
    /// said of the alias when `name` is one ([`DnsError::DeadEndAlias`]: an NXDOMAIN answer
    /// carries the CNAME records that led to it, but resolvers drop them with the answer).
    /// A walk that cannot be completed leaves the plain error.
    async fn dead_end(
        &self,
        r: &Backend,
        name: &str,
        at: impl FnOnce(String) -> DnsError,
    ) -> DnsError {
        let chain = self.chain_followed(r, name, &[]).await.unwrap_or_default();
        dead_end_alias_error(name, chain, at)
    }

    /// Whether an answer of `name` that holds no records of `rtypes` may be taken as "none":
    /// an error when `name` is a CNAME whose chain was not followed to its end. A resolver
    /// follows a chain only so far (hickory gives up after eight links and reports "no
    /// records", an authoritative-only server or a stub does not follow it at all), and the
    /// records of an alias are those of its target (RFC 1034 §3.6.2), so an empty answer is
    /// only a statement about the chain's end. The chain is walked here one CNAME question at
    /// a time, at most [`MAX_CHAIN_WALK`] links, and its end asked again: records there, or a
    /// chain too long to walk, mean the first answer was no answer. A name without a CNAME,
    /// or a chain whose end has no such records either, is a real "none". A CNAME question
    /// that fails ends the walk where it is (nothing more is known). The CNAME targets
    /// walked, in order, are returned (empty: `name` is no alias).
    async fn chain_followed(
        &self,
        r: &Backend,
        name: &str,
        rtypes: &[RecordType],
    ) -> Result<Vec<String>, DnsError> {
        let start = name.trim_end_matches('.').to_string();
        let mut chain = vec![start.clone()];
        loop {
            let at = chain.last().cloned().unwrap_or_default();
            let Ok(alias) = self.ask(r, &fqdn(&at), RecordType::CNAME).await else {
                break;
            };
            let Some(target) = owned_answers(&alias)
                .into_iter()
                .find_map(|rec| match &rec.data {
                    RData::CNAME(c) => Some(bare(&c.0)),
                    _ => None,
                })
            else {
                break;
            };
            let seen = chain.iter().any(|n| n.eq_ignore_ascii_case(&target));
            chain.push(target);
            if seen {
                // A name met twice: the chain never ends (RFC 1034 §3.6.2 forbids the loop).
                return Err(DnsError::Failed {
                    name: start,
                    reason: format!("{CNAME_LOOP}: {}", show_chain(&chain)),
                    kind: FailKind::CnameLoop,
                });
            }
            if chain.len() > MAX_CHAIN_WALK + 1 {
                return Err(DnsError::Failed {
                    name: start,
                    reason: format!(
                        "its CNAME chain is longer than {MAX_CHAIN_WALK} links ({}): not \
                         followed to its end, so its records are unknown",
                        show_chain(&chain)
                    ),
                    kind: FailKind::Other,
                });
            }
        }
        let links = chain.len() - 1;
        if links == 0 {
            return Ok(Vec::new());
        }
        let end = chain.last().cloned().unwrap_or_default();
        for &rtype in rtypes {
            let Ok(there) = self.ask(r, &fqdn(&end), rtype).await else {
                continue;
            };
            if owned_answers(&there)
                .iter()
                .any(|rec| rec.data.record_type() == rtype)
            {
                return Err(DnsError::Failed {
                    name: start,
                    reason: format!(
                        "its CNAME chain was not followed to its end ({links} link{}: {}), \
                         where {end} has {rtype} records",
                        plural_s(links),
                        show_chain(&chain)
                    ),
                    kind: FailKind::Other,
                });
            }
        }
        chain.remove(0);
        Ok(chain)
    }

    async fn single(&self, r: &Backend, name: &str, rtype: RecordType) -> Result<Noted, DnsError> {
        let got = self.lookup_ips(r, name, rtype).await;
        let aliases = got.as_ref().map(|(_, a)| a.clone()).unwrap_or_default();
        let got = match single_result(name, rtype, got.map(|(p, _)| p), &self.waited()) {
            Err(DnsError::NoAddress { family, .. }) => {
                let chain = self.chain_followed(r, name, &[rtype]).await?;
                Err(dead_end_alias_error(name, chain, |end| {
                    DnsError::NoAddress { name: end, family }
                }))
            }
            Err(DnsError::NxDomain(_)) => Err(self.dead_end(r, name, DnsError::NxDomain).await),
            got => got,
        };
        got.map(|(list, proof)| Noted {
            list,
            proof,
            dropped: None,
            aliases,
        })
    }

    /// Why `name` has no records of `rtypes` although a lookup said "none", if its CNAME
    /// chain is the reason: a loop, or a chain not followed to its end (see
    /// [`Self::chain_followed`]). `ehlo check` asks it before it reports a host without
    /// addresses.
    pub(crate) async fn chain_trouble(
        &self,
        name: &str,
        rtypes: &[RecordType],
    ) -> Result<(), DnsError> {
        let name = name.trim().trim_end_matches('.');
        if name.is_empty() || parse_ip_literal(name).is_some() || is_localhost(name) {
            return Ok(());
        }
        let r = self.resolver(name)?;
        self.chain_followed(r, name, rtypes).await.map(drop)
    }
}

/// Whether a "no records" answer for `asked` may have come through a CNAME chain, so that
/// [`Resolver::chain_followed`] must check the chain. It need not when the error is the
/// server's own empty answer to `asked`: its question is `asked` (hickory asks each CNAME
/// target anew, RFC 1034 §3.6.2, and reports the question where it stopped) and it carries the
/// authority section of a negative answer (the zone's SOA, RFC 2308 §3, or a referral's NS),
/// which hickory's "no records" on giving up a chain (eight links, or a loop back to `asked`)
/// never does. Such an answer held no CNAME, and a server answering for an alias puts the
/// CNAME in the answer (RFC 1034 §4.3.2 step 3a, RFC 2308 §2.2): `asked` is no alias and its
/// empty answer is final, without a CNAME question of its own. A bare empty answer with no
/// authority section proves nothing, and the chain is checked as before.
fn answered_through_alias(e: &NetError, asked: &str) -> bool {
    use hickory_resolver::net::{DnsError as HDnsError, NoRecords};
    match e {
        NetError::Dns(HDnsError::NoRecordsFound(NoRecords {
            query, authorities, ..
        })) => {
            !(bare(query.name()).eq_ignore_ascii_case(asked.trim_end_matches('.'))
                && authorities.as_ref().is_some_and(|a| !a.is_empty()))
        }
        // Not a "no records" answer: nothing says the name is no alias.
        _ => true,
    }
}

/// What is wrong with an MX exchange that is an alias: RFC 2181 §10.3 wants the MX to name
/// the host itself ("MUST NOT" point to an alias), since the alias's name is not the host's.
/// The one wording of `ehlo check`'s `mx.target` and of the send, which follows the alias as
/// Postfix and Exim do.
pub(crate) fn mx_alias_problem(host: &str, aliases: &[String]) -> String {
    format!(
        "{}: an MX must name the host itself (RFC 2181 §10.3)",
        alias_named(host, aliases)
    )
}

/// A dangling alias: `host` is a CNAME whose chain ends at a name that `end_says` something of
/// ("gone.example does not exist (NXDOMAIN)"). The one wording of `ehlo check`'s `mx.target`
/// and of the send ([`DnsError::DeadEndAlias`]): the name in the MX record exists, its
/// target does not, and the admin must be pointed at the CNAME.
pub(crate) fn dead_end_alias(host: &str, chain: &[String], end_says: &str) -> String {
    format!("{}, and {end_says}", alias_named(host, chain))
}

/// `at(name)`, or, when `name` is an alias (`chain` its CNAME targets), the same said of the
/// chain's end as a [`DnsError::DeadEndAlias`] of `name`.
fn dead_end_alias_error(
    name: &str,
    chain: Vec<String>,
    at: impl FnOnce(String) -> DnsError,
) -> DnsError {
    match chain.last() {
        None => at(name.to_string()),
        Some(end) => DnsError::DeadEndAlias {
            name: name.to_string(),
            end: Box::new(at(end.clone())),
            chain,
        },
    }
}

/// `host is a CNAME (→ a → b)`, the chain shown as [`show_chain`] bounds it.
fn alias_named(host: &str, chain: &[String]) -> String {
    format!("{host} is a CNAME (→ {})", show_chain(chain))
}

/// The addresses of a host as [`Resolver::addresses_noted`] found them.
#[derive(Debug, Default)]
pub(crate) struct Noted {
    /// The addresses (AAAA first).
    pub(crate) list: Vec<IpAddr>,
    /// Their DNSSEC proof (`None` unless validating).
    proof: Option<DnsProof>,
    /// Why one family was left out although the host may have it (a failed lookup).
    dropped: Option<String>,
    /// The CNAME targets the name led to, in order, without trailing dots (empty: no alias).
    pub(crate) aliases: Vec<String>,
}

fn single_result(
    name: &str,
    rtype: RecordType,
    res: Result<Proved, NetError>,
    waited: &Waited<'_>,
) -> Result<Proved, DnsError> {
    let label = if rtype == RecordType::A { "A" } else { "AAAA" };
    match res {
        Ok(v) if !v.0.is_empty() => Ok(v),
        Ok(_) => Err(DnsError::NoAddress {
            name: name.to_string(),
            family: label,
        }),
        Err(e) if e.is_nx_domain() => Err(DnsError::NxDomain(name.to_string())),
        Err(e) if e.is_no_records_found() => Err(DnsError::NoAddress {
            name: name.to_string(),
            family: label,
        }),
        Err(e) => Err(failed(name, &e, waited)),
    }
}

#[cfg(test)]
mod tests {
    /// The Unicode full stops separate labels (RFC 3490 §3.1): `bücher。test` is asked as
    /// `xn--bcher-kva.test`, never as one label holding a dot.
    #[test]
    fn unicode_full_stops_separate_labels() {
        for dot in UNICODE_DOTS {
            let name = format!("b\u{fc}cher{dot}test");
            assert_eq!(ascii_host(&name), "xn--bcher-kva.test", "{dot}");
            let q = query_name(&name).unwrap();
            assert_eq!(q.num_labels(), 2, "{dot}");
            assert_eq!(bare(&q), "xn--bcher-kva.test", "{dot}");
            assert_eq!(ascii_host(&format!("example{dot}com")), "example.com");
        }
    }

    /// A label starting `xn--` whose Punycode decodes to no valid U-label is named; a valid
    /// A-label in any case, and names without one, are not.
    #[test]
    fn malformed_a_labels_are_named() {
        for good in [
            "xn--bcher-kva.example",
            "XN--BCHER-KVA.example",
            "mx_1.example",
            "example.com",
            "b\u{fc}cher.example",
        ] {
            assert_eq!(bad_a_label(good), None, "{good}");
        }
        for (bad, label) in [
            ("xn--a.example", "xn--a"),
            ("mx.xn--.example", "xn--"),
            ("XN--A.example", "XN--A"),
            ("xn--abc-.example", "xn--abc-"),
        ] {
            let got = bad_a_label(bad).unwrap_or_default();
            assert!(
                got.contains(&format!("'{label}' is no valid A-label")),
                "{bad}: {got}"
            );
        }
    }

    use super::*;

    /// RFC 7672 §2.1.1: a TLSA answer proved bogus or indeterminate is a failed lookup (a
    /// DNSSEC failure, senders defer), never an answer the send reads as "no DANE" and
    /// verifies by the CA store; secure, insecure and unvalidated answers pass through.
    #[test]
    fn an_unsettled_tlsa_answer_is_a_failed_lookup() {
        let answer = |proof| TlsaAnswer {
            base: "mx.example.test".into(),
            owner: "_25._tcp.mx.example.test".into(),
            records: Vec::new(),
            proof,
        };
        for p in [DnsProof::Bogus, DnsProof::Indeterminate] {
            let e = settled(answer(Some(p))).unwrap_err();
            assert!(e.is_bogus(), "{e}");
            let words = e.to_string();
            assert!(
                words.contains("_25._tcp.mx.example.test") && words.contains(p.as_str()),
                "{words}"
            );
        }
        for p in [Some(DnsProof::Secure), Some(DnsProof::Insecure), None] {
            assert_eq!(settled(answer(p)).ok(), Some(answer(p)));
        }
    }

    /// A TXT record in several strings is one record, its strings joined with nothing between
    /// them (RFC 8460 §3, RFC 8461 §3.1), as bytes: a UTF-8 character split between two strings
    /// used to be read as two U+FFFD, each string decoded alone.
    #[test]
    fn a_txt_record_in_several_strings_is_joined_as_bytes() {
        use hickory_resolver::proto::rr::rdata::TXT;
        let set = RrSet {
            nxdomain: false,
            records: vec![
                RData::TXT(TXT::from_bytes(vec![
                    b"v=TLSRPTv1; rua=mailto:a@x.te",
                    b"st; note=caf\xc3",
                    b"\xa9",
                ])),
                RData::TXT(TXT::from_bytes(vec![b"v=spf1 ", b"-all"])),
            ],
            cnames: Vec::new(),
            ttl: None,
            proof: None,
        };
        assert_eq!(
            set.txt_strings(),
            [
                "v=TLSRPTv1; rua=mailto:a@x.test; note=caf\u{e9}",
                "v=spf1 -all"
            ]
        );
    }

    /// The resolver description of a test's timeouts.
    fn waited(verdict: bool) -> Waited<'static> {
        Waited {
            server: "127.0.0.1:53",
            within: Duration::from_secs(5),
            verdict,
        }
    }
    use crate::net::testutil::{FakeDns, RecordSpec};

    /// A byte escaped in a name from DNS is written `\DDD` in decimal (RFC 1035 §5.1), as the
    /// zone file has it: a space was `\040` (hickory's octal), UTF-8 é `\303\251`.
    #[test]
    fn a_name_from_dns_escapes_bytes_in_decimal() {
        let name = |labels: &[&[u8]]| Name::from_labels(labels.to_vec()).unwrap();
        assert_eq!(bare(&name(&[b"mx sp", b"d", b"test"])), "mx\\032sp.d.test");
        assert_eq!(bare(&name(&[b"m\xc3\xa9x", b"test"])), "m\\195\\169x.test");
        assert_eq!(bare(&name(&[b"nul\0", b"\x7f"])), "nul\\000.\\127");
        // Single escapes stay as they are, an escaped backslash before digits too.
        assert_eq!(bare(&name(&[b"mx.dot", b"test"])), "mx\\.dot.test");
        assert_eq!(bare(&name(&[b"a\\123", b"test"])), "a\\\\123.test");
        assert_eq!(bare(&name(&[b"mx-1", b"d", b"test"])), "mx-1.d.test");
    }

    /// A lookup failed by an error RCODE names it (RFC 1035 §4.1.1) for `check`'s evidence;
    /// other failures have none.
    #[test]
    fn an_error_rcode_is_named() {
        use hickory_resolver::net::DnsError as HDnsError;
        let of = |rc| {
            failed(
                "x.test",
                &NetError::Dns(HDnsError::ResponseCode(rc)),
                &waited(false),
            )
        };
        assert_eq!(
            of(ResponseCode::ServFail).rcode().as_deref(),
            Some("SERVFAIL")
        );
        assert_eq!(
            of(ResponseCode::Refused).rcode().as_deref(),
            Some("REFUSED")
        );
        assert_eq!(of(ResponseCode::NotImp).rcode().as_deref(), Some("NOTIMP"));
        assert_eq!(of(ResponseCode::YXDomain).rcode().as_deref(), Some("6"));
        assert_eq!(
            DnsError::NxDomain("x.test".into()).rcode().as_deref(),
            Some("NXDOMAIN")
        );
        assert_eq!(
            failed("x.test", &NetError::Timeout, &waited(false)).rcode(),
            None
        );
        let other = failed(
            "x.test",
            &NetError::from("no connections available"),
            &waited(false),
        );
        assert_eq!(other.rcode(), None);
        // The words shown are the same as before the code became a field of its own.
        assert_eq!(
            of(ResponseCode::ServFail).to_string(),
            "DNS lookup of x.test failed: the DNS server answered SERVFAIL: it could not get an \
             answer (the domain's name servers failed or did not answer, or a validating \
             resolver found the answer bogus)"
        );
        assert_eq!(
            of(ResponseCode::FormErr).to_string(),
            "DNS lookup of x.test failed: the DNS server answered FORMERR"
        );
        assert_eq!(
            of(ResponseCode::YXDomain).to_string(),
            "DNS lookup of x.test failed: the DNS server answered 6 (Name should not exist)"
        );
    }

    /// The RCODE is the one the server answered, never read back from words: a failure whose
    /// reason happens to read like an answered RCODE (a transport error's text) has none.
    #[test]
    fn an_rcode_is_not_read_from_the_reason() {
        let lookalike = failed(
            "x.test",
            &NetError::from("the DNS server answered REFUSED: by a proxy"),
            &waited(false),
        );
        assert_eq!(
            lookalike.to_string(),
            "DNS lookup of x.test failed: the DNS server answered REFUSED: by a proxy"
        );
        assert_eq!(lookalike.rcode(), None);
    }

    /// A bogus answer, a CNAME loop and a reply that never came are known by the kind set where
    /// the error was made: a reason that merely contains the words (a transport error's text,
    /// a name that reads like them) is none of them, and the words shown are unchanged.
    #[test]
    fn a_failure_kind_is_not_read_from_the_reason() {
        let lookalike =
            |words: &str| failed("x.test", &NetError::from(words.to_string()), &waited(false));
        for words in [
            "DNSSEC validation failed: said a proxy",
            "CNAME loop: a → b → a",
            "io error: connection refused",
            "protocol error: by a proxy",
        ] {
            let e = lookalike(words);
            assert_eq!(
                e.to_string(),
                format!("DNS lookup of x.test failed: {words}")
            );
            assert!(
                !e.is_bogus() && !e.is_cname_loop() && !e.is_unanswered(),
                "{words}: {e:?}"
            );
        }
        // The real ones, each with its words as before.
        use hickory_resolver::net::DnsError as HDnsError;
        let bogus = failed(
            "x.test",
            &NetError::Dns(HDnsError::DnssecBogus),
            &waited(true),
        );
        assert!(bogus.is_bogus() && !bogus.is_unanswered(), "{bogus:?}");
        assert_eq!(
            bogus.to_string(),
            "DNS lookup of x.test failed: DNS error: DNSSEC validation failed"
        );
        let own = failed(
            "x.test",
            &OwnBogus::error("DNSSEC validation failed: the resolver answered SERVFAIL".into()),
            &waited(false),
        );
        assert!(own.is_bogus() && !own.is_unanswered(), "{own:?}");
        assert_eq!(
            own.to_string(),
            "DNS lookup of x.test failed: DNSSEC validation failed: the resolver answered SERVFAIL"
        );
        let io = NetError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let refused = failed("x.test", &io, &waited(false));
        assert!(
            refused.is_unanswered() && !refused.is_bogus(),
            "{refused:?}"
        );
        assert!(
            refused
                .to_string()
                .starts_with("DNS lookup of x.test failed: io error: ")
        );
    }

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
            ("mx.mixed-null.test", RecordSpec::A(v4("192.0.2.8"))),
            ("null10.test", RecordSpec::Mx(10, ".".into())),
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
            ..DnsOptions::default()
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

    fn mxs(list: &[(u16, &str)]) -> Vec<Mx> {
        list.iter()
            .map(|(p, h)| Mx {
                preference: *p,
                host: h.to_string(),
            })
            .collect()
    }

    /// RFC 5321 §5.1: equal preferences in random order, the preference order kept; the same
    /// seed gives the same order, and over seeds every order of a group comes up.
    #[test]
    fn equal_preferences_are_shuffled_within_their_group_only() {
        let sorted = mxs(&[(5, "a"), (10, "b"), (10, "c"), (10, "d"), (20, "e")]);
        let mut orders = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let mut list = sorted.clone();
            assert!(shuffle_equal_preferences(&mut list, &mut Rng::new(seed)));
            let prefs: Vec<u16> = list.iter().map(|m| m.preference).collect();
            assert_eq!(prefs, [5, 10, 10, 10, 20]);
            assert_eq!((list[0].host.as_str(), list[4].host.as_str()), ("a", "e"));
            let mut again = sorted.clone();
            shuffle_equal_preferences(&mut again, &mut Rng::new(seed));
            assert_eq!(list, again, "seed {seed}");
            orders.insert(
                list[1..4]
                    .iter()
                    .map(|m| m.host.clone())
                    .collect::<String>(),
            );
        }
        assert_eq!(orders.len(), 6, "{orders:?}");
        // Nothing to shuffle: no group of two, the list untouched.
        let mut single = mxs(&[(10, "a"), (20, "b")]);
        assert!(!shuffle_equal_preferences(&mut single, &mut Rng::new(1)));
        assert_eq!(single, mxs(&[(10, "a"), (20, "b")]));
    }

    #[test]
    fn ip_address_exchanges_repeats_and_the_cap() {
        let run = |list: &[(u16, &str)]| {
            let mut events = Vec::new();
            let got = usable_mail_hosts("d.test", mxs(list), &mut |e| events.push(e));
            let text: Vec<String> = events
                .iter()
                .map(|e| match e {
                    Event::Info { message } => format!("info {}", message),
                    Event::Warning { message } => format!("warning {}", message),
                    other => format!("{other:?}"),
                })
                .collect();
            (got, text)
        };
        let (got, text) = run(&[(10, "192.0.2.1"), (20, "mx.d.test"), (30, "2001:db8::1")]);
        assert_eq!(got.unwrap(), ["mx.d.test"]);
        assert_eq!(
            text,
            [
                "warning MX 10 192.0.2.1 of d.test is an IP address, not a host name (RFC 1035 §3.3.9): skipped",
                "warning MX 30 2001:db8::1 of d.test is an IP address, not a host name (RFC 1035 §3.3.9): skipped",
            ]
        );
        // Only IP addresses: no usable MX, and no implicit MX either.
        let (got, _) = run(&[(10, "192.0.2.1")]);
        let e = got.unwrap_err();
        assert!(matches!(e, DnsError::NoUsableMx { .. }));
        assert_eq!(
            e.to_string(),
            "d.test has no usable MX: 192.0.2.1 is an IP address, not a host name (RFC 1035 §3.3.9)"
        );
        // An exchange that is no host name is skipped the same way: it was looked up, and the
        // lookup failed on the name ("Malformed label: mx sp"); alone, no usable MX.
        let (got, text) = run(&[(10, "mx\\032sp.d.test"), (20, "mx.d.test")]);
        assert_eq!(got.unwrap(), ["mx.d.test"]);
        assert_eq!(
            text,
            [
                "warning MX 10 mx\\032sp.d.test of d.test is not a host name (a label holds \
              characters other than letters, digits and hyphens, RFC 5321 §2.3.5): skipped"
            ]
        );
        let e = run(&[(10, "\\[192.0.2.1\\]")]).0.unwrap_err();
        assert_eq!(
            e.to_string(),
            "d.test has no usable MX: \\[192.0.2.1\\] is not a host name (RFC 5321 §2.3.5)"
        );
        // A host listed again (any case) is tried once, at its first place; one line says so.
        let (got, text) = run(&[
            (0, "a.d.test"),
            (1, "b.d.test"),
            (2, "A.d.test"),
            (3, "a.d.test"),
        ]);
        assert_eq!(got.unwrap(), ["a.d.test", "b.d.test"]);
        assert_eq!(
            text,
            ["info MX hosts of d.test listed more than once are tried once: a.d.test (3 records)"]
        );
        // More than the cap: the first ones in order, and a warning.
        let many: Vec<(u16, String)> = (0..13).map(|i| (i, format!("m{i}.d.test"))).collect();
        let many: Vec<(u16, &str)> = many.iter().map(|(p, h)| (*p, h.as_str())).collect();
        let (got, text) = run(&many);
        let got = got.unwrap();
        assert_eq!(got.len(), MAX_MX_HOSTS);
        assert_eq!(
            got.last().unwrap(),
            &format!("m{}.d.test", MAX_MX_HOSTS - 1)
        );
        assert_eq!(
            text,
            [format!(
                "warning d.test has 13 MX hosts: only the first {MAX_MX_HOSTS} are tried"
            )]
        );
    }

    /// RFC 7505 §3: a null MX is the single record `MX 0 .`; a root exchange otherwise is a
    /// broken RRset, named with its remedy.
    #[test]
    fn only_a_single_mx_0_root_is_a_null_mx() {
        assert_eq!(root_mx(&[(0, true)]), RootMx::NullMx);
        assert_eq!(root_mx(&[(10, false), (20, false)]), RootMx::Absent);
        assert_eq!(root_mx(&[]), RootMx::Absent);
        let broken = |r: RootMx| match r {
            RootMx::Broken(why) => why,
            other => panic!("{other:?}"),
        };
        let why = broken(root_mx(&[(10, true)]));
        assert!(why.starts_with("MX 10 . is not a null MX"), "{why}");
        assert!(
            why.contains("RFC 7505 §3") && why.contains("`MX 0 .`"),
            "{why}"
        );
        let why = broken(root_mx(&[(0, true), (10, false), (20, false)]));
        assert_eq!(
            why,
            "MX 0 . beside 2 other MX records: a null MX must be the only MX record (RFC 7505 \
             §3); remove the `.` record to receive mail, or publish only `MX 0 .` to refuse it"
        );
        let why = broken(root_mx(&[(0, true), (5, true), (10, false)]));
        assert!(
            why.starts_with("MX 0 ., MX 5 . beside 1 other MX record:"),
            "{why}"
        );
        assert!(why.contains("remove the `.` records"), "{why}");
        // Only root exchanges, more than one: no other records to speak of.
        for several in [&[(0, true), (0, true)][..], &[(0, true), (10, true)]] {
            let why = broken(root_mx(several));
            assert!(
                why.contains(": a null MX is a single MX record (RFC 7505 §3)"),
                "{why}"
            );
            assert!(!why.contains("beside"), "{why}");
        }
    }

    /// The send obeys only a real null MX: `MX 10 .` is no host and no null MX either, and a
    /// null MX beside a real MX leaves the real one to try, with a warning.
    #[tokio::test]
    async fn the_send_tells_a_null_mx_from_a_broken_root_exchange() {
        let r = resolver().await;
        let mut events = Vec::new();
        let mut rng = Rng::new(1);
        let got = r
            .mail_hosts("null.test", &mut rng, &mut |e| events.push(e))
            .await;
        assert!(matches!(got, Err(DnsError::NullMx(_))), "{got:?}");
        let got = r
            .mail_hosts("null10.test", &mut rng, &mut |e| events.push(e))
            .await;
        match got {
            Err(e @ DnsError::NoUsableMx { .. }) => {
                assert!(e.to_string().contains("MX 10 . is not a null MX"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        events.clear();
        let got = r
            .mail_hosts("mixed-null.test", &mut rng, &mut |e| events.push(e))
            .await;
        assert_eq!(got.unwrap(), ["mx.mixed-null.test"]);
        assert!(
            events.iter().any(|e| matches!(e, Event::Warning { message }
                if message.contains("MX 0 . beside 1 other MX record:")
                    && message.contains("RFC 7505 §3"))),
            "{events:?}"
        );
    }

    #[tokio::test]
    async fn implicit_null_and_nxdomain() {
        let r = resolver().await;
        assert_eq!(r.mx("plain.test").await.unwrap(), MxAnswer::Implicit);
        assert!(matches!(r.mx("null.test").await, Err(DnsError::NullMx(d)) if d == "null.test"));
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
        // swaks's decimal IPv4 literal.
        assert_eq!(
            parse_ip_literal("#16909060"),
            Some(IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)))
        );
        assert_eq!(parse_ip_literal("#+1"), None);
        assert_eq!(parse_ip_literal("#4294967296"), None);
        assert_eq!(parse_ip_literal("[192.0.2.1"), None);
        assert_eq!(parse_ip_literal("example.com"), None);
        assert_eq!(parse_ip_literal("[]"), None);
    }

    /// The signed test zone: one name per case a validator must tell apart.
    fn signed_zone() -> crate::net::testutil::SignedDns {
        use crate::net::testutil::{SignedDns, Signing};
        use hickory_resolver::proto::rr::rdata::A;
        let a = |s: &str| RData::A(A(v4(s)));
        SignedDns::start(
            "dnssec.test",
            vec![
                ("good.dnssec.test", a("192.0.2.1"), Signing::Valid),
                ("forged.dnssec.test", a("192.0.2.2"), Signing::Tampered),
                ("stale.dnssec.test", a("192.0.2.3"), Signing::Expired),
                ("bare.dnssec.test", a("192.0.2.4"), Signing::Unsigned),
            ],
        )
    }

    fn validating(zone: &crate::net::testutil::SignedDns, dir: &tempfile::TempDir) -> Resolver {
        let path = dir.path().join("anchor.key");
        std::fs::write(&path, format!("{}\n", zone.anchor)).unwrap();
        Resolver::new(
            &DnsOptions {
                server: Some(zone.addr),
                timeout: Duration::from_secs(2),
                attempts: 0,
                ..DnsOptions::default()
            }
            .with_dnssec(DnssecMode::Validate, Some(path)),
        )
        .unwrap()
    }

    /// How hickory 0.26 reports DNSSEC outcomes, pinned before anything builds verdicts on them:
    /// a valid chain to the anchor is an answer with proof `Secure`; a signature that does not
    /// verify, an expired one, or a missing RRSIG in a signed zone is not an answer at all but a
    /// lookup error ("DNSSEC validation failed"-style), which `rrset` turns into `Failed` — the
    /// SERVFAIL a validating resolver would give (RFC 4035 §5.5).
    #[tokio::test]
    async fn dnssec_secure_and_bogus_as_hickory_reports_them() {
        let zone = signed_zone();
        let dir = tempfile::tempdir().unwrap();
        let r = validating(&zone, &dir);
        let good = r.rrset("good.dnssec.test", RecordType::A).await.unwrap();
        assert_eq!(good.proof, Some(DnsProof::Secure), "{good:?}");
        assert_eq!(good.records.len(), 1);
        for bad in ["forged", "stale", "bare"] {
            let name = format!("{bad}.dnssec.test");
            let got = r.rrset(&name, RecordType::A).await;
            assert!(
                matches!(&got, Err(DnsError::Failed { reason, .. })
                    if reason.contains("DNSSEC validation failed")),
                "{bad}: {got:?}"
            );
        }
        // The send's path: the answer event carries the proof, and a bogus name fails.
        let mut events = Vec::new();
        let ips = r
            .host_addresses("good.dnssec.test", Family::V4, &mut |e| events.push(e))
            .await
            .unwrap();
        assert_eq!(ips, [IpAddr::V4(v4("192.0.2.1"))]);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::DnsAnswer { proof: Some(p), .. } if p == "secure")),
            "{events:?}"
        );
        assert!(matches!(
            r.addresses("forged.dnssec.test", Family::V4).await,
            Err(DnsError::Failed { .. })
        ));
    }

    /// The same zone without validation: answers carry no proof, even tampered ones get through
    /// (the data is whatever the server sent), and no DNSKEY is ever asked for.
    #[tokio::test]
    async fn dnssec_off_takes_answers_as_they_come() {
        let zone = signed_zone();
        let r = Resolver::new(&DnsOptions {
            server: Some(zone.addr),
            timeout: Duration::from_secs(2),
            attempts: 0,
            ..DnsOptions::default()
        })
        .unwrap();
        let forged = r.rrset("forged.dnssec.test", RecordType::A).await.unwrap();
        assert_eq!(forged.proof, None);
        let mut events = Vec::new();
        r.host_addresses("good.dnssec.test", Family::V4, &mut |e| events.push(e))
            .await
            .unwrap();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::DnsAnswer { proof: None, .. })),
            "{events:?}"
        );
        assert_eq!(
            forged.records,
            [RData::A(hickory_resolver::proto::rr::rdata::A(v4(
                "203.0.113.66"
            )))]
        );
    }

    /// A key that is not the anchor: the zone's own answers are bogus, never secure.
    #[tokio::test]
    async fn dnssec_wrong_anchor_is_never_secure() {
        let zone = signed_zone();
        let other = signed_zone();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.key");
        std::fs::write(&path, format!("{}\n", other.anchor)).unwrap();
        let r = Resolver::new(
            &DnsOptions {
                server: Some(zone.addr),
                timeout: Duration::from_secs(2),
                attempts: 0,
                ..DnsOptions::default()
            }
            .with_dnssec(DnssecMode::Validate, Some(path)),
        )
        .unwrap();
        let got = r.rrset("good.dnssec.test", RecordType::A).await;
        assert!(
            matches!(&got, Err(DnsError::Failed { reason, .. })
                if reason.contains("DNSSEC validation failed")),
            "{got:?}"
        );
    }

    /// TLSA at `_25._tcp.<host>`, with the secure CNAME expansion tried first (RFC 7672
    /// §2.2.3); the proof comes with the records.
    #[tokio::test]
    async fn tlsa_lookup_with_secure_cname_expansion() {
        use crate::net::testutil::{SignedDns, Signing};
        use hickory_resolver::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
        use hickory_resolver::proto::rr::rdata::{A, CNAME, TLSA};
        let tlsa = |b: u8| {
            RData::TLSA(TLSA::new(
                CertUsage::DaneEe,
                Selector::Spki,
                Matching::Sha256,
                vec![b; 32],
            ))
        };
        let name = |s: &str| hickory_resolver::proto::rr::Name::from_ascii(s).unwrap();
        let zone = SignedDns::start(
            "dane.test",
            vec![
                ("mx.dane.test", RData::A(A(v4("127.0.0.1"))), Signing::Valid),
                ("_25._tcp.mx.dane.test", tlsa(0xaa), Signing::Valid),
                // An alias whose own name also has TLSA: the expansion's records win.
                (
                    "alias.dane.test",
                    RData::CNAME(CNAME(name("mx.dane.test."))),
                    Signing::Valid,
                ),
                ("_25._tcp.alias.dane.test", tlsa(0xbb), Signing::Valid),
                // An alias to a host without TLSA.
                (
                    "bare.dane.test",
                    RData::A(A(v4("127.0.0.2"))),
                    Signing::Valid,
                ),
                (
                    "other.dane.test",
                    RData::CNAME(CNAME(name("bare.dane.test."))),
                    Signing::Valid,
                ),
                ("_25._tcp.other.dane.test", tlsa(0xcc), Signing::Valid),
            ],
        );
        let dir = tempfile::tempdir().unwrap();
        let r = validating(&zone, &dir);

        let got = r.tlsa("mx.dane.test", 25).await.unwrap();
        assert_eq!(got.owner, "_25._tcp.mx.dane.test");
        assert_eq!(got.proof, Some(DnsProof::Secure));
        assert_eq!(got.records.len(), 1);
        assert_eq!(
            got.records[0].to_string(),
            format!("3 1 1 {}", "aa".repeat(32))
        );

        let got = r.tlsa("alias.dane.test", 25).await.unwrap();
        assert_eq!(got.base, "mx.dane.test", "{got:?}");
        assert_eq!(got.records[0].data, vec![0xaa; 32]);
        assert_eq!(got.proof, Some(DnsProof::Secure));

        // Absent TLSA names are proven absent by the zone's NSEC chain: a secure "no TLSA" (no
        // DANE for that host) rather than a failure.
        let got = r.tlsa("mx.dane.test", 587).await.unwrap();
        assert!(got.records.is_empty(), "{got:?}");
        assert_eq!(got.proof, Some(DnsProof::Secure), "{got:?}");
        // The expansion (bare.dane.test) has none, securely: the alias's own records count.
        let got = r.tlsa("other.dane.test", 25).await.unwrap();
        assert_eq!(got.base, "other.dane.test", "{got:?}");
        assert_eq!(got.records[0].data, vec![0xcc; 32]);
        assert_eq!(got.proof, Some(DnsProof::Secure));
    }

    /// A zone with an unsigned delegation `ins.alias.test` (no DS) whose names are aliases
    /// into the signed part, beside a signed alias and a host whose AAAA is forged.
    fn alias_zone() -> crate::net::testutil::SignedDns {
        use crate::net::testutil::{SignedDns, Signing};
        use hickory_resolver::proto::rr::Name;
        use hickory_resolver::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
        use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, MX, NS, TLSA};
        let name = |s: &str| Name::from_ascii(s).unwrap();
        let cname = |s: &str| RData::CNAME(CNAME(name(s)));
        SignedDns::start(
            "alias.test",
            vec![
                (
                    "mx.alias.test",
                    RData::A(A(v4("127.0.0.1"))),
                    Signing::Valid,
                ),
                (
                    "_25._tcp.mx.alias.test",
                    RData::TLSA(TLSA::new(
                        CertUsage::DaneEe,
                        Selector::Spki,
                        Matching::Sha256,
                        vec![0xaa; 32],
                    )),
                    Signing::Valid,
                ),
                (
                    "mail.alias.test",
                    RData::MX(MX::new(10, name("mx.alias.test."))),
                    Signing::Valid,
                ),
                ("sec.alias.test", cname("mx.alias.test."), Signing::Valid),
                (
                    "ins.alias.test",
                    RData::NS(NS(name("ns.ins.alias.test."))),
                    Signing::Unsigned,
                ),
                ("mx.ins.alias.test", cname("mx.alias.test."), Signing::Valid),
                (
                    "mail.ins.alias.test",
                    cname("mail.alias.test."),
                    Signing::Valid,
                ),
                (
                    "dual.alias.test",
                    RData::A(A(v4("192.0.2.5"))),
                    Signing::Valid,
                ),
                (
                    "dualias.alias.test",
                    cname("dual.alias.test."),
                    Signing::Valid,
                ),
                (
                    "dual.alias.test",
                    RData::AAAA(AAAA("2001:db8::5".parse().unwrap())),
                    Signing::Tampered,
                ),
                // An IPv6-only host whose A RRset is broken, behind a signed alias.
                (
                    "v6.alias.test",
                    RData::AAAA(AAAA("2001:db8::6".parse().unwrap())),
                    Signing::Valid,
                ),
                (
                    "v6.alias.test",
                    RData::A(A(v4("192.0.2.6"))),
                    Signing::Tampered,
                ),
                ("cn6.alias.test", cname("v6.alias.test."), Signing::Valid),
                (
                    "_25._tcp.v6.alias.test",
                    RData::TLSA(TLSA::new(
                        CertUsage::DaneEe,
                        Selector::Spki,
                        Matching::Sha256,
                        vec![0x66; 32],
                    )),
                    Signing::Valid,
                ),
                (
                    "tcnnx.alias.test",
                    RData::A(A(v4("127.0.0.1"))),
                    Signing::Valid,
                ),
                (
                    "_25._tcp.tcnnx.alias.test",
                    cname("_tlsa-missing.alias.test."),
                    Signing::Valid,
                ),
            ],
        )
    }

    /// Every CNAME link counts (RFC 4035 §5, RFC 7672 §2.2.1-2): a secure target reached
    /// through an alias in an unsigned zone is insecure, for addresses, MX and any RRset, and
    /// the TLSA lookup does not follow that expansion (RFC 7672 §2.2.3). A signed alias keeps
    /// its target secure.
    #[tokio::test]
    async fn dnssec_cname_from_an_unsigned_zone_is_insecure() {
        let zone = alias_zone();
        let dir = tempfile::tempdir().unwrap();
        let r = validating(&zone, &dir);
        let lo = IpAddr::V4(v4("127.0.0.1"));

        // The signed alias and its target: secure, the expansion is used for TLSA.
        for family in [Family::V4, Family::Any] {
            let (ips, proof) = r.addresses_proved("sec.alias.test", family).await.unwrap();
            assert_eq!(
                (ips, proof),
                (vec![lo], Some(DnsProof::Secure)),
                "{family:?}"
            );
        }
        let t = r.tlsa("sec.alias.test", 25).await.unwrap();
        assert_eq!(t.base, "mx.alias.test", "{t:?}");
        assert_eq!(t.proof, Some(DnsProof::Secure), "{t:?}");

        // hickory 0.26 calls a NODATA reached through a CNAME bogus (it looks for the alias's
        // NSEC, not the target's); every validated lookup asks the target itself then
        // (`lookup_following`): the target's denial, as secure as the chain.
        let nodata = r.rrset("sec.alias.test", RecordType::AAAA).await.unwrap();
        assert!(nodata.records.is_empty() && !nodata.nxdomain, "{nodata:?}");
        assert_eq!(nodata.cnames, ["mx.alias.test"]);
        assert_eq!(nodata.proof, Some(DnsProof::Secure), "{nodata:?}");
        let nodata = r
            .rrset("mx.ins.alias.test", RecordType::AAAA)
            .await
            .unwrap();
        assert_eq!(nodata.proof, Some(DnsProof::Insecure), "{nodata:?}");
        // No AAAA at the alias's target: said of the target, through the alias.
        let v6 = r.addresses_proved("sec.alias.test", Family::V6).await;
        assert!(
            matches!(&v6, Err(DnsError::DeadEndAlias { end, .. })
                if matches!(**end, DnsError::NoAddress { .. })),
            "{v6:?}"
        );
        assert_eq!(
            v6.unwrap_err().to_string(),
            "sec.alias.test is a CNAME (→ mx.alias.test), and mx.alias.test has no AAAA address"
        );
        // A TLSA alias to a name that does not exist (RFC 7671 §7): a secure NXDOMAIN at the
        // target, so no TLSA (secure denial) rather than a failed lookup.
        let set = r
            .rrset("_25._tcp.tcnnx.alias.test", RecordType::TLSA)
            .await
            .unwrap();
        assert!(set.nxdomain && set.records.is_empty(), "{set:?}");
        assert_eq!(set.cnames, ["_tlsa-missing.alias.test"]);
        assert_eq!(set.proof, Some(DnsProof::Secure), "{set:?}");
        let t = r.tlsa("tcnnx.alias.test", 25).await.unwrap();
        assert!(t.records.is_empty(), "{t:?}");
        assert_eq!(t.proof, Some(DnsProof::Secure), "{t:?}");
        // The expansion comes from whichever family answers: the broken A of an IPv6-only
        // target does not fail the TLSA lookup (its -6 send uses the AAAA only).
        let t = r.tlsa("cn6.alias.test", 25).await.unwrap();
        assert_eq!(t.base, "v6.alias.test", "{t:?}");
        assert_eq!(t.records.len(), 1, "{t:?}");
        assert_eq!(t.proof, Some(DnsProof::Secure), "{t:?}");
        let (ips, proof) = r
            .addresses_proved("cn6.alias.test", Family::V6)
            .await
            .unwrap();
        assert_eq!(ips.len(), 1);
        assert_eq!(proof, Some(DnsProof::Secure));

        // Through the unsigned alias: the same address, insecure.
        for family in [Family::V4, Family::Any] {
            let (ips, proof) = r
                .addresses_proved("mx.ins.alias.test", family)
                .await
                .unwrap();
            assert_eq!(ips, [lo], "{family:?}");
            assert_eq!(proof, Some(DnsProof::Insecure), "{family:?}");
            // The alias is named once, validated or not (the send's RFC 2181 §10.3 warning).
            let noted = r
                .host_addresses_noted("mx.ins.alias.test", family, &mut |_| {})
                .await
                .unwrap();
            assert_eq!(noted.aliases, ["mx.alias.test"], "{family:?}");
        }
        let mut events = Vec::new();
        r.host_addresses("mx.ins.alias.test", Family::V4, &mut |e| events.push(e))
            .await
            .unwrap();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::DnsAnswer { proof: Some(p), .. } if p == "insecure")),
            "{events:?}"
        );
        let set = r.rrset("mx.ins.alias.test", RecordType::A).await.unwrap();
        assert_eq!(set.cnames, ["mx.alias.test"]);
        assert_eq!(set.proof, Some(DnsProof::Insecure), "{set:?}");
        // MX through the unsigned alias: the records, insecure.
        let (mx, proof) = r.mx_proved("mail.ins.alias.test").await.unwrap();
        assert!(
            matches!(&mx, MxAnswer::Mx(list) if list.len() == 1 && list[0].host == "mx.alias.test"),
            "{mx:?}"
        );
        assert_eq!(proof, Some(DnsProof::Insecure));
        let (_, proof) = r.mx_proved("mail.alias.test").await.unwrap();
        assert_eq!(proof, Some(DnsProof::Secure));
        // TLSA: the insecure expansion is not followed; the alias's own name has none.
        let t = r.tlsa("mx.ins.alias.test", 25).await.unwrap();
        assert_eq!(t.base, "mx.ins.alias.test", "{t:?}");
        assert!(t.records.is_empty(), "{t:?}");
        assert_ne!(t.proof, Some(DnsProof::Secure), "{t:?}");
    }

    /// Validating, a bogus AAAA fails the dual-stack lookup even though the A verifies (as
    /// `-6` alone does): the host is never reported secure with half its answer forged.
    #[tokio::test]
    async fn dnssec_bogus_aaaa_fails_the_lookup_even_with_a_good_a() {
        let zone = alias_zone();
        let dir = tempfile::tempdir().unwrap();
        let r = validating(&zone, &dir);
        let (ips, proof) = r
            .addresses_proved("dual.alias.test", Family::V4)
            .await
            .unwrap();
        assert_eq!(ips, [IpAddr::V4(v4("192.0.2.5"))]);
        assert_eq!(proof, Some(DnsProof::Secure));
        // Through a signed alias too: asked again at the target, the AAAA is still forged.
        for (host, family) in [
            ("dual.alias.test", Family::Any),
            ("dual.alias.test", Family::V6),
            ("dualias.alias.test", Family::Any),
        ] {
            let got = r.addresses_proved(host, family).await;
            assert!(
                matches!(&got, Err(e) if e.is_bogus()),
                "{host} {family:?}: {got:?}"
            );
        }
        let mut events = Vec::new();
        let got = r
            .host_addresses("dual.alias.test", Family::Any, &mut |e| events.push(e))
            .await;
        assert!(got.is_err(), "{got:?}");
        assert!(
            !events.iter().any(|e| matches!(e, Event::DnsAnswer { .. })),
            "{events:?}"
        );
    }

    /// How hickory 0.26 reports denials, pinned: an NXDOMAIN or NODATA proven by signed NSEC
    /// records is secure; one under an unsigned delegation (a signed NSEC at the cut without DS,
    /// RFC 4035 §5.2) is insecure, and so are the child's answers; a denial whose NSEC is
    /// missing or unsigned in a signed zone is a validation failure (bogus), never "absent".
    #[tokio::test]
    async fn dnssec_secure_and_insecure_denial_as_hickory_reports_them() {
        use crate::net::testutil::{SignedDns, Signing};
        use hickory_resolver::proto::rr::Name;
        use hickory_resolver::proto::rr::rdata::{A, NS};
        let ns = |s: &str| RData::NS(NS(Name::from_ascii(s).unwrap()));
        let zone = SignedDns::start(
            "deny.test",
            vec![
                (
                    "host.deny.test",
                    RData::A(A(v4("192.0.2.1"))),
                    Signing::Valid,
                ),
                (
                    "child.deny.test",
                    ns("ns.child.deny.test."),
                    Signing::Unsigned,
                ),
                (
                    "mx.child.deny.test",
                    RData::A(A(v4("192.0.2.9"))),
                    Signing::Valid,
                ),
            ],
        );
        let dir = tempfile::tempdir().unwrap();
        let r = validating(&zone, &dir);
        // Secure NODATA and NXDOMAIN in the signed part.
        let nodata = r.rrset("host.deny.test", RecordType::TLSA).await.unwrap();
        assert!(nodata.records.is_empty() && !nodata.nxdomain);
        assert_eq!(nodata.proof, Some(DnsProof::Secure), "{nodata:?}");
        let nx = r
            .rrset("_25._tcp.host.deny.test", RecordType::TLSA)
            .await
            .unwrap();
        assert!(nx.nxdomain, "{nx:?}");
        assert_eq!(nx.proof, Some(DnsProof::Secure), "{nx:?}");
        let nx = r.rrset("nothere.deny.test", RecordType::A).await.unwrap();
        assert!(nx.nxdomain && nx.proof == Some(DnsProof::Secure), "{nx:?}");
        // The unsigned child: answers and denials are insecure.
        let a = r.rrset("mx.child.deny.test", RecordType::A).await.unwrap();
        assert_eq!(a.records.len(), 1);
        assert_eq!(a.proof, Some(DnsProof::Insecure), "{a:?}");
        let none = r
            .rrset("_25._tcp.mx.child.deny.test", RecordType::TLSA)
            .await
            .unwrap();
        assert!(none.records.is_empty());
        assert_eq!(none.proof, Some(DnsProof::Insecure), "{none:?}");
        // Without validation, no proof at all.
        let plain = Resolver::new(&DnsOptions {
            server: Some(zone.addr),
            timeout: Duration::from_secs(2),
            attempts: 0,
            ..DnsOptions::default()
        })
        .unwrap();
        let got = plain
            .rrset("nothere.deny.test", RecordType::A)
            .await
            .unwrap();
        assert!(got.nxdomain && got.proof.is_none());
    }

    #[test]
    fn trust_anchor_file_errors_are_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.key");
        let opts = DnsOptions::default().with_dnssec(DnssecMode::Validate, Some(missing));
        let err = Resolver::new(&opts).err().expect("missing file must fail");
        assert!(matches!(err, DnsError::TrustAnchor { .. }), "{err:?}");
        assert!(!err.to_string().contains('\n'), "{err}");
        let junk = dir.path().join("junk.key");
        std::fs::write(&junk, "this is not a zone file\n").unwrap();
        let opts = DnsOptions::default().with_dnssec(DnssecMode::Validate, Some(junk));
        let err = Resolver::new(&opts).err().expect("junk must fail");
        assert!(matches!(err, DnsError::TrustAnchor { .. }), "{err:?}");
        // With validation off the file is not even read.
        let opts =
            DnsOptions::default().with_dnssec(DnssecMode::Off, Some(dir.path().join("nope.key")));
        assert!(Resolver::new(&opts).is_ok());
    }

    fn resolver_at(addr: SocketAddr, dnssec: DnssecMode) -> Resolver {
        Resolver::new(&DnsOptions {
            server: Some(addr),
            timeout: Duration::from_secs(2),
            attempts: 0,
            dnssec,
            ..DnsOptions::default()
        })
        .unwrap()
    }

    /// `ch0.test` → `ch1.test` → … → `ch{links}.test`, each answer holding only its own
    /// CNAME (an authoritative-only server); the end has an MX and an address.
    fn unfollowed_chain(links: usize) -> Vec<(String, RecordSpec)> {
        let mut table: Vec<(String, RecordSpec)> = (0..links)
            .map(|i| {
                (
                    format!("ch{i}.test"),
                    RecordSpec::CnameOnly(format!("ch{}.test", i + 1)),
                )
            })
            .collect();
        table.push((
            format!("ch{links}.test"),
            RecordSpec::Mx(10, "mx.end.test".into()),
        ));
        table.push((format!("ch{links}.test"), RecordSpec::A(v4("192.0.2.40"))));
        table
    }

    /// An MX answer that is a CNAME chain not followed to its end says nothing about the
    /// domain's MX (RFC 1034 §3.6.2): it is an error naming the chain, never the implicit MX
    /// (RFC 5321 §5.1 applies to an empty MX list only). hickory follows eight links; the
    /// trust-ad stub none. A chain that does end with no MX is still the implicit MX, and
    /// `check`'s MX RRset says the same.
    #[tokio::test]
    async fn an_unfollowed_cname_chain_is_no_implicit_mx() {
        let mut table = unfollowed_chain(12);
        table.push(("short.test".into(), RecordSpec::Cname("plain.test".into())));
        table.push(("plain.test".into(), RecordSpec::A(v4("192.0.2.7"))));
        table.push(("one.test".into(), RecordSpec::CnameOnly("ch12.test".into())));
        let (addr, _h) =
            FakeDns::start(table.iter().map(|(n, s)| (n.as_str(), s.clone())).collect());
        for mode in [DnssecMode::Off, DnssecMode::TrustAd] {
            let r = resolver_at(addr, mode);
            let domains: &[&str] = if mode == DnssecMode::Off {
                &["ch0.test"]
            } else {
                &["ch0.test", "one.test"]
            };
            for &d in domains {
                let e = r.mx(d).await.expect_err(&format!("{mode:?} {d}"));
                let msg = e.to_string();
                assert!(matches!(e, DnsError::Failed { .. }), "{mode:?}: {msg}");
                assert!(
                    msg.contains(&format!("DNS lookup of {d} failed"))
                        && msg.contains("not followed to its end")
                        && msg.contains("ch12.test has MX records"),
                    "{mode:?}: {msg}"
                );
                let set = r.rrset(d, RecordType::MX).await;
                assert!(
                    set.as_ref()
                        .is_err_and(|e| e.to_string().contains("not followed")),
                    "{mode:?} {d}: {set:?}"
                );
            }
            let msg = r.mx("ch0.test").await.unwrap_err().to_string();
            assert!(
                msg.contains("12 links: ch0.test → ch1.test → ch2.test → ch3.test → ch4.test → … → ch11.test → ch12.test"),
                "{msg}"
            );
            // Followed to an end without MX: the implicit MX, as before.
            assert_eq!(
                r.mx("short.test").await.unwrap(),
                MxAnswer::Implicit,
                "{mode:?}"
            );
            assert_eq!(
                r.mx("plain.test").await.unwrap(),
                MxAnswer::Implicit,
                "{mode:?}"
            );
            assert!(
                r.rrset("short.test", RecordType::MX)
                    .await
                    .unwrap()
                    .records
                    .is_empty()
            );
        }
        // Longer than the walk: still an error, not the implicit MX.
        let long = unfollowed_chain(40);
        let (addr, _h) =
            FakeDns::start(long.iter().map(|(n, s)| (n.as_str(), s.clone())).collect());
        let msg = resolver_at(addr, DnssecMode::Off)
            .mx("ch0.test")
            .await
            .unwrap_err()
            .to_string();
        assert!(msg.contains("longer than 16 links"), "{msg}");
    }

    /// An implicit-MX domain costs its MX question only: a server's empty answer (NODATA with
    /// the zone's SOA, RFC 2308 §3) for the name itself holds no CNAME, so the name is no alias
    /// and no CNAME question is asked to find out. An alias still has its chain walked, with the
    /// same verdicts: the implicit MX when the chain ends without MX, the MX when it has one.
    #[tokio::test]
    async fn an_implicit_mx_asks_no_cname_question() {
        use crate::net::testutil::{SignedDns, Signing};
        use hickory_resolver::proto::rr::rdata::{A, CNAME, MX};
        let name = |n: &str| Name::from_ascii(n).unwrap();
        let zone = SignedDns::start(
            "test",
            vec![
                ("plain.test", RData::A(A(v4("192.0.2.7"))), Signing::Valid),
                (
                    "alias.test",
                    RData::CNAME(CNAME(name("plain.test."))),
                    Signing::Valid,
                ),
                (
                    "mxd.test",
                    RData::MX(MX::new(10, name("mx.mxd.test."))),
                    Signing::Valid,
                ),
                (
                    "toward.test",
                    RData::CNAME(CNAME(name("mxd.test."))),
                    Signing::Valid,
                ),
            ],
        );
        let cname_questions = |of: &str| {
            zone.log
                .lock()
                .unwrap()
                .iter()
                .filter(|q| q.name == of && q.rtype == RecordType::CNAME)
                .count()
        };
        for mode in [DnssecMode::Off, DnssecMode::TrustAd] {
            let r = resolver_at(zone.addr, mode);
            let before = cname_questions("plain.test");
            assert_eq!(r.mx("plain.test").await.unwrap(), MxAnswer::Implicit);
            let set = r.rrset("plain.test", RecordType::MX).await.unwrap();
            assert!(set.records.is_empty() && !set.nxdomain, "{set:?}");
            assert_eq!(cname_questions("plain.test"), before, "{mode:?}");
            // Through an alias: the same verdicts as before.
            assert_eq!(r.mx("alias.test").await.unwrap(), MxAnswer::Implicit);
            assert!(
                r.rrset("alias.test", RecordType::MX)
                    .await
                    .unwrap()
                    .records
                    .is_empty()
            );
            assert_eq!(
                r.mx("toward.test").await.unwrap(),
                MxAnswer::Mx(mxs(&[(10, "mx.mxd.test")])),
                "{mode:?}"
            );
        }
    }

    /// A CNAME loop is named as one, with the chain, for the MX and the address lookups alike,
    /// never "no A/AAAA address" (nor the implicit MX): whether the server follows the loop
    /// in its answer or not, with hickory and with the trust-ad stub.
    #[tokio::test]
    async fn a_cname_loop_is_reported_as_a_loop() {
        let (addr, _h) = FakeDns::start(vec![
            ("a.loop.test", RecordSpec::CnameOnly("b.loop.test".into())),
            ("b.loop.test", RecordSpec::CnameOnly("a.loop.test".into())),
            ("a.fol.test", RecordSpec::Cname("b.fol.test".into())),
            ("b.fol.test", RecordSpec::Cname("c.fol.test".into())),
            ("c.fol.test", RecordSpec::Cname("a.fol.test".into())),
            ("me.test", RecordSpec::CnameOnly("me.test".into())),
        ]);
        for mode in [DnssecMode::Off, DnssecMode::TrustAd] {
            let r = resolver_at(addr, mode);
            for (name, chain) in [
                ("a.loop.test", "a.loop.test → b.loop.test → a.loop.test"),
                (
                    "a.fol.test",
                    "a.fol.test → b.fol.test → c.fol.test → a.fol.test",
                ),
                ("me.test", "me.test → me.test"),
            ] {
                let want = format!("DNS lookup of {name} failed: CNAME loop: {chain}");
                let mx = r.mx(name).await.map_err(|e| e.to_string());
                assert_eq!(mx, Err(want.clone()), "{mode:?} MX");
                for family in [Family::Any, Family::V4, Family::V6] {
                    let got = r.addresses(name, family).await;
                    assert!(
                        got.as_ref().is_err_and(DnsError::is_cname_loop),
                        "{mode:?} {family:?}: {got:?}"
                    );
                    assert_eq!(got.unwrap_err().to_string(), want, "{mode:?} {family:?}");
                }
            }
        }
    }

    fn stray(owner: &str, spec: RecordSpec) -> RecordSpec {
        RecordSpec::Stray(owner.into(), Box::new(spec))
    }

    /// Records of another owner slipped into an answer are no data about the name asked (RFC
    /// 2181 §5.4.1, RFC 1034 §4.3.2): an injected MX must not route mail (it came first, by
    /// preference), an injected address must not be connected to, an injected MX must not
    /// replace a domain's implicit MX; through an alias the target's records still count. The
    /// same with hickory and with the trust-ad stub.
    #[tokio::test]
    async fn answer_records_of_another_owner_are_ignored() {
        let (addr, _h) = FakeDns::start(vec![
            ("inj.test", RecordSpec::Mx(20, "mx.inj.test".into())),
            (
                "inj.test",
                stray("other.test", RecordSpec::Mx(5, "evil.test".into())),
            ),
            ("nomx.test", RecordSpec::A(v4("192.0.2.9"))),
            (
                "nomx.test",
                stray("other.test", RecordSpec::Mx(5, "evil.test".into())),
            ),
            ("mx.inj.test", RecordSpec::A(v4("192.0.2.1"))),
            (
                "mx.inj.test",
                stray("evil.test", RecordSpec::A(v4("192.0.2.66"))),
            ),
            ("alias.test", RecordSpec::Cname("mx.inj.test".into())),
        ]);
        for mode in [DnssecMode::Off, DnssecMode::TrustAd] {
            let r = resolver_at(addr, mode);
            assert_eq!(
                r.mx("inj.test").await.unwrap(),
                MxAnswer::Mx(mxs(&[(20, "mx.inj.test")])),
                "{mode:?}"
            );
            assert_eq!(
                r.mx("nomx.test").await.unwrap(),
                MxAnswer::Implicit,
                "{mode:?}"
            );
            let one = vec![IpAddr::V4(v4("192.0.2.1"))];
            for host in ["mx.inj.test", "alias.test"] {
                assert_eq!(
                    r.addresses(host, Family::Any).await.unwrap(),
                    one,
                    "{mode:?} {host}"
                );
            }
            let set = r.rrset("inj.test", RecordType::MX).await.unwrap();
            assert_eq!(set.records.len(), 1, "{mode:?} {set:?}");
            let set = r.rrset("alias.test", RecordType::A).await.unwrap();
            assert_eq!(set.cnames, ["mx.inj.test"], "{mode:?}");
            assert_eq!(set.records.len(), 1, "{mode:?} {set:?}");
        }
    }

    /// A host name is asked as DNS spells it: an underscore is a character a label may hold
    /// (RFC 2181 §11; getaddrinfo, swaks and dig resolve `mx_1.example`), and an IDN is asked by
    /// its A-labels (RFC 5891 §5) in both resolver modes, the trust-ad stub included.
    #[tokio::test]
    async fn underscore_and_idn_names_are_asked_as_dns_spells_them() {
        let (addr, _h) = FakeDns::start(vec![
            ("us.test", RecordSpec::Mx(10, "mx_1.us.test".into())),
            ("mx_1.us.test", RecordSpec::A(v4("192.0.2.6"))),
            ("xn--bcher-kva.test", RecordSpec::A(v4("192.0.2.5"))),
        ]);
        for mode in [DnssecMode::Off, DnssecMode::TrustAd] {
            let r = resolver_at(addr, mode);
            assert_eq!(
                r.mx("us.test").await.unwrap(),
                MxAnswer::Mx(mxs(&[(10, "mx_1.us.test")])),
                "{mode:?}"
            );
            assert_eq!(
                r.addresses("mx_1.us.test", Family::Any).await.unwrap(),
                vec![IpAddr::V4(v4("192.0.2.6"))],
                "{mode:?}"
            );
            assert_eq!(
                r.addresses("bücher.test", Family::V4).await.unwrap(),
                vec![IpAddr::V4(v4("192.0.2.5"))],
                "{mode:?}"
            );
            assert_eq!(
                r.mx("bücher.test").await.unwrap(),
                MxAnswer::Implicit,
                "{mode:?}"
            );
        }
    }

    /// An MX exchange stays in the ASCII form DNS gave it: the host is connected to, named in
    /// SNI and matched against certificates by that name (RFC 6066 §3, RFC 6125 §6.4.2), so
    /// `mx.xn--bcher-kva.test` must not come back as `mx.bücher.test`.
    #[tokio::test]
    async fn an_a_label_mx_exchange_stays_ascii() {
        let (addr, _h) = FakeDns::start(vec![(
            "xn--bcher-kva.test",
            RecordSpec::Mx(10, "mx.xn--bcher-kva.test".into()),
        )]);
        let r = resolver_at(addr, DnssecMode::Off);
        assert_eq!(
            r.mx("bücher.test").await.unwrap(),
            MxAnswer::Mx(mxs(&[(10, "mx.xn--bcher-kva.test")]))
        );
        assert_eq!(ascii_host("mx.bücher.test"), "mx.xn--bcher-kva.test");
        assert_eq!(ascii_host("Mail_1.example"), "Mail_1.example");
    }

    /// Without validation a failed AAAA lookup leaves the A records to use (README), but the
    /// run says so: hidden, it read as if the host had no IPv6 address at all. A host that
    /// simply has no AAAA gets no warning.
    #[tokio::test]
    async fn a_failed_aaaa_lookup_is_reported_not_hidden() {
        let (addr, _h) = FakeDns::start(vec![
            ("half.test", RecordSpec::A(v4("192.0.2.8"))),
            ("half.test", RecordSpec::ServFailFor(RecordType::AAAA)),
            ("v4only.test", RecordSpec::A(v4("192.0.2.9"))),
        ]);
        let r = resolver_at(addr, DnssecMode::Off);
        let mut events = Vec::new();
        let got = r
            .host_addresses("half.test", Family::Any, &mut |e| events.push(e))
            .await
            .unwrap();
        assert_eq!(got, vec![IpAddr::V4(v4("192.0.2.8"))]);
        let warnings: Vec<String> = events
            .iter()
            .filter(|e| matches!(e, Event::Warning { .. }))
            .map(|e| format!("{e:?}"))
            .collect();
        assert_eq!(warnings.len(), 1, "{events:?}");
        assert!(
            warnings[0].contains("the AAAA lookup of half.test failed")
                && warnings[0].contains("only its A records are used"),
            "{warnings:?}"
        );
        events.clear();
        r.host_addresses("v4only.test", Family::Any, &mut |e| events.push(e))
            .await
            .unwrap();
        assert!(
            !events.iter().any(|e| matches!(e, Event::Warning { .. })),
            "{events:?}"
        );
    }

    /// The documented timeout bounds the whole lookup, its retry included: `--timeout 2`
    /// against a server that never answers fails in about 2 s (it took 4 s: 2 s per try).
    #[tokio::test]
    async fn a_lookup_with_its_retry_fits_in_the_reply_timeout() {
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let r = Resolver::new(&DnsOptions::with_timeout(
            Some(silent.local_addr().unwrap()),
            Duration::from_secs(2),
        ))
        .unwrap();
        let t = std::time::Instant::now();
        let res = r.mx("example.test").await;
        assert!(matches!(res, Err(DnsError::TimedOut { .. })), "{res:?}");
        let took = t.elapsed();
        assert!(
            took < Duration::from_millis(3000),
            "{took:?} for a 2 s timeout"
        );
        // Still one retry: a lost datagram is asked again.
        let o = DnsOptions::with_timeout(None, Duration::from_secs(30));
        assert_eq!(o.attempts, 1);
        assert_eq!(o.lookup_budget(), DNS_QUERY_TIMEOUT);
    }

    /// A server that answers each query with an undecodable message (the query's id, then a
    /// label code no DNS message has): the lookup fails as "no usable reply", never as a
    /// verdict, validating or not.
    #[tokio::test]
    async fn an_undecodable_reply_is_no_answer_not_a_verdict() {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = sock.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok((n, peer)) = sock.recv_from(&mut buf) {
                if n < 2 {
                    continue;
                }
                let mut reply = buf[..2].to_vec();
                reply.extend_from_slice(b"\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\xbb");
                reply.extend_from_slice(&[b'x'; 20]);
                let _ = sock.send_to(&reply, peer);
            }
        });
        for mode in [DnssecMode::Off, DnssecMode::Validate] {
            let r = Resolver::new(
                &DnsOptions {
                    server: Some(addr),
                    timeout: Duration::from_secs(2),
                    ..DnsOptions::default()
                }
                .with_dnssec(mode, None),
            )
            .unwrap();
            let err = r.rrset("example.test", RecordType::MX).await.unwrap_err();
            assert!(err.is_unanswered(), "{mode:?}: {err:?}");
            assert!(!err.is_bogus() && !err.is_timeout(), "{mode:?}: {err:?}");
            assert_eq!(err.rcode(), None, "{mode:?}: {err:?}");
        }
        // An answer the server gave is no such failure.
        let servfail = DnsError::Failed {
            name: "example.test".into(),
            reason: format!("{ANSWERED}SERVFAIL"),
            kind: FailKind::Answered(2),
        };
        assert!(!servfail.is_unanswered());
    }

    /// A resolver with a gate of N permits never has more than N lookups in flight, however many
    /// are asked at once: a server that holds every query 150 ms before answering never has
    /// more than N unanswered. (`ehlo check` gives its resolvers one gate of
    /// [`crate::check::DNS_IN_FLIGHT`]; uncapped, 40 questions were 40 queries at once.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_gated_resolver_keeps_at_most_its_permits_of_lookups_in_flight() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(10)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let most = Arc::new(AtomicUsize::new(0));
        let answered = Arc::new(AtomicUsize::new(0));
        let (most_s, answered_s) = (most.clone(), answered.clone());
        std::thread::spawn(move || {
            let mut held: Vec<(Vec<u8>, SocketAddr, std::time::Instant)> = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                if let Ok((n, peer)) = sock.recv_from(&mut buf) {
                    held.push((buf[..n].to_vec(), peer, std::time::Instant::now()));
                    most_s.fetch_max(held.len(), Ordering::SeqCst);
                }
                let hold = Duration::from_millis(150);
                let (due, rest) = held.into_iter().partition(|(_, _, t)| t.elapsed() >= hold);
                held = rest;
                let due: Vec<(Vec<u8>, SocketAddr, std::time::Instant)> = due;
                for (mut q, peer, _) in due {
                    // The query turned into its answer: QR and RA set, NXDOMAIN (RFC 1035 §4.1.1).
                    q[2] |= 0x80;
                    q[3] = 0x80 | 3;
                    // Counted before it is sent: the last lookup may end, and the count be
                    // read, before this thread runs again.
                    answered_s.fetch_add(1, Ordering::SeqCst);
                    let _ = sock.send_to(&q, peer);
                }
            }
        });
        let opts = DnsOptions {
            server: Some(addr),
            timeout: Duration::from_secs(5),
            attempts: 0,
            ..DnsOptions::default()
        };
        let permits = 4;
        let gated = Resolver::new(&opts)
            .unwrap()
            .with_gate(Arc::new(tokio::sync::Semaphore::new(permits)));
        let gated = Arc::new(gated);
        let t = std::time::Instant::now();
        let mut asks = tokio::task::JoinSet::new();
        for i in 0..40 {
            let r = gated.clone();
            asks.spawn(async move { r.rrset(&format!("d{i}.test"), RecordType::TXT).await });
        }
        assert_eq!(asks.join_all().await.len(), 40);
        assert_eq!(
            answered.load(Ordering::SeqCst),
            40,
            "every question was asked once"
        );
        let most = most.load(Ordering::SeqCst);
        assert!(
            (1..=permits).contains(&most),
            "{most} lookups in flight at once with {permits} permits"
        );
        // Ten waves of four, each held 150 ms.
        assert!(
            t.elapsed() >= Duration::from_millis(1400),
            "{:?}",
            t.elapsed()
        );
    }

    /// Each hickory resolver keeps at most [`CACHE_ANSWERS`] answers, the validating one's
    /// plain twin too, with a chosen server or the system's: at hickory's default of 8192, a
    /// DNS server answering every TXT question with 64 KB of records made `ehlo check` of 400
    /// domains peak at 300 MB resident (`--concurrency 4` too), growing with the list.
    #[tokio::test]
    async fn every_resolver_keeps_a_bounded_number_of_answers() {
        for (server, dnssec) in [
            (Some("127.0.0.1:53".parse().unwrap()), DnssecMode::Off),
            (Some("127.0.0.1:53".parse().unwrap()), DnssecMode::Validate),
            (None, DnssecMode::Off),
        ] {
            let r = Resolver::new(&DnsOptions {
                server,
                dnssec,
                ..DnsOptions::default()
            })
            .unwrap();
            let Ok(Backend::Hickory(inner, validated)) = &r.inner else {
                continue; // no system configuration to read here
            };
            assert_eq!(inner.options().cache_size, CACHE_ANSWERS, "{server:?}");
            if let Some(v) = validated {
                assert_eq!(v.plain.options().cache_size, CACHE_ANSWERS);
            }
            assert_eq!(validated.is_some(), dnssec == DnssecMode::Validate);
        }
    }

    #[tokio::test]
    async fn dead_server_times_out_quickly() {
        // A bound socket that never answers: the lookup must fail within timeout × (attempts+1).
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let r = Resolver::new(&DnsOptions {
            server: Some(silent.local_addr().unwrap()),
            timeout: Duration::from_millis(200),
            attempts: 0,
            ..DnsOptions::default()
        })
        .unwrap();
        let t = std::time::Instant::now();
        let res = r.mx("example.test").await;
        assert!(matches!(res, Err(DnsError::TimedOut { .. })), "{res:?}");
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    }

    /// RFC 4035 §5.3.4 for a wildcard expanded by one label in an NSEC zone, as
    /// `wildcard_proven` judges the response hickory 0.26.3 refused: secure only with the
    /// answer and its wildcard RRSIG secure and a secure NSEC of the same zone covering the
    /// next closer name; each missing piece keeps it bogus.
    #[test]
    fn a_wildcard_answer_is_secure_only_with_its_whole_proof() {
        use hickory_resolver::proto::dnssec::rdata::{DNSSECRData, NSEC, RRSIG, SigInput};
        use hickory_resolver::proto::dnssec::{Algorithm, Proof};
        use hickory_resolver::proto::op::{Message, OpCode, Query};
        use hickory_resolver::proto::rr::rdata::TXT;
        use hickory_resolver::proto::rr::{Name, RData, Record, RecordType, SerialNumber};
        let n = |s: &str| Name::from_ascii(s).unwrap();
        let sig = |owner: &str, covered, labels, signer: &str, proof| {
            let input = SigInput {
                type_covered: covered,
                algorithm: Algorithm::ECDSAP256SHA256,
                num_labels: labels,
                original_ttl: 60,
                sig_expiration: SerialNumber::new(2),
                sig_inception: SerialNumber::new(1),
                key_tag: 1,
                signer_name: n(signer),
            };
            let rrsig = RRSIG::from_sig(input, vec![0]);
            let mut r = Record::from_rdata(n(owner), 60, RData::DNSSEC(DNSSECRData::RRSIG(rrsig)));
            r.proof = proof;
            r
        };
        let nsec = |owner: &str, next: &str, proof| {
            let rd = NSEC::new(
                n(next),
                [RecordType::TXT, RecordType::RRSIG, RecordType::NSEC],
            );
            let mut r = Record::from_rdata(n(owner), 60, RData::DNSSEC(DNSSECRData::NSEC(rd)));
            r.proof = proof;
            r
        };
        let qname = "h.wc.example.test.";
        let build = |labels: u8, answer: Proof, cover: (&str, &str, Proof), signer: &str| {
            let mut m = Message::response(1, OpCode::Query);
            let mut a = Record::from_rdata(n(qname), 60, RData::TXT(TXT::new(vec!["x".into()])));
            a.proof = answer;
            m.add_answers([
                a,
                sig(
                    qname,
                    RecordType::TXT,
                    labels,
                    "example.test.",
                    Proof::Secure,
                ),
            ]);
            m.add_authorities([
                nsec(cover.0, cover.1, cover.2),
                sig(cover.0, RecordType::NSEC, 3, signer, Proof::Secure),
            ]);
            m
        };
        // The question as asked, without its dot: the records' names are absolute.
        let q = Query::query(n("h.wc.example.test"), RecordType::TXT);
        let good = ("*.wc.example.test.", "z.example.test.", Proof::Secure);
        assert!(wildcard_proven(
            &q,
            &build(3, Proof::Secure, good, "example.test.")
        ));
        // The zone's last NSEC (next is the apex) covers it too.
        let wrap = ("*.wc.example.test.", "example.test.", Proof::Secure);
        assert!(wildcard_proven(
            &q,
            &build(3, Proof::Secure, wrap, "example.test.")
        ));
        let bogus = [
            // Not a wildcard expansion: the RRSIG has the name's own label count.
            build(4, Proof::Secure, good, "example.test."),
            // The answer itself did not verify.
            build(3, Proof::Bogus, good, "example.test."),
            // The NSEC did not verify.
            build(
                3,
                Proof::Secure,
                ("*.wc.example.test.", "z.example.test.", Proof::Bogus),
                "example.test.",
            ),
            // An NSEC that ends before the name: it does not cover it.
            build(
                3,
                Proof::Secure,
                ("*.wc.example.test.", "a.wc.example.test.", Proof::Secure),
                "example.test.",
            ),
            // An NSEC that starts at the name: it exists.
            build(
                3,
                Proof::Secure,
                ("h.wc.example.test.", "z.example.test.", Proof::Secure),
                "example.test.",
            ),
            // Signed by another zone than the answer.
            build(3, Proof::Secure, good, "other.test."),
        ];
        for (i, m) in bogus.iter().enumerate() {
            assert!(!wildcard_proven(&q, m), "case {i}");
        }
    }

    /// A timeout says what was awaited: without validation (`--dnssec off`) and trusting the
    /// resolver's AD bit (`trust-ad`) only an answer — there is no DNSSEC verdict of ehlo's own
    /// to wait for (the message spoke of one whatever the mode); validating, the answer or
    /// the verdict (`silent_server_is_a_timeout_not_a_verdict`).
    #[tokio::test]
    async fn a_timeout_is_worded_by_what_was_asked() {
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for mode in [DnssecMode::Off, DnssecMode::TrustAd] {
            let r = Resolver::new(
                &DnsOptions {
                    server: Some(silent.local_addr().unwrap()),
                    timeout: Duration::from_millis(200),
                    attempts: 0,
                    ..DnsOptions::default()
                }
                .with_dnssec(mode, None),
            )
            .unwrap();
            let err = r.mx("example.test").await.unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "DNS lookup of example.test timed out (no answer from {} within 0.2s; is \
                     that DNS server running and reachable? --dns-server names another)",
                    silent.local_addr().unwrap()
                ),
                "{mode:?}"
            );
            assert!(err.is_timeout(), "{mode:?}");
        }
    }
}
