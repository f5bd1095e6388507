//! `Cli` → [`Mode`]: validation and normalisation only (no DNS, no sockets), building the
//! `smtp::client::Plan` and the driver settings (ripgrep's lowargs/hiargs split, style.md
//! practice 8). Every failure is an [`Error::Usage`] whose one-line reason names the flag.
//!
//! The only outside world read here: environment variables (`LOGNAME`/`USER` for the default
//! sender), the host name, the clock (for the message's `Date`), `--body`/`--data` files or stdin,
//! and whether `--tls-ca-path` exists. All of it goes through [`Environment`] so tests can fake it.

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use crate::cli::args::{Cli, Command, DemoArgs, SendArgs, ServeArgs, ServerSpec};
use crate::cli::message::{self, MessageContext, MessageSpec};
use crate::error::Error;
use crate::net::dns::{DnsOptions, Family};
use crate::net::proxy::{ProxyAddrs, ProxyFamily};
use crate::net::tls::TlsParams;
use crate::render::{ColorChoice, Format, HumanOptions};
use crate::serve::ServeOptions;
use crate::smtp::auth::{Credentials, SUPPORTED};
use crate::smtp::client::{
    AuthPlan, AuthRequirement, ExtPlan, Plan, Protocol, StartTls, Stop, StopAt, StopKind,
    XclientPlan,
};
use crate::smtp::data::Fixup;
use crate::smtp::ext::{Attribute, Dsn, Ret};

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `--server host[:port]` (or an address literal from `user@[1.2.3.4]`).
    Host {
        /// Host name or IP literal (no brackets).
        host: String,
        /// Port.
        port: u16,
    },
    /// No `--server`: the MX hosts of this domain, in preference order with failover.
    Mx {
        /// Domain of the last recipient.
        domain: String,
        /// Port.
        port: u16,
    },
}

/// How the bytes travel (`--socket`, `--pipe`; TCP otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Transport {
    /// TCP to `SendConfig::target`.
    #[default]
    Tcp,
    /// A UNIX-domain socket.
    Socket(std::path::PathBuf),
    /// A child process's stdin/stdout (`/bin/sh -c COMMAND`).
    Pipe(String),
}

/// Transport choice and what the driver writes before the banner.
#[derive(Debug, Clone, Default)]
pub struct Link {
    /// Which transport.
    pub transport: Transport,
    /// A PROXY protocol header to write first (HAProxy PROXY protocol v1/v2).
    pub proxy: Option<Vec<u8>>,
}

/// Everything a one-shot send needs.
#[derive(Debug, Clone)]
pub struct SendConfig {
    /// Transport and PROXY header (`target` is used for TCP only).
    pub link: Link,
    /// Where to connect.
    pub target: Target,
    /// `-4` / `-6`.
    pub family: Family,
    /// `--local-interface`.
    pub local: Option<SocketAddr>,
    /// Resolver settings.
    pub dns: DnsOptions,
    /// TLS settings.
    pub tls: TlsParams,
    /// Per-reply timeout (`--timeout`, default 30 s; zero = none).
    pub timeout: Duration,
    /// Per-attempt connect timeout (`--connect-timeout`, default = `timeout`).
    pub connect_timeout: Duration,
    /// The protocol plan.
    pub plan: Plan,
    /// Output.
    pub format: Format,
    /// `--dump-mail`: print the message and send nothing.
    pub dump_mail: bool,
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
    Repl(Box<crate::repl::ReplArgs>),
    /// `ehlo replay`.
    Replay(Box<crate::repl::ReplayArgs>),
}

/// Largest `--body`/`--data` file or stdin ehlo reads (memory stays bounded on `--data @/dev/zero`).
pub const MAX_MESSAGE_BYTES: u64 = 64 << 20;

/// Longest per-query DNS timeout (hickory multiplies it by the attempts, deps.md §3).
const DNS_QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The parts of the process environment the configuration depends on.
pub struct Environment {
    /// `$LOGNAME`, else `$USER` (local part of the default sender).
    pub user: Option<String>,
    /// Local host name (default `--helo`, default sender's domain, `Message-Id`).
    pub hostname: String,
    /// Clock and pid for the default message.
    pub message: MessageContext,
    /// Reads all of stdin (for `--body -` / `--data -`), at most `limit` bytes.
    pub read_stdin: fn(limit: u64) -> std::io::Result<Vec<u8>>,
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
        Environment {
            user,
            message: MessageContext::current(&hostname),
            hostname,
            read_stdin: |limit| {
                let mut buf = Vec::new();
                std::io::stdin().lock().take(limit).read_to_end(&mut buf)?;
                Ok(buf)
            },
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
        Some(Command::Repl(a)) => Ok(Mode::Repl(a)),
        Some(Command::Replay(a)) => Ok(Mode::Replay(a)),
        None => send_config(cli.send, env).map(|c| Mode::Send(Box::new(c))),
    }
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
        format: simple_format(a.json, a.color),
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

/// Read `TEXT`, `-` (stdin) or `@FILE`; `@@X` is the literal text `@X` (swaks's escape).
/// `text` converts a literal argument (for `--data`'s `\n` rule).
fn read_content(
    flag: &str,
    arg: &str,
    env: &Environment,
    text: fn(&str) -> Vec<u8>,
) -> Result<Vec<u8>, Error> {
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
        out.push(a.to_string());
    }
    Ok(out)
}

fn mechanisms(flag: &str, list: &[String]) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for m in list {
        let m = m.trim().to_ascii_uppercase();
        if m.is_empty() {
            continue;
        }
        if !SUPPORTED.contains(&m.as_str()) {
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

    // Family.
    let family = match (transport.ipv4, transport.ipv6) {
        (true, _) => Family::V4,
        (_, true) => Family::V6,
        _ => Family::Any,
    };

    // Envelope.
    let to = addresses("--to", &envelope.to)?;
    let cc = addresses("--cc", &envelope.cc)?;
    let bcc = addresses("--bcc", &envelope.bcc)?;
    let rcpts: Vec<String> = to.iter().chain(&cc).chain(&bcc).cloned().collect();
    let from = match &envelope.from {
        Some(f) => strip_angles(f.trim()).trim().to_string(),
        None => format!("{}@{}", env.user.as_deref().unwrap_or("ehlo"), env.hostname),
    };
    no_line_break("--from", &from)?;
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
    if let Some(local) = transport.local_interface {
        check_family("--local-interface", family, local.ip())?;
        if let Target::Host { host, .. } = &target
            && let Ok(ip) = host.parse::<IpAddr>()
            && family_of(ip) != family_of(local.ip())
        {
            return Err(usage(format!(
                "--local-interface: {} and the server {ip} are of different IP families",
                local.ip()
            )));
        }
    }

    // AUTH.
    let requested = if let Some(m) = &auth.auth {
        Some((AuthRequirement::Required, mechanisms("--auth", m)?))
    } else if let Some(m) = &auth.auth_optional {
        Some((AuthRequirement::Optional, mechanisms("--auth-optional", m)?))
    } else if let Some(m) = &auth.auth_optional_strict {
        Some((
            AuthRequirement::OptionalStrict,
            mechanisms("--auth-optional-strict", m)?,
        ))
    } else if auth.auth_user.is_some() || implied.auth {
        // swaks: --auth-user implies --auth.
        Some((AuthRequirement::Required, Vec::new()))
    } else {
        None
    };
    // TODO(later issue): refuse AUTH over an unencrypted connection unless
    // --allow-plaintext-auth; for now it is accepted and not enforced.
    let _ = auth.allow_plaintext_auth;
    // --auth-hide-password is accepted for swaks scripts; secrets are always hidden.
    let _ = &auth.auth_hide_password;
    let auth_plan = requested.map(|(requirement, mechanisms)| {
        let (host, port) = match &target {
            Target::Host { host, port } if link_transport == Transport::Tcp => {
                (Some(host.clone()), Some(*port))
            }
            _ => (None, None),
        };
        AuthPlan {
            mechanisms,
            requirement,
            credentials: Credentials {
                // TODO(later issue): prompt for a missing user or password on a terminal.
                user: auth
                    .auth_user
                    .as_deref()
                    .map(|u| strip_angles(u).to_string())
                    .unwrap_or_default(),
                password: auth.auth_password.clone(),
                token: auth.auth_oauth_token.clone(),
                authzid: auth.auth_authzid.clone(),
                host,
                port,
                nonce: None,
            },
            force: auth.auth_force,
            show_plaintext: auth.auth_plaintext,
            show_secrets: auth.show_secrets,
        }
    });

    // Message.
    let message = match &msg.data {
        Some(d) => read_content("--data", d, env, message::data_text)?,
        None => {
            for h in msg.header.iter().chain(&msg.add_header) {
                if message::header_name(h).is_none() {
                    let flag = if msg.header.contains(h) {
                        "--header"
                    } else {
                        "--add-header"
                    };
                    return Err(usage(format!("{flag}: '{h}' is not 'Name: value'")));
                }
            }
            let body = msg
                .body
                .as_deref()
                .map(|b| read_content("--body", b, env, |t| t.as_bytes().to_vec()))
                .transpose()?;
            message::compose(
                &MessageSpec {
                    to: &to,
                    cc: &cc,
                    from: &from,
                    headers: &msg.header,
                    add_headers: &msg.add_header,
                    body: body.as_deref(),
                },
                &env.message,
            )
        }
    };

    // TLS.
    if let Some(p) = &tls.tls_ca_path
        && !Path::new(p).exists()
    {
        return Err(usage(format!(
            "--tls-ca-path: {} does not exist",
            p.display()
        )));
    }
    let tls_params = TlsParams {
        sni: tls.tls_sni.clone(),
        verify: !tls.insecure,
        verify_name: tls.tls_verify_target.clone(),
        ca_path: tls.tls_ca_path.clone(),
    };

    // Timeouts: zero means none; DNS queries get at most 5 s each (one retry) so a dead
    // resolver cannot eat the whole reply timeout.
    let timeout = transport.timeout;
    let connect_timeout = transport.connect_timeout.unwrap_or(timeout);
    let dns = DnsOptions {
        server: transport.dns_server,
        timeout: if timeout.is_zero() {
            DNS_QUERY_TIMEOUT
        } else {
            timeout.min(DNS_QUERY_TIMEOUT)
        },
        attempts: 1,
    };

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
        fixup: if msg.no_data_fixup {
            Fixup::NONE
        } else {
            Fixup::ALL
        },
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
        link,
        target,
        family,
        local: transport.local_interface,
        dns,
        tls: tls_params,
        timeout,
        connect_timeout,
        plan,
        format,
        dump_mail: msg.dump_mail,
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
        if x.xclient_before_starttls || x.xclient_optional || x.xclient_no_verify {
            return Err(usage(
                "--xclient-before-starttls/--xclient-optional/--xclient-no-verify: no XCLIENT attributes given (--xclient-addr, --xclient RAW, ...)",
            ));
        }
        None
    } else {
        Some(XclientPlan {
            attrs,
            raw: x.xclient.clone(),
            before_starttls: x.xclient_before_starttls,
            optional: x.xclient_optional,
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

/// The PROXY header to send before the banner, if any. Bad values are exit 35 (swaks's "Error
/// in PROXY option processing"), not 1.
fn proxy_header(x: &crate::cli::args::XclientArgs) -> Result<Option<Vec<u8>>, Error> {
    let bad = |m: String| Error::ProxyOption(m);
    if let Some(raw) = &x.proxy {
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
        return Ok(Some(format!("{text}\r\n").into_bytes()));
    }
    let given = x.proxy_family.is_some()
        || x.proxy_source.is_some()
        || x.proxy_source_port.is_some()
        || x.proxy_dest.is_some()
        || x.proxy_dest_port.is_some();
    let Some(version) = x.proxy_version else {
        if given {
            return Err(bad(
                "--proxy-source/--proxy-dest/...: need --proxy-version 1 or 2".into(),
            ));
        }
        return Ok(None);
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
    let source = ip("--proxy-source", &x.proxy_source)?;
    let addrs = ProxyAddrs {
        family: match x.proxy_family {
            Some(crate::cli::args::ProxyFamilyArg::Tcp4) => ProxyFamily::Tcp4,
            Some(crate::cli::args::ProxyFamilyArg::Tcp6) => ProxyFamily::Tcp6,
            None if source.is_ipv4() => ProxyFamily::Tcp4,
            None => ProxyFamily::Tcp6,
        },
        source,
        source_port: port("--proxy-source-port", &x.proxy_source_port)?,
        dest: ip("--proxy-dest", &x.proxy_dest)?,
        dest_port: port("--proxy-dest-port", &x.proxy_dest_port)?,
    };
    addrs
        .check()
        .map_err(|e| bad(format!("--proxy-family: {e}")))?;
    Ok(Some(if version == 1 { addrs.v1() } else { addrs.v2() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use time::macros::datetime;

    fn env() -> Environment {
        Environment {
            user: Some("alice".into()),
            hostname: "client.test".into(),
            message: MessageContext {
                now: datetime!(2024-01-02 03:04:05 UTC),
                hostname: "client.test".into(),
                pid: 7,
            },
            read_stdin: |_| Ok(b"from stdin\n".to_vec()),
        }
    }

    fn mode(args: &[&str]) -> Result<Mode, Error> {
        let argv = std::iter::once("ehlo").chain(args.iter().copied());
        let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{args:?}: {e}"));
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
            send(&["-t", "a@x.test", "-s", "mx.test"]).target,
            host("mx.test", 25)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "mx.test:2525"]).target,
            host("mx.test", 2525)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "mx.test:2525", "-p", "587"]).target,
            host("mx.test", 587)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "[::1]:26"]).target,
            host("::1", 26)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "::1/27"]).target,
            host("::1", 27)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "h", "--tlsc"]).target,
            host("h", 465)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "h", "--protocol", "lmtp"]).target,
            host("h", 24)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "h", "--protocol", "ssmtp"]).target,
            host("h", 465)
        );
        assert_eq!(
            send(&["-t", "a@x.test", "-s", "h:2525", "--tlsc"]).target,
            host("h", 2525)
        );
    }

    #[test]
    fn mx_target_from_last_recipient() {
        let c = send(&["-t", "a@first.test", "--cc", "b@Second.Test"]);
        assert_eq!(
            c.target,
            Target::Mx {
                domain: "second.test".into(),
                port: 25
            }
        );
        let c = send(&["-t", "a@x.test", "--bcc", "z@last.test", "-p", "2525"]);
        assert_eq!(
            c.target,
            Target::Mx {
                domain: "last.test".into(),
                port: 2525
            }
        );
        assert_eq!(send(&["-t", "a@[192.0.2.1]"]).target, host("192.0.2.1", 25));
        assert_eq!(
            send(&["-t", "a@[IPv6:2001:db8::1]"]).target,
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
            text.contains("\nTo: a@x.test, b@x.test, c@x.test\n"),
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
        let c = send(&["-t", "a@x.test", "--protocol", "esmtpsa"]);
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
            c.target,
            Target::Mx {
                domain: "x.test".into(),
                port: 25
            }
        );
        let c = send(&["-t", "a@x.test", "--tlsos"]);
        assert_eq!(c.plan.starttls, StartTls::OptionalStrict);
        let c = send(&["-t", "a@x.test"]);
        assert_eq!(c.plan.starttls, StartTls::Off);
        assert!(c.tls.verify);
        let c = send(&[
            "-t",
            "a@x.test",
            "-k",
            "--tls-sni",
            "sni.test",
            "--tls-verify-target",
            "v.test",
        ]);
        assert!(!c.tls.verify);
        assert_eq!(c.tls.sni.as_deref(), Some("sni.test"));
        assert_eq!(c.tls.verify_name.as_deref(), Some("v.test"));
        assert!(
            err(&["-t", "a@x.test", "--tls-ca-path", "/no/such/ca.pem"]).contains("--tls-ca-path")
        );
        let dir = std::env::temp_dir();
        let c = send(&["-t", "a@x.test", "--tls-ca-path", dir.to_str().unwrap()]);
        assert_eq!(c.tls.ca_path.as_deref(), Some(dir.as_path()));
    }

    #[test]
    fn auth_plan() {
        assert!(send(&["-t", "a@x.test"]).plan.auth.is_none());
        // --auth-user implies --auth.
        let c = send(&["-t", "a@x.test", "-s", "h", "--au", "<>", "--ap", "pw"]);
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
        assert!(a.credentials.nonce.is_none());
        let c = send(&[
            "-t",
            "a@x.test",
            "--ao",
            "plain, Login,PLAIN",
            "--au",
            "u",
            "--apt",
        ]);
        let a = c.plan.auth.unwrap();
        assert_eq!(a.requirement, AuthRequirement::Optional);
        assert_eq!(a.mechanisms, ["PLAIN", "LOGIN"]);
        assert!(a.show_plaintext);
        assert_eq!(a.credentials.host, None);
        let c = send(&["-t", "a@x.test", "--aos", "--auth-force", "--show-secrets"]);
        let a = c.plan.auth.unwrap();
        assert_eq!(a.requirement, AuthRequirement::OptionalStrict);
        assert!(a.force && a.show_secrets);
        assert!(err(&["-t", "a@x.test", "-a", "NTLM"]).contains("does not implement NTLM"));
    }

    #[test]
    fn family_checks() {
        assert_eq!(send(&["-t", "a@x.test", "-4"]).family, Family::V4);
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
        assert_eq!(c.local, Some("127.0.0.2:4000".parse().unwrap()));
    }

    #[test]
    fn timeouts_and_dns() {
        let c = send(&["-t", "a@x.test"]);
        assert_eq!(c.timeout, Duration::from_secs(30));
        assert_eq!(c.connect_timeout, Duration::from_secs(30));
        assert_eq!(c.dns.timeout, Duration::from_secs(5));
        assert_eq!(c.dns.server, None);
        let c = send(&[
            "-t",
            "a@x.test",
            "--timeout",
            "2",
            "--connect-timeout",
            "1m",
        ]);
        assert_eq!(c.timeout, Duration::from_secs(2));
        assert_eq!(c.connect_timeout, Duration::from_secs(60));
        assert_eq!(c.dns.timeout, Duration::from_secs(2));
        let c = send(&[
            "-t",
            "a@x.test",
            "--timeout",
            "0",
            "--dns-server",
            "127.0.0.1:5353",
        ]);
        assert_eq!(c.timeout, Duration::ZERO);
        assert_eq!(c.dns.timeout, Duration::from_secs(5));
        assert_eq!(c.dns.server, Some("127.0.0.1:5353".parse().unwrap()));
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

        let c = send(&["-t", "a@x.test", "-d", "Subject: x\\n\\nhi", "--ndf"]);
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
        assert_eq!(c.link.transport, Transport::Tcp);
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
        assert_eq!(c.link.transport, Transport::Socket("/run/lmtp.sock".into()));
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
        assert_eq!(c.link.transport, Transport::Pipe("sendmail -bs".into()));
        let x = c.plan.ext.xclient.unwrap();
        let names: Vec<_> = x.attrs.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["ADDR", "NAME"], "Postfix's documented order");
        assert_eq!(x.raw, ["LOGIN=u"]);
        assert_eq!(c.plan.ext.xforward[0].name, "HELO");
        let c = send(&["-s", "h", "--proxy", "PROXY UNKNOWN", "-q", "proxy"]);
        assert_eq!(c.link.proxy.as_deref(), Some(&b"PROXY UNKNOWN\r\n"[..]));
        assert!(err(&["-s", "h", "-q", "proxy"]).contains("PROXY"));
        assert!(err(&["-s", "h", "-q", "xclient"]).contains("XCLIENT"));
        assert!(err(&["-t", "a@x.test", "--pipe", " "]).contains("--pipe"));
        assert!(err(&["-t", "a@x.test", "--dsn-envid", &"x".repeat(101)]).contains("--dsn-envid"));
        assert!(err(&["-t", "a@x.test", "--xclient-addr", ""]).contains("--xclient-addr"));
    }
}
