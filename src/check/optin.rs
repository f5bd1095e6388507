//! The opt-in probes of `ehlo check`, each its own short SMTP session through the same driver
//! and connection layer as the main probe, and never DATA:
//! `--rcpt-probe` → `smtp.postmaster` (`MAIL FROM:<>`, `RCPT TO:<postmaster@DOMAIN>`, QUIT; one
//! session per domain and MX address), `--relay-probe` → `smtp.open-relay` (`MAIL FROM:<>`,
//! `RCPT TO:<relay-probe@example.net>`, QUIT; once per MX address), `--tls-probe` →
//! `tls.versions` (one STARTTLS handshake per TLS version, each on its own connection, once per
//! MX address).

use std::net::IpAddr;
use std::time::Duration;

use serde_json::json;

use super::model::{CheckResult, Status};
use super::probe::{ProbeOptions, capped, reply_text, run_session};
use crate::net::tls::TlsVersion;
use crate::render::remedy::{FrontEnd, words};
use crate::smtp::capabilities::Capabilities;
use crate::smtp::client::{Plan, Protocol, StartTls, Stop, StopAt, StopKind};
use crate::smtp::event::{Event, Phase, TlsInfo};
use crate::smtp::reply::{Reply, Verdict};

/// Which opt-in probes were asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OptIn {
    /// `--rcpt-probe`.
    pub(crate) rcpt: bool,
    /// `--relay-probe`.
    pub(crate) relay: bool,
    /// `--tls-probe`.
    pub(crate) tls: bool,
}

impl OptIn {
    /// The flag that turns check `id` on, if `id` is an opt-in check.
    pub(crate) fn flag_for(id: &str) -> Option<&'static str> {
        match id {
            "smtp.postmaster" => Some("--rcpt-probe"),
            "smtp.open-relay" => Some("--relay-probe"),
            "tls.versions" => Some("--tls-probe"),
            _ => None,
        }
    }

    /// Was the flag that turns check `id` on given? (True for every other check.)
    pub(crate) fn enables(&self, id: &str) -> bool {
        match id {
            "smtp.postmaster" => self.rcpt,
            "smtp.open-relay" => self.relay,
            "tls.versions" => self.tls,
            _ => true,
        }
    }
}

/// The outside recipient of the relay probe: a domain reserved by RFC 2606 §3, so even an open
/// relay has nowhere real to send it (and no DATA follows anyway).
pub(crate) const RELAY_RCPT: &str = "relay-probe@example.net";

/// What one MAIL/RCPT session showed.
#[derive(Debug, Default)]
struct Dialogue {
    /// Why the session ended early (connect failure, timeout, refused greeting…).
    failure: Option<String>,
    mail: Option<Reply>,
    rcpt: Option<Reply>,
    /// The TLS version the session ran under, if any.
    tls: Option<String>,
}

fn dialogue(events: &[(Duration, Event)]) -> Dialogue {
    let mut d = Dialogue::default();
    for (_, ev) in events {
        match ev {
            Event::ConnectFailed { reason, .. } => d.failure = Some(reason.clone()),
            Event::Received { reply, phase, .. } => match phase {
                Phase::Mail => d.mail = Some(reply.clone()),
                Phase::Rcpt if d.rcpt.is_none() => d.rcpt = Some(reply.clone()),
                _ => {}
            },
            Event::TlsStarted { info } => d.tls = Some(info.version.clone()),
            Event::Summary(s) if d.failure.is_none() => d.failure = s.error.as_deref().map(capped),
            _ => {}
        }
    }
    d
}

/// `MAIL FROM:<>`, `RCPT TO:<rcpt>`, QUIT (STARTTLS first when offered, as a sender would; a
/// failed handshake falls back to plain text).
fn rcpt_plan(o: &ProbeOptions, rcpt: &str) -> Plan {
    Plan {
        helo: o.helo.clone(),
        protocol: Protocol::Esmtp,
        starttls: StartTls::Optional,
        from: String::new(),
        rcpts: vec![rcpt.to_string()],
        pipeline: false,
        stop: Some(Stop {
            kind: StopKind::Quit,
            at: StopAt::Rcpt,
        }),
        ..Plan::default()
    }
}

fn evidence(c: CheckResult, rcpt: &str, d: &Dialogue) -> CheckResult {
    c.with("rcpt", rcpt)
        .with("mail_reply", d.mail.as_ref().map(reply_text))
        .with("rcpt_reply", d.rcpt.as_ref().map(reply_text))
        .with("tls", d.tls.clone())
}

/// Why a session that got as far as an accepted MAIL ended without RCPT's reply.
fn lost(d: &Dialogue) -> &str {
    d.failure
        .as_deref()
        .unwrap_or("the session ended before RCPT was answered")
}

/// `smtp.postmaster`: RFC 5321 §4.5.1 requires every domain that receives mail to accept
/// `postmaster`, and §4.5.5/§6.1 require the null reverse path to be accepted (bounces).
fn judge_postmaster(rcpt: &str, d: &Dialogue) -> CheckResult {
    let (status, summary) = match (&d.mail, &d.rcpt) {
        (_, Some(r)) => match r.verdict() {
            Verdict::Accepted => (
                Status::Pass,
                format!("RCPT TO:<{rcpt}> accepted: {}", reply_text(r)),
            ),
            Verdict::Deferred => (
                Status::Warn,
                format!(
                    "RCPT TO:<{rcpt}> deferred (greylisting?): {}",
                    reply_text(r)
                ),
            ),
            Verdict::Refused => (
                Status::Fail,
                format!(
                    "RCPT TO:<{rcpt}> refused: {}; postmaster must be accepted (RFC 5321 §4.5.1)",
                    reply_text(r)
                ),
            ),
            // 1xx/3xx (a 354 out of turn) or no code: not an answer to RCPT (RFC 5321 §4.2.1).
            Verdict::Neither => (
                Status::Error,
                format!(
                    "RCPT TO:<{rcpt}> got {}, neither accepted nor refused; could not test",
                    reply_text(r)
                ),
            ),
        },
        (Some(m), None) if m.verdict() == Verdict::Accepted => (
            Status::Error,
            format!("RCPT TO:<{rcpt}> got no reply: {}; could not test", lost(d)),
        ),
        (Some(m), None) if m.verdict() == Verdict::Refused => (
            Status::Fail,
            format!(
                "MAIL FROM:<> refused: {}; the null sender of bounces must be accepted (RFC 5321 §4.5.5)",
                reply_text(m)
            ),
        ),
        (Some(m), None) => (
            Status::Error,
            format!("MAIL FROM:<> deferred: {}; could not test", reply_text(m)),
        ),
        (None, None) => (
            Status::Error,
            format!(
                "could not test: {}",
                d.failure
                    .as_deref()
                    .unwrap_or("the session ended before MAIL")
            ),
        ),
    };
    evidence(
        CheckResult::new("smtp.postmaster", status, summary),
        rcpt,
        d,
    )
}

/// `smtp.open-relay`: a recipient in a domain the server does not serve must be refused
/// (RFC 5321 §3.6.2, §7.1: relaying only for authorised clients).
fn judge_relay(d: &Dialogue) -> CheckResult {
    let rcpt = RELAY_RCPT;
    let (status, summary) = match (&d.mail, &d.rcpt) {
        (_, Some(r)) => match r.verdict() {
            Verdict::Accepted => (
                Status::Fail,
                format!(
                    "RCPT TO:<{rcpt}> accepted from an unauthenticated client: an open relay (RFC 5321 §3.6.2); QUIT sent, no DATA"
                ),
            ),
            Verdict::Deferred => (
                Status::Warn,
                format!("RCPT TO:<{rcpt}> deferred, not refused: {}", reply_text(r)),
            ),
            Verdict::Refused => (Status::Pass, format!("relaying refused: {}", reply_text(r))),
            // Only a 5xx refuses (RFC 5321 §4.2.1); a 354 out of turn or a reply without a
            // code says nothing about relaying.
            Verdict::Neither => (
                Status::Error,
                format!(
                    "RCPT TO:<{rcpt}> got {}, neither accepted nor refused; relaying could not be tested",
                    reply_text(r)
                ),
            ),
        },
        (Some(m), None) if m.verdict() == Verdict::Accepted => (
            Status::Error,
            format!(
                "RCPT TO:<{rcpt}> got no reply: {}; relaying could not be tested",
                lost(d)
            ),
        ),
        (Some(m), None) => (
            Status::Error,
            format!(
                "MAIL FROM:<> not accepted: {}; relaying could not be tested",
                reply_text(m)
            ),
        ),
        (None, None) => (
            Status::Error,
            format!(
                "could not test: {}",
                d.failure
                    .as_deref()
                    .unwrap_or("the session ended before MAIL")
            ),
        ),
    };
    evidence(
        CheckResult::new("smtp.open-relay", status, summary),
        rcpt,
        d,
    )
}

/// `smtp.postmaster` for `domain` at `(host, ip)`.
pub(crate) async fn postmaster(
    host: &str,
    ip: IpAddr,
    domain: &str,
    o: &ProbeOptions,
) -> CheckResult {
    let rcpt = format!("postmaster@{}", domain.trim_end_matches('.'));
    let events = run_session(host, ip, o, rcpt_plan(o, &rcpt), None).await;
    judge_postmaster(&rcpt, &dialogue(&events))
}

/// `smtp.open-relay` at `(host, ip)`.
pub(crate) async fn relay(host: &str, ip: IpAddr, o: &ProbeOptions) -> CheckResult {
    let events = run_session(host, ip, o, rcpt_plan(o, RELAY_RCPT), None).await;
    judge_relay(&dialogue(&events))
}

/// How one version's handshake went.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Negotiated (the version OpenSSL reported).
    Accepted,
    /// The handshake failed: the server refuses this version.
    Refused(String),
    /// STARTTLS is not offered (nothing to probe).
    NoStartTls,
    /// The session did not get as far as the handshake (connect, greeting, timeout).
    Untested(String),
}

fn version_name(v: TlsVersion) -> &'static str {
    match v {
        TlsVersion::Tls1_0 => "1.0",
        TlsVersion::Tls1_1 => "1.1",
        TlsVersion::Tls1_2 => "1.2",
        TlsVersion::Tls1_3 => "1.3",
    }
}

fn handshake_outcome(events: &[(Duration, Event)]) -> Outcome {
    let mut offered = None;
    let mut failure = None;
    let mut sent_starttls = false;
    for (_, ev) in events {
        match ev {
            Event::TlsStarted { .. } => return Outcome::Accepted,
            Event::TlsFailed { reason } => {
                return Outcome::Refused(words(reason, FrontEnd::Check));
            }
            Event::Sent { phase, .. } if *phase == Phase::StartTls => sent_starttls = true,
            Event::Received { reply, phase, .. } if *phase == Phase::Helo => {
                offered.get_or_insert(Capabilities::from_reply(reply).has("STARTTLS"));
            }
            Event::ConnectFailed { reason, .. } => failure = Some(reason.clone()),
            Event::Summary(s) if failure.is_none() => failure = s.error.as_deref().map(capped),
            _ => {}
        }
    }
    let why = failure.unwrap_or_else(|| "no handshake".into());
    if offered == Some(false) {
        Outcome::NoStartTls
    } else if sent_starttls && !why.contains("timed out") {
        // STARTTLS went out and the connection died in the handshake without an alert.
        Outcome::Refused(why)
    } else {
        Outcome::Untested(why)
    }
}

/// Judge the per-version outcomes (RFC 8996: TLS 1.0/1.1 must not be used; RFC 9325 §3.1.1:
/// TLS 1.2 required, 1.3 recommended).
fn judge_versions(outcomes: &[(TlsVersion, Outcome)]) -> CheckResult {
    let pick = |f: fn(&Outcome) -> bool| -> Vec<&'static str> {
        outcomes
            .iter()
            .filter(|(_, o)| f(o))
            .map(|(v, _)| version_name(*v))
            .collect()
    };
    let accepted = pick(|o| *o == Outcome::Accepted);
    let refused = pick(|o| matches!(o, Outcome::Refused(_)));
    let untested = pick(|o| matches!(o, Outcome::Untested(_)));
    let reasons: serde_json::Map<String, serde_json::Value> = outcomes
        .iter()
        .filter_map(|(v, o)| match o {
            Outcome::Refused(r) | Outcome::Untested(r) => {
                Some((version_name(*v).to_string(), json!(r)))
            }
            _ => None,
        })
        .collect();
    let list = |v: &[&str]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let legacy: Vec<&str> = accepted
        .iter()
        .copied()
        .filter(|v| *v == "1.0" || *v == "1.1")
        .collect();
    let modern = accepted.iter().any(|v| *v == "1.2" || *v == "1.3");
    let (status, summary) = if outcomes.iter().any(|(_, o)| *o == Outcome::NoStartTls) {
        (
            Status::Skip,
            "STARTTLS is not offered: no TLS version to probe".to_string(),
        )
    } else if !untested.is_empty() {
        (
            Status::Error,
            format!(
                "could not test TLS {} ({}); accepted: {}",
                untested.join(", "),
                outcomes
                    .iter()
                    .find_map(|(_, o)| match o {
                        Outcome::Untested(r) => Some(r.as_str()),
                        _ => None,
                    })
                    .unwrap_or(""),
                list(&accepted)
            ),
        )
    } else if !legacy.is_empty() {
        (
            Status::Warn,
            format!(
                "accepts obsolete TLS {} (RFC 8996); accepted: {}",
                legacy.join(", "),
                list(&accepted)
            ),
        )
    } else if !modern {
        (
            Status::Fail,
            format!("no TLS version accepted (refused: {})", list(&refused)),
        )
    } else if !accepted.contains(&"1.3") {
        (
            Status::Info,
            format!(
                "accepts TLS {}, not 1.3 (RFC 9325 §3.1.1 recommends it)",
                list(&accepted)
            ),
        )
    } else {
        (
            Status::Pass,
            format!(
                "accepts TLS {}; refuses {}",
                list(&accepted),
                list(&refused)
            ),
        )
    };
    CheckResult::new("tls.versions", status, summary)
        .with("accepted", json!(accepted))
        .with("refused", json!(refused))
        .with("untested", json!(untested))
        .with("reasons", serde_json::Value::Object(reasons))
}

/// `tls.versions` at `(host, ip)`: one connection per version, one after the other (the caller
/// holds the address's `--per-ip` permit), each STARTTLS limited to that version, then QUIT.
/// With it, the TLS session of the newest obsolete version (1.0/1.1) the server accepted, if
/// any: the certificate it presented there is judged when the main probe's TLS 1.2/1.3
/// handshake found none ([`super::probe::judge_old_tls_cert`]).
pub(crate) async fn tls_versions(
    host: &str,
    ip: IpAddr,
    o: &ProbeOptions,
) -> (CheckResult, Option<TlsInfo>) {
    let plan = Plan {
        helo: o.helo.clone(),
        protocol: Protocol::Esmtp,
        starttls: StartTls::Required,
        stop: Some(Stop {
            kind: StopKind::Quit,
            at: StopAt::Tls,
        }),
        ..Plan::default()
    };
    let mut outcomes = Vec::new();
    let mut old_session = None;
    for v in [
        TlsVersion::Tls1_0,
        TlsVersion::Tls1_1,
        TlsVersion::Tls1_2,
        TlsVersion::Tls1_3,
    ] {
        let events = run_session(host, ip, o, plan.clone(), Some(vec![v])).await;
        let outcome = handshake_outcome(&events);
        if matches!(v, TlsVersion::Tls1_0 | TlsVersion::Tls1_1) {
            let info = events.iter().find_map(|(_, ev)| match ev {
                Event::TlsStarted { info } => Some(info.clone()),
                _ => None,
            });
            old_session = info.or(old_session);
        }
        let stop = outcome == Outcome::NoStartTls;
        outcomes.push((v, outcome));
        if stop {
            break;
        }
    }
    (judge_versions(&outcomes), old_session)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, text: &str) -> Reply {
        Reply {
            code: Some(code),
            enhanced: None,
            lines: vec![text.to_string()],
            raw: crate::smtp::event::Bytes(Vec::new()),
            deviations: Vec::new(),
        }
    }

    fn talk(mail: Option<u16>, rcpt: Option<u16>) -> Dialogue {
        Dialogue {
            failure: Some("the server closed the connection".into()),
            mail: mail.map(|c| reply(c, "mail")),
            rcpt: rcpt.map(|c| reply(c, "rcpt")),
            tls: None,
        }
    }

    #[test]
    fn postmaster_verdicts() {
        let p = "postmaster@example.test";
        let st = |m, r| judge_postmaster(p, &talk(m, r)).status;
        assert_eq!(st(Some(250), Some(250)), Status::Pass);
        assert_eq!(st(Some(250), Some(251)), Status::Pass);
        assert_eq!(st(Some(250), Some(450)), Status::Warn);
        assert_eq!(st(Some(250), Some(550)), Status::Fail);
        assert_eq!(st(Some(550), None), Status::Fail);
        assert_eq!(st(Some(451), None), Status::Error);
        assert_eq!(st(None, None), Status::Error);
        let c = judge_postmaster(p, &talk(Some(250), Some(550)));
        assert_eq!(c.evidence["rcpt"], p);
        assert_eq!(c.evidence["rcpt_reply"], "550 rcpt");
    }

    #[test]
    fn relay_verdicts() {
        let st = |m, r| judge_relay(&talk(m, r)).status;
        assert_eq!(st(Some(250), Some(250)), Status::Fail);
        assert_eq!(st(Some(250), Some(554)), Status::Pass);
        assert_eq!(st(Some(250), Some(450)), Status::Warn);
        assert_eq!(st(Some(550), None), Status::Error);
        assert_eq!(st(None, None), Status::Error);
        assert!(judge_relay(&talk(None, None)).summary.contains("closed"));
    }

    /// Only a 5xx refuses: a 354 (or any other non-2xx/4xx/5xx) RCPT reply says nothing about
    /// relaying, and a RCPT that got no reply after MAIL was accepted is not MAIL's fault.
    #[test]
    fn only_a_5xx_refuses_and_a_lost_rcpt_is_not_blamed_on_mail() {
        let relay = |m, r| judge_relay(&talk(m, r));
        for code in [354, 334, 199] {
            let c = relay(Some(250), Some(code));
            assert_eq!(c.status, Status::Error, "{code}: {}", c.summary);
            assert!(
                !c.summary.contains("relaying refused"),
                "{code}: {}",
                c.summary
            );
            assert!(c.summary.contains(&format!("{code} rcpt")), "{}", c.summary);
        }
        let p = "postmaster@example.test";
        for code in [354, 199] {
            let c = judge_postmaster(p, &talk(Some(250), Some(code)));
            assert_eq!(c.status, Status::Error, "{code}: {}", c.summary);
            assert!(!c.summary.contains("> refused"), "{code}: {}", c.summary);
        }
        // MAIL accepted, then the session ended before RCPT's reply (timeout, close).
        let timed_out = Dialogue {
            failure: Some("no reply within 3 s".into()),
            mail: Some(reply(250, "ok")),
            rcpt: None,
            tls: None,
        };
        for c in [judge_postmaster(p, &timed_out), judge_relay(&timed_out)] {
            assert_eq!(c.status, Status::Error, "{}", c.summary);
            assert!(c.summary.contains("RCPT TO:<"), "{}", c.summary);
            assert!(c.summary.contains("no reply within 3 s"), "{}", c.summary);
            assert!(
                !c.summary.contains("MAIL FROM:<> deferred"),
                "{}",
                c.summary
            );
            assert!(
                !c.summary.contains("MAIL FROM:<> not accepted"),
                "{}",
                c.summary
            );
        }
    }

    #[test]
    fn version_verdicts() {
        use Outcome::*;
        use TlsVersion::*;
        let r = || Refused("alert protocol version".into());
        let st = |o: Vec<(TlsVersion, Outcome)>| judge_versions(&o).status;
        let modern = vec![
            (Tls1_0, r()),
            (Tls1_1, r()),
            (Tls1_2, Accepted),
            (Tls1_3, Accepted),
        ];
        assert_eq!(st(modern.clone()), Status::Pass);
        let c = judge_versions(&modern);
        assert_eq!(c.evidence["accepted"], json!(["1.2", "1.3"]));
        assert_eq!(c.evidence["refused"], json!(["1.0", "1.1"]));
        assert_eq!(
            st(vec![
                (Tls1_0, Accepted),
                (Tls1_1, r()),
                (Tls1_2, Accepted),
                (Tls1_3, Accepted)
            ]),
            Status::Warn
        );
        assert_eq!(
            st(vec![
                (Tls1_0, r()),
                (Tls1_1, r()),
                (Tls1_2, Accepted),
                (Tls1_3, r())
            ]),
            Status::Info
        );
        assert_eq!(
            st(vec![
                (Tls1_0, r()),
                (Tls1_1, r()),
                (Tls1_2, r()),
                (Tls1_3, r())
            ]),
            Status::Fail
        );
        assert_eq!(
            st(vec![
                (Tls1_0, r()),
                (Tls1_1, r()),
                (Tls1_2, Untested("timed out".into())),
                (Tls1_3, Accepted)
            ]),
            Status::Error
        );
        assert_eq!(st(vec![(Tls1_0, NoStartTls)]), Status::Skip);
    }

    #[test]
    fn opt_in_ids() {
        let none = OptIn::default();
        assert!(!none.enables("smtp.postmaster"));
        assert!(none.enables("tls.starttls"));
        for id in ["smtp.postmaster", "smtp.open-relay", "tls.versions"] {
            assert!(OptIn::flag_for(id).is_some());
            assert!(crate::check::model::find(id).is_some(), "{id}");
        }
    }
}
