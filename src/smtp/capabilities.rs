//! EHLO capabilities (RFC 5321 §4.1.1.1, RFC 1869): keywords with parameters, unknown keywords and
//! the raw lines kept.
//!
//! The first line of a 250 EHLO reply is the server's greeting; every later line is
//! `ehlo-keyword *( SP ehlo-param )` (RFC 5321 §4.1.1.1). Keywords are kept even when ehlo knows
//! nothing about them (`X-FOO`, `LIMITS`, `XCLIENT`), so they can be shown and checked.

use serde::Serialize;

use crate::smtp::event::Deviation;
use crate::smtp::reply::Reply;

/// Most distinct SASL mechanisms [`Capabilities::auth_mechanisms`] lists. Real servers offer
/// a handful; the cap keeps a hostile list of thousands from costing memory and screen.
pub(crate) const MAX_AUTH_MECHANISMS: usize = 100;

/// One EHLO keyword line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Capability {
    /// Keyword, upper-cased (`SIZE`, `AUTH`, `X-FOO`).
    pub(crate) keyword: String,
    /// Parameters as sent (`["10240000"]`, `["PLAIN", "LOGIN"]`).
    pub(crate) params: Vec<String>,
    /// The line as received.
    pub(crate) raw: String,
}

/// Everything a server said in its EHLO/LHLO reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub(crate) struct Capabilities {
    /// First line: the server's name and greeting.
    pub(crate) greeting: String,
    /// Keyword lines in order.
    pub(crate) keywords: Vec<Capability>,
    /// An `AUTH` (`AUTH=`) line was longer than the reply parser's line limit and cut there
    /// (that limit): mechanisms after the cut were never seen.
    #[serde(skip)]
    pub(crate) auth_cut_at: Option<usize>,
}

impl Capabilities {
    /// Parse a 250 EHLO reply. A single-line `250 host` gives a greeting and no keywords; blank
    /// lines are skipped. Keywords are upper-cased, parameters kept as sent.
    pub(crate) fn from_reply(reply: &Reply) -> Capabilities {
        let greeting = reply.lines.first().cloned().unwrap_or_default();
        // The AUTH line cut at the line limit, if any (its index in `lines`). A cut line keeps
        // exactly `limit` bytes (code and separator included), so it is found among the raw
        // lines, which follow `lines` one for one.
        let limit = cut_limit(reply);
        let cut_line = limit.and_then(|limit| {
            reply
                .raw
                .0
                .split(|&b| b == b'\n')
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .zip(&reply.lines)
                .enumerate()
                .skip(1)
                .find(|(_, (raw, text))| raw.len() == limit && is_auth_line(text))
                .map(|(i, (raw, _))| (i, raw.ends_with(b" ") || raw.ends_with(b"\t")))
        });
        let keywords = reply
            .lines
            .iter()
            .enumerate()
            .skip(1)
            .filter_map(|(i, line)| {
                let mut words = line.split_whitespace();
                let mut keyword = words.next()?.to_ascii_uppercase();
                let mut params: Vec<String> = words.map(str::to_string).collect();
                // The last word of a cut AUTH line is cut too (`CRAM-MD5` kept as `CRA`) unless
                // a blank follows it: no mechanism the server offered (RFC 4954 §3), dropped.
                if cut_line == Some((i, false))
                    && params.pop().is_none()
                    && keyword.starts_with("AUTH=")
                {
                    keyword.truncate("AUTH=".len());
                }
                Some(Capability {
                    keyword,
                    params,
                    raw: line.clone(),
                })
            })
            .collect();
        let auth_cut_at = cut_line.and(limit);
        Capabilities {
            greeting,
            keywords,
            auth_cut_at,
        }
    }

    fn find(&self, keyword: &str) -> Option<&Capability> {
        self.keywords
            .iter()
            .find(|c| c.keyword.eq_ignore_ascii_case(keyword))
    }

    /// Is `keyword` (case-insensitive) advertised? The old `AUTH=…` form is its own keyword
    /// (`AUTH=LOGIN`); use [`Capabilities::auth_mechanisms`] to ask about AUTH.
    pub(crate) fn has(&self, keyword: &str) -> bool {
        self.find(keyword).is_some()
    }

    /// Parameters of `keyword`, if advertised (the first line with that keyword).
    pub(crate) fn params(&self, keyword: &str) -> Option<&[String]> {
        self.find(keyword).map(|c| c.params.as_slice())
    }

    /// The `AUTH a b` and old `AUTH=a b` lines (RFC 4954 §3): each with the name glued to
    /// `AUTH=`, if any, then its parameters.
    fn auth_names(&self) -> impl Iterator<Item = &str> {
        self.keywords.iter().flat_map(|cap| {
            let (is_auth, first) = if cap.keyword == "AUTH" {
                (true, None)
            } else if let Some(m) = cap.keyword.strip_prefix("AUTH=") {
                (true, Some(m))
            } else {
                (false, None)
            };
            let params: &[String] = if is_auth { &cap.params } else { &[] };
            first.into_iter().chain(params.iter().map(String::as_str))
        })
    }

    /// SASL mechanisms from `AUTH a b` and the old `AUTH=a b` form, upper-cased, deduplicated,
    /// at most [`MAX_AUTH_MECHANISMS`] of them.
    ///
    /// The `AUTH=` form predates RFC 2554 (RFC 4954 §3 notes that some clients need it), and
    /// servers often send both, sometimes with different lists, so the union is returned in the
    /// order first seen. A hostile server listing a million names costs one pass and a bounded
    /// result (a `contains` per name used to make it quadratic); ask [`Capabilities::offers_auth`]
    /// whether one particular mechanism is offered anywhere in the list.
    pub(crate) fn auth_mechanisms(&self) -> Vec<String> {
        let mut mechanisms: Vec<String> = Vec::new();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        for name in self.auth_names() {
            if mechanisms.len() == MAX_AUTH_MECHANISMS {
                break;
            }
            let name = name.to_ascii_uppercase();
            if !name.is_empty() && seen.insert(name.clone()) {
                mechanisms.push(name);
            }
        }
        mechanisms
    }

    /// Is SASL mechanism `name` (case-insensitive) in an `AUTH` or `AUTH=` line? Scans the
    /// whole list, without the cap of [`Capabilities::auth_mechanisms`].
    pub(crate) fn offers_auth(&self, name: &str) -> bool {
        !name.is_empty() && self.auth_names().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// Keywords listed more than once with different parameters (`SIZE 100` and
    /// `SIZE 100000000`): each with its parameter lists in order, at most `max` keywords and
    /// `max` lists each. [`Capabilities::params`] takes the first; another client may take
    /// another. `AUTH` is left out: its lines are a union (see [`Capabilities::auth_mechanisms`]).
    pub(crate) fn contradictions(&self, max: usize) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        let mut first: std::collections::HashMap<&str, &Capability> =
            std::collections::HashMap::new();
        for cap in &self.keywords {
            if cap.keyword == "AUTH" || cap.keyword.starts_with("AUTH=") {
                continue;
            }
            let Some(seen) = first.get(cap.keyword.as_str()) else {
                first.insert(&cap.keyword, cap);
                continue;
            };
            if seen.params == cap.params {
                continue;
            }
            let i = match out.iter().position(|(k, _)| *k == cap.keyword) {
                Some(i) => i,
                None if out.len() < max => {
                    out.push((cap.keyword.clone(), vec![seen.params.join(" ")]));
                    out.len() - 1
                }
                None => continue,
            };
            let listed = &mut out[i].1;
            let params = cap.params.join(" ");
            if listed.len() < max && !listed.contains(&params) {
                listed.push(params);
            }
        }
        out
    }

    /// The SIZE limit (RFC 1870), `Some(0)` means "no fixed limit".
    ///
    /// `SIZE` without a number, or with one that does not parse, is advertised support without a
    /// usable limit, so it is `Some(0)` too.
    pub(crate) fn size(&self) -> Option<u64> {
        let params = self.params("SIZE")?;
        Some(params.first().and_then(|p| p.parse().ok()).unwrap_or(0))
    }
}

/// The line limit of a reply that had a line cut at it ([`Deviation::OverlongLine`]).
fn cut_limit(reply: &Reply) -> Option<usize> {
    reply.deviations.iter().find_map(|d| match d {
        Deviation::OverlongLine { limit, .. } => Some(*limit),
        _ => None,
    })
}

/// `AUTH mech…` or the older `AUTH=mech…` (RFC 4954 §3).
fn is_auth_line(text: &str) -> bool {
    let head = text.get(..5).unwrap_or(text);
    head.eq_ignore_ascii_case("AUTH ") || head.eq_ignore_ascii_case("AUTH=")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::reply::{Limits, ReplyParser};

    fn parse(wire: &[u8]) -> Capabilities {
        let mut buf = wire.to_vec();
        let reply = ReplyParser::new(Limits::default())
            .next_reply(&mut buf)
            .unwrap();
        assert!(buf.is_empty());
        Capabilities::from_reply(&reply)
    }

    const POSTFIX: &[u8] = b"250-mail.example.org\r\n\
250-PIPELINING\r\n\
250-SIZE 10240000\r\n\
250-VRFY\r\n\
250-ETRN\r\n\
250-STARTTLS\r\n\
250-AUTH PLAIN LOGIN\r\n\
250-AUTH=PLAIN LOGIN\r\n\
250-ENHANCEDSTATUSCODES\r\n\
250-8BITMIME\r\n\
250-DSN\r\n\
250-SMTPUTF8\r\n\
250-CHUNKING\r\n\
250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT\r\n\
250 LIMITS RCPTMAX=10 MAILMAX=1000\r\n";

    const EXCHANGE: &[u8] = b"250-EX01.contoso.com Hello [198.51.100.7]\r\n\
250-SIZE 37748736\r\n\
250-PIPELINING\r\n\
250-DSN\r\n\
250-ENHANCEDSTATUSCODES\r\n\
250-STARTTLS\r\n\
250-X-ANONYMOUSTLS\r\n\
250-AUTH NTLM\r\n\
250-X-EXPS GSSAPI NTLM\r\n\
250-8BITMIME\r\n\
250-BINARYMIME\r\n\
250-CHUNKING\r\n\
250-XEXCH50\r\n\
250-XRDST\r\n\
250 XSHADOWREQUEST\r\n";

    #[test]
    fn postfix() {
        let caps = parse(POSTFIX);
        assert_eq!(caps.greeting, "mail.example.org");
        assert_eq!(caps.keywords.len(), 14);
        assert!(caps.has("pipelining"));
        assert!(caps.has("STARTTLS"));
        assert!(!caps.has("PRDR"));
        assert_eq!(caps.size(), Some(10_240_000));
        assert_eq!(caps.auth_mechanisms(), ["PLAIN", "LOGIN"]);
        assert_eq!(
            caps.params("xclient").unwrap()[..2],
            ["NAME".to_string(), "ADDR".to_string()]
        );
        let limits = caps.keywords.last().unwrap();
        assert_eq!(
            limits,
            &Capability {
                keyword: "LIMITS".into(),
                params: vec!["RCPTMAX=10".into(), "MAILMAX=1000".into()],
                raw: "LIMITS RCPTMAX=10 MAILMAX=1000".into(),
            }
        );
        assert!(caps.has("AUTH=PLAIN"));
    }

    #[test]
    fn exchange() {
        let caps = parse(EXCHANGE);
        assert_eq!(caps.greeting, "EX01.contoso.com Hello [198.51.100.7]");
        assert_eq!(caps.size(), Some(37_748_736));
        assert_eq!(caps.auth_mechanisms(), ["NTLM"]);
        assert_eq!(
            caps.params("X-EXPS"),
            Some(&["GSSAPI".to_string(), "NTLM".to_string()][..])
        );
        assert!(caps.has("X-ANONYMOUSTLS"));
        assert!(caps.has("xshadowrequest"));
        assert_eq!(caps.params("CHUNKING"), Some(&[][..]));
    }

    #[test]
    fn contradictory_keywords_are_listed_once_each() {
        let caps = parse(
            b"250-h\r\n250-SIZE 100\r\n250-PIPELINING\r\n250-SIZE 100000000\r\n\
              250-size 100\r\n250-SIZE abc\r\n250-PIPELINING\r\n250-AUTH PLAIN\r\n\
              250 AUTH LOGIN\r\n",
        );
        assert_eq!(
            caps.contradictions(8),
            [(
                "SIZE".to_string(),
                vec!["100".into(), "100000000".into(), "abc".into()]
            )]
        );
        // The first is the one used.
        assert_eq!(caps.size(), Some(100));
        assert!(
            parse(b"250-h\r\n250 SIZE 1\r\n")
                .contradictions(8)
                .is_empty()
        );
    }

    #[test]
    fn many_mechanisms_are_deduplicated_in_order_and_bounded() {
        // 100 lines of 1000 distinct names, each line sent twice (AUTH and AUTH=).
        let mut wire = b"250-h\r\n".to_vec();
        for line in 0..100 {
            let names: Vec<String> = (0..1000).map(|i| format!("m{line}x{i}")).collect();
            wire.extend_from_slice(format!("250-AUTH {}\r\n", names.join(" ")).as_bytes());
            wire.extend_from_slice(format!("250-AUTH={}\r\n", names.join(" ")).as_bytes());
        }
        wire.extend_from_slice(b"250 OK\r\n");
        let mut buf = wire;
        let mut p = ReplyParser::new(Limits {
            max_bytes: 4 << 20,
            ..Limits::default()
        });
        let caps = Capabilities::from_reply(&p.next_reply(&mut buf).unwrap());
        let mechs = caps.auth_mechanisms();
        assert_eq!(mechs.len(), MAX_AUTH_MECHANISMS);
        assert_eq!(mechs[0], "M0X0");
        assert_eq!(mechs[99], "M0X99");
        assert!(caps.offers_auth("m99x999"));
        assert!(caps.offers_auth("M50X5"));
        assert!(!caps.offers_auth("M100X0"));
        assert!(!caps.offers_auth(""));
    }

    #[test]
    fn odd_replies() {
        let caps = parse(b"250 host.example\r\n");
        assert_eq!(caps.greeting, "host.example");
        assert!(caps.keywords.is_empty());
        assert_eq!(caps.size(), None);
        assert!(caps.auth_mechanisms().is_empty());

        let caps = parse(
            b"250-h\r\n250-size\r\n250-auth login Plain\r\n250-AUTH=CRAM-MD5 login\r\n\
250- \r\n250-x-foo  a\tb\r\n250 PRDR\r\n",
        );
        assert_eq!(caps.size(), Some(0));
        assert_eq!(caps.auth_mechanisms(), ["LOGIN", "PLAIN", "CRAM-MD5"]);
        assert_eq!(
            caps.keywords
                .iter()
                .map(|c| c.keyword.as_str())
                .collect::<Vec<_>>(),
            ["SIZE", "AUTH", "AUTH=CRAM-MD5", "X-FOO", "PRDR"]
        );
        assert_eq!(
            caps.params("X-FOO"),
            Some(&["a".to_string(), "b".to_string()][..])
        );
        assert_eq!(caps.keywords[0].raw, "size");
        assert_eq!(parse(b"250-h\r\n250 SIZE big\r\n").size(), Some(0));

        let empty = Capabilities::from_reply(&Reply {
            code: Some(250),
            enhanced: None,
            lines: Vec::new(),
            raw: crate::smtp::event::Bytes::default(),
            deviations: Vec::new(),
        });
        assert_eq!(empty, Capabilities::default());
    }

    /// An AUTH line past the 8 KiB line limit of the parser: `PLAIN`, fillers,
    /// then `CRAM-MD5 LOGIN`, padded so that the cut falls `into` bytes after the blank before
    /// `CRAM-MD5`.
    fn cut_auth_line(into: usize) -> Capabilities {
        let limit = 8192;
        let mut line = String::from("250-AUTH PLAIN");
        let mut i = 0;
        while line.len() < limit - 40 {
            line.push_str(&format!(" M{i:04}"));
            i += 1;
        }
        let room = limit - line.len() - 1 - 1 - into;
        line.push(' ');
        line.push_str(&"L".repeat(room));
        line.push_str(" CRAM-MD5 LOGIN\r\n250 8BITMIME\r\n");
        parse(format!("250-h\r\n{line}").as_bytes())
    }

    /// The last word of an AUTH line cut at the line limit is cut too: `CRA` of `CRAM-MD5` was
    /// listed as an offered mechanism (and completed, and tried by `:auth` without a name).
    /// Dropped; a word the cut leaves whole, with its blank after it, is kept.
    #[test]
    fn the_partial_last_word_of_a_cut_auth_line_is_no_mechanism() {
        let caps = cut_auth_line(3);
        assert_eq!(caps.auth_cut_at, Some(8192));
        let last = caps.keywords[0].params.last().unwrap();
        assert!(last.starts_with("LLL") && caps.offers_auth(last), "{last}");
        assert!(!caps.offers_auth("CRA"), "{last}");
        assert!(!caps.offers_auth("CRAM-MD5") && !caps.offers_auth("LOGIN"));
        assert!(caps.has("8BITMIME"));
        // Cut right after `CRAM-MD5 `: it is whole.
        let caps = cut_auth_line("CRAM-MD5 ".len());
        assert_eq!(caps.auth_cut_at, Some(8192));
        assert!(caps.offers_auth("CRAM-MD5") && !caps.offers_auth("LOGIN"));
        assert_eq!(caps.keywords[0].params.last().unwrap(), "CRAM-MD5");
        // An old `AUTH=` line cut inside its first name offers none.
        let line = format!("250-h\r\n250-AUTH={}\r\n250 8BITMIME\r\n", "X".repeat(9000));
        let caps = parse(line.as_bytes());
        assert_eq!(caps.auth_cut_at, Some(8192));
        assert!(
            caps.auth_mechanisms().is_empty(),
            "{:?}",
            caps.auth_mechanisms()
        );
    }
}
