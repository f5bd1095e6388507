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
    /// Set the AD bit on answers for this name when the query asks for it (AD or DO set, RFC
    /// 6840 §5.7-5.8): the fake then plays a validating resolver that found the name secure.
    Authentic,
}

/// One query as the fake server received it (what `--dnssec` changes on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenQuery {
    /// The name asked, lower case, without the trailing dot.
    pub name: String,
    /// The type asked.
    pub rtype: RecordType,
    /// The DO bit of the EDNS OPT record (RFC 3225).
    pub dnssec_ok: bool,
    /// The AD bit of the header (RFC 6840 §5.7).
    pub ad: bool,
    /// The CD bit of the header.
    pub cd: bool,
}

/// The queries a fake server received, in order.
pub type QueryLog = std::sync::Arc<std::sync::Mutex<Vec<SeenQuery>>>;

/// The fake DNS server.
pub struct FakeDns;

impl FakeDns {
    /// Serve `records` over UDP on 127.0.0.1 (a free port) until the process exits. Names match
    /// case-insensitively, with or without the trailing dot. A name present with no record of the
    /// asked type gets an empty NOERROR answer (what makes hickory report "no records").
    ///
    /// Panics if no loopback UDP port can be bound: it is a test fixture.
    pub fn start(records: Vec<(&str, RecordSpec)>) -> (SocketAddr, JoinHandle<()>) {
        let (addr, handle, _) = FakeDns::start_logged(records);
        (addr, handle)
    }

    /// [`FakeDns::start`], also recording every query it receives.
    pub fn start_logged(
        records: Vec<(&str, RecordSpec)>,
    ) -> (SocketAddr, JoinHandle<()>, QueryLog) {
        let log = QueryLog::default();
        let seen = log.clone();
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
                if let Ok(q) = Message::from_vec(&buf[..n])
                    && let Some(first) = q.queries.first()
                    && let Ok(mut log) = seen.lock()
                {
                    log.push(SeenQuery {
                        name: normalise(&first.name.to_ascii()),
                        rtype: first.query_type,
                        dnssec_ok: q.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok),
                        ad: q.metadata.authentic_data,
                        cd: q.metadata.checking_disabled,
                    });
                }
                if let Some(reply) = answer(&table, &buf[..n]) {
                    let _ = sock.send_to(&reply, peer);
                }
            }
        });
        (addr, handle, log)
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
    let wants_ad =
        query.metadata.authentic_data || query.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok);
    reply.metadata.authentic_data = wants_ad
        && table
            .get(&qname)
            .is_some_and(|s| s.contains(&RecordSpec::Authentic));
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

/// How a record of a [`SignedDns`] zone is served (the cases a validator must tell apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// Signed by the zone key, valid now.
    Valid,
    /// Signed, then the data changed: the RRSIG no longer verifies (a forgery or corruption).
    Tampered,
    /// Signed with a validity window that ended a week ago (RFC 4034 §3.1.5).
    Expired,
    /// Served without an RRSIG although the zone is signed.
    Unsigned,
}

/// An in-process DNSSEC-signed zone on loopback: one Ed25519 key (RFC 8080) that is both the
/// zone's DNSKEY and the test trust anchor, RRSIGs made with hickory's signer.
pub struct SignedDns {
    /// Where it answers (UDP).
    pub addr: SocketAddr,
    /// The zone's DNSKEY as a zone-file line: the content of a `--dns-trust-anchor` file.
    pub anchor: String,
}

impl SignedDns {
    /// Sign and serve `records` of `zone`. Answers carry the RRSIGs of the asked RRset; a name
    /// with no record of the asked type gets an empty NOERROR, an absent name NXDOMAIN (neither
    /// with NSEC: only positive answers are signed here).
    ///
    /// Panics on signing or binding failures: it is a test fixture.
    pub fn start(zone: &str, records: Vec<(&str, RData, Signing)>) -> SignedDns {
        use hickory_resolver::proto::dnssec::crypto::Ed25519SigningKey;
        use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData, RRSIG};
        use hickory_resolver::proto::dnssec::{DnssecSigner, SigningKey};
        use hickory_resolver::proto::rr::{DNSClass, RecordSet};

        let zone_name = abs_name(zone).expect("zone name");
        let pkcs8 = Ed25519SigningKey::generate_pkcs8().expect("key");
        let key = Ed25519SigningKey::from_pkcs8(&pkcs8).expect("key");
        let public = key.to_public_key().expect("public key");
        let dnskey = DNSKEY::from_key(&public);
        let signer = DnssecSigner::new(
            dnskey.clone(),
            Box::new(key),
            zone_name.clone(),
            std::time::Duration::from_secs(2 * 86_400),
        );
        let dnskey_record = Record::from_rdata(
            zone_name.clone(),
            300,
            RData::DNSSEC(DNSSECRData::DNSKEY(dnskey)),
        );
        let anchor = dnskey_record.to_string();

        // Group into RRsets: (owner, type) → (data, how it is served).
        let mut sets: Vec<(Name, RecordType, Vec<RData>, Signing)> = vec![(
            zone_name.clone(),
            RecordType::DNSKEY,
            vec![dnskey_record.data.clone()],
            Signing::Valid,
        )];
        for (owner, data, signing) in records {
            let owner = abs_name(owner).expect("owner name");
            let rtype = data.record_type();
            match sets.iter_mut().find(|s| s.0 == owner && s.1 == rtype) {
                Some(s) => s.2.push(data),
                None => sets.push((owner, rtype, vec![data], signing)),
            }
        }
        let now = time::OffsetDateTime::now_utc();
        let mut table: HashMap<(String, RecordType), Vec<Record>> = HashMap::new();
        let mut names: std::collections::HashSet<String> = Default::default();
        for (owner, rtype, data, signing) in sets {
            let mut rrset = RecordSet::with_ttl(owner.clone(), rtype, 300);
            for d in &data {
                rrset.add_rdata(d.clone());
            }
            let inception = match signing {
                Signing::Expired => now - time::Duration::days(9),
                _ => now - time::Duration::hours(1),
            };
            let sig = RRSIG::from_rrset(&rrset, DNSClass::IN, inception, &signer).expect("sign");
            let mut served: Vec<Record> = data
                .into_iter()
                .map(|d| Record::from_rdata(owner.clone(), 300, d))
                .collect();
            if signing == Signing::Tampered {
                for r in &mut served {
                    if let RData::A(a) = &mut r.data {
                        a.0 = Ipv4Addr::new(203, 0, 113, 66);
                    }
                }
            }
            if signing != Signing::Unsigned {
                served.push(Record::from_rdata(
                    owner.clone(),
                    300,
                    RData::DNSSEC(DNSSECRData::RRSIG(sig)),
                ));
            }
            let key = normalise(&owner.to_ascii());
            names.insert(key.clone());
            table.insert((key, rtype), served);
        }

        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind signed DNS socket");
        let addr = sock.local_addr().expect("signed DNS local addr");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let Some(q) = query.queries.first().cloned() else {
                    continue;
                };
                let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
                reply.metadata.authoritative = true;
                reply.metadata.recursion_desired = query.metadata.recursion_desired;
                reply.metadata.recursion_available = true;
                reply.edns = query.edns.clone();
                reply.add_query(q.clone());
                let mut name = normalise(&q.name.to_ascii());
                // Follow signed CNAMEs within the zone (a bounded number of hops).
                for _ in 0..8 {
                    if q.query_type != RecordType::CNAME
                        && !table.contains_key(&(name.clone(), q.query_type))
                        && let Some(recs) = table.get(&(name.clone(), RecordType::CNAME))
                    {
                        let mut next = None;
                        for r in recs {
                            if let RData::CNAME(c) = &r.data {
                                next = Some(normalise(&c.0.to_ascii()));
                            }
                            reply.add_answer(r.clone());
                        }
                        if let Some(n) = next {
                            name = n;
                            continue;
                        }
                    }
                    break;
                }
                match table.get(&(name.clone(), q.query_type)) {
                    Some(recs) => {
                        for r in recs {
                            reply.add_answer(r.clone());
                        }
                    }
                    None if names.contains(&name) => {}
                    None => reply.metadata.response_code = ResponseCode::NXDomain,
                }
                if let Ok(bytes) = reply.to_vec() {
                    let _ = sock.send_to(&bytes, peer);
                }
            }
        });
        SignedDns { addr, anchor }
    }
}
