//! Test fixtures shared by unit and integration tests: an in-process fake DNS server answering
//! from a small table. Not part of the supported API (`#[doc(hidden)]`).
//!
//! The server runs on its own OS thread with a blocking socket, not as a tokio task, so it keeps
//! answering while a test blocks on a subprocess (`ehlo --dns-server 127.0.0.1:PORT`) or runs a
//! current-thread runtime.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::thread::JoinHandle;

use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, MX, PTR, TXT};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};

/// What the fake server knows about one name. A name can have several entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordSpec {
    /// `MX preference exchange`; exchange `"."` is the RFC 7505 null MX.
    Mx(u16, String),
    /// An A record.
    A(Ipv4Addr),
    /// An AAAA record.
    Aaaa(Ipv6Addr),
    /// A TXT record (one string).
    Txt(String),
    /// A TXT record made of several strings (joined by readers, RFC 7208 §3.3).
    TxtParts(Vec<String>),
    /// A PTR record (for `d.c.b.a.in-addr.arpa` names; see [`reverse_name`]).
    Ptr(String),
    /// A CNAME: queries of other types follow it within the table (RFC 1034 §3.6.2).
    Cname(String),
    /// Answer NXDOMAIN for this name (names absent from the table get NXDOMAIN too).
    NxDomain,
    /// Answer SERVFAIL for this name.
    ServFail,
}

/// The fake DNS server.
pub struct FakeDns;

impl FakeDns {
    /// Serve `records` over UDP on 127.0.0.1 (a free port) until the process exits. Names match
    /// case-insensitively, with or without the trailing dot. A name present with no record of the
    /// asked type gets an empty NOERROR answer (what makes hickory report "no records").
    ///
    /// Panics if no loopback UDP port can be bound: it is a test fixture.
    pub fn start(records: Vec<(&str, RecordSpec)>) -> (SocketAddr, JoinHandle<()>) {
        let mut table: Table = HashMap::new();
        for (n, r) in records {
            table.entry(normalise(n)).or_default().push(r);
        }
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind fake DNS socket");
        let addr = sock.local_addr().expect("fake DNS local addr");
        let handle = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                    // ICMP errors from a vanished client surface here on some systems; go on.
                    continue;
                };
                if let Some(reply) = answer(&table, &buf[..n]) {
                    let _ = sock.send_to(&reply, peer);
                }
            }
        });
        (addr, handle)
    }
}

fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Name → its entries (a map, so thousands of test domains answer at full speed).
type Table = HashMap<String, Vec<RecordSpec>>;

/// The PTR owner name of `ip` (`4.3.2.1.in-addr.arpa`, nibbles under `ip6.arpa`).
pub fn reverse_name(ip: IpAddr) -> String {
    Name::from(ip).to_ascii().trim_end_matches('.').to_string()
}

fn abs_name(host: &str) -> Option<Name> {
    Name::from_ascii(format!("{}.", host.trim_end_matches('.'))).ok()
}

/// Build the reply to one query datagram; `None` for undecodable input (a real server would send
/// FORMERR, but the resolver never sends garbage).
fn answer(table: &Table, datagram: &[u8]) -> Option<Vec<u8>> {
    let query = Message::from_vec(datagram).ok()?;
    if query.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
    reply.metadata.authoritative = true;
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.edns = query.edns.clone();
    let q = query.queries.first()?.clone();
    reply.add_query(q.clone());

    let mut owner = q.name.clone();
    let mut qname = normalise(&q.name.to_ascii());
    // Follow CNAMEs inside the table (a bounded number of hops, so a loop cannot hang the fixture).
    for _ in 0..8 {
        let specs: &[RecordSpec] = table.get(&qname).map(Vec::as_slice).unwrap_or(&[]);
        if specs.is_empty() || specs.contains(&RecordSpec::NxDomain) {
            reply.metadata.response_code = ResponseCode::NXDomain;
            break;
        }
        if specs.contains(&RecordSpec::ServFail) {
            reply.metadata.response_code = ResponseCode::ServFail;
            break;
        }
        if q.query_type != RecordType::CNAME
            && let Some(RecordSpec::Cname(target)) =
                specs.iter().find(|s| matches!(s, RecordSpec::Cname(_)))
        {
            let target_name = abs_name(target)?;
            reply.add_answer(Record::from_rdata(
                owner.clone(),
                60,
                RData::CNAME(CNAME(target_name.clone())),
            ));
            owner = target_name;
            qname = normalise(target);
            continue;
        }
        for spec in specs {
            let data = match (spec, q.query_type) {
                (RecordSpec::Mx(pref, host), RecordType::MX) => {
                    let exchange = if host == "." {
                        Name::root()
                    } else {
                        abs_name(host)?
                    };
                    RData::MX(MX::new(*pref, exchange))
                }
                (RecordSpec::A(ip), RecordType::A) => RData::A(A(*ip)),
                (RecordSpec::Aaaa(ip), RecordType::AAAA) => RData::AAAA(AAAA(*ip)),
                (RecordSpec::Txt(t), RecordType::TXT) => RData::TXT(TXT::new(vec![t.clone()])),
                (RecordSpec::TxtParts(t), RecordType::TXT) => RData::TXT(TXT::new(t.clone())),
                (RecordSpec::Ptr(host), RecordType::PTR) => RData::PTR(PTR(abs_name(host)?)),
                (RecordSpec::Cname(host), RecordType::CNAME) => {
                    RData::CNAME(CNAME(abs_name(host)?))
                }
                _ => continue,
            };
            reply.add_answer(Record::from_rdata(owner.clone(), 60, data));
        }
        break;
    }
    reply.to_vec().ok()
}
