//! `ehlo serve`'s `--fail`, `--delay`, `--hide` and `--quirk` values: their grammar, help text
//! and usage errors, parsed once at start (so a typo is a usage error rather than a silent
//! no-op) into the typed [`Faults`] and [`Quirks`] the server core takes.
//!
//! `--fail` grammar (also its help text, [`FAIL_HELP`]):
//!
//! ```text
//! POINT[#N]=CODE[:X.Y.Z[:TEXT]]   reply CODE (400-599) instead of the normal reply
//! POINT[#N]=drop                  close the connection without replying
//! banner=silent                   never send a banner (the client must time out)
//! banner=garbage                  send a banner line that has no reply code
//! bare-lf                         end every reply line with a bare LF instead of CRLF
//! trickle[=MS]                    write replies 1 byte at a time, MS ms apart (default 1000)
//! hide=EXT                        do not advertise EXT (same as --hide EXT)
//! ```
//!
//! POINT is one of `connect` (alias `banner`), `helo` (EHLO, HELO and LHLO; alias `ehlo`, `lhlo`),
//! `starttls`, `auth` (the verdict after the credentials), `mail`, `rcpt`, `data` (the reply to
//! DATA), `dot` (the reply after the content; also the final BDAT LAST), `bdat`, `rset`, `noop`,
//! `vrfy`, `quit`, and with `--lmtp` `lmtp-rcpt`: one recipient's own reply after the content
//! (RFC 2033 §4.2), the others still get `250` and the message is stored for them. `#N`
//! (1-based) limits the fault to the Nth such command of each connection (for `lmtp-rcpt`: the
//! Nth accepted recipient of the transaction; `connect` happens once, so only `#1`); without it
//! every one is affected. The enhanced code's class must be the reply code's (RFC 3463 §2).
//! The first matching spec wins, so a later one for commands an earlier one already matches
//! (`rcpt#2` after `rcpt`) could never apply and is refused, as is `connect#2`.
//!
//! `--delay POINT[#N]:MS` waits MS milliseconds before the reply at POINT (`connect` delays the
//! banner).

use crate::smtp::reply::parse_enhanced;
use crate::smtp::server::fault::Delay;
use crate::smtp::server::{BannerMode, Fault, FaultAction, Faults, Point, Quirks};

/// The `--fail` help text (grammar summary), for the CLI.
pub(crate) const FAIL_HELP: &str = "\
Inject a fault (repeatable). SPEC is one of:
  POINT[#N]=CODE[:X.Y.Z[:TEXT]]  reply CODE (400-599) instead of the normal reply
  POINT[#N]=drop                 close the connection without replying
  banner=silent                  never send a banner
  banner=garbage                 send a banner line without a reply code
  bare-lf                        end reply lines with a bare LF
  trickle[=MS]                   write replies a byte at a time, MS ms apart (1000)
  hide=EXT                       do not advertise EXT (like --hide)
POINT: connect, helo, starttls, auth, mail, rcpt, data, dot (after the content), bdat, rset, \
noop, vrfy, quit; with --lmtp also lmtp-rcpt (one recipient's reply after the content, RFC \
2033: the others get 250). #N: only the Nth such command of each connection (lmtp-rcpt: the \
Nth recipient of the transaction; connect happens once). Without X.Y.Z the reply carries the \
class's X.0.0 (ENHANCEDSTATUSCODES is advertised), except at connect and helo; X.Y.Z's class \
must be the code's (RFC 3463). A 421 reply also closes the connection; another connect reply \
leaves it open with no service (503 to all but QUIT, RFC 5321 §3.1). The first matching spec \
wins: one that could never apply (connect#2, rcpt#2 after rcpt, banner=silent with \
connect=…, starttls without --starttls, auth without --user) is refused.
Examples: rcpt=550:5.1.1  rcpt#2=452  dot=552:5.3.4  connect=421  mail=drop  \
lmtp-rcpt#2=552:5.2.2";

/// A `connect` fault and a banner mode given together: the fault is the greeting, so the banner
/// mode could never apply, whichever came first.
fn banner_conflict(banner: &str, connect: &str) -> FaultError {
    FaultError(format!(
        "--fail {banner:?} can never apply with --fail {connect:?}: the connect fault replaces the greeting (give one)"
    ))
}

/// The `--quirk` help text.
pub(crate) const QUIRK_HELP: &str = "\
Behave like a vulnerable MTA (repeatable), for testing safety probes:
  bare-lf-dot     a bare LF ends a line in DATA: <LF>.<LF> ends the message (SMTP smuggling)
  starttls-keep   execute plaintext pipelined after STARTTLS inside TLS (CVE-2011-0411)
  disclose-users  VRFY/EXPN answer 250 for a --user name and 550 for anyone else
  answer-unsynced with --hide PIPELINING, answer commands pipelined anyway (default: 554 and close)";

/// Names `--quirk` accepts.
pub(crate) const QUIRK_NAMES: &[&str] = &[
    "bare-lf-dot",
    "starttls-keep",
    "disclose-users",
    "answer-unsynced",
];

/// Extensions `--hide` understands (`ESMTP` makes EHLO fail so clients fall back to HELO).
pub(crate) const HIDEABLE: &[&str] = &[
    "PIPELINING",
    "SIZE",
    "8BITMIME",
    "SMTPUTF8",
    "ENHANCEDSTATUSCODES",
    "CHUNKING",
    "DSN",
    "STARTTLS",
    "AUTH",
    "ESMTP",
];

/// The point a spec names (aliases included).
fn point(s: &str) -> Option<Point> {
    Some(match s.to_ascii_lowercase().as_str() {
        "connect" | "banner" => Point::Connect,
        "helo" | "ehlo" | "lhlo" => Point::Helo,
        "starttls" | "tls" => Point::StartTls,
        "auth" => Point::Auth,
        "mail" => Point::Mail,
        "rcpt" => Point::Rcpt,
        "data" => Point::Data,
        "dot" | "." => Point::Dot,
        "bdat" => Point::Bdat,
        "rset" => Point::Rset,
        "noop" => Point::Noop,
        "vrfy" => Point::Vrfy,
        "quit" => Point::Quit,
        "lmtp-rcpt" | "lmtp_rcpt" | "lmtprcpt" => Point::LmtpRcpt,
        _ => return None,
    })
}

/// Longest reply text accepted in a spec (keeps a reply line well under 512 octets).
const MAX_TEXT: usize = 400;

fn point_and_nth(s: &str, whole: &str, flag: &str) -> Result<(Point, Option<u32>), FaultError> {
    let (point, nth) = point_and_nth_as_given(s, whole, flag)?;
    if point == Point::Connect && nth.is_some_and(|n| n > 1) {
        // Counts run per connection, and a connection is greeted once.
        return Err(FaultError(format!(
            "{flag} {whole:?}: a connection is greeted once, so connect#N can never happen for N > 1 (use connect or connect#1)"
        )));
    }
    Ok((point, nth))
}

/// Does an earlier spec for `point` (every occurrence, or the same `#N`) already match all
/// that `nth` does? Then the later one can never apply: the first match wins.
fn shadows(earlier_nth: Option<u32>, nth: Option<u32>) -> bool {
    earlier_nth.is_none() || earlier_nth == nth
}

fn point_and_nth_as_given(
    s: &str,
    whole: &str,
    flag: &str,
) -> Result<(Point, Option<u32>), FaultError> {
    let (name, nth) = match s.split_once('#') {
        Some((n, k)) => {
            let k: u32 = k.parse().ok().filter(|k| *k > 0).ok_or_else(|| {
                FaultError(format!(
                    "{flag} {whole:?}: #N must be a positive number, got {k:?}"
                ))
            })?;
            (n, Some(k))
        }
        None => (s, None),
    };
    let point = point(name).ok_or_else(|| {
        FaultError(format!(
            "{flag} {whole:?}: unknown point {name:?} (expected connect, helo, starttls, auth, mail, rcpt, data, dot, bdat, rset, noop, vrfy, quit or lmtp-rcpt)"
        ))
    })?;
    Ok((point, nth))
}

fn parse_hide(ext: &str, whole: &str) -> Result<String, FaultError> {
    let up = ext.trim().to_ascii_uppercase();
    if HIDEABLE.contains(&up.as_str()) {
        Ok(up)
    } else {
        Err(FaultError(format!(
            "hide {whole:?}: unknown extension {ext:?} (expected one of {})",
            HIDEABLE.join(", ")
        )))
    }
}

/// A value that does not follow the grammar: one line naming the bad spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FaultError(pub(crate) String);

impl std::fmt::Display for FaultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parse `--fail`, `--delay` and `--hide` values. The error is one line naming the bad spec.
pub(crate) fn faults(
    fails: &[String],
    delays: &[String],
    hide: &[String],
) -> Result<Faults, FaultError> {
    let mut p = Parsing::default();
    for spec in fails {
        p.add_fail(spec)?;
    }
    for spec in delays {
        p.add_delay(spec)?;
    }
    for h in hide {
        let up = parse_hide(h, h)?;
        p.hide(up);
    }
    Ok(p.f)
}

/// Parse the `--quirk` values; an unknown name is an error naming the known ones.
pub(crate) fn quirks(names: &[String]) -> Result<Quirks, String> {
    let mut q = Quirks::default();
    for n in names {
        match n.trim().to_ascii_lowercase().as_str() {
            "bare-lf-dot" => q.bare_lf_dot = true,
            "starttls-keep" => q.starttls_keep = true,
            "disclose-users" => q.disclose_users = true,
            "answer-unsynced" => q.answer_unsynced = true,
            other => {
                return Err(format!(
                    "--quirk: unknown quirk '{other}'; known: {}",
                    QUIRK_NAMES.join(", ")
                ));
            }
        }
    }
    Ok(q)
}

/// The faults parsed so far, with the specs as typed (quoted by the errors about a later one).
#[derive(Default)]
struct Parsing {
    f: Faults,
    /// Each fault's spec as typed, index for index with `f.faults`.
    specs: Vec<String>,
    /// The spec that set the banner mode, if any.
    banner_spec: Option<String>,
}

impl Parsing {
    fn hide(&mut self, up: String) {
        if !self.f.hide.contains(&up) {
            self.f.hide.push(up);
        }
    }

    fn add_fail(&mut self, spec: &str) -> Result<(), FaultError> {
        let s = spec.trim();
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "bare-lf" | "bare_lf" | "barelf" => {
                self.f.bare_lf = true;
                return Ok(());
            }
            "trickle" => {
                self.f.trickle = Some(1000);
                return Ok(());
            }
            "banner=silent" | "connect=silent" => return self.set_banner(BannerMode::Silent, s),
            "banner=garbage" | "connect=garbage" => {
                return self.set_banner(BannerMode::Garbage, s);
            }
            _ => {}
        }
        let Some((lhs, rhs)) = s.split_once('=') else {
            return Err(FaultError(format!(
                "--fail {spec:?}: expected POINT=CODE[:X.Y.Z[:TEXT]], POINT=drop, bare-lf, trickle or hide=EXT"
            )));
        };
        if lhs.eq_ignore_ascii_case("trickle") {
            let ms: u64 = rhs.parse().ok().filter(|ms| *ms <= 60_000).ok_or_else(|| {
                FaultError(format!(
                    "--fail {spec:?}: trickle=MS needs a number of milliseconds up to 60000"
                ))
            })?;
            self.f.trickle = Some(ms);
            return Ok(());
        }
        if lhs.eq_ignore_ascii_case("hide") {
            let up = parse_hide(rhs, spec)?;
            self.hide(up);
            return Ok(());
        }
        let (point, nth) = point_and_nth(lhs, spec, "--fail")?;
        let action = if rhs.eq_ignore_ascii_case("drop") || rhs.eq_ignore_ascii_case("close") {
            FaultAction::Drop
        } else {
            let mut parts = rhs.splitn(3, ':');
            let code_s = parts.next().unwrap_or("");
            let code: u16 = code_s
                .parse()
                .ok()
                .filter(|c| (400..=599).contains(c))
                .ok_or_else(|| {
                    FaultError(format!(
                        "--fail {spec:?}: {code_s:?} is not a reply code from 400 to 599 (or drop)"
                    ))
                })?;
            let enhanced = match parts.next() {
                None | Some("") => None,
                Some(e) => Some(parse_enhanced(e).ok_or_else(|| {
                    FaultError(format!(
                        "--fail {spec:?}: {e:?} is not an enhanced status code like 5.1.1"
                    ))
                })?),
            };
            if let Some(e) = enhanced
                && !e.class_agrees(code)
            {
                // RFC 3463 §2: the class of the enhanced code is the reply code's.
                return Err(FaultError(format!(
                    "--fail {spec:?}: the enhanced code {e} is of class {} but the reply {code} is {}xx (RFC 3463 §2: they must agree)",
                    e.class,
                    code / 100
                )));
            }
            let text = match parts.next() {
                None | Some("") => None,
                Some(t) if t.len() > MAX_TEXT || t.bytes().any(|b| b < 0x20 || b == 0x7f) => {
                    return Err(FaultError(format!(
                        "--fail {spec:?}: the text must be printable and at most {MAX_TEXT} bytes"
                    )));
                }
                Some(t) => Some(t.to_string()),
            };
            FaultAction::Reply {
                code,
                enhanced,
                text,
            }
        };
        if point == Point::Connect
            && let Some(banner) = &self.banner_spec
        {
            return Err(banner_conflict(banner, s));
        }
        if let Some(earlier) = self
            .f
            .faults
            .iter()
            .zip(&self.specs)
            .find(|(f, _)| f.point == point && shadows(f.nth, nth))
            .map(|(_, spec)| spec)
        {
            return Err(FaultError(format!(
                "--fail {spec:?} can never apply: --fail {earlier:?} comes first and matches the same commands (the first match wins)"
            )));
        }
        self.f.faults.push(Fault {
            point,
            nth,
            action,
            // The reply text says which option injected it.
            origin: format!("--fail {s}"),
        });
        self.specs.push(s.to_string());
        Ok(())
    }

    /// `banner=silent` / `banner=garbage`: the greeting, so one of them at most, and not with a
    /// `connect` fault (which replaces the greeting before the banner mode is looked at).
    fn set_banner(&mut self, mode: BannerMode, spec: &str) -> Result<(), FaultError> {
        if let Some(earlier) = &self.banner_spec {
            return Err(FaultError(format!(
                "--fail {spec:?} and --fail {earlier:?} both say what the greeting is: give one"
            )));
        }
        if let Some((_, connect)) = self
            .f
            .faults
            .iter()
            .zip(&self.specs)
            .find(|(f, _)| f.point == Point::Connect)
        {
            return Err(banner_conflict(spec, connect));
        }
        self.f.banner = mode;
        self.banner_spec = Some(spec.to_string());
        Ok(())
    }

    fn add_delay(&mut self, spec: &str) -> Result<(), FaultError> {
        let s = spec.trim();
        let Some((lhs, ms_s)) = s.rsplit_once(':') else {
            return Err(FaultError(format!(
                "--delay {spec:?}: expected POINT[#N]:MS, e.g. rcpt:2000"
            )));
        };
        let (point, nth) = point_and_nth(lhs, spec, "--delay")?;
        // An hour is far beyond any client timeout; the cap only rejects typos.
        let ms: u64 = ms_s
            .parse()
            .ok()
            .filter(|ms| *ms <= 3_600_000)
            .ok_or_else(|| {
                FaultError(format!(
                    "--delay {spec:?}: {ms_s:?} is not a number of milliseconds up to 3600000"
                ))
            })?;
        if self
            .f
            .delays
            .iter()
            .any(|d| d.point == point && shadows(d.nth, nth))
        {
            return Err(FaultError(format!(
                "--delay {spec:?} can never apply: an earlier --delay for {lhs} matches the same commands (the first match wins)"
            )));
        }
        self.f.delays.push(Delay { point, nth, ms });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(f: &[&str]) -> Result<Faults, FaultError> {
        let v: Vec<String> = f.iter().map(|s| s.to_string()).collect();
        faults(&v, &[], &[])
    }

    #[test]
    fn a_banner_mode_with_a_connect_fault_is_refused_in_either_order() {
        // The connect fault replaces the greeting, so the banner mode never applies: "the
        // first match wins" would be false for `banner=silent` given first.
        for specs in [
            &["connect=421", "banner=silent"][..],
            &["banner=silent", "connect=421"],
            &["banner=garbage", "connect=drop"],
            &["connect=554:5.7.1", "connect=garbage"],
        ] {
            let e = p(specs).unwrap_err().0;
            assert!(e.contains("can never apply"), "{specs:?}: {e}");
            assert!(e.contains("replaces the greeting"), "{specs:?}: {e}");
        }
        let e = p(&["banner=silent", "banner=garbage"]).unwrap_err().0;
        assert!(e.contains("give one"), "{e}");
        assert_eq!(p(&["banner=silent"]).unwrap().banner, BannerMode::Silent);
        assert_eq!(p(&["connect=421", "rcpt=550"]).unwrap().faults.len(), 2);
    }

    #[test]
    fn parses_reply_faults() {
        let f = p(&["rcpt#2=452", "rcpt=550:5.1.1", "mail=451:4.3.0:Try later"]).unwrap();
        assert_eq!(f.faults.len(), 3);
        assert_eq!(f.faults[1].point, Point::Rcpt);
        assert_eq!(f.faults[1].nth, None);
        assert_eq!(
            f.faults[1].action,
            FaultAction::Reply {
                code: 550,
                enhanced: parse_enhanced("5.1.1"),
                text: None
            }
        );
        assert_eq!(f.faults[0].nth, Some(2));
        assert_eq!(
            f.faults[2].action,
            FaultAction::Reply {
                code: 451,
                enhanced: parse_enhanced("4.3.0"),
                text: Some("Try later".into())
            }
        );
        // First match wins: rcpt#2 before rcpt=550 applies to the second only.
        assert_eq!(f.fault(Point::Rcpt, 2).unwrap().origin, "--fail rcpt#2=452");
        assert_eq!(
            f.fault(Point::Rcpt, 3).unwrap().origin,
            "--fail rcpt=550:5.1.1"
        );
        assert!(f.fault(Point::Data, 1).is_none());
    }

    #[test]
    fn nth_only_matches_that_occurrence() {
        let f = p(&["rcpt#2=452"]).unwrap();
        assert!(f.fault(Point::Rcpt, 1).is_none());
        assert!(f.fault(Point::Rcpt, 2).is_some());
        assert!(f.fault(Point::Rcpt, 3).is_none());
    }

    #[test]
    fn parses_modes_and_aliases() {
        let f = p(&[
            "bare-lf",
            "trickle=5",
            "banner=garbage",
            "hide=starttls",
            "EHLO=421",
            "dot=drop",
        ])
        .unwrap();
        assert!(f.bare_lf);
        assert_eq!(f.trickle, Some(5));
        assert_eq!(f.banner, BannerMode::Garbage);
        assert!(f.hides("STARTTLS"));
        assert_eq!(f.faults[0].point, Point::Helo);
        assert_eq!(f.faults[1].action, FaultAction::Drop);
        assert_eq!(p(&["trickle"]).unwrap().trickle, Some(1000));
        assert_eq!(p(&["banner=silent"]).unwrap().banner, BannerMode::Silent);
    }

    #[test]
    fn parses_delays_and_hides() {
        let f = faults(
            &[],
            &["rcpt:2000".into(), "dot#1:30".into()],
            &["chunking".into(), "CHUNKING".into()],
        )
        .unwrap();
        assert_eq!(f.delay(Point::Rcpt, 7), Some(2000));
        assert_eq!(f.delay(Point::Dot, 1), Some(30));
        assert_eq!(f.delay(Point::Dot, 2), None);
        assert_eq!(f.hide, vec!["CHUNKING".to_string()]);
    }

    #[test]
    fn rejects_bad_specs_with_one_line_errors() {
        for bad in [
            "rcpt",
            "rcpt=",
            "rcpt=250",
            "rcpt=600",
            "rcpt=55x",
            "bogus=550",
            "rcpt#0=550",
            "rcpt#x=550",
            "rcpt=550:5.1",
            "rcpt=550:9.1.1",
            "hide=FOO",
            "trickle=x",
            "rcpt=550:5.1.1:bad\ttext",
        ] {
            let e = p(&[bad]).expect_err(bad);
            assert!(!e.0.contains('\n'), "{e}");
            assert!(e.0.contains(bad.split('=').next().unwrap()), "{e}");
        }
        for bad in ["rcpt", "rcpt:", "rcpt:x", "nope:10", "rcpt:99999999999"] {
            faults(&[], &[bad.into()], &[]).expect_err(bad);
        }
    }

    /// `--fail`'s class check and the reply parser's agree on every pair (one test of RFC
    /// 3463 §2, in the core): a spec is refused exactly when the reply it would send is one the
    /// parser flags as a class mismatch.
    #[test]
    fn the_class_check_is_the_reply_parsers() {
        for code in [421, 450, 452, 500, 550, 554] {
            for enh in ["2.0.0", "4.2.2", "5.1.1", "4.7.0", "5.7.1"] {
                let refused = p(&[&format!("rcpt={code}:{enh}")]).is_err();
                let mut parser = crate::smtp::reply::ReplyParser::default();
                let mut buf = format!("{code} {enh} x\r\n").into_bytes();
                let reply = parser.next_reply(&mut buf).expect("a whole reply");
                let flagged = reply.deviations.iter().any(|d| {
                    matches!(
                        d,
                        crate::smtp::event::Deviation::EnhancedClassMismatch { .. }
                    )
                });
                assert_eq!(refused, flagged, "{code} {enh}");
                assert_eq!(refused, !reply.enhanced.unwrap().class_agrees(code));
            }
        }
    }

    /// Specs that could never fire are refused rather than silently ignored: connect#N > 1
    /// (a connection is greeted once), a later spec for commands an earlier one already
    /// matches (the first match wins), and an enhanced code of another class than the reply
    /// (RFC 3463 §2).
    #[test]
    fn refuses_specs_that_can_never_fire_or_contradict_themselves() {
        let one_line = |e: FaultError, want: &str| {
            assert!(!e.0.contains('\n'), "{e}");
            assert!(e.0.contains(want), "{e}");
        };
        one_line(p(&["connect#2=421"]).unwrap_err(), "connect#2=421");
        one_line(
            faults(&[], &["connect#2:500".into()], &[]).unwrap_err(),
            "greeted once",
        );
        assert!(p(&["connect#1=421"]).is_ok());
        assert!(faults(&[], &["connect:10".into()], &[]).is_ok());
        one_line(p(&["rcpt=550:4.2.2"]).unwrap_err(), "RFC 3463");
        one_line(p(&["data=451:5.3.0"]).unwrap_err(), "4xx");
        assert!(p(&["rcpt=452:4.2.2", "dot=554:5.6.0"]).is_ok());
        one_line(
            p(&["rcpt=550", "rcpt#2=452"]).unwrap_err(),
            "\"rcpt=550\" comes first",
        );
        one_line(
            p(&["rcpt#2=550", "RCPT#2=drop"]).unwrap_err(),
            "first match wins",
        );
        one_line(p(&["mail=550", "mail=451"]).unwrap_err(), "never apply");
        assert!(p(&["rcpt#1=550", "rcpt#2=452", "mail=451", "rcpt=421"]).is_ok());
        one_line(
            faults(&[], &["rcpt:10".into(), "rcpt#3:20".into()], &[]).unwrap_err(),
            "never apply",
        );
        assert!(faults(&[], &["rcpt#3:20".into(), "rcpt:10".into()], &[]).is_ok());
    }
}
