//! `ehlo check` flags → `CheckConfig`: domain lists read, the CI grammar validated.

use std::io::Read;

use super::{Environment, usage};
use crate::error::Error;
use crate::net::dns::{DnsOptions, Family};

/// Largest `ehlo check @FILE` or stdin list read (a million domains is about 20 MiB).
const MAX_DOMAIN_LIST: u64 = 64 << 20;

/// A malformed name never succeeds on a retry: refused up front (exit 1) rather than reported
/// as "could not be tested". The name is quoted with control and invisible characters escaped.
fn checked_name(d: &str) -> Result<(), String> {
    let name = d.trim_end_matches('.').to_ascii_lowercase();
    crate::check::valid_domain(&name)
        .map_err(|why| format!("'{}' is not a domain name: {why}", d.escape_debug()))?;
    // An IP address passes the label rules but names no domain (a top-level label is never all
    // digits, RFC 3696 §2): it was looked up as one and failed "does not exist (NXDOMAIN)".
    let top = name.rsplit('.').next().unwrap_or_default();
    if top.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'{}' is not a domain name: an IP address or an all-digit top-level label (check takes mail domains; `ehlo probe IP` or `ehlo --server IP` talk to one server)",
            d.escape_debug()
        ));
    }
    Ok(())
}

/// A domain list read with one byte to spare ([`MAX_DOMAIN_LIST`] + 1) as text, or the usage
/// error for a list over the limit (`source`: the file, or `stdin`).
fn within_limit(bytes: Vec<u8>, source: &str) -> Result<String, Error> {
    if bytes.len() as u64 > MAX_DOMAIN_LIST {
        return Err(usage(format!(
            "check: {source} is larger than {} MiB",
            MAX_DOMAIN_LIST >> 20
        )));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `ehlo check` flags → [`crate::check::CheckConfig`]: domain lists read, the CI grammar
/// (`--expect`, `--waive`, `--only`, `--skip`) validated so that a typo is exit 1, not a run.
pub(super) fn check_config(
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
            // One byte past the limit tells a list that is too long from one that fits: cut
            // at the limit, the rest of the list would be lost and its last line checked
            // half-written (`example.co` for `example.com`).
            let bytes = (env.read_stdin)(MAX_DOMAIN_LIST + 1).map_err(|e| {
                usage(format!(
                    "check: cannot read the domain list from stdin: {e}"
                ))
            })?;
            within_limit(bytes, "stdin")?
        } else if let Some(path) = arg.strip_prefix('@') {
            let f = std::fs::File::open(path)
                .map_err(|e| usage(format!("check: cannot read {path}: {e}")))?;
            let mut buf = Vec::new();
            f.take(MAX_DOMAIN_LIST + 1)
                .read_to_end(&mut buf)
                .map_err(|e| usage(format!("check: cannot read {path}: {e}")))?;
            within_limit(buf, path)?
        } else {
            let d = arg.trim();
            checked_name(d).map_err(|why| usage(format!("check: {why}")))?;
            domains.push(d.to_string());
            continue;
        };
        // A list saved by an editor that writes a UTF-8 byte order mark: not part of the name.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let source = if arg == "-" { "stdin" } else { &arg[1..] };
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if !line.is_empty() {
                checked_name(line)
                    .map_err(|why| usage(format!("check: {source} line {}: {why}", n + 1)))?;
                domains.push(line.to_string());
            }
        }
    }
    if domains.is_empty() {
        return Err(usage("check: no domain to check (the list is empty)"));
    }
    // A name given twice (in another case, with a trailing dot, in two lists) is one domain
    // (RFC 4343: names compare case-insensitively): checked once and counted once, as written
    // the first time, so the totals and the JUnit suites are per domain.
    let mut seen = std::collections::HashSet::new();
    domains.retain(|d| seen.insert(d.trim_end_matches('.').to_ascii_lowercase()));
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
    // A selection that runs nothing, or an expectation about a check it leaves out, is a
    // command line that can never test what it says.
    selection
        .ensure_runs(crate::check::model::CHECKS, |id| {
            crate::check::optin::OptIn::flag_for(id)
                .filter(|_| !optin.enables(id))
                .map(|flag| format!("{id} is opt-in and needs {flag}"))
        })
        .map_err(|e| usage(format!("check: {e}")))?;
    for e in &expects {
        selection
            .ensure_reported(e)
            .map_err(|e| usage(format!("check: {e}")))?;
    }
    let waivers = a
        .waive
        .iter()
        .map(|w| Waiver::parse(w))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)?;
    // check validates by default (the DNSSEC and DANE checks need it).
    let dnssec = match (a.dnssec, a.dns_trust_anchor.is_some()) {
        (Some(crate::cli::args::DnssecArg::Off), true)
        | (Some(crate::cli::args::DnssecArg::TrustAd), true) => {
            return Err(usage(
                "--dns-trust-anchor: the anchors are only used with --dnssec validate",
            ));
        }
        (Some(crate::cli::args::DnssecArg::Off), false) => crate::net::dns::DnssecMode::Off,
        (Some(crate::cli::args::DnssecArg::TrustAd), false) => crate::net::dns::DnssecMode::TrustAd,
        (Some(crate::cli::args::DnssecArg::Validate) | None, _) => {
            crate::net::dns::DnssecMode::Validate
        }
    };
    // Read now: a file with no usable DNSKEY never gets better on a retry (it used to stop the
    // run with 41, "could not be tested", and no JSON summary).
    if let Some(p) = &a.dns_trust_anchor {
        crate::net::dns::check_trust_anchors(p)
            .map_err(|e| usage(format!("check: --dns-trust-anchor: {e}")))?;
    }
    if let Some(p) = &a.tls_ca_path {
        let tls = crate::net::tls::TlsParams {
            ca_path: Some(p.clone()),
            ..Default::default()
        };
        crate::net::tls::check(&tls).map_err(usage)?;
    }
    // A report that cannot be written is found before the run, as `ehlo probe` does, not after
    // every domain was checked.
    if let Some(p) = &a.junit {
        crate::render::junit::check_writable(p).map_err(|e| usage(format!("check: {e}")))?;
    }
    let helo = super::helo_name(a.helo.as_deref(), &env.hostname)?;
    let family = Family::from_flags(a.ipv4, a.ipv6);
    Ok(crate::check::CheckConfig {
        domains,
        dns: DnsOptions::with_timeout(a.dns_server, a.timeout)
            .with_dnssec(dnssec, a.dns_trust_anchor.clone()),
        family,
        probe: crate::check::probe::ProbeOptions {
            port: a.port,
            helo,
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
