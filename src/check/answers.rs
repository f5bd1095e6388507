//! The MX and address answers of one domain's `check`, each question asked once: of the
//! validating resolver when DNSSEC is on — the `dnssec.*` and `dane.*` checks read its proofs,
//! `mx.*` the same records — and of the plain one with `--dnssec off`. An answer the validator
//! refuses (bogus, or no verdict within its budget) is asked again of the plain resolver for the
//! checks that judge the published data, so `mx.*` sees what a non-validating sender sees while
//! `dnssec.*` reports the failure (RFC 4035 §5.5, RFC 7672 §2.2); after a timeout, only within
//! what is left of the one lookup's time.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use hickory_resolver::proto::rr::{RData, RecordType};

use crate::net::dns::{DnsError, Family, Resolver, RrSet, TlsaAnswer, parse_ip_literal};

/// One question's answer and how long asking it took.
type Asked = (Result<RrSet, DnsError>, Duration);

/// One domain's DNS answers (MX, A, AAAA of the domain and its MX hosts), remembered.
pub(crate) struct Answers<'a> {
    /// Without DNSSEC: the resolver of the other checks.
    plain: &'a Resolver,
    /// The validating resolver (`None` with `--dnssec off`).
    validator: Option<&'a Resolver>,
    /// (lower-case name, type) → the first answer to that question and how long it took. The
    /// check runs on one thread and never holds a borrow across an await.
    seen: RefCell<HashMap<(String, RecordType), Asked>>,
}

impl<'a> Answers<'a> {
    pub(crate) fn new(plain: &'a Resolver, validator: Option<&'a Resolver>) -> Answers<'a> {
        Answers {
            plain,
            validator,
            seen: RefCell::default(),
        }
    }

    /// Is DNSSEC validated (not `--dnssec off`)?
    pub(crate) fn validating(&self) -> bool {
        self.validator.is_some()
    }

    /// The TLSA records of `host`:`port` (RFC 7672 §2.2), a question only DANE asks: of the
    /// validating resolver.
    pub(crate) async fn tlsa(&self, host: &str, port: u16) -> Result<TlsaAnswer, DnsError> {
        self.validator.unwrap_or(self.plain).tlsa(host, port).await
    }

    /// The answer with its DNSSEC proof (`None` proofs with `--dnssec off`): a validation
    /// failure is an error here. Asked once per (name, type).
    pub(crate) async fn validated(&self, name: &str, rtype: RecordType) -> Result<RrSet, DnsError> {
        self.validated_timed(name, rtype).await.0
    }

    /// [`Self::validated`] with the time the question took when it was asked.
    async fn validated_timed(&self, name: &str, rtype: RecordType) -> Asked {
        let key = (name.trim_end_matches('.').to_ascii_lowercase(), rtype);
        if let Some(hit) = self.seen.borrow().get(&key) {
            return hit.clone();
        }
        let t0 = Instant::now();
        let got = self
            .validator
            .unwrap_or(self.plain)
            .rrset(name, rtype)
            .await;
        let took = t0.elapsed();
        self.seen.borrow_mut().insert(key, (got.clone(), took));
        (got, took)
    }

    /// The records as published: the validated answer, or — when the validator refused it as
    /// a DNSSEC failure — the plain resolver's answer to the same question.
    pub(crate) async fn data(&self, name: &str, rtype: RecordType) -> Result<RrSet, DnsError> {
        let Some(validator) = self.validator else {
            return self.validated(name, rtype).await;
        };
        match self.validated_timed(name, rtype).await {
            // The server answered and the answer is bogus: the plain question gets it.
            (Err(e), _) if e.is_bogus() => self.plain.rrset(name, rtype).await,
            // No verdict in time may be the chain of trust's fault (a DNSKEY that never comes,
            // a validated lookup that gave up early): the plain question needs none of it, but
            // gets only what is left of the one lookup's time. A validated lookup that ran
            // its whole time had already asked plainly for the second half of it
            // (`Validated::lookup`), so a server that never answers costs one --timeout here,
            // not two.
            (Err(e), took) if e.is_timeout() => {
                let left = validator.budget().saturating_sub(took);
                if left.is_zero() {
                    return Err(e);
                }
                tokio::time::timeout(left, self.plain.rrset(name, rtype))
                    .await
                    .unwrap_or(Err(e))
            }
            (got, _) => got,
        }
    }

    /// The address records of `host` for `family` (both at once for [`Family::Any`], AAAA
    /// first), as [`Self::data`] gives them.
    pub(crate) async fn address_sets(
        &self,
        host: &str,
        family: Family,
    ) -> Vec<Result<RrSet, DnsError>> {
        match family {
            Family::Any => {
                let (six, four) = tokio::join!(
                    self.data(host, RecordType::AAAA),
                    self.data(host, RecordType::A)
                );
                vec![six, four]
            }
            Family::V4 => vec![self.data(host, RecordType::A).await],
            Family::V6 => vec![self.data(host, RecordType::AAAA).await],
        }
    }

    /// The addresses of `host` (the implicit MX of a domain without MX records), with the
    /// errors of [`Resolver::addresses`]: NXDOMAIN, no address of the family, or a failed
    /// lookup when nothing answered. Literals and `localhost` are the plain resolver's (no DNS).
    pub(crate) async fn addresses(
        &self,
        host: &str,
        family: Family,
    ) -> Result<Vec<IpAddr>, DnsError> {
        let name = host.trim().trim_end_matches('.');
        if parse_ip_literal(name).is_some() || name.eq_ignore_ascii_case("localhost") {
            return self.plain.addresses(host, family).await;
        }
        let sets = self.address_sets(name, family).await;
        let mut addrs = Vec::new();
        let mut nx = false;
        let mut error = None;
        for s in sets {
            match s {
                Ok(s) => {
                    nx |= s.nxdomain;
                    addrs.extend(s.records.iter().filter_map(|d| match d {
                        RData::A(a) => Some(IpAddr::V4(a.0)),
                        RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                        _ => None,
                    }));
                }
                Err(e) => error = Some(e),
            }
        }
        if !addrs.is_empty() {
            return Ok(addrs);
        }
        if nx {
            return Err(DnsError::NxDomain(name.to_string()));
        }
        match error {
            Some(e) => Err(e),
            None => {
                // A CNAME loop or an unfollowed chain is no "no address".
                self.chain_trouble(name, family).await?;
                Err(DnsError::NoAddress {
                    name: name.to_string(),
                    family: match family {
                        Family::Any => "A/AAAA",
                        Family::V4 => "A",
                        Family::V6 => "AAAA",
                    },
                })
            }
        }
    }

    /// Why `host` has no address records of `family` when its CNAME chain is the reason (a
    /// loop, a chain not followed to its end), asked of the plain resolver.
    pub(crate) async fn chain_trouble(&self, host: &str, family: Family) -> Result<(), DnsError> {
        let types: &[RecordType] = match family {
            Family::Any => &[RecordType::AAAA, RecordType::A],
            Family::V4 => &[RecordType::A],
            Family::V6 => &[RecordType::AAAA],
        };
        self.plain.chain_trouble(host, types).await
    }
}
