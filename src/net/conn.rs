//! The one connection layer: carries out a [`ConnectPlan`] for every mode that talks to a
//! server (the send's driver, the REPL, replay, `check`).
//!
//! - [`open`]: resolve and connect (TCP with MX failover in preference order and every address
//!   of each host, RFC 5321 §5.1, skipping addresses outside `-4`/`-6` and those already tried;
//!   a UNIX socket; or a child process). [`Dialer`] is the same, able to go on to the next
//!   candidate after a connection (the send, when an MX never greets the session).
//!   A PROXY header is the client session's preamble: it goes out as the session's first
//!   write, before any TLS.
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
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};

use crate::error::Error;
use crate::net::dane;
use crate::net::dns::Resolver;
use crate::net::route::{ConnectPlan, Target, Transport, ip_literal};
use crate::net::tls;
use crate::smtp::client::SessionError;
use crate::smtp::codes::Hint;
use crate::smtp::event::{ConnectCause, Event, FailoverFailure, Phase, Timed, TlsInfo};

/// Any byte stream a session can run over (a UNIX socket, a child's stdin/stdout).
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A connected transport: plain TCP, TLS over TCP, or either over another stream.
pub(crate) enum Conn {
    /// Plain text.
    Plain(TcpStream),
    /// After STARTTLS or with implicit TLS.
    Tls(Box<tls::TlsStream<TcpStream>>),
    /// Plain text over a `--socket` or `--pipe` stream.
    Other(Box<dyn Stream>),
    /// TLS over a `--socket` or `--pipe` stream.
    OtherTls(Box<tls::TlsStream<Box<dyn Stream>>>),
}

impl Conn {
    /// What the server's TLS renegotiations did (`None` in plain text).
    pub(crate) fn renegotiation(&self) -> Option<&tls::Renegotiation> {
        match self {
            Conn::Tls(s) => Some(s.get_ref().renegotiation()),
            Conn::OtherTls(s) => Some(s.get_ref().renegotiation()),
            Conn::Plain(_) | Conn::Other(_) => None,
        }
    }

    /// The server's TLS renegotiations since the last call, for the transcript (after a read
    /// returned): a new certificate's event with the cipher and version now in use, as the
    /// first handshake's `TlsStarted` has them. Empty in plain text.
    pub(crate) fn renegotiation_news(&self) -> Vec<Event> {
        match self {
            Conn::Tls(s) => s.get_ref().renegotiation().take_news_of(s.ssl()),
            Conn::OtherTls(s) => s.get_ref().renegotiation().take_news_of(s.ssl()),
            Conn::Plain(_) | Conn::Other(_) => Vec::new(),
        }
    }
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
    /// The child process of a `--pipe` transport, leader of its own process group (the caller
    /// waits for it or kills the group).
    pub(crate) child: Option<tokio::process::Child>,
    /// When the transport was up (the banner wait starts here, before the PROXY header).
    pub(crate) connected_at: Instant,
    /// `--tls-verify dane` found a secure TLSA RRset for this host: TLS is mandatory and the
    /// records authenticate the server (RFC 7672 §2.2).
    pub(crate) dane: Option<dane::DaneUse>,
}

/// How long to wait for a TLS alert after a write failed ([`Connection::alert_after_write_error`])
/// or for the peer while closing a session: a second at most, and never past the write's own
/// `timeout` (`--timeout`, zero = none), of which `spent` is gone already: a run given three
/// seconds does not take four.
pub(crate) fn alert_wait(timeout: Duration, spent: Duration) -> Duration {
    let most = Duration::from_secs(1);
    if timeout.is_zero() {
        most
    } else {
        most.min(timeout.saturating_sub(spent))
    }
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

/// Resolve and connect as the plan says (the first candidate that answers). Every step is
/// reported through `emit`.
pub(crate) async fn open(
    plan: &ConnectPlan,
    emit: &mut dyn FnMut(Event),
) -> Result<Connection, Error> {
    Dialer::new(plan).next(emit).await
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

    /// Write one step's bytes, given in parts (a long BDAT chunk is a slice of the session's
    /// message, not a copy), within one timeout for them all, then flush.
    pub(crate) async fn send_parts(
        &mut self,
        transmit: &crate::smtp::Transmit,
        phase: Phase,
        timeout: Duration,
    ) -> Result<(), Error> {
        let stream = &mut self.stream;
        let write = async move {
            for part in transmit.parts() {
                stream.write_all(part).await?;
            }
            stream.flush().await
        };
        with_timeout(timeout, phase, write).await
    }

    /// After a write over TLS failed: the alert the server sent before it cut the connection,
    /// if one is waiting unread. A TLS 1.3 server refuses a missing or unacceptable client
    /// certificate only after the client's Finished (RFC 8446 §4.4.2.4), so its alert and
    /// its reset can both arrive before the client's first write, which then fails without
    /// a word of why; the alert is still in the receive queue. `None` in plain text, or when
    /// no alert comes within `wait` ([`alert_wait`]; one already there is read even at zero).
    pub(crate) async fn alert_after_write_error(&mut self, wait: Duration) -> Option<Hint> {
        self.tls.as_ref()?;
        let mut b = [0u8; 512];
        let read = tokio::io::AsyncReadExt::read(&mut self.stream, &mut b);
        match tokio::time::timeout(wait, read).await {
            Ok(Err(e)) => tls::alert_on_read(&e),
            _ => None,
        }
    }

    /// After a write failed in plain text: what the server sent before it cut the connection,
    /// still unread (Linux keeps it readable after the reset). A server that refuses a BDAT
    /// at once and closes without reading its chunk (RFC 3030 §2 has it read the chunk first)
    /// leaves its refusal there: the one word on why the write failed. At most 64 KiB, read
    /// within `wait` ([`alert_wait`]) in all; empty over TLS ([`Self::alert_after_write_error`]
    /// reads that) or when nothing came.
    pub(crate) async fn unread_after_write_error(&mut self, wait: Duration) -> Vec<u8> {
        const MOST: usize = 64 * 1024;
        let mut got = Vec::new();
        if self.tls.is_some() {
            return got;
        }
        let stream = &mut self.stream;
        let read = async {
            let mut b = [0u8; 4096];
            while got.len() < MOST {
                match tokio::io::AsyncReadExt::read(stream, &mut b).await {
                    Ok(n) if n > 0 => got.extend_from_slice(&b[..n.min(MOST - got.len())]),
                    _ => break,
                }
            }
        };
        let _ = tokio::time::timeout(wait, read).await;
        got
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
        self,
        plan: &ConnectPlan,
        emit: &mut dyn FnMut(Event),
    ) -> Result<Connection, Error> {
        self.upgrade(plan, emit).await.map_err(|f| f.error)
    }

    /// [`Connection::start_tls`], the failure saying whether it was the server's (see
    /// [`TlsFailure`]).
    pub(crate) async fn upgrade(
        mut self,
        plan: &ConnectPlan,
        emit: &mut dyn FnMut(Event),
    ) -> Result<Connection, TlsFailure> {
        let host = self.host.clone();
        // The host's TLSA records (`--tls-verify dane`) replace the CA store, as `--tlsa` does;
        // a secure RRset with none usable leaves TLS unauthenticated (RFC 7672 §3.1.3).
        // A socket or a child process has no host name: `localhost` stands in for it.
        let stand_in = matches!(
            plan.link.transport,
            Transport::Socket(_) | Transport::Pipe(_)
        );
        let own_params;
        let params = match &self.dane {
            Some(d) => {
                // The TLSA base domain is the name verified and sent as SNI (RFC 7672 §8.1,
                // §3.2.2); `check` connects with the same settings.
                own_params = d.tls_params(&plan.link.tls, stand_in);
                &own_params
            }
            _ if stand_in => {
                own_params = tls::TlsParams {
                    stand_in_host: true,
                    ..plan.link.tls.clone()
                };
                &own_params
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
                return Err(TlsFailure::ours(Error::Session(SessionError::Tls(
                    "STARTTLS asked for on a connection that is already TLS".into(),
                ))));
            }
        };
        self.stream = stream;
        self.tls = Some(version);
        Ok(self)
    }
}

/// A TLS handshake that failed: the error, and whose failure it was. The server's (`by_server`):
/// it was reached but gave no usable TLS session: it spoke no TLS, broke the handshake off
/// (an alert, a reset, a close), did not finish it within the timeout, or its certificate failed
/// the verification asked for (PKIX or DANE). Ours: OpenSSL could not be set up with our own
/// settings, which no other server would change.
#[derive(Debug)]
pub(crate) struct TlsFailure {
    /// The error, as the run reports it.
    pub(crate) error: Error,
    /// Whether the server caused it (see above).
    pub(crate) by_server: bool,
}

impl TlsFailure {
    fn server(error: Error) -> TlsFailure {
        TlsFailure {
            error,
            by_server: true,
        }
    }
    fn ours(error: Error) -> TlsFailure {
        TlsFailure {
            error,
            by_server: false,
        }
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
                handshake: false,
            })?
    };
    r.map_err(|source| Error::Io { phase, source })
}

/// `--local-interface` as given and, when it names a host, that name's addresses: resolved
/// once per send (with the system resolver, as swaks does) and shared by the choice of the
/// addresses to try and by every connection attempt.
pub(crate) struct LocalAddrs {
    /// The bind port (0: the system's choice).
    port: u16,
    /// What the bind host is, a name with its lookup already done.
    host: LocalHost,
    /// Where `--local-interface` was set ([`crate::net::route::LocalBind::note`]).
    note: String,
}

/// The host part of `--local-interface`, in the form a bind needs: a name is only ever held
/// with the answer to its lookup, so there is no "not resolved yet" to handle.
enum LocalHost {
    /// Only a port was given: the unspecified address of the peer's family.
    Any,
    /// An address literal, with its IPv6 zone when one was written (`fe80::1%eth0`).
    Literal {
        /// The address.
        ip: IpAddr,
        /// The zone (an interface name or index), as written.
        zone: Option<String>,
    },
    /// A host name and its addresses (with the bind port), or why it did not resolve.
    Named {
        /// The name as given.
        host: String,
        /// The lookup's answer.
        found: Result<Vec<SocketAddr>, String>,
    },
}

/// A server as the summary names it, its host then its address in brackets: `mx.example.net
/// [192.0.2.1:25]`; an IPv6 address and port is bracketed already (`::1 [::1]:25`, not
/// `::1 [[::1]:25]`).
pub(crate) fn host_at(host: &str, addr: &str) -> String {
    if addr.starts_with('[') {
        format!("{host} {addr}")
    } else {
        format!("{host} [{addr}]")
    }
}

#[cfg(test)]
thread_local! {
    /// How many times a local host name was resolved on this thread (the tests' runtime;
    /// `localhost` too, which is answered without a lookup).
    static LOCAL_LOOKUPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl LocalAddrs {
    /// Resolve `bind`'s host when it is a name (an address literal needs no lookup).
    pub(crate) async fn resolve(bind: &crate::net::route::LocalBind) -> LocalAddrs {
        let host = match bind.host.as_deref() {
            None => LocalHost::Any,
            Some(host) => match ip_literal(host) {
                Some((ip, zone)) => LocalHost::Literal {
                    ip,
                    zone: zone.map(str::to_string),
                },
                // `localhost` is both loopback addresses (RFC 6761 §6.3), as the server
                // side's `--server localhost` takes it: a hosts file that lists only
                // 127.0.0.1 left `--local-interface localhost` without an IPv6 address, and
                // a connection to ::1 from it refused.
                None if crate::net::dns::is_localhost(host) => {
                    #[cfg(test)]
                    LOCAL_LOOKUPS.with(|n| n.set(n.get() + 1));
                    LocalHost::Named {
                        host: host.to_string(),
                        found: Ok(vec![
                            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), bind.port),
                            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), bind.port),
                        ]),
                    }
                }
                None => {
                    #[cfg(test)]
                    LOCAL_LOOKUPS.with(|n| n.set(n.get() + 1));
                    LocalHost::Named {
                        host: host.to_string(),
                        found: tokio::net::lookup_host((host, bind.port))
                            .await
                            .map(Iterator::collect)
                            .map_err(|e| format!("cannot resolve the local interface {host}: {e}")),
                    }
                }
            },
        };
        LocalAddrs {
            port: bind.port,
            host,
            note: bind.note.clone(),
        }
    }

    /// The IP families (IPv4, IPv6) there is a local address of; `None` when no local address
    /// is named (a port alone binds the unspecified address of either family) or the name did
    /// not resolve (each attempt then says why it cannot bind).
    fn families(&self) -> Option<(bool, bool)> {
        match &self.host {
            LocalHost::Any | LocalHost::Named { found: Err(_), .. } => None,
            LocalHost::Literal { ip, .. } => Some((ip.is_ipv4(), ip.is_ipv6())),
            LocalHost::Named {
                found: Ok(found), ..
            } => {
                let v4 = found.iter().any(SocketAddr::is_ipv4);
                let v6 = found.iter().any(SocketAddr::is_ipv6);
                (v4 || v6).then_some((v4, v6))
            }
        }
    }

    /// The local address to bind for a connection to `peer`: the bind host's address of the
    /// same IP family, or the unspecified address of that family when only a port was given.
    pub(crate) fn for_peer(&self, peer: SocketAddr) -> Result<SocketAddr, String> {
        match &self.host {
            LocalHost::Any => {
                let any = if peer.is_ipv4() {
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
                } else {
                    IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                };
                Ok(SocketAddr::new(any, self.port))
            }
            LocalHost::Literal { ip, zone } => {
                let ip = *ip;
                let mut addr = SocketAddr::new(ip, self.port);
                match (&mut addr, zone, peer) {
                    (SocketAddr::V6(a), Some(zone), _) => a.set_scope_id(scope_id(zone)?),
                    // A link-local address names no link without its zone (RFC 4007 §11): the
                    // kernel refuses to bind it (EINVAL). A scoped server address is on one
                    // link, so a local address written without a zone is taken to be on that
                    // one.
                    (SocketAddr::V6(a), None, SocketAddr::V6(p))
                        if a.ip().is_unicast_link_local() =>
                    {
                        if p.scope_id() == 0 {
                            let note = &self.note;
                            return Err(format!(
                                "--local-interface{note} {ip} is a link-local address: name its \
                                 interface as its zone, {ip}%eth0 (RFC 4007 §11)"
                            ));
                        }
                        a.set_scope_id(p.scope_id());
                    }
                    _ => {}
                }
                Ok(addr)
            }
            LocalHost::Named { found: Err(e), .. } => Err(e.clone()),
            LocalHost::Named {
                host,
                found: Ok(found),
            } => {
                if let Some(a) = found.iter().find(|a| a.is_ipv4() == peer.is_ipv4()) {
                    return Ok(*a);
                }
                Err(if found.is_empty() {
                    format!("the local interface {host} has no address")
                } else {
                    format!(
                        "the local interface {host} has no {} address",
                        if peer.is_ipv4() { "IPv4" } else { "IPv6" }
                    )
                })
            }
        }
    }
}

/// `--local-interface` with its name resolved, kept in `slot` the first time it is asked for
/// (once per send: the choice of addresses and every attempt share it); `None` when none is
/// asked for.
async fn local_once<'s>(
    slot: &'s mut Option<Option<LocalAddrs>>,
    link: &crate::net::route::Link,
) -> Option<&'s LocalAddrs> {
    if slot.is_none() {
        *slot = Some(match &link.local {
            Some(b) => Some(LocalAddrs::resolve(b).await),
            None => None,
        });
    }
    slot.as_ref().and_then(Option::as_ref)
}

/// The scope id an IPv6 zone names (RFC 4007 §11.2): an interface index as digits, else an
/// interface name, as `if_nametoindex(3)` answers it in this process's network namespace. The
/// name is asked of the system's `getaddrinfo(3)` as the zone of a link-local literal
/// (`fe80::1%NAME`: glibc and musl look such a zone up with `if_nametoindex`, and a numeric
/// host is never sent to DNS), without a call into C of our own. `/sys/class/net` is not asked:
/// it shows the interfaces of the namespace that mounted sysfs, not always this one (`unshare
/// -n` keeps the outer one's). `Err` is the reason, naming the zone.
pub(crate) fn scope_id(zone: &str) -> Result<u32, String> {
    use std::net::ToSocketAddrs;
    if zone.bytes().all(|b| b.is_ascii_digit()) {
        return zone
            .parse::<u32>()
            .map_err(|_| format!("'{zone}' is no interface index"));
    }
    let missing = || {
        format!(
            "no network interface '{zone}' on this host (the zone of a scoped IPv6 address names one)"
        )
    };
    // `ip_literal` let only an interface name's characters through: no host name can result.
    (format!("fe80::1%{zone}").as_str(), 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut found| {
            found.find_map(|a| match a {
                SocketAddr::V6(a) if a.scope_id() != 0 => Some(a.scope_id()),
                _ => None,
            })
        })
        .ok_or_else(missing)
}

/// Why this host cannot send to `ip` at all, if it cannot: no route for its address family
/// (ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL from the local routing table) or no such family
/// (EAFNOSUPPORT). Asked of a UDP socket's `connect`, which only looks the route up and sends
/// nothing, so a TCP connection failure can be told apart: the checking host's problem, or the
/// peer's (an ICMP unreachable from the path answers the TCP connect, not this).
pub(crate) fn no_local_route(ip: IpAddr) -> Option<std::io::Error> {
    use std::io::ErrorKind;
    let any = if ip.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    };
    let local = |e: &std::io::Error| {
        matches!(
            e.kind(),
            ErrorKind::NetworkUnreachable
                | ErrorKind::HostUnreachable
                | ErrorKind::AddrNotAvailable
        ) || e.raw_os_error() == Some(nix::errno::Errno::EAFNOSUPPORT as i32)
    };
    let sock = match std::net::UdpSocket::bind(SocketAddr::new(any, 0)) {
        Ok(s) => s,
        Err(e) => return local(&e).then_some(e),
    };
    match sock.connect(SocketAddr::new(ip, 25)) {
        Err(e) if local(&e) => Some(e),
        _ => None,
    }
}

/// Why one TCP attempt failed: the one-line reason shown, and its kind and OS error number as
/// the `connect_failed` event carries them, set here where the attempt fails.
#[derive(Debug, Clone)]
pub(crate) struct TcpFailure {
    pub(crate) reason: String,
    pub(crate) cause: ConnectCause,
    pub(crate) os_error: Option<i32>,
}

impl TcpFailure {
    /// A failure of the local address (`--local-interface`): resolving it, its family, binding.
    fn local(reason: String, e: Option<&std::io::Error>) -> TcpFailure {
        TcpFailure {
            reason,
            cause: ConnectCause::LocalAddress,
            os_error: e.and_then(std::io::Error::raw_os_error),
        }
    }

    /// The OS refused the attempt: `e` says why, by kind and number.
    fn os(e: &std::io::Error) -> TcpFailure {
        use std::io::ErrorKind as K;
        let cause = match e.kind() {
            K::ConnectionRefused => ConnectCause::Refused,
            K::NetworkUnreachable | K::NetworkDown => ConnectCause::NetworkUnreachable,
            K::HostUnreachable => ConnectCause::HostUnreachable,
            K::AddrNotAvailable => ConnectCause::AddressUnavailable,
            K::PermissionDenied => ConnectCause::PermissionDenied,
            K::TimedOut => ConnectCause::TimedOut,
            _ => ConnectCause::Other,
        };
        TcpFailure {
            reason: e.to_string(),
            cause,
            os_error: e.raw_os_error(),
        }
    }
}

/// Connect to `addr`, binding to `local` first if given, giving up after `timeout` (zero = no
/// limit). The error is a one-line reason with its kind.
pub(crate) async fn tcp(
    addr: SocketAddr,
    local: Option<SocketAddr>,
    timeout: Duration,
) -> Result<TcpStream, TcpFailure> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| TcpFailure::os(&e))?;
    if let Some(local) = local {
        if local.is_ipv4() != addr.is_ipv4() {
            return Err(TcpFailure::local(
                format!("local address {local} is not of the same family as {addr}"),
                None,
            ));
        }
        socket
            .bind(local)
            .map_err(|e| TcpFailure::local(format!("cannot bind to {local}: {e}"), Some(&e)))?;
    }
    let fut = socket.connect(addr);
    let stream = if timeout.is_zero() {
        fut.await
    } else {
        match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => {
                return Err(TcpFailure {
                    reason: format!("timed out after {}s", timeout.as_secs_f64()),
                    cause: ConnectCause::TimedOut,
                    os_error: None,
                });
            }
        }
    }
    .map_err(|e| TcpFailure::os(&e))?;
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

/// The TCP candidates of a plan, tried one at a time: every MX in preference order (RFC 5321
/// §5.1; equal preferences shuffled, see [`Resolver::mail_hosts`]) and every address of each.
/// [`Dialer::next`] connects to the next candidate that answers; called again (the send, after a
/// server that never greeted, when [`ConnectPlan::tries_next_mx_on_refusal`]) it goes on from
/// there. An address already tried (another MX name for the same server) is not tried again.
struct TcpRoute {
    resolver: Option<Resolver>,
    /// Hosts not looked up yet, in the order to try them.
    hosts: std::collections::VecDeque<String>,
    port: u16,
    /// The host whose addresses are being tried, those left, and its DANE use.
    current: Option<(
        String,
        std::collections::VecDeque<IpAddr>,
        Option<dane::DaneUse>,
    )>,
    /// Every address tried so far and the host it was tried for.
    tried: Vec<(IpAddr, String)>,
    mx_proof: Option<String>,
    /// DNS time not yet reported in a `Timing` event.
    dns_unreported: Duration,
    last_err: String,
    dns_err: Option<crate::net::dns::DnsError>,
    /// Every host's DNS failure, in the order tried (the result names them all when no MX
    /// host could be resolved).
    dns_errs: Vec<String>,
    /// Every failure so far, in the order met: a connection attempt's or a skipped host's (its
    /// DNS lookup failed...). Several of them are all named in the result, not only the last.
    failures: Vec<Failure>,
    /// The host and address (as shown) of the last connection made.
    answered: Option<(String, String)>,
    /// A host skipped because its TLSA lookup failed.
    dane_err: Option<crate::net::dns::DnsError>,
    /// Whether any connection was tried, and whether one was made.
    attempted: bool,
    connected: bool,
    /// The current host's zone (`fe80::1%eth0`): as written, and the scope id it names.
    zone: Option<(String, u32)>,
    /// `--local-interface` and its name's addresses, resolved once per send: `None` before the
    /// first host, `Some(None)` when no local address is asked for.
    local: Option<Option<LocalAddrs>>,
    /// Time spent on IPv6 attempts that timed out or found no route, and the first of them
    /// (address, reason): said when an IPv4 address then answers ([`Self::connect_next`]).
    v6_lost: Option<(Duration, String)>,
}

/// Opens the connections of one plan, one after another (see [`TcpRoute`]); a socket or a
/// child process is opened once.
pub(crate) struct Dialer<'p> {
    plan: &'p ConnectPlan,
    /// The seed of the equal-preference shuffle (`None`: from OpenSSL's generator).
    seed: Option<u64>,
    route: Option<TcpRoute>,
    opened: bool,
}

impl<'p> Dialer<'p> {
    /// A dialer for `plan`; nothing is resolved or connected before [`Dialer::next`].
    pub(crate) fn new(plan: &'p ConnectPlan) -> Dialer<'p> {
        Dialer {
            plan,
            seed: None,
            route: None,
            opened: false,
        }
    }

    /// The same, with a fixed seed for the order of equal-preference MX hosts (tests).
    #[cfg(test)]
    pub(crate) fn seeded(plan: &'p ConnectPlan, seed: u64) -> Dialer<'p> {
        Dialer {
            seed: Some(seed),
            ..Dialer::new(plan)
        }
    }

    /// Open the next connection the plan allows, every step reported through `emit`. After the
    /// last candidate: the error that says why none (more) could be reached.
    pub(crate) async fn next(&mut self, emit: &mut dyn FnMut(Event)) -> Result<Connection, Error> {
        let plan = self.plan;
        match &plan.link.transport {
            Transport::Tcp => {}
            Transport::Socket(_) | Transport::Pipe(_) if self.opened => {
                return Err(Error::Connect {
                    target: plan.describe(),
                    reason: "no other address to try".into(),
                });
            }
            Transport::Socket(path) => {
                self.opened = true;
                return open_socket(path, plan.link.connect_timeout, emit).await;
            }
            Transport::Pipe(command) => {
                self.opened = true;
                return open_pipe(command, emit);
            }
        }
        let t0 = Instant::now();
        if self.route.is_none() {
            self.route = Some(TcpRoute::resolve(plan, self.seed, emit).await?);
        }
        let route = self.route.as_mut().expect("route resolved above");
        let (host, tcp, dane) = route.connect_next(plan, t0, emit).await?;
        let server = match tcp.peer_addr() {
            Ok(a) => host_at(&host, &a.to_string()),
            Err(_) => host.clone(),
        };
        Ok(Connection {
            stream: Conn::Plain(tcp),
            host,
            server,
            tls: None,
            child: None,
            connected_at: Instant::now(),
            dane,
        })
    }
}

impl Dialer<'_> {
    /// The server of the last connection is left for the next candidate (it never greeted the
    /// session): `reason` joins the failures on the way, after those before it.
    pub(crate) fn leave(&mut self, reason: &str) {
        if let Some(route) = &mut self.route
            && let Some((host, addr)) = route.answered.take()
        {
            route.failures.push(Failure {
                host,
                addr: Some(addr),
                reason: reason.to_string(),
                refused: false,
            });
        }
    }

    /// Every failure on the way to a server so far, in the order met (all of them: the
    /// result's text names the first [`FAILURES_SHOWN`]).
    pub(crate) fn failures(&self) -> Vec<FailoverFailure> {
        self.route
            .iter()
            .flat_map(|r| &r.failures)
            .map(|f| FailoverFailure {
                host: f.host.clone(),
                address: f.addr.clone(),
                reason: f.reason.clone(),
            })
            .collect()
    }
}

/// The warning when IPv4 answered after IPv6 attempts that timed out or found no route (a
/// blackholed or broken IPv6 path): addresses are tried one at a time, IPv6 first (RFC 6724's
/// order, as getaddrinfo gives swaks; there is no Happy Eyeballs race, RFC 8305, nor in Postfix),
/// so such a path costs up to `--connect-timeout` per IPv6 address on every run.
fn ipv6_lost(lost: Duration, first: &str, link: &crate::net::route::Link) -> String {
    let now = if link.connect_timeout.is_zero() {
        "none".to_string()
    } else {
        format!("{}s", link.connect_timeout.as_secs_f64())
    };
    format!(
        "{:.1}s went on IPv6 attempts that failed ({first}) before IPv4 answered: -4 skips \
         IPv6, --connect-timeout shortens each attempt's wait (now {now})",
        lost.as_secs_f64()
    )
}

/// A seed from OpenSSL's generator (the clock if that fails): the equal-preference MX shuffle's,
/// and `ehlo serve`'s session PRNGs'.
pub(crate) fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    if openssl::rand::rand_bytes(&mut b).is_ok() {
        return u64::from_le_bytes(b);
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

/// The DNSSEC proof of the last answer of each kind, read off the events (`--tls-verify dane`).
fn noting(last: &mut Option<String>, e: Event, emit: &mut dyn FnMut(Event)) {
    if let Event::DnsAnswer { proof, .. } = &e {
        last.clone_from(proof);
    }
    emit(e)
}

impl TcpRoute {
    /// Build the resolver when a name must be resolved, and look up the MX hosts of an MX
    /// target (the host of a `Host` target is the only candidate).
    async fn resolve(
        plan: &ConnectPlan,
        seed: Option<u64>,
        emit: &mut dyn FnMut(Event),
    ) -> Result<TcpRoute, Error> {
        let link = &plan.link;
        let needs_dns = match &plan.target {
            Target::Mx { .. } => true,
            Target::Host { host, .. } => ip_literal(host).is_none(),
        };
        // One resolver for the whole run (MX and address lookups).
        let resolver = if needs_dns {
            Some(Resolver::new(&link.dns)?)
        } else {
            None
        };
        let mut last_proof: Option<String> = None;
        let mut dns_time = Duration::ZERO;
        let (hosts, port): (Vec<String>, u16) = match &plan.target {
            Target::Host { host, port } => (vec![host.clone()], *port),
            Target::Mx { domain, port } => {
                let r = resolver.as_ref().expect("resolver built for an MX target");
                let t = Instant::now();
                // Drawn here, not for every send: a `--server` run never asks OpenSSL's
                // generator (its start-up cost belongs to the MX shuffle alone).
                let mut rng = crate::smtp::rng::Rng::new(seed.unwrap_or_else(random_seed));
                let hosts = r
                    .mail_hosts(domain, &mut rng, &mut |e| {
                        noting(&mut last_proof, e, &mut *emit)
                    })
                    .await;
                dns_time += t.elapsed();
                (hosts.map_err(|e| e.typed(MX_DOMAIN_TYPO))?, *port)
            }
        };
        Ok(TcpRoute {
            resolver,
            hosts: hosts.into(),
            port,
            current: None,
            tried: Vec::new(),
            // An implicit MX has no MX RRset: the domain's own addresses decide.
            mx_proof: last_proof,
            dns_unreported: dns_time,
            last_err: String::from("no address to try"),
            dns_err: None,
            dns_errs: Vec::new(),
            failures: Vec::new(),
            answered: None,
            dane_err: None,
            attempted: false,
            connected: false,
            zone: None,
            local: None,
            v6_lost: None,
        })
    }

    /// Connect to the next candidate that answers: the current host's next address, else the
    /// next host's. Returns the host that answered and, with `--tls-verify dane`, what its
    /// TLSA records decided.
    async fn connect_next(
        &mut self,
        plan: &ConnectPlan,
        t0: Instant,
        emit: &mut dyn FnMut(Event),
    ) -> Result<(String, TcpStream, Option<dane::DaneUse>), Error> {
        let link = &plan.link;
        let port = self.port;
        let mut dns_time = Duration::ZERO;
        loop {
            if let Some((host, addrs, dane_use)) = self.current.as_mut() {
                while let Some(ip) = addrs.pop_front() {
                    self.attempted = true;
                    self.tried.push((ip, host.clone()));
                    let mut addr = SocketAddr::new(ip, port);
                    // A scoped address is shown with its zone as written (`[fe80::1%eth0]:25`).
                    let shown = match (&mut addr, &self.zone) {
                        (SocketAddr::V6(a), Some((zone, id))) => {
                            a.set_scope_id(*id);
                            format!("[{ip}%{zone}]:{port}")
                        }
                        _ => addr.to_string(),
                    };
                    emit(Event::Connecting {
                        host: host.clone(),
                        addr: shown.clone(),
                    });
                    let local = match local_once(&mut self.local, link).await {
                        None => Ok(None),
                        Some(l) => l.for_peer(addr).map(Some),
                    };
                    let started = Instant::now();
                    let attempt = match local {
                        Ok(local) => tcp(addr, local, link.connect_timeout).await,
                        Err(e) => Err(TcpFailure::local(e, None)),
                    };
                    match attempt {
                        Ok(s) => {
                            self.connected = true;
                            self.answered = Some((host.clone(), shown.clone()));
                            emit(Event::Connected {
                                host: host.clone(),
                                peer: s.peer_addr().map(|a| a.to_string()).unwrap_or_default(),
                                local: s.local_addr().map(|a| a.to_string()).unwrap_or_default(),
                                proxy: None,
                            });
                            if ip.is_ipv4()
                                && let Some((lost, first)) = self.v6_lost.take()
                                && lost >= Duration::from_secs(1)
                            {
                                emit(Event::warning(ipv6_lost(lost, &first, link)));
                            }
                            if self.resolver.is_some() {
                                let d = std::mem::take(&mut self.dns_unreported) + dns_time;
                                timing(emit, Timed::Dns, Phase::Dns, d);
                            }
                            timing(
                                emit,
                                Timed::Connect,
                                Phase::Connect,
                                t0.elapsed().saturating_sub(dns_time),
                            );
                            return Ok((host.clone(), s, dane_use.clone()));
                        }
                        Err(failed) => {
                            if ip.is_ipv6()
                                && matches!(
                                    failed.cause,
                                    ConnectCause::TimedOut
                                        | ConnectCause::NetworkUnreachable
                                        | ConnectCause::HostUnreachable
                                )
                            {
                                let (lost, _) = self.v6_lost.get_or_insert_with(|| {
                                    (Duration::ZERO, format!("{shown}: {}", failed.reason))
                                });
                                *lost += started.elapsed();
                            }
                            emit(Event::ConnectFailed {
                                host: host.clone(),
                                addr: shown.clone(),
                                reason: failed.reason.clone(),
                                cause: failed.cause,
                                os_error: failed.os_error,
                            });
                            self.failures.push(Failure {
                                host: host.clone(),
                                addr: Some(shown),
                                reason: failed.reason.clone(),
                                refused: failed.cause == ConnectCause::Refused,
                            });
                            // The run's one-line reason says what a refusal usually means (a
                            // newcomer's wrong port); the event keeps the OS's words.
                            self.last_err = match failed.cause {
                                ConnectCause::Refused => format!(
                                    "{}: nothing accepts connections on port {port} there (no \
                                     server on that port, or a firewall refuses it)",
                                    failed.reason
                                ),
                                _ => failed.reason,
                            };
                        }
                    }
                }
                self.current = None;
            }
            let Some(host) = self.hosts.pop_front() else {
                return Err(self.exhausted(plan));
            };
            let t = Instant::now();
            let found = self.candidates(plan, &host, emit).await;
            dns_time += t.elapsed();
            if let Some((addrs, dane_use)) = found {
                self.current = Some((host, addrs.into(), dane_use));
            }
        }
    }

    /// The addresses of `host` to try (looked up unless a literal; outside `-4`/`-6` and
    /// already tried ones left out) and its DANE use; `None` when the host is skipped (its
    /// lookup or its TLSA lookup failed: reported, and remembered for [`Self::exhausted`]).
    async fn candidates(
        &mut self,
        plan: &ConnectPlan,
        host: &str,
        emit: &mut dyn FnMut(Event),
    ) -> Option<(Vec<IpAddr>, Option<dane::DaneUse>)> {
        let link = &plan.link;
        let mut addr_proof = None;
        self.zone = None;
        let addrs = match ip_literal(host) {
            // A link-local address is one on every link (RFC 4291 §2.5.6): without a zone no
            // interface is named, which the kernel refuses as EINVAL ("Invalid argument").
            Some((IpAddr::V6(ip), None)) if ip.is_unicast_link_local() => {
                self.skip(
                    host,
                    format!(
                        "{ip} is a link-local address: name its interface as its zone, \
                     {ip}%eth0 (RFC 4007 §11)"
                    ),
                );
                return None;
            }
            Some((ip, None)) => vec![ip],
            // A scoped address (RFC 4007 §11): connected to on the interface its zone names,
            // never looked up.
            Some((ip, Some(zone))) => match scope_id(zone) {
                Ok(id) => {
                    self.zone = Some((zone.to_string(), id));
                    vec![ip]
                }
                Err(e) => {
                    self.skip(host, e);
                    return None;
                }
            },
            None => {
                let r = self.resolver.as_ref().expect("resolver built for names");
                let mut last_proof = None;
                let found = r
                    .host_addresses_noted(host, link.family, &mut |e| {
                        noting(&mut last_proof, e, &mut *emit)
                    })
                    .await;
                addr_proof = last_proof;
                match found {
                    Ok(noted) => {
                        // An MX exchange (not the implicit MX, the domain itself) that is an
                        // alias breaks RFC 2181 §10.3; followed all the same, as Postfix does.
                        if let Target::Mx { domain, .. } = &plan.target
                            && !host.eq_ignore_ascii_case(domain)
                            && !noted.aliases.is_empty()
                        {
                            emit(Event::warning(format!(
                                "{}; followed, as Postfix does",
                                crate::net::dns::mx_alias_problem(host, &noted.aliases)
                            )));
                        }
                        noted.list
                    }
                    Err(e) => {
                        // Said now unless it is bound to be in the result line (which names
                        // every host's failure): the last host's, nothing connected before.
                        if !self.hosts.is_empty() || self.connected {
                            emit(Event::warning(e.to_string()));
                        }
                        self.last_err = e.to_string();
                        self.failures.push(Failure::skipped(host, e.to_string()));
                        self.dns_errs.push(e.to_string());
                        self.dns_err.get_or_insert(e);
                        return None;
                    }
                }
            }
        };
        // An address literal of the other family (`ehlo repl [::1] -4`): why nothing is tried.
        if let [ip] = addrs[..]
            && ip_literal(host).is_some()
            && !link.family.admits(ip)
        {
            let (got, flag) = if ip.is_ipv6() {
                ("IPv6", "-4")
            } else {
                ("IPv4", "-6")
            };
            self.skip(
                host,
                format!("{ip} is an {got} address but {flag} was given"),
            );
            return None;
        }
        // A name's link-local address (RFC 4291 §2.5.6) needs the interface a DNS answer cannot
        // give: a zone belongs to an address's text form only (RFC 4007 §11), so the kernel
        // would refuse it as EINVAL ("Invalid argument"). Said as for the literal, not tried.
        let addrs = if ip_literal(host).is_none() {
            let (local, addrs): (Vec<IpAddr>, Vec<IpAddr>) = addrs.into_iter().partition(|ip| {
                matches!(ip, IpAddr::V6(v6) if v6.is_unicast_link_local())
                    && link.family.admits(*ip)
            });
            if let Some(ip) = local.first() {
                let why = format!(
                    "{ip} (the address of {host}) is a link-local address, and a host name \
                     cannot carry the interface it needs: give the address with its zone \
                     instead, {ip}%eth0 (RFC 4007 §11)"
                );
                if addrs.is_empty() {
                    self.skip(host, why);
                    return None;
                }
                emit(Event::warning(format!("{why}; not tried")));
            }
            addrs
        } else {
            addrs
        };
        // A socket bound to a local address reaches only peers of its family: the addresses of
        // the other family are left out, as swaks (IO::Socket::INET6) pairs local and remote
        // addresses by family, rather than each "tried" and failed, the last of those failures
        // then hiding the real one in the result.
        let addrs = match local_once(&mut self.local, link)
            .await
            .and_then(LocalAddrs::families)
        {
            Some((v4, v6)) => {
                let (fit, other): (Vec<IpAddr>, Vec<IpAddr>) = addrs
                    .into_iter()
                    .filter(|ip| link.family.admits(*ip))
                    .partition(|ip| if ip.is_ipv4() { v4 } else { v6 });
                if let Some(b) = &link.local
                    && let Some(local) = &b.host
                    && !other.is_empty()
                {
                    let (fam, has) = if v4 {
                        ("IPv6", "IPv4")
                    } else {
                        ("IPv4", "IPv6")
                    };
                    let note = &b.note;
                    let why = format!(
                        "--local-interface{note} {local} has no {fam} address (only {has}): {} of \
                         {host} not tried",
                        other
                            .iter()
                            .map(IpAddr::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    if fit.is_empty() {
                        self.skip(host, why);
                        return None;
                    }
                    emit(Event::info(why));
                }
                fit
            }
            None => addrs,
        };
        // The same server under another MX name: one connection is enough to know its answer.
        let mut again = Vec::new();
        let addrs: Vec<IpAddr> = addrs
            .into_iter()
            .filter(|ip| link.family.admits(*ip))
            .filter(|ip| match self.tried.iter().find(|(t, _)| t == ip) {
                Some((_, by)) => {
                    again.push(format!("{ip} (as {by})"));
                    false
                }
                None => true,
            })
            .collect();
        if !again.is_empty() {
            emit(Event::info(format!(
                "{host}: {} already tried, not tried again",
                again.join(", ")
            )));
        }
        if addrs.is_empty() {
            return None;
        }
        let dane_use = if link.dane {
            let next_hop = match &plan.target {
                Target::Mx { domain, .. } => Some(domain.as_str()),
                Target::Host { .. } => None,
            };
            let decided = dane_policy(
                self.resolver.as_ref(),
                host,
                self.port,
                dane::HostProofs {
                    mx: self.mx_proof.as_deref(),
                    addresses: addr_proof.as_deref(),
                },
                next_hop,
                emit,
            )
            .await;
            match decided {
                Ok(d) => d,
                Err(e) => {
                    emit(Event::warning(format!(
                        "{e}: not connecting to {host}, a failed TLSA lookup forbids delivery to it (RFC 7672 §2.2)"
                    )));
                    self.skip(host, e.to_string());
                    self.dane_err.get_or_insert(e);
                    return None;
                }
            }
        } else {
            None
        };
        Some((addrs, dane_use))
    }

    /// A host (or its addresses) left out for `why`: the reason if nothing else is tried.
    fn skip(&mut self, host: &str, why: String) {
        self.failures.push(Failure::skipped(host, why.clone()));
        self.last_err = why;
    }

    /// Why no (further) connection could be made.
    fn exhausted(&mut self, plan: &ConnectPlan) -> Error {
        if !self.attempted {
            // Every host was refused by its failed TLSA lookup: that DNS failure is the reason.
            if let Some(e) = self.dane_err.take() {
                return e.into();
            }
            // Nothing was connected to and a name did not resolve: a DNS failure, not a
            // connect failure (one MX or several alike).
            // Several MX hosts: the result names each one's failure, not only the first's
            // (RFC 5321 §5.1: MX records none of which is usable are an error).
            if let (Target::Mx { domain, .. }, [_, _, ..]) = (&plan.target, &self.dns_errs[..]) {
                return crate::net::dns::DnsError::NoUsableMx {
                    domain: domain.clone(),
                    reason: self.dns_errs.join("; "),
                }
                .into();
            }
            if let Some(e) = self.dns_err.take() {
                // The one host asked for (`--server`, `ehlo repl HOST`): its name was typed.
                return match plan.target {
                    Target::Host { .. } => e.typed(HOST_TYPO),
                    Target::Mx { .. } => e,
                }
                .into();
            }
        }
        let reason = match &self.failures[..] {
            [_, _, ..] => failure_list(
                &self.failures,
                matches!(plan.target, Target::Mx { .. }),
                self.port,
            ),
            _ => std::mem::take(&mut self.last_err),
        };
        Error::Connect {
            target: plan.describe(),
            reason,
        }
    }
}

/// What to check when the server's name given (`--server`, `ehlo repl HOST`) does not exist.
const HOST_TYPO: &str = "check the server's name for a typo";
/// What to check when the domain routed by MX (the recipient's, `ehlo repl @domain`) does not
/// exist: no server of it can be asked.
const MX_DOMAIN_TYPO: &str = "check the domain after the @ for a typo";

/// Most failures named in a run's result before "… and K more".
const FAILURES_SHOWN: usize = 5;

/// One failure on the way to a connection: an attempt's (`addr` the address as shown), or a
/// host's that was left out before any attempt (no `addr`; `reason` then names the host).
struct Failure {
    host: String,
    addr: Option<String>,
    reason: String,
    refused: bool,
}

impl Failure {
    fn skipped(host: &str, reason: String) -> Failure {
        Failure {
            host: host.to_string(),
            addr: None,
            reason,
            refused: false,
        }
    }
}

/// Several failures as one reason, in the order met, at most [`FAILURES_SHOWN`]: each MX
/// host's `host (addr): reason` (the wording of [`crate::net::dns::DnsError::NoUsableMx`]),
/// one host's `addr: reason`. When every one was a refusal, what that usually means is said
/// once at the end.
fn failure_list(failures: &[Failure], mx: bool, port: u16) -> String {
    let mut s = failures
        .iter()
        .take(FAILURES_SHOWN)
        .map(|f| match &f.addr {
            Some(addr) if mx => format!("{} ({addr}): {}", f.host, f.reason),
            Some(addr) => format!("{addr}: {}", f.reason),
            None => f.reason.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    if failures.len() > FAILURES_SHOWN {
        s.push_str(&format!("; … and {} more", failures.len() - FAILURES_SHOWN));
    }
    if failures.iter().all(|f| f.refused) {
        s.push_str(&format!(
            "; none accepts connections on port {port} (no server on that port, or a firewall \
             refuses it)"
        ));
    }
    s
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
            let answer = match r.tlsa(host, port).await {
                Ok(a) => a,
                Err(e) => {
                    // Said as a failed MX or address lookup is (JSON: `dns_failed`): the
                    // query ends here and the host is left out (RFC 7672 §2.2).
                    emit(Event::DnsFailed {
                        name: owner,
                        rtype: "TLSA".into(),
                        reason: e.to_string(),
                    });
                    return Err(e);
                }
            };
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
        policy: match &decision {
            Some(d) if d.tlsa.is_empty() => "encrypt",
            Some(_) => "dane",
            None => "pkix",
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
        proxy: None,
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
    let mut cmd = shell_for(command);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        // A group of its own, so that the end of the run can kill what the shell started as
        // well (dash does not exec the last command: killing /bin/sh alone leaves it running).
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| Error::Connect {
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
        proxy: None,
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

/// The first argument that makes the `ehlo` binary a `--pipe` command's launcher
/// ([`pipe_launcher`]) instead of parsing a command line.
const LAUNCHER_ARG: &str = "--ehlo-internal-pipe-launcher";

/// Set when the running program is the `ehlo` binary, whose `main` calls [`pipe_launcher`]
/// first: only then does `/proc/self/exe` understand [`LAUNCHER_ARG`] (a test program does not).
static LAUNCHER: AtomicBool = AtomicBool::new(false);

/// `/bin/sh -c COMMAND` for `--pipe`, made to end when ehlo does, however ehlo ends: killed
/// outright (SIGKILL: ehlo gets no chance to kill the group, as it does at the end of a run and
/// on SIGTERM, SIGINT and SIGHUP), the shell gets the parent-death signal (PR_SET_PDEATHSIG,
/// prctl(2)). That signal is SIGKILL, what the end of a run sends the group: what ehlo can no
/// longer end nothing will, so a command that traps or ignores SIGTERM must not be able to
/// stay. It reaches the shell, or the command the shell execs (`exec server`), not the shell's
/// own children: those see their input end.
///
/// Setting it between fork and exec takes `unsafe` (`pre_exec`), which this crate forbids, so
/// the `ehlo` binary runs itself as the launcher ([`pipe_launcher`]): it sets the signal, gives
/// the command the core-dump limit ehlo started with ([`crate::coredump`]) and execs the shell,
/// keeping its pid, its pipes and its process group.
///
/// The signal fires when the THREAD that spawned the child ends, not the process, so the
/// launcher is used only from the main thread, whose end is ehlo's: the send runs the session
/// on a current-thread runtime inside `block_on` there (the REPL, replay and `check` have no
/// `--pipe`). From another thread (a runtime's worker or blocking-pool thread, which may end
/// while ehlo runs on) the shell is spawned directly, as before (with ehlo's core limit of 0).
fn shell_for(command: &str) -> tokio::process::Command {
    let parent = std::process::id();
    if LAUNCHER.load(Ordering::Relaxed) && on_main_thread() {
        let mut cmd = tokio::process::Command::new("/proc/self/exe");
        cmd.arg(LAUNCHER_ARG)
            .arg(parent.to_string())
            .arg(crate::coredump::original_arg())
            .arg(command);
        return cmd;
    }
    let mut cmd = tokio::process::Command::new("/bin/sh");
    cmd.arg("-c").arg(command);
    cmd
}

/// Whether the running program is the `ehlo` binary, which can run itself as a launcher.
pub(crate) fn can_relaunch() -> bool {
    LAUNCHER.load(Ordering::Relaxed)
}

#[cfg(target_os = "linux")]
fn on_main_thread() -> bool {
    nix::unistd::gettid() == nix::unistd::getpid()
}

#[cfg(not(target_os = "linux"))]
fn on_main_thread() -> bool {
    false
}

/// The `ehlo` binary's first call: with [`LAUNCHER_ARG`] PARENT_PID CORE_LIMIT COMMAND as its
/// arguments it is a `--pipe` command's launcher ([`shell_for`]) and never returns: it asks for
/// SIGKILL when its parent ends, ends at once if that parent (ehlo, PARENT_PID) is already gone,
/// sets the soft core limit back to CORE_LIMIT ([`crate::coredump::restore`]) and execs
/// `/bin/sh -c COMMAND`. Otherwise it notes that this program can be a launcher and returns.
pub(crate) fn pipe_launcher(args: &[std::ffi::OsString]) {
    if args.get(1).is_none_or(|a| a != LAUNCHER_ARG) {
        LAUNCHER.store(true, Ordering::Relaxed);
        return;
    }
    let (Some(parent), Some(core), Some(command), None) =
        (args.get(2), args.get(3), args.get(4), args.get(5))
    else {
        eprintln!("ehlo: {LAUNCHER_ARG} is internal: it takes PARENT_PID CORE_LIMIT COMMAND");
        std::process::exit(crate::error::EXIT_USAGE.into());
    };
    #[cfg(target_os = "linux")]
    {
        if let Err(e) = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL) {
            eprintln!("ehlo: --pipe: cannot ask to end with ehlo (prctl: {e})");
            std::process::exit(crate::error::EXIT_CANNOT_EXEC.into());
        }
        // ehlo ended before the request was made: the signal will never come.
        let parent = parent.to_str().and_then(|p| p.parse::<i32>().ok());
        if parent != Some(nix::unistd::getppid().as_raw()) {
            std::process::exit(crate::error::EXIT_PARENT_GONE.into());
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = parent;
    crate::coredump::restore(core);
    use std::os::unix::process::CommandExt;
    let e = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .exec();
    // As a shell that cannot run its command (POSIX: 126 found but not executable).
    eprintln!("ehlo: --pipe: cannot run /bin/sh: {e}");
    std::process::exit(crate::error::EXIT_CANNOT_EXEC.into());
}

/// TLS handshake under the timeout, with the evidence reported. Returns the stream and version.
/// How a failed handshake with an HTTPS server ([`crate::net::route::Link::https`]) that
/// answered without TLS begins: the caller names the server's role and port after it.
pub(crate) const NO_TLS_FROM_HTTPS: &str = "the server did not answer with TLS";

async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    host: &str,
    plan: &ConnectPlan,
    params: &tls::TlsParams,
    emit: &mut dyn FnMut(Event),
) -> Result<(tls::TlsStream<S>, String), TlsFailure> {
    let timeout = plan.link.timeout;
    for note in params.notes() {
        emit(Event::info(note));
    }
    let t0 = Instant::now();
    // The handshake's own deadline, which its closing words must not outlast either.
    let deadline = (!timeout.is_zero()).then(|| t0 + timeout);
    let fut = tls::connect(stream, host, params, deadline);
    let r = if timeout.is_zero() {
        fut.await
    } else {
        match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => {
                // The message names the handshake (with implicit TLS no STARTTLS was sent;
                // after STARTTLS its 220 came, the handshake is what stalled), and the
                // failure is reported as every other handshake failure is (`TlsFailed`).
                let secs = timeout.as_secs_f64();
                emit(Event::TlsFailed {
                    reason: Hint::plain(format!("TLS handshake timed out after {secs}s")),
                });
                return Err(TlsFailure::server(Error::Timeout {
                    phase: Phase::StartTls,
                    secs,
                    implicit_tls: plan.link.tls_on_connect,
                    handshake: true,
                }));
            }
        }
    };
    timing(emit, Timed::TlsHandshake, Phase::StartTls, t0.elapsed());
    match r {
        Ok((s, info)) => {
            let v = info.version.clone();
            tls_started(&info, emit);
            // Accepted, but not silently: a CN-only certificate is refused by clients that
            // follow RFC 9525 §2.
            if info.dane.is_none()
                && let Some(cn) = tls::cn_only(&info.verify)
            {
                emit(Event::warning(tls::cn_only_words(cn)));
            }
            save_peer_certs(params, &info, emit);
            Ok((s, v))
        }
        Err(tls::TlsError::Verify { reason, info }) => {
            tls_started(&info, emit);
            save_peer_certs(params, &info, emit);
            Err(TlsFailure::server(Error::Session(SessionError::Tls(
                reason.after("certificate verification failed: "),
            ))))
        }
        Err(tls::TlsError::Dane { reason, info }) => {
            tls_started(&info, emit);
            save_peer_certs(params, &info, emit);
            Err(TlsFailure::server(Error::Session(SessionError::Tls(
                Hint::plain(format!("DANE verification failed: {reason}")),
            ))))
        }
        Err(e) => {
            // An HTTPS server that speaks no TLS: SMTP's ports and greetings are beside the point.
            if plan.link.https
                && let tls::TlsError::NotTls { head, .. } = &e
            {
                let msg = Hint::plain(format!(
                    "{NO_TLS_FROM_HTTPS} (it sent \"{head}\", which is no TLS handshake)"
                ));
                emit(Event::TlsFailed {
                    reason: msg.clone(),
                });
                return Err(TlsFailure::server(Error::Session(SessionError::Tls(msg))));
            }
            let (tls::TlsError::NotTls { reason: why, .. } | tls::TlsError::Handshake(why)) = &e
            else {
                let msg = Hint::plain(e.to_string());
                emit(Event::TlsFailed {
                    reason: msg.clone(),
                });
                // `Setup`: our own settings, not the server.
                return Err(TlsFailure::ours(Error::Session(SessionError::Tls(msg))));
            };
            let mut msg = why.clone().after("TLS handshake failed: ");
            // After its own 220 to STARTTLS the server answered the ClientHello with bytes
            // that are not TLS: not a plaintext port (the advice OpenSSL's reason carries is
            // for implicit TLS), but a broken server or something on the path stripping TLS.
            if !plan.link.tls_on_connect
                && let tls::TlsError::NotTls { head, .. } = &e
            {
                msg = Hint::plain(format!(
                    "TLS handshake failed: after its 220 to STARTTLS the server sent \"{head}\", \
                     which is not TLS: a broken server, or something on the path that strips \
                     TLS (RFC 3207 §4)"
                ));
            }
            // Implicit TLS against a plaintext port: the server's greeting is what OpenSSL
            // choked on, when what arrived starts like one. Other bytes that are not TLS say
            // nothing about SMTP.
            if plan.link.tls_on_connect
                && let tls::TlsError::NotTls { greeting, head, .. } = &e
            {
                msg.push(if *greeting {
                    Hint::new(" — this port speaks plain SMTP: ⟨starttls-instead⟩")
                } else {
                    Hint::plain(format!(
                        " — the server sent \"{head}\", which is neither TLS nor an SMTP \
                         greeting: check that this port speaks implicit TLS"
                    ))
                });
            }
            emit(Event::TlsFailed {
                reason: msg.clone(),
            });
            Err(TlsFailure::server(Error::Session(SessionError::Tls(msg))))
        }
    }
}

/// The handshake's evidence, then a warning for each certificate out of its dates (or near its
/// notAfter): decided here once, so the transcript's `!!!` line and JSON's `warning` record say
/// the same.
fn tls_started(info: &TlsInfo, emit: &mut dyn FnMut(Event)) {
    emit(Event::TlsStarted { info: info.clone() });
    for (i, cert) in info.chain.iter().enumerate() {
        if let Some(words) = tls::dates_words(i, cert) {
            emit(Event::warning(words));
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

    async fn local_for(bind: &LocalBind, peer: SocketAddr) -> Result<SocketAddr, String> {
        LocalAddrs::resolve(bind).await.for_peer(peer)
    }

    #[tokio::test]
    async fn local_bind_by_name_port_or_address() {
        let peer: SocketAddr = "127.0.0.1:25".parse().unwrap();
        let b = |host: Option<&str>, port| LocalBind {
            host: host.map(str::to_string),
            port,
            note: String::new(),
        };
        assert_eq!(
            local_for(&b(None, 2500), peer).await,
            Ok("0.0.0.0:2500".parse().unwrap())
        );
        assert_eq!(
            local_for(&b(Some("127.0.0.2"), 0), peer).await,
            Ok("127.0.0.2:0".parse().unwrap())
        );
        // `localhost` is a name, not only an IP: both loopbacks (RFC 6761 §6.3), whatever the
        // hosts file lists (this one, and many containers', only 127.0.0.1, which left a
        // connection to ::1 no local address).
        let a = local_for(&b(Some("localhost"), 0), peer).await.unwrap();
        assert!(a.ip().is_loopback() && a.is_ipv4(), "{a}");
        let v6: SocketAddr = "[::1]:25".parse().unwrap();
        assert_eq!(
            local_for(&b(Some("localhost"), 2500), v6).await,
            Ok("[::1]:2500".parse().unwrap())
        );
        assert_eq!(
            local_for(&b(Some("LocalHost."), 0), v6).await,
            Ok("[::1]:0".parse().unwrap())
        );
        assert!(local_for(&b(Some("127.0.0.1"), 0), v6).await.is_ok());
        assert!(
            local_for(&b(Some("no-such-host.invalid"), 0), peer)
                .await
                .is_err()
        );
    }

    /// Loopback is always routable; a TCP failure there is the peer's. (The unroutable case
    /// needs a host without the family's route: the check's judge is tested with it.)
    #[test]
    fn loopback_has_a_local_route() {
        assert!(no_local_route("127.0.0.1".parse().unwrap()).is_none());
        assert!(no_local_route("127.9.9.9".parse().unwrap()).is_none());
    }
}

#[cfg(test)]
mod dialer_tests {
    use super::*;
    use crate::net::dns::{DnsOptions, Family};
    use crate::net::route::Link;
    use crate::net::testutil::{FakeDns, RecordSpec};

    fn mx_plan(dns: SocketAddr, domain: &str, port: u16) -> ConnectPlan {
        Link {
            dns: DnsOptions::with_timeout(Some(dns), Duration::from_secs(2)),
            timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
            ..Link::default()
        }
        .to(Target::Mx {
            domain: domain.into(),
            port,
        })
    }

    /// Listeners on 127.0.0.1 and 127.0.0.2 (loopback on Linux) with one port: the kernel
    /// completes connections to them, nobody needs to accept.
    fn two_listeners() -> (std::net::TcpListener, std::net::TcpListener, u16) {
        loop {
            let one = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = one.local_addr().unwrap().port();
            if let Ok(two) = std::net::TcpListener::bind(("127.0.0.2", port)) {
                return (one, two, port);
            }
        }
    }

    fn v4(s: &str) -> RecordSpec {
        RecordSpec::A(s.parse().unwrap())
    }

    /// Called again, the dialer goes on with the next candidate (what the send does after a
    /// greeting refusal), skipping an address it already tried under another MX name.
    #[tokio::test]
    async fn the_dialer_goes_on_where_it_left_off() {
        let (_one, _two, port) = two_listeners();
        let (dns, _h) = FakeDns::start(vec![
            ("d.test", RecordSpec::Mx(10, "a.d.test".into())),
            ("d.test", RecordSpec::Mx(20, "b.d.test".into())),
            ("d.test", RecordSpec::Mx(30, "c.d.test".into())),
            ("a.d.test", v4("127.0.0.2")),
            ("b.d.test", v4("127.0.0.1")),
            ("c.d.test", v4("127.0.0.2")),
        ]);
        let plan = mx_plan(dns, "d.test", port);
        let mut dialer = Dialer::seeded(&plan, 1);
        let mut events = Vec::new();
        let first = dialer.next(&mut |e| events.push(e)).await.unwrap();
        assert_eq!(first.host, "a.d.test");
        assert_eq!(first.server, format!("a.d.test [127.0.0.2:{port}]"));
        let second = dialer.next(&mut |e| events.push(e)).await.unwrap();
        assert_eq!(second.host, "b.d.test");
        let last = dialer.next(&mut |e| events.push(e)).await;
        assert!(
            matches!(&last, Err(Error::Connect { target, .. }) if target == "any MX of d.test"),
            "{:?}",
            last.err()
        );
        let connecting = events
            .iter()
            .filter(|e| matches!(e, Event::Connecting { .. }))
            .count();
        assert_eq!(connecting, 2, "{events:?}");
        assert!(
            events.contains(&Event::info(
                "c.d.test: 127.0.0.2 (as a.d.test) already tried, not tried again"
            )),
            "{events:?}"
        );
        // The MX lookup is reported once, with its DNS time, not again per connection.
        let mx_answers = events
            .iter()
            .filter(|e| matches!(e, Event::DnsAnswer { rtype, .. } if rtype == "MX"))
            .count();
        assert_eq!(mx_answers, 1);
        let connect_timings = events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Event::Timing {
                        what: Timed::Connect,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(connect_timings, 2);
    }

    /// `--local-interface` given as a host name is resolved once per send, not again for each
    /// connection attempt: two MX hosts tried, one after the other, bound from the one answer.
    #[tokio::test]
    async fn a_local_interface_name_is_resolved_once_per_send() {
        let (_one, _two, port) = two_listeners();
        let (dns, _h) = FakeDns::start(vec![
            ("d.test", RecordSpec::Mx(10, "a.d.test".into())),
            ("d.test", RecordSpec::Mx(20, "b.d.test".into())),
            ("a.d.test", v4("127.0.0.2")),
            ("b.d.test", v4("127.0.0.1")),
        ]);
        let mut plan = mx_plan(dns, "d.test", port);
        plan.link.local = Some(crate::net::route::LocalBind {
            host: Some("localhost".into()),
            port: 0,
            note: String::new(),
        });
        let before = LOCAL_LOOKUPS.with(std::cell::Cell::get);
        let mut dialer = Dialer::seeded(&plan, 1);
        let mut events = Vec::new();
        for want in ["127.0.0.2", "127.0.0.1"] {
            dialer.next(&mut |e| events.push(e)).await.unwrap();
            let Some(Event::Connected { peer, local, .. }) = events
                .iter()
                .rev()
                .find(|e| matches!(e, Event::Connected { .. }))
            else {
                panic!("no connection: {events:?}");
            };
            assert_eq!(peer, &format!("{want}:{port}"));
            assert!(local.starts_with("127.0.0.1:"), "{local}");
        }
        assert_eq!(LOCAL_LOOKUPS.with(std::cell::Cell::get) - before, 1);
    }

    /// Nothing connected to and every MX host failing in DNS: a DNS failure (exit 2, outcome
    /// `dns`); with several MX hosts the error names each one's failure.
    #[tokio::test]
    async fn every_host_failing_in_dns_is_a_dns_error() {
        let (dns, _h) = FakeDns::start(vec![
            ("two.test", RecordSpec::Mx(10, "nx1.two.test".into())),
            ("two.test", RecordSpec::Mx(20, "nx2.two.test".into())),
            ("nx1.two.test", RecordSpec::NxDomain),
            ("nx2.two.test", RecordSpec::NxDomain),
        ]);
        let plan = mx_plan(dns, "two.test", 9);
        let got = Dialer::new(&plan).next(&mut |_| {}).await;
        let err = got.err().expect("no host resolves");
        assert_eq!(
            err.to_string(),
            "two.test has no usable MX: nx1.two.test does not exist (NXDOMAIN); nx2.two.test \
             does not exist (NXDOMAIN)"
        );
        assert_eq!(err.label(), "dns");
        assert_eq!(err.exit_code(), 2);
    }

    /// An address literal of the family `-4`/`-6` leaves out (`ehlo repl [::1]:25 -4`,
    /// `:reconnect`): the reason names it, and the target is written `[::1]:25`.
    #[tokio::test]
    async fn a_literal_of_the_other_family_says_so() {
        for (host, family, want) in [
            ("::1", Family::V4, "::1 is an IPv6 address but -4 was given"),
            (
                "127.0.0.1",
                Family::V6,
                "127.0.0.1 is an IPv4 address but -6 was given",
            ),
        ] {
            let plan = Link {
                family,
                ..Link::default()
            }
            .to(Target::Host {
                host: host.into(),
                port: 25,
            });
            let got = Dialer::new(&plan).next(&mut |_| {}).await;
            let Err(Error::Connect { target, reason }) = &got else {
                panic!("{:?}", got.err());
            };
            assert_eq!(reason, want);
            assert!(
                target.ends_with(":25") && !target.starts_with("::"),
                "{target}"
            );
        }
    }

    /// The order of equal-preference hosts comes from the seed: the same seed, the same order;
    /// over seeds, both orders.
    #[tokio::test]
    async fn the_seed_orders_equal_preferences() {
        let (_one, _two, port) = two_listeners();
        let (dns, _h) = FakeDns::start(vec![
            ("eq.test", RecordSpec::Mx(10, "a.eq.test".into())),
            ("eq.test", RecordSpec::Mx(10, "b.eq.test".into())),
            ("a.eq.test", v4("127.0.0.1")),
            ("b.eq.test", v4("127.0.0.2")),
        ]);
        let plan = mx_plan(dns, "eq.test", port);
        let mut firsts = std::collections::BTreeSet::new();
        for seed in 0..16 {
            let mut hosts = Vec::new();
            for _ in 0..2 {
                let c = Dialer::seeded(&plan, seed).next(&mut |_| {}).await.unwrap();
                hosts.push(c.host);
            }
            assert_eq!(hosts[0], hosts[1], "seed {seed}");
            firsts.insert(hosts[0].clone());
        }
        assert_eq!(firsts.len(), 2, "{firsts:?}");
    }
}

#[cfg(test)]
mod alert_tests {
    use super::*;

    #[test]
    fn the_alert_wait_is_a_second_at_most_and_never_past_the_timeout() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        assert_eq!(alert_wait(Duration::ZERO, s(5)), s(1), "no timeout");
        assert_eq!(alert_wait(s(30), ms(10)), s(1));
        assert_eq!(alert_wait(s(1), ms(700)), ms(300));
        assert_eq!(alert_wait(s(1), ms(1500)), Duration::ZERO);
    }

    /// A TLS connection whose write broke while its read side stays open and silent (a
    /// `--pipe` command that closed its input only): the wait for an alert ends with what
    /// is left of the timeout, not a whole second later.
    #[tokio::test]
    async fn the_wait_for_an_alert_ends_with_the_timeout() {
        let (ours, _theirs) = tokio::io::duplex(64);
        let mut c = Connection {
            stream: Conn::Other(Box::new(ours)),
            host: "localhost".into(),
            server: "pipe:test".into(),
            tls: Some("TLSv1.3".into()),
            child: None,
            connected_at: Instant::now(),
            dane: None,
        };
        let t0 = Instant::now();
        let alert = c
            .alert_after_write_error(alert_wait(
                Duration::from_secs(1),
                Duration::from_millis(900),
            ))
            .await;
        let took = t0.elapsed();
        assert!(alert.is_none());
        assert!(took < Duration::from_millis(500), "{took:?}");
    }
}
