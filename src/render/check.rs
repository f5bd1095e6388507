//! The `ehlo check` renderer: the human report or JSON Lines, one block per domain, both in
//! input order. This documentation is the JSON format's
//! specification, versioned like the send's (`render::json`).
//!
//! # JSON Lines format (`ehlo check --json`)
//!
//! One object per line on stdout. The first line is `schema`; the last line, whenever the run
//! gets to print it (also after `--deadline` or Ctrl-C), is `summary`. A command line refused
//! once its flags are parsed (exit 1: no domain, an unreadable `@FILE` or a malformed name in
//! it, a bad `--expect`, an unwritable `--junit` FILE, a bad config file or `EHLO_*` variable
//! with `--json` on the command line) and a run that cannot start (exit 10: no usable DNS
//! resolver) write `schema`, the command line's `warning` lines if any, an `error` line and a
//! `summary` (`exit_code` 1 or 10, `domains`
//! 0, `stopped` the reason), the reason on stderr too as one line; so does a command line whose
//! flags cannot be parsed (an unknown flag, a bad value: `--json` read word by word). Lines of
//! one domain come together, in input order (`index`): a domain done before an earlier one is
//! held back until that one is written, so two runs of one list give the same lines in the same
//! order whatever `--concurrency` and whichever domain finished first; only the timing members
//! (`ms`) differ. Consumers must ignore members and `type`s they do not know. Optional members are
//! present with `null` when they have no value.
//!
//! | `type` | members |
//! |---|---|
//! | `schema` | `version` (1), `tool` (`"ehlo"`), `tool_version`, `mode` (`"check"`) |
//! | `check` | `domain`, `index`, `id` (e.g. `tls.starttls`), `status`, `counts` (bool: part of the verdict), `counted` (the same bool: `counts` is an object on `domain` and `summary` lines; `counts` kept for compatibility), `waived` (bool), `note` (why it does not count), `mx`, `ip` (host-scope checks and per-host `mx.target`), `rfc`, `ms` (time the step took), `summary` (one line), `evidence` (object, see below) |
//! | `expect` | `domain`, `index`, `expect` (as written), `met` (bool: false when unmet or not decided), `verdict` (`met`, `unmet`, `not_decided`), `reason` (why it is not decided, else `null`), `found` (text) |
//! | `domain` | `domain`, `index`, `status` (the verdict), `counts` (`{pass, info, skip, warn, error, fail}`), `error` (why the domain could not be checked at all: malformed line, deadline, Ctrl-C), `ms`, `run` (how far it got: `finished`; in a run cut short `cut`, under way when the stop came, or `not_started`) |
//! | `summary` | `exit_code` (0, 40, 41; 1 when the command line was refused, 10 when the run could not start), `outcome` (the exit code's label, as the send's summary has it: `ok` 0, `check_failed` 40, `untested` 41, `deadline` and `interrupted` 41 for a run `--deadline` or a signal cut short, `usage` 1, `prerequisite` 10), `domains` (number), `verdicts` (domains per status, same shape as `counts`), `counts` (all checks), `stopped` (`null`, or why the run stopped early or could not start), `reached` (`{finished, cut, not_started}`: domains per `run`; `null` when the run could not start), `given_up` (`ehlo probe`: `{evidence, by}` when the probes after some point were not run because of what earlier ones showed — `evidence` the member that says it, `connect_failed`, `no_greeting` or `no_reply_after_ehlo`, `by` the probes that showed it, `host` the host given up on — with `@domain` the first MX host given up on, the others still probed — and `hosts`, every host given up on in the order given up on, each `{evidence, by, host}`; `null` otherwise, and always in `ehlo check`) |
//! | `error` | `message`: what kept the run from starting (the resolver could not be set up) or its report from being written (`--junit`); also on stderr as `*** message` |
//! | `note` | (`ehlo probe`) `message`: which tokens to look for in the mailbox; before the probes' lines |
//! | `warning` | `message`: what was said on stderr (`*** message`) about the command line before the run began, right after `schema`: an `EHLO_*` variable left unread (`EHLO_TMEOUT is ignored: it names no option of any mode (did you mean EHLO_TIMEOUT?)`), an `SSL_CERT_FILE` that names no file |
//!
//! `status` is one of `pass`, `info`, `skip`, `warn`, `error` (could not be tested: DNS failure,
//! timeout, a 421 greeting — retryable) and `fail`. A run cut short (`--deadline`, a signal)
//! reports a domain still under way with the results it had, and each check that had not
//! finished as `error` with the summary `not finished: WHY` and the evidence `unfinished: true`
//! (an `expect` line about such a check is `not_decided`, its `reason` saying which check did
//! not finish and why; every `--expect` has its line for every domain, one never started too).
//! Which domains a cut run reached is timing: each `domain` line's `run` and the summary's
//! `reached` say it, and such a run exits 41 whatever the domains it reached found.
//!
//! Evidence members per check (all optional): `mx.lookup`: `records` (`"10 mx.example.com"`),
//! `count`, `ttl`, `implicit`, `records_left_out` (how many records past those shown),
//! `repeated` (hosts named by several MX records, checked once), `rcode` (`NXDOMAIN`), and
//! with `--host HOST` given with domains (HOST checked in place of the MX records, not looked
//! up) `host` (HOST) and `mx_records` (`"not used"`); `mx.null`: `records`, `host`; `mx.target`: `addresses`, `cname`, `preference`, `left_out` (MX hosts
//! or addresses past the cap, not checked), `address_source` (`"--connect-to"`: the addresses
//! were given by `--connect-to`, HOST's A/AAAA records not looked up); `ipv6.mx`: `addresses`; `mtasts.txt`: `records`,
//! `id`; `tlsrpt.record`: `records`, `rua`; `mtasts.fetch`: `url`, `ip`, `http_status`,
//! `content_type`, `tls`, `cert_verified`, `bytes`, `location`, `unreachable` (`"IP: why"` for
//! each address of the policy host not reached before the one that answered), `received` (bytes
//! of the response read before a fetch timed out);
//! `mtasts.policy`: `version`, `mode`, `max_age`, `mx`,
//! `findings` (`line`, `status`, `message`; line 0 = the whole file); `mtasts.mx-match`: `mode`,
//! `patterns`, `unmatched`, `host` (`--host` with domains); `spf.record`: `records`, `lookups` (the whole evaluation, includes
//! followed), `top_level_lookups`, `followed` (`domain`, `record`, `lookups` per included
//! record), and for a policy reached through `redirect=`: `all` (its `all` with the qualifier,
//! `-all`, or null), `all_from` (the domain whose record holds it), `redirects` (the chain of
//! domains), and `open_through` (the chain to a `+all`);
//! `dmarc.record`: `records`, `p` (the policy in force), and when a parent's record applies
//! `org_domain`, `inherited` (true), `sp`;
//! `smtp.connect`: `port`, `error`, `no_local_route` (true: this host has no route to the
//! address's family, so it could not be tested), `address_source` (`"--connect-to"`: the
//! address came from that flag, not from DNS); `smtp.banner`: `code`, `text` (lines), `lines` (the same: a reply's `lines`; `text` kept for compatibility);
//! `smtp.ehlo`: `code`, `extensions` (lines), `requiretls`; `smtp.banner`, `smtp.ehlo` and
//! `tls.handshake`: `truncated_at_close` (true: the reply was cut off by the close); each
//! `smtp.*` result of an address whose session ended before EHLO, for each of the domain's MX
//! names on it but the first by preference then name: `probed_as` (that first name); `smtp.banner-name`: `banner_name`, `ehlo_name`, `ptr`;
//! `tls.handshake`: `protocol` (`TLSv1.3`), `version` (1.3), `cipher`, `bits`, `sni`;
//! `tls.cert.chain`: `chain` (`subject`, `issuer`, `not_after` per certificate), `verified`,
//! `reason`; `tls.cert.name`: `name`, `sans`, `subject`, `cn_only` (the name matched only the
//! subject CN, with no DNS subjectAltName: a warning, RFC 9525 §2); `tls.cert.expiry`: `days`
//! (null for a certificate not valid yet, with its `not_before`), `days_left` (the same: a
//! certificate's `days_left` in the send's JSON; `days` kept for compatibility), `not_after`; `tls.cert.key`: `algorithm`,
//! `bits`, `signature`; `rdns.fcrdns`: `ptr`; `dnssec.domain`,
//! `dnssec.mx`: `proof`, `error`, and on `dnssec.domain` with `--host HOST` given with domains
//! `host` (the domain's MX RRset as published is what was judged, not HOST), on `dnssec.mx`
//! with `--connect-to` `address_source` and `addresses` (a skip: not looked up), and `rcode`
//! (`NXDOMAIN`) on the skip of a host that does not exist; `dane.tlsa`: `owner`, `base`, `records`, `proof`, `error`;
//! `dane.usable`: `usable`, `ignored`; `dane.rollover`: `dane_ee`, `dane_ta`,
//! `current_key_only` (when a chain was seen); `dane.match`: `owner`, `matched`, `matched_depth`, `names`, `ignored`, `chain` (per depth:
//! `"depth 0 spki sha256 HEX [matched] <- 3 1 1 ab12…"`); `smtp.postmaster` and
//! `smtp.open-relay` (opt-in): `rcpt`, `mail_reply`, `rcpt_reply`, `tls` (version or null);
//! `tls.versions` (opt-in): `accepted`, `refused`, `untested` (versions as `"1.2"`), `reasons`
//! (version → why refused or not tested). Any host-scope check skipped because a session step
//! did not pass on that address: `skipped_because` (the step's id: `smtp.connect`,
//! `smtp.banner`, `smtp.ehlo`, `tls.starttls` or `tls.handshake`, the one that failed or could
//! not be tested); a skip for a reason of its own (no TLSA record, no PTR on loopback) has
//! none.
//!
//! The same things under other names in the send's JSON Lines (`render::json`), kept as they
//! are since consumers read them: `tls.handshake`'s `protocol` (`TLSv1.3`) is the send's TLS
//! `version` and the summary's `tls`, while its `version` is the number alone (`1.3`, as in
//! `tls.versions`); `tls.cert.expiry`'s `days` is a certificate's `days_left` (now written under both names, as
//! `smtp.banner`'s `text`, the reply's lines, is also `lines`, a reply's name for them, and a
//! `check` line's bool `counts` also `counted`); `ms` is milliseconds in both formats.
//!
//! ## `ehlo probe --json`
//!
//! The same format with `mode` `"probe"` in the schema line: one `probe` line per probe (the
//! members of a `check` line; `domain` is the target as given, `status` says `inconclusive`
//! where `check` says `error`), `note` lines (`message`: which tokens to look for in the
//! mailbox), `expect` lines (their `found` says `inconclusive` too), one `domain` line and the
//! `summary` (its `counts` and `verdicts` use `inconclusive` too). Probe evidence: `server` (the
//! host and the address the probe's connection reached, `mx.example.com [192.0.2.1:25]`: with
//! `@domain` each probe picks its MX host anew), `transcript` (every line sent, `C: …`, escaped,
//! AUTH secrets masked, every reply, `S: …`, and `-- connected to HOST [ADDRESS]` for each
//! connection), `advice` (what a fail means, the Postfix and
//! Exim settings), `token` (`smuggle.*`), `bdat` (`smuggle.*` whose smuggled DATA was refused as
//! sent ahead: `accepted` when the follow-up connection's smuggled `BDAT` was, `refused`, or
//! `not offered` without CHUNKING), `injected_replies` (`starttls.injection*`),
//! `starttls`, `auth_before_tls`, `mail_without_tls` (`starttls.downgrade`), `control_accepted`
//! (`relay.open` after a refused outside recipient: whether the control recipient, `--to`, was
//! accepted; only then does the refusal pass), `control` (`limits.*` after a close on the
//! probe's line: the run's one control connection, `by` the probe that ran it, `answered`
//! whether its `NOOP` got a reply that is no 4xx, `noop` that reply, `why` how it ended early;
//! only an answered control lets the close pass; after more replies than commands, `unasked`:
//! the replies the control got that it did not ask for, which leave the split unshown), `connect_failed`
//! (true: no connection could be made, so the probes after it were not run), `no_greeting`
//! (true: the server sent no greeting within `--timeout`, so the probes after it were not run,
//! except with `@domain`, where the next probe may reach another MX), `no_reply_before_probe`
//! (true: the server greeted, then sent no reply to `EHLO`, `STARTTLS` or `AUTH` before the
//! probe's own commands within `--timeout`; the probes after it were not run, as after
//! `no_greeting`), `no_reply_after_ehlo`
//! (true: the first command after EHLO on the probe's own connection got no reply, not even
//! part of one, within `--timeout` (the early talker's: its QUIT); after two probes in a row
//! so on one host, with no probe answered there between them, the probes after them were not
//! run; with `@domain` only on that MX host, the next probes passing over it to the next
//! MX), `given_up` (on a probe not run for that reason: the summary's `given_up`), `auth_failed`
//! (true: the `--auth-user` credentials were refused with a 5xx, so the probes after it that
//! authenticate were not run).
//!
//! ## Example
//!
//! ```text
//! {"type":"schema","version":1,"tool":"ehlo","tool_version":"0.1.0","mode":"check"}
//! {"type":"check","domain":"example.com","index":0,"id":"mx.lookup","status":"pass","counts":true,"counted":true,"waived":false,"note":null,"mx":null,"ip":null,"rfc":"RFC 5321 §5.1","ms":3.1,"summary":"10 mx.example.com","evidence":{"count":1,"records":["10 mx.example.com"],"ttl":300}}
//! {"type":"domain","domain":"example.com","index":0,"status":"pass","counts":{"pass":17,"info":3,"skip":0,"warn":0,"error":0,"fail":0},"error":null,"ms":48.2}
//! {"type":"summary","exit_code":0,"outcome":"ok","domains":1,"verdicts":{"pass":1,"info":0,"skip":0,"warn":0,"error":0,"fail":0},"counts":{"pass":17,"info":3,"skip":0,"warn":0,"error":0,"fail":0},"stopped":null}
//! ```

use std::io::Write;

use serde_json::json;

use crate::check::CheckConfig;
use crate::check::model::{Counts, DomainReport, FailOn, Judged, Status, Tally};
use crate::render::ColorChoice;
use crate::render::glyphs;
use crate::render::human::escape_str;
use crate::render::style::{self, Role};
use crate::render::watch::Watch;

/// Evidence members the JSON Lines also write under the name the send's JSON Lines give the
/// same thing (check id, name, second name): a certificate's `days_left`, a reply's `lines`.
/// Schema 1 only adds members, so the first name stays for the consumers that read it.
const EVIDENCE_TWINS: [(&str, &str, &str); 2] = [
    ("tls.cert.expiry", "days", "days_left"),
    ("smtp.banner", "text", "lines"),
];

/// A result's evidence as its JSON line carries it: its members, and the [`EVIDENCE_TWINS`]
/// of its check beside them, equal.
fn evidence_json(c: &crate::check::model::CheckResult) -> serde_json::Value {
    let mut evidence = c.evidence.clone();
    for (id, name, twin) in EVIDENCE_TWINS {
        if c.id == id
            && let Some(v) = c.evidence.get(name)
        {
            evidence.insert(twin.into(), v.clone());
        }
    }
    serde_json::Value::Object(evidence)
}

/// Version of the check JSON format.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// Writes the check report to stdout (human or JSON Lines); `ehlo probe` uses it too (mode
/// `probe`, where `error` is named `inconclusive`).
pub(crate) struct CheckRenderer {
    /// `check` or `probe`.
    mode: &'static str,
    json: bool,
    color: bool,
    fail_on: FailOn,
    out: Box<dyn Write + Send>,
    /// Human output: the text of the reports waiting for an earlier domain to finish (input
    /// order). Their text, not the reports: a report keeps every evidence in full (TXT records,
    /// transcripts, about 14 KB a domain) where its lines cut them, and one slow domain at the
    /// head of a long list holds back every report after it.
    pending: Vec<Option<String>>,
    /// While a report is rendered for later ([`Self::domain`]): where its lines go.
    capture: Option<String>,
    next: usize,
    /// The `schema` line has been written (JSON).
    started: bool,
    /// Show a progress bar on stderr (human report, stderr a terminal that is not dumb, not
    /// under CI).
    want_progress: bool,
    progress: Option<indicatif::ProgressBar>,
    /// Human report on a terminal: its width in columns, which ehlo's own lines are wrapped
    /// to ([`Self::fitted`]); `None` (a pipe, a file, JSON) keeps one line per result.
    width: Option<usize>,
    /// Between [`Self::begin_batch`] and [`Self::end_batch`]: the reports' text gathered to be
    /// written [`BATCH`] bytes at a time instead of written and flushed one by one.
    batch: Option<Vec<u8>>,
    /// How far the domain being rendered got ([`Self::domain_as`]).
    reach: Reach,
    /// The text of a domain never started, for [`Self::not_started`] (made on its first use).
    not_started: Option<Template>,
    /// How far the run's domains got, for the summary ([`Self::split`]).
    split: Option<Split>,
    /// The human report's verdict column, in characters: the widest glyph and word among the
    /// rows of the domain being written ([`Self::human_domain`]), so the ids after a
    /// `? inconclusive` line up with those after `✓ pass `.
    verdict_width: usize,
    /// `ehlo probe`: why the probes after some point were not run, for the JSON summary's
    /// `given_up` ([`Self::given_up`]).
    given_up: Option<serde_json::Value>,
}

/// Bytes of report text gathered before a write, in a batch ([`CheckRenderer::begin_batch`]).
const BATCH: usize = 64 * 1024;

/// How far a domain got in a run that a stop (`--deadline`, a signal) cut: which domains were
/// reached depends on timing, so every report says it of each domain (the JSON `domain` line's
/// `run`, the human report's row) and of the whole run (the summary's `reached`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Reach {
    /// Checked to the end (every domain of a run not cut).
    #[default]
    Finished,
    /// Under way when the stop came: what it had decided, the rest `not finished`.
    Cut,
    /// Never started: no check ran.
    NotStarted,
}

impl Reach {
    /// Its name in JSON (`run`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Reach::Finished => "finished",
            Reach::Cut => "cut",
            Reach::NotStarted => "not_started",
        }
    }
}

/// How many domains of a run got how far ([`Reach`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Split {
    /// Checked to the end.
    pub(crate) finished: usize,
    /// Under way when the run was stopped.
    pub(crate) cut: usize,
    /// Never started.
    pub(crate) not_started: usize,
}

/// A domain's text made once for a stand-in name and index ([`Template::DOMAIN`],
/// [`Template::INDEX`]) and filled in for each domain: how the domains a stop came before are
/// written (a million of them, each through the whole report path, ran 2-6 s past
/// `--deadline`). Only for a name every format writes as it is ([`Template::fits`]); another
/// goes the whole way.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Domain,
    Index,
}

impl Template {
    /// The stand-in name: no digit (the index is found by its digits), nothing to escape.
    pub(crate) const DOMAIN: &'static str = "ehlo-stand-in-domain.invalid";
    /// The stand-in index (fits a 32-bit `usize`).
    pub(crate) const INDEX: usize = 3_987_654_321;

    /// The template of `text`, made for [`Self::DOMAIN`] and [`Self::INDEX`].
    pub(crate) fn of(text: &str) -> Template {
        let index = Self::INDEX.to_string();
        let mut parts = Vec::new();
        let mut rest = text;
        loop {
            let d = rest
                .find(Self::DOMAIN)
                .map(|at| (at, Self::DOMAIN.len(), Part::Domain));
            let i = rest
                .find(index.as_str())
                .map(|at| (at, index.len(), Part::Index));
            let next = match (d, i) {
                (Some(d), Some(i)) => Some(if d.0 <= i.0 { d } else { i }),
                (d, i) => d.or(i),
            };
            let Some((at, len, part)) = next else {
                if !rest.is_empty() {
                    parts.push(Part::Text(rest.to_string()));
                }
                break;
            };
            if at > 0 {
                parts.push(Part::Text(rest[..at].to_string()));
            }
            parts.push(part);
            rest = &rest[at + len..];
        }
        Template { parts }
    }

    /// Does every format write `domain` as it is (letters, digits, `-`, `_`, `.`)? Then the
    /// template, filled with it, is the text the whole report path gives.
    pub(crate) fn fits(domain: &str) -> bool {
        !domain.is_empty()
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    }

    /// The text for `domain` at `index`, added to `out`.
    pub(crate) fn fill(&self, out: &mut Vec<u8>, domain: &str, index: usize) {
        for p in &self.parts {
            match p {
                Part::Text(t) => out.extend_from_slice(t.as_bytes()),
                Part::Domain => out.extend_from_slice(domain.as_bytes()),
                Part::Index => {
                    use std::io::Write as _;
                    let _ = write!(out, "{index}");
                }
            }
        }
    }
}

impl CheckRenderer {
    /// A renderer for this run's settings, writing to stdout (watched by `watch`: a report lost
    /// to a full disk is said after the run, the verdict's exit code standing).
    pub(crate) fn new(cfg: &CheckConfig, watch: &Watch) -> CheckRenderer {
        style::configure(cfg.color, cfg.json);
        let mut r = CheckRenderer::with_writer(cfg, watch.stdout("report"));
        // Only for a person watching: never in JSON Lines, never into a file or a CI log, nor
        // on a terminal that cannot clear a row (`TERM=dumb`: the bar's `ESC[2K` and `ESC[K`
        // would show there as text, one copy of the bar per redraw).
        r.want_progress = !cfg.json
            && std::io::IsTerminal::is_terminal(&std::io::stderr())
            && std::env::var_os("CI").is_none()
            && !style::dumb_terminal();
        r.width = stdout_width(cfg.json);
        r
    }

    /// `ehlo probe`'s renderer, writing to stdout (watched by `watch`, as [`new`](Self::new)):
    /// its colour decision (`--color`, `--json`) made here as for every other mode.
    pub(crate) fn for_probe(
        color: ColorChoice,
        json: bool,
        fail_on: FailOn,
        watch: &Watch,
    ) -> CheckRenderer {
        style::configure(color, json);
        let mut r = CheckRenderer::for_mode("probe", json, fail_on, watch.stdout("report"));
        r.width = stdout_width(json);
        r
    }

    /// The same with another writer (tests).
    pub(crate) fn with_writer(cfg: &CheckConfig, out: Box<dyn Write + Send>) -> CheckRenderer {
        CheckRenderer::for_mode("check", cfg.json, cfg.fail_on, out)
    }

    /// A renderer for `mode` (`check` or `probe`) writing to `out`; colour as configured with
    /// `style::configure`.
    pub(crate) fn for_mode(
        mode: &'static str,
        json: bool,
        fail_on: FailOn,
        out: Box<dyn Write + Send>,
    ) -> CheckRenderer {
        CheckRenderer {
            mode,
            json,
            color: !json && style::stdout_color(),
            fail_on,
            out,
            pending: Vec::new(),
            capture: None,
            next: 0,
            started: false,
            want_progress: false,
            progress: None,
            width: None,
            batch: None,
            reach: Reach::Finished,
            not_started: None,
            split: None,
            given_up: None,
            verdict_width: 0,
        }
    }

    /// From now until [`Self::end_batch`], the reports ready are written a [`BATCH`] at a time,
    /// not each written and flushed: for the domains a stop (`--deadline`, a signal) came
    /// before, reported all at once when the run is over. A write and a flush each (stdout
    /// writes each line anyway) cost a million domains 1.4 s of system time past the deadline.
    pub(crate) fn begin_batch(&mut self) {
        self.batch = Some(Vec::with_capacity(BATCH));
        // The run is over: what is left is writing, which the bar would only slow down.
        if let Some(pb) = self.progress.take() {
            pb.finish_and_clear();
        }
    }

    /// A domain that got only as far as `reach` (a run cut short): its report says so.
    pub(crate) fn domain_as(&mut self, r: &DomainReport, reach: Reach) {
        self.reach = reach;
        self.domain(r);
        self.reach = Reach::Finished;
    }

    /// A domain a stop came before it was started, the `index`th of the list: the text of
    /// `make(index, domain)` (its report), written from a [`Template`] when the name allows it,
    /// the report made only when it does not (a million of them were each made and rendered
    /// the whole way, and the run ended seconds past its `--deadline`).
    pub(crate) fn not_started(
        &mut self,
        index: usize,
        domain: &str,
        make: &dyn Fn(usize, &str) -> DomainReport,
    ) {
        let fast = self.width.is_none()
            && self.next == index
            && self.pending.get(index).is_some_and(Option::is_none)
            && Template::fits(domain);
        if !fast {
            self.domain_as(&make(index, domain), Reach::NotStarted);
            return;
        }
        if self.not_started.is_none() {
            self.reach = Reach::NotStarted;
            let text = self.domain_text(&make(Template::INDEX, Template::DOMAIN));
            self.reach = Reach::Finished;
            self.not_started = Some(Template::of(&self.own(&text)));
        }
        let Some(t) = &self.not_started else { return };
        match &mut self.batch {
            Some(b) => {
                t.fill(b, domain, index);
                if b.len() >= BATCH {
                    let _ = self.out.write_all(b);
                    b.clear();
                }
            }
            None => {
                let mut b = Vec::new();
                t.fill(&mut b, domain, index);
                let _ = self.out.write_all(&b);
            }
        }
        self.next += 1;
        self.flush_in_order();
    }

    /// How far the run's domains got: said in the summary.
    pub(crate) fn split(&mut self, split: Split) {
        self.split = Some(split);
    }

    /// `ehlo probe`: the evidence that made the run give up on the server (`{evidence, by}`),
    /// or `None`: said in the JSON summary as `given_up`.
    pub(crate) fn given_up(&mut self, why: Option<serde_json::Value>) {
        self.given_up = why;
    }

    /// Write what the batch gathered and flush (with the progress bar stepped aside, as for
    /// every report).
    pub(crate) fn end_batch(&mut self) {
        let b = self.batch.take().unwrap_or_default();
        let mut write = || {
            let _ = self.out.write_all(&b);
            let _ = self.out.flush();
        };
        match self.progress.clone() {
            Some(pb) => pb.suspend(write),
            None => write(),
        }
    }

    /// A status's name in this mode: `ehlo probe` says `inconclusive` for `error`.
    fn status_name(&self, s: Status) -> &'static str {
        match (self.mode, s) {
            ("probe", Status::Error) => "inconclusive",
            _ => s.name(),
        }
    }

    /// A tally as JSON, with this mode's status names.
    fn counts_json(&self, c: &Counts) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (s, n) in [
            (Status::Pass, c.pass),
            (Status::Info, c.info),
            (Status::Skip, c.skip),
            (Status::Warn, c.warn),
            (Status::Error, c.error),
            (Status::Fail, c.fail),
        ] {
            m.insert(self.status_name(s).to_string(), n.into());
        }
        serde_json::Value::Object(m)
    }

    /// A line of information between results (`ehlo probe`: which tokens to look for).
    pub(crate) fn note(&mut self, message: &str) {
        if self.json {
            self.line(&json!({"type": "note", "message": message}).to_string());
        } else {
            let l = Role::Info.paint(&escape_str(message), self.color);
            self.line(&l);
        }
        self.flush();
    }

    /// A warning said on stderr before the run began (an `EHLO_*` variable left unread, an
    /// `SSL_CERT_FILE` naming no file): under `--json` a `warning` line too, right after the
    /// `schema` line; the human report leaves it to that stderr line.
    pub(crate) fn warned_before(&mut self, message: &str) {
        if self.json {
            self.schema();
            self.line(&json!({"type": "warning", "message": message}).to_string());
            self.flush();
        }
    }

    // A write error is not the report's to say: a closed stdout (`| head`) is no error, and
    // the stream's `Watch` keeps a full disk's or an I/O error for the run to say at its end.
    fn line(&mut self, s: &str) {
        let safe;
        let s = if self.json {
            safe = super::json::terminal_safe(s.to_string());
            safe.as_str()
        } else {
            s
        };
        if let Some(text) = &mut self.capture {
            text.push_str(s);
            text.push('\n');
            return;
        }
        let _ = writeln!(self.out, "{}", self.own(s));
    }

    /// Text of the report as this run's terminal can show it: JSON Lines as they are (UTF-8
    /// always), the human report with ehlo's glyphs in ASCII when the locale is not UTF-8
    /// ([`glyphs::plain`]).
    fn own<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        if self.json {
            std::borrow::Cow::Borrowed(text)
        } else {
            glyphs::plain(text)
        }
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
    }

    /// Before any domain: the schema line (JSON).
    pub(crate) fn start(&mut self, domains: usize) {
        self.pending = vec![None; domains];
        if self.want_progress {
            // The whole row is one key, fitted to the terminal's width on every draw (a resize
            // included): see [`bar_row`].
            let style = indicatif::ProgressStyle::with_template("{row}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .with_key(
                    "row",
                    |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = w.write_str(&bar_row(
                            s.pos(),
                            s.len().unwrap_or(0),
                            s.elapsed(),
                            BarTerm::columns(),
                        ));
                    },
                );
            let pb = indicatif::ProgressBar::with_draw_target(
                Some(domains as u64),
                indicatif::ProgressDrawTarget::term_like_with_hz(Box::new(BarTerm), 20),
            )
            .with_style(style);
            pb.enable_steady_tick(std::time::Duration::from_millis(100));
            self.progress = Some(pb);
        }
        self.schema();
    }

    /// The `schema` line, once (JSON).
    fn schema(&mut self) {
        if self.json && !self.started {
            self.started = true;
            let v = json!({"type": "schema", "version": SCHEMA_VERSION, "tool": "ehlo",
                "tool_version": env!("CARGO_PKG_VERSION"), "mode": self.mode});
            self.line(&v.to_string());
            self.flush();
        }
    }

    /// What went wrong outside any domain's results (the `--junit` report could not be
    /// written): one line on stderr, and under `--json` an `error` line too (after the
    /// `schema` line, which comes first whatever happens).
    pub(crate) fn fatal(&mut self, message: &str) {
        if self.json {
            self.schema();
            self.line(&json!({"type": "error", "message": message}).to_string());
            self.flush();
        }
        let say = || {
            glyphs::say_error(&escape_str(message));
        };
        match &self.progress {
            Some(pb) => pb.suspend(say),
            None => say(),
        }
    }

    /// The run could not start (the resolver cannot ask anything): [`fatal`](Self::fatal)'s
    /// line, and under `--json` the `summary` with `exit_code`, no domain checked and
    /// `stopped` the reason, so the stream ends as every run's does. No report otherwise.
    pub(crate) fn refused(&mut self, message: &str, exit_code: u8) {
        self.fatal(message);
        if self.json {
            self.finish_tally(&Tally::default(), exit_code, Some(message));
        }
    }

    /// One domain is done.
    pub(crate) fn domain(&mut self, r: &DomainReport) {
        if self.json && r.index >= self.pending.len() {
            // Not one of a run's domains ([`Self::start`] not called: `ehlo probe`'s one).
            self.json_domain(r);
            self.flush();
            return;
        }
        if r.index < self.pending.len() {
            let text = self.domain_text(r);
            self.pending[r.index] = Some(text);
        }
        match self.progress.clone() {
            // The bar steps aside while the report lines go out.
            Some(pb) => {
                pb.inc(1);
                pb.suspend(|| self.flush_in_order());
            }
            None => self.flush_in_order(),
        }
    }

    /// Print the reports that are next in input order.
    fn flush_in_order(&mut self) {
        while let Some(Some(text)) = self.pending.get_mut(self.next).map(Option::take) {
            let text = self.own(&text).into_owned();
            match &mut self.batch {
                Some(b) => {
                    b.extend_from_slice(text.as_bytes());
                    if b.len() >= BATCH {
                        let _ = self.out.write_all(b);
                        b.clear();
                    }
                }
                None => {
                    let _ = self.out.write_all(text.as_bytes());
                }
            }
            self.next += 1;
        }
        if self.batch.is_none() {
            self.flush();
        }
    }

    /// The report of one domain as text (human, or its JSON Lines), to be written when its
    /// turn comes: both formats go out in input order, so two runs of one list give the same
    /// lines whichever domain finished first.
    fn domain_text(&mut self, r: &DomainReport) -> String {
        self.capture = Some(String::new());
        if self.json {
            self.json_domain(r);
        } else {
            self.human_domain(r);
        }
        self.capture.take().unwrap_or_default()
    }

    fn json_domain(&mut self, r: &DomainReport) {
        for j in &r.checks {
            let c = &j.result;
            let v = json!({
                "type": self.mode, "domain": r.domain, "index": r.index, "id": c.id,
                "status": self.status_name(c.status), "counts": j.counts, "counted": j.counts,
                "waived": j.waived, "note": j.note,
                "mx": c.mx, "ip": c.ip, "rfc": c.rfc(), "ms": c.ms, "summary": c.summary,
                "evidence": evidence_json(c),
            });
            self.line(&v.to_string());
        }
        for e in &r.expects {
            let verdict = match (e.met, &e.undecided) {
                (true, _) => "met",
                (false, None) => "unmet",
                (false, Some(_)) => "not_decided",
            };
            let v = json!({"type": "expect", "domain": r.domain, "index": r.index,
                "expect": e.expect, "met": e.met, "verdict": verdict, "reason": e.undecided,
                "found": e.found});
            self.line(&v.to_string());
        }
        let v = json!({
            "type": "domain", "domain": r.domain, "index": r.index,
            "status": self.status_name(r.verdict(self.fail_on)), "counts": self.counts_json(&r.counts()), "error": r.aborted,
            "ms": (r.ms * 10.0).round() / 10.0, "run": self.reach.name(),
        });
        self.line(&v.to_string());
    }

    /// A status's glyph and word, and the style it is painted in.
    fn glyph_parts(&self, s: Status) -> (&'static str, Role) {
        match s {
            Status::Pass => ("✓ pass ", Role::ReceivedOk),
            Status::Info => ("· info ", Role::Info),
            Status::Skip => ("- skip ", Role::Dim),
            Status::Warn => ("! warn ", Role::Warning),
            Status::Error if self.mode == "probe" => ("? inconclusive", Role::Hint),
            Status::Error => ("? error", Role::Hint),
            Status::Fail => ("✗ fail ", Role::Error),
        }
    }

    /// `text` (plain: escaped, not painted) as the lines it takes: itself off a terminal (a
    /// pipe or a file keeps one line per result, for grep), else cut at spaces into lines of
    /// at most the terminal's width, each after the first starting with `more` (a word wider
    /// than that keeps a line of its own, uncut: nothing is hidden).
    fn fitted(&self, text: &str, more: &str) -> Vec<String> {
        match self.width {
            Some(w) => super::human::wrap(text, w, more),
            None => vec![text.to_string()],
        }
    }

    /// A row that opens with status `s`'s glyph and word, then `rest`, then `note` in dim (a
    /// result's "not counted"). On a terminal too narrow for it, the row goes on under the
    /// word ([`ROW_MORE`]), and the note on lines of its own there: a row the terminal wrapped
    /// itself started again at column 0, through the next result's column.
    fn status_row(&mut self, s: Status, rest: &str, note: Option<&str>) {
        let (g, role) = self.glyph_parts(s);
        // Padded to the verdict column: every id of the domain starts in the same column.
        let pad = " ".repeat(self.verdict_width.saturating_sub(g.chars().count()));
        let lead = format!("  {g}{pad}");
        let text = format!("{lead} {rest}");
        let whole = match note {
            Some(n) => format!("{text} {n}"),
            None => text.clone(),
        };
        let one_line = self.fitted(&whole, ROW_MORE).len() == 1;
        let pieces = if one_line {
            vec![text]
        } else {
            self.fitted(&text, ROW_MORE)
        };
        for (i, p) in pieces.iter().enumerate() {
            let mut l = match p.strip_prefix(&lead) {
                Some(tail) if i == 0 => format!("  {}{pad}{tail}", role.paint(g, self.color)),
                _ => p.clone(),
            };
            if one_line && let Some(n) = note {
                l.push_str(&Role::Dim.paint(&format!(" {n}"), self.color));
            }
            self.line(&l);
        }
        if !one_line && let Some(n) = note {
            self.dim_row_as(&format!("{ROW_MORE}{n}"), ROW_MORE);
        }
    }

    /// A dim row of ehlo's own words (a check's citation, a probe's RFC and advice), which
    /// starts at column 6; on a narrow terminal it goes on at column 8 ([`DIM_MORE`]).
    fn dim_row(&mut self, text: &str) {
        self.dim_row_as(text, DIM_MORE);
    }

    fn dim_row_as(&mut self, text: &str, more: &str) {
        for p in self.fitted(text, more) {
            let l = Role::Dim.paint(&p, self.color);
            self.line(&l);
        }
    }

    /// The human report of one domain. Summaries, evidence, names and transcripts come from
    /// the network (replies, DNS, certificates): every one goes through [`escape_str`], so a
    /// server cannot move the cursor, clear a line or reorder text on the reader's terminal.
    fn human_domain(&mut self, r: &DomainReport) {
        let verdict = r.verdict(self.fail_on);
        // The word is upper-cased before it is painted: upper-casing the painted text turned
        // the colour's SGR `ESC[32m` into `ESC[32M`, ECMA-48's DELETE LINE, so a colour
        // terminal erased the line with the domain's name (and as many below it).
        let (g, role) = self.glyph_parts(verdict);
        let word = g.trim_end().to_uppercase();
        // On a narrow terminal the name (a malformed line may have spaces) is cut at spaces as
        // a result row is, and the verdict goes on the row after it when it does not fit
        // beside it: never cut between its glyph and its word.
        let mut rows = self.fitted(&escape_str(&r.domain), HEAD_MORE);
        let last = rows.pop().unwrap_or_default();
        let painted = role.paint(&word, self.color);
        let beside = format!("{last}  {word}");
        if self.fitted(&beside, HEAD_MORE).len() == 1 {
            rows.push(format!("{last}  {painted}"));
        } else {
            rows.push(last);
            rows.push(format!("{HEAD_MORE}{painted}"));
        }
        for l in rows {
            self.line(&l);
        }
        // The verdict column as wide as the widest verdict of its rows (`? inconclusive`
        // is 14 characters, `✓ pass ` 7), the id column as the longest id (at least 17, as
        // `ehlo check`'s ids have always been padded): the summaries start in one column.
        let mut shown: Vec<Status> = r.checks.iter().map(|j| j.result.status).collect();
        shown.extend(r.expects.iter().map(expect_status));
        if r.aborted.is_some() {
            shown.push(Status::Error);
        }
        self.verdict_width = shown
            .iter()
            .map(|s| self.glyph_parts(*s).0.chars().count())
            .max()
            .unwrap_or(0);
        let id_width = r
            .checks
            .iter()
            .map(|j| j.result.id.chars().count())
            .max()
            .unwrap_or(0)
            .max(17);
        if let Some(why) = &r.aborted {
            let why = escape_str(why);
            let row = match self.reach {
                Reach::Finished => why,
                Reach::Cut => format!("cut short: {why}"),
                Reach::NotStarted => format!("not started: {why}"),
            };
            self.status_row(Status::Error, &row, None);
        }
        let mut i = 0;
        while i < r.checks.len() {
            // A run of results not run for one reason (the server could not be reached, its
            // name not even looked up; a refused password; the deadline) is one line and the
            // ids, not a line each saying the same thing (the JSON keeps one line per result).
            if let Some(why) = not_run(&r.checks[i]) {
                let n = r.checks[i..]
                    .iter()
                    .take_while(|k| not_run(k) == Some(why))
                    .count();
                if n > 1 {
                    let after = i
                        .checked_sub(1)
                        .map(|p| r.checks[p].result.summary.as_str());
                    self.not_run_group(&r.checks[i..i + n], why, after);
                    i += n;
                    continue;
                }
            }
            let j = &r.checks[i];
            i += 1;
            let c = &j.result;
            let place = match (&c.mx, &c.ip) {
                (Some(mx), Some(ip)) => format!(" {} [{}]", escape_str(mx), escape_str(ip)),
                _ => String::new(),
            };
            let note = match (&j.note, j.counts) {
                (Some(n), false) => Some(format!("(not counted: {})", escape_str(n))),
                (Some(n), true) => Some(format!("({})", escape_str(n))),
                (None, _) => None,
            };
            let rest = format!("{:<id_width$}{place}  {}", c.id, escape_str(&c.summary));
            self.status_row(c.status, &rest, note.as_deref());
            if self.mode == "probe"
                && matches!(c.status, Status::Fail | Status::Error | Status::Warn)
            {
                self.probe_evidence(c);
            } else if matches!(c.status, Status::Fail | Status::Error | Status::Warn) {
                self.dim_row(&citation_row(c));
            }
        }
        for e in &r.expects {
            let st = expect_status(e);
            let rest = match &e.undecided {
                Some(why) => format!(
                    "expect {}  not decided: {}",
                    escape_str(&e.expect),
                    escape_str(why)
                ),
                None => format!(
                    "expect {}  (found {})",
                    escape_str(&e.expect),
                    escape_str(&e.found)
                ),
            };
            self.status_row(st, &rest, None);
        }
        self.line("");
    }

    /// Several results in a row not run for the same reason `why`: one line with the reason
    /// (or "for the same reason" when it is the summary of the result just above, `after`:
    /// the connect failure that stopped the run) and the ids, wrapped at 80 columns (or the
    /// terminal's width, when narrower).
    fn not_run_group(&mut self, group: &[Judged], why: &str, after: Option<&str>) {
        let reason = if after == Some(why) {
            "for the same reason".to_string()
        } else {
            format!("({})", escape_str(why))
        };
        let rest = format!("{} {}s not run {reason}:", group.len(), self.mode);
        self.status_row(Status::Error, &rest, None);
        let ids: Vec<&str> = group.iter().map(|j| j.result.id).collect();
        let width = self.width.map_or(LIST_WIDTH, |w| w.min(LIST_WIDTH));
        for l in wrap_list(&ids, "      ", width) {
            let l = Role::Dim.paint(&l, self.color);
            self.line(&l);
        }
    }

    /// `ehlo probe`, human: the reference, what a failure means, then the exact bytes sent
    /// (`C:`) and the replies (`S:`), one per line.
    fn probe_evidence(&mut self, c: &crate::check::model::CheckResult) {
        self.dim_row(&format!("      {}", c.rfc()));
        if let Some(serde_json::Value::String(a)) = c.evidence.get("advice") {
            self.dim_row(&format!("      {}", escape_str(a)));
        }
        // The transcript is escaped where it is made (`probe::script::escape`); escaped again
        // here all the same, so this renderer never relies on its producer. Its lines are
        // what went over the wire: never wrapped, as the send's transcript is not.
        if let Some(serde_json::Value::Array(t)) = c.evidence.get("transcript") {
            for l in t.iter().filter_map(|v| v.as_str()) {
                let l = Role::Dim.paint(&format!("      {}", escape_str(l)), self.color);
                self.line(&l);
            }
        }
    }

    /// The end: the tally (human) or the summary line (JSON).
    pub(crate) fn finish(
        &mut self,
        reports: &[DomainReport],
        exit_code: u8,
        stopped: Option<&str>,
    ) {
        let tally = Tally::of(reports, self.fail_on);
        self.finish_tally(&tally, exit_code, stopped);
    }

    /// [`finish`](Self::finish) from the run's [`Tally`] (the reports need not be kept).
    pub(crate) fn finish_tally(&mut self, tally: &Tally, exit_code: u8, stopped: Option<&str>) {
        let (counts, verdicts) = (tally.counts, tally.verdicts);
        if let Some(pb) = self.progress.take() {
            pb.finish_and_clear();
        }
        // Anything still held back (a domain that never finished was reported as aborted).
        let rest: Vec<String> = self.pending.iter_mut().filter_map(Option::take).collect();
        for text in rest {
            let text = self.own(&text).into_owned();
            let _ = self.out.write_all(text.as_bytes());
        }
        if self.json {
            let reached = self.split.map(
                |s| json!({"finished": s.finished, "cut": s.cut, "not_started": s.not_started}),
            );
            let outcome =
                crate::error::check_outcome(exit_code, stopped.and_then(crate::check::cut_of));
            let v = json!({"type": "summary", "exit_code": exit_code, "outcome": outcome,
                "domains": tally.domains,
                "verdicts": self.counts_json(&verdicts), "counts": self.counts_json(&counts), "stopped": stopped,
                "reached": reached, "given_up": self.given_up});
            self.line(&v.to_string());
        } else {
            if let Some(s) = stopped {
                // Cut to a narrow terminal as a result row is, going on under the status word.
                let (g, role) = self.glyph_parts(Status::Error);
                let text = format!("{g} {}: the report is partial", escape_str(s));
                for (i, p) in self.fitted(&text, HEAD_MORE).into_iter().enumerate() {
                    let l = match p.strip_prefix(g) {
                        Some(tail) if i == 0 => format!("{}{tail}", role.paint(g, self.color)),
                        _ => p,
                    };
                    self.line(&l);
                }
                // Which domains were reached is timing: say how many, and that the exit code
                // does not depend on it.
                if let Some(sp) = self.split {
                    let l = format!(
                        "  {} checked to the end, {} cut short, {} not started; a run cut short exits {}",
                        plural(sp.finished, "domain"),
                        sp.cut,
                        sp.not_started,
                        crate::error::EXIT_CHECK_UNTESTED
                    );
                    for l in self.fitted(&l, HEAD_MORE) {
                        self.line(&l);
                    }
                }
            }
            if self.mode == "probe" {
                let l = format!(
                    "probes: {} pass, {} info, {} skip, {} warn, {} inconclusive, {} fail · exit {exit_code}",
                    counts.pass, counts.info, counts.skip, counts.warn, counts.error, counts.fail
                );
                for l in self.fitted(&l, "  ") {
                    self.line(&l);
                }
                self.flush();
                return;
            }
            let l = format!(
                "{} domain{}: {} pass, {} warn, {} fail, {} error · checks: {} pass, {} info, {} skip, {} warn, {} error, {} fail · exit {exit_code}",
                tally.domains,
                crate::smtp::event::plural_s(tally.domains),
                verdicts.pass + verdicts.info + verdicts.skip,
                verdicts.warn,
                verdicts.fail,
                verdicts.error,
                counts.pass,
                counts.info,
                counts.skip,
                counts.warn,
                counts.error,
                counts.fail
            );
            for l in self.fitted(&l, "  ") {
                self.line(&l);
            }
        }
        self.flush();
    }
}

/// Where a status row goes on when the terminal is too narrow for it: under the status word.
const ROW_MORE: &str = "    ";
/// Where a line that starts at column 0 (a domain's name and verdict, "the report is partial")
/// goes on when the terminal is too narrow for it: under its second column, as the tally does.
const HEAD_MORE: &str = "  ";
/// Where a dim row (column 6) goes on when the terminal is too narrow for it.
const DIM_MORE: &str = "        ";
/// The widest a list of ids is wrapped to, on a terminal as in a pipe.
const LIST_WIDTH: usize = 80;

/// The width of the terminal that stdout is, for the human report: `None` for JSON Lines, a
/// pipe or a file (whose lines are never cut), or a terminal that does not say.
fn stdout_width(json: bool) -> Option<usize> {
    if json || !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return None;
    }
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(w, _)| usize::from(w.0))
        .filter(|w| *w > 0)
}

/// Braille spinner frames (indicatif's default spinner).
const SPINNER: [char; 8] = ['⠁', '⠉', '⠙', '⠚', '⠒', '⠲', '⠴', '⠤'];

/// The bar's row for a terminal `cols` columns wide: `⠉ 3/120 domains checked [===>  ] 1m 05s`,
/// shorter forms as the width shrinks (a narrower bar, then no words, then no bar, then the count
/// alone), never more than `cols - 2` columns. A row that wraps is what left stale rows: indicatif
/// counts the rows a wrapped bar takes and moves up over them to redraw, a count a terminal that
/// reflows on resize no longer matches, and the `^C` a terminal echoes after a row that ends at
/// (or one column before) the right edge wraps to a row of its own that the final clear misses.
/// Two columns stay free for that echo.
fn bar_row(pos: u64, len: u64, elapsed: std::time::Duration, cols: usize) -> String {
    let room = cols.saturating_sub(2);
    let secs = elapsed.as_secs();
    let time = if secs < 60 {
        format!("{secs}s")
    } else {
        format!("{}m {:02}s", secs / 60, secs % 60)
    };
    let spin = SPINNER[(elapsed.as_millis() / 100) as usize % SPINNER.len()];
    let count = format!("{pos}/{len}");
    let bar = |w: usize| -> String {
        let done = if len == 0 {
            0
        } else {
            (pos.min(len) as usize * w) / len as usize
        };
        let mut b = "=".repeat(done);
        if done < w {
            b.push('>');
            b.push_str(&" ".repeat(w - done - 1));
        }
        if done == 0 && w > 0 {
            b = " ".repeat(w);
        }
        format!("[{b}]")
    };
    let words = format!("{spin} {count} domains checked ");
    let short = format!("{spin} {count} ");
    let tail = format!(" {time}");
    // Columns: every character here is one column wide (ASCII and Braille).
    let width = |s: &str| s.chars().count();
    for head in [&words, &short] {
        let fixed = width(head) + 2 + width(&tail);
        if room >= fixed + 10 {
            let w = (room - fixed).min(30);
            return format!("{head}{}{tail}", bar(w));
        }
    }
    for row in [format!("{spin} {count}{tail}"), count] {
        if width(&row) <= room {
            return row;
        }
    }
    String::new()
}

/// The progress bar's terminal (stderr). indicatif pads the bar's row with spaces to the right
/// edge, which parks the cursor there in the terminal's pending-wrap state (ECMA-48 autowrap,
/// xterm's DECAWM): the `^C` the terminal echoes for Ctrl-C then wraps to a new row, and the
/// final clear erases that row only, leaving the bar on the screen above the interrupted report.
/// Here trailing spaces are drawn as an erase to the end of the row (`CSI K`) instead: the same
/// cells are blank, but the cursor stays after the bar's text, so an echo lands on the bar's row
/// and the clear (or the next redraw) takes it away with the bar.
#[derive(Debug)]
struct BarTerm;

impl BarTerm {
    fn put(s: &str) -> std::io::Result<()> {
        std::io::stderr()
            .lock()
            .write_all(glyphs::plain(s).as_bytes())
    }

    /// The terminal's width now (asked on every draw, so a resize is followed).
    fn columns() -> usize {
        terminal_size::terminal_size_of(std::io::stderr()).map_or(80, |(w, _)| w.0.into())
    }
}

/// The width indicatif is told: wider than any terminal, so it never counts a wrapped row (the
/// row is fitted to the real width by [`bar_row`], and cut to it in `write_str` should the
/// terminal shrink between the two).
const TOLD_WIDTH: u16 = 1024;

impl indicatif::TermLike for BarTerm {
    fn width(&self) -> u16 {
        TOLD_WIDTH
    }
    fn height(&self) -> u16 {
        terminal_size::terminal_size_of(std::io::stderr()).map_or(24, |(_, h)| h.0)
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        match n {
            0 => Ok(()),
            n => Self::put(&format!("\x1b[{n}A")),
        }
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        match n {
            0 => Ok(()),
            n => Self::put(&format!("\x1b[{n}B")),
        }
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        match n {
            0 => Ok(()),
            n => Self::put(&format!("\x1b[{n}C")),
        }
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        match n {
            0 => Ok(()),
            n => Self::put(&format!("\x1b[{n}D")),
        }
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(s)?;
        Self::put("\n")
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        let text = s.trim_end_matches(' ');
        // Never more than the row holds (two columns kept for a `^C` echo), whatever was drawn.
        let room = Self::columns().saturating_sub(2);
        let text = match text.char_indices().nth(room) {
            Some((at, _)) => &text[..at],
            None => text,
        };
        if text.len() == s.len() {
            return Self::put(s);
        }
        Self::put(&format!("{text}\x1b[K"))
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Self::put("\r\x1b[2K")
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// The status an `--expect` row is shown with: met, unmet, or not decided.
fn expect_status(e: &crate::check::model::ExpectOutcome) -> Status {
    match (e.met, &e.undecided) {
        (true, _) => Status::Pass,
        (false, None) => Status::Fail,
        (false, Some(_)) => Status::Error,
    }
}

/// Why `j` was not run (its summary after `not run: `), for a result that says only that.
fn not_run(j: &Judged) -> Option<&str> {
    let c = &j.result;
    if c.status != Status::Error || j.note.is_some() || c.mx.is_some() || c.ip.is_some() {
        return None;
    }
    c.summary.strip_prefix("not run: ")
}

/// `items` joined with `, ` in lines of at most `width` columns that start with `indent` (an
/// item longer than a line has a line of its own).
fn wrap_list(items: &[&str], indent: &str, width: usize) -> Vec<String> {
    if items.is_empty() {
        return Vec::new();
    }
    super::human::wrap(&format!("{indent}{}", items.join(", ")), width, indent)
}

/// A failed, erroneous or warned result's second row: its RFC and, when it has any, its evidence
/// as `key: value` text for a person (the JSON Lines keep the evidence as it is): members
/// separated by `; `, a list's first [`EVIDENCE_ITEMS`] items then `… N more`, an object in a
/// member flattened to `key.sub: value`, one in a list summarised as `(key: value, …)`, `null`
/// and an empty list `none`, `true`/`false` `yes`/`no`. A text member the summary already says
/// (a lookup's `error`) is left out, and an empty object says nothing: `RFC 5321 §5.1` alone.
/// Every text is escaped (JSON escaped C0 controls but not DEL, C1 controls or bidi overrides).
fn citation_row(c: &crate::check::model::CheckResult) -> String {
    let mut pairs = Vec::new();
    for (k, v) in &c.evidence {
        if let serde_json::Value::String(t) = v
            && !t.is_empty()
            && c.summary.contains(t.as_str())
        {
            continue;
        }
        flatten_member(k, v, &mut pairs);
    }
    if pairs.is_empty() {
        return format!("      {}", c.rfc());
    }
    format!("      {} · {}", c.rfc(), escape_str(&pairs.join("; ")))
}

/// Items of an evidence list shown before `… N more`.
const EVIDENCE_ITEMS: usize = 4;
/// Characters of one evidence text shown before `…`.
const EVIDENCE_TEXT: usize = 100;

/// `key: value` for the member `key`, or one such pair per member of an object (`key.sub`).
fn flatten_member(key: &str, v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                flatten_member(&format!("{key}.{k}"), v, out);
            }
        }
        _ => out.push(format!("{key}: {}", evidence_value(v, 0))),
    }
}

/// One evidence value as short text; `depth` is how deep in lists and objects it is (past one
/// level a list or object is only counted).
fn evidence_value(v: &serde_json::Value, depth: usize) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "none".into(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => match s.char_indices().nth(EVIDENCE_TEXT) {
            Some((i, _)) => format!("{}…", &s[..i]),
            None => s.clone(),
        },
        Value::Array(a) if a.is_empty() => "none".into(),
        Value::Object(m) if m.is_empty() => "none".into(),
        Value::Array(a) if depth >= 2 => plural(a.len(), "item"),
        Value::Object(m) if depth >= 2 => plural(m.len(), "field"),
        Value::Array(a) => {
            let mut items: Vec<String> = a
                .iter()
                .take(EVIDENCE_ITEMS)
                .map(|v| evidence_value(v, depth + 1))
                .collect();
            if a.len() > EVIDENCE_ITEMS {
                items.push(format!("… {} more", a.len() - EVIDENCE_ITEMS));
            }
            items.join(", ")
        }
        Value::Object(m) => {
            let fields: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}: {}", evidence_value(v, depth + 1)))
                .collect();
            format!("({})", fields.join(", "))
        }
    }
}

fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", crate::smtp::event::plural_s(n))
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::check::model::{CheckResult, ExpectOutcome, Judged};

    use crate::render::test_sink::Shared;

    /// A result that counts, neither waived nor noted.
    fn counted(result: CheckResult) -> Judged {
        Judged {
            result,
            counts: true,
            waived: false,
            note: None,
        }
    }

    /// Domain `index` of a run with these results, no expectation, not cut short.
    fn report_of(index: usize, domain: &str, checks: Vec<Judged>) -> DomainReport {
        DomainReport {
            index,
            domain: domain.into(),
            checks,
            expects: Vec::new(),
            aborted: None,
            ms: 1.0,
        }
    }

    /// The bar's row fits every width with two columns to spare, keeps the count while it can,
    /// and shrinks its words and bar before the count.
    #[test]
    fn the_bar_row_fits_the_terminal() {
        let t = std::time::Duration::from_secs(65);
        for cols in 0..=200 {
            for (pos, len) in [(0, 2), (1, 2), (57, 120), (120, 120), (9999, 10000)] {
                let row = bar_row(pos, len, t, cols);
                assert!(
                    row.chars().count() <= cols.saturating_sub(2),
                    "{cols}: {row:?}"
                );
                let count = format!("{pos}/{len}");
                if cols >= count.len() + 2 {
                    assert!(row.contains(&count), "{cols}: {row:?}");
                }
            }
        }
        assert_eq!(
            bar_row(1, 2, t, 80),
            "⠙ 1/2 domains checked [===============>              ] 1m 05s"
        );
        assert_eq!(
            bar_row(1, 2, t, 50),
            "⠙ 1/2 domains checked [========>        ] 1m 05s"
        );
        assert_eq!(
            bar_row(1, 2, t, 40),
            "⠙ 1/2 [===========>           ] 1m 05s"
        );
        assert_eq!(bar_row(1, 2, t, 20), "⠙ 1/2 1m 05s");
        assert_eq!(bar_row(57, 120, t, 8), "57/120");
    }

    /// Every evidence member a check or probe can report is named in this module's
    /// documentation: the keys the results are built with (`.with("KEY", …)`,
    /// `evidence.insert("KEY", …)`) outside tests. A dozen (`rcode`, `left_out`,
    /// `truncated_at_close`, `connect_failed`…) were reported without being documented.
    #[test]
    fn every_evidence_member_is_documented() {
        let doc: String = include_str!("check.rs")
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        let sources = [
            include_str!("../check/dane.rs"),
            include_str!("../check/dnsauth.rs"),
            include_str!("../check/domain.rs"),
            include_str!("../check/mod.rs"),
            include_str!("../check/mtasts.rs"),
            include_str!("../check/optin.rs"),
            include_str!("../check/probe.rs"),
            include_str!("../check/records.rs"),
            include_str!("../check/answers.rs"),
            include_str!("../probe/mod.rs"),
            include_str!("../probe/script.rs"),
        ];
        let mut keys = std::collections::BTreeSet::new();
        for src in sources {
            let code = src.split("#[cfg(test)]").next().unwrap();
            for opener in [".with(", "evidence.insert("] {
                for (at, _) in code.match_indices(opener) {
                    let rest = code[at + opener.len()..].trim_start();
                    if let Some(quoted) = rest.strip_prefix('"')
                        && let Some(end) = quoted.find('"')
                    {
                        keys.insert(quoted[..end].to_string());
                    }
                }
            }
        }
        assert!(keys.len() > 60, "the scan found the keys: {keys:?}");
        let missing: Vec<&String> = keys
            .iter()
            .filter(|k| !doc.contains(&format!("`{k}`")) && !doc.contains(&format!("`{k}:")))
            .collect();
        assert!(
            missing.is_empty(),
            "undocumented evidence members: {missing:?}"
        );
    }

    /// Each line type's members are the ones its row of this module's table lists, in both
    /// directions, for `check` and `probe` (`probe` lines are `check` lines with another
    /// type): a consumer reads the table, so a member added, renamed or dropped in the
    /// renderer without the table (or the other way round) fails here. The `note` line of
    /// `ehlo probe` had no row.
    #[test]
    fn every_line_type_has_the_members_its_row_lists() {
        let rows = crate::render::doc_table::rows(include_str!("check.rs"));
        for mode in ["check", "probe"] {
            let buf = Shared::default();
            let mut r = CheckRenderer::for_mode(mode, true, FailOn::Fail, Box::new(buf.clone()));
            r.warned_before("EHLO_TMEOUT is ignored");
            r.start(1);
            r.note("look for ehlo-probe-*");
            let report = DomainReport {
                index: 0,
                domain: "example.test".into(),
                checks: vec![Judged {
                    result: CheckResult::new("mx.lookup", Status::Pass, "10 mx.example.test"),
                    counts: true,
                    waived: false,
                    note: None,
                }],
                expects: vec![ExpectOutcome {
                    expect: "mx.lookup=pass".into(),
                    met: true,
                    found: "pass".into(),
                    undecided: None,
                }],
                aborted: None,
                ms: 1.0,
            };
            r.domain(&report);
            r.fatal("the --junit report could not be written");
            r.finish(&[report], 0, None);
            let text = String::from_utf8(buf.bytes()).unwrap();
            let mut seen = std::collections::BTreeSet::new();
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let t = v["type"].as_str().unwrap();
                let row = if t == mode { "check" } else { t };
                let (_, listed) = rows
                    .iter()
                    .find(|(types, _)| types.iter().any(|x| x == row))
                    .unwrap_or_else(|| panic!("{mode}: no row for `{t}`"));
                let listed: std::collections::BTreeSet<&str> =
                    listed.iter().map(String::as_str).collect();
                let written: std::collections::BTreeSet<&str> = v
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .filter(|k| *k != "type")
                    .collect();
                assert_eq!(listed, written, "{mode}: `{t}`");
                seen.insert(row.to_string());
            }
            let all: std::collections::BTreeSet<String> = rows
                .iter()
                .flat_map(|(types, _)| types.iter().cloned())
                .collect();
            assert_eq!(seen, all, "{mode}: every row's type was written");
        }
    }

    /// What the send's JSON Lines name otherwise is written under their name too, equal: a
    /// `check` or `probe` line's bool `counts` as `counted` (an object on `domain` and
    /// `summary` lines), `tls.cert.expiry`'s `days` as `days_left`, `smtp.banner`'s `text`
    /// (its lines) as `lines`; the old names stay.
    #[test]
    fn a_member_with_two_names_carries_both_equal() {
        for mode in ["check", "probe"] {
            let buf = Shared::default();
            let mut r = CheckRenderer::for_mode(mode, true, FailOn::Fail, Box::new(buf.clone()));
            r.start(1);
            let judged = |result: CheckResult, counts: bool| Judged {
                result,
                counts,
                waived: !counts,
                note: None,
            };
            let report = DomainReport {
                index: 0,
                domain: "example.test".into(),
                checks: vec![
                    judged(
                        CheckResult::new("tls.cert.expiry", Status::Pass, "valid")
                            .with("days", 41)
                            .with("not_after", "2027-01-17T00:00:00Z"),
                        true,
                    ),
                    judged(
                        CheckResult::new("tls.cert.expiry", Status::Warn, "not valid yet")
                            .with("days", Option::<i64>::None),
                        false,
                    ),
                    judged(
                        CheckResult::new("smtp.banner", Status::Pass, "220 mx ESMTP")
                            .with("code", 220)
                            .with("text", vec!["mx ESMTP", "second line"]),
                        true,
                    ),
                    judged(
                        CheckResult::new("mx.lookup", Status::Pass, "10 mx")
                            .with("text", "not a banner"),
                        true,
                    ),
                ],
                expects: vec![],
                aborted: None,
                ms: 1.0,
            };
            r.domain(&report);
            r.finish(&[report], 0, None);
            let text = String::from_utf8(buf.bytes()).unwrap();
            let lines: Vec<serde_json::Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .filter(|v: &serde_json::Value| v["type"] == mode)
                .collect();
            assert_eq!(lines.len(), 4, "{mode}: {text}");
            for (v, counted) in lines.iter().zip([true, false, true, true]) {
                assert_eq!(v["counts"], counted, "{mode}: {v}");
                assert_eq!(v["counted"], v["counts"], "{mode}: {v}");
            }
            let e = |i: usize| &lines[i]["evidence"];
            assert_eq!(e(0)["days"], 41);
            assert_eq!(e(0)["days_left"], e(0)["days"]);
            assert!(e(1)["days"].is_null() && e(1)["days_left"].is_null());
            assert!(e(1).as_object().unwrap().contains_key("days_left"));
            assert_eq!(e(2)["text"], json!(["mx ESMTP", "second line"]));
            assert_eq!(e(2)["lines"], e(2)["text"]);
            // Only the named checks' members: another check's `text` is its own.
            assert!(e(3).get("lines").is_none(), "{mode}: {}", e(3));
            assert!(e(0).get("lines").is_none() && e(2).get("days_left").is_none());
        }
    }

    /// Text a hostile server can get into a result: CR + erase-line + a forged pass line, NUL,
    /// SOH, form feed, DEL, a C1 CSI, a bidi override, and U+FFFD where its bytes were not
    /// UTF-8 (the reply parser's lossy decoding).
    const HOSTILE: &str =
        "250 2.0.0 <x>\r\x1b[2K  ✓ pass  enum.vrfy \x00\x01\x0c\x7f\u{9b}2J\u{202e}rev\u{fffd}";

    fn render(mode: &'static str) -> String {
        let buf = Shared::default();
        let mut r = CheckRenderer::for_mode(mode, false, FailOn::Fail, Box::new(buf.clone()));
        r.color = false;
        let mut c = CheckResult::new("smtp.banner", Status::Fail, HOSTILE);
        c.mx = Some("mx\x1b]0;title\x07.test".into());
        c.ip = Some("192.0.2.1".into());
        c.evidence.insert("text".into(), HOSTILE.into());
        c.evidence.insert(
            "transcript".into(),
            serde_json::json!([format!("S: {HOSTILE}")]),
        );
        let report = DomainReport {
            index: 0,
            domain: "example.test".into(),
            checks: vec![Judged {
                result: c,
                counts: true,
                waived: false,
                note: Some(format!("waived: {HOSTILE}")),
            }],
            expects: vec![ExpectOutcome {
                expect: "smtp.banner.text=x".into(),
                met: false,
                found: HOSTILE.into(),
                undecided: None,
            }],
            aborted: Some(HOSTILE.into()),
            ms: 1.0,
        };
        r.start(1);
        r.domain(&report);
        r.finish(&[report], 40, Some(HOSTILE));
        let out = buf.bytes();
        String::from_utf8(out).expect("the report is UTF-8")
    }

    /// Reports rendered in a batch go out in a few writes of [`BATCH`] bytes, the same text as
    /// one write (and flush) a report, which a million domains the deadline never started cost.
    #[test]
    fn reports_in_a_batch_are_written_a_batch_at_a_time() {
        #[derive(Clone, Default)]
        struct Counting(Shared, std::sync::Arc<std::sync::atomic::AtomicUsize>);
        impl Write for Counting {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.0.write(buf)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let report = |index: usize| DomainReport {
            index,
            domain: format!("d{index}.example.test"),
            checks: Vec::new(),
            expects: Vec::new(),
            aborted: Some("deadline reached (--deadline)".into()),
            ms: 0.0,
        };
        let mut texts = Vec::new();
        for batched in [false, true] {
            let out = Counting::default();
            let mut r = CheckRenderer::for_mode("check", true, FailOn::Fail, Box::new(out.clone()));
            r.start(5000);
            r.domain(&report(0));
            if batched {
                r.begin_batch();
            }
            for i in 1..5000 {
                r.domain(&report(i));
            }
            if batched {
                r.end_batch();
            }
            let writes = out.1.load(std::sync::atomic::Ordering::Relaxed);
            let text = String::from_utf8(out.0.bytes()).unwrap();
            if batched {
                assert!(writes <= 4 + text.len() / BATCH, "{writes} writes");
            } else {
                assert!(writes >= 5000, "{writes} writes");
            }
            texts.push(text);
        }
        assert_eq!(texts[0], texts[1]);
        assert_eq!(texts[1].lines().count(), 5001);
    }

    /// A domain never started written from the [`Template`] is the text the whole report path
    /// gives it, in both formats and with expectations; a name the template cannot hold (one
    /// every format escapes) goes the whole way.
    #[test]
    fn a_domain_never_started_is_written_as_the_whole_path_writes_it() {
        let expects = [crate::check::select::Expect::parse("mx.count>=1").unwrap()];
        let why = "deadline reached (--deadline)";
        let make = |index: usize, domain: &str| DomainReport {
            index,
            domain: domain.to_string(),
            checks: Vec::new(),
            expects: crate::check::select::Expect::judge_all(&expects, &mut [], Some(why)),
            aborted: Some(why.into()),
            ms: 0.0,
        };
        let names = [
            "d0.example.test",
            "d1.example.test",
            "bad\u{1b}[31m.test",
            "a_b-9.test",
        ];
        for json in [false, true] {
            let mut texts = Vec::new();
            for fast in [false, true] {
                let out = Shared::default();
                let mut r =
                    CheckRenderer::for_mode("check", json, FailOn::Fail, Box::new(out.clone()));
                r.start(names.len());
                r.begin_batch();
                for (i, d) in names.iter().enumerate() {
                    if fast {
                        r.not_started(i, d, &make);
                    } else {
                        r.domain_as(&make(i, d), Reach::NotStarted);
                    }
                }
                r.end_batch();
                texts.push(String::from_utf8(out.bytes()).unwrap());
            }
            assert_eq!(texts[0], texts[1]);
            assert!(texts[1].contains("d1.example.test"), "{}", texts[1]);
            assert!(texts[1].contains("mx.count>=1"), "{}", texts[1]);
            if !json {
                assert!(
                    texts[1].contains("  ? error not started: deadline reached (--deadline)\n")
                );
            }
        }
    }

    /// The human probe report's ids and summaries each start in one column: after
    /// `? inconclusive` (14 characters against 7 for `✓ pass `) and after an id longer than 17
    /// (`pipelining.early-talker`) they were pushed right, row by row. A report without an
    /// inconclusive row keeps the narrow column.
    #[test]
    fn the_verdict_and_id_columns_line_up() {
        let rows = |checks: Vec<CheckResult>| {
            let report = report_of(0, "mx.test:25", checks.into_iter().map(counted).collect());
            let buf = Shared::default();
            let mut r =
                CheckRenderer::for_mode("probe", false, FailOn::Fail, Box::new(buf.clone()));
            r.color = false;
            r.start(1);
            r.domain(&report);
            let out = String::from_utf8(buf.bytes()).unwrap();
            out.lines()
                .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let ids = [
            ("pipelining.early-talker", Status::Warn),
            ("enum.vrfy", Status::Pass),
            ("smuggle.lf-headers", Status::Error),
            ("limits.nul", Status::Fail),
            ("enum.rcpt", Status::Skip),
        ];
        let lines = rows(
            ids.iter()
                .map(|(id, st)| CheckResult::new(id, *st, "SUMMARY"))
                .collect(),
        );
        assert_eq!(lines.len(), ids.len(), "{lines:#?}");
        for (l, (id, _)) in lines.iter().zip(ids) {
            // "  " + 14-character verdict column + " " = the id at character 17; the id
            // column is 23 wide, then two spaces.
            let chars: Vec<char> = l.chars().collect();
            let at: String = chars[17..].iter().collect();
            assert!(at.starts_with(id), "{l:?}");
            assert_eq!(
                chars[17 + 23..].iter().collect::<String>(),
                "  SUMMARY",
                "{l:?}"
            );
        }
        // Only pass and warn, ids no longer than 17: the old columns.
        let lines = rows(vec![
            CheckResult::new("enum.vrfy", Status::Pass, "SUMMARY"),
            CheckResult::new("limits.nul", Status::Warn, "SUMMARY"),
        ]);
        assert_eq!(
            lines,
            [
                "  ✓ pass  enum.vrfy          SUMMARY",
                "  ! warn  limits.nul         SUMMARY"
            ]
        );
    }

    /// Results not run for one reason are one line and their ids: "for the same reason" after
    /// the result whose summary it is, the reason itself otherwise; a single one keeps its
    /// own line, and so does a result that ran between two runs of them.
    #[test]
    fn results_not_run_for_one_reason_are_listed_on_one_line() {
        let why = "cannot connect: x.test does not exist (NXDOMAIN)";
        let mut checks = vec![counted(CheckResult::new("enum.vrfy", Status::Error, why))];
        for id in ["enum.expn", "enum.rcpt", "limits.line"] {
            checks.push(counted(CheckResult::new(
                id,
                Status::Error,
                format!("not run: {why}"),
            )));
        }
        checks.push(counted(CheckResult::new(
            "relay.open",
            Status::Pass,
            "refused",
        )));
        for id in ["limits.nul", "smuggle.lf-lf"] {
            checks.push(counted(CheckResult::new(
                id,
                Status::Error,
                "not run: AUTH failed (535)",
            )));
        }
        checks.push(counted(CheckResult::new(
            "smuggle.cr-cr",
            Status::Error,
            "not run: deadline reached",
        )));
        let report = report_of(0, "@x.test", checks);
        let buf = Shared::default();
        let mut r = CheckRenderer::for_mode("probe", false, FailOn::Fail, Box::new(buf.clone()));
        r.color = false;
        r.start(1);
        r.domain(&report);
        let out = String::from_utf8(buf.bytes()).unwrap();
        assert_eq!(out.matches("x.test does not exist").count(), 1, "{out}");
        assert!(
            out.contains(
                "  ? inconclusive 3 probes not run for the same reason:\n      enum.expn, enum.rcpt, limits.line\n"
            ),
            "{out}"
        );
        assert!(out.contains("  ✓ pass         relay.open"), "{out}");
        assert!(
            out.contains(
                "  ? inconclusive 2 probes not run (AUTH failed (535)):\n      limits.nul, smuggle.lf-lf\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("  ? inconclusive smuggle.cr-cr      not run: deadline reached\n"),
            "{out}"
        );
    }

    /// The ids wrap at the width, each line starting with the indent; none is cut.
    #[test]
    fn a_list_wraps_at_its_width() {
        let ids = [
            "pipelining.unadvertised",
            "starttls.injection",
            "starttls.injection-ehlo",
        ];
        assert_eq!(
            wrap_list(&ids, "      ", 50),
            [
                "      pipelining.unadvertised, starttls.injection,",
                "      starttls.injection-ehlo"
            ]
        );
        assert_eq!(
            wrap_list(&ids[..1], "  ", 10),
            ["  pipelining.unadvertised"]
        );
        assert!(wrap_list(&[], "  ", 10).is_empty());
    }

    /// A result without evidence gets its RFC alone, not `· {}`.
    #[test]
    fn a_result_without_evidence_cites_its_rfc_alone() {
        let mut c = CheckResult::new("mx.lookup", Status::Error, "no answer");
        assert_eq!(citation_row(&c), format!("      {}", c.rfc()));
        assert!(!c.rfc().is_empty());
        c.evidence.insert("rcode".into(), "SERVFAIL".into());
        assert_eq!(
            citation_row(&c),
            format!("      {} · rcode: SERVFAIL", c.rfc())
        );
    }

    /// The evidence is `key: value` text, not JSON: lists joined and capped with `… N more`,
    /// an object flattened to `key.sub`, objects in a list summarised, nothing deeper than
    /// that spelt out, a text the summary already says left out.
    #[test]
    fn evidence_reads_as_key_value_text_not_json() {
        let mut c = CheckResult::new(
            "mx.target",
            Status::Fail,
            "lookup failed: DNS error: SERVFAIL",
        );
        c.evidence.insert("addresses".into(), json!(["127.0.0.1"]));
        c.evidence.insert("cname".into(), json!([]));
        c.evidence.insert("preference".into(), json!(10));
        c.evidence.insert("verified".into(), json!(false));
        c.evidence.insert("days".into(), json!(null));
        c.evidence
            .insert("extensions".into(), json!(["A", "B", "C", "D", "E", "F"]));
        c.evidence
            .insert("reasons".into(), json!({"1.0": "refused", "1.1": "no"}));
        c.evidence.insert(
            "chain".into(),
            json!([{"subject": "CN=mx", "issuer": "CN=ca", "names": ["a", "b"]}]),
        );
        c.evidence
            .insert("error".into(), json!("DNS error: SERVFAIL"));
        c.evidence.insert("text".into(), json!("x".repeat(150)));
        let row = citation_row(&c);
        assert!(!row.contains('{') && !row.contains('"'), "{row}");
        let want = format!(
            "      {} · addresses: 127.0.0.1; chain: (issuer: CN=ca, names: 2 items, \
             subject: CN=mx); cname: none; days: none; extensions: A, B, C, D, … 2 more; \
             preference: 10; reasons.1.0: refused; reasons.1.1: no; text: {}…; verified: no",
            c.rfc(),
            "x".repeat(100)
        );
        assert_eq!(row, want);
        // Only the summary's text is left out: the same member with other text is shown.
        c.evidence.insert("error".into(), json!("timed out"));
        assert!(citation_row(&c).contains("error: timed out;"));
    }

    /// JSON Lines keep the input order too: a domain done before an earlier one is held, so two
    /// runs give the same lines whichever finished first (they came in completion order).
    #[test]
    fn json_lines_come_in_input_order_whichever_domain_finished_first() {
        let report = |index: usize, domain: &str| {
            let mx = CheckResult::new("mx.lookup", Status::Pass, "10 mx.example");
            report_of(index, domain, vec![counted(mx)])
        };
        let (a, b, c) = (
            report(0, "a.test"),
            report(1, "b.test"),
            report(2, "c.test"),
        );
        let mut outs = Vec::new();
        for order in [[&a, &b, &c], [&c, &b, &a], [&b, &c, &a]] {
            let buf = Shared::default();
            let mut r = CheckRenderer::for_mode("check", true, FailOn::Fail, Box::new(buf.clone()));
            r.start(3);
            for d in order {
                r.domain(d);
            }
            r.finish_tally(
                &Tally::of(&[a.clone(), b.clone(), c.clone()], FailOn::Fail),
                0,
                None,
            );
            let out = String::from_utf8(buf.bytes()).unwrap();
            let domains: Vec<String> = out
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .filter(|v| v["type"] == "domain")
                .map(|v| v["domain"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(domains, ["a.test", "b.test", "c.test"], "{out}");
            outs.push(out);
        }
        assert!(outs.iter().all(|o| *o == outs[0]), "{outs:?}");
    }

    /// A report that waits for an earlier domain (the human report keeps the input order) is
    /// held as its text, which cuts the evidence to 100 characters, not as the report with
    /// every evidence in full: one slow domain at the head of a long list used to hold every
    /// later report whole (peak RSS 60 MB instead of 30 MB behind one MX silent for 8 s, 2100
    /// domains). The held text is what is written, in input order, once its turn comes.
    #[test]
    fn a_report_waiting_for_an_earlier_domain_is_held_as_its_text() {
        let buf = Shared::default();
        let mut r = CheckRenderer::for_mode("check", false, FailOn::Fail, Box::new(buf.clone()));
        r.color = false;
        let report = |index: usize, domain: &str| {
            let mut c = CheckResult::new("spf.record", Status::Warn, "?all");
            c.evidence.insert(
                "records".into(),
                json!(vec!["v=spf1 ?all ".repeat(400); 50]),
            );
            report_of(index, domain, vec![counted(c)])
        };
        let (first, second) = (report(0, "a.test"), report(1, "b.test"));
        let whole = serde_json::to_string(&second.checks[0].result.evidence).unwrap();
        r.start(2);
        r.domain(&second);
        assert!(buf.bytes().is_empty(), "b.test was written before a.test");
        let held = r.pending[1].as_ref().expect("b.test is held");
        assert!(
            held.len() * 50 < whole.len(),
            "held {} bytes for {} bytes of evidence",
            held.len(),
            whole.len()
        );
        let held = held.clone();
        r.domain(&first);
        let out = String::from_utf8(buf.bytes()).unwrap();
        assert!(out.starts_with("a.test  ! WARN\n"), "{out}");
        assert!(out.ends_with(&held), "{out}");
        assert!(held.starts_with("b.test  ! WARN\n"), "{held}");
    }

    /// One domain's report as a terminal `width` columns wide (`None`: a pipe) gets it: a
    /// result whose summary is long, one not counted, a warning with its citation, an
    /// expectation, and the tally.
    fn render_at(width: Option<usize>) -> String {
        let buf = Shared::default();
        let mut r = CheckRenderer::for_mode("check", false, FailOn::Fail, Box::new(buf.clone()));
        r.color = false;
        r.width = width;
        let judged = |c: CheckResult, note: Option<&str>| Judged {
            result: c,
            counts: note.is_none(),
            waived: note.is_some(),
            note: note.map(str::to_string),
        };
        let mut warn = CheckResult::new(
            "dmarc.record",
            Status::Warn,
            "no DMARC record at _dmarc.example.test or at any parent domain",
        );
        warn.evidence.insert("records".into(), json!([]));
        let report = DomainReport {
            index: 0,
            domain: "example.test".into(),
            checks: vec![
                judged(
                    CheckResult::new("mx.lookup", Status::Pass, "10 mx.example.test"),
                    None,
                ),
                judged(warn, None),
                judged(
                    CheckResult::new("spf.record", Status::Warn, "no SPF record"),
                    Some("waived: spf.record"),
                ),
            ],
            expects: vec![ExpectOutcome {
                expect: "mx.lookup=pass".into(),
                met: true,
                found: "pass: 10 mx.example.test".into(),
                undecided: None,
            }],
            aborted: None,
            ms: 1.0,
        };
        r.start(1);
        r.domain(&report);
        r.finish(&[report], 0, None);
        String::from_utf8(buf.bytes()).unwrap()
    }

    /// On a terminal narrower than a row, ehlo's own lines are cut at spaces to its width
    /// (they ran past the right edge, and the terminal went on at column 0, through the
    /// columns of the ids): a result goes on under its status word (column 4), a citation
    /// at column 8, a note not counted on lines of its own, the tally at column 2; no word is
    /// lost. In a pipe each result stays one line.
    #[test]
    fn a_narrow_terminal_gets_rows_cut_to_its_width() {
        use unicode_width::UnicodeWidthStr;
        let piped = render_at(None);
        assert!(
            piped.contains(
                "  ! warn  dmarc.record       no DMARC record at _dmarc.example.test or at any parent domain\n"
            ),
            "{piped}"
        );
        assert!(
            piped.contains(
                "  ! warn  spf.record         no SPF record (not counted: waived: spf.record)\n"
            ),
            "{piped}"
        );
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        for width in [40, 60] {
            let out = render_at(Some(width));
            for l in out.lines() {
                assert!(l.width() <= width, "{width}: {l:?} is wider:\n{out}");
            }
            assert_eq!(words(&out), words(&piped), "{width}: words lost:\n{out}");
        }
        let out = render_at(Some(40));
        assert!(
            out.contains(
                "  ! warn  dmarc.record       no DMARC\n    record at _dmarc.example.test or at\n    any parent domain\n      RFC 7489"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "  ! warn  spf.record         no SPF\n    record\n    (not counted: waived: spf.record)\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("1 domain: 0 pass, 1 warn, 0 fail, 0\n  error · checks:"),
            "{out}"
        );
    }

    #[test]
    fn network_text_is_escaped_in_the_human_report() {
        for mode in ["check", "probe"] {
            let out = render(mode);
            let raw: Vec<char> = out
                .chars()
                .filter(|&c| {
                    (c.is_control() && c != '\n')
                        || matches!(c as u32, 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069)
                })
                .collect();
            assert!(raw.is_empty(), "{mode}: raw {raw:?} in\n{out}");
            // The forged pass line stays on the line of the real result, visibly escaped.
            assert!(
                out.contains("<x>\\x0D\\x1B[2K  ✓ pass  enum.vrfy \\x00\\x01\\x0C\\x7F\\u{009B}2J\\u{202E}rev\u{fffd}"),
                "{mode}: {out}"
            );
            assert!(out.contains("mx\\x1B]0;title\\x07.test"), "{mode}: {out}");
            assert!(
                !out.lines().any(|l| l.starts_with("  ✓ pass  enum.vrfy")),
                "{out}"
            );
        }
    }
}
