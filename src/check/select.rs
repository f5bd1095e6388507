//! The CI grammar of `ehlo check`: `--only`/`--skip ID-GLOB`, `--waive ID-GLOB@DOMAIN`,
//! `--expect ID=STATUS` and `--expect FIELD OP VALUE`, parsed up front (an unknown id is a usage
//! error naming the valid ones) and evaluated against a domain's results.

use serde_json::Value;

use super::model::{
    CHECKS, CheckDef, CheckResult, ExpectOutcome, Judged, Status, find_in, id_list_in,
};

/// Shorthand fields for `--expect FIELD OP VALUE`: name → (check id, evidence key).
/// Any `ID.KEY` naming a check and one of its evidence keys works too, KEY a dotted path into
/// nested evidence ([`evidence_at`]).
pub(crate) const FIELDS: &[(&str, &str, &str)] = &[
    ("mx.count", "mx.lookup", "count"),
    ("tls.version", "tls.handshake", "version"),
    ("tls.cert.days", "tls.cert.expiry", "days"),
    ("tls.cert.bits", "tls.cert.key", "bits"),
    ("spf.lookups", "spf.record", "lookups"),
    ("dmarc.p", "dmarc.record", "p"),
    ("mtasts.id", "mtasts.txt", "id"),
    ("mtasts.mode", "mtasts.policy", "mode"),
    ("mtasts.max_age", "mtasts.policy", "max_age"),
    ("smtp.connect.ms", "smtp.connect", "ms"),
];

/// `ehlo check`'s evidence members whose values are a closed set, by check id (a glob) and
/// key, with the name messages give them when a shorthand field exists: DMARC's `p` and `sp`
/// tags (RFC 7489 §6.3) and MTA-STS's `mode` (RFC 8461 §3.2), both lower case in the
/// evidence; a DNSSEC `proof`; and the check's booleans: `unfinished` (a stop cut it),
/// `truncated_at_close`, `no_local_route` (any check may carry them), `tls.cert.chain`'s
/// `verified`, `tls.cert.name`'s `cn_only`, `mtasts.fetch`'s `cert_verified`, `smtp.ehlo`'s
/// `requiretls`, `mx.lookup`'s `implicit`, `dmarc.record`'s `inherited` and `dane.rollover`'s
/// `current_key_only`. `=`/`!=` with another value could never be met (or never be unmet): a
/// typo, refused before the run (`tls.cert.chain.verified=ture` ran the whole check to be
/// unmet, exit 40).
const CLOSED_VALUES: &[(&str, &str, Option<&str>, &[&str])] = &[
    (
        "dmarc.record",
        "p",
        Some("dmarc.p"),
        &["none", "quarantine", "reject"],
    ),
    (
        "dmarc.record",
        "sp",
        None,
        &["none", "quarantine", "reject"],
    ),
    (
        "mtasts.policy",
        "mode",
        Some("mtasts.mode"),
        &["enforce", "testing", "none"],
    ),
    (
        "*",
        "proof",
        None,
        &[
            "secure",
            "insecure",
            "bogus",
            "indeterminate",
            "unvalidated",
        ],
    ),
    ("*", "unfinished", None, BOOLEAN),
    ("*", "truncated_at_close", None, BOOLEAN),
    ("*", "no_local_route", None, BOOLEAN),
    ("tls.cert.chain", "verified", None, BOOLEAN),
    ("tls.cert.name", "cn_only", None, BOOLEAN),
    ("mtasts.fetch", "cert_verified", None, BOOLEAN),
    ("smtp.ehlo", "requiretls", None, BOOLEAN),
    ("mx.lookup", "implicit", None, BOOLEAN),
    ("dmarc.record", "inherited", None, BOOLEAN),
    ("dane.rollover", "current_key_only", None, BOOLEAN),
    // The session step a skip names (`CheckResult::skip_after`).
    (
        "*",
        "skipped_because",
        None,
        &[
            "smtp.connect",
            "smtp.banner",
            "smtp.ehlo",
            "tls.starttls",
            "tls.handshake",
        ],
    ),
];

/// `ehlo probe`'s evidence members whose values are a closed set, by probe id (a glob) and
/// key: the booleans every probe may carry (`unfinished`, `connect_failed`, `no_greeting`,
/// `no_reply_before_probe`, `no_reply_after_ehlo`, `auth_failed`), `starttls.downgrade`'s `starttls` and
/// `mail_without_tls`, `relay.open`'s `control_accepted`, `smuggle.*`'s `bdat` (what
/// became of the follow-up that smuggles with BDAT), and the nested `control.answered` of a
/// `limits.*` probe that the server closed on. `=`/`!=` with another value could never
/// be met (or never unmet): `mail_without_tls=flase` was unmet on every run, `!=flase` met.
const PROBE_CLOSED_VALUES: &[(&str, &str, &[&str])] = &[
    ("*", "unfinished", BOOLEAN),
    ("*", "connect_failed", BOOLEAN),
    ("*", "no_greeting", BOOLEAN),
    ("*", "no_reply_after_ehlo", BOOLEAN),
    ("*", "no_reply_before_probe", BOOLEAN),
    ("*", "auth_failed", BOOLEAN),
    ("starttls.downgrade", "starttls", BOOLEAN),
    ("starttls.downgrade", "mail_without_tls", BOOLEAN),
    ("relay.open", "control_accepted", BOOLEAN),
    ("smuggle.*", "bdat", &["accepted", "refused", "not offered"]),
    ("*", "control.answered", BOOLEAN),
    // The `limits.*` probe whose connection ran the control.
    (
        "*",
        "control.by",
        &["limits.line", "limits.bare-lf-command", "limits.nul"],
    ),
];

/// Evidence members that hold one number or string, by check or probe id (a glob) and key,
/// with what they hold: a dotted KEY through one (`tls.version.major`) names nothing, refused
/// as a typo ([`through_a_value`]). The closed sets above hold one value too.
const CHECK_VALUES: &[(&str, &str, &str)] = &[
    ("*", "ms", "a number (milliseconds)"),
    ("tls.handshake", "version", "a number (1.3)"),
    ("tls.handshake", "protocol", "a string (TLSv1.3)"),
    ("tls.handshake", "cipher", "a string"),
    ("tls.handshake", "bits", "a number"),
    ("tls.cert.expiry", "days", "a number"),
    ("tls.cert.key", "bits", "a number"),
    ("mx.lookup", "count", "a number"),
    ("spf.record", "lookups", "a number"),
    ("*", "code", "a number (250)"),
];

/// [`CHECK_VALUES`] of `ehlo probe`.
const PROBE_VALUES: &[(&str, &str, &str)] = &[
    ("*", "token", "a string"),
    ("*", "injected_replies", "a number"),
    ("*", "control.unasked", "a number"),
];

/// The TLS versions `tls.handshake`'s `protocol` names (and its `version` as a number, `1.3`,
/// or as `SSLv3`); `version` compares with `TLSv1.2` or `1.2` alike ([`number`]).
const TLS_VERSIONS: &[&str] = &["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/// Does evidence member `key` of check `id` hold a TLS version?
fn holds_tls_version(probe: bool, id: &str, key: &str) -> bool {
    !probe && id == "tls.handshake" && matches!(key, "version" | "protocol")
}

/// What evidence member `key` of check or probe `id` holds, when it is known to hold one value
/// (no object or array): a closed set, or a number or a string.
fn one_value(probe: bool, id: &str, key: &str) -> Option<String> {
    if let Some((_, values)) = closed_values(probe, id, key) {
        return Some(if values == BOOLEAN {
            "true or false".to_string()
        } else {
            format!("one of {}", values.join(", "))
        });
    }
    let table = if probe { PROBE_VALUES } else { CHECK_VALUES };
    table
        .iter()
        .find(|(i, k, _)| glob(i, id) && *k == key)
        .map(|(_, _, what)| what.to_string())
}

/// A dotted `key` whose path goes through a member that holds one value: the message that
/// refuses it, naming the member as the user wrote it (`lhs` minus the rest of the path).
fn through_a_value(probe: bool, id: &str, key: &str, lhs: &str) -> Option<String> {
    key.match_indices('.').find_map(|(i, _)| {
        let (head, rest) = (&key[..i], &key[i + 1..]);
        let what = one_value(probe, id, head)?;
        let name = lhs.get(..lhs.len().checked_sub(rest.len() + 1)?)?;
        let member = rest.split('.').next().unwrap_or(rest);
        Some(format!(
            "{name} is {what}, not an object: it has no member '{member}' (compare {name} itself)"
        ))
    })
}

/// The values of a boolean evidence member, as JSON writes them.
const BOOLEAN: &[&str] = &["true", "false"];

/// The closed set of values of evidence member `key` of check or probe `id`, with the name a
/// message gives the field ([`CLOSED_VALUES`], [`PROBE_CLOSED_VALUES`]).
fn closed_values(probe: bool, id: &str, key: &str) -> Option<(String, &'static [&'static str])> {
    if probe {
        PROBE_CLOSED_VALUES
            .iter()
            .find(|(i, k, _)| glob(i, id) && *k == key)
            .map(|(_, _, v)| (format!("{id}.{key}"), *v))
    } else {
        CLOSED_VALUES
            .iter()
            .find(|(i, k, _, _)| glob(i, id) && *k == key)
            .map(|(_, _, name, v)| {
                (
                    name.map_or_else(|| format!("{id}.{key}"), str::to_string),
                    *v,
                )
            })
    }
}

/// `*` matches any run of characters (ids contain no other special characters).
pub(crate) fn glob(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, rest)) => {
            let Some(tail) = s.strip_prefix(head) else {
                return false;
            };
            if rest.is_empty() {
                return true;
            }
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob(rest, &tail[i..]))
        }
    }
}

/// A glob that must match at least one id of `table`; a typo is answered with the nearest id
/// as a misspelt flag is ([`crate::suggest::nearest`]), before the list of them all.
fn id_glob(table: &[CheckDef], flag: &str, pattern: &str) -> Result<String, String> {
    let p = pattern.trim();
    if table.iter().any(|d| glob(p, d.id)) {
        Ok(p.to_string())
    } else {
        Err(format!(
            "{flag}: '{p}' matches no id{}; valid ids: {}",
            did_you_mean(nearest_id(table, p)),
            id_list_in(table)
        ))
    }
}

/// The id of `table` nearest `typed`, if one is near enough; none for a glob (`*` is no typo).
/// Ids are lower case, and one typed in another case (`TLS.STARTTLS`) is told its spelling: it
/// got no suggestion, every letter counting as an edit. A word that is a whole family of ids
/// (`tls`, `starttls.` before `tls.starttls`, `starttls.injection`) is told the family's glob.
fn nearest_id(table: &[CheckDef], typed: &str) -> Option<String> {
    if typed.contains('*') {
        return None;
    }
    let lower = typed.to_ascii_lowercase();
    let family = format!("{}.", lower.trim_end_matches('.'));
    if family.len() > 1 && table.iter().any(|d| d.id.starts_with(&family)) {
        return Some(format!("{family}*"));
    }
    crate::suggest::nearest(&lower, table.iter().map(|d| (d.id, false))).map(str::to_string)
}

/// What an unknown left side of `--expect` may have meant: the nearest id or field as a whole
/// (`tls.starttsl`, `tls.cert.dys`), else `ID.KEY` with the nearest id before a dot
/// (`mx.lookp.count` → `mx.lookup.count`), the longest such head first; in lower case, as the
/// ids are (`TLS.STARTTLS` → `tls.starttls`).
fn nearest_lhs(table: &[CheckDef], fields: &[&str], lhs: &str) -> Option<String> {
    let whole = table.iter().map(|d| d.id).chain(fields.iter().copied());
    let lower = lhs.to_ascii_lowercase();
    if let Some(m) = crate::suggest::nearest(&lower, whole.map(|n| (n, false))) {
        return Some(m.to_string());
    }
    lhs.rmatch_indices('.').find_map(|(i, _)| {
        let (head, key) = (&lhs[..i], &lhs[i + 1..]);
        (!key.is_empty())
            .then(|| nearest_id(table, head))
            .flatten()
            .map(|id| format!("{id}.{key}"))
    })
}

/// ` (did you mean X?)`, or nothing.
/// Why `--expect LHS OP RHS` with a glob on the left is refused, and the expectations to write
/// instead. An expectation is one line of the report, met or unmet with what it `found`: over
/// several checks a glob would be unmet without saying which one, and one whose ids `--only`
/// and `--skip` leave partly unrun (refused for a single id) could not be judged as written.
/// `--only`/`--skip` (and `check`'s `--waive`) take globs; `--expect` one id each.
fn glob_refused(table: &[CheckDef], text: &str, lhs: &str, op: &str, rhs: &str) -> String {
    // `ehlo probe` has no `--waive`: name only the glob-taking flags of the command at hand.
    let (what, globs) = if Expect::is_probe_table(table) {
        ("probe", "--only and --skip")
    } else {
        ("check", "--only, --skip and --waive")
    };
    // `smuggle.*=pass` (ids), or `smuggle.*.bdat=refused` (ids, then one evidence key).
    let mut each: Vec<String> = table
        .iter()
        .filter(|d| glob(lhs, d.id))
        .map(|d| format!("{}{op}{rhs}", d.id))
        .collect();
    if each.is_empty()
        && let Some((ids, key)) = lhs.rsplit_once('.')
        && !key.contains('*')
    {
        each = table
            .iter()
            .filter(|d| glob(ids, d.id))
            .map(|d| format!("{}.{key}{op}{rhs}", d.id))
            .collect();
    }
    let instead = if each.is_empty() {
        format!("; valid ids: {}", id_list_in(table))
    } else {
        format!(": write one for each: {}", each.join(", "))
    };
    format!(
        "--expect '{text}': '{lhs}' is a glob, and --expect takes one {what} id, not a glob \
         ({globs} take globs){instead}"
    )
}

fn did_you_mean(meant: Option<String>) -> String {
    meant.map_or_else(String::new, |m| format!(" (did you mean {m}?)"))
}

/// `--only` / `--skip`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Selection {
    only: Vec<String>,
    skip: Vec<String>,
}

impl Selection {
    /// Parse and validate the globs against the check ids.
    pub(crate) fn new(only: &[String], skip: &[String]) -> Result<Selection, String> {
        Selection::new_in(CHECKS, only, skip)
    }

    /// Parse and validate the globs against the ids of `table` (`ehlo probe` has its own).
    pub(crate) fn new_in(
        table: &[CheckDef],
        only: &[String],
        skip: &[String],
    ) -> Result<Selection, String> {
        Ok(Selection {
            only: only
                .iter()
                .map(|p| id_glob(table, "--only", p))
                .collect::<Result<_, _>>()?,
            skip: skip
                .iter()
                .map(|p| id_glob(table, "--skip", p))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Is this check reported?
    pub(crate) fn wants(&self, id: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|p| glob(p, id)))
            && !self.skip.iter().any(|p| glob(p, id))
    }

    /// Refuse a selection under which nothing of `table` would run, and an `--only` glob none
    /// of whose ids would: all left out by `--skip`, or opt-in checks without their flag
    /// (`blocked` says what one lacks). Such a run tested nothing and passed, exit 0.
    pub(crate) fn ensure_runs(
        &self,
        table: &[CheckDef],
        blocked: impl Fn(&str) -> Option<String>,
    ) -> Result<(), String> {
        let runs = |id: &str| self.wants(id) && blocked(id).is_none();
        for p in &self.only {
            let named: Vec<&str> = table
                .iter()
                .map(|d| d.id)
                .filter(|id| glob(p, id))
                .collect();
            if named.iter().any(|id| runs(id)) {
                continue;
            }
            let why = named
                .iter()
                .filter(|id| self.wants(id))
                .find_map(|id| blocked(id));
            return Err(match why {
                Some(why) => format!("--only '{p}' runs nothing: {why}"),
                None => format!("--only '{p}' runs nothing: --skip leaves out every id it matches"),
            });
        }
        if table.iter().any(|d| runs(d.id)) {
            Ok(())
        } else {
            Err("--skip leaves nothing to run".into())
        }
    }

    /// Refuse an `--expect` about a check this selection does not report: it could never be
    /// met (it was unmet on every run, exit 40).
    pub(crate) fn ensure_reported(&self, e: &Expect) -> Result<(), String> {
        if self.wants(e.id()) {
            Ok(())
        } else {
            Err(format!(
                "--expect '{}': --only/--skip leave out {}, so it could never be met",
                e.text(),
                e.id()
            ))
        }
    }
}

/// How much of the DNSSEC/DANE lookups a selection needs: each level asks what the ones before
/// it ask, and more ([`Lookups::dnssec`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum DnssecDepth {
    /// No DNSSEC question: the MX and address questions go to the plain resolver alone.
    None,
    /// The domain's validated MX answer (`dnssec.domain`).
    Domain,
    /// And each MX host's validated addresses (`dnssec.mx`).
    Hosts,
    /// And each host's TLSA records (`dane.*`, and `tls.cert.expiry`, which a DANE-EE match
    /// makes a warning).
    Tlsa,
}

/// The DNS questions (and the SMTP sessions and the MTA-STS policy fetch) one domain's checks
/// ask under a selection: what the selected checks read, and what their verdicts depend on in a
/// full run, so that `--only/--skip` hide rows but never change one. Without it every domain
/// asked all of them (MX, every host's A/AAAA, five TXT names, TLSA, DNSSEC keys) whatever was
/// selected: `--only mx.lookup` also asked for `_mta-sts`, `_smtp._tls`, `_dmarc` and the TLSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lookups {
    /// SMTP sessions to the MX addresses (a host-scope check or `ipv6.mx` selected).
    pub(crate) probe: bool,
    /// The domain's MX question (and, without MX records, its own addresses: the implicit MX).
    pub(crate) mx: bool,
    /// Each MX host's addresses (`mx.target`, the probes).
    pub(crate) mx_addresses: bool,
    /// `_mta-sts.DOMAIN` TXT.
    pub(crate) mtasts_txt: bool,
    /// The MTA-STS policy, fetched when the record says there is one: it judges the host
    /// results too (a certificate warning on a covered MX fails).
    pub(crate) mtasts_fetch: bool,
    /// `_smtp._tls.DOMAIN` TXT.
    pub(crate) tlsrpt: bool,
    /// The domain's TXT (and the SPF includes).
    pub(crate) spf: bool,
    /// `_dmarc.DOMAIN` TXT (and the organizational domain's).
    pub(crate) dmarc: bool,
    /// `_domainkey.DOMAIN`.
    pub(crate) dkim: bool,
    /// The DNSSEC/DANE questions.
    pub(crate) dnssec: DnssecDepth,
    /// Each probed address's PTR names (`rdns.fcrdns`, and `smtp.banner-name`, which accepts a
    /// PTR name).
    pub(crate) ptr: bool,
}

impl Lookups {
    /// What the checks `sel` reports ask.
    pub(crate) fn of(sel: &Selection) -> Lookups {
        let any = |ids: &[&str]| ids.iter().any(|id| sel.wants(id));
        let probe = CHECKS
            .iter()
            .any(|d| d.scope == super::model::Scope::Host && sel.wants(d.id))
            || sel.wants("ipv6.mx");
        let mtasts_fetch = probe || any(&["mtasts.fetch", "mtasts.policy", "mtasts.mx-match"]);
        let dnssec = if any(&[
            "dane.tlsa",
            "dane.usable",
            "dane.rollover",
            "dane.starttls",
            "dane.match",
            "tls.cert.expiry",
        ]) {
            DnssecDepth::Tlsa
        } else if sel.wants("dnssec.mx") {
            DnssecDepth::Hosts
        } else if sel.wants("dnssec.domain") {
            DnssecDepth::Domain
        } else {
            DnssecDepth::None
        };
        let mx_addresses = probe || sel.wants("mx.target");
        Lookups {
            probe,
            // The DNSSEC host checks take their hosts from the MX answer, and
            // `mtasts.mx-match` matches them against the policy.
            mx: mx_addresses
                || dnssec >= DnssecDepth::Hosts
                || any(&["mx.lookup", "mx.null", "mtasts.mx-match"]),
            mx_addresses,
            mtasts_txt: mtasts_fetch || sel.wants("mtasts.txt"),
            mtasts_fetch,
            tlsrpt: sel.wants("tlsrpt.record"),
            spf: sel.wants("spf.record"),
            dmarc: sel.wants("dmarc.record"),
            dkim: sel.wants("dkim.hint"),
            dnssec,
            ptr: any(&["rdns.fcrdns", "smtp.banner-name"]),
        }
    }
}

/// `--waive ID-GLOB@DOMAIN`: a known issue, reported but not counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Waiver {
    id: String,
    domain: String,
}

impl Waiver {
    /// Parse `ID-GLOB@DOMAIN` (`DOMAIN` may be `*`).
    pub(crate) fn parse(s: &str) -> Result<Waiver, String> {
        let (id, domain) = s.rsplit_once('@').ok_or_else(|| {
            format!("--waive '{s}': expected ID@DOMAIN, e.g. dmarc.record@example.com")
        })?;
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if domain.is_empty() {
            return Err(format!("--waive '{s}': no domain after '@'"));
        }
        Ok(Waiver {
            id: id_glob(CHECKS, "--waive", id)?,
            domain,
        })
    }

    /// Refuse a waiver for a domain that is not checked (`*` names them all): it would waive
    /// nothing, and a misspelt domain in a CI job's waiver would go unnoticed until the issue
    /// it meant to waive failed the job — as a waiver for an unknown id is refused. The nearest
    /// checked domain is suggested (any case, without a trailing dot).
    pub(crate) fn ensure_checked(&self, domains: &[String]) -> Result<(), String> {
        let checked = |d: &String| d.trim_end_matches('.').to_ascii_lowercase();
        if self.domain == "*" || domains.iter().any(|d| checked(d) == self.domain) {
            return Ok(());
        }
        let meant =
            crate::suggest::nearest(&self.domain, domains.iter().map(|d| (checked(d), false)));
        Err(format!(
            "--waive '{}@{}': {} is not a domain checked, so it would waive nothing{}",
            self.id,
            self.domain,
            self.domain,
            did_you_mean(meant)
        ))
    }

    /// Does it cover check `id` of `domain`?
    pub(crate) fn covers(&self, id: &str, domain: &str) -> bool {
        glob(&self.id, id)
            && (self.domain == "*"
                || self.domain == domain.trim_end_matches('.').to_ascii_lowercase())
    }
}

/// Comparison operator of `--expect FIELD OP VALUE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>=`
    Ge,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `<`
    Lt,
}

/// One `--expect`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expect {
    /// Every result of check `id` has this status.
    Status {
        /// As written.
        text: String,
        /// Check id.
        id: &'static str,
        /// Wanted status.
        status: Status,
        /// What this mode calls [`Status::Error`] when it says what it found (`error` in
        /// `ehlo check`, `inconclusive` in `ehlo probe`).
        error_name: &'static str,
    },
    /// Every value of evidence `key` of check `id` compares true with `value`.
    Field {
        /// As written.
        text: String,
        /// Check id.
        id: &'static str,
        /// Evidence key (`ms` is the check's time).
        key: String,
        /// Operator.
        op: Op,
        /// Right-hand side.
        value: String,
        /// As in [`Expect::Status`]: what this mode calls [`Status::Error`] when `found` names
        /// the status of a result without the field.
        error_name: &'static str,
    },
}

impl Expect {
    /// Parse `ID=STATUS` or `FIELD OP VALUE` (spaces around the operator allowed).
    pub(crate) fn parse(s: &str) -> Result<Expect, String> {
        Expect::parse_in(CHECKS, FIELDS, Status::Error.name(), s)
    }

    /// Whether `table` is `ehlo probe`'s: its messages then speak of probes and give probe
    /// examples (an unknown probe id was "unknown check or field", copied from `check`).
    fn is_probe_table(table: &[CheckDef]) -> bool {
        // By content: a `const` table has no one address to compare.
        table.len() != CHECKS.len() || table.iter().zip(CHECKS).any(|(a, b)| a.id != b.id)
    }

    /// [`Expect::parse`] against the ids of `table` and its shorthand `fields` (`ehlo probe`
    /// has its own), naming [`Status::Error`] `error_name` in messages and findings (`ehlo
    /// probe` says `inconclusive`; both names are accepted).
    pub(crate) fn parse_in(
        table: &'static [CheckDef],
        fields: &[(&str, &str, &str)],
        error_name: &'static str,
        s: &str,
    ) -> Result<Expect, String> {
        let find = |id: &str| find_in(table, id);
        let id_list = || id_list_in(table);
        let text = s.trim().to_string();
        // Two-character operators first, so `>=` is not read as `>` then `=…`.
        let ops = [
            ("!=", Op::Ne),
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("=", Op::Eq),
            (">", Op::Gt),
            ("<", Op::Lt),
        ];
        let Some((pos, len, op)) = ops
            .iter()
            .filter_map(|(t, op)| text.find(t).map(|p| (p, t.len(), *op)))
            .min_by_key(|(p, l, _)| (*p, std::cmp::Reverse(*l)))
        else {
            return Err(if Expect::is_probe_table(table) {
                format!(
                    "--expect '{text}': expected ID=STATUS (smuggle.lf-lf=pass) or ID.KEY OP VALUE \
                     (starttls.downgrade.mail_without_tls=false)"
                )
            } else {
                format!(
                    "--expect '{text}': expected ID=STATUS (tls.starttls=pass) or FIELD OP VALUE (tls.cert.days>=21)"
                )
            });
        };
        let lhs = text[..pos].trim().to_string();
        let rhs = text[pos + len..].trim().to_string();
        let (lhs, rhs) = (lhs.as_str(), rhs.as_str());
        if rhs.is_empty() {
            return Err(format!("--expect '{text}': no value after the operator"));
        }
        // No id or evidence key holds a `*`: a glob, as `--only` takes.
        if lhs.contains('*') {
            return Err(glob_refused(table, &text, lhs, &text[pos..pos + len], rhs));
        }
        if let Some(def) = find(lhs) {
            if op == Op::Eq {
                return match Status::parse(rhs) {
                    Some(status) => Ok(Expect::Status {
                        text,
                        id: def.id,
                        status,
                        error_name,
                    }),
                    None => {
                        let names = Status::ALL.map(|st| status_name(st, error_name));
                        let meant = crate::suggest::nearest(
                            &rhs.to_ascii_lowercase(),
                            names.iter().map(|n| (*n, false)),
                        );
                        Err(format!(
                            "--expect '{text}': '{rhs}' is not a status ({}){}",
                            names.join(", "),
                            did_you_mean(meant.map(str::to_string))
                        ))
                    }
                };
            }
            return Err(if Expect::is_probe_table(table) {
                format!(
                    "--expect '{text}': a probe id takes '=STATUS'; compare a field of its evidence \
                     instead (e.g. starttls.downgrade.mail_without_tls=false)"
                )
            } else {
                format!(
                    "--expect '{text}': a check id takes '=STATUS'; compare a field instead (e.g. tls.cert.days>=21)"
                )
            });
        }
        let (id, key) = if let Some((_, id, key)) = fields.iter().find(|(f, _, _)| *f == lhs) {
            (find(id).map(|d| d.id), key.to_string())
        } else {
            // ID.KEY: the longest check id that prefixes the field.
            let best = table
                .iter()
                .filter(|d| {
                    lhs.strip_prefix(d.id)
                        .and_then(|r| r.strip_prefix('.'))
                        .is_some_and(|k| !k.is_empty())
                })
                .max_by_key(|d| d.id.len());
            // Else a shorthand field with a path after it (`tls.version.major`), so that a
            // path through it is told what the field holds.
            let dotted = || {
                fields.iter().find_map(|(f, id, key)| {
                    let rest = lhs.strip_prefix(f)?.strip_prefix('.')?;
                    (!rest.is_empty()).then(|| (find(id).map(|d| d.id), format!("{key}.{rest}")))
                })
            };
            match best {
                Some(d) => (Some(d.id), lhs[d.id.len() + 1..].to_string()),
                None => dotted().unwrap_or((None, String::new())),
            }
        };
        let Some(id) = id else {
            let names: Vec<&str> = fields.iter().map(|f| f.0).collect();
            // `ehlo probe` has no shorthand fields: no empty list then.
            let fields = if names.is_empty() {
                String::new()
            } else {
                format!("fields: {} (or ", names.join(", "))
            };
            let close = if names.is_empty() { "" } else { ")" };
            let meant = did_you_mean(nearest_lhs(table, &names, lhs));
            if Expect::is_probe_table(table) {
                // A probe id names one probe (`--only` and the report show them); `ehlo probe`
                // has no shorthand fields, only ID.KEY on a probe's evidence.
                return Err(format!(
                    "--expect '{text}': unknown probe id '{lhs}'{meant}; a probe id names one \
                     probe (smuggle.lf-lf=pass), ID.KEY one field of its evidence \
                     (starttls.downgrade.mail_without_tls=false); valid ids: {}",
                    id_list()
                ));
            }
            return Err(format!(
                "--expect '{text}': unknown check or field '{lhs}'{meant}; {fields}ID.KEY of any check's evidence{close}; valid ids: {}",
                id_list()
            ));
        };
        // A value that could never compare is a typo, refused now rather than unmet on every
        // run: `>=` and friends compare numbers, and a value that starts with an operator is
        // a misspelt one (`=>` for `>=`).
        if rhs.starts_with(['=', '<', '>', '!']) {
            // The operator as typed, told the one it stands for: `==` is a programmer's `=`,
            // and `=>`, `=<`, `<>` are swapped `>=`, `<=`, `!=`.
            let run = rhs.len() - rhs.trim_start_matches(['=', '<', '>', '!']).len();
            let typed = format!("{}{}", &text[pos..pos + len], &rhs[..run]);
            let meant = match typed.as_str() {
                "==" => Some("="),
                "=>" => Some(">="),
                "=<" => Some("<="),
                "<>" | "!==" => Some("!="),
                _ => None,
            };
            return Err(match meant {
                Some(m) => format!("--expect '{text}': '{typed}' is no operator (write {m})"),
                None => format!(
                    "--expect '{text}': '{rhs}' starts with an operator (write >=, <=, != or =)"
                ),
            });
        }
        let probe = Expect::is_probe_table(table);
        if let Some(why) = through_a_value(probe, id, &key, lhs) {
            return Err(format!("--expect '{text}': {why}"));
        }
        // `>=` and friends say "not a number" below.
        if holds_tls_version(probe, id, &key)
            && matches!(op, Op::Eq | Op::Ne)
            && number(rhs).is_none()
            && !TLS_VERSIONS.iter().any(|v| v.eq_ignore_ascii_case(rhs))
        {
            let lower: Vec<String> = TLS_VERSIONS
                .iter()
                .map(|v| v.to_ascii_lowercase())
                .collect();
            let meant = crate::suggest::nearest(
                &rhs.to_ascii_lowercase(),
                lower.iter().map(|v| (v.as_str(), false)),
            )
            .and_then(|m| TLS_VERSIONS.iter().find(|v| v.eq_ignore_ascii_case(m)));
            return Err(format!(
                "--expect '{text}': '{rhs}' is not a TLS version of {lhs} ({}, or the number \
                 alone: 1.3{})",
                TLS_VERSIONS.join(", "),
                meant.map_or_else(String::new, |m| format!("; did you mean {m}?"))
            ));
        }
        let closed = closed_values(probe, id, &key);
        if let Some((name, values)) = &closed
            && op != Op::Eq
            && op != Op::Ne
        {
            // `mail_without_tls>=1` compared a word with a number: never met.
            return Err(format!(
                "--expect '{text}': {name} is one of {} (compare it with = or !=)",
                values.join(", ")
            ));
        }
        if let Some((name, values)) = closed
            && !values.iter().any(|v| v.eq_ignore_ascii_case(rhs))
        {
            let meant = crate::suggest::nearest(
                &rhs.to_ascii_lowercase(),
                values.iter().map(|v| (*v, false)),
            );
            return Err(format!(
                "--expect '{text}': '{rhs}' is not a value of {name} ({}{})",
                values.join(", "),
                meant.map_or_else(String::new, |m| format!("; did you mean {m}?"))
            ));
        }
        if op != Op::Eq && op != Op::Ne && number(rhs).is_none() {
            return Err(format!(
                "--expect '{text}': '{rhs}' is not a number (>=, <=, > and < compare numbers)"
            ));
        }
        Ok(Expect::Field {
            text,
            id,
            key,
            op,
            value: rhs.to_string(),
            error_name,
        })
    }

    /// The expectations with each repeat left out, the first spelling kept: one that says what
    /// an earlier one says (`tls.starttls=pass` twice, `tls.version>=1.2` and
    /// `tls.handshake.version >= 1.2`) is judged once. A CI job that puts together its
    /// assertions from a config file, a shared list and its own line repeats one easily; each
    /// repeat was judged and reported again (JUnit `EXPR #2`), an unmet one failing the run
    /// twice over. Contradicting ones (`=pass` and `=fail`) both stay: one is unmet.
    pub(crate) fn dedup(expects: Vec<Expect>) -> Vec<Expect> {
        let mut kept: Vec<Expect> = Vec::with_capacity(expects.len());
        for e in expects {
            if !kept.iter().any(|k| k.same_as(&e)) {
                kept.push(e);
            }
        }
        kept
    }

    /// Do both ask the same thing, however written?
    fn same_as(&self, other: &Expect) -> bool {
        match (self, other) {
            (
                Expect::Status { id, status, .. },
                Expect::Status {
                    id: id2,
                    status: status2,
                    ..
                },
            ) => id == id2 && status == status2,
            (
                Expect::Field {
                    id, key, op, value, ..
                },
                Expect::Field {
                    id: id2,
                    key: key2,
                    op: op2,
                    value: value2,
                    ..
                },
            ) => id == id2 && key == key2 && op == op2 && value == value2,
            _ => false,
        }
    }

    /// The check it is about.
    pub(crate) fn id(&self) -> &'static str {
        match self {
            Expect::Status { id, .. } | Expect::Field { id, .. } => id,
        }
    }

    /// As written.
    pub(crate) fn text(&self) -> &str {
        match self {
            Expect::Status { text, .. } | Expect::Field { text, .. } => text,
        }
    }

    /// The one place that decides every `--expect` of a domain (`check` and `probe`): each
    /// expectation gets an outcome — met, unmet, or not decided with the reason — and none is
    /// left out, so the human report, the JSON and the JUnit file list every one. `aborted`:
    /// why the domain was cut or never checked (`--deadline`, a signal), the reason for an
    /// expectation with no result at all. Then a met `ID=STATUS` excuses the results it asked
    /// for ([`Expect::excuse_expected`]). An expectation about a check a stop left unfinished
    /// used to be dropped from every output: the run exited non-zero and nobody could see which
    /// assertion had not been decided.
    pub(crate) fn judge_all(
        expects: &[Expect],
        results: &mut [Judged],
        aborted: Option<&str>,
    ) -> Vec<ExpectOutcome> {
        let outcomes: Vec<ExpectOutcome> = expects
            .iter()
            .map(|e| e.evaluate(results, aborted))
            .collect();
        Expect::excuse_expected(expects, &outcomes, results);
        outcomes
    }

    /// A result that a met `ID=STATUS` expectation asked for is what the run was to show (a
    /// probe expected to fail against a deliberately vulnerable server, `--expect
    /// smuggle.lf-lf=fail`): it no longer counts toward the verdict, noted "expected by --expect
    /// ID=STATUS", so that a met expectation is a pass, as an unmet one is a fail. It still
    /// counted, and the run exited 40 (or 41 for `=error`) with every expectation met. A field
    /// expectation (`ID.KEY OP VALUE`) says nothing of the status and excuses nothing; a result
    /// already not counted (waived, made up for by another MX) keeps its note; one not decided
    /// (an unfinished check among its results) excuses nothing; a pass, info or skip, which
    /// counts for nothing anyway, is left unmarked (`check` and `probe`).
    fn excuse_expected(expects: &[Expect], outcomes: &[ExpectOutcome], results: &mut [Judged]) {
        for (e, o) in expects.iter().zip(outcomes) {
            if !matches!(e, Expect::Status { .. }) || !o.met {
                continue;
            }
            // A pass, info or skip judges nothing: "not counted" beside `offered` for
            // `--expect tls.starttls=pass` only puzzled the reader.
            for j in results.iter_mut().filter(|j| {
                j.result.id == e.id()
                    && j.counts
                    && !matches!(j.result.status, Status::Pass | Status::Info | Status::Skip)
            }) {
                j.counts = false;
                j.note = Some(format!("expected by --expect {}", e.text()));
            }
        }
    }

    /// Judge it against one domain's results. Only the results of its check count, and it must
    /// hold for each of them — every MX address for a host check, a result marked "not counted"
    /// (another MX address passes) included: a field expectation is unmet by a result without
    /// that field (the check failed or found nothing there), named in `found` as
    /// `none (MX [IP]: STATUS, summary)`. A waived result (`--waive`) never makes it unmet; it is
    /// shown marked `(waived)`, and when every result is waived the expectation is met.
    ///
    /// Not decided (neither met nor unmet, the reason said), unless another result already
    /// makes it unmet: a result a stop left unfinished (`--deadline`, a signal); one that could
    /// not be tested (`error`: DNS failure, timeout) or skipped because a session step before it
    /// did not pass (`skipped_because`), when the expectation asks for another status or a field
    /// it then lacks; no result at all because the domain was cut or never checked (`aborted`) or
    /// its MX hosts could not be looked up. Each of these was "unmet" (exit 40, a failure) for
    /// what had not been tested, or, cut by `--deadline`, left out. No result otherwise (a null
    /// MX, an MX lookup that found no host) is unmet: nothing was shown to hold.
    pub(crate) fn evaluate(&self, results: &[Judged], aborted: Option<&str>) -> ExpectOutcome {
        let (waived, judged): (Vec<&CheckResult>, Vec<&CheckResult>) = {
            let (w, j): (Vec<&Judged>, Vec<&Judged>) = results
                .iter()
                .filter(|j| j.result.id == self.id())
                .partition(|j| j.waived);
            (
                w.into_iter().map(|j| &j.result).collect(),
                j.into_iter().map(|j| &j.result).collect(),
            )
        };
        let (text, error_name) = match self {
            Expect::Status {
                text, error_name, ..
            }
            | Expect::Field {
                text, error_name, ..
            } => (text.clone(), *error_name),
        };
        let outcome = |met: bool, undecided: Vec<String>, found: Vec<String>| {
            let undecided = (!undecided.is_empty() && !met).then(|| {
                let mut seen = Vec::new();
                for u in undecided {
                    if !seen.contains(&u) {
                        seen.push(u);
                    }
                }
                seen.join("; ")
            });
            ExpectOutcome {
                expect: text.clone(),
                met,
                found: describe(found.into_iter()),
                undecided,
            }
        };
        if judged.is_empty() && waived.is_empty() {
            let why = aborted
                .map(|w| format!("the domain was not checked to the end: {w}"))
                .or_else(|| no_host_reason(self.id(), results, error_name));
            return outcome(false, why.into_iter().collect(), Vec::new());
        }
        let mut met = true;
        let mut unmet = false;
        let mut undecided = Vec::new();
        let mut found = Vec::new();
        match self {
            Expect::Status { status, .. } => {
                for r in &judged {
                    found.push(status_name(r.status, error_name).to_string());
                    if r.status == *status && !is_unfinished(r) {
                        continue;
                    }
                    met = false;
                    match undecided_reason(r, results, error_name) {
                        Some(why) => undecided.push(why),
                        None => unmet = true,
                    }
                }
                found.extend(
                    waived
                        .iter()
                        .map(|r| format!("{} (waived)", status_name(r.status, error_name))),
                );
            }
            Expect::Field { key, op, value, .. } => {
                let field = |r: &CheckResult| {
                    if key == "ms" {
                        r.ms.map(Value::from)
                    } else {
                        evidence_at(&r.evidence, key)
                            .cloned()
                            .filter(|v| !v.is_null())
                    }
                };
                for r in &judged {
                    match field(r) {
                        Some(v) if !is_unfinished(r) => {
                            if !compare(&v, *op, value) {
                                met = false;
                                unmet = true;
                            }
                            found.push(value_text(&v));
                        }
                        _ => {
                            met = false;
                            found.push(format!(
                                "none ({}{})",
                                whence(r, error_name),
                                members(r, key)
                            ));
                            match undecided_reason(r, results, error_name) {
                                Some(why) => undecided.push(why),
                                None => unmet = true,
                            }
                        }
                    }
                }
                found.extend(waived.iter().map(|r| {
                    let v = field(r).map_or_else(|| "none".to_string(), |v| value_text(&v));
                    format!("{v} (waived)")
                }));
            }
        }
        if unmet {
            undecided.clear();
        }
        outcome(met, undecided, found)
    }
}

/// A result a stop (`--deadline`, a signal) left unfinished.
fn is_unfinished(r: &CheckResult) -> bool {
    r.evidence.get("unfinished") == Some(&true.into())
}

/// Why `r` decides nothing about an expectation it does not meet, if it does not: the check
/// did not finish, could not be tested, or was skipped because a step before it did not pass.
fn undecided_reason(
    r: &CheckResult,
    results: &[Judged],
    error_name: &'static str,
) -> Option<String> {
    let at = match (&r.mx, &r.ip) {
        (Some(mx), Some(ip)) => format!(" on {mx} [{ip}]"),
        (Some(mx), None) => format!(" on {mx}"),
        (None, Some(ip)) => format!(" on [{ip}]"),
        (None, None) => String::new(),
    };
    if is_unfinished(r) {
        // "not finished: WHY" (under way), "not run: WHY" (a probe after it).
        let (how, why) = match r.summary.split_once(": ") {
            Some((how @ ("not finished" | "not run"), why)) => (how, why),
            _ => ("not finished", r.summary.as_str()),
        };
        return Some(format!("{} {how}{at}: {why}", r.id));
    }
    match r.status {
        Status::Error => Some(format!(
            "{} {}{at}: {}",
            r.id,
            if error_name == "error" {
                "could not be tested"
            } else {
                "was inconclusive"
            },
            cut(&r.summary)
        )),
        Status::Skip => r.skipped_after.map(|step| {
            // The step's own result on the same address says how it went.
            let how = results
                .iter()
                .map(|j| &j.result)
                .find(|s| s.id == step && s.mx == r.mx && s.ip == r.ip)
                .map_or("did not pass", |s| match s.status {
                    Status::Fail => "failed",
                    Status::Error if error_name == "error" => "could not be tested",
                    Status::Error => "was inconclusive",
                    _ => "did not pass",
                });
            format!("{} skipped{at}: {step} {how}", r.id)
        }),
        _ => None,
    }
}

/// A host check with no result because no MX address could be looked up: the `mx.lookup` or
/// `mx.target` result that could not be tested, as the reason its expectation is not decided.
fn no_host_reason(id: &str, results: &[Judged], error_name: &'static str) -> Option<String> {
    let host_check = CHECKS
        .iter()
        .any(|d| d.id == id && d.scope == super::model::Scope::Host);
    if !host_check {
        return None;
    }
    results
        .iter()
        .map(|j| &j.result)
        .find(|r| matches!(r.id, "mx.lookup" | "mx.target") && r.status == Status::Error)
        .map(|r| {
            format!(
                "no MX address to test: {}",
                undecided_reason(r, results, error_name).unwrap_or_default()
            )
        })
}

/// A server's or resolver's text cut for a reason line.
fn cut(s: &str) -> String {
    let mut t: String = s.chars().take(100).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

/// Where a result without the expected field came from, in a few words:
/// `mx.example.com [192.0.2.25]: skip, no STARTTLS` (its status named as the mode names it).
fn whence(r: &CheckResult, error_name: &'static str) -> String {
    let at = match (&r.mx, &r.ip) {
        (Some(mx), Some(ip)) => format!("{mx} [{ip}]: "),
        (Some(mx), None) => format!("{mx}: "),
        (None, Some(ip)) => format!("[{ip}]: "),
        (None, None) => String::new(),
    };
    let status = status_name(r.status, error_name);
    let mut summary: String = r.summary.chars().take(60).collect();
    if summary.len() < r.summary.len() {
        summary.push('…');
    }
    if summary.is_empty() {
        format!("{at}{status}")
    } else {
        format!("{at}{status}, {summary}")
    }
}

/// Evidence member `key` of a result: a top-level member, or a dotted path into nested
/// objects as the JSON shows them (`control.answered` of `{"control": {"answered": true}}`; a
/// number steps into an array, `chain.0.subject`). Only top-level members were read, so
/// `limits.line.control.answered=true` was unmet on every run, the JSON showing it true.
fn evidence_at<'a>(evidence: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    if let Some(v) = evidence.get(key) {
        return Some(v);
    }
    let mut parts = key.split('.');
    let mut v = evidence.get(parts.next()?)?;
    for part in parts {
        v = match v {
            Value::Object(m) => m.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// The members a result's evidence has, for a field expectation (`key`) it lacks: `;
/// evidence: count, records, ttl` (at most 8 named), so that a misspelt KEY
/// (`mx.lookup.cont>=1`, which can only be found unmet: evidence members vary by result) shows
/// what is there to compare; for a dotted `key`, those of the deepest object on its path that
/// the evidence has (`; evidence control: answered, by, noop, why` for `control.answerd`).
fn members(r: &CheckResult, key: &str) -> String {
    let mut at = String::new();
    let mut map = &r.evidence;
    if !r.evidence.contains_key(key) {
        let mut path = String::new();
        for part in key.split('.') {
            match map.get(part) {
                Some(Value::Object(m)) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(part);
                    map = m;
                }
                _ => break,
            }
        }
        if !path.is_empty() {
            at = format!(" {path}");
        }
    }
    if map.is_empty() {
        return String::new();
    }
    let mut keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
    if map.len() > keys.len() {
        keys.push("…");
    }
    format!("; evidence{at}: {}", keys.join(", "))
}

/// `st`'s name, with [`Status::Error`] called `error_name`.
fn status_name(st: Status, error_name: &'static str) -> &'static str {
    match st {
        Status::Error => error_name,
        _ => st.name(),
    }
}

fn describe(it: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = it.collect();
    if v.is_empty() {
        "nothing (the check did not report it)".into()
    } else {
        v.join(", ")
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value as a number, when it is one (`TLSv1.2` is 1.2).
fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    // `TLSv1.2`, `tlsv1.2` or `1.2`.
    let s = match s.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("tlsv") => &s[4..],
        _ => s,
    };
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Numbers compare as numbers; anything else as case-insensitive text (= and != only).
fn compare(v: &Value, op: Op, want: &str) -> bool {
    let have = value_text(v);
    if let (Some(a), Some(b)) = (number(&have), number(want)) {
        return match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Ge => a >= b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Lt => a < b,
        };
    }
    match op {
        Op::Eq => have.eq_ignore_ascii_case(want),
        Op::Ne => !have.eq_ignore_ascii_case(want),
        _ => false,
    }
}

#[cfg(test)]
impl Expect {
    /// [`Expect::evaluate`] for a domain checked to the end.
    fn eval(&self, results: &[Judged]) -> ExpectOutcome {
        self.evaluate(results, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("tls.*", "tls.cert.name"));
        assert!(glob("*.record", "spf.record"));
        assert!(glob("tls.cert.*", "tls.cert.key"));
        assert!(!glob("tls.*", "smtp.ehlo"));
        assert!(glob("*", "mx.null"));
        assert!(glob("mx.null", "mx.null"));
        assert!(!glob("mx.nul", "mx.null"));
    }

    #[test]
    fn selection_rejects_unknown_ids_naming_the_valid_ones() {
        let e = Selection::new(&["tls.nope".into()], &[]).unwrap_err();
        assert!(e.contains("tls.nope") && e.contains("tls.starttls"), "{e}");
        let s = Selection::new(
            &["tls.*".into(), "mx.lookup".into()],
            &["tls.cert.key".into()],
        )
        .unwrap();
        assert!(s.wants("tls.starttls") && s.wants("mx.lookup"));
        assert!(!s.wants("tls.cert.key") && !s.wants("spf.record"));
        assert!(Selection::default().wants("spf.record"));
    }

    #[test]
    fn waivers() {
        let w = Waiver::parse("dmarc.*@Example.Test").unwrap();
        assert!(w.covers("dmarc.record", "example.test."));
        assert!(!w.covers("dmarc.record", "other.test"));
        assert!(!w.covers("spf.record", "example.test"));
        assert!(
            Waiver::parse("dmarc.record@*")
                .unwrap()
                .covers("dmarc.record", "x.test")
        );
        assert!(Waiver::parse("dmarc.record").is_err());
        assert!(Waiver::parse("nope.x@example.test").is_err());
    }

    #[test]
    fn a_waiver_for_a_domain_not_checked_is_refused_with_the_nearest() {
        let list = ["Example.Test.".to_string(), "other.test".to_string()];
        for ok in [
            "dmarc.record@example.test",
            "dmarc.*@EXAMPLE.TEST.",
            "spf.record@*",
        ] {
            assert_eq!(
                Waiver::parse(ok).unwrap().ensure_checked(&list),
                Ok(()),
                "{ok}"
            );
        }
        let e = Waiver::parse("dmarc.record@exmaple.test")
            .unwrap()
            .ensure_checked(&list)
            .unwrap_err();
        assert_eq!(
            e,
            "--waive 'dmarc.record@exmaple.test': exmaple.test is not a domain checked, so it would waive nothing (did you mean example.test?)"
        );
        let e = Waiver::parse("dmarc.record@elsewhere.org")
            .unwrap()
            .ensure_checked(&list)
            .unwrap_err();
        assert!(e.ends_with("so it would waive nothing"), "{e}");
    }

    #[test]
    fn a_misspelt_id_is_answered_with_the_nearest() {
        let e = Selection::new(&["tls.cert.expiri".into()], &[]).unwrap_err();
        assert!(
            e.starts_with("--only: 'tls.cert.expiri' matches no id (did you mean tls.cert.expiry?); valid ids: "),
            "{e}"
        );
        let e = Selection::new(&[], &["mx.lookp".into()]).unwrap_err();
        assert!(e.contains("(did you mean mx.lookup?)"), "{e}");
        let e = Selection::new(&["TLS.StartTLS".into()], &[]).unwrap_err();
        assert!(e.contains("(did you mean tls.starttls?)"), "{e}");
        let e = Waiver::parse("dmarc.recrod@example.test").unwrap_err();
        assert!(e.contains("(did you mean dmarc.record?)"), "{e}");
        for (expr, meant) in [
            ("tls.starttsl=pass", "tls.starttls"),
            ("tls.cert.dys>=21", "tls.cert.days"),
            ("mx.lookp.count>=1", "mx.lookup.count"),
            // Another case: ids are lower case (these got no suggestion at all).
            ("TLS.STARTTLS=pass", "tls.starttls"),
            ("Tls.Cert.Days>=21", "tls.cert.days"),
            ("MX.LOOKUP.count>=1", "mx.lookup.count"),
        ] {
            let e = Expect::parse(expr).unwrap_err();
            assert!(
                e.contains(&format!("(did you mean {meant}?)")),
                "{expr}: {e}"
            );
            assert!(!e.contains('\n'), "{e}");
        }
        // Nothing near, or a glob: the list alone, as before.
        for e in [
            Selection::new(&["zzzzzzzz".into()], &[]).unwrap_err(),
            Selection::new(&["tls.cert.x*".into()], &[]).unwrap_err(),
            Expect::parse("nothing.like.it>=1").unwrap_err(),
        ] {
            assert!(
                !e.contains("did you mean") && e.contains("valid ids: "),
                "{e}"
            );
        }
    }

    #[test]
    fn a_bare_prefix_of_ids_is_answered_with_its_glob() {
        // `--only tls` names the family `tls.*`: the glob is the meant word, not a near id.
        let e = Selection::new(&["tls".into()], &[]).unwrap_err();
        assert!(
            e.starts_with("--only: 'tls' matches no id (did you mean tls.*?); valid ids: "),
            "{e}"
        );
        let e = Selection::new(&[], &["TLS.Cert".into()]).unwrap_err();
        assert!(e.contains("(did you mean tls.cert.*?)"), "{e}");
        let e = Selection::new(&["dane.".into()], &[]).unwrap_err();
        assert!(e.contains("(did you mean dane.*?)"), "{e}");
        // ehlo probe shares the code: `starttls` is the starttls.* family there.
        let e =
            Selection::new_in(crate::probe::script::PROBES, &["starttls".into()], &[]).unwrap_err();
        assert!(
            e.starts_with(
                "--only: 'starttls' matches no id (did you mean starttls.*?); valid ids: "
            ),
            "{e}"
        );
        // A word that only begins an id (no dot after it) is no family.
        let e = Selection::new(&["mtast".into()], &[]).unwrap_err();
        assert!(!e.contains("mtast*"), "{e}");
    }

    #[test]
    fn expect_grammar() {
        assert!(matches!(
            Expect::parse("tls.starttls=pass"),
            Ok(Expect::Status {
                id: "tls.starttls",
                status: Status::Pass,
                ..
            })
        ));
        assert!(matches!(
            Expect::parse("mx.null = PASS"),
            Ok(Expect::Status {
                id: "mx.null",
                status: Status::Pass,
                ..
            })
        ));
        assert!(matches!(
            Expect::parse("tls.cert.days>=21"),
            Ok(Expect::Field {
                id: "tls.cert.expiry",
                op: Op::Ge,
                ..
            })
        ));
        assert!(matches!(
            Expect::parse("mx.count >= 2"),
            Ok(Expect::Field {
                id: "mx.lookup",
                op: Op::Ge,
                ..
            })
        ));
        assert!(matches!(
            Expect::parse("smtp.banner.code!=421"),
            Ok(Expect::Field {
                id: "smtp.banner",
                op: Op::Ne,
                ..
            })
        ));
        for bad in [
            "tls.starttls=great",
            "nosuch.check=pass",
            "tls.starttls>=1",
            "mx.count>=",
            "mx.count",
        ] {
            assert!(Expect::parse(bad).is_err(), "{bad}");
        }
        // Values that could never compare: refused, not unmet on every run.
        for (bad, said) in [
            ("tls.cert.days>=21d", "'21d' is not a number"),
            ("mx.count<two", "'two' is not a number"),
            ("tls.version>=inf", "'inf' is not a number"),
        ] {
            let e = Expect::parse(bad).unwrap_err();
            assert!(e.contains(said), "{bad}: {e}");
        }
        for good in [
            "tls.version>=TLSv1.2",
            "mx.count >= 2",
            "dmarc.p!=none",
            "tls.cert.days>=-1",
        ] {
            assert!(Expect::parse(good).is_ok(), "{good}");
        }
        let e = Expect::parse("nosuch=pass").unwrap_err();
        assert!(e.contains("valid ids") && e.contains("mx.lookup"), "{e}");
        let e = Expect::parse("tls.starttls=great").unwrap_err();
        assert!(e.contains("(pass, info, skip, warn, error, fail)"), "{e}");
    }

    /// A value that the field can never hold is a typo: `dmarc.p=rejct` was unmet on every run
    /// (exit 40, as if the domain were wrong) and `dmarc.p!=rejct` met on every run, hiding a
    /// weak policy. The DMARC `p` tag has three values (RFC 7489 §6.3), an MTA-STS `mode` three
    /// (RFC 8461 §3.2), whichever way the field is named; a misspelt status is told the nearest
    /// one too.
    #[test]
    fn expect_a_value_the_field_cannot_hold_is_refused_with_the_nearest() {
        for (bad, said) in [
            (
                "dmarc.p=rejct",
                "'rejct' is not a value of dmarc.p (none, quarantine, reject; did you mean reject?)",
            ),
            ("dmarc.p != qurantine", "; did you mean quarantine?)"),
            ("dmarc.record.p=rejct", "did you mean reject?"),
            (
                "mtasts.mode=enforc",
                "'enforc' is not a value of mtasts.mode (enforce, testing, none; did you mean enforce?)",
            ),
            (
                "mtasts.policy.mode!=xyz",
                "'xyz' is not a value of mtasts.mode (enforce, testing, none)",
            ),
            ("tls.starttls=pas", "(did you mean pass?)"),
            // A doubled or swapped operator is told the one meant, not a list without it.
            ("mx.count==2", "'==' is no operator (write =)"),
            ("dmarc.p == reject", "'==' is no operator (write =)"),
            ("mx.count=>2", "'=>' is no operator (write >=)"),
            ("tls.cert.days=<5", "'=<' is no operator (write <=)"),
            ("mx.count<>2", "'<>' is no operator (write !=)"),
            ("dmarc.p!==none", "'!==' is no operator (write !=)"),
            (
                "mx.count>>2",
                "'>2' starts with an operator (write >=, <=, != or =)",
            ),
        ] {
            let e = Expect::parse(bad).unwrap_err();
            assert!(e.contains(said), "{bad}: {e}");
        }
        for good in [
            "dmarc.p=reject",
            "dmarc.p=REJECT",
            "dmarc.p!=none",
            "dmarc.record.p=quarantine",
            "mtasts.mode=enforce",
            "mtasts.policy.mode!=testing",
        ] {
            assert!(Expect::parse(good).is_ok(), "{good}");
        }
    }

    /// A probe's boolean evidence takes true or false, `smuggle.*`'s `bdat` one of its three
    /// words: `starttls.downgrade.mail_without_tls=flase` parsed, was unmet on every run (exit
    /// 40, as if the server were wrong) and `!=flase` met on every run. Now refused with the
    /// nearest value, and so is a number comparison on such a field.
    #[test]
    fn probe_expect_a_value_a_closed_field_cannot_hold_is_refused_with_the_nearest() {
        use crate::probe::script::{FIELDS as PROBE_FIELDS, PROBES};
        let parse = |s: &str| Expect::parse_in(PROBES, PROBE_FIELDS, "inconclusive", s);
        for (bad, said) in [
            (
                "starttls.downgrade.mail_without_tls=flase",
                "'flase' is not a value of starttls.downgrade.mail_without_tls (true, false; did you mean false?)",
            ),
            ("starttls.downgrade.starttls != treu", "did you mean true?"),
            ("relay.open.control_accepted=yes", "(true, false)"),
            ("enum.vrfy.no_greeting=ture", "did you mean true?"),
            ("limits.line.unfinished=flase", "did you mean false?"),
            (
                "smuggle.lf-lf.bdat=refsued",
                "not a value of smuggle.lf-lf.bdat (accepted, refused, not offered; did you mean refused?)",
            ),
            (
                "starttls.downgrade.mail_without_tls>=1",
                "starttls.downgrade.mail_without_tls is one of true, false (compare it with = or !=)",
            ),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(said), "{bad}: {e}");
        }
        for good in [
            "starttls.downgrade.mail_without_tls=false",
            "starttls.downgrade.mail_without_tls=FALSE",
            "starttls.downgrade.starttls!=true",
            "relay.open.control_accepted=true",
            "smuggle.cr-lf.bdat=not offered",
            "smuggle.lf-lf.token=abc",
        ] {
            assert!(parse(good).is_ok(), "{good}");
        }
    }

    /// `ehlo check`'s own booleans and closed sets were not in the closed-value check:
    /// `tls.cert.chain.verified=ture` ran the whole check to be unmet (exit 40), `!=ture` met
    /// on every run. Now refused before the run with the nearest value, and so is a number
    /// comparison on such a field.
    #[test]
    fn check_expect_a_value_a_closed_field_cannot_hold_is_refused_with_the_nearest() {
        for (bad, said) in [
            (
                "tls.cert.chain.verified=ture",
                "'ture' is not a value of tls.cert.chain.verified (true, false; did you mean true?)",
            ),
            ("tls.cert.name.cn_only != flase", "did you mean false?"),
            ("smtp.connect.no_local_route=yes", "(true, false)"),
            ("smtp.banner.truncated_at_close=treu", "did you mean true?"),
            ("tls.starttls.unfinished=fasle", "did you mean false?"),
            ("mtasts.fetch.cert_verified=ture", "did you mean true?"),
            ("smtp.ehlo.requiretls=ture", "did you mean true?"),
            ("mx.lookup.implicit=flase", "did you mean false?"),
            ("dmarc.record.inherited=ture", "did you mean true?"),
            ("dane.rollover.current_key_only=ture", "did you mean true?"),
            (
                "dmarc.record.sp=rejct",
                "not a value of dmarc.record.sp (none, quarantine, reject; did you mean reject?)",
            ),
            ("dnssec.domain.proof=secrue", "did you mean secure?"),
            (
                "tls.cert.chain.verified>=1",
                "tls.cert.chain.verified is one of true, false (compare it with = or !=)",
            ),
        ] {
            let e = Expect::parse(bad).unwrap_err();
            assert!(e.contains(said), "{bad}: {e}");
        }
        for good in [
            "tls.cert.chain.verified=true",
            "tls.cert.chain.verified=FALSE",
            "tls.cert.name.cn_only!=true",
            "dmarc.record.sp=quarantine",
            "dnssec.mx.proof=insecure",
            "dmarc.p=reject",
            "smtp.ehlo.code=250",
        ] {
            assert!(Expect::parse(good).is_ok(), "{good}");
        }
    }

    /// `--expect` read top-level evidence members only: `limits.line.control.answered=true`
    /// was unmet ("none (…)") on every run while the JSON showed `"control": {"answered":
    /// true}`. A dotted KEY now walks into nested objects (and arrays by index); its value
    /// can be a typo of a closed set as at the top level; a miss names the members of the
    /// deepest object the path reached.
    #[test]
    fn a_dotted_key_reads_nested_evidence() {
        use crate::probe::script::{FIELDS as PROBE_FIELDS, PROBES};
        let parse = |s: &str| Expect::parse_in(PROBES, PROBE_FIELDS, "inconclusive", s);
        let r = CheckResult::new("limits.line", Status::Pass, "closed on it").with(
            "control",
            serde_json::json!({"by": "limits.line", "answered": true, "noop": "250 ok", "why": null}),
        );
        let o = parse("limits.line.control.answered=true")
            .unwrap()
            .eval(&js(&[&r]));
        assert!(o.met, "{o:?}");
        assert_eq!(o.found, "true");
        let o = parse("limits.line.control.answered=false")
            .unwrap()
            .eval(&js(&[&r]));
        assert!(!o.met && o.undecided.is_none(), "{o:?}");
        assert!(
            parse("limits.line.control.noop=250 ok")
                .unwrap()
                .eval(&js(&[&r]))
                .met
        );
        let e = parse("limits.line.control.answered=ture").unwrap_err();
        assert!(e.contains("did you mean true?"), "{e}");
        let o = parse("limits.line.control.answerd=true")
            .unwrap()
            .eval(&js(&[&r]));
        assert!(!o.met);
        assert!(
            o.found
                .contains("evidence control: by, answered, noop, why")
                || o.found
                    .contains("evidence control: answered, by, noop, why"),
            "{o:?}"
        );
        // Into an array by index, in `ehlo check` too.
        let c = CheckResult::new("tls.cert.chain", Status::Pass, "verifies")
            .with("chain", serde_json::json!([{"subject": "CN=mx.example"}]));
        let o = Expect::parse("tls.cert.chain.chain.0.subject=CN=mx.example")
            .unwrap()
            .eval(&js(&[&c]));
        assert!(o.met, "{o:?}");
    }

    /// A dotted KEY through a member that holds one value (`tls.version.major=1`: the version is
    /// a number) could never be met: it was unmet on every run, a CI assertion that can never
    /// pass. It is refused before the run, naming the member and what it holds, in `check`
    /// (through an `ID.KEY` or a shorthand field) and in `probe`.
    #[test]
    fn a_dotted_key_through_a_value_is_refused() {
        use crate::probe::script::{FIELDS as PROBE_FIELDS, PROBES};
        for (bad, said) in [
            (
                "tls.version.major=1",
                "tls.version is a number (1.3), not an object: it has no member 'major'",
            ),
            (
                "tls.handshake.version.major=1",
                "tls.handshake.version is a number (1.3), not an object",
            ),
            (
                "tls.handshake.protocol.x=TLSv1.3",
                "tls.handshake.protocol is a string",
            ),
            ("smtp.connect.ms.x>=1", "smtp.connect.ms is a number"),
            ("tls.cert.days.left>=21", "tls.cert.days is a number"),
            ("mx.count.v4>=1", "mx.count is a number"),
            (
                "tls.cert.chain.verified.ok=true",
                "tls.cert.chain.verified is true or false, not an object: it has no member 'ok'",
            ),
            (
                "dmarc.p.x=reject",
                "dmarc.p is one of none, quarantine, reject",
            ),
            (
                "smtp.ehlo.skipped_because.x=a",
                "smtp.ehlo.skipped_because is one of",
            ),
        ] {
            let e = Expect::parse(bad).unwrap_err();
            assert!(e.contains(said), "{bad}: {e}");
        }
        let parse = |s: &str| Expect::parse_in(PROBES, PROBE_FIELDS, "inconclusive", s);
        for (bad, said) in [
            (
                "limits.line.control.answered.yes=true",
                "limits.line.control.answered is true or false, not an object",
            ),
            ("smuggle.lf-lf.token.0=x", "smuggle.lf-lf.token is a string"),
            (
                "starttls.downgrade.mail_without_tls.x=false",
                "true or false",
            ),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(said), "{bad}: {e}");
        }
        // Into objects and arrays, still read.
        assert!(parse("limits.line.control.answered=true").is_ok());
        assert!(Expect::parse("tls.cert.chain.chain.0.subject=CN=mx.example").is_ok());
    }

    /// Closed sets beyond the booleans: `skipped_because` names a session step, a TLS version
    /// is `TLSv1.2` or the number alone, `limits.*`'s `control.by` a `limits.*` probe. A typo
    /// (`tls.version=TLS1.3`) ran the whole check to be unmet; refused with the nearest value.
    #[test]
    fn closed_sets_of_steps_and_tls_versions_are_refused_with_the_nearest() {
        use crate::probe::script::{FIELDS as PROBE_FIELDS, PROBES};
        for (bad, said) in [
            (
                "tls.version=TLS1.3",
                "'TLS1.3' is not a TLS version of tls.version (SSLv3, TLSv1, TLSv1.1, TLSv1.2, \
                 TLSv1.3, or the number alone: 1.3; did you mean TLSv1.3?)",
            ),
            ("tls.handshake.protocol=TLS v1.3", "did you mean TLSv1.3?"),
            ("tls.handshake.version!=tlsv1.2x", "did you mean TLSv1.2?"),
            (
                "smtp.ehlo.skipped_because=smtp.conect",
                "'smtp.conect' is not a value of smtp.ehlo.skipped_because (smtp.connect, \
                 smtp.banner, smtp.ehlo, tls.starttls, tls.handshake; did you mean smtp.connect?)",
            ),
            (
                "tls.cert.chain.skipped_because=tls.handshak",
                "did you mean tls.handshake?",
            ),
        ] {
            let e = Expect::parse(bad).unwrap_err();
            assert!(e.contains(said), "{bad}: {e}");
        }
        for good in [
            "tls.version=TLSv1.3",
            "tls.version=tlsv1.3",
            "tls.version>=1.2",
            "tls.version>=TLSv1.2",
            "tls.handshake.protocol=TLSv1.2",
            "tls.handshake.protocol!=SSLv3",
            "smtp.ehlo.skipped_because=tls.starttls",
        ] {
            assert!(Expect::parse(good).is_ok(), "{good}");
        }
        let parse = |s: &str| Expect::parse_in(PROBES, PROBE_FIELDS, "inconclusive", s);
        let e = parse("limits.nul.control.by=limits.lin").unwrap_err();
        assert!(e.contains("did you mean limits.line?"), "{e}");
        assert!(parse("limits.nul.control.by=limits.line").is_ok());
    }

    /// A glob in `--expect` (`smuggle.*=pass`) was refused as an unknown id, as a typo is, with
    /// no word that globs are not taken there: it says so and writes the expectations to give
    /// instead, in `check` and `probe` alike.
    #[test]
    fn expect_with_a_glob_says_globs_are_not_taken_and_what_to_write() {
        use crate::probe::script::{FIELDS as PROBE_FIELDS, PROBES};
        let parse = |s: &str| Expect::parse_in(PROBES, PROBE_FIELDS, "inconclusive", s);
        let e = parse("smuggle.*=pass").unwrap_err();
        assert!(
            e.contains(
                "'smuggle.*' is a glob, and --expect takes one probe id, not a glob (--only \
                 and --skip take globs): write one for each: smuggle.lf-lf=pass, \
                 smuggle.lf-crlf=pass,"
            ),
            "{e}"
        );
        // `ehlo probe` has no --waive: the refusal names only the flags it has.
        assert!(!e.contains("--waive"), "{e}");
        assert!(!e.contains("unknown"), "{e}");
        let e = parse("smuggle.*.bdat = refused").unwrap_err();
        assert!(e.contains("smuggle.lf-lf.bdat=refused, "), "{e}");
        let e = parse("enum.*.no_greeting!=true").unwrap_err();
        assert!(e.contains("enum.vrfy.no_greeting!=true"), "{e}");
        let e = Expect::parse("tls.cert.*=pass").unwrap_err();
        assert!(e.contains("takes one check id, not a glob"), "{e}");
        assert!(e.contains("(--only, --skip and --waive take globs)"), "{e}");
        assert!(e.contains("tls.cert.chain=pass"), "{e}");
        // A glob in the key: one evidence member each too.
        let e = Expect::parse("dmarc.record.*=x").unwrap_err();
        assert!(e.contains("is a glob") && e.contains("valid ids: "), "{e}");
    }

    /// An unknown id in `ehlo probe --expect` says what a probe id is and suggests the
    /// nearest one; it said "unknown check or field", `check`'s words.
    #[test]
    fn probe_expect_with_an_unknown_id_speaks_of_probes() {
        use crate::probe::script::{FIELDS as PROBE_FIELDS, PROBES};
        let parse = |s: &str| Expect::parse_in(PROBES, PROBE_FIELDS, "inconclusive", s);
        let e = parse("smugle.lf-lf=pass").unwrap_err();
        assert!(
            e.contains("unknown probe id 'smugle.lf-lf' (did you mean smuggle.lf-lf?)"),
            "{e}"
        );
        assert!(e.contains("a probe id names one probe"), "{e}");
        assert!(!e.contains("check"), "{e}");
        let e = parse("starttls.downgrad.mail_without_tls=false").unwrap_err();
        assert!(
            e.contains("(did you mean starttls.downgrade.mail_without_tls?)"),
            "{e}"
        );
        let e = parse("smuggle.lf-lf>=1").unwrap_err();
        assert!(e.contains("a probe id takes '=STATUS'"), "{e}");
        // `check` keeps its words.
        let e = Expect::parse("tls.strttls=pass").unwrap_err();
        assert!(e.contains("unknown check or field"), "{e}");
    }

    /// The same expectation twice, however spelt, is judged once: the first spelling kept,
    /// a contradicting one kept too.
    #[test]
    fn a_repeated_expectation_is_judged_once() {
        let all: Vec<Expect> = [
            "tls.starttls=pass",
            "tls.starttls = pass",
            "tls.version>=1.2",
            "tls.handshake.version >= 1.2",
            "tls.starttls=fail",
            "tls.version>=1.3",
        ]
        .iter()
        .map(|s| Expect::parse(s).unwrap())
        .collect();
        let kept: Vec<String> = Expect::dedup(all)
            .iter()
            .map(|e| e.text().to_string())
            .collect();
        assert_eq!(
            kept,
            [
                "tls.starttls=pass",
                "tls.version>=1.2",
                "tls.starttls=fail",
                "tls.version>=1.3"
            ]
        );
    }

    #[test]
    fn probe_expectations_say_inconclusive() {
        use crate::probe::script::{FIELDS as PROBE_FIELDS, PROBES};
        let parse = |s: &str| Expect::parse_in(PROBES, PROBE_FIELDS, "inconclusive", s);
        let e = parse("enum.vrfy=bogus").unwrap_err();
        assert!(
            e.contains("(pass, info, skip, warn, inconclusive, fail)"),
            "{e}"
        );
        let r = CheckResult::new("enum.vrfy", Status::Error, "closed");
        for written in ["enum.vrfy=inconclusive", "enum.vrfy=error"] {
            let o = parse(written).unwrap().eval(&js(&[&r]));
            assert!(o.met, "{written}: {o:?}");
            assert_eq!(o.found, "inconclusive", "{written}");
        }
        let o = parse("enum.vrfy=pass").unwrap().eval(&js(&[&r]));
        assert!(!o.met);
        assert_eq!(o.found, "inconclusive");
        // ehlo check keeps its own name.
        let c = CheckResult::new("tls.starttls", Status::Error, "timeout");
        let o = Expect::parse("tls.starttls=pass").unwrap().eval(&js(&[&c]));
        assert_eq!(o.found, "error");
    }

    fn js(rs: &[&CheckResult]) -> Vec<Judged> {
        rs.iter()
            .map(|r| Judged {
                result: (*r).clone(),
                counts: true,
                waived: false,
                note: None,
            })
            .collect()
    }

    #[test]
    fn expect_evaluation() {
        let a = CheckResult::new("tls.handshake", Status::Pass, "x").with("version", 1.3);
        let b = CheckResult::new("tls.handshake", Status::Warn, "x").with("version", 1.1);
        let d = CheckResult::new("tls.cert.expiry", Status::Pass, "x").with("days", 30);
        let all = [&a, &b, &d];
        assert!(
            !Expect::parse("tls.handshake=pass")
                .unwrap()
                .eval(&js(&all))
                .met
        );
        assert!(
            Expect::parse("tls.handshake=pass")
                .unwrap()
                .eval(&js(&[&a]))
                .met
        );
        assert!(
            !Expect::parse("tls.version>=1.2")
                .unwrap()
                .eval(&js(&all))
                .met
        );
        assert!(
            Expect::parse("tls.version>=1.2")
                .unwrap()
                .eval(&js(&[&a, &d]))
                .met
        );
        assert!(
            Expect::parse("tls.version>=TLSv1.2")
                .unwrap()
                .eval(&js(&[&a]))
                .met
        );
        assert!(
            Expect::parse("tls.cert.days>=21")
                .unwrap()
                .eval(&js(&all))
                .met
        );
        assert!(
            !Expect::parse("tls.cert.days>=31")
                .unwrap()
                .eval(&js(&all))
                .met
        );
        // Nothing reported: unmet, and it says so.
        let o = Expect::parse("mx.count>=2").unwrap().eval(&js(&all));
        assert!(!o.met && o.found.contains("nothing"), "{o:?}");
        let m = CheckResult::new("dmarc.record", Status::Pass, "x").with("p", "reject");
        assert!(
            Expect::parse("dmarc.p=REJECT")
                .unwrap()
                .eval(&js(&[&m]))
                .met
        );
        assert!(Expect::parse("dmarc.p!=none").unwrap().eval(&js(&[&m])).met);
    }

    /// A met `ID=STATUS` expectation takes its results out of the verdict (a met expectation
    /// is a pass); an unmet one, a field expectation, a waived result and an unfinished one
    /// are left as they were. Every result still counted before, so `--expect X=fail` met
    /// exited 40.
    #[test]
    fn a_met_status_expectation_takes_its_results_out_of_the_verdict() {
        use crate::check::model::{DomainReport, FailOn};
        use crate::probe::script::{FIELDS as PROBE_FIELDS, PROBES};
        let parse = |s: &str| Expect::parse_in(PROBES, PROBE_FIELDS, "inconclusive", s).unwrap();
        let judged = |c: CheckResult| Judged {
            result: c,
            counts: true,
            waived: false,
            note: None,
        };
        let lf = CheckResult::new("smuggle.lf-lf", Status::Fail, "accepted").with("queued", 2);
        let cr = CheckResult::new("smuggle.cr-cr", Status::Fail, "accepted");
        let nul = CheckResult::new("limits.nul", Status::Error, "not finished: deadline")
            .with("unfinished", true);
        let run = vec![judged(lf.clone()), judged(cr.clone()), judged(nul.clone())];
        let excused = |expects: &[&str]| {
            let expects: Vec<Expect> = expects.iter().map(|e| parse(e)).collect();
            let mut r = run.clone();
            Expect::judge_all(&expects, &mut r, None);
            r
        };
        // A met expectation of a pass marks nothing: a pass decides nothing to excuse.
        let ok = CheckResult::new("smuggle.cr-cr", Status::Pass, "one reply");
        let mut passed = vec![judged(ok)];
        Expect::judge_all(&[parse("smuggle.cr-cr=pass")], &mut passed, None);
        assert!(passed[0].counts && passed[0].note.is_none(), "{passed:?}");
        let r = excused(&["smuggle.lf-lf=fail"]);
        assert!(!r[0].counts);
        assert_eq!(
            r[0].note.as_deref(),
            Some("expected by --expect smuggle.lf-lf=fail")
        );
        assert!(r[1].counts && r[1].note.is_none(), "{:?}", r[1]);
        // Unmet, a field expectation, an unfinished check: nothing excused.
        for e in [
            "smuggle.lf-lf=pass",
            "smuggle.lf-lf.queued=2",
            "limits.nul=error",
        ] {
            assert_eq!(excused(&[e]), run, "{e}");
        }
        // The verdict: fail while cr-cr still counts; pass once both are expected.
        let verdict = |checks: Vec<Judged>| {
            DomainReport {
                index: 0,
                domain: "d".into(),
                checks,
                expects: vec![],
                aborted: None,
                ms: 0.0,
            }
            .verdict(FailOn::Fail)
        };
        let two = |a, b| vec![judged(a), judged(b)];
        let mut both = two(lf.clone(), cr.clone());
        Expect::judge_all(
            &[parse("smuggle.lf-lf=fail"), parse("smuggle.cr-cr=fail")],
            &mut both,
            None,
        );
        assert_eq!(verdict(two(lf.clone(), cr.clone())), Status::Fail);
        assert_eq!(verdict(both), Status::Pass);
        // A waived result keeps its note.
        let mut waived = vec![Judged {
            counts: false,
            waived: true,
            note: Some("waived".into()),
            ..judged(lf)
        }];
        Expect::judge_all(&[parse("smuggle.lf-lf=fail")], &mut waived, None);
        assert_eq!(waived[0].note.as_deref(), Some("waived"));
    }

    #[test]
    fn a_field_expectation_holds_on_every_mx_address() {
        let at = |c: CheckResult, mx: &str, ip: &str| CheckResult {
            mx: Some(mx.into()),
            ip: Some(ip.into()),
            ..c
        };
        let judged = |c: CheckResult, counts: bool, waived: bool| Judged {
            result: c,
            counts,
            waived,
            note: None,
        };
        // mx1 has STARTTLS and a certificate; mx2 is plaintext only, so its TLS checks skip.
        let days1 = at(
            CheckResult::new("tls.cert.expiry", Status::Pass, "valid").with("days", 3649),
            "mx1.test",
            "192.0.2.1",
        );
        let days2 = at(
            CheckResult::new("tls.cert.expiry", Status::Skip, "no STARTTLS"),
            "mx2.test",
            "192.0.2.2",
        );
        let hs1 = at(
            CheckResult::new("tls.handshake", Status::Pass, "TLSv1.3").with("version", 1.3),
            "mx1.test",
            "192.0.2.1",
        );
        let hs2 = at(
            CheckResult::new("tls.handshake", Status::Skip, "no STARTTLS"),
            "mx2.test",
            "192.0.2.2",
        );
        let run = vec![
            judged(days1.clone(), true, false),
            judged(days2.clone(), true, false),
            judged(hs1.clone(), true, false),
            judged(hs2.clone(), true, false),
        ];
        for (e, shown) in [("tls.cert.days>=21", "3649"), ("tls.version>=1.2", "1.3")] {
            let o = Expect::parse(e).unwrap().eval(&run);
            assert!(!o.met, "{e}: {o:?}");
            assert_eq!(
                o.found,
                format!("{shown}, none (mx2.test [192.0.2.2]: skip, no STARTTLS)"),
                "{e}"
            );
        }
        // A failure another MX makes up for is "not counted" for the verdict, but the
        // expectation is about every MX: still unmet.
        let not_counted = vec![
            judged(days1.clone(), true, false),
            judged(days2.clone(), false, false),
        ];
        assert!(
            !Expect::parse("tls.cert.days>=21")
                .unwrap()
                .eval(&not_counted)
                .met
        );
        // A waived result never makes it unmet, and says so.
        let waived = vec![
            judged(days1.clone(), true, false),
            judged(days2.clone(), false, true),
        ];
        let o = Expect::parse("tls.cert.days>=21").unwrap().eval(&waived);
        assert!(o.met, "{o:?}");
        assert_eq!(o.found, "3649, none (waived)");
        let o = Expect::parse("tls.handshake=pass").unwrap().eval(&[
            judged(hs1.clone(), true, false),
            judged(hs2.clone(), false, true),
        ]);
        assert!(o.met, "{o:?}");
        assert_eq!(o.found, "pass, skip (waived)");
        // Everything waived: met; nothing at all: unmet.
        let o =
            Expect::parse("tls.cert.days>=21")
                .unwrap()
                .eval(&[judged(days2.clone(), false, true)]);
        assert!(o.met, "{o:?}");
        let o = Expect::parse("tls.cert.days>=21").unwrap().eval(&[]);
        assert!(!o.met && o.found.contains("nothing"), "{o:?}");
        // The status of a result without the field is named as the mode names it.
        let down = at(
            CheckResult::new("tls.cert.expiry", Status::Error, "timed out"),
            "mx3.test",
            "192.0.2.3",
        );
        let o = Expect::parse_in(CHECKS, FIELDS, "inconclusive", "tls.cert.days>=21")
            .unwrap()
            .eval(&[judged(down, true, false)]);
        assert!(!o.met, "{o:?}");
        assert_eq!(
            o.found,
            "none (mx3.test [192.0.2.3]: inconclusive, timed out)"
        );
        // A misspelt evidence KEY can only be unmet (members vary by result): `found` names the
        // members the result has, so the typo shows.
        let o = Expect::parse("tls.cert.expiry.dayz>=21")
            .unwrap()
            .eval(&[judged(days1.clone(), true, false)]);
        assert!(!o.met, "{o:?}");
        assert_eq!(
            o.found,
            "none (mx1.test [192.0.2.1]: pass, valid; evidence: days)"
        );
        // Every MX with the field: as before.
        assert!(
            Expect::parse("tls.cert.days>=21")
                .unwrap()
                .eval(&[judged(days1, true, false)])
                .met
        );
    }

    /// Every expectation gets a verdict: met, unmet, or not decided with the reason. One about a
    /// check `--deadline` cut was left out of every output; one about a check that could not be
    /// tested, or was skipped after a session step that did not pass, or with no MX to test
    /// because the MX lookup timed out, was unmet (exit 40) for what had not been tested.
    #[test]
    fn an_expectation_not_tested_is_not_decided_and_says_why() {
        let at = |c: CheckResult| CheckResult {
            mx: Some("mx.test".into()),
            ip: Some("192.0.2.1".into()),
            ..c
        };
        let j = |c: CheckResult| Judged {
            result: c,
            counts: true,
            waived: false,
            note: None,
        };
        let cut = at(CheckResult::new(
            "tls.starttls",
            Status::Error,
            "not finished: deadline reached (--deadline)",
        )
        .with("unfinished", true));
        let mut run = vec![j(cut)];
        let e = |s: &str| Expect::parse(s).unwrap();
        let o = Expect::judge_all(&[e("tls.starttls=pass")], &mut run, Some("deadline"));
        assert_eq!(o.len(), 1, "listed, not dropped");
        assert!(!o[0].met && !o[0].unmet(), "{o:?}");
        assert_eq!(
            o[0].undecided.as_deref(),
            Some("tls.starttls not finished on mx.test [192.0.2.1]: deadline reached (--deadline)")
        );
        // Even `=error`, which the unfinished result's status matches, is not decided.
        assert!(e("tls.starttls=error").eval(&run).undecided.is_some());
        // A domain never started: every expectation listed, not decided.
        let o = Expect::judge_all(&[e("mx.count>=2")], &mut [], Some("deadline reached"));
        assert_eq!(
            o[0].undecided.as_deref(),
            Some("the domain was not checked to the end: deadline reached")
        );
        // Skipped because STARTTLS failed: not decided; with a reason of its own: unmet.
        let after = at(CheckResult::skip_after(
            "tls.cert.expiry",
            "tls.starttls",
            "no STARTTLS",
        ));
        let o = e("tls.cert.days>=21").eval(&[j(after.clone())]);
        assert_eq!(
            o.undecided.as_deref(),
            Some("tls.cert.expiry skipped on mx.test [192.0.2.1]: tls.starttls did not pass")
        );
        let refused = at(CheckResult::new(
            "tls.starttls",
            Status::Fail,
            "not offered",
        ));
        let o = e("tls.cert.expiry=pass").eval(&[j(refused), j(after.clone())]);
        assert_eq!(
            o.undecided.as_deref(),
            Some("tls.cert.expiry skipped on mx.test [192.0.2.1]: tls.starttls failed")
        );
        assert!(e("tls.cert.expiry=skip").eval(&[j(after.clone())]).met);
        let own = at(CheckResult::new("tls.cert.expiry", Status::Skip, "no TLSA"));
        assert!(e("tls.cert.expiry=pass").eval(&[j(own)]).unmet());
        // One MX decides unmet: unmet, whatever the others could not decide.
        let short = CheckResult {
            ip: Some("192.0.2.2".into()),
            ..at(CheckResult::new("tls.cert.expiry", Status::Pass, "ok").with("days", 3))
        };
        let o = e("tls.cert.days>=21").eval(&[j(after), j(short)]);
        assert!(o.unmet(), "{o:?}");
        // Could not be tested: not decided, named as the mode names it.
        let down = CheckResult::new("spf.record", Status::Error, "DNS lookup timed out");
        let o = e("spf.record=pass").eval(&[j(down.clone())]);
        assert_eq!(
            o.undecided.as_deref(),
            Some("spf.record could not be tested: DNS lookup timed out")
        );
        assert!(e("spf.record=error").eval(&[j(down)]).met);
        // No MX address because the MX lookup timed out: not decided; a null MX: unmet.
        let mx = CheckResult::new("mx.lookup", Status::Error, "DNS lookup of d.test timed out");
        let o = e("tls.starttls=pass").eval(&[j(mx)]);
        assert_eq!(
            o.undecided.as_deref(),
            Some(
                "no MX address to test: mx.lookup could not be tested: DNS lookup of d.test timed out"
            )
        );
        let null = CheckResult::new("mx.null", Status::Pass, "null MX");
        assert!(e("tls.starttls=pass").eval(&[j(null)]).unmet());
        // The verdict: unmet fails (40), not decided is an error (41).
        let verdict = |expects| {
            crate::check::model::DomainReport {
                index: 0,
                domain: "d".into(),
                checks: vec![],
                expects,
                aborted: None,
                ms: 0.0,
            }
            .verdict(crate::check::model::FailOn::Fail)
        };
        let o = e("tls.starttls=pass").eval(&run);
        assert_eq!(verdict(vec![o.clone()]), Status::Error);
        let unmet = e("mx.count>=2").eval(&[]);
        assert_eq!(verdict(vec![o, unmet]), Status::Fail);
    }

    /// A selection asks only what its checks read and what their verdicts depend on in a full
    /// run; every domain used to ask everything (MX, addresses, five TXT names, TLSA, DNSSEC
    /// keys, PTR) whatever `--only/--skip` said.
    #[test]
    fn a_selection_asks_only_the_lookups_its_checks_need() {
        let plan = |only: &[&str], skip: &[&str]| {
            let own = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
            Lookups::of(&Selection::new(&own(only), &own(skip)).unwrap())
        };
        let none = Lookups {
            probe: false,
            mx: false,
            mx_addresses: false,
            mtasts_txt: false,
            mtasts_fetch: false,
            tlsrpt: false,
            spf: false,
            dmarc: false,
            dkim: false,
            dnssec: DnssecDepth::None,
            ptr: false,
        };
        let t = true;
        let everything = Lookups {
            probe: t,
            mx: t,
            mx_addresses: t,
            mtasts_txt: t,
            mtasts_fetch: t,
            tlsrpt: t,
            spf: t,
            dmarc: t,
            dkim: t,
            dnssec: DnssecDepth::Tlsa,
            ptr: t,
        };
        assert_eq!(plan(&[], &[]), everything);
        assert_eq!(plan(&["mx.lookup"], &[]), Lookups { mx: t, ..none });
        assert_eq!(plan(&["mx.null"], &[]), Lookups { mx: t, ..none });
        let addresses = Lookups {
            mx: t,
            mx_addresses: t,
            ..none
        };
        assert_eq!(plan(&["mx.target"], &[]), addresses);
        assert_eq!(plan(&["spf.record"], &[]), Lookups { spf: t, ..none });
        assert_eq!(plan(&["dkim.hint"], &[]), Lookups { dkim: t, ..none });
        assert_eq!(
            plan(&["mtasts.txt"], &[]),
            Lookups {
                mtasts_txt: t,
                ..none
            }
        );
        let sts = Lookups {
            mtasts_txt: t,
            mtasts_fetch: t,
            ..none
        };
        assert_eq!(plan(&["mtasts.policy"], &[]), sts);
        // The policy's mx patterns are matched against the MX hosts (no address asked).
        assert_eq!(plan(&["mtasts.mx-match"], &[]), Lookups { mx: t, ..sts });
        let dnssec = |dnssec| Lookups { dnssec, ..none };
        assert_eq!(plan(&["dnssec.domain"], &[]), dnssec(DnssecDepth::Domain));
        let hosts = |depth| Lookups {
            mx: t,
            ..dnssec(depth)
        };
        assert_eq!(plan(&["dnssec.mx"], &[]), hosts(DnssecDepth::Hosts));
        assert_eq!(plan(&["dane.tlsa"], &[]), hosts(DnssecDepth::Tlsa));
        assert_eq!(plan(&["dnssec.*"], &[]), hosts(DnssecDepth::Hosts));
        // A host check: the sessions, so the hosts' addresses, and the MTA-STS policy, which
        // judges their results (a certificate warning on a covered MX fails).
        let session = Lookups {
            probe: t,
            mx: t,
            mx_addresses: t,
            ..sts
        };
        assert_eq!(plan(&["smtp.connect"], &[]), session);
        assert_eq!(plan(&["ipv6.mx"], &[]), session);
        assert_eq!(plan(&["tls.*"], &["tls.cert.expiry"]), session);
        // A DANE-EE match makes an expired leaf a warning: the TLSA records are asked.
        let expiry = Lookups {
            dnssec: DnssecDepth::Tlsa,
            ..session
        };
        assert_eq!(plan(&["tls.cert.expiry"], &[]), expiry);
        // The PTR names feed smtp.banner-name as well as rdns.fcrdns.
        assert_eq!(
            plan(&["smtp.banner-name"], &[]),
            Lookups { ptr: t, ..session }
        );
        assert_eq!(plan(&["rdns.fcrdns"], &[]), Lookups { ptr: t, ..session });
        // --skip takes lookups away as --only does.
        assert_eq!(
            plan(&["*.record"], &["spf.record"]),
            Lookups {
                tlsrpt: t,
                dmarc: t,
                ..none
            }
        );
        assert_eq!(
            plan(
                &[],
                &[
                    "smtp.*",
                    "tls.*",
                    "rdns.*",
                    "dane.*",
                    "ipv6.mx",
                    "mx.target"
                ]
            ),
            Lookups {
                probe: false,
                mx_addresses: false,
                ptr: false,
                dnssec: DnssecDepth::Hosts,
                ..everything
            }
        );
    }
}
