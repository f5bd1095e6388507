//! The DNSSEC and DANE checks of `ehlo check` (RFC 7672): `dnssec.domain`, `dnssec.mx`,
//! `dane.tlsa`, `dane.usable` and `dane.rollover` from validated DNS answers, once per MX host,
//! and `dane.match` and `dane.starttls` from each (MX host, address) probe's TLS evidence.
//!
//! A secure TLSA RRset is a promise senders enforce: they require STARTTLS and authenticate the
//! server by the records, and they defer mail when the TLSA lookup fails (RFC 7672 §2.2) —
//! so a bogus answer or a mismatch is a failure, while an unsigned zone is only "no DANE".

use std::collections::HashMap;
use std::net::IpAddr;

use hickory_resolver::proto::rr::RecordType;
use openssl::x509::X509;
use serde_json::json;

use super::answers::Answers;
use super::model::{self, CheckResult, Status};
use super::select::DnssecDepth;
use crate::net::dane::{self, Tlsa};
use crate::net::dns::{DnsError, DnsProof, Family, RrSet};
use crate::smtp::event::plural_s;

/// The domain-scope ids of this module, in report order.
pub(crate) const DNS_IDS: [&str; 5] = [
    "dnssec.domain",
    "dnssec.mx",
    "dane.tlsa",
    "dane.usable",
    "dane.rollover",
];

/// TLSA records listed in the `dane.tlsa` summary (an enormous RRset is counted, not listed).
const SHOWN_RECORDS: usize = 8;

/// The host-scope ids, judged from each probe.
pub(crate) const HOST_IDS: [&str; 2] = ["dane.starttls", "dane.match"];

/// The secure TLSA RRset of one MX host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostTlsa {
    /// `_PORT._tcp.<base>`.
    pub(crate) owner: String,
    /// The TLSA base domain (the host, or its secure CNAME expansion).
    pub(crate) base: String,
    /// Every record of the RRset.
    pub(crate) records: Vec<Tlsa>,
}

/// What the DNS half found.
#[derive(Debug, Default)]
pub(crate) struct DnsOutcome {
    /// `dnssec.*`, `dane.tlsa`, `dane.usable`, `dane.rollover` (per MX host lines carry `mx`).
    pub(crate) results: Vec<CheckResult>,
    /// MX host (lower case) → its secure, non-empty TLSA RRset.
    pub(crate) tlsa: HashMap<String, HostTlsa>,
    /// MX host (lower case) → why its TLSA lookup failed (bogus, SERVFAIL, a timeout): the
    /// skips of its host checks say so instead of "no DANE" ([`lookup_failed_checks`]).
    pub(crate) failed: HashMap<String, FailedLookup>,
}

/// A TLSA lookup of one MX host that gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FailedLookup {
    /// `_PORT._tcp.<host>`.
    pub(crate) owner: String,
    /// A failure senders meet too (bogus, SERVFAIL), not a timeout that told nothing.
    pub(crate) senders_defer: bool,
}

fn proof_name(p: Option<DnsProof>) -> &'static str {
    p.map(DnsProof::as_str).unwrap_or("unvalidated")
}

/// A DNSSEC verdict on data, not a failed lookup: a bogus answer (RFC 4035 §5.5; a
/// validating resolver's SERVFAIL counts when, asked with checking disabled, it serves the
/// records) or a CNAME chain that comes back to itself (a broken zone). Anything else — a
/// timeout, an unreadable reply, an error RCODE the resolver gave even with checking disabled
/// (SERVFAIL, REFUSED…) — is a lookup that failed: `mx.lookup` and `mx.target` could not test
/// the same answer, and the DNSSEC checks that share it could not either.
fn is_verdict(e: &DnsError) -> bool {
    e.is_bogus() || e.is_cname_loop()
}

/// The status of a failed MX or address lookup for `dnssec.domain` and `dnssec.mx`: the same
/// answer `mx.lookup` and `mx.target` judge, so the same judgement — `fail` only for a
/// verdict ([`is_verdict`]), else `error` (could not be tested).
fn failed_status(e: &DnsError) -> Status {
    if is_verdict(e) {
        Status::Fail
    } else {
        Status::Error
    }
}

/// The status of a failed TLSA lookup (RFC 7672 §2.2): a verdict, and a SERVFAIL that
/// checking disabled did not lift (the zone's own name servers fail the TLSA question, a
/// breakage DANE senders meet and defer on), fail; a timeout, an unreadable reply or another
/// RCODE (REFUSED: this resolver's policy, which a sender's own resolver does not share)
/// could not be tested.
fn tlsa_failed_status(e: &DnsError) -> Status {
    if is_verdict(e) || e.rcode().as_deref() == Some("SERVFAIL") {
        Status::Fail
    } else {
        Status::Error
    }
}

/// The status and summary of a DNSSEC lookup of `what` that failed with `e`, worded by what
/// is known: a bogus answer (RFC 4035 §5.5) is what validating senders meet, so `consequence`
/// follows; a failed lookup ([`failed_status`]: an error) told nothing about the data, so
/// nothing about senders is claimed; a CNAME loop is named as such, without the consequence.
fn dnssec_failure(e: &DnsError, what: &str, consequence: &str) -> (Status, String) {
    let status = failed_status(e);
    let summary = if e.is_bogus() {
        format!("{e}: {consequence}")
    } else if status == Status::Error && e.rcode().is_some() {
        format!("{e}: whether {what} validate is not known (the lookup failed, no DNSSEC verdict)")
    } else if status == Status::Error {
        format!("{e}: whether {what} validate is not known (the resolver told nothing)")
    } else {
        format!("{e}: {what} could not be validated")
    };
    (status, summary)
}

fn on_host(mut c: CheckResult, host: &str) -> CheckResult {
    c.mx = Some(host.to_string());
    c
}

/// The weaker of two proofs (bogus < indeterminate < insecure < secure).
fn weakest(a: Option<DnsProof>, b: Option<DnsProof>) -> Option<DnsProof> {
    let rank = |p: DnsProof| match p {
        DnsProof::Bogus => 0,
        DnsProof::Indeterminate => 1,
        DnsProof::Insecure => 2,
        DnsProof::Secure => 3,
    };
    match (a, b) {
        (Some(x), Some(y)) => Some(if rank(x) <= rank(y) { x } else { y }),
        (x, y) => x.or(y),
    }
}

/// Every DNS-side result skipped for `why` (per domain, no host).
fn all_skipped(why: &str) -> Vec<CheckResult> {
    DNS_IDS
        .iter()
        .map(|id| CheckResult::new(id, Status::Skip, why))
        .collect()
}

/// The DNS half for `domain` whose MX hosts are `hosts` (the domain itself for an implicit
/// MX), from the validated answers the MX checks already got (`--dnssec off`: all skipped).
/// Only as deep as `depth` ([`DnssecDepth`]): the hosts' addresses and TLSA records are not
/// asked when no selected check reads them, and their results are left out. `mx_host`: the
/// `--host HOST` given with domains, which `dnssec.domain` says it did not judge (evidence `host`).
/// `connect_to`: that host's `--connect-to` addresses; with any, its A/AAAA records are not
/// asked (`dnssec.mx` is a skip saying so), its TLSA records are.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn dns_checks(
    answers: &Answers<'_>,
    domain: &str,
    hosts: &[String],
    depth: DnssecDepth,
    family: Family,
    port: u16,
    root_anchors: bool,
    mx_host: Option<&str>,
    connect_to: &[IpAddr],
) -> DnsOutcome {
    if !answers.validating() {
        return DnsOutcome {
            results: all_skipped("DNSSEC validation is off (--dnssec off)"),
            ..DnsOutcome::default()
        };
    }
    let mut out = DnsOutcome::default();
    // dnssec.domain: the MX RRset (or its proven absence) of the domain, as published now. With
    // `--host HOST` the line says so: HOST stands in for the hosts the records name, but the
    // records that will name it are in the same zone, judged as they are today.
    let instead = mx_host.map(|h| {
        format!(
            "; judged: the MX RRset as published now, not --host {h} (the MX record that will \
             name {h} is signed as this one is)"
        )
    });
    let judged = |c: CheckResult| match mx_host {
        Some(h) => c.with("host", h),
        None => c,
    };
    let mx_proof = match answers.validated(domain, RecordType::MX).await {
        Ok(set) => {
            // What the proof is of, worded so its verb agrees: the records, their absence
            // (NODATA: an implicit MX), or the domain's (NXDOMAIN, RFC 4035 §5.4).
            let (what, are, do_) = if set.nxdomain {
                (
                    format!("{domain} does not exist (NXDOMAIN): its denial"),
                    "is",
                    "does",
                )
            } else if set.records.is_empty() {
                (
                    format!("the absence of MX records of {domain}"),
                    "is",
                    "does",
                )
            } else {
                (format!("the MX records of {domain}"), "are", "do")
            };
            let (st, summary) = match set.proof {
                Some(DnsProof::Secure) => {
                    (Status::Pass, format!("{what} {are} DNSSEC-signed (secure)"))
                }
                Some(DnsProof::Insecure) => (
                    Status::Info,
                    format!(
                        "the MX records of {domain} are not signed (insecure): DANE cannot apply to its mail"
                    ),
                ),
                p => (
                    Status::Fail,
                    format!(
                        "{what} {do_} not validate ({}): validating senders defer its mail",
                        proof_name(p)
                    ),
                ),
            };
            let mut summary = summary;
            if let Some(instead) = &instead {
                summary.push_str(instead);
            }
            if st == Status::Fail && root_anchors && !chain_reaches_root(answers, domain).await {
                summary.push_str(PRIVATE_ZONE);
            }
            out.results.push(judged(
                CheckResult::new("dnssec.domain", st, summary).with("proof", proof_name(set.proof)),
            ));
            set.proof
        }
        Err(e) => {
            let (st, mut summary) = dnssec_failure(
                &e,
                &format!("the MX records of {domain}"),
                &format!("validating senders defer mail to {domain}"),
            );
            if let Some(instead) = &instead {
                summary.push_str(instead);
            }
            if e.is_bogus() && root_anchors && !chain_reaches_root(answers, domain).await {
                summary.push_str(PRIVATE_ZONE);
            }
            out.results.push(judged(
                CheckResult::new("dnssec.domain", st, summary).with("error", e.to_string()),
            ));
            Some(DnsProof::Bogus)
        }
    };
    if depth < DnssecDepth::Hosts {
        return out;
    }
    if hosts.is_empty() {
        for id in &DNS_IDS[1..] {
            out.results
                .push(CheckResult::new(id, Status::Skip, "no MX host"));
        }
        return out;
    }
    for host in hosts {
        host_dns(
            answers, domain, host, depth, family, port, mx_proof, connect_to, &mut out,
        )
        .await;
    }
    out
}

/// Said after a `dnssec.domain` failure validated from the root anchors when even the
/// domain's top-level domain does not validate: the chain of trust never reaches the root
/// (a private or test zone such as `dnssec.test`, RFC 6761 §6.2, a resolver that answers only
/// for its own zones), so only an anchor of the zone's own can validate it.
const PRIVATE_ZONE: &str = " (its chain of trust does not reach the root's anchor: a private \
     zone needs --dns-trust-anchor FILE with its DNSKEY)";

/// Does the chain of trust from the root anchors reach `domain`'s top-level domain (its SOA
/// proven secure or insecure)? A domain of one label asks about the root itself. Asked only
/// after the domain failed validation, so a normal run asks nothing more.
async fn chain_reaches_root(answers: &Answers<'_>, domain: &str) -> bool {
    let domain = domain.trim_end_matches('.');
    let tld = match domain.rsplit_once('.') {
        Some((_, tld)) => tld,
        None => ".",
    };
    matches!(
        answers.validated(tld, RecordType::SOA).await,
        Ok(RrSet {
            proof: Some(DnsProof::Secure | DnsProof::Insecure),
            ..
        })
    )
}

/// `dnssec.mx`, `dane.tlsa`, `dane.usable`, `dane.rollover` for one MX host (`dnssec.mx`
/// alone above [`DnssecDepth::Tlsa`]). With `connect_to` (the `--connect-to` addresses of
/// `--host HOST`) HOST's A/AAAA records are not asked: the user said where HOST is, and a new
/// MX is often in no DNS yet, so `dnssec.mx` is a skip naming the flag; its TLSA records are
/// still looked up (senders will ask for them once an MX record names HOST).
#[allow(clippy::too_many_arguments)]
async fn host_dns(
    answers: &Answers<'_>,
    domain: &str,
    host: &str,
    depth: DnssecDepth,
    family: Family,
    port: u16,
    mx_proof: Option<DnsProof>,
    connect_to: &[IpAddr],
    out: &mut DnsOutcome,
) {
    if !connect_to.is_empty() {
        let given: Vec<String> = connect_to.iter().map(IpAddr::to_string).collect();
        out.results.push(on_host(
            CheckResult::new(
                "dnssec.mx",
                Status::Skip,
                format!(
                    "the addresses of {host} not looked up (--connect-to {}): check again \
                     without --connect-to once {host} is in DNS",
                    given.join(",")
                ),
            )
            .with("address_source", "--connect-to")
            .with("addresses", json!(given)),
            host,
        ));
        if depth < DnssecDepth::Tlsa {
            return;
        }
        return host_tlsa(
            answers,
            domain,
            host,
            port,
            mx_proof,
            HostAddrs::Secure,
            out,
        )
        .await;
    }
    let rtypes: &[RecordType] = match family {
        Family::Any => &[RecordType::AAAA, RecordType::A],
        Family::V4 => &[RecordType::A],
        Family::V6 => &[RecordType::AAAA],
    };
    let mut proof: Option<DnsProof> = None;
    let mut error = None;
    // Any address record at all, and whether the name is absent: a proof that the host has
    // no address (NXDOMAIN or NODATA, RFC 4035 §5.4) is no address that validates.
    let mut addressed = false;
    let mut nxdomain = false;
    let mut cnames: Vec<String> = Vec::new();
    for rt in rtypes {
        match answers.validated(host, *rt).await {
            Ok(set) => {
                proof = weakest(proof, set.proof);
                addressed |= !set.records.is_empty();
                nxdomain |= set.nxdomain;
                cnames.extend(set.cnames);
            }
            Err(e) => error = Some(e),
        }
    }
    let addrs = if error.is_none() && !addressed {
        HostAddrs::Absent
    } else if error.is_none() && proof == Some(DnsProof::Secure) {
        HostAddrs::Secure
    } else {
        HostAddrs::NotSecure
    };
    let dnssec_mx = match (&error, proof) {
        (Some(e), _) => {
            let (st, summary) = dnssec_failure(
                e,
                &format!("the addresses of {host}"),
                &format!("validating senders cannot reach {host}"),
            );
            // The failed lookup decides the proof: the other family's (a securely denied
            // AAAA beside a bogus A) is not the addresses' proof; a lookup that failed with
            // no DNSSEC verdict (a timeout) has none to show, as `dnssec.domain` has none.
            let c = CheckResult::new("dnssec.mx", st, summary).with("error", e.to_string());
            let c = if e.is_bogus() {
                c.with("proof", proof_name(Some(DnsProof::Bogus)))
            } else {
                c
            };
            out.results.push(on_host(c, host));
            if depth >= DnssecDepth::Tlsa {
                host_tlsa(answers, domain, host, port, mx_proof, addrs, out).await;
            }
            return;
        }
        // Nothing to judge: mx.target says the host cannot receive mail.
        (None, p) if !addressed => {
            let absent = if nxdomain {
                "does not exist (NXDOMAIN)".to_string()
            } else {
                match family {
                    Family::Any => "has no address record".to_string(),
                    f => format!("has {}", super::domain::no_address_in(f)),
                }
            };
            // A dangling alias: the denial is of the chain's end, not of the name in the MX
            // record, which exists (RFC 2181 §10.3); worded as mx.target words it.
            cnames.dedup();
            let chain = super::domain::alias_chain(answers, host, &cnames).await;
            let said = match &chain {
                Some(chain) => crate::net::dns::dead_end_alias(
                    host,
                    chain,
                    &format!(
                        "{} {absent}",
                        chain.last().map(String::as_str).unwrap_or_default()
                    ),
                ),
                None => format!("{host} {absent}"),
            };
            let c = CheckResult::new(
                "dnssec.mx",
                Status::Skip,
                format!(
                    "{said}, {} denial: no addresses to judge; senders cannot connect to it \
                     (mx.target)",
                    proof_name(p)
                ),
            );
            let c = match chain {
                Some(chain) => c.with("cname", json!(chain)),
                None => c,
            };
            if nxdomain {
                c.with("rcode", "NXDOMAIN")
            } else {
                c
            }
        }
        (None, Some(DnsProof::Secure)) => CheckResult::new(
            "dnssec.mx",
            Status::Pass,
            format!("the addresses of {host} are DNSSEC-signed (secure)"),
        ),
        (None, Some(DnsProof::Insecure)) => CheckResult::new(
            "dnssec.mx",
            Status::Info,
            format!(
                "the addresses of {host} are not signed (insecure): senders do not look up its TLSA records (RFC 7672 §2.2.2)"
            ),
        ),
        (None, p) => CheckResult::new(
            "dnssec.mx",
            Status::Fail,
            format!(
                "the addresses of {host} do not validate ({}): validating senders cannot reach it",
                proof_name(p)
            ),
        ),
    };
    out.results
        .push(on_host(dnssec_mx.with("proof", proof_name(proof)), host));
    if depth < DnssecDepth::Tlsa {
        return;
    }
    host_tlsa(answers, domain, host, port, mx_proof, addrs, out).await
}

/// What the address lookups of an MX host found, for its TLSA lookup (RFC 7672 §2.2).
#[derive(Clone, Copy, PartialEq, Eq)]
enum HostAddrs {
    /// Addresses, every lookup secure (or given by --connect-to).
    Secure,
    /// Addresses not all secure, or a lookup failed.
    NotSecure,
    /// No address record at all (NXDOMAIN or NODATA): nowhere to connect.
    Absent,
}

/// `dane.tlsa`, `dane.usable`, `dane.rollover` for one MX host, after its MX lookup
/// (`mx_proof`) and address lookups (`addrs`, RFC 7672 §2.2).
async fn host_tlsa(
    answers: &Answers<'_>,
    domain: &str,
    host: &str,
    port: u16,
    mx_proof: Option<DnsProof>,
    addrs: HostAddrs,
    out: &mut DnsOutcome,
) {
    let owner = format!("_{port}._tcp.{host}");
    let no_dane = |why: String, out: &mut DnsOutcome| {
        out.results.push(on_host(
            CheckResult::new("dane.tlsa", Status::Info, format!("no DANE: {why}"))
                .with("owner", owner.as_str()),
            host,
        ));
        for id in ["dane.usable", "dane.rollover"] {
            out.results
                .push(on_host(CheckResult::new(id, Status::Skip, "no DANE"), host));
        }
    };
    if mx_proof != Some(DnsProof::Secure) {
        let why = format!(
            "the MX lookup of {domain} is {}: senders do not look up TLSA records (RFC 7672 §2.2.1)",
            proof_name(mx_proof)
        );
        return no_dane(why, out);
    }
    if addrs == HostAddrs::Absent {
        let why = format!("{host} has no address: senders do not connect to it (mx.target)");
        return no_dane(why, out);
    }
    if addrs != HostAddrs::Secure {
        let why = format!(
            "the addresses of {host} are not secure: senders do not look up TLSA records (RFC 7672 §2.2.2)"
        );
        return no_dane(why, out);
    }
    let mut answer = match answers.tlsa(host, port).await {
        Ok(a) => a,
        Err(e) => {
            // A failed TLSA lookup makes a DANE sender defer (RFC 7672 §2.2); one that timed
            // out or was unreadable here says nothing of what senders get.
            let st = tlsa_failed_status(&e);
            let then = if st == Status::Error {
                format!(
                    "whether {host} publishes TLSA records is not known (the resolver told nothing)"
                )
            } else {
                format!("senders that use DANE defer mail to {host} (RFC 7672 §2.2)")
            };
            out.results.push(on_host(
                CheckResult::new(
                    "dane.tlsa",
                    st,
                    format!("the TLSA lookup of {owner} fails ({e}): {then}"),
                )
                .with("owner", owner.as_str())
                .with("error", e.to_string()),
                host,
            ));
            for id in ["dane.usable", "dane.rollover"] {
                out.results.push(on_host(
                    CheckResult::new(id, Status::Skip, "TLSA lookup failed"),
                    host,
                ));
            }
            out.failed.insert(
                host.to_ascii_lowercase(),
                FailedLookup {
                    owner: owner.clone(),
                    senders_defer: st == Status::Fail,
                },
            );
            return;
        }
    };
    // Listed in one order whatever the name server's rotation (RFC 2181 §5: an RRset has none).
    answer.records.sort_by_cached_key(Tlsa::to_string);
    let shown: Vec<String> = answer.records.iter().map(Tlsa::to_string).collect();
    match (answer.proof, answer.records.is_empty()) {
        (Some(DnsProof::Secure), false) => {}
        (Some(DnsProof::Secure), true) => {
            return no_dane(
                format!("{} has no TLSA record (secure denial)", answer.owner),
                out,
            );
        }
        (Some(DnsProof::Insecure), _) => {
            return no_dane(format!("{} is insecure", answer.owner), out);
        }
        (p, _) => {
            out.results.push(on_host(
                CheckResult::new(
                    "dane.tlsa",
                    Status::Fail,
                    format!(
                        "{} does not validate ({}): senders that use DANE defer mail to {host}",
                        answer.owner,
                        proof_name(p)
                    ),
                )
                .with("owner", answer.owner.as_str())
                .with("records", json!(shown)),
                host,
            ));
            out.failed.insert(
                host.to_ascii_lowercase(),
                FailedLookup {
                    owner: answer.owner.clone(),
                    senders_defer: true,
                },
            );
            return;
        }
    }
    let n = answer.records.len();
    let listed: Vec<String> = answer.records.iter().map(Tlsa::short).collect();
    out.results.push(on_host(
        CheckResult::new(
            "dane.tlsa",
            Status::Pass,
            format!(
                "{n} record{} at {} (secure): {}",
                plural_s(n),
                answer.owner,
                capped(&listed, ", ")
            ),
        )
        .with("owner", answer.owner.as_str())
        .with("base", answer.base.as_str())
        .with("records", json!(shown))
        .with("proof", "secure"),
        host,
    ));
    out.results
        .push(on_host(usable_check(&answer.records), host));
    out.results
        .push(on_host(rollover_check(&answer.records), host));
    out.tlsa.insert(
        host.to_ascii_lowercase(),
        HostTlsa {
            owner: answer.owner,
            base: answer.base,
            records: answer.records,
        },
    );
}

/// `items` joined by `sep`, the first [`SHOWN_RECORDS`] only: a summary stays one readable
/// line whatever the RRset's size (the JSON data carries every record).
fn capped(items: &[String], sep: &str) -> String {
    let mut shown = items
        .iter()
        .take(SHOWN_RECORDS)
        .cloned()
        .collect::<Vec<_>>()
        .join(sep);
    if items.len() > SHOWN_RECORDS {
        shown.push_str(&format!("{sep}… and {} more", items.len() - SHOWN_RECORDS));
    }
    shown
}

/// `dane.usable`: PKIX usages (0, 1) and unknown parameters are ignored by SMTP senders (RFC
/// 7672 §3.1.3): a warning each; none usable leaves senders with unauthenticated TLS.
fn usable_check(records: &[Tlsa]) -> CheckResult {
    let ignored: Vec<String> = records
        .iter()
        .filter_map(|r| r.unusable().map(|why| format!("{}: {why}", r.short())))
        .collect();
    let usable = records.len() - ignored.len();
    let (st, summary) = if ignored.is_empty() {
        (
            Status::Pass,
            format!(
                "every record is DANE-EE(3) or DANE-TA(2) with a known selector and matching type ({usable})"
            ),
        )
    } else if usable == 0 {
        (
            Status::Warn,
            format!(
                "no usable record ({}): senders use TLS but cannot authenticate the server (RFC 7672 §3.1.3)",
                capped(&ignored, "; ")
            ),
        )
    } else {
        (
            Status::Warn,
            format!("ignored by senders: {}", capped(&ignored, "; ")),
        )
    };
    CheckResult::new("dane.usable", st, summary)
        .with("usable", usable)
        .with("ignored", json!(ignored))
}

/// `dane.rollover`: a key or certificate change must not break delivery while the old TLSA
/// RRset is cached, so two usable records are published — the current and the next DANE-EE key
/// (`3 x x` + `3 x x`), or a DANE-EE record with a DANE-TA one (`3 x x` + `2 x x`), or two
/// trust anchors (RFC 7671 §8.1, RFC 7672 §3.1). A single record warns.
fn rollover_check(records: &[Tlsa]) -> CheckResult {
    // The same record published twice counts once, wherever the copies sit in the RRset.
    let mut usable: Vec<&Tlsa> = records.iter().filter(|r| r.unusable().is_none()).collect();
    usable.sort_by(|a, b| {
        (a.usage, a.selector, a.mtype, &a.data).cmp(&(b.usage, b.selector, b.mtype, &b.data))
    });
    usable.dedup_by(|a, b| a == b);
    let ee = usable.iter().filter(|r| r.usage == 3).count();
    let ta = usable.iter().filter(|r| r.usage == 2).count();
    let (st, summary) = if usable.is_empty() {
        (Status::Skip, "no usable record".to_string())
    } else if ee >= 2 || (ee >= 1 && ta >= 1) || ta >= 2 {
        (
            Status::Pass,
            format!("{ee} DANE-EE and {ta} DANE-TA records: a rollover can keep one valid"),
        )
    } else {
        (
            Status::Warn,
            format!(
                "a single usable record ({}): publish the next key's record (3 1 1) or a DANE-TA one (2 1 1) before changing the certificate, or delivery breaks until caches expire",
                usable[0].short()
            ),
        )
    };
    CheckResult::new("dane.rollover", st, summary)
        .with("dane_ee", ee)
        .with("dane_ta", ta)
}

/// `dane.rollover` again once the host's certificates are known (`leaves`, the leaf each
/// probed address presented): records that all match a leaf in use pin the current key only,
/// however many there are (`3 1 1` + `3 0 1` + `3 1 2` of one certificate), so the next key
/// breaks delivery until caches expire. RFC 7671 §8.1: publish the next key's record first. A
/// pass becomes a warning; anything else, or no certificate seen, is left as it was.
pub(crate) fn rollover_in_use(c: CheckResult, records: &[Tlsa], leaves: &[X509]) -> CheckResult {
    if c.status != Status::Pass || leaves.is_empty() {
        return c;
    }
    let usable: Vec<&Tlsa> = records.iter().filter(|r| r.unusable().is_none()).collect();
    let pinned = !usable.is_empty()
        && usable
            .iter()
            .all(|r| r.usage == 3 && leaves.iter().any(|l| r.matches_cert(l)));
    if !pinned {
        return c.with("current_key_only", false);
    }
    let listed: Vec<String> = usable.iter().map(|r| r.short()).collect();
    let mut c = c;
    c.status = Status::Warn;
    c.summary = format!(
        "every usable record matches the certificate in use ({}): a new key breaks delivery until caches expire — publish the next key's record (3 1 1) or a DANE-TA one (2 1 1) before the rollover (RFC 7671 §8.1)",
        capped(&listed, ", ")
    );
    c.with("current_key_only", true)
}

/// The certificate chain one (host, address) presented: of the probe's own session, or — when
/// its handshake found no version in common — of the TLS 1.0/1.1 session `--tls-probe` had,
/// the one `tls.cert.*` are then judged on too.
#[derive(Debug, Clone, Default)]
pub(crate) struct Presented {
    /// PEM certificates, leaf first (empty: no TLS session).
    pub(crate) pems: Vec<String>,
    /// The obsolete version it was presented in (`TLSv1`), when it came from `--tls-probe`.
    pub(crate) old: Option<String>,
}

/// `dane.starttls` and `dane.match` for one probed (host, address): `res` are the probe's
/// results, `chain` the certificates the server presented, `domain` the next-hop domain (a
/// DANE-TA reference name beside the TLSA base domain, RFC 7672 §3.2.2).
pub(crate) fn host_checks(
    domain: &str,
    tlsa: Option<&HostTlsa>,
    res: &[CheckResult],
    chain: &Presented,
) -> Vec<CheckResult> {
    let Some(t) = tlsa else {
        return HOST_IDS
            .iter()
            .map(|id| CheckResult::new(id, Status::Skip, "no secure TLSA record: no DANE"))
            .collect();
    };
    let status_of = |id: &str| res.iter().find(|c| c.id == id).map(|c| (c.status, c));
    // Without a TLS session there is no chain to match: skipped because of the step that
    // stopped the session (the handshake, or STARTTLS or an earlier step before it).
    let no_match = |why: &str| {
        CheckResult::skip_after("dane.match", model::stopped_at(res, "tls.handshake"), why)
    };
    match (status_of("tls.starttls"), status_of("tls.handshake")) {
        (Some((Status::Fail, _)), _) => {
            return vec![
                CheckResult::new(
                    "dane.starttls",
                    Status::Fail,
                    format!(
                        "STARTTLS is not offered although {} publishes TLSA records: DANE senders will not deliver here (RFC 7672 §2.2)",
                        t.owner
                    ),
                ),
                no_match("no TLS session"),
            ];
        }
        (Some((Status::Pass, _)), Some((Status::Pass | Status::Warn | Status::Info, _))) => {}
        (Some((Status::Pass, _)), Some((st, c))) if st != Status::Skip => {
            // STARTTLS refused with a reply (a 454 is an error for opportunistic TLS, worth a
            // retry): under a secure TLSA RRset DANE senders defer the mail, it is the
            // server's answer, not a test that could not run (RFC 7672 §2.2). Timeouts and
            // resets stay "could not be tested".
            let refused = c.evidence.get("code").and_then(|v| v.as_u64()).is_some();
            let summary = if refused {
                format!(
                    "{} although {} publishes TLSA records: DANE senders defer mail to this MX (RFC 7672 §2.2)",
                    c.summary, t.owner
                )
            } else {
                format!(
                    "the TLS handshake fails ({}) although {} publishes TLSA records: DANE senders will not deliver here",
                    c.summary, t.owner
                )
            };
            let st = if st == Status::Error && !refused {
                Status::Error
            } else {
                Status::Fail
            };
            // Only TLS 1.0/1.1 spoken: the certificate presented there is judged, as
            // `tls.cert.*` are.
            let matched = match &chain.old {
                Some(version) if !chain.pems.is_empty() => {
                    let mut m = match_check(domain, t, &chain.pems);
                    if m.status != Status::Skip {
                        m.summary = format!(
                            "{} (presented in {version}, found by --tls-probe)",
                            m.summary
                        );
                        m = m.with("protocol", version.as_str());
                    }
                    m
                }
                _ => no_match("no TLS session"),
            };
            return vec![CheckResult::new("dane.starttls", st, summary), matched];
        }
        _ => {
            return vec![
                CheckResult::skip_after(
                    "dane.starttls",
                    model::stopped_at(res, "tls.starttls"),
                    "no SMTP session got as far as STARTTLS (see smtp.*)",
                ),
                no_match("no TLS session"),
            ];
        }
    }
    let starttls = CheckResult::new(
        "dane.starttls",
        Status::Pass,
        "STARTTLS offered and the handshake completes",
    );
    vec![starttls, match_check(domain, t, &chain.pems)]
}

/// `dane.starttls` and `dane.match` of a host whose TLSA lookup failed (`dane.tlsa` failed or
/// errored): skipped, saying why — a DANE sender defers the mail without connecting (RFC 7672
/// §2.2), which is not the "no DANE" of a host without TLSA records.
pub(crate) fn lookup_failed_checks(f: &FailedLookup) -> Vec<CheckResult> {
    let why = if f.senders_defer {
        format!(
            "the TLSA lookup of {} failed (dane.tlsa): DANE senders defer mail to this host instead of connecting (RFC 7672 §2.2)",
            f.owner
        )
    } else {
        format!(
            "the TLSA lookup of {} got no answer (dane.tlsa): whether DANE applies is not known",
            f.owner
        )
    };
    HOST_IDS
        .iter()
        .map(|id| CheckResult::new(id, Status::Skip, why.as_str()))
        .collect()
}

/// `dane.match`: the PEM `chain` (leaf first) against the usable records of `t`.
fn match_check(domain: &str, t: &HostTlsa, chain: &[String]) -> CheckResult {
    if t.records.iter().all(|r| r.unusable().is_some()) {
        return CheckResult::new(
            "dane.match",
            Status::Skip,
            "no usable TLSA record: senders use TLS without authentication (RFC 7672 §3.1.3)",
        );
    }
    let certs: Vec<X509> = chain
        .iter()
        .filter_map(|p| X509::from_pem(p.as_bytes()).ok())
        .collect();
    // As a sender judges it: the TLSA base domain and the next-hop domain, not the MX host
    // name when that is an alias of the base (RFC 7672 §3.2.2).
    let names = dane::reference_names(&t.base, Some(domain));
    // The session that fetched the chain used the default security level.
    let level = crate::net::trust::default_security_level();
    let v = dane::verify(&certs, &t.records, &names, true, level);
    let evidence: Vec<String> = v
        .evidence
        .iter()
        .map(|e| {
            let mut line = format!("depth {} {} {} {}", e.depth, e.selector, e.mtype, e.digest);
            if !e.matched.is_empty() {
                line.push_str(&format!(" [matched] <- {}", e.matched.join(", ")));
            }
            line
        })
        .collect();
    let m = if v.ok {
        CheckResult::new(
            "dane.match",
            Status::Pass,
            format!(
                "{} matches depth {}: {}",
                v.matched.as_deref().map(short_record).unwrap_or_default(),
                v.matched_depth.unwrap_or(0),
                v.note.clone().unwrap_or_default()
            ),
        )
    } else {
        CheckResult::new(
            "dane.match",
            Status::Fail,
            format!(
                "{}: DANE senders will not deliver here",
                v.reason.clone().unwrap_or_default()
            ),
        )
    };
    m.with("owner", t.owner.as_str())
        .with("matched", v.matched.clone())
        .with("matched_depth", v.matched_depth)
        .with("names", json!(names))
        .with("ignored", json!(v.ignored))
        .with("chain", json!(evidence))
}

/// `3 1 1 ab12cd34…` from a record's presentation form.
fn short_record(full: &str) -> String {
    Tlsa::parse(full)
        .map(|t| t.short())
        .unwrap_or_else(|_| full.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::dane::tests::rec;
    use crate::net::dns::FailKind;

    fn tlsa() -> HostTlsa {
        HostTlsa {
            owner: "_25._tcp.mx.example.test".into(),
            base: "mx.example.test".into(),
            records: vec![Tlsa::parse(&format!("3 1 1 {}", "ab".repeat(32))).unwrap()],
        }
    }

    /// A lookup that ran out of time (a DNSKEY that never came included) could not be
    /// tested: error (exit 41), by its kind — whatever its wording; a failure is a failure.
    #[test]
    fn a_timed_out_lookup_is_an_error_not_a_failure() {
        assert_eq!(
            failed_status(&DnsError::TimedOut {
                name: "mx.example.test".into(),
                verdict: true,
                server: "127.0.0.1:53".into(),
                within: std::time::Duration::from_secs(5),
            }),
            Status::Error
        );
        let servfail = DnsError::Failed {
            name: "mx.example.test".into(),
            reason: "DNSSEC validation failed: no timeout here".into(),
            kind: FailKind::Bogus,
        };
        assert_eq!(failed_status(&servfail), Status::Fail);
        // A resolver whose reply could not be decoded said nothing about the domain.
        let garbage = DnsError::Failed {
            name: "mx.example.test".into(),
            reason: "protocol error: decoding error: unrecognized label code: 10111011".into(),
            kind: FailKind::Unanswered,
        };
        assert_eq!(failed_status(&garbage), Status::Error);
    }

    /// A failed DNSSEC lookup states the senders' consequence only for a bogus answer: a
    /// timeout or an unreadable reply (an error, nothing known) said "validating senders defer
    /// mail", as did an answered SERVFAIL that proved nothing bogus.
    #[test]
    fn a_failed_lookup_is_worded_by_what_is_known() {
        let failed = |kind| DnsError::Failed {
            name: "example.test".into(),
            reason: "r".into(),
            kind,
        };
        let said = |e: &DnsError| dnssec_failure(e, "the MX records of example.test", "DEFER");
        let (st, s) = said(&failed(FailKind::Bogus));
        assert_eq!(st, Status::Fail);
        assert!(s.ends_with(": DEFER"), "{s}");
        let timeout = DnsError::TimedOut {
            name: "example.test".into(),
            verdict: true,
            server: "127.0.0.1:53".into(),
            within: std::time::Duration::from_secs(5),
        };
        for e in [timeout, failed(FailKind::Unanswered)] {
            let (st, s) = said(&e);
            assert_eq!(st, Status::Error, "{s}");
            assert!(!s.contains("DEFER"), "{s}");
            assert!(
                s.ends_with(
                    ": whether the MX records of example.test validate is not known (the resolver told nothing)"
                ),
                "{s}"
            );
        }
        // An error RCODE (SERVFAIL also with checking disabled, REFUSED) is a lookup that
        // failed, as mx.lookup judges the same answer: it failed dnssec.domain ("could not be
        // validated") while mx.lookup said it could not be tested.
        for code in [2, 5] {
            let (st, s) = said(&failed(FailKind::Answered(code)));
            assert_eq!(st, Status::Error, "{s}");
            assert!(!s.contains("DEFER"), "{s}");
            assert!(
                s.ends_with(
                    ": whether the MX records of example.test validate is not known (the lookup \
                     failed, no DNSSEC verdict)"
                ),
                "{s}"
            );
        }
        let (st, s) = said(&failed(FailKind::CnameLoop));
        assert_eq!(st, Status::Fail);
        assert!(
            s.ends_with(": the MX records of example.test could not be validated"),
            "{s}"
        );
        // A TLSA lookup's SERVFAIL is what DANE senders meet and defer on (RFC 7672 §2.2);
        // REFUSED is this resolver's policy.
        assert_eq!(
            tlsa_failed_status(&failed(FailKind::Answered(2))),
            Status::Fail
        );
        assert_eq!(
            tlsa_failed_status(&failed(FailKind::Answered(5))),
            Status::Error
        );
        assert_eq!(tlsa_failed_status(&failed(FailKind::Bogus)), Status::Fail);
    }

    /// A record published twice counts once, also when another record sits between the
    /// copies.
    #[test]
    fn rollover_counts_each_record_once() {
        let r = |t: &str| Tlsa::parse(t).unwrap();
        let (a, b) = (
            format!("3 1 1 {}", "ab".repeat(32)),
            format!("3 1 1 {}", "cd".repeat(32)),
        );
        let res = rollover_check(&[r(&a), r(&b), r(&a)]);
        assert_eq!(res.status, Status::Pass);
        assert!(
            res.summary.starts_with("2 DANE-EE and 0 DANE-TA"),
            "{}",
            res.summary
        );
        let res = rollover_check(&[r(&a), r(&a)]);
        assert_eq!(res.status, Status::Warn, "{}", res.summary);
    }

    /// A self-signed certificate for `mx.test` with a fresh key.
    fn cert() -> X509 {
        let key = rcgen::KeyPair::generate().unwrap();
        let c = rcgen::CertificateParams::new(vec!["mx.test".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        X509::from_der(c.der()).unwrap()
    }

    /// Three records of the one certificate in use pin one key: the DNS side counts three
    /// DANE-EE records and passes, the chain shows they leave no room for the next key — a
    /// warning (RFC 7671 §8.1; it used to pass). The next key's record, or a DANE-TA one, keeps
    /// the pass.
    #[test]
    fn rollover_warns_when_every_record_pins_the_key_in_use() {
        let (now, next) = (cert(), cert());
        let pinned = vec![rec(3, 1, 1, &now), rec(3, 0, 1, &now), rec(3, 1, 2, &now)];
        let dns = rollover_check(&pinned);
        assert_eq!(dns.status, Status::Pass, "{}", dns.summary);
        let c = rollover_in_use(dns.clone(), &pinned, std::slice::from_ref(&now));
        assert_eq!(c.status, Status::Warn, "{}", c.summary);
        assert!(
            c.summary.contains("matches the certificate in use") && c.summary.contains("8.1"),
            "{}",
            c.summary
        );
        // Without a certificate seen, the DNS verdict stands.
        assert_eq!(rollover_in_use(dns, &pinned, &[]).status, Status::Pass);
        // The next key published too: one record is free for the rollover.
        let mut with_next = pinned.clone();
        with_next.push(rec(3, 1, 1, &next));
        let c = rollover_in_use(
            rollover_check(&with_next),
            &with_next,
            std::slice::from_ref(&now),
        );
        assert_eq!(c.status, Status::Pass, "{}", c.summary);
        // A DANE-TA record survives a new leaf from the same issuer.
        let with_ta = vec![rec(3, 1, 1, &now), rec(2, 1, 1, &next)];
        let c = rollover_in_use(
            rollover_check(&with_ta),
            &with_ta,
            std::slice::from_ref(&now),
        );
        assert_eq!(c.status, Status::Pass, "{}", c.summary);
        // A single record already warns, with its own reason.
        let one = vec![rec(3, 1, 1, &now)];
        let c = rollover_in_use(rollover_check(&one), &one, &[now]);
        assert!(
            c.summary.starts_with("a single usable record"),
            "{}",
            c.summary
        );
    }

    fn judged(res: &[CheckResult]) -> Vec<(&'static str, Status)> {
        host_checks("example.test", Some(&tlsa()), res, &Presented::default())
            .iter()
            .map(|c| (c.id, c.status))
            .collect()
    }

    /// `dane.starttls` with a secure TLSA RRset: no STARTTLS and a failed handshake are
    /// failures (DANE senders will not deliver), a handshake that timed out could not be
    /// tested, a session that never reached STARTTLS is not judged; `dane.match` needs a TLS
    /// session.
    #[test]
    fn dane_starttls_fails_without_starttls_or_handshake() {
        let c = |id, st| CheckResult::new(id, st, "");
        assert_eq!(
            judged(&[c("tls.starttls", Status::Fail)]),
            [
                ("dane.starttls", Status::Fail),
                ("dane.match", Status::Skip)
            ]
        );
        assert_eq!(
            judged(&[
                c("tls.starttls", Status::Pass),
                c("tls.handshake", Status::Fail)
            ]),
            [
                ("dane.starttls", Status::Fail),
                ("dane.match", Status::Skip)
            ]
        );
        assert_eq!(
            judged(&[
                c("tls.starttls", Status::Pass),
                c("tls.handshake", Status::Error)
            ]),
            [
                ("dane.starttls", Status::Error),
                ("dane.match", Status::Skip)
            ]
        );
        // STARTTLS refused with a 4xx under a secure TLSA RRset: DANE senders defer the mail
        // (RFC 7672 §2.2), a failure — not "could not be tested" (it used to be an error).
        let refused = CheckResult::new("tls.handshake", Status::Error, "STARTTLS refused: 454")
            .with("code", 454);
        let got = host_checks(
            "example.test",
            Some(&tlsa()),
            &[c("tls.starttls", Status::Pass), refused],
            &Presented::default(),
        );
        assert_eq!(
            got.iter().map(|c| (c.id, c.status)).collect::<Vec<_>>(),
            [
                ("dane.starttls", Status::Fail),
                ("dane.match", Status::Skip)
            ]
        );
        assert!(
            got[0].summary.contains("STARTTLS refused: 454") && got[0].summary.contains("defer"),
            "{}",
            got[0].summary
        );
        assert_eq!(
            judged(&[c("smtp.connect", Status::Fail)]),
            [
                ("dane.starttls", Status::Skip),
                ("dane.match", Status::Skip)
            ]
        );
        // A handshake that completed, but no certificate to match: a mismatch, not a pass.
        assert_eq!(
            judged(&[
                c("tls.starttls", Status::Pass),
                c("tls.handshake", Status::Pass)
            ]),
            [
                ("dane.starttls", Status::Pass),
                ("dane.match", Status::Fail)
            ]
        );
        // No secure TLSA RRset: nothing to judge.
        let none = host_checks("example.test", None, &[], &Presented::default());
        assert!(none.iter().all(|c| c.status == Status::Skip), "{none:?}");
    }

    /// An MX that speaks only TLS 1.0/1.1: its handshake with check fails (`dane.starttls`),
    /// and `dane.match` judges the certificate `--tls-probe` was shown in the old version, as
    /// `tls.cert.*` do — it said "no TLS session" although the certificate was in hand.
    #[test]
    fn dane_match_judges_the_certificate_of_an_old_tls_session() {
        let key = rcgen::generate_simple_self_signed(vec!["mx.example.test".to_string()]).unwrap();
        let pem = key.cert.pem();
        let cert = X509::from_pem(pem.as_bytes()).unwrap();
        let own = HostTlsa {
            records: vec![rec(3, 1, 1, &cert)],
            ..tlsa()
        };
        let c = |id, st| CheckResult::new(id, st, "");
        let res = [
            c("tls.starttls", Status::Pass),
            c("tls.handshake", Status::Fail),
        ];
        let old = Presented {
            pems: vec![pem],
            old: Some("TLSv1".into()),
        };
        let got = host_checks("example.test", Some(&own), &res, &old);
        assert_eq!(
            got.iter().map(|c| (c.id, c.status)).collect::<Vec<_>>(),
            [
                ("dane.starttls", Status::Fail),
                ("dane.match", Status::Pass)
            ]
        );
        assert!(
            got[1]
                .summary
                .ends_with("(presented in TLSv1, found by --tls-probe)"),
            "{}",
            got[1].summary
        );
        assert_eq!(got[1].evidence["protocol"], "TLSv1");
        // A record for another key: the old session's certificate does not match it.
        let got = host_checks("example.test", Some(&tlsa()), &res, &old);
        assert_eq!(got[1].status, Status::Fail, "{:?}", got[1]);
        assert!(
            got[1]
                .summary
                .contains("DANE senders will not deliver here (presented in TLSv1"),
            "{}",
            got[1].summary
        );
        // The same chain from no old session (none was had): still no TLS session to judge.
        let none = Presented {
            old: None,
            ..old.clone()
        };
        let got = host_checks("example.test", Some(&own), &res, &none);
        assert_eq!(got[1].status, Status::Skip, "{:?}", got[1]);
    }

    /// Summaries stay one line of bounded length whatever the RRset's size.
    #[test]
    fn summaries_list_a_bounded_number_of_records() {
        let many: Vec<String> = (0..900).map(|i| format!("record {i}")).collect();
        let s = capped(&many, ", ");
        assert!(s.starts_with("record 0, record 1, "), "{s}");
        assert!(s.ends_with(", … and 892 more"), "{s}");
        assert_eq!(capped(&many[..2], "; "), "record 0; record 1");
        let r = Tlsa {
            usage: 1,
            selector: 1,
            mtype: 0,
            data: vec![0],
        };
        let pkix: Vec<Tlsa> = (0..900).map(|_| r.clone()).collect();
        let u = usable_check(&pkix);
        assert_eq!(u.status, Status::Warn);
        assert!(u.summary.len() < 1000, "{}", u.summary.len());
    }
}
