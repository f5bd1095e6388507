//! DANE TLSA records (RFC 6698, RFC 7671, RFC 7672): parsing the presentation form (DNS answers
//! arrive as typed records from the resolver) and matching against the certificate chain a server presented, with OpenSSL, producing the
//! per-depth evidence of [`DaneVerdict`].
//!
//! Only the usages SMTP uses are *usable* (RFC 7672 §3.1.3): DANE-TA(2) and DANE-EE(3), with
//! selector Cert(0)/SPKI(1) and matching type Full(0)/SHA2-256(1)/SHA2-512(2). PKIX-TA(0) and
//! PKIX-EE(1) records and unknown parameters are reported as ignored, never matched.
//!
//! - DANE-EE(3) matches the leaf only; no name and no validity-date checks (RFC 7672 §3.1.1).
//! - DANE-TA(2) matches a certificate above the leaf; the leaf must then verify up to that trust
//!   anchor (dates included) and carry one of the reference names (RFC 7672 §3.2.2-3).

use openssl::hash::{MessageDigest, hash};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509, X509Ref, X509StoreContext};

use crate::smtp::event::{DaneEvidence, DaneVerdict, plural_s};

/// Longest TLSA file we read: a TLSA RRset is a few hundred bytes; this bounds memory.
const MAX_TLSA_FILE: u64 = 1024 * 1024;

/// Longest association data: a full certificate (matching type 0) is kilobytes; 64 KiB is
/// already more than any DNS RRset could carry.
const MAX_TLSA_DATA: usize = 65_535;

/// One TLSA record (RFC 6698 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlsa {
    /// Certificate usage: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
    pub(crate) usage: u8,
    /// Selector: 0 the whole certificate, 1 its SubjectPublicKeyInfo.
    pub(crate) selector: u8,
    /// Matching type: 0 exact, 1 SHA2-256, 2 SHA2-512.
    pub(crate) mtype: u8,
    /// Certificate association data.
    pub(crate) data: Vec<u8>,
}

impl std::fmt::Display for Tlsa {
    /// Presentation form, `3 1 1 ab12…` with the whole association data in lower-case hex.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.usage,
            self.selector,
            self.mtype,
            hex(&self.data)
        )
    }
}

impl Tlsa {
    /// Parse a record in presentation form: `3 1 1 HEX` (the hex may be split by blanks, as zone
    /// files do), or a whole zone-file line `_25._tcp.mx.example. 3600 IN TLSA 3 1 1 HEX`.
    pub(crate) fn parse(text: &str) -> Result<Tlsa, String> {
        let tokens: Vec<&str> = text.split_whitespace().collect();
        let fields = match tokens.iter().position(|t| t.eq_ignore_ascii_case("TLSA")) {
            Some(i) => &tokens[i + 1..],
            None => &tokens[..],
        };
        if fields.len() < 4 {
            return Err(format!(
                "{:?}: a TLSA record is `USAGE SELECTOR MTYPE HEX` (e.g. `3 1 1 ab12…`)",
                text.trim()
            ));
        }
        let number = |what: &str, s: &str| {
            s.parse::<u8>()
                .map_err(|_| format!("{what} {s:?} is not a number from 0 to 255"))
        };
        let usage = number("usage", fields[0])?;
        let selector = number("selector", fields[1])?;
        let mtype = number("matching type", fields[2])?;
        let hexdigits: String = fields[3..].concat();
        let data = unhex(&hexdigits)?;
        let t = Tlsa {
            usage,
            selector,
            mtype,
            data,
        };
        t.check_length()?;
        Ok(t)
    }

    /// A digest of the wrong length can never match: say so instead of reporting a mismatch.
    fn check_length(&self) -> Result<(), String> {
        let want = match self.mtype {
            1 => Some((32, "SHA2-256")),
            2 => Some((64, "SHA2-512")),
            _ => None,
        };
        match want {
            Some((n, name)) if self.data.len() != n => Err(format!(
                "malformed TLSA record {} {} {}: a {name} digest is {n} octets, this one has {}",
                self.usage,
                self.selector,
                self.mtype,
                self.data.len()
            )),
            _ if self.data.len() > MAX_TLSA_DATA => Err(format!(
                "malformed TLSA record: {} octets of association data",
                self.data.len()
            )),
            _ => Ok(()),
        }
    }

    /// `None` if SMTP can use this record, else why not (RFC 7672 §3.1.3).
    pub(crate) fn unusable(&self) -> Option<String> {
        match (self.usage, self.selector, self.mtype) {
            (0 | 1, _, _) => Some(format!(
                "usage {} ({}) is not used for SMTP (RFC 7672 §3.1.3)",
                self.usage,
                if self.usage == 0 {
                    "PKIX-TA"
                } else {
                    "PKIX-EE"
                }
            )),
            (u, _, _) if u > 3 => Some(format!("unknown usage {u}")),
            (_, s, _) if s > 1 => Some(format!("unknown selector {s}")),
            (_, _, m) if m > 2 => Some(format!("unknown matching type {m}")),
            // From DNS the length is unchecked (hickory takes any): a digest of the wrong
            // length can never match, so say the record is malformed instead of "no match".
            _ => self.check_length().err(),
        }
    }

    /// Does this record's data match `cert` (its selector and matching type applied, the usage
    /// not considered)?
    pub(crate) fn matches_cert(&self, cert: &X509Ref) -> bool {
        self.unusable().is_none()
            && association(cert, self.selector, self.mtype).is_ok_and(|d| d == self.data)
    }

    /// `3 1 1 ab12cd34…`: the first 8 octets of the data, for one-line evidence.
    pub(crate) fn short(&self) -> String {
        let h = hex(&self.data);
        if h.len() > 16 {
            format!(
                "{} {} {} {}…",
                self.usage,
                self.selector,
                self.mtype,
                &h[..16]
            )
        } else {
            self.to_string()
        }
    }
}

/// Parse a TLSA file: one record per line (presentation form or zone-file lines, as
/// `ldns-dane -t` reads), blank lines and comments (`;` or `#`) skipped. A record may span
/// lines inside parentheses, as zone files write long ones (RFC 1035 §5.1: "( … )" groups
/// data that crosses a line boundary). Errors name the line the record starts on.
pub(crate) fn parse_records(text: &str) -> Result<Vec<Tlsa>, String> {
    let mut out = Vec::new();
    // The record being read: the line it starts on, its text so far (parentheses dropped),
    // and how many parentheses are open.
    let mut start = 0;
    let mut record = String::new();
    let mut depth = 0usize;
    for (i, line) in text.lines().enumerate() {
        let line = line.split([';', '#']).next().unwrap_or("");
        if depth == 0 {
            start = i + 1;
            record.clear();
        }
        for c in line.chars() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    return Err(format!("line {}: `)` without an opening `(`", i + 1));
                }
                ')' => depth -= 1,
                c => {
                    record.push(c);
                    continue;
                }
            }
            record.push(' ');
        }
        record.push(' ');
        if depth > 0 || record.trim().is_empty() {
            continue;
        }
        out.push(Tlsa::parse(&record).map_err(|e| format!("line {start}: {e}"))?);
    }
    if depth > 0 {
        return Err(format!(
            "line {start}: the `(` opened here is not closed by the end of the file"
        ));
    }
    if out.is_empty() {
        return Err("no TLSA record in it".into());
    }
    Ok(out)
}

/// Read and parse a TLSA file (`--tlsa-file`), bounded in size.
pub(crate) fn read_records(path: &std::path::Path) -> Result<Vec<Tlsa>, String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    f.take(MAX_TLSA_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if text.len() as u64 > MAX_TLSA_FILE {
        return Err(format!(
            "{}: larger than {MAX_TLSA_FILE} bytes",
            path.display()
        ));
    }
    parse_records(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// What `--tls-verify dane` decided for one host (RFC 7672 §2.2): TLS is then mandatory, and
/// the server is authenticated by `tlsa` (the TLSA RRset, usable records among them) with
/// `names` as the DANE-TA reference identifiers, or — when `tlsa` is empty (a secure RRset with
/// no usable record) — not at all: RFC 7672 §2.2 and §3.1.3 make TLS mandatory without
/// authentication then (Postfix's "encrypt" level), never the CA store.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct DaneUse {
    /// The TLSA records to authenticate the server by (empty: none is usable, TLS is not
    /// authenticated).
    pub(crate) tlsa: Vec<Tlsa>,
    /// The reference names a DANE-TA leaf must carry one of ([`reference_names`]): the TLSA
    /// base domain, then the next-hop domain. The base domain is also the name verified and
    /// sent as SNI (RFC 7672 §8.1) unless `--tls-verify-target`/`--tls-sni` name another.
    pub(crate) names: Vec<String>,
}

impl DaneUse {
    /// The use of a secure, non-empty TLSA RRset `records` with the reference `names`: the
    /// records when one of them is usable, else none (unauthenticated TLS, RFC 7672 §3.1.3).
    pub(crate) fn of(records: &[Tlsa], names: Vec<String>) -> DaneUse {
        let usable = records.iter().any(|r| r.unusable().is_none());
        DaneUse {
            tlsa: if usable { records.to_vec() } else { Vec::new() },
            names,
        }
    }

    /// The TLS settings of a connection these records authenticate, from the link's `tls`: the
    /// records and reference names, and the TLSA base domain (the first name) verified and sent
    /// as SNI (RFC 7672 §8.1, §3.2.2) unless `tls` names another (`--tls-verify-target`,
    /// `--tls-sni`): for an MX host that is an alias with the records at its secure expansion,
    /// that is the expansion. `stand_in`: the connection has no host name (a socket, a pipe).
    /// The send's `--tls-verify dane` connection and `check`'s DANE session both take theirs
    /// from here, so a server that picks its certificate by SNI shows both the same one.
    /// Without a usable record the certificate is still checked and shown, not enforced: TLS
    /// is mandatory but unauthenticated (RFC 7672 §2.2, §3.1.3).
    pub(crate) fn tls_params(
        &self,
        tls: &crate::net::tls::TlsParams,
        stand_in: bool,
    ) -> crate::net::tls::TlsParams {
        let base = self.names.first().cloned();
        let unauthenticated = self.tlsa.is_empty();
        crate::net::tls::TlsParams {
            verify: tls.verify && !unauthenticated,
            dane_unusable: unauthenticated,
            tlsa: self.tlsa.clone(),
            dane_names: self.names.clone(),
            stand_in_host: stand_in,
            verify_name: tls.verify_name.clone().or(base.clone()),
            sni: tls.sni.clone().or(base),
            ..tls.clone()
        }
    }
}

/// The DNSSEC facts about one host that decide whether DANE applies to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HostProofs<'a> {
    /// Proof of the MX RRset that named the host (`None`: no MX lookup, the host was given).
    pub(crate) mx: Option<&'a str>,
    /// Proof of the host's address records (`None`: not validated, or an address literal).
    pub(crate) addresses: Option<&'a str>,
}

/// Decide how `host` is authenticated from the DNSSEC proofs and its TLSA lookup (`answer`
/// with its owner and proof). Returns the DANE use (TLS mandatory) or `None` for the plain CA
/// verification, with the reason in one line. A failed TLSA lookup is not decided here: the
/// caller must not deliver to that host at all (RFC 7672 §2.2).
pub(crate) fn decide(
    host: &str,
    proofs: HostProofs<'_>,
    owner: &str,
    records: &[Tlsa],
    proof: Option<&str>,
    next_hop: Option<&str>,
    base: &str,
) -> (Option<DaneUse>, String) {
    if let Some(p) = proofs.mx.filter(|p| *p != "secure") {
        return (
            None,
            format!("the MX records naming {host} are {p}: DANE does not apply (RFC 7672 §2.2.1)"),
        );
    }
    match proofs.addresses {
        Some("secure") => {}
        Some(p) => {
            return (
                None,
                format!("the addresses of {host} are {p}: DANE does not apply (RFC 7672 §2.2.2)"),
            );
        }
        None => {
            return (
                None,
                format!("{host} is an address, not a name with TLSA records"),
            );
        }
    }
    let proof = proof.unwrap_or("unvalidated");
    if proof != "secure" {
        return (None, format!("{owner} is {proof}: no DANE (RFC 7672 §2.2)"));
    }
    if records.is_empty() {
        return (
            None,
            format!("{owner} has no TLSA record (secure denial): no DANE"),
        );
    }
    let usable: Vec<Tlsa> = records
        .iter()
        .filter(|r| r.unusable().is_none())
        .cloned()
        .collect();
    let names = reference_names(base, next_hop);
    if usable.is_empty() {
        return (
            Some(DaneUse::of(records, names)),
            format!(
                "{owner} is secure but none of its {} record{} is usable for SMTP (RFC 7672 §3.1.3): TLS is mandatory, the server is not authenticated (RFC 7672 §2.2; Postfix's \"encrypt\")",
                records.len(),
                plural_s(records.len())
            ),
        );
    }
    let n = usable.len();
    (
        Some(DaneUse::of(records, names)),
        format!("{owner} is secure with {n} usable record{}", plural_s(n)),
    )
}

/// The reference identifiers a DANE-TA(2) leaf must carry one of (RFC 7672 §3.2.2): the TLSA
/// base domain `base` first, then the next-hop domain the MX records were looked up for. The
/// MX host name is one only as the base domain: when it is an alias whose secure expansion
/// holds the TLSA records, the expanded name is the base and the alias is no reference name
/// (Postfix's smtp_tls_policy.c builds the same list: a leaf naming only the alias fails
/// there with "hostname mismatch"). Lower case, without trailing dots, each once.
pub(crate) fn reference_names(base: &str, next_hop: Option<&str>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for n in [Some(base), next_hop].into_iter().flatten() {
        let n = n.trim_end_matches('.').to_ascii_lowercase();
        if !n.is_empty() && !names.contains(&n) {
            names.push(n);
        }
    }
    names
}

/// Match `records` against `chain` (leaf first, as the server sent it). `names` are the
/// reference identifiers a DANE-TA(2) leaf must carry ([`reference_names`], RFC 7672
/// §3.2.2-3); `enforced` is only recorded in the verdict.
/// `auth_level` is the connection's OpenSSL security level: a DANE-TA chain is judged at it as
/// the CA path judges one (a SHA-1 signature or a short key fails both ways).
///
/// The work is linear in the records: each certificate is hashed once per (selector, matching
/// type) in use, and records are only compared against those digests.
pub(crate) fn verify(
    chain: &[X509],
    records: &[Tlsa],
    names: &[String],
    enforced: bool,
    auth_level: u32,
) -> DaneVerdict {
    let mut v = DaneVerdict {
        enforced,
        records: records.iter().map(|r| r.to_string()).collect(),
        names: names.to_vec(),
        ..Default::default()
    };
    let mut usable = Vec::new();
    for r in records {
        match r.unusable() {
            Some(why) => v.ignored.push(format!("{}: {why}", r.short())),
            None => usable.push(r),
        }
    }
    if chain.is_empty() {
        v.reason = Some("the server sent no certificate".into());
        return v;
    }
    if usable.is_empty() {
        v.reason = Some(format!(
            "no usable TLSA record (DANE-TA(2) or DANE-EE(3)) among the {} given",
            records.len()
        ));
        return v;
    }

    // Evidence: every (selector, matching type) the usable records use, at every depth.
    let mut kinds: Vec<(u8, u8)> = usable.iter().map(|r| (r.selector, r.mtype)).collect();
    kinds.sort_unstable();
    kinds.dedup();
    // (depth, record index) of every match where the usage allows that depth.
    let mut matches: Vec<(usize, usize)> = Vec::new();
    for (depth, cert) in chain.iter().enumerate() {
        let subject = crate::net::tls::cert_info(cert).subject;
        for &(selector, mtype) in &kinds {
            let digest = match association(cert, selector, mtype) {
                Ok(d) => d,
                Err(e) => {
                    v.evidence.push(DaneEvidence {
                        depth,
                        subject: subject.clone(),
                        selector: selector_name(selector).into(),
                        mtype: mtype_name(mtype).into(),
                        digest: String::new(),
                        matched: Vec::new(),
                        error: Some(e),
                    });
                    continue;
                }
            };
            let mut matched = Vec::new();
            for (i, r) in records.iter().enumerate() {
                let applies = match r.usage {
                    3 => depth == 0,
                    2 => depth > 0,
                    _ => false,
                };
                if applies
                    && r.unusable().is_none()
                    && r.selector == selector
                    && r.mtype == mtype
                    && r.data == digest
                {
                    matched.push(r.short());
                    matches.push((depth, i));
                }
            }
            v.evidence.push(DaneEvidence {
                depth,
                subject: subject.clone(),
                selector: selector_name(selector).into(),
                mtype: mtype_name(mtype).into(),
                digest: hex(&digest),
                matched,
                error: None,
            });
        }
    }

    // DANE-EE first: a leaf match authenticates on its own.
    if let Some(&(_, i)) = matches.iter().find(|(d, _)| *d == 0) {
        v.ok = true;
        v.matched = Some(records[i].to_string());
        v.matched_depth = Some(0);
        v.note = Some(
            "DANE-EE: the leaf matched; names and validity dates are not checked (RFC 7672 §3.1.1)"
                .into(),
        );
        return v;
    }
    // DANE-TA: the chain must verify to the matched certificate, and the leaf carry a name.
    let mut failures = Vec::new();
    for &(depth, i) in &matches {
        match verify_to_anchor(chain, &chain[depth], auth_level) {
            Err(why) => failures.push(format!(
                "{} matched depth {depth} but the chain does not verify to it: {why}",
                records[i].short()
            )),
            Ok(_) => match leaf_name(chain, names) {
                Ok(m) => {
                    v.ok = true;
                    v.matched = Some(records[i].to_string());
                    v.matched_depth = Some(depth);
                    v.note = Some(format!(
                        "DANE-TA: the chain verifies to the certificate at depth {depth}; the leaf's {m} matches"
                    ));
                    return v;
                }
                Err(names) => failures.push(format!(
                    "{} matched depth {depth} and the chain verifies, but no name in the leaf matches {names}",
                    records[i].short()
                )),
            },
        }
    }
    // DANE-TA with the whole anchor in the record (`2 0 0`, `2 1 0`): the server may leave the
    // anchor out of its chain (RFC 7671 §5.2.2, §5.2.3), so a chain the record's certificate or
    // key signed verifies, as OpenSSL's DANE code has it.
    for (i, r) in records.iter().enumerate() {
        if r.usage != 2 || r.mtype != 0 || r.unusable().is_some() {
            continue;
        }
        // Sent by the server after all: judged above at its depth.
        if matches.iter().any(|&(_, j)| j == i) {
            continue;
        }
        let found = match absent_anchor(chain, r, auth_level) {
            Ok(Some(found)) => found,
            Ok(None) => continue,
            Err(why) => {
                failures.push(format!("{}: {why}", r.short()));
                continue;
            }
        };
        match found {
            Err(why) => failures.push(format!(
                "{} (not sent by the server) does not anchor the chain: {why}",
                r.short()
            )),
            Ok((depth, how)) => match leaf_name(chain, names) {
                Ok(m) => {
                    v.ok = true;
                    v.matched = Some(r.to_string());
                    v.matched_depth = Some(depth);
                    v.note = Some(format!(
                        "DANE-TA: {how}, the anchor at depth {depth} (not sent by the server, RFC 7671 §5.2.2); the leaf's {m} matches"
                    ));
                    return v;
                }
                Err(names) => failures.push(format!(
                    "{} anchors the chain at depth {depth}, but no name in the leaf matches {names}",
                    r.short()
                )),
            },
        }
    }
    v.reason = Some(if failures.is_empty() {
        let mut why = format!(
            "no TLSA record matched the certificate chain ({} usable record{}, {} certificate{})",
            usable.len(),
            plural_s(usable.len()),
            chain.len(),
            plural_s(chain.len())
        );
        // A DANE-TA digest can only match a certificate the server sends: one that sends its
        // leaf alone leaves nothing to match (RFC 7671 §5.2.2: the anchor must be in the chain).
        let ta_digest = usable.iter().any(|r| r.usage == 2 && r.mtype != 0);
        if chain.len() == 1 && ta_digest {
            why.push_str(
                ": the server sent only its leaf certificate, and a DANE-TA(2) digest record \
                 matches only an issuer certificate the server includes in its chain \
                 (RFC 7671 §5.2.2)",
            );
        } else if let Some(top) = ta_digest.then(|| unsent_issuer(chain)).flatten() {
            // The common case: a record of the root (`2 1 1` of ISRG Root X1, say) and a
            // server that sends its leaf and intermediate, as most do, but not the root.
            let info = crate::net::tls::cert_info(top);
            why.push_str(&format!(
                ": the chain the server sent ends at {}, whose issuer {} it did not send, and a \
                 DANE-TA(2) digest record matches only a certificate the server includes in \
                 its chain (RFC 7671 §5.2.2): publish the record of a certificate it sends \
                 (its issuing CA), or send that issuer too",
                info.subject, info.issuer
            ));
        }
        why
    } else {
        failures.join("; ")
    });
    v
}

/// The certificate at the top of the path the server sent, when its issuer is not among what
/// it sent and it is not self-issued: a DANE-TA digest of that issuer cannot match. `None`
/// when the chain ends at a self-issued certificate (its root was sent).
fn unsent_issuer(chain: &[X509]) -> Option<&X509Ref> {
    use openssl::x509::X509VerifyResult;
    let issued_within = |c: &X509Ref| {
        chain
            .iter()
            .any(|i| i.issued(c) == X509VerifyResult::OK && i.to_der().ok() != c.to_der().ok())
    };
    chain
        .iter()
        .map(|c| c.as_ref())
        .find(|c| c.issued(c) != X509VerifyResult::OK && !issued_within(c))
}

/// The association data `cert` would have for `selector`/`mtype`.
fn association(cert: &X509Ref, selector: u8, mtype: u8) -> Result<Vec<u8>, String> {
    let der = match selector {
        0 => cert.to_der(),
        _ => cert.public_key().and_then(|k| k.public_key_to_der()),
    }
    .map_err(|e| format!("cannot encode the certificate: {e}"))?;
    let md = match mtype {
        0 => return Ok(der),
        1 => MessageDigest::sha256(),
        _ => MessageDigest::sha512(),
    };
    hash(md, &der)
        .map(|d| d.to_vec())
        .map_err(|e| format!("cannot hash: {e}"))
}

/// The anchor's depth above the leaf and how the chain reached it, or why it does not.
type Anchored = Result<(usize, String), String>;

/// A `2 0 0` or `2 1 0` record whose anchor the server did not send: `Ok(None)` when no
/// presented certificate links to it; else the anchor's depth above the leaf and how it was
/// reached, or why the chain does not verify to it. `Err` when the data is no certificate or
/// key. The leaf's own certificate or key is no anchor above it.
fn absent_anchor(chain: &[X509], r: &Tlsa, auth_level: u32) -> Result<Option<Anchored>, String> {
    if r.selector == 0 {
        let anchor = X509::from_der(&r.data)
            .map_err(|_| "the association data is not a certificate (DER)".to_string())?;
        if chain[0].to_der().is_ok_and(|d| d == r.data) {
            return Ok(None);
        }
        // Nothing presented was issued by it: not this chain's anchor.
        let key = anchor
            .public_key()
            .map_err(|_| "the certificate in the record has no usable key".to_string())?;
        if !chain.iter().any(|c| c.verify(&key).unwrap_or(false)) {
            return Ok(None);
        }
        return Ok(Some(verify_to_anchor(chain, &anchor, auth_level).map(
            |d| {
                (
                    d,
                    "the chain verifies to the certificate in the record".to_string(),
                )
            },
        )));
    }
    let key = openssl::pkey::PKey::public_key_from_der(&r.data).map_err(|_| {
        "the association data is not a public key (SubjectPublicKeyInfo)".to_string()
    })?;
    // The bare key is judged at the security level as an anchor certificate's key would be
    // (OpenSSL's levels 1–5: 80, 112, 128, 192, 256 bits of security).
    let floor = [0, 80, 112, 128, 192, 256][auth_level.min(5) as usize];
    if key.security_bits() < floor {
        return Ok(Some(Err(format!(
            "the key offers {} bits of security, below the {floor} of security level {auth_level}",
            key.security_bits()
        ))));
    }
    let mut last = None;
    for cert in chain {
        // The certificate holding this key is the anchor itself (matched by digest above).
        if association(cert, 1, 0).is_ok_and(|spki| spki == r.data) {
            continue;
        }
        if !cert.verify(&key).unwrap_or(false) {
            continue;
        }
        // That signature is judged at the security level too, as the anchor's would be.
        if auth_level >= 1 && weak_digest(cert) {
            last = Some("CA signature digest algorithm too weak".to_string());
            continue;
        }
        // Signed by the anchor key: trusted as the anchor's child; the leaf must verify to it.
        match verify_to_anchor(chain, cert, auth_level) {
            Ok(d) => {
                return Ok(Some(Ok((
                    d + 1,
                    format!("the record's key signed the certificate at depth {d}"),
                ))));
            }
            Err(why) => last = Some(why),
        }
    }
    Ok(last.map(Err))
}

/// Is `cert` signed with MD5 or SHA-1 (refused from security level 1)?
fn weak_digest(cert: &X509Ref) -> bool {
    use openssl::nid::Nid;
    cert.signature_algorithm()
        .object()
        .nid()
        .signature_algorithms()
        .is_some_and(|a| matches!(a.digest, Nid::SHA1 | Nid::MD5 | Nid::MD5_SHA1))
}

/// The reference name the leaf carries (RFC 7672 §3.2.3), or the names it lacks.
fn leaf_name(chain: &[X509], names: &[String]) -> Result<String, String> {
    names
        .iter()
        .find_map(|n| crate::net::tls::match_name(&chain[0], n, None))
        .ok_or_else(|| {
            if names.is_empty() {
                "(no name to check)".to_string()
            } else {
                names.join(", ")
            }
        })
}

/// Verify `chain[0]` with `anchor` as the only trust anchor (a partial chain: the anchor need
/// not be self-signed) and every other certificate the server presented as an untrusted
/// intermediate, in whatever order it sent them (RFC 8446 §4.4.2 lets it send them unordered;
/// OpenSSL's DANE code builds the path from all of them). Returns the anchor's depth in the
/// path built.
fn verify_to_anchor(chain: &[X509], anchor: &X509Ref, auth_level: u32) -> Result<usize, String> {
    let setup = |e: openssl::error::ErrorStack| format!("OpenSSL: {e}");
    let mut b = X509StoreBuilder::new().map_err(setup)?;
    // At the connection's security level, as the CA path judges a chain.
    crate::net::trust::set_auth_level(&mut b, auth_level).map_err(setup)?;
    b.add_cert(anchor.to_owned()).map_err(setup)?;
    b.set_flags(X509VerifyFlags::PARTIAL_CHAIN).map_err(setup)?;
    let store = b.build();
    let anchor_der = anchor.to_der().map_err(setup)?;
    let mut untrusted = Stack::new().map_err(setup)?;
    for c in &chain[1..] {
        if c.to_der().map_err(setup)? != anchor_der {
            untrusted.push(c.clone()).map_err(setup)?;
        }
    }
    let mut ctx = X509StoreContext::new().map_err(setup)?;
    let (ok, err, built) = ctx
        .init(&store, &chain[0], &untrusted, |c| {
            let ok = c.verify_cert()?;
            let built = c.chain().map(|s| s.len()).unwrap_or(0);
            Ok((ok, c.error(), built))
        })
        .map_err(setup)?;
    if ok {
        Ok(built.saturating_sub(1))
    } else {
        Err(err.error_string().to_string())
    }
}

fn selector_name(s: u8) -> &'static str {
    if s == 0 { "cert" } else { "spki" }
}

fn mtype_name(m: u8) -> &'static str {
    match m {
        0 => "full",
        1 => "sha256",
        _ => "sha512",
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if s.is_empty() || !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "the association data must be an even number of hex digits, got {:?}",
            if s.len() > 40 {
                format!("{}…", &s[..s.floor_char_boundary(40)])
            } else {
                s.to_string()
            }
        ));
    }
    Ok((0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
        .collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A CA, an intermediate it signed and a leaf for `mx.test` the intermediate signed, leaf
    /// first; the intermediate is valid from `inter_days` (negative = in the past) for a year.
    pub(crate) fn chain3() -> Vec<X509> {
        let mut cp = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        cp.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        cp.distinguished_name
            .push(rcgen::DnType::CommonName, "Root");
        let root =
            rcgen::CertifiedIssuer::self_signed(cp, rcgen::KeyPair::generate().unwrap()).unwrap();
        let mut ip = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ip.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ip.distinguished_name
            .push(rcgen::DnType::CommonName, "Intermediate");
        let inter =
            rcgen::CertifiedIssuer::signed_by(ip, rcgen::KeyPair::generate().unwrap(), &root)
                .unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["mx.test".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &inter)
            .unwrap();
        vec![
            X509::from_der(leaf.der()).unwrap(),
            X509::from_der(inter.der()).unwrap(),
            X509::from_der(root.der()).unwrap(),
        ]
    }

    /// The record `usage selector mtype` for `cert`, computed independently of [`association`]
    /// where it can be (the whole DER; the SPKI through OpenSSL's own encoder). Also used by
    /// `check::dane`'s tests.
    pub(crate) fn rec(usage: u8, selector: u8, mtype: u8, cert: &X509) -> Tlsa {
        let der = if selector == 0 {
            cert.to_der().unwrap()
        } else {
            cert.public_key().unwrap().public_key_to_der().unwrap()
        };
        let data = match mtype {
            0 => der,
            1 => openssl::sha::sha256(&der).to_vec(),
            _ => openssl::sha::sha512(&der).to_vec(),
        };
        Tlsa {
            usage,
            selector,
            mtype,
            data,
        }
    }

    /// The security level the tests judge chains at (Debian's default).
    const LEVEL: u32 = 2;

    fn names() -> Vec<String> {
        vec!["mx.test".to_string()]
    }

    #[test]
    fn presentation_forms() {
        let t =
            Tlsa::parse("3 1 1 AB12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12")
                .unwrap();
        assert_eq!((t.usage, t.selector, t.mtype), (3, 1, 1));
        assert_eq!(t.data.len(), 32);
        assert_eq!(t.data[0], 0xab);
        // A zone-file line, hex split by blanks.
        let z = Tlsa::parse(
            "_25._tcp.mx.test. 3600 IN TLSA 3 1 1 ab12cd34ef56ab12cd34ef56ab12cd34 ef56ab12cd34ef56ab12cd34ef56ab12",
        )
        .unwrap();
        assert_eq!(z, t);
        assert_eq!(
            t.to_string(),
            "3 1 1 ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12"
        );
        assert_eq!(t.short(), "3 1 1 ab12cd34ef56ab12…");
    }

    #[test]
    fn malformed_presentation_is_a_clear_error() {
        for (text, want) in [
            ("3 1 1", "USAGE SELECTOR MTYPE HEX"),
            ("x 1 1 ab", "usage \"x\""),
            ("3 256 1 ab", "selector \"256\""),
            ("3 1 1 abc", "even number of hex digits"),
            ("3 1 1 zz", "even number of hex digits"),
            ("3 1 1 ab12", "SHA2-256 digest is 32 octets, this one has 2"),
            ("3 1 2 ab12", "SHA2-512 digest is 64 octets"),
        ] {
            let e = Tlsa::parse(text).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn digest_lengths_and_unusable_parameters() {
        let rec = |usage, selector, mtype, data: &[u8]| Tlsa {
            usage,
            selector,
            mtype,
            data: data.to_vec(),
        };
        assert!(rec(3, 1, 1, &[7; 32]).check_length().is_ok());
        assert!(rec(3, 1, 2, &[7; 64]).check_length().is_ok());
        assert!(
            rec(3, 1, 1, &[9, 9])
                .check_length()
                .unwrap_err()
                .contains("32 octets, this one has 2")
        );
        assert!(
            rec(3, 1, 2, &[7; 32])
                .check_length()
                .unwrap_err()
                .contains("64 octets")
        );
        // Full (0) has no fixed length, but a bound.
        assert!(rec(3, 1, 0, &[1]).check_length().is_ok());
        assert!(
            rec(3, 1, 0, &vec![1; MAX_TLSA_DATA + 1])
                .check_length()
                .unwrap_err()
                .contains("octets of association data")
        );
        // Unknown parameters are data, but not usable.
        let u = rec(4, 1, 0, &[1]);
        assert!(u.check_length().is_ok());
        assert!(u.unusable().unwrap().contains("unknown usage 4"));
        assert!(rec(1, 1, 0, &[1]).unusable().unwrap().contains("PKIX-EE"));
        assert!(rec(3, 1, 1, &[7; 32]).unusable().is_none());
    }

    #[test]
    fn files_with_comments_and_line_numbers() {
        let good = "; rollover set\n_25._tcp.mx.test. IN TLSA 3 1 1 ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12\n\n2 0 2 # placeholder\n";
        let e = parse_records(good).unwrap_err();
        assert!(e.starts_with("line 4:"), "{e}");
        let ok = parse_records(&good.replace("2 0 2 # placeholder", "3 0 0 0102")).unwrap();
        assert_eq!(ok.len(), 2);
        assert!(
            parse_records("# nothing\n")
                .unwrap_err()
                .contains("no TLSA")
        );
    }

    /// Zone files split long records inside parentheses (RFC 1035 §5.1), comments included:
    /// read as one record, errors on the line the record starts, an unclosed or stray paren
    /// said so.
    #[test]
    fn files_with_records_across_lines_in_parentheses() {
        let digest = "bffa4d585172c4a5bf023b2742bff164a85e92a2712ce5b8fda4571157453d69";
        let text = format!(
            "; rollover\n_25._tcp.mx.test. 3600 IN TLSA ( 3 1 1\n  {} ; first half\n  {} )\n\
             _25._tcp.mx.test. 3600 IN TLSA (3 1 1 {digest})\n",
            &digest[..32],
            &digest[32..]
        );
        let got = parse_records(&text).unwrap();
        assert_eq!(got.len(), 2, "{got:?}");
        for t in &got {
            assert_eq!(t.to_string(), format!("3 1 1 {digest}"));
        }
        // The record after a multi-line one keeps its own line number in errors.
        let bad = format!("{text}\n_25._tcp.mx.test. IN TLSA (\n 3 1 1\n abcd )\n");
        let e = parse_records(&bad).unwrap_err();
        assert!(e.starts_with("line 7:"), "{e}");
        assert!(e.contains("32 octets"), "{e}");
        let e = parse_records(&format!(
            "3 1 1 {digest}\n_25._tcp IN TLSA ( 3 1 1\n{digest}\n"
        ))
        .unwrap_err();
        assert!(e.starts_with("line 2:") && e.contains("not closed"), "{e}");
        let e = parse_records(&format!("3 1 1 {digest} )\n")).unwrap_err();
        assert!(
            e.starts_with("line 1:") && e.contains("without an opening"),
            "{e}"
        );
        // A paren inside a comment is no paren.
        assert_eq!(
            parse_records(&format!("3 1 1 {digest} ; (rolled over)\n"))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn dane_ee_matches_the_leaf_only_with_every_selector_and_type() {
        let chain = chain3();
        for (s, m) in [(1, 1), (0, 1), (1, 2), (0, 2), (1, 0), (0, 0)] {
            let r = rec(3, s, m, &chain[0]);
            let v = verify(&chain, std::slice::from_ref(&r), &[], true, LEVEL);
            assert!(v.ok, "3 {s} {m}: {v:?}");
            assert_eq!(v.matched.as_deref(), Some(r.to_string().as_str()));
            assert_eq!(v.matched_depth, Some(0));
            // Evidence at depth 0 names the record; the other depths are computed, unmatched.
            let e0 = v.evidence.iter().find(|e| e.depth == 0).unwrap();
            assert_eq!(e0.matched, vec![r.short()]);
            assert_eq!(e0.digest, hex(&r.data));
            assert!(
                v.evidence
                    .iter()
                    .filter(|e| e.depth > 0)
                    .all(|e| e.matched.is_empty())
            );
            assert_eq!(v.evidence.len(), 3);
        }
        // A DANE-EE record for the intermediate never matches (EE means the leaf).
        let v = verify(&chain, &[rec(3, 1, 1, &chain[1])], &names(), true, LEVEL);
        assert!(!v.ok);
        assert_eq!(
            v.reason.unwrap(),
            "no TLSA record matched the certificate chain (1 usable record, 3 certificates)"
        );
    }

    #[test]
    fn dane_ee_skips_names_and_dates() {
        // A self-signed leaf for another name, expired: DANE-EE still authenticates it.
        let mut p = rcgen::CertificateParams::new(vec!["other.test".to_string()]).unwrap();
        p.not_before = rcgen::date_time_ymd(2001, 1, 1);
        p.not_after = rcgen::date_time_ymd(2002, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        let c = X509::from_der(p.self_signed(&key).unwrap().der()).unwrap();
        let v = verify(
            std::slice::from_ref(&c),
            &[rec(3, 1, 1, &c)],
            &names(),
            true,
            LEVEL,
        );
        assert!(v.ok, "{v:?}");
        assert!(v.note.unwrap().contains("not checked"));
    }

    #[test]
    fn dane_ta_needs_the_chain_to_verify_and_a_name() {
        let chain = chain3();
        // 2 1 1 for the intermediate, 2 0 2 for the root: both authenticate mx.test.
        for (depth, s, m) in [(1, 1, 1), (2, 0, 2), (1, 0, 1)] {
            let r = rec(2, s, m, &chain[depth]);
            let v = verify(&chain, std::slice::from_ref(&r), &names(), true, LEVEL);
            assert!(v.ok, "2 {s} {m} at {depth}: {v:?}");
            assert_eq!(v.matched_depth, Some(depth));
            assert!(v.note.unwrap().contains("DNS:mx.test"));
        }
        // The right anchor, the wrong name.
        let v = verify(
            &chain,
            &[rec(2, 1, 1, &chain[1])],
            &["mail.other.test".to_string()],
            true,
            LEVEL,
        );
        assert!(!v.ok);
        let reason = v.reason.unwrap();
        assert!(
            reason.contains("no name in the leaf matches mail.other.test"),
            "{reason}"
        );
        // A DANE-TA record for the leaf itself is not a trust anchor above it.
        let v = verify(&chain, &[rec(2, 1, 1, &chain[0])], &names(), true, LEVEL);
        assert!(!v.ok);
        // The anchor is not the leaf's issuer chain: an unrelated CA's key.
        let other = chain3();
        let v = verify(&chain, &[rec(2, 1, 1, &other[1])], &names(), true, LEVEL);
        assert!(!v.ok);
    }

    /// A server that sends its leaf alone under a DANE-TA digest record (`2 0 1` of its CA):
    /// nothing can match, and the reason says why (the anchor must be sent, RFC 7671 §5.2.2)
    /// instead of only "no TLSA record matched".
    #[test]
    fn dane_ta_digest_with_the_leaf_alone_names_the_missing_anchor() {
        let chain = chain3();
        for r in [rec(2, 0, 1, &chain[1]), rec(2, 1, 2, &chain[2])] {
            let v = verify(&chain[..1], std::slice::from_ref(&r), &names(), true, LEVEL);
            assert!(!v.ok);
            let reason = v.reason.unwrap();
            assert!(
                reason.contains("sent only its leaf certificate")
                    && reason.contains("RFC 7671 §5.2.2"),
                "{reason}"
            );
        }
        // A DANE-EE record that does not match says nothing of anchors.
        let v = verify(
            &chain[..1],
            &[rec(3, 1, 1, &chain[1])],
            &names(),
            true,
            LEVEL,
        );
        assert!(!v.reason.unwrap().contains("leaf certificate"));
    }

    /// A DANE-TA digest of the root while the server sends its leaf and intermediate but not
    /// the root (the usual Let's Encrypt chain under `2 1 1` of its root): no match can be
    /// made (RFC 7671 §5.2.2), and the reason said only "no TLSA record matched"; now it names
    /// the certificate the chain ends at and its unsent issuer. The intermediate's record
    /// passes; the root sent too, the root's record passes.
    #[test]
    fn dane_ta_digest_of_an_unsent_root_names_where_the_chain_ends() {
        let chain = chain3();
        for r in [rec(2, 1, 1, &chain[2]), rec(2, 0, 1, &chain[2])] {
            let v = verify(&chain[..2], std::slice::from_ref(&r), &names(), true, LEVEL);
            assert!(!v.ok);
            let reason = v.reason.unwrap();
            assert!(
                reason.contains(
                    "the chain the server sent ends at /CN=Intermediate, whose issuer /CN=Root \
                     it did not send"
                ) && reason.contains("RFC 7671 §5.2.2"),
                "{reason}"
            );
            // The whole chain sent: the root's record anchors it.
            let v = verify(&chain, std::slice::from_ref(&r), &names(), true, LEVEL);
            assert!(v.ok, "{:?}", v.reason);
        }
        // 2 1 1 of the intermediate, leaf and intermediate sent (RFC 7672 §3.1.2's common
        // DANE-TA form): pass at depth 1.
        let v = verify(
            &chain[..2],
            &[rec(2, 1, 1, &chain[1])],
            &names(),
            true,
            LEVEL,
        );
        assert!(v.ok, "{:?}", v.reason);
        assert_eq!(v.matched_depth, Some(1));
        // Another CA's record while the root was sent: no such hint (the chain is whole).
        let other = chain3();
        let v = verify(&chain, &[rec(2, 1, 1, &other[2])], &names(), true, LEVEL);
        assert!(!v.reason.unwrap().contains("did not send"));
    }

    /// The DANE-TA reference names of an MX host that is an alias whose secure expansion holds
    /// the TLSA records: the base domain (the expansion) and the next-hop domain, not the
    /// alias (RFC 7672 §3.2.2). A leaf naming only the alias passed; Postfix fails it
    /// ("hostname mismatch"), and so does ehlo now. Records at the host's own name: the host
    /// is the base, and its name passes.
    #[test]
    fn an_mx_alias_is_no_reference_name_beside_its_expansion() {
        let chain = chain3(); // the leaf names mx.test
        let anchor = [rec(2, 0, 1, &chain[1])];
        let proofs = HostProofs {
            mx: Some("secure"),
            addresses: Some("secure"),
        };
        let owner = "_25._tcp.real.test";
        let (got, _) = decide(
            "mx.test",
            proofs,
            owner,
            &anchor,
            Some("secure"),
            Some("d.test."),
            "real.test",
        );
        let names = got.unwrap().names;
        assert_eq!(names, ["real.test", "d.test"]);
        let v = verify(&chain, &anchor, &names, true, LEVEL);
        assert!(!v.ok, "{v:?}");
        assert!(
            v.reason
                .as_deref()
                .unwrap_or_default()
                .contains("real.test, d.test"),
            "{v:?}"
        );
        let (got, _) = decide(
            "mx.test",
            proofs,
            "_25._tcp.mx.test",
            &anchor,
            Some("secure"),
            Some("d.test"),
            "MX.test.",
        );
        let names = got.unwrap().names;
        assert_eq!(names, ["mx.test", "d.test"]);
        assert!(verify(&chain, &anchor, &names, true, LEVEL).ok);
        assert_eq!(reference_names("d.test", Some("D.test.")), ["d.test"]);
    }

    /// A secure TLSA RRset with no usable record (PKIX-EE usage 1, an unknown usage) makes TLS
    /// mandatory without authentication (RFC 7672 §2.2, §3.1.3; Postfix's "encrypt"): the
    /// connection's settings do not enforce verification and say why, the base domain is
    /// still the SNI (RFC 7672 §8.1). It used to fall back to the CA check, which a DANE sender
    /// never does. Beside a usable record every record is kept (the ignored ones are shown).
    #[test]
    fn unusable_records_alone_mean_tls_without_authentication() {
        let chain = chain3();
        let proofs = HostProofs {
            mx: Some("secure"),
            addresses: Some("secure"),
        };
        let odd = [rec(1, 1, 1, &chain[0]), rec(4, 1, 1, &chain[0])];
        let (got, why) = decide(
            "mx.test",
            proofs,
            "_25._tcp.real.test",
            &odd,
            Some("secure"),
            Some("d.test"),
            "real.test",
        );
        let got = got.expect("TLS is mandatory");
        assert!(got.tlsa.is_empty(), "{got:?}");
        assert!(why.contains("not authenticated"), "{why}");
        assert!(!why.contains("CA store"), "{why}");
        let link = crate::net::tls::TlsParams {
            verify: true,
            ..Default::default()
        };
        let p = got.tls_params(&link, false);
        assert!(!p.verify && p.dane_unusable && p.tlsa.is_empty(), "{p:?}");
        assert_eq!(p.sni.as_deref(), Some("real.test"));
        let mixed = [odd[0].clone(), rec(3, 1, 1, &chain[0])];
        let got = DaneUse::of(&mixed, vec!["real.test".into()]);
        assert_eq!(got.tlsa, mixed);
        let p = got.tls_params(&link, false);
        assert!(p.verify && !p.dane_unusable, "{p:?}");
    }

    /// A server may send its intermediates in any order (RFC 8446 §4.4.2): `[leaf, root,
    /// intermediate]` with `2 1 1 <root>` verifies, as with OpenSSL's DANE code (it used to
    /// fail with "unable to get local issuer certificate": only the certificates between the
    /// leaf and the matched depth were offered to the path builder).
    #[test]
    fn dane_ta_accepts_a_chain_sent_out_of_order() {
        let c = chain3();
        let unordered = vec![c[0].clone(), c[2].clone(), c[1].clone()];
        for anchor in [rec(2, 1, 1, &c[2]), rec(2, 0, 1, &c[2])] {
            let v = verify(
                &unordered,
                std::slice::from_ref(&anchor),
                &names(),
                true,
                LEVEL,
            );
            assert!(v.ok, "{anchor}: {v:?}");
            assert_eq!(v.matched_depth, Some(1));
        }
        // The intermediate as the anchor, sent last: still verifies.
        let v = verify(&unordered, &[rec(2, 1, 1, &c[1])], &names(), true, LEVEL);
        assert!(v.ok, "{v:?}");
        // Out of order is no licence to skip a link: without the intermediate the root is no
        // issuer of the leaf.
        let v = verify(
            &[c[0].clone(), c[2].clone()],
            &[rec(2, 1, 1, &c[2])],
            &names(),
            true,
            LEVEL,
        );
        assert!(!v.ok);
        assert!(v.reason.unwrap().contains("unable to get local issuer"),);
    }

    /// `2 1 0` and `2 0 0` carry the whole key or certificate of the anchor, so the server may
    /// leave the anchor out of its chain (RFC 7671 §5.2.2, §5.2.3): a chain the key signed
    /// verifies, as with OpenSSL's DANE code (it used to be "no TLSA record matched").
    #[test]
    fn dane_ta_full_records_need_no_anchor_in_the_chain() {
        let c = chain3();
        // Leaf and intermediate sent, the root in the record only.
        let sent = vec![c[0].clone(), c[1].clone()];
        for r in [rec(2, 1, 0, &c[2]), rec(2, 0, 0, &c[2])] {
            let v = verify(&sent, std::slice::from_ref(&r), &names(), true, LEVEL);
            assert!(v.ok, "{}: {v:?}", r.short());
            assert_eq!(v.matched_depth, Some(2), "{}", r.short());
            let note = v.note.unwrap();
            assert!(
                note.contains("not sent") && note.contains("DNS:mx.test"),
                "{note}"
            );
        }
        // The leaf alone, the intermediate that signed it in the record.
        let leaf = vec![c[0].clone()];
        for r in [rec(2, 1, 0, &c[1]), rec(2, 0, 0, &c[1])] {
            let v = verify(&leaf, std::slice::from_ref(&r), &names(), true, LEVEL);
            assert!(v.ok, "{}: {v:?}", r.short());
            assert_eq!(v.matched_depth, Some(1), "{}", r.short());
        }
        // The leaf alone and the root's key: no path without the intermediate.
        for r in [rec(2, 1, 0, &c[2]), rec(2, 0, 0, &c[2])] {
            let v = verify(&leaf, std::slice::from_ref(&r), &names(), true, LEVEL);
            assert!(!v.ok, "{}: {v:?}", r.short());
        }
        // A digest of an anchor that was not sent cannot be checked.
        let v = verify(&leaf, &[rec(2, 1, 1, &c[1])], &names(), true, LEVEL);
        assert!(!v.ok);
        assert!(v.reason.unwrap().contains("no TLSA record matched"));
        // The leaf's own key or certificate is no anchor above it.
        let v = verify(
            &leaf,
            &[rec(2, 1, 0, &c[0]), rec(2, 0, 0, &c[0])],
            &names(),
            true,
            LEVEL,
        );
        assert!(!v.ok, "{v:?}");
        // The name is still checked.
        let v = verify(
            &leaf,
            &[rec(2, 1, 0, &c[1])],
            &["mail.other.test".to_string()],
            true,
            LEVEL,
        );
        assert!(!v.ok);
        let reason = v.reason.unwrap();
        assert!(reason.contains("no name in the leaf matches"), "{reason}");
        // A bare key is judged at the security level: its SHA-1 signature on the leaf and a
        // short key fail, as through an anchor certificate.
        let (ca, sha1_leaf, _) = crate::net::tls::tests::sha1_signed_leaf();
        let localhost = vec!["localhost".to_string()];
        let bare = rec(2, 1, 0, &ca);
        let v = verify(
            std::slice::from_ref(&sha1_leaf),
            std::slice::from_ref(&bare),
            &localhost,
            true,
            LEVEL,
        );
        assert!(!v.ok, "{v:?}");
        assert!(v.reason.unwrap().contains("too weak"));
        let v = verify(&[sha1_leaf], &[bare], &localhost, true, 0);
        assert!(v.ok, "{v:?}");
        let rsa =
            openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(1024).unwrap()).unwrap();
        let short = Tlsa {
            usage: 2,
            selector: 1,
            mtype: 0,
            data: rsa.public_key_to_der().unwrap(),
        };
        let v = verify(&leaf, &[short], &names(), true, LEVEL);
        assert!(!v.ok);
        let reason = v.reason.unwrap();
        assert!(
            reason.contains("bits of security, below the 112"),
            "{reason}"
        );
        // Association data that is no key or certificate is said so.
        let junk = Tlsa {
            usage: 2,
            selector: 1,
            mtype: 0,
            data: vec![1, 2, 3],
        };
        let v = verify(&leaf, &[junk], &names(), true, LEVEL);
        assert!(!v.ok);
        let reason = v.reason.unwrap();
        assert!(reason.contains("not a public key"), "{reason}");
    }

    /// A DANE-TA(2) chain is judged at the connection's security level, as the CA path judges
    /// it: a leaf its anchor signed with SHA-1 fails (it used to pass, the anchor's store had no
    /// auth level), and passes only at level 0.
    #[test]
    fn dane_ta_judges_the_chain_at_the_security_level() {
        let (ca, leaf, _) = crate::net::tls::tests::sha1_signed_leaf();
        let chain = vec![leaf, ca];
        let anchor = rec(2, 0, 1, &chain[1]);
        let localhost = vec!["localhost".to_string()];
        for level in [1, LEVEL] {
            let v = verify(
                &chain,
                std::slice::from_ref(&anchor),
                &localhost,
                true,
                level,
            );
            assert!(!v.ok, "level {level}: {v:?}");
            let reason = v.reason.unwrap();
            assert!(
                reason.contains("does not verify to it: CA signature digest algorithm too weak"),
                "level {level}: {reason}"
            );
        }
        // The level is what differs: the same chain passes at level 0.
        let v = verify(&chain, &[anchor], &localhost, true, 0);
        assert!(v.ok, "{v:?}");
        assert_eq!(v.matched_depth, Some(1));
    }

    #[test]
    fn dane_ta_checks_dates() {
        // Intermediate valid, leaf expired: DANE-TA fails where DANE-EE would pass.
        let mut ip = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ip.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ip.distinguished_name.push(rcgen::DnType::CommonName, "TA");
        let ta =
            rcgen::CertifiedIssuer::self_signed(ip, rcgen::KeyPair::generate().unwrap()).unwrap();
        let mut lp = rcgen::CertificateParams::new(vec!["mx.test".to_string()]).unwrap();
        lp.not_before = rcgen::date_time_ymd(2001, 1, 1);
        lp.not_after = rcgen::date_time_ymd(2002, 1, 1);
        let leaf = lp
            .signed_by(&rcgen::KeyPair::generate().unwrap(), &ta)
            .unwrap();
        let chain = vec![
            X509::from_der(leaf.der()).unwrap(),
            X509::from_der(ta.der()).unwrap(),
        ];
        let v = verify(&chain, &[rec(2, 1, 1, &chain[1])], &names(), true, LEVEL);
        assert!(!v.ok);
        let reason = v.reason.unwrap();
        assert!(
            reason.contains("does not verify to it: certificate has expired"),
            "{reason}"
        );
        let v = verify(&chain, &[rec(3, 1, 1, &chain[0])], &names(), true, LEVEL);
        assert!(v.ok);
    }

    #[test]
    fn rollover_set_mismatch_and_unusable_records() {
        let chain = chain3();
        let next = chain3();
        // Old key + next key published: the current one matches.
        let set = [rec(3, 1, 1, &next[0]), rec(3, 1, 1, &chain[0])];
        let v = verify(&chain, &set, &names(), true, LEVEL);
        assert!(v.ok);
        assert_eq!(v.matched, Some(set[1].to_string()));
        // Only the next key: a mismatch, and the evidence holds the digest to publish.
        let v = verify(&chain, &set[..1], &names(), true, LEVEL);
        assert!(!v.ok);
        assert!(
            v.reason
                .as_deref()
                .unwrap()
                .contains("no TLSA record matched")
        );
        let want = hex(&rec(3, 1, 1, &chain[0]).data);
        assert!(v.evidence.iter().any(|e| e.depth == 0 && e.digest == want));
        // PKIX usages and unknown parameters are ignored with a reason, never matched.
        let pkix = rec(1, 1, 1, &chain[0]);
        let odd = Tlsa {
            usage: 3,
            selector: 7,
            mtype: 1,
            data: vec![0; 32],
        };
        let v = verify(&chain, &[pkix, odd], &names(), true, LEVEL);
        assert!(!v.ok);
        assert_eq!(v.ignored.len(), 2, "{:?}", v.ignored);
        assert!(v.reason.unwrap().contains("no usable TLSA record"));
        // No certificate at all.
        let v = verify(&[], &[rec(3, 1, 1, &chain[0])], &names(), true, LEVEL);
        assert!(!v.ok);
        assert!(v.reason.unwrap().contains("no certificate"));
    }

    #[test]
    fn enormous_record_sets_stay_linear() {
        let chain = chain3();
        let mut set: Vec<Tlsa> = (0..10_000)
            .map(|i| Tlsa {
                usage: 3,
                selector: 1,
                mtype: 1,
                data: vec![(i % 251) as u8; 32],
            })
            .collect();
        let v = verify(&chain, &set, &names(), true, LEVEL);
        assert!(!v.ok);
        // Each certificate is hashed once whatever the number of records.
        assert_eq!(v.evidence.len(), chain.len());
        set.push(rec(3, 1, 1, &chain[0]));
        let v = verify(&chain, &set, &names(), true, LEVEL);
        assert!(v.ok);
        assert_eq!(v.matched_depth, Some(0));
    }
}
