//! Test plumbing: run the built `ehlo` binary with a hard time limit, and a scripted SMTP server
//! on 127.0.0.1:0 for the misbehaviour real servers won't produce (garbage, trickles, drops,
//! injected bytes). The scripted server records every byte it received. Also the ports and
//! listeners tests need to find nothing there ([`free_port`], [`tripwire`]).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use openssl::ssl::{SslAcceptor, SslMethod, SslStream};

/// One whole SMTP reply from a client's side of a connection: its lines up to the last one
/// (no `-` after the code, RFC 5321 section 4.2.1), or what came before EOF or a read error.
pub fn smtp_reply(r: &mut impl std::io::BufRead) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return all;
        }
        all.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            return all;
        }
    }
}

/// What a finished `ehlo` run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Both streams, for assertions that don't care where a line went.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// All of a child's output (or any reader's) up to its end, as text; a read error fails the test.
pub fn read_to_end(mut r: impl Read) -> String {
    let mut s = String::new();
    r.read_to_string(&mut s).unwrap();
    s
}

/// Keep the developer's own configuration out of a test run: no config file (an absent
/// `XDG_CONFIG_HOME`) and no `EHLO_*` variables (they set options, see src/cli/layers.rs).
/// Variables already set (or removed) on `cmd` by the caller are left as the caller wants.
pub fn isolate(cmd: &mut Command) {
    let given: Vec<std::ffi::OsString> = cmd.get_envs().map(|(k, _)| k.to_os_string()).collect();
    if !given.iter().any(|k| k == "XDG_CONFIG_HOME") {
        cmd.env("XDG_CONFIG_HOME", "/nonexistent/ehlo-test-config");
    }
    // Nor the developer's `~/.swaksrc` (ehlo names one it does not read).
    if !given.iter().any(|k| k == "SWAKS_HOME") {
        cmd.env("SWAKS_HOME", "/nonexistent/ehlo-test-swaks-home");
    }
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("EHLO_") && !given.contains(&k) {
            cmd.env_remove(k);
        }
    }
}

/// Run `ehlo` with `args` (colour off), killing it if it runs longer than `limit`.
pub fn ehlo_with(args: &[&str], stdin: Option<&[u8]>, limit: Duration) -> Run {
    ehlo_with_env(args, &[], stdin, limit)
}

/// [`ehlo_with`] with extra environment variables (set after [`isolate`], so they win).
pub fn ehlo_with_env(
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&[u8]>,
    limit: Duration,
) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE");
    cmd.envs(env.iter().copied());
    run_cmd(cmd, args, stdin, limit)
}

/// Run `ehlo` with `args` and exactly the colour-related environment given in `env` (NO_COLOR,
/// CLICOLOR_FORCE and TERM are removed first), with a 30 s limit.
pub fn ehlo_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("TERM");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_cmd(cmd, args, None, Duration::from_secs(30))
}

/// `/bin/sh -c 'ulimit -S -c 4 && exec ehlo ARGS…'`: `ehlo` started with a soft core-file limit
/// of 2048 bytes (4 blocks of 512, POSIX `ulimit`), which no core (a page at least) fits, as
/// after a user's `ulimit -c`. The command to hand [`run_cmd`] or to add `ehlo`'s arguments to.
pub fn under_core_limit() -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.args([
        "-c",
        "ulimit -S -c 4 && exec \"$0\" \"$@\"",
        env!("CARGO_BIN_EXE_ehlo"),
    ]);
    cmd
}

/// `/bin/sh -c 'ulimit -S -d KIB && exec ehlo ARGS…'`: `ehlo` started with a soft data-segment
/// limit (`RLIMIT_DATA`, which covers the heap's mappings too) of `kib` KiB: an allocation
/// past it fails (Rust aborts: "memory allocation of N bytes failed", exit 134), so a test can
/// tell a run that never held a large buffer from one that did, without measuring.
pub fn under_data_limit(kib: u32) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.args([
        "-c",
        &format!("ulimit -S -d {kib} && exec \"$0\" \"$@\""),
        env!("CARGO_BIN_EXE_ehlo"),
    ]);
    cmd
}

/// `/bin/sh -c 'ehlo ARGS…; times >&2'`: `ehlo` run by a shell that then writes on stderr, last,
/// the CPU time its children used (POSIX `times`, its second line: `0m1.250000s 0m0.040000s`,
/// user then system), for [`cpu_time`]. The exit code is `ehlo`'s. The command to hand
/// [`run_cmd`].
pub fn with_cpu_time() -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.args([
        "-c",
        "\"$0\" \"$@\"; code=$?; times >&2; exit $code",
        env!("CARGO_BIN_EXE_ehlo"),
    ])
    .env("NO_COLOR", "1")
    .env_remove("CLICOLOR_FORCE");
    cmd
}

/// The CPU time (user and system) of a run made with [`with_cpu_time`]: what the run itself
/// cost, which a loaded machine does not lengthen as it lengthens the time on the clock.
pub fn cpu_time(run: &Run) -> Duration {
    let last = run.stderr.lines().last().unwrap_or_default();
    let secs = |t: &str| -> Option<f64> {
        let (m, s) = t.strip_suffix('s')?.split_once('m')?;
        Some(m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?)
    };
    let times: Option<Vec<f64>> = last.split_whitespace().map(secs).collect();
    match times.as_deref() {
        Some([user, sys]) => Duration::from_secs_f64(user + sys),
        _ => panic!("no `times` line last on stderr: {:?}", run.stderr),
    }
}

/// The "Max core file size" line of /proc/PID/limits, its words (soft, hard, unit).
pub fn core_limit_of(pid: &str) -> String {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max core file size"))
        .expect("a core file size line");
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Run `cmd` with `args` and `stdin`, killing it past `limit`. Unless the caller chose a working
/// directory, it runs in an empty one of its own, which must still be empty afterwards: a
/// relative path given to `ehlo` (`--output-file elsewhere`) landed in the test's working
/// directory, the checkout, and an empty `elsewhere` was committed with the test that made it.
pub fn run_cmd(mut cmd: Command, args: &[&str], stdin: Option<&[u8]>, limit: Duration) -> Run {
    let cwd = match cmd.get_current_dir() {
        Some(_) => None,
        None => {
            let dir = tempfile::tempdir().expect("a working directory for ehlo");
            cmd.current_dir(dir.path());
            Some(dir)
        }
    };
    let run = run_cmd_here(cmd, args, stdin, limit);
    if let Some(dir) = cwd {
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            left.is_empty(),
            "ehlo {args:?} wrote {left:?} into its working directory: a relative path in a \
             test lands in the checkout; give it a path inside a tempdir"
        );
    }
    run
}

fn run_cmd_here(mut cmd: Command, args: &[&str], stdin: Option<&[u8]>, limit: Duration) -> Run {
    isolate(&mut cmd);
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn ehlo");
    if let Some(input) = stdin {
        let mut w = child.stdin.take().unwrap();
        // A run that ends before reading all its input (a `--strict` REPL stopping at a
        // refusal) closes the pipe; on a loaded machine that can happen before this write is
        // done, which is the run's behaviour under test, not a failure of the harness.
        if let Err(e) = w.write_all(input) {
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe,
                "writing ehlo's stdin: {e}"
            );
        }
    }
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("ehlo {args:?} ran longer than {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// Run `ehlo` with a 30 s limit.
pub fn ehlo(args: &[&str]) -> Run {
    ehlo_with(args, None, Duration::from_secs(30))
}

/// One step of a scripted server.
#[derive(Clone)]
pub enum Step {
    /// Write these bytes.
    Send(&'static [u8]),
    /// Write these bytes (owned).
    SendOwned(Vec<u8>),
    /// Read one line; panic (in the server thread) unless it starts with this, case-insensitively.
    Expect(&'static str),
    /// Read one line, whatever it is.
    Line,
    /// Read one line and send what this makes of it (a reply that depends on the client's
    /// line: a SCRAM server-first echoing the client's nonce).
    Answer(fn(&str) -> Vec<u8>),
    /// Read message content until the CRLF.CRLF end marker.
    Data,
    /// Read exactly this many octets (a BDAT chunk, RFC 3030 §2: no line end needed).
    Octets(usize),
    /// Write these bytes one at a time with a pause between.
    Trickle(&'static [u8], Duration),
    /// Do nothing for a while (connection kept open).
    Sleep(Duration),
    /// Write this byte again and again, one segment each (no Nagle), `gap` apart (a busy
    /// wait: finer than a sleep), for at most this long or until the client goes: a reply
    /// that keeps arriving and never ends, with a byte always about to come.
    Dribble(u8, Duration, Duration),
    /// Write these bytes again and again until the client stops reading (a reply that never
    /// ends), for at most this long.
    Flood(&'static [u8], Duration),
    /// TLS handshake as the server (after a 220 to STARTTLS, or at once for implicit TLS).
    Tls,
    /// Wait this long for each read from now on (20 s before), for a client given longer than
    /// that to send its next line (a debug build typing megabytes on a loaded machine).
    ReadTimeout(Duration),
    /// Close the connection now.
    Close,
    /// Read until the client closes; panic unless it ended the TLS session with a close_notify
    /// alert (RFC 8446 §6.1) first.
    ExpectCloseNotify,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
    Gone,
}

impl Stream {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(b),
            Stream::Tls(s) => s.read(b),
            Stream::Gone => Ok(0),
        }
    }
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.write_all(b),
            Stream::Tls(s) => s.write_all(b).and_then(|_| s.flush()),
            Stream::Gone => Ok(()),
        }
    }
}

/// A scripted server running in a thread; `finish()` returns every byte it received.
pub struct Scripted {
    pub addr: SocketAddr,
    handle: Option<JoinHandle<(Vec<u8>, SocketAddr)>>,
}

impl Scripted {
    /// `127.0.0.1:PORT` for `--server`.
    pub fn server(&self) -> String {
        self.addr.to_string()
    }
    /// Wait for the script to end; the bytes the client sent.
    pub fn finish(self) -> String {
        self.finish_with_peer().0
    }
    /// Like `finish`, plus the client's address as the server saw it.
    pub fn finish_with_peer(mut self) -> (String, SocketAddr) {
        let h = self.handle.take().unwrap();
        let (got, peer) = h.join().expect("scripted server panicked");
        (String::from_utf8_lossy(&got).into_owned(), peer)
    }
}

/// A self-signed certificate for "localhost", as an acceptor.
pub fn test_acceptor() -> Arc<SslAcceptor> {
    Arc::new(test_acceptor_builder().build())
}

/// The builder behind [`test_acceptor`], for tests that restrict it further.
pub fn test_acceptor_builder() -> openssl::ssl::SslAcceptorBuilder {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert = openssl::x509::X509::from_der(ck.cert.der()).unwrap();
    let key = openssl::pkey::PKey::private_key_from_pem(ck.signing_key.serialize_pem().as_bytes())
        .unwrap();
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    b.set_certificate(&cert).unwrap();
    b.set_private_key(&key).unwrap();
    b
}
/// Runs the `#[ignore]`d test `name` (its full path, `module::test`) of this test binary alone in
/// a new user + network namespace (`unshare -rn`), after the shell commands `setup` (run with
/// `sh -c` there; `lo` is brought up first). `Err` holds its whole output. `--exact` with a
/// wrong name runs nothing and passes, so the one test is required to have run.
pub fn in_a_new_network_namespace(setup: &str, name: &str) -> Result<(), String> {
    let script = format!("ip link set lo up && {setup} && exec \"$0\" \"$@\"");
    let out = Command::new("unshare")
        .args(["-rn", "sh", "-c", &script])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            name,
            "--test-threads=1",
            "--nocapture",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("unshare runs");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && all.contains("test result: ok. 1 passed") {
        Ok(())
    } else {
        Err(all)
    }
}

/// A loopback port that was free a moment ago (bound on port 0, then let go): nothing listens
/// there, so a connection to it is refused, until another process takes it.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A listener on 127.0.0.1 nobody is meant to reach, non-blocking: after the run, `accept`
/// must find no connection.
pub fn tripwire() -> TcpListener {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    l
}

/// Start a server that accepts ONE connection and plays `steps`.
pub fn scripted(steps: Vec<Step>) -> Scripted {
    scripted_with(steps, test_acceptor())
}

/// [`scripted`] with a TLS acceptor of the test's own (TLS 1.2 only, client certificate
/// required, …) for `Step::Tls`.
pub fn scripted_with(steps: Vec<Step>, acceptor: Arc<SslAcceptor>) -> Scripted {
    scripted_on(TcpListener::bind("127.0.0.1:0").unwrap(), steps, acceptor)
}

/// [`scripted`] on a given address (another loopback address, a port shared with another
/// server: MX hosts reached through one `--port`).
pub fn scripted_at(addr: SocketAddr, steps: Vec<Step>) -> Scripted {
    scripted_on(TcpListener::bind(addr).unwrap(), steps, test_acceptor())
}

/// [`scripted_at`] with a TLS acceptor of the test's own (a certificate for an MX host's name).
pub fn scripted_at_with(
    addr: SocketAddr,
    steps: Vec<Step>,
    acceptor: Arc<SslAcceptor>,
) -> Scripted {
    scripted_on(TcpListener::bind(addr).unwrap(), steps, acceptor)
}

/// The one connection a scripted server waits for, or a panic saying none came within
/// `limit`: a client that failed before connecting made `finish` (which joins this thread)
/// wait for ever, and the test binary with it.
fn accept_within(listener: &TcpListener, limit: Duration) -> (TcpStream, SocketAddr) {
    listener.set_nonblocking(true).unwrap();
    let start = Instant::now();
    loop {
        match listener.accept() {
            Ok((tcp, peer)) => {
                tcp.set_nonblocking(false).unwrap();
                return (tcp, peer);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && start.elapsed() < limit => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("scripted server: no connection within {limit:?} ({e})"),
        }
    }
}

fn scripted_on(listener: TcpListener, steps: Vec<Step>, acceptor: Arc<SslAcceptor>) -> Scripted {
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (tcp, peer) = accept_within(&listener, Duration::from_secs(30));
        tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut s = Stream::Plain(tcp);
        let mut got = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        for step in steps {
            match step {
                Step::Send(b) => {
                    let _ = s.write_all(b);
                }
                Step::SendOwned(b) => {
                    let _ = s.write_all(&b);
                }
                Step::Trickle(b, pause) => {
                    for byte in b {
                        if s.write_all(&[*byte]).is_err() {
                            break;
                        }
                        std::thread::sleep(pause);
                    }
                }
                Step::Expect(prefix) => {
                    let line = read_line(&mut s, &mut pending, &mut got);
                    assert!(
                        line.to_ascii_uppercase()
                            .starts_with(&prefix.to_ascii_uppercase()),
                        "scripted server expected {prefix:?}, got {line:?}"
                    );
                }
                Step::Answer(f) => {
                    let line = read_line(&mut s, &mut pending, &mut got);
                    let _ = s.write_all(&f(&line));
                }
                Step::Line => {
                    read_line(&mut s, &mut pending, &mut got);
                }
                Step::Octets(n) => {
                    while pending.len() < n {
                        let mut b = [0u8; 4096];
                        match s.read(&mut b) {
                            Ok(0) | Err(_) => break,
                            Ok(k) => pending.extend_from_slice(&b[..k]),
                        }
                    }
                    let take = n.min(pending.len());
                    got.extend(pending.drain(..take));
                }
                Step::Data => loop {
                    let line = read_line(&mut s, &mut pending, &mut got);
                    if line == ".\r\n" || line.is_empty() {
                        break;
                    }
                },
                Step::Sleep(d) => sleep_unless_gone(&s, d),
                Step::Dribble(byte, gap, limit) => {
                    if let Stream::Plain(tcp) = &s {
                        let _ = tcp.set_nodelay(true);
                    }
                    let start = Instant::now();
                    while start.elapsed() < limit && s.write_all(&[byte]).is_ok() {
                        let next = Instant::now() + gap;
                        while Instant::now() < next {
                            std::hint::spin_loop();
                        }
                    }
                }
                Step::Flood(b, limit) => {
                    let chunk = b.repeat((64 * 1024 / b.len().max(1)).max(1));
                    let start = Instant::now();
                    while start.elapsed() < limit && s.write_all(&chunk).is_ok() {}
                }
                Step::Tls => {
                    let Stream::Plain(tcp) = std::mem::replace(&mut s, Stream::Gone) else {
                        panic!("TLS twice");
                    };
                    match acceptor.accept(tcp) {
                        Ok(t) => s = Stream::Tls(Box::new(t)),
                        Err(openssl::ssl::HandshakeError::Failure(mut mid)) => {
                            // Like a real server, read what the client still sends (for a
                            // while) before closing, so the client gets to see our alert
                            // instead of a reset.
                            let tcp = mid.get_mut();
                            let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
                            let mut b = [0u8; 4096];
                            while let Ok(n) = tcp.read(&mut b) {
                                if n == 0 {
                                    break;
                                }
                            }
                            return (got, peer);
                        }
                        Err(_) => return (got, peer),
                    }
                }
                Step::ReadTimeout(d) => {
                    let tcp = match &s {
                        Stream::Plain(t) => t,
                        Stream::Tls(t) => t.get_ref(),
                        Stream::Gone => panic!("a read timeout for a closed connection"),
                    };
                    tcp.set_read_timeout(Some(d)).unwrap();
                }
                Step::Close => {
                    s = Stream::Gone;
                }
                Step::ExpectCloseNotify => {
                    let mut b = [0u8; 4096];
                    let end = loop {
                        match s.read(&mut b) {
                            Ok(0) => break "end of stream".to_string(),
                            Ok(n) => got.extend_from_slice(&b[..n]),
                            Err(e) => break format!("read error: {e}"),
                        }
                    };
                    let Stream::Tls(t) = &mut s else {
                        panic!("ExpectCloseNotify without TLS");
                    };
                    assert!(
                        t.get_shutdown()
                            .contains(openssl::ssl::ShutdownState::RECEIVED),
                        "the client closed without a TLS close_notify ({end})"
                    );
                }
            }
        }
        // Let the client finish (QUIT, close) before the socket drops.
        let mut b = [0u8; 4096];
        while let Ok(n) = s.read(&mut b) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&b[..n]);
        }
        (got, peer)
    });
    Scripted {
        addr,
        handle: Some(handle),
    }
}

/// [`Step::Sleep`]: `d`, or less once the client has closed the connection (its end of
/// stream is what is left to read) — nothing after that reaches it, and a test joining the
/// server (`finish`) waited out every sleep left in the script after a client that a deadline,
/// a timeout or a signal had stopped: 2 to 11 s a test. Data still unread keeps the sleep
/// whole (it cannot tell a close behind it), and so does a connection the script closed.
fn sleep_unless_gone(s: &Stream, d: Duration) {
    let tcp = match s {
        Stream::Plain(t) => t,
        Stream::Tls(t) => t.get_ref(),
        Stream::Gone => return std::thread::sleep(d),
    };
    let end = Instant::now() + d;
    loop {
        let now = Instant::now();
        if now >= end {
            return;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(20)));
        if tcp.set_nonblocking(true).is_err() {
            continue;
        }
        let gone = match tcp.peek(&mut [0u8; 1]) {
            Ok(n) => n == 0,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
            ),
        };
        let _ = tcp.set_nonblocking(false);
        if gone {
            return;
        }
    }
}

fn read_line(s: &mut Stream, pending: &mut Vec<u8>, got: &mut Vec<u8>) -> String {
    loop {
        if let Some(i) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=i).collect();
            got.extend_from_slice(&line);
            return String::from_utf8_lossy(&line).into_owned();
        }
        let mut b = [0u8; 4096];
        match s.read(&mut b) {
            Ok(0) | Err(_) => {
                let rest = std::mem::take(pending);
                got.extend_from_slice(&rest);
                return String::from_utf8_lossy(&rest).into_owned();
            }
            Ok(n) => pending.extend_from_slice(&b[..n]),
        }
    }
}

/// The usual opening: banner, EHLO with a few extensions.
pub fn greet() -> Vec<Step> {
    vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO"),
        Step::Send(b"250-scripted.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n"),
    ]
}

/// The REPL tests' opening: the banner, `EHLO x.test` answered by a one-line 250; then `more`.
pub fn ehlo_x_then(more: Vec<Step>) -> Vec<Step> {
    let mut v = vec![
        Step::Send(b"220 scripted.test ESMTP\r\n"),
        Step::Expect("EHLO x.test"),
        Step::Send(b"250 scripted.test\r\n"),
    ];
    v.extend(more);
    v
}

/// `greet()` followed by `more`.
pub fn after_greet(more: Vec<Step>) -> Vec<Step> {
    let mut v = greet();
    v.extend(more);
    v
}

/// A whole accepted transaction after the greeting.
pub fn accept_all() -> Vec<Step> {
    vec![
        Step::Expect("MAIL FROM:"),
        Step::Send(b"250 2.1.0 Ok\r\n"),
        Step::Expect("RCPT TO:"),
        Step::Send(b"250 2.1.5 Ok\r\n"),
        Step::Expect("DATA"),
        Step::Send(b"354 End data with <CR><LF>.<CR><LF>\r\n"),
        Step::Data,
        Step::Send(b"250 2.0.0 Ok: queued as ABC123\r\n"),
        Step::Expect("QUIT"),
        Step::Send(b"221 2.0.0 Bye\r\n"),
    ]
}

/// Standard arguments for a send to a scripted server.
pub fn send_args(server: &str) -> Vec<String> {
    [
        "--server",
        server,
        "--to",
        "rcpt@scripted.test",
        "--from",
        "sender@client.test",
        "--helo",
        "client.test",
        "--timeout",
        "5",
        "--color",
        "never",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Run a send against `server` with the standard arguments plus `extra`.
pub fn send(server: &Scripted, extra: &[&str]) -> Run {
    let mut args = send_args(&server.server());
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ehlo(&refs)
}

/// Start `ehlo` with `args`; its stdout lines arrive on the channel as they are printed.
pub fn spawn_ehlo(
    args: &[String],
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<String>,
) {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ehlo"));
    cmd.env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE");
    isolate(&mut cmd);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn ehlo");
    let out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    (child, rx, stderr)
}

/// Wait for `child` at most `limit`; its exit code and the peak resident memory seen (KiB,
/// sampled from /proc every 20 ms).
pub fn wait_sampling(child: &mut std::process::Child, limit: Duration) -> (i32, u64) {
    let t0 = std::time::Instant::now();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (st.code().unwrap_or(-1), peak);
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("ehlo ran longer than {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fake DNS server (`ehlo::net::testutil::FakeDns`) whose MX hosts are CNAMEs left dangling,
/// for `ehlo check` and the send to word them alike: gone.test → mx.gone.test → old.gone.test
/// → older.gone.test (NXDOMAIN); bare.test → mx.bare.test → txt.bare.test (a TXT record, no
/// address); plain.test → nothere.plain.test (no CNAME, NXDOMAIN).
pub fn dangling_cname_mx_dns() -> (SocketAddr, JoinHandle<()>) {
    use ehlo::net::testutil::{FakeDns, RecordSpec};
    FakeDns::start(vec![
        ("gone.test", RecordSpec::Mx(10, "mx.gone.test".into())),
        ("mx.gone.test", RecordSpec::Cname("old.gone.test".into())),
        ("old.gone.test", RecordSpec::Cname("older.gone.test".into())),
        ("bare.test", RecordSpec::Mx(10, "mx.bare.test".into())),
        ("mx.bare.test", RecordSpec::Cname("txt.bare.test".into())),
        ("txt.bare.test", RecordSpec::Txt("no address here".into())),
        (
            "plain.test",
            RecordSpec::Mx(10, "nothere.plain.test".into()),
        ),
    ])
}

/// `text.contains(needle)` by memchr's `memmem`: the tests are debug builds, where
/// `str::contains` over an output of megabytes (a 20 MB message's transcript) is unoptimised code.
pub fn has(text: &str, needle: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some()
}

/// Does some line of `text` have both `a` and `b` (`text.lines().any(..)` by [`has`])?
pub fn a_line_has(text: &str, a: &str, b: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memmem::find_iter(bytes, a.as_bytes()).any(|at| {
        let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
        has(&text[start..end], b)
    })
}
