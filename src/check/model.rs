//! The result model of `ehlo check`: statuses, the table of check ids (with their RFC sections
//! and scope), one [`CheckResult`] per check, one [`DomainReport`] per domain, and the run's
//! verdict → exit code rule.

use serde::Serialize;
use serde_json::{Map, Value};

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// The rule holds.
    Pass,
    /// Worth knowing, no judgement (e.g. REQUIRETLS advertised, no MTA-STS published).
    Info,
    /// Not run (not applicable, or left out with `--only`/`--skip`).
    Skip,
    /// Works, but against advice (an RFC SHOULD, a soon-expiring certificate).
    Warn,
    /// Could not be tested: DNS failure, timeout, `421` — retryable, never a verdict.
    Error,
    /// The rule is broken.
    Fail,
}

impl Status {
    /// All statuses, for the `--expect ID=STATUS` grammar.
    pub(crate) const ALL: [Status; 6] = [
        Status::Pass,
        Status::Info,
        Status::Skip,
        Status::Warn,
        Status::Error,
        Status::Fail,
    ];

    /// Lower-case name (`pass`, `warn`, …).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Info => "info",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Error => "error",
            Status::Fail => "fail",
        }
    }

    /// Parse a lower- or upper-case name (`inconclusive`, `ehlo probe`'s name for `error`, too).
    pub(crate) fn parse(s: &str) -> Option<Status> {
        if s.trim().eq_ignore_ascii_case("inconclusive") {
            return Some(Status::Error);
        }
        Status::ALL
            .into_iter()
            .find(|st| st.name().eq_ignore_ascii_case(s.trim()))
    }

    /// Severity for "worst of": pass < info = skip < warn < error < fail.
    pub(crate) fn rank(self) -> u8 {
        match self {
            Status::Pass => 0,
            Status::Info | Status::Skip => 1,
            Status::Warn => 2,
            Status::Error => 3,
            Status::Fail => 4,
        }
    }
}

/// Whether a check is about the domain or about one (MX host, address) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Once per domain.
    Domain,
    /// Once per (MX host, address), probed once per run and shared between domains.
    Host,
}

/// One check id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CheckDef {
    /// Dotted id (`tls.starttls`).
    pub(crate) id: &'static str,
    /// The rule's source.
    pub(crate) rfc: &'static str,
    /// Scope.
    pub(crate) scope: Scope,
}

const fn def(id: &'static str, rfc: &'static str, scope: Scope) -> CheckDef {
    CheckDef { id, rfc, scope }
}

/// Every check `ehlo check` runs, in report order.
pub(crate) const CHECKS: &[CheckDef] = &[
    // MX records exist (implicit MX warns, NXDOMAIN fails)
    def("mx.lookup", "RFC 5321 §5.1", Scope::Domain),
    // a null MX stands alone (pass = the domain accepts no mail)
    def("mx.null", "RFC 7505 §3", Scope::Domain),
    // each MX names a host with public addresses, not a CNAME or an IP literal
    def("mx.target", "RFC 5321 §5.1, RFC 2181 §10.3", Scope::Domain),
    // at least one MX has an IPv6 address, and it answers
    def("ipv6.mx", "RFC 3596", Scope::Domain),
    // exactly one v=STSv1 record with a valid id at _mta-sts
    def("mtasts.txt", "RFC 8461 §3.1", Scope::Domain),
    // the policy is served over HTTPS with a valid certificate, 200, text/plain, ≤ 64 KiB, no redirect
    def("mtasts.fetch", "RFC 8461 §3.3", Scope::Domain),
    // the policy parses: version STSv1, a mode, max_age ≤ 31557600, mx lines
    def("mtasts.policy", "RFC 8461 §3.2", Scope::Domain),
    // every MX host matches an mx pattern of the policy
    def("mtasts.mx-match", "RFC 8461 §4.1", Scope::Domain),
    // one v=TLSRPTv1 record with a mailto: or https: rua at _smtp._tls
    def("tlsrpt.record", "RFC 8460 §3", Scope::Domain),
    // one v=spf1 record, at most 10 DNS lookups with includes followed, no +all
    def("spf.record", "RFC 7208 §4.5, §4.6.4", Scope::Domain),
    // one v=DMARC1 record at _dmarc (or the nearest parent's) with a policy stronger than none
    def("dmarc.record", "RFC 7489 §6.1", Scope::Domain),
    // _domainkey exists (keys are likely published)
    def("dkim.hint", "RFC 6376 §3.6.2, RFC 8020", Scope::Domain),
    // the domain's MX RRset as published validates (DNSSEC secure; unsigned = info, bogus
    // fails); with --host HOST too, which replaces the hosts it names, not the records
    def(
        "dnssec.domain",
        "RFC 4035 §5, RFC 7672 §2.2.1",
        Scope::Domain,
    ),
    // each MX host's addresses validate (unsigned = info, bogus fails)
    def("dnssec.mx", "RFC 4035 §5, RFC 7672 §2.2.2", Scope::Domain),
    // the TLSA lookup at _25._tcp.MX (secure: DANE applies; insecure/absent: info; bogus or
    // SERVFAIL fails: senders defer)
    def("dane.tlsa", "RFC 7672 §2.2", Scope::Domain),
    // every TLSA record is DANE-TA(2)/DANE-EE(3) with a known selector and matching type
    def("dane.usable", "RFC 7672 §3.1.3", Scope::Domain),
    // two usable records (3 x x + 3 x x, or 3 x x + 2 x x) so a key change keeps one valid
    def(
        "dane.rollover",
        "RFC 7671 §8.1, RFC 7672 §3.1",
        Scope::Domain,
    ),
    // the MX address accepts a TCP connection
    def("smtp.connect", "RFC 5321 §4.5.3.2", Scope::Host),
    // a 220 greeting (421 = could not test, never a verdict)
    def("smtp.banner", "RFC 5321 §4.2, §4.3.1", Scope::Host),
    // EHLO is accepted; the extensions are recorded
    def("smtp.ehlo", "RFC 5321 §4.1.1.1", Scope::Host),
    // the greeting names the MX host or its PTR name
    def("smtp.banner-name", "RFC 5321 §4.1.1.1, §4.3.1", Scope::Host),
    // opt-in (--rcpt-probe): MAIL FROM:<> and RCPT TO:<postmaster@DOMAIN> are accepted
    def("smtp.postmaster", "RFC 5321 §4.5.1, §4.5.5", Scope::Host),
    // opt-in (--relay-probe): a recipient in an outside domain is refused
    def("smtp.open-relay", "RFC 5321 §3.6.2, §7.1", Scope::Host),
    // STARTTLS is offered
    def("tls.starttls", "RFC 3207 §4", Scope::Host),
    // the TLS handshake completes, TLS 1.2 or later
    def("tls.handshake", "RFC 3207 §4.2, RFC 8446", Scope::Host),
    // opt-in (--tls-probe): TLS 1.2/1.3 accepted, 1.0/1.1 refused (one connection per version)
    def("tls.versions", "RFC 8996, RFC 9325 §3.1.1", Scope::Host),
    // the chain verifies to a trusted root (warn on plain port 25)
    def("tls.cert.chain", "RFC 5280 §6, RFC 7817", Scope::Host),
    // the certificate names the MX host (warn on plain port 25)
    def("tls.cert.name", "RFC 6125 §6.4, RFC 7817 §3", Scope::Host),
    // the certificate is valid for at least --cert-days more days
    def("tls.cert.expiry", "RFC 5280 §4.1.2.5", Scope::Host),
    // no MD5/MD4/MD2 signature (fail); no RSA key under 2048 bits, DSA key, EC key under 224
    // bits or SHA-1 signature (warn)
    def("tls.cert.key", "RFC 9325 §4.3", Scope::Host),
    // an MX with secure TLSA records offers STARTTLS and completes the handshake
    def("dane.starttls", "RFC 7672 §2.2", Scope::Host),
    // a usable TLSA record matches the certificate chain the MX presents
    def("dane.match", "RFC 7672 §3, RFC 7671 §5", Scope::Host),
    // the address has a PTR whose name resolves back to it
    def("rdns.fcrdns", "RFC 1912 §2.1, RFC 8601 §3", Scope::Host),
];

/// The step that kept the session from reaching a check which needs session step `step` on
/// one MX address, among that address's results `res`: `step` itself, or — when `step` was
/// skipped because an earlier one did not pass — that earlier step. So a skip always names a
/// step that failed or could not be tested, not another skip.
pub(crate) fn stopped_at(res: &[CheckResult], step: &'static str) -> &'static str {
    res.iter()
        .find(|c| c.id == step)
        .and_then(|c| c.skipped_after)
        .unwrap_or(step)
}

/// The definition of `id`, if it is one: a check, or an `ehlo probe` probe (both share this
/// result model, see `crate::probe`).
pub(crate) fn find(id: &str) -> Option<&'static CheckDef> {
    find_in(CHECKS, id).or_else(|| find_in(crate::probe::script::PROBES, id))
}

/// The definition of `id` in `table`.
pub(crate) fn find_in(table: &'static [CheckDef], id: &str) -> Option<&'static CheckDef> {
    table.iter().find(|d| d.id == id)
}

/// The ids of `table`, comma-separated.
pub(crate) fn id_list_in(table: &[CheckDef]) -> String {
    table.iter().map(|d| d.id).collect::<Vec<_>>().join(", ")
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct CheckResult {
    /// Check id.
    pub(crate) id: &'static str,
    /// Outcome.
    pub(crate) status: Status,
    /// One line for people.
    pub(crate) summary: String,
    /// MX host (host-scope checks, and per-host `mx.target` lines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mx: Option<String>,
    /// Address (host-scope checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ip: Option<String>,
    /// Milliseconds the step took, where timed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ms: Option<f64>,
    /// Machine-readable evidence (records, replies, certificate facts).
    pub(crate) evidence: Map<String, Value>,
    /// On a skip: the session step (`smtp.connect` … `tls.handshake`) that did not pass on this
    /// MX address, so that the session never got to this check; `None` on a skip for a reason
    /// of its own (no TLSA record, a loopback address without PTR, not selected). Set where the
    /// skip is made ([`CheckResult::skip_after`]), which also puts it in the evidence as
    /// `skipped_because`.
    #[serde(skip)]
    pub(crate) skipped_after: Option<&'static str>,
}

impl CheckResult {
    /// A domain-scope result.
    pub(crate) fn new(id: &'static str, status: Status, summary: impl Into<String>) -> CheckResult {
        debug_assert!(find(id).is_some(), "unknown check id {id}");
        CheckResult {
            id,
            status,
            summary: summary.into(),
            mx: None,
            ip: None,
            ms: None,
            evidence: Map::new(),
            skipped_after: None,
        }
    }

    /// A skip because session step `step` did not pass on this MX address (connection,
    /// greeting, EHLO, STARTTLS, handshake), so the session never got to check `id`: the step
    /// is kept ([`CheckResult::skipped_after`]) and shown in the evidence as `skipped_because`.
    pub(crate) fn skip_after(
        id: &'static str,
        step: &'static str,
        summary: impl Into<String>,
    ) -> CheckResult {
        debug_assert!(find(step).is_some(), "unknown step {step}");
        let mut c = CheckResult::new(id, Status::Skip, summary).with("skipped_because", step);
        c.skipped_after = Some(step);
        c
    }

    /// Add one evidence field.
    pub(crate) fn with(mut self, key: &str, value: impl Into<Value>) -> CheckResult {
        self.evidence.insert(key.to_string(), value.into());
        self
    }

    /// Record the time taken.
    pub(crate) fn timed(mut self, ms: f64) -> CheckResult {
        self.ms = Some((ms * 10.0).round() / 10.0);
        self
    }

    /// The RFC reference from the table.
    pub(crate) fn rfc(&self) -> &'static str {
        find(self.id).map(|d| d.rfc).unwrap_or("")
    }
}

/// A result as reported for one domain: the result plus how the domain's verdict treats it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Judged {
    /// The result.
    pub(crate) result: CheckResult,
    /// Counts towards the verdict (false when waived, or an MX-level failure another MX makes
    /// up for).
    pub(crate) counts: bool,
    /// `--waive` matched it.
    pub(crate) waived: bool,
    /// Why it does not count, when it does not.
    pub(crate) note: Option<String>,
}

/// An `--expect` that was evaluated for a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ExpectOutcome {
    /// The expectation as written.
    pub(crate) expect: String,
    /// Met? (False when unmet or not decided.)
    pub(crate) met: bool,
    /// What was found.
    pub(crate) found: String,
    /// Why it is neither met nor unmet, when it is not decided (the check did not finish, could
    /// not be tested, was skipped after a step that did not pass, the domain was cut).
    pub(crate) undecided: Option<String>,
}

impl ExpectOutcome {
    /// Unmet: decided, and not met (a failure of the domain).
    pub(crate) fn unmet(&self) -> bool {
        !self.met && self.undecided.is_none()
    }
}

/// Everything reported for one input line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DomainReport {
    /// Position in the input (reports are printed in input order).
    pub(crate) index: usize,
    /// The domain as given (or the malformed line).
    pub(crate) domain: String,
    /// Results in report order.
    pub(crate) checks: Vec<Judged>,
    /// Evaluated expectations.
    pub(crate) expects: Vec<ExpectOutcome>,
    /// A reason the domain could not be checked at all (malformed line, deadline).
    pub(crate) aborted: Option<String>,
    /// Wall time spent on the domain.
    pub(crate) ms: f64,
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Counts {
    /// pass
    pub(crate) pass: usize,
    /// info
    pub(crate) info: usize,
    /// skip
    pub(crate) skip: usize,
    /// warn
    pub(crate) warn: usize,
    /// error
    pub(crate) error: usize,
    /// fail
    pub(crate) fail: usize,
}

impl Counts {
    /// Count one status.
    pub(crate) fn add(&mut self, s: Status) {
        match s {
            Status::Pass => self.pass += 1,
            Status::Info => self.info += 1,
            Status::Skip => self.skip += 1,
            Status::Warn => self.warn += 1,
            Status::Error => self.error += 1,
            Status::Fail => self.fail += 1,
        }
    }

    /// Sum two tallies.
    pub(crate) fn merge(&mut self, o: &Counts) {
        self.pass += o.pass;
        self.info += o.info;
        self.skip += o.skip;
        self.warn += o.warn;
        self.error += o.error;
        self.fail += o.fail;
    }

    /// Add `o` `n` times.
    pub(crate) fn merge_times(&mut self, o: &Counts, n: usize) {
        self.pass += o.pass * n;
        self.info += o.info * n;
        self.skip += o.skip * n;
        self.warn += o.warn * n;
        self.error += o.error * n;
        self.fail += o.fail * n;
    }
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum FailOn {
    /// Only failures fail the run (exit 40).
    #[default]
    Fail,
    /// Warnings fail the run too.
    Warn,
}

/// `--cert-problems`: what a certificate chain or name problem (`tls.cert.chain`,
/// `tls.cert.name`) is on the probed port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum CertProblems {
    /// fail on implicit TLS (--tls-on-connect) and on ports 465 and 587, warn elsewhere
    #[default]
    Auto,
    /// fail: the clients of this port verify the certificate (RFC 8314 §5.3)
    Fail,
    /// warn: the clients of this port encrypt opportunistically (RFC 7435), as MTAs on port 25
    Warn,
}

impl DomainReport {
    /// Tally of the counted results.
    pub(crate) fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for j in &self.checks {
            c.add(j.result.status);
        }
        c
    }

    /// The domain's verdict: pass, or the worst counted warn/error/fail (a warn is a fail under
    /// `--fail-on warn`; an unmet expectation is a fail, one not decided an error; an aborted
    /// domain is an error). Info and
    /// skip judge nothing, so they leave a pass a pass.
    pub(crate) fn verdict(&self, fail_on: FailOn) -> Status {
        let mut worst = Status::Pass;
        for j in self.checks.iter().filter(|j| j.counts) {
            let s = match (j.result.status, fail_on) {
                (Status::Warn, FailOn::Warn) => Status::Fail,
                (Status::Info | Status::Skip, _) => Status::Pass,
                (s, _) => s,
            };
            if s.rank() > worst.rank() {
                worst = s;
            }
        }
        if self.expects.iter().any(ExpectOutcome::unmet) {
            worst = Status::Fail;
        }
        // Not decided: not tested, as an error is (41 unless something failed).
        if self.expects.iter().any(|e| e.undecided.is_some()) && worst.rank() < Status::Error.rank()
        {
            worst = Status::Error;
        }
        if self.aborted.is_some() && worst.rank() < Status::Error.rank() {
            worst = Status::Error;
        }
        worst
    }
}

/// What a run's summary and exit code need of its domains, added up one domain at a time (so a
/// run need not keep every report to the end).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Domains added.
    pub(crate) domains: usize,
    /// Results per status, over every domain.
    pub(crate) counts: Counts,
    /// Domains per verdict.
    pub(crate) verdicts: Counts,
    /// `--expect`s not decided, over every domain: `--untested-ok` does not pass them.
    pub(crate) undecided: usize,
}

impl Tally {
    /// Add one domain's results and verdict.
    pub(crate) fn add(&mut self, r: &DomainReport, fail_on: FailOn) {
        self.domains += 1;
        self.counts.merge(&r.counts());
        self.verdicts.add(r.verdict(fail_on));
        self.undecided += r.expects.iter().filter(|e| e.undecided.is_some()).count();
    }

    /// The tally of `reports`.
    pub(crate) fn of(reports: &[DomainReport], fail_on: FailOn) -> Tally {
        let mut t = Tally::default();
        for r in reports {
            t.add(r, fail_on);
        }
        t
    }

    /// The run's exit code from the domains' verdicts: 40 if anything failed (or an
    /// expectation was unmet), else 41 if anything could not be tested, else 0.
    pub(crate) fn exit_code(&self) -> u8 {
        if self.verdicts.fail > 0 {
            crate::error::EXIT_CHECK_FAILED
        } else if self.verdicts.error > 0 {
            crate::error::EXIT_CHECK_UNTESTED
        } else {
            crate::error::EXIT_OK
        }
    }
}

/// `--untested-ok`: a run whose worst is something that could not be tested (41: a DNS or
/// network error, a timeout, an inconclusive probe) exits 0, for a CI job that must not fail on
/// the network; the report and the summary still show each error. A run cut by `--deadline` or
/// a signal (`stopped`) keeps 41: it did not run what it was asked to, and a cancelled job must
/// not pass, and so does one with an `--expect` not decided (`undecided`): the pipeline asked
/// for that assertion by name, and it was not shown to hold. A failure (40) or a usage error is
/// never changed.
pub(crate) fn untested_ok(
    code: u8,
    untested_ok: bool,
    stopped: Option<&str>,
    undecided: usize,
) -> u8 {
    if untested_ok
        && stopped.is_none()
        && undecided == 0
        && code == crate::error::EXIT_CHECK_UNTESTED
    {
        crate::error::EXIT_OK
    } else {
        code
    }
}

/// The run's exit code from the domains' verdicts ([`Tally::exit_code`]).
pub(crate) fn exit_code(reports: &[DomainReport], fail_on: FailOn) -> u8 {
    Tally::of(reports, fail_on).exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(id: &'static str, s: Status, counts: bool) -> Judged {
        Judged {
            result: CheckResult::new(id, s, "x"),
            counts,
            waived: false,
            note: None,
        }
    }

    fn report(checks: Vec<Judged>) -> DomainReport {
        DomainReport {
            index: 0,
            domain: "example.test".into(),
            checks,
            expects: vec![],
            aborted: None,
            ms: 0.0,
        }
    }

    /// `--untested-ok` turns 41 into 0, and nothing else: not a failure, not a usage error,
    /// not a run a stop cut short.
    #[test]
    fn untested_ok_changes_only_an_uncut_41() {
        use crate::error::{EXIT_CHECK_FAILED, EXIT_CHECK_UNTESTED, EXIT_OK, EXIT_USAGE};
        assert_eq!(untested_ok(EXIT_CHECK_UNTESTED, true, None, 0), EXIT_OK);
        assert_eq!(
            untested_ok(EXIT_CHECK_UNTESTED, false, None, 0),
            EXIT_CHECK_UNTESTED
        );
        assert_eq!(
            untested_ok(
                EXIT_CHECK_UNTESTED,
                true,
                Some("deadline reached (--deadline)"),
                0
            ),
            EXIT_CHECK_UNTESTED
        );
        // An `--expect` not decided is not passed by it either (it was exit 0).
        assert_eq!(
            untested_ok(EXIT_CHECK_UNTESTED, true, None, 1),
            EXIT_CHECK_UNTESTED
        );
        for code in [EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE] {
            assert_eq!(untested_ok(code, true, None, 0), code);
        }
    }

    #[test]
    fn ids_are_unique_and_dotted() {
        let mut seen = std::collections::HashSet::new();
        for d in CHECKS {
            assert!(seen.insert(d.id), "duplicate {}", d.id);
            assert!(d.id.contains('.') && !d.rfc.is_empty(), "{}", d.id);
        }
    }

    #[test]
    fn verdicts_and_exit_codes() {
        let pass = report(vec![judged("mx.lookup", Status::Pass, true)]);
        let warn = report(vec![judged("dmarc.record", Status::Warn, true)]);
        let err = report(vec![judged("smtp.banner", Status::Error, true)]);
        let fail = report(vec![judged("spf.record", Status::Fail, true)]);
        let uncounted = report(vec![judged("smtp.connect", Status::Fail, false)]);
        assert_eq!(exit_code(std::slice::from_ref(&pass), FailOn::Fail), 0);
        assert_eq!(exit_code(&[pass.clone(), warn.clone()], FailOn::Fail), 0);
        assert_eq!(exit_code(std::slice::from_ref(&warn), FailOn::Warn), 40);
        assert_eq!(exit_code(&[pass.clone(), err.clone()], FailOn::Fail), 41);
        assert_eq!(exit_code(&[err.clone(), fail.clone()], FailOn::Fail), 40);
        assert_eq!(exit_code(&[uncounted], FailOn::Fail), 0);
        let mut unmet = pass.clone();
        unmet.expects.push(ExpectOutcome {
            expect: "mx.count>=2".into(),
            met: false,
            found: "1".into(),
            undecided: None,
        });
        assert_eq!(exit_code(&[unmet], FailOn::Fail), 40);
        let mut aborted = pass;
        aborted.aborted = Some("deadline".into());
        assert_eq!(aborted.verdict(FailOn::Fail), Status::Error);
    }
}
