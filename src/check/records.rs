//! Pure judges of DNS TXT records and the MTA-STS policy: MTA-STS TXT (RFC 8461 §3.1), TLS-RPT
//! (RFC 8460 §3), SPF (RFC 7208), DMARC (RFC 7489), the MTA-STS policy file lint with line
//! numbers (RFC 8461 §3.2) and MX pattern matching (RFC 8461 §4.1). No I/O: records in, a
//! [`CheckResult`] out, so each rule has a table test.

use serde_json::{Value, json};

use super::model::{CheckResult, Status};
use crate::smtp::event::plural_s;

/// `key=value` tags of a `;`-separated record (RFC 8461 §3.1, RFC 8460 §3; DMARC's, read more
/// leniently, is [`dmarc_tags`]). Whitespace around tags and values is dropped; empty tags (a
/// trailing `;`) are skipped. `None` when a tag has no `=`.
fn tags(record: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for part in record.split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=')?;
        out.push((k.trim().to_string(), v.trim().to_string()));
    }
    Some(out)
}

/// The value of tag `key` in a DMARC record (see [`dmarc_tags`]), if it has it.
pub(crate) fn tag_value(record: &str, key: &str) -> Option<String> {
    tag(&dmarc_tags(record).0, key).map(str::to_string)
}

/// A DMARC record's `key=value` tags, read as receivers read it: a part without `=` (`fo`, a
/// stray word) is outside RFC 7489 §6.4's grammar, but OpenDMARC's parser skips it and applies
/// the rest (opendmarc_policy_parse_dmarc), so it is returned beside the tags, not made a
/// record without a policy.
fn dmarc_tags(record: &str) -> (Vec<(String, String)>, Vec<String>) {
    let (mut out, mut bare) = (Vec::new(), Vec::new());
    for part in record.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((k, v)) => out.push((k.trim().to_string(), v.trim().to_string())),
            None => bare.push(part.to_string()),
        }
    }
    (out, bare)
}

fn tag<'a>(t: &'a [(String, String)], key: &str) -> Option<&'a str> {
    t.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// A tag written otherwise than its grammar spells it: MTA-STS's `%s"id="` (RFC 8461 §3.1) and
/// TLS-RPT's `%s"rua="` (RFC 8460 §3) are case-sensitive, with no space around the `=`. Lenient
/// senders read `ID = x` anyway; a strict parser finds no such tag.
fn tag_spelling(record: &str, key: &str) -> Option<String> {
    record.split(';').map(str::trim).find_map(|part| {
        let (k, v) = part.split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key) && (k != key || v.starts_with(char::is_whitespace)))
            .then(|| {
                format!(
                    "'{part}' is not spelled '{key}=' (lower case, no space around '='): strict senders see no {key}"
                )
            })
    })
}

/// A TLS-RPT report URI: `mailto:` with a local part and a domain, or `https://` with a host
/// (RFC 8460 §3), written as a URI: `tlsrpt-uri = URI` (RFC 3986 §2 allows ASCII letters,
/// digits and some punctuation; a space, a control or non-ASCII character, a double quote, angle
/// or curly brackets, a backslash, caret, backtick or bar must be percent-encoded, else a
/// sender's URI parser rejects the URI and sends no report).
fn report_uri_ok(u: &str) -> bool {
    if !report_uri_syntax_ok(u) {
        return false;
    }
    let l = u.to_ascii_lowercase();
    if let Some(addr) = l.strip_prefix("mailto:") {
        // One addr-spec (RFC 6068 §2): an '@' in the local part would be percent-encoded.
        let addr = addr.split('?').next().unwrap_or("");
        return addr
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && report_host_ok(domain));
    }
    l.strip_prefix("https://").is_some_and(|rest| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        // userinfo@ before the host (RFC 3986 §3.2.1), `:port` after it (§3.2.3, digits).
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        match host.split_once(']') {
            Some((lit, port)) if host.starts_with('[') => {
                report_host_ok(&format!("{lit}]"))
                    && (port.is_empty() || port.strip_prefix(':').is_some_and(digits))
            }
            _ => match host.rsplit_once(':') {
                Some((h, port)) => digits(port) && report_host_ok(h),
                None => report_host_ok(host),
            },
        }
    })
}

/// The characters of a URI (RFC 3986 §2): what [`report_uri_ok`] asks before the scheme and
/// the address. One that is not is no URI to any parser (strict ones discard the record).
fn report_uri_syntax_ok(u: &str) -> bool {
    if !u
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&b))
    {
        return false;
    }
    // `pct-encoded = "%" HEXDIG HEXDIG` (RFC 3986 §2.1): a '%' is always the start of one.
    let b = u.as_bytes();
    !b.iter().enumerate().any(|(i, &c)| {
        c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// The domain of a report address or the host of a report URL: letters, digits, hyphens, dots
/// (RFC 5321 §4.1.2's Domain; underscores too, as Postfix takes them), a percent-encoded byte
/// (an IDN in a URI, RFC 6068 §2, RFC 3986 §3.2.2) or an address literal in brackets. RFC 5322
/// lets an addr-spec's domain hold `!`, but `mailto:tls@example.com!10m` (DMARC's size limit,
/// RFC 7489 §6.2, which TLS-RPT does not have) names `example.com!10m`, no mail domain: reports
/// to it bounce. A percent-encoded byte is judged as the byte it stands for: `x.test%2110m`
/// is the same `x.test!10m` (RFC 3986 §2.1; a sender decodes it before mailing), and only a
/// byte outside ASCII (a UTF-8 IDN) may be written so.
fn report_host_ok(host: &str) -> bool {
    if let Some(lit) = host.strip_prefix('[') {
        return lit.strip_suffix(']').is_some_and(|ip| {
            let ip = ip.strip_prefix("ipv6:").unwrap_or(ip);
            ip.parse::<std::net::IpAddr>().is_ok()
        });
    }
    !host.is_empty()
        && percent_decoded(host)
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') || b >= 0x80)
}

/// `text` with each `%XX` replaced by its byte (RFC 3986 §2.1); a '%' not followed by two hex
/// digits stays ([`report_uri_syntax_ok`] has refused it already).
fn percent_decoded(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(byte) if b[i] == b'%' => {
                out.push(byte);
                i += 3;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    out
}

/// A `mailto:` URI whose domain holds a '!', written so or as `%21`: DMARC's size limit
/// (`…!10m`, RFC 7489 §6.2) copied into TLS-RPT.
fn dmarc_size_limit(uri: &str) -> bool {
    let l = uri.to_ascii_lowercase();
    l.strip_prefix("mailto:")
        .and_then(|a| a.split('?').next())
        .and_then(|a| a.rsplit_once('@'))
        .is_some_and(|(_, domain)| percent_decoded(domain).contains(&b'!'))
}

/// The records that begin with `tag;` (RFC 8461 §3.1: "Records that do not begin with
/// 'v=STSv1;' are discarded"; RFC 8460 §3 likewise for `v=TLSRPTv1;`) — spaces or tabs before
/// the `;` included, as the grammar's `field-delim = *WSP ";" *WSP` has them and mox and
/// postfix-mta-sts-resolver read such a record ([`spaced_version`] warns) — and the first of
/// those that look meant as one but do not (white space before the tag, the tag in another
/// case: both grammars write it `%s"…"`, case-sensitive; or the record's own `field=` with no
/// version or this one elsewhere, as in `rua=mailto:…` or `id=1; v=STSv1`).
fn beginning_exactly<'a>(
    records: &'a [String],
    tag: &str,
    field: &str,
) -> (Vec<&'a String>, Option<&'a String>) {
    let (kept, near): (Vec<&String>, Vec<&String>) = records
        .iter()
        .filter(|r| {
            let r = r.trim_start();
            let tagged = r
                .get(..tag.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(tag))
                && r[tag.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c == ';' || c.is_whitespace());
            // Another version (`v=STSv10`) is some other record, not a mistake.
            let value = |name: &str| {
                r.split(';').find_map(|f| {
                    f.split_once('=')
                        .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.trim())
                })
            };
            let version = tag.split_once('=').map_or(tag, |(_, v)| v);
            tagged
                || (value(field).is_some()
                    && value("v").is_none_or(|v| v.eq_ignore_ascii_case(version)))
        })
        .partition(|r| {
            r.strip_prefix(tag)
                .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with(';'))
        });
    (kept, near.into_iter().next())
}

/// A warning for a record kept by [`beginning_exactly`] with blanks between its version tag
/// and the `;`: the grammar allows them and mox and postfix-mta-sts-resolver read the record,
/// but the RFC's prose discards a record that does not begin `tag;` exactly, so a sender that
/// follows the prose has none.
fn spaced_version(record: &str, tag: &str, rfc: &str) -> Option<String> {
    (!record.starts_with(&format!("{tag};"))).then(|| {
        format!(
            "white space between '{tag}' and its ';': the grammar allows it, and mox and \
             postfix-mta-sts-resolver read the record, but {rfc} discards a record that does \
             not begin with '{tag};' exactly: write '{tag};'"
        )
    })
}

/// A record discarded by [`beginning_exactly`] when it is the only one meant as `tag`.
fn discarded(id: &'static str, tag: &str, rfc: &str, rec: &str) -> CheckResult {
    CheckResult::new(
        id,
        Status::Fail,
        format!(
            "'{}' does not begin with '{tag};' exactly ({rfc}): senders discard it",
            crate::check::probe::capped(rec)
        ),
    )
    .with("records", json!([rec]))
}

/// Records that start with `prefix` (case-sensitive version tags, as the RFCs write them;
/// RFC 7208 §4.5 makes `v=spf1` case-insensitive and is handled by its caller), leading white
/// space allowed (DMARC's receivers are lenient; MTA-STS and TLS-RPT use [`beginning_exactly`]).
fn starting_with<'a>(records: &'a [String], prefix: &str) -> Vec<&'a String> {
    records
        .iter()
        .filter(|r| {
            let r = r.trim_start();
            r.starts_with(prefix)
                && r[prefix.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c == ';' || c.is_whitespace())
        })
        .collect()
}

/// The first field of a `;`-separated record (after its version tag) that is an extension
/// written against the grammar, with the reason: MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460
/// §3) share `ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")` and `ext-value =
/// 1*(%x21-3A / %x3C / %x3E-7E)` (printable ASCII but `;` and `=`, no space), with no space
/// around the `=`. `known` are the record's own fields (checked by their own rules). Such a
/// record is "syntactically invalid": strict parsers discard it (RFC 8461 §3.1: "senders MUST
/// assume the recipient domain does not have an available MTA-STS Policy"), lenient ones, which
/// split at `;` and `=`, ignore the field.
fn bad_extension(record: &str, known: &[&str]) -> Option<String> {
    record.split(';').skip(1).map(str::trim).find_map(|part| {
        let (k, v) = part.split_once('=')?;
        if known.iter().any(|n| k.trim().eq_ignore_ascii_case(n)) {
            return None;
        }
        let name_ok = k.len() <= 32
            && k.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && k
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        let value_ok =
            !v.is_empty() && v.bytes().all(|b| matches!(b, 0x21..=0x3a | 0x3c | 0x3e..=0x7e));
        let why = if !name_ok {
            "its name is not a letter or digit followed by at most 31 letters, digits, '_', '-' or '.'"
        } else if v.is_empty() {
            "it has no value"
        } else if !value_ok {
            "its value is not printable ASCII without space, ';' or '='"
        } else {
            return None;
        };
        Some(format!(
            "extension field '{}' is malformed ({why}): strict senders discard the whole record, lenient ones ignore the field",
            crate::check::probe::capped(part)
        ))
    })
}

/// What in a record that begins `v=…;` breaks `1*(field-delim field) [field-delim]` with
/// `field-delim = *WSP ";" *WSP` (RFC 8461 §3.1; RFC 8460 §3 the same): an empty field between
/// two `;`, a blank other than a space or tab around a field, and — when `trailing` — spaces or
/// tabs after the last field with no `;` after them (allowed after a TLS-RPT URI list by
/// `*WSP ","` readers, so its caller leaves that out). mox's parsers reject such a record;
/// parsers that split at `;` and trim (postfix-mta-sts-resolver) read it.
fn delimiter_problem(record: &str, trailing: bool) -> Option<String> {
    let parts: Vec<&str> = record.split(';').collect();
    let last = parts.len() - 1;
    parts.iter().enumerate().skip(1).find_map(|(i, part)| {
        let field = wsp_trim(part);
        if field.is_empty() {
            return (i < last).then(|| "an empty field between two ';'".to_string());
        }
        let quoted = crate::check::probe::capped(field);
        if let Some(c) = [field.chars().next(), field.chars().next_back()]
            .into_iter()
            .flatten()
            .find(|c| c.is_whitespace() || c.is_control())
        {
            return Some(format!(
                "U+{:04X} next to '{quoted}': only spaces and tabs may surround a ';'",
                u32::from(c)
            ));
        }
        (trailing && i == last && part.len() != part.trim_end_matches([' ', '\t']).len())
            .then(|| format!("white space after the last field '{quoted}' with no ';' after it"))
    })
}

/// `mtasts.txt`: exactly one `v=STSv1` record at `_mta-sts.D` with `id` of 1–32 letters and
/// digits (RFC 8461 §3.1). None → info (no MTA-STS); several or malformed → fail (senders then
/// treat the domain as having no policy).
pub(crate) fn mtasts_txt(records: &[String]) -> CheckResult {
    let (sts, near) = beginning_exactly(records, "v=STSv1", "id");
    let ev = records_evidence(&sts);
    match sts.as_slice() {
        [] => match near {
            Some(r) => discarded("mtasts.txt", "v=STSv1", "RFC 8461 §3.1", r),
            None => CheckResult::new("mtasts.txt", Status::Info, "no MTA-STS record (no policy)")
                .with("records", ev),
        },
        [one] => {
            let Some(t) = tags(one) else {
                return CheckResult::new(
                    "mtasts.txt",
                    Status::Fail,
                    format!(
                        "malformed MTA-STS record (a field without '='): {}",
                        crate::check::probe::capped(one)
                    ),
                )
                .with("records", ev);
            };
            match tag(&t, "id") {
                Some(id)
                    if !id.is_empty()
                        && id.len() <= 32
                        && id.chars().all(|c| c.is_ascii_alphanumeric()) =>
                {
                    let ids = t
                        .iter()
                        .filter(|(k, _)| k.eq_ignore_ascii_case("id"))
                        .count();
                    let (status, summary) = match tag_spelling(one, "id") {
                        // The grammar does not stop a second id= (an extension may have any
                        // name), but senders part ways on it: one keeps the first, one the
                        // last, so a policy change may be seen by some senders only.
                        _ if ids > 1 => (
                            Status::Warn,
                            format!(
                                "id= is given {ids} times: senders differ on which one they read \
                                 (the first or the last): keep one (RFC 8461 §3.1)"
                            ),
                        ),
                        Some(w) => (Status::Warn, format!("{w} (RFC 8461 §3.1)")),
                        None => match bad_extension(one, &["id"])
                            .map(|w| format!("{w} (RFC 8461 §3.1)"))
                            .or_else(|| spaced_version(one, "v=STSv1", "RFC 8461 §3.1"))
                            .or_else(|| {
                                delimiter_problem(one, true).map(|w| {
                                    format!(
                                        "{w}, against the record's grammar (RFC 8461 §3.1): \
                                         strict senders (mox) discard the record, lenient ones \
                                         read it"
                                    )
                                })
                            }) {
                            Some(w) => (Status::Warn, w),
                            None => (Status::Pass, format!("v=STSv1, id={id}")),
                        },
                    };
                    CheckResult::new("mtasts.txt", status, summary)
                        .with("records", ev)
                        .with("id", id)
                }
                Some(id) => CheckResult::new(
                    "mtasts.txt",
                    Status::Fail,
                    format!(
                        "id '{}' is not 1-32 letters and digits",
                        crate::check::probe::capped(id)
                    ),
                )
                .with("records", ev),
                None => {
                    CheckResult::new("mtasts.txt", Status::Fail, "no id= field").with("records", ev)
                }
            }
        }
        many => CheckResult::new(
            "mtasts.txt",
            Status::Fail,
            format!(
                "{} v=STSv1 records: senders see no policy when there is more than one",
                many.len()
            ),
        )
        .with("records", ev),
    }
}

/// `tlsrpt.record`: one `v=TLSRPTv1` record at `_smtp._tls.D` whose `rua` lists only `mailto:`
/// and `https:` URIs (RFC 8460 §3). None → info; several or malformed → fail.
pub(crate) fn tlsrpt(records: &[String]) -> CheckResult {
    let (recs, near) = beginning_exactly(records, "v=TLSRPTv1", "rua");
    let ev = records_evidence(&recs);
    match recs.as_slice() {
        [] => match near {
            Some(r) => discarded("tlsrpt.record", "v=TLSRPTv1", "RFC 8460 §3", r),
            None => CheckResult::new("tlsrpt.record", Status::Info, "no TLS-RPT record")
                .with("records", ev),
        },
        [one] => {
            // Every field is `name=value` (RFC 8460 §3: tlsrpt-rua / tlsrpt-extension); one that
            // is not makes the record invalid, and senders assume no TLS-RPT.
            if let Some(bad) = one
                .split(';')
                .map(str::trim)
                .find(|f| !f.is_empty() && !f.contains('='))
            {
                let after_a_uri = one.split(';').map(str::trim).any(|f| {
                    f.split_once('=').is_some_and(|(k, v)| {
                        k.trim().eq_ignore_ascii_case("rua") && v.contains(':')
                    })
                });
                let hint = if after_a_uri {
                    " (a ';' inside a report URI must be written %3B)"
                } else {
                    ""
                };
                return CheckResult::new(
                    "tlsrpt.record",
                    Status::Fail,
                    format!(
                        "'{}' is not a name=value field{hint}: the record is invalid and senders \
                         send no reports (RFC 8460 §3)",
                        crate::check::probe::capped(bad)
                    ),
                )
                .with("records", ev);
            }
            // Every rua= field: RFC 8460 §3 defines one, whose value is a comma-separated list
            // of URIs; its ABNF (`1*(field-delim tlsrpt-field)`) does not stop a second one.
            let ruas: Vec<String> = tags(one)
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("rua"))
                .map(|(_, v)| v)
                .collect();
            if ruas.iter().all(String::is_empty) {
                return CheckResult::new("tlsrpt.record", Status::Fail, "no rua= field")
                    .with("records", ev);
            }
            let rua = ruas.join(",");
            let uris: Vec<&str> = ruas
                .iter()
                .flat_map(|r| r.split(','))
                .map(str::trim)
                .collect();
            let bad: Vec<&&str> = uris.iter().filter(|u| !report_uri_ok(u)).collect();
            // A URI that is a URI but not one reports can go to (another scheme, a mailto:
            // with no address, DMARC's `!` size limit in the domain) beside one that is:
            // senders "MAY attempt to deliver to each of the supported rua destinations" (RFC
            // 8460 §3), so reports still go to the others; it used to fail the record.
            let skipped: Vec<&&str> = bad
                .iter()
                .copied()
                .filter(|u| report_uri_syntax_ok(u))
                .collect();
            if bad.is_empty() || (skipped.len() == bad.len() && bad.len() < uris.len()) {
                let usable = uris.len() - bad.len();
                // `tlsrpt-uri`: "commas (ASCII 0x2C), exclamation points (ASCII 0x21), and
                // semicolons (ASCII 0x3B) MUST be encoded" (RFC 8460 §3): mox's parser ends a
                // URI at a '!' and then discards the record ("leftover chars").
                let bang = uris.iter().find(|u| u.contains('!'));
                let (status, summary) = match tag_spelling(one, "rua") {
                    _ if bang.is_some_and(|u| !skipped.contains(&u)) => (
                        Status::Warn,
                        format!(
                            "'{}' has a '!', which must be written %21 (RFC 8460 §3): strict \
                             senders (mox) discard the record and send no reports, lenient ones \
                             report to it",
                            crate::check::probe::capped(bang.unwrap_or(&""))
                        ),
                    ),
                    _ if !skipped.is_empty() => {
                        let u = skipped[0];
                        let why = if u.is_empty() {
                            " (an empty entry: a ',' with no URI after it; strict senders, mox, \
                             discard the whole record for it)"
                        } else if u.contains('!') || dmarc_size_limit(u) {
                            " (a '!' size limit is DMARC's rua syntax, not TLS-RPT's; strict \
                             senders, mox, discard the whole record for the '!')"
                        } else if !u.contains(':') {
                            " (a ',' separates URIs, so each needs its scheme, and one inside a \
                             URI is written %2C; strict senders, mox, discard the whole record \
                             for a URI without a scheme)"
                        } else {
                            ""
                        };
                        (
                            Status::Warn,
                            format!(
                                "'{}' is not a mailto: address or an https: URL{why}: senders \
                                 skip it and report to the other {usable} URI{} (RFC 8460 §3)",
                                crate::check::probe::capped(&u.escape_debug().to_string()),
                                plural_s(usable)
                            ),
                        )
                    }
                    // Senders part ways on a second rua=: one reads the first only (the rest
                    // get no reports), one reads them all (mail-auth), a strict parser rejects
                    // the record (checkdmarc): then no report is sent at all.
                    _ if ruas.len() > 1 => (
                        Status::Warn,
                        format!(
                            "rua= is given {} times: senders differ (the first only, all of them, \
                             or none as the record is refused): list every URI in one rua=, \
                             comma-separated (RFC 8460 §3)",
                            ruas.len()
                        ),
                    ),
                    Some(w) => (Status::Warn, format!("{w} (RFC 8460 §3)")),
                    None => match bad_extension(one, &["rua"])
                        .map(|w| format!("{w} (RFC 8460 §3)"))
                        .or_else(|| spaced_version(one, "v=TLSRPTv1", "RFC 8460 §3"))
                        .or_else(|| {
                            delimiter_problem(one, false).map(|w| {
                                format!(
                                    "{w}, against the record's grammar (RFC 8460 §3): strict \
                                     senders (mox) discard the record and send no reports, \
                                     lenient ones read it"
                                )
                            })
                        }) {
                        Some(w) => (Status::Warn, w),
                        None => (
                            Status::Pass,
                            format!("reports go to {}", crate::check::probe::capped(&rua)),
                        ),
                    },
                };
                let uris: Vec<String> = uris.iter().map(|u| u.to_string()).collect();
                CheckResult::new("tlsrpt.record", status, summary)
                    .with("records", ev)
                    .with(
                        "rua",
                        json!(crate::check::probe::capped_lines(&uris, EVIDENCE_CAP)),
                    )
            } else {
                CheckResult::new(
                    "tlsrpt.record",
                    Status::Fail,
                    format!(
                        "rua must be mailto: URIs with an address or https: URIs with a host, not '{}'{}",
                        crate::check::probe::capped(&bad[0].escape_debug().to_string()),
                        if dmarc_size_limit(bad[0]) {
                            " (a '!' size limit is DMARC's rua syntax, not TLS-RPT's)"
                        } else {
                            ""
                        }
                    ),
                )
                .with("records", ev)
            }
        }
        many => CheckResult::new(
            "tlsrpt.record",
            Status::Fail,
            format!(
                "{} v=TLSRPTv1 records: there must be exactly one",
                many.len()
            ),
        )
        .with("records", ev),
    }
}

/// The policy terms of one SPF record: the qualifier of its first `all` (mechanisms are tried
/// left to right and `all` matches every sender, so a later one is never reached), and its
/// `redirect=` target when it has no `all` — RFC 7208 §6.1: a redirect is ignored when the
/// record has an `all` mechanism anywhere.
/// An SPF term's qualifier (`+` when none is written, RFC 7208 §4.6.2) and the rest.
pub(crate) fn spf_qualified(term: &str) -> (char, &str) {
    match term.chars().next() {
        Some(c @ ('+' | '-' | '~' | '?')) => (c, &term[1..]),
        _ => ('+', term),
    }
}

pub(crate) fn spf_policy(record: &str) -> (Option<char>, Option<String>) {
    let mut all = None;
    let mut redirect = None;
    for term in record.split_whitespace().skip(1) {
        let t = term.to_ascii_lowercase();
        let (q, mech) = spf_qualified(&t);
        if mech == "all" {
            all.get_or_insert(q);
        } else if let Some(d) = mech.strip_prefix("redirect=") {
            redirect = Some(d.to_string());
        }
    }
    (all, redirect.filter(|_| all.is_none()))
}

/// The verdict on the `all` that ends an SPF evaluation (`None`: the record has none and no
/// redirect, so unlisted senders get "neutral", RFC 7208 §4.7). `where_` names the record it
/// came from when that is not the domain's own ("in r.example.test, reached by redirect=").
pub(crate) fn spf_all_verdict(all: Option<char>, where_: &str) -> (Status, String) {
    match all {
        Some('+') => (
            Status::Fail,
            format!("+all{where_}: every host on the Internet may send as this domain"),
        ),
        Some('?') => (
            Status::Warn,
            format!("?all{where_}: a neutral result protects nothing"),
        ),
        None => (
            Status::Warn,
            format!("no 'all'{where_}: unlisted senders are neutral"),
        ),
        Some(q) => (Status::Pass, format!("{q}all{where_}")),
    }
}

/// The first syntax error of an SPF record (RFC 7208 §4.6.1: any syntax error makes the whole
/// record a permerror for every receiver, before any term is evaluated), by the grammar of §12:
/// the eight mechanisms with their arguments, `name=value` modifiers (unknown names are ignored,
/// §6), `redirect` and `exp` at most once (§6). Macro strings (§7) are accepted unexpanded.
pub(crate) fn spf_syntax_error(record: &str) -> Option<String> {
    let (mut redirects, mut exps) = (0, 0);
    for term in record.split_whitespace().skip(1) {
        let t = term.to_ascii_lowercase();
        // A modifier: its name (ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )) before the first `=`.
        if let Some((name, value)) = t.split_once('=')
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            match name {
                "redirect" => redirects += 1,
                "exp" => exps += 1,
                _ => {}
            }
            if redirects > 1 || exps > 1 {
                return Some(format!("'{name}=' appears twice (RFC 7208 §6)"));
            }
            if matches!(name, "redirect" | "exp") && value.is_empty() {
                return Some(format!("'{term}' names no domain"));
            }
            continue;
        }
        let (_, mech) = spf_qualified(&t);
        let (name, arg) = match mech.find([':', '/']) {
            Some(i) => (&mech[..i], &mech[i..]),
            None => (mech, ""),
        };
        let domain_ok = |a: &str, cidr: bool| {
            let (spec, rest) = match a.strip_prefix(':') {
                Some(d) => match d.find('/').filter(|_| cidr) {
                    Some(i) => (Some(&d[..i]), &d[i..]),
                    None => (Some(d), ""),
                },
                None => (None, a),
            };
            spec.is_none_or(|d| !d.is_empty()) && (rest.is_empty() || cidr && dual_cidr(rest))
        };
        let ok = match name {
            "all" => arg.is_empty(),
            "include" | "exists" => arg.len() > 1 && arg.starts_with(':') && domain_ok(arg, false),
            "a" | "mx" => domain_ok(arg, true),
            "ptr" => domain_ok(arg, false),
            "ip4" => arg
                .strip_prefix(':')
                .is_some_and(|n| network::<std::net::Ipv4Addr>(n, 32)),
            "ip6" => arg
                .strip_prefix(':')
                .is_some_and(|n| network::<std::net::Ipv6Addr>(n, 128)),
            _ => {
                return Some(format!("unknown mechanism '{}'", short(term)));
            }
        };
        if !ok {
            return Some(format!("malformed '{}'", short(term)));
        }
    }
    None
}

/// A term as quoted in a finding: at most 64 characters.
fn short(term: &str) -> String {
    match term.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &term[..i]),
        None => term.to_string(),
    }
}

/// `ip4:`/`ip6:` argument: an address and an optional `/prefix` of at most `max` bits.
fn network<A: std::str::FromStr>(n: &str, max: u32) -> bool {
    let (addr, len) = match n.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (n, None),
    };
    addr.parse::<A>().is_ok() && len.is_none_or(|l| l.parse::<u32>().is_ok_and(|l| l <= max))
}

/// `a`/`mx` dual CIDR length (RFC 7208 §5.6): `/N` (IPv4, ≤ 32), `//N` (IPv6, ≤ 128) or both.
fn dual_cidr(rest: &str) -> bool {
    let bits = |s: &str, max: u32| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_digit())
            && s.parse::<u32>().is_ok_and(|l| l <= max)
    };
    if let Some(v6) = rest.strip_prefix("//") {
        return bits(v6, 128);
    }
    let Some(rest) = rest.strip_prefix('/') else {
        return false;
    };
    match rest.split_once("//") {
        Some((v4, v6)) => bits(v4, 32) && bits(v6, 128),
        None => bits(rest, 32),
    }
}

/// `spf.record`: one `v=spf1` record (RFC 7208 §4.5: more is a permerror), no syntax error
/// ([`spf_syntax_error`], §4.6.1: a permerror too), at most 10
/// DNS-querying terms at the top level (§4.6.4: include, a, mx, ptr, exists, redirect), never
/// `+all`/bare `all` (anyone may send); `?all` or no `all` → warn. A `redirect=` is not an `all`:
/// without an `all` the target's record is the policy (§6.1), which only
/// [`dnsauth::spf`](super::dnsauth::spf) can follow; judged alone, such a record warns.
pub(crate) fn spf(records: &[String]) -> CheckResult {
    let recs: Vec<&String> = records
        .iter()
        .filter(|r| {
            let l = r.trim_start().to_ascii_lowercase();
            l == "v=spf1" || l.starts_with("v=spf1 ")
        })
        .collect();
    let ev = records_evidence(&recs);
    let one = match recs.as_slice() {
        [] => {
            return CheckResult::new("spf.record", Status::Warn, "no SPF record")
                .with("records", ev);
        }
        [one] => one,
        many => {
            return CheckResult::new(
                "spf.record",
                Status::Fail,
                format!("{} v=spf1 records: a permerror (RFC 7208 §4.5)", many.len()),
            )
            .with("records", ev);
        }
    };
    let mut lookups = 0usize;
    for term in one.split_whitespace().skip(1) {
        let t = term.to_ascii_lowercase();
        let mech = t.trim_start_matches(['+', '-', '~', '?']);
        let name = mech.split([':', '/', '=']).next().unwrap_or("");
        match name {
            "include" | "a" | "mx" | "ptr" | "exists" => lookups += 1,
            "redirect" if mech.starts_with("redirect=") => lookups += 1,
            _ => {}
        }
    }
    let (all, redirect) = spf_policy(one);
    let base = CheckResult::new("spf.record", Status::Pass, "")
        .with("records", ev)
        .with("lookups", lookups)
        .with("all", all.map(|q| format!("{q}all")));
    let (status, summary) = if let Some(e) = spf_syntax_error(one) {
        (
            Status::Fail,
            format!("{e}: a syntax error is a permerror for every receiver (RFC 7208 §4.6.1)"),
        )
    } else if lookups > 10 {
        (
            Status::Fail,
            format!(
                "{lookups} DNS-querying terms at the top level: over the limit of 10 (RFC 7208 §4.6.4)"
            ),
        )
    } else if let Some(target) = &redirect {
        (
            Status::Warn,
            format!(
                "no 'all': the policy is that of redirect={target} (RFC 7208 §6.1), not followed"
            ),
        )
    } else if matches!(all, Some('-' | '~')) {
        (
            Status::Pass,
            format!("{one} ({lookups} lookup terms at the top level)"),
        )
    } else {
        spf_all_verdict(all, "")
    };
    CheckResult {
        status,
        summary,
        ..base
    }
}

/// `dmarc.record`: one `v=DMARC1` record at `_dmarc.D` (RFC 7489 §6.1) with `p=` quarantine or
/// reject; `p=none` or no record → warn; several, or `p` missing/unknown → fail.
pub(crate) fn dmarc(records: &[String]) -> CheckResult {
    let recs = starting_with(records, "v=DMARC1");
    let ev = records_evidence(&recs);
    match recs.as_slice() {
        [] => CheckResult::new("dmarc.record", Status::Warn, "no DMARC record").with("records", ev),
        [one] => {
            let (t, bare) = dmarc_tags(one);
            let p = tag(&t, "p").map(str::to_ascii_lowercase);
            let base = CheckResult::new("dmarc.record", Status::Pass, "").with("records", ev);
            let base = match &p {
                Some(p) => base.with("p", p.as_str()),
                None => base,
            };
            let (status, summary) = match p.as_deref() {
                Some("reject") | Some("quarantine") => {
                    (Status::Pass, format!("p={}", p.as_deref().unwrap_or("")))
                }
                Some("none") => (
                    Status::Warn,
                    "p=none: monitoring only, failing mail is still delivered".to_string(),
                ),
                Some(other) => (Status::Fail, format!("unknown policy p={other}")),
                None => (
                    Status::Fail,
                    "no p= tag (RFC 7489 §6.3: required)".to_string(),
                ),
            };
            // It was "no p= tag" for `v=DMARC1; p=reject; fo`, a policy receivers apply.
            let (status, summary) = match bare.first() {
                Some(first) if status != Status::Fail => (
                    Status::Warn,
                    format!(
                        "{summary}; but '{}' is not a tag=value pair (RFC 7489 §6.4): OpenDMARC \
                         skips it, a stricter receiver may ignore the record",
                        crate::check::probe::capped(first)
                    ),
                ),
                _ => (status, summary),
            };
            CheckResult {
                status,
                summary,
                ..base
            }
        }
        many => CheckResult::new(
            "dmarc.record",
            Status::Fail,
            format!(
                "{} v=DMARC1 records: receivers ignore them all (RFC 7489 §6.6.3)",
                many.len()
            ),
        )
        .with("records", ev),
    }
}

/// Largest `max_age` (RFC 8461 §3.2: "a maximum value of 31557600").
pub(crate) const MAX_AGE_LIMIT: u64 = 31_557_600;

/// A parsed MTA-STS policy and the lint findings with their line numbers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Policy {
    /// `version` value.
    pub(crate) version: Option<String>,
    /// `mode` value (enforce, testing, none).
    pub(crate) mode: Option<String>,
    /// `max_age` in seconds.
    pub(crate) max_age: Option<u64>,
    /// `mx` patterns in order.
    pub(crate) mx: Vec<String>,
    /// `(line, status, message)`; line 0 = about the whole file.
    pub(crate) findings: Vec<(usize, Status, String)>,
}

impl Policy {
    /// The worst finding (pass when there is none).
    pub(crate) fn status(&self) -> Status {
        self.findings
            .iter()
            .map(|f| f.1)
            .max_by_key(|s| s.rank())
            .unwrap_or(Status::Pass)
    }

    /// Evidence for JSON. A 64 KiB policy can hold thousands of `mx` lines or findings, each
    /// quoting its line: the values are capped like every server text (the mx list to
    /// [`EVIDENCE_CAP`] bytes, the first [`FINDINGS_SHOWN`] findings, each message capped), with
    /// `findings_total` saying how many there were.
    pub(crate) fn evidence(&self) -> Value {
        use crate::check::probe::{capped, capped_lines};
        json!({
            "version": self.version.as_deref().map(capped),
            "mode": self.mode.as_deref().map(capped),
            "max_age": self.max_age,
            "mx": capped_lines(&self.mx, EVIDENCE_CAP),
            "findings": self.findings.iter().take(FINDINGS_SHOWN).map(|(l, s, m)| json!({"line": l, "status": s, "message": capped(m)})).collect::<Vec<_>>(),
            "findings_total": self.findings.len(),
        })
    }
}

/// The TXT records of a set for the evidence: as many whole records as fit in
/// [`EVIDENCE_CAP`] bytes, then one element saying how many bytes and records there were. A
/// DNS answer may hold 64 KiB of them (hundreds of `v=STSv1` records), all of which the report
/// and every JSON line used to repeat; a real set holds one.
fn records_evidence(recs: &[&String]) -> Value {
    let total: usize = recs.iter().map(|r| r.len()).sum();
    if total <= EVIDENCE_CAP {
        return json!(recs);
    }
    let mut out: Vec<String> = Vec::new();
    let mut used = 0;
    for r in recs {
        if used + r.len() > EVIDENCE_CAP {
            if out.is_empty() {
                out.push(crate::check::probe::capped(r));
            }
            break;
        }
        used += r.len();
        out.push(r.to_string());
    }
    out.push(format!(
        "… ({} in {} records in all)",
        crate::smtp::event::count_bytes(total),
        recs.len()
    ));
    json!(out)
}

/// Most bytes of a policy's `mx` patterns kept in the evidence (a real policy lists a few).
pub(crate) const EVIDENCE_CAP: usize = 2048;

/// How many of a policy's findings the evidence lists.
const FINDINGS_SHOWN: usize = 20;

/// [`lint_policy`] of a body as it came over HTTPS. The policy is UTF-8 text (RFC 8461 §3.2: its
/// values are `%x21-7E` or UTF-8 sequences): a byte that is not fails, at its line, since a
/// sender decoding the body strictly has no policy (postfix-mta-sts-resolver decodes it as
/// ASCII unless a charset is given, and any error is "no policy"); the rest is linted with the
/// byte replaced. A leading byte order mark fails too, with that reason: to a strict sender the
/// first key is `\u{feff}version`, so the policy has no version line.
pub(crate) fn lint_policy_bytes(body: &[u8]) -> Policy {
    let text = String::from_utf8_lossy(body);
    let bom = text.starts_with('\u{feff}');
    let mut p = lint_policy(text.strip_prefix('\u{feff}').unwrap_or(&text));
    let mut first = Vec::new();
    if bom {
        first.push((
            1,
            Status::Fail,
            "the policy begins with a byte order mark (EF BB BF): strict senders read its first \
             key as '\\u{feff}version' and find no version line (RFC 8461 §3.2)"
                .to_string(),
        ));
    }
    if let Err(e) = std::str::from_utf8(body) {
        let at = e.valid_up_to();
        let line = 1 + body[..at].iter().filter(|&&b| b == b'\n').count();
        first.push((
            line,
            Status::Fail,
            format!(
                "byte 0x{:02X} (offset {at}) is not UTF-8: the policy is UTF-8 text (RFC 8461 \
                 §3.2), and senders that decode it strictly have no policy",
                body[at]
            ),
        ));
    }
    first.append(&mut p.findings);
    p.findings = first;
    p
}

/// Lint an MTA-STS policy body (RFC 8461 §3.2): `key: value` lines; `version: STSv1` first,
/// `mode` one of enforce/testing/none, `max_age` an integer ≤ 31557600 (more → warn: some
/// senders cap it, strict ones refuse the policy;
/// under a day → warn), at least one `mx:` unless mode is none. LF-only line ends are common and
/// accepted (info); unknown keys are info (extensions are allowed); a line without `:` fails.
pub(crate) fn lint_policy(body: &str) -> Policy {
    let mut p = Policy::default();
    let mut lf_only = false;
    // Blank lines, and the first line and value of each field that may be given once.
    let mut blank: Vec<usize> = Vec::new();
    let mut firsts: Vec<(&str, usize, &str)> = Vec::new();
    // Lines whose key is a policy key in another case (`Mode:`): keys are case-sensitive
    // (`%s"mode"`, RFC 8461 §3.2), so a missing field's finding points at them.
    const KEYS: [&str; 4] = ["version", "mode", "max_age", "mx"];
    let mut cased: Vec<(usize, String)> = Vec::new();
    // Counted once: linear in the body whatever its lines (a body of blank LF lines is no cost).
    let lines = body.split('\n').count();
    for (i, raw) in body.split('\n').enumerate() {
        let n = i + 1;
        let line = match raw.strip_suffix('\r') {
            Some(l) => l,
            None => {
                if n < lines {
                    lf_only = true;
                }
                raw
            }
        };
        if wsp_trim(line).is_empty() {
            // `sts-policy-record` has a field on every line and at most one line end after the
            // last (RFC 8461 §3.2): only the empty text after that final line end is no line.
            if n < lines || !line.is_empty() {
                blank.push(n);
            }
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            p.findings
                .push((n, Status::Fail, format!("not a 'key: value' line: {line}")));
            continue;
        };
        // `field-delim = ":" *WSP` right after the key, which begins the line (RFC 8461 §3.2):
        // `mode : enforce` has no `mode` field for a strict sender.
        if k != wsp_trim(k) {
            p.findings.push((
                n,
                Status::Warn,
                format!(
                    "'{}:' is not spelled '{}:' (no space before the ':' or the key, RFC 8461 §3.2): strict senders see no {}",
                    crate::check::probe::capped(k),
                    crate::check::probe::capped(wsp_trim(k)),
                    crate::check::probe::capped(wsp_trim(k))
                ),
            ));
        }
        let (k, v) = (wsp_trim(k), wsp_trim(v));
        // A blank the grammar does not allow at either end of a known key's value: named, as a
        // terminal shows an NBSP or U+3000 as a space and escapes the rest out of sight.
        if matches!(k, "version" | "mode" | "max_age" | "mx") {
            let odd = |c: Option<char>| c.filter(|c| c.is_whitespace() || c.is_control());
            if let Some((end, c)) = odd(v.chars().next())
                .map(|c| ("begins with", c))
                .or_else(|| odd(v.chars().next_back()).map(|c| ("ends in", c)))
            {
                p.findings.push((
                    n,
                    Status::Fail,
                    format!(
                        "{k} '{}' {end} U+{:04X}, not a space or tab: only those may surround a \
                         value (RFC 8461 §3.2), so strict senders do not read it as written",
                        crate::check::probe::capped(v),
                        u32::from(c)
                    ),
                ));
            }
        }
        // RFC 8461 §3.2: "If any non-repeated field -- i.e., all fields excepting "mx" -- is
        // duplicated, all entries except for the first SHALL be ignored": the policy stays
        // valid with the first value (mox reads a valid second copy so), but
        // postfix-mta-sts-resolver keeps the last one, so a second value that differs splits
        // senders. A second copy that is not valid is ignored too by the RFC's reading, so the
        // policy stays in force with the first (a warn naming the line, as the mx match and the
        // certificate checks go on under the first value); strict parsers (mox) and last-value
        // readers have no policy then, which the warn says. A first copy that is not valid is
        // the one used, so that stays a fail.
        if matches!(k, "version" | "mode" | "max_age") {
            if let Some(&(_, line1, v1)) = firsts.iter().find(|f| f.0 == k) {
                let valid = match k {
                    "version" => v == "STSv1",
                    "mode" => ["enforce", "testing", "none"].contains(&v),
                    _ => !v.is_empty() && v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit()),
                };
                let (v, v1) = (
                    crate::check::probe::capped(v),
                    crate::check::probe::capped(v1),
                );
                p.findings.push(if !valid {
                    (
                        n,
                        Status::Warn,
                        format!(
                            "{k} given again as '{v}', which is not a valid {k}: senders \
                             following RFC 8461 §3.2 ignore it and use the first, '{v1}' (line \
                             {line1}), but strict ones (mox) reject the policy and those that \
                             keep the last value (postfix-mta-sts-resolver) have none: remove \
                             line {n}"
                        ),
                    )
                } else if v == v1 {
                    (
                        n,
                        Status::Info,
                        format!(
                            "{k} given again, as on line {line1}: senders use the first (RFC \
                             8461 §3.2); one line is enough"
                        ),
                    )
                } else {
                    (
                        n,
                        Status::Warn,
                        format!(
                            "{k} given again as '{v}' after '{v1}' (line {line1}): senders \
                             following RFC 8461 §3.2 use the first, postfix-mta-sts-resolver \
                             the last: keep one line"
                        ),
                    )
                });
                continue;
            }
            firsts.push((k, n, v));
        }
        match k {
            "version" => {
                if v != "STSv1" {
                    p.findings
                        .push((n, Status::Fail, format!("version is '{v}', must be STSv1")));
                } else if n != 1 && p.findings.iter().all(|f| f.0 != n) {
                    // Order is not mandated for receivers, but RFC 8461 §3.2 lists version first.
                    p.findings
                        .push((n, Status::Info, "version is not the first line".into()));
                }
                p.version.get_or_insert_with(|| v.to_string());
            }
            "mode" => {
                if !["enforce", "testing", "none"].contains(&v) {
                    p.findings.push((
                        n,
                        Status::Fail,
                        format!("mode '{v}' is not enforce, testing or none"),
                    ));
                }
                p.mode.get_or_insert_with(|| v.to_string());
            }
            "max_age" => {
                // `1*10(DIGIT)`: no sign (Rust's parse would take a `+`).
                match v.parse::<u64>() {
                    Ok(a) if v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit()) => {
                        if a > MAX_AGE_LIMIT {
                            p.findings.push((
                                n,
                                Status::Warn,
                                format!(
                                    "max_age {a} is over the maximum {MAX_AGE_LIMIT} (RFC 8461 \
                                     §3.2): some senders cap it, strict ones \
                                     (postfix-mta-sts-resolver) have no policy"
                                ),
                            ));
                        } else if a < 86_400 {
                            p.findings.push((
                                n,
                                Status::Warn,
                                format!("max_age {a} is under a day: policies should be cached for weeks"),
                            ));
                        }
                        p.max_age = Some(a.min(MAX_AGE_LIMIT));
                    }
                    _ => p.findings.push((
                        n,
                        Status::Fail,
                        format!(
                            "max_age '{v}' is not a whole number of seconds (at most 10 digits)"
                        ),
                    )),
                }
            }
            "mx" => match mx_pattern_problem(v) {
                Some((Status::Fail, why)) => p.findings.push((n, Status::Fail, why)),
                Some((status, why)) => {
                    p.findings.push((n, status, why));
                    p.mx.push(v.to_string());
                }
                None => p.mx.push(v.to_string()),
            },
            // The policy id is the TXT record's (RFC 8461 §3.1): a policy has none, so an `id`
            // line neither names the policy nor has to equal the record's id.
            "id" => p.findings.push((
                n,
                Status::Info,
                "'id' is not a policy key (ignored by senders): the policy id is the one of the \
                 _mta-sts TXT record (RFC 8461 §3.1), which senders compare with the id they \
                 cached to know when to fetch the policy again"
                    .into(),
            )),
            _ => p.findings.push(match extension_problem(k, v) {
                _ if KEYS.iter().any(|n| k.eq_ignore_ascii_case(n)) && cased.len() < 8 => {
                    cased.push((n, k.to_string()));
                    (
                        n,
                        Status::Info,
                        format!("unknown key '{k}' (ignored by senders)"),
                    )
                }
                Some(why) => (
                    n,
                    Status::Warn,
                    format!(
                        "unknown key '{}' {why} (RFC 8461 §3.2 `sts-policy-extension`): \
                         lenient senders ignore the line, strict ones (mox) reject the whole \
                         policy",
                        crate::check::probe::capped(k)
                    ),
                ),
                None => (
                    n,
                    Status::Info,
                    format!("unknown key '{k}' (ignored by senders)"),
                ),
            }),
        }
    }
    if let Some(&first) = blank.first() {
        let more = match blank.len() {
            1 => String::new(),
            n => format!(" ({n} blank lines in all)"),
        };
        p.findings.push((
            first,
            Status::Warn,
            format!(
                "blank line{more}: a policy has a key: value pair on every line and \
                 at most one line end after the last (RFC 8461 §3.2), so strict senders (mox) \
                 reject it; lenient ones skip the line"
            ),
        ));
    }
    if lf_only {
        p.findings.push((
            0,
            Status::Info,
            "lines end in LF, not CRLF: RFC 8461 §3.2 says CRLF, senders accept both".into(),
        ));
    }
    let hint = |key: &str| match cased.iter().find(|(_, k)| k.eq_ignore_ascii_case(key)) {
        Some((n, k)) => format!(
            " (line {n} has '{}', not '{key}': keys are case-sensitive, RFC 8461 §3.2)",
            crate::check::probe::capped(k)
        ),
        None => String::new(),
    };
    if p.version.is_none() {
        p.findings.push((
            0,
            Status::Fail,
            format!("no version: STSv1 line{}", hint("version")),
        ));
    }
    match p.mode.as_deref() {
        None => p
            .findings
            .push((0, Status::Fail, format!("no mode line{}", hint("mode")))),
        Some("none") => {}
        Some(_) if p.mx.is_empty() => p.findings.push((
            0,
            Status::Fail,
            format!("no mx line{}: every MX would fail the policy", hint("mx")),
        )),
        Some(_) => {}
    }
    if p.max_age.is_none() && !p.findings.iter().any(|f| f.2.starts_with("max_age")) {
        p.findings.push((
            0,
            Status::Fail,
            format!("no max_age line{}", hint("max_age")),
        ));
    }
    p
}

/// What keeps an unknown policy line from being an `sts-policy-extension` (RFC 8461 §3.2):
/// `sts-policy-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")` and a value of
/// one or more characters, UTF-8 allowed, with no control character (spaces only inside).
/// `k` and `v` come without the blanks around them.
fn extension_problem(k: &str, v: &str) -> Option<&'static str> {
    let name_ok = k.len() <= 32
        && k.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !name_ok {
        Some(
            "is not an extension name (a letter or digit, then at most 31 letters, digits, '_', \
             '-' or '.')",
        )
    } else if v.is_empty() {
        Some("has no value")
    } else if v.chars().any(|c| c.is_control()) {
        Some("has a control character in its value")
    } else {
        None
    }
}

/// `s` without the spaces and tabs around it: the policy grammar's only blank is `WSP` (RFC
/// 8461 §3.2, `field-delim = ":" *WSP`, RFC 5234 `WSP = SP / HTAB`). Rust's `trim` also takes
/// NBSP, NEL, form feed, vertical tab, a stray CR, U+3000…: a `mode: enforce` followed by one of
/// those is no `enforce` for a sender that follows the grammar, and the report must show it.
fn wsp_trim(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// RFC 8461 §4.1: does MX host `host` match `pattern`? Case-insensitive, trailing dots ignored;
/// `*.example.com` matches exactly one extra leftmost label.
/// What is wrong with an `mx` value by RFC 8461 §3.2's grammar, `["*."] Domain` (Domain as in
/// RFC 5321 §4.1.2: labels of letters, digits and inner hyphens, none empty): fail for a pattern
/// that can match nothing as written (`*example.net`, `*.*.example.net`, `mx..example.net`); a
/// trailing dot warns (the grammar has none; ehlo and lenient senders ignore it).
fn mx_pattern_problem(v: &str) -> Option<(Status, String)> {
    let (name, trailing_dot) = match v.strip_suffix('.') {
        Some(n) => (n, true),
        None => (v, false),
    };
    let name = name.strip_prefix("*.").unwrap_or(name);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.is_empty() || !name.split('.').all(label_ok) {
        return Some((
            Status::Fail,
            format!(
                "mx '{v}' is not a host name pattern ('*.' and a domain name of letters, digits and hyphens, RFC 8461 §3.2): it matches no MX"
            ),
        ));
    }
    trailing_dot.then(|| {
        (
            Status::Warn,
            format!("mx '{v}' ends in a dot, which the policy grammar does not allow: strict senders match no MX with it (RFC 8461 §3.2)"),
        )
    })
}

pub(crate) fn mx_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    match p.strip_prefix("*.") {
        Some(rest) => h
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
        None => p == h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(rs: &[&str]) -> Vec<String> {
        rs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn mtasts_txt_rules() {
        let cases: &[(&[&str], Status)] = &[
            (&[], Status::Info),
            (&["some other txt"], Status::Info),
            (&["v=STSv1; id=20240101T000000;"], Status::Pass),
            (&["v=STSv1;id=abc"], Status::Pass),
            // The tag is case-sensitive, no space around '=' (RFC 8461 §3.1).
            (&["v=STSv1; ID=abc123"], Status::Warn),
            (&["v=STSv1; id = abc123"], Status::Warn),
            (&["v=STSv1; id= abc123"], Status::Warn),
            (&["v=STSv10; id=abc"], Status::Info),
            // Discarded by senders, but meant as one: said, not "no record".
            (&["v=stsv1; id=abc"], Status::Fail),
            (&["V=STSv1; id=abc"], Status::Fail),
            (&["v=stsv1; id=abc", "v=STSv1; id=def"], Status::Pass),
            (&["v=STSv1; id=2024-01-01"], Status::Fail),
            (
                &["v=STSv1; id=123456789012345678901234567890123"],
                Status::Fail,
            ),
            (&["v=STSv1;"], Status::Fail),
            (&["v=STSv1; id"], Status::Fail),
            (&["v=STSv1; id=a", "v=STSv1; id=b"], Status::Fail),
            // Two ids in one record: which one a sender reads differs.
            (&["v=STSv1; id=abc; id=def"], Status::Warn),
            (&["v=STSv1; id=abc; ID=def"], Status::Warn),
            // Extension fields (RFC 8461 §3.1 `sts-extension`): well-formed ones pass, others
            // make the record syntactically invalid for strict senders.
            (&["v=STSv1; id=abc; ext=ok; x_y.z-1=a:b/c"], Status::Pass),
            // No version tag first: discarded, said so, not "no record".
            (&["id=abc"], Status::Fail),
            (&["id=abc; v=STSv1"], Status::Fail),
            // A discarded one beside a valid one: the valid one is the record.
            (&["id=abc", "v=STSv1; id=def"], Status::Pass),
            (&["v=STSv1; id=abc; ext=a b"], Status::Warn),
            (&["v=STSv1; id=abc; ext="], Status::Warn),
            (&["v=STSv1; id=abc; ext=a=b"], Status::Warn),
            (&["v=STSv1; id=abc; _ext=1"], Status::Warn),
            (&["v=STSv1; id=abc; ext =1"], Status::Warn),
            (&["v=STSv1; id=abc; ext=caf\u{e9}"], Status::Warn),
            (
                &["v=STSv1; id=abc; eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee=1"],
                Status::Warn,
            ),
            (
                &["v=STSv1; id=abc; eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee=1"],
                Status::Pass,
            ),
        ];
        for (recs, want) in cases {
            assert_eq!(mtasts_txt(&v(recs)).status, *want, "{recs:?}");
        }
    }

    /// `field-delim = *WSP ";" *WSP` and at most one after the last field (RFC 8461 §3.1): a
    /// space after the id with no `;`, an empty field, or a no-break space passed, though mox
    /// discards such a record ("leftover characters"). A trailing `;`, with blanks around it,
    /// is the grammar's own.
    #[test]
    fn a_record_outside_the_delimiter_grammar_warns() {
        for rec in [
            "v=STSv1; id=abc ",
            "v=STSv1; id=abc\t",
            "v=STSv1;; id=abc",
            "v=STSv1; id=abc;;",
            "v=STSv1; ;id=abc",
            "v=STSv1; id=abc\u{a0}",
            "v=STSv1;\u{2003}id=abc",
        ] {
            let c = mtasts_txt(&v(&[rec]));
            assert_eq!(c.status, Status::Warn, "{rec:?}: {c:?}");
            assert!(c.summary.contains("(mox) discard"), "{}", c.summary);
        }
        let c = mtasts_txt(&v(&["v=STSv1; id=abc "]));
        assert!(
            c.summary
                .starts_with("white space after the last field 'id=abc' with no ';' after it"),
            "{}",
            c.summary
        );
        assert!(
            mtasts_txt(&v(&["v=STSv1;; id=abc"]))
                .summary
                .starts_with("an empty field between two ';'")
        );
        for rec in [
            "v=STSv1; id=abc;",
            "v=STSv1; id=abc; ",
            "v=STSv1; id=abc ;",
            "v=STSv1;\tid=abc\t;\text=1 ; ",
        ] {
            let c = mtasts_txt(&v(&[rec]));
            assert_eq!(c.status, Status::Pass, "{rec:?}: {c:?}");
        }
        // TLS-RPT: an empty field warns; white space after the URI list is read by all.
        let c = tlsrpt(&v(&["v=TLSRPTv1;; rua=mailto:a@example.test"]));
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.summary.contains("send no reports"), "{}", c.summary);
        for rec in [
            "v=TLSRPTv1; rua=mailto:a@example.test ",
            "v=TLSRPTv1; rua=mailto:a@example.test; ",
        ] {
            let c = tlsrpt(&v(&[rec]));
            assert_eq!(c.status, Status::Pass, "{rec:?}: {c:?}");
        }
    }

    /// `mailto:tls@example.test!10m` (DMARC's size limit copied into TLS-RPT) passed: reports
    /// go to the domain `example.test!10m`, which no mail reaches. Now a fail that says why.
    #[test]
    fn a_dmarc_size_limit_in_a_tls_rpt_address_is_named() {
        let c = tlsrpt(&v(&["v=TLSRPTv1; rua=mailto:tls@example.test!10m"]));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(
            c.summary
                .ends_with("(a '!' size limit is DMARC's rua syntax, not TLS-RPT's)"),
            "{}",
            c.summary
        );
    }

    /// A percent-encoded byte in a report domain is the byte it stands for (RFC 3986 §2.1):
    /// `tls@x.test%2110m` is DMARC's `!10m` again, and `%40`, `%2F` or `%20` put an '@', a '/'
    /// or a space in the domain: each passed ("reports go to …"). A UTF-8 IDN so written, an
    /// encoded letter and a `%21` in the local part still pass.
    #[test]
    fn a_percent_encoded_byte_in_a_report_domain_is_judged_as_that_byte() {
        let c = tlsrpt(&v(&["v=TLSRPTv1; rua=mailto:tls@x.test%2110m"]));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(
            c.summary
                .ends_with("(a '!' size limit is DMARC's rua syntax, not TLS-RPT's)"),
            "{}",
            c.summary
        );
        let c = tlsrpt(&v(&[
            "v=TLSRPTv1; rua=mailto:a@y.test,mailto:tls@x.test%2110m",
        ]));
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.summary.contains("size limit is DMARC's"), "{}", c.summary);
        for bad in [
            "mailto:tls@x.test%40y.test",
            "mailto:tls@x%2Fy.test",
            "mailto:tls@x%20y.test",
            "https://r%21x.test/tls",
        ] {
            let c = tlsrpt(&v(&[&format!("v=TLSRPTv1; rua={bad}")]));
            assert_eq!(c.status, Status::Fail, "{bad}: {c:?}");
        }
        for good in [
            "mailto:tls@b%C3%BCcher.test",
            "mailto:tls@%78.test",
            "mailto:tls%21x@x.test",
            "https://b%c3%bccher.test/tls",
        ] {
            let c = tlsrpt(&v(&[&format!("v=TLSRPTv1; rua={good}")]));
            assert_eq!(c.status, Status::Pass, "{good}: {c:?}");
        }
    }

    /// RFC 8460 §3: senders "MAY attempt to deliver to each of the supported rua
    /// destinations", so a URI no report can go to beside one that can is skipped, not the end
    /// of all reports (the record failed); a '!' "MUST be encoded" (mox discards the record at
    /// one), so one in a usable URI warns (it passed). No usable URI, or one that is no URI,
    /// still fails.
    #[test]
    fn a_tls_rpt_uri_list_is_judged_uri_by_uri() {
        for (rec, want, says) in [
            (
                "v=TLSRPTv1; rua=mailto:a@x.test,ftp://x.test/r",
                Status::Warn,
                "'ftp://x.test/r' is not a mailto: address or an https: URL: senders skip it and \
                 report to the other 1 URI (RFC 8460 §3)",
            ),
            (
                "v=TLSRPTv1; rua=mailto:nobody,https://r.x.test/,mailto:b@x.test",
                Status::Warn,
                "'mailto:nobody' is not a mailto: address or an https: URL: senders skip it and \
                 report to the other 2 URIs",
            ),
            (
                "v=TLSRPTv1; rua=mailto:a@x.test,b@x.test",
                Status::Warn,
                "(a ',' separates URIs, so each needs its scheme",
            ),
            (
                "v=TLSRPTv1; rua=mailto:a@x.test,,mailto:b@x.test",
                Status::Warn,
                "(an empty entry",
            ),
            (
                "v=TLSRPTv1; rua=mailto:a@x.test,mailto:t@y.test!10m",
                Status::Warn,
                "(a '!' size limit is DMARC's rua syntax",
            ),
            (
                "v=TLSRPTv1; rua=mailto:tls!x@x.test",
                Status::Warn,
                "'mailto:tls!x@x.test' has a '!', which must be written %21",
            ),
            (
                "v=TLSRPTv1; rua=https://r.x.test/a!b",
                Status::Warn,
                "strict senders (mox) discard the record",
            ),
            ("v=TLSRPTv1; rua=mailto:tls%21x@x.test", Status::Pass, ""),
            ("v=TLSRPTv1; rua=ftp://x.test/r", Status::Fail, ""),
            (
                "v=TLSRPTv1; rua=mailto:nobody,ftp://x.test/r",
                Status::Fail,
                "",
            ),
            // One that is no URI at all: no parser reads it.
            (
                "v=TLSRPTv1; rua=mailto:a@x.test,mailto:a b@x.test",
                Status::Fail,
                "",
            ),
        ] {
            let c = tlsrpt(&v(&[rec]));
            assert_eq!(c.status, want, "{rec}: {c:?}");
            assert!(c.summary.contains(says), "{rec}: {}", c.summary);
        }
    }

    #[test]
    fn tlsrpt_rules() {
        let cases: &[(&[&str], Status)] = &[
            (&[], Status::Info),
            // Extension fields (RFC 8460 §3 `tlsrpt-extension`), as for MTA-STS.
            (
                &["v=TLSRPTv1; rua=mailto:a@example.test; ext=1"],
                Status::Pass,
            ),
            (
                &["v=TLSRPTv1; rua=mailto:a@example.test; ext=a b"],
                Status::Warn,
            ),
            (
                &["v=TLSRPTv1; rua=mailto:a@example.test; ext="],
                Status::Warn,
            ),
            (
                &["v=TLSRPTv1; _e=1; rua=mailto:a@example.test"],
                Status::Warn,
            ),
            // No version tag first: discarded (RFC 8460 §3), said so, not "no record".
            (&["rua=mailto:a@example.test"], Status::Fail),
            (&["rua=mailto:a@example.test; v=TLSRPTv1"], Status::Fail),
            (&["v=TLSRPTv2; rua=mailto:a@example.test"], Status::Info),
            (&["some other text"], Status::Info),
            (&["v=TLSRPTv1; rua=mailto:tls@example.test"], Status::Pass),
            (
                &["v=TLSRPTv1;rua=mailto:a@example.test,https://r.example.test/x"],
                Status::Pass,
            ),
            (&["v=TLSRPTv1; rua=http://r.example.test"], Status::Fail),
            (&["v=TLSRPTv1; rua=mailto:nobody"], Status::Fail),
            (&["v=TLSRPTv1; rua=mailto:@"], Status::Fail),
            (&["v=TLSRPTv1; rua=mailto:a@"], Status::Fail),
            (&["v=TLSRPTv1; rua=https://"], Status::Fail),
            (&["v=TLSRPTv1; rua=https:///x"], Status::Fail),
            (
                &["v=TLSRPTv1; rua=mailto:tls@example.test?subject=x"],
                Status::Pass,
            ),
            // Not URIs (RFC 3986 §2): a space, a control or non-ASCII character unencoded.
            (&["v=TLSRPTv1; rua=mailto:a b@example.test"], Status::Fail),
            (&["v=TLSRPTv1; rua=https://a b.example.test/"], Status::Fail),
            (
                &["v=TLSRPTv1; rua=mailto:a\u{1}\u{1b}@example.test"],
                Status::Fail,
            ),
            (
                &["v=TLSRPTv1; rua=mailto:t\u{e9}@example.test"],
                Status::Fail,
            ),
            (
                &["v=TLSRPTv1; rua=https://r.example.test/<x>"],
                Status::Fail,
            ),
            (&["v=TLSRPTv1; rua=mailto:a%20b@example.test"], Status::Pass),
            // A '%' that starts no percent-encoding, or two '@': not a URI a sender parses.
            (
                &["v=TLSRPTv1; rua=https://r.example.test/%zz"],
                Status::Fail,
            ),
            (
                &["v=TLSRPTv1; rua=https://r.example.test/100%"],
                Status::Fail,
            ),
            (&["v=TLSRPTv1; rua=mailto:a@@example.test"], Status::Fail),
            (&["v=TLSRPTv1; rua=mailto:a@b@example.test"], Status::Fail),
            // The domain or host itself: DMARC's '!' size limit, a bracket left open, a port
            // that is no number; an IDN in its A-label form and an address literal pass.
            (
                &["v=TLSRPTv1; rua=mailto:tls@example.test!10m"],
                Status::Fail,
            ),
            (&["v=TLSRPTv1; rua=https://[::1/x"], Status::Fail),
            (&["v=TLSRPTv1; rua=https://r.example.test:x/"], Status::Fail),
            (
                &["v=TLSRPTv1; rua=https://[2001:db8::1]:443/r"],
                Status::Pass,
            ),
            (&["v=TLSRPTv1; rua=https://u@r.example.test/"], Status::Pass),
            (
                &["v=TLSRPTv1; rua=mailto:tls@xn--bcher-kva.example"],
                Status::Pass,
            ),
            (
                &["v=TLSRPTv1; rua=https://r.example.test/%2Fx"],
                Status::Pass,
            ),
            (
                &["v=TLSRPTv1; rua=https://r.example.test:8443/v1?a=b&c=%3B"],
                Status::Pass,
            ),
            // The tag is case-sensitive, no space around '=' (RFC 8460 §3).
            (&["v=TLSRPTv1; RUA=mailto:tls@example.test"], Status::Warn),
            (&["v=TLSRPTv1; rua = mailto:tls@example.test"], Status::Warn),
            (&["v=TLSRPTv1;"], Status::Fail),
            (
                &[
                    "v=TLSRPTv1; rua=mailto:a@x.test",
                    "v=TLSRPTv1; rua=mailto:b@x.test",
                ],
                Status::Fail,
            ),
            // Several URIs, blanks around the ',' (`*WSP "," *WSP`), https beside mailto.
            (
                &["v=TLSRPTv1; rua=mailto:a@x.test , https://r.x.test/v1 ,mailto:b@x.test"],
                Status::Pass,
            ),
            // A non-TLS-RPT TXT record beside the record is discarded (RFC 8460 §3).
            (
                &["v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@x.test"],
                Status::Pass,
            ),
            // A record's strings are joined with nothing between them before it is read.
            (&["v=TLSRPTv1; rua=mailto:a@x.test"], Status::Pass),
        ];
        for (recs, want) in cases {
            assert_eq!(tlsrpt(&v(recs)).status, *want, "{recs:?}");
        }
    }

    /// A TXT RRset can hold 64 KiB: the record text quoted in a summary is cut like any other
    /// quoted text, and the rua list in the evidence is capped.
    #[test]
    fn record_text_quoted_in_a_summary_is_capped() {
        let long = format!("v=STSv1; id=1; {}", "x".repeat(3000));
        let c = mtasts_txt(&v(&[&long]));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.summary.len() < 400, "{} bytes", c.summary.len());
        let c = mtasts_txt(&v(&[&format!("v=STSv1; id={}", "y".repeat(3000))]));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.summary.len() < 400, "{} bytes", c.summary.len());
        let many: Vec<String> = (0..300).map(|i| format!("mailto:r{i}@x.test")).collect();
        let c = tlsrpt(&v(&[&format!("v=TLSRPTv1; rua={}", many.join(","))]));
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(c.summary.len() < 400, "{} bytes", c.summary.len());
        assert!(
            c.evidence["rua"].to_string().len() < 3000,
            "{}",
            c.evidence["rua"]
        );
        let bad = format!("v=TLSRPTv1; rua=https://{}", "z z".repeat(1000));
        let c = tlsrpt(&v(&[&bad]));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.summary.len() < 500, "{} bytes", c.summary.len());
    }

    /// RFC 8461 §3.1 and RFC 8460 §3: records not beginning exactly with `v=STSv1;` /
    /// `v=TLSRPTv1;` are discarded: leading white space is not trimmed away. A record that looks
    /// meant as one fails with the reason, never passes.
    #[test]
    fn records_must_begin_exactly_with_the_version_tag() {
        // The tag in another case too: `%s"v=STSv1"` is case-sensitive (it used to be "no
        // MTA-STS record", info, telling the owner nothing).
        for rec in [
            " v=STSv1; id=abc",
            "\tv=STSv1; id=abc",
            "v=stsv1; id=abc",
            "V=STSV1;id=abc",
        ] {
            let c = mtasts_txt(&v(&[rec]));
            assert_eq!(c.status, Status::Fail, "{rec:?}: {c:?}");
            assert!(
                c.summary.contains("does not begin with 'v=STSv1;'"),
                "{rec:?}: {c:?}"
            );
        }
        // A discarded record beside a good one: the good one is the policy.
        let c = mtasts_txt(&v(&[" v=STSv1; id=abc", "v=STSv1; id=def"]));
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert_eq!(c.evidence["id"], "def");
        for rec in [
            " v=TLSRPTv1; rua=mailto:a@x.test",
            "V=TLSRPTv1; rua=mailto:a@x.test",
            "v=tlsrptv1; rua=mailto:a@x.test",
        ] {
            let c = tlsrpt(&v(&[rec]));
            assert_eq!(c.status, Status::Fail, "{rec:?}: {c:?}");
            assert!(
                c.summary.contains("does not begin with 'v=TLSRPTv1;'"),
                "{rec:?}: {c:?}"
            );
        }
    }

    /// Blanks between the version tag and its `;` are the grammar's own (`field-delim = *WSP
    /// ";" *WSP`), and mox and postfix-mta-sts-resolver read such a record; only the RFCs'
    /// prose ("records that do not begin with 'v=STSv1;' are discarded") says otherwise. It
    /// failed as "senders discard it", and its policy was not fetched: now a warning, the
    /// record counted (two such records are two records, as mox and postfix-mta-sts-resolver
    /// count them).
    #[test]
    fn blanks_before_the_version_tags_semicolon_warn() {
        for rec in ["v=STSv1 ; id=abc", "v=STSv1\t;id=abc"] {
            let c = mtasts_txt(&v(&[rec]));
            assert_eq!(c.status, Status::Warn, "{rec:?}: {c:?}");
            assert!(
                c.summary
                    .starts_with("white space between 'v=STSv1' and its ';'"),
                "{c:?}"
            );
            assert_eq!(c.evidence["id"], "abc");
        }
        let c = mtasts_txt(&v(&["v=STSv1 ; id=a", "v=STSv1; id=b"]));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        let c = tlsrpt(&v(&["v=TLSRPTv1 ;rua=mailto:a@x.test"]));
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.summary.contains("RFC 8460 §3 discards"), "{c:?}");
    }

    /// A field that is not `key=value` makes the TLS-RPT record invalid (RFC 8460 §3): the
    /// report says so, and names the field, rather than "no rua=" beside a rua.
    #[test]
    fn a_tlsrpt_field_without_a_value_is_named() {
        let c = tlsrpt(&v(&["v=TLSRPTv1; rua=https://r.example.test/?a=b;c"]));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(!c.summary.contains("no rua"), "{c:?}");
        assert!(c.summary.contains("'c'"), "{c:?}");
        assert!(c.summary.contains("%3B"), "{c:?}");
        let c = tlsrpt(&v(&["v=TLSRPTv1; rua=mailto:a@x.test; bar"]));
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(!c.summary.contains("no rua"), "{c:?}");
        assert!(c.summary.contains("'bar'"), "{c:?}");
        let c = tlsrpt(&v(&["v=TLSRPTv1; ruf=mailto:a@x.test"]));
        assert!(c.summary.contains("no rua= field"), "{c:?}");
    }

    /// RFC 8460 §3 has one rua= whose value lists the URIs; a second rua= field is read by
    /// some senders, ignored by others and refused by strict ones: a warning naming the count
    /// and the remedy, every URI checked and in the evidence.
    #[test]
    fn a_second_rua_field_warns_and_its_uris_are_checked() {
        let c = tlsrpt(&v(&[
            "v=TLSRPTv1; rua=mailto:a@x.test; rua=https://r.x.test/v1",
        ]));
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.summary.contains("rua= is given 2 times"), "{c:?}");
        assert!(
            c.summary
                .contains("one rua=, comma-separated (RFC 8460 §3)"),
            "{c:?}"
        );
        assert_eq!(
            c.evidence["rua"],
            json!(["mailto:a@x.test", "https://r.x.test/v1"]),
            "{c:?}"
        );
        // A URI no report can go to in the second field is found too (skipped by senders,
        // RFC 8460 §3, as the first field's still gets reports).
        let c = tlsrpt(&v(&[
            "v=TLSRPTv1; rua=mailto:a@x.test; rua=http://r.x.test",
        ]));
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert!(c.summary.contains("http://r.x.test"), "{c:?}");
        // One rua= with a list stays a pass.
        let c = tlsrpt(&v(&["v=TLSRPTv1; rua=mailto:a@x.test,mailto:b@x.test"]));
        assert_eq!(c.status, Status::Pass, "{c:?}");
    }

    /// RFC 8461 §3.2: `field-delim = ":" *WSP` right after the key: no space before the colon.
    #[test]
    fn a_policy_key_with_a_space_before_the_colon_is_not_accepted() {
        let p = lint_policy(
            "version: STSv1\r\nmode : enforce\r\nmx: mx.example.test\r\nmax_age: 604800\r\n",
        );
        assert_ne!(p.status(), Status::Pass, "{:?}", p.findings);
        assert!(
            p.findings
                .iter()
                .any(|f| f.0 == 2 && f.2.contains("'mode :'")),
            "{:?}",
            p.findings
        );
        let p = lint_policy(
            "version: STSv1\r\n mode: enforce\r\nmx: mx.example.test\r\nmax_age: 604800\r\n",
        );
        assert_ne!(p.status(), Status::Pass, "{:?}", p.findings);
    }

    /// Only spaces and tabs may surround a key or value (RFC 8461 §3.2, `*WSP`): a value padded
    /// with NBSP, NEL, a form feed, a vertical tab, a stray CR or U+3000 is not `enforce`, not a
    /// number, not a host name to a sender that follows the grammar. They used to be trimmed
    /// away unseen, and such a policy passed.
    #[test]
    fn only_spaces_and_tabs_surround_a_policy_value() {
        let ok = "version: STSv1\r\nmode: enforce \t\r\nmx:\tmx.a.test\r\nmax_age:  86400\r\n";
        assert_eq!(
            lint_policy(ok).status(),
            Status::Pass,
            "{:?}",
            lint_policy(ok).findings
        );
        for (bad, line, quoted) in [
            (
                "mode: enforce\u{a0}",
                2,
                "mode 'enforce\u{a0}' ends in U+00A0, not a space",
            ),
            (
                "mode: enforce\u{85}",
                2,
                "mode 'enforce\u{85}' ends in U+0085",
            ),
            (
                "mode:\u{b}enforce",
                2,
                "mode '\u{b}enforce' begins with U+000B",
            ),
            ("mode: enforce\r", 2, "mode 'enforce\r' ends in U+000D"),
            (
                "max_age: 86400\u{c}",
                4,
                "max_age '86400\u{c}' ends in U+000C",
            ),
            (
                "mx: mx.a.test\u{3000}",
                3,
                "mx 'mx.a.test\u{3000}' ends in U+3000",
            ),
        ] {
            let key = bad.split(':').next().unwrap();
            let body: String = [
                "version: STSv1",
                "mode: enforce",
                "mx: mx.a.test",
                "max_age: 86400",
            ]
            .iter()
            .map(|l| if l.starts_with(key) { bad } else { l })
            .map(|l| format!("{l}\r\n"))
            .collect();
            let p = lint_policy(&body);
            assert_eq!(p.status(), Status::Fail, "{bad:?}: {:?}", p.findings);
            assert!(
                p.findings
                    .iter()
                    .any(|f| f.0 == line && f.1 == Status::Fail && f.2.starts_with(quoted)),
                "{bad:?}: {:?}",
                p.findings
            );
        }
    }

    #[test]
    fn spf_rules() {
        let many = format!(
            "v=spf1 {} -all",
            (0..11)
                .map(|i| format!("include:s{i}.test"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let cases: Vec<(Vec<String>, Status)> = vec![
            (v(&[]), Status::Warn),
            (v(&["v=spf1 mx -all"]), Status::Pass),
            (v(&["V=SPF1 ip4:192.0.2.0/24 ~all"]), Status::Pass),
            // A redirect is not an `all`: its target decides, which only dnsauth follows.
            (v(&["v=spf1 redirect=_spf.example.test"]), Status::Warn),
            // An `all` makes a redirect ignored (RFC 7208 §6.1).
            (v(&["v=spf1 -all redirect=_spf.example.test"]), Status::Pass),
            (v(&["v=spf1 +all redirect=_spf.example.test"]), Status::Fail),
            (v(&["v=spf1 +all"]), Status::Fail),
            (v(&["v=spf1 all"]), Status::Fail),
            (v(&["v=spf1 a ?all"]), Status::Warn),
            (v(&["v=spf1 a"]), Status::Warn),
            (v(&["v=spf1 -all", "v=spf1 mx -all"]), Status::Fail),
            (v(&["v=spf10 -all"]), Status::Warn),
            (vec![many], Status::Fail),
            // Syntax errors are permerrors (RFC 7208 §4.6.1).
            (v(&["v=spf1 foo -all"]), Status::Fail),
            (v(&["v=spf1 aaaa -all"]), Status::Fail),
            (v(&["v=spf1 include -all"]), Status::Fail),
            (v(&["v=spf1 ip4:192.0.2.300 -all"]), Status::Fail),
            (v(&["v=spf1 ip4:192.0.2.0/33 -all"]), Status::Fail),
            (v(&["v=spf1 ip6:2001:db8::/129 -all"]), Status::Fail),
            (v(&["v=spf1 mx/ -all"]), Status::Fail),
            (
                v(&["v=spf1 -all redirect=a.test redirect=b.test"]),
                Status::Fail,
            ),
            (v(&["v=spf1 all:x -all"]), Status::Fail),
        ];
        for (recs, want) in &cases {
            assert_eq!(spf(recs).status, *want, "{recs:?}");
        }
        // Every mechanism form of the grammar, and an unknown modifier (ignored, §6).
        assert_eq!(
            spf_syntax_error(
                "v=spf1 a a:x.test a/24 a:x.test/24//64 mx//64 mx:%{d}.test ptr ptr:x.test \
                 ip4:192.0.2.1 ip4:192.0.2.0/24 ip6:2001:db8::1 IP6:2001:DB8::/32 \
                 exists:%{i}.x.test include:_spf.x.test ?include:y.test x-note=hi \
                 exp=explain.%{d} -all"
            ),
            None
        );
        assert_eq!(
            spf(&v(&["v=spf1 a mx include:x.test exists:%{i}.y.test -all"])).evidence["lookups"],
            4
        );
    }

    #[test]
    fn dmarc_rules() {
        let cases: &[(&[&str], Status)] = &[
            (&[], Status::Warn),
            (
                &["v=DMARC1; p=reject; rua=mailto:d@example.test"],
                Status::Pass,
            ),
            (&["v=DMARC1;p=Quarantine"], Status::Pass),
            (&["v=DMARC1; p=none"], Status::Warn),
            (&["v=DMARC1; rua=mailto:d@example.test"], Status::Fail),
            (&["v=DMARC1; p=maybe"], Status::Fail),
            (&["v=DMARC1; p=reject", "v=DMARC1; p=none"], Status::Fail),
            // A part without '=' is outside the grammar; receivers skip it (OpenDMARC).
            (&["v=DMARC1; p=reject; fo"], Status::Warn),
            (&["v=DMARC1; fo; rua=mailto:d@example.test"], Status::Fail),
        ];
        for (recs, want) in cases {
            assert_eq!(dmarc(&v(recs)).status, *want, "{recs:?}");
        }
    }

    /// `v=DMARC1; p=reject; fo` has a p= tag: it was "no p= tag" (fail), the whole record read
    /// as tagless because one part had no '='. Now the policy is read as OpenDMARC reads it and
    /// the stray part is named; the subdomain policy is read past it too.
    #[test]
    fn a_part_without_an_equals_sign_does_not_hide_the_policy() {
        let c = dmarc(&v(&["v=DMARC1; p=reject; fo; sp=none"]));
        assert_eq!(c.status, Status::Warn, "{c:?}");
        assert_eq!(c.evidence["p"], "reject");
        assert!(
            c.summary
                .starts_with("p=reject; but 'fo' is not a tag=value pair (RFC 7489 §6.4)"),
            "{}",
            c.summary
        );
        assert_eq!(
            tag_value("v=DMARC1; p=reject; fo; sp=none", "sp").as_deref(),
            Some("none")
        );
        let none = dmarc(&v(&["v=DMARC1; p=none; x"]));
        assert_eq!(none.status, Status::Warn);
        assert!(
            none.summary.starts_with("p=none: monitoring only"),
            "{}",
            none.summary
        );
    }

    #[test]
    fn a_huge_policy_gives_small_evidence() {
        // 64 KiB of patterns and of bad lines: the evidence stays a few KiB.
        let mut body = String::from("version: STSv1\r\nmode: enforce\r\nmax_age: 604800\r\n");
        for i in 0..1500 {
            body.push_str(&format!("mx: mx{i}.example.test\r\nbad line {i}\r\n"));
        }
        let p = lint_policy(&body);
        assert!(p.findings.len() >= 1500, "{}", p.findings.len());
        let e = p.evidence();
        assert!(e.to_string().len() < 8192, "{} bytes", e.to_string().len());
        assert_eq!(e["findings_total"], json!(p.findings.len()));
        assert_eq!(e["findings"].as_array().map(Vec::len), Some(FINDINGS_SHOWN));
        let hosts = ["other.example.net".to_string()];
        let m = crate::check::mtasts::mx_match(&p, &hosts, true);
        assert_eq!(m.status, Status::Fail);
        assert!(m.summary.len() < 1024, "{} bytes", m.summary.len());
        assert!(serde_json::Value::Object(m.evidence).to_string().len() < 4096);
    }

    #[test]
    fn a_huge_txt_record_set_is_capped_in_the_evidence() {
        // 250 records of 215 bytes (53 KB, what one DNS answer over TCP can carry): every
        // check judging the set repeated all of them in its evidence, a 54 KB report line.
        let set = |tag: &str| -> Vec<String> {
            (0..250)
                .map(|i| format!("{tag}{i} {}", "x".repeat(200)))
                .collect()
        };
        let results = [
            mtasts_txt(&set("v=STSv1; id=")),
            tlsrpt(&set("v=TLSRPTv1; rua=mailto:a@b.test; x=")),
            spf(&set("v=spf1 a:h.test ip4:192.0.2.")),
            dmarc(&set("v=DMARC1; p=none; x=")),
        ];
        for r in results {
            assert_eq!(r.status, Status::Fail, "{}: {}", r.id, r.summary);
            let ev = &r.evidence["records"];
            let all = ev.as_array().unwrap();
            assert!(ev.to_string().len() < EVIDENCE_CAP + 512, "{}: {ev}", r.id);
            assert!(all.len() > 1, "{}: {ev}", r.id);
            assert!(
                all.last()
                    .and_then(|v| v.as_str())
                    .is_some_and(|l| l.ends_with(" in 250 records in all)")),
                "{}: {ev}",
                r.id
            );
        }
        // A set that fits is kept whole.
        let r = mtasts_txt(&["v=STSv1; id=1".to_string(), "v=STSv1; id=2".to_string()]);
        assert_eq!(
            r.evidence["records"],
            json!(["v=STSv1; id=1", "v=STSv1; id=2"])
        );
    }

    /// An `id:` line in the policy (copied from the TXT record, or a different one): the id is
    /// the TXT record's alone (RFC 8461 §3.1), so it is ignored, and said to be, whatever its
    /// value — the finding names where the id belongs instead of calling it an unknown key.
    #[test]
    fn an_id_line_in_the_policy_points_to_the_txt_record() {
        for id in ["1", "20260101"] {
            let p = lint_policy(&format!(
                "version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 604800\r\nid: {id}\r\n"
            ));
            assert_eq!(p.status(), Status::Info, "{:?}", p.findings);
            let (line, _, msg) = &p.findings[0];
            assert_eq!(*line, 5);
            assert!(
                msg.contains("not a policy key")
                    && msg.contains("_mta-sts TXT record (RFC 8461 §3.1)"),
                "{msg}"
            );
        }
    }

    /// RFC 8461 §3.2: a non-repeated field given twice keeps its first value ("all entries
    /// except for the first SHALL be ignored"), so the policy is valid. It failed ("given
    /// twice (only one is allowed)"), and mtasts.mx-match then said senders had no policy.
    #[test]
    fn a_field_given_twice_keeps_the_first_value_and_the_policy() {
        let body = |extra: &str| {
            format!(
                "version: STSv1\r\nmode: enforce\r\nmx: mx.a.test\r\nmax_age: 604800\r\n{extra}"
            )
        };
        // A second value that differs: senders part ways (the first by the RFC, the last by
        // postfix-mta-sts-resolver).
        for (extra, line, first) in [
            ("mode: testing\r\n", 5, "'enforce'"),
            ("max_age: 86400\r\n", 5, "'604800'"),
        ] {
            let p = lint_policy(&body(extra));
            assert_eq!(p.status(), Status::Warn, "{extra:?}: {:?}", p.findings);
            assert_eq!(p.mode.as_deref(), Some("enforce"));
            assert_eq!(p.max_age, Some(604_800));
            let f = &p.findings[0];
            assert_eq!((f.0, f.1), (line, Status::Warn), "{:?}", p.findings);
            assert!(f.2.contains(first), "{}", f.2);
            assert!(f.2.contains("postfix-mta-sts-resolver"), "{}", f.2);
        }
        // The same value again: info.
        for extra in [
            "mode: enforce\r\n",
            "version: STSv1\r\n",
            "max_age: 604800\r\n",
        ] {
            let p = lint_policy(&body(extra));
            assert_eq!(p.status(), Status::Info, "{extra:?}: {:?}", p.findings);
        }
        // An invalid second value: ignored by the RFC's reading, so the first stays in force
        // (it failed the whole policy); a warn naming the line, as mox and
        // postfix-mta-sts-resolver have no policy then.
        for (extra, first) in [
            ("mode: enforced\r\n", "'enforce' (line 2)"),
            ("version: STSv2\r\n", "'STSv1' (line 1)"),
            ("max_age: 1w\r\n", "'604800' (line 4)"),
            ("max_age: -1\r\n", "'604800' (line 4)"),
        ] {
            let p = lint_policy(&body(extra));
            assert_eq!(p.status(), Status::Warn, "{extra:?}: {:?}", p.findings);
            assert_eq!(p.mode.as_deref(), Some("enforce"));
            assert_eq!(p.max_age, Some(604_800));
            assert_eq!(p.version.as_deref(), Some("STSv1"));
            let f = &p.findings[0];
            assert_eq!((f.0, f.1), (5, Status::Warn), "{:?}", p.findings);
            assert!(f.2.contains(first), "{}", f.2);
            assert!(f.2.contains("remove line 5"), "{}", f.2);
            assert!(f.2.contains("mox"), "{}", f.2);
        }
        // The first copy is the one used: when it is not valid, the policy is not, whatever
        // follows.
        let p = lint_policy(
            "version: STSv1\r\nmode: enforced\r\nmx: mx.a.test\r\nmax_age: 604800\r\nmode: enforce\r\n",
        );
        assert_eq!(p.status(), Status::Fail, "{:?}", p.findings);
        assert_eq!(p.findings[0].0, 2, "{:?}", p.findings);
        // mx is the repeated field: every line counts.
        let p = lint_policy(&body("mx: mx2.a.test\r\n"));
        assert_eq!(p.status(), Status::Pass, "{:?}", p.findings);
        assert_eq!(p.mx, ["mx.a.test", "mx2.a.test"]);
    }

    /// `sts-policy-record` has a field on every line (RFC 8461 §3.2): a blank line inside or
    /// after the policy passed unseen, though mox rejects such a policy. One line end after
    /// the last line is the grammar's own.
    #[test]
    fn a_blank_line_in_a_policy_warns() {
        for (body, line) in [
            (
                "version: STSv1\r\n\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 86400\r\n",
                2,
            ),
            (
                "version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 86400\r\n\r\n",
                5,
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 86400\n \t",
                5,
            ),
        ] {
            let p = lint_policy(body);
            assert_eq!(p.status(), Status::Warn, "{body:?}: {:?}", p.findings);
            assert!(
                p.findings
                    .iter()
                    .any(|f| f.0 == line && f.2.starts_with("blank line:")),
                "{body:?}: {:?}",
                p.findings
            );
        }
        let p = lint_policy("version: STSv1\r\n\r\nmode: none\r\n\r\nmax_age: 86400");
        assert!(
            p.findings
                .iter()
                .any(|f| f.0 == 2 && f.2.starts_with("blank line (2 blank lines in all):")),
            "{:?}",
            p.findings
        );
        let p = lint_policy("version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 86400");
        assert_eq!(p.status(), Status::Pass, "{:?}", p.findings);
    }

    /// An unknown line is an `sts-policy-extension` only with a name of letters, digits, `_`,
    /// `-`, `.` (a letter or digit first, at most 32) and a value (RFC 8461 §3.2); otherwise mox
    /// rejects the whole policy. Such lines were "unknown key (ignored by senders)" info.
    #[test]
    fn an_unknown_line_outside_the_extension_grammar_warns() {
        let good = "version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 86400\r\n";
        for extra in [
            "my key: x",
            "# note: x",
            "_x: 1",
            "foo:",
            "foo:   ",
            "foo: a\tb",
            &format!("{}: 1", "k".repeat(33)),
        ] {
            let p = lint_policy(&format!("{good}{extra}\r\n"));
            assert_eq!(p.status(), Status::Warn, "{extra:?}: {:?}", p.findings);
            assert!(p.findings[0].2.contains("(mox) reject"), "{:?}", p.findings);
        }
        for extra in [
            "foo: bar baz",
            "x-y.z_1: caf\u{e9}",
            &format!("{}: 1", "k".repeat(32)),
        ] {
            let p = lint_policy(&format!("{good}{extra}\r\n"));
            assert_eq!(p.status(), Status::Info, "{extra:?}: {:?}", p.findings);
        }
    }

    /// Keys are case-sensitive (`%s"mode"`, RFC 8461 §3.2): `Mode: enforce` is no mode line,
    /// and the finding now points at the line that was meant as one.
    #[test]
    fn a_missing_field_points_at_its_key_in_another_case() {
        let p = lint_policy("version: STSv1\r\nMode: enforce\r\nMX: a.test\r\nmax_age: 86400\r\n");
        assert_eq!(p.status(), Status::Fail, "{:?}", p.findings);
        assert!(
            p.findings.iter().any(|f| f.2
                == "no mode line (line 2 has 'Mode', not 'mode': keys are case-sensitive, RFC \
                    8461 §3.2)"),
            "{:?}",
            p.findings
        );
        let p = lint_policy("version: STSv1\r\nmode: enforce\r\nMX: a.test\r\nMax_Age: 86400\r\n");
        assert!(
            p.findings
                .iter()
                .any(|f| f.2.starts_with("no mx line (line 3 has 'MX'")),
            "{:?}",
            p.findings
        );
        assert!(
            p.findings
                .iter()
                .any(|f| f.2.starts_with("no max_age line (line 4 has 'Max_Age'")),
            "{:?}",
            p.findings
        );
        let p = lint_policy("version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n");
        assert_eq!(p.status(), Status::Pass, "{:?}", p.findings);
    }

    #[test]
    fn policy_lint_with_line_numbers() {
        let good = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.test\r\nmx: *.example.test\r\nmax_age: 604800\r\n";
        let p = lint_policy(good);
        assert_eq!(p.status(), Status::Pass, "{:?}", p.findings);
        assert_eq!(p.mode.as_deref(), Some("enforce"));
        assert_eq!(p.mx, ["mx1.example.test", "*.example.test"]);
        assert_eq!(p.max_age, Some(604_800));

        let lf = lint_policy("version: STSv1\nmode: testing\nmx: a.test\nmax_age: 86400\n");
        assert_eq!(lf.status(), Status::Info, "{:?}", lf.findings);

        let bad =
            lint_policy("version: STSv2\nmode: enforced\nnmx: a.test\nmax_age: 99999999999\n");
        let lines: Vec<(usize, Status)> = bad.findings.iter().map(|f| (f.0, f.1)).collect();
        assert!(lines.contains(&(1, Status::Fail)), "{lines:?}");
        assert!(lines.contains(&(2, Status::Fail)), "{lines:?}");
        assert!(lines.contains(&(3, Status::Info)), "{lines:?}");
        assert!(lines.contains(&(4, Status::Fail)), "{lines:?}");
        assert_eq!(bad.status(), Status::Fail);

        let over = lint_policy("version: STSv1\r\nmode: none\r\nmax_age: 40000000\r\n");
        assert_eq!(over.status(), Status::Warn, "{:?}", over.findings);
        assert_eq!(over.max_age, Some(MAX_AGE_LIMIT));

        let no_mx = lint_policy("version: STSv1\r\nmode: enforce\r\nmax_age: 86400\r\n");
        assert_eq!(no_mx.status(), Status::Fail);
        assert!(lint_policy("").findings.len() >= 3);

        // `1*10(DIGIT)`: no sign.
        let signed = lint_policy("version: STSv1\r\nmode: none\r\nmax_age: +604800\r\n");
        assert_eq!(signed.status(), Status::Fail, "{:?}", signed.findings);
        assert_eq!(signed.max_age, None);

        // A 64 KiB body of blank LF lines: linted in one pass (it took minutes when every line
        // counted the body's lines again).
        let blank = format!(
            "version: STSv1\nmode: none\nmax_age: 86400\n{}",
            "\n".repeat(65_000)
        );
        assert_eq!(lint_policy(&blank).status(), Status::Warn);
    }

    /// A body as it came: a byte that is not UTF-8 fails at its line (lossy decoding used to
    /// hide it behind U+FFFD and pass the policy), and so does a leading byte order mark, with
    /// that reason rather than only "no version line".
    #[test]
    fn a_policy_body_that_is_not_utf8_or_starts_with_a_bom_fails_with_the_reason() {
        let good = b"version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 604800\r\n";
        assert_eq!(lint_policy_bytes(good).status(), Status::Pass);
        let utf8 =
            "version: STSv1\r\nmode: enforce\r\nmx: a.test\r\nmax_age: 604800\r\nnote: café\r\n";
        assert_eq!(lint_policy_bytes(utf8.as_bytes()).status(), Status::Info);

        let mut latin1 = good.to_vec();
        latin1.extend_from_slice(b"note: caf\xe9\r\n");
        let p = lint_policy_bytes(&latin1);
        assert_eq!(p.status(), Status::Fail, "{:?}", p.findings);
        let (line, _, msg) = &p.findings[0];
        assert_eq!(*line, 5, "{msg}");
        assert!(
            msg.starts_with("byte 0xE9 (offset 69) is not UTF-8"),
            "{msg}"
        );
        // The rest is still linted: the policy's fields are read.
        assert_eq!(p.mode.as_deref(), Some("enforce"));

        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(good);
        let p = lint_policy_bytes(&bom);
        assert_eq!(p.status(), Status::Fail, "{:?}", p.findings);
        assert!(
            p.findings[0].2.contains("byte order mark"),
            "{:?}",
            p.findings
        );
        assert!(
            p.findings.iter().all(|f| !f.2.contains("unknown key")),
            "{:?}",
            p.findings
        );
        assert_eq!(p.version.as_deref(), Some("STSv1"));
    }

    #[test]
    fn mx_patterns_follow_the_policy_grammar() {
        for bad in [
            "*.*.example.test",
            "*example.test",
            "mx..example.test",
            "mx_1.example.test",
            "-mx.example.test",
            "*.",
            "*",
            ".",
        ] {
            let p = lint_policy(&format!(
                "version: STSv1\r\nmode: testing\r\nmx: {bad}\r\nmx: mx.example.test\r\nmax_age: 604800\r\n"
            ));
            assert_eq!(p.status(), Status::Fail, "{bad}: {:?}", p.findings);
            assert!(
                p.findings.iter().any(|f| f.0 == 3),
                "{bad}: {:?}",
                p.findings
            );
            assert_eq!(p.mx, ["mx.example.test"], "{bad}");
        }
        let dot = lint_policy(
            "version: STSv1\r\nmode: testing\r\nmx: MX.Example.TEST.\r\nmax_age: 604800\r\n",
        );
        assert_eq!(dot.status(), Status::Warn, "{:?}", dot.findings);
        assert_eq!(dot.mx, ["MX.Example.TEST."]);
        let fine = lint_policy(
            "version: STSv1\r\nmode: testing\r\nmx: *.mx-1.example.test\r\nmx: MX2.EXAMPLE.TEST\r\nmax_age: 604800\r\n",
        );
        assert_eq!(fine.status(), Status::Pass, "{:?}", fine.findings);
    }

    #[test]
    fn mx_pattern_matching() {
        assert!(mx_matches("mx.example.test", "MX.example.test."));
        assert!(mx_matches("*.example.test", "mx1.example.test"));
        assert!(!mx_matches("*.example.test", "example.test"));
        assert!(!mx_matches("*.example.test", "a.b.example.test"));
        assert!(!mx_matches("mx.example.test", "mx2.example.test"));
    }
}
