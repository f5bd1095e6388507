//! Test fixtures shared by unit and integration tests: an in-process fake DNS server answering
//! from a small table. Not part of the supported API (`#[doc(hidden)]`).
//!
//! The server runs on its own OS thread with a blocking socket, not as a tokio task, so it keeps
//! answering while a test blocks on a subprocess (`ehlo --dns-server 127.0.0.1:PORT`) or runs a
//! current-thread runtime.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::thread::JoinHandle;

use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, AAAA, MX, TXT};
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
        let table: Vec<(String, RecordSpec)> = records
            .into_iter()
            .map(|(n, r)| (normalise(n), r))
            .collect();
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

/// Build the reply to one query datagram; `None` for undecodable input (a real server would send
/// FORMERR, but the resolver never sends garbage).
fn answer(table: &[(String, RecordSpec)], datagram: &[u8]) -> Option<Vec<u8>> {
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

    let qname = normalise(&q.name.to_ascii());
    let specs: Vec<&RecordSpec> = table
        .iter()
        .filter(|(n, _)| *n == qname)
        .map(|(_, r)| r)
        .collect();
    if specs.is_empty() || specs.contains(&&RecordSpec::NxDomain) {
        reply.metadata.response_code = ResponseCode::NXDomain;
    } else if specs.contains(&&RecordSpec::ServFail) {
        reply.metadata.response_code = ResponseCode::ServFail;
    } else {
        for spec in specs {
            let data = match (spec, q.query_type) {
                (RecordSpec::Mx(pref, host), RecordType::MX) => {
                    let exchange = if host == "." {
                        Name::root()
                    } else {
                        Name::from_ascii(format!("{}.", host.trim_end_matches('.'))).ok()?
                    };
                    RData::MX(MX::new(*pref, exchange))
                }
                (RecordSpec::A(ip), RecordType::A) => RData::A(A(*ip)),
                (RecordSpec::Aaaa(ip), RecordType::AAAA) => RData::AAAA(AAAA(*ip)),
                (RecordSpec::Txt(t), RecordType::TXT) => RData::TXT(TXT::new(vec![t.clone()])),
                _ => continue,
            };
            reply.add_answer(Record::from_rdata(q.name.clone(), 60, data));
        }
    }
    reply.to_vec().ok()
}
