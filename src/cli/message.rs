//! The test message, composed like swaks's template (swaks's default DATA template): `Date`, `To`,
//! `Cc`, `From`, `Subject: test <date>`, `Message-Id`, `X-Mailer`, MIME headers when needed, then
//! the user's `--header` replacements and `--add-header` additions, a blank line and the body.
//! Also owns swaks's template tokens (`%DATE%`, `..DATE..`, …) and the MIME parts of
//! `--attach`/`--attach-body`/`--attach-inline`, built with `mail-builder` (RFC 2045-2047, 2046
//! multipart, 2387 related, 2392 Content-ID).
//!
//! Lines end in bare LF here (mail-builder's CRLF is turned into LF as well); the DATA encoder
//! (`smtp::data::encode`) turns them into CRLF unless told not to. Header values that are not
//! plain ASCII are RFC 2047 encoded (display names only, for address headers). The clock, host
//! name and process id come in through [`MessageContext`], and MIME boundaries and Content-IDs
//! derive from them, so the output is deterministic under test.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;

use mail_builder::headers::Header;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::{BodyPart, MimePart};
use time::format_description::well_known::Rfc2822;
use time::{OffsetDateTime, UtcOffset};

pub(crate) use crate::cli::args::PartKind;

/// Body used when `--body` is not given (swaks's wording).
pub(crate) const DEFAULT_BODY: &str = "This is a test mailing";

/// Everything about the environment that the message depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageContext {
    /// Time of the run, in the local offset when it can be determined (else UTC); set on first
    /// use ([`MessageContext::now`]), or by a test.
    pub(crate) now: OnceCell<OffsetDateTime>,
    /// Local host name (for `Message-Id`).
    pub(crate) hostname: String,
    /// Process id (for `Message-Id`, fixed per process as in swaks).
    pub(crate) pid: u32,
}

impl MessageContext {
    /// This process's id and `hostname`; the time is read when first asked for.
    pub(crate) fn current(hostname: &str) -> MessageContext {
        MessageContext {
            now: OnceCell::new(),
            hostname: hostname.to_string(),
            pid: std::process::id(),
        }
    }

    /// The time of the run: the current time at first use, in the local offset (falling back to
    /// `+0000` where the offset cannot be determined safely: the time crate reads it only while
    /// the process has one thread, and the message is built while parsing the command line,
    /// before the runtime starts its threads). Read when first needed because the local offset
    /// means reading the time-zone database (`/etc/localtime`, seven system calls), which a
    /// `--data` message without date tokens never uses.
    pub(crate) fn now(&self) -> OffsetDateTime {
        *self.now.get_or_init(|| {
            let utc = OffsetDateTime::now_utc();
            match UtcOffset::current_local_offset() {
                Ok(offset) => utc.to_offset(offset),
                Err(_) => utc,
            }
        })
    }
}

/// One MIME part, resolved by `cli::mode` (content read, type and name decided).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// Body text, inline part or attachment.
    pub(crate) kind: PartKind,
    /// MIME type, possibly with parameters (`text/html; charset=utf-8`).
    pub(crate) content_type: String,
    /// File name for `Content-Disposition` (`None` = none).
    pub(crate) filename: Option<String>,
    /// The raw content.
    pub(crate) content: Vec<u8>,
}

/// What the user asked for, already validated by `cli::mode`.
#[derive(Debug, Clone, Default)]
pub(crate) struct MessageSpec<'a> {
    /// `--to` recipients (for the `To:` header).
    pub(crate) to: &'a [String],
    /// The `--to` text as typed (its comma-separated pieces joined by `,` again, blanks kept),
    /// which swaks writes into the default `To:` header and `%TO_ADDRESS%`: `-t 'a, b'` gives
    /// `To: a, b`. `None`: [`Self::to`] joined by `,`.
    pub(crate) to_typed: Option<&'a str>,
    /// `--cc` recipients (for the `Cc:` header).
    pub(crate) cc: &'a [String],
    /// The `--cc` text as typed, for the `Cc:` header and `%CC_ADDRESS%`, as
    /// [`Self::to_typed`] (swaks's rule). `None`: [`Self::cc`] joined by `,`.
    pub(crate) cc_typed: Option<&'a str>,
    /// `--bcc` recipients (only for `%BCC_ADDRESS%`).
    pub(crate) bcc: &'a [String],
    /// The `--bcc` text as typed, for `%BCC_ADDRESS%`. `None`: [`Self::bcc`] joined by `,`.
    pub(crate) bcc_typed: Option<&'a str>,
    /// Sender (`""` = null sender, shown as `<>`).
    pub(crate) from: &'a str,
    /// `--header "Name: value"`: replaces a header of that name (case-insensitively) or adds it.
    pub(crate) headers: &'a [String],
    /// `--add-header "Name: value"`: appended as given.
    pub(crate) add_headers: &'a [String],
    /// `--body` content; `None` = [`DEFAULT_BODY`].
    pub(crate) body: Option<&'a [u8]>,
    /// `--attach*` parts in command-line order; empty = a plain, single-part message.
    pub(crate) parts: &'a [Part],
    /// The lines ehlo writes (headers, the blank line, MIME structure) end in CRLF instead of
    /// LF: with `--no-crlf-fixup` the user's content keeps its own line ends, ehlo's are right.
    pub(crate) crlf: bool,
    /// The message goes with SMTPUTF8 (`--smtputf8`): a non-ASCII `--header`/`--add-header`
    /// value goes out as typed, in UTF-8 (RFC 6532 §3.2), as swaks sends it, instead of
    /// RFC 2047 encoded words.
    pub(crate) utf8_headers: bool,
}

impl MessageSpec<'_> {
    /// The `To:` header's value and `%TO_ADDRESS%`: the `--to` text as typed when known.
    fn to_text(&self) -> String {
        self.to_typed
            .map_or_else(|| self.to.join(","), str::to_string)
    }

    /// The `Cc:` header's value and `%CC_ADDRESS%`: the `--cc` text as typed when known.
    fn cc_text(&self) -> String {
        self.cc_typed
            .map_or_else(|| self.cc.join(","), str::to_string)
    }

    /// `%BCC_ADDRESS%`: the `--bcc` text as typed when known.
    fn bcc_text(&self) -> String {
        self.bcc_typed
            .map_or_else(|| self.bcc.join(","), str::to_string)
    }
}

/// The composed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Composed {
    /// The message, LF line ends (CRLF for ehlo's own lines with [`MessageSpec::crlf`]).
    pub(crate) bytes: Vec<u8>,
    /// One line per inline part: its Content-ID and how to reference it (`cid:…`).
    pub(crate) notes: Vec<String>,
}

/// RFC 5322 §3.3 date-time, e.g. `Tue, 02 Jan 2024 15:04:05 +0100`.
pub(crate) fn date(now: OffsetDateTime) -> String {
    now.format(&Rfc2822)
        // Rfc2822 refuses years before 1900, which no real clock produces; fall back to the
        // epoch rather than fail the run over a header.
        .unwrap_or_else(|_| "Thu, 01 Jan 1970 00:00:00 +0000".to_string())
}

/// `%MESSAGEID%`: `YYYYMMDDhhmmss.PID@hostname` in local time, the PID in at least six digits
/// (`%06d`), as swaks's `get_messageid` writes it.
fn message_id_bare(ctx: &MessageContext) -> String {
    let n = ctx.now();
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}.{:06}@{}",
        n.year(),
        u8::from(n.month()),
        n.day(),
        n.hour(),
        n.minute(),
        n.second(),
        ctx.pid,
        ctx.hostname
    )
}

/// `Message-Id` value: `<YYYYMMDDhhmmss.PID@hostname>`.
pub(crate) fn message_id(ctx: &MessageContext) -> String {
    format!("<{}>", message_id_bare(ctx))
}

/// The name part of a `Name: value` header line, if it has one: non-empty printable US-ASCII
/// without colon (RFC 5322 §2.2 ftext), so no space and no control character.
pub(crate) fn header_name(line: &str) -> Option<&str> {
    let (name, _) = line.split_once(':')?;
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    valid.then_some(name)
}

/// Why `line` (one header, as given to `flag`) is not a header we can send, if it is not.
pub(crate) fn check_header(flag: &str, line: &str) -> Result<(), String> {
    let shown = line.escape_debug();
    let Some((name, _)) = line.split_once(':') else {
        return Err(format!("{flag}: '{shown}' is not 'Name: value' (no colon)"));
    };
    if header_name(line).is_none() {
        return Err(if name.is_empty() {
            format!("{flag}: '{shown}' has an empty header name")
        } else {
            format!(
                "{flag}: '{shown}': the header name '{}' may only contain printable ASCII \
                 without spaces (RFC 5322 §2.2)",
                name.escape_debug()
            )
        });
    }
    if line.contains(['\r', '\0']) {
        return Err(format!(
            "{flag}: '{shown}' contains a CR or NUL (a line break needs a space or tab after it)"
        ));
    }
    Ok(())
}

/// `--data`/`--body` content: a literal backslash-n becomes a line break, wherever the text came
/// from (argument, `@FILE` or stdin), as swaks does to the whole DATA before it looks for the
/// header block, so shell users can write a whole message in one argument.
pub(crate) fn backslash_n(data: &[u8]) -> Vec<u8> {
    replace_all(data, b"\\n", b"\n")
}

/// [`backslash_n`] in place: a large message read from a file is not held twice for it.
pub(crate) fn backslash_n_owned(mut data: Vec<u8>) -> Vec<u8> {
    // The text between two `\n`s moves down as one run (found with memmem), not byte by byte;
    // a message without any is returned untouched.
    let finder = memchr::memmem::Finder::new(b"\\n");
    let Some(first) = finder.find(&data) else {
        return data;
    };
    let (mut r, mut w) = (first, first);
    while let Some(at) = finder.find(&data[r..]) {
        data.copy_within(r..r + at, w);
        w += at;
        data[w] = b'\n';
        w += 1;
        r += at + 2;
    }
    let len = data.len();
    data.copy_within(r..len, w);
    data.truncate(w + (len - r));
    data
}

/// The most a text may grow to once its tokens are replaced: the bound on what ehlo reads
/// (`cli::mode::MAX_MESSAGE_BYTES`), so that a few bytes of `%BODY%` or `%TO_ADDRESS%` cannot
/// make a message of gigabytes.
const MAX_EXPANDED: usize = crate::cli::mode::MAX_MESSAGE_BYTES as usize;

/// Why a text is refused once its tokens are replaced: it would pass [`MAX_EXPANDED`].
fn too_large() -> String {
    format!(
        "the message would be larger than {} MiB once its %TOKEN%s are replaced",
        MAX_EXPANDED >> 20
    )
}

/// The tokens made from the run's time ([`Tokens::pairs_for`]).
const STAMP_TOKENS: [&str; 2] = ["DATE", "MESSAGEID"];

/// Values of swaks's template tokens for one run.
#[derive(Debug, Clone)]
pub(crate) struct Tokens<'c> {
    pairs: Vec<(&'static str, String)>,
    /// `%DATE%` and `%MESSAGEID%`, made from the run's one time ([`MessageContext::now`]) when a
    /// text first names one.
    stamps: OnceCell<[(&'static str, String); 2]>,
    ctx: &'c MessageContext,
    /// What `%BODY%` stands for in `--data`: `--body` if given, else the default body.
    body: Vec<u8>,
}

impl<'c> Tokens<'c> {
    /// The token values for `spec` (addresses joined with `,` as swaks has them; the null sender
    /// is empty). Fails when the body's own tokens make it too large ([`too_large`]).
    pub(crate) fn new(
        spec: &MessageSpec<'_>,
        ctx: &'c MessageContext,
    ) -> Result<Tokens<'c>, String> {
        let version = env!("CARGO_PKG_VERSION").to_string();
        let mut t = Tokens {
            pairs: vec![
                ("TO_ADDRESS", spec.to_text()),
                ("FROM_ADDRESS", spec.from.to_string()),
                ("CC_ADDRESS", spec.cc_text()),
                ("BCC_ADDRESS", spec.bcc_text()),
                ("NEWLINE", "\n".to_string()),
                ("EHLO_VERSION", version.clone()),
                ("SWAKS_VERSION", version),
            ],
            stamps: OnceCell::new(),
            ctx,
            body: Vec::new(),
        };
        t.body = t.replace(spec.body.unwrap_or(DEFAULT_BODY.as_bytes()))?;
        Ok(t)
    }

    /// Replace every `%NAME%` and `..NAME..` token in `text` in one pass (a value that itself
    /// looks like a token is not expanded again). Unknown names stay as they are. Fails rather
    /// than grow past [`MAX_EXPANDED`].
    pub(crate) fn replace(&self, text: &[u8]) -> Result<Vec<u8>, String> {
        replace_with(text, self.pairs_for(text))
    }

    /// The pairs whose tokens can occur in `text`: the time stamps only when `text` names one
    /// (token names match byte for byte, so a text without the name cannot hold the token).
    fn pairs_for<'s>(&'s self, text: &[u8]) -> impl Iterator<Item = (&'static str, &'s [u8])> + 's {
        let [d, m] = STAMP_TOKENS;
        let named = |name: &str| memchr::memmem::find(text, name.as_bytes()).is_some();
        let stamps = (named(d) || named(m)).then(|| {
            self.stamps
                .get_or_init(|| [(d, date(self.ctx.now())), (m, message_id_bare(self.ctx))])
        });
        stamps
            .into_iter()
            .flatten()
            .chain(&self.pairs)
            .map(|(k, v)| (*k, v.as_bytes()))
    }

    /// [`Tokens::replace`] for a whole `--data` message: also `%NEW_HEADERS%` (nothing; a line
    /// holding only the token disappears) and `%BODY%` (`--body`, else the default body). See [`data_message`]
    /// for `--data` with `--header`/`--add-header`.
    #[cfg(test)]
    pub(crate) fn replace_in_data(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        let text = self.replace_keeping_new_headers(data)?;
        Ok(insert_new_headers(&text, &[])?.unwrap_or(text))
    }

    /// Every token but `%NEW_HEADERS%` (left in place for [`insert_new_headers`]).
    fn replace_keeping_new_headers(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        let pairs = self.pairs_for(data).chain([("BODY", self.body.as_slice())]);
        replace_with(data, pairs)
    }
}

const NEW_HEADERS_TOKENS: [&str; 2] = ["%NEW_HEADERS%", "..NEW_HEADERS.."];

/// The line ending `data` uses in its header block: CRLF if its first line ends so, else LF.
fn line_ending_of(data: &[u8]) -> &'static [u8] {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) if i > 0 && data[i - 1] == b'\r' => b"\r\n",
        _ => b"\n",
    }
}

/// Where the header block of `data` ends: the offset just after the last header line's line
/// end (the blank line starts there), or the end of `data` when it has no blank line (the whole
/// message is then headers). A message starting with a blank line has an empty header block.
fn header_block_end(data: &[u8]) -> usize {
    if data.starts_with(b"\n") || data.starts_with(b"\r\n") {
        return 0;
    }
    let mut i = 0;
    while let Some(nl) = data[i..].iter().position(|&b| b == b'\n') {
        let next = i + nl + 1;
        let rest = &data[next..];
        if rest.starts_with(b"\n") || rest.starts_with(b"\r\n") {
            return next;
        }
        i = next;
    }
    data.len()
}

/// Replace every `%NEW_HEADERS%`/`..NEW_HEADERS..` in the header block of `data` with `headers`,
/// each ended by the message's line ending, as swaks does (its template is
/// `…X-Mailer: …\n%NEW_HEADERS%\n%BODY%`: the line end after the token separates the header
/// block from the body). Like swaks, the token's own line end stays where it is (a token alone on
/// its line before the blank line leaves an empty line), and a token after the header block is
/// body text, sent as written. `None` when the header block has no such token; an error when
/// the headers, repeated at every token, would pass [`MAX_EXPANDED`].
fn insert_new_headers(data: &[u8], headers: &[Vec<u8>]) -> Result<Option<Vec<u8>>, String> {
    let le = line_ending_of(data);
    let lines: Vec<u8> = headers.iter().flat_map(|h| [&h[..], le].concat()).collect();
    let block_end = header_block_end(data);
    // Most messages have no such token: not copied for nothing.
    if !NEW_HEADERS_TOKENS.iter().any(|t| {
        data[..block_end]
            .windows(t.len())
            .any(|w| w == t.as_bytes())
    }) {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(data.len() + lines.len());
    let mut found = false;
    let mut i = 0;
    while i < block_end {
        match NEW_HEADERS_TOKENS
            .iter()
            .find(|t| data[i..block_end].starts_with(t.as_bytes()))
        {
            Some(token) => {
                found = true;
                if out.len() + lines.len() > MAX_EXPANDED {
                    return Err(too_large());
                }
                out.extend_from_slice(&lines);
                i += token.len();
            }
            None => {
                out.push(data[i]);
                i += 1;
            }
        }
    }
    out.extend_from_slice(&data[block_end..]);
    Ok(found.then_some(out))
}

/// Offsets `[start, end)` of each header in `block` (a header runs to the end of its last
/// continuation line, line end included).
fn header_spans(block: &[u8]) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < block.len() {
        let end = block[i..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(block.len(), |n| i + n + 1);
        match spans.last_mut() {
            Some(last) if matches!(block[i], b' ' | b'\t') => last.1 = end,
            _ => spans.push((i, end)),
        }
        i = end;
    }
    spans
}

/// The name of the header at `line` (bytes up to the colon), if it is one.
fn header_name_bytes(line: &[u8]) -> Option<&[u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = &line[..colon];
    (!name.is_empty() && name.iter().all(|&b| b.is_ascii_graphic())).then_some(name)
}

/// A rendered header (RFC 2047 where needed) with `le` line ends inside and none at the end.
/// A `--header` that carries several headers (see [`sub_headers`]) is rendered one by one.
/// With `utf8`, a non-ASCII value is written as typed (RFC 6532 §3.2).
fn render_header_with(line: &str, le: &[u8], utf8: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, sub) in sub_headers(line).enumerate() {
        if k > 0 {
            out.extend_from_slice(le);
        }
        let rendered = render_header(sub, utf8);
        let rendered = rendered.strip_suffix('\n').unwrap_or(&rendered);
        out.extend_from_slice(&replace_all(rendered.as_bytes(), b"\n", le));
    }
    out
}

/// swaks's `--header` in a message's header block: each `(line, rendered)` replaces the first
/// header of the line's name (case-insensitively, folded lines included; later headers of that
/// name go, the replaced one's line ending stays), in order. Returns the new text and the
/// rendered headers the block did not have, in order.
///
/// The block is split into headers once and each line finds the headers of its name by
/// lower-cased name; the text is rebuilt once at the end (a re-split and a scan of the block
/// per `--header` was quadratic).
fn replace_in_block(text: Vec<u8>, lines: Vec<(String, Vec<u8>)>) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut new_headers = Vec::new();
    let block_end = header_block_end(&text);
    let spans = header_spans(&text[..block_end]);
    let mut by_name: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
    for (k, &(s, e)) in spans.iter().enumerate() {
        if let Some(n) = header_name_bytes(&text[s..e]) {
            by_name.entry(n.to_ascii_lowercase()).or_default().push(k);
        }
    }
    // For each header of the block: kept as is (None), replaced (Some(bytes)) or dropped.
    let mut replaced: Vec<Option<Vec<u8>>> = vec![None; spans.len()];
    let mut dropped = vec![false; spans.len()];
    for (line, rendered) in lines {
        let name = header_name(&line).unwrap_or(&line).as_bytes();
        // The first header of that name takes the new one, later ones go. The new header
        // keeps the name (render_header encodes values only), so it is the one header of that
        // name from now on (header_lines only gives named lines).
        match by_name.get_mut(&name.to_ascii_lowercase()) {
            Some(same) if !same.is_empty() => {
                replaced[same[0]] = Some(rendered);
                for &k in &same[1..] {
                    dropped[k] = true;
                }
                if header_name(&line).is_some() {
                    same.truncate(1);
                } else {
                    same.clear();
                }
            }
            _ => new_headers.push(rendered),
        }
    }
    if replaced.iter().all(Option::is_none) {
        return (text, new_headers);
    }
    let mut out = Vec::with_capacity(text.len());
    for (k, &(s, e)) in spans.iter().enumerate() {
        if dropped[k] {
            continue;
        }
        let Some(rendered) = &replaced[k] else {
            out.extend_from_slice(&text[s..e]);
            continue;
        };
        // Keep the replaced header's own line ending (the last header may have none).
        let ending: &[u8] = if text[..e].ends_with(b"\r\n") {
            b"\r\n"
        } else if text[..e].ends_with(b"\n") {
            b"\n"
        } else {
            b""
        };
        out.extend_from_slice(rendered);
        out.extend_from_slice(ending);
    }
    out.extend_from_slice(&text[block_end..]);
    (out, new_headers)
}

/// `--data` with swaks's header handling: tokens replaced; each `--header` replaces the header
/// of that name (case-insensitively, folded lines included, later duplicates removed) in the
/// message's header block, or joins the new headers; the new headers (`--add-header`s, then the
/// `--header`s not found, as swaks orders them) go where the message says `%NEW_HEADERS%`, else at the end of its
/// header block. Inserted lines use the message's own line ending.
pub(crate) fn data_message(
    data: Vec<u8>,
    spec: &MessageSpec<'_>,
    ctx: &MessageContext,
) -> Result<Vec<u8>, String> {
    let tokens = Tokens::new(spec, ctx)?;
    let text = tokens.replace_keeping_new_headers(&data)?;
    // The text as given is not needed any more: a large message is held twice at most.
    drop(data);
    let le = line_ending_of(&text);
    let mut lines = Vec::new();
    for arg in spec.headers {
        for line in header_lines("--header", arg, &tokens)? {
            let rendered = render_header_with(&line, le, spec.utf8_headers);
            lines.push((line, rendered));
        }
    }
    let (text, mut new_headers) = replace_in_block(text, lines);
    // swaks's order: the --add-headers, then the --headers the message did not have.
    let mut added = Vec::new();
    for arg in spec.add_headers {
        for line in header_lines("--add-header", arg, &tokens)? {
            added.push(render_header_with(&line, le, spec.utf8_headers));
        }
    }
    added.append(&mut new_headers);
    let new_headers = added;
    if let Some(done) = insert_new_headers(&text, &new_headers)? {
        return Ok(done);
    }
    if new_headers.is_empty() {
        return Ok(text);
    }
    let at = header_block_end(&text);
    let mut out = text[..at].to_vec();
    if at > 0 && !out.ends_with(b"\n") {
        // A message that is all headers and lacks a final line end.
        out.extend_from_slice(le);
    }
    for h in &new_headers {
        out.extend_from_slice(h);
        out.extend_from_slice(le);
    }
    out.extend_from_slice(&text[at..]);
    Ok(out)
}

fn replace_all(text: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

fn replace_with<'v>(
    text: &[u8],
    pairs: impl Iterator<Item = (&'static str, &'v [u8])>,
) -> Result<Vec<u8>, String> {
    let pairs: Vec<_> = pairs.collect();
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    'scan: while i < text.len() {
        // Only `%` and `.` can open a token: the bytes before the next one are copied as a run.
        let Some(at) = memchr::memchr2(b'%', b'.', &text[i..]) else {
            out.extend_from_slice(&text[i..]);
            break;
        };
        out.extend_from_slice(&text[i..i + at]);
        i += at;
        let delim: &[u8] = match text[i] {
            b'%' => b"%",
            b'.' if text[i..].starts_with(b"..") => b"..",
            b => {
                out.push(b);
                i += 1;
                continue;
            }
        };
        let rest = &text[i + delim.len()..];
        for (name, value) in &pairs {
            if let Some(after) = rest.strip_prefix(name.as_bytes())
                && after.starts_with(delim)
            {
                if out.len() + value.len() > MAX_EXPANDED {
                    return Err(too_large());
                }
                out.extend_from_slice(value);
                i += 2 * delim.len() + name.len();
                continue 'scan;
            }
        }
        out.push(text[i]);
        i += 1;
    }
    Ok(out)
}

/// One `--header`/`--add-header` argument as header lines: a literal `\n` splits it (swaks
/// lets one argument carry several headers); a line starting with a space or tab continues
/// (folds) the header before it; tokens are replaced. A `%NEWLINE%` (a line break made by a
/// token) splits `--add-header` the same way, but in a `--header` it stays inside the one
/// header that is set, as in swaks, which replaces tokens only after the headers are placed:
/// `--header 'Subject: 1%NEWLINE%X-B: 2'` replaces `Subject:` by both lines, in its place, and
/// leaves any other `X-B:` alone. Such a header is one string with `\n` inside, see
/// [`sub_headers`].
fn header_lines(flag: &str, arg: &str, tokens: &Tokens<'_>) -> Result<Vec<String>, String> {
    let together = flag == "--header";
    let mut out: Vec<String> = Vec::new();
    for piece in arg.split("\\n") {
        let text = tokens
            .replace(piece.as_bytes())
            .map_err(|e| format!("{flag}: {e}"))?;
        let text = String::from_utf8_lossy(&text).into_owned();
        let mut first = true;
        for line in text.split('\n') {
            if line.is_empty() {
                continue;
            }
            let folded = line.starts_with([' ', '\t']);
            if folded || (together && !first) {
                match out.last_mut() {
                    Some(h) => {
                        h.push('\n');
                        h.push_str(line);
                    }
                    None => {
                        return Err(format!(
                            "{flag}: '{}' starts with a space (a continuation line without a header)",
                            arg.escape_debug()
                        ));
                    }
                }
            } else {
                out.push(line.to_string());
            }
            first = false;
        }
    }
    if out.is_empty() {
        return Err(format!(
            "{flag}: '{}' is not 'Name: value'",
            arg.escape_debug()
        ));
    }
    for h in &out {
        for sub in sub_headers(h) {
            check_header(flag, sub)?;
        }
    }
    Ok(out)
}

/// The headers one `--header` line stands for: split before each inner line that does not
/// start with a space or tab (a `%NEWLINE%` in a `--header`), folded lines kept with theirs.
fn sub_headers(line: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(line);
    std::iter::from_fn(move || {
        let text = rest?;
        let cut = text
            .match_indices('\n')
            .map(|(i, _)| i)
            .find(|&i| !text[i + 1..].starts_with([' ', '\t']));
        match cut {
            Some(i) => {
                rest = Some(&text[i + 1..]);
                Some(&text[..i])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

/// Check `--header`/`--add-header` values without composing (for `cli::mode`).
///
/// Returns the names of the header lines it makes that do not go out as typed: a non-ASCII
/// value is RFC 2047 encoded (unless `spec.utf8_headers`), where swaks sends its UTF-8 bytes.
pub(crate) fn check_header_arg(
    flag: &str,
    arg: &str,
    spec: &MessageSpec<'_>,
    ctx: &MessageContext,
) -> Result<Vec<String>, String> {
    let lines = header_lines(flag, arg, &Tokens::new(spec, ctx)?)?;
    let mut encoded = Vec::new();
    for line in &lines {
        for sub in sub_headers(line) {
            if render_header(sub, spec.utf8_headers) != format!("{sub}\n") {
                encoded.push(header_name(sub).unwrap_or(sub).to_string());
            }
        }
    }
    Ok(encoded)
}

/// Address headers: only their display names may be RFC 2047 encoded (RFC 2047 §5).
fn is_address_header(name: &str) -> bool {
    [
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "sender",
        "resent-from",
        "resent-to",
        "resent-cc",
        "resent-bcc",
        "resent-sender",
    ]
    .iter()
    .any(|h| h.eq_ignore_ascii_case(name))
}

/// `a@x, "Jörg Ü" <j@x>, Zoë <z@x>` → mailboxes; `None` for anything else (groups, comments).
fn parse_mailboxes(value: &str) -> Option<Vec<(Option<String>, String)>> {
    let mut items = Vec::new();
    let (mut quoted, mut angle, mut start) = (false, false, 0);
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                items.push(&value[start..i]);
                start = i + 1;
            }
            '(' | ')' | ';' | ':' if !quoted && !angle => return None,
            _ => {}
        }
    }
    items.push(&value[start..]);
    let mut out = Vec::new();
    for item in items.into_iter().map(str::trim).filter(|i| !i.is_empty()) {
        match item.strip_suffix('>').and_then(|i| i.rsplit_once('<')) {
            Some((name, addr)) => {
                let name = name.trim();
                let name = name
                    .strip_prefix('"')
                    .and_then(|n| n.strip_suffix('"'))
                    .map_or_else(
                        || name.to_string(),
                        |n| n.replace("\\\"", "\"").replace("\\\\", "\\"),
                    );
                out.push(((!name.is_empty()).then_some(name), addr.trim().to_string()));
            }
            None if !item.contains(['<', '>', ' ', '"']) => out.push((None, item.to_string())),
            None => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// mail-builder writes CRLF; this module speaks LF.
fn crlf_to_lf(bytes: &[u8]) -> Vec<u8> {
    replace_all(bytes, b"\r\n", b"\n")
}

/// Every CRLF in `bytes` turned into LF where it lies (the text only shrinks): a large message
/// is not copied to do it.
fn crlf_to_lf_in_place(bytes: &mut Vec<u8>) {
    let mut w = 0;
    let mut r = 0;
    while r < bytes.len() {
        if bytes[r] == b'\r' && bytes.get(r + 1) == Some(&b'\n') {
            r += 1;
        }
        bytes[w] = bytes[r];
        w += 1;
        r += 1;
    }
    bytes.truncate(w);
}

/// One header line as it goes out: verbatim when it is plain ASCII (or, with `utf8`, UTF-8
/// text without control characters: RFC 6532 §3.2 allows it in a message sent with SMTPUTF8),
/// else RFC 2047 encoded by mail-builder (folded at 78 columns).
fn render_header(line: &str, utf8: bool) -> String {
    let plain = line
        .chars()
        .all(|c| c == '\t' || c == '\n' || (' '..='~').contains(&c) || (utf8 && !c.is_control()));
    let Some((name, value)) = line.split_once(':').filter(|_| !plain) else {
        return format!("{line}\n");
    };
    // Unfold (RFC 5322 §2.2.3) before encoding: the encoder folds again.
    let value = value.replace("\n", "");
    let value = value.trim_start();
    let mut out = Vec::new();
    let column = name.len() + 2;
    match parse_mailboxes(value).filter(|_| is_address_header(name)) {
        // Only a display name can be encoded (an address cannot, RFC 2047 §5): with none to
        // encode the line goes as typed (`To: jürgen@exämple.test,b@c.test`, which needs
        // SMTPUTF8 anyway), as swaks sends it, not rewritten as `<jürgen@…>, <b@c.test>`.
        Some(list)
            if list
                .iter()
                .all(|(n, _)| n.as_deref().is_none_or(str::is_ascii)) =>
        {
            return format!("{line}\n");
        }
        Some(list) => {
            let list: Vec<Address<'_>> = list
                .into_iter()
                .map(|(n, a)| Address::new_address(n, a))
                .collect();
            let addr = if list.len() == 1 {
                list.into_iter()
                    .next()
                    .unwrap_or_else(|| Address::new_list(Vec::new()))
            } else {
                Address::new_list(list)
            };
            addr.write_header(&mut out, column);
        }
        // An address header we cannot parse keeps its UTF-8 (RFC 6532) rather than being
        // turned into one encoded word, which would hide the addresses.
        None if is_address_header(name) => Raw::new(value).write_header(&mut out, column),
        None => Text::new(value).write_header(&mut out, column),
    }
    format!("{name}: {}", String::from_utf8_lossy(&crlf_to_lf(&out)))
}

/// `text/html; charset="x"` → a mail-builder content type (type lower-cased).
fn content_type(spec: &str) -> ContentType<'static> {
    let mut fields = spec.split(';');
    let mut ct = ContentType::new(
        fields
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase(),
    );
    for f in fields {
        if let Some((k, v)) = f.split_once('=') {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            ct = ct.attribute(k.trim().to_ascii_lowercase(), v.to_string());
        }
    }
    ct
}

/// Does `text` contain a CR not followed by LF, or a NUL? Such bytes do not survive SMTP in a
/// 7bit part, so the part goes out as base64.
fn has_bare_cr_or_nul(text: &[u8]) -> bool {
    text.iter()
        .enumerate()
        .any(|(i, &b)| b == 0 || (b == b'\r' && text.get(i + 1) != Some(&b'\n')))
}

fn base64_lines(bytes: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    lines.join("\r\n")
}

/// A part that goes out base64 whatever its type. Handing mail-builder the bytes as binary is
/// not enough: for a text/* type it picks the encoding itself (`BodyEncoding::for_text` looks at
/// 8-bit bytes, bare LFs and line length only), so a bare CR or a NUL went out 7bit, the CR
/// turned into a line break on the way.
fn base64_part<'a>(ct: ContentType<'a>, bytes: &[u8]) -> MimePart<'a> {
    MimePart::new(
        ct,
        BodyPart::Binary(Cow::Owned(base64_lines(bytes).into_bytes())),
    )
    .transfer_encoding("base64")
}

/// A text part of the body (tokens already replaced), of type `ct`.
fn text_part(p: &Part, ct: &str, content: Vec<u8>) -> MimePart<'static> {
    let ct = content_type(ct);
    let is_text = ct.is_text();
    let mut part = if has_bare_cr_or_nul(&content) {
        base64_part(ct, &content)
    } else {
        match String::from_utf8(content) {
            Ok(text) if is_text => MimePart::new(ct, text),
            Ok(text) => MimePart::new(ct, BodyPart::Binary(Cow::Owned(text.into_bytes()))),
            Err(e) => MimePart::new(ct, BodyPart::Binary(Cow::Owned(e.into_bytes()))),
        }
    };
    // swaks sends a body part of a type that is not text/* (`--attach-type image/png
    // --attach-body …`) as an attachment (RFC 2183 §2.2); a text one is shown inline, and gets
    // a Content-Disposition only to carry its `--attach-name`. The part's own type decides, not
    // a `--header Content-Type:` that retypes the first text part, and as typed: swaks matches
    // `^text/`, so ` text/plain` (a blank before it) is an attachment there.
    let typed_text = p
        .content_type
        .get(..5)
        .is_some_and(|t| t.eq_ignore_ascii_case("text/"));
    let disposition = if typed_text {
        p.filename.as_ref().map(|_| ContentType::new("inline"))
    } else {
        Some(ContentType::new("attachment"))
    };
    if let Some(mut disp) = disposition {
        if let Some(name) = &p.filename {
            disp = disp.attribute("filename", name.clone());
        }
        part = part.header("Content-Disposition", disp);
    }
    part
}

/// An inline part or an attachment: the bytes must come back exactly. They are borrowed, not
/// copied: the builder encodes them as it writes the message.
fn file_part<'a>(p: &'a Part, disposition: &'static str) -> MimePart<'a> {
    let mut ct = content_type(&p.content_type);
    let text = ct.is_text();
    if text && ct.attributes.is_empty() && std::str::from_utf8(&p.content).is_ok() {
        ct = ct.attribute("charset", "utf-8");
    }
    let mut disp = ContentType::new(disposition);
    if let Some(name) = p.filename.as_deref().filter(|n| !n.is_empty()) {
        disp = disp.attribute("filename", name.to_string());
    }
    let part = if text && has_bare_cr_or_nul(&p.content) {
        base64_part(ct, &p.content)
    } else {
        MimePart::new(ct, BodyPart::Binary(Cow::Borrowed(&p.content)))
    };
    part.header("Content-Disposition", disp)
}

/// Content-ID of the `n`th inline part: its file name (or `partN`) at the host name, made
/// unique within the message.
fn content_id(p: &Part, n: usize, ctx: &MessageContext, taken: &[String]) -> String {
    let base: String = p
        .filename
        .as_deref()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-+".contains(*c))
        .collect();
    let base = if base.is_empty() {
        format!("part{n}")
    } else {
        base
    };
    let mut cid = format!("{base}@{}", ctx.hostname);
    let mut k = 2;
    while taken.contains(&cid) {
        cid = format!("{base}.{k}@{}", ctx.hostname);
        k += 1;
    }
    cid
}

/// What [`mime`] builds: the top part's header lines, its body and the notes.
type MimeBody = (Vec<String>, Vec<u8>, Vec<String>);

/// Build the MIME body: text parts (several → multipart/alternative), inline parts
/// (→ multipart/related), attachments (→ multipart/mixed). Returns the top part's header lines,
/// its body (LF line ends) and the notes about Content-IDs.
fn mime<'a>(
    parts: &'a [Part],
    default_body: &[u8],
    first_type: Option<&str>,
    tokens: &Tokens<'_>,
    ctx: &MessageContext,
    crlf: bool,
) -> Result<MimeBody, String> {
    let default = Part {
        kind: PartKind::Body,
        content_type: "text/plain".into(),
        filename: None,
        content: default_body.to_vec(),
    };
    let mut bodies: Vec<&Part> = parts.iter().filter(|p| p.kind == PartKind::Body).collect();
    // The default body (`--body`) comes with its tokens replaced: once more would expand a
    // value that looks like a token (`--to '%DATE%@x'`).
    let mut text_bytes: Vec<Vec<u8>> = if bodies.is_empty() {
        bodies.push(&default);
        vec![default_body.to_vec()]
    } else {
        // swaks replaces tokens in the DATA it writes, where only a body part typed exactly
        // `text/plain` is as given (it ignores an `--attach-name` for a body part); every other part it sends base64, so a
        // `%NEWLINE%` or `%TO_ADDRESS%` in a text/html part arrives as written.
        bodies
            .iter()
            .map(|p| {
                if p.content_type.eq_ignore_ascii_case("text/plain") {
                    tokens.replace(&p.content)
                } else {
                    Ok(p.content.clone())
                }
            })
            .collect::<Result<_, _>>()?
    };
    // A boundary must not occur in any part (RFC 2046 §5.1.1). Text parts, and a text/*
    // attachment or inline part that needs no encoding, go out as they are; base64 and
    // quoted-printable cannot hold `=_`, so looking in every part's own bytes is enough.
    let stamp = message_id_bare(ctx);
    let stamp = stamp.split('@').next().unwrap_or_default();
    let prefix = |salt: usize| format!("=_ehlo_{stamp}_{salt}_");
    let mut salt = 0;
    while text_bytes
        .iter()
        .map(Vec::as_slice)
        .chain(
            parts
                .iter()
                .filter(|p| p.kind != PartKind::Body)
                .map(|p| p.content.as_slice()),
        )
        .any(|t| memchr::memmem::find(t, prefix(salt).as_bytes()).is_some())
    {
        salt += 1;
    }
    let boundary = |level: usize| format!("{}{level}", prefix(salt));
    let multipart = |ct: ContentType<'static>, level: usize, children: Vec<MimePart<'a>>| {
        MimePart::new(ct.attribute("boundary", boundary(level)), children)
    };

    // The first text part's type: a `--header Content-Type:` of a multipart message sets it.
    let type_of = |i: usize, p: &Part| -> String {
        match first_type.filter(|_| i == 0) {
            Some(t) => t.to_string(),
            None => p.content_type.clone(),
        }
    };
    let mut texts: Vec<MimePart<'a>> = bodies
        .iter()
        .zip(text_bytes.drain(..))
        .enumerate()
        .map(|(i, (p, c))| text_part(p, &type_of(i, p), c))
        .collect();
    // RFC 2387 §3.1: multipart/related names its root part's type.
    let root_type = if texts.len() == 1 {
        content_type(&type_of(0, bodies[0])).c_type.into_owned()
    } else {
        "multipart/alternative".to_string()
    };
    let mut top = if texts.len() == 1 {
        texts.remove(0)
    } else {
        multipart(ContentType::new("multipart/alternative"), 1, texts)
    };
    let mut notes = Vec::new();
    let mut cids: Vec<String> = Vec::new();
    let inline: Vec<MimePart<'a>> = parts
        .iter()
        .filter(|p| p.kind == PartKind::Inline)
        .enumerate()
        .map(|(i, p)| {
            let cid = content_id(p, i + 1, ctx, &cids);
            notes.push(format!(
                "inline part {} ({}): Content-ID <{cid}>, reference it as cid:{cid}",
                i + 1,
                p.filename.as_deref().unwrap_or(&p.content_type)
            ));
            cids.push(cid.clone());
            file_part(p, "inline").cid(cid)
        })
        .collect();
    if !inline.is_empty() {
        let mut children = vec![top];
        children.extend(inline);
        let ct = ContentType::new("multipart/related").attribute("type", root_type);
        top = multipart(ct, 2, children);
    }
    let attachments: Vec<MimePart<'a>> = parts
        .iter()
        .filter(|p| p.kind == PartKind::Attachment)
        .map(|p| file_part(p, "attachment"))
        .collect();
    // One `--attach-body` and nothing else is still a multipart/mixed message of one part, as
    // swaks builds it (only two or more alternatives make multipart/alternative the top).
    let single_attach_body = parts.len() == 1 && parts[0].kind == PartKind::Body;
    if !attachments.is_empty() || single_attach_body {
        let mut children = vec![top];
        children.extend(attachments);
        top = multipart(ContentType::new("multipart/mixed"), 3, children);
    }

    let mut out = Vec::new();
    top.write_part(&mut out);
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(out.len());
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    // The body is what follows the head, in the same buffer: not a copy of it.
    out.drain(..(split + 4).min(out.len()));
    let mut body = out;
    if !crlf {
        crlf_to_lf_in_place(&mut body);
    }
    let mut headers: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        match headers.last_mut() {
            Some(h) if line.starts_with([' ', '\t']) => {
                h.push('\n');
                h.push_str(line);
            }
            _ => headers.push(line.to_string()),
        }
    }
    Ok((headers, body, notes))
}

/// swaks's `--header` in the composed message: each line replaces the first header of its name
/// in the message (case-insensitively; later headers of that name go); a line whose name the
/// message does not have is returned among the new headers, every one of them kept, in order
/// (swaks pushes it onto the `--add-header` list: two `--header X-A` lines add two headers).
/// The headers are indexed by lower-cased name and removals only marked, so many `--header`s
/// cost one look-up each, not a scan and a shift of the list.
fn replace_headers(headers: Vec<String>, lines: Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut headers: Vec<Option<String>> = headers.into_iter().map(Some).collect();
    let mut new_headers = Vec::new();
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if let Some(n) = h.as_deref().and_then(header_name) {
            by_name.entry(n.to_ascii_lowercase()).or_default().push(i);
        }
    }
    for line in lines {
        let key = header_name(&line).unwrap_or(&line).to_ascii_lowercase();
        // A line without a name (header_lines gives none) is never found by name itself.
        let named = header_name(&line).is_some();
        match by_name.get_mut(&key) {
            Some(same) if !same.is_empty() => {
                let first = same[0];
                for &i in &same[1..] {
                    headers[i] = None;
                }
                headers[first] = Some(line);
                if named {
                    same.truncate(1);
                } else {
                    same.clear();
                }
            }
            _ => new_headers.push(line),
        }
    }
    (headers.into_iter().flatten().collect(), new_headers)
}

/// Compose the message. Errors name the flag (`--header: …`).
pub(crate) fn compose(spec: &MessageSpec<'_>, ctx: &MessageContext) -> Result<Composed, String> {
    let mut tokens = Tokens::new(spec, ctx)?;
    let date = date(ctx.now());
    let mut headers: Vec<String> = Vec::new();
    headers.push(format!("Date: {date}"));
    // Recipients joined with a bare comma and the null sender as an empty From:, as swaks
    // writes them.
    if !spec.to.is_empty() {
        headers.push(format!("To: {}", spec.to_text()));
    }
    if !spec.cc.is_empty() {
        headers.push(format!("Cc: {}", spec.cc_text()));
    }
    headers.push(format!("From: {}", spec.from));
    headers.push(format!("Subject: test {date}"));
    headers.push(format!("Message-Id: {}", message_id(ctx)));
    headers.push(format!("X-Mailer: ehlo {}", env!("CARGO_PKG_VERSION")));

    // The body with its tokens replaced, made once by `Tokens::new` (its `%BODY%`, which only
    // a `--data` message uses): taken, not made again, so a large body is not held three times.
    let body_text = std::mem::take(&mut tokens.body);
    let mut notes = Vec::new();
    // 8bit allows lines of at most 998 octets (RFC 2045 §2.8): a UTF-8 body with a longer
    // line goes as a MIME text part, which the builder encodes (quoted-printable).
    let utf8 = !body_text.is_ascii() && std::str::from_utf8(&body_text).is_ok();
    let long_line = || {
        body_text
            .split(|&b| b == b'\n')
            .any(|l| l.strip_suffix(b"\r").unwrap_or(l).len() > 998)
    };
    let mut lines = Vec::new();
    for arg in spec.headers {
        lines.extend(header_lines("--header", arg, &tokens)?);
    }
    // A message with parts is multipart: its top Content-Type (and boundary) is ehlo's, and a
    // `--header Content-Type:` put in its place left the parts unreadable (the boundary gone).
    // swaks gives that type to the first text part (the `--body` text, or the first
    // `--attach-body`): `--header 'Content-Type: text/html' --body '<b>x</b>' --attach F`
    // sends an HTML body beside F. So does ehlo, the last such line winning, with a note.
    let mut first_type = None;
    if !spec.parts.is_empty() {
        let mut refused = None;
        lines.retain(|l| {
            let is_ct = header_name(l).is_some_and(|n| n.eq_ignore_ascii_case("content-type"));
            if is_ct {
                let value = l.split_once(':').map_or("", |(_, v)| v).replace('\n', "");
                let value = value.trim();
                if value.is_empty() {
                    refused = Some((l.clone(), "names no type"));
                } else if sub_headers(l).nth(1).is_some() {
                    refused = Some((l.clone(), "carries other headers (a %NEWLINE%)"));
                }
                first_type = Some(value.to_string());
            }
            !is_ct
        });
        if let Some((l, why)) = refused {
            return Err(format!(
                "--header: '{}' {why}: in this multipart message it is the type of the first \
                 text part (give the type alone)",
                l.escape_debug()
            ));
        }
    }
    let body = if spec.parts.is_empty() && !(utf8 && long_line()) {
        // A UTF-8 body in a plain message is declared (MIME charset, swaks #32) and sent as
        // 8bit, unchanged; plain ASCII keeps swaks's exact template.
        if utf8 {
            headers.push("MIME-Version: 1.0".into());
            headers.push("Content-Type: text/plain; charset=utf-8".into());
            headers.push("Content-Transfer-Encoding: 8bit".into());
        }
        let mut b = body_text;
        if !b.ends_with(b"\n") {
            b.extend_from_slice(if spec.crlf { b"\r\n" } else { b"\n" });
        }
        b
    } else {
        let (mime_headers, body, n) = mime(
            spec.parts,
            &body_text,
            first_type.as_deref(),
            &tokens,
            ctx,
            spec.crlf,
        )?;
        headers.push("MIME-Version: 1.0".into());
        headers.extend(mime_headers);
        notes = n;
        if let Some(t) = &first_type {
            notes.push(format!(
                "--header Content-Type: the message is multipart, so '{t}' is the type of its \
                 first text part, as in swaks"
            ));
        }
        body
    };

    let mut added = Vec::new();
    for arg in spec.add_headers {
        added.extend(header_lines("--add-header", arg, &tokens)?);
    }
    // The MIME headers ehlo adds to declare a UTF-8 body give way to an `--add-header` of the
    // same name: `--add-header 'Content-Type: text/html'` sent a second Content-Type after
    // ehlo's text/plain one, and readers take the first (the HTML shown as source). swaks adds
    // none, so its message has the user's one only. (A multipart message keeps its own.)
    if spec.parts.is_empty() {
        let named = |h: &str, n: &str| header_name(h).is_some_and(|x| x.eq_ignore_ascii_case(n));
        headers.retain(|h| {
            !["MIME-Version", "Content-Type", "Content-Transfer-Encoding"]
                .iter()
                .any(|n| named(h, n) && added.iter().any(|a| named(a, n)))
        });
    }
    let (mut headers, mut new_headers) = replace_headers(headers, lines);
    // swaks's order: the --add-headers, then the --headers the message did not have.
    headers.append(&mut added);
    headers.append(&mut new_headers);

    let le: &[u8] = if spec.crlf { b"\r\n" } else { b"\n" };
    let mut head = Vec::new();
    for h in &headers {
        head.extend_from_slice(&render_header_with(h, le, spec.utf8_headers));
        head.extend_from_slice(le);
    }
    head.extend_from_slice(le);
    // The header block goes in front of the body in the body's own buffer (not a copy of it).
    let mut out = body;
    out.splice(0..0, head);
    Ok(Composed { bytes: out, notes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ctx() -> MessageContext {
        MessageContext {
            now: datetime!(2024-01-02 15:04:05 +01:00).into(),
            hostname: "client.example".into(),
            pid: 4242,
        }
    }

    fn text(spec: &MessageSpec<'_>) -> String {
        String::from_utf8(compose(spec, &ctx()).unwrap().bytes).unwrap()
    }

    #[test]
    fn crlf_to_lf_in_place_matches_the_copying_one() {
        for text in [
            &b""[..],
            b"\r\n",
            b"a\r\nb\r\n",
            b"a\rb\nc\r\r\n\r",
            b"\r\r\n\n\r\n",
        ] {
            let mut v = text.to_vec();
            crlf_to_lf_in_place(&mut v);
            assert_eq!(v, crlf_to_lf(text), "{text:?}");
        }
    }

    #[test]
    fn default_message_matches_swaks_template() {
        let to = vec!["a@example.net".to_string(), "b@example.net".to_string()];
        let spec = MessageSpec {
            to: &to,
            from: "me@example.org",
            ..Default::default()
        };
        assert_eq!(
            text(&spec),
            "Date: Tue, 02 Jan 2024 15:04:05 +0100\n\
             To: a@example.net,b@example.net\n\
             From: me@example.org\n\
             Subject: test Tue, 02 Jan 2024 15:04:05 +0100\n\
             Message-Id: <20240102150405.004242@client.example>\n\
             X-Mailer: ehlo 0.1.0\n\
             \n\
             This is a test mailing\n"
                .replace("0.1.0", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn cc_and_null_sender() {
        let to = vec!["a@x".to_string()];
        let cc = vec!["c@x".to_string(), "d@x".to_string()];
        let t = text(&MessageSpec {
            to: &to,
            cc: &cc,
            from: "",
            ..Default::default()
        });
        assert!(t.contains("\nCc: c@x,d@x\n"), "{t}");
        // `-f '<>'`: swaks leaves the From header empty.
        assert!(t.contains("\nFrom: \n"), "{t}");
        // Cc comes after To, before From.
        assert!(t.find("To:").unwrap() < t.find("Cc:").unwrap());
        assert!(t.find("Cc:").unwrap() < t.find("From:").unwrap());
    }

    #[test]
    fn header_replaces_case_insensitively_and_add_header_appends() {
        let headers = vec![
            "subject: hello".to_string(),
            "X-Test: 1".to_string(),
            "X-TEST: 2".to_string(),
        ];
        let add = vec!["Received: by hand".to_string(), "X-Test: 3".to_string()];
        let t = text(&MessageSpec {
            from: "a@x",
            headers: &headers,
            add_headers: &add,
            ..Default::default()
        });
        assert!(t.contains("\nsubject: hello\n"), "{t}");
        assert!(!t.contains("Subject: test"), "{t}");
        // The message has no X-Test: both --header lines are added, after the --add-headers,
        // as swaks does (it replaces only what the message has).
        let head = t.split("\n\n").next().unwrap();
        let lines: Vec<&str> = head.lines().collect();
        assert_eq!(
            &lines[lines.len() - 4..],
            ["Received: by hand", "X-Test: 3", "X-Test: 1", "X-TEST: 2"]
        );
        // The replaced Subject keeps its position (after From).
        assert!(t.find("From:").unwrap() < t.find("subject:").unwrap());
    }

    /// swaks 20201014: `--header X-A: 1 --header X-A: 2 --add-header X-B: 1` on the default
    /// message (no X-A) sends `X-B: 1`, `X-A: 1`, `X-A: 2`; a --header of a name the message
    /// has replaces it, the last one winning.
    #[test]
    fn repeated_header_of_a_new_name_keeps_every_line_after_the_add_headers() {
        let headers = vec![
            "X-A: 1".to_string(),
            "Subject: one".to_string(),
            "X-A: 2".to_string(),
            "Subject: two".to_string(),
        ];
        let add = vec!["X-B: 1".to_string()];
        let t = text(&MessageSpec {
            from: "a@x",
            headers: &headers,
            add_headers: &add,
            ..Default::default()
        });
        let head = t.split("\n\n").next().unwrap();
        let lines: Vec<&str> = head.lines().collect();
        assert_eq!(
            &lines[lines.len() - 3..],
            ["X-B: 1", "X-A: 1", "X-A: 2"],
            "{t}"
        );
        assert_eq!(t.matches("Subject:").count(), 1, "{t}");
        assert!(t.contains("\nSubject: two\n"), "{t}");
    }

    #[test]
    fn body_is_used_and_newline_terminated() {
        let t = text(&MessageSpec {
            from: "a@x",
            body: Some(b"line1\nline2"),
            ..Default::default()
        });
        assert!(t.ends_with("\n\nline1\nline2\n"), "{t}");
        let t = text(&MessageSpec {
            from: "a@x",
            body: Some(b"done\n"),
            ..Default::default()
        });
        assert!(t.ends_with("\n\ndone\n"), "{t}");
    }

    #[test]
    fn no_to_header_without_recipients() {
        let t = text(&MessageSpec {
            from: "a@x",
            ..Default::default()
        });
        assert!(!t.contains("To:"), "{t}");
    }

    #[test]
    fn backslash_n_turns_into_newlines() {
        assert_eq!(backslash_n(b"Subject: x\\n\\nhi"), b"Subject: x\n\nhi");
        assert_eq!(backslash_n(b"no escapes \\\xff"), b"no escapes \\\xff");
        // The in-place form (a file's or stdin's bytes) makes the same bytes.
        for text in [
            &b"Subject: x\\n\\nhi"[..],
            b"\\\\n\\n\\",
            b"\\",
            b"",
            b"a\\nb\\\\nn\\n",
            b"\xff\\n\\\n",
        ] {
            assert_eq!(
                backslash_n_owned(text.to_vec()),
                backslash_n(text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn header_names() {
        assert_eq!(header_name("Subject: x"), Some("Subject"));
        assert_eq!(header_name("X-A:"), Some("X-A"));
        assert_eq!(header_name("No colon"), None);
        assert_eq!(header_name("Bad Name: x"), None);
        assert_eq!(header_name(": x"), None);
    }

    #[test]
    fn utc_date() {
        let c = MessageContext {
            now: datetime!(1999-12-31 23:59:59 UTC).into(),
            ..ctx()
        };
        assert_eq!(date(c.now()), "Fri, 31 Dec 1999 23:59:59 +0000");
        assert_eq!(message_id(&c), "<19991231235959.004242@client.example>");
    }

    /// The clock (and the time-zone database behind the local offset) is read only for a text
    /// that names a time token, and then once for the whole run.
    #[test]
    fn the_time_is_read_only_when_a_token_names_it() {
        let c = MessageContext {
            now: OnceCell::new(),
            ..ctx()
        };
        let to = vec!["r@x".to_string()];
        let spec = MessageSpec {
            from: "a@x",
            to: &to,
            ..Default::default()
        };
        let tokens = Tokens::new(&spec, &c).unwrap();
        assert_eq!(
            tokens.replace(b"To: %TO_ADDRESS%\n\nDATA.\n").unwrap(),
            b"To: r@x\n\nDATA.\n"
        );
        assert!(
            c.now.get().is_none(),
            "the clock was read for a text without time tokens"
        );
        let stamped = String::from_utf8(tokens.replace(b"%DATE% ..MESSAGEID..").unwrap()).unwrap();
        let now = *c.now.get().expect("the clock was not read for %DATE%");
        assert_eq!(stamped, format!("{} {}", date(now), message_id_bare(&c)));
        // The Date header of a composed message is the same time.
        let composed = String::from_utf8(compose(&spec, &c).unwrap().bytes).unwrap();
        assert!(
            composed.starts_with(&format!("Date: {}\n", date(now))),
            "{composed}"
        );
    }

    fn part(kind: PartKind, ct: &str, name: Option<&str>, content: &[u8]) -> Part {
        Part {
            kind,
            content_type: ct.into(),
            filename: name.map(Into::into),
            content: content.to_vec(),
        }
    }

    fn composed(spec: &MessageSpec<'_>) -> (String, Vec<String>) {
        let c = compose(spec, &ctx()).unwrap();
        (String::from_utf8_lossy(&c.bytes).into_owned(), c.notes)
    }

    /// The headers and the raw body of the MIME part whose headers contain `marker`.
    fn mime_part<'m>(msg: &'m str, marker: &str) -> (&'m str, &'m str) {
        let at = msg
            .find(marker)
            .unwrap_or_else(|| panic!("{marker} in {msg}"));
        let start = msg[..at].rfind("\n--").unwrap() + 1;
        let boundary = msg[start..].lines().next().unwrap();
        let rest = &msg[start + boundary.len() + 1..];
        let (headers, rest) = rest.split_once("\n\n").unwrap();
        let end = rest.find(&format!("\n{boundary}")).unwrap();
        (headers, &rest[..end])
    }

    fn unbase64(text: &str) -> Vec<u8> {
        use base64::Engine;
        let joined: String = text.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(joined)
            .unwrap()
    }

    /// Decode a part body by its Content-Transfer-Encoding (test-only, written independently).
    fn decode(headers: &str, body: &str) -> Vec<u8> {
        if headers.contains("Content-Transfer-Encoding: base64") {
            return unbase64(body);
        }
        if headers.contains("Content-Transfer-Encoding: quoted-printable") {
            return unqp(body.replace("=\n", "").as_bytes());
        }
        body.replace('\n', "\r\n").into_bytes()
    }

    fn unqp(text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < text.len() {
            if text[i] == b'=' {
                let hex = std::str::from_utf8(&text[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(text[i]);
                i += 1;
            }
        }
        out
    }

    /// Decode RFC 2047 encoded words (utf-8 only), joining adjacent ones.
    fn unwords(value: &str) -> String {
        let mut out = Vec::new();
        let mut rest = value.replace("?=\n =?", "?==?").replace("?= =?", "?==?");
        while let Some(start) = rest.find("=?utf-8?") {
            out.extend_from_slice(&rest.as_bytes()[..start]);
            let word = &rest[start + 8..];
            let end = word[2..].find("?=").unwrap() + 2;
            let (kind, text) = (&word[..1], &word[2..end]);
            out.extend(match kind {
                "B" => unbase64(text),
                _ => unqp(text.replace('_', " ").as_bytes()),
            });
            rest = word[end + 2..].to_string();
        }
        out.extend_from_slice(rest.as_bytes());
        String::from_utf8(out).unwrap()
    }

    /// `--header 'Content-Type: …'` in a multipart message is the first text part's type, as
    /// in swaks: it used to replace the top Content-Type, losing the boundary, so every part
    /// was shown as one text/html blob.
    #[test]
    fn header_content_type_of_a_multipart_message_types_its_first_text_part() {
        let parts = [part(
            PartKind::Attachment,
            "text/plain",
            Some("t.txt"),
            b"att\n",
        )];
        let headers = ["Content-Type: text/html".to_string()];
        let (t, notes) = composed(&MessageSpec {
            from: "a@x",
            body: Some(b"<b>x</b>"),
            headers: &headers,
            parts: &parts,
            ..Default::default()
        });
        let (head, _) = t.split_once("\n\n").unwrap();
        assert!(
            head.contains("Content-Type: multipart/mixed; boundary="),
            "{head}"
        );
        assert!(!head.contains("text/html"), "{head}");
        let (h, b) = mime_part(&t, "Content-Type: text/html");
        assert_eq!(b, "<b>x</b>");
        assert!(!h.contains("attachment"), "{h}");
        let (h, b) = mime_part(&t, "filename=\"t.txt\"");
        assert_eq!(decode(h, b), b"att\n");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("first text part"), "{notes:?}");

        // With --attach-body parts: the first of them; the last such header wins.
        let parts = [
            part(PartKind::Body, "text/plain", None, b"one"),
            part(PartKind::Body, "text/plain", None, b"two"),
        ];
        let headers = [
            "Content-Type: text/x-old".to_string(),
            "content-type: text/html; charset=us-ascii".to_string(),
        ];
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            headers: &headers,
            parts: &parts,
            ..Default::default()
        });
        let (head, _) = t.split_once("\n\n").unwrap();
        assert!(head.contains("multipart/alternative;"), "{head}");
        assert!(!t.contains("text/x-old"), "{t}");
        let (h, b) = mime_part(&t, "Content-Type: text/html");
        assert!(h.contains("charset=\"us-ascii\""), "{h}");
        assert_eq!(b, "one");
        let (_, b) = mime_part(&t, "Content-Type: text/plain");
        assert_eq!(b, "two");

        // An empty type names nothing to give the part.
        let headers = ["Content-Type:".to_string()];
        let e = compose(
            &MessageSpec {
                from: "a@x",
                headers: &headers,
                parts: &parts,
                ..Default::default()
            },
            &ctx(),
        )
        .unwrap_err();
        assert!(e.contains("names no type"), "{e}");
        // Nor can it carry other headers into the part's place.
        let headers = ["Content-Type: text/html\nX-A: 1".to_string()];
        let e = compose(
            &MessageSpec {
                from: "a@x",
                headers: &headers,
                parts: &parts,
                ..Default::default()
            },
            &ctx(),
        )
        .unwrap_err();
        assert!(e.contains("carries other headers"), "{e}");

        // Without parts the header replaces the message's own, as before.
        let headers = ["Content-Type: text/html".to_string()];
        let (t, notes) = composed(&MessageSpec {
            from: "a@x",
            body: Some(b"<b>x</b>"),
            headers: &headers,
            ..Default::default()
        });
        assert!(t.contains("\nContent-Type: text/html\n\n<b>x</b>"), "{t}");
        assert!(notes.is_empty());
    }

    #[test]
    fn attachment_makes_multipart_mixed_and_decodes_back() {
        let binary: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let parts = [part(
            PartKind::Attachment,
            "application/octet-stream",
            Some("blob.bin"),
            &binary,
        )];
        let (t, notes) = composed(&MessageSpec {
            from: "a@x",
            parts: &parts,
            ..Default::default()
        });
        assert!(notes.is_empty());
        let (head, body) = t.split_once("\n\n").unwrap();
        assert!(
            head.ends_with(
                "X-Mailer: ehlo VERSION\n\
                 MIME-Version: 1.0\n\
                 Content-Type: multipart/mixed; boundary=\"=_ehlo_20240102150405.004242_0_3\""
                    .replace("VERSION", env!("CARGO_PKG_VERSION"))
                    .as_str()
            ),
            "{head}"
        );
        assert!(
            body.starts_with("--=_ehlo_20240102150405.004242_0_3\n"),
            "{t}"
        );
        assert!(
            body.ends_with("\n--=_ehlo_20240102150405.004242_0_3--\n"),
            "{t}"
        );
        assert!(!t.contains('\r'), "LF line ends only: {t:?}");
        let (h, b) = mime_part(&t, "Content-Type: text/plain");
        assert!(h.contains("charset=\"utf-8\""), "{h}");
        assert_eq!(b, DEFAULT_BODY);
        let (h, b) = mime_part(&t, "Content-Type: application/octet-stream");
        assert!(
            h.contains("Content-Disposition: attachment; filename=\"blob.bin\""),
            "{h}"
        );
        assert!(h.contains("Content-Transfer-Encoding: base64"), "{h}");
        assert!(b.lines().all(|l| l.len() <= 76), "{b}");
        assert_eq!(unbase64(b), binary);
    }

    #[test]
    fn text_attachments_round_trip_exactly() {
        let parts = [
            part(
                PartKind::Attachment,
                "text/plain",
                Some("a.txt"),
                b"line\r\nzwei \xc3\xbc\r\n",
            ),
            // A bare CR would be turned into CRLF on the wire: base64 keeps it.
            part(PartKind::Attachment, "text/plain", None, b"a\rb\nc"),
            part(
                PartKind::Attachment,
                "text/csv",
                Some(""),
                b"\xff\xfe latin",
            ),
        ];
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            parts: &parts,
            ..Default::default()
        });
        let (h, b) = mime_part(&t, "filename=\"a.txt\"");
        assert!(h.contains("text/plain; charset=\"utf-8\""), "{h}");
        assert!(!h.contains("7bit"), "8-bit text is encoded: {h}");
        assert_eq!(decode(h, b), b"line\r\nzwei \xc3\xbc\r\n");
        let (h, b) = mime_part(&t, "Content-Disposition: attachment\n");
        assert!(h.contains("Content-Transfer-Encoding: base64"), "{h}");
        assert_eq!(unbase64(b), b"a\rb\nc");
        let (h, b) = mime_part(&t, "text/csv");
        assert!(!h.contains("charset"), "not UTF-8: {h}");
        assert!(!h.contains("filename"), "{h}");
        assert_eq!(decode(h, b), b"\xff\xfe latin");
    }

    /// Body parts (`--attach-body`, `--body` beside an attachment) with a bare CR or a NUL go
    /// out base64 and decode back exactly; they went out 7bit, the CR made a line break.
    #[test]
    fn body_parts_with_a_bare_cr_or_nul_round_trip_exactly() {
        let content: &[u8] = b"a\rb\x00c\n";
        for ct in ["text/plain", "text/html"] {
            let parts = [
                part(PartKind::Body, ct, None, content),
                part(
                    PartKind::Attachment,
                    "application/pdf",
                    Some("x.pdf"),
                    b"%PDF",
                ),
            ];
            let (t, _) = composed(&MessageSpec {
                from: "a@x",
                parts: &parts,
                ..Default::default()
            });
            let (h, b) = mime_part(&t, &format!("Content-Type: {ct}"));
            assert!(h.contains("Content-Transfer-Encoding: base64"), "{h}");
            assert_eq!(unbase64(b), content, "{t}");
        }
        // --body in a message with an attachment, and a single --attach-body (the leaf).
        let parts = [part(
            PartKind::Attachment,
            "application/pdf",
            Some("x.pdf"),
            b"%PDF",
        )];
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            body: Some(content),
            parts: &parts,
            ..Default::default()
        });
        let (h, b) = mime_part(&t, "Content-Type: text/plain");
        assert!(h.contains("Content-Transfer-Encoding: base64"), "{h}");
        assert_eq!(unbase64(b), content, "{t}");
        let parts = [part(PartKind::Body, "text/plain", None, content)];
        let c = compose(
            &MessageSpec {
                from: "a@x",
                parts: &parts,
                ..Default::default()
            },
            &ctx(),
        )
        .unwrap();
        let t = String::from_utf8_lossy(&c.bytes);
        let (h, b) = mime_part(&t, "Content-Type: text/plain");
        assert!(h.contains("Content-Transfer-Encoding: base64"), "{t}");
        assert_eq!(unbase64(b), content, "{t}");
    }

    #[test]
    fn body_parts_form_alternative_and_inline_parts_related() {
        let png = [0x89, b'P', b'N', b'G', 0, 1, 2, 3];
        let parts = [
            part(PartKind::Body, "text/plain", None, b"plain %TO_ADDRESS%"),
            part(PartKind::Inline, "image/png", Some("logo.png"), &png),
            part(
                PartKind::Body,
                "text/html",
                None,
                "<p>Grüße <img src=\"cid:logo.png@client.example\"></p>".as_bytes(),
            ),
            part(PartKind::Inline, "image/png", Some("logo.png"), &png),
        ];
        let to = vec!["r@x".to_string()];
        let (t, notes) = composed(&MessageSpec {
            from: "a@x",
            to: &to,
            parts: &parts,
            ..Default::default()
        });
        let head = t.split("\n\n").next().unwrap();
        assert!(head.contains("Content-Type: multipart/related;"), "{head}");
        assert!(head.contains("type=\"multipart/alternative\""), "{head}");
        assert!(t.contains("Content-Type: multipart/alternative;"), "{t}");
        // Text parts in order, the first before the second; tokens replaced.
        let plain = t.find("plain r@x").unwrap();
        let html = t.find("Content-Type: text/html").unwrap();
        assert!(plain < html, "{t}");
        let (h, b) = mime_part(&t, "Content-Type: text/html");
        assert!(!h.contains("7bit"), "{h}");
        assert_eq!(
            String::from_utf8(decode(h, b)).unwrap(),
            "<p>Grüße <img src=\"cid:logo.png@client.example\"></p>"
        );
        let (h, b) = mime_part(&t, "Content-ID: <logo.png@client.example>");
        assert!(
            h.contains("Content-Disposition: inline; filename=\"logo.png\""),
            "{h}"
        );
        assert_eq!(unbase64(b), png);
        assert!(t.contains("Content-ID: <logo.png.2@client.example>"), "{t}");
        assert_eq!(
            notes,
            [
                "inline part 1 (logo.png): Content-ID <logo.png@client.example>, reference it as cid:logo.png@client.example",
                "inline part 2 (logo.png): Content-ID <logo.png.2@client.example>, reference it as cid:logo.png.2@client.example",
            ]
        );
    }

    /// One `--attach-body` alone makes a multipart/mixed message of one part, as swaks builds
    /// it; the part keeps its type, with ehlo's charset and encoding.
    #[test]
    fn single_attach_body_is_one_part_of_multipart_mixed() {
        let parts = [part(PartKind::Body, "TEXT/HTML", None, b"<b>x</b>\n")];
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            parts: &parts,
            ..Default::default()
        });
        let head = t.split("\n\n").next().unwrap();
        assert!(
            head.contains("MIME-Version: 1.0\nContent-Type: multipart/mixed;"),
            "{t}"
        );
        let (h, b) = mime_part(&t, "Content-Type: text/html");
        assert!(
            h.contains(
                "Content-Type: text/html; charset=\"utf-8\"\nContent-Transfer-Encoding: 7bit"
            ),
            "{h}"
        );
        assert!(b.starts_with("<b>x</b>\n"), "{b:?}");
        assert_eq!(t.matches("Content-Type: ").count(), 2, "{t}");
    }

    #[test]
    fn boundary_avoids_text_that_contains_it() {
        let body = b"--=_ehlo_20240102150405.004242_0_3".to_vec();
        let parts = [part(PartKind::Attachment, "image/gif", None, b"GIF")];
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            body: Some(&body),
            parts: &parts,
            ..Default::default()
        });
        assert!(
            t.contains("boundary=\"=_ehlo_20240102150405.004242_1_3\""),
            "{t}"
        );
    }

    /// `--body` beside an attachment has its tokens replaced once, as without one: a value that
    /// looks like a token stays as it is (it was expanded a second time).
    #[test]
    fn body_tokens_are_replaced_once_in_a_mime_message() {
        let to = vec!["%DATE%@x".to_string()];
        let parts = [part(PartKind::Attachment, "image/gif", None, b"GIF")];
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            to: &to,
            body: Some(b"to=%TO_ADDRESS%"),
            parts: &parts,
            ..Default::default()
        });
        assert!(t.contains("\nto=%DATE%@x\n"), "{t}");
    }

    /// A text attachment or inline part that goes out 7bit must not hold the boundary either:
    /// its line `--boundary--` ended the message there (the rest fell into the epilogue).
    #[test]
    fn boundary_avoids_attachments_that_contain_it() {
        let text = b"one\r\n--=_ehlo_20240102150405.004242_0_3--\r\nafter\r\n";
        for kind in [PartKind::Attachment, PartKind::Inline] {
            let parts = [part(kind, "text/plain", Some("a.txt"), text)];
            let (t, _) = composed(&MessageSpec {
                from: "a@x",
                parts: &parts,
                ..Default::default()
            });
            assert!(
                t.contains("boundary=\"=_ehlo_20240102150405.004242_1_"),
                "{t}"
            );
            let (h, b) = mime_part(&t, "filename=\"a.txt\"");
            assert_eq!(decode(h, b), text, "{t}");
        }
    }

    #[test]
    fn non_ascii_headers_are_rfc2047_encoded() {
        let headers = vec![
            "Subject: Grüße aus Köln".to_string(),
            "From: \"Jörg, Ü\" <j@x.test>, plain@x.test".to_string(),
            "To: Zoë <z@x.test>".to_string(),
            "X-Plain: stays as is".to_string(),
        ];
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            headers: &headers,
            ..Default::default()
        });
        let head = t.split("\n\n").next().unwrap();
        assert!(head.is_ascii(), "{head}");
        let line = |name: &str| {
            let at = head.find(&format!("\n{name}: ")).unwrap() + 1;
            let mut end = at;
            for l in head[at..].split_inclusive('\n') {
                if end > at && !l.starts_with(' ') {
                    break;
                }
                end += l.len();
            }
            head[at..end].trim_end().to_string()
        };
        let subject = line("Subject");
        assert!(subject.starts_with("Subject: =?utf-8?"), "{subject}");
        assert_eq!(unwords(&subject), "Subject: Grüße aus Köln");
        let from = line("From");
        assert!(from.starts_with("From: =?utf-8?"), "{from}");
        assert!(from.ends_with("?= <j@x.test>, <plain@x.test>"), "{from}");
        assert_eq!(unwords(&from), "From: Jörg, Ü <j@x.test>, <plain@x.test>");
        assert_eq!(unwords(&line("To")), "To: Zoë <z@x.test>");
        assert_eq!(line("X-Plain"), "X-Plain: stays as is");
    }

    #[test]
    fn a_utf8_body_with_a_line_over_998_octets_is_quoted_printable() {
        // RFC 2045 §2.8: 8bit lines are at most 998 octets.
        let long = format!("ü{}\nsecond\n", "x".repeat(1500));
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            body: Some(long.as_bytes()),
            ..Default::default()
        });
        assert!(
            t.contains("Content-Transfer-Encoding: quoted-printable\n"),
            "{t}"
        );
        assert!(!t.contains("8bit"), "{t}");
        assert!(t.lines().all(|l| l.len() <= 998), "{t}");
        // 998 octets exactly still go as 8bit.
        let edge = format!("ü{}\n", "x".repeat(996));
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            body: Some(edge.as_bytes()),
            ..Default::default()
        });
        assert!(t.contains("Content-Transfer-Encoding: 8bit\n"), "{t}");
    }

    #[test]
    fn utf8_plain_body_declares_its_charset_and_stays_8bit() {
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            body: Some("naïve\n.dot\n".as_bytes()),
            ..Default::default()
        });
        assert!(
            t.ends_with(
                "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\
                 Content-Transfer-Encoding: 8bit\n\nnaïve\n.dot\n"
            ),
            "{t}"
        );
        // Not UTF-8: no charset claimed.
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            body: Some(b"\xe9t\xe9"),
            ..Default::default()
        });
        assert!(!t.contains("MIME-Version"), "{t}");
    }

    /// An `--add-header` naming one of the headers that declare a UTF-8 body replaces ehlo's:
    /// `--add-header 'Content-Type: text/html'` went out after ehlo's text/plain one, and a
    /// reader showed the first (the HTML as source), where swaks sends only the user's.
    #[test]
    fn an_added_content_type_replaces_the_one_declaring_a_utf8_body() {
        let add = ["content-type: text/html".to_string()];
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            body: Some("café <b>x</b>".as_bytes()),
            add_headers: &add,
            ..Default::default()
        });
        assert!(
            t.ends_with(
                "MIME-Version: 1.0\nContent-Transfer-Encoding: 8bit\n\
                 content-type: text/html\n\ncafé <b>x</b>\n"
            ),
            "{t}"
        );
        assert_eq!(
            t.to_ascii_lowercase().matches("content-type:").count(),
            1,
            "{t}"
        );
        // A line over 998 octets: the body goes quoted-printable, the type is still the user's.
        let long = format!("café {}", "x".repeat(1000));
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            body: Some(long.as_bytes()),
            add_headers: &add,
            ..Default::default()
        });
        assert_eq!(
            t.to_ascii_lowercase().matches("content-type:").count(),
            1,
            "{t}"
        );
        assert!(
            t.contains("Content-Transfer-Encoding: quoted-printable\n"),
            "{t}"
        );
        assert!(t.contains("\ncontent-type: text/html\n\n"), "{t}");
        // A multipart message keeps its own (as swaks does, the added one after it).
        let parts = [part(
            PartKind::Attachment,
            "text/plain",
            Some("t.txt"),
            b"a",
        )];
        let (t, _) = composed(&MessageSpec {
            from: "a@x",
            parts: &parts,
            add_headers: &add,
            ..Default::default()
        });
        assert!(t.contains("Content-Type: multipart/mixed;"), "{t}");
    }

    /// A `%NEWLINE%` inside a `--header` keeps its lines with the header set, in its place,
    /// as swaks does (it replaces tokens after placing the headers): the other names in it
    /// replace nothing. A literal `\n` still makes separate `--header`s; `--add-header` and
    /// `--data` follow the same rule.
    #[test]
    fn newline_token_in_a_header_stays_with_the_header_set() {
        let to = vec!["t@x".to_string()];
        let compose_with = |headers: &[&str], add: &[&str]| {
            let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
            let add: Vec<String> = add.iter().map(|h| h.to_string()).collect();
            composed(&MessageSpec {
                to: &to,
                from: "f@x",
                headers: &headers,
                add_headers: &add,
                ..Default::default()
            })
            .0
        };
        let head = |t: &str| {
            t.split("\n\n")
                .next()
                .unwrap()
                .lines()
                .map(|l| {
                    l.split(':').next().unwrap().to_string()
                        + if l.starts_with(' ') { "" } else { ":" }
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let t = compose_with(&["Subject: 1%NEWLINE%X-Mailer: zz"], &[]);
        assert!(
            t.contains("\nSubject: 1\nX-Mailer: zz\nMessage-Id: "),
            "{t}"
        );
        assert!(t.contains("\nX-Mailer: ehlo "), "{t}");
        let t = compose_with(&["X-A: 1%NEWLINE%Subject: two%NEWLINE% folded"], &[]);
        assert_eq!(
            head(&t),
            "Date: To: From: Subject: Message-Id: X-Mailer: X-A: Subject:  folded"
        );
        assert!(t.contains("\nSubject: test "), "{t}");
        let t = compose_with(&["Subject: 1\\nX-Mailer: zz"], &[]);
        assert!(!t.contains("X-Mailer: ehlo"), "{t}");
        let t = compose_with(&[], &["X-A: 1%NEWLINE%Subject: two"]);
        assert!(t.contains("\nSubject: test "), "{t}");
        assert!(
            t.ends_with("\nX-A: 1\nSubject: two\n\nThis is a test mailing\n"),
            "{t}"
        );
        // Each line of it is checked as a header.
        let err = compose(
            &MessageSpec {
                to: &to,
                headers: &["Subject: 1%NEWLINE%no colon".to_string()],
                ..Default::default()
            },
            &ctx(),
        )
        .unwrap_err();
        assert!(err.contains("no colon"), "{err}");
        // In --data: the header of that name takes both lines; X-B: old stays.
        let data = b"Subject: s\nX-B: old\n\nbody\n".to_vec();
        let out = data_message(
            data,
            &MessageSpec {
                to: &to,
                headers: &["Subject: 1%NEWLINE%X-B: 2".to_string()],
                ..Default::default()
            },
            &ctx(),
        )
        .unwrap();
        assert_eq!(out, b"Subject: 1\nX-B: 2\nX-B: old\n\nbody\n");
    }

    #[test]
    fn tokens_in_headers_and_body() {
        let to = vec!["t1@x".to_string(), "t2@x".to_string()];
        let cc = vec!["c@x".to_string()];
        let bcc = vec!["b@x".to_string()];
        let headers = vec!["Subject: at %DATE% for ..TO_ADDRESS..".to_string()];
        let add = vec![
            "X-Id: %MESSAGEID%%NEWLINE%X-V: %EHLO_VERSION% ..SWAKS_VERSION..".to_string(),
            "X-Two: a\\nX-Three: %CC_ADDRESS%/%BCC_ADDRESS%/%FROM_ADDRESS%".to_string(),
            "X-Folded: a%NEWLINE% b".to_string(),
        ];
        let (t, _) = composed(&MessageSpec {
            to: &to,
            cc: &cc,
            bcc: &bcc,
            from: "f@x",
            headers: &headers,
            add_headers: &add,
            body: Some(b"%UNKNOWN% %DATE%..NEWLINE..%NOPE"),
            ..Default::default()
        });
        let v = env!("CARGO_PKG_VERSION");
        assert!(
            t.contains("\nSubject: at Tue, 02 Jan 2024 15:04:05 +0100 for t1@x,t2@x\n"),
            "{t}"
        );
        assert!(
            t.contains(&format!(
                "\nX-Id: 20240102150405.004242@client.example\nX-V: {v} {v}\n\
                 X-Two: a\nX-Three: c@x/b@x/f@x\nX-Folded: a\n b\n\n"
            )),
            "{t}"
        );
        assert!(
            t.ends_with("\n\n%UNKNOWN% Tue, 02 Jan 2024 15:04:05 +0100\n%NOPE\n"),
            "{t}"
        );
        // A value that looks like a token is not expanded again.
        let to = vec!["%DATE%@x".to_string()];
        let c = ctx();
        let tokens = Tokens::new(
            &MessageSpec {
                to: &to,
                ..Default::default()
            },
            &c,
        )
        .unwrap();
        assert_eq!(tokens.replace(b"%TO_ADDRESS%").unwrap(), b"%DATE%@x");
        assert_eq!(
            tokens.replace(b"...DATE...").unwrap(),
            b".Tue, 02 Jan 2024 15:04:05 +0100."
        );
    }

    /// A token is short and its value need not be: `%BODY%`, an address list or the
    /// `--add-header` lines at each `%NEW_HEADERS%` repeated past the bound is an error, found
    /// before the text is built.
    #[test]
    fn token_values_cannot_grow_a_text_past_the_bound() {
        let c = ctx();
        let body = vec![b'y'; 1 << 20];
        let spec = MessageSpec {
            body: Some(&body),
            ..Default::default()
        };
        let many = format!("Subject: x\n\n{}", "%BODY%\n".repeat(65));
        let err = data_message(many.as_bytes().to_vec(), &spec, &c).unwrap_err();
        assert!(err.contains("larger than 64 MiB"), "{err}");
        // 64 of them fit.
        let fits = format!("Subject: x\n\n{}", "%BODY%\n".repeat(63));
        assert!(data_message(fits.as_bytes().to_vec(), &spec, &c).is_ok());

        let to: Vec<String> = (0..1000).map(|i| format!("user{i}@example.test")).collect();
        let spec = MessageSpec {
            to: &to,
            body: Some(b"%TO_ADDRESS%"),
            ..Default::default()
        };
        let many = "%TO_ADDRESS%".repeat(4000);
        let err = data_message(many.as_bytes().to_vec(), &spec, &c).unwrap_err();
        assert!(err.contains("larger than 64 MiB"), "{err}");
        let body = "%TO_ADDRESS%".repeat(4000);
        let spec = MessageSpec {
            to: &to,
            body: Some(body.as_bytes()),
            ..Default::default()
        };
        assert!(
            compose(&spec, &c)
                .unwrap_err()
                .contains("larger than 64 MiB")
        );

        let header = [format!("X-Big: {}", "z".repeat(100_000))];
        let spec = MessageSpec {
            add_headers: &header,
            ..Default::default()
        };
        let many = format!("{}\n\nbody\n", "%NEW_HEADERS%".repeat(700));
        let err = data_message(many.as_bytes().to_vec(), &spec, &c).unwrap_err();
        assert!(err.contains("larger than 64 MiB"), "{err}");
    }

    #[test]
    fn data_template_tokens() {
        let c = ctx();
        let tokens = Tokens::new(&MessageSpec::default(), &c).unwrap();
        assert_eq!(
            tokens
                .replace_in_data(b"Subject: s\n%NEW_HEADERS%\n\n%BODY%\n")
                .unwrap(),
            b"Subject: s\n\n\nThis is a test mailing\n"
        );
        assert_eq!(
            tokens
                .replace_in_data(b"Subject: s\r\n..NEW_HEADERS..\r\n\r\n..BODY..%NEWLINE%")
                .unwrap(),
            b"Subject: s\r\n\r\n\r\nThis is a test mailing\n"
        );
    }

    fn data_with(data: &[u8], headers: &[&str], add: &[&str]) -> Result<String, String> {
        let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        let add: Vec<String> = add.iter().map(|h| h.to_string()).collect();
        let to = vec!["a@x".to_string()];
        let spec = MessageSpec {
            to: &to,
            headers: &headers,
            add_headers: &add,
            ..Default::default()
        };
        data_message(data.to_vec(), &spec, &ctx()).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn data_headers_go_at_new_headers_token() {
        assert_eq!(
            data_with(
                b"Subject: s\n%NEW_HEADERS%\n\nbody %TO_ADDRESS%\n",
                &["X-H: h"],
                &["X-A: %TO_ADDRESS%", "X-B: b"]
            )
            .unwrap(),
            "Subject: s\nX-A: a@x\nX-B: b\nX-H: h\n\n\nbody a@x\n",
            "swaks keeps the token's own line end: an empty line before the blank one"
        );
        // swaks's own template: the line end after the token is the blank line.
        let swaks_template = b"Subject: s\n%NEW_HEADERS%\n%BODY%\n";
        assert_eq!(
            data_with(swaks_template, &[], &["X-A: 1"]).unwrap(),
            "Subject: s\nX-A: 1\n\nThis is a test mailing\n"
        );
        assert_eq!(
            data_with(swaks_template, &[], &[]).unwrap(),
            "Subject: s\n\nThis is a test mailing\n"
        );
        // Inside a line, and the ..NAME.. spelling.
        assert_eq!(
            data_with(b"Subject: s\r\n..NEW_HEADERS..\r\n\r\nb", &[], &["X-A: 1"]).unwrap(),
            "Subject: s\r\nX-A: 1\r\n\r\n\r\nb"
        );
        // After the header block the token is body text (swaks replaces it only in the
        // headers): the new headers end the header block, the body keeps the token.
        assert_eq!(
            data_with(b"Subject: s\n\nbody %NEW_HEADERS%\n", &[], &["X-A: 1"]).unwrap(),
            "Subject: s\nX-A: 1\n\nbody %NEW_HEADERS%\n"
        );
        assert_eq!(
            data_with(b"Subject: s\n\n%NEW_HEADERS%\n", &[], &[]).unwrap(),
            "Subject: s\n\n%NEW_HEADERS%\n"
        );
    }

    #[test]
    fn data_headers_go_after_the_header_block() {
        // CRLF message: inserted lines use CRLF too; a blank line in the body is not the end.
        assert_eq!(
            data_with(
                b"Subject: s\r\nTo: t\r\n\r\nbody\r\n\r\nmore\r\n",
                &[],
                &["X-A: 1"]
            )
            .unwrap(),
            "Subject: s\r\nTo: t\r\nX-A: 1\r\n\r\nbody\r\n\r\nmore\r\n"
        );
        // No blank line: the whole message is the header block.
        assert_eq!(
            data_with(b"Subject: s", &[], &["X-A: 1"]).unwrap(),
            "Subject: s\nX-A: 1\n"
        );
        // Starting with a blank line: no headers, the new ones go first.
        assert_eq!(
            data_with(b"\nbody\n", &[], &["X-A: 1"]).unwrap(),
            "X-A: 1\n\nbody\n"
        );
        // Nothing to add: the message is unchanged but for tokens.
        assert_eq!(
            data_with(b"Subject: s\n\nb", &[], &[]).unwrap(),
            "Subject: s\n\nb"
        );
    }

    #[test]
    fn data_header_replaces_in_the_header_block_only() {
        let data = b"subject: old\n folded\nTo: t\nSubject: dup\n\nSubject: in body\n";
        assert_eq!(
            data_with(data, &["Subject: new", "X-New: n"], &["Subject: added"]).unwrap(),
            "Subject: new\nTo: t\nSubject: added\nX-New: n\n\nSubject: in body\n"
        );
        // The last header without a line end keeps having none.
        assert_eq!(
            data_with(b"To: t\nSubject: old", &["Subject: new"], &[]).unwrap(),
            "To: t\nSubject: new"
        );
        // Non-ASCII is RFC 2047 encoded as in the default message.
        let out = data_with(b"Subject: s\n\nb", &["Subject: Grüße"], &[]).unwrap();
        assert!(out.starts_with("Subject: =?utf-8?"), "{out}");
        // Bad syntax names its flag.
        let e = data_with(b"S: s\n\nb", &[], &["nocolon"]).unwrap_err();
        assert!(e.starts_with("--add-header:"), "{e}");
    }

    #[test]
    fn bad_headers_name_their_flag() {
        let cases = [
            ("no colon", "is not 'Name: value' (no colon)"),
            ("Bad Name: x", "the header name 'Bad Name' may only contain"),
            ("X\u{1}: x", "the header name 'X\\u{1}' may only contain"),
            (": x", "has an empty header name"),
            ("X-A: a\rb", "contains a CR or NUL"),
            (" folded: x", "starts with a space"),
            (
                "X-A: 1\\nnot a header",
                "'not a header' is not 'Name: value'",
            ),
            ("", "is not 'Name: value'"),
        ];
        for (arg, want) in cases {
            let args = [arg.to_string()];
            let err = compose(
                &MessageSpec {
                    add_headers: &args,
                    ..Default::default()
                },
                &ctx(),
            )
            .unwrap_err();
            assert!(err.starts_with("--add-header: "), "{arg:?}: {err}");
            assert!(err.contains(want), "{arg:?}: {err}");
            let err =
                check_header_arg("--header", arg, &MessageSpec::default(), &ctx()).unwrap_err();
            assert!(err.starts_with("--header: "), "{arg:?}: {err}");
        }
    }

    #[test]
    fn mailbox_parsing() {
        assert_eq!(
            parse_mailboxes("a@x, \"B, \\\"q\\\"\" <b@x>,C <c@x>"),
            Some(vec![
                (None, "a@x".into()),
                (Some("B, \"q\"".into()), "b@x".into()),
                (Some("C".into()), "c@x".into())
            ])
        );
        assert_eq!(parse_mailboxes("group: a@x;"), None);
        assert_eq!(parse_mailboxes("a@x (comment)"), None);
        assert_eq!(parse_mailboxes(""), None);
    }
    /// The `--header` handling as it was written first, one scan (and shift) per `--header`:
    /// the oracle the indexed versions are compared with.
    fn replace_headers_by_scan(
        mut headers: Vec<String>,
        lines: Vec<String>,
    ) -> (Vec<String>, Vec<String>) {
        let mut new_headers = Vec::new();
        for line in lines {
            let name = header_name(&line).unwrap_or(&line).to_string();
            let same = |h: &String| header_name(h).is_some_and(|n| n.eq_ignore_ascii_case(&name));
            match headers.iter().position(same) {
                Some(first) => {
                    headers[first] = line;
                    let mut i = first + 1;
                    while i < headers.len() {
                        if same(&headers[i]) {
                            headers.remove(i);
                        } else {
                            i += 1;
                        }
                    }
                }
                None => new_headers.push(line),
            }
        }
        (headers, new_headers)
    }

    /// The same for a `--data` header block: re-split per `--header`.
    fn replace_in_block_by_scan(
        mut text: Vec<u8>,
        lines: Vec<(String, Vec<u8>)>,
    ) -> (Vec<u8>, Vec<Vec<u8>>) {
        let mut new_headers = Vec::new();
        for (line, rendered) in lines {
            let name = header_name(&line).unwrap_or(&line).as_bytes().to_vec();
            let block_end = header_block_end(&text);
            let same: Vec<(usize, usize)> = header_spans(&text[..block_end])
                .into_iter()
                .filter(|&(s, e)| {
                    header_name_bytes(&text[s..e]).is_some_and(|n| n.eq_ignore_ascii_case(&name))
                })
                .collect();
            let Some(&(first, first_end)) = same.first() else {
                new_headers.push(rendered);
                continue;
            };
            let ending: &[u8] = if text[..first_end].ends_with(b"\r\n") {
                b"\r\n"
            } else if text[..first_end].ends_with(b"\n") {
                b"\n"
            } else {
                b""
            };
            let mut out = text[..first].to_vec();
            out.extend_from_slice(&rendered);
            out.extend_from_slice(ending);
            let mut at = first_end;
            for &(s, e) in &same[1..] {
                out.extend_from_slice(&text[at..s]);
                at = e;
            }
            out.extend_from_slice(&text[at..]);
            text = out;
        }
        (text, new_headers)
    }

    /// A small deterministic generator (xorshift) for the comparisons below.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// Header names that collide in every case spelling, and values with folds and UTF-8.
    fn random_header(r: &mut Rng) -> String {
        let names = [
            "Subject", "SUBJECT", "subject", "X-A", "x-a", "To", "From", "X-B",
        ];
        let values = ["v", "two words", "folded\n\tcontinued", "caf\u{e9}", ""];
        format!(
            "{}: {}{}",
            names[r.below(names.len())],
            values[r.below(values.len())],
            r.below(100)
        )
    }

    #[test]
    fn indexed_header_replacement_matches_the_scan() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..2000 {
            let headers: Vec<String> = (0..r.below(8)).map(|_| random_header(&mut r)).collect();
            let lines: Vec<String> = (0..r.below(8)).map(|_| random_header(&mut r)).collect();
            assert_eq!(
                replace_headers(headers.clone(), lines.clone()),
                replace_headers_by_scan(headers.clone(), lines.clone()),
                "{headers:?} {lines:?}"
            );
        }
    }

    #[test]
    fn indexed_data_header_replacement_matches_the_scan() {
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        let bodies = [
            "",
            "\nbody\n",
            "\r\nbody\r\n",
            "\n",
            "\nSubject: in the body\n",
        ];
        for _ in 0..2000 {
            let le = if r.below(3) == 0 { "\r\n" } else { "\n" };
            let mut text = String::new();
            for k in 0..r.below(7) {
                if k > 0 {
                    text.push_str(le);
                }
                text.push_str(&random_header(&mut r).replace('\n', le));
            }
            // Sometimes the last header has no line end and there is no body.
            let body = bodies[r.below(bodies.len())];
            if !text.is_empty() && (r.below(4) > 0 || !body.is_empty()) {
                text.push_str(le);
            }
            text.push_str(&body.replace('\n', le).replace("\r\r", "\r"));
            let lines: Vec<(String, Vec<u8>)> = (0..r.below(6))
                .map(|_| {
                    let line = random_header(&mut r);
                    let rendered = render_header_with(&line, le.as_bytes(), false);
                    (line, rendered)
                })
                .collect();
            let text = text.into_bytes();
            assert_eq!(
                replace_in_block(text.clone(), lines.clone()),
                replace_in_block_by_scan(text.clone(), lines.clone()),
                "{:?} {lines:?}",
                String::from_utf8_lossy(&text)
            );
        }
    }

    /// 50 000 `--header`s, half of them replacing one name again and again (the composed
    /// message and a `--data` message): one look-up each. A scan per `--header` took seconds
    /// for 16 000.
    #[test]
    fn many_headers_compose_in_one_pass() {
        let n = 25_000;
        let mut args: Vec<String> = Vec::with_capacity(2 * n);
        for i in 0..n {
            args.push(format!("X-H{i}: v{i}"));
            args.push(format!("subject: s{i}"));
        }
        let spec = MessageSpec {
            headers: &args,
            ..Default::default()
        };
        let composed = text(&spec);
        assert_eq!(composed.matches("X-H").count(), n);
        assert_eq!(composed.to_ascii_lowercase().matches("subject:").count(), 1);
        let last = n - 1;
        assert!(
            composed.contains(&format!("\nsubject: s{last}\n")),
            "{composed:.300}"
        );
        assert!(composed.ends_with(&format!("X-H{last}: v{last}\n\nThis is a test mailing\n")));
        let data = b"Subject: old\nX-H7: old\n%NEW_HEADERS%\nbody\n";
        let out = String::from_utf8(data_message(data.to_vec(), &spec, &ctx()).unwrap()).unwrap();
        assert!(
            out.starts_with(&format!("subject: s{last}\nX-H7: v7\nX-H0: v0\n")),
            "{out:.300}"
        );
        assert_eq!(out.matches("X-H").count(), n);
        assert!(
            out.ends_with(&format!("X-H{last}: v{last}\n\nbody\n")),
            "{out:.300}"
        );
    }
}
