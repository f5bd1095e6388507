//! `ehlo repl` / `ehlo replay` flags → `ReplConfig` / `ReplayConfig` (the same connection plan as a send).

use super::usage;
use crate::cli::args::{ConnArgs, ReplArgs, ReplayArgs};
use crate::cli::secrets;
use crate::error::Error;
use crate::net::dns::{DnsOptions, Family};
use crate::net::route::{Link, Target};
use crate::net::tls::TlsParams;
use crate::render::HumanOptions;
use crate::repl::{ReplConfig, ReplayConfig};

/// `ehlo repl`: the connection plan (without a target when none was given) and the session's
/// settings. A target that does not parse is a usage error.
pub(super) fn repl_config(a: ReplArgs) -> Result<ReplConfig, Error> {
    let mut cfg = session_config(&a.conn, a.target.as_deref())?;
    // The check the send's `--helo` has: a line break would send what follows as a command.
    cfg.ehlo = a
        .helo
        .as_deref()
        .map(|h| super::helo_name(Some(h), ""))
        .transpose()?;
    cfg.starttls = a.tls;
    cfg.record = a.record;
    cfg.strict = a.strict;
    Ok(cfg)
}

/// `ehlo replay`: the recording holds every command, the automatic ones included, so
/// `--helo`/`--tls` (which add steps in `ehlo repl`) are refused, not offered.
pub(super) fn replay_config(a: ReplayArgs) -> Result<ReplayConfig, Error> {
    if a.tls || a.helo.is_some() {
        let flag = if a.tls { "--tls" } else { "--helo" };
        return Err(usage(format!(
            "ehlo replay {flag}: the script holds its own EHLO and :starttls steps (as recorded), so replay takes no {flag}"
        )));
    }
    let mut session = session_config(&a.conn, Some(&a.server))?;
    // Its hints name replay's flags, not the REPL's commands.
    session.human.replay = true;
    Ok(ReplayConfig {
        script: a.file,
        session,
        keep_going: a.keep_going,
        any_file: a.allow_any_file,
        deadline: a.deadline.filter(|d| !d.is_zero()),
        deadline_note: String::new(),
    })
}

fn session_config(c: &ConnArgs, target: Option<&str>) -> Result<ReplConfig, Error> {
    let default_port = if c.tls_on_connect { 465 } else { 25 };
    let target = target
        .map(|t| {
            Target::parse(
                t,
                c.port,
                default_port,
                crate::cli::args::parse_service_port,
            )
        })
        .transpose()
        .map_err(usage)?;
    let link = Link {
        family: Family::from_flags(c.ipv4, c.ipv6),
        dns: DnsOptions::with_timeout(c.dns_server, c.timeout),
        tls: TlsParams {
            verify: !c.insecure,
            ca_path: c.tls_ca_path.clone(),
            ..TlsParams::default()
        },
        tls_on_connect: c.tls_on_connect,
        timeout: c.timeout,
        connect_timeout: c.timeout,
        ..Link::default()
    };
    crate::net::tls::check(&link.tls).map_err(usage)?;
    Ok(ReplConfig {
        target,
        port: c.port,
        link,
        ehlo: None,
        starttls: false,
        human: HumanOptions {
            color: c.color,
            explain: c.explain,
            repl: true,
            ..HumanOptions::default()
        },
        show_secrets: c.show_secrets,
        log: c.log.clone(),
        record: None,
        record_note: String::new(),
        auth_password: secrets::password(
            None,
            c.auth_password_file.as_deref(),
            secrets::PasswordEnv::Read,
        )
        .map_err(usage)?,
        auth_token: c
            .auth_token_file
            .as_deref()
            .map(|p| secrets::first_line("--auth-token-file", p))
            .transpose()
            .map_err(usage)?,
        allow_plaintext_auth: c.allow_plaintext_auth,
        json: c.json,
        strict: false,
        strict_note: String::new(),
        timeout_named: "--timeout".into(),
    })
}
