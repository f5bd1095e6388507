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
    /// A CNAME the server does not follow: every answer for this name is this one record, as
    /// from an authoritative server whose target lies in another zone. A long chain of them
    /// is more than a stub resolver follows.
    CnameOnly(String),
    /// Answer NXDOMAIN for this name (names absent from the table get NXDOMAIN too).
    NxDomain,
    /// Answer SERVFAIL for this name.
    ServFail,
    /// Answer SERVFAIL for queries of this type only (a broken AAAA, say).
    ServFailFor(RecordType),
    /// Answer REFUSED for this name (a server that does not answer it for this client).
    Refused,
    /// Set the AD bit on answers for this name when the query asks for it (AD or DO set, RFC
    /// 6840 §5.7-5.8): the fake then plays a validating resolver that found the name secure.
    Authentic,
    /// A record owned by another name (the first field) slipped into this name's answers of its
    /// type: what a poisoning or broken server sends, and what a resolver must ignore.
    Stray(String, Box<RecordSpec>),
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

impl SeenQuery {
    /// The first question of `query`, with its DO, AD and CD bits.
    fn of(query: &Message) -> Option<SeenQuery> {
        let first = query.queries.first()?;
        Some(SeenQuery {
            name: normalise(&first.name.to_ascii()),
            rtype: first.query_type,
            dnssec_ok: query.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok),
            ad: query.metadata.authentic_data,
            cd: query.metadata.checking_disabled,
        })
    }
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
                    && let Some(query) = SeenQuery::of(&q)
                    && let Ok(mut log) = seen.lock()
                {
                    log.push(query);
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
    Name::from_ascii(format!("{}.", host.trim_end_matches('.')))
        .ok()
        .or_else(|| raw_name(host))
}

/// A name written with zone-file escapes (RFC 1035 §5.1: `\DDD` a byte in decimal, `\X` the
/// character X itself, so `\.` is a dot inside a label) whose labels hold bytes no host name
/// may (a space, a NUL, `[`): what an authoritative server can put in an MX record, and
/// `Name::from_ascii` refuses to build.
fn raw_name(host: &str) -> Option<Name> {
    let mut labels: Vec<Vec<u8>> = vec![Vec::new()];
    let mut bytes = host.trim_end_matches('.').bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'.' => labels.push(Vec::new()),
            b'\\' => {
                let first = bytes.next()?;
                let byte = if first.is_ascii_digit() {
                    let digits = [first, bytes.next()?, bytes.next()?];
                    std::str::from_utf8(&digits).ok()?.parse::<u8>().ok()?
                } else {
                    first
                };
                labels.last_mut()?.push(byte);
            }
            _ => labels.last_mut()?.push(b),
        }
    }
    Name::from_labels(labels).ok()
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
        if specs.contains(&RecordSpec::ServFail)
            || specs.contains(&RecordSpec::ServFailFor(q.query_type))
        {
            reply.metadata.response_code = ResponseCode::ServFail;
            break;
        }
        if specs.contains(&RecordSpec::Refused) {
            reply.metadata.response_code = ResponseCode::Refused;
            break;
        }
        if let Some(RecordSpec::CnameOnly(target)) =
            specs.iter().find(|s| matches!(s, RecordSpec::CnameOnly(_)))
        {
            let target_name = abs_name(target)?;
            reply.add_answer(Record::from_rdata(
                owner.clone(),
                60,
                RData::CNAME(CNAME(target_name)),
            ));
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
            let (owner, spec) = match spec {
                RecordSpec::Stray(other, inner) => (abs_name(other)?, inner.as_ref()),
                _ => (owner.clone(), spec),
            };
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
    /// A and AAAA point elsewhere, MX changes preference, TLSA and TXT change their last octet.
    Tampered,
    /// Signed with a validity window that ended a week ago (RFC 4034 §3.1.5).
    Expired,
    /// Signed with a validity window that starts tomorrow: the signer's clock is ahead of the
    /// validator's (RFC 4035 §5.3.1).
    Future,
    /// Served without an RRSIG although the zone is signed.
    Unsigned,
}

/// An in-process DNSSEC-signed zone on loopback: one Ed25519 key (RFC 8080) that is both the
/// zone's DNSKEY and the test trust anchor, RRSIGs made with hickory's signer, an SOA and NS at
/// the apex and an NSEC chain (RFC 4034 §4) so that absent names and types are proven absent.
///
/// An NS record below the apex is a delegation to an unsigned child zone (RFC 4035 §2.2, §5.2):
/// the parent serves a signed NSEC at the cut saying there is no DS, and the records at and
/// below the cut are served without signatures, whatever their [`Signing`] — a validator calls
/// them *insecure*, which is how unsigned domains under a signed root look.
///
/// UDP and TCP on the same port: an answer bigger than the query's EDNS payload (512 octets
/// without EDNS) goes out truncated (TC) over UDP and whole over TCP (RFC 7766 §5).
pub struct SignedDns {
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
    /// The zone's DNSKEY as a zone-file line: the content of a `--dns-trust-anchor` file.
    pub anchor: String,
    /// Every query received (UDP and TCP), in order.
    pub log: QueryLog,
}

/// What the [`SignedDns`] server answers from.
struct SignedZone {
    /// The apex.
    apex: Name,
    /// (owner, type) → the records served, RRSIG included when signed.
    table: HashMap<(String, RecordType), Vec<Record>>,
    /// Every owner name (lower case, no trailing dot).
    names: std::collections::HashSet<String>,
    /// Owners of the signed part in canonical order (RFC 4034 §6.1), each with its signed NSEC
    /// RRset (the NSEC and its RRSIG).
    chain: Vec<(Name, Vec<Record>)>,
    /// The apex SOA and its RRSIG, for the authority section of negative answers.
    soa: Vec<Record>,
    /// Delegation points below the apex (unsigned children).
    cuts: Vec<Name>,
    /// The queries answered.
    log: QueryLog,
}

impl SignedZone {
    /// Is `name` at or below a delegation (in an unsigned child zone)?
    fn in_child(&self, name: &Name) -> bool {
        self.cuts.iter().any(|c| c.zone_of(name))
    }

    /// Does `name` exist in the signed part: an owner, or an empty non-terminal above one?
    fn exists(&self, name: &Name) -> bool {
        self.chain.iter().any(|(owner, _)| name.zone_of(owner))
    }

    /// The NSEC RRset whose owner is `name` or the last one before it (the one that covers it).
    fn covering(&self, name: &Name) -> Option<&Vec<Record>> {
        self.chain
            .iter()
            .rev()
            .find(|(owner, _)| owner <= name)
            .or_else(|| self.chain.last())
            .map(|(_, recs)| recs)
    }

    /// The authority section proving that `qname` (of the signed part) has no `qtype` record:
    /// the SOA, the NSEC at the name (NODATA) or covering it and the wildcard at its closest
    /// encloser (NXDOMAIN, RFC 4035 §3.1.3.2).
    fn denial(&self, qname: &Name, nxdomain: bool) -> Vec<Record> {
        let mut out = self.soa.clone();
        let mut add = |recs: Option<&Vec<Record>>| {
            for r in recs.into_iter().flatten() {
                if !out.contains(r) {
                    out.push(r.clone());
                }
            }
        };
        add(self.covering(qname));
        if nxdomain {
            let mut encloser = qname.base_name();
            while !self.exists(&encloser) && encloser.num_labels() > self.apex.num_labels() {
                encloser = encloser.base_name();
            }
            if let Ok(wildcard) = encloser.prepend_label("*") {
                add(self.covering(&wildcard));
            }
        }
        out
    }
}

impl SignedDns {
    /// Sign and serve `records` of `zone`. Answers carry the RRSIGs of the asked RRset; a name
    /// with no record of the asked type gets an empty NOERROR, an absent name NXDOMAIN, both
    /// with the SOA and the NSEC records that prove it in the signed part (none in a child).
    ///
    /// Panics on signing or binding failures: it is a test fixture.
    pub fn start(zone: &str, records: Vec<(&str, RData, Signing)>) -> SignedDns {
        SignedDns::serve(SignedZone::build(zone, records))
    }

    /// [`SignedDns::start`] without the DNSKEY: the zone is signed but its key cannot be
    /// fetched (DNSKEY questions get an empty answer), so nothing in it can be verified.
    pub fn start_without_dnskey(zone: &str, records: Vec<(&str, RData, Signing)>) -> SignedDns {
        let (mut zone, anchor) = SignedZone::build(zone, records);
        let apex = normalise(&zone.apex.to_ascii());
        zone.table.remove(&(apex, RecordType::DNSKEY));
        SignedDns::serve((zone, anchor))
    }

    fn serve((zone, anchor): (SignedZone, String)) -> SignedDns {
        let zone = std::sync::Arc::new(zone);
        let log = zone.log.clone();
        // UDP and TCP on one port (retry with a new port if the TCP one is taken).
        let (udp, tcp) = loop {
            let udp = UdpSocket::bind("127.0.0.1:0").expect("bind signed DNS socket");
            let addr = udp.local_addr().expect("signed DNS local addr");
            if let Ok(tcp) = std::net::TcpListener::bind(addr) {
                break (udp, tcp);
            }
        };
        let addr = udp.local_addr().expect("signed DNS local addr");
        let on_udp = zone.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let Ok((n, peer)) = udp.recv_from(&mut buf) else {
                    continue;
                };
                if let Some(bytes) = on_udp.answer(&buf[..n]).and_then(|b| fit_udp(&buf[..n], b)) {
                    let _ = udp.send_to(&bytes, peer);
                }
            }
        });
        std::thread::spawn(move || {
            for conn in tcp.incoming() {
                let Ok(conn) = conn else { continue };
                let zone = zone.clone();
                std::thread::spawn(move || serve_tcp(&zone, conn));
            }
        });
        SignedDns { addr, anchor, log }
    }
}

/// `reply` to the UDP `query` as it can go out: whole if it fits the query's EDNS payload (512
/// octets without EDNS, RFC 6891 §6.2.3), else the header and question with TC set.
fn fit_udp(query: &[u8], reply: Vec<u8>) -> Option<Vec<u8>> {
    let q = Message::from_vec(query).ok()?;
    let limit = q
        .edns
        .as_ref()
        .map_or(512, |e| usize::from(e.max_payload().max(512)));
    if reply.len() <= limit {
        return Some(reply);
    }
    let mut short = Message::response(q.metadata.id, q.metadata.op_code);
    short.metadata.authoritative = true;
    short.metadata.truncation = true;
    short.metadata.recursion_desired = q.metadata.recursion_desired;
    short.metadata.recursion_available = true;
    short.edns = q.edns.clone();
    short.add_queries(q.queries);
    short.to_vec().ok()
}

/// Answer length-prefixed queries on one TCP connection (RFC 1035 §4.2.2) until it closes.
fn serve_tcp(zone: &SignedZone, mut conn: std::net::TcpStream) {
    use std::io::{Read, Write};
    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(30)));
    loop {
        let mut len = [0u8; 2];
        if conn.read_exact(&mut len).is_err() {
            return;
        }
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if conn.read_exact(&mut body).is_err() {
            return;
        }
        let Some(reply) = zone.answer(&body) else {
            continue;
        };
        let Ok(n) = u16::try_from(reply.len()) else {
            return;
        };
        let mut framed = n.to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        if conn.write_all(&framed).is_err() {
            return;
        }
    }
}

impl SignedZone {
    /// Sign everything; returns the zone and the anchor line.
    fn build(zone: &str, records: Vec<(&str, RData, Signing)>) -> (SignedZone, String) {
        use hickory_resolver::proto::dnssec::crypto::Ed25519SigningKey;
        use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData, NSEC, RRSIG};
        use hickory_resolver::proto::dnssec::{DnssecSigner, SigningKey};
        use hickory_resolver::proto::rr::rdata::{NS, SOA};
        use hickory_resolver::proto::rr::{DNSClass, RecordSet};

        let apex = abs_name(zone).expect("zone name");
        let pkcs8 = Ed25519SigningKey::generate_pkcs8().expect("key");
        let key = Ed25519SigningKey::from_pkcs8(&pkcs8).expect("key");
        let public = key.to_public_key().expect("public key");
        let dnskey = DNSKEY::from_key(&public);
        let signer = DnssecSigner::new(
            dnskey.clone(),
            Box::new(key),
            apex.clone(),
            std::time::Duration::from_secs(2 * 86_400),
        );
        let dnskey_record = Record::from_rdata(
            apex.clone(),
            300,
            RData::DNSSEC(DNSSECRData::DNSKEY(dnskey)),
        );
        let anchor = dnskey_record.to_string();
        let ns_name = apex.prepend_label("ns").expect("ns name");
        let soa = SOA::new(
            ns_name.clone(),
            apex.prepend_label("hostmaster").expect("rname"),
            1,
            3600,
            600,
            86_400,
            300,
        );

        // Group into RRsets: (owner, type) → (data, how it is served).
        let mut sets: Vec<(Name, RecordType, Vec<RData>, Signing)> = vec![
            (
                apex.clone(),
                RecordType::DNSKEY,
                vec![dnskey_record.data.clone()],
                Signing::Valid,
            ),
            (
                apex.clone(),
                RecordType::SOA,
                vec![RData::SOA(soa)],
                Signing::Valid,
            ),
            (
                apex.clone(),
                RecordType::NS,
                vec![RData::NS(NS(ns_name))],
                Signing::Valid,
            ),
        ];
        for (owner, data, signing) in records {
            let owner = abs_name(owner).expect("owner name");
            let rtype = data.record_type();
            match sets.iter_mut().find(|s| s.0 == owner && s.1 == rtype) {
                Some(s) => s.2.push(data),
                None => sets.push((owner, rtype, vec![data], signing)),
            }
        }
        let cuts: Vec<Name> = sets
            .iter()
            .filter(|s| s.1 == RecordType::NS && s.0 != apex)
            .map(|s| s.0.clone())
            .collect();
        let below_cut = |n: &Name| cuts.iter().any(|c| c.zone_of(n));

        let now = time::OffsetDateTime::now_utc();
        let sign = |rrset: &RecordSet, signing: Signing| {
            let inception = match signing {
                Signing::Expired => now - time::Duration::days(9),
                Signing::Future => now + time::Duration::days(1),
                _ => now - time::Duration::hours(1),
            };
            let sig = RRSIG::from_rrset(rrset, DNSClass::IN, inception, &signer).expect("sign");
            Record::from_rdata(
                rrset.name().clone(),
                300,
                RData::DNSSEC(DNSSECRData::RRSIG(sig)),
            )
        };
        let mut table: HashMap<(String, RecordType), Vec<Record>> = HashMap::new();
        let mut names: std::collections::HashSet<String> = Default::default();
        // Types at each owner of the signed part, for the NSEC bitmaps.
        let mut types: std::collections::BTreeMap<Name, Vec<RecordType>> = Default::default();
        for (owner, rtype, data, signing) in sets {
            let mut rrset = RecordSet::with_ttl(owner.clone(), rtype, 300);
            for d in &data {
                rrset.add_rdata(d.clone());
            }
            let mut served: Vec<Record> = data
                .into_iter()
                .map(|d| Record::from_rdata(owner.clone(), 300, d))
                .collect();
            if signing == Signing::Tampered {
                served.iter_mut().for_each(|r| tamper(&mut r.data));
            }
            let child = below_cut(&owner);
            if signing != Signing::Unsigned && !child {
                served.push(sign(&rrset, signing));
            }
            if !child || cuts.contains(&owner) {
                types.entry(owner.clone()).or_default().push(rtype);
            }
            let key = normalise(&owner.to_ascii());
            names.insert(key.clone());
            table.insert((key, rtype), served);
        }

        // The NSEC chain over the signed part (RFC 4034 §4.1): each owner points to the next in
        // canonical order, the last back to the apex. At a cut only NS is listed: no DS, so the
        // child is provably unsigned (RFC 4035 §5.2).
        let owners: Vec<Name> = types.keys().cloned().collect();
        let mut chain = Vec::new();
        for (i, owner) in owners.iter().enumerate() {
            let next = owners.get(i + 1).unwrap_or(&apex).clone();
            let bitmap: Vec<RecordType> = if cuts.contains(owner) {
                vec![RecordType::NS]
            } else {
                types[owner].clone()
            };
            let nsec = RData::DNSSEC(DNSSECRData::NSEC(NSEC::new_cover_self(next, bitmap)));
            let mut rrset = RecordSet::with_ttl(owner.clone(), RecordType::NSEC, 300);
            rrset.add_rdata(nsec.clone());
            let recs = vec![
                Record::from_rdata(owner.clone(), 300, nsec),
                sign(&rrset, Signing::Valid),
            ];
            chain.push((owner.clone(), recs));
        }
        let soa = table
            .get(&(normalise(&apex.to_ascii()), RecordType::SOA))
            .cloned()
            .unwrap_or_default();
        (
            SignedZone {
                apex,
                table,
                names,
                chain,
                soa,
                cuts,
                log: QueryLog::default(),
            },
            anchor,
        )
    }

    /// The reply to one query datagram.
    fn answer(&self, datagram: &[u8]) -> Option<Vec<u8>> {
        let query = Message::from_vec(datagram).ok()?;
        let q = query.queries.first().cloned()?;
        if let (Some(seen), Ok(mut log)) = (SeenQuery::of(&query), self.log.lock()) {
            log.push(seen);
        }
        let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
        reply.metadata.authoritative = true;
        reply.metadata.recursion_desired = query.metadata.recursion_desired;
        reply.metadata.recursion_available = true;
        reply.edns = query.edns.clone();
        reply.add_query(q.clone());
        let mut name = normalise(&q.name.to_ascii());
        let mut owner = q.name.clone();
        // Follow CNAMEs within the zone (a bounded number of hops).
        for _ in 0..8 {
            if q.query_type != RecordType::CNAME
                && !self.table.contains_key(&(name.clone(), q.query_type))
                && let Some(recs) = self.table.get(&(name.clone(), RecordType::CNAME))
            {
                let mut next = None;
                for r in recs {
                    if let RData::CNAME(c) = &r.data {
                        next = Some(c.0.clone());
                    }
                    reply.add_answer(r.clone());
                }
                if let Some(n) = next {
                    name = normalise(&n.to_ascii());
                    owner = n;
                    continue;
                }
            }
            break;
        }
        // A DS question at a cut is the parent's to answer (RFC 4035 §3.1.4.1).
        let parent_side = q.query_type == RecordType::DS && self.cuts.contains(&owner);
        let signed = self.apex.zone_of(&owner) && (parent_side || !self.in_child(&owner));
        match self.table.get(&(name.clone(), q.query_type)) {
            Some(recs) => {
                for r in recs {
                    reply.add_answer(r.clone());
                }
            }
            None if self.names.contains(&name) || (signed && self.exists(&owner)) => {
                if signed {
                    reply.add_authorities(self.denial(&owner, false));
                }
            }
            None => {
                reply.metadata.response_code = ResponseCode::NXDomain;
                if signed {
                    reply.add_authorities(self.denial(&owner, true));
                }
            }
        }
        reply.to_vec().ok()
    }
}

/// Change served data after signing so the RRSIG no longer verifies ([`Signing::Tampered`]).
fn tamper(data: &mut RData) {
    match data {
        RData::A(a) => a.0 = Ipv4Addr::new(203, 0, 113, 66),
        RData::AAAA(a) => a.0 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x66),
        RData::MX(m) => m.preference = m.preference.wrapping_add(1),
        RData::TLSA(t) => {
            if let Some(b) = t.cert_data.last_mut() {
                *b ^= 0xff;
            }
        }
        RData::TXT(t) => {
            if let Some(b) = t.txt_data.first_mut().and_then(|s| s.last_mut()) {
                *b ^= 0x20;
            }
        }
        _ => {}
    }
}
