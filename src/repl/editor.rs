//! Line input on a dedicated OS thread: rustyline when stdin is a terminal (completion, history,
//! hints, a masked secret prompt, external printing that redraws the prompt), plain line
//! reading when stdin is a pipe (script mode). The async side asks for one line at a time and
//! always shuts the thread down and joins it, so the terminal is left in cooked mode.

use std::borrow::Cow;
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::config::Configurer;
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{ColorMode, Context, Editor, ExternalPrinter, Helper};

use crate::smtp::capabilities::Capabilities;

use super::meta;

/// What kind of line is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A command (history, completion).
    Command,
    /// Message content (no history).
    Data,
    /// A secret: masked, never in the history.
    Secret,
}

/// One answer from the input thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A line (without its line end).
    Line(String),
    /// Ctrl-C at the prompt.
    Interrupted,
    /// Ctrl-D, or the end of the piped input.
    Eof,
}

enum Req {
    Line { prompt: String, kind: LineKind },
    Exit,
}

/// What completion knows about the session (updated by the async side).
#[derive(Debug, Default)]
pub struct CompletionData {
    /// The latest EHLO capabilities.
    pub caps: Option<Capabilities>,
}

/// The input side: a thread answering one line request at a time.
pub struct Ui {
    req: std::sync::mpsc::Sender<Req>,
    rx: tokio::sync::mpsc::Receiver<Input>,
    thread: Option<JoinHandle<()>>,
    outstanding: bool,
    tty: bool,
}

/// Where output goes so that it does not break the prompt.
pub type Console = Box<dyn Write + Send>;

impl Ui {
    /// Start reading from a terminal with rustyline (when `tty`) or from piped stdin. Returns
    /// the UI and a writer for output (through rustyline's external printer on a terminal).
    pub fn start(tty: bool, completion: Arc<Mutex<CompletionData>>) -> (Ui, Console, Console) {
        let (req_tx, req_rx) = std::sync::mpsc::channel::<Req>();
        let (tx, rx) = tokio::sync::mpsc::channel::<Input>(4);
        if tty && let Ok(mut ed) = Editor::<ReplHelper, DefaultHistory>::new() {
            ed.set_helper(Some(ReplHelper::new(completion)));
            ed.set_auto_add_history(false);
            ed.set_completion_type(rustyline::CompletionType::List);
            let history = history_path();
            if let Some(h) = &history {
                let _ = ed.load_history(h);
            }
            if let Ok(printer) = ed.create_external_printer() {
                let shared: Arc<Mutex<Box<dyn ExternalPrinter + Send>>> =
                    Arc::new(Mutex::new(Box::new(printer)));
                let out = PrinterWriter::new(shared.clone());
                let err = PrinterWriter::new(shared);
                let thread = std::thread::spawn(move || editor_thread(ed, history, req_rx, tx));
                return (
                    Ui {
                        req: req_tx,
                        rx,
                        thread: Some(thread),
                        outstanding: false,
                        tty: true,
                    },
                    Box::new(out),
                    Box::new(err),
                );
            }
        }
        let thread = std::thread::spawn(move || pipe_thread(req_rx, tx));
        (
            Ui {
                req: req_tx,
                rx,
                thread: Some(thread),
                outstanding: false,
                tty: false,
            },
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
        )
    }

    /// Is this the interactive editor (not a pipe)?
    pub fn is_tty(&self) -> bool {
        self.tty
    }

    /// Ask for a line (once; asking again before it arrives does nothing).
    pub fn request(&mut self, prompt: &str, kind: LineKind) {
        if !self.outstanding {
            self.outstanding = true;
            let _ = self.req.send(Req::Line {
                prompt: prompt.to_string(),
                kind,
            });
        }
    }

    /// The answer to the outstanding request (cancel-safe).
    pub async fn recv(&mut self) -> Input {
        let r = self.rx.recv().await.unwrap_or(Input::Eof);
        self.outstanding = false;
        r
    }

    /// Ask for a line and wait for it.
    pub async fn line(&mut self, prompt: &str, kind: LineKind) -> Input {
        self.request(prompt, kind);
        self.recv().await
    }

    /// Stop the thread and wait for it. With a request outstanding on a terminal this waits for
    /// the user to finish the line: leaving while rustyline holds the terminal in raw mode would
    /// leave it raw.
    pub fn shutdown(mut self) {
        let _ = self.req.send(Req::Exit);
        if self.outstanding && !self.tty {
            // A pipe read may block forever; the process is about to exit and nothing is raw.
            return;
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `$XDG_DATA_HOME/ehlo/history`, else `~/.local/share/ehlo/history`.
pub fn history_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("ehlo").join("history"))
}

fn editor_thread(
    mut ed: Editor<ReplHelper, DefaultHistory>,
    history: Option<PathBuf>,
    req: std::sync::mpsc::Receiver<Req>,
    tx: tokio::sync::mpsc::Sender<Input>,
) {
    while let Ok(Req::Line { prompt, kind }) = req.recv() {
        let secret = kind == LineKind::Secret;
        if let Some(h) = ed.helper_mut() {
            h.masking = secret;
            h.complete = kind == LineKind::Command;
        }
        ed.set_color_mode(if secret {
            ColorMode::Forced
        } else {
            ColorMode::Enabled
        });
        let r = ed.readline(&prompt);
        if let Some(h) = ed.helper_mut() {
            h.masking = false;
        }
        let input = match r {
            Ok(line) => {
                if kind == LineKind::Command && !line.trim().is_empty() {
                    let _ = ed.add_history_entry(line.as_str());
                }
                Input::Line(line)
            }
            Err(ReadlineError::Interrupted) => Input::Interrupted,
            Err(_) => Input::Eof,
        };
        if tx.blocking_send(input).is_err() {
            break;
        }
    }
    if let Some(h) = history {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = ed.save_history(&h);
    }
}

fn pipe_thread(req: std::sync::mpsc::Receiver<Req>, tx: tokio::sync::mpsc::Sender<Input>) {
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    let mut eof = false;
    while let Ok(Req::Line { .. }) = req.recv() {
        let input = if eof {
            Input::Eof
        } else {
            let mut line = Vec::new();
            // Bounded: a script line longer than 1 MiB is cut (no line is that long in SMTP).
            match (&mut lock).take(1 << 20).read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => {
                    eof = true;
                    Input::Eof
                }
                Ok(_) => {
                    if line.ends_with(b"\n") {
                        line.pop();
                        if line.ends_with(b"\r") {
                            line.pop();
                        }
                    }
                    Input::Line(String::from_utf8_lossy(&line).into_owned())
                }
            }
        };
        if tx.blocking_send(input).is_err() {
            break;
        }
    }
}

/// A `Write` that hands complete lines to rustyline's external printer (which redraws the
/// prompt when a line is being edited, and prints directly otherwise).
struct PrinterWriter {
    printer: Arc<Mutex<Box<dyn ExternalPrinter + Send>>>,
    buf: Vec<u8>,
}

impl PrinterWriter {
    fn new(printer: Arc<Mutex<Box<dyn ExternalPrinter + Send>>>) -> Self {
        PrinterWriter {
            printer,
            buf: Vec::new(),
        }
    }
    fn emit(&mut self, upto: usize) {
        let chunk: Vec<u8> = self.buf.drain(..upto).collect();
        let text = String::from_utf8_lossy(&chunk).into_owned();
        if let Ok(mut p) = self.printer.lock() {
            let _ = p.print(text);
        }
    }
}

impl Write for PrinterWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        if let Some(i) = self.buf.iter().rposition(|&c| c == b'\n') {
            self.emit(i + 1);
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            self.buf.push(b'\n');
            let n = self.buf.len();
            self.emit(n);
        }
        Ok(())
    }
}

// ----- completion -----------------------------------------------------------------------------

/// SMTP verbs offered at the start of a line.
const VERBS: &[&str] = &[
    "EHLO ",
    "HELO ",
    "LHLO ",
    "MAIL FROM:",
    "RCPT TO:",
    "DATA",
    "BDAT ",
    "RSET",
    "NOOP",
    "QUIT",
    "VRFY ",
    "EXPN ",
    "HELP",
    "STARTTLS",
    "AUTH ",
];

/// Candidates for `line` with the cursor at its end: `(start, candidates)`.
pub fn candidates(line: &str, caps: Option<&Capabilities>) -> (usize, Vec<String>) {
    let word_start = line.rfind([' ', '\t']).map(|i| i + 1).unwrap_or(0);
    let word = &line[word_start..];
    if word_start == 0 {
        let list: &[&str] = if word.starts_with(':') {
            meta::NAMES
        } else {
            VERBS
        };
        let up = word.to_ascii_uppercase();
        return (
            0,
            list.iter()
                .filter(|c| c.to_ascii_uppercase().starts_with(&up))
                .map(|c| c.to_string())
                .collect(),
        );
    }
    let verb = line
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    let Some(caps) = caps else {
        return (word_start, Vec::new());
    };
    let mut offer: Vec<String> = Vec::new();
    match verb.as_str() {
        "MAIL" if line.contains(':') => {
            if caps.has("SIZE") {
                offer.push("SIZE=".into());
            }
            if caps.has("8BITMIME") {
                offer.push("BODY=8BITMIME".into());
                offer.push("BODY=7BIT".into());
            }
            if caps.has("BINARYMIME") {
                offer.push("BODY=BINARYMIME".into());
            }
            if caps.has("SMTPUTF8") {
                offer.push("SMTPUTF8".into());
            }
            if caps.has("DSN") {
                offer.push("RET=FULL".into());
                offer.push("RET=HDRS".into());
                offer.push("ENVID=".into());
            }
            if caps.has("AUTH") {
                offer.push("AUTH=<>".into());
            }
            if caps.has("REQUIRETLS") {
                offer.push("REQUIRETLS".into());
            }
            if caps.has("MT-PRIORITY") {
                offer.push("MT-PRIORITY=".into());
            }
        }
        "RCPT" if line.contains(':') && caps.has("DSN") => {
            for n in ["SUCCESS", "FAILURE", "DELAY", "NEVER"] {
                offer.push(format!("NOTIFY={n}"));
            }
            offer.push("ORCPT=rfc822;".into());
        }
        "AUTH" if word_start == line.find([' ', '\t']).map(|i| i + 1).unwrap_or(0) => {
            offer = caps.auth_mechanisms();
        }
        ":AUTH" => offer = caps.auth_mechanisms(),
        "EHLO" | "HELO" | "LHLO" | "BDAT" | "VRFY" | "EXPN" | "NOOP" => {}
        "HELP" => offer = caps.keywords.iter().map(|k| k.keyword.clone()).collect(),
        _ => {}
    }
    let up = word.to_ascii_uppercase();
    (
        word_start,
        offer
            .into_iter()
            .filter(|c| c.to_ascii_uppercase().starts_with(&up))
            .collect(),
    )
}

struct ReplHelper {
    completion: Arc<Mutex<CompletionData>>,
    files: FilenameCompleter,
    hinter: HistoryHinter,
    masking: bool,
    complete: bool,
}

impl ReplHelper {
    fn new(completion: Arc<Mutex<CompletionData>>) -> Self {
        ReplHelper {
            completion,
            files: FilenameCompleter::new(),
            hinter: HistoryHinter::new(),
            masking: false,
            complete: true,
        }
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        if !self.complete || self.masking {
            return Ok((pos, Vec::new()));
        }
        let head = &line[..pos];
        let word_start = head.rfind([' ', '\t']).map(|i| i + 1).unwrap_or(0);
        if head[word_start..].starts_with('@') {
            // A file path after `@` (`:data @mes<TAB>`).
            let sub = &head[word_start + 1..];
            let (start, pairs) = self.files.complete(sub, sub.len(), ctx)?;
            return Ok((word_start + 1 + start, pairs));
        }
        let data = self.completion.lock().ok();
        let caps = data.as_ref().and_then(|d| d.caps.as_ref());
        let (start, list) = candidates(head, caps);
        Ok((
            start,
            list.into_iter()
                .map(|c| Pair {
                    display: c.clone(),
                    replacement: c,
                })
                .collect(),
        ))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<String> {
        if self.masking || !self.complete {
            return None;
        }
        self.hinter.hint(line, pos, ctx)
    }
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if self.masking {
            Cow::Owned("*".repeat(line.chars().count()))
        } else {
            Cow::Borrowed(line)
        }
    }
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        // Dim, so a hint is not mistaken for typed text.
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }
    fn highlight_char(&self, _line: &str, _pos: usize, kind: CmdKind) -> bool {
        self.masking && kind != CmdKind::MoveCursor
    }
}

impl Validator for ReplHelper {}
impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::reply::Reply;

    #[test]
    fn verbs_complete_case_insensitively() {
        assert_eq!(candidates("MA", None), (0, vec!["MAIL FROM:".to_string()]));
        assert_eq!(candidates("rc", None), (0, vec!["RCPT TO:".to_string()]));
        assert_eq!(candidates(":st", None), (0, vec![":starttls".to_string()]));
        assert!(candidates("E", None).1.contains(&"EHLO ".to_string()));
        assert!(candidates("ZZ", None).1.is_empty());
    }

    #[test]
    fn parameters_follow_the_ehlo_reply() {
        let caps = Capabilities::from_reply(&Reply::new(
            250,
            &[
                "mx",
                "SIZE 100",
                "8BITMIME",
                "SMTPUTF8",
                "DSN",
                "AUTH PLAIN LOGIN",
            ],
        ));
        let (start, c) = candidates("MAIL FROM:<a@b> S", Some(&caps));
        assert_eq!(start, 16);
        assert_eq!(c, vec!["SIZE=", "SMTPUTF8"]);
        assert_eq!(
            candidates("MAIL FROM:<a@b> BO", Some(&caps)).1,
            vec!["BODY=8BITMIME", "BODY=7BIT"]
        );
        assert!(
            candidates("RCPT TO:<a@b> N", Some(&caps))
                .1
                .contains(&"NOTIFY=SUCCESS".to_string())
        );
        assert_eq!(candidates("AUTH P", Some(&caps)).1, vec!["PLAIN"]);
        assert_eq!(candidates(":auth L", Some(&caps)).1, vec!["LOGIN"]);
        // Nothing advertised yet: nothing offered.
        assert!(candidates("MAIL FROM:<a@b> S", None).1.is_empty());
    }

    #[test]
    fn history_path_uses_xdg() {
        // Only checks the shape; the environment is shared with other tests, so don't set it.
        if let Some(p) = history_path() {
            assert!(p.ends_with("ehlo/history"));
        }
    }
}
