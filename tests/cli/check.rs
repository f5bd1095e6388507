//! `ehlo check` end to end on loopback: the built binary resolves through the in-process fake DNS
//! server and probes real `ehlo serve` listeners (the same server users run) on distinct
//! 127.x.y.z addresses, with certificates from a private CA made here with rcgen: a good one,
//! an expired one, one for the wrong name, a self-signed one; plus a server without STARTTLS,
//! one answering `421 too many connections`, one that never greets, and an address where
//! nothing listens.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ehlo::net::testutil::{FakeDns, RecordSpec, reverse_name};
use ehlo::render::Renderer;
use ehlo::serve::{ServeOptions, ServerHandle};
use ehlo::smtp::event::Event;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use serde_json::Value;

use crate::util::*;

/// Counts the connections a server saw and keeps the commands it received.
#[derive(Clone, Default)]
struct Tap {
    connections: Arc<AtomicUsize>,
    commands: Arc<Mutex<Vec<String>>>,
    /// Sessions open now, and the most ever open at once.
    open: Arc<AtomicUsize>,
    most_open: Arc<AtomicUsize>,
}

impl Renderer for Tap {
    fn event(&mut self, event: &Event, _: Duration) {
        match event {
            Event::Connected { .. } => {
                self.connections.fetch_add(1, Ordering::SeqCst);
                let now = self.open.fetch_add(1, Ordering::SeqCst) + 1;
                self.most_open.fetch_max(now, Ordering::SeqCst);
            }
            Event::Closed { .. } => {
                self.open.fetch_sub(1, Ordering::SeqCst);
            }
            Event::ClientCommand { text, .. } => self.commands.lock().unwrap().push(text.clone()),
            _ => {}
        }
    }
}

/// (domain, check id) → statuses, one per MX address for host checks.
type Statuses = HashMap<(String, String), Vec<String>>;

/// The lab: DNS, servers, the CA file, the shared port.
struct Lab {
    dns: SocketAddr,
    port: u16,
    ca: tempfile::NamedTempFile,
    taps: HashMap<&'static str, Tap>,
    _handles: Vec<ServerHandle>,
    _rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    _silent: TcpListener,
    /// The MTA-STS policy server's port (on .20).
    https_port: u16,
    /// The address of every `mta-sts.` host (.20).
    https_ip: Ipv4Addr,
}

/// Policy domains served by the HTTPS fixture: (domain, MX host role, HTTP response).
const POLICIES: &[(&str, &str, &str)] = &[
    (
        "sts.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nversion: STSv1\r\nmode: testing\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\n",
    ),
    (
        "redirect.test",
        "good",
        "HTTP/1.1 301 Moved Permanently\r\nLocation: https://www.redirect.test/policy\r\nContent-Length: 0\r\n\r\n",
    ),
    (
        "html.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nversion: STSv1\nmode: testing\nmx: mx-good.lab.test\nmax_age: 604800\n",
    ),
    (
        "missing.test",
        "good",
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    ),
    (
        "badpolicy.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\nmode: enforced\nmx: mx-good.lab.test\nmax_age: 86400\n",
    ),
    (
        "enforce.test",
        "wrongname",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: enforce\r\nmx: *.lab.test\r\nmax_age: 604800\r\n",
    ),
    (
        "unlisted.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: enforce\r\nmx: mx.elsewhere.test\r\nmax_age: 604800\r\n",
    ),
    (
        "testingbad.test",
        "wrongname",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: testing\r\nmx: *.lab.test\r\nmax_age: 604800\r\n",
    ),
    // No version line: not a valid policy, so senders deliver as without MTA-STS.
    (
        "noversion.test",
        "wrongname",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nmode: enforce\r\nmx: *.lab.test\r\nmax_age: 604800\r\n",
    ),
    ("big.test", "good", "BIG"),
    ("slowpolicy.test", "good", "SLOW"),
    ("delayed.test", "good", "DELAYED"),
    // Its policy host has an AAAA record (::1, nothing listening) before the A record.
    (
        "v6first.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: testing\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\n",
    ),
    (
        "wrongcert.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: testing\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\n",
    ),
    // Its TXT record spells the tag `ID=` (a warning: lenient senders read it), and its enforce
    // policy does not cover its MX.
    (
        "idcase.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: enforce\r\nmx: mx.elsewhere.test\r\nmax_age: 604800\r\n",
    ),
    // Its TXT record has an extension field against the grammar (a warning: lenient senders
    // read the record), and a good testing policy.
    (
        "badext.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: testing\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\n",
    ),
    // Twelve MX hosts: the ten checked are under lab.test, the two past the cap are not.
    (
        "manymx.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: enforce\r\nmx: *.lab.test\r\nmax_age: 604800\r\n",
    ),
    // A byte that is not UTF-8 on its last line (served by the responder as "LATIN1").
    ("latin1.test", "good", "LATIN1"),
    // U+FFFE in its mode line: quoted by the finding, so in the JUnit file too.
    (
        "nonchar.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: testing\u{fffe}\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\n",
    ),
    // Hostile policy hosts. `mode` padded with a NO-BREAK SPACE: only spaces and tabs may
    // surround a value (RFC 8461 §3.2), so strict senders have no enforce policy.
    (
        "nbsp.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: enforce\u{a0}\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\n",
    ),
    // An mx line with U+061C (a bidi control) and U+2028 (a line separator), and a mode with an
    // OSC 8 hyperlink, a title-setting OSC and a colour.
    (
        "bidimx.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: testing\u{1b}]8;;https://evil.test/\u{1b}\\x\u{1b}]8;;\u{1b}\\\u{1b}]0;t\u{7}\u{1b}[31m\r\nmx: mx-good.lab.test\u{61c}\u{2028}mx: evil.test\r\nmax_age: 604800\r\n",
    ),
    // A Content-Type with a C1 CSI (U+009B, bytes C2 9B) in it: there, but not text/plain.
    (
        "c1type.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/\u{9b}31mplain\r\n\r\nversion: STSv1\r\nmode: testing\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\n",
    ),
    // `mode` given twice: the first one counts (RFC 8461 §3.2), so this is an enforce policy
    // covering an MX whose certificate names another host.
    (
        "dupmode.test",
        "wrongname",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: enforce\r\nmx: *.lab.test\r\nmax_age: 604800\r\nmode: testing\r\n",
    ),
    // `mode` given again with a value that is no mode: ignored (RFC 8461 §3.2), so this is
    // still the enforce policy of its first line.
    (
        "dupbad.test",
        "wrongname",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: enforce\r\nmx: *.lab.test\r\nmax_age: 604800\r\nmode: enforced\r\n",
    ),
    // The charset of a text/plain policy (RFC 8461 §3.2 heeds only utf-8 and us-ascii):
    // quoted and in capitals, an ASCII-compatible one, UTF-16, and none over UTF-8 text.
    (
        "csquoted.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain;charset=\"UTF-8\"\r\n\r\nversion: STSv1\r\nmode: testing\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\n",
    ),
    (
        "cslatin1.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nversion: STSv1\r\nmode: testing\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\n",
    ),
    (
        "csutf16.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-16\r\n\r\nversion: STSv1\r\nmode: testing\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\n",
    ),
    (
        "csnone8.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: testing\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\nnote: caf\u{e9}\r\n",
    ),
    // A blank line inside the policy, and (in its TXT record) a space after the id: both
    // outside the grammar, read by lenient senders, rejected by strict ones.
    (
        "blankline.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\n\r\nmode: testing\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\n",
    ),
    // Not a valid policy (max_age is not digits), and its mx does not cover the MX.
    (
        "badage.test",
        "good",
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: enforce\r\nmx: mx.elsewhere.test\r\nmax_age: 1w\r\n",
    ),
];

/// A tiny HTTPS/1.1 responder: answers by the Host header from [`POLICIES`], then closes.
fn https_server(listener: TcpListener, cert: &std::path::Path, key: &std::path::Path) {
    use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod};
    use std::io::{Read, Write};
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
    b.set_certificate_chain_file(cert).unwrap();
    b.set_private_key_file(key, SslFiletype::PEM).unwrap();
    let acceptor = Arc::new(b.build());
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let acceptor = acceptor.clone();
            std::thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let Ok(mut tls) = acceptor.accept(tcp) else {
                    return;
                };
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 8192 {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&req).to_ascii_lowercase();
                let host = text
                    .lines()
                    .find_map(|l| l.strip_prefix("host:"))
                    .map(|h| h.trim().to_string())
                    .unwrap_or_default();
                // good.test publishes the same policy as sts.test.
                let host = host.replace("mta-sts.good.test", "mta-sts.sts.test");
                let reply = POLICIES
                    .iter()
                    .find(|(d, _, _)| host == format!("mta-sts.{d}"))
                    .map(|p| p.2)
                    .unwrap_or("HTTP/1.1 421 Misdirected Request\r\nContent-Length: 0\r\n\r\n");
                if reply == "DELAYED" {
                    // A complete policy, but only after a pause longer than a few milliseconds.
                    std::thread::sleep(Duration::from_millis(300));
                    let _ = tls.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: testing\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\n",
                    );
                } else if reply == "SLOW" {
                    // Headers, then nothing for longer than any step timeout of the tests.
                    let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
                    let _ = tls.flush();
                    std::thread::sleep(Duration::from_secs(15));
                    let _ = tls.write_all(b"version: STSv1\r\n");
                } else if reply == "LATIN1" {
                    let _ = tls.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\nmode: testing\r\nmx: mx-good.lab.test\r\nmax_age: 604800\r\nnote: caf\xe9\r\n",
                    );
                } else if reply == "BIG" {
                    let _ = tls.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nversion: STSv1\r\n",
                    );
                    let _ = tls.write_all(&vec![b'#'; 70 * 1024]);
                } else {
                    let _ = tls.write_all(reply.as_bytes());
                }
                let _ = tls.shutdown();
            });
        }
    });
}

/// Three servers `ehlo serve` will not imitate: `flood` greets with endless 1 MiB continuation
/// lines; `cutoff` offers STARTTLS, says 220 to it, reads the ClientHello and closes; `biggreet`
/// greets with 700 well-formed `220-` lines of 2000 bytes and a final `220 done` (1.4 MB, past
/// the reply limit), then reads until the client hangs up.
fn hostile_servers(flood: TcpListener, cutoff: TcpListener, biggreet: TcpListener) {
    use std::io::{BufRead, BufReader, Read, Write};
    std::thread::spawn(move || {
        for mut tcp in flood.incoming().flatten() {
            std::thread::spawn(move || {
                let mut line = b"220-".to_vec();
                line.extend(std::iter::repeat_n(b'x', 1 << 20));
                line.extend_from_slice(b"\r\n");
                // At most 256 MiB, or until the client hangs up.
                for _ in 0..256 {
                    if tcp.write_all(&line).is_err() {
                        return;
                    }
                }
            });
        }
    });
    std::thread::spawn(move || {
        for mut tcp in biggreet.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let mut greeting = Vec::new();
                for _ in 0..700 {
                    greeting.extend_from_slice(b"220-");
                    greeting.extend(std::iter::repeat_n(b'x', 2000));
                    greeting.extend_from_slice(b"\r\n");
                }
                greeting.extend_from_slice(b"220 done\r\n");
                if tcp.write_all(&greeting).is_err() {
                    return;
                }
                let mut sink = [0u8; 4096];
                while tcp.read(&mut sink).is_ok_and(|n| n > 0) {}
            });
        }
    });
    std::thread::spawn(move || {
        for tcp in cutoff.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let mut w = tcp.try_clone().unwrap();
                let mut r = BufReader::new(tcp);
                let mut l = String::new();
                let _ = w.write_all(b"220 mx-cutoff.lab.test ESMTP\r\n");
                if r.read_line(&mut l).unwrap_or(0) == 0 {
                    return;
                }
                let _ = w.write_all(b"250-mx-cutoff.lab.test\r\n250 STARTTLS\r\n");
                l.clear();
                if r.read_line(&mut l).unwrap_or(0) == 0 {
                    return;
                }
                let _ = w.write_all(b"220 2.0.0 Ready to start TLS\r\n");
                let mut hello = [0u8; 512];
                let _ = r.read(&mut hello);
                // Gone in the middle of the handshake.
            });
        }
    });
}

/// Host roles: (name, last octet).
const HOSTS: &[(&str, u8)] = &[
    ("good", 10),
    ("plain", 11),
    ("expired", 12),
    ("wrongname", 13),
    ("self", 14),
    ("busy", 15),
    ("silent", 16),
    ("dead", 17),
    ("strict", 18),
    ("garbage", 19),
    ("trickle", 21),
    ("flood", 22),
    ("cutoff", 23),
    ("slow", 24),
    ("biggreet", 25),
];

fn pem_pair(
    dir: &std::path::Path,
    name: &str,
    params: CertificateParams,
    issuer: Option<&Issuer<'_, KeyPair>>,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = KeyPair::generate().unwrap();
    let cert = match issuer {
        Some(i) => params.signed_by(&key, i).unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    let c = dir.join(format!("{name}.crt"));
    let k = dir.join(format!("{name}.key"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k)
}

impl Lab {
    fn start() -> Lab {
        // A /24 of loopback of our own (random, so parallel runs do not collide), one port.
        let seed = std::process::id() as usize
            ^ (std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos() as usize);
        let (b, c) = (1 + (seed % 250) as u8, 1 + ((seed / 250) % 250) as u8);
        let ip = |last: u8| Ipv4Addr::new(127, b, c, last);
        let dir = tempfile::tempdir().unwrap();

        // Private CA, and the leaf certificates.
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "ehlo check test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let mut ca = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut ca, ca_cert.pem().as_bytes()).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        // Each leaf gets its own subject: rcgen's default DN is the same for every certificate,
        // and a leaf whose subject equals its issuer's looks self-signed to OpenSSL.
        let leaf = |names: &[&str]| {
            let mut p =
                CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                    .unwrap();
            p.distinguished_name = rcgen::DistinguishedName::new();
            p.distinguished_name
                .push(rcgen::DnType::CommonName, names[0]);
            p
        };
        let good = pem_pair(
            dir.path(),
            "good",
            // mx-new.lab.test is in no DNS of the lab: a new MX reached with --connect-to.
            leaf(&["mx-good.lab.test", "mx-new.lab.test"]),
            Some(&issuer),
        );
        let mut exp = leaf(&["mx-expired.lab.test"]);
        exp.not_before = rcgen::date_time_ymd(2020, 1, 1);
        exp.not_after = rcgen::date_time_ymd(2021, 1, 1);
        let expired = pem_pair(dir.path(), "expired", exp, Some(&issuer));
        let wrong = pem_pair(dir.path(), "wrong", leaf(&["other.example"]), Some(&issuer));
        let selfs = pem_pair(dir.path(), "self", leaf(&["mx-self.lab.test"]), None);
        // The policy host's certificate names every policy domain but wrongcert.test.
        let sts_names: Vec<String> = POLICIES
            .iter()
            .map(|p| p.0)
            .chain(["good.test"])
            .filter(|d| *d != "wrongcert.test")
            .map(|d| format!("mta-sts.{d}"))
            .collect();
        let sts_refs: Vec<&str> = sts_names.iter().map(String::as_str).collect();
        let sts_cert = pem_pair(dir.path(), "sts", leaf(&sts_refs), Some(&issuer));

        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        // The port: whatever the first listener gets, then the same on every other address.
        let (port, handles, taps, silent, flood, cutoff, biggreet) = 'retry: loop {
            let mut handles = Vec::new();
            let mut taps = HashMap::new();
            let mut port = 0u16;
            for (name, last) in HOSTS {
                let tap = Tap::default();
                let mut o = ServeOptions {
                    listen: SocketAddr::from((ip(*last), port)).into(),
                    hostname: format!("mx-{name}.lab.test"),
                    ..ServeOptions::default()
                };
                let cert = match *name {
                    "good" => Some(&good),
                    "expired" => Some(&expired),
                    "wrongname" => Some(&wrong),
                    "self" => Some(&selfs),
                    _ => None,
                };
                if let Some((c, k)) = cert {
                    o.starttls = true;
                    o.cert = Some(c.clone());
                    o.key = Some(k.clone());
                }
                match *name {
                    "busy" => {
                        o.faults =
                            vec!["connect=421:4.7.0:too many connections from your IP".into()]
                    }
                    "strict" => o.faults = vec!["rcpt=550:5.7.1:relaying denied".into()],
                    "garbage" => o.faults = vec!["banner=garbage".into()],
                    "trickle" => o.faults = vec!["trickle=300".into()],
                    "slow" => o.delays = vec!["rcpt:300".into()],
                    "silent" | "dead" | "flood" | "cutoff" | "biggreet" => continue,
                    _ => {}
                }
                match rt.block_on(ehlo::serve::start_with(o, Box::new(tap.clone()))) {
                    Ok(h) => {
                        port = h.addr().port();
                        handles.push(h);
                        taps.insert(*name, tap);
                    }
                    Err(_) => {
                        for h in handles {
                            rt.block_on(h.shutdown());
                        }
                        continue 'retry;
                    }
                }
            }
            // Silent: accepts (the kernel completes the handshake) and never writes.
            let Ok(silent) = TcpListener::bind((ip(16), port)) else {
                for h in handles {
                    rt.block_on(h.shutdown());
                }
                continue 'retry;
            };
            let (Ok(flood), Ok(cutoff), Ok(biggreet)) = (
                TcpListener::bind((ip(22), port)),
                TcpListener::bind((ip(23), port)),
                TcpListener::bind((ip(25), port)),
            ) else {
                for h in handles {
                    rt.block_on(h.shutdown());
                }
                continue 'retry;
            };
            break (port, handles, taps, silent, flood, cutoff, biggreet);
        };
        hostile_servers(flood, cutoff, biggreet);

        let https = TcpListener::bind((ip(20), 0)).unwrap();
        let https_port = https.local_addr().unwrap().port();
        https_server(https, &sts_cert.0, &sts_cert.1);

        let host = |n: &str| format!("mx-{n}.lab.test");
        let mut owned: Vec<(String, RecordSpec)> = Vec::new();
        for (name, last) in HOSTS {
            owned.push((host(name), RecordSpec::A(ip(*last))));
            owned.push((reverse_name(ip(*last).into()), RecordSpec::Ptr(host(name))));
            let d = format!("{name}.test");
            owned.push((d.clone(), RecordSpec::Mx(10, host(name))));
        }
        let rec = |n: &str, r: RecordSpec| (n.to_string(), r);
        owned.extend([
            rec("good.test", RecordSpec::Txt("v=spf1 mx -all".into())),
            rec(
                "_dmarc.good.test",
                RecordSpec::Txt("v=DMARC1; p=reject".into()),
            ),
            rec(
                "_mta-sts.good.test",
                RecordSpec::Txt("v=STSv1; id=20261202".into()),
            ),
            rec(
                "_smtp._tls.good.test",
                RecordSpec::Txt("v=TLSRPTv1; rua=mailto:tls@good.test".into()),
            ),
            rec("_domainkey.good.test", RecordSpec::Txt("o=-".into())),
            rec("shared1.test", RecordSpec::Mx(10, host("good"))),
            rec("shared2.test", RecordSpec::Mx(5, host("good"))),
            rec("null.test", RecordSpec::Mx(0, ".".into())),
            rec("mixednull.test", RecordSpec::Mx(0, ".".into())),
            rec("mixednull.test", RecordSpec::Mx(10, host("good"))),
            rec("gone.test", RecordSpec::NxDomain),
            rec("broken.test", RecordSpec::ServFail),
            rec("cname.test", RecordSpec::Mx(10, "alias.lab.test".into())),
            rec("alias.lab.test", RecordSpec::Cname(host("good"))),
            rec("twomx.test", RecordSpec::Mx(10, host("dead"))),
            rec("twomx.test", RecordSpec::Mx(20, host("good"))),
            // One MX with STARTTLS and a good certificate, one plaintext only.
            rec("mixed.test", RecordSpec::Mx(10, host("good"))),
            rec("mixed.test", RecordSpec::Mx(20, host("plain"))),
            // The primary MX plaintext only, the backup with STARTTLS.
            rec("plainfirst.test", RecordSpec::Mx(10, host("plain"))),
            rec("plainfirst.test", RecordSpec::Mx(20, host("good"))),
            rec("implicit.test", RecordSpec::A(ip(10))),
            // An MX whose host has no address record at all.
            rec("noaddr.test", RecordSpec::Mx(10, "mx-none.lab.test".into())),
            rec("slow2.test", RecordSpec::Mx(10, host("slow"))),
            rec("slow3.test", RecordSpec::Mx(10, host("slow"))),
            rec("slow4.test", RecordSpec::Mx(10, host("slow"))),
            rec("slow5.test", RecordSpec::Mx(10, host("slow"))),
            rec("slow6.test", RecordSpec::Mx(10, host("slow"))),
            // Six more MX names on the silent address, and a second name on good's.
            rec("mx-good2.lab.test", RecordSpec::A(ip(10))),
            rec("good2.test", RecordSpec::Mx(10, "mx-good2.lab.test".into())),
            // The _mta-sts lookup fails; the policy host itself would answer.
            rec("sfail.test", RecordSpec::Mx(10, host("good"))),
            rec("_mta-sts.sfail.test", RecordSpec::ServFail),
            rec("mta-sts.sfail.test", RecordSpec::A(ip(20))),
            rec(
                "manymx.test",
                RecordSpec::Mx(200, "backup1.elsewhere.test".into()),
            ),
            rec(
                "manymx.test",
                RecordSpec::Mx(210, "backup2.elsewhere.test".into()),
            ),
        ]);
        // A host whose address records are out of address order.
        owned.push(("mx-two.lab.test".into(), RecordSpec::A(ip(17))));
        owned.push(("mx-two.lab.test".into(), RecordSpec::A(ip(10))));
        owned.push((
            "twoaddr.test".into(),
            RecordSpec::Mx(10, "mx-two.lab.test".into()),
        ));
        // Three of those names in one domain, the two of one preference out of name order.
        for (pref, k) in [(20, 2), (10, 5), (20, 1)] {
            owned.push((
                "silentmany.test".into(),
                RecordSpec::Mx(pref, format!("mx-silent{k}.lab.test")),
            ));
        }
        for k in 1..=6 {
            owned.push((format!("mx-silent{k}.lab.test"), RecordSpec::A(ip(16))));
            owned.push((
                format!("silent{k}.test"),
                RecordSpec::Mx(10, format!("mx-silent{k}.lab.test")),
            ));
        }
        for k in 1..10u16 {
            owned.push((
                "manymx.test".into(),
                RecordSpec::Mx(10 + k, format!("mx-fill{k}.lab.test")),
            ));
        }
        owned.push(("mta-sts.good.test".into(), RecordSpec::A(ip(20))));
        owned.push((
            "_smtp._tls.badext.test".into(),
            RecordSpec::Txt("v=TLSRPTv1; rua=mailto:tls@badext.test; x=".into()),
        ));
        for (d, mx, _) in POLICIES {
            owned.push((d.to_string(), RecordSpec::Mx(10, host(mx))));
            let txt = match *d {
                "idcase.test" => "v=STSv1; ID=abc",
                "badext.test" => "v=STSv1; id=1; note=a b",
                "blankline.test" => "v=STSv1; id=1 ",
                _ => "v=STSv1; id=1",
            };
            owned.push((format!("_mta-sts.{d}"), RecordSpec::Txt(txt.into())));
            if *d == "v6first.test" {
                owned.push((
                    format!("mta-sts.{d}"),
                    RecordSpec::Aaaa(std::net::Ipv6Addr::LOCALHOST),
                ));
            }
            owned.push((format!("mta-sts.{d}"), RecordSpec::A(ip(20))));
        }
        let records: Vec<(&str, RecordSpec)> =
            owned.iter().map(|(n, r)| (n.as_str(), r.clone())).collect();
        let (dns, _h) = FakeDns::start(records);
        Lab {
            dns,
            port,
            ca,
            taps,
            _handles: handles,
            _rt: rt,
            _dir: dir,
            _silent: silent,
            https_port,
            https_ip: ip(20),
        }
    }

    fn args<'a>(&'a self, extra: &[&'a str]) -> Vec<String> {
        let mut v: Vec<String> = vec![
            "check".into(),
            // The fake DNS signs nothing: the DNSSEC/DANE checks have their own test zone.
            "--dnssec".into(),
            "off".into(),
            "--dns-server".into(),
            self.dns.to_string(),
            "--port".into(),
            self.port.to_string(),
            "--allow-private".into(),
            "--tls-ca-path".into(),
            self.ca.path().display().to_string(),
            "--timeout".into(),
            "2s".into(),
            "--helo".into(),
            "checker.test".into(),
            "--mta-sts-port".into(),
            self.https_port.to_string(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    }

    fn run(&self, extra: &[&str]) -> Run {
        let args = self.args(extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        ehlo_with(&refs, None, Duration::from_secs(60))
    }

    /// [`Lab::run`] with extra environment variables (the locale).
    fn run_env(&self, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let args = self.args(extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::util::ehlo_with_env(&refs, env, None, Duration::from_secs(60))
    }

    /// Run with --json; (domain, id) → statuses (one per MX address for host checks).
    fn json(&self, extra: &[&str]) -> (Run, Statuses, Vec<Value>) {
        let mut e = vec!["--json"];
        e.extend_from_slice(extra);
        let run = self.run(&e);
        let lines: Vec<Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|err| panic!("not JSON ({err}): {l}")))
            .collect();
        let mut m: Statuses = HashMap::new();
        for v in &lines {
            if v["type"] == "check" {
                m.entry((
                    v["domain"].as_str().unwrap().into(),
                    v["id"].as_str().unwrap().into(),
                ))
                .or_default()
                .push(v["status"].as_str().unwrap().into());
            }
        }
        (run, m, lines)
    }
}

fn st<'a>(m: &'a Statuses, d: &str, id: &str) -> &'a [String] {
    m.get(&(d.to_string(), id.to_string()))
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("no {id} result for {d}: {m:?}"))
}

#[test]
fn a_good_domain_passes_and_no_mail_is_sent() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&["good.test"]);
    assert_eq!(run.code, 0, "{}", run.all());
    for id in [
        "mx.lookup",
        "mx.target",
        "mtasts.txt",
        "tlsrpt.record",
        "spf.record",
        "dmarc.record",
        "smtp.connect",
        "smtp.banner",
        "smtp.banner-name",
        "tls.starttls",
        "tls.handshake",
        "tls.cert.chain",
        "tls.cert.name",
        "tls.cert.expiry",
        "tls.cert.key",
    ] {
        assert_eq!(st(&m, "good.test", id), ["pass"], "{id}: {}", run.stdout);
    }
    // The EHLO extension list is recorded, not judged.
    assert_eq!(st(&m, "good.test", "smtp.ehlo"), ["info"]);
    assert_eq!(st(&m, "good.test", "mx.null"), ["info"]);
    assert_eq!(st(&m, "good.test", "dkim.hint"), ["info"]);
    // Loopback PTRs are answered by the resolver itself (RFC 6761): nothing to learn.
    assert_eq!(st(&m, "good.test", "rdns.fcrdns"), ["skip"]);
    assert_eq!(lines[0]["type"], "schema");
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "summary");
    assert_eq!(last["exit_code"], 0);
    let hs = lines.iter().find(|v| v["id"] == "tls.handshake").unwrap();
    assert_eq!(hs["mx"], "mx-good.lab.test");
    assert!(hs["ip"].as_str().unwrap().ends_with(".10"), "{hs}");
    assert!(hs["evidence"]["version"].as_f64().unwrap() >= 1.2, "{hs}");
    // check never sends MAIL, RCPT or DATA: the server saw EHLO, STARTTLS, EHLO, QUIT.
    let cmds = lab.taps["good"].commands.lock().unwrap().clone();
    assert!(
        cmds.iter()
            .all(|c| !c.to_ascii_uppercase().starts_with("MAIL")
                && !c.to_ascii_uppercase().starts_with("RCPT")
                && !c.to_ascii_uppercase().starts_with("DATA")),
        "{cmds:?}"
    );
    assert!(
        cmds.iter().any(|c| c.eq_ignore_ascii_case("STARTTLS")),
        "{cmds:?}"
    );
    assert!(
        cmds.iter().any(|c| c.eq_ignore_ascii_case("QUIT")),
        "{cmds:?}"
    );

    // The human report: a block with one line per check and the tally.
    let human = lab.run(&["good.test", "--color", "never"]);
    assert_eq!(human.code, 0, "{}", human.all());
    assert!(
        human.stdout.starts_with("good.test  ✓ PASS"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("✓ pass  tls.starttls"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("exit 0"), "{}", human.stdout);

    // A subdomain without a DMARC record of its own: the parent's applies (RFC 7489 §6.6.3).
    let (_, m, lines) = lab.json(&["mail.good.test", "--only", "dmarc.record"]);
    assert_eq!(st(&m, "mail.good.test", "dmarc.record"), ["pass"]);
    let d = lines.iter().find(|v| v["id"] == "dmarc.record").unwrap();
    assert_eq!(d["evidence"]["org_domain"], "good.test", "{d}");
}

/// In colour, each domain's heading shows on the terminal with its name and verdict. The
/// verdict word was upper-cased after it was painted, which turned the colour's SGR (`ESC[32m`)
/// into `ESC[32M`, ECMA-48's DELETE LINE: a colour terminal erased the heading (and the lines
/// below it) as it was drawn. The report is read here as a terminal emulator shows it.
#[test]
fn in_colour_each_domain_heading_stays_on_the_screen() {
    let lab = Lab::start();
    let human = lab.run(&["good.test", "plain.test", "--color", "always"]);
    assert_eq!(human.code, 40, "{}", human.all());
    for sgr in human.stdout.split('\x1b').skip(1) {
        let end = sgr.find(|c: char| c.is_ascii_alphabetic()).unwrap();
        assert!(sgr.starts_with('[') && &sgr[end..=end] == "m", "{sgr:?}");
    }
    assert!(
        human.stdout.contains("\x1b[32m✓ PASS\x1b[0m"),
        "{:?}",
        human.stdout
    );
    let mut screen = vt100::Parser::new(200u16.try_into().unwrap(), 120u16.try_into().unwrap(), 0);
    screen.process(human.stdout.replace('\n', "\r\n").as_bytes());
    let shown = screen.screen().contents();
    assert!(shown.starts_with("good.test  ✓ PASS\n"), "{shown}");
    assert!(shown.contains("\nplain.test  ✗ FAIL\n"), "{shown}");
}

/// A terminal whose locale is not UTF-8 (`LC_ALL=C`) gets the report in ASCII: `✓`/`✗` as
/// `+`/`x` (the same width: the columns stay), `§` as "section", `…` as "..."; its UTF-8 bytes
/// showed as mojibake there. With a UTF-8 locale the glyphs stay.
#[test]
fn the_report_is_ascii_in_a_c_locale() {
    let lab = Lab::start();
    let args = ["good.test", "plain.test", "--color", "never"];
    let c = lab.run_env(&args, &[("LANG", "C.UTF-8"), ("LC_ALL", "C")]);
    assert_eq!(c.code, 40, "{}", c.all());
    assert!(c.stdout.starts_with("good.test  + PASS"), "{}", c.stdout);
    assert!(c.stdout.contains("\nplain.test  x FAIL\n"), "{}", c.stdout);
    let all = c.all();
    let wide: Vec<&str> = all.lines().filter(|l| !l.is_ascii()).collect();
    assert!(wide.is_empty(), "{wide:#?}");
    let u = lab.run_env(&args, &[("LANG", "C"), ("LC_ALL", "C.UTF-8")]);
    assert!(u.stdout.starts_with("good.test  ✓ PASS"), "{}", u.stdout);
}

#[test]
fn each_broken_mx_gets_its_own_verdict() {
    let lab = Lab::start();
    let (run, m, _) = lab.json(&[
        "plain.test",
        "expired.test",
        "wrongname.test",
        "self.test",
        "null.test",
        "mixednull.test",
        "gone.test",
        "cname.test",
        "twomx.test",
        "implicit.test",
    ]);
    assert_eq!(run.code, 40, "{}", run.all());
    assert_eq!(st(&m, "plain.test", "tls.starttls"), ["fail"]);
    assert_eq!(st(&m, "plain.test", "tls.handshake"), ["skip"]);
    assert_eq!(st(&m, "expired.test", "tls.cert.expiry"), ["fail"]);
    assert_eq!(st(&m, "expired.test", "tls.cert.name"), ["pass"]);
    assert_eq!(st(&m, "wrongname.test", "tls.cert.name"), ["warn"]);
    assert_eq!(st(&m, "wrongname.test", "tls.cert.chain"), ["pass"]);
    assert_eq!(st(&m, "self.test", "tls.cert.chain"), ["warn"]);
    assert_eq!(st(&m, "null.test", "mx.null"), ["pass"]);
    assert_eq!(st(&m, "null.test", "mx.target"), ["skip"]);
    assert_eq!(st(&m, "mixednull.test", "mx.null"), ["fail"]);
    assert_eq!(st(&m, "gone.test", "mx.lookup"), ["fail"]);
    assert_eq!(st(&m, "cname.test", "mx.target"), ["warn"]);
    assert_eq!(st(&m, "implicit.test", "mx.lookup"), ["warn"]);
    // The dead first MX fails to connect, but the second answers: reported, not counted.
    assert_eq!(st(&m, "twomx.test", "smtp.connect"), ["fail", "pass"]);

    let verdict = |d: &str| {
        let (_, _, lines) = lab.json(&[d, "--skip", "*.record"]);
        lines
            .iter()
            .find(|v| v["type"] == "domain")
            .map(|v| v["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(verdict("twomx.test"), "pass");
    assert_eq!(verdict("wrongname.test"), "warn");
    assert_eq!(verdict("cname.test"), "warn");
    assert_eq!(verdict("expired.test"), "fail");
    assert_eq!(lab.run(&["wrongname.test"]).code, 0);
    assert_eq!(lab.run(&["wrongname.test", "--fail-on", "warn"]).code, 40);
    assert_eq!(lab.run(&["null.test", "--expect", "mx.null=pass"]).code, 0);
}

#[test]
fn throttling_and_silence_are_errors_never_no_starttls() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&["busy.test", "silent.test", "broken.test", "--timeout", "1s"]);
    assert_eq!(run.code, 41, "{}", run.all());
    assert_eq!(st(&m, "busy.test", "smtp.banner"), ["error"]);
    assert_eq!(st(&m, "busy.test", "tls.starttls"), ["skip"]);
    assert!(
        run.stdout.contains("too many connections"),
        "{}",
        run.stdout
    );
    assert_eq!(st(&m, "silent.test", "smtp.banner"), ["error"]);
    assert_eq!(st(&m, "silent.test", "tls.starttls"), ["skip"]);
    assert_eq!(st(&m, "broken.test", "mx.lookup"), ["error"]);
    // The RCODE in the evidence, as NXDOMAIN's is.
    let lookup = lines
        .iter()
        .find(|v| v["domain"] == "broken.test" && v["id"] == "mx.lookup")
        .expect("broken.test's mx.lookup");
    assert_eq!(lookup["evidence"]["rcode"], "SERVFAIL", "{lookup}");
    // A failure elsewhere still wins over "could not test".
    assert_eq!(lab.run(&["busy.test", "plain.test"]).code, 40);
}

/// MX host names that share an address whose session ends before EHLO is answered (here:
/// accepted, never greeted) get that address's results once: nothing up to there depends on
/// the name, and each waited its turn under `--per-ip` for the same timeout (six names, one at
/// a time: 12 s). A name whose session went on to TLS is probed as itself (SNI, certificate).
#[test]
fn names_on_an_address_that_never_greets_are_not_each_waited_for() {
    let lab = Lab::start();
    let domains = [
        "silent1.test",
        "silent2.test",
        "silent3.test",
        "silent4.test",
        "silent5.test",
        "silent6.test",
    ];
    let mut a: Vec<&str> = domains.to_vec();
    a.extend(["--only", "smtp.*", "--per-ip", "1", "--timeout", "2s"]);
    let (run, m, lines) = lab.json(&a);
    assert_eq!(run.code, 41, "{}", run.all());
    assert!(run.elapsed < Duration::from_secs(7), "{:?}", run.elapsed);
    for d in domains {
        assert_eq!(st(&m, d, "smtp.banner"), ["error"], "{d}: {}", run.stdout);
    }
    // Each domain has one name there: none says it was probed as another domain's name,
    // which would be whichever domain's task got to the address first.
    let banners: Vec<&Value> = lines.iter().filter(|v| v["id"] == "smtp.banner").collect();
    assert_eq!(banners.len(), 6, "{}", run.stdout);
    for b in &banners {
        assert!(b["evidence"].get("probed_as").is_none(), "{b}");
        assert_eq!(b["summary"], banners[0]["summary"], "{}", run.stdout);
    }

    // good.test and good2.test: the same address, a certificate for mx-good.lab.test only.
    let (run, m, lines) = lab.json(&["good.test", "good2.test", "--only", "tls.cert.name"]);
    assert_eq!(
        st(&m, "good.test", "tls.cert.name"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(
        st(&m, "good2.test", "tls.cert.name"),
        ["warn"],
        "{}",
        run.stdout
    );
    assert!(
        lines
            .iter()
            .all(|v| v["evidence"].get("probed_as").is_none()),
        "{}",
        run.stdout
    );
}

/// Several MX names of one domain on an address whose session ends before EHLO: the first of
/// them by preference, then name, stands for the others whichever name's session ran. Here
/// another domain's name on the address is probed first (`silent3.test` listed first, one
/// domain at a time), then last: each domain reports the same both times, its own names only.
#[test]
fn names_sharing_a_silent_address_are_reported_by_preference_then_name() {
    let lab = Lab::start();
    let rows = |first: &str, second: &str| {
        let (run, _, lines) = lab.json(&[
            first,
            second,
            "--only",
            "smtp.banner",
            "--per-ip",
            "1",
            "--concurrency",
            "1",
            "--timeout",
            "1s",
        ]);
        assert_eq!(run.code, 41, "{}", run.all());
        let mut rows: Vec<String> = lines
            .iter()
            .filter(|v| v["id"] == "smtp.banner")
            .map(|v| {
                format!(
                    "{} {} {}",
                    v["domain"].as_str().unwrap(),
                    v["mx"].as_str().unwrap(),
                    v["evidence"]["probed_as"].as_str().unwrap_or("-")
                )
            })
            .collect();
        rows.sort_by_key(|r| r.starts_with("silent3"));
        rows
    };
    let want = [
        "silentmany.test mx-silent5.lab.test -",
        "silentmany.test mx-silent1.lab.test mx-silent5.lab.test",
        "silentmany.test mx-silent2.lab.test mx-silent5.lab.test",
        "silent3.test mx-silent3.lab.test -",
    ];
    assert_eq!(rows("silent3.test", "silentmany.test"), want);
    assert_eq!(rows("silentmany.test", "silent3.test"), want);
}

/// A host's addresses are reported and probed in address order, not the DNS answer's (name
/// servers rotate an RRset's records, so two runs listed them differently).
#[test]
fn a_hosts_addresses_come_in_address_order() {
    let lab = Lab::start();
    let (run, _, lines) = lab.json(&[
        "twoaddr.test",
        "--only",
        "mx.target",
        "--only",
        "smtp.connect",
    ]);
    let target = lines
        .iter()
        .find(|v| v["id"] == "mx.target")
        .unwrap_or_else(|| panic!("no mx.target: {}", run.stdout));
    let addrs: Vec<std::net::Ipv4Addr> = target["evidence"]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(addrs.len(), 2, "{target}");
    assert!(addrs[0] < addrs[1], "{target}");
    assert_eq!(addrs[0].octets()[3], 10, "{target}");
    let probed: Vec<&str> = lines
        .iter()
        .filter(|v| v["id"] == "smtp.connect")
        .map(|v| v["ip"].as_str().unwrap())
        .collect();
    assert_eq!(
        probed,
        [addrs[0].to_string(), addrs[1].to_string()],
        "{}",
        run.stdout
    );
}

#[test]
fn an_mx_shared_by_many_domains_is_probed_once() {
    let lab = Lab::start();
    let (run, m, _) = lab.json(&[
        "good.test",
        "shared1.test",
        "shared2.test",
        "mixednull.test",
    ]);
    assert_eq!(
        st(&m, "shared2.test", "tls.starttls"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(lab.taps["good"].connections.load(Ordering::SeqCst), 1);
}

#[test]
fn expectations_waivers_and_selection() {
    let lab = Lab::start();
    let ok = lab.run(&[
        "good.test",
        "--expect",
        "tls.starttls=pass",
        "--expect",
        "tls.cert.days>=21",
        "--expect",
        "tls.version>=1.2",
        "--expect",
        "mx.count >= 1",
    ]);
    assert_eq!(ok.code, 0, "{}", ok.all());
    let (unmet, _, lines) = lab.json(&["good.test", "--expect", "mx.count>=2"]);
    assert_eq!(unmet.code, 40, "{}", unmet.all());
    let e = lines.iter().find(|v| v["type"] == "expect").unwrap();
    assert_eq!(e["met"], false);
    assert_eq!(e["found"], "1");
    // A certificate problem on port 25 is a warning, unless the pipeline expects better.
    assert_eq!(lab.run(&["self.test"]).code, 0);
    assert_eq!(
        lab.run(&["self.test", "--expect", "tls.cert.chain=pass"])
            .code,
        40
    );
    // JUnit beside the report: a suite per domain, failures where the verdict fails.
    let junit = tempfile::NamedTempFile::new().unwrap();
    let path = junit.path().display().to_string();
    let r = lab.run(&["good.test", "plain.test", "--junit", &path]);
    assert_eq!(r.code, 40, "{}", r.all());
    let xml = std::fs::read_to_string(junit.path()).unwrap();
    assert!(xml.contains(r#"<testsuite name="good.test""#), "{xml}");
    assert!(xml.contains(r#"<testsuite name="plain.test""#), "{xml}");
    assert!(
        xml.contains(r#"type="tls.starttls""#)
            && xml.contains(r#"<testcase name="tls.starttls mx-plain.lab.test [127."#)
            && xml.contains(r#"classname="plain.test.mx""#),
        "{xml}"
    );
    let r = lab.run(&["good.test", "--junit", "/nonexistent/dir/report.xml"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("--junit"), "{}", r.stderr);
    // Waived: reported, not counted.
    let (w, m, _) = lab.json(&["plain.test", "--waive", "tls.starttls@plain.test"]);
    assert_eq!(w.code, 0, "{}", w.all());
    assert_eq!(st(&m, "plain.test", "tls.starttls"), ["fail"]);
    // Expected: a met `ID=STATUS` is a pass for CI, the result shown but not counted (it
    // counted, and a met `--expect tls.starttls=fail` exited 40); unmet, it still fails.
    let (e, m, lines) = lab.json(&["plain.test", "--expect", "tls.starttls=fail"]);
    assert_eq!(e.code, 0, "{}", e.all());
    assert_eq!(st(&m, "plain.test", "tls.starttls"), ["fail"]);
    let c = line_of(&lines, "plain.test", "tls.starttls");
    assert_eq!(c["counts"], false, "{c}");
    assert_eq!(c["note"], "expected by --expect tls.starttls=fail", "{c}");
    let (e, _, _) = lab.json(&["plain.test", "--expect", "tls.starttls=pass"]);
    assert_eq!(e.code, 40, "{}", e.all());
    // --only: DNS checks only, so no SMTP connection at all.
    let before = lab.taps["good"].connections.load(Ordering::SeqCst);
    let (o, m, _) = lab.json(&["good.test", "--only", "mx.*", "--only", "*.record"]);
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        m.keys()
            .all(|(_, id)| id.starts_with("mx.") || id.ends_with(".record")),
        "{m:?}"
    );
    assert_eq!(lab.taps["good"].connections.load(Ordering::SeqCst), before);
    // Unknown ids are usage errors that name the valid ones.
    for bad in [
        &["good.test", "--only", "tls.nope"][..],
        &["good.test", "--expect", "nope=pass"],
        &["good.test", "--waive", "nope@good.test"],
        &["good.test", "--expect", "tls.starttls=great"],
    ] {
        let r = lab.run(bad);
        assert_eq!(r.code, 1, "{bad:?}: {}", r.all());
        assert!(
            r.stderr.contains("tls.starttls") || r.stderr.contains("status"),
            "{}",
            r.stderr
        );
    }
}

/// `--only 'tls.*'` against an MX that refuses every connection showed six skips and passed,
/// exit 0: a CI job asking "is TLS right on my MX" went green with nothing tested. The step
/// the selected checks needed is now reported and judged as in a full run (a refused
/// connection fails, a 421 greeting could not be tested), with a note saying why it is there;
/// an MX another MX makes up for still does not count, and a skip of its own (no PTR to check
/// on loopback) brings nothing in.
#[test]
fn a_selection_skipped_by_a_failed_step_it_left_out_is_not_a_pass() {
    let lab = Lab::start();
    let note =
        "left out by --only/--skip, reported because the selected checks after it could not run";
    let (run, m, lines) = lab.json(&["dead.test", "--only", "tls.*"]);
    assert_eq!(run.code, 40, "{}", run.all());
    assert_eq!(st(&m, "dead.test", "smtp.connect"), ["fail"]);
    assert_eq!(st(&m, "dead.test", "tls.starttls"), ["skip"]);
    let c = line_of(&lines, "dead.test", "smtp.connect");
    assert_eq!(c["counts"], true, "{c}");
    assert_eq!(c["note"], note, "{c}");
    let d = lines.iter().find(|v| v["type"] == "domain").unwrap();
    assert_eq!(d["status"], "fail", "{d}");
    // Not something --untested-ok forgives: the MX said no.
    assert_eq!(
        lab.run(&["dead.test", "--only", "tls.*", "--untested-ok"])
            .code,
        40
    );
    // The report and the JUnit say which step and why.
    let junit = tempfile::NamedTempFile::new().unwrap();
    let path = junit.path().display().to_string();
    let r = lab.run(&[
        "dead.test",
        "--only",
        "tls.*",
        "--color",
        "never",
        "--junit",
        &path,
    ]);
    assert_eq!(r.code, 40, "{}", r.all());
    assert!(r.stdout.contains("dead.test  ✗ FAIL"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("Connection refused (os error 111) ({note})")),
        "{}",
        r.stdout
    );
    let xml = std::fs::read_to_string(junit.path()).unwrap();
    assert!(
        xml.contains(r#"<testcase name="smtp.connect mx-dead.lab.test [127."#)
            && xml.contains(r#"type="smtp.connect""#)
            && xml.contains(note),
        "{xml}"
    );
    // A 421 greeting: could not be tested (41), which --untested-ok makes 0, as in a full run.
    let (run, m, _) = lab.json(&["busy.test", "--only", "tls.*"]);
    assert_eq!(run.code, 41, "{}", run.all());
    assert_eq!(st(&m, "busy.test", "smtp.banner"), ["error"]);
    assert!(
        !m.contains_key(&("busy.test".into(), "smtp.connect".into())),
        "{m:?}"
    );
    assert_eq!(
        lab.run(&["busy.test", "--only", "tls.*", "--untested-ok"])
            .code,
        0
    );
    // No STARTTLS, so no certificate: the certificate checks alone do not pass it.
    let (run, m, _) = lab.json(&["plain.test", "--only", "tls.cert.*"]);
    assert_eq!(run.code, 40, "{}", run.all());
    assert_eq!(st(&m, "plain.test", "tls.starttls"), ["fail"]);
    // The dead MX is made up for by the good one, as in a full run: reported, not counted.
    let (run, m, lines) = lab.json(&["twomx.test", "--only", "tls.*"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(st(&m, "twomx.test", "smtp.connect"), ["fail"]);
    let c = line_of(&lines, "twomx.test", "smtp.connect");
    assert_eq!(c["counts"], false, "{c}");
    // A skip for a reason of its own brings no step in.
    let (run, m, _) = lab.json(&["dead.test", "--only", "rdns.*"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(m.len(), 1, "{m:?}");
    // The step selected itself: nothing changes.
    let (run, m, _) = lab.json(&["dead.test", "--only", "smtp.connect", "--only", "tls.*"]);
    assert_eq!(run.code, 40, "{}", run.all());
    assert_eq!(st(&m, "dead.test", "smtp.connect"), ["fail"]);
}

#[test]
fn a_field_expectation_is_unmet_by_an_mx_without_the_field() {
    let lab = Lab::start();
    let base = [
        "mixed.test",
        "--only",
        "smtp.*",
        "--only",
        "tls.*",
        "--expect",
        "tls.cert.days>=21",
        "--expect",
        "tls.version>=1.2",
    ];
    let (run, m, lines) = lab.json(&base);
    // The plaintext MX has no certificate and no TLS version: the expectations are about every
    // MX (as tls.handshake=pass is), so neither is met; that MX's TLS checks were skipped
    // because tls.starttls failed there, so they are not decided, the reason said, and the
    // missing STARTTLS fails the run.
    assert_eq!(st(&m, "mixed.test", "tls.handshake"), ["pass", "skip"]);
    assert_eq!(run.code, 40, "{}", run.stdout);
    let expects: Vec<&Value> = lines.iter().filter(|v| v["type"] == "expect").collect();
    assert_eq!(expects.len(), 2, "{}", run.stdout);
    for e in &expects {
        assert_eq!(e["met"], false, "{e}");
        assert_eq!(e["verdict"], "not_decided", "{e}");
        let reason = e["reason"].as_str().unwrap();
        assert!(
            reason.contains("skipped on mx-plain.lab.test [127.")
                && reason.ends_with(": tls.starttls failed"),
            "{e}"
        );
        let found = e["found"].as_str().unwrap();
        assert!(
            found.contains(", none (mx-plain.lab.test [127.") && found.contains("skip"),
            "{e}"
        );
    }
    // Waived on that domain: reported, and the expectation is not made unmet by it.
    let mut waived = base.to_vec();
    waived.extend([
        "--waive",
        "tls.cert.expiry@mixed.test",
        "--waive",
        "tls.handshake@mixed.test",
        "--waive",
        "tls.starttls@mixed.test",
    ]);
    let (run, _, lines) = lab.json(&waived);
    assert_eq!(run.code, 0, "{}", run.stdout);
    for e in lines.iter().filter(|v| v["type"] == "expect") {
        assert_eq!(e["met"], true, "{e}");
        assert!(e["found"].as_str().unwrap().contains("(waived)"), "{e}");
    }
}

#[test]
fn domain_lists_bad_lines_dead_dns_and_the_deadline() {
    let lab = Lab::start();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("domains.txt");
    std::fs::write(
        &list,
        "# our domains\ngood.test\n\nnot a domain!  # typo\nnull.test # parked\n",
    )
    .unwrap();
    let at = format!("@{}", list.display());
    // A malformed name never succeeds on a retry: a usage error naming the line, before any
    // check is run (not "could not be tested").
    let r = lab.run(&[&at]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    // Under --json the report still starts with `schema` and ends with its `summary` (exit
    // code 1, nothing checked, the reason), so a CI step reading the summary finds one.
    let (jr, _, lines) = lab.json(&[&at]);
    assert_eq!(jr.code, 1, "{}", jr.all());
    let kinds: Vec<&str> = lines.iter().filter_map(|v| v["type"].as_str()).collect();
    assert_eq!(kinds, ["schema", "error", "summary"], "{}", jr.stdout);
    assert_eq!(lines[2]["exit_code"], 1, "{}", jr.stdout);
    assert_eq!(lines[2]["domains"], 0, "{}", jr.stdout);
    assert!(
        lines[2]["stopped"]
            .as_str()
            .is_some_and(|s| s.contains("line 4: 'not a domain!' is not a domain name")),
        "{}",
        jr.stdout
    );
    assert_eq!(jr.stderr.lines().count(), 1, "{}", jr.stderr);
    let said = r.stderr.trim();
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.contains(&format!(
            "{} line 4: 'not a domain!' is not a domain name",
            list.display()
        )),
        "{said}"
    );
    std::fs::write(&list, "# our domains\ngood.test\n\nnull.test # parked\n").unwrap();
    let (run, m, _) = lab.json(&[&at]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(st(&m, "good.test", "tls.starttls"), ["pass"]);
    // A list saved with a UTF-8 byte order mark: its first name is read without it.
    std::fs::write(&list, "\u{feff}null.test\n").unwrap();
    let (run, m, _) = lab.json(&[&at]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(st(&m, "null.test", "mx.null"), ["pass"]);
    // Invisible and control characters are shown escaped; a bad argument is named as such.
    let r = lab.run(&["good\u{200b}.test"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("'good\\u{200b}.test' is not a domain name"),
        "{}",
        r.stderr
    );
    let r = lab.run(&["bad..name"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("'bad..name' is not a domain name"),
        "{}",
        r.stderr
    );

    // Unreadable list: usage, one line naming it as the domain list (it said `cannot read
    // /nonexistent/list.txt: …`, not which file of the command line that was), whether it
    // cannot be opened or, a directory, cannot be read.
    let r = lab.run(&["@/nonexistent/list.txt"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("cannot read the domain list @/nonexistent/list.txt: No such file"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let at_dir = format!("@{}", dir.path().display());
    let r = lab.run(&[&at_dir]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains(&format!(
            "cannot read the domain list {at_dir}: Is a directory"
        )),
        "{}",
        r.stderr
    );

    // From stdin.
    let args = lab.args(&["-", "--json"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = ehlo_with(&refs, Some(b"null.test\n"), Duration::from_secs(30));
    assert_eq!(r.code, 0, "{}", r.all());

    // A DNS server that never answers: every domain "could not test", not "fail".
    let quiet = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = quiet.local_addr().unwrap().to_string();
    let r = ehlo_with(
        &[
            "check",
            "--dns-server",
            &dns,
            "--timeout",
            "1s",
            "good.test",
            "null.test",
        ],
        None,
        Duration::from_secs(60),
    );
    assert_eq!(r.code, 41, "{}", r.all());
    assert!(!r.stdout.contains("✗ fail"), "{}", r.stdout);

    // A DNS server that answers every query with an undecodable message: no check could
    // test anything, so nothing fails either, dnssec.domain included (it said "validating
    // senders defer mail" and failed the run, exit 40, on the resolver's garbage).
    let garbage = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = garbage.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = garbage.recv_from(&mut buf) {
            if n >= 2 {
                let mut reply = buf[..2].to_vec();
                // A header saying one question, then a label code (0xBB) no message has.
                reply.extend_from_slice(b"\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\xbb");
                reply.extend_from_slice(&[b'x'; 20]);
                let _ = garbage.send_to(&reply, peer);
            }
        }
    });
    let r = ehlo_with(
        &[
            "check",
            "--dns-server",
            &dns,
            "--timeout",
            "3s",
            "good.test",
        ],
        None,
        Duration::from_secs(60),
    );
    assert_eq!(r.code, 41, "{}", r.all());
    assert!(!r.stdout.contains("✗ fail"), "{}", r.stdout);
    assert!(
        r.stdout.contains("? error dnssec.domain") && r.stdout.contains("decoding error"),
        "{}",
        r.stdout
    );
    // Nothing is known of the domain's DNSSEC: no consequence for senders is claimed (it said
    // "validating senders defer mail to good.test").
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("? error dnssec.domain"))
        .unwrap_or_default();
    assert!(
        line.ends_with(
            ": whether the MX records of good.test validate is not known (the resolver told nothing)"
        ),
        "{line}"
    );
    assert!(!line.contains("defer"), "{line}");

    // --deadline stops a run stuck on a silent server, and reports what it has.
    let r = lab.run(&[
        "good.test",
        "silent.test",
        "--timeout",
        "30s",
        "--deadline",
        "2s",
    ]);
    assert_eq!(r.code, 41, "{}", r.all());
    assert!(r.elapsed < Duration::from_secs(15), "{:?}", r.elapsed);
    assert!(r.stdout.contains("good.test  ✓ PASS"), "{}", r.stdout);
    assert!(r.stdout.contains("deadline reached"), "{}", r.stdout);
}

/// A DNS server on loopback that answers every question with `rcode`, or with `cd_rcode` (no
/// records) when the question sets CD (checking disabled, RFC 4035 §3.2.2); its address.
fn rcode_dns(rcode: u8, cd_rcode: u8) -> String {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = sock.recv_from(&mut buf) {
            if n < 12 {
                continue;
            }
            // The question's end: its name's labels, then type and class.
            let mut i = 12;
            while i < n && buf[i] != 0 {
                i += usize::from(buf[i]) + 1;
            }
            let end = (i + 5).min(n);
            let cd = buf[3] & 0x10 != 0;
            let mut reply = buf[..2].to_vec();
            // QR, the opcode and RD copied, RA; the RCODE; one question, nothing else.
            reply.push(0x80 | (buf[2] & 0x79));
            reply.push(0x80 | if cd { cd_rcode } else { rcode });
            reply.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
            reply.extend_from_slice(&buf[12..end]);
            let _ = sock.send_to(&reply, peer);
        }
    });
    addr
}

/// One rcode, one judgement (RFC 4035 §5: bogus is a verdict on the data, a lookup that failed
/// is none). A resolver that answers REFUSED (it does not serve this client) or SERVFAIL also
/// with checking disabled made `mx.lookup` an error but `dnssec.domain` a failure ("could not be
/// validated", exit 40): now both could not be tested, exit 41. A validating resolver whose
/// SERVFAIL hides data it serves with checking disabled found that data bogus: `dnssec.domain`
/// fails saying so, while `mx.lookup`, which got no records, could not be tested.
#[test]
fn a_resolver_failure_is_no_dnssec_finding_about_the_domain() {
    let run = |dns: &str| {
        ehlo_with(
            &[
                "check",
                "--json",
                "--dns-server",
                dns,
                "--timeout",
                "3s",
                "example.test",
            ],
            None,
            Duration::from_secs(60),
        )
    };
    let lines = |r: &Run| -> Vec<Value> {
        r.stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    for (rcode, name) in [(5, "REFUSED"), (2, "SERVFAIL")] {
        let r = run(&rcode_dns(rcode, rcode));
        let l = lines(&r);
        assert_eq!(r.code, 41, "{name}: {}", r.all());
        for id in ["mx.lookup", "dnssec.domain"] {
            let c = line_of(&l, "example.test", id);
            assert_eq!(c["status"], "error", "{name} {id}: {c}");
            let s = c["summary"].as_str().unwrap_or_default();
            assert!(s.contains(&format!("answered {name}")), "{s}");
            assert!(!s.contains("defer"), "{s}");
        }
        let s = summary_of(&l, "example.test", "dnssec.domain");
        assert!(
            s.ends_with("validate is not known (the lookup failed, no DNSSEC verdict)"),
            "{s}"
        );
        assert!(
            !l.iter().any(|v| v["status"] == "fail"),
            "{name}: {}",
            r.stdout
        );
    }
    let r = run(&rcode_dns(2, 0));
    let l = lines(&r);
    assert_eq!(r.code, 40, "{}", r.all());
    assert_eq!(line_of(&l, "example.test", "mx.lookup")["status"], "error");
    let d = line_of(&l, "example.test", "dnssec.domain");
    assert_eq!(d["status"], "fail", "{d}");
    let s = d["summary"].as_str().unwrap_or_default();
    assert!(
        s.contains("with checking disabled it serves the records") && s.contains("defer"),
        "{s}"
    );
}

/// `--untested-ok`: a run whose worst is something that could not be tested (a DNS server
/// whose replies cannot be read: exit 41) exits 0, the errors still reported and counted in
/// the summary; a failure still exits 40, and a run cut by `--deadline` still 41. There was no
/// way to keep a CI job from failing on the network but `|| [ $? = 41 ]`.
#[test]
fn untested_ok_passes_exit_41_but_not_a_failure_or_a_cut_run() {
    let garbage = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = garbage.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = garbage.recv_from(&mut buf) {
            if n >= 2 {
                let mut reply = buf[..2].to_vec();
                reply.extend_from_slice(b"\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\xbb");
                let _ = garbage.send_to(&reply, peer);
            }
        }
    });
    let dead = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "--dns-server",
            &dns,
            "--timeout",
            "3s",
            "good.test",
        ];
        args.extend(extra);
        ehlo_with(&args, None, Duration::from_secs(60))
    };
    assert_eq!(dead(&[]).code, 41);
    let r = dead(&["--untested-ok"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("? error dnssec.domain"), "{}", r.stdout);
    assert!(r.stdout.contains("exit 0"), "{}", r.stdout);
    let r = dead(&["--untested-ok", "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let summary: Value = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "summary")
        .expect("summary");
    assert_eq!(summary["exit_code"], 0, "{summary}");
    assert!(summary["counts"]["error"].as_u64() > Some(0), "{summary}");
    assert_eq!(summary["verdicts"]["error"], 1, "{summary}");

    let lab = Lab::start();
    // A failure is a failure.
    let r = lab.run(&["plain.test", "--untested-ok"]);
    assert_eq!(r.code, 40, "{}", r.all());
    // A run the deadline cut did not run what it was asked to.
    let r = lab.run(&[
        "silent.test",
        "--timeout",
        "30s",
        "--deadline",
        "2s",
        "--untested-ok",
    ]);
    assert_eq!(r.code, 41, "{}", r.all());
    assert!(r.stdout.contains("deadline reached"), "{}", r.stdout);
}

#[test]
fn mta_sts_policies_fetched_over_https_and_linted() {
    let lab = Lab::start();
    let domains: Vec<&str> = POLICIES.iter().map(|p| p.0).collect();
    let mut args = domains.clone();
    args.extend(["--skip", "spf.record", "--skip", "dmarc.record"]);
    let (run, m, lines) = lab.json(&args);
    assert_eq!(
        st(&m, "sts.test", "mtasts.fetch"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(st(&m, "sts.test", "mtasts.policy"), ["pass"]);
    assert_eq!(st(&m, "sts.test", "mtasts.mx-match"), ["pass"]);
    assert_eq!(st(&m, "redirect.test", "mtasts.fetch"), ["fail"]);
    assert_eq!(st(&m, "redirect.test", "mtasts.policy"), ["skip"]);
    // An address that cannot be connected to: the next one is tried, as senders do.
    assert_eq!(
        st(&m, "v6first.test", "mtasts.fetch"),
        ["pass"],
        "{}",
        run.stdout
    );
    let v6 = lines
        .iter()
        .find(|v| v["domain"] == "v6first.test" && v["id"] == "mtasts.fetch")
        .unwrap();
    assert!(
        v6["evidence"]["unreachable"][0]
            .as_str()
            .is_some_and(|u| u.starts_with("::1: ")),
        "{v6}"
    );
    assert_eq!(st(&m, "html.test", "mtasts.fetch"), ["warn"]);
    // LF-only lines: accepted, noted.
    assert_eq!(st(&m, "html.test", "mtasts.policy"), ["info"]);
    assert_eq!(st(&m, "missing.test", "mtasts.fetch"), ["fail"]);
    assert_eq!(st(&m, "big.test", "mtasts.fetch"), ["fail"]);
    // A policy host that stalls mid-response: bounded, and "could not test", not "no policy".
    assert_eq!(
        st(&m, "slowpolicy.test", "mtasts.fetch"),
        ["error"],
        "{}",
        run.stdout
    );
    assert!(run.elapsed < Duration::from_secs(14), "{:?}", run.elapsed);
    assert_eq!(st(&m, "wrongcert.test", "mtasts.fetch"), ["fail"]);
    assert_eq!(st(&m, "badpolicy.test", "mtasts.policy"), ["fail"]);
    assert_eq!(st(&m, "unlisted.test", "mtasts.mx-match"), ["fail"]);
    // Under enforce, the MX's wrong-name certificate is a failure, not a warning.
    assert_eq!(st(&m, "enforce.test", "mtasts.mx-match"), ["pass"]);
    assert_eq!(st(&m, "enforce.test", "tls.cert.name"), ["fail"]);
    let find = |d: &str, id: &str| {
        lines
            .iter()
            .find(|v| v["domain"] == d && v["id"] == id)
            .unwrap()
            .clone()
    };
    let redirect = find("redirect.test", "mtasts.fetch");
    assert!(
        redirect["summary"]
            .as_str()
            .unwrap()
            .contains("https://www.redirect.test/policy"),
        "{redirect}"
    );
    let bad = find("badpolicy.test", "mtasts.policy");
    assert!(
        bad["summary"].as_str().unwrap().starts_with("line 2:"),
        "{bad}"
    );
    let big = find("big.test", "mtasts.fetch");
    assert!(big["summary"].as_str().unwrap().contains("64 KiB"), "{big}");
    // The policy mode is an --expect field.
    assert_eq!(
        lab.run(&["sts.test", "--expect", "mtasts.mode=testing"])
            .code,
        0
    );
    assert_eq!(
        lab.run(&["sts.test", "--expect", "mtasts.mode=enforce"])
            .code,
        40
    );
}

/// A policy body is UTF-8 text (RFC 8461 §3.2): one byte that is not fails `mtasts.policy` at
/// its line (it used to be read lossily and pass); a server's U+FFFE, quoted in a finding, keeps
/// the JUnit file well-formed XML.
#[test]
fn a_policy_that_is_not_utf8_fails_and_noncharacters_keep_the_junit_xml() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&["latin1.test", "nonchar.test", "--only", "mtasts.*"]);
    assert_eq!(
        st(&m, "latin1.test", "mtasts.fetch"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(
        st(&m, "latin1.test", "mtasts.policy"),
        ["fail"],
        "{}",
        run.stdout
    );
    let c = line_of(&lines, "latin1.test", "mtasts.policy");
    assert!(
        c["summary"]
            .as_str()
            .unwrap()
            .starts_with("line 5: byte 0xE9 (offset 79) is not UTF-8"),
        "{c}"
    );
    assert_eq!(
        st(&m, "nonchar.test", "mtasts.policy"),
        ["fail"],
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 40, "{}", run.stderr);

    let junit = tempfile::NamedTempFile::new().unwrap();
    let path = junit.path().display().to_string();
    let r = lab.run(&[
        "latin1.test",
        "nonchar.test",
        "--only",
        "mtasts.*",
        "--junit",
        &path,
    ]);
    assert_eq!(r.code, 40, "{}", r.stderr);
    let xml = std::fs::read_to_string(junit.path()).unwrap();
    // XML 1.0 §2.2 `Char`: a parser rejects the whole file for one character outside it.
    let outside: Vec<char> = xml
        .chars()
        .filter(|&c| {
            !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        })
        .collect();
    assert!(outside.is_empty(), "{outside:?} in {xml}");
    assert!(xml.contains("mode &apos;testing\\u{fffe}&apos;"), "{xml}");
    assert!(xml.contains("is not UTF-8"), "{xml}");
}

/// Hostile policy text: a `mode` padded with NBSP fails (only spaces and tabs surround a value,
/// RFC 8461 §3.2; it was trimmed away unseen and the policy passed); U+061C and U+2028 from an
/// `mx` line, OSC 8/OSC/CSI from a `mode` line and a C1 CSI from a Content-Type are escaped in
/// the human report, the JSON Lines and the JUnit file (U+061C and U+2028 came out raw), and a
/// Content-Type that is there is not called "missing".
#[test]
fn hostile_policy_text_is_escaped_everywhere_and_judged_by_the_grammar() {
    let lab = Lab::start();
    let doms = [
        "nbsp.test",
        "bidimx.test",
        "c1type.test",
        "--only",
        "mtasts.*",
    ];
    let (run, m, lines) = lab.json(&doms);
    assert_eq!(
        st(&m, "nbsp.test", "mtasts.policy"),
        ["fail"],
        "{}",
        run.stdout
    );
    assert_eq!(
        st(&m, "nbsp.test", "mtasts.mx-match"),
        ["skip"],
        "{}",
        run.stdout
    );
    let nbsp = line_of(&lines, "nbsp.test", "mtasts.policy");
    assert_eq!(
        nbsp["summary"],
        "line 2: mode 'enforce\u{a0}' ends in U+00A0, not a space or tab: only those may \
         surround a value (RFC 8461 §3.2), so strict senders do not read it as written",
        "{nbsp}"
    );
    assert_eq!(
        st(&m, "bidimx.test", "mtasts.policy"),
        ["fail"],
        "{}",
        run.stdout
    );
    assert_eq!(
        st(&m, "c1type.test", "mtasts.fetch"),
        ["warn"],
        "{}",
        run.stdout
    );
    let ct = line_of(&lines, "c1type.test", "mtasts.fetch");
    assert!(
        ct["summary"]
            .as_str()
            .unwrap()
            .starts_with("Content-Type is text/\u{9b}31mplain, not text/plain"),
        "{ct}"
    );
    assert_eq!(
        ct["evidence"]["content_type"], "text/\u{9b}31mplain",
        "{ct}"
    );
    assert_eq!(run.code, 40, "{}", run.stderr);

    // What a terminal, a log viewer or an XML parser would act on: never raw in any output.
    let raw = |c: char| {
        (c.is_control() && c != '\n')
            || matches!(
                u32::from(c),
                0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069 | 0x2028 | 0x2029
            )
    };
    let human = lab.run(&doms);
    let junit = tempfile::NamedTempFile::new().unwrap();
    let path = junit.path().display().to_string();
    let mut with_junit = doms.to_vec();
    with_junit.extend(["--junit", &path]);
    let j = lab.run(&with_junit);
    assert_eq!(
        (human.code, j.code),
        (40, 40),
        "{}{}",
        human.stderr,
        j.stderr
    );
    let xml = std::fs::read_to_string(junit.path()).unwrap();
    for (what, text) in [
        ("human", &human.stdout),
        ("json", &run.stdout),
        ("junit", &xml),
    ] {
        let bad: Vec<char> = text.chars().filter(|&c| raw(c)).collect();
        assert!(bad.is_empty(), "{what}: raw {bad:?} in\n{text}");
    }
    for text in [&human.stdout, &xml] {
        assert!(
            text.contains("enforce\u{a0}&apos; ends in U+00A0")
                || text.contains("enforce\u{a0}' ends in U+00A0"),
            "{text}"
        );
        assert!(
            text.contains("mx-good.lab.test\\u{061C}\\u{2028}mx: evil.test"),
            "{text}"
        );
        assert!(
            text.contains("testing\\x1B]8;;https://evil.test/\\x1B\\x\\x1B]8;;"),
            "{text}"
        );
        assert!(text.contains("text/\\u{009B}31mplain"), "{text}");
    }
    assert!(
        run.stdout
            .contains("mx-good.lab.test\\u061c\\u2028mx: evil.test"),
        "{}",
        run.stdout
    );
    // XML 1.0 §2.2 `Char`.
    assert!(
        !xml.chars().any(|c| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)),
        "{xml}"
    );
}

/// The one check line of `id` for `domain`.
fn line_of<'a>(lines: &'a [Value], domain: &str, id: &str) -> &'a Value {
    lines
        .iter()
        .find(|v| v["type"] == "check" && v["domain"] == domain && v["id"] == id)
        .unwrap_or_else(|| panic!("no {id} line for {domain}"))
}

/// The summary of the one check line of `id` for `domain`.
fn summary_of<'a>(lines: &'a [Value], domain: &str, id: &str) -> &'a str {
    line_of(lines, domain, id)["summary"].as_str().unwrap()
}

/// A TXT record whose tag is spelled `ID=` only warns because lenient senders read it: they
/// fetch the policy, so ehlo fetches and judges it too (here an enforce policy that leaves the
/// MX out, so senders will not deliver: RFC 8461 §5).
#[test]
fn a_txt_record_that_only_warns_still_has_its_policy_fetched() {
    let lab = Lab::start();
    let (run, m, _) = lab.json(&["idcase.test", "--only", "mtasts.*"]);
    assert_eq!(
        st(&m, "idcase.test", "mtasts.txt"),
        ["warn"],
        "{}",
        run.stdout
    );
    assert_eq!(
        st(&m, "idcase.test", "mtasts.fetch"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(
        st(&m, "idcase.test", "mtasts.mx-match"),
        ["fail"],
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 40, "{}", run.stdout);
}

/// An extension field against the grammar (`note=a b`: a space in its value; `x=`: no value)
/// makes the record syntactically invalid, which strict senders discard (RFC 8461 §3.1, RFC 8460
/// §3): a warning naming the field, not a pass; lenient senders read the record, so the policy
/// is still fetched and judged.
#[test]
fn a_malformed_extension_field_warns_and_the_policy_is_still_fetched() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&["badext.test", "--only", "mtasts.*", "--only", "tlsrpt.*"]);
    assert_eq!(
        st(&m, "badext.test", "mtasts.txt"),
        ["warn"],
        "{}",
        run.stdout
    );
    let txt = summary_of(&lines, "badext.test", "mtasts.txt");
    assert!(
        txt.contains("'note=a b'") && txt.contains("RFC 8461 §3.1"),
        "{txt}"
    );
    assert_eq!(
        st(&m, "badext.test", "mtasts.fetch"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(
        st(&m, "badext.test", "mtasts.policy"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(
        st(&m, "badext.test", "mtasts.mx-match"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(
        st(&m, "badext.test", "tlsrpt.record"),
        ["warn"],
        "{}",
        run.stdout
    );
    let rpt = summary_of(&lines, "badext.test", "tlsrpt.record");
    assert!(rpt.contains("'x='") && rpt.contains("no value"), "{rpt}");
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// Only the first ten MX hosts are looked up and probed, but an enforce policy must cover every
/// MX a sender may use (RFC 8461 §5): the hosts past the cap are matched too.
#[test]
fn mx_match_covers_the_mx_hosts_past_the_cap() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&["manymx.test", "--only", "mtasts.*"]);
    assert_eq!(
        st(&m, "manymx.test", "mtasts.policy"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(
        st(&m, "manymx.test", "mtasts.mx-match"),
        ["fail"],
        "{}",
        run.stdout
    );
    let c = line_of(&lines, "manymx.test", "mtasts.mx-match");
    assert_eq!(
        c["evidence"]["unmatched"],
        serde_json::json!(["backup1.elsewhere.test", "backup2.elsewhere.test"]),
        "{c}"
    );
    assert_eq!(run.code, 40);
}

/// An invalid policy is no policy (RFC 8461 §3.3): `mtasts.policy` fails, and its mx mismatch
/// is a warning about what will happen once it is valid, not "senders will not deliver".
#[test]
fn an_invalid_policy_does_not_fail_mx_match_a_second_time() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&["badage.test", "--only", "mtasts.*"]);
    assert_eq!(
        st(&m, "badage.test", "mtasts.policy"),
        ["fail"],
        "{}",
        run.stdout
    );
    // An invalid policy is no policy: nothing to match (RFC 8461 §3.2).
    assert_eq!(
        st(&m, "badage.test", "mtasts.mx-match"),
        ["skip"],
        "{}",
        run.stdout
    );
    let summary = summary_of(&lines, "badage.test", "mtasts.mx-match");
    assert!(!summary.contains("will not deliver mail"), "{summary}");
    assert!(summary.contains("not valid"), "{summary}");
    // With the invalid policy waived, nothing else fails.
    let waived = lab.run(&[
        "badage.test",
        "--only",
        "mtasts.*",
        "--waive",
        "mtasts.policy@badage.test",
    ]);
    assert_eq!(waived.code, 0, "{}", waived.stdout);
}

/// RFC 8461 §3.2: of a field given twice, the first counts and the policy stays valid. A
/// `mode: enforce` policy with a later `mode: testing` failed as invalid ("given twice (only one
/// is allowed)"), so mx-match was skipped as "no policy" and the covered MX's wrong-name
/// certificate only warned, while senders apply enforce to it. Blank lines and a space after
/// the TXT record's id passed unseen, though strict senders (mox) reject both.
#[test]
fn a_field_given_twice_keeps_the_first_and_grammar_slips_warn() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&[
        "dupmode.test",
        "blankline.test",
        "--skip",
        "spf.record",
        "--skip",
        "dmarc.record",
    ]);
    let says = |d: &str, id: &str| summary_of(&lines, d, id);
    assert_eq!(
        st(&m, "dupmode.test", "mtasts.policy"),
        ["warn"],
        "{}",
        run.stdout
    );
    let policy = says("dupmode.test", "mtasts.policy");
    assert!(
        policy.starts_with("line 5: mode given again as 'testing' after 'enforce' (line 2)"),
        "{policy}"
    );
    assert_eq!(st(&m, "dupmode.test", "mtasts.mx-match"), ["pass"]);
    assert_eq!(
        line_of(&lines, "dupmode.test", "mtasts.mx-match")["evidence"]["mode"],
        "enforce"
    );
    assert_eq!(st(&m, "dupmode.test", "tls.cert.name"), ["fail"]);

    assert_eq!(
        st(&m, "blankline.test", "mtasts.txt"),
        ["warn"],
        "{}",
        run.stdout
    );
    assert!(
        says("blankline.test", "mtasts.txt")
            .starts_with("white space after the last field 'id=1' with no ';' after it"),
        "{}",
        run.stdout
    );
    assert_eq!(st(&m, "blankline.test", "mtasts.fetch"), ["pass"]);
    assert_eq!(st(&m, "blankline.test", "mtasts.policy"), ["warn"]);
    assert!(
        says("blankline.test", "mtasts.policy").starts_with("line 2: blank line:"),
        "{}",
        run.stdout
    );
    assert_eq!(st(&m, "blankline.test", "mtasts.mx-match"), ["pass"]);
}

/// A second `mode` that is no mode is ignored (RFC 8461 §3.2: all but the first copy are), so
/// the policy is the enforce policy of its first line: a warn naming the line, the MX matched
/// and a covered MX's wrong-name certificate a failure. It failed the whole policy, mx-match
/// said senders had no policy and the certificate stayed a warn.
#[test]
fn an_invalid_second_copy_of_a_field_warns_and_the_first_stays_in_force() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&["dupbad.test", "--only", "mtasts.*", "--only", "tls.*"]);
    assert_eq!(
        st(&m, "dupbad.test", "mtasts.policy"),
        ["warn"],
        "{}",
        run.stdout
    );
    let policy = line_of(&lines, "dupbad.test", "mtasts.policy");
    let summary = policy["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("line 5: mode given again as 'enforced', which is not a valid mode"),
        "{summary}"
    );
    assert!(summary.contains("'enforce' (line 2)"), "{summary}");
    assert_eq!(policy["evidence"]["mode"], "enforce", "{policy}");
    assert_eq!(st(&m, "dupbad.test", "mtasts.mx-match"), ["pass"]);
    assert_eq!(st(&m, "dupbad.test", "tls.cert.name"), ["fail"]);
    assert_eq!(run.code, 40, "{}", run.stderr);
}

/// The charset of a text/plain policy passed unjudged whatever it was. RFC 8461 §3.2 heeds only
/// charset=utf-8 or us-ascii, postfix-mta-sts-resolver decodes by the declared one: quoted or in
/// capitals, utf-8 passes; iso-8859-1 is info; utf-16 warns (no policy for senders that decode
/// by it); no charset over UTF-8 text outside ASCII warns (read as ASCII).
#[test]
fn the_charset_of_a_served_policy_is_judged() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&[
        "csquoted.test",
        "cslatin1.test",
        "csutf16.test",
        "csnone8.test",
        "--only",
        "mtasts.*",
    ]);
    let fetch = |d: &str| {
        let c = line_of(&lines, d, "mtasts.fetch");
        (
            c["status"].as_str().unwrap().to_string(),
            c["summary"].as_str().unwrap().to_string(),
        )
    };
    let (s, why) = fetch("csquoted.test");
    assert_eq!(s, "pass", "{why}");
    let (s, why) = fetch("cslatin1.test");
    assert_eq!(s, "info", "{why}");
    assert!(why.contains("charset=iso-8859-1 is ignored"), "{why}");
    let (s, why) = fetch("csutf16.test");
    assert_eq!(s, "warn", "{why}");
    assert!(
        why.contains("charset=utf-16 is not ASCII-compatible"),
        "{why}"
    );
    let (s, why) = fetch("csnone8.test");
    assert_eq!(s, "warn", "{why}");
    assert!(why.contains("no charset"), "{why}");
    // The policies themselves are read as UTF-8, as RFC 8461 §3.2 says, whatever is declared.
    for d in ["csquoted.test", "cslatin1.test", "csutf16.test"] {
        assert_eq!(st(&m, d, "mtasts.policy"), ["pass"], "{d}: {}", run.stdout);
        assert_eq!(
            st(&m, d, "mtasts.mx-match"),
            ["pass"],
            "{d}: {}",
            run.stdout
        );
    }
    assert_eq!(st(&m, "csnone8.test", "mtasts.policy"), ["info"]);
}

/// When the `_mta-sts` TXT lookup itself fails, the policy rows do not claim there is no valid
/// record: nobody knows.
#[test]
fn a_failed_mta_sts_lookup_is_not_reported_as_no_record() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&["sfail.test", "--only", "mtasts.*"]);
    assert_eq!(
        st(&m, "sfail.test", "mtasts.txt"),
        ["error"],
        "{}",
        run.stdout
    );
    for id in ["mtasts.fetch", "mtasts.policy", "mtasts.mx-match"] {
        let c = line_of(&lines, "sfail.test", id);
        assert_eq!(c["status"], "skip", "{c}");
        let summary = c["summary"].as_str().unwrap();
        assert!(!summary.contains("no valid MTA-STS record"), "{c}");
        assert!(summary.contains("could not be looked up"), "{c}");
    }
    assert_eq!(run.code, 41);
}

/// A domain given twice (another case, a trailing dot, in a list file too) is one domain:
/// checked once, counted once, one JUnit testsuite.
#[test]
fn a_domain_listed_twice_is_checked_and_counted_once() {
    let lab = Lab::start();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("domains.txt");
    std::fs::write(&list, "sts.test\nSTS.test\n# again\nsts.test.\ngood.test\n").unwrap();
    let junit = dir.path().join("report.xml");
    let at = format!("@{}", list.display());
    let (run, _, lines) = lab.json(&[
        "sts.test",
        &at,
        "GOOD.TEST",
        "--only",
        "mtasts.txt",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let domains: Vec<&str> = lines
        .iter()
        .filter(|v| v["type"] == "domain")
        .map(|v| v["domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains.len(), 2, "{domains:?}");
    assert!(domains.contains(&"sts.test"), "{domains:?}");
    assert!(domains.contains(&"good.test"), "{domains:?}");
    let summary = lines.iter().find(|v| v["type"] == "summary").unwrap();
    assert_eq!(summary["domains"], 2, "{summary}");
    let checks = lines.iter().filter(|v| v["type"] == "check").count();
    assert_eq!(checks, 2, "{}", run.stdout);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 2, "{xml}");
}

/// A policy host that serves plain HTTP where HTTPS is due (RFC 8461 §3.3) is told so, with
/// what it sent; the advice about SMTP ports and greetings of the SMTP probes is no help there.
#[test]
fn a_policy_host_without_tls_is_told_about_https_not_smtp_ports() {
    use std::io::{Read, Write};
    let lab = Lab::start();
    let plain = TcpListener::bind((lab.https_ip, 0)).unwrap();
    let port = plain.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in plain.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"HTTP/1.0 400 Bad request\r\n\r\n<!DOCTYPE HTML>");
        }
    });
    let mut args = lab.args(&["--json", "sts.test", "--only", "mtasts.*"]);
    let at = args.iter().position(|a| a == "--mta-sts-port").unwrap();
    args[at + 1] = port.to_string();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = ehlo_with(&refs, None, Duration::from_secs(60));
    let fetch = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["id"] == "mtasts.fetch")
        .unwrap_or_else(|| panic!("{}", run.all()));
    assert_eq!(fetch["status"], "fail", "{fetch}");
    let said = fetch["summary"].as_str().unwrap();
    assert!(
        said.contains(&format!(
            "the policy host did not answer with TLS on port {port} (it sent \"HTTP/"
        )) && said.contains("RFC 8461 §3.3"),
        "{said}"
    );
    // The random port itself may hold the digits 465 (45465): only advice naming port 465
    // is wrong here.
    let advice = said.replace(&port.to_string(), "");
    assert!(
        !said.contains("STARTTLS") && !said.contains("SMTP") && !advice.contains("465"),
        "{said}"
    );
}

#[test]
fn timeout_zero_means_no_step_limit_for_the_policy_fetch() {
    let lab = Lab::start();
    // The policy host answers after 300 ms: with no per-step limit the fetch waits for it
    // (the --deadline still bounds the run).
    let (run, m, _) = lab.json(&[
        "delayed.test",
        "--only",
        "mtasts.*",
        "--timeout",
        "0",
        "--deadline",
        "30s",
    ]);
    assert_eq!(
        st(&m, "delayed.test", "mtasts.fetch"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(st(&m, "delayed.test", "mtasts.policy"), ["pass"]);
}

/// A policy host that sends its response head and then stalls: the error says how long the
/// fetch waited (three steps of `--timeout`, not one) and how much had arrived, as the SMTP
/// probes' timeouts say what came; it said only "no complete response within the timeout".
/// It names the policy's whole URL.
#[test]
fn a_stalled_policy_fetch_says_how_long_it_waited_and_what_arrived() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&["slowpolicy.test", "--only", "mtasts.*", "--timeout", "1s"]);
    assert_eq!(
        st(&m, "slowpolicy.test", "mtasts.fetch"),
        ["error"],
        "{}",
        run.stdout
    );
    let s = summary_of(&lines, "slowpolicy.test", "mtasts.fetch");
    // It names the URL fetched, as RFC 8461 §3.3 gives it (it named the host's root, `/`).
    assert!(
        s.starts_with("https://mta-sts.slowpolicy.test/.well-known/mta-sts.txt: "),
        "{s}"
    );
    // The head the fixture sends: "HTTP/1.1 200 OK", the Content-Type line, the blank line.
    assert!(
        s.ends_with(
            "no complete response within 3 s (three steps of --timeout 1 s): 45 bytes of the \
             response had arrived"
        ),
        "{s}"
    );
    assert_eq!(
        line_of(&lines, "slowpolicy.test", "mtasts.fetch")["evidence"]["received"],
        45
    );
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
}

#[test]
fn a_testing_policy_makes_a_covered_mx_certificate_failure_count() {
    let lab = Lab::start();
    // Without a policy the wrong-name certificate of a port-25 MX is only a warning…
    let (run, m, _) = lab.json(&["wrongname.test", "--only", "tls.*"]);
    assert_eq!(st(&m, "wrongname.test", "tls.cert.name"), ["warn"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // …under an MTA-STS testing policy covering the MX it is a failure, and the run fails.
    let (run, m, lines) = lab.json(&["testingbad.test", "--only", "tls.*", "--only", "mtasts.*"]);
    assert_eq!(st(&m, "testingbad.test", "mtasts.mx-match"), ["pass"]);
    assert_eq!(
        st(&m, "testingbad.test", "tls.cert.name"),
        ["fail"],
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 40, "{}", run.stdout);
    let name = lines
        .iter()
        .find(|v| v["domain"] == "testingbad.test" && v["id"] == "tls.cert.name")
        .unwrap();
    assert!(
        name["summary"]
            .as_str()
            .unwrap()
            .contains("MTA-STS testing"),
        "{name}"
    );
}

#[test]
fn cert_days_makes_a_certificate_expiring_within_that_window_warn() {
    let lab = Lab::start();
    // The good certificate runs until 4096: fine under the default 14 days…
    let (_, m, lines) = lab.json(&["good.test", "--only", "tls.cert.expiry"]);
    assert_eq!(st(&m, "good.test", "tls.cert.expiry"), ["pass"]);
    let days = lines.iter().find(|v| v["id"] == "tls.cert.expiry").unwrap()["evidence"]["days"]
        .as_i64()
        .unwrap();
    // …but it expires within a window one day longer than what it has left.
    let window = (days + 1).to_string();
    let (run, m, lines) = lab.json(&[
        "good.test",
        "--only",
        "tls.cert.expiry",
        "--cert-days",
        &window,
    ]);
    assert_eq!(
        st(&m, "good.test", "tls.cert.expiry"),
        ["warn"],
        "{}",
        run.stdout
    );
    let c = lines.iter().find(|v| v["id"] == "tls.cert.expiry").unwrap();
    assert!(
        c["summary"]
            .as_str()
            .unwrap()
            .contains(&format!("under {window}")),
        "{c}"
    );
    // A warning is not a failure unless --fail-on warn says so.
    assert_eq!(run.code, 0, "{}", run.stdout);
    let run = lab.run(&[
        "good.test",
        "--only",
        "tls.cert.expiry",
        "--cert-days",
        &window,
        "--fail-on",
        "warn",
    ]);
    assert_eq!(run.code, 40, "{}", run.stdout);
}

#[test]
fn mx_targets_without_an_address_or_in_special_purpose_space_fail() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&["noaddr.test", "--only", "mx.*"]);
    assert_eq!(
        st(&m, "noaddr.test", "mx.target"),
        ["fail"],
        "{}",
        run.stdout
    );
    let c = lines.iter().find(|v| v["id"] == "mx.target").unwrap();
    assert!(
        c["summary"].as_str().unwrap().contains("mx-none.lab.test"),
        "{c}"
    );
    assert_eq!(run.code, 40, "{}", run.stdout);
    // The lab's MX hosts live in 127/8: without --allow-private they are refused, not probed.
    let args: Vec<String> = lab
        .args(&["--json", "good.test", "--only", "mx.*", "--only", "smtp.*"])
        .into_iter()
        .filter(|a| a != "--allow-private")
        .collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = ehlo_with(&refs, None, Duration::from_secs(60));
    let target = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["id"] == "mx.target")
        .unwrap_or_else(|| panic!("no mx.target: {}", run.stdout));
    assert_eq!(target["status"], "fail", "{target}");
    assert!(
        target["summary"]
            .as_str()
            .unwrap()
            .contains("special-purpose"),
        "{target}"
    );
    assert_eq!(run.code, 40, "{}", run.stdout);
    // Refused means not probed: nothing connected to the MX.
    assert_eq!(lab.taps["good"].connections.load(Ordering::SeqCst), 0);
}

#[test]
fn opt_in_probes_rcpt_relay_and_tls_versions() {
    let lab = Lab::start();
    let domains = ["good.test", "strict.test", "plain.test"];
    // Not asked for: not run, and an expectation about them is a usage error.
    let (_, m, _) = lab.json(&domains);
    assert!(
        m.keys().all(
            |(_, id)| !["smtp.postmaster", "smtp.open-relay", "tls.versions"]
                .contains(&id.as_str())
        ),
        "{m:?}"
    );
    let r = lab.run(&["good.test", "--expect", "smtp.postmaster=pass"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("--rcpt-probe"), "{}", r.stderr);
    let before = lab.taps["good"].connections.load(Ordering::SeqCst);

    let mut args = domains.to_vec();
    args.extend([
        "--rcpt-probe",
        "--relay-probe",
        "--tls-probe",
        "--skip",
        "*.record",
    ]);
    let (run, m, lines) = lab.json(&args);
    // ehlo serve accepts every recipient: postmaster yes, but also an outside domain.
    assert_eq!(
        st(&m, "good.test", "smtp.postmaster"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(st(&m, "good.test", "smtp.open-relay"), ["fail"]);
    // The strict server refuses every RCPT: no relaying, but no postmaster either.
    assert_eq!(st(&m, "strict.test", "smtp.postmaster"), ["fail"]);
    assert_eq!(st(&m, "strict.test", "smtp.open-relay"), ["pass"]);
    // TLS 1.2 and 1.3 accepted, the obsolete versions refused (Mozilla intermediate profile).
    assert_eq!(st(&m, "good.test", "tls.versions"), ["pass"]);
    assert_eq!(st(&m, "plain.test", "tls.versions"), ["skip"]);
    let tv = lines
        .iter()
        .find(|v| v["domain"] == "good.test" && v["id"] == "tls.versions")
        .unwrap();
    assert_eq!(
        tv["evidence"]["accepted"],
        serde_json::json!(["1.2", "1.3"]),
        "{tv}"
    );
    assert_eq!(
        tv["evidence"]["refused"],
        serde_json::json!(["1.0", "1.1"]),
        "{tv}"
    );
    let relay = lines
        .iter()
        .find(|v| v["domain"] == "good.test" && v["id"] == "smtp.open-relay")
        .unwrap();
    assert_eq!(
        relay["evidence"]["rcpt"], "relay-probe@example.net",
        "{relay}"
    );
    assert_eq!(run.code, 40, "{}", run.all());
    // One main session, one relay session, four TLS versions, one postmaster session.
    assert_eq!(
        lab.taps["good"].connections.load(Ordering::SeqCst) - before,
        7
    );
    // MAIL and RCPT went out, DATA never did; every session ended with QUIT.
    let cmds = lab.taps["good"].commands.lock().unwrap().clone();
    let upper: Vec<String> = cmds.iter().map(|c| c.to_ascii_uppercase()).collect();
    assert!(
        upper
            .iter()
            .any(|c| c.starts_with("MAIL FROM:<> ") || c == "MAIL FROM:<>"),
        "{cmds:?}"
    );
    assert!(
        upper.iter().any(|c| c == "RCPT TO:<POSTMASTER@GOOD.TEST>"),
        "{cmds:?}"
    );
    assert!(
        upper
            .iter()
            .any(|c| c == "RCPT TO:<RELAY-PROBE@EXAMPLE.NET>"),
        "{cmds:?}"
    );
    assert!(
        !upper
            .iter()
            .any(|c| c.starts_with("DATA") || c.starts_with("BDAT")),
        "{cmds:?}"
    );
    // The expectation is met once the probe runs.
    let ok = lab.run(&[
        "good.test",
        "--rcpt-probe",
        "--expect",
        "smtp.postmaster=pass",
    ]);
    assert_eq!(ok.code, 0, "{}", ok.all());
}

#[test]
fn hostile_servers_get_a_clear_verdict_in_bounded_time_and_memory() {
    let lab = Lab::start();
    let args = lab.args(&[
        "garbage.test",
        "trickle.test",
        "flood.test",
        "cutoff.test",
        "silent.test",
        "--json",
        "--timeout",
        "2s",
        "--only",
        "smtp.*",
        "--only",
        "tls.*",
    ]);
    let t0 = std::time::Instant::now();
    let (mut child, rx, stderr) = spawn_ehlo(&args);
    let (code, peak_kib) = wait_sampling(&mut child, Duration::from_secs(60));
    let elapsed = t0.elapsed();
    let lines: Vec<Value> = rx
        .try_iter()
        .map(|l| serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let stderr = stderr.join().unwrap();
    let mut m: Statuses = HashMap::new();
    for v in &lines {
        if v["type"] == "check" {
            m.entry((
                v["domain"].as_str().unwrap().into(),
                v["id"].as_str().unwrap().into(),
            ))
            .or_default()
            .push(v["status"].as_str().unwrap().into());
        }
    }
    let dump = || format!("{lines:#?}\n{stderr}");
    // Every server is bounded by the 2 s step timeout (all five run at once).
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}\n{}", dump());
    // 1 MiB lines without end: the reply buffer is capped, memory stays flat.
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB\n{}", dump());
    // Not SMTP at all: a broken server, not a retryable one.
    assert_eq!(
        st(&m, "garbage.test", "smtp.banner"),
        ["fail"],
        "{}",
        dump()
    );
    assert_eq!(st(&m, "flood.test", "smtp.banner"), ["fail"], "{}", dump());
    // Too slow to finish a reply within the step timeout: could not test.
    assert_eq!(
        st(&m, "trickle.test", "smtp.banner"),
        ["error"],
        "{}",
        dump()
    );
    assert_eq!(
        st(&m, "silent.test", "smtp.banner"),
        ["error"],
        "{}",
        dump()
    );
    // STARTTLS offered, the connection cut in the handshake: a handshake failure.
    assert_eq!(
        st(&m, "cutoff.test", "tls.starttls"),
        ["pass"],
        "{}",
        dump()
    );
    assert_eq!(
        st(&m, "cutoff.test", "tls.handshake"),
        ["fail"],
        "{}",
        dump()
    );
    for d in ["garbage.test", "flood.test", "trickle.test", "cutoff.test"] {
        assert_eq!(st(&m, d, "tls.cert.chain"), ["skip"], "{d}: {}", dump());
    }
    let summary = |d: &str, id: &str| {
        lines
            .iter()
            .find(|v| v["domain"] == d && v["id"] == id)
            .map(|v| v["summary"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert!(
        summary("garbage.test", "smtp.banner").starts_with("not an SMTP greeting: no reply code"),
        "{}",
        dump()
    );
    assert!(
        summary("flood.test", "smtp.banner").contains("limit"),
        "{}",
        dump()
    );
    assert!(
        summary("trickle.test", "smtp.banner").contains("timed out"),
        "{}",
        dump()
    );
    assert_eq!(code, 40, "{}", dump());
}

#[test]
fn an_oversized_multi_line_220_greeting_fails_with_a_short_report() {
    let lab = Lab::start();
    let only = ["--only", "smtp.*", "--only", "tls.*"];
    let mut a = vec!["biggreet.test"];
    a.extend(only);
    let (run, m, lines) = lab.json(&a);
    // Past the reply size limit: not SMTP (fail, exit 40), never a passing greeting followed by
    // a "could not test" EHLO (exit 41).
    assert_eq!(
        st(&m, "biggreet.test", "smtp.banner"),
        ["fail"],
        "{}",
        run.stderr
    );
    assert_eq!(
        st(&m, "biggreet.test", "smtp.ehlo"),
        ["skip"],
        "{}",
        run.stderr
    );
    assert_eq!(run.code, 40, "{}", run.stderr);
    let b = lines.iter().find(|v| v["id"] == "smtp.banner").unwrap();
    let summary = b["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("not an SMTP greeting: a reply too large"),
        "{summary}"
    );
    assert!(
        b.to_string().len() < 2000,
        "a check line of {} bytes",
        b.to_string().len()
    );
    // The human report and the JUnit file stay small.
    let junit = tempfile::NamedTempFile::new().unwrap();
    let path = junit.path().display().to_string();
    let mut a = vec!["biggreet.test", "--color", "never", "--junit", &path];
    a.extend(only);
    let human = lab.run(&a);
    assert_eq!(human.code, 40, "{}", human.stderr);
    assert!(
        human.stdout.lines().all(|l| l.len() < 500),
        "a report line of {} bytes",
        human.stdout.lines().map(str::len).max().unwrap_or(0)
    );
    let xml = std::fs::read_to_string(junit.path()).unwrap();
    assert!(xml.len() < 20_000, "a JUnit file of {} bytes", xml.len());
    assert!(xml.contains("not an SMTP greeting"), "{xml}");
}

#[test]
fn ctrl_c_prints_the_partial_report_and_writes_the_junit() {
    stopped_by_a_signal("INT", "Ctrl-C");
}

/// SIGTERM (a CI job cancelled, timeout(1)) stops the run as Ctrl-C does: the partial report,
/// the JUnit file, 41 — not a run killed with no report.
#[test]
fn sigterm_prints_the_partial_report_and_writes_the_junit() {
    stopped_by_a_signal("TERM", "SIGTERM");
}

/// SIGQUIT (Ctrl-\) too: left to its default action it killed the run with no report, for a
/// core dump ehlo never writes.
#[test]
fn sigquit_prints_the_partial_report_and_writes_the_junit() {
    stopped_by_a_signal("QUIT", "SIGQUIT");
}

fn stopped_by_a_signal(sig: &str, why: &str) {
    let lab = Lab::start();
    let junit = tempfile::NamedTempFile::new().unwrap();
    let path = junit.path().display().to_string();
    let args = lab.args(&[
        "good.test",
        "silent.test",
        "--timeout",
        "60s",
        "--json",
        "--junit",
        &path,
    ]);
    let (mut child, rx, stderr) = spawn_ehlo(&args);
    // good.test is done (its domain line is out); silent.test waits for a greeting.
    let mut lines = Vec::new();
    let t0 = std::time::Instant::now();
    loop {
        let l = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("good.test's report within 30 s");
        let done = l.contains(r#""type":"domain""#) && l.contains("good.test");
        lines.push(l);
        if done {
            break;
        }
    }
    std::process::Command::new("kill")
        .args([format!("-{sig}"), child.id().to_string()])
        .status()
        .unwrap();
    let (code, _) = wait_sampling(&mut child, Duration::from_secs(20));
    lines.extend(rx.try_iter());
    let stderr = stderr.join().unwrap();
    let all = format!("{}\n{stderr}", lines.join("\n"));
    // Well before the 60 s step timeout.
    assert!(t0.elapsed() < Duration::from_secs(40), "{all}");
    // Nothing failed, one domain could not be finished: 41.
    assert_eq!(code, 41, "{all}");
    let v: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let silent = v
        .iter()
        .find(|x| x["type"] == "domain" && x["domain"] == "silent.test")
        .unwrap_or_else(|| panic!("no silent.test line: {all}"));
    assert_eq!(silent["status"], "error", "{all}");
    assert!(silent["error"].as_str().unwrap().contains(why), "{all}");
    let summary = v.last().unwrap();
    assert_eq!(summary["type"], "summary", "{all}");
    assert_eq!(summary["exit_code"], 41, "{all}");
    assert!(summary["stopped"].as_str().unwrap().contains(why), "{all}");
    // The JUnit report has both suites: what was done, and what was cut short.
    let xml = std::fs::read_to_string(junit.path()).unwrap();
    assert!(xml.contains(r#"<testsuite name="good.test""#), "{xml}");
    assert!(xml.contains(r#"<testsuite name="silent.test""#), "{xml}");
}

#[test]
fn a_progress_bar_on_a_terminal_only() {
    let lab = Lab::start();
    let (code, stdout, term) = stderr_on_a_terminal(&lab, Some("xterm"));
    assert_eq!(code, 41, "{stdout}\n{term}");
    assert!(
        term.contains("domains checked"),
        "no bar on the terminal: {term:?}"
    );
    assert!(term.contains("/2"), "{term:?}");
    assert!(!stdout.contains("domains checked"), "{stdout}");
    assert!(stdout.contains("good.test  ✓ PASS"), "{stdout}");

    // A terminal that cannot clear a row (Emacs' `M-x shell` says `TERM=dumb`; no `TERM` is
    // taken the same way, as the REPL does): the bar's `ESC[2K` would show as text, a copy of
    // the bar per redraw. No bar there, and nothing but the report's own lines.
    for dumb in [Some("dumb"), None] {
        let (code, stdout, term) = stderr_on_a_terminal(&lab, dumb);
        assert_eq!(code, 41, "{dumb:?}: {stdout}\n{term}");
        assert!(!term.contains("domains checked"), "{dumb:?}: {term:?}");
        assert!(!term.contains('\x1b'), "{dumb:?}: {term:?}");
        assert!(stdout.contains("good.test  ✓ PASS"), "{stdout}");
    }

    // Not a terminal (CI logs, files), or JSON: no bar at all.
    let r = lab.run(&["good.test", "silent.test", "--timeout", "1s"]);
    assert!(!r.all().contains("domains checked"), "{}", r.all());
    let r = lab.run(&["good.test", "--json"]);
    assert!(!r.all().contains("domains checked"), "{}", r.all());
}

/// `ehlo check good.test silent.test` with stderr on a pseudo-terminal (`TERM` as given, unset
/// for `None`) and stdout into a pipe (a report piped to a file or a pager): the exit code,
/// stdout, and what the terminal got.
fn stderr_on_a_terminal(lab: &Lab, term: Option<&str>) -> (i32, String, String) {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // silent.test keeps the run going for the 1 s step timeout: time for the bar to draw.
    let args = lab.args(&["good.test", "silent.test", "--timeout", "1s"]);
    let pty = nix::pty::openpty(None, None).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CI");
    match term {
        Some(t) => cmd.env("TERM", t),
        None => cmd.env_remove("TERM"),
    };
    isolate(&mut cmd);
    cmd.args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(pty.slave));
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    let mut master = std::fs::File::from(pty.master);
    let term = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        // EIO once the child (the last holder of the terminal) is gone.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let stdout = read_to_end(child.stdout.take().unwrap());
    let (code, _) = wait_sampling(&mut child, Duration::from_secs(30));
    (code, stdout, term.join().unwrap())
}

/// Ctrl-C on a terminal leaves no bar behind. The terminal echoes `^C` where the cursor is; a bar
/// that parked the cursor at the right edge had the echo wrap to a new row, and the final clear
/// erased only that row, so the bar stayed on the screen above the interrupted report. Here the
/// report and the bar share one terminal (a screen tall enough that nothing scrolls away), the `^C` is
/// typed on it, and the screen is read as a terminal emulator shows it. The same at widths where
/// the old bar's text (57 columns) ended at the right edge (57, 19: three full rows) or one column
/// before it (29), where the echo's `C` wrapped to a row of its own, and at 20 and 40 columns.
#[test]
fn ctrl_c_on_a_terminal_leaves_no_progress_bar_on_the_screen() {
    let lab = Lab::start();
    for cols in [80u16, 57, 40, 29, 20, 19] {
        ctrl_c_on_a_terminal_of(&lab, cols);
    }
}

fn ctrl_c_on_a_terminal_of(lab: &Lab, cols: u16) {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    // silent.test holds the run for its 20 s step timeout: Ctrl-C comes while the bar is drawn.
    let args = lab.args(&["good.test", "silent.test", "--timeout", "20s"]);
    // Tall enough that nothing scrolls away (the report wraps a lot at 19 columns).
    let rows = 3000u16;
    let size = nix::pty::Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(&size, None).unwrap();
    let tty = || Stdio::from(pty.slave.try_clone().unwrap());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CI");
    isolate(&mut cmd);
    cmd.args(&args).stdin(tty()).stdout(tty()).stderr(tty());
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    // Kept open until ehlo is gone, so that the line discipline still echoes.
    let slave = pty.slave;
    let mut master = std::fs::File::from(pty.master);
    let written = Arc::new(Mutex::new(Vec::new()));
    let (mut rd, log) = (master.try_clone().unwrap(), written.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = rd.read(&mut buf) {
            if n == 0 {
                break;
            }
            log.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let seen = |what: &str| String::from_utf8_lossy(&written.lock().unwrap()).contains(what);
    let until = |what: &str| {
        let t0 = std::time::Instant::now();
        while !seen(what) {
            assert!(
                t0.elapsed() < Duration::from_secs(15),
                "no {what:?} on the terminal: {:?}",
                String::from_utf8_lossy(&written.lock().unwrap())
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // good.test's report is out and the bar drawn again under it (1/2).
    until("1/2");
    std::thread::sleep(Duration::from_millis(300));
    // Ctrl-C typed: the terminal echoes `^C`. ehlo has no controlling terminal here, so the
    // signal the terminal would send its foreground group is sent by hand, after the echo.
    master.write_all(b"\x03").unwrap();
    until("^C");
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let (code, _) = wait_sampling(&mut child, Duration::from_secs(30));
    // Everything ehlo wrote has been read once the reader has drained the terminal.
    std::thread::sleep(Duration::from_millis(300));
    drop(slave);
    let bytes = written.lock().unwrap().clone();
    let mut screen = vt100::Parser::new(rows.try_into().unwrap(), cols.try_into().unwrap(), 0);
    screen.process(&bytes);
    let shown = screen.screen().contents();
    assert_eq!(code, 41, "{shown}");
    // At 19 or 20 columns "…: the report is partial" is cut to the width like every row.
    let words = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("interrupted (Ctrl-C)"), "{shown}");
    assert!(shown.contains("good.test  ✓ PASS"), "{shown}");
    for bar in ["domains checked", "1/2", "0/2"] {
        assert!(
            !shown.contains(bar),
            "{cols} columns: the bar is left on the screen:\n{shown}"
        );
    }
    assert!(!shown.contains("^C"), "{cols} columns: {shown}");
    // The echo's `C` wrapped to a row of its own is gone with the bar too.
    assert!(
        !shown.lines().any(|l| l.trim() == "C"),
        "{cols} columns: {shown}"
    );
}

/// A terminal narrower than the bar's text: the bar is fitted to the width on every draw, so it
/// never wraps. indicatif counts the rows a wrapped bar takes and moves up that many to redraw
/// it; the bar's text wrapped at 20 and 40 columns left a stale row of it between the report's
/// lines (and a bar cut to the width without indicatif knowing would have its redraw move up over
/// report lines). Report and bar share one terminal here, as on a person's screen; what the
/// screen shows at the end is the report as written to a pipe (its lines cut to the width),
/// nothing of the bar.
#[test]
fn a_narrow_terminal_keeps_no_stale_bar_row_and_loses_no_report_line() {
    let lab = Lab::start();
    // silent.test holds the run for its 1 s step timeout while the others are done: the bar is
    // drawn, then steps aside for the reports held back behind it, then is cleared.
    let domains = [
        "good.test",
        "mixed.test",
        "silent.test",
        "twomx.test",
        "plainfirst.test",
        "busy.test",
    ];
    let mut extra = domains.to_vec();
    extra.extend(["--timeout", "1s", "--color", "never"]);
    // Digits vary from run to run (times); the layout must not.
    let shape = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| {
                let mut out = String::new();
                for c in l.trim_end().chars() {
                    if c.is_ascii_digit() {
                        if !out.ends_with('#') {
                            out.push('#');
                        }
                    } else {
                        out.push(c);
                    }
                }
                out
            })
            .collect()
    };
    let piped = lab.run(&extra);
    assert_eq!(piped.code, 40, "{}", piped.all());
    let want = shape(&piped.stdout);
    assert!(want.iter().any(|l| l == "busy.test  ? ERROR"), "{want:?}");
    let args = lab.args(&extra);
    for cols in [20u16, 40] {
        // Tall enough that nothing scrolls away (the report wraps a lot at 20 columns).
        let rows = 6000u16;
        let (code, bytes) = terminal_run(&args, rows, cols, false, true);
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        assert_eq!(code, 40, "{raw:?}");
        // The bar was drawn (as much of it as fits) …
        assert!(raw.contains("/6"), "{cols} columns: no bar: {raw:?}");
        let mut screen = vt100::Parser::new(rows.try_into().unwrap(), cols.try_into().unwrap(), 0);
        screen.process(&bytes);
        // … and the screen is the report: no row of the bar, no word of the report lost (its
        // lines are cut to the terminal's width there, so the words are compared, in order).
        let shown = screen.screen().contents();
        let words = |lines: &[String]| -> Vec<String> {
            lines
                .iter()
                .flat_map(|l| l.split_whitespace().map(str::to_string))
                .collect()
        };
        assert_eq!(
            words(&shape(&shown)),
            words(&want),
            "{cols} columns:\n{shown}\nraw: {raw:?}"
        );
    }
}

/// The report on a terminal narrower than its rows: ehlo cuts its lines at spaces to the
/// terminal's width (a result goes on under its status word), where they ran past the right
/// edge and the terminal went on at column 0, through the column of the ids. Every line fits,
/// no word is lost or changed (the pipe's report, word for word), and the status word is still
/// painted. A pipe keeps one line per result.
#[test]
fn the_report_is_cut_to_a_narrow_terminal() {
    use unicode_width::UnicodeWidthStr;
    let lab = Lab::start();
    let extra = ["good.test", "mixed.test", "--color", "always"];
    let plain = plain_text;
    // Digits vary from run to run (times); the words must not.
    let words = |s: &str| -> Vec<String> {
        s.split_whitespace()
            .map(|w| w.replace(|c: char| c.is_ascii_digit(), "#"))
            .collect()
    };
    let piped = lab.run(&extra);
    assert_eq!(piped.code, 40, "{}", piped.all());
    let piped_text = plain(&piped.stdout);
    assert!(
        piped_text.lines().any(|l| l.width() > 60),
        "no row to cut: {piped_text}"
    );
    let args = lab.args(&extra);
    for cols in [40u16, 60] {
        let (code, raw) = on_a_terminal(&args, cols);
        assert_eq!(code, 40, "{raw:?}");
        let text = plain(&raw);
        for l in text.lines() {
            assert!(
                l.width() <= usize::from(cols),
                "{cols} columns: {l:?} is wider:\n{text}"
            );
        }
        assert_eq!(words(&text), words(&piped_text), "{cols} columns:\n{text}");
        // A result cut to the width goes on under its status word.
        assert!(
            text.lines()
                .any(|l| l.starts_with("    ") && !l.starts_with("     ")),
            "{cols} columns:\n{text}"
        );
        assert!(raw.contains("\x1b["), "{cols} columns: no colour: {raw:?}");
    }
}

/// `ehlo ARGS` with stdout a terminal `cols` columns wide (colour on, as a person's terminal):
/// the exit code and every byte written to it.
fn on_a_terminal(args: &[String], cols: u16) -> (i32, String) {
    let (code, bytes) = terminal_run(args, 200, cols, true, false);
    (code, String::from_utf8_lossy(&bytes).into_owned())
}

/// `ehlo ARGS` with stdout (and stderr when `stderr`) a terminal of `rows` × `cols`, colour on
/// or off (`NO_COLOR`): the exit code and every byte written to the terminal.
fn terminal_run(
    args: &[String],
    rows: u16,
    cols: u16,
    colour: bool,
    stderr: bool,
) -> (i32, Vec<u8>) {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let size = nix::pty::Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(&size, None).unwrap();
    let tty = || Stdio::from(pty.slave.try_clone().unwrap());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    if colour {
        cmd.env_remove("NO_COLOR");
    } else {
        cmd.env("NO_COLOR", "1");
    }
    cmd.env("TERM", "xterm")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CI");
    isolate(&mut cmd);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(tty())
        .stderr(if stderr { tty() } else { Stdio::null() });
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    let slave = pty.slave;
    let mut master = std::fs::File::from(pty.master);
    let written = Arc::new(Mutex::new(Vec::new()));
    let log = written.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            log.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let (code, _) = wait_sampling(&mut child, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    drop(slave);
    let bytes = written.lock().unwrap().clone();
    (code, bytes)
}

/// The text a terminal shows of `raw`: colour sequences and carriage returns left out.
fn plain_text(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                chars.by_ref().find(|&c| c == 'm');
            }
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// The domain's header and the "the report is partial" line are cut to a narrow terminal as
/// the result rows are: at 40 columns they ran past the right edge (43 and 60 columns), and
/// the terminal went on at column 0. The verdict goes on the next row under the name, whole
/// and still painted; the partial line goes on under its status word; no word is lost.
#[test]
fn the_header_and_the_partial_line_are_cut_to_a_narrow_terminal() {
    use unicode_width::UnicodeWidthStr;
    let lab = Lab::start();
    let name = "a-name-nobody-has-here-at.good.test";
    let extra = [
        name,
        "silent.test",
        "--timeout",
        "30s",
        "--deadline",
        "2s",
        "--only",
        "mx.lookup",
        "--only",
        "smtp.*",
        "--color",
        "always",
    ];
    // The name does not exist (a fail); the silent MX is cut by the deadline (41 whatever the
    // domains reached found).
    let piped = lab.run(&extra);
    assert_eq!(piped.code, 41, "{}", piped.all());
    let piped_text = plain_text(&piped.stdout);
    let header = format!("{name}  ✗ FAIL");
    assert!(header.width() > 40, "{header}");
    assert!(piped_text.lines().any(|l| l == header), "{piped_text}");
    assert!(
        piped_text
            .lines()
            .any(|l| l == "? error deadline reached (--deadline): the report is partial"),
        "{piped_text}"
    );
    let (code, raw) = on_a_terminal(&lab.args(&extra), 40);
    assert_eq!(code, 41, "{raw:?}");
    let text = plain_text(&raw);
    for l in text.lines() {
        assert!(l.width() <= 40, "{l:?} is wider:\n{text}");
    }
    let words = |s: &str| -> Vec<String> {
        s.split_whitespace()
            .map(|w| w.replace(|c: char| c.is_ascii_digit(), "#"))
            .collect()
    };
    assert_eq!(words(&text), words(&piped_text), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| *l == name).expect(&text);
    assert_eq!(lines[at + 1], "  ✗ FAIL", "{text}");
    let at = lines
        .iter()
        .position(|l| *l == "? error deadline reached (--deadline):")
        .expect(&text);
    assert_eq!(lines[at + 1], "  the report is partial", "{text}");
    // Painted as before: the verdict and the status word.
    assert!(raw.contains("✗ FAIL\x1b["), "{raw:?}");
    assert!(raw.contains("? error\x1b["), "{raw:?}");
}

#[test]
fn per_ip_limits_the_sessions_open_at_once_to_one_address() {
    let lab = Lab::start();
    // Six domains on one MX whose RCPT replies take 300 ms: their postmaster sessions would
    // all overlap without the limit.
    let domains = [
        "slow.test",
        "slow2.test",
        "slow3.test",
        "slow4.test",
        "slow5.test",
        "slow6.test",
    ];
    let tap = &lab.taps["slow"];
    // --concurrency 1: one domain at a time, so one session at a time whatever --per-ip says.
    for (per_ip, concurrency, most) in [("1", "6", 1), ("3", "6", 3), ("3", "1", 1)] {
        tap.most_open.store(0, Ordering::SeqCst);
        let before = tap.connections.load(Ordering::SeqCst);
        let mut args = domains.to_vec();
        args.extend([
            "--rcpt-probe",
            "--per-ip",
            per_ip,
            "--concurrency",
            concurrency,
            "--only",
            "smtp.*",
        ]);
        let (run, m, _) = lab.json(&args);
        for d in domains {
            assert_eq!(st(&m, d, "smtp.postmaster"), ["pass"], "{}", run.all());
        }
        // One shared main session, then one postmaster session per domain.
        assert_eq!(tap.connections.load(Ordering::SeqCst) - before, 7);
        let seen = tap.most_open.load(Ordering::SeqCst);
        assert!(
            seen >= 1 && seen <= most,
            "--per-ip {per_ip} --concurrency {concurrency}: {seen} sessions at once"
        );
        if most > 1 {
            // The limit is a limit, not a serialisation: sessions do overlap under it.
            assert!(
                seen > 1,
                "--per-ip {per_ip}: never more than one session at once"
            );
        }
    }
}

/// The DNSSEC and DANE checks end to end: an in-process signed zone (`test.`, its key given as
/// `--dns-trust-anchor`) names MX hosts on two `ehlo serve` listeners — one with STARTTLS and an
/// rcgen certificate, one without STARTTLS — and publishes TLSA records that match, do not
/// match, come alone or in rollover pairs, use the PKIX usages, fail validation, or sit under an
/// unsigned delegation.
#[test]
fn dnssec_and_dane_checks_against_a_signed_zone() {
    use ehlo::net::testutil::{SignedDns, Signing};
    use hickory_resolver::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
    use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, MX, NS, TLSA};
    use hickory_resolver::proto::rr::{Name, RData};

    let dir = tempfile::tempdir().unwrap();
    let key = KeyPair::generate().unwrap();
    let spki = openssl::sha::sha256(&rcgen::PublicKeyData::subject_public_key_info(&key)).to_vec();
    let mut p = CertificateParams::new(vec!["mx.dane.test".to_string()]).unwrap();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "mx.dane.test");
    let cert = p.self_signed(&key).unwrap();
    let (crt, k) = (dir.path().join("mx.crt"), dir.path().join("mx.key"));
    std::fs::write(&crt, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();

    // Two listeners on one port of our own 127.b.c.0/24: .1 with STARTTLS, .2 without.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (ips, port, _servers) = 'retry: loop {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as usize
            ^ std::process::id() as usize;
        let (b, c) = (1 + (seed % 250) as u8, 1 + ((seed / 250) % 250) as u8);
        let ips = [Ipv4Addr::new(127, b, c, 1), Ipv4Addr::new(127, b, c, 2)];
        let mut port = 0;
        let mut servers = Vec::new();
        for (i, ip) in ips.iter().enumerate() {
            let mut o = ServeOptions {
                listen: SocketAddr::from((*ip, port)).into(),
                hostname: "mx.dane.test".into(),
                ..ServeOptions::default()
            };
            if i == 0 {
                o.starttls = true;
                o.cert = Some(crt.clone());
                o.key = Some(k.clone());
            }
            match rt.block_on(ehlo::serve::start(o)) {
                Ok(h) => {
                    port = h.addr().port();
                    servers.push(h);
                }
                Err(_) => {
                    for h in servers {
                        rt.block_on(h.shutdown());
                    }
                    continue 'retry;
                }
            }
        }
        break (ips, port, servers);
    };

    let name = |s: &str| Name::from_ascii(s).unwrap();
    let tlsa = |u: CertUsage, data: Vec<u8>| {
        RData::TLSA(TLSA::new(u, Selector::Spki, Matching::Sha256, data))
    };
    let next = vec![0x42; 32];
    // domain → (MX host's address index, TLSA records, how they are signed)
    let cases: Vec<(&str, usize, Vec<RData>, Signing)> = vec![
        (
            "match",
            0,
            vec![
                tlsa(CertUsage::DaneEe, spki.clone()),
                tlsa(CertUsage::DaneEe, next.clone()),
            ],
            Signing::Valid,
        ),
        (
            "single",
            0,
            vec![tlsa(CertUsage::DaneEe, spki.clone())],
            Signing::Valid,
        ),
        (
            "mismatch",
            0,
            vec![
                tlsa(CertUsage::DaneEe, next.clone()),
                tlsa(CertUsage::DaneTa, vec![0x24; 32]),
            ],
            Signing::Valid,
        ),
        (
            "pkix",
            0,
            vec![
                tlsa(CertUsage::PkixEe, spki.clone()),
                tlsa(CertUsage::PkixTa, next.clone()),
            ],
            Signing::Valid,
        ),
        (
            "mixed",
            0,
            vec![
                tlsa(CertUsage::PkixEe, spki.clone()),
                tlsa(CertUsage::DaneEe, spki.clone()),
            ],
            Signing::Valid,
        ),
        (
            "bogus",
            0,
            vec![tlsa(CertUsage::DaneEe, spki.clone())],
            Signing::Tampered,
        ),
        (
            "nostarttls",
            1,
            vec![tlsa(CertUsage::DaneEe, spki.clone())],
            Signing::Valid,
        ),
        ("absent", 0, vec![], Signing::Valid),
    ];
    let mut records: Vec<(String, RData, Signing)> = Vec::new();
    for (d, ip, tlsas, signing) in &cases {
        let (domain, host) = (format!("{d}.test"), format!("mx.{d}.test"));
        records.push((
            domain,
            RData::MX(MX::new(10, name(&format!("{host}.")))),
            Signing::Valid,
        ));
        records.push((host.clone(), RData::A(A(ips[*ip])), Signing::Valid));
        for t in tlsas {
            records.push((format!("_{port}._tcp.{host}"), t.clone(), *signing));
        }
    }
    // An unsigned delegation: the same records, insecure, so no DANE.
    records.push((
        "insecure.test".into(),
        RData::NS(NS(name("ns.insecure.test."))),
        Signing::Unsigned,
    ));
    records.push((
        "insecure.test".into(),
        RData::MX(MX::new(10, name("mx.insecure.test."))),
        Signing::Unsigned,
    ));
    records.push((
        "mx.insecure.test".into(),
        RData::A(A(ips[0])),
        Signing::Unsigned,
    ));
    records.push((
        format!("_{port}._tcp.mx.insecure.test"),
        tlsa(CertUsage::DaneEe, vec![0; 32]),
        Signing::Unsigned,
    ));
    // Signed MX records naming a host the zone securely denies (NXDOMAIN), and one with an
    // IPv6 address only (NODATA under -4): no address to judge.
    for (domain, host) in [("gone.test", "mx.gone.test"), ("bare.test", "mx.bare.test")] {
        records.push((
            domain.into(),
            RData::MX(MX::new(10, name(&format!("{host}.")))),
            Signing::Valid,
        ));
    }
    records.push((
        "mx.bare.test".into(),
        RData::AAAA(AAAA("2001:db8::25".parse().unwrap())),
        Signing::Valid,
    ));
    // A signed MX host that is a CNAME left dangling: its target is securely denied.
    records.push((
        "dangle.test".into(),
        RData::MX(MX::new(10, name("mx.dangle.test."))),
        Signing::Valid,
    ));
    records.push((
        "mx.dangle.test".into(),
        RData::CNAME(CNAME(name("old.dangle.test."))),
        Signing::Valid,
    ));
    let zone = SignedDns::start(
        "test",
        records
            .iter()
            .map(|(n, r, s)| (n.as_str(), r.clone(), *s))
            .collect(),
    );
    let anchor = dir.path().join("anchor.key");
    std::fs::write(&anchor, format!("{}\n", zone.anchor)).unwrap();

    let dns = zone.addr.to_string();
    let port_s = port.to_string();
    let anchor_s = anchor.display().to_string();
    let mut args: Vec<&str> = vec![
        "check",
        "--json",
        "--dns-server",
        &dns,
        "--dns-trust-anchor",
        &anchor_s,
        "--port",
        &port_s,
        "--allow-private",
        "--timeout",
        "5s",
        "--helo",
        "checker.test",
        "-4",
        "--only",
        "dnssec.*",
        "--only",
        "dane.*",
    ];
    let domains: Vec<String> = cases
        .iter()
        .map(|c| format!("{}.test", c.0))
        .chain(["insecure.test", "gone.test", "bare.test", "dangle.test"].map(String::from))
        .collect();
    args.extend(domains.iter().map(String::as_str));
    let run = ehlo_with(&args, None, Duration::from_secs(120));
    let mut m: Statuses = HashMap::new();
    let mut summaries: HashMap<(String, String), Vec<String>> = HashMap::new();
    for l in run.stdout.lines() {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        if v["type"] == "check" {
            let key = (
                v["domain"].as_str().unwrap().to_string(),
                v["id"].as_str().unwrap().to_string(),
            );
            m.entry(key.clone())
                .or_default()
                .push(v["status"].as_str().unwrap().into());
            summaries
                .entry(key)
                .or_default()
                .push(v["summary"].as_str().unwrap().into());
        }
    }
    let s = |d: &str, id: &str| st(&m, d, id).to_vec();
    let says = |d: &str, id: &str, want: &str| {
        let got = summaries
            .get(&(d.to_string(), id.to_string()))
            .unwrap_or_else(|| panic!("no {id} for {d}"));
        assert!(got.iter().any(|x| x.contains(want)), "{d} {id}: {got:?}");
    };
    assert_eq!(run.code, 40, "{}", run.all());

    // Secure, matching, with a rollover pair.
    for id in [
        "dnssec.domain",
        "dnssec.mx",
        "dane.tlsa",
        "dane.usable",
        "dane.rollover",
        "dane.starttls",
        "dane.match",
    ] {
        assert_eq!(s("match.test", id), ["pass"], "{id}: {}", run.stdout);
    }
    says("match.test", "dane.match", "matches depth 0");
    // A single record: works, but a key change would break delivery.
    assert_eq!(s("single.test", "dane.rollover"), ["warn"]);
    assert_eq!(s("single.test", "dane.match"), ["pass"]);
    // Published but matching nothing: a failure naming the digest actually presented.
    assert_eq!(s("mismatch.test", "dane.match"), ["fail"]);
    assert_eq!(s("mismatch.test", "dane.rollover"), ["pass"]);
    says("mismatch.test", "dane.match", "no TLSA record matched");
    // PKIX usages only: ignored by senders (warn), nothing to match.
    assert_eq!(s("pkix.test", "dane.usable"), ["warn"]);
    assert_eq!(s("pkix.test", "dane.match"), ["skip"]);
    assert_eq!(s("pkix.test", "dane.starttls"), ["pass"]);
    says("pkix.test", "dane.usable", "PKIX-EE");
    assert_eq!(s("mixed.test", "dane.usable"), ["warn"]);
    assert_eq!(s("mixed.test", "dane.match"), ["pass"]);
    // A TLSA RRset that does not validate: senders defer, a failure.
    assert_eq!(s("bogus.test", "dane.tlsa"), ["fail"]);
    says("bogus.test", "dane.tlsa", "defer");
    assert_eq!(s("bogus.test", "dane.match"), ["skip"]);
    // TLSA published, STARTTLS not offered.
    assert_eq!(s("nostarttls.test", "dane.starttls"), ["fail"]);
    // No TLSA at all (proven): no DANE, information.
    assert_eq!(s("absent.test", "dane.tlsa"), ["info"]);
    says("absent.test", "dane.tlsa", "secure denial");
    assert_eq!(s("absent.test", "dnssec.domain"), ["pass"]);
    // An unsigned zone: information all along, the TLSA record there is never looked at.
    assert_eq!(s("insecure.test", "dnssec.domain"), ["info"]);
    // What it judged: the domain's MX records, not the domain as a whole.
    says(
        "insecure.test",
        "dnssec.domain",
        "the MX records of insecure.test are not signed (insecure)",
    );
    assert_eq!(s("insecure.test", "dnssec.mx"), ["info"]);
    assert_eq!(s("insecure.test", "dane.tlsa"), ["info"]);
    assert_eq!(s("insecure.test", "dane.match"), ["skip"]);
    // A host with no address passed dnssec.mx ("DNSSEC-signed (secure)") on the proof of its
    // absence: a skip now, naming mx.target, and no DANE for a host senders cannot reach.
    assert_eq!(s("gone.test", "dnssec.domain"), ["pass"]);
    assert_eq!(s("gone.test", "dnssec.mx"), ["skip"]);
    says(
        "gone.test",
        "dnssec.mx",
        "mx.gone.test does not exist (NXDOMAIN), secure denial: no addresses to judge",
    );
    says(
        "gone.test",
        "dane.tlsa",
        "no DANE: mx.gone.test has no address",
    );
    assert_eq!(s("bare.test", "dnssec.mx"), ["skip"]);
    says(
        "bare.test",
        "dnssec.mx",
        "mx.bare.test has no IPv4 address (-4), secure denial",
    );
    assert_eq!(s("bare.test", "dane.tlsa"), ["info"]);
    // A dangling alias: the NXDOMAIN is the CNAME target's, not the MX name's (RFC 2181
    // §10.3); dnssec.mx named the alias as the name that does not exist.
    assert_eq!(s("dangle.test", "dnssec.mx"), ["skip"]);
    says(
        "dangle.test",
        "dnssec.mx",
        "mx.dangle.test is a CNAME (→ old.dangle.test), and old.dangle.test does not exist \
         (NXDOMAIN), secure denial: no addresses to judge",
    );

    // `--host` with a domain: the TLSA records looked up are HOST's, `_PORT._tcp.HOST`, behind
    // the domain's signed MX RRset; absent.test's own MX has none. A HOST whose records match
    // its certificate passes, one whose records do not fails. (`--host` with a domain was
    // refused, exit 1.)
    let base: Vec<&str> = args[..args.len() - domains.len()].to_vec();
    for (host, want, code) in [
        ("mx.match.test", "pass", 0),
        ("mx.mismatch.test", "fail", 40),
    ] {
        let mut a = base.clone();
        a.extend(["absent.test", "--host", host]);
        let run = ehlo_with(&a, None, Duration::from_secs(120));
        assert_eq!(run.code, code, "{host}: {}", run.all());
        let lines: Vec<Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let of = |id: &str| {
            lines
                .iter()
                .find(|v| v["type"] == "check" && v["id"] == id)
                .unwrap_or_else(|| panic!("no {id}: {}", run.stdout))
                .clone()
        };
        // It judges the domain's MX RRset as published, which --host does not replace, and
        // says so (it named no host: "the MX records of absent.test are DNSSEC-signed").
        let d = of("dnssec.domain");
        assert_eq!(d["status"], "pass", "{}", run.stdout);
        assert_eq!(d["evidence"]["host"], host, "{d}");
        assert!(
            d["summary"].as_str().unwrap().contains(&format!(
                "judged: the MX RRset as published now, not --host {host}"
            )),
            "{d}"
        );
        let t = of("dane.tlsa");
        assert_eq!(t["status"], "pass", "{t}");
        assert_eq!(t["mx"], host, "{t}");
        assert_eq!(
            t["evidence"]["owner"],
            format!("_{port}._tcp.{host}"),
            "{t}"
        );
        let mm = of("dane.match");
        assert_eq!(
            (mm["status"].as_str(), mm["mx"].as_str()),
            (Some(want), Some(host)),
            "{mm}"
        );
    }

    // mx.target words the same dangling alias the same way.
    let mut a = base.clone();
    a.extend(["--only", "mx.target", "dangle.test"]);
    let run = ehlo_with(&a, None, Duration::from_secs(120));
    assert_eq!(run.code, 40, "{}", run.all());
    let target = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == "check" && v["id"] == "mx.target")
        .unwrap_or_else(|| panic!("no mx.target: {}", run.stdout));
    assert_eq!(target["status"], "fail", "{target}");
    assert_eq!(
        target["summary"],
        "mx.dangle.test is a CNAME (→ old.dangle.test), and old.dangle.test does not exist \
         (NXDOMAIN)",
        "{target}"
    );

    // --dnssec off: every DNSSEC/DANE check is skipped, and nothing fails.
    let mut off = args.clone();
    off.retain(|a| *a != "--dns-trust-anchor" && *a != anchor_s);
    off.extend(["--dnssec", "off"]);
    let run = ehlo_with(&off, None, Duration::from_secs(120));
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout
            .lines()
            .filter(|l| l.contains("\"type\":\"check\""))
            .all(|l| l.contains("\"status\":\"skip\"")),
        "{}",
        run.stdout
    );
}

/// A STARTTLS `ehlo serve` on 127.0.0.1 (a free port) presenting `chain_pem` (the leaf first,
/// then any issuers) with `key_pem`; the runtime that runs it is returned with its handle.
fn tls_listener(
    dir: &std::path::Path,
    chain_pem: &str,
    key_pem: &str,
) -> (u16, ServerHandle, tokio::runtime::Runtime) {
    let (crt, key) = (dir.join("chain.pem"), dir.join("leaf.key"));
    std::fs::write(&crt, chain_pem).unwrap();
    std::fs::write(&key, key_pem).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let handle = rt
        .block_on(ehlo::serve::start(ServeOptions {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into(),
            hostname: "mx.dane.test".into(),
            starttls: true,
            cert: Some(crt),
            key: Some(key),
            ..ServeOptions::default()
        }))
        .unwrap();
    (handle.addr().port(), handle, rt)
}

/// What one `ehlo check --json` run said: statuses and summaries per (domain, id), and every
/// check line.
struct CheckLines {
    statuses: Statuses,
    summaries: HashMap<(String, String), Vec<String>>,
    lines: Vec<Value>,
}

impl CheckLines {
    fn parse(stdout: &str) -> CheckLines {
        let mut c = CheckLines {
            statuses: HashMap::new(),
            summaries: HashMap::new(),
            lines: Vec::new(),
        };
        for l in stdout.lines() {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            if v["type"] != "check" {
                continue;
            }
            let key = (
                v["domain"].as_str().unwrap().to_string(),
                v["id"].as_str().unwrap().to_string(),
            );
            c.statuses
                .entry(key.clone())
                .or_default()
                .push(v["status"].as_str().unwrap().into());
            c.summaries
                .entry(key)
                .or_default()
                .push(v["summary"].as_str().unwrap().into());
            c.lines.push(v);
        }
        c
    }

    fn status(&self, domain: &str, id: &str) -> Vec<String> {
        st(&self.statuses, domain, id).to_vec()
    }

    /// Assert that a summary of `id` for `domain` contains `want`.
    fn says(&self, domain: &str, id: &str, want: &str) {
        let got = self
            .summaries
            .get(&(domain.to_string(), id.to_string()))
            .unwrap_or_else(|| panic!("no {id} for {domain}"));
        assert!(
            got.iter().any(|x| x.contains(want)),
            "{domain} {id}: {got:?}"
        );
    }

    /// The JSON line of `id` for `domain` (the first one).
    fn line(&self, domain: &str, id: &str) -> &Value {
        self.lines
            .iter()
            .find(|v| v["domain"] == domain && v["id"] == id)
            .unwrap_or_else(|| panic!("no {id} line for {domain}"))
    }
}

/// `ehlo check --json` of `domains` through the signed zone at `dns` with the anchor file
/// `anchor` (none: `--dnssec off`), probing port `port`, `extra` flags added; `limit` bounds
/// the run.
fn signed_check(
    dns: SocketAddr,
    anchor: Option<&std::path::Path>,
    port: u16,
    extra: &[&str],
    domains: &[&str],
    limit: Duration,
) -> (Run, CheckLines) {
    let (dns, port) = (dns.to_string(), port.to_string());
    let anchor = anchor.map(|a| a.display().to_string());
    let dnssec = match &anchor {
        Some(a) => ["--dns-trust-anchor", a.as_str()],
        None => ["--dnssec", "off"],
    };
    let mut args: Vec<&str> = vec![
        "check",
        "--json",
        "--dns-server",
        &dns,
        dnssec[0],
        dnssec[1],
        "--port",
        &port,
        "--allow-private",
        "--helo",
        "checker.test",
        "-4",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(domains);
    let run = ehlo_with(&args, None, limit);
    let lines = CheckLines::parse(&run.stdout);
    (run, lines)
}

/// DANE-TA (usage 2) and the full-certificate forms through `check` with real lookups: a
/// private root and a leaf it signed, served by `ehlo serve` as leaf + root; the signed zone
/// publishes at each MX host's `_PORT._tcp` name `2 0 2` (SHA2-512 of the root), `2 1 1` (the
/// root's key), `2 0 1` behind a secure CNAME (the TLSA base), `3 0 1` (SHA2-256 of the leaf),
/// a DANE-EE + DANE-TA rollover set, and two trust anchors that match nothing. A DANE-TA match
/// needs the chain to verify to the matched root and the leaf to carry one of the reference
/// names (RFC 7672 §3.2.3): the MX host, the TLSA base (CNAME target), or the next-hop domain.
#[test]
fn dane_ta_and_full_certificate_tlsa_through_check_with_a_real_lookup() {
    use ehlo::net::testutil::{SignedDns, Signing};
    use hickory_resolver::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
    use hickory_resolver::proto::rr::rdata::{A, CNAME, MX, TLSA};
    use hickory_resolver::proto::rr::{Name, RData};

    let dir = tempfile::tempdir().unwrap();
    let mut cp = CertificateParams::new(Vec::<String>::new()).unwrap();
    cp.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    cp.distinguished_name
        .push(rcgen::DnType::CommonName, "DANE-TA test root");
    let root_key = KeyPair::generate().unwrap();
    let root_spki = rcgen::PublicKeyData::subject_public_key_info(&root_key);
    let root = rcgen::CertifiedIssuer::self_signed(cp, root_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    // The leaf names some MX hosts, a next-hop domain and a TLSA base, never mx.noname.test.
    let leaf = CertificateParams::new(
        [
            "mx.ta.test",
            "mx.taspki.test",
            "nexthop.test",
            "base.test",
            "mx.roll.test",
            "mx.tamiss.test",
        ]
        .map(String::from)
        .to_vec(),
    )
    .unwrap()
    .signed_by(&leaf_key, &root)
    .unwrap();
    let chain = format!("{}{}", leaf.pem(), root.pem());
    let (port, _server, _rt) = tls_listener(dir.path(), &chain, &leaf_key.serialize_pem());

    let name = |s: &str| Name::from_ascii(s).unwrap();
    let tlsa = |u: CertUsage, s: Selector, m: Matching, data: Vec<u8>| {
        RData::TLSA(TLSA::new(u, s, m, data))
    };
    let root_full_512 = openssl::sha::sha512(root.der()).to_vec();
    let root_full_256 = openssl::sha::sha256(root.der()).to_vec();
    let root_key_256 = openssl::sha::sha256(&root_spki).to_vec();
    let leaf_full_256 = openssl::sha::sha256(leaf.der()).to_vec();
    let leaf_key_256 =
        openssl::sha::sha256(&rcgen::PublicKeyData::subject_public_key_info(&leaf_key)).to_vec();
    use CertUsage::{DaneEe, DaneTa};
    use Matching::{Sha256, Sha512};
    use Selector::{Full, Spki};
    // domain → the TLSA records at its MX host mx.DOMAIN
    let cases: Vec<(&str, Vec<RData>)> = vec![
        (
            "ta",
            vec![tlsa(DaneTa, Full, Sha512, root_full_512.clone())],
        ),
        (
            "taspki",
            vec![tlsa(DaneTa, Spki, Sha256, root_key_256.clone())],
        ),
        (
            "nexthop",
            vec![tlsa(DaneTa, Spki, Sha256, root_key_256.clone())],
        ),
        (
            "noname",
            vec![tlsa(DaneTa, Spki, Sha256, root_key_256.clone())],
        ),
        (
            "ee",
            vec![tlsa(DaneEe, Full, Sha256, leaf_full_256.clone())],
        ),
        (
            "roll",
            vec![
                tlsa(DaneEe, Spki, Sha256, leaf_key_256.clone()),
                tlsa(DaneTa, Spki, Sha256, root_key_256.clone()),
            ],
        ),
        (
            "tamiss",
            vec![
                tlsa(DaneTa, Spki, Sha256, vec![0x11; 32]),
                tlsa(DaneTa, Full, Sha512, vec![0x22; 64]),
            ],
        ),
    ];
    let mut records: Vec<(String, RData)> = Vec::new();
    for (d, tlsas) in &cases {
        let host = format!("mx.{d}.test");
        records.push((
            format!("{d}.test"),
            RData::MX(MX::new(10, name(&format!("{host}.")))),
        ));
        records.push((host.clone(), RData::A(A(Ipv4Addr::LOCALHOST))));
        for t in tlsas {
            records.push((format!("_{port}._tcp.{host}"), t.clone()));
        }
    }
    // The MX host is an alias of base.test (signed): the TLSA base is the alias's target.
    records.push((
        "cname.test".into(),
        RData::MX(MX::new(10, name("mx.cname.test."))),
    ));
    records.push((
        "mx.cname.test".into(),
        RData::CNAME(CNAME(name("base.test."))),
    ));
    records.push(("base.test".into(), RData::A(A(Ipv4Addr::LOCALHOST))));
    records.push((
        format!("_{port}._tcp.base.test"),
        tlsa(DaneTa, Full, Sha256, root_full_256),
    ));
    let zone = SignedDns::start(
        "test",
        records
            .iter()
            .map(|(n, r)| (n.as_str(), r.clone(), Signing::Valid))
            .collect(),
    );
    let anchor = dir.path().join("anchor.key");
    std::fs::write(&anchor, format!("{}\n", zone.anchor)).unwrap();
    let domains: Vec<String> = cases
        .iter()
        .map(|c| format!("{}.test", c.0))
        .chain(["cname.test".to_string()])
        .collect();
    let domains: Vec<&str> = domains.iter().map(String::as_str).collect();
    let (run, c) = signed_check(
        zone.addr,
        Some(&anchor),
        port,
        &["--timeout", "5s", "--only", "dnssec.*", "--only", "dane.*"],
        &domains,
        Duration::from_secs(120),
    );
    assert_eq!(run.code, 40, "{}", run.all());
    for d in &domains {
        for id in ["dnssec.domain", "dnssec.mx", "dane.tlsa", "dane.starttls"] {
            assert_eq!(c.status(d, id), ["pass"], "{d} {id}: {}", run.stdout);
        }
    }
    // 2 0 2: the root's whole certificate, SHA2-512, at depth 1; the leaf names the MX host.
    assert_eq!(c.status("ta.test", "dane.match"), ["pass"]);
    c.says("ta.test", "dane.match", "2 0 2 ");
    c.says("ta.test", "dane.match", "matches depth 1");
    c.says("ta.test", "dane.match", "DNS:mx.ta.test");
    let m = c.line("ta.test", "dane.match");
    let chain_ev: Vec<&str> = m["evidence"]["chain"]
        .as_array()
        .unwrap_or_else(|| panic!("no chain evidence: {m}"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let want = format!(
        "depth 1 cert sha512 {} [matched] <- 2 0 2 ",
        root_full_512
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    assert!(
        chain_ev.iter().any(|l| l.starts_with(&want)),
        "{want}: {chain_ev:?}"
    );
    assert!(
        chain_ev
            .iter()
            .any(|l| l.starts_with("depth 0 cert sha512 ") && !l.contains("[matched]")),
        "{chain_ev:?}"
    );
    assert_eq!(
        m["evidence"]["names"],
        serde_json::json!(["mx.ta.test", "ta.test"]),
        "{m}"
    );
    // 2 1 1: the root's key.
    assert_eq!(c.status("taspki.test", "dane.match"), ["pass"]);
    c.says("taspki.test", "dane.match", "2 1 1 ");
    c.says("taspki.test", "dane.match", "matches depth 1");
    // The leaf names the next-hop domain only.
    assert_eq!(c.status("nexthop.test", "dane.match"), ["pass"]);
    c.says("nexthop.test", "dane.match", "DNS:nexthop.test");
    // The leaf names the TLSA base only (the secure CNAME target of the MX host).
    assert_eq!(c.status("cname.test", "dane.tlsa"), ["pass"]);
    assert_eq!(
        c.line("cname.test", "dane.tlsa")["evidence"]["base"],
        "base.test"
    );
    assert_eq!(c.status("cname.test", "dane.match"), ["pass"]);
    c.says("cname.test", "dane.match", "DNS:base.test");
    // The chain verifies to the anchor, but the leaf names none of mx.noname.test, its TLSA
    // base or noname.test: DANE-TA refuses it.
    assert_eq!(c.status("noname.test", "dane.match"), ["fail"]);
    c.says(
        "noname.test",
        "dane.match",
        "no name in the leaf matches mx.noname.test, noname.test",
    );
    // 3 0 1: the leaf's whole certificate, no name needed.
    assert_eq!(c.status("ee.test", "dane.match"), ["pass"]);
    c.says("ee.test", "dane.match", "3 0 1 ");
    c.says("ee.test", "dane.match", "matches depth 0");
    // A rollover set: DANE-EE for the current key and DANE-TA for the issuer.
    assert_eq!(c.status("roll.test", "dane.rollover"), ["pass"]);
    c.says("roll.test", "dane.rollover", "1 DANE-EE and 1 DANE-TA");
    assert_eq!(c.status("roll.test", "dane.match"), ["pass"]);
    // Two trust anchors, neither the root: a mismatch naming the digests the chain has.
    assert_eq!(c.status("tamiss.test", "dane.rollover"), ["pass"]);
    assert_eq!(c.status("tamiss.test", "dane.match"), ["fail"]);
    c.says("tamiss.test", "dane.match", "no TLSA record matched");
    for single in ["ta.test", "taspki.test", "ee.test"] {
        assert_eq!(c.status(single, "dane.rollover"), ["warn"], "{single}");
    }
}

/// An expired leaf through `check` with a real TLSA lookup: pinned by a DANE-EE(3) record, its
/// dates are ignored by DANE senders (RFC 7672 §3.1.1, RFC 7671 §5.1) and port 25 without DANE
/// is not authenticated, so `tls.cert.expiry` warns and the domain passes; it used to fail the
/// domain while `dane.match` said "validity dates are not checked". Trusted through a DANE-TA(2)
/// record the dates do count (`dane.match` fails), and without TLSA it fails as before.
#[test]
fn an_expired_certificate_pinned_by_dane_ee_only_warns() {
    use ehlo::net::testutil::{SignedDns, Signing};
    use hickory_resolver::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
    use hickory_resolver::proto::rr::rdata::{A, MX, TLSA};
    use hickory_resolver::proto::rr::{Name, RData};

    let dir = tempfile::tempdir().unwrap();
    let mut cp = CertificateParams::new(Vec::<String>::new()).unwrap();
    cp.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    cp.distinguished_name
        .push(rcgen::DnType::CommonName, "expired leaf test root");
    let root_key = KeyPair::generate().unwrap();
    let root_spki = rcgen::PublicKeyData::subject_public_key_info(&root_key);
    let root = rcgen::CertifiedIssuer::self_signed(cp, root_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let mut lp = CertificateParams::new(
        ["mx.eeexp.test", "mx.taexp.test", "mx.noexp.test"]
            .map(String::from)
            .to_vec(),
    )
    .unwrap();
    lp.not_before = rcgen::date_time_ymd(2020, 1, 1);
    lp.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let leaf = lp.signed_by(&leaf_key, &root).unwrap();
    let chain = format!("{}{}", leaf.pem(), root.pem());
    let (port, _server, _rt) = tls_listener(dir.path(), &chain, &leaf_key.serialize_pem());

    let name = |s: &str| Name::from_ascii(s).unwrap();
    let sha = |d: &[u8]| openssl::sha::sha256(d).to_vec();
    let leaf_spki = rcgen::PublicKeyData::subject_public_key_info(&leaf_key);
    let cases: Vec<(&str, Option<TLSA>)> = vec![
        (
            "eeexp",
            Some(TLSA::new(
                CertUsage::DaneEe,
                Selector::Spki,
                Matching::Sha256,
                sha(&leaf_spki),
            )),
        ),
        (
            "taexp",
            Some(TLSA::new(
                CertUsage::DaneTa,
                Selector::Spki,
                Matching::Sha256,
                sha(&root_spki),
            )),
        ),
        ("noexp", None),
    ];
    let mut records: Vec<(String, RData)> = Vec::new();
    for (d, tlsa) in &cases {
        let host = format!("mx.{d}.test");
        records.push((
            format!("{d}.test"),
            RData::MX(MX::new(10, name(&format!("{host}.")))),
        ));
        records.push((host.clone(), RData::A(A(Ipv4Addr::LOCALHOST))));
        if let Some(t) = tlsa {
            records.push((format!("_{port}._tcp.{host}"), RData::TLSA(t.clone())));
        }
    }
    let zone = SignedDns::start(
        "test",
        records
            .iter()
            .map(|(n, r)| (n.as_str(), r.clone(), Signing::Valid))
            .collect(),
    );
    let anchor = dir.path().join("anchor.key");
    std::fs::write(&anchor, format!("{}\n", zone.anchor)).unwrap();
    let only = [
        "--timeout",
        "5s",
        "--only",
        "tls.cert.expiry",
        "--only",
        "dane.match",
    ];
    let (run, c) = signed_check(
        zone.addr,
        Some(&anchor),
        port,
        &only,
        &["eeexp.test", "taexp.test", "noexp.test"],
        Duration::from_secs(120),
    );
    assert_eq!(run.code, 40, "{}", run.all());
    assert_eq!(
        c.status("eeexp.test", "dane.match"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(
        c.status("eeexp.test", "tls.cert.expiry"),
        ["warn"],
        "{}",
        run.stdout
    );
    c.says("eeexp.test", "tls.cert.expiry", "expired on 2021-01-01");
    c.says("eeexp.test", "tls.cert.expiry", "DANE-EE(3)");
    c.says("eeexp.test", "tls.cert.expiry", "RFC 7672 §3.1.1");
    assert_eq!(
        c.status("taexp.test", "dane.match"),
        ["fail"],
        "{}",
        run.stdout
    );
    assert_eq!(
        c.status("taexp.test", "tls.cert.expiry"),
        ["fail"],
        "{}",
        run.stdout
    );
    assert_eq!(
        c.status("noexp.test", "tls.cert.expiry"),
        ["fail"],
        "{}",
        run.stdout
    );
    // Alone, the DANE-EE domain passes (exit 0): nothing in it stops mail. `--only
    // tls.cert.expiry` gives the same verdict: the TLSA records are still looked up for it.
    let (run, c) = signed_check(
        zone.addr,
        Some(&anchor),
        port,
        &["--timeout", "5s", "--only", "tls.cert.expiry"],
        &["eeexp.test"],
        Duration::from_secs(120),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        c.status("eeexp.test", "tls.cert.expiry"),
        ["warn"],
        "{}",
        run.stdout
    );
    assert!(
        c.lines.iter().all(|l| l["id"] == "tls.cert.expiry"),
        "{}",
        run.stdout
    );
}

/// Bad DNSSEC input through `check` (RFC 4035 §5, RFC 7672 §2.2): a forged MX RRset, address
/// records whose signatures expired or are not valid yet (clock skew), TLSA RRsets likewise,
/// malformed TLSA rdata, and an enormous signed TLSA RRset (900 records, fetched over TCP). Each is
/// a clear verdict with its reason, within the DNS timeout, and the checks that judge the published
/// data (`mx.*`) still see what a non-validating sender sees.
#[test]
fn bad_dnssec_input_through_check_is_a_verdict_with_the_reason() {
    use ehlo::net::testutil::{SignedDns, Signing};
    use hickory_resolver::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
    use hickory_resolver::proto::rr::rdata::{A, MX, TLSA};
    use hickory_resolver::proto::rr::{Name, RData};

    let dir = tempfile::tempdir().unwrap();
    let key = KeyPair::generate().unwrap();
    let spki = openssl::sha::sha256(&rcgen::PublicKeyData::subject_public_key_info(&key)).to_vec();
    let cert = CertificateParams::new(vec!["mx.dane.test".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (port, _server, _rt) = tls_listener(dir.path(), &cert.pem(), &key.serialize_pem());

    let tlsa = |m: Matching, data: Vec<u8>| {
        RData::TLSA(TLSA::new(CertUsage::DaneEe, Selector::Spki, m, data))
    };
    let owner = |d: &str| format!("_{port}._tcp.mx.{d}.test");
    let mut records: Vec<(String, RData, Signing)> = Vec::new();
    // domain → how its MX, its host's A and its TLSA RRsets are signed
    let cases = [
        (
            "forgedmx",
            Signing::Tampered,
            Signing::Valid,
            Signing::Valid,
        ),
        (
            "staleaddr",
            Signing::Valid,
            Signing::Expired,
            Signing::Valid,
        ),
        ("earlyaddr", Signing::Valid, Signing::Future, Signing::Valid),
        (
            "staletlsa",
            Signing::Valid,
            Signing::Valid,
            Signing::Expired,
        ),
        ("earlytlsa", Signing::Valid, Signing::Valid, Signing::Future),
    ];
    for (d, mx, a, t) in cases {
        let host = format!("mx.{d}.test");
        records.push((
            format!("{d}.test"),
            RData::MX(MX::new(10, Name::from_ascii(format!("{host}.")).unwrap())),
            mx,
        ));
        records.push((host, RData::A(A(Ipv4Addr::LOCALHOST)), a));
        records.push((owner(d), tlsa(Matching::Sha256, spki.clone()), t));
    }
    for d in ["malformed", "huge"] {
        let host = format!("mx.{d}.test");
        records.push((
            format!("{d}.test"),
            RData::MX(MX::new(10, Name::from_ascii(format!("{host}.")).unwrap())),
            Signing::Valid,
        ));
        records.push((host, RData::A(A(Ipv4Addr::LOCALHOST)), Signing::Valid));
    }
    // A SHA2-256 "digest" of 5 octets and an unassigned matching type.
    records.push((
        owner("malformed"),
        tlsa(Matching::Sha256, vec![1, 2, 3, 4, 5]),
        Signing::Valid,
    ));
    records.push((
        owner("malformed"),
        tlsa(Matching::Unassigned(9), vec![7; 16]),
        Signing::Valid,
    ));
    // 899 records that match nothing and the server's key last.
    for i in 0..899u32 {
        let mut d = vec![0u8; 32];
        d[..4].copy_from_slice(&i.to_be_bytes());
        records.push((owner("huge"), tlsa(Matching::Sha256, d), Signing::Valid));
    }
    records.push((owner("huge"), tlsa(Matching::Sha256, spki), Signing::Valid));
    let zone = SignedDns::start(
        "test",
        records
            .iter()
            .map(|(n, r, s)| (n.as_str(), r.clone(), *s))
            .collect(),
    );
    let anchor = dir.path().join("anchor.key");
    std::fs::write(&anchor, format!("{}\n", zone.anchor)).unwrap();
    let domains = [
        "forgedmx.test",
        "staleaddr.test",
        "earlyaddr.test",
        "staletlsa.test",
        "earlytlsa.test",
        "malformed.test",
        "huge.test",
    ];
    let (run, c) = signed_check(
        zone.addr,
        Some(&anchor),
        port,
        &[
            "--timeout",
            "5s",
            "--only",
            "dnssec.*",
            "--only",
            "dane.*",
            "--only",
            "mx.lookup",
            "--only",
            "mx.target",
        ],
        &domains,
        Duration::from_secs(120),
    );
    assert_eq!(run.code, 40, "{}", run.all());
    // Nothing waited for a DNS timeout: validation failures are verdicts, not silence.
    assert!(run.elapsed < Duration::from_secs(60), "{:?}", run.elapsed);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    // A forged MX RRset: DNSSEC fails (validating senders defer), no DANE; the published
    // records (the preference changed after signing) are what mx.lookup reports.
    assert_eq!(c.status("forgedmx.test", "dnssec.domain"), ["fail"]);
    c.says("forgedmx.test", "dnssec.domain", "DNSSEC validation failed");
    c.says("forgedmx.test", "dnssec.domain", "defer");
    // Validated from the zone's own anchor, the chain is there: no hint to give one.
    assert!(
        !c.line("forgedmx.test", "dnssec.domain")["summary"]
            .as_str()
            .unwrap()
            .contains("--dns-trust-anchor"),
        "{}",
        run.stdout
    );
    assert_eq!(c.status("forgedmx.test", "dane.tlsa"), ["info"]);
    c.says("forgedmx.test", "dane.tlsa", "is bogus");
    assert_eq!(c.status("forgedmx.test", "mx.lookup"), ["pass"]);
    c.says("forgedmx.test", "mx.lookup", "11 mx.forgedmx.test");
    // Address signatures out of their validity window, either way.
    for d in ["staleaddr.test", "earlyaddr.test"] {
        assert_eq!(c.status(d, "dnssec.domain"), ["pass"], "{d}");
        assert_eq!(c.status(d, "dnssec.mx"), ["fail"], "{d}");
        c.says(d, "dnssec.mx", "DNSSEC validation failed");
        assert_eq!(c.status(d, "dane.tlsa"), ["info"], "{d}");
        c.says(d, "dane.tlsa", "are not secure");
        assert_eq!(c.status(d, "mx.target"), ["pass"], "{d}");
    }
    // TLSA signatures out of their validity window: the lookup fails, senders defer.
    for d in ["staletlsa.test", "earlytlsa.test"] {
        assert_eq!(c.status(d, "dnssec.mx"), ["pass"], "{d}");
        assert_eq!(c.status(d, "dane.tlsa"), ["fail"], "{d}");
        c.says(d, "dane.tlsa", "DNSSEC validation failed");
        c.says(d, "dane.tlsa", "defer");
        assert_eq!(c.status(d, "dane.match"), ["skip"], "{d}");
    }
    // Malformed rdata: published and secure, but unusable, each with its reason.
    assert_eq!(c.status("malformed.test", "dane.tlsa"), ["pass"]);
    assert_eq!(c.status("malformed.test", "dane.usable"), ["warn"]);
    c.says("malformed.test", "dane.usable", "32 octets, this one has 5");
    c.says("malformed.test", "dane.usable", "unknown matching type 9");
    assert_eq!(c.status("malformed.test", "dane.match"), ["skip"]);
    c.says("malformed.test", "dane.match", "no usable TLSA record");
    // 900 records: validated, matched, and the summary stays one readable line.
    assert_eq!(c.status("huge.test", "dane.tlsa"), ["pass"]);
    c.says("huge.test", "dane.tlsa", "900 records");
    let tlsa_line = c.line("huge.test", "dane.tlsa");
    assert_eq!(
        tlsa_line["evidence"]["records"].as_array().unwrap().len(),
        900
    );
    assert!(
        tlsa_line["summary"].as_str().unwrap().len() < 1000,
        "{}",
        tlsa_line["summary"]
    );
    assert_eq!(c.status("huge.test", "dane.match"), ["pass"]);
    assert_eq!(c.status("huge.test", "dane.rollover"), ["pass"]);
}

/// A signed zone whose DNSKEY cannot be fetched although its trust anchor names one (what a DS
/// without a matching DNSKEY is, a broken delegation): the server answers, the chain of trust
/// never completes, and within the bound of one lookup (`--timeout`, not the minutes hickory
/// alone would keep asking) `dnssec.*` fails — bogus, exit 40, as through Unbound
/// (`dnssec_check_of_a_broken_delegation_fails_in_every_mode`) — while the MX checks still
/// judge the published records.
#[test]
fn check_of_a_zone_without_its_dnskey_fails_within_the_timeout() {
    use ehlo::net::testutil::{SignedDns, Signing};
    use hickory_resolver::proto::rr::rdata::{A, MX};
    use hickory_resolver::proto::rr::{Name, RData};
    let zone = SignedDns::start_without_dnskey(
        "test",
        vec![
            (
                "nokey.test",
                RData::MX(MX::new(10, Name::from_ascii("mx.nokey.test.").unwrap())),
                Signing::Valid,
            ),
            (
                "mx.nokey.test",
                RData::A(A(Ipv4Addr::LOCALHOST)),
                Signing::Valid,
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("anchor.key");
    std::fs::write(&anchor, format!("{}\n", zone.anchor)).unwrap();
    let port = crate::util::free_port();
    let (run, c) = signed_check(
        zone.addr,
        Some(&anchor),
        port,
        &[
            "--timeout",
            "1s",
            "--only",
            "dnssec.*",
            "--only",
            "dane.tlsa",
            "--only",
            "mx.lookup",
        ],
        &["nokey.test"],
        Duration::from_secs(90),
    );
    assert_eq!(run.code, 40, "{}", run.all());
    // --timeout 1 per validated question (MX, A, AAAA), the plain MX and A asked again.
    assert!(run.elapsed < Duration::from_secs(8), "{:?}", run.elapsed);
    assert_eq!(c.status("nokey.test", "dnssec.domain"), ["fail"]);
    c.says("nokey.test", "dnssec.domain", "no chain of trust");
    assert_eq!(c.status("nokey.test", "dnssec.mx"), ["fail"]);
    assert_eq!(c.status("nokey.test", "dane.tlsa"), ["info"]);
    assert_eq!(c.status("nokey.test", "mx.lookup"), ["pass"]);
    c.says("nokey.test", "mx.lookup", "10 mx.nokey.test");
}

/// A private signed zone checked from the root anchors (no `--dns-trust-anchor`): its chain
/// never reaches the root, so `dnssec.domain` fails, and says in the same line that a private
/// zone needs `--dns-trust-anchor FILE` (it used to say only "DNSSEC validation failed").
#[test]
fn a_private_zone_without_its_anchor_is_told_to_give_one() {
    use ehlo::net::testutil::{SignedDns, Signing};
    use hickory_resolver::proto::rr::rdata::{A, MX};
    use hickory_resolver::proto::rr::{Name, RData};
    let zone = SignedDns::start(
        "test",
        vec![
            (
                "private.test",
                RData::MX(MX::new(10, Name::from_ascii("mx.private.test.").unwrap())),
                Signing::Valid,
            ),
            (
                "mx.private.test",
                RData::A(A(Ipv4Addr::LOCALHOST)),
                Signing::Valid,
            ),
        ],
    );
    let dns = zone.addr.to_string();
    let run = ehlo_with(
        &[
            "check",
            "--json",
            "--dns-server",
            &dns,
            "--timeout",
            "2s",
            "--only",
            "dnssec.domain",
            "private.test",
        ],
        None,
        Duration::from_secs(60),
    );
    let c = CheckLines::parse(&run.stdout);
    assert_eq!(run.code, 40, "{}", run.all());
    assert_eq!(c.status("private.test", "dnssec.domain"), ["fail"]);
    c.says(
        "private.test",
        "dnssec.domain",
        "a private zone needs --dns-trust-anchor FILE",
    );
    // With the zone's anchor it validates: the hint belonged to the missing anchor.
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("anchor.key");
    std::fs::write(&anchor, format!("{}\n", zone.anchor)).unwrap();
    let (run, c) = signed_check(
        zone.addr,
        Some(&anchor),
        crate::util::free_port(),
        &["--only", "dnssec.domain"],
        &["private.test"],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(c.status("private.test", "dnssec.domain"), ["pass"]);
}

/// One question, one answer: with validation on, the MX question and the MX host's address
/// question go out once each — the validated answers feed both `mx.*` and `dnssec.*`/`dane.*`
/// — with the DO bit; with `--dnssec off` once each, without it, and no DNSKEY is asked for.
#[test]
fn check_asks_the_mx_and_address_questions_once() {
    use ehlo::net::testutil::{SignedDns, Signing};
    use hickory_resolver::proto::rr::RecordType;
    use hickory_resolver::proto::rr::rdata::{A, MX};
    use hickory_resolver::proto::rr::{Name, RData};
    let zone = || {
        SignedDns::start(
            "test",
            vec![
                (
                    "once.test",
                    RData::MX(MX::new(10, Name::from_ascii("mx.once.test.").unwrap())),
                    Signing::Valid,
                ),
                (
                    "mx.once.test",
                    RData::A(A(Ipv4Addr::LOCALHOST)),
                    Signing::Valid,
                ),
            ],
        )
    };
    let only = [
        "--timeout",
        "5s",
        "--only",
        "mx.*",
        "--only",
        "dnssec.*",
        "--only",
        "dane.tlsa",
    ];
    for validate in [true, false] {
        let z = zone();
        let dir = tempfile::tempdir().unwrap();
        let anchor = dir.path().join("anchor.key");
        std::fs::write(&anchor, format!("{}\n", z.anchor)).unwrap();
        let (run, c) = signed_check(
            z.addr,
            validate.then_some(anchor.as_path()),
            25,
            &only,
            &["once.test"],
            Duration::from_secs(60),
        );
        assert_eq!(run.code, 0, "{}", run.all());
        assert_eq!(c.status("once.test", "mx.lookup"), ["pass"]);
        assert_eq!(c.status("once.test", "mx.target"), ["pass"]);
        let want = if validate { "pass" } else { "skip" };
        assert_eq!(c.status("once.test", "dnssec.domain"), [want]);
        assert_eq!(c.status("once.test", "dnssec.mx"), [want]);
        let log = z.log.lock().unwrap().clone();
        let asked = |name: &str, rtype: RecordType| {
            log.iter()
                .filter(|q| q.name == name && q.rtype == rtype)
                .collect::<Vec<_>>()
        };
        for (name, rtype) in [
            ("once.test", RecordType::MX),
            ("mx.once.test", RecordType::A),
        ] {
            let seen = asked(name, rtype);
            assert_eq!(seen.len(), 1, "validate={validate} {name} {rtype}: {log:?}");
            assert_eq!(seen[0].dnssec_ok, validate, "{seen:?}");
        }
        assert_eq!(
            asked("test", RecordType::DNSKEY).is_empty(),
            !validate,
            "{log:?}"
        );
    }
}

/// `--only`/`--skip` decide what a domain asks of DNS: the questions of the selected checks and
/// of the verdicts they depend on, no more. Every domain used to ask for its MX, its hosts'
/// addresses, five TXT names, the TLSA records and the zone's DNSKEY whatever was selected.
/// The results of a selection are those of the full run.
#[test]
fn a_selection_asks_only_the_questions_its_checks_need() {
    use ehlo::net::testutil::{SignedDns, Signing};
    use hickory_resolver::proto::rr::RecordType;
    use hickory_resolver::proto::rr::rdata::{A, MX, TXT};
    use hickory_resolver::proto::rr::{Name, RData};
    let txt = |s: &str| RData::TXT(TXT::new(vec![s.to_string()]));
    let zone = || {
        SignedDns::start(
            "test",
            vec![
                (
                    "plan.test",
                    RData::MX(MX::new(10, Name::from_ascii("mx.plan.test.").unwrap())),
                    Signing::Valid,
                ),
                ("plan.test", txt("v=spf1 -all"), Signing::Valid),
                (
                    "_dmarc.plan.test",
                    txt("v=DMARC1; p=reject"),
                    Signing::Valid,
                ),
                ("_mta-sts.plan.test", txt("v=STSv1; id=1"), Signing::Valid),
                (
                    "_smtp._tls.plan.test",
                    txt("v=TLSRPTv1; rua=mailto:t@plan.test"),
                    Signing::Valid,
                ),
                (
                    "mx.plan.test",
                    RData::A(A(Ipv4Addr::LOCALHOST)),
                    Signing::Valid,
                ),
            ],
        )
    };
    use RecordType::{A as QA, DNSKEY, MX as QMX, TXT as QTXT};
    // Each selection and the questions it asks, (name, type).
    type Asked<'a> = &'a [(&'a str, RecordType)];
    let cases: [(&[&str], Asked); 5] = [
        (&["--only", "mx.lookup"], &[("plan.test", QMX)]),
        (&["--only", "spf.record"], &[("plan.test", QTXT)]),
        (
            &["--only", "mx.target"],
            &[("plan.test", QMX), ("mx.plan.test", QA)],
        ),
        (
            &["--only", "*.record"],
            &[
                ("plan.test", QTXT),
                ("_dmarc.plan.test", QTXT),
                ("_smtp._tls.plan.test", QTXT),
            ],
        ),
        (
            &["--only", "dnssec.domain"],
            &[("plan.test", QMX), ("test", DNSKEY)],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let anchor = dir.path().join("anchor.key");
    let full = {
        let z = zone();
        std::fs::write(&anchor, format!("{}\n", z.anchor)).unwrap();
        let (run, c) = signed_check(
            z.addr,
            Some(anchor.as_path()),
            25,
            &[
                "--timeout",
                "5s",
                "--skip",
                "smtp.*",
                "--skip",
                "tls.*",
                "--skip",
                "rdns.*",
                "--skip",
                "dane.*",
                "--skip",
                "ipv6.mx",
                // No policy host in the zone: the fetch is not the point here.
                "--skip",
                "mtasts.fetch",
                "--skip",
                "mtasts.policy",
                "--skip",
                "mtasts.mx-match",
            ],
            &["plan.test"],
            Duration::from_secs(60),
        );
        assert_eq!(run.code, 0, "{}", run.all());
        c
    };
    for (only, want) in cases {
        let z = zone();
        std::fs::write(&anchor, format!("{}\n", z.anchor)).unwrap();
        let mut flags = vec!["--timeout", "5s"];
        flags.extend_from_slice(only);
        let (run, c) = signed_check(
            z.addr,
            Some(anchor.as_path()),
            25,
            &flags,
            &["plan.test"],
            Duration::from_secs(60),
        );
        assert_eq!(run.code, 0, "{only:?}: {}", run.all());
        let mut asked: Vec<(String, RecordType)> = z
            .log
            .lock()
            .unwrap()
            .iter()
            .map(|q| (q.name.clone(), q.rtype))
            .collect();
        asked.sort();
        asked.dedup();
        let mut want: Vec<(String, RecordType)> =
            want.iter().map(|(n, t)| (n.to_string(), *t)).collect();
        want.sort();
        assert_eq!(asked, want, "{only:?}");
        // Each selected check as the full run reports it.
        let ids: Vec<&str> = c.lines.iter().filter_map(|v| v["id"].as_str()).collect();
        assert!(!ids.is_empty(), "{only:?}: {}", run.stdout);
        for id in ids {
            let key = ("plan.test".to_string(), id.to_string());
            assert_eq!(c.statuses[&key], full.statuses[&key], "{only:?} {id}");
            assert_eq!(c.summaries[&key], full.summaries[&key], "{only:?} {id}");
        }
    }
}

/// RFC 7505 §3: a null MX is the single record `MX 0 .`. `MX 10 .` and a null MX beside
/// another MX are no null MX: `mx.null` fails with the remedy, the real host of the mixed set
/// is still checked; the single `MX 0 .` passes (the domain accepts no mail).
#[test]
fn only_a_single_mx_0_root_passes_as_a_null_mx() {
    let (dns, _h) = FakeDns::start(vec![
        ("null0.test", RecordSpec::Mx(0, ".".into())),
        ("null10.test", RecordSpec::Mx(10, ".".into())),
        ("mixed.test", RecordSpec::Mx(0, ".".into())),
        ("mixed.test", RecordSpec::Mx(10, "mx.mixed.test".into())),
        ("mx.mixed.test", RecordSpec::A(Ipv4Addr::new(127, 0, 0, 2))),
    ]);
    let (run, c) = signed_check(
        dns,
        None,
        25,
        &["--timeout", "2s", "--only", "mx.*"],
        &["null0.test", "null10.test", "mixed.test"],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, 40, "{}", run.all());
    assert_eq!(
        c.status("null0.test", "mx.null"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(c.status("null0.test", "mx.target"), ["skip"]);
    assert_eq!(
        c.status("null10.test", "mx.null"),
        ["fail"],
        "{}",
        run.stdout
    );
    c.says(
        "null10.test",
        "mx.null",
        "MX 10 . is not a null MX: a null MX has preference 0 (RFC 7505 §3); publish `MX 0 .`",
    );
    assert_eq!(c.status("null10.test", "mx.target"), ["skip"]);
    assert_eq!(
        c.status("mixed.test", "mx.null"),
        ["fail"],
        "{}",
        run.stdout
    );
    c.says(
        "mixed.test",
        "mx.null",
        "MX 0 . beside 1 other MX record: a null MX must be the only MX record (RFC 7505 §3)",
    );
    assert_eq!(
        c.status("mixed.test", "mx.target"),
        ["pass"],
        "{}",
        run.stdout
    );
}

/// An MX host that is a CNAME left dangling (its target gone, or holding no address) is said
/// to be one, with where it leads: it was "mx.test does not exist (NXDOMAIN)" for a name the
/// admin sees in the zone (the NXDOMAIN answer loses the CNAME it carried).
#[test]
fn a_dangling_cname_mx_names_the_alias_and_where_it_leads() {
    let (dns, _h) = dangling_cname_mx_dns();
    let (run, c) = signed_check(
        dns,
        None,
        9,
        &["--timeout", "2s", "--only", "mx.target"],
        &["gone.test", "bare.test", "plain.test"],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, 40, "{}", run.all());
    c.says(
        "gone.test",
        "mx.target",
        "mx.gone.test is a CNAME (→ old.gone.test → older.gone.test), and older.gone.test does not exist (NXDOMAIN)",
    );
    assert_eq!(
        c.line("gone.test", "mx.target")["evidence"]["cname"],
        serde_json::json!(["old.gone.test", "older.gone.test"])
    );
    c.says(
        "bare.test",
        "mx.target",
        "mx.bare.test is a CNAME (→ txt.bare.test), and txt.bare.test has no address record",
    );
    // No alias: as before.
    c.says(
        "plain.test",
        "mx.target",
        "nothere.plain.test does not exist (NXDOMAIN)",
    );
    assert_eq!(
        c.line("plain.test", "mx.target")["evidence"].get("cname"),
        None
    );
}

/// An MX exchange that is no host name — a label holding a space or a NUL, an address literal
/// in brackets — is a broken zone (senders skip the record, Postfix says "malformed domain name
/// in resource data of MX record"): `mx.target` fails, exit 40, the name neither looked up nor
/// probed. It was an `error` ("is not a valid DNS name: Malformed label"), exit 41, "retry later".
#[test]
fn an_mx_exchange_that_names_no_host_fails_the_zone_and_is_not_looked_up() {
    use hickory_resolver::proto::rr::RecordType;
    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = trap.local_addr().unwrap().port();
    let (dns, _h, log) = FakeDns::start_logged(vec![
        ("odd.test", RecordSpec::Mx(10, "mx\\032sp.odd.test".into())),
        ("odd.test", RecordSpec::Mx(20, "\\[127.0.0.2\\]".into())),
        ("odd.test", RecordSpec::Mx(30, "mx.odd.test".into())),
        (
            "mx\\032sp.odd.test",
            RecordSpec::A(Ipv4Addr::new(127, 0, 0, 2)),
        ),
        ("mx.odd.test", RecordSpec::A(Ipv4Addr::new(127, 0, 0, 1))),
    ]);
    let (run, c) = signed_check(
        dns,
        None,
        port,
        &["--timeout", "2s", "--only", "mx.*"],
        &["odd.test"],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, 40, "{}", run.all());
    assert_eq!(
        c.status("odd.test", "mx.target"),
        ["fail", "fail", "pass"],
        "{}",
        run.stdout
    );
    c.says(
        "odd.test",
        "mx.target",
        "mx\\032sp.odd.test is not a host name: a label holds characters other than letters, \
         digits and hyphens (RFC 1123 §2.1, RFC 5321 §2.3.5); senders skip this MX record",
    );
    c.says(
        "odd.test",
        "mx.target",
        "\\[127.0.0.2\\] is an address literal ([127.0.0.2]), not a host name",
    );
    let looked_up: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|q| q.rtype == RecordType::A)
        .map(|q| q.name.clone())
        .collect();
    assert_eq!(looked_up, ["mx.odd.test"], "{}", run.stdout);
}

/// The MX rules of the send hold for `check`'s list of hosts: an exchange that is an IP address
/// is no host name (RFC 1035 §3.3.9, RFC 5321 §5.1) and fails `mx.target` without being looked
/// up or connected to; a host in several MX records is checked once; past the send's limit of
/// MX hosts the rest are left out with a warning, and never looked up.
#[test]
fn check_skips_ip_address_mx_hosts_checks_a_repeated_one_once_and_caps_the_list() {
    use hickory_resolver::proto::rr::RecordType;
    // Listening where the IP-address MX points: nothing may connect to it.
    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let port = trap.local_addr().unwrap().port();
    let mut table: Vec<(String, RecordSpec)> = vec![
        ("lit.test".into(), RecordSpec::Mx(10, "127.0.0.1".into())),
        ("lit.test".into(), RecordSpec::Mx(20, "mx.lit.test".into())),
        (
            "mx.lit.test".into(),
            RecordSpec::A(Ipv4Addr::new(127, 0, 0, 2)),
        ),
        ("dup.test".into(), RecordSpec::Mx(10, "mx.dup.test".into())),
        ("dup.test".into(), RecordSpec::Mx(20, "MX.dup.test".into())),
        ("dup.test".into(), RecordSpec::Mx(30, "mx.dup.test".into())),
        (
            "mx.dup.test".into(),
            RecordSpec::A(Ipv4Addr::new(127, 0, 0, 2)),
        ),
    ];
    // CNAME loops: at the domain (its MX lookup) and at an MX host (its addresses).
    table.extend([
        (
            "loopdom.test".into(),
            RecordSpec::CnameOnly("loop2.test".into()),
        ),
        (
            "loop2.test".into(),
            RecordSpec::CnameOnly("loopdom.test".into()),
        ),
        (
            "loopmx.test".into(),
            RecordSpec::Mx(10, "a.loopmx.test".into()),
        ),
        (
            "a.loopmx.test".into(),
            RecordSpec::Cname("b.loopmx.test".into()),
        ),
        (
            "b.loopmx.test".into(),
            RecordSpec::Cname("a.loopmx.test".into()),
        ),
    ]);
    for i in 0..12u8 {
        let host = format!("m{i}.many.test");
        table.push((
            "many.test".into(),
            RecordSpec::Mx(u16::from(i), host.clone()),
        ));
        table.push((host, RecordSpec::A(Ipv4Addr::new(127, 0, 1, i + 1))));
    }
    let records: Vec<(&str, RecordSpec)> =
        table.iter().map(|(n, r)| (n.as_str(), r.clone())).collect();
    let (dns, _h, log) = FakeDns::start_logged(records);
    let only = [
        "--timeout",
        "2s",
        "--only",
        "mx.*",
        "--only",
        "smtp.connect",
    ];
    let (run, c) = signed_check(
        dns,
        None,
        port,
        &only,
        &["lit.test", "dup.test"],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, 40, "{}", run.all());
    // The IP address fails, named as the MX; the other host is checked (and probed).
    assert_eq!(
        c.status("lit.test", "mx.target"),
        ["fail", "pass"],
        "{}",
        run.stdout
    );
    let lit = c
        .lines
        .iter()
        .find(|v| v["domain"] == "lit.test" && v["id"] == "mx.target" && v["status"] == "fail")
        .unwrap();
    assert_eq!(lit["mx"], "127.0.0.1", "{lit}");
    assert_eq!(
        lit["summary"],
        "127.0.0.1 is an IP address, not a host name: an MX must name a host (RFC 1035 §3.3.9, RFC 5321 §5.1)"
    );
    assert_eq!(c.status("lit.test", "smtp.connect"), ["fail"]);
    assert!(
        c.lines.iter().all(|v| v["id"] != "smtp.connect"
            || v["mx"] == "mx.lit.test"
            || v["mx"] == "mx.dup.test"),
        "{}",
        run.stdout
    );
    assert!(
        matches!(trap.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the IP-address MX was connected to"
    );
    // One host under three records: one mx.target, one probe, one lookup.
    assert_eq!(
        c.status("dup.test", "mx.target"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(
        c.status("dup.test", "smtp.connect"),
        ["fail"],
        "{}",
        run.stdout
    );
    c.says(
        "dup.test",
        "mx.lookup",
        "mx.dup.test is in 3 MX records: checked once",
    );
    let asked = |name: &str| {
        log.lock()
            .unwrap()
            .iter()
            .filter(|q| q.name.eq_ignore_ascii_case(name) && q.rtype == RecordType::A)
            .count()
    };
    assert_eq!(asked("127.0.0.1"), 0, "the IP-address MX was looked up");
    assert_eq!(asked("mx.dup.test"), 1);

    let (run, c) = signed_check(
        dns,
        None,
        port,
        &["--timeout", "2s", "--only", "mx.*"],
        &["many.test"],
        Duration::from_secs(60),
    );
    let targets = c.status("many.test", "mx.target");
    assert_eq!(targets.len(), 11, "{}", run.stdout);
    assert_eq!(targets.iter().filter(|s| *s == "pass").count(), 10);
    assert_eq!(targets.iter().filter(|s| *s == "warn").count(), 1);
    c.says(
        "many.test",
        "mx.target",
        "many.test has 12 MX hosts: only the first 10 are checked, 2 left out (m10.many.test, m11.many.test)",
    );
    assert_eq!(asked("m9.many.test"), 1);
    assert_eq!(asked("m10.many.test") + asked("m11.many.test"), 0);
    // The mx.lookup line lists the records as the send does, the first eight and a count
    // (a hostile zone's thousand records must not make a thousand-item line); the JSON
    // evidence keeps the first ten with a count of the rest.
    let lookup = c
        .lines
        .iter()
        .find(|v| v["domain"] == "many.test" && v["id"] == "mx.lookup")
        .unwrap();
    assert_eq!(
        lookup["summary"],
        "0 m0.many.test, 1 m1.many.test, 2 m2.many.test, 3 m3.many.test, 4 m4.many.test, \
         5 m5.many.test, 6 m6.many.test, 7 m7.many.test, … and 4 more",
        "{lookup}"
    );
    assert_eq!(lookup["evidence"]["records"].as_array().unwrap().len(), 10);
    assert_eq!(lookup["evidence"]["records"][9], "9 m9.many.test");
    assert_eq!(lookup["evidence"]["records_left_out"], 2, "{lookup}");
    assert_eq!(lookup["evidence"]["count"], 12, "{lookup}");

    // A CNAME loop is named as one (a broken zone: fail), never "no A/AAAA address".
    let (run, c) = signed_check(
        dns,
        None,
        port,
        &["--timeout", "2s", "--only", "mx.*"],
        &["loopdom.test", "loopmx.test"],
        Duration::from_secs(60),
    );
    assert_eq!(
        c.status("loopdom.test", "mx.lookup"),
        ["fail"],
        "{}",
        run.stdout
    );
    c.says(
        "loopdom.test",
        "mx.lookup",
        "CNAME loop: loopdom.test → loop2.test → loopdom.test",
    );
    assert_eq!(
        c.status("loopmx.test", "mx.target"),
        ["fail"],
        "{}",
        run.stdout
    );
    c.says(
        "loopmx.test",
        "mx.target",
        "CNAME loop: a.loopmx.test → b.loopmx.test → a.loopmx.test",
    );
    assert!(!run.stdout.contains("has no A/AAAA"), "{}", run.stdout);
}

/// `--only`/`--skip` choose which rows are shown, never another check's verdict: the policy
/// that turns a covered MX's certificate warning into a failure is fetched whenever a
/// `tls.cert.*` check is selected, with the `mtasts.*` rows hidden.
#[test]
fn only_and_skip_leave_the_mta_sts_verdict_on_certificates_alone() {
    let lab = Lab::start();
    let selections: [&[&str]; 3] = [
        &[],
        &["--only", "tls.*"],
        &["--skip", "mtasts.*", "--skip", "*.record"],
    ];
    for sel in selections {
        let mut args = vec!["enforce.test"];
        args.extend_from_slice(sel);
        let (run, m, lines) = lab.json(&args);
        assert_eq!(
            st(&m, "enforce.test", "tls.cert.name"),
            ["fail"],
            "{sel:?}: {}",
            run.stdout
        );
        let name = lines.iter().find(|v| v["id"] == "tls.cert.name").unwrap();
        assert!(
            name["summary"]
                .as_str()
                .unwrap()
                .contains("MTA-STS enforce: senders will not deliver (RFC 8461 §5)"),
            "{sel:?}: {name}"
        );
        assert_eq!(run.code, 40, "{sel:?}: {}", run.stdout);
        if !sel.is_empty() {
            assert!(
                lines
                    .iter()
                    .all(|v| !v["id"].as_str().is_some_and(|id| id.starts_with("mtasts."))),
                "{sel:?}: {}",
                run.stdout
            );
        }
    }
}

/// Senders do not fail over for a missing STARTTLS or a failed handshake (RFC 3207 §4, RFC 7435
/// §1.3: opportunistic TLS falls back to cleartext on the same MX), so a backup MX with STARTTLS
/// does not make up for a primary without it; a connection failure still is made up for.
#[test]
fn a_backup_mx_with_starttls_does_not_excuse_a_primary_without_it() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&["plainfirst.test", "--only", "smtp.*", "--only", "tls.*"]);
    assert_eq!(
        st(&m, "plainfirst.test", "tls.starttls"),
        ["fail", "pass"],
        "{}",
        run.stdout
    );
    let plain = lines
        .iter()
        .find(|v| v["id"] == "tls.starttls" && v["status"] == "fail")
        .unwrap();
    assert_eq!(plain["mx"], "mx-plain.lab.test", "{plain}");
    assert_eq!(plain["counts"], true, "{plain}");
    assert_eq!(run.code, 40, "{}", run.stdout);
    // The dead primary of twomx.test is still made up for by its backup.
    let (run, _, lines) = lab.json(&["twomx.test", "--only", "smtp.*", "--only", "tls.*"]);
    let dead = lines
        .iter()
        .find(|v| v["id"] == "smtp.connect" && v["status"] == "fail")
        .unwrap();
    assert_eq!(dead["counts"], false, "{dead}");
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// `-6` (or `-4`) on a domain whose hosts have addresses of the other family only: nothing to
/// test in the chosen family is a skip saying so, not a failure; a name with no address at all
/// still fails.
#[test]
fn one_family_skips_a_name_with_addresses_of_the_other_only() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&[
        "good.test",
        "implicit.test",
        "noaddr.test",
        "-6",
        "--only",
        "mx.*",
        "--only",
        "mtasts.*",
    ]);
    assert_eq!(st(&m, "good.test", "mx.target"), ["skip"], "{}", run.stdout);
    assert_eq!(st(&m, "good.test", "mtasts.fetch"), ["skip"]);
    assert_eq!(st(&m, "implicit.test", "mx.target"), ["skip"]);
    for (d, id) in [
        ("good.test", "mx.target"),
        ("good.test", "mtasts.fetch"),
        ("implicit.test", "mx.target"),
    ] {
        let c = lines
            .iter()
            .find(|v| v["domain"] == d && v["id"] == id)
            .unwrap();
        assert!(
            c["summary"]
                .as_str()
                .unwrap()
                .ends_with("no IPv6 address (-6)"),
            "{c}"
        );
    }
    assert_eq!(st(&m, "noaddr.test", "mx.target"), ["fail"]);
    let verdict = |d: &str| {
        lines
            .iter()
            .find(|v| v["type"] == "domain" && v["domain"] == d)
            .map(|v| v["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(verdict("good.test"), "pass", "{}", run.stdout);
    assert_eq!(verdict("noaddr.test"), "fail", "{}", run.stdout);
}

/// Addresses are capped like MX hosts (Postfix's `smtp_mx_address_limit` bounds them the same
/// way): a planted domain with hundreds of A records cannot aim `check` at hundreds of
/// addresses. Past the per-host and the per-domain limit the rest are left out with a warning
/// saying how many, and never connected to.
#[test]
fn check_caps_the_addresses_probed_per_host_and_per_domain() {
    let port = crate::util::free_port();
    let mut table: Vec<(String, RecordSpec)> = vec![(
        "wide.test".into(),
        RecordSpec::Mx(10, "mx.wide.test".into()),
    )];
    for i in 0..40u8 {
        table.push((
            "mx.wide.test".into(),
            RecordSpec::A(Ipv4Addr::new(127, 0, 3, i + 1)),
        ));
    }
    for h in 0..4u8 {
        let host = format!("m{h}.deep.test");
        table.push((
            "deep.test".into(),
            RecordSpec::Mx(10 + u16::from(h), host.clone()),
        ));
        for i in 0..8u8 {
            table.push((
                host.clone(),
                RecordSpec::A(Ipv4Addr::new(127, 0, 4 + h, i + 1)),
            ));
        }
    }
    let records: Vec<(&str, RecordSpec)> =
        table.iter().map(|(n, r)| (n.as_str(), r.clone())).collect();
    let (dns, _h) = FakeDns::start(records);
    let only = [
        "--timeout",
        "2s",
        "--only",
        "mx.*",
        "--only",
        "smtp.connect",
    ];
    let (run, c) = signed_check(
        dns,
        None,
        port,
        &only,
        &["wide.test", "deep.test"],
        Duration::from_secs(60),
    );
    assert_eq!(
        c.status("wide.test", "smtp.connect").len(),
        8,
        "{}",
        run.stdout
    );
    c.says(
        "wide.test",
        "mx.target",
        "mx.wide.test has 40 addresses: only the first 8 are checked, 32 left out",
    );
    assert_eq!(
        c.status("deep.test", "smtp.connect").len(),
        16,
        "{}",
        run.stdout
    );
    c.says(
        "deep.test",
        "mx.target",
        "deep.test has 32 MX addresses: only the first 16 are checked, 16 left out",
    );
    assert!(
        c.status("deep.test", "mx.target")
            .contains(&"warn".to_string()),
        "{}",
        run.stdout
    );
}

/// An invalid policy is no policy (RFC 8461 §3.3: senders deliver as without MTA-STS): it is
/// reported, but a certificate warning on the MX it would cover stays a warning.
#[test]
fn an_invalid_policy_does_not_upgrade_certificate_findings() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&["noversion.test"]);
    assert_eq!(
        st(&m, "noversion.test", "mtasts.policy"),
        ["fail"],
        "{}",
        run.stdout
    );
    // Its mx line matches the MX, but there is no policy to match: no pass (it used to pass).
    assert_eq!(st(&m, "noversion.test", "mtasts.mx-match"), ["skip"]);
    let mx_match = lines.iter().find(|v| v["id"] == "mtasts.mx-match").unwrap();
    assert!(
        mx_match["summary"]
            .as_str()
            .unwrap()
            .starts_with("the policy is not valid (mtasts.policy), so senders have no policy"),
        "{mx_match}"
    );
    assert_eq!(st(&m, "noversion.test", "tls.cert.name"), ["warn"]);
    let name = lines.iter().find(|v| v["id"] == "tls.cert.name").unwrap();
    assert!(
        !name["summary"].as_str().unwrap().contains("MTA-STS"),
        "{name}"
    );
    let (run, m, _) = lab.json(&["noversion.test", "--only", "tls.*"]);
    assert_eq!(st(&m, "noversion.test", "tls.cert.name"), ["warn"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// The system store as `SSL_CERT_FILE` gives it (the private CA, with a hashed directory that
/// does not know it): check's certificate verdicts and the MTA-STS fetch verify the chain as the
/// send does, although check enforces nothing. They used to consult only the directory and warn
/// "unable to get local issuer certificate".
#[test]
fn ssl_cert_file_is_trusted_by_check_as_by_the_send() {
    let lab = Lab::start();
    let empty = tempfile::tempdir().unwrap();
    let mut args = lab.args(&["--json", "good.test", "sts.test"]);
    let at = args.iter().position(|a| a == "--tls-ca-path").unwrap();
    args.drain(at..at + 2);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let ca = lab.ca.path().display().to_string();
    let run = ehlo_with_env(
        &refs,
        &[
            ("SSL_CERT_FILE", ca.as_str()),
            ("SSL_CERT_DIR", empty.path().to_str().unwrap()),
        ],
        None,
        Duration::from_secs(60),
    );
    let mut m: Statuses = HashMap::new();
    for l in run.stdout.lines() {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        if v["type"] == "check" {
            m.entry((
                v["domain"].as_str().unwrap().into(),
                v["id"].as_str().unwrap().into(),
            ))
            .or_default()
            .push(v["status"].as_str().unwrap().into());
        }
    }
    assert_eq!(
        st(&m, "good.test", "tls.cert.chain"),
        ["pass"],
        "{}",
        run.stdout
    );
    assert_eq!(
        st(&m, "sts.test", "mtasts.fetch"),
        ["pass"],
        "{}",
        run.stdout
    );
}

/// A chain whose issuer the trust store does not know: the warning names the issuer the server
/// did not send (the lab's CA). It said only "unable to get local issuer certificate", the same
/// for an intermediate left out and for a private root.
#[test]
fn an_unknown_issuer_is_named_in_the_chain_warning() {
    let lab = Lab::start();
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other-ca.pem");
    let ck = rcgen::generate_simple_self_signed(vec!["other-ca.test".into()]).unwrap();
    std::fs::write(&other, ck.cert.pem()).unwrap();
    let mut args = lab.args(&["--json", "good.test", "--only", "tls.cert.chain"]);
    let at = args.iter().position(|a| a == "--tls-ca-path").unwrap();
    args[at + 1] = other.display().to_string();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = ehlo_with_env(&refs, &[], None, Duration::from_secs(60));
    let chain = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .find(|v| v["id"] == "tls.cert.chain")
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert_eq!(chain["status"], "warn", "{chain}");
    let summary = chain["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(
            "does not verify: unable to get local issuer certificate: the server did not send \
             its certificate's issuer /"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("the trust store does not hold it"),
        "{summary}"
    );
}

/// A report that cannot be written (stdout on a full disk) is said on stderr: it used to vanish
/// without a word. The verdict's exit code stands; a closed pipe (`| head`) stays quiet.
#[test]
fn a_report_lost_to_a_full_disk_is_said_on_stderr() {
    let quiet = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = quiet.local_addr().unwrap().to_string();
    for json in [false, true] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ehlo"));
        cmd.args([
            "check",
            "example.test",
            "--only",
            "mx.lookup",
            "--dnssec",
            "off",
            "--dns-server",
            &dns,
            "--timeout",
            "1s",
        ]);
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .env_remove("CI")
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(41), "json {json}: {stderr}");
        assert!(
            stderr.contains("the report could not be written to stdout: No space left on device"),
            "json {json}: {stderr}"
        );
    }
}

/// Run `ehlo ARGS` where /etc/resolv.conf is an empty file (a mount namespace of its own:
/// `unshare -rm`, the bind mount seen by nothing else).
fn with_empty_resolv_conf(args: &[&str]) -> (i32, String, String) {
    let empty = tempfile::NamedTempFile::new().unwrap();
    let mut script = format!(
        "mount --bind '{}' /etc/resolv.conf && exec '{}'",
        empty.path().display(),
        env!("CARGO_BIN_EXE_ehlo")
    );
    for a in args {
        script.push_str(&format!(" '{a}'"));
    }
    let out = std::process::Command::new("unshare")
        .args(["-rm", "sh", "-c", &script])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("unshare runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A DNS server this host has no route to (a network namespace of its own, `unshare -rn`,
/// where even loopback is down) answers nothing: every lookup could not be tested, the DNSSEC
/// verdict too (hickory's "no connections available"; it failed the domain, exit 40, while
/// `mx.lookup` said error).
#[test]
fn a_dns_server_out_of_reach_is_an_error_not_a_dnssec_failure() {
    let out = std::process::Command::new("unshare")
        .args(["-rn", env!("CARGO_BIN_EXE_ehlo"), "check", "example.test"])
        .args(["--dns-server", "127.0.0.1:1", "--timeout", "2s", "--json"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("unshare runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(41), "{stdout}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let dnssec = lines
        .iter()
        .find(|v| v["id"] == "dnssec.domain")
        .expect("dnssec.domain");
    assert_eq!(dnssec["status"], "error", "{dnssec}");
}

/// No usable system resolver (an empty /etc/resolv.conf) is this host's set-up, not a finding
/// about any domain: one line saying what to do, exit 10, no report. It used to be a report
/// where every lookup failed, DNSSEC verdicts failing the domain (exit 40).
#[test]
fn an_unusable_resolv_conf_is_one_line_and_exit_10() {
    let (code, out, err) = with_empty_resolv_conf(&["check", "example.test", "--timeout", "2s"]);
    assert_eq!(code, 10, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cannot set up DNS"), "{err}");
    assert!(err.contains("/etc/resolv.conf"), "{err}");
    assert!(err.contains("--dns-server"), "{err}");
    let (code, out, err) =
        with_empty_resolv_conf(&["check", "example.test", "--timeout", "2s", "--json"]);
    assert_eq!(code, 10, "{out}{err}");
    // Under --json the stream is still a whole one: `schema` first, the `error`, and the
    // `summary` with the exit code last (it used to be the `error` line alone, no `schema`
    // and no `summary`, and nothing on stderr).
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["schema", "error", "summary"], "{out}");
    assert_eq!(lines[0]["mode"], "check", "{out}");
    let message = lines[1]["message"].as_str().unwrap();
    assert!(message.contains("cannot set up DNS"), "{out}");
    let summary = &lines[2];
    assert_eq!(summary["exit_code"], 10, "{out}");
    assert_eq!(summary["domains"], 0, "{out}");
    assert_eq!(summary["stopped"], message, "{out}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(err.trim(), format!("*** {message}"), "{err}");
}

/// `--deadline` reports what a domain had already checked with its real results, and only what
/// had not finished as cut by the deadline: `error` (exit 41), "not finished: deadline reached",
/// evidence `unfinished`. It used to drop every result of an unfinished domain, the MX, SPF and
/// DMARC lookups and the connection to its MX included.
#[test]
fn the_deadline_keeps_the_checks_that_had_finished() {
    let lab = Lab::start();
    let junit = tempfile::NamedTempFile::new().unwrap();
    let path = junit.path().display().to_string();
    let deadline = ["--timeout", "30s", "--deadline", "2s"];
    let mut args = vec!["good.test", "silent.test", "--junit", &path];
    args.extend(deadline);
    let (run, m, lines) = lab.json(&args);
    assert_eq!(run.code, 41, "{}", run.all());
    // Finished before the deadline: real results.
    assert_eq!(
        st(&m, "silent.test", "mx.lookup"),
        ["pass"],
        "{}",
        run.stdout
    );
    for id in ["spf.record", "dmarc.record", "mtasts.txt"] {
        assert_ne!(st(&m, "silent.test", id), ["error"], "{id}: {}", run.stdout);
    }
    assert_eq!(
        st(&m, "silent.test", "smtp.connect"),
        ["pass"],
        "{}",
        run.stdout
    );
    // Waiting for the greeting when the deadline struck, and what comes after it.
    for id in ["smtp.banner", "smtp.ehlo", "tls.starttls", "ipv6.mx"] {
        let l = line_of(&lines, "silent.test", id);
        assert_eq!(l["status"], "error", "{l}");
        assert_eq!(
            l["summary"], "not finished: deadline reached (--deadline)",
            "{l}"
        );
        assert_eq!(l["evidence"]["unfinished"], true, "{l}");
    }
    let finished = lines
        .iter()
        .find(|v| v["type"] == "check" && v["domain"] == "silent.test" && v["id"] == "mx.lookup")
        .unwrap();
    assert!(
        finished["evidence"].get("unfinished").is_none(),
        "{finished}"
    );
    let domain = lines
        .iter()
        .find(|v| v["type"] == "domain" && v["domain"] == "silent.test")
        .unwrap();
    assert_eq!(domain["status"], "error", "{domain}");
    assert_eq!(domain["error"], "deadline reached (--deadline)", "{domain}");
    assert!(domain["counts"]["pass"].as_u64().unwrap() > 0, "{domain}");
    let summary = lines.last().unwrap();
    assert_eq!(summary["exit_code"], 41, "{summary}");
    // The JUnit file has them too.
    let xml = std::fs::read_to_string(junit.path()).unwrap();
    let suite = &xml[xml
        .find(r#"<testsuite name="silent.test""#)
        .expect("silent.test suite")..];
    assert!(suite.contains(r#"<testcase name="mx.lookup""#), "{xml}");
    assert!(suite.contains("not finished: deadline reached"), "{xml}");
    // And the human report.
    let mut args = vec!["good.test", "silent.test"];
    args.extend(deadline);
    let r = lab.run(&args);
    assert_eq!(r.code, 41, "{}", r.all());
    let block = &r.stdout[r.stdout.find("silent.test  ").expect("silent.test block")..];
    assert!(block.contains("✓ pass  mx.lookup"), "{}", r.stdout);
    assert!(
        block.contains("not finished: deadline reached (--deadline)"),
        "{}",
        r.stdout
    );
}

/// Under `-4`, `ipv6.mx` is decided before anything is asked ("-4: IPv6 not tested", a skip):
/// a domain `--deadline` cut keeps that skip. It was reported "not finished: deadline reached",
/// one more `error` in the counts and the JUnit file than the run had.
#[test]
fn the_deadline_keeps_ipv6_mx_skipped_under_dash_4() {
    let lab = Lab::start();
    let (run, _, lines) = lab.json(&["silent.test", "-4", "--timeout", "30s", "--deadline", "2s"]);
    assert_eq!(run.code, 41, "{}", run.all());
    let check = |id: &str| line_of(&lines, "silent.test", id).clone();
    let v6 = check("ipv6.mx");
    assert_eq!(v6["status"], "skip", "{v6}");
    assert_eq!(v6["summary"], "-4: IPv6 not tested", "{v6}");
    assert!(v6["evidence"].get("unfinished").is_none(), "{v6}");
    // What the deadline did cut is still said so.
    let banner = check("smtp.banner");
    assert_eq!(banner["status"], "error", "{banner}");
    assert_eq!(banner["evidence"]["unfinished"], true, "{banner}");
}

/// Every `--expect` appears in the human report, the JSON and the JUnit file with a verdict,
/// for every domain: one about a check `--deadline` cut (an MX that accepts the connection and
/// never greets), or about a domain the deadline kept from starting, is "not decided" with the
/// reason. It used to disappear from all three outputs (only met and unmet ones were listed),
/// so a run exited 41 and nobody could see which assertion had not been decided.
#[test]
fn an_expectation_the_deadline_cut_is_listed_not_decided_everywhere() {
    let lab = Lab::start();
    let junit = tempfile::NamedTempFile::new().unwrap();
    let path = junit.path().display().to_string();
    // One domain at a time: good.test finishes, silent.test hangs, late.test never starts.
    let common = [
        "good.test",
        "silent.test",
        "late.test",
        "--concurrency",
        "1",
        "--timeout",
        "30s",
        "--deadline",
        "3s",
        "--expect",
        "tls.starttls=pass",
        "--expect",
        "mx.count>=1",
    ];
    let mut args = common.to_vec();
    args.extend(["--junit", &path]);
    let (run, _m, lines) = lab.json(&args);
    assert_eq!(run.code, 41, "{}", run.all());
    let expect = |domain: &str, e: &str| {
        lines
            .iter()
            .find(|v| v["type"] == "expect" && v["domain"] == domain && v["expect"] == e)
            .unwrap_or_else(|| panic!("no expect {e} for {domain}: {}", run.stdout))
            .clone()
    };
    let cut = expect("silent.test", "tls.starttls=pass");
    assert_eq!(cut["verdict"], "not_decided", "{cut}");
    assert_eq!(cut["met"], false, "{cut}");
    let reason = cut["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("tls.starttls not finished on mx-silent.lab.test")
            && reason.ends_with(": deadline reached (--deadline)"),
        "{cut}"
    );
    // The MX lookup had finished: decided.
    let mx = expect("silent.test", "mx.count>=1");
    assert_eq!(mx["verdict"], "met", "{mx}");
    assert!(mx["reason"].is_null(), "{mx}");
    assert_eq!(expect("good.test", "tls.starttls=pass")["verdict"], "met");
    for e in ["tls.starttls=pass", "mx.count>=1"] {
        let late = expect("late.test", e);
        assert_eq!(late["verdict"], "not_decided", "{late}");
        assert_eq!(
            late["reason"], "the domain was not checked to the end: deadline reached (--deadline)",
            "{late}"
        );
    }
    // JUnit: an <error> with the reason as its text.
    let xml = std::fs::read_to_string(junit.path()).unwrap();
    let suite = &xml[xml
        .find(r#"<testsuite name="silent.test""#)
        .expect("silent.test suite")..];
    let case = &suite[suite
        .find(r#"<testcase name="tls.starttls=pass" classname="silent.test.expect""#)
        .unwrap_or_else(|| panic!("no expect case: {xml}"))..];
    let case = &case[..case.find("</testcase>").unwrap()];
    assert!(
        case.contains("<error") && case.contains("not decided: tls.starttls not finished"),
        "{case}"
    );
    let late = &xml[xml
        .find(r#"<testsuite name="late.test""#)
        .expect("late.test")..];
    assert!(
        late.contains(r#"<testcase name="mx.count&gt;=1" classname="late.test.expect""#),
        "{xml}"
    );
    // The human report.
    let r = lab.run(&common);
    assert_eq!(r.code, 41, "{}", r.all());
    let block = &r.stdout[r.stdout.find("silent.test  ").expect("silent.test block")..];
    let block = &block[..block.find("late.test  ").expect("late.test block")];
    assert!(
        block.contains("? error expect tls.starttls=pass  not decided: tls.starttls not finished"),
        "{}",
        r.stdout
    );
    assert!(block.contains("✓ pass  expect mx.count>=1"), "{}", r.stdout);
}

/// A domain whose DNS fails (SERVFAIL) could not be tested: an `--expect` about it is not
/// decided, the reason naming the lookup (exit 41, as the DNS error alone), and `--untested-ok`
/// does not pass an assertion the pipeline asked for by name. Both were unmet ("found nothing",
/// "found error"), exit 40: a resolver outage was reported as the domain failing its assertions.
#[test]
fn a_dns_failure_leaves_an_expectation_not_decided() {
    let lab = Lab::start();
    let args = [
        "broken.test",
        "--expect",
        "tls.starttls=pass",
        "--expect",
        "spf.record=pass",
    ];
    let (run, _m, lines) = lab.json(&args);
    assert_eq!(run.code, 41, "{}", run.all());
    let expects: Vec<&Value> = lines.iter().filter(|v| v["type"] == "expect").collect();
    assert_eq!(expects.len(), 2, "{}", run.stdout);
    for e in &expects {
        assert_eq!(e["verdict"], "not_decided", "{e}");
    }
    let reason = |i: usize| expects[i]["reason"].as_str().unwrap().to_string();
    assert!(
        reason(0).starts_with("no MX address to test: mx.lookup could not be tested: "),
        "{}",
        reason(0)
    );
    assert!(
        reason(1).starts_with("spf.record could not be tested: "),
        "{}",
        reason(1)
    );
    let mut ok = args.to_vec();
    ok.push("--untested-ok");
    let r = lab.run(&ok);
    assert_eq!(r.code, 41, "{}", r.all());
    assert!(
        r.stdout
            .contains("? error expect tls.starttls=pass  not decided: no MX address to test"),
        "{}",
        r.stdout
    );
    // Without an expectation, --untested-ok passes the DNS error as before.
    assert_eq!(lab.run(&["broken.test", "--untested-ok"]).code, 0);
}

/// Run the `#[ignore]`d test `name` of this binary alone inside a network namespace of its own
/// (`unshare -rn`) with only `lo` up and IPv6 disabled (`net.ipv6.conf.all.disable_ipv6=1`): a
/// runner without IPv6 connectivity. Its output if it did not pass.
fn in_a_namespace_without_ipv6(name: &str) -> Result<(), String> {
    crate::util::in_a_new_network_namespace("sysctl -qw net.ipv6.conf.all.disable_ipv6=1", name)
}

/// A policy host (`mta-sts.D`) with only IPv6 addresses, seen from a runner without IPv6, could
/// not be tested, like an IPv6-only MX from there (`smtp.connect`): `error` with the evidence
/// `no_local_route`, exit 41 — not a failure of the domain (it was `fail` "Cannot assign
/// requested address", exit 40). An IPv4 address of the same host that refuses still fails.
#[test]
fn an_ipv6_only_policy_host_without_ipv6_here_could_not_be_tested() {
    let name = concat!(
        "check::",
        "an_ipv6_only_policy_host_without_ipv6_here_could_not_be_tested_inside"
    );
    if let Err(out) = in_a_namespace_without_ipv6(name) {
        panic!("{out}");
    }
}

#[test]
#[ignore = "run inside a network namespace without IPv6 by the test of the same name"]
fn an_ipv6_only_policy_host_without_ipv6_here_could_not_be_tested_inside() {
    let (policy_v6, mx_v6) = (
        "2001:db8::25".parse::<std::net::Ipv6Addr>().unwrap(),
        "2001:db8::26".parse::<std::net::Ipv6Addr>().unwrap(),
    );
    // The precondition: no route to IPv6 from here (else this ran outside its namespace).
    let routed = std::net::UdpSocket::bind("[::]:0").and_then(|u| u.connect((policy_v6, 25)));
    assert!(
        routed.is_err(),
        "this host has an IPv6 route: run by the test of the same name without _inside"
    );
    let (dns, _h) = FakeDns::start(vec![
        // The MX and the policy host: IPv6 addresses only.
        ("v6only.test", RecordSpec::Mx(10, "mx.v6only.test".into())),
        ("mx.v6only.test", RecordSpec::Aaaa(mx_v6)),
        (
            "_mta-sts.v6only.test",
            RecordSpec::Txt("v=STSv1; id=1".into()),
        ),
        ("mta-sts.v6only.test", RecordSpec::Aaaa(policy_v6)),
        // The policy host also has an IPv4 address, where nothing listens: that is its fault.
        ("mixed.test", RecordSpec::Mx(10, "mx.v6only.test".into())),
        (
            "_mta-sts.mixed.test",
            RecordSpec::Txt("v=STSv1; id=1".into()),
        ),
        ("mta-sts.mixed.test", RecordSpec::Aaaa(policy_v6)),
        ("mta-sts.mixed.test", RecordSpec::A(Ipv4Addr::LOCALHOST)),
    ]);
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = free.local_addr().unwrap().port().to_string();
    drop(free);
    let dns = dns.to_string();
    let run = |domain: &str, json: bool| {
        let mut args = vec![
            "check",
            domain,
            "--dnssec",
            "off",
            "--dns-server",
            &dns,
            "--allow-private",
            "--timeout",
            "2s",
            "--mta-sts-port",
            &closed,
        ];
        if json {
            args.push("--json");
        }
        ehlo_with(&args, None, Duration::from_secs(60))
    };
    let checks = |r: &Run| -> HashMap<String, Value> {
        r.stdout
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["type"] == "check")
            .map(|v| (v["id"].as_str().unwrap().to_string(), v))
            .collect()
    };

    let r = run("v6only.test", true);
    assert_eq!(r.code, 41, "{}{}", r.stdout, r.stderr);
    let c = checks(&r);
    for id in ["mtasts.fetch", "smtp.connect", "ipv6.mx"] {
        assert_eq!(c[id]["status"], "error", "{id}: {}", r.stdout);
    }
    for id in ["mtasts.fetch", "smtp.connect"] {
        assert_eq!(
            c[id]["evidence"]["no_local_route"], true,
            "{id}: {}",
            r.stdout
        );
        let summary = c[id]["summary"].as_str().unwrap();
        assert!(
            summary.contains("this host has no route to IPv6 addresses")
                && summary.ends_with("could not be tested"),
            "{id}: {summary}"
        );
    }
    assert_eq!(c["mtasts.fetch"]["evidence"]["ip"], "2001:db8::25");
    // Nothing was fetched: the policy checks say so and do not fail.
    assert_eq!(c["mtasts.policy"]["status"], "skip", "{}", r.stdout);
    let r = run("v6only.test", false);
    assert_eq!(r.code, 41, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.contains("error mtasts.fetch") && l.contains("no route to IPv6 addresses")),
        "{}",
        r.stdout
    );

    let r = run("mixed.test", true);
    assert_eq!(r.code, 40, "{}{}", r.stdout, r.stderr);
    let c = checks(&r);
    let fetch = &c["mtasts.fetch"];
    assert_eq!(fetch["status"], "fail", "{}", r.stdout);
    assert_eq!(fetch["evidence"]["ip"], "127.0.0.1", "{}", r.stdout);
    assert!(
        fetch["summary"].as_str().unwrap().contains("refused"),
        "{}",
        r.stdout
    );
    assert_eq!(c["smtp.connect"]["status"], "error", "{}", r.stdout);
}

/// One `<testcase>` of a JUnit file: (suite, classname, name, outcome), read with plain string
/// scanning (the file has one element per line).
fn junit_cases(xml: &str) -> Vec<(String, String, String, &'static str)> {
    let attr = |tag: &str, name: &str| -> String {
        let key = format!(" {name}=\"");
        let Some(at) = tag.find(&key) else {
            return String::new();
        };
        let rest = &tag[at + key.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    };
    let mut out = Vec::new();
    let mut suite = String::new();
    let mut lines = xml.lines().map(str::trim).peekable();
    while let Some(l) = lines.next() {
        if l.starts_with("<testsuite ") {
            suite = attr(l, "name");
        } else if l.starts_with("<testcase ") {
            let (class, name) = (attr(l, "classname"), attr(l, "name"));
            let mut outcome = "pass";
            if !l.ends_with("/>") {
                for inner in lines.by_ref() {
                    if inner.starts_with("</testcase>") {
                        break;
                    }
                    for (tag, o) in [
                        ("<failure", "failure"),
                        ("<error", "error"),
                        ("<skipped", "skipped"),
                    ] {
                        if inner.starts_with(tag) {
                            outcome = o;
                        }
                    }
                }
            }
            out.push((suite.clone(), class, name, outcome));
        }
    }
    out
}

/// The JUnit file a CI system reads says what the report says: per suite, `tests`, `failures`,
/// `errors` and `skipped` equal its test cases, and fail/error/skip+info/pass+warn of the JSON
/// report map onto them one for one; every (classname, name) pair is unique, so a CI page
/// neither merges two results nor shows one twice. Domains with two MX hosts used to give
/// their per-host `mx.target` results the same classname and name.
#[test]
fn the_junit_counts_and_test_names_match_the_report() {
    let lab = Lab::start();
    let junit = tempfile::NamedTempFile::new().unwrap();
    let path = junit.path().display().to_string();
    let (run, _, lines) = lab.json(&[
        "good.test",
        "plain.test",
        "mixed.test",
        "twomx.test",
        "gone.test",
        "null.test",
        "noaddr.test",
        "--expect",
        "mx.count>=2",
        "--junit",
        &path,
    ]);
    assert_eq!(run.code, 40, "{}", run.all());
    let xml = std::fs::read_to_string(junit.path()).unwrap();
    let cases = junit_cases(&xml);
    // Each check line and each expectation is one test case.
    let checks: Vec<&Value> = lines.iter().filter(|v| v["type"] == "check").collect();
    let expects = lines.iter().filter(|v| v["type"] == "expect").count();
    assert_eq!(cases.len(), checks.len() + expects, "{xml}");
    let mut seen = std::collections::HashSet::new();
    for (suite, class, name, _) in &cases {
        assert!(
            seen.insert((class.clone(), name.clone())),
            "{class} {name} twice in {suite}:\n{xml}"
        );
    }
    // Outcome per check: fail → failure, error → error, skip/info → skipped, else a pass.
    let want = |status: &str| match status {
        "fail" => "failure",
        "error" => "error",
        "skip" | "info" => "skipped",
        _ => "pass",
    };
    let mut want_counts: HashMap<&str, usize> = HashMap::new();
    // A result that does not count (another MX address passes) is a pass with its note.
    let uncounted = |status: &str| {
        checks
            .iter()
            .filter(|c| c["counts"] == false && c["status"] == status)
            .count()
    };
    assert!(uncounted("fail") > 0, "{}", run.stdout);
    for c in &checks {
        let o = match c["counts"] == true {
            true => want(c["status"].as_str().unwrap()),
            false => "pass",
        };
        *want_counts.entry(o).or_default() += 1;
    }
    for e in lines.iter().filter(|v| v["type"] == "expect") {
        let o = match e["verdict"].as_str().unwrap() {
            "met" => "pass",
            "unmet" => "failure",
            _ => "error",
        };
        *want_counts.entry(o).or_default() += 1;
    }
    let mut got: HashMap<&str, usize> = HashMap::new();
    for (_, _, _, o) in &cases {
        *got.entry(o).or_default() += 1;
    }
    assert_eq!(got, want_counts, "{xml}");
    // The attributes agree with the elements, suite by suite and in total.
    let attr = |tag: &str, name: &str| -> usize {
        let key = format!(" {name}=\"");
        let rest = &tag[tag
            .find(&key)
            .unwrap_or_else(|| panic!("no {name} in {tag}"))
            + key.len()..];
        rest[..rest.find('"').unwrap()].parse().unwrap()
    };
    for tag in xml
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("<testsuite "))
    {
        let name = tag.split('"').nth(1).unwrap();
        let mine: Vec<_> = cases.iter().filter(|c| c.0 == name).collect();
        let n = |o: &str| mine.iter().filter(|c| c.3 == o).count();
        assert_eq!(attr(tag, "tests"), mine.len(), "{tag}");
        assert_eq!(attr(tag, "failures"), n("failure"), "{tag}");
        assert_eq!(attr(tag, "errors"), n("error"), "{tag}");
        assert_eq!(attr(tag, "skipped"), n("skipped"), "{tag}");
    }
    // The root carries no attribute (the Ant JUnit schema allows none): readers add the suites.
    assert!(xml.lines().any(|l| l == "<testsuites>"), "{xml}");
    let sum = |name: &str| -> usize {
        xml.lines()
            .map(str::trim)
            .filter(|l| l.starts_with("<testsuite "))
            .map(|t| attr(t, name))
            .sum()
    };
    assert_eq!(sum("tests"), cases.len(), "{xml}");
    assert_eq!(sum("failures"), got["failure"], "{xml}");
    assert_eq!(
        sum("errors"),
        got.get("error").copied().unwrap_or(0),
        "{xml}"
    );
    let summary = lines.iter().find(|v| v["type"] == "summary").unwrap();
    let total = |k: &str| summary["counts"][k].as_u64().unwrap() as usize;
    let unmet = lines
        .iter()
        .filter(|v| v["type"] == "expect" && v["verdict"] == "unmet")
        .count();
    assert!(unmet > 0, "{}", run.stdout);
    // The human and JSON summaries count every result; the JUnit file only those that count.
    assert_eq!(
        total("fail") - uncounted("fail") + unmet,
        got["failure"],
        "{summary}"
    );
    assert_eq!(
        total("error") - uncounted("error"),
        got.get("error").copied().unwrap_or(0),
        "{summary}"
    );
    assert_eq!(total("skip") + total("info"), got["skipped"], "{summary}");
}

/// A STARTTLS server on `listener` whose TLS is 1.0 only (an old MX: RFC 8996 deprecates it),
/// presenting `cert`/`key`; every connection served on its own thread, EHLO and QUIT answered.
pub(crate) fn tls10_only_mx(listener: TcpListener, cert: &std::path::Path, key: &std::path::Path) {
    use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod, SslOptions, SslVersion};
    use std::io::{BufRead, BufReader, Write};
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    b.clear_options(SslOptions::NO_TLSV1 | SslOptions::NO_TLSV1_1);
    b.set_min_proto_version(Some(SslVersion::TLS1)).unwrap();
    b.set_max_proto_version(Some(SslVersion::TLS1)).unwrap();
    // OpenSSL 3 refuses TLS 1.0's SHA-1 handshake above security level 0.
    b.set_cipher_list("DEFAULT:@SECLEVEL=0").unwrap();
    b.set_certificate_file(cert, SslFiletype::PEM).unwrap();
    b.set_private_key_file(key, SslFiletype::PEM).unwrap();
    let acceptor = Arc::new(b.build());
    // One command line, read a byte at a time: nothing of the TLS handshake is read ahead.
    fn line(r: &mut impl std::io::Read) -> Option<String> {
        let mut l = Vec::new();
        let mut byte = [0u8; 1];
        while !l.ends_with(b"\n") {
            (r.read(&mut byte).ok()? == 1).then_some(())?;
            l.push(byte[0]);
        }
        Some(String::from_utf8_lossy(&l).to_ascii_uppercase())
    }
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { return };
            let acceptor = acceptor.clone();
            std::thread::spawn(move || {
                let _ = c.write_all(b"220 mx-old.test ESMTP\r\n");
                while let Some(l) = line(&mut c) {
                    if l.starts_with("EHLO") {
                        let _ = c.write_all(b"250-mx-old.test\r\n250 STARTTLS\r\n");
                    } else if l.starts_with("STARTTLS") {
                        let _ = c.write_all(b"220 go ahead\r\n");
                        let Ok(tls) = acceptor.accept(c) else { return };
                        let mut r = BufReader::new(tls);
                        let mut l = String::new();
                        while r.read_line(&mut l).unwrap_or(0) > 0 {
                            let answer: &[u8] = if l.to_ascii_uppercase().starts_with("QUIT") {
                                b"221 bye\r\n"
                            } else {
                                b"250 mx-old.test\r\n"
                            };
                            if r.get_mut().write_all(answer).is_err() || answer.starts_with(b"221")
                            {
                                return;
                            }
                            l.clear();
                        }
                        return;
                    } else if l.starts_with("QUIT") {
                        let _ = c.write_all(b"221 bye\r\n");
                        return;
                    } else {
                        let _ = c.write_all(b"250 ok\r\n");
                    }
                }
            });
        }
    });
}

/// An MX that speaks only TLS 1.0: check's own handshake (TLS 1.2/1.3) finds no version in
/// common, so the certificate checks have nothing to judge — said once, with the way to judge
/// it. With --tls-probe the certificate the server presented in TLS 1.0 is judged as any MX's
/// is (here: trusted, but for another name, so tls.cert.name warns), not left skipped.
#[test]
fn an_mx_speaking_only_tls_1_0_has_its_certificate_judged_with_tls_probe() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = CertificateParams::new(vec!["other.example".to_string()]).unwrap();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "other.example");
    let (cert, key) = pem_pair(dir.path(), "old", p, None);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    tls10_only_mx(listener, &cert, &key);
    let cert_path = cert.display().to_string();
    let run = |extra: &[&str]| -> Vec<Value> {
        let mut args = vec![
            "check",
            "--json",
            "localhost",
            "-4",
            "--port",
            &port,
            "--allow-private",
            "--tls-ca-path",
            &cert_path,
            "--timeout",
            "5s",
            "--only",
            "tls.*",
        ];
        args.extend_from_slice(extra);
        let run = ehlo_with(&args, None, Duration::from_secs(60));
        assert_eq!(run.code, 40, "{}", run.all());
        run.stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "check")
            .collect()
    };
    let find = |lines: &[Value], id: &str| -> Value {
        lines
            .iter()
            .find(|v| v["id"] == id)
            .unwrap_or_else(|| panic!("no {id}: {lines:?}"))
            .clone()
    };
    let plain = run(&[]);
    assert_eq!(find(&plain, "tls.handshake")["status"], "fail");
    let chain = find(&plain, "tls.cert.chain");
    assert_eq!(chain["status"], "skip", "{chain}");
    assert!(
        chain["summary"]
            .as_str()
            .unwrap()
            .contains("may offer only TLS 1.0/1.1, which check leaves out (--tls-probe judges"),
        "{chain}"
    );
    for id in ["tls.cert.name", "tls.cert.expiry", "tls.cert.key"] {
        let c = find(&plain, id);
        assert_eq!(c["status"], "skip", "{c}");
        assert_eq!(c["summary"], "no TLS session", "{c}");
    }

    let probed = run(&["--tls-probe"]);
    assert_eq!(find(&probed, "tls.handshake")["status"], "fail");
    let versions = find(&probed, "tls.versions");
    assert_eq!(
        versions["evidence"]["accepted"],
        serde_json::json!(["1.0"]),
        "{versions}"
    );
    for (id, status) in [
        ("tls.cert.chain", "pass"),
        ("tls.cert.name", "warn"),
        ("tls.cert.expiry", "pass"),
        ("tls.cert.key", "pass"),
    ] {
        let c = find(&probed, id);
        assert_eq!(c["status"], status, "{c}");
        assert!(
            c["summary"]
                .as_str()
                .unwrap()
                .ends_with("(presented in TLSv1, found by --tls-probe)"),
            "{c}"
        );
        assert_eq!(c["evidence"]["protocol"], "TLSv1", "{c}");
    }
    let name = find(&probed, "tls.cert.name");
    assert!(
        name["summary"]
            .as_str()
            .unwrap()
            .starts_with("not valid for localhost (it names DNS:other.example)"),
        "{name}"
    );
}

/// Validating (check's default, and with `--dnssec trust-ad`), a DNS server that never answers
/// costs one `--timeout` per step, as the README says of every lookup: the MX question timed
/// out validated was then asked plainly with a whole `--timeout` of its own (4 s at
/// `--timeout 2`). The plain ask only gets what is left of the one lookup's time.
#[test]
fn a_silent_dns_server_costs_one_timeout_per_step_when_validating() {
    let quiet = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = quiet.local_addr().unwrap().to_string();
    for mode in ["validate", "trust-ad", "off"] {
        let t0 = std::time::Instant::now();
        let r = ehlo_with(
            &[
                "check",
                "example.test",
                "--only",
                "mx.lookup",
                "--dnssec",
                mode,
                "--dns-server",
                &dns,
                "--timeout",
                "2s",
            ],
            None,
            Duration::from_secs(30),
        );
        let took = t0.elapsed();
        assert_eq!(r.code, 41, "{mode}: {}", r.all());
        assert!(
            r.stdout.contains("error mx.lookup") && r.stdout.contains("timed out"),
            "{mode}: {}",
            r.stdout
        );
        assert!(
            took >= Duration::from_millis(1900) && took < Duration::from_millis(3500),
            "{mode}: {took:?}"
        );
    }
}

/// A DNS server that answers nothing is found out once, not waited out for every domain: after
/// a few lookups ran out of time with no answer and its root probe went unanswered too, the
/// next domains' lookups are not sent and say why (exit 41, "could not test", as before). Twelve
/// domains one at a time took twelve `--timeout`s; now about two (the first domain's, the probe's).
#[test]
fn a_silent_dns_server_is_not_waited_out_for_every_domain() {
    let quiet = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = quiet.local_addr().unwrap().to_string();
    let domains: Vec<String> = (1..=12).map(|i| format!("d{i}.test")).collect();
    for mode in ["off", "trust-ad", "validate"] {
        let mut args = vec![
            "check",
            "--dnssec",
            mode,
            "--dns-server",
            &dns,
            "--timeout",
            "1s",
            "--concurrency",
            "1",
            "--only",
            "mx.lookup",
            "--only",
            "spf.record",
            "--only",
            "dmarc.record",
            "--color",
            "never",
        ];
        args.extend(domains.iter().map(String::as_str));
        let t0 = std::time::Instant::now();
        let r = ehlo_with(&args, None, Duration::from_secs(60));
        let took = t0.elapsed();
        assert_eq!(r.code, 41, "{mode}: {}", r.all());
        assert!(!r.stdout.contains("✗ fail"), "{mode}: {}", r.stdout);
        assert!(
            r.stdout.contains(&format!(
                "DNS lookup of d1.test timed out (no answer from {dns}"
            )),
            "{mode}: {}",
            r.stdout
        );
        assert!(
            r.stdout.contains(&format!(
                "DNS lookup of d12.test failed: not asked: the DNS server {dns} answered none of \
                 this run's lookups"
            )),
            "{mode}: {}",
            r.stdout
        );
        assert!(took < Duration::from_secs(7), "{mode}: {took:?}");
    }
}

#[test]
fn a_typo_in_a_ci_flag_is_answered_with_what_was_meant() {
    // All refused before any lookup (exit 1, one line), now with the nearest id or domain: the
    // list of every id alone left the reader to find the typo.
    let base = [
        "check",
        "--dns-server",
        "127.0.0.1:9",
        "--timeout",
        "1s",
        "example.test",
    ];
    for (extra, said) in [
        (
            &["--only", "tls.cert.expiri"][..],
            "'tls.cert.expiri' matches no id (did you mean tls.cert.expiry?); valid ids: ",
        ),
        (&["--skip", "mx.lookp"], "(did you mean mx.lookup?)"),
        (
            &["--waive", "dmarc.recrod@example.test"],
            "(did you mean dmarc.record?)",
        ),
        (
            &["--expect", "tls.starttsl=pass"],
            "(did you mean tls.starttls?)",
        ),
        (
            &["--expect", "tls.cert.dys>=21"],
            "(did you mean tls.cert.days?)",
        ),
        // Taken and waiving nothing before: a CI job's typo went unnoticed.
        (
            &["--waive", "dmarc.record@exmaple.test"],
            "--waive 'dmarc.record@exmaple.test': exmaple.test is not a domain checked, so it would waive nothing (did you mean example.test?)",
        ),
        // A negative count was read as an unknown option '-1'; now out of range, as 0 is.
        (
            &["--concurrency", "-1"],
            "invalid value '-1' for --concurrency of 'ehlo check': -1 is not in 1..=1000",
        ),
        (
            &["--per-ip", "-1"],
            "invalid value '-1' for --per-ip of 'ehlo check': -1 is not in 1..=1000",
        ),
        (
            &["--concurrency", "0"],
            "invalid value '0' for --concurrency of 'ehlo check': 0 is not in 1..=1000",
        ),
        // 10000 domains at once held some 400 MB for DNS-only work and sped nothing up (the
        // DNS lookups of the run are capped at 256 in flight): over the documented ceiling.
        (
            &["--concurrency", "1001"],
            "invalid value '1001' for --concurrency of 'ehlo check': 1001 is not in 1..=1000",
        ),
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let r = ehlo(&args);
        assert_eq!(r.code, 1, "{extra:?}: {}", r.all());
        assert!(r.stderr.contains(said), "{extra:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{extra:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{extra:?}: {}", r.stdout);
    }
    // `ehlo probe` has its own ids, and the same answer (and no empty list of fields).
    let r = ehlo(&[
        "probe",
        "127.0.0.1",
        "--to",
        "a@example.test",
        "--only",
        "starttls.injectin",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("(did you mean starttls.injection?)"),
        "{}",
        r.stderr
    );
    let r = ehlo(&[
        "probe",
        "127.0.0.1",
        "--to",
        "a@example.test",
        "--expect",
        "relay.opne=pass",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains(
            "unknown probe id 'relay.opne' (did you mean relay.open?); a probe id names one probe"
        ) && r.stderr.contains("; valid ids: "),
        "{}",
        r.stderr
    );
}

/// `--deadline` covers the whole run, reading the domain list included. The list used to be read
/// to its end before the deadline started: `(echo d; sleep 8) | ehlo check - --deadline 2s` ran
/// 8 s and exited 0. Now a list still open at the deadline stops being read there, nothing is
/// checked, and the run ends as a deadline ending does: every name read so far reported as not
/// checked (a half-written last line is not a name), the JSON schema and summary lines, exit 41.
#[test]
fn the_deadline_covers_reading_the_domain_list_from_stdin() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let lab = Lab::start();
    let args = lab.args(&["-", "--json", "--deadline", "2s"]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    isolate(&mut cmd);
    cmd.args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let t0 = std::time::Instant::now();
    let mut child = cmd.spawn().unwrap();
    // The pipe stays open (held here) for the whole run: the list never ends.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"good.test\nnomx.test\nsilent.te").unwrap();
    stdin.flush().unwrap();
    let (code, _) = wait_sampling(&mut child, Duration::from_secs(20));
    let took = t0.elapsed();
    drop(stdin);
    let out = read_to_end(child.stdout.take().unwrap());
    assert!(took < Duration::from_secs(6), "ran {took:?}: {out}");
    assert_eq!(code, 41, "{out}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["schema", "domain", "domain", "summary"], "{out}");
    let why = "deadline reached while reading the domain list (--deadline)";
    for (l, d) in lines[1..3].iter().zip(["good.test", "nomx.test"]) {
        assert_eq!(l["domain"], d, "{out}");
        assert_eq!(l["error"], why, "{out}");
    }
    assert_eq!(lines[3]["stopped"], why, "{out}");
    assert_eq!(lines[3]["exit_code"], 41, "{out}");
    // Nothing was checked: no session reached any server.
    for tap in lab.taps.values() {
        assert_eq!(tap.connections.load(Ordering::SeqCst), 0, "{out}");
    }
}

/// `--junit` after a `--deadline` that came before most of a long list was started: each
/// domain never started is in the file (an `error` suite, as before), but its `<testsuite>` is
/// made as the file is written, and the file is written a suite at a time. Every one of them was
/// kept as text to the end and then assembled into one more copy of the whole file: 30 000
/// domains aborted under a 64 MiB data limit (`ulimit -d`, exit 134), a million peaked at
/// 1.5 GB resident for a 700 MB file.
#[test]
fn junit_of_domains_the_deadline_never_started_is_not_held() {
    // A DNS server port where nothing listens: every lookup waits, the deadline cuts the run
    // with only the first `--concurrency` domains started.
    let dns = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list");
    let names: String = (0..30_000)
        .map(|i| format!("d{i}.example.test\n"))
        .collect();
    std::fs::write(&list, names).unwrap();
    let junit = dir.path().join("report.xml");
    let at_list = format!("@{}", list.display());
    let args = [
        "check",
        &at_list,
        "--only",
        "mx.lookup",
        "--dns-server",
        &dns,
        "--deadline",
        "1s",
        "--json",
        "--junit",
        junit.to_str().unwrap(),
    ];
    let run = run_cmd(
        under_data_limit(48 << 10),
        &args,
        None,
        Duration::from_secs(120),
    );
    assert_eq!(run.code, 41, "{}", run.stderr);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 30_000);
    assert!(xml.ends_with("</testsuites>\n"));
    assert!(
        xml.contains(r#"<testsuite name="d29999.example.test" tests="1" skipped="0" errors="1""#),
        "{}",
        &xml[xml.len() - 2000..]
    );
    let domains = run
        .stdout
        .lines()
        .filter(|l| l.contains(r#""type":"domain""#))
        .count();
    assert_eq!(domains, 30_000);
}

/// `--deadline` is a promise about when the run ends, whatever the length of the list: the
/// domains it came before are each still reported (a `domain` line, a human row, a JUnit
/// suite), written from one text made once. Each of them went through the whole report path
/// (a report made, judged, rendered, its suite made), and a million names that fail fast ended
/// 2-6 s past `--deadline 10s` (release build; `--json` the slowest). What is bounded is the
/// run's own CPU time (the waiting before the deadline costs none): a bound on the clock failed
/// once on a machine loaded with other builds (19.6 s against 13 s, for a run of about a second
/// of CPU), while the old code spent many times the bound on this list in a debug build. The
/// clock bounds only a hang.
#[test]
fn a_long_list_cut_by_the_deadline_ends_soon_after_it_in_every_format() {
    // A DNS server port where nothing listens: every lookup waits, the deadline cuts the run
    // with only the first `--concurrency` domains started.
    let dns = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list");
    const N: usize = 200_000;
    let names: String = (0..N).map(|i| format!("d{i}.example.test\n")).collect();
    std::fs::write(&list, names).unwrap();
    let junit = dir.path().join("report.xml");
    let at_list = format!("@{}", list.display());
    let base = [
        "check",
        &at_list,
        "--only",
        "mx.lookup",
        "--dns-server",
        &dns,
        "--deadline",
        "3s",
        "--expect",
        "mx.count>=1",
    ];
    let junit_path = junit.to_str().unwrap();
    // The three runs at once: each waits out its deadline idle.
    let run_one = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let run = run_cmd(with_cpu_time(), &args, None, Duration::from_secs(120));
        assert_eq!(run.code, 41, "{extra:?}: {}", run.stderr);
        // Reading and checking the list and writing the report: 1.0-1.9 s of CPU in a debug
        // build (the old code: 12 s for the human report, 50 s for JSON Lines, nearly all of
        // it CPU), whatever the clock says on a loaded machine.
        let cpu = cpu_time(&run);
        assert!(
            cpu < Duration::from_secs(6),
            "{extra:?}: a 3 s deadline took {cpu:?} of CPU ({:?} on the clock)",
            run.elapsed
        );
        if extra.is_empty() {
            let not_started = run
                .stdout
                .lines()
                .filter(|l| *l == "  ? error not started: deadline reached (--deadline)")
                .count();
            assert!(not_started >= N - 64, "{not_started}");
            assert!(run.stdout.contains("d199999.example.test  ? ERROR\n"));
            assert!(
                run.stdout
                    .contains(" not started; a run cut short exits 41\n"),
                "{}",
                &run.stdout[run.stdout.len() - 500..]
            );
            return;
        }
        // Every line is parsed as JSON all the same, into the three fields looked at: a
        // `Value` of each of the 600 000 lines took a debug build twice the CPU time.
        #[derive(serde::Deserialize)]
        struct Line<'a> {
            #[serde(rename = "type")]
            kind: &'a str,
            index: Option<u64>,
            domain: Option<&'a str>,
        }
        let mut domains = 0;
        let mut expects = 0;
        for l in run.stdout.lines() {
            let v: Line = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            match v.kind {
                "domain" => {
                    assert_eq!(v.index, Some(domains), "{l}");
                    assert_eq!(v.domain, Some(&*format!("d{domains}.example.test")), "{l}");
                    domains += 1;
                }
                "expect" => expects += 1,
                _ => {}
            }
        }
        let last: Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
        assert_eq!(domains, N as u64);
        assert_eq!(expects, N);
        assert_eq!(last["type"], "summary", "{last}");
        let reached = &last["reached"];
        let sum: u64 = ["finished", "cut", "not_started"]
            .iter()
            .map(|k| reached[k].as_u64().unwrap())
            .sum();
        assert_eq!(sum, N as u64, "{last}");
        // The deadline cut the run: only the first `--concurrency` domains were started.
        let not_started = reached["not_started"].as_u64().unwrap();
        assert!(not_started >= N as u64 - 64, "{last}");
        if extra.len() > 1 {
            let xml = std::fs::read_to_string(&junit).unwrap();
            assert_eq!(xml.matches("<testsuite ").count(), N);
            assert!(xml.ends_with("</testsuites>\n"));
            assert!(
                xml.contains(
                    r#"<testsuite name="d199999.example.test" tests="2" skipped="0" errors="2""#
                ),
                "{}",
                &xml[xml.len() - 2000..]
            );
        }
    };
    let run_one = &run_one;
    let formats = [
        &[][..],
        &["--json"][..],
        &["--json", "--junit", junit_path][..],
    ];
    std::thread::scope(|s| {
        for extra in formats {
            s.spawn(move || run_one(extra));
        }
    });
}

/// Which domains a run cut by `--deadline` reached depends on timing, so its exit code must
/// not: a failure found before the cut made it 40, the same list cut a moment earlier 41. A
/// run cut short now exits 41 whatever it found (the failures still reported), and every
/// report says how far each domain got: the JSON `domain` line's `run` (`finished`, `cut`,
/// `not_started`), the summary's `reached`, the human rows and line.
#[test]
fn a_run_cut_by_the_deadline_exits_41_and_says_how_far_each_domain_got() {
    let lab = Lab::start();
    // One at a time: the name that does not exist fails at once, silent.test hangs, late.test
    // never starts.
    let common = [
        "a-name-nobody-has-here-at.good.test",
        "silent.test",
        "late.test",
        "--concurrency",
        "1",
        "--timeout",
        "30s",
        "--deadline",
        "2s",
    ];
    let (run, _m, lines) = lab.json(&common);
    assert_eq!(run.code, 41, "{}", run.all());
    let run_of = |d: &str| {
        lines
            .iter()
            .find(|v| v["type"] == "domain" && v["domain"] == d)
            .unwrap_or_else(|| panic!("no {d}: {}", run.stdout))["run"]
            .clone()
    };
    assert_eq!(run_of("a-name-nobody-has-here-at.good.test"), "finished");
    assert_eq!(run_of("silent.test"), "cut");
    assert_eq!(run_of("late.test"), "not_started");
    let summary = lines.last().unwrap();
    assert_eq!(summary["exit_code"], 41, "{summary}");
    assert_eq!(summary["verdicts"]["fail"], 1, "{summary}");
    assert_eq!(
        summary["reached"],
        serde_json::json!({"finished": 1, "cut": 1, "not_started": 1}),
        "{summary}"
    );
    let r = lab.run(&common);
    assert_eq!(r.code, 41, "{}", r.all());
    for l in [
        "a-name-nobody-has-here-at.good.test  ✗ FAIL",
        "  ? error cut short: deadline reached (--deadline)",
        "  ? error not started: deadline reached (--deadline)",
        "? error deadline reached (--deadline): the report is partial",
        "  1 domain checked to the end, 1 cut short, 1 not started; a run cut short exits 41",
    ] {
        assert!(r.stdout.lines().any(|x| x == l), "no {l:?}:\n{}", r.stdout);
    }
}

/// `--host` names one server: an IP address given with a domain (it cannot stand in for an MX
/// name), naming no host, or with a selection of domain checks only (which a server named
/// alone never runs), the command line is refused in one line, exit 1, before anything is
/// asked of the network.
#[test]
fn a_host_named_with_a_domain_or_malformed_is_refused() {
    for args in [
        &["check", "--host", "127.0.0.1", "example.test"][..],
        &["check", "--host", "bad host"][..],
        &["check", "--host", "127.0.0.1", "--only", "mx.lookup"][..],
    ] {
        let r = ehlo(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
}

/// A certificate for another name (and one from no trusted CA) is a warning on an MX, where
/// senders encrypt without verifying (RFC 7435), but a failure where clients verify: a
/// submission port (RFC 8314 §5.3), chosen with `--cert-problems fail` on the lab's port
/// (`auto` fails on 465, 587 and under `--tls-on-connect`: tests/interop.rs). There was no
/// way to say so: every port got the port-25 rule (the flag was unknown, exit 1).
#[test]
fn certificate_problems_fail_where_clients_verify_and_warn_on_an_mx() {
    let lab = Lab::start();
    let (run, m, lines) = lab.json(&["wrongname.test", "self.test", "--only", "tls.*"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(st(&m, "wrongname.test", "tls.cert.name"), ["warn"]);
    assert_eq!(st(&m, "self.test", "tls.cert.chain"), ["warn"]);
    assert_eq!(lines.last().unwrap()["outcome"], "ok");
    for choice in ["auto", "warn"] {
        let r = lab.run(&[
            "wrongname.test",
            "--only",
            "tls.*",
            "--cert-problems",
            choice,
        ]);
        assert_eq!(r.code, 0, "{choice}: {}", r.all());
    }
    let (run, m, lines) = lab.json(&[
        "wrongname.test",
        "self.test",
        "--only",
        "tls.*",
        "--cert-problems",
        "fail",
    ]);
    assert_eq!(run.code, 40, "{}", run.all());
    assert_eq!(st(&m, "wrongname.test", "tls.cert.name"), ["fail"]);
    assert_eq!(st(&m, "wrongname.test", "tls.cert.chain"), ["pass"]);
    assert_eq!(st(&m, "self.test", "tls.cert.chain"), ["fail"]);
    let name = lines
        .iter()
        .find(|v| v["domain"] == "wrongname.test" && v["id"] == "tls.cert.name")
        .unwrap();
    assert!(
        name["summary"]
            .as_str()
            .unwrap()
            .ends_with(" — fails here: --cert-problems fail"),
        "{name}"
    );
}

/// `--tls-on-connect` probes port 465 when no `--port` is given (RFC 8314 §3.3: submissions).
/// Nothing need listen there (binding 465 needs root): the connection's result names the port
/// it went to, refused or not, and `--port` still wins.
#[test]
fn implicit_tls_probes_port_465_unless_told_otherwise() {
    let port_of = |extra: &[&str]| {
        let mut args = vec!["check", "--host", "127.0.0.1", "--json", "--timeout", "5s"];
        args.extend_from_slice(extra);
        let r = ehlo_with(&args, None, Duration::from_secs(60));
        let connect = r
            .stdout
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|v| v["id"] == "smtp.connect")
            .unwrap_or_else(|| panic!("no smtp.connect: {}", r.all()));
        connect["evidence"]["port"].clone()
    };
    assert_eq!(port_of(&["--tls-on-connect"]), 465);
    assert_eq!(port_of(&["--tlsc"]), 465);
    let free = crate::util::free_port();
    assert_eq!(port_of(&["--tlsc", "--port", &free.to_string()]), free);
}

/// `--host HOST` with domains checks HOST as each domain's MX before the DNS change (a server
/// being migrated): the MX records are not used (skips saying so, JSON evidence `host`), each
/// domain's MTA-STS policy is applied to HOST (its `mx` patterns, its certificate under
/// `enforce`), and the domain's real MX is never contacted. Several domains share one HOST,
/// probed once. It was refused, exit 1, with "Run `ehlo check DOMAIN` … and `ehlo check --host
/// HOST`".
#[test]
fn a_host_with_domains_is_checked_as_their_mx_against_their_policies() {
    let lab = Lab::start();
    let line = |lines: &[Value], d: &str, id: &str| -> Value { line_of(lines, d, id).clone() };
    // enforce.test: enforce, `mx: *.lab.test`, its MX the wrong-name server. unlisted.test:
    // enforce, `mx: mx.elsewhere.test`. Both checked against mx-good.lab.test.
    let before = lab.taps["wrongname"].connections.load(Ordering::SeqCst);
    let (run, m, lines) = lab.json(&[
        "enforce.test",
        "unlisted.test",
        "--host",
        "mx-good.lab.test",
    ]);
    assert_eq!(run.code, 40, "{}", run.all());
    for d in ["enforce.test", "unlisted.test"] {
        let l = line(&lines, d, "mx.lookup");
        assert_eq!(l["status"], "skip", "{l}");
        assert_eq!(l["evidence"]["host"], "mx-good.lab.test", "{l}");
        assert_eq!(l["evidence"]["mx_records"], "not used", "{l}");
        assert!(
            l["summary"]
                .as_str()
                .unwrap()
                .contains("--host mx-good.lab.test is checked in place of the MX records"),
            "{l}"
        );
        let t = line(&lines, d, "mx.target");
        assert_eq!(
            (&t["status"], &t["mx"]),
            (&"pass".into(), &"mx-good.lab.test".into())
        );
        // Every host-scope line is HOST's, none the published MX's.
        for v in lines
            .iter()
            .filter(|v| v["domain"] == d && !v["ip"].is_null())
        {
            assert_eq!(v["mx"], "mx-good.lab.test", "{v}");
        }
    }
    // Matched by the policy's pattern, and its certificate satisfies the enforce policy.
    let mm = line(&lines, "enforce.test", "mtasts.mx-match");
    assert_eq!(mm["status"], "pass", "{mm}");
    assert_eq!(mm["evidence"]["host"], "mx-good.lab.test", "{mm}");
    assert!(
        mm["summary"]
            .as_str()
            .unwrap()
            .contains("mx-good.lab.test (checked with --host"),
        "{mm}"
    );
    assert!(
        mm["summary"].as_str().unwrap().contains("*.lab.test"),
        "{mm}"
    );
    assert_eq!(st(&m, "enforce.test", "tls.cert.name"), ["pass"]);
    assert_eq!(st(&m, "enforce.test", "tls.cert.chain"), ["pass"]);
    // Not matched: a failure naming HOST and the policy's patterns.
    let mm = line(&lines, "unlisted.test", "mtasts.mx-match");
    assert_eq!(mm["status"], "fail", "{mm}");
    let said = mm["summary"].as_str().unwrap();
    assert!(
        said.contains("mx-good.lab.test not matched by mx: mx.elsewhere.test"),
        "{said}"
    );
    assert!(said.contains("mode enforce"), "{said}");
    assert_eq!(
        mm["evidence"]["patterns"],
        serde_json::json!(["mx.elsewhere.test"])
    );
    let dom = |d: &str| {
        lines
            .iter()
            .find(|v| v["type"] == "domain" && v["domain"] == d)
            .unwrap()["status"]
            .clone()
    };
    // (enforce.test has no SPF or DMARC record: a warning, no failure.)
    assert_eq!(
        (dom("enforce.test"), dom("unlisted.test")),
        ("warn".into(), "fail".into())
    );
    assert!(
        !lines
            .iter()
            .any(|v| v["domain"] == "enforce.test" && v["status"] == "fail"),
        "{}",
        run.stdout
    );
    // enforce.test's published MX was never contacted.
    assert_eq!(
        lab.taps["wrongname"].connections.load(Ordering::SeqCst),
        before
    );

    // A HOST whose certificate names another host: under enforce.test's policy (its pattern
    // matches HOST) that fails, as it would for a published MX.
    let (run, m, _) = lab.json(&[
        "enforce.test",
        "--host",
        "mx-wrongname.lab.test",
        "--only",
        "tls.cert.name",
        "--only",
        "mtasts.mx-match",
    ]);
    assert_eq!(st(&m, "enforce.test", "mtasts.mx-match"), ["pass"]);
    assert_eq!(
        st(&m, "enforce.test", "tls.cert.name"),
        ["fail"],
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("MTA-STS enforce"), "{}", run.stdout);
    assert_eq!(run.code, 40, "{}", run.all());

    // The human report says it too.
    let run = lab.run(&[
        "unlisted.test",
        "--host",
        "mx-good.lab.test",
        "--only",
        "mx.*",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains(
            "not used: --host mx-good.lab.test is checked in place of the MX records of unlisted.test"
        ),
        "{}",
        run.stdout
    );

    // An IP address cannot stand in for an MX name (patterns and TLSA owners name hosts).
    let r = ehlo(&["check", "example.test", "--host", "192.0.2.1"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("give the host name the MX record will carry"),
        "{}",
        r.stderr
    );
}

/// `--host NAME --connect-to IP`: a new MX whose name is in no DNS yet is checked at IP as the
/// domains' MX, judged by its name: the domains' MTA-STS `mx` patterns match NAME, its
/// certificate is verified against NAME (another name at the same address fails), and JSON
/// says the address came from the flag (`mx.target` and `smtp.connect` evidence
/// `address_source`). Before, there was no such flag (exit 1), and `--host NAME` alone failed
/// `mx.target` (NXDOMAIN) and probed nothing.
#[test]
fn connect_to_checks_a_host_not_in_dns_at_the_given_address_by_its_name() {
    let lab = Lab::start();
    let o = lab.https_ip.octets();
    let good = Ipv4Addr::new(o[0], o[1], o[2], 10).to_string();
    let line = |lines: &[Value], d: &str, id: &str| -> Value { line_of(lines, d, id).clone() };
    // The name is in no DNS of the lab.
    let (run, m, _) = lab.json(&[
        "enforce.test",
        "--host",
        "mx-new.lab.test",
        "--only",
        "mx.target",
    ]);
    assert_eq!(
        st(&m, "enforce.test", "mx.target"),
        ["fail"],
        "{}",
        run.all()
    );

    let before = lab.taps["good"].connections.load(Ordering::SeqCst);
    let (run, m, lines) = lab.json(&[
        "enforce.test",
        "unlisted.test",
        "--host",
        "mx-new.lab.test",
        "--connect-to",
        &good,
    ]);
    assert_eq!(run.code, 40, "{}", run.all());
    for d in ["enforce.test", "unlisted.test"] {
        let t = line(&lines, d, "mx.target");
        assert_eq!(t["status"], "pass", "{t}");
        assert_eq!(t["mx"], "mx-new.lab.test", "{t}");
        assert_eq!(t["evidence"]["address_source"], "--connect-to", "{t}");
        assert_eq!(t["evidence"]["addresses"], serde_json::json!([good]), "{t}");
        let said = t["summary"].as_str().unwrap();
        assert!(
            said.contains(&format!("mx-new.lab.test → {good} (--connect-to")),
            "{said}"
        );
        let c = line(&lines, d, "smtp.connect");
        assert_eq!(
            (&c["status"], &c["mx"], &c["ip"]),
            (
                &"pass".into(),
                &"mx-new.lab.test".into(),
                &good.clone().into()
            ),
            "{c}"
        );
        assert_eq!(c["evidence"]["address_source"], "--connect-to", "{c}");
    }
    // Judged by the name: matched by enforce.test's `*.lab.test`, its certificate (naming
    // mx-new.lab.test) verified for it.
    assert_eq!(st(&m, "enforce.test", "mtasts.mx-match"), ["pass"]);
    assert_eq!(st(&m, "enforce.test", "tls.cert.name"), ["pass"]);
    assert_eq!(st(&m, "enforce.test", "tls.cert.chain"), ["pass"]);
    let mm = line(&lines, "unlisted.test", "mtasts.mx-match");
    assert_eq!(mm["status"], "fail", "{mm}");
    assert!(
        mm["summary"]
            .as_str()
            .unwrap()
            .contains("mx-new.lab.test not matched by mx: mx.elsewhere.test"),
        "{mm}"
    );
    // The connection went to the given address (probed once for both domains).
    assert_eq!(
        lab.taps["good"].connections.load(Ordering::SeqCst),
        before + 1
    );

    // The same address under a name its certificate does not carry: the name is what is
    // verified, so enforce.test's policy fails it.
    let (run, m, lines) = lab.json(&[
        "enforce.test",
        "--host",
        "mx-other.lab.test",
        "--connect-to",
        &good,
        "--only",
        "tls.cert.name",
    ]);
    assert_eq!(run.code, 40, "{}", run.all());
    assert_eq!(st(&m, "enforce.test", "tls.cert.name"), ["fail"]);
    let n = line(&lines, "enforce.test", "tls.cert.name");
    assert!(
        n["summary"].as_str().unwrap().contains("mx-other.lab.test"),
        "{n}"
    );

    // --host alone: the server by itself at that address, by its name.
    let (run, m, lines) = lab.json(&[
        "--host",
        "mx-new.lab.test",
        "--connect-to",
        &good,
        "--only",
        "smtp.*",
        "--only",
        "tls.*",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(st(&m, "mx-new.lab.test", "tls.cert.name"), ["pass"]);
    let c = line(&lines, "mx-new.lab.test", "smtp.connect");
    assert_eq!(
        (&c["status"], &c["ip"]),
        (&"pass".into(), &good.clone().into())
    );
    assert_eq!(c["evidence"]["address_source"], "--connect-to", "{c}");

    // The human report says where the address came from.
    let run = lab.run(&[
        "enforce.test",
        "--host",
        "mx-new.lab.test",
        "--connect-to",
        &good,
        "--only",
        "mx.target",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains(&format!(
            "mx-new.lab.test → {good} (--connect-to; the A/AAAA records of mx-new.lab.test not looked up)"
        )),
        "{}",
        run.stdout
    );
}

/// `--connect-to` takes an IPv6 address, bracketed or not: a server on [::1] is reached under a
/// name in no DNS (no resolver answers here: none is asked).
#[test]
fn connect_to_takes_an_ipv6_address_bracketed_or_not() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let tap = Tap::default();
    let o = ServeOptions {
        listen: "[::1]:0".parse::<SocketAddr>().unwrap().into(),
        hostname: "mx-v6.example.test".into(),
        ..ServeOptions::default()
    };
    let h = rt
        .block_on(ehlo::serve::start_with(o, Box::new(tap.clone())))
        .expect("serve on [::1]");
    let port = h.addr().port().to_string();
    // A resolver that answers nothing: a lookup would be an error line, not a pass.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("127.0.0.1:{}", dead.local_addr().unwrap().port());
    for given in ["::1", "[::1]"] {
        let r = ehlo(&[
            "check",
            "--host",
            "mx-v6.example.test",
            "--connect-to",
            given,
            "--port",
            &port,
            "--dnssec",
            "off",
            "--dns-server",
            &dead,
            "--timeout",
            "3s",
            "--only",
            "smtp.connect",
            "--only",
            "smtp.banner",
            "--json",
        ]);
        assert_eq!(r.code, 0, "{given}: {}", r.all());
        let c: Value = r
            .stdout
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|v| v["type"] == "check" && v["id"] == "smtp.connect")
            .unwrap_or_else(|| panic!("{}", r.stdout));
        assert_eq!(
            (&c["status"], &c["ip"], &c["mx"]),
            (&"pass".into(), &"::1".into(), &"mx-v6.example.test".into()),
            "{c}"
        );
        assert_eq!(c["evidence"]["address_source"], "--connect-to", "{c}");
    }
    assert_eq!(tap.connections.load(Ordering::SeqCst), 2);
}

/// `--connect-to` refuses what it cannot use, one line each, exit 1: no --host, a host name, a
/// port (--port's), an address as --host (nothing to resolve), none of the -4/-6 family.
#[test]
fn connect_to_refuses_what_it_cannot_use() {
    for (args, said) in [
        (&["example.test", "--connect-to", "192.0.2.5"][..], "--host"),
        (
            &[
                "example.test",
                "--host",
                "mx.example.test",
                "--connect-to",
                "mx.other.test",
            ][..],
            "is not an IP address",
        ),
        (
            &[
                "example.test",
                "--host",
                "mx.example.test",
                "--connect-to",
                "192.0.2.5:25",
            ][..],
            "the port is --port's",
        ),
        (
            &["--host", "192.0.2.7", "--connect-to", "192.0.2.5"][..],
            "HOST is already an address",
        ),
        (
            &[
                "example.test",
                "--host",
                "mx.example.test",
                "--connect-to",
                "::1",
                "-4",
            ][..],
            "no IPv4 (-4) address",
        ),
    ] {
        let mut a = vec!["check"];
        a.extend_from_slice(args);
        let r = ehlo(&a);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        assert!(r.stderr.contains(said), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
}

/// The JSON summary names how the run ended beside its exit code, with error.rs's labels, as
/// the send's and explain's summaries do: pass `ok` (0), a warning `ok` (0) or, under
/// `--fail-on warn`, `check_failed` (40), a failure `check_failed` (40), a silent MX
/// `untested` (41), a run `--deadline` cut `deadline` (41), a bad `--expect` `usage` (1).
/// It had `exit_code` and no `outcome`.
#[test]
fn the_summary_names_the_outcome_of_each_exit_path() {
    let lab = Lab::start();
    for (extra, code, outcome) in [
        (&["good.test"][..], 0, "ok"),
        (&["wrongname.test", "--skip", "*.record"][..], 0, "ok"),
        (
            &["wrongname.test", "--skip", "*.record", "--fail-on", "warn"][..],
            40,
            "check_failed",
        ),
        (&["expired.test"][..], 40, "check_failed"),
        (&["silent.test", "--timeout", "1s"][..], 41, "untested"),
        (
            &["silent.test", "--timeout", "30s", "--deadline", "1s"][..],
            41,
            "deadline",
        ),
        (&["good.test", "--expect", "no.such=pass"][..], 1, "usage"),
    ] {
        let (run, _, lines) = lab.json(extra);
        assert_eq!(run.code, code, "{extra:?}: {}", run.all());
        let last = lines.last().unwrap();
        assert_eq!(last["type"], "summary", "{extra:?}: {}", run.stdout);
        assert_eq!(last["exit_code"], code, "{extra:?}: {last}");
        assert_eq!(last["outcome"], outcome, "{extra:?}: {last}");
    }
}

/// `rdns.fcrdns` with `--connect-to`: what is judged is the address connected to — its PTR
/// names, and whether one resolves back to that address (RFC 1912 §2.1) — as for an address
/// from DNS; the `--host` name, in no DNS yet, is not asked for. A PTR that names the new host
/// does not resolve back until its A record is published: a warning naming both.
#[test]
fn connect_to_judges_the_reverse_dns_of_the_given_address() {
    use hickory_resolver::proto::rr::RecordType;
    let (old, new) = (Ipv4Addr::new(192, 0, 2, 77), Ipv4Addr::new(192, 0, 2, 78));
    let (dns, _h, log) = FakeDns::start_logged(vec![
        (
            reverse_name(old.into()).as_str(),
            RecordSpec::Ptr("mx-old.example.test".into()),
        ),
        ("mx-old.example.test", RecordSpec::A(old)),
        (
            reverse_name(new.into()).as_str(),
            RecordSpec::Ptr("mx-new.example.test".into()),
        ),
    ]);
    let dns = dns.to_string();
    for (ip, status, says) in [
        (old, "pass", "192.0.2.77 ⇄ mx-old.example.test".to_string()),
        (
            new,
            "warn",
            "PTR mx-new.example.test does not resolve back to 192.0.2.78".to_string(),
        ),
    ] {
        let ip = ip.to_string();
        let r = ehlo(&[
            "check",
            "--host",
            "mx-new.example.test",
            "--connect-to",
            &ip,
            "--dnssec",
            "off",
            "--dns-server",
            &dns,
            "--timeout",
            "1s",
            "--only",
            "rdns.fcrdns",
            "--json",
        ]);
        let c: Value = r
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["type"] == "check" && v["id"] == "rdns.fcrdns")
            .unwrap_or_else(|| panic!("{}", r.all()));
        assert_eq!(
            (&c["status"], &c["ip"], &c["mx"], &c["summary"]),
            (
                &status.into(),
                &ip.clone().into(),
                &"mx-new.example.test".into(),
                &says.into()
            ),
            "{c}"
        );
        if status == "pass" {
            // The host name's own addresses were not asked (its PTR record is another
            // address's, next), the address's PTR record was.
            let seen = log.lock().unwrap().clone();
            let of = |name: &str, types: &[RecordType]| {
                seen.iter()
                    .filter(|q| {
                        q.name.trim_end_matches('.').eq_ignore_ascii_case(name)
                            && types.contains(&q.rtype)
                    })
                    .count()
            };
            assert_eq!(
                of("mx-new.example.test", &[RecordType::A, RecordType::AAAA]),
                0,
                "{seen:?}"
            );
            assert_eq!(
                of(&reverse_name(old.into()), &[RecordType::PTR]),
                1,
                "{seen:?}"
            );
        }
    }
}

/// Domain names refused before any query, each with the name to write: a Unicode full stop
/// separates labels as `.` does (RFC 3490 §3.1) and was refused as "'。' is not allowed" with
/// no hint; an `xn--` label whose Punycode decodes to no valid U-label (RFC 5891 §5.4) was
/// asked about and reported as NXDOMAIN.
#[test]
fn check_refuses_unicode_full_stops_and_malformed_a_labels_before_any_query() {
    let (dns, _h, log) =
        FakeDns::start_logged(vec![("example.test", RecordSpec::A(Ipv4Addr::LOCALHOST))]);
    let dns = dns.to_string();
    for (arg, said) in [
        (
            "example\u{3002}test",
            "'example\u{3002}test' is not a domain name: '\u{3002}' separates labels as '.' \
             does (RFC 3490 §3.1): write example.test",
        ),
        (
            "b\u{fc}cher\u{ff61}example.test",
            "an IDN is checked in its A-label form: write xn--bcher-kva.example.test",
        ),
        (
            "xn--a.example.test",
            "'xn--a.example.test' is not a domain name: 'xn--a' is no valid A-label: its \
             Punycode does not decode to a valid U-label (RFC 5891 §5.4)",
        ),
    ] {
        let r = ehlo(&["check", "--dns-server", &dns, "--timeout", "5s", arg]);
        assert_eq!(r.code, 1, "{arg}: {}", r.all());
        assert!(r.stderr.contains(said), "{arg}: {}", r.stderr);
        assert!(!r.all().contains("NXDOMAIN"), "{arg}: {}", r.all());
    }
    assert!(log.lock().unwrap().is_empty(), "{:?}", log.lock().unwrap());
}

/// `--expect` that can never be met is refused before the run, exit 1 with one line: a dotted
/// KEY through a member holding one value (`tls.version.major=1`), a TLS version misspelt
/// (`tls.version=TLS1.3`), a step `skipped_because` cannot name. Each ran the whole check and
/// was unmet, exit 40.
#[test]
fn an_expectation_that_can_never_be_met_is_refused_before_the_run() {
    for (expect, said) in [
        (
            "tls.version.major=1",
            "tls.version is a number (1.3), not an object: it has no member 'major'",
        ),
        ("tls.version=TLS1.3", "did you mean TLSv1.3?"),
        (
            "smtp.ehlo.skipped_because=smtp.conect",
            "did you mean smtp.connect?",
        ),
    ] {
        let r = ehlo(&["check", "example.invalid", "--expect", expect]);
        assert_eq!(r.code, 1, "{expect}: {}", r.all());
        assert!(r.stderr.contains(said), "{expect}: {}", r.stderr);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
}

/// A domain that does not exist (NXDOMAIN on the MX question) has no SPF, DMARC, MTA-STS,
/// TLS-RPT or DKIM to judge: those are skipped "no such domain" as `mx.null`/`mx.target` are,
/// in the human report, JSON and JUnit, so a typo'd domain shows one failure (`mx.lookup`).
/// They used to be two warnings (`spf.record`, `dmarc.record`) and three info lines.
#[test]
fn a_domain_that_does_not_exist_skips_its_record_checks() {
    let lab = Lab::start();
    let junit = tempfile::NamedTempFile::new().unwrap();
    let path = junit.path().display().to_string();
    let name = "no-such-name-here.good.test";
    let ids = [
        "mx.null",
        "mx.target",
        "mtasts.txt",
        "tlsrpt.record",
        "spf.record",
        "dmarc.record",
        "dkim.hint",
    ];
    let (run, m, lines) = lab.json(&[name, "--junit", &path]);
    assert_eq!(run.code, 40, "{}", run.all());
    assert_eq!(st(&m, name, "mx.lookup"), ["fail"], "{}", run.stdout);
    for id in ids {
        let l = line_of(&lines, name, id);
        assert_eq!(l["status"], "skip", "{l}");
        assert_eq!(l["summary"], "no such domain", "{l}");
    }
    let domain = lines
        .iter()
        .find(|v| v["type"] == "domain" && v["domain"] == name)
        .unwrap();
    assert_eq!(domain["counts"]["warn"], 0, "{domain}");
    assert_eq!(domain["counts"]["info"], 0, "{domain}");
    assert_eq!(domain["counts"]["fail"], 1, "{domain}");
    let xml = std::fs::read_to_string(junit.path()).unwrap();
    for id in ["spf.record", "dmarc.record", "dkim.hint"] {
        let at = xml
            .find(&format!(r#"<testcase name="{id}""#))
            .unwrap_or_else(|| panic!("no {id}: {xml}"));
        let case = &xml[at..at + xml[at..].find("</testcase>").unwrap_or(xml.len() - at)];
        assert!(case.contains("<skipped"), "{id}: {case}");
        assert!(case.contains("no such domain"), "{id}: {case}");
    }
    let r = lab.run(&[name]);
    assert_eq!(r.code, 40, "{}", r.all());
    assert!(
        r.stdout.contains("skip  spf.record         no such domain"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("warn  "), "{}", r.stdout);
}

/// Without `mx.lookup` selected, the SPF query's own NXDOMAIN (it is asked at the domain
/// itself) proves the domain missing (RFC 8020): `spf.record` and the other record checks are
/// skipped "no such domain", saying that `mx.lookup`, which fails it, was not selected; a skip
/// fails nothing, so the run exits 0 as the exit-code table says. `--only spf.record` used to
/// warn "no SPF record".
#[test]
fn the_spf_query_s_nxdomain_skips_the_records_without_mx_lookup() {
    let lab = Lab::start();
    let name = "no-such-name-here.good.test";
    let (run, _, lines) = lab.json(&[name, "--only", "spf.record"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let spf = line_of(&lines, name, "spf.record");
    assert_eq!(spf["status"], "skip", "{spf}");
    let said = spf["summary"].as_str().unwrap();
    assert!(said.starts_with("no such domain"), "{spf}");
    assert!(said.contains("mx.lookup"), "{spf}");
    let (run, _, lines) = lab.json(&[
        name,
        "--only",
        "spf.record",
        "--only",
        "dmarc.record",
        "--only",
        "dkim.hint",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    for id in ["spf.record", "dmarc.record", "dkim.hint"] {
        let l = line_of(&lines, name, id);
        assert_eq!(l["status"], "skip", "{l}");
        assert!(
            l["summary"].as_str().unwrap().starts_with("no such domain"),
            "{l}"
        );
    }
    // Without the SPF query, `_dmarc.D`'s own NXDOMAIN proves nothing about D.
    let (_, _, lines) = lab.json(&[name, "--only", "dmarc.record"]);
    let dmarc = line_of(&lines, name, "dmarc.record");
    assert_ne!(dmarc["status"], "skip", "{dmarc}");
    // An existing domain keeps its SPF verdict.
    let (_, _, lines) = lab.json(&["good.test", "--only", "spf.record"]);
    let good = line_of(&lines, "good.test", "spf.record");
    assert_ne!(good["status"], "skip", "{good}");
}

/// `rdns.fcrdns` on a loopback address is skipped without a lookup (RFC 6761 §6.3): a session
/// `--deadline` cut keeps that skip. It was reported "not finished: deadline reached", one
/// more `error` than the run had.
#[test]
fn the_deadline_keeps_rdns_fcrdns_skipped_on_loopback() {
    let lab = Lab::start();
    let (run, _, lines) = lab.json(&["silent.test", "--timeout", "30s", "--deadline", "2s"]);
    assert_eq!(run.code, 41, "{}", run.all());
    let check = |id: &str| line_of(&lines, "silent.test", id).clone();
    let rdns = check("rdns.fcrdns");
    assert_eq!(rdns["status"], "skip", "{rdns}");
    assert!(
        rdns["summary"]
            .as_str()
            .unwrap()
            .starts_with("loopback address"),
        "{rdns}"
    );
    assert!(rdns["evidence"].get("unfinished").is_none(), "{rdns}");
    // What the deadline did cut is still said so.
    let banner = check("smtp.banner");
    assert_eq!(banner["status"], "error", "{banner}");
    assert_eq!(banner["evidence"]["unfinished"], true, "{banner}");
}
