//! swaks's complete option vocabulary (every name and short form of swaks v20201014 and
//! v20240103, from its `get_option_struct` list and manual) and what each one is in ehlo: the
//! ehlo flag that does the same thing, or nothing. The argv rewrite ([`super::rewrite_single_dash`])
//! uses it so that no swaks command line is silently read as something else: a swaks name that
//! ehlo lacks is refused (exit 1) naming swaks's long form, instead of falling through to clap,
//! which would read `-dab` as `-d ab` or `-nsh` as `-n -s h`.

/// How a swaks option takes its argument (swaks's `OP_ARG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Takes {
    /// A flag.
    None,
    /// An optional argument.
    Optional,
    /// A required argument (swaks prompts for some when it is missing).
    Required,
}

/// One swaks option: its names (long form first, then its aliases and short forms) and the
/// long name of the ehlo flag with the same meaning.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SwaksOpt {
    /// swaks's spellings, long form first.
    pub(crate) names: &'static [&'static str],
    /// Argument kind in swaks (the table test gives a value only to options that take one).
    pub(crate) takes: Takes,
    /// The ehlo flag (its long name) that means the same, `None` when ehlo has none.
    pub(crate) ehlo: Option<&'static str>,
}

const fn o(names: &'static [&'static str], takes: Takes, ehlo: Option<&'static str>) -> SwaksOpt {
    SwaksOpt { names, takes, ehlo }
}

use Takes::{None as N, Optional as O, Required as R};

/// Every swaks option. `help` and `version` are handled by clap (and by the `-h` rule).
pub(crate) const OPTIONS: &[SwaksOpt] = &[
    o(&["config"], O, Some("config")),
    o(&["from", "f"], R, Some("from")),
    o(&["to", "t"], R, Some("to")),
    o(&["cc"], R, Some("cc")),
    o(&["bcc"], R, Some("bcc")),
    o(&["helo", "ehlo", "lhlo", "h"], R, Some("helo")),
    o(&["server", "s"], R, Some("server")),
    o(&["4"], N, Some("ipv4")),
    o(&["6"], N, Some("ipv6")),
    o(&["copy-routing"], R, Some("copy-routing")),
    o(&["port", "p"], R, Some("port")),
    o(&["protocol"], R, Some("protocol")),
    o(&["data", "d"], R, Some("data")),
    // `-g` is not in swaks's option list: v20201014 rewrites it to `--data -` before parsing
    // (deprecated; v20240103 removed it). ehlo keeps it as a hidden flag doing the same.
    o(&["g"], N, Some("g")),
    o(&["dump-as-body", "dab"], O, Some("dump-as-body")),
    o(
        &["dump-as-body-shows-password", "dabsp"],
        N,
        Some("dump-as-body-shows-password"),
    ),
    o(&["timeout"], R, Some("timeout")),
    o(&["quit-after", "quit", "q"], R, Some("quit-after")),
    o(&["drop-after", "drop", "da"], R, Some("drop-after")),
    o(&["drop-after-send", "das"], R, Some("drop-after-send")),
    o(&["suppress-data", "n"], N, Some("suppress-data")),
    o(&["auth", "a"], O, Some("auth")),
    o(&["auth-user", "au"], O, Some("auth-user")),
    o(&["auth-password", "ap"], O, Some("auth-password")),
    o(&["auth-map", "am"], R, Some("auth-map")),
    o(&["auth-extra", "ae"], R, Some("auth-extra")),
    o(
        &["auth-hide-password", "ahp"],
        O,
        Some("auth-hide-password"),
    ),
    o(&["auth-plaintext", "apt"], N, Some("auth-plaintext")),
    o(&["auth-optional", "ao"], O, Some("auth-optional")),
    o(
        &["auth-optional-strict", "aos"],
        O,
        Some("auth-optional-strict"),
    ),
    o(&["support"], N, Some("support")),
    o(&["local-interface", "li"], R, Some("local-interface")),
    o(&["local-port", "lport", "lp"], R, Some("local-port")),
    o(&["tls"], N, Some("tls")),
    o(&["tls-optional", "tlso"], N, Some("tls-optional")),
    o(
        &["tls-optional-strict", "tlsos"],
        N,
        Some("tls-optional-strict"),
    ),
    o(&["tls-on-connect", "tlsc"], N, Some("tls-on-connect")),
    o(&["tls-cert"], R, Some("tls-cert")),
    o(&["tls-key"], R, Some("tls-key")),
    o(&["tls-chain"], R, Some("tls-chain")),
    o(&["tls-protocol", "tlsp"], R, Some("tls-protocol")),
    o(&["tls-cipher"], R, Some("tls-cipher")),
    o(&["tls-get-peer-cert"], O, Some("tls-get-peer-cert")),
    o(&["tls-get-peer-chain"], O, Some("tls-get-peer-chain")),
    o(&["tls-sni"], R, Some("tls-sni")),
    o(&["tls-verify"], N, Some("tls-verify")),
    o(&["tls-verify-ca"], N, Some("tls-verify-ca")),
    o(&["tls-verify-host"], N, Some("tls-verify-host")),
    o(&["tls-verify-target"], R, Some("tls-verify-target")),
    o(&["tls-ca-path"], R, Some("tls-ca-path")),
    o(&["silent", "S"], O, Some("silent")),
    o(&["no-strip-from", "nsf"], N, Some("no-strip-from")),
    o(&["no-hints", "nth"], N, Some("no-hints")),
    o(&["no-send-hints", "nsh"], N, Some("no-send-hints")),
    o(&["no-receive-hints", "nrh"], N, Some("no-receive-hints")),
    o(&["no-info-hints", "nih"], N, Some("no-info-hints")),
    o(&["hide-receive", "hr"], N, Some("hide-receive")),
    o(&["hide-send", "hs"], N, Some("hide-send")),
    o(&["hide-informational", "hi"], N, Some("hide-informational")),
    o(&["hide-all", "ha"], N, Some("hide-all")),
    o(&["protect-prompt", "pp"], N, Some("protect-prompt")),
    o(&["show-time-lapse", "stl"], O, Some("show-time-lapse")),
    o(&["no-data-fixup", "ndf"], N, Some("no-data-fixup")),
    o(&["show-raw-text", "raw"], N, Some("show-raw-text")),
    o(&["output", "output-file"], R, Some("output-file")),
    o(&["output-file-stdout"], R, Some("output-file-stdout")),
    o(&["output-file-stderr"], R, Some("output-file-stderr")),
    o(&["pipe"], R, Some("pipe")),
    o(&["socket"], R, Some("socket")),
    o(&["body"], R, Some("body")),
    o(&["attach-name"], O, Some("attach-name")),
    o(&["attach-type"], R, Some("attach-type")),
    o(&["attach"], R, Some("attach")),
    o(&["attach-body"], R, Some("attach-body")),
    o(&["add-header", "ah"], R, Some("add-header")),
    o(&["header"], R, Some("header")),
    o(&["dump"], O, Some("dump")),
    o(&["dump-mail"], N, Some("dump-mail")),
    o(&["pipeline"], N, Some("pipeline")),
    o(&["prdr"], N, Some("prdr")),
    o(&["force-getpwuid"], N, Some("force-getpwuid")),
    o(&["xclient"], R, Some("xclient")),
    o(&["xclient-name"], R, Some("xclient-name")),
    o(&["xclient-addr"], R, Some("xclient-addr")),
    o(&["xclient-port"], R, Some("xclient-port")),
    o(&["xclient-proto"], R, Some("xclient-proto")),
    o(&["xclient-destaddr"], R, Some("xclient-destaddr")),
    o(&["xclient-destport"], R, Some("xclient-destport")),
    o(&["xclient-helo"], R, Some("xclient-helo")),
    o(&["xclient-login"], R, Some("xclient-login")),
    o(&["xclient-reverse-name"], R, Some("xclient-reverse-name")),
    o(&["xclient-delim"], N, Some("xclient-delim")),
    o(&["xclient-optional"], N, Some("xclient-optional")),
    o(
        &["xclient-optional-strict"],
        N,
        Some("xclient-optional-strict"),
    ),
    o(
        &["xclient-before-starttls"],
        N,
        Some("xclient-before-starttls"),
    ),
    o(&["xclient-no-verify"], N, Some("xclient-no-verify")),
    o(&["proxy"], R, Some("proxy")),
    o(&["proxy-version"], R, Some("proxy-version")),
    o(&["proxy-family"], R, Some("proxy-family")),
    o(&["proxy-command"], R, Some("proxy-command")),
    o(&["proxy-protocol"], R, Some("proxy-protocol")),
    o(&["proxy-source"], R, Some("proxy-source")),
    o(&["proxy-source-port"], R, Some("proxy-source-port")),
    o(&["proxy-dest"], R, Some("proxy-dest")),
    o(&["proxy-dest-port"], R, Some("proxy-dest-port")),
    // swaks's own test hook for its deprecation warnings; it does nothing else.
    o(&["trigger-deprecation"], R, None),
    o(&["help"], N, Some("help")),
    o(&["version"], N, Some("version")),
];

/// `--support`: what this build can do, one `===` line per feature as swaks prints it. Every
/// feature is compiled in (nothing depends on optional modules as in swaks), so each line says
/// which library, standard or flag provides it.
pub(crate) fn support() -> String {
    let aliases: Vec<String> = crate::smtp::auth::ALIASES
        .iter()
        .map(|(a, t)| format!("{a}={t}"))
        .collect();
    let lines = [
        format!(
            "TLS supported ({}): STARTTLS and implicit TLS; TLS 1.2 and 1.3, 1.0 and 1.1 \
             when named in --tls-protocol; SNI, client certificates, --tls-ciphersuites",
            openssl::version::version()
        ),
        format!(
            "AUTH supported: {} (aliases {})",
            crate::smtp::auth::SUPPORTED.join(" "),
            aliases.join(" ")
        ),
        "DNS supported (hickory-resolver; /etc/resolv.conf or --dns-server, UDP and TCP): MX, \
         A/AAAA, TXT"
            .into(),
        "MX routing supported: every MX in preference order, implicit MX, null MX (RFC 7505)"
            .into(),
        "DNSSEC supported: --dnssec validate (signatures checked here, RFC 4035; root anchors \
         built in or --dns-trust-anchor), --dnssec trust-ad (the resolver's AD bit, RFC 6840)"
            .into(),
        "DANE supported: --tls-verify dane (TLSA lookup with DNSSEC, RFC 7672), --tlsa, \
         --tlsa-file"
            .into(),
        "IPv6 supported".into(),
        "Pipe transport supported".into(),
        "Socket transport supported (UNIX domain)".into(),
        "LMTP supported (--protocol LMTP)".into(),
        "PROXY protocol v1 and v2 supported".into(),
        "XCLIENT and XFORWARD supported".into(),
        "ESMTP extensions supported: PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN, CHUNKING \
         (--bdat), REQUIRETLS, PRDR"
            .into(),
        "JSON Lines output supported (--json)".into(),
        "Netrc credentials supported".into(),
        "High resolution timing supported".into(),
        "Local hostname detection supported".into(),
        "Date manipulation supported".into(),
    ];
    lines.iter().map(|l| format!("=== {l}\n")).collect()
}

/// The swaks option with this spelling (case-sensitive, as in swaks: `-S` is not `-s`).
pub(crate) fn find(name: &str) -> Option<&'static SwaksOpt> {
    OPTIONS.iter().find(|o| o.names.contains(&name))
}

/// The refusal for a swaks spelling ehlo does not implement: one line naming swaks's long form,
/// so the user knows what the line meant and that nothing was sent.
pub(crate) fn unsupported(word: &str, opt: &SwaksOpt) -> String {
    format!(
        "'{word}' is swaks's --{}, which ehlo does not implement; nothing was sent",
        opt.names[0]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::Cli;
    use clap::CommandFactory;
    use std::ffi::OsString;

    /// The ehlo flag a word names after the rewrite, by its long name (or `help`).
    fn resolves_to(word: &str, takes: Takes) -> Result<Option<String>, String> {
        let mut argv: Vec<OsString> = vec!["ehlo".into(), word.into()];
        if takes != Takes::None {
            argv.push("value".into());
        }
        let out = crate::cli::rewrite_single_dash(argv).map_err(|e| e.to_string())?;
        let w = out[1].to_string_lossy().into_owned();
        let mut cmd = Cli::command();
        cmd.build();
        if let Some(long) = w.strip_prefix("--") {
            let long = long.split('=').next().unwrap_or(long);
            return Ok(cmd
                .get_arguments()
                .find(|a| {
                    a.get_long() == Some(long)
                        || a.get_all_aliases().unwrap_or_default().contains(&long)
                })
                .and_then(|a| a.get_long())
                .map(str::to_string));
        }
        let c = w.strip_prefix('-').and_then(|s| s.chars().next());
        Ok(cmd
            .get_arguments()
            .find(|a| a.get_short().is_some() && a.get_short() == c && w.chars().count() == 2)
            .and_then(|a| a.get_long())
            .map(str::to_string))
    }

    /// The whole table, every spelling with one and two dashes: either it reaches the ehlo flag
    /// the table names, or it is refused naming swaks's long form. Nothing else.
    #[test]
    fn every_swaks_spelling_means_the_same_or_is_refused() {
        for opt in OPTIONS {
            for name in opt.names {
                for word in [format!("-{name}"), format!("--{name}")] {
                    let got = resolves_to(&word, opt.takes);
                    match opt.ehlo {
                        Some(long) => {
                            assert_eq!(got, Ok(Some(long.to_string())), "{word}");
                        }
                        None => {
                            let e = got.expect_err(&word);
                            assert!(e.contains(&format!("--{}", opt.names[0])), "{word}: {e}");
                            assert!(e.contains("nothing was sent"), "{word}: {e}");
                        }
                    }
                }
            }
        }
    }

    /// `--support` names DNS, DNSSEC, DANE, PROXY and every AUTH mechanism, and every flag it
    /// points at exists (the list cannot go stale when a flag is renamed).
    #[test]
    fn support_lists_every_capability_with_real_flags() {
        let out = support();
        for want in [
            "=== TLS supported (OpenSSL ",
            "=== DNS supported",
            "=== DNSSEC supported: --dnssec validate",
            "--dnssec trust-ad",
            "=== DANE supported: --tls-verify dane",
            "=== MX routing supported",
            "=== PROXY protocol v1 and v2 supported",
            "=== XCLIENT and XFORWARD supported",
            "=== LMTP supported",
            "CHUNKING",
        ] {
            assert!(out.contains(want), "{want}: {out}");
        }
        for mech in crate::smtp::auth::SUPPORTED {
            assert!(out.contains(mech), "{mech}: {out}");
        }
        let mut cmd = Cli::command();
        cmd.build();
        for word in out.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            if let Some(long) = word.strip_prefix("--") {
                assert!(
                    cmd.get_arguments().any(|a| a.get_long() == Some(long)),
                    "--support names --{long}, which is not an ehlo flag"
                );
            }
        }
        assert!(out.lines().all(|l| l.starts_with("=== ")), "{out}");
    }

    /// The README's "How it differs from swaks" names every swaks option ehlo refuses.
    #[test]
    fn readme_names_every_refused_option() {
        let readme = include_str!("../../README.md");
        let differences = readme
            .split("## How it differs from swaks")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("README has a \"How it differs from swaks\" section");
        for opt in OPTIONS.iter().filter(|o| o.ehlo.is_none()) {
            let long = format!("`--{}`", opt.names[0]);
            assert!(
                differences.contains(&long),
                "README's differences do not name {long}"
            );
        }
    }

    /// Every ehlo flag the table points at exists, and every swaks spelling ehlo knows at all
    /// (as a long name, alias or short) is in the table with that flag: the table cannot go stale
    /// when a flag is added under a swaks name.
    #[test]
    fn table_matches_the_flag_table() {
        let mut cmd = Cli::command();
        cmd.build();
        for opt in OPTIONS {
            if let Some(long) = opt.ehlo {
                assert!(
                    cmd.get_arguments().any(|a| a.get_long() == Some(long)),
                    "--{long} is not an ehlo flag"
                );
            }
        }
        for a in cmd.get_arguments() {
            for n in crate::cli::args::long_names(a) {
                if let Some(opt) = find(n) {
                    assert_eq!(opt.ehlo, a.get_long(), "--{n}");
                }
            }
        }
    }
}
