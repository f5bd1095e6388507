//! `Cli` → [`Mode`]: validation and normalisation only (no DNS, no sockets), building the
//! `smtp::client::Plan` and the driver settings (ripgrep's lowargs/hiargs split). Every failure is an [`Error::Usage`] whose one-line reason names the flag.
//!
//! The only outside world read here: environment variables (`LOGNAME`/`USER` for the default
//! sender), the host name, the clock (for the message's `Date`), `--body`/`--data` files or stdin,
//! whether `--tls-ca-path` exists, and for AUTH the secret files, `~/.netrc` and a terminal prompt
//! ([`super::secrets`]). The environment parts go through [`Environment`] so tests can fake them.

use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

use crate::cli::args::{
    Cli, Command, ConnArgs, DemoArgs, MessageArgs, PartArg, PartKind, ReplArgs, ReplayArgs,
    SendArgs, ServeArgs, ServerSpec, XCLIENT_ATTRS, XclientItem,
};
use crate::cli::message::{self, MessageContext, MessageSpec, Part};
use crate::cli::secrets;
use crate::error::Error;
use crate::net::dns::{DnsOptions, Family};
use crate::net::proxy::{ProxyAddrs, ProxyFamily};
use crate::net::route::{ConnectPlan, Link, Target, Transport};
use crate::net::tls::{ClientCert, PemOut, TlsParams};
use crate::render::{ColorChoice, Format, HumanOptions, Kinds};
use crate::repl::{ReplConfig, ReplayConfig};
use crate::serve::ServeOptions;
use crate::smtp::auth::{Credentials, SUPPORTED, Secret};
use crate::smtp::client::{
    AuthPlan, AuthRequirement, ExtPlan, Plan, Protocol, StartTls, Stop, StopAt, StopKind,
    XclientCommand, XclientPlan,
};
use crate::smtp::data::Fixup;
use crate::smtp::ext::{Attribute, Dsn, Ret};

/// Everything a one-shot send needs.
#[derive(Debug, Clone)]
pub struct SendConfig {
    /// Where and how to connect.
    pub connect: ConnectPlan,
    /// The protocol plan.
    pub plan: Plan,
    /// Output.
    pub format: Format,
    /// `--dump-mail`: print the message and send nothing.
    pub dump_mail: bool,
    /// Info lines about the composed message (e.g. inline parts' Content-IDs), shown before
    /// the transcript (on stderr with `--dump-mail`).
    pub notes: Vec<String>,
    /// `--output-file*`: where the transcript's streams go instead of the terminal.
    pub output: OutputFiles,
}

/// `--output-file`, `--output-file-stdout`, `--output-file-stderr`: a file (truncated when the
/// run starts) per stream; `None` is the terminal. `&STDOUT` / `&STDERR` name the terminal's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputFiles {
    /// Where stdout's lines go.
    pub stdout: Option<std::path::PathBuf>,
    /// Where stderr's (`***`) lines go.
    pub stderr: Option<std::path::PathBuf>,
}

/// What to run.
#[derive(Debug, Clone)]
pub enum Mode {
    /// One-shot send.
    Send(Box<SendConfig>),
    /// `ehlo serve`.
    Serve(Box<ServeOptions>),
    /// `ehlo demo`.
    Demo(Format),
    /// `ehlo repl`.
    Repl(Box<ReplConfig>),
    /// `ehlo replay`.
    Replay(Box<ReplayConfig>),
    /// `--dump-config`: the merged configuration, as text to print.
    DumpConfig(String),
    /// `--dump-mail`: the composed message, printed instead of sent.
    DumpMail {
        /// Notes about the message (stderr).
        notes: Vec<String>,
        /// The message.
        message: Vec<u8>,
    },
    /// `ehlo explain`: the text to explain, the phase if given, JSON or not.
    Explain {
        /// The words given (`-` = read stdin).
        text: Vec<String>,
        /// `--phase`.
        phase: Option<crate::smtp::event::Phase>,
        /// `--json`.
        json: bool,
    },
    /// `ehlo check`.
    Check(Box<crate::check::CheckConfig>),
}

/// Largest `--body`/`--data` file or stdin ehlo reads (memory stays bounded on `--data @/dev/zero`).
pub const MAX_MESSAGE_BYTES: u64 = 64 << 20;

/// The parts of the process environment the configuration depends on.
pub struct Environment {
    /// `$LOGNAME`, else `$USER` (local part of the default sender).
    pub user: Option<String>,
    /// The password database's name for the real user id (the default sender's local part
    /// without `$LOGNAME`/`$USER`, or with `--force-getpwuid`).
    pub pw_user: Option<String>,
    /// Local host name (default `--helo`, default sender's domain, `Message-Id`).
    pub hostname: String,
    /// Clock and pid for the default message.
    pub message: MessageContext,
    /// Reads all of stdin (for `--body -` / `--data -`), at most `limit` bytes.
    pub read_stdin: fn(limit: u64) -> std::io::Result<Vec<u8>>,
    /// `$HOME`, for `~/.netrc`.
    pub home: Option<std::path::PathBuf>,
    /// Asks the user on the terminal; `None` when stdin is not a terminal (no prompts then).
    pub prompt: Option<crate::cli::secrets::Prompt>,
}

impl Environment {
    /// The real process environment.
    pub fn current() -> Environment {
        let hostname = gethostname::gethostname()
            .to_string_lossy()
            .trim()
            .to_string();
        let hostname = if hostname.is_empty() {
            "localhost".to_string()
        } else {
            hostname
        };
        let user = ["LOGNAME", "USER"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .find(|v| !v.trim().is_empty());
        let pw_user = nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map(|u| u.name)
            .filter(|n| !n.is_empty());
        Environment {
            user,
            pw_user,
            message: MessageContext::current(&hostname),
            hostname,
            read_stdin: |limit| {
                let mut buf = Vec::new();
                std::io::stdin().lock().take(limit).read_to_end(&mut buf)?;
                Ok(buf)
            },
            home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(std::path::PathBuf::from),
            prompt: std::io::IsTerminal::is_terminal(&std::io::stdin())
                .then_some(crate::cli::secrets::tty_prompt as crate::cli::secrets::Prompt),
        }
    }
}

/// Validate and normalise the parsed command line.
pub fn from_cli(cli: Cli) -> Result<Mode, Error> {
    from_cli_in(cli, &Environment::current())
}

/// [`from_cli`] with an explicit environment (tests).
pub fn from_cli_in(cli: Cli, env: &Environment) -> Result<Mode, Error> {
    match cli.command {
        Some(Command::Serve(args)) => serve_options(*args).map(|o| Mode::Serve(Box::new(o))),
        Some(Command::Demo(DemoArgs { json, color })) => Ok(Mode::Demo(simple_format(json, color))),
        Some(Command::Repl(a)) => repl_config(*a).map(|c| Mode::Repl(Box::new(c))),
        Some(Command::Replay(a)) => replay_config(*a).map(|c| Mode::Replay(Box::new(c))),
        Some(Command::Explain(a)) => Ok(Mode::Explain {
            text: a.text,
            phase: a.phase.map(|p| p.phase()),
            json: a.json,
        }),
        Some(Command::Check(a)) => check_config(*a, env).map(|c| Mode::Check(Box::new(c))),
        None => send_config(cli.send, env).map(|c| Mode::Send(Box::new(c))),
    }
}

/// `ehlo repl`: the connection plan (without a target when none was given) and the session's
/// settings. A target that does not parse is a usage error.
fn repl_config(a: ReplArgs) -> Result<ReplConfig, Error> {
    let mut cfg = session_config(&a.conn, a.target.as_deref())?;
    cfg.record = a.record;
    Ok(cfg)
}

/// `ehlo replay`: the recording holds every command, the automatic ones included, so no
/// `--ehlo`/`--tls` steps are added.
fn replay_config(a: ReplayArgs) -> Result<ReplayConfig, Error> {
    let mut session = session_config(&a.conn, Some(&a.server))?;
    session.ehlo = None;
    session.starttls = false;
    Ok(ReplayConfig {
        script: a.file,
        session,
    })
}

fn session_config(c: &ConnArgs, target: Option<&str>) -> Result<ReplConfig, Error> {
    let default_port = if c.tls_on_connect { 465 } else { 25 };
    let target = target
        .map(|t| Target::parse(t, c.port, default_port))
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
    Ok(ReplConfig {
        target,
        port: c.port,
        link,
        ehlo: c.ehlo.clone(),
        starttls: c.tls,
        human: HumanOptions {
            color: c.color,
            explain: c.explain,
            repl: true,
            ..HumanOptions::default()
        },
        show_secrets: c.show_secrets,
        log: c.log.clone(),
        record: None,
        auth_password: c
            .auth_password_file
            .as_deref()
            .map(|p| secrets::first_line("--auth-password-file", p))
            .transpose()
            .map_err(usage)?,
        auth_token: c
            .auth_token_file
            .as_deref()
            .map(|p| secrets::first_line("--auth-token-file", p))
            .transpose()
            .map_err(usage)?,
        allow_plaintext_auth: c.allow_plaintext_auth,
    })
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

fn simple_format(json: bool, color: ColorChoice) -> Format {
    if json {
        Format::Json
    } else {
        Format::Human(HumanOptions {
            color,
            ..HumanOptions::default()
        })
    }
}

/// Largest `ehlo check @FILE` or stdin list read (a million domains is about 20 MiB).
const MAX_DOMAIN_LIST: u64 = 64 << 20;

/// `ehlo check` flags → [`crate::check::CheckConfig`]: domain lists read, the CI grammar
/// (`--expect`, `--waive`, `--only`, `--skip`) validated so that a typo is exit 1, not a run.
fn check_config(
    a: crate::cli::args::CheckArgs,
    env: &Environment,
) -> Result<crate::check::CheckConfig, Error> {
    use crate::check::select::{Expect, Selection, Waiver};
    let mut domains = Vec::new();
    let mut stdin_read = false;
    for arg in &a.domains {
        let text = if arg == "-" {
            if stdin_read {
                return Err(usage("check: '-' (stdin) given twice"));
            }
            stdin_read = true;
            let bytes = (env.read_stdin)(MAX_DOMAIN_LIST).map_err(|e| {
                usage(format!(
                    "check: cannot read the domain list from stdin: {e}"
                ))
            })?;
            String::from_utf8_lossy(&bytes).into_owned()
        } else if let Some(path) = arg.strip_prefix('@') {
            let f = std::fs::File::open(path)
                .map_err(|e| usage(format!("check: cannot read {path}: {e}")))?;
            let mut buf = Vec::new();
            f.take(MAX_DOMAIN_LIST + 1)
                .read_to_end(&mut buf)
                .map_err(|e| usage(format!("check: cannot read {path}: {e}")))?;
            if buf.len() as u64 > MAX_DOMAIN_LIST {
                return Err(usage(format!(
                    "check: {path} is larger than {} MiB",
                    MAX_DOMAIN_LIST >> 20
                )));
            }
            String::from_utf8_lossy(&buf).into_owned()
        } else {
            domains.push(arg.trim().to_string());
            continue;
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if !line.is_empty() {
                domains.push(line.to_string());
            }
        }
    }
    if domains.is_empty() {
        return Err(usage("check: no domain to check (the list is empty)"));
    }
    let selection = Selection::new(&a.only, &a.skip).map_err(usage)?;
    let expects = a
        .expect
        .iter()
        .map(|e| Expect::parse(e))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)?;
    let optin = crate::check::optin::OptIn {
        rcpt: a.rcpt_probe,
        relay: a.relay_probe,
        tls: a.tls_probe,
    };
    // An expectation about a probe that will not run could never be met: say so now.
    for e in &expects {
        if let Some(flag) = crate::check::optin::OptIn::flag_for(e.id())
            && !optin.enables(e.id())
        {
            return Err(usage(format!(
                "check: --expect '{}' needs {flag} (the {} check is opt-in)",
                e.text(),
                e.id()
            )));
        }
    }
    let waivers = a
        .waive
        .iter()
        .map(|w| Waiver::parse(w))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)?;
    let family = if a.ipv4 {
        Family::V4
    } else if a.ipv6 {
        Family::V6
    } else {
        Family::Any
    };
    Ok(crate::check::CheckConfig {
        domains,
        dns: DnsOptions::with_timeout(a.dns_server, a.timeout),
        family,
        probe: crate::check::probe::ProbeOptions {
            port: a.port,
            helo: a.helo.unwrap_or_else(|| env.hostname.clone()),
            timeout: a.timeout,
            ca_path: a.tls_ca_path,
            cert_days: i64::from(a.cert_days),
        },
        optin,
        concurrency: a.concurrency as usize,
        per_ip: a.per_ip as usize,
        deadline: a.deadline.filter(|d| !d.is_zero()),
        allow_private: a.allow_private,
        mta_sts_port: a.mta_sts_port,
        selection,
        expects,
        waivers,
        fail_on: a.fail_on,
        json: a.json,
        color: a.color,
        junit: a.junit,
    })
}

fn serve_options(a: ServeArgs) -> Result<ServeOptions, Error> {
    let max_sessions = a
        .max_sessions
        .map(usize::try_from)
        .transpose()
        .map_err(|_| usage("--max-sessions: too large"))?;
    Ok(ServeOptions {
        listen: a.listen,
        tls_on_connect: a.tls_on_connect,
        starttls: a.starttls,
        cert: a.tls_cert,
        key: a.tls_key,
        users: a.user,
        accept_any_auth: a.accept_any_auth,
        auth_before_tls: a.auth_before_tls,
        faults: a.fail,
        delays: a.delay,
        hide: a.hide,
        lmtp: a.lmtp,
        max_size: a.max_size,
        maildir: a.maildir,
        mbox: a.mbox,
        seed: a.seed,
        hostname: a.hostname,
        max_sessions,
        max_connections: usize::try_from(a.max_connections)
            .map_err(|_| usage("--max-connections: too large"))?,
        idle_timeout: a.idle_timeout,
        max_auth_failures: a.max_auth_failures,
        format: simple_format(a.json, a.color),
        quiet: a.quiet,
    })
}

/// A value that goes into an SMTP command line must not contain CR or LF: it would end the
/// command early and smuggle a second one.
fn no_line_break(flag: &str, value: &str) -> Result<(), Error> {
    if value.contains(['\r', '\n']) {
        return Err(usage(format!(
            "{flag}: '{}' contains a line break",
            value.escape_debug()
        )));
    }
    Ok(())
}

/// Strip one pair of enclosing angle brackets (`<a@b>` → `a@b`, `<>` → ``): the session adds its
/// own, and users often paste addresses with them.
fn strip_angles(addr: &str) -> &str {
    addr.strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(addr)
}

/// swaks's older bare-file form (`--body /path/to/gtube`, still in its quick start): an argument
/// without `@` that names an existing file is that file's content. Returns the path and the
/// one-line deprecation note to show.
fn bare_file<'a>(flag: &str, arg: &'a str) -> Option<(&'a str, String)> {
    if arg.is_empty() || arg.starts_with(['@', '-']) || arg.contains(['\n', '\r']) {
        return None;
    }
    Path::new(arg).is_file().then(|| {
        (
            arg,
            format!("{flag} {arg}: reading the file (swaks's deprecated bare-file form; write {flag} @{arg})"),
        )
    })
}

/// Read `TEXT`, `-` (stdin) or `@FILE`; `@@X` is the literal text `@X` (swaks's escape). A bare
/// argument naming an existing file is read too ([`bare_file`]), with a note in `notes`.
/// `text` converts a literal argument (for `--data`'s `\n` rule).
fn read_content(
    flag: &str,
    arg: &str,
    env: &Environment,
    text: fn(&str) -> Vec<u8>,
    notes: &mut Vec<String>,
) -> Result<Vec<u8>, Error> {
    let owned;
    let arg = match bare_file(flag, arg) {
        Some((path, note)) => {
            notes.push(note);
            owned = format!("@{path}");
            owned.as_str()
        }
        None => arg,
    };
    let too_big = || {
        usage(format!(
            "{flag}: larger than {} MiB",
            MAX_MESSAGE_BYTES >> 20
        ))
    };
    let bytes = if arg == "-" {
        (env.read_stdin)(MAX_MESSAGE_BYTES + 1)
            .map_err(|e| usage(format!("{flag}: cannot read stdin: {e}")))?
    } else if let Some(literal) = arg.strip_prefix("@@") {
        text(&format!("@{literal}"))
    } else if let Some(path) = arg.strip_prefix('@') {
        let mut buf = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_MESSAGE_BYTES + 1).read_to_end(&mut buf))
            .map_err(|e| usage(format!("{flag}: cannot read {path}: {e}")))?;
        buf
    } else {
        text(arg)
    };
    if bytes.len() as u64 > MAX_MESSAGE_BYTES {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Trimmed, non-empty addresses from a comma-split list (swaks keeps the whitespace; ehlo
/// trims it so `-t "a@x, b@y"` does what it looks like).
fn addresses(flag: &str, list: &[String]) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for a in list {
        let a = strip_angles(a.trim()).trim();
        if a.is_empty() {
            continue;
        }
        no_line_break(flag, a)?;
        no_space(flag, a)?;
        out.push(a.to_string());
    }
    Ok(out)
}

/// An envelope address has no white space (RFC 5321 §4.1.2) outside a quoted local part; a
/// display name belongs in a header (`--header 'To: Name <a@b>'`).
fn no_space(flag: &str, addr: &str) -> Result<(), Error> {
    let unquoted = match addr.strip_prefix('"').and_then(|a| a.rsplit_once("\"@")) {
        Some((_, domain)) => domain,
        None => addr,
    };
    if unquoted.contains(char::is_whitespace) {
        return Err(usage(format!(
            "{flag}: '{}' contains white space; give the bare address (a display name goes \
             in a header, e.g. --header 'To: Name <a@b>')",
            addr.escape_debug()
        )));
    }
    Ok(())
}

fn mechanisms(
    flag: &str,
    list: &[String],
    aliases: &[(String, String)],
) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for m in list {
        let m = m.trim().to_ascii_uppercase();
        if m.is_empty() {
            continue;
        }
        let alias = aliases.iter().any(|(a, _)| *a == m)
            || crate::smtp::auth::ALIASES.iter().any(|(a, _)| *a == m);
        if !alias && !SUPPORTED.contains(&m.as_str()) {
            return Err(usage(format!(
                "{flag}: ehlo does not implement {m} (it knows {})",
                SUPPORTED.join(", ")
            )));
        }
        if !out.contains(&m) {
            out.push(m);
        }
    }
    Ok(out)
}

/// `--auth-map ALIAS=TYPE,…` (swaks): upper-case pairs whose TYPE ehlo implements.
fn auth_map(list: &[String]) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for item in list.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        let Some((alias, mech)) = item.split_once('=') else {
            return Err(usage(format!(
                "--auth-map: '{item}' is not ALIAS=TYPE (e.g. --auth-map SPA=NTLM)"
            )));
        };
        let (alias, mech) = (
            alias.trim().to_ascii_uppercase(),
            mech.trim().to_ascii_uppercase(),
        );
        if alias.is_empty() || !SUPPORTED.contains(&mech.as_str()) {
            return Err(usage(format!(
                "--auth-map: '{item}': TYPE must be a mechanism ehlo implements ({})",
                SUPPORTED.join(", ")
            )));
        }
        out.push((alias, mech));
    }
    Ok(out)
}

/// `--auth-extra KEY=VALUE,…` (swaks): the DIGEST-MD5 / NTLM settings, into the credentials.
/// Keys are case-insensitive; an unknown key is refused rather than ignored.
fn auth_extra(list: &[String], creds: &mut Credentials) -> Result<(), Error> {
    for item in list.iter().filter(|i| !i.trim().is_empty()) {
        let Some((key, value)) = item.split_once('=') else {
            return Err(usage(format!(
                "--auth-extra: '{item}' is not KEY=VALUE (e.g. --auth-extra realm=example.com)"
            )));
        };
        let value = Some(value.to_string());
        match key.trim().to_ascii_lowercase().as_str() {
            "realm" | "domain" => creds.realm = value,
            "dmd5-serv-type" => creds.service = value,
            "dmd5-host" => creds.service_host = value,
            "dmd5-serv-name" => creds.service_name = value,
            other => {
                return Err(usage(format!(
                    "--auth-extra: unknown key '{other}' (ehlo knows realm, domain, \
                     dmd5-serv-type, dmd5-host, dmd5-serv-name)"
                )));
            }
        }
    }
    Ok(())
}

/// AUTH without TLS sends the credentials readable on the wire: ask on a terminal, refuse
/// non-interactively (the run would otherwise leak them silently from a script).
fn confirm_plaintext_auth(env: &Environment) -> Result<(), Error> {
    const FIX: &str =
        "add --tls (STARTTLS) or --tls-on-connect, or --allow-plaintext-auth to send them anyway";
    let Some(prompt) = env.prompt else {
        return Err(usage(format!(
            "--auth without TLS would send the credentials unencrypted: {FIX}"
        )));
    };
    let answer = prompt(
        "AUTH without TLS: send credentials unencrypted? [y/N] ",
        true,
    )
    .map_err(|e| usage(format!("cannot read the answer from the terminal: {e}")))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(usage(format!(
            "AUTH over an unencrypted connection declined: {FIX}"
        )))
    }
}

fn is_oauth(mechanism: &str) -> bool {
    matches!(mechanism, "XOAUTH2" | "OAUTHBEARER")
}

/// User, password and token for AUTH, from (in order) the flag, the environment (both through
/// clap), the `--auth-*-file`, `~/.netrc` (password and login only), and a prompt on a terminal.
/// Without a terminal a missing secret is a usage error naming the sources (for `--auth` and
/// `--auth-optional-strict`; `--auth-optional` carries on and lets the session skip AUTH).
type Found = (Option<String>, Option<Secret>, Option<Secret>);
fn find_secrets(
    auth: &crate::cli::args::AuthArgs,
    mechanisms: &[String],
    requirement: AuthRequirement,
    host: Option<&str>,
    env: &Environment,
) -> Result<Found, Error> {
    // `-au` / `-ap` without a value (swaks: .netrc, then a prompt) arrive empty.
    let mut user = auth
        .auth_user
        .as_deref()
        .filter(|u| !u.is_empty())
        .map(|u| strip_angles(u).to_string());
    let mut password = auth.auth_password.clone().filter(|p| !p.is_empty());
    if password.is_none()
        && let Some(f) = &auth.auth_password_file
    {
        password = Some(secrets::first_line("--auth-password-file", f).map_err(usage)?);
    }
    let mut token = auth.auth_oauth_token.clone();
    if token.is_none()
        && let Some(f) = &auth.auth_token_file
    {
        token = Some(secrets::first_line("--auth-token-file", f).map_err(usage)?);
    }
    // Which kinds of secret the requested mechanisms can use (none named = any offered).
    let any = mechanisms.is_empty();
    let takes_token = any || mechanisms.iter().any(|m| is_oauth(m));
    let takes_password = any || mechanisms.iter().any(|m| !is_oauth(m));
    // XOAUTH2/OAUTHBEARER named explicitly also take a password as the token (see
    // `auth::bearer_token`): `-a XOAUTH2 --auth-password TOKEN` works.
    let satisfied = |p: &Option<Secret>, t: &Option<Secret>| {
        (takes_password && p.is_some()) || (takes_token && (t.is_some() || (!any && p.is_some())))
    };
    if !satisfied(&password, &token)
        && takes_password
        && let Some(e) = secrets::netrc_file(env.home.as_deref(), host, user.as_deref())
        && e.password.is_some()
    {
        if user.is_none() {
            user = e.login;
        }
        password = e.password;
    }
    // `-au` without a value asks for the user name, like a missing password.
    let user_asked = auth.auth_user.as_deref() == Some("") && user.is_none();
    if satisfied(&password, &token) && !user_asked {
        return Ok((user, password, token));
    }
    let wants_token = !takes_password;
    let Some(prompt) = env.prompt else {
        if requirement == AuthRequirement::Optional {
            return Ok((user, password, token));
        }
        if user_asked {
            return Err(usage(
                "--auth-user was given without a user name and ~/.netrc has none for this server \
                 (stdin is not a terminal, so ehlo cannot prompt): give --auth-user USER",
            ));
        }
        let at = host.map(|h| format!(" for {h}")).unwrap_or_default();
        return Err(usage(if wants_token {
            "--auth: no OAuth token: give --auth-oauth-token, $EHLO_AUTH_TOKEN or --auth-token-file (stdin is not a terminal, so ehlo cannot prompt)"
                .to_string()
        } else {
            format!(
                "--auth: no password: give --auth-password, $EHLO_AUTH_PASSWORD, --auth-password-file or a ~/.netrc entry{at} (stdin is not a terminal, so ehlo cannot prompt)"
            )
        }));
    };
    let ask = |q: &str, echo: bool| {
        prompt(q, echo).map_err(|e| usage(format!("cannot read from the terminal: {e}")))
    };
    let server = host.unwrap_or("the server");
    if user.is_none() {
        let u = ask(&format!("AUTH user name for {server}: "), true)?;
        user = Some(strip_angles(u.trim()).to_string());
    }
    if satisfied(&password, &token) {
        return Ok((user, password, token));
    }
    let who = user.as_deref().unwrap_or_default();
    if wants_token {
        token = Some(Secret::new(ask(
            &format!("OAuth token for {who} at {server} (not echoed): "),
            false,
        )?));
    } else {
        password = Some(Secret::new(ask(
            &format!("Password for {who} at {server} (not echoed): "),
            false,
        )?));
    }
    Ok((user, password, token))
}

fn family_of(ip: IpAddr) -> Family {
    if ip.is_ipv4() { Family::V4 } else { Family::V6 }
}

fn check_family(flag: &str, family: Family, ip: IpAddr) -> Result<(), Error> {
    let other = family_of(ip);
    if family != Family::Any && family != other {
        let (want, got) = if family == Family::V4 {
            ("-4", "IPv6")
        } else {
            ("-6", "IPv4")
        };
        return Err(usage(format!(
            "{flag}: {ip} is an {got} address but {want} was given"
        )));
    }
    Ok(())
}

/// The domain to look up MX for, from the last recipient; `[1.2.3.4]` / `[IPv6:…]` literals
/// become a direct host (RFC 5321 §4.1.3).
fn route_of(rcpt: &str) -> Result<Result<String, IpAddr>, Error> {
    let Some((_, domain)) = rcpt.rsplit_once('@') else {
        return Err(usage(format!(
            "--to: '{rcpt}' has no domain to look up an MX for (add @domain or give --server)"
        )));
    };
    let domain = domain.trim_end_matches('.');
    if let Some(lit) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        // `get` rather than indexing: a non-ASCII literal must not panic on a char boundary.
        let lit = match (lit.get(..5), lit.get(5..)) {
            (Some(tag), Some(addr)) if tag.eq_ignore_ascii_case("ipv6:") => addr,
            _ => lit,
        };
        return lit
            .parse::<IpAddr>()
            .map(Err)
            .map_err(|_| usage(format!("--to: '[{lit}]' in '{rcpt}' is not an IP address")));
    }
    if domain.is_empty() {
        return Err(usage(format!("--to: '{rcpt}' has an empty domain")));
    }
    Ok(Ok(domain.to_ascii_lowercase()))
}

fn stop_of(a: &crate::cli::args::StopArgs) -> Option<Stop> {
    if let Some(p) = a.quit_after {
        Some(Stop {
            kind: StopKind::Quit,
            at: p.0.at(),
        })
    } else if let Some(p) = a.drop_after {
        Some(Stop {
            kind: StopKind::Drop,
            at: p.at(),
        })
    } else {
        a.drop_after_send.map(|p| Stop {
            kind: StopKind::DropAfterSend,
            at: p.at(),
        })
    }
}

/// Does the session stop before it sends any RCPT (so no recipient is needed)?
fn stops_before_rcpt(stop: Option<Stop>) -> bool {
    stop.is_some_and(|s| {
        matches!(
            s.at,
            StopAt::Proxy
                | StopAt::Connect
                | StopAt::FirstHelo
                | StopAt::Xclient
                | StopAt::XclientHelo
                | StopAt::Tls
                | StopAt::Helo
                | StopAt::Auth
                | StopAt::Mail
        )
    })
}

fn send_config(a: SendArgs, env: &Environment) -> Result<SendConfig, Error> {
    let SendArgs {
        transport,
        tls,
        auth,
        envelope,
        message: msg,
        output,
        stop,
        ext: ext_args,
        xclient: xclient_args,
        // Consumed by `cli::layers` before parsing (file, dump); nothing to validate here.
        config: _,
    } = a;

    // --protocol implications; explicit TLS and AUTH flags win over them.
    let implied = transport.protocol.map(|p| p.implies()).unwrap_or_default();
    let (starttls, tls_on_connect) = if tls.tls {
        (StartTls::Required, false)
    } else if tls.tls_optional {
        (StartTls::Optional, false)
    } else if tls.tls_optional_strict {
        (StartTls::OptionalStrict, false)
    } else if tls.tls_on_connect {
        (StartTls::Off, true)
    } else if implied.starttls {
        (StartTls::Required, false)
    } else {
        (StartTls::Off, implied.tls_on_connect)
    };
    let protocol = implied.protocol;

    let family = Family::from_flags(transport.ipv4, transport.ipv6);

    // Envelope.
    let to = addresses("--to", &envelope.to)?;
    let cc = addresses("--cc", &envelope.cc)?;
    let bcc = addresses("--bcc", &envelope.bcc)?;
    let rcpts: Vec<String> = to.iter().chain(&cc).chain(&bcc).cloned().collect();
    let from = match &envelope.from {
        Some(f) => strip_angles(f.trim()).trim().to_string(),
        None => {
            // swaks: $LOGNAME (--force-getpwuid: the password database), then getpwuid.
            let local = if envelope.force_getpwuid {
                env.pw_user.as_deref()
            } else {
                env.user.as_deref().or(env.pw_user.as_deref())
            };
            format!("{}@{}", local.unwrap_or("ehlo"), env.hostname)
        }
    };
    no_line_break("--from", &from)?;
    no_space("--from", &from)?;
    let helo = envelope
        .helo
        .as_deref()
        .map(str::trim)
        .unwrap_or(&env.hostname)
        .to_string();
    if helo.is_empty() {
        return Err(usage("--helo: the name is empty"));
    }
    no_line_break("--helo", &helo)?;
    for p in &envelope.mail_param {
        no_line_break("--mail-param", p)?;
    }
    for p in &envelope.rcpt_param {
        no_line_break("--rcpt-param", p)?;
    }

    // Stop point and where to connect.
    let stop = stop_of(&stop);
    if rcpts.is_empty() && !stops_before_rcpt(stop) {
        return Err(usage(
            "--to: no recipient given (a stop point before RCPT, like -q ehlo, needs only --server)",
        ));
    }
    let default_port = if protocol == Protocol::Lmtp {
        24
    } else if tls_on_connect {
        465
    } else {
        25
    };
    let link_transport = match (&transport.socket, &transport.pipe) {
        (Some(p), _) => Transport::Socket(p.clone()),
        (None, Some(c)) if c.trim().is_empty() => {
            return Err(usage("--pipe: the command is empty"));
        }
        (None, Some(c)) => Transport::Pipe(c.clone()),
        (None, None) => Transport::Tcp,
    };
    let target = match (&transport.server, rcpts.last()) {
        // Not used to connect; names the peer for TLS (SNI, verification).
        _ if link_transport != Transport::Tcp => Target::Host {
            host: "localhost".into(),
            port: default_port,
        },
        (Some(ServerSpec { host, port }), _) => {
            if let Ok(ip) = host.parse::<IpAddr>() {
                check_family("--server", family, ip)?;
            }
            Target::Host {
                host: host.clone(),
                port: transport.port.or(*port).unwrap_or(default_port),
            }
        }
        (None, _) if transport.copy_routing.is_some() => {
            let domain = transport.copy_routing.as_deref().unwrap_or_default();
            let probe = format!("postmaster@{domain}");
            no_line_break("--copy-routing", domain)?;
            let port = transport.port.unwrap_or(default_port);
            match route_of(&probe)
                .map_err(|_| usage(format!("--copy-routing: '{domain}' is not a domain")))?
            {
                Ok(domain) => Target::Mx { domain, port },
                Err(ip) => {
                    check_family("--copy-routing", family, ip)?;
                    Target::Host {
                        host: ip.to_string(),
                        port,
                    }
                }
            }
        }
        (None, Some(last)) => {
            let port = transport.port.unwrap_or(default_port);
            match route_of(last)? {
                Ok(domain) => Target::Mx { domain, port },
                Err(ip) => {
                    check_family("--to", family, ip)?;
                    Target::Host {
                        host: ip.to_string(),
                        port,
                    }
                }
            }
        }
        (None, None) => {
            return Err(usage(
                "--server: needed to know where to connect when there is no --to",
            ));
        }
    };
    if let Some(local) = transport
        .local_interface
        .as_ref()
        .and_then(|l| l.host.parse::<IpAddr>().ok())
    {
        check_family("--local-interface", family, local)?;
        if let Target::Host { host, .. } = &target
            && let Ok(ip) = host.parse::<IpAddr>()
            && family_of(ip) != family_of(local)
        {
            return Err(usage(format!(
                "--local-interface: {local} and the server {ip} are of different IP families"
            )));
        }
    }
    let local = match (&transport.local_interface, transport.local_port) {
        (None, None) => None,
        (li, lp) => Some(crate::net::route::LocalBind {
            host: li.as_ref().map(|l| l.host.clone()),
            port: lp.or(li.as_ref().and_then(|l| l.port)).unwrap_or(0),
        }),
    };

    // AUTH.
    let aliases = auth_map(&auth.auth_map)?;
    let requested = if let Some(m) = &auth.auth {
        Some((
            AuthRequirement::Required,
            mechanisms("--auth", m, &aliases)?,
        ))
    } else if let Some(m) = &auth.auth_optional {
        Some((
            AuthRequirement::Optional,
            mechanisms("--auth-optional", m, &aliases)?,
        ))
    } else if let Some(m) = &auth.auth_optional_strict {
        Some((
            AuthRequirement::OptionalStrict,
            mechanisms("--auth-optional-strict", m, &aliases)?,
        ))
    } else if auth.auth_user.is_some() || implied.auth {
        // swaks: --auth-user implies --auth.
        Some((AuthRequirement::Required, Vec::new()))
    } else {
        None
    };
    // --auth-hide-password is accepted for swaks scripts; secrets are always hidden.
    let _ = &auth.auth_hide_password;
    let encrypted = starttls != StartTls::Off || tls_on_connect;
    let auth_plan = match requested {
        None => None,
        Some((requirement, mechanisms)) => {
            let (host, port) = match &target {
                Target::Host { host, port } if link_transport == Transport::Tcp => {
                    (Some(host.clone()), Some(*port))
                }
                _ => (None, None),
            };
            // --dump-mail sends nothing: no question, no prompt.
            if !msg.dump_mail && !encrypted && !auth.allow_plaintext_auth {
                confirm_plaintext_auth(env)?;
            }
            let (user, password, token) = if msg.dump_mail {
                (
                    auth.auth_user
                        .as_deref()
                        .map(|u| strip_angles(u).to_string()),
                    auth.auth_password.clone(),
                    auth.auth_oauth_token.clone(),
                )
            } else {
                find_secrets(&auth, &mechanisms, requirement, host.as_deref(), env)?
            };
            let mut credentials = Credentials {
                user: user.unwrap_or_default(),
                password,
                token,
                authzid: auth.auth_authzid.clone(),
                host,
                port,
                // Drawn now, so the plan is complete when built.
                nonce: crate::net::tls::scram_nonce(),
                time: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()
                    .map(|d| d.as_secs()),
                ..Credentials::default()
            };
            auth_extra(&auth.auth_extra, &mut credentials)?;
            Some(AuthPlan {
                mechanisms,
                requirement,
                credentials,
                force: auth.auth_force,
                show_plaintext: auth.auth_plaintext,
                show_secrets: auth.show_secrets,
                aliases,
            })
        }
    };

    // Message.
    let fixup = fixup_of(&msg);
    let (mut message, mut notes) = compose(&msg, fixup, &to, &cc, &bcc, &from, env)?;
    // (--dump-mail sends nothing, so it shows the bytes whatever they end with.)
    if fixup == Fixup::NONE && ext_args.bdat.is_none() && !msg.dump_mail {
        raw_data_end(&mut message, &mut notes)?;
    }

    // TLS.
    if let Some(p) = &tls.tls_ca_path
        && !Path::new(p).exists()
    {
        return Err(usage(format!(
            "--tls-ca-path: {} does not exist",
            p.display()
        )));
    }
    for (flag, path) in [
        ("--tls-cert", &tls.tls_cert),
        ("--tls-key", &tls.tls_key),
        ("--tls-chain", &tls.tls_chain),
    ] {
        if let Some(p) = path
            && !p.is_file()
        {
            return Err(usage(format!(
                "{flag}: {} is not a readable file",
                p.display()
            )));
        }
    }
    // DANE: --tlsa and --tlsa-file together; they only mean something over TLS.
    let mut tlsa = tls.tlsa.clone();
    if let Some(f) = &tls.tlsa_file {
        tlsa.extend(
            crate::net::dane::read_records(f).map_err(|e| usage(format!("--tlsa-file: {e}")))?,
        );
    }
    if !tlsa.is_empty() && starttls != StartTls::Required && !tls_on_connect {
        return Err(usage(
            "--tlsa/--tlsa-file: DANE checks the TLS certificate: add --tls or --tls-on-connect",
        ));
    }
    let pem_out = |o: &Option<Option<std::path::PathBuf>>| {
        o.as_ref().map(|f| match f {
            Some(p) if p.as_os_str() != "-" => PemOut::File(p.clone()),
            _ => PemOut::Transcript,
        })
    };
    // DANE-TA names: the MX host (verified below) and the next-hop domain (RFC 7672 §3.2.3).
    let dane_names = match &target {
        Target::Mx { domain, .. } if !tlsa.is_empty() => vec![domain.clone()],
        _ => Vec::new(),
    };
    let tls_params = TlsParams {
        sni: tls.tls_sni.clone(),
        verify: !tls.insecure,
        verify_name: tls.tls_verify_target.clone(),
        ca_path: tls.tls_ca_path.clone(),
        protocols: tls.tls_protocol.clone().map(|p| p.0),
        cipher_list: tls.tls_cipher.clone(),
        ciphersuites: tls.tls_ciphersuites.clone(),
        client_cert: match (&tls.tls_cert, &tls.tls_key) {
            (Some(cert), Some(key)) => Some(ClientCert {
                cert: cert.clone(),
                key: key.clone(),
                chain: tls.tls_chain.clone(),
            }),
            _ => None,
        },
        peer_cert_out: pem_out(&tls.tls_get_peer_cert),
        peer_chain_out: pem_out(&tls.tls_get_peer_chain),
        tlsa,
        dane_names,
    };

    // Timeouts: zero means none.
    let timeout = transport.timeout;
    let connect_timeout = transport.connect_timeout.unwrap_or(timeout);

    let format = if output.json {
        Format::Json
    } else {
        Format::Human(HumanOptions {
            color: output.color,
            explain: output.explain,
            time_lapse: output.show_time_lapse.map(|unit| unit.is_some()),
            suppress_data: output.suppress_data,
            silent: output.silent.unwrap_or(0),
            show_raw: output.show_raw_text,
            hints: !output.no_hints,
            hide: Kinds {
                send: output.hide_send || output.hide_all,
                receive: output.hide_receive || output.hide_all,
                info: output.hide_informational || output.hide_all,
                errors: output.hide_all,
            },
            bare: Kinds {
                send: output.no_send_hints,
                receive: output.no_receive_hints,
                info: output.no_info_hints,
                errors: output.no_info_hints,
            },
            repl: false,
        })
    };

    let plan = Plan {
        helo,
        protocol,
        starttls,
        tls_on_connect,
        auth: auth_plan,
        from,
        rcpts,
        mail_params: envelope.mail_param,
        rcpt_params: envelope.rcpt_param,
        message,
        fixup,
        pipeline: envelope.pipeline,
        stop,
        ext: ext_plan(
            &ext_args,
            &xclient_args,
            protocol,
            starttls,
            tls_on_connect,
            stop,
        )?,
    };
    let link = Link {
        transport: link_transport,
        proxy: proxy_header(&xclient_args)?,
        family,
        local,
        dns: DnsOptions::with_timeout(transport.dns_server, timeout),
        tls: tls_params,
        tls_on_connect,
        timeout,
        connect_timeout,
        raw_events: output.show_raw_text && !output.json,
    };
    if matches!(
        stop,
        Some(Stop {
            at: StopAt::Proxy,
            ..
        })
    ) && link.proxy.is_none()
    {
        return Err(usage(
            "--quit-after/--drop-after PROXY: no PROXY header is configured (--proxy-version or --proxy)",
        ));
    }

    Ok(SendConfig {
        connect: link.to(target),
        plan,
        format,
        dump_mail: msg.dump_mail,
        notes,
        output: OutputFiles {
            stdout: output
                .output_file_stdout
                .or_else(|| output.output_file.clone()),
            stderr: output.output_file_stderr.or(output.output_file),
        },
    })
}

/// `--no-data-fixup` data goes out as given, so it must carry its own end marker or the server
/// waits for more until the reply timeout (swaks #69). Data that ends in `CRLF .` without the
/// final CRLF gets it, as swaks does; data with no end marker at all is refused before anything
/// is sent.
fn raw_data_end(message: &mut Vec<u8>, notes: &mut Vec<String>) -> Result<(), Error> {
    if message.ends_with(b"\r\n.\r\n") || message == b".\r\n" {
        return Ok(());
    }
    if message.ends_with(b"\r\n.") || message == b"." {
        message.extend_from_slice(b"\r\n");
        notes.push("--no-data-fixup: added the CRLF after the final dot (as swaks does)".into());
        return Ok(());
    }
    Err(usage(
        "--no-data-fixup: the data does not end with CRLF . CRLF, so the server would wait for \
         more (write the end marker yourself, e.g. --data 'Subject: x\\r\\n\\r\\nbody\\r\\n.\\r\\n')",
    ))
}

/// `--no-data-fixup` turns everything off; the finer switches one fix-up each (swaks #51).
fn fixup_of(msg: &MessageArgs) -> Fixup {
    if msg.no_data_fixup {
        return Fixup::NONE;
    }
    Fixup {
        strip_from: !msg.no_strip_from,
        crlf: !msg.no_crlf_fixup,
        dot_stuff: !msg.no_dot_stuffing,
        end_marker: true,
    }
}

/// The message bytes and info notes: `--data` as given (tokens replaced unless
/// `--no-data-fixup`), or the composed message with its parts. Every file and stdin is read
/// here, before anything is sent; the total stays under [`MAX_MESSAGE_BYTES`].
fn compose(
    msg: &MessageArgs,
    fixup: Fixup,
    to: &[String],
    cc: &[String],
    bcc: &[String],
    from: &str,
    env: &Environment,
) -> Result<(Vec<u8>, Vec<String>), Error> {
    let stdin_users: Vec<&str> = [("--data", &msg.data), ("--body", &msg.body)]
        .into_iter()
        .filter(|(_, v)| v.as_deref() == Some("-"))
        .map(|(f, _)| f)
        .chain(
            msg.parts
                .iter()
                .filter(|p| p.value == "-")
                .map(|p| part_flag(p.kind)),
        )
        .collect();
    if stdin_users.len() > 1 {
        return Err(usage(format!(
            "{}: stdin can be read only once (also given to {})",
            stdin_users[1], stdin_users[0]
        )));
    }
    let spec = MessageSpec {
        to,
        cc,
        bcc,
        from,
        ..Default::default()
    };
    // Header syntax first: a bad header is reported before any file is read.
    for (flag, list) in [("--header", &msg.header), ("--add-header", &msg.add_header)] {
        for h in list {
            message::check_header_arg(flag, h, &spec, &env.message).map_err(usage)?;
        }
    }
    if let Some(d) = &msg.data {
        if fixup == Fixup::NONE {
            if let Some(flag) = [("--header", &msg.header), ("--add-header", &msg.add_header)]
                .into_iter()
                .find_map(|(f, l)| (!l.is_empty()).then_some(f))
            {
                return Err(usage(format!(
                    "{flag} cannot change a --data message sent with --no-data-fixup \
                     (its bytes go out exactly as given)"
                )));
            }
            if msg.body.is_some() {
                return Err(usage(
                    "--body cannot go into a --data message sent with --no-data-fixup \
                     (no %BODY% token is replaced)",
                ));
            }
            let mut notes = Vec::new();
            let data = read_content("--data", d, env, message::data_text, &mut notes)?;
            return Ok((data, notes));
        }
        let mut notes = Vec::new();
        let data = read_content("--data", d, env, message::data_text, &mut notes)?;
        // `--body` fills the message's %BODY% token (swaks's template token).
        let body = msg
            .body
            .as_deref()
            .map(|b| read_content("--body", b, env, message::data_text, &mut notes))
            .transpose()?;
        if body.is_some()
            && !["%BODY%", "..BODY.."]
                .iter()
                .any(|t| data.windows(t.len()).any(|w| w == t.as_bytes()))
        {
            notes.push("--body is not used: the --data message has no %BODY% token".into());
        }
        let spec = MessageSpec {
            headers: &msg.header,
            add_headers: &msg.add_header,
            body: body.as_deref(),
            ..spec
        };
        let data = message::data_message(&data, &spec, &env.message).map_err(usage)?;
        return Ok((data, notes));
    }
    let mut notes = Vec::new();
    let body = msg
        .body
        .as_deref()
        .map(|b| read_content("--body", b, env, message::data_text, &mut notes))
        .transpose()?;
    let mut total = body.as_ref().map_or(0, Vec::len) as u64;
    let mut parts = Vec::with_capacity(msg.parts.len());
    for p in &msg.parts {
        let part = part_of(p, env, &mut notes)?;
        total += part.content.len() as u64;
        if total > MAX_MESSAGE_BYTES {
            return Err(usage(format!(
                "{}: the message would be larger than {} MiB",
                part_flag(p.kind),
                MAX_MESSAGE_BYTES >> 20
            )));
        }
        parts.push(part);
    }
    let composed = message::compose(
        &MessageSpec {
            headers: &msg.header,
            add_headers: &msg.add_header,
            body: body.as_deref(),
            parts: &parts,
            ..spec
        },
        &env.message,
    )
    .map_err(usage)?;
    notes.extend(composed.notes);
    Ok((composed.bytes, notes))
}

fn part_flag(kind: PartKind) -> &'static str {
    match kind {
        PartKind::Body => "--attach-body",
        PartKind::Inline => "--attach-inline",
        PartKind::Attachment => "--attach",
    }
}

/// Read one part option and decide its type and file name: `--attach-type` if given, else
/// guessed from the file name (text/plain for body parts), else application/octet-stream; the
/// file's base name unless `--attach-name` says otherwise.
fn part_of(p: &PartArg, env: &Environment, notes: &mut Vec<String>) -> Result<Part, Error> {
    let flag = part_flag(p.kind);
    let content = read_content(flag, &p.value, env, |t| t.as_bytes().to_vec(), notes)?;
    let path = p
        .value
        .strip_prefix('@')
        .filter(|_| !p.value.starts_with("@@"))
        .or_else(|| bare_file(flag, &p.value).map(|(path, _)| path))
        .map(Path::new);
    let content_type = match &p.content_type {
        Some(t) => {
            let (essence, _) = t.split_once(';').unwrap_or((t, ""));
            let token = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
            };
            let ok = essence
                .trim()
                .split_once('/')
                .is_some_and(|(a, b)| token(a) && token(b));
            if !ok || t.contains(|c: char| c.is_control()) {
                return Err(usage(format!(
                    "--attach-type: '{}' is not a MIME type (type/subtype, e.g. text/html)",
                    t.escape_debug()
                )));
            }
            t.trim().to_string()
        }
        None => match (p.kind, path) {
            (PartKind::Body, _) => "text/plain".to_string(),
            (_, Some(path)) => mime_guess::from_path(path)
                .first_raw()
                .unwrap_or("application/octet-stream")
                .to_string(),
            (_, None) => "application/octet-stream".to_string(),
        },
    };
    let filename = match &p.name {
        Some(n) if n.is_empty() => None,
        Some(n) => {
            if n.contains(|c: char| c.is_control()) {
                return Err(usage(format!(
                    "--attach-name: '{}' contains a control character",
                    n.escape_debug()
                )));
            }
            Some(n.clone())
        }
        None if p.kind == PartKind::Body => None,
        None => path
            .and_then(Path::file_name)
            .map(|f| f.to_string_lossy().into_owned()),
    };
    Ok(Part {
        kind: p.kind,
        content_type,
        filename,
        content,
    })
}

/// The extension flags → [`ExtPlan`] (cross-flag rules only; the session checks the server).
fn ext_plan(
    a: &crate::cli::args::ExtArgs,
    x: &crate::cli::args::XclientArgs,
    protocol: Protocol,
    starttls: StartTls,
    tls_on_connect: bool,
    stop: Option<Stop>,
) -> Result<ExtPlan, Error> {
    if let Some(e) = &a.dsn_envid
        && (e.is_empty() || e.chars().count() > 100)
    {
        return Err(usage(
            "--dsn-envid: must be 1 to 100 characters (RFC 3461 §4.4)",
        ));
    }
    if a.requiretls && !a.force_ext && starttls != StartTls::Required && !tls_on_connect {
        return Err(usage(
            "--requiretls: REQUIRETLS needs TLS (RFC 8689): add --tls or --tls-on-connect",
        ));
    }
    if a.prdr && protocol == Protocol::Lmtp {
        return Err(usage(
            "--prdr: LMTP already gives one reply per recipient; PRDR is for SMTP",
        ));
    }
    let attr = |name: &str, flag: &str, v: &Option<String>| -> Result<Option<Attribute>, Error> {
        match v {
            None => Ok(None),
            Some(v) if v.is_empty() => Err(usage(format!("{flag}: the value is empty"))),
            Some(v) => Ok(Some(Attribute {
                name: name.into(),
                value: v.clone(),
            })),
        }
    };
    let attrs: Vec<Attribute> = [
        attr("ADDR", "--xclient-addr", &x.xclient_addr)?,
        attr("NAME", "--xclient-name", &x.xclient_name)?,
        attr("PORT", "--xclient-port", &x.xclient_port)?,
        attr("PROTO", "--xclient-proto", &x.xclient_proto)?,
        attr("HELO", "--xclient-helo", &x.xclient_helo)?,
        attr("LOGIN", "--xclient-login", &x.xclient_login)?,
        attr("DESTADDR", "--xclient-destaddr", &x.xclient_destaddr)?,
        attr("DESTPORT", "--xclient-destport", &x.xclient_destport)?,
        attr(
            "REVERSE_NAME",
            "--xclient-reverse-name",
            &x.xclient_reverse_name,
        )?,
    ]
    .into_iter()
    .flatten()
    .collect();
    for r in &x.xclient {
        no_line_break("--xclient", r)?;
        if r.trim().is_empty() {
            return Err(usage("--xclient: the attribute string is empty"));
        }
    }
    let xclient = if attrs.is_empty() && x.xclient.is_empty() {
        let modifiers = [
            x.xclient_before_starttls,
            x.xclient_optional,
            x.xclient_optional_strict,
            x.xclient_no_verify,
            !x.xclient_delim.is_empty(),
        ];
        if modifiers.contains(&true) {
            return Err(usage(
                "--xclient-before-starttls/--xclient-optional[-strict]/--xclient-no-verify/--xclient-delim: no XCLIENT attributes given (--xclient-addr, --xclient RAW, ...)",
            ));
        }
        None
    } else {
        Some(XclientPlan {
            commands: xclient_commands(&x.xclient_order, attrs, &x.xclient),
            before_starttls: x.xclient_before_starttls,
            optional: x.xclient_optional,
            optional_strict: x.xclient_optional_strict,
            no_verify: x.xclient_no_verify,
        })
    };
    if xclient.is_none()
        && matches!(
            stop,
            Some(Stop {
                at: StopAt::Xclient | StopAt::XclientHelo,
                ..
            })
        )
    {
        return Err(usage(
            "stop point XCLIENT/XCLIENT-HELO: no XCLIENT attributes given",
        ));
    }
    let xforward: Vec<Attribute> = [
        attr("NAME", "--xforward-name", &x.xforward_name)?,
        attr("ADDR", "--xforward-addr", &x.xforward_addr)?,
        attr("PORT", "--xforward-port", &x.xforward_port)?,
        attr("PROTO", "--xforward-proto", &x.xforward_proto)?,
        attr("HELO", "--xforward-helo", &x.xforward_helo)?,
        attr("IDENT", "--xforward-ident", &x.xforward_ident)?,
        attr("SOURCE", "--xforward-source", &x.xforward_source)?,
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(ExtPlan {
        smtputf8: a.smtputf8,
        dsn: Dsn {
            notify: a.dsn_notify.clone(),
            ret: a.dsn_ret.map(|r| match r {
                crate::cli::args::DsnRet::Full => Ret::Full,
                crate::cli::args::DsnRet::Hdrs => Ret::Hdrs,
            }),
            envid: a.dsn_envid.clone(),
            orcpt: a.dsn_orcpt,
        },
        requiretls: a.requiretls,
        bdat: a.bdat.map(|s| s.unwrap_or(0)),
        prdr: a.prdr,
        xclient,
        xforward,
        force: a.force_ext,
    })
}

/// The XCLIENT commands, as swaks groups them: the attribute options between two
/// `--xclient-delim` marks (or `--xclient` strings) form one command, in Postfix's documented
/// attribute order; each `--xclient` string is a command of its own, where it was given. Empty
/// groups vanish. `order` is empty when the arguments did not come through `Cli::parse_args`
/// (then: one attribute command, then the raw strings).
fn xclient_commands(
    order: &[XclientItem],
    attrs: Vec<Attribute>,
    raw: &[String],
) -> Vec<XclientCommand> {
    if order.is_empty() {
        let mut commands = vec![XclientCommand::Attrs(attrs)];
        commands.extend(raw.iter().cloned().map(XclientCommand::Raw));
        commands.retain(|c| c != &XclientCommand::Attrs(Vec::new()));
        return commands;
    }
    let rank = |name: &str| XCLIENT_ATTRS.iter().position(|(_, n)| *n == name);
    let mut commands = Vec::new();
    let mut group: Vec<&'static str> = Vec::new();
    let flush = |group: &mut Vec<&'static str>, commands: &mut Vec<XclientCommand>| {
        if group.is_empty() {
            return;
        }
        group.sort_by_key(|n| rank(n));
        let values = group
            .drain(..)
            .filter_map(|n| attrs.iter().find(|a| a.name == n).cloned())
            .collect();
        commands.push(XclientCommand::Attrs(values));
    };
    for item in order {
        match item {
            XclientItem::Attr(name) => group.push(name),
            XclientItem::Delim => flush(&mut group, &mut commands),
            XclientItem::Raw(r) => {
                flush(&mut group, &mut commands);
                commands.push(XclientCommand::Raw(r.clone()));
            }
        }
    }
    flush(&mut group, &mut commands);
    commands
}

/// The PROXY header to send before the banner, if any. Bad values are exit 35 (swaks's "Error
/// in PROXY option processing"), not 1.
/// The longest PROXY header there is: v2's 16-byte preamble and a 65535-byte body.
const MAX_PROXY_HEADER: u64 = 16 + 65535;

/// `--proxy @FILE`: the header exactly as the file holds it (no CRLF added or removed).
fn proxy_file(path: &str) -> Result<Vec<u8>, Error> {
    let bad = |m: String| Error::ProxyOption(format!("--proxy: {m}"));
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PROXY_HEADER + 1).read_to_end(&mut bytes))
        .map_err(|e| bad(format!("cannot read {path}: {e}")))?;
    if bytes.is_empty() {
        return Err(bad(format!("{path} is empty")));
    }
    if bytes.len() as u64 > MAX_PROXY_HEADER {
        return Err(bad(format!(
            "{path} is larger than a PROXY header can be ({MAX_PROXY_HEADER} bytes)"
        )));
    }
    Ok(bytes)
}

fn proxy_header(x: &crate::cli::args::XclientArgs) -> Result<Option<Vec<u8>>, Error> {
    let bad = |m: String| Error::ProxyOption(m);
    if let Some(raw) = &x.proxy {
        if let Some(path) = raw.strip_prefix('@').filter(|p| !p.starts_with('@')) {
            return proxy_file(path).map(Some);
        }
        let raw = raw.strip_prefix('@').unwrap_or(raw);
        if let Some(b64) = raw.strip_prefix("base64:") {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| bad(format!("--proxy: not valid base64: {e}")))?;
            if bytes.is_empty() {
                return Err(bad("--proxy: the header is empty".into()));
            }
            return Ok(Some(bytes));
        }
        let text = raw.trim_end_matches(['\r', '\n']);
        if text.is_empty() || text.contains(['\r', '\n']) {
            return Err(bad(
                "--proxy: give one non-empty line (or base64:DATA for binary)".into(),
            ));
        }
        if x.proxy_family.is_some()
            || x.proxy_command.is_some()
            || x.proxy_protocol.is_some()
            || x.proxy_source.is_some()
            || x.proxy_source_port.is_some()
            || x.proxy_dest.is_some()
            || x.proxy_dest_port.is_some()
        {
            return Err(bad(
                "--proxy cannot be mixed with the other --proxy-* options".into(),
            ));
        }
        // swaks: a v2 raw header is the signature and the text; a v1 one is "PROXY " and the
        // text (ehlo does not double a "PROXY " the text already has).
        if x.proxy_version == Some(2) {
            let mut h = crate::net::proxy::PROXY_V2_SIGNATURE.to_vec();
            h.extend_from_slice(text.as_bytes());
            return Ok(Some(h));
        }
        let text = text.strip_prefix("PROXY ").unwrap_or(text);
        return Ok(Some(format!("PROXY {text}\r\n").into_bytes()));
    }
    use crate::cli::args::{ProxyCommandArg, ProxyFamilyArg, ProxyProtocolArg};
    use crate::net::proxy::{ProxyCommand, ProxyTransport};
    let given = x.proxy_family.is_some()
        || x.proxy_command.is_some()
        || x.proxy_protocol.is_some()
        || x.proxy_source.is_some()
        || x.proxy_source_port.is_some()
        || x.proxy_dest.is_some()
        || x.proxy_dest_port.is_some();
    // swaks: the version defaults to 1 once any PROXY attribute is given.
    let version = match (x.proxy_version, given) {
        (Some(v), _) => v,
        (None, true) => 1,
        (None, false) => return Ok(None),
    };
    let ip = |flag: &str, v: &Option<String>| -> Result<IpAddr, Error> {
        let v = v
            .as_deref()
            .ok_or_else(|| bad(format!("--proxy-version: {flag} is required")))?;
        v.trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| bad(format!("{flag}: '{v}' is not an IP address")))
    };
    let port = |flag: &str, v: &Option<String>| -> Result<u16, Error> {
        let v = v
            .as_deref()
            .ok_or_else(|| bad(format!("--proxy-version: {flag} is required")))?;
        v.trim()
            .parse()
            .map_err(|_| bad(format!("{flag}: '{v}' is not a port number (0-65535)")))
    };
    if version == 1 && (x.proxy_command.is_some() || x.proxy_protocol.is_some()) {
        return Err(bad(
            "--proxy-command/--proxy-protocol: only PROXY protocol version 2 has them".into(),
        ));
    }
    let command = match x.proxy_command {
        Some(ProxyCommandArg::Local) => ProxyCommand::Local,
        _ => ProxyCommand::Proxy,
    };
    let transport = match x.proxy_protocol {
        Some(ProxyProtocolArg::Dgram) => ProxyTransport::Dgram,
        _ => ProxyTransport::Stream,
    };
    // No addresses: declared unknown, or a LOCAL v2 header given none (§2.1, §2.2).
    let no_addresses = x.proxy_source.is_none() && x.proxy_dest.is_none();
    if x.proxy_family == Some(ProxyFamilyArg::Unknown)
        || (version == 2 && command == ProxyCommand::Local && no_addresses)
    {
        if !no_addresses || x.proxy_source_port.is_some() || x.proxy_dest_port.is_some() {
            return Err(bad(
                "--proxy-family UNKNOWN: the header carries no addresses; drop --proxy-source/--proxy-dest/..."
                    .into(),
            ));
        }
        return Ok(Some(if version == 1 {
            crate::net::proxy::v1_unknown()
        } else {
            crate::net::proxy::v2_unspec(command)
        }));
    }
    if x.proxy_family == Some(ProxyFamilyArg::Unix) {
        if version == 1 {
            return Err(bad(
                "--proxy-family AF_UNIX: only PROXY protocol version 2 has it".into(),
            ));
        }
        let path = |flag: &str, v: &Option<String>| {
            v.clone().ok_or_else(|| {
                bad(format!(
                    "--proxy-family AF_UNIX: {flag} (a socket path) is required"
                ))
            })
        };
        return crate::net::proxy::v2_unix(
            command,
            transport,
            &path("--proxy-source", &x.proxy_source)?,
            &path("--proxy-dest", &x.proxy_dest)?,
        )
        .map(Some)
        .map_err(|e| bad(format!("--proxy-family AF_UNIX: {e}")));
    }
    let source = ip("--proxy-source", &x.proxy_source)?;
    let addrs = ProxyAddrs {
        family: match x.proxy_family {
            Some(ProxyFamilyArg::Tcp4) => ProxyFamily::Tcp4,
            Some(ProxyFamilyArg::Tcp6) => ProxyFamily::Tcp6,
            _ if source.is_ipv4() => ProxyFamily::Tcp4,
            _ => ProxyFamily::Tcp6,
        },
        source,
        source_port: port("--proxy-source-port", &x.proxy_source_port)?,
        dest: ip("--proxy-dest", &x.proxy_dest)?,
        dest_port: port("--proxy-dest-port", &x.proxy_dest_port)?,
    };
    addrs
        .check()
        .map_err(|e| bad(format!("--proxy-family: {e}")))?;
    Ok(Some(if version == 1 {
        addrs.v1()
    } else {
        addrs.v2_with(command, transport)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use time::macros::datetime;

    fn env() -> Environment {
        Environment {
            user: Some("alice".into()),
            pw_user: Some("pwalice".into()),
            hostname: "client.test".into(),
            message: MessageContext {
                now: datetime!(2024-01-02 03:04:05 UTC),
                hostname: "client.test".into(),
                pid: 7,
            },
            read_stdin: |_| Ok(b"from stdin\n".to_vec()),
            home: None,
            prompt: None,
        }
    }

    fn mode(args: &[&str]) -> Result<Mode, Error> {
        let argv = std::iter::once("ehlo").chain(args.iter().copied());
        let cli = Cli::parse_args(argv).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        from_cli_in(cli, &env())
    }

    fn send(args: &[&str]) -> SendConfig {
        match mode(args) {
            Ok(Mode::Send(c)) => *c,
            Ok(other) => panic!("{args:?}: not a send: {other:?}"),
            Err(e) => panic!("{args:?}: {e}"),
        }
    }

    fn err(args: &[&str]) -> String {
        match mode(args) {
            Err(e @ Error::Usage(_)) => {
                assert_eq!(e.exit_code(), 1);
                e.to_string()
            }
            other => panic!("{args:?}: expected a usage error, got {other:?}"),
        }
    }

    fn host(h: &str, port: u16) -> Target {
        Target::Host {
            host: h.into(),
            port,
        }
    }

    #[test]
    fn server_and_port_precedence() {
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "mx.test"]).connect.target,
            host("mx.test", 25)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "mx.test:2525"])
                .connect
                .target,
            host("mx.test", 2525)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "mx.test:2525", "-p", "587"])
                .connect
                .target,
            host("mx.test", 587)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "[::1]:26"]).connect.target,
            host("::1", 26)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "::1/27"]).connect.target,
            host("::1", 27)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "h", "--tlsc"])
                .connect
                .target,
            host("h", 465)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "h", "--protocol", "lmtp"])
                .connect
                .target,
            host("h", 24)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "h", "--protocol", "ssmtp"])
                .connect
                .target,
            host("h", 465)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "h:2525", "--tlsc"])
                .connect
                .target,
            host("h", 2525)
        );
    }

    #[test]
    fn mx_target_from_last_recipient() {
        let c = send(&["-t", "a@first.test", "--cc", "b@Second.Test"]);
        assert_eq!(
            c.connect.target,
            Target::Mx {
                domain: "second.test".into(),
                port: 25
            }
        );
        let c = send(&["-t", "a@x.test", "--bcc", "z@last.test", "-p", "2525"]);
        assert_eq!(
            c.connect.target,
            Target::Mx {
                domain: "last.test".into(),
                port: 2525
            }
        );
        assert_eq!(
            send(&["-t", "a@[192.0.2.1]"]).connect.target,
            host("192.0.2.1", 25)
        );
        assert_eq!(
            send(&["-t", "a@[IPv6:2001:db8::1]"]).connect.target,
            host("2001:db8::1", 25)
        );
        assert!(err(&["-t", "nodomain"]).contains("--to"));
        assert!(err(&["-t", "a@[not-an-ip]"]).contains("not an IP"));
        assert!(err(&["-t", "a@"]).contains("empty domain"));
        assert!(err(&["-t", "a@[ééé:1]"]).contains("not an IP"));
        assert!(err(&["-t", "a@[ipv6:]"]).contains("not an IP"));
    }

    #[test]
    fn recipients_are_trimmed_and_needed() {
        let c = send(&[
            "-t",
            "a@x.test , b@x.test,,",
            "-t",
            "<c@x.test>",
            "--bcc",
            " d@x.test",
        ]);
        assert_eq!(
            c.plan.rcpts,
            ["a@x.test", "b@x.test", "c@x.test", "d@x.test"]
        );
        // Bcc never shows in the headers.
        let text = String::from_utf8(c.plan.message).unwrap();
        assert!(
            text.contains("\nTo: a@x.test,b@x.test,c@x.test\n"),
            "{text}"
        );
        assert!(!text.contains("d@x.test"), "{text}");

        assert!(err(&["-s", "h"]).contains("--to"));
        assert!(err(&["-s", "h", "-q", "rcpt"]).contains("--to"));
        assert!(err(&["-s", "h", "--das", "rcpt"]).contains("--to"));
        // A stop before RCPT needs no recipient, but needs a server.
        let c = send(&["-s", "h", "-q", "mail"]);
        assert!(c.plan.rcpts.is_empty());
        assert_eq!(
            c.plan.stop,
            Some(Stop {
                kind: StopKind::Quit,
                at: StopAt::Mail
            })
        );
        assert!(err(&["-q", "ehlo"]).contains("--server"));
        assert!(err(&["-t", "a\r\nRSET@x.test", "-s", "h"]).contains("line break"));
    }

    #[test]
    fn stop_kinds() {
        let c = send(&["-s", "h", "--drop-after", "banner"]);
        assert_eq!(
            c.plan.stop,
            Some(Stop {
                kind: StopKind::Drop,
                at: StopAt::Connect
            })
        );
        let c = send(&["-s", "h", "-t", "a@b", "--das", "dot"]);
        assert_eq!(
            c.plan.stop,
            Some(Stop {
                kind: StopKind::DropAfterSend,
                at: StopAt::Dot
            })
        );
        assert_eq!(send(&["-s", "h", "-t", "a@b"]).plan.stop, None);
    }

    #[test]
    fn sender_and_helo_defaults() {
        let c = send(&["-t", "a@x.test"]);
        assert_eq!(c.plan.from, "alice@client.test");
        assert_eq!(c.plan.helo, "client.test");
        assert_eq!(send(&["-t", "a@x.test", "-f", "<>"]).plan.from, "");
        assert_eq!(
            send(&["-t", "a@x.test", "-f", "<b@y.test>"]).plan.from,
            "b@y.test"
        );
        assert_eq!(
            send(&["-t", "a@x.test", "--ehlo", "me.test"]).plan.helo,
            "me.test"
        );
        assert!(err(&["-t", "a@x.test", "--helo", " "]).contains("--helo"));
        assert!(err(&["-t", "a@x.test", "--mail-param", "A\nB"]).contains("--mail-param"));
    }

    #[test]
    fn protocol_and_tls_flags() {
        let c = send(&["-t", "a@x.test", "--protocol", "esmtpsa", "--ap", "x"]);
        assert_eq!(c.plan.starttls, StartTls::Required);
        assert!(!c.plan.tls_on_connect);
        assert!(c.plan.auth.is_some());
        assert_eq!(c.plan.protocol, Protocol::Esmtp);
        let c = send(&["-t", "a@x.test", "--protocol", "SMTPS"]);
        assert!(c.plan.tls_on_connect);
        assert_eq!(c.plan.protocol, Protocol::Smtp);
        assert!(c.plan.auth.is_none());
        // An explicit TLS flag wins over what the protocol implies.
        let c = send(&["-t", "a@x.test", "--protocol", "ssmtp", "--tls-optional"]);
        assert_eq!(c.plan.starttls, StartTls::Optional);
        assert!(!c.plan.tls_on_connect);
        assert_eq!(
            c.connect.target,
            Target::Mx {
                domain: "x.test".into(),
                port: 25
            }
        );
        let c = send(&["-t", "a@x.test", "--tlsos"]);
        assert_eq!(c.plan.starttls, StartTls::OptionalStrict);
        let c = send(&["-t", "a@x.test"]);
        assert_eq!(c.plan.starttls, StartTls::Off);
        assert!(c.connect.link.tls.verify);
        let c = send(&[
            "-t",
            "a@x.test",
            "-k",
            "--tls-sni",
            "sni.test",
            "--tls-verify-target",
            "v.test",
        ]);
        assert!(!c.connect.link.tls.verify);
        assert_eq!(c.connect.link.tls.sni.as_deref(), Some("sni.test"));
        assert_eq!(c.connect.link.tls.verify_name.as_deref(), Some("v.test"));
        assert!(
            err(&["-t", "a@x.test", "--tls-ca-path", "/no/such/ca.pem"]).contains("--tls-ca-path")
        );
        let dir = std::env::temp_dir();
        let c = send(&["-t", "a@x.test", "--tls-ca-path", dir.to_str().unwrap()]);
        assert_eq!(c.connect.link.tls.ca_path.as_deref(), Some(dir.as_path()));
    }

    #[test]
    fn auth_plan() {
        assert!(send(&["-t", "a@x.test"]).plan.auth.is_none());
        // --auth-user implies --auth.
        let c = send(&[
            "-t",
            "a@x.test",
            "-s",
            "h",
            "--au",
            "<>",
            "--ap",
            "pw",
            "--allow-plaintext-auth",
        ]);
        let a = c.plan.auth.unwrap();
        assert_eq!(a.requirement, AuthRequirement::Required);
        assert!(a.mechanisms.is_empty());
        assert_eq!(a.credentials.user, "");
        assert_eq!(
            a.credentials.password.as_ref().map(|p| p.expose()),
            Some("pw")
        );
        assert_eq!(a.credentials.host.as_deref(), Some("h"));
        assert_eq!(a.credentials.port, Some(25));
        assert!(
            a.credentials.nonce.is_some(),
            "the plan carries its SCRAM nonce"
        );
        let c = send(&[
            "-t",
            "a@x.test",
            "--ao",
            "plain, Login,PLAIN",
            "--au",
            "u",
            "--apt",
            "--allow-plaintext-auth",
        ]);
        let a = c.plan.auth.unwrap();
        assert_eq!(a.requirement, AuthRequirement::Optional);
        assert_eq!(a.mechanisms, ["PLAIN", "LOGIN"]);
        assert!(a.show_plaintext);
        assert_eq!(a.credentials.host, None);
        let c = send(&[
            "-t",
            "a@x.test",
            "--aos",
            "--auth-force",
            "--show-secrets",
            "--tls",
            "--ap",
            "x",
        ]);
        let a = c.plan.auth.unwrap();
        assert_eq!(a.requirement, AuthRequirement::OptionalStrict);
        assert!(a.force && a.show_secrets);
        assert!(err(&["-t", "a@x.test", "-a", "GSSAPI"]).contains("does not implement GSSAPI"));
        // swaks's --auth-map and --auth-extra reach the plan; built-in aliases are accepted.
        let c = send(&[
            "-t",
            "a@x.test",
            "--tls",
            "--ap",
            "x",
            "-a",
            "msn,EXCH",
            "--auth-map",
            "exch=ntlm",
            "--auth-extra",
            "Domain=CORP,dmd5-serv-type=imap,dmd5-host=h.test,dmd5-serv-name=n",
        ]);
        let a = c.plan.auth.unwrap();
        assert_eq!(a.mechanisms, ["MSN", "EXCH"]);
        assert_eq!(a.aliases, [("EXCH".to_string(), "NTLM".to_string())]);
        assert_eq!(a.resolve("exch"), "NTLM");
        assert_eq!(a.resolve("SPA"), "NTLM");
        let cr = &a.credentials;
        assert_eq!(cr.realm.as_deref(), Some("CORP"));
        assert_eq!(cr.service.as_deref(), Some("imap"));
        assert_eq!(cr.service_host.as_deref(), Some("h.test"));
        assert_eq!(cr.service_name.as_deref(), Some("n"));
        assert!(cr.time.is_some());
        for (args, want) in [
            (&["--auth-map", "x"][..], "not ALIAS=TYPE"),
            (&["--auth-map", "x=GSSAPI"], "TYPE must be a mechanism"),
            (&["--auth-extra", "colour=blue"], "unknown key 'colour'"),
            (&["--auth-extra", "realm"], "not KEY=VALUE"),
        ] {
            let argv: Vec<&str> = ["-t", "a@x.test", "--tls", "--ap", "x", "-a"]
                .into_iter()
                .chain(args.iter().copied())
                .collect();
            let e = err(&argv);
            assert!(e.contains(want), "{args:?}: {e}");
        }
    }

    fn mode_in(args: &[&str], e: &Environment) -> Result<Mode, Error> {
        let argv = std::iter::once("ehlo").chain(args.iter().copied());
        from_cli_in(Cli::parse_args(argv).unwrap(), e)
    }

    fn creds_in(args: &[&str], e: &Environment) -> Credentials {
        match mode_in(args, e) {
            Ok(Mode::Send(c)) => c.plan.auth.unwrap().credentials,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    /// A terminal that answers by question: yes to the plaintext question, fixed user, password
    /// and token; secrets must be asked without echo.
    fn answering(prompt: &str, echo: bool) -> std::io::Result<String> {
        Ok(if prompt.contains("[y/N]") {
            assert!(echo);
            "y".into()
        } else if prompt.contains("user name") {
            assert!(echo);
            "typed-user".into()
        } else if prompt.starts_with("Password for") {
            assert!(!echo, "{prompt}");
            "typed-pw".into()
        } else if prompt.starts_with("OAuth token") {
            assert!(!echo, "{prompt}");
            "typed-token".into()
        } else {
            panic!("unexpected prompt {prompt:?}")
        })
    }

    fn refusing(prompt: &str, _echo: bool) -> std::io::Result<String> {
        assert!(prompt.contains("[y/N]"), "{prompt}");
        Ok("\n".into())
    }

    #[test]
    fn plaintext_auth_needs_confirmation_or_the_flag() {
        let base = ["-t", "a@x.test", "-s", "h", "-a", "--ap", "pw"];
        let e = err(&base);
        assert!(
            e.contains("--allow-plaintext-auth") && e.contains("--tls"),
            "{e}"
        );
        // Any TLS mode, or the flag, is enough.
        for extra in [
            &["--tls"][..],
            &["--tls-on-connect"],
            &["--tls-optional"],
            &["--tlsos"],
            &["--allow-plaintext-auth"],
        ] {
            let args: Vec<&str> = base.iter().chain(extra).copied().collect();
            assert!(send(&args).plan.auth.is_some(), "{extra:?}");
        }
        // --dump-mail sends nothing, so it asks nothing.
        let args: Vec<&str> = base.iter().copied().chain(["--dump-mail"]).collect();
        assert!(send(&args).dump_mail);
        // On a terminal: asked; "y" goes on, anything else is a usage error.
        let mut e = env();
        e.prompt = Some(answering);
        assert_eq!(creds_in(&base, &e).password.unwrap().expose(), "pw");
        e.prompt = Some(refusing);
        let Err(Error::Usage(m)) = mode_in(&base, &e) else {
            panic!("declined must be a usage error")
        };
        assert!(
            m.contains("declined") && m.contains("--allow-plaintext-auth"),
            "{m}"
        );
    }

    #[test]
    fn secret_sources_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let pw_file = dir.path().join("pw");
        std::fs::write(&pw_file, "from-file\nignored\n").unwrap();
        let tok_file = dir.path().join("tok");
        std::fs::write(&tok_file, "tok-from-file\n").unwrap();
        std::fs::write(
            dir.path().join(".netrc"),
            "machine mx.test login netrc-user password from-netrc\ndefault login d password from-default\n",
        )
        .unwrap();
        let mut e = env();
        e.home = Some(dir.path().to_path_buf());
        let pwf = pw_file.to_str().unwrap();
        let base = ["-t", "a@x.test", "-s", "mx.test", "--tls", "-a"];
        let with = |extra: &[&str]| -> Vec<String> {
            base.iter().chain(extra).map(|s| s.to_string()).collect()
        };
        let c = |extra: &[&str]| {
            let args = with(extra);
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            creds_in(&refs, &e)
        };
        // The flag wins over the file, the file over .netrc.
        assert_eq!(
            c(&["--ap", "flag", "--auth-password-file", pwf])
                .password
                .unwrap()
                .expose(),
            "flag"
        );
        let got = c(&["--auth-password-file", pwf, "--au", "me"]);
        assert_eq!(got.password.unwrap().expose(), "from-file");
        assert_eq!(got.user, "me");
        // .netrc: the machine entry, with its login when no --auth-user is given…
        let got = c(&[]);
        assert_eq!(got.password.unwrap().expose(), "from-netrc");
        assert_eq!(got.user, "netrc-user");
        // …and `default` when the machine's login is someone else.
        let got = c(&["--au", "other"]);
        assert_eq!(got.password.unwrap().expose(), "from-default");
        assert_eq!(got.user, "other");
        // Token file for the OAuth mechanisms; .netrc is not asked then.
        let tf = tok_file.to_str().unwrap();
        let got = c(&["XOAUTH2", "--au", "u", "--auth-token-file", tf]);
        assert_eq!(got.token.unwrap().expose(), "tok-from-file");
        assert!(got.password.is_none());
        // A missing file is a usage error naming the flag.
        let args = with(&["--auth-password-file", "/no/such/pw"]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert!(err(&refs).starts_with("--auth-password-file: cannot read"));
    }

    #[test]
    fn missing_secrets_prompt_on_a_terminal_or_fail() {
        let base = ["-t", "a@x.test", "-s", "mx.test", "--tls"];
        let e = err(&[&base[..], &["-a", "--au", "u"]].concat());
        assert!(
            e.contains("no password")
                && e.contains("--auth-password-file")
                && e.contains("EHLO_AUTH_PASSWORD")
                && e.contains(".netrc entry for mx.test"),
            "{e}"
        );
        let e = err(&[&base[..], &["-a", "XOAUTH2,OAUTHBEARER", "--au", "u"]].concat());
        assert!(
            e.contains("no OAuth token") && e.contains("--auth-token-file"),
            "{e}"
        );
        // --auth-optional carries on (the session skips AUTH, with a warning).
        let c = send(&[&base[..], &["--ao", "--au", "u"]].concat());
        assert!(c.plan.auth.unwrap().credentials.password.is_none());
        // A token alone is enough when no mechanism is named.
        let c = send(&[&base[..], &["-a", "--auth-oauth-token", "t"]].concat());
        assert!(c.plan.auth.unwrap().credentials.token.is_some());
        // On a terminal: user name (echoed) and password (not echoed) are asked for.
        let mut e = env();
        e.prompt = Some(answering);
        let got = creds_in(&[&base[..], &["-a"]].concat(), &e);
        assert_eq!(got.user, "typed-user");
        assert_eq!(got.password.unwrap().expose(), "typed-pw");
        let got = creds_in(
            &[&base[..], &["-a", "OAUTHBEARER", "--au", "u"]].concat(),
            &e,
        );
        assert_eq!(got.token.unwrap().expose(), "typed-token");
        assert!(got.password.is_none());
    }

    /// swaks's `-au` / `-ap` without a value: ~/.netrc, then a prompt; without a terminal a
    /// one-line reason and exit 1, never a hang or a silent run without AUTH.
    #[test]
    fn auth_user_and_password_without_a_value() {
        let base = ["-t", "a@x.test", "-s", "mx.test", "--tls"];
        let e = err(&[&base[..], &["--au", "--ap", "pw"]].concat());
        assert!(
            e.contains("--auth-user was given without a user name") && e.contains("cannot prompt"),
            "{e}"
        );
        let e = err(&[&base[..], &["--au", "u", "--ap"]].concat());
        assert!(e.contains("no password"), "{e}");
        // From ~/.netrc.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".netrc"),
            "machine mx.test login netrc-user password from-netrc\n",
        )
        .unwrap();
        let mut e = env();
        e.home = Some(dir.path().to_path_buf());
        let got = creds_in(&[&base[..], &["--au", "--ap"]].concat(), &e);
        assert_eq!(got.user, "netrc-user");
        assert_eq!(got.password.unwrap().expose(), "from-netrc");
        // On a terminal the user name is asked for; a password already given is not.
        let mut e = env();
        e.prompt = Some(answering);
        let got = creds_in(&[&base[..], &["--au", "--ap", "given"]].concat(), &e);
        assert_eq!(got.user, "typed-user");
        assert_eq!(got.password.unwrap().expose(), "given");
        let got = creds_in(&[&base[..], &["--au", "me", "--ap"]].concat(), &e);
        assert_eq!(got.user, "me");
        assert_eq!(got.password.unwrap().expose(), "typed-pw");
    }

    #[test]
    fn default_sender_from_logname_or_the_password_database() {
        assert_eq!(send(&["-t", "a@x.test"]).plan.from, "alice@client.test");
        assert_eq!(
            send(&["-t", "a@x.test", "--force-getpwuid"]).plan.from,
            "pwalice@client.test"
        );
        let mut e = env();
        e.user = None;
        match mode_in(&["-t", "a@x.test"], &e) {
            Ok(Mode::Send(c)) => assert_eq!(c.plan.from, "pwalice@client.test"),
            other => panic!("{other:?}"),
        }
        // An explicit --from wins over both.
        assert_eq!(
            send(&["-t", "a@x.test", "-f", "x@y.test", "--force-getpwuid"])
                .plan
                .from,
            "x@y.test"
        );
    }

    #[test]
    fn tls_depth_flags() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("c.pem");
        let key = dir.path().join("k.pem");
        std::fs::write(&cert, "x").unwrap();
        std::fs::write(&key, "x").unwrap();
        let (c, k) = (cert.to_str().unwrap(), key.to_str().unwrap());
        let cfg = send(&[
            "-t",
            "a@x.test",
            "--tls-protocol",
            "tlsv1_2",
            "--tls-cipher",
            "HIGH",
            "--tls-ciphersuites",
            "TLS_AES_128_GCM_SHA256",
            "--tls-cert",
            c,
            "--tls-key",
            k,
            "--tls-get-peer-cert",
            "--tls-get-peer-chain",
            "/tmp/chain.pem",
        ]);
        let t = cfg.connect.link.tls;
        assert_eq!(t.protocols, Some(vec![crate::net::tls::TlsVersion::Tls1_2]));
        assert_eq!(t.cipher_list.as_deref(), Some("HIGH"));
        assert_eq!(t.ciphersuites.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
        assert_eq!(t.client_cert.unwrap().key, key);
        assert_eq!(t.peer_cert_out, Some(PemOut::Transcript));
        assert_eq!(
            t.peer_chain_out,
            Some(PemOut::File("/tmp/chain.pem".into()))
        );
        // Cert and key need each other (clap), and must exist.
        let argv =
            |a: &[&str]| Cli::parse_args(std::iter::once("ehlo").chain(a.iter().copied())).is_err();
        assert!(argv(&["-t", "a@x.test", "--tls-cert", c]));
        assert!(argv(&["-t", "a@x.test", "--tls-key", k]));
        assert!(argv(&["-t", "a@x.test", "--tls-chain", c]));
        let e = err(&["-t", "a@x.test", "--tls-cert", "/no/c.pem", "--tls-key", k]);
        assert!(e.starts_with("--tls-cert: /no/c.pem"), "{e}");
    }

    #[test]
    fn family_checks() {
        assert_eq!(
            send(&["-t", "a@x.test", "-4"]).connect.link.family,
            Family::V4
        );
        assert!(err(&["-t", "a@x.test", "-4", "-s", "::1"]).contains("-4"));
        assert!(err(&["-t", "a@x.test", "-6", "-s", "127.0.0.1"]).contains("-6"));
        assert!(err(&["-t", "a@[127.0.0.1]", "-6"]).contains("-6"));
        assert!(err(&["-t", "a@x.test", "-6", "--li", "127.0.0.1"]).contains("--local-interface"));
        assert!(
            err(&["-t", "a@x.test", "-s", "::1", "--li", "127.0.0.1"])
                .contains("different IP families")
        );
        let c = send(&[
            "-t",
            "a@x.test",
            "-s",
            "127.0.0.1",
            "--li",
            "127.0.0.2:4000",
        ]);
        let bind = |host: Option<&str>, port| {
            Some(crate::net::route::LocalBind {
                host: host.map(str::to_string),
                port,
            })
        };
        assert_eq!(c.connect.link.local, bind(Some("127.0.0.2"), 4000));
        let c = send(&[
            "-t",
            "a@x.test",
            "--li",
            "client.example",
            "--lport",
            "2500",
        ]);
        assert_eq!(c.connect.link.local, bind(Some("client.example"), 2500));
        let c = send(&["-t", "a@x.test", "--li", "127.0.0.2:4000", "--lp", "4001"]);
        assert_eq!(c.connect.link.local, bind(Some("127.0.0.2"), 4001));
        let c = send(&["-t", "a@x.test", "--local-port", "2501"]);
        assert_eq!(c.connect.link.local, bind(None, 2501));
        // --copy-routing: the MX of another domain than the recipient's.
        let c = send(&["-t", "a@x.test", "--copy-routing", "Relay.Example"]);
        assert_eq!(
            c.connect.target,
            Target::Mx {
                domain: "relay.example".into(),
                port: 25
            }
        );
        let c = send(&[
            "-t",
            "a@x.test",
            "--copy-routing",
            "[192.0.2.5]",
            "-p",
            "submission",
        ]);
        assert_eq!(
            c.connect.target,
            Target::Host {
                host: "192.0.2.5".into(),
                port: 587
            }
        );
    }

    #[test]
    fn timeouts_and_dns() {
        let c = send(&["-t", "a@x.test"]);
        assert_eq!(c.connect.link.timeout, Duration::from_secs(30));
        assert_eq!(c.connect.link.connect_timeout, Duration::from_secs(30));
        assert_eq!(c.connect.link.dns.timeout, Duration::from_secs(5));
        assert_eq!(c.connect.link.dns.server, None);
        let c = send(&[
            "-t",
            "a@x.test",
            "--timeout",
            "2",
            "--connect-timeout",
            "1m",
        ]);
        assert_eq!(c.connect.link.timeout, Duration::from_secs(2));
        assert_eq!(c.connect.link.connect_timeout, Duration::from_secs(60));
        assert_eq!(c.connect.link.dns.timeout, Duration::from_secs(2));
        let c = send(&[
            "-t",
            "a@x.test",
            "--timeout",
            "0",
            "--dns-server",
            "127.0.0.1:5353",
        ]);
        assert_eq!(c.connect.link.timeout, Duration::ZERO);
        assert_eq!(c.connect.link.dns.timeout, Duration::from_secs(5));
        assert_eq!(
            c.connect.link.dns.server,
            Some("127.0.0.1:5353".parse().unwrap())
        );
    }

    #[test]
    fn message_sources() {
        let c = send(&["-t", "a@x.test", "--body", "hello"]);
        let text = String::from_utf8(c.plan.message).unwrap();
        assert!(text.ends_with("\n\nhello\n"), "{text}");
        assert!(
            text.starts_with("Date: Tue, 02 Jan 2024 03:04:05 +0000\n"),
            "{text}"
        );
        assert_eq!(c.plan.fixup, Fixup::ALL);

        let c = send(&["-t", "a@x.test", "--body", "-"]);
        assert!(c.plan.message.ends_with(b"\n\nfrom stdin\n"));

        let c = send(&[
            "-t",
            "a@x.test",
            "-d",
            "Subject: x\\n\\nhi",
            "--ndf",
            "--dump-mail",
        ]);
        assert_eq!(c.plan.message, b"Subject: x\n\nhi");
        assert_eq!(c.plan.fixup, Fixup::NONE);
        let c = send(&["-t", "a@x.test", "-d", "@@literal"]);
        assert_eq!(c.plan.message, b"@literal");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("msg.eml");
        std::fs::write(&path, b"Subject: file\r\n\r\nraw \\n stays\r\n").unwrap();
        let arg = format!("@{}", path.display());
        let c = send(&["-t", "a@x.test", "--data", &arg]);
        assert_eq!(c.plan.message, b"Subject: file\r\n\r\nraw \\n stays\r\n");
        let c = send(&["-t", "a@x.test", "--body", &arg]);
        assert!(c.plan.message.ends_with(b"raw \\n stays\r\n"));

        let e = err(&["-t", "a@x.test", "--body", "@/no/such/file"]);
        assert!(e.starts_with("--body: cannot read /no/such/file: "), "{e}");
        let e = err(&["-t", "a@x.test", "--header", "no colon"]);
        assert!(e.starts_with("--header:"), "{e}");
        let e = err(&["-t", "a@x.test", "--ah", "Bad Name: x"]);
        assert!(e.starts_with("--add-header:"), "{e}");
        let c = send(&["-t", "a@x.test", "--header", "Subject: hi", "--dump-mail"]);
        assert!(c.dump_mail);
        assert!(
            String::from_utf8(c.plan.message)
                .unwrap()
                .contains("\nSubject: hi\n")
        );
    }

    #[test]
    fn data_fixups_and_tokens() {
        let fix = |extra: &[&str]| {
            let mut args = vec!["-t", "a@x.test", "-d", "x", "--dump-mail"];
            args.extend_from_slice(extra);
            send(&args).plan.fixup
        };
        assert_eq!(fix(&[]), Fixup::ALL);
        assert_eq!(fix(&["--no-data-fixup", "--no-dot-stuffing"]), Fixup::NONE);
        let only = |f: fn(&mut Fixup)| {
            let mut x = Fixup::ALL;
            f(&mut x);
            x
        };
        assert_eq!(fix(&["--no-dot-stuffing"]), only(|f| f.dot_stuff = false));
        assert_eq!(fix(&["--no-crlf-fixup"]), only(|f| f.crlf = false));
        assert_eq!(fix(&["--nsf"]), only(|f| f.strip_from = false));
        assert_eq!(
            fix(&["--no-strip-from", "--no-crlf-fixup", "--no-dot-stuffing"]),
            Fixup {
                end_marker: true,
                ..Fixup::NONE
            }
        );
        // Tokens in --data, except with --no-data-fixup (swaks: raw means raw).
        let c = send(&[
            "-t",
            "a@x.test",
            "-d",
            "Date: %DATE%\n%NEW_HEADERS%\n\n%BODY%",
        ]);
        assert_eq!(
            c.plan.message,
            b"Date: Tue, 02 Jan 2024 03:04:05 +0000\n\nThis is a test mailing"
        );
        let c = send(&["-t", "a@x.test", "-d", "%DATE%", "--ndf", "--dump-mail"]);
        assert_eq!(c.plan.message, b"%DATE%");
    }

    #[test]
    fn attachments() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("report.pdf");
        std::fs::write(&pdf, b"%PDF-1.4 \x00\xff").unwrap();
        let pdf_arg = format!("@{}", pdf.display());
        let c = send(&[
            "-t",
            "a@x.test",
            "--attach",
            &pdf_arg,
            "--attach",
            "plain words",
        ]);
        let text = String::from_utf8(c.plan.message).unwrap();
        assert!(
            text.contains("Content-Type: application/pdf\nContent-Disposition: attachment; filename=\"report.pdf\"\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "Content-Type: application/octet-stream\nContent-Disposition: attachment\n"
            ),
            "{text}"
        );
        // --attach-type is sticky, --attach-name applies once; stdin works for one part.
        let c = send(&[
            "-t",
            "a@x.test",
            "--attach-type",
            "image/x-test",
            "--attach-name",
            "one.img",
            "--attach",
            "1",
            "--attach",
            "-",
            "--attach-name",
            "--attach-inline",
            &pdf_arg,
        ]);
        let text = String::from_utf8(c.plan.message).unwrap();
        assert!(
            text.contains("Content-Type: image/x-test\nContent-Disposition: attachment; filename=\"one.img\"\n"),
            "{text}"
        );
        assert!(
            text.contains("Content-Type: image/x-test\nContent-Disposition: attachment\n"),
            "{text}"
        );
        assert!(
            text.contains("Content-Type: image/x-test\nContent-Disposition: inline\nContent-ID: <part1@client.test>\n"),
            "{text}"
        );
        assert_eq!(
            c.notes,
            [
                "inline part 1 (image/x-test): Content-ID <part1@client.test>, reference it as cid:part1@client.test"
            ]
        );

        let e = err(&["-t", "a@x.test", "--attach", "@/no/such/file.bin"]);
        assert!(
            e.starts_with("--attach: cannot read /no/such/file.bin: "),
            "{e}"
        );
        let e = err(&["-t", "a@x.test", "--attach-inline", "@/no/such/dir/"]);
        assert!(
            e.starts_with("--attach-inline: cannot read /no/such/dir/: "),
            "{e}"
        );
        let e = err(&[
            "-t",
            "a@x.test",
            "--attach-body",
            &format!("@{}", dir.path().display()),
        ]);
        assert!(e.starts_with("--attach-body: cannot read "), "{e}");
        let e = err(&[
            "-t",
            "a@x.test",
            "--attach-type",
            "nonsense",
            "--attach",
            "x",
        ]);
        assert!(
            e.starts_with("--attach-type: 'nonsense' is not a MIME type"),
            "{e}"
        );
        let e = err(&["-t", "a@x.test", "--attach-name", "a\nb", "--attach", "x"]);
        assert!(e.starts_with("--attach-name:"), "{e}");
        let e = err(&["-t", "a@x.test", "--body", "-", "--attach", "-"]);
        assert!(
            e.starts_with("--attach: stdin can be read only once"),
            "{e}"
        );
        // A dangling --attach-type or --attach-name is a parse error (exit 1).
        for args in [
            &[
                "-t",
                "a@x.test",
                "--attach",
                "x",
                "--attach-type",
                "text/html",
            ][..],
            &["-t", "a@x.test", "--attach-name", "n"],
        ] {
            let argv = std::iter::once("ehlo").chain(args.iter().copied());
            let e = Cli::parse_args(argv).unwrap_err();
            assert!(e.to_string().contains("none follows"), "{e}");
            assert!(e.use_stderr());
        }
        // --data takes no parts.
        let argv = ["ehlo", "-t", "a@x.test", "-d", "x", "--attach", "y"];
        assert!(Cli::parse_args(argv).is_err());
    }

    #[test]
    fn addresses_with_spaces_are_refused() {
        let e = err(&["-t", "Bob Smith <b@x.test>"]);
        assert!(
            e.starts_with("--to: 'Bob Smith <b@x.test>' contains white space"),
            "{e}"
        );
        let e = err(&["-t", "a@x.test", "--cc", "c d@x.test"]);
        assert!(e.starts_with("--cc: "), "{e}");
        let e = err(&["-t", "a@x.test", "--bcc", "c@x\ttest"]);
        assert!(e.starts_with("--bcc: "), "{e}");
        let e = err(&["-t", "a@x.test", "-f", "me @x.test"]);
        assert!(e.starts_with("--from: "), "{e}");
        // A quoted local part may hold spaces (RFC 5321 §4.1.2).
        let c = send(&["-t", "\"a b\"@x.test"]);
        assert_eq!(c.plan.rcpts, ["\"a b\"@x.test"]);
        assert!(err(&["-t", "\"a b\"@x test"]).starts_with("--to: "));
    }

    #[test]
    fn output_format() {
        let c = send(&["-t", "a@x.test", "--json"]);
        assert_eq!(c.format, Format::Json);
        let c = send(&[
            "-t",
            "a@x.test",
            "-S",
            "--stl",
            "i",
            "-n",
            "--raw",
            "--nth",
            "--color",
            "never",
            "--explain",
            "all",
        ]);
        assert_eq!(
            c.format,
            Format::Human(HumanOptions {
                color: ColorChoice::Never,
                explain: crate::render::ExplainLevel::All,
                time_lapse: Some(true),
                suppress_data: true,
                silent: 1,
                show_raw: true,
                hints: false,
                hide: Kinds::default(),
                bare: Kinds::default(),
                repl: false,
            })
        );
        let c = send(&["-t", "a@x.test", "--stl"]);
        let Format::Human(h) = c.format else { panic!() };
        assert_eq!(h.time_lapse, Some(false));
        assert_eq!(h.silent, 0);
        assert!(h.hints);
    }

    #[test]
    fn serve_and_demo() {
        let Ok(Mode::Serve(o)) = mode(&[
            "serve",
            "--starttls",
            "--user",
            "a:b",
            "--json",
            "--max-sessions",
            "3",
        ]) else {
            panic!("not serve")
        };
        assert!(o.starttls && !o.tls_on_connect);
        assert_eq!(o.users, [("a".to_string(), "b".to_string())]);
        assert_eq!(o.format, Format::Json);
        assert_eq!(o.max_sessions, Some(3));
        assert_eq!(o.max_size, 10 << 20);
        let Ok(Mode::Demo(f)) = mode(&["demo", "--color", "always"]) else {
            panic!("not demo")
        };
        assert_eq!(
            f,
            Format::Human(HumanOptions {
                color: ColorChoice::Always,
                ..HumanOptions::default()
            })
        );
    }

    #[test]
    fn extension_and_transport_flags() {
        let c = send(&["-t", "a@x.test", "-s", "h"]);
        assert_eq!(c.connect.link.transport, Transport::Tcp);
        assert!(c.plan.ext.bdat.is_none() && c.plan.ext.dsn.is_empty());
        let c = send(&[
            "-t",
            "a@x.test",
            "--socket",
            "/run/lmtp.sock",
            "--bdat",
            "--dsn-notify",
            "failure,delay",
            "--dsn-ret",
            "full",
            "--prdr",
            "--smtputf8",
            "--force-ext",
            "--requiretls",
        ]);
        assert_eq!(
            c.connect.link.transport,
            Transport::Socket("/run/lmtp.sock".into())
        );
        assert_eq!(c.plan.ext.bdat, Some(0));
        assert_eq!(c.plan.ext.dsn.notify.as_deref(), Some("FAILURE,DELAY"));
        assert_eq!(c.plan.ext.dsn.ret, Some(Ret::Full));
        assert!(c.plan.ext.prdr && c.plan.ext.smtputf8 && c.plan.ext.force);
        assert!(
            c.plan.ext.requiretls,
            "allowed without TLS under --force-ext"
        );
        assert_eq!(
            send(&["-t", "a@x.test", "--bdat", "64K"]).plan.ext.bdat,
            Some(65536)
        );
        let c = send(&[
            "-t",
            "a@x.test",
            "--pipe",
            "sendmail -bs",
            "--xclient-name",
            "n",
            "--xclient-addr",
            "192.0.2.1",
            "--xclient",
            "LOGIN=u",
            "--xforward-helo",
            "h",
        ]);
        assert_eq!(
            c.connect.link.transport,
            Transport::Pipe("sendmail -bs".into())
        );
        let x = c.plan.ext.xclient.unwrap();
        let names: Vec<_> = x.attrs().into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["ADDR", "NAME"], "Postfix's documented order");
        assert_eq!(x.commands[1], XclientCommand::Raw("LOGIN=u".into()));
        assert_eq!(x.commands.len(), 2);
        assert_eq!(c.plan.ext.xforward[0].name, "HELO");
        let c = send(&["-s", "h", "--proxy", "PROXY UNKNOWN", "-q", "proxy"]);
        assert_eq!(
            c.connect.link.proxy.as_deref(),
            Some(&b"PROXY UNKNOWN\r\n"[..])
        );
        assert!(err(&["-s", "h", "-q", "proxy"]).contains("PROXY"));
        assert!(err(&["-s", "h", "-q", "xclient"]).contains("XCLIENT"));
        assert!(err(&["-t", "a@x.test", "--pipe", " "]).contains("--pipe"));
        assert!(err(&["-t", "a@x.test", "--dsn-envid", &"x".repeat(101)]).contains("--dsn-envid"));
        assert!(err(&["-t", "a@x.test", "--xclient-addr", ""]).contains("--xclient-addr"));
    }

    /// swaks's PROXY defaults: version 1 once any attribute is given, its v2 family names, and a
    /// raw --proxy TEXT sent as "PROXY TEXT".
    #[test]
    fn proxy_swaks_defaults() {
        let proxy = |extra: &[&str]| -> Result<Vec<u8>, String> {
            let mut args = vec!["-s", "h", "-q", "proxy"];
            args.extend_from_slice(extra);
            let cli = Cli::parse_args(std::iter::once("ehlo").chain(args.iter().copied()))
                .map_err(|e| e.to_string())?;
            match from_cli_in(cli, &env()).map_err(|e| e.to_string())? {
                Mode::Send(c) => Ok(c.connect.link.proxy.unwrap()),
                _ => panic!("not a send"),
            }
        };
        let addrs = [
            "--proxy-source",
            "192.0.2.1",
            "--proxy-source-port",
            "5555",
            "--proxy-dest",
            "192.0.2.2",
            "--proxy-dest-port",
            "25",
        ];
        assert_eq!(
            proxy(&addrs).unwrap(),
            b"PROXY TCP4 192.0.2.1 192.0.2.2 5555 25\r\n"
        );
        assert_eq!(
            proxy(&["--proxy", "TCP4 192.0.2.1 192.0.2.2 5555 25"]).unwrap(),
            b"PROXY TCP4 192.0.2.1 192.0.2.2 5555 25\r\n"
        );
        // Already spelt with the word: not doubled.
        assert_eq!(
            proxy(&["--proxy", "PROXY UNKNOWN"]).unwrap(),
            b"PROXY UNKNOWN\r\n"
        );
        let mut v2 = vec!["--proxy-version", "2", "--proxy-family", "AF_INET"];
        v2.extend_from_slice(&addrs);
        let h = proxy(&v2).unwrap();
        assert_eq!(h[13], 0x11, "AF_INET, STREAM");
        let mut v2 = vec!["--proxy-version", "2", "--proxy-family", "AF_INET6"];
        v2.extend_from_slice(&[
            "--proxy-source",
            "2001:db8::1",
            "--proxy-source-port",
            "1",
            "--proxy-dest",
            "2001:db8::2",
            "--proxy-dest-port",
            "2",
        ]);
        assert_eq!(proxy(&v2).unwrap()[13], 0x21);
        let h = proxy(&["--proxy-version", "2", "--proxy-family", "AF_UNSPEC"]).unwrap();
        assert_eq!(&h[13..16], &[0, 0, 0]);
        let h = proxy(&[
            "--proxy-version",
            "2",
            "--proxy-family",
            "AF_UNIX",
            "--proxy-source",
            "/run/a.sock",
            "--proxy-dest",
            "/run/b.sock",
        ])
        .unwrap();
        assert_eq!(h[13], 0x31);
        assert!(
            proxy(&[
                "--proxy-family",
                "AF_UNIX",
                "--proxy-source",
                "/a",
                "--proxy-dest",
                "/b"
            ])
            .unwrap_err()
            .contains("version 2")
        );
        // Raw with the v2 version: the signature, then the bytes given.
        let h = proxy(&["--proxy-version", "2", "--proxy", "xyz"]).unwrap();
        assert_eq!(&h[..12], &crate::net::proxy::PROXY_V2_SIGNATURE);
        assert_eq!(&h[12..], b"xyz");
        assert!(
            proxy(&["--proxy", "x", "--proxy-source", "192.0.2.1"])
                .unwrap_err()
                .contains("mixed")
        );
    }

    #[test]
    fn proxy_command_protocol_and_unknown_family() {
        let proxy = |extra: &[&str]| -> Vec<u8> {
            let mut args = vec!["-s", "h", "-q", "proxy"];
            args.extend_from_slice(extra);
            send(&args).connect.link.proxy.unwrap()
        };
        let addrs = [
            "--proxy-source",
            "192.0.2.1",
            "--proxy-source-port",
            "5555",
            "--proxy-dest",
            "198.51.100.2",
            "--proxy-dest-port",
            "25",
        ];
        let mut v2_dgram_local = vec![
            "--proxy-version",
            "2",
            "--proxy-command",
            "local",
            "--proxy-protocol",
            "DGRAM",
        ];
        v2_dgram_local.extend_from_slice(&addrs);
        assert_eq!(&proxy(&v2_dgram_local)[12..14], &[0x20, 0x12]);
        assert_eq!(
            proxy(&["--proxy-version", "1", "--proxy-family", "UNKNOWN"]),
            b"PROXY UNKNOWN\r\n"
        );
        let local = proxy(&["--proxy-version", "2", "--proxy-command", "LOCAL"]);
        assert_eq!(
            &local[12..],
            &[0x20, 0x00, 0, 0],
            "LOCAL with no addresses: AF_UNSPEC"
        );
        let e = |extra: &[&str]| {
            let mut args = vec!["-s", "h", "-q", "proxy"];
            args.extend_from_slice(extra);
            match mode(&args) {
                Err(e @ Error::ProxyOption(_)) => {
                    assert_eq!(e.exit_code(), 35);
                    e.to_string()
                }
                other => panic!("{extra:?}: {other:?}"),
            }
        };
        assert!(e(&["--proxy-version", "1", "--proxy-command", "LOCAL"]).contains("version 2"));
        let mut unknown_with_addrs = vec!["--proxy-version", "2", "--proxy-family", "UNKNOWN"];
        unknown_with_addrs.extend_from_slice(&addrs);
        assert!(e(&unknown_with_addrs).contains("no addresses"));
    }

    #[test]
    fn xclient_delim_splits_commands_in_command_line_order() {
        let names = |c: &XclientCommand| match c {
            XclientCommand::Attrs(a) => a
                .iter()
                .map(|a| a.name.clone())
                .collect::<Vec<_>>()
                .join(" "),
            XclientCommand::Raw(r) => format!("raw {r}"),
        };
        let commands = |extra: &[&str]| {
            let mut args = vec!["-t", "a@x.test"];
            args.extend_from_slice(extra);
            let x = send(&args).plan.ext.xclient.unwrap();
            x.commands.iter().map(names).collect::<Vec<_>>()
        };
        // swaks's own example: HELO, then NAME and ADDR (ADDR first, Postfix's order).
        assert_eq!(
            commands(&[
                "--xclient-helo",
                "h s",
                "--xclient-delim",
                "--xclient-name",
                "n",
                "--xclient-addr",
                "192.0.2.1",
            ]),
            ["HELO", "ADDR NAME"]
        );
        // Delimiters at the ends or doubled split nothing; a raw string is a group of its own.
        assert_eq!(
            commands(&[
                "--xclient-delim",
                "--xclient-addr",
                "192.0.2.1",
                "--xclient-delim",
                "--xclient-delim",
                "--xclient",
                "FOO=bar",
                "--xclient-port",
                "25",
                "--xclient-delim",
            ]),
            ["ADDR", "raw FOO=bar", "PORT"]
        );
        // A repeated attribute counts where it was last given.
        assert_eq!(
            commands(&[
                "--xclient-addr",
                "192.0.2.1",
                "--xclient-delim",
                "--xclient-name",
                "n",
                "--xclient-addr",
                "192.0.2.2",
            ]),
            ["ADDR NAME"]
        );
        let x = send(&[
            "-t",
            "a@x.test",
            "--xclient-addr",
            "192.0.2.1",
            "--xclient-optional-strict",
        ])
        .plan
        .ext
        .xclient
        .unwrap();
        assert!(x.optional_strict && !x.optional);
        assert!(err(&["-t", "a@x.test", "--xclient-delim"]).contains("--xclient-delim"));
        assert!(
            err(&["-t", "a@x.test", "--xclient-optional-strict"]).contains("--xclient-optional")
        );
    }
}
