//! Opening the TCP transport: one attempt per address under a connect timeout, an optional local
//! bind address (`--local-interface`), typed failures.

use std::net::SocketAddr;
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
