//! `ehlo probe`: opt-in safety probes of a server the user operates (SMTP smuggling, STARTTLS
//! injection, downgrade, early talkers, relay, user enumeration, command-line limits). What to
//! send and how to judge the replies is the sans-IO [`script`]; this module is its driver: one
//! connection per probe through the connection layer (`net::conn`: the plan's TCP/MX target,
//! implicit TLS, STARTTLS handshake, timeouts), bytes written exactly as the script says, each
//! reply read under the timeout. Results use `ehlo check`'s model, `--only/--skip/--expect`
//! grammar, renderer (mode `probe`) and JUnit writer. Exit codes: 0, 40 (a probe failed or an
//! `--expect` was not met), 41 (inconclusive), from `error.rs`.

pub(crate) mod script;

use std::time::Instant;

use tokio::io::AsyncReadExt;

use crate::check::model::{CheckResult, DomainReport, FailOn, Judged, Status, Tally};
use crate::check::select::{Expect, Selection};
use crate::error::Error;
use crate::net::conn::{self, Connection};
use crate::net::route::ConnectPlan;
use crate::render::check::CheckRenderer;
use crate::render::remedy::{FrontEnd, words};
use crate::smtp::client::SessionError;
use crate::smtp::event::{Event, Phase};
use crate::smtp::reply::{Limits, ReplyParser};
use script::{Ctx, Input, Io, Runner};

/// Everything `ehlo probe` was asked to do (built by `cli::mode`).
#[derive(Debug, Clone)]
pub(crate) struct ProbeConfig {
    /// Where and how to connect (target, TLS settings, timeouts).
    pub(crate) plan: ConnectPlan,
    /// What the probes put in their commands.
    pub(crate) ctx: Ctx,
    /// `--only` / `--skip`.
    pub(crate) selection: Selection,
    /// `--expect`.
    pub(crate) expects: Vec<Expect>,
    /// `--fail-on`.
    pub(crate) fail_on: FailOn,
    /// `--untested-ok`.
    pub(crate) untested_ok: bool,
    /// `--json`.
    pub(crate) json: bool,
    /// `--color`.
    pub(crate) color: crate::render::ColorChoice,
    /// `--junit FILE`.
    pub(crate) junit: Option<std::path::PathBuf>,
    /// Whole-run limit (`--deadline`).
    pub(crate) deadline: Option<std::time::Duration>,
    /// `--deadline` as the run's stop names it in brackets: with where it was set when that was
    /// below the command line (`--deadline, set by EHLO_DEADLINE in the environment`).
    pub(crate) deadline_named: String,
}

impl ProbeConfig {
    /// The selected probe ids, in run order.
    pub(crate) fn selected(&self) -> Vec<&'static str> {
        script::PROBES
            .iter()
            .map(|d| d.id)
            .filter(|id| self.selection.wants(id))
            .collect()
    }
}

/// Run the selected probes one after the other and render them through `renderer` (built by
/// the dispatcher, `app`, or by a test); returns the exit code.
pub(crate) async fn run(cfg: &ProbeConfig, renderer: &mut CheckRenderer) -> u8 {
    let ids = cfg.selected();
    let mailing: Vec<String> = ids
        .iter()
        .filter(|id| script::sends_mail(id))
        .map(|id| cfg.ctx.token_for(id))
        .collect();
    if !mailing.is_empty() {
        let n = mailing.len();
        // "1 probe sends", "2 probes send": the noun's plural_s, the verb's the other way.
        let sends = if n == 1 { "sends" } else { "send" };
        renderer.note(&format!(
            "{n} probe{} {sends} mail to {} only; each message carries its token in the Subject and body: look for ehlo-probe-{}-* (a SMUGGLED subject means the server is vulnerable)",
            crate::smtp::event::plural_s(n),
            cfg.ctx.to,
            cfg.ctx.token
        ));
    }
    let t0 = Instant::now();
    let mut checks = Vec::new();
    let mut unreachable: Option<String> = None;
    // A refused --auth-user password is refused again on every probe that sends it (and may
    // lock the account): after the first 535 those probes are not run.
    let mut auth_failed: Option<String> = None;
    // Ctrl-C, SIGTERM, SIGHUP and `--deadline` end the run as `ehlo check`'s do: the probe
    // under way is reported as not finished, the ones after it as not run, the report, the
    // summary and the JUnit file still written, exit 41. One listener for the whole run.
    let mut signals = crate::net::driver::RunSignals::listen();
    let deadline = cfg.deadline.map(|d| tokio::time::Instant::now() + d);
    let reached = crate::check::deadline_reached(&cfg.deadline_named);
    let mut stopped: Option<&str> = None;
    // One control connection per host reached for the `limits.*` probes (see
    // `script::LimitsControl`).
    let mut limits_control = Controls::default();
    // Per host reached (the MX host with `@domain`), the probes in a row, latest last, whose
    // first command after EHLO got no reply within --timeout ([`STALLS_TO_GIVE_UP`] of them and
    // the rest on that host are not run).
    let mut stalled: std::collections::HashMap<String, Vec<&'static str>> = Default::default();
    // `@domain`: the MX hosts given up on, in the order given up on, with why; a probe (or a
    // control connection) that reaches one passes over it, the other MX hosts are probed as
    // before.
    let mut stalled_hosts = GivenUpHosts::default();
    // Why the probes after some point were not run (the JSON summary's `given_up`: the first),
    // and every host given up on, in order (its `hosts`).
    let mut given_up: Option<serde_json::Value> = None;
    let mut given_up_all: Vec<serde_json::Value> = Vec::new();
    for id in ids {
        // A deadline that passed while the last probe was finishing stops the run here.
        if stopped.is_none() && deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            stopped = Some(&reached);
        }
        let c = match (&unreachable, stopped) {
            (_, Some(why)) => CheckResult::new(id, Status::Error, format!("not run: {why}"))
                .with("unfinished", true),
            // One failed connect says it for every probe: no more waiting on timeouts.
            (Some(why), None) => {
                let c = CheckResult::new(id, Status::Error, format!("not run: {why}"));
                match &given_up {
                    Some(g) => c.with("given_up", g.clone()),
                    None => c,
                }
            }
            (None, None) if auth_failed.is_some() && script::authenticates(id, &cfg.ctx) => {
                let why = auth_failed.as_deref().unwrap_or_default();
                CheckResult::new(id, Status::Error, format!("not run: AUTH failed ({why})"))
            }
            (None, None) => {
                let past_deadline = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => std::future::pending().await,
                    }
                };
                let c = tokio::select! {
                    c = probe_one(id, cfg, &mut limits_control, &stalled_hosts) => c,
                    sig = crate::net::driver::RunSignals::next(&mut signals) => {
                        let why = crate::check::stopped_by(sig);
                        stopped = Some(why);
                        crate::check::unfinished(id, why)
                    }
                    () = past_deadline => {
                        stopped = Some(&reached);
                        crate::check::unfinished(id, &reached)
                    }
                };
                let mut c = c;
                if c.evidence.get("connect_failed").is_some() {
                    unreachable = Some(c.summary.clone());
                    let g = gave_up("connect_failed", &[id], &cfg.plan.describe());
                    given_up.get_or_insert_with(|| g.clone());
                    given_up_all.push(g);
                }
                // A server that did not greet within --timeout would keep every probe after
                // it waiting as long (22 probes: 22 timeouts). With `@domain` the next probe
                // may reach another MX: that MX host alone is given up on (named in the
                // result), and the probes after it pass over it to the next.
                // So would one that greets and then never answers the steps before the
                // probe's own commands (EHLO, STARTTLS, AUTH).
                let silent = ["no_greeting", "no_reply_before_probe"]
                    .into_iter()
                    .find(|k| c.evidence.get(*k).is_some());
                if let Some(evidence) = silent {
                    let host = reached_host(&c);
                    let g = gave_up(evidence, &[id], &host);
                    match cfg.plan.target {
                        crate::net::route::Target::Host { .. } => {
                            unreachable = Some(format!("{id}: {}", c.summary));
                            given_up.get_or_insert_with(|| g.clone());
                            given_up_all.push(g);
                        }
                        crate::net::route::Target::Mx { .. } => {
                            let why = if evidence == "no_greeting" {
                                format!(
                                    "the MX host {host} never greets: {id} got no greeting within the timeout, evidence no_greeting"
                                )
                            } else {
                                format!(
                                    "the MX host {host} stalls before the probes' commands: {id} got {}, evidence no_reply_before_probe",
                                    c.summary
                                )
                            };
                            c.summary = format!("{} from the MX host {host}", c.summary);
                            if stalled_hosts.add(host, why, &g) {
                                given_up.get_or_insert_with(|| g.clone());
                                given_up_all.push(g);
                            }
                        }
                    }
                }
                // A server that answers EHLO and then nothing would keep every probe after it
                // waiting a --timeout too; one that is merely slow (a tarpit) answers within
                // it, and any probe that gets an answer starts the count again. A skip sent
                // nothing after EHLO: no evidence either way.
                // Counted per host reached: with `@domain` one MX that stalls is no evidence
                // about the next, and a probe answered by another MX does not restart its count.
                let host = reached_host(&c);
                let row = stalled.entry(host.clone()).or_default();
                if c.evidence.get("no_reply_after_ehlo").is_some() {
                    row.push(id);
                } else if c.status != Status::Skip {
                    row.clear();
                }
                if row.len() >= STALLS_TO_GIVE_UP && unreachable.is_none() {
                    let by = row.join(" and ");
                    let g = gave_up("no_reply_after_ehlo", row, &host);
                    match cfg.plan.target {
                        crate::net::route::Target::Host { .. } => {
                            unreachable = Some(format!(
                                "the server stalls after EHLO: {by} got no reply to their first command after it within the timeout, evidence no_reply_after_ehlo"
                            ));
                            given_up.get_or_insert_with(|| g.clone());
                            given_up_all.push(g);
                        }
                        crate::net::route::Target::Mx { .. } => {
                            let why = format!(
                                "the MX host {host} stalls after EHLO: {by} got no reply to their first command after it within the timeout, evidence no_reply_after_ehlo"
                            );
                            if stalled_hosts.add(host, why, &g) {
                                given_up.get_or_insert_with(|| g.clone());
                                given_up_all.push(g);
                            }
                        }
                    }
                }
                if c.evidence.get("auth_failed").is_some() {
                    auth_failed = Some(c.summary.clone());
                }
                c
            }
        };
        checks.push(Judged {
            result: c,
            counts: true,
            waived: false,
            note: None,
        });
    }
    let mut report = DomainReport {
        index: 0,
        domain: cfg.plan.target.to_string(),
        checks,
        expects: Vec::new(),
        aborted: stopped.map(str::to_string),
        ms: t0.elapsed().as_secs_f64() * 1000.0,
    };
    // As in `ehlo check`: an `--expect` about a probe a stop left unfinished is listed, not
    // decided (it was not tested; the run is 41 anyway unless something that finished failed).
    report.expects = Expect::judge_all(&cfg.expects, &mut report.checks, stopped);
    renderer.domain(&report);
    let reports = [report];
    let mut code = crate::check::model::untested_ok(
        crate::check::model::exit_code(&reports, cfg.fail_on),
        cfg.untested_ok,
        stopped,
        Tally::of(&reports, cfg.fail_on).undecided,
    );
    // Every host given up on, in the order given up on (with `@domain` there may be several;
    // the members beside `hosts` are the first's).
    if let Some(serde_json::Value::Object(g)) = &mut given_up {
        g.insert("hosts".into(), given_up_all.clone().into());
    }
    // The JUnit file says why as suite properties too: a CI page shows the cases not run, and a
    // reader of the file alone learns what made the run give up on the server.
    let properties = given_up_properties(given_up.as_ref(), &given_up_all);
    if let Some(path) = &cfg.junit
        && let Err(e) = crate::render::junit::write_named(
            "ehlo probe",
            path,
            &reports,
            cfg.fail_on,
            t0.elapsed(),
            &properties
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect::<Vec<_>>(),
        )
    {
        renderer.fatal(&e);
        code = code.max(crate::error::EXIT_USAGE);
    }
    renderer.given_up(given_up);
    renderer.finish(&reports, code, stopped);
    code
}

/// Probes in a row on fresh connections whose first command after EHLO got no reply within
/// `--timeout` before the rest of the run is not run.
const STALLS_TO_GIVE_UP: usize = 2;

/// The JSON summary's `given_up`: which evidence made the run give up on the server, the
/// probes that showed it, and the host given up on (with `@domain`, the MX host).
fn gave_up(evidence: &str, by: &[&str], host: &str) -> serde_json::Value {
    serde_json::json!({"evidence": evidence, "by": by, "host": host})
}

/// The JUnit suite properties for `given_up` (the first host given up on, and `all` of them in
/// order): `ehlo.given_up.{evidence,by,host}` (the first's), `ehlo.given_up.hosts` (every
/// host, space-separated) and `ehlo.given_up.hosts.HOST.{evidence,by}` for each; lists are
/// space-separated.
fn given_up_properties(
    first: Option<&serde_json::Value>,
    all: &[serde_json::Value],
) -> Vec<(String, String)> {
    let Some(first) = first else {
        return Vec::new();
    };
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        v => v.as_str().unwrap_or_default().to_string(),
    };
    let mut out: Vec<(String, String)> = ["evidence", "by", "host"]
        .into_iter()
        .map(|k| (format!("ehlo.given_up.{k}"), text(&first[k])))
        .collect();
    let hosts: Vec<String> = all.iter().map(|g| text(&g["host"])).collect();
    out.push(("ehlo.given_up.hosts".into(), hosts.join(" ")));
    for (g, host) in all.iter().zip(&hosts) {
        for k in ["evidence", "by"] {
            out.push((format!("ehlo.given_up.hosts.{host}.{k}"), text(&g[k])));
        }
    }
    out
}

/// `@domain`: the MX hosts given up on, in the order given up on, each with why (the summary
/// of a probe that finds no other) and its `given_up` evidence.
#[derive(Debug, Default)]
pub(crate) struct GivenUpHosts(Vec<(String, String, serde_json::Value)>);

impl GivenUpHosts {
    /// Give up on `host`; false when it already was.
    fn add(&mut self, host: String, why: String, g: &serde_json::Value) -> bool {
        if self.get(&host).is_some() {
            return false;
        }
        self.0.push((host, why, g.clone()));
        true
    }

    /// Why `host` was given up on, with its `given_up` evidence, if it was.
    fn get(&self, host: &str) -> Option<(String, serde_json::Value)> {
        self.0
            .iter()
            .find(|(h, _, _)| h == host)
            .map(|(_, why, g)| (why.clone(), g.clone()))
    }
}

/// The host a probe's connection reached (`server` evidence `host [address]`, the host part),
/// or `""` when it reached none.
fn reached_host(c: &CheckResult) -> String {
    let server = c.evidence.get("server").and_then(|v| v.as_str());
    let server = server.unwrap_or_default();
    server.split(" [").next().unwrap_or_default().to_string()
}

/// The `limits.*` control connections of a run, one per server reached (`host [address]`):
/// a control shows how that server answers a harmless line, and with `@domain` (equal
/// preferences shuffled, a host given up on passed over) or a host name of several addresses
/// the probes of a run reach more than one.
#[derive(Debug, Default)]
pub(crate) struct Controls(Vec<(String, script::LimitsControl)>);

impl Controls {
    /// The control run on `server`, if one was.
    fn on(&self, server: &str) -> Option<script::LimitsControl> {
        self.0
            .iter()
            .find(|(s, _)| s == server)
            .map(|(_, c)| c.clone())
    }

    /// Keep `c`, run on `server`, unless one is kept for it already.
    fn keep(&mut self, server: &str, c: Option<script::LimitsControl>) {
        if let Some(c) = c
            && self.on(server).is_none()
        {
            self.0.push((server.to_string(), c));
        }
    }
}

/// One probe on its own connection: its result, with the time it took. `control`: the
/// `limits.*` control connections of the run, taken and kept here.
pub(crate) async fn probe_one(
    id: &'static str,
    cfg: &ProbeConfig,
    control: &mut Controls,
    stalled_hosts: &GivenUpHosts,
) -> CheckResult {
    let t0 = Instant::now();
    let outcome = drive(id, cfg, control, stalled_hosts).await;
    let mut c = CheckResult::new(id, outcome.status, outcome.summary);
    c.evidence = outcome.evidence;
    c.timed(t0.elapsed().as_secs_f64() * 1000.0)
}

/// Pump one probe's [`Runner`] through a real connection.
async fn drive(
    id: &'static str,
    cfg: &ProbeConfig,
    control: &mut Controls,
    stalled_hosts: &GivenUpHosts,
) -> script::Outcome {
    let plan = &cfg.plan;
    let timeout = plan.link.timeout;
    let mut runner = Runner::new(id, cfg.ctx.clone());
    // The server the probe's connection reached, and its address: a control or follow-up
    // connection goes there again, not to whichever MX the shuffle picks next.
    let (first, mut conn) = match connect_past(plan, stalled_hosts).await {
        Ok((c, peer)) => {
            // Which host and address answered: with `@domain` every probe picks its MX host
            // anew (equal preferences are shuffled, a dead host is skipped), so each result
            // says whom it is about; a control an earlier probe ran counts only there.
            runner.connected_to(&c.server);
            runner.with_control(control.on(&c.server));
            let first = Reached {
                host: c.host.clone(),
                server: c.server.clone(),
                dane: c.dane.clone(),
                peer,
            };
            (first, Some(c))
        }
        // Every MX host that answered was given up on: not run, saying why (the first's).
        Err((_, Some((why, g)))) => {
            let mut o = inconclusive(format!("not run: {why}"));
            o.evidence.insert("given_up".into(), g);
            return o;
        }
        Err((e, None)) => {
            let mut o = inconclusive(format!("cannot connect: {e}"));
            o.evidence.insert("connect_failed".into(), true.into());
            return o;
        }
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut parser = ReplyParser::new(Limits::default());
    // The deadline of the last `Io::Read`, kept for the `Io::ReadOn` reads after it.
    let mut deadline = None;
    // Why a control or follow-up connection was not made (every MX host left given up on).
    let mut control_skipped: Option<(String, serde_json::Value)> = None;
    let mut io = runner.start();
    loop {
        io = match io {
            Io::Done(mut o) => {
                if let Some(mut c) = conn {
                    c.shutdown().await;
                }
                control.keep(&first.server, runner.control_seen());
                // Every MX host left was given up on: no control, for the probes' reason.
                if let Some((why, g)) = control_skipped {
                    o.status = crate::check::model::Status::Error;
                    o.summary = format!("its second connection was not run: {why}");
                    o.evidence.insert("given_up".into(), g);
                }
                return o;
            }
            Io::Send(bytes) => {
                let Some(c) = conn.as_mut() else {
                    return inconclusive("no connection".into());
                };
                if runner.watches_unasked() {
                    // Replies that arrived before the line is written answer something else.
                    read_ready(c, &mut buf).await;
                    runner.unasked_before_write(parser.progress(&buf).map_or(0, |p| p.bytes));
                }
                let sent = c.send(&bytes, Phase::Other, timeout).await;
                renegotiations(c, &mut runner);
                match sent {
                    Ok(()) => runner.on(Input::Sent),
                    Err(_) if refused(c).is_some() => {
                        runner.on(refused(c).unwrap_or(Input::Closed))
                    }
                    Err(Error::Timeout { .. }) => runner.on(Input::TimedOut),
                    Err(_) => runner.on(Input::Closed),
                }
            }
            read @ (Io::Read | Io::ReadOn) => {
                let Some(c) = conn.as_mut() else {
                    return inconclusive("no connection".into());
                };
                if read == Io::Read {
                    deadline = (!timeout.is_zero()).then(|| tokio::time::Instant::now() + timeout);
                }
                let input = read_reply(c, &mut buf, &mut parser, deadline).await;
                renegotiations(c, &mut runner);
                runner.on(input)
            }
            Io::Reconnect => {
                if let Some(mut c) = conn.take() {
                    c.shutdown().await;
                }
                buf.clear();
                parser = ReplyParser::new(Limits::default());
                // A control or follow-up connection goes to the server the probe's reached
                // (what it shows is about that server); without its address (a socket, a
                // child process) as the plan says, passing over a host given up on as the
                // probes do: it would wait a --timeout there and prove nothing.
                let again = match first.peer {
                    Some(_) => connect_again(plan, &first).await,
                    None => connect_past(plan, stalled_hosts).await.map(|(c, _)| c),
                };
                match again {
                    Ok(c) => {
                        let server = c.server.clone();
                        conn = Some(c);
                        runner.on(Input::Connected(server))
                    }
                    Err((_, Some(skipped))) => {
                        control_skipped = Some(skipped);
                        runner.on(Input::Closed)
                    }
                    Err((_, None)) => runner.on(Input::Closed),
                }
            }
            Io::StartTls => {
                let Some(c) = conn.take() else {
                    return inconclusive("no connection".into());
                };
                if !buf.is_empty() {
                    let n = buf.len();
                    conn = Some(c);
                    runner.on(Input::TlsFailed(format!(
                        "the server sent {n} more bytes in plaintext after its 220 to STARTTLS"
                    )))
                } else {
                    match c.start_tls(plan, &mut |_| {}).await {
                        Ok(c) => {
                            conn = Some(c);
                            runner.on(Input::TlsUp)
                        }
                        Err(Error::Session(SessionError::Tls(why))) => {
                            runner.on(Input::TlsFailed(words(&why, FrontEnd::Probe)))
                        }
                        Err(e) => runner.on(Input::TlsFailed(e.to_string())),
                    }
                }
            }
        };
    }
}

/// Connect as the plan says, passing over an MX host given up on (`@domain`: it stalled
/// after EHLO for two probes in a row) to the next candidate, as a refusal would be
/// (RFC 5321 §5.1), with implicit TLS when asked. The error comes with why the first host
/// passed over was given up on, when one was.
/// The TCP peer's address comes with the connection (`None` for a socket or a child process).
async fn connect_past(
    plan: &ConnectPlan,
    stalled_hosts: &GivenUpHosts,
) -> Result<(Connection, Option<std::net::SocketAddr>), (Error, Option<(String, serde_json::Value)>)>
{
    let mut dialer = conn::Dialer::new(plan);
    let mut passed: Option<(String, serde_json::Value)> = None;
    loop {
        let mut c = dialer
            .next(&mut |_| {})
            .await
            .map_err(|e| (e, passed.clone()))?;
        if let Some(why) = stalled_hosts.get(c.host.as_str()) {
            c.shutdown().await;
            passed.get_or_insert(why);
            continue;
        }
        let peer = match &c.stream {
            conn::Conn::Plain(tcp) => tcp.peer_addr().ok(),
            _ => None,
        };
        if plan.link.tls_on_connect {
            return c
                .start_tls(plan, &mut |_| {})
                .await
                .map(|c| (c, peer))
                .map_err(|e| (e, passed.clone()));
        }
        return Ok((c, peer));
    }
}

/// The server a probe's own connection reached, for its control or follow-up connection.
struct Reached {
    /// The host name TLS verifies ([`Connection::host`]).
    host: String,
    /// `host [address]` ([`Connection::server`]).
    server: String,
    /// Its DANE records, as the first connection found them.
    dane: Option<crate::net::dane::DaneUse>,
    /// The TCP peer (`None` for a socket or a child process).
    peer: Option<std::net::SocketAddr>,
}

/// A new connection to the address the probe's own connection reached (`first`): the same
/// host name for TLS (SNI, verification, its DANE records), the same `host [address]` in the
/// transcript, implicit TLS when asked.
async fn connect_again(
    plan: &ConnectPlan,
    first: &Reached,
) -> Result<Connection, (Error, Option<(String, serde_json::Value)>)> {
    let Some(peer) = first.peer else {
        return Err((
            Error::Connect {
                target: plan.describe(),
                reason: "no address to connect to again".into(),
            },
            None,
        ));
    };
    let pinned = pinned(plan, peer);
    let mut c = conn::Dialer::new(&pinned)
        .next(&mut |_| {})
        .await
        .map_err(|e| (e, None))?;
    c.host = first.host.clone();
    c.server = first.server.clone();
    c.dane = first.dane.clone();
    if plan.link.tls_on_connect {
        return c.start_tls(plan, &mut |_| {}).await.map_err(|e| (e, None));
    }
    Ok(c)
}

/// The plan of a follow-up connection: `plan`'s link, to exactly `peer` (its scope too).
fn pinned(plan: &ConnectPlan, peer: std::net::SocketAddr) -> ConnectPlan {
    ConnectPlan {
        target: crate::net::route::Target::at(peer),
        link: plan.link.clone(),
    }
}

/// Take what the server has already sent, without waiting (at most 64 KiB).
async fn read_ready(c: &mut Connection, buf: &mut Vec<u8>) {
    let mut chunk = vec![0u8; 16 * 1024];
    for _ in 0..4 {
        // A zero timeout polls the read once: data already here, or nothing.
        match tokio::time::timeout(std::time::Duration::ZERO, c.stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return,
        }
    }
}

/// The server's TLS renegotiations since the last look, said in the transcript as the send
/// says them (`server renegotiated TLS …`, a changed certificate's warning, and the new
/// certificate's block: subject, issuer, fingerprint, verdicts, the cipher now in use, in the
/// send's own words from its renderer).
fn renegotiations(c: &Connection, runner: &mut Runner) {
    for ev in c.stream.renegotiation_news() {
        match ev {
            Event::Info { message } | Event::Warning { message } => {
                runner.note(&words(&message, FrontEnd::Probe));
            }
            ev @ Event::TlsRenegotiated { .. } => {
                for line in crate::render::human::plain_lines(&ev) {
                    let line = line.strip_prefix("=== ").unwrap_or(&line);
                    runner.note(line.trim_end());
                }
            }
            _ => {}
        }
    }
}

/// A TLS renegotiation the client refused (the certificate, or one too many): the session's
/// end, with the send's reason, where the stream's error would only say the connection failed.
fn refused(c: &Connection) -> Option<Input> {
    let why = c.stream.renegotiation()?.refusal()?;
    Some(Input::TlsFailed(why))
}

/// The probe could not run (no connection): inconclusive with the reason.
fn inconclusive(why: String) -> script::Outcome {
    script::Outcome {
        status: Status::Error,
        summary: why,
        evidence: serde_json::Map::new(),
    }
}

/// Read until one complete reply is parsed, the server closes, or the `deadline` passes
/// without a complete reply (`None` = no limit; what had arrived of the reply then comes with
/// the timeout). The buffer and parser keep what follows the
/// reply.
async fn read_reply(
    c: &mut Connection,
    buf: &mut Vec<u8>,
    parser: &mut ReplyParser,
    deadline: Option<tokio::time::Instant>,
) -> Input {
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        if let Some(r) = parser.next_reply(buf) {
            return Input::Reply(r);
        }
        let read = c.stream.read(&mut chunk);
        let n = match deadline {
            Some(d) => match tokio::time::timeout_at(d, read).await {
                Ok(r) => r,
                Err(_) => {
                    // Part of a reply came: the transcript shows it.
                    let so_far = parser.progress(buf);
                    return match (parser.finish(buf), so_far) {
                        (Some(r), Some(p)) => Input::TimedOutPartway(r, p),
                        _ => Input::TimedOut,
                    };
                }
            },
            None => read.await,
        };
        if let Some(refusal) = refused(c) {
            return refusal;
        }
        match n {
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            // Closed or reset: whatever is pending is the last reply.
            _ => {
                return match parser.finish(buf) {
                    Some(r) => Input::Reply(r),
                    None => Input::Closed,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::route::{Link, Target, ip_literal};
    use std::net::SocketAddr;

    /// A probe's control and follow-up connections go to the address its first connection
    /// reached. They went to `peer.ip()`'s text, which drops an IPv6 scope id: to
    /// `fe80::…%eth0`, the control connection went to `fe80::…` on no interface, was refused
    /// as EINVAL, and limits.line was left inconclusive (exit 41). Each address here is read
    /// back from the follow-up plan as the connection reads it: the same address, the same
    /// scope.
    #[test]
    fn a_follow_up_goes_to_the_same_scoped_address() {
        let plan = Link::default().to(Target::Mx {
            domain: "example.test".into(),
            port: 25,
        });
        for peer in [
            "[fe80::fc:ff:fe00:1%4]:44800",
            "[fe80::1%4294967295]:25",
            "[::1]:2525",
            "[2001:db8::1]:25",
            "192.0.2.1:587",
        ] {
            let peer: SocketAddr = peer.parse().unwrap();
            let again = pinned(&plan, peer);
            let Target::Host { host, port } = &again.target else {
                panic!("{peer}: {:?}", again.target);
            };
            let (ip, zone) = ip_literal(host).unwrap_or_else(|| panic!("{peer}: {host}"));
            let mut read = SocketAddr::new(ip, *port);
            if let (SocketAddr::V6(a), Some(zone)) = (&mut read, zone) {
                a.set_scope_id(conn::scope_id(zone).unwrap());
            }
            // `SocketAddrV6`'s equality compares the scope id too.
            assert_eq!(read, peer, "{host}");
        }
    }
}
