//! `ehlo check` flags → `CheckConfig`: domain lists read, the CI grammar validated.

use std::io::{BufRead, Read};

use super::{Environment, usage};
use crate::error::Error;
use crate::net::dns::{DnsOptions, Family};

/// Largest `ehlo check @FILE` or stdin list read (a million domains is about 20 MiB).
const MAX_DOMAIN_LIST: u64 = 64 << 20;

/// A malformed name never succeeds on a retry: refused up front (exit 1) rather than reported
/// as "could not be tested". The name is quoted with control and invisible characters escaped.
fn checked_name(d: &str) -> Result<(), String> {
    let name = normalised(d).to_ascii_lowercase();
    crate::check::valid_domain(d).map_err(|why| {
        let why = pasted(d).unwrap_or(why);
        format!("'{}' is not a domain name: {why}", d.escape_debug())
    })?;
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

/// What a malformed line most likely is, when it is something else pasted into a domain list:
/// a URL, an e-mail address, a `host:port`, an IDN written in Unicode. Said with the domain to
/// write instead (the URL's host, the address's domain, the IDN's A-labels), since the rule a
/// character broke ("':' is not allowed") does not say what to do.
fn pasted(d: &str) -> Option<String> {
    let valid = |n: &str| crate::check::valid_domain(n).is_ok() && n.is_ascii();
    if let Some((_, rest)) = d.split_once("://") {
        // RFC 3986 §3.2: authority = [ userinfo "@" ] host [ ":" port ], up to `/`, `?` or `#`.
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit('@').next().unwrap_or_default();
        let host = host_port.split(':').next().unwrap_or_default();
        return Some(if valid(host) {
            format!("a URL; its host is {host}")
        } else {
            "a URL, not a domain".to_string()
        });
    }
    if let Some((_, domain)) = d.rsplit_once('@') {
        let domain = domain.trim_end_matches('>');
        return Some(if valid(domain) {
            format!("an e-mail address; its domain is {domain}")
        } else {
            "an e-mail address, not a domain".to_string()
        });
    }
    if let Some((host, port)) = d.rsplit_once(':')
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && valid(host)
    {
        return Some(format!(
            "a port is no part of a domain; write {host} (--port sets the SMTP port probed)"
        ));
    }
    if !d.is_ascii() {
        let a_labels = crate::net::dns::ascii_host(normalised(d));
        if a_labels != normalised(d) && valid(&a_labels) {
            // RFC 3490 §3.1: these stops separate labels as `.` does; a name whose only
            // non-ASCII characters they are is no IDN.
            let dots = normalised(d).replace(crate::net::dns::UNICODE_DOTS, ".");
            return Some(
                match normalised(d)
                    .chars()
                    .find(|c| crate::net::dns::UNICODE_DOTS.contains(c))
                {
                    Some(dot) if dots.is_ascii() => format!(
                        "'{dot}' separates labels as '.' does (RFC 3490 §3.1): write {a_labels}"
                    ),
                    _ => format!("an IDN is checked in its A-label form: write {a_labels}"),
                },
            );
        }
    }
    None
}

/// The domains to check, each once, in the order first given: a name given twice (in another
/// case, with a trailing dot, in two lists) is one domain (RFC 4343: names compare
/// case-insensitively), kept as written the first time, so the totals and the JUnit suites are
/// per domain. Only the names kept are stored, with a 64-bit hash of each one's normalised form:
/// a list of many repeats costs what its distinct names do, not its size.
struct Domains<S = std::hash::RandomState> {
    names: Vec<String>,
    /// Hash of a normalised name → the first kept name with that hash.
    first: std::collections::HashMap<u64, usize>,
    /// Kept names whose hash an earlier, different name already had (a collision): compared
    /// one by one, so two names are never taken for one.
    collided: Vec<usize>,
    hasher: S,
    /// The name being added, normalised to be hashed (one buffer for the whole list).
    scratch: String,
}

/// The form two names are compared in, but for ASCII case: the trailing dot of an absolute
/// name removed (one only: `example.com..` has an empty label, RFC 1035 §3.1).
fn normalised(d: &str) -> &str {
    d.strip_suffix('.').unwrap_or(d)
}

impl<S: std::hash::BuildHasher> Domains<S> {
    fn with_hasher(hasher: S) -> Self {
        Domains {
            names: Vec::new(),
            first: std::collections::HashMap::new(),
            collided: Vec::new(),
            hasher,
            scratch: String::new(),
        }
    }

    /// Adds `d` unless the same domain was added before; `d` is only copied when kept, and only
    /// checked with `check` then (a repeat of a kept name is as valid as it was).
    fn add(
        &mut self,
        d: &str,
        check: impl FnOnce(&str) -> Result<(), String>,
    ) -> Result<(), String> {
        let key = normalised(d);
        self.scratch.clear();
        self.scratch.push_str(key);
        self.scratch.make_ascii_lowercase();
        let hash = self.hasher.hash_one(self.scratch.as_str());
        let same = |i: &usize| normalised(&self.names[*i]).eq_ignore_ascii_case(key);
        let collides = match self.first.get(&hash) {
            Some(i) if same(i) => return Ok(()),
            Some(_) if self.collided.iter().any(same) => return Ok(()),
            Some(_) => true,
            None => false,
        };
        check(d)?;
        if collides {
            self.collided.push(self.names.len());
        } else {
            self.first.insert(hash, self.names.len());
        }
        self.names.push(d.to_string());
        Ok(())
    }
}

/// A list source read under `--deadline`: a thread does the blocking reads (a pipe kept open
/// never returns from one) and hands the bytes over; a read that would go past `until` fails with
/// [`std::io::ErrorKind::TimedOut`] instead of waiting. The thread is left behind at that point,
/// blocked in its read; it ends when the process does (or, once the list is dropped, at its next
/// read). Before, the list was read to its end and only then did the deadline start:
/// `(echo d; sleep 8) | ehlo check - --deadline 2s` ran 8 s and exited 0.
struct UntilReader {
    chunks: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    have: std::io::Cursor<Vec<u8>>,
    until: std::time::Instant,
    ended: bool,
}

impl UntilReader {
    fn new(mut inner: impl Read + Send + 'static, until: std::time::Instant) -> Self {
        // Two chunks in hand at most: the reader thread is not a second copy of the list.
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        std::thread::spawn(move || {
            loop {
                let mut buf = vec![0; 64 << 10];
                let r = match inner.read(&mut buf) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Ok(n) => {
                        buf.truncate(n);
                        Ok(buf)
                    }
                    Err(e) => Err(e),
                };
                let last = !matches!(&r, Ok(b) if !b.is_empty());
                if tx.send(r).is_err() || last {
                    break;
                }
            }
        });
        Self {
            chunks: rx,
            have: std::io::Cursor::new(Vec::new()),
            until,
            ended: false,
        }
    }
}

impl Read for UntilReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.have.read(buf)?;
            if n > 0 || self.ended || buf.is_empty() {
                return Ok(n);
            }
            let left = self
                .until
                .saturating_duration_since(std::time::Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(Ok(chunk)) if chunk.is_empty() => self.ended = true,
                Ok(Ok(chunk)) => self.have = std::io::Cursor::new(chunk),
                Ok(Err(e)) => return Err(e),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => self.ended = true,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    return Err(std::io::ErrorKind::TimedOut.into());
                }
            }
        }
    }
}

/// How reading a domain list ended.
#[derive(Debug, PartialEq, Eq)]
enum ListRead {
    /// Read to its end.
    Whole,
    /// `--deadline` passed while it was still being read: the names read so far are kept (a
    /// half-read last line is not), the rest is never read.
    Cut,
}

/// Reads a domain list (`@FILE` or stdin) a line at a time into `domains`: memory grows with the
/// distinct names kept, not with the list. A list larger than [`MAX_DOMAIN_LIST`] is refused
/// whole (one byte past the limit tells it from one that fits: cut at the limit, the rest would
/// be lost and its last line checked half-written, `example.co` for `example.com`), before a
/// malformed name in it is reported; a read error before both. With `until` (`--deadline`), a
/// read still waiting then stops the list there ([`ListRead::Cut`]).
fn read_list(
    input: impl Read + Send + 'static,
    until: Option<std::time::Instant>,
    source: &str,
    cannot_read: &str,
    domains: &mut Domains<impl std::hash::BuildHasher>,
) -> Result<ListRead, Error> {
    let input: Box<dyn Read> = match until {
        Some(t) => Box::new(UntilReader::new(input, t)),
        None => Box::new(input),
    };
    let mut input = std::io::BufReader::new(input.take(MAX_DOMAIN_LIST + 1));
    let mut ended = ListRead::Whole;
    let mut line = Vec::new();
    let mut total = 0u64;
    let mut bad = None;
    for n in 1.. {
        line.clear();
        let read = match input.read_until(b'\n', &mut line) {
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut && until.is_some() => {
                ended = ListRead::Cut;
                break;
            }
            Err(e) => return Err(usage(format!("{cannot_read}: {e}"))),
        };
        if read == 0 {
            break;
        }
        total += read as u64;
        if bad.is_some() {
            continue;
        }
        if n == 1
            && let Some(how) = utf16_or_32(&line)
        {
            bad = Some(format!(
                "{source} is {how} text: a domain list is UTF-8 (or ASCII), one name a line; \
                 save it as UTF-8 (PowerShell: Out-File -Encoding utf8)"
            ));
            continue;
        }
        let text = match std::str::from_utf8(&line) {
            Ok(text) => text,
            Err(e) => {
                let ok = &line[..e.valid_up_to()];
                let column = String::from_utf8_lossy(ok).chars().count() + 1;
                bad = Some(format!(
                    "{source} line {n} is not UTF-8 text (byte \\x{:02X} at column {column}): a \
                     domain list is UTF-8, an IDN in its A-label form",
                    line[e.valid_up_to()]
                ));
                continue;
            }
        };
        // A list saved by an editor that writes a UTF-8 byte order mark: not part of the name.
        let text = if n == 1 {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        } else {
            text
        };
        let name = text.split('#').next().unwrap_or("").trim();
        if !name.is_empty()
            && let Err(why) = domains.add(name, checked_name)
        {
            bad = Some(format!("{source} line {n}: {why}"));
        }
    }
    if total > MAX_DOMAIN_LIST {
        return Err(usage(format!(
            "{source} is larger than {} MiB",
            MAX_DOMAIN_LIST >> 20
        )));
    }
    bad.map_or(Ok(ended), |why| Err(usage(why)))
}

/// The encoding of a list whose first line (up to its first LF byte) is UTF-16 or UTF-32 text
/// rather than UTF-8: by its byte order mark (the Unicode Standard §23.8), or without one by
/// every other byte being NUL, as ASCII text in UTF-16 is. Windows PowerShell 5.1 writes UTF-16
/// with `>` and `Out-File`, so a list made there arrives so on a CI runner.
fn utf16_or_32(line: &[u8]) -> Option<&'static str> {
    if line.starts_with(b"\xff\xfe\0\0") || line.starts_with(b"\0\0\xfe\xff") {
        return Some("UTF-32");
    }
    if line.starts_with(b"\xff\xfe") || line.starts_with(b"\xfe\xff") {
        return Some("UTF-16");
    }
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let nul_at = |first: usize| {
        text.len() >= 2
            && text.iter().skip(first).step_by(2).all(|&b| b == 0)
            && text.iter().skip(1 - first).step_by(2).all(|&b| b != 0)
    };
    (nul_at(0) || nul_at(1)).then_some("UTF-16")
}

/// `ehlo check` flags → [`crate::check::CheckConfig`]: domain lists read, the CI grammar
/// (`--expect`, `--waive`, `--only`, `--skip`) validated so that a typo is exit 1, not a run.
pub(super) fn check_config(
    a: crate::cli::args::CheckArgs,
    env: &Environment,
) -> Result<crate::check::CheckConfig, Error> {
    use crate::check::select::{Expect, Selection, Waiver};
    // `--deadline` covers the whole run, reading the list included: it starts now.
    let started = std::time::Instant::now();
    let deadline = a.deadline.filter(|d| !d.is_zero());
    let until = deadline.map(|d| started + d);
    let mut domains = Domains::with_hasher(std::hash::RandomState::new());
    let mut stdin_read = false;
    let mut list = ListRead::Whole;
    for arg in &a.domains {
        if list == ListRead::Cut {
            // The deadline has passed: no further list is read (nor its errors looked for).
            break;
        }
        if arg == "-" {
            if stdin_read {
                return Err(usage("'-' (stdin) given twice"));
            }
            stdin_read = true;
            list = read_list(
                (env.stdin)(),
                until,
                "stdin",
                "cannot read the domain list from stdin",
                &mut domains,
            )?;
        } else if let Some(path) = arg.strip_prefix('@') {
            // Named as the domain list: `cannot read /nonexistent` alone did not say which file
            // of the command line it was.
            let cannot_read = format!("cannot read the domain list {arg}");
            let f = std::fs::File::open(path).map_err(|e| usage(format!("{cannot_read}: {e}")))?;
            // A regular file over the limit is refused by its size, before a line of it is read.
            if f.metadata()
                .is_ok_and(|m| m.is_file() && m.len() > MAX_DOMAIN_LIST)
            {
                return Err(usage(format!(
                    "the domain list {arg} is larger than {} MiB",
                    MAX_DOMAIN_LIST >> 20
                )));
            }
            list = read_list(f, until, path, &cannot_read, &mut domains)?;
        } else {
            domains
                .add(arg.trim(), checked_name)
                .map_err(|why| usage(why.to_string()))?;
        }
    }
    // `--host`: one server, named as given (a literal without its brackets), is the list.
    let host = match &a.host {
        Some(h) => {
            let bare = h.trim().trim_start_matches('[').trim_end_matches(']');
            if bare.parse::<std::net::IpAddr>().is_err() {
                crate::check::valid_domain(bare)
                    .map_err(|why| usage(format!("--host {h}: not a host name: {why}")))?;
            }
            Some(bare.to_string())
        }
        None => None,
    };
    // `--host` beside domains: that server is checked as each domain's MX, in place of the MX
    // records (a server before it is published). MTA-STS `mx` patterns and TLSA owners
    // (`_PORT._tcp.HOST`) name hosts, never addresses, so it must be a host name there.
    let (host, mx_host, domains) = match host {
        Some(h) if !a.domains.is_empty() => {
            if h.parse::<std::net::IpAddr>().is_ok() {
                return Err(usage(format!(
                    "--host {h} with domains: an IP address cannot stand in for a domain's MX (MTA-STS \
                     mx patterns and DANE's TLSA records at _PORT._tcp.HOST name a host): give the \
                     host name the MX record will carry, or `ehlo check --host {h}` alone for the \
                     server by itself"
                )));
            }
            (None, Some(h), domains.names)
        }
        Some(h) => (Some(h.clone()), None, vec![h]),
        None => (None, None, domains.names),
    };
    // `--connect-to`: where HOST's connections go while HOST stays the name judged; for a name
    // only (an address needs none), deduplicated, and of the -4/-6 family asked for.
    let family = crate::net::dns::Family::from_flags(a.ipv4, a.ipv6);
    let mut connect_to: Vec<std::net::IpAddr> = Vec::new();
    for ip in &a.connect_to {
        if !connect_to.contains(ip) {
            connect_to.push(*ip);
        }
    }
    if let Some(h) = a.host.as_deref().filter(|_| !connect_to.is_empty()) {
        let bare = h.trim().trim_start_matches('[').trim_end_matches(']');
        if bare.parse::<std::net::IpAddr>().is_ok() {
            return Err(usage(format!(
                "--connect-to with --host {h}: HOST is already an address; --connect-to is for a \
                 host name whose DNS does not give that address yet"
            )));
        }
        if !connect_to.iter().any(|ip| family.admits(*ip)) {
            return Err(usage(format!(
                "--connect-to gives no {} address, and HOST's DNS is not asked: nothing to connect to",
                if family == crate::net::dns::Family::V6 {
                    "IPv6 (-6)"
                } else {
                    "IPv4 (-4)"
                }
            )));
        }
        connect_to.retain(|ip| family.admits(*ip));
    }
    let list_cut = list == ListRead::Cut;
    // A list the deadline cut before its first name is still a run the deadline ended (41 and
    // the report's summary), not a usage error.
    if domains.is_empty() && !list_cut {
        return Err(usage("no domain to check (the list is empty)"));
    }
    // A server named with `--host` has no domain: only its per-address checks run (DANE's
    // need a domain's TLSA records, so they are left out too).
    let mut skip = a.skip.clone();
    if host.is_some() {
        skip.extend(
            crate::check::model::CHECKS
                .iter()
                .filter(|d| {
                    d.scope == crate::check::model::Scope::Domain || d.id.starts_with("dane.")
                })
                .map(|d| d.id.to_string()),
        );
    }
    let selection = Selection::new(&a.only, &skip).map_err(usage)?;
    let expects = a
        .expect
        .iter()
        .map(|e| Expect::parse(e))
        .collect::<Result<Vec<_>, _>>()
        .map(Expect::dedup)
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
                "--expect '{}' needs {flag} (the {} check is opt-in)",
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
        .map_err(|e| usage(e.to_string()))?;
    for e in &expects {
        selection
            .ensure_reported(e)
            .map_err(|e| usage(e.to_string()))?;
    }
    let waivers = a
        .waive
        .iter()
        .map(|w| Waiver::parse(w))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)?;
    // A waiver for a name the cut list never reached is not a typo.
    for w in waivers.iter().filter(|_| !list_cut) {
        w.ensure_checked(&domains)
            .map_err(|e| usage(e.to_string()))?;
    }
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
            .map_err(|e| usage(format!("--dns-trust-anchor: {e}")))?;
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
        crate::render::junit::check_writable(p).map_err(|e| usage(e.to_string()))?;
    }
    let helo = super::helo_name(a.helo.as_deref(), &env.hostname)?;
    let family = Family::from_flags(a.ipv4, a.ipv6);
    // RFC 8314 §3.3: submissions, implicit TLS, is port 465.
    let port = a.port.unwrap_or(if a.tls_on_connect { 465 } else { 25 });
    Ok(crate::check::CheckConfig {
        domains,
        dns: DnsOptions::with_timeout(a.dns_server, a.timeout)
            .with_dnssec(dnssec, a.dns_trust_anchor.clone()),
        family,
        probe: crate::check::probe::ProbeOptions {
            port,
            helo,
            timeout: a.timeout,
            ca_path: a.tls_ca_path,
            cert_days: i64::from(a.cert_days),
            implicit_tls: a.tls_on_connect,
            cert_required: crate::check::probe::cert_rule(a.cert_problems, a.tls_on_connect, port),
        },
        optin,
        concurrency: a.concurrency as usize,
        per_ip: a.per_ip as usize,
        deadline,
        deadline_named: "--deadline".into(),
        started,
        list_cut,
        allow_private: a.allow_private,
        mta_sts_port: a.mta_sts_port,
        selection,
        expects,
        waivers,
        fail_on: a.fail_on,
        untested_ok: a.untested_ok,
        host,
        mx_host,
        connect_to,
        json: a.json,
        color: a.color,
        junit: a.junit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[u8], hasher: impl std::hash::BuildHasher) -> Result<Vec<String>, String> {
        let mut d = Domains::with_hasher(hasher);
        let list = std::io::Cursor::new(list.to_vec());
        read_list(list, None, "list", "cannot read list", &mut d).map_err(|e| e.to_string())?;
        Ok(d.names)
    }

    /// A list whose writer goes quiet before its end (a pipe kept open) stops being read at the
    /// deadline: the names read so far are kept, a half-written last line is not a name. It was
    /// read until the writer closed it, the deadline not started yet.
    #[test]
    fn a_list_still_open_at_the_deadline_is_cut_there() {
        struct Stalls(bool);
        impl Read for Stalls {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if std::mem::replace(&mut self.0, true) {
                    std::thread::sleep(std::time::Duration::from_secs(30));
                    return Ok(0);
                }
                let part = b"a.example\nb.example\nc.exa";
                buf[..part.len()].copy_from_slice(part);
                Ok(part.len())
            }
        }
        let mut d = Domains::with_hasher(std::hash::RandomState::new());
        let t = std::time::Instant::now();
        let until = t + std::time::Duration::from_millis(300);
        let got = read_list(Stalls(false), Some(until), "stdin", "cannot", &mut d).unwrap();
        assert_eq!(got, ListRead::Cut);
        assert_eq!(d.names, ["a.example", "b.example"]);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t.elapsed()
        );
        // A list that ends in time is read whole, under a deadline too.
        let mut d = Domains::with_hasher(std::hash::RandomState::new());
        let list = std::io::Cursor::new(b"a.example\nb.example".to_vec());
        let got = read_list(
            list,
            Some(until + std::time::Duration::from_secs(5)),
            "s",
            "c",
            &mut d,
        );
        assert_eq!(got.unwrap(), ListRead::Whole);
        assert_eq!(d.names, ["a.example", "b.example"]);
    }

    /// A hasher under which every name collides: the names themselves must tell them apart.
    #[derive(Default)]
    struct Constant;
    impl std::hash::Hasher for Constant {
        fn finish(&self) -> u64 {
            7
        }
        fn write(&mut self, _: &[u8]) {}
    }

    /// A repeat (another case, a trailing dot) is dropped, the first spelling kept in the
    /// first-seen order; with every hash equal as well, so a collision never merges two names.
    #[test]
    fn a_list_keeps_each_domain_once_in_first_seen_order() {
        let list = b"\xef\xbb\xbfB.example\na.example # x\nb.EXAMPLE.\n\n# c\r\nA.Example.\r\nc.example\nb.example";
        let want = ["B.example", "a.example", "c.example"];
        assert_eq!(names(list, std::hash::RandomState::new()).unwrap(), want);
        let constant = std::hash::BuildHasherDefault::<Constant>::default();
        assert_eq!(names(list, constant.clone()).unwrap(), want);
        // Names that differ only past a case or a dot are kept apart.
        assert_eq!(
            names(b"a.example\nab.example\na.exampl\n", constant).unwrap(),
            ["a.example", "ab.example", "a.exampl"]
        );
    }

    /// A list that is not UTF-8 says so, with what to do: one saved as UTF-16 (what Windows
    /// PowerShell 5.1's `>` and `Out-File` write) or UTF-32 is named by its byte order mark or
    /// its NUL bytes, and a line in a legacy 8-bit charset by the first byte that is not UTF-8.
    /// Read lossily, they were "'��d\0n\0s\0…' is not a domain name: '�' is not allowed", the
    /// byte lost in U+FFFD.
    #[test]
    fn a_list_that_is_not_utf8_is_named_as_such() {
        let utf16 = |bom: &[u8], le: bool, text: &str| {
            let mut v = bom.to_vec();
            for u in text.encode_utf16() {
                v.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
            v
        };
        let rs = std::hash::RandomState::new;
        for (list, how) in [
            (utf16(b"\xff\xfe", true, "a.example\r\n"), "UTF-16"),
            (utf16(b"\xfe\xff", false, "a.example\n"), "UTF-16"),
            (utf16(b"", true, "a.example\r\n"), "UTF-16"),
            (utf16(b"", false, "a.example\r\n"), "UTF-16"),
            (b"\xff\xfe\0\0a\0\0\0\n\0\0\0".to_vec(), "UTF-32"),
            (b"\0\0\xfe\xff\0\0\0a\0\0\0\n".to_vec(), "UTF-32"),
        ] {
            let e = names(&list, rs()).unwrap_err();
            assert_eq!(
                e,
                format!(
                    "list is {how} text: a domain list is UTF-8 (or ASCII), one name a line; \
                     save it as UTF-8 (PowerShell: Out-File -Encoding utf8)"
                ),
                "{list:?}"
            );
        }
        // ISO-8859-1 "bücher.example" on line 2: the byte and where it is.
        let e = names(b"a.example\nb\xfccher.example\n", rs()).unwrap_err();
        assert_eq!(
            e,
            "list line 2 is not UTF-8 text (byte \\xFC at column 2): a domain list is UTF-8, \
             an IDN in its A-label form"
        );
        // A NUL in a line of an otherwise UTF-8 list is still a bad name, not a UTF-16 list.
        let e = names(b"a.example\nb\0.example\n", rs()).unwrap_err();
        assert!(e.contains("'b\\0.example' is not a domain name"), "{e}");
        // UTF-8 with or without its byte order mark is read as before.
        assert_eq!(
            names(b"\xef\xbb\xbfa.example\n", rs()).unwrap(),
            ["a.example"]
        );
    }

    /// A malformed name is reported with its line, unless the list is also over the limit: that
    /// is said first, as when the list was read whole before its lines were looked at.
    #[test]
    fn a_list_over_the_limit_is_refused_before_its_bad_lines() {
        let e = names(
            b"a.example\nbad..name\nc.example\n",
            std::hash::RandomState::new(),
        );
        assert!(e.unwrap_err().contains("list line 2: 'bad..name'"));
        // One long comment line after it: few lines to read in a debug build.
        let mut big = b"bad..name\n#".to_vec();
        big.resize(MAX_DOMAIN_LIST as usize + 1, b'x');
        let e = names(&big, std::hash::RandomState::new()).unwrap_err();
        assert!(e.contains("list is larger than 64 MiB"), "{e}");
        big.truncate(MAX_DOMAIN_LIST as usize);
        let e = names(&big, std::hash::RandomState::new()).unwrap_err();
        assert!(e.contains("list line 1"), "{e}");
    }
}
