//! `ehlo check --junit FILE`: the reports as JUnit XML (quick-junit, the writer cargo-nextest
//! uses), for GitLab `artifacts:reports:junit`, Jenkins and friends. One `<testsuite>` per domain,
//! one `<testcase>` per check with `classname` = `DOMAIN` for domain checks, `DOMAIN.MX` for
//! per-host ones (`mx.target`) and `DOMAIN.MX[IP]` for per-address ones; a (classname, name) pair
//! that would repeat gets ` #2`, ` #3`… on its name. fail → `<failure>`, error (could not test) → `<error>`,
//! skip and info → `<skipped>`, warn → a pass with the finding in `<system-out>` (a `<failure>`
//! under `--fail-on warn`). A waived or uncounted result is a pass with its note. The file
//! keeps to junit-10.xsd, the JUnit schema the Jenkins xunit plugin validates reports against. An unmet
//! `--expect` is its own failing test case; a domain that could not be checked at all is one
//! `<error>` test case.

use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::check::model::{DomainReport, FailOn, Status};

/// Build the XML; `wall` is how long the whole run took.
#[cfg(test)]
pub(crate) fn render(
    reports: &[DomainReport],
    fail_on: FailOn,
    wall: Duration,
) -> Result<String, String> {
    render_named("ehlo check", reports, fail_on, wall)
}

/// [`render`] under another report name (`ehlo probe`). The top-level `time` is the run's wall
/// time, not the sum of the domains' times: domains are checked at once (`--concurrency`), so
/// the sum can be many times what the run took. Each `<testsuite>` keeps its domain's own time.
pub(crate) fn render_named(
    name: &str,
    reports: &[DomainReport],
    fail_on: FailOn,
    wall: Duration,
) -> Result<String, String> {
    let mut report = Report::new(name);
    let mut unique = Unique::default();
    for r in reports {
        let mut suite = TestSuite::new(r.domain.as_str());
        suite.set_time(Duration::from_secs_f64(r.ms.max(0.0) / 1000.0));
        if let Some(why) = &r.aborted {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
            st.set_message(why.as_str()).set_type("aborted");
            let mut tc = TestCase::new("domain", st);
            tc.set_classname(r.domain.as_str());
            suite.add_test_case(tc);
        }
        for j in &r.checks {
            let c = &j.result;
            let failing = j.counts
                && (c.status == Status::Fail
                    || (c.status == Status::Warn && fail_on == FailOn::Warn));
            let mut status = if failing {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(c.summary.as_str()).set_type(c.id);
                s
            } else if c.status == Status::Error && j.counts {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(c.summary.as_str()).set_type(c.id);
                s
            } else if matches!(c.status, Status::Skip | Status::Info) {
                let mut s = TestCaseStatus::skipped();
                s.set_message(c.summary.as_str());
                s
            } else {
                TestCaseStatus::success()
            };
            if matches!(status, TestCaseStatus::NonSuccess { .. }) {
                // The evidence as the failure's text: what a CI page shows under the message.
                status.set_description(serde_json::Value::Object(c.evidence.clone()).to_string());
            }
            // A result about one MX host but no one address (`mx.target`) is that host's: with
            // the domain alone as its classname, two MX hosts gave two test cases of one name.
            let class = match (&c.mx, &c.ip) {
                (Some(mx), Some(ip)) => format!("{}.{mx}[{ip}]", r.domain),
                (Some(mx), None) => format!("{}.{mx}", r.domain),
                _ => r.domain.clone(),
            };
            let mut tc = TestCase::new(unique.name(&class, c.id), status);
            tc.set_classname(class);
            if let Some(ms) = c.ms {
                tc.set_time(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
            }
            // The status and the RFC in the text, not as `<properties>`: the Jenkins xunit
            // plugin's JUnit schema (junit-10.xsd) allows no `<properties>` in a `<testcase>`.
            let mut out = format!("{}: {}", c.status.name(), c.summary);
            if !c.rfc().is_empty() {
                out.push_str(&format!(" ({})", c.rfc()));
            }
            if let Some(note) = &j.note {
                out.push_str(&format!(" (not counted: {note})"));
            }
            tc.set_system_out(out);
            suite.add_test_case(tc);
        }
        for e in &r.expects {
            let status = if e.met {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!("expected {}, found {}", e.expect, e.found))
                    .set_type("expect");
                s
            };
            let name = unique.name(&r.domain, &format!("expect {}", e.expect));
            let mut tc = TestCase::new(name, status);
            tc.set_classname(r.domain.as_str());
            suite.add_test_case(tc);
        }
        report.add_test_suite(suite);
    }
    report.set_time(wall);
    let xml = report.to_string().map_err(|e| e.to_string())?;
    Ok(without_root_skipped(xml_chars_only(xml)))
}

/// Keeps every (classname, name) pair of a report unique: a CI page merges or hides test cases
/// that share both (GitLab keys its test list on them, Jenkins its history). A repeat (the same
/// `--expect` given twice) gets ` #2`, ` #3`… on its name, in the order of the report.
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

/// The XML with U+FFFE and U+FFFF written as `\u{fffe}` and `\u{ffff}`: XML 1.0 has no such
/// characters (its `Char` production, §2.2, stops at U+FFFD), not even as references, so a
/// parser rejects the whole file, and a server's text (a greeting, a policy line, a TXT record)
/// may hold them. quick-junit drops the C0 controls XML excludes but passes these through.
fn xml_chars_only(xml: String) -> String {
    if !xml.contains(['\u{fffe}', '\u{ffff}']) {
        return xml;
    }
    xml.replace('\u{fffe}', "\\u{fffe}")
        .replace('\u{ffff}', "\\u{ffff}")
}

/// The XML without the `skipped` count quick-junit always puts on `<testsuites>`: junit-10.xsd
/// (the Jenkins xunit plugin's JUnit schema, which it validates reports against) has no such
/// attribute there. Each `<testsuite>` keeps its own.
fn without_root_skipped(xml: String) -> String {
    let Some(start) = xml.find("<testsuites ") else {
        return xml;
    };
    let end = xml[start..].find('>').map_or(xml.len(), |e| start + e);
    let tag = &xml[start..end];
    let Some(at) = tag.find(" skipped=\"") else {
        return xml;
    };
    let value_end = tag[at + 10..]
        .find('"')
        .map_or(tag.len(), |e| at + 10 + e + 1);
    let mut out = xml[..start + at].to_string();
    out.push_str(&xml[start + value_end..]);
    out
}

/// Write the XML to `path` (through a temporary file in the same directory, so a reader never
/// sees half a report); `wall` is how long the whole run took.
pub(crate) fn write(
    path: &Path,
    reports: &[DomainReport],
    fail_on: FailOn,
    wall: Duration,
) -> Result<(), String> {
    write_named("ehlo check", path, reports, fail_on, wall)
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
) -> Result<(), String> {
    let xml = render_named(name, reports, fail_on, wall)?;
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
            }],
            aborted: None,
            ms: 12.0,
        };
        let xml = render(std::slice::from_ref(&r), FailOn::Fail, Duration::ZERO).unwrap();
        assert!(
            xml.contains(
                r#"<testsuite name="example.test" tests="7" skipped="1" errors="1" failures="2""#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"classname="example.test.mx.example.test[192.0.2.1]""#),
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
        let strict = render(&[r], FailOn::Warn, Duration::ZERO).unwrap();
        assert!(strict.contains(r#"failures="3""#), "{strict}");
    }

    /// Domains run at once: the report's `time` is the run's wall time, each suite keeps its
    /// own (the sum, 3 s here, would be three times what the run took).
    #[test]
    fn the_top_level_time_is_the_wall_time_not_the_sum() {
        let domain = |i: usize, d: &str| DomainReport {
            index: i,
            domain: d.into(),
            checks: vec![j(
                CheckResult::new("mx.lookup", Status::Pass, "10 mx"),
                true,
            )],
            expects: Vec::new(),
            aborted: None,
            ms: 1000.0,
        };
        let reports = [
            domain(0, "a.test"),
            domain(1, "b.test"),
            domain(2, "c.test"),
        ];
        let xml = render(&reports, FailOn::Fail, Duration::from_millis(1200)).unwrap();
        let top = xml
            .lines()
            .find(|l| l.contains("<testsuites "))
            .unwrap_or_else(|| panic!("{xml}"));
        assert!(top.contains(r#"time="1.200""#), "{top}");
        assert_eq!(xml.matches(r#"<testsuite name="#).count(), 3, "{xml}");
        assert_eq!(
            xml.lines()
                .filter(|l| l.contains("<testsuite ") && l.contains(r#"time="1.000""#))
                .count(),
            3,
            "{xml}"
        );
    }

    /// The file validates against junit-10.xsd, the JUnit schema of the Jenkins xunit plugin:
    /// no `skipped` on `<testsuites>` and no `<properties>` in a `<testcase>` (both were
    /// written); each `<testsuite>` keeps its `skipped` count.
    #[test]
    fn the_xml_keeps_to_the_jenkins_xunit_schema() {
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
        let xml = render(&[r], FailOn::Fail, Duration::from_millis(1)).unwrap();
        let root = xml.lines().find(|l| l.contains("<testsuites")).unwrap();
        assert_eq!(
            root,
            r#"<testsuites name="ehlo check" tests="2" failures="0" errors="0" time="0.001">"#
        );
        assert!(!xml.contains("<properties"), "{xml}");
        assert!(xml.contains(r#"skipped="1""#), "{xml}");
        assert!(
            xml.contains("<system-out>pass: 10 mx (RFC 5321 §5.1)</system-out>"),
            "{xml}"
        );
    }

    /// Every (classname, name) pair is unique: `mx.target` of two MX hosts used to be two test
    /// cases `mx.target` of classname `example.test`, and a repeated `--expect` two alike.
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
        };
        let r = DomainReport {
            index: 0,
            domain: "example.test".into(),
            checks: vec![target("a.example.test"), target("b.example.test")],
            expects: vec![unmet.clone(), unmet],
            aborted: None,
            ms: 1.0,
        };
        let xml = render(&[r], FailOn::Fail, Duration::from_millis(1)).unwrap();
        for case in [
            r#"<testcase name="mx.target" classname="example.test.a.example.test">"#,
            r#"<testcase name="mx.target" classname="example.test.b.example.test">"#,
            r#"<testcase name="expect mx.count&gt;=3" classname="example.test">"#,
            r#"<testcase name="expect mx.count&gt;=3 #2" classname="example.test">"#,
        ] {
            assert!(xml.contains(case), "{case} in {xml}");
        }
        assert!(xml.contains(r#"tests="4" failures="2""#), "{xml}");
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
        let xml = render(&[r], FailOn::Fail, Duration::from_millis(1)).unwrap();
        let bad: Vec<char> = xml
            .chars()
            .filter(|&c| {
                !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
            })
            .collect();
        assert!(bad.is_empty(), "{bad:?} in {xml}");
        assert!(xml.contains("220 mx \\u{fffe}\\u{ffff} ESMTP"), "{xml}");
    }
}
