//! `--dnssec trust-ad`: a stub that asks the configured recursive resolver each question itself
//! (hickory-resolver does not expose the answer's header) and takes the AD bit of the answer as
//! its DNSSEC proof, as posttls-finger and other AD-trusting tools do (RFC 4035 §3.2.3, RFC 6840
//! §5.7-5.8). UDP with TCP fallback on a truncated answer (RFC 7766 §5), every exchange bounded
//! by the DNS timeout, at most one 64 KiB message read per exchange.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::{DnsError as HickoryDnsError, NetError};
use hickory_resolver::proto::dnssec::Proof;
use hickory_resolver::proto::op::{
    DnsResponse, Edns, Message, MessageType, OpCode, Query, ResponseCode,
};
use hickory_resolver::proto::rr::{Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// The EDNS payload size offered (RFC 9715 / DNS Flag Day 2020): large enough for most TLSA
/// RRsets, small enough to avoid IP fragmentation; bigger answers come over TCP.
const EDNS_PAYLOAD: u16 = 1232;

/// The biggest DNS message (both transports carry at most 65535 octets).
const MAX_MESSAGE: usize = 65_535;

/// What went wrong in one exchange with one server (the next server or attempt may do better).
#[derive(Debug)]
enum Exchange {
    /// No usable answer before the deadline.
    Timeout,
    /// Socket-level failure (refused, unreachable, reset).
    Io(std::io::Error),
    /// An answer that is not a DNS message.
    Garbled(String),
}

impl std::fmt::Display for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exchange::Timeout => f.write_str("timed out"),
            Exchange::Io(e) => write!(f, "{e}"),
            Exchange::Garbled(e) => write!(f, "undecodable answer: {e}"),
        }
    }
}

/// The stub: the resolvers to ask, in order, and the per-exchange timeout.
#[derive(Debug, Clone)]
pub(crate) struct AdStub {
    servers: Vec<SocketAddr>,
    timeout: Duration,
    attempts: usize,
}

impl AdStub {
    /// Ask `servers` in order (`--dns-server` or the system's), each exchange (UDP and its TCP
    /// retry together) within `timeout`, the whole list `attempts + 1` times over.
    pub(crate) fn new(servers: Vec<SocketAddr>, timeout: Duration, attempts: usize) -> AdStub {
        AdStub {
            servers,
            timeout,
            attempts,
        }
    }

    /// The resolvers of `/etc/resolv.conf` (port 53 unless the file says otherwise).
    pub(crate) fn system_servers() -> Result<Vec<SocketAddr>, String> {
        let (conf, _) = hickory_resolver::system_conf::read_system_conf()
            .map_err(|e| format!("cannot read the system DNS configuration: {e}"))?;
        let mut out: Vec<SocketAddr> = Vec::new();
        for ns in conf.name_servers() {
            let port = ns.connections.first().map_or(53, |c| c.port);
            let addr = SocketAddr::new(ns.ip, port);
            if !out.contains(&addr) {
                out.push(addr);
            }
        }
        if out.is_empty() {
            return Err("the system DNS configuration names no resolver".into());
        }
        Ok(out)
    }

    /// One question, answered like hickory's `lookup`: the answer records (CNAME chain
    /// included) each carrying proof `Secure` when the resolver set AD and `Insecure` when it did
    /// not; NXDOMAIN and NODATA as hickory's "no records" errors; SERVFAIL as a DNSSEC
    /// validation failure, which is what a validating resolver's SERVFAIL means (RFC 4035 §5.5).
    pub(crate) async fn lookup(&self, name: &str, rtype: RecordType) -> Result<Lookup, NetError> {
        let qname = Name::from_ascii(format!("{}.", name.trim_end_matches('.')))
            .map_err(|e| NetError::from(format!("invalid name {name:?}: {e}")))?;
        let query = Query::query(qname, rtype);
        let started = tokio::time::Instant::now();
        let mut last: Option<NetError> = None;
        let mut servfail = None;
        for _ in 0..=self.attempts {
            for &server in &self.servers {
                let id = rand_id();
                let request = request(id, &query)?;
                let answer = match exchange(server, &request, id, &query, self.timeout).await {
                    Ok(m) => m,
                    // A timeout is its own kind: the lookup could not be tested (not a verdict).
                    Err(Exchange::Timeout) => {
                        last = Some(NetError::Timeout);
                        continue;
                    }
                    Err(e) => {
                        last = Some(NetError::from(format!("{server}: {e}")));
                        continue;
                    }
                };
                match answer.metadata.response_code {
                    ResponseCode::NoError | ResponseCode::NXDomain => {
                        return into_lookup(query, answer);
                    }
                    // Like the system stub (res_send), another server may validate or reach
                    // the zone where this one failed; if none does, the failure stands.
                    ResponseCode::ServFail => servfail = Some(server),
                    code => {
                        last = Some(NetError::from(format!(
                            "{server} answered {code} ({})",
                            u16::from(code)
                        )))
                    }
                }
            }
        }
        if let Some(server) = servfail {
            // The time rule is the one cause the resolver's own records show (RFC 4035
            // §5.3.1): asked again with checking disabled, their dates tell.
            // Within what is left of the lookup's time (each try's timeout, the retries
            // included: the bound the README gives every lookup); it asks up to three more
            // questions, which a slow resolver could otherwise make last three more timeouts.
            let budget = self.timeout.saturating_mul(
                u32::try_from(self.attempts)
                    .unwrap_or(u32::MAX)
                    .saturating_add(1),
            );
            let left = budget.saturating_sub(started.elapsed());
            let why = tokio::time::timeout(
                left,
                signature_out_of_date(server, name, rtype, self.timeout),
            )
            .await
            .ok()
            .flatten()
            .map(|w| format!(": {w}"))
            .unwrap_or_default();
            return Err(crate::net::dns::OwnBogus::error(format!(
                "DNSSEC validation failed: the resolver at {server} answered SERVFAIL, which \
                 with --dnssec trust-ad means a bogus answer (or an unreachable zone){why}"
            )));
        }
        Err(last.unwrap_or_else(|| NetError::from("no DNS resolver to ask")))
    }
}

/// The query: RD (recursion wanted), AD (RFC 6840 §5.7: "I understand the AD bit, tell me"),
/// CD clear (the resolver must validate), EDNS0 for bigger UDP answers but without DO: the proof
/// is the AD bit, the RRSIGs themselves would only lengthen the answer (RFC 6840 §5.7 lets AD
/// be asked for without DO).
fn request(id: u16, query: &Query) -> Result<Vec<u8>, NetError> {
    query_message(id, query, false)
        .to_vec()
        .map_err(|e| NetError::from(format!("cannot encode the query: {e}")))
}

/// The one query message both asks send: RD and EDNS0 (payload [`EDNS_PAYLOAD`]) always;
/// validated (`unchecked` false): AD set, CD and DO clear; `unchecked`: AD clear, CD and DO set
/// (the resolver's answer as it is, with its RRSIGs).
fn query_message(id: u16, query: &Query, unchecked: bool) -> Message {
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.metadata.authentic_data = !unchecked;
    m.metadata.checking_disabled = unchecked;
    m.add_query(query.clone());
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    edns.set_dnssec_ok(unchecked);
    m.set_edns(edns);
    m
}

/// A query id nobody can guess from outside (RFC 5452 §4.3), from OpenSSL's CSPRNG; the
/// clock only if that ever fails (the answer is still matched on its question too).
fn rand_id() -> u16 {
    let mut b = [0u8; 2];
    match openssl::rand::rand_bytes(&mut b) {
        Ok(()) => u16::from_be_bytes(b),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u16),
    }
}

/// The records of the answer with the AD bit as their proof, or hickory's "no records"
/// error for NXDOMAIN and NODATA (so callers tell them apart exactly as with hickory).
fn into_lookup(query: Query, mut answer: Message) -> Result<Lookup, NetError> {
    let proof = if answer.metadata.authentic_data {
        Proof::Secure
    } else {
        Proof::Insecure
    };
    // AD covers the whole answer (RFC 4035 §3.2.3): the records and, for a denial, the SOA
    // in the authority section that the resolver's denial proof rests on.
    for r in answer
        .answers
        .iter_mut()
        .chain(answer.authorities.iter_mut())
    {
        r.proof = proof;
    }
    let response = DnsResponse::from_message(answer)
        .map_err(|e| NetError::from(format!("unusable answer: {e}")))?;
    let response = HickoryDnsError::from_response(response).map_err(NetError::from)?;
    Ok(Lookup::new_with_max_ttl(
        query,
        response.into_message().answers,
    ))
}

/// One exchange with one server: UDP, then TCP if the answer is truncated, both before one
/// deadline.
async fn exchange(
    server: SocketAddr,
    request: &[u8],
    id: u16,
    query: &Query,
    timeout: Duration,
) -> Result<Message, Exchange> {
    let deadline = tokio::time::Instant::now() + timeout;
    let udp = tokio::time::timeout_at(deadline, over_udp(server, request, id, query)).await;
    let answer = match udp {
        Err(_) => return Err(Exchange::Timeout),
        Ok(r) => r?,
    };
    if !answer.metadata.truncation {
        return Ok(answer);
    }
    match tokio::time::timeout_at(deadline, over_tcp(server, request, id, query)).await {
        Err(_) => Err(Exchange::Timeout),
        Ok(r) => r,
    }
}

/// Is `m` the answer to our question (same id, a response, same question)? Anything else on
/// the socket is ignored (RFC 5452 §9.1), not taken as the answer.
fn is_answer_to(m: &Message, id: u16, query: &Query) -> bool {
    m.metadata.id == id
        && m.metadata.message_type == MessageType::Response
        // Name equality is case-insensitive (RFC 4343 §3).
        && m.queries
            .first()
            .is_some_and(|q| q.query_type() == query.query_type() && q.name() == query.name())
}

async fn over_udp(
    server: SocketAddr,
    request: &[u8],
    id: u16,
    query: &Query,
) -> Result<Message, Exchange> {
    let local: SocketAddr = match server.ip() {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = UdpSocket::bind(local).await.map_err(Exchange::Io)?;
    sock.connect(server).await.map_err(Exchange::Io)?;
    sock.send(request).await.map_err(Exchange::Io)?;
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        let n = sock.recv(&mut buf).await.map_err(Exchange::Io)?;
        // A datagram that is not our answer (stale, spoofed, garbage) is dropped; the deadline
        // bounds how long we keep listening.
        if let Ok(m) = Message::from_vec(&buf[..n])
            && is_answer_to(&m, id, query)
        {
            return Ok(m);
        }
    }
}

async fn over_tcp(
    server: SocketAddr,
    request: &[u8],
    id: u16,
    query: &Query,
) -> Result<Message, Exchange> {
    let mut stream = TcpStream::connect(server).await.map_err(Exchange::Io)?;
    // RFC 1035 §4.2.2: a two-octet length, then the message.
    let len =
        u16::try_from(request.len()).map_err(|_| Exchange::Garbled("query too long".into()))?;
    let mut framed = Vec::with_capacity(request.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(request);
    stream.write_all(&framed).await.map_err(Exchange::Io)?;
    loop {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.map_err(Exchange::Io)?;
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut body).await.map_err(Exchange::Io)?;
        let m = Message::from_vec(&body).map_err(|e| Exchange::Garbled(e.to_string()))?;
        if is_answer_to(&m, id, query) {
            return Ok(m);
        }
    }
}

/// Why `name`/`rtype` is bogus when the dates of its signatures say so (RFC 4035 §5.3.1: an
/// RRSIG is valid only from its inception to its expiration, compared in serial number
/// arithmetic, RFC 4034 §3.1.5): the question asked again of `server` with CD set (RFC 4035
/// §3.2.2: a validating resolver passes on what it has without validating) and DO set (the
/// RRSIGs come too), and — when the answer's own signatures are in date — the DNSKEY RRset of
/// their signer the same way. `None` when the dates are not the reason, or nothing came back
/// within `timeout`: the failure is then worded as before. Only asked after a DNSSEC failure.
pub(crate) async fn signature_out_of_date(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
    timeout: Duration,
) -> Option<String> {
    match unchecked(server, name, rtype, timeout).await {
        Unchecked::OutOfDate(why) => Some(why),
        Unchecked::Served | Unchecked::NotServed => None,
    }
}

/// What a question that failed validated gets asked again with checking disabled
/// ([`unchecked`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unchecked {
    /// Served, and the dates of its signatures (or of its signer's DNSKEY) are the cause.
    OutOfDate(String),
    /// Served (NOERROR or NXDOMAIN) for another reason: a validating resolver that answered
    /// SERVFAIL to the checked question withheld data it has, as it does a bogus answer
    /// (RFC 4035 §5.5; RFC 4033 §5).
    Served,
    /// Not served either (an error RCODE, no reply): the lookup itself failed.
    NotServed,
}

/// [`signature_out_of_date`]'s question, saying also whether the server serves the data with
/// checking disabled: a SERVFAIL that the CD question also gets is a lookup failure (the
/// zone's name servers, the resolver), not a DNSSEC verdict.
pub(crate) async fn unchecked(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
    timeout: Duration,
) -> Unchecked {
    let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) else {
        return Unchecked::NotServed;
    };
    let now = now.as_secs();
    let Ok(qname) = Name::from_ascii(format!("{}.", name.trim_end_matches('.'))) else {
        return Unchecked::NotServed;
    };
    let Some(m) = ask_unchecked(server, &qname, rtype, timeout).await else {
        return Unchecked::NotServed;
    };
    if !matches!(
        m.metadata.response_code,
        ResponseCode::NoError | ResponseCode::NXDomain
    ) {
        return Unchecked::NotServed;
    }
    if let Some(why) = out_of_date(&m, now) {
        return Unchecked::OutOfDate(why);
    }
    let mut signers: Vec<&Name> = Vec::new();
    for (_, sig) in rrsigs(&m) {
        if !signers.contains(&&sig.signer_name) {
            signers.push(&sig.signer_name);
        }
    }
    for signer in signers.into_iter().take(2) {
        let Some(keys) = ask_unchecked(server, signer, RecordType::DNSKEY, timeout).await else {
            break;
        };
        if let Some(why) = out_of_date(&keys, now) {
            return Unchecked::OutOfDate(why);
        }
    }
    Unchecked::Served
}

/// `qname`/`rtype` asked of `server` with RD, CD and DO set, within `timeout`.
async fn ask_unchecked(
    server: SocketAddr,
    qname: &Name,
    rtype: RecordType,
    timeout: Duration,
) -> Option<Message> {
    let query = Query::query(qname.clone(), rtype);
    let id = rand_id();
    let request = query_message(id, &query, true).to_vec().ok()?;
    exchange(server, &request, id, &query, timeout).await.ok()
}

/// The RRSIGs of an answer (answer and authority sections) with their owners.
fn rrsigs(
    m: &Message,
) -> impl Iterator<Item = (&Name, &hickory_resolver::proto::dnssec::rdata::SigInput)> {
    use hickory_resolver::proto::dnssec::rdata::DNSSECRData;
    use hickory_resolver::proto::rr::RData;
    m.answers
        .iter()
        .chain(m.authorities.iter())
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(sig)) => Some((&r.name, sig.input())),
            _ => None,
        })
}

/// The first RRSIG of `m` that is not valid at `now` (Unix seconds), in words: expired, or
/// not valid yet (RFC 4035 §5.3.1). Times are 32-bit serial numbers (RFC 4034 §3.1.5): `a`
/// is before `b` when `b - a`, modulo 2^32, is below 2^31.
pub(crate) fn out_of_date(m: &Message, now: u64) -> Option<String> {
    let now32 = now as u32;
    let before = |a: u32, b: u32| a != b && b.wrapping_sub(a) < 1 << 31;
    // The date of a serial time: the one nearest to now (within 68 years either way).
    let date = |t: u32| {
        let ahead = i64::from(t.wrapping_sub(now32) as i32);
        let secs = now as i64 + ahead;
        time::OffsetDateTime::from_unix_timestamp(secs)
            .ok()
            .and_then(|d| {
                d.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| secs.to_string())
    };
    for (owner, sig) in rrsigs(m) {
        let what = format!(
            "the RRSIG over {} {} (by {})",
            crate::net::dns::bare(owner),
            sig.type_covered,
            crate::net::dns::bare(&sig.signer_name)
        );
        let (inception, expiration) = (sig.sig_inception.get(), sig.sig_expiration.get());
        if before(expiration, now32) {
            return Some(format!(
                "{what} expired at {} (RFC 4035 §5.3.1)",
                date(expiration)
            ));
        }
        if before(now32, inception) {
            return Some(format!(
                "{what} is not valid before {} (RFC 4035 §5.3.1: the signer's clock or this \
                 one is wrong)",
                date(inception)
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::dns::{DnsError, DnsOptions, DnsProof, DnssecMode, Family, Resolver};
    use hickory_resolver::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
    use hickory_resolver::proto::rr::rdata::{A, SOA, TLSA};
    use hickory_resolver::proto::rr::{RData, Record};
    use std::sync::{Arc, Mutex};

    /// What the scripted resolver saw of each query: name, type, RD, AD, CD, DO, EDNS size.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Seen {
        name: String,
        rtype: RecordType,
        rd: bool,
        ad: bool,
        cd: bool,
        dnssec_ok: bool,
        payload: Option<u16>,
        tcp: bool,
    }

    /// A scripted recursive resolver on loopback (UDP and TCP on one port): `signed.test`
    /// answers with AD, `plain.test` without, `bogus.test` SERVFAIL, `half.test` its A with AD
    /// and SERVFAIL for other types, `big.test` TLSA
    /// truncated over UDP and 1000 records over TCP, `noise.test` a wrong-id datagram and
    /// garbage before the answer, anything else NXDOMAIN.
    fn scripted() -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (udp, tcp) = loop {
            let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            if let Ok(tcp) = std::net::TcpListener::bind(udp.local_addr().unwrap()) {
                break (udp, tcp);
            }
        };
        let addr = udp.local_addr().unwrap();
        let log = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let Ok((n, peer)) = udp.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(q) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                for reply in reply_to(&q, false, &log) {
                    let _ = udp.send_to(&reply, peer);
                }
            }
        });
        let log = seen.clone();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for conn in tcp.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut len = [0u8; 2];
                if conn.read_exact(&mut len).is_err() {
                    continue;
                }
                let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
                if conn.read_exact(&mut body).is_err() {
                    continue;
                }
                let Ok(q) = Message::from_vec(&body) else {
                    continue;
                };
                for reply in reply_to(&q, true, &log) {
                    let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
                    framed.extend_from_slice(&reply);
                    let _ = conn.write_all(&framed);
                }
            }
        });
        (addr, seen)
    }

    fn reply_to(q: &Message, tcp: bool, log: &Mutex<Vec<Seen>>) -> Vec<Vec<u8>> {
        let query = q.queries[0].clone();
        let name = query.name().to_ascii().to_ascii_lowercase();
        log.lock().unwrap().push(Seen {
            name: name.clone(),
            rtype: query.query_type(),
            rd: q.metadata.recursion_desired,
            ad: q.metadata.authentic_data,
            cd: q.metadata.checking_disabled,
            dnssec_ok: q.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok),
            payload: q.edns.as_ref().map(Edns::max_payload),
            tcp,
        });
        let mut r = Message::response(q.metadata.id, OpCode::Query);
        r.metadata.recursion_desired = true;
        r.metadata.recursion_available = true;
        r.add_query(query.clone());
        let a = |ip: [u8; 4]| {
            Record::from_rdata(query.name().clone(), 60, RData::A(A(Ipv4Addr::from(ip))))
        };
        let mut out = Vec::new();
        // Negative answers carry the zone's SOA (RFC 2308 §3), as real resolvers send them.
        let soa = Record::from_rdata(
            Name::from_ascii("test.").unwrap(),
            60,
            RData::SOA(SOA::new(
                Name::from_ascii("ns.test.").unwrap(),
                Name::from_ascii("hostmaster.test.").unwrap(),
                1,
                3600,
                600,
                86_400,
                60,
            )),
        );
        match (name.as_str(), query.query_type()) {
            ("signed.test.", RecordType::A) => {
                r.metadata.authentic_data = true;
                r.add_answer(a([192, 0, 2, 1]));
            }
            ("plain.test.", RecordType::A) => {
                r.add_answer(a([192, 0, 2, 2]));
            }
            ("signed.test." | "plain.test.", _) => {
                // NODATA; AD on the signed name's (secure) denial.
                r.metadata.authentic_data = name == "signed.test.";
                r.add_authority(soa);
            }
            // SERVFAIL late in the try; asked again with CD, the answer comes with an RRSIG in
            // date, and its signer's DNSKEY never comes.
            ("late.test.", RecordType::DNSKEY) => return Vec::new(),
            ("late.test.", _) if !q.metadata.checking_disabled => {
                std::thread::sleep(Duration::from_millis(1800));
                r.metadata.response_code = ResponseCode::ServFail;
            }
            ("late.test.", _) => {
                use hickory_resolver::proto::dnssec::Algorithm;
                use hickory_resolver::proto::dnssec::rdata::{DNSSECRData, RRSIG, SigInput};
                use hickory_resolver::proto::rr::SerialNumber;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as u32;
                let input = SigInput {
                    type_covered: RecordType::A,
                    algorithm: Algorithm::ECDSAP256SHA256,
                    num_labels: 2,
                    original_ttl: 60,
                    sig_expiration: SerialNumber::new(now.wrapping_add(86_400)),
                    sig_inception: SerialNumber::new(now.wrapping_sub(3600)),
                    key_tag: 1,
                    signer_name: query.name().clone(),
                };
                r.add_answer(a([192, 0, 2, 5]));
                r.add_answer(Record::from_rdata(
                    query.name().clone(),
                    60,
                    RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(input, vec![0]))),
                ));
            }
            ("bogus.test.", _) => r.metadata.response_code = ResponseCode::ServFail,
            // A good A, a AAAA the resolver could not validate.
            ("half.test.", RecordType::A) => {
                r.metadata.authentic_data = true;
                r.add_answer(a([192, 0, 2, 4]));
            }
            ("half.test.", _) => r.metadata.response_code = ResponseCode::ServFail,
            ("big.test.", RecordType::TLSA) if !tcp => r.metadata.truncation = true,
            ("big.test.", RecordType::TLSA) => {
                r.metadata.authentic_data = true;
                for i in 0..1000u32 {
                    let mut digest = vec![0u8; 32];
                    digest[..4].copy_from_slice(&i.to_be_bytes());
                    r.add_answer(Record::from_rdata(
                        query.name().clone(),
                        60,
                        RData::TLSA(TLSA::new(
                            CertUsage::DaneEe,
                            Selector::Spki,
                            Matching::Sha256,
                            digest,
                        )),
                    ));
                }
            }
            ("noise.test.", _) => {
                let mut wrong = r.clone();
                wrong.metadata.id = q.metadata.id.wrapping_add(1);
                wrong.add_answer(a([203, 0, 113, 66]));
                out.push(wrong.to_vec().unwrap());
                out.push(b"\x00\x01garbage".to_vec());
                r.add_answer(a([192, 0, 2, 3]));
            }
            ("silent.test.", _) => return Vec::new(),
            ("gone.test.", _) => {
                r.metadata.response_code = ResponseCode::NXDomain;
                r.metadata.authentic_data = true;
                r.add_authority(soa);
            }
            _ => {
                r.metadata.response_code = ResponseCode::NXDomain;
                r.add_authority(soa);
            }
        }
        out.push(r.to_vec().unwrap());
        out
    }

    fn trust_ad(addr: SocketAddr, timeout: Duration) -> Resolver {
        Resolver::new(
            &DnsOptions {
                server: Some(addr),
                timeout,
                attempts: 0,
                ..DnsOptions::default()
            }
            .with_dnssec(DnssecMode::TrustAd, None),
        )
        .unwrap()
    }

    /// AD set is secure, AD clear insecure, SERVFAIL bogus (a DNSSEC failure, not "no
    /// records"), NXDOMAIN and NODATA answers rather than failures — the same shapes as
    /// `--dnssec validate`, so the send and `check` need not know which mode is on.
    #[tokio::test]
    async fn trust_ad_proofs_follow_the_ad_bit() {
        let (addr, _seen) = scripted();
        let r = trust_ad(addr, Duration::from_secs(5));
        let set = r.rrset("signed.test", RecordType::A).await.unwrap();
        assert_eq!(set.proof, Some(DnsProof::Secure), "{set:?}");
        assert_eq!(set.records, [RData::A(A(Ipv4Addr::new(192, 0, 2, 1)))]);
        let set = r.rrset("plain.test", RecordType::A).await.unwrap();
        assert_eq!(set.proof, Some(DnsProof::Insecure), "{set:?}");
        // Denials carry the AD bit's proof too (through the SOA of the authority section).
        let nodata = r.rrset("signed.test", RecordType::TLSA).await.unwrap();
        assert!(nodata.records.is_empty() && !nodata.nxdomain, "{nodata:?}");
        assert_eq!(nodata.proof, Some(DnsProof::Secure), "{nodata:?}");
        let nodata = r.rrset("plain.test", RecordType::TLSA).await.unwrap();
        assert_eq!(nodata.proof, Some(DnsProof::Insecure), "{nodata:?}");
        let nx = r.rrset("gone.test", RecordType::A).await.unwrap();
        assert!(nx.nxdomain, "{nx:?}");
        assert_eq!(nx.proof, Some(DnsProof::Secure), "{nx:?}");
        let nx = r.rrset("unknown.test", RecordType::A).await.unwrap();
        assert!(nx.nxdomain, "{nx:?}");
        assert_eq!(nx.proof, Some(DnsProof::Insecure), "{nx:?}");
        let bogus = r.rrset("bogus.test", RecordType::A).await.unwrap_err();
        assert!(bogus.is_bogus(), "{bogus}");
        assert!(bogus.to_string().contains("SERVFAIL"), "{bogus}");
        assert!(!bogus.to_string().contains('\n'));
        // The send's path: the answer event carries the proof.
        let mut events = Vec::new();
        let ips = r
            .host_addresses("signed.test", Family::V4, &mut |e| events.push(e))
            .await
            .unwrap();
        assert_eq!(ips, [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))]);
        assert!(
            events.iter().any(|e| matches!(e,
                crate::smtp::event::Event::DnsAnswer { proof: Some(p), .. } if p == "secure")),
            "{events:?}"
        );
        assert!(matches!(
            r.addresses("bogus.test", Family::Any).await,
            Err(DnsError::Failed { .. })
        ));
        assert!(matches!(
            r.mx("gone.test").await,
            Err(DnsError::NxDomain(_))
        ));
    }

    /// A SERVFAIL on one address family fails the dual-stack lookup under trust-ad (a bogus
    /// AAAA must not hide behind a secure A, as with `-6` alone); without validation the A
    /// records carry the send as before.
    #[tokio::test]
    async fn trust_ad_servfail_on_one_family_fails_the_lookup() {
        let (addr, _seen) = scripted();
        let r = trust_ad(addr, Duration::from_secs(5));
        let a = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 4));
        let (ips, proof) = r.addresses_proved("half.test", Family::V4).await.unwrap();
        assert_eq!((ips, proof), (vec![a], Some(DnsProof::Secure)));
        for family in [Family::Any, Family::V6] {
            let got = r.addresses_proved("half.test", family).await;
            assert!(
                matches!(&got, Err(e) if e.is_bogus()),
                "{family:?}: {got:?}"
            );
        }
        let off = Resolver::new(&DnsOptions {
            server: Some(addr),
            timeout: Duration::from_secs(5),
            attempts: 0,
            ..DnsOptions::default()
        })
        .unwrap();
        let (ips, proof) = off
            .addresses_proved("half.test", Family::Any)
            .await
            .unwrap();
        assert_eq!((ips, proof), (vec![a], None));
    }

    /// The query asks for AD without DO (RFC 6840 §5.7), with recursion and without CD, over
    /// EDNS0 with a 1232-octet payload.
    #[tokio::test]
    async fn trust_ad_query_sets_rd_and_ad_not_do_or_cd() {
        let (addr, seen) = scripted();
        let r = trust_ad(addr, Duration::from_secs(5));
        r.rrset("signed.test", RecordType::A).await.unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            [Seen {
                name: "signed.test.".into(),
                rtype: RecordType::A,
                rd: true,
                ad: true,
                cd: false,
                dnssec_ok: false,
                payload: Some(EDNS_PAYLOAD),
                tcp: false,
            }]
        );
    }

    /// A truncated UDP answer is asked again over TCP (RFC 7766 §5); a 1000-record TLSA RRset
    /// (~47 KB) arrives whole, with its proof.
    #[tokio::test]
    async fn trust_ad_truncated_answer_retries_over_tcp() {
        let (addr, seen) = scripted();
        let r = trust_ad(addr, Duration::from_secs(10));
        let set = r.rrset("big.test", RecordType::TLSA).await.unwrap();
        assert_eq!(set.records.len(), 1000);
        assert_eq!(set.proof, Some(DnsProof::Secure));
        let seen = seen.lock().unwrap();
        let big: Vec<bool> = seen
            .iter()
            .filter(|s| s.name == "big.test." && s.rtype == RecordType::TLSA)
            .map(|s| s.tcp)
            .collect();
        assert_eq!(big, [false, true]);
    }

    /// A datagram with the wrong id and one that is not DNS are ignored, not taken as the
    /// answer (RFC 5452 §9.1).
    #[tokio::test]
    async fn trust_ad_ignores_spoofed_and_garbage_datagrams() {
        let (addr, _seen) = scripted();
        let r = trust_ad(addr, Duration::from_secs(5));
        let set = r.rrset("noise.test", RecordType::A).await.unwrap();
        assert_eq!(set.records, [RData::A(A(Ipv4Addr::new(192, 0, 2, 3)))]);
        assert_eq!(set.proof, Some(DnsProof::Insecure));
    }

    /// A resolver that never answers fails the lookup within the DNS timeout (no retries here).
    #[tokio::test]
    async fn trust_ad_silent_resolver_times_out() {
        let (addr, _seen) = scripted();
        let r = trust_ad(addr, Duration::from_millis(300));
        let t = std::time::Instant::now();
        let got = r.rrset("silent.test", RecordType::A).await;
        assert!(
            matches!(&got, Err(e) if e.is_timeout() && !e.is_bogus()),
            "{got:?}"
        );
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    }

    /// A SERVFAIL that came late in the lookup's time: the question asked again with CD, to
    /// say which signature is out of date, gets only what is left of that time, and the lookup
    /// ends within it, bogus in the old words. It took up to three timeouts more (here the
    /// signer's DNSKEY, which never comes: 3.8 s for a 2 s lookup).
    #[tokio::test]
    async fn trust_ad_out_of_date_recheck_keeps_to_the_lookups_time() {
        let (addr, _seen) = scripted();
        let r = trust_ad(addr, Duration::from_secs(2));
        let t = std::time::Instant::now();
        let got = r.rrset("late.test", RecordType::A).await;
        let took = t.elapsed();
        assert!(matches!(&got, Err(e) if e.is_bogus()), "{got:?}");
        assert!(took < Duration::from_millis(3000), "{took:?}");
    }

    /// The anchor file belongs to validate; trust-ad never reads it (the CLI refuses the pair).
    #[test]
    fn trust_ad_without_servers_fails_lazily() {
        let stub = AdStub::new(Vec::new(), Duration::from_millis(100), 0);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt
            .block_on(stub.lookup("example.test", RecordType::A))
            .unwrap_err();
        assert!(err.to_string().contains("no DNS resolver"), "{err}");
    }

    /// RRSIG times are serial numbers (RFC 4034 §3.1.5): compared across the 2106 wrap, an
    /// expiration just past it is still ahead of a time just before it; a signature in date
    /// says nothing, an expired or early one names itself and its date.
    #[test]
    fn out_of_date_signatures_by_serial_arithmetic() {
        use hickory_resolver::proto::dnssec::Algorithm;
        use hickory_resolver::proto::dnssec::rdata::{DNSSECRData, RRSIG, SigInput};
        use hickory_resolver::proto::rr::SerialNumber;
        let with = |inception: u32, expiration: u32| {
            let input = SigInput {
                type_covered: RecordType::TLSA,
                algorithm: Algorithm::ECDSAP256SHA256,
                num_labels: 4,
                original_ttl: 300,
                sig_expiration: SerialNumber::new(expiration),
                sig_inception: SerialNumber::new(inception),
                key_tag: 1,
                signer_name: Name::from_ascii("example.test.").unwrap(),
            };
            let mut m = Message::new(1, MessageType::Response, OpCode::Query);
            m.answers.push(Record::from_rdata(
                Name::from_ascii("_25._tcp.mx.example.test.").unwrap(),
                300,
                RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(input, vec![0]))),
            ));
            m
        };
        let now: u64 = 1_800_000_000;
        let n = now as u32;
        assert_eq!(out_of_date(&with(n - 3600, n + 86_400), now), None);
        let stale = out_of_date(&with(n - 86_400, n - 3600), now).unwrap();
        assert_eq!(
            stale,
            "the RRSIG over _25._tcp.mx.example.test TLSA (by example.test) expired at \
             2027-01-15T07:00:00Z (RFC 4035 §5.3.1)"
        );
        let early = out_of_date(&with(n + 3600, n + 86_400), now).unwrap();
        assert!(
            early.contains("is not valid before 2027-01-15T09:00:00Z"),
            "{early}"
        );
        // Just before the 32-bit wrap, a signature valid across it.
        let late: u64 = (1 << 32) - 100;
        let l = late as u32;
        assert_eq!(out_of_date(&with(l - 100, 500), late), None);
        assert!(out_of_date(&with(l - 100, l - 50), late).is_some());
    }
}
