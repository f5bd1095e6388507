//! The per-(MX host, address) checks: one SMTP session (banner, EHLO, STARTTLS when offered,
//! EHLO again, QUIT — never MAIL or DATA) run by the same driver and sans-IO core as the
//! one-shot send, then judged from its event stream: `smtp.*`, `tls.*`, plus `rdns.fcrdns`.
//!
//! [`session_events`] builds a [`ConnectPlan`] for the one connection layer (`net::conn`, via the
//! send's driver) and keeps the events; nothing here opens a socket itself.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use openssl::nid::Nid;
use openssl::pkey::Id;
use openssl::x509::X509;
use serde_json::json;

use super::model::{CheckResult, Status};
use crate::net::dane::DaneUse;
use crate::net::dns::{DnsOptions, Family, Resolver};
use crate::net::route::{ConnectPlan, Link, Target};
use crate::net::tls::TlsParams;
use crate::render::remedy::{FrontEnd, words};
use crate::smtp::capabilities::Capabilities;
use crate::smtp::client::{Plan, Protocol, StartTls, Stop, StopAt, StopKind};
use crate::smtp::codes::{Remedy, is_busy};
use crate::smtp::event::{Event, Phase, Sink, TlsInfo, count_bytes};
use crate::smtp::reply::{Reply, describe_cut};

/// What a probe needs to know, the same for every (host, address).
#[derive(Debug, Clone)]
pub(crate) struct ProbeOptions {
    /// SMTP port (25 unless a test or a staging MTA says otherwise).
    pub(crate) port: u16,
    /// Name we greet with.
    pub(crate) helo: String,
    /// Per-step timeout (connect, each reply, the handshake).
    pub(crate) timeout: Duration,
    /// Extra trust anchors (`--tls-ca-path`).
    pub(crate) ca_path: Option<PathBuf>,
    /// `--cert-days`: fewer days left than this is a warning.
    pub(crate) cert_days: i64,
    /// `--tls-on-connect`: TLS from the first byte (implicit TLS, RFC 8314 §3), as on a
    /// submissions port (465): no STARTTLS, the handshake judged as STARTTLS's would be.
    pub(crate) implicit_tls: bool,
    /// Why a certificate chain or name problem fails here ([`cert_rule`]); `None`: it warns,
    /// the port-25 rule.
    pub(crate) cert_required: Option<String>,
}

/// Why certificate chain and name problems fail on this listener, or `None` when they warn.
/// Port 25 is opportunistic (RFC 7435): a sending MTA without MTA-STS or DANE delivers over
/// a certificate it cannot verify, so a problem there stops no mail. Submission is not:
/// RFC 8314 §5.3 says a mail user agent MUST verify the server's certificate, on implicit
/// TLS (465, §3.3) and on STARTTLS (587) alike, so the same problem there stops every client
/// that follows it. `Auto` takes implicit TLS and those two ports for submission.
pub(crate) fn cert_rule(
    choice: super::model::CertProblems,
    implicit_tls: bool,
    port: u16,
) -> Option<String> {
    use super::model::CertProblems;
    match choice {
        CertProblems::Warn => None,
        CertProblems::Fail => Some("--cert-problems fail".to_string()),
        CertProblems::Auto if implicit_tls => Some(
            "implicit TLS (--tls-on-connect): submission clients verify the certificate \
             (RFC 8314 §5.3)"
                .to_string(),
        ),
        CertProblems::Auto if matches!(port, 465 | 587) => Some(format!(
            "port {port} is submission: its clients verify the certificate (RFC 8314 §5.3)"
        )),
        CertProblems::Auto => None,
    }
}

/// Makes the chain and name problems among `out` failures when `why` says they fail here
/// ([`cert_rule`]), naming the reason. A name matched by the subject CN alone stays a
/// warning: clients built on OpenSSL's host check still accept it.
fn require_cert(out: &mut [CheckResult], why: Option<&str>) {
    let Some(why) = why else { return };
    for c in out.iter_mut() {
        let cn_only = c.evidence.get("cn_only") == Some(&serde_json::Value::Bool(true));
        if matches!(c.id, "tls.cert.chain" | "tls.cert.name")
            && c.status == Status::Warn
            && !cn_only
        {
            c.status = Status::Fail;
            c.summary.push_str(&format!(" — fails here: {why}"));
        }
    }
}

/// A session's events so far, shared so that a run cut short (`--deadline`, a signal) can
/// report the steps that did finish ([`cut_short`]).
pub(crate) type Live = std::sync::Arc<std::sync::Mutex<Vec<(Duration, Event)>>>;

/// An event sink that keeps the events (with their times) instead of printing them.
struct Collect(Live);

impl Sink for Collect {
    fn event(&mut self, event: &Event, elapsed: Duration) {
        // Bytes on the wire are not evidence a check needs; keep memory flat.
        if !matches!(event, Event::RawSent { .. } | Event::RawReceived { .. }) {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((elapsed, event.clone()));
        }
    }
}

/// Run one SMTP session to `ip` (SNI and the verified name are `host`) through the send's driver
/// and the connection layer, with a plan that stops after the last EHLO; return its events.
async fn session_events(
    host: &str,
    ip: IpAddr,
    o: &ProbeOptions,
    live: &Live,
) -> Vec<(Duration, Event)> {
    run_session_into(host, ip, o, probe_plan(o), None, None, live).await
}

/// The probe's plan: EHLO as `o.helo`, STARTTLS when offered, QUIT after the last EHLO.
fn probe_plan(o: &ProbeOptions) -> Plan {
    Plan {
        helo: o.helo.clone(),
        protocol: Protocol::Esmtp,
        // Use STARTTLS when offered; a failed handshake is a finding, not a reason to go on.
        starttls: StartTls::OptionalStrict,
        stop: Some(Stop {
            kind: StopKind::Quit,
            at: StopAt::Helo,
        }),
        ..Plan::default()
    }
}

/// The session a sender using DANE has with `(host, ip)`: [`session_events`]'s plan with the
/// TLS settings of the send's `--tls-verify dane` connection ([`DaneUse::tls_params`]: the
/// TLSA base domain as SNI, RFC 7672 §8.1), judged as a probe is. Returns the results (of
/// which `dane.starttls` reads `tls.starttls`/`tls.handshake`) and the chain presented
/// (`dane.match`). For an MX host whose TLSA base domain is another name (an alias with
/// the records at its expansion): a server choosing its certificate by SNI shows a DANE
/// sender another certificate than the probe, which sends the MX host name.
pub(crate) async fn dane_session(
    host: &str,
    ip: IpAddr,
    o: &ProbeOptions,
    dane: &DaneUse,
) -> (Vec<CheckResult>, Vec<String>) {
    let events = run_session_into(
        host,
        ip,
        o,
        probe_plan(o),
        None,
        Some(dane),
        &Live::default(),
    )
    .await;
    let seen = gather(&events);
    let chain = seen
        .tls
        .as_ref()
        .map(|(info, _)| info.chain.iter().map(|c| c.pem.clone()).collect())
        .unwrap_or_default();
    (judge(host, &seen, o, &[]), chain)
}

/// Run `plan` against `ip` (SNI and the verified name are `host`) through the send's driver and
/// the connection layer, limited to `protocols` when given; return the session's events (the
/// opt-in probes in `check::optin` use this too).
pub(crate) async fn run_session(
    host: &str,
    ip: IpAddr,
    o: &ProbeOptions,
    plan: Plan,
    protocols: Option<Vec<crate::net::tls::TlsVersion>>,
) -> Vec<(Duration, Event)> {
    run_session_into(host, ip, o, plan, protocols, None, &Live::default()).await
}

/// [`run_session`], the events kept in `live` as they come; `dane`: with the TLS settings of
/// a DANE sender ([`dane_session`]).
async fn run_session_into(
    host: &str,
    ip: IpAddr,
    o: &ProbeOptions,
    plan: Plan,
    protocols: Option<Vec<crate::net::tls::TlsVersion>>,
    dane: Option<&DaneUse>,
    live: &Live,
) -> Vec<(Duration, Event)> {
    let judged = TlsParams {
        // Judged afterwards: a bad certificate on port 25 is evidence, not a stop.
        verify: false,
        ca_path: o.ca_path.clone(),
        protocols,
        ..TlsParams::default()
    };
    let tls = match dane {
        Some(d) => d.tls_params(&judged, false),
        None => TlsParams {
            sni: Some(host.to_string()),
            verify_name: Some(host.to_string()),
            ..judged
        },
    };
    let link = Link {
        family: if ip.is_ipv4() { Family::V4 } else { Family::V6 },
        dns: DnsOptions::default(),
        tls,
        timeout: o.timeout,
        connect_timeout: o.timeout,
        tls_on_connect: o.implicit_tls,
        ..Link::default()
    };
    let connect: ConnectPlan = link.to(Target::Host {
        host: ip.to_string(),
        port: o.port,
    });
    let mut sink = Collect(live.clone());
    crate::net::driver::send(&connect, plan, &mut sink).await;
    live.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Everything one session showed, pulled out of the event stream.
#[derive(Default)]
struct Seen {
    connect_ms: Option<f64>,
    connect_error: Option<String>,
    /// Why this host cannot reach the address's family at all, when the connection failed
    /// ([`crate::net::conn::no_local_route`]): the checker's problem, not the MX's.
    no_route: Option<String>,
    /// The address is IPv6 (for the wording of `no_route`).
    v6: bool,
    banner: Option<(Reply, f64)>,
    ehlo: Option<Reply>,
    starttls_reply: Option<Reply>,
    tls: Option<(TlsInfo, f64)>,
    tls_failed: Option<String>,
    /// The handshake failed for want of a version in common, the server perhaps speaking only
    /// TLS 1.0/1.1, which the probe does not offer (the failure names that remedy).
    old_tls_only: bool,
    ehlo_after_tls: Option<Reply>,
    /// The run's error (timeouts, closes) and the phase it happened in.
    error: Option<(String, Option<Phase>)>,
}

fn gather(events: &[(Duration, Event)]) -> Seen {
    let mut s = Seen::default();
    let mut connected_at = None;
    let mut last_phase = Phase::Connect;
    let mut tls_t0 = None;
    for (t, ev) in events {
        match ev {
            Event::Connecting { .. } => connected_at = Some(*t),
            Event::Connected { .. } => {
                s.connect_ms = connected_at.map(|c| ms(*t - c));
                connected_at = Some(*t);
                last_phase = Phase::Banner;
            }
            Event::ConnectFailed { reason, .. } => s.connect_error = Some(reason.clone()),
            Event::Sent { phase, .. } => {
                last_phase = *phase;
                if *phase == Phase::StartTls {
                    tls_t0 = Some(*t);
                }
            }
            Event::Received { reply, phase, .. } => match phase {
                Phase::Banner => {
                    let since = connected_at.map(|c| ms(*t - c)).unwrap_or(0.0);
                    s.banner = Some((reply.clone(), since));
                }
                Phase::Helo if s.ehlo.is_none() => s.ehlo = Some(reply.clone()),
                Phase::StartTls => s.starttls_reply = Some(reply.clone()),
                Phase::HeloAfterTls if s.ehlo_after_tls.is_none() => {
                    s.ehlo_after_tls = Some(reply.clone())
                }
                _ => {}
            },
            Event::TlsStarted { info } => {
                // Implicit TLS: the handshake starts once connected.
                let t0 = tls_t0.or(connected_at);
                s.tls = Some((info.clone(), t0.map(|t0| ms(*t - t0)).unwrap_or(0.0)));
            }
            Event::TlsFailed { reason } => {
                s.old_tls_only = reason.names(Remedy::OldTls);
                s.tls_failed = Some(words(reason, FrontEnd::Check));
            }
            Event::Summary(sum) => {
                if let Some(e) = &sum.error {
                    // An unexpected reply's error quotes the server's line (up to 8 KiB).
                    s.error = Some((capped(e), Some(last_phase)));
                }
            }
            _ => {}
        }
    }
    s
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Most bytes of a server's text kept in a summary or an evidence member: a reply may be up to
/// the parser's 1 MiB, and a report line (or a JUnit file) should not be.
pub(crate) const TEXT_CAP: usize = 300;

/// `text` as it is when short; else its first [`TEXT_CAP`] bytes (cut on a character boundary),
/// an ellipsis and the real size.
pub(crate) fn capped(text: &str) -> String {
    if text.len() <= TEXT_CAP {
        return text.to_string();
    }
    let end = text.floor_char_boundary(TEXT_CAP);
    format!("{}… ({} in all)", &text[..end], count_bytes(text.len()))
}

/// Most bytes of EHLO keywords kept in `smtp.ehlo`'s evidence: a real list (a few dozen
/// keywords) fits many times over.
const KEYWORDS_CAP: usize = 2048;

/// A reply's lines for the evidence: as many whole lines as fit in `max` bytes (the first one
/// [`capped`] when it alone is longer); when some are left out, a last element says how much
/// there was.
pub(crate) fn capped_lines(lines: &[String], max: usize) -> Vec<String> {
    let total: usize = lines.iter().map(String::len).sum();
    if total <= max {
        return lines.to_vec();
    }
    let mut out = Vec::new();
    let mut used = 0;
    for l in lines {
        if used + l.len() > max {
            if out.is_empty() {
                out.push(capped(l));
            }
            break;
        }
        used += l.len();
        out.push(l.clone());
    }
    out.push(format!(
        "… ({} in {} lines in all)",
        count_bytes(total),
        lines.len()
    ));
    out
}

/// A reply as one line of text, [`capped`].
pub(crate) fn reply_text(r: &Reply) -> String {
    let code = r
        .code
        .map(|c| c.to_string())
        .unwrap_or_else(|| "???".into());
    capped(format!("{code} {}", r.lines.join(" / ")).trim_end())
}

/// The limit a reply passed, when it passed one: a reply cut for size
/// ([`Deviation::ReplyTooLarge`](crate::smtp::event::Deviation)), or a line past the longest
/// the parser keeps.
pub(crate) fn oversized(r: &Reply) -> bool {
    use crate::smtp::event::Deviation;
    r.deviations.iter().any(|d| {
        matches!(
            d,
            Deviation::ReplyTooLarge { .. } | Deviation::OverlongLine { .. }
        )
    })
}

/// Why a reply is not SMTP, in a few words (a hostile server's bytes are not repeated at
/// length): past the size limits, or without a reply code.
pub(crate) fn garbled(r: &Reply) -> String {
    use crate::smtp::event::Deviation;
    for d in &r.deviations {
        if let Deviation::ReplyTooLarge { .. } = d {
            return format!("a reply too large: {}; cut off there", describe_cut(d));
        }
    }
    for d in &r.deviations {
        if let Deviation::OverlongLine { len, limit } = d {
            return format!(
                "a line of {} (limit {})",
                count_bytes(*len),
                count_bytes(*limit)
            );
        }
    }
    let text: String = r.lines.join(" ").chars().take(60).collect();
    format!("no reply code in '{text}'")
}

/// A reply that says "come back later": 421 (RFC 5321 §3.8: the service is not available
/// now), or a busy server's 4xx/5xx (rate or connection limits, [`is_busy`]). Reported as
/// "could not test", never as "no STARTTLS" (the confusion other checkers are known for).
fn not_now(r: &Reply) -> bool {
    r.announces_close() || is_busy(r)
}

/// `id` could not be judged: `what` (its reply `r`) was cut off by the close.
fn cut_off_error(id: &'static str, what: &str, r: &Reply) -> CheckResult {
    CheckResult::new(
        id,
        Status::Error,
        format!("{what} was cut off by the close: {}", reply_text(r)),
    )
    .with("code", r.code)
    .with("truncated_at_close", true)
}

/// Was `r`, an SMTP reply within the size limits, cut off by the close
/// ([`Deviation::TruncatedAtClose`](crate::smtp::event::Deviation))? Such a reply answers
/// nothing: its last line, the verdict (RFC 5321 §4.2.1), never came. Bytes without a reply
/// code or past the limits keep their own, firmer verdict ([`garbled`]).
fn cut_off(r: &Reply) -> bool {
    r.code.is_some()
        && !oversized(r)
        && r.deviations
            .contains(&crate::smtp::event::Deviation::TruncatedAtClose)
}

/// The host-scope checks that cannot run because session step `step` did not pass: those
/// from `after` on in the session's order (each says `step` in its `skipped_after`). This
/// order is the one place the session's steps are listed in (RFC 5321 §3.1, RFC 3207 §4).
fn skipped(step: &'static str, after: usize, why: &str) -> Vec<CheckResult> {
    const ORDER: [&str; 9] = [
        "smtp.banner",
        "smtp.ehlo",
        "smtp.banner-name",
        "tls.starttls",
        "tls.handshake",
        "tls.cert.chain",
        "tls.cert.name",
        "tls.cert.expiry",
        "tls.cert.key",
    ];
    ORDER[after..]
        .iter()
        .map(|id| CheckResult::skip_after(id, step, why))
        .collect()
}

/// Probe `(host, ip)`: every host-scope check in table order (without `mx`/`ip` filled in; the
/// caller labels them).
/// Also returns the certificate chain the server presented (PEM, leaf first; empty without a
/// TLS session), which `dane.match` checks against each domain's view of the TLSA records.
/// `ptr`: ask the address's PTR names (`rdns.fcrdns` or `smtp.banner-name` selected); without
/// it no `rdns.fcrdns` result, and `smtp.banner-name` (not selected then) is judged without them.
pub(crate) async fn probe(
    resolver: &Resolver,
    host: &str,
    ip: IpAddr,
    o: &ProbeOptions,
    live: &Live,
    ptr: bool,
) -> (Vec<CheckResult>, Vec<String>) {
    let rdns = async {
        if ptr {
            Some(fcrdns(resolver, ip).await)
        } else {
            None
        }
    };
    let (events, rdns) = tokio::join!(session_events(host, ip, o, live), rdns);
    let (rdns, ptr_names) = rdns.unzip();
    let mut seen = gather(&events);
    if seen.connect_error.is_some() {
        seen.no_route = crate::net::conn::no_local_route(ip).map(|e| e.to_string());
        seen.v6 = ip.is_ipv6();
    }
    let mut out = judge(host, &seen, o, &ptr_names.unwrap_or_default());
    out.extend(rdns);
    let chain = seen
        .tls
        .as_ref()
        .map(|(info, _)| info.chain.iter().map(|c| c.pem.clone()).collect())
        .unwrap_or_default();
    (out, chain)
}

/// The results a session still under way (cut by `--deadline` or a signal) has already
/// decided, from its events so far: the connection (made, or failed: then every step is
/// decided), and the greeting when it came; a greeting that refused or could not be read
/// decides the rest too; `rdns.fcrdns` when it needs no lookup (a loopback address). Everything
/// else was not finished.
pub(crate) fn cut_short(
    host: &str,
    ip: IpAddr,
    events: &[(Duration, Event)],
    o: &ProbeOptions,
) -> Vec<CheckResult> {
    let seen = gather(events);
    let full = judge(host, &seen, o, &[]);
    let keep = if seen.connect_error.is_some() {
        full.len()
    } else if seen.connect_ms.is_none() {
        0
    } else if seen.banner.is_none() {
        1
    } else if full.get(1).is_some_and(|b| b.status != Status::Pass) {
        full.len()
    } else {
        2
    };
    let mut out: Vec<CheckResult> = full.into_iter().take(keep).collect();
    out.extend(fcrdns_decided(ip));
    out
}

/// Judge the session. `ptr_names` feed `smtp.banner-name`.
fn judge(host: &str, s: &Seen, o: &ProbeOptions, ptr_names: &[String]) -> Vec<CheckResult> {
    let mut out = Vec::new();
    // smtp.connect
    if let (Some(reason), Some(why)) = (&s.connect_error, &s.no_route) {
        let family = if s.v6 { "IPv6" } else { "IPv4" };
        // ENETUNREACH and the like from this host's own routing table (an IPv6 MX seen from a
        // host without IPv6): nothing was learnt about the MX.
        out.push(
            CheckResult::new(
                "smtp.connect",
                Status::Error,
                format!(
                    "port {}: this host has no route to {family} addresses ({why}): could not be tested",
                    o.port
                ),
            )
            .with("port", o.port)
            .with("error", reason.as_str())
            .with("no_local_route", true),
        );
        out.extend(skipped("smtp.connect", 0, "no route from this host"));
        return out;
    }
    if let Some(reason) = &s.connect_error {
        let st = if reason.contains("timed out") {
            Status::Error
        } else {
            Status::Fail
        };
        out.push(
            CheckResult::new("smtp.connect", st, format!("port {}: {reason}", o.port))
                .with("port", o.port)
                .with("error", reason.as_str()),
        );
        out.extend(skipped("smtp.connect", 0, "no connection"));
        return out;
    }
    let Some(connect_ms) = s.connect_ms else {
        let why = s.error.as_ref().map(|e| e.0.clone()).unwrap_or_default();
        out.push(CheckResult::new("smtp.connect", Status::Error, why));
        out.extend(skipped("smtp.connect", 0, "no connection"));
        return out;
    };
    out.push(
        CheckResult::new(
            "smtp.connect",
            Status::Pass,
            format!("port {} open", o.port),
        )
        .with("port", o.port)
        .timed(connect_ms),
    );

    // Implicit TLS (`--tls-on-connect`): no greeting without the handshake first.
    if o.implicit_tls && s.tls.is_none() {
        let (st, why) = handshake_failed(s);
        let before = "implicit TLS handshake failed (--tls-on-connect)";
        out.extend(
            [
                "smtp.banner",
                "smtp.ehlo",
                "smtp.banner-name",
                "tls.starttls",
            ]
            .iter()
            .map(|id| CheckResult::skip_after(id, "tls.handshake", before)),
        );
        out.push(
            CheckResult::new(
                "tls.handshake",
                st,
                format!("implicit TLS (--tls-on-connect): {why}"),
            )
            .with("error", why),
        );
        out.extend(skipped("tls.handshake", 5, "no TLS session"));
        return out;
    }

    // smtp.banner
    let Some((banner, banner_ms)) = &s.banner else {
        let why = s
            .error
            .as_ref()
            .map(|e| e.0.clone())
            .unwrap_or_else(|| "the server closed the connection without a greeting".into());
        out.push(
            CheckResult::new("smtp.banner", Status::Error, format!("no greeting: {why}"))
                .with("error", why),
        );
        out.extend(skipped("smtp.banner", 1, "no greeting"));
        return out;
    };
    let text = reply_text(banner);
    // A greeting cut off by the close answers nothing (RFC 5321 §4.2.1: the last line is the
    // verdict, and it never came): the server could not be tested, never a pass.
    if cut_off(banner) {
        out.push(
            cut_off_error("smtp.banner", "the greeting", banner)
                .with("text", capped_lines(&banner.lines, TEXT_CAP))
                .timed(*banner_ms),
        );
        out.extend(skipped("smtp.banner", 1, "greeting cut off by the close"));
        return out;
    }
    let b = CheckResult::new("smtp.banner", Status::Pass, text.clone())
        .with("code", banner.code)
        .with("text", capped_lines(&banner.lines, TEXT_CAP))
        .timed(*banner_ms);
    match banner.code {
        // No reply code at all, or past the reply size limits even after a 220: not a
        // greeting an SMTP client can read (RFC 5321 §4.5.3.1.5 allows 512 octets a line).
        _ if banner.code.is_none() || oversized(banner) => {
            out.push(CheckResult {
                status: Status::Fail,
                summary: format!("not an SMTP greeting: {}", garbled(banner)),
                ..b
            });
            out.extend(skipped("smtp.banner", 1, "no SMTP greeting"));
            return out;
        }
        _ if banner.is_ready() => out.push(b),
        _ if not_now(banner) => {
            out.push(CheckResult {
                status: Status::Error,
                summary: format!(
                    "{text}: the server is throttling us; could not test (retry later)"
                ),
                ..b
            });
            out.extend(skipped(
                "smtp.banner",
                1,
                "greeting refused for now (throttled)",
            ));
            return out;
        }
        _ if banner.is_transient() => {
            out.push(CheckResult {
                status: Status::Error,
                summary: format!("{text}: temporary refusal; could not test"),
                ..b
            });
            out.extend(skipped("smtp.banner", 1, "temporary refusal"));
            return out;
        }
        _ => {
            out.push(CheckResult {
                status: Status::Fail,
                summary: format!("{text}: the server refuses SMTP sessions"),
                ..b
            });
            out.extend(skipped("smtp.banner", 1, "greeting refused"));
            return out;
        }
    }

    // smtp.ehlo
    let Some(ehlo) = &s.ehlo else {
        let why = s.error.as_ref().map(|e| e.0.clone()).unwrap_or_default();
        out.push(CheckResult::new(
            "smtp.ehlo",
            Status::Error,
            format!("no EHLO reply: {why}"),
        ));
        out.extend(skipped("smtp.ehlo", 2, "no EHLO reply"));
        return out;
    };
    // An EHLO reply cut off by the close lists nothing for certain (a `250-STARTTLS` line
    // followed by a close is no offer): could not test the rest.
    if cut_off(ehlo) {
        out.push(cut_off_error("smtp.ehlo", "the EHLO reply", ehlo));
        out.extend(skipped("smtp.ehlo", 2, "EHLO reply cut off by the close"));
        return out;
    }
    let caps = Capabilities::from_reply(ehlo);
    let keywords: Vec<String> = caps.keywords.iter().map(|c| c.raw.clone()).collect();
    // A reply past the size limits is not one a sender can use, whatever its code; nor is one
    // without a reply code (RFC 5321 §4.2: `25 ok`, a TLS record), which refuses nothing: the
    // greeting's check says the same of such bytes.
    let unusable = oversized(ehlo) || ehlo.code.is_none();
    let ehlo_ok = ehlo.is_completed() && !unusable;
    // REQUIRETLS is offered on a TLS-protected session (RFC 8689 §4): look at both EHLOs.
    let requiretls = caps.has("REQUIRETLS")
        || s.ehlo_after_tls
            .as_ref()
            .is_some_and(|r| Capabilities::from_reply(r).has("REQUIRETLS"));
    // An accepted EHLO is recorded, not judged: the extension list is information.
    // A 421 (or a "too many connections" refusal) to EHLO is a busy server, like the same reply
    // as a greeting: could not test, retryable — never a verdict on the server.
    let busy = !ehlo_ok && !unusable && not_now(ehlo);
    let mut e = CheckResult::new(
        "smtp.ehlo",
        if ehlo_ok {
            Status::Info
        } else if busy {
            Status::Error
        } else {
            Status::Fail
        },
        if unusable {
            format!("not an SMTP reply to EHLO: {}", garbled(ehlo))
        } else if busy {
            format!("server busy, try later: {}", reply_text(ehlo))
        } else if ehlo_ok {
            format!(
                "{} extensions{}",
                keywords.len(),
                if requiretls {
                    ", REQUIRETLS (RFC 8689)"
                } else {
                    ""
                }
            )
        } else {
            format!("EHLO refused: {}", reply_text(ehlo))
        },
    )
    .with("code", ehlo.code)
    .with("extensions", json!(capped_lines(&keywords, KEYWORDS_CAP)));
    e = e.with("requiretls", requiretls);
    out.push(e);

    // smtp.banner-name
    let first_word = |r: &Reply| {
        r.lines
            .first()
            .and_then(|l| l.split_whitespace().next())
            .map(|w| capped(&w.trim_end_matches('.').to_ascii_lowercase()))
    };
    let names = [first_word(banner), first_word(ehlo)];
    let host_l = host.trim_end_matches('.').to_ascii_lowercase();
    let good: Vec<String> = std::iter::once(host_l.clone())
        .chain(ptr_names.iter().map(|p| p.to_ascii_lowercase()))
        .collect();
    let matched = names.iter().flatten().any(|n| good.contains(n));
    out.push(
        CheckResult::new(
            "smtp.banner-name",
            if matched { Status::Pass } else { Status::Info },
            if matched {
                "the greeting names this host".to_string()
            } else {
                format!(
                    "greeting names {} (MX {host_l}, PTR {})",
                    names
                        .iter()
                        .flatten()
                        .next()
                        .map(String::as_str)
                        .unwrap_or("nothing"),
                    if ptr_names.is_empty() {
                        "none".into()
                    } else {
                        ptr_names.join(",")
                    }
                )
            },
        )
        .with("banner_name", names[0].clone())
        .with("ehlo_name", names[1].clone())
        .with("ptr", json!(ptr_names)),
    );
    if !ehlo_ok {
        out.extend(skipped(
            "smtp.ehlo",
            3,
            if unusable {
                "no usable EHLO reply"
            } else {
                "EHLO refused"
            },
        ));
        return out;
    }

    // tls.starttls
    if o.implicit_tls {
        out.push(CheckResult::new(
            "tls.starttls",
            Status::Skip,
            "implicit TLS (--tls-on-connect): TLS from the first byte, no STARTTLS",
        ));
    } else if !caps.has("STARTTLS") {
        out.push(CheckResult::new(
            "tls.starttls",
            Status::Fail,
            "STARTTLS is not offered: mail to this MX travels in clear text",
        ));
        out.extend(skipped("tls.starttls", 4, "no STARTTLS"));
        return out;
    } else {
        out.push(CheckResult::new("tls.starttls", Status::Pass, "offered"));
    }

    // tls.handshake
    let (info, hs_ms) = match (&s.tls, &s.starttls_reply) {
        (Some(t), _) => (t.0.clone(), t.1),
        // A reply to STARTTLS cut off by the close is neither a go-ahead nor a refusal.
        (None, Some(r)) if cut_off(r) => {
            out.push(cut_off_error("tls.handshake", "the reply to STARTTLS", r));
            out.extend(skipped("tls.handshake", 5, "no TLS session"));
            return out;
        }
        (None, Some(r)) if !r.is_ready() => {
            let st = if r.is_transient() {
                Status::Error
            } else {
                Status::Fail
            };
            out.push(
                CheckResult::new(
                    "tls.handshake",
                    st,
                    format!("STARTTLS refused: {}", reply_text(r)),
                )
                .with("code", r.code),
            );
            out.extend(skipped("tls.handshake", 5, "no TLS session"));
            return out;
        }
        _ => {
            let (st, why) = handshake_failed(s);
            out.push(CheckResult::new("tls.handshake", st, why.clone()).with("error", why));
            let mut skips = skipped("tls.handshake", 5, "no TLS session");
            if s.old_tls_only
                && let Some(chain) = skips.iter_mut().find(|c| c.id == "tls.cert.chain")
            {
                // Said once, on the first of the certificate checks: they are not failures of
                // the certificate, which `--tls-probe` judges if an old version is accepted.
                chain.summary = OLD_TLS_SKIP.to_string();
            }
            out.extend(skips);
            return out;
        }
    };
    // Implicit TLS: the greeting and the EHLO came in the session, so it carries SMTP.
    if let Some((st, why)) = session_unusable(s).filter(|_| !o.implicit_tls) {
        out.push(
            CheckResult::new("tls.handshake", st, why.clone())
                .with("protocol", info.version.as_str())
                .with("cipher", info.cipher.as_str())
                .with("error", why)
                .timed(hs_ms),
        );
        out.extend(cert_checks(&info, o.cert_days));
        require_cert(&mut out, o.cert_required.as_deref());
        return out;
    }
    let version = info.version.trim_start_matches("TLSv").to_string();
    let old = matches!(info.version.as_str(), "TLSv1" | "TLSv1.1" | "SSLv3");
    let still_offered = s
        .ehlo_after_tls
        .as_ref()
        .is_some_and(|r| Capabilities::from_reply(r).has("STARTTLS"));
    let (st, summary) = if old {
        (
            Status::Warn,
            format!(
                "{} {}: obsolete protocol (RFC 8996)",
                info.version, info.cipher
            ),
        )
    } else if still_offered {
        (
            Status::Warn,
            format!(
                "{} {}, but STARTTLS is still advertised after TLS (RFC 3207 §4.2)",
                info.version, info.cipher
            ),
        )
    } else {
        (Status::Pass, format!("{} {}", info.version, info.cipher))
    };
    out.push(
        CheckResult::new("tls.handshake", st, summary)
            .with("protocol", info.version.as_str())
            .with(
                "version",
                version
                    .parse::<f64>()
                    .map(|v| json!(v))
                    .unwrap_or(json!(version)),
            )
            .with("cipher", info.cipher.as_str())
            .with("bits", info.bits)
            .with("sni", info.sni.clone())
            .timed(hs_ms),
    );
    out.extend(cert_checks(&info, o.cert_days));
    require_cert(&mut out, o.cert_required.as_deref());
    out
}

/// Why a TLS handshake (implicit or after STARTTLS) gave no session, and its status: an error
/// when it only timed out, a fail otherwise.
fn handshake_failed(s: &Seen) -> (Status, String) {
    let why = s
        .tls_failed
        .clone()
        .or_else(|| s.error.as_ref().map(|e| e.0.clone()))
        .unwrap_or_else(|| "no handshake".into());
    let st = if why.contains("timed out") {
        Status::Error
    } else {
        Status::Fail
    };
    (st, why)
}

/// The handshake completed but the TLS session carried no SMTP: the EHLO sent in it drew no
/// reply because the server ended the session with an alert (a TLS 1.3 server refuses a
/// missing or unacceptable client certificate only after the client's Finished, RFC 8446
/// §4.4.2.4), or closed the connection. No sender can deliver over that session, so the
/// handshake is no pass: a fail, or an error when the EHLO reply only did not come in time.
/// `None` when the session answered (or the run never sent EHLO in it).
fn session_unusable(s: &Seen) -> Option<(Status, String)> {
    if s.ehlo_after_tls.is_some() {
        return None;
    }
    if let Some(why) = &s.tls_failed {
        return Some((Status::Fail, why.clone()));
    }
    match &s.error {
        Some((e, Some(Phase::HeloAfterTls))) if e.contains("timed out") => Some((
            Status::Error,
            format!("the handshake completed, then the EHLO in TLS drew no reply: {e}"),
        )),
        Some((e, Some(Phase::HeloAfterTls))) => Some((
            Status::Fail,
            format!("the handshake completed, then the server ended the session unanswered: {e}"),
        )),
        _ => None,
    }
}

/// Why the certificate checks were skipped when the handshake found no version in common.
const OLD_TLS_SKIP: &str = "no TLS session, so no certificate to judge: the server may offer \
                            only TLS 1.0/1.1, which check leaves out (--tls-probe judges the \
                            certificate it presents there)";

/// The `tls.cert.*` checks of `results` judged on the certificate a server presented in
/// TLS 1.0/1.1 (`info`, from `--tls-probe`), when the main session had none to judge because
/// the handshake found no version in common: an MX that speaks only an obsolete version still
/// has a certificate, and senders that do speak it (RFC 8996 says they must not) see it.
/// Each judged check names the version it was presented in. Nothing changes otherwise; true
/// when they were judged.
pub(crate) fn judge_old_tls_cert(
    results: &mut [CheckResult],
    info: &TlsInfo,
    cert_days: i64,
    cert_required: Option<&str>,
) -> bool {
    let unjudged = |c: &CheckResult| c.id.starts_with("tls.cert.") && c.status == Status::Skip;
    let handshake_failed = results
        .iter()
        .any(|c| c.id == "tls.handshake" && matches!(c.status, Status::Fail | Status::Error));
    if !handshake_failed || !results.iter().any(unjudged) {
        return false;
    }
    let mut judged = cert_checks(info, cert_days);
    require_cert(&mut judged, cert_required);
    for c in &mut judged {
        c.summary = format!(
            "{} (presented in {}, found by --tls-probe)",
            c.summary, info.version
        );
        c.evidence
            .insert("protocol".into(), json!(info.version.as_str()));
    }
    for c in results.iter_mut().filter(|c| unjudged(c)) {
        if let Some(j) = judged.iter().find(|j| j.id == c.id) {
            *c = j.clone();
        }
    }
    true
}

/// `tls.cert.*` from the handshake's evidence. Chain and name problems are warnings: port 25
/// delivery is opportunistic (RFC 7435) unless MTA-STS or DANE says otherwise (and a
/// submission port makes them failures: [`require_cert`]).
fn cert_checks(info: &TlsInfo, cert_days: i64) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let Some(leaf) = info.chain.first() else {
        out.push(CheckResult::new(
            "tls.cert.chain",
            Status::Fail,
            "no certificate sent",
        ));
        out.extend(
            ["tls.cert.name", "tls.cert.expiry", "tls.cert.key"]
                .map(|id| CheckResult::new(id, Status::Skip, "no certificate")),
        );
        return out;
    };
    let v = &info.verify;
    let chain_ev = json!(
        info.chain
            .iter()
            .map(|c| json!({"subject": c.subject, "issuer": c.issuer, "not_after": c.not_after}))
            .collect::<Vec<_>>()
    );
    out.push(
        CheckResult::new(
            "tls.cert.chain",
            if v.chain_ok {
                Status::Pass
            } else {
                Status::Warn
            },
            if v.chain_ok {
                let n = info.chain.len();
                format!(
                    "verified ({n} certificate{} sent)",
                    crate::smtp::event::plural_s(n)
                )
            } else {
                let reason = v.reason.as_deref().unwrap_or("unknown reason");
                // Which issuer is missing: the leaf's (an intermediate left out) or a root.
                match crate::net::tls::missing_issuer(info)
                    .filter(|_| reason == "unable to get local issuer certificate")
                {
                    Some(which) => format!("does not verify: {reason}: {which}"),
                    None => format!("does not verify: {reason}"),
                }
            },
        )
        .with("chain", chain_ev)
        .with("verified", v.chain_ok)
        .with("reason", v.reason.clone()),
    );
    // Matched by the subject CN alone (no DNS subjectAltName): RFC 6125 §6.4.4 allowed it and
    // OpenSSL-based MTAs (Postfix, Exim) still accept it, but RFC 9525 §2 has no CN-ID any more.
    let cn_only = crate::net::tls::matched_by_cn_alone(v);
    out.push(
        CheckResult::new(
            "tls.cert.name",
            if v.name_ok && cn_only.is_none() {
                Status::Pass
            } else {
                Status::Warn
            },
            if let Some(cn) = cn_only {
                format!(
                    "matches only the subject CN ({cn}), with no DNS subjectAltName: RFC 9525 §2 no longer matches the CN (RFC 9525 obsoletes RFC 6125), and clients that follow it refuse this certificate (reissue it with the name as a DNS subjectAltName)"
                )
            } else if v.name_ok {
                format!("matches {}", v.matched.as_deref().unwrap_or("?"))
            } else {
                let name = v.checked_name.as_deref().unwrap_or("?");
                format!(
                    "not valid for {name} (it names {}){}",
                    if leaf.sans.is_empty() {
                        leaf.subject.clone()
                    } else {
                        leaf.sans.join(", ")
                    },
                    crate::net::tls::wildcard_miss(&leaf.sans, name)
                )
            },
        )
        .with("name", v.checked_name.clone())
        .with("sans", json!(leaf.sans))
        .with("subject", leaf.subject.as_str())
        .with("cn_only", cn_only.is_some()),
    );
    let days = leaf.days_left;
    // RFC 5280 §4.1.2.5: valid only from notBefore on; its days to run are no credit.
    let not_yet = not_yet_valid(&leaf.pem);
    let (st, summary) = if not_yet {
        (
            Status::Fail,
            format!(
                "not valid until {} (notBefore is in the future: senders that verify refuse it)",
                leaf.not_before
            ),
        )
    } else if days < 0 {
        (
            Status::Fail,
            format!("expired on {} ({} days ago)", leaf.not_after, -days),
        )
    } else if days < cert_days {
        (
            Status::Warn,
            format!(
                "expires on {} ({days} days left, under {cert_days})",
                leaf.not_after
            ),
        )
    } else {
        (
            Status::Pass,
            format!("valid until {} ({days} days)", leaf.not_after),
        )
    };
    let expiry = CheckResult::new("tls.cert.expiry", st, summary)
        .with("days", (!not_yet).then_some(days))
        .with("not_after", leaf.not_after.as_str());
    out.push(if not_yet {
        expiry.with("not_before", leaf.not_before.as_str())
    } else {
        expiry
    });
    out.push(key_check(&leaf.pem));
    out
}

/// Is the certificate's notBefore still in the future? (False when it does not parse.)
fn not_yet_valid(pem: &str) -> bool {
    let (Ok(cert), Ok(now)) = (
        X509::from_pem(pem.as_bytes()),
        openssl::asn1::Asn1Time::days_from_now(0),
    ) else {
        return false;
    };
    cert.not_before()
        .compare(&now)
        .is_ok_and(|o| o == std::cmp::Ordering::Greater)
}

/// `tls.cert.key` (RFC 9325 §4.3): an MD5, MD4 or MD2 signature → fail (forgeable: RFC 6151
/// §2); RSA under 2048 bits, a DSA key (no longer usable from TLS 1.3, RFC 8446 §4.2.3), an EC
/// key under 224 bits or a SHA-1 signature → warn. Every problem found is named.
fn key_check(pem: &str) -> CheckResult {
    let Ok(cert) = X509::from_pem(pem.as_bytes()) else {
        return CheckResult::new("tls.cert.key", Status::Skip, "certificate not parsable");
    };
    let (alg, bits) = match cert.public_key() {
        Ok(k) => {
            let alg = match k.id() {
                Id::RSA => "RSA",
                Id::EC => "EC",
                Id::ED25519 => "Ed25519",
                Id::ED448 => "Ed448",
                Id::DSA => "DSA",
                _ => "other",
            };
            (alg, k.bits())
        }
        Err(_) => ("unknown", 0),
    };
    let sig = cert.signature_algorithm().object().nid();
    let sig_name = sig.long_name().unwrap_or("unknown").to_string();
    let md = matches!(
        sig,
        Nid::MD5WITHRSAENCRYPTION
            | Nid::MD5WITHRSA
            | Nid::MD4WITHRSAENCRYPTION
            | Nid::MD2WITHRSAENCRYPTION
    );
    let sha1 = matches!(
        sig,
        Nid::SHA1WITHRSAENCRYPTION
            | Nid::SHA1WITHRSA
            | Nid::ECDSA_WITH_SHA1
            | Nid::DSAWITHSHA1
            | Nid::DSAWITHSHA1_2
    );
    let mut problems: Vec<(Status, String)> = Vec::new();
    if md {
        problems.push((
            Status::Fail,
            format!("{sig_name}: MD5/MD4/MD2 signatures can be forged (RFC 6151 §2)"),
        ));
    }
    if alg == "RSA" && bits < 2048 {
        problems.push((Status::Warn, format!("RSA {bits} bits: under 2048")));
    }
    if alg == "DSA" {
        problems.push((
            Status::Warn,
            format!("DSA {bits} bits: DSA certificates cannot be used with TLS 1.3"),
        ));
    }
    if alg == "EC" && bits < 224 {
        problems.push((Status::Warn, format!("EC {bits} bits: under 224")));
    }
    if sha1 {
        problems.push((
            Status::Warn,
            format!("{sig_name}: SHA-1 signatures are broken"),
        ));
    }
    let (st, summary) = if problems.is_empty() {
        (Status::Pass, format!("{alg} {bits} bits, {sig_name}"))
    } else {
        let worst = problems
            .iter()
            .map(|p| p.0)
            .max_by_key(|s| s.rank())
            .unwrap_or(Status::Warn);
        (
            worst,
            problems
                .into_iter()
                .map(|p| p.1)
                .collect::<Vec<_>>()
                .join("; "),
        )
    };
    CheckResult::new("tls.cert.key", st, summary)
        .with("algorithm", alg)
        .with("bits", bits)
        .with("signature", sig_name)
}

/// The `rdns.fcrdns` verdict known without a lookup: a loopback address is skipped (RFC 6761
/// §6.3: its PTR queries are answered locally, "localhost", so nothing about this address's
/// DNS can be learnt).
fn fcrdns_decided(ip: IpAddr) -> Option<CheckResult> {
    ip.is_loopback().then(|| {
        CheckResult::new(
            "rdns.fcrdns",
            Status::Skip,
            "loopback address: its PTR is localhost by definition (RFC 6761 §6.3)",
        )
    })
}

/// `rdns.fcrdns` (RFC 1912 §2.1, iprev RFC 8601 §3): the address's PTR names, and whether one
/// of them resolves back to the address. Returns the check and the PTR names.
async fn fcrdns(resolver: &Resolver, ip: IpAddr) -> (CheckResult, Vec<String>) {
    let t0 = Instant::now();
    if let Some(c) = fcrdns_decided(ip) {
        return (c, Vec::new());
    }
    let names = match resolver.ptr(ip).await {
        Ok(n) => n,
        Err(e) => {
            return (
                CheckResult::new("rdns.fcrdns", Status::Error, e.to_string()),
                Vec::new(),
            );
        }
    };
    if names.is_empty() {
        return (
            CheckResult::new(
                "rdns.fcrdns",
                Status::Warn,
                format!("{ip} has no PTR record"),
            )
            .timed(ms(t0.elapsed())),
            names,
        );
    }
    let family = if ip.is_ipv4() { Family::V4 } else { Family::V6 };
    for n in &names {
        if let Ok(addrs) = resolver.addresses(n, family).await
            && addrs.contains(&ip)
        {
            return (
                CheckResult::new("rdns.fcrdns", Status::Pass, format!("{ip} ⇄ {n}"))
                    .with("ptr", json!(names))
                    .timed(ms(t0.elapsed())),
                names.clone(),
            );
        }
    }
    (
        CheckResult::new(
            "rdns.fcrdns",
            Status::Warn,
            format!("PTR {} does not resolve back to {ip}", names.join(", ")),
        )
        .with("ptr", json!(names))
        .timed(ms(t0.elapsed())),
        names,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::testutil::{FakeDns, RecordSpec, reverse_name};

    #[tokio::test]
    async fn forward_confirmed_reverse_dns() {
        let good: IpAddr = "192.0.2.10".parse().unwrap();
        let liar: IpAddr = "192.0.2.11".parse().unwrap();
        let none: IpAddr = "192.0.2.12".parse().unwrap();
        let (g, l) = (reverse_name(good), reverse_name(liar));
        let (addr, _h) = FakeDns::start(vec![
            (g.as_str(), RecordSpec::Ptr("mx.example.test".into())),
            (
                "mx.example.test",
                RecordSpec::A("192.0.2.10".parse().unwrap()),
            ),
            (l.as_str(), RecordSpec::Ptr("elsewhere.example.test".into())),
            (
                "elsewhere.example.test",
                RecordSpec::A("192.0.2.99".parse().unwrap()),
            ),
        ]);
        let r = Resolver::new(&DnsOptions {
            server: Some(addr),
            timeout: Duration::from_secs(2),
            attempts: 0,
            ..DnsOptions::default()
        })
        .unwrap();
        let (c, names) = fcrdns(&r, good).await;
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert_eq!(names, ["mx.example.test"]);
        assert_eq!(fcrdns(&r, liar).await.0.status, Status::Warn);
        let (c, names) = fcrdns(&r, none).await;
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(names.is_empty());
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(fcrdns(&r, lo).await.0.status, Status::Skip);
    }

    fn reply(code: u16, text: &str) -> Reply {
        Reply {
            code: Some(code),
            enhanced: None,
            lines: vec![text.to_string()],
            raw: crate::smtp::event::Bytes(Vec::new()),
            deviations: Vec::new(),
        }
    }

    fn ehlo_reply(lines: &[&str]) -> Reply {
        Reply {
            code: Some(250),
            enhanced: None,
            lines: lines.iter().map(|l| l.to_string()).collect(),
            raw: crate::smtp::event::Bytes(Vec::new()),
            deviations: Vec::new(),
        }
    }

    fn ehlo_check(s: &Seen) -> CheckResult {
        let o = ProbeOptions {
            port: 25,
            helo: "checker.test".into(),
            timeout: Duration::from_secs(2),
            ca_path: None,
            cert_days: 14,
            implicit_tls: false,
            cert_required: None,
        };
        judge("mx.example.test", s, &o, &[])
            .into_iter()
            .find(|c| c.id == "smtp.ehlo")
            .expect("an smtp.ehlo result")
    }

    /// A connection that failed because this host has no route to the address's family (an
    /// IPv6 MX from an IPv4-only runner) could not be tested: error, never fail.
    #[test]
    fn no_local_route_is_an_error_not_a_failure() {
        let o = ProbeOptions {
            port: 25,
            helo: "checker.test".into(),
            timeout: Duration::from_secs(2),
            ca_path: None,
            cert_days: 14,
            implicit_tls: false,
            cert_required: None,
        };
        let mut s = Seen {
            connect_error: Some("Network is unreachable (os error 101)".into()),
            ..Seen::default()
        };
        let connect = |s: &Seen| {
            judge("mx.example.test", s, &o, &[])
                .into_iter()
                .find(|c| c.id == "smtp.connect")
                .unwrap()
        };
        // The path said so (an ICMP unreachable): the MX's problem.
        assert_eq!(connect(&s).status, Status::Fail);
        s.no_route = Some("Network is unreachable (os error 101)".into());
        let c = connect(&s);
        assert_eq!(c.status, Status::Error, "{c:?}");
        assert!(c.summary.contains("could not be tested"), "{c:?}");
        assert!(c.summary.contains("no route to IPv4 addresses"), "{c:?}");
        assert_eq!(c.evidence["no_local_route"], true);
        let all = judge("mx.example.test", &s, &o, &[]);
        assert!(
            all.iter()
                .filter(|c| c.id != "smtp.connect")
                .all(|c| c.status == Status::Skip),
            "{all:?}"
        );
    }

    #[test]
    fn ehlo_extensions_and_requiretls_are_recorded_as_info() {
        let mut s = Seen {
            connect_ms: Some(1.0),
            banner: Some((reply(220, "mx.example.test ESMTP"), 1.0)),
            ehlo: Some(ehlo_reply(&["mx.example.test", "PIPELINING", "STARTTLS"])),
            ..Seen::default()
        };
        let c = ehlo_check(&s);
        assert_eq!(c.status, Status::Info, "{c:?}");
        assert!(!c.summary.contains("REQUIRETLS"), "{c:?}");
        // Offered after STARTTLS only (RFC 8689 §4): still found, and named.
        s.ehlo_after_tls = Some(ehlo_reply(&["mx.example.test", "PIPELINING", "REQUIRETLS"]));
        let c = ehlo_check(&s);
        assert_eq!(c.status, Status::Info, "{c:?}");
        assert!(c.summary.contains("REQUIRETLS (RFC 8689)"), "{c:?}");
        let mut refused = reply(502, "5.5.1 EHLO not implemented");
        refused.lines = vec!["5.5.1 EHLO not implemented".into()];
        s.ehlo = Some(refused);
        assert_eq!(ehlo_check(&s).status, Status::Fail);
        // A busy server answering EHLO with 421 could not be tested: error, not fail.
        let mut busy = reply(421, "4.7.0 mx.example.test Too many connections, try later");
        busy.lines = vec!["4.7.0 mx.example.test Too many connections, try later".into()];
        s.ehlo = Some(busy);
        let c = ehlo_check(&s);
        assert_eq!(c.status, Status::Error, "{c:?}");
        assert!(c.summary.contains("busy"), "{c:?}");
        // A 250 past the reply limits is no usable EHLO reply, and its keywords are not all kept.
        let mut huge = b"250-mx.example.test\r\n".to_vec();
        for i in 0..1005 {
            huge.extend_from_slice(format!("250-X-KEYWORD-{i}\r\n").as_bytes());
        }
        huge.extend_from_slice(b"250 OK\r\n");
        s.ehlo = Some(parsed(&huge));
        let c = ehlo_check(&s);
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.summary.starts_with("not an SMTP reply to EHLO"), "{c:?}");
        let kept = c.evidence["extensions"].as_array().unwrap();
        assert!(kept.len() < 200, "{} keywords kept", kept.len());
    }

    /// A self-signed certificate with `key`, signed with `digest`, as PEM.
    fn cert_pem(
        key: &openssl::pkey::PKey<openssl::pkey::Private>,
        digest: openssl::hash::MessageDigest,
    ) -> String {
        cert_pem_from(key, digest, 0)
    }

    /// [`cert_pem`] valid from `from_days` days from now (in the future when positive) for 30.
    fn cert_pem_from(
        key: &openssl::pkey::PKey<openssl::pkey::Private>,
        digest: openssl::hash::MessageDigest,
        from_days: u32,
    ) -> String {
        use openssl::asn1::Asn1Time;
        use openssl::x509::{X509Builder, X509NameBuilder};
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "mx.example.test").unwrap();
        let name = name.build();
        let mut b = X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(from_days).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(from_days + 30).unwrap())
            .unwrap();
        b.sign(key, digest).unwrap();
        String::from_utf8(b.build().to_pem().unwrap()).unwrap()
    }

    /// MD5 (and MD2/MD4) signatures are forgeable: worse than SHA-1, never a pass. DSA keys
    /// and EC keys under 224 bits are weak as RSA under 2048 is (RFC 9325 §4.3).
    #[test]
    fn md5_signatures_fail_and_dsa_and_small_ec_keys_warn() {
        use openssl::ec::{EcGroup, EcKey};
        use openssl::hash::MessageDigest;
        use openssl::pkey::PKey;
        use openssl::rsa::Rsa;
        let rsa2048 = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let c = key_check(&cert_pem(&rsa2048, MessageDigest::md5()));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.summary.contains("md5WithRSAEncryption"), "{c:?}");
        assert!(c.summary.contains("MD5"), "{c:?}");

        let dsa = PKey::from_dsa(openssl::dsa::Dsa::generate(2048).unwrap()).unwrap();
        let c = key_check(&cert_pem(&dsa, MessageDigest::sha256()));
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.summary.contains("DSA"), "{c:?}");

        let small = PKey::from_ec_key(
            EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME192V1).unwrap()).unwrap(),
        )
        .unwrap();
        let c = key_check(&cert_pem(&small, MessageDigest::sha256()));
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.summary.contains("EC 192 bits"), "{c:?}");
    }

    /// A certificate whose notBefore is in the future is not valid yet: `tls.cert.expiry` must
    /// not pass it, nor give `tls.cert.days` a value that an `--expect` could take for valid.
    #[test]
    fn a_certificate_not_yet_valid_fails_the_expiry_check() {
        use openssl::hash::MessageDigest;
        use openssl::pkey::PKey;
        use openssl::rsa::Rsa;
        use openssl::x509::X509;
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let info = |from_days| {
            let pem = cert_pem_from(&key, MessageDigest::sha256(), from_days);
            let cert = X509::from_pem(pem.as_bytes()).unwrap();
            TlsInfo {
                chain: vec![crate::net::tls::cert_info(&cert)],
                ..TlsInfo::default()
            }
        };
        let expiry = |info: &TlsInfo| {
            cert_checks(info, 14)
                .into_iter()
                .find(|c| c.id == "tls.cert.expiry")
                .unwrap()
        };
        let c = expiry(&info(3));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.summary.contains("not valid until"), "{c:?}");
        assert!(c.evidence["days"].is_null(), "{c:?}");
        assert!(c.evidence["not_before"].is_string(), "{c:?}");
        // Valid from today: a pass, with its days.
        let c = expiry(&info(0));
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(c.evidence["days"].is_number(), "{c:?}");
    }

    /// A name matched only by the subject CN (no subjectAltName) was a silent pass: it is a
    /// warning citing RFC 9525 §2 now, marked `cn_only` (an MTA-STS policy does not make it a
    /// failure: senders that check the name still accept it); a SAN match still passes.
    #[test]
    fn a_name_matched_by_the_cn_alone_warns() {
        use openssl::hash::MessageDigest;
        use openssl::pkey::PKey;
        use openssl::rsa::Rsa;
        use openssl::x509::X509;
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let pem = cert_pem_from(&key, MessageDigest::sha256(), 0);
        let cert = X509::from_pem(pem.as_bytes()).unwrap();
        let name = |info: &TlsInfo| {
            cert_checks(info, 14)
                .into_iter()
                .find(|c| c.id == "tls.cert.name")
                .unwrap()
        };
        let mut info = TlsInfo {
            chain: vec![crate::net::tls::cert_info(&cert)],
            ..TlsInfo::default()
        };
        info.verify.matched = crate::net::tls::match_name(&cert, "mx.example.test", None);
        assert_eq!(info.verify.matched.as_deref(), Some("CN=mx.example.test"));
        info.verify.name_ok = true;
        let c = name(&info);
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(
            c.summary.starts_with("matches only the subject CN (mx.example.test), with no DNS subjectAltName: RFC 9525 §2"),
            "{c:?}"
        );
        assert_eq!(c.evidence["cn_only"], true, "{c:?}");

        info.verify.matched = Some("DNS:mx.example.test".into());
        let c = name(&info);
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert_eq!(c.summary, "matches DNS:mx.example.test");
        assert_eq!(c.evidence["cn_only"], false, "{c:?}");
    }

    /// Where certificate problems fail: implicit TLS and the submission ports under `auto`
    /// (RFC 8314 §5.3: clients verify there), nowhere under `warn`, everywhere under `fail`;
    /// they were warnings on every port.
    #[test]
    fn certificate_problems_fail_where_submission_clients_verify() {
        use crate::check::model::CertProblems::{Auto, Fail, Warn};
        for (choice, implicit, port, fails) in [
            (Auto, false, 25, false),
            (Auto, false, 2525, false),
            (Auto, true, 465, true),
            (Auto, true, 4465, true),
            (Auto, false, 465, true),
            (Auto, false, 587, true),
            (Warn, true, 465, false),
            (Warn, false, 587, false),
            (Fail, false, 25, true),
        ] {
            let why = cert_rule(choice, implicit, port);
            assert_eq!(
                why.is_some(),
                fails,
                "{choice:?} {implicit} {port}: {why:?}"
            );
        }
        let why = cert_rule(Auto, true, 465).unwrap();
        assert!(why.contains("RFC 8314 §5.3"), "{why}");
        // Chain and name warnings become failures naming why; the CN-only match, the expiry
        // and a pass are left as they are.
        let mut out = vec![
            CheckResult::new(
                "tls.cert.chain",
                Status::Warn,
                "does not verify: self-signed",
            ),
            CheckResult::new("tls.cert.name", Status::Warn, "not valid for mx")
                .with("cn_only", false),
            CheckResult::new("tls.cert.expiry", Status::Warn, "expires soon"),
        ];
        let mut cn_only = vec![
            CheckResult::new("tls.cert.chain", Status::Pass, "verified"),
            CheckResult::new("tls.cert.name", Status::Warn, "matches only the subject CN")
                .with("cn_only", true),
        ];
        require_cert(&mut out, None);
        assert!(out.iter().all(|c| c.status == Status::Warn));
        require_cert(&mut out, Some(&why));
        require_cert(&mut cn_only, Some(&why));
        let st: Vec<Status> = out.iter().chain(&cn_only).map(|c| c.status).collect();
        assert_eq!(
            st,
            [
                Status::Fail,
                Status::Fail,
                Status::Warn,
                Status::Pass,
                Status::Warn
            ]
        );
        assert_eq!(
            out[0].summary,
            format!("does not verify: self-signed — fails here: {why}")
        );
    }

    /// An MX two labels below a wildcard's domain (`mx1.mail.example.test` under
    /// `*.example.test`): the warning says the wildcard stands for one label; it said only
    /// "it names DNS:*.example.test", which reads as if it should have matched.
    #[test]
    fn a_wildcard_missed_by_depth_says_why() {
        let mut info = TlsInfo {
            chain: vec![crate::smtp::event::CertInfo {
                subject: "/CN=*.example.test".into(),
                sans: vec!["DNS:*.example.test".into()],
                ..crate::smtp::event::CertInfo::default()
            }],
            ..TlsInfo::default()
        };
        info.verify.checked_name = Some("mx1.mail.example.test".into());
        let c = cert_checks(&info, 14)
            .into_iter()
            .find(|c| c.id == "tls.cert.name")
            .unwrap();
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(
            c.summary.starts_with(
                "not valid for mx1.mail.example.test (it names DNS:*.example.test): \
                 *.example.test stands for exactly one label (RFC 6125 §6.4.3)"
            ),
            "{c:?}"
        );
    }

    /// Under an MTA-STS policy (enforce or testing) that covers the MX, a name matched by the
    /// subject CN alone stays a warning (senders that check the name, Postfix's `secure` level
    /// and OpenSSL's host check, still accept it), while a name the certificate does not carry
    /// at all becomes a failure with the policy's consequence: the certificate is a generated
    /// one naming the host only in its CN, judged as `ehlo check` judges a probed host.
    #[test]
    fn a_cn_only_match_stays_a_warning_under_an_mta_sts_policy() {
        use openssl::hash::MessageDigest;
        use openssl::pkey::PKey;
        use openssl::rsa::Rsa;
        use openssl::x509::X509;
        let cli = crate::cli::args::Cli::parse_args(["ehlo", "check", "example.test"]).unwrap();
        let Ok(crate::cli::mode::Mode::Check(cfg)) = crate::cli::mode::from_cli(cli) else {
            panic!("not a check")
        };
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let pem = cert_pem_from(&key, MessageDigest::sha256(), 0);
        let cert = X509::from_pem(pem.as_bytes()).unwrap();
        let name_check = |host: &str| {
            let mut info = TlsInfo {
                chain: vec![crate::net::tls::cert_info(&cert)],
                ..TlsInfo::default()
            };
            info.verify.matched = crate::net::tls::match_name(&cert, host, None);
            info.verify.name_ok = info.verify.matched.is_some();
            info.verify.checked_name = Some(host.to_string());
            let mut c = cert_checks(&info, 14)
                .into_iter()
                .find(|c| c.id == "tls.cert.name")
                .unwrap();
            c.mx = Some(host.to_string());
            c.ip = Some("192.0.2.1".into());
            c
        };
        let cn_only = name_check("mx.example.test");
        assert_eq!(cn_only.evidence["cn_only"], true, "{cn_only:?}");
        let wrong = name_check("mx2.example.test");
        assert_eq!(wrong.evidence["cn_only"], false, "{wrong:?}");
        for mode in ["enforce", "testing"] {
            let policy = crate::check::records::Policy {
                mode: Some(mode.into()),
                mx: vec!["*.example.test".into()],
                ..crate::check::records::Policy::default()
            };
            let judged = crate::check::judge(
                &cfg,
                "example.test",
                Vec::new(),
                vec![cn_only.clone(), wrong.clone()],
                Some(&policy),
            );
            let on = |host: &str| {
                judged
                    .iter()
                    .find(|j| {
                        j.result.id == "tls.cert.name" && j.result.mx.as_deref() == Some(host)
                    })
                    .map(|j| j.result.clone())
                    .unwrap()
            };
            let kept = on("mx.example.test");
            assert_eq!(kept.status, Status::Warn, "{mode}: {kept:?}");
            assert!(
                !kept.summary.contains("MTA-STS"),
                "{mode}: {}",
                kept.summary
            );
            let failed = on("mx2.example.test");
            assert_eq!(failed.status, Status::Fail, "{mode}: {failed:?}");
            assert!(
                failed.summary.contains(&format!("MTA-STS {mode}")),
                "{mode}: {}",
                failed.summary
            );
        }
    }

    /// The chain's summary counts the certificates the server sent: one is "1 certificate".
    #[test]
    fn the_chain_summary_counts_certificates_in_good_grammar() {
        use openssl::hash::MessageDigest;
        use openssl::pkey::PKey;
        use openssl::rsa::Rsa;
        use openssl::x509::X509;
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let pem = cert_pem_from(&key, MessageDigest::sha256(), 0);
        let cert = crate::net::tls::cert_info(&X509::from_pem(pem.as_bytes()).unwrap());
        let chain = |n: usize| {
            let mut info = TlsInfo {
                chain: vec![cert.clone(); n],
                ..TlsInfo::default()
            };
            info.verify.chain_ok = true;
            cert_checks(&info, 14)
                .into_iter()
                .find(|c| c.id == "tls.cert.chain")
                .unwrap()
                .summary
        };
        assert_eq!(chain(1), "verified (1 certificate sent)");
        assert_eq!(chain(2), "verified (2 certificates sent)");
    }

    #[test]
    fn weak_keys_and_sha1_signatures_warn() {
        use openssl::ec::{EcGroup, EcKey};
        use openssl::hash::MessageDigest;
        use openssl::pkey::PKey;
        use openssl::rsa::Rsa;
        let rsa1024 = PKey::from_rsa(Rsa::generate(1024).unwrap()).unwrap();
        let rsa2048 = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let ec = PKey::from_ec_key(
            EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap(),
        )
        .unwrap();

        let c = key_check(&cert_pem(&rsa1024, MessageDigest::sha256()));
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.summary.contains("RSA 1024 bits"), "{c:?}");

        let c = key_check(&cert_pem(&rsa2048, MessageDigest::sha1()));
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.summary.contains("SHA-1"), "{c:?}");

        let c = key_check(&cert_pem(&rsa2048, MessageDigest::sha256()));
        assert_eq!(c.status, Status::Pass, "{c:?}");
        let c = key_check(&cert_pem(&ec, MessageDigest::sha256()));
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(c.summary.starts_with("EC 256 bits"), "{c:?}");
        let c = key_check(&cert_pem(&ec, MessageDigest::sha1()));
        assert_eq!(c.status, Status::Warn, "{c:?}");
    }

    /// The greeting the reply parser makes of `bytes`, with the session's default limits.
    fn parsed(bytes: &[u8]) -> Reply {
        let mut p = crate::smtp::reply::ReplyParser::new(crate::smtp::reply::Limits::default());
        let mut buf = bytes.to_vec();
        p.next_reply(&mut buf).expect("a reply")
    }

    /// The reply the parser makes of `bytes` when the connection closes right after them.
    fn closed(bytes: &[u8]) -> Reply {
        let mut p = crate::smtp::reply::ReplyParser::new(crate::smtp::reply::Limits::default());
        let mut buf = bytes.to_vec();
        p.finish(&mut buf).expect("a reply")
    }

    /// A reply cut off by the close answers nothing: never a pass, never a verdict on TLS —
    /// the host could not be tested (error).
    #[test]
    fn replies_cut_off_by_the_close_are_errors_not_verdicts() {
        let o = ProbeOptions {
            port: 25,
            helo: "checker.test".into(),
            timeout: Duration::from_secs(2),
            ca_path: None,
            cert_days: 14,
            implicit_tls: false,
            cert_required: None,
        };
        let closing = Some((
            "the server closed the connection".to_string(),
            Some(Phase::Banner),
        ));
        let status = |out: &[CheckResult], id: &str| {
            out.iter()
                .find(|c| c.id == id)
                .unwrap_or_else(|| panic!("no {id} in {out:?}"))
                .status
        };

        let s = Seen {
            connect_ms: Some(1.0),
            banner: Some((closed(b"220-partial\r\n"), 1.0)),
            error: closing.clone(),
            ..Seen::default()
        };
        let out = judge("mx.example.test", &s, &o, &[]);
        assert_eq!(status(&out, "smtp.banner"), Status::Error, "{out:?}");
        assert_eq!(status(&out, "tls.handshake"), Status::Skip, "{out:?}");

        let s = Seen {
            connect_ms: Some(1.0),
            banner: Some((reply(220, "mx.example.test ESMTP"), 1.0)),
            ehlo: Some(closed(b"250-x\r\n250-STARTTLS\r\n")),
            error: closing.clone(),
            ..Seen::default()
        };
        let out = judge("mx.example.test", &s, &o, &[]);
        assert_eq!(status(&out, "smtp.ehlo"), Status::Error, "{out:?}");
        assert_eq!(status(&out, "tls.starttls"), Status::Skip, "{out:?}");
        assert_eq!(status(&out, "tls.handshake"), Status::Skip, "{out:?}");

        let s = Seen {
            connect_ms: Some(1.0),
            banner: Some((reply(220, "mx.example.test ESMTP"), 1.0)),
            ehlo: Some(ehlo_reply(&["mx.example.test", "STARTTLS"])),
            starttls_reply: Some(closed(b"554-no\r\n")),
            error: closing,
            ..Seen::default()
        };
        let out = judge("mx.example.test", &s, &o, &[]);
        assert_eq!(status(&out, "tls.starttls"), Status::Pass, "{out:?}");
        assert_eq!(status(&out, "tls.handshake"), Status::Error, "{out:?}");
    }

    /// A handshake that completed, in a session the server then ended before answering the
    /// EHLO sent in it (a TLS 1.3 server's alert refusing the missing client certificate, a
    /// close), is no pass: no sender can deliver over it. A late reply is an error.
    #[test]
    fn a_tls_session_ended_before_the_ehlo_in_it_is_no_handshake_pass() {
        let o = ProbeOptions {
            port: 25,
            helo: "checker.test".into(),
            timeout: Duration::from_secs(2),
            ca_path: None,
            cert_days: 14,
            implicit_tls: false,
            cert_required: None,
        };
        let handshake = |s: &Seen| {
            let out = judge("mx.example.test", s, &o, &[]);
            let c = out
                .iter()
                .find(|c| c.id == "tls.handshake")
                .unwrap_or_else(|| panic!("no tls.handshake in {out:?}"));
            (c.status, c.summary.clone())
        };
        let base = || Seen {
            connect_ms: Some(1.0),
            banner: Some((reply(220, "mx.example.test ESMTP"), 1.0)),
            ehlo: Some(ehlo_reply(&["mx.example.test", "STARTTLS"])),
            starttls_reply: Some(reply(220, "go ahead")),
            tls: Some((
                TlsInfo {
                    version: "TLSv1.3".into(),
                    cipher: "TLS_AES_256_GCM_SHA384".into(),
                    ..TlsInfo::default()
                },
                1.0,
            )),
            ..Seen::default()
        };
        let alert = "the server ended the TLS session: tlsv13 alert certificate required";
        let s = Seen {
            tls_failed: Some(alert.into()),
            error: Some((alert.into(), Some(Phase::HeloAfterTls))),
            ..base()
        };
        let (st, why) = handshake(&s);
        assert_eq!(st, Status::Fail, "{why}");
        assert!(why.contains("certificate required"), "{why}");

        let s = Seen {
            error: Some((
                "the server closed the connection during EHLO after TLS".into(),
                Some(Phase::HeloAfterTls),
            )),
            ..base()
        };
        let (st, why) = handshake(&s);
        assert_eq!(st, Status::Fail, "{why}");
        assert!(why.contains("closed the connection"), "{why}");

        let s = Seen {
            error: Some((
                "timed out after 2s waiting in EHLO after TLS phase".into(),
                Some(Phase::HeloAfterTls),
            )),
            ..base()
        };
        assert_eq!(handshake(&s).0, Status::Error);

        let s = Seen {
            ehlo_after_tls: Some(ehlo_reply(&["mx.example.test", "8BITMIME"])),
            ..base()
        };
        assert_eq!(handshake(&s).0, Status::Pass);
    }

    fn banner_check(banner: Reply) -> Vec<CheckResult> {
        let o = ProbeOptions {
            port: 25,
            helo: "checker.test".into(),
            timeout: Duration::from_secs(2),
            ca_path: None,
            cert_days: 14,
            implicit_tls: false,
            cert_required: None,
        };
        let s = Seen {
            connect_ms: Some(1.0),
            banner: Some((banner, 1.0)),
            error: Some((
                "banner: reply too large: more than the limit".into(),
                Some(Phase::Banner),
            )),
            ..Seen::default()
        };
        judge("mx.example.test", &s, &o, &[])
    }

    #[test]
    fn a_220_greeting_that_ends_in_554_is_no_pass() {
        // The last line is the verdict (RFC 5321 §4.2.1): `220-` then `554` refuses the client.
        let banner = parsed(b"220-mx.example.test ESMTP\r\n554 5.7.1 go away\r\n");
        let out = banner_check(banner);
        let b = out.iter().find(|c| c.id == "smtp.banner").unwrap();
        assert_ne!(b.status, Status::Pass, "{}", b.summary);
    }

    #[test]
    fn an_oversized_multi_line_220_greeting_fails_with_a_short_summary() {
        // 700 continuation lines of 2000 bytes: past the 1 MiB reply limit.
        let mut wide = Vec::new();
        for _ in 0..700 {
            wide.extend_from_slice(b"220-");
            wide.extend(std::iter::repeat_n(b'x', 2000));
            wide.extend_from_slice(b"\r\n");
        }
        wide.extend_from_slice(b"220 done\r\n");
        // 1005 short lines: past the 1000-line limit.
        let mut long = b"220-ok\r\n".repeat(1005);
        long.extend_from_slice(b"220 done\r\n");
        // One line of 9000 bytes: past the longest line kept.
        let mut overlong = b"220 ".to_vec();
        overlong.extend(std::iter::repeat_n(b'y', 9000));
        overlong.extend_from_slice(b"\r\n");
        for (what, bytes, says) in [
            ("wide", wide, "reply too large"),
            ("long", long, "in 1 001 lines"),
            ("overlong", overlong, "a line of 9 006 bytes"),
        ] {
            let banner = parsed(&bytes);
            assert_eq!(banner.code, Some(220), "{what}");
            let out = banner_check(banner);
            let b = out.iter().find(|c| c.id == "smtp.banner").unwrap();
            assert_eq!(b.status, Status::Fail, "{what}: {}", b.summary);
            assert!(
                b.summary.starts_with("not an SMTP greeting"),
                "{what}: {}",
                b.summary
            );
            assert!(b.summary.len() < 400, "{what}: {} bytes", b.summary.len());
            assert!(b.summary.contains(says), "{what}: {}", b.summary);
            let text = serde_json::to_string(&b.evidence).unwrap();
            assert!(
                text.len() < 1000,
                "{what}: evidence of {} bytes",
                text.len()
            );
            // Nothing after the greeting is judged.
            let e = out.iter().find(|c| c.id == "smtp.ehlo").unwrap();
            assert_eq!(e.status, Status::Skip, "{what}: {e:?}");
        }
    }

    #[test]
    fn server_text_in_summaries_and_evidence_is_capped() {
        let big = format!("mx.example.test {}", "é".repeat(5000));
        let r = reply(220, &big);
        let t = reply_text(&r);
        assert!(t.len() <= TEXT_CAP + 40, "{} bytes", t.len());
        assert!(t.ends_with("(10 020 bytes in all)"), "{t}");
        assert!(t.starts_with("220 mx.example.test éé"), "{t}");
        // A short reply is left as it is.
        assert_eq!(reply_text(&reply(250, "ok")), "250 ok");
        let lines: Vec<String> = (0..100).map(|i| format!("line {i:03}")).collect();
        let kept = capped_lines(&lines, TEXT_CAP);
        assert!(kept.len() < 50, "{kept:?}");
        assert_eq!(kept[0], "line 000");
        assert_eq!(kept.last().unwrap(), "… (800 bytes in 100 lines in all)");
        assert_eq!(capped_lines(&lines[..3], TEXT_CAP), lines[..3]);
        // A greeting of many modest lines passes, its evidence cut down.
        let mut banner = reply(220, "mx.example.test ESMTP");
        banner.lines.extend(lines.iter().cloned());
        let out = banner_check(banner);
        let b = out.iter().find(|c| c.id == "smtp.banner").unwrap();
        assert_eq!(b.status, Status::Pass, "{b:?}");
        assert!(b.summary.len() <= TEXT_CAP + 40, "{}", b.summary);
        assert!(b.evidence["text"].as_array().unwrap().len() < 50, "{b:?}");
    }

    #[test]
    fn busy_greetings_are_not_now() {
        assert!(not_now(&reply(
            421,
            "mx.example.test Service not available"
        )));
        assert!(not_now(&reply(554, "Too many connections from your IP")));
        assert!(not_now(&reply(450, "rate limit exceeded")));
        assert!(!not_now(&reply(554, "no SMTP service here")));
        assert!(!not_now(&reply(220, "too many words in this banner")));
    }
}
