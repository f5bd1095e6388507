//! SMTP replies (RFC 5321 §4.2) and their incremental, lenient, bounded parser.
//!
//! The grammar the parser expects (RFC 5321 §4.2, with §4.2.1 on multi-line replies):
//!
//! ```text
//! Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//!              Reply-code [ SP textstring ] CRLF
//! Reply-code = %x32-35 %x30-35 %x30-39
//! textstring = 1*(%d09 / %d32-126)
//! ```
//!
//! Real servers break it in many ways; instead of failing or hanging, the parser accepts what it
//! can and records a [`Deviation`] on the reply (tolerate, record, never hang). It never waits for a line it
//! cannot recognise and never holds more than `max_line` bytes of one line; a reply that grows
//! past `max_lines` lines or `max_bytes` bytes is cut there and returned marked
//! [`Deviation::ReplyTooLarge`], so a server that never ends its reply cannot keep us reading.
//! Every step is linear in the bytes received.

use serde::Serialize;

use crate::smtp::FEED_PIECE;
use crate::smtp::event::{Bytes, Deviation, count_bytes, group_digits, plural_s};

/// An enhanced status code `class.subject.detail` (RFC 3463 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct EnhancedCode {
    /// 2, 4 or 5.
    pub(crate) class: u8,
    /// 0–999 (registry subjects are 0–7).
    pub(crate) subject: u16,
    /// 0–999.
    pub(crate) detail: u16,
}

impl EnhancedCode {
    /// Is this code's class the first digit of reply `code` (RFC 3463 §2: 2, 4 and 5 are
    /// success, persistent and permanent failure, as the reply code's)? The one test of it:
    /// the reply parser's deviation, `ehlo serve`'s `--fail` check and the explanation ask here.
    pub(crate) fn class_agrees(&self, code: u16) -> bool {
        u16::from(self.class) == code / 100
    }
}

impl std::fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

impl Serialize for EnhancedCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One complete reply (single- or multi-line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    /// The three-digit code of the last line (the reply's verdict, see [`ReplyParser`]); `None`
    /// when the line had no code (garbage).
    pub(crate) code: Option<u16>,
    /// The enhanced status code from the start of the last line's text, or of an earlier line
    /// with the same code when the last has none.
    pub(crate) enhanced: Option<EnhancedCode>,
    /// Text of each line after `NNN-` / `NNN ` ([`text_of`]: a byte that is not UTF-8 as
    /// `\xNN`; enhanced code left in place).
    pub(crate) lines: Vec<String>,
    /// Exact bytes as received (bounded by the parser limits).
    pub(crate) raw: Bytes,
    /// What the parser tolerated while reading this reply.
    pub(crate) deviations: Vec<Deviation>,
}

/// What a reply to a command says of it (RFC 5321 §4.2.1): done, try again later, refused,
/// or neither (a 1xx, a 3xx out of turn, no code at all: no answer to the command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// 2xx.
    Accepted,
    /// 4xx.
    Deferred,
    /// 5xx.
    Refused,
    /// Anything else.
    Neither,
}

impl Reply {
    /// The reply's [`Verdict`] on the command it answers.
    pub(crate) fn verdict(&self) -> Verdict {
        match self.class() {
            Some(2) => Verdict::Accepted,
            Some(4) => Verdict::Deferred,
            Some(5) => Verdict::Refused,
            _ => Verdict::Neither,
        }
    }
    /// First digit of the code (2, 3, 4, 5, …), if there is a code.
    pub(crate) fn class(&self) -> Option<u8> {
        self.code.map(|c| (c / 100) as u8)
    }
    /// 2xx.
    pub(crate) fn is_positive(&self) -> bool {
        self.class() == Some(2)
    }
    /// 4xx.
    pub(crate) fn is_transient(&self) -> bool {
        self.class() == Some(4)
    }
    /// 5xx, or no code at all.
    pub(crate) fn is_permanent(&self) -> bool {
        !matches!(self.class(), Some(2..=4))
    }
    /// 421: the server is closing the transmission channel (RFC 5321 §3.8), whatever it
    /// answers.
    pub(crate) fn announces_close(&self) -> bool {
        self.code == Some(421)
    }
    /// 220: the server is ready: the greeting (RFC 5321 §4.3.1), or the go-ahead to STARTTLS
    /// (RFC 3207 §4: any other reply leaves the session in plain text).
    pub(crate) fn is_ready(&self) -> bool {
        self.code == Some(220)
    }
    /// 221: the server closes the channel, its answer to QUIT (RFC 5321 §4.1.1.10).
    pub(crate) fn is_closing(&self) -> bool {
        self.code == Some(221)
    }
    /// 235: authentication succeeded (RFC 4954 §6).
    pub(crate) fn is_authenticated(&self) -> bool {
        self.code == Some(235)
    }
    /// 250: the action was completed (RFC 5321 §4.2.2), as an accepted EHLO is answered
    /// (§4.1.1.1; a 2xx other than 250 to EHLO is no extension list).
    pub(crate) fn is_completed(&self) -> bool {
        self.code == Some(250)
    }
    /// 250 or 251 to VRFY: the mailbox exists, named or to be forwarded (RFC 5321 §3.5.3);
    /// 252 (cannot verify) confirms nothing.
    pub(crate) fn confirms_mailbox(&self) -> bool {
        matches!(self.code, Some(250 | 251))
    }
    /// 354: go ahead with the content (RFC 5321 §4.1.1.4).
    pub(crate) fn is_start_input(&self) -> bool {
        self.code == Some(354)
    }
    /// 530: authentication required first (RFC 4954 §6).
    pub(crate) fn requires_auth(&self) -> bool {
        self.code == Some(530)
    }
    /// 334: a SASL challenge, its text base64 (RFC 4954 §4).
    pub(crate) fn is_sasl_challenge(&self) -> bool {
        self.code == Some(334)
    }
    /// Every line's text, joined with `\n`, each without the enhanced code that servers repeat
    /// at the start of every line (`550-5.7.26 …`): the whole reply for summaries, which must
    /// not keep only the first line (Exim puts the reason on the last one).
    pub(crate) fn text_without_codes(&self) -> String {
        let strip = |l: &str| -> String {
            match parse_enhanced(l) {
                Some(_) => l
                    .split_once(' ')
                    .map(|(_, rest)| rest)
                    .unwrap_or("")
                    .to_string(),
                None => l.to_string(),
            }
        };
        self.lines
            .iter()
            .map(|l| strip(l))
            .collect::<Vec<_>>()
            .join("\n")
    }
    /// Build a reply from a code and lines (tests, the embedded server).
    pub(crate) fn new(code: u16, lines: &[&str]) -> Reply {
        let mut raw = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            raw.extend_from_slice(format!("{code}{sep}{l}\r\n").as_bytes());
        }
        Reply {
            code: Some(code),
            enhanced: lines.first().and_then(|l| parse_enhanced(l)),
            lines: lines.iter().map(|s| s.to_string()).collect(),
            raw: Bytes(raw),
            deviations: Vec::new(),
        }
    }
}

/// Parse an enhanced status code at the start of `text` (`5.1.1 User unknown` → 5.1.1).
pub(crate) fn parse_enhanced(text: &str) -> Option<EnhancedCode> {
    let word = text.split(' ').next()?;
    let mut it = word.split('.');
    let class: u8 = it.next()?.parse().ok()?;
    let subject: u16 = it.next()?.parse().ok()?;
    let detail: u16 = it.next()?.parse().ok()?;
    if it.next().is_some() || !matches!(class, 2 | 4 | 5) || subject > 999 || detail > 999 {
        return None;
    }
    Some(EnhancedCode {
        class,
        subject,
        detail,
    })
}

/// Bounds that keep a hostile server from exhausting memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Longest line kept; the rest of a longer line is discarded (a deviation is recorded).
    pub(crate) max_line: usize,
    /// Most lines in one reply: the line after the last one allowed ends the reply, marked
    /// [`Deviation::ReplyTooLarge`].
    pub(crate) max_lines: usize,
    /// Most bytes received for one reply (discarded tails of over-long lines count): once a
    /// reply passes it, it ends there, marked [`Deviation::ReplyTooLarge`].
    pub(crate) max_bytes: usize,
}

impl Default for Limits {
    /// 1000 lines and 1 MiB. RFC 5321 §4.5.3.1.5 allows 512 octets a line, and real EHLO replies
    /// are a few dozen lines, so this is generous for any real server and small for memory.
    fn default() -> Self {
        Limits {
            max_line: 8192,
            max_lines: 1000,
            max_bytes: 1 << 20,
        }
    }
}

/// What has arrived of an unfinished reply ([`ReplyParser::progress`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Bytes received.
    pub(crate) bytes: usize,
    /// Complete lines among them.
    pub(crate) lines: usize,
    /// Some of the bytes are a line whose end has not arrived.
    pub(crate) unfinished_line: bool,
}

impl std::fmt::Display for Progress {
    /// `102 404 bytes without a line end`, `2 lines (14 bytes), the reply not finished`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = count_bytes(self.bytes);
        match self.lines {
            0 => write!(f, "{bytes} without a line end"),
            n => {
                let s = plural_s(n);
                write!(f, "{n} line{s} ({bytes}), the reply not finished")?;
                if self.unfinished_line {
                    write!(f, ", the last line without a line end")?;
                }
                Ok(())
            }
        }
    }
}

/// What arrived and the limits passed, from a [`Deviation::ReplyTooLarge`] ("1 048 577 bytes
/// without a line end passed the limit of …"); empty for any other deviation. The one wording
/// of a cut reply: the deviation line, the session's error (the summary) and `ehlo check`'s
/// finding all say it with this.
pub(crate) fn describe_cut(d: &Deviation) -> String {
    let Deviation::ReplyTooLarge {
        bytes,
        lines,
        unfinished_line,
        max_bytes,
        max_lines,
    } = d
    else {
        return String::new();
    };
    let what = match (*lines, *unfinished_line) {
        (1, true) => format!("{} without a line end", count_bytes(*bytes)),
        (1, false) => format!("{} in 1 line", count_bytes(*bytes)),
        (n, last_unfinished) => format!(
            "{} in {} lines{}",
            count_bytes(*bytes),
            group_digits(n),
            if last_unfinished {
                ", the last without a line end"
            } else {
                ""
            }
        ),
    };
    format!(
        "{what} passed the limit of {} and {max_lines} lines",
        count_bytes(*max_bytes)
    )
}

/// Longest reply line RFC 5321 §4.5.3.1.5 allows, CRLF included.
pub(crate) const RFC_MAX_REPLY_LINE: usize = 512;

/// How much of an offending line a deviation quotes.
const QUOTE_CHARS: usize = 80;

/// Incremental reply parser. The caller (the client `Session`) owns the read buffer; the parser
/// drains complete lines from its front and keeps only bounded state of its own.
///
/// Leniency, line by line:
/// - a bare LF ends a line ([`Deviation::BareLf`]); a CR not followed by LF is text
///   ([`Deviation::BareCr`]);
/// - a line without a three-digit code (`abc`, `25 x`, and `2500 x`: four digits are no code)
///   is a complete single-line reply with `code: None` ([`Deviation::MissingCode`]); inside a
///   multi-line reply it is kept as one more line;
/// - any character other than SP or `-` after the code makes the line final
///   ([`Deviation::BadSeparator`]); `250` alone is a valid final line;
/// - a later line with another code is kept, and the last line's code is the reply's
///   ([`Deviation::MixedCodes`]): RFC 5321 §4.2.1 allows one code per reply, and when a server
///   breaks that its last line is its verdict, as Postfix (`smtp_chat.c`) and Python's
///   `smtplib` read it, so `250-ok` then `550 unknown` is a refusal;
/// - a line longer than `max_line` keeps its first `max_line` bytes; the rest is discarded as it
///   arrives, even before the line end has been seen ([`Deviation::OverlongLine`]);
/// - a reply that would pass `max_lines` lines or `max_bytes` bytes ends where it passes them
///   ([`Deviation::ReplyTooLarge`], with what was received); the caller should stop reading,
///   since whatever follows is the rest of a reply that has no place to go.
///
/// Each kind of deviation is recorded at most once per reply, so the list stays bounded.
#[derive(Debug, Default)]
pub(crate) struct ReplyParser {
    limits: Limits,
    /// The lines of a multi-line reply read so far.
    pending: Option<Pending>,
    /// A line longer than `max_line` whose end has not arrived yet.
    overlong: Option<Overlong>,
    /// The last call left an incomplete line in the caller's buffer.
    partial: bool,
}

/// A client session that reads replies from bytes the transport hands it: the automatic send's
/// and the REPL's, which [`feed_replies`] serves alike.
pub(crate) trait ReplyFeed {
    /// The session's input buffer and its reply parser.
    fn input(&mut self) -> (&mut Vec<u8>, &mut ReplyParser);
    /// Replies are read now: the session is not closed and not waiting for a TLS handshake.
    fn reading(&self) -> bool;
    /// STARTTLS went out and its reply is awaited: what follows that reply is an injection
    /// (RFC 3207 §5), reported whole.
    fn starttls_awaited(&self) -> bool;
    /// One reply, as read.
    fn take(&mut self, reply: Reply);
}

/// Adds `bytes` to the session's buffer [`FEED_PIECE`] bytes at a time and hands it each reply
/// complete by then. Each reply taken from the buffer moves what follows it, so a large call
/// added whole made the work grow with the square of its size; piece by piece it grows with the
/// bytes. What follows STARTTLS's reply is added whole, as the injection it reports.
pub(crate) fn feed_replies(s: &mut impl ReplyFeed, bytes: &[u8]) {
    let mut rest = bytes;
    loop {
        let (piece, after) = rest.split_at(rest.len().min(FEED_PIECE));
        s.input().0.extend_from_slice(piece);
        rest = after;
        while s.reading() {
            if !rest.is_empty() && s.starttls_awaited() {
                s.input().0.extend_from_slice(rest);
                rest = &[];
            }
            let (buf, parser) = s.input();
            let Some(reply) = parser.next_reply(buf) else {
                break;
            };
            s.take(reply);
        }
        if rest.is_empty() || !s.reading() {
            break;
        }
    }
}

/// A reply whose final line has not arrived yet.
#[derive(Debug)]
struct Pending {
    /// The code of the first line that had one ([`Deviation::MixedCodes`]).
    first: Option<u16>,
    /// The code of the latest line that had one: the reply's code once it ends.
    code: Option<u16>,
    /// The enhanced code of the latest line with code `code` that had one.
    enhanced: Option<EnhancedCode>,
    lines: Vec<String>,
    raw: Vec<u8>,
    deviations: Vec<Deviation>,
    /// Bytes received for this reply so far (line ends and discarded tails included).
    received: usize,
}

/// The kept head of an over-long line, while its tail is being discarded.
#[derive(Debug)]
struct Overlong {
    /// The first `max_line` bytes.
    kept: Vec<u8>,
    /// Bytes of the line seen so far (LF not included).
    len: usize,
    /// The last byte seen was a CR (it may turn out to be half of the CRLF).
    last_cr: bool,
    /// A CR not followed by LF was seen.
    bare_cr: bool,
}

impl Overlong {
    /// Account for discarded bytes (which never contain LF).
    fn discard(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // The byte after a CR is not LF here, so that CR was bare.
            self.bare_cr |= self.last_cr;
            self.last_cr = b == b'\r';
        }
        self.len += bytes.len();
    }
}

/// How a line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Crlf,
    Lf,
    /// The connection closed first; `true` when a lone CR (half a CRLF) was the last byte.
    Close(bool),
}

impl Ending {
    fn bytes(self) -> &'static [u8] {
        match self {
            Ending::Crlf => b"\r\n",
            Ending::Lf => b"\n",
            Ending::Close(true) => b"\r",
            Ending::Close(false) => b"",
        }
    }
}

/// One line handed to [`ReplyParser::line`].
struct Line<'a> {
    /// The content kept (at most `max_line` bytes, no line end).
    kept: &'a [u8],
    /// Length of the whole content (may exceed `kept`).
    content_len: usize,
    ending: Ending,
    bare_cr: bool,
}

/// A server's bytes as text: UTF-8 as it is, each byte that is not as `\xNN` (two upper-case
/// hex digits), as the transcript shows it. The one reading of reply text: a summary quoting a
/// reply shows the byte the transcript showed, not U+FFFD.
pub(crate) fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    use std::fmt::Write as _;
    if let Ok(t) = std::str::from_utf8(bytes) {
        return t.into();
    }
    let mut s = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        s.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(s, "\\x{b:02X}");
        }
    }
    s.into()
}

fn push_once(deviations: &mut Vec<Deviation>, d: Deviation) {
    let kind = std::mem::discriminant(&d);
    if !deviations.iter().any(|x| std::mem::discriminant(x) == kind) {
        deviations.push(d);
    }
}

fn quote(bytes: &[u8]) -> String {
    text_of(bytes).chars().take(QUOTE_CHARS).collect()
}

fn find_lf(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

impl ReplyParser {
    /// A parser with the given limits.
    pub(crate) fn new(limits: Limits) -> Self {
        ReplyParser {
            limits,
            ..ReplyParser::default()
        }
    }

    /// Drain complete lines from the front of `buf`; return a reply once its last line is in.
    /// Call again until it returns `None`. Never holds more than `max_line` bytes of one line.
    ///
    /// Bytes after the returned reply stay in `buf` untouched (pipelined replies, and bytes a
    /// server sent after its `220` to STARTTLS, which the Session must see). An incomplete line
    /// stays in `buf` too, unless it is already longer than `max_line`: then its head moves into
    /// the parser and the rest is dropped as it arrives.
    pub(crate) fn next_reply(&mut self, buf: &mut Vec<u8>) -> Option<Reply> {
        let max_line = self.limits.max_line;
        // Consume with a cursor and drain once, so many short lines in one buffer cost O(n).
        let mut pos = 0;
        let reply = loop {
            let rest = &buf[pos..];
            if let Some(mut ov) = self.overlong.take() {
                let Some(i) = find_lf(rest) else {
                    ov.discard(rest);
                    pos = buf.len();
                    if let Some(r) = self.cut_if_too_large(&ov) {
                        break Some(r);
                    }
                    self.overlong = Some(ov);
                    break None;
                };
                ov.discard(&rest[..i]);
                pos += i + 1;
                let ending = if ov.last_cr { Ending::Crlf } else { Ending::Lf };
                let line = Line {
                    kept: &ov.kept,
                    content_len: ov.len - usize::from(ov.last_cr),
                    ending,
                    bare_cr: ov.bare_cr,
                };
                if let Some(r) = self.line(&line) {
                    break Some(r);
                }
                continue;
            }
            if let Some(i) = find_lf(rest) {
                let (content, ending) = match rest[..i].strip_suffix(b"\r") {
                    Some(c) => (c, Ending::Crlf),
                    None => (&rest[..i], Ending::Lf),
                };
                let line = Line {
                    kept: &content[..content.len().min(max_line)],
                    content_len: content.len(),
                    ending,
                    bare_cr: content.contains(&b'\r'),
                };
                pos += i + 1;
                if let Some(r) = self.line(&line) {
                    break Some(r);
                }
            } else {
                // No line end yet. While `max_line` bytes plus the CR of a CRLF fit, wait in the
                // caller's buffer; beyond that the line is over-long: keep its head here and
                // drop the rest as it arrives, so memory stays bounded.
                if rest.len() > max_line.saturating_add(1) {
                    let mut ov = Overlong {
                        kept: rest[..max_line].to_vec(),
                        len: max_line,
                        last_cr: false,
                        bare_cr: rest[..max_line].contains(&b'\r'),
                    };
                    ov.discard(&rest[max_line..]);
                    pos = buf.len();
                    if let Some(r) = self.cut_if_too_large(&ov) {
                        break Some(r);
                    }
                    self.overlong = Some(ov);
                }
                break None;
            }
        };
        buf.drain(..pos);
        self.partial = reply.is_none() && !buf.is_empty();
        reply
    }

    /// The connection closed: turn whatever is pending (a partial line or an unfinished multi-line
    /// reply) into a reply marked [`Deviation::TruncatedAtClose`], if there is anything.
    ///
    /// Complete replies still in `buf` come first, unmarked; call until it returns `None`.
    pub(crate) fn finish(&mut self, buf: &mut Vec<u8>) -> Option<Reply> {
        if let Some(reply) = self.next_reply(buf) {
            return Some(reply);
        }
        self.partial = false;
        let max_line = self.limits.max_line;
        let mut reply = None;
        if let Some(mut ov) = self.overlong.take() {
            ov.discard(buf);
            buf.clear();
            let line = Line {
                kept: &ov.kept,
                content_len: ov.len - usize::from(ov.last_cr),
                ending: Ending::Close(ov.last_cr),
                bare_cr: ov.bare_cr,
            };
            reply = self.line(&line);
        } else if !buf.is_empty() {
            let bytes = std::mem::take(buf);
            let (content, ending) = match bytes.strip_suffix(b"\r") {
                Some(c) => (c, Ending::Close(true)),
                None => (&bytes[..], Ending::Close(false)),
            };
            let line = Line {
                kept: &content[..content.len().min(max_line)],
                content_len: content.len(),
                ending,
                bare_cr: content.contains(&b'\r'),
            };
            reply = self.line(&line);
        }
        let mut reply = reply.or_else(|| self.pending.take().map(Pending::into_reply))?;
        reply.deviations.push(Deviation::TruncatedAtClose);
        Some(reply)
    }

    /// What has arrived of a reply not finished yet: bytes (those still in the caller's `buf`
    /// included) and complete lines; `None` when nothing has. For diagnoses ("3 bytes without a
    /// line end") when the reply does not come in time.
    pub(crate) fn progress(&self, buf: &[u8]) -> Option<Progress> {
        let (received, lines) = self
            .pending
            .as_ref()
            .map_or((0, 0), |p| (p.received, p.lines.len()));
        let partial = self
            .overlong
            .as_ref()
            .map_or(buf.len(), |o| o.len + buf.len());
        let bytes = received + partial;
        (bytes > 0).then_some(Progress {
            bytes,
            lines,
            unfinished_line: partial > 0,
        })
    }

    /// Is a multi-line reply (or a line) partially read?
    pub(crate) fn in_progress(&self) -> bool {
        self.pending.is_some() || self.overlong.is_some() || self.partial
    }

    /// An over-long line is still arriving: if the reply has passed `max_bytes` with it, end the
    /// reply here (the line is dropped) and return it.
    fn cut_if_too_large(&mut self, ov: &Overlong) -> Option<Reply> {
        let (received, lines) = self
            .pending
            .as_ref()
            .map_or((0, 0), |p| (p.received, p.lines.len()));
        if received.saturating_add(ov.len) > self.limits.max_bytes {
            Some(self.cut(received + ov.len, lines + 1, true))
        } else {
            None
        }
    }

    /// End the pending reply because it is too large; the line that made it so is not kept.
    fn cut(&mut self, bytes: usize, lines: usize, unfinished_line: bool) -> Reply {
        let mut pending = self.pending.take().unwrap_or(Pending {
            first: None,
            code: None,
            enhanced: None,
            lines: Vec::new(),
            raw: Vec::new(),
            deviations: Vec::new(),
            received: 0,
        });
        pending.deviations.push(Deviation::ReplyTooLarge {
            bytes,
            lines,
            unfinished_line,
            max_bytes: self.limits.max_bytes,
            max_lines: self.limits.max_lines,
        });
        pending.into_reply()
    }

    /// Take one complete line into the pending reply; return the reply if the line was final.
    fn line(&mut self, line: &Line<'_>) -> Option<Reply> {
        let Limits {
            max_line,
            max_lines,
            ..
        } = self.limits;
        let mut devs = Vec::new();
        if line.ending == Ending::Lf {
            devs.push(Deviation::BareLf);
        }
        if line.bare_cr {
            devs.push(Deviation::BareCr);
        }
        let total_len = line.content_len + line.ending.bytes().len();
        if line.content_len > max_line {
            devs.push(Deviation::OverlongLine {
                len: total_len,
                limit: max_line,
            });
        } else if total_len > RFC_MAX_REPLY_LINE {
            devs.push(Deviation::LongReplyLine { len: total_len });
        }

        let kept = line.kept;
        // Exactly three digits (RFC 5321 §4.2): `2500 queued` has no code, not 250 with the text
        // `0 queued`, as Postfix (`smtp_chat.c` counts every leading digit) and Exim
        // (`smtp_read_response`) read it; taking its first three would make garbage a success.
        let code = kept
            .get(..3)
            .filter(|d| d.iter().all(u8::is_ascii_digit))
            .filter(|_| !kept.get(3).is_some_and(u8::is_ascii_digit))
            .map(|d| d.iter().fold(0u16, |n, &b| n * 10 + u16::from(b - b'0')));
        let (text, is_final) = match code {
            None => {
                devs.push(Deviation::MissingCode { line: quote(kept) });
                // Alone it is a reply of its own (never wait for a code that will not come);
                // inside a multi-line reply it is one more line of it.
                (kept, self.pending.is_none())
            }
            Some(c) => {
                if !(200..600).contains(&c) {
                    devs.push(Deviation::OddCode { code: c });
                }
                match kept.get(3) {
                    None => (&kept[3..], true),
                    Some(b' ') => (&kept[4..], true),
                    Some(b'-') => (&kept[4..], false),
                    Some(_) => {
                        devs.push(Deviation::BadSeparator { line: quote(kept) });
                        (&kept[3..], true)
                    }
                }
            }
        };
        let text = if let Ok(t) = std::str::from_utf8(text) {
            t.to_string()
        } else {
            devs.push(Deviation::NotUtf8);
            text_of(text).into_owned()
        };

        // The LF of a line end is not counted against `max_bytes`, so a line cut while still
        // arriving (`cut_if_too_large`) and the same line seen whole are judged alike.
        let counted = total_len - usize::from(matches!(line.ending, Ending::Crlf | Ending::Lf));
        let (received, lines) = self
            .pending
            .as_ref()
            .map_or((0, 0), |p| (p.received, p.lines.len()));
        if lines >= max_lines || received.saturating_add(counted) > self.limits.max_bytes {
            let unfinished = matches!(line.ending, Ending::Close(_));
            return Some(self.cut(received + total_len, lines + 1, unfinished));
        }
        let pending = self.pending.get_or_insert_with(|| Pending {
            first: code,
            code,
            enhanced: None,
            lines: Vec::new(),
            raw: Vec::new(),
            deviations: Vec::new(),
            received: 0,
        });
        pending.received += total_len;
        if let (Some(first), Some(found)) = (pending.first, code)
            && first != found
        {
            devs.push(Deviation::MixedCodes { first, found });
        }
        if code.is_some() {
            // Another code: an enhanced code of the previous one says nothing about this one.
            if code != pending.code {
                pending.enhanced = None;
            }
            pending.code = code;
            if let Some(e) = parse_enhanced(&text) {
                pending.enhanced = Some(e);
            }
        }
        pending.lines.push(text);
        pending.raw.extend_from_slice(kept);
        pending.raw.extend_from_slice(line.ending.bytes());
        for d in devs {
            push_once(&mut pending.deviations, d);
        }
        if is_final {
            self.pending.take().map(Pending::into_reply)
        } else {
            None
        }
    }
}

impl Pending {
    fn into_reply(mut self) -> Reply {
        let enhanced = self.enhanced;
        if let (Some(code), Some(e)) = (self.code, enhanced)
            && !e.class_agrees(code)
        {
            push_once(
                &mut self.deviations,
                Deviation::EnhancedClassMismatch {
                    code,
                    enhanced: e.to_string(),
                },
            );
        }
        Reply {
            code: self.code,
            enhanced,
            lines: self.lines,
            raw: Bytes(self.raw),
            deviations: self.deviations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unfinished reply's progress counts its lines in the singular for one.
    #[test]
    fn progress_words_one_line_and_many() {
        let p = |bytes, lines| Progress {
            bytes,
            lines,
            unfinished_line: false,
        };
        assert_eq!(
            p(14, 1).to_string(),
            "1 line (14 bytes), the reply not finished"
        );
        assert_eq!(
            p(1, 2).to_string(),
            "2 lines (1 byte), the reply not finished"
        );
        assert_eq!(p(3, 0).to_string(), "3 bytes without a line end");
    }

    /// The code decisions the modes ask the core for: each holds for its code only (a 2xx
    /// other than 220 to STARTTLS starts no TLS; 252 to VRFY confirms no mailbox).
    #[test]
    fn code_decisions_hold_for_their_code_only() {
        type Is = fn(&Reply) -> bool;
        let cases: [(Is, &[u16]); 7] = [
            (Reply::is_ready, &[220]),
            (Reply::is_closing, &[221]),
            (Reply::is_authenticated, &[235]),
            (Reply::is_completed, &[250]),
            (Reply::confirms_mailbox, &[250, 251]),
            (Reply::is_start_input, &[354]),
            (Reply::requires_auth, &[530]),
        ];
        for (n, (is, codes)) in cases.iter().enumerate() {
            for code in [220, 221, 235, 250, 251, 252, 334, 354, 421, 530, 554] {
                let r = Reply::new(code, &["x"]);
                assert_eq!(is(&r), codes.contains(&code), "case {n}, code {code}");
            }
            let mut none = Reply::new(220, &["x"]);
            none.code = None;
            assert!(!is(&none), "case {n}, no code");
        }
        for (code, v) in [
            (250, Verdict::Accepted),
            (451, Verdict::Deferred),
            (550, Verdict::Refused),
            (354, Verdict::Neither),
            (199, Verdict::Neither),
        ] {
            assert_eq!(Reply::new(code, &["x"]).verdict(), v, "{code}");
        }
    }

    /// Everything, then EOF: all-at-once.
    fn parse_closed(input: &[u8], limits: Limits) -> Vec<Reply> {
        let mut p = ReplyParser::new(limits);
        let mut buf = input.to_vec();
        let mut out = Vec::new();
        while let Some(r) = p.next_reply(&mut buf) {
            out.push(r);
        }
        while let Some(r) = p.finish(&mut buf) {
            out.push(r);
        }
        assert!(!p.in_progress());
        out
    }

    /// Feed in chunks of `chunk` bytes (the Session's way), then EOF.
    fn parse_chunked(input: &[u8], limits: Limits, chunk: usize) -> Vec<Reply> {
        let mut p = ReplyParser::new(limits);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        for piece in input.chunks(chunk) {
            buf.extend_from_slice(piece);
            while let Some(r) = p.next_reply(&mut buf) {
                out.push(r);
            }
            assert!(buf.len() <= limits.max_line + 1 + chunk, "buffer unbounded");
        }
        while let Some(r) = p.finish(&mut buf) {
            out.push(r);
        }
        out
    }

    fn one(input: &[u8]) -> Reply {
        let mut replies = parse_closed(input, Limits::default());
        assert_eq!(replies.len(), 1, "{replies:?}");
        replies.remove(0)
    }

    #[test]
    fn single_and_multi_line() {
        let r = one(b"250 2.1.0 Ok\r\n");
        assert_eq!(r.code, Some(250));
        assert_eq!(r.lines, ["2.1.0 Ok"]);
        assert_eq!(r.enhanced.map(|e| e.to_string()).as_deref(), Some("2.1.0"));
        assert_eq!(r.raw.0, b"250 2.1.0 Ok\r\n");
        assert!(r.deviations.is_empty());

        let banner = b"220-mx.example ESMTP\r\n220-second\r\n220 last\r\n";
        let r = one(banner);
        assert_eq!(r.code, Some(220));
        assert_eq!(r.lines, ["mx.example ESMTP", "second", "last"]);
        assert_eq!(r.raw.0, banner);
        assert!(r.deviations.is_empty());
        assert_eq!(r, Reply::new(220, &["mx.example ESMTP", "second", "last"]));

        // `250` alone and `220-` with no text are valid.
        let r = one(b"220-\r\n250\r\n");
        assert_eq!(r.lines, ["", ""]);
        assert_eq!(r.code, Some(250));
        assert_eq!(
            r.deviations,
            [Deviation::MixedCodes {
                first: 220,
                found: 250
            }]
        );
        let r = one(b"250\r\n");
        assert_eq!((r.code, r.lines.clone()), (Some(250), vec![String::new()]));
        assert!(r.deviations.is_empty());
    }

    #[test]
    fn leaves_following_bytes_in_the_buffer() {
        let mut p = ReplyParser::new(Limits::default());
        let mut buf = b"250 first\r\n354-go\r\n354 ahead\r\n221 partial".to_vec();
        let r = p.next_reply(&mut buf).unwrap();
        assert_eq!(r.lines, ["first"]);
        assert_eq!(buf, b"354-go\r\n354 ahead\r\n221 partial");
        let r = p.next_reply(&mut buf).unwrap();
        assert_eq!(r.code, Some(354));
        assert_eq!(buf, b"221 partial");
        assert!(p.next_reply(&mut buf).is_none());
        assert_eq!(buf, b"221 partial");
        assert!(p.in_progress());
        // STARTTLS injection: the bytes after 220 are left for the Session to report.
        let mut buf = b"220 go ahead\r\n250 injected\r\n".to_vec();
        let mut p = ReplyParser::default();
        assert_eq!(p.next_reply(&mut buf).unwrap().code, Some(220));
        assert_eq!(buf, b"250 injected\r\n");
        assert!(!p.in_progress());
    }

    #[test]
    fn multi_line_in_progress() {
        let mut p = ReplyParser::default();
        let mut buf = b"250-a\r\n".to_vec();
        assert!(p.next_reply(&mut buf).is_none());
        assert!(buf.is_empty());
        assert!(p.in_progress());
        buf.extend_from_slice(b"250 b\r\n");
        assert_eq!(p.next_reply(&mut buf).unwrap().lines, ["a", "b"]);
        assert!(!p.in_progress());
    }

    fn kinds(r: &Reply) -> Vec<Deviation> {
        r.deviations.clone()
    }

    #[test]
    fn deviations() {
        let r = one(b"250-a\n250 b\n");
        assert_eq!(kinds(&r), [Deviation::BareLf]);
        assert_eq!(r.lines, ["a", "b"]);
        assert_eq!(r.raw.0, b"250-a\n250 b\n");

        let r = one(b"250 a\rb\r\n");
        assert_eq!(kinds(&r), [Deviation::BareCr]);
        assert_eq!(r.lines, ["a\rb"]);

        let r = one(b"250-a\r\n251-b\r\n252 c\r\n");
        assert_eq!(r.code, Some(252));
        assert_eq!(
            kinds(&r),
            [Deviation::MixedCodes {
                first: 250,
                found: 251
            }]
        );
        assert_eq!(r.lines, ["a", "b", "c"]);

        let replies = parse_closed(b"hello there\r\n220 ok\r\n", Limits::default());
        assert_eq!(replies.len(), 2);
        assert_eq!(replies[0].code, None);
        assert_eq!(replies[0].lines, ["hello there"]);
        assert!(replies[0].is_permanent());
        assert_eq!(
            kinds(&replies[0]),
            [Deviation::MissingCode {
                line: "hello there".into()
            }]
        );
        assert_eq!(replies[1].code, Some(220));

        // A code-less line inside a multi-line reply joins it.
        let r = one(b"250-a\r\n  wrapped\r\n250 b\r\n");
        assert_eq!(r.lines, ["a", "  wrapped", "b"]);
        assert_eq!(
            kinds(&r),
            [Deviation::MissingCode {
                line: "  wrapped".into()
            }]
        );

        let r = one(b"199 odd\r\n");
        assert_eq!(r.code, Some(199));
        assert_eq!(kinds(&r), [Deviation::OddCode { code: 199 }]);
        let r = one(b"600 odd\r\n");
        assert_eq!(kinds(&r), [Deviation::OddCode { code: 600 }]);

        let r = one(b"250x\r\n");
        assert_eq!(r.code, Some(250));
        assert_eq!(r.lines, ["x"]);
        assert_eq!(
            kinds(&r),
            [Deviation::BadSeparator {
                line: "250x".into()
            }]
        );
        // Four digits are no three-digit code: not a 250 (a success) with the text `0 queued`.
        let r = one(b"2500 queued\r\n");
        assert_eq!(r.code, None);
        assert_eq!(r.lines, ["2500 queued"]);
        assert_eq!(
            kinds(&r),
            [Deviation::MissingCode {
                line: "2500 queued".into()
            }]
        );
        // Inside a multi-line reply such a line is one more line of it, as Postfix reads it.
        let r = one(b"250-a\r\n2500 b\r\n250 c\r\n");
        assert_eq!(r.code, Some(250));
        assert_eq!(r.lines, ["a", "2500 b", "c"]);
        // A bad separator ends a multi-line reply rather than waiting.
        let r = one(b"250-a\r\n250_b\r\n");
        assert_eq!(r.lines, ["a", "_b"]);

        let r = one(b"250 caf\xe9\r\n");
        // Shown as the transcript shows the byte, not as U+FFFD.
        assert_eq!(r.lines, ["caf\\xE9"]);
        assert_eq!(kinds(&r), [Deviation::NotUtf8]);
        assert_eq!(r.raw.0, b"250 caf\xe9\r\n");

        let r = one(b"550 2.1.0 what\r\n");
        assert_eq!(
            kinds(&r),
            [Deviation::EnhancedClassMismatch {
                code: 550,
                enhanced: "2.1.0".into()
            }]
        );
        assert!(r.is_permanent());

        let long = [b"250 ".to_vec(), vec![b'a'; 600], b"\r\n".to_vec()].concat();
        let r = one(&long);
        assert_eq!(kinds(&r), [Deviation::LongReplyLine { len: 606 }]);
        assert_eq!(r.lines[0].len(), 600);
        assert_eq!(r.raw.0, long);
    }

    #[test]
    fn a_multi_line_reply_is_judged_by_its_last_line() {
        // RFC 5321 §4.2.1 wants one code per reply; when a server breaks that, the last line
        // is the verdict (Postfix's smtp_chat and Python's smtplib read it so): a `250-`
        // followed by `550` is a refusal.
        let r = one(b"250-2.1.5 ok\r\n550 5.1.1 user unknown\r\n");
        assert_eq!(r.code, Some(550));
        assert!(r.is_permanent());
        assert_eq!(r.enhanced.map(|e| e.to_string()).as_deref(), Some("5.1.1"));
        assert_eq!(
            r.deviations,
            [Deviation::MixedCodes {
                first: 250,
                found: 550
            }]
        );
        let r = one(b"220-mx.example ESMTP\r\n554 5.7.1 go away\r\n");
        assert_eq!(r.code, Some(554));
        // The last line without an enhanced code: none from another code's line.
        let r = one(b"250-2.1.5 ok\r\n550 user unknown\r\n");
        assert_eq!((r.code, r.enhanced), (Some(550), None));
        // The same code on every line: an enhanced code on the first line only still counts.
        let r = one(b"550-5.7.1 refused\r\n550 see the policy page\r\n");
        assert_eq!(r.enhanced.map(|e| e.to_string()).as_deref(), Some("5.7.1"));
        // Cut by the close: the last line that had a code.
        let r = parse_closed(b"250-a\r\n451-b\r\n", Limits::default());
        assert_eq!(r[0].code, Some(451));
    }

    fn too_large(bytes: usize, lines: usize, unfinished_line: bool, limits: Limits) -> Deviation {
        Deviation::ReplyTooLarge {
            bytes,
            lines,
            unfinished_line,
            max_bytes: limits.max_bytes,
            max_lines: limits.max_lines,
        }
    }

    #[test]
    fn too_many_lines_ends_the_reply_at_the_limit() {
        let limits = Limits {
            max_line: 100,
            max_lines: 3,
            max_bytes: 1 << 20,
        };
        let mut p = ReplyParser::new(limits);
        let mut buf = b"250-1\r\n250-2\r\n250-3\r\n250-4\r\n250-5\r\n250 6\r\n".to_vec();
        let r = p.next_reply(&mut buf).unwrap();
        assert_eq!(r.lines, ["1", "2", "3"]);
        assert_eq!(r.raw.0, b"250-1\r\n250-2\r\n250-3\r\n");
        assert_eq!(r.deviations, [too_large(28, 4, false, limits)]);
        // The cut is where the fourth line ended: the rest is left for the caller (who stops).
        assert_eq!(buf, b"250-5\r\n250 6\r\n");
        assert!(!p.in_progress());
    }

    #[test]
    fn a_never_ending_reply_is_cut_at_the_default_limits() {
        // A hostile server's `250-x` forever: the reply ends after 1000 lines (the default
        // `Limits`) instead of growing without bound.
        let mut p = ReplyParser::default();
        let mut buf = Vec::new();
        let mut replies = Vec::new();
        for _ in 0..200 {
            buf.extend_from_slice(&b"250-x\r\n".repeat(10));
            if let Some(r) = p.next_reply(&mut buf) {
                replies.push(r);
                break;
            }
        }
        let r = &replies[0];
        assert_eq!(r.lines.len(), 1000);
        assert_eq!(
            r.deviations,
            [too_large(7007, 1001, false, Limits::default())]
        );

        // 1000 lines of 7.8 KB: cut by bytes before the line limit.
        let mut p = ReplyParser::default();
        let line = [b"250-".to_vec(), vec![b'x'; 7800], b"\r\n".to_vec()].concat();
        let mut buf = line.repeat(1000);
        let r = p.next_reply(&mut buf).unwrap();
        let kept = (1 << 20) / line.len();
        assert_eq!(r.lines.len(), kept);
        assert!(r.raw.0.len() <= 1 << 20);
        assert_eq!(
            r.deviations,
            [
                Deviation::LongReplyLine { len: line.len() },
                too_large(line.len() * (kept + 1), kept + 1, false, Limits::default())
            ]
        );
    }

    #[test]
    fn a_line_without_end_is_cut_at_the_byte_limit() {
        let limits = Limits {
            max_line: 64,
            max_lines: 10,
            max_bytes: 1000,
        };
        let mut p = ReplyParser::new(limits);
        let mut buf = b"220-ok\r\n".to_vec();
        let mut got = None;
        for _ in 0..100 {
            buf.extend_from_slice(&[b'x'; 100]);
            if let Some(r) = p.next_reply(&mut buf) {
                got = Some(r);
                break;
            }
        }
        let r = got.expect("cut at the byte limit");
        assert_eq!(r.code, Some(220));
        assert_eq!(r.lines, ["ok"]);
        assert_eq!(r.deviations, [too_large(8 + 1000, 2, true, limits)]);
        // Nothing is waiting: the caller decides to stop.
        assert!(buf.is_empty());
    }

    #[test]
    fn overlong_line_is_bounded_without_a_line_end() {
        let limits = Limits {
            max_line: 64,
            max_lines: 10,
            max_bytes: 1 << 20,
        };
        let mut p = ReplyParser::new(limits);
        let mut buf = b"250-".to_vec();
        for _ in 0..100 {
            buf.extend_from_slice(&[b'x'; 1024]);
            assert!(p.next_reply(&mut buf).is_none());
            assert!(buf.is_empty(), "the tail must be discarded, not buffered");
            assert!(p.in_progress());
        }
        buf.extend_from_slice(b"\r\n250 done\r\nNEXT");
        let r = p.next_reply(&mut buf).unwrap();
        assert_eq!(buf, b"NEXT");
        assert_eq!(r.lines.len(), 2);
        assert_eq!(r.lines[0], "x".repeat(60));
        assert_eq!(r.lines[1], "done");
        let mut raw = b"250-".to_vec();
        raw.extend_from_slice(&[b'x'; 60]);
        raw.extend_from_slice(b"\r\n250 done\r\n");
        assert_eq!(r.raw.0, raw);
        assert_eq!(
            r.deviations,
            [Deviation::OverlongLine {
                len: 4 + 102_400 + 2,
                limit: 64
            }]
        );
    }

    #[test]
    fn truncated_at_close() {
        let r = parse_closed(b"250-a\r\n250-b\r\n", Limits::default());
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].lines, ["a", "b"]);
        assert_eq!(r[0].deviations, [Deviation::TruncatedAtClose]);

        let r = parse_closed(b"250 ok\r\n421 bye", Limits::default());
        assert_eq!(r.len(), 2);
        assert!(r[0].deviations.is_empty());
        assert_eq!(r[1].code, Some(421));
        assert_eq!(r[1].raw.0, b"421 bye");
        assert_eq!(r[1].deviations, [Deviation::TruncatedAtClose]);

        assert!(parse_closed(b"", Limits::default()).is_empty());
        let mut p = ReplyParser::default();
        assert!(p.finish(&mut Vec::new()).is_none());

        // Overlong and cut off: the kept head is returned.
        let limits = Limits {
            max_line: 8,
            max_lines: 10,
            max_bytes: 1 << 20,
        };
        let r = parse_closed(b"250 0123456789abcdef\r", limits);
        assert_eq!(r[0].lines, ["0123"]);
        assert_eq!(r[0].raw.0, b"250 0123\r");
        assert_eq!(
            r[0].deviations,
            [
                Deviation::OverlongLine { len: 21, limit: 8 },
                Deviation::TruncatedAtClose
            ]
        );
    }

    /// Summary of a reply for the regression table: code, lines and deviation kinds.
    fn summary(r: &Reply) -> String {
        let code = r.code.map_or("---".to_string(), |c| c.to_string());
        let devs: Vec<String> = r
            .deviations
            .iter()
            .map(|d| {
                let json = serde_json::to_value(d).unwrap();
                json["kind"].as_str().unwrap().to_string()
            })
            .collect();
        format!("{code} {:?} {}", r.lines, devs.join(","))
    }

    /// Parser regressions: when a user reports a parsing failure, add a case here
    /// (name it after the report, with `// See: <url>` when there is one).
    /// Each case: name, bytes received, then one summary per reply (see `summary`).
    const REGRESSIONS: &[(&str, &[u8], &[&str])] = &[
        (
            "postfix ehlo",
            b"250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 SMTPUTF8\r\n",
            &[r#"250 ["mx.example.org", "PIPELINING", "SIZE 10240000", "SMTPUTF8"] "#],
        ),
        (
            "banner with bare LF and trailing space",
            b"220 host ESMTP \n",
            &[r#"220 ["host ESMTP "] bare_lf"#],
        ),
        (
            "html error page from a web server on port 25",
            b"HTTP/1.1 400 Bad Request\r\n\r\n<html>\r\n",
            &[
                r#"--- ["HTTP/1.1 400 Bad Request"] missing_code"#,
                r#"--- [""] missing_code"#,
                r#"--- ["<html>"] missing_code"#,
            ],
        ),
        (
            "empty line between replies",
            b"250 ok\r\n\r\n250 ok\r\n",
            &[
                r#"250 ["ok"] "#,
                r#"--- [""] missing_code"#,
                r#"250 ["ok"] "#,
            ],
        ),
        (
            "two digits only",
            b"25\r\n",
            &[r#"--- ["25"] missing_code"#],
        ),
        (
            "tab separator",
            b"250\tok\r\n",
            &[r#"250 ["\tok"] bad_separator"#],
        ),
        (
            "CR CR LF line end",
            b"250 ok\r\r\n",
            &[r#"250 ["ok\r"] bare_cr"#],
        ),
        (
            "421 after a pipelined 250, closed",
            b"250 ok\r\n421 4.4.2 timeout",
            &[
                r#"250 ["ok"] "#,
                r#"421 ["4.4.2 timeout"] truncated_at_close"#,
            ],
        ),
        (
            "deviations recorded once per reply",
            b"250-a\n250-b\n251-c\n252 d\n",
            &[r#"252 ["a", "b", "c", "d"] bare_lf,mixed_codes"#],
        ),
    ];

    #[test]
    fn parser_regressions() {
        for (name, input, want) in REGRESSIONS {
            let got: Vec<String> = parse_closed(input, Limits::default())
                .iter()
                .map(summary)
                .collect();
            assert_eq!(got, *want, "{name}");
        }
    }

    /// The replies up to the first one cut for size (after a cut the caller stops reading), with
    /// that cut's byte count and unfinished flag cleared: how much had arrived when it was cut
    /// depends on the chunking.
    fn up_to_cut(replies: Vec<Reply>) -> Vec<Reply> {
        let mut out = Vec::new();
        for mut r in replies {
            let mut cut = false;
            for d in &mut r.deviations {
                if let Deviation::ReplyTooLarge {
                    bytes,
                    unfinished_line,
                    ..
                } = d
                {
                    *bytes = 0;
                    *unfinished_line = false;
                    cut = true;
                }
            }
            out.push(r);
            if cut {
                break;
            }
        }
        out
    }

    #[test]
    fn byte_at_a_time_equals_all_at_once() {
        let long = [b"250-".to_vec(), vec![b'y'; 300], b"\r\r\n".to_vec()].concat();
        let mut inputs: Vec<Vec<u8>> = REGRESSIONS.iter().map(|c| c.1.to_vec()).collect();
        inputs.extend([
            b"220-a\r\n220 b\r\n250 c\r\n".to_vec(),
            b"250-a\rb\n250-\xff\r\n550 5.0.0 x\r".to_vec(),
            [
                &long[..],
                b"250-",
                &[b'z'; 99],
                b"\r",
                &[b'z'; 99],
                b"\n250 e",
            ]
            .concat(),
            [b"250 ".to_vec(), vec![b'q'; 97], b"\r\r\r".to_vec()].concat(),
            [b"250 ".to_vec(), vec![b'q'; 96], b"\r\n".to_vec()].concat(),
            [b"250 ".to_vec(), vec![b'q'; 97], b"\r\n".to_vec()].concat(),
        ]);
        for limits in [
            Limits::default(),
            Limits {
                max_line: 100,
                max_lines: 2,
                max_bytes: 1 << 20,
            },
            Limits {
                max_line: 3,
                max_lines: 1,
                max_bytes: 1 << 20,
            },
            Limits {
                max_line: 0,
                max_lines: 0,
                max_bytes: 1 << 20,
            },
            Limits {
                max_line: 100,
                max_lines: 1000,
                max_bytes: 150,
            },
            Limits {
                max_line: 8,
                max_lines: 1000,
                max_bytes: 20,
            },
        ] {
            for input in &inputs {
                let whole = up_to_cut(parse_closed(input, limits));
                for chunk in [1, 2, 3, 7, 64] {
                    assert_eq!(
                        up_to_cut(parse_chunked(input, limits, chunk)),
                        whole,
                        "{limits:?} chunk {chunk}: {:?}",
                        String::from_utf8_lossy(input)
                    );
                }
            }
        }
    }

    #[test]
    fn raw_is_exact_when_nothing_was_discarded() {
        let input = b"220-x\n220-y\rz\r\n220 \xfe\r\n";
        let r = one(input);
        assert_eq!(r.raw.0, input);
        assert_eq!(
            r.deviations,
            [Deviation::BareLf, Deviation::BareCr, Deviation::NotUtf8]
        );
    }
}
