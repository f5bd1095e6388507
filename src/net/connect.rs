//! Opening the TCP transport: one attempt per address under a connect timeout, an optional local
//! bind address (`--local-interface`, `--local-port`; a name is resolved here), typed failures.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};

/// Connect to `addr`, binding to `local` first if given, giving up after `timeout` (zero = no
/// limit). The error is a one-line reason.
pub async fn tcp(
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

/// Where to bind before connecting: `--local-interface HOST[:PORT]` and `--local-port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalBind {
    /// An IP address or a host name; `None` = any address (only a port was asked for).
    pub host: Option<String>,
    /// Source port; 0 lets the system choose.
    pub port: u16,
}

/// The local address to bind for a connection to `peer`: the bind host's address of the same
/// IP family (a name is resolved with the system resolver, as swaks does), or the unspecified
/// address of that family when only a port was given.
pub async fn local_for(bind: &LocalBind, peer: SocketAddr) -> Result<SocketAddr, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
