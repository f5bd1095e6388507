//! Message content for DATA (RFC 5321 §4.1.1.4, §4.5.2): CRLF normalisation, dot-stuffing and the
//! end marker for the client; the incremental end-of-data detector and un-stuffer for the server.
//!
//! Only `CRLF.CRLF` ends the data (§4.1.1.4). A bare LF or bare CR is content, never a line end,
//! on the server side: treating `\n.\n` as the end is exactly what SMTP smuggling exploits, so the
//! reader reports such bytes instead of acting on them.

/// Which fix-ups to apply to user-supplied content (swaks's order: strip a trailing `CRLF.CRLF`,
/// double leading dots, LF→CRLF, append `CRLF.CRLF`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fixup {
    /// Remove a leading mbox `From ` line.
    pub(crate) strip_from: bool,
    /// Turn bare LF (and bare CR) into CRLF.
    pub(crate) crlf: bool,
    /// Double a leading dot on each line (§4.5.2).
    pub(crate) dot_stuff: bool,
    /// Make the content end in CRLF and append `.CRLF` (the end-of-data marker).
    pub(crate) end_marker: bool,
    /// With `end_marker`: a final `.` line is the user's own end marker (`--data` text written
    /// as for telnet, as swaks reads it) and is dropped. Off for a message ehlo composed, whose
    /// last line is content (a `--body` ending in a `.` line keeps it, stuffed).
    pub(crate) own_end_marker: bool,
}

impl Default for Fixup {
    fn default() -> Self {
        Fixup::ALL
    }
}

impl Fixup {
    /// Everything on (the default).
    pub(crate) const ALL: Fixup = Fixup {
        strip_from: true,
        crlf: true,
        dot_stuff: true,
        end_marker: true,
        own_end_marker: true,
    };
    /// Nothing: bytes go out exactly as given (`--no-data-fixup`).
    pub(crate) const NONE: Fixup = Fixup {
        strip_from: false,
        crlf: false,
        dot_stuff: false,
        end_marker: false,
        own_end_marker: false,
    };
}

/// Encode message content for the wire after DATA, applying `fixup`. With `Fixup::ALL` the result
/// always ends in `\r\n.\r\n` and contains no bare LF or CR.
///
/// Steps, in swaks's order: drop a leading mbox `From ` line (`strip_from`); drop a user-supplied
/// final `.` line (`end_marker`); then one pass that doubles a dot at the start of every line
/// (`dot_stuff`) while turning bare LF and bare CR into CRLF (`crlf`). The single pass matters:
/// with `crlf` on, `a\n.b` and `a\r.b` put `.b` at the start of a wire line, so it is stuffed
/// too. With `crlf` off only LF ends a line for stuffing purposes. Last, `end_marker` makes the
/// content end in CRLF and appends `.\r\n`. With [`Fixup::NONE`] the bytes are returned unchanged.
pub(crate) fn encode(content: &[u8], fixup: Fixup) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(&mut out, content, fixup);
    out
}

/// [`encode`], appended to `out` (the bytes already there are left as they are).
pub(crate) fn encode_into(out: &mut Vec<u8>, content: &[u8], fixup: Fixup) {
    encode_to(out, content, fixup);
}

/// Where an encoder's bytes go: a `Vec` that keeps them, or a [`Count`] that only counts them
/// (one encoder for both, so a size and the bytes sent can never disagree).
trait Sink {
    fn put(&mut self, bytes: &[u8]);
    fn len(&self) -> usize;
    /// Does what was put so far end in CRLF?
    fn ends_in_crlf(&self) -> bool;
    fn reserve(&mut self, _additional: usize) {}
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn ends_in_crlf(&self) -> bool {
        self.ends_with(b"\r\n")
    }
    fn reserve(&mut self, additional: usize) {
        Vec::reserve(self, additional);
    }
}

/// A [`Sink`] that keeps the length and the last two bytes only.
#[derive(Default)]
struct Count {
    len: usize,
    last: [u8; 2],
}

impl Sink for Count {
    fn put(&mut self, bytes: &[u8]) {
        match bytes {
            [] => {}
            [b] => self.last = [self.last[1], *b],
            [.., a, b] => self.last = [*a, *b],
        }
        self.len += bytes.len();
    }
    fn len(&self) -> usize {
        self.len
    }
    fn ends_in_crlf(&self) -> bool {
        self.len >= 2 && self.last == *b"\r\n"
    }
}

fn encode_to(out: &mut impl Sink, content: &[u8], fixup: Fixup) {
    let start = out.len();
    let mut content = without_from_line(content, fixup);
    if fixup.end_marker && fixup.own_end_marker {
        content = strip_end_marker(content);
    }
    out.reserve(content.len() + content.len() / 32 + 5);
    // Line by line: the bytes between line ends are copied as one run (found with memchr), so a
    // large message costs a few passes of vector code, not a branch and a push per byte.
    let mut rest = content;
    loop {
        if fixup.dot_stuff && rest.first() == Some(&b'.') {
            out.put(b".");
        }
        let end = if fixup.crlf {
            memchr::memchr2(b'\r', b'\n', rest)
        } else {
            memchr::memchr(b'\n', rest)
        };
        let Some(end) = end else {
            out.put(rest);
            break;
        };
        out.put(&rest[..end]);
        let mut next = end + 1;
        if fixup.crlf {
            // CRLF stays one line end; a bare LF or a bare CR becomes one.
            if rest[end] == b'\r' && rest.get(next) == Some(&b'\n') {
                next += 1;
            }
            out.put(b"\r\n");
        } else {
            out.put(b"\n");
        }
        rest = &rest[next..];
        if rest.is_empty() {
            break;
        }
    }
    if fixup.end_marker {
        if out.len() > start && !out.ends_in_crlf() {
            out.put(b"\r\n");
        }
        out.put(b".\r\n");
    }
}

/// The content without its leading mbox `From ` line when the `strip_from` fix-up is on: the
/// bytes that are sent, as far as what they need (SMTPUTF8, 8BITMIME) goes.
pub(crate) fn without_from_line(content: &[u8], fixup: Fixup) -> &[u8] {
    if fixup.strip_from && content.starts_with(b"From ") {
        match content.iter().position(|&b| b == b'\n') {
            Some(i) => &content[i + 1..],
            None => &[],
        }
    } else {
        content
    }
}

/// Encode content for BDAT (RFC 3030 §2): the same fix-ups as [`encode`] except dot-stuffing and
/// the end marker, which BDAT does not use. With the end-marker fix-up on, a user-supplied final
/// `.` line is dropped and the content is made to end in CRLF. With [`Fixup::NONE`] the bytes
/// as given, less the `CRLF . CRLF` end marker such data carries for DATA: under BDAT it is no
/// end marker but a `.` line of the message. This is also the message `--dump-mail` prints.
pub(crate) fn encode_chunked(content: &[u8], fixup: Fixup) -> Vec<u8> {
    let mut out = Vec::new();
    encode_chunked_into(&mut out, content, fixup);
    out
}

/// [`encode_chunked`], appended to `out` (the bytes already there are left as they are).
pub(crate) fn encode_chunked_into(out: &mut Vec<u8>, content: &[u8], fixup: Fixup) {
    encode_chunked_to(out, content, fixup);
}

/// `encode_chunked(content, fixup).len()`, counted without making the bytes: the size a BDAT
/// send announces (RFC 3030 §2) and declares as `SIZE=` (RFC 1870), by the same encoder.
pub(crate) fn encoded_chunked_len(content: &[u8], fixup: Fixup) -> usize {
    let mut count = Count::default();
    encode_chunked_to(&mut count, content, fixup);
    count.len
}

fn encode_chunked_to(out: &mut impl Sink, content: &[u8], fixup: Fixup) {
    if fixup == Fixup::NONE {
        let end = if content.ends_with(b"\r\n.\r\n") {
            content.len() - 3
        } else if content == b".\r\n" {
            0
        } else {
            content.len()
        };
        out.put(&content[..end]);
        return;
    }
    let start = out.len();
    let content = if fixup.end_marker && fixup.own_end_marker {
        strip_end_marker(content)
    } else {
        content
    };
    encode_to(
        out,
        content,
        Fixup {
            dot_stuff: false,
            end_marker: false,
            own_end_marker: false,
            ..fixup
        },
    );
    if fixup.end_marker && out.len() > start && !out.ends_in_crlf() {
        out.put(b"\r\n");
    }
}

/// Remove a final line consisting of a single `.` (with or without its line end), keeping the
/// line end before it: `a\r\n.\r\n` → `a\r\n`, `a\n.` → `a\n`, `.\n` → nothing.
fn strip_end_marker(content: &[u8]) -> &[u8] {
    let body = content
        .strip_suffix(b"\r\n")
        .or_else(|| content.strip_suffix(b"\n"))
        .or_else(|| content.strip_suffix(b"\r"))
        .unwrap_or(content);
    match body.strip_suffix(b".") {
        Some(before) if before.is_empty() || before.ends_with(b"\n") || before.ends_with(b"\r") => {
            before
        }
        _ => content,
    }
}

/// Longest line RFC 5322 §2.1.1 allows, without its CRLF (RFC 5321 §4.5.3.1.6: 1000 with it).
pub(crate) const MAX_LINE: usize = 998;

/// A warning when lines of the content, as they will go out (a bare CR ends a line under the
/// CRLF fix-up), are longer than [`MAX_LINE`]: servers may refuse the message and relays split
/// such lines (Postfix's `smtp_line_length_limit` folds them). `None` when none is.
pub(crate) fn long_lines(content: &[u8], fixup: Fixup) -> Option<String> {
    let content = without_from_line(content, fixup);
    let (mut count, mut first) = (0, None);
    let mut line = 1;
    let mut rest = content;
    loop {
        // This line's length and where the next one starts (`None`: this was the last).
        let mut from = 0;
        let (len, next) = loop {
            let Some(k) = memchr::memchr2(b'\r', b'\n', &rest[from..]) else {
                break (rest.len(), None);
            };
            let k = from + k;
            if rest[k] == b'\n' {
                break (k, Some(k + 1));
            } else if rest.get(k + 1) == Some(&b'\n') {
                break (k, Some(k + 2));
            } else if fixup.crlf {
                break (k, Some(k + 1));
            }
            from = k + 1;
        };
        if len > MAX_LINE {
            count += 1;
            first.get_or_insert((line, len));
        }
        let Some(next) = next else { break };
        rest = &rest[next..];
        line += 1;
    }
    let (at, len) = first?;
    let more = match count {
        1 => String::new(),
        n => format!(" ({n} such lines in all)"),
    };
    Some(format!(
        "line {at} of the message is {len} octets, over the {MAX_LINE} RFC 5322 §2.1.1 allows{more}: \
         a server may refuse the message, a relay split the line"
    ))
}

/// Number of lines in wire-encoded content (for "N lines sent"): every LF ends a line, and
/// trailing bytes without one count as a line. The final `.` line is included.
pub(crate) fn count_lines(wire: &[u8]) -> usize {
    let ends = memchr::memchr_iter(b'\n', wire).count();
    ends + usize::from(!wire.is_empty() && !wire.ends_with(b"\n"))
}

/// The RFC 1870 SIZE of content sent line by line as it is typed (the REPL's lines after
/// DATA, which go out as typed and cannot be held back). RFC 1870 §4 counts the message the
/// server will keep: every line with its CRLF, but neither the final `.` line nor a leading
/// transparency dot, which the server removes (RFC 5321 §4.5.2) — so `..x` counts as `.x`.
/// Tells once per message when the size passes the limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SizeWatch {
    /// Octets of the message so far.
    size: usize,
    /// The limit was already reported for this message.
    told: bool,
}

impl SizeWatch {
    /// `line` (without its line end) was sent as content. Returns the size so far the first
    /// time it passes `limit` (the server's advertised SIZE; `None` or 0: no fixed limit). The
    /// final `.` line ends the message: the next line starts a new one.
    pub(crate) fn line(&mut self, line: &str, limit: Option<u64>) -> Option<usize> {
        if line == "." {
            self.reset();
            return None;
        }
        let kept = line.strip_prefix('.').unwrap_or(line);
        self.size = self.size.saturating_add(kept.len() + 2);
        let over = limit.is_some_and(|l| l > 0 && self.size as u64 > l);
        (over && !std::mem::replace(&mut self.told, true)).then_some(self.size)
    }

    /// Start over (a line outside DATA: the message, if any, is over).
    pub(crate) fn reset(&mut self) {
        *self = SizeWatch::default();
    }
}

/// Where the reader is within the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum LineState {
    /// Right after CRLF (or at the start of the data).
    #[default]
    Start,
    /// Inside a line.
    Middle,
    /// A CR was read; the next byte decides between CRLF and a bare CR.
    Cr,
    /// A `.` at the start of a line.
    Dot,
    /// `.` CR at the start of a line: LF now means end of data.
    DotCr,
}

/// Default content bound of [`DataReader::default`]: 64 MiB.
pub(crate) const DEFAULT_MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// Server side: an incremental reader of DATA content that finds the `CRLF.CRLF` end marker and
/// removes dot-stuffing, with a size bound.
///
/// Bytes may arrive in any split (one at a time, the marker across two reads). The reader keeps
/// a constant-size state plus the un-stuffed content not yet taken: a caller that streams the
/// content ([`DataReader::take`] after every [`DataReader::feed`]) holds no more than one read's
/// worth, one that never takes holds at most `max` bytes. After [`DataProgress::Done`] it is
/// reset and ready for the next message.
#[derive(Debug)]
pub(crate) struct DataReader {
    max: usize,
    /// Un-stuffed content not yet taken.
    message: Vec<u8>,
    /// Content bytes kept so far (taken or not), at most `max`.
    kept: usize,
    state: LineState,
    bare_newlines: bool,
    too_big: bool,
    /// A bare LF ends a line (`ehlo serve --quirk bare-lf-dot`: the SMTP smuggling bug).
    lf_ends_lines: bool,
}

impl Default for DataReader {
    fn default() -> Self {
        DataReader::new(DEFAULT_MAX_MESSAGE)
    }
}

/// What [`DataReader::feed`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DataProgress {
    /// More content is needed.
    More,
    /// The end marker was found; `rest` are the bytes after it (pipelined commands).
    Done {
        /// The un-stuffed message content (without the final `.` line) not yet taken with
        /// [`DataReader::take`]: all of it when nothing was taken.
        message: Vec<u8>,
        /// Bytes after the end marker.
        rest: Vec<u8>,
        /// Did the content contain a bare LF or bare CR (smuggling evidence)?
        bare_newlines: bool,
        /// Content beyond the size limit was discarded (the reader stayed bounded).
        too_big: bool,
    },
}

impl DataReader {
    /// A reader keeping at most `max` bytes of content.
    pub(crate) fn new(max: usize) -> Self {
        DataReader {
            max,
            message: Vec::new(),
            kept: 0,
            state: LineState::Start,
            bare_newlines: false,
            too_big: false,
            lf_ends_lines: false,
        }
    }

    /// A reader where a bare LF ends a line, so `<LF>.<LF>` and `<LF>.<CR><LF>` end the content:
    /// how Postfix behaved before `smtpd_forbid_bare_newline` (CVE-2023-51764). Only for
    /// `ehlo serve --quirk bare-lf-dot`, which emulates a vulnerable server.
    pub(crate) fn with_bare_lf_lines(max: usize) -> Self {
        DataReader {
            lf_ends_lines: true,
            ..DataReader::new(max)
        }
    }

    /// Content bytes kept so far (un-stuffed, taken or not; at most `max`).
    pub(crate) fn len(&self) -> usize {
        self.kept
    }

    /// The un-stuffed content read since the last call, so it can be stored as it arrives
    /// (then the reader holds none of it).
    pub(crate) fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.message)
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = self.max.saturating_sub(self.kept);
        if bytes.len() > room {
            self.too_big = true;
        }
        let n = bytes.len().min(room);
        self.message.extend_from_slice(&bytes[..n]);
        self.kept += n;
    }

    /// Feed bytes read from the socket.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> DataProgress {
        // One allocation for what this read can add, not one growth step after another as its
        // lines are kept (a 1 KB message of short lines grew its buffer eight times).
        self.message
            .reserve(bytes.len().min(self.max.saturating_sub(self.kept)));
        let mut i = 0;
        while i < bytes.len() {
            // Inside a line (or at the start of one that does not begin with a dot) every byte
            // up to the next CR or LF is content as it is: keep the run in one piece rather
            // than a byte at a time, which cost about a hundred instructions per byte of every
            // message `ehlo serve` received (measured with callgrind).
            if self.state == LineState::Middle
                || (self.state == LineState::Start && bytes[i] != b'.')
            {
                // memchr2 scans a word (or a vector) at a time: a byte-by-byte search was
                // the largest single cost of a 1 KB message in `ehlo serve` (callgrind).
                let run = memchr::memchr2(b'\r', b'\n', &bytes[i..]).unwrap_or(bytes.len() - i);
                if run > 0 {
                    self.keep(&bytes[i..i + run]);
                    i += run;
                    self.state = LineState::Middle;
                    continue;
                }
            }
            let b = bytes[i];
            i += 1;
            self.state = match (self.state, b) {
                (LineState::DotCr, b'\n') => {
                    let done = DataProgress::Done {
                        message: std::mem::take(&mut self.message),
                        rest: bytes[i..].to_vec(),
                        bare_newlines: self.bare_newlines,
                        too_big: self.too_big,
                    };
                    *self = DataReader {
                        lf_ends_lines: self.lf_ends_lines,
                        ..DataReader::new(self.max)
                    };
                    return done;
                }
                (LineState::Dot, b'\n') if self.lf_ends_lines => {
                    let done = DataProgress::Done {
                        message: std::mem::take(&mut self.message),
                        rest: bytes[i..].to_vec(),
                        bare_newlines: true,
                        too_big: self.too_big,
                    };
                    *self = DataReader::with_bare_lf_lines(self.max);
                    return done;
                }
                (LineState::Start, b'.') => LineState::Dot,
                // `..x` → `.x`: the first dot is stuffing (§4.5.2).
                (LineState::Dot, b'.') => {
                    self.keep(b".");
                    LineState::Middle
                }
                (LineState::Dot, b'\r') => LineState::DotCr,
                // After `.` CR, a byte other than LF makes that CR a bare CR, exactly as after
                // any CR (the dot is deleted, as below).
                (LineState::DotCr | LineState::Cr, _) => self.after_cr(b),
                // A lone leading dot followed by more text: §4.5.2 says delete the dot, so the
                // byte is handled as if the dot had never been there.
                (LineState::Dot | LineState::Start | LineState::Middle, _) => self.middle(b),
            };
        }
        DataProgress::More
    }

    /// A byte inside a line (or at its start, when it is not a dot).
    fn middle(&mut self, b: u8) -> LineState {
        match b {
            b'\r' => LineState::Cr,
            b'\n' if self.lf_ends_lines => {
                self.bare_newlines = true;
                self.keep(b"\n");
                LineState::Start
            }
            b'\n' => {
                // Bare LF: content, never a line end here (smuggling defence).
                self.bare_newlines = true;
                self.keep(b"\n");
                LineState::Middle
            }
            _ => {
                self.keep(&[b]);
                LineState::Middle
            }
        }
    }

    /// The byte after a CR.
    fn after_cr(&mut self, b: u8) -> LineState {
        if b == b'\n' {
            self.keep(b"\r\n");
            LineState::Start
        } else {
            self.bare_newlines = true;
            self.keep(b"\r");
            self.middle(b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string over `alphabet` up to `max` bytes long.
    fn all_strings(alphabet: &[u8], max: usize) -> Vec<Vec<u8>> {
        let mut all = vec![Vec::new()];
        let mut last = vec![Vec::new()];
        for _ in 0..max {
            last = last
                .iter()
                .flat_map(|s: &Vec<u8>| {
                    alphabet.iter().map(move |&b| {
                        let mut t = s.clone();
                        t.push(b);
                        t
                    })
                })
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    /// Every combination of the fix-ups.
    fn all_fixups() -> Vec<Fixup> {
        (0..32u8)
            .map(|m| Fixup {
                strip_from: m & 1 != 0,
                crlf: m & 2 != 0,
                dot_stuff: m & 4 != 0,
                end_marker: m & 8 != 0,
                own_end_marker: m & 16 != 0,
            })
            .collect()
    }

    /// The byte-at-a-time statement of the line loop of [`encode_into`], the reference the
    /// run-copying one must match.
    fn encode_lines_bytewise(content: &[u8], fixup: Fixup) -> Vec<u8> {
        let mut out = Vec::new();
        let mut at_line_start = true;
        let mut i = 0;
        while i < content.len() {
            let b = content[i];
            if at_line_start && fixup.dot_stuff && b == b'.' {
                out.push(b'.');
            }
            at_line_start = false;
            match b {
                b'\r' if fixup.crlf => {
                    if content.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    out.extend_from_slice(b"\r\n");
                    at_line_start = true;
                }
                b'\n' => {
                    out.extend_from_slice(if fixup.crlf { b"\r\n" } else { b"\n" });
                    at_line_start = true;
                }
                _ => out.push(b),
            }
            i += 1;
        }
        out
    }

    #[test]
    fn encoding_by_runs_matches_the_byte_by_byte_rule() {
        for content in all_strings(b"a.\r\n", 6) {
            for fixup in all_fixups() {
                let lines_only = Fixup {
                    strip_from: false,
                    end_marker: false,
                    ..fixup
                };
                assert_eq!(
                    encode(&content, lines_only),
                    encode_lines_bytewise(&content, lines_only),
                    "{content:?} {fixup:?}"
                );
            }
        }
    }

    /// The count a BDAT line and `SIZE=` announce is the length of the bytes then sent, for
    /// every short string of the bytes that matter and every fix-up (and with `From ` lines).
    #[test]
    fn chunked_length_is_counted_without_encoding_and_agrees() {
        for content in all_strings(b"a.\r\n", 6) {
            for fixup in all_fixups() {
                let mut from = b"From x\n".to_vec();
                from.extend_from_slice(&content);
                for c in [&content, &from] {
                    assert_eq!(
                        encoded_chunked_len(c, fixup),
                        encode_chunked(c, fixup).len(),
                        "{c:?} {fixup:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn size_watch_counts_the_message_the_server_keeps() {
        let mut w = SizeWatch::default();
        // 3 + 2, then `..` is one dot kept + CRLF: 3 octets, 8 in all.
        assert_eq!(w.line("abc", Some(8)), None);
        assert_eq!(w.line("..", Some(8)), None);
        // 8 + 2 passes 8: told once, with the size so far.
        assert_eq!(w.line("", Some(8)), Some(10));
        assert_eq!(w.line("more", Some(8)), None);
        // The final dot ends the message; the next one counts from zero.
        assert_eq!(w.line(".", Some(8)), None);
        assert_eq!(w.line("1234567", Some(8)), Some(9));
        // No limit, or SIZE 0 (no fixed limit): never told.
        w.reset();
        assert_eq!(w.line(&"x".repeat(100), None), None);
        assert_eq!(w.line(&"x".repeat(100), Some(0)), None);
        // The size agrees with the client session's count of the message the server keeps
        // (`.hidden` and `..two` arrive as `hidden` and `.two`).
        let mut w = SizeWatch::default();
        let lines = ["Subject: x", "", ".hidden", "..two", "end"];
        let mut told = None;
        for l in lines {
            told = told.or(w.line(l, Some(1)));
        }
        assert_eq!(told, Some("Subject: x\r\n".len()));
        let content = "Subject: x\n\nhidden\n.two\nend\n";
        let wire = encode_chunked(content.as_bytes(), Fixup::ALL).len();
        assert_eq!(w.size, wire);
    }

    #[test]
    fn bare_lf_line_quirk_ends_at_lf_dot_lf_and_strict_reader_does_not() {
        for (wire, rest) in [
            (&b"a\n.\nMAIL"[..], &b"MAIL"[..]),
            (b"a\n.\r\nMAIL", b"MAIL"),
            (b"a\r\n.\nMAIL", b"MAIL"),
        ] {
            let mut r = DataReader::with_bare_lf_lines(1000);
            match r.feed(wire) {
                DataProgress::Done { rest: got, .. } => assert_eq!(got, rest, "{wire:?}"),
                DataProgress::More => panic!("{wire:?} did not end the quirky reader"),
            }
            let mut strict = DataReader::new(1000);
            assert_eq!(strict.feed(wire), DataProgress::More, "{wire:?}");
        }
        // CR alone is no line end, even for the quirk (Postfix never took it as one).
        let mut r = DataReader::with_bare_lf_lines(1000);
        assert_eq!(r.feed(b"a\r.\rMAIL"), DataProgress::More);
    }

    fn all(content: &[u8]) -> Vec<u8> {
        encode(content, Fixup::ALL)
    }

    fn feed_all(reader: &mut DataReader, wire: &[u8]) -> DataProgress {
        reader.feed(wire)
    }

    fn feed_bytewise(reader: &mut DataReader, wire: &[u8]) -> (DataProgress, usize) {
        for (i, b) in wire.iter().enumerate() {
            if let done @ DataProgress::Done { .. } = reader.feed(std::slice::from_ref(b)) {
                return (done, i + 1);
            }
        }
        (DataProgress::More, wire.len())
    }

    fn done(message: &[u8], rest: &[u8], bare: bool, too_big: bool) -> DataProgress {
        DataProgress::Done {
            message: message.to_vec(),
            rest: rest.to_vec(),
            bare_newlines: bare,
            too_big,
        }
    }

    /// What `--dump-mail` prints and BDAT sends: the wire form without stuffing; with
    /// `--no-data-fixup` the bytes as given less their `CRLF . CRLF` end marker (BDAT sent it
    /// as a last `.` line of the message).
    #[test]
    fn chunked_is_the_wire_form_without_stuffing() {
        let msg = b"From x@y Mon\nSubject: a\n\n.dot\nbare\rcr\n";
        assert_eq!(
            encode_chunked(msg, Fixup::ALL),
            b"Subject: a\r\n\r\n.dot\r\nbare\r\ncr\r\n".to_vec()
        );
        assert_eq!(
            encode_chunked(b"Subject: a\r\n\r\nb\n.\r\n", Fixup::NONE),
            b"Subject: a\r\n\r\nb\n.\r\n".to_vec()
        );
        assert_eq!(
            encode_chunked(b"Subject: a\r\n\r\nb\r\n.\r\n", Fixup::NONE),
            b"Subject: a\r\n\r\nb\r\n".to_vec()
        );
        assert_eq!(encode_chunked(b".\r\n", Fixup::NONE), b"".to_vec());
        assert_eq!(encode_chunked(b"a\r\n", Fixup::NONE), b"a\r\n".to_vec());
    }

    /// Lines over 998 octets are named, as they go out: a bare CR ends a line under the
    /// CRLF fix-up only; the first such line is given with the count.
    #[test]
    fn long_lines_are_counted_as_sent() {
        let long = "x".repeat(999);
        let ok = "y".repeat(998);
        assert_eq!(
            long_lines(format!("{ok}\n{ok}").as_bytes(), Fixup::ALL),
            None
        );
        assert_eq!(long_lines(b"", Fixup::ALL), None);
        let w = long_lines(format!("a\r\n{long}\r\nb\n{long}").as_bytes(), Fixup::ALL).unwrap();
        assert!(
            w.starts_with(
                "line 2 of the message is 999 octets, over the 998 RFC 5322 §2.1.1 allows \
                 (2 such lines in all): a server"
            ),
            "{w}"
        );
        let one = long_lines(format!("{long}\n").as_bytes(), Fixup::ALL).unwrap();
        assert!(
            one.starts_with(
                "line 1 of the message is 999 octets, over the 998 RFC 5322 §2.1.1 allows: \
                 a server may refuse the message, a relay split the line"
            ),
            "{one}"
        );
        // A bare CR splits the line on the wire unless the CRLF fix-up is off.
        let split = format!("{}\r{}", "x".repeat(600), "x".repeat(600));
        assert_eq!(long_lines(split.as_bytes(), Fixup::ALL), None);
        let kept = Fixup {
            crlf: false,
            ..Fixup::ALL
        };
        assert!(long_lines(split.as_bytes(), kept).is_some());
        // The mbox From line that is stripped does not count.
        let from = format!("From {long}\nSubject: x\n");
        assert_eq!(long_lines(from.as_bytes(), Fixup::ALL), None);
    }

    #[test]
    fn encode_fixups() {
        assert_eq!(all(b"a\n.b\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(all(b"a\r.b"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(all(b".x\r\n..y\r\n"), b"..x\r\n...y\r\n.\r\n");
        assert_eq!(all(b"a\r\nb"), b"a\r\nb\r\n.\r\n");
        assert_eq!(all(b""), b".\r\n");
        assert_eq!(all(b"\n"), b"\r\n.\r\n");
        assert_eq!(all(b"a\n\n\nb\r\r\n"), b"a\r\n\r\n\r\nb\r\n\r\n.\r\n");
        // A user-supplied end marker in any spelling is not doubled.
        for input in [
            &b"a\r\n.\r\n"[..],
            b"a\n.\n",
            b"a\n.",
            b"a\r\n.\n",
            b"a\r.\r",
        ] {
            assert_eq!(all(input), b"a\r\n.\r\n", "{input:?}");
        }
        assert_eq!(all(b"."), b".\r\n");
        assert_eq!(all(b".\r\n"), b".\r\n");
        // Only a final lone-dot line is an end marker.
        assert_eq!(all(b"a."), b"a.\r\n.\r\n");
        assert_eq!(all(b"a\n.\nb"), b"a\r\n..\r\nb\r\n.\r\n");
        // mbox From_ line.
        assert_eq!(
            all(b"From x@y Mon Jan  1\nSubject: s\n\nb"),
            b"Subject: s\r\n\r\nb\r\n.\r\n"
        );
        assert_eq!(all(b"From x@y"), b".\r\n");
        assert_eq!(all(b"From: x@y\n"), b"From: x@y\r\n.\r\n");
    }

    #[test]
    fn encode_granular_and_raw() {
        let raw = b"From x\n.a\nb\rc\n.\n";
        assert_eq!(encode(raw, Fixup::NONE), raw);
        let only_stuff = Fixup {
            dot_stuff: true,
            ..Fixup::NONE
        };
        assert_eq!(
            encode(b".a\r\n.b\n.c\r.d", only_stuff),
            b"..a\r\n..b\n..c\r.d"
        );
        let no_crlf = Fixup {
            crlf: false,
            ..Fixup::ALL
        };
        assert_eq!(encode(b"a\nb", no_crlf), b"a\nb\r\n.\r\n");
        let no_from = Fixup {
            strip_from: false,
            ..Fixup::ALL
        };
        assert_eq!(encode(b"From x\n", no_from), b"From x\r\n.\r\n");
    }

    #[test]
    fn a_final_dot_line_is_content_unless_it_is_the_users_own_marker() {
        let composed = Fixup {
            own_end_marker: false,
            ..Fixup::ALL
        };
        assert_eq!(encode(b"hello\n.", composed), b"hello\r\n..\r\n.\r\n");
        assert_eq!(encode(b"hello\n.\n", composed), b"hello\r\n..\r\n.\r\n");
        assert_eq!(encode_chunked(b"hello\n.", composed), b"hello\r\n.\r\n");
        assert_eq!(encode(b"hello\n.", Fixup::ALL), b"hello\r\n.\r\n");
        assert_eq!(encode_chunked(b"hello\n.", Fixup::ALL), b"hello\r\n");
    }

    #[test]
    fn encode_every_switch_combination() {
        // The CLI's switches (--no-strip-from, --no-crlf-fixup, --no-dot-stuffing) keep the end
        // marker; each combination still ends the data properly and does only what is left on.
        let input = b"From x\n.a\nb\r.c\n";
        for bits in 0..8u8 {
            let f = Fixup {
                strip_from: bits & 1 != 0,
                crlf: bits & 2 != 0,
                dot_stuff: bits & 4 != 0,
                end_marker: true,
                own_end_marker: true,
            };
            let out = encode(input, f);
            assert!(out.ends_with(b"\r\n.\r\n"), "{f:?}: {out:?}");
            let body = &out[..out.len() - 3];
            assert_eq!(body.starts_with(b"From x"), !f.strip_from, "{f:?}");
            assert_eq!(contains(body, b"..a"), f.dot_stuff, "{f:?}: {out:?}");
            // A dot after a bare CR starts a wire line only when CR becomes CRLF.
            assert_eq!(
                contains(body, b"..c"),
                f.dot_stuff && f.crlf,
                "{f:?}: {out:?}"
            );
            let bare = body.iter().enumerate().any(|(i, &b)| {
                (b == b'\n' && (i == 0 || body[i - 1] != b'\r'))
                    || (b == b'\r' && body.get(i + 1) != Some(&b'\n'))
            });
            assert_eq!(bare, !f.crlf, "{f:?}: {out:?}");
        }
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn counts_lines() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b".\r\n"), 1);
        assert_eq!(count_lines(b"a\r\nb\r\n.\r\n"), 3);
        assert_eq!(count_lines(b"a\r\nb"), 2);
    }

    #[test]
    fn reader_finds_marker_and_unstuffs() {
        let mut r = DataReader::new(1000);
        assert_eq!(
            feed_all(&mut r, b"a\r\n..b\r\n.\r\nQUIT\r\n"),
            done(b"a\r\n.b\r\n", b"QUIT\r\n", false, false)
        );
        // Reset after Done: the next message is read from scratch.
        assert_eq!(feed_all(&mut r, b".\r\n"), done(b"", b"", false, false));
        assert_eq!(feed_all(&mut r, b"x\r\n"), DataProgress::More);
        assert_eq!(r.len(), 3);
        assert_eq!(feed_all(&mut r, b".\r"), DataProgress::More);
        assert_eq!(feed_all(&mut r, b"\n"), done(b"x\r\n", b"", false, false));
    }

    #[test]
    fn reader_marker_split_byte_at_a_time() {
        let wire = b"Subject: x\r\n\r\n..\r\n.\r\nRSET\r\n";
        let mut r = DataReader::new(1000);
        let (res, used) = feed_bytewise(&mut r, wire);
        assert_eq!(res, done(b"Subject: x\r\n\r\n.\r\n", b"", false, false));
        assert_eq!(&wire[used..], b"RSET\r\n");
    }

    #[test]
    fn reader_bare_newlines_are_content_not_markers() {
        let mut r = DataReader::new(1000);
        assert_eq!(feed_all(&mut r, b"a\n.\nb\r.\rc\r\n"), DataProgress::More);
        assert_eq!(
            feed_all(&mut r, b".\r\n"),
            done(b"a\n.\nb\r.\rc\r\n", b"", true, false)
        );
        // `\r\n.\n` and `\n.\r\n` are not the end either.
        let mut r = DataReader::new(1000);
        assert_eq!(feed_all(&mut r, b"a\r\n.\nb\n.\r\nc"), DataProgress::More);
        assert_eq!(
            feed_all(&mut r, b"\r\n.\r\n"),
            done(b"a\r\n\nb\n.\r\nc\r\n", b"", true, false)
        );
        // `.\r` at a line start followed by something other than LF: bare CR, dot deleted.
        let mut r = DataReader::new(1000);
        assert_eq!(
            feed_all(&mut r, b".\rx\r\n.\r\n"),
            done(b"\rx\r\n", b"", true, false)
        );
        let mut r = DataReader::new(1000);
        assert_eq!(
            feed_all(&mut r, b".\r\r\n.\r\n"),
            done(b"\r\r\n", b"", true, false)
        );
    }

    #[test]
    fn reader_stays_bounded() {
        let mut r = DataReader::new(4);
        for _ in 0..1000 {
            assert_eq!(r.feed(b"0123456789\r\n"), DataProgress::More);
        }
        assert_eq!(r.len(), 4);
        assert_eq!(r.feed(b".\r\nNOOP"), done(b"0123", b"NOOP", false, true));
        let mut r = DataReader::new(0);
        assert_eq!(r.feed(b"a\r\n.\r\n"), done(b"", b"", false, true));
    }

    /// Streaming: taking the content after every read leaves the reader holding at most that
    /// read's bytes, the pieces join to the message read at once, and the size bound still
    /// counts everything taken.
    #[test]
    fn reader_content_can_be_taken_as_it_arrives() {
        let wire = all(&b"Subject: s\r\n\r\n.dot\r\nline\r\n".repeat(500));
        let mut at_once = DataReader::new(1 << 20);
        let DataProgress::Done { message: whole, .. } = at_once.feed(&wire) else {
            panic!("no end marker")
        };
        for size in [1, 2, 7, 64, 1000] {
            let mut r = DataReader::new(1 << 20);
            let mut got = Vec::new();
            let mut end = None;
            for piece in wire.chunks(size) {
                let p = r.feed(piece);
                got.extend(r.take());
                if let DataProgress::Done { message, rest, .. } = p {
                    got.extend(message);
                    end = Some(rest);
                    break;
                }
                assert!(r.message.is_empty());
                assert_eq!(r.len(), got.len());
            }
            assert_eq!(end, Some(Vec::new()), "split {size}");
            assert_eq!(got, whole, "split {size}");
        }
        // The bound counts what was taken, not what is held.
        let mut r = DataReader::new(10);
        assert_eq!(r.feed(b"0123456"), DataProgress::More);
        assert_eq!(r.take(), b"0123456");
        assert_eq!(r.feed(b"789abc\r\n"), DataProgress::More);
        assert_eq!(r.take(), b"789");
        assert_eq!(r.feed(b".\r\n"), done(b"", b"", false, true));
    }

    use crate::smtp::rng::Rng;

    /// Raw wire bytes of every kind (bare CR and LF, dots anywhere, long runs) and a small size
    /// bound: reading in one piece and in random pieces gives what reading a byte at a time
    /// gives, in both line modes, so keeping runs of content whole changes nothing.
    #[test]
    fn property_runs_read_like_single_bytes() {
        let mut rng = Rng::new(0x2545_f491_4f6c_dd1d);
        for case in 0..2000 {
            let mut wire = Vec::new();
            for _ in 0..rng.below(40) {
                match rng.below(6) {
                    0 => wire.extend(std::iter::repeat_n(b'x', rng.below(300))),
                    1 => wire.extend_from_slice(b"\r\n.\r\n"),
                    _ => wire.push(b".\r\nab"[rng.below(5)]),
                }
            }
            let max = [0, 3, 50, 1 << 20][rng.below(4)];
            let lf = rng.below(3) == 0;
            let reader = || {
                if lf {
                    DataReader::with_bare_lf_lines(max)
                } else {
                    DataReader::new(max)
                }
            };
            // Each way of reading: what `feed` returned at the end (the content taken after
            // every read is part of it) and how many bytes were used.
            let read = |pieces: &mut dyn FnMut() -> usize| {
                let mut r = reader();
                let (mut at, mut taken) = (0, Vec::new());
                while at < wire.len() {
                    let end = (at + pieces()).min(wire.len());
                    let p = r.feed(&wire[at..end]);
                    taken.extend(r.take());
                    if let DataProgress::Done {
                        message,
                        rest,
                        bare_newlines,
                        too_big,
                    } = p
                    {
                        taken.extend(message);
                        return (Some((bare_newlines, too_big)), taken, end - rest.len());
                    }
                    at = end;
                }
                (None, taken, wire.len())
            };
            let bytewise = read(&mut || 1);
            assert_eq!(read(&mut || usize::MAX), bytewise, "case {case}: {wire:?}");
            assert_eq!(read(&mut || 1 + rng.below(9)), bytewise, "case {case}");
        }
    }

    fn random_body(rng: &mut Rng) -> Vec<u8> {
        let mut body = Vec::new();
        for _ in 0..rng.below(12) {
            match rng.below(8) {
                0 => body.push(b'.'),
                1 => body.extend_from_slice(b".."),
                2 => {}
                3 => body.extend(std::iter::repeat_n(b'x', 1000 + rng.below(3000))),
                _ => {
                    if rng.below(3) == 0 {
                        body.push(b'.');
                    }
                    for _ in 0..rng.below(20) {
                        body.push(b" .abcXYZ\t=:"[rng.below(11)]);
                    }
                }
            }
            body.extend_from_slice(match rng.below(4) {
                0 => &b"\n"[..],
                1 => b"\r",
                _ => b"\r\n",
            });
        }
        if rng.below(4) == 0 {
            body.truncate(body.len().saturating_sub(1 + rng.below(2)));
        }
        body
    }

    /// What the server should see: the content as lines (any of CRLF, LF, CR ends one), joined
    /// with CRLF, the final line terminated, a user-supplied final lone `.` line dropped.
    /// Written as line splitting so it does not share code with `encode`.
    fn expected(body: &[u8]) -> Vec<u8> {
        let text = String::from_utf8(body.to_vec()).unwrap();
        let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
        let mut lines: Vec<&str> = normalised.split('\n').collect();
        if lines.last() == Some(&"") {
            lines.pop();
        }
        if lines.last() == Some(&".") {
            lines.pop();
        }
        let mut out = Vec::new();
        for l in lines {
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    #[test]
    fn property_encode_then_read_round_trips() {
        let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
        for case in 0..400 {
            let body = random_body(&mut rng);
            let wire = all(&body);
            assert!(
                wire.ends_with(b"\r\n.\r\n") || wire == b".\r\n",
                "case {case}"
            );
            // No bare LF or CR on the wire.
            for (i, &b) in wire.iter().enumerate() {
                match b {
                    b'\r' => assert_eq!(wire.get(i + 1), Some(&b'\n'), "case {case}"),
                    b'\n' => assert_eq!(wire[i - 1], b'\r', "case {case}"),
                    _ => {}
                }
            }
            let want = done(&expected(&body), b"MAIL", false, false);
            let mut piped = wire.clone();
            piped.extend_from_slice(b"MAIL");
            let mut r = DataReader::new(1 << 20);
            assert_eq!(feed_all(&mut r, &piped), want, "case {case}: {body:?}");
            // Random splits give the same answer.
            let mut r = DataReader::new(1 << 20);
            let mut at = 0;
            let got = loop {
                let n = 1 + rng.below(7);
                let end = (at + n).min(piped.len());
                if let d @ DataProgress::Done { .. } = r.feed(&piped[at..end]) {
                    break d;
                }
                at = end;
                assert!(at < piped.len(), "case {case}: marker never found");
            };
            if let DataProgress::Done { message, .. } = got {
                assert_eq!(message, expected(&body), "case {case}");
            }
            let (bytewise, used) = feed_bytewise(&mut DataReader::new(1 << 20), &piped);
            assert_eq!(used, wire.len(), "case {case}");
            assert_eq!(
                bytewise,
                done(&expected(&body), b"", false, false),
                "case {case}"
            );
        }
    }
}
