//! Line input for the REPL. On a terminal: our own small line editor that owns the terminal for
//! the whole session — raw mode set once, one thread reading every byte the terminal sends into
//! one queue (so type-ahead and pasted lines are never dropped, unlike a reader made per line:
//! rustyline issue 690), bracketed paste split into lines, completion, history (secrets
//! redacted) with Ctrl-R search, Ctrl-Z, long lines wrapped over rows with wide (CJK, emoji) and
//! combining characters measured as the terminal draws them, a silent secret prompt, and output
//! printed above the line being edited; while no line is asked for (a reply is awaited), one
//! status line updated in place ([`StatusLine`]). When stdin
//! is a pipe: plain line reading (script mode). The terminal's modes are restored on every exit
//! path ([`Ui::shutdown`], and a guard when the `Ui` is dropped).

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::sys::termios::{self, InputFlags, LocalFlags, SetArg, SpecialCharacterIndices, Termios};

use crate::smtp::capabilities::Capabilities;

use super::meta;

/// What kind of line is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineKind {
    /// A command (history, completion).
    Command,
    /// Message content (not added to the history, though Up recalls it; Tab is a character).
    Data,
    /// A secret: not echoed, never in the history.
    Secret,
    /// The answer to a `[y/N]` question (no history; Tab is a character). Anything but a yes
    /// or a no (or nothing) is drawn as the mask once entered: it may be the password the user
    /// expected to be asked for next (`:auth LOGIN user` asks first whether to send it
    /// unencrypted), and it stayed in clear after the question.
    Answer,
}

/// A yes or a no (any case, blanks around): what a `[y/N]` question takes.
fn is_yes_or_no(answer: &str) -> bool {
    matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "" | "y" | "yes" | "n" | "no"
    )
}

/// One answer from the input side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    /// A line (without its line end).
    Line(String),
    /// Ctrl-C at the prompt.
    Interrupted,
    /// Ctrl-D, or the end of the input.
    Eof,
    /// A line refused whole (piped: not UTF-8, the reason among the reader's notes,
    /// [`Ui::take_notes`]; typed: not UTF-8 or longer than [`LINE_MAX`], said on the
    /// terminal): nothing of it is sent, and a message it was part of is not either.
    Refused,
}

/// What completion knows about the session (updated by the async side).
#[derive(Debug, Default)]
pub(crate) struct CompletionData {
    /// The latest EHLO capabilities.
    pub(crate) caps: Option<Capabilities>,
    /// The session's registry of secrets (in memory only, never written): every password,
    /// token, SASL response and PLAIN blob seen since the REPL started, on any connection,
    /// in the forms a later line may carry them (as typed, base64, the password inside a
    /// blob). A line holding one is kept in the history and drawn with the mask in its place.
    pub(crate) secrets: Vec<Vec<u8>>,
}

impl CompletionData {
    /// `line` with every secret of the registry masked, if it held one.
    pub(crate) fn mask(&self, line: &str) -> Option<String> {
        mask_secrets(line, &self.secrets)
    }
}

/// `line` with every one of `secrets` replaced by the fixed-length mask; `None` when it held
/// none.
pub(crate) fn mask_secrets(line: &str, secrets: &[Vec<u8>]) -> Option<String> {
    if secrets.is_empty() {
        return None;
    }
    crate::smtp::auth::redact(line.as_bytes(), secrets)
        .map(|m| String::from_utf8_lossy(&m).into_owned())
}

/// The keys of the terminal line editor and what piped input does (`ehlo repl --help`, the
/// man page).
pub(crate) const KEYS: &str = "\
Keys (on a terminal): Left/Right, Home/End (Ctrl-A/E), Up/Down through the history
(a dim hint completes from it: Right or End takes it), Ctrl-R searches the history
backwards as you type (Ctrl-R again: older, Ctrl-S: newer, Ctrl-G: back to your line,
Enter runs the match, any other key edits it), Tab completes verbs, meta-commands,
parameters the server offers and @files, Ctrl-U/Ctrl-K/Ctrl-W delete to the start,
to the end, a word, Ctrl-L clears the screen, Ctrl-C drops the line (or stops waiting
for a reply), Ctrl-D on an empty line quits, Ctrl-Z suspends (the shell's fg resumes;
kill -TSTP does the same, the terminal restored first). Long lines wrap over rows and
are drawn again at the new width when the terminal is resized; wide (CJK, emoji) and
combining characters are measured as the terminal draws them. Pasted lines are sent
one by one (grouped with PIPELINING); no typed byte is dropped while a reply is awaited.
Piped (stdin not a terminal): each line is an input, as typed (a line ends at LF, CRLF
or a lone CR: :raw \"\\r\" sends a bare CR); a line that is not UTF-8
is refused whole, with its number (:raw \"\\xNN\" sends any byte; a message it was in is
not sent), one over 1 MiB cut there
(the rest of it dropped, and said). --json prints JSON
Lines (the send's events, a summary last); --strict ends at the first 4xx/5xx reply
with QUIT and exits with that phase's code (RCPT 24, DATA 25...). Without it a piped
script runs to its end; a reply that did not come within --timeout (each one is said)
still makes the exit code that phase's, and a connection the server dropped while
lines were left exit 6, as in a send (the first of them decides).";

/// Where output goes so that it does not break the prompt.
pub(crate) type Console = Box<dyn Write + Send>;

/// Most history entries kept (in memory and in the file).
const HISTORY_MAX: usize = 1000;
/// Longest line the editor holds, in characters (a line longer than any SMTP line); a longer
/// one is refused whole, unsent, and the terminal is told so when the line is entered.
const LINE_MAX: usize = 64 * 1024;

/// An answer, "another line of the same paste is already waiting", and "it was typed at a
/// secret prompt".
type Answer = (Input, bool, bool);

/// The input side: a terminal editor or a pipe reader, answering one line request at a time.
pub(crate) struct Ui {
    inner: UiKind,
    rx: tokio::sync::mpsc::UnboundedReceiver<Answer>,
    outstanding: bool,
    more: bool,
    /// The last line was typed at a secret prompt (not echoed, kept out of the history).
    secret: bool,
    interrupt: Arc<Interrupt>,
    /// What completion knows about the session, shared with the async side ([`Ui::completion`]).
    completion: Arc<Mutex<CompletionData>>,
    /// What the piped reader had to say about the lines it read (one refused as not UTF-8,
    /// one cut at 1 MiB), for the REPL to report as its other errors ([`Ui::take_notes`]).
    notes: Arc<Mutex<Vec<InputNote>>>,
}

/// What the piped reader says about the lines it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InputNote {
    /// Nothing of the input lost (a byte order mark dropped, lone CRs taken as line ends).
    Warning(String),
    /// A line refused or cut.
    Error(String),
}

enum UiKind {
    Term(Term),
    Pipe {
        req: std::sync::mpsc::Sender<()>,
        thread: Option<JoinHandle<()>>,
        /// The reader's answers to requests: every line already in its buffer, in order.
        batches: tokio::sync::mpsc::UnboundedReceiver<Vec<Piped>>,
        /// Lines read and not asked for yet, oldest first.
        queue: VecDeque<Piped>,
    },
}

/// One piped input and what the reader says of it (a byte order mark dropped, a line refused
/// as not UTF-8), said when the REPL takes the input, in order with the other inputs' notes.
type Piped = (Input, Vec<InputNote>);

/// Most piped lines handed over at once: those already read into the reader's buffer, so that
/// a pipe of many lines costs no thread wake-up per line (`yes NOOP | ehlo repl`), bounded by
/// the buffer (8 KiB) and this.
const PIPE_BATCH: usize = 1024;

/// Reader polls (50 ms each) without a byte after which a bracketed paste still open is taken
/// as ended ([`Editor::idle`]).
const PASTE_STALL_POLLS: u32 = 20;

/// The terminal side: the shared editor state, the reader thread and the saved modes.
struct Term {
    ed: Arc<Mutex<Editor>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// The task that acts on SIGTSTP and SIGWINCH for the terminal.
    signals: Option<tokio::task::JoinHandle<()>>,
    saved: Option<Termios>,
    history: Option<PathBuf>,
    restored: bool,
}

impl Term {
    /// Stop the reader thread and wait until it has stopped: from then on no byte of the
    /// terminal is read by the editor (what it read already stays queued, in order).
    fn stop_reader(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn start_reader(&mut self) {
        if self.thread.is_some() {
            return;
        }
        let stop = Arc::new(AtomicBool::new(false));
        self.stop = stop.clone();
        let ed = self.ed.clone();
        self.thread = Some(std::thread::spawn(move || reader_thread(ed, stop)));
    }

    /// Give the terminal to another program (`:edit`'s editor): no reader, the modes it had
    /// before the REPL (cooked), bracketed paste off, and job control signals leave it alone.
    fn hand_over(&mut self) {
        self.stop_reader();
        if let Ok(mut ed) = self.ed.lock() {
            ed.leave();
            ed.handed_over = true;
        }
        if let Some(saved) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSADRAIN, saved);
        }
    }

    /// Take the terminal back after [`Term::hand_over`]: raw again (set anew: the other
    /// program may have changed the modes), bracketed paste on, the reader running.
    fn take_back(&mut self) {
        if self.restored {
            return;
        }
        if let Ok(mut ed) = self.ed.lock() {
            if let Some((_, raw)) = &ed.modes {
                let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSADRAIN, raw);
            }
            ed.handed_over = false;
            ed.enter();
        }
        self.start_reader();
    }

    fn restore(&mut self) {
        if self.restored {
            return;
        }
        self.restored = true;
        if let Some(t) = self.signals.take() {
            t.abort();
        }
        self.stop_reader();
        let mut unsaved = None;
        let mut narrowed = None;
        if let Ok(mut ed) = self.ed.lock() {
            ed.leave();
            // A stop signal from now on leaves the terminal as restored.
            ed.handed_over = true;
            if let Some(h) = &self.history {
                match ed.save_history(h) {
                    Ok(said) => narrowed = said,
                    Err(e) => unsaved = Some((h.clone(), e)),
                }
            }
        }
        if let Some(saved) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSADRAIN, saved);
        }
        // Said on the terminal as restored: one line, the file left as it was.
        if let Some((h, e)) = unsaved {
            crate::render::glyphs::say_error(&format!(
                "the history could not be saved to {}: {} (the file is left as it was)",
                crate::render::human::escape_str(&h.display().to_string()),
                crate::render::human::escape_str(&e)
            ));
        }
        // A history made wider before is saved 0600: said once, as for the `--log` file.
        if let Some(said) = narrowed {
            crate::render::glyphs::say_warning(&crate::render::human::escape_str(&said));
        }
    }
}

/// Job control and resizing on a terminal: SIGTSTP (`kill -TSTP`, or the terminal's suspend key
/// while another program has it) stops the REPL with the terminal restored first, and SIGCONT
/// takes it raw again and redraws (as the Ctrl-Z key does); SIGWINCH redraws the line at the
/// new width. Catching SIGTSTP replaces its default action (stop), which is why the REPL
/// stops itself with SIGSTOP.
///
/// The handlers are installed at once (before the first prompt shows), the task started
/// later: a signal in between is kept for it.
fn job_signals(ed: Arc<Mutex<Editor>>) -> Option<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let rt = tokio::runtime::Handle::try_current().ok()?;
    let _entered = rt.enter();
    let tstp = SignalKind::from_raw(nix::sys::signal::Signal::SIGTSTP as i32);
    let (mut stop, mut winch) = (
        signal(tstp).ok()?,
        signal(SignalKind::window_change()).ok()?,
    );
    Some(rt.spawn(async move {
        loop {
            tokio::select! {
                s = stop.recv() => {
                    if s.is_none() {
                        return;
                    }
                    if let Ok(mut e) = ed.lock() {
                        e.suspend();
                    }
                }
                s = winch.recv() => {
                    if s.is_none() {
                        return;
                    }
                    if let Ok(mut e) = ed.lock() {
                        e.resized();
                    }
                }
            }
        }
    }))
}

impl Drop for Term {
    fn drop(&mut self) {
        self.restore();
    }
}

impl Ui {
    /// Start reading from the terminal (when `tty`) or from piped stdin. Returns the UI and
    /// writers for output and errors (printed above the edited line on a terminal).
    pub(crate) fn start(tty: bool) -> (Ui, Console, Console) {
        let completion = Arc::new(Mutex::new(CompletionData::default()));
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Answer>();
        let interrupt = Arc::new(Interrupt::default());
        if tty && let Ok(saved) = termios::tcgetattr(std::io::stdin().as_fd()) {
            let mut raw = saved.clone();
            // Raw input (no line discipline, no echo, no signals from keys: Ctrl-C is a key we
            // handle), output post-processing kept so `\n` still starts a new line.
            raw.local_flags.remove(
                LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG | LocalFlags::IEXTEN,
            );
            raw.input_flags.remove(
                InputFlags::ICRNL
                    | InputFlags::INLCR
                    | InputFlags::IGNCR
                    | InputFlags::IXON
                    | InputFlags::ISTRIP
                    | InputFlags::BRKINT,
            );
            raw.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
            raw.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
            if termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSADRAIN, &raw).is_ok() {
                let history = history_path();
                let notes: Arc<Mutex<Vec<InputNote>>> = Arc::default();
                let mut editor = Editor::new(tx, completion.clone(), interrupt.clone());
                editor.notes = notes.clone();
                editor.modes = Some((saved.clone(), raw.clone()));
                editor.dumb = crate::render::style::dumb_terminal();
                if let Some(h) = &history {
                    editor.load_history(h);
                }
                editor.enter();
                let ed = Arc::new(Mutex::new(editor));
                // The transcript goes where stdout goes: through the editor (printed above the
                // prompt) when stdout is its terminal, else to the pipe or file as it is.
                let out: Console = if stdout_is_screen() {
                    Box::new(TermWriter::new(ed.clone()))
                } else {
                    Box::new(std::io::stdout())
                };
                let err = TermWriter::new(ed.clone());
                let signals = job_signals(ed.clone());
                let mut term = Term {
                    ed,
                    stop: Arc::new(AtomicBool::new(true)),
                    thread: None,
                    signals,
                    saved: Some(saved),
                    history,
                    restored: false,
                };
                term.start_reader();
                return (
                    Ui {
                        inner: UiKind::Term(term),
                        rx,
                        outstanding: false,
                        more: false,
                        secret: false,
                        interrupt,
                        completion,
                        notes,
                    },
                    out,
                    Box::new(err),
                );
            }
        }
        let (req_tx, req_rx) = std::sync::mpsc::channel::<()>();
        let (batch_tx, batches) = tokio::sync::mpsc::unbounded_channel::<Vec<Piped>>();
        let thread = std::thread::spawn(move || pipe_thread(req_rx, batch_tx));
        (
            Ui {
                inner: UiKind::Pipe {
                    req: req_tx,
                    thread: Some(thread),
                    batches,
                    queue: VecDeque::new(),
                },
                rx,
                outstanding: false,
                more: false,
                secret: false,
                interrupt,
                completion,
                notes: Arc::default(),
            },
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
        )
    }

    /// What completion knows about the session: the async side updates it (capabilities).
    pub(crate) fn completion(&self) -> Arc<Mutex<CompletionData>> {
        self.completion.clone()
    }

    /// Is this the interactive editor (not a pipe)?
    pub(crate) fn is_tty(&self) -> bool {
        matches!(self.inner, UiKind::Term(_))
    }

    /// Notified when Ctrl-C is pressed while no line is being asked for (stop waiting).
    pub(crate) fn interrupt(&self) -> Arc<Interrupt> {
        self.interrupt.clone()
    }

    /// The status line of the terminal editor (`None` when stdin is a pipe).
    pub(crate) fn status_line(&self) -> Option<StatusLine> {
        match &self.inner {
            UiKind::Term(t) => Some(StatusLine(t.ed.clone())),
            UiKind::Pipe { .. } => None,
        }
    }

    /// Ask for a line. Asking again before it arrives only updates the prompt shown.
    pub(crate) fn request(&mut self, prompt: &str, kind: LineKind) {
        match &mut self.inner {
            UiKind::Term(t) => {
                if let Ok(mut ed) = t.ed.lock() {
                    ed.request(prompt, kind);
                }
            }
            // A line read already is taken without waking the reader.
            UiKind::Pipe { req, queue, .. } => {
                if !self.outstanding && queue.is_empty() {
                    let _ = req.send(());
                }
            }
        }
        self.outstanding = true;
    }

    /// The answer to the outstanding request (cancel-safe: a batch received is queued before
    /// anything else can happen).
    pub(crate) async fn recv(&mut self) -> Input {
        let (r, more, secret) = match &mut self.inner {
            UiKind::Pipe { batches, queue, .. } => {
                if queue.is_empty()
                    && let Some(batch) = batches.recv().await
                {
                    queue.extend(batch);
                }
                match queue.pop_front() {
                    Some((input, notes)) => {
                        // Said before the line they concern (or the end of the input) is run.
                        if !notes.is_empty()
                            && let Ok(mut n) = self.notes.lock()
                        {
                            n.extend(notes);
                        }
                        (input, false, false)
                    }
                    None => (Input::Eof, false, false),
                }
            }
            UiKind::Term(_) => self.rx.recv().await.unwrap_or((Input::Eof, false, false)),
        };
        self.outstanding = false;
        self.more = more;
        self.secret = secret;
        r
    }

    /// The keys typed so far and not read yet were typed during a SASL exchange that has
    /// ended unauthenticated: the lines they make are read as secrets (masked, kept out of
    /// the history, answered as typed at a secret prompt). A pipe has no such keys: its lines
    /// are read one at a time, when asked for.
    pub(crate) fn secret_typeahead(&mut self) {
        if let UiKind::Term(t) = &mut self.inner
            && let Ok(mut ed) = t.ed.lock()
        {
            ed.typeahead_secret = ed.pending.len();
        }
    }

    /// A Ctrl-C stopped the wait for a reply: the whole lines typed ahead before it are not
    /// run (a terminal's interrupt key flushes what was typed ahead, POSIX `termios` without
    /// `NOFLSH`: the user changed their mind, and the state they were typed for may never
    /// come), but put in the history, in the order typed, for Up to recall, and counted in the
    /// note returned. `as_` says what they may hold: after an AUTH none is kept (SASL
    /// responses, secrets); ahead of DATA's 354 every line is kept (the message); otherwise a
    /// line that cannot be a command is not (a password typed at the wrong prompt), nor one
    /// after a typed `AUTH` or `:auth`. A line half typed (no Enter yet) stays at the prompt.
    pub(crate) fn hold_typeahead(&mut self, as_: HeldAs) -> Option<String> {
        let UiKind::Term(t) = &mut self.inner else {
            return None;
        };
        let mut ed = t.ed.lock().ok()?;
        ed.hold_typeahead(as_)
    }

    /// Was the last line typed at a secret prompt?
    pub(crate) fn typed_secret(&self) -> bool {
        self.secret
    }

    /// What the piped reader said about the lines read so far (a line refused as not UTF-8,
    /// a line cut at 1 MiB), oldest first, each once: for the REPL to report as its own
    /// errors, so `--json` has them as events.
    pub(crate) fn take_notes(&self) -> Vec<InputNote> {
        self.notes
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default()
    }

    /// Did the last line come from a paste that has more lines waiting?
    pub(crate) fn more_pasted(&self) -> bool {
        self.more
    }

    /// Ask for a line and wait for it.
    pub(crate) async fn line(&mut self, prompt: &str, kind: LineKind) -> Input {
        self.request(prompt, kind);
        self.recv().await
    }

    /// Ask for a line with `initial` already typed in it, the cursor at its end (a line the
    /// REPL did not take, given back to be edited: no typed byte is lost); the answer is
    /// [`Ui::recv`]'s, so the caller may watch the connection while the line is typed. A pipe
    /// has no line being edited: it is asked for as [`Ui::request`] asks.
    pub(crate) fn request_with(&mut self, prompt: &str, kind: LineKind, initial: &str) {
        let asked = match &self.inner {
            UiKind::Term(t) => match t.ed.lock() {
                Ok(mut ed) => {
                    ed.request(prompt, kind);
                    // Keys typed ahead may have answered the request already: they come first.
                    if ed.req.is_some() && ed.line.is_empty() {
                        ed.line = initial.chars().collect();
                        ed.cursor = ed.line.len();
                        ed.render();
                    }
                    true
                }
                Err(_) => false,
            },
            UiKind::Pipe { .. } => false,
        };
        if !asked {
            self.request(prompt, kind);
            return;
        }
        self.outstanding = true;
    }

    /// Lend the terminal to another program (an editor): the REPL stops reading it and puts
    /// back the modes it found (cooked). `false` when there is no terminal to lend.
    pub(crate) fn hand_over(&mut self) -> bool {
        match &mut self.inner {
            UiKind::Term(t) => {
                t.hand_over();
                true
            }
            UiKind::Pipe { .. } => false,
        }
    }

    /// The terminal is back from [`Ui::hand_over`]: raw again, read again.
    pub(crate) fn take_back(&mut self) {
        if let UiKind::Term(t) = &mut self.inner {
            t.take_back();
        }
    }

    /// The REPL is leaving on a signal: the prompt and the status line are taken off the
    /// terminal and never drawn again, so the lines printed from now on ("*** SIGTERM:
    /// leaving") are the last ones, as the shell shows them once the REPL has gone. Returns
    /// how many characters the line being typed at the prompt had (0: none), and the lines
    /// and bytes typed ahead while a reply was awaited, not read yet: none of them is sent or
    /// kept, and only their size may be told (any may be a secret).
    pub(crate) fn leaving(&mut self) -> Unsent {
        if let UiKind::Term(t) = &mut self.inner
            && let Ok(mut ed) = t.ed.lock()
        {
            // A line the terminal's going away discarded first counts as one at the prompt.
            let gone = std::mem::take(&mut ed.eof_discarded);
            let at_prompt = if ed.req.is_some() {
                Discarded {
                    chars: ed.line.len(),
                    secret: ed.kind() == LineKind::Secret,
                    answer: ed.kind() == LineKind::Answer,
                }
            } else {
                gone
            };
            let ahead_lines = typed_ahead(&ed.pending);
            ed.stop_drawing();
            return Unsent {
                at_prompt,
                ahead_lines,
            };
        }
        Unsent::default()
    }

    /// The line half typed at the prompt that was discarded when the terminal went away (the
    /// end of the input, [`Input::Eof`]), once: none when nothing was typed.
    pub(crate) fn discarded_at_eof(&mut self) -> Discarded {
        if let UiKind::Term(t) = &mut self.inner
            && let Ok(mut ed) = t.ed.lock()
        {
            return std::mem::take(&mut ed.eof_discarded);
        }
        Discarded::default()
    }

    /// Stop reading, restore the terminal's modes and save the history.
    pub(crate) fn shutdown(mut self) {
        match &mut self.inner {
            UiKind::Term(t) => t.restore(),
            UiKind::Pipe { thread, .. } => {
                // A pipe read may block forever; the process is about to exit and nothing is
                // raw, so the thread is only joined when it is not reading.
                if !self.outstanding
                    && let Some(t) = thread.take()
                {
                    drop(std::mem::replace(
                        &mut self.inner,
                        UiKind::Pipe {
                            req: std::sync::mpsc::channel().0,
                            thread: None,
                            batches: tokio::sync::mpsc::unbounded_channel().1,
                            queue: VecDeque::new(),
                        },
                    ));
                    let _ = t.join();
                }
            }
        }
    }
}

/// One line of transient status on the terminal (the REPL's "waiting 7 s, 9 bytes so far"),
/// drawn where the prompt would be while no line is asked for, rewritten in place, kept below
/// any output printed meanwhile, and erased without a trace: never part of the transcript.
pub(crate) struct StatusLine(Arc<Mutex<Editor>>);

impl StatusLine {
    /// Show `text` (cut to the terminal's width), replacing what the line showed.
    pub(crate) fn show(&self, text: &str) {
        if let Ok(mut ed) = self.0.lock() {
            ed.set_status(Some(text));
        }
    }

    /// Erase the line (nothing when none is shown).
    pub(crate) fn clear(&self) {
        if let Ok(mut ed) = self.0.lock() {
            ed.set_status(None);
        }
    }
}

/// A command line the REPL refuses unsent because its first word cannot be an SMTP verb
/// ([`meta::cannot_be_command`]; a `:` meta-command is not one).
fn not_a_command(line: &str, caps: Option<&Capabilities>) -> bool {
    let verb = line.split_whitespace().next().unwrap_or("");
    !verb.starts_with(':') && meta::cannot_be_command(verb, caps)
}

/// `$XDG_DATA_HOME/ehlo/history`, else `~/.local/share/ehlo/history`.
pub(crate) fn history_path() -> Option<PathBuf> {
    history_path_in(&|k| std::env::var_os(k))
}

/// [`history_path`] with the environment `env`. An `XDG_DATA_HOME` that is not an absolute path
/// is ignored, as the XDG Base Directory Specification says ("If an implementation encounters a
/// relative path in any of these variables it should consider the path invalid and ignore
/// it"): taken, the history went to whatever directory the REPL was started in.
fn history_path_in(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let base = env("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|v| v.is_absolute())
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("ehlo").join("history"))
}

/// Ctrl-C while the session is busy (no line asked for): it stops the wait for a reply or a
/// TLS handshake ([`Interrupt::pressed`]). Kept until a wait takes it or a line is asked for
/// again: told only to the waits under way (tokio's `Notify::notify_waiters`), a Ctrl-C that
/// came as a wait was being set up, its handshake's ClientHello already sent, was lost, and the
/// handshake went on to the timeout (seen under load).
#[derive(Default)]
pub(crate) struct Interrupt {
    notify: tokio::sync::Notify,
    pressed: AtomicBool,
}

impl Interrupt {
    fn press(&self) {
        self.pressed.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    fn clear(&self) {
        self.pressed.store(false, Ordering::SeqCst);
    }

    /// Until Ctrl-C is pressed, or at once when it was since the line before was entered.
    pub(crate) async fn pressed(&self) {
        let woken = self.notify.notified();
        tokio::pin!(woken);
        // Set up before the look at `pressed`: a press between the two wakes it.
        woken.as_mut().enable();
        if !self.pressed.swap(false, Ordering::SeqCst) {
            woken.await;
            self.pressed.store(false, Ordering::SeqCst);
        }
    }
}

/// Reads every byte the terminal sends, for the whole session, into the editor's queue.
fn reader_thread(ed: Arc<Mutex<Editor>>, stop: Arc<AtomicBool>) {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let stdin = std::io::stdin();
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        let ready = {
            let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(50u8)) {
                Ok(n) => n > 0,
                Err(nix::errno::Errno::EINTR) => false,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(50));
                    false
                }
            }
        };
        if !ready {
            // A lone ESC with nothing after it is the Escape key, not the start of a sequence.
            if let Ok(mut e) = ed.lock() {
                e.idle();
            }
            continue;
        }
        match nix::unistd::read(stdin.as_fd(), &mut buf) {
            Ok(0) | Err(nix::errno::Errno::EIO) => {
                if let Ok(mut e) = ed.lock() {
                    e.eof = true;
                    e.process();
                }
                return;
            }
            Ok(n) => {
                if let Ok(mut e) = ed.lock() {
                    e.feed(&buf[..n]);
                }
            }
            Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => {}
            Err(_) => {
                if let Ok(mut e) = ed.lock() {
                    e.eof = true;
                    e.process();
                }
                return;
            }
        }
    }
}

/// The piped reader: at each request, the next line (waiting for it), and with it every other
/// whole line already in its buffer ([`PIPE_BATCH`] at most), each with its notes: one wake-up
/// of this thread and one of the REPL for a buffer of lines, not two per line. Nothing more is
/// read from stdin than a line-at-a-time reader reads (its buffer), and the lines keep their
/// order.
fn pipe_thread(
    req: std::sync::mpsc::Receiver<()>,
    tx: tokio::sync::mpsc::UnboundedSender<Vec<Piped>>,
) {
    let stdin = std::io::stdin();
    // Its own buffer, to see which lines it holds; stdin's is passed by (a read the size of
    // its buffer goes straight to the pipe).
    let mut r = std::io::BufReader::new(stdin.lock());
    let mut reader = PipeReader::default();
    while req.recv().is_ok() {
        if tx.send(reader.batch(&mut r)).is_err() {
            break;
        }
    }
}

/// Does `buf` hold a whole line, one [`read_piped_line`] takes without reading more: up to an
/// LF, or a CR with the byte after it (CRLF or a lone CR)?
fn whole_line_in(buf: &[u8]) -> bool {
    memchr::memchr2(b'\n', b'\r', buf).is_some_and(|i| buf[i] == b'\n' || i + 1 < buf.len())
}

/// The piped reader's state across lines.
#[derive(Default)]
struct PipeReader {
    eof: bool,
    number: u64,
    lone_cr_said: bool,
}

impl PipeReader {
    /// The next input (waiting for it), then every other input whose line is whole in `r`'s
    /// buffer, [`PIPE_BATCH`] at most, in order; the end of the input ends a batch.
    fn batch<R: std::io::Read>(&mut self, r: &mut std::io::BufReader<R>) -> Vec<Piped> {
        let mut batch = Vec::new();
        loop {
            let piped = self.next(r);
            let end = matches!(piped.0, Input::Eof);
            batch.push(piped);
            if end || batch.len() >= PIPE_BATCH || !whole_line_in(r.buffer()) {
                return batch;
            }
        }
    }

    /// The next input (the end of the input once reached, for ever) and what is said of it.
    fn next(&mut self, r: &mut impl BufRead) -> Piped {
        let mut notes = Vec::new();
        if self.eof {
            return (Input::Eof, notes);
        }
        let PipedLine {
            bytes: mut line,
            dropped,
            lone_cr,
        } = match read_piped_line(r, PIPED_LINE_MAX) {
            Ok(Some(line)) => line,
            Ok(None) | Err(_) => {
                self.eof = true;
                return (Input::Eof, notes);
            }
        };
        self.number += 1;
        let number = self.number;
        if lone_cr && !self.lone_cr_said {
            self.lone_cr_said = true;
            notes.push(InputNote::Warning(lone_cr_note(number)));
        }
        // A script saved by an editor that writes a byte order mark (Notepad): U+FEFF is no
        // part of the first command, which the server would refuse with it (`500 bad syntax`).
        if number == 1 && line.starts_with(BOM) {
            line.drain(..BOM.len());
            notes.push(InputNote::Warning(BOM_NOTE.to_string()));
        }
        if dropped > 0 {
            notes.push(InputNote::Error(format!(
                "input line {number} is longer than 1 MiB: its first {} bytes are taken, the \
                 other {dropped} dropped",
                line.len()
            )));
        }
        // Never altered (a lossy conversion would send EF BF BD for each bad byte): a line that
        // is not UTF-8 is refused whole, and said so; the REPL hears of it (inside a message,
        // the message is abandoned).
        match String::from_utf8(line) {
            Ok(text) => (Input::Line(text), notes),
            Err(e) => {
                notes.push(InputNote::Error(not_utf8(number, e.utf8_error())));
                (Input::Refused, notes)
            }
        }
    }
}

/// The UTF-8 byte order mark (U+FEFF) some editors write at the start of a file.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// What the piped reader says when it drops a [`BOM`]: a warning, where its other notes are
/// errors (nothing of the line is lost).
/// Said when a Ctrl-Z typed ahead in a wait cut an escape sequence (`ESC [ 1 ;` then
/// Ctrl-Z): the cut part goes with it, as with a Ctrl-C ([`Ui::hold_typeahead`]).
const CUT_BY_CTRL_Z: &str = "a key typed just before the Ctrl-Z was cut by it (an escape sequence without its end): dropped";

const BOM_NOTE: &str = "input line 1 starts with a UTF-8 byte order mark (EF BB BF): dropped, the rest of the line taken";

/// What the piped reader says, once, at the first line `number` that ends in a CR not followed
/// by LF: each such CR is taken as a line end.
fn lone_cr_note(number: u64) -> String {
    format!(
        "input line {number} ends in a CR without LF (classic Mac OS line ends?): each such CR \
         is taken as a line end, never sent as a bare CR; :raw \"\\r\" sends one"
    )
}

/// Why piped line `number` is refused: the first byte that is not UTF-8, and what sends it.
fn not_utf8(number: u64, e: std::str::Utf8Error) -> String {
    format!(
        "input line {number} is not UTF-8 (a bad byte at offset {}): not sent, nothing of it; \
         :raw \"\\xNN\" sends any byte",
        e.valid_up_to()
    )
}

/// Longest piped line taken, in bytes (far longer than any SMTP line, RFC 5321 4.5.3.1.6).
/// A replay script's input lines are held to it too ([`super::record::parse`]).
pub(super) const PIPED_LINE_MAX: usize = 1 << 20;

/// One line of piped input, as [`read_piped_line`] takes it.
#[derive(Debug, PartialEq, Eq)]
struct PipedLine {
    /// The line, without its line end.
    bytes: Vec<u8>,
    /// How many bytes of it were dropped (over the length limit).
    dropped: u64,
    /// It ended in a CR not followed by LF (classic Mac OS text, or a bare CR inside a line).
    lone_cr: bool,
}

/// One piped line without its line end, in bounded memory: `None` at the end of the input. A
/// line ends at LF, CRLF, or a CR not followed by LF: a bare CR is never sent from a script as
/// part of a line (it would smuggle a line end past the server's parser, RFC 5321 §2.3.8; a
/// script of classic Mac OS text, CR-only, would go out as one line); `:raw "\r"` sends one.
/// A line longer than `max` bytes is cut there (at a UTF-8 character boundary when it is UTF-8)
/// and the rest of it, up to its line end, is read and dropped, and counted. The rest never
/// comes back as lines of its own (a tail of "." would end a message early, the rest of a body
/// would go out as commands).
fn read_piped_line(r: &mut impl BufRead, max: usize) -> std::io::Result<Option<PipedLine>> {
    // Room past `max` for the character the cut falls in (4 bytes at most in UTF-8).
    let room = max.saturating_add(4);
    let mut line = Vec::new();
    let mut unkept = 0u64;
    let mut read_any = false;
    // The last byte read was a CR: LF next makes it a CRLF, anything else a lone CR.
    let mut cr = false;
    let lone_cr = loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            if !read_any {
                return Ok(None);
            }
            break cr;
        }
        read_any = true;
        if cr {
            if buf[0] == b'\n' {
                r.consume(1);
                break false;
            }
            break true;
        }
        let (part, end) = match buf.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(i) => (&buf[..i], Some(buf[i])),
            None => (buf, None),
        };
        let fits = part.len().min(room - line.len());
        line.extend_from_slice(&part[..fits]);
        unkept += (part.len() - fits) as u64;
        let used = part.len() + usize::from(end.is_some());
        r.consume(used);
        match end {
            Some(b'\n') => break false,
            Some(_) => cr = true,
            None => {}
        }
    };
    let mut dropped = unkept;
    if line.len() > max {
        let mut keep = max;
        // Not in the middle of a character: a UTF-8 line is cut at a character boundary.
        let valid = match std::str::from_utf8(&line) {
            Ok(_) => line.len(),
            Err(e) => e.valid_up_to(),
        };
        if valid > max
            && let Ok(text) = std::str::from_utf8(&line[..valid])
        {
            while !text.is_char_boundary(keep) {
                keep -= 1;
            }
        }
        dropped += (line.len() - keep) as u64;
        line.truncate(keep);
    }
    Ok(Some(PipedLine {
        bytes: line,
        dropped,
        lone_cr,
    }))
}

/// One key, decoded from the terminal's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Char(char),
    Enter,
    /// A line feed: Enter, unless it ends a CRLF pair.
    Lf,
    Tab,
    Backspace,
    Delete,
    Left,
    Right,
    Up,
    Down,
    Home,
    End,
    KillEnd,
    KillStart,
    KillWord,
    Clear,
    Interrupt,
    CtrlD,
    /// Ctrl-R: reverse incremental history search (older matches on repeat).
    SearchBack,
    /// Ctrl-S: the same search, towards newer entries.
    SearchForward,
    /// Ctrl-G: leave the search, restoring the line it started from.
    Abort,
    /// Ctrl-Z: suspend (the terminal restored first, raw again when continued).
    Suspend,
    PasteStart,
    PasteEnd,
    /// A byte that is no part of a UTF-8 character (a Latin-1 terminal's `é`, a cut sequence).
    Invalid,
    /// A key or sequence the editor does nothing with.
    Ignore,
}

/// What lines typed ahead of a reply whose wait Ctrl-C stopped may hold ([`Ui::hold_typeahead`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeldAs {
    /// Commands: a line that cannot be one is not kept.
    Commands,
    /// A message's lines, typed ahead of DATA's 354: each is kept.
    Content,
    /// SASL responses may be among them: none is kept.
    Secret,
}

/// A line typed ahead of a wait Ctrl-C stopped, as [`lines_of_keys`] rebuilds it.
#[derive(Debug, PartialEq, Eq)]
struct HeldLine {
    /// `None` for a line with a byte that is not UTF-8, or a control byte pasted (refused, as
    /// entered at a prompt).
    text: Option<String>,
    /// It held a key whose effect at a prompt depends on more than the keys (Up/Down and
    /// Ctrl-R recall the history, Tab completes a command, an Alt key or another escape
    /// sequence): kept without that effect, and said so, never silently different.
    unreplayed: bool,
}

/// The lines `keys` make, as the editor would have made them at a prompt asking for `kind`
/// (characters, Backspace/Delete, Left/Right/Home/End, Ctrl-A/E/B/F/D/U/K/W, a bracketed paste),
/// each ended by Enter or a line feed (a CRLF pair ends one); `in_paste` says a paste is open
/// before them. With them, whether one is open after them.
fn lines_of_keys(mut keys: &[u8], kind: LineKind, mut in_paste: bool) -> (Vec<HeldLine>, bool) {
    let mut lines = Vec::new();
    let (mut line, mut cursor) = (Vec::<char>::new(), 0);
    let (mut invalid, mut unreplayed, mut prev_cr) = (false, false, false);
    while let Some((key, used)) = next_key(keys) {
        let esc = keys[0] == 0x1b;
        keys = &keys[used..];
        let was_cr = std::mem::take(&mut prev_cr);
        if in_paste {
            match key {
                Key::PasteEnd => in_paste = false,
                Key::Char(c) => {
                    line.insert(cursor, c);
                    cursor += 1;
                }
                Key::Tab => {
                    line.insert(cursor, '\t');
                    cursor += 1;
                }
                Key::Enter | Key::Lf => {}
                // A control byte pasted is text no line sends: the line is refused.
                _ => invalid = true,
            }
        }
        match key {
            _ if in_paste && !matches!(key, Key::Enter | Key::Lf) => {}
            Key::Char(c) => {
                line.insert(cursor, c);
                cursor += 1;
            }
            Key::Tab => {
                // At a command prompt Tab completes, from what the server said: not replayed.
                unreplayed |= kind == LineKind::Command;
                line.insert(cursor, '\t');
                cursor += 1;
            }
            Key::Invalid => invalid = true,
            Key::Backspace if cursor > 0 => {
                let start = prev_boundary(&line, cursor);
                line.drain(start..cursor);
                cursor = start;
            }
            Key::Delete | Key::CtrlD if cursor < line.len() => {
                let end = next_boundary(&line, cursor);
                line.drain(cursor..end);
            }
            // Ctrl-D on an empty line ends the input at a prompt.
            Key::CtrlD if line.is_empty() => unreplayed = true,
            Key::Left => cursor = prev_boundary(&line, cursor),
            Key::Right if cursor < line.len() => cursor = next_boundary(&line, cursor),
            Key::Home => cursor = 0,
            Key::End => cursor = line.len(),
            Key::KillEnd => line.truncate(cursor),
            Key::KillStart => {
                line.drain(..cursor);
                cursor = 0;
            }
            Key::KillWord => {
                let mut i = cursor;
                while i > 0 && line[i - 1] == ' ' {
                    i -= 1;
                }
                while i > 0 && line[i - 1] != ' ' {
                    i -= 1;
                }
                line.drain(i..cursor);
                cursor = i;
            }
            Key::PasteStart => in_paste = true,
            Key::Up | Key::Down | Key::SearchBack | Key::SearchForward | Key::Abort => {
                unreplayed = true
            }
            // An Alt key or a sequence the editor does nothing with: at a prompt the user
            // would have seen that; typed ahead, they expected something of it.
            Key::Ignore if esc => unreplayed = true,
            Key::Enter | Key::Lf if !(key == Key::Lf && was_cr) => {
                let done: String = std::mem::take(&mut line).into_iter().collect();
                lines.push(HeldLine {
                    text: (!std::mem::take(&mut invalid)).then_some(done),
                    unreplayed: std::mem::take(&mut unreplayed),
                });
                cursor = 0;
                prev_cr = key == Key::Enter;
            }
            _ => {}
        }
    }
    (lines, in_paste)
}

/// What a signal's leaving discards of the typed input ([`Ui::leaving`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Unsent {
    /// The line at the prompt.
    pub(crate) at_prompt: Discarded,
    /// Lines typed ahead, not read yet (the last one maybe without its Enter). Counted
    /// only: their length is never told, as any of them may be a SASL response typed ahead of
    /// its 334 (a password in base64), whose length a byte count would give away.
    pub(crate) ahead_lines: usize,
}

/// A line half typed at the prompt, discarded unsent when the REPL leaves on a signal or the
/// terminal goes away.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Discarded {
    /// Its characters (0: nothing was typed).
    pub(crate) chars: usize,
    /// It was typed at a secret prompt (a password, a token, a SASL response).
    pub(crate) secret: bool,
    /// It was typed at a `[y/N]` question ([`LineKind::Answer`]): maybe the password one
    /// expected to be asked for next, so not counted either.
    pub(crate) answer: bool,
}

impl Discarded {
    /// What the transcript and the `--log` say of it: its length only (any line may be a
    /// secret), and not even that for one typed at a secret prompt, which is a secret (the
    /// masks ehlo prints have a fixed length for the same reason); `None` when nothing was
    /// typed.
    pub(crate) fn note(&self) -> Option<String> {
        match (self.chars, self.secret, self.answer) {
            (0, _, _) => None,
            (_, true, _) => {
                Some("*** a secret half typed at its prompt was discarded, unsent".into())
            }
            (_, _, true) => {
                Some("*** an answer half typed at a [y/N] question was discarded, unsent".into())
            }
            (n, false, false) => Some(format!(
                "*** an unsent line of {n} character{} was discarded",
                if n == 1 { "" } else { "s" }
            )),
        }
    }
}

/// The lines in `pending` (keys not read yet), paste markers and line ends left out; a line
/// is what lies between line ends, empty ones not counted.
fn typed_ahead(pending: &VecDeque<u8>) -> usize {
    let mut bytes: Vec<u8> = pending.iter().copied().collect();
    for marker in [b"\x1b[200~", b"\x1b[201~"] {
        while let Some(i) = bytes.windows(marker.len()).position(|w| w == marker) {
            bytes.drain(i..i + marker.len());
        }
    }
    bytes
        .split(|&b| b == b'\r' || b == b'\n')
        .filter(|line| !line.is_empty())
        .count()
}

/// Decode one key from the front of `b`: `None` when more bytes are needed.
fn next_key(b: &[u8]) -> Option<(Key, usize)> {
    next_key_in(b, crate::render::glyphs::latin())
}

/// [`next_key`] from a terminal whose characters are `latin`'s bytes when it is set (a
/// Latin-1 terminal sends `é` as the one byte 0xE9, which is no UTF-8: refused as such, the
/// line it was typed in could not be sent), else UTF-8.
fn next_key_in(b: &[u8], latin: Option<crate::render::glyphs::Latin>) -> Option<(Key, usize)> {
    let first = *b.first()?;
    if first >= 0x80
        && let Some(set) = latin
    {
        return Some((set.decode(first).map_or(Key::Invalid, Key::Char), 1));
    }
    let k = match first {
        b'\r' => Key::Enter,
        b'\n' => Key::Lf,
        b'\t' => Key::Tab,
        0x7f | 0x08 => Key::Backspace,
        0x01 => Key::Home,
        0x05 => Key::End,
        0x02 => Key::Left,
        0x06 => Key::Right,
        0x10 => Key::Up,
        0x0e => Key::Down,
        0x0b => Key::KillEnd,
        0x15 => Key::KillStart,
        0x17 => Key::KillWord,
        0x0c => Key::Clear,
        0x03 => Key::Interrupt,
        0x04 => Key::CtrlD,
        0x12 => Key::SearchBack,
        0x13 => Key::SearchForward,
        0x07 => Key::Abort,
        0x1a => Key::Suspend,
        0x1b => return escape(b),
        0x00..=0x1f => Key::Ignore,
        0x20..=0x7e => Key::Char(first as char),
        _ => {
            let len = match first {
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => return Some((Key::Invalid, 1)),
            };
            if b.len() < len {
                // Wait for the rest unless a byte already shows it is broken.
                if b[1..].iter().any(|c| c & 0xc0 != 0x80) {
                    return Some((Key::Invalid, 1));
                }
                return None;
            }
            return match std::str::from_utf8(&b[..len]) {
                Ok(s) => Some(
                    s.chars()
                        .next()
                        .map_or((Key::Invalid, 1), |c| (Key::Char(c), len)),
                ),
                Err(_) => Some((Key::Invalid, 1)),
            };
        }
    };
    Some((k, 1))
}

/// An escape sequence (CSI `ESC [ … final`, SS3 `ESC O x`, or Alt+key).
fn escape(b: &[u8]) -> Option<(Key, usize)> {
    let second = *b.get(1)?;
    match second {
        b'[' => {
            // Parameters and intermediates (0x20..=0x3f), then a final byte in 0x40..=0x7e
            // (ECMA-48 §5.4). Any other byte cuts the sequence: what came of it is a key
            // that does nothing, and the byte is read as its own key, so a Ctrl-C typed after
            // a sequence cut mid-parameters (`ESC [ 1 ;`) is seen, not taken into it.
            let end = b[2..].iter().position(|c| !(0x20..=0x3f).contains(c))?;
            if !(0x40..=0x7e).contains(&b[2 + end]) {
                return Some((Key::Ignore, 2 + end));
            }
            let params = &b[2..2 + end];
            let fin = b[2 + end];
            let used = 3 + end;
            let k = match (fin, params) {
                (b'A', _) => Key::Up,
                (b'B', _) => Key::Down,
                (b'C', _) => Key::Right,
                (b'D', _) => Key::Left,
                (b'H', _) => Key::Home,
                (b'F', _) => Key::End,
                (b'~', b"1" | b"7") => Key::Home,
                (b'~', b"4" | b"8") => Key::End,
                (b'~', b"3") => Key::Delete,
                (b'~', b"200") => Key::PasteStart,
                (b'~', b"201") => Key::PasteEnd,
                _ => Key::Ignore,
            };
            Some((k, used))
        }
        b'O' => {
            let third = *b.get(2)?;
            if third < 0x20 {
                return Some((Key::Ignore, 2));
            }
            let k = match third {
                b'A' => Key::Up,
                b'B' => Key::Down,
                b'C' => Key::Right,
                b'D' => Key::Left,
                b'H' => Key::Home,
                b'F' => Key::End,
                _ => Key::Ignore,
            };
            Some((k, 3))
        }
        // A lone ESC before another sequence (a pasted ESC just before the paste's end
        // marker): the ESC alone, so the sequence after it is still read.
        // The same for a control byte after an ESC (Escape, then Ctrl-C): its own key.
        0x00..=0x1f => Some((Key::Ignore, 1)),
        _ => Some((Key::Ignore, 2)),
    }
}

/// The line being asked for.
struct Request {
    prompt: String,
    kind: LineKind,
}

/// A Ctrl-R search in progress (as readline's reverse-i-search): the line shows the match.
struct Search {
    query: String,
    /// The history entry matched; `None` before the first match.
    at: Option<usize>,
    /// Nothing matches the query (from where the search stands).
    failed: bool,
    /// The line and cursor before the search (Ctrl-G puts them back).
    saved: Vec<char>,
    saved_cursor: usize,
}

/// The editor: every byte from the terminal, the line being edited, the history, and the
/// screen (prompt drawn or not). Shared by the reader thread, the async side (requests) and the
/// output writers, under one lock, so output and the prompt never interleave mid-line.
struct Editor {
    pending: VecDeque<u8>,
    /// How many bytes at the front of `pending` were typed during a SASL exchange that ended
    /// unauthenticated ([`Ui::secret_typeahead`]): they are edited and answered as a secret
    /// whatever prompt asks for them.
    typeahead_secret: usize,
    /// How many bytes at the front of `pending` were typed before a Ctrl-C pressed while a
    /// reply was awaited: they are not run as typed ahead ([`Ui::hold_typeahead`]).
    held: usize,
    /// The last Ctrl-C typed ahead cut an escape sequence (`ESC [ 1 ;`): the part typed was
    /// dropped with it, said with the lines held ([`Editor::hold_typeahead`]).
    cut_key: bool,
    /// Reader polls in a row that brought nothing ([`Editor::idle`]).
    quiet: u32,
    req: Option<Request>,
    line: Vec<char>,
    cursor: usize,
    drawn: bool,
    in_paste: bool,
    prev_cr: bool,
    last_tab: bool,
    eof: bool,
    /// Characters of the line half typed at the prompt when the terminal went away (a read
    /// gave EIO or nothing: the terminal closed): answered as the end of the input, the line is
    /// discarded, and said so by its length ([`Ui::leaving`], [`Ui::discarded_at_eof`]).
    eof_discarded: Discarded,
    history: Vec<String>,
    /// How many of `history`'s last entries this session added: saved after the file's
    /// entries as they are then, so that a session that ended meanwhile keeps its own.
    hist_added: usize,
    hist_pos: Option<usize>,
    hist_saved: Vec<char>,
    search: Option<Search>,
    /// The last search's query (Ctrl-R Ctrl-R searches for it again, as in readline).
    last_query: String,
    /// The status line's text ([`StatusLine`]) and whether it is on the screen now (the
    /// cursor is then at its row's start).
    status: Option<String>,
    status_drawn: bool,
    /// Rows of the drawn prompt and line above the cursor, and below it: a redraw goes up to
    /// the first row and clears from there, so a line wrapped over several rows leaves nothing.
    cursor_row: usize,
    rows_below: usize,
    /// A line taller than the screen is drawn as a window of the screen's height around the
    /// cursor ([`Editor::render`]): the row of the line at the window's top (the screen's top
    /// row), 0 when the whole line is drawn.
    top: usize,
    /// The terminal's modes before the editor (restored around Ctrl-Z) and its raw modes.
    modes: Option<(Termios, Termios)>,
    /// Another program has the terminal (`:edit`), or the REPL is leaving: a stop signal
    /// stops without touching the modes, a resize draws nothing.
    handed_over: bool,
    /// The width the line was last drawn at (a resize redraws when it changed).
    cols: usize,
    tx: tokio::sync::mpsc::UnboundedSender<Answer>,
    completion: Arc<Mutex<CompletionData>>,
    interrupt: Arc<Interrupt>,
    /// Inside [`Editor::process`]: keys change the line, the screen is drawn once at the end
    /// of the batch (`dirty`), so a long paste costs output in proportion to its length, not
    /// its square.
    batch: bool,
    dirty: bool,
    /// Characters past [`LINE_MAX`] typed for this line (the line is refused when it is
    /// entered).
    refused: usize,
    /// Bytes typed into this line that are not UTF-8 ([`Editor::insert_invalid`]).
    invalid: usize,
    /// Control bytes pasted into this line ([`Editor::insert_control`]).
    controls: usize,
    /// The REPL is leaving on a signal ([`Ui::leaving`]): no prompt or status line is drawn
    /// again, output is only printed.
    leaving: bool,
    /// A terminal that cannot move its cursor or clear (`TERM=dumb`, or no `TERM`: Emacs'
    /// `M-x shell`, some CI terminals): drawn without a control sequence ([`Editor::dumb_show`]).
    dumb: bool,
    /// On a dumb terminal: the prompt and the line as written on the current row so far.
    dumb_shown: String,
    out: Box<dyn Write + Send>,
    /// What the editor has to say that is no answer to a request (a key cut by a Ctrl-Z typed
    /// ahead), shared with [`Ui`] and said as the piped reader's notes are ([`Ui::take_notes`]).
    notes: Arc<Mutex<Vec<InputNote>>>,
    /// Stops the process for [`Editor::suspend`] (SIGSTOP); tests stop nothing.
    stop: fn(),
}

/// The history file's entries as stored, bytes, the last [`HISTORY_MAX`] (none when it cannot
/// be read). Bytes, not text: a file holding a line that is not UTF-8 (written by hand in a
/// Latin-1 editor, by another tool) is still read, and such a line kept as it is when the file
/// is saved again. Read as text, one such line made the whole file unreadable: nothing to recall,
/// and the save that ends the session replaced every entry with the session's own.
///
/// Only a regular file is read, and its last [`HISTORY_READ_MAX`] bytes at most: a FIFO in its
/// place hung the REPL before its first prompt (its `open(2)` waits for a writer), and
/// `/dev/zero` or a file grown without bound was read whole into memory.
fn read_history_lines(path: &std::path::Path) -> Vec<Vec<u8>> {
    use std::io::{Read, Seek};
    let Some(mut f) = open_history(path) else {
        return Vec::new();
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let skip = len.saturating_sub(HISTORY_READ_MAX);
    if skip > 0 && f.seek(std::io::SeekFrom::Start(skip)).is_err() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    if (&mut f)
        .take(HISTORY_READ_MAX)
        .read_to_end(&mut bytes)
        .is_err()
    {
        return Vec::new();
    }
    // Read from inside a line: that line's end is no entry.
    if skip > 0 {
        let start = bytes
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        bytes.drain(..start);
    }
    let mut lines: Vec<Vec<u8>> = bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty() && *l != b"#V2")
        .map(<[u8]>::to_vec)
        .collect();
    let extra = lines.len().saturating_sub(HISTORY_MAX);
    lines.drain(..extra);
    lines
}

/// The most of the history file read: its end, which holds its last [`HISTORY_MAX`] entries
/// (64 KiB a line at most as typed, most far shorter).
const HISTORY_READ_MAX: u64 = 16 * 1024 * 1024;

/// The history file, opened to read when it is a regular file. Opened without blocking: a
/// FIFO's `open(2)` waits for its other end, and a FIFO, a device or a directory in its place
/// is left alone.
fn open_history(path: &std::path::Path) -> Option<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    f.metadata().ok()?.is_file().then_some(f)
}

/// The file a history `path` names: the end of its symbolic links (a link whose file is missing:
/// the file it would name), else `path` itself.
fn history_target(path: &std::path::Path) -> std::path::PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let mut target = path.to_path_buf();
    // A link to a file not made yet: followed as open(2) would, a few links deep.
    for _ in 0..8 {
        match std::fs::read_link(&target) {
            Ok(next) => {
                target = match target.parent() {
                    Some(dir) => dir.join(next),
                    None => next,
                }
            }
            Err(_) => break,
        }
    }
    target
}

/// Replace `path` with a file holding `text`, readable by its owner only (0600: a file made
/// wider before, by hand or an older ehlo, is narrowed, as it may hold addresses and the like):
/// written whole to a new file in the same directory (created, never reused: `O_EXCL`), synced,
/// and renamed over `path` (rename(2) replaces it at once, old file or new, never half of one).
/// On an error the new file is removed and `path` left as it was; the error is the reason.
fn replace_file(path: &std::path::Path, text: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut tries = 0u32;
    let (tmp, mut f) = loop {
        let tmp = dir.join(format!(".{name}.{}.{tries}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 16 => tries += 1,
            Err(e) => return Err(e.to_string()),
        }
    };
    let written = f
        .write_all(text)
        .and_then(|()| f.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.to_string());
    }
    Ok(())
}

/// The history file's entries that can be recalled: those that are UTF-8 (one that is not
/// could not be sent as stored, and recalled with U+FFFD in place of its bytes it would be sent
/// altered).
fn read_history(path: &std::path::Path) -> Vec<String> {
    read_history_lines(path)
        .into_iter()
        .filter_map(|l| String::from_utf8(l).ok())
        .collect()
}

impl Editor {
    fn new(
        tx: tokio::sync::mpsc::UnboundedSender<Answer>,
        completion: Arc<Mutex<CompletionData>>,
        interrupt: Arc<Interrupt>,
    ) -> Editor {
        Editor {
            pending: VecDeque::new(),
            req: None,
            line: Vec::new(),
            cursor: 0,
            drawn: false,
            in_paste: false,
            typeahead_secret: 0,
            held: 0,
            cut_key: false,
            quiet: 0,
            prev_cr: false,
            last_tab: false,
            eof: false,
            eof_discarded: Discarded::default(),
            history: Vec::new(),
            hist_added: 0,
            hist_pos: None,
            hist_saved: Vec::new(),
            search: None,
            last_query: String::new(),
            status: None,
            status_drawn: false,
            cursor_row: 0,
            rows_below: 0,
            top: 0,
            modes: None,
            handed_over: false,
            cols: 0,
            tx,
            completion,
            interrupt,
            batch: false,
            dirty: false,
            refused: 0,
            invalid: 0,
            controls: 0,
            leaving: false,
            dumb: false,
            dumb_shown: String::new(),
            out: screen_writer(),
            notes: Arc::default(),
            stop: || {
                let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
            },
        }
    }

    /// Writes `s` to the terminal: as UTF-8, or on a Latin-1/Latin-9 terminal in its bytes
    /// (a character it has none for as `?`, one column, as [`char_width`] counts it). Written
    /// as UTF-8 there, a typed `é` came back as `Ã©`, two columns where one was counted.
    fn write(&mut self, s: &str) {
        let _ = match crate::render::glyphs::latin() {
            Some(set) => self.out.write_all(&set.bytes(s)),
            None => self.out.write_all(s.as_bytes()),
        };
        let _ = self.out.flush();
    }

    /// Bracketed paste on (the terminal marks pasted text, so it is never taken for typing).
    /// Not on a dumb terminal, which would print the sequence.
    fn enter(&mut self) {
        if !self.dumb {
            self.write("\x1b[?2004h");
        }
    }

    /// Leave the screen clean: finish a drawn prompt, bracketed paste off.
    fn leave(&mut self) {
        self.erase_status();
        if self.dumb {
            if std::mem::take(&mut self.drawn) {
                self.dumb_shown.clear();
                self.write("\r\n");
            }
            return;
        }
        if self.drawn {
            let down = std::mem::take(&mut self.rows_below);
            let mut s = String::new();
            if down > 0 {
                s.push_str(&format!("\x1b[{down}B"));
            }
            s.push_str("\r\n");
            self.write(&s);
            self.drawn = false;
            self.cursor_row = 0;
        }
        self.write("\x1b[?2004l");
    }

    /// Ctrl-Z: give the terminal back as it was (cooked, bracketed paste off), stop the process
    /// as the shell's job control expects (SIGTSTP, readline does the same), and when the shell
    /// continues it (SIGCONT, `fg`) take the terminal raw again and draw the line anew. The
    /// shell may have changed the modes meanwhile, so they are set again, not assumed.
    ///
    /// The same for SIGTSTP sent from outside (`kill -TSTP`): the REPL catches it
    /// ([`job_signals`]), so the stop itself is SIGSTOP, which cannot be caught. While another
    /// program has the terminal (`:edit`), only the stop: the modes are that program's.
    fn suspend(&mut self) {
        if !job_control() {
            // Nobody could continue a stopped REPL (POSIX discards stop signals from the
            // terminal for such an orphaned process group too).
            return;
        }
        let Some((saved, raw)) = self.modes.clone().filter(|_| !self.handed_over) else {
            (self.stop)();
            return;
        };
        self.leave();
        let stdin = std::io::stdin();
        let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSADRAIN, &saved);
        // Only this process: the REPL's terminal may share a process group with its caller.
        (self.stop)();
        // Running again: the shell may have changed the modes meanwhile.
        let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSADRAIN, &raw);
        self.enter();
        self.render();
    }

    /// The terminal changed size (SIGWINCH): draw the line again at the new width. The rows
    /// drawn before stay where they were (xterm and the VT100 keep rows as drawn; the cursor
    /// stays on its row), so the redraw goes up as many rows as the old drawing had above the
    /// cursor, clears from there and wraps at the new width.
    fn resized(&mut self) {
        if self.dumb || self.handed_over || !self.drawn || terminal_cols() == self.cols {
            return;
        }
        self.render();
    }

    fn load_history(&mut self, path: &std::path::Path) {
        self.history = read_history(path);
        self.hist_added = 0;
    }

    /// Save the history: the file as it is now merged with this session's lines, written to a
    /// new file beside it and renamed over it. An error (a full disk, the file-size limit, a
    /// directory that takes no file) leaves the file as it was and is returned, said by the
    /// caller; the file used to be emptied first and then written, so a write that failed lost
    /// every entry. A FIFO, a device or a directory in its place is left alone, unsaid. A file
    /// that others could read or write is replaced by one that is 0600: `Ok` then holds the
    /// line that says so ([`crate::app::narrowed_line`]), for the caller to warn of.
    fn save_history(&self, path: &std::path::Path) -> Result<Option<String>, String> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // The file as it is now (another session may have saved its lines since this one
        // loaded it), then the lines typed here, as bash's `histappend` keeps both.
        let mut merged = read_history_lines(path);
        let added = &self.history[self.history.len() - self.hist_added..];
        for h in added {
            if merged.last().map(Vec::as_slice) != Some(h.as_bytes()) {
                merged.push(h.as_bytes().to_vec());
            }
        }
        let extra = merged.len().saturating_sub(HISTORY_MAX);
        merged.drain(..extra);
        let mut text = Vec::new();
        for h in &merged {
            text.extend_from_slice(h);
            text.push(b'\n');
        }
        // A symbolic link (a history kept with other dotfiles) stays one: the file it names is
        // replaced, not the link.
        let target = history_target(path);
        let was = match std::fs::metadata(&target) {
            Ok(m) if !m.is_file() => return Ok(None),
            Ok(m) => {
                use std::os::unix::fs::PermissionsExt as _;
                Some(m.permissions().mode() & 0o7777).filter(|mode| mode & 0o077 != 0)
            }
            Err(_) => None,
        };
        replace_file(&target, &text)?;
        Ok(was.map(|was| crate::app::narrowed_line(path, 0o600, was)))
    }

    fn remember(&mut self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        // A typed AUTH with an initial response holds a secret: keep the command, mask it.
        let entry = crate::smtp::manual::redact_typed_line(line)
            .or_else(|| meta::redact_raw_line(line))
            .unwrap_or_else(|| line.to_string());
        // A secret seen earlier in the session (`:raw "<base64 of the password>\r\n"` after
        // the exchange ended), masked as a typed AUTH's is.
        let entry = self.registry_mask(&entry).unwrap_or(entry);
        if self.history.last() != Some(&entry) {
            self.history.push(entry);
            self.hist_added += 1;
        }
        let extra = self.history.len().saturating_sub(HISTORY_MAX);
        self.history.drain(..extra);
        self.hist_added = self.hist_added.min(self.history.len());
    }

    fn request(&mut self, prompt: &str, kind: LineKind) {
        if self.leaving {
            return;
        }
        match &mut self.req {
            Some(r) if r.prompt == prompt && r.kind == kind => return,
            Some(r) => {
                r.prompt = prompt.to_string();
                // A secret being typed stays hidden (and out of the history) whatever the
                // session says meanwhile: a reply that ends the SASL exchange must not show it.
                if r.kind != LineKind::Secret || self.line.is_empty() {
                    r.kind = kind;
                }
            }
            None => {
                // A Ctrl-C no wait took is not for the next command's.
                self.interrupt.clear();
                self.held = 0;
                self.cut_key = false;
                self.req = Some(Request {
                    prompt: prompt.to_string(),
                    kind,
                });
                self.line.clear();
                self.cursor = 0;
                self.hist_pos = None;
                self.last_tab = false;
                self.refused = 0;
                self.invalid = 0;
                self.controls = 0;
            }
        }
        self.render();
        self.process();
    }

    /// [`Ui::hold_typeahead`]: the whole lines of the bytes held at the last Ctrl-C.
    fn hold_typeahead(&mut self, as_: HeldAs) -> Option<String> {
        let held = std::mem::take(&mut self.held).min(self.pending.len());
        let bytes: Vec<u8> = self.pending.iter().take(held).copied().collect();
        let cut = std::mem::take(&mut self.cut_key).then_some(
            "; a key typed just before the Ctrl-C was cut by it (an escape sequence without its end): dropped",
        );
        let Some(end) = bytes.iter().rposition(|&b| b == b'\r' || b == b'\n') else {
            return cut.map(|c| format!("a key{}", &c["; a key".len()..]));
        };
        // A CRLF pair split by the Ctrl-C: its LF goes with it.
        let mut used = end + 1;
        if bytes[end] == b'\r' && self.pending.get(used) == Some(&b'\n') {
            used += 1;
        }
        self.pending.drain(..used);
        self.typeahead_secret = self.typeahead_secret.saturating_sub(used);
        let kind = match as_ {
            HeldAs::Commands => LineKind::Command,
            HeldAs::Content => LineKind::Data,
            HeldAs::Secret => LineKind::Secret,
        };
        // The paste state goes on from where the held lines end: a paste they open stays open
        // for the keys after them, one they close is closed (it used to be left as it was
        // before them, so the keys after a closed paste were taken as pasted text).
        let (lines, in_paste) = lines_of_keys(&bytes[..=end], kind, self.in_paste);
        self.in_paste = in_paste;
        let total = lines.len();
        let (mut kept, mut unreplayed, mut secret) = (0, 0, as_ == HeldAs::Secret);
        for held in lines {
            let Some(line) = held.text else { continue };
            let first = line.split_whitespace().next().unwrap_or("");
            let refused = as_ == HeldAs::Commands && {
                let caps = self.completion.lock().ok().and_then(|d| d.caps.clone());
                not_a_command(&line, caps.as_ref())
            };
            if secret || refused || line.trim().is_empty() {
                continue;
            }
            self.remember(&line);
            kept += 1;
            unreplayed += usize::from(held.unreplayed);
            // The lines after a typed AUTH may be its responses.
            secret = first.eq_ignore_ascii_case("AUTH") || first.eq_ignore_ascii_case(":auth");
        }
        let lines = if total == 1 { "line" } else { "lines" };
        let rest = total - kept;
        let mut note = match (kept, rest) {
            (0, _) => format!(
                "{total} {lines} typed ahead not sent (Ctrl-C), nor kept (blank, not UTF-8, or maybe a secret)"
            ),
            (_, 0) => format!(
                "{total} {lines} typed ahead not sent (Ctrl-C): kept in the history, Up recalls them"
            ),
            _ => format!(
                "{total} {lines} typed ahead not sent (Ctrl-C): {kept} kept in the history (Up recalls them), {rest} not (blank, not UTF-8, or maybe a secret)"
            ),
        };
        if unreplayed > 0 {
            let (n, has) = if unreplayed == 1 {
                ("one".to_string(), "has")
            } else {
                (unreplayed.to_string(), "have")
            };
            note.push_str(&format!(
                "; {n} kept {has} a key typed ahead that only a prompt can act on (Tab, Up/Down, Ctrl-R, an Alt key): kept without what it does there, check before Enter"
            ));
        }
        note.push_str(cut.unwrap_or(""));
        Some(note)
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.quiet = 0;
        self.pending.extend(bytes);
        self.process();
    }

    /// Nothing more arrived: a lone ESC is the Escape key. Not inside a paste: there it is the
    /// start of the end marker (`ESC [201~`), whose rest a slow link may bring later; taken for
    /// a key, the rest would become text and the paste would never end.
    fn idle(&mut self) {
        // A bracketed paste whose end marker has not come after a quiet second never will (a
        // terminal writes a paste at once, its end marker with it): it is taken as ended where
        // the input stopped, its text kept as typed. Left open, the line was not drawn, and
        // every key after it, Ctrl-C and the arrows too, was taken as pasted text.
        self.quiet = self.quiet.saturating_add(1);
        if self.quiet == PASTE_STALL_POLLS && self.paste_open() {
            self.feed(b"\x1b[201~");
            return;
        }
        if !self.in_paste && self.pending.len() == 1 && self.pending[0] == 0x1b {
            self.pending.clear();
            self.typeahead_secret = 0;
        }
        // The same for a byte that starts a UTF-8 character whose rest never came: a Latin-1
        // terminal's `é` (0xE9) typed last. It is no UTF-8 (a terminal writes a character's
        // bytes at once), so it is shown now as such a byte is, not only when a next key
        // comes: until then the key seemed to do nothing.
        if !self.in_paste && self.req.is_some() && self.pending.front().is_some_and(|&b| b >= 0xc0)
        {
            self.pending.make_contiguous();
            if next_key(self.pending.as_slices().0).is_none() {
                self.pending.pop_front();
                self.key(Key::Invalid);
                self.typeahead_secret = self.typeahead_secret.saturating_sub(1);
                self.process();
            }
        }
    }

    /// Run the queued keys while a line is asked for, then draw the line once (not during a
    /// paste: its end draws it). Ctrl-C while nothing is asked for stops the wait for a reply;
    /// every other byte waits for the next prompt.
    fn process(&mut self) {
        self.batch = true;
        self.run_keys();
        self.batch = false;
        if self.dirty && !self.in_paste {
            self.render();
        }
    }

    fn run_keys(&mut self) {
        loop {
            if self.req.is_none() {
                // The end marker of a paste whose lines have all been taken: the paste is over
                // (the marker does nothing else), so a Ctrl-C behind it stops the wait for the
                // pasted commands' replies instead of waiting for the next prompt.
                let end = b"\x1b[201~";
                if self.in_paste && self.pending.iter().take(end.len()).eq(end.iter()) {
                    self.pending.drain(..end.len());
                    self.typeahead_secret = self.typeahead_secret.saturating_sub(end.len());
                    self.in_paste = false;
                    continue;
                }
                // Busy: only Ctrl-C and Ctrl-Z act now (outside a paste); the rest waits, in
                // order. Ctrl-Z too: the terminal stays raw while a reply is awaited, so the
                // key is ours to act on, and a shell user expects the stop at once (a
                // cooked-mode program would get SIGTSTP from the terminal then), not when the
                // reply or the timeout comes.
                if let Some((start, i)) = self.busy_key() {
                    // An escape sequence the key cut goes with it: left, it would take the
                    // next key typed for its end.
                    let byte = self.pending.get(i).copied();
                    self.pending.drain(start..=i);
                    let before = self.typeahead_secret.min(i + 1).saturating_sub(start);
                    self.typeahead_secret -= before;
                    if byte == Some(0x1a) {
                        // Said as the Ctrl-C's note says it ([`Ui::hold_typeahead`]); it used
                        // to be dropped unsaid.
                        if start < i
                            && let Ok(mut notes) = self.notes.lock()
                        {
                            notes.push(InputNote::Warning(CUT_BY_CTRL_Z.to_string()));
                        }
                        self.suspend();
                    } else {
                        // What was typed before it is held, not run ([`Ui::hold_typeahead`]).
                        self.held = start;
                        self.cut_key = start < i;
                        self.interrupt.press();
                    }
                    continue;
                }
                return;
            }
            self.pending.make_contiguous();
            let (front, _) = self.pending.as_slices();
            let Some((key, used)) = next_key(front) else {
                if self.eof {
                    // The terminal is gone: what is half typed (and a character or sequence
                    // whose rest will never come) is discarded, counted for the leaving notes.
                    self.eof_discarded = Discarded {
                        chars: self.line.len() + self.pending.len(),
                        secret: self.kind() == LineKind::Secret,
                        answer: self.kind() == LineKind::Answer,
                    };
                    self.pending.clear();
                    self.answer(Input::Eof);
                }
                return;
            };
            self.pending.drain(..used);
            self.key(key);
            // Counted down after the key: the Enter that ends a secret line is still secret.
            self.typeahead_secret = self.typeahead_secret.saturating_sub(used);
        }
    }

    /// Where the first Ctrl-C or Ctrl-Z typed ahead is in `pending`, as a key: not one inside a
    /// paste (text there), nor a byte of an escape sequence. An arrow or Home typed ahead of it
    /// used to hide it (any ESC before it did, for fear of a paste's start), so the wait went on
    /// and the lines typed ahead ran when the reply came, the Ctrl-C with them.
    /// With it, where an escape sequence it cut begins (`ESC [ 1 ;` then Ctrl-C), else the
    /// key's own place.
    fn busy_key(&self) -> Option<(usize, usize)> {
        let first = self.pending.iter().position(|&b| b == 0x03 || b == 0x1a)?;
        if !self.in_paste && !self.pending.iter().take(first).any(|&b| b == 0x1b) {
            return Some((first, first));
        }
        let bytes: Vec<u8> = self.pending.iter().copied().collect();
        let (mut at, mut in_paste, mut cut) = (0, self.in_paste, None);
        while let Some((key, used)) = next_key(&bytes[at..]) {
            match key {
                Key::PasteEnd if in_paste => in_paste = false,
                Key::PasteStart if !in_paste => in_paste = true,
                Key::Interrupt | Key::Suspend if !in_paste => return Some((cut.unwrap_or(at), at)),
                _ => {}
            }
            // An escape sequence that ends without its final byte was cut by the next one.
            let seq = &bytes[at..at + used];
            let unfinished = seq[0] == 0x1b
                && match seq.get(1) {
                    None => true,
                    Some(b'[') => !(0x40..=0x7e).contains(&seq[used - 1]) || used == 2,
                    Some(b'O') => used == 2,
                    _ => false,
                };
            cut = (unfinished && !in_paste).then_some(at);
            at += used;
        }
        None
    }

    /// Is a bracketed paste open at the end of the keys queued?
    fn paste_open(&self) -> bool {
        let bytes: Vec<u8> = self.pending.iter().copied().collect();
        let (mut at, mut in_paste) = (0, self.in_paste);
        while let Some((key, used)) = next_key(&bytes[at..]) {
            match key {
                Key::PasteEnd => in_paste = false,
                Key::PasteStart => in_paste = true,
                _ => {}
            }
            at += used;
        }
        in_paste
    }

    fn answer(&mut self, input: Input) {
        let more = self.in_paste && self.paste_has_more();
        let secret = self.kind() == LineKind::Secret;
        self.search = None;
        self.req = None;
        self.drawn = false;
        self.dirty = false;
        let _ = self.tx.send((input, more, secret));
    }

    /// Is there pasted text (not just the end marker) waiting?
    fn paste_has_more(&self) -> bool {
        let end = b"\x1b[201~";
        let v: Vec<u8> = self.pending.iter().take(end.len()).copied().collect();
        !(v.is_empty() || end.starts_with(&v))
    }

    fn kind(&self) -> LineKind {
        if self.typeahead_secret > 0 && self.req.is_some() {
            return LineKind::Secret;
        }
        self.req
            .as_ref()
            .map(|r| r.kind)
            .unwrap_or(LineKind::Command)
    }

    fn key(&mut self, key: Key) {
        let was_cr = std::mem::take(&mut self.prev_cr);
        let was_tab = std::mem::take(&mut self.last_tab);
        if self.in_paste {
            match key {
                Key::PasteEnd => self.in_paste = false,
                Key::Enter => {
                    self.submit();
                    self.prev_cr = true;
                }
                // A CRLF pair is one line end.
                Key::Lf if !was_cr => self.submit(),
                Key::Lf => {}
                Key::Tab => self.insert('\t'),
                Key::Char(c) => self.insert(c),
                Key::Invalid => self.insert_invalid(),
                // A control byte pasted (NUL, DEL, ESC and what follows it, Ctrl-A…) is text,
                // not a key: dropped, the line would go out without it.
                _ => self.insert_control(),
            }
            return;
        }
        if self.search.is_some() && !self.search_key(key) {
            return;
        }
        match key {
            Key::Char(c) => self.insert(c),
            Key::Invalid => self.insert_invalid(),
            Key::Enter => {
                self.submit();
                self.prev_cr = true;
            }
            Key::Lf if !was_cr => self.submit(),
            Key::Tab => match self.kind() {
                LineKind::Command => {
                    self.complete(was_tab);
                    self.last_tab = true;
                }
                // A literal Tab in message content and secrets.
                _ => self.insert('\t'),
            },
            // A character and the combining marks on it go together (as one cell on screen).
            Key::Backspace => {
                if self.cursor > 0 {
                    let start = prev_boundary(&self.line, self.cursor);
                    self.line.drain(start..self.cursor);
                    self.cursor = start;
                    self.render();
                }
            }
            Key::Delete => {
                if self.cursor < self.line.len() {
                    let end = next_boundary(&self.line, self.cursor);
                    self.line.drain(self.cursor..end);
                    self.render();
                }
            }
            Key::Left => {
                self.cursor = prev_boundary(&self.line, self.cursor);
                self.render();
            }
            Key::Right => {
                if self.cursor < self.line.len() {
                    self.cursor = next_boundary(&self.line, self.cursor);
                } else if let Some(h) = self.hint() {
                    self.line.extend(h.chars());
                    self.cursor = self.line.len();
                }
                self.render();
            }
            Key::Home => {
                self.cursor = 0;
                self.render();
            }
            Key::End => {
                if self.cursor == self.line.len()
                    && let Some(h) = self.hint()
                {
                    self.line.extend(h.chars());
                }
                self.cursor = self.line.len();
                self.render();
            }
            Key::KillEnd => {
                self.line.truncate(self.cursor);
                self.render();
            }
            Key::KillStart => {
                self.line.drain(..self.cursor);
                self.cursor = 0;
                self.render();
            }
            Key::KillWord => {
                let mut i = self.cursor;
                while i > 0 && self.line[i - 1] == ' ' {
                    i -= 1;
                }
                while i > 0 && self.line[i - 1] != ' ' {
                    i -= 1;
                }
                self.line.drain(i..self.cursor);
                self.cursor = i;
                self.render();
            }
            Key::Clear if self.dumb => {}
            Key::Clear => {
                self.write("\x1b[H\x1b[2J");
                self.drawn = false;
                self.render();
            }
            Key::SearchBack | Key::SearchForward if self.kind() == LineKind::Command => {
                self.search = Some(Search {
                    query: String::new(),
                    at: None,
                    failed: false,
                    saved: self.line.clone(),
                    saved_cursor: self.cursor,
                });
                self.render();
            }
            Key::Suspend => self.suspend(),
            Key::Up => self.history_move(true),
            Key::Down => self.history_move(false),
            Key::Interrupt => {
                // Masked as when entered: a secret dropped with Ctrl-C stays out of the
                // scrollback as one sent does.
                let line: String = self.line.iter().collect();
                let (shown, _) = self.drawn_when_done(&line);
                self.finish_line(&format!("{shown}^C"));
                self.line.clear();
                self.cursor = 0;
                self.answer(Input::Interrupted);
            }
            Key::CtrlD => {
                if self.line.is_empty() {
                    self.finish_line("");
                    self.answer(Input::Eof);
                } else if self.cursor < self.line.len() {
                    let end = next_boundary(&self.line, self.cursor);
                    self.line.drain(self.cursor..end);
                    self.render();
                }
            }
            Key::PasteStart => self.in_paste = true,
            Key::Lf
            | Key::PasteEnd
            | Key::Ignore
            | Key::SearchBack
            | Key::SearchForward
            | Key::Abort => {}
        }
    }

    /// A key during a Ctrl-R search. Returns true when the key should then act as usual
    /// (readline: a key the search does not use ends it, keeping the match as the line).
    fn search_key(&mut self, key: Key) -> bool {
        let Some(search) = self.search.as_mut() else {
            return true;
        };
        match key {
            Key::Char(c) => {
                search.query.push(c);
                // The current match still counts: the search goes on from it.
                let from = search.at.map_or(self.history.len(), |i| i + 1);
                self.search_from(from, true);
            }
            Key::Backspace => {
                search.query.pop();
                self.search_from(self.history.len(), true);
            }
            Key::SearchBack | Key::SearchForward => {
                if search.query.is_empty() {
                    search.query = self.last_query.clone();
                }
                let back = key == Key::SearchBack;
                let from = match (search.at, back) {
                    (Some(i), true) => i,
                    (Some(i), false) => i + 1,
                    (None, _) => self.history.len(),
                };
                self.search_from(from, back);
            }
            Key::Abort => {
                if let Some(s) = self.search.take() {
                    self.line = s.saved;
                    self.cursor = s.saved_cursor;
                }
                self.render();
            }
            Key::Ignore => {}
            _ => {
                // Accept the match as the line being edited, then let the key act on it.
                if let Some(s) = self.search.take() {
                    self.last_query = s.query;
                }
                self.hist_pos = None;
                return true;
            }
        }
        false
    }

    /// Find the query in the history: the newest entry before index `from` (`back`), or the
    /// oldest from `from` on. The line shows the match, the cursor at its start.
    fn search_from(&mut self, from: usize, back: bool) {
        let Some(search) = self.search.as_mut() else {
            return;
        };
        let found = if search.query.is_empty() {
            None
        } else {
            let hit = |i: &usize| {
                self.history[*i]
                    .find(search.query.as_str())
                    .map(|p| (*i, p))
            };
            if back {
                (0..from.min(self.history.len()))
                    .rev()
                    .find_map(|i| hit(&i))
            } else {
                (from..self.history.len()).find_map(|i| hit(&i))
            }
        };
        match found {
            Some((i, pos)) => {
                search.at = Some(i);
                search.failed = false;
                self.line = self.history[i].chars().collect();
                self.cursor = self.history[i][..pos].chars().count();
            }
            None => search.failed = !search.query.is_empty(),
        }
        self.render();
    }

    fn insert(&mut self, c: char) {
        if self.line.len() >= LINE_MAX {
            self.refused += 1;
            return;
        }
        self.line.insert(self.cursor, c);
        self.cursor += 1;
        self.render();
    }

    fn shown_line(&self) -> String {
        if self.kind() == LineKind::Secret {
            String::new()
        } else {
            self.line.iter().collect()
        }
    }

    /// Print the final form of the edited line (whole, no hint) and go to the next row.
    fn finish_line(&mut self, shown: &str) {
        let prompt = self
            .req
            .as_ref()
            .map(|r| r.prompt.clone())
            .unwrap_or_default();
        let text = visible(&format!("{prompt}{shown}"));
        if self.dumb {
            // What is on the row already stays: only what differs (a masked secret) is
            // written again.
            if !self.drawn {
                self.dumb_shown.clear();
            }
            self.dumb_show(&text);
            self.dumb_shown.clear();
            self.drawn = false;
            self.write("\r\n");
            return;
        }
        let erase = self.erase_drawn();
        self.write(&format!("{erase}{text}\r\n"));
    }

    /// A byte that is not UTF-8: shown as U+FFFD, and the line refused when entered with it
    /// ([`Editor::submit`]): sent, it would be U+FFFD's three bytes, not the byte typed.
    fn insert_invalid(&mut self) {
        self.invalid += 1;
        self.insert('\u{fffd}');
    }

    /// A control byte inside a paste: shown as U+FFFD, and the line refused when entered with
    /// it ([`Editor::submit`]), as a byte that is not UTF-8 is: outside a paste the same byte
    /// is a key (Ctrl-A, Backspace), inside it nothing would send it.
    fn insert_control(&mut self) {
        self.controls += 1;
        self.insert('\u{fffd}');
    }

    fn submit(&mut self) {
        let line: String = self.line.iter().collect();
        let invalid = std::mem::take(&mut self.invalid) > 0;
        let controls = std::mem::take(&mut self.controls) > 0;
        if (invalid || controls) && line.contains('\u{fffd}') {
            // Refused whole, as a piped line that is not UTF-8 is (never altered): inside a
            // message, the message is abandoned rather than sent without it.
            let shown = self.shown_line();
            self.finish_line(&shown);
            self.refused = 0;
            let what = match (invalid, controls) {
                (true, false) => "bytes that are not UTF-8",
                (false, _) => "pasted control bytes",
                (true, true) => "bytes that are not UTF-8 and pasted control bytes",
            };
            let shown_as = replacement();
            self.print(&format!("the line holds {what} (shown as {shown_as}): not sent; :raw \"\\xNN\" sends any byte\n"));
            self.line.clear();
            self.cursor = 0;
            self.answer(Input::Refused);
            return;
        }
        let excess = std::mem::take(&mut self.refused);
        if excess > 0 {
            // Refused whole, as a line that is not UTF-8 is: cut at the limit it would go out
            // as a line nobody typed (a command's end, a message line's end lost); inside a
            // message, the message is abandoned rather than sent without it.
            let typed = self.line.len() + excess;
            let shown = self.shown_line();
            self.finish_line(&shown);
            self.print(&format!(
                "line of {typed} characters, longer than {LINE_MAX}: not sent, nor kept; :data @FILE sends a message of any length\n"
            ));
            self.line.clear();
            self.cursor = 0;
            self.answer(Input::Refused);
            return;
        }
        let (shown, not_command) = self.drawn_when_done(&line);
        self.finish_line(&shown);
        if self.kind() == LineKind::Command && !not_command {
            self.remember(&line);
        }
        self.line.clear();
        self.cursor = 0;
        self.answer(Input::Line(line));
    }

    /// How `line` stays on the screen once it is done with (entered, or dropped with Ctrl-C),
    /// and whether it cannot be a command. The line as typed was echoed key by key: a typed
    /// `AUTH MECH <initial response>` (or a `:raw` one) is drawn again masked, over the rows it
    /// took (the terminal's scrollback keeps what is on the screen, so the secret must not stay
    /// there), as the history keeps it. A line that cannot be a command (a password pasted at
    /// the command prompt, refused unsent: [`meta::cannot_be_command`]) is drawn again as the
    /// mask (and not kept).
    fn drawn_when_done(&self, line: &str) -> (String, bool) {
        let not_command = self.kind() == LineKind::Command && {
            let caps = self.completion.lock().ok().and_then(|d| d.caps.clone());
            not_a_command(line, caps.as_ref())
        };
        let shown = match self.kind() {
            LineKind::Command if not_command => crate::smtp::auth::MASK.to_string(),
            LineKind::Command => crate::smtp::manual::redact_typed_line(line)
                .or_else(|| meta::redact_raw_line(line))
                .unwrap_or_else(|| self.shown_line()),
            LineKind::Answer if !is_yes_or_no(line) => crate::smtp::auth::MASK.to_string(),
            _ => self.shown_line(),
        };
        // A line (a command, a line of a message or chunk) holding a secret seen earlier in
        // the session is drawn again with the mask in its place, as a typed AUTH is.
        let shown = match self.kind() {
            LineKind::Command | LineKind::Data => self.registry_mask(&shown).unwrap_or(shown),
            _ => shown,
        };
        (shown, not_command)
    }

    /// `line` with the secrets of the session's registry masked ([`CompletionData::secrets`]).
    fn registry_mask(&self, line: &str) -> Option<String> {
        self.completion.lock().ok().and_then(|d| d.mask(line))
    }

    /// Up/Down: at a command prompt, and in message content too (recalled, never added): a
    /// message's lines typed ahead of DATA's 354 are kept there ([`Ui::hold_typeahead`]).
    fn history_move(&mut self, up: bool) {
        if !matches!(self.kind(), LineKind::Command | LineKind::Data) || self.history.is_empty() {
            return;
        }
        let next = match (self.hist_pos, up) {
            (None, true) => {
                self.hist_saved = self.line.clone();
                Some(self.history.len() - 1)
            }
            (None, false) => return,
            (Some(0), true) => Some(0),
            (Some(i), true) => Some(i - 1),
            (Some(i), false) if i + 1 < self.history.len() => Some(i + 1),
            (Some(_), false) => None,
        };
        self.hist_pos = next;
        self.line = match next {
            Some(i) => self.history[i].chars().collect(),
            None => std::mem::take(&mut self.hist_saved),
        };
        self.cursor = self.line.len();
        self.render();
    }

    /// The rest of the newest history entry that starts with the line (shown dim).
    fn hint(&self) -> Option<String> {
        if self.kind() != LineKind::Command
            || self.line.is_empty()
            || self.cursor != self.line.len()
        {
            return None;
        }
        let line: String = self.line.iter().collect();
        self.history
            .iter()
            .rev()
            .find(|h| h.len() > line.len() && h.starts_with(&line))
            .map(|h| h[line.len()..].to_string())
    }

    fn complete(&mut self, second: bool) {
        let head: String = self.line[..self.cursor].iter().collect();
        let word_start = head.rfind([' ', '\t']).map(|i| i + 1).unwrap_or(0);
        let (start, list) = if let Some(sub) = head[word_start..].strip_prefix('@') {
            (word_start + 1, file_candidates(sub))
        } else {
            let caps = self.completion.lock().ok().and_then(|d| d.caps.clone());
            candidates(&head, caps.as_ref())
        };
        if list.is_empty() {
            return;
        }
        let word = &head[start..];
        let common = common_prefix(&list);
        let replacement = if list.len() == 1 {
            list[0].clone()
        } else {
            common
        };
        if replacement.chars().count() > word.chars().count() {
            let start_chars = head[..start].chars().count();
            let tail: Vec<char> = self.line[self.cursor..].to_vec();
            self.line.truncate(start_chars);
            self.line.extend(replacement.chars());
            self.cursor = self.line.len();
            self.line.extend(tail);
            self.render();
        } else if list.len() > 1 && second {
            let text = list.join("  ");
            self.print(&format!("{text}\n"));
        }
    }

    /// The prompt shown: the request's, or the search's while Ctrl-R runs.
    fn shown_prompt(&self) -> String {
        match (&self.search, &self.req) {
            (Some(s), _) => format!(
                "({}reverse-i-search)`{}': ",
                if s.failed { "failed " } else { "" },
                s.query
            ),
            (None, Some(r)) => r.prompt.clone(),
            (None, None) => String::new(),
        }
    }

    /// The sequence that takes the cursor from where it is in the drawn prompt and line to the
    /// start of its first row, and clears from there to the end of the screen.
    fn erase_drawn(&mut self) -> String {
        if self.dumb {
            // Backspaces over the row's prompt and line, or a new row when they wrapped.
            if std::mem::take(&mut self.drawn) {
                let shown = std::mem::take(&mut self.dumb_shown);
                return dumb_change(&shown, "", terminal_cols());
            }
            return String::new();
        }
        let mut s = String::new();
        if self.drawn {
            let up = std::mem::take(&mut self.cursor_row);
            if up > 0 {
                s.push_str(&format!("\x1b[{up}A"));
            }
            self.rows_below = 0;
            self.top = 0;
            self.drawn = false;
        }
        s.push_str("\r\x1b[J");
        s
    }

    /// Draw the prompt and the line, wrapped over as many rows as the terminal's width needs
    /// (wide characters take two columns and never split across rows, combining marks none),
    /// and put the cursor on its character.
    fn render(&mut self) {
        if self.req.is_none() {
            return;
        }
        if self.batch {
            // Drawn once when the batch of keys is done (`process`).
            self.dirty = true;
            return;
        }
        self.dirty = false;
        // A prompt replaces the status line (the clear below takes its row).
        self.status = None;
        self.status_drawn = false;
        if self.dumb {
            let mut text = visible(&self.shown_prompt());
            if self.kind() != LineKind::Secret {
                text.extend(self.line.iter().map(|&c| drawn_char(c)));
            }
            if !self.drawn {
                self.dumb_shown.clear();
            }
            self.dumb_show(&text);
            self.drawn = true;
            self.cursor_row = 0;
            self.rows_below = 0;
            return;
        }
        let cols = terminal_cols();
        self.cols = cols;
        let prompt = visible(&self.shown_prompt());
        let secret = self.kind() == LineKind::Secret;
        let (chars, cursor): (Vec<char>, usize) = if secret {
            (Vec::new(), 0)
        } else {
            (
                self.line.iter().map(|&c| drawn_char(c)).collect(),
                self.cursor,
            )
        };
        let hint = if self.search.is_none() {
            self.hint().map(|h| visible(&h)).unwrap_or_default()
        } else {
            String::new()
        };
        // Every character drawn with the row it lands on (the hint's marked), and the cursor.
        let mut cells: Vec<(char, usize, bool)> = Vec::new();
        let mut pos = (0, 0);
        for c in prompt.chars() {
            pos = advance(pos, c, cols);
            cells.push((c, pos.0, false));
        }
        let mut at = None;
        for (i, &c) in chars.iter().enumerate() {
            if i == cursor {
                at = Some(place(pos, c, cols));
            }
            pos = advance(pos, c, cols);
            cells.push((c, pos.0, false));
        }
        let at = at.unwrap_or_else(|| place(pos, ' ', cols));
        for c in hint.chars() {
            pos = advance(pos, c, cols);
            cells.push((c, pos.0, true));
        }
        // Text that ends on the last column leaves the terminal waiting to wrap: go to the
        // next row now, so where the cursor is does not depend on the terminal.
        let wrap_at_end = pos.1 >= cols;
        let last = if wrap_at_end { pos.0 + 1 } else { pos.0 };
        // A line taller than the screen: the rows above the screen's top cannot be reached
        // (the cursor stops at the top row), so a redraw that went up to the line's first row
        // started on the top row, the cursor was drawn on another character than the one it
        // is on, and each redraw left a copy of the rows in the scrollback. Only a window of
        // the screen's height is drawn, the cursor's row in it; it fills the screen, so its
        // first row is the top row. Moving it down draws from the rows before it (they scroll
        // off in order); moving it up scrolls the screen down first (reverse index on the top
        // row).
        let height = terminal_rows();
        let new_top = if last < height {
            0
        } else {
            at.0.saturating_sub(height - 1).min(last + 1 - height)
        };
        let old_top = if self.drawn { self.top } else { 0 };
        let mut s = self.erase_drawn();
        let from = if new_top < old_top {
            // The screen is clear from the top row down: more than its height is no use.
            s.push_str(&"\x1bM".repeat((old_top - new_top).min(height)));
            new_top
        } else {
            old_top
        };
        let bottom = if last < height {
            last
        } else {
            new_top + height - 1
        };
        let mut dim = false;
        for &(c, row, in_hint) in &cells {
            // A character that wraps to the next row counts on it: its row is where it lands.
            if row < from || row > bottom {
                continue;
            }
            if in_hint != dim {
                s.push_str(if in_hint { "\x1b[2m" } else { "\x1b[0m" });
                dim = in_hint;
            }
            s.push(c);
        }
        if dim {
            s.push_str("\x1b[0m");
        }
        if wrap_at_end && bottom == last {
            s.push_str("\r\n");
        }
        let up = bottom.saturating_sub(at.0);
        if up > 0 {
            s.push_str(&format!("\x1b[{up}A"));
        }
        s.push('\r');
        if at.1 > 0 {
            s.push_str(&format!("\x1b[{}C", at.1));
        }
        self.write(&s);
        self.drawn = true;
        self.cursor_row = at.0 - new_top;
        self.rows_below = up;
        self.top = new_top;
    }

    /// Print output above the edited line (or the status line): clear it, print, draw it again.
    fn print(&mut self, text: &str) {
        self.erase_status();
        let redraw = self.drawn;
        if redraw {
            let erase = self.erase_drawn();
            self.write(&erase);
        }
        self.write(text);
        if redraw {
            self.render();
        } else {
            self.draw_status();
        }
    }

    /// Show, replace or (`None`) erase the status line. Only while no line is asked for: a
    /// prompt on the screen is never overwritten.
    fn set_status(&mut self, text: Option<&str>) {
        match text {
            Some(t) if self.req.is_none() && !self.leaving => {
                self.status = Some(t.to_string());
                self.draw_status();
            }
            Some(_) => {}
            None => {
                self.erase_status();
                self.status = None;
            }
        }
    }

    /// Draw the status line on the cursor's row, cut to one row (so it never wraps and one
    /// carriage return and clear-to-end take it away).
    fn draw_status(&mut self) {
        let Some(text) = &self.status else {
            return;
        };
        if self.dumb {
            // It could only be drawn by overwriting its row; never in the transcript.
            return;
        }
        if self.req.is_some() {
            return;
        }
        let cols = terminal_cols();
        let mut shown = String::new();
        let mut width = 0;
        // ehlo's own words ("… — Ctrl-C stops waiting"): in ASCII when the locale is not UTF-8.
        let text = visible(&crate::render::glyphs::plain(text));
        let total: usize = text.chars().map(char_width).sum();
        let cut = crate::render::glyphs::plain("…");
        let cut_width: usize = cut.chars().map(char_width).sum();
        for c in text.chars() {
            let w = char_width(c);
            // Leave the last column free (no pending wrap), and room for "…" when cut.
            if total >= cols && width + w > cols.saturating_sub(1 + cut_width) {
                shown.push_str(&cut);
                break;
            }
            shown.push(c);
            width += w;
        }
        // The cursor goes back to the row's start: a terminal that reflows its rows when it
        // shrinks (tmux, VTE, kitty, iTerm2) spreads a row over several and keeps the cursor at
        // its place in the text, so at the start it stays on the first of them, and the erase
        // (to the end of the screen, nothing is drawn below) takes them all, as the clear after
        // the text does when it is drawn anew. Left at the end, it was on the last one, and the
        // row above stayed as a stale "waiting 2 s, …".
        self.write(&format!("\r\x1b[2m{shown}\x1b[0m\x1b[J\r"));
        self.status_drawn = true;
    }

    /// The REPL is leaving on a signal: take the prompt (with the line being edited) and the
    /// status line off the screen for good, so that what is printed from now on (the signal's
    /// "leaving" line, the summary) is the last thing on it, with no prompt drawn after it.
    fn stop_drawing(&mut self) {
        self.erase_status();
        self.status = None;
        if self.drawn {
            let erase = self.erase_drawn();
            self.write(&erase);
        }
        self.req = None;
        self.search = None;
        self.dirty = false;
        self.leaving = true;
    }

    /// Take the status line off the screen (its text stays, to be drawn again below output):
    /// from its first row to the end of the screen, all the rows a reflowing terminal spread
    /// it over after a shrink ([`Editor::draw_status`]).
    fn erase_status(&mut self) {
        if std::mem::take(&mut self.status_drawn) {
            self.write("\r\x1b[J");
        }
    }
}

impl Editor {
    /// On a dumb terminal: turn the row from what was written ([`Editor::dumb_shown`]) into
    /// `text` with the only moves such a terminal has: the characters after what both share
    /// are rubbed out with backspace-space-backspace and the rest written, as a teletype
    /// line discipline echoes an erase. No cursor keys, no clearing, no colours.
    fn dumb_show(&mut self, text: &str) {
        let change = dumb_change(&self.dumb_shown, text, terminal_cols());
        self.dumb_shown = text.to_string();
        if !change.is_empty() {
            self.write(&change);
        }
    }
}

/// What turns a dumb terminal's row showing `from` into `to` (both written from the start of
/// the row): backspaces over what differs and the new characters, or, when `from` took more
/// than one row (a backspace does not go up a row), a new row with `to` written whole.
fn dumb_change(from: &str, to: &str, cols: usize) -> String {
    let same = from
        .chars()
        .zip(to.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let gone: Vec<char> = from.chars().skip(same).collect();
    let mut s = String::new();
    if gone.is_empty() {
        s.extend(to.chars().skip(same));
        return s;
    }
    let width: usize = from.chars().map(char_width).sum();
    if width >= cols {
        s.push_str("\r\n");
        s.push_str(to);
        return s;
    }
    for c in gone.iter().rev() {
        let w = char_width(*c);
        s.push_str(&"\x08".repeat(w));
        s.push_str(&" ".repeat(w));
        s.push_str(&"\x08".repeat(w));
    }
    s.extend(to.chars().skip(same));
    s
}

/// The terminal's height now (24 when it cannot be read; never under 2).
fn terminal_rows() -> usize {
    let size = match screen() {
        Some(fd) => terminal_size::terminal_size_of(fd.as_fd()),
        None => terminal_size::terminal_size_of(std::io::stdout().as_fd()),
    };
    size.map(|(_, h)| h.0 as usize).unwrap_or(24).max(2)
}

/// The terminal's width now (80 when it cannot be read; never under 8).
fn terminal_cols() -> usize {
    let size = match screen() {
        Some(fd) => terminal_size::terminal_size_of(fd.as_fd()),
        None => terminal_size::terminal_size_of(std::io::stdout().as_fd()),
    };
    size.map(|(w, _)| w.0 as usize).unwrap_or(80).max(8)
}

/// The terminal the editor draws on (the prompt, the echo, the status line): stdout when it
/// is one, else stderr, else the controlling terminal (`/dev/tty`), so that `ehlo repl … |
/// tee log` or `--json > file` typed at a terminal still shows the prompt there and gets no
/// terminal control sequence in the pipe or the file. `None` (stdout, as a last resort) when
/// none can be had.
fn screen() -> Option<&'static std::os::fd::OwnedFd> {
    use std::io::IsTerminal;
    static SCREEN: std::sync::OnceLock<Option<std::os::fd::OwnedFd>> = std::sync::OnceLock::new();
    SCREEN
        .get_or_init(|| {
            if std::io::stdout().is_terminal() {
                std::io::stdout().as_fd().try_clone_to_owned().ok()
            } else if std::io::stderr().is_terminal() {
                std::io::stderr().as_fd().try_clone_to_owned().ok()
            } else {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/tty")
                    .ok()
                    .map(std::os::fd::OwnedFd::from)
            }
        })
        .as_ref()
}

/// A writer to [`screen`].
fn screen_writer() -> Box<dyn Write + Send> {
    match screen().and_then(|fd| fd.try_clone().ok()) {
        Some(fd) => Box::new(std::fs::File::from(fd)),
        None => Box::new(std::io::stdout()),
    }
}

/// Is stdout the terminal the editor draws on? Else the transcript goes to stdout as it is
/// (a pipe or a file), not through the editor.
fn stdout_is_screen() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() || screen().is_none()
}

/// Can the REPL stop itself and expect to be continued? Not when its process group is
/// orphaned (no process in another group of the session, such as a job-control shell, is
/// there to continue it); told by the parent: in another session (or gone: init) means
/// orphaned. A parent in the same group says nothing either way and counts as yes.
fn job_control() -> bool {
    use nix::unistd::{getppid, getsid};
    let parent = getppid();
    match (getsid(Some(parent)), getsid(None)) {
        (Ok(theirs), Ok(ours)) => theirs == ours,
        _ => false,
    }
}

/// Columns a character takes on the terminal: two for wide ones (CJK, most emoji; Unicode
/// UAX #11), none for combining marks and other zero-width characters, one otherwise (control
/// characters are drawn as a space, and on a Latin terminal a character it has no byte for
/// as `?`).
fn char_width(c: char) -> usize {
    if c.is_control() {
        1
    } else if crate::render::glyphs::latin().is_some_and(|set| set.encode(c).is_none()) {
        // Written as `?` on a Latin terminal (Editor::write): a wide or combining character
        // recalled from the history takes one column there.
        1
    } else {
        unicode_width::UnicodeWidthChar::width(c).unwrap_or(1)
    }
}

/// Where the terminal's cursor is after writing `c` at `(row, col)` on a `cols`-wide terminal,
/// as xterm and the VT100 do it: a character that does not fit in what is left of the row
/// goes to the start of the next one; `col == cols` is the pending wrap after the last column.
fn advance((row, col): (usize, usize), c: char, cols: usize) -> (usize, usize) {
    match char_width(c) {
        0 => (row, col),
        w if col + w > cols => (row + 1, w.min(cols)),
        w => (row, col + w),
    }
}

/// Where `c` is drawn when written at `(row, col)`.
fn place((row, col): (usize, usize), c: char, cols: usize) -> (usize, usize) {
    if col + char_width(c).max(1) > cols {
        (row + 1, 0)
    } else {
        (row, col)
    }
}

/// Start of the character cluster before `i` (a character and the zero-width marks after it).
fn prev_boundary(line: &[char], i: usize) -> usize {
    let mut j = i.saturating_sub(1);
    while j > 0 && char_width(line[j]) == 0 && !line[j].is_control() {
        j -= 1;
    }
    j
}

/// End of the character cluster that starts at `i`.
fn next_boundary(line: &[char], i: usize) -> usize {
    let mut j = (i + 1).min(line.len());
    while j < line.len() && char_width(line[j]) == 0 && !line[j].is_control() {
        j += 1;
    }
    j
}

/// Control characters (other than ESC sequences we draw ourselves) made visible, so text from a
/// prompt or history cannot move the cursor; U+FFFD as [`drawn_char`] draws it.
fn visible(s: &str) -> String {
    s.chars().map(drawn_char).collect()
}

/// How a character of the edited line is drawn: a Tab or control character as a space, and
/// U+FFFD (what stands for a typed byte that is not UTF-8) as [`replacement`] shows it.
fn drawn_char(c: char) -> char {
    match c {
        '\u{fffd}' => replacement(),
        c if c.is_control() => ' ',
        c => c,
    }
}

/// What shows a typed byte that is not UTF-8 (or a pasted control byte): U+FFFD, or `?` when
/// the locale is not UTF-8 (a Latin-1 terminal, whose users are the ones typing such bytes,
/// would show U+FFFD's three bytes as `ï¿½`, three columns where the editor counted one).
fn replacement() -> char {
    if crate::render::glyphs::ascii() {
        '?'
    } else {
        '\u{fffd}'
    }
}

fn common_prefix(list: &[String]) -> String {
    let Some(first) = list.first() else {
        return String::new();
    };
    let mut n = first.len();
    for s in &list[1..] {
        n = first
            .char_indices()
            .zip(s.chars())
            .take_while(|((_, a), b)| a.eq_ignore_ascii_case(b))
            .map(|((i, a), _)| i + a.len_utf8())
            .last()
            .unwrap_or(0)
            .min(n);
    }
    first[..n].to_string()
}

/// File names completing `sub` (a path typed after `@`).
fn file_candidates(sub: &str) -> Vec<String> {
    let (dir, prefix) = match sub.rfind('/') {
        Some(i) => (&sub[..=i], &sub[i + 1..]),
        None => ("", sub),
    };
    let read = if dir.is_empty() { "." } else { dir };
    let Ok(entries) = std::fs::read_dir(read) else {
        return Vec::new();
    };
    let mut v: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(prefix) || (prefix.is_empty() && name.starts_with('.')) {
                return None;
            }
            let slash = if e.path().is_dir() { "/" } else { "" };
            Some(format!("{dir}{name}{slash}"))
        })
        .take(500)
        .collect();
    v.sort();
    v
}

/// A `Write` that hands complete lines to the editor, which prints them above the prompt.
struct TermWriter {
    ed: Arc<Mutex<Editor>>,
    buf: Vec<u8>,
}

impl TermWriter {
    fn new(ed: Arc<Mutex<Editor>>) -> Self {
        TermWriter {
            ed,
            buf: Vec::new(),
        }
    }
    fn emit(&mut self, upto: usize) {
        let chunk: Vec<u8> = self.buf.drain(..upto).collect();
        let text = String::from_utf8_lossy(&chunk).into_owned();
        if let Ok(mut e) = self.ed.lock() {
            e.print(&text);
        }
    }
}

impl Write for TermWriter {
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

/// Candidates for `line` with the cursor at its end: `(start, candidates)`. A parameter already
/// on the line (`SIZE=` typed once) is not offered again.
pub(crate) fn candidates(line: &str, caps: Option<&Capabilities>) -> (usize, Vec<String>) {
    let word_start = line.rfind([' ', '\t']).map(|i| i + 1).unwrap_or(0);
    let word = &line[word_start..];
    // The first word, after any blanks (the prompt takes `  :quit` as it takes `:quit`).
    if line[..word_start].trim().is_empty() {
        let mut list: Vec<String> = if word.starts_with(':') {
            meta::NAMES.iter().map(|c| c.to_string()).collect()
        } else {
            VERBS.iter().map(|c| c.to_string()).collect()
        };
        // The extension verbs the server advertised (XCLIENT, ETRN…), which the prompt takes.
        if let Some(caps) = caps.filter(|_| !word.starts_with(':')) {
            for v in meta::advertised_verbs(caps) {
                if !list.iter().any(|c| c.split([' ', ':']).next() == Some(v)) {
                    list.push(format!("{v} "));
                }
            }
        }
        let up = word.to_ascii_uppercase();
        list.retain(|c| c.to_ascii_uppercase().starts_with(&up));
        return (word_start, list);
    }
    let verb = line
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    if let Some(list) = meta::complete_args(line, word_start) {
        return (word_start, list);
    }
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
            // The mechanisms too: a server may advertise only the old `AUTH=PLAIN` form.
            if caps.has("AUTH") || !caps.auth_mechanisms().is_empty() {
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
        // Postfix's XCLIENT and XFORWARD (XCLIENT_README, XFORWARD_README): the attributes
        // the EHLO line lists (`250-XCLIENT NAME ADDR PORT ...`), as `NAME=`, and no other.
        "XCLIENT" | "XFORWARD" => {
            offer = caps
                .params(&verb)
                .unwrap_or_default()
                .iter()
                .filter(|a| {
                    a.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                })
                .take(32)
                .map(|a| format!("{}=", a.to_ascii_uppercase()))
                .collect();
        }
        _ => {}
    }
    // Parameters already typed (before the word being completed) are not offered again.
    let typed: Vec<String> = line[..word_start]
        .split_whitespace()
        .skip(1)
        .map(|w| {
            // The name before `=` first: `ADDR=IPV6:2001:db8::1` is ADDR.
            let w = w.split('=').next().unwrap_or(w);
            w.rsplit(':').next().unwrap_or(w).to_ascii_uppercase()
        })
        .collect();
    let up = word.to_ascii_uppercase();
    (
        word_start,
        offer
            .into_iter()
            .filter(|c| {
                let key = c.split('=').next().unwrap_or(c).to_ascii_uppercase();
                !typed.contains(&key)
            })
            .filter(|c| c.to_ascii_uppercase().starts_with(&up))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::reply::Reply;

    /// Lines read from a pipe through a small buffer, as the pipe reader takes them.
    fn piped(input: &[u8], max: usize) -> Vec<(Vec<u8>, u64)> {
        piped_lines(input, max)
            .into_iter()
            .map(|l| (l.bytes, l.dropped))
            .collect()
    }

    fn piped_lines(input: &[u8], max: usize) -> Vec<PipedLine> {
        let mut r = std::io::BufReader::with_capacity(3, input);
        std::iter::from_fn(|| read_piped_line(&mut r, max).unwrap()).collect()
    }

    #[test]
    fn a_piped_line_too_long_is_cut_and_its_rest_dropped_not_split() {
        let got = piped(b"ab\r\nabcdefghij.\r\n.\nxyz", 4);
        let lines: Vec<&[u8]> = got.iter().map(|(l, _)| l.as_slice()).collect();
        assert_eq!(lines, [&b"ab"[..], b"abcd", b".", b"xyz"]);
        assert_eq!(got[1].1, 7, "efghij. dropped (not the CR)");
        assert_eq!(got.iter().map(|g| g.1).sum::<u64>(), 7);
        // Exactly `max` bytes (LF or CRLF): nothing cut; one more byte: one dropped.
        assert_eq!(
            piped(b"abcd\r\nabcd\nabcde\n", 4),
            [
                (b"abcd".to_vec(), 0),
                (b"abcd".to_vec(), 0),
                (b"abcd".to_vec(), 1)
            ]
        );
        // Cut at a character boundary, never inside one.
        assert_eq!(piped("abc\u{e9}z\n".as_bytes(), 4), [(b"abc".to_vec(), 3)]);
        // The end of the input in the middle of a cut line.
        assert_eq!(piped(b"abcdefghijk", 4), [(b"abcd".to_vec(), 7)]);
        // A cut line ended by a lone CR: its rest dropped up to the CR, the next line kept.
        assert_eq!(
            piped(b"abcdefg\rxy\r", 4),
            [(b"abcd".to_vec(), 3), (b"xy".to_vec(), 0)]
        );
    }

    /// A CR not followed by LF ends a line (CR-only text, a bare CR inside a line), and says
    /// so; CRLF and LF do not; a CR that is the input's last byte ends its last line.
    #[test]
    fn a_lone_cr_ends_a_piped_line() {
        let got = piped_lines(b"EHLO x\rNOOP\r\nRSET\rQUIT\nA\r\rB\r", 100);
        let lines: Vec<(&[u8], bool)> = got
            .iter()
            .map(|l| (l.bytes.as_slice(), l.lone_cr))
            .collect();
        assert_eq!(
            lines,
            [
                (&b"EHLO x"[..], true),
                (b"NOOP", false),
                (b"RSET", true),
                (b"QUIT", false),
                (b"A", true),
                (b"", true),
                (b"B", true),
            ]
        );
        // A CR and its LF in different reads of the pipe are still one CRLF.
        let mut r = std::io::BufReader::with_capacity(1, &b"ab\r\ncd\n"[..]);
        let first = read_piped_line(&mut r, 100).unwrap().unwrap();
        assert_eq!((first.bytes.as_slice(), first.lone_cr), (&b"ab"[..], false));
    }

    /// A pipe's lines are handed over a buffer at a time, not one per request (two thread
    /// wake-ups a line: `yes NOOP | ehlo repl` took some 25 µs a line in them): every line
    /// whole in the buffer, in order, each with its own notes; a line the buffer holds only part
    /// of (or a CR whose next byte is not read yet) waits for the next request, so nothing is
    /// read from the pipe that a line-at-a-time reader would not read.
    #[test]
    fn piped_lines_come_a_buffer_at_a_time_each_with_its_notes() {
        use std::io::Read;
        let text: &[u8] = b"\xef\xbb\xbfEHLO x\nNOOP\r\nbad \xff\nRSET\rQUIT\nhalf";
        // Reads of at most 17 bytes, as a pipe gives what its writer wrote so far.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(17).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = std::io::BufReader::new(Trickle(text));
        let mut reader = PipeReader::default();
        let line = |l: &str| Input::Line(l.to_string());
        let bom = InputNote::Warning(BOM_NOTE.to_string());
        // The first read holds "EHLO x", "NOOP" and the start of the third line.
        assert_eq!(
            reader.batch(&mut r),
            [(line("EHLO x"), vec![bom]), (line("NOOP"), vec![])]
        );
        // Line 3, "bad \xff", bytes 16 to 21 of the text.
        let bad = InputNote::Error(not_utf8(3, std::str::from_utf8(&text[16..21]).unwrap_err()));
        let cr = InputNote::Warning(lone_cr_note(4));
        assert_eq!(
            reader.batch(&mut r),
            [
                (Input::Refused, vec![bad]),
                (line("RSET"), vec![cr]),
                (line("QUIT"), vec![]),
            ]
        );
        assert_eq!(reader.batch(&mut r), [(line("half"), vec![])]);
        assert_eq!(reader.batch(&mut r), [(Input::Eof, vec![])]);
        assert_eq!(reader.batch(&mut r), [(Input::Eof, vec![])]);
        // Many lines in the buffer: one batch, at most PIPE_BATCH.
        let many = "NOOP\n".repeat(1500);
        let mut r = std::io::BufReader::with_capacity(64 * 1024, many.as_bytes());
        let mut reader = PipeReader::default();
        assert_eq!(reader.batch(&mut r).len(), PIPE_BATCH);
        let rest = reader.batch(&mut r);
        assert_eq!(rest.len(), 1500 - PIPE_BATCH);
        assert!(rest.iter().all(|p| *p == (line("NOOP"), vec![])));
        assert_eq!(reader.batch(&mut r), [(Input::Eof, vec![])]);
    }

    #[test]
    fn verbs_complete_case_insensitively() {
        assert_eq!(candidates("MA", None), (0, vec!["MAIL FROM:".to_string()]));
        assert_eq!(candidates("rc", None), (0, vec!["RCPT TO:".to_string()]));
        assert_eq!(
            candidates(":st", None),
            (0, vec![":starttls".to_string(), ":status".to_string()])
        );
        assert_eq!(
            candidates(":se", None),
            (0, vec![":send".to_string(), ":set ".to_string()])
        );
        assert!(candidates("E", None).1.contains(&"EHLO ".to_string()));
        assert!(candidates("ZZ", None).1.is_empty());
        // Blanks before the first word: the prompt takes `  :quit` and sends `  NOOP` as
        // typed, so the word after them completes as a first word.
        assert_eq!(candidates("  :qu", None), (2, vec![":quit".to_string()]));
        assert_eq!(candidates(" ma", None), (1, vec!["MAIL FROM:".to_string()]));
    }

    /// A verb the REPL sends only because the server advertised it (Postfix's XCLIENT and
    /// XFORWARD, ETRN, RFC 1985) completes once the EHLO reply lists it, as it is then taken
    /// at the prompt; before that, or not advertised, it is not offered.
    #[test]
    fn advertised_extension_verbs_complete() {
        let caps = Capabilities::from_reply(&Reply::new(
            250,
            &[
                "mx",
                "ETRN",
                "XCLIENT NAME ADDR",
                "XFORWARD NAME",
                "SIZE 10",
            ],
        ));
        assert_eq!(
            candidates("Xc", Some(&caps)),
            (0, vec!["XCLIENT ".to_string()])
        );
        assert_eq!(
            candidates("x", Some(&caps)).1,
            vec!["XCLIENT ".to_string(), "XFORWARD ".to_string()]
        );
        assert_eq!(candidates("et", Some(&caps)).1, vec!["ETRN ".to_string()]);
        // A keyword that is no command is not offered as one.
        assert!(candidates("SI", Some(&caps)).1.is_empty());
        assert!(candidates("Xc", None).1.is_empty());
        let plain = Capabilities::from_reply(&Reply::new(250, &["mx", "SIZE 10"]));
        assert!(candidates("et", Some(&plain)).1.is_empty());
        // Offered once, never twice beside the verbs always offered.
        let e = candidates("E", Some(&caps)).1;
        assert_eq!(e.iter().filter(|c| c.starts_with("ETRN")).count(), 1);
    }

    /// After `XCLIENT ` / `XFORWARD ` the attributes that EHLO line lists complete as `NAME=`
    /// (Postfix's XCLIENT_README and XFORWARD_README), each once, and no other: nothing was
    /// offered. The lines are the ones Postfix 3 sends to a client it authorizes.
    #[test]
    fn xclient_and_xforward_attributes_complete_from_the_ehlo_line() {
        let caps = Capabilities::from_reply(&Reply::new(
            250,
            &[
                "mail.ehlo.test",
                "XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT",
                "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT",
            ],
        ));
        let offered = |line: &str| candidates(line, Some(&caps)).1;
        assert_eq!(
            offered("XCLIENT "),
            [
                "NAME=",
                "ADDR=",
                "PROTO=",
                "HELO=",
                "REVERSE_NAME=",
                "PORT=",
                "LOGIN=",
                "DESTADDR=",
                "DESTPORT="
            ]
        );
        assert_eq!(offered("xclient d"), ["DESTADDR=", "DESTPORT="]);
        assert_eq!(
            offered("XCLIENT ADDR=IPV6:2001:db8::1 NAME=x P"),
            ["PROTO=", "PORT="]
        );
        assert_eq!(offered("XFORWARD I"), ["IDENT="]);
        assert_eq!(offered("XFORWARD S"), ["SOURCE="]);
        assert!(offered("XFORWARD L").is_empty(), "LOGIN is XCLIENT's");
        // Not advertised: nothing.
        let only = Capabilities::from_reply(&Reply::new(250, &["mx", "XCLIENT ADDR"]));
        assert_eq!(candidates("XCLIENT ", Some(&only)).1, ["ADDR="]);
        assert!(candidates("XFORWARD ", Some(&only)).1.is_empty());
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
        assert_eq!(
            candidates("MAIL FROM:<a@b> A", Some(&caps)).1,
            vec!["AUTH=<>"]
        );
        let old_form = Capabilities::from_reply(&Reply::new(250, &["mx", "AUTH=PLAIN LOGIN"]));
        assert_eq!(
            candidates("MAIL FROM:<a@b> A", Some(&old_form)).1,
            vec!["AUTH=<>"]
        );
        // Nothing advertised yet: nothing offered.
        assert!(candidates("MAIL FROM:<a@b> S", None).1.is_empty());
        // Already typed: not offered again.
        assert_eq!(
            candidates("MAIL FROM:<a@b> SIZE=10 S", Some(&caps)).1,
            vec!["SMTPUTF8"]
        );
        assert!(
            candidates("MAIL FROM:<a@b> BODY=7BIT B", Some(&caps))
                .1
                .is_empty()
        );
    }

    #[test]
    fn keys_decode_from_partial_input() {
        assert_eq!(next_key(b"a"), Some((Key::Char('a'), 1)));
        assert_eq!(next_key(b"\x1b"), None);
        assert_eq!(next_key(b"\x1b["), None);
        assert_eq!(next_key(b"\x1b[A"), Some((Key::Up, 3)));
        assert_eq!(next_key(b"\x1b[200~x"), Some((Key::PasteStart, 6)));
        assert_eq!(next_key(b"\x1b[3~"), Some((Key::Delete, 4)));
        assert_eq!(next_key(b"\x1b\x1b[A"), Some((Key::Ignore, 1)));
        assert_eq!(next_key("é".as_bytes()), Some((Key::Char('é'), 2)));
        assert_eq!(next_key(&"é".as_bytes()[..1]), None);
        assert_eq!(next_key(b"\xffx"), Some((Key::Invalid, 1)));
        assert_eq!(next_key(b"\r"), Some((Key::Enter, 1)));
        assert_eq!(next_key(b"\n"), Some((Key::Lf, 1)));
    }

    /// Lines typed ahead of a wait Ctrl-C stopped are made as a prompt makes them: the
    /// editing keys applied, a CRLF one line end, a line with a byte that is not UTF-8 none.
    #[test]
    fn lines_typed_ahead_are_made_with_their_editing_keys() {
        assert_eq!(
            lines_of_keys(
                b"NOOQ\x7fP\r\nSubject: a\rjunk\x15line2\n\xffbad\r\rab\x02X\r",
                LineKind::Command,
                false,
            )
            .0,
            vec![
                held(Some("NOOP"), false),
                held(Some("Subject: a"), false),
                held(Some("line2"), false),
                held(None, false),
                held(Some(""), false),
                held(Some("aXb"), false),
            ]
        );
    }

    fn held(text: Option<&str>, unreplayed: bool) -> HeldLine {
        HeldLine {
            text: text.map(str::to_string),
            unreplayed,
        }
    }

    /// The editing keys a terminal sends as escape sequences (arrows, Home/End, Delete, in
    /// their CSI and SS3 forms) and Ctrl-A/E/B/F/D/K are applied to a line typed ahead as a
    /// prompt applies them; keys whose effect only a prompt knows (Tab completing a command,
    /// Up/Down, Ctrl-R, an Alt key) mark the line, never silently change it; a bracketed
    /// paste is text, a control byte in it refuses the line. Before, an arrow typed ahead hid
    /// the Ctrl-C behind it (the typed lines were run and sent).
    #[test]
    fn lines_typed_ahead_replay_the_editing_keys_or_say_they_could_not() {
        let cases: &[(&[u8], LineKind, HeldLine)] = &[
            (
                b"VRFY ab\x1b[DX\r",
                LineKind::Command,
                held(Some("VRFY aXb"), false),
            ),
            (
                b"VRFY ab\x1bODX\r",
                LineKind::Command,
                held(Some("VRFY aXb"), false),
            ),
            (
                b"RFY\x1b[HV\x1b[FZ\r",
                LineKind::Command,
                held(Some("VRFYZ"), false),
            ),
            (
                b"NOOPx\x1b[D\x1b[3~\r",
                LineKind::Command,
                held(Some("NOOP"), false),
            ),
            (
                b"OOP\x01N\x05!\x02\x04\r",
                LineKind::Command,
                held(Some("NOOP"), false),
            ),
            (
                b"NOOP junk\x02\x02\x0b\r",
                LineKind::Command,
                held(Some("NOOP ju"), false),
            ),
            (b"VRFY\tx\r", LineKind::Command, held(Some("VRFY\tx"), true)),
            (b"a\tb\r", LineKind::Data, held(Some("a\tb"), false)),
            (b"\x1b[ANOOP\r", LineKind::Command, held(Some("NOOP"), true)),
            (
                b"NOOP x\x1bbY\r",
                LineKind::Command,
                held(Some("NOOP xY"), true),
            ),
            (b"NO\x12OP\r", LineKind::Command, held(Some("NOOP"), true)),
            (b"NO\x00OP\r", LineKind::Command, held(Some("NOOP"), false)),
            (
                b"\x1b[200~a\x02b\x1b[201~\r",
                LineKind::Command,
                held(None, false),
            ),
            (
                b"\x1b[200~ab\x1b[201~\x02X\r",
                LineKind::Command,
                held(Some("aXb"), false),
            ),
        ];
        for (keys, kind, want) in cases {
            assert_eq!(
                lines_of_keys(keys, *kind, false).0,
                vec![held(want.text.as_deref(), want.unreplayed)],
                "{keys:?}"
            );
        }
    }

    /// A Ctrl-C typed ahead behind an arrow key is still a Ctrl-C (it used to be hidden by
    /// any ESC before it, for fear of a paste); inside a paste it is text, and so is it
    /// behind an unfinished paste.
    #[test]
    fn a_ctrl_c_typed_ahead_behind_an_escape_sequence_is_seen() {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel::<Answer>();
        let mut ed = Editor::new(tx, Default::default(), Default::default());
        ed.pending.extend(b"VRFY ab\x1b[DX\r\x03");
        assert_eq!(ed.busy_key(), Some((12, 12)));
        ed.pending.clear();
        ed.pending.extend(b"\x1b[200~a\x03b");
        assert_eq!(ed.busy_key(), None);
        ed.pending.extend(b"\x1b[201~\x03");
        assert_eq!(ed.busy_key(), Some((15, 15)));
        // A sequence cut mid-parameters, or an Escape or SS3 start, right before it: seen,
        // and the cut part goes with it (it used to take the Ctrl-C, and the next key, in).
        for (keys, want) in [
            (&b"NOOP\r\x1b[1;\x03"[..], (5, 9)),
            (b"NOOP\r\x1b[\x03", (5, 7)),
            (b"NOOP\r\x1b\x03", (5, 6)),
            (b"NOOP\r\x1bO\x03", (5, 7)),
            (b"NOOP\r\x1b[1;5D\x03", (11, 11)),
        ] {
            ed.pending.clear();
            ed.pending.extend(keys);
            assert_eq!(ed.busy_key(), Some(want), "{keys:?}");
        }
    }

    /// A Ctrl-C typed ahead behind a cut escape sequence stops the wait; the cut part is
    /// dropped with it and said, the whole line before it held, and the key typed next is
    /// its own (it used to end the cut sequence).
    #[test]
    fn a_ctrl_c_cutting_an_escape_sequence_typed_ahead_stops_the_wait() {
        let (mut ed, _sink, mut rx) = editor();
        ed.feed(b"HELP x\r");
        assert_eq!(lines(&mut rx), vec!["HELP x".to_string()]);
        ed.feed(b"NOOP\r\x1b[1;");
        ed.feed(b"\x03");
        assert_eq!(ed.pending, b"NOOP\r");
        let note = ed.hold_typeahead(HeldAs::Commands).unwrap();
        assert!(
            note.starts_with("1 line typed ahead not sent (Ctrl-C): kept"),
            "{note}"
        );
        assert!(
            note.ends_with("an escape sequence without its end): dropped"),
            "{note}"
        );
        ed.request("ehlo[plain]> ", LineKind::Command);
        ed.feed(b"X\r");
        assert_eq!(lines(&mut rx), vec!["X".to_string()]);
    }

    /// A Ctrl-Z typed ahead in a wait that cuts an escape sequence drops the cut part with it
    /// and says so, as the Ctrl-C does; the line typed before it stays typed ahead and the
    /// next key is its own. It used to be dropped unsaid.
    #[test]
    fn a_ctrl_z_cutting_an_escape_sequence_typed_ahead_says_what_it_dropped() {
        let (mut ed, _sink, mut rx) = editor();
        ed.stop = || {};
        ed.feed(b"HELP x\r");
        assert_eq!(lines(&mut rx), vec!["HELP x".to_string()]);
        ed.feed(b"NOOP\r\x1b[1;");
        ed.feed(b"\x1a");
        assert_eq!(ed.pending, b"NOOP\r");
        let notes = std::mem::take(&mut *ed.notes.lock().unwrap());
        assert_eq!(notes, vec![InputNote::Warning(CUT_BY_CTRL_Z.to_string())]);
        assert!(CUT_BY_CTRL_Z.ends_with("an escape sequence without its end): dropped"));
        // A Ctrl-Z that cut nothing says nothing.
        ed.feed(b"\x1a");
        assert!(ed.notes.lock().unwrap().is_empty());
        ed.request("ehlo[plain]> ", LineKind::Command);
        assert_eq!(lines(&mut rx), vec!["NOOP".to_string()]);
        ed.request("ehlo[plain]> ", LineKind::Command);
        ed.feed(b"X\r");
        assert_eq!(lines(&mut rx), vec!["X".to_string()]);
    }

    /// A paste begun and not ended: after a quiet second it is taken as ended, its text kept
    /// as typed, so the keys after it are keys again (Ctrl-C stops a wait, the line is drawn).
    /// Held lines leave the paste state where they end.
    #[test]
    fn a_paste_left_open_is_taken_as_ended_after_a_quiet_second() {
        let (mut ed, _sink, mut rx) = editor();
        ed.feed(b"HELP x\r");
        assert_eq!(lines(&mut rx), vec!["HELP x".to_string()]);
        ed.feed(b"\x1b[200~NOOP\rRSET");
        for _ in 0..PASTE_STALL_POLLS - 1 {
            ed.idle();
        }
        ed.feed(b"\x03");
        assert!(ed.held == 0, "a Ctrl-C in an open paste is text");
        ed.pending.pop_back();
        for _ in 0..PASTE_STALL_POLLS {
            ed.idle();
        }
        ed.feed(b"\x03");
        assert_eq!(ed.held, "\x1b[200~NOOP\rRSET\x1b[201~".len());
        let note = ed.hold_typeahead(HeldAs::Commands).unwrap();
        assert!(
            note.starts_with("1 line typed ahead not sent (Ctrl-C): kept"),
            "{note}"
        );
        // The paste is open after the held line: RSET is pasted text, then the end marker.
        assert!(ed.in_paste);
        ed.request("ehlo[plain]> ", LineKind::Command);
        assert!(!ed.in_paste);
        assert_eq!(ed.line.iter().collect::<String>(), "RSET");
        ed.feed(b"\x03");
        assert_eq!(lines(&mut rx), vec!["Interrupted".to_string()]);
        // Held lines that close a paste leave it closed.
        ed.in_paste = true;
        ed.pending.extend(b"NOOP\r\x1b[201~VRFY a\r");
        ed.held = ed.pending.len();
        ed.hold_typeahead(HeldAs::Commands).unwrap();
        assert!(!ed.in_paste);
        assert!(ed.pending.is_empty());
    }

    /// Ctrl-C pressed while busy but before the wait it is for has begun (a handshake's
    /// ClientHello just sent) stops that wait when it begins; told only to waits already under
    /// way, it was lost. A press no wait took is dropped when a line is asked for.
    #[test]
    fn a_ctrl_c_pressed_before_the_wait_begins_stops_it() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let i = Interrupt::default();
            i.press();
            let at_once = tokio::time::timeout(Duration::from_secs(5), i.pressed()).await;
            assert!(at_once.is_ok(), "the Ctrl-C was lost");
            // Taken: the next wait waits.
            let next = tokio::time::timeout(Duration::from_millis(100), i.pressed()).await;
            assert!(next.is_err());
            i.press();
            i.clear();
            let cleared = tokio::time::timeout(Duration::from_millis(100), i.pressed()).await;
            assert!(cleared.is_err());
        });
    }

    /// A Latin-1 terminal sends `é` as the byte 0xE9: a character there, at once (no UTF-8
    /// sequence to wait for), `€` on a Latin-9 one; a C1 control byte is no character; UTF-8
    /// `é` typed there is two characters, as the terminal shows it.
    #[test]
    fn keys_from_a_latin_terminal_are_its_characters() {
        use crate::render::glyphs::Latin;
        let one = Some(Latin::One);
        assert_eq!(next_key_in(b"\xe9", one), Some((Key::Char('é'), 1)));
        assert_eq!(next_key_in(b"\xe9x", one), Some((Key::Char('é'), 1)));
        assert_eq!(
            next_key_in(b"\xa4", Some(Latin::Nine)),
            Some((Key::Char('€'), 1))
        );
        assert_eq!(next_key_in(b"\x85", one), Some((Key::Invalid, 1)));
        assert_eq!(next_key_in("é".as_bytes(), one), Some((Key::Char('Ã'), 1)));
        assert_eq!(next_key_in(b"a", one), Some((Key::Char('a'), 1)));
        assert_eq!(next_key_in(b"\xe9", None), None);
    }

    /// A dumb terminal's row is changed with characters and backspaces only: what is added
    /// is written, what is taken away rubbed out (two columns for a wide character), and a
    /// row that wrapped (a backspace does not go up) is written again on a new row.
    #[test]
    fn a_dumb_terminal_row_changes_without_control_sequences() {
        assert_eq!(dumb_change("> NO", "> NOOP", 80), "OP");
        assert_eq!(dumb_change("> NOX", "> NO", 80), "\x08 \x08");
        assert_eq!(dumb_change("> AB", "> A*", 80), "\x08 \x08*");
        assert_eq!(dumb_change("> 日", "> ", 80), "\x08\x08  \x08\x08");
        assert_eq!(dumb_change("> 0123456789", "> 0", 10), "\r\n> 0");
        assert_eq!(dumb_change("", "ehlo> ", 10), "ehlo> ");
    }

    #[test]
    fn common_prefix_is_case_insensitive() {
        assert_eq!(
            common_prefix(&["BODY=8BITMIME".into(), "BODY=7BIT".into()]),
            "BODY="
        );
        assert_eq!(common_prefix(&["abc".into()]), "abc");
    }

    /// Only a regular history file is read or written: a FIFO in its place hung the REPL
    /// before its first prompt (its `open(2)` waits for a writer; at the end, for a reader),
    /// and `/dev/zero` was read without end. A file grown past what is read is read from its
    /// end, its last entries kept, no part of a line taken for one.
    #[test]
    fn a_history_that_is_no_regular_file_is_left_alone_and_a_long_one_read_from_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("history");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let (tx, done) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let (mut ed, _sink, mut rx) = editor();
            ed.load_history(&path);
            ed.feed(b"NOOP\r");
            let _ = lines(&mut rx);
            ed.save_history(&path).unwrap();
            ed.load_history(std::path::Path::new("/dev/zero"));
            let _ = tx.send(ed.history.len());
        });
        let held = done
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the history's FIFO or /dev/zero held the REPL");
        assert_eq!(held, 0);
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        let long = dir.path().join("long");
        let n = (HISTORY_READ_MAX / 14 + 5000) as usize;
        let text: String = (0..n).map(|i| format!("NOOP {i:08}\n")).collect();
        std::fs::write(&long, format!("x{text}")).unwrap();
        let got = read_history_lines(&long);
        assert_eq!(got.len(), HISTORY_MAX);
        assert_eq!(
            got[HISTORY_MAX - 1],
            format!("NOOP {:08}", n - 1).as_bytes()
        );
        assert_eq!(got[0], format!("NOOP {:08}", n - HISTORY_MAX).as_bytes());
    }

    /// The history is written to a new file and renamed over the old: through a symbolic link
    /// (a history kept with other dotfiles), the file it names is replaced and the link stays
    /// (a link to a file not made yet makes it); the file is 0600 even where it was 0644, and
    /// nothing is left beside it. A save that cannot write leaves the file as it was.
    #[test]
    fn a_history_saved_through_a_link_keeps_the_link_and_a_failed_save_the_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/ehlo-history");
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::fs::write(&real, "VRFY old\n").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.path().join("history");
        std::os::unix::fs::symlink("dotfiles/ehlo-history", &link).unwrap();
        let (mut ed, _sink, mut rx) = editor();
        ed.load_history(&link);
        ed.feed(b"NOOP\r");
        assert_eq!(lines(&mut rx), ["NOOP"]);
        ed.save_history(&link).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "VRFY old\nNOOP\n");
        let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let beside = |d: &std::path::Path| std::fs::read_dir(d).unwrap().count();
        assert_eq!(beside(real.parent().unwrap()), 1);
        let dangling = dir.path().join("new-history");
        std::os::unix::fs::symlink("dotfiles/made-now", &dangling).unwrap();
        ed.save_history(&dangling).unwrap();
        assert!(std::fs::symlink_metadata(&dangling).unwrap().is_symlink());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("dotfiles/made-now")).unwrap(),
            "NOOP\n"
        );
        // A directory where the new file would go is a file: no save, the reason returned.
        let blocked = dir.path().join("file-not-dir/history");
        std::fs::write(dir.path().join("file-not-dir"), "x").unwrap();
        assert!(ed.save_history(&blocked).is_err());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("file-not-dir")).unwrap(),
            "x"
        );
    }

    #[test]
    fn a_history_line_that_is_not_utf8_loses_no_entry() {
        // One Latin-1 line (`caf\xe9`) among UTF-8 ones: the file used to read as empty, so
        // nothing was recalled and the save replaced every entry with the session's own.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history");
        std::fs::write(&path, b"EHLO old\nNOOP caf\xe9\nMAIL FROM:<\xc3\xa9@x>\n").unwrap();
        let (mut ed, _sink, mut rx) = editor();
        ed.load_history(&path);
        // Recalled: the UTF-8 entries only (the other could not be sent as stored).
        assert_eq!(ed.history, ["EHLO old", "MAIL FROM:<é@x>"]);
        ed.feed(b"NOOP new\r");
        assert_eq!(lines(&mut rx), ["NOOP new"]);
        ed.save_history(&path).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"EHLO old\nNOOP caf\xe9\nMAIL FROM:<\xc3\xa9@x>\nNOOP new\n"
        );
    }

    #[test]
    fn a_lone_byte_that_starts_no_utf8_character_shows_when_typing_pauses() {
        // A Latin-1 terminal's `é` typed last: it used to wait, undrawn, for a next key.
        let (mut ed, sink, mut rx) = editor();
        ed.feed(b"NOOP caf\xe9");
        assert_eq!(ed.line.iter().collect::<String>(), "NOOP caf");
        ed.idle();
        assert_eq!(ed.line.iter().collect::<String>(), "NOOP caf\u{fffd}");
        assert!(String::from_utf8_lossy(&sink.bytes()).contains("NOOP caf\u{fffd}"));
        ed.feed(b"\r");
        assert_eq!(lines(&mut rx), ["Refused"]);
        // A UTF-8 character whose bytes come in two reads is still one character.
        ed.request("ehlo[plain]> ", LineKind::Command);
        ed.feed(b"NOOP caf\xc3");
        ed.feed(b"\xa9\r");
        assert_eq!(lines(&mut rx), ["NOOP café"]);
    }

    #[test]
    fn a_relative_xdg_data_home_is_ignored() {
        fn env(pairs: Vec<(&'static str, &'static str)>) -> impl Fn(&str) -> Option<OsString> {
            move |k| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| OsString::from(v))
            }
        }
        use std::ffi::OsString;
        let path = |p: &str| Some(PathBuf::from(p));
        assert_eq!(
            history_path_in(&env(vec![
                ("XDG_DATA_HOME", "/x/data"),
                ("HOME", "/home/u")
            ])),
            path("/x/data/ehlo/history")
        );
        // Relative (or empty): the default under HOME, not a directory of the working one.
        for rel in ["data", "./data", ""] {
            assert_eq!(
                history_path_in(&env(vec![("XDG_DATA_HOME", rel), ("HOME", "/home/u")])),
                path("/home/u/.local/share/ehlo/history"),
                "{rel:?}"
            );
        }
        assert_eq!(history_path_in(&env(vec![])), None);
    }

    #[test]
    fn history_path_uses_xdg() {
        // Only checks the shape; the environment is shared with other tests, so don't set it.
        if let Some(p) = history_path() {
            assert!(p.ends_with("ehlo/history"));
        }
    }

    use crate::render::test_sink::Shared as Sink;

    /// An editor asked for a command line, writing to a sink; the answers it gives.
    fn editor() -> (Editor, Sink, tokio::sync::mpsc::UnboundedReceiver<Answer>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut ed = Editor::new(tx, Arc::default(), Arc::default());
        let sink = Sink::default();
        ed.out = Box::new(sink.clone());
        ed.request("ehlo[plain]> ", LineKind::Command);
        (ed, sink, rx)
    }

    fn lines(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Answer>) -> Vec<String> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|(i, _, _)| match i {
                Input::Line(l) => l,
                other => format!("{other:?}"),
            })
            .collect()
    }

    /// Feed `bytes` as the reader thread does: one read of at most 4096 bytes at a time.
    fn feed_reads(ed: &mut Editor, bytes: &[u8]) {
        for chunk in bytes.chunks(4096) {
            ed.feed(chunk);
        }
    }

    /// A long line, pasted or typed in reads of 4 KiB, is drawn once per read (a paste once,
    /// at its end): what goes to the terminal grows with the line, not with its square.
    #[test]
    fn a_long_line_costs_output_in_proportion_to_its_length() {
        let n = 20_000;
        let line = format!("NOOP {}", "x".repeat(n));
        for pasted in [true, false] {
            let (mut ed, sink, mut rx) = editor();
            let before = sink.len();
            let input = if pasted {
                format!("\x1b[200~{line}\x1b[201~\r")
            } else {
                format!("{line}\r")
            };
            feed_reads(&mut ed, input.as_bytes());
            assert_eq!(lines(&mut rx), vec![line.clone()]);
            let written = sink.len() - before;
            // The finished line once, plus a drawing per read when not pasted (five reads).
            let bound = if pasted { 2 * n } else { 8 * n };
            assert!(
                written < bound,
                "pasted {pasted}: {written} bytes written for a {n}-character line"
            );
        }
    }

    /// What a signal's leaving reports of the keys not read yet: lines only (never their
    /// length: one may be a SASL response), paste markers and line ends (CRLF, a bare CR or
    /// LF, empty lines) not counted.
    #[test]
    fn keys_typed_ahead_are_counted_by_line() {
        let count = |b: &[u8]| typed_ahead(&b.iter().copied().collect());
        assert_eq!(count(b""), 0);
        assert_eq!(count(b"MAIL FROM:<a@b>\rRSET\rhalf"), 3);
        assert_eq!(count(b"\x1b[200~a\r\nbc\r\r\n\x1b[201~\r"), 2);
    }

    /// A line past LINE_MAX is refused whole, not sent cut at the limit (it went out as the
    /// first LINE_MAX characters, a line nobody typed), and the terminal is told so, once.
    #[test]
    fn a_line_past_the_limit_is_refused_whole_aloud() {
        let (mut ed, sink, mut rx) = editor();
        let input = format!("\x1b[200~{}\x1b[201~\r", "y".repeat(LINE_MAX + 123));
        feed_reads(&mut ed, input.as_bytes());
        assert_eq!(lines(&mut rx), vec!["Refused".to_string()]);
        let out = sink.text();
        let notice = format!(
            "line of {} characters, longer than {LINE_MAX}: not sent, nor kept",
            LINE_MAX + 123
        );
        assert_eq!(out.matches(&notice).count(), 1, "{out:?}");
        assert!(ed.history.iter().all(|h| !h.starts_with("yyy")));
        // The next line starts from nothing: no notice for it.
        ed.request("ehlo[plain]> ", LineKind::Command);
        feed_reads(&mut ed, b"NOOP\r");
        assert_eq!(lines(&mut rx), vec!["NOOP".to_string()]);
        let out = sink.text();
        assert_eq!(out.matches("longer than").count(), 1, "{out:?}");
    }

    /// The paste's end marker split after its ESC (a slow link), with the reader's idle poll in
    /// between: the ESC waits for the rest, the paste ends, the next line is typed as it is.
    #[test]
    fn a_paste_end_marker_split_after_its_esc_still_ends_the_paste() {
        let (mut ed, _sink, mut rx) = editor();
        ed.feed(b"\x1b[200~NOOP a\r\x1b");
        assert_eq!(lines(&mut rx), vec!["NOOP a".to_string()]);
        ed.idle();
        ed.request("ehlo[plain]> ", LineKind::Command);
        ed.idle();
        ed.feed(b"[201~:quit\r");
        assert_eq!(lines(&mut rx), vec![":quit".to_string()]);
        assert!(!ed.in_paste);
        // An ESC pasted just before the end marker does not swallow the marker's ESC; the
        // pasted ESC is a control byte in the line, which is refused whole.
        ed.request("ehlo[plain]> ", LineKind::Command);
        ed.feed(b"\x1b[200~b\x1b");
        ed.idle();
        ed.feed(b"\x1b[201~NOOP\r");
        assert_eq!(lines(&mut rx), vec!["Refused".to_string()]);
        assert!(!ed.in_paste);
        // Outside a paste a lone ESC is still the Escape key, dropped when nothing follows.
        ed.request("ehlo[plain]> ", LineKind::Command);
        ed.feed(b"\x1b");
        ed.idle();
        ed.feed(b"[AB\r");
        assert_eq!(lines(&mut rx), vec!["[AB".to_string()]);
    }

    /// A paste whose last line was taken leaves only its end marker; the REPL is then busy
    /// (no line asked for) waiting for the pasted commands' replies. A Ctrl-C then stops that
    /// wait: the marker ends the paste, the Ctrl-C is taken as the interrupt, not left to
    /// cancel the next prompt's line (it used to wait behind the marker).
    #[test]
    fn ctrl_c_after_a_pasted_group_stops_the_wait() {
        let (mut ed, _sink, mut rx) = editor();
        ed.feed(b"\x1b[200~MAIL FROM:<a@b>\nNOOP\n\x1b[201~");
        assert_eq!(lines(&mut rx), vec!["MAIL FROM:<a@b>".to_string()]);
        ed.request("ehlo[plain]> ", LineKind::Command);
        assert_eq!(lines(&mut rx), vec!["NOOP".to_string()]);
        // Busy: nothing asked for.
        ed.feed(b"\x03");
        assert!(!ed.in_paste);
        assert!(ed.pending.is_empty(), "{:?}", ed.pending);
        ed.request("ehlo[plain]> ", LineKind::Command);
        ed.feed(b"RSET\r");
        assert_eq!(lines(&mut rx), vec!["RSET".to_string()]);
    }

    /// Responses typed ahead while the REPL waited for a SASL reply, after the exchange ended
    /// with a refusal: read as secrets at the command prompt (never echoed, never in the
    /// history, answered as secret), and only they: what is typed after is a command again.
    #[test]
    fn keys_typed_during_a_refused_exchange_are_read_as_secrets() {
        let (mut ed, sink, mut rx) = editor();
        ed.feed(b"AUTH LOGIN\r");
        assert_eq!(lines(&mut rx), vec!["AUTH LOGIN".to_string()]);
        // Busy (no request): the responses wait in the queue.
        ed.feed(b"dXNlcg==\rU2VrcjN0UFc5OQ==\r");
        ed.typeahead_secret = ed.pending.len();
        let before = sink.len();
        let mut answers = Vec::new();
        for _ in 0..2 {
            ed.request("ehlo[plain]> ", LineKind::Command);
            answers.extend(std::iter::from_fn(|| rx.try_recv().ok()));
        }
        let got: Vec<(String, bool)> = answers
            .into_iter()
            .map(|(i, _, secret)| match i {
                Input::Line(l) => (l, secret),
                other => (format!("{other:?}"), secret),
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("dXNlcg==".to_string(), true),
                ("U2VrcjN0UFc5OQ==".to_string(), true)
            ]
        );
        let shown = String::from_utf8_lossy(&sink.bytes()[before..]).into_owned();
        assert!(
            !shown.contains("dXNlcg") && !shown.contains("U2Vr"),
            "{shown:?}"
        );
        assert!(
            !ed.history
                .iter()
                .any(|h| h.contains("U2Vr") || h.contains("dXNl"))
        );
        // Typed afterwards: a command, shown and remembered.
        ed.request("ehlo[plain]> ", LineKind::Command);
        ed.feed(b"NOOP\r");
        let (i, _, secret) = rx.try_recv().unwrap();
        assert!(matches!(i, Input::Line(l) if l == "NOOP") && !secret);
        assert_eq!(ed.history.last().map(String::as_str), Some("NOOP"));
    }
}
