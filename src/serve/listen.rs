//! Where `ehlo serve` listens: [`Listen`], an address and port or a host name and port as
//! written (parsed, never resolved, by the flag layer), and [`bind_all`], which resolves a name
//! to every address it has and binds each, on one port.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use tokio::net::TcpListener;

use crate::Error;

/// The forms a listen address takes, for its refusals.
pub(crate) const FORMS: &str = "expected ADDR:PORT, [IPv6]:PORT, [IPv6%ZONE]:PORT or HOST:PORT (127.0.0.1:2525, [::1]:2525, [fe80::1%eth0]:2525, localhost:2525)";

/// An address to listen on, as written: resolved only when the server binds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    /// An address and port (`127.0.0.1:2525`, `[::1]:0`).
    Addr(SocketAddr),
    /// A scoped IPv6 address and port (`[fe80::1%eth0]:2525`, RFC 4007 §11): the zone (an
    /// interface name or index, as written) is looked up when the server binds.
    Scoped {
        /// The address.
        ip: std::net::Ipv6Addr,
        /// The interface name or index, as written.
        zone: String,
        /// The port (0: a free one).
        port: u16,
    },
    /// A host name and port (`localhost:2525`): every address the name has is listened on.
    Host {
        /// The name, as written.
        host: String,
        /// The port (0: a free one, the same on every address).
        port: u16,
    },
}

impl From<SocketAddr> for Listen {
    fn from(a: SocketAddr) -> Listen {
        Listen::Addr(a)
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Addr(a) => write!(f, "{a}"),
            Listen::Scoped { ip, zone, port } => write!(f, "[{ip}%{zone}]:{port}"),
            Listen::Host { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

impl FromStr for Listen {
    /// Why `spec` is none of the forms (without the value: the caller quotes it).
    type Err = String;

    /// `ADDR:PORT`, `[IPv6]:PORT`, `[IPv6%ZONE]:PORT` or `HOST:PORT`; nothing is looked up.
    fn from_str(spec: &str) -> Result<Listen, String> {
        if let Ok(a) = spec.parse::<SocketAddr>() {
            return Ok(Listen::Addr(a));
        }
        // `[::1]`: bracketed as asked, only the port is missing (it was told to use brackets).
        if let Some(inner) = spec.strip_prefix('[').and_then(|h| h.strip_suffix(']'))
            && crate::net::route::ip_literal(inner).is_some()
        {
            return Err(format!(
                "the port is missing: {spec}:2525 (0 picks a free one)"
            ));
        }
        let Some((host, port)) = spec.rsplit_once(':') else {
            return Err(FORMS.to_string());
        };
        // `[fe80::1%eth0]:2525`: std's SocketAddr has no zone as written.
        let scoped = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .and_then(crate::net::route::ip_literal);
        if let Some((std::net::IpAddr::V6(ip), Some(zone))) = scoped {
            let Ok(port) = port.parse::<u16>() else {
                return Err(format!("the port is a number from 0 to 65535; {FORMS}"));
            };
            return Ok(Listen::Scoped {
                ip,
                zone: zone.to_string(),
                port,
            });
        }
        if host.contains(':') || host.starts_with('[') {
            return Err("an IPv6 address goes in brackets, [::1]:2525".to_string());
        }
        let Ok(port) = port.parse::<u16>() else {
            return Err(format!("the port is a number from 0 to 65535; {FORMS}"));
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(FORMS.to_string());
        }
        Ok(Listen::Host {
            host: host.to_string(),
            port,
        })
    }
}

impl Listen {
    /// A bound address as shown: a scoped one with its zone as written (`[fe80::1%eth0]:2525`,
    /// not the index std shows), any other as std shows it.
    pub(crate) fn show(&self, bound: SocketAddr) -> String {
        match (self, bound) {
            (Listen::Scoped { ip, zone, .. }, SocketAddr::V6(a)) if a.ip() == ip => {
                format!("[{ip}%{zone}]:{}", a.port())
            }
            _ => bound.to_string(),
        }
    }

    /// Every address to listen on, the first one first, each once: an address is itself;
    /// `localhost` is both loopbacks, 127.0.0.1 then ::1 (RFC 6761 §6.3, as `--server
    /// localhost` and `--local-interface localhost` take it), whatever the hosts file lists
    /// (many list only 127.0.0.1, which left a client of ::1 refused); another name is looked
    /// up by the system's resolver (getaddrinfo, the hosts file too). A name that does not
    /// resolve cannot be listened on (exit 2, as for an address that cannot be bound).
    async fn addresses(&self) -> Result<Vec<SocketAddr>, Error> {
        let (host, port) = match self {
            Listen::Addr(a) => return Ok(vec![*a]),
            Listen::Scoped { ip, zone, port } => {
                let id = crate::net::conn::scope_id(zone).map_err(|reason| Error::Listen {
                    addr: self.to_string(),
                    reason,
                })?;
                return Ok(vec![SocketAddr::V6(std::net::SocketAddrV6::new(
                    *ip, *port, 0, id,
                ))]);
            }
            Listen::Host { host, port } if crate::net::dns::is_localhost(host) => {
                return Ok(vec![
                    SocketAddr::new(Ipv4Addr::LOCALHOST.into(), *port),
                    SocketAddr::new(Ipv6Addr::LOCALHOST.into(), *port),
                ]);
            }
            Listen::Host { host, port } => (host.as_str(), *port),
        };
        let unresolved = |reason: String| Error::Listen {
            addr: self.to_string(),
            reason,
        };
        let found = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| unresolved(format!("{host} does not resolve ({e}); {FORMS}")))?;
        let mut addrs: Vec<SocketAddr> = Vec::new();
        for a in found {
            if !addrs.contains(&a) {
                addrs.push(a);
            }
        }
        if addrs.is_empty() {
            return Err(unresolved(format!("{host} has no address; {FORMS}")));
        }
        Ok(addrs)
    }
}

/// Resolve `listen` and bind every address, each with its bound address (the real port when
/// 0 was asked for); never empty. With port 0 every address after the first takes the port the
/// first got, so one name reaches one server.
pub(crate) async fn bind_all(listen: &Listen) -> Result<Vec<(TcpListener, SocketAddr)>, Error> {
    let addrs = listen.addresses().await?;
    bind_addrs(listen, &addrs, 0).await
}

/// How many times a free port is picked again when the one the first address got is taken on
/// a later address.
const FREE_PORT_TRIES: usize = 16;

/// Bind `addrs` (see [`bind_all`]). A free port is free on the first address only: when port 0
/// was asked for and a later address has the port the first one got in use by another
/// program, everything is let go and a new free port is picked (up to [`FREE_PORT_TRIES`]
/// times) — a port that was free when asked for is no reason to refuse to start. `first_try`
/// is the port the first address asks for on the first try when 0 was written (0 outside
/// tests, which use it to hand the first try a port they hold on a later address).
async fn bind_addrs(
    listen: &Listen,
    addrs: &[SocketAddr],
    first_try: u16,
) -> Result<Vec<(TcpListener, SocketAddr)>, Error> {
    let mut tries = 0;
    loop {
        tries += 1;
        let mut bound: Vec<(TcpListener, SocketAddr)> = Vec::with_capacity(addrs.len());
        let mut failed = None;
        for &a in addrs {
            // `set_port`, not `SocketAddr::new`: a scoped IPv6 address keeps its zone.
            let mut a = a;
            match bound.first() {
                Some((_, first)) if a.port() == 0 => a.set_port(first.port()),
                None if a.port() == 0 && tries == 1 => a.set_port(first_try),
                _ => {}
            }
            match bind_one(a).and_then(|l| {
                let at = l.local_addr()?;
                Ok((l, at))
            }) {
                Ok(b) => bound.push(b),
                // `localhost`'s ::1 on a system without IPv6: its 127.0.0.1 is enough.
                Err(e) if !bound.is_empty() && no_ipv6_loopback(listen, a, &e) => {}
                Err(e) => {
                    failed = Some((a, e, !bound.is_empty()));
                    break;
                }
            }
        }
        let Some((a, e, later)) = failed else {
            return Ok(bound);
        };
        let taken_later = later
            && addrs.get(bound.len()).is_some_and(|w| w.port() == 0)
            && e.kind() == std::io::ErrorKind::AddrInUse;
        if !(taken_later && tries < FREE_PORT_TRIES) {
            return Err(listen_error(listen, a, &e));
        }
    }
}

/// Connections waiting to be accepted, as tokio's (mio's) `TcpListener::bind` sets it.
const BACKLOG: u32 = 1024;

/// Listen on `a` as `TcpListener::bind` does (`SO_REUSEADDR`, [`BACKLOG`]), with `TCP_NODELAY`
/// set on the listener: Linux gives it to every connection accepted from it, so
/// no connection needs its own `setsockopt(2)` (one of about 19 system calls of a short
/// session). Every reply is written whole, and at once: Nagle's algorithm would only hold the
/// second write of a pipelined group's replies until the client's delayed ACK.
fn bind_one(a: SocketAddr) -> std::io::Result<TcpListener> {
    let s = if a.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    s.set_reuseaddr(true)?;
    s.set_nodelay(true)?;
    s.bind(a)?;
    s.listen(BACKLOG)
}

/// `localhost`'s ::1 cannot be bound because this system has no IPv6 (disabled, or no ::1 on
/// its loopback interface): not a reason to refuse `localhost` when 127.0.0.1 could be bound.
/// A ::1 in use or refused stays an error.
fn no_ipv6_loopback(listen: &Listen, addr: SocketAddr, e: &std::io::Error) -> bool {
    /// EAFNOSUPPORT (Linux, the BSDs and macOS number it differently; its kind is not stable).
    const NO_FAMILY: [i32; 2] = [97, 47];
    matches!(listen, Listen::Host { host, .. } if crate::net::dns::is_localhost(host))
        && addr.ip() == Ipv6Addr::LOCALHOST
        && (e.kind() == std::io::ErrorKind::AddrNotAvailable
            || e.raw_os_error().is_some_and(|c| NO_FAMILY.contains(&c)))
}

/// "cannot listen on ADDR: address in use", with what to do about it.
fn listen_error(listen: &Listen, addr: SocketAddr, e: &std::io::Error) -> Error {
    use std::io::ErrorKind;
    let reason = match e.kind() {
        ErrorKind::AddrInUse => {
            "address in use (another server listens there; --listen 127.0.0.1:0 picks a free port)"
                .to_string()
        }
        ErrorKind::PermissionDenied => format!(
            "permission denied{}",
            if addr.port() < 1024 {
                " (ports below 1024 need privileges; --listen 127.0.0.1:0 picks a free port)"
            } else {
                ""
            }
        ),
        ErrorKind::AddrNotAvailable => {
            "address not available (no interface of this machine has it)".to_string()
        }
        _ => e.to_string(),
    };
    Error::Listen {
        addr: listen.show(addr),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::{FORMS, Listen, bind_addrs, bind_all, no_ipv6_loopback};
    use std::net::SocketAddr;

    /// The forms as written: an address stays an address, a name stays a name with its port
    /// (nothing looked up), and each malformed value gets its reason.
    #[test]
    fn listen_addresses_parse_without_lookup() {
        let a: SocketAddr = "[::1]:2525".parse().unwrap();
        assert_eq!("[::1]:2525".parse::<Listen>(), Ok(Listen::Addr(a)));
        assert_eq!(
            "no-such-host.invalid:0".parse::<Listen>(),
            Ok(Listen::Host {
                host: "no-such-host.invalid".into(),
                port: 0
            })
        );
        assert_eq!(
            "mail.test:25".parse::<Listen>().unwrap().to_string(),
            "mail.test:25"
        );
        // A scoped IPv6 address keeps its zone as written (RFC 4007 §11); looked up when bound.
        assert_eq!(
            "[fe80::1%eth0]:2525".parse::<Listen>(),
            Ok(Listen::Scoped {
                ip: "fe80::1".parse().unwrap(),
                zone: "eth0".into(),
                port: 2525
            })
        );
        assert_eq!(
            "[fe80::1%2]:0".parse::<Listen>().unwrap().to_string(),
            "[fe80::1%2]:0"
        );
        for (spec, why) in [
            ("localhost", FORMS.to_string()),
            (
                "[::1]",
                "the port is missing: [::1]:2525 (0 picks a free one)".into(),
            ),
            (
                "[fe80::1%eth0]",
                "the port is missing: [fe80::1%eth0]:2525 (0 picks a free one)".into(),
            ),
            (":25", FORMS.to_string()),
            ("a b:25", FORMS.to_string()),
            (
                "::1:25",
                "an IPv6 address goes in brackets, [::1]:2525".into(),
            ),
            (
                "[::1:25",
                "an IPv6 address goes in brackets, [::1]:2525".into(),
            ),
            (
                "[fe80::1%eth0]:65536",
                format!("the port is a number from 0 to 65535; {FORMS}"),
            ),
            (
                "fe80::1%eth0:25",
                "an IPv6 address goes in brackets, [::1]:2525".into(),
            ),
            (
                "localhost:65536",
                format!("the port is a number from 0 to 65535; {FORMS}"),
            ),
        ] {
            assert_eq!(spec.parse::<Listen>(), Err(why), "{spec}");
        }
    }

    /// `localhost`'s ::1 that this system cannot have (no IPv6) is left out, not an error;
    /// another name's ::1, or a ::1 in use, stays one.
    #[test]
    fn a_localhost_without_ipv6_is_its_ipv4_loopback() {
        let v6: SocketAddr = "[::1]:2525".parse().unwrap();
        let local: Listen = "localhost:2525".parse().unwrap();
        let unavailable = std::io::Error::from(std::io::ErrorKind::AddrNotAvailable);
        let no_family = std::io::Error::from_raw_os_error(97);
        let in_use = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        assert!(no_ipv6_loopback(&local, v6, &unavailable));
        assert!(cfg!(not(target_os = "linux")) || no_ipv6_loopback(&local, v6, &no_family));
        assert!(!no_ipv6_loopback(&local, v6, &in_use));
        let other: Listen = "mail.test:2525".parse().unwrap();
        assert!(!no_ipv6_loopback(&other, v6, &unavailable));
        let v4: SocketAddr = "127.0.0.1:2525".parse().unwrap();
        assert!(!no_ipv6_loopback(&local, v4, &unavailable));
    }

    /// A name is resolved when bound, on one port for all its addresses; one that does not
    /// resolve is the listen error naming it.
    #[tokio::test]
    async fn a_name_is_resolved_when_bound() {
        let bound = bind_all(&"localhost:0".parse().unwrap()).await.unwrap();
        assert!(!bound.is_empty());
        // `localhost` is both loopbacks (RFC 6761 §6.3) whatever the hosts file lists (this
        // machine's, like many containers', lists only 127.0.0.1, and ::1 was not listened on).
        let ips: Vec<_> = bound.iter().map(|(_, a)| a.ip().to_string()).collect();
        assert_eq!(ips, ["127.0.0.1", "::1"], "{bound:?}");
        let port = bound[0].1.port();
        assert_ne!(port, 0);
        for (_, a) in &bound {
            assert!(a.ip().is_loopback(), "{a}");
            assert_eq!(a.port(), port, "{bound:?}");
        }
        let e = bind_all(&"no-such-host.invalid:0".parse().unwrap())
            .await
            .unwrap_err();
        assert!(matches!(e, crate::Error::Listen { .. }), "{e:?}");
        let said = e.to_string();
        assert!(
            said.starts_with(
                "cannot listen on no-such-host.invalid:0: no-such-host.invalid does not resolve ("
            ),
            "{said}"
        );
    }
    /// Port 0 on several addresses: when the port the first address got is taken on a later
    /// one (by another program), a new free port is picked for all of them instead of
    /// refusing to start — the first try here is handed a port held on the second address.
    #[tokio::test]
    async fn a_free_port_taken_on_a_later_address_is_picked_again() {
        let held = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
        let taken = held.local_addr().unwrap().port();
        let addrs: Vec<SocketAddr> = vec![
            "127.0.0.1:0".parse().unwrap(),
            "127.0.0.2:0".parse().unwrap(),
        ];
        let listen: Listen = "two.test:0".parse().unwrap();
        let bound = bind_addrs(&listen, &addrs, taken).await.unwrap();
        assert_eq!(bound.len(), 2, "{bound:?}");
        let port = bound[0].1.port();
        assert_ne!(port, taken, "{bound:?}");
        assert_eq!(
            bound[1].1,
            SocketAddr::new(addrs[1].ip(), port),
            "{bound:?}"
        );
        // A port written out is not picked again: taken is taken.
        let written: Vec<SocketAddr> = vec![
            "127.0.0.1:0".parse().unwrap(),
            SocketAddr::new(addrs[1].ip(), taken),
        ];
        let e = bind_addrs(&listen, &written, 0).await.unwrap_err();
        assert!(e.to_string().contains("address in use"), "{e}");
        drop(held);
    }

    /// A connection accepted from a bound listener has TCP_NODELAY without a call of its own
    /// (Linux copies it from the listener): every reply goes out when written.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn an_accepted_connection_has_tcp_nodelay_from_its_listener() {
        let bound = bind_all(&"127.0.0.1:0".parse().unwrap()).await.unwrap();
        let (listener, at) = &bound[0];
        let client = tokio::net::TcpStream::connect(at).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        assert!(accepted.nodelay().unwrap());
        drop(client);
    }
}
