//! Recorded REPL scripts (`:record FILE`, `ehlo replay FILE`): a line-oriented text format.
//!
//! ```text
//! # comment
//! < 220            reply code(s) of the banner (before the first input)
//! > EHLO me.test   one input line: a typed SMTP line or a meta-command
//! < 250            each reply code that input drew, in order
//! > RCPT TO:<a@b>
//! < 25x 2.1.5      `x` matches any digit; an enhanced code (RFC 3463), when given, is checked too
//! > :data
//! | Subject: hi    content lines of a typed `:data` (dot-stuffing is applied when replayed)
//!                  or the chunk of a typed `BDAT n` (each line with its CRLF, the last one
//!                  without it when its octets end the chunk: sent as the REPL sent them)
//! < 354  # go on   text after ` #` is a comment
//! < 2xx
//! ~ 421            a reply that came unasked while the REPL waited for input (a 421 before a
//!                  close, a reply later than the timeout): replay waits for it, checks it when
//!                  it comes, and says it did not when it does not
//! ```
//!
//! The parser reads a line at a time and keeps nothing but the steps; a script too large to hold
//! parsed (over 16 MiB, or a million steps, replies and content lines: a recording of a long
//! BDAT chunk) is checked whole, then read again a step at a time as it runs, so any recording
//! the REPL writes replays, in memory bounded by its largest step (64 MiB of content, as the
//! REPL holds), and a hostile script costs time linear in its size.
//!
//! Secrets are never written: `:auth MECH user` is recorded without the password (replay reads
//! it from `EHLO_AUTH_PASSWORD` / `EHLO_AUTH_TOKEN`), an AUTH typed by hand or sent by `:raw`
//! is recorded as such an `:auth` step, and the SASL responses that follow it (typed, or in
//! `:raw` bytes) add only their reply codes to it, and the user the first one names (`AUTH
//! LOGIN` or `AUTH PLAIN` without an initial response; the user is no secret).

use std::io::Write;
use std::path::{Path, PathBuf};

/// The script format and the exit codes (`ehlo replay --help`, the man page).
pub(crate) const FORMAT: &str = "\
Script format (what :record writes; scripts may also be written by hand):
  # comment
  < 220               a reply code of the banner
  > EHLO me.test      an input: an SMTP line or a meta-command, as typed
  < 250               each reply that input draws, in order, one line each
  > RCPT TO:<a@b>
  < 25x 2.1.5         x: any digit (2xx, 25x); an enhanced code, when given, is
                      checked too (2.1.x allowed)
  > :data
  | Subject: hi       content lines of :data (dot-stuffed when sent), or the chunk of a
                      typed BDAT n (as the REPL reads it: each line with its CRLF, the
                      last one without it when its octets end the chunk)
  < 354  # go ahead   text after \" #\" is a comment
  < 2xx
  ~ 421               a reply that came unasked while the REPL waited for input
                      (a 421 before a close, a reply later than the timeout):
                      replay waits up to --timeout (30 s with --timeout 0) for it
                      and checks it when it comes; when it does not, it is not
                      checked (a note says so); a `<` line after a `~` line of the same
                      step (or banner) is refused: no recording writes that order
  # end of recording  the line :record ends a file with: a file it began without it last
                      was cut after a whole line (a warning says steps may be missing);
                      a last line without its newline was cut inside: refused when it
                      is a line to send (`> EHLO me.te`), else a warning
:auth steps read the secret from EHLO_AUTH_PASSWORD / EHLO_AUTH_TOKEN,
--auth-password-file / --auth-token-file, or ask on a terminal; an :auth step without a
user (:auth LOGIN) takes it from EHLO_AUTH_USER (an AUTH LOGIN or AUTH PLAIN typed or sent
by :raw is recorded with the user its first response named, never the password).

Exit status: 0 when every reply matches; otherwise the code of the phase of the first
mismatch (banner 21, EHLO 22, MAIL 23, RCPT 24, DATA 25, end of data 26, QUIT 27,
AUTH 28, STARTTLS 29; 36 for any other command: NOOP, RSET, VRFY, :raw; 6 when the server
had closed), 2 when no connection could be made, 1 for a script that does not parse (the
line is named: a line that is not UTF-8, holds a bare CR or has over 1 MiB to send too,
a `<` after a `~`, a last line to send without its newline, a step with over 64 MiB of
content lines or a million replies), is a pipe of over 16 MiB (a file may be of any size:
it is checked whole, then read again as it runs), runs :replay itself or holds no step and no
reply (empty: it checks nothing), and for a step that fails before sending anything
(:data @FILE unreadable, :send without an envelope, an :auth with no secret to be had,
a meta-command ehlo repl does not take);
128+N when ended by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP, 131 SIGQUIT).
A script writes no file
(:record is refused) and :data @FILE sends only files under the script's own directory
unless --allow-any-file is given (refused otherwise: exit 1, nothing sent). --keep-going runs
every step and ends with a table of every mismatch (line, command, expected, got); --json
prints JSON Lines with one replay_mismatch event per mismatch and a summary last.";

/// Largest script held whole: a FIFO's or a pipe's bytes (read whole, as they cannot be read
/// twice), and a file's steps held parsed; a larger file is read again as it runs ([`load`]).
const MAX_SCRIPT: u64 = 16 * 1024 * 1024;

/// One recorded input and what it drew.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Step {
    /// Line number in the file (for messages).
    pub(crate) lineno: usize,
    /// The input line.
    pub(crate) input: String,
    /// Content lines of a typed `:data` or `BDAT n`.
    pub(crate) body: Body,
    /// The replies expected, in order.
    pub(crate) expect: Vec<Expect>,
}

/// One `< …` line: a reply code, `x` standing for any digit (`2xx`, `25x`), and optionally an
/// enhanced status code (`2.1.5`, `5.7.x`; RFC 3463 §2) that the reply's first line must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expect {
    /// Line number in the file.
    pub(crate) lineno: usize,
    /// The three digits of the code; `None` where the script has `x`.
    pub(crate) code: [Option<u8>; 3],
    /// class, subject, detail; `None` where the script has `x`. Not checked when absent.
    pub(crate) enhanced: Option<[Option<u16>; 3]>,
    /// A `~` line: the reply came unasked, while the REPL waited for input.
    pub(crate) unasked: bool,
}

impl Expect {
    /// An exact code (what a recording writes).
    #[cfg(test)]
    pub(crate) fn code(lineno: usize, code: u16) -> Expect {
        let d = |n: u16| Some((n % 10) as u8);
        Expect {
            lineno,
            code: [d(code / 100), d(code / 10), d(code)],
            enhanced: None,
            unasked: false,
        }
    }

    /// Does a reply with `code` and `enhanced` (from its first line) match?
    pub(crate) fn matches(
        &self,
        code: u16,
        enhanced: Option<crate::smtp::reply::EnhancedCode>,
    ) -> bool {
        let digits = [code / 100, code / 10 % 10, code % 10];
        let code_ok = code < 1000
            && self
                .code
                .iter()
                .zip(digits)
                .all(|(want, got)| want.is_none_or(|w| u16::from(w) == got));
        let enhanced_ok = match (self.enhanced, enhanced) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(want), Some(e)) => want
                .iter()
                .zip([u16::from(e.class), e.subject, e.detail])
                .all(|(w, g)| w.is_none_or(|w| w == g)),
        };
        code_ok && enhanced_ok
    }
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in self.code {
            match d {
                Some(d) => write!(f, "{d}")?,
                None => f.write_str("x")?,
            }
        }
        if let Some(e) = self.enhanced {
            let part = |p: Option<u16>| p.map_or("x".to_string(), |n| n.to_string());
            write!(f, " {}.{}.{}", part(e[0]), part(e[1]), part(e[2]))?;
        }
        Ok(())
    }
}

/// Parse what follows `< `: `CODE [ENHANCED] [# comment]`.
fn parse_expect(lineno: usize, rest: &str) -> Result<Expect, String> {
    // A comment starts at a `#` that begins a word (codes never hold one).
    let body = match rest.find('#') {
        Some(i) if i == 0 || rest[..i].ends_with([' ', '\t']) => &rest[..i],
        _ => rest,
    };
    let mut words = body.split_whitespace();
    let bad_code = || {
        format!(
            "line {lineno}: a reply code is 3 digits, `x` for any digit (250, 25x, 2xx): {}",
            quoted(rest.trim())
        )
    };
    let word = words.next().ok_or_else(bad_code)?;
    let b = word.as_bytes();
    if b.len() != 3
        || !b
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'x' | b'X'))
    {
        return Err(bad_code());
    }
    let mut code = [None; 3];
    for (slot, c) in code.iter_mut().zip(b) {
        *slot = c.is_ascii_digit().then(|| c - b'0');
    }
    if code[0] == Some(0) {
        return Err(bad_code());
    }
    let enhanced = match words.next() {
        None => None,
        Some(w) => Some(parse_enhanced_pattern(w).ok_or_else(|| {
            format!(
                "line {lineno}: after the reply code: an enhanced code (2.1.5, 5.7.x) or `# comment`, not {}",
                quoted(w)
            )
        })?),
    };
    if let Some(w) = words.next() {
        return Err(format!(
            "line {lineno}: unexpected {} after the codes (a comment starts with ` #`)",
            quoted(w)
        ));
    }
    Ok(Expect {
        lineno,
        code,
        enhanced,
        unasked: false,
    })
}

/// Most bytes of a script's line quoted in an error (a bad "line" may be a whole binary file).
const QUOTE_MAX: usize = 200;

/// `text` quoted as Rust debug-quotes it; past [`QUOTE_MAX`] bytes, its start (cut on a
/// character boundary), an ellipsis and the real size.
fn quoted(text: &str) -> String {
    if text.len() <= QUOTE_MAX {
        return format!("{text:?}");
    }
    let end = text.floor_char_boundary(QUOTE_MAX);
    format!(
        "{:?}… ({} in all)",
        &text[..end],
        crate::smtp::event::count_bytes(text.len())
    )
}

/// `class.subject.detail`, each part 1–3 digits or `x` (RFC 3463 §2: class 2, 4 or 5).
fn parse_enhanced_pattern(w: &str) -> Option<[Option<u16>; 3]> {
    let mut out = [None; 3];
    let mut parts = w.split('.');
    for slot in &mut out {
        let p = parts.next()?;
        *slot = if p.eq_ignore_ascii_case("x") {
            None
        } else if (1..=3).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit()) {
            Some(p.parse().ok()?)
        } else {
            return None;
        };
    }
    if parts.next().is_some() || out[0].is_some_and(|c| !matches!(c, 2 | 4 | 5)) {
        return None;
    }
    Some(out)
}

/// A parsed recording.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Script {
    /// Banner replies expected (empty when recording began mid-session: not checked then).
    pub(crate) banner: Vec<Expect>,
    /// Inputs in order: all of them, unless the script was too large to hold them
    /// ([`Script::streamed`]; then none).
    pub(crate) steps: Vec<Step>,
    /// The directory the script was read from ([`load`]): the only one its `:data @FILE`
    /// steps may read from, unless `any_file`.
    pub(crate) dir: Option<PathBuf>,
    /// `ehlo replay --allow-any-file`: `:data @FILE` may read any file.
    pub(crate) any_file: bool,
    /// What [`load`] found doubtful but not fatal (a last line without its newline), said as
    /// warnings before the replay runs.
    pub(crate) warnings: Vec<String>,
    /// A script of more than [`MAX_SCRIPT`] bytes or [`MAX_ITEMS`] steps, replies and content
    /// lines ([`load`]): checked whole, its steps not held but read again, one at a time, as
    /// they run ([`Script::each_step`]).
    pub(crate) streamed: Option<Streamed>,
}

/// Where the steps of a script too large to hold are read again from, and how many there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Streamed {
    source: Source,
    steps: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// A regular file, opened again by its path: it must still be the file checked (device,
    /// inode, size and modification time), or the run stops there.
    File { path: PathBuf, id: FileId },
    /// A FIFO's or a pipe's bytes (at most [`MAX_SCRIPT`]): they cannot be read twice.
    Bytes(std::sync::Arc<[u8]>),
}

/// Device, inode, size and modification time of a script file.
type FileId = (u64, u64, u64, Option<std::time::SystemTime>);

fn file_id(m: &std::fs::Metadata) -> FileId {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino(), m.len(), m.modified().ok())
}

impl Script {
    /// How many steps the script has (held or not).
    pub(crate) fn step_count(&self) -> usize {
        self.streamed.as_ref().map_or(self.steps.len(), |s| s.steps)
    }

    /// The steps in order: the held ones, or those of a [`Streamed`] script read again from
    /// its file, one at a time (one step's content in memory at once). An error (the file
    /// changed or went away since [`load`] checked it) ends the steps.
    pub(crate) fn each_step(&self) -> Box<dyn Iterator<Item = Result<Step, String>> + Send + '_> {
        let Some(streamed) = &self.streamed else {
            return Box::new(self.steps.iter().cloned().map(Ok));
        };
        let reader: Box<dyn std::io::BufRead + Send> = match &streamed.source {
            Source::Bytes(b) => Box::new(std::io::Cursor::new(b.clone())),
            Source::File { path, id } => {
                let again = std::fs::File::open(path).and_then(|f| Ok((f.metadata()?, f)));
                match again {
                    Ok((m, f)) if file_id(&m) == *id => {
                        Box::new(std::io::BufReader::with_capacity(64 * 1024, f))
                    }
                    Ok(_) => {
                        let e = format!(
                            "{} changed after it was checked: the steps after this one are not \
                             run",
                            path.display()
                        );
                        return Box::new(std::iter::once(Err(e)));
                    }
                    Err(e) => {
                        let e = format!("cannot read {} again: {e}", path.display());
                        return Box::new(std::iter::once(Err(e)));
                    }
                }
            }
        };
        let mut lines = ScriptLines::new(reader);
        let mut parser = Parser::default();
        let mut done = false;
        Box::new(std::iter::from_fn(move || {
            if done {
                return None;
            }
            loop {
                let got = match lines.next() {
                    Ok(Some((n, _, line))) => parser.line(n, line),
                    Ok(None) => {
                        done = true;
                        return std::mem::take(&mut parser).finish().1.map(Ok);
                    }
                    Err(e) => Err(e),
                };
                match got {
                    Ok(Some(step)) => return Some(Ok(step)),
                    Ok(None) => {}
                    Err(e) => {
                        done = true;
                        return Some(Err(format!("the script changed after it was checked: {e}")));
                    }
                }
            }
        }))
    }
}

/// Content lines of a typed `:data` or `BDAT n` step, held as one string (the lines joined by
/// LF): a `String` a line cost some 30 bytes more each, ~1 GB for the 32 million empty lines
/// of a 64 MiB chunk, which the REPL records and so replay reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Body {
    text: String,
    lines: usize,
}

impl Body {
    pub(crate) fn push(&mut self, line: &str) {
        if self.lines > 0 {
            self.text.push('\n');
        }
        self.text.push_str(line);
        self.lines += 1;
    }

    /// How many lines.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lines
    }

    /// Bytes held as the REPL counts a typed message: each line with its line end.
    fn held(&self) -> usize {
        self.text.len() + usize::from(self.lines > 0)
    }

    /// The lines, in order.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        let mut rest = (self.lines > 0).then_some(self.text.as_str());
        std::iter::from_fn(move || {
            let r = rest?;
            match r.split_once('\n') {
                Some((line, next)) => {
                    rest = Some(next);
                    Some(line)
                }
                None => {
                    rest = None;
                    Some(r)
                }
            }
        })
    }

    /// The lines, each a `String` made as it is taken ([`super::Feed::Lines`]).
    pub(crate) fn into_lines(self) -> BodyLines {
        BodyLines { body: self, at: 0 }
    }
}

/// The lines of a [`Body`], taken one at a time.
#[derive(Debug, Default)]
pub(crate) struct BodyLines {
    body: Body,
    at: usize,
}

impl Iterator for BodyLines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.body.lines == 0 {
            return None;
        }
        let rest = &self.body.text[self.at..];
        let end = rest.find('\n').unwrap_or(rest.len());
        let line = rest[..end].to_string();
        self.at += end + 1;
        self.body.lines -= 1;
        Some(line)
    }
}

/// Most steps, replies and content lines a script held whole may have. Each is kept parsed
/// (some 80 bytes and more, against 2 bytes for a `>` line), so 16 MiB of them took 680 MB; a
/// script past this, or past [`MAX_SCRIPT`] bytes, is checked whole but its steps are read
/// again as they run instead ([`Streamed`]).
const MAX_ITEMS: usize = 1_000_000;

/// Most replies one step (or the banner) may expect: no step of the REPL's draws more (a
/// `:raw` line of 1 MiB of pipelined `NOOP`s draws some 175 000), and they are held.
const MAX_REPLIES: usize = 1_000_000;

/// Most content a step may hold, each line counted with its line end: what the REPL holds of a
/// typed `:data` message or `BDAT` chunk (64 MiB), so every step it records is read back.
const MAX_BODY: usize = crate::cli::mode::MAX_MESSAGE_BYTES as usize;

/// Parse a recording held in memory, read and judged as [`load`] reads a file (the same line
/// reader, [`check`], and the same refusals: a cut line to send, a script that checks
/// nothing), so the tests and the fuzz target that call this exercise what `ehlo replay` runs.
/// Errors name the line.
pub(crate) fn parse(text: &str) -> Result<Script, String> {
    parse_bytes(text.as_bytes())
}

/// [`parse`] for any bytes (a line that is not UTF-8 is refused by its number, as [`load`]
/// refuses it).
pub(crate) fn parse_bytes(bytes: &[u8]) -> Result<Script, String> {
    let checked = check(bytes)?;
    let (script, cut, unended) = checked.with(Source::Bytes(std::sync::Arc::from(bytes)));
    judged(script, cut, unended, "the script")
}

/// A script read a line at a time ([`parse`], [`load`], [`Script::each_step`]): the banner's
/// replies, and the step being read until the next begins.
#[derive(Default)]
struct Parser {
    banner: Vec<Expect>,
    current: Option<Step>,
    /// The current step is a typed `:data` or `BDAT n` (judged once, not for each content
    /// line: a chunk of two million lines took half a minute to check).
    typed_data: bool,
}

impl Parser {
    /// The banner's replies and the last step.
    fn finish(self) -> (Vec<Expect>, Option<Step>) {
        (self.banner, self.current)
    }

    /// Take line `lineno` (without its LF); returns the step it ended, when it begins the next.
    fn line(&mut self, lineno: usize, line: &str) -> Result<Option<Step>, String> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') {
            return Ok(None);
        }
        // RFC 5321 §2.3.8: a line ends in CRLF only, and a bare CR is what SMTP smuggling is
        // made of. The REPL never sends one from its input (a lone CR ends the line there), and
        // so no recording holds one: a script line with a CR inside was written or edited by
        // hand, and is refused rather than sent (`:raw "\r"` sends one on purpose).
        if let Some(at) = line.find('\r') {
            return Err(format!(
                "line {lineno}: a bare CR inside the line (byte {}); lines end in CRLF only, `:raw \"\\r\"` sends one",
                at + 1
            ));
        }
        // An input (`> …`) or content line (`| …`) longer than the REPL takes from a pipe is
        // none it could have recorded: refused whole, not sent (a line piped into the REPL is
        // cut there; a script is refused instead, as a script cut short would pass).
        if let Some(input) = line
            .strip_prefix('>')
            .or_else(|| line.strip_prefix('|'))
            .map(|rest| rest.strip_prefix(' ').unwrap_or(rest))
            && input.len() > super::editor::PIPED_LINE_MAX
        {
            return Err(format!(
                "line {lineno}: a line of {} to send, longer than the {} MiB `ehlo repl` takes \
                 from a pipe: not a recording (nothing was sent)",
                crate::smtp::event::count_bytes(input.len()),
                super::editor::PIPED_LINE_MAX / (1024 * 1024)
            ));
        }
        let reply = match (line.strip_prefix("< "), line.strip_prefix("~ ")) {
            (Some(rest), _) => Some(parse_expect(lineno, rest)?),
            (None, Some(rest)) => Some(Expect {
                unasked: true,
                ..parse_expect(lineno, rest)?
            }),
            (None, None) => None,
        };
        let owner = |s: Option<&Step>| {
            s.map_or("the banner".to_string(), |s| {
                format!("`> {}` (line {})", s.input.trim(), s.lineno)
            })
        };
        if let Some(expect) = reply {
            // A recording writes the replies a step (or the banner) drew, as `<` lines, when
            // the step ends; `~` lines (replies that came later, unasked) only after them. A
            // `<` after a `~` comes from no recording (`~ 421` then `< 220`: the 421 was
            // checked as the banner): refused. An `:auth` step is the exception: the codes of
            // its SASL responses follow it, and a reply may have come unasked in between.
            let step = self.current.as_ref();
            let before = step.map_or(&self.banner, |s| &s.expect);
            if !expect.unasked
                && let Some(late) = before.iter().find(|e| e.unasked)
                && !step.is_some_and(|s| is_auth(&s.input))
            {
                return Err(format!(
                    "line {lineno}: `< {expect}` after `~ {late}` (line {}) in the replies of {}: \
                     a recording writes the replies drawn (`<`) before any that came unasked \
                     (`~`), so this order comes from no recording (nothing was sent)",
                    late.lineno,
                    owner(step)
                ));
            }
            if before.len() >= MAX_REPLIES {
                return Err(format!(
                    "line {lineno}: more than {} replies to {}: not a recording (nothing was sent)",
                    crate::smtp::event::group_digits(MAX_REPLIES),
                    owner(step)
                ));
            }
            match self.current.as_mut() {
                Some(s) => s.expect.push(expect),
                None => self.banner.push(expect),
            }
            Ok(None)
        } else if let Some(rest) = line.strip_prefix("> ") {
            self.typed_data = is_typed_data(rest);
            Ok(self.current.replace(Step {
                lineno,
                input: rest.to_string(),
                ..Step::default()
            }))
        } else if line == ">" {
            self.typed_data = false;
            Ok(self.current.replace(Step {
                lineno,
                ..Step::default()
            }))
        } else if let Some(rest) = line.strip_prefix('|') {
            let body = rest.strip_prefix(' ').unwrap_or(rest);
            // Content belongs to a typed `:data` (the only step the REPL records it for), before
            // its replies. Under any other step it was dropped unsent, and the step passed.
            match self.current.as_mut() {
                Some(s) if !self.typed_data => Err(format!(
                    "line {lineno}: a content line (`|`) after `> {}` (line {}): content lines \
                     follow a `> :data` or `> BDAT n` step only",
                    s.input.trim(),
                    s.lineno
                )),
                Some(s) if s.expect.is_empty() => {
                    if s.body.held() + body.len() + 1 > MAX_BODY {
                        return Err(format!(
                            "line {lineno}: the content of `> {}` (line {}) is over {} MiB, the \
                             most `ehlo repl` holds of a typed message or chunk: not a recording \
                             (nothing was sent)",
                            s.input.trim(),
                            s.lineno,
                            MAX_BODY / (1024 * 1024)
                        ));
                    }
                    s.body.push(body);
                    Ok(None)
                }
                Some(s) => Err(format!(
                    "line {lineno}: a content line (`|`) after the replies of `> {}` \
                     (line {}): its content lines come before its `<` lines",
                    s.input.trim(),
                    s.lineno
                )),
                None => Err(format!(
                    "line {lineno}: a content line (`|`) before any step: content lines \
                     follow a `> :data` or `> BDAT n` step only"
                )),
            }
        } else {
            Err(format!(
                "line {lineno}: expected `> input`, `< code`, `~ code`, `| content` or `# comment`: {}",
                quoted(line)
            ))
        }
    }
}

/// Is this input an `:auth` step (the codes of its SASL exchange follow it)?
fn is_auth(input: &str) -> bool {
    input
        .split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case(":auth"))
}

/// Is this input a typed `:data` (its content in the script's `|` lines)?
fn is_typed_data(input: &str) -> bool {
    matches!(
        super::meta::parse(input.trim()),
        Ok(super::meta::Meta::Data { file: None })
    ) || matches!(
        crate::smtp::command::Command::parse(input.as_bytes()),
        Ok(crate::smtp::command::Command::Bdat { size, .. }) if size > 0
    )
}

/// How long reading a script may wait for its bytes: a FIFO (`mkfifo`) opens at once and is
/// read as its writer writes, so a FIFO nobody writes, or a writer that stops, would block the
/// run before it connects, past every limit (`open(2)` of a FIFO waits for a writer).
#[derive(Debug, Clone)]
pub(crate) struct ScriptWait {
    /// The longest wait for the next bytes (`--timeout`; zero: none).
    pub(crate) idle: std::time::Duration,
    /// What set `idle`, said in brackets when it ends the reading: `--timeout`, `--timeout, set
    /// by EHLO_TIMEOUT in the environment`, `:set timeout`.
    pub(crate) idle_named: String,
    /// The whole run's `--deadline` and when it ends, the script's reading included.
    pub(crate) deadline: Option<(std::time::Duration, std::time::Instant)>,
    /// Said after `--deadline` when it cuts the reading: where the flag was set when that was
    /// below the command line (` (set by EHLO_DEADLINE in the environment)`), else empty.
    pub(crate) deadline_note: String,
}

/// Read and check a recording file, a line at a time. A FIFO or a pipe holding more than
/// [`MAX_SCRIPT`] bytes is refused, not cut: a script cut short would pass without its last
/// steps. A regular file may be of any size: one over [`MAX_SCRIPT`] bytes or [`MAX_ITEMS`]
/// items is checked whole first (nothing is sent when a line of it is wrong), then its steps
/// are read again as they run ([`Streamed`]), so a recording of a 64 MiB chunk the REPL wrote
/// replays, in memory bounded by its largest step. What is no file of text (a directory, a
/// socket, a device such as `/dev/zero` or a terminal) is refused by its kind, before a byte is
/// read; a FIFO or a pipe is read within `wait`.
pub(crate) fn load(path: &Path, wait: ScriptWait) -> Result<Script, String> {
    let (script, cut, unended) = match open_script(path, wait)? {
        Opened::File(f, id) => {
            let checked = check(std::io::BufReader::with_capacity(64 * 1024, f))?;
            let source = Source::File {
                path: path.to_path_buf(),
                id,
            };
            checked.with(source)
        }
        Opened::Bytes(b) => {
            let checked = check(&b[..])?;
            checked.with(Source::Bytes(std::sync::Arc::from(b)))
        }
    };
    let mut script = judged(script, cut, unended, path.display())?;
    // Resolved now: a relative script path means the directory it was read from.
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    script.dir = std::fs::canonicalize(parent.unwrap_or(Path::new("."))).ok();
    Ok(script)
}

/// What [`load`] and [`parse`] make of a script [`check`]ed whole (`name` says it in an
/// error): its last line `cut` without a newline, and a recording `unended` (without
/// [`END_MARK`]), each refused or warned about; a script with nothing to check refused.
fn judged(
    mut script: Script,
    cut: Option<(usize, String)>,
    unended: Option<usize>,
    name: impl std::fmt::Display,
) -> Result<Script, String> {
    // `:record` ends every line it writes: a file whose last line has no newline was cut (a
    // copy or a disk that filled up) or written by hand. A cut line to send (`> EHLO me.te`,
    // `> QUI`) was sent as it was, a mismatch at best: refused, naming the line. Any other
    // (a reply, a comment) is kept, and a warning says that what followed may be missing.
    if let Some((n, line)) = cut {
        if line.starts_with(['>', '|']) {
            return Err(format!(
                "line {n}: the file ends inside {} (no newline after it): a recording ends every \
                 line, so this one may be cut short; end it with a newline to send it as it is \
                 (nothing was sent)",
                quoted(&line)
            ));
        }
        script.warnings.push(format!(
            "line {n}: the file ends without a newline after {}: a recording ends every line, \
             so it may have been cut there, and the steps after it are missing",
            quoted(&line)
        ));
    } else if let Some(n) = unended {
        script.warnings.push(format!(
            "line {n}: the recording stops here without the `{END_MARK}` line `:record` ends \
             it with: it may have been cut after this line, the steps after it missing (a \
             whole recording made before ehlo wrote that line: add it to say so)"
        ));
    }
    // An empty file (a recording cut to nothing, the wrong file) checks nothing: refused, not
    // passed as "every reply as recorded" (exit 0, a green CI job that tested nothing).
    if script.banner.is_empty() && script.step_count() == 0 {
        return Err(format!(
            "{name} holds no step and no reply (empty, or comments only): it would check \
             nothing (nothing was sent)"
        ));
    }
    Ok(script)
}

/// A whole script read and checked by [`check`].
struct Checked {
    script: Script,
    /// The steps, when too many to hold (`script.steps` is empty then).
    streamed: Option<usize>,
    /// The last line and its number when the file does not end in a newline and the line is
    /// not blank (it was cut inside that line, or written by hand).
    cut: Option<(usize, String)>,
    /// The number of the last line of a file `:record` began (its header comment) that it did
    /// not end ([`END_MARK`] last): the file was cut after that line.
    unended: Option<usize>,
}

impl Checked {
    #[allow(clippy::type_complexity)]
    fn with(mut self, source: Source) -> (Script, Option<(usize, String)>, Option<usize>) {
        self.script.streamed = self.streamed.map(|steps| Streamed { source, steps });
        (self.script, self.cut, self.unended)
    }
}

/// Read a script to its end, a line at a time, checking every line; its steps are kept while
/// the script stays within [`MAX_SCRIPT`] bytes and [`MAX_ITEMS`] steps, replies and content
/// lines, and only counted past that (memory bounded by the largest step).
fn check(r: impl std::io::BufRead) -> Result<Checked, String> {
    let mut lines = ScriptLines::new(r);
    let mut parser = Parser::default();
    let (mut steps, mut count, mut items, mut held) = (Vec::new(), 0usize, 0usize, true);
    // Is the first line that is not blank the header of a recording; the last such line's
    // number, and is it the end mark?
    let (mut recording, mut last) = (None, None);
    let mut cut = None;
    while let Some((n, ended, line)) = lines.next()? {
        let bare = line.strip_suffix('\r').unwrap_or(line).trim_end();
        if !bare.is_empty() {
            recording.get_or_insert_with(|| {
                bare.strip_prefix("# ")
                    .is_some_and(|h| h.starts_with(HEADER))
            });
            last = Some((n, bare == END_MARK));
        }
        if !bare.trim().is_empty() && !bare.starts_with('#') {
            items += 1;
        }
        if !ended {
            let l = line.strip_suffix('\r').unwrap_or(line);
            cut = (!l.trim().is_empty()).then(|| (n, l.to_string()));
        }
        let step = parser.line(n, line).map_err(|e| {
            if ended {
                e
            } else {
                format!("{e} (the file ends inside this line, without a newline: cut short?)")
            }
        })?;
        if let Some(step) = step {
            count += 1;
            if held {
                steps.push(step);
            }
        }
        if held && (items > MAX_ITEMS || lines.read > MAX_SCRIPT) {
            held = false;
            steps = Vec::new();
        }
    }
    let (banner, step) = parser.finish();
    if let Some(step) = step {
        count += 1;
        if held {
            steps.push(step);
        }
    }
    let unended = match (recording, last) {
        (Some(true), Some((n, false))) => Some(n),
        _ => None,
    };
    Ok(Checked {
        script: Script {
            banner,
            steps,
            ..Script::default()
        },
        streamed: (!held).then_some(count),
        cut,
        unended,
    })
}

/// The longest line read from a script: a line to send of [`super::editor::PIPED_LINE_MAX`]
/// with its `> ` and line end (a longer one is refused by its length, read past unheld).
const LINE_READ_MAX: usize = super::editor::PIPED_LINE_MAX + 8;

/// A script's lines as `str::lines` splits them, each read as it is needed and held alone.
struct ScriptLines<R> {
    r: R,
    buf: Vec<u8>,
    lineno: usize,
    /// Bytes read so far.
    read: u64,
}

impl<R: std::io::BufRead> ScriptLines<R> {
    fn new(r: R) -> ScriptLines<R> {
        ScriptLines {
            r,
            buf: Vec::new(),
            lineno: 0,
            read: 0,
        }
    }

    /// The next line: its number, whether a newline ended it (not: the file ended), and the
    /// line without its line end. A line that is not UTF-8 is refused naming the line and the
    /// byte, as the REPL refuses such an input line by its number (a bare "not valid UTF-8"
    /// left the user to search a long recording for it).
    fn next(&mut self) -> Result<Option<(usize, bool, &str)>, String> {
        use std::io::{BufRead, Read};
        self.buf.clear();
        let n = (&mut self.r)
            .take(LINE_READ_MAX as u64)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| format!("cannot read the script: {e}"))?;
        if n == 0 {
            return Ok(None);
        }
        self.lineno += 1;
        self.read += n as u64;
        let lineno = self.lineno;
        let ended = self.buf.last() == Some(&b'\n');
        if !ended && n == LINE_READ_MAX {
            // Read past, counted, not held.
            let mut more = 0usize;
            let mut last = self.buf.last().copied();
            loop {
                let got = self
                    .r
                    .fill_buf()
                    .map_err(|e| format!("cannot read the script: {e}"))?;
                if got.is_empty() {
                    break;
                }
                let (used, end) = match memchr::memchr(b'\n', got) {
                    Some(i) => (i + 1, true),
                    None => (got.len(), false),
                };
                let line_end = if end { used - 1 } else { used };
                if line_end > 0 {
                    last = Some(got[line_end - 1]);
                }
                self.r.consume(used);
                more += line_end;
                if end {
                    break;
                }
            }
            let mut len = n + more - usize::from(last == Some(b'\r'));
            // A line to send is said by what it sends, as the parser says a shorter one.
            let to_send = matches!(self.buf[0], b'>' | b'|');
            if to_send {
                len -= 1 + usize::from(self.buf.get(1) == Some(&b' '));
            }
            return Err(if to_send {
                format!(
                    "line {lineno}: a line of {} to send, longer than the {} MiB `ehlo repl` \
                     takes from a pipe: not a recording (nothing was sent)",
                    crate::smtp::event::count_bytes(len),
                    super::editor::PIPED_LINE_MAX / (1024 * 1024)
                )
            } else {
                format!(
                    "line {lineno}: a line of {}, longer than any `ehlo repl` takes from a \
                     pipe ({} MiB) or writes: not a recording (nothing was sent)",
                    crate::smtp::event::count_bytes(len),
                    super::editor::PIPED_LINE_MAX / (1024 * 1024)
                )
            });
        }
        let text = std::str::from_utf8(&self.buf).map_err(|e| {
            let bad = e.valid_up_to();
            // The file ends inside a character (`é` cut after its first byte): cut short, not
            // written in another encoding.
            if e.error_len().is_none() {
                return format!(
                    "line {lineno}: the file ends inside a UTF-8 character (byte {} of the line, \
                     0x{:02x}): cut short? (nothing was sent)",
                    bad + 1,
                    self.buf[bad]
                );
            }
            format!(
                "line {lineno}: not UTF-8 (byte {} of the line, 0x{:02x})",
                bad + 1,
                self.buf[bad]
            )
        })?;
        let line = match text.strip_suffix('\n') {
            Some(l) => l.strip_suffix('\r').unwrap_or(l),
            None => text,
        };
        Ok(Some((lineno, ended, line)))
    }
}

/// An opened script: a regular file, or the bytes of a FIFO or a pipe.
enum Opened {
    File(std::fs::File, FileId),
    Bytes(Vec<u8>),
}

/// Open the script at `path` ([`load`]) without blocking (`O_NONBLOCK`: a FIFO's `open(2)`
/// would wait for a writer), judged by what the opened file is; a FIFO is read whole, at most
/// [`MAX_SCRIPT`] bytes of it.
fn open_script(path: &Path, wait: ScriptWait) -> Result<Opened, String> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let shown = path.display();
    let not_a_file = |what: &str| {
        format!("{shown} is {what}, not a recording file: nothing to replay (nothing was sent)")
    };
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            // A Unix socket cannot be opened (ENXIO): said as what it is.
            match std::fs::metadata(path) {
                Ok(m) if m.file_type().is_socket() => not_a_file("a socket"),
                _ => format!("cannot read {shown}: {e}"),
            }
        })?;
    let meta = f
        .metadata()
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(not_a_file("a directory"));
    }
    if kind.is_char_device() || kind.is_block_device() {
        // `/dev/zero` read to the size limit, a terminal waited on: a device is no recording.
        // A script on stdin is `/dev/stdin` from a pipe or a file.
        return Err(not_a_file("a device (a terminal, /dev/zero, /dev/null)"));
    }
    if kind.is_fifo() {
        return read_fifo(f, path, wait).map(Opened::Bytes);
    }
    // A regular file is read as it is: its reads never wait.
    Ok(Opened::File(f, file_id(&meta)))
}

/// Why a script over [`MAX_SCRIPT`] is refused.
fn too_large(path: &Path) -> String {
    format!(
        "{} is larger than {} MiB: not a recording (nothing was sent)",
        path.display(),
        MAX_SCRIPT / (1024 * 1024)
    )
}

/// Read a FIFO or a pipe opened without blocking, to its end or one byte past [`MAX_SCRIPT`],
/// waiting ([`nix::poll::poll`]) at most `wait.idle` for each part of it and never past the
/// deadline: a FIFO nobody opens for writing is refused when the wait runs out. (Linux's
/// poll(2) does not report the end of a FIFO that never had a writer: it waits for one.)
fn read_fifo(mut f: std::fs::File, path: &Path, wait: ScriptWait) -> Result<Vec<u8>, String> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::io::Read;
    use std::os::fd::AsFd;
    let shown = path.display();
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let now = std::time::Instant::now();
        let left = wait
            .deadline
            .map(|(_, at)| at.saturating_duration_since(now));
        let idle = (!wait.idle.is_zero()).then_some(wait.idle);
        let limit = match (idle, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let timeout = match limit {
            None => PollTimeout::NONE,
            // Rounded up: a wait of 0.4 ms is no wait of 0 ms (that polls without waiting).
            Some(d) => {
                PollTimeout::try_from(d.as_millis().saturating_add(1).min(i32::MAX as u128) as i32)
                    .unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = [PollFd::new(f.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => {
                let read = match buf.len() {
                    0 => "nothing came from this FIFO".to_string(),
                    n => format!("nothing more came from this FIFO after {n} bytes"),
                };
                let why = match (wait.deadline, left) {
                    (Some((d, _)), Some(l)) if limit == Some(l) => format!(
                        "--deadline{} {} reached: {read}",
                        wait.deadline_note,
                        crate::error::duration_words(d)
                    ),
                    _ => format!(
                        "{read} within {} ({})",
                        crate::error::duration_words(wait.idle),
                        wait.idle_named
                    ),
                };
                let hint = if buf.is_empty() {
                    "does anything write it?"
                } else {
                    "did its writer stop?"
                };
                return Err(format!(
                    "cannot read {shown}: {why}: {hint} The script was not read to its end \
                     (nothing was sent)"
                ));
            }
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(format!("cannot read {shown}: {e}")),
        }
        match f.read(&mut chunk) {
            Ok(0) => return Ok(buf),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() as u64 > MAX_SCRIPT {
                    return Err(too_large(path));
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(format!("cannot read {shown}: {e}")),
        }
    }
}

/// Writes a recording as the session goes.
pub(crate) struct Recorder {
    out: Box<dyn Write + Send>,
    /// A hand-typed `AUTH LOGIN`/`AUTH PLAIN` without an initial response, recorded as an
    /// `:auth` step without a user: held (the input and its codes) until the first SASL
    /// response, which names the user ([`Recorder::sasl_response`]), or the next record.
    held: Option<(String, Vec<u16>)>,
    /// Lines not written yet: steps that still owe replies (their wait ended, `--timeout` or
    /// Ctrl-C), each with the steps after it, so that a late reply is written as a `~` line
    /// after its own step ([`Recorder::late`]), not after the step then running.
    queue: std::collections::VecDeque<Block>,
    /// Replies the next step (or banner) owes ([`Recorder::owe`]).
    owe_next: usize,
    /// Write [`END_MARK`] when recording stops (a file's recorder; not a test's stream).
    end_mark: bool,
    /// Recording began mid-session and no step is written yet: a reply that comes unasked now
    /// follows no step and no banner, and a `~` line there would be read as the banner.
    before_first_step: bool,
}

/// The header `:record` starts a file with (the server follows it), and the line it ends one
/// with when recording stops (`:record` alone, another `:record`, the session's end): a file
/// with the one and not the other last was cut after its last whole line, the steps after it
/// lost, which nothing else shows (a cut inside a line is seen by its missing newline).
const HEADER: &str = "ehlo repl recording (";
const END_MARK: &str = "# end of recording";

/// A step's lines, held while it owes replies or a step before it does.
struct Block {
    lines: Vec<String>,
    owed: usize,
}

impl Recorder {
    /// Open `path` (refusing, replacing or appending to an existing file) and write the header;
    /// the file's write errors are kept by `watch` (said after the run). With it, the line that
    /// says a wider file that exists was narrowed ([`crate::app::open_private`]), to warn of.
    pub(crate) fn create(
        path: &Path,
        server: &str,
        mode: super::meta::RecordMode,
        watch: &crate::render::watch::Watch,
    ) -> Result<(Recorder, Option<String>), String> {
        use super::meta::RecordMode;
        let mut o = crate::app::private_file();
        match mode {
            RecordMode::New => o.create_new(true),
            RecordMode::Overwrite => o.truncate(true),
            RecordMode::Append => o.append(true),
        };
        let (f, narrowed) = crate::app::open_private(&o, path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "{} exists: :record! FILE replaces it, :record -a FILE appends to it",
                    path.display()
                )
            } else {
                format!("cannot write {}: {e}", path.display())
            }
        })?;
        let f = watch.watched_file("recording", path.display().to_string(), f);
        let mut r = Recorder::new(Box::new(std::io::BufWriter::new(f)));
        r.comment(&format!(
            "{HEADER}{server}); replay with: ehlo replay FILE --server HOST:PORT"
        ));
        r.end_mark = true;
        Ok((r, narrowed))
    }

    /// A recorder writing to any stream (tests).
    pub(crate) fn new(out: Box<dyn Write + Send>) -> Recorder {
        Recorder {
            out,
            held: None,
            queue: std::collections::VecDeque::new(),
            owe_next: 0,
            end_mark: false,
            before_first_step: false,
        }
    }

    /// The first SASL response typed after an `:auth LOGIN`, `:auth PLAIN` or `:auth
    /// CRAM-MD5` step recorded without a user: the user it names (LOGIN: the base64 user;
    /// PLAIN: the authcid of authzid NUL authcid NUL password, RFC 4616 §2; CRAM-MD5: the user
    /// before the digest, RFC 2195 §2) joins the step, so that the replay needs only the secret
    /// (the user is no secret; the password, and CRAM-MD5's digest, are never written: a
    /// hand-typed CRAM-MD5 was recorded without its user, and its replay stopped on "needs a
    /// user"). Other responses add nothing.
    pub(crate) fn sasl_response(&mut self, line: &str) {
        use base64::Engine as _;
        let Some((input, codes)) = self.held.take() else {
            return;
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(line.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let user = if input.eq_ignore_ascii_case(":auth PLAIN") {
            decoded.split('\0').nth(1).unwrap_or("").to_string()
        } else if input.eq_ignore_ascii_case(":auth CRAM-MD5") {
            // user SP digest: the digest, 32 hex digits, is what follows the last space.
            match decoded.rsplit_once(' ') {
                Some((user, digest)) if digest.len() == 32 => user.to_string(),
                _ => String::new(),
            }
        } else {
            decoded
        };
        let input =
            if user.is_empty() || user.contains(|c: char| c.is_whitespace() || c.is_control()) {
                input
            } else {
                format!("{input} {user}")
            };
        self.write_step(&input, [""; 0], &codes);
        let _ = self.out.flush();
    }

    /// Write the held step as it is (no response named its user).
    fn release(&mut self) {
        if let Some((input, codes)) = self.held.take() {
            self.write_step(&input, [""; 0], &codes);
        }
    }

    /// `# text`.
    pub(crate) fn comment(&mut self, text: &str) {
        self.release();
        for l in text.lines() {
            self.put(format!("# {l}"));
        }
        let _ = self.out.flush();
    }

    /// Reply codes without an input (the banner, or the replies a step drew later).
    pub(crate) fn codes(&mut self, codes: &[u16]) {
        if let Some((_, held)) = self.held.as_mut() {
            held.extend_from_slice(codes);
            return;
        }
        if self.owe_next > 0 {
            self.begin();
        }
        self.write_codes(codes);
        let _ = self.out.flush();
    }

    /// `:record` in a session: the banner came before it, so it is not recorded.
    pub(crate) fn began_mid_session(&mut self) {
        self.comment("recording began mid-session: the banner is not checked on replay");
        self.before_first_step = true;
    }

    /// Replies that came unasked while the REPL waited for input (`~ 421`). Before the first
    /// step of a recording begun mid-session they follow nothing replay runs: a `~` line there
    /// was replayed as the banner ("expected 421, got 220", exit 21), so they are a comment.
    pub(crate) fn unasked(&mut self, codes: &[u16]) {
        for c in codes {
            if self.before_first_step {
                self.put(format!(
                    "# {c} came unasked before the first step recorded: not checked on replay"
                ));
            } else {
                self.put(format!("~ {c}"));
            }
        }
        let _ = self.out.flush();
    }

    /// The step recorded next (or the banner's codes) owes `n` replies: its wait ended before
    /// they came ([`Recorder::late`] writes them when they do).
    pub(crate) fn owe(&mut self, n: usize) {
        self.owe_next += n;
    }

    /// A reply owed ([`Recorder::owe`]) came: a `~` line after the oldest step owing one, and
    /// the steps held behind it are written once none before them owes a reply.
    pub(crate) fn late(&mut self, code: u16) {
        match self.queue.iter_mut().find(|b| b.owed > 0) {
            Some(b) => {
                b.lines.push(format!("~ {code}"));
                b.owed -= 1;
            }
            // Owed by the step not recorded yet: it came before that step ended.
            None => {
                self.owe_next = self.owe_next.saturating_sub(1);
                self.put(format!("~ {code}"));
            }
        }
        self.write_ready();
        let _ = self.out.flush();
    }

    /// The replies still owed will not come (the connection ended): write every step held.
    pub(crate) fn forget_owed(&mut self) {
        self.owe_next = 0;
        self.queue.iter_mut().for_each(|b| b.owed = 0);
        self.write_ready();
        let _ = self.out.flush();
    }

    /// A new step: held behind a step that owes replies, or held itself when it owes some.
    fn begin(&mut self) {
        let owed = std::mem::take(&mut self.owe_next);
        if owed > 0 || !self.queue.is_empty() {
            self.queue.push_back(Block {
                lines: Vec::new(),
                owed,
            });
        }
    }

    /// One line, written or held with the latest step.
    fn put(&mut self, line: String) {
        match self.queue.back_mut() {
            Some(b) => b.lines.push(line),
            None => {
                let _ = writeln!(self.out, "{line}");
            }
        }
    }

    /// Write the held steps that no longer wait for a step before them.
    fn write_ready(&mut self) {
        while self.queue.front().is_some_and(|b| b.owed == 0) {
            if let Some(b) = self.queue.pop_front() {
                for l in b.lines {
                    let _ = writeln!(self.out, "{l}");
                }
            }
        }
    }

    /// One input, its content lines and the codes it drew.
    pub(crate) fn step(&mut self, input: &str, body: &[String], codes: &[u16]) {
        self.release();
        if body.is_empty()
            && (input.eq_ignore_ascii_case(":auth LOGIN")
                || input.eq_ignore_ascii_case(":auth PLAIN")
                || input.eq_ignore_ascii_case(":auth CRAM-MD5"))
        {
            self.held = Some((input.to_string(), codes.to_vec()));
            return;
        }
        self.write_step(input, body.iter().map(String::as_str), codes);
        let _ = self.out.flush();
    }

    /// A typed `BDAT size [LAST]` and its chunk's octets, as [`Recorder::step`] writes a step
    /// with content lines: one `|` line per typed line, read back from the chunk (each line
    /// ends in CRLF but a last one that filled the chunk; a typed line holds no LF, so the
    /// split is the typing's). The chunk is held as its octets alone, not as a string a line.
    /// `mask` puts the mask in place of a secret the session saw, as it does in a `:data`
    /// message's lines: a chunk line holding a typed password was written as typed.
    pub(crate) fn step_chunk(
        &mut self,
        input: &str,
        chunk: &[u8],
        codes: &[u16],
        mask: impl Fn(&str) -> String,
    ) {
        self.release();
        // Line by line: a chunk of megabytes is never held twice over (the REPL's memory bound).
        self.write_step(input, chunk_lines(chunk).map(mask), codes);
        let _ = self.out.flush();
    }

    fn write_codes(&mut self, codes: &[u16]) {
        for c in codes {
            self.put(format!("< {c}"));
        }
    }

    fn write_step(
        &mut self,
        input: &str,
        body: impl IntoIterator<Item = impl AsRef<str>>,
        codes: &[u16],
    ) {
        // An input holding a line break would not read back as one step: keep it on one line.
        let input = input.replace(['\r', '\n'], " ");
        self.before_first_step = false;
        self.begin();
        self.put(format!("> {input}"));
        for b in body {
            self.put(format!("| {}", b.as_ref().replace(['\r', '\n'], " ")));
        }
        self.write_codes(codes);
    }
}

/// The typed lines of a chunk ([`Recorder::step_chunk`]): split at each CRLF, the empty rest
/// after a final CRLF left out. A line is UTF-8 as typed; a chunk cut inside a character could
/// not be typed, and would be shown with U+FFFD.
fn chunk_lines(chunk: &[u8]) -> impl Iterator<Item = &str> {
    let body = chunk.strip_suffix(b"\r\n").unwrap_or(chunk);
    let mut rest = (!chunk.is_empty()).then_some(body);
    std::iter::from_fn(move || {
        let r = rest?;
        let (line, next) = match memchr::memmem::find(r, b"\r\n") {
            Some(i) => (&r[..i], Some(&r[i + 2..])),
            None => (r, None),
        };
        rest = next;
        Some(std::str::from_utf8(line).unwrap_or("\u{FFFD}"))
    })
}

impl Drop for Recorder {
    /// A step still held (the session ended inside the exchange) is written as it is.
    fn drop(&mut self) {
        self.release();
        self.forget_owed();
        if self.end_mark {
            let _ = writeln!(self.out, "{END_MARK}");
        }
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::render::test_sink::Shared;

    /// A chunk's typed lines read back from its octets as they were typed (TypedChunk's
    /// rule: each with its CRLF, a last one that filled the chunk without it).
    #[test]
    fn a_chunks_lines_are_read_back_from_its_octets() {
        fn lines(c: &[u8]) -> Vec<&str> {
            chunk_lines(c).collect()
        }
        assert!(lines(b"").is_empty());
        assert_eq!(lines(b"\r\n"), [""]);
        assert_eq!(lines(b"\r\n\r\n"), ["", ""]);
        assert_eq!(lines(b"hello"), ["hello"]);
        assert_eq!(lines(b"a\r\nhello"), ["a", "hello"]);
        assert_eq!(lines(b"a\r\n\r\n"), ["a", ""]);
        // A typed CR stays in its line.
        assert_eq!(lines(b"x\r\r\ny\r"), ["x\r", "y\r"]);
        let mut chunk = crate::smtp::manual::TypedChunk::new(12);
        for l in ["héllo", "", "ab"] {
            chunk.take(l);
        }
        assert_eq!(lines(chunk.bytes()), ["héllo", "", "ab"]);
    }

    /// [`super::load`] with a wait no test reaches.
    fn load(path: &Path) -> Result<Script, String> {
        super::load(path, wait(60, None))
    }

    fn wait(idle_secs: u64, deadline_secs: Option<u64>) -> ScriptWait {
        let d = |s| std::time::Duration::from_secs(s);
        ScriptWait {
            idle: d(idle_secs),
            idle_named: "--timeout".into(),
            deadline: deadline_secs.map(|s| (d(s), std::time::Instant::now() + d(s))),
            deadline_note: String::new(),
        }
    }

    /// A FIFO nobody writes is given up when the wait runs out (`--timeout` between its bytes,
    /// `--deadline` for the whole), with one line saying so: its `open(2)` blocked the replay
    /// for ever, past both. A FIFO that is written is read (`<(…)`, `mkfifo`), also when
    /// its writer comes after the replay opened it; a directory, a socket and a device are
    /// refused by what they are, without a byte read (`/dev/zero` was read to 16 MiB).
    #[test]
    fn a_script_that_is_no_file_of_text_is_refused_within_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let started = std::time::Instant::now();
        let e = super::load(&fifo, wait(1, None)).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(
            e,
            format!(
                "cannot read {}: nothing came from this FIFO within 1s (--timeout): does \
                 anything write it? The script was not read to its end (nothing was sent)",
                fifo.display()
            )
        );
        let e = super::load(&fifo, wait(0, Some(1))).unwrap_err();
        assert!(
            e.contains(": --deadline 1s reached: nothing came from this FIFO: "),
            "{e}"
        );
        // A writer that opens it late, and one that stops half-way.
        let path = fifo.clone();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            w.write_all(b"< 220\n> NOOP\n").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
            w.write_all(b"< 250\n").unwrap();
        });
        let script = super::load(&fifo, wait(5, None)).unwrap();
        writer.join().unwrap();
        assert_eq!((script.banner.len(), script.steps.len()), (1, 1));
        let path = fifo.clone();
        let writer = std::thread::spawn(move || {
            let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            w.write_all(b"< 220\n").unwrap();
            std::thread::sleep(std::time::Duration::from_secs(3));
        });
        let e = super::load(&fifo, wait(1, None)).unwrap_err();
        assert!(
            e.contains("nothing more came from this FIFO after 6 bytes within 1s (--timeout): did its writer stop?"),
            "{e}"
        );
        writer.join().unwrap();
        let sock = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        for (path, what) in [
            (dir.path().to_path_buf(), "a directory"),
            (sock, "a socket"),
            (
                PathBuf::from("/dev/zero"),
                "a device (a terminal, /dev/zero, /dev/null)",
            ),
        ] {
            assert_eq!(
                super::load(&path, wait(1, None)).unwrap_err(),
                format!(
                    "{} is {what}, not a recording file: nothing to replay (nothing was sent)",
                    path.display()
                )
            );
        }
    }

    #[test]
    fn round_trip() {
        let buf = Shared::default();
        let mut r = Recorder::new(Box::new(buf.clone()));
        r.comment("hello");
        r.codes(&[220]);
        r.step("EHLO x", &[], &[250]);
        r.step(
            ":data",
            &["Subject: s".into(), "".into(), ".dot".into()],
            &[354, 250],
        );
        r.step("NOOP", &[], &[]);
        let text = String::from_utf8(buf.bytes()).unwrap();
        assert_eq!(
            text,
            "# hello\n< 220\n> EHLO x\n< 250\n> :data\n| Subject: s\n| \n| .dot\n< 354\n< 250\n> NOOP\n"
        );
        let s = parse(&text).unwrap();
        assert_eq!(s.banner, vec![Expect::code(2, 220)]);
        assert_eq!(s.steps.len(), 3);
        assert_eq!(
            s.steps[1].body.iter().collect::<Vec<_>>(),
            ["Subject: s", "", ".dot"]
        );
        assert_eq!(
            s.steps[1].expect,
            vec![Expect::code(9, 354), Expect::code(10, 250)]
        );
        assert_eq!(s.steps[2].lineno, 11);
    }

    /// The user of a hand-typed AUTH LOGIN / PLAIN joins its step from the first response;
    /// the password never reaches the file, and a later response adds nothing.
    #[test]
    fn a_held_auth_step_takes_the_user_of_its_first_response_only() {
        use base64::Engine as _;
        let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
        let buf = Shared::default();
        let mut r = Recorder::new(Box::new(buf.clone()));
        r.step(":auth LOGIN", &[], &[334]);
        r.sasl_response(&b64(b"tim"));
        r.codes(&[334]);
        r.sasl_response(&b64(b"hunter2"));
        r.codes(&[235]);
        r.step(":auth PLAIN", &[], &[]);
        r.sasl_response(&b64(b"\0ann\0hunter2"));
        r.codes(&[235]);
        r.step(":auth LOGIN", &[], &[334]);
        r.sasl_response("not base64!");
        r.step(":auth LOGIN", &[], &[334]);
        // CRAM-MD5 (RFC 2195 §2): the user before its digest; the digest is not written.
        let digest = "b913a602c7eda7a495b4e6e7334d3890";
        r.step(":auth CRAM-MD5", &[], &[334]);
        r.sasl_response(&b64(format!("tim {digest}").as_bytes()));
        r.codes(&[235]);
        r.step(":auth CRAM-MD5", &[], &[334]);
        r.sasl_response(&b64(b"tim"));
        drop(r);
        let text = String::from_utf8(buf.bytes()).unwrap();
        assert_eq!(
            text,
            "> :auth LOGIN tim\n< 334\n< 334\n< 235\n> :auth PLAIN ann\n< 235\n\
             > :auth LOGIN\n< 334\n> :auth LOGIN\n< 334\n> :auth CRAM-MD5 tim\n< 334\n< 235\n\
             > :auth CRAM-MD5\n< 334\n"
        );
        assert!(!text.contains(digest));
    }

    #[test]
    fn unasked_replies_round_trip_after_their_step() {
        let buf = Shared::default();
        let mut r = Recorder::new(Box::new(buf.clone()));
        r.codes(&[220]);
        r.step("LATER", &[], &[250]);
        r.unasked(&[421]);
        let text = String::from_utf8(buf.bytes()).unwrap();
        assert_eq!(text, "< 220\n> LATER\n< 250\n~ 421\n");
        let s = parse(&text).unwrap();
        let e = &s.steps[0].expect;
        assert_eq!(e.len(), 2);
        assert!(!e[0].unasked && e[1].unasked, "{e:?}");
        assert!(e[1].matches(421, None) && e[1].lineno == 4);
        assert!(parse("~ 42").unwrap_err().contains("line 1"));
    }

    /// A reply that came unasked after `:record` in a session and before its first step follows
    /// no step and no recorded banner: written as a comment. As `~ 421` it was replayed as the
    /// banner, and a real recording (Postfix closing an idle session) failed with exit 21.
    #[test]
    fn an_unasked_reply_before_the_first_step_of_a_mid_session_recording_is_a_comment() {
        let buf = Shared::default();
        let mut r = Recorder::new(Box::new(buf.clone()));
        r.began_mid_session();
        r.unasked(&[421]);
        r.step(":reconnect", &[], &[220]);
        r.unasked(&[421]);
        let text = String::from_utf8(buf.bytes()).unwrap();
        assert_eq!(
            text,
            "# recording began mid-session: the banner is not checked on replay\n\
             # 421 came unasked before the first step recorded: not checked on replay\n\
             > :reconnect\n< 220\n~ 421\n"
        );
        let s = parse(&text).unwrap();
        assert!(s.banner.is_empty(), "{s:?}");
        assert_eq!(s.steps[0].expect.len(), 2);
    }

    /// Late replies are written after the step that owes them, the steps after it held back
    /// until then; a connection that ends writes what is held.
    #[test]
    fn late_replies_follow_the_step_that_owes_them() {
        let buf = Shared::default();
        let mut r = Recorder::new(Box::new(buf.clone()));
        r.codes(&[220]);
        r.owe(1);
        r.step("EHLO me", &[], &[]);
        r.owe(1);
        r.step("NOOP", &[], &[]);
        r.step("RSET", &[], &[250]);
        assert_eq!(String::from_utf8(buf.bytes()).unwrap(), "< 220\n");
        r.late(250);
        assert_eq!(
            String::from_utf8(buf.bytes()).unwrap(),
            "< 220\n> EHLO me\n~ 250\n"
        );
        r.owe(1);
        r.step("QUIT", &[], &[]);
        r.late(250);
        r.forget_owed();
        let text = String::from_utf8(buf.bytes()).unwrap();
        assert_eq!(
            text,
            "< 220\n> EHLO me\n~ 250\n> NOOP\n~ 250\n> RSET\n< 250\n> QUIT\n"
        );
        assert_eq!(parse(&text).unwrap().steps.len(), 4);
    }

    /// A recording writes what a step (or the banner) drew (`<`) before what came unasked
    /// (`~`): a `<` after a `~` is refused naming both lines. `~ 421` before `< 220` was
    /// taken as the banner ("expected 421, 220").
    #[test]
    fn an_expected_reply_after_an_unasked_one_is_refused() {
        let e = parse("~ 421\n< 220\n> EHLO x\n< 250\n").unwrap_err();
        assert!(
            e.starts_with("line 2: `< 220` after `~ 421` (line 1) in the replies of the banner"),
            "{e}"
        );
        let e = parse("< 220\n> NOOP\n~ 250\n< 250\n").unwrap_err();
        assert!(
            e.starts_with(
                "line 4: `< 250` after `~ 250` (line 3) in the replies of `> NOOP` (line 2)"
            ),
            "{e}"
        );
        // What the recorder writes: the banner, then what came unasked; a banner that came
        // late; a late reply and the steps held behind it; the SASL codes of an `:auth` step.
        let buf = Shared::default();
        let mut r = Recorder::new(Box::new(buf.clone()));
        r.owe(1);
        r.codes(&[]);
        r.late(220);
        r.unasked(&[250]);
        r.owe(1);
        r.step("NOOP", &[], &[]);
        r.step("RSET", &[], &[250]);
        r.late(250);
        r.unasked(&[421]);
        drop(r);
        let text = String::from_utf8(buf.bytes()).unwrap();
        assert_eq!(text, "~ 220\n~ 250\n> NOOP\n~ 250\n> RSET\n< 250\n~ 421\n");
        assert_eq!(parse(&text).unwrap().steps.len(), 2);
        assert_eq!(parse("< 220\n~ 421\n> QUIT\n").unwrap().banner.len(), 2);
        let s = parse("> :auth LOGIN tim\n< 334\n~ 334\n< 235\n").unwrap();
        assert_eq!(s.steps[0].expect.len(), 3);
    }

    /// A file cut inside its last line (no newline: `:record` ends every line): a line to send
    /// is refused naming it, a cut reply line that does not parse says the file ends there,
    /// any other line is kept with a warning. A cut `> EHLO me.te` was sent as it was.
    #[test]
    fn a_file_cut_inside_a_line_is_refused_or_warned() {
        let dir = tempfile::tempdir().unwrap();
        let load_text = |text: &str| {
            let path = dir.path().join("cut.ehlo");
            std::fs::write(&path, text).unwrap();
            load(&path)
        };
        for (text, n) in [
            ("< 220\n> EHLO me.te", 2),
            ("< 220\r\n> QUIT\r", 2),
            ("< 220\n> :data\n| Subj", 3),
            ("< 220\n>", 2),
        ] {
            let e = load_text(text).unwrap_err();
            assert!(
                e.starts_with(&format!("line {n}: the file ends inside \"")),
                "{text:?}: {e}"
            );
            assert!(e.contains("nothing was sent"), "{e}");
        }
        let e = load_text("< 220\n> NOOP\n< 25").unwrap_err();
        assert!(
            e.starts_with("line 3: a reply code") && e.ends_with("without a newline: cut short?)"),
            "{e}"
        );
        let s = load_text("< 220\n> QUIT\n< 221").unwrap();
        assert_eq!(s.steps.len(), 1);
        assert_eq!(s.warnings.len(), 1);
        assert!(
            s.warnings[0].starts_with("line 3: the file ends without a newline after \"< 221\""),
            "{:?}",
            s.warnings
        );
        for whole in [
            "< 220\n> QUIT\n< 221\n",
            "< 220\r\n> QUIT\r\n",
            "< 220\n> QUIT\n  ",
        ] {
            assert!(load_text(whole).unwrap().warnings.is_empty(), "{whole:?}");
        }
    }

    /// A file `:record` wrote ends with its end line; cut after any whole line before it (the
    /// steps after it lost, which nothing else showed: "every reply as recorded", exit 0), a
    /// warning names the last line. A file not begun by `:record` (written by hand) has none.
    #[test]
    fn a_recording_cut_after_a_whole_line_is_warned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.ehlo");
        let watch = crate::render::watch::Watch::default();
        let mut r = Recorder::create(
            &path,
            "mx.test:25",
            super::super::meta::RecordMode::New,
            &watch,
        )
        .unwrap()
        .0;
        r.codes(&[220]);
        r.step("EHLO x", &[], &[250]);
        r.step("QUIT", &[], &[221]);
        drop(r);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.ends_with("> QUIT\n< 221\n# end of recording\n"),
            "{text}"
        );
        assert!(load(&path).unwrap().warnings.is_empty());
        let lines: Vec<&str> = text.lines().collect();
        let cut = dir.path().join("cut.ehlo");
        for n in 2..lines.len() {
            std::fs::write(&cut, lines[..n].join("\n") + "\n").unwrap();
            let s = load(&cut).unwrap();
            assert_eq!(s.warnings.len(), 1, "{n}: {:?}", s.warnings);
            assert!(
                s.warnings[0].starts_with(&format!("line {n}: the recording stops here without")),
                "{:?}",
                s.warnings
            );
        }
        // CRLF and trailing blank lines end it too; a hand-written script needs no end line.
        std::fs::write(&cut, text.replace('\n', "\r\n") + "\r\n\n").unwrap();
        assert!(load(&cut).unwrap().warnings.is_empty());
        std::fs::write(&cut, "# mine\n< 220\n> QUIT\n< 221\n").unwrap();
        assert!(load(&cut).unwrap().warnings.is_empty());
    }

    #[test]
    fn bad_lines_are_errors_with_line_numbers() {
        assert!(parse("< 2z0").unwrap_err().contains("line 1"));
        assert!(parse("> A\n< 250\n| late").unwrap_err().contains("line 3"));
        assert!(parse("hello").unwrap_err().contains("line 1"));
        assert!(parse("| x").is_err());
        // An empty script checks nothing: refused, as `ehlo replay` refuses an empty file.
        assert!(
            parse("")
                .unwrap_err()
                .contains("holds no step and no reply")
        );
        // Codes: three digits or x, never starting with 0; nothing but an enhanced code and a
        // comment after them.
        for bad in [
            "< 25",
            "< 2500",
            "< 0xx",
            "< 2y0",
            "< 250 ok",
            "< 250 2.1",
            "< 250 3.1.1",
            "< 250 2.1.5 x",
            "< 250 2.1.5.1",
            "< 250 2.1.1234",
            "< 250#c",
            "<  ",
        ] {
            assert!(parse(bad).unwrap_err().contains("line 1"), "{bad:?}");
        }
    }

    #[test]
    fn a_script_over_the_limit_is_refused_not_cut() {
        use crate::cli::mode::read_file_capped;
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("at");
        std::fs::write(&at, "# c\n".repeat(4)).unwrap();
        let open = |p: &Path| std::fs::File::open(p).unwrap();
        assert_eq!(
            read_file_capped(open(&at), 16).unwrap().unwrap(),
            "# c\n".repeat(4).as_bytes()
        );
        let over = dir.path().join("over");
        std::fs::write(&over, format!("{}#", "# c\n".repeat(4))).unwrap();
        assert!(read_file_capped(open(&over), 16).unwrap().is_none());
        // An endless stream (`ehlo replay /dev/zero`, no size to look at) stops one byte past it.
        assert!(
            read_file_capped(open(Path::new("/dev/zero")), 1024)
                .unwrap()
                .is_none()
        );
    }

    /// A content line goes with a typed `:data`, before its replies; anywhere else it is refused
    /// naming both lines. After another step it used to be dropped unsent.
    #[test]
    fn a_content_line_outside_a_typed_data_is_refused() {
        let e = parse("< 220\n> NOOP\n| RSET\n< 250\n").unwrap_err();
        assert_eq!(
            e,
            "line 3: a content line (`|`) after `> NOOP` (line 2): content lines follow a `> :data` or `> BDAT n` step only"
        );
        let e = parse("> :data @m.eml\n| x\n").unwrap_err();
        assert!(
            e.starts_with("line 2: a content line (`|`) after `> :data @m.eml`"),
            "{e}"
        );
        let e = parse("> :data\n< 354\n| x\n< 250\n").unwrap_err();
        assert_eq!(
            e,
            "line 3: a content line (`|`) after the replies of `> :data` (line 1): its content lines come before its `<` lines"
        );
        assert!(
            parse("< 220\n| x\n")
                .unwrap_err()
                .starts_with("line 2: a content line (`|`) before any step")
        );
        assert_eq!(
            parse("> :data\n| x\n|\n< 354\n< 250\n").unwrap().steps[0]
                .body
                .iter()
                .collect::<Vec<_>>(),
            ["x", ""]
        );
        // A typed BDAT's chunk is its content lines; one of no octets (or no size) has none.
        assert_eq!(
            parse("> bdat 12 LAST\n| hello\n| you\n< 250\n")
                .unwrap()
                .steps[0]
                .body
                .iter()
                .collect::<Vec<_>>(),
            ["hello", "you"]
        );
        for no in ["> BDAT 0 LAST\n| x\n", "> BDAT x\n| x\n"] {
            assert!(
                parse(no).unwrap_err().starts_with("line 2: a content line"),
                "{no}"
            );
        }
    }

    /// A script of more than a million steps, replies and content lines, or over 16 MiB, is
    /// checked whole (a bad last line refuses it, nothing sent) and its steps read again from
    /// the file as they run, none held; one within both is held. Such a script (a recording of
    /// a BDAT chunk of over a million lines, which the REPL writes) was refused: "line 1000001:
    /// more than 1 000 000 steps, replies and content lines". A step's content is bounded as
    /// the REPL bounds a typed message (64 MiB), and the file must stay the one checked.
    #[test]
    fn a_script_too_large_to_hold_is_checked_whole_then_read_again_a_step_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let held = load(&at("held", &">\n".repeat(MAX_ITEMS))).unwrap();
        assert!(held.streamed.is_none());
        assert_eq!(held.steps.len(), MAX_ITEMS);
        drop(held);
        let many = format!(
            "< 220\n{}> QUIT\n< 221\n",
            "> NOOP\n< 250\n".repeat(MAX_ITEMS / 2)
        );
        let path = at("many", &many);
        let s = load(&path).unwrap();
        assert!(s.steps.is_empty() && s.streamed.is_some());
        assert_eq!(s.banner.len(), 1);
        assert_eq!(s.step_count(), MAX_ITEMS / 2 + 1);
        let steps: Vec<Step> = s.each_step().map(Result::unwrap).collect();
        assert_eq!(steps.len(), MAX_ITEMS / 2 + 1);
        assert_eq!((steps[0].lineno, steps[0].input.as_str()), (2, "NOOP"));
        assert_eq!(steps[0].expect, [Expect::code(3, 250)]);
        let last = steps.last().unwrap();
        assert_eq!((last.lineno, last.input.as_str()), (MAX_ITEMS + 2, "QUIT"));
        assert_eq!(last.expect, [Expect::code(MAX_ITEMS + 3, 221)]);
        drop(steps);
        // Checked to its last line before any step runs.
        let e = load(&at("bad", &format!("{many}< 25\n"))).unwrap_err();
        assert!(e.starts_with(&format!("line {}: ", MAX_ITEMS + 4)), "{e}");
        // Changed after it was checked: the steps stop with an error, not another script.
        std::fs::write(&path, "> RSET\n< 250\n").unwrap();
        let after: Vec<_> = s.each_step().collect();
        assert_eq!(after.len(), 1);
        assert!(
            after[0]
                .as_ref()
                .unwrap_err()
                .contains("changed after it was checked")
        );
        // Over 16 MiB in few items: one step of 17 content lines of 1 MiB each.
        let mib = "y".repeat(1 << 20);
        let big = format!("> :data\n{}< 354\n< 250\n", format!("| {mib}\n").repeat(17));
        let s = load(&at("big", &big)).unwrap();
        assert!(s.steps.is_empty() && s.step_count() == 1);
        let step = s.each_step().next().unwrap().unwrap();
        assert_eq!(step.body.len(), 17);
        assert!(step.body.iter().all(|l| l == mib));
        assert_eq!(
            step.body.into_lines().map(|l| l.len()).sum::<usize>(),
            17 << 20
        );
        // Content past what the REPL holds of a typed message is no recording.
        let over = format!("> :data\n{}< 354\n", format!("| {mib}\n").repeat(64));
        let e = parse(&over).unwrap_err();
        assert!(
            e.starts_with("line 65: the content of `> :data` (line 1) is over 64 MiB"),
            "{e}"
        );
    }

    /// A script read and checked as [`load`] reads one, a line at a time.
    fn utf8_lines(bytes: Vec<u8>) -> Result<(), String> {
        check(&bytes[..]).map(|_| ())
    }

    #[test]
    fn a_script_that_is_not_utf8_names_the_line_and_byte() {
        let e = utf8_lines(b"< 220\n> NOOP \x01\xff\xfe\n< 250\n".to_vec()).unwrap_err();
        assert_eq!(e, "line 2: not UTF-8 (byte 9 of the line, 0xff)");
        let e = utf8_lines(vec![0xff, b'\n']).unwrap_err();
        assert!(
            e.starts_with("line 1: not UTF-8 (byte 1 of the line, 0xff)"),
            "{e}"
        );
        assert!(utf8_lines(b"< 220\n".to_vec()).is_ok());
        // Cut inside a character (`é` is 0xc3 0xa9): said so, not called another encoding.
        let e = utf8_lines(b"< 220\n> :data\n| caf\xc3".to_vec()).unwrap_err();
        assert_eq!(
            e,
            "line 3: the file ends inside a UTF-8 character (byte 6 of the line, 0xc3): cut short? (nothing was sent)"
        );
        let e = utf8_lines(b"| caf\xc3\n".to_vec()).unwrap_err();
        assert!(e.starts_with("line 1: not UTF-8 (byte 6"), "{e}");
    }

    #[test]
    fn a_bare_cr_inside_a_line_is_refused_not_sent() {
        // What SMTP smuggling sends: `NOOP a<CR>RSET` would reach the server as one line.
        for (text, line) in [
            ("< 220\n> NOOP a\rRSET\n< 250\n", 2),
            ("> :data\n| a\rb\n< 354\n", 2),
            ("< 2\r50\n", 1),
        ] {
            let e = parse(text).unwrap_err();
            assert!(
                e.starts_with(&format!("line {line}: a bare CR inside the line")),
                "{e}"
            );
        }
        // A CRLF line end, and a comment, are no bare CR.
        let s = parse("# a\rb\r\n< 220\r\n> NOOP\r\n< 250\r\n").unwrap();
        assert_eq!(s.steps[0].input, "NOOP");
    }

    /// A line to send over the 1 MiB a piped REPL line may be is refused whole, with its size
    /// (it went out whole, 2 MB as one command); one at the limit is still a step.
    #[test]
    fn an_input_line_over_the_piped_line_cap_is_refused() {
        let max = super::super::editor::PIPED_LINE_MAX;
        let over = "a".repeat(max + 1);
        for (text, lineno) in [
            (format!("< 220\n> NOOP\n< 250\n> {over}\n< 250\n"), 4),
            (format!("> :data\n| {over}\n< 354\n"), 2),
        ] {
            let e = parse(&text).unwrap_err();
            assert!(
                e.starts_with(&format!("line {lineno}: a line of 1 048 577 bytes to send")),
                "{e}"
            );
            assert!(e.contains("nothing was sent"), "{e}");
            assert!(e.len() < 200, "{e}");
        }
        let at = "a".repeat(max);
        let s = parse(&format!("> {at}\n< 250\n> :data\n| {at}\n< 354\n")).unwrap();
        assert_eq!(s.steps[0].input.len(), max);
        assert_eq!(s.steps[1].body.iter().next().unwrap().len(), max);
    }

    /// A bad line is quoted short, with its size. A last line without a newline is read as
    /// `ehlo replay` reads a file that ends so: the same error, and it says the file ends
    /// inside that line (a recording ends every line: it may have been cut there).
    #[test]
    fn a_bad_line_is_quoted_short_with_its_size() {
        const CUT: &str = " (the file ends inside this line, without a newline: cut short?)";
        let long = "x".repeat(1_000_000);
        for line in [
            long.clone(),
            format!("< {long}"),
            format!("< 250 {long}"),
            format!("< 250 2.1.5 {long}"),
        ] {
            let ended = parse(&format!("{line}\n")).unwrap_err();
            assert!(ended.starts_with("line 1: "), "{ended}");
            assert!(ended.len() < 400, "{} bytes", ended.len());
            assert!(ended.contains("in all)"), "{ended}");
            assert_eq!(parse(&line).unwrap_err(), format!("{ended}{CUT}"));
        }
        // Short ones are quoted whole, a multi-byte character never cut.
        assert!(parse("hello\n").unwrap_err().ends_with(": \"hello\""));
        assert!(
            parse("hello")
                .unwrap_err()
                .ends_with(&format!(": \"hello\"{CUT}"))
        );
        let wide = "é".repeat(300);
        assert!(parse(&wide).unwrap_err().contains("(600 bytes in all)"));
    }

    /// [`parse`] (the tests' and the fuzz target's way in) reads and judges a script as
    /// [`load`] reads the same bytes from a file: it split with `str::lines` and took a cut
    /// last line to send, an empty script and a 2 MiB line the file reader refuses.
    #[test]
    fn parse_reads_a_script_as_load_reads_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.ehlo");
        let huge = format!("> NOOP\n< 250 {}\n", "x".repeat(2 << 20));
        for text in [
            "< 220\n> QUIT\n< 221\n",
            "< 220\n> EHLO me.te",
            "< 220\n> NOOP\n< 25",
            "< 220\n> QUIT\n< 221",
            "< 220\r\n> QUIT\r",
            "",
            "# only a comment\n",
            "< 220\n> :data\n| a\n| b",
            &huge,
        ] {
            std::fs::write(&path, text).unwrap();
            let shown = &text[..text.len().min(40)];
            match (parse(text), load(&path)) {
                (Ok(p), Ok(l)) => {
                    assert_eq!(p.banner, l.banner, "{shown:?}");
                    assert_eq!(p.steps, l.steps, "{shown:?}");
                    assert_eq!(p.warnings, l.warnings, "{shown:?}");
                }
                (Err(p), Err(l)) => {
                    let named = l.replace(&path.display().to_string(), "the script");
                    assert_eq!(p, named, "{shown:?}");
                }
                (p, l) => panic!("{shown:?}: parse {p:?}, load {l:?}"),
            }
        }
    }

    #[test]
    fn wildcards_enhanced_codes_and_comments() {
        let s = parse(
            "< 2xx # banner\n> RCPT TO:<a@b>\n< 25X 2.1.5\n> DATA\n< 354   #  go on\n> X\n< 5xx 5.x.X # any\n",
        )
        .unwrap();
        let e = |t: &str| crate::smtp::reply::parse_enhanced(t);
        let banner = s.banner[0];
        assert!(banner.matches(220, None) && banner.matches(250, None));
        assert!(!banner.matches(421, None));
        assert_eq!(banner.to_string(), "2xx");
        let rcpt = s.steps[0].expect[0];
        assert_eq!(rcpt.to_string(), "25x 2.1.5");
        assert!(rcpt.matches(250, e("2.1.5 ok")));
        assert!(rcpt.matches(251, e("2.1.5 ok")));
        assert!(!rcpt.matches(250, e("2.1.0 ok")), "enhanced code checked");
        assert!(
            !rcpt.matches(250, None),
            "enhanced code required when given"
        );
        assert!(!rcpt.matches(260, e("2.1.5 ok")));
        assert_eq!(s.steps[1].expect, vec![Expect::code(5, 354)]);
        let any = s.steps[2].expect[0];
        assert!(any.matches(550, e("5.7.1 no")) && any.matches(554, e("5.1.1 no")));
        assert!(!any.matches(550, e("4.7.1 no")) && !any.matches(450, e("5.7.1 no")));
        // An exact code without an enhanced one matches whatever enhanced code comes.
        assert!(Expect::code(1, 250).matches(250, e("2.0.0 ok")));
        assert!(!Expect::code(1, 250).matches(251, None));
    }
}
