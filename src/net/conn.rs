//! The one connection layer: carries out a [`ConnectPlan`] for every mode that talks to a
//! server (the send's driver, the REPL, replay, `check`).
//!
//! - [`open`]: resolve and connect (TCP with MX failover in preference order and every address
//!   of each host, RFC 5321 §5.1, skipping addresses outside `-4`/`-6`; a UNIX socket; or a
//!   child process). A PROXY header is the client session's preamble: it goes out as the
//!   session's first write, before any TLS.
//! - [`Connection::start_tls`]: the TLS handshake under the timeout, for implicit TLS right
//!   after [`open`] and for the STARTTLS upgrade alike; peer certificates saved as asked.
//! - [`connect`]: [`open`] plus the implicit TLS handshake when the plan asks for it.
//! - [`Connection::send`] / [`with_timeout`]: writes and other I/O under the plan's timeout.
//!
//! Everything it does is reported as [`Event`]s through the `emit` callback (DNS answers,
//! attempts, failures, `Timing` for connect and handshake, TLS evidence); failures come back as
//! the one [`Error`] type, whose exit code `error.rs` decides. No SMTP is spoken here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio_openssl::SslStream;

use crate::error::Error;
use crate::net::dane;
use crate::net::dns::Resolver;
use crate::net::route::{ConnectPlan, Target, Transport};
use crate::net::tls;
use crate::smtp::client::SessionError;
use crate::smtp::codes::Hint;
use crate::smtp::event::{Event, Phase, Timed, TlsInfo};

/// Any byte stream a session can run over (a UNIX socket, a child's stdin/stdout).
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A connected transport: plain TCP, TLS over TCP, or either over another stream.
pub(crate) enum Conn {
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

/// An open connection and what the caller needs to know about it.
pub(crate) struct Connection {
    /// The byte stream (read it, write it through [`Connection::send`]).
    pub(crate) stream: Conn,
    /// The host name TLS sends as SNI and verifies: the `--server` name, or the MX host that
    /// answered; `localhost` for a socket or a child process.
    pub(crate) host: String,
    /// The peer as the summary names it: `host [addr]`, `unix:PATH` or `pipe:COMMAND`.
    pub(crate) server: String,
    /// The TLS version once a handshake succeeded.
    pub(crate) tls: Option<String>,
    /// The child process of a `--pipe` transport (the caller waits for it or kills it).
    pub(crate) child: Option<tokio::process::Child>,
    /// When the transport was up (the banner wait starts here, before the PROXY header).
    pub(crate) connected_at: Instant,
    /// `--tls-verify dane` found a secure TLSA RRset for this host: TLS is mandatory and the
    /// records authenticate the server (RFC 7672 §2.2).
    pub(crate) dane: Option<dane::DaneUse>,
}

/// [`open`], then the implicit TLS handshake when the plan asks for it (`--tls-on-connect`).
pub(crate) async fn connect(
    plan: &ConnectPlan,
    emit: &mut dyn FnMut(Event),
) -> Result<Connection, Error> {
    let conn = open(plan, emit).await?;
    if plan.link.tls_on_connect {
        conn.start_tls(plan, emit).await
    } else {
        Ok(conn)
    }
}

/// Resolve and connect as the plan says. Every step is reported through `emit`.
pub(crate) async fn open(
    plan: &ConnectPlan,
    emit: &mut dyn FnMut(Event),
) -> Result<Connection, Error> {
    let conn = match &plan.link.transport {
        Transport::Tcp => {
            let (host, tcp, dane) = open_tcp(plan, emit).await?;
            let server = match tcp.peer_addr() {
                Ok(a) => format!("{host} [{a}]"),
                Err(_) => host.clone(),
            };
            Connection {
                stream: Conn::Plain(tcp),
                host,
                server,
                tls: None,
                child: None,
                connected_at: Instant::now(),
                dane,
            }
        }
        Transport::Socket(path) => open_socket(path, plan.link.connect_timeout, emit).await?,
        Transport::Pipe(command) => open_pipe(command, emit)?,
    };
    Ok(conn)
}

impl Connection {
    /// Write all of `bytes` and flush, under `timeout` (zero = none); a failure is reported
    /// in `phase`.
    pub(crate) async fn send(
        &mut self,
        bytes: &[u8],
        phase: Phase,
        timeout: Duration,
    ) -> Result<(), Error> {
        with_timeout(timeout, phase, self.stream.write_all(bytes)).await?;
        with_timeout(timeout, phase, self.stream.flush()).await
    }

    /// Close the write side, waiting at most a second for the peer.
    pub(crate) async fn shutdown(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.stream.shutdown()).await;
    }

    /// The TLS handshake (implicit TLS, or after the server's 220 to STARTTLS) under the plan's
    /// timeout, with the evidence reported (`TlsStarted`, or `TlsFailed` with the reason) and
    /// the peer certificates saved if asked. A certificate that fails verification is reported
    /// with `TlsStarted` (the evidence) and comes back as the error.
    pub(crate) async fn start_tls(
        mut self,
        plan: &ConnectPlan,
        emit: &mut dyn FnMut(Event),
    ) -> Result<Connection, Error> {
        let host = self.host.clone();
        // The host's TLSA records (`--tls-verify dane`) replace the CA store, as `--tlsa` does.
        let dane_params;
        let params = match &self.dane {
            Some(d) if !d.tlsa.is_empty() => {
                dane_params = tls::TlsParams {
                    tlsa: d.tlsa.clone(),
                    dane_names: d.names.clone(),
                    ..plan.link.tls.clone()
                };
                &dane_params
            }
            _ => &plan.link.tls,
        };
        let (stream, version) = match self.stream {
            Conn::Plain(tcp) => handshake(tcp, &host, plan, params, emit)
                .await
                .map(|(s, v)| (Conn::Tls(Box::new(s)), v))?,
            Conn::Other(stream) => handshake(stream, &host, plan, params, emit)
                .await
                .map(|(s, v)| (Conn::OtherTls(Box::new(s)), v))?,
            Conn::Tls(_) | Conn::OtherTls(_) => {
                return Err(Error::Session(SessionError::Tls(
                    "STARTTLS asked for on a connection that is already TLS".into(),
                )));
            }
        };
        self.stream = stream;
        self.tls = Some(version);
        Ok(self)
    }
}

/// Run `fut` (an I/O step in `phase`) under `timeout`, zero = no limit.
pub(crate) async fn with_timeout<T>(
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
                implicit_tls: false,
            })?
    };
    r.map_err(|source| Error::Io { phase, source })
}

/// The local address to bind for a connection to `peer`: the bind host's address of the same
/// IP family (a name is resolved with the system resolver, as swaks does), or the unspecified
/// address of that family when only a port was given.
pub(crate) async fn local_for(
    bind: &crate::net::route::LocalBind,
    peer: SocketAddr,
) -> Result<SocketAddr, String> {
    let Some(host) = &bind.host else {
        let any = if peer.is_ipv4() {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        };
        return Ok(SocketAddr::new(any, bind.port));
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, bind.port));
    }
    let found = tokio::net::lookup_host((host.as_str(), bind.port))
        .await
        .map_err(|e| format!("cannot resolve the local interface {host}: {e}"))?;
    let mut any = false;
    for a in found {
        any = true;
        if a.is_ipv4() == peer.is_ipv4() {
            return Ok(a);
        }
    }
    Err(if any {
        format!(
            "the local interface {host} has no {} address",
            if peer.is_ipv4() { "IPv4" } else { "IPv6" }
        )
    } else {
        format!("the local interface {host} has no address")
    })
}

/// Connect to `addr`, binding to `local` first if given, giving up after `timeout` (zero = no
/// limit). The error is a one-line reason.
pub(crate) async fn tcp(
    addr: SocketAddr,
    local: Option<SocketAddr>,
    timeout: Duration,
) -> Result<TcpStream, String> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| e.to_string())?;
    if let Some(local) = local {
        if local.is_ipv4() != addr.is_ipv4() {
            return Err(format!(
                "local address {local} is not of the same family as {addr}"
            ));
        }
        socket
            .bind(local)
            .map_err(|e| format!("cannot bind to {local}: {e}"))?;
    }
    let fut = socket.connect(addr);
    let stream = if timeout.is_zero() {
        fut.await
    } else {
        match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => return Err(format!("timed out after {}s", timeout.as_secs_f64())),
        }
    }
    .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

fn timing(emit: &mut dyn FnMut(Event), what: Timed, phase: Phase, d: Duration) {
    emit(Event::Timing {
        what,
        phase,
        ms: d.as_secs_f64() * 1000.0,
    });
}

/// Resolve the target and connect to the first address that answers, trying every MX in
/// preference order (RFC 5321 §5.1) and every address of each. Returns the host that answered
/// and, with `--tls-verify dane`, what its TLSA records decided.
async fn open_tcp(
    plan: &ConnectPlan,
    emit: &mut dyn FnMut(Event),
) -> Result<(String, TcpStream, Option<dane::DaneUse>), Error> {
    let t0 = Instant::now();
    let link = &plan.link;
    // One resolver for the whole run (MX and address lookups), built only when a name must be
    // resolved.
    let needs_dns = match &plan.target {
        Target::Mx { .. } => true,
        Target::Host { host, .. } => host.parse::<IpAddr>().is_err(),
    };
    let resolver = if needs_dns {
        Some(Resolver::new(&link.dns)?)
    } else {
        None
    };
    // The DNSSEC proof of the last answer of each kind, read off the events (`--tls-verify dane`).
    let mut last_proof: Option<String> = None;
    fn noting(last: &mut Option<String>, e: Event, emit: &mut dyn FnMut(Event)) {
        if let Event::DnsAnswer { proof, .. } = &e {
            last.clone_from(proof);
        }
        emit(e)
    }
    // Time spent asking DNS, reported apart from the connect attempts.
    let mut dns_time = Duration::ZERO;
    let mut mx_proof = None;
    let (hosts, port): (Vec<String>, u16) = match &plan.target {
        Target::Host { host, port } => (vec![host.clone()], *port),
        Target::Mx { domain, port } => {
            let r = resolver.as_ref().expect("resolver built for an MX target");
            let t = Instant::now();
            let hosts = r
                .mail_hosts(domain, &mut |e| noting(&mut last_proof, e, &mut *emit))
                .await;
            dns_time += t.elapsed();
            // An implicit MX has no MX RRset: the domain's own addresses decide.
            mx_proof = last_proof.take();
            (hosts?, *port)
        }
    };
    let next_hop = match &plan.target {
        Target::Mx { domain, .. } => Some(domain.as_str()),
        Target::Host { .. } => None,
    };
    let mut last_err = String::from("no address to try");
    let mut dns_err = None;
    // A host skipped because its TLSA lookup failed, and whether any connection was tried.
    let mut dane_err: Option<crate::net::dns::DnsError> = None;
    let mut attempted = false;
    for host in &hosts {
        let mut addr_proof = None;
        let addrs = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => {
                let r = resolver.as_ref().expect("resolver built for names");
                let t = Instant::now();
                last_proof = None;
                let found = r
                    .host_addresses(host, link.family, &mut |e| {
                        noting(&mut last_proof, e, &mut *emit)
                    })
                    .await;
                addr_proof = last_proof.take();
                dns_time += t.elapsed();
                match found {
                    Ok(a) => a,
                    Err(e) => {
                        emit(Event::warning(e.to_string()));
                        last_err = e.to_string();
                        dns_err.get_or_insert(e);
                        continue;
                    }
                }
            }
        };
        let dane_use = if link.dane {
            let t = Instant::now();
            let decided = dane_policy(
                resolver.as_ref(),
                host,
                port,
                dane::HostProofs {
                    mx: mx_proof.as_deref(),
                    addresses: addr_proof.as_deref(),
                },
                next_hop,
                emit,
            )
            .await;
            dns_time += t.elapsed();
            match decided {
                Ok(d) => d,
                Err(e) => {
                    emit(Event::warning(format!(
                        "{e}: not connecting to {host}, a failed TLSA lookup forbids delivery to it (RFC 7672 §2.2)"
                    )));
                    last_err = e.to_string();
                    dane_err.get_or_insert(e);
                    continue;
                }
            }
        } else {
            None
        };
        for ip in addrs.into_iter().filter(|ip| link.family.admits(*ip)) {
            attempted = true;
            let addr = SocketAddr::new(ip, port);
            emit(Event::Connecting {
                host: host.clone(),
                addr: addr.to_string(),
            });
            let local = match &link.local {
                None => Ok(None),
                Some(b) => local_for(b, addr).await.map(Some),
            };
            let attempt = match local {
                Ok(local) => tcp(addr, local, link.connect_timeout).await,
                Err(e) => Err(e),
            };
            match attempt {
                Ok(s) => {
                    emit(Event::Connected {
                        host: host.clone(),
                        peer: s.peer_addr().map(|a| a.to_string()).unwrap_or_default(),
                        local: s.local_addr().map(|a| a.to_string()).unwrap_or_default(),
                    });
                    if resolver.is_some() {
                        timing(emit, Timed::Dns, Phase::Dns, dns_time);
                    }
                    timing(
                        emit,
                        Timed::Connect,
                        Phase::Connect,
                        t0.elapsed().saturating_sub(dns_time),
                    );
                    return Ok((host.clone(), s, dane_use));
                }
                Err(reason) => {
                    emit(Event::ConnectFailed {
                        host: host.clone(),
                        addr: addr.to_string(),
                        reason: reason.clone(),
                    });
                    last_err = reason;
                }
            }
        }
    }
    // Every host was refused by its failed TLSA lookup: that DNS failure is the reason.
    if let (Some(e), false) = (dane_err, attempted) {
        return Err(e.into());
    }
    // A single host whose name did not resolve is a DNS failure, not a connect failure.
    if let (Some(e), 1) = (dns_err, hosts.len()) {
        return Err(e.into());
    }
    Err(Error::Connect {
        target: plan.describe(),
        reason: last_err,
    })
}

/// `--tls-verify dane` for one host: look up its TLSA records (unless the MX or address
/// answers already rule DANE out), report the lookup and the decision as events, and return
/// the DANE use (`None`: the CA store as usual). A failed lookup (bogus, SERVFAIL) is an error.
async fn dane_policy(
    resolver: Option<&Resolver>,
    host: &str,
    port: u16,
    proofs: dane::HostProofs<'_>,
    next_hop: Option<&str>,
    emit: &mut dyn FnMut(Event),
) -> Result<Option<dane::DaneUse>, crate::net::dns::DnsError> {
    let owner = format!("_{port}._tcp.{}", host.trim_end_matches('.'));
    let ruled_out =
        proofs.mx.is_some_and(|p| p != "secure") || proofs.addresses.is_none_or(|p| p != "secure");
    let (decision, reason) = match resolver {
        Some(r) if !ruled_out => {
            emit(Event::DnsQuery {
                name: owner.clone(),
                rtype: "TLSA".into(),
            });
            let answer = r.tlsa(host, port).await?;
            let proof = answer.proof.map(|p| p.as_str().to_string());
            emit(Event::DnsAnswer {
                name: answer.owner.clone(),
                rtype: "TLSA".into(),
                records: answer.records.iter().map(|t| t.to_string()).collect(),
                proof: proof.clone(),
            });
            dane::decide(
                host,
                proofs,
                &answer.owner,
                &answer.records,
                proof.as_deref(),
                next_hop,
                &answer.base,
            )
        }
        _ => dane::decide(host, proofs, &owner, &[], None, next_hop, host),
    };
    emit(Event::TlsPolicy {
        host: host.to_string(),
        policy: if decision.as_ref().is_some_and(|d| !d.tlsa.is_empty()) {
            "dane"
        } else {
            "pkix"
        }
        .into(),
        tls_required: decision.is_some(),
        reason,
    });
    Ok(decision)
}

async fn open_socket(
    path: &std::path::Path,
    timeout: Duration,
    emit: &mut dyn FnMut(Event),
) -> Result<Connection, Error> {
    let t0 = Instant::now();
    let shown = path.display().to_string();
    emit(Event::Connecting {
        host: shown.clone(),
        addr: shown.clone(),
    });
    let fut = tokio::net::UnixStream::connect(path);
    let r = if timeout.is_zero() {
        fut.await
    } else {
        tokio::time::timeout(timeout, fut)
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
    emit(Event::Connected {
        host: shown.clone(),
        peer: format!("unix:{shown}"),
        local: String::new(),
    });
    timing(emit, Timed::Connect, Phase::Connect, t0.elapsed());
    Ok(Connection {
        stream: Conn::Other(Box::new(sock)),
        host: "localhost".into(),
        server: format!("unix:{shown}"),
        tls: None,
        child: None,
        connected_at: Instant::now(),
        dane: None,
    })
}

fn open_pipe(command: &str, emit: &mut dyn FnMut(Event)) -> Result<Connection, Error> {
    let t0 = Instant::now();
    emit(Event::Connecting {
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
    emit(Event::Connected {
        host: format!("child process '{command}'"),
        peer: format!("pid {pid}"),
        local: String::new(),
    });
    timing(emit, Timed::Connect, Phase::Connect, t0.elapsed());
    Ok(Connection {
        stream: Conn::Other(Box::new(tokio::io::join(stdout, stdin))),
        host: "localhost".into(),
        server: format!("pipe:{command}"),
        tls: None,
        child: Some(child),
        connected_at: Instant::now(),
        dane: None,
    })
}

/// TLS handshake under the timeout, with the evidence reported. Returns the stream and version.
async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    host: &str,
    plan: &ConnectPlan,
    params: &tls::TlsParams,
    emit: &mut dyn FnMut(Event),
) -> Result<(SslStream<S>, String), Error> {
    let timeout = plan.link.timeout;
    for note in params.notes() {
        emit(Event::info(note));
    }
    let t0 = Instant::now();
    let fut = tls::connect(stream, host, params);
    let r = if timeout.is_zero() {
        fut.await
    } else {
        match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => {
                // With implicit TLS no STARTTLS was sent: the message names the handshake.
                return Err(Error::Timeout {
                    phase: Phase::StartTls,
                    secs: timeout.as_secs_f64(),
                    implicit_tls: plan.link.tls_on_connect,
                });
            }
        }
    };
    timing(emit, Timed::TlsHandshake, Phase::StartTls, t0.elapsed());
    match r {
        Ok((s, info)) => {
            let v = info.version.clone();
            emit(Event::TlsStarted { info: info.clone() });
            save_peer_certs(params, &info, emit);
            Ok((s, v))
        }
        Err(tls::TlsError::Verify { reason, info }) => {
            emit(Event::TlsStarted {
                info: (*info).clone(),
            });
            save_peer_certs(params, &info, emit);
            Err(Error::Session(SessionError::Tls(
                reason.after("certificate verification failed: "),
            )))
        }
        Err(tls::TlsError::Dane { reason, info }) => {
            emit(Event::TlsStarted {
                info: (*info).clone(),
            });
            save_peer_certs(params, &info, emit);
            Err(Error::Session(SessionError::Tls(Hint::plain(format!(
                "DANE verification failed: {reason}"
            )))))
        }
        Err(e) => {
            let (tls::TlsError::NotTls(why) | tls::TlsError::Handshake(why)) = &e else {
                let msg = Hint::plain(e.to_string());
                emit(Event::TlsFailed {
                    reason: msg.clone(),
                });
                return Err(Error::Session(SessionError::Tls(msg)));
            };
            let mut msg = why.clone().after("TLS handshake failed: ");
            // Implicit TLS against a plaintext port: the server's greeting is what OpenSSL
            // choked on. (After a STARTTLS 220 the same error means a broken server instead.)
            if plan.link.tls_on_connect && matches!(e, tls::TlsError::NotTls(_)) {
                msg.push(Hint::new(
                    " — this port speaks plain SMTP: ⟨starttls-instead⟩",
                ));
            }
            emit(Event::TlsFailed {
                reason: msg.clone(),
            });
            Err(Error::Session(SessionError::Tls(msg)))
        }
    }
}

/// `--tls-get-peer-cert` / `--tls-get-peer-chain`: the PEM as the server sent it, to a file or
/// into the transcript. A file that cannot be written is a warning, not a failed run.
fn save_peer_certs(params: &tls::TlsParams, info: &TlsInfo, emit: &mut dyn FnMut(Event)) {
    let leaf: Vec<&str> = info.chain.iter().take(1).map(|c| c.pem.as_str()).collect();
    let chain: Vec<&str> = info.chain.iter().map(|c| c.pem.as_str()).collect();
    for (what, dest, pems) in [
        ("certificate", &params.peer_cert_out, leaf),
        ("certificate chain", &params.peer_chain_out, chain),
    ] {
        let Some(dest) = dest else { continue };
        if pems.is_empty() {
            emit(Event::warning(format!("the server sent no {what} to save")));
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
            tls::PemOut::Transcript => {
                emit(Event::info(format!("peer {what}:\n{}", text.trim_end())))
            }
            tls::PemOut::File(path) => match std::fs::write(path, &text) {
                Ok(()) => emit(Event::info(format!(
                    "peer {what} saved to {}",
                    path.display()
                ))),
                Err(e) => emit(Event::warning(format!(
                    "cannot save the peer {what} to {}: {e}",
                    path.display()
                ))),
            },
        }
    }
}

#[cfg(test)]
mod local_bind_tests {
    use super::*;
    use crate::net::route::LocalBind;

    #[tokio::test]
    async fn local_bind_by_name_port_or_address() {
        let peer: SocketAddr = "127.0.0.1:25".parse().unwrap();
        let b = |host: Option<&str>, port| LocalBind {
            host: host.map(str::to_string),
            port,
        };
        assert_eq!(
            local_for(&b(None, 2500), peer).await,
            Ok("0.0.0.0:2500".parse().unwrap())
        );
        assert_eq!(
            local_for(&b(Some("127.0.0.2"), 0), peer).await,
            Ok("127.0.0.2:0".parse().unwrap())
        );
        // `localhost` comes from /etc/hosts: a name, not only an IP.
        let a = local_for(&b(Some("localhost"), 0), peer).await.unwrap();
        assert!(a.ip().is_loopback() && a.is_ipv4(), "{a}");
        let v6: SocketAddr = "[::1]:25".parse().unwrap();
        assert!(local_for(&b(Some("127.0.0.1"), 0), v6).await.is_ok());
        assert!(
            local_for(&b(Some("no-such-host.invalid"), 0), peer)
                .await
                .is_err()
        );
    }
}
