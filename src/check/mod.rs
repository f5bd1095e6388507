//! `ehlo check`: deliverability checks for CI. Runs the domain checks ([`domain`]) and the
//! per-(MX host, address) SMTP/TLS checks ([`probe`], each pair probed once per run and shared
//! by every domain that uses it) under a concurrency limit, a per-address limit and a deadline;
//! judges each domain ([`select`]: `--only/--skip/--waive/--expect`) and streams the reports to
//! the one check renderer (`render::check`). Never sends DATA; MAIL and RCPT only for the opt-in
//! probes ([`optin`]).

pub(crate) mod answers;
pub(crate) mod dane;
pub(crate) mod dnsauth;
pub(crate) mod domain;
pub(crate) mod model;
pub(crate) mod mtasts;
pub(crate) mod optin;
pub(crate) mod probe;
pub(crate) mod records;
pub(crate) mod select;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OnceCell, Semaphore};
use tokio::task::JoinSet;

use crate::net::dns::{DnsOptions, Family, Resolver};
use crate::render::check::CheckRenderer;
use model::{CheckResult, DomainReport, FailOn, Judged, Scope, Status};
use probe::ProbeOptions;
use select::{Expect, Selection, Waiver};

/// Everything `ehlo check` was asked to do (built by `cli::mode`).
#[derive(Debug, Clone)]
pub(crate) struct CheckConfig {
    /// Input lines (domains), after `@FILE` and `-` were read; comments and blanks removed.
    pub(crate) domains: Vec<String>,
    /// Resolver settings.
    pub(crate) dns: DnsOptions,
    /// `-4` / `-6`.
    pub(crate) family: Family,
    /// Probe settings.
    pub(crate) probe: ProbeOptions,
    /// `--rcpt-probe`, `--relay-probe`, `--tls-probe`.
    pub(crate) optin: optin::OptIn,
    /// Domains checked at once (`--concurrency`).
    pub(crate) concurrency: usize,
    /// SMTP sessions at once to one address (`--per-ip`).
    pub(crate) per_ip: usize,
    /// Whole-run limit (`--deadline`), counted from `started`.
    pub(crate) deadline: Option<Duration>,
    /// `--deadline` as the run's stop names it in brackets: with where it was set when that was
    /// below the command line (`--deadline, set by EHLO_DEADLINE in the environment`).
    pub(crate) deadline_named: String,
    /// When the run began: before the domain list was read, which `--deadline` covers too.
    pub(crate) started: std::time::Instant,
    /// `--deadline` passed while the list was still being read: the names read so far are
    /// reported as not checked ([`deadline_in_list`]), none is checked.
    pub(crate) list_cut: bool,
    /// Probe MX addresses in special-purpose ranges (`--allow-private`).
    pub(crate) allow_private: bool,
    /// HTTPS port of the MTA-STS policy host (443; a hidden flag moves it for tests).
    pub(crate) mta_sts_port: u16,
    /// `--only` / `--skip`.
    pub(crate) selection: Selection,
    /// `--expect`.
    pub(crate) expects: Vec<Expect>,
    /// `--waive`.
    pub(crate) waivers: Vec<Waiver>,
    /// `--fail-on`.
    pub(crate) fail_on: FailOn,
    /// `--untested-ok`.
    pub(crate) untested_ok: bool,
    /// `--host`: the one server checked, in place of a domain's MX hosts (its only "domain"
    /// is this name, and only the per-address checks are selected).
    pub(crate) host: Option<String>,
    /// `--host` given with domains: the server checked as every domain's MX, in place of the
    /// MX records (not looked up); the domains' policies (MTA-STS `mx` patterns, TLSA records at
    /// `_PORT._tcp.HOST`, SPF, DMARC, TLS-RPT) are judged against it.
    pub(crate) mx_host: Option<String>,
    /// `--connect-to`: the addresses the `--host` name's connections go to, in place of its
    /// A/AAAA records (not looked up); the name is still what the certificate, MTA-STS `mx`
    /// patterns and TLSA owners are judged by. Empty: the name's DNS addresses.
    pub(crate) connect_to: Vec<std::net::IpAddr>,
    /// `--json` (else the human report).
    pub(crate) json: bool,
    /// `--color`.
    pub(crate) color: crate::render::ColorChoice,
    /// `--junit FILE`.
    pub(crate) junit: Option<std::path::PathBuf>,
}

/// DNS lookups in flight at once across a whole `ehlo check` run (both resolvers, every domain,
/// the probes' PTR and address questions included). A full run's domain asks about eight
/// questions at once (MX, SPF, DMARC, MTA-STS, TLS-RPT, DKIM, then addresses; fewer under
/// `--only/--skip`, [`select::Lookups`]); uncapped, `--concurrency 3000` sent some 24,000 at a
/// time, each on a UDP socket of its own, and a local name server's answers were dropped,
/// reported as `error`s that were not the domains'. 256 is the default `--concurrency` (32)
/// times those eight: a default run never waits for a permit.
pub(crate) const DNS_IN_FLIGHT: usize = 256;

/// How far past the first unfinished domain (input order) a run starts domains: the reports
/// done meanwhile are held as text until their turn (both formats go out in input order), and
/// a slow domain at the head of a long list would otherwise have every later one held.
const HELD_AHEAD: usize = 1024;

/// Longest input line kept as a domain (RFC 1035 §2.3.4: names are at most 253 octets).
const MAX_DOMAIN: usize = 253;

/// Is `d` a plausible domain name (LDH labels, dots, optional trailing dot)? Underscores are
/// allowed: some test and internal zones use them.
pub(crate) fn valid_domain(d: &str) -> Result<(), String> {
    // One trailing dot (an absolute name); a second is an empty label.
    let d = d.strip_suffix('.').unwrap_or(d);
    if d.is_empty() {
        return Err("empty domain".into());
    }
    if d.len() > MAX_DOMAIN {
        return Err(format!("longer than {MAX_DOMAIN} characters"));
    }
    for label in d.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!(
                "bad label '{}' (1-63 characters)",
                label.escape_debug()
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "label '{}' starts or ends with '-'",
                label.escape_debug()
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            let idn = if c.is_ascii() {
                ""
            } else {
                " (use the A-label form for IDNs)"
            };
            return Err(format!(
                "'{}' is not allowed in a domain name{idn}",
                c.escape_debug()
            ));
        }
    }
    crate::net::dns::bad_a_label(d).map_or(Ok(()), Err)
}

/// One (host, address) probe's results and the certificate chain it was shown (for
/// `dane.match`), run once and awaited by every domain that needs it.
type ProbeCell = Arc<OnceCell<(Vec<CheckResult>, dane::Presented)>>;

/// Per-address semaphores and the probe cache, shared by every domain task.
struct Shared {
    resolver: Resolver,
    /// The validating resolver (`None` with `--dnssec off`): it answers the MX and address
    /// questions of both the `mx.*` and the DNSSEC/DANE checks ([`answers::Answers`]), and
    /// what it refuses is asked again of the plain one, so a resolver that strips signatures
    /// only costs the DNSSEC verdicts. TXT, PTR and the probes' questions stay plain.
    validator: Option<Resolver>,
    cfg: CheckConfig,
    per_ip: Mutex<HashMap<IpAddr, Arc<Semaphore>>>,
    probes: Mutex<HashMap<(String, IpAddr), ProbeCell>>,
    /// Each probe's session events so far, for a run cut short ([`cut_report`]).
    live: Mutex<HashMap<(String, IpAddr), probe::Live>>,
    /// Addresses whose session ended before a usable EHLO reply, with the host name they were
    /// probed as and the results: nothing up to there depends on the MX host name (it is
    /// first sent in TLS's SNI), so another name on the same address gets the same results
    /// instead of waiting its turn under `--per-ip` for the same timeout.
    pre_tls: Mutex<HashMap<IpAddr, (String, Vec<CheckResult>)>>,
    /// What the selected checks ask of DNS, and whether they need SMTP sessions at all
    /// (no host-scope check selected: none).
    lookups: select::Lookups,
    /// The sessions with a DANE sender's TLS settings ([`Shared::dane_probe`]), each
    /// (host, address) once per run.
    dane_probes: Mutex<HashMap<(String, IpAddr), ProbeCell>>,
}

impl Shared {
    /// The `--per-ip` limit of `ip`.
    fn ip_gate(&self, ip: IpAddr) -> Arc<Semaphore> {
        let mut m = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(ip)
            .or_insert_with(|| Arc::new(Semaphore::new(self.cfg.per_ip.max(1))))
            .clone()
    }

    /// Is opt-in check `id` asked for (its flag given, and not left out by `--only/--skip`)?
    fn opted(&self, id: &str) -> bool {
        self.cfg.optin.enables(id) && self.cfg.selection.wants(id)
    }

    /// The (cached) probe of `(host, ip)`: the first caller runs it, later ones wait for it.
    async fn probe(&self, host: &str, ip: IpAddr) -> (Vec<CheckResult>, dane::Presented) {
        let key = (host.to_ascii_lowercase(), ip);
        let cell = {
            let mut m = self.probes.lock().unwrap_or_else(|e| e.into_inner());
            m.entry(key.clone()).or_default().clone()
        };
        let live = {
            let mut m = self.live.lock().unwrap_or_else(|e| e.into_inner());
            m.entry(key).or_default().clone()
        };
        cell.get_or_init(|| async {
            let _permit = self.ip_gate(ip).acquire_owned().await;
            if let Some(res) = self.ended_before_ehlo(host, ip) {
                return (res, dane::Presented::default());
            }
            let (mut res, pems) = probe::probe(
                &self.resolver,
                host,
                ip,
                &self.cfg.probe,
                &live,
                self.lookups.ptr,
            )
            .await;
            let mut chain = dane::Presented { pems, old: None };
            // The host-level opt-in probes, one after the other under the same permit.
            let passed = |id: &str| {
                res.iter()
                    .any(|c| c.id == id && c.status == model::Status::Pass)
            };
            let (greeted, tls) = (passed("smtp.banner"), passed("tls.starttls"));
            if self.opted("smtp.open-relay") {
                res.push(if greeted {
                    optin::relay(host, ip, &self.cfg.probe).await
                } else {
                    CheckResult::skip_after(
                        "smtp.open-relay",
                        model::stopped_at(&res, "smtp.banner"),
                        "no SMTP session",
                    )
                });
            }
            if self.opted("tls.versions") {
                let versions = if tls {
                    let (versions, old_session) =
                        optin::tls_versions(host, ip, &self.cfg.probe).await;
                    if let Some(info) = old_session
                        && probe::judge_old_tls_cert(
                            &mut res,
                            &info,
                            self.cfg.probe.cert_days,
                            self.cfg.probe.cert_required.as_deref(),
                        )
                        && chain.pems.is_empty()
                    {
                        // dane.match judges the same certificate as tls.cert.*.
                        chain = dane::Presented {
                            pems: info.chain.iter().map(|c| c.pem.clone()).collect(),
                            old: Some(info.version.clone()),
                        };
                    }
                    versions
                } else {
                    CheckResult::skip_after(
                        "tls.versions",
                        model::stopped_at(&res, "tls.starttls"),
                        "no STARTTLS",
                    )
                };
                res.push(versions);
            }
            if ended_before_ehlo(&res) {
                let mut m = self.pre_tls.lock().unwrap_or_else(|e| e.into_inner());
                m.entry(ip)
                    .or_insert_with(|| (host.to_string(), res.clone()));
            }
            (res, chain)
        })
        .await
        .clone()
    }

    /// The (cached) session a DANE sender has with `(host, ip)` ([`probe::dane_session`]),
    /// under the address's `--per-ip` limit: the send's `--tls-verify dane` connection settings
    /// for the host's secure TLSA RRset `t`, its base domain sent as SNI (RFC 7672 §8.1).
    async fn dane_probe(
        &self,
        host: &str,
        ip: IpAddr,
        t: &dane::HostTlsa,
    ) -> (Vec<CheckResult>, dane::Presented) {
        let cell = {
            let mut m = self.dane_probes.lock().unwrap_or_else(|e| e.into_inner());
            m.entry((host.to_ascii_lowercase(), ip))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| async {
            let _permit = self.ip_gate(ip).acquire_owned().await;
            let used = crate::net::dane::DaneUse::of(
                &t.records,
                crate::net::dane::reference_names(&t.base, None),
            );
            let (res, pems) = probe::dane_session(host, ip, &self.cfg.probe, &used).await;
            (res, dane::Presented { pems, old: None })
        })
        .await
        .clone()
    }

    /// The results of `ip` when a session to it, as another MX host name, ended before a usable
    /// EHLO reply (refused, silent, throttled, cut off), as they are: which name got there first
    /// is a race between the domains' tasks, so the name is not reported from here; a domain
    /// with several names on the address says which of its own stands for the others
    /// ([`share_ended_before_ehlo`]).
    fn ended_before_ehlo(&self, host: &str, ip: IpAddr) -> Option<Vec<CheckResult>> {
        let m = self.pre_tls.lock().unwrap_or_else(|e| e.into_inner());
        let (as_host, res) = m.get(&ip)?;
        if as_host.eq_ignore_ascii_case(host) {
            return None;
        }
        Some(res.clone())
    }

    /// `smtp.postmaster` of `domain` at `(host, ip)` (`--rcpt-probe`): not cached, the recipient
    /// is the domain's own.
    async fn postmaster(&self, host: &str, ip: IpAddr, domain: &str) -> CheckResult {
        let _permit = self.ip_gate(ip).acquire_owned().await;
        optin::postmaster(host, ip, domain, &self.cfg.probe).await
    }
}

/// Did the session of these results end before a usable EHLO reply (refused, never greeted,
/// a 421 greeting, cut off)? Nothing up to there depends on the MX host name.
fn ended_before_ehlo(res: &[CheckResult]) -> bool {
    !res.iter().any(|c| {
        c.id == "smtp.ehlo" && matches!(c.status, Status::Pass | Status::Info | Status::Warn)
    })
}

/// One domain's (host, address) results in report order (MX preference, then name, then
/// address): where several of its MX names share an address whose session ended before a
/// usable EHLO reply, the first of them in that order stands for the others, which get its
/// results marked `probed_as` it. Which name's session actually ran (or whether several did,
/// under `--per-ip` above 1) depends on which domain's task got there first; this rule does
/// not, so two runs report the same.
fn share_ended_before_ehlo(per_pair: &mut [(String, IpAddr, Vec<CheckResult>, dane::Presented)]) {
    for i in 1..per_pair.len() {
        if !ended_before_ehlo(&per_pair[i].2) {
            continue;
        }
        let ip = per_pair[i].1;
        let Some(first) = per_pair[..i]
            .iter()
            .find(|(h, a, res, _)| *a == ip && *h != per_pair[i].0 && ended_before_ehlo(res))
        else {
            continue;
        };
        let as_host = first.0.clone();
        let shared: Vec<CheckResult> = first
            .2
            .iter()
            .map(|c| {
                let mut c = c.clone();
                if c.status != Status::Skip && c.id.starts_with("smtp.") {
                    c.summary = format!(
                        "{} (this address, probed as {as_host}: the session ends before the host name matters)",
                        c.summary
                    );
                }
                c.with("probed_as", as_host.as_str())
            })
            .collect();
        per_pair[i].2 = shared;
        per_pair[i].3 = dane::Presented::default();
    }
}

/// What a domain's checks have decided so far, kept outside its task so that a run cut short
/// (`--deadline`, a signal) reports them ([`cut_report`]) instead of dropping them.
#[derive(Default)]
struct Partial {
    /// Domain-scope results that are final.
    results: Vec<CheckResult>,
    /// The (MX host, address) pairs to probe, once the MX question was answered.
    pairs: Option<Vec<(String, IpAddr)>>,
    /// The valid MTA-STS policy, once fetched: it judges the host results.
    policy: Option<records::Policy>,
}

type PartialCell = Arc<Mutex<Partial>>;

fn progress(partial: &PartialCell) -> std::sync::MutexGuard<'_, Partial> {
    partial.lock().unwrap_or_else(|e| e.into_inner())
}

/// Check one domain: every result, judged. What is decided is also put in `partial` as it is.
async fn check_domain(
    shared: Arc<Shared>,
    index: usize,
    domain: String,
    partial: PartialCell,
) -> DomainReport {
    let t0 = Instant::now();
    let name = domain.trim_end_matches('.').to_ascii_lowercase();
    let mut report = DomainReport {
        index,
        domain: domain.clone(),
        checks: Vec::new(),
        expects: Vec::new(),
        aborted: None,
        ms: 0.0,
    };
    let named_host = shared.cfg.host.is_some();
    if let Some(why) = valid_domain(&name).err().filter(|_| !named_host) {
        report.aborted = Some(format!("not a domain name: {why}"));
        return report;
    }
    let r = &shared.resolver;
    let lookups = shared.lookups;
    // The MX question and the hosts' addresses, asked once for the mx.* and the DNSSEC checks;
    // of the validator only when a DNSSEC check reads its proofs (the others never depend on
    // them: what it refuses is asked of the plain resolver anyway).
    let validator = shared
        .validator
        .as_ref()
        .filter(|_| lookups.dnssec > select::DnssecDepth::None);
    let answers = answers::Answers::new(r, validator);
    let mx_wanted = async {
        if named_host && !shared.cfg.connect_to.is_empty() {
            // `--host NAME --connect-to IP`: NAME's DNS is not asked, the given addresses
            // (already of the -4/-6 family) are where its sessions go.
            domain::MxOutcome {
                targets: vec![domain::Target {
                    host: name.clone(),
                    preference: 0,
                    addrs: shared.cfg.connect_to.clone(),
                }],
                hosts: vec![name.clone()],
                ..Default::default()
            }
        } else if named_host {
            // `--host`: that server is the one "MX", its addresses looked up (a literal is
            // its own); the user named it, so a special-purpose address is probed too.
            match answers.addresses(&name, shared.cfg.family).await {
                Ok(addrs) => domain::MxOutcome {
                    targets: vec![domain::Target {
                        host: name.clone(),
                        preference: 0,
                        addrs,
                    }],
                    hosts: vec![name.clone()],
                    ..Default::default()
                },
                Err(e) => domain::MxOutcome {
                    results: vec![CheckResult::new(
                        "smtp.connect",
                        Status::Error,
                        format!("cannot look up --host {name}: {e}"),
                    )],
                    ..Default::default()
                },
            }
        } else if let Some(h) = shared.cfg.mx_host.as_deref().filter(|_| lookups.mx) {
            domain::named_mx_checks(
                &answers,
                &name,
                h,
                &shared.cfg.connect_to,
                shared.cfg.family,
                lookups.mx_addresses,
            )
            .await
        } else if lookups.mx {
            domain::mx_checks(
                &answers,
                &name,
                shared.cfg.family,
                shared.cfg.allow_private,
                lookups.mx_addresses,
            )
            .await
        } else {
            domain::MxOutcome::default()
        }
    };
    let (mx, txt) = tokio::join!(mx_wanted, domain::txt_checks(r, &name, &lookups));
    let mut results = mx.results;
    results.extend(txt);
    domain::skip_records_of_no_such_domain(&mut results);
    {
        let mut p = progress(&partial);
        p.results.extend(results.iter().cloned());
        p.pairs = Some(if shared.lookups.probe {
            mx.targets
                .iter()
                .flat_map(|t| t.addrs.iter().map(|ip| (t.host.clone(), *ip)))
                .collect()
        } else {
            Vec::new()
        });
    }
    // The DNSSEC/DANE lookups, alongside the probes below.
    let dane_hosts: Vec<String> = if mx.hosts.is_empty() && mx.targets.len() == 1 {
        vec![mx.targets[0].host.clone()]
    } else {
        mx.hosts.clone()
    };
    // `tls.cert.expiry` needs `dane.match` too (a DANE-EE match makes an expired leaf a
    // warning, see `judge`): `--only tls.cert.expiry` must give the verdict a full run gives
    // (`select::Lookups`).
    let dane_wanted = lookups.dnssec > select::DnssecDepth::None;
    let dane_dns = async {
        if dane_wanted {
            let out = dane::dns_checks(
                &answers,
                &name,
                &dane_hosts,
                lookups.dnssec,
                shared.cfg.family,
                shared.cfg.probe.port,
                shared.cfg.dns.dnssec == crate::net::dns::DnssecMode::Validate
                    && shared.cfg.dns.trust_anchor.is_none(),
                shared.cfg.mx_host.as_deref(),
                &shared.cfg.connect_to,
            )
            .await;
            progress(&partial)
                .results
                .extend(out.results.iter().cloned());
            out
        } else {
            dane::DnsOutcome::default()
        }
    };

    // MTA-STS policy fetch (only when the TXT record says there is one, as senders do), run
    // alongside the SMTP probes. The policy decides what a host check's finding means
    // ([`judge`]: a certificate warning on a covered MX fails, a failure there always counts),
    // so it is fetched whenever a host check is selected too: `--only/--skip` hide the
    // `mtasts.*` rows, never change another check's verdict.
    // A warning on the record (`ID=`, `id = x`) means lenient senders read it, so they fetch the
    // policy and apply it: it is fetched and judged then too.
    let sts_txt = results
        .iter()
        .find(|c| c.id == "mtasts.txt")
        .map(|c| c.status);
    let sts_ok = matches!(sts_txt, Some(Status::Pass | Status::Warn));
    let sts_wanted = lookups.mtasts_fetch;
    let fetch_opts = mtasts::FetchOptions {
        port: shared.cfg.mta_sts_port,
        timeout: shared.cfg.probe.timeout,
        ca_path: shared.cfg.probe.ca_path.clone(),
        family: shared.cfg.family,
        allow_private: shared.cfg.allow_private,
    };
    // Every MX a sender may pick must match the policy, those past the probed ones too (RFC
    // 8461 §5): matching names costs no lookup.
    let named: Vec<String> = mx.hosts.iter().chain(&mx.past_cap).cloned().collect();
    let fetch = async {
        let fetched = if sts_ok && sts_wanted {
            Some(mtasts::fetch(r, &name, &fetch_opts).await)
        } else {
            None
        };
        let (mut sts, policy) = sts_results(fetched, sts_ok, sts_txt, &named);
        if let (Some(h), Some(p)) = (shared.cfg.mx_host.as_deref(), &policy) {
            for c in sts.iter_mut().filter(|c| c.id == "mtasts.mx-match") {
                *c = mx_match_of_named_host(c.clone(), h, p);
            }
        }
        let mut p = progress(&partial);
        p.results.extend(sts.iter().cloned());
        p.policy = policy.clone();
        (sts, policy)
    };
    // Host-scope checks: every (host, address), concurrently; each pair probed once per run.
    let mut host_results: Vec<CheckResult> = Vec::new();
    let mut sessions: Vec<(String, IpAddr, dane::Presented)> = Vec::new();
    let probes = async {
        if shared.lookups.probe {
            let mut set = JoinSet::new();
            for t in &mx.targets {
                for ip in &t.addrs {
                    let (sh, host, ip) = (shared.clone(), t.host.clone(), *ip);
                    set.spawn_local(async move {
                        let (res, chain) = sh.probe(&host, ip).await;
                        (host, ip, res, chain)
                    });
                }
            }
            let mut per_pair = Vec::new();
            while let Some(j) = set.join_next().await {
                if let Ok(v) = j {
                    per_pair.push(v);
                }
            }
            // Report in MX preference order, then address order.
            let order = |host: &str, ip: &IpAddr| {
                mx.targets
                    .iter()
                    .enumerate()
                    .find(|(_, t)| t.host == host)
                    .map(|(i, t)| (i, t.addrs.iter().position(|a| a == ip).unwrap_or(0)))
                    .unwrap_or((usize::MAX, 0))
            };
            per_pair.sort_by_key(|(h, ip, _, _)| order(h, ip));
            share_ended_before_ehlo(&mut per_pair);
            if shared.opted("smtp.postmaster") {
                let mut set = JoinSet::new();
                for (i, (host, ip, res, _)) in per_pair.iter().enumerate() {
                    let greeted = res
                        .iter()
                        .any(|c| c.id == "smtp.banner" && c.status == Status::Pass);
                    let stopped = model::stopped_at(res, "smtp.banner");
                    let (sh, host, ip, d) = (shared.clone(), host.clone(), *ip, name.clone());
                    set.spawn_local(async move {
                        let c = if greeted {
                            sh.postmaster(&host, ip, &d).await
                        } else {
                            CheckResult::skip_after("smtp.postmaster", stopped, "no SMTP session")
                        };
                        (i, c)
                    });
                }
                while let Some(j) = set.join_next().await {
                    if let Ok((i, c)) = j {
                        per_pair[i].2.push(c);
                    }
                }
            }
            let pairs: Vec<(String, IpAddr, Vec<CheckResult>)> = per_pair
                .iter()
                .map(|(h, ip, res, _)| (h.clone(), *ip, res.clone()))
                .collect();
            results.push(ipv6_check(
                &mx.targets,
                !mx.hosts.is_empty(),
                &pairs,
                shared.cfg.family,
            ));
            let given = &shared.cfg.connect_to;
            for (host, ip, res, chain) in per_pair {
                for mut c in res {
                    c.mx = Some(host.clone());
                    c.ip = Some(ip.to_string());
                    if c.id == "smtp.connect" && given.contains(&ip) {
                        // The address came from the command line, not from HOST's DNS.
                        c = c.with("address_source", "--connect-to");
                    }
                    host_results.push(c);
                }
                sessions.push((host, ip, chain));
            }
        }
        (host_results, sessions)
    };
    let ((mut host_results, sessions), fetched, dane_out) = tokio::join!(probes, fetch, dane_dns);
    results.extend(dane_out.results);
    // dane.starttls and dane.match: each probed address against its host's secure TLSA RRset.
    if dane_wanted {
        let probed: Vec<CheckResult> = host_results.clone();
        let results_of = |host: &str, ip: IpAddr| -> Vec<CheckResult> {
            let ip_s = ip.to_string();
            probed
                .iter()
                .filter(|c| c.mx.as_deref() == Some(host) && c.ip.as_deref() == Some(ip_s.as_str()))
                .cloned()
                .collect()
        };
        // A host whose TLSA base domain is another name (an MX alias with the records at its
        // secure expansion) is connected to by a DANE sender with that name as SNI (RFC 7672
        // §8.1), the probe with the MX host name: a server choosing its certificate by SNI
        // shows them different ones. Its dane.* are judged from a session with the send's
        // DANE settings, where STARTTLS was offered (nothing before it depends on the name).
        let mut as_dane: HashMap<(String, IpAddr), (Vec<CheckResult>, dane::Presented)> =
            HashMap::new();
        let mut set = JoinSet::new();
        for (host, ip, _) in &sessions {
            let Some(t) = dane_out.tlsa.get(&host.to_ascii_lowercase()) else {
                continue;
            };
            let offered = results_of(host, *ip)
                .iter()
                .any(|c| c.id == "tls.starttls" && c.status == Status::Pass);
            if t.base.eq_ignore_ascii_case(host.trim_end_matches('.')) || !offered {
                continue;
            }
            let (sh, host, ip, t) = (shared.clone(), host.clone(), *ip, t.clone());
            set.spawn_local(async move {
                let got = sh.dane_probe(&host, ip, &t).await;
                (host, ip, got)
            });
        }
        while let Some(j) = set.join_next().await {
            if let Ok((host, ip, got)) = j {
                as_dane.insert((host, ip), got);
            }
        }
        // The leaf each address presented, per host: `dane.rollover` judged against them.
        let mut leaves: HashMap<String, Vec<openssl::x509::X509>> = HashMap::new();
        for (host, ip, chain) in sessions {
            let (res, chain) = match as_dane.remove(&(host.clone(), ip)) {
                Some(got) => got,
                None => (results_of(&host, ip), chain),
            };
            if let Some(leaf) = chain
                .pems
                .first()
                .and_then(|p| openssl::x509::X509::from_pem(p.as_bytes()).ok())
            {
                leaves
                    .entry(host.to_ascii_lowercase())
                    .or_default()
                    .push(leaf);
            }
            let ip_s = ip.to_string();
            let tlsa = dane_out.tlsa.get(&host.to_ascii_lowercase());
            let checks = match (tlsa, dane_out.failed.get(&host.to_ascii_lowercase())) {
                (None, Some(failed)) => dane::lookup_failed_checks(failed),
                _ => dane::host_checks(&name, tlsa, &res, &chain),
            };
            for mut c in checks {
                // The name a DANE sender sends as SNI: the TLSA base domain.
                if let Some(t) = tlsa.filter(|_| c.id == "dane.match" && !chain.pems.is_empty()) {
                    c = c.with("sni", t.base.as_str());
                }
                c.mx = Some(host.clone());
                c.ip = Some(ip_s.clone());
                host_results.push(c);
            }
        }
        for c in results.iter_mut().filter(|c| c.id == "dane.rollover") {
            let host = c.mx.as_deref().unwrap_or_default().to_ascii_lowercase();
            if let (Some(t), Some(l)) = (dane_out.tlsa.get(&host), leaves.get(&host)) {
                *c = dane::rollover_in_use(c.clone(), &t.records, l);
            }
        }
    }
    let (sts, policy) = fetched;
    results.extend(sts);
    report.checks = judge(&shared.cfg, &name, results, host_results, policy.as_ref());
    report.expects = select::Expect::judge_all(&shared.cfg.expects, &mut report.checks, None);
    report.ms = t0.elapsed().as_secs_f64() * 1000.0;
    report
}

/// The `mtasts.fetch`, `mtasts.policy` and `mtasts.mx-match` results of a fetch (or of none),
/// and the policy when it is valid; `named`: every MX host, to match against it.
fn sts_results(
    fetched: Option<(CheckResult, Option<Vec<u8>>)>,
    sts_ok: bool,
    sts_txt: Option<Status>,
    named: &[String],
) -> (Vec<CheckResult>, Option<records::Policy>) {
    let mut out = Vec::new();
    let mut policy = None;
    match fetched {
        None => {
            let why = if sts_ok {
                "not selected"
            } else if sts_txt == Some(Status::Error) {
                "the MTA-STS record could not be looked up (mtasts.txt): no policy fetched"
            } else {
                "no valid MTA-STS record: senders do not fetch a policy"
            };
            for id in ["mtasts.fetch", "mtasts.policy", "mtasts.mx-match"] {
                out.push(CheckResult::new(id, Status::Skip, why));
            }
        }
        Some((fetch_result, body)) => {
            out.push(fetch_result);
            match body {
                Some(body) => {
                    let (c, p) = mtasts::policy_check(&body);
                    // An invalid policy is no policy: senders deliver as without MTA-STS (RFC
                    // 8461 §3.3), so it changes no other verdict.
                    let valid = c.status != Status::Fail;
                    out.push(c);
                    out.push(mtasts::mx_match(&p, named, valid));
                    policy = valid.then_some(p);
                }
                None => {
                    for id in ["mtasts.policy", "mtasts.mx-match"] {
                        out.push(CheckResult::new(id, Status::Skip, "no policy fetched"));
                    }
                }
            }
        }
    }
    (out, policy)
}

/// `mtasts.mx-match` of a domain checked with `--host HOST` (`c`, matched against `[HOST]`):
/// worded for the one host that stands in for the MX records, the policy's patterns named on a
/// pass too (on a fail or warn they are already), evidence `host`.
fn mx_match_of_named_host(mut c: CheckResult, host: &str, p: &records::Policy) -> CheckResult {
    let instead = "checked with --host in place of the MX records";
    match c.status {
        Status::Pass => {
            c.summary = format!(
                "{host} ({instead}) matches the policy's mx: {}",
                probe::capped(&p.mx.join(", "))
            );
        }
        Status::Fail | Status::Warn => {
            c.summary = format!("{} ({host} {instead})", c.summary);
        }
        _ => {}
    }
    c.with("host", host)
}

/// `ipv6.mx`: an MX with an IPv6 address that answers → pass; IPv6 published but unreachable
/// everywhere → fail, or error when this host has no IPv6 route at all; no IPv6 at all → info;
/// no MX host, or none with an address to test → skip.
fn ipv6_check(
    targets: &[domain::Target],
    has_hosts: bool,
    probed: &[(String, IpAddr, Vec<CheckResult>)],
    family: Family,
) -> CheckResult {
    if family == Family::V4 {
        return CheckResult::new("ipv6.mx", Status::Skip, "-4: IPv6 not tested");
    }
    // No MX host (a failed MX lookup, a null MX): nothing to say of their addresses, as
    // dnssec.mx and dane.* say; "no MX has an IPv6 address" was untrue of a failed lookup.
    // MX hosts whose addresses are all left out (special-purpose ones without
    // --allow-private, or none resolved): "no MX host" was untrue, mx.target says why.
    if targets.is_empty() {
        let why = if has_hosts {
            "no MX address to test (see mx.target)"
        } else {
            "no MX host"
        };
        return CheckResult::new("ipv6.mx", Status::Skip, why);
    }
    let v6: Vec<String> = targets
        .iter()
        .flat_map(|t| {
            t.addrs
                .iter()
                .filter(|a| a.is_ipv6())
                .map(move |a| format!("{} {a}", t.host))
        })
        .collect();
    if v6.is_empty() {
        return CheckResult::new("ipv6.mx", Status::Info, "no MX has an IPv6 address");
    }
    let reachable = probed.iter().any(|(_, ip, res)| {
        ip.is_ipv6()
            && res
                .iter()
                .any(|c| c.id == "smtp.connect" && c.status == Status::Pass)
    });
    // Every IPv6 address out of this host's reach (no IPv6 route here): not the domain's fault.
    let no_route = |res: &Vec<CheckResult>| {
        res.iter().any(|c| {
            c.id == "smtp.connect"
                && c.evidence.get("no_local_route") == Some(&serde_json::Value::Bool(true))
        })
    };
    let v6_probed: Vec<&Vec<CheckResult>> = probed
        .iter()
        .filter(|(_, ip, _)| ip.is_ipv6())
        .map(|(_, _, res)| res)
        .collect();
    let c = if reachable {
        CheckResult::new(
            "ipv6.mx",
            Status::Pass,
            format!("reachable over IPv6 ({})", v6.join(", ")),
        )
    } else if !v6_probed.is_empty() && v6_probed.iter().all(|r| no_route(r)) {
        CheckResult::new(
            "ipv6.mx",
            Status::Error,
            format!(
                "IPv6 addresses published ({}), but this host has no IPv6 route: could not be tested (-4 leaves IPv6 out)",
                v6.join(", ")
            ),
        )
    } else {
        CheckResult::new(
            "ipv6.mx",
            Status::Fail,
            format!(
                "IPv6 addresses published but none answers ({})",
                v6.join(", ")
            ),
        )
    };
    c.with("addresses", serde_json::json!(v6))
}

/// Filter by `--only/--skip`, mark waivers, and decide which MX-level failures count: a failure
/// on one (host, address) counts unless another MX address passes the same check (senders fail
/// over to it, RFC 5321 §5.1; not for STARTTLS, the handshake, DANE, RCPT or relaying) — but always when an MTA-STS policy in `enforce` or `testing` mode
/// names the host. Under `enforce` a certificate chain or name warning is a failure (RFC 8461
/// §4.2: senders refuse to deliver).
fn judge(
    cfg: &CheckConfig,
    domain: &str,
    results: Vec<CheckResult>,
    mut host_results: Vec<CheckResult>,
    policy: Option<&records::Policy>,
) -> Vec<Judged> {
    let mode = policy.and_then(|p| p.mode.as_deref()).unwrap_or("none");
    let covered = |host: &Option<String>| {
        mode != "none"
            && policy.is_some_and(|p| {
                host.as_deref()
                    .is_some_and(|h| p.mx.iter().any(|pat| records::mx_matches(pat, h)))
            })
    };
    // A published policy (testing or enforce) makes a certificate problem on a covered MX a
    // failure: under enforce senders will not deliver (RFC 8461 §5); under testing they still
    // deliver but report the failure (the same section), so the domain owner has asked to hear of it.
    let consequence = match mode {
        "enforce" => Some(" — MTA-STS enforce: senders will not deliver (RFC 8461 §5)"),
        "testing" => Some(
            " — MTA-STS testing: senders deliver but report this failure (RFC 8461 §5, RFC 8460)",
        ),
        _ => None,
    };
    // A leaf matched by a DANE-EE(3) record is authenticated by its key alone: DANE senders
    // do not check its validity dates (RFC 7672 §3.1.1, RFC 7671 §5.1), and senders without
    // DANE or MTA-STS do not authenticate port 25 at all (RFC 7435). An expired (or not yet
    // valid) certificate there stops no mail, so it warns — unless a testing or enforce policy
    // covers the host, whose senders check the dates (RFC 8461 §4.2).
    let dane_ee: Vec<(Option<String>, Option<String>)> = host_results
        .iter()
        .filter(|c| {
            c.id == "dane.match"
                && c.status == Status::Pass
                && c.evidence
                    .get("matched")
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|m| m.starts_with("3 "))
        })
        .map(|c| (c.mx.clone(), c.ip.clone()))
        .collect();
    for c in &mut host_results {
        if c.id == "tls.cert.expiry"
            && c.status == Status::Fail
            && !covered(&c.mx)
            && dane_ee.contains(&(c.mx.clone(), c.ip.clone()))
        {
            c.status = Status::Warn;
            c.summary.push_str(
                " — matched by a DANE-EE(3) record, whose senders ignore the dates (RFC 7672 \
                 §3.1.1); senders that check PKIX would refuse it",
            );
        }
    }
    if let Some(why) = consequence {
        for c in &mut host_results {
            // A name matched by the subject CN alone is no failure there: senders that check
            // it (Postfix's `secure` level, OpenSSL's host check) still accept it.
            let cn_only = c.evidence.get("cn_only") == Some(&serde_json::Value::Bool(true));
            if matches!(c.id, "tls.cert.chain" | "tls.cert.name")
                && c.status == Status::Warn
                && covered(&c.mx)
                && !cn_only
            {
                c.status = Status::Fail;
                c.summary.push_str(why);
            }
        }
    }
    let passed_somewhere = |id: &str| {
        host_results
            .iter()
            .any(|c| c.id == id && c.status == Status::Pass)
    };
    let needed = needed_prerequisites(&cfg.selection, &host_results);
    let mut out = Vec::new();
    for (c, host_scope) in results
        .into_iter()
        .map(|c| (c, false))
        .chain(host_results.clone().into_iter().map(|c| (c, true)))
    {
        let prerequisite = host_scope
            && !cfg.selection.wants(c.id)
            && needed.contains(&(c.id, c.mx.clone(), c.ip.clone()));
        if !cfg.selection.wants(c.id) && !prerequisite {
            continue;
        }
        let waived = cfg.waivers.iter().any(|w| w.covers(c.id, domain));
        let mut note = waived.then(|| "waived".to_string());
        let mut counts = !waived;
        // A refused RCPT or an open relay on any MX is not made up for by another MX: senders
        // fail over on connection problems and 4xx, not on a 5xx or an accepted relay. Nor is
        // a missing STARTTLS or a failed handshake: opportunistic TLS falls back to cleartext
        // on the same MX (RFC 3207 §4, RFC 7435), so mail to it goes unencrypted. Nor is a
        // DANE failure (no STARTTLS or handshake under a secure TLSA RRset, or no record
        // matching the chain): DANE senders never deliver to that MX (RFC 7672 §2.2), the same
        // as when its TLSA lookup fails, which `dane.tlsa` counts.
        let per_mx_verdict = matches!(
            c.id,
            "smtp.postmaster"
                | "smtp.open-relay"
                | "tls.starttls"
                | "tls.handshake"
                | "dane.starttls"
                | "dane.match"
        );
        if counts
            && host_scope
            && !per_mx_verdict
            && matches!(c.status, Status::Fail | Status::Error)
            && !covered(&c.mx)
            && passed_somewhere(c.id)
        {
            counts = false;
            note = Some("another MX address passes this check".into());
        }
        if prerequisite && note.is_none() {
            note = Some(PREREQUISITE_NOTE.into());
        }
        out.push(Judged {
            result: c,
            counts,
            waived,
            note,
        });
    }
    out
}

/// The note on a step `--only`/`--skip` left out, reported because the selected checks after
/// it on that MX address could not run without it.
pub(crate) const PREREQUISITE_NOTE: &str =
    "left out by --only/--skip, reported because the selected checks after it could not run";

/// The steps `--only`/`--skip` left out that failed (or could not be tested) on an MX address
/// and so left a selected check after them there skipped: `(id, mx, ip)`. They are reported
/// and judged as in a full run. Without them `--only 'tls.*'` against an MX refusing every
/// connection showed nothing but skips and passed: a run that tested nothing, reported as if
/// it had tested everything. Each skip says which step kept the session from it where it is
/// made ([`CheckResult::skipped_after`]); a skip for a reason of its own (a loopback PTR, no
/// TLSA record) names none and brings no step in.
fn needed_prerequisites(
    sel: &select::Selection,
    host_results: &[CheckResult],
) -> Vec<(&'static str, Option<String>, Option<String>)> {
    let mut out: Vec<(&'static str, Option<String>, Option<String>)> = Vec::new();
    for c in host_results {
        let Some(step) = c.skipped_after else {
            continue;
        };
        if c.status != Status::Skip || !sel.wants(c.id) || sel.wants(step) {
            continue;
        }
        let failed = || {
            host_results.iter().any(|s| {
                s.id == step
                    && s.mx == c.mx
                    && s.ip == c.ip
                    && matches!(s.status, Status::Fail | Status::Error)
            })
        };
        if !out
            .iter()
            .any(|(id, mx, ip)| *id == step && *mx == c.mx && *ip == c.ip)
            && failed()
        {
            out.push((step, c.mx.clone(), c.ip.clone()));
        }
    }
    out
}

/// Run the checks and render them through `renderer` (the run's one renderer, built by the
/// dispatcher, `app`); returns the exit code (0 / 40 / 41). Everything runs on one thread (a
/// `LocalSet`): the session driver's futures are not `Send`, and one thread is plenty for
/// I/O-bound probes.
pub(crate) async fn run(cfg: CheckConfig, renderer: &mut CheckRenderer) -> u8 {
    tokio::task::LocalSet::new()
        .run_until(run_local(cfg, renderer))
        .await
}

async fn run_local(cfg: CheckConfig, renderer: &mut CheckRenderer) -> u8 {
    let started = Instant::now();
    let plain = cfg
        .dns
        .clone()
        .with_dnssec(crate::net::dns::DnssecMode::Off, None);
    let built = Resolver::new(&plain).and_then(|r| {
        let v = match cfg.dns.dnssec {
            crate::net::dns::DnssecMode::Off => None,
            _ => Some(Resolver::new(&cfg.dns)?),
        };
        Ok((r, v))
    });
    // A resolver that cannot ask anything is this host's set-up, not any domain's finding: one
    // line and the prerequisite exit code, not a report where every lookup fails (DNSSEC
    // verdicts included, which made it exit 40) or a bare 41 as if a retry could help.
    let setup = match &built {
        Ok((r, _)) => r.unusable().map(str::to_string),
        Err(e) => Some(e.to_string()),
    };
    if let Some(why) = setup {
        renderer.refused(
            &dns_setup_message(&why, cfg.dns.server.is_some()),
            crate::error::EXIT_PREREQ,
        );
        return crate::error::EXIT_PREREQ;
    }
    let Ok((resolver, validator)) = built else {
        return crate::error::EXIT_PREREQ;
    };
    let gate = Arc::new(Semaphore::new(DNS_IN_FLIGHT));
    // A DNS server that answers nothing is said once it is known, not waited out per domain.
    let silence = Arc::new(crate::net::dns::Silence::default());
    let resolver = resolver
        .with_gate(gate.clone())
        .with_silence(silence.clone());
    let validator = validator.map(|v| v.with_gate(gate).with_silence(silence));
    let lookups = select::Lookups::of(&cfg.selection);
    let shared = Arc::new(Shared {
        resolver,
        validator,
        cfg: cfg.clone(),
        per_ip: Mutex::new(HashMap::new()),
        probes: Mutex::new(HashMap::new()),
        live: Mutex::new(HashMap::new()),
        pre_tls: Mutex::new(HashMap::new()),
        dane_probes: Mutex::new(HashMap::new()),
        lookups,
    });
    // At most `--concurrency` domains are under way, and only they exist as tasks: the next is
    // spawned when one finishes, so memory follows the concurrency, not the length of the list
    // (spawning every domain up front cost about 12 KB each before any work began).
    let limit = cfg.concurrency.max(1);
    let mut set = JoinSet::new();
    let mut queued = cfg.domains.iter().cloned().enumerate().peekable();
    // What each domain under way has decided so far (none for a domain never started, nor for
    // one that finished: its report has it all, and keeping every finished domain's results here
    // made memory grow with the list, about 12 KB a domain, `--junit` or not).
    let mut partials: Vec<Option<PartialCell>> = vec![None; cfg.domains.len()];
    // Reports go out in input order (`render::check`), so one done ahead of an earlier domain
    // still under way is held as text: no domain further than [`HELD_AHEAD`] past the first
    // unfinished one is started (unless nothing else is under way), which bounds that text.
    let mut spawn_next = |set: &mut JoinSet<DomainReport>,
                          partials: &mut Vec<Option<PartialCell>>,
                          first_open: usize| {
        let ahead = queued
            .peek()
            .is_some_and(|(i, _)| *i >= first_open + HELD_AHEAD.max(2 * limit));
        if ahead && !set.is_empty() {
            return;
        }
        if let Some((i, d)) = queued.next() {
            let sh = shared.clone();
            let partial = PartialCell::default();
            partials[i] = Some(partial.clone());
            set.spawn_local(async move { check_domain(sh, i, d, partial).await });
        }
    };
    // A list the deadline cut: nothing is started, every name read is reported as not checked.
    let first = if cfg.list_cut { 0 } else { limit };
    for _ in 0..first {
        spawn_next(&mut set, &mut partials, 0);
    }
    // What the end needs of each finished domain: whether it finished, the tally, and (for
    // `--junit` only, which writes them all at the end) its `<testsuite>` as text, made when it
    // finishes. A report with its evidence is several times larger (about 53 KB a domain was
    // kept per domain when the reports themselves were), so a long list keeps none.
    let mut finished = vec![false; cfg.domains.len()];
    // The first domain (input order) not finished yet: the reports after it are held back.
    let mut first_open = 0;
    let run_info = crate::render::junit::RunInfo::now_minus(started.elapsed());
    let mut kept: Vec<Option<String>> = match cfg.junit {
        Some(_) => vec![None; cfg.domains.len()],
        None => Vec::new(),
    };
    let suite = |r: &DomainReport| {
        crate::render::junit::suite_xml("ehlo check", r, r.index, cfg.fail_on, &run_info)
    };
    let mut tally = model::Tally::default();
    renderer.start(cfg.domains.len());
    let deadline = cfg
        .deadline
        .map(|d| tokio::time::Instant::from_std(cfg.started + d));
    // One listener for the whole run: a fresh one per turn of the loop would miss a signal
    // that arrives while a finished domain is being rendered. SIGTERM (a CI job cancelled,
    // timeout(1)) and SIGHUP stop the run as Ctrl-C does: report, summary, JUnit file, 41.
    let mut signals = crate::net::driver::RunSignals::listen();
    let (reached, in_list) = (
        deadline_reached(&cfg.deadline_named),
        deadline_in_list(&cfg.deadline_named),
    );
    let stop_reason: Option<&str> = loop {
        if cfg.list_cut {
            break Some(&in_list);
        }
        let next = async {
            match deadline {
                Some(d) => tokio::time::timeout_at(d, set.join_next()).await.ok(),
                None => Some(set.join_next().await),
            }
        };
        tokio::select! {
            r = next => match r {
                None => break Some(&reached),
                Some(None) => break None,
                Some(Some(Ok(report))) => {
                    let i = report.index;
                    partials[i] = None;
                    finished[i] = true;
                    while finished.get(first_open) == Some(&true) {
                        first_open += 1;
                    }
                    // As many as are under way again, up to the window.
                    while set.len() < limit {
                        let before = set.len();
                        spawn_next(&mut set, &mut partials, first_open);
                        if set.len() == before {
                            break;
                        }
                    }
                    renderer.domain(&report);
                    tally.add(&report, cfg.fail_on);
                    if let Some(slot) = kept.get_mut(i) {
                        *slot = Some(suite(&report));
                    }
                }
                Some(Some(Err(_))) => spawn_next(&mut set, &mut partials, first_open),
            },
            sig = crate::net::driver::RunSignals::next(&mut signals) => break Some(stopped_by(sig)),
        }
    };
    set.abort_all();
    // What a stop left unfinished is reported at once: written a batch at a time, each domain
    // never started from one text made once ([`CheckRenderer::not_started`]), so that the run
    // ends soon after its deadline however long the list.
    renderer.begin_batch();
    let why = stop_reason.unwrap_or("not checked");
    let make = |i: usize, d: &str| never_started(&cfg.expects, i, d, why);
    // Every domain never started weighs the same in the tally.
    let mut unstarted = model::Tally::default();
    unstarted.add(&make(0, ""), cfg.fail_on);
    let mut split = crate::render::check::Split::default();
    for (i, done) in finished.iter().enumerate() {
        if *done {
            split.finished += 1;
            continue;
        }
        let Some(partial) = &partials[i] else {
            // Never started: its `<testsuite>` is made as the file is written, not kept here
            // (a million of them held 700 MB, and 700 MB more assembled into one text).
            split.not_started += 1;
            renderer.not_started(i, &cfg.domains[i], &make);
            continue;
        };
        // Started: what it decided is reported as it is, the rest as not finished.
        split.cut += 1;
        let r = cut_report(&shared, i, &cfg.domains[i], partial, why, started);
        renderer.domain_as(&r, crate::render::check::Reach::Cut);
        tally.add(&r, cfg.fail_on);
        if let Some(slot) = kept.get_mut(i) {
            *slot = Some(suite(&r));
        }
    }
    tally.domains += unstarted.domains * split.not_started;
    tally
        .verdicts
        .merge_times(&unstarted.verdicts, split.not_started);
    tally
        .counts
        .merge_times(&unstarted.counts, split.not_started);
    tally.undecided += unstarted.undecided * split.not_started;
    renderer.end_batch();
    renderer.split(split);
    // A run cut short exits 41 whatever the domains it reached found: which ones it reached is
    // timing (a fail found in one run may not have been reached in the next), and the exit code
    // of one list must not depend on it. The report says every failure it did find.
    let mut code = if stop_reason.is_some() {
        crate::error::EXIT_CHECK_UNTESTED
    } else {
        model::untested_ok(
            tally.exit_code(),
            cfg.untested_ok,
            stop_reason,
            tally.undecided,
        )
    };
    if let Some(path) = &cfg.junit {
        // Every suite never started is the one text with its name and position filled in.
        use crate::render::check::Template;
        // Its `domain` test case says it was not started; its expectations say why not decided.
        let unstarted_suite = |i: usize, d: &str| {
            let mut r = make(i, d);
            r.aborted = Some(format!("not started: {why}"));
            suite(&r)
        };
        let template = Template::of(&unstarted_suite(Template::INDEX, Template::DOMAIN));
        let suites = kept.into_iter().enumerate().map(|(i, s)| {
            s.unwrap_or_else(|| {
                let d = &cfg.domains[i];
                if Template::fits(d) {
                    let mut b = Vec::new();
                    template.fill(&mut b, d, i);
                    String::from_utf8(b).unwrap_or_default()
                } else {
                    unstarted_suite(i, d)
                }
            })
        });
        if let Err(e) = crate::render::junit::write_suites(path, suites) {
            // The verdict stands; a run that passed but lost its report is not a success.
            renderer.fatal(&e);
            code = code.max(crate::error::EXIT_USAGE);
        }
    }
    renderer.finish_tally(&tally, code, stop_reason);
    code
}

/// The report of `domain`, the `index`th, that a stop (`why`: `--deadline`, a signal) came
/// before it was started: no check, every expectation listed, not decided.
fn never_started(expects: &[Expect], index: usize, domain: &str, why: &str) -> DomainReport {
    DomainReport {
        index,
        domain: domain.to_string(),
        checks: Vec::new(),
        expects: select::Expect::judge_all(expects, &mut [], Some(why)),
        aborted: Some(why.to_string()),
        ms: 0.0,
    }
}

/// The report of a domain whose checks a stop (`--deadline`, a signal) cut short: every result
/// it had decided, with its real status, and every check it would have run that had not
/// finished as `error` ("not finished: WHY", evidence `unfinished: true`): could not be tested.
/// Expectations are evaluated only on checks that finished; one about an unfinished check is
/// left out, since it was not tested (the domain is `error` anyway, exit 41 unless something
/// that finished failed).
fn cut_report(
    shared: &Shared,
    index: usize,
    domain: &str,
    partial: &PartialCell,
    why: &str,
    started: Instant,
) -> DomainReport {
    let name = domain.trim_end_matches('.').to_ascii_lowercase();
    let p = progress(partial);
    let unfinished = |id: &'static str| unfinished(id, why);
    let host_ids: Vec<&'static str> = model::CHECKS
        .iter()
        .filter(|d| d.scope == Scope::Host && shared.opted(d.id))
        .map(|d| d.id)
        .collect();
    let mut host_results = Vec::new();
    match &p.pairs {
        Some(pairs) => {
            for (host, ip) in pairs {
                let key = (host.to_ascii_lowercase(), *ip);
                let done = {
                    let m = shared.probes.lock().unwrap_or_else(|e| e.into_inner());
                    m.get(&key).and_then(|c| c.get().map(|(r, _)| r.clone()))
                };
                let mut res = done.unwrap_or_else(|| {
                    let events = {
                        let m = shared.live.lock().unwrap_or_else(|e| e.into_inner());
                        m.get(&key)
                            .map(|l| l.lock().unwrap_or_else(|e| e.into_inner()).clone())
                            .unwrap_or_default()
                    };
                    probe::cut_short(host, *ip, &events, &shared.cfg.probe)
                });
                for id in &host_ids {
                    if !res.iter().any(|c| c.id == *id) {
                        res.push(unfinished(id));
                    }
                }
                for mut c in res {
                    c.mx = Some(host.clone());
                    c.ip = Some(ip.to_string());
                    host_results.push(c);
                }
            }
        }
        // The MX hosts are not known yet: each host check once, for no host in particular.
        None => host_results.extend(host_ids.iter().map(|id| unfinished(id))),
    }
    let mut results = p.results.clone();
    for d in model::CHECKS.iter().filter(|d| d.scope == Scope::Domain) {
        if shared.opted(d.id) && !results.iter().any(|c| c.id == d.id) {
            // Under -4, ipv6.mx is decided before anything is asked: a skip, not cut.
            results.push(if d.id == "ipv6.mx" && shared.cfg.family == Family::V4 {
                ipv6_check(&[], false, &[], Family::V4)
            } else {
                unfinished(d.id)
            });
        }
    }
    let position = |id: &str| model::CHECKS.iter().position(|d| d.id == id);
    results.sort_by_key(|c| position(c.id));
    let mut checks = judge(&shared.cfg, &name, results, host_results, p.policy.as_ref());
    let expects = select::Expect::judge_all(&shared.cfg.expects, &mut checks, Some(why));
    DomainReport {
        index,
        domain: domain.to_string(),
        checks,
        expects,
        aborted: Some(why.to_string()),
        ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}

/// The one line for a DNS resolver that could not be set up: what is wrong, and what to do.
fn dns_setup_message(why: &str, server_given: bool) -> String {
    if server_given {
        return format!("cannot set up DNS with --dns-server: {why}");
    }
    let why = why
        .strip_prefix("cannot read the system DNS configuration: ")
        .unwrap_or(why);
    let why = why.strip_prefix("io error: ").unwrap_or(why);
    format!(
        "cannot set up DNS: the system configuration (/etc/resolv.conf) is unusable ({why}): name a resolver with --dns-server ADDR, or fix that file"
    )
}

/// How every reason a `--deadline` stop gives begins ([`deadline_reached`], [`deadline_in_list`]).
const DEADLINE_WORDS: &str = "deadline reached";

/// Why a run `--deadline` stopped did not finish (`check` and `probe`): `deadline reached
/// (NAMED)`, NAMED the flag as the run's configuration names it (`--deadline`, or with where it
/// was set).
pub(crate) fn deadline_reached(named: &str) -> String {
    format!("{DEADLINE_WORDS} ({named})")
}

/// Why a `check` run whose `--deadline` passed while the domain list was still being read
/// checked nothing.
pub(crate) fn deadline_in_list(named: &str) -> String {
    format!("{DEADLINE_WORDS} while reading the domain list ({named})")
}

/// A check (or probe) that was under way when a stop (`why`) came: could not be tested,
/// marked `unfinished` so that no `--expect` is judged on it (`check` and `probe`).
pub(crate) fn unfinished(id: &'static str, why: &str) -> CheckResult {
    CheckResult::new(id, Status::Error, format!("not finished: {why}")).with("unfinished", true)
}

/// How a run that stopped for `why` ([`deadline_reached`], [`deadline_in_list`],
/// [`stopped_by`]) was cut short; `None` for another reason (a run that could not start).
pub(crate) fn cut_of(why: &str) -> Option<crate::error::Cut> {
    use crate::error::{Cut, Ending};
    if why.starts_with(DEADLINE_WORDS) {
        Some(Cut::Deadline)
    } else if [Ending::Int, Ending::Term, Ending::Hup, Ending::Quit]
        .into_iter()
        .any(|e| stopped_by(e) == why)
    {
        Some(Cut::Signal)
    } else {
        None
    }
}

/// Why a run a signal stopped did not finish (`check` and `probe`).
pub(crate) fn stopped_by(sig: crate::error::Ending) -> &'static str {
    use crate::error::Ending;
    match sig {
        Ending::Int => "interrupted (Ctrl-C)",
        Ending::Term => "interrupted (SIGTERM)",
        Ending::Hup => "interrupted (SIGHUP)",
        Ending::Quit => "interrupted (SIGQUIT)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DANE failure on one MX is not made up for by another MX: DANE senders never use that
    /// MX (RFC 7672 §2.2), as when its TLSA lookup fails (`dane.tlsa`, which always counts).
    /// It used to be "not counted" when another MX passed. A connection failure still is.
    #[test]
    fn dane_failures_on_one_mx_count() {
        let cli = crate::cli::args::Cli::parse_args(["ehlo", "check", "example.test"]).unwrap();
        let Ok(crate::cli::mode::Mode::Check(cfg)) = crate::cli::mode::from_cli(cli) else {
            panic!("not a check")
        };
        let on = |id, mx: &str, st| {
            let mut c = CheckResult::new(id, st, "");
            c.mx = Some(mx.to_string());
            c.ip = Some("192.0.2.1".into());
            c
        };
        let (mx10, mx20) = ("mx10.example.test", "mx20.example.test");
        let mut host = Vec::new();
        for id in ["dane.match", "dane.starttls", "smtp.connect"] {
            host.push(on(id, mx10, Status::Fail));
            host.push(on(id, mx20, Status::Pass));
        }
        let judged = judge(&cfg, "example.test", Vec::new(), host, None);
        let counts = |id: &str| {
            judged
                .iter()
                .find(|j| j.result.id == id && j.result.mx.as_deref() == Some(mx10))
                .map(|j| j.counts)
                .unwrap()
        };
        assert!(counts("dane.match"), "{judged:?}");
        assert!(counts("dane.starttls"), "{judged:?}");
        assert!(!counts("smtp.connect"), "{judged:?}");
    }

    /// A skip says which session step kept it from running, and `--only` brings back that
    /// step alone: `dane.match` skipped because STARTTLS is not offered brings `tls.starttls`
    /// in, skipped because the connection failed brings `smtp.connect` (not the handshake,
    /// itself only a skip there), and skipped for a reason of its own brings nothing — no TLSA
    /// record, or no usable one on an MX whose handshake failed (it speaks TLS 1.0 only), where
    /// the rule of the first failed step and the words "no DANE" brought `tls.handshake` in.
    #[test]
    fn a_skip_brings_back_only_the_step_that_kept_it_from_running() {
        let cli = crate::cli::args::Cli::parse_args([
            "ehlo",
            "check",
            "example.test",
            "--only",
            "dane.match",
        ])
        .unwrap();
        let Ok(crate::cli::mode::Mode::Check(cfg)) = crate::cli::mode::from_cli(cli) else {
            panic!("not a check")
        };
        let c = |id, st| CheckResult::new(id, st, "");
        let after = |id, step| CheckResult::skip_after(id, step, "");
        let greeted = || {
            vec![
                c("smtp.connect", Status::Pass),
                c("smtp.banner", Status::Pass),
                c("smtp.ehlo", Status::Info),
            ]
        };
        let mut no_starttls = greeted();
        no_starttls.push(c("tls.starttls", Status::Fail));
        no_starttls.push(after("tls.handshake", "tls.starttls"));
        let mut old_tls = greeted();
        old_tls.push(c("tls.starttls", Status::Pass));
        old_tls.push(c("tls.handshake", Status::Fail));
        let dead = vec![
            c("smtp.connect", Status::Fail),
            after("smtp.banner", "smtp.connect"),
            after("tls.starttls", "smtp.connect"),
            after("tls.handshake", "smtp.connect"),
        ];
        let tlsa = |rr: &str| dane::HostTlsa {
            owner: "_25._tcp.mx.example.test".into(),
            base: "mx.example.test".into(),
            records: vec![
                crate::net::dane::Tlsa::parse(&format!("{rr} {}", "ab".repeat(32))).unwrap(),
            ],
        };
        let (usable, unusable) = (tlsa("3 1 1"), tlsa("1 1 1"));
        let none = dane::Presented::default();
        let old = dane::Presented {
            pems: vec!["a certificate".into()],
            old: Some("TLSv1".into()),
        };
        let mut host = Vec::new();
        for (mx, res, t, chain) in [
            ("no-starttls", &no_starttls, Some(&usable), &none),
            ("no-tlsa", &no_starttls, None, &none),
            ("old-tls", &old_tls, Some(&unusable), &old),
            ("dead", &dead, Some(&usable), &none),
        ] {
            let checks = dane::host_checks("example.test", t, res, chain);
            for mut r in res.iter().cloned().chain(checks) {
                r.mx = Some(mx.to_string());
                r.ip = Some("192.0.2.1".into());
                host.push(r);
            }
        }
        let judged = judge(&cfg, "example.test", Vec::new(), host, None);
        let at = |mx: &str| {
            judged
                .iter()
                .filter(|j| j.result.mx.as_deref() == Some(mx))
                .map(|j| (j.result.id, j.result.status, j.note.as_deref()))
                .collect::<Vec<_>>()
        };
        let skip = ("dane.match", Status::Skip, None);
        let brought = |id, st| (id, st, Some(PREREQUISITE_NOTE));
        assert_eq!(
            at("no-starttls"),
            [brought("tls.starttls", Status::Fail), skip],
            "{judged:?}"
        );
        assert_eq!(at("no-tlsa"), [skip], "{judged:?}");
        assert_eq!(at("old-tls"), [skip], "{judged:?}");
        // Brought in, and made up for by the MX addresses that connected, as in a full run.
        let made_up = Some("another MX address passes this check");
        assert_eq!(
            at("dead"),
            [("smtp.connect", Status::Fail, made_up), skip],
            "{judged:?}"
        );
        // The JSON evidence names the step; a skip of its own has none.
        let because = |mx: &str| {
            judged
                .iter()
                .find(|j| j.result.id == "dane.match" && j.result.mx.as_deref() == Some(mx))
                .and_then(|j| j.result.evidence.get("skipped_because").cloned())
        };
        assert_eq!(because("no-starttls"), Some("tls.starttls".into()));
        assert_eq!(because("dead"), Some("smtp.connect".into()));
        assert_eq!(because("no-tlsa"), None);
        assert_eq!(because("old-tls"), None);
    }

    /// An expired leaf matched by DANE-EE(3) warns (its senders ignore the dates, RFC 7672
    /// §3.1.1); matched by DANE-TA(2) only, on an address without a match, or on a host an
    /// enforce or testing policy covers, it still fails.
    #[test]
    fn an_expired_leaf_matched_by_dane_ee_warns_unless_a_policy_covers_it() {
        let cli = crate::cli::args::Cli::parse_args(["ehlo", "check", "example.test"]).unwrap();
        let Ok(crate::cli::mode::Mode::Check(cfg)) = crate::cli::mode::from_cli(cli) else {
            panic!("not a check")
        };
        let on = |id, mx: &str, ip: &str, st| {
            let mut c = CheckResult::new(id, st, "expired");
            c.mx = Some(mx.to_string());
            c.ip = Some(ip.to_string());
            c
        };
        let host = |matched: &str| {
            vec![
                on(
                    "tls.cert.expiry",
                    "mx.example.test",
                    "192.0.2.1",
                    Status::Fail,
                ),
                on("dane.match", "mx.example.test", "192.0.2.1", Status::Pass)
                    .with("matched", matched),
                // Another address of the same host, where no record matched.
                on(
                    "tls.cert.expiry",
                    "mx.example.test",
                    "192.0.2.2",
                    Status::Fail,
                ),
                on("dane.match", "mx.example.test", "192.0.2.2", Status::Fail)
                    .with("matched", serde_json::Value::Null),
            ]
        };
        let expiry = |judged: &[Judged], ip: &str| {
            judged
                .iter()
                .find(|j| j.result.id == "tls.cert.expiry" && j.result.ip.as_deref() == Some(ip))
                .map(|j| (j.result.status, j.result.summary.clone()))
                .unwrap()
        };
        let judged = judge(&cfg, "example.test", Vec::new(), host("3 1 1 ab"), None);
        let (st, summary) = expiry(&judged, "192.0.2.1");
        assert_eq!(st, Status::Warn, "{judged:?}");
        assert!(summary.contains("DANE-EE(3)") && summary.contains("RFC 7672 §3.1.1"));
        assert_eq!(expiry(&judged, "192.0.2.2").0, Status::Fail);
        let judged = judge(&cfg, "example.test", Vec::new(), host("2 1 1 ab"), None);
        assert_eq!(expiry(&judged, "192.0.2.1").0, Status::Fail);
        for mode in ["enforce", "testing"] {
            let policy = records::Policy {
                mode: Some(mode.into()),
                mx: vec!["mx.example.test".into()],
                ..records::Policy::default()
            };
            let judged = judge(
                &cfg,
                "example.test",
                Vec::new(),
                host("3 1 1 ab"),
                Some(&policy),
            );
            assert_eq!(expiry(&judged, "192.0.2.1").0, Status::Fail, "{mode}");
        }
    }

    #[test]
    fn ipv6_mx_reachable_unreachable_absent() {
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let target = |addrs: Vec<IpAddr>| domain::Target {
            host: "mx.example.test".into(),
            preference: 10,
            addrs,
        };
        let connect = |ip: IpAddr, st: Status| {
            (
                "mx.example.test".to_string(),
                ip,
                vec![CheckResult::new("smtp.connect", st, "")],
            )
        };
        let both = [target(vec![v4, v6])];
        // No AAAA anywhere: information, not a finding.
        let c = ipv6_check(
            &[target(vec![v4])],
            true,
            &[connect(v4, Status::Pass)],
            Family::Any,
        );
        assert_eq!(c.status, Status::Info, "{c:?}");
        // No MX host (the MX lookup failed, or a null MX): not "no MX has an IPv6 address".
        let c = ipv6_check(&[], false, &[], Family::Any);
        assert_eq!(c.status, Status::Skip, "{c:?}");
        assert_eq!(c.summary, "no MX host", "{c:?}");
        // MX hosts, but no address to test (loopback without --allow-private): it said "no MX
        // host" under an mx.target naming the host.
        let c = ipv6_check(&[], true, &[], Family::Any);
        assert_eq!(c.status, Status::Skip, "{c:?}");
        assert_eq!(c.summary, "no MX address to test (see mx.target)", "{c:?}");
        // Published and answering over IPv6.
        let probed = [connect(v4, Status::Pass), connect(v6, Status::Pass)];
        let c = ipv6_check(&both, true, &probed, Family::Any);
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(c.summary.contains("2001:db8::1"), "{c:?}");
        // Published, but only IPv4 answers.
        let probed = [connect(v4, Status::Pass), connect(v6, Status::Fail)];
        assert_eq!(
            ipv6_check(&both, true, &probed, Family::Any).status,
            Status::Fail
        );
        // -4: not tested.
        assert_eq!(
            ipv6_check(&both, true, &probed, Family::V4).status,
            Status::Skip
        );
        // This host has no IPv6 route: could not be tested, not the domain's failure.
        let unroutable = (
            "mx.example.test".to_string(),
            v6,
            vec![CheckResult::new("smtp.connect", Status::Error, "").with("no_local_route", true)],
        );
        let probed = [connect(v4, Status::Pass), unroutable];
        let c = ipv6_check(&both, true, &probed, Family::Any);
        assert_eq!(c.status, Status::Error, "{c:?}");
        assert!(c.summary.contains("no IPv6 route"), "{c:?}");
    }

    #[test]
    fn domain_syntax() {
        assert!(valid_domain("example.com").is_ok());
        assert!(valid_domain("Example.COM.").is_ok());
        assert!(valid_domain("xn--bcher-kva.example").is_ok());
        assert!(valid_domain("_test.example").is_ok());
        for bad in [
            "",
            ".",
            "a..b",
            "-a.b",
            "a b.c",
            "bücher.example",
            "a@b.c",
            "example.com..",
            "..",
            &"a".repeat(64),
        ] {
            assert!(valid_domain(bad).is_err(), "{bad}");
        }
    }
}
