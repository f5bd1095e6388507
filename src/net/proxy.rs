//! HAProxy PROXY protocol headers (v1 text, v2 binary; haproxy.org proxy-protocol.txt §2.1,
//! §2.2) that the client session sends before anything else. Pure encoding.

use std::net::IpAddr;

/// Address family of a PROXY header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProxyFamily {
    /// TCP over IPv4.
    Tcp4,
    /// TCP over IPv6.
    Tcp6,
}

/// The addresses of a PROXY header (HAProxy PROXY protocol §2.1 / §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProxyAddrs {
    /// Family.
    pub(crate) family: ProxyFamily,
    /// Original client address.
    pub(crate) source: IpAddr,
    /// Original client port.
    pub(crate) source_port: u16,
    /// Address the client connected to.
    pub(crate) dest: IpAddr,
    /// Port the client connected to.
    pub(crate) dest_port: u16,
}

/// The v2 signature; the session that sends the header owns it.
pub(crate) use crate::smtp::client::PROXY_V2_SIGNATURE;

/// The v2 command (§2.2, the low nibble of the 13th byte): PROXY relays a client; LOCAL is a
/// connection the proxy made itself (health checks), whose addresses the receiver ignores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ProxyCommand {
    /// Relayed connection.
    #[default]
    Proxy,
    /// The proxy's own connection.
    Local,
}

/// The v2 transport protocol (§2.2, the low nibble of the 14th byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ProxyTransport {
    /// SOCK_STREAM (TCP).
    #[default]
    Stream,
    /// SOCK_DGRAM (UDP).
    Dgram,
}

/// Version 1 for a connection whose addresses are not known: `PROXY UNKNOWN\r\n` (§2.1).
pub(crate) fn v1_unknown() -> Vec<u8> {
    b"PROXY UNKNOWN\r\n".to_vec()
}

/// Version 2 with no address block (AF_UNSPEC, §2.2): `command` is usually LOCAL.
pub(crate) fn v2_unspec(command: ProxyCommand) -> Vec<u8> {
    let mut out = PROXY_V2_SIGNATURE.to_vec();
    out.push(0x20 | command_bits(command));
    out.extend_from_slice(&[0x00, 0, 0]);
    out
}

/// Version 2 for AF_UNIX (§2.2): the source and destination socket paths, each in a 108-byte
/// NUL-padded field. `Err` when a path does not fit.
pub(crate) fn v2_unix(
    command: ProxyCommand,
    transport: ProxyTransport,
    source: &str,
    dest: &str,
) -> Result<Vec<u8>, String> {
    const PATH: usize = 108;
    let mut out = PROXY_V2_SIGNATURE.to_vec();
    out.push(0x20 | command_bits(command));
    out.push(
        0x30 | match transport {
            ProxyTransport::Stream => 0x1,
            ProxyTransport::Dgram => 0x2,
        },
    );
    out.extend_from_slice(&((2 * PATH) as u16).to_be_bytes());
    for path in [source, dest] {
        if path.len() >= PATH || path.contains('\0') {
            return Err(format!(
                "'{}' is not a UNIX socket path of at most {} bytes",
                path.escape_debug(),
                PATH - 1
            ));
        }
        let mut field = [0u8; PATH];
        field[..path.len()].copy_from_slice(path.as_bytes());
        out.extend_from_slice(&field);
    }
    Ok(out)
}

fn command_bits(c: ProxyCommand) -> u8 {
    match c {
        ProxyCommand::Local => 0x0,
        ProxyCommand::Proxy => 0x1,
    }
}

impl ProxyAddrs {
    /// Check that both addresses belong to the family.
    pub(crate) fn check(&self) -> Result<(), String> {
        let ok = |ip: &IpAddr| match self.family {
            ProxyFamily::Tcp4 => ip.is_ipv4(),
            ProxyFamily::Tcp6 => ip.is_ipv6(),
        };
        if !ok(&self.source) || !ok(&self.dest) {
            let fam = match self.family {
                ProxyFamily::Tcp4 => "TCP4 (IPv4)",
                ProxyFamily::Tcp6 => "TCP6 (IPv6)",
            };
            return Err(format!(
                "source {} and destination {} must both be {fam} addresses",
                self.source, self.dest
            ));
        }
        Ok(())
    }

    /// Version 1, text: `PROXY TCP4 src dst sport dport\r\n` (§2.1).
    pub(crate) fn v1(&self) -> Vec<u8> {
        let fam = match self.family {
            ProxyFamily::Tcp4 => "TCP4",
            ProxyFamily::Tcp6 => "TCP6",
        };
        format!(
            "PROXY {fam} {} {} {} {}\r\n",
            self.source, self.dest, self.source_port, self.dest_port
        )
        .into_bytes()
    }

    /// Version 2, binary: signature, `0x21` (v2, PROXY), family/protocol, length, addresses
    /// (§2.2). No TLVs.
    #[cfg(test)]
    pub(crate) fn v2(&self) -> Vec<u8> {
        self.v2_with(ProxyCommand::Proxy, ProxyTransport::Stream)
    }

    /// Version 2 with a chosen command and transport protocol.
    pub(crate) fn v2_with(&self, command: ProxyCommand, transport: ProxyTransport) -> Vec<u8> {
        let mut out = PROXY_V2_SIGNATURE.to_vec();
        out.push(0x20 | command_bits(command));
        let proto = match transport {
            ProxyTransport::Stream => 0x1,
            ProxyTransport::Dgram => 0x2,
        };
        let mut addrs = Vec::new();
        match (self.source, self.dest) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                out.push(0x10 | proto);
                addrs.extend_from_slice(&s.octets());
                addrs.extend_from_slice(&d.octets());
            }
            (s, d) => {
                out.push(0x20 | proto);
                let v6 = |ip: IpAddr| match ip {
                    IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
                    IpAddr::V6(a) => a.octets(),
                };
                addrs.extend_from_slice(&v6(s));
                addrs.extend_from_slice(&v6(d));
            }
        }
        addrs.extend_from_slice(&self.source_port.to_be_bytes());
        addrs.extend_from_slice(&self.dest_port.to_be_bytes());
        out.extend_from_slice(&(addrs.len() as u16).to_be_bytes());
        out.extend_from_slice(&addrs);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_headers() {
        let p = ProxyAddrs {
            family: ProxyFamily::Tcp4,
            source: "192.0.2.1".parse().unwrap(),
            source_port: 5555,
            dest: "198.51.100.2".parse().unwrap(),
            dest_port: 25,
        };
        p.check().unwrap();
        assert_eq!(p.v1(), b"PROXY TCP4 192.0.2.1 198.51.100.2 5555 25\r\n");
        let v2 = p.v2();
        assert_eq!(&v2[..12], &PROXY_V2_SIGNATURE);
        assert_eq!(
            &v2[12..],
            &[
                0x21, 0x11, 0, 12, 192, 0, 2, 1, 198, 51, 100, 2, 0x15, 0xb3, 0, 25
            ]
        );
        let p6 = ProxyAddrs {
            family: ProxyFamily::Tcp6,
            source: "2001:db8::1".parse().unwrap(),
            source_port: 1,
            dest: "2001:db8::2".parse().unwrap(),
            dest_port: 2,
        };
        assert_eq!(p6.v2()[13], 0x21);
        assert_eq!(p6.v2().len(), 16 + 36);
        let bad = ProxyAddrs {
            family: ProxyFamily::Tcp4,
            ..p6
        };
        assert!(bad.check().is_err());
    }

    #[test]
    fn commands_transports_and_unknown_addresses() {
        let p = ProxyAddrs {
            family: ProxyFamily::Tcp4,
            source: "192.0.2.1".parse().unwrap(),
            source_port: 5555,
            dest: "198.51.100.2".parse().unwrap(),
            dest_port: 25,
        };
        let local_udp = p.v2_with(ProxyCommand::Local, ProxyTransport::Dgram);
        assert_eq!(&local_udp[12..14], &[0x20, 0x12]);
        assert_eq!(&local_udp[16..], &p.v2()[16..], "same address block");
        assert_eq!(v1_unknown(), b"PROXY UNKNOWN\r\n");
        let unspec = v2_unspec(ProxyCommand::Local);
        assert_eq!(&unspec[..12], &PROXY_V2_SIGNATURE);
        assert_eq!(&unspec[12..], &[0x20, 0x00, 0, 0]);
        assert_eq!(v2_unspec(ProxyCommand::Proxy)[12], 0x21);
    }

    #[test]
    fn v2_unix_paths() {
        let h = v2_unix(ProxyCommand::Proxy, ProxyTransport::Stream, "/a", "/run/b").unwrap();
        assert_eq!(&h[..12], &PROXY_V2_SIGNATURE);
        assert_eq!(h[12], 0x21);
        assert_eq!(h[13], 0x31);
        assert_eq!(u16::from_be_bytes([h[14], h[15]]), 216);
        assert_eq!(h.len(), 16 + 216);
        assert_eq!(&h[16..19], b"/a\0");
        assert_eq!(&h[124..130], b"/run/b");
        assert!(
            v2_unix(
                ProxyCommand::Proxy,
                ProxyTransport::Stream,
                &"x".repeat(108),
                "/b"
            )
            .is_err()
        );
    }
}
