//! Extension flags → `ExtPlan`, and swaks's XCLIENT grouping → the XCLIENT commands.

use super::{no_line_break, usage};
use crate::cli::args::XclientItem;
use crate::error::Error;
use crate::smtp::client::{
    ExtPlan, Protocol, StartTls, Stop, StopAt, XclientCommand, XclientPlan, XclientRequirement,
};
use crate::smtp::ext::{Attribute, Dsn, Ret};

/// `--dsn-envid`: RFC 3461 §4.4 wants printable US-ASCII, at most 100 characters once
/// xtext-encoded as sent; anything else is refused before connecting. `--mail-param ENVID=…`
/// sends a value as given.
fn envid_check(e: &str) -> Result<(), Error> {
    use crate::smtp::ext::{ENVID_MAX, is_dsn_printable, xtext};
    if e.is_empty() {
        return Err(usage("--dsn-envid: the value is empty"));
    }
    if let Some(c) = e.chars().find(|&c| !is_dsn_printable(c)) {
        return Err(usage(format!(
            "--dsn-envid: {c:?} is not printable US-ASCII, which an ENVID must be (RFC 3461 \
             §4.4); --mail-param ENVID=… sends a value as given"
        )));
    }
    let sent = xtext(e.as_bytes()).len();
    if sent > ENVID_MAX {
        return Err(usage(format!(
            "--dsn-envid: {sent} characters once xtext-encoded, more than {ENVID_MAX} \
             (RFC 3461 §4.4)"
        )));
    }
    Ok(())
}

/// `--dsn-orcpt`: each recipient's `ORCPT=` value at most 500 characters as sent (RFC 3461
/// §4.2); a longer one is refused before connecting.
pub(super) fn orcpt_check(orcpt: bool, rcpts: &[String]) -> Result<(), Error> {
    let max = crate::smtp::ext::ORCPT_MAX;
    if !orcpt {
        return Ok(());
    }
    for r in rcpts {
        let sent = crate::smtp::ext::orcpt(r).len();
        if sent > max {
            return Err(usage(format!(
                "--dsn-orcpt: ORCPT for a recipient is {sent} characters once encoded, more than \
                 {max} (RFC 3461 §4.2)"
            )));
        }
    }
    Ok(())
}

/// The extension flags → [`ExtPlan`] (cross-flag rules only; the session checks the server).
pub(super) fn ext_plan(
    a: &crate::cli::args::ExtArgs,
    x: &crate::cli::args::XclientArgs,
    protocol: Protocol,
    starttls: StartTls,
    tls_on_connect: bool,
    stop: Option<Stop>,
) -> Result<ExtPlan, Error> {
    if let Some(e) = &a.dsn_envid {
        envid_check(e)?;
    }
    // --force-ext waives "not advertised" only: REQUIRETLS sent in clear text would ask the
    // next hops for a protection this hop lacks (RFC 8689 §2).
    if a.requiretls && starttls != StartTls::Required && !tls_on_connect {
        return Err(usage(
            "--requiretls: REQUIRETLS needs TLS (RFC 8689 §2), --force-ext or not: add --tls \
             or --tls-on-connect",
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
    // Postfix's XCLIENT_README: ADDR is "an IPv4 network address, an IPv6 address prefixed
    // with IPV6:" (any case); its normalize_mailhost_addr refuses a bare `::1` (`501 5.5.4 Bad
    // ADDR syntax`), and DESTADDR alike (`Bad DESTADDR syntax`; Postfix 3.7 with IPv6 on takes
    // `DESTADDR=IPV6:::1`). A bare IPv6 address typed to --xclient-addr or --xclient-destaddr
    // gets the tag; a tagged one, anything else and a raw --xclient go as typed (swaks sends
    // every one as typed).
    // A bracketed one (`[::1]`, the form a host takes in `[IPv6]:PORT` and RFC 5321 §4.1.3's
    // address literal without its tag) too: Postfix refuses the brackets as a bare address.
    let tagged = |v: &Option<String>| {
        v.as_ref().map(|v| {
            let bare = v
                .strip_prefix('[')
                .and_then(|a| a.strip_suffix(']'))
                .unwrap_or(v);
            match bare.parse::<std::net::Ipv6Addr>() {
                Ok(_) => format!("IPV6:{bare}"),
                Err(_) => v.clone(),
            }
        })
    };
    let attrs: Vec<Attribute> = [
        attr("ADDR", "--xclient-addr", &tagged(&x.xclient_addr))?,
        attr("NAME", "--xclient-name", &x.xclient_name)?,
        attr("PORT", "--xclient-port", &x.xclient_port)?,
        attr("PROTO", "--xclient-proto", &x.xclient_proto)?,
        attr("HELO", "--xclient-helo", &x.xclient_helo)?,
        attr("LOGIN", "--xclient-login", &x.xclient_login)?,
        attr(
            "DESTADDR",
            "--xclient-destaddr",
            &tagged(&x.xclient_destaddr),
        )?,
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
            (x.xclient_optional, "--xclient-optional"),
            (x.xclient_optional_strict, "--xclient-optional-strict"),
            (x.xclient_before_starttls, "--xclient-before-starttls"),
            (x.xclient_no_verify, "--xclient-no-verify"),
            (!x.xclient_delim.is_empty(), "--xclient-delim"),
        ];
        // Refused rather than ignored as swaks ignores it: a modifier alone is a command line
        // that lost its attributes, and the session would go on without the XCLIENT meant.
        if let Some((_, flag)) = modifiers.iter().find(|(given, _)| *given) {
            return Err(usage(format!(
                "{flag}: no XCLIENT attributes given (--xclient-addr, --xclient RAW, ...) for it \
                 to apply to; swaks would ignore it and send the message without XCLIENT; \
                 nothing was sent"
            )));
        }
        None
    } else {
        Some(XclientPlan {
            commands: xclient_commands(&x.xclient_order, attrs, &x.xclient),
            before_starttls: x.xclient_before_starttls,
            // swaks: --xclient-optional-strict wins over --xclient-optional.
            requirement: if x.xclient_optional_strict {
                XclientRequirement::OptionalStrict
            } else if x.xclient_optional {
                XclientRequirement::Optional
            } else {
                XclientRequirement::Required
            },
            no_verify: x.xclient_no_verify,
        })
    };
    if let Some(Stop {
        at: at @ (StopAt::Xclient | StopAt::XclientHelo),
        kind,
    }) = stop
        && xclient.is_none()
    {
        // Refused rather than ignored: swaks runs the whole session and delivers the message
        // the user meant to stop before, so the line says what it would have done.
        let at = if at == StopAt::Xclient {
            "XCLIENT"
        } else {
            "XCLIENT-HELO"
        };
        return Err(usage(format!(
            "{} {at}: no XCLIENT attributes given (--xclient-addr, --xclient RAW, ...), so \
             there is no XCLIENT step to stop at; swaks would ignore the stop point and send \
             the whole message; nothing was sent",
            super::stop_flag(kind)
        )));
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
/// `--xclient-delim` marks (or `--xclient` strings) form one command, their attributes in the
/// order given on the command line (a repeated option where it was last given, as swaks keeps
/// it); each `--xclient` string is a command of its own, where it was given. Empty groups
/// vanish; nothing splits a long command (swaks does not either). `order` is empty when the
/// arguments did not come through `Cli::parse_args` (then: one attribute command, then the raw
/// strings).
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
    let mut commands = Vec::new();
    let mut group: Vec<&'static str> = Vec::new();
    let flush = |group: &mut Vec<&'static str>, commands: &mut Vec<XclientCommand>| {
        if group.is_empty() {
            return;
        }
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
