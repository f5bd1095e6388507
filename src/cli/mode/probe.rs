//! `ehlo probe` flags → [`crate::probe::ProbeConfig`]: the connection plan, the addresses the
//! probes use, the CI grammar (`--only/--skip/--expect` against the probe ids), and the
//! confirmation asked on a terminal before probes that send mail.

use crate::check::select::{Expect, Selection};
use crate::cli::args::ProbeArgs;
use crate::cli::mode::Environment;
use crate::cli::secrets;
use crate::error::Error;
use crate::net::dns::{DnsOptions, Family};
use crate::net::route::{Link, Target};
use crate::net::tls::TlsParams;
use crate::probe::ProbeConfig;
use crate::probe::script::{Ctx, FIELDS, PROBES, sends_mail};

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// An address as the probes put it in `MAIL FROM:<…>` / `RCPT TO:<…>`: `local@domain`, no
/// brackets, spaces or line breaks (which would smuggle a command of our own).
fn address(flag: &str, a: &str) -> Result<String, Error> {
    let a = a.trim().trim_start_matches('<').trim_end_matches('>');
    let ok = a
        .rsplit_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
        && !a.contains(|c: char| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if !ok {
        return Err(usage(format!(
            "{flag} '{}' is not an address (local@domain)",
            a.escape_debug()
        )));
    }
    Ok(a.to_string())
}

/// Validate the flags; ask before mail goes out (on a terminal, unless `--yes`).
pub(crate) fn probe_config(a: ProbeArgs, env: &Environment) -> Result<ProbeConfig, Error> {
    let Some(to) = a.to.as_deref() else {
        return Err(usage(
            "--to ADDRESS is required: a mailbox you own, the only one that receives \
             mail (the smuggle.* probes send messages); nothing was sent",
        ));
    };
    let to = address("--to", to)?;
    let from = match &a.from {
        Some(f) => address("--from", f)?,
        None => to.clone(),
    };
    let relay_to = address("--relay-to", &a.relay_to)?;
    let helo = super::helo_name(a.helo.as_deref(), &env.hostname)?;
    // The probes' transcripts and EHLO lines take one word.
    if helo.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(usage("--helo must be one word"));
    }
    let table = PROBES;
    let selection = Selection::new_in(table, &a.only, &a.skip).map_err(|e| usage(e.to_string()))?;
    let expects = a
        .expect
        .iter()
        .map(|e| Expect::parse_in(table, FIELDS, "inconclusive", e))
        .collect::<Result<Vec<_>, _>>()
        .map(Expect::dedup)
        .map_err(|e| usage(e.to_string()))?;
    selection
        .ensure_runs(table, |_| None)
        .map_err(|e| usage(e.to_string()))?;
    for e in &expects {
        selection
            .ensure_reported(e)
            .map_err(|e| usage(e.to_string()))?;
    }
    let default_port = if a.tls_on_connect { 465 } else { 25 };
    let target = Target::parse(
        &a.target,
        a.port,
        default_port,
        crate::cli::args::parse_service_port,
    )
    .map_err(|e| usage(e.to_string()))?;
    let link = Link {
        family: Family::from_flags(a.ipv4, a.ipv6),
        dns: DnsOptions::with_timeout(a.dns_server, a.timeout),
        tls: TlsParams {
            verify: !a.insecure,
            ca_path: a.tls_ca_path.clone(),
            ..TlsParams::default()
        },
        tls_on_connect: a.tls_on_connect,
        timeout: a.timeout,
        connect_timeout: a.timeout,
        ..Link::default()
    };
    crate::net::tls::check(&link.tls).map_err(|e| usage(e.to_string()))?;
    // A report that cannot be written is refused here, as `ehlo check` refuses it: before any
    // probe sends mail, one line on stderr (under `--json` also the report's `schema`, `error`
    // and `summary` lines; a refusal inside the run once left no `summary`).
    if let Some(p) = &a.junit {
        crate::render::junit::check_writable(p).map_err(|e| usage(e.to_string()))?;
    }
    let auth = match &a.auth_user {
        None => None,
        Some(user) => {
            // As the send: credentials never cross an unencrypted connection unasked. With
            // --tls a probe authenticates only after STARTTLS succeeded.
            if !a.tls && !a.tls_on_connect && !a.allow_plaintext_auth {
                super::auth::confirm_plaintext_auth(env)?;
            }
            // The send's order: the command line's file beats the environment (then a prompt).
            let found = secrets::password(
                None,
                a.auth_password_file.as_deref(),
                secrets::PasswordEnv::Read,
            )
            .map_err(|e| usage(e.to_string()))?;
            let pass = if let Some(p) = found {
                p
            } else if let Some(prompt) = env.prompt {
                let p = prompt(&format!("Password for {user}: "), false)
                    .map_err(|e| usage(format!("cannot ask for the password: {e}")))?;
                crate::smtp::auth::Secret::new(p.trim_end_matches(['\r', '\n']))
            } else {
                return Err(usage(
                    "--auth-user needs a password: --auth-password-file FILE or \
                     EHLO_AUTH_PASSWORD (no terminal to ask on); nothing was sent",
                ));
            };
            let mechanism = a.auth.to_ascii_uppercase();
            if !crate::smtp::auth::password_mechanisms().any(|m| m == mechanism) {
                return Err(usage(format!(
                    "--auth {}: not a password mechanism ehlo implements ({})",
                    a.auth,
                    crate::smtp::auth::password_mechanisms()
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            Some(crate::probe::script::ProbeAuth {
                mechanism,
                creds: crate::smtp::auth::Credentials {
                    user: user.clone(),
                    password: Some(pass),
                    // Drawn now, as the send does: the core has no randomness and no clock.
                    nonce: crate::net::tls::scram_nonce(),
                    time: std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .ok()
                        .map(|d| d.as_secs()),
                    ..Default::default()
                },
            })
        }
    };
    let mut token = [0u8; 4];
    if openssl::rand::rand_bytes(&mut token).is_err() {
        token = env.message.pid.to_le_bytes();
    }
    let token: String = token.iter().map(|b| format!("{b:02x}")).collect();
    let cfg = ProbeConfig {
        plan: link.to(target),
        ctx: Ctx {
            helo,
            from,
            to,
            relay_to,
            token,
            starttls: a.tls,
            implicit_tls: a.tls_on_connect,
            auth,
            date: crate::cli::message::date(env.message.now()),
        },
        selection,
        expects,
        fail_on: a.fail_on,
        untested_ok: a.untested_ok,
        json: a.json,
        color: a.color,
        junit: a.junit,
        // `0` is no deadline, as `ehlo check`'s.
        deadline: a.deadline.filter(|d| !d.is_zero()),
        deadline_named: "--deadline".into(),
    };
    let mailing = cfg
        .selected()
        .into_iter()
        .filter(|id| sends_mail(id))
        .count();
    if mailing > 0
        && !a.yes
        && let Some(prompt) = env.prompt
    {
        let q = format!(
            "ehlo probe: {mailing} probe{} will send up to {} messages to {} through {}. Only probe a server you operate. Continue? [y/N] ",
            crate::smtp::event::plural_s(mailing),
            mailing * 2,
            cfg.ctx.to,
            cfg.plan.target
        );
        let answer = prompt(&q, true).map_err(|e| usage(format!("cannot ask: {e}")))?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            return Err(usage(
                "not confirmed; nothing was sent (--yes skips the question, --skip 'smuggle.*' sends no mail)",
            ));
        }
    }
    Ok(cfg)
}
