//! The async driver: resolves and opens the transport (TCP with MX failover, a UNIX-domain
//! socket, or a child process's stdin/stdout), writes a PROXY header if asked, pumps bytes between
//! it and `smtp::client::Session` under per-phase timeouts, performs the TLS upgrade when the
//! session asks, and hands every event to the one renderer. Protocol decisions stay in the session.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use crate::cli::config::{SendConfig, Target, Transport};
use crate::error::Error;
use crate::net::dns::Resolver;
use crate::net::{connect, tls};
use crate::render::Renderer;
use crate::smtp::client::{Action, Session, SessionError};
use crate::smtp::event::{Event, Phase, PhaseTiming, SentKind, Summary};

/// Any byte stream a session can run over (a UNIX socket, a child's stdin/stdout).
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A connected transport: plain TCP, TLS over TCP, or either over another stream.
pub enum Conn {
    /// Plain text.
    Plain(TcpStream),
    /// After STARTTLS or with implicit TLS.
    Tls(Box<SslStream<TcpStream>>),
    /// Plain text over a `--socket` or `--pipe` stream.
    Other(Box<dyn Stream>),
    /// TLS over a `--socket` or `--pipe` stream.
    OtherTls(Box<SslStream<Box<dyn Stream>>>),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Conn::Other(s) => Pin::new(s).poll_read(cx, buf),
            Conn::OtherTls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Conn::Other(s) => Pin::new(s).poll_write(cx, buf),
            Conn::OtherTls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Conn::Other(s) => Pin::new(s).poll_flush(cx),
            Conn::OtherTls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Conn::Other(s) => Pin::new(s).poll_shutdown(cx),
            Conn::OtherTls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Hands events to the renderer with the elapsed time, and keeps per-phase timings.
pub struct Output<'a> {
    renderer: &'a mut dyn Renderer,
    start: Instant,
    timings: Vec<(Phase, Duration)>,
}

impl<'a> Output<'a> {
    /// Start the clock.
    pub fn new(renderer: &'a mut dyn Renderer) -> Output<'a> {
        Output {
            renderer,
            start: Instant::now(),
            timings: Vec::new(),
        }
    }
    /// Render one event.
    pub fn emit(&mut self, event: Event) {
        self.renderer.event(&event, self.start.elapsed());
    }
    /// Record and render the time a phase took.
    pub fn timing(&mut self, phase: Phase, d: Duration) {
        match self.timings.iter_mut().find(|(p, _)| *p == phase) {
            Some((_, total)) => *total += d,
            None => self.timings.push((phase, d)),
        }
        self.emit(Event::Timing {
            phase,
            ms: d.as_secs_f64() * 1000.0,
        });
    }
    fn summary_timings(&self) -> Vec<PhaseTiming> {
        self.timings
            .iter()
            .map(|(phase, d)| PhaseTiming {
                phase: *phase,
                ms: d.as_secs_f64() * 1000.0,
            })
            .collect()
    }
}

/// What a finished run knows, for the summary.
#[derive(Default)]
struct RunState {
    server: Option<String>,
    tls: Option<String>,
    recipients: Vec<crate::smtp::event::RecipientResult>,
    message_accepted: Option<bool>,
}

/// Run a one-shot send: resolve, connect, drive the session, render every event (the error and
/// the summary included) and return the exit code.
pub async fn send(cfg: SendConfig, renderer: &mut dyn Renderer) -> u8 {
    let mut out = Output::new(renderer);
    let mut state = RunState::default();
    let result = run(cfg, &mut out, &mut state).await;
    let (exit_code, outcome, error) = match &result {
        Ok(()) => (0, "ok".to_string(), None),
        // The summary carries the error: one line on stderr, not two.
        Err(e) => (e.exit_code(), e.label().to_string(), Some(e.to_string())),
    };
    let summary = Summary {
        exit_code,
        outcome,
        error,
        server: state.server,
        tls: state.tls,
        recipients: state.recipients,
        message_accepted: state.message_accepted,
        timings: out.summary_timings(),
    };
    out.emit(Event::Summary(summary));
    out.renderer.finish();
    exit_code
}

/// Random client nonce for SCRAM (the sans-IO core has no randomness of its own).
fn nonce() -> Option<String> {
    let mut b = [0u8; 18];
    openssl::rand::rand_bytes(&mut b).ok()?;
    Some(crate::smtp::auth::scram_nonce(&b))
}

async fn run(mut cfg: SendConfig, out: &mut Output<'_>, state: &mut RunState) -> Result<(), Error> {
    if let Some(a) = cfg.plan.auth.as_mut()
        && a.credentials.nonce.is_none()
    {
        a.credentials.nonce = nonce();
    }
    // Until the session runs, every recipient is "not attempted" (so a connect failure still
    // reports them in the summary).
    state.recipients = cfg
        .plan
        .rcpts
        .iter()
        .map(|r| crate::smtp::event::RecipientResult::new(r.as_str()))
        .collect();
    let (host, mut conn, mut child) = match &cfg.link.transport {
        Transport::Tcp => {
            let (host, tcp) = open(&cfg, out).await?;
            state.server = tcp.peer_addr().ok().map(|a| format!("{host} [{a}]"));
            (host, Conn::Plain(tcp), None)
        }
        Transport::Socket(path) => {
            let t0 = Instant::now();
            let shown = path.display().to_string();
            out.emit(Event::Connecting {
                host: shown.clone(),
                addr: shown.clone(),
            });
            let fut = tokio::net::UnixStream::connect(path);
            let r = if cfg.connect_timeout.is_zero() {
                fut.await
            } else {
                tokio::time::timeout(cfg.connect_timeout, fut)
                    .await
                    .unwrap_or_else(|_| {
                        Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "connect timed out",
                        ))
                    })
            };
            let sock = r.map_err(|e| Error::Connect {
                target: shown.clone(),
                reason: e.to_string(),
            })?;
            out.emit(Event::Connected {
                host: shown.clone(),
                peer: format!("unix:{shown}"),
                local: String::new(),
            });
            out.timing(Phase::Connect, t0.elapsed());
            state.server = Some(format!("unix:{shown}"));
            ("localhost".to_string(), Conn::Other(Box::new(sock)), None)
        }
        Transport::Pipe(command) => {
            let t0 = Instant::now();
            out.emit(Event::Connecting {
                host: format!("pipe to {command}"),
                addr: String::new(),
            });
            let mut child = tokio::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(command)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| Error::Connect {
                    target: format!("child process '{command}'"),
                    reason: e.to_string(),
                })?;
            let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
                return Err(Error::Connect {
                    target: format!("child process '{command}'"),
                    reason: "no stdin/stdout pipe".into(),
                });
            };
            let pid = child.id().unwrap_or_default();
            out.emit(Event::Connected {
                host: format!("child process '{command}'"),
                peer: format!("pid {pid}"),
                local: String::new(),
            });
            out.timing(Phase::Connect, t0.elapsed());
            state.server = Some(format!("pipe:{command}"));
            let joined = tokio::io::join(stdout, stdin);
            (
                "localhost".to_string(),
                Conn::Other(Box::new(joined)),
                Some(child),
            )
        }
    };
    let connected_at = Instant::now();
    // PROXY protocol: before anything else, TLS included (HAProxy PROXY protocol §2).
    if let Some(header) = &cfg.link.proxy {
        let v2 = header.starts_with(&crate::net::proxy::PROXY_V2_SIGNATURE);
        let text = if v2 {
            use base64::Engine;
            format!(
                "PROXY v2 header (base64): {}",
                base64::engine::general_purpose::STANDARD.encode(header)
            )
        } else {
            String::from_utf8_lossy(header)
                .trim_end_matches("\r\n")
                .to_string()
        };
        out.emit(Event::Sent {
            text,
            kind: SentKind::Proxy,
            bytes: header.len(),
            lines: 1,
            tls: false,
            expected: true,
            redacted: false,
            phase: Phase::Proxy,
        });
        if raw_wanted(&cfg) {
            out.emit(Event::RawSent {
                bytes: crate::smtp::event::Bytes(header.clone()),
            });
        }
        io_timeout(cfg.timeout, Phase::Proxy, conn.write_all(header)).await?;
        io_timeout(cfg.timeout, Phase::Proxy, conn.flush()).await?;
    }
    let mut session = Session::new(cfg.plan.clone());
    session.set_raw_events(raw_wanted(&cfg));
    if cfg.plan.tls_on_connect && !session.is_closed() {
        conn = match conn {
            Conn::Plain(tcp) => {
                let (s, version) = handshake(tcp, &host, &cfg, out).await?;
                state.tls = Some(version);
                Conn::Tls(Box::new(s))
            }
            Conn::Other(stream) => {
                let (s, version) = handshake(stream, &host, &cfg, out).await?;
                state.tls = Some(version);
                Conn::OtherTls(Box::new(s))
            }
            tls => tls,
        };
    }
    let result = pump(conn, &mut session, &host, &cfg, out, state, connected_at).await;
    let mut spawn_failure = None;
    if let Some(child) = child.as_mut() {
        // stdin is closed with the connection: give the child a moment to exit, then kill it.
        match tokio::time::timeout(Duration::from_secs(2), child.wait()).await {
            Ok(Ok(status)) if !status.success() => {
                out.emit(Event::Info {
                    message: format!("child process exited with {status}"),
                });
                spawn_failure = pipe_spawn_failure(status.code(), session.outcome());
            }
            Ok(_) => {}
            Err(_) => {
                let _ = child.kill().await;
            }
        }
    }
    state.recipients = session.recipients().to_vec();
    state.message_accepted = session.message_accepted();
    if let (Some(reason), Transport::Pipe(command)) = (spawn_failure, &cfg.link.transport) {
        // The shell could not run the command: that is a failure to connect (swaks exit 2).
        return Err(Error::Connect {
            target: format!("child process '{command}'"),
            reason,
        });
    }
    result?;
    match session.outcome() {
        Ok(()) => Ok(()),
        Err(e) => Err(Error::Session(e.clone())),
    }
}

/// A `--pipe` child that ended before any banner with the shell's "cannot execute" (126) or
/// "not found" (127) status never ran: the reason to report, else `None`.
fn pipe_spawn_failure(code: Option<i32>, outcome: Result<(), &SessionError>) -> Option<String> {
    let before_banner = matches!(
        outcome,
        Err(SessionError::Closed {
            phase: Phase::Banner
        })
    );
    match code {
        Some(126) if before_banner => {
            Some("/bin/sh could not execute the command (exit 126)".into())
        }
        Some(127) if before_banner => Some("/bin/sh did not find the command (exit 127)".into()),
        _ => None,
    }
}

fn raw_wanted(cfg: &SendConfig) -> bool {
    matches!(&cfg.format, crate::render::Format::Human(h) if h.show_raw)
}

/// Resolve the target and connect to the first address that answers, trying every MX in
/// preference order (RFC 5321 §5.1) and every address of each.
async fn open(cfg: &SendConfig, out: &mut Output<'_>) -> Result<(String, TcpStream), Error> {
    let t0 = Instant::now();
    // One resolver for the whole run (MX and address lookups), built only when a name must be
    // resolved.
    let needs_dns = match &cfg.target {
        Target::Mx { .. } => true,
        Target::Host { host, .. } => host.parse::<IpAddr>().is_err(),
    };
    let resolver = if needs_dns {
        Some(Resolver::new(&cfg.dns)?)
    } else {
        None
    };
    let (hosts, port): (Vec<String>, u16) = match &cfg.target {
        Target::Host { host, port } => (vec![host.clone()], *port),
        Target::Mx { domain, port } => {
            let r = resolver.as_ref().expect("resolver built for an MX target");
            (r.mail_hosts(domain, &mut |e| out.emit(e)).await?, *port)
        }
    };
    let mut last_err = String::from("no address to try");
    let mut dns_err = None;
    for host in &hosts {
        let addrs = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => {
                let r = resolver.as_ref().expect("resolver built for names");
                match r
                    .host_addresses(host, cfg.family, &mut |e| out.emit(e))
                    .await
                {
                    Ok(a) => a,
                    Err(e) => {
                        out.emit(Event::Warning {
                            message: e.to_string(),
                        });
                        last_err = e.to_string();
                        dns_err.get_or_insert(e);
                        continue;
                    }
                }
            }
        };
        for ip in addrs {
            let family_ok = match cfg.family {
                crate::net::dns::Family::Any => true,
                crate::net::dns::Family::V4 => ip.is_ipv4(),
                crate::net::dns::Family::V6 => ip.is_ipv6(),
            };
            if !family_ok {
                continue;
            }
            let addr = SocketAddr::new(ip, port);
            out.emit(Event::Connecting {
                host: host.clone(),
                addr: addr.to_string(),
            });
            let local = match &cfg.local {
                None => Ok(None),
                Some(b) => connect::local_for(b, addr).await.map(Some),
            };
            let attempt = match local {
                Ok(local) => connect::tcp(addr, local, cfg.connect_timeout).await,
                Err(e) => Err(e),
            };
            match attempt {
                Ok(s) => {
                    out.emit(Event::Connected {
                        host: host.clone(),
                        peer: s.peer_addr().map(|a| a.to_string()).unwrap_or_default(),
                        local: s.local_addr().map(|a| a.to_string()).unwrap_or_default(),
                    });
                    out.timing(Phase::Connect, t0.elapsed());
                    return Ok((host.clone(), s));
                }
                Err(reason) => {
                    out.emit(Event::ConnectFailed {
                        host: host.clone(),
                        addr: addr.to_string(),
                        reason: reason.clone(),
                    });
                    last_err = reason;
                }
            }
        }
    }
    // A single host whose name did not resolve is a DNS failure, not a connect failure.
    if let (Some(e), 1) = (dns_err, hosts.len()) {
        return Err(e.into());
    }
    let target = match &cfg.target {
        Target::Host { host, port } => format!("{host}:{port}"),
        Target::Mx { domain, .. } => format!("any MX of {domain}"),
    };
    Err(Error::Connect {
        target,
        reason: last_err,
    })
}

/// TLS handshake under the timeout, with the evidence rendered. Returns the stream and version.
async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    tcp: S,
    host: &str,
    cfg: &SendConfig,
    out: &mut Output<'_>,
) -> Result<(SslStream<S>, String), Error> {
    for note in cfg.tls.notes() {
        out.emit(Event::Info { message: note });
    }
    let t0 = Instant::now();
    let fut = tls::connect(tcp, host, &cfg.tls);
    let r = if cfg.timeout.is_zero() {
        fut.await
    } else {
        match tokio::time::timeout(cfg.timeout, fut).await {
            Ok(r) => r,
            Err(_) => {
                return Err(Error::Timeout {
                    phase: Phase::StartTls,
                    secs: cfg.timeout.as_secs_f64(),
                });
            }
        }
    };
    out.timing(Phase::StartTls, t0.elapsed());
    match r {
        Ok((s, info)) => {
            let v = info.version.clone();
            out.emit(Event::TlsStarted { info: info.clone() });
            save_peer_certs(&cfg.tls, &info, out);
            Ok((s, v))
        }
        Err(tls::TlsError::Verify { reason, info }) => {
            out.emit(Event::TlsStarted {
                info: (*info).clone(),
            });
            save_peer_certs(&cfg.tls, &info, out);
            Err(Error::Session(SessionError::Tls(format!(
                "certificate verification failed: {reason}"
            ))))
        }
        Err(e) => {
            let mut msg = e.to_string();
            // Implicit TLS against a plaintext port: the server's greeting is what OpenSSL
            // choked on. (After a STARTTLS 220 the same error means a broken server instead.)
            if cfg.plan.tls_on_connect && matches!(e, tls::TlsError::NotTls(_)) {
                msg.push_str(
                    " — this port speaks plain SMTP: use --tls (STARTTLS) instead of --tls-on-connect",
                );
            }
            out.emit(Event::TlsFailed {
                reason: msg.clone(),
            });
            Err(Error::Session(SessionError::Tls(msg)))
        }
    }
}

/// `--tls-get-peer-cert` / `--tls-get-peer-chain`: the PEM as the server sent it, to a file or
/// into the transcript. A file that cannot be written is a warning, not a failed run.
fn save_peer_certs(
    params: &tls::TlsParams,
    info: &crate::smtp::event::TlsInfo,
    out: &mut Output<'_>,
) {
    let leaf: Vec<&str> = info.chain.iter().take(1).map(|c| c.pem.as_str()).collect();
    let chain: Vec<&str> = info.chain.iter().map(|c| c.pem.as_str()).collect();
    for (what, dest, pems) in [
        ("certificate", &params.peer_cert_out, leaf),
        ("certificate chain", &params.peer_chain_out, chain),
    ] {
        let Some(dest) = dest else { continue };
        if pems.is_empty() {
            out.emit(Event::Warning {
                message: format!("the server sent no {what} to save"),
            });
            continue;
        }
        let text: String = pems
            .iter()
            .map(|p| {
                if p.ends_with('\n') {
                    p.to_string()
                } else {
                    format!("{p}\n")
                }
            })
            .collect();
        match dest {
            tls::PemOut::Transcript => out.emit(Event::Info {
                message: format!("peer {what}:\n{}", text.trim_end()),
            }),
            tls::PemOut::File(path) => match std::fs::write(path, &text) {
                Ok(()) => out.emit(Event::Info {
                    message: format!("peer {what} saved to {}", path.display()),
                }),
                Err(e) => out.emit(Event::Warning {
                    message: format!("cannot save the peer {what} to {}: {e}", path.display()),
                }),
            },
        }
    }
}

async fn pump(
    mut conn: Conn,
    session: &mut Session,
    host: &str,
    cfg: &SendConfig,
    out: &mut Output<'_>,
    state: &mut RunState,
    connected_at: Instant,
) -> Result<(), Error> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut waiting_since = connected_at;
    let raw = raw_wanted(cfg);
    let mut first_read = true;
    loop {
        while let Some(ev) = session.poll_event() {
            let reply_phase = match &ev {
                Event::Received { phase, .. } => Some(*phase),
                _ => None,
            };
            out.emit(ev);
            if let Some(phase) = reply_phase {
                out.timing(phase, waiting_since.elapsed());
                waiting_since = Instant::now();
            }
        }
        if let Some(bytes) = session.poll_transmit() {
            let phase = session.phase();
            io_timeout(cfg.timeout, phase, conn.write_all(&bytes)).await?;
            io_timeout(cfg.timeout, phase, conn.flush()).await?;
            waiting_since = Instant::now();
        }
        match session.poll_action() {
            Some(Action::StartTls) => {
                let upgraded = match conn {
                    Conn::Plain(tcp) => handshake(tcp, host, cfg, out)
                        .await
                        .map(|(s, v)| (Conn::Tls(Box::new(s)), v)),
                    Conn::Other(stream) => handshake(stream, host, cfg, out)
                        .await
                        .map(|(s, v)| (Conn::OtherTls(Box::new(s)), v)),
                    Conn::Tls(_) | Conn::OtherTls(_) => {
                        return Err(Error::Session(SessionError::Tls(
                            "STARTTLS asked for on a connection that is already TLS".into(),
                        )));
                    }
                };
                match upgraded {
                    Ok((c, version)) => {
                        state.tls = Some(version);
                        conn = c;
                        session.tls_established();
                    }
                    Err(Error::Session(SessionError::Tls(reason))) => {
                        session.tls_failed(reason);
                        drain(session, out);
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
                waiting_since = Instant::now();
                continue;
            }
            Some(Action::Close) => {
                drain(session, out);
                let _ = tokio::time::timeout(Duration::from_secs(1), conn.shutdown()).await;
                return Ok(());
            }
            None => {}
        }
        if session.is_closed() {
            drain(session, out);
            return Ok(());
        }
        let phase = session.phase();
        let read = conn.read(&mut buf);
        let n = if cfg.timeout.is_zero() {
            read.await
        } else {
            // The timeout is per reply (swaks): the whole reply must arrive within it, so a
            // server trickling one byte at a time cannot hold us forever.
            let deadline = tokio::time::Instant::from_std(waiting_since + cfg.timeout);
            match tokio::time::timeout_at(deadline, read).await {
                Ok(r) => r,
                Err(_) => {
                    drain(session, out);
                    // Waiting for the reply to the QUIT that followed an error: that error is
                    // what the run failed with, not the slow goodbye.
                    if session.outcome().is_err() {
                        out.emit(Event::Warning {
                            message: format!(
                                "no reply to QUIT within {}s: closing",
                                cfg.timeout.as_secs_f64()
                            ),
                        });
                        return Ok(());
                    }
                    if phase == Phase::Banner && !cfg.plan.tls_on_connect {
                        out.emit(Event::Warning {
                            message: "no banner: this port may speak implicit TLS (try --tls-on-connect), or the server is overloaded".into(),
                        });
                    }
                    return Err(Error::Timeout {
                        phase,
                        secs: cfg.timeout.as_secs_f64(),
                    });
                }
            }
        };
        match n {
            Ok(0) => session.feed_eof(),
            Ok(n) => {
                if first_read && !cfg.plan.tls_on_connect && phase == Phase::Banner {
                    first_read = false;
                    if let Some(e) = tls_instead_of_banner(&buf[..n], out) {
                        return Err(e);
                    }
                }
                if raw {
                    out.emit(Event::RawReceived {
                        bytes: crate::smtp::event::Bytes(buf[..n].to_vec()),
                    });
                }
                session.feed(&buf[..n]);
            }
            Err(e) => {
                if let Some(reason) = tls::alert_on_read(&e) {
                    let msg = format!("the server ended the TLS session: {reason}");
                    out.emit(Event::TlsFailed {
                        reason: msg.clone(),
                    });
                    return Err(Error::Session(SessionError::Tls(msg)));
                }
                out.emit(Event::Warning {
                    message: format!("read failed: {e}"),
                });
                session.feed_eof();
            }
        }
    }
}

/// Mode confusion: the first bytes where the greeting belongs are a TLS record (the port speaks
/// implicit TLS). No CRLF will ever come, so fail now (banner phase, exit 21) with the fix
/// instead of waiting for the reply timeout.
fn tls_instead_of_banner(bytes: &[u8], out: &mut Output<'_>) -> Option<Error> {
    let why = tls::inspect_first_bytes(bytes)?;
    out.emit(Event::Warning {
        message: format!("this port speaks implicit TLS: try --tls-on-connect ({why})"),
    });
    let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let reply = crate::smtp::reply::Reply {
        code: None,
        enhanced: None,
        lines: vec![format!("<TLS record: {}>", hex.join(" "))],
        raw: crate::smtp::event::Bytes(bytes.iter().take(64).copied().collect()),
        deviations: Vec::new(),
    };
    Some(Error::Session(SessionError::UnexpectedReply {
        phase: Phase::Banner,
        expected: "220",
        reply: Box::new(reply),
    }))
}

fn drain(session: &mut Session, out: &mut Output<'_>) {
    while let Some(ev) = session.poll_event() {
        out.emit(ev);
    }
}

async fn io_timeout<T>(
    timeout: Duration,
    phase: Phase,
    fut: impl std::future::Future<Output = std::io::Result<T>>,
) -> Result<T, Error> {
    let r = if timeout.is_zero() {
        fut.await
    } else {
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| Error::Timeout {
                phase,
                secs: timeout.as_secs_f64(),
            })?
    };
    r.map_err(|source| Error::Io { phase, source })
}
