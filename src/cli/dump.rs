//! `--dump` and `--dump-as-body`: a send's resolved settings (after the config file, the
//! `EHLO_*`/`SWAKS_OPT_*` environment and the command line are merged and validated) as text, in
//! swaks's sections, order and `  key = value` layout, with ehlo's own settings added to the
//! section they belong to. Secrets are masked with the fixed-length [`MASK`] unless the caller
//! says to reveal them.

use clap::{CommandFactory, ValueEnum};

use crate::cli::args::{Cli, ProxyCommandArg, ProxyFamilyArg, ProxyProtocolArg, SendArgs};
use crate::cli::mode::SendConfig;
use crate::net::route::{Target, Transport};
use crate::net::tls::{PemOut, TlsVersion};
use crate::smtp::auth::MASK;
use crate::smtp::client::{
    AuthRequirement, Protocol, StartTls, XclientCommand, XclientRequirement,
};

/// One section of the dump, in swaks's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Section {
    /// What this build supports (`--support`).
    Support,
    /// Version and command line.
    App,
    /// Output settings.
    Output,
    /// Where and how to connect.
    Transport,
    /// Greeting, envelope, stop points, timeout.
    Protocol,
    /// XCLIENT.
    Xclient,
    /// PROXY protocol.
    Proxy,
    /// TLS.
    Tls,
    /// AUTH.
    Auth,
    /// The message.
    Data,
}

impl Section {
    const ALL: [Section; 10] = [
        Section::Support,
        Section::App,
        Section::Output,
        Section::Transport,
        Section::Protocol,
        Section::Xclient,
        Section::Proxy,
        Section::Tls,
        Section::Auth,
        Section::Data,
    ];

    fn name(self) -> &'static str {
        match self {
            Section::Support => "SUPPORT",
            Section::App => "APP",
            Section::Output => "OUTPUT",
            Section::Transport => "TRANSPORT",
            Section::Protocol => "PROTOCOL",
            Section::Xclient => "XCLIENT",
            Section::Proxy => "PROXY",
            Section::Tls => "TLS",
            Section::Auth => "AUTH",
            Section::Data => "DATA",
        }
    }
}

/// Every section name `--dump` takes, and `ALL` (offered by the shell completions).
pub(crate) fn section_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Section::ALL.iter().map(|s| s.name()).collect();
    names.push("ALL");
    names
}

/// The sections asked for, in swaks's order, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sections(Vec<Section>);

impl Sections {
    /// Every section.
    pub(crate) fn all() -> Sections {
        Sections(Section::ALL.to_vec())
    }

    /// These sections without SUPPORT and DATA (what `--dump-as-body` puts in a body, as swaks).
    pub(crate) fn for_body(&self) -> Sections {
        Sections(
            self.0
                .iter()
                .copied()
                .filter(|s| !matches!(s, Section::Support | Section::Data))
                .collect(),
        )
    }
}

/// `--dump` / `--dump-as-body` values: a comma-separated list of section names,
/// case-insensitive, white space ignored (as swaks reads them); `ALL` is every section.
pub(crate) fn parse_sections(s: &str) -> Result<Sections, String> {
    let mut out = Vec::new();
    let cleaned: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    for word in cleaned.split(',').filter(|w| !w.is_empty()) {
        let upper = word.to_ascii_uppercase();
        if upper == "ALL" {
            out.extend(Section::ALL);
            continue;
        }
        match Section::ALL.iter().find(|s| s.name() == upper) {
            Some(s) => out.push(*s),
            None => {
                return Err(format!(
                    "'{word}' is not a section (SUPPORT, APP, OUTPUT, TRANSPORT, PROTOCOL, \
                     XCLIENT, PROXY, TLS, AUTH, DATA or ALL)"
                ));
            }
        }
    }
    if out.is_empty() {
        return Err("no section named (e.g. ALL, or TLS,AUTH)".into());
    }
    out.sort();
    out.dedup();
    Ok(Sections(out))
}

/// The dump of `cfg` (built from `args`): the `sections` asked for, separated by blank lines.
/// `reveal` shows the password, the OAuth token and their command-line values; otherwise each
/// is [`MASK`].
pub(crate) fn render(
    args: &SendArgs,
    cfg: &SendConfig,
    sections: &Sections,
    reveal: bool,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    for s in &sections.0 {
        let lines = match s {
            Section::Support => {
                parts.push(crate::cli::swaks::support().trim_end().to_string());
                continue;
            }
            Section::App => app(args, reveal),
            Section::Output => output(args, cfg),
            Section::Transport => transport(args, cfg),
            Section::Protocol => protocol(args, cfg),
            Section::Xclient => xclient(cfg),
            Section::Proxy => proxy(args, cfg),
            Section::Tls => tls(args, cfg),
            Section::Auth => auth(args, cfg, reveal),
            Section::Data => data(cfg),
        };
        parts.push(lines.join("\n"));
    }
    let mut out = parts.join("\n\n");
    out.push('\n');
    out
}

fn yes(b: bool) -> String {
    if b { "TRUE" } else { "FALSE" }.to_string()
}

/// `  key<pad> = value` lines with the keys padded to the longest, as swaks aligns them.
fn block(title: &str, rows: Vec<(&str, String)>) -> Vec<String> {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = vec![title.to_string()];
    for (k, v) in rows {
        let mut lines = v.split('\n');
        let first = lines.next().unwrap_or_default();
        out.push(format!("  {k:width$} = {first}").trim_end().to_string());
        for more in lines {
            out.push(format!("  {:width$}   {more}", ""));
        }
    }
    out
}

fn value_name<T: ValueEnum>(v: &T) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

/// The name of the value a word given for `T` means (`af_inet` → `TCP4`); the word itself when
/// it means none (the mode builder has refused those already).
fn canonical<T: ValueEnum>(word: &str) -> String {
    T::from_str(word.trim(), true).map_or_else(|_| word.to_string(), |v| value_name(&v))
}

/// A word for a shell: as is when it is made of safe characters, else single-quoted.
fn shell_word(w: &str) -> String {
    let safe = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if safe {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// The merged command line with the values of secret options (password, token) masked unless
/// `reveal`: `--auth-password=X` and `--auth-password X` (and every alias of such an option).
pub(crate) fn command_line(words: &[String], reveal: bool) -> String {
    let mut cmd = Cli::command();
    cmd.build();
    let secret: Vec<String> = super::secret_long_names(&cmd)
        .map(|n| format!("--{n}"))
        .collect();
    let mut out = vec!["ehlo".to_string()];
    let mut mask_next = false;
    for w in words {
        if std::mem::take(&mut mask_next) && !w.starts_with('-') && !reveal {
            out.push(MASK.to_string());
            continue;
        }
        match w.split_once('=') {
            Some((name, _)) if !reveal && secret.iter().any(|s| s == name) => {
                out.push(shell_word(&format!("{name}={MASK}")));
            }
            _ => {
                mask_next = secret.iter().any(|s| s == w);
                out.push(shell_word(w));
            }
        }
    }
    out.join(" ")
}

fn app(args: &SendArgs, reveal: bool) -> Vec<String> {
    block(
        "App Info:",
        vec![
            ("X-Mailer", format!("ehlo {}", env!("CARGO_PKG_VERSION"))),
            ("Cmd Line", command_line(&args.config.command_line, reveal)),
        ],
    )
}

fn output(args: &SendArgs, cfg: &SendConfig) -> Vec<String> {
    let o = &args.output;
    let file = |p: &Option<std::path::PathBuf>, default: &str| {
        p.as_ref()
            .map_or(default.to_string(), |p| p.display().to_string())
    };
    block(
        "Output Info:",
        vec![
            (
                "show_time_lapse",
                match &o.show_time_lapse {
                    None => yes(false),
                    Some(Some(i)) => format!("TRUE ({i})"),
                    Some(None) => yes(true),
                },
            ),
            ("show_raw_text", yes(o.show_raw_text)),
            ("suppress_data", yes(o.suppress_data)),
            ("protect_prompt", yes(args.auth.protect_prompt)),
            ("no_hints_send", yes(o.no_hints || o.no_send_hints)),
            ("no_hints_recv", yes(o.no_hints || o.no_receive_hints)),
            ("no_hints_info", yes(o.no_hints || o.no_info_hints)),
            ("silent", o.silent.unwrap_or(0).to_string()),
            ("dump_mail", yes(cfg.dump_mail)),
            ("hide_send", yes(o.hide_send)),
            ("hide_receive", yes(o.hide_receive)),
            ("hide_informational", yes(o.hide_informational)),
            ("hide_all", yes(o.hide_all)),
            ("trans_fh_of", file(&cfg.output.stdout, "STDOUT")),
            ("trans_fh_ef", file(&cfg.output.stderr, "STDERR")),
            ("format", if o.json { "json" } else { "human" }.to_string()),
            ("color", value_name(&o.color)),
            ("explain", value_name(&o.explain)),
        ],
    )
}

fn transport(args: &SendArgs, cfg: &SendConfig) -> Vec<String> {
    let link = &cfg.connect.link;
    let t = &args.transport;
    let mut rows = Vec::new();
    match &link.transport {
        Transport::Tcp => {
            rows.push(("type", "socket-inet".to_string()));
            rows.push((
                "inet protocol",
                match (t.ipv4, t.ipv6) {
                    (true, _) => "4",
                    (_, true) => "6",
                    _ => "any",
                }
                .to_string(),
            ));
            let (server, port) = match &cfg.connect.target {
                Target::Host { host, port } => (host.clone(), *port),
                Target::Mx { domain, port } => (format!("the MX hosts of {domain}"), *port),
            };
            rows.push(("server", server));
            rows.push(("port", port.to_string()));
            let local = link.local.as_ref();
            rows.push((
                "local interface",
                local.and_then(|l| l.host.clone()).unwrap_or_default(),
            ));
            rows.push((
                "local port",
                local
                    .map(|l| l.port)
                    .filter(|p| *p != 0)
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
            ));
            rows.push((
                "copy routing",
                t.copy_routing.clone().unwrap_or_else(|| yes(false)),
            ));
        }
        Transport::Socket(p) => {
            rows.push(("type", "socket-unix".to_string()));
            rows.push(("sockfile", p.display().to_string()));
        }
        Transport::Pipe(c) => {
            rows.push(("type", "pipe".to_string()));
            rows.push(("process", c.clone()));
        }
    }
    rows.push((
        "connect timeout",
        format!("{}", link.connect_timeout.as_secs()),
    ));
    rows.push((
        "dns server",
        t.dns_server
            .map_or("the system's".to_string(), |s| s.to_string()),
    ));
    rows.push(("dnssec", t.dnssec.as_ref().map_or("off".into(), value_name)));
    block("Transport Info:", rows)
}

fn protocol(args: &SendArgs, cfg: &SendConfig) -> Vec<String> {
    let plan = &cfg.plan;
    let e = &args.envelope;
    let list = |l: &[String]| {
        l.iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let stop = |p: Option<String>| p.unwrap_or_default().to_ascii_lowercase();
    let s = &args.stop;
    let mut rows = vec![
        (
            "protocol",
            match plan.protocol {
                Protocol::Smtp => "smtp",
                Protocol::Esmtp => "esmtp",
                Protocol::Lmtp => "lmtp",
            }
            .to_string(),
        ),
        ("helo", plan.helo.clone()),
        (
            "from",
            if plan.from.is_empty() {
                "<>".to_string()
            } else {
                plan.from.clone()
            },
        ),
        ("to", list(&e.to)),
    ];
    if !e.cc.is_empty() {
        rows.push(("cc", list(&e.cc)));
    }
    if !e.bcc.is_empty() {
        rows.push(("bcc", list(&e.bcc)));
    }
    rows.extend([
        ("force getpwuid", yes(e.force_getpwuid)),
        ("quit after", stop(s.quit_after.map(|q| value_name(&q)))),
        ("drop after", stop(s.drop_after.map(|p| value_name(&p)))),
        (
            "drop after send",
            stop(s.drop_after_send.map(|p| value_name(&p))),
        ),
        ("timeout", cfg.connect.link.timeout.as_secs().to_string()),
        ("pipeline", yes(plan.pipeline)),
        ("prdr", yes(plan.ext.prdr)),
    ]);
    for (k, v) in [
        ("mail params", &plan.mail_params),
        ("rcpt params", &plan.rcpt_params),
    ] {
        if !v.is_empty() {
            rows.push((k, v.join(" ")));
        }
    }
    block("Protocol Info:", rows)
}

fn xclient(cfg: &SendConfig) -> Vec<String> {
    let Some(x) = &cfg.plan.ext.xclient else {
        return block("XCLIENT Info:", vec![("xclient", "no".into())]);
    };
    let mode = match x.requirement {
        XclientRequirement::Required => "required",
        XclientRequirement::Optional => "optional",
        XclientRequirement::OptionalStrict => "optional-strict",
    };
    let strings: Vec<String> = x
        .commands
        .iter()
        .map(|c| match c {
            XclientCommand::Attrs(a) => crate::smtp::ext::attribute_command("XCLIENT", a),
            XclientCommand::Raw(r) => format!("XCLIENT {r}"),
        })
        .collect();
    block(
        "XCLIENT Info:",
        vec![
            ("xclient", mode.to_string()),
            ("no_verify", yes(x.no_verify)),
            ("before starttls", yes(x.before_starttls)),
            ("strings", strings.join("\n")),
        ],
    )
}

fn proxy(args: &SendArgs, cfg: &SendConfig) -> Vec<String> {
    let Some(header) = &cfg.plan.proxy else {
        return block("PROXY Info:", vec![("proxy", "no".into())]);
    };
    let x = &args.xclient;
    let v2 = header.starts_with(b"\r\n\r\n\0\r\nQUIT\n");
    let mut rows = vec![
        ("proxy", "yes".to_string()),
        ("version", if v2 { "2" } else { "1" }.to_string()),
    ];
    if let Some(raw) = &x.proxy {
        rows.push(("raw string", raw.clone()));
    } else {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        rows.extend([
            (
                "family",
                x.proxy_family
                    .as_deref()
                    .map_or(String::new(), canonical::<ProxyFamilyArg>),
            ),
            ("source", opt(&x.proxy_source)),
            ("source port", opt(&x.proxy_source_port)),
            ("dest", opt(&x.proxy_dest)),
            ("dest port", opt(&x.proxy_dest_port)),
            (
                "protocol",
                x.proxy_protocol
                    .as_deref()
                    .map_or("STREAM".to_string(), canonical::<ProxyProtocolArg>),
            ),
            (
                "command",
                x.proxy_command
                    .as_deref()
                    .map_or("PROXY".to_string(), canonical::<ProxyCommandArg>),
            ),
        ]);
    }
    let shown = match std::str::from_utf8(header) {
        Ok(t) if !v2 && !t.trim_end().contains(['\r', '\n']) => t.trim_end().to_string(),
        _ => {
            use base64::Engine;
            format!(
                "base64:{}",
                base64::engine::general_purpose::STANDARD.encode(header)
            )
        }
    };
    rows.push(("header", shown));
    block("PROXY Info:", rows)
}

fn tls(args: &SendArgs, cfg: &SendConfig) -> Vec<String> {
    let plan = &cfg.plan;
    let mode = match (plan.starttls, cfg.connect.link.tls_on_connect) {
        (StartTls::Required, _) => "starttls (required)",
        (StartTls::Optional, _) => "starttls (optional)",
        (StartTls::OptionalStrict, _) => "starttls (optional-strict)",
        (StartTls::Off, true) => "starttls on connect (required)",
        (StartTls::Off, false) => {
            return block("TLS / Encryption Info:", vec![("tls", "no".into())]);
        }
    };
    let p = &cfg.connect.link.tls;
    let t = &args.tls;
    let path = |p: &Option<std::path::PathBuf>| {
        p.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    let pem = |o: &Option<PemOut>| match o {
        None => String::new(),
        Some(PemOut::Transcript) => "(in the transcript)".to_string(),
        Some(PemOut::File(f)) => f.display().to_string(),
    };
    let version = |v: &TlsVersion| {
        match v {
            TlsVersion::Tls1_0 => "TLSv1",
            TlsVersion::Tls1_1 => "TLSv1_1",
            TlsVersion::Tls1_2 => "TLSv1_2",
            TlsVersion::Tls1_3 => "TLSv1_3",
        }
        .to_string()
    };
    let verify = verify_description(p);
    let mut rows = vec![
        ("tls", mode.to_string()),
        ("peer cert", pem(&p.peer_cert_out)),
        ("peer chain", pem(&p.peer_chain_out)),
        ("local cert", path(&t.tls_cert)),
        ("local key", path(&t.tls_key)),
        ("local chain", path(&t.tls_chain)),
        (
            "local cipher list",
            p.cipher_list.clone().unwrap_or_default(),
        ),
        ("ciphersuites", p.ciphersuites.clone().unwrap_or_default()),
        ("ca path", path(&p.ca_path)),
        (
            "sni string",
            p.sni
                .clone()
                .unwrap_or_else(|| "(the server's host name)".into()),
        ),
        ("verify server cert", yes(p.verify)),
        ("verify", verify),
        (
            "verify target",
            p.verify_name
                .clone()
                .unwrap_or_else(|| "(the server's host name)".into()),
        ),
        (
            "available protocols",
            ["TLSv1", "TLSv1_1", "TLSv1_2", "TLSv1_3"].join(", "),
        ),
        (
            "requested protocols",
            p.protocols
                .as_ref()
                .map(|v| v.iter().map(version).collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
        ),
    ];
    if !p.tlsa.is_empty() {
        rows.push(("tlsa records", p.tlsa.len().to_string()));
    }
    block("TLS / Encryption Info:", rows)
}

/// Which checks are enforced, in words.
fn verify_description(p: &crate::net::tls::TlsParams) -> String {
    use crate::smtp::event::VerifyPart;
    let checks = match (p.verify, p.verify_only) {
        (false, _) => "none enforced (--insecure)",
        (true, None) => "ca, host",
        (true, Some(VerifyPart::Chain)) => "ca (--tls-verify-ca)",
        (true, Some(VerifyPart::Name)) => "host (--tls-verify-host)",
    };
    if p.tlsa.is_empty() {
        checks.to_string()
    } else {
        format!("{checks}; dane ({} TLSA records)", p.tlsa.len())
    }
}

fn auth(args: &SendArgs, cfg: &SendConfig, reveal: bool) -> Vec<String> {
    let Some(a) = &cfg.plan.auth else {
        return block("Authentication Info:", vec![("auth", "no".into())]);
    };
    let secret = |s: Option<&crate::smtp::auth::Secret>| match s {
        None => "''".to_string(),
        Some(_) if !reveal => format!("'{MASK}'"),
        Some(s) => format!("'{}'", s.expose()),
    };
    let c = &a.credentials;
    let mut rows = vec![
        (
            "auth",
            match a.requirement {
                AuthRequirement::Required => "required",
                AuthRequirement::Optional => "optional",
                AuthRequirement::OptionalStrict => "optional-strict",
            }
            .to_string(),
        ),
        ("username", format!("'{}'", c.user)),
        ("password", secret(c.password.as_ref())),
    ];
    if c.token.is_some() {
        rows.push(("oauth token", secret(c.token.as_ref())));
    }
    if let Some(z) = &c.authzid {
        rows.push(("authzid", z.clone()));
    }
    let mut types: Vec<String> = if a.mechanisms.is_empty() {
        crate::smtp::auth::SUPPORTED
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        a.mechanisms.clone()
    };
    if a.mechanisms.is_empty() {
        types.sort();
    }
    let mut map: Vec<String> = Vec::new();
    for m in crate::smtp::auth::SUPPORTED {
        let aliases: Vec<&str> = a
            .aliases
            .iter()
            .map(|(a, t)| (a.as_str(), t.as_str()))
            .chain(crate::smtp::auth::ALIASES.iter().copied())
            .filter(|(_, t)| t == m)
            .map(|(al, _)| al)
            .collect();
        map.push(
            std::iter::once(*m)
                .chain(aliases)
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    map.sort();
    rows.extend([
        ("show plaintext", yes(a.show_plaintext)),
        ("hide password", yes(!reveal)),
        ("allowed types", types.join(", ")),
        ("extras", args.auth.auth_extra.join(", ")),
        (
            "type map",
            map.iter()
                .map(|m| {
                    let name = m.split(',').next().unwrap_or_default();
                    format!("{name} = {m}")
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    ]);
    block("Authentication Info:", rows)
}

fn data(cfg: &SendConfig) -> Vec<String> {
    let text = String::from_utf8_lossy(&cfg.plan.message).replace("\r\n", "\n");
    let mut out = vec!["DATA Info:".to_string(), "  data = <<.".to_string()];
    out.push(text.trim_end_matches('\n').to_string());
    out.push(".".to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_parse_like_swaks() {
        assert_eq!(parse_sections("ALL").unwrap(), Sections::all());
        assert_eq!(
            parse_sections("auth, tls").unwrap(),
            Sections(vec![Section::Tls, Section::Auth])
        );
        assert_eq!(
            parse_sections("DATA,App,data").unwrap(),
            Sections(vec![Section::App, Section::Data])
        );
        assert!(parse_sections("TLS,bogus").unwrap_err().contains("'bogus'"));
        assert!(parse_sections(" , ").is_err());
        assert_eq!(
            Sections::all().for_body().0,
            [
                Section::App,
                Section::Output,
                Section::Transport,
                Section::Protocol,
                Section::Xclient,
                Section::Proxy,
                Section::Tls,
                Section::Auth
            ]
        );
    }

    #[test]
    fn command_line_masks_secrets_unless_revealed() {
        let words: Vec<String> = [
            "--to",
            "a@b.c",
            "--auth-password",
            "hunter2",
            "--ap=hunter2",
            "--auth-oauth-token",
            "tok en",
            "--header",
            "Subject: it's",
            "--auth-password",
            "--to",
            "x@y",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let masked = command_line(&words, false);
        assert!(
            !masked.contains("hunter2") && !masked.contains("tok en"),
            "{masked}"
        );
        assert_eq!(
            masked,
            "ehlo --to a@b.c --auth-password ******** '--ap=********' --auth-oauth-token \
             ******** --header 'Subject: it'\\''s' --auth-password --to x@y"
        );
        let shown = command_line(&words, true);
        assert!(
            shown.contains("--auth-password hunter2 --ap=hunter2"),
            "{shown}"
        );
        assert!(shown.contains("'tok en'"), "{shown}");
    }

    #[test]
    fn blocks_align_and_continue_lines() {
        let b = block(
            "X Info:",
            vec![
                ("a", "1".into()),
                ("long key", "x\ny".into()),
                ("e", String::new()),
            ],
        );
        assert_eq!(
            b,
            [
                "X Info:",
                "  a        = 1",
                "  long key = x",
                "             y",
                "  e        ="
            ]
        );
    }
}
