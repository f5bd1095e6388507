//! MTA-STS over HTTPS (RFC 8461 §3.3): `GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt`
//! with the small HTTP/1.1 client of [`crate::net::http`] over the one connection layer's TLS
//! stream (openssl, the same
//! evidence and `--tls-ca-path` as the SMTP probes). SNI is `mta-sts.DOMAIN` and the certificate
//! must verify for it; redirects are NOT followed; 200 with `text/plain` and at most 64 KiB.
//! Then `mtasts.policy` (the lint, [`super::records::lint_policy_bytes`]) and `mtasts.mx-match`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::domain::special_purpose;
use super::model::{CheckResult, Status};
use super::probe::capped;
use super::records::{Policy, lint_policy_bytes, mx_matches};
use crate::net::conn::NO_TLS_FROM_HTTPS;
use crate::net::dns::{DnsOptions, Family, Resolver};
use crate::net::route::{Link, Target};
use crate::net::tls::TlsParams;
use crate::render::remedy::{FrontEnd, words};
use crate::smtp::event::{Event, TlsInfo, plural_s};

/// Largest policy body (RFC 8461 §3.3: "a maximum of 64 KiB").
pub(crate) const MAX_POLICY: usize = 64 * 1024;

/// How to fetch.
#[derive(Debug, Clone)]
pub(crate) struct FetchOptions {
    /// HTTPS port: 443 (RFC 8461 §3.3 fixes it); tests point it elsewhere.
    pub(crate) port: u16,
    /// Timeout of each step (connect, handshake, the whole response); zero = none.
    pub(crate) timeout: Duration,
    /// Extra trust anchors.
    pub(crate) ca_path: Option<PathBuf>,
    /// `-4` / `-6`.
    pub(crate) family: Family,
    /// Fetch from special-purpose addresses too (`--allow-private`).
    pub(crate) allow_private: bool,
}

fn ms(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}

fn fail(why: impl Into<String>, t0: Instant) -> (CheckResult, Option<Vec<u8>>) {
    (
        CheckResult::new("mtasts.fetch", Status::Fail, why).timed(ms(t0)),
        None,
    )
}

/// Fetch the policy of `domain`: the `mtasts.fetch` result and, when one arrived, the body as
/// it came (its encoding is [`policy_check`]'s to judge).
pub(crate) async fn fetch(
    r: &Resolver,
    domain: &str,
    o: &FetchOptions,
) -> (CheckResult, Option<Vec<u8>>) {
    let t0 = Instant::now();
    let host = format!("mta-sts.{domain}");
    let url = policy_url(&host);
    let addrs = match r.addresses(&host, o.family).await {
        Ok(a) => a,
        Err(crate::net::dns::DnsError::Failed { reason, .. }) => {
            return (
                CheckResult::new("mtasts.fetch", Status::Error, format!("{host}: {reason}"))
                    .timed(ms(t0)),
                None,
            );
        }
        Err(e) => {
            // -4/-6 and only the other family's addresses: nothing to fetch in this one.
            if o.family != Family::Any && r.addresses(&host, Family::Any).await.is_ok() {
                let why = super::domain::no_address_in(o.family);
                return (
                    CheckResult::new("mtasts.fetch", Status::Skip, format!("{host} has {why}"))
                        .timed(ms(t0)),
                    None,
                );
            }
            return fail(
                format!("{e}: the policy host must exist (RFC 8461 §3.3)"),
                t0,
            );
        }
    };
    let usable: Vec<IpAddr> = addrs
        .iter()
        .copied()
        .filter(|a| o.allow_private || special_purpose(*a).is_none())
        .collect();
    if usable.is_empty() {
        return fail(
            format!(
                "{host} → {}: special-purpose addresses only (--allow-private to fetch anyway)",
                addrs
                    .iter()
                    .map(IpAddr::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            t0,
        );
    }
    // Like a sender's HTTPS client, go on to the next address when one cannot be connected to
    // (an AAAA record on a runner without IPv6); what happens once connected is the verdict.
    let mut unreached = Vec::new();
    // The first address that could not be connected to for a reason of the policy host's
    // (refused, reset, no answer), not of this host's routing table.
    let mut first_real: Option<(IpAddr, Status, String)> = None;
    for (i, &ip) in usable.iter().take(MAX_ADDRESSES).enumerate() {
        let last = i + 1 == usable.len().min(MAX_ADDRESSES);
        // The whole exchange gets three steps' worth; `--timeout 0` means no per-step limit
        // (the run's `--deadline` still bounds it), as for the SMTP probes.
        let progress = Progress::default();
        let whole = async {
            if o.timeout.is_zero() {
                Ok(get(&host, ip, o, &progress).await)
            } else {
                tokio::time::timeout(o.timeout * 3, get(&host, ip, o, &progress)).await
            }
        };
        let (c, body) = match whole.await {
            Ok(Ok(got)) => judge(&host, ip, got, t0),
            Ok(Err(Failure {
                connected: false,
                why,
                status,
            })) => {
                // No route from this host for the address's family (an IPv6-only policy host
                // seen from a runner without IPv6) says nothing about the policy host: as for
                // `smtp.connect`, could not be tested, unless another address failed on its own.
                let no_route = crate::net::conn::no_local_route(ip).map(|e| e.to_string());
                if no_route.is_none() && first_real.is_none() {
                    first_real = Some((ip, status, why.clone()));
                }
                if !last {
                    unreached.push(format!("{ip}: {why}"));
                    continue;
                }
                match (no_route, first_real.take()) {
                    (Some(route), None) => {
                        let family = if ip.is_ipv6() { "IPv6" } else { "IPv4" };
                        (
                            CheckResult::new(
                                "mtasts.fetch",
                                Status::Error,
                                format!(
                                    "{url}: this host has no route to {family} \
                                     addresses ({route}): could not be tested"
                                ),
                            )
                            .with("ip", ip.to_string())
                            .with("error", why.as_str())
                            .with("no_local_route", true)
                            .timed(ms(t0)),
                            None,
                        )
                    }
                    (_, Some((real_ip, status, real_why))) if real_ip != ip => {
                        unreached.push(format!("{ip}: {why}"));
                        unreached.retain(|u| !u.starts_with(&format!("{real_ip}: ")));
                        (
                            CheckResult::new("mtasts.fetch", status, format!("{url}: {real_why}"))
                                .with("ip", real_ip.to_string())
                                .timed(ms(t0)),
                            None,
                        )
                    }
                    _ => (
                        CheckResult::new("mtasts.fetch", status, format!("{url}: {why}"))
                            .with("ip", ip.to_string())
                            .timed(ms(t0)),
                        None,
                    ),
                }
            }
            Ok(Err(Failure { status, why, .. })) => (
                CheckResult::new("mtasts.fetch", status, format!("{url}: {why}"))
                    .with("ip", ip.to_string())
                    .timed(ms(t0)),
                None,
            ),
            Err(_) => (
                CheckResult::new(
                    "mtasts.fetch",
                    Status::Error,
                    format!(
                        "{url}: no complete response within {} (three steps of \
                         --timeout {}): {}",
                        seconds(o.timeout * 3),
                        seconds(o.timeout),
                        progress.said()
                    ),
                )
                .with("received", progress.bytes.load(Ordering::Relaxed))
                .with("ip", ip.to_string())
                .timed(ms(t0)),
                None,
            ),
        };
        let c = if unreached.is_empty() {
            c
        } else {
            c.with("unreachable", json!(unreached))
        };
        return (c, body);
    }
    // Not reached: the last address tried returns above.
    fail(format!("{host}: no address could be connected to"), t0)
}

/// Where the policy of the policy host `host` is fetched (RFC 8461 §3.3): the URL the fetch's
/// messages and evidence name.
fn policy_url(host: &str) -> String {
    format!("https://{host}/.well-known/mta-sts.txt")
}

/// How far an exchange got, kept outside its future so that a timeout that drops it can say
/// what arrived, as the SMTP probes do ("no complete banner within 30 s: 3 bytes…").
#[derive(Default)]
struct Progress {
    /// The TLS handshake finished (the request then went out).
    tls: AtomicBool,
    /// Bytes of the HTTP response read so far.
    bytes: AtomicUsize,
}

impl Progress {
    fn said(&self) -> String {
        if !self.tls.load(Ordering::Relaxed) {
            return "the connection and TLS handshake had not finished".to_string();
        }
        match self.bytes.load(Ordering::Relaxed) {
            0 => "nothing of the response had arrived".to_string(),
            n => format!("{n} byte{} of the response had arrived", plural_s(n)),
        }
    }
}

/// A duration as the reports say it: `15 s`, `1500 ms`.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// The HTTPS stream, counting the response's bytes into a [`Progress`] as they are read.
struct Counted<'a, S> {
    inner: S,
    progress: &'a Progress,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<'_, S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        self.progress.bytes.fetch_add(n, Ordering::Relaxed);
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<'_, S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Addresses of the policy host tried at most (each costs up to the connect timeout).
const MAX_ADDRESSES: usize = 4;

/// Why the exchange with one address gave no policy, and whether the TCP connection was made
/// (when it was not, the next address is tried).
struct Failure {
    status: Status,
    why: String,
    connected: bool,
}

impl Failure {
    fn after_connect(status: Status, why: impl Into<String>) -> Failure {
        Failure {
            status,
            why: why.into(),
            connected: true,
        }
    }
}

/// What the HTTPS exchange produced.
struct Got {
    tls: TlsInfo,
    status: u16,
    content_type: Option<String>,
    location: Option<String>,
    body: Result<Vec<u8>, String>,
}

/// Connect through the connection layer (implicit TLS), then one HTTP/1.1 GET.
async fn get(
    host: &str,
    ip: IpAddr,
    o: &FetchOptions,
    progress: &Progress,
) -> Result<Got, Failure> {
    let link = Link {
        family: o.family,
        dns: DnsOptions::default(),
        tls: TlsParams {
            sni: Some(host.to_string()),
            // Judged below from the evidence, so a bad certificate is reported with its facts.
            verify: false,
            verify_name: Some(host.to_string()),
            ca_path: o.ca_path.clone(),
            ..TlsParams::default()
        },
        tls_on_connect: true,
        timeout: o.timeout,
        connect_timeout: o.timeout,
        https: true,
        ..Link::default()
    };
    let plan = link.to(Target::Host {
        host: ip.to_string(),
        port: o.port,
    });
    let mut tls = None;
    let mut failure = None;
    let mut connected = true;
    let conn = crate::net::conn::connect(&plan, &mut |e| match e {
        Event::TlsStarted { info } => tls = Some(info),
        Event::TlsFailed { reason } => {
            let why = words(&reason, FrontEnd::Check);
            // The policy is served over HTTPS only (RFC 8461 §3.3), on port 443: a plain HTTP
            // server there is no policy host at all.
            failure = Some(match why.strip_prefix(NO_TLS_FROM_HTTPS) {
                Some(rest) => format!(
                    "the policy host did not answer with TLS on port {}{rest}: RFC 8461 §3.3 \
                     requires HTTPS there",
                    o.port
                ),
                None => why,
            });
        }
        Event::ConnectFailed { reason, .. } => {
            connected = false;
            failure = Some(reason);
        }
        _ => {}
    })
    .await;
    let conn = match conn {
        Ok(c) => c,
        Err(e) => {
            let why = failure.unwrap_or_else(|| e.to_string());
            let st = if why.contains("timed out") {
                Status::Error
            } else {
                Status::Fail
            };
            return Err(Failure {
                status: st,
                why,
                connected,
            });
        }
    };
    let tls = tls.ok_or_else(|| Failure::after_connect(Status::Fail, "no TLS session"))?;
    progress.tls.store(true, Ordering::Relaxed);
    let mut stream = Counted {
        inner: conn.stream,
        progress,
    };
    let resp = crate::net::http::get(
        &mut stream,
        host,
        "/.well-known/mta-sts.txt",
        concat!("ehlo/", env!("CARGO_PKG_VERSION")),
        MAX_POLICY,
        // Only a 200 has a policy to read; a redirect's or an error's body is not wanted.
        |status| status == 200,
    )
    .await
    .map_err(|e| Failure::after_connect(Status::Fail, format!("HTTP request failed: {e}")))?;
    // As sent, bytes outside ASCII too: one there is not a "missing" Content-Type or a redirect
    // to "?" (the renderers escape what a terminal would act on).
    let content_type = resp.header("content-type");
    let location = resp.header("location");
    let status = resp.status;
    let body = match resp.body {
        None => Ok(Vec::new()),
        Some(Ok(b)) => Ok(b),
        Some(Err(crate::net::http::BodyError::TooLarge)) => Err(format!(
            "the policy is larger than {} KiB (RFC 8461 §3.3)",
            MAX_POLICY / 1024
        )),
        Some(Err(crate::net::http::BodyError::Broken(e))) => {
            Err(format!("reading the body failed: {e}"))
        }
    };
    Ok(Got {
        tls,
        status,
        content_type,
        location,
        body,
    })
}

fn judge(host: &str, ip: IpAddr, g: Got, t0: Instant) -> (CheckResult, Option<Vec<u8>>) {
    let base = CheckResult::new("mtasts.fetch", Status::Pass, "")
        .with("url", policy_url(host))
        .with("ip", ip.to_string())
        .with("http_status", g.status)
        .with("content_type", g.content_type.as_deref().map(capped))
        .with("tls", g.tls.version.as_str())
        .with("cert_verified", g.tls.verify.ok)
        .timed(ms(t0));
    let with = |status, summary: String| CheckResult {
        status,
        summary,
        ..base.clone()
    };
    if !g.tls.verify.ok {
        return (
            with(
                Status::Fail,
                format!(
                    "the certificate of {host} does not verify ({}): senders ignore the policy (RFC 8461 §3.3)",
                    g.tls.verify.reason.as_deref().unwrap_or("unknown reason")
                ),
            ),
            None,
        );
    }
    if (300..400).contains(&g.status) {
        return (
            with(
                Status::Fail,
                format!(
                    "HTTP {} redirect to {}: senders do not follow redirects (RFC 8461 §3.3)",
                    g.status,
                    capped(g.location.as_deref().unwrap_or("?"))
                ),
            )
            .with("location", g.location.as_deref().map(capped)),
            None,
        );
    }
    if g.status != 200 {
        return (
            with(Status::Fail, format!("HTTP {}: no policy", g.status)),
            None,
        );
    }
    let body = match g.body {
        Ok(b) => b,
        Err(why) => return (with(Status::Fail, why), None),
    };
    let plain = g.content_type.as_deref().is_some_and(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("text/plain")
    });
    let r = if plain {
        let head = format!("HTTP 200, {} bytes, {}", body.len(), g.tls.version);
        match charset_problem(g.content_type.as_deref().unwrap_or(""), &body) {
            None => with(Status::Pass, head),
            Some((status, why)) => with(status, format!("{head}; {why}")),
        }
    } else {
        with(
            Status::Warn,
            format!(
                "Content-Type is {}, not text/plain: senders that check the media type (RFC \
                 8461 §3.3 says they SHOULD; postfix-mta-sts-resolver does) ignore the policy",
                capped(g.content_type.as_deref().unwrap_or("missing"))
            ),
        )
    };
    (r.with("bytes", body.len()), Some(body))
}

/// What the `charset` of a `text/plain` policy's Content-Type means to senders. RFC 8461 §3.2:
/// "All parameters other than charset=utf-8 or charset=us-ascii are ignored", so by the RFC the
/// body is read as UTF-8 whatever is declared; but postfix-mta-sts-resolver decodes the body
/// with the declared charset (ASCII when there is none) and has no policy when that fails. So:
/// utf-8 / us-ascii (any case, quoted or not) say nothing; an ASCII-compatible charset is info
/// (an ASCII policy reads the same in it); one that is not ASCII-compatible (UTF-16/32, UCS-2/4,
/// UTF-7, EBCDIC) or unknown warns; no charset, or us-ascii or another name of it, over a body
/// with bytes outside ASCII warns (read as ASCII, it is no policy). A body that is not UTF-8 fails in
/// `mtasts.policy`, so it is not judged again here.
fn charset_problem(content_type: &str, body: &[u8]) -> Option<(Status, String)> {
    let ascii = body.is_ascii();
    let utf8 = std::str::from_utf8(body).is_ok();
    let declared = crate::net::http::media_type_parameter(content_type, "charset");
    let Some(raw) = declared else {
        return (!ascii && utf8).then(|| {
            (
                Status::Warn,
                "no charset, and the policy has UTF-8 text outside ASCII: senders that read an \
                 undeclared body as ASCII (postfix-mta-sts-resolver) have no policy; declare \
                 charset=utf-8 (RFC 8461 §3.2)"
                    .to_string(),
            )
        });
    };
    let cs = raw.trim().to_ascii_lowercase();
    let shown = capped(&raw);
    if cs == "utf-8" {
        return None;
    }
    if cs == "us-ascii" {
        return (!ascii && utf8).then(|| {
            (
                Status::Warn,
                "charset=us-ascii, but the policy has UTF-8 text outside ASCII: senders that \
                 decode the body by its charset (postfix-mta-sts-resolver) have no policy; \
                 declare charset=utf-8 (RFC 8461 §3.2)"
                    .to_string(),
            )
        });
    }
    // The labels are matched whole first: several share a prefix with a family of the other
    // kind (`unicode` is UTF-16LE, `unicode-1-1-utf-8` is UTF-8).
    if let Some(kind) = charset_kind(&cs) {
        return match kind {
            Charset::UsAscii if !ascii && utf8 => Some((
                Status::Warn,
                format!(
                    "charset={shown} (US-ASCII), but the policy has UTF-8 text outside ASCII: \
                     senders that decode the body by its charset (postfix-mta-sts-resolver) \
                     have no policy; declare charset=utf-8 (RFC 8461 §3.2)"
                ),
            )),
            Charset::Utf8 | Charset::UsAscii | Charset::AsciiCompatible => Some((
                Status::Info,
                format!(
                    "charset={shown} is ignored by senders following RFC 8461 §3.2 (only utf-8 \
                     or us-ascii count) and reads the same for ASCII text; charset=utf-8 says \
                     what the policy is"
                ),
            )),
            Charset::NotAscii => Some((
                Status::Warn,
                format!(
                    "charset={shown} is not ASCII-compatible: senders that decode the body by \
                     its charset (postfix-mta-sts-resolver) read no policy in it; RFC 8461 §3.2 \
                     heeds only charset=utf-8 or us-ascii — declare one of those"
                ),
            )),
        };
    }
    Some((
        Status::Warn,
        format!(
            "charset={shown} is not a charset ehlo knows to write ASCII as ASCII: senders \
             that decode the body by its charset (postfix-mta-sts-resolver) may read no \
             policy; RFC 8461 §3.2 heeds only charset=utf-8 or us-ascii — declare one of \
             those"
        ),
    ))
}

/// What a charset label (lower case, trimmed) writes ASCII text as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    /// Another label of UTF-8.
    Utf8,
    /// Another name of US-ASCII: a body outside ASCII does not decode in it.
    UsAscii,
    /// ASCII text is its ASCII bytes.
    AsciiCompatible,
    /// ASCII text is other bytes (UTF-16/32, UCS-2/4, UTF-7, EBCDIC, …).
    NotAscii,
}

/// The kind of a charset label, `None` when ehlo does not know it. Whole labels first: the
/// WHATWG Encoding Standard's label table (encoding.spec.whatwg.org, "Names and labels") and
/// IANA's Character Sets registry (names and aliases, RFC 2978), then IANA families by prefix.
fn charset_kind(cs: &str) -> Option<Charset> {
    // WHATWG's labels of UTF-8 (`utf-8` itself says nothing and is not asked about).
    const UTF8: &[&str] = &[
        "utf8",
        "unicode-1-1-utf-8",
        "unicode11utf8",
        "unicode20utf8",
        "x-unicode20utf8",
    ];
    // IANA's US-ASCII and its aliases (and `ascii`, a WHATWG label); `us-ascii` itself is
    // judged before.
    const US_ASCII: &[&str] = &[
        "ascii",
        "us",
        "iso646-us",
        "iso-ir-6",
        "ansi_x3.4-1968",
        "ansi_x3.4-1986",
        "iso_646.irv:1991",
        "ibm367",
        "cp367",
        "csascii",
    ];
    // WHATWG's labels of UTF-16BE/LE and IANA's names of UCS-2 and UTF-7 that the families
    // below do not catch (a `unicode` prefix would catch UTF-8's labels too).
    const NOT_ASCII: &[&str] = &[
        "unicode",
        "unicodefffe",
        "unicodefeff",
        "csunicode",
        "unicode-1-1",
        "unicode-1-1-utf-7",
        "csunicode11",
        "csunicode11utf7",
    ];
    // WHATWG's labels of every other encoding whose bytes for ASCII text are that text
    // (IBM866, ISO-8859-x, KOI8, macintosh, windows-125x, the CJK encodings,
    // x-user-defined), with IANA's names of a few DOS code pages.
    const ASCII_LABELS: &[&str] = &[
        "866",
        "cp866",
        "csibm866",
        "ibm866",
        "cp437",
        "ibm437",
        "cp850",
        "ibm850",
        "csisolatin1",
        "csisolatin2",
        "csisolatin3",
        "csisolatin4",
        "csisolatin5",
        "csisolatin6",
        "csisolatin9",
        "csisolatincyrillic",
        "csisolatinarabic",
        "csisolatingreek",
        "csisolatinhebrew",
        "csiso88596e",
        "csiso88596i",
        "csiso88598e",
        "csiso88598i",
        "cyrillic",
        "arabic",
        "asmo-708",
        "ecma-114",
        "ecma-118",
        "elot_928",
        "greek",
        "greek8",
        "sun_eu_greek",
        "hebrew",
        "visual",
        "logical",
        "iso-ir-100",
        "iso-ir-101",
        "iso-ir-109",
        "iso-ir-110",
        "iso-ir-126",
        "iso-ir-127",
        "iso-ir-138",
        "iso-ir-144",
        "iso-ir-148",
        "iso-ir-157",
        "cp819",
        "ibm819",
        "l1",
        "l2",
        "l3",
        "l4",
        "l5",
        "l6",
        "l9",
        "latin1",
        "latin2",
        "latin3",
        "latin4",
        "latin5",
        "latin6",
        "latin9",
        "cskoi8r",
        "koi",
        "koi8",
        "koi8_r",
        "csmacintosh",
        "mac",
        "macintosh",
        "x-mac-roman",
        "x-mac-cyrillic",
        "x-mac-ukrainian",
        "dos-874",
        "tis-620",
        "windows-874",
        "chinese",
        "csgb2312",
        "csiso58gb231280",
        "gb2312",
        "gb_2312",
        "gb_2312-80",
        "gbk",
        "iso-ir-58",
        "x-gbk",
        "gb18030",
        "big5",
        "big5-hkscs",
        "cn-big5",
        "csbig5",
        "x-x-big5",
        "cseucpkdfmtjapanese",
        "x-euc-jp",
        "csiso2022jp",
        "csshiftjis",
        "ms932",
        "ms_kanji",
        "shift-jis",
        "shift_jis",
        "sjis",
        "windows-31j",
        "x-sjis",
        "cseuckr",
        "csksc56011987",
        "iso-ir-149",
        "korean",
        "ks_c_5601-1987",
        "ks_c_5601-1989",
        "ksc5601",
        "ksc_5601",
        "windows-949",
        "x-user-defined",
    ];
    // Families by prefix, after the whole labels.
    const NOT_ASCII_FAMILIES: &[&str] = &[
        "utf-16",
        "utf-32",
        "ucs-2",
        "ucs-4",
        "csucs4",
        "csutf16",
        "csutf32",
        "csutf7",
        "iso-10646-ucs",
        "utf-7",
        "utf-ebcdic",
        "ebcdic",
        "csebcdic",
        "cp037",
        "ibm037",
        "ibm-037",
        "cp500",
        "ibm500",
        "ibm-500",
        "cp875",
        "cp1026",
        "ibm1026",
        "cp1047",
        "ibm1047",
        "cp114",
        "ibm114",
        "ibm-114",
        "scsu",
        "bocu-1",
    ];
    const ASCII_FAMILIES: &[&str] = &[
        "iso-8859-",
        "iso8859-",
        "iso_8859-",
        "iso8859",
        "latin-",
        "windows-125",
        "cp125",
        "x-cp125",
        "koi8-",
        "euc-",
        "iso-2022-",
    ];
    let whole = |list: &[&str]| list.contains(&cs);
    let family = |list: &[&str]| list.iter().any(|p| cs.starts_with(p));
    if whole(UTF8) {
        Some(Charset::Utf8)
    } else if whole(US_ASCII) {
        Some(Charset::UsAscii)
    } else if whole(NOT_ASCII) {
        Some(Charset::NotAscii)
    } else if whole(ASCII_LABELS) {
        Some(Charset::AsciiCompatible)
    } else if family(NOT_ASCII_FAMILIES) {
        Some(Charset::NotAscii)
    } else if family(ASCII_FAMILIES) {
        Some(Charset::AsciiCompatible)
    } else {
        None
    }
}

/// `mtasts.policy` from a fetched body: the lint's worst finding, the findings with line numbers
/// as evidence.
pub(crate) fn policy_check(body: &[u8]) -> (CheckResult, Policy) {
    let p = lint_policy_bytes(body);
    let status = p.status();
    let summary = match p.findings.iter().find(|f| f.1 == status) {
        Some((line, _, msg)) if status != Status::Pass => {
            // A finding may quote a line of the policy (up to its 64 KiB).
            if *line == 0 {
                capped(msg)
            } else {
                format!("line {line}: {}", capped(msg))
            }
        }
        _ => format!(
            "mode {}, max_age {}, {} mx pattern{}",
            p.mode.as_deref().unwrap_or("?"),
            p.max_age
                .map(|a| a.to_string())
                .unwrap_or_else(|| "?".into()),
            p.mx.len(),
            plural_s(p.mx.len())
        ),
    };
    let mut c = CheckResult::new("mtasts.policy", status, summary);
    if let serde_json::Value::Object(m) = p.evidence() {
        c.evidence = m;
    }
    (c, p)
}

/// `mtasts.mx-match` (RFC 8461 §4.1): every MX host matches a policy pattern. Unmatched under
/// `enforce` → fail, `testing` → warn; `none` → info. A policy `mtasts.policy` found invalid
/// (`valid` false: a missing version or mode line, a bad max_age…) is no policy for senders
/// (RFC 8461 §3.2): nothing to match, so skip, as every other check treats a policy that is not
/// there — the summary still says whether the MX hosts would match its `mx` patterns once it
/// is valid.
pub(crate) fn mx_match(p: &Policy, hosts: &[String], valid: bool) -> CheckResult {
    let unmatched: Vec<String> = hosts
        .iter()
        .filter(|h| !p.mx.iter().any(|pat| mx_matches(pat, h)))
        .cloned()
        .collect();
    // Capped: the value of a line of a 64 KiB policy.
    let mode = &capped(p.mode.as_deref().unwrap_or(""));
    let known_mode = matches!(mode.as_str(), "enforce" | "testing" | "none");
    // An MX RRset and a 64 KiB policy may each list thousands of names.
    let not_matched = || {
        format!(
            "{} not matched by mx: {}",
            capped(&unmatched.join(", ")),
            if p.mx.is_empty() {
                "(none)".to_string()
            } else {
                capped(&p.mx.join(", "))
            },
        )
    };
    let (status, summary) = if hosts.is_empty() {
        (Status::Skip, "no MX host to match".to_string())
    } else if !valid || !known_mode {
        let why = match mode.as_str() {
            "" => " (no mode)".to_string(),
            m if !known_mode => format!(" (mode '{m}' is not valid)"),
            _ => String::new(),
        };
        let once_valid = if unmatched.is_empty() {
            match hosts.len() {
                1 => "the 1 MX host matches its mx patterns".to_string(),
                n => format!("the {n} MX hosts match its mx patterns"),
            }
        } else {
            match mode.as_str() {
                "enforce" => format!(
                    "{}; once it is valid, mode enforce stops mail to it",
                    not_matched()
                ),
                "testing" => format!(
                    "{}; once it is valid, mode testing reports it",
                    not_matched()
                ),
                _ => not_matched(),
            }
        };
        (
            Status::Skip,
            format!(
                "the policy is not valid{why} (mtasts.policy), so senders have no policy to \
                 apply (RFC 8461 §3.2); {once_valid}"
            ),
        )
    } else if mode == "none" {
        (
            Status::Info,
            "mode none: the policy is being withdrawn".to_string(),
        )
    } else if unmatched.is_empty() {
        (
            Status::Pass,
            match hosts.len() {
                1 => "1 MX host matches the policy".to_string(),
                n => format!("{n} MX hosts match the policy"),
            },
        )
    } else if mode == "enforce" {
        (
            Status::Fail,
            format!(
                "{} (mode enforce: senders will not deliver mail to it)",
                not_matched()
            ),
        )
    } else {
        (
            Status::Warn,
            format!(
                "{} (mode testing: senders report, then deliver mail to it)",
                not_matched()
            ),
        )
    };
    CheckResult::new("mtasts.mx-match", status, summary)
        .with("mode", mode.as_str())
        .with(
            "patterns",
            json!(crate::check::probe::capped_lines(
                &p.mx,
                crate::check::records::EVIDENCE_CAP
            )),
        )
        .with(
            "unmatched",
            json!(crate::check::probe::capped_lines(
                &unmatched,
                crate::check::records::EVIDENCE_CAP
            )),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::records::lint_policy;

    /// RFC 8461 §3.2 heeds only charset=utf-8 or us-ascii; postfix-mta-sts-resolver decodes
    /// the body by the declared charset (ASCII without one). Every charset passed unjudged.
    #[test]
    fn the_charset_of_a_policy_is_judged_by_what_senders_decode() {
        let ascii = b"version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 86400\r\n";
        let utf8 =
            "version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 86400\r\nnote: café\r\n";
        let latin1 = b"version: STSv1\r\nnote: caf\xe9\r\n";
        let st = |ct: &str, body: &[u8]| charset_problem(ct, body).map(|p| p.0);
        for ct in [
            "text/plain",
            "text/plain; charset=utf-8",
            "text/plain;charset=\"utf-8\"",
            "text/plain; charset=UTF-8",
            "text/plain; CHARSET=\"Utf-8\"",
            "text/plain; charset=us-ascii",
            "text/plain; charset=US-ASCII",
        ] {
            assert_eq!(st(ct, ascii), None, "{ct}");
        }
        for ct in ["text/plain; charset=utf-8", "text/plain; charset=\"UTF-8\""] {
            assert_eq!(st(ct, utf8.as_bytes()), None, "{ct}");
        }
        // Read as ASCII, UTF-8 text outside ASCII is no policy.
        for ct in ["text/plain", "text/plain; charset=us-ascii"] {
            assert_eq!(st(ct, utf8.as_bytes()), Some(Status::Warn), "{ct}");
        }
        // Not UTF-8 at all: mtasts.policy fails it; not said twice.
        assert_eq!(st("text/plain", latin1), None);
        for ct in [
            "text/plain; charset=iso-8859-1",
            "text/plain; charset=\"ISO-8859-15\"",
            "text/plain; charset=windows-1252",
            "text/plain; charset=latin1",
        ] {
            assert_eq!(st(ct, ascii), Some(Status::Info), "{ct}");
        }
        for ct in [
            "text/plain; charset=utf-16",
            "text/plain; charset=UTF-16LE",
            "text/plain; charset=\"utf-32\"",
            "text/plain; charset=ucs-2",
            "text/plain; charset=utf-7",
            "text/plain; charset=cp037",
            "text/plain; charset=x-made-up",
            "text/plain; charset=",
        ] {
            assert_eq!(st(ct, ascii), Some(Status::Warn), "{ct}");
        }
        let (_, why) = charset_problem("text/plain; charset=\"utf-16\"", ascii).unwrap();
        assert!(
            why.starts_with("charset=utf-16 is not ASCII-compatible"),
            "{why}"
        );
        assert!(why.contains("postfix-mta-sts-resolver"), "{why}");
    }

    /// Labels are matched whole before families by prefix: the `unicode` prefix took UTF-8's
    /// WHATWG labels (`unicode-1-1-utf-8`, `unicode11utf8`, `unicode20utf8`) for UTF-16, and
    /// US-ASCII's IANA aliases and IBM866's labels were unknown (both warned).
    #[test]
    fn charset_labels_are_judged_by_the_whatwg_and_iana_tables() {
        let ascii = b"version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 86400\r\n";
        let utf8 =
            "version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 86400\r\nnote: café\r\n";
        let st = |cs: &str, body: &[u8]| {
            charset_problem(&format!("text/plain; charset={cs}"), body).map(|p| p.0)
        };
        // UTF-8 by another label: information, whatever the body.
        for cs in [
            "unicode-1-1-utf-8",
            "UNICODE11UTF8",
            "unicode20utf8",
            "x-unicode20utf8",
            "utf8",
        ] {
            assert_eq!(
                charset_kind(&cs.to_ascii_lowercase()),
                Some(Charset::Utf8),
                "{cs}"
            );
            assert_eq!(st(cs, ascii), Some(Status::Info), "{cs}");
            assert_eq!(st(cs, utf8.as_bytes()), Some(Status::Info), "{cs}");
        }
        // US-ASCII by another name: information over ASCII, a warning over text outside it.
        for cs in [
            "cp367",
            "IBM367",
            "csASCII",
            "iso-ir-6",
            "ANSI_X3.4-1986",
            "ansi_x3.4-1968",
            "us",
            "ISO646-US",
            "iso_646.irv:1991",
            "ascii",
        ] {
            assert_eq!(
                charset_kind(&cs.to_ascii_lowercase()),
                Some(Charset::UsAscii),
                "{cs}"
            );
            assert_eq!(st(cs, ascii), Some(Status::Info), "{cs}");
            assert_eq!(st(cs, utf8.as_bytes()), Some(Status::Warn), "{cs}");
        }
        let (_, why) = charset_problem("text/plain; charset=cp367", utf8.as_bytes()).unwrap();
        assert!(why.starts_with("charset=cp367 (US-ASCII), but"), "{why}");
        // ASCII-compatible WHATWG labels, and IANA families.
        for cs in [
            "cp866",
            "ibm866",
            "866",
            "csibm866",
            "iso88591",
            "iso885915",
            "iso_8859-1:1987",
            "cp819",
            "x-cp1252",
            "koi8-u",
            "x-mac-cyrillic",
            "ks_c_5601-1987",
            "windows-31j",
            "euc-jp",
            "x-user-defined",
        ] {
            assert_eq!(st(cs, ascii), Some(Status::Info), "{cs}");
        }
        // UTF-16 by its WHATWG labels, UCS-2 and UTF-7 by IANA's: not ASCII-compatible.
        for cs in [
            "unicode",
            "unicodeFFFE",
            "unicodefeff",
            "csUnicode",
            "iso-10646-ucs-2",
            "unicode-1-1",
            "unicode-1-1-utf-7",
            "csUnicode11UTF7",
            "utf-16be",
            "utf-32le",
            "cp1047",
        ] {
            assert_eq!(
                charset_kind(&cs.to_ascii_lowercase()),
                Some(Charset::NotAscii),
                "{cs}"
            );
            let (s, why) = charset_problem(&format!("text/plain; charset={cs}"), ascii).unwrap();
            assert_eq!(s, Status::Warn, "{cs}");
            assert!(why.contains("is not ASCII-compatible"), "{cs}: {why}");
        }
        // Still unknown: a warning of its own.
        for cs in ["unicode-2-0-utf-8", "x-made-up", "hz-gb-2312"] {
            assert_eq!(charset_kind(cs), None, "{cs}");
            assert_eq!(st(cs, ascii), Some(Status::Warn), "{cs}");
        }
    }

    #[test]
    fn mx_match_by_mode() {
        let p = lint_policy(
            "version: STSv1\r\nmode: enforce\r\nmx: *.example.test\r\nmax_age: 86400\r\n",
        );
        let hosts = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            mx_match(&p, &hosts(&["mx1.example.test"]), true).status,
            Status::Pass
        );
        assert_eq!(
            mx_match(&p, &hosts(&["mx1.example.test", "mx.other.test"]), true).status,
            Status::Fail
        );
        let t = lint_policy(
            "version: STSv1\r\nmode: testing\r\nmx: mx.example.test\r\nmax_age: 86400\r\n",
        );
        assert_eq!(
            mx_match(&t, &hosts(&["mx2.example.test"]), true).status,
            Status::Warn
        );
        let (c, _) =
            policy_check(b"version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 604800\r\n");
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert_eq!(c.evidence["mode"], "enforce");
        let (c, _) = policy_check(b"version: STSv1\nmode: enforced\nmx: a.test\nmax_age: 86400\n");
        assert_eq!(c.status, Status::Fail);
        assert!(c.summary.starts_with("line 2:"), "{}", c.summary);
    }

    /// Counts are worded for their number, not "pattern(s)", "host(s)".
    #[test]
    fn counts_are_worded_for_their_number() {
        let (c, _) =
            policy_check(b"version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 604800\r\n");
        assert_eq!(c.summary, "mode enforce, max_age 604800, 1 mx pattern");
        let (c, p) = policy_check(
            b"version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmx: *.b.test\r\nmax_age: 604800\r\n",
        );
        assert_eq!(c.summary, "mode enforce, max_age 604800, 2 mx patterns");
        let one = mx_match(&p, &["a.test".to_string()], true);
        assert_eq!(one.summary, "1 MX host matches the policy");
        let two = mx_match(&p, &["a.test".to_string(), "mx.b.test".to_string()], true);
        assert_eq!(two.summary, "2 MX hosts match the policy");
    }

    /// An invalid mode is neither enforce nor testing: senders do not "report, then deliver"
    /// under it, they have no valid policy (RFC 8461 §3.2, §5).
    #[test]
    fn an_invalid_mode_is_said_to_be_invalid() {
        let p = lint_policy("version: STSv1\r\nmode: enf\r\nmx: a.test\r\nmax_age: 86400\r\n");
        let c = mx_match(&p, &["mx.other.test".to_string()], false);
        assert!(!c.summary.contains("report, then deliver"), "{}", c.summary);
        assert!(
            c.summary.contains("mode 'enf' is not valid"),
            "{}",
            c.summary
        );
        assert_eq!(c.status, Status::Skip, "{c:?}");
    }

    /// An invalid policy is no policy (RFC 8461 §3.2): nothing to match, so skip, with what
    /// happens once it is valid, never a claim that senders refuse the MX now.
    #[test]
    fn an_invalid_policy_mismatch_is_skipped() {
        let p = lint_policy("version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 1w\r\n");
        let c = mx_match(&p, &["mx.other.test".to_string()], false);
        assert_eq!(c.status, Status::Skip, "{c:?}");
        assert!(!c.summary.contains("will not deliver"), "{}", c.summary);
        assert_eq!(
            c.summary,
            "the policy is not valid (mtasts.policy), so senders have no policy to apply (RFC \
             8461 §3.2); mx.other.test not matched by mx: a.test; once it is valid, mode enforce \
             stops mail to it"
        );
        assert_eq!(
            mx_match(&p, &["mx.other.test".to_string()], true).status,
            Status::Fail
        );
    }

    /// A policy invalid only by a missing version or mode line whose mx patterns match every
    /// MX: no pass — there is no policy to match (it used to pass). The summary's subject is the
    /// MX hosts, as the pass's is (it said the policy's "mx lines" matched them).
    #[test]
    fn a_policy_without_version_or_mode_matches_nothing() {
        let hosts = ["mx.a.test".to_string(), "mx2.a.test".to_string()];
        let (c, p) = policy_check(b"mode: enforce\r\nmx: *.a.test\r\nmax_age: 86400\r\n");
        assert_eq!(c.status, Status::Fail, "{c:?}");
        let m = mx_match(&p, &hosts, c.status != Status::Fail);
        assert_eq!(m.status, Status::Skip, "{m:?}");
        assert!(
            m.summary.ends_with("the 2 MX hosts match its mx patterns"),
            "{}",
            m.summary
        );
        let (c, p) = policy_check(b"version: STSv1\r\nmx: *.a.test\r\nmax_age: 86400\r\n");
        assert_eq!(c.status, Status::Fail, "{c:?}");
        let m = mx_match(&p, &hosts[..1], c.status != Status::Fail);
        assert_eq!(m.status, Status::Skip, "{m:?}");
        assert!(
            m.summary
                .starts_with("the policy is not valid (no mode) (mtasts.policy)"),
            "{}",
            m.summary
        );
        assert!(
            m.summary.ends_with("the 1 MX host matches its mx patterns"),
            "{}",
            m.summary
        );
    }

    /// Thousands of MX names unmatched: the summary and the evidence stay small.
    #[test]
    fn many_unmatched_hosts_are_capped() {
        let p = lint_policy("version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 86400\r\n");
        let hosts: Vec<String> = (0..3000).map(|i| format!("mx{i}.other.test")).collect();
        let c = mx_match(&p, &hosts, true);
        assert_eq!(c.status, Status::Fail);
        assert!(c.summary.len() < 1024, "{} bytes", c.summary.len());
        assert!(serde_json::Value::Object(c.evidence).to_string().len() < 8192);
    }

    #[test]
    fn a_policy_line_quoted_in_the_summary_is_capped() {
        let mode = "x".repeat(60_000);
        let (c, _) = policy_check(
            format!("version: STSv1\r\nmode: {mode}\r\nmx: a.test\r\nmax_age: 604800\r\n")
                .as_bytes(),
        );
        assert_eq!(c.status, Status::Fail, "{}", c.summary);
        assert!(c.summary.starts_with("line 2: mode 'xxx"), "{}", c.summary);
        assert!(c.summary.len() < 400, "{} bytes", c.summary.len());
        assert!(c.summary.ends_with("bytes in all)"), "{}", c.summary);
    }
}
