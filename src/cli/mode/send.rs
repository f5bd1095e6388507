//! A one-shot send's flags → `SendConfig`: the connection plan and the session's `Plan`.

use std::net::IpAddr;

use super::auth::{auth_extra, auth_map, confirm_plaintext_auth, find_secrets, mechanisms};
use super::content::{compose, fixup_of, raw_data_end};
use super::ext::ext_plan;
use super::proxy::proxy_header;
use super::{
    Environment, OutputFiles, SendConfig, addresses, helo_name, no_line_break, no_space,
    strip_angles, usage,
};
use crate::cli::args::{
    AuthArgs, DnssecArg, EnvelopeArgs, Implied, OutputArgs, ProtocolArg, SendArgs, ServerSpec,
    TlsArgs, TlsVerifyArg, TransportArgs,
};
use crate::error::Error;
use crate::net::dns::{DnsOptions, DnssecMode, Family};
use crate::net::route::{ConnectPlan, Link, Target, Transport};
use crate::net::tls::{ClientCert, PemOut, TlsParams};
use crate::render::{Format, HumanOptions, Kinds};
use crate::smtp::auth::Credentials;
use crate::smtp::client::{
    AuthPlan, AuthRequirement, Plan, Protocol, StartTls, Stop, StopAt, StopKind,
};
use crate::smtp::codes::{TlsAsked, TlsProtocol};
use crate::smtp::data::Fixup;
use crate::smtp::event::VerifyPart;

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
    // One trailing dot makes an absolute name (RFC 1034 §3.1); a second is an empty label.
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if let Some(lit) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        // `get` rather than indexing: a non-ASCII literal must not panic on a char boundary.
        let (lit, tagged) = match (lit.get(..5), lit.get(5..)) {
            (Some(tag), Some(addr)) if tag.eq_ignore_ascii_case("ipv6:") => (addr, true),
            _ => (lit, false),
        };
        return match lit.parse::<IpAddr>() {
            // RFC 5321 §4.1.3: after `IPv6:` comes an IPv6 address; `[IPv6:192.0.2.1]` went
            // to 192.0.2.1 with a RCPT no server takes (Postfix: 501 5.1.3 Bad recipient
            // address syntax).
            Ok(IpAddr::V4(v4)) if tagged => Err(usage(format!(
                "--to: '{domain}' in '{rcpt}' tags an IPv4 address as IPv6: write [{v4}] (RFC 5321 §4.1.3)"
            ))),
            Ok(ip) => Ok(Err(ip)),
            Err(_) => Err(usage(format!(
                "--to: '[{lit}]' in '{rcpt}' is not an IP address"
            ))),
        };
    }
    if domain.is_empty() {
        return Err(usage(format!("--to: '{rcpt}' has an empty domain")));
    }
    // swaks's decimal IPv4 form (`user@#16909060` is 1.2.3.4) is an address too: no MX lookup.
    if domain.starts_with('#')
        && let Some(ip) = crate::net::dns::parse_ip_literal(domain)
    {
        return Ok(Err(ip));
    }
    if let Some(why) = crate::net::route::unaskable(domain) {
        return Err(usage(format!(
            "--to: the domain of '{rcpt}' cannot be looked up for its MX: {why}; give --server \
             to send to it anyway"
        )));
    }
    Ok(Ok(domain.to_ascii_lowercase()))
}

/// The envelope addresses whose domain ends in a dot: an absolute name in DNS (RFC 1034 §3.1),
/// which the MX lookup takes, but no `Domain` in SMTP's grammar (RFC 5321 §4.1.2), so a server
/// may refuse the command (501) or take it for another domain. Sent as typed, as swaks does
/// (Postfix's own client would drop the dot); one warning per flag.
fn trailing_dots(from: &str, to: &[String], cc: &[String], bcc: &[String]) -> Vec<String> {
    let dotted = |a: &str| a.rsplit_once('@').is_some_and(|(_, d)| d.ends_with('.'));
    let from = [from.to_string()];
    let mut out = Vec::new();
    for (flag, list) in [
        ("--from", &from[..]),
        ("--to", to),
        ("--cc", cc),
        ("--bcc", bcc),
    ] {
        let named: Vec<&str> = list
            .iter()
            .map(String::as_str)
            .filter(|a| dotted(a))
            .collect();
        if let Some(first) = named.first() {
            let more = match named.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            out.push(format!(
                "{flag} {first}{more}: a domain ending in a dot is no domain in SMTP (RFC 5321 \
                 §4.1.2): sent as typed, as swaks sends it; a server may refuse it (Exim: 501) — \
                 leave the dot out"
            ));
        }
    }
    out
}

/// The stop point of `-q`, `--drop-after` and `--drop-after-send`. Given together, the first
/// one the session reaches applies, as in swaks, which checks each at its step: at one step the
/// drop after sending comes first, then the drop after the reply, then QUIT.
/// `xclient_before_starttls` puts the XCLIENT steps before TLS.
/// The addresses with an ASCII local part whose domain is not ASCII, each with its domain in
/// A-labels (IDNA, RFC 5891 §4, as DNS is asked for it): the form the session sends to a server
/// that does not offer SMTPUTF8 ([`Plan::a_labels`]). A local part may be quoted and hold `@`:
/// the domain follows the last one.
fn a_labels<'a>(addrs: impl Iterator<Item = &'a String>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for addr in addrs {
        let Some((local, domain)) = addr.rsplit_once('@') else {
            continue;
        };
        if !local.is_ascii() || domain.is_ascii() || out.iter().any(|(a, _)| a == addr) {
            continue;
        }
        let ace = crate::net::dns::ascii_host(domain);
        if ace.is_ascii() {
            out.push((addr.clone(), format!("{local}@{ace}")));
        }
    }
    out
}

fn stop_of(a: &crate::cli::args::StopArgs, xclient_before_starttls: bool) -> Option<Stop> {
    use crate::cli::args::StopPoint as P;
    let rank = |p: P| match p {
        P::Proxy => 0,
        P::Connect => 1,
        P::FirstHelo => 2,
        P::Xclient if xclient_before_starttls => 3,
        P::XclientHelo if xclient_before_starttls => 4,
        P::Tls => 5,
        P::Xclient => 6,
        P::XclientHelo => 7,
        P::Helo => 8,
        P::Auth => 9,
        P::Mail => 10,
        P::Rcpt => 11,
        P::Data => 12,
        P::Dot => 13,
    };
    let candidates = [
        a.drop_after_send.map(|p| (p, StopKind::DropAfterSend)),
        a.drop_after.map(|p| (p, StopKind::Drop)),
        a.quit_after.map(|p| (p.0, StopKind::Quit)),
    ];
    // min_by_key keeps the first of equal ranks: the order above.
    candidates
        .into_iter()
        .flatten()
        .min_by_key(|&(p, _)| rank(p))
        .map(|(p, kind)| Stop { kind, at: p.at() })
}

/// Does the session stop before it sends any RCPT (so no recipient is needed)? Those that stop
/// before AUTH could start, and those that stop after AUTH or MAIL.
fn stops_before_rcpt(stop: Option<Stop>) -> bool {
    stops_before_auth(stop) || stop.is_some_and(|s| matches!(s.at, StopAt::Auth | StopAt::Mail))
}

/// Does the session stop before AUTH could start (so no credential can go out)?
fn stops_before_auth(stop: Option<Stop>) -> bool {
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
        )
    })
}

pub(super) fn send_config(a: SendArgs, env: &Environment) -> Result<SendConfig, Error> {
    // --dump-as-body (-dabsp implies it) makes the body the dump of the finished settings, so
    // it needs the arguments as given once the rest is resolved. --body wins (as in swaks).
    let dump_body = match (
        &a.message.dump_as_body,
        a.message.dump_as_body_shows_password,
    ) {
        (Some(s), _) => Some(s.clone()),
        (None, true) => Some(crate::cli::dump::Sections::all()),
        (None, false) => None,
    }
    .filter(|_| a.message.body.is_none())
    .map(|s| (s.for_body(), a.clone()));
    // --dump and --dump-mail send nothing: no question, no prompt, no ~/.netrc.
    let sends = !a.message.dump_mail && a.output.dump.is_none();
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

    let implied = transport.protocol.map(|p| p.implies()).unwrap_or_default();
    let tls_use = tls_use(&tls, &transport, &implied)?;
    let (starttls, tls_on_connect) = (tls_use.starttls, tls_use.tls_on_connect);
    let protocol = implied.protocol;
    let family = Family::from_flags(transport.ipv4, transport.ipv6);
    let Envelope {
        to,
        to_typed,
        cc,
        cc_typed,
        bcc,
        bcc_typed,
        from,
        helo,
    } = envelope_of(&envelope, env)?;
    let rcpts: Vec<String> = to.iter().chain(&cc).chain(&bcc).cloned().collect();

    // Stop point and where to connect.
    let stop = stop_of(&stop, xclient_args.xclient_before_starttls);
    if rcpts.is_empty() && !stops_before_rcpt(stop) {
        return Err(usage(
            "--to: no recipient given (a stop point before RCPT, like -q ehlo, needs only --server)",
        ));
    }
    super::ext::orcpt_check(ext_args.dsn_orcpt, &rcpts)?;
    let route = route(&transport, &rcpts, family, protocol, tls_on_connect)?;
    let mut auth_notes = Vec::new();
    let auth_plan = auth_plan(
        &auth,
        implied.auth,
        &tls_use,
        (&route.target, &route.transport),
        // Whether stdin carries the message: then it is not read for a missing secret.
        (
            sends,
            stops_before_auth(stop),
            !super::content::stdin_users(&msg).is_empty(),
        ),
        env,
        &mut auth_notes,
    )?;
    // swaks's `--auth-hide-password TEXT` shows the base64 of TEXT in place of the password;
    // here every secret of the exchange is `********`, so a given text is not used: said,
    // never quoted (it may be a password typed in the wrong place).
    let hide_text_unused = (auth_plan.is_some()
        && auth
            .auth_hide_password
            .as_ref()
            .is_some_and(|t| t.as_ref().is_some_and(|t| !t.is_empty())))
    .then(|| {
        "--auth-hide-password: its text is not shown: ehlo shows each secret of the AUTH \
         exchange as ******** (swaks shows the base64 of that text in place of the password)"
            .to_string()
    });
    let tls_params = tls_params(&tls, &tls_use, &route.target)?;
    let warnings = route
        .warning
        .clone()
        .into_iter()
        .chain(trailing_dots(&from, &to, &cc, &bcc))
        .chain(sni_warning(&tls_params, &tls_use))
        .chain(server_port_warning(&transport, &route))
        .chain(implicit_tls_port_warning(&route, &tls_use))
        .chain(
            (tls_use.starttls != StartTls::Off || tls_use.tls_on_connect)
                .then(|| crate::net::tls::cipher_list_warning(&tls_params))
                .flatten(),
        )
        .collect();
    // Under `--json` too: the `raw_sent`/`raw_received` events are part of the JSON Lines
    // format, and `--show-raw-text` is how they are asked for.
    let raw_events = output.show_raw_text;
    let connect = connect_plan(&transport, route, family, tls_params, &tls_use)?;
    let format = format_of(&output);

    let plan = Plan {
        proxy: proxy_header(&xclient_args)?,
        raw_events,
        helo,
        protocol,
        starttls,
        tls_asked: tls_use.asked,
        auth: auth_plan,
        a_labels: a_labels(std::iter::once(&from).chain(&rcpts)),
        from,
        rcpts,
        mail_params: envelope.mail_param,
        rcpt_params: envelope.rcpt_param,
        // Composed last (below), when the rest is known: --dump-as-body shows it.
        message: Vec::new(),
        fixup: fixup_of(&msg),
        pipeline: envelope.pipeline,
        stop,
        stop_wants_goodbye: true,
        ext: ext_plan(
            &ext_args,
            &xclient_args,
            protocol,
            starttls,
            tls_on_connect,
            stop,
        )?,
    };
    if let Some(Stop {
        at: StopAt::Proxy,
        kind,
    }) = stop
        && plan.proxy.is_none()
    {
        return Err(usage(format!(
            "{} PROXY: no PROXY header is configured (--proxy-version or --proxy)",
            super::stop_flag(kind)
        )));
    }
    // Under BDAT no step stands between the recipients and the content: the first BDAT
    // carries content, and the whole message when it fits one chunk (RFC 3030 §2), so a stop
    // "at DATA" would either deliver it or be a stop somewhere else.
    if let Some(Stop {
        kind,
        at: StopAt::Data,
    }) = stop
        && plan.ext.bdat.is_some()
    {
        let flag = match kind {
            StopKind::DropAfterSend => "--drop-after-send",
            _ => "--drop-after",
        };
        return Err(usage(format!(
            "{flag} DATA with --bdat: BDAT has no DATA step, its first chunk is already content \
             (stop at RCPT to send none of the message, or leave out --bdat)"
        )));
    }

    let mut cfg = SendConfig {
        connect,
        plan,
        format,
        dump_mail: msg.dump_mail,
        suppress_data: output.suppress_data,
        notes: Vec::new(),
        warnings,
        unlike_swaks: Vec::new(),
        prompt: env.prompt,
        deadline: transport.deadline.filter(|d| !d.is_zero()),
        output: OutputFiles::of(&output),
    };

    // Message.
    let body = dump_body.map(|(sections, args)| {
        let reveal = args.message.dump_as_body_shows_password;
        crate::cli::dump::render(&args, &cfg, &sections, reveal).into_bytes()
    });
    let fixup = cfg.plan.fixup;
    let (mut message, mut notes, encoded) = compose(
        &msg,
        fixup,
        (&to, &to_typed),
        (&cc, &cc_typed),
        (&bcc, &bcc_typed),
        &cfg.plan.from,
        env,
        body.as_deref(),
        cfg.plan.ext.smtputf8,
    )?;
    // (--dump-mail and --dump send nothing, so they show the bytes whatever they end with.)
    if fixup == Fixup::NONE && ext_args.bdat.is_none() && sends {
        raw_data_end(&mut message, &mut notes)?;
    }
    cfg.plan.message = message;
    auth_notes.append(&mut notes);
    cfg.notes = auth_notes;
    cfg.unlike_swaks.extend(
        (hide_text_unused.into_iter())
            .chain(encoded)
            .map(|n| (n, false)),
    );
    Ok(cfg)
}

/// How the send uses TLS: STARTTLS (required, optional, optional-strict or off) or implicit TLS,
/// and whether the server is authenticated by its TLSA records (`--tls-verify dane`).
struct TlsUse {
    starttls: StartTls,
    /// What asked for STARTTLS, for the hints on going on without it.
    asked: TlsAsked,
    tls_on_connect: bool,
    dane: bool,
}

/// The TLS flags with `--protocol`'s implications; explicit TLS flags win over them.
fn tls_use(tls: &TlsArgs, transport: &TransportArgs, implied: &Implied) -> Result<TlsUse, Error> {
    let dane_mode = tls.tls_verify == Some(TlsVerifyArg::Dane);
    if dane_mode && (transport.socket.is_some() || transport.pipe.is_some()) {
        return Err(usage(
            "--tls-verify dane looks up the TLSA records of the host connected to: not with --socket or --pipe",
        ));
    }
    // swaks: --tls-optional-strict, then --tls-optional, win over --tls when given together.
    let (starttls, tls_on_connect) = if tls.tls_optional_strict {
        (StartTls::OptionalStrict, false)
    } else if tls.tls_optional {
        (StartTls::Optional, false)
    } else if tls.tls {
        (StartTls::Required, false)
    } else if tls.tls_on_connect {
        (StartTls::Off, true)
    } else if implied.starttls {
        (StartTls::Required, false)
    } else if dane_mode && !implied.tls_on_connect {
        // DANE checks a certificate: use STARTTLS when offered; a secure TLSA RRset then makes
        // it mandatory for that host (RFC 7672 §2.2).
        (StartTls::OptionalStrict, false)
    } else {
        (StartTls::Off, implied.tls_on_connect)
    };
    // Which protocol name implied STARTTLS, if one did.
    let named = transport.protocol.and_then(|p| match p {
        ProtocolArg::Esmtps => Some(TlsProtocol::Esmtps),
        ProtocolArg::Esmtpsa => Some(TlsProtocol::Esmtpsa),
        ProtocolArg::Lmtps => Some(TlsProtocol::Lmtps),
        ProtocolArg::Lmtpsa => Some(TlsProtocol::Lmtpsa),
        _ => None,
    });
    let asked = match (starttls, named) {
        (StartTls::OptionalStrict, _) if tls.tls_optional_strict => TlsAsked::OptionalStrict,
        (StartTls::OptionalStrict, _) => TlsAsked::Dane,
        (_, Some(name)) => TlsAsked::Protocol {
            name,
            also_itself: tls.tls,
        },
        _ => TlsAsked::Itself,
    };
    Ok(TlsUse {
        starttls,
        asked,
        tls_on_connect,
        dane: dane_mode,
    })
}

/// Port 465 without `--tls-on-connect` (`-s host:465 --tls`, a newcomer's commonest TLS
/// mistake): 465 is submission over implicit TLS (RFC 8314 §3.3), whose server waits for a
/// TLS handshake and greets nobody in plain text, so the send would wait out `--timeout` for
/// a banner. Said before connecting, with the flag that fixes it.
fn implicit_tls_port_warning(route: &Route, tls_use: &TlsUse) -> Option<String> {
    let port = match route.target {
        Target::Host { port, .. } | Target::Mx { port, .. } => port,
    };
    (port == 465 && !tls_use.tls_on_connect && route.transport == Transport::Tcp).then(|| {
        "port 465 is implicit TLS (RFC 8314 §3.3): its server sends no plain-text banner; \
         add --tls-on-connect"
            .to_string()
    })
}

/// `--port` (`-p`, or `EHLO_PORT`) and a different port inside `--server host:port`: the
/// `--server` one wins, as in swaks's parse_server (documented), but silently a
/// `-s host:8025 --port 25` went to 8025 while its author expected 25. Said before connecting,
/// naming the port used and why; the send goes on to it.
fn server_port_warning(transport: &TransportArgs, route: &Route) -> Option<String> {
    let Some(ServerSpec {
        port: Some(inside), ..
    }) = &transport.server
    else {
        return None;
    };
    if route.transport != Transport::Tcp {
        return None;
    }
    crate::net::route::port_inside_warning("--server", Some(*inside), transport.port)
}

/// `--tls-sni` naming an IP address, when TLS is used: RFC 6066 §3 allows only a host name in
/// SNI ("Literal IPv4 and IPv6 addresses are not permitted"), so none is sent, as OpenSSL
/// clients and swaks do; said once before connecting instead of silently. IPv6 (`::1`,
/// `[::1]`) is told the same as IPv4.
fn sni_warning(params: &TlsParams, tls_use: &TlsUse) -> Option<String> {
    let sni = params.sni.as_deref()?;
    let tls = tls_use.starttls != StartTls::Off || tls_use.tls_on_connect;
    (tls && crate::net::tls::ip_address(sni)).then(|| {
        format!(
            "--tls-sni {sni}: an IP address is not a name SNI can carry (RFC 6066 §3): no SNI is sent"
        )
    })
}

/// The envelope and greeting, checked: recipients per header, sender, EHLO name.
struct Envelope {
    to: Vec<String>,
    /// The `--to` text as typed, for the `To:` header and `%TO_ADDRESS%` (swaks's `-t 'a, b'`
    /// writes `To: a, b`; the envelope has `a` and `b`).
    to_typed: String,
    cc: Vec<String>,
    /// The `--cc` text as typed, for the `Cc:` header and `%CC_ADDRESS%` (as swaks's).
    cc_typed: String,
    bcc: Vec<String>,
    /// The `--bcc` text as typed, for `%BCC_ADDRESS%` (as swaks's).
    bcc_typed: String,
    from: String,
    helo: String,
}

/// `--to`/`--cc`/`--bcc`, `--from` (swaks's default from the login name), `--helo`, and the
/// MAIL/RCPT parameters (checked here, used as given).
fn envelope_of(envelope: &EnvelopeArgs, env: &Environment) -> Result<Envelope, Error> {
    // swaks takes an empty value for one not given and asks for it (`To: ` on the terminal, a
    // line of stdin in a pipe), even for a stop before RCPT; dropped here, the send would go to
    // the other recipients, or to none, where swaks sends to the one typed.
    if let Some((id, value)) = &envelope.blank {
        return Err(usage(format!(
            "--{id} '{value}' names no address (swaks asks for one and sends to what is typed); \
             give one, or leave --{id} out"
        )));
    }
    let to = addresses("--to", &envelope.to)?;
    let cc = addresses("--cc", &envelope.cc)?;
    let bcc = addresses("--bcc", &envelope.bcc)?;
    // An empty --from is no --from, as in swaks (`-f ''` sends the default sender; `<>` is
    // the null sender).
    let from = match envelope.from.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => strip_angles(f.trim()).trim().to_string(),
        None => {
            // swaks: $LOGNAME (--force-getpwuid: the password database), then getpwuid.
            let local = if envelope.force_getpwuid {
                (env.pw_user)()
            } else {
                env.user.clone().or_else(env.pw_user)
            };
            format!("{}@{}", local.as_deref().unwrap_or("ehlo"), env.hostname)
        }
    };
    no_line_break("--from", &from)?;
    no_space("--from", &from)?;
    let helo = helo_name(envelope.helo.as_deref(), &env.hostname)?;
    for p in &envelope.mail_param {
        no_line_break("--mail-param", p)?;
    }
    for p in &envelope.rcpt_param {
        no_line_break("--rcpt-param", p)?;
    }

    Ok(Envelope {
        to_typed: as_typed(&envelope.to, &to),
        to,
        cc_typed: as_typed(&envelope.cc, &cc),
        cc,
        bcc_typed: as_typed(&envelope.bcc, &bcc),
        bcc,
        from,
        helo,
    })
}

/// A recipient option's text as typed, which swaks writes into the default `To:`/`Cc:` header
/// and `%TO_ADDRESS%`/`%CC_ADDRESS%`/`%BCC_ADDRESS%` (`-t 'a, b'` gives `To: a, b`; the
/// envelope has `a` and `b`). clap split each value at its commas, blanks kept: joined again
/// it is the text typed (several of the option joined by `,`). A line break or other control
/// character around an address (trimmed off for the envelope) would start a header of its
/// own: then the addresses alone.
fn as_typed(pieces: &[String], addrs: &[String]) -> String {
    Some(pieces.join(","))
        .filter(|t| !t.contains(|c: char| c.is_control() && c != '\t'))
        .unwrap_or_else(|| addrs.join(","))
}

/// Where the send connects: the transport, the target (a host, or the MX of a domain) and the
/// local address to bind.
struct Route {
    transport: Transport,
    target: Target,
    local: Option<crate::net::route::LocalBind>,
    /// Routed by the last recipient's domain while others are in other domains: said so.
    warning: Option<String>,
}

/// `--server` (or the last recipient's domain, or `--copy-routing`), `--port`, `--socket`,
/// `--pipe`, `--local-interface`/`--local-port`, checked against `-4`/`-6`.
fn route(
    transport: &TransportArgs,
    rcpts: &[String],
    family: Family,
    protocol: Protocol,
    tls_on_connect: bool,
) -> Result<Route, Error> {
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
            if let Some((ip, _)) = crate::net::route::ip_literal(host) {
                check_family("--server", family, ip)?;
            }
            Target::Host {
                host: host.clone(),
                // A port inside --server wins over --port, as in swaks's parse_server.
                port: port.or(transport.port).unwrap_or(default_port),
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
        .and_then(|l| crate::net::route::ip_literal(&l.host).map(|(ip, _)| ip))
    {
        check_family("--local-interface", family, local)?;
        if let Target::Host { host, .. } = &target
            && let Some((ip, _)) = crate::net::route::ip_literal(host)
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
            // A port inside --local-interface wins over --local-port, as in swaks.
            port: li.as_ref().and_then(|l| l.port).or(lp).unwrap_or(0),
            // Where the flag came from is known to the layering alone (`cli::parse`).
            note: String::new(),
        }),
    };

    // Routed by the last recipient (no --server, --copy-routing, --socket or --pipe): the
    // recipients of other domains go to that domain's server too, as swaks sends them.
    let routed_by_rcpt = link_transport == Transport::Tcp
        && transport.server.is_none()
        && transport.copy_routing.is_none();
    let warning = match (&target, rcpts.last()) {
        (Target::Mx { domain, .. }, Some(_)) if routed_by_rcpt => {
            Some(format!("the MX of {domain}"))
        }
        (Target::Host { host, .. }, Some(_)) if routed_by_rcpt => Some(format!("[{host}]")),
        _ => None,
    }
    .and_then(|server| {
        let last = rcpts
            .last()
            .and_then(|r| crate::net::route::mail_domain(r))?;
        let others = crate::net::route::off_route(&last, rcpts);
        let (first, rest) = others.split_first()?;
        let named = match rest.len() {
            0 => first.clone(),
            1 => format!("{first} and {}", rest[0]),
            n => format!("{first} and {n} other domains"),
        };
        Some(format!(
            "routed by the last recipient's domain ({last}), as swaks does: the recipients at \
             {named} go to {server} too, not to their own MX (RFC 5321 §5.1); send to each \
             domain on its own, or name the server with --server"
        ))
    });
    Ok(Route {
        transport: link_transport,
        target,
        local,
        warning,
    })
}

/// `--auth*`: the mechanisms, the requirement and the credentials (found, or asked for, only
/// when the run sends, and not before a stop point ahead of AUTH). `peer` names the host the
/// credentials are for (`~/.netrc`, SCRAM); a secret read from stdin adds a line to `auth_notes`.
fn auth_plan(
    auth: &AuthArgs,
    implied_auth: bool,
    tls_use: &TlsUse,
    peer: (&Target, &Transport),
    (sends, stops_before_auth, stdin_taken): (bool, bool, bool),
    env: &Environment,
    auth_notes: &mut Vec<String>,
) -> Result<Option<AuthPlan>, Error> {
    let (target, link_transport) = peer;
    let aliases = auth_map(&auth.auth_map)?;
    // swaks: --auth-optional-strict, then --auth-optional, make AUTH optional even with
    // --auth; the mechanisms are the first non-empty list of --auth, --auth-optional-strict,
    // --auth-optional (none: every one offered).
    let optional = if auth.auth_optional_strict.is_some() {
        Some(AuthRequirement::OptionalStrict)
    } else if auth.auth_optional.is_some() {
        Some(AuthRequirement::Optional)
    } else {
        None
    };
    let lists = [
        ("--auth", &auth.auth),
        ("--auth-optional-strict", &auth.auth_optional_strict),
        ("--auth-optional", &auth.auth_optional),
    ];
    let requested = if auth.auth.is_some() || optional.is_some() {
        let requirement = optional.unwrap_or(AuthRequirement::Required);
        let named = lists.iter().find_map(|(flag, m)| {
            m.as_ref()
                .filter(|m| m.iter().any(|x| !x.trim().is_empty()))
                .map(|m| (*flag, m))
        });
        let list = match named {
            Some((flag, m)) => mechanisms(flag, m, &aliases)?,
            None => Vec::new(),
        };
        Some((requirement, list))
    } else if auth.auth_user.is_some()
        || (auth.auth_password.is_some() && !auth.password_from_env)
        || implied_auth
    {
        // swaks: --auth-user and --auth-password (`defined($auth_pass_t)`) imply --auth. Not
        // EHLO_AUTH_PASSWORD alone: it may stay set in the environment for other sends.
        Some((AuthRequirement::Required, Vec::new()))
    } else {
        None
    };
    // --auth-hide-password (swaks: the password is replaced in the transcript): secrets are
    // hidden anyway, and it beats --show-secrets for the exchange, as asked.
    let show_secrets = auth.show_secrets && auth.auth_hide_password.is_none();
    let encrypted = tls_use.starttls != StartTls::Off || tls_use.tls_on_connect;
    Ok(match requested {
        None => None,
        Some((requirement, mechanisms)) => {
            let (host, port) = match target {
                Target::Host { host, port } if *link_transport == Transport::Tcp => {
                    (Some(host.clone()), Some(*port))
                }
                _ => (None, None),
            };
            // Asked now when no TLS is planned at all; with an optional STARTTLS the session
            // decides when AUTH is about to start, knowing whether TLS is up: it asks through
            // the driver when there is a terminal to ask on, and refuses otherwise unless the
            // flag (or this confirmation) allowed it.
            // A stop point before AUTH (`-q helo` with the auth flags of a config file) sends
            // no credential: nothing to refuse or ask, as swaks just stops there.
            let mut allow_plaintext = auth.allow_plaintext_auth;
            if sends && !encrypted && !auth.allow_plaintext_auth && !stops_before_auth {
                confirm_plaintext_auth(env)?;
                allow_plaintext = true;
            }
            let confirm_plaintext = sends && !allow_plaintext && env.prompt.is_some();
            // Nor is a missing secret looked for or asked for (swaks asks, then stops).
            let (user, password, token) = if !sends || stops_before_auth {
                (
                    auth.auth_user
                        .as_deref()
                        .map(|u| strip_angles(u).to_string()),
                    auth.auth_password.clone(),
                    auth.auth_oauth_token.clone(),
                )
            } else {
                find_secrets(
                    auth,
                    &mechanisms,
                    requirement,
                    host.as_deref(),
                    env,
                    stdin_taken,
                    auth_notes,
                )?
            };
            // An empty user name read from stdin or typed at the prompt is sent empty, as swaks
            // sends its empty answer (as `-au '<>'`).
            let empty_user = auth.auth_user.as_deref().map(str::trim) == Some("<>")
                || user.as_deref() == Some("");
            let mut credentials = Credentials {
                user: user.unwrap_or_default(),
                // swaks: "<>" is the empty user name, sent as such by PLAIN and LOGIN.
                empty_user,
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
                show_secrets,
                aliases,
                allow_plaintext,
                confirm_plaintext,
            })
        }
    })
}

/// The TLS parameters: trust (CA path, verification and its halves), client certificate,
/// versions and ciphers, peer certificates to save, and DANE records (`--tlsa`, `--tlsa-file`).
fn tls_params(tls: &TlsArgs, tls_use: &TlsUse, target: &Target) -> Result<TlsParams, Error> {
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
    if !tlsa.is_empty() && tls_use.starttls != StartTls::Required && !tls_use.tls_on_connect {
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
    let dane_names = match target {
        Target::Mx { domain, .. } if !tlsa.is_empty() => vec![domain.clone()],
        _ => Vec::new(),
    };
    let sni = tls
        .tls_sni
        .as_deref()
        .map(crate::net::tls::sni_name)
        .transpose()
        .map_err(|e| usage(format!("--tls-sni: {e}")))?;
    let params = TlsParams {
        sni,
        verify: !tls.insecure,
        verify_only: verify_only(tls),
        verify_name: tls.tls_verify_target.clone(),
        ca_path: tls.tls_ca_path.clone(),
        protocols: tls.tls_protocol.clone().map(|p| p.0),
        protocols_note: String::new(),
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
        // Known to the connection layer, which opens the socket or pipe.
        stand_in_host: false,
        // Decided per host by the connection layer (`--tls-verify dane`).
        dane_unusable: false,
    };
    // A bad CA file, cipher string or client certificate is a mistake in the invocation: said
    // now (exit 1), not after connecting and sending STARTTLS.
    crate::net::tls::check(&params).map_err(usage)?;
    Ok(params)
}

/// The transcript's form: JSON Lines, or the human transcript with its `--hide-*`, `--no-*-hints`,
/// `--silent` and colour settings.
fn format_of(output: &OutputArgs) -> Format {
    if output.json {
        Format::Json
    } else {
        Format::Human(HumanOptions {
            color: output.color,
            explain: output.explain,
            time_lapse: output.show_time_lapse.as_ref().map(|unit| unit.is_some()),
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
            replay: false,
            // Set by `cli::parse`, which sees the words as typed.
            swaks_spelling: false,
            // One event a line, as swaks prints it: scripts read the transcript.
            wrap: None,
        })
    }
}

/// The connection plan: the route, `-4`/`-6`, DNS (and DNSSEC), TLS and the timeouts (zero
/// means none; the connect timeout defaults to the reply timeout).
fn connect_plan(
    transport: &TransportArgs,
    route: Route,
    family: Family,
    tls: TlsParams,
    tls_use: &TlsUse,
) -> Result<ConnectPlan, Error> {
    let timeout = transport.timeout;
    let link = Link {
        transport: route.transport,
        family,
        local: route.local,
        dns: DnsOptions::with_timeout(transport.dns_server, timeout).with_dnssec(
            dnssec_mode(
                transport.dnssec,
                transport.dns_trust_anchor.is_some(),
                tls_use.dane,
            )?,
            transport.dns_trust_anchor.clone(),
        ),
        tls,
        tls_on_connect: tls_use.tls_on_connect,
        timeout,
        connect_timeout: transport.connect_timeout.unwrap_or(timeout),
        dane: tls_use.dane,
        https: false,
    };
    Ok(link.to(route.target))
}

/// swaks's split of `--tls-verify` (= `--tls-verify-ca` + `--tls-verify-host`): one of the two
/// alone enforces only its part; both, `--tls-verify` or neither (ehlo's default) enforce both.
fn verify_only(tls: &crate::cli::args::TlsArgs) -> Option<VerifyPart> {
    match (
        tls.tls_verify.is_some(),
        tls.tls_verify_ca,
        tls.tls_verify_host,
    ) {
        (false, true, false) => Some(VerifyPart::Chain),
        (false, false, true) => Some(VerifyPart::Name),
        _ => None,
    }
}

/// `--dnssec` (default off for the send, validate with `--tls-verify dane`), checked against
/// `--dns-trust-anchor`: an anchor file only means something when validating, and silently
/// ignoring it would hide a typo'd mode; DANE without DNSSEC would trust forged TLSA records.
fn dnssec_mode(arg: Option<DnssecArg>, anchor: bool, dane: bool) -> Result<DnssecMode, Error> {
    match (arg, anchor) {
        (Some(DnssecArg::Off), _) if dane => Err(usage(
            "--tls-verify dane needs DNSSEC (RFC 7672 §2.1): drop --dnssec off, or use --dnssec validate or trust-ad",
        )),
        (Some(DnssecArg::Validate), _) => Ok(DnssecMode::Validate),
        (None, _) if dane => Ok(DnssecMode::Validate),
        (Some(DnssecArg::TrustAd), false) => Ok(DnssecMode::TrustAd),
        (_, true) => Err(usage(
            "--dns-trust-anchor: the anchors are only used with --dnssec validate",
        )),
        (Some(DnssecArg::Off) | None, false) => Ok(DnssecMode::Off),
    }
}
