//! `ehlo serve` left running against hostile clients: a connection limit, an idle
//! timeout per command however the bytes trickle, slow clients holding every slot cut once the
//! server is busy, AUTH brute force cut off, a random seed
//! printed, control characters in addresses refused and shown escaped, credentials injected
//! after STARTTLS masked, a clear listen error, an over-long command line answered as soon as it
//! passes the limit, a close or reset in the middle of a message said, a stop that ends stalled
//! handshakes and unread writes at once, and 500 idle connections that do not stop a normal
//! client's message from landing.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use base64::Engine;

use crate::serve::{Serve, maildir_files, send};
use crate::util::ehlo;

/// A raw client: connected, banner read.
struct Raw {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Raw {
    fn connect(addr: &str) -> (Raw, String) {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut raw = Raw {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
        };
        let banner = raw.reply();
        (raw, banner)
    }
    fn send(&mut self, b: &[u8]) {
        self.w.write_all(b).unwrap();
    }
    /// One whole reply (all its lines).
    fn reply(&mut self) -> String {
        crate::util::smtp_reply(&mut self.r)
    }
    fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }
    /// The same connection, read and written through new handles.
    fn clone_raw(&self) -> Raw {
        Raw {
            r: BufReader::new(self.w.try_clone().unwrap()),
            w: self.w.try_clone().unwrap(),
        }
    }
    /// Has the server closed the connection (EOF within the read timeout)?
    fn closed(&mut self) -> bool {
        let mut b = [0u8; 64];
        matches!(self.r.read(&mut b), Ok(0))
    }
}

#[test]
fn a_listen_address_in_use_says_so_with_a_hint() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let r = ehlo(&["serve", "--listen", &addr, "--color", "never"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let all = r.all();
    assert!(
        all.contains(&format!("cannot listen on {addr}: address in use")),
        "{all}"
    );
    assert!(
        all.contains("--listen 127.0.0.1:0 picks a free port"),
        "{all}"
    );
    assert!(!all.contains("could not connect"), "{all}");
}

fn cram_challenge(serve: &Serve) -> String {
    let (mut c, _) = Raw::connect(&serve.addr);
    assert!(c.cmd("EHLO client.test").starts_with("250"));
    let r = c.cmd("AUTH CRAM-MD5");
    assert!(r.starts_with("334 "), "{r}");
    r.trim_end().to_string()
}

#[test]
fn the_seed_is_random_unless_given_and_always_printed() {
    let args = ["--user", "u:p", "--auth-before-tls"];
    let mut a = Serve::start(&args);
    let mut b = Serve::start(&args);
    let seed = |s: &mut Serve| {
        let line = if s.seen.contains("(--seed ") {
            s.seen.clone()
        } else {
            s.wait_for("(--seed ", Duration::from_secs(5)).unwrap()
        };
        let at = line.find("seed ").unwrap() + 5;
        line[at..].split(' ').next().unwrap().to_string()
    };
    let (sa, sb) = (seed(&mut a), seed(&mut b));
    assert_ne!(sa, sb, "two runs drew the same seed");
    // Different challenges, so a captured CRAM-MD5 response does not replay.
    let first_a = cram_challenge(&a);
    assert_ne!(first_a, cram_challenge(&b));
    // The printed seed reproduces a run.
    let mut args_seed = args.to_vec();
    args_seed.extend(["--seed", sa.as_str()]);
    let mut c = Serve::start(&args_seed);
    assert_eq!(seed(&mut c), sa);
    assert_eq!(first_a, cram_challenge(&c));
}

#[test]
fn one_connection_too_many_gets_421_and_the_transcript_says_so() {
    let mut serve = Serve::start(&["--max-connections", "2"]);
    let (_a, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220 "), "{banner}");
    let (_b, _) = Raw::connect(&serve.addr);
    let (mut c, reply) = Raw::connect(&serve.addr);
    assert!(
        reply.starts_with("421 4.3.2 ") && reply.contains("too many connections (2)"),
        "{reply}"
    );
    assert!(c.closed());
    assert!(
        serve
            .wait_for("the --max-connections limit", Duration::from_secs(5))
            .is_some(),
        "{}",
        serve.seen
    );
    // A slot freed is a slot taken again.
    drop(_a);
    std::thread::sleep(Duration::from_millis(300));
    let (_d, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220 "), "{banner}");
}

#[test]
fn a_client_trickling_bytes_is_dropped_at_the_idle_timeout() {
    // One byte a second never completes a command: the timeout is per command, not per read.
    let mut serve = Serve::start(&["--idle-timeout", "2"]);
    let (mut c, _) = Raw::connect(&serve.addr);
    let start = Instant::now();
    let mut got = String::new();
    for b in b"EHLO trickle.test" {
        if c.w.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
        if start.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    let _ = c.r.read_to_string(&mut got);
    assert!(got.starts_with("421 4.4.2 "), "{got:?}");
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    assert!(
        serve
            .wait_for(
                "idle timeout: no complete command within 2 s",
                Duration::from_secs(5)
            )
            .is_some(),
        "{}",
        serve.seen
    );
}

#[test]
fn a_command_line_without_crlf_is_refused_once_past_the_limit_not_at_the_idle_timeout() {
    // 13 MB without a line end: the 500 used to come only with the CRLF, so a client that
    // never sent one got no reply at all, just the idle timeout's 421 minutes later. Now it
    // comes once the 2048-octet limit is passed, the rest of the line is discarded unanswered
    // and the session goes on (as Postfix's does).
    let mut serve = Serve::start(&["--idle-timeout", "60"]);
    let (mut c, _) = Raw::connect(&serve.addr);
    c.cmd("EHLO client.test");
    let before = peak_rss_kib(serve.pid());
    let start = Instant::now();
    c.send(b"NOOP ");
    let chunk = vec![b'A'; 1 << 20];
    for _ in 0..13 {
        c.send(&chunk);
    }
    let r = c.reply();
    assert_eq!(r, "500 5.5.2 Line too long\r\n");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    c.send(&chunk);
    assert_eq!(c.cmd("\r\nNOOP"), "250 2.0.0 Ok\r\n");
    assert!(
        serve
            .wait_for("exceeds the 2048-byte limit", Duration::from_secs(5))
            .is_some(),
        "{}",
        serve.seen
    );
    // Bounded: the 14 MB are not held (the peak grows by a read buffer or two at most).
    let peak = peak_rss_kib(serve.pid());
    assert!(
        peak < before + 4 * 1024,
        "peak {peak} KiB, {before} KiB before the line"
    );
}

#[test]
fn a_client_closing_in_the_middle_of_a_message_is_said_in_the_transcript() {
    // The transcript shows a message's content only once it is stored: a close after `354`
    // read like one anywhere else, with no word of the half message dropped (only --quiet
    // said it).
    let mut serve = Serve::start(&[]);
    let (mut c, _) = Raw::connect(&serve.addr);
    c.cmd("EHLO client.test");
    c.cmd("MAIL FROM:<a@client.test>");
    c.cmd("RCPT TO:<b@serve.test>");
    assert!(c.cmd("DATA").starts_with("354 "));
    c.send(b"Subject: half\r\n\r\nhalf a mess");
    drop(c);
    // (The warning goes to stderr, the close to stdout: they are read apart, so wait for it.)
    assert!(
        serve
            .wait_for(
                "the client closed the connection in the middle of a message: nothing stored",
                Duration::from_secs(10)
            )
            .is_some(),
        "{}",
        serve.seen
    );
}

#[test]
fn a_client_resetting_the_connection_in_the_middle_of_a_message_is_said_under_quiet() {
    // A reset (RST) after `354` loses the message as a close does, but --quiet said only
    // "read failed: Connection reset by peer", with no word of the message dropped.
    let mut serve = Serve::start(&["--quiet"]);
    let (mut c, _) = Raw::connect(&serve.addr);
    c.cmd("EHLO client.test");
    c.cmd("MAIL FROM:<a@client.test>");
    c.cmd("RCPT TO:<b@serve.test>");
    // The 354 is left unread: closing a socket with unread data sends a reset (RFC 2525 §2.17).
    c.send(b"DATA\r\n");
    let start = Instant::now();
    while c.w.peek(&mut [0u8; 4]).unwrap() < 4 {
        assert!(start.elapsed() < Duration::from_secs(10), "no 354");
        std::thread::sleep(Duration::from_millis(10));
    }
    c.send(b"Subject: half\r\n\r\nhalf a mess");
    std::thread::sleep(Duration::from_millis(200));
    drop(c);
    let line = serve
        .wait_for("read failed", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("{}", serve.seen));
    assert!(
        line.contains("read failed in the middle of a message: nothing stored: "),
        "{line}"
    );
}

#[test]
fn a_client_that_never_reads_is_closed_at_the_idle_timeout() {
    // It sends NOOP after NOOP and reads none of the replies: once both socket buffers are
    // full the server's write waits. A write that waited forever held the connection (and
    // its --max-connections slot) long past the idle timeout; now the client must take a byte
    // within the idle timeout, or it is closed with a word in the transcript.
    // --junk-command-limit 0: NOOPs past it would end the session before its writes wait.
    // The one slot of one in use is not busy: nobody else is turned away.
    let mut serve = Serve::start(&[
        "--idle-timeout",
        "2",
        "--max-connections",
        "1",
        "--junk-command-limit",
        "0",
        "--quiet",
    ]);
    let s = TcpStream::connect(&serve.addr).unwrap();
    s.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let flood = b"NOOP\r\n".repeat(10_000);
    let start = Instant::now();
    let mut ended = None;
    while start.elapsed() < Duration::from_secs(60) {
        match (&s).write(&flood) {
            Ok(_) => {}
            // Blocked: the server reads nothing while its own write waits.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => {
                ended = Some(start.elapsed());
                break;
            }
        }
    }
    let ended = ended.unwrap_or_else(|| panic!("still open after 60 s:\n{}", serve.seen));
    assert!(
        serve
            .wait_for(
                "write timeout: the client took no byte",
                Duration::from_secs(5)
            )
            .is_some(),
        "{}",
        serve.seen
    );
    // The slot is free again: a new client is greeted, not refused.
    let (_c, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220 "), "{banner} (after {ended:?})");
}

/// The send and receive queues (bytes) of the TCP connection from `local` to `remote` as
/// /proc/net/tcp lists them (`tx_queue:rx_queue`), zeros when it is not listed.
fn queues(local: std::net::SocketAddr, remote: std::net::SocketAddr) -> (u64, u64) {
    // Addresses there are hex: the IPv4 address in host (little-endian) order, the port not.
    let hex = |a: std::net::SocketAddr| match a.ip() {
        std::net::IpAddr::V4(ip) => {
            format!("{:08X}:{:04X}", u32::from_le_bytes(ip.octets()), a.port())
        }
        std::net::IpAddr::V6(_) => panic!("IPv4 only: {a}"),
    };
    let (l, r) = (hex(local), hex(remote));
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let field = table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() > 4 && f[1] == l && f[2] == r)
        .map(|f| f[4].to_string());
    let Some((tx, rx)) = field.as_deref().and_then(|q| q.split_once(':')) else {
        return (0, 0);
    };
    (
        u64::from_str_radix(tx, 16).unwrap(),
        u64::from_str_radix(rx, 16).unwrap(),
    )
}

/// A TLS record header that promises a 512-byte ClientHello, and the first bytes of it: a
/// client stalled in the middle of its handshake (OpenSSL waits for the rest).
const HALF_A_CLIENT_HELLO: &[u8] = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";

#[test]
fn a_stop_ends_stalled_handshakes_and_unread_replies_at_once_each_with_its_closed_line() {
    // SIGTERM with clients the sessions wait on elsewhere than at a read: one stalled in its
    // STARTTLS handshake, one in its implicit-TLS handshake, one that sends without reading
    // our replies, one in a --greet-pause. Each used to go on until the shutdown's grace (3 s) ran out and its task was
    // ended without a word: `--json` had a `connected` with no `closed` (and no reason) for
    // it, and every such stop took the whole grace. Now each ends at once (the unread one
    // after a second's chance to take its 421), with its reason and its `closed` line.
    let starttls = Serve::start(&["--starttls", "--json"]);
    let mut implicit = Serve::start(&["--tls-on-connect", "--json"]);
    // --quiet: a transcript of its flood of replies would keep the session busy rendering
    // rather than waiting on its write.
    let unread = Serve::start(&["--quiet"]);
    // And one waiting out a long --greet-pause: a stop answers it 421 in place of the greeting.
    let mut paused = Serve::start(&["--greet-pause", "60000", "--json"]);
    let d = TcpStream::connect(&paused.addr).unwrap();
    d.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (mut a, _) = Raw::connect(&starttls.addr);
    a.cmd("EHLO client.test");
    assert!(a.cmd("STARTTLS").starts_with("220 "));
    a.send(HALF_A_CLIENT_HELLO);
    let mut b = TcpStream::connect(&implicit.addr).unwrap();
    b.write_all(HALF_A_CLIENT_HELLO).unwrap();
    // EHLO after EHLO until both socket buffers are full: the server's write then waits.
    let c = TcpStream::connect(&unread.addr).unwrap();
    c.set_write_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let flood = b"EHLO client.test\r\n".repeat(1000);
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(30), "never blocked");
        match (&c).write(&flood) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) => panic!("{e}:\n{}", unread.seen),
        }
    }
    // The client's write blocks as soon as the server's receive buffer is full, long before
    // the server has worked through the EHLOs there (a debug build takes seconds) and is
    // itself stuck writing replies nobody takes; a stop that came first (the other stops
    // gave it the time, mostly) found a session still reading, which a 421 ends without a
    // word, and --quiet printed nothing (3 runs of 3 under contention). The server's write
    // waits once its side of the connection holds unsent replies and unread commands that
    // neither move: the same for half a second.
    let (ours, theirs) = (c.local_addr().unwrap(), c.peer_addr().unwrap());
    let start = Instant::now();
    let (mut last, mut same) = ((0, 0), 0);
    while same < 10 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the server never stopped at its write: {last:?}\n{}",
            unread.seen
        );
        std::thread::sleep(Duration::from_millis(50));
        let now = queues(theirs, ours);
        same = if now == last && now.0 > 0 && now.1 > 0 {
            same + 1
        } else {
            0
        };
        last = now;
    }
    // The implicit-TLS session and the paused one are under way (accepted: `connected` said);
    // STARTTLS was answered, so that one is.
    for serve in [&mut implicit, &mut paused] {
        serve
            .wait_for("\"type\":\"connected\"", Duration::from_secs(10))
            .unwrap_or_else(|| panic!("no connection:\n{}", serve.seen));
    }
    let handshake = "the server is stopping and the client had not finished it";
    let unread_said = "the server is stopping and the client takes no byte of our replies";
    for (serve, json, said) in [
        (starttls, true, handshake),
        (implicit, true, handshake),
        (unread, false, unread_said),
        (paused, true, "421 4.3.2"),
    ] {
        let stopped = Instant::now();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &serve.pid().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let (code, out) = serve.finish();
        let took = stopped.elapsed();
        assert_eq!(code, 0, "{out}");
        if json {
            let count = |t: &str| out.matches(&format!("\"type\":\"{t}\"")).count();
            assert_eq!(count("connected"), 1, "{out}");
            assert_eq!(count("closed"), 1, "{out}");
        }
        assert!(out.contains(said), "{out}");
        assert!(took < Duration::from_secs(3), "{took:?}\n{out}");
    }
    let mut greeting = BufReader::new(d);
    assert_eq!(
        crate::util::smtp_reply(&mut greeting),
        "421 4.3.2 ehlo.serve Service shutting down, closing connection\r\n"
    );
    drop((a, b, c));
}

#[test]
fn repeated_auth_failures_end_the_connection() {
    let serve = Serve::start(&["--user", "alice:right", "--auth-before-tls"]);
    let (mut c, _) = Raw::connect(&serve.addr);
    c.cmd("EHLO client.test");
    let bad = base64::engine::general_purpose::STANDARD.encode(b"\0alice\0wrong");
    for _ in 0..2 {
        let r = c.cmd(&format!("AUTH PLAIN {bad}"));
        assert!(r.starts_with("535 5.7.8"), "{r}");
    }
    let r = c.cmd(&format!("AUTH PLAIN {bad}"));
    assert!(r.starts_with("421 4.7.0 "), "{r}");
    assert!(r.contains("too many failed authentication attempts"), "{r}");
    assert!(c.closed());
}

#[test]
fn control_characters_in_addresses_are_refused_and_shown_escaped() {
    let mut serve = Serve::start(&[]);
    let (mut c, _) = Raw::connect(&serve.addr);
    c.cmd("EHLO client.test");
    let r = c.cmd("MAIL FROM:<evil\x1b[2J@x.test>");
    assert!(r.starts_with("501 5.1.7 "), "{r}");
    assert!(c.cmd("MAIL FROM:<a@x.test>").starts_with("250"));
    let r = c.cmd("RCPT TO:<b\x00c@x.test>");
    assert!(r.starts_with("501 5.1.3 "), "{r}");
    c.cmd("QUIT");
    serve.wait_for("QUIT", Duration::from_secs(5));
    let seen = serve.seen.clone();
    assert!(
        !seen.contains('\x1b'),
        "a raw ESC reached the terminal: {seen:?}"
    );
    assert!(seen.contains("evil\\x1B[2J@x.test"), "{seen}");
}

#[test]
fn credentials_injected_after_starttls_are_not_printed() {
    let mut serve = Serve::start(&["--starttls", "--user", "alice:s3cret"]);
    let (mut c, _) = Raw::connect(&serve.addr);
    c.cmd("EHLO client.test");
    let secret = base64::engine::general_purpose::STANDARD.encode(b"\0alice\0s3cret");
    c.send(format!("STARTTLS\r\nAUTH PLAIN {secret}\r\n").as_bytes());
    let r = c.reply();
    assert!(r.starts_with("220 "), "{r}");
    assert!(serve.wait_for("STARTTLS", Duration::from_secs(5)).is_some());
    drop(c);
    serve.wait_for("injection", Duration::from_secs(5));
    let seen = serve.seen.clone();
    assert!(seen.contains("AUTH PLAIN ********"), "{seen}");
    assert!(!seen.contains(&secret), "{seen}");
}

#[test]
fn five_hundred_idle_connections_do_not_stop_a_real_message() {
    // 500 connections that say nothing, all open at once (the limit raised above them: at the
    // default of 256 the rest would get 421 4.7.0), then one normal client whose message lands
    // in the Maildir. Each process holds about 500 sockets, under the usual 1024 descriptors.
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    let mut serve = Serve::start(&[
        "--max-connections",
        "600",
        "--maildir",
        maildir.to_str().unwrap(),
    ]);
    let idle: Vec<TcpStream> = (0..500)
        .map(|_| TcpStream::connect(&serve.addr).expect("connect an idle client"))
        .collect();
    let r = send(&serve.addr, &["--timeout", "20"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(maildir_files(&maildir).len(), 1);
    // The idle ones are all still there: the last one gets its banner.
    let mut last = BufReader::new(idle.last().unwrap().try_clone().unwrap());
    last.get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut banner = String::new();
    last.read_line(&mut banner).unwrap();
    assert!(banner.starts_with("220 "), "{banner:?}");
    assert!(!serve.seen.contains("refused"), "{}", serve.seen);
    let _ = serve.wait_for("never printed", Duration::from_millis(10));
}

/// Resident memory of process `pid` in KiB (VmRSS from /proc).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// Peak resident memory of process `pid` in KiB (VmHWM from /proc).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// Streaming: a 32 MiB message (DATA, then BDAT) goes to the Maildir and the
/// mbox as it arrives, so `ehlo serve`'s peak resident memory stays far below the message's
/// size. Before, the whole message sat in memory until its end (peak well above its size).
/// The cap, 26 MiB, is the server's own resident memory at start (about 19 MiB in a debug
/// build) and room to spare; a server that held even a quarter of the message passes it. It was
/// 64 MiB messages under a 32 MiB cap, which took a debug build 45 s for the same test.
#[test]
fn serve_streams_a_32_mib_message_with_peak_memory_far_below_it() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("Maildir");
    let mb = dir.path().join("mbox");
    let serve = Serve::start(&[
        "--quiet",
        "--max-size",
        "100000000",
        "--maildir",
        md.to_str().unwrap(),
        "--mbox",
        mb.to_str().unwrap(),
    ]);
    let (mut c, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220"), "{banner}");
    assert!(c.cmd("EHLO big.test").contains("CHUNKING"));
    // Storing 32 MiB takes a debug build a while on a loaded machine; this only bounds failure.
    c.w.set_read_timeout(Some(Duration::from_secs(300)))
        .unwrap();
    let line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\r\n";
    let size = 32 * 1024 * 1024;
    let content = repeated(line, size);
    assert!(c.cmd("MAIL FROM:<a@big.test>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<b@big.test>").starts_with("250"));
    assert!(c.cmd("DATA").starts_with("354"));
    for piece in content.chunks(1024 * 1024) {
        c.send(piece);
    }
    c.send(b"\r\n.\r\n");
    let reply = c.reply();
    assert!(reply.starts_with("250"), "{reply}");
    assert!(c.cmd("MAIL FROM:<a@big.test>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<b@big.test>").starts_with("250"));
    c.send(format!("BDAT {size} LAST\r\n").as_bytes());
    for piece in content.chunks(1024 * 1024) {
        c.send(piece);
    }
    let reply = c.reply();
    assert!(reply.starts_with("250"), "{reply}");
    let peak = peak_rss_kib(serve.pid());
    c.cmd("QUIT");
    drop(serve);
    let files = maildir_files(&md);
    assert_eq!(files.len(), 2);
    // DATA ended the last line (CRLF before the dot); BDAT is exactly the chunk.
    let mut data = content.clone();
    data.extend_from_slice(b"\r\n");
    for (f, want) in files.iter().zip([&data, &content]) {
        let got = std::fs::read(f).unwrap();
        assert!(&got == want, "{}: {} bytes", f.display(), got.len());
    }
    // From_ line, LF line ends, a blank line after each message.
    let mbox_len = std::fs::metadata(&mb).unwrap().len() as usize;
    let lines = size / line.len() + 1;
    assert!(
        mbox_len > 2 * (size - lines) && mbox_len < 2 * size,
        "{mbox_len}"
    );
    println!("ehlo serve: peak RSS {peak} KiB while storing 2 x 32 MiB");
    assert!(
        peak <= 26 * 1024,
        "peak RSS {peak} KiB while receiving 32 MiB messages: they are not streamed"
    );
}

/// `line` over and over, cut at `size` bytes (copied, not an iterator a byte at a time: that
/// took a debug build seconds of the test's own time for 64 MiB).
fn repeated(line: &[u8], size: usize) -> Vec<u8> {
    let mut content = line.repeat(size / line.len() + 1);
    content.truncate(size);
    content
}

/// Send `count` messages of `size` bytes to `ehlo serve EXTRA…` over one connection (BDAT, and
/// DATA for every tenth) and return the server's resident memory afterwards, in KiB.
fn serve_rss_after(extra: &[&str], count: usize, size: usize) -> (u64, u64, Serve) {
    let serve = Serve::start(extra);
    let before = rss_kib(serve.pid());
    let (mut c, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220"), "{banner}");
    assert!(c.cmd("EHLO big.test").contains("CHUNKING"));
    // Printable content with line ends; no line starts with a dot.
    let line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\r\n";
    let content = repeated(line, size);
    for i in 0..count {
        assert!(c.cmd("MAIL FROM:<a@big.test>").starts_with("250"));
        assert!(c.cmd("RCPT TO:<b@big.test>").starts_with("250"));
        let reply = if i % 10 == 9 {
            assert!(c.cmd("DATA").starts_with("354"));
            c.send(&content);
            c.send(b"\r\n.\r\n");
            c.reply()
        } else {
            c.send(format!("BDAT {} LAST\r\n", content.len()).as_bytes());
            c.send(&content);
            c.reply()
        };
        assert!(reply.starts_with("250"), "message {i}: {reply}");
    }
    c.cmd("QUIT");
    // Let the last message's events drain.
    std::thread::sleep(Duration::from_millis(500));
    (before, rss_kib(serve.pid()), serve)
}

/// Streaming at a scale CI runs in seconds: 10 messages of 4 MiB (40 MiB in all, five times
/// the 8 MiB content budget of memory-only mode) leave `ehlo serve` under 32 MiB resident, in
/// memory-only mode (a byte budget of content) and with a Maildir (metadata only in memory). It
/// held every message's content before. 32 MiB is the server's resident memory at start (about
/// 19 MiB in a debug build), the budget, and room to spare: a server that kept the content
/// passes it by far. It was 30 messages under a 64 MiB cap, which took a debug build 19 s.
#[test]
fn serve_memory_stays_bounded_after_many_big_messages() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("Maildir");
    let md_s = md.to_str().unwrap();
    for extra in [vec!["--quiet"], vec!["--quiet", "--maildir", md_s]] {
        let (before, after, serve) = serve_rss_after(&extra, 10, 4 * 1024 * 1024);
        drop(serve);
        println!("ehlo serve {extra:?}: RSS {before} KiB -> {after} KiB after 10 x 4 MiB");
        assert!(
            after <= 32 * 1024,
            "ehlo serve {extra:?}: {before} KiB resident at start, {after} KiB after 40 MiB of messages"
        );
    }
    assert_eq!(maildir_files(&md).len(), 10);
}

/// The full scale: 1000 messages of 9 MB (about 9 GB; minutes). Run with
/// `cargo test --release --test cli -- --ignored serve_memory_full_scale --nocapture`.
#[test]
#[ignore = "full-scale measurement (9 GB through the server): run by hand, see README"]
fn serve_memory_full_scale() {
    let count = std::env::var("EHLO_RSS_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("Maildir");
    for extra in [
        vec!["--quiet", "--max-size", "10000000"],
        vec![
            "--quiet",
            "--max-size",
            "10000000",
            "--maildir",
            md.to_str().unwrap(),
        ],
    ] {
        let t0 = Instant::now();
        let (before, after, serve) = serve_rss_after(&extra, count, 9_000_000);
        let peak = peak_rss_kib(serve.pid());
        drop(serve);
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!(
            "ehlo serve {extra:?}: {count} x 9 MB in {:.1} s, RSS {before} KiB -> {after} KiB, \
             peak {peak} KiB; load average {}",
            t0.elapsed().as_secs_f64(),
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        );
        // The target: at most 64 MiB resident after 1000 messages of 9 MB, and at no
        // point on the way.
        assert!(
            after <= 64 * 1024,
            "{after} KiB resident after {count} x 9 MB"
        );
        assert!(
            peak <= 64 * 1024,
            "peak {peak} KiB resident during {count} x 9 MB"
        );
        if extra.contains(&"--maildir") {
            assert_eq!(maildir_files(&md).len(), count);
        }
        let _ = std::fs::remove_dir_all(&md);
    }
}

#[test]
fn quiet_names_the_session_and_client_of_each_problem_once() {
    // --quiet has no transcript (no `session N` line, no connection line): a problem line that
    // named no client could not be traced to one, and a client that closed in the middle of a
    // message left no line at all (the transcript shows it only as the close after DATA).
    let mut serve = Serve::start(&["--idle-timeout", "1", "--quiet"]);
    // Closed after part of a DATA message.
    let (mut c, _) = Raw::connect(&serve.addr);
    let data_port = c.w.local_addr().unwrap().port();
    c.cmd("EHLO client.test");
    c.cmd("MAIL FROM:<a@client.test>");
    c.cmd("RCPT TO:<b@serve.test>");
    assert!(c.cmd("DATA").starts_with("354 "));
    c.send(b"Subject: cut off\r\n");
    c.w.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(c.closed());
    let line = serve
        .wait_for("in the middle of a message", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no line for the lost message:\n{}", serve.seen));
    assert_eq!(
        line,
        format!(
            "!!! session 1 (127.0.0.1:{data_port}): the client closed the connection in the middle of a message: nothing stored"
        )
    );
    // Closed after a BDAT chunk that was not the LAST one: the same.
    let (mut c, _) = Raw::connect(&serve.addr);
    c.cmd("EHLO client.test");
    c.cmd("MAIL FROM:<a@client.test>");
    c.cmd("RCPT TO:<b@serve.test>");
    c.send(b"BDAT 3\r\nabc");
    assert!(c.reply().starts_with("250 "));
    c.w.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(c.closed());
    let line = serve
        .wait_for("in the middle of a message", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no line for the lost chunks:\n{}", serve.seen));
    assert!(line.starts_with("!!! session 2 (127.0.0.1:"), "{line}");
    // An open envelope without content loses nothing: no line. An idle client: its timeout,
    // named.
    let (mut c, _) = Raw::connect(&serve.addr);
    c.cmd("EHLO client.test");
    c.cmd("MAIL FROM:<a@client.test>");
    c.w.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(c.closed());
    let (mut idle, _) = Raw::connect(&serve.addr);
    let idle_port = idle.w.local_addr().unwrap().port();
    assert!(idle.reply().starts_with("421 4.4.2"));
    let line = serve
        .wait_for("idle timeout", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no idle timeout line:\n{}", serve.seen));
    assert!(
        line.starts_with(&format!(
            "!!! session 4 (127.0.0.1:{idle_port}): idle timeout: "
        )),
        "{line}"
    );
    // Plain text on a STARTTLS handshake: the failed handshake, named, one line.
    drop(serve);
    let mut serve = Serve::start(&["--quiet", "--starttls"]);
    let (mut c, _) = Raw::connect(&serve.addr);
    c.cmd("EHLO client.test");
    assert!(c.cmd("STARTTLS").starts_with("220 "));
    c.send(b"EHLO not-tls\r\n");
    // An alert may come before the close.
    let mut rest = Vec::new();
    let _ = c.r.read_to_end(&mut rest);
    let line = serve
        .wait_for("TLS", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no TLS failure line:\n{}", serve.seen));
    assert!(
        line.starts_with("*** TLS handshake failed in session 1 (127.0.0.1:"),
        "{line}"
    );
    assert_eq!(serve.seen.lines().count(), 2, "{}", serve.seen);
    assert!(
        serve
            .wait_for("session", Duration::from_millis(500))
            .is_none(),
        "{}",
        serve.seen
    );
}

/// `ehlo serve` run by a shell that first sets `ulimit LIMIT` (e.g. `-n 64`, `-S -n 64`).
fn serve_under_ulimit(limit: &str, extra: &[&str]) -> Serve {
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.args([
        "-c",
        &format!("ulimit {limit} && exec \"$0\" \"$@\""),
        env!("CARGO_BIN_EXE_ehlo"),
    ]);
    Serve::spawn(cmd, "127.0.0.1:0", extra)
}

/// The "Max open files" soft and hard limits of process `pid`, as /proc writes them.
fn open_files_limits(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .expect("a Max open files line");
    let mut w = line.split_whitespace();
    (w.next().unwrap().to_string(), w.next().unwrap().to_string())
}

#[test]
fn out_of_file_descriptors_each_new_client_gets_421_and_it_is_said_once() {
    // 64 descriptors in all and room for 100 connections: the descriptors run out first. A
    // connection past them used to wait unanswered in the listen queue while the server wrote
    // "accept failed: Too many open files" ten times a second.
    let mut serve = serve_under_ulimit("-n 64", &["--max-connections", "100", "--quiet"]);
    assert!(
        serve
            .wait_for(
                "--max-connections 100 may need 332 file descriptors, but the limit is 64",
                Duration::from_secs(5)
            )
            .is_some(),
        "{}",
        serve.seen
    );
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..90 {
        let (mut c, banner) = Raw::connect(&serve.addr);
        if banner.starts_with("220 ") {
            open.push(c);
            continue;
        }
        assert!(
            banner.starts_with("421 4.3.2 ") && banner.contains("too many open files"),
            "{banner:?}"
        );
        assert!(c.closed());
        refused += 1;
    }
    assert!(
        open.len() > 20 && refused > 10,
        "{} open, {refused} refused",
        open.len()
    );
    // Said once for the whole episode, not once per refused client.
    let _ = serve.wait_for("never printed", Duration::from_millis(500));
    assert_eq!(
        serve.seen.matches("out of file descriptors").count(),
        1,
        "{}",
        serve.seen
    );
    assert!(!serve.seen.contains("accept failed"), "{}", serve.seen);
    // Descriptors freed are descriptors used again, and the end of the episode is said.
    drop(open);
    std::thread::sleep(Duration::from_millis(300));
    let (mut c, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220 "), "{banner:?}");
    assert!(c.cmd("EHLO client.test").starts_with("250"));
    assert!(
        serve
            .wait_for(
                &format!("accepting connections again ({refused} refused"),
                Duration::from_secs(5)
            )
            .is_some(),
        "{}",
        serve.seen
    );
}

/// The warning that the descriptors may run out names where `--max-connections` was set when
/// the environment set it (it said a bare `--max-connections 100`, as if typed), and the
/// refusal of a connection past the limit names it too.
#[test]
fn the_descriptor_warning_names_where_max_connections_was_set() {
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.args([
        "-c",
        "ulimit -n 64 && exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_ehlo"),
    ])
    .env("EHLO_MAX_CONNECTIONS", "100");
    let mut serve = Serve::spawn(cmd, "127.0.0.1:0", &["--quiet"]);
    assert!(
        serve
            .wait_for(
                "--max-connections (set by EHLO_MAX_CONNECTIONS in the environment) 100 may need \
                 332 file descriptors, but the limit is 64",
                Duration::from_secs(5)
            )
            .is_some(),
        "{}",
        serve.seen
    );
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("EHLO_MAX_CONNECTIONS", "1");
    let mut serve = Serve::spawn(cmd, "127.0.0.1:0", &["--quiet"]);
    let (mut first, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220 "), "{banner:?}");
    let (_second, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("421 "), "{banner:?}");
    assert!(
        serve
            .wait_for(
                "1 open, the --max-connections (set by EHLO_MAX_CONNECTIONS in the environment) \
                 limit",
                Duration::from_secs(5)
            )
            .is_some(),
        "{}",
        serve.seen
    );
    assert!(first.cmd("QUIT").starts_with("221"));
}

/// A connection the idle timeout ends says where `--idle-timeout` was set when the environment
/// set it (it said a bare `(--idle-timeout)`).
#[test]
fn the_idle_timeout_line_names_where_the_timeout_was_set() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("EHLO_IDLE_TIMEOUT", "1");
    let mut serve = Serve::spawn(cmd, "127.0.0.1:0", &[]);
    let (_c, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220 "), "{banner:?}");
    assert!(
        serve
            .wait_for(
                "idle timeout: no complete command within 1 s (--idle-timeout, set by \
                 EHLO_IDLE_TIMEOUT in the environment): closing",
                Duration::from_secs(10)
            )
            .is_some(),
        "{}",
        serve.seen
    );
}

/// A connection refused for want of a PROXY header says, in the server's own line, where
/// `--accept-proxy` was set when the environment set it (it said a bare `(--accept-proxy)`);
/// the client is told no more than before: a server's settings are not the client's business.
#[test]
fn the_proxy_refusal_names_where_accept_proxy_was_set_to_the_log_only() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("EHLO_ACCEPT_PROXY", "");
    let mut serve = Serve::spawn(cmd, "127.0.0.1:0", &[]);
    let mut s = TcpStream::connect(&serve.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.write_all(b"HELLO\r\n").unwrap();
    let reply = crate::util::smtp_reply(&mut BufReader::new(s));
    assert_eq!(
        reply,
        "421 4.3.0 ehlo.serve Error: no valid PROXY protocol header: closing\r\n"
    );
    let line = serve.wait_for(
        "no valid PROXY protocol header (--accept-proxy, set by EHLO_ACCEPT_PROXY in the \
         environment): not a PROXY protocol header",
        Duration::from_secs(10),
    );
    assert!(line.is_some(), "{}", serve.seen);
}

/// A `--min-free` reserve the environment set larger than any disk is said at start naming
/// EHLO_MIN_FREE (it said a bare `(--min-free)`); the `452 4.3.1` a client gets names no
/// setting.
#[test]
fn the_reserve_lines_name_where_min_free_was_set_and_the_reply_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("EHLO_MIN_FREE", "1000000g");
    let mut serve = Serve::spawn(
        cmd,
        "127.0.0.1:0",
        &["--maildir", maildir.to_str().unwrap()],
    );
    let named = "(--min-free, set by EHLO_MIN_FREE in the environment)";
    let line = serve.wait_for(
        &format!("kept free {named}: every MAIL gets 452 4.3.1"),
        Duration::from_secs(10),
    );
    assert!(line.is_some(), "{}", serve.seen);
    let (mut c, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220 "), "{banner:?}");
    assert!(c.cmd("EHLO client.example").starts_with("250"));
    let reply = c.cmd("MAIL FROM:<a@example.com>");
    assert!(reply.starts_with("452 4.3.1 "), "{reply:?}");
    assert!(
        !reply.contains("min-free") && !reply.contains("EHLO_"),
        "{reply:?}"
    );
}

/// A start warning that a flag does nothing without its partner names where the flag was set
/// when the environment set it (it said a bare `--min-free does nothing here`, as if typed),
/// after the flag as it is spelt (`--hide STARTTLS`).
#[test]
fn an_idle_flag_warning_names_where_the_flag_was_set() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("EHLO_MIN_FREE", "1M").env("EHLO_HIDE", "STARTTLS");
    let mut serve = Serve::spawn(cmd, "127.0.0.1:0", &[]);
    for line in [
        "--min-free (set by EHLO_MIN_FREE in the environment) does nothing here: without \
         --maildir or --mbox",
        "--hide STARTTLS (set by EHLO_HIDE in the environment) does nothing here: without \
         --starttls",
    ] {
        let said = serve.wait_for(line, Duration::from_secs(10));
        assert!(said.is_some(), "{line}\n{}", serve.seen);
    }
}

#[test]
fn a_low_soft_descriptor_limit_is_raised_for_the_connections_allowed() {
    // A soft limit of 64 under a higher hard one (the shell's `ulimit -S`, as a soft 1024 is
    // the usual default): raised to what 100 connections may need (3 each and 32), within the
    // hard limit, as Go's runtime raises it.
    let serve = serve_under_ulimit("-S -n 64", &["--max-connections", "100"]);
    let (soft, hard) = open_files_limits(serve.pid());
    let want = match hard.parse::<u64>() {
        Ok(h) => h.min(332).to_string(),
        Err(_) => "332".to_string(), // "unlimited"
    };
    assert_eq!(soft, want, "hard limit {hard}");
    assert_eq!(open_files_limits(serve.pid()).1, hard);
}

/// A client that sends `NOOP` at `every` until the server cuts it off (a `421` reply, read
/// as it comes even between commands) or `limit` passes: what it got and when.
fn noop_until_cut(mut c: Raw, every: Duration, limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    c.r.get_ref().set_read_timeout(Some(every)).unwrap();
    while start.elapsed() < limit {
        // Something unasked for while waiting: the server's own 421.
        match c.r.fill_buf() {
            Ok([]) => return ("closed without a reply".into(), start.elapsed()),
            Ok(_) => return (c.reply(), start.elapsed()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return (format!("read failed: {e}"), start.elapsed()),
        }
        if c.w.write_all(b"NOOP\r\n").is_err() {
            return (c.reply(), start.elapsed());
        }
        let r = c.reply();
        if !r.starts_with("250") {
            return (r, start.elapsed());
        }
    }
    (format!("still served after {limit:?}"), start.elapsed())
}

/// Clients that each send a complete command within every idle timeout held every
/// `--max-connections` slot for as long as they liked, and a real client never got one. Once a
/// client is turned away with all slots in use the server is busy (as Postfix's stress mode):
/// the open sessions get `--busy-timeout` more, then `421 4.4.2` naming why, the log says when
/// the busy state begins and ends, and the slots are free again. A slow client while one slot
/// is still free is left alone. Set from the environment, the lines name it.
#[test]
fn slow_clients_holding_every_slot_are_cut_at_the_busy_timeout() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("EHLO_BUSY_TIMEOUT", "1");
    let mut serve = Serve::spawn(
        cmd,
        "127.0.0.1:0",
        // --junk-command-limit 0: a NOOP past it would end a busy session before its time.
        &[
            "--max-connections",
            "2",
            "--idle-timeout",
            "5",
            "--junk-command-limit",
            "0",
        ],
    );
    let every = Duration::from_millis(300);
    // One slot of two in use: not busy, a NOOP every 300 ms for 1.5 s is served.
    let (a, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220 "), "{banner}");
    let (r, _) = noop_until_cut(a.clone_raw(), every, Duration::from_millis(1500));
    assert!(r.starts_with("still served"), "{r}\n{}", serve.seen);
    // The second takes the last slot, a third is turned away: both are cut about a second
    // later.
    let (b, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220 "), "{banner}");
    let (_c, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("421 4.3.2 "), "{banner}");
    let limit = Duration::from_secs(6);
    let ta = std::thread::spawn(move || noop_until_cut(a, every, limit));
    let tb = std::thread::spawn(move || noop_until_cut(b, every, limit));
    let (ra, wa) = ta.join().unwrap();
    let (rb, wb) = tb.join().unwrap();
    for (r, waited) in [(&ra, wa), (&rb, wb)] {
        assert!(
            r.starts_with("421 4.4.2 ") && r.contains("busy"),
            "{r}\n{}",
            serve.seen
        );
        assert!(waited < Duration::from_secs(4), "{waited:?}");
    }
    for line in [
        "busy: all 2 connection slots are in use (--max-connections) and a new connection was \
         turned away",
        "busy timeout: all connection slots have been in use for 1 s (--busy-timeout, set by \
         EHLO_BUSY_TIMEOUT in the environment): closing",
        "no longer busy:",
    ] {
        assert!(
            serve.wait_for(line, Duration::from_secs(5)).is_some(),
            "{line}\n{}",
            serve.seen
        );
    }
    // The slots are free again.
    let (_c, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220 "), "{banner}");
}

/// `--max-connections 1` (a usual CI sink) was busy from its first client, as the last slot
/// was taken: the lone session was cut after `--busy-timeout` and its second `NOOP` ended it
/// (junk-command limit 1 while busy), though nobody else was waiting. Busy now begins only when
/// a client is turned away: two `NOOP`s and a message over more than the busy timeout are
/// served, and the log never says busy.
#[test]
fn a_lone_client_in_the_last_slot_is_not_cut_by_busy_mode() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("Maildir");
    let mut serve = Serve::start(&[
        "--max-connections",
        "1",
        "--busy-timeout",
        "1",
        "--maildir",
        maildir.to_str().unwrap(),
    ]);
    let start = Instant::now();
    let (mut c, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220 "), "{banner}");
    assert!(c.cmd("EHLO client.test").starts_with("250"));
    for _ in 0..2 {
        let r = c.cmd("NOOP");
        assert!(r.starts_with("250 "), "{r}\n{}", serve.seen);
        std::thread::sleep(Duration::from_millis(800));
    }
    for (line, code) in [
        ("MAIL FROM:<a@client.test>", "250 "),
        ("RCPT TO:<b@serve.test>", "250 "),
        ("DATA", "354 "),
        ("Subject: lone\r\n\r\nbody\r\n.", "250 "),
        ("QUIT", "221 "),
    ] {
        let r = c.cmd(line);
        assert!(r.starts_with(code), "{line}: {r}\n{}", serve.seen);
    }
    assert!(
        start.elapsed() > Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(maildir_files(&maildir).len(), 1);
    let _ = serve.wait_for("never printed", Duration::from_millis(200));
    for word in ["busy:", "busy timeout:", "the server is busy"] {
        assert!(!serve.seen.contains(word), "{word}\n{}", serve.seen);
    }
}

/// The start line names every limit, the busy timeout and the error limits among them, each
/// with where it was set when that was below the command line.
#[test]
fn the_start_line_names_the_busy_timeout_and_the_error_limits_with_their_sources() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("EHLO_BUSY_TIMEOUT", "3")
        .env("EHLO_HARD_ERROR_LIMIT", "4");
    let serve = Serve::spawn(cmd, "127.0.0.1:0", &["--junk-command-limit", "0"]);
    let line = &serve.seen;
    assert!(
        line.contains(
            "at most 256 connections, idle timeout 300 s, busy timeout 3 s (set by \
             EHLO_BUSY_TIMEOUT in the environment), error limit 4 (set by EHLO_HARD_ERROR_LIMIT \
             in the environment), junk-command limit off, soft error limit 10, then 1 s before each \
             reply, seed "
        ),
        "{line}"
    );
}

/// A client that sent unknown commands (or NOOPs) forever was answered forever: at the hard
/// error limit (Postfix's `smtpd_hard_error_limit`) its last error is answered, then
/// `421 4.7.0` and close, with a line naming the limit and where it was set; NOOPs past the
/// junk-command limit count as errors.
#[test]
fn a_client_that_only_errs_is_cut_at_the_hard_error_limit() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("EHLO_HARD_ERROR_LIMIT", "3");
    let mut serve = Serve::spawn(cmd, "127.0.0.1:0", &["--junk-command-limit", "2"]);
    let (mut c, _) = Raw::connect(&serve.addr);
    for _ in 0..2 {
        let r = c.cmd("XYZZY");
        assert!(r.starts_with("500 5.5.2 "), "{r}");
    }
    let r = c.cmd("XYZZY");
    assert!(r.starts_with("500 5.5.2 "), "{r}");
    let r = c.reply();
    assert!(
        r.starts_with("421 4.7.0 ") && r.contains("Error: too many errors"),
        "{r}"
    );
    assert!(c.closed());
    let line = "too many errors: 3 errors without a message delivered, the limit 3 \
                (--hard-error-limit, set by EHLO_HARD_ERROR_LIMIT in the environment): closing";
    assert!(
        serve.wait_for(line, Duration::from_secs(5)).is_some(),
        "{}",
        serve.seen
    );
    // Junk: two NOOPs are free, the next two are errors, the one after an unknown command.
    let (mut c, _) = Raw::connect(&serve.addr);
    for _ in 0..4 {
        let r = c.cmd("NOOP");
        assert!(r.starts_with("250 "), "{r}");
    }
    assert!(c.cmd("HELP").starts_with("214"));
    let r = c.reply();
    assert!(r.starts_with("421 4.7.0 "), "{r}");
    assert!(
        serve
            .wait_for(
                "the last a NOOP, RSET, VRFY or HELP past the junk-command limit \
                 (--junk-command-limit)",
                Duration::from_secs(5)
            )
            .is_some(),
        "{}",
        serve.seen
    );
}

/// The waits before a session's commands hold a slot as a session does: a TLS handshake, a
/// `--greet-pause` and a PROXY header's wait went on for the idle timeout (or the pause, or
/// `--proxy-timeout`) however long the server had been busy. Each now ends at the busy timeout
/// (busy from the third connection, turned away while the two hold both slots).
#[test]
fn handshakes_greet_pauses_and_proxy_waits_end_at_the_busy_timeout() {
    let limits = [
        "--max-connections",
        "2",
        "--busy-timeout",
        "1",
        "--idle-timeout",
        "30",
    ];
    for (extra, said) in [
        (
            &["--tls-on-connect"][..],
            "the client had not finished it at the busy timeout (1 s, --busy-timeout",
        ),
        (
            &["--greet-pause", "30000"][..],
            "busy timeout: all connection slots have been in use for 1 s",
        ),
        (
            &["--accept-proxy", "--proxy-timeout", "30"][..],
            "0 octets of one came before the busy timeout (1 s, --busy-timeout",
        ),
    ] {
        let args: Vec<&str> = limits.iter().chain(extra).copied().collect();
        let mut serve = Serve::start(&args);
        let start = Instant::now();
        let mut clients: Vec<TcpStream> = (0..2)
            .map(|_| {
                let s = TcpStream::connect(&serve.addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                s
            })
            .collect();
        let _turned_away = TcpStream::connect(&serve.addr).unwrap();
        for c in &mut clients {
            // Whatever the server says last, then its close.
            let mut all = Vec::new();
            let _ = c.read_to_end(&mut all);
        }
        let waited = start.elapsed();
        assert!(
            waited < Duration::from_secs(6),
            "{extra:?}: {waited:?}\n{}",
            serve.seen
        );
        assert!(
            serve.wait_for(said, Duration::from_secs(5)).is_some(),
            "{extra:?}: {said}\n{}",
            serve.seen
        );
    }
}

/// Postfix's `smtpd_soft_error_limit` (10) and `smtpd_error_sleep_time`: a client's first ten
/// errors are answered at once, the eleventh and every reply after it wait
/// `--error-sleep-time`; a delivered message starts the count again. The start line names both,
/// with where the wait was set.
#[test]
fn past_the_soft_error_limit_replies_are_delayed_until_a_message_is_delivered() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("EHLO_ERROR_SLEEP_TIME", "600");
    let serve = Serve::spawn(cmd, "127.0.0.1:0", &[]);
    assert!(
        serve.seen.contains(
            "junk-command limit 100, soft error limit 10, then 0.6 s before each reply (set by \
             EHLO_ERROR_SLEEP_TIME in the environment), seed "
        ),
        "{}",
        serve.seen
    );
    let (mut c, _) = Raw::connect(&serve.addr);
    let timed = |c: &mut Raw, line: &str| {
        let t = Instant::now();
        let r = c.cmd(line);
        (r, t.elapsed())
    };
    for i in 1..=10 {
        let (r, took) = timed(&mut c, "XYZZY");
        assert!(r.starts_with("500 5.5.2 "), "{r}");
        assert!(took < Duration::from_millis(400), "error {i}: {took:?}");
    }
    let (r, took) = timed(&mut c, "XYZZY");
    assert!(r.starts_with("500 5.5.2 "), "{r}");
    assert!(
        took >= Duration::from_millis(590),
        "the 11th error: {took:?}"
    );
    // Every reply now waits, an error or not, until a message is delivered.
    let (r, took) = timed(&mut c, "EHLO soft.test");
    assert!(r.starts_with("250"), "{r}");
    assert!(took >= Duration::from_millis(590), "EHLO: {took:?}");
    c.cmd("MAIL FROM:<a@soft.test>");
    c.cmd("RCPT TO:<b@soft.test>");
    assert!(c.cmd("DATA").starts_with("354"));
    let (r, took) = timed(&mut c, "Subject: x\r\n\r\nhi\r\n.");
    assert!(r.starts_with("250 2.0.0 Ok: queued"), "{r}");
    assert!(
        took < Duration::from_millis(400),
        "the 250 to the dot: {took:?}"
    );
    let (r, took) = timed(&mut c, "XYZZY");
    assert!(r.starts_with("500 5.5.2 "), "{r}");
    assert!(
        took < Duration::from_millis(400),
        "an error after a delivery: {took:?}"
    );
}

/// A `--error-sleep-time` as long as `--idle-timeout` or longer: past the soft error limit every
/// reply comes no sooner than a client waiting as long as this server waits for it gives up
/// (RFC 5321 §4.5.3.2: both sides wait 5 minutes; Postfix's 1 s `smtpd_error_sleep_time` is far
/// below its 300 s `smtpd_timeout`), so each delayed reply is lost to it. Still served (a reply
/// slower than the client's timeout is a fault one may want), with one start warning naming
/// both; a `--soft-error-limit` at or above `--hard-error-limit` delays nothing (the session is
/// closed first) and is warned about too. Below both: no such line.
#[test]
fn an_error_sleep_as_long_as_the_idle_timeout_is_warned_about_at_start() {
    let run = |extra: &[&str]| {
        let mut args = vec!["--max-sessions", "1"];
        args.extend_from_slice(extra);
        let serve = Serve::start(&args);
        let (mut c, banner) = Raw::connect(&serve.addr);
        assert!(banner.starts_with("220 "), "{banner}");
        assert!(c.cmd("QUIT").starts_with("221"));
        let (code, out) = serve.finish();
        assert_eq!(code, 0, "{out}");
        out
    };
    let out = run(&["--idle-timeout", "2s", "--error-sleep-time", "2000"]);
    let line = "--error-sleep-time 2 s is not shorter than --idle-timeout 2 s: past the soft error \
                limit (10) every reply comes as late as a client that waits as long as this \
                server does gives up on it";
    assert_eq!(out.matches(line).count(), 1, "{out}");
    let out = run(&[
        "--soft-error-limit",
        "20",
        "--hard-error-limit",
        "20",
        "--error-sleep-time",
        "500",
    ]);
    let line = "--soft-error-limit 20 does nothing here: --hard-error-limit 20 closes the \
                session at that error, before any reply is delayed";
    assert_eq!(out.matches(line).count(), 1, "{out}");
    let out = run(&[
        "--idle-timeout",
        "2s",
        "--error-sleep-time",
        "1999",
        "--soft-error-limit",
        "19",
        "--hard-error-limit",
        "20",
    ]);
    assert!(!out.contains("--error-sleep-time"), "{out}");
    assert!(!out.contains("--soft-error-limit"), "{out}");
}

/// The busy refusal, whole: a client turned away with every `--max-connections` slot in use
/// gets one line in place of the greeting and the close, nothing else: `421` with the
/// server's domain first (RFC 5321 §4.2.3: `421 <domain> Service not available, closing
/// transmission channel`; §3.8: a server that will not serve says 421, it does not just
/// close), `4.3.2` and the limit (RFC 3463 §3.4 X.3.2, "System not accepting network
/// messages", excessive load: the whole server is full, as Postfix's postscreen says `421 4.3.2
/// All server ports are busy`; X.7.0 is a policy about this client). A real client sees a busy
/// server at the banner: ehlo's send exits 21 (swaks says `<** 421 4.3.2 …` and exits 21 too).
#[test]
fn the_busy_refusal_in_place_of_the_greeting_is_one_421_line_naming_the_server() {
    let serve = Serve::start(&["--max-connections", "1", "--hostname", "mx.busy.test"]);
    let (_held, banner) = Raw::connect(&serve.addr);
    assert!(banner.starts_with("220 "), "{banner}");
    let mut turned_away = TcpStream::connect(&serve.addr).unwrap();
    turned_away
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut all = Vec::new();
    turned_away.read_to_end(&mut all).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&all),
        "421 4.3.2 mx.busy.test Error: too many connections (1)\r\n"
    );
    let r = send(&serve.addr, &[]);
    assert_eq!(r.code, 21, "{}", r.all());
    assert!(
        r.stdout
            .contains("421 4.3.2 mx.busy.test Error: too many connections (1)"),
        "{}",
        r.stdout
    );
}
