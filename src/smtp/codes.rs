//! Reply-code knowledge: basic codes (RFC 5321 §4.2.3 and extensions), the IANA enhanced status
//! code registry (RFC 3463, RFC 5248; vendored CSV), and context hints ("530 after MAIL → add
//! --tls"). Our own words; registry data verbatim.
//!
//! Three layers, as recommended in the peers reference (§5):
//! 1. registry meaning: the IANA "SMTP Enhanced Status Codes" enumerated-codes export
//!    (`enhanced-status-codes.csv`, 81 codes X.0.0–X.7.30) read with `include_str!` and parsed
//!    once, on first use, by a small RFC 4180 parser; plus our own one-line meaning per code;
//! 2. command context: RFC 5321 §4.3.2 says which replies each command may get, and the same
//!    code means different things after different commands ("550 after RCPT" is a refused
//!    recipient, "550 after MAIL" a refused sender);
//! 3. an actionable hint in our words ("add --tls"), with vendor-specific hints marked as such
//!    ("(Microsoft) …") because they are not standard.
//!
//! Everything here is pure and total: any reply, even garbage, gets an explanation and nothing
//! panics. Only a bounded prefix of the reply text is ever scanned for keywords.

use std::sync::LazyLock;

use serde::Serialize;

use crate::smtp::event::Phase;
use crate::smtp::reply::{EnhancedCode, Reply};

/// Registry entry of an enhanced status code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnhancedInfo {
    /// The code as received (`5.1.1`).
    pub code: String,
    /// Registry sample text ("Bad destination mailbox address").
    pub title: String,
    /// Short meaning in our words (or the class + subject names when the detail is unregistered).
    pub meaning: String,
}

/// How bad a reply is, for colouring and for `--explain errors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 2xx/3xx as expected.
    Ok,
    /// Unusual but not an error (e.g. 251, 252, a deviation).
    Notice,
    /// 4xx.
    Transient,
    /// 5xx or garbage.
    Permanent,
}

/// Explanation of one reply in the context of the command it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Explanation {
    /// What the basic code means here.
    pub basic: Option<String>,
    /// The enhanced code's registry meaning.
    pub enhanced: Option<EnhancedInfo>,
    /// What it means in this context and what to do ("server wants STARTTLS: add --tls").
    pub hint: Option<String>,
    /// Severity.
    pub severity: Option<Severity>,
}

/// What a reply answers beyond its command phase: the replies after the content that PRDR
/// (draft-hall-prdr §4) and LMTP (RFC 2033 §4.2) give per recipient, where the same code means
/// something narrower than a reply for the whole message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Answer {
    /// The reply to the command of the phase (everything but the cases below).
    #[default]
    Command,
    /// PRDR: the 353 after the content that announces one reply per recipient.
    PrdrStart,
    /// PRDR: one accepted recipient's own reply after the content.
    PrdrRecipient,
    /// LMTP: one accepted recipient's delivery reply after the content.
    LmtpRecipient,
}

// ---------------------------------------------------------------------------------------------
// Vendored data and its parsing
// ---------------------------------------------------------------------------------------------

/// IANA enumerated enhanced status codes (sub-registry 3), verbatim export. From
/// https://www.iana.org/assignments/smtp-enhanced-status-codes (CSV export): RFC 4180 CSV, CRLF between records, LF and
/// doubled quotes inside quoted fields.
const ENHANCED_CSV: &str = include_str!("enhanced-status-codes.csv");

/// Basic reply codes in our own words (`code,meaning,source`).
const BASIC_CSV: &str = include_str!("basic-reply-codes.csv");

/// Why a CSV text could not be parsed. Only reachable if the vendored files are edited badly;
/// the unit tests parse both files, so a broken edit fails the build's tests, not the user.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CsvError {
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
fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
    #[derive(PartialEq)]
    enum State {
        /// At the start of a field: a quote here opens a quoted field.
        FieldStart,
        /// Inside an unquoted field.
        Unquoted,
        /// Inside a quoted field.
        Quoted,
        /// Just after the closing quote of a quoted field.
        AfterQuote,
    }

    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut state = State::FieldStart;
    let mut line = 1usize;
    let mut quote_line = 1usize;
    let mut chars = text.chars().peekable();

    // Ends the current record; a record that is a single empty field is a blank line.
    fn end_record(records: &mut Vec<Vec<String>>, record: &mut Vec<String>, field: &mut String) {
        record.push(std::mem::take(field));
        let rec = std::mem::take(record);
        if !(rec.len() == 1 && rec[0].is_empty()) {
            records.push(rec);
        }
    }

    while let Some(c) = chars.next() {
        match state {
            State::Quoted => match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => state = State::AfterQuote,
                _ => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
            },
            State::FieldStart | State::Unquoted | State::AfterQuote => match c {
                ',' => {
                    record.push(std::mem::take(&mut field));
                    state = State::FieldStart;
                }
                '\r' if chars.peek() == Some(&'\n') => {
                    chars.next();
                    line += 1;
                    end_record(&mut records, &mut record, &mut field);
                    state = State::FieldStart;
                }
                '\n' => {
                    line += 1;
                    end_record(&mut records, &mut record, &mut field);
                    state = State::FieldStart;
                }
                _ if state == State::AfterQuote => return Err(CsvError::JunkAfterQuote { line }),
                '"' if state == State::FieldStart => {
                    quote_line = line;
                    state = State::Quoted;
                }
                _ => {
                    field.push(c);
                    state = State::Unquoted;
                }
            },
        }
    }
    match state {
        State::Quoted => Err(CsvError::UnterminatedQuote { line: quote_line }),
        // No final line break: the last record still counts (RFC 4180 §2 item 2).
        State::Unquoted | State::AfterQuote => {
            end_record(&mut records, &mut record, &mut field);
            Ok(records)
        }
        State::FieldStart => {
            if !record.is_empty() {
                end_record(&mut records, &mut record, &mut field);
            }
            Ok(records)
        }
    }
}

/// Collapse every run of whitespace (the registry wraps its prose with LF and indents some
/// continuation lines) into one space, and trim.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One row of the IANA enumerated enhanced-status-code registry, with whitespace normalised
/// (wrapped lines joined) but otherwise verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryEntry {
    /// Subject (the `s` in `X.s.d`).
    pub subject: u16,
    /// Detail (the `d` in `X.s.d`).
    pub detail: u16,
    /// "Sample Text" column. Empty for X.6.10, which the registry keeps only as a deprecated
    /// duplicate of X.6.8.
    pub sample_text: String,
    /// "Associated basic status code" column: free text (`Any`, `451, 550`, `5XX`, `.`), a hint
    /// only, never a parseable list.
    pub associated_basic: String,
    /// "Description" column (registry prose; shown only on request, never as our explanation).
    pub description: String,
    /// "Reference" column (`[RFC3463] (Standards Track)`).
    pub reference: String,
}

impl RegistryEntry {
    /// The code in registry form, `X.s.d`.
    pub fn code(&self) -> String {
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
fn load_registry(text: &str) -> Result<Vec<RegistryEntry>, String> {
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
pub fn registry() -> &'static [RegistryEntry] {
    &REGISTRY
}

/// The registry row for `X.subject.detail`, if registered.
pub fn registry_entry(subject: u16, detail: u16) -> Option<&'static RegistryEntry> {
    REGISTRY
        .iter()
        .find(|e| e.subject == subject && e.detail == detail)
}

/// A record of the registry CSV: `(subject, detail, byte range)`; the header has (0, 0).
type Record = (u16, u16, std::ops::Range<usize>);

/// Where each record of the registry CSV lies, header first. A quote-aware byte scan finds the
/// record ends without building any field. Every reply of a run is explained, but a run meets
/// only a handful of codes: parsing all 81 rows with their prose at every start cost more than
/// the whole SMTP dialogue, so [`lookup_enhanced`] parses just the record it needs.
static INDEX: LazyLock<Vec<Record>> = LazyLock::new(|| index_records(ENHANCED_CSV));

fn index_records(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut push = |range: std::ops::Range<usize>| {
        let rec = &text[range.clone()];
        if !rec.trim().is_empty() {
            let code = rec.split(',').next().unwrap_or("");
            let (s, d) = parse_registry_code(code).unwrap_or((0, 0));
            out.push((s, d, range));
        }
    };
    let mut start = 0;
    let mut quoted = false;
    for (i, &b) in text.as_bytes().iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                push(start..i + 1);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < text.len() {
        push(start..text.len());
    }
    out
}

/// The registry's column positions, from its header record (parsed once).
static COLUMNS: LazyLock<Option<Columns>> = LazyLock::new(|| {
    let (_, _, header) = INDEX.first()?;
    let header = parse_csv(&ENHANCED_CSV[header.clone()]).ok()?;
    Columns::from_header(header.first()?).ok()
});

/// The registry row for `X.subject.detail`, parsed from its own record only.
fn registry_row(subject: u16, detail: u16) -> Option<RegistryEntry> {
    let cols = COLUMNS.as_ref()?;
    let (_, _, range) = INDEX
        .iter()
        .skip(1)
        .find(|(s, d, _)| *s == subject && *d == detail)?;
    let row = parse_csv(&ENHANCED_CSV[range.clone()]).ok()?;
    cols.entry(row.first()?).ok()
}

/// One row of our basic-code table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicEntry {
    /// Three-digit code.
    pub code: u16,
    /// Meaning in our words, without command context.
    pub meaning: String,
    /// Where the code is defined ("RFC 5321 §4.2.3").
    pub source: String,
}

fn load_basic(text: &str) -> Result<Vec<BasicEntry>, String> {
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

static BASIC: LazyLock<Vec<BasicEntry>> =
    LazyLock::new(|| load_basic(BASIC_CSV).unwrap_or_default());

/// Our table row for a basic code, if the code is one we describe.
pub fn basic_entry(code: u16) -> Option<&'static BasicEntry> {
    BASIC.iter().find(|e| e.code == code)
}

/// Meaning of a basic reply code in our own words (no context).
pub fn basic_meaning(code: u16) -> Option<&'static str> {
    basic_entry(code).map(|e| e.meaning.as_str())
}

// ---------------------------------------------------------------------------------------------
// Enhanced codes: class and subject names (RFC 3463 §2), our own meanings
// ---------------------------------------------------------------------------------------------

/// Registry name of an enhanced-code class (RFC 3463 §2; IANA sub-registry 1).
pub fn class_name(class: u8) -> Option<&'static str> {
    match class {
        2 => Some("Success"),
        4 => Some("Persistent Transient Failure"),
        5 => Some("Permanent Failure"),
        _ => None,
    }
}

/// Registry name of an enhanced-code subject (RFC 3463 §2; IANA sub-registry 2).
pub fn subject_name(subject: u16) -> Option<&'static str> {
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
const OWN_WORDS: &[(u16, u16, &str)] = &[
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
    (
        1,
        10,
        "the recipient's domain publishes a null MX: it takes no mail at all",
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
    (4, 1, "the next host did not answer the connection attempt"),
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
        "the user must change or set a password before this mechanism works",
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

fn own_words(subject: u16, detail: u16) -> Option<&'static str> {
    OWN_WORDS
        .iter()
        .find(|(s, d, _)| *s == subject && *d == detail)
        .map(|(_, _, m)| *m)
}

/// Brief paraphrase for a code we have no own words for: the registry's sample text placed
/// under its subject. Used for rows a newer registry export might add.
fn paraphrase(class: u8, subject: u16, sample: &str) -> String {
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
pub fn lookup_enhanced(code: &EnhancedCode) -> Option<EnhancedInfo> {
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

// ---------------------------------------------------------------------------------------------
// Basic codes in command context (RFC 5321 §4.3.2)
// ---------------------------------------------------------------------------------------------

/// The positive (2xx/3xx) replies that a command expects (RFC 5321 §4.3.2; RFC 3207 for
/// STARTTLS; RFC 4954 for AUTH). `None`: no particular expectation (REPL commands, …).
fn expected_positive(phase: Phase) -> Option<&'static [u16]> {
    Some(match phase {
        Phase::Banner | Phase::StartTls => &[220],
        Phase::Helo | Phase::HeloAfterTls | Phase::HeloAfterXclient | Phase::Mail => &[250],
        // 353: PRDR's "per-recipient replies follow" (draft-hall-prdr §4), only ever after the
        // content.
        Phase::Dot => &[250, 353],
        // 251 is allowed after RCPT; 252 is a VRFY reply some servers also give to RCPT.
        Phase::Rcpt => &[250, 251, 252],
        Phase::Data => &[354],
        Phase::Auth => &[235, 334],
        // Postfix answers a successful XCLIENT with a new 220 greeting; others use 250.
        Phase::Xclient => &[220, 250],
        Phase::Quit => &[221],
        Phase::Dns | Phase::Connect | Phase::Proxy | Phase::Other => return None,
    })
}

/// What `code` means as an answer to the command of `phase`, where that differs from the plain
/// table meaning. Own words.
fn context_meaning(code: u16, phase: Phase) -> Option<&'static str> {
    use Phase::*;
    Some(match (phase, code) {
        (Banner, 220) => "service ready: the server greets you and waits for EHLO",
        (Banner, 421) => "the server will not serve you right now and is closing the connection",
        (Banner, 554) => "the server refuses to talk to you: no SMTP service for this client",
        (Helo | HeloAfterTls | HeloAfterXclient, 250) => {
            "ok: greeting accepted; the lines after the first list the extensions the server supports"
        }
        (Helo | HeloAfterTls | HeloAfterXclient, 500 | 502) => {
            "EHLO not understood: an old server without ESMTP (HELO may still work)"
        }
        (Helo | HeloAfterTls | HeloAfterXclient, 501) => {
            "the name you greeted with (the EHLO argument) was rejected"
        }
        (Helo | HeloAfterTls | HeloAfterXclient, 550 | 554) => {
            "the server refuses your greeting (by policy)"
        }
        (StartTls, 220) => "ready to start the TLS handshake",
        (StartTls, 454) => "TLS is not available right now",
        (StartTls, 500 | 502) => "STARTTLS is not supported here",
        (StartTls, 501) => "STARTTLS takes no arguments",
        (StartTls, 503) => "STARTTLS is out of sequence (TLS may already be active)",
        (Auth, 235) => "authentication succeeded",
        (Auth, 334) => {
            "AUTH continues: the server sends a base64 challenge and waits for your answer"
        }
        (Auth, 454) => "temporary authentication failure on the server side",
        (Auth, 500 | 502) => "AUTH not supported here (or the exchange line was too long)",
        (Auth, 501) => "the AUTH exchange was malformed or cancelled",
        (Auth, 503) => "AUTH out of sequence (already authenticated, or inside a mail transaction)",
        (Auth, 504) => "this AUTH mechanism is not supported",
        (Auth, 535) => "authentication failed: credentials rejected",
        (Xclient, 220 | 250) => "XCLIENT accepted",
        (Xclient, 550) => "XCLIENT refused: your client is not allowed to use it",
        (Mail, 250) => "sender accepted; RCPT comes next",
        (Mail, 550) => "sender refused: the server will not take mail from this address",
        (Mail, 553) => "sender address not allowed (bad syntax, or not yours to use)",
        (Mail, 552) => "the declared message size exceeds the server's limit",
        (Mail, 451 | 452) => "the server cannot accept a new message right now; retry later",
        (Mail, 455 | 555) => "the MAIL FROM parameters could not be accepted",
        (Mail, 554) => "sender refused: the transaction failed (usually by policy)",
        (Mail, 503) => "MAIL out of sequence (before EHLO or AUTH, or inside another transaction)",
        (Rcpt, 250) => "recipient accepted",
        (Rcpt, 251) => "recipient not local; the server will forward the message",
        (Rcpt, 252) => "recipient cannot be verified, but the server will try to deliver",
        (Rcpt, 450) => "mailbox unavailable for now; recipient deferred, retry later",
        (Rcpt, 451) => "recipient deferred because of a local problem on the server; retry later",
        (Rcpt, 452) => "too many recipients, or not enough storage right now; retry later",
        (Rcpt, 550) => "mailbox unavailable / recipient refused",
        (Rcpt, 551) => "recipient not local and the server will not forward",
        (Rcpt, 552) => "the recipient's storage is full (or too many recipients)",
        (Rcpt, 554) => {
            "recipient refused: the transaction failed for this address (usually policy: relay, \
             blocklist or sender checks; the text says which)"
        }
        (Rcpt, 553) => "recipient address not allowed (e.g. bad syntax)",
        (Rcpt, 455 | 555) => "the RCPT TO parameters could not be accepted",
        (Rcpt, 503) => "RCPT out of sequence (no accepted MAIL FROM yet)",
        (Data, 354) => "go ahead: send the message and end it with <CRLF>.<CRLF>",
        (Data, 503) => "DATA out of sequence: no accepted sender or recipient",
        (Data, 554) => "DATA refused: no valid recipients",
        (Dot, 250) => "message accepted for delivery (queued)",
        (Dot, 353) => {
            "PRDR: content received; one reply per recipient follows, then a final reply for the \
             message (draft-hall-prdr)"
        }
        (Dot, 451) => "the server failed while processing the message; retry later",
        (Dot, 452) => "not enough storage for the message right now; retry later",
        (Dot, 450 | 550) => "message refused by policy after its content was seen",
        (Dot, 552) => {
            "storage allocation exceeded: the message is too big, or a mailbox is over its quota \
             (the enhanced code tells which)"
        }
        (Dot, 554) => "message rejected, usually by a content policy (spam, virus, authentication)",
        (Quit, 221) => "normal close: the server says goodbye",
        (_, 421) => "service not available; the server is closing the connection",
        _ => return None,
    })
}

/// Table meanings that name the one command they belong to ("as a greeting: …", "after AUTH:
/// …") read wrongly as the answer to another command; this is what such a code says anywhere.
fn phase_free_meaning(code: u16) -> Option<&'static str> {
    Some(match code {
        220 => "service ready",
        454 => "temporary failure: the server cannot do this right now; retry later",
        500 => "syntax error or unrecognised command (or a line that is too long)",
        554 => "transaction failed (refused, usually by policy; the text says why)",
        _ => return None,
    })
}

/// The basic-code line of an explanation: context meaning, else the table meaning (or its
/// phase-free form when the table's wording belongs to another command), else what the class
/// alone says.
fn basic_in_context(code: Option<u16>, phase: Phase) -> String {
    let Some(code) = code else {
        return "no reply code: the line does not start with three digits, so it is not an SMTP reply"
            .to_string();
    };
    let table = if phase == Phase::Other {
        basic_meaning(code)
    } else {
        phase_free_meaning(code).or_else(|| basic_meaning(code))
    };
    let mut s = match context_meaning(code, phase).or(table) {
        Some(m) => m.to_string(),
        None => match code / 100 {
            2 => "unknown success code (2xx: the command was accepted)".to_string(),
            3 => "unknown intermediate code (3xx: the server waits for more input)".to_string(),
            4 => "unknown temporary failure code (4xx: retry later)".to_string(),
            5 => "unknown permanent failure code (5xx: do not retry unchanged)".to_string(),
            1 => "1xx replies are not used by SMTP (RFC 5321 §4.2.1)".to_string(),
            _ => "not a valid SMTP reply code (SMTP replies are 2xx–5xx)".to_string(),
        },
    };
    // A positive reply that the command cannot get (RFC 5321 §4.3.2) usually means the two
    // sides are out of step (e.g. a PIPELINING desync); say so.
    if matches!(code / 100, 2 | 3)
        && let Some(exp) = expected_positive(phase)
        && !exp.contains(&code)
    {
        s.push_str(&format!(
            " (unexpected as an answer to {}: the dialogue may be out of step)",
            phase.label()
        ));
    }
    s
}

fn severity(reply: &Reply, phase: Phase) -> Severity {
    let Some(code) = reply.code else {
        return Severity::Permanent;
    };
    let sev = match code / 100 {
        4 => Severity::Transient,
        2 | 3 => {
            if matches!(code, 251 | 252) {
                Severity::Notice
            } else {
                match expected_positive(phase) {
                    Some(exp) if !exp.contains(&code) => Severity::Notice,
                    _ => Severity::Ok,
                }
            }
        }
        // 5xx, and 1xx/6xx+, which no SMTP server may send.
        _ => Severity::Permanent,
    };
    if sev == Severity::Ok && !reply.deviations.is_empty() {
        Severity::Notice
    } else {
        sev
    }
}

// ---------------------------------------------------------------------------------------------
// Hints
// ---------------------------------------------------------------------------------------------

/// At most this many bytes of reply text are scanned for keywords, so a hostile multi-megabyte
/// reply costs no more than a short one.
const SCAN_LIMIT: usize = 4096;

/// What the hint rules look at.
struct Ctx {
    code: u16,
    enhanced: Option<EnhancedCode>,
    /// Lower-cased, bounded reply text (all lines, joined with spaces).
    text: String,
    phase: Phase,
}

impl Ctx {
    fn new(reply: &Reply, code: u16, phase: Phase) -> Ctx {
        let mut text = String::new();
        for line in &reply.lines {
            if text.len() >= SCAN_LIMIT {
                break;
            }
            let room = SCAN_LIMIT - text.len();
            let mut end = line.len().min(room);
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            // Servers repeat the enhanced code on every line (`550-5.7.26 …`); without it a
            // phrase wrapped over two lines still reads as one.
            let part = &line[..end];
            let part = match crate::smtp::reply::parse_enhanced(part) {
                Some(_) => part.split_once(' ').map(|(_, r)| r).unwrap_or(""),
                None => part,
            };
            text.push_str(&part.to_lowercase());
            text.push(' ');
        }
        Ctx {
            code,
            enhanced: reply.enhanced,
            text,
            phase,
        }
    }

    fn has(&self, words: &[&str]) -> bool {
        words.iter().any(|w| self.text.contains(w))
    }

    /// The enhanced code is `_.subject.detail` (any class).
    fn enh(&self, subject: u16, detail: u16) -> bool {
        self.enhanced
            .is_some_and(|e| e.subject == subject && e.detail == detail)
    }

    fn enh_subject(&self, subject: u16) -> bool {
        self.enhanced.is_some_and(|e| e.subject == subject)
    }

    fn class(&self) -> u16 {
        self.code / 100
    }
}

/// Hints for something that is not an SMTP reply at all (no code).
fn garbage_hint(reply: &Reply) -> String {
    let raw: &[u8] = if reply.raw.0.is_empty() {
        reply.lines.first().map(|l| l.as_bytes()).unwrap_or(b"")
    } else {
        &reply.raw.0
    };
    // TLS record header: content type 0x15 (alert) or 0x16 (handshake), version major 3.
    if raw.len() >= 2 && matches!(raw[0], 0x15 | 0x16) && raw[1] == 0x03 {
        return "this port speaks implicit TLS, not plain SMTP: try --tls-on-connect".to_string();
    }
    let head: String = String::from_utf8_lossy(&raw[..raw.len().min(256)]).to_ascii_lowercase();
    let head = head.trim_start();
    if head.starts_with("http/")
        || head.starts_with("<!doctype")
        || head.starts_with("<html")
        || head.contains("<html")
    {
        return "this is an HTTP server, not SMTP: check the host and port (SMTP uses 25, 587 or 465)"
            .to_string();
    }
    if head.starts_with("ssh-") {
        return "this is an SSH server, not SMTP: check the port".to_string();
    }
    if head.starts_with("+ok") || head.starts_with("-err") {
        return "this looks like a POP3 server, not SMTP: check the port".to_string();
    }
    if head.starts_with("* ok") || head.starts_with("* preauth") || head.starts_with("* bye") {
        return "this looks like an IMAP server, not SMTP: check the port".to_string();
    }
    "the server did not answer with an SMTP reply — wrong port or not an SMTP server?".to_string()
}

/// Vendor-specific hints: codes and wording that only one provider uses. Always labelled.
fn vendor_hint(c: &Ctx) -> Option<String> {
    let gmail = c.has(&["gsmtp", "support.google.com", "gmail"]);
    let microsoft = c.has(&["outlook.com", "office365", "microsoft", "exchange online"]);
    // Microsoft's documented block-list codes (S3140: the IP is listed, S3150: part of its
    // network is) and Outlook.com's lettered codes come with or without an enhanced code.
    if c.class() == 5
        && c.has(&[
            "(s3140)", "(s3150)", "(s3113)", "(s3114)", "(s3115)", "(s3116)",
        ])
    {
        return Some(
            "(Microsoft) your sending IP (or its network) is on Microsoft's block list: \
             request delisting through Microsoft's delist portal (sender.office.com), or ask \
             your provider"
                .to_string(),
        );
    }
    if c.class() == 5 && c.has(&["sc-001", "sc-002", "sc-003", "sc-004", "ou-001", "ou-002"]) {
        return Some(
            "(Microsoft) Outlook.com refused the mail for policy reasons (the sending IP's \
             reputation or the content): see Microsoft's postmaster pages for the code given"
                .to_string(),
        );
    }
    if c.class() == 5 && c.has(&["dy-001", "dy-002"]) {
        return Some(
            "(Microsoft) Outlook.com refuses mail from dynamic or compromised-looking IPs: send \
             through your provider's mail server"
                .to_string(),
        );
    }
    let e = c.enhanced?;
    if gmail && e.class == 4 && e.subject == 7 && e.detail == 0 && !is_rate_limited(c) {
        return Some(
            "(Gmail) Gmail deferred you (the sending IP's or domain's reputation, an unusual \
             rate, or a suspicious greeting): retry later; if it persists, check the IP and \
             domain in Google Postmaster Tools"
                .to_string(),
        );
    }
    // Microsoft Exchange Online uses private details far above the registry's range.
    if e.subject == 7 {
        let hint = match e.detail {
            139 => Some(
                "(Microsoft) authentication unsuccessful: basic authentication (SMTP AUTH) is \
                 disabled for this tenant or mailbox; an admin must enable authenticated SMTP for \
                 it, or use OAuth",
            ),
            57 => Some(
                "(Microsoft) the client was not authenticated: log in first with --auth \
                 --auth-user (submission port 587 with --tls)",
            ),
            708 | 709 => Some(
                "(Microsoft) traffic from your IP is refused because of its reputation (often a \
                 new or shared sending IP): send through another IP or contact Microsoft support",
            ),
            606..=649 => Some(
                "(Microsoft) your sending IP is banned: request delisting through Microsoft's \
                 delist portal, then retry",
            ),
            64 => Some(
                "(Microsoft) relay access denied: the message could not be attributed to a tenant \
                 (check the inbound connector)",
            ),
            500..=699 if e.class == 4 => Some(
                "(Microsoft) your traffic is being throttled or looks suspicious; slow down and \
                 retry later",
            ),
            _ => None,
        };
        if let Some(h) = hint {
            return Some(h.to_string());
        }
    }
    if microsoft && e.subject == 4 && e.detail == 1 && c.has(&["access denied"]) {
        return Some(
            "(Microsoft) recipient rejected by directory-based edge blocking: the address does \
             not exist in the receiving organisation"
                .to_string(),
        );
    }
    if gmail {
        let hint = match (e.subject, e.detail) {
            (7, 26) => Some(
                "(Gmail) the message failed Gmail's sender authentication: publish SPF and DKIM \
                 for the sender's domain and align them with its DMARC policy",
            ),
            (7, 28) => Some(
                "(Gmail) an unusual rate of mail from your IP or domain: slow down and retry later",
            ),
            (7, 9) => Some(
                "(Gmail) the account needs an app password (2-step verification is on) or OAuth; \
                 the normal password will not work here",
            ),
            (7, 8) => Some(
                "(Gmail) username and password not accepted: use an app password (or OAuth) \
                 rather than the account password",
            ),
            (7, 1) if c.has(&["unsolicited", "spam"]) => Some(
                "(Gmail) the message was classified as unsolicited: check content, sending \
                 volume and the sender domain's authentication",
            ),
            _ => None,
        };
        if let Some(h) = hint {
            return Some(h.to_string());
        }
    }
    None
}

fn is_greylisting(c: &Ctx) -> bool {
    c.class() == 4
        && (c.has(&[
            "greylist",
            "graylist",
            "grey-list",
            "gray-list",
            "grey list",
            "gray list",
        ]) || (matches!(c.code, 450 | 451)
            && c.enh(7, 1)
            // 4.7.1 is also used for soft policy refusals (relay, missing reverse DNS); only a
            // "come back later" wording makes it greylisting.
            && c.has(&["try again", "retry", "later", "deferred"])
            && !c.has(&["relay", "hostname", "reverse", "ptr"]))
            // Without an enhanced code: the "come back later" phrases of greylisting daemons
            // (milter-greylist, spamd, sqlgrey) on a recipient deferral.
            || (matches!(c.code, 450 | 451)
                && c.phase == Phase::Rcpt
                && c.enhanced.is_none()
                && c.has(&["come back later", "try again later"])
                && !c.has(&[
                    "relay",
                    "hostname",
                    "reverse",
                    "ptr",
                    "unrouteable",
                    "resolve",
                    "local problem",
                    "failure",
                    "failed",
                    "error",
                ])))
}

fn is_blocklisted(c: &Ctx) -> bool {
    matches!(c.class(), 4 | 5)
        && c.has(&[
            "spamhaus",
            "spamcop",
            "barracuda",
            "sorbs",
            "uceprotect",
            "spamrats",
            "mailspike",
            "block list",
            "blocked by rbl",
            "rbl.",
            "dnsbl",
            "blocklist",
            "blacklist",
            "black list",
            "blocked using",
            "listed at",
            "listed on",
            "listed in",
        ])
}

/// Hints from wordings that mean the same whatever the code and command.
fn text_hint(c: &Ctx) -> Option<String> {
    if !matches!(c.class(), 4 | 5) {
        return None;
    }
    let s = |t: &str| Some(t.to_string());
    if c.has(&[
        "too many unrecognized",
        "too many errors",
        "too many bad commands",
        "too many invalid",
        "too many syntax",
    ]) {
        return s(
            "the server counted too many unknown or bad commands and is giving up on this \
             connection: check what was sent before (typos, commands it does not support)",
        );
    }
    if c.has(&["bare <lf>", "bare lf", "bare newline", "bare <cr>"]) {
        return s(
            "the server refuses a bare LF line end in the message (SMTP smuggling protection): \
             send CRLF line ends (ehlo does unless --fixup is turned off or raw bytes are sent)",
        );
    }
    if c.has(&["dmarc"]) && !c.enh(7, 26) {
        return s(
            "the sender domain's DMARC policy rejected the message: align SPF or DKIM with the \
             From: domain, or send through the servers that domain authorises",
        );
    }
    None
}

/// Words some servers use for a sending-rate limit (Exim's ratelimit ACL: "Sender rate
/// overlimit"; Gmail: "unusual rate"; Postfix anvil: "too many connections").
fn is_rate_limited(c: &Ctx) -> bool {
    matches!(c.class(), 4 | 5)
        && c.has(&[
            "rate overlimit",
            "too many open connections",
            "connection rate",
            "unexpected volume",
            "too many login attempts",
            "receiving mail at a rate",
            "rate limit",
            "ratelimit",
            "rate-limit",
            "rate that prevents",
            "unusual rate",
            "sending rate",
            "too many messages",
            "too many connections",
            "too many concurrent",
            "too much mail",
            "too fast",
            "throttl",
            "exceeded the rate",
            "slow down",
        ])
}

/// Content or sender classified as spam, in the wordings spam filters use (SpamAssassin via
/// Exim or Amavis, rspamd, Haraka, Microsoft, Gmail) with or without an enhanced code.
fn is_spam_verdict(c: &Ctx) -> bool {
    matches!(c.class(), 4 | 5)
        && c.has(&[
            "spam",
            "unsolicited",
            "junk mail",
            "bulk mail",
            "content rejected",
            "rejected due to content",
            "scored too high",
            "high probability",
        ])
}

/// An extension the server did not advertise was used anyway (ehlo's `--force-ext`): Exim says
/// "… used when not advertised", and for an unknown parameter after the address "… may not
/// follow <address>" (its address parser sees the parameter as part of the address).
fn unadvertised_hint(c: &Ctx) -> Option<String> {
    if c.has(&["not advertised"]) {
        return Some(
            "the server refuses an extension it did not advertise in its EHLO reply (sent anyway, \
             e.g. with --force-ext): leave it out, or use a server whose EHLO reply lists it"
                .to_string(),
        );
    }
    if c.has(&["may not follow"]) {
        return Some(
            "the server did not recognise a parameter after the address, so it read it as part \
             of the address: only use parameters of extensions the EHLO reply lists (it was \
             probably forced with --force-ext)"
                .to_string(),
        );
    }
    None
}

/// At RCPT (and at DATA, where some servers refuse late) a refusal can be about someone other
/// than the recipient just given: the envelope sender (Postfix "Sender address rejected",
/// Exim's sender verification), the client host, or the greeting name. Who, in words.
fn refused_party(c: &Ctx) -> Option<&'static str> {
    if !matches!(c.class(), 4 | 5) || !matches!(c.phase, Phase::Rcpt | Phase::Data) {
        return None;
    }
    if c.has(&[
        "sender address rejected",
        "sender verify",
        "sender verification",
        "verification failed for",
        "postmaster verification failed",
        "callback setup failed",
    ]) {
        Some("your envelope sender (MAIL FROM)")
    } else if c.has(&["client host rejected", "client host blocked"]) {
        Some("your client host")
    } else if c.has(&["helo command rejected", "helo name rejected"]) {
        Some("your greeting name (EHLO)")
    } else {
        None
    }
}

/// The hint for a refusal that `refused_party` attributes to someone other than the recipient.
fn other_party_hint(c: &Ctx) -> Option<String> {
    let who = refused_party(c)?;
    let s = |t: &str| Some(t.to_string());
    if who.starts_with("your envelope sender") {
        if c.has(&["not owned", "not logged in"]) {
            return s(
                "the refusal is about the sender: you may not send as this address; use a \
                      --from that belongs to the account you authenticated as",
            );
        }
        let verify = c.has(&["verif", "unrouteable", "unroutable", "callback", "callout"]);
        let transient = c.class() == 4;
        return Some(format!(
            "the refusal is about the sender, not this recipient: the server {} your envelope \
             sender (--from){}; use a --from on a domain that exists in DNS and accepts mail{}",
            if verify {
                "tried to verify"
            } else {
                "does not accept"
            },
            if verify {
                " and could not (its domain does not resolve, or its servers refuse the address)"
            } else {
                ""
            },
            if transient {
                " (given as temporary: the check may pass later)"
            } else {
                ""
            }
        ));
    }
    if who.starts_with("your client host") {
        return s(
            "the refusal is about your client host (its IP, reverse DNS or reputation), not \
             this recipient: send from a host whose PTR name resolves back to its IP, or through \
             your provider's relay",
        );
    }
    s(
        "the refusal is about the name you greet with, not this recipient: give a fully \
         qualified host name that resolves, with --helo",
    )
}

fn relay_denied(c: &Ctx) -> Option<String> {
    if !(c.has(&["relay"]) && matches!(c.code, 450 | 451 | 454 | 550 | 551 | 553 | 554)) {
        return None;
    }
    let mut h = "relay denied: this server takes mail only for its own domains unless you \
                 authenticate; add --auth --auth-user USER, or send to a domain the server hosts"
        .to_string();
    if c.class() == 4 {
        h.push_str(" (it is given as a temporary error, but retrying will not help by itself)");
    }
    Some(h)
}

/// 530 (and 5.7.0/5.7.10/5.7.11 in the same role): the server wants the client to do something
/// first. Which thing is only in the text, so read it (RFC 3207 §4, RFC 4954 §6 share 530).
fn access_first_hint(c: &Ctx) -> String {
    let tls = c.has(&["starttls", "tls", "ssl", "encrypt"]) || c.enh(7, 10) || c.enh(7, 11);
    let auth = c.has(&["auth", "login", "credential"]);
    if tls {
        "the server wants STARTTLS first: add --tls".to_string()
    } else if auth {
        "the server wants authentication: add --auth --auth-user USER (usually with --tls)"
            .to_string()
    } else {
        "the server wants STARTTLS first: add --tls (and --auth --auth-user USER if it still \
         refuses)"
            .to_string()
    }
}

/// Hints that depend on the command the reply answers.
fn phase_hint(c: &Ctx) -> Option<String> {
    use Phase::*;
    let s = |t: &str| Some(t.to_string());
    match c.phase {
        Banner => match c.code {
            421 => s(
                "the server refuses connections right now (overloaded, rate limit, maintenance \
                 or too many connections from you); retry later",
            ),
            554 => s(
                "the server refuses you, usually because of your IP's reputation (a blocklist) \
                 or a policy; nothing else will be accepted on this connection",
            ),
            _ => None,
        },
        Helo | HeloAfterTls | HeloAfterXclient => match c.code {
            500 | 502 => s(
                "the server does not speak ESMTP (EHLO unknown); ehlo falls back to HELO, so \
                 extensions such as STARTTLS, AUTH and SIZE are not available",
            ),
            501 | 504 => s(
                "the server dislikes the name you greet with: give a fully qualified host name \
                 or an address literal like [192.0.2.1] with --helo",
            ),
            550 | 554 if c.has(&["helo", "ehlo", "hostname", "host name", "fqdn"]) => s(
                "the server dislikes the name you greet with: give a fully qualified host name \
                 that resolves, with --helo",
            ),
            550 | 554 => s("the server refuses your client (its IP or name) by policy"),
            _ => None,
        },
        StartTls if c.has(&["already active", "already secured"]) => {
            s("TLS is already active on this connection: STARTTLS is sent once")
        }
        StartTls => match c.code {
            454 => s(
                "TLS is not available right now (a certificate or TLS setup problem on the \
                 server); retry later, or leave out --tls to carry on in plaintext",
            ),
            500 | 502 => s(
                "the server does not support STARTTLS: check that the EHLO reply lists it, or \
                 try --tls-on-connect (port 465)",
            ),
            501 => s("STARTTLS must be sent without arguments"),
            503 => s("STARTTLS out of sequence: TLS may already be active, or EHLO was not sent"),
            _ => None,
        },
        Auth => {
            if c.code == 538 || c.enh(7, 11) {
                s("this mechanism needs an encrypted connection: add --tls (or --tls-on-connect)")
            } else if c.code == 534 || c.enh(7, 9) {
                s(
                    "the server considers this mechanism too weak for this account: try another \
                     one with --auth TYPE",
                )
            } else if c.code == 535 || c.enh(7, 8) {
                s(
                    "credentials rejected: check --auth-user and the password (some providers \
                     want an app password or OAuth instead of the account password)",
                )
            } else if c.code == 500 && c.enh(5, 6) {
                s("an AUTH exchange line was longer than the server accepts")
            } else if matches!(c.code, 502 | 504) {
                s(
                    "the server does not support this AUTH mechanism (or AUTH at all): pick one \
                     listed on the AUTH line of the EHLO reply with --auth TYPE",
                )
            } else if c.code == 432 || c.enh(7, 12) {
                s(
                    "a password transition is needed: log in once with PLAIN over TLS, or change \
                     the password, then retry",
                )
            } else if c.code == 454 {
                s(
                    "temporary authentication failure on the server side (e.g. its password \
                     backend is down); retry later",
                )
            } else if c.code == 503 {
                s(
                    "AUTH out of sequence: already authenticated, inside a mail transaction, or \
                     sent before EHLO",
                )
            } else {
                None
            }
        }
        Xclient => match c.code {
            550 | 554 => s(
                "the server does not allow XCLIENT from your address (Postfix: \
                 smtpd_authorized_xclient_hosts)",
            ),
            500 | 502 => s("the server does not support XCLIENT"),
            _ => None,
        },
        Mail => {
            if c.code == 552 || c.enh(3, 4) || c.enh(2, 3) {
                s(
                    "the SIZE you declared is over the server's limit (see SIZE in the EHLO \
                     reply): send a smaller message",
                )
            } else if c.code == 555 || c.code == 455 {
                s(
                    "the server did not accept a MAIL FROM parameter (SIZE=, BODY=, SMTPUTF8, \
                     RET=, ENVID=…): only use extensions the EHLO reply lists",
                )
            } else if c.enh(1, 8) {
                s(
                    "the sender's domain does not resolve or cannot receive mail: use a --from \
                     on a real, mail-receiving domain",
                )
            } else if matches!(c.code, 501 | 553 | 503 | 555) && mentions_parameter(c) {
                s(
                    "the server refused a MAIL FROM parameter (SIZE=, BODY=, RET=, ENVID=, \
                     SMTPUTF8…): only use extensions the EHLO reply lists, with valid values",
                )
            } else if c.enh(1, 7) || c.code == 501 {
                s(
                    "the sender address is malformed: give --from as user@domain (or <> for the \
                     null sender)",
                )
            } else if c.has(&[
                "not owned",
                "send as",
                "send mail as",
                "sender address rejected: not",
            ]) || (c.code == 553 && c.enh(7, 1))
            {
                s(
                    "you may not send as this address: use a --from that belongs to the account \
                     you authenticated as",
                )
            } else if c.code == 503 {
                s(
                    "MAIL out of sequence: send EHLO first, authenticate first if the server \
                     requires it, or reset the previous transaction",
                )
            } else if matches!(c.code, 550 | 553 | 554) {
                s(
                    "the server refuses this sender: use a --from on a domain that exists and \
                     that you may send for",
                )
            } else {
                None
            }
        }
        Rcpt => {
            if c.code == 551 {
                s(
                    "the recipient is not local and this server will not forward: use the \
                     address the reply gives, or the recipient domain's own MX",
                )
            } else if matches!(c.code, 501 | 553 | 555) && mentions_parameter(c) {
                s(
                    "the server refused an RCPT TO parameter (NOTIFY=, ORCPT=): only use \
                     extensions the EHLO reply lists, with valid values",
                )
            } else if c.has(&["too many recipients"]) || (c.class() == 4 && c.enh(5, 3)) {
                s(
                    "too many recipients for one transaction: send the rest in another \
                     transaction (a new MAIL FROM); real MTAs do this by themselves",
                )
            } else if c.enh(1, 1)
                || (matches!(c.code, 550..=554)
                    && c.has(&[
                        "user unknown",
                        "unknown user",
                        "no such user",
                        "does not exist",
                        "doesn't exist",
                        "mailbox not found",
                        "recipient not found",
                        "unknown recipient",
                        "mailbox not found",
                        "doesn't have a",
                        "no such mailbox",
                        "does not have an account",
                    ]))
            {
                s("the mailbox does not exist: check the recipient address for typos")
            } else if c.enh(1, 2) {
                s(
                    "the recipient's domain is wrong or takes no mail: check the part after \
                     the @",
                )
            } else if c.enh(1, 3) || c.code == 553 || c.code == 501 {
                s("the recipient address is malformed: give it as user@domain")
            } else if c.enh(1, 6) {
                s("the mailbox has been closed and no forwarding address is known")
            } else if c.enh(2, 1) {
                s("the mailbox is disabled: the recipient cannot receive mail for now")
            } else if matches!(c.code, 452 | 552) && (c.enh(5, 3) || c.has(&["too many"])) {
                s(
                    "too many recipients for one transaction: send the rest in another \
                     transaction (a new MAIL FROM); real MTAs do this by themselves",
                )
            } else if c.enh(2, 2) || c.code == 552 {
                s("the recipient's mailbox is full: they must make room; retrying later may work")
            } else if c.code == 452 {
                s(
                    "too many recipients, or the mailbox or server is out of space for now: \
                     retry later, with fewer recipients per transaction",
                )
            } else if c.code == 450 {
                s(
                    "the mailbox is temporarily unavailable (busy, or deferred by policy); retry \
                     later",
                )
            } else if c.code == 503 {
                s("RCPT out of sequence: MAIL FROM must be accepted first")
            } else if c.code == 555 || c.code == 455 {
                s(
                    "the server did not accept an RCPT TO parameter (NOTIFY=, ORCPT= need the \
                     DSN extension): only use extensions the EHLO reply lists",
                )
            } else if matches!(c.code, 550 | 554)
                && (c.enh(7, 1)
                    || c.has(&[
                        "prohibit",
                        "not allowed",
                        "not authorized",
                        "not permitted",
                        "access denied",
                        "restricted",
                    ]))
            {
                s(
                    "the server refuses this recipient for you by policy (for example, the \
                     recipient accepts mail only from certain senders)",
                )
            } else if c.code == 550 {
                s(
                    "the recipient was refused: the mailbox may not exist, or policy does not \
                     let you send to it",
                )
            } else {
                None
            }
        }
        Data => match c.code {
            550 | 554 if c.enh(7, 1) => s(
                "the transaction was refused by policy at DATA (a sender, IP or recipient check \
                 the server makes late); the reply text should say which",
            ),
            503 | 554 => s(
                "DATA refused: no recipient (or no sender) was accepted; see the RCPT replies \
                 above",
            ),
            _ => None,
        },
        Dot => {
            // A more specific enhanced code wins over the basic code: 552 is "storage
            // exceeded", which 5.2.2 narrows to a full mailbox (RFC 3463 §3.3), not a size.
            if c.enh(2, 2) {
                s(
                    "a recipient's mailbox is full (over quota), not a size limit of the server: \
                     they must make room; retrying later may work",
                )
            } else if c.enh(1, 1) {
                s("the mailbox does not exist: check the recipient address for typos")
            } else if (c.code == 552
                && c.enhanced
                    .is_none_or(|e| e.subject == 3 || (e.subject, e.detail) == (2, 3)))
                || c.enh(3, 4)
                || c.enh(2, 3)
            {
                s(
                    "message too big: compare its size with the SIZE limit in the EHLO reply and \
                     send something smaller",
                )
            } else if c.class() == 5 && (c.enh(7, 1) || c.enh(7, 0)) {
                s(
                    "the content was rejected as spam or by policy: check the text for the \
                     reason, links, attachments and the sender domain's SPF/DKIM/DMARC",
                )
            } else if c.class() == 5 && c.enh_subject(6) {
                s(
                    "the content itself was refused (format, encoding or media type): check the \
                     message's MIME structure and character set",
                )
            } else if c.code == 554 {
                s(
                    "the message was rejected, usually by a content filter (spam, virus or \
                     policy): the reply text should give the reason",
                )
            } else if c.code == 550 {
                s("the message was refused by policy after its content was seen")
            } else if c.code == 451 {
                s(
                    "the server had a temporary problem processing the message (e.g. its content \
                     scanner); retry later",
                )
            } else {
                None
            }
        }
        Quit if c.code != 221 => {
            s("an unusual answer to QUIT, but harmless: the session is over either way")
        }
        _ => None,
    }
}

/// Hints from the enhanced code alone, whatever the command (also used by `:explain`).
fn enhanced_hint(e: EnhancedCode) -> Option<&'static str> {
    if e.class == 2 {
        return None;
    }
    Some(match (e.subject, e.detail) {
        (1, 1) => "the mailbox does not exist: check the recipient address for typos",
        (1, 10) => "the recipient's domain accepts no mail (null MX, RFC 7505)",
        (2, 2) => "the recipient's mailbox is full",
        (3, 4) | (2, 3) => "the message is too big: compare with the SIZE limit in the EHLO reply",
        (5, 3) => "too many recipients: split them over several transactions",
        (6, 7) | (6, 8) | (6, 9) => {
            "non-ASCII addresses or headers need SMTPUTF8 support that is missing here: use \
             ASCII addresses, or a path that supports SMTPUTF8"
        }
        (7, 8) => "credentials rejected: check the user name and password",
        (7, 9) => "the AUTH mechanism is too weak for this account: try another one",
        (7, 10) | (7, 11) => "an encrypted connection is needed: add --tls",
        (7, 12) => "a password transition is needed before this mechanism works",
        (7, 13) => "the account is disabled: ask its administrator",
        (7, 20) | (7, 21) | (7, 22) => {
            "the message needs a valid DKIM signature matching the From: domain: send through a \
             server that signs for that domain"
        }
        (7, 23) => {
            "the sending IP is not in the sender domain's SPF record: send through an authorised \
             server, or fix the SPF record"
        }
        (7, 24) => {
            "the sender domain's SPF record could not be evaluated (DNS trouble or a broken \
             record): check the record; this may pass later"
        }
        (7, 25) => {
            "your sending IP has no matching reverse DNS: send from a host whose PTR name \
             resolves back to its IP"
        }
        (7, 26) => {
            "sender authentication failed (SPF, DKIM and DMARC style checks): publish and align \
             SPF and DKIM for the sender's domain, or send through its authorised servers"
        }
        (7, 27) => {
            "the sender's domain has a null MX and could never receive bounces: use a sender \
             domain that accepts mail"
        }
        (7, 28) => "the server sees a flood of similar mail: slow down and retry much later",
        (7, 29) => {
            "ARC validation failed on a forwarded message: check the forwarder's ARC sealing"
        }
        (7, 30) => {
            "the message asks for TLS on every hop (REQUIRETLS) and this path cannot promise \
             it: drop REQUIRETLS or send via servers that support it"
        }
        (4, _) if e.class == 4 => {
            "a network or routing problem beyond this server (DNS or the next hop); retry later"
        }
        (4, _) => {
            "a network or routing problem (a mail loop, or a next hop that cannot be reached): \
             check the recipient domain's MX records and any forwarding"
        }
        (2, 4) => "a mailing list behind this address could not be expanded: its owner must fix it",
        (6, _) => {
            "the content itself was refused (format, encoding or media type): check the \
             message's MIME structure and character set"
        }
        _ => return None,
    })
}

/// Enhanced codes that say more than any per-command rule could (null MX, SMTPUTF8, sender
/// authentication results, a disabled account), so they are checked before those rules.
fn strong_enhanced_hint(c: &Ctx) -> Option<String> {
    let e = c.enhanced?;
    let strong = matches!(
        (e.subject, e.detail),
        (1, 10) | (6, _) | (7, 13) | (7, 20..=30)
    );
    if strong && matches!(c.class(), 4 | 5) {
        enhanced_hint(e).map(str::to_string)
    } else {
        None
    }
}

/// Hints that hold whatever the command was.
fn generic_hint(c: &Ctx) -> Option<String> {
    let s = |t: &str| Some(t.to_string());
    match c.code {
        421 => {
            return s(
                "the server is closing the channel (overloaded, rate limit, greylisting or an \
                 idle timeout): reconnect and retry later",
            );
        }
        530 => return Some(access_first_hint(c)),
        556 => {
            return s(
                "the recipient's domain accepts no mail (null MX, RFC 7505): this address \
                 cannot receive mail",
            );
        }
        521 => {
            return s(
                "this host accepts no mail at all (RFC 7504): send to the domain's real MX \
                 instead",
            );
        }
        503 => {
            return s(
                "bad sequence of commands (e.g. MAIL before EHLO or before AUTH, RCPT before \
                 MAIL, DATA before RCPT)",
            );
        }
        555 => {
            return s(
                "a MAIL FROM / RCPT TO parameter was not recognised: only use extensions the \
                 EHLO reply lists",
            );
        }
        523 => return s("an encrypted connection is needed: add --tls"),
        _ => {}
    }
    if let Some(e) = c.enhanced
        && let Some(h) = enhanced_hint(e)
    {
        return s(h);
    }
    if c.class() == 5 && c.enh(7, 0) && c.has(&["tls", "auth"]) {
        return Some(access_first_hint(c));
    }
    match c.code {
        500 => s(
            "the server did not understand the command (or the line was too long): check that \
             it supports this command",
        ),
        502 => s("the server does not implement this command"),
        504 => s("the server does not implement this parameter or mechanism"),
        501 => s("syntax error in the arguments: check the address or parameter format"),
        454 if c.enh(7, 0) => s("temporary security failure on the server side; retry later"),
        // Nothing more specific is known: say what the class means for the user.
        _ if c.class() == 4 => s(
            "a temporary failure on the server side: retry later (a real MTA queues the message \
             and retries by itself)",
        ),
        _ if c.class() == 5 => s(
            "refused for good: the reply text gives the server's reason; retrying unchanged will \
             not help",
        ),
        _ => None,
    }
}

/// The reply names a MAIL/RCPT parameter (a refused extension parameter, not the address).
fn mentions_parameter(c: &Ctx) -> bool {
    c.has(&[
        "notify",
        "orcpt",
        " ret ",
        "ret=",
        "ret parameter",
        "envid",
        "body=",
        "smtputf8",
    ])
}

fn hint(reply: &Reply, phase: Phase) -> Option<String> {
    let Some(code) = reply.code else {
        return Some(garbage_hint(reply));
    };
    if !(200..600).contains(&code) {
        return Some(format!(
            "{code} is not a valid SMTP reply code: the server is broken, or this is not SMTP"
        ));
    }
    let c = Ctx::new(reply, code, phase);
    let found = vendor_hint(&c)
        .or_else(|| {
            is_blocklisted(&c).then(|| {
                "your sending IP (or domain) is on a DNS blocklist: look up the list named in \
                 the reply and request delisting, or send from another IP"
                    .to_string()
            })
        })
        .or_else(|| unadvertised_hint(&c))
        .or_else(|| text_hint(&c))
        .or_else(|| {
            is_rate_limited(&c).then(|| {
                let mut h = if c.code == 421 {
                    "the server is closing the channel because you are sending too fast (a rate \
                     limit on your IP, account or sender): slow down, reconnect and retry later"
                } else {
                    "you are sending too fast for this server (a rate limit on your IP, account \
                     or sender): slow down, and retry later"
                }
                .to_string();
                if c.class() == 5 {
                    h.push_str(" (it is given as permanent, but the limit resets with time)");
                }
                h
            })
        })
        .or_else(|| other_party_hint(&c))
        .or_else(|| {
            is_greylisting(&c).then(|| {
                "greylisted: the server defers unknown senders once; retry after a few minutes \
                 (a real MTA does this by itself)"
                    .to_string()
            })
        })
        .or_else(|| {
            // Relay refusals surface on RCPT (or MAIL), and a 530 is about access whatever
            // the command; both outrank the per-command rules.
            matches!(phase, Phase::Rcpt | Phase::Mail)
                .then(|| relay_denied(&c))
                .flatten()
        })
        .or_else(|| (code == 530).then(|| access_first_hint(&c)))
        .or_else(|| strong_enhanced_hint(&c))
        .or_else(|| {
            // At the end of data a 5.7.x refusal has its own (content) hint below.
            (is_spam_verdict(&c)
                && c.enhanced.is_none_or(|e| e.subject != 1)
                && !(c.phase == Phase::Dot && c.enh(7, 1)))
            .then(|| {
                "the message (or its sender) was classified as spam: check the text, links and \
                 attachments and the sender domain's SPF/DKIM/DMARC; the receiving side's admin \
                 can tell which rule hit"
                    .to_string()
            })
        })
        .or_else(|| phase_hint(&c))
        .or_else(|| generic_hint(&c));
    if found.is_none() && !reply.deviations.is_empty() {
        return Some(
            "the reply breaks SMTP syntax rules (see the deviations); ehlo tolerated it, but \
             stricter clients may fail here"
                .to_string(),
        );
    }
    found
}

/// Explain `reply` as an answer to a command of `phase`.
pub fn explain(reply: &Reply, phase: Phase) -> Explanation {
    explain_answer(reply, phase, Answer::Command)
}

/// Explain `reply` as an answer to a command of `phase`, in the narrower role `answer` (a
/// PRDR or LMTP reply for one recipient after the content).
pub fn explain_answer(reply: &Reply, phase: Phase, answer: Answer) -> Explanation {
    let mut basic = basic_in_context(reply.code, phase);
    let mut hint = hint(reply, phase);
    if let Some(code) = reply.code {
        let c = Ctx::new(reply, code, phase);
        if let Some(who) = refused_party(&c) {
            basic = format!("{basic} — but the refusal is about {who}, not the recipient");
        }
    }
    let per_recipient = match answer {
        Answer::Command => None,
        Answer::PrdrStart => {
            // Whatever the server says here, it is the announcement, not a verdict.
            if reply.code == Some(353) {
                basic = context_meaning(353, Phase::Dot)
                    .unwrap_or_default()
                    .to_string();
            }
            None
        }
        Answer::PrdrRecipient => Some("PRDR"),
        Answer::LmtpRecipient => Some("LMTP"),
    };
    if let (Some(proto), Some(class)) = (per_recipient, reply.class()) {
        let scope = match class {
            2 => "accepted for this recipient",
            4 => "deferred for this recipient only",
            _ => "refused for this recipient only",
        };
        basic = format!(
            "{scope} ({proto}: each recipient gets its own reply after the content): {basic}"
        );
        if let Some(h) = hint.as_mut()
            && matches!(class, 4 | 5)
        {
            h.push_str(
                " (this reply covers this one recipient; the others were answered separately)",
            );
        }
    }
    Explanation {
        basic: Some(basic),
        enhanced: reply.enhanced.as_ref().and_then(lookup_enhanced),
        hint,
        severity: Some(severity(reply, phase)),
    }
}

// ---------------------------------------------------------------------------------------------
// `:explain CODE` for the REPL
// ---------------------------------------------------------------------------------------------

/// Does `code` have a meaning of its own as an answer to the command of `phase` (RFC 5321
/// §4.3.2 and the extensions)? Used to pick the commands a pasted reply may answer.
pub fn is_known_answer(code: u16, phase: Phase) -> bool {
    context_meaning(code, phase).is_some()
}

/// Parse `5.1.1`, `X.7.1` (class 0 = any) into an enhanced code.
pub fn parse_enhanced_word(w: &str) -> Option<EnhancedCode> {
    let mut it = w.split('.');
    let c = it.next()?;
    let class = if c.eq_ignore_ascii_case("x") {
        0
    } else {
        match c.parse::<u8>().ok()? {
            v @ (2 | 4 | 5) => v,
            _ => return None,
        }
    };
    let subject: u16 = it.next()?.parse().ok()?;
    let detail: u16 = it.next()?.parse().ok()?;
    if it.next().is_some() || subject > 999 || detail > 999 {
        return None;
    }
    Some(EnhancedCode {
        class,
        subject,
        detail,
    })
}

/// The phases shown in `:explain` context lines and tried by `ehlo explain` when a reply's
/// phase is not known, in dialogue order.
pub(crate) const DIALOGUE_PHASES: &[Phase] = &[
    Phase::Banner,
    Phase::Helo,
    Phase::StartTls,
    Phase::Auth,
    Phase::Mail,
    Phase::Rcpt,
    Phase::Data,
    Phase::Dot,
    Phase::Quit,
];

/// Text for the REPL's `:explain 5.7.1` / `:explain 550` / `:explain 550 5.1.1`: a basic code,
/// an enhanced code (`X.s.d` accepted), or both, separated by spaces, commas or a hyphen as in
/// `550-5.1.1`. Returns several lines, or `None` when nothing in `text` looks like a code.
pub fn explain_code(text: &str) -> Option<String> {
    let mut basic: Option<u16> = None;
    let mut enhanced: Option<EnhancedCode> = None;
    for word in text
        .split(|ch: char| ch.is_whitespace() || ch == ',' || ch == '-')
        .filter(|w| !w.is_empty())
        .take(16)
    {
        if basic.is_none()
            && word.len() == 3
            && word.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = word.parse::<u16>()
        {
            basic = Some(n);
        } else if enhanced.is_none()
            && let Some(e) = parse_enhanced_word(word)
        {
            enhanced = Some(e);
        }
    }
    if basic.is_none() && enhanced.is_none() {
        return None;
    }

    let mut out: Vec<String> = Vec::new();
    if let Some(code) = basic {
        match basic_entry(code) {
            Some(e) => out.push(format!("{code}  {}  [{}]", e.meaning, e.source)),
            None => out.push(format!(
                "{code}  {}",
                basic_in_context(Some(code), Phase::Other)
            )),
        }
        let class = match code / 100 {
            2 => "2xx: success",
            3 => "3xx: intermediate, the server waits for more input",
            4 => "4xx: temporary failure, retry later",
            5 => "5xx: permanent failure, do not retry unchanged",
            _ => "not a valid SMTP reply class (2xx–5xx only)",
        };
        out.push(format!("     class {class}"));
        // Skip lines that only repeat the table meaning or a meaning shared by every command.
        let generic = basic_meaning(code);
        let anywhere = context_meaning(code, Phase::Other);
        if let Some(m) = anywhere
            && Some(m) != generic
        {
            out.push(format!("     after any command: {m}"));
        }
        for &p in DIALOGUE_PHASES {
            if let Some(m) = context_meaning(code, p)
                && Some(m) != generic
                && Some(m) != anywhere
            {
                out.push(format!("     after {}: {m}", p.label()));
            }
        }
    }
    if let Some(e) = enhanced
        && let Some(info) = lookup_enhanced(&e)
    {
        out.push(format!("{}  {}", info.code, info.title));
        out.push(format!("     {}", info.meaning));
        if let Some(r) = registry_entry(e.subject, e.detail) {
            let mut line = format!("     registry: {}", r.reference);
            if !r.associated_basic.is_empty() {
                line.push_str(&format!("; usual basic codes: {}", r.associated_basic));
            }
            out.push(line);
        }
    }
    if let (Some(b), Some(e)) = (basic, enhanced)
        && e.class != 0
        && u16::from(e.class) != b / 100
    {
        out.push(format!(
            "note: the classes differ ({b} vs {e}); RFC 3463 §2 wants them to match"
        ));
    }

    // Hints per command, merged where the same advice applies to several commands.
    let mut hints: Vec<(Vec<&str>, String)> = Vec::new();
    match (basic, enhanced) {
        (Some(code), _) => {
            let line = enhanced.map(|e| e.to_string()).unwrap_or_default();
            let mut reply = Reply::new(code, &[line.as_str()]);
            // `X.s.d` carries no class: take the basic code's, so the hint rules see a code.
            if let Some(e) = enhanced
                && e.class == 0
                && let Ok(cls) = u8::try_from(code / 100)
            {
                reply.enhanced = Some(EnhancedCode { class: cls, ..e });
            }
            // Only the commands this code is a known answer to; a code with no
            // command-specific meaning gets one command-free hint.
            let mut phases: Vec<Phase> = DIALOGUE_PHASES
                .iter()
                .copied()
                .filter(|&p| context_meaning(code, p).is_some())
                .collect();
            if phases.is_empty() {
                phases.push(Phase::Other);
            }
            for &p in &phases {
                if let Some(h) = hint(&reply, p) {
                    let label = if p == Phase::Other {
                        None
                    } else {
                        Some(p.label())
                    };
                    match hints.iter_mut().find(|(_, t)| *t == h) {
                        Some((ps, _)) => ps.extend(label),
                        None => hints.push((label.into_iter().collect(), h)),
                    }
                }
            }
        }
        (None, Some(e)) => {
            // Without a basic code, the command context cannot be judged; give the
            // code-level hint only, for the failure classes (X = as a failure).
            let as_failure = EnhancedCode {
                class: if e.class == 0 { 5 } else { e.class },
                ..e
            };
            let code = u16::from(as_failure.class) * 100 + 50;
            let line = as_failure.to_string();
            let c = Ctx::new(&Reply::new(code, &[line.as_str()]), code, Phase::Other);
            if let Some(h) =
                vendor_hint(&c).or_else(|| enhanced_hint(as_failure).map(str::to_string))
            {
                hints.push((Vec::new(), h));
            }
        }
        (None, None) => {}
    }
    if hints.len() == 1 && hints[0].0.len() == DIALOGUE_PHASES.len() {
        hints[0].0.clear();
    }
    for (phases, h) in hints {
        if phases.is_empty() {
            out.push(format!("hint: {h}"));
        } else {
            out.push(format!("hint after {}: {h}", phases.join(", ")));
        }
    }
    Some(out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::event::Deviation;

    fn ex(code: u16, line: &str, phase: Phase) -> Explanation {
        explain(&Reply::new(code, &[line]), phase)
    }

    fn hint_of(code: u16, line: &str, phase: Phase) -> String {
        ex(code, line, phase).hint.unwrap_or_default()
    }

    // --- CSV parser -----------------------------------------------------------------------

    #[test]
    fn csv_quotes_newlines_and_doubled_quotes() {
        let t = "a,b,c\r\n1,\"x\ny\",\"say \"\"hi\"\"\"\r\n2,,\"\"\r\n";
        let r = parse_csv(t).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[1], vec!["1", "x\ny", "say \"hi\""]);
        assert_eq!(r[2], vec!["2", "", ""]);
    }

    #[test]
    fn csv_quoted_crlf_kept_and_last_record_without_newline() {
        let r = parse_csv("\"a\r\nb\",c\r\nd,e").unwrap();
        assert_eq!(r, vec![vec!["a\r\nb", "c"], vec!["d", "e"]]);
    }

    #[test]
    fn csv_bare_lf_records_and_blank_lines() {
        let r = parse_csv("a,b\n\n1,2\n").unwrap();
        assert_eq!(r, vec![vec!["a", "b"], vec!["1", "2"]]);
        // A trailing empty field is still a field.
        assert_eq!(parse_csv("a,\r\n").unwrap(), vec![vec!["a", ""]]);
    }

    #[test]
    fn csv_errors() {
        assert_eq!(
            parse_csv("a,\"open\nstill"),
            Err(CsvError::UnterminatedQuote { line: 1 })
        );
        assert_eq!(
            parse_csv("x\r\n\"q\"z,1"),
            Err(CsvError::JunkAfterQuote { line: 2 })
        );
        assert_eq!(parse_csv("").unwrap(), Vec::<Vec<String>>::new());
    }

    // --- registry -------------------------------------------------------------------------

    #[test]
    fn the_record_index_agrees_with_the_full_parse() {
        for e in registry() {
            assert_eq!(
                registry_row(e.subject, e.detail).as_ref(),
                Some(e),
                "{}",
                e.code()
            );
        }
        assert_eq!(registry_row(1, 99), None);
    }

    #[test]
    fn registry_loads_all_81_codes() {
        let reg = load_registry(ENHANCED_CSV).expect("vendored registry parses");
        assert_eq!(reg.len(), 81);
        assert_eq!(registry().len(), 81);
        assert_eq!(reg.first().unwrap().code(), "X.0.0");
        assert_eq!(reg.last().unwrap().code(), "X.7.30");
        // No duplicates.
        for (i, a) in reg.iter().enumerate() {
            assert!(
                !reg[i + 1..]
                    .iter()
                    .any(|b| (b.subject, b.detail) == (a.subject, a.detail)),
                "{} twice",
                a.code()
            );
        }
        // Every registered code has our own words (a new export would need new ones).
        for e in &reg {
            assert!(own_words(e.subject, e.detail).is_some(), "{}", e.code());
        }
        assert_eq!(OWN_WORDS.len(), 81);
    }

    #[test]
    fn registry_quirks() {
        // Sample text wrapped over two lines (X.6.8) is joined.
        let e = registry_entry(6, 8).unwrap();
        assert_eq!(
            e.sample_text,
            "UTF-8 string reply is required, but not permitted by the SMTP client"
        );
        // X.6.10: description only.
        let e = registry_entry(6, 10).unwrap();
        assert_eq!(e.sample_text, "");
        assert!(e.description.contains("duplicate of X.6.8"));
        let i = lookup_enhanced(&EnhancedCode {
            class: 5,
            subject: 6,
            detail: 10,
        })
        .unwrap();
        assert!(i.title.contains("duplicate of X.6.8"));
        assert!(i.meaning.starts_with("Permanent failure: deprecated"));
        // Associated basic code wrapped over two lines (X.5.0) and the odd "." (X.7.28).
        assert!(
            registry_entry(5, 0)
                .unwrap()
                .associated_basic
                .ends_with("501, 502, 503, 554")
        );
        assert_eq!(registry_entry(7, 28).unwrap().associated_basic, ".");
        // Doubled quotes become one quote.
        assert!(registry_entry(1, 1).unwrap().description.contains("\"@\""));
        // Indented continuation lines (X.7.30) are squashed.
        assert!(!registry_entry(7, 30).unwrap().description.contains("  "));
        assert_eq!(registry_entry(7, 30).unwrap().reference, "[RFC8689]");
    }

    #[test]
    fn lookups() {
        let c = |class, subject, detail| EnhancedCode {
            class,
            subject,
            detail,
        };
        let i = lookup_enhanced(&c(5, 1, 1)).unwrap();
        assert_eq!(i.code, "5.1.1");
        assert_eq!(i.title, "Bad destination mailbox address");
        assert!(i.meaning.starts_with("Permanent failure: "));
        assert!(i.meaning.contains("does not exist"));

        let i = lookup_enhanced(&c(4, 7, 1)).unwrap();
        assert_eq!(i.title, "Delivery not authorized, message refused");
        assert!(i.meaning.starts_with("Temporary failure (retry later): "));

        let i = lookup_enhanced(&c(5, 7, 8)).unwrap();
        assert_eq!(i.title, "Authentication credentials invalid");

        let i = lookup_enhanced(&c(5, 7, 30)).unwrap();
        assert_eq!(i.title, "REQUIRETLS support required");

        let i = lookup_enhanced(&c(2, 1, 5)).unwrap();
        assert!(i.meaning.starts_with("Success: "));

        // X form.
        let i = lookup_enhanced(&c(0, 7, 1)).unwrap();
        assert_eq!(i.code, "X.7.1");
        assert!(i.meaning.starts_with("Any class: "));
    }

    #[test]
    fn unregistered_codes_fall_back_to_class_and_subject() {
        let i = lookup_enhanced(&EnhancedCode {
            class: 5,
            subject: 1,
            detail: 99,
        })
        .unwrap();
        assert_eq!(i.code, "5.1.99");
        assert_eq!(i.title, "Not in the IANA registry");
        assert_eq!(
            i.meaning,
            "Permanent failure: addressing status; detail 99 is not in the IANA registry"
        );
        let i = lookup_enhanced(&EnhancedCode {
            class: 4,
            subject: 9,
            detail: 0,
        })
        .unwrap();
        assert!(i.meaning.contains("subject 9 is not in the IANA registry"));
        assert!(i.meaning.starts_with("Temporary failure"));
        assert!(
            lookup_enhanced(&EnhancedCode {
                class: 5,
                subject: 1000,
                detail: 0
            })
            .is_none()
        );
    }

    #[test]
    fn paraphrase_uses_subject_and_sample() {
        assert_eq!(
            paraphrase(5, 3, "Mail system full"),
            "Permanent failure: mail system status (mail system full)"
        );
    }

    // --- basic codes ----------------------------------------------------------------------

    #[test]
    fn basic_table() {
        let b = load_basic(BASIC_CSV).unwrap();
        assert_eq!(b.len(), 34);
        assert_eq!(basic_meaning(221).unwrap(), BASIC[3].meaning);
        // A quoted field with a comma inside.
        assert_eq!(
            basic_meaning(252).unwrap(),
            "Cannot verify the user, but will accept the message and try to deliver it"
        );
        assert_eq!(
            basic_entry(452).unwrap().source,
            "RFC 5321 §4.2.3, §4.5.3.1.10"
        );
        assert!(basic_meaning(556).unwrap().contains("null MX"));
        assert_eq!(basic_meaning(299), None);
    }

    #[test]
    fn basic_in_command_context() {
        let b = |code, p| ex(code, "x", p).basic.unwrap();
        assert!(b(550, Phase::Rcpt).contains("recipient refused"));
        assert!(b(550, Phase::Mail).contains("sender refused"));
        assert!(b(554, Phase::Dot).contains("content policy"));
        assert!(b(221, Phase::Quit).contains("normal close"));
        assert!(b(354, Phase::Data).contains("go ahead"));
        assert!(b(250, Phase::Helo).contains("extensions"));
        assert!(b(220, Phase::StartTls).contains("TLS handshake"));
        // No context: the table meaning.
        assert_eq!(b(502, Phase::Other), basic_meaning(502).unwrap());
        // Out-of-step positive reply.
        assert!(b(354, Phase::Mail).contains("unexpected as an answer to MAIL"));
    }

    // --- severity -------------------------------------------------------------------------

    #[test]
    fn severities() {
        let s = |code, p| ex(code, "x", p).severity.unwrap();
        assert_eq!(s(250, Phase::Mail), Severity::Ok);
        assert_eq!(s(220, Phase::Banner), Severity::Ok);
        assert_eq!(s(220, Phase::StartTls), Severity::Ok);
        assert_eq!(s(354, Phase::Data), Severity::Ok);
        assert_eq!(s(334, Phase::Auth), Severity::Ok);
        assert_eq!(s(235, Phase::Auth), Severity::Ok);
        assert_eq!(s(221, Phase::Quit), Severity::Ok);
        assert_eq!(s(251, Phase::Rcpt), Severity::Notice);
        assert_eq!(s(252, Phase::Rcpt), Severity::Notice);
        assert_eq!(s(250, Phase::Data), Severity::Notice);
        assert_eq!(s(250, Phase::Other), Severity::Ok);
        assert_eq!(s(450, Phase::Rcpt), Severity::Transient);
        assert_eq!(s(550, Phase::Rcpt), Severity::Permanent);
        assert_eq!(s(650, Phase::Rcpt), Severity::Permanent);
        let mut r = Reply::new(250, &["ok"]);
        r.deviations.push(Deviation::BareLf);
        assert_eq!(explain(&r, Phase::Mail).severity, Some(Severity::Notice));
        assert!(
            explain(&r, Phase::Mail)
                .hint
                .unwrap()
                .contains("deviations")
        );
        r.code = None;
        assert_eq!(explain(&r, Phase::Mail).severity, Some(Severity::Permanent));
    }

    // --- hints ----------------------------------------------------------------------------

    #[test]
    fn hint_530_starttls_vs_auth() {
        let h = hint_of(
            530,
            "5.7.0 Must issue a STARTTLS command first",
            Phase::Mail,
        );
        assert!(h.contains("STARTTLS first: add --tls"), "{h}");
        let h = hint_of(530, "5.7.0 Authentication required", Phase::Mail);
        assert!(
            h.contains("wants authentication: add --auth --auth-user"),
            "{h}"
        );
        // Unclear text: STARTTLS first (the usual case), mentioning auth too.
        let h = hint_of(530, "5.7.0 Access denied", Phase::Rcpt);
        assert!(h.contains("add --tls"), "{h}");
        let h = hint_of(
            530,
            "5.7.0 Must issue a STARTTLS command first",
            Phase::Auth,
        );
        assert!(h.contains("add --tls"), "{h}");
    }

    #[test]
    fn hint_relay_denied() {
        for (code, line) in [
            (554, "5.7.1 <a@b.example>: Relay access denied"),
            (550, "5.7.1 Unable to relay"),
            (454, "4.7.1 <a@b.example>: Relay access denied"),
        ] {
            let h = hint_of(code, line, Phase::Rcpt);
            assert!(h.starts_with("relay denied"), "{code}: {h}");
            assert!(h.contains("--auth"), "{h}");
            assert_eq!(h.contains("temporary"), code == 454, "{h}");
        }
    }

    #[test]
    fn hint_rcpt_failures() {
        let h = hint_of(
            550,
            "5.1.1 <nobody@x.example>: Recipient address rejected",
            Phase::Rcpt,
        );
        assert!(h.contains("mailbox does not exist"), "{h}");
        let h = hint_of(550, "No such user here", Phase::Rcpt);
        assert!(h.contains("mailbox does not exist"), "{h}");
        let h = hint_of(452, "4.5.3 Error: too many recipients", Phase::Rcpt);
        assert!(h.contains("too many recipients for one transaction"), "{h}");
        let h = hint_of(452, "Insufficient system storage", Phase::Rcpt);
        assert!(h.contains("retry later"), "{h}");
        let h = hint_of(552, "5.2.2 Mailbox full", Phase::Rcpt);
        assert!(h.contains("mailbox is full"), "{h}");
        let h = hint_of(503, "5.5.1 Error: need MAIL command", Phase::Rcpt);
        assert!(h.contains("MAIL FROM must be accepted first"), "{h}");
    }

    fn hint_lines(code: u16, lines: &[&str], phase: Phase) -> String {
        explain(&Reply::new(code, lines), phase)
            .hint
            .unwrap_or_default()
    }

    #[test]
    fn enhanced_code_wins_over_the_basic_code_when_more_specific() {
        // 552 is "storage exceeded"; 5.2.2 narrows it to a full mailbox (SMTP and LMTP).
        for line in ["5.2.2 <c@x.test> Mailbox is full", "5.2.2 Over quota"] {
            let h = hint_of(552, line, Phase::Dot);
            assert!(
                h.contains("mailbox is full") && !h.contains("too big"),
                "{h}"
            );
        }
        let b = ex(552, "5.2.2 Mailbox full", Phase::Dot).basic.unwrap();
        assert!(!b.starts_with("message too big"), "{b}");
        // Without the narrowing code, 552 at the end of data is still the size.
        let h = hint_of(552, "5.3.4 Message size exceeds fixed limit", Phase::Dot);
        assert!(h.contains("too big"), "{h}");
        // Exim's "552 too many recipients" at RCPT is not a full mailbox.
        let h = hint_of(552, "too many recipients", Phase::Rcpt);
        assert!(h.contains("too many recipients"), "{h}");
    }

    #[test]
    fn refusals_of_unadvertised_extensions_blame_the_extension() {
        // Exim, under --force-ext.
        for (code, line, phase) in [
            (501, "SMTPUTF8 used when not advertised", Phase::Mail),
            (
                503,
                "BDAT command used when CHUNKING not advertised",
                Phase::Dot,
            ),
            (
                503,
                "STARTTLS command used when not advertised",
                Phase::StartTls,
            ),
            (503, "AUTH command used when not advertised", Phase::Auth),
            (
                501,
                "<a@x.test> RET=HDRS: malformed address: RET=HDRS may not follow <a@x.test>",
                Phase::Mail,
            ),
            (
                501,
                "<b@x.test> NOTIFY=SUCCESS: malformed address: NOTIFY=SUCCESS may not follow <b@x.test>",
                Phase::Rcpt,
            ),
        ] {
            let h = hint_of(code, line, phase);
            assert!(
                h.contains("advertis") || h.contains("EHLO reply lists"),
                "{line}: {h}"
            );
            assert!(
                !h.contains("sender address is malformed")
                    && !h.contains("out of sequence")
                    && !h.contains("bad sequence")
                    && !h.contains("recipient address is malformed"),
                "{line}: {h}"
            );
        }
    }

    #[test]
    fn wordings_without_enhanced_codes_get_specific_hints() {
        let h = hint_of(550, "Sender rate overlimit - 12.0 / 1h", Phase::Rcpt);
        assert!(h.contains("too fast"), "{h}");
        let h = hint_of(451, "Greylisted, please come back later", Phase::Rcpt);
        assert!(h.contains("greylisted"), "{h}");
        let h = hint_of(450, "Please try again later", Phase::Rcpt);
        assert!(h.contains("greylisted"), "{h}");
        let h = hint_of(550, "Your message looks like spam", Phase::Dot);
        assert!(h.contains("classified as spam"), "{h}");
        let h = hint_of(
            554,
            "Rejected: message scored too high on spam scale",
            Phase::Dot,
        );
        assert!(h.contains("classified as spam"), "{h}");
        for list in [
            "554 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
            "554 Rejected - see http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1",
            "550 Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.1",
        ] {
            let (code, text) = list.split_once(' ').unwrap();
            let h = hint_of(code.parse().unwrap(), text, Phase::Rcpt);
            assert!(h.contains("blocklist"), "{list}: {h}");
        }
        let h = hint_of(
            550,
            "5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your \
             Internet service provider since part of their network is on our block list (S3150).",
            Phase::Rcpt,
        );
        assert!(h.contains("block list") || h.contains("blocklist"), "{h}");
        assert!(h.contains("Microsoft"), "{h}");
        let h = hint_of(
            451,
            "4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77714)",
            Phase::Rcpt,
        );
        assert!(h.contains("Microsoft") && h.contains("throttled"), "{h}");
        let h = hint_lines(
            421,
            &["4.7.0 Try again later, closing connection. (EHLO) x - gsmtp"],
            Phase::Helo,
        );
        assert!(h.contains("Gmail"), "{h}");
        let h = hint_lines(
            550,
            &[
                "5.7.26 This mail is unauthenticated, which poses a security risk to the",
                "5.7.26 sender and Gmail users, and has been blocked. The sender must",
                "5.7.26 authenticate with at least one of SPF or DKIM. - gsmtp",
            ],
            Phase::Dot,
        );
        assert!(h.contains("SPF") && h.contains("DKIM"), "{h}");
    }

    #[test]
    fn the_basic_meaning_is_the_one_for_the_phase() {
        let b = ex(554, "5.7.1 <x@y.test>: Relay access denied", Phase::Rcpt)
            .basic
            .unwrap();
        assert!(!b.contains("greeting") && b.contains("recipient"), "{b}");
        // No table meaning that belongs to another command leaks into a dialogue phase.
        for &code in &[220, 454, 500, 554] {
            for &p in DIALOGUE_PHASES {
                let b = basic_in_context(Some(code), p);
                if p != Phase::Banner {
                    assert!(!b.contains("as a greeting"), "{code} {p:?}: {b}");
                }
                if p != Phase::StartTls {
                    assert!(!b.contains("after STARTTLS"), "{code} {p:?}: {b}");
                }
                if p != Phase::Auth {
                    assert!(!b.contains("after AUTH"), "{code} {p:?}: {b}");
                }
            }
        }
        // As a greeting, 554 is still "no service".
        let b = ex(554, "No SMTP service here", Phase::Banner)
            .basic
            .unwrap();
        assert!(b.contains("refuses to talk"), "{b}");
    }

    #[test]
    fn hint_size_and_content() {
        let h = hint_of(552, "5.3.4 Message size exceeds fixed limit", Phase::Dot);
        assert!(h.contains("too big") && h.contains("SIZE"), "{h}");
        let h = hint_of(552, "5.3.4 Message size exceeds fixed limit", Phase::Mail);
        assert!(h.contains("SIZE"), "{h}");
        let h = hint_of(550, "5.7.1 Message rejected as spam", Phase::Dot);
        assert!(h.contains("rejected as spam or by policy"), "{h}");
        let h = hint_of(554, "5.7.1 Message content rejected", Phase::Dot);
        assert!(h.contains("rejected as spam or by policy"), "{h}");
        let h = hint_of(554, "5.7.1 Rejected by policy", Phase::Data);
        assert!(h.contains("refused by policy at DATA"), "{h}");
        let h = hint_of(554, "Transaction failed", Phase::Dot);
        assert!(h.contains("content filter"), "{h}");
    }

    #[test]
    fn hint_421_everywhere_and_banner() {
        let h = hint_of(421, "4.7.0 Too many connections", Phase::Rcpt);
        assert!(
            h.contains("closing the channel") && h.contains("retry later"),
            "{h}"
        );
        let h = hint_of(421, "Service not available", Phase::Banner);
        assert!(h.contains("refuses connections right now"), "{h}");
        let h = hint_of(
            554,
            "mx.example.net ESMTP not accepting messages",
            Phase::Banner,
        );
        assert!(h.contains("refuses you"), "{h}");
        let h = hint_of(554, "Your IP is listed on zen.spamhaus.org", Phase::Banner);
        assert!(h.contains("blocklist"), "{h}");
    }

    #[test]
    fn hint_greylisting() {
        let h = hint_of(450, "4.7.1 Please try again later", Phase::Rcpt);
        assert!(h.starts_with("greylisted"), "{h}");
        let h = hint_of(
            451,
            "4.7.1 Service unavailable, try again later",
            Phase::Rcpt,
        );
        assert!(h.starts_with("greylisted"), "{h}");
        let h = hint_of(
            450,
            "4.2.0 <a@b.example>: Recipient address rejected: Greylisted",
            Phase::Rcpt,
        );
        assert!(h.starts_with("greylisted"), "{h}");
        // 4.7.1 without "later" wording is a soft policy refusal, not greylisting.
        let h = hint_of(
            450,
            "4.7.1 Client host rejected: cannot find your hostname",
            Phase::Rcpt,
        );
        assert!(!h.starts_with("greylisted"), "{h}");
        let h = hint_of(451, "4.7.1 Greylisting in action", Phase::Dot);
        assert!(h.starts_with("greylisted"), "{h}");
    }

    #[test]
    fn hint_auth() {
        let h = hint_of(535, "5.7.8 Authentication credentials invalid", Phase::Auth);
        assert!(h.starts_with("credentials rejected"), "{h}");
        let h = hint_of(
            534,
            "5.7.9 Authentication mechanism is too weak",
            Phase::Auth,
        );
        assert!(h.contains("too weak") && h.contains("another"), "{h}");
        let h = hint_of(
            538,
            "5.7.11 Encryption required for requested authentication mechanism",
            Phase::Auth,
        );
        assert!(h.contains("add --tls"), "{h}");
        for code in [502, 504] {
            let h = hint_of(code, "5.5.4 Unrecognized authentication type", Phase::Auth);
            assert!(h.contains("does not support this AUTH mechanism"), "{h}");
        }
        let h = hint_of(454, "4.7.0 Temporary authentication failure", Phase::Auth);
        assert!(h.contains("retry later"), "{h}");
    }

    #[test]
    fn hint_starttls_and_ehlo() {
        let h = hint_of(
            454,
            "4.7.0 TLS not available due to local problem",
            Phase::StartTls,
        );
        assert!(h.starts_with("TLS is not available right now"), "{h}");
        for code in [500, 502] {
            let h = hint_of(
                code,
                "5.5.2 Syntax error, command unrecognized",
                Phase::Helo,
            );
            assert!(
                h.contains("does not speak ESMTP") && h.contains("HELO"),
                "{h}"
            );
        }
    }

    #[test]
    fn hint_null_mx_and_no_mail_hosts() {
        let h = hint_of(556, "5.1.10 Recipient address has null MX", Phase::Rcpt);
        assert!(h.contains("null MX"), "{h}");
        let h = hint_of(550, "5.1.10 Recipient address has null MX", Phase::Rcpt);
        assert!(h.contains("null MX"), "{h}");
        let h = hint_of(521, "mx.example.net does not accept mail", Phase::Banner);
        assert!(h.contains("accepts no mail at all"), "{h}");
        let h = hint_of(550, "5.7.27 Sender address has null MX", Phase::Mail);
        assert!(h.contains("null MX"), "{h}");
    }

    #[test]
    fn hint_sequence_and_params() {
        let h = hint_of(503, "5.5.1 Error: send HELO/EHLO first", Phase::Mail);
        assert!(h.contains("MAIL out of sequence"), "{h}");
        let h = hint_of(503, "Bad sequence of commands", Phase::Other);
        assert!(h.contains("bad sequence of commands"), "{h}");
        let h = hint_of(555, "5.5.4 Unsupported option: SMTPUTF8", Phase::Mail);
        assert!(h.contains("MAIL FROM parameter"), "{h}");
        let h = hint_of(555, "5.5.4 Unsupported option: NOTIFY", Phase::Rcpt);
        assert!(h.contains("RCPT TO parameter"), "{h}");
        let h = hint_of(503, "5.5.1 Error: need RCPT command", Phase::Data);
        assert!(h.contains("DATA refused"), "{h}");
    }

    #[test]
    fn hint_sender_authentication_policies() {
        let h = hint_of(
            550,
            "5.7.26 Unauthenticated email is not accepted",
            Phase::Dot,
        );
        assert!(
            h.contains("SPF") && h.contains("DKIM") && !h.starts_with('('),
            "{h}"
        );
        let h = hint_of(550, "5.7.25 Reverse DNS validation failed", Phase::Dot);
        assert!(h.contains("reverse DNS"), "{h}");
        let h = hint_of(550, "5.7.23 SPF validation failed", Phase::Rcpt);
        assert!(h.contains("SPF record"), "{h}");
        let h = hint_of(
            550,
            "5.7.1 Sender address rejected: not owned by user a@b",
            Phase::Mail,
        );
        assert!(h.contains("may not send as"), "{h}");
    }

    #[test]
    fn vendor_hints_are_labelled() {
        let h = hint_of(
            550,
            "5.7.26 This mail has been blocked because the sender is unauthenticated. - gsmtp",
            Phase::Dot,
        );
        assert!(h.starts_with("(Gmail)"), "{h}");
        let h = hint_of(
            535,
            "5.7.139 Authentication unsuccessful, basic authentication is disabled.",
            Phase::Auth,
        );
        assert!(
            h.starts_with("(Microsoft)") && h.contains("basic authentication"),
            "{h}"
        );
        let h = hint_of(
            550,
            "5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
            Phase::Banner,
        );
        assert!(h.starts_with("(Microsoft)"), "{h}");
        let h = hint_of(
            534,
            "5.7.9 Application-specific password required. https://support.google.com/mail/?p=InvalidSecondFactor",
            Phase::Auth,
        );
        assert!(
            h.starts_with("(Gmail)") && h.contains("app password"),
            "{h}"
        );
    }

    #[test]
    fn hint_not_smtp() {
        let garbage = |raw: &[u8]| {
            let r = Reply {
                code: None,
                enhanced: None,
                lines: vec![String::from_utf8_lossy(raw).into_owned()],
                raw: crate::smtp::event::Bytes(raw.to_vec()),
                deviations: vec![],
            };
            explain(&r, Phase::Banner)
        };
        let e = garbage(b"\x15\x03\x03\x00\x02\x02\x46");
        assert!(e.hint.unwrap().contains("--tls-on-connect"));
        assert_eq!(e.severity, Some(Severity::Permanent));
        let e = garbage(b"\x16\x03\x01\x00\x2a");
        assert!(e.hint.unwrap().contains("--tls-on-connect"));
        let e = garbage(b"HTTP/1.1 400 Bad Request\r\n");
        assert!(e.hint.unwrap().contains("HTTP server"));
        let e = garbage(b"SSH-2.0-OpenSSH_9.6\r\n");
        assert!(e.hint.unwrap().contains("SSH"));
        let e = garbage(b"hello there\r\n");
        assert!(
            e.hint
                .unwrap()
                .contains("did not answer with an SMTP reply")
        );
        assert!(e.basic.unwrap().contains("no reply code"));
    }

    #[test]
    fn successes_have_no_hint() {
        assert_eq!(ex(250, "2.1.0 Ok", Phase::Mail).hint, None);
        assert_eq!(ex(250, "2.0.0 Ok: queued as 123", Phase::Dot).hint, None);
        assert_eq!(ex(220, "mx ESMTP", Phase::Banner).hint, None);
        let e = ex(250, "2.1.5 Ok", Phase::Rcpt);
        assert_eq!(e.enhanced.unwrap().title, "Destination address valid");
    }

    #[test]
    fn never_panics_on_weird_input() {
        let phases = [
            Phase::Dns,
            Phase::Connect,
            Phase::Proxy,
            Phase::Banner,
            Phase::Helo,
            Phase::StartTls,
            Phase::HeloAfterTls,
            Phase::Xclient,
            Phase::Auth,
            Phase::Mail,
            Phase::Rcpt,
            Phase::Data,
            Phase::Dot,
            Phase::Quit,
            Phase::Other,
        ];
        let long = "é".repeat(10_000);
        let weird: Vec<Reply> = vec![
            Reply::new(600, &["6.0.0 what"]),
            Reply::new(199, &[""]),
            Reply::new(999, &[]),
            Reply::new(0, &["x"]),
            Reply::new(550, &[]),
            Reply::new(550, &["", "", ""]),
            Reply::new(550, &[long.as_str()]),
            Reply::new(421, &["4.999.999 weird"]),
            Reply {
                code: None,
                enhanced: None,
                lines: vec![],
                raw: Default::default(),
                deviations: vec![Deviation::NotUtf8],
            },
            Reply {
                code: Some(550),
                enhanced: Some(EnhancedCode {
                    class: 9,
                    subject: 999,
                    detail: 999,
                }),
                lines: vec!["\u{0}\u{ffff}".into()],
                raw: Default::default(),
                deviations: vec![],
            },
        ];
        for r in &weird {
            for &p in &phases {
                let e = explain(r, p);
                assert!(e.basic.is_some());
                assert!(e.severity.is_some());
                if r.code.is_none_or(|c| !(200..600).contains(&c)) {
                    assert_eq!(e.severity, Some(Severity::Permanent));
                    assert!(e.hint.is_some());
                }
            }
        }
        assert!(
            ex(650, "x", Phase::Rcpt)
                .hint
                .unwrap()
                .contains("not a valid SMTP reply code")
        );
    }

    // --- :explain -------------------------------------------------------------------------

    #[test]
    fn explain_code_forms() {
        let t = explain_code("550").unwrap();
        assert!(t.starts_with("550  Action refused"), "{t}");
        assert!(
            t.contains("after RCPT: mailbox unavailable / recipient refused"),
            "{t}"
        );
        assert!(t.contains("after MAIL: sender refused"), "{t}");

        let t = explain_code("5.7.1").unwrap();
        assert!(
            t.starts_with("5.7.1  Delivery not authorized, message refused"),
            "{t}"
        );
        assert!(t.contains("[RFC3463]"), "{t}");

        let t = explain_code("X.7.8").unwrap();
        assert!(
            t.starts_with("X.7.8  Authentication credentials invalid"),
            "{t}"
        );
        assert!(t.contains("hint: credentials rejected"), "{t}");

        let t = explain_code("  550 5.1.1 ").unwrap();
        assert!(t.contains("5.1.1  Bad destination mailbox address"), "{t}");
        // LMTP and PRDR give a per-recipient 5.1.1 after the content too.
        assert!(
            t.contains("hint after RCPT, end of data: the mailbox does not exist"),
            "{t}"
        );

        let t = explain_code("550-5.1.1").unwrap();
        assert!(t.contains("5.1.1"), "{t}");

        let t = explain_code("550 4.1.1").unwrap();
        assert!(t.contains("classes differ"), "{t}");

        let t = explain_code("5.1.99").unwrap();
        assert!(t.contains("not in the IANA registry"), "{t}");

        let t = explain_code("530 X.7.0 Must issue a STARTTLS command first").unwrap();
        assert!(t.contains("5.7.0") || t.contains("X.7.0"), "{t}");
        assert!(t.contains("add --tls"), "{t}");

        let t = explain_code("421").unwrap();
        assert!(
            t.contains("after any command: service not available"),
            "{t}"
        );
        assert!(
            t.contains("after banner: the server will not serve you"),
            "{t}"
        );
        assert!(!t.contains("after RCPT: service"), "{t}");

        let t = explain_code("5.7.708").unwrap();
        assert!(t.contains("hint: (Microsoft)"), "{t}");

        assert!(explain_code("699").unwrap().contains("not a valid"));
        for weird in [
            "５５０",
            "5.1",
            "5..1",
            "6.1.1",
            "x.x.x",
            "550 550 5.1.1 4.1.1",
            "0.0.0 000",
            "\u{0}\u{ffff}",
        ] {
            let _ = explain_code(weird);
        }
        let _ = explain_code(&"5.1.1 ".repeat(100_000));
        assert_eq!(explain_code(&"a".repeat(1_000_000)), None);
        assert_eq!(explain_code(""), None);
        assert_eq!(explain_code("hello"), None);
        assert_eq!(explain_code("9.9.9 12 1234"), None);
    }
}
