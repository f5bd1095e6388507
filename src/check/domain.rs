//! The domain-scope checks that need DNS: `mx.lookup`, `mx.null`, `mx.target` (which also
//! decides which (host, address) pairs get probed), the TXT records (`mtasts.txt`,
//! `tlsrpt.record`, `spf.record`, `dmarc.record`, `dkim.hint`) and `ipv6.mx`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use hickory_resolver::proto::rr::{RData, RecordType};
use serde_json::json;

use super::answers::Answers;
use super::model::{CheckResult, Status};
use super::records;
use super::select::Lookups;
use crate::net::dns::{
    DnsError, Family, MAX_MX_HOSTS, ROOT_EXCHANGE, Resolver, RootMx, RrSet, parse_ip_literal,
    root_mx,
};

/// An MX host and the addresses that will be probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Host name.
    pub(crate) host: String,
    /// Preference (0 for an implicit MX).
    pub(crate) preference: u16,
    /// Addresses to probe (special-purpose ones left out unless allowed).
    pub(crate) addrs: Vec<IpAddr>,
}

/// What the MX checks found (nothing, by default: no MX check selected, none asked).
#[derive(Default)]
pub(crate) struct MxOutcome {
    /// `mx.lookup`, `mx.null` and one `mx.target` per host.
    pub(crate) results: Vec<CheckResult>,
    /// Hosts to probe, in preference order.
    pub(crate) targets: Vec<Target>,
    /// Every MX host name checked (null MX, IP addresses, repeats and hosts past
    /// [`MAX_MX_HOSTS`] left out), in preference order.
    pub(crate) hosts: Vec<String>,
    /// The MX host names past [`MAX_MX_HOSTS`], not looked up nor probed: an MTA-STS policy
    /// must still cover them (`mtasts.mx-match`).
    pub(crate) past_cap: Vec<String>,
}

fn ms(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}

/// RFC 6890 special-purpose (and other non-global) addresses: where no public MX may point.
pub(crate) fn special_purpose(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private (RFC 1918)")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if o[0] == 0 {
                Some("'this network' (0/8)")
            } else if o[0] == 100 && (64..128).contains(&o[1]) {
                Some("shared address space (RFC 6598)")
            } else if v4.is_documentation() || (o[0] == 192 && o[1] == 0 && o[2] == 0) {
                Some("documentation / IETF protocol assignment")
            } else if o[0] == 198 && (o[1] == 18 || o[1] == 19) {
                Some("benchmarking (RFC 2544)")
            } else if v4.is_multicast() || o[0] >= 240 || v4 == Ipv4Addr::BROADCAST {
                Some("multicast or reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if (s[0] & 0xfe00) == 0xfc00 {
                Some("unique local (RFC 4193)")
            } else if (s[0] & 0xffc0) == 0xfe80 {
                Some("link-local")
            } else if (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && s[1] < 0x1000) {
                Some("documentation (RFC 3849, RFC 9637)")
            } else if s[0] == 0x2001 && s[1] == 0x0002 && s[2] == 0 {
                Some("benchmarking (RFC 5180)")
            } else if s[0] == 0x2001 && (s[1] & 0xfff0) == 0x0020 {
                Some("ORCHIDv2 (RFC 7343)")
            } else if s[0] == 0x5f00 {
                Some("SRv6 SIDs (RFC 9602)")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if let Some(v4) = v6.to_ipv4_mapped() {
                special_purpose(IpAddr::V4(v4)).or(Some("IPv4-mapped"))
            } else if s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0 {
                Some("discard-only (RFC 6666)")
            } else {
                None
            }
        }
    }
}

/// `mx.lookup`, `mx.null`, `mx.target`, from the domain's [`Answers`] (the MX question and
/// the addresses of its hosts asked once, shared with the DNSSEC checks). Without `addresses`
/// (neither `mx.target` nor a probe selected) the hosts' addresses are not asked: no targets,
/// no `mx.target` per host.
pub(crate) async fn mx_checks(
    r: &Answers<'_>,
    domain: &str,
    family: Family,
    allow_private: bool,
    addresses: bool,
) -> MxOutcome {
    let t0 = Instant::now();
    let mut results = Vec::new();
    let set = match r.data(domain, RecordType::MX).await {
        Ok(s) => s,
        Err(e) => {
            // A CNAME loop is a broken zone (a verdict), a failed lookup could not be tested.
            let status = if e.is_cname_loop() {
                Status::Fail
            } else {
                Status::Error
            };
            let mut failed = CheckResult::new("mx.lookup", status, e.to_string());
            if let Some(rcode) = e.rcode() {
                failed = failed.with("rcode", rcode);
            }
            results.push(failed.timed(ms(t0)));
            results.push(CheckResult::new(
                "mx.null",
                Status::Skip,
                "MX lookup failed",
            ));
            results.push(CheckResult::new(
                "mx.target",
                Status::Skip,
                "MX lookup failed",
            ));
            return MxOutcome {
                results,
                targets: Vec::new(),
                hosts: Vec::new(),
                past_cap: Vec::new(),
            };
        }
    };
    if set.nxdomain {
        results.push(
            CheckResult::new(
                "mx.lookup",
                Status::Fail,
                format!("{domain} does not exist (NXDOMAIN)"),
            )
            .with("rcode", "NXDOMAIN")
            .timed(ms(t0)),
        );
        results.push(CheckResult::new("mx.null", Status::Skip, "no such domain"));
        results.push(CheckResult::new(
            "mx.target",
            Status::Skip,
            "no such domain",
        ));
        return MxOutcome {
            results,
            targets: Vec::new(),
            hosts: Vec::new(),
            past_cap: Vec::new(),
        };
    }
    let mut mxs: Vec<(u16, String)> = set
        .records
        .iter()
        .filter_map(|d| match d {
            RData::MX(m) => Some((
                m.preference,
                if m.exchange.is_root() {
                    ROOT_EXCHANGE.to_string()
                } else {
                    crate::net::dns::bare(&m.exchange)
                },
            )),
            _ => None,
        })
        .collect();
    // Preference, then name: a name server may rotate the records of one preference (Unbound's
    // `rrset-roundrobin`), and the order decides which hosts are checked past the cap, which
    // name an address shared by several is reported under, and the order of the report.
    mxs.sort_by_cached_key(|m| (m.0, m.1.to_ascii_lowercase()));
    let shown: Vec<String> = mxs.iter().map(|(p, h)| format!("{p} {h}")).collect();

    if mxs.is_empty() {
        // RFC 5321 §5.1: no MX → the domain's own address records are the implicit MX.
        let addrs = r.addresses(domain, family).await;
        return match addrs {
            Ok(mut a) => {
                results.extend(implicit_mx(ms(t0)));
                let total = a.len();
                // In address order, not the answer's: name servers rotate RRsets.
                a.sort_unstable();
                let a = cap_addresses(a, MAX_HOST_ADDRESSES);
                let (res, target) =
                    judge_target(domain, 0, &RrSet::default(), Ok(a), allow_private);
                results.push(res);
                results.extend(host_left_out(domain, total));
                MxOutcome {
                    results,
                    targets: target.into_iter().collect(),
                    hosts: vec![domain.to_string()],
                    past_cap: Vec::new(),
                }
            }
            Err(DnsError::Failed { .. }) => {
                let e = addrs.err().map(|e| e.to_string()).unwrap_or_default();
                results.push(CheckResult::new("mx.lookup", Status::Error, e).timed(ms(t0)));
                results.push(CheckResult::new(
                    "mx.null",
                    Status::Skip,
                    "MX lookup failed",
                ));
                results.push(CheckResult::new(
                    "mx.target",
                    Status::Skip,
                    "MX lookup failed",
                ));
                MxOutcome {
                    results,
                    targets: Vec::new(),
                    hosts: Vec::new(),
                    past_cap: Vec::new(),
                }
            }
            Err(_) if other_family_has(r, domain, family).await => {
                results.extend(implicit_mx(ms(t0)));
                let mut c = CheckResult::new(
                    "mx.target",
                    Status::Skip,
                    format!("{domain} has {}", no_address_in(family)),
                );
                c.mx = Some(domain.to_string());
                results.push(c);
                MxOutcome {
                    results,
                    targets: Vec::new(),
                    hosts: vec![domain.to_string()],
                    past_cap: Vec::new(),
                }
            }
            Err(_) => {
                results.push(
                    CheckResult::new(
                        "mx.lookup",
                        Status::Fail,
                        "no MX and no address record: the domain cannot receive mail",
                    )
                    .with("count", 0)
                    .timed(ms(t0)),
                );
                results.push(CheckResult::new("mx.null", Status::Info, "no null MX"));
                results.push(CheckResult::new("mx.target", Status::Skip, "no MX host"));
                MxOutcome {
                    results,
                    targets: Vec::new(),
                    hosts: Vec::new(),
                    past_cap: Vec::new(),
                }
            }
        };
    }

    let roots: Vec<(u16, bool)> = mxs.iter().map(|(p, h)| (*p, h == ROOT_EXCHANGE)).collect();
    let root = root_mx(&roots);
    let real: Vec<(u16, String)> = mxs
        .iter()
        .filter(|(_, h)| h != ROOT_EXCHANGE)
        .cloned()
        .collect();
    let count = real.len();
    let hosts = usable_hosts(domain, real);
    let evidence: Vec<&String> = shown.iter().take(MX_EVIDENCE).collect();
    let mut lookup = CheckResult::new("mx.lookup", Status::Pass, shown_mx(&shown))
        .with("records", json!(evidence))
        .with("count", count)
        .with("ttl", set.ttl);
    if shown.len() > MX_EVIDENCE {
        lookup = lookup.with("records_left_out", shown.len() - MX_EVIDENCE);
    }
    if !hosts.repeated.is_empty() {
        let mut said: Vec<String> = hosts
            .repeated
            .iter()
            .take(MX_SHOWN)
            .map(|(h, n)| format!("{h} is in {n} MX records: checked once"))
            .collect();
        if hosts.repeated.len() > MX_SHOWN {
            said.push(format!(
                "… and {} more repeated",
                hosts.repeated.len() - MX_SHOWN
            ));
        }
        lookup.summary = format!("{}; {}", lookup.summary, said.join("; "));
        let names: Vec<&str> = hosts
            .repeated
            .iter()
            .take(MX_EVIDENCE)
            .map(|(h, _)| h.as_str())
            .collect();
        lookup = lookup.with("repeated", json!(names));
    }
    results.push(lookup.timed(ms(t0)));
    match root {
        RootMx::NullMx => {
            results.push(
                CheckResult::new(
                    "mx.null",
                    Status::Pass,
                    "null MX: the domain accepts no mail",
                )
                .with("records", json!(evidence)),
            );
            results.push(CheckResult::new(
                "mx.target",
                Status::Skip,
                "null MX: no host to check",
            ));
        }
        // `MX N .` (N ≠ 0) or a `.` beside other records: no null MX, and no host either.
        RootMx::Broken(why) => {
            results.push(
                CheckResult::new("mx.null", Status::Fail, why).with("records", json!(evidence)),
            );
            if count == 0 {
                results.push(CheckResult::new(
                    "mx.target",
                    Status::Skip,
                    "no host to check: the `.` exchange names none",
                ));
            }
        }
        RootMx::Absent => {
            results.push(CheckResult::new("mx.null", Status::Info, "no null MX"));
        }
    }
    if count == 0 {
        return MxOutcome {
            results,
            targets: Vec::new(),
            hosts: Vec::new(),
            past_cap: Vec::new(),
        };
    }

    results.extend(hosts.refused);
    if !addresses {
        return MxOutcome {
            results,
            targets: Vec::new(),
            hosts: hosts.checked.into_iter().map(|(_, h)| h).collect(),
            past_cap: hosts.past_cap,
        };
    }
    let mut targets = host_targets(r, &hosts.checked, family, allow_private, &mut results).await;
    results.extend(hosts.left_out);
    // The whole domain's addresses, in preference order, up to its limit.
    let total: usize = targets.iter().map(|t| t.addrs.len()).sum();
    if total > MAX_DOMAIN_ADDRESSES {
        let mut budget = MAX_DOMAIN_ADDRESSES;
        for t in &mut targets {
            t.addrs.truncate(budget);
            budget -= t.addrs.len();
        }
        targets.retain(|t| !t.addrs.is_empty());
        results.push(
            CheckResult::new(
                "mx.target",
                Status::Warn,
                format!(
                    "{domain} has {total} MX addresses: only the first {MAX_DOMAIN_ADDRESSES} are checked, {} left out",
                    total - MAX_DOMAIN_ADDRESSES
                ),
            )
            .with("left_out", total - MAX_DOMAIN_ADDRESSES),
        );
    }
    MxOutcome {
        results,
        targets,
        hosts: hosts.checked.into_iter().map(|(_, h)| h).collect(),
        past_cap: hosts.past_cap,
    }
}

/// The `mx.target` of each host in `checked` (preference, name) and the ones with addresses to
/// probe: every host's A/AAAA asked at once, each judged ([`judge_target`]); a host without
/// an address (NXDOMAIN, a dangling alias, only the other family's) is said so.
async fn host_targets(
    r: &Answers<'_>,
    checked: &[(u16, String)],
    family: Family,
    allow_private: bool,
    results: &mut Vec<CheckResult>,
) -> Vec<Target> {
    let lookups = checked.iter().map(|(pref, host)| async move {
        (*pref, host.clone(), r.address_sets(host, family).await)
    });
    let all = futures_join_all(lookups).await;
    let mut targets = Vec::new();
    for (pref, host, sets) in all {
        let mut merged = RrSet::default();
        let mut err = None;
        let mut addrs = Vec::new();
        for s in sets {
            match s {
                Ok(s) => {
                    for d in &s.records {
                        match d {
                            RData::A(a) => addrs.push(IpAddr::V4(a.0)),
                            RData::AAAA(a) => addrs.push(IpAddr::V6(a.0)),
                            _ => {}
                        }
                    }
                    merged.cnames.extend(s.cnames);
                    merged.nxdomain |= s.nxdomain;
                }
                Err(e) => err = Some(e),
            }
        }
        merged.cnames.dedup();
        if addrs.is_empty() && err.is_none() && !merged.nxdomain {
            // A CNAME loop is a broken zone, not a host without addresses.
            err = r.chain_trouble(&host, family).await.err();
        }
        match (err, addrs.is_empty()) {
            (Some(e), true) => {
                let status = if e.is_cname_loop() {
                    Status::Fail
                } else {
                    Status::Error
                };
                let mut c = CheckResult::new("mx.target", status, e.to_string());
                c.mx = Some(host.clone());
                results.push(c);
            }
            (_, true) if !merged.nxdomain && other_family_has(r, &host, family).await => {
                // -4/-6 and only the other family's addresses: nothing to test here.
                let mut c = CheckResult::new(
                    "mx.target",
                    Status::Skip,
                    format!("{host} has {}", no_address_in(family)),
                )
                .with("preference", pref);
                c.mx = Some(host.clone());
                results.push(c);
            }
            (_, true) => {
                let why = if merged.nxdomain {
                    "does not exist (NXDOMAIN)"
                } else {
                    "has no address record"
                };
                // A dangling alias (the CNAME left behind by a move) is the MX name that
                // exists: say where it leads, not that the name in the MX record is absent.
                let chain = alias_chain(r, &host, &merged.cnames).await;
                // The send says the same ([`crate::net::dns::DnsError::DeadEndAlias`]).
                let why = match &chain {
                    Some(chain) => crate::net::dns::dead_end_alias(
                        &host,
                        chain,
                        &format!(
                            "{} {why}",
                            chain.last().map(String::as_str).unwrap_or_default()
                        ),
                    ),
                    None => format!("{host} {why}"),
                };
                let mut c = CheckResult::new("mx.target", Status::Fail, why);
                if let Some(chain) = chain {
                    c = c.with("cname", json!(chain));
                }
                c.mx = Some(host.clone());
                results.push(c);
            }
            (_, false) => {
                let total = addrs.len();
                // In address order, not the answer's: name servers rotate RRsets.
                addrs.sort_unstable();
                let addrs = cap_addresses(addrs, MAX_HOST_ADDRESSES);
                let (res, target) = judge_target(&host, pref, &merged, Ok(addrs), allow_private);
                results.push(res);
                results.extend(host_left_out(&host, total));
                targets.extend(target);
            }
        }
    }
    targets
}

/// `mx.lookup`, `mx.null` and `mx.target` of `domain` checked with `--host HOST`: the MX
/// records are not asked (whatever they say, `host` is what is judged: a server about to be
/// published as the domain's MX), both lines say so and name `host`, and `host` is the one
/// target (preference 0), judged as an MX host is. The user named it, so a special-purpose
/// address is probed too, as with `--host` alone. Without `addresses` (neither `mx.target` nor
/// a probe selected) its addresses are not asked. With `connect_to` (`--connect-to`, already of
/// the -4/-6 family) `host`'s DNS is not asked either: those addresses are its target, and
/// `mx.target` says where they came from (evidence `address_source`).
pub(crate) async fn named_mx_checks(
    r: &Answers<'_>,
    domain: &str,
    host: &str,
    connect_to: &[IpAddr],
    family: Family,
    addresses: bool,
) -> MxOutcome {
    let why = format!(
        "not used: --host {host} is checked in place of the MX records of {domain} (not looked up)"
    );
    let mut results = vec![
        CheckResult::new("mx.lookup", Status::Skip, why.as_str())
            .with("host", host)
            .with("mx_records", "not used"),
        CheckResult::new(
            "mx.null",
            Status::Skip,
            format!("not used: the MX records are not looked up (--host {host})"),
        )
        .with("host", host),
    ];
    let targets = if !connect_to.is_empty() {
        let (mut c, target) =
            judge_target(host, 0, &RrSet::default(), Ok(connect_to.to_vec()), true);
        c.summary = format!(
            "{host} → {} (--connect-to; the A/AAAA records of {host} not looked up)",
            connect_to
                .iter()
                .map(IpAddr::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        results.push(c.with("address_source", "--connect-to"));
        target.into_iter().collect()
    } else if addresses {
        host_targets(r, &[(0, host.to_string())], family, true, &mut results).await
    } else {
        Vec::new()
    };
    MxOutcome {
        results,
        targets,
        hosts: vec![host.to_string()],
        past_cap: Vec::new(),
    }
}

/// The CNAME chain from `host`, for a host that ended without addresses: `known` when the
/// lookup kept it, else asked one link at a time (an NXDOMAIN answer loses the CNAME records
/// it carried), at most as many links as the resolver follows. `None`: `host` is no alias.
pub(crate) async fn alias_chain(
    r: &Answers<'_>,
    host: &str,
    known: &[String],
) -> Option<Vec<String>> {
    if !known.is_empty() {
        return Some(known.to_vec());
    }
    let mut chain: Vec<String> = Vec::new();
    let mut name = host.to_string();
    while chain.len() < crate::net::dns::MAX_CNAME_LINKS {
        let next = r.data(&name, RecordType::CNAME).await.ok().and_then(|set| {
            set.records.iter().find_map(|d| match d {
                RData::CNAME(c) => Some(crate::net::dns::bare(&c.0)),
                _ => None,
            })
        });
        match next {
            Some(n) if !chain.contains(&n) && !n.eq_ignore_ascii_case(host) => {
                name = n.clone();
                chain.push(n);
            }
            _ => break,
        }
    }
    (!chain.is_empty()).then_some(chain)
}

/// With `-4`/`-6`: does `name` have addresses of the other family? Then having none in the chosen
/// one is a skip ([`no_address_in`]), not the "no address record" failure.
async fn other_family_has(r: &Answers<'_>, name: &str, family: Family) -> bool {
    let other = match family {
        Family::Any => return false,
        Family::V4 => Family::V6,
        Family::V6 => Family::V4,
    };
    r.addresses(name, other).await.is_ok_and(|a| !a.is_empty())
}

/// The skip's reason for a name without an address of the chosen family.
pub(crate) fn no_address_in(family: Family) -> &'static str {
    match family {
        Family::V4 => "no IPv4 address (-4)",
        _ => "no IPv6 address (-6)",
    }
}

/// The MX hosts `check` looks at, by the send's rules ([`crate::net::dns`]'s `mail_hosts`).
struct UsableHosts {
    /// (preference, host) to check, in preference order.
    checked: Vec<(u16, String)>,
    /// `mx.target` fails for exchanges that are IP addresses.
    refused: Vec<CheckResult>,
    /// A host named in several records (as first written) and in how many.
    repeated: Vec<(String, usize)>,
    /// The `mx.target` warning for hosts past [`MAX_MX_HOSTS`], if any.
    left_out: Option<CheckResult>,
    /// The names of those hosts, in preference order.
    past_cap: Vec<String>,
}

/// Addresses of one MX host probed at most, and of one domain's MX hosts together: each is an
/// SMTP session, and a planted domain with hundreds of address records must not aim `check` at
/// hundreds of addresses (Postfix bounds the same with `smtp_mx_address_limit`).
pub(crate) const MAX_HOST_ADDRESSES: usize = 8;
/// See [`MAX_HOST_ADDRESSES`].
pub(crate) const MAX_DOMAIN_ADDRESSES: usize = 16;

/// The first `n` of `addrs` in their order, keeping room for both families when both are
/// there (up to half each when both have more), so a long A RRset does not crowd out the
/// IPv6 addresses that `ipv6.mx` is about.
fn cap_addresses(addrs: Vec<IpAddr>, n: usize) -> Vec<IpAddr> {
    if addrs.len() <= n {
        return addrs;
    }
    let v6 = addrs.iter().filter(|a| a.is_ipv6()).count();
    let v4 = addrs.len() - v6;
    let keep6 = v6.min(n.saturating_sub(v4).max(n / 2));
    let keep4 = v4.min(n - keep6);
    let (mut k4, mut k6) = (0, 0);
    addrs
        .into_iter()
        .filter(|a| {
            let (k, limit) = if a.is_ipv6() {
                (&mut k6, keep6)
            } else {
                (&mut k4, keep4)
            };
            *k += 1;
            *k <= limit
        })
        .collect()
}

/// The `mx.target` warning for a host with more than [`MAX_HOST_ADDRESSES`] addresses.
fn host_left_out(host: &str, total: usize) -> Option<CheckResult> {
    let left = total.checked_sub(MAX_HOST_ADDRESSES).filter(|n| *n > 0)?;
    let mut c = CheckResult::new(
        "mx.target",
        Status::Warn,
        format!(
            "{host} has {total} addresses: only the first {MAX_HOST_ADDRESSES} are checked, {left} left out"
        ),
    )
    .with("left_out", left);
    c.mx = Some(host.to_string());
    Some(c)
}

/// How many of the hosts left out a warning names.
const LEFT_OUT_NAMED: usize = 5;

/// Most MX records named in the `mx.lookup` summary, as the send's transcript lists them: a
/// hostile RRset of a thousand records must not make a thousand-item line.
const MX_SHOWN: usize = 8;

/// Most MX records kept in the `mx.lookup` JSON evidence (`records`, the rest counted in
/// `records_left_out`): as many as are checked ([`MAX_MX_HOSTS`]).
const MX_EVIDENCE: usize = MAX_MX_HOSTS;

/// The `mx.lookup` summary of `records` (`preference host`, in preference order): the first
/// [`MX_SHOWN`], then "… and K more".
fn shown_mx(records: &[String]) -> String {
    let mut s = records
        .iter()
        .take(MX_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if records.len() > MX_SHOWN {
        s.push_str(&format!(", … and {} more", records.len() - MX_SHOWN));
    }
    s
}

/// Sort `real` (the non-null MX records, in preference order) as the send does: an exchange that
/// is an IP address is no host name (RFC 1035 §3.3.9: a domain name; RFC 5321 §5.1 looks it up
/// as one; Postfix refuses it, "numeric domain name in resource data of MX record"), so it fails
/// `mx.target` and is neither looked up nor probed; a host named twice is checked once; past
/// [`MAX_MX_HOSTS`] the rest are left out with a warning (every host costs lookups and probes).
fn usable_hosts(domain: &str, real: Vec<(u16, String)>) -> UsableHosts {
    let mut hosts = UsableHosts {
        checked: Vec::new(),
        refused: Vec::new(),
        repeated: Vec::new(),
        left_out: None,
        past_cap: Vec::new(),
    };
    for (pref, host) in real {
        if parse_ip_literal(&host).is_some() {
            let mut c = CheckResult::new(
                "mx.target",
                Status::Fail,
                format!(
                    "{host} is an IP address, not a host name: an MX must name a host (RFC 1035 §3.3.9, RFC 5321 §5.1)"
                ),
            )
            .with("preference", pref);
            c.mx = Some(host);
            hosts.refused.push(c);
            continue;
        }
        if let Some(why) = not_a_host_name(&host) {
            let mut c = CheckResult::new("mx.target", Status::Fail, format!("{host} {why}"))
                .with("preference", pref);
            c.mx = Some(host);
            hosts.refused.push(c);
            continue;
        }
        match hosts
            .checked
            .iter()
            .find(|(_, h)| h.eq_ignore_ascii_case(&host))
        {
            Some((_, first)) => match hosts.repeated.iter_mut().find(|(h, _)| h == first) {
                Some((_, n)) => *n += 1,
                None => hosts.repeated.push((first.clone(), 2)),
            },
            None => hosts.checked.push((pref, host)),
        }
    }
    if hosts.checked.len() > MAX_MX_HOSTS {
        let left = hosts.checked.split_off(MAX_MX_HOSTS);
        let mut named: Vec<&str> = left
            .iter()
            .take(LEFT_OUT_NAMED)
            .map(|(_, h)| h.as_str())
            .collect();
        if left.len() > LEFT_OUT_NAMED {
            named.push("…");
        }
        hosts.left_out = Some(
            CheckResult::new(
                "mx.target",
                Status::Warn,
                format!(
                    "{domain} has {} MX hosts: only the first {MAX_MX_HOSTS} are checked, {} left out ({})",
                    MAX_MX_HOSTS + left.len(),
                    left.len(),
                    named.join(", ")
                ),
            )
            .with("left_out", left.len()),
        );
        hosts.past_cap = left.into_iter().map(|(_, h)| h).collect();
    }
    hosts
}

/// Why an MX exchange is no host name ([`crate::net::dns::is_host_name`]): a verdict on the
/// zone (Postfix skips the record, no sender connects to it), never "could not be tested".
fn not_a_host_name(host: &str) -> Option<String> {
    if crate::net::dns::is_host_name(host) {
        return None;
    }
    // `[192.0.2.1]` in an MX record: an SMTP address literal (RFC 5321 §4.1.3), not a name;
    // `2001:db8::1` as a label (its colons escaped): an IP address, not a name.
    let unescaped = host.replace('\\', "");
    if parse_ip_literal(&unescaped).is_some() {
        let what = if unescaped.starts_with('[') {
            "an address literal"
        } else {
            "an IP address"
        };
        return Some(format!(
            "is {what} ({unescaped}), not a host name: an MX must name a host (RFC 1035 §3.3.9, RFC 5321 §5.1)"
        ));
    }
    Some(
        "is not a host name: a label holds characters other than letters, digits and hyphens \
         (RFC 1123 §2.1, RFC 5321 §2.3.5); senders skip this MX record"
            .to_string(),
    )
}

/// `mx.target` for one host with its addresses.
fn judge_target(
    host: &str,
    preference: u16,
    set: &RrSet,
    addrs: Result<Vec<IpAddr>, DnsError>,
    allow_private: bool,
) -> (CheckResult, Option<Target>) {
    let addrs = addrs.unwrap_or_default();
    let shown: Vec<String> = addrs.iter().map(IpAddr::to_string).collect();
    let special: Vec<String> = addrs
        .iter()
        .filter_map(|a| special_purpose(*a).map(|w| format!("{a} ({w})")))
        .collect();
    let probe: Vec<IpAddr> = addrs
        .iter()
        .copied()
        .filter(|a| allow_private || special_purpose(*a).is_none())
        .collect();
    let (status, summary) = if !special.is_empty() && !allow_private {
        (
            Status::Fail,
            format!(
                "{host} → {}: special-purpose address (RFC 6890), not probed (--allow-private to test it)",
                special.join(", ")
            ),
        )
    } else if !set.cnames.is_empty() {
        (
            Status::Warn,
            crate::net::dns::mx_alias_problem(host, &set.cnames),
        )
    } else {
        (Status::Pass, format!("{host} → {}", shown.join(", ")))
    };
    let mut c = CheckResult::new("mx.target", status, summary)
        .with("addresses", json!(shown))
        .with("cname", json!(set.cnames))
        .with("preference", preference);
    c.mx = Some(host.to_string());
    let target = (!probe.is_empty()).then(|| Target {
        host: host.to_string(),
        preference,
        addrs: probe,
    });
    (c, target)
}

/// Join futures without pulling in a futures crate: they are few (one per MX host).
async fn futures_join_all<F: std::future::Future>(
    futs: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out = Vec::with_capacity(set.len());
    // Sequential awaits would serialise the lookups; poll them together instead.
    let mut pending: Vec<Option<std::pin::Pin<Box<F>>>> = set.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(results.into_iter().flatten());
    out
}

async fn txt(r: &Resolver, name: &str) -> Result<RrSet, DnsError> {
    r.rrset(name, RecordType::TXT).await
}

fn txt_check(
    id: &'static str,
    set: Result<RrSet, DnsError>,
    judge: fn(&[String]) -> CheckResult,
    t0: Instant,
) -> CheckResult {
    match set {
        Ok(s) => judge(&s.txt_strings()).timed(ms(t0)),
        Err(e) => CheckResult::new(id, Status::Error, e.to_string()).timed(ms(t0)),
    }
}

/// A domain the MX question found not to exist (`mx.lookup` NXDOMAIN) publishes no SPF, DMARC,
/// MTA-STS, TLS-RPT or DKIM records (RFC 8020: nothing exists under it either): those checks
/// are skipped "no such domain", as `mx.null` and `mx.target` are, rather than reported as
/// missing records, so the one finding is `mx.lookup`. Without `mx.lookup` (`--only
/// spf.record`), the SPF TXT query, asked at the domain itself, proves it as well when it says
/// NXDOMAIN; a skip fails nothing, so the skip says that `mx.lookup`, which fails such a domain,
/// was not selected.
pub(crate) fn skip_records_of_no_such_domain(results: &mut [CheckResult]) {
    let nx = |c: &CheckResult, id: &str| {
        c.id == id && c.evidence.get("rcode").and_then(|v| v.as_str()) == Some("NXDOMAIN")
    };
    let summary = if results.iter().any(|c| nx(c, "mx.lookup")) {
        "no such domain"
    } else if !results.iter().any(|c| nx(c, "spf.record")) {
        return;
    } else if results.iter().any(|c| c.id == "mx.lookup") {
        "no such domain"
    } else {
        NO_SUCH_DOMAIN_UNSELECTED
    };
    for c in results.iter_mut() {
        if matches!(
            c.id,
            "spf.record" | "dmarc.record" | "mtasts.txt" | "tlsrpt.record" | "dkim.hint"
        ) {
            *c = CheckResult::new(c.id, Status::Skip, summary);
        }
    }
}

/// The skip of a domain only its own SPF TXT query found missing.
const NO_SUCH_DOMAIN_UNSELECTED: &str =
    "no such domain (NXDOMAIN): not a failure here, as mx.lookup, which fails it, is not selected";

/// The TXT-record checks `lookups` asks for, all lookups at once; the others are not asked
/// and give no result.
pub(crate) async fn txt_checks(r: &Resolver, domain: &str, lookups: &Lookups) -> Vec<CheckResult> {
    let t0 = Instant::now();
    let sts = format!("_mta-sts.{domain}");
    let rpt = format!("_smtp._tls.{domain}");
    let dmarc = format!("_dmarc.{domain}");
    let dkim = format!("_domainkey.{domain}");
    let ask = |wanted: bool, name: &str| {
        let name = name.to_string();
        async move {
            if wanted {
                Some(txt(r, &name).await)
            } else {
                None
            }
        }
    };
    let (a, b, c, d, e) = tokio::join!(
        ask(lookups.mtasts_txt, &sts),
        ask(lookups.tlsrpt, &rpt),
        ask(lookups.spf, domain),
        ask(lookups.dmarc, &dmarc),
        ask(lookups.dkim, &dkim)
    );
    let dkim = e.map(|e| match e {
        Ok(s) if s.nxdomain => CheckResult::new(
            "dkim.hint",
            Status::Info,
            format!("{dkim} does not exist: no DKIM keys are published under it (RFC 8020)"),
        ),
        Ok(_) => CheckResult::new(
            "dkim.hint",
            Status::Info,
            format!("{dkim} exists: DKIM keys are likely published (selectors cannot be listed)"),
        ),
        Err(e) => CheckResult::new("dkim.hint", Status::Error, e.to_string()),
    });
    // SPF includes and the DMARC parent walk need more lookups; both at once.
    let spf = async {
        match c? {
            // Marked for `skip_records_of_no_such_domain`, which words the skip.
            Ok(s) if s.nxdomain => Some(
                CheckResult::new("spf.record", Status::Skip, NO_SUCH_DOMAIN_UNSELECTED)
                    .with("rcode", "NXDOMAIN")
                    .timed(ms(t0)),
            ),
            Ok(s) => Some(super::dnsauth::spf(r, &s.txt_strings()).await.timed(ms(t0))),
            Err(e) => {
                Some(CheckResult::new("spf.record", Status::Error, e.to_string()).timed(ms(t0)))
            }
        }
    };
    let dmarc = async {
        match d? {
            Ok(s) => Some(
                super::dnsauth::dmarc(r, domain, &s.txt_strings())
                    .await
                    .timed(ms(t0)),
            ),
            Err(e) => {
                Some(CheckResult::new("dmarc.record", Status::Error, e.to_string()).timed(ms(t0)))
            }
        }
    };
    let (spf, dmarc) = tokio::join!(spf, dmarc);
    [
        a.map(|a| txt_check("mtasts.txt", a, records::mtasts_txt, t0)),
        b.map(|b| txt_check("tlsrpt.record", b, records::tlsrpt, t0)),
        spf,
        dmarc,
        dkim.map(|d| d.timed(ms(t0))),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// `mx.lookup` and `mx.null` for a domain without MX records: its own address records are the
/// implicit MX (RFC 5321 §5.1), a warn; no null MX.
fn implicit_mx(elapsed_ms: f64) -> [CheckResult; 2] {
    [
        CheckResult::new(
            "mx.lookup",
            Status::Warn,
            "no MX record: mail goes to the domain's own address (implicit MX, RFC 5321 §5.1)",
        )
        .with("records", json!([]))
        .with("count", 0)
        .with("implicit", true)
        .timed(elapsed_ms),
        CheckResult::new("mx.null", Status::Info, "no null MX"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    /// IP-address exchanges of both families fail, named; repeats differ in case only; a long
    /// list left out is named in part.
    #[test]
    fn usable_hosts_follow_the_send_rules() {
        let mut real = vec![
            (1, "192.0.2.1".to_string()),
            (2, "2001:db8::1".to_string()),
            (3, "a.d.test".to_string()),
            (4, "A.D.test".to_string()),
        ];
        real.extend((0..20).map(|i| (10 + i, format!("m{i}.d.test"))));
        let hosts = usable_hosts("d.test", real);
        let refused: Vec<(&str, Status, Option<&str>)> = hosts
            .refused
            .iter()
            .map(|c| (c.id, c.status, c.mx.as_deref()))
            .collect();
        assert_eq!(
            refused,
            [
                ("mx.target", Status::Fail, Some("192.0.2.1")),
                ("mx.target", Status::Fail, Some("2001:db8::1")),
            ]
        );
        assert_eq!(hosts.repeated, [("a.d.test".to_string(), 2)]);
        assert_eq!(hosts.checked.len(), MAX_MX_HOSTS);
        assert_eq!(hosts.checked[0], (3, "a.d.test".to_string()));
        assert_eq!(hosts.checked[MAX_MX_HOSTS - 1].1, "m8.d.test");
        let left = hosts.left_out.unwrap();
        assert_eq!(
            (left.id, left.status, left.mx),
            ("mx.target", Status::Warn, None)
        );
        assert_eq!(
            left.summary,
            "d.test has 21 MX hosts: only the first 10 are checked, 11 left out (m9.d.test, m10.d.test, m11.d.test, m12.d.test, m13.d.test, …)"
        );
        // Within the limit: nothing left out.
        let few = usable_hosts("d.test", vec![(10, "mx.d.test".into())]);
        assert!(few.left_out.is_none() && few.refused.is_empty() && few.repeated.is_empty());
    }

    /// An exchange that is no host name (as `bare` writes one: escaped bytes, a `.` inside a
    /// label, a `*`, an address literal in brackets) fails `mx.target` and is neither looked up
    /// nor probed; underscores pass, as in Postfix.
    #[test]
    fn an_exchange_that_is_no_host_name_fails_unlooked_up() {
        let real: Vec<(u16, String)> = [
            "mx\\032sp.d.test",
            "mx\\000nul.d.test",
            "mx\\.dot.d.test",
            "*.d.test",
            "m\\195\\169x.d.test",
            "\\[192.0.2.1\\]",
            "\\[IPv6\\:2001\\:db8\\:\\:1\\]",
            "2001\\:db8\\:\\:2",
            "mx_under.d.test",
            "Mx-1.d.test",
        ]
        .iter()
        .enumerate()
        .map(|(i, h)| (i as u16, h.to_string()))
        .collect();
        let hosts = usable_hosts("d.test", real);
        let checked: Vec<&str> = hosts.checked.iter().map(|(_, h)| h.as_str()).collect();
        assert_eq!(checked, ["mx_under.d.test", "Mx-1.d.test"]);
        let refused: Vec<(Status, &str)> = hosts
            .refused
            .iter()
            .map(|c| (c.status, c.summary.as_str()))
            .collect();
        assert_eq!(refused.len(), 8, "{refused:?}");
        assert!(
            refused[7]
                .1
                .starts_with("2001\\:db8\\:\\:2 is an IP address (2001:db8::2), not a host name"),
            "{}",
            refused[7].1
        );
        assert!(
            refused.iter().all(|(s, _)| *s == Status::Fail),
            "{refused:?}"
        );
        assert!(
            refused[0]
                .1
                .starts_with("mx\\032sp.d.test is not a host name: a label holds"),
            "{}",
            refused[0].1
        );
        assert!(
            refused[5].1.starts_with(
                "\\[192.0.2.1\\] is an address literal ([192.0.2.1]), not a host name"
            ),
            "{}",
            refused[5].1
        );
        assert!(
            refused[6]
                .1
                .contains("address literal ([IPv6:2001:db8::1])"),
            "{}",
            refused[6].1
        );
    }

    #[test]
    fn cap_addresses_keeps_both_families() {
        let v4 = |i: u8| IpAddr::V4(Ipv4Addr::new(192, 0, 2, i));
        let v6 = |i: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i));
        let few = vec![v4(1), v6(1)];
        assert_eq!(cap_addresses(few.clone(), 8), few);
        // 20 A then 1 AAAA: the AAAA is kept.
        let mut many: Vec<IpAddr> = (1..=20).map(v4).collect();
        many.push(v6(1));
        let kept = cap_addresses(many, 8);
        assert_eq!(kept.len(), 8);
        assert_eq!(kept.iter().filter(|a| a.is_ipv6()).count(), 1);
        assert_eq!(kept[0], v4(1));
        // Both long: half each, in their order.
        let mut both: Vec<IpAddr> = (1..=10).map(v6).collect();
        both.extend((1..=10).map(v4));
        let kept = cap_addresses(both, 8);
        assert_eq!(kept[..4], [v6(1), v6(2), v6(3), v6(4)]);
        assert_eq!(kept[4..], [v4(1), v4(2), v4(3), v4(4)]);
    }

    #[test]
    fn special_purpose_ranges() {
        for a in [
            "127.0.0.2",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "0.1.2.3",
            "100.64.0.1",
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "2001:db8::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "100::1",
        ] {
            assert!(special_purpose(a.parse().unwrap()).is_some(), "{a}");
        }
        for a in [
            "192.0.3.1",
            "8.8.8.8",
            "2a00:1450::1",
            "100.128.0.1",
            "2001:3::1",
            "2001:30::1",
            "4000::1",
            "3fef::1",
        ] {
            assert!(special_purpose(a.parse().unwrap()).is_none(), "{a}");
        }
        // Each named as what it is: `::1` was "loopback or unspecified" (127.0.0.1 "loopback"),
        // and the IPv6 ranges RFC 6890's registry has gained since were public addresses.
        for (a, what) in [
            ("::1", "loopback"),
            ("127.0.0.1", "loopback"),
            ("::", "unspecified"),
            ("3fff:123::1", "documentation (RFC 3849, RFC 9637)"),
            ("2001:2::25", "benchmarking (RFC 5180)"),
            ("2001:2f::1", "ORCHIDv2 (RFC 7343)"),
            ("5f00::1", "SRv6 SIDs (RFC 9602)"),
        ] {
            assert_eq!(special_purpose(a.parse().unwrap()), Some(what), "{a}");
        }
    }
}
