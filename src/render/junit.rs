//! `ehlo check --junit FILE`: the reports as JUnit XML, for GitLab `artifacts:reports:junit`,
//! Jenkins and friends, written here in the layout of quick-junit (the writer cargo-nextest uses,
//! which ehlo used before): one element per line, four spaces deeper per level, a failure's text
//! inside its element, attributes in a fixed order. One `<testsuite>` per domain
//! (`timestamp`: the run's start, UTC; `hostname`; `package` and `id`), one `<testcase>` per
//! check, every one with a `time` (`0` for a result that was not timed).
//!
//! Layout. CI pages split a classname at its last dot: Jenkins shows the part before it as the
//! package and the rest as the class (the junit plugin's `CaseResult`), so `DOMAIN.MX[IP]` came
//! out as package `DOMAIN.MX[192.0.2`, class `1]`. The classname is therefore `DOMAIN.domain` for
//! domain checks, `DOMAIN.mx` for per-host and per-address ones and `DOMAIN.expect` for
//! `--expect`: package = the domain, class = what the test is about. The host and address go in
//! the name, which nothing splits: `mx.lookup`, `mx.target MX`, `tls.starttls MX [IP]`, the
//! expectation itself. A (classname, name) pair that would repeat gets ` #2`, ` #3`… on its name.
//!
//! fail → `<failure>`, error (could not test) → `<error>`, skip and info → `<skipped>`, warn → a
//! pass (a `<failure>` under `--fail-on warn`); each of the three elements with its reason as
//! text (what GitLab shows; see [`test_case`]). A waived or uncounted result is a pass. Each
//! result's line (status, summary, RFC, note) is in the suite's `<system-out>`: the Ant schema
//! allows no `<system-out>` in a `<testcase>`. An unmet
//! `--expect` is its own failing test case; a domain that could not be checked at all is one
//! `<error>` test case.
//!
//! GitLab reads a case's classname, name, time and the text of its `<failure>`, `<error>` or
//! `<skipped>`, nothing else (no suite `<system-out>`, no properties, no text of a passing
//! case): a warn shows there as a pass without its text, by choice — made `<skipped>` it would
//! count a tested result as not run; `--fail-on warn` shows it as a failure with its text.
//!
//! The file validates against the JUnit schemas CI tools use: junit-10.xsd (the Jenkins xunit
//! plugin's), Jenkins' older junit-4.xsd (no attribute on `<skipped>`) and the Apache Ant JUnit
//! schema (windyroad/JUnit-Schema `JUnit.xsd`), which wants a `<properties>`, `<system-out>` and `<system-err>` in every suite, `timestamp` without a zone,
//! `hostname`, `package` and `id`, a `time` on every case, and no attribute on `<testsuites>`
//! (so the run's wall time is not in the file; each suite keeps its domain's own time). Jenkins
//! shows a case without output its suite's (`CaseResult.getStdout`, jenkinsci/junit-plugin).

use std::path::Path;
use std::time::Duration;

use crate::check::model::{DomainReport, FailOn, Status};

/// Where and when the run happened, for each `<testsuite>`.
#[derive(Debug, Clone)]
pub(crate) struct RunInfo {
    /// When the run started.
    pub(crate) started: std::time::SystemTime,
    /// This host's name (`localhost` when it cannot be read, as the Ant schema asks).
    pub(crate) hostname: String,
    /// More `<property>` elements for every suite, after `ehlo.report` and `ehlo.version`
    /// (`ehlo probe`: `ehlo.given_up.*`, why the probes after some point were not run).
    pub(crate) properties: Vec<(String, String)>,
}

impl RunInfo {
    /// A run that started `wall` ago on this host.
    pub(crate) fn now_minus(wall: Duration) -> RunInfo {
        let now = std::time::SystemTime::now();
        let hostname = gethostname::gethostname()
            .into_string()
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty() && !h.chars().any(char::is_whitespace))
            .unwrap_or_else(|| "localhost".to_string());
        RunInfo {
            started: now.checked_sub(wall).unwrap_or(now),
            hostname,
            properties: Vec::new(),
        }
    }

    /// The start as the Ant schema's `timestamp` wants it: `YYYY-MM-DDTHH:MM:SS`, no zone (UTC).
    fn timestamp(&self) -> String {
        let t = time::OffsetDateTime::from(self.started);
        let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        t.format(f)
            .unwrap_or_else(|_| "1970-01-01T00:00:00".to_string())
    }
}

/// Build the XML.
#[cfg(test)]
pub(crate) fn render(reports: &[DomainReport], fail_on: FailOn, run: &RunInfo) -> String {
    render_named("ehlo check", reports, fail_on, run)
}

/// [`render`] under another report name (`ehlo probe`). Each `<testsuite>` has its domain's own
/// time; domains are checked at once (`--concurrency`), so their sum can be many times what the
/// run took.
pub(crate) fn render_named(
    name: &str,
    reports: &[DomainReport],
    fail_on: FailOn,
    run: &RunInfo,
) -> String {
    let suites = reports
        .iter()
        .enumerate()
        .map(|(id, r)| suite_xml(name, r, id, fail_on, run))
        .collect::<Vec<_>>();
    assemble(&suites)
}

/// One domain's `<testsuite>` element as text, `id` its position in the file: all a long
/// `--junit` run keeps of a finished domain (its report, evidence and all, is several times
/// larger). `name` is the report's (`ehlo check`, `ehlo probe`).
pub(crate) fn suite_xml(
    name: &str,
    r: &DomainReport,
    id: usize,
    fail_on: FailOn,
    run: &RunInfo,
) -> String {
    // A server's text (a greeting, a reply, a certificate's names) is written as the human report
    // shows it, control and invisible characters escaped (`\x01`, `\x1B[31m`, `\u{202E}`): a
    // JUnit writer that drops the C0 controls XML 1.0 excludes does so without a trace, and DEL,
    // the C1 controls and bidi overrides would reach the CI page.
    let esc = crate::render::human::escape_str;
    // A status in the report's own words: `ehlo probe` says `inconclusive` for `error`, as its
    // human report and JSON do.
    let word = |s: Status| match (name, s) {
        ("ehlo probe", Status::Error) => "inconclusive",
        _ => s.name(),
    };
    // Per suite: every classname starts with the domain, and a list names each domain once.
    let mut unique = Unique::default();
    let mut cases = String::new();
    let mut counts = Counts::default();
    let mut out = String::new();
    // The package: the domain without the trailing dot of an absolute name (`example.test.`
    // made `example.test..domain`, an empty label where CI pages split the classname).
    let package = r.domain.strip_suffix('.').unwrap_or(&r.domain);
    let domain_class = format!("{package}.domain");
    let mx_class = format!("{package}.mx");
    let expect_class = format!("{package}.expect");
    if let Some(why) = &r.aborted {
        let why = esc(why);
        let outcome = Outcome::NotPassed {
            tag: "error",
            message: why.clone(),
            ty: "aborted",
            text: None,
        };
        let name = unique.name(&domain_class, "domain");
        counts.add(&outcome);
        test_case(&mut cases, &name, &domain_class, Duration::ZERO, &outcome);
        out.push_str(&format!("domain: {}: {why}\n", word(Status::Error)));
    }
    for j in &r.checks {
        let c = &j.result;
        let summary = esc(&c.summary);
        let failing = j.counts
            && (c.status == Status::Fail || (c.status == Status::Warn && fail_on == FailOn::Warn));
        // The result's line: status, summary, RFC, why it does not count.
        let mut line = format!("{}: {summary}", word(c.status));
        if !c.rfc().is_empty() {
            line.push_str(&format!(" ({})", c.rfc()));
        }
        // A note on a result that counts (a step reported for the selected checks after it)
        // is said as it is.
        match (&j.note, j.counts) {
            (Some(note), false) => line.push_str(&format!(" (not counted: {})", esc(note))),
            (Some(note), true) => line.push_str(&format!(" ({})", esc(note))),
            (None, _) => {}
        }
        // The line and the evidence as a failure's or an error's text: what a CI page shows
        // under the message.
        let text = || {
            Some(format!(
                "{line}\n{}",
                esc(&serde_json::Value::Object(c.evidence.clone()).to_string())
            ))
        };
        let outcome = if failing {
            Outcome::NotPassed {
                tag: "failure",
                message: summary,
                ty: c.id,
                text: text(),
            }
        } else if c.status == Status::Error && j.counts {
            Outcome::NotPassed {
                tag: "error",
                message: summary,
                ty: c.id,
                text: text(),
            }
        } else if matches!(c.status, Status::Skip | Status::Info) {
            Outcome::Skipped(summary)
        } else {
            Outcome::Passed
        };
        let (class, name) = match (&c.mx, &c.ip) {
            (Some(mx), Some(ip)) => (&mx_class, format!("{} {mx} [{ip}]", c.id)),
            (Some(mx), None) => (&mx_class, format!("{} {mx}", c.id)),
            _ => (&domain_class, c.id.to_string()),
        };
        let name = unique.name(class, &name);
        out.push_str(&format!("{name}: {line}\n"));
        let time = Duration::from_secs_f64(c.ms.unwrap_or(0.0).max(0.0) / 1000.0);
        counts.add(&outcome);
        test_case(&mut cases, &name, class, time, &outcome);
    }
    for e in &r.expects {
        let found = esc(&e.found);
        let outcome = match (e.met, &e.undecided) {
            (true, _) => Outcome::Passed,
            (false, None) => Outcome::NotPassed {
                tag: "failure",
                message: format!("expected {}, found {found}", e.expect),
                ty: "expect",
                text: None,
            },
            // Not decided: not tested, as an error is.
            (false, Some(why)) => Outcome::NotPassed {
                tag: "error",
                message: format!("not decided: {}", esc(why)),
                ty: "expect",
                text: None,
            },
        };
        let name = unique.name(&expect_class, &e.expect);
        let verdict = match &e.undecided {
            _ if e.met => format!("met (found {found})"),
            None => format!("not met (found {found})"),
            Some(why) => format!("not decided ({})", esc(why)),
        };
        out.push_str(&format!("expect {name}: {verdict}\n"));
        counts.add(&outcome);
        test_case(&mut cases, &name, &expect_class, Duration::ZERO, &outcome);
    }

    let mut xml = String::with_capacity(cases.len() + out.len() + 512);
    let suite_time = secs(Duration::from_secs_f64(r.ms.max(0.0) / 1000.0));
    start_tag(
        &mut xml,
        1,
        "testsuite",
        &[
            ("name", &r.domain),
            ("tests", &counts.tests.to_string()),
            ("skipped", &counts.skipped.to_string()),
            ("errors", &counts.errors.to_string()),
            ("failures", &counts.failures.to_string()),
            ("time", &suite_time),
            ("timestamp", &run.timestamp()),
            ("hostname", &run.hostname),
            ("package", package),
            ("id", &id.to_string()),
        ],
        false,
    );
    start_tag(&mut xml, 2, "properties", &[], false);
    // Which report this is (`ehlo check`, `ehlo probe`), by which version: `<testsuites>` can
    // say nothing (see the module documentation).
    for (k, v) in [
        ("ehlo.report", name),
        ("ehlo.version", env!("CARGO_PKG_VERSION")),
    ] {
        start_tag(&mut xml, 3, "property", &[("name", k), ("value", v)], true);
    }
    for (k, v) in &run.properties {
        start_tag(
            &mut xml,
            3,
            "property",
            &[("name", k), ("value", &esc(v))],
            true,
        );
    }
    end_tag(&mut xml, 2, "properties");
    xml.push_str(&cases);
    text_element(&mut xml, 2, "system-out", &[], &out);
    text_element(&mut xml, 2, "system-err", &[], "");
    // The first line's indent is [`assemble`]'s.
    end_tag(&mut xml, 1, "testsuite");
    xml.split_off(INDENT.len())
}

/// The four counts a `<testsuite>` carries, of its test cases.
#[derive(Default)]
struct Counts {
    tests: usize,
    skipped: usize,
    errors: usize,
    failures: usize,
}

impl Counts {
    fn add(&mut self, o: &Outcome) {
        self.tests += 1;
        match o {
            Outcome::Passed => {}
            Outcome::Skipped(_) => self.skipped += 1,
            Outcome::NotPassed { tag: "error", .. } => self.errors += 1,
            Outcome::NotPassed { .. } => self.failures += 1,
        }
    }
}

/// What a `<testcase>` holds.
enum Outcome {
    /// Nothing: an empty element.
    Passed,
    /// `<skipped>…</skipped>`: the reason as the element's text, no attribute (see [`test_case`]).
    Skipped(String),
    /// `<failure>` or `<error>` (`tag`) with a message, a type and a text (the message when
    /// there is no other).
    NotPassed {
        tag: &'static str,
        message: String,
        ty: &'static str,
        text: Option<String>,
    },
}

/// One `<testcase>`, with its `time` as [`secs`] writes it.
///
/// Every `<failure>`, `<error>` and `<skipped>` has a text, since the text is all GitLab shows:
/// its parser (gitlab-org/gitlab `lib/gitlab/ci/parsers/test/junit.rb`) turns the file into a
/// hash with Rails' `Hash.from_xml` and takes the element's value as the case's output, which
/// for an element with attributes and no text is the attribute hash itself — the case then
/// showed `{"message"=>"…", "type"=>"expect"}` (or nothing) instead of the reason. `<skipped>`
/// carries its reason as text only: Jenkins' `junit-4.xsd` declares it `xs:string`, no
/// attribute allowed, and the Jenkins junit plugin reads the text when there is no `message`
/// (`CaseResult.getSkippedMessage`).
fn test_case(xml: &mut String, name: &str, class: &str, time: Duration, o: &Outcome) {
    let attrs = [("name", name), ("classname", class), ("time", &secs(time))];
    match o {
        Outcome::Passed => start_tag(xml, 2, "testcase", &attrs, true),
        Outcome::Skipped(message) => {
            start_tag(xml, 2, "testcase", &attrs, false);
            text_element(xml, 3, "skipped", &[], message);
            end_tag(xml, 2, "testcase");
        }
        Outcome::NotPassed {
            tag,
            message,
            ty,
            text,
        } => {
            start_tag(xml, 2, "testcase", &attrs, false);
            let attrs = [("message", message.as_str()), ("type", ty)];
            text_element(xml, 3, tag, &attrs, text.as_deref().unwrap_or(message));
            end_tag(xml, 2, "testcase");
        }
    }
}

/// A duration as JUnit files give it: seconds with three decimals (`0.012`).
fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// One level of indentation: an element per line, nested four spaces deeper than its parent.
const INDENT: &str = "    ";

/// `<tag a="v"…>` (or `…/>` when `empty`) on its own line at `depth`.
fn start_tag(xml: &mut String, depth: usize, tag: &str, attrs: &[(&str, &str)], empty: bool) {
    xml.push_str(&INDENT.repeat(depth));
    xml.push('<');
    xml.push_str(tag);
    for (k, v) in attrs {
        xml.push(' ');
        xml.push_str(k);
        xml.push_str("=\"");
        push_xml_text(xml, v);
        xml.push('"');
    }
    xml.push_str(if empty { "/>\n" } else { ">\n" });
}

/// `</tag>` on its own line at `depth`.
fn end_tag(xml: &mut String, depth: usize, tag: &str) {
    xml.push_str(&INDENT.repeat(depth));
    xml.push_str("</");
    xml.push_str(tag);
    xml.push_str(">\n");
}

/// `<tag a="v"…>text</tag>` at `depth`: the text as it is, its lines not indented.
fn text_element(xml: &mut String, depth: usize, tag: &str, attrs: &[(&str, &str)], text: &str) {
    start_tag(xml, depth, tag, attrs, false);
    xml.pop();
    push_xml_text(xml, text);
    xml.push_str("</");
    xml.push_str(tag);
    xml.push_str(">\n");
}

/// `s` as XML 1.0 text or attribute value (§2.4, §3.3.1): `<`, `>`, `&`, `'` and `"` as their
/// entities, line feeds as they are, and every character the file cannot hold — the C0 controls
/// (`Char`, §2.2, excludes all but tab, LF and CR; tab and CR included here, as the human report
/// shows them), and U+FFFE and U+FFFF, which not even a character reference may name — written
/// as the human report writes them (`\x1B`, `\u{fffe}`), as are DEL, the C1 controls and the bidi
/// overrides. What a server sent is escaped before it gets here, so this changes nothing in it;
/// a parser that rejected one character would reject the whole file.
fn push_xml_text(xml: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => xml.push_str("&lt;"),
            '>' => xml.push_str("&gt;"),
            '&' => xml.push_str("&amp;"),
            '\'' => xml.push_str("&apos;"),
            '"' => xml.push_str("&quot;"),
            '\n' => xml.push('\n'),
            '\u{fffe}' => xml.push_str("\\u{fffe}"),
            '\u{ffff}' => xml.push_str("\\u{ffff}"),
            c if c.is_control() || crate::render::invisible_format(c) => {
                xml.push_str(&crate::render::human::escape_str(
                    c.encode_utf8(&mut [0; 4]),
                ));
            }
            c => xml.push(c),
        }
    }
}

/// The file around [`suite_xml`]'s elements, in order: a bare `<testsuites>` (the Ant JUnit
/// schema declares no attribute on it, and a `skipped` there is not in junit-10.xsd either);
/// each `<testsuite>` has its own counts and time.
pub(crate) fn assemble(suites: &[String]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for s in suites {
        out.push_str(INDENT);
        out.push_str(s);
    }
    out.push_str("</testsuites>\n");
    out
}

/// Keeps every (classname, name) pair of a report unique: a CI page merges or hides test cases
/// that share both (GitLab keys its test list on them, Jenkins its history). A repeat (the same
/// `--expect` given twice, though the modes judge a repeat once: `Expect::dedup`) gets ` #2`,
/// ` #3`… on its name, in the order of the report.
#[derive(Default)]
struct Unique(std::collections::HashMap<(String, String), usize>);

impl Unique {
    /// The name to give a test case `name` of `class`.
    fn name(&mut self, class: &str, name: &str) -> String {
        let n = self
            .0
            .entry((class.to_string(), name.to_string()))
            .or_default();
        *n += 1;
        if *n == 1 {
            name.to_string()
        } else {
            format!("{name} #{n}")
        }
    }
}

/// Write the XML to `path` (through a temporary file in the same directory, so a reader never
/// sees half a report); `wall` is how long the whole run took.
#[cfg(test)]
pub(crate) fn write(
    path: &Path,
    reports: &[DomainReport],
    fail_on: FailOn,
    wall: Duration,
) -> Result<(), String> {
    write_named("ehlo check", path, reports, fail_on, wall, &[])
}

/// How the report reaches `path`. A rename replaces the directory entry it lands on, so only a
/// regular file (or a new one) is written through a temporary file and renamed; anything else
/// the path names — a symlink (to the report a CI job collects), a FIFO a consumer reads,
/// `/dev/stdout`, `/dev/null` — is written in place, as `> PATH` would, never replaced.
#[derive(Debug, PartialEq, Eq)]
enum Destination {
    /// A regular file or nothing yet: through `PATH.xml.partial`, then renamed.
    Replace,
    /// A symlink or a special file: opened and written.
    InPlace,
    /// A directory: no report can go there.
    Directory,
}

fn destination(path: &Path) -> Destination {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => Destination::Directory,
        Ok(m) if !m.is_file() => Destination::InPlace,
        _ => Destination::Replace,
    }
}

/// [`write`] under another report name (`ehlo probe`).
pub(crate) fn write_named(
    name: &str,
    path: &Path,
    reports: &[DomainReport],
    fail_on: FailOn,
    wall: Duration,
    properties: &[(&str, String)],
) -> Result<(), String> {
    let mut run = RunInfo::now_minus(wall);
    run.properties = properties
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let xml = render_named(name, reports, fail_on, &run);
    write_xml(path, &xml)
}

/// Write the file made of `suites` ([`suite_xml`]'s elements, in order) to `path`, as [`write`]
/// does, each suite as it comes: the file is never held whole (a million domains' suites made
/// a 700 MB text, on top of the suites themselves).
pub(crate) fn write_suites(
    path: &Path,
    suites: impl IntoIterator<Item = String>,
) -> Result<(), String> {
    use std::io::Write;
    let fail = |e: std::io::Error| format!("cannot write --junit {}: {e}", path.display());
    let write = |to: &Path| -> std::io::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::fs::File::create(to)?);
        out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n")?;
        for s in suites {
            out.write_all(INDENT.as_bytes())?;
            out.write_all(s.as_bytes())?;
        }
        out.write_all(b"</testsuites>\n")?;
        out.into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        Ok(())
    };
    match destination(path) {
        Destination::Directory => Err(is_a_directory(path)),
        Destination::InPlace => write(path).map_err(fail),
        Destination::Replace => {
            let tmp = path.with_extension("xml.partial");
            write(&tmp)
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(fail)
        }
    }
}

fn write_xml(path: &Path, xml: &str) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write --junit {}: {e}", path.display());
    match destination(path) {
        Destination::Directory => Err(is_a_directory(path)),
        Destination::InPlace => std::fs::write(path, xml.as_bytes()).map_err(fail),
        Destination::Replace => {
            let tmp = path.with_extension("xml.partial");
            std::fs::write(&tmp, xml.as_bytes())
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(fail)
        }
    }
}

fn is_a_directory(path: &Path) -> String {
    format!("cannot write --junit {}: it is a directory", path.display())
}

/// Can the report be written to `path` at the end? Creates and removes the temporary file
/// [`write_named`] goes through (same directory), so a run that would fail to write it can
/// stop before doing anything. What is written in place is left as it is: a symlink to a
/// directory is refused, a FIFO is not opened (that would block, or hand its reader an
/// end of file).
pub(crate) fn check_writable(path: &Path) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write --junit {}: {e}", path.display());
    match destination(path) {
        Destination::Directory => Err(is_a_directory(path)),
        Destination::InPlace => match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => Err(is_a_directory(path)),
            Ok(m) if m.is_file() => std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map(drop)
                .map_err(fail),
            // A FIFO, a device, or a symlink to nothing yet: the write at the end says.
            _ => Ok(()),
        },
        Destination::Replace => {
            let tmp = path.with_extension("xml.partial");
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)
                .map_err(fail)?;
            std::fs::remove_file(&tmp).map_err(fail)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::{CheckResult, ExpectOutcome, Judged};

    fn j(c: CheckResult, counts: bool) -> Judged {
        Judged {
            result: c,
            counts,
            waived: false,
            note: (!counts).then(|| "another MX address passes this check".to_string()),
        }
    }

    /// A run that started at 2026-12-05T12:00:00 UTC on `ci-runner`.
    fn run() -> RunInfo {
        RunInfo {
            started: std::time::UNIX_EPOCH + Duration::from_secs(1_796_472_000),
            hostname: "ci-runner".into(),
            properties: Vec::new(),
        }
    }

    fn one_report() -> DomainReport {
        DomainReport {
            index: 0,
            domain: "example.test".into(),
            checks: vec![j(
                CheckResult::new("mx.lookup", Status::Pass, "10 mx"),
                true,
            )],
            expects: Vec::new(),
            aborted: None,
            ms: 1.0,
        }
    }

    /// A symlink at the path is written through, not replaced: a CI job that collects the
    /// link's target used to keep the previous run's report there.
    #[test]
    fn a_symlinked_path_gets_the_report_at_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.xml");
        let link = dir.path().join("link.xml");
        std::fs::write(&target, "<old/>").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        check_writable(&link).unwrap();
        write(&link, &[one_report()], FailOn::Fail, Duration::ZERO).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let xml = std::fs::read_to_string(&target).unwrap();
        assert!(xml.contains(r#"<testsuite name="example.test""#), "{xml}");
        // A symlink to a directory is no place for a report.
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let to_dir = dir.path().join("to-dir.xml");
        std::os::unix::fs::symlink(&sub, &to_dir).unwrap();
        assert!(check_writable(&to_dir).unwrap_err().contains("directory"));
    }

    /// A FIFO stays a FIFO and its reader gets the report (it used to be replaced by a regular
    /// file, its reader waiting forever).
    #[test]
    fn a_fifo_gets_the_report_written_into_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("report.xml");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(std::fs::read_to_string(reader));
        });
        check_writable(&fifo).unwrap();
        write(&fifo, &[one_report()], FailOn::Fail, Duration::ZERO).unwrap();
        let xml = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the FIFO's reader got nothing")
            .unwrap();
        assert!(xml.contains(r#"<testsuite name="example.test""#), "{xml}");
        use std::os::unix::fs::FileTypeExt;
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo()
        );
    }

    /// `ehlo probe`'s report says `inconclusive` where `ehlo check`'s says `error` (its human
    /// report and JSON do): the `<system-out>` lines said `smuggle.lf-lf: error: …`.
    #[test]
    fn a_probe_report_says_inconclusive_in_its_lines() {
        let mut r = one_report();
        r.checks = vec![j(
            CheckResult::new("smuggle.lf-lf", Status::Error, "no eod reply"),
            true,
        )];
        r.aborted = Some("deadline reached".into());
        let xml = render_named("ehlo probe", std::slice::from_ref(&r), FailOn::Fail, &run());
        assert!(
            xml.contains("smuggle.lf-lf: inconclusive: no eod reply"),
            "{xml}"
        );
        assert!(
            xml.contains("domain: inconclusive: deadline reached"),
            "{xml}"
        );
        assert!(!xml.contains(": error: "), "{xml}");
        // The element stays an <error> (JUnit's word for "not tested").
        assert!(xml.contains("<error message=\"no eod reply\""), "{xml}");
        let xml = render_named("ehlo check", &[r], FailOn::Fail, &run());
        assert!(xml.contains("smuggle.lf-lf: error: no eod reply"), "{xml}");
    }

    #[test]
    fn statuses_map_to_junit_elements() {
        let mut on_mx = CheckResult::new("tls.starttls", Status::Fail, "not offered");
        on_mx.mx = Some("mx.example.test".into());
        on_mx.ip = Some("192.0.2.1".into());
        let r = DomainReport {
            index: 0,
            domain: "example.test".into(),
            checks: vec![
                j(CheckResult::new("mx.lookup", Status::Pass, "10 mx"), true),
                j(on_mx, true),
                j(
                    CheckResult::new("smtp.banner", Status::Error, "421 busy"),
                    true,
                ),
                j(
                    CheckResult::new("dmarc.record", Status::Warn, "p=none"),
                    true,
                ),
                j(CheckResult::new("mtasts.txt", Status::Info, "none"), true),
                j(
                    CheckResult::new("smtp.connect", Status::Fail, "refused"),
                    false,
                ),
            ],
            expects: vec![ExpectOutcome {
                expect: "mx.count>=2".into(),
                met: false,
                found: "1".into(),
                undecided: None,
            }],
            aborted: None,
            ms: 12.0,
        };
        let xml = render(std::slice::from_ref(&r), FailOn::Fail, &run());
        assert!(
            xml.contains(
                r#"<testsuite name="example.test" tests="7" skipped="1" errors="1" failures="2""#
            ),
            "{xml}"
        );
        // Package = the domain, class = what the test is about; host and address in the name.
        assert!(
            xml.contains(
                r#"<testcase name="tls.starttls mx.example.test [192.0.2.1]" classname="example.test.mx" time="0.000">"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<testcase name="mx.lookup" classname="example.test.domain" time="0.000"/>"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<testcase name="mx.count&gt;=2" classname="example.test.expect" time="0.000">"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<failure message="not offered" type="tls.starttls">"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<error message="421 busy" type="smtp.banner">"#),
            "{xml}"
        );
        assert!(xml.contains("<skipped"), "{xml}");
        assert!(xml.contains("expected mx.count&gt;=2, found 1"), "{xml}");
        assert!(xml.contains("not counted: another MX"), "{xml}");
        let strict = render(&[r], FailOn::Warn, &run());
        assert!(strict.contains(r#"failures="3""#), "{strict}");
    }

    /// Each suite has its domain's own time (domains run at once, so their sum is not the
    /// run's), the run's start as the Ant schema's zone-less `timestamp`, the host, `package` and
    /// `id`; every case a `time`, `0` when the result was not timed (none was written).
    #[test]
    fn suites_carry_timestamp_hostname_and_every_case_a_time() {
        let domain = |i: usize, d: &str| {
            let mut timed = CheckResult::new("smtp.connect", Status::Pass, "open");
            timed.ms = Some(12.0);
            DomainReport {
                index: i,
                domain: d.into(),
                checks: vec![
                    j(CheckResult::new("mx.lookup", Status::Pass, "10 mx"), true),
                    j(timed, true),
                ],
                expects: Vec::new(),
                aborted: None,
                ms: 1000.0,
            }
        };
        let reports = [domain(0, "a.test"), domain(1, "b.test")];
        let xml = render(&reports, FailOn::Fail, &run());
        for (i, d) in ["a.test", "b.test"].iter().enumerate() {
            let suite = format!(
                r#"<testsuite name="{d}" tests="2" skipped="0" errors="0" failures="0" time="1.000" timestamp="2026-12-05T12:00:00" hostname="ci-runner" package="{d}" id="{i}">"#
            );
            assert!(xml.contains(&suite), "{suite} in {xml}");
        }
        assert!(xml.contains("<testsuites>"), "{xml}");
        assert_eq!(xml.matches(r#"time="0.000"/>"#).count(), 2, "{xml}");
        assert_eq!(xml.matches(r#"time="0.012"/>"#).count(), 2, "{xml}");
        assert!(xml.matches("<testcase ").count() == 4, "{xml}");
        assert_eq!(xml.matches(" time=").count(), 6, "{xml}");
    }

    /// A domain written as an absolute name (`example.test.`, as a list may hold it) is the
    /// same package as `example.test`: its classnames were `example.test..domain`, which a CI
    /// page split into package `example.test.` (an empty label) and class `domain`. The suite's
    /// name keeps the domain as written.
    #[test]
    fn a_trailing_dot_makes_no_empty_label_in_classname_or_package() {
        let r = DomainReport {
            index: 0,
            domain: "Example.test.".into(),
            checks: vec![j(
                CheckResult::new("mx.lookup", Status::Pass, "10 mx"),
                true,
            )],
            expects: vec![ExpectOutcome {
                expect: "mx.count>=1".into(),
                met: true,
                found: "1".into(),
                undecided: None,
            }],
            aborted: None,
            ms: 1.0,
        };
        let xml = render(&[r], FailOn::Fail, &run());
        assert!(!xml.contains(".."), "{xml}");
        assert!(xml.contains(r#"<testsuite name="Example.test." "#), "{xml}");
        assert!(xml.contains(r#"package="Example.test" "#), "{xml}");
        assert!(xml.contains(r#"classname="Example.test.domain""#), "{xml}");
        assert!(xml.contains(r#"classname="Example.test.expect""#), "{xml}");
    }

    /// The file keeps to junit-10.xsd (the Jenkins xunit plugin's schema) and the Ant JUnit
    /// schema: no attribute on `<testsuites>` (`skipped` is in neither), no `<properties>` or
    /// `<system-out>` in a `<testcase>`; each `<testsuite>` has its counts, `<properties>`,
    /// `<system-out>` and `<system-err>`.
    #[test]
    fn the_xml_keeps_to_the_jenkins_and_ant_schemas() {
        let r = DomainReport {
            index: 0,
            domain: "example.test".into(),
            checks: vec![
                j(CheckResult::new("mx.lookup", Status::Pass, "10 mx"), true),
                j(CheckResult::new("mtasts.txt", Status::Info, "none"), true),
            ],
            expects: Vec::new(),
            aborted: None,
            ms: 1.0,
        };
        let xml = render(&[r], FailOn::Fail, &run());
        let root = xml.lines().find(|l| l.contains("<testsuites")).unwrap();
        assert_eq!(root, "<testsuites>");
        assert!(xml.contains(r#"skipped="1""#), "{xml}");
        // Each result's line in the suite's output, none in a test case (the Ant schema).
        assert!(
            xml.contains(
                "<system-out>mx.lookup: pass: 10 mx (RFC 5321 §5.1)\nmtasts.txt: info: none"
            ),
            "{xml}"
        );
        assert_eq!(xml.matches("<system-out>").count(), 1, "{xml}");
        assert!(xml.contains("<system-err"), "{xml}");
        assert!(
            xml.contains(
                r#"<properties>
            <property name="ehlo.report" value="ehlo check"/>
            <property name="ehlo.version""#
            ),
            "{xml}"
        );
    }

    /// Every (classname, name) pair is unique: `mx.target` of two MX hosts was once two test
    /// cases `mx.target` of classname `example.test`; a repeated `--expect` gets ` #2`.
    #[test]
    fn test_case_names_are_unique_within_the_report() {
        let target = |mx: &str| {
            let mut c = CheckResult::new("mx.target", Status::Pass, "an address");
            c.mx = Some(mx.into());
            j(c, true)
        };
        let unmet = ExpectOutcome {
            expect: "mx.count>=3".into(),
            met: false,
            found: "2".into(),
            undecided: None,
        };
        let r = DomainReport {
            index: 0,
            domain: "example.test".into(),
            checks: vec![target("a.example.test"), target("b.example.test")],
            expects: vec![unmet.clone(), unmet],
            aborted: None,
            ms: 1.0,
        };
        let xml = render(&[r], FailOn::Fail, &run());
        for case in [
            r#"<testcase name="mx.target a.example.test" classname="example.test.mx" time="0.000"/>"#,
            r#"<testcase name="mx.target b.example.test" classname="example.test.mx" time="0.000"/>"#,
            r#"<testcase name="mx.count&gt;=3" classname="example.test.expect" time="0.000">"#,
            r#"<testcase name="mx.count&gt;=3 #2" classname="example.test.expect" time="0.000">"#,
        ] {
            assert!(xml.contains(case), "{case} in {xml}");
        }
        assert!(
            xml.contains(r#"tests="4" skipped="0" errors="0" failures="2""#),
            "{xml}"
        );
    }

    /// A server's text holding U+FFFE or U+FFFF (a greeting, a policy line) is written so that
    /// the file stays XML: every character of it within XML 1.0's `Char` production.
    #[test]
    fn noncharacters_from_a_server_keep_the_file_well_formed() {
        let r = DomainReport {
            index: 0,
            domain: "example.test".into(),
            checks: vec![j(
                CheckResult::new("smtp.banner", Status::Fail, "220 mx \u{fffe}\u{ffff} ESMTP")
                    .with("text", "\u{fffe}"),
                true,
            )],
            expects: Vec::new(),
            aborted: None,
            ms: 1.0,
        };
        let xml = render(&[r], FailOn::Fail, &run());
        let bad: Vec<char> = xml
            .chars()
            .filter(|&c| {
                !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
            })
            .collect();
        assert!(bad.is_empty(), "{bad:?} in {xml}");
        assert!(xml.contains("220 mx \\u{fffe}\\u{ffff} ESMTP"), "{xml}");
    }

    /// Control and invisible characters in a server's text are written as the human report
    /// shows them: they were dropped (C0, an ANSI colour's ESC) or passed through (DEL, C1,
    /// bidi overrides, U+061C and U+2028 until later), so the CI page showed a greeting other
    /// than the one sent.
    #[test]
    fn control_characters_from_a_server_are_escaped_as_in_the_report() {
        let text = "220 \u{1}\u{1b}[31mRED \u{7f}\u{85}\u{202e}\u{61c}\u{2028}x ]]> <&";
        let r = DomainReport {
            index: 0,
            domain: "example.test".into(),
            checks: vec![j(
                CheckResult::new("smtp.banner", Status::Fail, text).with("text", text),
                true,
            )],
            expects: vec![ExpectOutcome {
                expect: "smtp.banner=pass".into(),
                met: false,
                found: format!("fail ({text})"),
                undecided: None,
            }],
            aborted: None,
            ms: 1.0,
        };
        let xml = render(&[r], FailOn::Fail, &run());
        let shown =
            "220 \\x01\\x1B[31mRED \\x7F\\u{0085}\\u{202E}\\u{061C}\\u{2028}x ]]&gt; &lt;&amp;";
        // The failure's message, its text, the suite's output line, the expectation's message.
        assert!(xml.matches(shown).count() >= 4, "{xml}");
        for raw in [
            '\u{1}', '\u{1b}', '\u{7f}', '\u{85}', '\u{202e}', '\u{61c}', '\u{2028}',
        ] {
            assert!(!xml.contains(raw), "{raw:?} in {xml}");
        }
        assert_eq!(
            crate::render::human::escape_str(text),
            shown
                .replace("&gt;", ">")
                .replace("&lt;", "<")
                .replace("&amp;", "&")
        );
    }
    /// The whole file, byte for byte: the layout CI tools and the tests read (one element per
    /// line, four spaces a level, a failure's text inside its element, attributes in this
    /// order), as quick-junit wrote it before ehlo wrote it itself.
    #[test]
    fn the_file_has_one_element_per_line_in_a_fixed_layout() {
        let mut on_mx = CheckResult::new("tls.starttls", Status::Fail, "not 'offered'");
        on_mx.mx = Some("mx.example.test".into());
        on_mx.ms = Some(1234.5);
        let r = DomainReport {
            index: 0,
            domain: "example.test".into(),
            checks: vec![
                j(CheckResult::new("mx.lookup", Status::Pass, "10 mx"), true),
                j(on_mx, true),
                j(CheckResult::new("mtasts.txt", Status::Info, "none"), true),
            ],
            expects: vec![ExpectOutcome {
                expect: "mx.count>=2".into(),
                met: false,
                found: "1".into(),
                undecided: None,
            }],
            aborted: None,
            ms: 2000.0,
        };
        let xml = render(&[r], FailOn::Fail, &run());
        let version = env!("CARGO_PKG_VERSION");
        let want = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
    <testsuite name="example.test" tests="4" skipped="1" errors="0" failures="2" time="2.000" timestamp="2026-12-05T12:00:00" hostname="ci-runner" package="example.test" id="0">
        <properties>
            <property name="ehlo.report" value="ehlo check"/>
            <property name="ehlo.version" value="{version}"/>
        </properties>
        <testcase name="mx.lookup" classname="example.test.domain" time="0.000"/>
        <testcase name="tls.starttls mx.example.test" classname="example.test.mx" time="1.234">
            <failure message="not &apos;offered&apos;" type="tls.starttls">fail: not &apos;offered&apos; (RFC 3207 §4)
{{}}</failure>
        </testcase>
        <testcase name="mtasts.txt" classname="example.test.domain" time="0.000">
            <skipped>none</skipped>
        </testcase>
        <testcase name="mx.count&gt;=2" classname="example.test.expect" time="0.000">
            <failure message="expected mx.count&gt;=2, found 1" type="expect">expected mx.count&gt;=2, found 1</failure>
        </testcase>
        <system-out>mx.lookup: pass: 10 mx (RFC 5321 §5.1)
tls.starttls mx.example.test: fail: not &apos;offered&apos; (RFC 3207 §4)
mtasts.txt: info: none (RFC 8461 §3.1)
expect mx.count&gt;=2: not met (found 1)
</system-out>
        <system-err></system-err>
    </testsuite>
</testsuites>
"#
        );
        assert_eq!(xml, want);
    }

    /// Every `<failure>`, `<error>` and `<skipped>` holds its reason as text, and `<skipped>` has
    /// no attribute. GitLab shows only that text (Rails' `Hash.from_xml` made an element with
    /// attributes and no text the attribute hash, shown instead of the reason), and Jenkins'
    /// `junit-4.xsd` allows no attribute on `<skipped>`: an unmet `--expect`, a domain cut by
    /// `--deadline` and every skipped or info result were written that way.
    #[test]
    fn every_outcome_element_holds_its_reason_as_text() {
        let r = DomainReport {
            index: 0,
            domain: "example.test".into(),
            checks: vec![
                j(CheckResult::new("mtasts.txt", Status::Info, "none"), true),
                j(CheckResult::new("dane.tlsa", Status::Skip, "no TLSA"), true),
                j(
                    CheckResult::new("smtp.banner", Status::Error, "421 busy"),
                    true,
                ),
            ],
            expects: vec![ExpectOutcome {
                expect: "mx.count>=2".into(),
                met: false,
                found: "1".into(),
                undecided: None,
            }],
            aborted: Some("deadline reached (--deadline)".into()),
            ms: 1.0,
        };
        let xml = render(&[r], FailOn::Fail, &run());
        for want in [
            "<skipped>none</skipped>",
            "<skipped>no TLSA</skipped>",
            r#"type="expect">expected mx.count&gt;=2, found 1</failure>"#,
            r#"<error message="deadline reached (--deadline)" type="aborted">deadline reached (--deadline)</error>"#,
            r#"type="smtp.banner">error: 421 busy"#,
        ] {
            assert!(xml.contains(want), "{want} in {xml}");
        }
        for element in ["failure", "error", "skipped"] {
            let open = format!("<{element}");
            for l in xml.lines().filter(|l| l.trim_start().starts_with(&open)) {
                assert!(!l.ends_with("/>"), "{l} has no text");
            }
        }
        assert!(!xml.contains("<skipped "), "{xml}");
        assert_eq!(xml.matches("<skipped>").count(), 2, "{xml}");
    }

    /// A name ehlo does not escape before writing it (a domain that is no domain name, as
    /// given on the command line) is written as the human report shows it, not silently cut
    /// down: `\x1B[31m` stays visible, and the file stays XML 1.0.
    #[test]
    fn control_characters_in_a_given_name_are_escaped_not_dropped() {
        let r = DomainReport {
            index: 0,
            domain: "a\u{1b}[31mb\u{7}\tc\u{ffff}".into(),
            checks: Vec::new(),
            expects: Vec::new(),
            aborted: Some("not a domain name".into()),
            ms: 0.0,
        };
        let xml = render(&[r], FailOn::Fail, &run());
        assert!(
            xml.contains(r#"<testsuite name="a\x1B[31mb\x07\x09c\u{ffff}" tests="1""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"classname="a\x1B[31mb\x07\x09c\u{ffff}.domain""#),
            "{xml}"
        );
        assert!(
            !xml.contains(['\u{1b}', '\u{7}', '\t', '\u{ffff}']),
            "{xml}"
        );
    }
}
