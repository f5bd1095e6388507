//! The HAProxy PROXY protocol header a server behind a proxy reads before anything else (v1
//! text, v2 binary; haproxy.org proxy-protocol.txt §2.1, §2.2): a sans-IO reader that says how
//! many more bytes surely belong to the header, so the driver never reads past it (what follows
//! may be a TLS ClientHello), and what the header says.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The 12 bytes every v2 header starts with (§2.2); the client side sends the same.
pub(crate) use crate::smtp::client::PROXY_V2_SIGNATURE as V2_SIGNATURE;
/// A v1 header's longest line, CRLF included (§2.1: 107 octets).
const V1_MAX: usize = 107;
/// A v2 header's fixed part: signature, version/command, family/transport, length.
const V2_FIXED: usize = 16;

/// What a PROXY header carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProxyHeader {
    /// 1 or 2.
    pub(crate) version: u8,
    /// The relayed client and the address it connected to; `None` for v1 `UNKNOWN`, v2 `LOCAL`
    /// (the proxy's own connection, a health check) or an address family without ports
    /// (AF_UNSPEC, AF_UNIX): the receiver then uses the connection's own addresses (§2.1, §2.2).
    pub(crate) addrs: Option<(SocketAddr, SocketAddr)>,
}

/// Where reading a header stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// At least this many more bytes belong to the header: read exactly that many.
    Need(usize),
    /// The header is complete (all the bytes read), and says this.
    Done(ProxyHeader),
    /// Not a valid header: why, in words.
    Bad(String),
}

/// Which header `start` (the first bytes of a connection) begins, if any: `Some(1)` / `Some(2)`,
/// `None` for something else, and `Some(0)` while the bytes are too few to tell (a strict
/// prefix of the v2 signature).
pub(crate) fn sniff(start: &[u8]) -> Option<u8> {
    if start.starts_with(b"PROXY ") {
        Some(1)
    } else if start.starts_with(&V2_SIGNATURE) {
        Some(2)
    } else if !start.is_empty() && V2_SIGNATURE.starts_with(start) {
        Some(0)
    } else {
        None
    }
}

/// Whether `start` is too short to tell: a non-empty strict prefix of `PROXY ` (v1) or of the
/// v2 signature, as a proxy's first write of its header may be (a header sent in two writes).
pub(crate) fn too_short_to_tell(start: &[u8]) -> bool {
    !start.is_empty()
        && ((start.len() < 6 && b"PROXY ".starts_with(start))
            || (start.len() < V2_SIGNATURE.len() && V2_SIGNATURE.starts_with(start)))
}

/// The header in `buf` (all the bytes read so far, nothing past the header).
pub(crate) fn step(buf: &[u8]) -> Step {
    const V1: &[u8] = b"PROXY ";
    if buf.len() < V1.len() && V1.starts_with(buf) {
        return Step::Need(V1.len() - buf.len());
    }
    if buf.len() < V2_SIGNATURE.len() && V2_SIGNATURE.starts_with(buf) {
        return Step::Need(V2_SIGNATURE.len() - buf.len());
    }
    if buf.starts_with(V1) {
        return v1(buf);
    }
    if buf.starts_with(&V2_SIGNATURE) {
        return v2(buf);
    }
    Step::Bad(format!(
        "not a PROXY protocol header: it starts {}",
        buf[..buf.len().min(16)].escape_ascii()
    ))
}

fn v1(buf: &[u8]) -> Step {
    let Some(lf) = memchr::memchr(b'\n', buf) else {
        if buf.len() >= V1_MAX {
            return Step::Bad(format!(
                "PROXY v1 header without its CRLF in {V1_MAX} octets"
            ));
        }
        return Step::Need(1);
    };
    let Some(line) = buf[..lf].strip_suffix(b"\r") else {
        return Step::Bad("PROXY v1 header ends in a bare LF, not CRLF".into());
    };
    let Ok(line) = std::str::from_utf8(line) else {
        return Step::Bad("PROXY v1 header is not ASCII".into());
    };
    let words: Vec<&str> = line.split(' ').collect();
    let bad = |why: &str| Step::Bad(format!("PROXY v1 header `{}`: {why}", line.escape_debug()));
    match words.get(1).copied() {
        Some("UNKNOWN") => Step::Done(ProxyHeader {
            version: 1,
            addrs: None,
        }),
        Some(fam @ ("TCP4" | "TCP6")) => {
            if words.len() != 6 {
                return bad("expected PROXY TCP4|TCP6 SOURCE DEST SPORT DPORT");
            }
            let ip = |s: &str| -> Option<IpAddr> {
                if fam == "TCP4" {
                    s.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
                } else {
                    s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
                }
            };
            // §2.1: a port is 1 to 5 digits, no leading zero, at most 65535.
            let port = |s: &str| -> Option<u16> {
                let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                (digits && (s == "0" || !s.starts_with('0')))
                    .then(|| s.parse().ok())
                    .flatten()
            };
            match (ip(words[2]), ip(words[3]), port(words[4]), port(words[5])) {
                (Some(s), Some(d), Some(sp), Some(dp)) => Step::Done(ProxyHeader {
                    version: 1,
                    addrs: Some((SocketAddr::new(s, sp), SocketAddr::new(d, dp))),
                }),
                (None, ..) | (_, None, ..) => bad(&format!("an address is not {fam}")),
                _ => bad("a port is not a number from 0 to 65535"),
            }
        }
        _ => bad("the protocol is not TCP4, TCP6 or UNKNOWN"),
    }
}

fn v2(buf: &[u8]) -> Step {
    if buf.len() < V2_FIXED {
        return Step::Need(V2_FIXED - buf.len());
    }
    let (ver_cmd, fam, len) = (
        buf[12],
        buf[13],
        usize::from(u16::from_be_bytes([buf[14], buf[15]])),
    );
    if ver_cmd >> 4 != 2 {
        return Step::Bad(format!(
            "PROXY v2 header of version {} (only 2 exists)",
            ver_cmd >> 4
        ));
    }
    let local = match ver_cmd & 0x0F {
        0 => true,
        1 => false,
        c => {
            return Step::Bad(format!(
                "PROXY v2 header with command {c} (0 LOCAL, 1 PROXY)"
            ));
        }
    };
    if buf.len() < V2_FIXED + len {
        return Step::Need(V2_FIXED + len - buf.len());
    }
    let body = &buf[V2_FIXED..];
    let port = |i: usize| u16::from_be_bytes([body[i], body[i + 1]]);
    // §2.2: the address block by family (high nibble: 1 INET, 2 INET6), TLVs after it.
    let addrs = match fam >> 4 {
        1 if body.len() >= 12 => {
            let ip = |i: usize| IpAddr::from([body[i], body[i + 1], body[i + 2], body[i + 3]]);
            Some((
                SocketAddr::new(ip(0), port(8)),
                SocketAddr::new(ip(4), port(10)),
            ))
        }
        2 if body.len() >= 36 => {
            let ip = |i: usize| {
                let mut o = [0u8; 16];
                o.copy_from_slice(&body[i..i + 16]);
                IpAddr::from(o)
            };
            Some((
                SocketAddr::new(ip(0), port(32)),
                SocketAddr::new(ip(16), port(34)),
            ))
        }
        1 | 2 => {
            return Step::Bad(format!(
                "PROXY v2 header: an address block of {len} octets is too short for its family"
            ));
        }
        0 | 3 => None,
        f => return Step::Bad(format!("PROXY v2 header with address family {f}")),
    };
    // §2.2.7: TLVs fill the rest of the block after the addresses, and one that claims past its
    // end makes the header invalid (HAProxy refuses it). Under LOCAL the block is discarded
    // unread (§2.2), and AF_UNSPEC gives no address length to find the TLVs from.
    let block = match fam >> 4 {
        1 => Some(12),
        2 => Some(36),
        3 => Some(216),
        _ => None,
    };
    if let Some(start) = block.filter(|&b| !local && b <= len)
        && let Err(why) = tlvs(&body[start..len])
    {
        return Step::Bad(format!("PROXY v2 header: {why}"));
    }
    Step::Done(ProxyHeader {
        version: 2,
        addrs: if local { None } else { addrs },
    })
}

/// Walk a v2 header's TLV area (§2.2.7: type, 2-octet big-endian length, value), which must end
/// exactly at the header's end.
fn tlvs(mut area: &[u8]) -> Result<(), String> {
    while !area.is_empty() {
        let [kind, hi, lo, ref rest @ ..] = *area else {
            return Err(format!(
                "a TLV cut inside its type and length ({} octets left in the header)",
                area.len()
            ));
        };
        let n = usize::from(u16::from_be_bytes([hi, lo]));
        if n > rest.len() {
            return Err(format!(
                "a TLV of type 0x{kind:02x} claims {n} octets past the header's end ({} left)",
                rest.len()
            ));
        }
        area = &rest[n..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `bytes` as a driver would: exactly as many as asked each time.
    fn read(bytes: &[u8]) -> (Step, usize) {
        let mut buf = Vec::new();
        loop {
            match step(&buf) {
                Step::Need(n) => {
                    let end = (buf.len() + n).min(bytes.len());
                    if end == buf.len() {
                        return (Step::Need(n), buf.len());
                    }
                    buf.extend_from_slice(&bytes[buf.len()..end]);
                }
                done => return (done, buf.len()),
            }
        }
    }

    #[test]
    fn v1_and_v2_headers_are_read_to_their_last_byte_and_no_further() {
        let v1 = b"PROXY TCP4 192.0.2.7 192.0.2.1 5555 25\r\nEHLO x\r\n";
        let (s, used) = read(v1);
        assert_eq!(used, v1.len() - 8);
        assert_eq!(
            s,
            Step::Done(ProxyHeader {
                version: 1,
                addrs: Some((
                    "192.0.2.7:5555".parse().unwrap(),
                    "192.0.2.1:25".parse().unwrap()
                )),
            })
        );
        let v6 = b"PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n";
        let (s, _) = read(v6);
        assert!(
            matches!(&s, Step::Done(h) if h.addrs.unwrap().0 == "[2001:db8::7]:65535".parse().unwrap()),
            "{s:?}"
        );
        assert_eq!(
            read(b"PROXY UNKNOWN whatever\r\n").0,
            Step::Done(ProxyHeader {
                version: 1,
                addrs: None
            })
        );
        // The client side's own encoder, v2 with a TLV-free INET block, then a ClientHello byte.
        let mut v2 = V2_SIGNATURE.to_vec();
        v2.extend_from_slice(&[
            0x21, 0x11, 0, 12, 192, 0, 2, 7, 192, 0, 2, 1, 0x15, 0xb3, 0, 25,
        ]);
        v2.push(0x16);
        let (s, used) = read(&v2);
        assert_eq!(used, v2.len() - 1);
        assert_eq!(
            s,
            Step::Done(ProxyHeader {
                version: 2,
                addrs: Some((
                    "192.0.2.7:5555".parse().unwrap(),
                    "192.0.2.1:25".parse().unwrap()
                )),
            })
        );
        // LOCAL: the connection's own addresses.
        let mut local = V2_SIGNATURE.to_vec();
        local.extend_from_slice(&[0x20, 0x00, 0, 0]);
        assert_eq!(
            read(&local).0,
            Step::Done(ProxyHeader {
                version: 2,
                addrs: None
            })
        );
    }

    #[test]
    fn malformed_headers_are_refused_with_a_reason_and_bounded() {
        for (input, why) in [
            (&b"EHLO x\r\n"[..], "not a PROXY protocol header"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "bare LF"),
            (b"PROXY TCP4 1.2.3.4 ::1 1 2\r\n", "not TCP4"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "0 to 65535"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 025 2\r\n", "0 to 65535"),
            (b"PROXY TCP4 1.2.3.4\r\n", "expected PROXY"),
            (
                b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
                "not TCP4, TCP6 or UNKNOWN",
            ),
            (b"\r\n\r\n\0\r\nQUIT\n\x31\x11\0\x0c", "version 3"),
            (b"\r\n\r\n\0\r\nQUIT\n\x22\x11\0\x0c", "command 2"),
            (b"\r\n\r\n\0\r\nQUIT\n\x21\x11\0\x04abcd", "too short"),
        ] {
            match read(input).0 {
                Step::Bad(r) => assert!(r.contains(why), "{r} / {why}"),
                s => panic!("{input:?}: {s:?}"),
            }
        }
        // No LF within 107 octets: refused there, not read on.
        let long = [b"PROXY TCP4 ".as_slice(), &[b'1'; 200]].concat();
        let (s, used) = read(&long);
        assert!(matches!(s, Step::Bad(ref r) if r.contains("107")), "{s:?}");
        assert_eq!(used, 107);
    }

    /// §2.2.7: a TLV's length that reaches past the header's end (the length in the fixed
    /// part) makes the header invalid; so does a TLV cut inside its own 3-octet type and length.
    #[test]
    fn a_tlv_claiming_past_the_header_end_is_refused() {
        let inet = |tlvs: &[u8]| {
            let mut h = V2_SIGNATURE.to_vec();
            let len = u16::try_from(12 + tlvs.len()).unwrap();
            h.extend_from_slice(&[0x21, 0x11]);
            h.extend_from_slice(&len.to_be_bytes());
            h.extend_from_slice(&[192, 0, 2, 7, 192, 0, 2, 1, 0x15, 0xb3, 0, 25]);
            h.extend_from_slice(tlvs);
            h
        };
        // PP2_TYPE_AUTHORITY (0x02) claiming 200 octets, 3 given; then a TLV header cut short.
        for (tlvs, why) in [
            (
                &[0x02, 0, 200, b'a', b'b', b'c'][..],
                "TLV of type 0x02 claims 200 octets",
            ),
            (
                &[0x04, 0, 0, 0x02, 0][..],
                "a TLV cut inside its type and length",
            ),
        ] {
            match read(&inet(tlvs)).0 {
                Step::Bad(r) => assert!(r.contains(why), "{r} / {why}"),
                s => panic!("{tlvs:?}: {s:?}"),
            }
        }
        // Well-formed TLVs (AUTHORITY, then NOOP padding of length 0) are read and passed over.
        let ok = inet(&[0x02, 0, 3, b'a', b'b', b'c', 0x04, 0, 0]);
        assert!(matches!(
            read(&ok).0,
            Step::Done(ProxyHeader {
                version: 2,
                addrs: Some(_)
            })
        ));
        // IPv6's block is 36 octets: a TLV after it is judged from there.
        let mut v6 = V2_SIGNATURE.to_vec();
        v6.extend_from_slice(&[0x21, 0x21, 0, 36 + 4]);
        v6.extend_from_slice(&[0; 36]);
        v6.extend_from_slice(&[0x01, 0, 9, b'h']);
        assert!(matches!(read(&v6).0, Step::Bad(ref r) if r.contains("claims 9 octets")));
        // LOCAL: the block is discarded whatever it holds (§2.2), as the receiver must.
        let mut local = V2_SIGNATURE.to_vec();
        local.extend_from_slice(&[0x20, 0x11, 0, 15]);
        local.extend_from_slice(&[0; 12]);
        local.extend_from_slice(&[0x02, 0, 99]);
        assert!(matches!(
            read(&local).0,
            Step::Done(ProxyHeader { addrs: None, .. })
        ));
    }

    #[test]
    fn sniffing_tells_a_header_from_a_command() {
        assert_eq!(sniff(b"PROXY TCP4 "), Some(1));
        assert_eq!(sniff(&V2_SIGNATURE), Some(2));
        assert_eq!(sniff(b"\r\n\r\n"), Some(0));
        assert_eq!(sniff(b"EHLO x\r\n"), None);
        assert_eq!(sniff(b"PROXYX"), None);
        for short in [&b"P"[..], b"PRO", b"PROXY", b"\r\n\r\n\0"] {
            assert!(too_short_to_tell(short), "{}", short.escape_ascii());
        }
        for told in [&b""[..], b"PROXY ", b"PRX", b"E", &V2_SIGNATURE] {
            assert!(!too_short_to_tell(told), "{}", told.escape_ascii());
        }
    }
}
