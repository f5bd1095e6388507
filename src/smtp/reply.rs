//! SMTP replies (RFC 5321 §4.2) and their incremental, lenient, bounded parser.
//!
//! TODO(core-codec helper): implement the parser; the types and signatures are the contract.

use serde::Serialize;

use crate::smtp::event::{Bytes, Deviation};

/// An enhanced status code `class.subject.detail` (RFC 3463 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedCode {
    /// 2, 4 or 5.
    pub class: u8,
    /// 0–999 (registry subjects are 0–7).
    pub subject: u16,
    /// 0–999.
    pub detail: u16,
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
    /// The three-digit code of the first line; `None` when the line had no code (garbage).
    pub code: Option<u16>,
    /// The enhanced status code from the start of the first line's text, if present.
    pub enhanced: Option<EnhancedCode>,
    /// Text of each line after `NNN-` / `NNN ` (lossy UTF-8, enhanced code left in place).
    pub lines: Vec<String>,
    /// Exact bytes as received (bounded by the parser limits).
    pub raw: Bytes,
    /// What the parser tolerated while reading this reply.
    pub deviations: Vec<Deviation>,
}

impl Reply {
    /// First digit of the code (2, 3, 4, 5, …), if there is a code.
    pub fn class(&self) -> Option<u8> {
        self.code.map(|c| (c / 100) as u8)
    }
    /// 2xx.
    pub fn is_positive(&self) -> bool {
        self.class() == Some(2)
    }
    /// 3xx.
    pub fn is_intermediate(&self) -> bool {
        self.class() == Some(3)
    }
    /// 4xx.
    pub fn is_transient(&self) -> bool {
        self.class() == Some(4)
    }
    /// 5xx, or no code at all.
    pub fn is_permanent(&self) -> bool {
        !matches!(self.class(), Some(2..=4))
    }
    /// The lines joined with `\n`.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
    /// First line's text, without the enhanced code prefix.
    pub fn first_text(&self) -> &str {
        let first = self.lines.first().map(String::as_str).unwrap_or("");
        match self.enhanced {
            Some(_) => first.split_once(' ').map(|(_, rest)| rest).unwrap_or(first),
            None => first,
        }
    }
    /// Build a reply from a code and lines (tests, the embedded server).
    pub fn new(code: u16, lines: &[&str]) -> Reply {
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
pub fn parse_enhanced(text: &str) -> Option<EnhancedCode> {
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
pub struct Limits {
    /// Longest line kept; the rest of a longer line is discarded (a deviation is recorded).
    pub max_line: usize,
    /// Most lines kept in one reply.
    pub max_lines: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 8192,
            max_lines: 1000,
        }
    }
}

/// Incremental reply parser. The caller (the client `Session`) owns the read buffer; the parser
/// drains complete lines from its front and keeps only bounded state of its own.
#[derive(Debug, Default)]
pub struct ReplyParser {
    limits: Limits,
}

impl ReplyParser {
    /// A parser with the given limits.
    pub fn new(limits: Limits) -> Self {
        ReplyParser { limits }
    }

    /// Drain complete lines from the front of `buf`; return a reply once its last line is in.
    /// Call again until it returns `None`. Never holds more than `max_line` bytes of one line.
    pub fn next_reply(&mut self, buf: &mut Vec<u8>) -> Option<Reply> {
        let _ = (buf, self.limits);
        todo!("core-codec helper")
    }

    /// The connection closed: turn whatever is pending (a partial line or an unfinished multi-line
    /// reply) into a reply marked [`Deviation::TruncatedAtClose`], if there is anything.
    pub fn finish(&mut self, buf: &mut Vec<u8>) -> Option<Reply> {
        let _ = buf;
        todo!("core-codec helper")
    }

    /// Is a multi-line reply (or a line) partially read?
    pub fn in_progress(&self) -> bool {
        todo!("core-codec helper")
    }
}
