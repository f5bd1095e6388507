//! Code registries: the IANA enhanced status codes (RFC 3463, RFC 5248; vendored CSV, parsed
//! by a small RFC 4180 parser), our basic-code table, class and subject names, and our own
//! one-line meaning per enhanced code.

use std::sync::LazyLock;

use super::EnhancedInfo;
use crate::smtp::reply::EnhancedCode;

/// IANA enumerated enhanced status codes (sub-registry 3), verbatim export. From
/// https://www.iana.org/assignments/smtp-enhanced-status-codes (CSV export): RFC 4180 CSV, CRLF between records, LF and
/// doubled quotes inside quoted fields.
pub(super) const ENHANCED_CSV: &str = include_str!("enhanced-status-codes.csv");

/// Basic reply codes in our own words (`code,meaning,source`).
pub(super) const BASIC_CSV: &str = include_str!("basic-reply-codes.csv");

/// Why a CSV text could not be parsed. Only reachable if the vendored files are edited badly;
/// the unit tests parse both files, so a broken edit fails the build's tests, not the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CsvError {
    /// A quoted field was still open at the end of the text (1-based line where it started).
    UnterminatedQuote { line: usize },
    /// Something other than a comma or a line end followed a closing quote.
    JunkAfterQuote { line: usize },
}

/// Parse RFC 4180 CSV into records of fields.
///
/// RFC 4180 §2: records end with CRLF; a field may be enclosed in double quotes, and then may
/// contain commas, CR, LF, and quotes written twice (`""`). We are strict where the data
/// depends on it (quotes) and lenient where being lenient cannot change a value: a bare LF
/// also ends a record (our own basic CSV may be saved with LF endings), a lone CR or a quote
/// inside an unquoted field is kept literally, and blank lines are skipped.
///
/// Every delimiter is ASCII, so the text is scanned as bytes and each field is copied as whole
/// slices between delimiters: the tables are parsed on the way to the first explained reply of
/// every run, and a character at a time cost more than the rest of a local SMTP dialogue
/// (measured with callgrind).
pub(super) fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
    let b = text.as_bytes();
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut line = 1usize;
    let mut i = 0;
    // Ends the current record; a record that is a single empty field is a blank line.
    fn end_record(records: &mut Vec<Vec<String>>, record: &mut Vec<String>, field: String) {
        record.push(field);
        let rec = std::mem::take(record);
        if !(rec.len() == 1 && rec[0].is_empty()) {
            records.push(rec);
        }
    }
    // A line break at `i`: CRLF or a bare LF (a lone CR is data).
    let line_break = |i: usize| match b.get(i) {
        Some(b'\n') => Some(1),
        Some(b'\r') if b.get(i + 1) == Some(&b'\n') => Some(2),
        _ => None,
    };
    // One field per turn, starting at `i`.
    loop {
        if i == b.len() {
            // The text ended where a field would start: after a comma that field is empty.
            if !record.is_empty() {
                end_record(&mut records, &mut record, String::new());
            }
            return Ok(records);
        }
        let mut field = String::new();
        if b[i] == b'"' {
            let quote_line = line;
            i += 1;
            loop {
                let Some(len) = b[i..].iter().position(|&c| c == b'"') else {
                    return Err(CsvError::UnterminatedQuote { line: quote_line });
                };
                let chunk = &text[i..i + len];
                line += chunk.bytes().filter(|&c| c == b'\n').count();
                field.push_str(chunk);
                i += len + 1;
                if b.get(i) == Some(&b'"') {
                    field.push('"');
                    i += 1;
                } else {
                    break;
                }
            }
            if i < b.len() && b[i] != b',' && line_break(i).is_none() {
                return Err(CsvError::JunkAfterQuote { line });
            }
        } else {
            let start = i;
            while i < b.len() && b[i] != b',' && line_break(i).is_none() {
                i += 1;
            }
            field.push_str(&text[start..i]);
        }
        match b.get(i) {
            // No final line break: the last record still counts (RFC 4180 §2 item 2).
            None => {
                end_record(&mut records, &mut record, field);
                return Ok(records);
            }
            Some(b',') => {
                record.push(field);
                i += 1;
            }
            Some(_) => {
                i += line_break(i).unwrap_or(1);
                line += 1;
                end_record(&mut records, &mut record, field);
            }
        }
    }
}

/// Collapse every run of whitespace (the registry wraps its prose with LF and indents some
/// continuation lines) into one space, and trim.
fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// One row of the IANA enumerated enhanced-status-code registry, with whitespace normalised
/// (wrapped lines joined) but otherwise verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegistryEntry {
    /// Subject (the `s` in `X.s.d`).
    pub(crate) subject: u16,
    /// Detail (the `d` in `X.s.d`).
    pub(crate) detail: u16,
    /// "Sample Text" column. Empty for X.6.10, which the registry keeps only as a deprecated
    /// duplicate of X.6.8.
    pub(crate) sample_text: String,
    /// "Associated basic status code" column: free text (`Any`, `451, 550`, `5XX`, `.`), a hint
    /// only, never a parseable list.
    pub(crate) associated_basic: String,
    /// "Description" column (registry prose; shown only on request, never as our explanation).
    pub(crate) description: String,
    /// "Reference" column (`[RFC3463] (Standards Track)`).
    pub(crate) reference: String,
}

impl RegistryEntry {
    /// The code in registry form, `X.s.d`.
    #[cfg(test)]
    pub(crate) fn code(&self) -> String {
        format!("X.{}.{}", self.subject, self.detail)
    }
}

/// `X.1.10` → (1, 10).
fn parse_registry_code(s: &str) -> Option<(u16, u16)> {
    let mut it = s.trim().split('.');
    let x = it.next()?;
    if !x.eq_ignore_ascii_case("x") {
        return None;
    }
    let subject = it.next()?.parse().ok()?;
    let detail = it.next()?.parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    Some((subject, detail))
}

/// Column positions of the registry CSV, found by header name, so a future export with
/// reordered or extra columns still loads.
struct Columns {
    code: usize,
    sample: usize,
    basic: usize,
    desc: usize,
    reference: usize,
}

impl Columns {
    fn from_header(header: &[String]) -> Result<Columns, String> {
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
                .ok_or_else(|| format!("registry CSV has no column {name:?}"))
        };
        Ok(Columns {
            code: col("Code")?,
            sample: col("Sample Text")?,
            basic: col("Associated basic status code")?,
            desc: col("Description")?,
            reference: col("Reference")?,
        })
    }

    fn entry(&self, row: &[String]) -> Result<RegistryEntry, String> {
        let get = |i: usize| row.get(i).map(|s| squash(s)).unwrap_or_default();
        let code = row.get(self.code).map(String::as_str).unwrap_or("");
        let (subject, detail) =
            parse_registry_code(code).ok_or_else(|| format!("bad registry code {code:?}"))?;
        Ok(RegistryEntry {
            subject,
            detail,
            sample_text: get(self.sample),
            associated_basic: get(self.basic),
            description: get(self.desc),
            reference: get(self.reference),
        })
    }
}

/// Build the whole registry from the CSV text.
pub(super) fn load_registry(text: &str) -> Result<Vec<RegistryEntry>, String> {
    let records = parse_csv(text).map_err(|e| format!("{e:?}"))?;
    let (header, rows) = records.split_first().ok_or("empty registry CSV")?;
    let cols = Columns::from_header(header)?;
    rows.iter().map(|row| cols.entry(row)).collect()
}

/// Parsed once, at first use. A parse failure (only possible after a bad edit of the vendored
/// file, which the tests catch) degrades to an empty registry instead of a panic.
static REGISTRY: LazyLock<Vec<RegistryEntry>> =
    LazyLock::new(|| load_registry(ENHANCED_CSV).unwrap_or_default());

/// All registry entries, in registry order.
#[cfg(test)]
pub(crate) fn registry() -> &'static [RegistryEntry] {
    &REGISTRY
}

/// The registry row for `X.subject.detail`, if registered.
pub(crate) fn registry_entry(subject: u16, detail: u16) -> Option<&'static RegistryEntry> {
    REGISTRY
        .iter()
        .find(|e| e.subject == subject && e.detail == detail)
}

/// The registry record that starts at byte `start`, its CRLF included. The IANA export ends
/// every record with CRLF (RFC 4180 §2) and wraps the prose inside quoted fields with a bare LF,
/// so a record ends at the next CRLF (the unit tests check that every row found this way equals
/// the full parse).
fn record_at(start: usize) -> &'static str {
    let rest = &ENHANCED_CSV.as_bytes()[start..];
    let end = memchr::memmem::find(rest, b"\r\n").map_or(rest.len(), |e| e + 2);
    &ENHANCED_CSV[start..start + end]
}

/// The registry's column positions, from its header record, parsed once.
static COLUMNS: LazyLock<Option<Columns>> = LazyLock::new(|| {
    let header = parse_csv(record_at(0)).ok()?;
    Columns::from_header(header.first()?).ok()
});

/// The registry row for `X.subject.detail`, parsed from its own record only. Every reply of a
/// run is explained, but a run meets only a handful of codes: parsing all 81 rows with their
/// prose, or even indexing them, at every start cost more than the whole SMTP dialogue
/// (callgrind), so the record is found by its code at the start of a line (`CRLF X.s.d,`)
/// and parsed alone ([`record_at`]).
pub(super) fn registry_row(subject: u16, detail: u16) -> Option<RegistryEntry> {
    let cols = COLUMNS.as_ref()?;
    let key = format!("\r\nX.{subject}.{detail},");
    let start = memchr::memmem::find(ENHANCED_CSV.as_bytes(), key.as_bytes())? + 2;
    let row = parse_csv(record_at(start)).ok()?;
    cols.entry(row.first()?).ok()
}

/// One row of our basic-code table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BasicEntry {
    /// Three-digit code.
    pub(crate) code: u16,
    /// Meaning in our words, without command context.
    pub(crate) meaning: String,
    /// Where the code is defined ("RFC 5321 §4.2.3").
    pub(crate) source: String,
}

pub(super) fn load_basic(text: &str) -> Result<Vec<BasicEntry>, String> {
    let records = parse_csv(text).map_err(|e| format!("{e:?}"))?;
    let (header, rows) = records.split_first().ok_or("empty basic CSV")?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
            .ok_or_else(|| format!("basic CSV has no column {name:?}"))
    };
    let (c_code, c_meaning, c_source) = (col("code")?, col("meaning")?, col("source")?);
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let code = row.get(c_code).map(String::as_str).unwrap_or("");
        let code: u16 = code
            .trim()
            .parse()
            .map_err(|_| format!("bad basic code {code:?}"))?;
        out.push(BasicEntry {
            code,
            meaning: row.get(c_meaning).map(|s| squash(s)).unwrap_or_default(),
            source: row.get(c_source).map(|s| squash(s)).unwrap_or_default(),
        });
    }
    Ok(out)
}

pub(super) static BASIC: LazyLock<Vec<BasicEntry>> =
    LazyLock::new(|| load_basic(BASIC_CSV).unwrap_or_default());

/// Our table row for a basic code, if the code is one we describe.
pub(crate) fn basic_entry(code: u16) -> Option<&'static BasicEntry> {
    BASIC.iter().find(|e| e.code == code)
}

/// Meaning of a basic reply code in our own words (no context).
pub(crate) fn basic_meaning(code: u16) -> Option<&'static str> {
    basic_entry(code).map(|e| e.meaning.as_str())
}

// ---------------------------------------------------------------------------------------------
// Enhanced codes: class and subject names (RFC 3463 §2), our own meanings
// ---------------------------------------------------------------------------------------------

/// Registry name of an enhanced-code subject (RFC 3463 §2; IANA sub-registry 2).
pub(crate) fn subject_name(subject: u16) -> Option<&'static str> {
    Some(match subject {
        0 => "Other or Undefined Status",
        1 => "Addressing Status",
        2 => "Mailbox Status",
        3 => "Mail System Status",
        4 => "Network and Routing Status",
        5 => "Mail Delivery Protocol Status",
        6 => "Message Content or Media Status",
        7 => "Security or Policy Status",
        _ => return None,
    })
}

/// The word we put in front of every meaning so the class is never lost.
fn class_word(class: u8) -> &'static str {
    match class {
        2 => "Success",
        4 => "Temporary failure (retry later)",
        5 => "Permanent failure",
        _ => "Any class",
    }
}

/// Our own one-line meaning of every registered code (X.subject.detail), written for ehlo.
/// Not registry or RFC prose.
pub(super) const OWN_WORDS: &[(u16, u16, &str)] = &[
    (
        0,
        0,
        "no details given; only the class of the outcome is known",
    ),
    (1, 0, "something about an address caused this"),
    (
        1,
        1,
        "the recipient mailbox does not exist here (the part before the @ is wrong)",
    ),
    (
        1,
        2,
        "the recipient's domain does not exist or cannot take mail (the part after the @ is wrong)",
    ),
    (1, 3, "the recipient address is not valid address syntax"),
    (1, 4, "the recipient address matches more than one mailbox"),
    (1, 5, "the recipient address is fine"),
    (
        1,
        6,
        "the mailbox used to exist but is gone, and no forwarding address is known",
    ),
    (1, 7, "the sender address is not valid address syntax"),
    (
        1,
        8,
        "the sender's domain does not exist or cannot receive replies and bounces",
    ),
    (
        1,
        9,
        "accepted, but handed on to a system that cannot report further status",
    ),
    // IANA registers X.1.10 for a null MX (RFC 7505 §4); Microsoft 365 (Exchange Online) sends
    // 5.1.10 for a recipient it cannot find (Microsoft Learn, "Fix email delivery issues for
    // error code 5.1.10 in Exchange Online"), which is the far more common sighting. A bare
    // code cannot tell which: the line says both, the registry's first.
    (
        1,
        10,
        "IANA registry: a null MX (RFC 7505), the recipient's domain takes no mail at all; \
         Microsoft 365 also sends 5.1.10 for a recipient not found (RESOLVER.ADR.RecipientNotFound)",
    ),
    (2, 0, "the mailbox exists but has some unspecified problem"),
    (
        2,
        1,
        "the mailbox exists but is disabled and takes no messages",
    ),
    (2, 2, "the recipient's mailbox is over its quota"),
    (2, 3, "the message is larger than this mailbox allows"),
    (2, 4, "a mailing-list address could not be expanded"),
    (
        3,
        0,
        "the receiving mail system has some unspecified problem",
    ),
    (3, 1, "the mail system has run out of storage"),
    (
        3,
        2,
        "the host is not taking mail from the network (shutting down, or not a mail host)",
    ),
    (
        3,
        3,
        "the system cannot provide a feature the message asks for",
    ),
    (
        3,
        4,
        "the message is larger than the system's per-message size limit",
    ),
    (3, 5, "the mail system is misconfigured"),
    (3, 6, "accepted, but the requested priority was changed"),
    (4, 0, "some unspecified network or routing problem"),
    // Microsoft 365 (Exchange Online) refuses a recipient its directory does not know with
    // `550 5.4.1 Recipient address rejected: Access denied` (Microsoft Learn, "Fix error code
    // 550 5.4.1 in Exchange Online": directory-based edge blocking); a bare code cannot tell
    // which, so the line says both, the registry's first (as X.1.10).
    (
        4,
        1,
        "the next host did not answer the connection attempt; Microsoft 365 also sends 5.4.1 \
         for a recipient its directory does not know (\"Recipient address rejected: Access \
         denied\", directory-based edge blocking)",
    ),
    (4, 2, "the connection to the next host broke or stalled"),
    (
        4,
        3,
        "a directory lookup (such as DNS) failed while routing the message",
    ),
    (
        4,
        4,
        "no route to the destination could be found (e.g. no usable MX or address records)",
    ),
    (4, 5, "the mail system is congested"),
    (
        4,
        6,
        "a routing loop was detected (the message went through too many hops)",
    ),
    (4, 7, "the message sat in a queue too long and expired"),
    (5, 0, "some unspecified SMTP protocol problem"),
    (
        5,
        1,
        "the command was not recognised or is not allowed here",
    ),
    (5, 2, "the command could not be parsed"),
    (5, 3, "too many recipients for one message"),
    (5, 4, "the command's arguments are not valid"),
    (5, 5, "the two sides use incompatible protocol versions"),
    (5, 6, "a line of the AUTH exchange was too long"),
    (
        6,
        0,
        "something about the message content is not acceptable",
    ),
    (6, 1, "a media type used in the message is not supported"),
    (
        6,
        2,
        "the content would need converting, but conversion is not allowed",
    ),
    (
        6,
        3,
        "the content would need converting, but the system cannot do it",
    ),
    (
        6,
        4,
        "delivered, but converting the content lost some information",
    ),
    (6, 5, "converting the content failed"),
    (
        6,
        6,
        "the content could not be fetched from where it is stored remotely",
    ),
    (
        6,
        7,
        "internationalised (non-ASCII) addresses are not allowed for this sender or recipient",
    ),
    (
        6,
        8,
        "the reply needs UTF-8, but the client did not ask for SMTPUTF8",
    ),
    (
        6,
        9,
        "a message with UTF-8 headers cannot be passed to some recipients",
    ),
    (
        6,
        10,
        "deprecated duplicate of X.6.8 (UTF-8 reply needed but not allowed)",
    ),
    (7, 0, "some unspecified security or policy problem"),
    (
        7,
        1,
        "policy does not let this sender send this message to this destination",
    ),
    (7, 2, "the sender may not send to this mailing list"),
    (
        7,
        3,
        "a needed conversion between secure-messaging formats is impossible",
    ),
    (
        7,
        4,
        "security features in the message (signing, encryption) are not supported",
    ),
    (
        7,
        5,
        "a cryptographic operation (decrypting or verifying) failed",
    ),
    (7, 6, "the cryptographic algorithm used is not supported"),
    (7, 7, "the message failed an integrity check"),
    (7, 8, "the username or password was rejected"),
    (
        7,
        9,
        "this AUTH mechanism is too weak for the server's policy",
    ),
    (7, 10, "an encrypted connection is needed"),
    (
        7,
        11,
        "this AUTH mechanism is only allowed over an encrypted connection",
    ),
    (
        7,
        12,
        "the user must authenticate once with PLAIN (over TLS) before the selected mechanism \
         works (RFC 4954 §6)",
    ),
    (7, 13, "the user account is disabled"),
    (
        7,
        14,
        "a configured trust relationship with the server is needed",
    ),
    (
        7,
        15,
        "the message priority is below what the server accepts right now",
    ),
    (
        7,
        16,
        "the message is too big for the priority it asked for",
    ),
    (
        7,
        17,
        "the mailbox changed owner since the date the sender gave (RRVS)",
    ),
    (
        7,
        18,
        "the domain changed owner since the date the sender gave (RRVS)",
    ),
    (7, 19, "the RRVS ownership check could not be carried out"),
    (7, 20, "no DKIM signature on the message verifies"),
    (
        7,
        21,
        "DKIM signatures verify, but none is acceptable to the receiver",
    ),
    (
        7,
        22,
        "no valid DKIM signature matches the author's (From:) domain",
    ),
    (
        7,
        23,
        "the sending host is not allowed by the sender domain's SPF record",
    ),
    (
        7,
        24,
        "the SPF check could not be completed (DNS trouble or a broken record)",
    ),
    (
        7,
        25,
        "the sending IP address has no matching reverse DNS (PTR) name",
    ),
    (
        7,
        26,
        "several sender authentication checks (e.g. SPF, DKIM, DMARC) failed",
    ),
    (
        7,
        27,
        "the sender's domain has a null MX, so bounces could never be returned",
    ),
    (
        7,
        28,
        "the message looks like part of a flood of similar abusive mail",
    ),
    (
        7,
        29,
        "ARC (authenticated received chain) validation failed",
    ),
    (
        7,
        30,
        "the message demands TLS on every hop (REQUIRETLS) and that cannot be met",
    ),
];

pub(super) fn own_words(subject: u16, detail: u16) -> Option<&'static str> {
    OWN_WORDS
        .iter()
        .find(|(s, d, _)| *s == subject && *d == detail)
        .map(|(_, _, m)| *m)
}

/// Brief paraphrase for a code we have no own words for: the registry's sample text placed
/// under its subject. Used for rows a newer registry export might add.
pub(super) fn paraphrase(class: u8, subject: u16, sample: &str) -> String {
    let subj = subject_name(subject).unwrap_or("unregistered subject");
    let sample = if sample.is_empty() {
        "no sample text"
    } else {
        sample
    };
    format!(
        "{}: {} ({})",
        class_word(class),
        subj.to_lowercase(),
        sample.to_lowercase()
    )
}

/// Meaning for a code missing from the registry: class and subject names only.
fn unregistered_meaning(class: u8, subject: u16, detail: u16) -> String {
    match subject_name(subject) {
        Some(s) => format!(
            "{}: {}; detail {detail} is not in the IANA registry",
            class_word(class),
            s.to_lowercase()
        ),
        None => format!(
            "{}: subject {subject} is not in the IANA registry",
            class_word(class)
        ),
    }
}

/// Look up an enhanced status code in the registry (class 2/4/5 or `X`).
///
/// A class other than 2, 4 or 5 (use 0) stands for the registry's class-free `X` form
/// (`:explain X.7.1`). A code that is not registered still gets an answer built from the class
/// and subject names (RFC 3463 §2), so servers' private details (Microsoft's 5.7.708) are
/// described as far as the standard allows.
pub(crate) fn lookup_enhanced(code: &EnhancedCode) -> Option<EnhancedInfo> {
    if code.subject > 999 || code.detail > 999 {
        return None;
    }
    let class = if matches!(code.class, 2 | 4 | 5) {
        code.class
    } else {
        0
    };
    let shown = if class == 0 {
        format!("X.{}.{}", code.subject, code.detail)
    } else {
        code.to_string()
    };
    match registry_row(code.subject, code.detail) {
        Some(e) => {
            // X.6.10 has no sample text: its description (one short registry sentence) is
            // the only title there is.
            let title = if e.sample_text.is_empty() {
                e.description.clone()
            } else {
                e.sample_text.clone()
            };
            let meaning = match own_words(code.subject, code.detail) {
                Some(m) => format!("{}: {m}", class_word(class)),
                None => paraphrase(class, code.subject, &e.sample_text),
            };
            Some(EnhancedInfo {
                code: shown,
                title,
                meaning,
            })
        }
        None => Some(EnhancedInfo {
            code: shown,
            title: "Not in the IANA registry".to_string(),
            meaning: unregistered_meaning(class, code.subject, code.detail),
        }),
    }
}
