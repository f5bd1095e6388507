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
    /// Signed with a validity window that starts tomorrow: the signer's clock is ahead of
    /// the validator's (RFC 4035 §5.3.1).
    Future,
    /// Served without an RRSIG although the zone is signed.
    Unsigned,
}

/// How a [`SignedDns`] zone is built beyond its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneOptions {
    /// Sign the denials: an SOA at the apex and an NSEC chain (RFC 4034 §4, RFC 4035 §3.1.3)
    /// in the authority section of NXDOMAIN and NODATA answers. Off, denials are bare.
    pub nsec: bool,
    /// Child zones delegated without a DS (RFC 4035 §5.2: an unsigned delegation, proven by
    /// the NSEC at the cut when `nsec` is on). Records under them are served unsigned.
    pub unsigned_children: Vec<String>,
    /// Serve the zone's DNSKEY (off: DNSKEY queries get an empty answer, the key is missing).
    pub serve_dnskey: bool,
}

impl Default for ZoneOptions {
    fn default() -> Self {
        ZoneOptions {
            nsec: false,
            unsigned_children: Vec::new(),
            serve_dnskey: true,
        }
    }
}

/// An in-process DNSSEC-signed zone on loopback: one Ed25519 key (RFC 8080) that is both the
/// zone's DNSKEY and the test trust anchor, RRSIGs made with hickory's signer. UDP and TCP on
/// the same port; an answer bigger than the query's EDNS payload (512 octets without EDNS) is
/// sent truncated over UDP (TC), whole over TCP (RFC 7766 §5).
pub struct SignedDns {
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
    /// The zone's DNSKEY as a zone-file line: the content of a `--dns-trust-anchor` file.
    pub anchor: String,
}

/// The served zone: RRsets (with their RRSIGs), the names that exist, the signed NSEC
/// chain and SOA when denials are signed.
struct ZoneData {
    table: HashMap<(String, RecordType), Vec<Record>>,
    names: std::collections::HashSet<String>,
    /// (owner, NSEC record and its RRSIG), in canonical order (RFC 4034 §6.1).
    nsec: Vec<(Name, Vec<Record>)>,
    /// The apex SOA and its RRSIG (empty without `nsec`).
    soa: Vec<Record>,
    /// Owner names of the unsigned children, normalised.
    children: Vec<String>,
}

impl SignedDns {
    /// Sign and serve `records` of `zone`. Answers carry the RRSIGs of the asked RRset; a name
    /// with no record of the asked type gets an empty NOERROR, an absent name NXDOMAIN (neither
    /// with NSEC: only positive answers are signed here; see [`SignedDns::start_with`]).
    ///
    /// Panics on signing or binding failures: it is a test fixture.
    pub fn start(zone: &str, records: Vec<(&str, RData, Signing)>) -> SignedDns {
        SignedDns::start_with(zone, records, ZoneOptions::default())
    }

    /// [`SignedDns::start`] with signed denials, unsigned delegations or a missing DNSKEY.
    pub fn start_with(
        zone: &str,
        records: Vec<(&str, RData, Signing)>,
        opts: ZoneOptions,
    ) -> SignedDns {
        let (data, anchor) = sign_zone(zone, records, &opts);
        let data = std::sync::Arc::new(data);
        let (udp, tcp) = loop {
            let udp = UdpSocket::bind("127.0.0.1:0").expect("bind signed DNS socket");
            let addr = udp.local_addr().expect("signed DNS local addr");
            if let Ok(tcp) = std::net::TcpListener::bind(addr) {
                break (udp, tcp);
            }
        };
        let addr = udp.local_addr().expect("signed DNS local addr");
        let zone_udp = data.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let Ok((n, peer)) = udp.recv_from(&mut buf) else {
                    continue;
                };
                if let Some(bytes) = signed_reply(&zone_udp, &buf[..n], false) {
                    let _ = udp.send_to(&bytes, peer);
                }
            }
        });
        std::thread::spawn(move || {
            for conn in tcp.incoming() {
                let Ok(conn) = conn else { continue };
                let zone = data.clone();
                std::thread::spawn(move || serve_tcp(&zone, conn));
            }
        });
        SignedDns { addr, anchor }
    }
}

/// Answer length-prefixed queries on one TCP connection until the client closes it.
fn serve_tcp(zone: &ZoneData, mut conn: std::net::TcpStream) {
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
        let Some(reply) = signed_reply(zone, &body, true) else {
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

fn sign_zone(
    zone: &str,
    records: Vec<(&str, RData, Signing)>,
    opts: &ZoneOptions,
) -> (ZoneData, String) {
    use hickory_resolver::proto::dnssec::crypto::Ed25519SigningKey;
    use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData, NSEC, RRSIG};
    use hickory_resolver::proto::dnssec::{DnssecSigner, SigningKey};
    use hickory_resolver::proto::rr::rdata::{NS, SOA};
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
    let children: Vec<Name> = opts
        .unsigned_children
        .iter()
        .map(|c| abs_name(c).expect("child zone name"))
        .collect();
    let in_child = |owner: &Name| children.iter().any(|c| c.zone_of(owner));

    // Group into RRsets: (owner, type) → (data, how it is served).
    let mut sets: Vec<(Name, RecordType, Vec<RData>, Signing)> = Vec::new();
    if opts.serve_dnskey {
        sets.push((
            zone_name.clone(),
            RecordType::DNSKEY,
            vec![dnskey_record.data.clone()],
            Signing::Valid,
        ));
    }
    let soa = RData::SOA(SOA::new(
        abs_name(&format!("ns.{zone}")).expect("ns name"),
        abs_name(&format!("hostmaster.{zone}")).expect("rname"),
        1,
        3600,
        600,
        86_400,
        60,
    ));
    if opts.nsec {
        sets.push((
            zone_name.clone(),
            RecordType::SOA,
            vec![soa],
            Signing::Valid,
        ));
    }
    // The delegations: an NS at each cut (never signed, RFC 4035 §2.2).
    for c in &children {
        let ns = abs_name(&format!("ns.{zone}")).expect("ns name");
        sets.push((
            c.clone(),
            RecordType::NS,
            vec![RData::NS(NS(ns))],
            Signing::Unsigned,
        ));
    }
    for (owner, data, signing) in records {
        let owner = abs_name(owner).expect("owner name");
        let rtype = data.record_type();
        match sets.iter_mut().find(|s| s.0 == owner && s.1 == rtype) {
            Some(s) => s.2.push(data),
            None => sets.push((owner, rtype, vec![data], signing)),
        }
    }
    let now = time::OffsetDateTime::now_utc();
    let sign = |rrset: &RecordSet, signing: Signing| {
        let inception = match signing {
            Signing::Expired => now - time::Duration::days(9),
            Signing::Future => now + time::Duration::days(1),
            _ => now - time::Duration::hours(1),
        };
        RRSIG::from_rrset(rrset, DNSClass::IN, inception, &signer).expect("sign")
    };
    let mut table: HashMap<(String, RecordType), Vec<Record>> = HashMap::new();
    let mut names: std::collections::HashSet<String> = Default::default();
    // Types at each owner name of the parent zone (for the NSEC bitmaps).
    let mut types: std::collections::BTreeMap<Name, Vec<RecordType>> = Default::default();
    for (owner, rtype, data, signing) in sets {
        let mut rrset = RecordSet::with_ttl(owner.clone(), rtype, 300);
        for d in &data {
            rrset.add_rdata(d.clone());
        }
        let sig = sign(&rrset, signing);
        let mut served: Vec<Record> = data
            .into_iter()
            .map(|d| Record::from_rdata(owner.clone(), 300, d))
            .collect();
        if signing == Signing::Tampered {
            for r in &mut served {
                match &mut r.data {
                    RData::A(a) => a.0 = Ipv4Addr::new(203, 0, 113, 66),
                    RData::TLSA(t) => {
                        if let Some(b) = t.cert_data.first_mut() {
                            *b ^= 0xff;
                        }
                    }
                    RData::MX(m) => m.preference ^= 1,
                    _ => {}
                }
            }
        }
        let child_data = in_child(&owner) && !children.contains(&owner);
        if signing != Signing::Unsigned && !child_data {
            served.push(Record::from_rdata(
                owner.clone(),
                300,
                RData::DNSSEC(DNSSECRData::RRSIG(sig)),
            ));
        }
        if !child_data {
            types.entry(owner.clone()).or_default().push(rtype);
        }
        let key = normalise(&owner.to_ascii());
        names.insert(key.clone());
        table.insert((key, rtype), served);
    }

    // The NSEC chain over the parent's names (canonical order is Name's Ord), each NSEC
    // listing the types at its owner, signed like any RRset.
    let mut nsec = Vec::new();
    let mut soa_records = Vec::new();
    if opts.nsec {
        let owners: Vec<Name> = types.keys().cloned().collect();
        for (i, owner) in owners.iter().enumerate() {
            let next = owners[(i + 1) % owners.len()].clone();
            let bitmap = types[owner].clone();
            let rdata = RData::DNSSEC(DNSSECRData::NSEC(NSEC::new_cover_self(next, bitmap)));
            let mut rrset = RecordSet::with_ttl(owner.clone(), RecordType::NSEC, 60);
            rrset.add_rdata(rdata.clone());
            let sig = sign(&rrset, Signing::Valid);
            nsec.push((
                owner.clone(),
                vec![
                    Record::from_rdata(owner.clone(), 60, rdata),
                    Record::from_rdata(owner.clone(), 60, RData::DNSSEC(DNSSECRData::RRSIG(sig))),
                ],
            ));
        }
        soa_records = table
            .get(&(normalise(&zone_name.to_ascii()), RecordType::SOA))
            .cloned()
            .unwrap_or_default();
    }
    (
        ZoneData {
            table,
            names,
            nsec,
            soa: soa_records,
            children: opts
                .unsigned_children
                .iter()
                .map(|c| normalise(c))
                .collect(),
        },
        anchor,
    )
}

impl ZoneData {
    /// Does `name` exist: an owner, or an empty non-terminal above one (RFC 4592 §2.2.2)?
    fn exists(&self, name: &str) -> bool {
        self.names.contains(name) || {
            let suffix = format!(".{name}");
            self.names.iter().any(|n| n.ends_with(&suffix))
        }
    }

    /// Is `name` at or under an unsigned child (whose denials carry no proof)?
    fn in_child(&self, name: &str) -> bool {
        self.children
            .iter()
            .any(|c| name == c || name.ends_with(&format!(".{c}")))
    }

    /// The NSEC at `name` (NODATA) or the one covering it (NXDOMAIN): the last owner in
    /// canonical order that is not after `name`, wrapping to the last one.
    fn nsec_for(&self, name: &Name) -> Option<&Vec<Record>> {
        let i = self.nsec.partition_point(|(owner, _)| owner <= name);
        match i {
            0 => self.nsec.last().map(|(_, r)| r),
            i => Some(&self.nsec[i - 1].1),
        }
    }
}

/// Build the reply to one query of a [`SignedDns`] zone; `None` for undecodable input.
fn signed_reply(zone: &ZoneData, datagram: &[u8], tcp: bool) -> Option<Vec<u8>> {
    let query = Message::from_vec(datagram).ok()?;
    let q = query.queries.first().cloned()?;
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
            && !zone.table.contains_key(&(name.clone(), q.query_type))
            && let Some(recs) = zone.table.get(&(name.clone(), RecordType::CNAME))
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
    let signed_denial = !zone.soa.is_empty() && !zone.in_child(&name)
        || zone.children.contains(&name) && q.query_type == RecordType::DS;
    let qname = abs_name(&name)?;
    match zone.table.get(&(name.clone(), q.query_type)) {
        Some(recs) => {
            for r in recs {
                reply.add_answer(r.clone());
            }
        }
        None if zone.exists(&name) => {
            // NODATA: the NSEC at the name says which types exist (RFC 4035 §3.1.3.1).
            if signed_denial {
                reply.add_authorities(zone.soa.iter().cloned());
                if let Some(n) = zone.nsec_for(&qname) {
                    reply.add_authorities(n.iter().cloned());
                }
            }
        }
        None => {
            reply.metadata.response_code = ResponseCode::NXDomain;
            // NXDOMAIN: an NSEC covering the name and one covering the wildcard at the
            // closest encloser (RFC 4035 §3.1.3.2).
            if signed_denial {
                reply.add_authorities(zone.soa.iter().cloned());
                let mut encloser = qname.base_name();
                while !encloser.is_root() && !zone.exists(&normalise(&encloser.to_ascii())) {
                    encloser = encloser.base_name();
                }
                let wildcard = encloser.prepend_label("*").ok()?;
                let cover = zone.nsec_for(&qname);
                let wild = zone.nsec_for(&wildcard);
                if let Some(c) = cover {
                    reply.add_authorities(c.iter().cloned());
                }
                if let Some(w) = wild
                    && Some(w) != cover
                {
                    reply.add_authorities(w.iter().cloned());
                }
            }
        }
    }
    let bytes = reply.to_vec().ok()?;
    let limit = query
        .edns
        .as_ref()
        .map_or(512, |e| usize::from(e.max_payload().max(512)));
    if !tcp && bytes.len() > limit {
        // Too big for this datagram: say so and let the client come back over TCP.
        let mut short = Message::response(query.metadata.id, query.metadata.op_code);
        short.metadata.authoritative = true;
        short.metadata.truncation = true;
        short.metadata.recursion_desired = query.metadata.recursion_desired;
        short.metadata.recursion_available = true;
        short.edns = query.edns.clone();
        short.add_query(q);
        return short.to_vec().ok();
    }
    Some(bytes)
}
